//! Lowering: pest pairs of one declaration into the typed AST.
//!
//! The grammar guarantees the shape of every pair, so the lowering only
//! walks it; the few checks that remain (escapes, durations, doc comments
//! that document nothing) are reported here without dropping the node.

use pest::iterators::{Pair, Pairs};

use super::ast::*;
use super::grammar::Rule;
use super::literal;
use super::scan::{MAX_NESTING, is_reserved};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Span};

type P<'i> = Pair<'i, Rule>;

/// Lowers the pairs of one chunk; `base` is the chunk's offset in the file,
/// as pest positions are relative to the chunk.
pub(crate) struct Lowerer<'d> {
    file: FileId,
    /// The whole file, and the offset of the chunk in it.
    text: &'d str,
    base: usize,
    /// Every ordinary comment of the file, in order (from the scanner).
    comments: &'d [Comment],
    diags: &'d mut Vec<Diagnostic>,
    depth: usize,
}

/// The grammar guarantees this child exists; a missing one is a bug in the
/// grammar/lowering pair, caught by the tests and the fuzzer.
fn next<'i>(it: &mut Pairs<'i, Rule>) -> P<'i> {
    it.next().expect("the grammar guarantees this child")
}

impl<'d> Lowerer<'d> {
    pub(crate) fn new(
        file: FileId,
        text: &'d str,
        base: usize,
        comments: &'d [Comment],
        diags: &'d mut Vec<Diagnostic>,
    ) -> Lowerer<'d> {
        Lowerer {
            file,
            text,
            base,
            comments,
            diags,
            depth: 0,
        }
    }

    /// The span of a pair in the file. Pest includes in a pair the
    /// whitespace and comments it skipped before trying an optional tail
    /// that then did not match (`serves x` followed by a newline, when no
    /// `,` comes); that trivia is cut off here, so every span ends at the
    /// node's last token.
    fn span(&self, p: &P) -> Span {
        let s = p.as_span();
        let start = self.base + s.start();
        let mut end = self.base + s.end();
        let bytes = self.text.as_bytes();
        loop {
            while end > start && matches!(bytes[end - 1], b' ' | b'\t' | b'\r' | b'\n') {
                end -= 1;
            }
            // A comment ending here (or whose own trailing spaces were just
            // trimmed): cut it off too, and look again before it.
            let after = self
                .comments
                .partition_point(|c| (c.span.start as usize) < end);
            match after.checked_sub(1).map(|i| &self.comments[i]) {
                Some(c) if c.span.end as usize >= end && c.span.start as usize >= start => {
                    end = c.span.start as usize;
                }
                _ => break,
            }
        }
        Span::new(self.file, start, end)
    }

    /// A declaration pair (`score_decl`, `part_decl`, ...).
    pub(crate) fn declaration(&mut self, p: P) -> Item {
        let span = self.span(&p);
        let rule = p.as_rule();
        let mut it = p.into_inner();
        let doc = self.opt_doc(&mut it);
        // The keyword's own pair.
        let keyword = next(&mut it);
        let what = keyword.as_str();
        match rule {
            Rule::score_decl => {
                let name = self.decl_name(next(&mut it), what);
                let body = self.body(next(&mut it));
                Item::Score(ScoreDecl {
                    doc,
                    name,
                    body,
                    span,
                })
            }
            Rule::use_decl => {
                let path = self.path(next(&mut it));
                let items = it.next().map(|items| {
                    items
                        .into_inner()
                        .map(|i| self.name(i, "an imported item"))
                        .collect()
                });
                Item::Use(UseDecl {
                    doc,
                    path,
                    items,
                    span,
                })
            }
            Rule::type_decl => {
                let name = self.decl_name(next(&mut it), what);
                let mut fields = Vec::new();
                for p in it {
                    match p.as_rule() {
                        Rule::field => fields.push(self.field(p)),
                        _ => self.dangling_doc(&p),
                    }
                }
                Item::Type(TypeDecl {
                    doc,
                    name,
                    fields,
                    span,
                })
            }
            Rule::enum_decl => {
                let name = self.decl_name(next(&mut it), what);
                let mut variants = Vec::new();
                for p in it {
                    match p.as_rule() {
                        Rule::variant => {
                            let span = self.span(&p);
                            let mut it = p.into_inner();
                            let doc = self.opt_doc(&mut it);
                            let name = self.name(next(&mut it), "a variant");
                            variants.push(Variant { doc, name, span });
                        }
                        _ => self.dangling_doc(&p),
                    }
                }
                Item::Enum(EnumDecl {
                    doc,
                    name,
                    variants,
                    span,
                })
            }
            Rule::intent_decl => {
                let name = self.decl_name(next(&mut it), what);
                let statement = self.string_lit(next(&mut it));
                let body = it.next().map(|b| self.body(b));
                Item::Intent(IntentDecl {
                    doc,
                    name,
                    statement,
                    body,
                    span,
                })
            }
            Rule::check_decl => {
                let name = self.decl_name(next(&mut it), what);
                let mut params = Vec::new();
                let mut body = None;
                for p in it {
                    match p.as_rule() {
                        Rule::param => {
                            let span = self.span(&p);
                            let mut it = p.into_inner();
                            let name = self.name(next(&mut it), "a parameter");
                            let ty = self.type_expr(next(&mut it));
                            params.push(Param { name, ty, span });
                        }
                        _ => body = Some(self.body(p)),
                    }
                }
                Item::Check(CheckDecl {
                    doc,
                    name,
                    params,
                    body: body.expect("a check has a body"),
                    span,
                })
            }
            Rule::contract_decl => {
                let name = self.decl_name(next(&mut it), what);
                let body = self.body(next(&mut it));
                Item::Contract(ContractDecl {
                    doc,
                    name,
                    body,
                    span,
                })
            }
            Rule::agent_decl => {
                let name = self.decl_name(next(&mut it), what);
                let provider = self.name(next(&mut it), "a provider");
                let body = self.body(next(&mut it));
                Item::Agent(AgentDecl {
                    doc,
                    name,
                    provider,
                    body,
                    span,
                })
            }
            Rule::part_decl => {
                let name = self.decl_name(next(&mut it), what);
                let mut contracts = Vec::new();
                let mut agent = None;
                let mut body = None;
                for p in it {
                    match p.as_rule() {
                        Rule::part_contracts => {
                            contracts = p.into_inner().map(|c| self.path(c)).collect();
                        }
                        Rule::part_agent => {
                            let mut it = p.into_inner();
                            next(&mut it); // `by`
                            agent = Some(self.path(next(&mut it)));
                        }
                        _ => body = Some(self.body(p)),
                    }
                }
                Item::Part(PartDecl {
                    doc,
                    name,
                    contracts,
                    agent,
                    body: body.expect("a part has a body"),
                    span,
                })
            }
            Rule::sequence_decl => {
                let chains = it.map(|c| self.chain(c)).collect();
                Item::Sequence(SequenceDecl { doc, chains, span })
            }
            other => unreachable!("not a declaration rule: {other:?}"),
        }
    }

    fn opt_doc(&mut self, it: &mut Pairs<Rule>) -> Option<Doc> {
        if it.peek().is_some_and(|p| p.as_rule() == Rule::doc) {
            Some(self.doc(next(it)))
        } else {
            None
        }
    }

    fn doc(&mut self, p: P) -> Doc {
        let mut text = String::new();
        let mut start = None;
        let mut end = 0;
        for (i, line) in p.into_inner().enumerate() {
            let s = line.as_str();
            let s = s.strip_suffix('\r').unwrap_or(s);
            let content = &s[3..];
            if i > 0 {
                text.push('\n');
            }
            text.push_str(content.strip_prefix(' ').unwrap_or(content));
            let at = line.as_span().start();
            start.get_or_insert(at);
            end = at + s.len();
        }
        let start = start.unwrap_or(end);
        Doc {
            text,
            span: Span::new(self.file, self.base + start, self.base + end),
        }
    }

    fn dangling_doc(&mut self, p: &P) {
        let doc = self.doc(
            p.clone()
                .into_inner()
                .next()
                .expect("a dangling doc holds a doc"),
        );
        self.diags.push(dangling_doc_diagnostic(doc.span));
    }

    fn ident(&mut self, p: P) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: self.span(&p),
        }
    }

    /// A name that must not be a reserved word; `what` completes "cannot
    /// name ...".
    fn name(&mut self, p: P, what: &str) -> Ident {
        let ident = self.ident(p);
        if is_reserved(&ident.name) {
            self.diags
                .push(reserved_word(&ident, &format!("cannot name {what}")));
        }
        ident
    }

    fn decl_name(&mut self, p: P, keyword: &str) -> Ident {
        self.name(p, &format!("{} {keyword}", article(keyword)))
    }

    /// A dotted name (`path` or `value_path`); only a value path may start
    /// with `score` (`score.repo` names a score-level input).
    fn path(&mut self, p: P) -> Path {
        let value = p.as_rule() == Rule::value_path;
        let span = self.span(&p);
        let mut segments: Vec<Ident> = Vec::new();
        let mut inner = p.into_inner().peekable();
        while let Some(s) = inner.next() {
            let ident = self.ident(s);
            let score_root =
                value && segments.is_empty() && ident.name == "score" && inner.peek().is_some();
            if is_reserved(&ident.name) && !score_root {
                self.diags
                    .push(reserved_word(&ident, "cannot be used as a name"));
            }
            segments.push(ident);
        }
        Path { segments, span }
    }

    fn field(&mut self, p: P) -> Field {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let doc = self.opt_doc(&mut it);
        let name = self.name(next(&mut it), "a field");
        let ty = self.type_expr(next(&mut it));
        Field {
            doc,
            name,
            ty,
            span,
        }
    }

    fn body(&mut self, p: P) -> Body {
        let span = self.span(&p);
        let mut settings = Vec::new();
        for p in p.into_inner() {
            match p.as_rule() {
                Rule::setting => settings.push(self.setting(p)),
                _ => self.dangling_doc(&p),
            }
        }
        Body { settings, span }
    }

    fn setting(&mut self, p: P) -> Setting {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let doc = self.opt_doc(&mut it);
        let name = self.name(next(&mut it), "a setting");
        let values = it.map(|v| self.value(v)).collect();
        Setting {
            doc,
            name,
            values,
            span,
        }
    }

    fn chain(&mut self, p: P) -> Chain {
        let span = self.span(&p);
        let mut steps = Vec::new();
        let mut arrows = Vec::new();
        for p in p.into_inner() {
            match p.as_rule() {
                Rule::arrow => arrows.push(self.span(&p)),
                Rule::group => {
                    let span = self.span(&p);
                    let parts = p.into_inner().map(|q| self.path(q)).collect();
                    steps.push(Step::Group { parts, span });
                }
                _ => steps.push(Step::Part(self.path(p))),
            }
        }
        Chain {
            steps,
            arrows,
            span,
        }
    }

    /// Enter one level of brackets. The scanner already refuses input nested
    /// deeper than [`MAX_NESTING`]; this is the lowering's own guard.
    fn enter(&mut self, p: &P) -> bool {
        if self.depth >= MAX_NESTING * 2 {
            self.too_deep(p, "brackets");
            return false;
        }
        self.depth += 1;
        true
    }

    fn too_deep(&mut self, p: &P, what: &str) {
        let span = self.span(p);
        self.diags.push(
            Diagnostic::new(Code::E0001, "nesting too deep")
                .primary(
                    span,
                    format!("more than {MAX_NESTING} levels of nested {what}"),
                )
                .help("flatten this value: a score never needs this much nesting"),
        );
    }

    fn type_expr(&mut self, p: P) -> TypeExpr {
        let outer = self.span(&p);
        if !self.enter(&p) {
            return TypeExpr {
                kind: TypeExprKind::Named(Path {
                    segments: vec![Ident {
                        name: String::new(),
                        span: outer,
                    }],
                    span: outer,
                }),
                span: outer,
            };
        }
        let mut it = p.into_inner();
        let atom = next(&mut it);
        let span = self.span(&atom);
        let kind = match atom.as_rule() {
            Rule::list_type => {
                TypeExprKind::List(Box::new(self.type_expr(next(&mut atom.into_inner()))))
            }
            Rule::map_type => {
                let mut inner = atom.into_inner();
                let key = self.type_expr(next(&mut inner));
                let value = self.type_expr(next(&mut inner));
                TypeExprKind::Map(Box::new(key), Box::new(value))
            }
            _ => TypeExprKind::Named(self.path(atom)),
        };
        let mut ty = TypeExpr { kind, span };
        for (marks, mark) in it.enumerate() {
            // Each `?` is one more level of the tree, bounded like brackets.
            if self.depth + marks >= MAX_NESTING * 2 {
                self.too_deep(&mark, "brackets and `?` marks");
                break;
            }
            let span = ty.span.to(self.span(&mark));
            ty = TypeExpr {
                kind: TypeExprKind::Optional(Box::new(ty)),
                span,
            };
        }
        self.depth -= 1;
        ty
    }

    fn string_lit(&mut self, p: P) -> StringLit {
        let span = self.span(&p);
        let block = p.as_rule() == Rule::text_block;
        let body = next(&mut p.into_inner());
        let offset = self.base + body.as_span().start();
        let value = if block {
            literal::text_block_value(body.as_str(), self.file, offset, self.diags)
        } else {
            literal::string_value(body.as_str(), self.file, offset, self.diags)
        };
        StringLit { value, block, span }
    }

    fn value(&mut self, p: P) -> Value {
        let span = self.span(&p);
        match p.as_rule() {
            Rule::string | Rule::text_block => Value::Str(self.string_lit(p)),
            Rule::number => {
                let raw = p.as_str();
                Value::Number(NumberLit {
                    raw: raw.to_string(),
                    value: literal::number_value(raw),
                    integer: !raw.contains('.'),
                    span,
                })
            }
            Rule::duration => {
                let raw = p.as_str();
                let millis = literal::duration_millis(raw).unwrap_or_else(|| {
                    self.diags.push(
                        Diagnostic::new(Code::E0001, format!("the duration `{raw}` is too long"))
                            .primary(span, "too long to count in milliseconds")
                            .help("durations must be under about 584 million years"),
                    );
                    u64::MAX
                });
                Value::Duration(DurationLit {
                    raw: raw.to_string(),
                    millis,
                    span,
                })
            }
            Rule::boolean => Value::Bool(p.as_str() == "true", span),
            Rule::named_value => self.named_value(p, span),
            Rule::list => {
                if !self.enter(&p) {
                    return Value::List(Vec::new(), span);
                }
                let values = p.into_inner().map(|v| self.value(v)).collect();
                self.depth -= 1;
                Value::List(values, span)
            }
            Rule::map => {
                if !self.enter(&p) {
                    return Value::Map(Vec::new(), span);
                }
                let entries = p.into_inner().map(|e| self.map_entry(e)).collect();
                self.depth -= 1;
                Value::Map(entries, span)
            }
            other => unreachable!("not a value rule: {other:?}"),
        }
    }

    /// A value that starts with a (dotted) name, and what follows it.
    fn named_value(&mut self, p: P, span: Span) -> Value {
        let mut it = p.into_inner();
        let head = next(&mut it);
        let Some(tail) = it.next() else {
            return Value::Path(self.path(head));
        };
        match tail.as_rule() {
            Rule::typed_tail => {
                let name = self.plain_name(head, "an input or output", ":");
                let mut it = tail.into_inner();
                let ty = self.type_expr(next(&mut it));
                let source = it.next().map(|s| self.path(s));
                Value::Typed {
                    name,
                    ty,
                    source,
                    span,
                }
            }
            Rule::binding_tail => {
                let name = self.plain_name(head, "an input", "=");
                let source = self.path(next(&mut tail.into_inner()));
                Value::Binding { name, source, span }
            }
            Rule::call_args => {
                let callee = self.path(head);
                if callee.segments.len() > 1 && callee.segments[0].name == "score" {
                    let first = callee.segments[0].clone();
                    self.diags
                        .push(reserved_word(&first, "cannot be used as a name"));
                }
                if !self.enter(&tail) {
                    return Value::List(Vec::new(), span);
                }
                let args = tail.into_inner().map(|a| self.arg(a)).collect();
                self.depth -= 1;
                Value::Call(Call { callee, args, span })
            }
            _ => {
                let tag = self.plain_name(head, "a tag", "before a literal");
                let value = Box::new(self.value(next(&mut tail.into_inner())));
                Value::Tagged { tag, value, span }
            }
        }
    }

    /// The name of a typed value, a binding or a tag: one word, not
    /// reserved. `what` completes "cannot name ..."; `before` is the token
    /// that follows it, for the message.
    fn plain_name(&mut self, head: P, what: &str, before: &str) -> Ident {
        let span = self.span(&head);
        let text = head.as_str();
        if text.contains('.') {
            let before = if before.len() == 1 {
                format!("before `{before}`")
            } else {
                before.to_string()
            };
            self.diags.push(
                Diagnostic::new(Code::E0001, format!("expected a name {before}, found the dotted name `{text}`"))
                    .primary(span, "a dotted name cannot be declared here")
                    .help("write a single word, e.g. `input link_type: Text` or `input link_type = model.link_type`"),
            );
            return Ident {
                name: text.to_string(),
                span,
            };
        }
        self.name(next(&mut head.into_inner()), what)
    }

    fn arg(&mut self, p: P) -> Arg {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let first = next(&mut it);
        let (name, value) = if first.as_rule() == Rule::ident {
            let name = self.name(first, "an argument");
            (Some(name), self.value(next(&mut it)))
        } else {
            (None, self.value(first))
        };
        Arg { name, value, span }
    }

    fn map_entry(&mut self, p: P) -> MapEntry {
        let span = self.span(&p);
        let mut it = p.into_inner();
        let key = next(&mut it);
        let key = if key.as_rule() == Rule::ident {
            let ident = self.ident(key);
            if is_reserved(&ident.name) {
                let quoted = format!("quote it: `\"{}\": ...`", ident.name);
                self.diags
                    .push(reserved_word(&ident, "cannot be a map key unless quoted").help(quoted));
            }
            MapKey::Ident(ident)
        } else {
            MapKey::Str(self.string_lit(key))
        };
        let value = self.value(next(&mut it));
        MapEntry { key, value, span }
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// "`part` is a reserved word and {cannot ...}".
fn reserved_word(ident: &Ident, cannot: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E0001,
        format!("`{}` is a reserved word and {cannot}", ident.name),
    )
    .primary(ident.span, "reserved word")
    .help(format!(
        "choose another name, such as `{}_`; the reserved words are {}",
        ident.name, RESERVED_LIST
    ))
}

const RESERVED_LIST: &str = "`score`, `use`, `type`, `enum`, `intent`, `check`, `contract`, `agent`, `part`, `sequence`, `by`, `true` and `false`";

pub(crate) fn dangling_doc_diagnostic(span: Span) -> Diagnostic {
    Diagnostic::new(Code::E0001, "doc comment documents nothing")
        .primary(span, "nothing follows this doc comment")
        .help(
            "a `///` doc comment must come right before a declaration, field, variant or setting; \
             use `//` for an ordinary comment",
        )
}
