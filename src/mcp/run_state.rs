//! A run's state as the MCP `status` tool and the `score://runs/RUN_ID/report`
//! resource show it, read from the run's journal (and its `plan.json`, for
//! the tasks not yet started).
//!
//! The journal is the run's memory and the one thing every reader shares,
//! so this reads nothing else: a run started from here, from a terminal or
//! resumed is read the same way. Whether it is still going is the journal
//! (no `run_finished` after the last start or resume) and its process being
//! alive. A run-state module of the runtime (`score status`) may later
//! replace [`state_of`]; this file is the one place to swap.

use crate::runtime::journal::{self, Event, Record, RunsDir};
use rmcp::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
    /// pending, running, waiting for approval, succeeded, failed or skipped.
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
    let run = RunsDir::new(workspace).run(run_id);
    if !run.events().is_file() {
        return Err(format!(
            "there is no run `{run_id}` in `{}`",
            RunsDir::new(workspace).root.display()
        ));
    }
    let records = journal::read(&run.events())?;
    let planned: Vec<String> = crate::plan::load_file(&run.plan())
        .map(|plan| plan.tasks.into_iter().map(|t| t.id).collect())
        .unwrap_or_default();
    Ok(state_of(run_id, &planned, &records, &process_alive))
}

/// Whether process `pid` exists (a run whose process is gone without
/// journaling its end was interrupted).
fn process_alive(pid: u32) -> bool {
    if pid == 0 || pid > i32::MAX as u32 {
        return false;
    }
    // A zombie (exited, not yet reaped) is not running any more.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// The state a journal says: pure, for tests. `planned` lists the plan's
/// tasks (those that never started are pending); `alive` says whether a
/// pid still runs.
pub(crate) fn state_of(
    run_id: &str,
    planned: &[String],
    records: &[Record],
    alive: &dyn Fn(u32) -> bool,
) -> RunState {
    let mut tasks: BTreeMap<String, TaskState> = BTreeMap::new();
    let mut order: Vec<String> = planned.to_vec();
    let mut state = RunState {
        run_id: run_id.to_string(),
        state: "running".into(),
        done: false,
        score: None,
        pid: None,
        started_at: None,
        finished_at: None,
        tasks: Vec::new(),
        waiting_for_approval: Vec::new(),
        succeeded: 0,
        failed: 0,
        tokens_in: 0,
        tokens_out: 0,
        cost_usd: 0.0,
        budget_message: None,
    };
    let mut finished: Option<String> = None;
    for record in records {
        if let Some(id) = record.event.task()
            && !tasks.contains_key(id)
        {
            if !order.iter().any(|t| t == id) {
                order.push(id.to_string());
            }
            tasks.insert(id.to_string(), pending(id));
        }
        let task = record.event.task().and_then(|id| tasks.get_mut(id));
        match (&record.event, task) {
            (Event::RunStarted { score, pid, .. }, _) => {
                state.score = Some(score.clone());
                state.pid = Some(*pid);
                state.started_at.get_or_insert(record.at);
                finished = None;
            }
            (Event::RunResumed { pid, .. }, _) => {
                state.pid = Some(*pid);
                state.started_at.get_or_insert(record.at);
                finished = None;
                // Tasks that were in flight when it stopped start over.
                for task in tasks.values_mut().filter(|t| t.status == "running") {
                    task.status = "pending".into();
                }
            }
            (Event::AttemptStarted { attempt, .. }, Some(task)) => {
                task.status = "running".into();
                task.attempts = *attempt;
            }
            (
                Event::AttemptFailed {
                    message,
                    tokens_in,
                    tokens_out,
                    cost_usd,
                    duration_ms,
                    ..
                },
                Some(task),
            ) => {
                task.message = Some(message.clone());
                task.tokens_in += tokens_in;
                task.tokens_out += tokens_out;
                task.cost_usd += cost_usd;
                task.duration_ms += duration_ms;
            }
            (
                Event::ApprovalRequested {
                    approver,
                    attempts,
                    tokens_in,
                    tokens_out,
                    cost_usd,
                    duration_ms,
                    ..
                },
                Some(task),
            ) => {
                task.status = "waiting for approval".into();
                set_spent(
                    task,
                    *attempts,
                    *tokens_in,
                    *tokens_out,
                    *cost_usd,
                    *duration_ms,
                );
                state.waiting_for_approval.push(Waiting {
                    task: task.id.clone(),
                    approver: approver.clone(),
                });
            }
            (Event::Approved { task: id, .. } | Event::Rejected { task: id, .. }, Some(task)) => {
                state.waiting_for_approval.retain(|w| &w.task != id);
                if matches!(record.event, Event::Rejected { .. }) {
                    task.status = "failed".into();
                    task.message = Some("rejected".into());
                } else {
                    task.status = "approved".into();
                }
            }
            (
                Event::TaskCommitted {
                    attempts,
                    tokens_in,
                    tokens_out,
                    cost_usd,
                    duration_ms,
                    ..
                },
                Some(task),
            ) => set_spent(
                task,
                *attempts,
                *tokens_in,
                *tokens_out,
                *cost_usd,
                *duration_ms,
            ),
            (
                Event::TaskSucceeded {
                    attempts,
                    tokens_in,
                    tokens_out,
                    cost_usd,
                    duration_ms,
                    cached_from,
                    ..
                },
                Some(task),
            ) => {
                task.status = "succeeded".into();
                task.message = None;
                task.cached_from = cached_from.clone();
                set_spent(
                    task,
                    *attempts,
                    *tokens_in,
                    *tokens_out,
                    *cost_usd,
                    *duration_ms,
                );
                state.waiting_for_approval.retain(|w| w.task != task.id);
            }
            (
                Event::TaskFailed {
                    attempts, message, ..
                },
                Some(task),
            ) => {
                task.status = "failed".into();
                task.attempts = *attempts;
                task.message = Some(message.clone());
            }
            (Event::TaskSkipped { reason, .. }, Some(task)) => {
                task.status = "skipped".into();
                task.message = Some(reason.clone());
            }
            (Event::BudgetExhausted { message, .. }, _) => {
                state.budget_message = Some(message.clone());
            }
            (Event::RunFinished { status, .. }, _) => {
                finished = Some(status.as_str().to_string());
                state.finished_at = Some(record.at);
            }
            _ => {}
        }
    }
    state.tasks = order
        .iter()
        .map(|id| tasks.remove(id).unwrap_or_else(|| pending(id)))
        .collect();
    for task in &state.tasks {
        state.tokens_in += task.tokens_in;
        state.tokens_out += task.tokens_out;
        state.cost_usd += task.cost_usd;
        match task.status.as_str() {
            "succeeded" => state.succeeded += 1,
            "failed" => state.failed += 1,
            _ => {}
        }
    }
    match finished {
        Some(status) => {
            state.state = status;
            state.done = true;
        }
        None if state.pid.is_some_and(|pid| !alive(pid)) => {
            state.state = "interrupted".into();
            state.done = true;
        }
        None => state.finished_at = None,
    }
    state
}

fn pending(id: &str) -> TaskState {
    TaskState {
        id: id.to_string(),
        status: "pending".into(),
        attempts: 0,
        tokens_in: 0,
        tokens_out: 0,
        cost_usd: 0.0,
        duration_ms: 0,
        message: None,
        cached_from: None,
    }
}

fn set_spent(
    task: &mut TaskState,
    attempts: u32,
    tokens_in: u64,
    tokens_out: u64,
    cost: f64,
    ms: u64,
) {
    task.attempts = attempts;
    task.tokens_in = tokens_in;
    task.tokens_out = tokens_out;
    task.cost_usd = cost;
    task.duration_ms = ms;
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
    use crate::runtime::journal::{FailureKind, RunStatus};
    use serde_json::json;

    fn at(at: u64, event: Event) -> Record {
        Record { at, event }
    }

    fn started(pid: u32) -> Event {
        Event::RunStarted {
            run: "r1".into(),
            score: "s".into(),
            source_hash: "h".into(),
            tasks: 3,
            pid,
            checkouts: None,
        }
    }

    fn succeeded(task: &str) -> Event {
        Event::TaskSucceeded {
            task: task.into(),
            hash: "h".into(),
            inputs_hash: "i".into(),
            outputs: json!({}),
            attempts: 1,
            tokens_in: 10,
            tokens_out: 5,
            cost_usd: 0.5,
            duration_ms: 100,
            cached_from: None,
            commit: None,
        }
    }

    fn planned() -> Vec<String> {
        vec!["a".into(), "b".into(), "c".into()]
    }

    #[test]
    fn a_run_in_flight_is_running_with_its_tasks_pending_running_and_done() {
        let records = [
            at(1, started(7)),
            at(2, succeeded("a")),
            at(
                3,
                Event::AttemptStarted {
                    task: "b".into(),
                    attempt: 2,
                    agent: "x".into(),
                    hash: "h".into(),
                },
            ),
        ];
        let state = state_of("r1", &planned(), &records, &|_| true);
        assert_eq!(state.state, "running");
        assert!(!state.done);
        let statuses: Vec<(&str, &str)> = state
            .tasks
            .iter()
            .map(|t| (t.id.as_str(), t.status.as_str()))
            .collect();
        assert_eq!(
            statuses,
            [("a", "succeeded"), ("b", "running"), ("c", "pending")]
        );
        assert_eq!(state.tasks[1].attempts, 2);
        assert_eq!((state.tokens_in, state.tokens_out), (10, 5));
        assert_eq!(state.succeeded, 1);
        assert_eq!(state.finished_at, None);
    }

    #[test]
    fn a_run_whose_process_is_gone_without_finishing_is_interrupted() {
        let records = [at(1, started(7)), at(2, succeeded("a"))];
        let state = state_of("r1", &planned(), &records, &|_| false);
        assert_eq!(state.state, "interrupted");
        assert!(state.done);
    }

    #[test]
    fn a_finished_run_says_how_and_a_resume_starts_it_again() {
        let failed = Event::TaskFailed {
            task: "b".into(),
            hash: "h".into(),
            attempts: 3,
            kind: FailureKind::Check,
            message: "the check failed".into(),
        };
        let finish = Event::RunFinished {
            status: RunStatus::Failed,
            succeeded: 1,
            failed: 1,
            remaining: 1,
        };
        let mut records = vec![
            at(1, started(7)),
            at(2, succeeded("a")),
            at(3, failed),
            at(4, finish),
        ];
        let state = state_of("r1", &planned(), &records, &|_| false);
        assert_eq!((state.state.as_str(), state.done), ("failed", true));
        assert_eq!(state.failed, 1);
        assert_eq!(state.tasks[1].message.as_deref(), Some("the check failed"));
        assert_eq!(state.finished_at, Some(4));
        assert!(
            report(&state).contains("b: the check failed"),
            "{}",
            report(&state)
        );
        records.push(at(
            5,
            Event::RunResumed {
                run: "r1".into(),
                source_hash: "h".into(),
                pid: 8,
                done: 1,
                checkouts: None,
            },
        ));
        let state = state_of("r1", &planned(), &records, &|pid| pid == 8);
        assert_eq!((state.state.as_str(), state.done), ("running", false));
        assert_eq!(state.pid, Some(8));
    }

    #[test]
    fn a_part_waiting_for_approval_is_listed_until_answered() {
        let requested = Event::ApprovalRequested {
            task: "a".into(),
            hash: "h".into(),
            inputs_hash: "i".into(),
            approver: "lead".into(),
            outputs: json!({}),
            commit: None,
            attempts: 1,
            tokens_in: 1,
            tokens_out: 1,
            cost_usd: 0.0,
            duration_ms: 1,
        };
        let paused = Event::RunFinished {
            status: RunStatus::Paused,
            succeeded: 0,
            failed: 0,
            remaining: 3,
        };
        let mut records = vec![at(1, started(7)), at(2, requested), at(3, paused)];
        let state = state_of("r1", &planned(), &records, &|_| false);
        assert_eq!(state.state, "paused");
        assert_eq!(
            state.waiting_for_approval,
            [Waiting {
                task: "a".into(),
                approver: "lead".into()
            }]
        );
        records.push(at(
            4,
            Event::Rejected {
                task: "a".into(),
                by: "me".into(),
            },
        ));
        let state = state_of("r1", &planned(), &records, &|_| false);
        assert!(state.waiting_for_approval.is_empty());
        assert_eq!(state.tasks[0].status, "failed");
    }
}
