//! `score init`: a starter score for an existing repository.
//!
//! The slowest step before an orchestra plays is writing its score. `init`
//! writes a first one from what the repository already says: its build and
//! test commands (Cargo, npm, Python, Go), the coding-agent CLIs on PATH,
//! and its top-level source directories, one part each. The score checks
//! clean as written (the checker is run on it before it is written), and
//! its comments say what to edit. A pure core ([`starter`]: facts in,
//! formatted text out) with the looking and writing around it ([`detect`],
//! [`init`]).

use std::ffi::OsString;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

/// The file `init` writes in the repository.
pub const FILE_NAME: &str = "score.score";

/// A kind of project, found by its manifest at the repository's root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `Cargo.toml`.
    Cargo,
    /// `package.json`; whether its `scripts` has `build`.
    Npm { build: bool },
    /// `pyproject.toml`.
    Python,
    /// `go.mod`.
    Go,
}

impl Kind {
    /// The manifest that reveals it.
    pub fn manifest(&self) -> &'static str {
        match self {
            Kind::Cargo => "Cargo.toml",
            Kind::Npm { .. } => "package.json",
            Kind::Python => "pyproject.toml",
            Kind::Go => "go.mod",
        }
    }

    /// Its build (if any) and test commands, in the order they run.
    pub fn commands(&self) -> Vec<&'static str> {
        match self {
            Kind::Cargo => vec!["cargo build", "cargo test"],
            Kind::Npm { build: true } => vec!["npm run build", "npm test"],
            Kind::Npm { build: false } => vec!["npm test"],
            Kind::Python => vec!["pytest"],
            Kind::Go => vec!["go build ./...", "go test ./..."],
        }
    }
}

/// The coding-agent CLIs `init` looks for on PATH, in order of preference:
/// (program, agent of `std.agents`).
pub const AGENT_CLIS: &[(&str, &str)] = &[
    ("claude", "claude_code"),
    ("codex", "codex"),
    ("gemini", "gemini_cli"),
    ("aider", "aider"),
    ("opencode", "opencode"),
];

/// Top-level directories that hold no source of the project's own: build
/// output, dependencies, virtual environments, caches.
const NOT_SOURCE: &[&str] = &[
    "target",
    "node_modules",
    "dist",
    "build",
    "out",
    "vendor",
    "venv",
    "env",
    "__pycache__",
    "coverage",
    "tmp",
    "obj",
    "bower_components",
    "site-packages",
];

/// What `init` found in a repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    /// The repository's directory name.
    pub name: String,
    pub kinds: Vec<Kind>,
    /// Agents of `std.agents` whose program is on PATH, most preferred first.
    pub agents: Vec<&'static str>,
    /// Top-level source directories, sorted.
    pub dirs: Vec<String>,
}

/// Look at `dir`: manifests, directories, and the programs on `path` (the
/// value of `PATH`).
pub fn detect(dir: &Path, path: Option<OsString>) -> std::io::Result<Facts> {
    let mut kinds = Vec::new();
    if dir.join("Cargo.toml").is_file() {
        kinds.push(Kind::Cargo);
    }
    if dir.join("package.json").is_file() {
        let build = std::fs::read_to_string(dir.join("package.json"))
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .is_some_and(|json| json["scripts"]["build"].is_string());
        kinds.push(Kind::Npm { build });
    }
    if dir.join("pyproject.toml").is_file() {
        kinds.push(Kind::Python);
    }
    if dir.join("go.mod").is_file() {
        kinds.push(Kind::Go);
    }
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        // Links are not followed: a part owns what is in the repository.
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if name.starts_with('.') || NOT_SOURCE.contains(&name.as_str()) {
            continue;
        }
        dirs.push(name);
    }
    dirs.sort();
    let agents = AGENT_CLIS
        .iter()
        .filter(|(program, _)| on_path(program, path.as_deref()))
        .map(|&(_, agent)| agent)
        .collect();
    let name = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "project".to_string());
    Ok(Facts {
        name,
        kinds,
        agents,
        dirs,
    })
}

/// Whether an executable file `program` is in one of the directories of
/// `path`.
fn on_path(program: &str, path: Option<&std::ffi::OsStr>) -> bool {
    let Some(path) = path else {
        return false;
    };
    std::env::split_paths(path).any(|dir| {
        let candidate = dir.join(program);
        std::fs::metadata(&candidate).is_ok_and(|m| m.is_file() && is_executable(&m))
    })
}

#[cfg(unix)]
fn is_executable(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    true
}

/// The language's reserved words and the starter's own names, which no
/// part may take.
const TAKEN: &[&str] = &[
    "score", "use", "type", "enum", "intent", "check", "contract", "agent", "part", "sequence",
    "by", "true", "false", "goal", "Verified", "shell",
];

/// An identifier for a directory or repository name: `my-app` → `my_app`,
/// `2d` → `dir_2d`, `check` → `check_dir`.
fn identifier(name: &str, prefix: &str) -> String {
    let mut id = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            id.push(c);
        } else if !id.ends_with('_') {
            id.push('_');
        }
    }
    let id = id.trim_matches('_').to_string();
    if id.is_empty() || id.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{prefix}_{id}").trim_end_matches('_').to_string()
    } else if TAKEN.contains(&id.as_str()) {
        format!("{id}_{prefix}")
    } else {
        id
    }
}

/// A directory name as a glob owning everything below it.
fn owns_glob(dir: &str) -> String {
    let mut glob = String::new();
    for c in dir.chars() {
        match c {
            '*' => glob.push_str("[*]"),
            '?' => glob.push_str("[?]"),
            '[' => glob.push_str("[[]"),
            '{' => glob.push_str("[{]"),
            '}' => glob.push_str("[}]"),
            c => glob.push(c),
        }
    }
    glob.push_str("/**");
    glob
}

fn quote(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:X}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The starter score for `facts`, formatted.
pub fn starter(facts: &Facts) -> String {
    let mut out = String::new();
    out.push_str(
        "// A starter score for this repository, written by `score init`.\n\
         // Edit the intent, the parts' briefs and the order, then:\n\
         //   score check score.score            prove it coherent\n\
         //   score run score.score --dry-run    see what each agent would be asked\n\
         // The language reference is docs/language.md in score's repository.\n",
    );
    let agent = facts.agents.first().copied().unwrap_or("mock");
    let commands: Vec<&str> = facts.kinds.iter().flat_map(Kind::commands).collect();
    let _ = writeln!(out, "use std.agents.{{{agent}}}");
    if !commands.is_empty() {
        out.push_str("use std.checks.{shell}\n");
    }
    out.push('\n');

    // Parts, named after their directories without repeats.
    let mut parts: Vec<(String, String)> = Vec::new();
    for dir in &facts.dirs {
        let base = identifier(dir, "dir");
        let mut name = base.clone();
        let mut n = 2;
        while parts.iter().any(|(p, _)| *p == name) || name == agent {
            name = format!("{base}_{n}");
            n += 1;
        }
        parts.push((name, dir.clone()));
    }
    let mut score_name = identifier(&facts.name, "repo");
    while parts.iter().any(|(p, _)| *p == score_name) || score_name == agent {
        score_name.push_str("_score");
    }

    let _ = writeln!(out, "score {score_name} {{");
    let _ = writeln!(out, "  title {}", quote(&facts.name));
    match facts.agents.as_slice() {
        [] => out.push_str(
            "  // No coding-agent CLI (claude, codex, gemini, aider, opencode) was found on\n  \
             // PATH: the built-in mock rehearses the score. Install one and name it here.\n",
        ),
        [_] => {}
        [_, others @ ..] => {
            let _ = writeln!(
                out,
                "  // Also found on PATH: {} (all in std.agents).",
                others.join(", ")
            );
        }
    }
    let _ = writeln!(out, "  default_agent {agent}\n}}\n");

    out.push_str(
        "// What the repository must achieve. Write one intent per goal, each with\n\
         // the criteria that tell whether it is met; parts say which they serve.\n\
         intent goal \"Describe what this repository must achieve\" {\n  \
         priority must\n  \
         accept \"Replace with a criterion a reviewer can check\"\n}\n\n",
    );

    out.push_str("// What every part must pass before its work is accepted.\n");
    if commands.is_empty() {
        out.push_str(
            "// No Cargo.toml, package.json, pyproject.toml or go.mod was found: add the\n\
             // build and test commands as `ensures shell(cmd: \"...\")`.\n",
        );
    } else {
        let manifests: Vec<&str> = facts.kinds.iter().map(Kind::manifest).collect();
        let _ = writeln!(out, "// Detected from {}.", manifests.join(", "));
    }
    out.push_str("contract Verified {\n");
    for command in &commands {
        let _ = writeln!(out, "  ensures shell(cmd: {})", quote(command));
    }
    out.push_str("}\n\n");

    if parts.is_empty() {
        out.push_str(
            "// No source directory yet: this part may write anywhere. Split it into one\n\
             // part per directory as the repository grows.\n\
             part project: Verified {\n  serves goal\n  owns \"**\"\n  \
             brief \"Describe the work to do\"\n}\n",
        );
    } else {
        out.push_str(
            "// One part per top-level source directory, each owning it. Parts with\n\
             // disjoint `owns` may run at the same time; to order them, add a\n\
             // `sequence { a -> b }`.\n",
        );
        for (name, dir) in &parts {
            let _ = writeln!(
                out,
                "part {name}: Verified {{\n  serves goal\n  owns {}\n  brief {}\n}}\n",
                quote(&owns_glob(dir)),
                quote(&format!("Describe the work to do in {dir}/"))
            );
        }
    }
    match crate::fmt::format_source(crate::source::FileId(0), &out) {
        Ok(formatted) => formatted,
        Err(_) => out,
    }
}

/// What `init` wrote.
#[derive(Clone, Debug)]
pub struct Written {
    pub path: PathBuf,
    pub facts: Facts,
}

impl Written {
    /// One paragraph for people: what was found and what to do next.
    pub fn summary(&self) -> String {
        let kinds: Vec<&str> = self.facts.kinds.iter().map(Kind::manifest).collect();
        let agent = self.facts.agents.first().copied().unwrap_or("mock");
        format!(
            "wrote `{}`: {} part{} ({}), checks from {}, agent {agent}\n\
             next: edit the intent and the briefs, then `score check {}`",
            self.path.display(),
            self.facts.dirs.len().max(1),
            if self.facts.dirs.len() == 1 { "" } else { "s" },
            if self.facts.dirs.is_empty() {
                "one for the whole repository".to_string()
            } else {
                self.facts.dirs.join(", ")
            },
            if kinds.is_empty() {
                "nothing (no manifest found)".to_string()
            } else {
                kinds.join(", ")
            },
            self.path.display(),
        )
    }
}

/// Why `init` wrote nothing.
#[derive(Debug)]
pub enum InitError {
    NotADirectory {
        path: PathBuf,
    },
    Exists {
        path: PathBuf,
    },
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The starter does not check clean: a bug in `init`.
    Unclean {
        message: String,
    },
}

impl InitError {
    /// How to fix it.
    pub fn help(&self) -> &'static str {
        match self {
            InitError::NotADirectory { .. } => "pass the repository's directory",
            InitError::Exists { .. } => {
                "edit the existing score, or pass --force to replace it with a new starter"
            }
            InitError::Io { .. } => "check the path and its permissions",
            InitError::Unclean { .. } => "please report this, with the repository's layout",
        }
    }
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::NotADirectory { path } => {
                write!(f, "`{}` is not a directory", path.display())
            }
            InitError::Exists { path } => write!(f, "`{}` already exists", path.display()),
            InitError::Io { path, error } => write!(f, "cannot use `{}`: {error}", path.display()),
            InitError::Unclean { message } => {
                write!(f, "the starter score does not check clean: {message}")
            }
        }
    }
}

impl std::error::Error for InitError {}

/// Write the starter score of `dir` to `dir/score.score`, unless it exists
/// (then only with `force`). `env` reads environment variables (`PATH`).
pub fn init(
    dir: &Path,
    force: bool,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Written, InitError> {
    if !dir.is_dir() {
        return Err(InitError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    let path = dir.join(FILE_NAME);
    // A link is "there" too: never write through it, even with --force.
    let exists = std::fs::symlink_metadata(&path);
    if let Ok(metadata) = &exists
        && (!force || metadata.file_type().is_symlink() || !metadata.is_file())
    {
        return Err(InitError::Exists { path });
    }
    let facts = detect(dir, env("PATH")).map_err(|error| InitError::Io {
        path: dir.to_path_buf(),
        error,
    })?;
    let text = starter(&facts);
    let problems = problems(&text);
    if !problems.is_empty() {
        return Err(InitError::Unclean {
            message: problems.join("; "),
        });
    }
    std::fs::write(&path, text).map_err(|error| InitError::Io {
        path: path.clone(),
        error,
    })?;
    Ok(Written { path, facts })
}

/// Every diagnostic `score check` reports on `text`, as `CODE: message`.
fn problems(text: &str) -> Vec<String> {
    let no_files = |p: &Path| -> std::io::Result<String> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!(
                "the starter imports no file, but `{}` was asked for",
                p.display()
            ),
        ))
    };
    let program =
        crate::syntax::load_source(FILE_NAME, text.to_string(), Path::new("."), &no_files);
    crate::check::check(&program)
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(kinds: Vec<Kind>, agents: Vec<&'static str>, dirs: &[&str]) -> Facts {
        Facts {
            name: "demo-repo".to_string(),
            kinds,
            agents,
            dirs: dirs.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn every_shape_of_starter_checks_clean() {
        let cases = [
            facts(
                vec![Kind::Cargo],
                vec!["claude_code", "aider"],
                &["src", "tests"],
            ),
            facts(
                vec![Kind::Npm { build: true }, Kind::Python],
                vec![],
                &["web", "check", "2d", "my-lib", "my_lib"],
            ),
            facts(
                vec![Kind::Go],
                vec!["codex"],
                &["cmd", "goal", "[odd]{dir}*?", "codex"],
            ),
            facts(vec![], vec![], &[]),
        ];
        for facts in &cases {
            let text = starter(facts);
            assert_eq!(problems(&text), Vec::<String>::new(), "{text}");
            let again = crate::fmt::format_source(crate::source::FileId(0), &text).unwrap();
            assert_eq!(again, text, "the starter is formatted");
        }
    }

    #[test]
    fn commands_come_from_the_manifests() {
        let text = starter(&facts(
            vec![Kind::Go, Kind::Npm { build: false }],
            vec![],
            &["pkg"],
        ));
        assert!(
            text.contains("ensures shell(cmd: \"go build ./...\")"),
            "{text}"
        );
        assert!(
            text.contains("ensures shell(cmd: \"go test ./...\")"),
            "{text}"
        );
        assert!(text.contains("ensures shell(cmd: \"npm test\")"), "{text}");
        assert!(!text.contains("npm run build"), "{text}");
        assert!(text.contains("default_agent mock"), "{text}");
    }

    #[test]
    fn names_become_identifiers() {
        assert_eq!(identifier("my-app", "dir"), "my_app");
        assert_eq!(identifier("2d", "dir"), "dir_2d");
        assert_eq!(identifier("check", "dir"), "check_dir");
        assert_eq!(identifier("é", "repo"), "repo");
    }
}
