//! Running the `git` CLI as a child process, the same way every time.
//!
//! Every command gets the same hardening, so that what the user's machine
//! has configured cannot change what score does:
//! - `GIT_CONFIG_NOSYSTEM=1` and `-c` overrides for the settings that would
//!   run foreign code or slow runs down: hooks (`core.hooksPath=/dev/null`),
//!   commit signing, automatic `gc`/maintenance, the fsmonitor daemon.
//!   The user's global config is still read: it carries what a checkout
//!   needs (LFS filters, `core.autocrlf`).
//! - The environment a parent git may have left (`GIT_DIR`, `GIT_INDEX_FILE`,
//!   ... when score runs from a hook) is removed: it would redirect every
//!   command to another repository or index.
//! - Commits get an explicit identity, so they work on a machine without
//!   `user.name`/`user.email`.
//! - `LC_ALL=C`, so messages are the ones this module parses.

use super::error::WorkspaceError;
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Variables that point git at another repository, index or object store.
const REDIRECTING_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_LITERAL_PATHSPECS",
    "GIT_GLOB_PATHSPECS",
    "GIT_NOGLOB_PATHSPECS",
    "GIT_ICASE_PATHSPECS",
    "GIT_QUARANTINE_PATH",
];

/// The `-c` overrides every command gets.
const OVERRIDES: &[&str] = &[
    "core.hooksPath=/dev/null",
    "commit.gpgSign=false",
    "tag.gpgSign=false",
    "gc.auto=0",
    "maintenance.auto=false",
    "core.fsmonitor=false",
    "core.quotePath=false",
    "advice.detachedHead=false",
];

/// Who score's commits are by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub name: String,
    pub email: String,
}

impl Default for Identity {
    fn default() -> Identity {
        Identity {
            name: "score".to_string(),
            email: "score@localhost".to_string(),
        }
    }
}

/// A command's captured result.
pub(crate) struct Output {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: String,
}

impl Output {
    pub(crate) fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Standard output as text, without the trailing newline.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).trim_end().to_string()
    }
}

/// How to run git: the identity for commits. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub(crate) struct Git {
    pub(crate) identity: Identity,
}

/// One git invocation being built.
pub(crate) struct Invocation<'a> {
    git: &'a Git,
    dir: &'a Path,
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    env: Vec<(&'static str, String)>,
}

impl Git {
    /// `git ARGS` in `dir`.
    pub(crate) fn at<'a, S: AsRef<OsStr>>(&'a self, dir: &'a Path, args: &[S]) -> Invocation<'a> {
        Invocation {
            git: self,
            dir,
            args: args
                .iter()
                .map(|a| a.as_ref().to_string_lossy().into_owned())
                .collect(),
            stdin: None,
            env: Vec::new(),
        }
    }
}

impl Invocation<'_> {
    /// Feed `bytes` to the command's standard input.
    pub(crate) fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Set an environment variable for this command only.
    pub(crate) fn env(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.env.push((key, value.into()));
        self
    }

    /// Pathspecs are literal paths, never globs (`[` and `*` are ordinary
    /// characters in file names).
    pub(crate) fn literal_pathspecs(self) -> Self {
        self.env("GIT_LITERAL_PATHSPECS", "1")
    }

    /// Run the command, whatever its exit status. Only failing to start git
    /// at all is an error.
    pub(crate) fn output(self) -> Result<Output, WorkspaceError> {
        let mut command = Command::new("git");
        command.current_dir(self.dir);
        for key in REDIRECTING_ENV {
            command.env_remove(key);
        }
        command
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .env("GIT_AUTHOR_NAME", &self.git.identity.name)
            .env("GIT_AUTHOR_EMAIL", &self.git.identity.email)
            .env("GIT_COMMITTER_NAME", &self.git.identity.name)
            .env("GIT_COMMITTER_EMAIL", &self.git.identity.email);
        for (key, value) in &self.env {
            command.env(key, value);
        }
        for setting in OVERRIDES {
            command.arg("-c").arg(setting);
        }
        command.args(&self.args);
        command
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(|error| {
            // A missing working directory fails the same way as a missing
            // program: say which one it is.
            if error.kind() == std::io::ErrorKind::NotFound && !self.dir.is_dir() {
                WorkspaceError::DirectoryMissing {
                    dir: self.dir.to_path_buf(),
                }
            } else if error.kind() == std::io::ErrorKind::NotFound {
                WorkspaceError::GitNotFound
            } else {
                WorkspaceError::Io {
                    action: "run `git`".to_string(),
                    path: self.dir.to_path_buf(),
                    error,
                }
            }
        })?;
        // Write stdin from another thread: a large input and a large output
        // would otherwise fill both pipes and wait on each other forever.
        let writer = match (self.stdin, child.stdin.take()) {
            (Some(bytes), Some(mut pipe)) => Some(std::thread::spawn(move || {
                // A command that exits early closes its stdin; that is its
                // answer, seen in its exit status, not a write error.
                let _ = pipe.write_all(&bytes);
            })),
            _ => None,
        };
        let out = child
            .wait_with_output()
            .map_err(|error| WorkspaceError::Io {
                action: "wait for `git`".to_string(),
                path: self.dir.to_path_buf(),
                error,
            })?;
        if let Some(writer) = writer {
            let _ = writer.join();
        }
        Ok(Output {
            code: out.status.code(),
            stdout: out.stdout,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        })
    }

    /// Run the command; a non-zero exit is a [`WorkspaceError::Git`].
    pub(crate) fn run(self) -> Result<Output, WorkspaceError> {
        let args = self.args.join(" ");
        let dir = self.dir.to_path_buf();
        let out = self.output()?;
        if out.success() {
            Ok(out)
        } else {
            Err(failed(&args, dir, &out))
        }
    }

    /// Run the command and return its standard output as text.
    pub(crate) fn text(self) -> Result<String, WorkspaceError> {
        self.run().map(|out| out.text())
    }
}

/// The error for a git command that failed unexpectedly.
pub(crate) fn failed(args: &str, dir: PathBuf, out: &Output) -> WorkspaceError {
    WorkspaceError::Git {
        command: format!("git {args}"),
        dir,
        code: out.code,
        stderr: out.stderr.clone(),
    }
}

/// Split NUL-terminated output into paths, failing on a name that is not
/// UTF-8 (score's paths and globs are text).
pub(crate) fn nul_fields(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let bytes = bytes.strip_suffix(b"\0").unwrap_or(bytes);
    bytes.split(|&b| b == 0).filter(move |_| !bytes.is_empty())
}

/// A path reported by git, as text.
pub(crate) fn utf8_path(bytes: &[u8]) -> Result<String, WorkspaceError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| WorkspaceError::NonUtf8Path {
        path: String::from_utf8_lossy(bytes).into_owned(),
    })
}

/// NUL-separated pathspecs for `--pathspec-from-file=- --pathspec-file-nul`.
pub(crate) fn pathspec_input<S: AsRef<str>>(paths: &[S]) -> Vec<u8> {
    let mut input = Vec::new();
    for path in paths {
        input.extend_from_slice(path.as_ref().as_bytes());
        input.push(0);
    }
    input
}

/// The installed git's `(major, minor)`, from `git --version`
/// (`git version 2.47.3`, `git version 2.39.2 (Apple Git-143)`).
pub(crate) fn parse_version(text: &str) -> Option<(u32, u32)> {
    let version = text.trim().strip_prefix("git version ")?;
    let mut numbers = version.split(|c: char| !c.is_ascii_digit());
    let major = numbers.next()?.parse().ok()?;
    let minor = numbers.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_version("git version 2.47.3\n"), Some((2, 47)));
        assert_eq!(
            parse_version("git version 2.39.2 (Apple Git-143)"),
            Some((2, 39))
        );
        assert_eq!(parse_version("git version 2.45.1.windows.1"), Some((2, 45)));
        assert_eq!(parse_version("hub version 2"), None);
    }

    #[test]
    fn a_missing_directory_is_not_a_missing_git() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("score-checkout");
        std::fs::create_dir(&gone).unwrap();
        assert!(Git::default().at(&gone, &["--version"]).run().is_ok());
        std::fs::remove_dir(&gone).unwrap();
        let error = Git::default()
            .at(&gone, &["status"])
            .run()
            .err()
            .expect("no directory, no command");
        assert!(
            matches!(&error, WorkspaceError::DirectoryMissing { dir } if *dir == gone),
            "{error:?}"
        );
        let text = error.to_string();
        assert!(text.contains(&gone.display().to_string()), "{text}");
        assert!(text.contains("does not exist"), "{text}");
        assert!(!text.contains("not installed"), "{text}");
    }

    #[test]
    fn nul_separated_fields() {
        let fields: Vec<&[u8]> = nul_fields(b"a\0b c\0").collect();
        assert_eq!(fields, vec![&b"a"[..], &b"b c"[..]]);
        assert_eq!(nul_fields(b"").count(), 0);
        assert!(utf8_path(b"\xff").is_err());
    }
}
