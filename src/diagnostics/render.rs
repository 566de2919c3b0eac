//! Rendering diagnostics: rustc-like text through codespan-reporting, and
//! JSON Lines for tools.

use super::{Diagnostic, Severity};
use crate::source::{SourceMap, Span};
use codespan_reporting::diagnostic as cs;
use codespan_reporting::term;
use serde_json::{Value, json};

/// Whether human output is coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal (and `NO_COLOR` is unset).
    #[default]
    Auto,
    Always,
    Never,
}

fn to_codespan(diagnostic: &Diagnostic) -> cs::Diagnostic<crate::source::FileId> {
    let severity = match diagnostic.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
        Severity::Note => cs::Severity::Note,
    };
    let labels = diagnostic
        .labels
        .iter()
        .map(|label| {
            let style = if label.primary {
                cs::LabelStyle::Primary
            } else {
                cs::LabelStyle::Secondary
            };
            cs::Label::new(style, label.span.file, label.span.range())
                .with_message(label.message.clone())
        })
        .collect();
    let mut notes: Vec<String> = diagnostic
        .notes
        .iter()
        .map(|n| format!("note: {n}"))
        .collect();
    if let Some(help) = &diagnostic.help {
        notes.push(format!("help: {help}"));
    }
    cs::Diagnostic::new(severity)
        .with_code(diagnostic.code.as_str())
        .with_message(diagnostic.message.clone())
        .with_labels(labels)
        .with_notes(notes)
}

/// Render diagnostics as rustc-style text, each followed by a blank line.
pub fn render_human(sources: &SourceMap, diagnostics: &[Diagnostic], color: bool) -> String {
    let config = term::Config::default();
    let mut out = String::new();
    for diagnostic in diagnostics {
        let cs = to_codespan(diagnostic);
        let rendered = if color {
            let mut buffer = term::termcolor::Buffer::ansi();
            match term::emit_to_write_style(&mut buffer, &config, sources, &cs) {
                Ok(()) => String::from_utf8_lossy(buffer.as_slice()).into_owned(),
                Err(err) => fallback(diagnostic, &err),
            }
        } else {
            term::emit_into_string(&config, sources, &cs)
                .unwrap_or_else(|err| fallback(diagnostic, &err))
        };
        out.push_str(&rendered);
        if !rendered.ends_with("\n\n") {
            out.push('\n');
        }
    }
    out
}

// A span that codespan cannot draw is a bug, but the user must still see the
// message rather than nothing.
fn fallback(diagnostic: &Diagnostic, err: &codespan_reporting::files::Error) -> String {
    format!(
        "{}[{}]: {} (could not draw its source: {err})\n",
        diagnostic.severity.as_str(),
        diagnostic.code,
        diagnostic.message
    )
}

fn position(sources: &SourceMap, span: Span) -> serde_json::Map<String, Value> {
    let file = sources.get(span.file);
    let start = file.line_col(span.start as usize);
    let end = file.line_col(span.end as usize);
    let mut map = serde_json::Map::new();
    map.insert("file".into(), json!(file.name));
    map.insert("line".into(), json!(start.line));
    map.insert("column".into(), json!(start.column));
    map.insert("end_line".into(), json!(end.line));
    map.insert("end_column".into(), json!(end.column));
    map
}

/// One diagnostic as a JSON object: `code`, `severity`, `message`, the
/// primary position (`file`, `line`, `column`, `end_line`, `end_column`, all
/// 1-based, columns in characters), `labels` (each with the same position
/// fields, `message` and `primary`), `notes` and `help`.
pub fn to_json(sources: &SourceMap, diagnostic: &Diagnostic) -> Value {
    let mut object = serde_json::Map::new();
    object.insert("code".into(), json!(diagnostic.code.as_str()));
    object.insert("severity".into(), json!(diagnostic.severity.as_str()));
    object.insert("message".into(), json!(diagnostic.message));
    match diagnostic.primary_span() {
        Some(span) => object.extend(position(sources, span)),
        None => {
            for key in ["file", "line", "column", "end_line", "end_column"] {
                object.insert(key.into(), Value::Null);
            }
        }
    }
    let labels: Vec<Value> = diagnostic
        .labels
        .iter()
        .map(|label| {
            let mut map = position(sources, label.span);
            map.insert("message".into(), json!(label.message));
            map.insert("primary".into(), json!(label.primary));
            Value::Object(map)
        })
        .collect();
    object.insert("labels".into(), Value::Array(labels));
    object.insert("notes".into(), json!(diagnostic.notes));
    object.insert("help".into(), json!(diagnostic.help));
    Value::Object(object)
}

/// JSON Lines: one object per diagnostic, each on its own line.
pub fn render_json(sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        out.push_str(&to_json(sources, diagnostic).to_string());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Code;
    use crate::source::Origin;

    #[test]
    fn json_positions_are_one_based_characters() {
        let mut sources = SourceMap::new();
        let text = "part é {\n  bogus 1\n}\n";
        let file = sources.add("a.score", Origin::Memory, text.to_string());
        let start = text.find("bogus").unwrap();
        let diagnostic = Diagnostic::new(Code::E0104, "unknown setting `bogus`")
            .primary(Span::new(file, start, start + 5), "not a setting of a part")
            .help("did you mean `brief`?");
        let value = to_json(&sources, &diagnostic);
        assert_eq!(value["line"], 2);
        assert_eq!(value["column"], 3);
        assert_eq!(value["end_column"], 8);
        assert_eq!(value["severity"], "error");
        assert_eq!(value["labels"][0]["message"], "not a setting of a part");
        let human = render_human(&sources, &[diagnostic], false);
        assert!(human.contains("error[E0104]: unknown setting `bogus`"));
        assert!(human.contains("a.score:2:3"));
        assert!(human.contains("help: did you mean `brief`?"));
    }
}
