//! Repository URLs without the credentials they may carry.
//!
//! `https://user:token@host/org/repo.git` works with git, so people pass
//! such URLs to `--repo`. But an exported Workflow is a file that is
//! committed, shared and shown by Argo's UI to everyone with access to the
//! namespace: a token written into it is a leaked token. So the export
//! writes the URL without its user information, and credentials go where
//! they belong, a Kubernetes Secret (`--git-credentials`, a git credential
//! store file). The same function keeps them out of error messages.
//!
//! What is removed: for `http(s)`, `git` and `ftp(s)` URLs, the whole
//! `user[:password]@` (a user name alone is often a token:
//! `https://ghp_...@github.com`); for SSH URLs, only the `:password` (the
//! user, `git@`, is part of the address, and SSH authenticates with keys).
//! scp-like addresses (`git@host:org/repo.git`) and paths carry no password
//! and are left as they are.

/// A URL with its credentials removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stripped {
    pub url: String,
    /// Whether anything was removed.
    pub removed: bool,
}

/// `url` without the credentials in its user information.
pub fn strip_credentials(url: &str) -> Stripped {
    let unchanged = || Stripped {
        url: url.to_string(),
        removed: false,
    };
    let Some(scheme_end) = url.find("://") else {
        return unchanged();
    };
    let scheme = &url[..scheme_end];
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return unchanged();
    };
    let userinfo = &authority[..at];
    let ssh = scheme.to_ascii_lowercase().contains("ssh");
    let (kept, removed) = match userinfo.split_once(':') {
        Some((user, _password)) if ssh => (format!("{user}@"), true),
        None if ssh => (format!("{userinfo}@"), false),
        _ => (String::new(), !userinfo.is_empty()),
    };
    Stripped {
        url: format!(
            "{scheme}://{kept}{}{}",
            &authority[at + 1..],
            &rest[authority_end..]
        ),
        removed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stripped(url: &str) -> (String, bool) {
        let s = strip_credentials(url);
        (s.url, s.removed)
    }

    #[test]
    fn https_urls_lose_their_user_information() {
        assert_eq!(
            stripped("https://user:tok3n@github.com/acme/shop.git"),
            ("https://github.com/acme/shop.git".into(), true)
        );
        // A token as the user name, and `@` in the path or the password.
        assert_eq!(
            stripped("https://ghp_abc@github.com/acme/shop.git"),
            ("https://github.com/acme/shop.git".into(), true)
        );
        assert_eq!(
            stripped("https://x:p@ss@host:8443/a@b/repo.git?x=1#y"),
            ("https://host:8443/a@b/repo.git?x=1#y".into(), true)
        );
        assert_eq!(stripped("HTTP://u:p@host"), ("HTTP://host".into(), true));
    }

    #[test]
    fn ssh_urls_keep_their_user_but_not_a_password() {
        assert_eq!(
            stripped("ssh://git@github.com/acme/shop.git"),
            ("ssh://git@github.com/acme/shop.git".into(), false)
        );
        assert_eq!(
            stripped("ssh://git:secret@host:22/shop.git"),
            ("ssh://git@host:22/shop.git".into(), true)
        );
        assert_eq!(
            stripped("git+ssh://me:pw@host/x"),
            ("git+ssh://me@host/x".into(), true)
        );
    }

    #[test]
    fn addresses_without_credentials_are_left_alone() {
        for url in [
            "https://github.com/acme/shop.git",
            "git@github.com:acme/shop.git",
            "/srv/git/shop.git",
            "file:///srv/git/shop.git",
            "./-weird",
            "",
        ] {
            assert_eq!(stripped(url), (url.to_string(), false), "{url}");
        }
    }
}
