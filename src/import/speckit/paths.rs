//! File paths in a task's words, and the globs they become.
//!
//! spec-kit asks every task to name its exact file paths ("Create User model
//! in src/models/user.py"), and those paths are what a task writes: they
//! become the part's `owns`. Prose is ambiguous ("and/or", "CI/CD",
//! "Node.js"), so a word counts as a path only when its shape says so: a
//! file name with a known extension, a name with a slash that looks like a
//! directory tree, or anything written as code (`` `like/this` ``). What
//! looks like a path but cannot be one (absolute, `..`) is reported, not
//! guessed at.

use crate::glob::Glob;

/// What the words of one task name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Found {
    /// Globs for `owns`, in order of first mention, without repeats.
    pub globs: Vec<String>,
    /// Words that look like paths but cannot be owned, with the reason.
    pub problems: Vec<String>,
}

/// Directories so common at a repository's root that `src/models` is a path
/// even without an extension or a trailing slash.
const COMMON_DIRS: &[&str] = &[
    "src",
    "lib",
    "app",
    "apps",
    "api",
    "backend",
    "frontend",
    "server",
    "client",
    "web",
    "cmd",
    "pkg",
    "internal",
    "tests",
    "test",
    "spec",
    "specs",
    "docs",
    "doc",
    "scripts",
    "config",
    "configs",
    "crates",
    "packages",
    "components",
    "pages",
    "public",
    "static",
    "assets",
    "migrations",
    "services",
    "models",
    "routes",
    "handlers",
    "mobile",
    "ios",
    "android",
    "infra",
    "deploy",
    "tools",
    "examples",
    "benches",
    "contracts",
    "data",
    "bin",
    "include",
    "core",
    "ui",
    "db",
    "schemas",
    "templates",
];

/// Extensions of source, config and documentation files.
const EXTENSIONS: &[&str] = &[
    "py",
    "pyi",
    "rs",
    "ts",
    "tsx",
    "js",
    "jsx",
    "mjs",
    "cjs",
    "json",
    "jsonc",
    "md",
    "mdx",
    "toml",
    "yaml",
    "yml",
    "go",
    "mod",
    "sum",
    "java",
    "kt",
    "kts",
    "swift",
    "rb",
    "css",
    "scss",
    "sass",
    "less",
    "html",
    "htm",
    "sql",
    "sh",
    "bash",
    "zsh",
    "ps1",
    "txt",
    "cfg",
    "ini",
    "conf",
    "lock",
    "vue",
    "svelte",
    "astro",
    "c",
    "h",
    "cc",
    "cpp",
    "hpp",
    "cs",
    "fs",
    "php",
    "env",
    "xml",
    "gradle",
    "proto",
    "graphql",
    "gql",
    "ex",
    "exs",
    "erl",
    "dart",
    "scala",
    "lua",
    "r",
    "jl",
    "zig",
    "nim",
    "hs",
    "ml",
    "mli",
    "clj",
    "cljs",
    "tf",
    "tfvars",
    "hcl",
    "ipynb",
    "csv",
    "rst",
    "adoc",
    "score",
    "pest",
    "wasm",
    "svg",
    "png",
    "jpg",
    "ico",
    "example",
    "sample",
    "template",
    "tpl",
    "j2",
    "jinja",
    "prisma",
    "dockerfile",
    "gitignore",
    "editorconfig",
];

/// Files commonly written without an extension.
const BARE_FILES: &[&str] = &[
    "Dockerfile",
    "Makefile",
    "Justfile",
    "Procfile",
    "Gemfile",
    "Rakefile",
    "LICENSE",
    "README",
    "CODEOWNERS",
    "Containerfile",
    "Vagrantfile",
    "Brewfile",
    "Pipfile",
];

/// The paths named in `text` (one task's words).
pub(crate) fn find(text: &str) -> Found {
    let mut found = Found::default();
    for (word, as_code) in words(text) {
        match classify(&word, as_code) {
            Verdict::Path(glob) => {
                if !found.globs.contains(&glob) {
                    found.globs.push(glob);
                }
            }
            Verdict::Problem(problem) => {
                if !found.problems.contains(&problem) {
                    found.problems.push(problem);
                }
            }
            Verdict::Prose => {}
        }
    }
    found
}

/// The words of `text`, each with whether it was written as code. A code
/// span holding several words contributes each of them as prose (it is
/// likely a command: `npm install x`).
fn words(text: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let Some(open) = rest.find('`') else {
            prose_words(rest, &mut out);
            break;
        };
        prose_words(&rest[..open], &mut out);
        let after = &rest[open..];
        let ticks = after.len() - after.trim_start_matches('`').len();
        let inner_start = open + ticks;
        let closing = "`".repeat(ticks);
        match rest[inner_start..].find(&closing) {
            Some(close) => {
                let inner = rest[inner_start..inner_start + close].trim();
                if inner.split_whitespace().count() == 1 {
                    out.push((inner.to_string(), true));
                } else {
                    prose_words(inner, &mut out);
                }
                rest = &rest[inner_start + close + ticks..];
            }
            None => {
                prose_words(&rest[inner_start..], &mut out);
                break;
            }
        }
    }
    out
}

fn prose_words(text: &str, out: &mut Vec<(String, bool)>) {
    for word in text.split(|c: char| c.is_whitespace() || "，。、；：（）「」『』【】".contains(c))
    {
        if !word.is_empty() {
            out.push((word.to_string(), false));
        }
    }
}

enum Verdict {
    Path(String),
    Problem(String),
    Prose,
}

fn classify(word: &str, as_code: bool) -> Verdict {
    let Some(word) = clean(word) else {
        return Verdict::Prose;
    };
    if word.contains("://")
        || word.starts_with(['-', '@', '$', '#', '=', '+'])
        || word.contains([
            '=', '|', '<', '>', '$', '%', '&', '^', '"', '\'', '(', ')', ';',
        ])
        || word.chars().any(|c| c.is_whitespace() || invisible(c))
    {
        return Verdict::Prose;
    }
    let word = word.replace('\\', "/");
    let has_slash = word.contains('/');
    let last = word.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let extension = extension_of(last);
    let known_extension = extension.is_some_and(|e| EXTENSIONS.contains(&e));
    let is_path = if has_slash {
        let segments: Vec<&str> = word.trim_matches('/').split('/').collect();
        let first = segments[0].trim_start_matches("./");
        let shouty = segments
            .iter()
            .all(|s| s.len() <= 5 && s.chars().all(|c| c.is_ascii_uppercase()));
        !shouty
            && !segments.iter().all(|s| s.is_empty())
            && (as_code
                || extension.is_some()
                || word.ends_with('/')
                || segments.len() >= 3
                || first.starts_with('.')
                || COMMON_DIRS.contains(&first.to_ascii_lowercase().as_str())
                || BARE_FILES.contains(&last))
    } else if BARE_FILES.contains(&word.as_str()) {
        true
    } else if let Some(ext) = extension {
        // "Node.js", "Vue.js": technologies, not files, unless written as code.
        let stem = &last[..last.len() - ext.len() - 1];
        let technology = ext == "js" && stem.starts_with(|c: char| c.is_ascii_uppercase());
        as_code || (known_extension && !technology)
    } else {
        false
    };
    if !is_path {
        return Verdict::Prose;
    }
    // `/albums`, `/api/users/{id}`: routes of an HTTP API, not files.
    if word.starts_with('/') && extension.is_none() && !word.ends_with('/') {
        return Verdict::Prose;
    }
    if word.starts_with('/') || word.starts_with('~') || word.as_bytes().get(1) == Some(&b':') {
        return Verdict::Problem(format!(
            "`{word}` is an absolute path; write it relative to the repository to own it"
        ));
    }
    let relative = word.trim_start_matches("./");
    if relative.split('/').any(|s| s == "..") {
        return Verdict::Problem(format!(
            "`{word}` leaves the repository (`..`); it is not owned"
        ));
    }
    let glob = to_glob(relative, has_slash && is_directory(relative, extension));
    match Glob::parse(&glob) {
        Ok(_) => Verdict::Path(glob),
        Err(error) => Verdict::Problem(format!("`{word}` is not a usable path: {error}")),
    }
}

/// Characters no real path holds and a string literal must escape:
/// controls and the invisible ones that make text read differently from
/// what it is (bidirectional overrides, separators, the byte-order mark).
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// The word without what surrounds paths in prose: brackets, quotes,
/// emphasis, closing punctuation, a line number (`a.py:42`), a test
/// selector (`a.py::test_x`), a Markdown link's text, letters of another
/// script glued to it.
fn clean(word: &str) -> Option<String> {
    let mut word = word;
    if let Some(at) = word.find("](") {
        word = &word[at + 2..];
    }
    let word = word.trim_matches(|c: char| !c.is_ascii() || c.is_ascii_control());
    let word = word.trim_start_matches(['(', '"', '\'', '*', '<', '“', '‘']);
    let mut word = word.trim_end_matches([
        ')', '"', '\'', '*', '>', ',', ';', ':', '.', '!', '?', '”', '’',
    ]);
    if let Some(at) = word.find("::") {
        word = &word[..at];
    }
    if let Some(at) = word.find("#L") {
        word = &word[..at];
    }
    if let Some((head, tail)) = word.rsplit_once(':')
        && !tail.is_empty()
        && tail.bytes().all(|b| b.is_ascii_digit() || b == b'-')
    {
        word = head;
    }
    let word = word.trim_end_matches([',', ';', ':', '.']);
    (!word.is_empty()).then(|| word.to_string())
}

/// The extension of a file name (`user.py` → `py`, `.env` → `env`): one to
/// ten ASCII letters or digits, at least one a letter, lower case.
fn extension_of(name: &str) -> Option<&str> {
    let (stem, ext) = name.rsplit_once('.')?;
    let ok = !ext.is_empty()
        && ext.len() <= 10
        && ext
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && ext.bytes().any(|b| b.is_ascii_lowercase())
        && (!stem.is_empty() || name.starts_with('.'));
    ok.then_some(ext)
}

/// A directory: written with a trailing slash, or a last segment that is
/// neither a file name with an extension nor a known extensionless file.
fn is_directory(path: &str, extension: Option<&str>) -> bool {
    if path.ends_with('/') {
        return true;
    }
    let last = path.rsplit('/').next().unwrap_or("");
    extension.is_none() && !BARE_FILES.contains(&last) && !last.contains('*')
}

/// A path as a glob that matches exactly it (or everything below it, for a
/// directory). Glob syntax in a written path is a placeholder
/// (`src/models/[entity].py`), so it is made literal, except `*`: a path
/// written with stars is already a glob.
fn to_glob(path: &str, directory: bool) -> String {
    let mut glob = String::with_capacity(path.len() + 4);
    for c in path.trim_end_matches('/').chars() {
        match c {
            '?' => glob.push_str("[?]"),
            '[' => glob.push_str("[[]"),
            '{' => glob.push_str("[{]"),
            '}' => glob.push_str("[}]"),
            c => glob.push(c),
        }
    }
    if directory {
        glob.push_str("/**");
    }
    glob
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globs(text: &str) -> Vec<String> {
        find(text).globs
    }

    #[test]
    fn files_with_extensions_and_directories_are_paths() {
        assert_eq!(
            globs("Create User model in src/models/user.py and tests/unit/ (see README.md)."),
            ["src/models/user.py", "tests/unit/**", "README.md"]
        );
        assert_eq!(
            globs("Update `backend/api` and package.json"),
            ["backend/api/**", "package.json"]
        );
        assert_eq!(globs("Write docker/Dockerfile"), ["docker/Dockerfile"]);
        assert_eq!(globs("Lint with .eslintrc.json"), [".eslintrc.json"]);
    }

    #[test]
    fn prose_with_slashes_and_dots_is_not_a_path() {
        assert!(
            globs("Set up CI/CD and/or TCP/IP with Node.js, e.g. v1.2, at https://x.io/a.py")
                .is_empty()
        );
        assert!(globs("Install @types/node with `npm install -D x`").is_empty());
        assert!(globs("Run --config=a.json").is_empty());
        assert!(globs("src/a\u{202e}b.py and src/\u{7}.py").is_empty());
    }

    #[test]
    fn placeholders_become_literal_and_stars_stay_globs() {
        assert_eq!(
            globs("src/models/[entity1].py"),
            ["src/models/[[]entity1].py"]
        );
        assert_eq!(globs("all of tests/**/*.py"), ["tests/**/*.py"]);
    }

    #[test]
    fn wrappers_line_numbers_and_other_scripts_are_trimmed() {
        assert_eq!(
            globs(
                "在src/models/user.py中创建 (**lib/a.rs:42**), [x](docs/guide.md), tests/a.py::test_b"
            ),
            [
                "src/models/user.py",
                "lib/a.rs",
                "docs/guide.md",
                "tests/a.py"
            ]
        );
        assert_eq!(globs("src\\win\\path.cs"), ["src/win/path.cs"]);
    }

    #[test]
    fn absolute_and_escaping_paths_are_problems() {
        let found = find("Edit /etc/hosts.conf and ../other/x.py and ./ok.py");
        assert_eq!(found.globs, ["ok.py"]);
        assert_eq!(found.problems.len(), 2);
        assert!(
            found.problems[0].contains("absolute"),
            "{:?}",
            found.problems
        );
        assert!(found.problems[1].contains(".."), "{:?}", found.problems);
    }
}
