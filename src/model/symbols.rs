//! The symbol table the language server reads: what is declared where, and
//! what every name in the sources refers to.

use super::SymbolId;
use crate::source::Span;

/// What a symbol is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SymbolKind {
    Score,
    /// A record type (`type NAME { ... }`).
    Type,
    Enum,
    Intent,
    Check,
    Contract,
    Agent,
    Part,
    /// A field of a record type.
    Field,
    /// A variant of an enum.
    Variant,
    /// A parameter of a check.
    Param,
    /// An input of a contract or part.
    Input,
    /// An output of a contract or part.
    Output,
    /// An `input` of the score, given at run time.
    ScoreInput,
    /// A module (a file); its span is the start of the file.
    Module,
}

impl SymbolKind {
    /// The word users know: "part", "contract", "type", ...
    pub fn noun(self) -> &'static str {
        match self {
            SymbolKind::Score => "score",
            SymbolKind::Type => "type",
            SymbolKind::Enum => "enum",
            SymbolKind::Intent => "intent",
            SymbolKind::Check => "check",
            SymbolKind::Contract => "contract",
            SymbolKind::Agent => "agent",
            SymbolKind::Part => "part",
            SymbolKind::Field => "field",
            SymbolKind::Variant => "variant",
            SymbolKind::Param => "parameter",
            SymbolKind::Input => "input",
            SymbolKind::Output => "output",
            SymbolKind::ScoreInput => "score input",
            SymbolKind::Module => "module",
        }
    }

    /// The same word with its article: "a part", "an intent".
    pub fn with_article(self) -> String {
        let noun = self.noun();
        let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        format!("{article} {noun}")
    }
}

/// Something declared: a top-level declaration or a member of one.
#[derive(Clone, Debug, PartialEq)]
pub struct Symbol {
    pub kind: SymbolKind,
    pub name: String,
    /// The defining name.
    pub span: Span,
    /// The whole declaration (for a member: its line, e.g. `slug: Text`).
    pub full_span: Span,
    pub doc: Option<String>,
    /// A one-line signature for hovers, e.g. `part store: Storage by coder`
    /// or `input link_type: Text`.
    pub detail: String,
    /// The declaration a member belongs to.
    pub parent: Option<SymbolId>,
}

/// A name in the sources that resolves to a symbol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reference {
    /// One identifier.
    pub span: Span,
    pub target: SymbolId,
}
