//! The one trait every agent implements, and what crosses it.
//!
//! The scheduler hands a [`Performer`] one [`AttemptRequest`] at a time and
//! gets back a [`Reply`] or an [`AgentError`]. What happens after (schema
//! validation, checks, retries with feedback, journaling, costs) is the
//! runtime's business, the same for every provider: an agent only has to
//! turn a prompt into a JSON result.
//!
//! Cancellation is by drop: the scheduler wraps every attempt in a timeout
//! and a cancel signal, and drops the future when either fires. Every
//! performer must therefore be drop-safe: a dropped HTTP request is aborted
//! by reqwest, a dropped child process group is killed by
//! the guard in `process::run`.

use serde_json::Value;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

/// A boxed future, so that [`Performer`] stays object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Plays attempts of tasks. One value per agent of the plan, shared by all
/// of that agent's tasks (so it may hold a connection pool).
pub trait Performer: Send + Sync {
    /// One attempt. Must be drop-safe (see the module documentation).
    fn perform<'a>(
        &'a self,
        request: &'a AttemptRequest,
    ) -> BoxFuture<'a, Result<Reply, AgentError>>;
}

/// Everything an agent needs for one attempt of one task.
#[derive(Clone, Debug)]
pub struct AttemptRequest {
    /// The task's id.
    pub task: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The full prompt: the plan's prompt with `{{input.NAME}}` filled in
    /// and, on a retry, what went wrong before appended.
    pub prompt: String,
    /// The JSON Schema the result object must match (the task's
    /// `result_schema`).
    pub result_schema: Value,
    /// Whether the task declares outputs (when it does not, the result is
    /// `{}` and an agent that returns nothing has returned it).
    pub has_outputs: bool,
    /// The absolute path of the workspace: a command's working directory.
    pub workspace: PathBuf,
    /// Where this attempt's files go (all absolute, in the run's `logs/`):
    pub files: AttemptFiles,
    /// How long the attempt may take (the scheduler enforces it by dropping
    /// the future; an agent may use it for its own client timeouts).
    pub timeout: Duration,
    /// A seed for anything random in the attempt (the mock's values and
    /// failures): derived from the task's hash and the attempt number, so a
    /// run is reproducible.
    pub seed: u64,
    /// The boundary of the programs this attempt starts (a command agent's
    /// program; the part's checks get the same), and the run's redactor,
    /// which every agent applies to what it writes.
    pub confinement: super::sandbox::Confinement,
    /// The part's contract as Markdown (see `runtime::instructions`), for
    /// a program that reads its instructions from a file in its checkout;
    /// `None` when the attempt does not run in a checkout of its own (the
    /// runtime writes nothing into a person's working tree).
    pub contract: Option<std::sync::Arc<str>>,
    /// What is left of the part's and the score's money budgets (the
    /// smaller), for a program that can stop itself at a budget.
    pub budget_usd: Option<f64>,
}

/// The files of one attempt, under `.score/runs/RUN_ID/logs/`. The runtime
/// has written `prompt` before the attempt starts.
#[derive(Clone, Debug)]
pub struct AttemptFiles {
    /// `TASK.N.prompt.md`: the prompt (a command's `{prompt_file}`).
    pub prompt: PathBuf,
    /// `TASK.N.output.json`: where a command writes its result
    /// (`{output_file}`, `$SCORE_OUTPUT`).
    pub output: PathBuf,
    /// `TASK.N.stdout`, `TASK.N.stderr`: a command's streams.
    pub stdout: PathBuf,
    pub stderr: PathBuf,
    /// `TASK.N.transcript.json`: an HTTP agent's request body and response
    /// (never a header: that is where keys are).
    pub transcript: PathBuf,
    /// `TASK.N.schema.json`: the result schema, for a program that takes it
    /// as a file (Codex CLI's `--output-schema`).
    pub schema: PathBuf,
}

impl AttemptFiles {
    /// The files of attempt `attempt` of `task` under `logs`.
    pub fn new(logs: &std::path::Path, task: &str, attempt: u32) -> AttemptFiles {
        let file = |suffix: &str| logs.join(format!("{task}.{attempt}.{suffix}"));
        AttemptFiles {
            prompt: file("prompt.md"),
            output: file("output.json"),
            stdout: file("stdout"),
            stderr: file("stderr"),
            transcript: file("transcript.json"),
            schema: file("schema.json"),
        }
    }
}

/// Tokens an attempt used, as the provider reported them (0 when it does
/// not say: plain commands and the mock), and its cost when the agent
/// reported that too (a coding-agent CLI knows its prices; otherwise the
/// runtime prices the tokens with the agent's `price_in`/`price_out`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// USD, as the agent reported it.
    pub cost_usd: Option<f64>,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cost_usd = match (self.cost_usd, other.cost_usd) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
    }
}

/// What an agent answered.
#[derive(Clone, Debug)]
pub struct Reply {
    /// The result object, parsed; or, when the agent's answer held no JSON
    /// that could be read, why not (fed back to the agent on a retry). The
    /// runtime validates a parsed result against the schema.
    pub result: Result<Value, String>,
    pub usage: Usage,
}

/// Why an attempt ended without a reply.
#[derive(Clone, Debug, PartialEq)]
pub enum AgentError {
    /// The agent did not do its job in this attempt: a command exited with
    /// a failure status, the API refused the request (4xx other than 429).
    /// Counts as a failed attempt; the message is fed back on a retry.
    Failed { message: String, usage: Usage },
    /// The endpoint kept failing at the transport level (429, 5xx,
    /// connection errors, malformed responses) after every backoff retry.
    /// Not the agent's failure to meet the contract: the task fails as
    /// "transport" without consuming its retries.
    Transport { message: String },
    /// The agent cannot be started at all (a program that does not exist):
    /// retrying cannot help; the task fails at once.
    Setup { message: String },
}

impl std::fmt::Display for AgentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AgentError::Failed { message, .. } => f.write_str(message),
            AgentError::Transport { message } => write!(f, "transport: {message}"),
            AgentError::Setup { message } => f.write_str(message),
        }
    }
}
