//! The conductor: one loop that owns the run's state, dispatches ready
//! tasks, journals what happens and releases dependants.
//!
//! Each dispatched task is a tokio task of its own (`play`) that runs its
//! attempts (agent, validation, checks, feedback and retries) and reports
//! back over a channel. The conductor never polls: it sleeps until a report
//! (or Ctrl-C) arrives, drains every report there is, journals them, makes
//! the journal durable once, and only then dispatches what they released.
//!
//! Scheduling is O(log n) per task: a task enters its agent's ready queue
//! (a heap ordered by how much estimated work still follows it, so the
//! critical path goes first) exactly once, when its last dependency
//! finishes; agents with ready tasks and free capacity wait in a FIFO of
//! their own. Nothing ever walks the waiting tasks.

use super::agent::{AgentError, AttemptFiles, AttemptRequest, Performer, Usage};
use super::files::{Cache, CacheEntry, Cached, FileWriter, outputs_file};
use super::inputs::{fill_prompt, inputs_hash, value_of};
use super::isolation::{Isolation, commit_message, needs_worktree, writes_through_edits};
use super::journal::{Event, FailureKind, Journal, Record, RunDir, RunStatus, now_ms};
use super::progress::Progress;
use super::verify::{Validators, feedback, run_check};
use crate::plan::{Budget, Plan, Provider};
use serde_json::Value;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Where a task stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Waiting for dependencies.
    Pending,
    /// In its agent's ready queue.
    Ready,
    Running,
    /// Its result is accepted and journaled; a person must approve it.
    AwaitingApproval,
    Done,
    Failed,
    /// Not run: a dependency failed.
    Skipped,
}

/// What the run knows about one task (for the report too).
#[derive(Clone, Debug)]
pub struct TaskState {
    pub status: Status,
    /// Attempts made by this invocation and earlier ones of the same run.
    pub attempts: u32,
    pub usage: Usage,
    pub cost_usd: f64,
    /// Wall-clock time from its first attempt to its result.
    pub duration_ms: u64,
    /// Epoch ms of its first dispatch and of its result.
    pub started_at: Option<u64>,
    pub finished_at: Option<u64>,
    pub outputs: Option<Arc<Value>>,
    pub cached_from: Option<String>,
    pub failure: Option<(FailureKind, String)>,
    /// Done before this invocation started (resumed).
    pub resumed: bool,
    /// The commit of its work (in a worktree), merged or waiting for an
    /// approval to be merged.
    pub commit: Option<String>,
}

impl Default for TaskState {
    fn default() -> TaskState {
        TaskState {
            status: Status::Pending,
            attempts: 0,
            usage: Usage::default(),
            cost_usd: 0.0,
            duration_ms: 0,
            started_at: None,
            finished_at: None,
            outputs: None,
            cached_from: None,
            failure: None,
            resumed: false,
            commit: None,
        }
    }
}

/// How the conductor was asked to run.
pub struct Conductor {
    pub plan: Arc<Plan>,
    pub performers: HashMap<String, Arc<dyn Performer>>,
    pub workspace: PathBuf,
    pub run: RunDir,
    pub journal: Journal,
    pub score_inputs: BTreeMap<String, Value>,
    pub jobs: Option<usize>,
    /// Reuse results from `.score/cache` (off with `--fresh` and on resume).
    pub use_cache: bool,
    pub cache_dir: PathBuf,
    /// Ask for approvals on the terminal.
    pub interactive: bool,
    pub progress: Progress,
    /// The state of each task, by plan index (resumed tasks already done).
    pub states: Vec<TaskState>,
    /// Task ids to plan indices (filled by [`Conductor::conduct`]).
    pub index: HashMap<String, usize>,
    /// Writes outputs and cache entries off the loop.
    pub files: FileWriter,
    /// Worktrees and the integration branch, when the run uses them.
    pub isolation: Option<Arc<Isolation>>,
    /// A part with `approve` does not wait (the approval happens outside
    /// this process: `score task run` under Argo).
    pub approvals_elsewhere: bool,
}

/// The end of a run, for the report.
pub struct Outcome {
    pub status: RunStatus,
    pub states: Vec<TaskState>,
    pub budget_message: Option<String>,
    pub wall: Duration,
}

/// Money and tokens spent so far, shared with the tasks in flight.
#[derive(Default)]
struct Spend {
    tokens: AtomicU64,
    micro_usd: AtomicU64,
    attempts: AtomicU64,
}

impl Spend {
    fn add(&self, usage: Usage, cost: f64) {
        self.tokens.fetch_add(usage.total(), Ordering::Relaxed);
        self.micro_usd
            .fetch_add((cost * 1e6).round() as u64, Ordering::Relaxed);
        self.attempts.fetch_add(1, Ordering::Relaxed);
    }

    fn usd(&self) -> f64 {
        self.micro_usd.load(Ordering::Relaxed) as f64 / 1e6
    }

    /// Why another attempt would break `budget`, if it would: the spend so
    /// far plus what an attempt has cost on average.
    fn refuses(&self, budget: &Budget) -> Option<String> {
        let attempts = self.attempts.load(Ordering::Relaxed).max(1);
        let tokens = self.tokens.load(Ordering::Relaxed);
        let usd = self.usd();
        if let Some(limit) = budget.tokens {
            let next = tokens / attempts;
            if tokens >= limit || (tokens > 0 && tokens + next > limit) {
                return Some(format!(
                    "the score's budget of {} tokens would be exceeded: {} spent, about {} per attempt",
                    crate::plan::group_thousands(limit),
                    crate::plan::group_thousands(tokens),
                    crate::plan::group_thousands(next)
                ));
            }
        }
        if let Some(limit) = budget.usd {
            let next = usd / attempts as f64;
            if usd >= limit || (usd > 0.0 && usd + next > limit) {
                return Some(format!(
                    "the score's budget of ${limit:.2} would be exceeded: ${usd:.4} spent, about ${next:.4} per attempt"
                ));
            }
        }
        None
    }
}

/// What every task in flight shares.
struct Shared {
    plan: Arc<Plan>,
    performers: HashMap<String, Arc<dyn Performer>>,
    workspace: PathBuf,
    logs: PathBuf,
    validators: Validators,
    spend: Spend,
    tx: mpsc::UnboundedSender<Msg>,
    isolation: Option<Arc<Isolation>>,
    approvals_elsewhere: bool,
}

/// A report from a task in flight.
enum Msg {
    /// Progress to journal (attempt started or failed).
    Event(Event),
    /// The task's result.
    Finished(usize, TaskResult),
    /// A person answered the approval prompt.
    Answer { task: usize, approved: bool },
    /// An event to journal durably before the sender goes on (acked once
    /// synced).
    Durable(Event, tokio::sync::oneshot::Sender<()>),
    /// An approved part's commit was merged (or could not be).
    Merged(usize, Result<(), String>),
}

enum TaskResult {
    Succeeded {
        outputs: Value,
        inputs_hash: String,
        attempts: u32,
        usage: Usage,
        cost: f64,
        duration_ms: u64,
        cached_from: Option<String>,
        commit: Option<String>,
    },
    Failed {
        kind: FailureKind,
        message: String,
        usage: Usage,
        cost: f64,
        duration_ms: u64,
    },
}

/// A task waiting in its agent's queue: the most remaining work first, then
/// plan order.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Queued {
    remaining_ms: u64,
    order: std::cmp::Reverse<usize>,
}

impl Conductor {
    /// Runs every task not done yet, until all are done, failed or blocked.
    pub async fn conduct(mut self) -> Result<Outcome, String> {
        let started = Instant::now();
        let plan = self.plan.clone();
        let n = plan.tasks.len();
        self.index = plan
            .tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.clone(), i))
            .collect();
        let index = self.index.clone();
        let deps: Vec<Vec<usize>> = plan
            .tasks
            .iter()
            .map(|t| {
                t.depends_on
                    .iter()
                    .filter_map(|d| index.get(d.as_str()).copied())
                    .collect()
            })
            .collect();
        let mut dependants: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, ds) in deps.iter().enumerate() {
            for &d in ds {
                dependants[d].push(i);
            }
        }
        // Remaining estimated work from each task to the end (tasks are in
        // wave order: dependants come later).
        let mut remaining_ms = vec![0u64; n];
        for i in (0..n).rev() {
            let after = dependants[i]
                .iter()
                .map(|&d| remaining_ms[d])
                .max()
                .unwrap_or(0);
            remaining_ms[i] = plan.tasks[i].estimate_ms + after;
        }
        let agent_ids: Vec<&str> = plan.agents.keys().map(String::as_str).collect();
        let agent_of: Vec<usize> = plan
            .tasks
            .iter()
            .map(|t| agent_ids.iter().position(|a| *a == t.agent).unwrap_or(0))
            .collect();
        let agent_limit: Vec<usize> = agent_ids
            .iter()
            .map(|a| {
                plan.agents[*a]
                    .concurrency
                    .map_or(usize::MAX, |c| c.max(1) as usize)
            })
            .collect();
        let global_limit = [
            plan.score.concurrency.map(|c| c.max(1) as usize),
            self.jobs.map(|j| j.max(1)),
        ]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(usize::MAX);

        let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
        let shared = Arc::new(Shared {
            plan: plan.clone(),
            performers: std::mem::take(&mut self.performers),
            workspace: self.workspace.clone(),
            logs: self.run.logs(),
            validators: Validators::default(),
            spend: Spend::default(),
            tx: tx.clone(),
            isolation: self.isolation.clone(),
            approvals_elsewhere: self.approvals_elsewhere,
        });
        // Spending of earlier invocations of this run counts.
        for state in &self.states {
            if state.usage.total() > 0 || state.cost_usd > 0.0 {
                shared.spend.add(state.usage, state.cost_usd);
            }
        }

        let mut queues: Vec<BinaryHeap<Queued>> =
            agent_ids.iter().map(|_| BinaryHeap::new()).collect();
        let mut running_per_agent = vec![0usize; agent_ids.len()];
        let mut waiting_agents: VecDeque<usize> = VecDeque::new();
        let mut agent_waiting = vec![false; agent_ids.len()];
        let mut running = 0usize;
        let mut in_flight: HashMap<usize, tokio::task::AbortHandle> = HashMap::new();
        let mut unmet: Vec<usize> = vec![0; n];
        let mut approvals: VecDeque<usize> = VecDeque::new();
        let mut asking = false;
        let mut budget_message: Option<String> = None;
        let mut cancelled = false;

        // Initial state: what is done, what is ready.
        for i in 0..n {
            unmet[i] = deps[i]
                .iter()
                .filter(|&&d| self.states[d].status != Status::Done)
                .count();
        }
        for i in 0..n {
            match self.states[i].status {
                Status::Pending if unmet[i] == 0 => {
                    self.states[i].status = Status::Ready;
                    queues[agent_of[i]].push(Queued {
                        remaining_ms: remaining_ms[i],
                        order: std::cmp::Reverse(i),
                    });
                }
                Status::AwaitingApproval if self.interactive => approvals.push_back(i),
                _ => {}
            }
        }
        for a in 0..agent_ids.len() {
            if !queues[a].is_empty() {
                waiting_agents.push_back(a);
                agent_waiting[a] = true;
            }
        }

        let cache = self.use_cache.then(|| Cache::open(&self.cache_dir));
        let ctrl_c = cancel_signal();
        tokio::pin!(ctrl_c);
        // What the last batch of reports finished: its dependants are
        // released, and its acks sent, once the journal is synced.
        let mut released: Vec<usize> = Vec::new();
        let mut acks: Vec<tokio::sync::oneshot::Sender<()>> = Vec::new();

        loop {
            // Dispatch everything the limits allow.
            while !cancelled && budget_message.is_none() && running < global_limit {
                let Some(a) = waiting_agents.pop_front() else {
                    break;
                };
                agent_waiting[a] = false;
                if running_per_agent[a] >= agent_limit[a] {
                    continue;
                }
                let Some(Queued { order, .. }) = queues[a].pop() else {
                    continue;
                };
                if let Some(budget) = &plan.score.budget
                    && let Some(message) = shared.spend.refuses(budget)
                {
                    // Put it back: it did not run.
                    queues[a].push(Queued {
                        remaining_ms: remaining_ms[order.0],
                        order,
                    });
                    self.emit(Event::BudgetExhausted {
                        message: message.clone(),
                        tokens: shared.spend.tokens.load(Ordering::Relaxed),
                        cost_usd: shared.spend.usd(),
                    })?;
                    budget_message = Some(message);
                    break;
                }
                let i = order.0;
                running += 1;
                running_per_agent[a] += 1;
                self.states[i].status = Status::Running;
                if self.states[i].started_at.is_none() {
                    self.states[i].started_at = Some(now_ms());
                }
                let inputs = self.inputs_of(i);
                let cached = if let Some(cache) = &cache {
                    cache.lookup(&plan.tasks[i].hash, &inputs_hash(&inputs))
                } else {
                    None
                };
                let first_attempt = self.states[i].attempts + 1;
                let handle = tokio::spawn(play(shared.clone(), i, inputs, first_attempt, cached));
                in_flight.insert(i, handle.abort_handle());
                if running_per_agent[a] < agent_limit[a]
                    && !queues[a].is_empty()
                    && !agent_waiting[a]
                {
                    waiting_agents.push_back(a);
                    agent_waiting[a] = true;
                }
            }
            // Durable before anything depends on it. The tasks dispatched
            // above were ready already: they do not depend on this batch,
            // so they need not wait for the sync. A batch that releases
            // nothing (attempts starting, failures) needs no sync of its
            // own: the next one covers it, the run's last at the latest,
            // and a crash before then loses only what a resume does again
            // anyway. (Every record is written at once, so killing the
            // process loses none.)
            if !released.is_empty() || !acks.is_empty() {
                self.journal
                    .sync()
                    .map_err(|e| journal_error(&self.journal, e))?;
                for ack in acks.drain(..) {
                    let _ = ack.send(());
                }
                for i in released.drain(..) {
                    for &d in &dependants[i] {
                        unmet[d] -= 1;
                        if unmet[d] == 0 && self.states[d].status == Status::Pending {
                            self.states[d].status = Status::Ready;
                            let a = agent_of[d];
                            queues[a].push(Queued {
                                remaining_ms: remaining_ms[d],
                                order: std::cmp::Reverse(d),
                            });
                            if !agent_waiting[a] && running_per_agent[a] < agent_limit[a] {
                                waiting_agents.push_back(a);
                                agent_waiting[a] = true;
                            }
                        }
                    }
                }
                continue;
            }
            // One approval question at a time.
            if !asking
                && !cancelled
                && let Some(i) = approvals.pop_front()
            {
                asking = true;
                let task = &plan.tasks[i];
                let question = format!(
                    "Approve the result of `{}` ({})? Its outputs are in {}",
                    task.id,
                    task.approve.as_deref().unwrap_or("approval"),
                    self.run.output(&task.id).display()
                );
                let tx = tx.clone();
                let progress = self.progress.clone();
                tokio::task::spawn_blocking(move || {
                    let approved = progress.ask(&question);
                    let _ = tx.send(Msg::Answer { task: i, approved });
                });
            }
            if running == 0 && !asking {
                break;
            }
            tokio::select! {
                msg = rx.recv() => {
                    let Some(msg) = msg else { break };
                    let mut next = Some(msg);
                    // Drain every report there is before syncing once.
                    while let Some(msg) = next {
                        match msg {
                            Msg::Event(event) => {
                                if let Event::AttemptStarted { task, attempt, .. } = &event
                                    && let Some(&i) = index.get(task.as_str())
                                {
                                    self.states[i].attempts = self.states[i].attempts.max(*attempt);
                                }
                                self.emit(event)?;
                            }
                            Msg::Finished(i, result) => {
                                in_flight.remove(&i);
                                running -= 1;
                                let a = agent_of[i];
                                running_per_agent[a] -= 1;
                                if !queues[a].is_empty() && !agent_waiting[a] {
                                    waiting_agents.push_back(a);
                                    agent_waiting[a] = true;
                                }
                                if self.finish(i, result, &dependants)? {
                                    released.push(i);
                                } else if self.states[i].status == Status::AwaitingApproval && self.interactive {
                                    approvals.push_back(i);
                                }
                            }
                            Msg::Durable(event, ack) => {
                                self.emit(event)?;
                                acks.push(ack);
                            }
                            Msg::Merged(i, Ok(())) => {
                                running -= 1;
                                self.succeed_after_approval(i)?;
                                released.push(i);
                            }
                            Msg::Merged(i, Err(message)) => {
                                running -= 1;
                                self.fail(i, FailureKind::Conflict, message, &dependants)?;
                            }
                            Msg::Answer { task: i, approved } => {
                                asking = false;
                                let by = whoami();
                                if approved {
                                    self.emit(Event::Approved { task: plan.tasks[i].id.clone(), by })?;
                                    match (&self.isolation, self.states[i].commit.clone()) {
                                        (Some(isolation), Some(commit)) => {
                                            // Merged off the loop; counts as running meanwhile.
                                            running += 1;
                                            let isolation = isolation.clone();
                                            let tx = tx.clone();
                                            let message = merge_message(&plan.tasks[i], &isolation.run_id);
                                            tokio::spawn(async move {
                                                let result = isolation.merge(commit, message).await;
                                                let _ = tx.send(Msg::Merged(i, result));
                                            });
                                        }
                                        _ => {
                                            self.succeed_after_approval(i)?;
                                            released.push(i);
                                        }
                                    }
                                } else {
                                    self.emit(Event::Rejected { task: plan.tasks[i].id.clone(), by: by.clone() })?;
                                    let message = format!("rejected by {by}");
                                    self.fail(i, FailureKind::Agent, message, &dependants)?;
                                }
                            }
                        }
                        next = rx.try_recv().ok();
                    }
                }
                _ = &mut ctrl_c, if !cancelled => {
                    cancelled = true;
                    let mut ids: Vec<String> = in_flight.keys().map(|&i| plan.tasks[i].id.clone()).collect();
                    ids.sort();
                    for (_, handle) in in_flight.drain() {
                        handle.abort();
                    }
                    self.progress.cancelled();
                    // Results sent before the abort are kept: no finished
                    // work is lost to a Ctrl-C.
                    while let Ok(msg) = rx.try_recv() {
                        match msg {
                            Msg::Event(event) => self.emit(event)?,
                            Msg::Finished(i, result @ TaskResult::Succeeded { .. }) => {
                                self.finish(i, result, &dependants)?;
                            }
                            Msg::Durable(event, _) => self.emit(event)?,
                            Msg::Finished(..) | Msg::Answer { .. } | Msg::Merged(..) => {}
                        }
                    }
                    for state in &mut self.states {
                        if state.status == Status::Running {
                            state.status = Status::Ready;
                        }
                    }
                    let ids: Vec<String> = ids.into_iter().filter(|id| self.states[index[id.as_str()]].status == Status::Ready).collect();
                    self.emit(Event::RunCancelled { in_flight: ids })?;
                    self.journal.sync().map_err(|e| journal_error(&self.journal, e))?;
                    // Aborted tasks never report; nothing more will come.
                    running = 0;
                    asking = false;
                }
            }
        }

        let status = if cancelled {
            RunStatus::Cancelled
        } else if self.states.iter().all(|s| s.status == Status::Done) {
            RunStatus::Succeeded
        } else if budget_message.is_some() {
            RunStatus::OverBudget
        } else if self
            .states
            .iter()
            .any(|s| matches!(s.status, Status::Failed | Status::Skipped))
        {
            RunStatus::Failed
        } else if self
            .states
            .iter()
            .any(|s| s.status == Status::AwaitingApproval)
        {
            RunStatus::Paused
        } else {
            RunStatus::Failed
        };
        let succeeded = self
            .states
            .iter()
            .filter(|s| s.status == Status::Done)
            .count();
        let failed = self
            .states
            .iter()
            .filter(|s| s.status == Status::Failed)
            .count();
        self.emit(Event::RunFinished {
            status,
            succeeded,
            failed,
            remaining: n - succeeded - failed,
        })?;
        self.journal
            .sync()
            .map_err(|e| journal_error(&self.journal, e))?;
        self.progress.finish();
        self.files.finish();
        Ok(Outcome {
            status,
            states: self.states,
            budget_message,
            wall: started.elapsed(),
        })
    }

    /// Journals an event (not yet synced) and shows it.
    fn emit(&mut self, event: Event) -> Result<(), String> {
        let record = Record {
            at: now_ms(),
            event,
        };
        self.journal
            .append(&record)
            .map_err(|e| journal_error(&self.journal, e))?;
        self.progress.record(&record, self.journal.last_line());
        Ok(())
    }

    /// The input values of task `i` (its dependencies are done).
    fn inputs_of(&self, i: usize) -> BTreeMap<String, Value> {
        let plan = &self.plan;
        let task = &plan.tasks[i];
        task.inputs
            .iter()
            .map(|(name, input)| {
                let value = value_of(input, &self.score_inputs, |dep| {
                    self.index
                        .get(dep)
                        .and_then(|&d| self.states[d].outputs.as_deref())
                });
                (name.clone(), value)
            })
            .collect()
    }

    /// Records a task's result. Returns whether it is done (its dependants
    /// may start once the journal is synced).
    fn finish(
        &mut self,
        i: usize,
        result: TaskResult,
        dependants: &[Vec<usize>],
    ) -> Result<bool, String> {
        let plan = self.plan.clone();
        let task = &plan.tasks[i];
        match result {
            TaskResult::Succeeded {
                outputs,
                inputs_hash,
                attempts,
                usage,
                cost,
                duration_ms,
                cached_from,
                commit,
            } => {
                let state = &mut self.states[i];
                state.commit = commit.clone();
                state.usage += usage;
                state.cost_usd += cost;
                state.duration_ms = duration_ms;
                state.cached_from = cached_from.clone();
                state.outputs = Some(Arc::new(outputs.clone()));
                // A convenience copy; the journal holds the outputs too.
                self.files
                    .write(self.run.output(&task.id), outputs_file(&outputs));
                if let (Some(approver), None, false) =
                    (&task.approve, &cached_from, self.approvals_elsewhere)
                {
                    state.status = Status::AwaitingApproval;
                    let (tokens_in, tokens_out, cost_usd) = (
                        state.usage.input_tokens,
                        state.usage.output_tokens,
                        state.cost_usd,
                    );
                    self.emit(Event::ApprovalRequested {
                        task: task.id.clone(),
                        hash: task.hash.clone(),
                        inputs_hash,
                        approver: approver.clone(),
                        outputs,
                        commit: commit.clone(),
                        attempts,
                        tokens_in,
                        tokens_out,
                        cost_usd,
                        duration_ms,
                    })?;
                    return Ok(false);
                }
                state.status = Status::Done;
                state.finished_at = Some(now_ms());
                let (tokens_in, tokens_out, cost_usd) = (
                    state.usage.input_tokens,
                    state.usage.output_tokens,
                    state.cost_usd,
                );
                let attempts_total = state.attempts;
                self.emit(Event::TaskSucceeded {
                    task: task.id.clone(),
                    hash: task.hash.clone(),
                    inputs_hash: inputs_hash.clone(),
                    outputs: outputs.clone(),
                    attempts: if cached_from.is_some() {
                        0
                    } else {
                        attempts.max(attempts_total)
                    },
                    tokens_in,
                    tokens_out,
                    cost_usd,
                    duration_ms,
                    cached_from: cached_from.clone(),
                    commit: commit.clone(),
                })?;
                if cached_from.is_none() {
                    self.remember(i, &inputs_hash, &outputs, commit.as_deref());
                }
                Ok(true)
            }
            TaskResult::Failed {
                kind,
                message,
                usage,
                cost,
                duration_ms,
            } => {
                let state = &mut self.states[i];
                state.usage += usage;
                state.cost_usd += cost;
                state.duration_ms = duration_ms;
                self.fail(i, kind, message, dependants)?;
                Ok(false)
            }
        }
    }

    /// Task `i` failed: journal it and skip everything downstream.
    fn fail(
        &mut self,
        i: usize,
        kind: FailureKind,
        message: String,
        dependants: &[Vec<usize>],
    ) -> Result<(), String> {
        let plan = self.plan.clone();
        let task = &plan.tasks[i];
        self.states[i].status = Status::Failed;
        self.states[i].finished_at = Some(now_ms());
        self.states[i].failure = Some((kind, message.clone()));
        self.emit(Event::TaskFailed {
            task: task.id.clone(),
            hash: task.hash.clone(),
            attempts: self.states[i].attempts,
            kind,
            message,
        })?;
        let mut stack: Vec<(usize, usize)> = dependants[i].iter().map(|&d| (d, i)).collect();
        while let Some((d, because)) = stack.pop() {
            if matches!(self.states[d].status, Status::Pending | Status::Ready) {
                self.states[d].status = Status::Skipped;
                let reason = format!(
                    "it needs `{}`, which {}",
                    plan.tasks[because].id,
                    if because == i {
                        "failed"
                    } else {
                        "was skipped"
                    }
                );
                self.emit(Event::TaskSkipped {
                    task: plan.tasks[d].id.clone(),
                    reason,
                })?;
                stack.extend(dependants[d].iter().map(|&x| (x, d)));
            }
        }
        Ok(())
    }

    /// An approved task becomes done.
    fn succeed_after_approval(&mut self, i: usize) -> Result<(), String> {
        let plan = self.plan.clone();
        let task = &plan.tasks[i];
        let outputs = self.states[i]
            .outputs
            .as_deref()
            .cloned()
            .unwrap_or(Value::Null);
        let inputs_hash = inputs_hash(&self.inputs_of(i));
        let state = &mut self.states[i];
        state.status = Status::Done;
        state.finished_at = Some(now_ms());
        let event = Event::TaskSucceeded {
            task: task.id.clone(),
            hash: task.hash.clone(),
            inputs_hash: inputs_hash.clone(),
            outputs: outputs.clone(),
            attempts: state.attempts,
            tokens_in: state.usage.input_tokens,
            tokens_out: state.usage.output_tokens,
            cost_usd: state.cost_usd,
            duration_ms: state.duration_ms,
            cached_from: None,
            commit: state.commit.clone(),
        };
        let commit = state.commit.clone();
        self.emit(event)?;
        self.remember(i, &inputs_hash, &outputs, commit.as_deref());
        Ok(())
    }

    /// Puts a task's accepted result in the cache for later runs.
    fn remember(&self, i: usize, inputs_hash: &str, outputs: &Value, commit: Option<&str>) {
        let task = &self.plan.tasks[i];
        let worktree =
            self.isolation.is_some() && needs_worktree(task, &self.plan.agents[&task.agent]);
        let (path, bytes) = CacheEntry {
            hash: &task.hash,
            inputs_hash,
            run: &self.run.id,
            task: &task.id,
            outputs,
            commit,
            worktree,
        }
        .encode(&self.cache_dir);
        self.files.append(path, bytes);
    }
}

fn journal_error(journal: &Journal, e: std::io::Error) -> String {
    format!(
        "cannot write the journal `{}`: {e}; the run stopped so that no work goes unrecorded",
        journal.path().display()
    )
}

/// Resolves on Ctrl-C or SIGTERM.
async fn cancel_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Who approves on this terminal.
fn whoami() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "the terminal".into())
}

/// One task, from dispatch to result: its attempts, each verified, with
/// feedback on retries. A cached result is re-verified by its checks
/// instead of being played again.
async fn play(
    shared: Arc<Shared>,
    i: usize,
    inputs: BTreeMap<String, Value>,
    first_attempt: u32,
    cached: Option<Cached>,
) {
    let result = attempts(&shared, i, &inputs, first_attempt, cached).await;
    let _ = shared.tx.send(Msg::Finished(i, result));
}

async fn attempts(
    shared: &Shared,
    i: usize,
    inputs: &BTreeMap<String, Value>,
    first_attempt: u32,
    cached: Option<Cached>,
) -> TaskResult {
    let plan = &shared.plan;
    let task = &plan.tasks[i];
    let agent = &plan.agents[&task.agent];
    let inputs_hash = inputs_hash(inputs);
    let started = Instant::now();
    let failed = |kind: FailureKind, message: String| TaskResult::Failed {
        kind,
        message,
        usage: Usage::default(),
        cost: 0.0,
        duration_ms: started.elapsed().as_millis() as u64,
    };
    let isolation = shared
        .isolation
        .as_deref()
        .filter(|_| needs_worktree(task, agent));

    if let Some(cached) = cached
        && let Some(result) = reuse(shared, task, isolation, cached, &inputs_hash, started).await
    {
        return result;
    }

    let Some(performer) = shared.performers.get(&task.agent) else {
        return failed(
            FailureKind::Setup,
            format!("no performer for agent `{}`", task.agent),
        );
    };
    let worktree = match isolation {
        Some(isolation) => match isolation.worktree(&task.id).await {
            Ok(worktree) => Some(worktree),
            Err(e) => return failed(FailureKind::Setup, e),
        },
        None => None,
    };
    let cwd = match (isolation, &worktree) {
        (Some(isolation), Some(worktree)) => isolation.cwd(worktree),
        _ => shared.workspace.clone(),
    };
    let edits = isolation.is_some() && writes_through_edits(task, agent);
    let writes_prompt_file = !matches!(agent.provider, Provider::Mock { .. });
    // What the agent reported it cost, else its tokens at its prices.
    let price = |usage: Usage| {
        usage.cost_usd.unwrap_or_else(|| {
            usage.input_tokens as f64 * agent.price_in.unwrap_or(0.0) / 1e6
                + usage.output_tokens as f64 * agent.price_out.unwrap_or(0.0) / 1e6
        })
    };
    // The part's contract, for a program that reads it from a file in the
    // part's own checkout (never written into a person's working tree).
    let contract = (worktree.is_some() && matches!(agent.provider, Provider::Command { .. }))
        .then(|| Arc::<str>::from(super::instructions::contract(task, inputs)));
    let mut base_prompt = fill_prompt(task, inputs);
    let mut result_schema: Value = (*task.result_schema).clone();
    if edits {
        // An HTTP agent writes files through its answer: an `edits` list
        // beside the outputs, which the runtime applies in the worktree.
        if let Some(edits_list) = crate::workspace::edits_schema()
            .get("properties")
            .and_then(|p| p.get("edits"))
            .cloned()
            && let Some(object) = result_schema.as_object_mut()
        {
            if let Some(Value::Object(properties)) = object.get_mut("properties") {
                properties.insert("edits".into(), edits_list);
            }
            if let Some(Value::Array(required)) = object.get_mut("required") {
                required.push(Value::String("edits".into()));
            } else {
                object.insert("required".into(), serde_json::json!(["edits"]));
            }
        }
        base_prompt.push_str("\n\n## Writing files\n\n");
        base_prompt.push_str(crate::workspace::EDITS_INSTRUCTIONS);
        base_prompt.push_str(
            "\nPut the list in the `edits` property of the JSON object you return, beside the outputs.\n",
        );
    }
    let allowed = task.retries + 1;
    let last_attempt = first_attempt + task.retries;
    let mut prompt_feedback = String::new();
    let mut total_usage = Usage::default();
    let mut total_cost = 0.0;
    let mut last: (FailureKind, String) = (FailureKind::Agent, String::new());
    let seed_base = u64::from_str_radix(&task.hash[..task.hash.len().min(16)], 16).unwrap_or(0);
    let log_prefix =
        |attempt: u32, what: &str| shared.logs.join(format!("{}.{attempt}.{what}", task.id));

    for attempt in first_attempt..=last_attempt {
        let nth = attempt - first_attempt + 1;
        // Budgets: the score's (shared) and the part's own.
        let over = plan
            .score
            .budget
            .as_ref()
            .and_then(|b| shared.spend.refuses(b))
            .or_else(|| {
                part_budget_refuses(task.budget.as_ref(), total_usage, total_cost, nth - 1)
            });
        if let Some(message) = over {
            last = (FailureKind::Budget, message);
            break;
        }
        let files = AttemptFiles::new(&shared.logs, &task.id, attempt);
        let prompt = format!("{base_prompt}{prompt_feedback}");
        if writes_prompt_file && let Err(e) = std::fs::write(&files.prompt, &prompt) {
            last = (
                FailureKind::Setup,
                format!(
                    "cannot write the prompt file `{}`: {e}",
                    files.prompt.display()
                ),
            );
            break;
        }
        let _ = shared.tx.send(Msg::Event(Event::AttemptStarted {
            task: task.id.clone(),
            attempt,
            agent: task.agent.clone(),
            hash: task.hash.clone(),
        }));
        let request = AttemptRequest {
            task: task.id.clone(),
            attempt,
            prompt,
            result_schema: result_schema.clone(),
            has_outputs: !task.outputs.is_empty() || edits,
            workspace: cwd.clone(),
            files,
            timeout: Duration::from_millis(task.timeout_ms),
            seed: super::journal::splitmix(seed_base ^ u64::from(attempt)),
            contract: contract.clone(),
            budget_usd: budget_left_usd(
                plan.score.budget.as_ref(),
                shared.spend.usd(),
                task.budget.as_ref(),
                total_cost,
            ),
        };
        let attempt_started = Instant::now();
        let reply = tokio::time::timeout(request.timeout, performer.perform(&request)).await;
        let mut usage = Usage::default();
        let mut failure: Option<(FailureKind, String)> = None;
        let mut accepted: Option<Value> = None;
        match reply {
            Err(_) => {
                failure = Some((
                    FailureKind::Timeout,
                    format!(
                        "the attempt did not finish within the part's timeout of {} and was stopped",
                        crate::plan::format_duration(task.timeout_ms)
                    ),
                ))
            }
            Ok(Err(AgentError::Setup { message })) => {
                last = (FailureKind::Setup, message);
                journal_attempt_failed(shared, task, attempt, &last, usage, 0.0, attempt_started);
                break;
            }
            Ok(Err(AgentError::Transport { message })) => {
                last = (FailureKind::Transport, message);
                journal_attempt_failed(shared, task, attempt, &last, usage, 0.0, attempt_started);
                break;
            }
            Ok(Err(AgentError::Failed { message, usage: u })) => {
                usage = u;
                failure = Some((FailureKind::Agent, message));
            }
            Ok(Ok(reply)) => {
                usage = reply.usage;
                match reply.result {
                    Err(why) => failure = Some((FailureKind::InvalidOutput, why)),
                    Ok(mut value) => {
                        if let (true, Some(isolation), Some(worktree)) =
                            (edits, isolation, &worktree)
                        {
                            let list = value
                                .as_object_mut()
                                .and_then(|o| o.remove("edits"))
                                .unwrap_or(Value::Array(Vec::new()));
                            match crate::workspace::parse_edits(
                                &serde_json::json!({ "edits": list }),
                            ) {
                                Err(e) => {
                                    failure = Some((FailureKind::InvalidOutput, e.to_string()))
                                }
                                Ok(list) => {
                                    if let Err(e) = isolation.apply_edits(worktree, list).await {
                                        failure = Some((FailureKind::InvalidOutput, e));
                                    }
                                }
                            }
                        }
                        if failure.is_none() {
                            accepted = Some(value);
                        }
                    }
                }
            }
        }
        // What the attempt changed outside its boundary is undone, whatever
        // else happened: the next attempt starts from the part's own work.
        if let (Some(isolation), Some(worktree)) = (isolation, &worktree) {
            match isolation.enforce(worktree, &task.owns).await {
                Ok(None) => {}
                Ok(Some((_, feedback))) => {
                    accepted = None;
                    let message = match failure.take() {
                        Some((_, other)) => format!("{feedback}\nBesides: {other}"),
                        None => feedback,
                    };
                    failure = Some((FailureKind::Boundary, message));
                }
                Err(e) => {
                    last = (FailureKind::Setup, e);
                    break;
                }
            }
        }
        if let Some(value) = accepted {
            match shared.validators.validate(&task.result_schema, &value) {
                Err(why) => failure = Some((FailureKind::InvalidOutput, why)),
                Ok(()) => {
                    for (k, check) in task.checks.iter().enumerate() {
                        let outcome = run_check(
                            check,
                            &cwd,
                            &log_prefix(attempt, &format!("check-{}", k + 1)),
                        )
                        .await;
                        if !outcome.passed {
                            failure = Some((FailureKind::Check, outcome.message));
                            break;
                        }
                    }
                    // What the checks wrote outside the boundary (test
                    // reports, caches not in .gitignore) is not the part's
                    // work: undone before the commit.
                    if failure.is_none()
                        && let (Some(isolation), Some(worktree)) = (isolation, &worktree)
                        && let Err(e) = isolation.enforce(worktree, &task.owns).await
                    {
                        failure = Some((FailureKind::Setup, e));
                    }
                    if failure.is_none() {
                        let cost = price(usage);
                        shared.spend.add(usage, cost);
                        total_usage += usage;
                        total_cost += cost;
                        let mut result = TaskResult::Succeeded {
                            outputs: value,
                            inputs_hash: inputs_hash.clone(),
                            attempts: attempt,
                            usage: total_usage,
                            cost: total_cost,
                            duration_ms: started.elapsed().as_millis() as u64,
                            cached_from: None,
                            commit: None,
                        };
                        if let (Some(isolation), Some(worktree)) = (isolation, worktree) {
                            result = land(shared, isolation, task, worktree, result).await;
                        }
                        return result;
                    }
                }
            }
        }
        let cost = price(usage);
        shared.spend.add(usage, cost);
        total_usage += usage;
        total_cost += cost;
        if let Some(failure) = failure {
            journal_attempt_failed(
                shared,
                task,
                attempt,
                &failure,
                usage,
                cost,
                attempt_started,
            );
            prompt_feedback = feedback(nth, allowed, &failure.1);
            last = failure;
        }
    }
    TaskResult::Failed {
        kind: last.0,
        message: last.1,
        usage: total_usage,
        cost: total_cost,
        duration_ms: started.elapsed().as_millis() as u64,
    }
}

/// A verified result's work goes home: committed in the worktree, journaled
/// (durably) as committed, then merged into the integration branch. A part
/// that waits for an approval is merged only once approved.
async fn land(
    shared: &Shared,
    isolation: &Isolation,
    task: &crate::plan::Task,
    worktree: crate::workspace::Worktree,
    mut result: TaskResult,
) -> TaskResult {
    let message = commit_message(task, &isolation.run_id);
    let commit = match isolation.commit(&worktree, message.clone()).await {
        Ok(commit) => commit,
        Err(e) => {
            return TaskResult::Failed {
                kind: FailureKind::Setup,
                message: format!("cannot commit the part's work: {e}"),
                usage: Usage::default(),
                cost: 0.0,
                duration_ms: 0,
            };
        }
    };
    if let TaskResult::Succeeded {
        outputs,
        inputs_hash,
        attempts,
        usage,
        cost,
        duration_ms,
        commit: slot,
        ..
    } = &mut result
    {
        *slot = commit.clone();
        let waits = task.approve.is_some() && !shared.approvals_elsewhere;
        if let (Some(commit), false) = (&commit, waits) {
            let committed = Event::TaskCommitted {
                task: task.id.clone(),
                hash: task.hash.clone(),
                inputs_hash: inputs_hash.clone(),
                commit: commit.clone(),
                outputs: outputs.clone(),
                attempts: *attempts,
                tokens_in: usage.input_tokens,
                tokens_out: usage.output_tokens,
                cost_usd: *cost,
                duration_ms: *duration_ms,
            };
            let (ack, durable) = tokio::sync::oneshot::channel();
            let _ = shared.tx.send(Msg::Durable(committed, ack));
            // Merge only once the commit is on record: a crash from here
            // on is recovered by merging it, never by playing the part again.
            if durable.await.is_err() {
                return TaskResult::Failed {
                    kind: FailureKind::Setup,
                    message: "the run stopped before the part's commit could be journaled".into(),
                    usage: *usage,
                    cost: *cost,
                    duration_ms: *duration_ms,
                };
            }
            if let Err(e) = isolation
                .merge(commit.clone(), merge_message(task, &isolation.run_id))
                .await
            {
                return TaskResult::Failed {
                    kind: FailureKind::Conflict,
                    message: e,
                    usage: *usage,
                    cost: *cost,
                    duration_ms: *duration_ms,
                };
            }
        }
    }
    isolation.release(worktree).await;
    result
}

/// The message of the merge commit of a part into the integration branch.
pub fn merge_message(task: &crate::plan::Task, run_id: &str) -> String {
    crate::workspace::merge_message(run_id, &task.id)
}

/// A cached result, reused when it still holds: with a worktree, its
/// commit is merged into this run's integration branch; without one, its
/// checks must pass again. `None`: play the task.
async fn reuse(
    shared: &Shared,
    task: &crate::plan::Task,
    isolation: Option<&Isolation>,
    cached: Cached,
    inputs_hash: &str,
    started: Instant,
) -> Option<TaskResult> {
    shared
        .validators
        .validate(&task.result_schema, &cached.outputs)
        .ok()?;
    match isolation {
        Some(isolation) => {
            if let Some(commit) = &cached.commit {
                isolation
                    .merge(commit.clone(), merge_message(task, &isolation.run_id))
                    .await
                    .ok()?;
            } else if !cached.worktree && !task.owns.is_empty() {
                // It ran in place: its files are in no commit this run's
                // branch could take. Play it.
                return None;
            }
        }
        None => {
            for (k, check) in task.checks.iter().enumerate() {
                let log = shared
                    .logs
                    .join(format!("{}.cache-check-{}", task.id, k + 1));
                if !run_check(check, &shared.workspace, &log).await.passed {
                    return None;
                }
            }
        }
    }
    Some(TaskResult::Succeeded {
        outputs: cached.outputs,
        inputs_hash: inputs_hash.to_string(),
        attempts: 0,
        usage: Usage::default(),
        cost: 0.0,
        duration_ms: started.elapsed().as_millis() as u64,
        cached_from: Some(cached.run),
        commit: cached.commit,
    })
}

fn journal_attempt_failed(
    shared: &Shared,
    task: &crate::plan::Task,
    attempt: u32,
    failure: &(FailureKind, String),
    usage: Usage,
    cost: f64,
    started: Instant,
) {
    let _ = shared.tx.send(Msg::Event(Event::AttemptFailed {
        task: task.id.clone(),
        attempt,
        kind: failure.0,
        message: failure.1.clone(),
        tokens_in: usage.input_tokens,
        tokens_out: usage.output_tokens,
        cost_usd: cost,
        duration_ms: started.elapsed().as_millis() as u64,
    }));
}

/// What is left of the score's and the part's money budgets (the smaller),
/// for an agent that can stop itself at a budget; `None` without one.
fn budget_left_usd(
    score: Option<&Budget>,
    score_spent: f64,
    part: Option<&Budget>,
    part_spent: f64,
) -> Option<f64> {
    let score = score.and_then(|b| b.usd).map(|usd| usd - score_spent);
    let part = part.and_then(|b| b.usd).map(|usd| usd - part_spent);
    match (score, part) {
        (Some(a), Some(b)) => Some(a.min(b).max(0.0)),
        (a, b) => a.or(b).map(|usd| usd.max(0.0)),
    }
}

/// Why the part's own budget refuses another attempt: what it spent plus
/// what its attempts have cost on average.
fn part_budget_refuses(
    budget: Option<&Budget>,
    usage: Usage,
    cost: f64,
    attempts: u32,
) -> Option<String> {
    let budget = budget?;
    let n = u64::from(attempts.max(1));
    if let Some(limit) = budget.tokens {
        let spent = usage.total();
        if spent >= limit || (attempts > 0 && spent + spent / n > limit) {
            return Some(format!(
                "the part's budget of {} tokens would be exceeded: {} spent over {attempts} attempt(s)",
                crate::plan::group_thousands(limit),
                crate::plan::group_thousands(spent)
            ));
        }
    }
    if let Some(limit) = budget.usd
        && (cost >= limit || (attempts > 0 && cost + cost / n as f64 > limit))
    {
        return Some(format!(
            "the part's budget of ${limit:.2} would be exceeded: ${cost:.4} spent over {attempts} attempt(s)"
        ));
    }
    None
}
