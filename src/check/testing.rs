//! Test support: check in-memory sources exactly as `score check` checks
//! files. The files are served to the real loader (`syntax::load`) from a
//! map, so imports, the embedded standard library and E0103 are resolved
//! by the code that resolves them in production, then `check::check` runs.

use super::Checked;
use crate::diagnostics::{Code, Diagnostic, render_human};
use crate::source::SourceMap;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub(crate) struct Outcome {
    pub sources: SourceMap,
    pub checked: Checked,
}

impl Outcome {
    pub fn codes(&self) -> Vec<Code> {
        self.checked.diagnostics.iter().map(|d| d.code).collect()
    }

    /// The only diagnostic, which must have this code.
    pub fn single(&self, code: Code) -> &Diagnostic {
        assert_eq!(self.codes(), vec![code], "{}", self.render());
        &self.checked.diagnostics[0]
    }

    pub fn assert_clean(&self) {
        assert!(self.checked.diagnostics.is_empty(), "{}", self.render());
    }

    pub fn render(&self) -> String {
        render_human(&self.sources, &self.checked.diagnostics, false)
    }

    /// The text under a diagnostic's labels, primary first.
    pub fn label_texts(&self, diagnostic: &Diagnostic) -> Vec<String> {
        diagnostic
            .labels
            .iter()
            .map(|l| self.sources.text(l.span).to_string())
            .collect()
    }
}

/// Check a program of one file, `main`.
pub(crate) fn check_one(text: &str) -> Outcome {
    check_files(&[("main", text)])
}

/// Check the program whose entry is `main`, among files named by module
/// path (`main`, `billing.types` is `billing/types.score`); the standard
/// library is available too. The files live in memory only: nothing is
/// read from disk.
pub(crate) fn check_files(files: &[(&str, &str)]) -> Outcome {
    let disk: HashMap<PathBuf, String> = files
        .iter()
        .map(|(name, text)| (module_path(name), text.to_string()))
        .collect();
    assert!(
        disk.contains_key(&module_path("main")),
        "check_files needs a `main` file"
    );
    let read = |path: &Path| {
        disk.get(path).cloned().ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotFound, "not among the test's files")
        })
    };
    let program =
        crate::syntax::load(&module_path("main"), &read).expect("the entry file is given");
    let checked = super::check(&program);
    Outcome {
        sources: program.sources,
        checked,
    }
}

/// `billing.types` → `billing/types.score`, as the loader looks it up from
/// an entry file in the current directory.
fn module_path(name: &str) -> PathBuf {
    PathBuf::from(format!("{}.score", name.replace('.', "/")))
}

/// A clean, complete score to start tests from: every later test changes
/// one thing in it.
pub(crate) const BASE: &str = r#"
score shortener {
  title "URL shortener"
  default_agent coder
}

type Link {
  slug: Text
  tags: [Text]
}

intent shorten "A user turns a long URL into a short link" {
  accept "the same URL twice yields the same slug"
}

agent architect: openai {
  model "gpt-4.1"
  tier complex
}

agent coder: command {
  run ["aider", "{prompt_file}"]
}

check cargo_test(package: Text) {
  run "cargo test -p {package}"
}

contract Storage {
  input link_type: Text
  output store_api: Text
  owns "src/store/**"
  ensures cargo_test(package: "store")
}

part model by architect {
  serves shorten
  complexity complex
  output link_type: Text
}

part store: Storage {
  serves shorten
  input link_type = model.link_type
}

sequence {
  model -> store
}
"#;

/// [`BASE`] with one text replaced (which must occur exactly once).
pub(crate) fn base_with(from: &str, to: &str) -> String {
    assert_eq!(
        BASE.matches(from).count(),
        1,
        "`{from}` occurs once in BASE"
    );
    BASE.replace(from, to)
}
