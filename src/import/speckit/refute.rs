//! The checker on the imported score, and its findings in tasks.md's terms.
//!
//! A `[P]` claim says two tasks touch different files. The importer does not
//! compare file names itself: it puts the tasks of a `[P]` run in one group
//! of the sequence and lets `score check` prove or refute that their `owns`
//! are disjoint (E0401, the exact glob overlap proof). Each E0401 names the
//! two parts (task ids) and points at the two globs; the path both may
//! write is their intersection's witness, as the checker computes it.

use super::tasks::Task;
use crate::diagnostics::{Code, Diagnostic};
use crate::glob::{self, Glob};
use crate::source::SourceMap;
use std::fmt;
use std::path::Path;

/// A task, as tasks.md names it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct TaskRef {
    pub id: String,
    pub line: usize,
}

/// Two tasks marked `[P]` side by side that can both write one path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Refuted {
    pub first: TaskRef,
    pub second: TaskRef,
    /// A path both may write.
    pub path: String,
}

impl fmt::Display for Refuted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} and {} are marked [P] but both write {} (tasks.md:{}, :{})",
            self.first.id, self.second.id, self.path, self.first.line, self.second.line
        )
    }
}

pub(crate) struct Outcome {
    pub refuted: Vec<Refuted>,
    pub findings: Vec<String>,
}

/// The imported score reads only the standard library.
fn no_files(path: &Path) -> std::io::Result<String> {
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        format!(
            "an imported score imports no file, but `{}` was asked for",
            path.display()
        ),
    ))
}

/// Check `score` and read its diagnostics back: E0401 as refuted claims
/// (`parts` maps part names to indices of `tasks`), anything else as a
/// finding.
pub(crate) fn check(score: &str, parts: &[(String, usize)], tasks: &[Task]) -> Outcome {
    let program = crate::syntax::load_source(
        "imported.score",
        score.to_string(),
        Path::new("."),
        &no_files,
    );
    let checked = crate::check::check(&program);
    let mut refuted = Vec::new();
    let mut findings = Vec::new();
    for diagnostic in &checked.diagnostics {
        match overlap(&program.sources, diagnostic, parts, tasks) {
            Some(claim) => refuted.push(claim),
            None => findings.push(format!("{}: {}", diagnostic.code, diagnostic.message)),
        }
    }
    refuted.sort();
    refuted.dedup();
    Outcome { refuted, findings }
}

/// An E0401 as a refuted claim: its labels on part names give the tasks,
/// its labels on string literals give the two globs.
fn overlap(
    sources: &SourceMap,
    diagnostic: &Diagnostic,
    parts: &[(String, usize)],
    tasks: &[Task],
) -> Option<Refuted> {
    if diagnostic.code != Code::E0401 {
        return None;
    }
    let mut globs = Vec::new();
    let mut named = Vec::new();
    for label in &diagnostic.labels {
        let text = sources.text(label.span);
        if let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            globs.push(inner.to_string());
        } else if let Some((_, task)) = parts.iter().find(|(name, _)| name == text) {
            named.push(&tasks[*task]);
        }
    }
    let [a, b] = named.as_slice() else {
        return None;
    };
    // The witness of the overlap proof, as the checker computes it; the
    // glob as written if a literal cannot be read back (it always can: the
    // importer owns no path a literal must escape).
    let path = match globs.as_slice() {
        [one] => witness(one, one).unwrap_or_else(|| one.clone()),
        [x, y, ..] => witness(x, y).unwrap_or_else(|| x.clone()),
        [] => return None,
    };
    let (first, second) = if (a.line, &a.id) <= (b.line, &b.id) {
        (a, b)
    } else {
        (b, a)
    };
    Some(Refuted {
        first: TaskRef {
            id: first.id.clone(),
            line: first.line,
        },
        second: TaskRef {
            id: second.id.clone(),
            line: second.line,
        },
        path,
    })
}

/// A path both globs match, as the checker's proof finds it.
fn witness(a: &str, b: &str) -> Option<String> {
    let (a, b) = (Glob::parse(a).ok()?, Glob::parse(b).ok()?);
    glob::intersection(&a, &b)
}
