//! What the integration tests share, in one module: each test crate says
//! `mod support;` and uses the parts it needs.
//!
//! - [`runs`]: files, git repositories and the journals of `score run`;
//! - [`llm_server`]: a scripted OpenAI/Anthropic server on 127.0.0.1;
//! - [`lsp_wire`]: start `score lsp` and speak its framed JSON-RPC;
//! - [`generate`]: the benchmarks' deterministic generator of large scores
//!   (it lives in `benches/support/` beside the benchmarks that time it).

// Each test crate uses only some of these.
#![allow(dead_code, unused_imports)]

pub mod browser;
pub mod llm_server;
pub mod lsp_wire;
pub mod page;
pub mod runs;

#[path = "../../benches/support/generate.rs"]
pub mod generate;
