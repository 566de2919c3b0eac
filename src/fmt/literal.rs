//! Canonical spelling of string literals and text blocks, derived from their
//! value, so that two spellings of one value format the same.

use std::fmt::Write as _;

/// Characters written as `\u{X}` although they are legal in the source:
/// controls, and the invisible characters that can make text read
/// differently from what the compiler sees (bidirectional overrides, line
/// and paragraph separators, the byte-order mark).
fn needs_unicode_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// Escape one character that has a fixed escape in both strings and text
/// blocks; `false` if `c` is written as itself.
fn push_escape(out: &mut String, c: char) -> bool {
    match c {
        '\\' => out.push_str("\\\\"),
        '\r' => out.push_str("\\r"),
        '\0' => out.push_str("\\0"),
        c if needs_unicode_escape(c) => {
            let _ = write!(out, "\\u{{{:X}}}", c as u32);
        }
        _ => return false,
    }
    true
}

/// The canonical `"..."` literal of a string value: `\"`, `\\`, `\n`, `\t`,
/// `\r`, `\0` for those characters, `\u{X}` for other invisible ones, every
/// other character as itself.
pub(crate) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => {
                if !push_escape(&mut out, c) {
                    out.push(c);
                }
            }
        }
    }
    out.push('"');
    out
}

/// The content lines of the canonical text block holding `value`, to be
/// written one per line between a `"""` line and an indented closing
/// `"""`, each non-empty line at the same indentation; `""` is an empty line.
///
/// The reader of a text block drops the first line (empty here) and the last
/// (the closing line's indentation), removes the common indentation of the
/// non-blank lines, turns blank lines into empty ones and then decodes
/// escapes. So, for the value to survive:
/// - a line of the value made only of spaces and tabs would read as blank:
///   its first character is escaped;
/// - if every non-empty line starts with a space or tab, that whitespace
///   would read as indentation: the first one of the first line is escaped;
/// - `\r` is escaped (a raw one would read as part of a `\r\n` line end) and
///   a third `"` in a row is escaped (`"""` would close the block).
pub(crate) fn text_block_lines(value: &str) -> Vec<String> {
    if value.is_empty() {
        return Vec::new();
    }
    let lines: Vec<&str> = value.split('\n').collect();
    let starts_blank = |line: &str| line.starts_with([' ', '\t']);
    let all_indented = lines
        .iter()
        .filter(|l| !l.is_empty())
        .all(|l| starts_blank(l));
    let mut protect_first = all_indented;
    lines
        .iter()
        .map(|line| {
            if line.is_empty() {
                return String::new();
            }
            let whitespace_only = line.chars().all(|c| c == ' ' || c == '\t');
            let protect = whitespace_only || std::mem::take(&mut protect_first);
            escape_block_line(line, protect)
        })
        .collect()
}

fn escape_block_line(line: &str, protect_first: bool) -> String {
    let mut out = String::with_capacity(line.len());
    let mut quotes = 0;
    for (i, c) in line.chars().enumerate() {
        if c == '"' {
            if quotes == 2 {
                out.push_str("\\\"");
                quotes = 0;
            } else {
                out.push('"');
                quotes += 1;
            }
            continue;
        }
        quotes = 0;
        match c {
            ' ' if i == 0 && protect_first => out.push_str("\\u{20}"),
            '\t' if i == 0 && protect_first => out.push_str("\\t"),
            '\t' => out.push('\t'),
            c => {
                if !push_escape(&mut out, c) {
                    out.push(c);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_strings_are_unchanged() {
        assert_eq!(quote("src/**"), "\"src/**\"");
        assert_eq!(quote("héllo 🎵"), "\"héllo 🎵\"");
    }

    #[test]
    fn strings_escape_quotes_backslashes_and_controls() {
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(quote("a\nb\tc\rd\0e"), r#""a\nb\tc\rd\0e""#);
        assert_eq!(quote("\u{7}\u{202E}"), r#""\u{7}\u{202E}""#);
    }

    #[test]
    fn block_lines_keep_relative_indentation() {
        assert_eq!(text_block_lines("a\n  b\n\nc"), ["a", "  b", "", "c"]);
    }

    #[test]
    fn an_empty_block_has_no_lines() {
        assert!(text_block_lines("").is_empty());
        assert_eq!(text_block_lines("\n"), ["", ""]);
    }

    #[test]
    fn common_indentation_of_the_value_is_protected() {
        assert_eq!(text_block_lines("  a\n  b"), ["\\u{20} a", "  b"]);
        assert_eq!(text_block_lines("\tx"), ["\\tx"]);
    }

    #[test]
    fn whitespace_only_lines_are_protected() {
        assert_eq!(text_block_lines("a\n  \nb"), ["a", "\\u{20} ", "b"]);
    }

    #[test]
    fn triple_quotes_and_backslashes_are_escaped() {
        assert_eq!(text_block_lines(r#"say """hi""""#), [r#"say ""\"hi""\""#]);
        assert_eq!(text_block_lines("a\\b\r"), ["a\\\\b\\r"]);
    }
}
