//! The live page of runs: `score serve` and `score run --ui`.
//!
//! A small HTTP server (axum on the runtime's tokio) that reads a
//! workspace's `.score/runs/` and nothing else. The journal is the single
//! source of truth: every page, JSON answer and event stream is folded from
//! it (`runtime::state`), so a run playing now, one that finished, crashed
//! or was resumed all look the same. The event stream tails the journal
//! file; the server never talks to the conductor, except to hand it an
//! approval given on the page (`runtime::approvals`) when the run plays in
//! this very process.
//!
//! - `GET /`, `/runs/RUN_ID`: the page (assets embedded in the binary: no
//!   CDN, works offline);
//! - `GET /api/runs`: the runs; `GET /api/runs/RUN_ID`: one run's state;
//!   `GET /api/runs/RUN_ID/parts/PART`: a part's detail (contract, prompts,
//!   output tails, checks, violations, committed diff);
//! - `GET /api/runs/RUN_ID/events`: server-sent events, `record` (each
//!   journal line) and `state` (the folded state after each batch);
//! - `POST /api/runs/RUN_ID/parts/PART/approve` (or `/reject`)`?token=T`:
//!   the same effect as `score approve`, allowed only with the run's token.
//!
//! Security: loopback by default; another address only when asked, and
//! then said on stderr. A per-run token (derived from a random key made at
//! start) is in the URL printed; without it the page is read-only.
//! Everything served goes through the redactor (the journal is redacted
//! when written; logs, outputs and diffs are masked here).

mod detail;
mod stream;

use crate::runtime::approvals::ApprovalDesk;
use crate::runtime::journal::RunsDir;
use crate::runtime::redact::Redactor;
use crate::runtime::state::{self, PartStatus, RunPhase};
use axum::Router;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

const INDEX_HTML: &str = include_str!("assets/index.html");
const APP_JS: &str = include_str!("assets/app.js");
const APP_CSS: &str = include_str!("assets/app.css");

/// A run's plan, with the modification time and length of its file.
type CachedPlan = (std::time::SystemTime, u64, Arc<crate::plan::Plan>);

/// What the server serves.
pub struct Ui {
    runs: RunsDir,
    /// The workspace the runs' commits are in (for diffs).
    workspace: PathBuf,
    /// The secret the per-run tokens are derived from.
    key: String,
    /// The run playing in this process, whose approvals go to its desk.
    desk: Option<Arc<ApprovalDesk>>,
    /// Masks the secrets this process holds (the run's, for `score run
    /// --ui`; the environment's, for `score serve`).
    base_redactor: Arc<Redactor>,
    /// Per run: the base redactor and the values of the run's agents' keys.
    redactors: Mutex<HashMap<String, Arc<Redactor>>>,
    /// Per run: its plan, read once (and again when the file changes: a
    /// resume rewrites it).
    plans: Mutex<HashMap<String, CachedPlan>>,
    /// Closing: event streams send what is left and end.
    closing: watch::Sender<bool>,
    /// Event streams open now.
    streams: AtomicUsize,
    /// Told when the last open stream ends.
    drained: tokio::sync::Notify,
}

impl Ui {
    /// A server for the runs of `workspace`. `redactor`: the secrets to
    /// mask besides those of each run's agents (read from the environment).
    pub fn new(
        workspace: &Path,
        redactor: Arc<Redactor>,
        desk: Option<Arc<ApprovalDesk>>,
    ) -> Arc<Ui> {
        Arc::new(Ui {
            runs: RunsDir::new(workspace),
            workspace: workspace.to_path_buf(),
            key: random_key(),
            desk,
            base_redactor: redactor,
            redactors: Mutex::new(HashMap::new()),
            plans: Mutex::new(HashMap::new()),
            closing: watch::channel(false).0,
            streams: AtomicUsize::new(0),
            drained: tokio::sync::Notify::new(),
        })
    }

    /// The token that allows approvals in run `run_id`.
    pub fn token(&self, run_id: &str) -> String {
        let digest = Sha256::digest(format!("{}:{run_id}", self.key).as_bytes());
        hex(&digest[..16])
    }

    /// The key that shows every run's token on the index page.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The URL of run `run_id`'s page, with its token.
    pub fn run_url(&self, addr: SocketAddr, run_id: &str) -> String {
        format!(
            "http://{}/runs/{run_id}?token={}",
            url_host(addr),
            self.token(run_id)
        )
    }

    /// The URL of the index, with the key (each run's link carries its token).
    pub fn index_url(&self, addr: SocketAddr) -> String {
        format!("http://{}/?key={}", url_host(addr), self.key)
    }

    /// Ends the event streams once they have sent what the journal holds
    /// now, waiting at most `grace` for them (`score run --ui` at the end
    /// of its run: the page shows the end before the process exits).
    pub async fn close(&self, grace: std::time::Duration) {
        let _ = self.closing.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        loop {
            // Registered before the count is read: no wake-up is missed.
            let drained = self.drained.notified();
            if self.streams.load(Ordering::SeqCst) == 0 {
                return;
            }
            if tokio::time::timeout_at(deadline, drained).await.is_err() {
                return;
            }
        }
    }

    /// The plan of run `run_id`, if it has one.
    pub(crate) fn plan(&self, run_id: &str) -> Option<Arc<crate::plan::Plan>> {
        let path = self.runs.run(run_id).plan();
        let meta = std::fs::metadata(&path).ok()?;
        let stamp = (meta.modified().ok()?, meta.len());
        let mut plans = self.plans.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((modified, len, plan)) = plans.get(run_id)
            && (*modified, *len) == stamp
        {
            return Some(plan.clone());
        }
        let plan = Arc::new(state::read_plan(&path)?);
        plans.insert(run_id.to_string(), (stamp.0, stamp.1, plan.clone()));
        Some(plan)
    }

    /// The redactor of run `run_id`: this process's secrets and the values
    /// of the keys its plan's agents read.
    fn redactor(&self, run_id: &str) -> Arc<Redactor> {
        let mut cache = self.redactors.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = cache.get(run_id) {
            return r.clone();
        }
        let redactor = match self.plan(run_id) {
            Some(plan) => {
                let env = |name: &str| std::env::var(name).ok();
                let policy = crate::runtime::sandbox::Policy::new(&plan, false, &env);
                self.base_redactor.with_secrets_of(&policy.redactor)
            }
            None => self.base_redactor.clone(),
        };
        cache.insert(run_id.to_string(), redactor.clone());
        redactor
    }

    /// The id if it is a run of this workspace (never a path elsewhere).
    fn known_run(&self, id: &str) -> Result<(), ApiError> {
        if self.runs.list().iter().any(|r| r == id) {
            Ok(())
        } else {
            Err(ApiError(
                StatusCode::NOT_FOUND,
                state::unknown_run(&self.runs, id),
            ))
        }
    }

    /// Run `id`'s state, redacted.
    fn state_json(&self, id: &str) -> Result<serde_json::Value, ApiError> {
        self.known_run(id)?;
        let state = state::load_with(&self.runs, id, self.plan(id).as_deref())
            .map_err(ApiError::internal)?;
        self.redacted_json(id, &state)
    }

    fn redacted_json<T: serde::Serialize>(
        &self,
        id: &str,
        value: &T,
    ) -> Result<serde_json::Value, ApiError> {
        let mut json =
            serde_json::to_value(value).map_err(|e| ApiError::internal(e.to_string()))?;
        self.redactor(id).json(&mut json);
        Ok(json)
    }
}

/// The secrets of this process's environment (variables whose names look
/// secret), for `score serve`, which holds no run's keys of its own.
pub fn environment_redactor() -> Arc<Redactor> {
    Arc::new(Redactor::new(
        std::env::vars_os()
            .filter(|(k, _)| {
                k.to_str()
                    .is_some_and(crate::runtime::redact::secret_looking)
            })
            .filter_map(|(_, v)| v.into_string().ok()),
    ))
}

/// Where to listen: `addr` when given (then `Some` warning when it is not
/// loopback), else 127.0.0.1 on a free port.
pub fn bind(addr: Option<&str>) -> Result<(std::net::TcpListener, Option<String>), String> {
    let wanted: SocketAddr = match addr {
        None => SocketAddr::from(([127, 0, 0, 1], 0)),
        Some(text) => text
            .parse()
            .or_else(|_| text.parse::<u16>().map(|port| SocketAddr::from(([127, 0, 0, 1], port))))
            .map_err(|_| {
                format!(
                    "`{text}` is not an address to listen on; give HOST:PORT (e.g. 127.0.0.1:8080) or a port"
                )
            })?,
    };
    let listener = std::net::TcpListener::bind(wanted)
        .map_err(|e| format!("cannot listen on {wanted}: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("cannot listen on {wanted}: {e}"))?;
    let warning = (!wanted.ip().is_loopback()).then(|| {
        format!(
            "listening on {wanted}, not only on this machine: anyone who can reach it can read the runs \
             (approvals still need the token in the URL)"
        )
    });
    Ok((listener, warning))
}

/// Serves `ui` on `listener` until `shutdown` resolves.
pub async fn serve(
    ui: Arc<Ui>,
    listener: std::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let listener =
        tokio::net::TcpListener::from_std(listener).map_err(|e| format!("cannot listen: {e}"))?;
    let closing = ui.closing.clone();
    // The event streams never end by themselves: they are told to, so
    // that the graceful shutdown does not wait for them forever.
    let shutdown = async move {
        shutdown.await;
        let _ = closing.send(true);
    };
    axum::serve(listener, router(ui))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| format!("the page server stopped: {e}"))
}

/// The routes.
pub fn router(ui: Arc<Ui>) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/runs/{id}", get(page))
        .route(
            "/app.js",
            get(|| async { asset("text/javascript", APP_JS) }),
        )
        .route("/app.css", get(|| async { asset("text/css", APP_CSS) }))
        .route("/api/runs", get(runs))
        .route("/api/runs/{id}", get(run))
        .route("/api/runs/{id}/events", get(stream::events))
        .route("/api/runs/{id}/parts/{part}", get(part))
        .route("/api/runs/{id}/parts/{part}/{answer}", post(answer))
        .with_state(ui)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn page() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

/// An error answered as JSON `{"error": …}`.
pub(crate) struct ApiError(StatusCode, String);

impl ApiError {
    fn internal(message: String) -> ApiError {
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(serde_json::json!({ "error": self.1 }))).into_response()
    }
}

#[derive(Deserialize)]
struct KeyQuery {
    key: Option<String>,
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn runs(State(ui): State<Arc<Ui>>, Query(q): Query<KeyQuery>) -> Response {
    let with_tokens = q.key.as_deref().is_some_and(|k| same(k, &ui.key));
    let ui2 = ui.clone();
    let listed = tokio::task::spawn_blocking(move || state::list(&ui2.workspace)).await;
    let Ok((runs, _)) = listed else {
        return ApiError::internal("cannot list the runs".into()).into_response();
    };
    let rows: Vec<serde_json::Value> = runs
        .iter()
        .map(|run| {
            let mut row = serde_json::to_value(run).unwrap_or_default();
            ui.redactor(&run.id).json(&mut row);
            if with_tokens {
                row["token"] = ui.token(&run.id).into();
            }
            row
        })
        .collect();
    axum::Json(rows).into_response()
}

async fn run(State(ui): State<Arc<Ui>>, UrlPath(id): UrlPath<String>) -> Response {
    match tokio::task::spawn_blocking(move || ui.state_json(&id)).await {
        Ok(Ok(json)) => axum::Json(json).into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(e) => ApiError::internal(e.to_string()).into_response(),
    }
}

async fn part(
    State(ui): State<Arc<Ui>>,
    UrlPath((id, part)): UrlPath<(String, String)>,
) -> Response {
    let result = tokio::task::spawn_blocking(move || {
        ui.known_run(&id)?;
        let detail = detail::of(
            &ui.runs.run(&id),
            ui.plan(&id).as_deref(),
            &ui.workspace,
            &part,
        )?;
        // Logs, prompts and diffs included: every string is masked.
        ui.redacted_json(&id, &detail)
    })
    .await;
    match result {
        Ok(Ok(json)) => axum::Json(json).into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(e) => ApiError::internal(e.to_string()).into_response(),
    }
}

/// Approve or reject a part waiting for it: the run's token required.
async fn answer(
    State(ui): State<Arc<Ui>>,
    UrlPath((id, part, answer)): UrlPath<(String, String, String)>,
    Query(q): Query<TokenQuery>,
) -> Response {
    let approve = match answer.as_str() {
        "approve" => true,
        "reject" => false,
        _ => {
            return ApiError(
                StatusCode::NOT_FOUND,
                format!("`{answer}` is not an answer: approve or reject"),
            )
            .into_response();
        }
    };
    if !q.token.as_deref().is_some_and(|t| same(t, &ui.token(&id))) {
        return ApiError(
            StatusCode::FORBIDDEN,
            "approvals need the run's token: open the URL `score serve` or `score run --ui` printed"
                .into(),
        )
        .into_response();
    }
    let result = tokio::task::spawn_blocking(move || {
        ui.known_run(&id)?;
        let state =
            state::load_with(&ui.runs, &id, ui.plan(&id).as_deref()).map_err(ApiError::internal)?;
        let waiting = state
            .part(&part)
            .is_some_and(|p| p.status == PartStatus::AwaitingApproval && p.approved_by.is_none());
        if !waiting {
            return Err(ApiError(
                StatusCode::CONFLICT,
                format!("`{part}` is not waiting for an approval in run `{id}`"),
            ));
        }
        match &ui.desk {
            // The run plays in this process: the conductor takes it now.
            Some(desk) if desk.run_id() == id && state.phase == RunPhase::Running => {
                desk.answer(&part, approve);
                Ok(format!(
                    "{} `{part}`; the run goes on",
                    if approve { "approved" } else { "rejected" }
                ))
            }
            _ => crate::runtime::approve(&ui.workspace, &id, &part, approve)
                .map_err(|e| ApiError(StatusCode::CONFLICT, e)),
        }
    })
    .await;
    match result {
        Ok(Ok(message)) => axum::Json(serde_json::json!({ "message": message })).into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(e) => ApiError::internal(e.to_string()).into_response(),
    }
}

/// Compares secrets in time independent of where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 128 random bits from the kernel (the clock and pid if it has none).
fn random_key() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        let seed = crate::runtime::journal::now_ms() ^ (u64::from(std::process::id()) << 40);
        let a = crate::runtime::journal::splitmix(seed);
        let b = crate::runtime::journal::splitmix(a);
        bytes[..8].copy_from_slice(&a.to_le_bytes());
        bytes[8..].copy_from_slice(&b.to_le_bytes());
    }
    hex(&bytes)
}

/// `127.0.0.1:PORT`, or `[::1]:PORT`; an unspecified address (0.0.0.0)
/// is shown as loopback, which reaches it from this machine.
fn url_host(addr: SocketAddr) -> String {
    let ip = if addr.ip().is_unspecified() {
        match addr {
            SocketAddr::V4(_) => std::net::IpAddr::from([127, 0, 0, 1]),
            SocketAddr::V6(_) => std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        }
    } else {
        addr.ip()
    };
    SocketAddr::new(ip, addr.port()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_per_run_and_compared_whole() {
        let ui = Ui::new(Path::new("/nonexistent"), Redactor::none(), None);
        let (a, b) = (ui.token("a"), ui.token("b"));
        assert_ne!(a, b);
        assert_eq!(a.len(), 32);
        assert!(same(&a, &ui.token("a")));
        assert!(!same(&a, &a[..31]));
        let other = Ui::new(Path::new("/nonexistent"), Redactor::none(), None);
        assert_ne!(other.token("a"), a, "each server has its own key");
    }

    #[test]
    fn loopback_unless_told_otherwise() {
        let (listener, warning) = bind(None).unwrap();
        assert!(listener.local_addr().unwrap().ip().is_loopback());
        assert!(warning.is_none());
        let (_, warning) = bind(Some("0.0.0.0:0")).unwrap();
        assert!(warning.unwrap().contains("not only on this machine"));
        assert!(bind(Some("nowhere")).unwrap_err().contains("HOST:PORT"));
    }
}
