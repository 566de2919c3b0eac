//! The git side of a distributed run (`score task run`, `score merge`):
//! a fresh clone per pod, and the part branches a run's tasks pushed.
//! Plain `git` child processes, synchronous: each command runs once per
//! task, outside any scheduler loop.

use std::collections::HashMap;
use std::path::Path;

/// Runs git in `dir` without hooks or the system's configuration, and
/// returns its trimmed stdout, or what it said on failure.
pub(super) fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = std::process::Command::new("git")
        .args(["-c", "core.hooksPath=/dev/null"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!(
            "`git {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The branch by which a distributed run publishes `task`'s work:
/// `score-parts/RUN/TASK` (a branch, so that it can be pushed to and
/// fetched from a shared remote).
pub(super) fn part_branch(run: &str, task: &str) -> String {
    format!("score-parts/{run}/{task}")
}

/// Clones `repo` into `dir` at `base` (a fresh clone each time: a pod
/// starts empty, and a retry must not see a failed attempt's files).
///
/// Both come from the command line (or a Workflow's parameters): one that
/// starts with `-` would be an option to git (`--upload-pack=CMD` runs a
/// program), so it is refused, and the URL is passed after `--` anyway.
/// Messages name the URL without the credentials it may hold.
pub(super) fn clone(repo: &str, base: Option<&str>, dir: &Path) -> Result<(), String> {
    let shown = crate::export::repo_url::strip_credentials(repo).url;
    if repo.starts_with('-') {
        return Err(format!(
            "`--repo {shown}` starts with `-`, which git would read as an option; give a URL or a path (a path starting with `-` as `./-...`)"
        ));
    }
    if let Some(base) = base.filter(|b| b.starts_with('-')) {
        return Err(format!(
            "`--base {base}` starts with `-`, which git would read as an option; give a branch or commit"
        ));
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .map_err(|e| format!("cannot clear `{}`: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    git(dir, &["clone", "--quiet", "--", repo, "."])
        .map_err(|e| format!("cannot clone `{shown}`: {}", e.replace(repo, &shown)))?;
    if let Some(base) = base {
        git(dir, &["checkout", "--quiet", "--detach", base])
            .or_else(|_| {
                git(
                    dir,
                    &["checkout", "--quiet", "--detach", &format!("origin/{base}")],
                )
            })
            .map_err(|e| format!("cannot check out the base `{base}`: {e}"))?;
    }
    Ok(())
}

/// The part branches of `run` the remote (or local repository) has, as
/// `task → ref to merge`.
pub(super) fn part_refs(
    dir: &Path,
    run: &str,
    remote: bool,
) -> Result<HashMap<String, String>, String> {
    let prefix = format!("score-parts/{run}/");
    if remote {
        git(
            dir,
            &[
                "fetch",
                "--quiet",
                "origin",
                &format!("+refs/heads/{prefix}*:refs/remotes/origin/{prefix}*"),
            ],
        )?;
    }
    let pattern = if remote {
        format!("refs/remotes/origin/{prefix}")
    } else {
        format!("refs/heads/{prefix}")
    };
    let listed = git(dir, &["for-each-ref", "--format=%(refname)", &pattern])?;
    Ok(listed
        .lines()
        .filter_map(|r| {
            r.strip_prefix(&pattern)
                .map(|task| (task.to_string(), r.to_string()))
        })
        .collect())
}
