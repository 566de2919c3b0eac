//! The runtime's side of workspaces: every part that can change files plays
//! in its own private checkout outside the user's repository, what it
//! changed outside its `owns` is rolled back, and its work is committed and
//! merged into the run's integration branch `score/RUN_ID`, in an order
//! consistent with the DAG (a part's checkout is made only once its
//! dependencies are merged).
//!
//! The git work itself is [`crate::workspace`] (synchronous); this module
//! runs it on tokio's blocking pool, maps the score's workspace onto the
//! repository (the workspace may be a directory inside it: `owns` globs are
//! relative to the workspace, git paths to the repository), and serialises
//! merges.

use crate::glob::Glob;
use crate::plan::{Agent, Provider, Task};
use crate::workspace::{
    self, Change, Checkout, FileEdit, MergeOutcome, Repo, Violation, WorkspaceError,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A run's repository and integration branch.
pub struct Isolation {
    repo: Arc<Repo>,
    /// The workspace relative to the repository's top level, with a final
    /// `/` (empty when the workspace is the top level).
    prefix: String,
    pub run_id: String,
    /// `score/RUN_ID`.
    pub integration: String,
    /// `--keep-worktrees`: leave each part's checkout where it is.
    pub keep_checkouts: bool,
    /// The score's own files (the `.score` run and its imports) inside the
    /// repository, repository-relative: their uncommitted edits are what
    /// the run plays, not a dirty tree.
    own: Vec<String>,
}

/// The score's own files (`files`: absolute paths) that are inside the
/// repository at `top`, as git names them (repository-relative, `/`).
fn own_paths(top: &Path, files: &[PathBuf]) -> Vec<String> {
    let top = top.canonicalize().unwrap_or_else(|_| top.to_path_buf());
    files
        .iter()
        .filter_map(|f| {
            let f = f.canonicalize().unwrap_or_else(|_| f.clone());
            let rest = f.strip_prefix(&top).ok()?;
            Some(rest.to_string_lossy().replace('\\', "/"))
        })
        .collect()
}

/// Whether the dirty path `dirty` (as `git status` lists it: a file, or
/// `dir/` for a directory no file of which is tracked) is made of the
/// score's own files only: a new module in a new directory is the score's
/// edit, not a dirty tree.
fn is_own(top: &Path, dirty: &str, own: &[String]) -> bool {
    if own.iter().any(|o| o == dirty) {
        return true;
    }
    if !dirty.ends_with('/') {
        return false;
    }
    let mut files = Vec::new();
    let mut stack = vec![top.join(dirty)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            // Links are not followed: a link is a file of its own.
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(entry.path()),
                Ok(_) => files.push(entry.path()),
                Err(_) => return false,
            }
        }
    }
    !files.is_empty()
        && files.iter().all(|f| {
            f.strip_prefix(top)
                .is_ok_and(|rest| own.contains(&rest.to_string_lossy().replace('\\', "/")))
        })
}

/// The score's own files, of those in `own`, that have uncommitted
/// changes in the repository holding `workspace` (none outside one): what
/// a run plays that no commit holds, said at its start.
pub fn uncommitted_own_files(workspace: &Path, files: &[PathBuf]) -> Vec<String> {
    let Ok((repo, _)) = open_containing(workspace) else {
        return Vec::new();
    };
    let top = repo.root().to_path_buf();
    let own = own_paths(&top, files);
    let dirty = repo.dirty_paths().unwrap_or_default();
    own.iter()
        .filter(|o| {
            dirty.iter().any(|d| {
                *o == d || (d.ends_with('/') && o.starts_with(d.as_str()) && is_own(&top, d, &own))
            })
        })
        .cloned()
        .collect()
}

/// `--merge`, asked before anything runs: the branch to merge into must
/// be checked out and its tracked files free of uncommitted changes (the
/// score's own files excepted), or the run would play to its end and
/// then not merge.
pub fn check_merge_target(workspace: &Path, files: &[PathBuf]) -> Result<(), String> {
    let (repo, _) = open_containing(workspace)?;
    let own = own_paths(repo.root(), files);
    repo.merge_target("score/RUN_ID", &own)
        .map(|_| ())
        .map_err(|e| match e {
            WorkspaceError::DirtyMergeTarget { target, paths, .. } => format!(
                "`--merge` would merge this run's work into `{target}`, but its working tree \
                 has uncommitted changes ({}); nothing was run: commit or stash them \
                 (`git stash`) and run again, or run without `--merge` and merge the run's \
                 branch `score/RUN_ID` yourself",
                paths.join(", ")
            ),
            WorkspaceError::DetachedHead { .. } => "`--merge` needs a branch to merge into, \
                 but HEAD is detached; nothing was run: check out a branch (`git switch NAME`), \
                 or run without `--merge`"
                .to_string(),
            other => other.to_string(),
        })
}

/// Whether a task needs a checkout: it may write files (`owns`), its agent
/// is a program that could change files anyway, or it has checks to run
/// against the files.
pub fn needs_checkout(task: &Task, agent: &Agent) -> bool {
    !task.owns.is_empty()
        || matches!(agent.provider, Provider::Command { .. })
        || !task.checks.is_empty()
}

/// Whether an agent writes files through structured output (the runtime
/// applies them) rather than by itself.
pub fn writes_through_edits(task: &Task, agent: &Agent) -> bool {
    !task.owns.is_empty()
        && matches!(
            agent.provider,
            Provider::Openai { .. } | Provider::Anthropic { .. }
        )
}

/// The repository whose working tree holds `workspace`, and the
/// workspace's path inside it (`""` or `dir/sub/`).
fn open_containing(workspace: &Path) -> Result<(Repo, String), String> {
    let toplevel = std::process::Command::new("git")
        .arg("-C")
        .arg(workspace)
        .args(["rev-parse", "--show-toplevel"])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    // Not in a repository (or no git): let `Repo::open` say so properly.
    let Some(toplevel) = toplevel else {
        return Repo::open(workspace)
            .map(|repo| (repo, String::new()))
            .map_err(|e| e.to_string());
    };
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let (top, dir) = (canonical(&toplevel), canonical(workspace));
    let prefix = match dir.strip_prefix(&top) {
        Ok(rest) if rest.as_os_str().is_empty() => String::new(),
        Ok(rest) => format!("{}/", rest.to_string_lossy().replace('\\', "/")),
        Err(_) => String::new(),
    };
    let repo = Repo::open(&top).map_err(|e| e.to_string())?;
    Ok((repo, prefix))
}

/// The repository holding `dir` (for `score clean`).
pub fn open_repository(dir: &Path) -> Result<Repo, String> {
    open_containing(dir).map(|(repo, _)| repo)
}

fn blocking_error(e: tokio::task::JoinError) -> String {
    format!("a git operation stopped unexpectedly: {e}")
}

impl Isolation {
    /// Opens the repository holding `workspace` for run `run_id`: refuses
    /// uncommitted changes in the workspace unless `allow_dirty`, and
    /// creates (or, resuming, keeps) the integration branch.
    /// The score's own files (`own_files`, absolute) may have uncommitted
    /// edits: the run plays the score as it is now.
    pub fn open(
        workspace: &Path,
        run_id: &str,
        allow_dirty: bool,
        own_files: &[PathBuf],
    ) -> Result<Isolation, String> {
        let (repo, prefix) = open_containing(workspace)?;
        let own = own_paths(repo.root(), own_files);
        if !allow_dirty {
            let dirty: Vec<String> = repo
                .dirty_paths()
                .map_err(|e| e.to_string())?
                .into_iter()
                .filter(|p| p.starts_with(&prefix))
                .filter(|p| !is_own(repo.root(), p, &own))
                // The runtime's own files, wherever the workspace is.
                .filter(|p| !p.split('/').any(|c| c == workspace::SCORE_DIR))
                .collect();
            if !dirty.is_empty() {
                return Err(WorkspaceError::Dirty {
                    root: workspace.to_path_buf(),
                    paths: dirty,
                }
                .to_string());
            }
        }
        let integration = repo
            .create_integration_branch(run_id)
            .map_err(|e| e.to_string())?;
        Ok(Isolation {
            repo: Arc::new(repo),
            prefix,
            run_id: run_id.to_string(),
            integration,
            keep_checkouts: false,
            own,
        })
    }

    /// Where this run's checkouts are, outside the repository.
    pub fn sandbox_dir(&self) -> PathBuf {
        self.repo.sandbox_dir(&self.run_id)
    }

    /// A fresh checkout for `task`, from the integration branch as it is
    /// now.
    pub async fn checkout(&self, task: &str) -> Result<Checkout, String> {
        let repo = self.repo.clone();
        let (run, task) = (self.run_id.clone(), task.to_string());
        tokio::task::spawn_blocking(move || repo.checkout(&run, &task))
            .await
            .map_err(blocking_error)?
            .map_err(|e| e.to_string())
    }

    /// Where the agent works in `checkout`: the workspace's directory in it.
    pub fn cwd(&self, checkout: &Checkout) -> PathBuf {
        checkout.path().join(self.prefix.trim_end_matches('/'))
    }

    /// The task's `owns` as globs over repository paths.
    fn owns(&self, owns: &[String]) -> Vec<Glob> {
        owns.iter()
            .filter_map(|g| Glob::parse(&format!("{}{g}", self.prefix)).ok())
            .collect()
    }

    /// Applies an HTTP agent's file edits (paths relative to the workspace).
    pub async fn apply_edits(
        &self,
        checkout: &Checkout,
        edits: Vec<FileEdit>,
    ) -> Result<Vec<String>, String> {
        let checkout = checkout.clone();
        let prefix = self.prefix.clone();
        tokio::task::spawn_blocking(move || {
            let edits: Vec<FileEdit> = edits
                .into_iter()
                .map(|mut e| {
                    // Checked before prefixing: `..` must not climb out of
                    // the workspace into the rest of the repository.
                    if workspace::check_path(&e.path).is_ok() {
                        e.path = format!("{prefix}{}", e.path);
                    }
                    e
                })
                .collect();
            checkout.apply_edits(&edits).map_err(|e| e.to_string())
        })
        .await
        .map_err(blocking_error)?
    }

    /// What the attempt changed outside `owns` (after rolling it back), as
    /// feedback for the agent; `Ok(None)` when it kept to its boundary.
    pub async fn enforce(
        &self,
        checkout: &Checkout,
        owns: &[String],
    ) -> Result<Option<(Vec<Violation>, String)>, String> {
        let checkout = checkout.clone();
        let globs = self.owns(owns);
        tokio::task::spawn_blocking(move || {
            let changes: Vec<Change> = checkout.changes().map_err(|e| e.to_string())?;
            let violations = workspace::enforce(&changes, &globs);
            if violations.is_empty() {
                return Ok(None);
            }
            checkout
                .rollback(&workspace::violating_paths(&violations))
                .map_err(|e| e.to_string())?;
            let feedback = workspace::violation_feedback(&violations, &globs);
            Ok(Some((violations, feedback)))
        })
        .await
        .map_err(blocking_error)?
    }

    /// Commits the part's work in its checkout: the commit, or `None` when
    /// it changed nothing.
    pub async fn commit(
        &self,
        checkout: &Checkout,
        message: String,
    ) -> Result<Option<String>, String> {
        let checkout = checkout.clone();
        tokio::task::spawn_blocking(move || checkout.commit(&message).map_err(|e| e.to_string()))
            .await
            .map_err(blocking_error)?
    }

    /// Applies `commit` (a cached result's work) on the checkout's base;
    /// `Ok(false)` when it conflicts with it.
    pub async fn apply_commit(&self, checkout: &Checkout, commit: String) -> Result<bool, String> {
        let checkout = checkout.clone();
        tokio::task::spawn_blocking(move || {
            checkout.apply_commit(&commit).map_err(|e| e.to_string())
        })
        .await
        .map_err(blocking_error)?
    }

    /// Merges `commit` into the integration branch. A conflict is an error
    /// naming the paths; merging a commit already merged changes nothing.
    pub async fn merge(&self, commit: String, message: String) -> Result<(), String> {
        let repo = self.repo.clone();
        let branch = self.integration.clone();
        let outcome = tokio::task::spawn_blocking(move || repo.merge(&branch, &commit, &message))
            .await
            .map_err(blocking_error)?
            .map_err(|e| e.to_string())?;
        match outcome {
            MergeOutcome::Merged { .. } | MergeOutcome::UpToDate => Ok(()),
            MergeOutcome::Conflict { paths, .. } => Err(format!(
                "its changes conflict with what is already on `{}` in {}; \
                 another part wrote the same files: give them disjoint `owns`, or order them",
                self.integration,
                paths
                    .iter()
                    .map(|p| format!("`{p}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    /// Parks a finished task's checkout for reuse by the next one.
    pub async fn release(&self, checkout: Checkout) {
        if self.keep_checkouts {
            return;
        }
        let repo = self.repo.clone();
        let _ = tokio::task::spawn_blocking(move || repo.release_checkout(checkout)).await;
    }

    /// The end of a run: checkouts removed (unless `keep`), part refs
    /// deleted. The integration branch stays.
    pub fn finish(&self, keep: bool) -> Result<(), String> {
        self.repo
            .finish_run(&self.run_id, keep)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// `--merge`: the integration branch into the checked-out branch.
    pub fn merge_into_current(&self) -> Result<String, String> {
        let message = format!("Merge the results of score run {}", self.run_id);
        match self
            .repo
            .merge_into_current_except(&self.integration, &message, &self.own)
            .map_err(|e| e.to_string())?
        {
            MergeOutcome::Merged { commit } => Ok(format!(
                "merged `{}` into the checked-out branch ({})",
                self.integration,
                &commit[..commit.len().min(12)]
            )),
            MergeOutcome::UpToDate => Ok(format!(
                "the checked-out branch already contains `{}`",
                self.integration
            )),
            MergeOutcome::Conflict { paths, .. } => Err(format!(
                "`{}` conflicts with the checked-out branch in {}; nothing was changed: merge it yourself with `git merge {}`",
                self.integration,
                paths.join(", "),
                self.integration
            )),
        }
    }
}

/// The commit message of a part's work: the part, its agent, the intents
/// it serves and the run.
pub fn commit_message(task: &Task, run_id: &str) -> String {
    let intents: Vec<&str> = task.intents.iter().map(|i| i.id.as_str()).collect();
    workspace::part_commit_message(run_id, &task.id, &task.agent, &intents)
}
