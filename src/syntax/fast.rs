//! The fast path: a direct recursive-descent reading of one declaration
//! chunk into the AST, for declarations that are entirely correct.
//!
//! Why it exists: pest checks its native stack and updates its error
//! tracking on every combinator call, which caps the pest parser plus the
//! lowering at well under the front end's throughput target (20 MB/s).
//! `grammar/score.pest` stays the definition of the language, and pest
//! stays the parser of record for everything that is not plainly correct:
//! this reader follows the grammar's ordered choices exactly and gives up
//! (returns `None`) at the first thing it does not expect, or that the
//! lowering would comment on (a reserved word used as a name, an unknown
//! escape, a doc comment documenting nothing, ...). The chunk then goes
//! through pest and the lowering as before, which report the problem.
//!
//! So the fast path only ever has to be right when it succeeds: it must
//! build exactly the tree that pest and the lowering would. In debug builds
//! every success is checked against them (see `mod.rs`), so every test and
//! every fuzzing run in debug mode compares the two.

use super::ast::*;
use super::literal;
use super::scan::{MAX_NESTING, is_doc_comment, is_reserved};
use crate::source::{FileId, Span};

/// Parse the declaration of `text[start..end]` (whose keyword the scanner
/// found); `None` means "not plainly correct: ask pest".
pub(crate) fn declaration(file: FileId, text: &str, start: usize, end: usize) -> Option<Item> {
    let mut r = Reader {
        file,
        text,
        b: text.as_bytes(),
        pos: start,
        end,
        depth: 0,
    };
    r.skip();
    let item = r.declaration()?;
    r.skip();
    (r.pos == r.end).then_some(item)
}

struct Reader<'t> {
    file: FileId,
    text: &'t str,
    b: &'t [u8],
    pos: usize,
    end: usize,
    depth: usize,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl<'t> Reader<'t> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start, end)
    }

    fn peek(&self) -> Option<u8> {
        (self.pos < self.end).then(|| self.b[self.pos])
    }

    fn at(&self, lit: &[u8]) -> bool {
        self.b[self.pos..self.end].starts_with(lit)
    }

    /// Whitespace and ordinary comments (not `///`, which is a token).
    fn skip(&mut self) {
        while self.pos < self.end {
            match self.b[self.pos] {
                b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                b'/' if self.b.get(self.pos + 1) == Some(&b'/')
                    && !is_doc_comment(self.b, self.pos) =>
                {
                    self.pos = self.text[self.pos..self.end]
                        .find('\n')
                        .map_or(self.end, |n| self.pos + n);
                }
                b'/' if self.b.get(self.pos + 1) == Some(&b'*') => {
                    let mut depth = 0usize;
                    loop {
                        if self.pos >= self.end {
                            // Unterminated: the scanner reported it and the
                            // chunk never gets here; stay safe regardless.
                            return;
                        }
                        if self.at(b"/*") {
                            depth += 1;
                            self.pos += 2;
                        } else if self.at(b"*/") {
                            depth -= 1;
                            self.pos += 2;
                            if depth == 0 {
                                break;
                            }
                        } else {
                            self.pos += 1;
                        }
                    }
                }
                _ => return,
            }
        }
    }

    /// Skip trivia, then consume `lit` if it is there.
    fn eat(&mut self, lit: &[u8]) -> bool {
        self.skip();
        if self.at(lit) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    /// A keyword: the word and a word boundary.
    fn eat_keyword(&mut self, word: &[u8]) -> bool {
        self.skip();
        if self.at(word) && self.boundary(self.pos + word.len()) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    /// `[A-Za-z_][A-Za-z0-9_]*` at the current position (no skipping).
    fn word_here(&mut self) -> Option<(usize, usize)> {
        let start = self.pos;
        if !self.peek().is_some_and(is_ident_start) {
            return None;
        }
        let mut i = start + 1;
        while i < self.end && is_ident_char(self.b[i]) {
            i += 1;
        }
        self.pos = i;
        Some((start, i))
    }

    fn ident_at(&self, (start, end): (usize, usize)) -> Ident {
        Ident {
            name: self.text[start..end].to_string(),
            span: self.span(start, end),
        }
    }

    /// A name that is not a reserved word (the lowering reports those).
    fn name(&mut self) -> Option<Ident> {
        self.skip();
        let range = self.word_here()?;
        let ident = self.ident_at(range);
        (!is_reserved(&ident.name)).then_some(ident)
    }

    /// The segments of a dotted name at the current position, no spaces.
    fn segments_here(&mut self) -> Option<Vec<(usize, usize)>> {
        let mut segments = vec![self.word_here()?];
        while self.peek() == Some(b'.')
            && self.pos + 1 < self.end
            && is_ident_start(self.b[self.pos + 1])
        {
            self.pos += 1;
            segments.push(self.word_here()?);
        }
        Some(segments)
    }

    /// Build a path; `value` allows a leading `score` (`score.repo`).
    fn path_of(&self, segments: &[(usize, usize)], value: bool) -> Option<Path> {
        let mut idents = Vec::with_capacity(segments.len());
        for (i, &range) in segments.iter().enumerate() {
            let ident = self.ident_at(range);
            let score_root = value && i == 0 && segments.len() > 1 && ident.name == "score";
            if is_reserved(&ident.name) && !score_root {
                return None;
            }
            idents.push(ident);
        }
        Some(Path {
            segments: idents,
            span: self.span(segments[0].0, segments[segments.len() - 1].1),
        })
    }

    fn path(&mut self) -> Option<Path> {
        self.skip();
        let segments = self.segments_here()?;
        self.path_of(&segments, false)
    }

    fn value_path(&mut self) -> Option<Path> {
        self.skip();
        let segments = self.segments_here()?;
        self.path_of(&segments, true)
    }

    /// Consecutive `///` lines (ordinary comments may come between).
    fn doc(&mut self) -> Option<Doc> {
        self.skip();
        if !(self.pos < self.end && is_doc_comment(self.b, self.pos)) {
            return None;
        }
        let mut text = String::new();
        let start = self.pos;
        let mut last_end;
        let mut first = true;
        loop {
            let line_end = self.text[self.pos..self.end]
                .find('\n')
                .map_or(self.end, |n| self.pos + n);
            let line = &self.text[self.pos..line_end];
            let line = line.strip_suffix('\r').unwrap_or(line);
            if !first {
                text.push('\n');
            }
            first = false;
            let content = &line[3..];
            text.push_str(content.strip_prefix(' ').unwrap_or(content));
            last_end = self.pos + line.len();
            self.pos = line_end;
            let before = self.pos;
            self.skip();
            if !(self.pos < self.end && is_doc_comment(self.b, self.pos)) {
                self.pos = before;
                break;
            }
        }
        Some(Doc {
            text,
            span: self.span(start, last_end),
        })
    }

    fn declaration(&mut self) -> Option<Item> {
        let start = {
            self.skip();
            self.pos
        };
        let doc = self.doc();
        self.skip();
        let (kw_start, kw_end) = self.word_here()?;
        let keyword = &self.b[kw_start..kw_end];
        let item = match keyword {
            b"score" => {
                let name = self.name()?;
                let body = self.body()?;
                Item::Score(ScoreDecl {
                    doc,
                    name,
                    body,
                    span: self.span(start, self.pos),
                })
            }
            b"use" => {
                let path = self.path()?;
                let mut items = None;
                let before = self.pos;
                if self.eat(b".{") {
                    items = Some(self.separated(b"}", false, Self::name)?);
                } else {
                    self.pos = before;
                }
                Item::Use(UseDecl {
                    doc,
                    path,
                    items,
                    span: self.span(start, self.pos),
                })
            }
            b"type" => {
                let name = self.name()?;
                if !self.eat(b"{") {
                    return None;
                }
                let mut fields = Vec::new();
                while !self.eat(b"}") {
                    fields.push(self.field()?);
                }
                Item::Type(TypeDecl {
                    doc,
                    name,
                    fields,
                    span: self.span(start, self.pos),
                })
            }
            b"enum" => {
                let name = self.name()?;
                if !self.eat(b"{") {
                    return None;
                }
                let mut variants = Vec::new();
                loop {
                    let vstart = {
                        self.skip();
                        self.pos
                    };
                    let vdoc = self.doc();
                    let vname = self.name()?;
                    let span = self.span(vstart, vname.span.end as usize);
                    variants.push(Variant {
                        doc: vdoc,
                        name: vname,
                        span,
                    });
                    let _ = self.eat(b",");
                    if self.eat(b"}") {
                        break;
                    }
                }
                Item::Enum(EnumDecl {
                    doc,
                    name,
                    variants,
                    span: self.span(start, self.pos),
                })
            }
            b"intent" => {
                let name = self.name()?;
                self.skip();
                let statement = self.string_lit()?;
                let before = self.pos;
                self.skip();
                let body = if self.peek() == Some(b'{') {
                    Some(self.body()?)
                } else {
                    self.pos = before;
                    None
                };
                Item::Intent(IntentDecl {
                    doc,
                    name,
                    statement,
                    body,
                    span: self.span(start, self.pos),
                })
            }
            b"check" => {
                let name = self.name()?;
                if !self.eat(b"(") {
                    return None;
                }
                let mut params = Vec::new();
                if !self.eat(b")") {
                    loop {
                        let pname = self.name()?;
                        if !self.eat(b":") {
                            return None;
                        }
                        let ty = self.type_expr()?;
                        let span = pname.span.to(ty.span);
                        params.push(Param {
                            name: pname,
                            ty,
                            span,
                        });
                        if self.eat(b")") {
                            break;
                        }
                        if !self.eat(b",") {
                            return None;
                        }
                        if self.eat(b")") {
                            break;
                        }
                    }
                }
                let body = self.body()?;
                Item::Check(CheckDecl {
                    doc,
                    name,
                    params,
                    body,
                    span: self.span(start, self.pos),
                })
            }
            b"contract" => {
                let name = self.name()?;
                let body = self.body()?;
                Item::Contract(ContractDecl {
                    doc,
                    name,
                    body,
                    span: self.span(start, self.pos),
                })
            }
            b"agent" => {
                let name = self.name()?;
                if !self.eat(b":") {
                    return None;
                }
                let provider = self.name()?;
                let body = self.body()?;
                Item::Agent(AgentDecl {
                    doc,
                    name,
                    provider,
                    body,
                    span: self.span(start, self.pos),
                })
            }
            b"part" => {
                let name = self.name()?;
                let mut contracts = Vec::new();
                if self.eat(b":") {
                    contracts.push(self.path()?);
                    while self.eat(b"+") {
                        contracts.push(self.path()?);
                    }
                }
                let agent = if self.eat_keyword(b"by") {
                    Some(self.path()?)
                } else {
                    None
                };
                let body = self.body()?;
                Item::Part(PartDecl {
                    doc,
                    name,
                    contracts,
                    agent,
                    body,
                    span: self.span(start, self.pos),
                })
            }
            b"sequence" => {
                if !self.eat(b"{") {
                    return None;
                }
                let mut chains = Vec::new();
                while !self.eat(b"}") {
                    chains.push(self.chain()?);
                }
                Item::Sequence(SequenceDecl {
                    doc,
                    chains,
                    span: self.span(start, self.pos),
                })
            }
            _ => return None,
        };
        Some(item)
    }

    fn field(&mut self) -> Option<Field> {
        let start = {
            self.skip();
            self.pos
        };
        let doc = self.doc();
        let name = self.name()?;
        if !self.eat(b":") {
            return None;
        }
        let ty = self.type_expr()?;
        let mut end = ty.span.end as usize;
        if self.eat(b",") {
            end = self.pos;
        }
        Some(Field {
            doc,
            name,
            ty,
            span: self.span(start, end),
        })
    }

    fn chain(&mut self) -> Option<Chain> {
        let mut steps = vec![self.step()?];
        let mut arrows = Vec::new();
        loop {
            self.skip();
            if !self.at(b"->") {
                break;
            }
            arrows.push(self.span(self.pos, self.pos + 2));
            self.pos += 2;
            steps.push(self.step()?);
        }
        let span = steps[0].span().to(steps[steps.len() - 1].span());
        Some(Chain {
            steps,
            arrows,
            span,
        })
    }

    fn step(&mut self) -> Option<Step> {
        self.skip();
        if self.peek() != Some(b'[') {
            return Some(Step::Part(self.path()?));
        }
        let start = self.pos;
        self.pos += 1;
        let parts = self.separated(b"]", false, Self::path)?;
        Some(Step::Group {
            parts,
            span: self.span(start, self.pos),
        })
    }

    fn body(&mut self) -> Option<Body> {
        self.skip();
        if self.peek() != Some(b'{') {
            return None;
        }
        let start = self.pos;
        self.pos += 1;
        let mut settings = Vec::new();
        while !self.eat(b"}") {
            settings.push(self.setting()?);
        }
        Some(Body {
            settings,
            span: self.span(start, self.pos),
        })
    }

    fn setting(&mut self) -> Option<Setting> {
        let start = {
            self.skip();
            self.pos
        };
        let doc = self.doc();
        let name = self.name()?;
        let mut values = vec![self.value()?];
        loop {
            let before = self.pos;
            if !self.eat(b",") {
                self.pos = before;
                break;
            }
            values.push(self.value()?);
        }
        let end = values[values.len() - 1].span().end as usize;
        Some(Setting {
            doc,
            name,
            values,
            span: self.span(start, end),
        })
    }

    /// The rest of a comma-separated list whose opening bracket has been
    /// read: items with an optional trailing comma, up to and including
    /// `close`. `may_be_empty` says whether `close` may follow at once.
    fn separated<T>(
        &mut self,
        close: &[u8],
        may_be_empty: bool,
        mut item: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Vec<T>> {
        let mut items = Vec::new();
        if may_be_empty && self.eat(close) {
            return Some(items);
        }
        items.push(item(self)?);
        loop {
            if self.eat(close) {
                break;
            }
            if !self.eat(b",") {
                return None;
            }
            if self.eat(close) {
                break;
            }
            items.push(item(self)?);
        }
        Some(items)
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_NESTING).then_some(())
    }

    fn type_expr(&mut self) -> Option<TypeExpr> {
        self.skip();
        self.enter()?;
        let start = self.pos;
        let kind = match self.peek()? {
            b'[' => {
                self.pos += 1;
                let inner = self.type_expr()?;
                if !self.eat(b"]") {
                    return None;
                }
                TypeExprKind::List(Box::new(inner))
            }
            b'{' => {
                self.pos += 1;
                let key = self.type_expr()?;
                if !self.eat(b":") {
                    return None;
                }
                let value = self.type_expr()?;
                if !self.eat(b"}") {
                    return None;
                }
                TypeExprKind::Map(Box::new(key), Box::new(value))
            }
            _ => TypeExprKind::Named(self.path()?),
        };
        let mut ty = TypeExpr {
            kind,
            span: self.span(start, self.pos),
        };
        let mut marks = 0;
        loop {
            let before = self.pos;
            if !self.eat(b"?") {
                self.pos = before;
                break;
            }
            // Each mark is one more level of the tree (the scanner bounds
            // them with brackets; this reader keeps its own guard).
            marks += 1;
            if self.depth + marks > MAX_NESTING {
                return None;
            }
            let span = ty.span.to(self.span(self.pos - 1, self.pos));
            ty = TypeExpr {
                kind: TypeExprKind::Optional(Box::new(ty)),
                span,
            };
        }
        self.depth -= 1;
        Some(ty)
    }

    /// `"..."` or `"""..."""` at the current position.
    fn string_lit(&mut self) -> Option<StringLit> {
        let start = self.pos;
        let mut diags = Vec::new();
        if self.at(b"\"\"\"") {
            let body_start = start + 3;
            let mut i = body_start;
            loop {
                match self.b.get(i) {
                    _ if i >= self.end => return None,
                    Some(b'\\') => i += 2,
                    Some(b'"') if self.b[i..self.end].starts_with(b"\"\"\"") => break,
                    Some(_) => i += 1,
                    None => return None,
                }
            }
            if i > self.end {
                return None;
            }
            let value = literal::text_block_value(
                &self.text[body_start..i],
                self.file,
                body_start,
                &mut diags,
            );
            self.pos = i + 3;
            return diags.is_empty().then(|| StringLit {
                value,
                block: true,
                span: self.span(start, self.pos),
            });
        }
        if self.peek() != Some(b'"') {
            return None;
        }
        let body_start = start + 1;
        let mut i = body_start;
        loop {
            if i >= self.end {
                return None;
            }
            match self.b[i] {
                b'"' => break,
                b'\n' => return None,
                b'\\' => {
                    if self.b.get(i + 1).is_none_or(|&c| c == b'\n') {
                        return None;
                    }
                    i += 2;
                }
                _ => i += 1,
            }
        }
        if i >= self.end {
            return None;
        }
        let value =
            literal::string_value(&self.text[body_start..i], self.file, body_start, &mut diags);
        self.pos = i + 1;
        diags.is_empty().then(|| StringLit {
            value,
            block: false,
            span: self.span(start, self.pos),
        })
    }

    fn digits_from(&self, mut i: usize) -> Option<usize> {
        if !(i < self.end && self.b[i].is_ascii_digit()) {
            return None;
        }
        while i < self.end && (self.b[i].is_ascii_digit() || self.b[i] == b'_') {
            i += 1;
        }
        Some(i)
    }

    fn boundary(&self, i: usize) -> bool {
        !(i < self.end && is_ident_char(self.b[i]))
    }

    /// string | text block | duration | number, at the current position.
    fn literal(&mut self) -> Option<Value> {
        match self.peek()? {
            b'"' => return self.string_lit().map(Value::Str),
            b'0'..=b'9' | b'-' => {}
            _ => return None,
        }
        let start = self.pos;
        // duration: digits ("ms" | "s" | "m" | "h") boundary
        if let Some(d) = self.digits_from(start) {
            let rest = &self.b[d..self.end];
            let unit = if rest.starts_with(b"ms") {
                2
            } else if rest.starts_with(b"s") || rest.starts_with(b"m") || rest.starts_with(b"h") {
                1
            } else {
                0
            };
            if unit > 0 && self.boundary(d + unit) {
                let raw = &self.text[start..d + unit];
                let millis = literal::duration_millis(raw)?;
                self.pos = d + unit;
                return Some(Value::Duration(DurationLit {
                    raw: raw.to_string(),
                    millis,
                    span: self.span(start, self.pos),
                }));
            }
        }
        // number: "-"? digits ("." digits)? boundary
        let mut i = start;
        if self.b[i] == b'-' {
            i += 1;
        }
        let mut i = self.digits_from(i)?;
        if i < self.end
            && self.b[i] == b'.'
            && let Some(j) = self.digits_from(i + 1)
        {
            i = j;
        }
        if !self.boundary(i) {
            return None;
        }
        let raw = &self.text[start..i];
        self.pos = i;
        Some(Value::Number(NumberLit {
            raw: raw.to_string(),
            value: literal::number_value(raw),
            integer: !raw.contains('.'),
            span: self.span(start, i),
        }))
    }

    // Values recurse (lists, maps, calls), so each construct has its own
    // small function: in debug builds one big function would put every
    // arm's locals in each frame of the recursion.

    fn value(&mut self) -> Option<Value> {
        self.skip();
        match self.peek()? {
            b'[' => self.list(),
            b'{' => self.map(),
            c if is_ident_start(c) => {
                let start = self.pos;
                for word in [&b"true"[..], b"false"] {
                    if self.at(word) && self.boundary(start + word.len()) {
                        self.pos += word.len();
                        return Some(Value::Bool(word == b"true", self.span(start, self.pos)));
                    }
                }
                self.named_value()
            }
            _ => self.literal(),
        }
    }

    #[inline(never)]
    fn list(&mut self) -> Option<Value> {
        let start = self.pos;
        self.enter()?;
        self.pos += 1;
        let values = self.separated(b"]", true, Self::value)?;
        self.depth -= 1;
        Some(Value::List(values, self.span(start, self.pos)))
    }

    #[inline(never)]
    fn map(&mut self) -> Option<Value> {
        let start = self.pos;
        self.enter()?;
        self.pos += 1;
        let entries = self.separated(b"}", true, Self::map_entry)?;
        self.depth -= 1;
        Some(Value::Map(entries, self.span(start, self.pos)))
    }

    /// The name of a typed value, a binding or a tag: one word, not
    /// reserved (else the lowering has something to say).
    fn single(&self, segments: &[(usize, usize)]) -> Option<Ident> {
        if segments.len() != 1 {
            return None;
        }
        let ident = self.ident_at(segments[0]);
        (!is_reserved(&ident.name)).then_some(ident)
    }

    /// A value starting with a name: plain path, typed, binding, call or
    /// tagged, as decided by what follows the name.
    #[inline(never)]
    fn named_value(&mut self) -> Option<Value> {
        let start = self.pos;
        let segments = self.segments_here()?;
        let head_end = self.pos;
        self.skip();
        match self.peek() {
            Some(b':') => self.typed(start, &segments),
            Some(b'=') => {
                let name = self.single(&segments)?;
                self.pos += 1;
                let source = self.value_path()?;
                let end = source.span.end as usize;
                Some(Value::Binding {
                    name,
                    source,
                    span: self.span(start, end),
                })
            }
            Some(b'(') => self.call(start, &segments),
            Some(b'"' | b'0'..=b'9' | b'-') => {
                // A name then a literal: tagged. (If the literal is not
                // one, nothing that follows a plain name could start here,
                // so the declaration is not plainly correct.)
                let tag = self.single(&segments)?;
                let value = self.literal()?;
                let end = value.span().end as usize;
                Some(Value::Tagged {
                    tag,
                    value: Box::new(value),
                    span: self.span(start, end),
                })
            }
            _ => {
                self.pos = head_end;
                self.path_of(&segments, true).map(Value::Path)
            }
        }
    }

    fn typed(&mut self, start: usize, segments: &[(usize, usize)]) -> Option<Value> {
        let name = self.single(segments)?;
        self.pos += 1;
        let ty = self.type_expr()?;
        let mut end = ty.span.end as usize;
        let before = self.pos;
        let source = if self.eat(b"=") {
            let source = self.value_path()?;
            end = source.span.end as usize;
            Some(source)
        } else {
            self.pos = before;
            None
        };
        Some(Value::Typed {
            name,
            ty,
            source,
            span: self.span(start, end),
        })
    }

    #[inline(never)]
    fn call(&mut self, start: usize, segments: &[(usize, usize)]) -> Option<Value> {
        let callee = self.path_of(segments, false)?;
        self.enter()?;
        self.pos += 1;
        let args = self.separated(b")", true, Self::arg)?;
        self.depth -= 1;
        Some(Value::Call(Call {
            callee,
            args,
            span: self.span(start, self.pos),
        }))
    }

    fn arg(&mut self) -> Option<Arg> {
        self.skip();
        let start = self.pos;
        // `name:` then a value; else a positional value.
        let name = if self.peek().is_some_and(is_ident_start) {
            let before = self.pos;
            let range = self.word_here()?;
            self.skip();
            if self.peek() == Some(b':') {
                self.pos += 1;
                let ident = self.ident_at(range);
                if is_reserved(&ident.name) {
                    return None;
                }
                Some(ident)
            } else {
                self.pos = before;
                None
            }
        } else {
            None
        };
        let value = self.value()?;
        let end = value.span().end as usize;
        Some(Arg {
            name,
            value,
            span: self.span(start, end),
        })
    }

    fn map_entry(&mut self) -> Option<MapEntry> {
        self.skip();
        let start = self.pos;
        let key = match self.peek()? {
            b'"' => {
                if self.at(b"\"\"\"") {
                    return None;
                }
                MapKey::Str(self.string_lit()?)
            }
            _ => MapKey::Ident(self.name()?),
        };
        if !self.eat(b":") {
            return None;
        }
        let value = self.value()?;
        let end = value.span().end as usize;
        Some(MapEntry {
            key,
            value,
            span: self.span(start, end),
        })
    }
}
