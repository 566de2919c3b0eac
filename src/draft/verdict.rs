//! The checker's verdict on a drafted score, which never touches the disk:
//! the candidate is checked in memory under the name it will be written
//! with, its relative imports resolved from the directory it will be
//! written to, exactly as `score check FILE` would once it is there.

use crate::diagnostics::{self, Code, Diagnostic, Severity, render_human, render_json};
use crate::driver::{self, Tally};
use std::collections::BTreeSet;
use std::path::Path;

/// What `score check` says about a candidate.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub tally: Tally,
    /// `score check --format json`: one object per line.
    pub json_lines: String,
    /// As `score check` prints them (no colour).
    pub human: String,
    /// The explanation of every code found, once each.
    pub explanations: String,
}

impl Verdict {
    /// No error (warnings are shown, and fed back, but do not hold the
    /// score back: `score check` exits 0 on them too).
    pub fn clean(&self) -> bool {
        self.tally.errors == 0
    }
}

/// Checks `text` as the file `name` in `base_dir`.
pub fn check_text(name: &str, text: &str, base_dir: &Path) -> Verdict {
    let checked = driver::check_source(name, text.to_string(), base_dir);
    let mut found: Vec<Diagnostic> = checked.diagnostics().to_vec();
    diagnostics::sort(&mut found);
    let mut tally = Tally::default();
    tally.add(&found);
    let codes: BTreeSet<Code> = found
        .iter()
        .filter(|d| d.severity != Severity::Note)
        .map(|d| d.code)
        .collect();
    let explanations = codes
        .into_iter()
        .map(|code| diagnostics::explain(code).replacen("# ", "#### ", 1))
        .collect::<Vec<_>>()
        .join("\n");
    Verdict {
        tally,
        json_lines: render_json(checked.sources(), &found),
        human: render_human(checked.sources(), &found, false),
        explanations,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_score_has_errors_with_positions_and_explanations() {
        let dir = tempfile::tempdir().unwrap();
        let verdict = check_text("d.score", "part p by nobody {}\n", dir.path());
        assert!(!verdict.clean());
        assert_eq!(verdict.tally.errors, 1, "{}", verdict.human);
        let first: serde_json::Value =
            serde_json::from_str(verdict.json_lines.lines().next().unwrap()).unwrap();
        assert_eq!(first["file"], "d.score");
        assert_eq!(first["line"], 1);
        assert!(
            verdict.explanations.starts_with("#### E0"),
            "{}",
            verdict.explanations
        );
        assert!(verdict.human.contains("d.score:1"), "{}", verdict.human);
    }

    #[test]
    fn a_clean_score_is_clean_and_imports_resolve_where_it_will_live() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("kinds.score"),
            "type Note {\n  text: Text\n}\n",
        )
        .unwrap();
        let text = "use kinds.{Note}\n\nagent a: mock {}\n\nintent i \"x\" {\n  accept \"y\"\n}\n\n\
                    part p by a {\n  serves i\n  output note: Note\n}\n";
        let verdict = check_text("d.score", text, dir.path());
        assert!(verdict.clean(), "{}", verdict.human);
        let elsewhere = tempfile::tempdir().unwrap();
        assert!(!check_text("d.score", text, elsewhere.path()).clean());
    }
}
