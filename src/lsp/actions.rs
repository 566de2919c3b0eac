//! Quick fixes, built from the checker's own diagnostics for the document
//! (not from what the client sends back) and from the model:
//! - apply a did-you-mean (`did you mean `x`?` in a diagnostic's help);
//! - W0603: add an `accept` criterion to an intent;
//! - E0202: bind a never-bound input to an output of that name, or to a
//!   score input of that name;
//! - W0106: remove an unused import (the name from its braces, or the
//!   whole `use` line).

use std::collections::HashMap;

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, CodeActionResponse,
    TextEdit, WorkspaceEdit,
};

use super::Server;
use super::analysis::Analysis;
use super::features;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{Body, Item};

pub fn code_actions(
    server: &mut Server,
    params: CodeActionParams,
) -> Result<Option<CodeActionResponse>, String> {
    let uri = &params.text_document.uri;
    let Some(a) = server.analysis(uri) else {
        return Ok(None);
    };
    let start = a.offset(a.root, params.range.start);
    let end = a.offset(a.root, params.range.end);
    let mut out = Vec::new();
    for d in &a.checked.diagnostics {
        let Some(primary) = d.primary_span().filter(|s| s.file == a.root) else {
            continue;
        };
        if (primary.end as usize) < start || (primary.start as usize) > end {
            continue;
        }
        for (title, edits) in fixes(&a, d, primary) {
            let mut changes = HashMap::new();
            changes.insert(uri.clone(), edits);
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![
                    features::diagnostics(&a)
                        .into_iter()
                        .find(|x| x.range == a.range(primary))
                        .unwrap_or_default(),
                ]),
                edit: Some(WorkspaceEdit::new(changes)),
                is_preferred: Some(true),
                ..Default::default()
            }));
        }
    }
    Ok(Some(out))
}

/// The `x` of a help `did you mean `x`?`.
pub fn suggestion(help: &str) -> Option<&str> {
    let rest = &help[help.find("did you mean `")? + "did you mean `".len()..];
    let end = rest.find("`?")?;
    let name = &rest[..end];
    (!name.is_empty() && !name.contains(' ')).then_some(name)
}

fn fixes(a: &Analysis, d: &Diagnostic, primary: Span) -> Vec<(String, Vec<TextEdit>)> {
    let mut out = Vec::new();
    if let Some(name) = d.help.as_deref().and_then(suggestion) {
        let written = a.program.sources.text(primary);
        // A help may spell the whole path (`score.repo`) where the span
        // covers one identifier.
        let replacement = if written.contains('.') {
            name
        } else {
            name.rsplit('.').next().unwrap_or(name)
        };
        if written != replacement {
            out.push((
                format!("Replace `{written}` with `{replacement}`"),
                vec![TextEdit::new(a.range(primary), replacement.to_string())],
            ));
        }
    }
    match d.code {
        Code::W0603 => {
            if let Some(edit) = add_accept(a, primary) {
                out.push(("Add an `accept` criterion".into(), vec![edit]));
            }
        }
        Code::E0202 => out.extend(bind_input(a, d, primary)),
        Code::W0106 => {
            if let Some(edit) = remove_import(a, primary) {
                out.push(("Remove the unused import".into(), vec![edit]));
            }
        }
        _ => {}
    }
    out
}

/// Insert `line` as the last setting of a body.
fn append_setting(a: &Analysis, body: &Body, line: &str) -> TextEdit {
    let text = a.root_text();
    match body.settings.last() {
        Some(last) => {
            let line_start = text[..last.span.start as usize]
                .rfind('\n')
                .map_or(0, |n| n + 1);
            let indent: String = text[line_start..last.span.start as usize]
                .chars()
                .take_while(|c| c.is_whitespace())
                .collect();
            let at = Span::new(a.root, last.span.end as usize, last.span.end as usize);
            TextEdit::new(a.range(at), format!("\n{indent}{line}"))
        }
        None => TextEdit::new(a.range(body.span), format!("{{\n  {line}\n}}")),
    }
}

/// W0106 at `primary`: one name of several in `use a.{x, y}` goes with
/// its comma; a sole name, or a module import, takes its `use` line.
fn remove_import(a: &Analysis, primary: Span) -> Option<TextEdit> {
    let text = a.root_text();
    let ast = a.program.files.get(a.root.index())?;
    let decl = ast.items.iter().find_map(|item| match item {
        Item::Use(u) if u.span.contains(primary.start as usize) => Some(u),
        _ => None,
    })?;
    let at = |start: usize, end: usize| a.range(Span::new(a.root, start, end));
    if let Some(items) = decl.items.as_ref().filter(|items| items.len() > 1) {
        let i = items.iter().position(|n| n.span == primary)?;
        // `x, ` before a later name; `, y` after an earlier one.
        let (start, end) = match items.get(i + 1) {
            Some(next) => (items[i].span.start, next.span.start),
            None => (items[i - 1].span.end, items[i].span.end),
        };
        return Some(TextEdit::new(
            at(start as usize, end as usize),
            String::new(),
        ));
    }
    let start = text[..decl.span.start as usize]
        .rfind('\n')
        .map_or(0, |n| n + 1);
    let end = text[decl.span.end as usize..]
        .find('\n')
        .map_or(text.len(), |n| decl.span.end as usize + n + 1);
    Some(TextEdit::new(at(start, end), String::new()))
}

const ACCEPT: &str = "accept \"describe how to tell that this intent is met\"";

fn add_accept(a: &Analysis, primary: Span) -> Option<TextEdit> {
    let ast = a.program.files.get(a.root.index())?;
    let intent = ast.items.iter().find_map(|item| match item {
        Item::Intent(i) if i.span.contains(primary.start as usize) => Some(i),
        _ => None,
    })?;
    Some(match &intent.body {
        Some(body) => append_setting(a, body, ACCEPT),
        None => {
            let at = Span::new(
                a.root,
                intent.statement.span.end as usize,
                intent.statement.span.end as usize,
            );
            TextEdit::new(a.range(at), format!(" {{\n  {ACCEPT}\n}}"))
        }
    })
}

fn bind_input(a: &Analysis, d: &Diagnostic, primary: Span) -> Vec<(String, Vec<TextEdit>)> {
    let model = &a.checked.model;
    let Some(part_id) = model.parts.iter().position(|p| p.decl.name_span == primary) else {
        return Vec::new();
    };
    let part = &model.parts[part_id];
    let Some(input) = part
        .inputs
        .iter()
        .find(|i| i.source.is_none() && d.message.starts_with(&format!("input `{}` ", i.name)))
    else {
        return Vec::new();
    };
    let Some(body) = a.program.files[a.root.index()]
        .items
        .iter()
        .find_map(|item| match item {
            Item::Part(p) if p.name.span == primary => Some(&p.body),
            _ => None,
        })
    else {
        return Vec::new();
    };
    let mut sources: Vec<String> = model
        .parts
        .iter()
        .enumerate()
        .filter(|&(q, other)| {
            q != part_id
                && other
                    .outputs
                    .iter()
                    .any(|o| o.name == input.name && o.ty.fits(&input.ty))
        })
        .map(|(_, other)| format!("{}.{}", other.decl.name, input.name))
        .take(3)
        .collect();
    if model
        .score
        .as_ref()
        .is_some_and(|s| s.inputs.iter().any(|p| p.name == input.name))
    {
        sources.push(format!("score.{}", input.name));
    }
    sources
        .into_iter()
        .map(|source| {
            let line = format!("input {} = {source}", input.name);
            (
                format!("Bind `{}` with `{line}`", input.name),
                vec![append_setting(a, body, &line)],
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_from_help() {
        assert_eq!(suggestion("did you mean `coder`?"), Some("coder"));
        assert_eq!(suggestion("did you mean `score.repo`?"), Some("score.repo"));
        assert_eq!(
            suggestion("`lnk` is bound but declared nowhere; did you mean to bind `link`?"),
            None
        );
        assert_eq!(suggestion("add a setting"), None);
    }
}
