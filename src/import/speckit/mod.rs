//! `score import speckit`: a score from a GitHub spec-kit feature.
//!
//! spec-kit features live in `specs/NNN-feature/` with a `spec.md` (user
//! stories with priorities and acceptance scenarios) and a `tasks.md`
//! (tasks in phases; `[P]` claims a task can run beside its neighbours).
//! Nothing checks those claims; a score can. The importer is a pure core,
//! [`import_text`] (text in, formatted score and findings out), with
//! [`import`] around it to read the files:
//!
//! - `markdown.rs`: lines, headings, hidden regions (code, comments);
//! - `tasks.rs` and `spec.rs`: what the two files say;
//! - `paths.rs`: the file paths in a task's words, as globs;
//! - `emit.rs`: the score's text, laid out by the formatter;
//! - `refute.rs`: the checker run on that score, and its overlap proofs
//!   turned back into refuted `[P]` claims with task ids and lines.
//!
//! The mapping is documented in docs/import.md.

mod emit;
mod markdown;
mod paths;
mod refute;
mod spec;
mod tasks;

use std::fmt;
use std::path::{Path, PathBuf};

pub use refute::{Refuted, TaskRef};

/// A score made from a spec-kit feature.
#[derive(Clone, Debug)]
pub struct Imported {
    /// The score, canonically formatted.
    pub score: String,
    /// What could not be read or mapped, with line numbers.
    pub warnings: Vec<Warning>,
    /// Counts, and what `score check` says about the `[P]` claims.
    pub report: Report,
}

/// Which file of the feature a warning is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Tasks,
    Spec,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Source::Tasks => "tasks.md",
            Source::Spec => "spec.md",
        })
    }
}

/// Something of the feature the importer could not read or map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub source: Source,
    /// 1-based; 0 when the warning is about the file as a whole.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.source, self.message)
        } else {
            write!(f, "{}:{}: {}", self.source, self.line, self.message)
        }
    }
}

/// What the import found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub tasks: usize,
    /// Tasks checked off (`[X]`).
    pub done: usize,
    /// Phases that hold tasks.
    pub phases: usize,
    /// Runs of two or more consecutive `[P]` tasks, each a group that may
    /// run at the same time.
    pub groups: usize,
    pub intents: usize,
    /// Every `[P]` claim the checker's boundary proof refutes.
    pub refuted: Vec<Refuted>,
    /// Anything else `score check` reports about the imported score
    /// (`CODE: message`): coverage warnings such as a user story no task
    /// serves.
    pub findings: Vec<String>,
}

impl Report {
    /// The summary for people: counts, then one line per refuted claim.
    pub fn summary(&self) -> String {
        let count =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut out = format!(
            "{} ({} done) in {}, {}, {}",
            count(self.tasks, "task", "tasks"),
            self.done,
            count(self.phases, "phase", "phases"),
            count(self.groups, "parallel group", "parallel groups"),
            count(self.intents, "intent", "intents"),
        );
        match self.refuted.len() {
            0 => out.push_str("; no [P] claim is refuted\n"),
            n => out.push_str(&format!(
                "; {} refuted by `score check`:\n",
                count(n, "[P] claim is", "[P] claims are")
            )),
        }
        for refuted in &self.refuted {
            out.push_str("  ");
            out.push_str(&refuted.to_string());
            out.push('\n');
        }
        for finding in &self.findings {
            out.push_str("  score check: ");
            out.push_str(finding);
            out.push('\n');
        }
        out
    }
}

/// Why a feature could not be imported.
#[derive(Debug)]
pub enum ImportError {
    /// The path is neither a `tasks.md` nor a directory holding one.
    NoTasks { path: PathBuf },
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    /// tasks.md holds no task the importer can read.
    Empty { path: PathBuf },
    /// The importer wrote a score the formatter cannot read: a bug.
    Internal { message: String },
}

impl ImportError {
    /// How to fix it.
    pub fn help(&self) -> &'static str {
        match self {
            ImportError::NoTasks { .. } => {
                "pass a spec-kit feature directory (specs/NNN-name/ with a tasks.md) or a tasks.md file"
            }
            ImportError::Read { .. } => "check the path and its permissions",
            ImportError::Empty { .. } => {
                "tasks are checklist items with an id, like `- [ ] T001 Create src/app.py`"
            }
            ImportError::Internal { .. } => "please report this, with the tasks.md that caused it",
        }
    }
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::NoTasks { path } => {
                write!(f, "no tasks.md at `{}`", path.display())
            }
            ImportError::Read { path, error } => {
                write!(f, "cannot read `{}`: {error}", path.display())
            }
            ImportError::Empty { path } => {
                write!(f, "`{}` holds no task with an id", path.display())
            }
            ImportError::Internal { message } => {
                write!(f, "the importer wrote a score it cannot read: {message}")
            }
        }
    }
}

impl std::error::Error for ImportError {}

/// Import the feature at `path`: a directory with `tasks.md` (and
/// `spec.md`, read when present), or a `tasks.md` file (the `spec.md`
/// beside it is read too).
pub fn import(path: &Path) -> Result<Imported, ImportError> {
    let tasks_path = if path.is_dir() {
        let candidate = path.join("tasks.md");
        if !candidate.is_file() {
            return Err(ImportError::NoTasks {
                path: path.to_path_buf(),
            });
        }
        candidate
    } else if path.is_file() {
        path.to_path_buf()
    } else {
        return Err(ImportError::NoTasks {
            path: path.to_path_buf(),
        });
    };
    let read = |p: &Path| {
        std::fs::read(p)
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .map_err(|error| ImportError::Read {
                path: p.to_path_buf(),
                error,
            })
    };
    let tasks = read(&tasks_path)?;
    let dir = tasks_path.parent().unwrap_or(Path::new("."));
    let spec_path = dir.join("spec.md");
    let spec = if spec_path.is_file() {
        Some(read(&spec_path)?)
    } else {
        None
    };
    let feature = feature_name(dir);
    import_text(&tasks, spec.as_deref(), &feature).map_err(|error| match error {
        ImportError::Empty { .. } => ImportError::Empty { path: tasks_path },
        other => other,
    })
}

/// The feature's name: its directory's name (`001-user-auth`).
fn feature_name(dir: &Path) -> String {
    let named = |p: &Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty())
    };
    named(dir)
        .or_else(|| dir.canonicalize().ok().as_deref().and_then(named))
        .unwrap_or_else(|| "feature".to_string())
}

/// The pure core: the texts of `tasks.md` and `spec.md` (if any) and the
/// feature's name in, the formatted score and what was found out.
pub fn import_text(
    tasks: &str,
    spec: Option<&str>,
    feature: &str,
) -> Result<Imported, ImportError> {
    let list = tasks::read(tasks);
    if list.tasks.is_empty() {
        return Err(ImportError::Empty {
            path: PathBuf::from("tasks.md"),
        });
    }
    let spec = spec.map(spec::read);
    let emitted = emit::emit(&list, spec.as_ref(), feature);
    let score = crate::fmt::format_source(crate::source::FileId(0), &emitted.text).map_err(
        |diagnostics| ImportError::Internal {
            message: diagnostics
                .first()
                .map_or_else(String::new, |d| d.message.clone()),
        },
    )?;
    let checked = refute::check(&score, &emitted.parts, &list.tasks);

    let mut warnings = list.warnings;
    if let Some(spec) = &spec {
        warnings.extend(spec.warnings.iter().cloned());
    }
    warnings.extend(emitted.warnings);
    warnings.sort_by_key(|w| (w.source == Source::Spec, w.line));

    let report = Report {
        tasks: list.tasks.len(),
        done: list.tasks.iter().filter(|t| t.done).count(),
        phases: list.phases.len(),
        groups: emitted.groups,
        intents: emitted.intents,
        refuted: checked.refuted,
        findings: checked.findings,
    };
    Ok(Imported {
        score,
        warnings,
        report,
    })
}
