//! One task of a plan, anywhere: `score task run`, the unit a distributed
//! engine (Argo Workflows) schedules. (`score merge`, which gathers the
//! part branches of such a run, is `merge.rs`; the git both use,
//! `remote.rs`.)
//!
//! `score task run` plays exactly one task as `score run` would (agent,
//! validation, checks, retries with feedback, boundary enforcement in a
//! worktree), reading its inputs from the output files of its dependencies
//! (`DEP.json` in the inputs directory) and writing its own
//! (`TASK.json` in the outputs directory). Its work is committed on the part
//! branch `score-parts/RUN/TASK`, made on top of the base with every
//! upstream part's branch merged in DAG order, so that it sees its
//! dependencies' files; with `--repo`, the repository is cloned first and
//! the branch pushed back.

use super::remote::{clone, git, part_refs};
use super::{Finished, Mode, RunContext, RunOptions, conduct::Status};
use crate::plan::{InputSource, Plan};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// What `score task run` was asked to do.
#[derive(Clone, Debug, Default)]
pub struct TaskRequest {
    pub task: String,
    /// Where the dependencies' output files are (`DEP.json`).
    pub inputs_dir: PathBuf,
    /// Where to write `TASK.json`.
    pub outputs_dir: PathBuf,
    /// Clone this repository (a URL or path) instead of using `workspace`.
    pub repo: Option<String>,
    /// The commit or branch to start from (default: the remote's HEAD).
    pub base: Option<String>,
    /// The run the task belongs to (names the branches); default
    /// `task-<source hash prefix>`.
    pub run: Option<String>,
    /// The local repository to work in when there is no `repo` (or where to
    /// clone it).
    pub workspace: PathBuf,
    /// The score's workspace inside the repository (default: the plan's
    /// `workspace` without `--repo`, the repository's root with it: a plan
    /// does not record where its score lies in the repository).
    pub subdir: Option<PathBuf>,
    /// `--input NAME=VALUE` for score inputs.
    pub inputs: Vec<String>,
    pub agents: Vec<String>,
}

/// How `score task run` ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskOutcome {
    Succeeded,
    /// The task did not meet its contract.
    Failed,
    /// It could not be run: bad plan, inputs, repository, flags or keys.
    Error,
}

impl TaskOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskOutcome::Succeeded => "succeeded",
            TaskOutcome::Failed => "failed",
            TaskOutcome::Error => "error",
        }
    }

    /// 0 succeeded, 1 failed, 2 could not run.
    pub fn exit_code(self) -> u8 {
        match self {
            TaskOutcome::Succeeded => 0,
            TaskOutcome::Failed => 1,
            TaskOutcome::Error => 2,
        }
    }
}

/// The final JSON status line.
#[derive(Clone, Debug, Serialize)]
pub struct TaskStatus {
    pub task: String,
    pub status: TaskOutcome,
    pub run: Option<String>,
    pub attempts: u32,
    /// The commit of the task's work, when it changed files.
    pub commit: Option<String>,
    /// The part branch holding that commit.
    pub branch: Option<String>,
    pub outputs_file: Option<String>,
    pub message: Option<String>,
}

impl TaskStatus {
    fn error(task: &str, run: Option<String>, message: String) -> TaskStatus {
        TaskStatus {
            task: task.to_string(),
            status: TaskOutcome::Error,
            run,
            attempts: 0,
            commit: None,
            branch: None,
            outputs_file: None,
            message: Some(message),
        }
    }

    /// 0 succeeded, 1 failed, 2 could not run.
    pub fn exit_code(&self) -> u8 {
        self.status.exit_code()
    }

    /// What to say on stderr when the task did not succeed.
    pub fn complaint(&self) -> Option<String> {
        let message = self.message.as_ref()?;
        (self.status != TaskOutcome::Succeeded)
            .then(|| format!("error: `{}` {}: {message}", self.task, self.status.as_str()))
    }

    /// The JSON status line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The default run id of a plan's distributed run.
pub fn default_run(plan: &Plan) -> String {
    format!(
        "task-{}",
        &plan.source_hash[..plan.source_hash.len().min(12)]
    )
}

/// Reads the dependencies' outputs: `DIR/DEP.json` for every task the
/// task needs, each validated against the schemas of the inputs it feeds.
pub fn read_inputs(plan: &Plan, task: &str, dir: &Path) -> Result<BTreeMap<String, Value>, String> {
    let Some(t) = plan.task(task) else {
        let ids: Vec<&str> = plan.tasks.iter().map(|t| t.id.as_str()).collect();
        return Err(format!(
            "the plan has no task `{task}`; its tasks are: {}",
            ids.join(", ")
        ));
    };
    let mut outputs = BTreeMap::new();
    for dep in &t.depends_on {
        let path = dir.join(format!("{dep}.json"));
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "the outputs of `{dep}`, which `{task}` needs, are missing: cannot read `{}` ({e}); run `{dep}` first and pass its outputs directory with --inputs",
                path.display()
            )
        })?;
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            format!(
                "the outputs of `{dep}` in `{}` are not valid JSON: {e}",
                path.display()
            )
        })?;
        if let Some(dep_task) = plan.task(dep) {
            let validator = jsonschema::draft202012::new(&dep_task.result_schema)
                .map_err(|e| format!("the result schema of `{dep}` is invalid: {e}"))?;
            if let Some(error) = validator.iter_errors(&value).next() {
                return Err(format!(
                    "the outputs of `{dep}` in `{}` do not match its result schema: {error}",
                    path.display()
                ));
            }
        }
        outputs.insert(dep.clone(), value);
    }
    // Every input bound to a task must now have its value.
    for (name, input) in &t.inputs {
        if let InputSource::Task { task: dep, output } = &input.source
            && !outputs.contains_key(dep)
        {
            return Err(format!(
                "input `{name}` of `{task}` needs `{dep}.{output}`, which is not among its dependencies"
            ));
        }
    }
    Ok(outputs)
}

/// Every task upstream of `task` (its transitive dependencies), in plan
/// order (which is DAG order).
fn upstream(plan: &Plan, task: &str) -> Vec<String> {
    let index = plan.index();
    let mut seen = BTreeSet::new();
    let mut stack: Vec<&str> = plan
        .task(task)
        .map(|t| t.depends_on.iter().map(String::as_str).collect())
        .unwrap_or_default();
    while let Some(id) = stack.pop() {
        if seen.insert(id)
            && let Some(&i) = index.get(id)
        {
            stack.extend(plan.tasks[i].depends_on.iter().map(String::as_str));
        }
    }
    let mut ids: Vec<&str> = seen.into_iter().collect();
    ids.sort_by_key(|id| index.get(id).copied().unwrap_or(usize::MAX));
    ids.into_iter().map(str::to_string).collect()
}

/// `score task run --plan FILE`: reads the plan and plays the task on a
/// runtime of its own; a plan that cannot be read is an `error` status.
pub fn run_from_file(
    plan: &Path,
    request: &TaskRequest,
    env: &dyn Fn(&str) -> Option<String>,
) -> TaskStatus {
    let plan = match crate::plan::load_file(plan) {
        Ok(plan) => plan,
        Err(message) => return TaskStatus::error(&request.task, None, message),
    };
    super::block_on(run_task(plan, request, env))
        .unwrap_or_else(|message| TaskStatus::error(&request.task, None, message))
}

/// `score task run`: plays one task and says what happened.
pub async fn run_task(
    plan: Plan,
    request: &TaskRequest,
    env: &dyn Fn(&str) -> Option<String>,
) -> TaskStatus {
    let run = request.run.clone().unwrap_or_else(|| default_run(&plan));
    match run_task_inner(plan, request, &run, env).await {
        Ok(status) => status,
        Err(message) => TaskStatus::error(&request.task, Some(run), message),
    }
}

async fn run_task_inner(
    plan: Plan,
    request: &TaskRequest,
    run: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<TaskStatus, String> {
    crate::workspace::check_name("run id", run).map_err(|e| e.to_string())?;
    let done = read_inputs(&plan, &request.task, &request.inputs_dir)?;
    let workspace = match &request.repo {
        Some(repo) => {
            let dir = request
                .workspace
                .join(format!("score-task-{run}-{}", request.task));
            clone(repo, request.base.as_deref(), &dir)?;
            dir
        }
        None => request.workspace.clone(),
    };
    let subdir = match (&request.subdir, &request.repo) {
        (Some(dir), _) => dir.clone(),
        (None, None) => PathBuf::from(&plan.score.workspace),
        (None, Some(_)) => PathBuf::from("."),
    };
    let workspace_dir = workspace.join(subdir);
    let workspace_dir = workspace_dir.canonicalize().map_err(|e| {
        format!(
            "the workspace `{}` cannot be used: {e}",
            workspace_dir.display()
        )
    })?;
    // Start from the base with every upstream part's work merged, in DAG
    // order: the task sees its dependencies' files.
    let parts = if crate::workspace::Repo::open(&workspace).is_ok() || request.repo.is_some() {
        part_refs(&workspace, run, request.repo.is_some()).unwrap_or_default()
    } else {
        HashMap::new()
    };
    let merge_first: Vec<String> = upstream(&plan, &request.task)
        .into_iter()
        .filter_map(|dep| parts.get(&dep).cloned())
        .collect();
    let options = RunOptions {
        only: vec![request.task.clone()],
        agents: request.agents.clone(),
        inputs: request.inputs.clone(),
        input_base: request.workspace.clone(),
        fresh: true,
        // A task of a distributed run starts from its base, whatever the
        // checkout holds.
        allow_dirty: true,
        run_id: Some(run.to_string()),
        done,
        merge_first,
        approvals_elsewhere: true,
        ..RunOptions::default()
    };
    let prepared = super::prepare(plan, &options, env)?;
    let ctx = RunContext {
        workspace: workspace_dir,
        mode: Mode::Quiet,
        interactive: false,
        file: None,
    };
    let finished: Finished = super::run(prepared, &options, &ctx).await?;
    let i = finished
        .plan
        .tasks
        .iter()
        .position(|t| t.id == request.task)
        .ok_or_else(|| format!("the task `{}` vanished from the plan", request.task))?;
    let state = &finished.outcome.states[i];
    let mut status = TaskStatus {
        task: request.task.clone(),
        status: if state.status == Status::Done {
            TaskOutcome::Succeeded
        } else {
            TaskOutcome::Failed
        },
        run: Some(run.to_string()),
        attempts: state.attempts,
        commit: state.commit.clone(),
        branch: None,
        outputs_file: None,
        message: state
            .failure
            .as_ref()
            .map(|(kind, m)| format!("{}: {m}", kind.as_str())),
    };

    if status.status != TaskOutcome::Succeeded {
        return Ok(status);
    }
    let outputs = state.outputs.as_deref().cloned().unwrap_or(Value::Null);
    std::fs::create_dir_all(&request.outputs_dir)
        .map_err(|e| format!("cannot create `{}`: {e}", request.outputs_dir.display()))?;
    let file = request.outputs_dir.join(format!("{}.json", request.task));
    let mut text = serde_json::to_string_pretty(&outputs).unwrap_or_default();
    text.push('\n');
    std::fs::write(&file, text).map_err(|e| format!("cannot write `{}`: {e}", file.display()))?;
    status.outputs_file = Some(file.display().to_string());
    if let Some(commit) = &status.commit {
        let branch = super::remote::part_branch(run, &request.task);
        if request.repo.is_some() {
            git(
                &workspace,
                &[
                    "push",
                    "--quiet",
                    "--force",
                    "origin",
                    &format!("{commit}:refs/heads/{branch}"),
                ],
            )
            .map_err(|e| format!("cannot push the part branch `{branch}`: {e}"))?;
        } else {
            git(&workspace, &["branch", "--force", &branch, commit])?;
        }
        status.branch = Some(branch);
    }
    Ok(status)
}
