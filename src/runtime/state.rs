//! The state of a run, folded from its journal: what `score status`,
//! `score runs`, the live page (`score serve`) and any other reader show.
//!
//! The journal is the single source of truth: a run that is playing now,
//! one that finished, one that crashed and one that was resumed are all
//! read the same way, record by record. [`fold`] is pure (records and the
//! run's plan in, a [`RunState`] out; no clock, no I/O) so that every rule
//! is a unit test; [`load`] and [`list`] are the I/O around it (reading
//! `.score/runs/RUN_ID/`, and asking whether the process that wrote an
//! unfinished journal is still alive).
//!
//! The journal is redacted when written, so nothing folded here carries a
//! secret.

use super::journal::{self, Event, FailureKind, Record, RunStatus, RunsDir};
use crate::plan::{Budget, Plan};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// Where a part stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartStatus {
    /// Not started (its dependencies are not done, or no slot yet).
    Waiting,
    /// Its first attempt is playing.
    Running,
    /// An attempt failed and another one is playing (or about to).
    Retrying,
    /// Its result is accepted and done.
    Done,
    /// Done by reusing an earlier run's result.
    Cached,
    /// It gave up (or was rejected).
    Failed,
    /// Not run: a dependency failed, the budget ran out, the run was cancelled.
    Skipped,
    /// Its result is accepted and waits for a person's approval.
    AwaitingApproval,
}

impl PartStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PartStatus::Waiting => "waiting",
            PartStatus::Running => "running",
            PartStatus::Retrying => "retrying",
            PartStatus::Done => "done",
            PartStatus::Cached => "cached",
            PartStatus::Failed => "failed",
            PartStatus::Skipped => "skipped",
            PartStatus::AwaitingApproval => "awaiting approval",
        }
    }

    /// Whether the part will not change any more in this invocation.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            PartStatus::Done | PartStatus::Cached | PartStatus::Failed | PartStatus::Skipped
        )
    }
}

/// Where a run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunPhase {
    /// Its journal has no end yet and its process is alive (or, in
    /// [`fold`], not known to be dead).
    Running,
    /// Its journal has no end and the process that wrote it is gone: a
    /// crash or a kill. `score run FILE --resume RUN_ID` finishes it.
    Interrupted,
    Succeeded,
    Failed,
    Cancelled,
    /// Waiting for approvals (`score approve`, then `--resume`).
    Paused,
    OverBudget,
}

impl RunPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            RunPhase::Running => "running",
            RunPhase::Interrupted => "interrupted",
            RunPhase::Succeeded => "succeeded",
            RunPhase::Failed => "failed",
            RunPhase::Cancelled => "cancelled",
            RunPhase::Paused => "paused",
            RunPhase::OverBudget => "over budget",
        }
    }

    fn of(status: RunStatus) -> RunPhase {
        match status {
            RunStatus::Succeeded => RunPhase::Succeeded,
            RunStatus::Failed => RunPhase::Failed,
            RunStatus::Cancelled => RunPhase::Cancelled,
            RunStatus::Paused => RunPhase::Paused,
            RunStatus::OverBudget => RunPhase::OverBudget,
        }
    }
}

/// Why an attempt or a part failed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

/// One attempt of a part.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AttemptState {
    /// 1, 2, … across every invocation of the run.
    pub attempt: u32,
    pub agent: String,
    /// Epoch ms.
    pub started_at: u64,
    /// Epoch ms; `None` while it plays (or when the run stopped under it).
    pub ended_at: Option<u64>,
    /// `None` while it plays or when it was accepted.
    pub failure: Option<Failure>,
    /// The paths a boundary violation had rolled back (from its message).
    pub rolled_back: Vec<String>,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
}

/// One part of the run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartState {
    pub id: String,
    pub agent: String,
    /// Its wave in the plan (0 first).
    pub wave: usize,
    pub depends_on: Vec<String>,
    pub status: PartStatus,
    /// The number of its latest attempt (0 before the first).
    pub attempt: u32,
    pub attempts: Vec<AttemptState>,
    /// Epoch ms of its first attempt and of its result.
    pub started_at: Option<u64>,
    pub ended_at: Option<u64>,
    /// Its time from first attempt to result (or to `now` in [`RunState::at`]).
    pub elapsed_ms: u64,
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
    /// The last failure of an attempt, or why the part failed.
    pub last_failure: Option<Failure>,
    /// Why it was skipped.
    pub skip_reason: Option<String>,
    /// The run its cached result came from.
    pub cached_from: Option<String>,
    /// The commit of its work.
    pub commit: Option<String>,
    /// Who must approve it (the plan's `approve`), and who did.
    pub approver: Option<String>,
    pub approved_by: Option<String>,
    pub rejected_by: Option<String>,
    /// Its accepted outputs (redacted like the whole journal).
    pub outputs: Option<serde_json::Value>,
    /// The first of `attempts` played by the latest invocation (the usage
    /// of a success counts that invocation's attempts only).
    #[serde(skip)]
    play_start: usize,
}

/// The run's spending against its budget.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Totals {
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
    pub budget_tokens: Option<u64>,
    pub budget_usd: Option<f64>,
    pub done: usize,
    pub failed: usize,
    pub skipped: usize,
    pub running: usize,
    pub waiting: usize,
    pub awaiting_approval: usize,
}

/// A run, as its journal tells it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunState {
    pub id: String,
    pub score: String,
    pub phase: RunPhase,
    /// Epoch ms of its first record and of its end (`None` while it plays).
    pub started_at: Option<u64>,
    pub ended_at: Option<u64>,
    /// Epoch ms of its last record.
    pub last_at: Option<u64>,
    /// The process of its latest invocation.
    pub pid: Option<u32>,
    /// How many times `--resume` picked it up.
    pub resumed: u32,
    /// The parts in plan order.
    pub parts: Vec<PartState>,
    pub totals: Totals,
    /// The plan's waves and critical path (task ids).
    pub waves: Vec<Vec<String>>,
    pub critical_path: Vec<String>,
    /// The critical path as run: the chain of dependencies, ending at the
    /// part that ended last, each the latest to end among its part's
    /// dependencies.
    pub critical_path_run: Vec<String>,
    /// Why the budget stopped the run, if it did.
    pub budget_message: Option<String>,
    /// The score file the run plays (absolute), when its journal says.
    pub file: Option<String>,
}

/// What `score runs` shows of a run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunSummary {
    pub id: String,
    pub score: String,
    pub phase: RunPhase,
    pub started_at: Option<u64>,
    pub duration_ms: Option<u64>,
    pub tasks: usize,
    pub done: usize,
    pub failed: usize,
    pub cost_usd: f64,
}

impl RunState {
    /// The parts whose status is `status`.
    pub fn parts_in(&self, status: PartStatus) -> impl Iterator<Item = &PartState> {
        self.parts.iter().filter(move |p| p.status == status)
    }

    pub fn part(&self, id: &str) -> Option<&PartState> {
        self.parts.iter().find(|p| p.id == id)
    }

    /// The run's duration: first record to end (or to its last record
    /// when it has not ended).
    pub fn duration_ms(&self) -> Option<u64> {
        let start = self.started_at?;
        Some(self.ended_at.or(self.last_at)?.saturating_sub(start))
    }

    /// The elapsed times of the parts playing now, counted up to `now`
    /// (epoch ms): the fold knows no clock.
    pub fn at(mut self, now: u64) -> RunState {
        for part in &mut self.parts {
            if let (Some(start), None) = (part.started_at, part.ended_at)
                && matches!(part.status, PartStatus::Running | PartStatus::Retrying)
            {
                part.elapsed_ms = now.saturating_sub(start);
            }
        }
        self
    }

    pub fn summary(&self) -> RunSummary {
        RunSummary {
            id: self.id.clone(),
            score: self.score.clone(),
            phase: self.phase,
            started_at: self.started_at,
            duration_ms: self.duration_ms(),
            tasks: self.parts.len(),
            done: self.totals.done,
            failed: self.totals.failed,
            cost_usd: self.totals.cost_usd,
        }
    }
}

/// Folds `records` (a run's journal, in order) into the run's state.
/// `plan` (the run's `plan.json`) gives the parts, their agents, waves,
/// dependencies and the budget; without it the parts are the ones the
/// journal names. An unfinished journal is [`RunPhase::Running`].
pub fn fold(id: &str, plan: Option<&Plan>, records: &[Record]) -> RunState {
    let mut parts: Vec<PartState> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut state = RunState {
        id: id.to_string(),
        score: String::new(),
        phase: RunPhase::Running,
        started_at: records.first().map(|r| r.at),
        ended_at: None,
        last_at: records.last().map(|r| r.at),
        pid: None,
        resumed: 0,
        parts: Vec::new(),
        totals: Totals::default(),
        waves: Vec::new(),
        critical_path: Vec::new(),
        critical_path_run: Vec::new(),
        budget_message: None,
        file: None,
    };
    if let Some(plan) = plan {
        state.score = plan.score.name.clone();
        state.waves = plan.waves.clone();
        state.critical_path = plan.critical_path.tasks.clone();
        if let Some(Budget { tokens, usd }) = &plan.score.budget {
            state.totals.budget_tokens = *tokens;
            state.totals.budget_usd = *usd;
        }
        for task in &plan.tasks {
            index.insert(task.id.clone(), parts.len());
            let mut part = new_part(&task.id);
            part.agent = task.agent.clone();
            part.wave = task.wave;
            part.depends_on = task.depends_on.clone();
            part.approver = task.approve.clone();
            parts.push(part);
        }
    }
    for record in records {
        let at = record.at;
        match &record.event {
            Event::RunStarted {
                score, pid, file, ..
            } => {
                if state.score.is_empty() {
                    state.score = score.clone();
                }
                if state.file.is_none() {
                    state.file = file.clone();
                }
                state.pid = Some(*pid);
            }
            Event::RunResumed { pid, .. } => {
                state.pid = Some(*pid);
                state.resumed += 1;
                state.phase = RunPhase::Running;
                state.ended_at = None;
                state.budget_message = None;
                // What did not end well plays again.
                for part in &mut parts {
                    if matches!(
                        part.status,
                        PartStatus::Failed
                            | PartStatus::Skipped
                            | PartStatus::Running
                            | PartStatus::Retrying
                    ) {
                        part.status = PartStatus::Waiting;
                        part.skip_reason = None;
                        part.ended_at = None;
                        part.play_start = part.attempts.len();
                        for attempt in &mut part.attempts {
                            attempt.ended_at.get_or_insert(at);
                        }
                    }
                }
            }
            Event::BudgetExhausted { message, .. } => {
                state.budget_message = Some(message.clone());
            }
            Event::RunCancelled { .. } => {}
            Event::RunFinished { status, .. } => {
                state.phase = RunPhase::of(*status);
                state.ended_at = Some(at);
                for part in &mut parts {
                    if let Some(attempt) = part.attempts.last_mut()
                        && attempt.ended_at.is_none()
                    {
                        attempt.ended_at = Some(at);
                    }
                    if matches!(part.status, PartStatus::Running | PartStatus::Retrying) {
                        part.status = PartStatus::Waiting;
                    }
                }
            }
            event => {
                let Some(task) = event.task() else { continue };
                let i = *index.entry(task.to_string()).or_insert_with(|| {
                    parts.push(new_part(task));
                    parts.len() - 1
                });
                apply(&mut parts[i], event, at);
            }
        }
    }
    state.totals = totals(&parts, state.totals.budget_tokens, state.totals.budget_usd);
    state.critical_path_run = critical_path_run(&parts);
    state.parts = parts;
    state
}

fn new_part(id: &str) -> PartState {
    PartState {
        id: id.to_string(),
        agent: String::new(),
        wave: 0,
        depends_on: Vec::new(),
        status: PartStatus::Waiting,
        attempt: 0,
        attempts: Vec::new(),
        started_at: None,
        ended_at: None,
        elapsed_ms: 0,
        tokens_in: 0,
        tokens_out: 0,
        cost_usd: 0.0,
        last_failure: None,
        skip_reason: None,
        cached_from: None,
        commit: None,
        approver: None,
        approved_by: None,
        rejected_by: None,
        outputs: None,
        play_start: 0,
    }
}

/// One event about `part`.
fn apply(part: &mut PartState, event: &Event, at: u64) {
    match event {
        Event::AttemptStarted { attempt, agent, .. } => {
            part.attempt = *attempt;
            part.agent = agent.clone();
            part.started_at.get_or_insert(at);
            part.ended_at = None;
            part.status = if *attempt > 1 || !part.attempts.is_empty() {
                PartStatus::Retrying
            } else {
                PartStatus::Running
            };
            part.attempts.push(AttemptState {
                attempt: *attempt,
                agent: agent.clone(),
                started_at: at,
                ended_at: None,
                failure: None,
                rolled_back: Vec::new(),
                tokens_in: 0,
                tokens_out: 0,
                cost_usd: 0.0,
            });
        }
        Event::AttemptFailed {
            attempt,
            kind,
            message,
            tokens_in,
            tokens_out,
            cost_usd,
            ..
        } => {
            let failure = Failure {
                kind: *kind,
                message: message.clone(),
            };
            if let Some(a) = part
                .attempts
                .iter_mut()
                .rev()
                .find(|a| a.attempt == *attempt)
            {
                a.ended_at = Some(at);
                a.rolled_back = if *kind == FailureKind::Boundary {
                    rolled_back_paths(message)
                } else {
                    Vec::new()
                };
                a.failure = Some(failure.clone());
                a.tokens_in = *tokens_in;
                a.tokens_out = *tokens_out;
                a.cost_usd = *cost_usd;
            }
            part.tokens_in += tokens_in;
            part.tokens_out += tokens_out;
            part.cost_usd += cost_usd;
            part.last_failure = Some(failure);
            part.status = PartStatus::Retrying;
        }
        Event::ApprovalRequested {
            tokens_in,
            tokens_out,
            cost_usd,
            commit,
            outputs,
            ..
        } => {
            accept(part, at, *tokens_in, *tokens_out, *cost_usd);
            part.commit = commit.clone();
            part.outputs = Some(outputs.clone());
            part.status = PartStatus::AwaitingApproval;
        }
        Event::TaskCommitted {
            tokens_in,
            tokens_out,
            cost_usd,
            commit,
            outputs,
            ..
        } => {
            accept(part, at, *tokens_in, *tokens_out, *cost_usd);
            part.commit = Some(commit.clone());
            part.outputs = Some(outputs.clone());
        }
        Event::Approved { by, .. } => {
            part.approved_by = Some(by.clone());
        }
        Event::Rejected { by, .. } => {
            part.rejected_by = Some(by.clone());
        }
        Event::TaskSucceeded {
            tokens_in,
            tokens_out,
            cost_usd,
            cached_from,
            commit,
            outputs,
            ..
        } => {
            // After an approval or a commit, the usage was counted already.
            if !part
                .attempts
                .last()
                .is_some_and(|a| a.ended_at.is_some() && a.failure.is_none())
            {
                accept(part, at, *tokens_in, *tokens_out, *cost_usd);
            }
            part.cached_from = cached_from.clone();
            if commit.is_some() {
                part.commit = commit.clone();
            }
            part.outputs = Some(outputs.clone());
            part.status = if cached_from.is_some() {
                PartStatus::Cached
            } else {
                PartStatus::Done
            };
            part.ended_at = Some(at);
            part.started_at.get_or_insert(at);
            part.elapsed_ms = at.saturating_sub(part.started_at.unwrap_or(at));
        }
        Event::TaskFailed {
            kind,
            message,
            attempts,
            ..
        } => {
            part.last_failure = Some(Failure {
                kind: *kind,
                message: message.clone(),
            });
            part.attempt = part.attempt.max(*attempts);
            part.status = PartStatus::Failed;
            part.ended_at = Some(at);
            if let Some(a) = part.attempts.last_mut() {
                a.ended_at.get_or_insert(at);
            }
            part.elapsed_ms = at.saturating_sub(part.started_at.unwrap_or(at));
        }
        Event::TaskSkipped { reason, .. } => {
            part.status = PartStatus::Skipped;
            part.skip_reason = Some(reason.clone());
        }
        _ => {}
    }
}

/// A result was accepted: the last attempt ended well, and its usage is
/// what the whole play used minus its failed attempts' (already counted).
fn accept(part: &mut PartState, at: u64, tokens_in: u64, tokens_out: u64, cost_usd: f64) {
    // The failed attempts of this play (an earlier invocation's attempts
    // are counted already, and not in this result's usage).
    let (mut f_in, mut f_out, mut f_cost) = (0, 0, 0.0);
    let played = part.attempts.len().saturating_sub(1);
    for a in part
        .attempts
        .get(part.play_start.min(played)..played)
        .unwrap_or(&[])
    {
        f_in += a.tokens_in;
        f_out += a.tokens_out;
        f_cost += a.cost_usd;
    }
    let (last_in, last_out, last_cost) = (
        tokens_in.saturating_sub(f_in),
        tokens_out.saturating_sub(f_out),
        (cost_usd - f_cost).max(0.0),
    );
    if let Some(a) = part.attempts.last_mut()
        && a.ended_at.is_none()
    {
        a.ended_at = Some(at);
        a.tokens_in = last_in;
        a.tokens_out = last_out;
        a.cost_usd = last_cost;
    }
    part.tokens_in += last_in;
    part.tokens_out += last_out;
    part.cost_usd += last_cost;
    part.elapsed_ms = at.saturating_sub(part.started_at.unwrap_or(at));
}

/// The paths a boundary violation's message names as rolled back: the
/// first back-quoted path of each `- ` line (see
/// `workspace::violation_feedback`), until the globs the part may write.
pub fn rolled_back_paths(message: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for line in message.lines() {
        if line.starts_with("Only ") || line.starts_with("You may not") {
            break;
        }
        if let Some(rest) = line.strip_prefix("- ")
            && let Some(start) = rest.find('`')
            && let Some(len) = rest[start + 1..].find('`')
        {
            let path = rest[start + 1..start + 1 + len].to_string();
            if !paths.contains(&path) {
                paths.push(path);
            }
        }
    }
    paths
}

fn totals(parts: &[PartState], budget_tokens: Option<u64>, budget_usd: Option<f64>) -> Totals {
    let mut totals = Totals {
        budget_tokens,
        budget_usd,
        ..Totals::default()
    };
    for part in parts {
        totals.tokens_in += part.tokens_in;
        totals.tokens_out += part.tokens_out;
        totals.cost_usd += part.cost_usd;
        match part.status {
            PartStatus::Done | PartStatus::Cached => totals.done += 1,
            PartStatus::Failed => totals.failed += 1,
            PartStatus::Skipped => totals.skipped += 1,
            PartStatus::Running | PartStatus::Retrying => totals.running += 1,
            PartStatus::Waiting => totals.waiting += 1,
            PartStatus::AwaitingApproval => totals.awaiting_approval += 1,
        }
    }
    totals
}

/// The critical path as run: from the part that ended last, back through
/// the dependency of each that ended last.
fn critical_path_run(parts: &[PartState]) -> Vec<String> {
    let index: HashMap<&str, &PartState> = parts.iter().map(|p| (p.id.as_str(), p)).collect();
    let Some(mut current) = parts
        .iter()
        .filter(|p| p.ended_at.is_some())
        .max_by_key(|p| p.ended_at)
    else {
        return Vec::new();
    };
    let mut path = vec![current.id.clone()];
    while let Some(next) = current
        .depends_on
        .iter()
        .filter_map(|d| index.get(d.as_str()))
        .filter(|p| p.ended_at.is_some())
        .max_by_key(|p| p.ended_at)
    {
        // A plan's dependencies are acyclic, but a journal may name parts
        // the plan does not: never loop.
        if path.contains(&next.id) {
            break;
        }
        path.push(next.id.clone());
        current = next;
    }
    path.reverse();
    path
}

/// `score runs`: one line per run, newest last.
pub fn render_runs(runs: &[RunSummary]) -> String {
    let mut out = format!(
        "{:<22} {:<16} {:<12} {:>7} {:>6} {:>9} {:>10}  {}\n",
        "RUN", "STARTED (UTC)", "STATUS", "DONE", "FAILED", "COST", "DURATION", "SCORE"
    );
    for run in runs {
        out.push_str(&format!(
            "{:<22} {:<16} {:<12} {:>7} {:>6} {:>9} {:>10}  {}\n",
            run.id,
            run.started_at.map_or("-".to_string(), format_utc),
            run.phase.as_str(),
            format!("{}/{}", run.done, run.tasks),
            run.failed,
            format!("${:.2}", run.cost_usd),
            run.duration_ms
                .map_or("-".to_string(), crate::plan::format_duration),
            run.score
        ));
    }
    out
}

/// `score status`: what runs now, what waits, what failed and why.
pub fn render_status(state: &RunState) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let t = &state.totals;
    let _ = writeln!(
        out,
        "run {} ({}): {}, {} of {} parts done, {} failed, {} skipped",
        state.id,
        state.score,
        state.phase.as_str(),
        t.done,
        state.parts.len(),
        t.failed,
        t.skipped
    );
    if let Some(start) = state.started_at {
        let _ = writeln!(
            out,
            "started {} UTC, {} so far{}",
            format_utc(start),
            crate::plan::format_duration(state.duration_ms().unwrap_or(0)),
            if state.resumed > 0 {
                format!(", resumed {} time(s)", state.resumed)
            } else {
                String::new()
            }
        );
    }
    let budget = match (t.budget_tokens, t.budget_usd) {
        (None, None) => String::new(),
        (tokens, usd) => format!(
            " (budget:{}{})",
            tokens.map_or(String::new(), |b| format!(" {b} tokens")),
            usd.map_or(String::new(), |b| format!(" ${b:.2}"))
        ),
    };
    let _ = writeln!(
        out,
        "spent {} tokens, ${:.2}{budget}",
        t.tokens_in + t.tokens_out,
        t.cost_usd
    );
    if let Some(message) = &state.budget_message {
        let _ = writeln!(out, "budget: {message}");
    }
    let section =
        |out: &mut String, title: &str, status: PartStatus, line: &dyn Fn(&PartState) -> String| {
            let parts: Vec<&PartState> = state.parts_in(status).collect();
            if !parts.is_empty() {
                let _ = writeln!(out, "\n{title} ({}):", parts.len());
                for part in parts {
                    let _ = writeln!(out, "  {}", line(part));
                }
            }
        };
    let playing = |p: &PartState| {
        format!(
            "{} by {}, attempt {}, {}",
            p.id,
            p.agent,
            p.attempt,
            crate::plan::format_duration(p.elapsed_ms)
        )
    };
    section(&mut out, "running", PartStatus::Running, &playing);
    section(&mut out, "retrying", PartStatus::Retrying, &|p| {
        let why = p
            .last_failure
            .as_ref()
            .map(|f| format!(" after {}: {}", f.kind.as_str(), first_line(&f.message)))
            .unwrap_or_default();
        format!("{}{why}", playing(p))
    });
    section(
        &mut out,
        "awaiting approval",
        PartStatus::AwaitingApproval,
        &|p| {
            format!(
                "{} (by {}): `score approve {} {}`",
                p.id,
                p.approver.as_deref().unwrap_or("someone"),
                state.id,
                p.id
            )
        },
    );
    section(
        &mut out,
        "failed",
        PartStatus::Failed,
        &|p| match &p.last_failure {
            Some(f) => format!(
                "{} after {} attempt(s): {}: {}",
                p.id,
                p.attempt,
                f.kind.as_str(),
                first_line(&f.message)
            ),
            None => p.id.clone(),
        },
    );
    section(&mut out, "skipped", PartStatus::Skipped, &|p| {
        format!("{}: {}", p.id, p.skip_reason.as_deref().unwrap_or(""))
    });
    section(&mut out, "waiting", PartStatus::Waiting, &|p| {
        if p.depends_on.is_empty() {
            p.id.clone()
        } else {
            format!("{} (needs {})", p.id, p.depends_on.join(", "))
        }
    });
    if state.phase == RunPhase::Interrupted {
        let _ = writeln!(
            out,
            "\nits process is gone; finish it with `score run {} --resume {}`",
            state
                .file
                .as_deref()
                .map(|f| journal::shown_from(f, &std::env::current_dir().unwrap_or_default()))
                .unwrap_or_else(|| "FILE".to_string()),
            state.id
        );
    }
    out
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// `2026-12-03 18:04` (UTC) of an epoch-ms time.
pub fn format_utc(ms: u64) -> String {
    let secs = ms / 1000;
    let (y, mo, d) = journal::civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{mo:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// Reads run `id` of `runs`: its journal and plan, folded; an unfinished
/// run whose process is gone is [`RunPhase::Interrupted`], and the parts
/// playing have their elapsed time counted to now.
pub fn load(runs: &RunsDir, id: &str) -> Result<RunState, String> {
    let plan = read_plan(&runs.run(id).plan());
    load_with(runs, id, plan.as_ref())
}

/// [`load`] with the run's plan already read (a reader that keeps it
/// between calls: the plan of a large run is most of what there is to read).
pub fn load_with(runs: &RunsDir, id: &str, plan: Option<&Plan>) -> Result<RunState, String> {
    let run = runs.run(id);
    if !run.events().is_file() {
        return Err(unknown_run(runs, id));
    }
    let records = journal::read(&run.events())?;
    Ok(settle(fold(id, plan, &records), journal::now_ms()))
}

/// A folded state as it stands at `now` (epoch ms): an unfinished run
/// whose process is gone is [`RunPhase::Interrupted`] (nothing of it plays
/// any more), and the parts playing have their elapsed time counted to now.
pub fn settle(mut state: RunState, now: u64) -> RunState {
    if state.phase == RunPhase::Running && !state.pid.is_some_and(process_alive) {
        state.phase = RunPhase::Interrupted;
        for part in &mut state.parts {
            if matches!(part.status, PartStatus::Running | PartStatus::Retrying) {
                part.status = PartStatus::Waiting;
            }
        }
        state.totals = totals(
            &state.parts,
            state.totals.budget_tokens,
            state.totals.budget_usd,
        );
        return state;
    }
    state.at(now)
}

/// The message for a run that is not there: which runs are.
pub fn unknown_run(runs: &RunsDir, id: &str) -> String {
    let known = runs.list();
    if known.is_empty() {
        format!(
            "there is no run `{id}`: `{}` holds no runs; start one with `score run FILE`",
            runs.root.display()
        )
    } else {
        format!(
            "there is no run `{id}` in `{}`; the runs there are: {}",
            runs.root.display(),
            known.join(", ")
        )
    }
}

/// The summaries of every run of the workspace, oldest first. A journal
/// that cannot be read is skipped (named in the second list, with why).
pub fn list(workspace: &Path) -> (Vec<RunSummary>, Vec<String>) {
    let runs = RunsDir::new(workspace);
    let mut summaries = Vec::new();
    let mut unreadable = Vec::new();
    for id in runs.list() {
        match load(&runs, &id) {
            Ok(state) => summaries.push(state.summary()),
            Err(e) => unreadable.push(e),
        }
    }
    (summaries, unreadable)
}

/// The run's plan, when it was written (a run that could not start has
/// none). Read without validating it against the format's schema: the
/// runtime wrote it from a plan it had validated, and it only labels what
/// the journal says (validation is most of the time of reading a large
/// plan).
pub fn read_plan(path: &Path) -> Option<Plan> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// Whether process `pid` is alive (signal 0 checks without sending).
fn process_alive(pid: u32) -> bool {
    // 0 and negative numbers would name process groups, not a process.
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 sends nothing; it only checks the pid.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    alive || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::{plan, task};
    use serde_json::json;

    fn r(at: u64, event: Event) -> Record {
        Record { at, event }
    }
    fn started(task: &str, attempt: u32) -> Event {
        Event::AttemptStarted {
            task: task.into(),
            attempt,
            agent: "mock".into(),
            hash: "h".into(),
        }
    }
    fn failed_attempt(task: &str, attempt: u32, kind: FailureKind, message: &str) -> Event {
        Event::AttemptFailed {
            task: task.into(),
            attempt,
            kind,
            message: message.into(),
            tokens_in: 10,
            tokens_out: 1,
            cost_usd: 0.5,
            duration_ms: 5,
        }
    }
    fn succeeded(task: &str, attempts: u32, cached: Option<&str>) -> Event {
        Event::TaskSucceeded {
            task: task.into(),
            hash: "h".into(),
            inputs_hash: "i".into(),
            outputs: json!({"x": 1}),
            attempts,
            tokens_in: 30,
            tokens_out: 3,
            cost_usd: 1.5,
            duration_ms: 9,
            cached_from: cached.map(str::to_string),
            commit: None,
            cache_checks: None,
        }
    }
    fn run_started() -> Event {
        Event::RunStarted {
            run: "r".into(),
            score: "s".into(),
            source_hash: "x".into(),
            tasks: 3,
            pid: 7,
            checkouts: None,
            sources: Default::default(),
            edited: Vec::new(),
            file: None,
        }
    }

    fn three() -> Plan {
        plan(vec![
            task("a", &[], 10),
            task("b", &["a"], 10),
            task("c", &["a"], 10),
        ])
    }

    #[test]
    fn an_unfinished_journal_is_running_and_parts_wait_until_started() {
        let plan = three();
        let state = fold(
            "r",
            Some(&plan),
            &[r(1, run_started()), r(2, started("a", 1))],
        );
        assert_eq!(state.phase, RunPhase::Running);
        assert_eq!(state.part("a").unwrap().status, PartStatus::Running);
        assert_eq!(state.part("b").unwrap().status, PartStatus::Waiting);
        assert_eq!(state.totals.running, 1);
        assert_eq!(state.totals.waiting, 2);
        assert_eq!(state.pid, Some(7));
        // The fold has no clock; `at` counts the running part up to now.
        assert_eq!(state.at(12).part("a").unwrap().elapsed_ms, 10);
    }

    #[test]
    fn a_retry_after_a_boundary_violation_keeps_the_paths_rolled_back() {
        let plan = three();
        let message = "Your previous attempt changed files outside the paths you may write, \
            and those changes were undone:\n- `src/x.rs` was modified, but it matches none\n\
            - `docs/y.md` was created\nOnly create … these globs:\n- `out/**`\n";
        let state = fold(
            "r",
            Some(&plan),
            &[
                r(1, run_started()),
                r(2, started("a", 1)),
                r(3, failed_attempt("a", 1, FailureKind::Boundary, message)),
                r(4, started("a", 2)),
            ],
        );
        let a = state.part("a").unwrap();
        assert_eq!(a.status, PartStatus::Retrying);
        assert_eq!(a.attempt, 2);
        assert_eq!(a.attempts[0].rolled_back, ["src/x.rs", "docs/y.md"]);
        assert_eq!(a.last_failure.as_ref().unwrap().kind, FailureKind::Boundary);
        assert_eq!(a.tokens_in, 10);
    }

    #[test]
    fn a_success_after_a_failed_attempt_counts_each_token_once() {
        let plan = three();
        let state = fold(
            "r",
            Some(&plan),
            &[
                r(1, run_started()),
                r(2, started("a", 1)),
                r(3, failed_attempt("a", 1, FailureKind::Check, "no")),
                r(4, started("a", 2)),
                r(9, succeeded("a", 2, None)),
            ],
        );
        let a = state.part("a").unwrap();
        assert_eq!(a.status, PartStatus::Done);
        assert_eq!((a.tokens_in, a.tokens_out), (30, 3));
        assert_eq!(a.attempts[1].tokens_in, 20);
        assert_eq!(a.elapsed_ms, 7);
        assert!((state.totals.cost_usd - 1.5).abs() < 1e-9);
    }

    #[test]
    fn every_final_status_and_the_run_end() {
        let plan = three();
        let state = fold(
            "r",
            Some(&plan),
            &[
                r(1, run_started()),
                r(2, succeeded("a", 0, Some("old"))),
                r(3, started("b", 1)),
                r(
                    4,
                    Event::TaskFailed {
                        task: "b".into(),
                        hash: "h".into(),
                        attempts: 1,
                        kind: FailureKind::Agent,
                        message: "exit 3".into(),
                    },
                ),
                r(
                    5,
                    Event::TaskSkipped {
                        task: "c".into(),
                        reason: "b failed".into(),
                    },
                ),
                r(
                    6,
                    Event::RunFinished {
                        status: RunStatus::Failed,
                        succeeded: 1,
                        failed: 1,
                        remaining: 1,
                    },
                ),
            ],
        );
        assert_eq!(state.phase, RunPhase::Failed);
        assert_eq!(state.part("a").unwrap().status, PartStatus::Cached);
        assert_eq!(state.part("b").unwrap().status, PartStatus::Failed);
        assert_eq!(
            state
                .part("b")
                .unwrap()
                .last_failure
                .as_ref()
                .unwrap()
                .message,
            "exit 3"
        );
        assert_eq!(state.part("c").unwrap().status, PartStatus::Skipped);
        assert_eq!((state.totals.done, state.totals.failed), (1, 1));
        assert_eq!(state.duration_ms(), Some(5));
        assert_eq!(state.critical_path_run, ["a", "b"]);
        let summary = state.summary();
        assert_eq!((summary.tasks, summary.done, summary.failed), (3, 1, 1));
    }

    #[test]
    fn an_approval_waits_then_a_resume_plays_the_failed_again() {
        let plan = three();
        let requested = Event::ApprovalRequested {
            task: "a".into(),
            hash: "h".into(),
            inputs_hash: "i".into(),
            approver: "lead".into(),
            outputs: json!({}),
            commit: None,
            attempts: 1,
            tokens_in: 5,
            tokens_out: 5,
            cost_usd: 0.0,
            duration_ms: 1,
        };
        let mut records = vec![
            r(1, run_started()),
            r(2, started("a", 1)),
            r(3, requested),
            r(
                4,
                Event::RunFinished {
                    status: RunStatus::Paused,
                    succeeded: 0,
                    failed: 0,
                    remaining: 3,
                },
            ),
        ];
        let paused = fold("r", Some(&plan), &records);
        assert_eq!(paused.phase, RunPhase::Paused);
        assert_eq!(
            paused.part("a").unwrap().status,
            PartStatus::AwaitingApproval
        );
        assert_eq!(paused.totals.awaiting_approval, 1);
        records.push(r(
            5,
            Event::Approved {
                task: "a".into(),
                by: "me".into(),
            },
        ));
        records.push(r(
            6,
            Event::RunResumed {
                run: "r".into(),
                source_hash: "x".into(),
                pid: 8,
                done: 0,
                checkouts: None,
            },
        ));
        records.push(r(7, succeeded("a", 1, None)));
        let resumed = fold("r", Some(&plan), &records);
        assert_eq!(resumed.phase, RunPhase::Running);
        assert_eq!(resumed.resumed, 1);
        let a = resumed.part("a").unwrap();
        assert_eq!(a.status, PartStatus::Done);
        assert_eq!(a.approved_by.as_deref(), Some("me"));
        // The usage was counted when the result was accepted, not again.
        assert_eq!(a.tokens_in, 5);
    }

    #[test]
    fn without_a_plan_the_parts_are_those_the_journal_names() {
        let state = fold("r", None, &[r(1, run_started()), r(2, started("z", 1))]);
        assert_eq!(state.parts.len(), 1);
        assert_eq!(state.score, "s");
    }

    #[test]
    fn an_unknown_run_lists_the_runs_there_are() {
        let dir = tempfile::tempdir().unwrap();
        let runs = RunsDir::new(dir.path());
        assert!(load(&runs, "nope").unwrap_err().contains("holds no runs"));
        let run = runs.run("20260101-000000-0000");
        run.create().unwrap();
        std::fs::write(run.events(), "").unwrap();
        let error = load(&runs, "nope").unwrap_err();
        assert!(error.contains("20260101-000000-0000"), "{error}");
        // An empty journal of a dead process: interrupted, no parts.
        let state = load(&runs, "20260101-000000-0000").unwrap();
        assert_eq!(state.phase, RunPhase::Interrupted);
    }
}
