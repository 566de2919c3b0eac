//! Decoding of literals: string escapes, text block indentation, numbers and
//! durations. The grammar only delimits literals; everything that can go wrong
//! inside one (an unknown escape, a duration too large to count) is reported
//! here, at the exact bytes concerned, without losing the declaration.

use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Span};

const KNOWN_ESCAPES: &str =
    "the escapes are `\\\"`, `\\\\`, `\\n`, `\\t`, `\\r`, `\\0` and `\\u{HEX}`";

/// Decode the escapes of `raw` (the text between the quotes of a string, or
/// one line of a text block), which starts at byte `offset` of `file`.
/// Unknown or malformed escapes are reported and kept as written, so the
/// value stays close to what the user meant.
pub(crate) fn unescape_into(
    out: &mut String,
    raw: &str,
    file: FileId,
    offset: usize,
    diags: &mut Vec<Diagnostic>,
) {
    // Fast path: most strings have no escape at all.
    let Some(first) = raw.find('\\') else {
        out.push_str(raw);
        return;
    };
    out.push_str(&raw[..first]);
    let mut rest = &raw[first..];
    let mut at = offset + first;
    while let Some(after) = rest.strip_prefix('\\') {
        let mut chars = after.chars();
        let consumed = match chars.next() {
            Some('"') => push(out, '"'),
            Some('\\') => push(out, '\\'),
            Some('n') => push(out, '\n'),
            Some('t') => push(out, '\t'),
            Some('r') => push(out, '\r'),
            Some('0') => push(out, '\0'),
            Some('u') => unicode_escape(out, after, file, at, diags),
            Some(other) => {
                let len = 1 + other.len_utf8();
                diags.push(
                    Diagnostic::new(
                        Code::E0001,
                        format!("unknown escape `\\{other}` in a string"),
                    )
                    .primary(Span::new(file, at, at + len), "unknown escape")
                    .help(format!("{KNOWN_ESCAPES}; write `\\\\` for a backslash")),
                );
                out.push('\\');
                out.push(other);
                other.len_utf8()
            }
            None => {
                // A backslash at the end of a text block line (strings cannot
                // hold one: the grammar stops them at the end of the line).
                diags.push(
                    Diagnostic::new(Code::E0001, "a `\\` at the end of a line is not an escape")
                        .primary(Span::new(file, at, at + 1), "nothing to escape")
                        .help(format!("{KNOWN_ESCAPES}; write `\\\\` for a backslash")),
                );
                out.push('\\');
                0
            }
        };
        let step = 1 + consumed;
        at += step;
        rest = &rest[step..];
        let next = rest.find('\\').unwrap_or(rest.len());
        out.push_str(&rest[..next]);
        at += next;
        rest = &rest[next..];
    }
}

fn push(out: &mut String, c: char) -> usize {
    out.push(c);
    1
}

/// `after` starts with the `u` of `\u{...}`; returns how many bytes of
/// `after` the escape uses.
fn unicode_escape(
    out: &mut String,
    after: &str,
    file: FileId,
    at: usize,
    diags: &mut Vec<Diagnostic>,
) -> usize {
    let body = &after[1..];
    let close = body
        .strip_prefix('{')
        .and_then(|inner| inner.find('}').map(|end| (inner, end)));
    let (hex, len) = match close {
        Some((inner, end)) => (&inner[..end], 1 + 1 + end + 1),
        None => {
            diags.push(
                Diagnostic::new(Code::E0001, "malformed unicode escape in a string")
                    .primary(Span::new(file, at, at + 2), "expected `\\u{HEX}`")
                    .help("write a code point in hexadecimal between braces, e.g. `\\u{1F3B5}`"),
            );
            out.push_str("\\u");
            return 1;
        }
    };
    let span = Span::new(file, at, at + 1 + len);
    let valid_digits =
        !hex.is_empty() && hex.len() <= 6 && hex.bytes().all(|b| b.is_ascii_hexdigit());
    let decoded = if valid_digits {
        u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
    } else {
        None
    };
    match decoded {
        Some(c) => out.push(c),
        None => {
            let why = if valid_digits {
                "is not a Unicode scalar value"
            } else {
                "needs 1 to 6 hexadecimal digits"
            };
            diags.push(
                Diagnostic::new(Code::E0001, format!("invalid unicode escape: `\\u{{{hex}}}` {why}"))
                    .primary(span, "invalid unicode escape")
                    .help("write a code point in hexadecimal, at most 10FFFF and not a surrogate, e.g. `\\u{1F3B5}`"),
            );
            out.push_str(&after[..len]);
        }
    }
    len
}

/// Decode a one-line string whose content (between the quotes) is `raw`,
/// starting at byte `offset`.
pub(crate) fn string_value(
    raw: &str,
    file: FileId,
    offset: usize,
    diags: &mut Vec<Diagnostic>,
) -> String {
    let mut out = String::with_capacity(raw.len());
    unescape_into(&mut out, raw, file, offset, diags);
    out
}

/// Decode a text block whose content (between the `"""`s) is `raw`, starting
/// at byte `offset`:
/// - a first line holding only whitespace (usually just the newline right
///   after the opening `"""`) is dropped;
/// - a final line holding only whitespace before the closing `"""` is dropped;
/// - the common leading whitespace of the non-blank lines is removed, and
///   blank lines become empty;
/// - lines are joined with `\n` (a `\r\n` file gives the same value), and
///   escapes are decoded after the indentation is removed, so an escaped
///   `\n` never changes what counts as indentation.
pub(crate) fn text_block_value(
    raw: &str,
    file: FileId,
    offset: usize,
    diags: &mut Vec<Diagnostic>,
) -> String {
    // (start offset within raw, line text without its terminator)
    let mut lines: Vec<(usize, &str)> = Vec::new();
    let mut start = 0;
    for (i, b) in raw.bytes().enumerate() {
        if b == b'\n' {
            lines.push((start, trim_cr(&raw[start..i])));
            start = i + 1;
        }
    }
    lines.push((start, trim_cr(&raw[start..])));

    let blank = |line: &str| line.bytes().all(|b| b == b' ' || b == b'\t');
    let mut first = 0;
    let mut last = lines.len();
    if lines.len() > 1 && blank(lines[0].1) {
        first = 1;
    }
    if last > first && blank(lines[last - 1].1) {
        last -= 1;
    }
    let lines = &lines[first..last];

    let mut indent: Option<&str> = None;
    for &(_, line) in lines {
        if blank(line) {
            continue;
        }
        let lead = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
        indent = Some(match indent {
            None => lead,
            Some(common) => {
                let same = common
                    .bytes()
                    .zip(lead.bytes())
                    .take_while(|(a, b)| a == b)
                    .count();
                &common[..same]
            }
        });
    }
    let indent = indent.map_or(0, str::len);

    let mut out = String::with_capacity(raw.len());
    for (i, &(at, line)) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if blank(line) {
            continue;
        }
        unescape_into(&mut out, &line[indent..], file, offset + at + indent, diags);
    }
    out
}

fn trim_cr(line: &str) -> &str {
    line.strip_suffix('\r').unwrap_or(line)
}

/// The value of a number literal such as `200_000`, `-3` or `0.25`.
pub(crate) fn number_value(raw: &str) -> f64 {
    let cleaned: String = raw.chars().filter(|&c| c != '_').collect();
    // The grammar admits only `-?digits(.digits)?`, which always parses; a
    // huge literal becomes infinity rather than an error.
    cleaned.parse().unwrap_or(f64::INFINITY)
}

/// The length of a duration such as `500ms`, `30s`, `15m` or `2h`, in
/// milliseconds; `None` if it does not fit in 64 bits.
pub(crate) fn duration_millis(raw: &str) -> Option<u64> {
    let (digits, factor) = if let Some(d) = raw.strip_suffix("ms") {
        (d, 1)
    } else if let Some(d) = raw.strip_suffix('s') {
        (d, 1_000)
    } else if let Some(d) = raw.strip_suffix('m') {
        (d, 60_000)
    } else if let Some(d) = raw.strip_suffix('h') {
        (d, 3_600_000)
    } else {
        return None;
    };
    let mut n: u64 = 0;
    for b in digits.bytes().filter(|&b| b != b'_') {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    n.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unescape(raw: &str) -> (String, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let v = string_value(raw, FileId(0), 10, &mut diags);
        (v, diags)
    }

    #[test]
    fn every_escape() {
        let (v, d) = unescape(r#"a\"b\\c\nd\te\rf\0g\u{1F3B5}h\u{e9}"#);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(v, "a\"b\\c\nd\te\rf\0g\u{1F3B5}h\u{e9}");
    }

    #[test]
    fn unknown_escape_is_reported_at_the_escape() {
        let (v, d) = unescape(r"ab\qc");
        assert_eq!(v, r"ab\qc");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, Code::E0001);
        assert!(d[0].message.contains("`\\q`"), "{}", d[0].message);
        // `\q` is at bytes 2..4 of the raw text, which starts at 10.
        assert_eq!(d[0].primary_span().unwrap().range(), 12..14);
    }

    #[test]
    fn unknown_escape_of_a_multibyte_char() {
        let (v, d) = unescape("x\\é");
        assert_eq!(v, "x\\é");
        assert_eq!(d[0].primary_span().unwrap().range(), 11..14);
    }

    #[test]
    fn bad_unicode_escapes() {
        for raw in [
            r"\u{}",
            r"\u{110000}",
            r"\u{D800}",
            r"\u{1234567}",
            r"\u{zz}",
            r"\u12",
            r"\u{12",
        ] {
            let (_, d) = unescape(raw);
            assert_eq!(d.len(), 1, "{raw}");
            assert_eq!(d[0].primary_span().unwrap().start, 10, "{raw}");
        }
    }

    #[test]
    fn escapes_after_an_error_still_decode() {
        let (v, d) = unescape(r"\x\n");
        assert_eq!(v, "\\x\n");
        assert_eq!(d.len(), 1);
    }

    fn block(raw: &str) -> String {
        let mut diags = Vec::new();
        let v = text_block_value(raw, FileId(0), 0, &mut diags);
        assert!(diags.is_empty());
        v
    }

    #[test]
    fn text_block_strips_common_indentation() {
        let raw = "\n    Define the Link type.\n      Indented more.\n\n    Last.\n    ";
        assert_eq!(
            block(raw),
            "Define the Link type.\n  Indented more.\n\nLast."
        );
    }

    #[test]
    fn text_block_edge_cases() {
        assert_eq!(block(""), "");
        assert_eq!(block("inline"), "inline");
        assert_eq!(block("  padded  "), "padded  ");
        assert_eq!(block("\n"), "");
        assert_eq!(block("\r\n  a\r\n  b\r\n  "), "a\nb");
        // content right after the opening quotes counts as a line
        assert_eq!(block("first\n  second\n"), "first\n  second");
        // the closing line's indentation does not count
        assert_eq!(block("\n    a\n  "), "a");
        // blank lines in the middle do not limit the indentation
        assert_eq!(block("\n    a\n  \n    b\n"), "a\n\nb");
        // tabs and spaces: only the common prefix is removed
        assert_eq!(block("\n\t  a\n\t b\n"), " a\nb");
    }

    #[test]
    fn text_block_escapes_after_stripping() {
        assert_eq!(block("\n  a\\n  b\n  \\\"\"\n"), "a\n  b\n\"\"");
    }

    #[test]
    fn text_block_escape_error_points_into_the_line() {
        let mut diags = Vec::new();
        let raw = "\n    ok\n    bad \\q\n";
        text_block_value(raw, FileId(0), 100, &mut diags);
        assert_eq!(diags.len(), 1);
        let at = 100 + raw.find("\\q").unwrap();
        assert_eq!(diags[0].primary_span().unwrap().range(), at..at + 2);
    }

    #[test]
    fn numbers() {
        assert_eq!(number_value("200_000"), 200_000.0);
        assert_eq!(number_value("0.2"), 0.2);
        assert_eq!(number_value("-1_0.5_0"), -10.5);
    }

    #[test]
    fn durations() {
        assert_eq!(duration_millis("500ms"), Some(500));
        assert_eq!(duration_millis("30s"), Some(30_000));
        assert_eq!(duration_millis("15m"), Some(900_000));
        assert_eq!(duration_millis("2h"), Some(7_200_000));
        assert_eq!(duration_millis("1_000ms"), Some(1_000));
        assert_eq!(duration_millis("99999999999999999999h"), None);
        assert_eq!(duration_millis("9999999999999999h"), None);
    }
}
