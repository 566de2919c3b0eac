//! The checked model: one resolved, typed, immutable picture of a program,
//! produced by [`crate::check::check`] and consumed by the plan compiler and
//! the language server.
//!
//! # Invariants
//!
//! - **No unresolved names.** Every cross-reference is a typed index
//!   ([`PartId`], [`AgentId`], ...) into this model's vectors, valid for its
//!   lifetime. A reference that did not resolve (E0101, E0103, E0203) is
//!   simply absent: a part whose `by` names no agent has `agent: None`, a
//!   binding to a missing output has `source: None`, an `ensures` with wrong
//!   arguments (E0205) is dropped, a type that names nothing is [`Ty::Error`].
//! - **Which items are present.** Every named declaration of every loaded
//!   file (the user's files and the imported standard library modules) is
//!   present, ordered by file id and then by source position. A second
//!   declaration of a name already declared in the same file (E0102) is left
//!   out; references to that name resolve to the first one. Of several
//!   `score` declarations only the first is kept. A setting that was
//!   rejected (E0104, E0102) is left out as if it had not been written, so
//!   its default applies.
//! - **Marked, not hidden.** Each item has `has_errors`: true when an
//!   error diagnostic points inside its declaration. Such an item may hold
//!   [`Ty::Error`], defaults in place of rejected settings, unbound inputs,
//!   or (for an agent) [`Provider::Unknown`]. When the program checked
//!   without errors, no item has `has_errors`, there is no [`Ty::Error`],
//!   every part input has a source, every part has an agent and the part
//!   graph is acyclic.
//! - **Effective interfaces.** A part's `inputs`, `outputs`, `owns`,
//!   `reads` and `ensures` already include those of its contracts (each
//!   entry says where it came from with an [`Origin`]), the contracts'
//!   entries first, in the order the part lists its contracts, then the
//!   part's own; names are unique within a part's inputs and within its
//!   outputs.
//! - **Order.** `edges` holds each ordering `from → to` once (from
//!   `sequence` chains and from input bindings, the first cause kept).
//!   `order` lists every part once, in a topological order of the edges
//!   when the graph is acyclic; parts that are free to go earlier come in
//!   declaration order. With a cycle (E0301), each cycle's parts are
//!   condensed into one node, so the order is still total and stable.
//! - **Symbols.** Every declaration, record field, enum variant, check
//!   parameter, contract/part input and output and score input is a
//!   [`Symbol`] with its defining span and doc. Every resolved name in the
//!   sources is a [`Reference`] (one identifier's span → its symbol);
//!   references are sorted by file and position and never overlap.

mod order;
mod symbols;
mod ty;

pub use order::Reachability;
pub use symbols::{Reference, Symbol, SymbolKind};
pub use ty::{Const, Ty};

use crate::source::{FileId, Span};
use std::time::Duration;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub struct $name(pub u32);

            impl $name {
                pub fn index(self) -> usize {
                    self.0 as usize
                }
            }
        )*
    };
}

ids! {
    /// A record type (`type NAME { ... }`), an index into [`Model::records`].
    TypeId;
    /// An enum, an index into [`Model::enums`].
    EnumId;
    /// An intent, an index into [`Model::intents`].
    IntentId;
    /// A check, an index into [`Model::checks`].
    CheckId;
    /// A contract, an index into [`Model::contracts`].
    ContractId;
    /// An agent, an index into [`Model::agents`].
    AgentId;
    /// A part, an index into [`Model::parts`].
    PartId;
    /// A symbol, an index into [`Model::symbols`].
    SymbolId;
}

/// A value with the span it was written at.
#[derive(Clone, Debug, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

/// What every named declaration has.
#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    pub name: String,
    pub file: FileId,
    /// The declared name.
    pub name_span: Span,
    /// The whole declaration.
    pub span: Span,
    pub doc: Option<String>,
    pub symbol: SymbolId,
    /// An error diagnostic points inside this declaration (see the invariants).
    pub has_errors: bool,
}

/// `routine < moderate < complex`: a part's complexity and an agent's tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Level {
    #[default]
    Routine,
    Moderate,
    Complex,
}

impl Level {
    pub const NAMES: &'static [&'static str] = &["routine", "moderate", "complex"];

    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "routine" => Some(Level::Routine),
            "moderate" => Some(Level::Moderate),
            "complex" => Some(Level::Complex),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Routine => "routine",
            Level::Moderate => "moderate",
            Level::Complex => "complex",
        }
    }
}

/// How the runtime talks to a `command` agent's program: which
/// machine-readable output it prints, which flags it takes for a result
/// schema and a budget, which instruction file it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Protocol {
    /// Any program: the result object in `$SCORE_OUTPUT` or last on stdout.
    #[default]
    Plain,
    /// Claude Code, `claude -p --output-format json` (or `stream-json`).
    ClaudeJson,
    /// Codex CLI, `codex exec --json`.
    CodexJsonl,
    /// Gemini CLI, `gemini --output-format json`.
    GeminiJson,
}

impl Protocol {
    pub const NAMES: &'static [&'static str] =
        &["plain", "claude_json", "codex_jsonl", "gemini_json"];

    pub fn parse(text: &str) -> Option<Protocol> {
        match text {
            "plain" => Some(Protocol::Plain),
            "claude_json" => Some(Protocol::ClaudeJson),
            "codex_jsonl" => Some(Protocol::CodexJsonl),
            "gemini_json" => Some(Protocol::GeminiJson),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Plain => "plain",
            Protocol::ClaudeJson => "claude_json",
            Protocol::CodexJsonl => "codex_jsonl",
            Protocol::GeminiJson => "gemini_json",
        }
    }
}

/// An intent's `priority`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Must,
    Should,
    Could,
}

impl Priority {
    pub const NAMES: &'static [&'static str] = &["must", "should", "could"];

    pub fn parse(text: &str) -> Option<Priority> {
        match text {
            "must" => Some(Priority::Must),
            "should" => Some(Priority::Should),
            "could" => Some(Priority::Could),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Must => "must",
            Priority::Should => "should",
            Priority::Could => "could",
        }
    }
}

/// `budget tokens N` and/or `budget usd X`.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Budget {
    pub tokens: Option<u64>,
    pub usd: Option<f64>,
}

/// The `score` declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct Score {
    pub decl: Decl,
    pub title: Option<String>,
    /// As written (relative to the file that declares the score); `None`
    /// means the default, that file's directory.
    pub workspace: Option<String>,
    pub concurrency: Option<u32>,
    pub default_agent: Option<AgentId>,
    pub budget: Budget,
    /// `input n: T`, given at run time with `--input n=VALUE`.
    pub inputs: Vec<Port>,
}

/// A named, typed value crossing a boundary: a contract's or part's input or
/// output, or a score input.
#[derive(Clone, Debug, PartialEq)]
pub struct Port {
    pub name: String,
    pub ty: Ty,
    /// The `name: Type` as written.
    pub span: Span,
    pub symbol: SymbolId,
}

/// `type NAME { field: Type ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub decl: Decl,
    pub fields: Vec<FieldDef>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FieldDef {
    pub name: String,
    pub ty: Ty,
    pub span: Span,
    pub doc: Option<String>,
    pub symbol: SymbolId,
}

/// `enum NAME { a, b }`
#[derive(Clone, Debug, PartialEq)]
pub struct Enum {
    pub decl: Decl,
    pub variants: Vec<VariantDef>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VariantDef {
    pub name: String,
    pub span: Span,
    pub doc: Option<String>,
    pub symbol: SymbolId,
}

/// `intent NAME "statement" { accept "..." priority must }`
#[derive(Clone, Debug, PartialEq)]
pub struct Intent {
    pub decl: Decl,
    pub statement: String,
    pub accepts: Vec<Spanned<String>>,
    pub priority: Option<Priority>,
}

/// `check NAME(param: Type, ...) { run "cmd {param}" timeout 5m }`
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub decl: Decl,
    pub params: Vec<Param>,
    /// The command template; `{param}` is replaced by the argument.
    pub run: String,
    pub timeout: Option<Duration>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: String,
    pub ty: Ty,
    pub span: Span,
    pub symbol: SymbolId,
}

impl Param {
    /// A parameter of optional type may be left out of a call.
    pub fn required(&self) -> bool {
        !matches!(self.ty, Ty::Optional(_) | Ty::Error)
    }
}

/// `contract NAME { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct Contract {
    pub decl: Decl,
    pub inputs: Vec<Port>,
    pub outputs: Vec<Port>,
    pub owns: Vec<Glob>,
    pub reads: Vec<Glob>,
    pub ensures: Vec<Ensure>,
}

/// Where an effective entry of a part comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Written in the part (or, inside a [`Contract`], in the contract).
    Own,
    /// Inherited from this contract.
    Contract(ContractId),
}

/// One `owns`/`reads` glob, as written (validated by the boundary checks).
#[derive(Clone, Debug, PartialEq)]
pub struct Glob {
    pub pattern: String,
    pub span: Span,
    pub origin: Origin,
}

/// One `ensures`.
#[derive(Clone, Debug, PartialEq)]
pub struct Ensure {
    pub kind: EnsureKind,
    pub span: Span,
    pub origin: Origin,
}

#[derive(Clone, Debug, PartialEq)]
pub enum EnsureKind {
    /// `ensures cargo_test(package: "store")`: the arguments, matched to the
    /// check's parameters, in parameter order (optional ones left out are
    /// absent).
    Check {
        check: CheckId,
        args: Vec<(String, Const)>,
    },
    /// `ensures "every public function has a doc comment"`
    Text(String),
}

/// `agent NAME: PROVIDER { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct Agent {
    pub decl: Decl,
    pub provider: Provider,
    /// Default [`Level::Routine`].
    pub tier: Level,
    /// The `tier` value, when written.
    pub tier_span: Option<Span>,
    /// At most this many parts at once for this agent.
    pub concurrency: Option<u32>,
    /// USD per million input tokens.
    pub price_in: Option<f64>,
    /// USD per million output tokens.
    pub price_out: Option<f64>,
    /// `writes`, `reads` and `confinement`: the boundary of the programs
    /// of its parts.
    pub sandbox: AgentSandbox,
}

/// An agent's sandbox settings, as written (see `docs/security.md`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AgentSandbox {
    /// Extra writable paths (`~` expanded at run time).
    pub writes: Vec<String>,
    /// The only readable paths (besides the checkout, the temporary
    /// directory and the system's); `None`: everything.
    pub reads: Option<Vec<String>>,
    /// `confinement optional`: run unconfined where Landlock is missing.
    pub optional: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Provider {
    OpenAi {
        model: String,
        endpoint: Option<String>,
        key_env: Option<String>,
        temperature: Option<f64>,
        max_tokens: Option<u64>,
    },
    Anthropic {
        model: String,
        endpoint: Option<String>,
        key_env: Option<String>,
        max_tokens: Option<u64>,
    },
    Command {
        /// The argv; `{prompt_file}`, `{output_file}` and `{workspace}` are
        /// substituted as whole arguments.
        run: Vec<String>,
        /// Extra environment variables, in source order.
        env: Vec<(String, String)>,
        /// `stdin prompt`: the prompt is also written to the program's stdin.
        stdin_prompt: bool,
        /// `pass_env`: names of variables passed through to the program.
        pass_env: Vec<String>,
        /// How to read what the program prints (`protocol`; default `plain`).
        protocol: Protocol,
        /// The file the program reads its instructions from, when it is not
        /// the protocol's own (`instructions "CONVENTIONS.md"`).
        instructions: Option<String>,
        /// The environment variable holding the program's API key, for
        /// `score doctor` (the program reads it itself).
        key_env: Option<String>,
    },
    Mock {
        latency: Option<Duration>,
        fail_rate: Option<f64>,
        seed: Option<u64>,
    },
    /// An unknown provider (E0502), kept so the agent's name resolves.
    Unknown(String),
}

impl Provider {
    /// The provider's keyword: `openai`, `anthropic`, `command`, `mock`.
    pub fn name(&self) -> &str {
        match self {
            Provider::OpenAi { .. } => "openai",
            Provider::Anthropic { .. } => "anthropic",
            Provider::Command { .. } => "command",
            Provider::Mock { .. } => "mock",
            Provider::Unknown(name) => name,
        }
    }
}

/// `part NAME: Contracts by AGENT { ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    pub decl: Decl,
    pub contracts: Vec<ContractId>,
    /// `by AGENT`, else the score's `default_agent`; `None` only with errors.
    pub agent: Option<AgentId>,
    /// The `by` path, or the score's `default_agent` value, that chose it.
    pub agent_span: Option<Span>,
    /// The agent came from the score's `default_agent`.
    pub agent_is_default: bool,
    pub inputs: Vec<PartInput>,
    pub outputs: Vec<PartOutput>,
    pub owns: Vec<Glob>,
    pub reads: Vec<Glob>,
    pub ensures: Vec<Ensure>,
    pub brief: Option<String>,
    /// Default [`Level::Routine`].
    pub complexity: Level,
    pub complexity_span: Option<Span>,
    /// Default 0.
    pub retries: u32,
    pub timeout: Option<Duration>,
    /// For the critical path; `None` means "by complexity".
    pub estimate: Option<Duration>,
    pub budget: Budget,
    /// `approve "who signs off"`: the run pauses for a person.
    pub approve: Option<String>,
    pub serves: Vec<IntentId>,
    /// The parts this one runs after (direct predecessors), sorted.
    pub after: Vec<PartId>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PartInput {
    pub name: String,
    pub ty: Ty,
    /// The `name: Type` declaring it (in the part or its contract); `None`
    /// for an input only bound (`input n = p.o`), whose type is the output's.
    pub declared: Option<Span>,
    pub origin: Origin,
    /// `None` only with errors (E0202 or a failed binding).
    pub source: Option<Source>,
    /// The binding (`n = p.o` or `n: T = p.o`), when written.
    pub binding: Option<Span>,
    pub symbol: SymbolId,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PartOutput {
    pub name: String,
    pub ty: Ty,
    pub span: Span,
    pub origin: Origin,
    pub symbol: SymbolId,
}

/// Where an input's value comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// `= part.output`
    Part { part: PartId, output: String },
    /// `= score.name`, given at run time.
    ScoreInput(String),
}

/// `from` must finish before `to` starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    pub from: PartId,
    pub to: PartId,
    pub cause: EdgeCause,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeCause {
    /// A `->` in a `sequence` (the arrow's span).
    Sequence(Span),
    /// An input binding of `to` to an output of `from` (the binding's span).
    Binding(Span),
}

impl EdgeCause {
    pub fn span(self) -> Span {
        match self {
            EdgeCause::Sequence(span) | EdgeCause::Binding(span) => span,
        }
    }
}

/// The checked program. Built once by the checker, then read-only.
#[derive(Clone, Debug, Default)]
pub struct Model {
    pub score: Option<Score>,
    /// The score's `prompt_template "path"`: the agents' prompt template,
    /// relative to the file that declares the score (`None`: the built-in
    /// one). Kept here rather than in [`Score`] so that code building a
    /// `Score` by hand need not change.
    pub prompt_template: Option<Spanned<String>>,
    pub records: Vec<Record>,
    pub enums: Vec<Enum>,
    pub intents: Vec<Intent>,
    pub checks: Vec<Check>,
    pub contracts: Vec<Contract>,
    pub agents: Vec<Agent>,
    pub parts: Vec<Part>,
    pub edges: Vec<Edge>,
    /// Every part once, dependencies first (see the invariants).
    pub order: Vec<PartId>,
    pub symbols: Vec<Symbol>,
    pub(crate) references: Vec<Reference>,
    pub(crate) reachability: Reachability,
}

impl Model {
    pub fn record(&self, id: TypeId) -> &Record {
        &self.records[id.index()]
    }

    pub fn enum_(&self, id: EnumId) -> &Enum {
        &self.enums[id.index()]
    }

    pub fn intent(&self, id: IntentId) -> &Intent {
        &self.intents[id.index()]
    }

    pub fn check(&self, id: CheckId) -> &Check {
        &self.checks[id.index()]
    }

    pub fn contract(&self, id: ContractId) -> &Contract {
        &self.contracts[id.index()]
    }

    pub fn agent(&self, id: AgentId) -> &Agent {
        &self.agents[id.index()]
    }

    pub fn part(&self, id: PartId) -> &Part {
        &self.parts[id.index()]
    }

    pub fn symbol(&self, id: SymbolId) -> &Symbol {
        &self.symbols[id.index()]
    }

    /// The first part with this name (names are unique per file, not per
    /// program).
    pub fn find_part(&self, name: &str) -> Option<PartId> {
        self.parts
            .iter()
            .position(|p| p.decl.name == name)
            .map(|i| PartId(i as u32))
    }

    /// The first agent with this name.
    pub fn find_agent(&self, name: &str) -> Option<AgentId> {
        self.agents
            .iter()
            .position(|a| a.decl.name == name)
            .map(|i| AgentId(i as u32))
    }

    /// Whether `a` and `b` may run at the same time: they are different and
    /// neither is reachable from the other along [`Model::edges`].
    pub fn may_run_together(&self, a: PartId, b: PartId) -> bool {
        self.reachability.may_run_together(a.index(), b.index())
    }

    /// Whether `to` (transitively) waits for `from`.
    pub fn reaches(&self, from: PartId, to: PartId) -> bool {
        self.reachability.reaches(from.index(), to.index())
    }

    /// Every resolved name in the sources, sorted by file and position.
    pub fn references(&self) -> &[Reference] {
        &self.references
    }

    /// The references that resolve to `symbol` (for "find references" and
    /// renaming), in source order.
    pub fn references_to(&self, symbol: SymbolId) -> impl Iterator<Item = &Reference> {
        self.references.iter().filter(move |r| r.target == symbol)
    }

    /// The reference covering a byte offset, if any.
    pub fn reference_at(&self, file: FileId, offset: usize) -> Option<&Reference> {
        let offset = offset as u32;
        let index = self
            .references
            .partition_point(|r| (r.span.file, r.span.end) < (file, offset));
        self.references
            .get(index)
            .filter(|r| r.span.file == file && r.span.start <= offset && offset <= r.span.end)
    }

    /// The symbol named at a byte offset: the target of a reference there, or
    /// the symbol whose defining name is there.
    pub fn definition_at(&self, file: FileId, offset: usize) -> Option<SymbolId> {
        if let Some(reference) = self.reference_at(file, offset) {
            return Some(reference.target);
        }
        self.symbols
            .iter()
            .position(|s| s.span.file == file && s.span.contains(offset))
            .map(|i| SymbolId(i as u32))
    }

    /// The type as users write it, e.g. `[Link]?`.
    pub fn display_ty(&self, ty: &Ty) -> String {
        ty.display(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: u32, end: u32) -> Span {
        Span {
            file: FileId(0),
            start,
            end,
        }
    }

    #[test]
    fn levels_are_ordered() {
        assert!(Level::Routine < Level::Moderate && Level::Moderate < Level::Complex);
        for name in Level::NAMES {
            assert_eq!(Level::parse(name).unwrap().as_str(), *name);
        }
        assert_eq!(Level::default(), Level::Routine);
    }

    #[test]
    fn reference_lookup_by_offset() {
        let mut model = Model::default();
        for (i, (s, e)) in [(0, 3), (10, 15), (20, 22)].into_iter().enumerate() {
            model.symbols.push(Symbol {
                kind: SymbolKind::Part,
                name: format!("p{i}"),
                span: span(100 + s, 100 + e),
                full_span: span(100 + s, 100 + e),
                doc: None,
                detail: String::new(),
                parent: None,
            });
            model.references.push(Reference {
                span: span(s, e),
                target: SymbolId(i as u32),
            });
        }
        assert_eq!(model.definition_at(FileId(0), 12), Some(SymbolId(1)));
        assert_eq!(model.definition_at(FileId(0), 15), Some(SymbolId(1)));
        assert_eq!(model.definition_at(FileId(0), 0), Some(SymbolId(0)));
        assert_eq!(model.definition_at(FileId(0), 5), None);
        assert_eq!(model.definition_at(FileId(1), 12), None);
        // on a defining name
        assert_eq!(model.definition_at(FileId(0), 121), Some(SymbolId(2)));
        assert_eq!(model.references_to(SymbolId(2)).count(), 1);
    }
}
