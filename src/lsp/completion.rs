//! Completion. The file is usually half-typed, so the context (which
//! declaration, which setting, after which punctuation) comes from the text
//! before the cursor, read with a small tokenizer that skips strings and
//! comments. The candidates come from the checked model of the rest of the
//! file (the parser recovers per declaration) and from the settings schema.

use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionParams, CompletionResponse, Documentation,
    MarkupContent, MarkupKind,
};

use super::Server;
use super::analysis::Analysis;
use super::features::locate;
use crate::check::settings::{DeclKind, PROVIDERS, Shape, find_setting, settings_for};
use crate::model::{SymbolId, SymbolKind};
use crate::syntax::ImportKind;
use crate::syntax::stdlib;

const KEYWORDS: &[&str] = &[
    "score", "use", "type", "enum", "intent", "check", "contract", "agent", "part", "sequence",
];
const PRIMITIVES: &[&str] = &["Text", "Int", "Float", "Bool", "Path", "Json"];

#[derive(Debug)]
struct Token<'a> {
    text: &'a str,
    /// Nesting of `{`, `[` and `(` after this token.
    depth: usize,
    line: usize,
}

/// The tokens of `text`, or `None` when it ends inside a string or comment
/// (where nothing should be completed).
fn tokens(text: &str) -> Option<Vec<Token<'_>>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut depth, mut line) = (0, 0usize, 0usize);
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = text[i..].find('\n').map(|n| i + n)?;
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let mut nest = 1;
                i += 2;
                while nest > 0 {
                    if i + 1 >= bytes.len() {
                        return None;
                    }
                    match (bytes[i], bytes[i + 1]) {
                        (b'/', b'*') => {
                            nest += 1;
                            i += 2;
                        }
                        (b'*', b'/') => {
                            nest -= 1;
                            i += 2;
                        }
                        (b'\n', _) => {
                            line += 1;
                            i += 1;
                        }
                        _ => i += 1,
                    }
                }
            }
            b'"' if text[i..].starts_with("\"\"\"") => {
                let close = text[i + 3..].find("\"\"\"")? + i + 3;
                line += text[i..close].matches('\n').count();
                out.push(Token {
                    text: "\"\"\"",
                    depth,
                    line,
                });
                i = close + 3;
            }
            b'"' => {
                let mut j = i + 1;
                loop {
                    match bytes.get(j) {
                        None | Some(b'\n') => return None,
                        Some(b'\\') => j += 2,
                        Some(b'"') => break,
                        _ => j += 1,
                    }
                }
                out.push(Token {
                    text: &text[i..=j],
                    depth,
                    line,
                });
                i = j + 1;
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                out.push(Token {
                    text: &text[i..=i],
                    depth,
                    line,
                });
                i += 1;
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                out.push(Token {
                    text: &text[i..=i],
                    depth,
                    line,
                });
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'>') => {
                out.push(Token {
                    text: "->",
                    depth,
                    line,
                });
                i += 2;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                out.push(Token {
                    text: &text[start..i],
                    depth,
                    line,
                });
            }
            _ => {
                let len = text[i..].chars().next().map_or(1, char::len_utf8);
                out.push(Token {
                    text: &text[i..i + len],
                    depth,
                    line,
                });
                i += len;
            }
        }
    }
    Some(out)
}

/// What the cursor is about to name.
#[derive(Debug, PartialEq)]
enum Want {
    Keywords,
    Settings(DeclKind, Option<String>),
    Symbols(SymbolKind),
    Types,
    /// Parts, or `score` to bind a score input.
    BindingSources,
    Providers,
    Choices(&'static [&'static str]),
    /// The members after `NAME.` (outputs of a part, score inputs, items of
    /// a module, stdlib modules).
    Members(String),
    Nothing,
}

fn decl_kind(keyword: &str) -> Option<DeclKind> {
    DeclKind::ALL
        .iter()
        .copied()
        .find(|k| k.keyword() == keyword)
}

/// The completion context of the text before the cursor (without the word
/// being typed).
fn context(before: &str) -> Want {
    let Some(tokens) = tokens(before) else {
        return Want::Nothing;
    };
    let cursor_line = before.matches('\n').count();
    // `NAME.` with the member being typed.
    if before.ends_with('.') {
        let mut path: Vec<&str> = Vec::new();
        let mut k = tokens.len().saturating_sub(1);
        while k >= 1 && tokens[k].text == "." && is_word(tokens[k - 1].text) {
            path.insert(0, tokens[k - 1].text);
            if k < 2 {
                break;
            }
            k -= 2;
        }
        return if path.is_empty() {
            Want::Nothing
        } else {
            Want::Members(path.join("."))
        };
    }
    // The current top-level declaration: from the last keyword at depth 0.
    let start = tokens
        .iter()
        .rposition(|t| t.depth == 0 && KEYWORDS.contains(&t.text));
    let Some(start) = start else {
        return Want::Keywords;
    };
    let decl = &tokens[start..];
    let keyword = decl[0].text;
    let last = decl.last().map_or("", |t| t.text);
    let end_depth = decl.last().map_or(0, |t| t.depth);
    let opened = decl.iter().position(|t| t.text == "{" && t.depth == 1);
    let closed = decl.iter().any(|t| t.text == "}" && t.depth == 0);
    if closed && end_depth == 0 {
        return Want::Keywords;
    }
    let Some(body) = opened.filter(|_| end_depth >= 1) else {
        // The declaration's header.
        return match (keyword, last) {
            ("part", ":" | "+") => Want::Symbols(SymbolKind::Contract),
            ("part", "by") => Want::Symbols(SymbolKind::Agent),
            ("agent", ":") if decl.len() == 3 => Want::Providers,
            ("check", ":") if end_depth == 1 => Want::Types,
            ("use", "use") => Want::Members(String::new()),
            (_, _) if decl.len() == 1 && keyword != "use" => Want::Nothing,
            _ if decl.len() <= 1 => Want::Keywords,
            _ => Want::Nothing,
        };
    };
    let inside = &decl[body + 1..];
    match keyword {
        "sequence" => return Want::Symbols(SymbolKind::Part),
        "type" => {
            let line: Vec<&Token> = inside.iter().filter(|t| t.line == cursor_line).collect();
            return if line.last().is_some_and(|t| t.text == ":" || t.text == "[") {
                Want::Types
            } else {
                Want::Nothing
            };
        }
        "enum" | "use" => return Want::Nothing,
        _ => {}
    }
    let Some(kind) = decl_kind(keyword) else {
        return Want::Nothing;
    };
    let provider = (keyword == "agent" && decl.len() > 3 && decl[2].text == ":")
        .then(|| decl[3].text.to_string());
    // The current setting: the tokens on the cursor's line, and those of the
    // lines before when a line ends with a comma (values continue).
    let mut first_line = cursor_line;
    loop {
        let previous = inside.iter().rev().find(|t| t.line < first_line);
        match previous {
            Some(t) if t.text == "," => first_line = t.line,
            _ => break,
        }
    }
    let setting: Vec<&Token> = inside
        .iter()
        .filter(|t| t.line >= first_line && t.depth >= 1)
        .collect();
    let Some(name) = setting.first() else {
        return Want::Settings(kind, provider);
    };
    let last = setting.last().map_or("", |t| t.text);
    let spec = find_setting(kind, provider.as_deref(), name.text);
    if last == ":" {
        return Want::Types;
    }
    if last == "=" {
        return Want::BindingSources;
    }
    let Some(spec) = spec else {
        return Want::Nothing;
    };
    match spec.shape {
        Shape::Choice(names) if setting.len() == 1 => Want::Choices(names),
        Shape::Name(k) if setting.len() == 1 => Want::Symbols(k),
        Shape::Names(k) if setting.len() == 1 || last == "," => Want::Symbols(k),
        Shape::Ensures if setting.len() == 1 || last == "," => Want::Symbols(SymbolKind::Check),
        Shape::Budget if setting.len() == 1 => Want::Choices(&["tokens", "usd"]),
        _ => Want::Nothing,
    }
}

fn is_word(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
}

pub fn completion(
    server: &mut Server,
    params: CompletionParams,
) -> Result<Option<CompletionResponse>, String> {
    let Some((a, file, offset)) = locate(server, &params.text_document_position) else {
        return Ok(None);
    };
    let text = &a.file(file).text;
    let offset = a.file(file).clamp(offset);
    let before = text[..offset].trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
    let items = items(&a, context(before));
    Ok(Some(CompletionResponse::Array(items)))
}

fn simple(label: &str, kind: CompletionItemKind, detail: Option<String>) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail,
        ..Default::default()
    }
}

fn items(a: &Analysis, want: Want) -> Vec<CompletionItem> {
    let model = &a.checked.model;
    match want {
        Want::Nothing => Vec::new(),
        Want::Keywords => KEYWORDS
            .iter()
            .map(|k| simple(k, CompletionItemKind::KEYWORD, None))
            .collect(),
        Want::Settings(kind, provider) => settings_for(kind, provider.as_deref())
            .iter()
            .map(|spec| CompletionItem {
                label: spec.name.to_string(),
                kind: Some(CompletionItemKind::PROPERTY),
                detail: Some(spec.example.to_string()),
                documentation: Some(Documentation::MarkupContent(MarkupContent {
                    kind: MarkupKind::Markdown,
                    value: format!("{}\n\nexpects {}", spec.doc, spec.shape.expected()),
                })),
                ..Default::default()
            })
            .collect(),
        Want::Providers => PROVIDERS
            .iter()
            .map(|p| {
                simple(
                    p,
                    CompletionItemKind::ENUM_MEMBER,
                    Some("agent provider".into()),
                )
            })
            .collect(),
        Want::Choices(names) => names
            .iter()
            .map(|n| simple(n, CompletionItemKind::ENUM_MEMBER, None))
            .collect(),
        Want::Symbols(kind) => visible(a, &[kind]),
        Want::Types => {
            let mut out: Vec<CompletionItem> = PRIMITIVES
                .iter()
                .map(|p| simple(p, CompletionItemKind::STRUCT, Some("built-in type".into())))
                .collect();
            out.extend(visible(a, &[SymbolKind::Type, SymbolKind::Enum]));
            out
        }
        Want::BindingSources => {
            let mut out = visible(a, &[SymbolKind::Part]);
            if model.score.is_some() {
                out.push(simple(
                    "score",
                    CompletionItemKind::KEYWORD,
                    Some("an input given at run time".into()),
                ));
            }
            out
        }
        Want::Members(path) => members(a, &path),
    }
}

fn symbol_item(a: &Analysis, id: SymbolId, label: String) -> CompletionItem {
    let s = a.checked.model.symbol(id);
    CompletionItem {
        label,
        kind: Some(completion_kind(s.kind)),
        detail: Some(s.detail.clone()),
        documentation: s.doc.clone().map(Documentation::String),
        ..Default::default()
    }
}

fn completion_kind(kind: SymbolKind) -> CompletionItemKind {
    match kind {
        SymbolKind::Type => CompletionItemKind::STRUCT,
        SymbolKind::Enum => CompletionItemKind::ENUM,
        SymbolKind::Variant => CompletionItemKind::ENUM_MEMBER,
        SymbolKind::Check => CompletionItemKind::FUNCTION,
        SymbolKind::Contract => CompletionItemKind::INTERFACE,
        SymbolKind::Part => CompletionItemKind::CLASS,
        SymbolKind::Agent => CompletionItemKind::VALUE,
        SymbolKind::Intent => CompletionItemKind::EVENT,
        SymbolKind::Module => CompletionItemKind::MODULE,
        _ => CompletionItemKind::FIELD,
    }
}

/// Top-level symbols of these kinds that the document can name: its own,
/// those it imports by name, and `alias.NAME` for imported modules.
fn visible(a: &Analysis, kinds: &[SymbolKind]) -> Vec<CompletionItem> {
    let model = &a.checked.model;
    let top = |file, id: usize| {
        let s = &model.symbols[id];
        s.span.file == file && s.parent.is_none() && kinds.contains(&s.kind)
    };
    let mut out: Vec<CompletionItem> = (0..model.symbols.len())
        .filter(|&i| top(a.root, i))
        .map(|i| symbol_item(a, SymbolId(i as u32), model.symbols[i].name.clone()))
        .collect();
    for import in a.program.imports.iter().filter(|i| i.from == a.root) {
        let Some(module) = import.module else {
            continue;
        };
        for i in (0..model.symbols.len()).filter(|&i| top(module, i)) {
            let name = &model.symbols[i].name;
            let label = match &import.kind {
                ImportKind::Items(items) if items.iter().any(|it| &it.name == name) => name.clone(),
                ImportKind::Module { alias } => format!("{}.{name}", alias.name),
                ImportKind::Items(_) => continue,
            };
            out.push(symbol_item(a, SymbolId(i as u32), label));
        }
    }
    out.sort_by(|x, y| x.label.cmp(&y.label));
    out.dedup_by(|x, y| x.label == y.label);
    out
}

/// What may follow `path.`.
fn members(a: &Analysis, path: &str) -> Vec<CompletionItem> {
    let model = &a.checked.model;
    // `use std.` and `use ` (module paths).
    if path.is_empty() || path == "std" || path.starts_with("std.") {
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}.")
        };
        let mut out: Vec<CompletionItem> = stdlib::modules()
            .filter_map(|(name, _)| name.strip_prefix(prefix.as_str()))
            .map(|rest| rest.split('.').next().unwrap_or(rest).to_string())
            .map(|seg| simple(&seg, CompletionItemKind::MODULE, None))
            .collect();
        out.dedup_by(|x, y| x.label == y.label);
        if !out.is_empty() {
            return out;
        }
    }
    if path == "score" {
        return model
            .score
            .iter()
            .flat_map(|s| &s.inputs)
            .map(|p| symbol_item(a, p.symbol, p.name.clone()))
            .collect();
    }
    if let Some(part) = model.find_part(path) {
        return model
            .part(part)
            .outputs
            .iter()
            .map(|o| symbol_item(a, o.symbol, o.name.clone()))
            .collect();
    }
    // `alias.` of an imported module.
    for import in a.program.imports.iter().filter(|i| i.from == a.root) {
        if let (ImportKind::Module { alias }, Some(module)) = (&import.kind, import.module)
            && alias.name == path
        {
            return (0..model.symbols.len())
                .filter(|&i| {
                    let s = &model.symbols[i];
                    s.span.file == module && s.parent.is_none() && s.kind != SymbolKind::Module
                })
                .map(|i| symbol_item(a, SymbolId(i as u32), model.symbols[i].name.clone()))
                .collect();
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_wants_keywords() {
        assert_eq!(context(""), Want::Keywords);
        assert_eq!(context("part a { }\n"), Want::Keywords);
    }

    #[test]
    fn part_header() {
        assert_eq!(context("part a: "), Want::Symbols(SymbolKind::Contract));
        assert_eq!(context("part a: B + "), Want::Symbols(SymbolKind::Contract));
        assert_eq!(context("part a: B by "), Want::Symbols(SymbolKind::Agent));
        assert_eq!(context("agent a: "), Want::Providers);
    }

    #[test]
    fn settings_and_values() {
        assert_eq!(
            context("part a {\n  "),
            Want::Settings(DeclKind::Part, None)
        );
        assert_eq!(
            context("agent a: openai {\n  model \"x\"\n  "),
            Want::Settings(DeclKind::Agent, Some("openai".into()))
        );
        assert_eq!(
            context("part a {\n  serves "),
            Want::Symbols(SymbolKind::Intent)
        );
        assert_eq!(
            context("part a {\n  serves x, "),
            Want::Symbols(SymbolKind::Intent)
        );
        assert_eq!(context("part a {\n  input n = "), Want::BindingSources);
        assert_eq!(
            context("part a {\n  input n = p."),
            Want::Members("p".into())
        );
        assert_eq!(context("part a {\n  output n: "), Want::Types);
        assert_eq!(context("type T {\n  f: "), Want::Types);
        assert_eq!(
            context("sequence {\n  a -> "),
            Want::Symbols(SymbolKind::Part)
        );
        assert!(matches!(
            context("part a {\n  complexity "),
            Want::Choices(_)
        ));
    }

    #[test]
    fn nothing_inside_strings_and_comments() {
        assert_eq!(context("part a {\n  brief \"some "), Want::Nothing);
        assert_eq!(context("// part a: "), Want::Nothing);
    }

    #[test]
    fn non_ascii_text_is_tokenized() {
        assert_eq!(
            context("intent é \"ü\" {\n  "),
            Want::Settings(DeclKind::Intent, None)
        );
    }
}
