//! A run's state as the MCP `status` tool and the `score://runs/RUN_ID/report`
//! resource show it: the runtime's own fold of the journal
//! ([`crate::runtime::state`], the same as `score status` and the live
//! page), in a shape with a JSON Schema for MCP clients.

use crate::runtime::journal::RunsDir;
use crate::runtime::state::{self, PartStatus, RunPhase};
use rmcp::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Where a run stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct RunState {
    pub run_id: String,
    /// running, succeeded, failed, cancelled, paused (waiting for
    /// approvals), over budget, or interrupted (its process is gone without
    /// finishing: resume it).
    pub state: String,
    /// Whether the run is over (for now): nothing will change until
    /// someone resumes it.
    pub done: bool,
    pub score: Option<String>,
    /// The process playing it (or that last played it).
    pub pid: Option<u32>,
    /// Milliseconds since the Unix epoch.
    pub started_at: Option<u64>,
    pub finished_at: Option<u64>,
    pub tasks: Vec<TaskState>,
    /// Parts waiting for a person: answer with `approve` or `reject`.
    pub waiting_for_approval: Vec<Waiting>,
    pub succeeded: usize,
    pub failed: usize,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
    /// Why the budget stopped the run, if it did.
    pub budget_message: Option<String>,
}

/// One task of the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct TaskState {
    pub id: String,
    /// waiting, running, retrying, done, cached, failed, skipped or
    /// awaiting approval (as `score status` says).
    pub status: String,
    pub attempts: u32,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
    pub duration_ms: u64,
    /// The last failure, or why it was skipped.
    pub message: Option<String>,
    /// Reused from this earlier run's cache.
    pub cached_from: Option<String>,
}

/// A part waiting for approval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub(crate) struct Waiting {
    pub task: String,
    pub approver: String,
}

/// The state of run `run_id` in `workspace`.
pub(crate) fn read(workspace: &Path, run_id: &str) -> Result<RunState, String> {
    state::load(&RunsDir::new(workspace), run_id).map(|s| from_runtime(&s))
}

/// The runtime's state in this tool's shape.
pub(crate) fn from_runtime(s: &state::RunState) -> RunState {
    let message = |p: &state::PartState| {
        p.last_failure
            .as_ref()
            .filter(|_| p.status != PartStatus::Done && p.status != PartStatus::Cached)
            .map(|f| f.message.clone())
            .or_else(|| p.skip_reason.clone())
    };
    RunState {
        run_id: s.id.clone(),
        state: s.phase.as_str().to_string(),
        done: s.phase != RunPhase::Running,
        score: Some(s.score.clone()).filter(|n| !n.is_empty()),
        pid: s.pid,
        started_at: s.started_at,
        finished_at: s.ended_at,
        tasks: s
            .parts
            .iter()
            .map(|p| TaskState {
                id: p.id.clone(),
                status: p.status.as_str().to_string(),
                attempts: p.attempt,
                tokens_in: p.tokens_in,
                tokens_out: p.tokens_out,
                cost_usd: p.cost_usd,
                duration_ms: p.elapsed_ms,
                message: message(p),
                cached_from: p.cached_from.clone(),
            })
            .collect(),
        waiting_for_approval: s
            .parts_in(PartStatus::AwaitingApproval)
            .map(|p| Waiting {
                task: p.id.clone(),
                approver: p.approver.clone().unwrap_or_default(),
            })
            .collect(),
        succeeded: s.totals.done,
        failed: s.totals.failed,
        tokens_in: s.totals.tokens_in,
        tokens_out: s.totals.tokens_out,
        cost_usd: s.totals.cost_usd,
        budget_message: s.budget_message.clone(),
    }
}

/// The report of a run as text: the state, a line per task, the totals.
pub(crate) fn report(state: &RunState) -> String {
    let mut out = format!(
        "Run {} {}: {} of {} tasks succeeded, {} failed\n\n",
        state.run_id,
        state.state,
        state.succeeded,
        state.tasks.len(),
        state.failed
    );
    let width = state
        .tasks
        .iter()
        .map(|t| t.id.len())
        .max()
        .unwrap_or(4)
        .max(4);
    out.push_str(&format!(
        "{:<width$}  {:<20}  {:>8}  {:>10}  {:>10}  {:>8}\n",
        "task", "status", "attempts", "time", "tokens", "cost"
    ));
    for task in &state.tasks {
        out.push_str(&format!(
            "{:<width$}  {:<20}  {:>8}  {:>10}  {:>10}  {:>8}\n",
            task.id,
            task.status,
            task.attempts,
            crate::plan::format_duration(task.duration_ms),
            task.tokens_in + task.tokens_out,
            format!("${:.4}", task.cost_usd),
        ));
    }
    out.push_str(&format!(
        "\ntotal: {} tokens in, {} tokens out, ${:.4}\n",
        state.tokens_in, state.tokens_out, state.cost_usd
    ));
    for task in state.tasks.iter().filter(|t| t.message.is_some()) {
        out.push_str(&format!(
            "{}: {}\n",
            task.id,
            task.message.as_deref().unwrap_or_default()
        ));
    }
    for waiting in &state.waiting_for_approval {
        out.push_str(&format!(
            "waiting for approval: {} (by {})\n",
            waiting.task, waiting.approver
        ));
    }
    if let Some(message) = &state.budget_message {
        out.push_str(&format!("budget: {message}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::journal::{Event, Record, RunStatus};
    use serde_json::json;

    fn at(at: u64, event: Event) -> Record {
        Record { at, event }
    }

    #[test]
    fn the_runtime_s_fold_is_shown_with_the_tool_s_fields() {
        let records = vec![
            at(
                1,
                Event::RunStarted {
                    run: "r1".into(),
                    score: "s".into(),
                    source_hash: "h".into(),
                    tasks: 2,
                    pid: 0,
                    checkouts: None,
                    sources: Default::default(),
                    edited: Vec::new(),
                    file: None,
                },
            ),
            at(
                2,
                Event::AttemptStarted {
                    task: "a".into(),
                    attempt: 1,
                    agent: "mock".into(),
                    hash: "h".into(),
                },
            ),
            at(
                5,
                Event::TaskSucceeded {
                    task: "a".into(),
                    hash: "h".into(),
                    inputs_hash: "i".into(),
                    outputs: json!({}),
                    attempts: 1,
                    tokens_in: 10,
                    tokens_out: 5,
                    cost_usd: 0.5,
                    duration_ms: 3,
                    cached_from: None,
                    commit: None,
                    cache_checks: None,
                },
            ),
            at(
                6,
                Event::TaskSkipped {
                    task: "b".into(),
                    reason: "`a` was rejected".into(),
                },
            ),
            at(
                7,
                Event::RunFinished {
                    status: RunStatus::Failed,
                    succeeded: 1,
                    failed: 0,
                    remaining: 0,
                },
            ),
        ];
        let shown = from_runtime(&state::fold("r1", None, &records));
        assert_eq!(shown.state, "failed");
        assert!(shown.done);
        assert_eq!(shown.succeeded, 1);
        assert_eq!(shown.tokens_in, 10);
        let statuses: Vec<(&str, &str)> = shown
            .tasks
            .iter()
            .map(|t| (t.id.as_str(), t.status.as_str()))
            .collect();
        assert_eq!(statuses, [("a", "done"), ("b", "skipped")]);
        assert_eq!(shown.tasks[1].message.as_deref(), Some("`a` was rejected"));
        assert!(report(&shown).starts_with("Run r1 failed: 1 of 2 tasks succeeded"));
    }
}
