//! score: a compiler and runtime for architecture scores.
//!
//! The pipeline, each stage consuming the one before:
//! source text → [`syntax`] (AST with spans) → [`check`] (the checked
//! model) → [`plan`] → [`runtime`]. [`diagnostics`] and [`glob`] serve every
//! stage; [`driver`] is the command line's side of the library. What the
//! binary, the tests and the benchmarks use is public, the rest is
//! `pub(crate)`: see "API boundaries" in ARCHITECTURE.md.

pub mod check;
pub mod diagnostics;
pub mod draft;
pub mod driver;
pub mod export;
pub mod fmt;
pub mod glob;
pub mod graph;
pub mod import;
pub mod init;
pub mod lsp;
pub mod mcp;
pub(crate) mod model;
pub mod plan;
pub mod runtime;
pub mod source;
pub mod syntax;
pub mod ui;
pub mod workspace;
