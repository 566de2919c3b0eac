//! A small document algebra in the style of Wadler's "prettier printer" (and
//! of the JavaScript tool Prettier, which popularised line suffixes for
//! trailing comments).
//!
//! The formatter first turns the syntax tree into a [`Doc`], then [`print`]s
//! it at a given width. A [`Doc::Group`] is printed on one line when it fits,
//! else every [`Doc::Line`] directly inside it becomes a newline. Hard breaks
//! (comments that must end a line, text blocks) force every enclosing group
//! to break; that fact is computed once, when the group is built.

/// A document: text plus the places where it may or must break.
#[derive(Clone, Debug)]
pub(crate) enum Doc {
    Nil,
    /// Text without newlines.
    Text(String),
    /// A space when the enclosing group is flat, else a newline.
    Line,
    /// Nothing when the enclosing group is flat, else a newline.
    SoftLine,
    /// Always a newline; breaks every enclosing group.
    HardLine,
    Concat(Vec<Doc>),
    /// Indent the lines that start inside by two more spaces.
    Indent(Box<Doc>),
    /// Print flat if it fits, else broken. `broken` is true when the group
    /// contains a hard break and so can never be flat.
    Group {
        doc: Box<Doc>,
        broken: bool,
    },
    /// Choose by the mode of the enclosing group (e.g. a trailing comma that
    /// only appears when a list is broken).
    IfBreak {
        broken: Box<Doc>,
        flat: Box<Doc>,
    },
    /// Text deferred to the end of the current line: a trailing comment
    /// written after an element, but printed after the comma that follows.
    LineSuffix(String),
    /// Forces the enclosing groups to break, prints nothing.
    BreakParent,
    /// Text printed as it is, possibly spanning lines (a multi-line block
    /// comment). Its inner lines are not re-indented.
    Verbatim(String),
}

pub(crate) fn text(s: impl Into<String>) -> Doc {
    Doc::Text(s.into())
}

pub(crate) fn concat(parts: Vec<Doc>) -> Doc {
    Doc::Concat(parts)
}

pub(crate) fn indent(doc: Doc) -> Doc {
    Doc::Indent(Box::new(doc))
}

pub(crate) fn group(doc: Doc) -> Doc {
    let broken = forces_break(&doc);
    Doc::Group {
        doc: Box::new(doc),
        broken,
    }
}

pub(crate) fn if_break(broken: Doc, flat: Doc) -> Doc {
    Doc::IfBreak {
        broken: Box::new(broken),
        flat: Box::new(flat),
    }
}

/// A comment's text as a document: multi-line block comments are verbatim.
pub(crate) fn comment(text: &str) -> Doc {
    if text.contains('\n') {
        Doc::Verbatim(text.to_string())
    } else {
        Doc::Text(text.to_string())
    }
}

fn forces_break(doc: &Doc) -> bool {
    match doc {
        Doc::HardLine | Doc::BreakParent => true,
        Doc::Verbatim(s) => s.contains('\n'),
        Doc::Concat(parts) => parts.iter().any(forces_break),
        Doc::Indent(inner) => forces_break(inner),
        Doc::Group { broken, .. } => *broken,
        Doc::IfBreak { broken, flat } => forces_break(broken) || forces_break(flat),
        Doc::Nil | Doc::Text(_) | Doc::Line | Doc::SoftLine | Doc::LineSuffix(_) => false,
    }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

#[derive(Clone, Copy)]
struct Cmd<'a> {
    indent: usize,
    flat: bool,
    doc: &'a Doc,
}

struct Printer {
    out: String,
    column: usize,
    /// Indentation is written lazily, when text follows, so that empty
    /// lines never carry trailing spaces.
    pending_indent: Option<usize>,
    suffixes: Vec<String>,
}

impl Printer {
    fn write(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if let Some(n) = self.pending_indent.take() {
            self.out.extend(std::iter::repeat_n(' ', n));
        }
        self.out.push_str(s);
        match s.rfind('\n') {
            Some(i) => self.column = width(&s[i + 1..]),
            None => self.column += width(s),
        }
    }

    fn flush_suffixes(&mut self) {
        for s in std::mem::take(&mut self.suffixes) {
            self.write(&s);
        }
    }

    fn newline(&mut self, indent: usize) {
        self.flush_suffixes();
        self.out.push('\n');
        self.pending_indent = Some(indent);
        self.column = indent;
    }
}

/// Whether `next`, printed flat, and what follows it up to the next line
/// break fit in `remaining` columns.
fn fits(next: Cmd<'_>, rest: &[Cmd<'_>], remaining: usize) -> bool {
    let mut remaining = remaining as isize;
    let mut stack: Vec<(bool, &Doc)> = vec![(true, next.doc)];
    let mut rest_index = rest.len();
    loop {
        let (flat, doc) = match stack.pop() {
            Some(entry) => entry,
            None => {
                if rest_index == 0 {
                    return true;
                }
                rest_index -= 1;
                (rest[rest_index].flat, rest[rest_index].doc)
            }
        };
        match doc {
            Doc::Nil | Doc::LineSuffix(_) | Doc::BreakParent => {}
            Doc::Text(s) => remaining -= width(s) as isize,
            Doc::Line if flat => remaining -= 1,
            Doc::SoftLine if flat => {}
            Doc::Line | Doc::SoftLine | Doc::HardLine => return true,
            Doc::Concat(parts) => stack.extend(parts.iter().rev().map(|d| (flat, d))),
            Doc::Indent(inner) => stack.push((flat, inner)),
            Doc::Group { doc, broken } => stack.push((flat && !broken, doc)),
            Doc::IfBreak { broken, flat: f } => stack.push((flat, if flat { f } else { broken })),
            Doc::Verbatim(s) => match s.find('\n') {
                Some(i) => return remaining >= width(&s[..i]) as isize,
                None => remaining -= width(s) as isize,
            },
        }
        if remaining < 0 {
            return false;
        }
    }
}

/// Print `doc` with lines of at most `max_width` columns where possible.
pub(crate) fn print(doc: &Doc, max_width: usize) -> String {
    let mut p = Printer {
        out: String::new(),
        column: 0,
        pending_indent: None,
        suffixes: Vec::new(),
    };
    let mut stack = vec![Cmd {
        indent: 0,
        flat: false,
        doc,
    }];
    while let Some(cmd) = stack.pop() {
        let Cmd { indent, flat, doc } = cmd;
        match doc {
            Doc::Nil | Doc::BreakParent => {}
            Doc::Text(s) | Doc::Verbatim(s) => p.write(s),
            Doc::Line if flat => p.write(" "),
            Doc::SoftLine if flat => {}
            Doc::Line | Doc::SoftLine | Doc::HardLine => p.newline(indent),
            Doc::Concat(parts) => stack.extend(parts.iter().rev().map(|d| Cmd {
                indent,
                flat,
                doc: d,
            })),
            Doc::Indent(inner) => stack.push(Cmd {
                indent: indent + 2,
                flat,
                doc: inner,
            }),
            Doc::Group { doc, broken } => {
                let flat = flat
                    || (!broken
                        && fits(
                            Cmd {
                                indent,
                                flat: true,
                                doc,
                            },
                            &stack,
                            max_width.saturating_sub(p.column),
                        ));
                stack.push(Cmd { indent, flat, doc });
            }
            Doc::IfBreak { broken, flat: f } => stack.push(Cmd {
                indent,
                flat,
                doc: if flat { f } else { broken },
            }),
            Doc::LineSuffix(s) => p.suffixes.push(s.clone()),
        }
    }
    p.flush_suffixes();
    p.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Doc {
        let mut inner = vec![Doc::SoftLine];
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                inner.push(text(","));
                inner.push(Doc::Line);
            }
            inner.push(text(*item));
        }
        inner.push(if_break(text(","), Doc::Nil));
        group(concat(vec![
            text("["),
            indent(concat(inner)),
            Doc::SoftLine,
            text("]"),
        ]))
    }

    #[test]
    fn a_group_that_fits_stays_flat() {
        assert_eq!(print(&list(&["a", "b"]), 20), "[a, b]");
    }

    #[test]
    fn a_group_that_does_not_fit_breaks() {
        assert_eq!(
            print(&list(&["aaaa", "bbbb"]), 10),
            "[\n  aaaa,\n  bbbb,\n]"
        );
    }

    #[test]
    fn the_width_counts_what_follows_the_group() {
        // `[a, b]` fits in 7 columns, but not with the `;;` after it.
        let doc = concat(vec![list(&["a", "b"]), text(";;")]);
        assert_eq!(print(&doc, 8), "[a, b];;");
        assert_eq!(print(&doc, 7), "[\n  a,\n  b,\n];;");
    }

    #[test]
    fn hard_lines_break_enclosing_groups() {
        let doc = group(concat(vec![
            text("a"),
            Doc::Line,
            text("b"),
            Doc::HardLine,
            text("c"),
        ]));
        assert_eq!(print(&doc, 80), "a\nb\nc");
    }

    #[test]
    fn line_suffixes_wait_for_the_end_of_the_line() {
        let doc = concat(vec![
            text("a"),
            Doc::LineSuffix(" // c".into()),
            text(","),
            Doc::HardLine,
            text("b"),
        ]);
        assert_eq!(print(&doc, 80), "a, // c\nb");
    }

    #[test]
    fn empty_lines_have_no_indentation() {
        let doc = indent(concat(vec![
            text("a"),
            Doc::HardLine,
            Doc::HardLine,
            text("b"),
        ]));
        assert_eq!(print(&doc, 80), "a\n\n  b");
    }

    #[test]
    fn width_is_counted_in_characters() {
        // four characters, eight bytes
        assert_eq!(print(&list(&["éé", "éé"]), 10), "[éé, éé]");
    }
}
