//! Importers: scores made from what teams already write elsewhere.
//!
//! An importer reads another tool's planning documents and writes a score
//! that `score check` can prove or refute. It sits beside the driver, on top
//! of the pipeline: it produces score *text* (through the formatter, so the
//! result is canonical) and runs the ordinary checker on it; nothing below
//! knows it exists.
//!
//! - [`speckit`]: GitHub spec-kit feature directories (`tasks.md`,
//!   `spec.md`), documented in docs/import.md.

pub mod speckit;
