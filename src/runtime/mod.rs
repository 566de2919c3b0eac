//! The runtime: `score run` conducts a plan.
//!
//! It trusts only the plan (validated on load), dispatches every ready task
//! at once within the concurrency limits, verifies what agents return, and
//! writes every state change to the journal before acting on it.
//!
//! - [`prepare`]: the plan as this run will play it (`--only`, `--agent`),
//!   the score's inputs, and one performer per agent (API keys are read
//!   here: a missing key stops the run before it starts);
//! - [`dry_run`]: what would be dispatched, with prompts, calling nothing;
//! - [`run`]: takes the workspace's lock, opens (or resumes) the run's
//!   journal and hands over to the `conduct` loop;
//! - `report`: the table at the end; [`approve`]: `score approve`;
//!   [`clean`]: `score clean`; [`block_on`]: the async runtime every
//!   command that runs tasks starts.

pub mod agent;
pub mod agents;
pub mod approvals;
mod attempt;
pub(crate) mod conduct;
pub mod doctor;
pub(crate) mod files;
pub(crate) mod inputs;
pub(crate) mod instructions;
pub(crate) mod isolation;
pub mod journal;
pub(crate) mod lock;
pub mod merge;
pub mod preview;
pub mod process;
pub(crate) mod progress;
pub mod redact;
pub mod rehearse;
mod remote;
pub(crate) mod report;
pub mod sandbox;
pub(crate) mod scheduler;
pub(crate) mod select;
pub mod state;
pub mod task;
// Public only until the sandbox work on checks lands: narrowed now, it
// would show `CheckOutcome` fields that nothing reads yet.
pub mod verify;

use crate::plan::{Plan, Provider};
use agent::Performer;
use conduct::{Conductor, Outcome, Status, TaskState};
use journal::{Event, Journal, Record, RunsDir, now_ms};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub(crate) use attempt::price;
pub use journal::RunStatus;
pub use progress::Mode;

/// What the user asked for on the command line.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// `--only PART` (repeatable): those parts and what they need.
    pub only: Vec<String>,
    /// `--agent NAME=OTHER` (repeatable; `*=mock` for every agent).
    pub agents: Vec<String>,
    /// `--input NAME=VALUE|@FILE` (repeatable), `@FILE` relative to
    /// `input_base`.
    pub inputs: Vec<String>,
    pub input_base: PathBuf,
    /// `--jobs N`.
    pub jobs: Option<usize>,
    /// `--resume [RUN_ID]`: `Some(None)` for the latest run.
    pub resume: Option<Option<String>>,
    /// `--fresh`: do not reuse cached results.
    pub fresh: bool,
    /// `--trust-cache`: reuse cached results without running their checks
    /// again.
    pub trust_cache: bool,
    /// `--rehearse`: every part by the mock; inputs not given are mocked
    /// too (see `rehearse.rs`).
    pub rehearse: bool,
    /// `--allow-dirty`: run even when the workspace has uncommitted changes
    /// (the parts start from the last commit).
    pub allow_dirty: bool,
    /// `--keep-worktrees`: leave the parts' worktrees for inspection.
    pub keep_worktrees: bool,
    /// `--in-place`: every part plays in the workspace itself, without git
    /// worktrees (no repository needed; boundaries are not enforced).
    pub in_place: bool,
    /// `--merge`: merge the integration branch into the checked-out branch
    /// when every task succeeded. Refused before anything runs when that
    /// branch's tree has uncommitted changes.
    pub merge: bool,
    /// The score's own files (the `.score` run and the files it imports,
    /// or the plan file run), absolute: their uncommitted edits do not make
    /// the tree dirty; the run plays them and journals their hashes.
    pub score_files: Vec<PathBuf>,
    /// The run id to use for a new run (`score task run --run`); default a
    /// fresh one.
    pub run_id: Option<String>,
    /// Tasks already done elsewhere, with their outputs (`score task run`:
    /// the dependencies, whose outputs arrive as files).
    pub done: BTreeMap<String, Value>,
    /// Commits or refs to merge into the integration branch before anything
    /// runs, in order (`score task run`: the dependencies' part branches).
    pub merge_first: Vec<String>,
    /// Approvals are given elsewhere (`score task run` under Argo: a
    /// suspend step): a part with `approve` succeeds without waiting.
    pub approvals_elsewhere: bool,
    /// Approvals are answered on the live page (`score run --ui`): the run
    /// waits for them there instead of asking on the terminal.
    pub page_approvals: Option<Arc<approvals::ApprovalDesk>>,
}

/// A plan ready to run: selected, with its inputs and performers.
pub struct Prepared {
    pub plan: Plan,
    pub score_inputs: BTreeMap<String, Value>,
    pub performers: HashMap<String, Arc<dyn Performer>>,
    /// Things worth saying before the run (an agent below a part's tier;
    /// what confines programs here, when something is missing).
    pub warnings: Vec<String>,
    /// The boundary of the programs the run starts, and its redactor.
    pub sandbox: Arc<sandbox::Policy>,
}

/// Applies `--agent` and `--only`, reads the score's inputs and makes the
/// performers. Every error here is the user's to fix, before anything runs.
pub fn prepare(
    mut plan: Plan,
    options: &RunOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Prepared, String> {
    if options.jobs == Some(0) {
        return Err("`--jobs 0` would run nothing; give at least 1".to_string());
    }
    // A rehearsal: every part by the mock (the CLI refuses `--agent` beside
    // `--rehearse`).
    let overrides = if options.rehearse {
        vec!["*=mock".to_string()]
    } else {
        options.agents.clone()
    };
    let mut warnings = select::override_agents(&mut plan, &overrides)?;
    if options.in_place {
        warnings.push(
            "--in-place: parts play in the workspace itself; what they write outside their `owns` is not rolled back"
                .to_string(),
        );
    }
    select::only(&mut plan, &options.only)?;
    let score_inputs = if options.rehearse {
        rehearse::score_inputs(&plan, &options.inputs, &options.input_base, &mut warnings)?
    } else {
        inputs::score_inputs(&plan, &options.inputs, &options.input_base)?
    };
    let mut performers = HashMap::new();
    let mut problems = Vec::new();
    // Only the agents that will play: tasks done elsewhere need none (and
    // their keys may not be here).
    let playing: std::collections::BTreeSet<&str> = plan
        .tasks
        .iter()
        .filter(|t| !options.done.contains_key(&t.id))
        .map(|t| t.agent.as_str())
        .collect();
    for (id, agent) in plan
        .agents
        .iter()
        .filter(|(id, _)| playing.contains(id.as_str()))
    {
        match agents::performer(id, agent, env) {
            Ok(p) => {
                performers.insert(id.clone(), p);
            }
            Err(e) => problems.push(e),
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    let sandbox = Arc::new(sandbox::Policy::new(&plan, options.in_place, env));
    // What confines programs here, said once per run when something is
    // missing; a required confinement that cannot be had stops the run
    // before it starts.
    let runs_programs: std::collections::BTreeSet<&str> = plan
        .tasks
        .iter()
        // A rehearsal runs no program.
        .filter(|_| !options.rehearse)
        .filter(|t| !options.done.contains_key(&t.id))
        .filter(|t| {
            !t.checks.is_empty()
                || matches!(plan.agents[&t.agent].provider, Provider::Command { .. })
        })
        .map(|t| t.agent.as_str())
        .collect();
    if !runs_programs.is_empty() {
        let support = sandbox::support();
        if support.landlock_abi.is_none() && !options.in_place {
            let required: Vec<&str> = runs_programs
                .iter()
                .copied()
                .filter(|id| plan.agents[*id].confinement == crate::plan::ConfinementMode::Required)
                .collect();
            if !required.is_empty() {
                return Err(format!(
                    "this system has no Landlock (Linux 5.13 or later, with Landlock enabled), so \
                     the programs of {} cannot be confined to their checkouts; add \
                     `confinement optional` to {} to run them unconfined, or trust every command \
                     with `--in-place` (see docs/security.md)",
                    quoted_agents(&required),
                    if required.len() == 1 {
                        "that agent"
                    } else {
                        "those agents"
                    }
                ));
            }
            warnings.push(format!(
                "this system has no Landlock: the programs of {} run unconfined (they can write \
                 wherever you can); see docs/security.md",
                quoted_agents(&runs_programs.iter().copied().collect::<Vec<_>>())
            ));
        }
        if support.pid_namespace == sandbox::PidNamespace::Missing {
            warnings.push(
                "this system lets the runtime create no PID namespace: a process an agent or a \
                 check starts in a session of its own (`setsid`) may outlive its attempt"
                    .to_string(),
            );
        }
    }
    Ok(Prepared {
        plan,
        score_inputs,
        performers,
        warnings,
        sandbox,
    })
}

/// What a run of `prepared` with `options` would do in `workspace`: per
/// part `done`, `cached` or `run`, and why (see [`preview`]). A new run
/// compares with the cache (nothing with `--fresh`); `--resume` with the
/// run it continues.
pub fn preview_run(
    prepared: &Prepared,
    workspace: &Path,
    options: &RunOptions,
) -> Vec<preview::PartPreview> {
    let run = options.resume.as_ref().and_then(|r| r.as_deref());
    let basis = preview::Basis {
        done: options.resume.is_some(),
        cache: options.resume.is_none() && !options.fresh,
    };
    let earlier = match (options.resume.is_some(), basis.cache) {
        (false, false) => preview::Earlier::default(),
        (resume, _) => {
            let mut earlier = preview::load_earlier(workspace, run);
            if !resume {
                earlier.latest_run = None;
            }
            earlier
        }
    };
    preview::preview(&prepared.plan, &prepared.score_inputs, &earlier, basis)
}

/// `score plan FILE --diff`: per part, whether a run now would find it
/// done (in the latest run, the one `--resume` continues), reuse it from
/// the cache, or run it, and why. Score inputs not given in `inputs` are
/// taken to be unchanged.
pub fn plan_diff(
    plan: &Plan,
    workspace: &Path,
    inputs: &[String],
    input_base: &Path,
) -> Result<Vec<preview::PartPreview>, String> {
    let score_inputs = inputs::given_inputs(plan, inputs, input_base)?;
    let earlier = preview::load_earlier(workspace, None);
    let basis = preview::Basis {
        done: true,
        cache: true,
    };
    Ok(preview::preview(plan, &score_inputs, &earlier, basis))
}

/// What `score run --dry-run` prints: first what will run and why (the
/// `preview` table), then every task in dispatch order, its agent and how
/// it would be called, its checks and its prompt (inputs from other tasks
/// stay as placeholders: they exist only at run time).
pub fn dry_run(prepared: &Prepared, workspace: &Path, parts: &[preview::PartPreview]) -> String {
    use std::fmt::Write;
    let plan = &prepared.plan;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Dry run of `{}`: {} task{} in {} wave{}, workspace {}; nothing will be called.\n",
        plan.score.name,
        plan.tasks.len(),
        if plan.tasks.len() == 1 { "" } else { "s" },
        plan.waves.len(),
        if plan.waves.len() == 1 { "" } else { "s" },
        workspace.display()
    );
    out.push_str(&preview::render_table(parts));
    for task in &plan.tasks {
        let agent = &plan.agents[&task.agent];
        // Waves are numbered from 1, as `score plan` numbers them.
        let _ = writeln!(out, "\n=== {} (wave {}) ===", task.id, task.wave + 1);
        let _ = writeln!(
            out,
            "agent:      {} ({}), {} attempt{} of at most {} each",
            task.agent,
            agent.provider.name(),
            task.retries.saturating_add(1),
            if task.retries == 0 { "" } else { "s" },
            crate::plan::format_duration(task.timeout_ms)
        );
        if !task.depends_on.is_empty() {
            let _ = writeln!(out, "after:      {}", task.depends_on.join(", "));
        }
        if let Provider::Command { run, .. } = &agent.provider {
            let _ = writeln!(out, "would run:  {}", shell_words(run));
        }
        if !task.owns.is_empty() {
            let _ = writeln!(out, "may write:  {}", task.owns.join(", "));
        }
        for check in &task.checks {
            let _ = writeln!(out, "check:      {} ({})", check.command, check.check);
        }
        if let Some(approver) = &task.approve {
            let _ = writeln!(out, "approval:   {approver}");
        }
        let known: BTreeMap<String, Value> = task
            .inputs
            .iter()
            .filter_map(|(name, input)| match &input.source {
                crate::plan::InputSource::ScoreInput { name: s } => prepared
                    .score_inputs
                    .get(s)
                    .map(|v| (name.clone(), v.clone())),
                crate::plan::InputSource::Task { .. } => None,
            })
            .collect();
        let _ = writeln!(out, "prompt:");
        for line in inputs::fill_prompt(task, &known).lines() {
            let _ = writeln!(out, "  | {line}");
        }
    }
    out
}

/// The command that continues run `run_id` of `file`, ready to copy.
pub(crate) fn resume_command(file: &str, run_id: &str) -> String {
    format!(
        "score run {} --resume {}",
        shell_words(&[file.to_string()]),
        shell_words(&[run_id.to_string()])
    )
}

/// "agent `a`", "agents `a`, `b`".
fn quoted_agents(ids: &[&str]) -> String {
    let list: Vec<String> = ids.iter().map(|id| format!("`{id}`")).collect();
    format!(
        "agent{} {}",
        if ids.len() == 1 { "" } else { "s" },
        list.join(", ")
    )
}

fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./{}=:@%+,".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where and how to run.
pub struct RunContext {
    /// The absolute path of the workspace.
    pub workspace: PathBuf,
    pub mode: Mode,
    /// Ask for approvals on the terminal.
    pub interactive: bool,
    /// The score or plan file as the user named it, for the command that
    /// continues the run (`score run FILE --resume RUN_ID`).
    pub file: Option<String>,
}

impl RunContext {
    /// The context of `score run` on this terminal: progress as `mode`
    /// says, approvals asked on the terminal when there is one (and the
    /// events do not go to stdout).
    pub fn on_terminal(workspace: PathBuf, mode: Mode) -> RunContext {
        use std::io::IsTerminal;
        RunContext {
            workspace,
            mode,
            interactive: mode != Mode::Json
                && std::io::stdin().is_terminal()
                && std::io::stderr().is_terminal(),
            file: None,
        }
    }
}

/// A command that cannot start: what is wrong, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub message: String,
    pub help: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for Refusal {}

/// The workspace a run of `file` (a score or a plan) plays in: `--workspace`
/// (`flag`, relative to `cwd`), else the plan's `workspace` relative to the
/// file; canonical, so that it exists.
pub fn workspace_of(
    file: &Path,
    plan: &Plan,
    flag: Option<&Path>,
    cwd: &Path,
) -> Result<PathBuf, Refusal> {
    let workspace = match flag {
        Some(dir) => cwd.join(dir),
        None => cwd
            .join(file.parent().unwrap_or(Path::new("")))
            .join(&plan.score.workspace),
    };
    workspace.canonicalize().map_err(|e| Refusal {
        message: format!(
            "the workspace `{}` cannot be used: {e}",
            workspace.display()
        ),
        help:
            "create the directory, fix the score's `workspace` setting, or pass `--workspace DIR`"
                .to_string(),
    })
}

/// The score's own files a run of `file` plays, absolute: for a `.score`,
/// the file and every file it imports or uses as its prompt template (the
/// plan's `sources`, the standard library aside); for a plan file, itself.
/// Their uncommitted edits are what the run plays, not a dirty tree.
pub fn score_files(file: &Path, plan: &Plan, cwd: &Path) -> Vec<PathBuf> {
    let file = cwd.join(file);
    if file.extension().is_none_or(|e| e != "score") {
        return vec![file];
    }
    let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
    plan.sources
        .keys()
        .filter(|name| !name.starts_with("<std>/"))
        .map(|name| dir.join(name))
        .collect()
}

/// Runs `future` to its end on a multi-threaded tokio runtime, as
/// `score run` and `score task run` do; what is still running when it ends
/// (children killed on cancel) is not waited for.
pub fn block_on<T>(future: impl std::future::Future<Output = T>) -> Result<T, String> {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let out = tokio.block_on(future);
    tokio.shutdown_timeout(std::time::Duration::from_millis(200));
    Ok(out)
}

/// A finished invocation of `score run`.
pub struct Finished {
    pub run: journal::RunDir,
    pub outcome: Outcome,
    pub plan: Plan,
    /// The holder of a stale lock that was taken over.
    pub took_over: Option<lock::Holder>,
    /// How many processes that holder had left running (now stopped).
    pub leftovers_stopped: usize,
    /// The integration branch holding the parts' work, when the run used
    /// worktrees.
    pub branch: Option<String>,
    /// What `--merge` did.
    pub merged: Option<Result<String, String>>,
    /// The run's redactor (the report goes through it).
    pub redactor: Arc<redact::Redactor>,
}

impl Finished {
    /// The table `score run` prints at the end: one row per task, then the
    /// totals; paths are shown relative to `cwd`.
    pub fn report(&self, file: &str, cwd: &Path) -> String {
        let mut report = report::render(self, file, cwd);
        match &self.merged {
            Some(Ok(message)) => report.push_str(&format!("Merged: {message}\n")),
            Some(Err(message)) => report.push_str(&format!("Not merged: {message}\n")),
            None => {}
        }
        report
    }

    /// What to say when this run took over the lock of a run that died.
    pub fn takeover_note(&self) -> Option<String> {
        let holder = self.took_over.as_ref()?;
        let stopped = match self.leftovers_stopped {
            0 => String::new(),
            1 => "; stopped 1 process it had left running".to_string(),
            n => format!("; stopped {n} processes it had left running"),
        };
        Some(format!(
            "took over the lock of run {} (process {} is gone{stopped})",
            holder.run, holder.pid
        ))
    }

    /// `score run`'s exit status: 0 every task succeeded (and, with
    /// `--merge`, the work was merged), 130 cancelled, 1 otherwise (a
    /// merge refused at the end included: the work is on `score/RUN_ID`).
    pub fn exit_code(&self) -> u8 {
        match (self.outcome.status, &self.merged) {
            (RunStatus::Succeeded, Some(Err(_))) => 1,
            (RunStatus::Succeeded, _) => 0,
            (RunStatus::Cancelled, _) => 130,
            _ => 1,
        }
    }

    /// How many tasks are done: played now, in an earlier invocation of a
    /// resumed run, or reused from the cache.
    pub fn tasks_done(&self) -> usize {
        self.outcome
            .states
            .iter()
            .filter(|s| s.status == Status::Done)
            .count()
    }
}

/// Runs a prepared plan in `ctx.workspace`: a new run, or `--resume`.
/// Its error, if any, has the run's secrets masked.
pub async fn run(
    prepared: Prepared,
    options: &RunOptions,
    ctx: &RunContext,
) -> Result<Finished, String> {
    let redactor = prepared.sandbox.redactor.clone();
    run_prepared(prepared, options, ctx)
        .await
        .map_err(|e| redactor.text(&e).into_owned())
}

async fn run_prepared(
    prepared: Prepared,
    options: &RunOptions,
    ctx: &RunContext,
) -> Result<Finished, String> {
    let workspace = &ctx.workspace;
    if !workspace.is_dir() {
        return Err(format!(
            "the workspace `{}` is not a directory; create it, or fix the score's `workspace` setting",
            workspace.display()
        ));
    }
    let runs = RunsDir::new(workspace);
    let run_id = match &options.resume {
        None => match &options.run_id {
            Some(id) => id.clone(),
            None => journal::new_run_id_after(runs.latest().as_deref()),
        },
        Some(Some(id)) => {
            if !runs.run(id).events().is_file() {
                let known = runs.list();
                return Err(if known.is_empty() {
                    format!(
                        "there is no run `{id}` to resume: `{}` holds no runs",
                        runs.root.display()
                    )
                } else {
                    format!(
                        "there is no run `{id}` to resume; the runs in `{}` are: {}",
                        runs.root.display(),
                        known.join(", ")
                    )
                });
            }
            id.clone()
        }
        Some(None) => runs.latest().ok_or_else(|| {
            format!(
                "there is no run to resume in `{}`; start one with `score run FILE`",
                runs.root.display()
            )
        })?,
    };
    // Worktrees, when any part can change files.
    let uses_checkouts = !options.in_place
        && prepared
            .plan
            .tasks
            .iter()
            .any(|t| isolation::needs_checkout(t, &prepared.plan.agents[&t.agent]));
    // A merge that would be refused at the end is refused now, before any
    // agent starts.
    if options.merge && uses_checkouts {
        isolation::check_merge_target(workspace, &options.score_files)?;
    }
    let score_dir = workspace.join(".score");
    // Never committed, wherever the workspace is in the repository.
    crate::workspace::ignore_runtime_dir(&score_dir).map_err(|e| e.to_string())?;
    let lock = lock::acquire(&score_dir, &run_id).map_err(|e| e.to_string())?;
    let run = runs.run(&run_id);
    run.create().map_err(|e| {
        format!(
            "cannot create the run directory `{}`: {e}",
            run.dir.display()
        )
    })?;
    let Prepared {
        plan,
        score_inputs,
        performers,
        sandbox,
        ..
    } = prepared;
    let isolation = if uses_checkouts {
        let mut isolation = isolation::Isolation::open(
            workspace,
            &run_id,
            options.allow_dirty || options.resume.is_some(),
            &options.score_files,
        )?;
        isolation.keep_checkouts = options.keep_worktrees;
        Some(Arc::new(isolation))
    } else {
        None
    };
    if let Some(isolation) = &isolation {
        for commit in &options.merge_first {
            isolation
                .merge(commit.clone(), format!("Merge `{commit}` (run {run_id})"))
                .await
                .map_err(|e| format!("cannot start from `{commit}`: {e}"))?;
        }
    }
    let plan_text = crate::plan::to_json(&plan);
    std::fs::write(run.plan(), plan_text)
        .map_err(|e| format!("cannot write `{}`: {e}", run.plan().display()))?;

    let mut states: Vec<TaskState> = plan
        .tasks
        .iter()
        .map(|_| conduct::TaskState::default())
        .collect();
    let mut late_successes = Vec::new();
    if options.resume.is_some() {
        let records = journal::read(&run.events())?;
        for owed in restore(&plan, &records, &mut states, &run) {
            // Work committed (or approved) but not merged before the run
            // stopped: merge it now (a no-op if the merge happened).
            if let (Some(commit), Some(isolation)) = (&owed.commit, &isolation) {
                let task = &plan.tasks[owed.task];
                let message = conduct::merge_message(task, &run_id);
                if isolation.merge(commit.clone(), message).await.is_err() {
                    states[owed.task] = TaskState::default();
                    continue;
                }
            }
            late_successes.push(owed.event);
        }
    }
    for (i, task) in plan.tasks.iter().enumerate() {
        if let Some(outputs) = options.done.get(&task.id) {
            let state = &mut states[i];
            state.status = Status::Done;
            state.resumed = true;
            state.outputs = Some(Arc::new(outputs.clone()));
        }
    }
    let mut journal = Journal::open(&run.events())
        .map_err(|e| format!("cannot open the journal `{}`: {e}", run.events().display()))?;
    journal.set_redactor(sandbox.redactor.clone());
    let done = states.iter().filter(|s| s.status == Status::Done).count();
    let progress = progress::Progress::new(ctx.mode, plan.tasks.len(), done);
    let checkouts = isolation
        .as_ref()
        .map(|i| i.sandbox_dir().display().to_string());
    progress.set_redactor(sandbox.redactor.clone());
    progress.set_resume_command(resume_command(
        ctx.file.as_deref().unwrap_or("FILE"),
        &run_id,
    ));
    let first = if options.resume.is_some() {
        Event::RunResumed {
            run: run_id.clone(),
            source_hash: plan.source_hash.clone(),
            pid: std::process::id(),
            done,
            checkouts,
        }
    } else {
        Event::RunStarted {
            run: run_id.clone(),
            score: plan.score.name.clone(),
            source_hash: plan.source_hash.clone(),
            tasks: plan.tasks.len(),
            pid: std::process::id(),
            checkouts,
            sources: plan.sources.clone(),
            edited: isolation::uncommitted_own_files(workspace, &options.score_files),
            file: ctx.file.as_deref().map(|file| {
                std::path::absolute(file)
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|_| file.to_string())
            }),
        }
    };
    let io =
        |e: std::io::Error| format!("cannot write the journal `{}`: {e}", run.events().display());
    for event in std::iter::once(first).chain(late_successes) {
        let record = Record {
            at: now_ms(),
            event,
        };
        journal.append(&record).map_err(io)?;
        progress.record(&record, journal.last_line());
    }
    journal.sync().map_err(io)?;

    let plan = Arc::new(plan);
    let conductor = Conductor {
        plan: plan.clone(),
        performers,
        workspace: workspace.clone(),
        run: run.clone(),
        journal,
        score_inputs,
        jobs: options.jobs,
        // On resume the journal says what is done; the cache is for new runs.
        use_cache: !options.fresh && options.resume.is_none(),
        trust_cache: options.trust_cache,
        cache_dir: score_dir.join("cache"),
        interactive: ctx.interactive,
        progress,
        states,
        index: HashMap::new(),
        files: files::FileWriter::start(),
        isolation: isolation.clone(),
        approvals_elsewhere: options.approvals_elsewhere,
        sandbox: sandbox.clone(),
        page_approvals: options.page_approvals.clone(),
    };
    let outcome = conductor.conduct().await?;
    let mut merged = None;
    let branch = isolation.as_ref().map(|i| i.integration.clone());
    if let Some(isolation) = &isolation {
        // Worktrees go (unless kept) whatever the outcome: the work is on
        // the part branches and the integration branch.
        let _ = isolation.finish(options.keep_worktrees);
        if options.merge && outcome.status == RunStatus::Succeeded {
            merged = Some(isolation.merge_into_current());
        }
    }
    let took_over = lock.took_over.clone();
    let leftovers_stopped = lock.leftovers_stopped;
    drop(lock);
    Ok(Finished {
        run,
        outcome,
        plan: Arc::try_unwrap(plan).unwrap_or_else(|p| (*p).clone()),
        took_over,
        leftovers_stopped,
        branch,
        merged,
        redactor: sandbox.redactor.clone(),
    })
}

/// A success owed by an earlier invocation: its result was accepted (and
/// approved, if it needed that) but the run stopped before journaling it.
struct Owed {
    task: usize,
    /// Work to merge first.
    commit: Option<String>,
    event: Event,
}

/// A result the journal holds but has not declared a success yet.
struct Pending {
    inputs_hash: String,
    outputs: Value,
    attempts: u32,
    commit: Option<String>,
    /// Committed without needing an approval, or approved.
    cleared: bool,
}

/// Rebuilds the state of a run from its journal: tasks whose success was
/// journaled with the hash they have now are done (their outputs restored);
/// results waiting for approval wait again. Returns the successes still
/// owed (work committed or approved just before the run stopped).
fn restore(
    plan: &Plan,
    records: &[Record],
    states: &mut [TaskState],
    run: &journal::RunDir,
) -> Vec<Owed> {
    let index = plan.index();
    let mut pending: HashMap<usize, Pending> = HashMap::new();
    for record in records {
        let Some(&i) = record.event.task().and_then(|t| index.get(t)) else {
            continue;
        };
        let hash = &plan.tasks[i].hash;
        let state = &mut states[i];
        match &record.event {
            Event::AttemptStarted { attempt, .. } => {
                state.attempts = state.attempts.max(*attempt);
                state.started_at.get_or_insert(record.at);
            }
            Event::AttemptFailed {
                tokens_in,
                tokens_out,
                cost_usd,
                ..
            } => {
                state.usage += agent::Usage {
                    input_tokens: *tokens_in,
                    output_tokens: *tokens_out,
                    cost_usd: None,
                };
                state.cost_usd += cost_usd;
            }
            Event::ApprovalRequested {
                hash: h,
                inputs_hash,
                outputs,
                commit: _,
                tokens_in,
                tokens_out,
                cost_usd,
                duration_ms,
                attempts,
                ..
            }
            | Event::TaskCommitted {
                hash: h,
                inputs_hash,
                outputs,
                commit: _,
                tokens_in,
                tokens_out,
                cost_usd,
                duration_ms,
                attempts,
                ..
            } if h == hash => {
                let (commit, cleared) = match &record.event {
                    Event::TaskCommitted { commit, .. } => (Some(commit.clone()), true),
                    Event::ApprovalRequested { commit, .. } => (commit.clone(), false),
                    _ => (None, false),
                };
                pending.insert(
                    i,
                    Pending {
                        inputs_hash: inputs_hash.clone(),
                        outputs: outputs.clone(),
                        attempts: *attempts,
                        commit,
                        cleared,
                    },
                );
                state.usage = agent::Usage {
                    input_tokens: *tokens_in,
                    output_tokens: *tokens_out,
                    cost_usd: None,
                };
                state.cost_usd = *cost_usd;
                state.duration_ms = *duration_ms;
            }
            Event::Approved { .. } => {
                if let Some(p) = pending.get_mut(&i) {
                    p.cleared = true;
                }
            }
            Event::Rejected { .. } => {
                pending.remove(&i);
            }
            Event::TaskSucceeded {
                hash: h,
                outputs,
                tokens_in,
                tokens_out,
                cost_usd,
                duration_ms,
                cached_from,
                commit,
                cache_checks,
                ..
            } if h == hash => {
                state.status = Status::Done;
                state.resumed = true;
                state.outputs = Some(Arc::new(outputs.clone()));
                state.usage = agent::Usage {
                    input_tokens: *tokens_in,
                    output_tokens: *tokens_out,
                    cost_usd: None,
                };
                state.cost_usd = *cost_usd;
                state.duration_ms = *duration_ms;
                state.cached_from = cached_from.clone();
                state.cache_checks = *cache_checks;
                state.commit = commit.clone();
                state.finished_at = Some(record.at);
                pending.remove(&i);
            }
            _ => {}
        }
    }
    let mut owed = Vec::new();
    let mut pending: Vec<(usize, Pending)> = pending.into_iter().collect();
    // Plan order is DAG order: merges owed happen upstream first.
    pending.sort_by_key(|(i, _)| *i);
    for (i, p) in pending {
        let task = &plan.tasks[i];
        let state = &mut states[i];
        state.outputs = Some(Arc::new(p.outputs.clone()));
        state.commit = p.commit.clone();
        if p.cleared {
            state.status = Status::Done;
            state.resumed = true;
            state.finished_at = Some(now_ms());
            owed.push(Owed {
                task: i,
                commit: p.commit.clone(),
                event: Event::TaskSucceeded {
                    task: task.id.clone(),
                    hash: task.hash.clone(),
                    inputs_hash: p.inputs_hash,
                    outputs: p.outputs,
                    attempts: p.attempts,
                    tokens_in: state.usage.input_tokens,
                    tokens_out: state.usage.output_tokens,
                    cost_usd: state.cost_usd,
                    duration_ms: state.duration_ms,
                    cached_from: None,
                    commit: p.commit,
                    cache_checks: None,
                },
            });
        } else {
            state.status = Status::AwaitingApproval;
        }
    }
    // The outputs directory is a copy: put back what a crash lost.
    for (task, state) in plan.tasks.iter().zip(states.iter()) {
        if let Some(outputs) = &state.outputs
            && !run.output(&task.id).is_file()
        {
            files::write_whole(&run.output(&task.id), &files::outputs_file(outputs));
        }
    }
    owed
}

/// The workspace holding run `run_id`: `flag` (relative to `cwd`) when
/// given, else the nearest directory from `cwd` up whose runs include it.
pub fn workspace_of_run(run_id: &str, flag: Option<&Path>, cwd: &Path) -> Result<PathBuf, Refusal> {
    if let Some(dir) = flag {
        return Ok(cwd.join(dir));
    }
    cwd.ancestors()
        .find(|dir| RunsDir::new(dir).run(run_id).dir.is_dir())
        .map(Path::to_path_buf)
        .ok_or_else(|| Refusal {
            message: format!("no run `{run_id}` in `.score/runs/` here or in any parent directory"),
            help: "run it from the workspace of the run, or pass `--workspace DIR`".to_string(),
        })
}

/// The id a run with `options` will have in `workspace`: the one asked
/// for (`--resume RUN_ID`, `RunOptions::run_id`), the latest for a bare
/// `--resume`, else a new one (which the caller then sets as
/// `options.run_id`, so that the run takes it). `None`: nothing to resume
/// (the run itself then says so).
pub fn run_id_of(workspace: &Path, options: &RunOptions) -> Option<String> {
    let runs = RunsDir::new(workspace);
    match &options.resume {
        Some(Some(id)) => Some(id.clone()),
        Some(None) => runs.latest(),
        None => Some(
            options
                .run_id
                .clone()
                .unwrap_or_else(|| journal::new_run_id_after(runs.latest().as_deref())),
        ),
    }
}

/// The workspace whose runs `score runs` and `score status` read: `flag`
/// (relative to `cwd`) when given, else the nearest directory from `cwd` up
/// that holds `.score/runs/` (else `cwd`, which has none).
pub fn workspace_of_runs(flag: Option<&Path>, cwd: &Path) -> PathBuf {
    if let Some(dir) = flag {
        return cwd.join(dir);
    }
    cwd.ancestors()
        .find(|dir| RunsDir::new(dir).root.is_dir())
        .unwrap_or(cwd)
        .to_path_buf()
}

/// Who approves: the user's login name, as the environment says.
pub(crate) fn approver() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "someone".into())
}

/// `score approve RUN_ID PART`: journals the approval (or rejection) of a
/// task's result by the `approver`. `score run --resume` then goes on.
pub fn approve(
    workspace: &Path,
    run_id: &str,
    task: &str,
    approve: bool,
) -> Result<String, String> {
    let by = &approver();
    let runs = RunsDir::new(workspace);
    let run = runs.run(run_id);
    if !run.events().is_file() {
        return Err(format!(
            "there is no run `{run_id}` in `{}`{}",
            runs.root.display(),
            match runs.latest() {
                Some(latest) => format!(" (the latest is `{latest}`)"),
                None => String::new(),
            }
        ));
    }
    let records = journal::read(&run.events())?;
    let mut waiting = Vec::new();
    for record in &records {
        match &record.event {
            Event::ApprovalRequested { task, .. } => waiting.push(task.clone()),
            Event::Approved { task, .. }
            | Event::Rejected { task, .. }
            | Event::TaskSucceeded { task, .. } => waiting.retain(|t| t != task),
            _ => {}
        }
    }
    if !waiting.iter().any(|t| t == task) {
        return Err(if waiting.is_empty() {
            format!("no part of run `{run_id}` is waiting for an approval")
        } else {
            format!(
                "`{task}` is not waiting for an approval in run `{run_id}`; these are: {}",
                waiting.join(", ")
            )
        });
    }
    let mut journal = Journal::open(&run.events())
        .map_err(|e| format!("cannot open `{}`: {e}", run.events().display()))?;
    let event = if approve {
        Event::Approved {
            task: task.to_string(),
            by: by.to_string(),
        }
    } else {
        Event::Rejected {
            task: task.to_string(),
            by: by.to_string(),
        }
    };
    journal
        .append(&Record {
            at: now_ms(),
            event,
        })
        .and_then(|_| journal.sync())
        .map_err(|e| format!("cannot write `{}`: {e}", run.events().display()))?;
    let cwd = std::env::current_dir().unwrap_or_default();
    Ok(format!(
        "{} `{task}` in run {run_id}; continue the run with `score run {} --resume {run_id}`",
        if approve { "approved" } else { "rejected" },
        journal::played_file(&records, &cwd)
    ))
}

/// What `score clean` is asked to do.
#[derive(Clone, Copy, Debug, Default)]
pub struct CleanOptions {
    /// Also the runs' integration branches `score/RUN_ID`.
    pub branches: bool,
    /// Also the journals and the cache (`.score/runs`, `.score/cache`).
    pub runs: bool,
    /// List what would go, remove nothing.
    pub dry_run: bool,
    /// Also integration branches not merged into HEAD.
    pub force: bool,
}

/// `score clean`: lists, then removes (unless `dry_run`), what old runs
/// left for `workspace`'s repository: the parts' checkouts and refs; with
/// `branches`, the integration branches merged into HEAD (and with `force`
/// the unmerged ones too: they hold work nothing else has); with `runs`,
/// the journals and the cache. Refused while a run holds the workspace.
///
/// The listing, which names every path and branch (and the unmerged
/// branches it keeps without `force`), goes to `announce` line by line
/// before anything is removed; the result is the closing line.
pub fn clean(
    workspace: &Path,
    options: CleanOptions,
    announce: &mut dyn FnMut(&str),
) -> Result<String, String> {
    let score_dir = workspace.join(".score");
    // Refuses a `.score` that is a link: through it, `.score/runs` could be
    // anywhere.
    crate::workspace::ignore_runtime_dir(&score_dir).map_err(|e| e.to_string())?;
    let _lock = lock::acquire(&score_dir, "clean").map_err(|e| e.to_string())?;
    let verb = if options.dry_run {
        "would remove"
    } else {
        "removing"
    };
    let mut count = 0usize;
    let mut say = |line: String, removes: bool| {
        count += usize::from(removes);
        announce(&line);
    };
    let repo = isolation::open_repository(workspace).ok();
    let plan = match &repo {
        Some(repo) => Some(
            repo.plan_clean(&[], options.branches)
                .map_err(|e| e.to_string())?,
        ),
        None => {
            say(
                "not a git repository: no checkouts or branches to remove".to_string(),
                false,
            );
            None
        }
    };
    if let Some(plan) = &plan {
        for dir in &plan.checkouts {
            say(format!("{verb} {}", dir.display()), true);
        }
        for reference in &plan.refs {
            say(format!("{verb} {reference}"), true);
        }
        let mut kept = Vec::new();
        for branch in &plan.branches {
            if branch.merged {
                say(format!("{verb} branch {} (merged)", branch.name), true);
            } else if options.force {
                say(
                    format!(
                        "{verb} branch {} (NOT merged: its work is lost)",
                        branch.name
                    ),
                    true,
                );
            } else {
                kept.push(branch.name.clone());
            }
        }
        if !kept.is_empty() {
            say(
                format!(
                    "keeping {} branch{} not merged into HEAD: {} (merge {}, or pass --force to \
                     delete {})",
                    kept.len(),
                    if kept.len() == 1 { "" } else { "es" },
                    kept.join(", "),
                    if kept.len() == 1 { "it" } else { "them" },
                    if kept.len() == 1 { "it" } else { "them" },
                ),
                false,
            );
        }
    }
    let runs_dirs: Vec<PathBuf> = if options.runs {
        [score_dir.join("runs"), score_dir.join("cache")]
            .into_iter()
            .filter(|d| d.exists())
            .collect()
    } else {
        Vec::new()
    };
    for dir in &runs_dirs {
        say(format!("{verb} {}", dir.display()), true);
    }
    // Everything is listed; only now is anything removed.
    if count == 0 {
        return Ok("nothing to remove".to_string());
    }
    if options.dry_run {
        return Ok(format!(
            "{count} item{} would be removed; nothing was (without --dry-run, they are)",
            if count == 1 { "" } else { "s" }
        ));
    }
    if let (Some(repo), Some(plan)) = (&repo, &plan) {
        repo.clean(plan, options.force).map_err(|e| e.to_string())?;
    }
    for dir in &runs_dirs {
        std::fs::remove_dir_all(dir)
            .map_err(|e| format!("cannot remove `{}`: {e}", dir.display()))?;
    }
    Ok(format!(
        "removed {count} item{}",
        if count == 1 { "" } else { "s" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) -> bool {
        std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@localhost"])
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .is_ok_and(|o| o.status.success())
    }

    #[test]
    fn clean_lists_every_branch_before_it_removes_any() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a.txt"), "a\n").unwrap();
        assert!(git(d, &["init", "-q", "-b", "main"]));
        assert!(git(d, &["add", "-A"]));
        assert!(git(d, &["commit", "-q", "-m", "init"]));
        // `score/merged` is in HEAD; `score/lost` holds a commit of its own.
        assert!(git(d, &["branch", "score/merged"]));
        assert!(git(d, &["checkout", "-q", "-b", "score/lost"]));
        std::fs::write(d.join("b.txt"), "b\n").unwrap();
        assert!(git(d, &["add", "-A"]));
        assert!(git(d, &["commit", "-q", "-m", "work"]));
        assert!(git(d, &["checkout", "-q", "main"]));
        let exists = |b: &str| git(d, &["rev-parse", "--verify", "-q", b]);
        let options = CleanOptions {
            branches: true,
            ..Default::default()
        };
        // Without --force the unmerged branch is listed as kept, and stays.
        let mut lines = Vec::new();
        let end = clean(d, options, &mut |l| lines.push(l.to_string())).unwrap();
        assert!(
            lines.contains(&"removing branch score/merged (merged)".to_string()),
            "{lines:?}"
        );
        assert!(
            lines.iter().any(|l| l.starts_with(
                "keeping 1 branch not merged into HEAD: score/lost (merge it, or pass --force"
            )),
            "{lines:?}"
        );
        assert!(end.starts_with("removed "), "{end}");
        assert!(!exists("score/merged") && exists("score/lost"));
        // With --force: each line is said while the branch still exists.
        let mut seen_before_removal = false;
        let end = clean(
            d,
            CleanOptions {
                force: true,
                ..options
            },
            &mut |l| {
                if l == "removing branch score/lost (NOT merged: its work is lost)" {
                    seen_before_removal = exists("score/lost");
                }
            },
        )
        .unwrap();
        assert!(seen_before_removal);
        assert!(end.starts_with("removed "), "{end}");
        assert!(!exists("score/lost"));
    }
}
