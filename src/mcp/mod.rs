//! `score mcp`: the compiler and the conductor as tools for AI agents, over
//! the Model Context Protocol (the official Rust SDK, `rmcp`).
//!
//! An agent that drafts or edits a score gets the checker's verdict as
//! structured data instead of parsing `score check`'s text, and can start,
//! follow and approve runs. Everything here is a thin layer over the
//! library, the same code the command line calls: `tools.rs` (check,
//! explain, format, build, plan, graph, run, status, approve, reject),
//! `resources.rs` (the language reference, the stdlib, the explanations,
//! runs' journals and reports), `prompts.rs`. `launch.rs` starts a run as
//! an ordinary `score run` child process, `run_state.rs` reads a run's state
//! from its journal, `http.rs` is the Streamable HTTP transport.
//!
//! The server never returns a secret: every text it sends passes through
//! one [`Redactor`] built from the secret-looking variables of its
//! environment (the keys a run started from here would hold).

mod http;
mod launch;
mod prompts;
mod resources;
mod run_state;
mod tools;

pub use http::{HttpError, serve_http};

use crate::runtime::redact::{Redactor, secret_looking};
use rmcp::handler::server::router::{prompt::PromptRouter, tool::ToolRouter};
use rmcp::model::{
    CallToolResponse, CallToolResult, Implementation, ServerCapabilities, ServerConfig,
};
use rmcp::{ServiceExt, prompt_handler, tool_handler};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The MCP server: where relative paths start, the redactor, and the
/// routers the SDK's macros build from `tools.rs` and `prompts.rs`.
#[derive(Clone)]
pub(crate) struct ScoreServer {
    /// The directory relative paths in requests are resolved against (the
    /// server's working directory: where the client started it).
    root: Arc<PathBuf>,
    redactor: Arc<Redactor>,
    /// The `score` executable that runs are started with.
    exe: Arc<PathBuf>,
    /// The workspaces of the runs this server started or was asked about:
    /// a resource URI names a run, not its workspace, and a run's
    /// workspace may be below the server's directory.
    known_runs: Arc<Mutex<BTreeMap<String, PathBuf>>>,
    tool_router: ToolRouter<ScoreServer>,
    prompt_router: PromptRouter<ScoreServer>,
}

impl ScoreServer {
    /// A server answering for `root`, masking the values of the
    /// secret-looking variables of `env`, starting runs with `exe`.
    pub(crate) fn new(root: PathBuf, env: &[(String, String)], exe: PathBuf) -> ScoreServer {
        let secrets = env
            .iter()
            .filter(|(name, _)| secret_looking(name))
            .map(|(_, value)| value.as_str());
        ScoreServer {
            root: Arc::new(root),
            redactor: Arc::new(Redactor::new(secrets)),
            exe: Arc::new(exe),
            known_runs: Arc::default(),
            tool_router: tools::router(),
            prompt_router: Self::prompts(),
        }
    }

    /// The server for this process: its working directory, environment and
    /// executable.
    pub(crate) fn from_process() -> std::io::Result<ScoreServer> {
        let env: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Ok(ScoreServer::new(
            std::env::current_dir()?,
            &env,
            std::env::current_exe()?,
        ))
    }

    /// `path` as given in a request, relative to the server's root.
    fn resolve(&self, path: &str) -> PathBuf {
        self.root.join(path)
    }

    /// The workspace given in a request, or the server's root.
    fn workspace(&self, given: Option<&str>) -> PathBuf {
        given.map_or_else(|| self.root.to_path_buf(), |dir| self.resolve(dir))
    }

    /// Remember where run `id` is.
    fn know_run(&self, id: &str, workspace: &Path) {
        if let Ok(mut runs) = self.known_runs.lock() {
            runs.insert(id.to_string(), workspace.to_path_buf());
        }
    }

    /// The runs this server knows of outside its own directory.
    fn known_runs(&self) -> BTreeMap<String, PathBuf> {
        self.known_runs
            .lock()
            .map(|runs| runs.clone())
            .unwrap_or_default()
    }

    /// `text` with every secret masked.
    fn clean(&self, text: &str) -> String {
        self.redactor.text(text).into_owned()
    }

    /// `value`, serialised and masked (the structured result of a tool).
    fn clean_json<T: Serialize>(&self, value: &T) -> serde_json::Value {
        let mut json = serde_json::to_value(value).unwrap_or(serde_json::Value::Null);
        self.redactor.json(&mut json);
        json
    }
}

#[tool_handler(router = self.tool_router)]
#[prompt_handler(router = self.prompt_router)]
impl rmcp::ServerHandler for ScoreServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_prompts()
                .build(),
        )
        .with_server_info(Implementation::new("score", env!("CARGO_PKG_VERSION")))
        .with_instructions(INSTRUCTIONS.to_string())
    }

    async fn list_resources(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        _context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ListResourcesResult, rmcp::ErrorData> {
        Ok(rmcp::model::ListResourcesResult::with_all_items(
            resources::list(&self.root, &self.known_runs()),
        ))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        _context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ListResourceTemplatesResult, rmcp::ErrorData> {
        Ok(rmcp::model::ListResourceTemplatesResult::with_all_items(
            resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: rmcp::model::ReadResourceRequestParams,
        _context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ReadResourceResponse, rmcp::ErrorData> {
        let (text, mime) = resources::read(&self.root, &self.known_runs(), &request.uri)
            .map_err(|message| rmcp::ErrorData::resource_not_found(self.clean(&message), None))?;
        let contents = rmcp::model::ResourceContents::text(self.clean(&text), request.uri)
            .with_mime_type(mime);
        Ok(rmcp::model::ReadResourceResult::new(vec![contents]).into())
    }
}

/// What the client is told the server is for.
const INSTRUCTIONS: &str = "score checks, compiles and runs architecture scores (.score files: intents, contracts, agents, parts, sequences). \
Call `check` after every edit of a score (or pass its text); fix what it reports (`explain` a code). \
`plan` and `graph` show what a run would do; `run` starts one in the background and returns its id; follow it with `status`; \
`approve`/`reject` answer a part waiting for a person. Read `score://docs/language` for the language.";

/// Why a tool did not do what was asked: a message, how to fix it, and
/// the diagnostics (with their codes) when the problem is in the sources.
/// Sent as a tool error (`isError: true`) with this as its structured
/// content.
#[derive(Debug, Serialize)]
pub(crate) struct ToolFailure {
    /// The code of the first diagnostic, or a word for a failure that is
    /// not one in the sources (`io`, `usage`, `run`).
    code: String,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    diagnostics: Vec<tools::DiagnosticOut>,
}

impl ToolFailure {
    fn new(code: &str, message: impl Into<String>, help: Option<String>) -> ToolFailure {
        ToolFailure {
            code: code.to_string(),
            message: message.into(),
            help,
            diagnostics: Vec::new(),
        }
    }
}

impl rmcp::handler::server::tool::IntoCallToolResult for ToolFailure {
    fn into_call_tool_result(self) -> Result<CallToolResponse, rmcp::ErrorData> {
        let value = serde_json::to_value(&self).unwrap_or(serde_json::Value::Null);
        Ok(CallToolResult::structured_error(value).into())
    }
}

/// Serve one client over stdin and stdout until it hangs up.
pub fn serve_stdio() -> std::io::Result<()> {
    let server = ScoreServer::from_process()?;
    runtime()?.block_on(async move {
        let service = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(std::io::Error::other)?;
        service.waiting().await.map_err(std::io::Error::other)?;
        Ok(())
    })
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// Whether `name` is one plain file name (a run id in a resource URI): no
/// separator, no `..`, nothing hidden.
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && Path::new(name).components().count() == 1
}
