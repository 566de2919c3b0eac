//! Symbols and name resolution across modules (E0101, E0102, E0103 for
//! imported items that do not exist).
//!
//! Each file has one namespace for all its named declarations (types,
//! enums, intents, checks, contracts, agents, parts): a name means one thing
//! in a file, so `use m.{x}` imports exactly one item and a misplaced name
//! can be reported as "`store` is a part, not a contract". Item imports
//! (`use a.b.{x}`) add to that namespace; module imports (`use a.b`) add an
//! alias `b`, used as `b.Item`, in a namespace of their own. Built-in type
//! names (`Text`, `Int`, ...) cannot be redeclared. Imports are not
//! re-exported: `use m.{x}` finds only what `m` itself declares.

use super::suggest;
use super::{Ctx, ImportViewKind, ItemId, duplicate};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::{
    Agent, AgentId, Check, CheckId, Contract, ContractId, Decl, Enum, EnumId, Intent, IntentId,
    Level, PartId, Provider, Record, Score, Symbol, SymbolId, SymbolKind, Ty, TypeId,
};
use crate::source::{FileId, Origin, Span};
use crate::syntax::ast::{Ident, Item, Path, TypeExpr, TypeExprKind};
use std::collections::{HashMap, HashSet};

/// The names visible in one file.
#[derive(Debug, Default)]
pub(crate) struct Scope {
    /// Declarations and item imports.
    pub names: HashMap<String, Entry>,
    /// The file's own declarations: what other files may import.
    pub decls: HashMap<String, ItemId>,
    /// Module imports, by alias.
    pub modules: HashMap<String, ModuleEntry>,
    /// Module imports, by their full path as written (`std.types`): items
    /// may also be named `std.types.FileSet`.
    pub full_modules: HashMap<String, ModuleEntry>,
    /// Kinds of the declarations left out as duplicates (E0102), by name:
    /// a reference expecting one of them is not reported again.
    pub dropped: HashMap<String, Vec<SymbolKind>>,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    /// `None`: an import that did not resolve; names it brings are poisoned.
    pub target: Option<ItemId>,
    /// The declared name, or the imported name in the `use`.
    pub span: Span,
    pub imported: bool,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct ModuleEntry {
    /// `None`: the module did not resolve (E0103 reported by the loader).
    pub file: Option<FileId>,
    pub span: Span,
}

/// What kind of declaration a reference expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Want {
    /// A record or an enum.
    Type,
    Intent,
    Check,
    Contract,
    Agent,
    Part,
}

impl Want {
    pub fn noun(self) -> &'static str {
        match self {
            Want::Type => "type",
            Want::Intent => "intent",
            Want::Check => "check",
            Want::Contract => "contract",
            Want::Agent => "agent",
            Want::Part => "part",
        }
    }

    fn is(self, kind: SymbolKind) -> bool {
        matches!(
            (self, kind),
            (Want::Type, SymbolKind::Type | SymbolKind::Enum)
                | (Want::Intent, SymbolKind::Intent)
                | (Want::Check, SymbolKind::Check)
                | (Want::Contract, SymbolKind::Contract)
                | (Want::Agent, SymbolKind::Agent)
                | (Want::Part, SymbolKind::Part)
        )
    }

    fn accepts(self, item: ItemId) -> bool {
        matches!(
            (self, item),
            (Want::Type, ItemId::Record(_) | ItemId::Enum(_))
                | (Want::Intent, ItemId::Intent(_))
                | (Want::Check, ItemId::Check(_))
                | (Want::Contract, ItemId::Contract(_))
                | (Want::Agent, ItemId::Agent(_))
                | (Want::Part, ItemId::Part(_))
        )
    }
}

fn article(noun: &str) -> &'static str {
    if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn decl_of(file: FileId, name: &Ident, span: Span, doc: Option<String>, symbol: SymbolId) -> Decl {
    Decl {
        name: name.name.clone(),
        file,
        name_span: name.span,
        span,
        doc,
        symbol,
        has_errors: false,
    }
}

/// Declare every named item of every file, then process the imports.
pub(crate) fn declare(cx: &mut Ctx<'_>) {
    let input = cx.input;
    cx.scopes = input.files.iter().map(|_| Scope::default()).collect();
    for (f, file) in input.files.iter().enumerate() {
        let file_id = FileId(f as u32);
        for (i, item) in file.items.iter().enumerate() {
            if let Item::Score(decl) = item {
                declare_score(cx, file_id, decl);
                continue;
            }
            let Some(name) = item.name() else { continue };
            if matches!(item, Item::Type(_) | Item::Enum(_)) && Ty::primitive(&name.name).is_some()
            {
                cx.report(
                    Diagnostic::new(
                        Code::E0102,
                        format!("`{}` is a built-in type and cannot be redefined", name.name),
                    )
                    .primary(name.span, "redefines a built-in type")
                    .note(format!(
                        "the built-in types are {}",
                        suggest::list(Ty::PRIMITIVES, 10)
                    ))
                    .help("choose another name"),
                );
                continue;
            }
            if let Some(&previous) = cx.scopes[f].decls.get(&name.name) {
                let first = cx.decl(previous).name_span;
                let mut diag = duplicate(&format!("the name `{}`", name.name), first, name.span);
                let previous_kind = previous.kind().noun();
                if previous_kind != item.keyword() {
                    diag = diag.note(format!(
                        "{} {} and {} {} cannot share a name: a file has one namespace \
                         for all its declarations",
                        article(previous_kind),
                        previous_kind,
                        article(item.keyword()),
                        item.keyword()
                    ));
                }
                cx.report(diag.help("rename one of them"));
                if let Some(kind) = symbol_kind(item) {
                    cx.scopes[f]
                        .dropped
                        .entry(name.name.clone())
                        .or_default()
                        .push(kind);
                }
                continue;
            }
            let id = declare_item(cx, file_id, item, name);
            cx.items[f][i] = Some(id);
            cx.scopes[f].decls.insert(name.name.clone(), id);
            cx.scopes[f].names.insert(
                name.name.clone(),
                Entry {
                    target: Some(id),
                    span: name.span,
                    imported: false,
                },
            );
        }
    }
    imports(cx);
}

fn declare_score<'p>(cx: &mut Ctx<'p>, file: FileId, decl: &'p crate::syntax::ast::ScoreDecl) {
    if let Some((_, first)) = cx.score_decl {
        cx.report(
            duplicate("the `score` declaration", first.name.span, decl.name.span)
                .note("a program has at most one `score`, across all its files")
                .help("merge the two, or move the second one's settings into the first"),
        );
        return;
    }
    let symbol = cx.add_symbol(Symbol {
        kind: SymbolKind::Score,
        name: decl.name.name.clone(),
        span: decl.name.span,
        full_span: decl.span,
        doc: decl.doc.as_ref().map(|d| d.text.clone()),
        detail: format!("score {}", decl.name.name),
        parent: None,
    });
    cx.score_decl = Some((file, decl));
    cx.model.score = Some(Score {
        decl: decl_of(
            file,
            &decl.name,
            decl.span,
            decl.doc.as_ref().map(|d| d.text.clone()),
            symbol,
        ),
        title: None,
        workspace: None,
        concurrency: None,
        default_agent: None,
        budget: Default::default(),
        inputs: Vec::new(),
    });
}

fn symbol_kind(item: &Item) -> Option<SymbolKind> {
    Some(match item {
        Item::Type(_) => SymbolKind::Type,
        Item::Enum(_) => SymbolKind::Enum,
        Item::Intent(_) => SymbolKind::Intent,
        Item::Check(_) => SymbolKind::Check,
        Item::Contract(_) => SymbolKind::Contract,
        Item::Agent(_) => SymbolKind::Agent,
        Item::Part(_) => SymbolKind::Part,
        Item::Score(_) | Item::Use(_) | Item::Sequence(_) | Item::Error(_) => return None,
    })
}

/// Create the item's model entry (its contents are filled in by `lower`).
fn declare_item(cx: &mut Ctx<'_>, file: FileId, item: &Item, name: &Ident) -> ItemId {
    let (kind, detail) = match item {
        Item::Type(_) => (SymbolKind::Type, format!("type {}", name.name)),
        Item::Enum(d) => {
            let variants: Vec<&str> = d.variants.iter().map(|v| v.name.name.as_str()).collect();
            (
                SymbolKind::Enum,
                format!("enum {} {{ {} }}", name.name, variants.join(", ")),
            )
        }
        Item::Intent(d) => (
            SymbolKind::Intent,
            format!("intent {} \"{}\"", name.name, d.statement.value),
        ),
        Item::Check(d) => {
            let params: Vec<String> = d
                .params
                .iter()
                .map(|p| format!("{}: {}", p.name.name, p.ty.display()))
                .collect();
            (
                SymbolKind::Check,
                format!("check {}({})", name.name, params.join(", ")),
            )
        }
        Item::Contract(_) => (SymbolKind::Contract, format!("contract {}", name.name)),
        Item::Agent(d) => (
            SymbolKind::Agent,
            format!("agent {}: {}", name.name, d.provider.name),
        ),
        Item::Part(d) => {
            let mut detail = format!("part {}", name.name);
            if !d.contracts.is_empty() {
                let contracts: Vec<String> = d.contracts.iter().map(Path::dotted).collect();
                detail.push_str(&format!(": {}", contracts.join(" + ")));
            }
            if let Some(agent) = &d.agent {
                detail.push_str(&format!(" by {}", agent.dotted()));
            }
            (SymbolKind::Part, detail)
        }
        Item::Score(_) | Item::Use(_) | Item::Sequence(_) | Item::Error(_) => {
            unreachable!("only named declarations are declared")
        }
    };
    let doc = item.doc().map(|d| d.text.clone());
    let symbol = cx.add_symbol(Symbol {
        kind,
        name: name.name.clone(),
        span: name.span,
        full_span: item.span(),
        doc: doc.clone(),
        detail,
        parent: None,
    });
    let decl = decl_of(file, name, item.span(), doc, symbol);
    let m = &mut cx.model;
    match item {
        Item::Type(_) => {
            m.records.push(Record {
                decl,
                fields: Vec::new(),
            });
            ItemId::Record(TypeId(m.records.len() as u32 - 1))
        }
        Item::Enum(_) => {
            m.enums.push(Enum {
                decl,
                variants: Vec::new(),
            });
            ItemId::Enum(EnumId(m.enums.len() as u32 - 1))
        }
        Item::Intent(d) => {
            m.intents.push(Intent {
                decl,
                statement: d.statement.value.clone(),
                accepts: Vec::new(),
                priority: None,
            });
            ItemId::Intent(IntentId(m.intents.len() as u32 - 1))
        }
        Item::Check(_) => {
            m.checks.push(Check {
                decl,
                params: Vec::new(),
                run: String::new(),
                timeout: None,
            });
            ItemId::Check(CheckId(m.checks.len() as u32 - 1))
        }
        Item::Contract(_) => {
            m.contracts.push(Contract {
                decl,
                inputs: Vec::new(),
                outputs: Vec::new(),
                owns: Vec::new(),
                reads: Vec::new(),
                ensures: Vec::new(),
            });
            ItemId::Contract(ContractId(m.contracts.len() as u32 - 1))
        }
        Item::Agent(d) => {
            m.agents.push(Agent {
                decl,
                provider: Provider::Unknown(d.provider.name.clone()),
                tier: Level::Routine,
                tier_span: None,
                concurrency: None,
                price_in: None,
                price_out: None,
                sandbox: Default::default(),
            });
            ItemId::Agent(AgentId(m.agents.len() as u32 - 1))
        }
        Item::Part(_) => {
            m.parts.push(super::elaborate::new_part(decl));
            ItemId::Part(PartId(m.parts.len() as u32 - 1))
        }
        Item::Score(_) | Item::Use(_) | Item::Sequence(_) | Item::Error(_) => {
            unreachable!("only named declarations are declared")
        }
    }
}

fn module_symbol(cx: &mut Ctx<'_>, module: FileId, dotted: &str) -> SymbolId {
    if let Some(&symbol) = cx.module_symbols.get(&module) {
        return symbol;
    }
    let start = Span::new(module, 0, 0);
    let symbol = cx.add_symbol(Symbol {
        kind: SymbolKind::Module,
        name: dotted.to_string(),
        span: start,
        full_span: cx.input.sources.get(module).span(),
        doc: None,
        detail: format!("module {dotted}"),
        parent: None,
    });
    cx.module_symbols.insert(module, symbol);
    symbol
}

fn imports(cx: &mut Ctx<'_>) {
    let input = cx.input;
    // The loader may already have reported imported items it could not find.
    let reported: HashSet<Span> = input
        .load_diagnostics
        .iter()
        .filter(|d| d.code == Code::E0103)
        .filter_map(|d| d.primary_span())
        .collect();
    for import in &input.imports {
        let from = import.from.index();
        let segments = &import.decl.path.segments;
        // `use a.b.c` importing the item `c` of `a.b`: the module is `a.b`.
        let item_form = match &import.kind {
            ImportViewKind::Items(items) => {
                import.decl.items.is_none()
                    && items
                        .iter()
                        .any(|i| i.span == segments[segments.len() - 1].span)
            }
            ImportViewKind::Module { .. } => false,
        };
        let module_segments = if item_form && segments.len() > 1 {
            &segments[..segments.len() - 1]
        } else {
            &segments[..]
        };
        let dotted: Vec<&str> = module_segments.iter().map(|s| s.name.as_str()).collect();
        let dotted = dotted.join(".");
        if let (Some(module), Some(last)) = (import.module, module_segments.last()) {
            let symbol = module_symbol(cx, module, &dotted);
            cx.add_ref(last.span, symbol);
        }
        match &import.kind {
            ImportViewKind::Module { alias } => {
                if let Some(previous) = cx.scopes[from].modules.get(&alias.name) {
                    let first = previous.span;
                    cx.report(
                        duplicate(
                            &format!("the module name `{}`", alias.name),
                            first,
                            alias.span,
                        )
                        .note(format!(
                            "after two module imports ending in `{0}`, `{0}.NAME` would be \
                             ambiguous",
                            alias.name
                        ))
                        .help("import the items you need instead: `use a.b.{x, y}`"),
                    );
                    continue;
                }
                let entry = ModuleEntry {
                    file: import.module,
                    span: alias.span,
                };
                cx.scopes[from].modules.insert(alias.name.clone(), entry);
                cx.scopes[from].full_modules.insert(dotted.clone(), entry);
            }
            ImportViewKind::Items(names) => {
                for name in names.iter() {
                    let target = match import.module {
                        None => None,
                        Some(module) => match cx.scopes[module.index()].decls.get(&name.name) {
                            Some(&id) => {
                                let symbol = cx.decl(id).symbol;
                                cx.add_ref(name.span, symbol);
                                Some(id)
                            }
                            None => {
                                // A module with a declaration that did not
                                // parse may declare the name there; its
                                // syntax error is reported already.
                                let broken = input.files[module.index()]
                                    .items
                                    .iter()
                                    .any(|i| matches!(i, Item::Error(_)));
                                if !broken && !reported.contains(&name.span) {
                                    let diag = missing_import(cx, module, &dotted, name);
                                    cx.report(diag);
                                }
                                None
                            }
                        },
                    };
                    add_import(cx, from, name, target);
                }
            }
        }
    }
}

/// W0106: an import that nothing in its file refers to. Run last, when
/// every reference of every phase is known; a file with an error is left
/// alone (a declaration that failed may be where the import is used).
pub(crate) fn unused_imports(cx: &mut Ctx<'_>) {
    let input = cx.input;
    let erroneous: HashSet<FileId> = cx
        .diags
        .iter()
        .chain(input.load_diagnostics)
        .filter(|d| d.is_error())
        .filter_map(|d| d.primary_span().map(|s| s.file))
        .collect();
    // Each file's `use` spans (a file has few; a program may have many).
    let mut uses: HashMap<FileId, Vec<Span>> = HashMap::new();
    for import in &input.imports {
        uses.entry(import.decl.span.file)
            .or_default()
            .push(import.decl.span);
    }
    let inside_use = |span: Span| {
        uses.get(&span.file).is_some_and(|spans| {
            spans
                .iter()
                .any(|u| u.start <= span.start && span.end <= u.end)
        })
    };
    // Which symbols each file refers to, outside its `use` lines.
    let used: HashSet<(FileId, SymbolId)> = cx
        .refs
        .iter()
        .filter(|r| !inside_use(r.span))
        .map(|r| (r.span.file, r.target))
        .collect();
    let mut found = Vec::new();
    for import in &input.imports {
        if erroneous.contains(&import.from) {
            continue;
        }
        let Some(module) = import.module else {
            continue;
        };
        let remove = "remove this `use`";
        match &import.kind {
            ImportViewKind::Module { alias } => {
                let Some(&symbol) = cx.module_symbols.get(&module) else {
                    continue;
                };
                if !used.contains(&(import.from, symbol)) {
                    let dotted = import.decl.path.dotted();
                    found.push(
                        Diagnostic::new(
                            Code::W0106,
                            format!("the module `{dotted}` is imported but never used"),
                        )
                        .primary(import.decl.path.span, "never used")
                        .note(format!(
                            "its items would be written `{}.NAME` in this file",
                            alias.name
                        ))
                        .help(remove),
                    );
                }
            }
            ImportViewKind::Items(names) => {
                let unused: Vec<&Ident> = names
                    .iter()
                    .filter(|name| {
                        let Some(entry) = cx.scopes[import.from.index()].names.get(&name.name)
                        else {
                            return false;
                        };
                        // Only the import that holds the name (not a
                        // duplicate, E0102), and only one that resolved.
                        let Some(target) = entry.target.filter(|_| entry.span == name.span) else {
                            return false;
                        };
                        !used.contains(&(import.from, cx.decl(target).symbol))
                    })
                    .collect();
                let all = unused.len() == names.len();
                for name in unused {
                    found.push(
                        Diagnostic::new(
                            Code::W0106,
                            format!("`{}` is imported but never used", name.name),
                        )
                        .primary(name.span, "never used")
                        .help(if all && names.len() == 1 {
                            remove.to_string()
                        } else {
                            format!("remove `{}` from this `use`", name.name)
                        }),
                    );
                }
            }
        }
    }
    cx.diags.extend(found);
}

fn missing_import(cx: &Ctx<'_>, module: FileId, dotted: &str, name: &Ident) -> Diagnostic {
    let scope = &cx.scopes[module.index()];
    let mut diag = Diagnostic::new(
        Code::E0103,
        format!("module `{dotted}` has no item `{}`", name.name),
    )
    .primary(name.span, format!("not declared in `{dotted}`"));
    if scope.names.get(&name.name).is_some_and(|e| e.imported) {
        return diag
            .note(format!(
                "`{}` is imported into `{dotted}`, not declared there; imports are not \
             re-exported",
                name.name
            ))
            .help("import it from the module that declares it");
    }
    if let Some(close) = suggest::best_match(&name.name, scope.decls.keys().map(String::as_str)) {
        diag = diag.help(format!("did you mean `{close}`?"));
    } else if !scope.decls.is_empty() {
        let mut names: Vec<&str> = scope.decls.keys().map(String::as_str).collect();
        names.sort_unstable();
        diag = diag.note(format!("`{dotted}` declares {}", suggest::list(&names, 8)));
    }
    diag
}

fn add_import(cx: &mut Ctx<'_>, file: usize, name: &Ident, target: Option<ItemId>) {
    if let Some(existing) = cx.scopes[file].names.get(&name.name).copied() {
        let what = if existing.imported {
            if existing.target == target && target.is_some() {
                format!("`{}` is imported twice", name.name)
            } else {
                format!("two imports are both named `{}`", name.name)
            }
        } else {
            format!("`{}` is both imported and declared in this file", name.name)
        };
        let (first, second) = if existing.span.start <= name.span.start {
            (existing.span, name.span)
        } else {
            (name.span, existing.span)
        };
        cx.report(
            Diagnostic::new(Code::E0102, what)
                .primary(second, "defined again here")
                .secondary(first, "first defined here")
                .help(if existing.imported {
                    "remove one of the imports, or import a module (`use a.b`) and write `b.NAME`"
                } else {
                    "rename the declaration, or import the module (`use a.b`) and write `b.NAME`"
                }),
        );
        // The declaration (or the first import) keeps the name.
        return;
    }
    cx.scopes[file].names.insert(
        name.name.clone(),
        Entry {
            target,
            span: name.span,
            imported: true,
        },
    );
}

/// Resolve a name that must denote a declaration of the wanted kind. On
/// failure the error is reported (or, for a poisoned import, deliberately
/// not) and `None` returned.
pub(crate) fn resolve(cx: &mut Ctx<'_>, file: FileId, path: &Path, want: Want) -> Option<ItemId> {
    resolve_with(cx, file, path, want).ok().flatten()
}

/// Like [`resolve`], but on an unknown name returns the suggestion made.
pub(crate) fn resolve_with(
    cx: &mut Ctx<'_>,
    file: FileId,
    path: &Path,
    want: Want,
) -> Result<Option<ItemId>, Option<ItemId>> {
    match path.segments.as_slice() {
        [name] => {
            let entry = cx.scopes[file.index()].names.get(&name.name).copied();
            match entry {
                Some(Entry { target: None, .. }) => Ok(None),
                Some(Entry {
                    target: Some(id), ..
                }) => {
                    if want.accepts(id) {
                        let symbol = cx.decl(id).symbol;
                        cx.add_ref(name.span, symbol);
                        Ok(Some(id))
                    } else {
                        let dropped = cx.scopes[file.index()].dropped.get(&name.name);
                        if !dropped.is_some_and(|kinds| kinds.iter().any(|k| want.is(*k))) {
                            let diag = wrong_kind(cx, file, name, id, want, None);
                            cx.report(diag);
                        }
                        Ok(None)
                    }
                }
                None => {
                    if broken_declares(cx, file, &name.name) {
                        return Ok(None);
                    }
                    let (diag, suggestion) = unknown(cx, file, name, want);
                    cx.report(diag);
                    Err(suggestion)
                }
            }
        }
        [module, name] => {
            let entry = cx.scopes[file.index()].modules.get(&module.name).copied();
            let Some(entry) = entry else {
                let diag = unknown_module(cx, file, module);
                cx.report(diag);
                return Ok(None);
            };
            in_module(cx, entry, module, name, want)
        }
        [init @ .., name]
            if {
                let dotted: Vec<&str> = init.iter().map(|s| s.name.as_str()).collect();
                cx.scopes[file.index()]
                    .full_modules
                    .contains_key(&dotted.join("."))
            } =>
        {
            let dotted: Vec<&str> = init.iter().map(|s| s.name.as_str()).collect();
            let entry = cx.scopes[file.index()].full_modules[&dotted.join(".")];
            in_module(cx, entry, &init[init.len() - 1], name, want)
        }
        _ => {
            let (init, last) = path.segments.split_at(path.segments.len() - 1);
            let module: Vec<&str> = init.iter().map(|s| s.name.as_str()).collect();
            let alias = module.last().copied().unwrap_or_default();
            cx.report(
                Diagnostic::new(
                    Code::E0101,
                    format!("`{}` is not a name in scope", path.dotted()),
                )
                .primary(
                    path.span,
                    format!("expected {} {}", article(want.noun()), want.noun()),
                )
                .help(format!(
                    "import the module with `use {}` and write `{alias}.{}`, or import the \
                     item with `use {}.{{{}}}`",
                    module.join("."),
                    last[0].name,
                    module.join("."),
                    last[0].name
                )),
            );
            Ok(None)
        }
    }
}

/// Whether a declaration of `file` that did not parse (its E0001/E0002 is
/// reported) mentions `name`: then it probably declares it, and "unknown
/// name" would only repeat the syntax error.
fn broken_declares(cx: &Ctx<'_>, file: FileId, name: &str) -> bool {
    cx.input.files[file.index()].items.iter().any(|item| {
        let Item::Error(span) = item else {
            return false;
        };
        let text = cx.input.sources.text(*span);
        let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        text.match_indices(name).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + name.len()..].chars().next();
            !before.is_some_and(is_word) && !after.is_some_and(is_word)
        })
    })
}

/// Resolve `name` among the declarations of an imported module; `module`
/// is the path's last module segment, as written.
fn in_module(
    cx: &mut Ctx<'_>,
    entry: ModuleEntry,
    module: &Ident,
    name: &Ident,
    want: Want,
) -> Result<Option<ItemId>, Option<ItemId>> {
    let Some(module_file) = entry.file else {
        return Ok(None);
    };
    if let Some(&symbol) = cx.module_symbols.get(&module_file) {
        cx.add_ref(module.span, symbol);
    }
    let found = cx.scopes[module_file.index()]
        .decls
        .get(&name.name)
        .copied();
    match found {
        Some(id) if want.accepts(id) => {
            let symbol = cx.decl(id).symbol;
            cx.add_ref(name.span, symbol);
            Ok(Some(id))
        }
        Some(id) => {
            let diag = wrong_kind(cx, module_file, name, id, want, Some(&module.name));
            cx.report(diag);
            Ok(None)
        }
        None if broken_declares(cx, module_file, &name.name) => Ok(None),
        None => {
            let candidates = names_of_kind(cx, module_file, want, false);
            let suggestion = suggest::best_match(&name.name, candidates.iter().map(|(n, _)| *n))
                .map(str::to_string);
            let mut diag = Diagnostic::new(
                Code::E0101,
                format!(
                    "module `{}` has no {} `{}`",
                    module.name,
                    want.noun(),
                    name.name
                ),
            )
            .primary(name.span, format!("not declared in `{}`", module.name));
            let mut suggested = None;
            if let Some(close) = suggestion {
                suggested = candidates.iter().find(|(n, _)| **n == close).map(|c| c.1);
                diag = diag.help(format!("did you mean `{}.{close}`?", module.name));
            }
            cx.report(diag);
            Err(suggested)
        }
    }
}

/// The names of declarations of the wanted kind visible in a file (with
/// `scope`: declared or imported), or only declared in it.
fn names_of_kind<'c>(
    cx: &'c Ctx<'_>,
    file: FileId,
    want: Want,
    scope: bool,
) -> Vec<(&'c str, ItemId)> {
    let s = &cx.scopes[file.index()];
    let mut names: Vec<(&str, ItemId)> = if scope {
        s.names
            .iter()
            .filter_map(|(n, e)| {
                e.target
                    .filter(|t| want.accepts(*t))
                    .map(|t| (n.as_str(), t))
            })
            .collect()
    } else {
        s.decls
            .iter()
            .filter(|(_, t)| want.accepts(**t))
            .map(|(n, t)| (n.as_str(), *t))
            .collect()
    };
    names.sort_unstable_by_key(|(n, _)| *n);
    names
}

fn wrong_kind(
    cx: &Ctx<'_>,
    file: FileId,
    name: &Ident,
    found: ItemId,
    want: Want,
    module: Option<&str>,
) -> Diagnostic {
    let found_noun = found.kind().noun();
    let qualified = match module {
        Some(m) => format!("{m}.{}", name.name),
        None => name.name.clone(),
    };
    let mut diag = Diagnostic::new(
        Code::E0101,
        format!(
            "`{qualified}` is {} {found_noun}, not {} {}",
            article(found_noun),
            article(want.noun()),
            want.noun()
        ),
    )
    .primary(
        name.span,
        format!("expected {} {}", article(want.noun()), want.noun()),
    )
    .secondary(
        cx.decl(found).name_span,
        format!("`{}` is declared here", name.name),
    );
    if module.is_none() {
        let candidates = names_of_kind(cx, file, want, true);
        if let Some(close) = suggest::best_match(&name.name, candidates.iter().map(|(n, _)| *n)) {
            diag = diag.help(format!("did you mean the {} `{close}`?", want.noun()));
        }
    }
    diag
}

/// E0101 for a name not in scope; also returns the item suggested.
fn unknown(cx: &Ctx<'_>, file: FileId, name: &Ident, want: Want) -> (Diagnostic, Option<ItemId>) {
    let mut candidates: Vec<(&str, Option<ItemId>)> = names_of_kind(cx, file, want, true)
        .into_iter()
        .map(|(n, id)| (n, Some(id)))
        .collect();
    if want == Want::Type {
        candidates.extend(Ty::PRIMITIVES.iter().map(|p| (*p, None)));
    }
    let mut diag = Diagnostic::new(
        Code::E0101,
        format!("unknown {} `{}`", want.noun(), name.name),
    )
    .primary(
        name.span,
        format!("no {} named `{}` in this file", want.noun(), name.name),
    );
    if let Some(close) = suggest::best_match(&name.name, candidates.iter().map(|(n, _)| *n)) {
        let suggested = candidates
            .iter()
            .find(|(n, _)| *n == close)
            .and_then(|c| c.1);
        if let Some(id) = suggested {
            let decl = cx.decl(id);
            if decl.file != file {
                diag = diag.secondary(decl.name_span, format!("`{close}` is declared here"));
            }
        }
        return (diag.help(format!("did you mean `{close}`?")), suggested);
    }
    // Declared in another loaded file, but not imported here.
    if let Some(elsewhere) = declared_elsewhere(cx, file, &name.name, want) {
        let decl = cx.decl(elsewhere);
        let module = module_path(cx, file, decl.file);
        diag = diag.secondary(
            decl.name_span,
            format!(
                "{} {} `{}` is declared here",
                article(want.noun()),
                want.noun(),
                name.name
            ),
        );
        let help = match module {
            Some(module) => format!("import it: `use {module}.{{{}}}`", name.name),
            None => format!("import it from `{}` with `use`", cx.file_name(decl.file)),
        };
        return (diag.help(help), None);
    }
    if cx.scopes[file.index()].modules.contains_key(&name.name) {
        diag = diag.note(format!(
            "`{0}` is an imported module; name one of its items as `{0}.NAME`",
            name.name
        ));
    }
    (diag, None)
}

fn declared_elsewhere(cx: &Ctx<'_>, file: FileId, name: &str, want: Want) -> Option<ItemId> {
    cx.scopes
        .iter()
        .enumerate()
        .filter(|(f, _)| *f != file.index())
        .find_map(|(_, s)| s.decls.get(name).copied().filter(|id| want.accepts(*id)))
}

/// How `from` would import the module `to`: `std.checks`, or a path
/// relative to `from`'s directory (`billing.types`).
fn module_path(cx: &Ctx<'_>, from: FileId, to: FileId) -> Option<String> {
    let target = cx.input.sources.get(to);
    match &target.origin {
        Origin::Stdlib(name) => Some(name.clone()),
        Origin::Disk(path) => {
            let Origin::Disk(from_path) = &cx.input.sources.get(from).origin else {
                return None;
            };
            let base = from_path.parent()?;
            let relative = path.strip_prefix(base).ok()?.with_extension("");
            let parts: Option<Vec<&str>> = relative
                .components()
                .map(|c| c.as_os_str().to_str())
                .collect();
            Some(parts?.join("."))
        }
        // Unsaved buffers and tests: the display name is the path.
        Origin::Memory => {
            let name = target.name.strip_suffix(".score")?;
            Some(name.replace('/', "."))
        }
    }
}

fn unknown_module(cx: &Ctx<'_>, file: FileId, module: &Ident) -> Diagnostic {
    let scope = &cx.scopes[file.index()];
    if let Some(Entry {
        target: Some(id), ..
    }) = scope.names.get(&module.name)
    {
        let noun = id.kind().noun();
        return Diagnostic::new(
            Code::E0101,
            format!(
                "`{}` is {} {noun}, not a module",
                module.name,
                article(noun)
            ),
        )
        .primary(module.span, "expected an imported module")
        .secondary(
            cx.decl(*id).name_span,
            format!("`{}` is declared here", module.name),
        );
    }
    let mut diag = Diagnostic::new(Code::E0101, format!("unknown module `{}`", module.name))
        .primary(module.span, "no module imported under this name");
    if let Some(close) = suggest::best_match(&module.name, scope.modules.keys().map(String::as_str))
    {
        diag = diag.help(format!("did you mean `{close}`?"));
    } else {
        diag = diag.help(format!(
            "import it first, for example `use std.{}`",
            module.name
        ));
    }
    diag
}

/// Resolve a type as written.
pub(crate) fn resolve_type(cx: &mut Ctx<'_>, file: FileId, ty: &TypeExpr) -> Ty {
    match &ty.kind {
        TypeExprKind::Named(path) => {
            if let [one] = path.segments.as_slice()
                && let Some(primitive) = Ty::primitive(&one.name)
            {
                return primitive;
            }
            match resolve(cx, file, path, Want::Type) {
                Some(ItemId::Record(id)) => Ty::Record(id),
                Some(ItemId::Enum(id)) => Ty::Enum(id),
                _ => Ty::Error,
            }
        }
        TypeExprKind::Optional(inner) => match resolve_type(cx, file, inner) {
            // `T??` means no more than `T?`.
            optional @ Ty::Optional(_) => optional,
            inner => Ty::Optional(Box::new(inner)),
        },
        TypeExprKind::List(inner) => Ty::List(Box::new(resolve_type(cx, file, inner))),
        TypeExprKind::Map(key, value) => {
            let key_ty = resolve_type(cx, file, key);
            if !key_ty.has_error() && key_ty != Ty::Text {
                let shown = cx.model.display_ty(&key_ty);
                cx.report(
                    Diagnostic::new(
                        Code::E0201,
                        format!("map keys must be `Text`, found `{shown}`"),
                    )
                    .primary(key.span, "expected `Text`")
                    .note("maps cross boundaries as JSON objects, whose keys are strings")
                    .help(format!(
                        "write `{{Text: {}}}`, or a list of records",
                        value.display()
                    )),
                );
            }
            Ty::Map(Box::new(resolve_type(cx, file, value)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{base_with, check_files, check_one};
    use crate::diagnostics::Code;

    #[test]
    fn unknown_agent_with_a_close_name_suggests_it() {
        let outcome = check_one(&base_with(
            "part model by architect",
            "part model by architec",
        ));
        let d = outcome.single(Code::E0101);
        assert_eq!(d.message, "unknown agent `architec`");
        assert_eq!(d.help.as_deref(), Some("did you mean `architect`?"));
        assert_eq!(outcome.label_texts(d), vec!["architec"]);
    }

    #[test]
    fn far_names_get_no_suggestion() {
        let outcome = check_one(&base_with(
            "part model by architect",
            "part model by deployer",
        ));
        let d = outcome.single(Code::E0101);
        assert_eq!(d.help, None, "{}", outcome.render());
    }

    #[test]
    fn a_name_of_the_wrong_kind_says_what_it_is() {
        let outcome = check_one(&base_with("part store: Storage", "part store: model"));
        let d = outcome.single(Code::E0101);
        assert_eq!(d.message, "`model` is a part, not a contract");
        assert_eq!(outcome.label_texts(d), vec!["model", "model"]);
    }

    #[test]
    fn unknown_types_suggest_primitives() {
        let outcome = check_one(&base_with("slug: Text", "slug: text"));
        let d = outcome.single(Code::E0101);
        assert_eq!(d.message, "unknown type `text`");
        assert_eq!(d.help.as_deref(), Some("did you mean `Text`?"));
    }

    #[test]
    fn duplicates_point_at_both() {
        let outcome = check_one(&base_with(
            "agent coder: command {",
            "agent model: mock {}\nagent coder: command {",
        ));
        let d = outcome.single(Code::E0102);
        assert_eq!(outcome.label_texts(d), vec!["model", "model"]);
        assert!(d.labels[0].primary && d.labels[0].span.start > d.labels[1].span.start);
        assert!(d.notes[0].contains("one namespace"), "{}", outcome.render());
    }

    #[test]
    fn builtin_types_cannot_be_redeclared() {
        let outcome = check_one(&format!(
            "{}\ntype Text {{ a: Int }}\n",
            super::super::testing::BASE
        ));
        outcome.single(Code::E0102);
    }

    #[test]
    fn map_keys_must_be_text() {
        let outcome = check_one(&base_with("tags: [Text]", "tags: {Int: Text}"));
        let d = outcome.single(Code::E0201);
        assert_eq!(d.message, "map keys must be `Text`, found `Int`");
    }

    #[test]
    fn module_imports_and_qualified_names() {
        let main = base_with(
            "contract Storage {",
            "use billing.types\ncontract Storage {",
        )
        .replace("input link_type: Text", "input link_type: types.Money");
        let outcome = check_files(&[
            (
                "main",
                &main.replace("output link_type: Text", "output link_type: types.Money"),
            ),
            ("billing.types", "/// Money.\ntype Money { cents: Int }\n"),
        ]);
        outcome.assert_clean();
        let model = &outcome.checked.model;
        let money = model
            .records
            .iter()
            .find(|r| r.decl.name == "Money")
            .unwrap();
        // `types.Money` twice: each `Money` refers to the record, each `types` to the module
        let refs = model.references_to(money.decl.symbol).count();
        assert_eq!(refs, 2);

        let typo = check_files(&[
            (
                "main",
                &main.replace("output link_type: Text", "output link_type: types.Mony"),
            ),
            ("billing.types", "type Money { cents: Int }\n"),
        ]);
        let d = typo.single(Code::E0101);
        assert_eq!(d.message, "module `types` has no type `Mony`");
        assert_eq!(d.help.as_deref(), Some("did you mean `types.Money`?"));
    }

    #[test]
    fn imports_nothing_uses_are_warned() {
        let types =
            "/// Money.\ntype Money { cents: Int }\n/// A price.\ntype Price { cents: Int }\n";
        // `Price` and the module `std.types` are never used; `Money` is.
        let main = base_with(
            "contract Storage {",
            "use billing.types.{Money, Price}\nuse std.types\ncontract Storage {",
        )
        .replace("input link_type: Text", "input link_type: Money")
        .replace("output link_type: Text", "output link_type: Money");
        let outcome = check_files(&[("main", &main), ("billing.types", types)]);
        let warnings: Vec<(&str, Option<&str>)> = outcome
            .checked
            .diagnostics
            .iter()
            .map(|d| {
                assert_eq!(d.code, Code::W0106, "{d:?}");
                (d.message.as_str(), d.help.as_deref())
            })
            .collect();
        assert_eq!(
            warnings,
            vec![
                (
                    "`Price` is imported but never used",
                    Some("remove `Price` from this `use`")
                ),
                (
                    "the module `std.types` is imported but never used",
                    Some("remove this `use`")
                ),
            ]
        );
        // Used through the module: no warning; an item imported by its path
        // and used: none either.
        let main = base_with(
            "contract Storage {",
            "use billing.types\nuse std.agents.claude_code\ncontract Storage {",
        )
        .replace("input link_type: Text", "input link_type: types.Money")
        .replace("output link_type: Text", "output link_type: types.Money")
        .replace("default_agent coder", "default_agent claude_code");
        check_files(&[("main", &main), ("billing.types", types)]).assert_clean();
        // A file with an error gets no such warning.
        let broken = base_with("contract Storage {", "use std.types\ncontract Storage {").replace(
            "serves shorten\n  complexity",
            "serves shortn\n  complexity",
        );
        let outcome = check_files(&[("main", &broken)]);
        assert!(
            outcome
                .checked
                .diagnostics
                .iter()
                .all(|d| d.code != Code::W0106),
            "{:?}",
            outcome.checked.diagnostics
        );
    }

    #[test]
    fn an_item_imported_by_its_path() {
        let main = base_with(
            "contract Storage {",
            "use std.agents.claude_code\ncontract Storage {",
        )
        .replace("part model by architect", "part model by claude_code");
        let outcome = check_files(&[("main", &main)]);
        outcome.assert_clean();
        let model = &outcome.checked.model;
        let claude = model.find_agent("claude_code").unwrap();
        assert_eq!(model.parts[0].agent, Some(claude));
        // `agents` refers to the module, `claude_code` (twice) to the agent
        let text = &outcome.sources.get(crate::source::FileId(0)).text;
        let start = text.find("use std.agents").unwrap() as u32;
        let kinds: Vec<_> = model
            .references()
            .iter()
            .filter(|r| r.span.file.0 == 0 && r.span.start > start && r.span.start < start + 30)
            .map(|r| model.symbol(r.target).kind)
            .collect();
        use crate::model::SymbolKind;
        assert_eq!(kinds, vec![SymbolKind::Module, SymbolKind::Agent]);
        assert_eq!(
            model.references_to(model.agent(claude).decl.symbol).count(),
            2
        );
    }

    #[test]
    fn full_module_paths_work_too() {
        let main = base_with("contract Storage {", "use std.types\ncontract Storage {").replace(
            "tags: [Text]",
            "tags: [Text]\n  files: std.types.FileSet\n  more: types.Summary",
        );
        let outcome = check_files(&[("main", &main)]);
        outcome.assert_clean();
        let bad = main.replace("std.types.FileSet", "std.types.FileSt");
        let outcome = check_files(&[("main", &bad)]);
        let d = outcome.single(Code::E0101);
        assert_eq!(d.message, "module `types` has no type `FileSt`");
        // a path that is no imported module
        let bad = main.replace("std.types.FileSet", "std.typs.FileSet");
        let d = check_files(&[("main", &bad)]).single(Code::E0101).clone();
        assert_eq!(d.message, "`std.typs.FileSet` is not a name in scope");
    }

    #[test]
    fn item_imports_clash_with_declarations() {
        let outcome = check_files(&[
            (
                "main",
                &base_with(
                    "contract Storage {",
                    "use billing.{Link}\ncontract Storage {",
                ),
            ),
            ("billing", "type Link { cents: Int }\n"),
        ]);
        let d = outcome.single(Code::E0102);
        assert_eq!(
            d.message,
            "`Link` is both imported and declared in this file"
        );
        assert_eq!(outcome.label_texts(d), vec!["Link", "Link"]);
    }

    #[test]
    fn a_name_declared_elsewhere_suggests_the_import() {
        let outcome = check_files(&[
            (
                "main",
                &base_with(
                    "agent coder: command {\n  run [\"aider\", \"{prompt_file}\"]\n}",
                    "use billing.{Money}",
                ),
            ),
            (
                "billing",
                "agent coder: mock {}\ntype Money { cents: Int }\n",
            ),
        ]);
        let d = outcome.single(Code::E0101);
        assert_eq!(d.message, "unknown agent `coder`");
        assert_eq!(
            d.help.as_deref(),
            Some("import it: `use billing.{coder}`"),
            "{}",
            outcome.render()
        );
    }

    #[test]
    fn missing_imported_items_are_e0103_and_poisoned() {
        let outcome = check_files(&[
            (
                "main",
                &base_with(
                    "agent coder: command {\n  run [\"aider\", \"{prompt_file}\"]\n}",
                    "use billing.{codr}",
                )
                .replace("default_agent coder", "default_agent codr"),
            ),
            ("billing", "agent coder: mock {}\n"),
        ]);
        let d = outcome.single(Code::E0103);
        assert_eq!(d.help.as_deref(), Some("did you mean `coder`?"));
    }

    #[test]
    fn names_in_broken_declarations_are_not_reported_again() {
        let outcome = check_one(&base_with(
            "agent coder: command {",
            "agent coder: command {{",
        ));
        assert_eq!(outcome.codes(), vec![Code::E0001], "{}", outcome.render());
    }

    #[test]
    fn unresolved_modules_poison_their_names() {
        let outcome = check_one(
            &base_with(
                "contract Storage {",
                "use nowhere.{Money}\nuse elsewhere\ncontract Storage {",
            )
            .replace("tags: [Text]", "tags: [Money]\n  cost: elsewhere.Cost"),
        );
        assert_eq!(
            outcome.codes(),
            vec![Code::E0103, Code::E0103],
            "{}",
            outcome.render()
        );
    }
}
