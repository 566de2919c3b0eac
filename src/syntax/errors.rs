//! Turning a pest failure into an E0001 that users understand.
//!
//! Pest knows what it tried at the furthest position it reached (literal
//! tokens and character classes); this module re-lexes the declaration up
//! to that point to learn what surrounds it (which bracket is open, what
//! came just before) and says, in the language's own words, what was
//! expected: "expected a type, found `{`", "expected `}` to close part
//! `store`", "expected a setting name or `}`". Rule names never reach users.

use std::collections::BTreeSet;
use std::sync::Mutex;

use pest::Parser;
use pest::error::{Error, ErrorVariant, InputLocation};

use super::grammar::{Rule, ScoreParser};
use super::lower::dangling_doc_diagnostic;
use super::scan::Keyword;
use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// How many failing parses currently need pest's detailed error tracking.
/// The switch is process-wide and costly, so it is on only while some
/// thread re-parses a declaration that already failed.
static DETAIL_USERS: Mutex<usize> = Mutex::new(0);

/// Parse `text` with `rule` again, this time tracking what pest expected at
/// the furthest position. Returns `None` if the parse succeeds (it cannot,
/// as the caller saw it fail).
pub(crate) fn detailed_failure(rule: Rule, text: &str) -> Option<Error<Rule>> {
    set_detail(true);
    let result = ScoreParser::parse(rule, text);
    set_detail(false);
    result.err()
}

fn set_detail(on: bool) {
    // A poisoned lock only means another thread panicked while holding it;
    // the counter itself is still meaningful.
    let mut users = DETAIL_USERS.lock().unwrap_or_else(|e| e.into_inner());
    if on {
        *users += 1;
        if *users == 1 {
            pest::set_error_detail(true);
        }
    } else {
        *users = users.saturating_sub(1);
        if *users == 0 {
            pest::set_error_detail(false);
        }
    }
}

/// The declaration being parsed.
pub(crate) struct ChunkContext<'t> {
    pub file: FileId,
    /// The whole file.
    pub text: &'t str,
    /// The chunk: `text[start..end]`.
    pub start: usize,
    pub end: usize,
    pub keyword: Keyword,
}

pub(crate) struct SyntaxError {
    pub diagnostic: Diagnostic,
    /// The text before the error is a whole declaration (pest would have
    /// accepted the end of the chunk there): the caller may keep it.
    pub declaration_complete: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TokKind {
    Word,
    Number,
    Str,
    TextBlock,
    Doc,
    Punct,
}

#[derive(Clone, Copy, Debug)]
struct Tok {
    start: usize,
    end: usize,
    kind: TokKind,
}

/// The next token of `text` at or after `i` and before `end`, skipping
/// whitespace and ordinary comments. Unterminated strings and comments have
/// been reported by the scanner and never reach here; they still end at the
/// line or chunk end, so this never fails.
fn next_token(text: &str, mut i: usize, end: usize) -> Option<Tok> {
    let b = text.as_bytes();
    while i < end {
        match b[i] {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let line_end = text[i..end].find('\n').map_or(end, |n| i + n);
                if super::scan::is_doc_comment(b, i) {
                    return Some(Tok {
                        start: i,
                        end: line_end,
                        kind: TokKind::Doc,
                    });
                }
                i = line_end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0usize;
                while i < end {
                    if b[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 2;
                    } else if b[i..].starts_with(b"*/") {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'"' => {
                let start = i;
                if b[i..].starts_with(b"\"\"\"") {
                    i += 3;
                    while i < end && !b[i..].starts_with(b"\"\"\"") {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    return Some(Tok {
                        start,
                        end: (i + 3).min(end),
                        kind: TokKind::TextBlock,
                    });
                }
                i += 1;
                while i < end && b[i] != b'"' && b[i] != b'\n' {
                    i += if b[i] == b'\\' && b.get(i + 1) != Some(&b'\n') {
                        2
                    } else {
                        1
                    };
                }
                return Some(Tok {
                    start,
                    end: (i + 1).min(end),
                    kind: TokKind::Str,
                });
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < end && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                return Some(Tok {
                    start,
                    end: i,
                    kind: TokKind::Word,
                });
            }
            c if c.is_ascii_digit() => {
                let start = i;
                while i < end && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
                    i += 1;
                }
                return Some(Tok {
                    start,
                    end: i,
                    kind: TokKind::Number,
                });
            }
            _ => {
                let start = i;
                let two = &b[i..end.min(i + 2)];
                let len = if two == b"->" || two == b".{" {
                    2
                } else {
                    text[i..].chars().next().map_or(1, char::len_utf8)
                };
                return Some(Tok {
                    start,
                    end: (i + len).min(end),
                    kind: TokKind::Punct,
                });
            }
        }
    }
    None
}

/// What the user can write at the error position, as pest saw it.
#[derive(Default, Debug)]
struct Expected {
    name: bool,
    digit: bool,
    string: bool,
    boolean: bool,
    minus: bool,
    literals: BTreeSet<String>,
}

impl Expected {
    /// `tokens` are pest's expected tokens as displayed: a literal as
    /// written, a character class as `a..z` (pest does not export the token
    /// type itself).
    fn from_tokens(tokens: impl IntoIterator<Item = String>) -> Expected {
        let mut e = Expected::default();
        for token in tokens {
            let chars: Vec<char> = token.chars().collect();
            if let [start, '.', '.', _] = chars[..] {
                if start.is_ascii_digit() {
                    e.digit = true;
                } else if start.is_ascii_alphabetic() {
                    e.name = true;
                }
                continue;
            }
            match token.as_str() {
                " " | "\t" | "\n" | "\r" | "//" | "/*" | "/" | "///" | "BUILTIN_RULE" => {}
                "_" => e.name = true,
                "\"" | "\"\"\"" => e.string = true,
                "-" => e.minus = true,
                "true" | "false" => e.boolean = true,
                _ => {
                    e.literals.insert(token);
                }
            }
        }
        e
    }
}

/// Where the error is, structurally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    /// Not inside any bracket: the declaration's header.
    Header,
    /// Directly inside the declaration's `{ ... }`.
    Body,
    /// Inside `use a.{ ... }`.
    UseItems,
    /// Inside the `( ... )` of a check's parameters.
    Params,
    /// Inside a nested bracket: `(`, `[` or `{` at this offset.
    Nested(u8, usize),
}

/// Order in which punctuation is listed in "expected ..." messages: what
/// continues the current construct first, what closes it last.
const PUNCT_ORDER: &[&str] = &[
    ":", "=", "(", "+", "by", ".{", "->", ",", "{", "[", ")", "]", "}",
];

fn join_or(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

pub(crate) fn describe(ctx: &ChunkContext, err: &Error<Rule>) -> SyntaxError {
    let text = ctx.text;
    let file = ctx.file;
    let location = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    if let ErrorVariant::CustomError { message } = &err.variant {
        // Pest's own stack guard: the scanner bounds nesting, so this means a
        // thread with very little stack. Report it rather than crash.
        let at = ctx.start + location.min(ctx.end - ctx.start);
        return SyntaxError {
            diagnostic: Diagnostic::new(Code::E0001, "nesting too deep")
                .primary(
                    Span::new(file, at, at),
                    format!("the parser gave up here ({message})"),
                )
                .help("flatten this declaration"),
            declaration_complete: false,
        };
    }
    let attempts = err.parse_attempts();
    let (rel, expected) = match &attempts {
        Some(a) => (
            a.max_position,
            Expected::from_tokens(a.expected_tokens().iter().map(|t| t.to_string())),
        ),
        None => (location, Expected::default()),
    };
    let eoi = matches!(&err.variant, ErrorVariant::ParsingError { positives, .. }
        if positives.contains(&Rule::EOI) && location == rel);
    let pos = ctx.start + rel.min(ctx.end - ctx.start);

    // Re-lex the chunk up to the error: the token there (snapping back to
    // the start of a token pest failed inside of), the one before, and the
    // brackets still open.
    let mut open: Vec<(u8, usize)> = Vec::new();
    let mut body_brace: Option<usize> = None;
    let mut params_paren: Option<usize> = None;
    let mut prev: Option<Tok> = None;
    let mut before_prev: Option<Tok> = None;
    let mut found: Option<Tok> = None;
    let mut i = ctx.start;
    while let Some(tok) = next_token(text, i, ctx.end) {
        if tok.end > pos {
            found = Some(tok);
            break;
        }
        if tok.kind == TokKind::Punct {
            let slice = &text.as_bytes()[tok.start..tok.end];
            match slice {
                b"{" | b"[" | b"(" | b".{" => {
                    if open.is_empty() {
                        if slice == b"{" || slice == b".{" {
                            body_brace.get_or_insert(tok.start);
                        } else if slice == b"("
                            && ctx.keyword == Keyword::Check
                            && body_brace.is_none()
                        {
                            params_paren = Some(tok.start);
                        }
                    }
                    open.push((slice[slice.len() - 1], tok.start));
                }
                b"}" | b"]" | b")" => {
                    open.pop();
                }
                _ => {}
            }
        }
        before_prev = prev;
        prev = Some(tok);
        i = tok.end;
    }

    let place = match open.last() {
        None => Place::Header,
        Some(&(_, at)) if Some(at) == body_brace && ctx.keyword == Keyword::Use => Place::UseItems,
        Some(&(_, at)) if Some(at) == body_brace => Place::Body,
        Some(&(_, at)) if Some(at) == params_paren => Place::Params,
        Some(&(b, at)) => Place::Nested(b, at),
    };

    let keyword = ctx.keyword.as_str();
    let decl_name = declaration_name(ctx);
    let what_decl = match (&decl_name, ctx.keyword) {
        (_, Keyword::Sequence) => "the sequence".to_string(),
        (Some(name), _) => format!("{keyword} `{name}`"),
        (None, _) => format!("this {keyword}"),
    };
    let tok_text = |t: Tok| &text[t.start..t.end];

    // A `///` where nothing can be documented.
    if let Some(t) = found.filter(|t| t.kind == TokKind::Doc) {
        return SyntaxError {
            diagnostic: dangling_doc_diagnostic(Span::new(file, t.start, t.end)),
            declaration_complete: eoi,
        };
    }

    // `15min`, `1.5h`: a malformed number or duration.
    // (Only where a number could go: pest failed inside the token, or
    // wanted a digit. `part 9lives` is a bad name, not a bad number.)
    if let Some(t) = found.filter(|t| {
        t.kind == TokKind::Number
            && (pos > t.start || expected.digit)
            && tok_text(*t).bytes().any(|b| b.is_ascii_alphabetic())
    }) {
        let raw = tok_text(t);
        let digits_end = raw
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(raw.len());
        let (number, unit) = raw.split_at(digits_end);
        let diagnostic = if matches!(unit, "ms" | "s" | "m" | "h") && number.contains('.') {
            Diagnostic::new(Code::E0001, format!("`{raw}` is not a valid duration"))
                .primary(
                    Span::new(file, t.start, t.end),
                    "a duration is a whole number",
                )
                .help("use a smaller unit, e.g. `90m` rather than `1.5h`")
        } else {
            Diagnostic::new(Code::E0001, format!("`{raw}` is not a valid number or duration"))
                .primary(Span::new(file, t.start, t.end), format!("unknown unit `{unit}`"))
                .help("a duration is a whole number followed by `ms`, `s`, `m` or `h`, e.g. `500ms`, `30s`, `15m`, `2h`")
        };
        return SyntaxError {
            diagnostic,
            declaration_complete: false,
        };
    }

    let found_text = match found {
        None if ctx.end >= text.len() => "end of file".to_string(),
        None => "the next declaration".to_string(),
        Some(t) => match t.kind {
            TokKind::TextBlock => "a text block".to_string(),
            _ => {
                let s = tok_text(t);
                if s.chars().count() > 24 {
                    let cut: String = s.chars().take(20).collect();
                    format!("`{cut}...`")
                } else {
                    format!("`{s}`")
                }
            }
        },
    };
    // Where the primary label goes: the offending token, or just after the
    // last token when the declaration simply stops.
    let (primary, at_end) = match found {
        Some(t) => (Span::new(file, t.start, t.end), false),
        None => {
            let end = prev.map_or(pos, |t| t.end);
            (Span::new(file, end, end), true)
        }
    };

    // Text after a complete declaration.
    let nothing_else = !expected.name
        && !expected.digit
        && !expected.string
        && !expected.boolean
        && expected.literals.is_empty();
    if eoi && nothing_else {
        return SyntaxError {
            diagnostic: stray_text(primary, &found_text),
            declaration_complete: true,
        };
    }

    // Unclosed bracket at the end of the declaration.
    if at_end
        && let Some(&(close, open_at)) = open.last()
        && expected.literals.contains(closing_of(close))
    {
        let closing = closing_of(close);
        let (what, label) = match place {
            Place::Body | Place::UseItems => {
                (what_decl.clone(), format!("{what_decl} starts here"))
            }
            Place::Params => (
                "the parameter list".to_string(),
                "the parameter list starts here".to_string(),
            ),
            _ => {
                let w = match close {
                    b'{' => "this map",
                    b'[' => "this list",
                    _ => "these arguments",
                };
                (w.to_string(), "opened here".to_string())
            }
        };
        let open_len = if text.as_bytes()[open_at] == b'.' {
            2
        } else {
            1
        };
        let diagnostic =
            Diagnostic::new(Code::E0001, format!("expected `{closing}` to close {what}"))
                .primary(primary, format!("expected `{closing}` after this"))
                .secondary(Span::new(file, open_at, open_at + open_len), label)
                .help(format!("add the missing `{closing}`"));
        return SyntaxError {
            diagnostic,
            declaration_complete: false,
        };
    }

    // The general case: list what fits here.
    let prev_text = prev.map(tok_text);
    let mut items: Vec<String> = Vec::new();
    let mut literals = expected.literals.clone();
    let value_like = expected.digit || expected.minus || expected.boolean;
    if value_like {
        items.push("a value".to_string());
        for absorbed in ["[", "{"] {
            literals.remove(absorbed);
        }
    } else if expected.name && literals.contains("[") && literals.contains("{") {
        items.push("a type".to_string());
        literals.remove("[");
        literals.remove("{");
    } else if expected.name && expected.string {
        items.push(match place {
            Place::Nested(b'{', _) => "a key (a name or a string)".to_string(),
            _ => "a name or a string".to_string(),
        });
    } else if expected.name {
        items.push(name_description(
            ctx.keyword,
            place,
            prev_text,
            before_prev.map(tok_text),
        ));
    } else if expected.string {
        items.push(match ctx.keyword {
            Keyword::Intent if place == Place::Header => "a statement in quotes".to_string(),
            _ => "a string".to_string(),
        });
    }
    let mut puncts: Vec<&str> = PUNCT_ORDER
        .iter()
        .copied()
        .filter(|p| literals.contains(*p))
        .collect();
    for l in &literals {
        if !PUNCT_ORDER.contains(&l.as_str()) {
            puncts.push(l);
        }
    }
    // `?` may follow any type, but is rarely what is missing.
    if puncts.len() > 1 || !items.is_empty() {
        puncts.retain(|p| *p != "?");
    }
    items.extend(puncts.iter().map(|p| format!("`{p}`")));
    if eoi {
        items.push("a new declaration".to_string());
    }
    if items.is_empty() {
        let diagnostic = Diagnostic::new(
            Code::E0001,
            format!("unexpected {found_text} in {what_decl}"),
        )
        .primary(primary, "not expected here");
        return SyntaxError {
            diagnostic,
            declaration_complete: eoi,
        };
    }

    let expected_text = join_or(&items);
    let message = if value_like
        && place == Place::Body
        && prev.is_some_and(|t| t.kind == TokKind::Word)
        && items.len() == 1
    {
        format!(
            "expected a value after `{}`, found {found_text}",
            prev_text.unwrap_or_default()
        )
    } else {
        format!("expected {expected_text}, found {found_text}")
    };
    let label = if at_end {
        format!("expected {expected_text} after this")
    } else {
        format!("expected {expected_text}")
    };
    let mut diagnostic = Diagnostic::new(Code::E0001, message).primary(primary, label);
    let habit = match (place, found) {
        (Place::Body, Some(t)) => separator_habit(text, t, ctx.end, prev_text, value_like),
        _ => None,
    };
    if let Some(help) =
        habit.or_else(|| help_for(ctx.keyword, place, &expected, prev_text, value_like))
    {
        diagnostic = diagnostic.help(help);
    }
    SyntaxError {
        diagnostic,
        declaration_complete: eoi,
    }
}

/// `retries: 1;`, a YAML or CSS habit: a `:` between a setting and its
/// value, or a `;` after it. The help says what to drop, with the setting
/// as it should be written.
fn separator_habit(
    text: &str,
    found: Tok,
    end: usize,
    setting: Option<&str>,
    value_like: bool,
) -> Option<String> {
    let line_end = text[found.end..end]
        .find('\n')
        .map_or(end, |i| found.end + i);
    let rest = text[found.end..line_end].trim();
    match &text[found.start..found.end] {
        ":" if value_like => {
            let setting = setting?;
            let value = rest.trim_end_matches(';').trim_end();
            let value = if value.is_empty() { "VALUE" } else { value };
            let semicolon = if rest.ends_with(';') {
                " and the `;`"
            } else {
                ""
            };
            Some(format!(
                "drop the `:`{semicolon}: a setting is its name, a space and its value, e.g. \
                 `{setting} {value}`"
            ))
        }
        ";" => Some(
            "drop the `;`: there is no separator between settings; a setting's values end \
             where no comma follows"
                .to_string(),
        ),
        _ => None,
    }
}

fn closing_of(open: u8) -> &'static str {
    match open {
        b'{' => "}",
        b'[' => "]",
        _ => ")",
    }
}

/// "a setting name", "a field name", "a contract name", ...
fn name_description(
    keyword: Keyword,
    place: Place,
    prev: Option<&str>,
    before_prev: Option<&str>,
) -> String {
    let s = match place {
        Place::Body => match keyword {
            Keyword::Type => "a field name",
            Keyword::Enum => "a variant name",
            Keyword::Sequence => "a part name",
            _ => "a setting name",
        },
        Place::UseItems => "an item name",
        Place::Params => "a parameter name",
        Place::Nested(b'[', _) if keyword == Keyword::Sequence => "a part name",
        Place::Nested(..) => "a name",
        Place::Header => match (keyword, prev) {
            (_, Some(p)) if p == keyword.as_str() => {
                return format!("a name for the {}", keyword.as_str());
            }
            (Keyword::Use, Some(".")) => "a module or item name",
            (Keyword::Part, Some(":" | "+")) => "a contract name",
            (Keyword::Part, Some("by")) => "an agent name",
            (Keyword::Agent, Some(":")) if before_prev.is_some() => {
                "a provider (`openai`, `anthropic`, `command` or `mock`)"
            }
            _ => "a name",
        },
    };
    s.to_string()
}

fn help_for(
    keyword: Keyword,
    place: Place,
    expected: &Expected,
    prev: Option<&str>,
    value_like: bool,
) -> Option<String> {
    let only = |lit: &str| {
        expected.literals.len() == 1 && expected.literals.contains(lit) && !expected.name
    };
    Some(match (keyword, place) {
        (Keyword::Agent, Place::Header) if only(":") => {
            "an agent names its provider after a colon, e.g. `agent coder: command { ... }`".to_string()
        }
        (Keyword::Part, Place::Header) if expected.literals.contains("by") => {
            "a part is written `part NAME[: Contract + Contract] [by agent] { ... }`".to_string()
        }
        (Keyword::Type, Place::Body) if only(":") => "write each field as `name: Type`".to_string(),
        (Keyword::Check, Place::Params) if only(":") => "write each parameter as `name: Type`".to_string(),
        (_, Place::Body) if value_like && prev.is_some() => {
            "a setting is a name followed by one or more values separated by commas, e.g. `serves shorten, redirect`"
                .to_string()
        }
        (Keyword::Sequence, _) if expected.literals.contains("->") || expected.name => {
            "a sequence lists chains of parts, e.g. `model -> [store, docs] -> api`".to_string()
        }
        _ => return None,
    })
}

/// The name after the declaration keyword, if it is one.
fn declaration_name(ctx: &ChunkContext) -> Option<String> {
    let mut i = ctx.start;
    let mut after_keyword = false;
    while let Some(tok) = next_token(ctx.text, i, ctx.end) {
        i = tok.end;
        if tok.kind == TokKind::Doc {
            continue;
        }
        if !after_keyword {
            after_keyword = true;
            continue;
        }
        return (tok.kind == TokKind::Word).then(|| ctx.text[tok.start..tok.end].to_string());
    }
    None
}

/// E0001 for text that belongs to no declaration.
pub(crate) fn stray_text(span: Span, found: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E0001,
        format!("expected a declaration (`score`, `use`, `type`, `enum`, `intent`, `check`, `contract`, `agent`, `part` or `sequence`), found {found}"),
    )
    .primary(span, "expected a declaration")
    .help("every declaration starts with its keyword, e.g. `part NAME { ... }`; remove the stray text or comment it out with `//`")
}

/// The first token at or after `at` as shown in messages: "`xyz`".
pub(crate) fn token_text(file: FileId, text: &str, at: usize) -> (Span, String, bool) {
    match next_token(text, at, text.len()) {
        Some(t) => {
            let s = &text[t.start..t.end];
            let shown = if s.chars().count() > 24 {
                format!("`{}...`", s.chars().take(20).collect::<String>())
            } else {
                format!("`{s}`")
            };
            (
                Span::new(file, t.start, t.end),
                shown,
                t.kind == TokKind::Doc,
            )
        }
        None => (Span::new(file, at, at), "end of file".to_string(), false),
    }
}
