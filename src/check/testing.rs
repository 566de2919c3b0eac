//! Test support: check in-memory sources with the real parser. Imports are
//! resolved the way the loader does it (`use a.b.c` is a module `a.b.c` if
//! there is one, else the item `c` of module `a.b`), among the given files
//! and the embedded standard library.

use super::{Checked, ImportView, ImportViewKind, Input, check_input};
use crate::diagnostics::{Code, Diagnostic, render_human};
use crate::source::{FileId, Origin, SourceMap};
use crate::syntax::ast::{self, Item};

const STDLIB: &[(&str, &str)] = &[
    ("std.checks", include_str!("../../stdlib/std/checks.score")),
    ("std.types", include_str!("../../stdlib/std/types.score")),
    ("std.agents", include_str!("../../stdlib/std/agents.score")),
];

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

/// Check a program whose files are named by module path (`main`,
/// `billing.types`); the standard library is available too.
pub(crate) fn check_files(files: &[(&str, &str)]) -> Outcome {
    let mut sources = SourceMap::new();
    let mut modules: Vec<String> = Vec::new();
    for (name, text) in files {
        sources.add(
            format!("{}.score", name.replace('.', "/")),
            Origin::Memory,
            text.to_string(),
        );
        modules.push(name.to_string());
    }
    let mut parsed: Vec<ast::File> = Vec::new();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    for (i, (_, text)) in files.iter().enumerate() {
        let (file, diags) = crate::syntax::parse(FileId(i as u32), text);
        parsed.push(file);
        diagnostics.extend(diags);
    }
    // Load the stdlib modules that are imported (as the loader does).
    let wanted: Vec<&str> = STDLIB
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| {
            parsed.iter().any(|f| {
                f.items.iter().any(|item| match item {
                    Item::Use(u) => {
                        let dotted = u.path.dotted();
                        dotted == *name || dotted.rsplit_once('.').is_some_and(|(m, _)| m == *name)
                    }
                    _ => false,
                })
            })
        })
        .collect();
    for name in wanted {
        let text = STDLIB.iter().find(|(n, _)| *n == name).unwrap().1;
        let id = sources.add(
            format!("<std>/{}.score", name.trim_start_matches("std.")),
            Origin::Stdlib(name.to_string()),
            text.to_string(),
        );
        let (file, diags) = crate::syntax::parse(id, text);
        assert!(diags.is_empty(), "the stdlib parses");
        parsed.push(file);
        modules.push(name.to_string());
    }
    let find = |dotted: &str| {
        modules
            .iter()
            .position(|m| m == dotted)
            .map(|i| FileId(i as u32))
    };
    let mut imports = Vec::new();
    for file in &parsed {
        for item in &file.items {
            let Item::Use(decl) = item else { continue };
            let dotted = decl.path.dotted();
            match &decl.items {
                Some(items) => imports.push(ImportView {
                    module: find(&dotted).or_else(|| {
                        diagnostics.push(
                            Diagnostic::new(Code::E0103, format!("no module `{dotted}`"))
                                .primary(decl.path.span, "not found"),
                        );
                        None
                    }),
                    from: file.file,
                    decl,
                    kind: ImportViewKind::Items(items),
                }),
                None => match find(&dotted) {
                    Some(module) => imports.push(ImportView {
                        from: file.file,
                        decl,
                        module: Some(module),
                        kind: ImportViewKind::Module {
                            alias: decl.path.last(),
                        },
                    }),
                    None => {
                        let parent = dotted.rsplit_once('.').and_then(|(m, _)| find(m));
                        if parent.is_none() {
                            diagnostics.push(
                                Diagnostic::new(Code::E0103, format!("no module `{dotted}`"))
                                    .primary(decl.path.span, "not found"),
                            );
                        }
                        imports.push(ImportView {
                            from: file.file,
                            decl,
                            module: parent,
                            kind: match parent {
                                Some(_) => {
                                    ImportViewKind::Items(std::slice::from_ref(decl.path.last()))
                                }
                                None => ImportViewKind::Module {
                                    alias: decl.path.last(),
                                },
                            },
                        });
                    }
                },
            }
        }
    }
    let input = Input {
        sources: &sources,
        files: &parsed,
        imports,
        load_diagnostics: &diagnostics,
    };
    let checked = check_input(&input);
    drop(input);
    Outcome { sources, checked }
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
