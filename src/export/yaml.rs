//! A small YAML emitter for JSON values: block style, deterministic.
//!
//! Kubernetes tools read YAML, and the Workflow that `score export argo`
//! writes is reviewed and committed by people, so it is emitted as block
//! YAML rather than JSON. The emitter is small on purpose (the one YAML
//! crate that used to be everyone's choice is no longer maintained):
//!
//! - Objects keep the order of their keys in the `Value` (this crate builds
//!   serde_json with `preserve_order`), so the caller decides the order —
//!   for Kubernetes documents the conventional `apiVersion`, `kind`,
//!   `metadata`, `spec` — and the same `Value` always gives the same bytes.
//! - A string is written plain only when no YAML reader could take it for
//!   anything else. The test is deliberately conservative and covers YAML
//!   1.1 too (what Kubernetes' own reader implements): `yes`, `no`, `on`,
//!   `off`, `y`, `n`, numbers in any base, `1:20` (base 60), dates, `~`,
//!   `null`, and anything starting with an indicator character are quoted.
//! - A multi-line string is a literal block (`|` or `|-`) when that can
//!   represent it exactly; otherwise, like every string that cannot be
//!   plain, it is quoted: in single quotes when it holds `"` or `\` and
//!   nothing that needs an escape, else in double quotes with escapes
//!   (`\n`, `\t`, `\x1b`, `\u2028`).
//! - Empty objects and lists are `{}` and `[]`; nothing else uses the flow
//!   style. Lists under a key are indented by two spaces.

use serde_json::Value;

/// `value` as a YAML document (block style, a final line break).
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0, false),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0, false),
        // A top-level scalar is never a literal block nor plain text at
        // column 0 (where `---` or `...` would end the document).
        Value::String(s) => {
            out.push_str(&double_quoted(s));
            out.push('\n');
        }
        other => {
            out.push_str(&non_string_scalar(other));
            out.push('\n');
        }
    }
    out
}

/// Implicit keys may be at most 1024 characters long (YAML 1.2, 7.4.1);
/// longer ones are written as explicit `? key` entries.
const MAX_IMPLICIT_KEY: usize = 1000;

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// The entries of a non-empty map, each at `indent`. With `inline_first`,
/// the first entry continues the current line (after `- `).
fn write_map(
    out: &mut String,
    map: &serde_json::Map<String, Value>,
    indent: usize,
    inline_first: bool,
) {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 || !inline_first {
            pad(out, indent);
        }
        let key_text = string_scalar_inline(key);
        if key_text.chars().count() > MAX_IMPLICIT_KEY {
            out.push_str("? ");
            out.push_str(&key_text);
            out.push('\n');
            pad(out, indent);
        } else {
            out.push_str(&key_text);
        }
        out.push(':');
        write_after_indicator(out, value, indent);
    }
}

/// The items of a non-empty list, each at `indent`.
fn write_seq(out: &mut String, items: &[Value], indent: usize, inline_first: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline_first {
            pad(out, indent);
        }
        out.push('-');
        match item {
            Value::Object(map) if !map.is_empty() => {
                out.push(' ');
                write_map(out, map, indent + 2, true);
            }
            Value::Array(inner) if !inner.is_empty() => {
                out.push(' ');
                write_seq(out, inner, indent + 2, true);
            }
            scalar => {
                out.push(' ');
                write_scalar(out, scalar, indent + 2);
            }
        }
    }
}

/// The value of a map entry whose key (at `indent`) has just been written
/// with its `:`.
fn write_after_indicator(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_map(out, map, indent + 2, false);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, indent + 2, false);
        }
        scalar => {
            out.push(' ');
            write_scalar(out, scalar, indent + 2);
        }
    }
}

/// A scalar (or an empty collection) and its line break; a literal block's
/// lines are indented by `content_indent`.
fn write_scalar(out: &mut String, value: &Value, content_indent: usize) {
    match value {
        Value::String(s) => match literal_block(s) {
            Some((header, lines)) => {
                out.push_str(header);
                out.push('\n');
                for line in lines {
                    // Empty lines stay empty: no trailing spaces.
                    if !line.is_empty() {
                        pad(out, content_indent);
                        out.push_str(line);
                    }
                    out.push('\n');
                }
            }
            None => {
                out.push_str(&string_scalar_inline(s));
                out.push('\n');
            }
        },
        other => {
            out.push_str(&non_string_scalar(other));
            out.push('\n');
        }
    }
}

fn non_string_scalar(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        // serde_json writes integers as digits and floats with a `.` or an
        // exponent (`1.5`, `1e300`): both read back as the same number.
        Value::Number(n) => n.to_string(),
        Value::Array(_) => "[]".to_string(),
        Value::Object(_) => "{}".to_string(),
        Value::String(s) => string_scalar_inline(s),
    }
}

/// A string on one line: plain when that is unambiguous, else quoted —
/// in single quotes when it holds `"` or `\` and nothing that needs an
/// escape (an expression reads better as `'a != "1"'`), else in double
/// quotes.
fn string_scalar_inline(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_string()
    } else if s.contains(['"', '\\']) && !s.chars().any(needs_escape) {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        double_quoted(s)
    }
}

/// Characters a quoted scalar can only hold as an escape: line breaks,
/// tabs and everything that is not printable.
fn needs_escape(c: char) -> bool {
    matches!(c, '\n' | '\t' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}') || !is_printable(c)
}

/// Words that YAML 1.1 or 1.2 reads as booleans or null (compared without
/// case: quoting `nO` too costs nothing).
const SPECIAL_WORDS: &[&str] = &["y", "n", "yes", "no", "true", "false", "on", "off", "null"];

/// Whether `s` can be written as a plain scalar and read back as the same
/// string by any YAML reader, 1.1 or 1.2.
///
/// Conservative: it must start with a letter, `_`, `/`, or `-`/`--`
/// followed by a letter (so `--plan` stays readable), which rules out
/// numbers, dates, `.inf`, `~` and every indicator character; it may then
/// hold letters, digits, spaces and `_-./+=@,()%~`, and `:` when not
/// followed by a space; no leading or trailing space; not a boolean or null
/// word. Anything else is quoted, which is always correct.
pub fn is_plain_safe(s: &str) -> bool {
    let bytes = s.as_bytes();
    let Some(&first) = bytes.first() else {
        return false;
    };
    let starts_well = match first {
        b'a'..=b'z' | b'A'..=b'Z' | b'_' | b'/' => true,
        b'-' => match bytes.get(1) {
            Some(c) if c.is_ascii_alphabetic() => true,
            Some(b'-') => bytes.get(2).is_some_and(|c| c.is_ascii_alphabetic()),
            _ => false,
        },
        _ => false,
    };
    if !starts_well || s.ends_with(' ') {
        return false;
    }
    for (i, &c) in bytes.iter().enumerate() {
        let ok = match c {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => true,
            b' ' | b'_' | b'-' | b'.' | b'/' | b'+' | b'=' | b'@' | b',' | b'(' | b')' | b'%'
            | b'~' => true,
            b':' => bytes.get(i + 1).is_some_and(|&n| n != b' '),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    !SPECIAL_WORDS.iter().any(|w| w.eq_ignore_ascii_case(s))
}

/// A YAML double-quoted scalar: `"` and `\` escaped, and every character
/// that is not printable or that a YAML 1.1 reader would take for a line
/// break (`\u0085`, `\u2028`, `\u2029`), plus the byte-order mark.
pub fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if is_printable(c) => out.push(c),
            c if (c as u32) <= 0xFF => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) <= 0xFFFF => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// YAML's `c-printable`, less the byte-order mark (which a reader may drop).
fn is_printable(c: char) -> bool {
    matches!(c as u32,
        0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFEFE | 0xFF00..=0xFFFD | 0x10000..=0x10FFFF)
}

/// The header (`|` or `|-`) and the lines of `s` as a literal block, when a
/// literal block reads back as exactly `s`: it has a line break and a
/// non-empty line, ends with at most one line break, has only printable
/// characters and no tab or carriage return, no line made of spaces only,
/// and its first non-empty line does not start with a space (that line
/// sets the block's indentation).
fn literal_block(s: &str) -> Option<(&'static str, Vec<&str>)> {
    if !s.contains('\n') || s.ends_with("\n\n") {
        return None;
    }
    if s.chars()
        .any(|c| c != '\n' && (!is_printable(c) || c == '\u{2028}' || c == '\u{2029}'))
    {
        return None;
    }
    let (header, body) = match s.strip_suffix('\n') {
        Some(body) => ("|", body),
        None => ("|-", s),
    };
    let lines: Vec<&str> = body.split('\n').collect();
    let first = lines.iter().find(|l| !l.is_empty())?;
    if first.starts_with(' ') {
        return None;
    }
    if lines
        .iter()
        .any(|l| !l.is_empty() && l.trim_start_matches(' ').is_empty())
    {
        return None;
    }
    Some((header, lines))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_are_block_style_in_the_given_key_order() {
        let doc = json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Workflow",
            "spec": {
                "list": ["a", {"name": "x", "value": 1}, [], {}],
                "nested": [["p", "q"]],
                "empty": {},
            },
        });
        assert_eq!(
            to_yaml(&doc),
            "apiVersion: argoproj.io/v1alpha1\n\
             kind: Workflow\n\
             spec:\n  \
               list:\n    \
                 - a\n    \
                 - name: x\n      \
                   value: 1\n    \
                 - []\n    \
                 - {}\n  \
               nested:\n    \
                 - - p\n      \
                   - q\n  \
               empty: {}\n"
        );
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "",
            " x",
            "x ",
            "yes",
            "No",
            "ON",
            "off",
            "y",
            "N",
            "true",
            "null",
            "~",
            "1",
            "1.5",
            "0x1F",
            "1_000",
            "1:20",
            "2001-12-14",
            ".inf",
            "-1",
            "a: b",
            "a #b",
            "#x",
            "{{x}}",
            "[x]",
            "*x",
            "&x",
            "!x",
            "|x",
            ">x",
            "'x",
            "\"x",
            "%x",
            "@x",
            "`x",
            "-",
            "--",
            "---",
            "- x",
            "? x",
            "x:",
            "<<",
            "=",
            "é",
        ] {
            assert!(!is_plain_safe(s), "{s:?} must be quoted");
            let text = to_yaml(&json!({ "k": s }));
            assert!(
                text.starts_with("k: \"") || text.starts_with("k: '"),
                "{s:?} gave {text}"
            );
        }
        for s in [
            "main",
            "--plan",
            "-p",
            "/score/plan.json",
            "ghcr.io/x/score:1",
            "score-run",
            "https://example.com/a.git",
            "Hello, world (again)",
        ] {
            assert!(is_plain_safe(s), "{s:?} may be plain");
        }
    }

    #[test]
    fn quotes_inside_are_single_quoted_when_nothing_needs_an_escape() {
        let text = to_yaml(&json!({"e": "a != \"1\"", "r": "\\d+ it's", "t": "\"\t"}));
        assert_eq!(text, "e: 'a != \"1\"'\nr: '\\d+ it''s'\nt: \"\\\"\\t\"\n");
    }

    #[test]
    fn escapes_cover_control_and_line_break_characters() {
        assert_eq!(double_quoted("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(double_quoted("\u{1b}[0m\t\r"), r#""\x1b[0m\t\r""#);
        assert_eq!(
            double_quoted("\u{85}\u{2028}\u{2029}\u{feff}"),
            r#""\N\L\P\ufeff""#
        );
        assert_eq!(double_quoted("\u{7f}\u{fffe}"), r#""\x7f\ufffe""#);
        assert_eq!(double_quoted("é ✓ 🎉"), "\"é ✓ 🎉\"");
    }

    #[test]
    fn multi_line_strings_are_literal_blocks_when_exact() {
        let text = to_yaml(&json!({"data": "{\n  \"a\": 1\n}\n", "b": "x\n\ny"}));
        assert_eq!(text, "data: |\n  {\n    \"a\": 1\n  }\nb: |-\n  x\n\n  y\n");
        // Cases a literal block cannot carry: quoted instead.
        for s in ["x\n\n", " x\ny", "x\n  \ny", "\n", "a\tb\nc", "a\r\nb"] {
            assert!(literal_block(s).is_none(), "{s:?}");
        }
        let text = to_yaml(&json!([" lead\nx"]));
        assert_eq!(text, "- \" lead\\nx\"\n");
    }

    #[test]
    fn long_keys_are_explicit() {
        let key = "k".repeat(1200);
        let text = to_yaml(&json!({ key.clone(): {"a": 1} }));
        assert_eq!(text, format!("? {key}\n:\n  a: 1\n"));
    }

    #[test]
    fn top_level_scalars() {
        assert_eq!(to_yaml(&json!("---")), "\"---\"\n");
        assert_eq!(to_yaml(&json!(3)), "3\n");
        assert_eq!(to_yaml(&json!(null)), "null\n");
        assert_eq!(to_yaml(&json!({})), "{}\n");
    }
}
