//! The driver: the library side of the command line. From paths on the
//! command line to checked programs and their diagnostics (`score check`),
//! to a plan (`compile.rs`: `score build`, `graph`, `plan`, `run`,
//! `export`), and to formatted files (`format.rs`: `score fmt`). The CLI
//! (`src/bin/score/`) only parses flags, prints what these return and maps
//! them to exit codes.

mod compile;
mod format;

pub use compile::{PlanError, Planned, compile, score_or_plan};
pub use format::{BrokenFile, Formatted, format_paths};

use crate::check::{self, Checked};
use crate::diagnostics::{self, Diagnostic};
use crate::source::SourceMap;
use crate::syntax::{self, LoadError, Program};
use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

/// One entry file, loaded and checked.
pub struct CheckedProgram {
    pub entry: PathBuf,
    pub program: Program,
    pub checked: Checked,
}

impl CheckedProgram {
    pub fn sources(&self) -> &SourceMap {
        &self.program.sources
    }

    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.checked.diagnostics
    }
}

/// A failure that is not a problem in the sources: a file that cannot be
/// read, a directory with no `.score` file. The CLI exits with 2 for these.
#[derive(Debug)]
pub enum DriverError {
    Load(LoadError),
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// A file that cannot be written (`score fmt`).
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    NothingToCheck {
        paths: Vec<PathBuf>,
    },
}

impl DriverError {
    /// How to fix it.
    pub fn help(&self) -> &'static str {
        match self {
            DriverError::NothingToCheck { .. } => {
                "pass a `.score` file, or a directory that contains some"
            }
            _ => "check the path and its permissions",
        }
    }
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DriverError::Load(e) => write!(f, "{e}"),
            DriverError::Io { path, error } => {
                write!(f, "cannot read `{}`: {error}", path.display())
            }
            DriverError::Write { path, error } => {
                write!(f, "cannot write `{}`: {error}", path.display())
            }
            DriverError::NothingToCheck { paths } => {
                let shown: Vec<String> =
                    paths.iter().map(|p| format!("`{}`", p.display())).collect();
                write!(f, "no `.score` files found in {}", shown.join(", "))
            }
        }
    }
}

impl std::error::Error for DriverError {}

fn read_from_disk(path: &Path) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

/// Load and check one entry file.
pub fn check_file(entry: &Path) -> Result<CheckedProgram, DriverError> {
    let program = syntax::load(entry, &read_from_disk).map_err(DriverError::Load)?;
    let checked = check::check(&program);
    Ok(CheckedProgram {
        entry: entry.to_path_buf(),
        program,
        checked,
    })
}

/// Load and check a text that is not (or not yet) on disk, as the file
/// `name` in `base_dir` would be: its imports are read from disk relative
/// to `base_dir` (a draft being written, a buffer sent by a client).
pub fn check_source(name: &str, text: String, base_dir: &Path) -> CheckedProgram {
    let program = syntax::load_source(name, text, base_dir, &read_from_disk);
    let checked = check::check(&program);
    CheckedProgram {
        entry: base_dir.join(name),
        program,
        checked,
    }
}

/// Expand the paths given on the command line into entry files. Files are
/// taken as given; a directory contributes every `.score` file below it.
/// With no paths, the current directory is used.
pub fn collect_entries(paths: &[PathBuf]) -> Result<Vec<PathBuf>, DriverError> {
    let paths: Vec<PathBuf> = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    for path in &paths {
        if let Err(error) = std::fs::metadata(path) {
            return Err(DriverError::Io {
                path: path.clone(),
                error,
            });
        }
    }
    let files = crate::source::score_files(&paths).map_err(|error| DriverError::Io {
        path: paths[0].clone(),
        error,
    })?;
    if files.is_empty() {
        return Err(DriverError::NothingToCheck { paths });
    }
    Ok(files)
}

/// Check every entry. Files found by walking a directory that another file
/// imports are modules, not programs of their own: they are checked as part
/// of the program that imports them.
pub fn check_paths(paths: &[PathBuf]) -> Result<Vec<CheckedProgram>, DriverError> {
    let explicit: HashSet<PathBuf> = paths
        .iter()
        .filter(|p| p.is_file())
        .filter_map(|p| p.canonicalize().ok())
        .collect();
    let entries = collect_entries(paths)?;
    let mut programs = Vec::new();
    for entry in &entries {
        programs.push(check_file(entry)?);
    }
    let imported: HashSet<PathBuf> = programs
        .iter()
        .flat_map(|p| {
            p.program
                .sources
                .files()
                .filter(|f| !p.program.roots.contains(&f.id))
                .filter_map(|f| f.path().and_then(|path| path.canonicalize().ok()))
                .collect::<Vec<_>>()
        })
        .collect();
    programs.retain(|p| {
        let canonical = p.entry.canonicalize().ok();
        match canonical {
            Some(c) => explicit.contains(&c) || !imported.contains(&c),
            None => true,
        }
    });
    Ok(programs)
}

/// Counts of errors and warnings, for the summary line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub errors: usize,
    pub warnings: usize,
}

impl Tally {
    pub fn add(&mut self, diagnostics: &[Diagnostic]) {
        for d in diagnostics {
            match d.severity {
                diagnostics::Severity::Error => self.errors += 1,
                diagnostics::Severity::Warning => self.warnings += 1,
                diagnostics::Severity::Note => {}
            }
        }
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize, word: &str| {
            if n == 1 {
                format!("1 {word}")
            } else {
                format!("{n} {word}s")
            }
        };
        match (self.errors, self.warnings) {
            (0, 0) => write!(f, "no problems"),
            (e, 0) => write!(f, "{}", plural(e, "error")),
            (0, w) => write!(f, "{}", plural(w, "warning")),
            (e, w) => write!(f, "{} and {}", plural(e, "error"), plural(w, "warning")),
        }
    }
}

/// What `score check PATHS` found: every program, each with the
/// diagnostics that an earlier program did not already report (two
/// programs that import one module would report its problems twice).
pub struct CheckReport {
    pub programs: Vec<(CheckedProgram, Vec<Diagnostic>)>,
    pub tally: Tally,
}

impl CheckReport {
    /// Whether the check fails: any error, or any warning when warnings are
    /// denied.
    pub fn failed(&self, deny_warnings: bool) -> bool {
        self.tally.errors > 0 || (deny_warnings && self.tally.warnings > 0)
    }

    /// The diagnostics for humans, then the closing line (for stderr).
    pub fn human(&self, color: bool, deny_warnings: bool) -> String {
        let mut out = String::new();
        for (program, fresh) in &self.programs {
            out.push_str(&diagnostics::render_human(program.sources(), fresh, color));
        }
        out.push_str(&self.summary(deny_warnings));
        out.push('\n');
        out
    }

    /// The diagnostics as JSON Lines, one object per line (for stdout).
    pub fn json(&self) -> String {
        self.programs
            .iter()
            .map(|(program, fresh)| diagnostics::render_json(program.sources(), fresh))
            .collect()
    }

    /// How many programs fail the check: those with an error (or, denied,
    /// a warning) anywhere in them, their imports included (a problem of a
    /// module two programs share is shown once but fails both).
    pub fn failing(&self, deny_warnings: bool) -> usize {
        self.programs
            .iter()
            .filter(|(program, _)| {
                program.diagnostics().iter().any(|d| {
                    d.is_error() || (deny_warnings && d.severity == diagnostics::Severity::Warning)
                })
            })
            .count()
    }

    /// The closing line of the human output.
    pub fn summary(&self, deny_warnings: bool) -> String {
        let what = match self.programs.as_slice() {
            [(program, _)] => format!("`{}`", program.entry.display()),
            programs => format!("{} files", programs.len()),
        };
        if self.failed(deny_warnings) {
            let failing = self.failing(deny_warnings);
            let what = match self.programs.len() {
                1 => what,
                n if failing == n => what,
                n => format!("{failing} of {n} files"),
            };
            format!("error: {what} failed the check: {}", self.tally)
        } else {
            format!("checked {what}: {}", self.tally)
        }
    }
}

/// `score check PATHS`: every program the paths stand for, checked, each
/// diagnostic reported once.
pub fn check(paths: &[PathBuf]) -> Result<CheckReport, DriverError> {
    let mut seen = HashSet::new();
    let mut tally = Tally::default();
    let mut programs = Vec::new();
    for program in check_paths(paths)? {
        let sources = program.sources();
        let fresh: Vec<Diagnostic> = program
            .diagnostics()
            .iter()
            .filter(|d| seen.insert(dedup_key(sources, d)))
            .cloned()
            .collect();
        tally.add(&fresh);
        programs.push((program, fresh));
    }
    Ok(CheckReport { programs, tally })
}

/// The identity of a diagnostic across programs: the file's display name
/// and the position, since file ids differ between programs.
fn dedup_key(sources: &SourceMap, d: &Diagnostic) -> (String, u32, u32, String, String) {
    let (name, start, end) = match d.primary_span() {
        Some(span) => (sources.get(span.file).name.clone(), span.start, span.end),
        None => (String::new(), 0, 0),
    };
    (name, start, end, d.code.to_string(), d.message.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_module_two_programs_import_is_reported_once() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        // `lib` has an unknown agent; `a` and `b` both import it.
        write("lib.score", "part shared by nobody {}\n");
        write("a.score", "use lib.{shared}\n");
        write("b.score", "use lib.{shared}\n");
        let paths = [dir.path().join("a.score"), dir.path().join("b.score")];
        let report = check(&paths).unwrap();
        assert_eq!(report.programs.len(), 2);
        let codes: Vec<Vec<String>> = report
            .programs
            .iter()
            .map(|(_, fresh)| fresh.iter().map(|d| d.code.to_string()).collect())
            .collect();
        // W0602: the part serves no intent; W0106: neither `a` nor `b`
        // uses what it imports (each file's own warning).
        assert_eq!(
            codes,
            [
                vec!["W0106".to_string(), "W0602".into(), "E0101".into()],
                vec!["W0106".into()]
            ]
        );
        assert_eq!((report.tally.errors, report.tally.warnings), (1, 3));
        assert!(report.failed(false));
        // Both programs hold the module's error: both fail.
        let summary = report.summary(false);
        assert_eq!(
            summary,
            "error: 2 files failed the check: 1 error and 3 warnings"
        );
        assert_eq!(report.json().lines().count(), 4);
    }

    #[test]
    fn the_summary_counts_the_files_that_failed() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        let clean = "use std.agents.{mock}\n\nscore s {\n  default_agent mock\n}\n\n\
                     intent i \"x\" {\n  accept \"y\"\n}\n\npart p {\n  serves i\n}\n";
        write("a.score", clean);
        write("b.score", &clean.replace("serves i", "serves nothing"));
        write(
            "c.score",
            &clean.replace("serves i", "serves nada\n  retries -1"),
        );
        write("d.score", &clean.replace("accept \"y\"\n", ""));
        let report = check(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(report.programs.len(), 4);
        assert_eq!((report.tally.errors, report.tally.warnings), (3, 1));
        assert_eq!(
            report.summary(false),
            "error: 2 of 4 files failed the check: 3 errors and 1 warning"
        );
        // Warnings denied, `d` (a warning only) fails too.
        assert_eq!(
            report.summary(true),
            "error: 3 of 4 files failed the check: 3 errors and 1 warning"
        );
    }
}
