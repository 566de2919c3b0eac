//! The pre-scanner: one linear pass over a file, before pest runs.
//!
//! It knows just enough of the lexical structure (strings, text blocks,
//! comments, brackets, keywords) to
//! - split the file into top-level declaration chunks, so that each one is
//!   parsed on its own and a syntax error in one never hides the others;
//! - report what no per-declaration parse could report well: unterminated
//!   strings and text blocks (E0002, at the opening quote), unterminated block
//!   comments, and nesting deep enough to exhaust the parser's stack;
//! - collect every ordinary comment for the AST (the formatter needs them).
//!
//! A chunk starts at a declaration keyword (or at the `///` doc comment just
//! before it) when the keyword is
//! - outside any braces, and not where a name is expected (`part type {` is a
//!   part named `type`, not a new declaration), or
//! - inside unclosed braces but at the very start of a line (column 1) and
//!   followed by a name (or `{` for `sequence`): a previous declaration lacks
//!   its `}`, and the new one must still be parsed;
//! - where a name is expected but first on its line and followed by a name
//!   (`use std.` then `agent a: mock {}` on the next line).

use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Span};
use crate::syntax::ast::{Comment, CommentKind};

/// Brackets (`{`, `[`, `(`) and block comments nest at most this deep, and
/// no tree built from the text is taller: a `?` mark wraps the type before
/// it in one more level (`Text??` is `Optional(Optional(Text))` to the
/// parser), so a run of marks counts like brackets (`[Text?]?` is three
/// levels). The parser, the lowering and every pass over the tree (checker,
/// formatter, language server, even dropping it) recurse once per level;
/// the bound keeps any input far from the stack limit of any thread.
pub(crate) const MAX_NESTING: usize = 64;

const BRACKETS_HELP: &str = "flatten this value: a score never needs this much nesting";
const MARKS_HELP: &str =
    "write one `?`: a type is optional or not, and `Text??` means the same as `Text?`";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keyword {
    Score,
    Use,
    Type,
    Enum,
    Intent,
    Check,
    Contract,
    Agent,
    Part,
    Sequence,
}

impl Keyword {
    pub(crate) fn from_word(word: &[u8]) -> Option<Keyword> {
        Some(match word {
            b"score" => Keyword::Score,
            b"use" => Keyword::Use,
            b"type" => Keyword::Type,
            b"enum" => Keyword::Enum,
            b"intent" => Keyword::Intent,
            b"check" => Keyword::Check,
            b"contract" => Keyword::Contract,
            b"agent" => Keyword::Agent,
            b"part" => Keyword::Part,
            b"sequence" => Keyword::Sequence,
            _ => return None,
        })
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Keyword::Score => "score",
            Keyword::Use => "use",
            Keyword::Type => "type",
            Keyword::Enum => "enum",
            Keyword::Intent => "intent",
            Keyword::Check => "check",
            Keyword::Contract => "contract",
            Keyword::Agent => "agent",
            Keyword::Part => "part",
            Keyword::Sequence => "sequence",
        }
    }
}

/// Every reserved word of the language (declaration keywords, `by`, `true`,
/// `false`).
pub(crate) fn is_reserved(word: &str) -> bool {
    Keyword::from_word(word.as_bytes()).is_some() || matches!(word, "by" | "true" | "false")
}

/// A slice of the file holding at most one declaration.
#[derive(Clone, Debug)]
pub(crate) struct Chunk {
    /// First byte: the declaration's doc comment or keyword (0 for the first
    /// chunk, which may start with stray text).
    pub start: usize,
    /// One past the last byte: the start of the next chunk, or the file's end.
    pub end: usize,
    /// The declaration keyword that opens the chunk and its offset; `None`
    /// only for text before the first declaration.
    pub keyword: Option<(Keyword, usize)>,
    /// The first token that is neither a comment nor a doc comment.
    pub first_token: Option<usize>,
    /// The first `///` doc comment.
    pub first_doc: Option<usize>,
    /// End of the last token or doc comment (trailing trivia excluded).
    pub last_end: usize,
    /// A lexical error has been reported inside: the chunk is not parsed.
    pub broken: bool,
}

impl Chunk {
    fn new(start: usize, keyword: Option<(Keyword, usize)>) -> Chunk {
        Chunk {
            start,
            end: start,
            keyword,
            first_token: None,
            first_doc: None,
            last_end: start,
            broken: false,
        }
    }

    fn is_empty(&self) -> bool {
        self.keyword.is_none() && self.first_token.is_none() && self.first_doc.is_none()
    }
}

pub(crate) struct Scan {
    pub chunks: Vec<Chunk>,
    pub comments: Vec<Comment>,
    pub diagnostics: Vec<Diagnostic>,
}

/// What the last significant token was, to tell a new declaration from a
/// keyword misused as a name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Prev {
    /// A name is expected next: after a declaration keyword, `by`, `:`, `+`
    /// or `.`.
    ExpectName,
    Other,
}

struct Scanner<'t> {
    file: FileId,
    text: &'t str,
    bytes: &'t [u8],
    chunks: Vec<Chunk>,
    current: Chunk,
    comments: Vec<Comment>,
    diagnostics: Vec<Diagnostic>,
    /// Unclosed `{` (decides chunk boundaries).
    braces: usize,
    /// Unclosed `{`, `[` and `(` together (bounds recursion).
    nesting: usize,
    /// The height of the tree the text builds, tracked as it is read: for
    /// each unclosed bracket (up to [`MAX_NESTING`] of them), the tallest
    /// element closed inside it so far.
    tallest: Vec<usize>,
    /// The height of the element just read: brackets closed around it and
    /// `?` marks after it (0 for a name or literal).
    height: usize,
    prev: Prev,
    /// Start of the run of `///` lines seen since the last token.
    pending_doc: Option<usize>,
    /// `current.last_end` before that run began.
    end_before_doc: usize,
}

pub(crate) fn scan(file: FileId, text: &str) -> Scan {
    let mut s = Scanner {
        file,
        text,
        bytes: text.as_bytes(),
        chunks: Vec::new(),
        current: Chunk::new(0, None),
        comments: Vec::new(),
        diagnostics: Vec::new(),
        braces: 0,
        nesting: 0,
        tallest: Vec::new(),
        height: 0,
        prev: Prev::Other,
        pending_doc: None,
        end_before_doc: 0,
    };
    s.run();
    let mut last = s.current;
    last.end = text.len();
    if !last.is_empty() {
        s.chunks.push(last);
    }
    Scan {
        chunks: s.chunks,
        comments: s.comments,
        diagnostics: s.diagnostics,
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Byte length of the UTF-8 character starting with `b` (1 for stray
/// continuation bytes, which cannot occur in a `&str` anyway).
fn char_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// `///` followed by anything but a fourth `/`.
pub(crate) fn is_doc_comment(bytes: &[u8], at: usize) -> bool {
    bytes[at..].starts_with(b"///") && bytes.get(at + 3) != Some(&b'/')
}

impl Scanner<'_> {
    fn run(&mut self) {
        let len = self.bytes.len();
        // A byte order mark (as some Windows editors write) is not text.
        let mut i = if self.text.starts_with('\u{feff}') {
            3
        } else {
            0
        };
        while i < len {
            let b = self.bytes[i];
            i = match b {
                b' ' | b'\t' | b'\r' | b'\n' => i + 1,
                b'/' if self.bytes.get(i + 1) == Some(&b'/') => self.line_comment(i),
                b'/' if self.bytes.get(i + 1) == Some(&b'*') => self.block_comment(i),
                b'"' => self.string(i),
                _ if is_ident_start(b) => self.word(i),
                _ if b.is_ascii_digit() => {
                    let mut j = i + 1;
                    while j < len && (is_ident_char(self.bytes[j]) || self.bytes[j] == b'.') {
                        j += 1;
                    }
                    self.token(i, j, Prev::Other)
                }
                b'{' | b'[' | b'(' => {
                    if b == b'{' {
                        self.braces += 1;
                    }
                    self.nesting += 1;
                    if self.nesting > MAX_NESTING {
                        if !self.current.broken {
                            self.too_deep(i, 1, "brackets", BRACKETS_HELP);
                        }
                    } else {
                        self.tallest.push(0);
                    }
                    self.token(i, i + 1, Prev::Other)
                }
                b'}' | b']' | b')' => {
                    if b == b'}' {
                        self.braces = self.braces.saturating_sub(1);
                    }
                    // Brackets past the bound have no entry (their chunk is
                    // broken already); a stray closing one closes nothing.
                    let closed = (self.nesting <= MAX_NESTING)
                        .then(|| self.tallest.pop())
                        .flatten()
                        .map(|inside| inside.max(self.height) + 1);
                    self.nesting = self.nesting.saturating_sub(1);
                    let end = self.token(i, i + 1, Prev::Other);
                    if let Some(height) = closed {
                        self.grow(i, height, BRACKETS_HELP);
                    }
                    end
                }
                b'?' => {
                    let height = self.height + 1;
                    let end = self.token(i, i + 1, Prev::Other);
                    self.grow(i, height, MARKS_HELP);
                    end
                }
                b':' | b'+' | b'.' => self.token(i, i + 1, Prev::ExpectName),
                _ => self.token(i, i + char_len(b), Prev::Other),
            };
        }
    }

    /// The element just read is `height` levels tall (a bracket closed
    /// around it, or a `?` after it). Each bracket still open around it
    /// will add a level, so too tall with them is reported like too many
    /// brackets, at the token that made it so.
    fn grow(&mut self, at: usize, height: usize, help: &str) {
        self.height = height;
        if let Some(tallest) = self.tallest.last_mut() {
            *tallest = (*tallest).max(height);
        }
        if height + self.nesting > MAX_NESTING && !self.current.broken {
            self.too_deep(at, 1, "brackets and `?` marks", help);
        }
    }

    /// Record a significant token at `start..end`; returns `end`.
    fn token(&mut self, start: usize, end: usize, prev: Prev) -> usize {
        let end = end.min(self.bytes.len());
        if self.current.first_token.is_none() {
            self.current.first_token = Some(start);
        }
        self.current.last_end = end;
        self.pending_doc = None;
        self.prev = prev;
        // A new element starts (`grow` raises it again after a closing
        // bracket or a `?`).
        self.height = 0;
        end
    }

    fn line_comment(&mut self, start: usize) -> usize {
        let end = self.text[start..]
            .find('\n')
            .map_or(self.bytes.len(), |n| start + n);
        let content_end = if self.bytes[start..end].ends_with(b"\r") {
            end - 1
        } else {
            end
        };
        if is_doc_comment(self.bytes, start) {
            if self.pending_doc.is_none() {
                self.pending_doc = Some(start);
                self.end_before_doc = self.current.last_end;
            }
            self.current.first_doc.get_or_insert(start);
            self.current.last_end = content_end;
        } else {
            self.comments.push(Comment {
                text: self.text[start..content_end].to_string(),
                span: Span::new(self.file, start, content_end),
                kind: CommentKind::Line,
            });
        }
        end
    }

    fn block_comment(&mut self, start: usize) -> usize {
        let len = self.bytes.len();
        let mut depth = 0usize;
        let mut i = start;
        let mut reported = false;
        while i < len {
            if self.bytes[i..].starts_with(b"/*") {
                depth += 1;
                if depth > MAX_NESTING && !reported && !self.current.broken {
                    reported = true;
                    self.too_deep(i, 2, "block comments", BRACKETS_HELP);
                }
                i += 2;
            } else if self.bytes[i..].starts_with(b"*/") {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    self.comments.push(Comment {
                        text: self.text[start..i].to_string(),
                        span: Span::new(self.file, start, i),
                        kind: CommentKind::Block,
                    });
                    return i;
                }
            } else {
                i += 1;
            }
        }
        self.diagnostics.push(
            Diagnostic::new(Code::E0001, "unterminated block comment")
                .primary(Span::new(self.file, start, start + 2), "this comment is never closed")
                .help("add `*/` to end it; block comments nest, so each `/*` inside needs its own `*/`"),
        );
        self.current.broken = true;
        self.comments.push(Comment {
            text: self.text[start..].to_string(),
            span: Span::new(self.file, start, len),
            kind: CommentKind::Block,
        });
        len
    }

    fn string(&mut self, start: usize) -> usize {
        let len = self.bytes.len();
        if self.bytes[start..].starts_with(b"\"\"\"") {
            let mut i = start + 3;
            while i < len {
                match self.bytes[i] {
                    b'\\' => i += 2,
                    b'"' if self.bytes[i..].starts_with(b"\"\"\"") => {
                        return self.token(start, i + 3, Prev::Other);
                    }
                    _ => i += 1,
                }
            }
            self.token(start, len, Prev::Other);
            self.diagnostics.push(
                Diagnostic::new(Code::E0002, "unterminated text block")
                    .primary(
                        Span::new(self.file, start, start + 3),
                        "this text block is never closed",
                    )
                    .help("add a closing `\"\"\"`"),
            );
            self.current.broken = true;
            return len;
        }
        let mut i = start + 1;
        while i < len {
            match self.bytes[i] {
                b'\\' if self.bytes.get(i + 1).is_some_and(|&n| n != b'\n') => i += 2,
                b'"' => return self.token(start, i + 1, Prev::Other),
                b'\n' => break,
                _ => i += 1,
            }
        }
        // The string stops at the end of its line: the next line is scanned
        // normally, so one missing quote costs one declaration at most.
        let i = i.min(len);
        self.token(start, i, Prev::Other);
        self.diagnostics.push(
            Diagnostic::new(Code::E0002, "unterminated string")
                .primary(Span::new(self.file, start, start + 1), "this string is never closed")
                .help("add a closing `\"`")
                .note("a string ends with its line; for text over several lines, use a text block `\"\"\"...\"\"\"`"),
        );
        self.current.broken = true;
        i
    }

    fn word(&mut self, start: usize) -> usize {
        let len = self.bytes.len();
        let mut end = start + 1;
        while end < len && is_ident_char(self.bytes[end]) {
            end += 1;
        }
        let word = &self.bytes[start..end];
        if let Some(keyword) = Keyword::from_word(word) {
            if self.starts_declaration(keyword, start, end) {
                self.begin_chunk(keyword, start);
            }
            return self.token(start, end, Prev::ExpectName);
        }
        let prev = if word == b"by" {
            Prev::ExpectName
        } else {
            Prev::Other
        };
        self.token(start, end, prev)
    }

    fn starts_declaration(&self, keyword: Keyword, start: usize, end: usize) -> bool {
        // `score.repo` is a value, never a declaration.
        if self.bytes.get(end) == Some(&b'.') {
            return false;
        }
        if self.braces == 0 && self.prev != Prev::ExpectName {
            return true;
        }
        // Otherwise (inside braces, or where a name is expected), only a
        // keyword that starts a line and is followed by a name looks enough
        // like a new declaration: the previous one is unfinished.
        let line_start = if self.braces == 0 {
            self.bytes[..start]
                .iter()
                .rev()
                .take_while(|&&b| b != b'\n')
                .all(|&b| b == b' ' || b == b'\t')
        } else {
            start == 0 || self.bytes[start - 1] == b'\n'
        };
        if !line_start {
            return false;
        }
        let mut j = end;
        while j < self.bytes.len() && matches!(self.bytes[j], b' ' | b'\t') {
            j += 1;
        }
        if j == end {
            return false;
        }
        match self.bytes.get(j) {
            Some(&b'{') => keyword == Keyword::Sequence,
            Some(&b) => is_ident_start(b) && keyword != Keyword::Sequence,
            None => false,
        }
    }

    fn begin_chunk(&mut self, keyword: Keyword, at: usize) {
        let start = self.pending_doc.unwrap_or(at);
        let mut done = std::mem::replace(&mut self.current, Chunk::new(start, Some((keyword, at))));
        done.end = start;
        if self.pending_doc.is_some() {
            // The doc comment belongs to the new declaration.
            self.current.first_doc = Some(start);
            done.last_end = self.end_before_doc;
            if done.first_doc.is_some_and(|d| d >= start) {
                done.first_doc = None;
            }
        }
        if !done.is_empty() {
            self.chunks.push(done);
        }
        self.braces = 0;
        self.nesting = 0;
        self.tallest.clear();
        self.height = 0;
    }

    fn too_deep(&mut self, at: usize, len: usize, what: &str, help: &str) {
        self.diagnostics.push(
            Diagnostic::new(Code::E0001, "nesting too deep")
                .primary(
                    Span::new(self.file, at, at + len),
                    format!("more than {MAX_NESTING} levels of nested {what}"),
                )
                .help(help),
        );
        self.current.broken = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(text: &str) -> Vec<(Option<&'static str>, &str)> {
        scan(FileId(0), text)
            .chunks
            .iter()
            .map(|c| (c.keyword.map(|k| k.0.as_str()), &text[c.start..c.end]))
            .collect()
    }

    #[test]
    fn splits_at_declarations() {
        let text = "/// doc\nscore s { title \"x\" }\nuse std.checks\n\npart a by b { serves x }\nsequence { a -> b }\n";
        assert_eq!(
            chunks(text),
            vec![
                (Some("score"), "/// doc\nscore s { title \"x\" }\n"),
                (Some("use"), "use std.checks\n\n"),
                (Some("part"), "part a by b { serves x }\n"),
                (Some("sequence"), "sequence { a -> b }\n"),
            ]
        );
    }

    #[test]
    fn keywords_as_names_do_not_split() {
        let text = "part type { input x = score.repo }\nagent a: part {}\npart p: A + check {}";
        let got = chunks(text);
        assert_eq!(got.len(), 3, "{got:?}");
    }

    #[test]
    fn keywords_in_strings_comments_and_text_blocks_do_not_split() {
        let text = "part a {\n  brief \"\"\"\npart b {\n\"\"\"\n  note \"part c {\"\n// part d {\n/* part e { */\n}\n";
        assert_eq!(chunks(text).len(), 1);
    }

    #[test]
    fn missing_brace_does_not_swallow_the_next_declaration() {
        let text = "part a {\n  serves x\n\npart b {\n  serves y\n}\n";
        let got = chunks(text);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[1].1, "part b {\n  serves y\n}\n");
        // an indented keyword inside braces is not a boundary
        assert_eq!(chunks("part a {\n  part b {}\n}").len(), 1);
    }

    #[test]
    fn stray_text_before_the_first_declaration() {
        let s = scan(FileId(0), "xyz 1 2\npart a {}");
        assert_eq!(s.chunks.len(), 2);
        assert_eq!(s.chunks[0].keyword, None);
        assert_eq!(s.chunks[0].first_token, Some(0));
        // only comments: no chunk at all
        let s = scan(FileId(0), "// hello\n/* x */\n");
        assert!(s.chunks.is_empty());
        assert_eq!(s.comments.len(), 2);
    }

    #[test]
    fn comments_are_collected_but_not_docs() {
        let s = scan(
            FileId(0),
            "// a\r\n/// doc\n//// four\npart x { /* b /* nested */ */ }",
        );
        let texts: Vec<_> = s.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(texts, ["// a", "//// four", "/* b /* nested */ */"]);
        assert_eq!(s.comments[2].kind, CommentKind::Block);
        // the doc comment opens the part's chunk, across the `////` comment
        assert_eq!(s.chunks.len(), 1);
        assert_eq!(s.chunks[0].start, 6);
    }

    #[test]
    fn unterminated_string_points_at_the_quote() {
        let text = "part a {\n  brief \"oops\n}\npart b {}\n";
        let s = scan(FileId(0), text);
        assert_eq!(s.diagnostics.len(), 1);
        let d = &s.diagnostics[0];
        assert_eq!(d.code, Code::E0002);
        assert_eq!(
            d.primary_span().unwrap().start as usize,
            text.find('"').unwrap()
        );
        assert!(s.chunks[0].broken);
        assert!(!s.chunks[1].broken);
    }

    #[test]
    fn unterminated_text_block() {
        let text = "part a {\n  brief \"\"\"\n  never closed\n}\n";
        let s = scan(FileId(0), text);
        assert_eq!(s.diagnostics.len(), 1);
        assert_eq!(s.diagnostics[0].code, Code::E0002);
        assert_eq!(s.diagnostics[0].primary_span().unwrap().range(), 17..20);
    }

    #[test]
    fn escaped_quotes_do_not_end_strings() {
        let s = scan(FileId(0), "part a { x \"a\\\"b\", \"\"\"c\\\"\"\"\"\"\" }");
        assert!(s.diagnostics.is_empty(), "{:?}", s.diagnostics);
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        let s = scan(FileId(0), "\u{feff}part a {}");
        assert_eq!(s.chunks.len(), 1);
        assert_eq!(s.chunks[0].start, 3);
    }

    #[test]
    fn deep_nesting_is_reported_once() {
        let text = format!("part a {{ x {} }}", "[".repeat(500));
        let s = scan(FileId(0), &text);
        assert_eq!(s.diagnostics.len(), 1);
        assert_eq!(s.diagnostics[0].message, "nesting too deep");
        let text = format!("part a {{ {} }}", "/*".repeat(500));
        let s = scan(FileId(0), &text);
        assert_eq!(s.diagnostics.len(), 2, "{:?}", s.diagnostics); // too deep + unterminated
    }

    /// Whether the scanner accepts `inner` as a value inside a part's
    /// braces (else it reports it too deep).
    fn accepted(inner: &str) -> bool {
        let text = format!("part a {{ x: {inner} }}");
        let s = scan(FileId(0), &text);
        assert!(s.diagnostics.len() <= 1, "{:?}", s.diagnostics);
        s.diagnostics.is_empty()
    }

    #[test]
    fn optional_marks_count_as_levels() {
        // The part's braces take one level of the 64.
        assert!(accepted(&format!("Text{}", "?".repeat(63))));
        assert!(!accepted(&format!("Text{}", "?".repeat(64))));
        assert!(!accepted(&format!("Text{}", "?".repeat(25_000))));
        // Spaces and comments between marks change nothing.
        assert!(!accepted(&format!("Text{}", " /* c */ ?".repeat(64))));
        // Marks inside and after brackets add up along one path...
        let path = |n: usize| format!("{}Text{}", "[".repeat(n), "?]".repeat(n));
        assert!(accepted(&path(31)));
        assert!(accepted(&format!("{}?", path(31))));
        assert!(!accepted(&format!("{}??", path(31))));
        assert!(!accepted(&path(32)));
        // ...but not across siblings: a list of many optional types, or
        // many optional fields, is as shallow as one.
        let siblings = vec!["Text?"; 200].join(", ");
        assert!(accepted(&format!("[{siblings}]")));
        let text = format!("type T {{ {} }}", "a: Text?\n".repeat(200));
        assert!(scan(FileId(0), &text).diagnostics.is_empty());
        // The tallest sibling counts, wherever it is.
        let tall = |marks: usize| format!("Text{}", "?".repeat(marks));
        assert!(accepted(&format!("{{Text: {}}}?", tall(61))));
        assert!(!accepted(&format!("{{Text: {}}}?", tall(62))));
        assert!(accepted(&format!("{{{}: Text}}", tall(62))));
        assert!(!accepted(&format!("{{{}: Text}}", tall(63))));
    }

    #[test]
    fn the_mark_that_goes_too_deep_is_pointed_at() {
        let text = format!("part a {{ x: Text{} }}", "?".repeat(100));
        let s = scan(FileId(0), &text);
        assert_eq!(s.diagnostics.len(), 1);
        let d = &s.diagnostics[0];
        assert_eq!(d.message, "nesting too deep");
        // `part a { x: Text` then 63 marks are fine: the 64th is the one.
        let at = text.find('?').unwrap() + 63;
        assert_eq!(d.primary_span().unwrap().range(), at..at + 1);
        assert!(
            d.help.as_deref().unwrap().contains("write one `?`"),
            "{d:?}"
        );
        assert!(s.chunks[0].broken);
    }
}
