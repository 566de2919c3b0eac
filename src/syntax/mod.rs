//! The front end: pest grammar, lowering to the AST, error recovery, and
//! loading a program's modules (including the embedded standard library).

pub mod ast;
