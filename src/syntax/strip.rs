//! Walking every span of a tree: [`File::strip_spans`] so that two trees can
//! be compared "spans aside" (the formatter's meaning-preservation tests
//! parse, format, parse again and compare), and [`File::visit_spans_mut`]
//! for anything else that must see every span (tests check they all lie
//! within the text).

use super::ast::*;
use crate::source::Span;

type Visit<'a> = dyn FnMut(&mut Span) + 'a;

impl File {
    /// Set every span in the tree (comments included) to `Span::default()`.
    pub fn strip_spans(&mut self) {
        self.visit_spans_mut(&mut |span| *span = Span::default());
    }

    /// Call `f` on every span in the tree, comments and docs included.
    pub fn visit_spans_mut(&mut self, f: &mut dyn FnMut(&mut Span)) {
        for item in &mut self.items {
            item_spans(item, f);
        }
        for comment in &mut self.comments {
            f(&mut comment.span);
        }
    }
}

fn doc(d: &mut Option<Doc>, f: &mut Visit) {
    if let Some(d) = d {
        f(&mut d.span);
    }
}

fn ident(i: &mut Ident, f: &mut Visit) {
    f(&mut i.span);
}

fn path(p: &mut Path, f: &mut Visit) {
    f(&mut p.span);
    for s in &mut p.segments {
        ident(s, f);
    }
}

fn body(b: &mut Body, f: &mut Visit) {
    f(&mut b.span);
    for setting in &mut b.settings {
        f(&mut setting.span);
        doc(&mut setting.doc, f);
        ident(&mut setting.name, f);
        for v in &mut setting.values {
            value(v, f);
        }
    }
}

fn type_expr(ty: &mut TypeExpr, f: &mut Visit) {
    f(&mut ty.span);
    match &mut ty.kind {
        TypeExprKind::Named(p) => path(p, f),
        TypeExprKind::Optional(t) | TypeExprKind::List(t) => type_expr(t, f),
        TypeExprKind::Map(k, v) => {
            type_expr(k, f);
            type_expr(v, f);
        }
    }
}

fn value(v: &mut Value, f: &mut Visit) {
    match v {
        Value::Str(s) => f(&mut s.span),
        Value::Number(n) => f(&mut n.span),
        Value::Duration(d) => f(&mut d.span),
        Value::Bool(_, span) => f(span),
        Value::Path(p) => path(p, f),
        Value::List(values, span) => {
            f(span);
            for v in values {
                value(v, f);
            }
        }
        Value::Map(entries, span) => {
            f(span);
            for entry in entries {
                f(&mut entry.span);
                match &mut entry.key {
                    MapKey::Ident(i) => ident(i, f),
                    MapKey::Str(s) => f(&mut s.span),
                }
                value(&mut entry.value, f);
            }
        }
        Value::Call(call) => {
            f(&mut call.span);
            path(&mut call.callee, f);
            for arg in &mut call.args {
                f(&mut arg.span);
                if let Some(name) = &mut arg.name {
                    ident(name, f);
                }
                value(&mut arg.value, f);
            }
        }
        Value::Tagged {
            tag,
            value: v,
            span,
        } => {
            f(span);
            ident(tag, f);
            value(v, f);
        }
        Value::Typed {
            name,
            ty,
            source,
            span,
        } => {
            f(span);
            ident(name, f);
            type_expr(ty, f);
            if let Some(source) = source {
                path(source, f);
            }
        }
        Value::Binding { name, source, span } => {
            f(span);
            ident(name, f);
            path(source, f);
        }
    }
}

fn item_spans(item: &mut Item, f: &mut Visit) {
    match item {
        Item::Score(d) => {
            f(&mut d.span);
            doc(&mut d.doc, f);
            ident(&mut d.name, f);
            body(&mut d.body, f);
        }
        Item::Use(d) => {
            f(&mut d.span);
            doc(&mut d.doc, f);
            path(&mut d.path, f);
            for i in d.items.iter_mut().flatten() {
                ident(i, f);
            }
        }
        Item::Type(d) => {
            f(&mut d.span);
            doc(&mut d.doc, f);
            ident(&mut d.name, f);
            for field in &mut d.fields {
                f(&mut field.span);
                doc(&mut field.doc, f);
                ident(&mut field.name, f);
                type_expr(&mut field.ty, f);
            }
        }
        Item::Enum(d) => {
            f(&mut d.span);
            doc(&mut d.doc, f);
            ident(&mut d.name, f);
            for variant in &mut d.variants {
                f(&mut variant.span);
                doc(&mut variant.doc, f);
                ident(&mut variant.name, f);
            }
        }
        Item::Intent(d) => {
            f(&mut d.span);
            doc(&mut d.doc, f);
            ident(&mut d.name, f);
            f(&mut d.statement.span);
            if let Some(b) = &mut d.body {
                body(b, f);
            }
        }
        Item::Check(d) => {
            f(&mut d.span);
            doc(&mut d.doc, f);
            ident(&mut d.name, f);
            for param in &mut d.params {
                f(&mut param.span);
                ident(&mut param.name, f);
                type_expr(&mut param.ty, f);
            }
            body(&mut d.body, f);
        }
        Item::Contract(d) => {
            f(&mut d.span);
            doc(&mut d.doc, f);
            ident(&mut d.name, f);
            body(&mut d.body, f);
        }
        Item::Agent(d) => {
            f(&mut d.span);
            doc(&mut d.doc, f);
            ident(&mut d.name, f);
            ident(&mut d.provider, f);
            body(&mut d.body, f);
        }
        Item::Part(d) => {
            f(&mut d.span);
            doc(&mut d.doc, f);
            ident(&mut d.name, f);
            for c in &mut d.contracts {
                path(c, f);
            }
            if let Some(agent) = &mut d.agent {
                path(agent, f);
            }
            body(&mut d.body, f);
        }
        Item::Sequence(d) => {
            f(&mut d.span);
            doc(&mut d.doc, f);
            for chain in &mut d.chains {
                f(&mut chain.span);
                for arrow in &mut chain.arrows {
                    f(arrow);
                }
                for step in &mut chain.steps {
                    match step {
                        Step::Part(p) => path(p, f),
                        Step::Group { parts, span } => {
                            f(span);
                            for p in parts {
                                path(p, f);
                            }
                        }
                    }
                }
            }
        }
        Item::Error(span) => f(span),
    }
}
