//! From the syntax tree (plus the source text, for comments and blank
//! lines) to a [`Doc`].
//!
//! Comments are not in the tree: [`ast::File::comments`] lists them in source
//! order. The layout walks the tree in source order with a cursor into that
//! list; every comment is consumed exactly once, at the first place that
//! claims it, and printed there:
//!
//! - *leading*: the comments before an element (a declaration, setting,
//!   field, variant, chain, list element, argument, ...). A block comment
//!   followed on the same line by the element stays inline before it
//!   (`/* x */ tier complex`); any other one gets its own line.
//! - *trailing*: the comments after an element on the same source line (and
//!   any comment left inside an element the layout prints as one piece, such
//!   as `n /* x */: Text`). They are printed at the end of the element's
//!   output line, after its comma; inside a list this breaks the list.
//! - *header*: the comments between a declaration's keyword and its `{`, or
//!   after the `{` on the same line: printed after the `{`.
//! - *dangling*: the comments after the last element of a body or list, on
//!   their own lines before the closing bracket (or at the end of the file).
//!
//! Each rule is chosen so that the formatter's own output is classified the
//! same way again, which is what makes formatting idempotent.

use super::doc::{Doc, comment, concat, group, if_break, indent, text};
use super::literal;
use crate::source::Span;
use crate::syntax::ast::{self, Comment, CommentKind, Item, Value};

/// Lines longer than this are broken where the layout allows.
pub(crate) const WIDTH: usize = 100;

/// A comment that precedes an element.
struct Lead {
    text: String,
    /// A block comment on the same line as the element: printed before it,
    /// followed by a space.
    inline: bool,
    /// The source had a blank line right before the comment.
    blank_before: bool,
}

/// Where an element sits in the source.
struct Slot {
    /// Its doc comment: start, end and text.
    doc: Option<(usize, usize, String)>,
    /// Where the element itself starts (after its doc comment).
    anchor: usize,
    /// Where its last token ends.
    end: usize,
}

impl Slot {
    /// Where the element, doc comment included, starts.
    fn first(&self) -> usize {
        self.doc.as_ref().map_or(self.anchor, |d| d.0)
    }
}

/// One laid-out element of a sequence, with its comments.
struct Entry {
    leads: Vec<Lead>,
    doc: Option<String>,
    /// Comments between the doc comment and the element.
    mid: Vec<Lead>,
    /// The source had a blank line right before the element (or its doc).
    blank_before: bool,
    body: Doc,
    trails: Vec<String>,
}

#[derive(Clone, Copy)]
struct Style {
    /// `{ a, b }` rather than `[a, b]` when flat.
    padded: bool,
    /// Keep (at most one) blank line between elements when broken.
    blanks: bool,
}

const TIGHT: Style = Style {
    padded: false,
    blanks: false,
};

pub(crate) struct Layout<'a> {
    text: &'a str,
    /// Sorted by start; texts normalised (line comments lose trailing
    /// whitespace, block comments use `\n` line ends).
    comments: Vec<Comment>,
    /// The first comment not yet printed.
    next: usize,
    /// The end of the last thing laid out (element or comment), for finding
    /// blank lines in the source.
    last_end: usize,
}

fn lo(span: Span) -> usize {
    span.start as usize
}

fn hi(span: Span) -> usize {
    span.end as usize
}

impl<'a> Layout<'a> {
    pub(crate) fn new(text: &'a str, comments: &[Comment]) -> Layout<'a> {
        let mut comments: Vec<Comment> = comments
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.text = match c.kind {
                    CommentKind::Line => c.text.trim_end().to_string(),
                    CommentKind::Block => c.text.replace("\r\n", "\n"),
                };
                c
            })
            .collect();
        comments.sort_by_key(|c| c.span.start);
        Layout {
            text,
            comments,
            next: 0,
            last_end: 0,
        }
    }

    // ---------------------------------------------------------------------
    // Looking at the source

    fn between(&self, from: usize, to: usize) -> &'a str {
        let to = to.min(self.text.len());
        if from >= to {
            return "";
        }
        self.text.get(from..to).unwrap_or("")
    }

    /// Whether a whitespace-only line lies between `from` and `to`.
    fn has_blank_line(&self, from: usize, to: usize) -> bool {
        let lines: Vec<&str> = self.between(from, to).split('\n').collect();
        lines.len() > 2
            && lines[1..lines.len() - 1]
                .iter()
                .any(|l| l.trim().is_empty())
    }

    /// The comment that covers byte `pos`.
    fn comment_at(&self, pos: usize) -> Option<&Comment> {
        let i = self.comments.partition_point(|c| lo(c.span) <= pos);
        let c = self.comments.get(i.checked_sub(1)?)?;
        (pos < hi(c.span)).then_some(c)
    }

    /// The first position at or after `pos` that is neither whitespace nor
    /// inside a comment.
    fn skip_trivia(&self, mut pos: usize) -> usize {
        loop {
            let rest = self.text.get(pos..).unwrap_or("");
            pos += rest.len() - rest.trim_start().len();
            match self.comment_at(pos) {
                Some(c) if lo(c.span) == pos && hi(c.span) > pos => pos = hi(c.span),
                _ => return pos,
            }
        }
    }

    /// The position of `token` after `pos`, skipping whitespace, comments
    /// and, when asked, commas.
    fn find_token(&self, mut pos: usize, token: &str, skip_commas: bool) -> Option<usize> {
        loop {
            pos = self.skip_trivia(pos);
            let rest = self.text.get(pos..)?;
            if rest.starts_with(token) {
                return Some(pos);
            }
            if skip_commas && rest.starts_with(',') {
                pos += 1;
                continue;
            }
            return None;
        }
    }

    /// The end of the last token in `from..to`: a node's span may run over
    /// the whitespace and comments after it.
    fn trim_end(&self, from: usize, to: usize) -> usize {
        let mut to = to.min(self.text.len());
        loop {
            let before = self.text.get(..to).unwrap_or("");
            to = before.trim_end().len().max(from);
            match to.checked_sub(1).and_then(|p| self.comment_at(p)) {
                Some(c) if lo(c.span) >= from && lo(c.span) < to => to = lo(c.span),
                _ => return to,
            }
        }
    }

    fn span_end(&self, span: Span) -> usize {
        self.trim_end(lo(span), hi(span))
    }

    /// Position of the closing bracket of a node that ends with one.
    fn close_pos(&self, span: Span) -> usize {
        self.span_end(span).saturating_sub(1).max(lo(span))
    }

    fn plain_slot(&self, span: Span) -> Slot {
        Slot {
            doc: None,
            anchor: lo(span),
            end: self.span_end(span),
        }
    }

    fn doc_slot(&self, doc: Option<&ast::Doc>, anchor: usize, end: usize) -> Slot {
        Slot {
            doc: doc.map(|d| (lo(d.span), hi(d.span), d.text.clone())),
            anchor,
            end,
        }
    }

    // ---------------------------------------------------------------------
    // Consuming comments

    /// Every comment before `anchor`, as leading comments of what is there.
    fn take_leading(&mut self, anchor: usize) -> Vec<Lead> {
        let mut out = Vec::new();
        while let Some(c) = self.comments.get(self.next) {
            let (c_start, c_end) = (lo(c.span), hi(c.span));
            if c_start >= anchor {
                break;
            }
            out.push(Lead {
                text: c.text.clone(),
                inline: c.kind == CommentKind::Block && !self.between(c_end, anchor).contains('\n'),
                blank_before: self.has_blank_line(self.last_end, c_start),
            });
            self.next += 1;
            self.last_end = self.last_end.max(c_end);
        }
        out
    }

    /// The comments that end the line of an element ending at `end` (and
    /// any left inside it), stopping at `limit` and after a line comment. A
    /// block comment that sits on the same line as the `next` element is
    /// left to lead that element.
    fn take_trailing(&mut self, end_pos: usize, limit: usize, next: Option<usize>) -> Vec<String> {
        let mut out = Vec::new();
        // Where the line being continued is: after the element, or after the
        // last trailing comment (which may span lines).
        let mut line_from = end_pos;
        while let Some(c) = self.comments.get(self.next) {
            let (c_start, c_end) = (lo(c.span), hi(c.span));
            if c_start >= limit {
                break;
            }
            if c_start >= end_pos {
                if self.between(line_from, c_start).contains('\n') {
                    break;
                }
                let leads_next = next.is_some_and(|n| {
                    c.kind == CommentKind::Block && !self.between(c_end, n).contains('\n')
                });
                if leads_next {
                    break;
                }
            }
            out.push(c.text.clone());
            self.next += 1;
            self.last_end = self.last_end.max(c_end);
            line_from = line_from.max(c_end);
            if c.kind == CommentKind::Line {
                // Nothing can follow a line comment on its line: what comes
                // next (even a comment left inside the element) is left to
                // the next leading or dangling position, on a later line.
                break;
            }
        }
        out
    }

    /// Lay out `items` one after the other with their comments. The last
    /// item's trailing comments stop at `close`; with no `close` they are
    /// left to the caller.
    fn collect<T>(
        &mut self,
        items: &[T],
        slots: &[Slot],
        mut render: impl FnMut(&mut Self, &T) -> Doc,
        close: Option<usize>,
    ) -> Vec<Entry> {
        let mut entries = Vec::with_capacity(items.len());
        for (i, (item, slot)) in items.iter().zip(slots).enumerate() {
            let first = slot.first();
            let leads = self.take_leading(first);
            let blank_before = self.has_blank_line(self.last_end, first);
            let (doc, mid) = match &slot.doc {
                Some((_, doc_end, doc_text)) => {
                    self.last_end = self.last_end.max(*doc_end);
                    (Some(doc_text.clone()), self.take_leading(slot.anchor))
                }
                None => (None, Vec::new()),
            };
            let body = render(self, item);
            self.last_end = self.last_end.max(slot.end);
            let next = slots.get(i + 1).map(Slot::first);
            let trails = match next.or(close) {
                Some(limit) => self.take_trailing(slot.end, limit, next),
                None => Vec::new(),
            };
            entries.push(Entry {
                leads,
                doc,
                mid,
                blank_before,
                body,
                trails,
            });
        }
        entries
    }

    // ---------------------------------------------------------------------
    // Containers

    /// `{ ... }` with one element per line: declaration bodies, type
    /// fields, sequence chains.
    fn block<T>(
        &mut self,
        open: usize,
        close: usize,
        items: &[T],
        slots: &[Slot],
        render: impl FnMut(&mut Self, &T) -> Doc,
    ) -> Doc {
        self.last_end = self.last_end.max(open + 1);
        let first = slots.first().map(Slot::first);
        let header = self.take_trailing(open + 1, first.unwrap_or(close), first);
        let entries = self.collect(items, slots, render, Some(close));
        let dangling = self.take_leading(close);
        self.last_end = self.last_end.max(close + 1);
        if entries.is_empty() && dangling.is_empty() && header.is_empty() {
            return text("{}");
        }
        let has_rows = !(entries.is_empty() && dangling.is_empty());
        let rows = stack(entries, dangling, |i| (i == 0).then_some(false));
        let mut parts = vec![text("{")];
        parts.extend(suffixes(header));
        if has_rows {
            parts.push(indent(concat(vec![Doc::HardLine, rows])));
        }
        parts.push(Doc::HardLine);
        parts.push(text("}"));
        concat(parts)
    }

    /// A bracketed, comma-separated sequence: flat when it fits, else one
    /// element per line with a trailing comma.
    #[allow(clippy::too_many_arguments)]
    fn delimited<T>(
        &mut self,
        open: &str,
        close: &str,
        close_at: usize,
        items: &[T],
        slots: &[Slot],
        render: impl FnMut(&mut Self, &T) -> Doc,
        header: Vec<String>,
        style: Style,
    ) -> Doc {
        let entries = self.collect(items, slots, render, Some(close_at));
        let dangling = self.take_leading(close_at);
        self.last_end = self.last_end.max(close_at + 1);
        if entries.is_empty() && dangling.is_empty() && header.is_empty() {
            return text(format!("{open}{close}"));
        }
        let edge = if style.padded {
            Doc::Line
        } else {
            Doc::SoftLine
        };
        let mut inner = Vec::new();
        let count = entries.len();
        for (i, e) in entries.into_iter().enumerate() {
            let first_blank = e.leads.first().map_or(e.blank_before, |l| l.blank_before);
            if i == 0 {
                inner.push(edge.clone());
            } else {
                if style.blanks && first_blank {
                    inner.push(Doc::HardLine);
                }
                inner.push(Doc::Line);
            }
            push_leads(&mut inner, &e.leads, style.blanks);
            if let Some(d) = &e.doc {
                for line in doc_lines(d) {
                    inner.push(text(line));
                    inner.push(Doc::HardLine);
                }
            } else if style.blanks && e.blank_before && !e.leads.is_empty() {
                inner.push(Doc::HardLine);
            }
            push_leads(&mut inner, &e.mid, false);
            inner.push(e.body);
            inner.push(if i + 1 < count {
                text(",")
            } else {
                if_break(text(","), Doc::Nil)
            });
            push_trails(&mut inner, e.trails);
        }
        for (k, d) in dangling.iter().enumerate() {
            inner.push(Doc::HardLine);
            if style.blanks && d.blank_before && (count > 0 || k > 0) {
                inner.push(Doc::HardLine);
            }
            inner.push(comment(&d.text));
        }
        let mut parts = vec![text(open)];
        if !header.is_empty() {
            parts.extend(suffixes(header));
            parts.push(Doc::BreakParent);
        }
        parts.push(indent(concat(inner)));
        parts.push(if count == 0 { Doc::HardLine } else { edge });
        parts.push(text(close));
        group(concat(parts))
    }

    // ---------------------------------------------------------------------
    // The file and its declarations

    pub(crate) fn file(&mut self, items: &[Item]) -> Doc {
        let slots: Vec<Slot> = items.iter().map(|item| self.item_slot(item)).collect();
        let entries = self.collect(items, &slots, Self::item, Some(self.text.len()));
        let dangling = self.take_leading(usize::MAX);
        if entries.is_empty() && dangling.is_empty() {
            return Doc::Nil;
        }
        let is_use: Vec<bool> = items.iter().map(|i| matches!(i, Item::Use(_))).collect();
        let rows = stack(entries, dangling, |i| {
            Some(i > 0 && !(is_use[i - 1] && is_use[i]))
        });
        concat(vec![rows, Doc::HardLine])
    }

    /// Where a declaration's keyword is.
    fn keyword_at(&self, item: &Item) -> usize {
        let span = item.span();
        match item {
            Item::Error(_) => lo(span),
            _ => self.skip_trivia(item.doc().map_or(lo(span), |d| hi(d.span))),
        }
    }

    fn item_slot(&self, item: &Item) -> Slot {
        let anchor = self.keyword_at(item);
        let end = match item {
            // printed as written, comments included
            Item::Error(span) => hi(*span),
            _ => self.trim_end(anchor, hi(item.span())),
        };
        self.doc_slot(item.doc(), anchor, end)
    }

    fn item(&mut self, item: &Item) -> Doc {
        match item {
            Item::Score(d) => concat(vec![
                text(format!("score {} ", d.name.name)),
                self.body(&d.body),
            ]),
            Item::Use(d) => self.use_decl(d),
            Item::Type(d) => self.type_decl(d),
            Item::Enum(d) => self.enum_decl(d),
            Item::Intent(d) => {
                let mut parts = vec![
                    text(format!("intent {} ", d.name.name)),
                    self.string(&d.statement),
                ];
                if let Some(body) = &d.body {
                    parts.push(text(" "));
                    parts.push(self.body(body));
                }
                concat(parts)
            }
            Item::Check(d) => self.check_decl(d),
            Item::Contract(d) => concat(vec![
                text(format!("contract {} ", d.name.name)),
                self.body(&d.body),
            ]),
            Item::Agent(d) => concat(vec![
                text(format!("agent {}: {} ", d.name.name, d.provider.name)),
                self.body(&d.body),
            ]),
            Item::Part(d) => {
                let mut header = format!("part {}", d.name.name);
                if !d.contracts.is_empty() {
                    let names: Vec<String> = d.contracts.iter().map(ast::Path::dotted).collect();
                    header.push_str(": ");
                    header.push_str(&names.join(" + "));
                }
                if let Some(agent) = &d.agent {
                    header.push_str(" by ");
                    header.push_str(&agent.dotted());
                }
                header.push(' ');
                concat(vec![text(header), self.body(&d.body)])
            }
            Item::Sequence(d) => self.sequence_decl(item, d),
            Item::Error(span) => {
                // Only reached through `format_file` on a tree with syntax
                // errors: keep the text, and the comments in it, as written.
                while self
                    .comments
                    .get(self.next)
                    .is_some_and(|c| lo(c.span) < hi(*span))
                {
                    self.next += 1;
                }
                let raw = self.between(lo(*span), hi(*span)).trim_end();
                Doc::Verbatim(raw.replace("\r\n", "\n"))
            }
        }
    }

    fn use_decl(&mut self, d: &ast::UseDecl) -> Doc {
        let mut parts = vec![text(format!("use {}", d.path.dotted()))];
        if let Some(items) = &d.items {
            let slots: Vec<Slot> = items.iter().map(|i| self.plain_slot(i.span)).collect();
            let close = self.close_pos(d.span);
            parts.push(self.delimited(
                ".{",
                "}",
                close,
                items,
                &slots,
                |_, i: &ast::Ident| text(&i.name),
                Vec::new(),
                TIGHT,
            ));
        }
        concat(parts)
    }

    fn type_decl(&mut self, d: &ast::TypeDecl) -> Doc {
        let open = self.open_brace(hi(d.name.span));
        let close = self.close_pos(d.span);
        let slots: Vec<Slot> = d
            .fields
            .iter()
            .map(|f| {
                let anchor = lo(f.name.span);
                self.doc_slot(f.doc.as_ref(), anchor, self.trim_end(anchor, hi(f.span)))
            })
            .collect();
        let body = self.block(open, close, &d.fields, &slots, |_, f: &ast::Field| {
            text(format!("{}: {}", f.name.name, f.ty.display()))
        });
        concat(vec![text(format!("type {} ", d.name.name)), body])
    }

    fn enum_decl(&mut self, d: &ast::EnumDecl) -> Doc {
        let open = self.open_brace(hi(d.name.span));
        let close = self.close_pos(d.span);
        let slots: Vec<Slot> = d
            .variants
            .iter()
            .map(|v| self.doc_slot(v.doc.as_ref(), lo(v.name.span), hi(v.name.span)))
            .collect();
        self.last_end = self.last_end.max(open + 1);
        let first = slots.first().map(Slot::first);
        let header = self.take_trailing(open + 1, first.unwrap_or(close), first);
        let body = self.delimited(
            "{",
            "}",
            close,
            &d.variants,
            &slots,
            |_, v: &ast::Variant| text(&v.name.name),
            header,
            Style {
                padded: true,
                blanks: true,
            },
        );
        concat(vec![text(format!("enum {} ", d.name.name)), body])
    }

    fn check_decl(&mut self, d: &ast::CheckDecl) -> Doc {
        let name_end = hi(d.name.span);
        let body_start = lo(d.body.span);
        let open = self.find_token(name_end, "(", false).unwrap_or(name_end);
        let after_params = d.params.last().map_or(open + 1, |p| self.span_end(p.span));
        let close = self
            .find_token(after_params, ")", true)
            .unwrap_or(body_start.saturating_sub(1));
        let slots: Vec<Slot> = d.params.iter().map(|p| self.plain_slot(p.span)).collect();
        let params = self.delimited(
            "(",
            ")",
            close,
            &d.params,
            &slots,
            |_, p: &ast::Param| text(format!("{}: {}", p.name.name, p.ty.display())),
            Vec::new(),
            TIGHT,
        );
        concat(vec![
            text(format!("check {}", d.name.name)),
            params,
            text(" "),
            self.body(&d.body),
        ])
    }

    fn sequence_decl(&mut self, item: &Item, d: &ast::SequenceDecl) -> Doc {
        let keyword = self.keyword_at(item);
        let open = self.open_brace(keyword + "sequence".len());
        let close = self.close_pos(d.span);
        let slots: Vec<Slot> = d
            .chains
            .iter()
            .map(|c| {
                let anchor = c.steps.first().map_or(lo(c.span), |s| lo(s.span()));
                Slot {
                    doc: None,
                    anchor,
                    end: self.trim_end(anchor, hi(c.span)),
                }
            })
            .collect();
        let body = self.block(open, close, &d.chains, &slots, Self::chain);
        concat(vec![text("sequence "), body])
    }

    /// The `{` that opens a body, searched from `from`.
    fn open_brace(&self, from: usize) -> usize {
        self.find_token(from, "{", false).unwrap_or(from)
    }

    fn body(&mut self, body: &ast::Body) -> Doc {
        let open = self.open_brace(lo(body.span));
        let close = self.close_pos(body.span);
        let slots: Vec<Slot> = body
            .settings
            .iter()
            .map(|s| {
                let anchor = lo(s.name.span);
                self.doc_slot(s.doc.as_ref(), anchor, self.trim_end(anchor, hi(s.span)))
            })
            .collect();
        self.block(open, close, &body.settings, &slots, Self::setting)
    }

    // ---------------------------------------------------------------------
    // Settings, chains and values

    /// `name v` or `name v1, v2`; broken one value per line when too long.
    fn setting(&mut self, s: &ast::Setting) -> Doc {
        let slots: Vec<Slot> = s.values.iter().map(|v| self.plain_slot(v.span())).collect();
        let mut entries = self.collect(&s.values, &slots, Self::value, None);
        let name = text(&s.name.name);
        if entries.is_empty() {
            return name;
        }
        if entries.len() == 1 && entries[0].leads.iter().all(|l| l.inline) {
            let e = entries.remove(0);
            let mut parts = vec![name, text(" ")];
            push_leads(&mut parts, &e.leads, false);
            parts.push(e.body);
            return concat(parts);
        }
        let count = entries.len();
        let mut inner = Vec::new();
        for (i, e) in entries.into_iter().enumerate() {
            inner.push(Doc::Line);
            push_leads(&mut inner, &e.leads, false);
            inner.push(e.body);
            if i + 1 < count {
                inner.push(text(","));
            }
            push_trails(&mut inner, e.trails);
        }
        group(concat(vec![name, indent(concat(inner))]))
    }

    /// `a -> [b, c] -> d`; broken before each arrow when too long.
    fn chain(&mut self, chain: &ast::Chain) -> Doc {
        let slots: Vec<Slot> = chain
            .steps
            .iter()
            .map(|s| self.plain_slot(s.span()))
            .collect();
        let entries = self.collect(&chain.steps, &slots, Self::step, None);
        let mut head = Vec::new();
        let mut rest = Vec::new();
        for (i, e) in entries.into_iter().enumerate() {
            let out = if i == 0 { &mut head } else { &mut rest };
            if i > 0 {
                out.push(Doc::Line);
            }
            // Inline comments come last among the leading ones (they sit on
            // the step's own line), so they go after the arrow.
            let (inline, own): (Vec<Lead>, Vec<Lead>) = e.leads.into_iter().partition(|l| l.inline);
            push_leads(out, &own, false);
            if i > 0 {
                out.push(text("-> "));
            }
            push_leads(out, &inline, false);
            out.push(e.body);
            push_trails(out, e.trails);
        }
        head.push(indent(concat(rest)));
        group(concat(head))
    }

    fn step(&mut self, step: &ast::Step) -> Doc {
        match step {
            ast::Step::Part(path) => text(path.dotted()),
            ast::Step::Group { parts, span } => {
                let slots: Vec<Slot> = parts.iter().map(|p| self.plain_slot(p.span)).collect();
                let close = self.close_pos(*span);
                self.delimited(
                    "[",
                    "]",
                    close,
                    parts,
                    &slots,
                    |_, p: &ast::Path| text(p.dotted()),
                    Vec::new(),
                    TIGHT,
                )
            }
        }
    }

    fn value(&mut self, value: &Value) -> Doc {
        match value {
            Value::Str(s) => self.string(s),
            Value::Number(n) => text(&n.raw),
            Value::Duration(d) => text(&d.raw),
            Value::Bool(b, _) => text(if *b { "true" } else { "false" }),
            Value::Path(p) => text(p.dotted()),
            Value::List(items, span) => {
                let slots: Vec<Slot> = items.iter().map(|v| self.plain_slot(v.span())).collect();
                let close = self.close_pos(*span);
                self.delimited(
                    "[",
                    "]",
                    close,
                    items,
                    &slots,
                    Self::value,
                    Vec::new(),
                    TIGHT,
                )
            }
            Value::Map(entries, span) => {
                let slots: Vec<Slot> = entries.iter().map(|e| self.plain_slot(e.span)).collect();
                let close = self.close_pos(*span);
                self.delimited(
                    "{",
                    "}",
                    close,
                    entries,
                    &slots,
                    |l: &mut Self, e: &ast::MapEntry| {
                        let key = match &e.key {
                            ast::MapKey::Ident(i) => text(&i.name),
                            ast::MapKey::Str(s) => l.string(s),
                        };
                        concat(vec![key, text(": "), l.value(&e.value)])
                    },
                    Vec::new(),
                    Style {
                        padded: true,
                        blanks: false,
                    },
                )
            }
            Value::Call(call) => {
                let slots: Vec<Slot> = call.args.iter().map(|a| self.plain_slot(a.span)).collect();
                let close = self.close_pos(call.span);
                let args = self.delimited(
                    "(",
                    ")",
                    close,
                    &call.args,
                    &slots,
                    |l: &mut Self, a: &ast::Arg| match &a.name {
                        Some(name) => {
                            concat(vec![text(format!("{}: ", name.name)), l.value(&a.value)])
                        }
                        None => l.value(&a.value),
                    },
                    Vec::new(),
                    TIGHT,
                );
                concat(vec![text(call.callee.dotted()), args])
            }
            Value::Tagged { tag, value, .. } => {
                concat(vec![text(format!("{} ", tag.name)), self.value(value)])
            }
            Value::Typed {
                name, ty, source, ..
            } => {
                let mut s = format!("{}: {}", name.name, ty.display());
                if let Some(source) = source {
                    s.push_str(" = ");
                    s.push_str(&source.dotted());
                }
                text(s)
            }
            Value::Binding { name, source, .. } => {
                text(format!("{} = {}", name.name, source.dotted()))
            }
        }
    }

    /// A string or text block, spelled canonically from its value. A text
    /// block's lines are indented two spaces more than the line it starts
    /// on, and its closing `"""` sits on a line of its own.
    fn string(&self, s: &ast::StringLit) -> Doc {
        if !s.block {
            return text(literal::quote(&s.value));
        }
        let mut inner = Vec::new();
        for line in literal::text_block_lines(&s.value) {
            inner.push(Doc::HardLine);
            if !line.is_empty() {
                inner.push(text(line));
            }
        }
        inner.push(Doc::HardLine);
        inner.push(text("\"\"\""));
        concat(vec![text("\"\"\""), indent(concat(inner))])
    }
}

/// `///` lines for a doc comment's text.
fn doc_lines(doc: &str) -> impl Iterator<Item = String> + '_ {
    doc.split('\n').map(|line| {
        if line.is_empty() {
            "///".to_string()
        } else {
            format!("/// {line}")
        }
    })
}

/// Leading comments: inline ones before the element on its line, the
/// others on lines of their own (with the source's blank lines between
/// them when `blanks`).
fn push_leads(out: &mut Vec<Doc>, leads: &[Lead], blanks: bool) {
    for (k, lead) in leads.iter().enumerate() {
        if blanks && k > 0 && lead.blank_before {
            out.push(Doc::HardLine);
        }
        out.push(comment(&lead.text));
        out.push(if lead.inline {
            text(" ")
        } else {
            Doc::HardLine
        });
    }
}

/// Trailing comments inside a group: they end the line, so the group breaks.
fn push_trails(out: &mut Vec<Doc>, trails: Vec<String>) {
    if trails.is_empty() {
        return;
    }
    out.extend(suffixes(trails));
    out.push(Doc::BreakParent);
}

fn suffixes(comments: Vec<String>) -> impl Iterator<Item = Doc> {
    comments
        .into_iter()
        .map(|c| Doc::LineSuffix(format!(" {c}")))
}

/// Rows of a block: each element with its comments, one per line.
/// `first_blank(i)` decides the blank line before element `i`'s first line
/// (`None`: as in the source); later lines of an element keep the source's.
fn stack(
    entries: Vec<Entry>,
    dangling: Vec<Lead>,
    first_blank: impl Fn(usize) -> Option<bool>,
) -> Doc {
    struct Rows {
        parts: Vec<Doc>,
        started: bool,
    }
    impl Rows {
        fn row(&mut self, blank: bool) {
            if self.started {
                self.parts.push(Doc::HardLine);
                if blank {
                    self.parts.push(Doc::HardLine);
                }
            }
            self.started = true;
        }
    }
    let mut rows = Rows {
        parts: Vec::new(),
        started: false,
    };
    for (i, e) in entries.into_iter().enumerate() {
        let forced = first_blank(i);
        let mut first_piece = true;
        let mut pick = |source: bool| {
            let blank = if first_piece {
                forced.unwrap_or(source)
            } else {
                source
            };
            first_piece = false;
            blank
        };
        let mut need_row = true;
        for lead in &e.leads {
            let blank = pick(lead.blank_before);
            if need_row {
                rows.row(blank);
            }
            rows.parts.push(comment(&lead.text));
            need_row = !lead.inline;
            if lead.inline {
                rows.parts.push(text(" "));
            }
        }
        let has_doc = e.doc.is_some();
        if let Some(d) = &e.doc {
            let blank = pick(e.blank_before);
            for (k, line) in doc_lines(d).enumerate() {
                if need_row || k > 0 {
                    rows.row(blank && k == 0);
                }
                rows.parts.push(text(line));
            }
            need_row = true;
        }
        for lead in &e.mid {
            if need_row {
                rows.row(false);
            }
            rows.parts.push(comment(&lead.text));
            need_row = !lead.inline;
            if lead.inline {
                rows.parts.push(text(" "));
            }
        }
        let blank = if has_doc { false } else { pick(e.blank_before) };
        if need_row {
            rows.row(blank);
        }
        rows.parts.push(e.body);
        rows.parts.extend(suffixes(e.trails));
    }
    for d in dangling {
        rows.row(d.blank_before);
        rows.parts.push(comment(&d.text));
    }
    concat(rows.parts)
}
