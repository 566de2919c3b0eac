//! The semantic checker: from a loaded program to the checked `Model` and
//! its diagnostics.
//!
//! Phases, each in its own file, all run even when an earlier one found
//! errors (checking never stops early):
//!
//! 1. `resolve`: a symbol table per file (declarations and imports),
//!    duplicates (E0102), name resolution with did-you-mean (E0101).
//! 2. `settings` (called while `elaborate` turns each declaration into
//!    its part of the model): the schema of settings, unknown or ill-typed
//!    settings (E0104), missing required ones (E0105), unknown providers
//!    (E0502).
//! 3. `types` and `bindings`: resolved types, record cycles (E0204), check
//!    arguments (E0205), effective part interfaces, bindings (E0201, E0202,
//!    E0203).
//! 4. `order`: the part graph, cycles (E0301), topological order and
//!    reachability, then the boundary proof (E0401–W0404, in `boundaries`).
//! 5. `agents`: each part's agent (E0503) and tier (E0501).
//! 6. `coverage`: intents and parts that serve nothing (W0601–W0603).
//! 7. `resolve` again, once every reference is known: imports nothing
//!    uses (W0106).
//!
//! One mistake yields one diagnostic: a name that did not resolve is
//! "poisoned" (the reference is dropped silently downstream), so an unknown
//! contract does not also produce unbound inputs or type mismatches.

mod agents;
mod bindings;
pub(crate) mod boundaries;
mod coverage;
mod elaborate;
mod order;
mod resolve;
pub(crate) mod settings;
mod types;

use crate::diagnostics::{self, Code, Diagnostic, suggest};
use crate::model::{
    AgentId, CheckId, ContractId, Decl, EnumId, IntentId, Model, PartId, Reference, SymbolId,
    SymbolKind, TypeId,
};
use crate::source::{FileId, SourceMap, Span};
use crate::syntax::ast;
use std::collections::HashMap;

/// The result of checking: the model and every diagnostic (the loader's
/// included), sorted by position.
#[derive(Debug)]
pub struct Checked {
    pub model: Model,
    pub diagnostics: Vec<Diagnostic>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// What the checker reads from a loaded program.
pub(crate) struct Input<'p> {
    pub sources: &'p SourceMap,
    /// By `FileId` index.
    pub files: &'p [ast::File],
    pub imports: Vec<ImportView<'p>>,
    /// The loader's diagnostics (syntax errors, unresolved imports).
    pub load_diagnostics: &'p [Diagnostic],
}

/// One `use`, as resolved by the loader.
pub(crate) struct ImportView<'p> {
    pub from: FileId,
    /// The `use` declaration.
    pub decl: &'p ast::UseDecl,
    /// The imported module; `None` when it did not resolve (E0103 reported).
    pub module: Option<FileId>,
    pub kind: ImportViewKind<'p>,
}

pub(crate) enum ImportViewKind<'p> {
    /// `use a.b`: items of `b` are reachable as `alias.Item`.
    Module { alias: &'p ast::Ident },
    /// `use a.b.{x, y}`: `x` and `y` are reachable unqualified.
    Items(&'p [ast::Ident]),
}

/// A named top-level declaration, by its model index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ItemId {
    Record(TypeId),
    Enum(EnumId),
    Intent(IntentId),
    Check(CheckId),
    Contract(ContractId),
    Agent(AgentId),
    Part(PartId),
}

impl ItemId {
    pub fn kind(self) -> SymbolKind {
        match self {
            ItemId::Record(_) => SymbolKind::Type,
            ItemId::Enum(_) => SymbolKind::Enum,
            ItemId::Intent(_) => SymbolKind::Intent,
            ItemId::Check(_) => SymbolKind::Check,
            ItemId::Contract(_) => SymbolKind::Contract,
            ItemId::Agent(_) => SymbolKind::Agent,
            ItemId::Part(_) => SymbolKind::Part,
        }
    }
}

/// The state shared by the phases.
pub(crate) struct Ctx<'p> {
    pub input: &'p Input<'p>,
    pub diags: Vec<Diagnostic>,
    pub model: Model,
    /// One scope per file, by `FileId` index.
    pub scopes: Vec<resolve::Scope>,
    /// The model item of each declaration: `items[file][item index]`.
    pub items: Vec<Vec<Option<ItemId>>>,
    pub refs: Vec<Reference>,
    /// The `score` declaration kept (the first one).
    pub score_decl: Option<(FileId, &'p ast::ScoreDecl)>,
    /// The score's `default_agent`.
    pub default_agent: Resolution<AgentId>,
    /// Per part, what later phases need from its declaration.
    pub parts: Vec<elaborate::PartWork<'p>>,
    /// The symbol of each module imported somewhere.
    pub module_symbols: HashMap<FileId, SymbolId>,
    /// Orderings found while binding inputs: (source, consumer, binding).
    pub binding_edges: Vec<(PartId, PartId, Span)>,
    /// Intents named by a `serves` that did not resolve, by the suggestion
    /// made (`None` when there was none): used to avoid a W0601 cascade.
    pub unresolved_serves: Vec<Option<IntentId>>,
    /// Intents with an `accept` line (even one rejected by E0104).
    pub intents_with_accept: std::collections::HashSet<IntentId>,
    /// Agents whose `tier` was written but rejected (E0104).
    pub unknown_tier: std::collections::HashSet<AgentId>,
}

/// The outcome of resolving a name that may be absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resolution<T> {
    /// Not written.
    Absent,
    /// Written, and resolved.
    Found(T, Span),
    /// Written, but did not resolve (the error has been reported).
    Poisoned,
}

impl<'p> Ctx<'p> {
    fn new(input: &'p Input<'p>) -> Ctx<'p> {
        Ctx {
            input,
            diags: Vec::new(),
            model: Model::default(),
            scopes: Vec::new(),
            items: input
                .files
                .iter()
                .map(|f| vec![None; f.items.len()])
                .collect(),
            refs: Vec::new(),
            score_decl: None,
            default_agent: Resolution::Absent,
            parts: Vec::new(),
            module_symbols: HashMap::new(),
            binding_edges: Vec::new(),
            unresolved_serves: Vec::new(),
            intents_with_accept: Default::default(),
            unknown_tier: Default::default(),
        }
    }

    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    pub fn add_symbol(&mut self, symbol: crate::model::Symbol) -> SymbolId {
        let id = SymbolId(self.model.symbols.len() as u32);
        self.model.symbols.push(symbol);
        id
    }

    pub fn add_ref(&mut self, span: Span, target: SymbolId) {
        self.refs.push(Reference { span, target });
    }

    pub fn decl(&self, item: ItemId) -> &Decl {
        let m = &self.model;
        match item {
            ItemId::Record(id) => &m.records[id.index()].decl,
            ItemId::Enum(id) => &m.enums[id.index()].decl,
            ItemId::Intent(id) => &m.intents[id.index()].decl,
            ItemId::Check(id) => &m.checks[id.index()].decl,
            ItemId::Contract(id) => &m.contracts[id.index()].decl,
            ItemId::Agent(id) => &m.agents[id.index()].decl,
            ItemId::Part(id) => &m.parts[id.index()].decl,
        }
    }

    /// The display name of a file, for messages.
    pub fn file_name(&self, file: FileId) -> &str {
        &self.input.sources.get(file).name
    }

    pub fn is_stdlib(&self, file: FileId) -> bool {
        self.input.sources.get(file).is_stdlib()
    }
}

/// Check a loaded program.
pub fn check(program: &crate::syntax::Program) -> Checked {
    let imports = program
        .imports
        .iter()
        .filter_map(|import| {
            let file = program.files.get(import.from.index())?;
            let ast::Item::Use(decl) = file.items.get(import.item)? else {
                return None;
            };
            let kind = match &import.kind {
                crate::syntax::ImportKind::Module { alias } => ImportViewKind::Module { alias },
                crate::syntax::ImportKind::Items(items) => ImportViewKind::Items(items),
            };
            Some(ImportView {
                from: import.from,
                decl,
                module: import.module,
                kind,
            })
        })
        .collect();
    let input = Input {
        sources: &program.sources,
        files: &program.files,
        imports,
        load_diagnostics: &program.diagnostics,
    };
    check_input(&input)
}

pub(crate) fn check_input(input: &Input<'_>) -> Checked {
    let mut cx = Ctx::new(input);
    resolve::declare(&mut cx);
    elaborate::elaborate(&mut cx);
    types::record_cycles(&mut cx);
    bindings::interfaces(&mut cx);
    bindings::bind(&mut cx);
    let reachability = order::order(&mut cx);
    boundaries_phase(&mut cx, &reachability);
    cx.model.reachability = reachability;
    agents::agents(&mut cx);
    coverage::coverage(&mut cx);
    resolve::unused_imports(&mut cx);
    finish(cx)
}

impl boundaries::Concurrency for crate::model::Reachability {
    fn may_run_together(&self, a: usize, b: usize) -> bool {
        crate::model::Reachability::may_run_together(self, a, b)
    }
}

/// The boundary proof (E0401–E0403, W0404) on every contract and part.
fn boundaries_phase(cx: &mut Ctx<'_>, reachability: &crate::model::Reachability) {
    use crate::model::{Glob, Origin};
    let own = |globs: &[Glob]| -> Vec<boundaries::GlobDecl> {
        globs
            .iter()
            .filter(|g| g.origin == Origin::Own)
            .map(|g| boundaries::GlobDecl {
                pattern: g.pattern.clone(),
                span: g.span,
            })
            .collect()
    };
    let contracts: Vec<boundaries::ContractGlobs> = cx
        .model
        .contracts
        .iter()
        .map(|c| boundaries::ContractGlobs {
            name: c.decl.name.clone(),
            owns: own(&c.owns),
            reads: own(&c.reads),
        })
        .collect();
    let parts: Vec<boundaries::PartGlobs> = cx
        .model
        .parts
        .iter()
        .map(|p| boundaries::PartGlobs {
            name: p.decl.name.clone(),
            name_span: p.decl.name_span,
            contracts: p.contracts.iter().map(|c| c.index()).collect(),
            owns: own(&p.owns),
            reads: own(&p.reads),
        })
        .collect();
    let diagnostics = boundaries::check_boundaries(&contracts, &parts, reachability);
    cx.diags.extend(diagnostics);
}

fn finish(mut cx: Ctx<'_>) -> Checked {
    mark_errors(&mut cx);
    let mut refs = std::mem::take(&mut cx.refs);
    refs.sort_by_key(|r| (r.span.file, r.span.start, r.span.end));
    refs.dedup();
    cx.model.references = refs;
    let mut diagnostics: Vec<Diagnostic> = cx.input.load_diagnostics.to_vec();
    diagnostics.append(&mut cx.diags);
    diagnostics::sort(&mut diagnostics);
    Checked {
        model: cx.model,
        diagnostics,
    }
}

/// Set `has_errors` on every item an error diagnostic points into.
fn mark_errors(cx: &mut Ctx<'_>) {
    // Declarations of one file never overlap: sort their spans and find the
    // one holding each error by binary search.
    let mut spans: Vec<(Span, Option<ItemId>)> = Vec::new();
    for (f, file) in cx.input.files.iter().enumerate() {
        for (i, item) in file.items.iter().enumerate() {
            spans.push((item.span(), cx.items[f][i]));
        }
    }
    if let Some((_, decl)) = cx.score_decl {
        spans.push((decl.span, None));
    }
    spans.sort_by_key(|(s, _)| (s.file, s.start));
    let mut score_has_errors = false;
    let errors: Vec<Span> = cx
        .diags
        .iter()
        .chain(cx.input.load_diagnostics)
        .filter(|d| d.is_error())
        .filter_map(Diagnostic::primary_span)
        .collect();
    for span in errors {
        let index = spans.partition_point(|(s, _)| (s.file, s.start) <= (span.file, span.start));
        let Some((item_span, item)) = index.checked_sub(1).map(|i| spans[i]) else {
            continue;
        };
        if item_span.file != span.file || span.start > item_span.end {
            continue;
        }
        match item {
            Some(item) => decl_mut(&mut cx.model, item).has_errors = true,
            None => {
                let is_score = cx.score_decl.is_some_and(|(_, d)| d.span == item_span);
                score_has_errors |= is_score;
            }
        }
    }
    if let Some(score) = &mut cx.model.score {
        score.decl.has_errors |= score_has_errors;
    }
}

fn decl_mut(m: &mut Model, item: ItemId) -> &mut Decl {
    match item {
        ItemId::Record(id) => &mut m.records[id.index()].decl,
        ItemId::Enum(id) => &mut m.enums[id.index()].decl,
        ItemId::Intent(id) => &mut m.intents[id.index()].decl,
        ItemId::Check(id) => &mut m.checks[id.index()].decl,
        ItemId::Contract(id) => &mut m.contracts[id.index()].decl,
        ItemId::Agent(id) => &mut m.agents[id.index()].decl,
        ItemId::Part(id) => &mut m.parts[id.index()].decl,
    }
}

/// A diagnostic for a second definition: primary on the later one.
pub(crate) fn duplicate(what: &str, first: Span, second: Span) -> Diagnostic {
    let (first, second) = if (second.file, second.start) < (first.file, first.start) {
        (second, first)
    } else {
        (first, second)
    };
    Diagnostic::new(Code::E0102, format!("{what} is defined twice"))
        .primary(second, "defined again here")
        .secondary(first, "first defined here")
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests {
    use super::testing::{BASE, check_one};
    use crate::diagnostics::{Code, render_human};
    use std::path::{Path, PathBuf};

    /// The codes this checker owns (the cases named after other codes are
    /// other phases' to keep).
    const OWN: &[Code] = &[
        Code::E0101,
        Code::E0102,
        Code::E0104,
        Code::E0105,
        Code::W0106,
        Code::E0201,
        Code::E0202,
        Code::E0203,
        Code::E0204,
        Code::E0205,
        Code::E0301,
        Code::E0501,
        Code::E0502,
        Code::E0503,
        Code::W0601,
        Code::W0602,
        Code::W0603,
    ];

    fn cases() -> Vec<(String, PathBuf)> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
        let mut cases = Vec::new();
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() && path.join("main.score").exists() {
                cases.push((name, path.join("main.score")));
            } else if name.ends_with(".score") {
                cases.push((name, path));
            }
        }
        cases.sort();
        cases
    }

    /// Every case named after one of this checker's codes yields exactly
    /// that code, and every `ok_` case checks clean. (The snapshot suite
    /// runs the same files through the binary; this keeps the checker's
    /// own promise testable on its own.) `SHOW_CASES=1` prints them.
    #[test]
    fn case_files_yield_their_code_only() {
        let show = std::env::var_os("SHOW_CASES").is_some();
        for (name, path) in cases() {
            let expected = OWN.iter().find(|c| name.starts_with(c.as_str()));
            if expected.is_none() && !name.starts_with("ok_") {
                continue;
            }
            let program = crate::syntax::load(&path, &|p| std::fs::read_to_string(p)).unwrap();
            let checked = super::check(&program);
            let rendered = render_human(&program.sources, &checked.diagnostics, false);
            if show {
                println!("=== {name}\n{rendered}");
            }
            let codes: Vec<Code> = checked.diagnostics.iter().map(|d| d.code).collect();
            match expected {
                Some(code) => assert_eq!(codes, vec![*code], "{name}:\n{rendered}"),
                None => assert!(codes.is_empty(), "{name}:\n{rendered}"),
            }
        }
    }

    /// The symbol at the `n`th occurrence of `needle` in the main file.
    fn symbol_at(
        outcome: &super::testing::Outcome,
        needle: &str,
        n: usize,
    ) -> Option<crate::model::Symbol> {
        let text = &outcome.sources.get(crate::source::FileId(0)).text;
        let offset = text.match_indices(needle).nth(n).unwrap().0 + 1;
        let model = &outcome.checked.model;
        model
            .definition_at(crate::source::FileId(0), offset)
            .map(|id| model.symbol(id).clone())
    }

    #[test]
    fn definitions_for_the_language_server() {
        use crate::model::SymbolKind;
        let outcome = check_one(BASE);
        let s = symbol_at(&outcome, "model.link_type", 0).unwrap();
        assert_eq!((s.kind, s.name.as_str()), (SymbolKind::Part, "model"));
        assert_eq!(s.detail, "part model by architect");
        // the output segment of the binding
        let s = symbol_at(&outcome, "link_type\n}\n\nsequence", 0).unwrap();
        assert_eq!(
            (s.kind, s.detail.as_str()),
            (SymbolKind::Output, "output link_type: Text")
        );
        let model = &outcome.checked.model;
        // the bound input's name leads to the contract's declaration
        let s = symbol_at(&outcome, "link_type = model", 0).unwrap();
        assert_eq!(s.kind, SymbolKind::Input);
        assert!(
            outcome
                .sources
                .text(s.full_span)
                .starts_with("link_type: Text")
        );
        // agents, contracts, intents, checks, sequence steps
        assert_eq!(
            symbol_at(&outcome, "model by", 0).unwrap().kind,
            SymbolKind::Part
        );
        assert_eq!(
            symbol_at(&outcome, "architect {", 0).unwrap().kind,
            SymbolKind::Agent
        );
        assert_eq!(
            symbol_at(&outcome, "Storage {\n  serves", 0).unwrap().kind,
            SymbolKind::Contract
        );
        assert_eq!(
            symbol_at(&outcome, "shorten\n  input", 0).unwrap().kind,
            SymbolKind::Intent
        );
        assert_eq!(
            symbol_at(&outcome, "cargo_test(package: \"store", 0)
                .unwrap()
                .kind,
            SymbolKind::Check
        );
        assert_eq!(
            symbol_at(&outcome, "package: \"store", 0).unwrap().kind,
            SymbolKind::Param
        );
        assert_eq!(
            symbol_at(&outcome, "store\n}", 0).unwrap().kind,
            SymbolKind::Part
        );
        assert_eq!(
            symbol_at(&outcome, "coder\n}", 0).unwrap().kind,
            SymbolKind::Agent
        );
        // references never overlap and are sorted
        let refs = outcome.checked.model.references();
        assert!(
            refs.windows(2)
                .all(|w| (w[0].span.file, w[0].span.end) <= (w[1].span.file, w[1].span.start))
        );
        let storage = model.contracts[0].decl.symbol;
        assert_eq!(model.references_to(storage).count(), 1);
    }

    #[test]
    fn items_with_errors_are_marked() {
        let text = BASE.replace(
            "  input link_type = model.link_type\n",
            "  input link_type = model.link_typo\n",
        );
        let outcome = check_one(&text);
        let model = &outcome.checked.model;
        assert!(outcome.checked.has_errors());
        assert!(model.parts[1].decl.has_errors);
        assert!(!model.parts[0].decl.has_errors);
        assert_eq!(model.parts[1].inputs[0].source, None);
        // a clean model has no marks
        let outcome = check_one(BASE);
        assert!(
            outcome
                .checked
                .model
                .parts
                .iter()
                .all(|p| !p.decl.has_errors)
        );
    }

    #[test]
    fn a_second_score_is_a_duplicate() {
        let outcome = check_one(&format!("{BASE}\nscore other {{ title \"x\" }}\n"));
        let d = outcome.single(Code::E0102);
        assert_eq!(d.message, "the `score` declaration is defined twice");
        assert_eq!(
            outcome.checked.model.score.as_ref().unwrap().decl.name,
            "shortener"
        );
    }

    /// Checking never panics: every score with one line removed, and every
    /// prefix of it cut at a line or word boundary, checks to some result.
    #[test]
    fn mutilated_scores_do_not_panic() {
        let rich = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases/ok_modules/main.score"),
        )
        .unwrap();
        for text in [BASE, rich.as_str()] {
            let lines: Vec<&str> = text.lines().collect();
            for skip in 0..lines.len() {
                let mut kept = lines.clone();
                kept.remove(skip);
                check_one(&kept.join("\n"));
            }
            for (at, _) in text.match_indices([' ', '\n', '.', '=']) {
                check_one(&text[..at]);
                check_one(&format!("{}{}", &text[..at], &text[at + 1..]));
            }
        }
    }

    #[test]
    fn the_base_score_is_clean() {
        let outcome = check_one(BASE);
        outcome.assert_clean();
        let model = &outcome.checked.model;
        assert_eq!(model.parts.len(), 2);
        assert_eq!(
            model.score.as_ref().unwrap().title.as_deref(),
            Some("URL shortener")
        );
    }
}

/// `cargo test --release --lib check::perf -- --ignored --nocapture`
#[cfg(test)]
#[path = "../../benches/support/generate.rs"]
// The benchmarks' generator (not this module's code): only `generate` is used.
#[allow(dead_code, clippy::all)]
mod generate;

#[cfg(test)]
mod perf {
    use super::generate;
    use std::time::Instant;

    #[test]
    #[ignore = "a timing, run in release"]
    fn ten_thousand_parts() {
        for parts in [1_000, 10_000] {
            let text = generate::generate(parts, 7);
            let start = Instant::now();
            let program =
                crate::syntax::load_source("big.score", text, std::path::Path::new("."), &|p| {
                    Err(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        p.display().to_string(),
                    ))
                });
            let loaded = start.elapsed();
            let checked = super::check(&program);
            let total = start.elapsed();
            let rendered = crate::diagnostics::render_human(
                &program.sources,
                &checked.diagnostics[..checked.diagnostics.len().min(5)],
                false,
            );
            println!(
                "{parts} parts: load {loaded:?}, check {:?}, {} diagnostics\n{rendered}",
                total - loaded,
                checked.diagnostics.len()
            );
            assert!(checked.diagnostics.is_empty());
        }
    }
}
