//! What can go wrong with the workspace repository, and how to fix it.

use std::fmt;
use std::path::PathBuf;

/// An error from the workspace library. Every message says what went wrong
/// and, after a `;`, how to fix it.
#[derive(Debug)]
pub enum WorkspaceError {
    /// `git` could not be started.
    GitNotFound,
    /// The directory a git command was to run in does not exist (a part's
    /// checkout removed while score used it). Starting a process in a
    /// missing directory fails like a missing program; this tells them
    /// apart.
    DirectoryMissing { dir: PathBuf },
    /// The installed git lacks something score needs.
    GitTooOld { version: String },
    /// The workspace directory is not inside a git repository.
    NotARepository { dir: PathBuf },
    /// The directory is a bare repository or git's own `.git` directory.
    NotAWorkTree { dir: PathBuf },
    /// The workspace is a subdirectory of a repository.
    NotTopLevel { dir: PathBuf, toplevel: PathBuf },
    /// The repository has no commit to start worktrees from.
    NoCommits { root: PathBuf },
    /// A run id or task name cannot be a branch and directory name.
    InvalidName {
        what: &'static str,
        name: String,
        reason: String,
    },
    /// A path given to the library is not a workspace path.
    InvalidPath { path: String, reason: String },
    /// An existing branch blocks a branch score needs (git cannot have both
    /// `score` and `score/RUN`).
    BranchNamespaceTaken { branch: String, blocking: String },
    /// A branch that should exist does not.
    BranchNotFound { branch: String },
    /// A revision does not name a commit.
    NotACommit { rev: String },
    /// The user's working tree has uncommitted changes at the start of a run.
    Dirty { root: PathBuf, paths: Vec<String> },
    /// The user's working tree has uncommitted changes to tracked files, so
    /// score will not merge into it.
    DirtyMergeTarget {
        target: String,
        branch: String,
        paths: Vec<String>,
    },
    /// No branch is checked out, so there is nothing to merge into.
    DetachedHead { branch: String },
    /// `git merge --ff-only` refused to update the user's checkout (files it
    /// would overwrite).
    MergeRefused {
        target: String,
        branch: String,
        stderr: String,
    },
    /// A part's checkout directory is no longer the one the runtime made
    /// (replaced by a link or another directory, or deleted).
    CheckoutReplaced {
        task: String,
        path: PathBuf,
        what: String,
    },
    /// The directory for the runs' checkouts is inside the repository.
    SandboxInsideRepository { dir: PathBuf, root: PathBuf },
    /// A file name that is not UTF-8.
    NonUtf8Path { path: String },
    /// Another process kept moving a branch while score tried to update it.
    ConcurrentUpdate { branch: String },
    /// A file system operation failed.
    Io {
        action: String,
        path: PathBuf,
        error: std::io::Error,
    },
    /// A git command failed unexpectedly.
    Git {
        command: String,
        dir: PathBuf,
        code: Option<i32>,
        stderr: String,
    },
}

/// `a`, `b`, `c` and 4 more.
pub(crate) fn list_paths(paths: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = paths
        .iter()
        .take(SHOWN)
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if paths.len() > SHOWN {
        text.push_str(&format!(" and {} more", paths.len() - SHOWN));
    }
    text
}

impl fmt::Display for WorkspaceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkspaceError::GitNotFound => f.write_str(
                "cannot run `git`: it is not installed or not on PATH; \
                 install git (https://git-scm.com/downloads) and try again",
            ),
            WorkspaceError::DirectoryMissing { dir } => write!(
                f,
                "cannot run `git` in `{}`: the directory does not exist (it was removed \
                 while score was using it, by hand, by `score clean` or by `git worktree \
                 prune`); leave score's checkouts alone while a run uses them, then resume \
                 the run (`score run --resume`) to recreate them",
                dir.display()
            ),
            WorkspaceError::GitTooOld { version } => write!(
                f,
                "score needs git 2.38 or newer (for `git merge-tree --write-tree`), \
                 but `git --version` says `{version}`; upgrade git"
            ),
            WorkspaceError::NotARepository { dir } => write!(
                f,
                "the workspace `{}` is not a git repository, and score runs every part \
                 in a git worktree; create one with `git init && git add -A && \
                 git commit -m \"initial commit\"` in `{}`",
                dir.display(),
                dir.display()
            ),
            WorkspaceError::NotAWorkTree { dir } => write!(
                f,
                "`{}` is a bare repository or git's own directory, not a checkout; \
                 set `workspace` to the directory of a checkout",
                dir.display()
            ),
            WorkspaceError::NotTopLevel { dir, toplevel } => write!(
                f,
                "the workspace `{}` is inside the git repository `{}` but is not its \
                 top-level directory; set `workspace` to `{}` (and write `owns` globs \
                 relative to it), or make `{}` a repository of its own with `git init`",
                dir.display(),
                toplevel.display(),
                toplevel.display(),
                dir.display()
            ),
            WorkspaceError::NoCommits { root } => write!(
                f,
                "the git repository `{}` has no commit yet, and every part's checkout \
                 starts from one; commit first: `git add -A && git commit -m \"initial commit\"`",
                root.display()
            ),
            WorkspaceError::InvalidName { what, name, reason } => write!(
                f,
                "invalid {what} `{name}`: {reason}; use letters, digits, `-`, `_` and `.` \
                 (not first), so it can name a branch and a directory"
            ),
            WorkspaceError::InvalidPath { path, reason } => write!(
                f,
                "invalid path `{path}`: {reason}; give a path relative to the workspace \
                 root, such as `src/main.rs`"
            ),
            WorkspaceError::BranchNamespaceTaken { branch, blocking } => write!(
                f,
                "cannot create the branch `{branch}`: a branch named `{blocking}` exists, \
                 and git cannot have both; rename it with `git branch -m {blocking} NEW_NAME`"
            ),
            WorkspaceError::BranchNotFound { branch } => write!(
                f,
                "there is no branch `{branch}`; it is created when a run starts, so the run \
                 was never started here or its branches were removed by `score clean`: \
                 start a new run"
            ),
            WorkspaceError::NotACommit { rev } => write!(
                f,
                "`{rev}` does not name a commit in this repository; pass a commit id or \
                 a branch name"
            ),
            WorkspaceError::Dirty { root, paths } => write!(
                f,
                "the working tree `{}` has uncommitted changes ({}), and a run starts from \
                 the last commit; commit or stash them (`git stash -u`), or pass \
                 `--allow-dirty` to run on the last commit anyway",
                root.display(),
                list_paths(paths)
            ),
            WorkspaceError::DirtyMergeTarget {
                target,
                branch,
                paths,
            } => write!(
                f,
                "cannot merge `{branch}` into `{target}`: the working tree has uncommitted \
                 changes ({}); commit or stash them (`git stash`), then run \
                 `git merge {branch}`",
                list_paths(paths)
            ),
            WorkspaceError::DetachedHead { branch } => write!(
                f,
                "cannot merge `{branch}`: no branch is checked out (HEAD is detached); \
                 check out the branch to merge into (`git switch NAME`), then run \
                 `git merge {branch}`"
            ),
            WorkspaceError::MergeRefused {
                target,
                branch,
                stderr,
            } => write!(
                f,
                "git refused to merge `{branch}` into `{target}`: {}; move the files it \
                 names out of the way, then run `git merge {branch}`",
                one_line(stderr)
            ),
            WorkspaceError::CheckoutReplaced { task, path, what } => write!(
                f,
                "the checkout of part `{task}` at `{}` is no longer the directory score made: \
                 {what} is in its place; score will not touch it (a program of the part \
                 replaced it). Look at it, remove it, and run again",
                path.display()
            ),
            WorkspaceError::SandboxInsideRepository { dir, root } => write!(
                f,
                "the directory for the parts' checkouts `{}` is inside the repository `{}` \
                 (or holds it); set SCORE_SANDBOX_DIR to a directory outside the repository",
                dir.display(),
                root.display()
            ),
            WorkspaceError::NonUtf8Path { path } => write!(
                f,
                "the file name `{path}` is not valid UTF-8, and score's paths and globs \
                 are text; rename the file"
            ),
            WorkspaceError::ConcurrentUpdate { branch } => write!(
                f,
                "the branch `{branch}` kept changing while score was updating it; another \
                 program is writing to it: stop it and resume the run"
            ),
            WorkspaceError::Io {
                action,
                path,
                error,
            } => write!(
                f,
                "cannot {action} `{}`: {error}; check that the path exists and is writable",
                path.display()
            ),
            WorkspaceError::Git {
                command,
                dir,
                code,
                stderr,
            } => {
                let status = match code {
                    Some(code) => format!("exit status {code}"),
                    None => "killed by a signal".to_string(),
                };
                write!(
                    f,
                    "`{command}` failed in `{}` ({status}): {}; fix the repository as the \
                     message says (`git status` shows its state), then resume the run",
                    dir.display(),
                    if stderr.is_empty() {
                        "no message".to_string()
                    } else {
                        one_line(stderr)
                    }
                )
            }
        }
    }
}

/// Git's multi-line messages, joined for a one-line error.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

impl std::error::Error for WorkspaceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            WorkspaceError::Io { error, .. } => Some(error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_path_lists_are_cut() {
        let paths: Vec<String> = (0..8).map(|i| format!("f{i}")).collect();
        assert_eq!(
            list_paths(&paths),
            "`f0`, `f1`, `f2`, `f3`, `f4` and 3 more"
        );
        assert_eq!(list_paths(&paths[..1]), "`f0`");
    }

    #[test]
    fn messages_say_the_fix() {
        let e = WorkspaceError::NotARepository {
            dir: PathBuf::from("/w"),
        };
        assert!(e.to_string().contains("git init"), "{e}");
        let e = WorkspaceError::Git {
            command: "git x".into(),
            dir: PathBuf::from("/w"),
            code: Some(128),
            stderr: "fatal: a\nhint: b".into(),
        };
        assert!(e.to_string().contains("fatal: a hint: b"), "{e}");
    }
}
