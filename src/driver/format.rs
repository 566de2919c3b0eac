//! `score fmt PATHS`: the files the paths stand for, each formatted by
//! [`crate::fmt::format_source`] and written back when it changed (unless
//! only checking). A file with syntax errors is left alone and reported.
//!
//! Nothing here prints: the caller shows [`Formatted::errors`],
//! [`Formatted::listing`] and [`Formatted::summary`].

use super::{DriverError, collect_entries};
use crate::diagnostics::{Diagnostic, render_human};
use crate::source::{Origin, SourceMap};
use std::path::{Path, PathBuf};

/// A file `score fmt` did not format: its syntax errors.
pub struct BrokenFile {
    pub path: PathBuf,
    pub sources: SourceMap,
    pub errors: Vec<Diagnostic>,
}

/// What `score fmt` did, or would do with `--check`.
pub struct Formatted {
    /// How many files were looked at.
    pub files: usize,
    /// The files whose layout changed (or would), in order.
    pub changed: Vec<PathBuf>,
    pub broken: Vec<BrokenFile>,
    /// Only checked: nothing was written.
    pub check_only: bool,
}

impl Formatted {
    /// The syntax errors of the files left alone, for stderr.
    pub fn errors(&self, color: bool) -> String {
        let mut out = String::new();
        for file in &self.broken {
            out.push_str(&render_human(&file.sources, &file.errors, color));
            out.push_str(&format!(
                "error: `{}` has syntax errors; it was not formatted\n",
                file.path.display()
            ));
        }
        out
    }

    /// One line per changed file, for stdout.
    pub fn listing(&self) -> String {
        let verb = if self.check_only {
            "would reformat"
        } else {
            "formatted"
        };
        self.changed
            .iter()
            .map(|path| format!("{verb} {}\n", path.display()))
            .collect()
    }

    /// The closing line of `--check` when files would change, for stderr.
    pub fn summary(&self) -> Option<String> {
        (self.check_only && !self.changed.is_empty()).then(|| {
            format!(
                "{} of {} files would be reformatted; run `score fmt` to fix",
                self.changed.len(),
                self.files
            )
        })
    }

    /// Whether `score fmt` fails: a file with syntax errors, or with
    /// `--check` a file that would change.
    pub fn failed(&self) -> bool {
        !self.broken.is_empty() || (self.check_only && !self.changed.is_empty())
    }
}

/// Formats every `.score` file the paths stand for (the current directory
/// when there are none); with `check_only`, writes nothing.
pub fn format_paths(paths: &[PathBuf], check_only: bool) -> Result<Formatted, DriverError> {
    let files = collect_entries(paths)?;
    let mut report = Formatted {
        files: files.len(),
        changed: Vec::new(),
        broken: Vec::new(),
        check_only,
    };
    for path in &files {
        let text = std::fs::read_to_string(path).map_err(|error| DriverError::Io {
            path: path.clone(),
            error,
        })?;
        match format_one(path, &text) {
            Ok(None) => {}
            Ok(Some(formatted)) => {
                if !check_only {
                    std::fs::write(path, formatted).map_err(|error| DriverError::Write {
                        path: path.clone(),
                        error,
                    })?;
                }
                report.changed.push(path.clone());
            }
            Err(broken) => report.broken.push(broken),
        }
    }
    Ok(report)
}

/// The new text of one file, `None` when it is already formatted.
fn format_one(path: &Path, text: &str) -> Result<Option<String>, BrokenFile> {
    let mut sources = SourceMap::new();
    let id = sources.add(
        path.display().to_string(),
        Origin::Disk(path.to_path_buf()),
        text.to_string(),
    );
    match crate::fmt::format_source(id, text) {
        Ok(formatted) if formatted == text => Ok(None),
        Ok(formatted) => Ok(Some(formatted)),
        Err(errors) => Err(BrokenFile {
            path: path.to_path_buf(),
            sources,
            errors,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_checks_and_leaves_broken_files_alone() {
        let dir = tempfile::tempdir().unwrap();
        let messy = dir.path().join("messy.score");
        let clean = dir.path().join("clean.score");
        let broken = dir.path().join("broken.score");
        std::fs::write(&messy, "part   p {}\n").unwrap();
        std::fs::write(&clean, "part p {}\n").unwrap();
        std::fs::write(&broken, "part p {\n").unwrap();
        let paths = [dir.path().to_path_buf()];

        let checked = format_paths(&paths, true).unwrap();
        assert_eq!(
            (checked.files, checked.changed.clone()),
            (3, vec![messy.clone()])
        );
        assert_eq!(checked.broken.len(), 1);
        assert!(checked.failed());
        assert_eq!(
            checked.listing(),
            format!("would reformat {}\n", messy.display())
        );
        assert_eq!(
            checked.summary().unwrap(),
            "1 of 3 files would be reformatted; run `score fmt` to fix"
        );
        assert!(
            checked
                .errors(false)
                .contains("has syntax errors; it was not formatted")
        );
        assert_eq!(std::fs::read_to_string(&messy).unwrap(), "part   p {}\n");

        let written = format_paths(&paths, false).unwrap();
        assert_eq!(
            written.listing(),
            format!("formatted {}\n", messy.display())
        );
        assert!(written.summary().is_none());
        assert_eq!(std::fs::read_to_string(&messy).unwrap(), "part p {}\n");
        assert_eq!(std::fs::read_to_string(&broken).unwrap(), "part p {\n");
        assert!(written.failed(), "the broken file still fails the run");
    }
}
