//! From one file on the command line to a plan: a `.score` file checked
//! and compiled (`score build`, `graph`, `plan`), or, where a plan is
//! accepted too (`score run`, `score export`), a plan file written by
//! `score build`, read and validated.
//!
//! Nothing here prints: the caller shows [`Planned::diagnostics`] (the
//! warnings of a score that compiled) or [`PlanError::diagnostics`], and
//! maps [`PlanError::usage`] to its exit code.

use super::{CheckedProgram, DriverError, Tally, check_file};
use crate::diagnostics::render_human;
use crate::plan::{self, BuildError, Plan};
use std::path::{Path, PathBuf};

/// A plan, and the checked program it was compiled from (none for a plan
/// file).
pub struct Planned {
    pub plan: Plan,
    pub program: Option<CheckedProgram>,
}

impl Planned {
    /// The score's warnings, rendered for stderr (empty for a plan file or
    /// a score without any).
    pub fn diagnostics(&self, color: bool) -> String {
        match &self.program {
            Some(program) => render_human(program.sources(), program.diagnostics(), color),
            None => String::new(),
        }
    }
}

/// Why there is no plan.
pub enum PlanError {
    /// The score cannot be read.
    Driver(DriverError),
    /// The score has errors.
    Check(Box<CheckedProgram>),
    /// The score checked clean, but its plan cannot be built.
    Build {
        program: Box<CheckedProgram>,
        error: BuildError,
    },
    /// A plan file that cannot be read, or is not a valid plan.
    PlanFile { path: PathBuf, reason: String },
}

impl PlanError {
    /// What to show on stderr first: the score's diagnostics, and a closing
    /// line when the problem is in the sources.
    pub fn diagnostics(&self, color: bool) -> String {
        match self {
            PlanError::Check(program) => {
                let mut tally = Tally::default();
                tally.add(program.diagnostics());
                format!(
                    "{}error: `{}` failed the check: {tally}\n",
                    render_human(program.sources(), program.diagnostics(), color),
                    program.entry.display()
                )
            }
            PlanError::Build { program, error } => {
                let mut text = render_human(program.sources(), program.diagnostics(), color);
                if let Some(diagnostic) = error.diagnostic() {
                    text.push_str(&render_human(program.sources(), &[diagnostic], color));
                    text.push_str(&format!(
                        "error: no plan can be built from `{}`\n",
                        program.entry.display()
                    ));
                }
                text
            }
            PlanError::Driver(_) | PlanError::PlanFile { .. } => String::new(),
        }
    }

    /// The error and how to fix it, when the problem is not one in the
    /// sources (the CLI exits 2); `None` when [`PlanError::diagnostics`]
    /// said it all (the CLI exits 1).
    pub fn usage(&self) -> Option<(String, Option<String>)> {
        match self {
            PlanError::Check(_) => None,
            PlanError::Build { error, .. } if error.diagnostic().is_some() => None,
            PlanError::Build { error, .. } => Some((error.message.clone(), error.help.clone())),
            PlanError::Driver(error) => Some((error.to_string(), Some(error.help().to_string()))),
            PlanError::PlanFile { reason, .. } => Some((
                reason.clone(),
                Some(
                    "give a `.score` file, or a plan written by `score build FILE.score -o plan.json`"
                        .to_string(),
                ),
            )),
        }
    }
}

/// Check `file` and compile its plan.
pub fn compile(file: &Path) -> Result<Planned, PlanError> {
    let program = check_file(file).map_err(PlanError::Driver)?;
    if program.checked.has_errors() {
        return Err(PlanError::Check(Box::new(program)));
    }
    let entry_dir = file.parent().unwrap_or(Path::new(""));
    match plan::build(&program.checked, program.sources(), entry_dir) {
        Ok(plan) => Ok(Planned {
            plan,
            program: Some(program),
        }),
        Err(error) => Err(PlanError::Build {
            program: Box::new(program),
            error,
        }),
    }
}

/// The plan of a `.score` file ([`compile`]) or of any other file, read as
/// a plan written by `score build`.
pub fn score_or_plan(file: &Path) -> Result<Planned, PlanError> {
    if file.extension().is_some_and(|e| e == "score") {
        return compile(file);
    }
    plan::load_file(file)
        .map(|plan| Planned {
            plan,
            program: None,
        })
        .map_err(|reason| PlanError::PlanFile {
            path: file.to_path_buf(),
            reason,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    const SCORE: &str = "score s {\n  prompt_template \"missing.md\"\n}\n\nagent a: mock {}\n\nintent i \"x\" {\n  accept \"y\"\n}\n\npart p by a {\n  serves i\n}\n";

    #[test]
    fn a_located_build_error_is_a_diagnostic_with_its_snippet() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "s.score", SCORE);
        let Err(error) = compile(&file) else {
            panic!("the template is missing")
        };
        assert!(error.usage().is_none(), "a problem in the sources");
        let shown = error.diagnostics(false);
        assert!(
            shown.contains("error[E0104]: cannot read the prompt template `missing.md`"),
            "{shown}"
        );
        assert!(
            shown.contains("prompt_template \"missing.md\""),
            "the line: {shown}"
        );
        assert!(shown.contains("help: the path is relative"), "{shown}");
        let closing = format!("error: no plan can be built from `{}`\n", file.display());
        assert!(shown.ends_with(&closing), "{shown}");
        // With the template there, the same score compiles.
        write(
            dir.path(),
            "missing.md",
            crate::plan::prompt::DEFAULT_TEMPLATE,
        );
        assert!(compile(&file).is_ok());
    }

    #[test]
    fn a_plan_file_that_is_not_one_says_what_to_give() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "plan.json", "{}");
        let Err(error) = score_or_plan(&file) else {
            panic!("not a plan")
        };
        let (message, help) = error.usage().unwrap();
        assert!(message.contains("plan.json"), "{message}");
        assert!(help.unwrap().contains("score build"));
        assert!(error.diagnostics(false).is_empty());
    }

    #[test]
    fn a_score_with_errors_shows_them_and_a_closing_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = write(dir.path(), "bad.score", "part p by nobody {}\n");
        let Err(error) = compile(&file) else {
            panic!("an unknown agent")
        };
        assert!(error.usage().is_none());
        let shown = error.diagnostics(false);
        assert!(shown.contains("error[E0101]"), "{shown}");
        assert!(shown.contains("failed the check: 1 error"), "{shown}");
    }
}
