//! `score fmt`: the one canonical layout of `.score` files.
//!
//! Like `gofmt` and `rustfmt`, the formatter has no options. It reads the
//! syntax tree (plus the source text, for comments and blank lines) and
//! prints it again; a file with syntax errors is left alone.
//!
//! # Style
//!
//! Lines:
//! - Indentation is 2 spaces; lines end with `\n`, never with trailing
//!   spaces; the file ends with exactly one newline (an empty file stays
//!   empty).
//! - The target width is 100 columns. Only what can break does: a
//!   setting's values, lists, maps, call arguments, check parameters, `use`
//!   item lists, sequence groups, enums and chains. A line that cannot break
//!   (a long string, a part header) is left long.
//!
//! Declarations:
//! - One blank line between top-level declarations, except that consecutive
//!   `use` lines stay together with none.
//! - `score x {`, `type T {`, `contract C {`, `agent a: provider {`,
//!   `part p: A + B by agent {`, `check c(param: Type) {`, `sequence {`,
//!   `intent i "statement" {` (or no braces, as written): a single space
//!   before the `{`; an empty body is `{}`.
//! - `use a.b.c` and `use a.b.{x, y}`.
//! - Bodies hold one setting (type field, chain) per line. A blank line
//!   between two of them is kept where the source had one or more; blank
//!   lines at the start or end of a body are removed.
//! - Type fields are `name: Type`, one per line, without commas.
//! - `enum E { a, b }` on one line when it fits, has no doc comments and no
//!   comments that need a line; else one variant per line, each followed by
//!   a comma.
//! - Sequences: one chain per line, `a -> [b, c] -> d`; a chain too long for
//!   the line breaks before every `->`, the arrows indented one level.
//!
//! Settings and values:
//! - `name value, value`: on one line when it fits; else the name alone and
//!   the values one per line, indented one level. A single value always
//!   stays on the name's line (it breaks inside itself if it can).
//! - Lists `[a, b]`, maps `{ key: value }`, calls `check(arg: v, w)`,
//!   groups `[b, c]`, `use` items `{x, y}`: flat when they fit, else one
//!   element per line, indented, with a trailing comma.
//! - Types `T?`, `[T]`, `{K: V}`; typed values `n: T` and `n: T = a.b`;
//!   bindings `n = a.b`; tagged values `tokens 200_000`.
//! - Numbers and durations keep their spelling (`200_000`, `15m`).
//! - Strings are spelled canonically from their value: `\"`, `\\`, `\n`,
//!   `\t`, `\r`, `\0` for those characters, `\u{X}` for other control and
//!   invisible (bidirectional) characters, anything else as itself. A
//!   string already spelled that way is unchanged.
//! - Text blocks open with `"""` at the end of the line, hold their value's
//!   lines indented 2 spaces more than that line, and close with `"""` on a
//!   line of its own at the same indentation as the content. The value is
//!   exactly preserved: the few characters that would otherwise read
//!   differently (whitespace that would look like indentation, a third `"`
//!   in a row, `\r`) are escaped.
//!
//! Comments (none is ever dropped, and their order is kept):
//! - A comment on its own line stays on its own line before the same
//!   declaration, setting, field, variant, chain or element, re-indented;
//!   the blank lines around it are kept as in the source (at most one).
//! - A comment after code on the same line stays at the end of that line,
//!   after one space (and after the element's comma). Inside a list, call,
//!   map or enum this breaks the list one element per line.
//! - A block comment followed by code on its line stays inline before that
//!   code: `/* x */ tier complex`.
//! - Comments after the last element of a body or list stay on their own
//!   lines before the closing bracket.
//! - Comments between a declaration's keyword and its `{` move to the end
//!   of the `{` line.
//! - Line comments lose trailing whitespace; other text is unchanged.
//! - Doc comments are written as `/// text` lines (`///` for an empty
//!   line) right before their declaration, setting, field or variant.

mod doc;
mod layout;
mod literal;

use crate::diagnostics::Diagnostic;
use crate::source::FileId;
use crate::syntax::{self, ast};

/// Parse `text` and return its canonical layout. A file with a syntax error
/// is not formatted: the error diagnostics are returned instead.
pub fn format_source(file: FileId, text: &str) -> Result<String, Vec<Diagnostic>> {
    let (tree, diagnostics) = syntax::parse(file, text);
    let errors: Vec<Diagnostic> = diagnostics
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(format_file(&tree, text))
}

/// The canonical text of an already-parsed file. `text` is the source the
/// tree was parsed from: comments and blank lines are read from it.
///
/// Declarations that failed to parse ([`ast::Item::Error`]) are copied as
/// written.
pub fn format_file(file: &ast::File, text: &str) -> String {
    let mut layout = layout::Layout::new(text, &file.comments);
    let doc = layout.file(&file.items);
    doc::print(&doc, layout::WIDTH)
}

#[cfg(test)]
mod tests;
