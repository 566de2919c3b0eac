//! `score merge`: gathers the part branches of a distributed run
//! (`score-parts/RUN/TASK`, pushed by `score task run`) into its
//! integration branch `score/RUN`, in plan (DAG) order, as `score run`
//! merges its parts.

use super::remote::{clone, git, part_refs};
use crate::plan::Plan;
use serde::Serialize;
use std::path::Path;

/// What `score merge` did.
#[derive(Clone, Debug, Serialize)]
pub struct MergeReport {
    pub run: String,
    pub branch: String,
    /// The parts merged, in order.
    pub merged: Vec<String>,
    /// Parts with no branch (they changed no file, or did not run).
    pub without_branch: Vec<String>,
}

impl std::fmt::Display for MergeReport {
    /// The line `score merge` prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "merged {} part{} into `{}`",
            self.merged.len(),
            if self.merged.len() == 1 { "" } else { "s" },
            self.branch
        )?;
        if !self.without_branch.is_empty() {
            write!(
                f,
                " ({} had no branch: {})",
                self.without_branch.len(),
                self.without_branch.join(", ")
            )?;
        }
        Ok(())
    }
}

/// Why `score merge` did not merge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeError {
    /// A part's branch conflicts with what was merged before it: the
    /// score's boundaries let two parts write the same file (exit 1).
    Conflict {
        task: String,
        branch: String,
        paths: Vec<String>,
    },
    /// The merge could not be made: repository, run id, git (exit 2).
    Failed(String),
}

impl std::fmt::Display for MergeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MergeError::Conflict {
                task,
                branch,
                paths,
            } => write!(
                f,
                "the branch of `{task}` conflicts with `{branch}` in {}; parts that may run at the same time must own disjoint paths",
                paths.join(", ")
            ),
            MergeError::Failed(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for MergeError {}

impl From<String> for MergeError {
    fn from(message: String) -> MergeError {
        MergeError::Failed(message)
    }
}

/// `score merge`: merges the part branches of `run` into `score/RUN`, in
/// plan (DAG) order, from `base` (default HEAD); with `repo`, in a fresh
/// clone, pushing the integration branch back.
pub fn merge_parts(
    plan: &Plan,
    run: &str,
    repo: Option<&str>,
    base: Option<&str>,
    workspace: &Path,
) -> Result<MergeReport, MergeError> {
    crate::workspace::check_name("run id", run).map_err(|e| e.to_string())?;
    let dir = match repo {
        Some(repo) => {
            let dir = workspace.join(format!("score-merge-{run}"));
            clone(repo, base, &dir)?;
            dir
        }
        None => workspace.to_path_buf(),
    };
    let repository = crate::workspace::Repo::open(&dir).map_err(|e| e.to_string())?;
    let branch = crate::workspace::integration_branch(run);
    if repo.is_some() {
        // The remote's integration branch, if an earlier merge pushed one.
        let _ = git(
            &dir,
            &[
                "fetch",
                "--quiet",
                "origin",
                &format!("+refs/heads/{branch}:refs/heads/{branch}"),
            ],
        );
    }
    repository
        .create_integration_branch(run)
        .map_err(|e| e.to_string())?;
    let parts = part_refs(&dir, run, repo.is_some())?;
    let mut report = MergeReport {
        run: run.to_string(),
        branch: branch.clone(),
        merged: Vec::new(),
        without_branch: Vec::new(),
    };
    for task in &plan.tasks {
        let Some(reference) = parts.get(&task.id) else {
            report.without_branch.push(task.id.clone());
            continue;
        };
        let message = super::conduct::merge_message(task, run);
        match repository
            .merge(&branch, reference, &message)
            .map_err(|e| e.to_string())?
        {
            crate::workspace::MergeOutcome::Merged { .. }
            | crate::workspace::MergeOutcome::UpToDate => report.merged.push(task.id.clone()),
            crate::workspace::MergeOutcome::Conflict { paths, .. } => {
                return Err(MergeError::Conflict {
                    task: task.id.clone(),
                    branch,
                    paths,
                });
            }
        }
    }
    if repo.is_some() {
        git(
            &dir,
            &[
                "push",
                "--quiet",
                "origin",
                &format!("refs/heads/{branch}:refs/heads/{branch}"),
            ],
        )
        .map_err(|e| format!("cannot push `{branch}`: {e}"))?;
    }
    Ok(report)
}
