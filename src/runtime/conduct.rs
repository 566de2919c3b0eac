//! The conductor: the one loop that owns the run's state and does its I/O.
//! It asks the scheduler (`scheduler.rs`, pure) what to do next and does
//! it: dispatches tasks, syncs the journal, asks for approvals; and tells
//! the scheduler what happened: results, answers, merges, Ctrl-C.
//!
//! Each dispatched task is a tokio task of its own (`attempt::play`) that
//! runs its attempts (agent, validation, checks, feedback and retries) and
//! reports back over a channel. The conductor never polls: it sleeps until
//! a report (or Ctrl-C) arrives, drains every report there is, journals
//! them, makes the journal durable once, and only then releases their
//! dependants (tasks ready already are dispatched before that sync).
//!
//! Scheduling is O(log n) per task (see `scheduler.rs`): a task enters its
//! agent's ready queue exactly once, when its last dependency is released,
//! and nothing ever walks the waiting tasks.

use super::agent::{Performer, Usage};
use super::attempt::play;
use super::files::{Cache, CacheEntry, FileWriter, outputs_file};
use super::inputs::{inputs_hash, value_of};
use super::isolation::{Isolation, needs_checkout};
use super::journal::{CacheChecks, Event, FailureKind, Journal, Record, RunDir, RunStatus, now_ms};
use super::progress::Progress;
pub use super::scheduler::Status;
use super::scheduler::{Answer, Dag, Limits, Scheduler, Settled, Skip, Step};
use super::verify::Validators;
use crate::plan::{Budget, Plan};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// What the run knows about one task (for the report too).
#[derive(Clone, Debug)]
pub struct TaskState {
    /// At the start (done or awaiting approval when resumed) and at the
    /// end of the run; in between the scheduler keeps it.
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
    /// The commit of its work (in a checkout), merged or waiting for an
    /// approval to be merged.
    pub commit: Option<String>,
    /// A cached result: what was verified of it before it was reused.
    pub cache_checks: Option<CacheChecks>,
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
            cache_checks: None,
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
    /// `--trust-cache`: reuse cached results without running their checks
    /// again.
    pub trust_cache: bool,
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
    /// The boundary of the programs it starts, and the run's redactor.
    pub sandbox: Arc<super::sandbox::Policy>,
    /// Approvals are answered on the live page (`score run --ui`), not on
    /// the terminal: the run waits for them there.
    pub page_approvals: Option<Arc<super::approvals::ApprovalDesk>>,
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
pub(super) struct Spend {
    tokens: AtomicU64,
    micro_usd: AtomicU64,
    attempts: AtomicU64,
}

impl Spend {
    pub(super) fn add(&self, usage: Usage, cost: f64) {
        self.tokens.fetch_add(usage.total(), Ordering::Relaxed);
        self.micro_usd
            .fetch_add((cost * 1e6).round() as u64, Ordering::Relaxed);
        self.attempts.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn usd(&self) -> f64 {
        self.micro_usd.load(Ordering::Relaxed) as f64 / 1e6
    }

    /// Why another attempt would break `budget`, if it would: the spend so
    /// far plus what an attempt has cost on average.
    pub(super) fn refuses(&self, budget: &Budget) -> Option<String> {
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
pub(super) struct Shared {
    pub(super) plan: Arc<Plan>,
    pub(super) performers: HashMap<String, Arc<dyn Performer>>,
    pub(super) workspace: PathBuf,
    pub(super) logs: PathBuf,
    pub(super) validators: Validators,
    pub(super) spend: Spend,
    pub(super) tx: mpsc::UnboundedSender<Msg>,
    pub(super) isolation: Option<Arc<Isolation>>,
    pub(super) approvals_elsewhere: bool,
    pub(super) sandbox: Arc<super::sandbox::Policy>,
    /// `--trust-cache`.
    pub(super) trust_cache: bool,
}

/// A report from a task in flight.
pub(super) enum Msg {
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

/// How a task in flight ended.
pub(super) enum TaskResult {
    Succeeded {
        outputs: Value,
        inputs_hash: String,
        attempts: u32,
        usage: Usage,
        cost: f64,
        duration_ms: u64,
        cached_from: Option<String>,
        commit: Option<String>,
        /// A cached result: what was verified of it.
        cache_checks: Option<CacheChecks>,
    },
    Failed {
        kind: FailureKind,
        message: String,
        usage: Usage,
        cost: f64,
        duration_ms: u64,
    },
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
        let mut scheduler = Scheduler::new(
            Dag::of_plan(&plan),
            Limits::of_plan(&plan, self.jobs),
            self.states.iter().map(|s| s.status).collect(),
            self.interactive || self.page_approvals.is_some(),
        );

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
            sandbox: self.sandbox.clone(),
            trust_cache: self.trust_cache,
        });
        // Spending of earlier invocations of this run counts.
        for state in &self.states {
            if state.usage.total() > 0 || state.cost_usd > 0.0 {
                shared.spend.add(state.usage, state.cost_usd);
            }
        }

        let cache = self.use_cache.then(|| Cache::open(&self.cache_dir));
        let ctrl_c = cancel_signal();
        tokio::pin!(ctrl_c);
        let mut in_flight: HashMap<usize, tokio::task::AbortHandle> = HashMap::new();
        let mut budget_message: Option<String> = None;
        // Senders waiting for their records to be durable: answered once
        // the journal is synced.
        let mut acks: Vec<tokio::sync::oneshot::Sender<()>> = Vec::new();

        let status = loop {
            match scheduler.next_step() {
                Step::Dispatch(i) => {
                    if let Some(budget) = &plan.score.budget
                        && let Some(message) = shared.spend.refuses(budget)
                    {
                        // Put it back: it did not run.
                        scheduler.budget_refused(i);
                        self.emit(Event::BudgetExhausted {
                            message: message.clone(),
                            tokens: shared.spend.tokens.load(Ordering::Relaxed),
                            cost_usd: shared.spend.usd(),
                        })?;
                        budget_message = Some(message);
                        continue;
                    }
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
                    let handle =
                        tokio::spawn(play(shared.clone(), i, inputs, first_attempt, cached));
                    in_flight.insert(i, handle.abort_handle());
                }
                // Durable before anything depends on it. The scheduler
                // dispatches the tasks that were ready already first: they
                // do not depend on this batch, so they need not wait for
                // the sync. A batch that releases nothing (attempts
                // starting, failures) needs no sync of its own: the next
                // one covers it, the run's last at the latest, and a crash
                // before then loses only what a resume does again anyway.
                // (Every record is written at once, so killing the process
                // loses none.)
                Step::Sync => {
                    self.journal
                        .sync()
                        .map_err(|e| journal_error(&self.journal, e))?;
                    for ack in acks.drain(..) {
                        let _ = ack.send(());
                    }
                    scheduler.synced();
                }
                // One approval question at a time.
                Step::Ask(i) if self.page_approvals.is_some() => {
                    let desk = self.page_approvals.clone().expect("checked");
                    let answer = desk.ask(&plan.tasks[i].id);
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        // The desk lives as long as the run: a dropped
                        // question is never answered, and the run waits
                        // (Ctrl-C still stops it).
                        if let Ok(approved) = answer.await {
                            let _ = tx.send(Msg::Answer { task: i, approved });
                        }
                    });
                }
                Step::Ask(i) => {
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
                Step::Finish(status) => break status,
                Step::Wait => tokio::select! {
                    msg = rx.recv() => {
                        let Some(msg) = msg else { break scheduler.run_status() };
                        let mut next = Some(msg);
                        // Drain every report there is before syncing once.
                        while let Some(msg) = next {
                            self.handle(msg, &mut scheduler, &mut in_flight, &mut acks, &tx)?;
                            next = rx.try_recv().ok();
                        }
                    }
                    _ = &mut ctrl_c, if !scheduler.is_cancelled() => {
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
                                    let settled = self.record(i, result)?;
                                    scheduler.finished(i, settled);
                                }
                                Msg::Durable(event, _) => self.emit(event)?,
                                Msg::Finished(..) | Msg::Answer { .. } | Msg::Merged(..) => {}
                            }
                        }
                        // Aborted tasks never report; nothing more will come.
                        let mut ids: Vec<String> = scheduler
                            .cancel()
                            .into_iter()
                            .map(|i| plan.tasks[i].id.clone())
                            .collect();
                        ids.sort();
                        self.emit(Event::RunCancelled { in_flight: ids })?;
                        self.journal.sync().map_err(|e| journal_error(&self.journal, e))?;
                    }
                },
            }
        };

        for (state, &status) in self.states.iter_mut().zip(scheduler.statuses()) {
            state.status = status;
        }
        let succeeded = scheduler.count(Status::Done);
        let failed = scheduler.count(Status::Failed);
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

    /// One report from a task in flight (or from an approval question, or
    /// a merge after one): journaled, and told to the scheduler.
    fn handle(
        &mut self,
        msg: Msg,
        scheduler: &mut Scheduler,
        in_flight: &mut HashMap<usize, tokio::task::AbortHandle>,
        acks: &mut Vec<tokio::sync::oneshot::Sender<()>>,
        tx: &mpsc::UnboundedSender<Msg>,
    ) -> Result<(), String> {
        match msg {
            Msg::Event(event) => {
                if let Event::AttemptStarted { task, attempt, .. } = &event
                    && let Some(&i) = self.index.get(task.as_str())
                {
                    self.states[i].attempts = self.states[i].attempts.max(*attempt);
                }
                self.emit(event)?;
            }
            Msg::Finished(i, result) => {
                in_flight.remove(&i);
                let settled = self.record(i, result)?;
                let skips = scheduler.finished(i, settled);
                self.skip(&skips)?;
            }
            Msg::Durable(event, ack) => {
                self.emit(event)?;
                acks.push(ack);
                scheduler.durable();
            }
            Msg::Merged(i, Ok(())) => {
                self.succeed_after_approval(i)?;
                scheduler.merged(i, true);
            }
            Msg::Merged(i, Err(message)) => {
                self.fail(i, FailureKind::Conflict, message)?;
                let skips = scheduler.merged(i, false);
                self.skip(&skips)?;
            }
            Msg::Answer { task: i, approved } => {
                let plan = self.plan.clone();
                let by = whoami();
                if approved {
                    self.emit(Event::Approved {
                        task: plan.tasks[i].id.clone(),
                        by,
                    })?;
                    match (&self.isolation, self.states[i].commit.clone()) {
                        (Some(isolation), Some(commit)) => {
                            // Merged off the loop; holds a slot meanwhile.
                            scheduler.answered(i, Answer::Approved { merge_first: true });
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
                            scheduler.answered(i, Answer::Approved { merge_first: false });
                        }
                    }
                } else {
                    self.emit(Event::Rejected {
                        task: plan.tasks[i].id.clone(),
                        by: by.clone(),
                    })?;
                    let message = format!("rejected by {by}");
                    self.fail(i, FailureKind::Agent, message)?;
                    let skips = scheduler.answered(i, Answer::Rejected);
                    self.skip(&skips)?;
                }
            }
        }
        Ok(())
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

    /// Records (and journals) a task's result. Returns how it settled: done
    /// (its dependants may start once the journal is synced), awaiting an
    /// approval, or failed.
    fn record(&mut self, i: usize, result: TaskResult) -> Result<Settled, String> {
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
                cache_checks,
            } => {
                let state = &mut self.states[i];
                state.commit = commit.clone();
                state.cache_checks = cache_checks;
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
                    return Ok(Settled::AwaitingApproval);
                }
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
                    cache_checks,
                })?;
                if cached_from.is_none() {
                    self.remember(i, &inputs_hash, &outputs, commit.as_deref());
                }
                Ok(Settled::Done)
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
                self.fail(i, kind, message)?;
                Ok(Settled::Failed)
            }
        }
    }

    /// Task `i` failed: journal it (the scheduler says what it skips).
    fn fail(&mut self, i: usize, kind: FailureKind, message: String) -> Result<(), String> {
        let plan = self.plan.clone();
        let task = &plan.tasks[i];
        self.states[i].finished_at = Some(now_ms());
        self.states[i].failure = Some((kind, message.clone()));
        self.emit(Event::TaskFailed {
            task: task.id.clone(),
            hash: task.hash.clone(),
            attempts: self.states[i].attempts,
            kind,
            message,
        })?;
        Ok(())
    }

    /// Journals the tasks the scheduler skipped, each with the reason.
    fn skip(&mut self, skips: &[Skip]) -> Result<(), String> {
        let plan = self.plan.clone();
        for skip in skips {
            let reason = format!(
                "it needs `{}`, which {}",
                plan.tasks[skip.needs].id,
                if skip.needs_status == Status::Failed {
                    "failed"
                } else {
                    "was skipped"
                }
            );
            self.emit(Event::TaskSkipped {
                task: plan.tasks[skip.task].id.clone(),
                reason,
            })?;
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
            cache_checks: None,
        };
        let commit = state.commit.clone();
        self.emit(event)?;
        self.remember(i, &inputs_hash, &outputs, commit.as_deref());
        Ok(())
    }

    /// Puts a task's accepted result in the cache for later runs. The
    /// entry (with the hashes of the part's fields and of its input
    /// values) is made on the file writer's thread, off this loop.
    fn remember(&self, i: usize, inputs_hash: &str, outputs: &Value, commit: Option<&str>) {
        let task = &self.plan.tasks[i];
        let worktree =
            self.isolation.is_some() && needs_checkout(task, &self.plan.agents[&task.agent]);
        let plan = self.plan.clone();
        let inputs = self.inputs_of(i);
        let (inputs_hash, outputs, commit) = (
            inputs_hash.to_string(),
            outputs.clone(),
            commit.map(str::to_string),
        );
        let (run, dir) = (self.run.id.clone(), self.cache_dir.clone());
        let path = dir.join(super::files::CACHE_FILE);
        self.files.append_made(path, move || {
            let task = &plan.tasks[i];
            let fields = super::preview::field_hashes(task, plan.agents.get(&task.agent));
            let inputs = super::preview::input_hashes(&inputs);
            CacheEntry {
                hash: &task.hash,
                inputs_hash: &inputs_hash,
                run: &run,
                task: &task.id,
                outputs: &outputs,
                commit: commit.as_deref(),
                worktree,
                fields: &fields,
                inputs: &inputs,
            }
            .encode(&dir)
            .1
        });
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

/// The message of the merge commit of a part into the integration branch.
pub fn merge_message(task: &crate::plan::Task, run_id: &str) -> String {
    crate::workspace::merge_message(run_id, &task.id)
}
