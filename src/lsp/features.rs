//! Diagnostics, hover, definition, references, rename, symbols and
//! formatting: each read off the checked model of the document's program.

use std::collections::{HashMap, HashSet};

use lsp_types::{
    DiagnosticRelatedInformation, DiagnosticSeverity, DocumentFormattingParams, DocumentSymbol,
    DocumentSymbolParams, DocumentSymbolResponse, GotoDefinitionParams, GotoDefinitionResponse,
    Hover, HoverContents, HoverParams, Location, MarkupContent, MarkupKind, NumberOrString,
    PrepareRenameResponse, ReferenceParams, RenameParams, SymbolInformation,
    TextDocumentPositionParams, TextEdit, Url, WorkspaceEdit, WorkspaceSymbolParams,
    WorkspaceSymbolResponse,
};
use serde_json::json;

use super::Server;
use super::analysis::{Analysis, end_position};
use crate::check::settings::{DeclKind, find_setting};
use crate::diagnostics::{Diagnostic, Severity};
use crate::model::{Model, Provider, Source, SymbolId, SymbolKind};
use crate::source::{FileId, Span};
use crate::syntax::ast::{Body, Item};

/// The diagnostics of a document: those whose primary span is in it.
/// Secondary labels become related information (possibly in other files);
/// the help and the notes are appended to the message, since editors show
/// no other field of a diagnostic. The code's explanation (`score explain
/// CODE`) has no web page to link to, so there is no `codeDescription`; the
/// code's title and the help go in `data`, where the quick fixes read them.
pub fn diagnostics(a: &Analysis) -> Vec<lsp_types::Diagnostic> {
    a.checked
        .diagnostics
        .iter()
        .filter(|d| d.primary_span().is_none_or(|s| s.file == a.root))
        .map(|d| to_lsp(a, d))
        .collect()
}

fn to_lsp(a: &Analysis, d: &Diagnostic) -> lsp_types::Diagnostic {
    let primary = d.primary_span().unwrap_or(Span::new(a.root, 0, 0));
    let mut message = d.message.clone();
    for note in &d.notes {
        message.push_str(&format!("\nnote: {note}"));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .labels
        .iter()
        .filter(|l| !l.message.is_empty())
        .filter_map(|l| {
            Some(DiagnosticRelatedInformation {
                location: a.location(l.span)?,
                message: l.message.clone(),
            })
        })
        .collect();
    lsp_types::Diagnostic {
        range: a.range(primary),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Note => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(d.code.as_str().to_string())),
        code_description: None,
        source: Some("score".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        // An unused import is shown faded, as editors show dead code.
        tags: (d.code == crate::diagnostics::Code::W0106)
            .then(|| vec![lsp_types::DiagnosticTag::UNNECESSARY]),
        data: Some(json!({
            "title": d.code.title(),
            "help": d.help,
            "explain": format!("score explain {}", d.code.as_str()),
        })),
    }
}

/// The program, file and byte offset of an editor position.
pub(super) fn locate(
    server: &mut Server,
    at: &TextDocumentPositionParams,
) -> Option<(std::rc::Rc<Analysis>, FileId, usize)> {
    let a = server.analysis(&at.text_document.uri)?;
    let file = a.file_of(&at.text_document.uri)?;
    let offset = a.offset(file, at.position);
    Some((a, file, offset))
}

/// The symbol named at an offset, and the span of that name.
fn symbol_at(a: &Analysis, file: FileId, offset: usize) -> Option<(SymbolId, Span)> {
    let model = &a.checked.model;
    if let Some(reference) = model.reference_at(file, offset) {
        return Some((reference.target, reference.span));
    }
    let id = model.definition_at(file, offset)?;
    Some((id, model.symbol(id).span))
}

pub fn hover(server: &mut Server, params: HoverParams) -> Result<Option<Hover>, String> {
    let Some((a, file, offset)) = locate(server, &params.text_document_position_params) else {
        return Ok(None);
    };
    if let Some((id, span)) = symbol_at(&a, file, offset) {
        return Ok(Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: describe(&a, id),
            }),
            range: Some(a.range(span)),
        }));
    }
    Ok(setting_hover(&a, file, offset))
}

/// Markdown for a symbol: its signature, doc comment and what the model
/// knows about it.
pub fn describe(a: &Analysis, id: SymbolId) -> String {
    let model = &a.checked.model;
    let symbol = model.symbol(id);
    let mut out = format!("```score\n{}\n```\n", symbol.detail);
    if let Some(doc) = &symbol.doc {
        out.push_str(&format!("\n{doc}\n"));
    }
    let facts = facts(model, id);
    if !facts.is_empty() {
        out.push_str("\n---\n");
        for fact in facts {
            out.push_str(&format!("\n{fact}  "));
        }
        out.push('\n');
    }
    if let crate::source::Origin::Stdlib(module) = &a.file(symbol.span.file).origin {
        out.push_str(&format!("\n*from the standard library, `{module}`*\n"));
    } else if symbol.span.file != a.root {
        out.push_str(&format!("\n*from `{}`*\n", a.file(symbol.span.file).name));
    }
    out
}

fn names<I: IntoIterator<Item = String>>(items: I) -> String {
    items
        .into_iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One line per fact about a declaration, from the checked model.
fn facts(model: &Model, id: SymbolId) -> Vec<String> {
    let mut out = Vec::new();
    let ports = |ports: &[crate::model::Port]| {
        names(
            ports
                .iter()
                .map(|p| format!("{}: {}", p.name, model.display_ty(&p.ty))),
        )
    };
    if let Some(r) = model.records.iter().find(|r| r.decl.symbol == id) {
        for f in &r.fields {
            out.push(format!("- `{}: {}`", f.name, model.display_ty(&f.ty)));
        }
    } else if let Some(e) = model.enums.iter().find(|e| e.decl.symbol == id) {
        out.push(format!(
            "variants: {}",
            names(e.variants.iter().map(|v| v.name.clone()))
        ));
    } else if let Some(i) = model.intents.iter().find(|i| i.decl.symbol == id) {
        out.push(format!("\"{}\"", i.statement));
        for accept in &i.accepts {
            out.push(format!("- accept \"{}\"", accept.value));
        }
        if let Some(p) = i.priority {
            out.push(format!("priority: `{}`", p.as_str()));
        }
        let served: Vec<String> = model
            .parts
            .iter()
            .filter(|p| p.serves.iter().any(|s| model.intent(*s).decl.symbol == id))
            .map(|p| p.decl.name.clone())
            .collect();
        out.push(if served.is_empty() {
            "served by no part".into()
        } else {
            format!("served by {}", names(served))
        });
    } else if let Some(c) = model.checks.iter().find(|c| c.decl.symbol == id) {
        out.push(format!("run: `{}`", c.run));
    } else if let Some(c) = model.contracts.iter().find(|c| c.decl.symbol == id) {
        if !c.inputs.is_empty() {
            out.push(format!("inputs: {}", ports(&c.inputs)));
        }
        if !c.outputs.is_empty() {
            out.push(format!("outputs: {}", ports(&c.outputs)));
        }
        if !c.owns.is_empty() {
            out.push(format!(
                "owns: {}",
                names(c.owns.iter().map(|g| g.pattern.clone()))
            ));
        }
        if !c.reads.is_empty() {
            out.push(format!(
                "reads: {}",
                names(c.reads.iter().map(|g| g.pattern.clone()))
            ));
        }
    } else if let Some(agent) = model.agents.iter().find(|g| g.decl.symbol == id) {
        out.push(format!("provider: `{}`", agent.provider.name()));
        match &agent.provider {
            Provider::OpenAi { model: m, .. } | Provider::Anthropic { model: m, .. } => {
                out.push(format!("model: `{m}`"));
            }
            Provider::Command { run, .. } => out.push(format!("run: `{}`", run.join(" "))),
            _ => {}
        }
        out.push(format!("tier: `{}`", agent.tier.as_str()));
        if let Some(n) = agent.concurrency {
            out.push(format!("concurrency: {n}"));
        }
    } else if let Some(part) = model.parts.iter().find(|p| p.decl.symbol == id) {
        match part.agent {
            Some(agent) => out.push(format!(
                "agent: `{}`{}",
                model.agent(agent).decl.name,
                if part.agent_is_default {
                    " (the score's default)"
                } else {
                    ""
                }
            )),
            None => out.push("agent: none".into()),
        }
        out.push(format!("complexity: `{}`", part.complexity.as_str()));
        if !part.contracts.is_empty() {
            out.push(format!(
                "contracts: {}",
                names(
                    part.contracts
                        .iter()
                        .map(|c| model.contract(*c).decl.name.clone())
                )
            ));
        }
        if !part.serves.is_empty() {
            out.push(format!(
                "serves: {}",
                names(
                    part.serves
                        .iter()
                        .map(|i| model.intent(*i).decl.name.clone())
                )
            ));
        }
        for input in &part.inputs {
            let from = match &input.source {
                Some(Source::Part { part, output }) => {
                    format!(" = {}.{output}", model.part(*part).decl.name)
                }
                Some(Source::ScoreInput(name)) => format!(" = score.{name}"),
                None => " (unbound)".into(),
            };
            out.push(format!(
                "- input `{}: {}`{from}",
                input.name,
                model.display_ty(&input.ty)
            ));
        }
        for output in &part.outputs {
            out.push(format!(
                "- output `{}: {}`",
                output.name,
                model.display_ty(&output.ty)
            ));
        }
        if !part.owns.is_empty() {
            out.push(format!(
                "owns: {}",
                names(part.owns.iter().map(|g| g.pattern.clone()))
            ));
        }
        if !part.after.is_empty() {
            out.push(format!(
                "runs after: {}",
                names(part.after.iter().map(|p| model.part(*p).decl.name.clone()))
            ));
        }
    }
    out
}

/// Hover on a setting's name: what the setting means.
fn setting_hover(a: &Analysis, file: FileId, offset: usize) -> Option<Hover> {
    let ast = a.program.files.get(file.index())?;
    for item in &ast.items {
        let (kind, provider, body): (DeclKind, Option<&str>, Option<&Body>) = match item {
            Item::Score(d) => (DeclKind::Score, None, Some(&d.body)),
            Item::Intent(d) => (DeclKind::Intent, None, d.body.as_ref()),
            Item::Check(d) => (DeclKind::Check, None, Some(&d.body)),
            Item::Contract(d) => (DeclKind::Contract, None, Some(&d.body)),
            Item::Agent(d) => (
                DeclKind::Agent,
                Some(d.provider.name.as_str()),
                Some(&d.body),
            ),
            Item::Part(d) => (DeclKind::Part, None, Some(&d.body)),
            _ => continue,
        };
        let Some(body) = body else { continue };
        if !body.span.contains(offset) {
            continue;
        }
        let setting = body
            .settings
            .iter()
            .find(|s| s.name.span.contains(offset))?;
        let spec = find_setting(kind, provider, &setting.name.name)?;
        let value = format!(
            "```score\n{}\n```\n\n{}\n\nexpects {}{}",
            spec.example,
            spec.doc,
            spec.shape.expected(),
            if spec.required { " (required)" } else { "" }
        );
        return Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value,
            }),
            range: Some(a.range(setting.name.span)),
        });
    }
    None
}

pub fn definition(
    server: &mut Server,
    params: GotoDefinitionParams,
) -> Result<Option<GotoDefinitionResponse>, String> {
    let Some((a, file, offset)) = locate(server, &params.text_document_position_params) else {
        return Ok(None);
    };
    let Some((id, _)) = symbol_at(&a, file, offset) else {
        return Ok(None);
    };
    let span = a.checked.model.symbol(id).span;
    Ok(a.location(span).map(GotoDefinitionResponse::Scalar))
}

/// A symbol's identity across programs: where its name is defined.
type Key = (Url, u32, u32);

fn key(a: &Analysis, id: SymbolId) -> Option<Key> {
    let span = a.checked.model.symbol(id).span;
    Some((a.uri_of(span.file)?, span.start, span.end))
}

/// Every place that names the symbol at a position, in every program of
/// the workspace: the definition (when asked for) and every reference.
fn occurrences(
    server: &mut Server,
    at: &TextDocumentPositionParams,
    include_declaration: bool,
) -> Option<Vec<Location>> {
    let (a, file, offset) = locate(server, at)?;
    let (id, _) = symbol_at(&a, file, offset)?;
    let target = key(&a, id)?;
    let mut programs = server.workspace();
    if !programs.iter().any(|p| p.uri == a.uri) {
        programs.push(a.clone());
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for program in programs {
        let model = &program.checked.model;
        let Some(index) = (0..model.symbols.len())
            .map(|i| SymbolId(i as u32))
            .find(|&s| key(&program, s).as_ref() == Some(&target))
        else {
            continue;
        };
        let mut spans: Vec<Span> = model.references_to(index).map(|r| r.span).collect();
        if include_declaration {
            spans.push(model.symbol(index).span);
        }
        for span in spans {
            if let Some(location) = program.location(span) {
                let k = (
                    location.uri.clone(),
                    location.range.start,
                    location.range.end,
                );
                if seen.insert(format!("{k:?}")) {
                    out.push(location);
                }
            }
        }
    }
    out.sort_by(|x, y| {
        (x.uri.as_str(), x.range.start.line, x.range.start.character).cmp(&(
            y.uri.as_str(),
            y.range.start.line,
            y.range.start.character,
        ))
    });
    Some(out)
}

pub fn references(
    server: &mut Server,
    params: ReferenceParams,
) -> Result<Option<Vec<Location>>, String> {
    Ok(occurrences(
        server,
        &params.text_document_position,
        params.context.include_declaration,
    ))
}

/// The reason a symbol cannot be renamed, if any.
fn rename_blocker(a: &Analysis, id: SymbolId) -> Option<String> {
    let symbol = a.checked.model.symbol(id);
    if a.is_stdlib(symbol.span.file) {
        return Some(format!(
            "`{}` is declared in the standard library, which cannot be changed",
            symbol.name
        ));
    }
    if symbol.kind == SymbolKind::Module {
        return Some("a module is renamed by renaming its file".into());
    }
    None
}

pub fn prepare_rename(
    server: &mut Server,
    params: TextDocumentPositionParams,
) -> Result<Option<PrepareRenameResponse>, String> {
    let Some((a, file, offset)) = locate(server, &params) else {
        return Ok(None);
    };
    let Some((id, span)) = symbol_at(&a, file, offset) else {
        return Ok(None);
    };
    if let Some(reason) = rename_blocker(&a, id) {
        return Err(format!("cannot rename: {reason}"));
    }
    Ok(Some(PrepareRenameResponse::Range(a.range(span))))
}

const RESERVED: &[&str] = &[
    "score", "use", "type", "enum", "intent", "check", "contract", "agent", "part", "sequence",
    "by", "true", "false",
];

/// Whether `name` can be written as an identifier.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED.contains(&name)
}

pub fn rename(server: &mut Server, params: RenameParams) -> Result<Option<WorkspaceEdit>, String> {
    let at = &params.text_document_position;
    let new_name = params.new_name.trim();
    if !is_identifier(new_name) {
        return Err(format!(
            "cannot rename to `{new_name}`: a name is a letter or `_` followed by letters, digits \
             or `_`, and not a reserved word"
        ));
    }
    let Some((a, file, offset)) = locate(server, at) else {
        return Ok(None);
    };
    let Some((id, _)) = symbol_at(&a, file, offset) else {
        return Ok(None);
    };
    if let Some(reason) = rename_blocker(&a, id) {
        return Err(format!("cannot rename: {reason}"));
    }
    let Some(locations) = occurrences(server, at, true) else {
        return Ok(None);
    };
    let mut changes: HashMap<Url, Vec<TextEdit>> = HashMap::new();
    for location in locations {
        changes
            .entry(location.uri)
            .or_default()
            .push(TextEdit::new(location.range, new_name.to_string()));
    }
    Ok(Some(WorkspaceEdit::new(changes)))
}

pub fn symbol_kind(kind: SymbolKind) -> lsp_types::SymbolKind {
    use lsp_types::SymbolKind as K;
    match kind {
        SymbolKind::Score => K::PACKAGE,
        SymbolKind::Type => K::STRUCT,
        SymbolKind::Enum => K::ENUM,
        SymbolKind::Intent => K::EVENT,
        SymbolKind::Check => K::FUNCTION,
        SymbolKind::Contract => K::INTERFACE,
        SymbolKind::Agent => K::OBJECT,
        SymbolKind::Part => K::CLASS,
        SymbolKind::Field => K::FIELD,
        SymbolKind::Variant => K::ENUM_MEMBER,
        SymbolKind::Param => K::VARIABLE,
        SymbolKind::Input | SymbolKind::Output | SymbolKind::ScoreInput => K::PROPERTY,
        SymbolKind::Module => K::MODULE,
    }
}

pub fn document_symbols(
    server: &mut Server,
    params: DocumentSymbolParams,
) -> Result<Option<DocumentSymbolResponse>, String> {
    let Some(a) = server.analysis(&params.text_document.uri) else {
        return Ok(None);
    };
    let model = &a.checked.model;
    let in_root: Vec<SymbolId> = (0..model.symbols.len())
        .map(|i| SymbolId(i as u32))
        .filter(|&id| {
            let s = model.symbol(id);
            s.span.file == a.root && s.kind != SymbolKind::Module
        })
        .collect();
    #[allow(deprecated)]
    let build = |id: SymbolId| {
        let s = model.symbol(id);
        let full = if s.full_span.file == s.span.file {
            s.full_span.to(s.span)
        } else {
            s.span
        };
        DocumentSymbol {
            name: s.name.clone(),
            detail: Some(s.detail.clone()),
            kind: symbol_kind(s.kind),
            tags: None,
            deprecated: None,
            range: a.range(full),
            selection_range: a.range(s.span),
            children: None,
        }
    };
    let mut tops = Vec::new();
    for &id in &in_root {
        if model
            .symbol(id)
            .parent
            .is_some_and(|p| in_root.contains(&p))
        {
            continue;
        }
        let mut top = build(id);
        let children: Vec<DocumentSymbol> = in_root
            .iter()
            .filter(|&&c| model.symbol(c).parent == Some(id))
            .map(|&c| build(c))
            .collect();
        if !children.is_empty() {
            top.children = Some(children);
        }
        tops.push(top);
    }
    Ok(Some(DocumentSymbolResponse::Nested(tops)))
}

pub fn workspace_symbols(
    server: &mut Server,
    params: WorkspaceSymbolParams,
) -> Result<Option<WorkspaceSymbolResponse>, String> {
    let query = params.query.to_lowercase();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for a in server.workspace() {
        let model = &a.checked.model;
        for (i, s) in model.symbols.iter().enumerate() {
            if s.kind == SymbolKind::Module || !s.name.to_lowercase().contains(&query) {
                continue;
            }
            let Some(k) = key(&a, SymbolId(i as u32)) else {
                continue;
            };
            if !seen.insert(k) {
                continue;
            }
            let Some(location) = a.location(s.span) else {
                continue;
            };
            #[allow(deprecated)]
            out.push(SymbolInformation {
                name: s.name.clone(),
                kind: symbol_kind(s.kind),
                tags: None,
                deprecated: None,
                location,
                container_name: s.parent.map(|p| model.symbol(p).name.clone()),
            });
        }
    }
    Ok(Some(WorkspaceSymbolResponse::Flat(out)))
}

pub fn formatting(
    server: &mut Server,
    params: DocumentFormattingParams,
) -> Result<Option<Vec<TextEdit>>, String> {
    let uri = &params.text_document.uri;
    let Some(a) = server.analysis(uri) else {
        return Ok(None);
    };
    let text = a.root_text();
    // A file with syntax errors is left alone: the formatter needs a tree.
    let Ok(formatted) = crate::fmt::format_source(a.root, text) else {
        return Ok(None);
    };
    if formatted == text {
        return Ok(Some(Vec::new()));
    }
    let whole = lsp_types::Range::new(lsp_types::Position::new(0, 0), end_position(text));
    Ok(Some(vec![TextEdit::new(whole, formatted)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        assert!(is_identifier("store_2"));
        assert!(is_identifier("_x"));
        assert!(!is_identifier("2x"));
        assert!(!is_identifier("part"));
        assert!(!is_identifier("a-b"));
        assert!(!is_identifier(""));
    }
}
