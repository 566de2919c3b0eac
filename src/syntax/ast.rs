//! The typed syntax tree of one `.score` file.
//!
//! The tree is a faithful, unresolved picture of the source: names are plain
//! identifiers with spans, and declaration bodies are lists of generic
//! [`Setting`]s. Which settings a declaration accepts, and what their values
//! mean, is the checker's business (E0104/E0105), because setting names are
//! not reserved words: they are recognised by position.
//!
//! Every node carries a [`Span`]. Equality of trees "spans aside" (used by the
//! formatter's meaning-preservation tests) is [`File::strip_spans`] followed
//! by `==`.

use crate::source::{FileId, Span};

/// A parsed file.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    pub file: FileId,
    /// Declarations in source order. A declaration that failed to parse is an
    /// [`Item::Error`], so the others are still checked.
    pub items: Vec<Item>,
    /// Every `//` and `/* */` comment (not `///` doc comments, which live on
    /// the nodes they document), in source order. The formatter uses these.
    pub comments: Vec<Comment>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// The comment's text including its `//` or `/* */` delimiters.
    pub text: String,
    pub span: Span,
    pub kind: CommentKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommentKind {
    Line,
    Block,
}

/// `///` lines attached to the following declaration, field, variant or setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Doc {
    /// The text with the `///` markers and one following space removed,
    /// lines joined with `\n`.
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A dotted name: `std.checks`, `model.link_type`, `score.repo`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Path {
    pub segments: Vec<Ident>,
    pub span: Span,
}

impl Path {
    pub fn last(&self) -> &Ident {
        self.segments
            .last()
            .expect("a path has at least one segment")
    }

    /// The path as written, e.g. `std.checks`.
    pub fn dotted(&self) -> String {
        self.segments
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join(".")
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Score(ScoreDecl),
    Use(UseDecl),
    Type(TypeDecl),
    Enum(EnumDecl),
    Intent(IntentDecl),
    Check(CheckDecl),
    Contract(ContractDecl),
    Agent(AgentDecl),
    Part(PartDecl),
    Sequence(SequenceDecl),
    /// A declaration that did not parse; its E0001/E0002 has been reported.
    Error(Span),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Score(d) => d.span,
            Item::Use(d) => d.span,
            Item::Type(d) => d.span,
            Item::Enum(d) => d.span,
            Item::Intent(d) => d.span,
            Item::Check(d) => d.span,
            Item::Contract(d) => d.span,
            Item::Agent(d) => d.span,
            Item::Part(d) => d.span,
            Item::Sequence(d) => d.span,
            Item::Error(span) => *span,
        }
    }

    /// The declared name, for declarations that have one.
    pub fn name(&self) -> Option<&Ident> {
        match self {
            Item::Score(d) => Some(&d.name),
            Item::Type(d) => Some(&d.name),
            Item::Enum(d) => Some(&d.name),
            Item::Intent(d) => Some(&d.name),
            Item::Check(d) => Some(&d.name),
            Item::Contract(d) => Some(&d.name),
            Item::Agent(d) => Some(&d.name),
            Item::Part(d) => Some(&d.name),
            Item::Use(_) | Item::Sequence(_) | Item::Error(_) => None,
        }
    }

    pub fn doc(&self) -> Option<&Doc> {
        match self {
            Item::Score(d) => d.doc.as_ref(),
            Item::Use(d) => d.doc.as_ref(),
            Item::Type(d) => d.doc.as_ref(),
            Item::Enum(d) => d.doc.as_ref(),
            Item::Intent(d) => d.doc.as_ref(),
            Item::Check(d) => d.doc.as_ref(),
            Item::Contract(d) => d.doc.as_ref(),
            Item::Agent(d) => d.doc.as_ref(),
            Item::Part(d) => d.doc.as_ref(),
            Item::Sequence(d) => d.doc.as_ref(),
            Item::Error(_) => None,
        }
    }

    /// The keyword that introduces this declaration (`"part"`, ...).
    pub fn keyword(&self) -> &'static str {
        match self {
            Item::Score(_) => "score",
            Item::Use(_) => "use",
            Item::Type(_) => "type",
            Item::Enum(_) => "enum",
            Item::Intent(_) => "intent",
            Item::Check(_) => "check",
            Item::Contract(_) => "contract",
            Item::Agent(_) => "agent",
            Item::Part(_) => "part",
            Item::Sequence(_) => "sequence",
            Item::Error(_) => "declaration",
        }
    }
}

/// `score NAME { settings }`
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreDecl {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub body: Body,
    pub span: Span,
}

/// `use a.b.c` (a module) or `use a.b.{x, y}` (items of module `a.b`).
#[derive(Clone, Debug, PartialEq)]
pub struct UseDecl {
    pub doc: Option<Doc>,
    /// The module path (`a.b` in `use a.b.{x, y}`; `a.b.c` in `use a.b.c`).
    pub path: Path,
    /// `Some` for the braced form: the imported item names.
    pub items: Option<Vec<Ident>>,
    pub span: Span,
}

/// `type NAME { field: Type ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct TypeDecl {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub fields: Vec<Field>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub ty: TypeExpr,
    pub span: Span,
}

/// `enum NAME { a, b }`
#[derive(Clone, Debug, PartialEq)]
pub struct EnumDecl {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub variants: Vec<Variant>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub span: Span,
}

/// `intent NAME "statement" { settings }` (the body may be omitted).
#[derive(Clone, Debug, PartialEq)]
pub struct IntentDecl {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub statement: StringLit,
    /// `None` when written without braces.
    pub body: Option<Body>,
    pub span: Span,
}

/// `check NAME(param: Type, ...) { settings }`
#[derive(Clone, Debug, PartialEq)]
pub struct CheckDecl {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub params: Vec<Param>,
    pub body: Body,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeExpr,
    pub span: Span,
}

/// `contract NAME { settings }`
#[derive(Clone, Debug, PartialEq)]
pub struct ContractDecl {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub body: Body,
    pub span: Span,
}

/// `agent NAME: PROVIDER { settings }`
#[derive(Clone, Debug, PartialEq)]
pub struct AgentDecl {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub provider: Ident,
    pub body: Body,
    pub span: Span,
}

/// `part NAME[: Contract + Contract] [by AGENT] { settings }`
#[derive(Clone, Debug, PartialEq)]
pub struct PartDecl {
    pub doc: Option<Doc>,
    pub name: Ident,
    pub contracts: Vec<Path>,
    pub agent: Option<Path>,
    pub body: Body,
    pub span: Span,
}

/// `sequence { a -> [b, c] -> d }`
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceDecl {
    pub doc: Option<Doc>,
    pub chains: Vec<Chain>,
    pub span: Span,
}

/// One `a -> [b, c] -> d` line.
#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    pub steps: Vec<Step>,
    /// The spans of the `->` arrows; `arrows[i]` sits between `steps[i]` and
    /// `steps[i + 1]` (used to label the edges of a cycle, E0301).
    pub arrows: Vec<Span>,
    pub span: Span,
}

/// A step of a chain: one part, or a bracketed group that runs in parallel.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    Part(Path),
    Group { parts: Vec<Path>, span: Span },
}

impl Step {
    pub fn span(&self) -> Span {
        match self {
            Step::Part(p) => p.span,
            Step::Group { span, .. } => *span,
        }
    }

    pub fn parts(&self) -> &[Path] {
        match self {
            Step::Part(p) => std::slice::from_ref(p),
            Step::Group { parts, .. } => parts,
        }
    }
}

/// The `{ ... }` of a declaration: its settings in source order.
#[derive(Clone, Debug, PartialEq)]
pub struct Body {
    pub settings: Vec<Setting>,
    /// The span of the braces and everything between them.
    pub span: Span,
}

/// `name value, value ...`: one line of a declaration body, such as
/// `owns "src/**", "docs/**"`, `tier complex`, `input n = model.link_type`,
/// `budget tokens 200_000` or `ensures cargo_test(package: "store")`.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub doc: Option<Doc>,
    pub name: Ident,
    /// Comma-separated values after the name (at least one).
    pub values: Vec<Value>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `"text"` or a `"""` text block.
    Str(StringLit),
    /// `42`, `0.2`, `200_000`.
    Number(NumberLit),
    /// `500ms`, `30s`, `15m`, `2h`.
    Duration(DurationLit),
    /// `true` / `false`.
    Bool(bool, Span),
    /// A name or dotted name: `complex`, `shorten`, `model.link_type`.
    Path(Path),
    /// `[v, v, ...]`
    List(Vec<Value>, Span),
    /// `{ key: v, ... }` where a key is an identifier or a string.
    Map(Vec<MapEntry>, Span),
    /// `name(arg: v, ...)` or `name(v, ...)`: a check invocation.
    Call(Call),
    /// `tokens 200_000` / `usd 12.5`: a unit or kind followed by a value.
    Tagged {
        tag: Ident,
        value: Box<Value>,
        span: Span,
    },
    /// `name: Type` (optionally `= source`), as in `input n: Text` or
    /// `output store_api: Text`.
    Typed {
        name: Ident,
        ty: TypeExpr,
        source: Option<Path>,
        span: Span,
    },
    /// `name = source`, as in `input link_type = model.link_type`.
    Binding {
        name: Ident,
        source: Path,
        span: Span,
    },
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Str(s) => s.span,
            Value::Number(n) => n.span,
            Value::Duration(d) => d.span,
            Value::Bool(_, span) => *span,
            Value::Path(p) => p.span,
            Value::List(_, span) => *span,
            Value::Map(_, span) => *span,
            Value::Call(c) => c.span,
            Value::Tagged { span, .. } => *span,
            Value::Typed { span, .. } => *span,
            Value::Binding { span, .. } => *span,
        }
    }

    /// A short word for messages: "a string", "a number", ...
    pub fn describe(&self) -> &'static str {
        match self {
            Value::Str(s) if s.block => "a text block",
            Value::Str(_) => "a string",
            Value::Number(_) => "a number",
            Value::Duration(_) => "a duration",
            Value::Bool(..) => "a boolean",
            Value::Path(p) if p.segments.len() > 1 => "a dotted name",
            Value::Path(_) => "a name",
            Value::List(..) => "a list",
            Value::Map(..) => "a map",
            Value::Call(_) => "a check call",
            Value::Tagged { .. } => "a tagged value",
            Value::Typed { .. } => "a typed name (`name: Type`)",
            Value::Binding { .. } => "a binding (`name = part.output`)",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct MapEntry {
    pub key: MapKey,
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum MapKey {
    Ident(Ident),
    Str(StringLit),
}

impl MapKey {
    pub fn text(&self) -> &str {
        match self {
            MapKey::Ident(i) => &i.name,
            MapKey::Str(s) => &s.value,
        }
    }

    pub fn span(&self) -> Span {
        match self {
            MapKey::Ident(i) => i.span,
            MapKey::Str(s) => s.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub callee: Path,
    pub args: Vec<Arg>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// `Some` for `name: value`, `None` for a positional argument.
    pub name: Option<Ident>,
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StringLit {
    /// The value after escapes are processed (and, for text blocks, after
    /// the common indentation is stripped).
    pub value: String,
    /// `true` for a `"""` text block.
    pub block: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NumberLit {
    /// As written, e.g. `200_000`.
    pub raw: String,
    pub value: f64,
    /// `true` when written without a decimal point.
    pub integer: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DurationLit {
    /// As written, e.g. `15m`.
    pub raw: String,
    pub millis: u64,
    pub span: Span,
}

/// A type as written: `Text`, `std.types.FileSet`, `T?`, `[T]`, `{Text: T}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeExprKind {
    Named(Path),
    Optional(Box<TypeExpr>),
    List(Box<TypeExpr>),
    Map(Box<TypeExpr>, Box<TypeExpr>),
}

impl TypeExpr {
    /// The type as the user would write it, e.g. `[Text]?`.
    pub fn display(&self) -> String {
        match &self.kind {
            TypeExprKind::Named(p) => p.dotted(),
            TypeExprKind::Optional(t) => format!("{}?", t.display()),
            TypeExprKind::List(t) => format!("[{}]", t.display()),
            TypeExprKind::Map(k, v) => format!("{{{}: {}}}", k.display(), v.display()),
        }
    }
}
