//! Workspaces: the score's git repository, one private checkout per
//! writing part (outside the user's checkout), boundary enforcement, and
//! merges into the run's integration branch.
//!
//! Synchronous: every call runs `git` child processes and waits for them
//! (the runtime calls it from tokio's blocking pool). [`Repo`] and
//! [`Checkout`] are `Send + Sync`; calls on different checkouts can run at
//! the same time, and merges into one branch may race (they retry).
//!
//! # A run, step by step
//!
//! ```text
//! Repo::open(workspace)                   git repository with a commit (writes nothing)
//! repo.dirty_paths() / ensure_clean()     refuse a dirty tree unless --allow-dirty
//! repo.create_integration_branch(run)     score/RUN, from HEAD
//! repo.checkout(run, task)                SANDBOXES/RUN/parts/TASK with the files of the
//!                                         integration branch's tip (deps merged)
//!   checkout.apply_edits(edits)           HTTP agents; command agents write files themselves
//!   checkout.changes()                    everything that differs from the base commit
//!   enforce(changes, owns)                the changes outside `owns`, links leading out, `.score`
//!   checkout.rollback(violating paths)    undo them; tell the agent; retry
//!   checkout.commit(message)              one commit on the base, at refs/score/RUN/TASK
//! repo.merge(score/RUN, commit, message)  merge commit on the integration branch
//! repo.release_checkout(checkout)         recycle its files for the next part
//! repo.finish_run(run, keep)              remove the run's checkouts and part refs
//! repo.merge_into_current(score/RUN, ..)  --merge
//! repo.clean(keep, remove_branches)       `score clean`
//! ```
//!
//! # Names on disk and in git
//!
//! | what | where |
//! | ---- | ----- |
//! | integration branch | `score/RUN` (a branch of the user's repository) |
//! | a part's commit | `refs/score/RUN/TASK` (a ref, not a branch) |
//! | a run's checkouts | [`sandbox_root`]`/REPO-KEY/RUN/` (outside the repository) |
//! | a part's checkout | `.../RUN/parts/TASK`, its index `.../RUN/index/TASK`, its TMPDIR `.../RUN/tmp/TASK` |
//! | recycled checkouts | `.../RUN/pool/TASK` |
//!
//! `.score/` (the journals, the cache) holds a `.gitignore` of its own that
//! ignores everything in it ([`ignore_runtime_dir`]), so the runtime's files
//! never show as untracked, wherever in the repository the workspace is,
//! and nothing of the user's (`.gitignore`, `.git/info/exclude`) is
//! changed.
//!
//! # Trust
//!
//! A part's programs may be hostile (see `docs/security.md`). A checkout
//! shares nothing writable with the user's repository: the agent gets a
//! `.git` of its own, and the runtime reads the part's files through an
//! index of its own, from a directory it checks by device and inode, with
//! attributes from the base commit. See [`Checkout`].
//!
//! # History
//!
//! Each part's work is **one commit** whose parent is the checkout's base
//! (commits an agent made in its own `.git` are not looked at: its files
//! are), and each merge into the integration branch is a **merge commit**
//! (never a fast-forward), even when the part's base is the tip. So `git log
//! --first-parent score/RUN` shows exactly one merge per part, in merge
//! order, and the part's own commit is its second parent. Merging is pure
//! plumbing (`git merge-tree --write-tree`, `commit-tree`, then a
//! compare-and-swap `update-ref`): the user's checkout and index are never
//! touched, a conflict leaves the branch as it was, and a crash at any point
//! leaves either the old or the new tip.
//!
//! # Resume
//!
//! Resume state comes from the journal only, never from a checkout: a part
//! whose commit is journaled is merged by that commit's id (merging a
//! commit the branch already contains is [`MergeOutcome::UpToDate`]); any
//! other part gets a fresh checkout. [`Repo::create_integration_branch`]
//! keeps an existing branch.
//!
//! # Speed
//!
//! Checking out every file costs one file write per file of the repository
//! (about 0.2 s for 5 000 files on ext4), so checkouts are recycled within a
//! run: [`Repo::release_checkout`] parks a finished one, and the next
//! [`Repo::checkout`] moves it into place and resets it to the new base,
//! which rewrites only the files that differ, then removes everything
//! untracked or ignored.

mod checkout;
mod edits;
mod enforce;
mod error;
mod git;

pub use checkout::Checkout;
pub use edits::{
    EDITS_INSTRUCTIONS, EditAction, EditError, EditProblem, FileEdit, check_path, edits_schema,
    parse_edits,
};
pub use enforce::{
    Change, ChangeKind, Rule, Violation, enforce, resolve_link, violating_paths, violation_feedback,
};
pub use error::WorkspaceError;
pub use git::Identity;

use git::{Git, failed, nul_fields, parse_version, utf8_path};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The directory, relative to the workspace root, that holds the runtime's
/// files; never part of a change, never dirty.
pub const SCORE_DIR: &str = ".score";

/// The oldest git with `git merge-tree --write-tree` (2.38) and
/// `GIT_ATTR_SOURCE` (2.40).
const MIN_GIT: (u32, u32) = (2, 40);

/// Where runs keep the parts' checkouts, outside every repository:
/// `$SCORE_SANDBOX_DIR` if set, else `$XDG_CACHE_HOME/score/parts`, else
/// `~/.cache/score/parts`, else the system's temporary directory.
pub fn sandbox_root() -> PathBuf {
    let from_env = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if let Some(dir) = from_env("SCORE_SANDBOX_DIR") {
        return dir;
    }
    if let Some(cache) = from_env("XDG_CACHE_HOME") {
        return cache.join("score").join("parts");
    }
    if let Some(home) = from_env("HOME") {
        return home.join(".cache").join("score").join("parts");
    }
    std::env::temp_dir().join("score-parts")
}

/// A directory name for a repository's runs under [`sandbox_root`]: its
/// directory name and a hash of its path, so that two repositories never
/// share one.
fn repository_key(root: &Path) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(root.to_string_lossy().as_bytes());
    let hex: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    let name: String = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    format!("{name}-{hex}")
}

/// The workspace's git repository.
#[derive(Debug)]
pub struct Repo {
    root: PathBuf,
    /// The repository's common git directory (objects, refs, config).
    common_dir: PathBuf,
    /// `sha1` or `sha256`.
    object_format: String,
    /// This repository's directory of runs' checkouts.
    sandboxes: PathBuf,
    git: Git,
    /// Serializes claiming and parking recycled checkouts.
    pool: Mutex<()>,
}

/// How a merge ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeOutcome {
    /// A new merge commit is the branch's tip.
    Merged { commit: String },
    /// The branch already contains the commit; nothing changed.
    UpToDate,
    /// The merge would conflict; the branch is unchanged.
    Conflict {
        /// The conflicting paths, sorted.
        paths: Vec<String>,
        /// Git's conflict notices, e.g.
        /// `CONFLICT (content): Merge conflict in src/a.rs`.
        messages: Vec<String>,
    },
}

/// What `score clean` would remove ([`Repo::plan_clean`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CleanPlan {
    /// Directories of runs' checkouts (and legacy worktrees).
    pub checkouts: Vec<PathBuf>,
    /// Part refs `refs/score/RUN/TASK` and legacy `score-parts/` branches.
    pub refs: Vec<String>,
    /// Integration branches.
    pub branches: Vec<BranchToClean>,
}

/// An integration branch `score clean --branches` would delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BranchToClean {
    /// `score/RUN`.
    pub name: String,
    /// Whether HEAD contains it (deleting it loses nothing).
    pub merged: bool,
}

/// What [`Repo::clean`] and [`Repo::finish_run`] removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cleaned {
    /// Directories of runs' checkouts removed (and worktrees of runs made
    /// by earlier versions of score).
    pub checkouts: Vec<PathBuf>,
    /// Branches and refs deleted (`score/RUN`, `refs/score/RUN/TASK`).
    pub branches: Vec<String>,
}

/// The integration branch of a run: `score/RUN`.
pub fn integration_branch(run_id: &str) -> String {
    format!("score/{run_id}")
}

/// The ref of a part's commit: `refs/score/RUN/TASK` (not a branch: the
/// user's `git branch` does not list it, and no agent can move it).
pub fn part_ref(run_id: &str, task: &str) -> String {
    format!("refs/score/{run_id}/{task}")
}

/// The message of a part's commit: a subject, the intents served, and git
/// trailers (`Score-Run`, `Score-Part`, `Score-Agent`) that tools can query
/// (`git log --format='%(trailers:key=Score-Part,valueonly)'`).
pub fn part_commit_message(run_id: &str, task: &str, agent: &str, intents: &[&str]) -> String {
    let mut message = format!("score: part {task} (agent {agent})\n\n");
    if !intents.is_empty() {
        message.push_str(&format!("Intents served: {}\n\n", intents.join(", ")));
    }
    message.push_str(&format!(
        "Score-Run: {run_id}\nScore-Part: {task}\nScore-Agent: {agent}\n"
    ));
    message
}

/// The message of the merge commit that brings a part into the
/// integration branch.
pub fn merge_message(run_id: &str, task: &str) -> String {
    format!(
        "score: merge part {task} into {}\n\nScore-Run: {run_id}\nScore-Part: {task}\n",
        integration_branch(run_id)
    )
}

/// Check that a run id or task name can be a branch name component and a
/// directory name.
pub fn check_name(what: &'static str, name: &str) -> Result<(), WorkspaceError> {
    let reason = if name.is_empty() {
        Some("it is empty".to_string())
    } else if name.len() > 100 {
        Some("it is longer than 100 characters".to_string())
    } else if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        Some(format!("it contains `{c}`"))
    } else if name.starts_with('.') || name.starts_with('-') {
        Some("it starts with `.` or `-`".to_string())
    } else if name.ends_with('.') || name.ends_with(".lock") || name.contains("..") {
        Some("git refuses branch names ending in `.` or `.lock` or containing `..`".to_string())
    } else {
        None
    };
    match reason {
        Some(reason) => Err(WorkspaceError::InvalidName {
            what,
            name: name.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}

/// `score/RUN` → `refs/heads/score/RUN`; full ref names are kept.
fn full_ref(branch: &str) -> String {
    if branch.starts_with("refs/") {
        branch.to_string()
    } else {
        format!("refs/heads/{branch}")
    }
}

impl Repo {
    /// Open the repository whose top-level directory is `dir` and check
    /// that it can host a run. Writes nothing.
    pub fn open(dir: impl AsRef<Path>) -> Result<Repo, WorkspaceError> {
        let dir = dir.as_ref();
        let git = Git::default();
        if !dir.is_dir() {
            return Err(WorkspaceError::Io {
                action: "open the workspace".to_string(),
                path: dir.to_path_buf(),
                error: std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
            });
        }
        let version = git.at(dir, &["--version"]).text()?;
        match parse_version(&version) {
            Some(v) if v >= MIN_GIT => {}
            _ => return Err(WorkspaceError::GitTooOld { version }),
        }
        let out = git
            .at(
                dir,
                &[
                    "rev-parse",
                    "--path-format=absolute",
                    "--show-toplevel",
                    "--git-common-dir",
                    "--show-object-format",
                    "--show-prefix",
                ],
            )
            .output()?;
        if !out.success() {
            return Err(if out.stderr.contains("not a git repository") {
                WorkspaceError::NotARepository {
                    dir: dir.to_path_buf(),
                }
            } else if out.stderr.contains("must be run in a work tree") {
                WorkspaceError::NotAWorkTree {
                    dir: dir.to_path_buf(),
                }
            } else {
                failed("rev-parse --show-toplevel", dir.to_path_buf(), &out)
            });
        }
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut lines = text.lines();
        let (Some(toplevel), Some(common), Some(object_format)) =
            (lines.next(), lines.next(), lines.next())
        else {
            return Err(failed("rev-parse --show-toplevel", dir.to_path_buf(), &out));
        };
        let prefix = lines.next().unwrap_or("");
        let root = PathBuf::from(toplevel);
        if !prefix.is_empty() {
            return Err(WorkspaceError::NotTopLevel {
                dir: dir.to_path_buf(),
                toplevel: root,
            });
        }
        let head = git
            .at(&root, &["rev-parse", "--verify", "-q", "HEAD^{commit}"])
            .output()?;
        if !head.success() {
            return Err(WorkspaceError::NoCommits { root });
        }
        let mut sandboxes = sandbox_root().join(repository_key(&root));
        if check_outside(&root, &sandboxes).is_err() {
            // The cache directory is inside this repository (a repository
            // at the home directory, say): the system's temporary one.
            sandboxes = std::env::temp_dir()
                .join("score-parts")
                .join(repository_key(&root));
            check_outside(&root, &sandboxes)?;
        }
        Ok(Repo {
            root,
            common_dir: PathBuf::from(common),
            object_format: object_format.to_string(),
            sandboxes,
            git,
            pool: Mutex::new(()),
        })
    }

    /// Make score's commits with this identity instead of
    /// `score <score@localhost>`.
    pub fn with_identity(mut self, name: &str, email: &str) -> Repo {
        self.git.identity = Identity {
            name: name.to_string(),
            email: email.to_string(),
        };
        self
    }

    /// The repository's top-level directory (the workspace).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The commit checked out in the workspace.
    pub fn head_commit(&self) -> Result<String, WorkspaceError> {
        self.rev("HEAD")?.ok_or(WorkspaceError::NoCommits {
            root: self.root.clone(),
        })
    }

    /// The branch checked out in the workspace (`main`), or `None` when
    /// HEAD is detached.
    pub fn current_branch(&self) -> Result<Option<String>, WorkspaceError> {
        let out = self
            .git
            .at(&self.root, &["symbolic-ref", "-q", "--short", "HEAD"])
            .output()?;
        match out.code {
            Some(0) => Ok(Some(out.text())),
            Some(1) => Ok(None),
            _ => Err(failed("symbolic-ref HEAD", self.root.clone(), &out)),
        }
    }

    /// The commit `rev` names (a branch, a commit id, `HEAD`), or `None`.
    pub fn rev(&self, rev: &str) -> Result<Option<String>, WorkspaceError> {
        let spec = format!("{rev}^{{commit}}");
        let out = self
            .git
            .at(
                &self.root,
                &["rev-parse", "--verify", "-q", "--end-of-options", &spec],
            )
            .output()?;
        Ok(out.success().then(|| out.text()))
    }

    /// Files of the workspace with uncommitted changes: staged, unstaged,
    /// deleted and untracked (an untracked directory is listed once, as
    /// `dir/`), ignored files and `.score/` excepted.
    pub fn dirty_paths(&self) -> Result<Vec<String>, WorkspaceError> {
        self.status(&["status", "--porcelain=v1", "-z", "--untracked-files=normal"])
    }

    /// [`WorkspaceError::Dirty`] (which suggests `--allow-dirty`) if
    /// [`Repo::dirty_paths`] finds anything.
    pub fn ensure_clean(&self) -> Result<(), WorkspaceError> {
        let paths = self.dirty_paths()?;
        if paths.is_empty() {
            Ok(())
        } else {
            Err(WorkspaceError::Dirty {
                root: self.root.clone(),
                paths,
            })
        }
    }

    fn status(&self, args: &[&str]) -> Result<Vec<String>, WorkspaceError> {
        // No optional locks: the user may be running git in this checkout
        // at the same time, and a status need not refresh the index.
        let out = self
            .git
            .at(&self.root, args)
            .env("GIT_OPTIONAL_LOCKS", "0")
            .run()?;
        let mut paths = Vec::new();
        let mut fields = nul_fields(&out.stdout);
        while let Some(field) = fields.next() {
            if field.len() < 4 {
                continue;
            }
            let (code, path) = field.split_at(3);
            // A rename's or copy's old path follows as a field of its own.
            if code[0] == b'R' || code[0] == b'C' {
                fields.next();
            }
            let path = utf8_path(path)?;
            if path == SCORE_DIR || path.starts_with(".score/") {
                continue;
            }
            paths.push(path);
        }
        Ok(paths)
    }

    /// Create the integration branch `score/RUN` at HEAD and return its
    /// name. If it exists (a resumed run), it is kept as it is.
    pub fn create_integration_branch(&self, run_id: &str) -> Result<String, WorkspaceError> {
        check_name("run id", run_id)?;
        let branch = integration_branch(run_id);
        let reference = full_ref(&branch);
        if self.rev(&reference)?.is_some() {
            return Ok(branch);
        }
        let head = self.head_commit()?;
        let message = format!("score: run {run_id} starts");
        // The empty old value: create only if absent, atomically.
        let out = self
            .git
            .at(
                &self.root,
                &[
                    "update-ref",
                    "--create-reflog",
                    "-m",
                    &message,
                    &reference,
                    &head,
                    "",
                ],
            )
            .output()?;
        if out.success() || self.rev(&reference)?.is_some() {
            return Ok(branch);
        }
        Err(self
            .blocked_branch(&branch)?
            .unwrap_or_else(|| failed(&format!("update-ref {reference}"), self.root.clone(), &out)))
    }

    /// If a branch named like a parent directory of `branch` exists (`score`
    /// for `score/RUN`), the error saying so.
    fn blocked_branch(&self, branch: &str) -> Result<Option<WorkspaceError>, WorkspaceError> {
        let segments: Vec<&str> = branch.split('/').collect();
        for end in 1..segments.len() {
            let prefix = segments[..end].join("/");
            if self.rev(&full_ref(&prefix))?.is_some() {
                return Ok(Some(WorkspaceError::BranchNamespaceTaken {
                    branch: branch.to_string(),
                    blocking: prefix,
                }));
            }
        }
        Ok(None)
    }

    /// Whether `branch` contains `commit` (resume: was this part merged?).
    pub fn is_merged(&self, branch: &str, commit: &str) -> Result<bool, WorkspaceError> {
        let tip = self.branch_tip(branch)?;
        let commit = self.commit_of(commit)?;
        self.is_ancestor(&commit, &tip)
    }

    fn branch_tip(&self, branch: &str) -> Result<String, WorkspaceError> {
        self.rev(&full_ref(branch))?
            .ok_or_else(|| WorkspaceError::BranchNotFound {
                branch: branch.trim_start_matches("refs/heads/").to_string(),
            })
    }

    fn commit_of(&self, rev: &str) -> Result<String, WorkspaceError> {
        self.rev(rev)?.ok_or_else(|| WorkspaceError::NotACommit {
            rev: rev.to_string(),
        })
    }

    fn is_ancestor(&self, ancestor: &str, of: &str) -> Result<bool, WorkspaceError> {
        if ancestor == of {
            return Ok(true);
        }
        let out = self
            .git
            .at(&self.root, &["merge-base", "--is-ancestor", ancestor, of])
            .output()?;
        match out.code {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(failed("merge-base --is-ancestor", self.root.clone(), &out)),
        }
    }

    /// Merge `commit` (a commit id or branch) into `branch` (the
    /// integration branch) with a merge commit whose message is `message`,
    /// without touching any checkout or index.
    ///
    /// A conflict leaves the branch unchanged. Merging a commit the branch
    /// already contains does nothing. Concurrent merges into the same branch
    /// are safe: the branch moves by compare-and-swap, and a merge that
    /// loses the race is redone on the new tip.
    pub fn merge(
        &self,
        branch: &str,
        commit: &str,
        message: &str,
    ) -> Result<MergeOutcome, WorkspaceError> {
        let reference = full_ref(branch);
        if commit.starts_with('-') {
            return Err(WorkspaceError::NotACommit {
                rev: commit.to_string(),
            });
        }
        // Both at once; one by one only to say which is missing.
        let out = self
            .git
            .at(
                &self.root,
                &[
                    "rev-parse",
                    &format!("{reference}^{{commit}}"),
                    &format!("{commit}^{{commit}}"),
                ],
            )
            .output()?;
        let text = out.text();
        let (mut tip, commit) = match (out.success(), text.lines().next(), text.lines().nth(1)) {
            (true, Some(tip), Some(commit)) if is_oid(tip) && is_oid(commit) => {
                (tip.to_string(), commit.to_string())
            }
            _ => (self.branch_tip(branch)?, self.commit_of(commit)?),
        };
        for attempt in 0..16 {
            if attempt > 0 {
                tip = self.branch_tip(branch)?;
            }
            if self.is_ancestor(&commit, &tip)? {
                return Ok(MergeOutcome::UpToDate);
            }
            let tree = match self.merge_tree(&tip, &commit)? {
                Ok(tree) => tree,
                Err(conflict) => return Ok(conflict),
            };
            let merged = self.commit_tree(&tree, &[&tip, &commit], message)?;
            let reflog = format!("score: merge {commit}");
            let out = self
                .git
                .at(
                    &self.root,
                    &["update-ref", "-m", &reflog, &reference, &merged, &tip],
                )
                .output()?;
            if out.success() {
                return Ok(MergeOutcome::Merged { commit: merged });
            }
            if self.rev(&reference)?.as_deref() == Some(tip.as_str()) {
                // The branch did not move: a real failure, not a lost race.
                return Err(failed(
                    &format!("update-ref {reference}"),
                    self.root.clone(),
                    &out,
                ));
            }
        }
        Err(WorkspaceError::ConcurrentUpdate {
            branch: branch.to_string(),
        })
    }

    /// The merged tree of two commits, or the conflict.
    fn merge_tree(
        &self,
        ours: &str,
        theirs: &str,
    ) -> Result<Result<String, MergeOutcome>, WorkspaceError> {
        let out = self
            .git
            .at(
                &self.root,
                &[
                    "merge-tree",
                    "--write-tree",
                    "-z",
                    "--name-only",
                    "--messages",
                    ours,
                    theirs,
                ],
            )
            .output()?;
        match out.code {
            Some(0) => {
                let tree = nul_fields(&out.stdout)
                    .next()
                    .map(|t| String::from_utf8_lossy(t).into_owned())
                    .unwrap_or_default();
                Ok(Ok(tree))
            }
            Some(1) => Ok(Err(parse_conflict(&out.stdout)?)),
            _ => Err(failed("merge-tree --write-tree", self.root.clone(), &out)),
        }
    }

    fn commit_tree(
        &self,
        tree: &str,
        parents: &[&str],
        message: &str,
    ) -> Result<String, WorkspaceError> {
        commit_tree(&self.git, &self.root, tree, parents, message)
    }

    /// `--merge`: merge `branch` into the branch checked out in the
    /// workspace (a fast-forward when possible, otherwise a merge commit
    /// with `message`), updating the user's checkout.
    ///
    /// Refused when HEAD is detached or tracked files have uncommitted
    /// changes; untracked files are left to git, which refuses to overwrite
    /// them ([`WorkspaceError::MergeRefused`]). A conflict is detected
    /// before anything is touched and returned as
    /// [`MergeOutcome::Conflict`].
    pub fn merge_into_current(
        &self,
        branch: &str,
        message: &str,
    ) -> Result<MergeOutcome, WorkspaceError> {
        self.merge_into_current_except(branch, message, &[])
    }

    /// [`Repo::merge_into_current`], where uncommitted changes to the
    /// `own` paths (repository-relative: the score's own files) do not
    /// refuse the merge; git still refuses to overwrite them, should the
    /// merge change them.
    pub fn merge_into_current_except(
        &self,
        branch: &str,
        message: &str,
        own: &[String],
    ) -> Result<MergeOutcome, WorkspaceError> {
        let target = self.merge_target(branch, own)?;
        let head = self.head_commit()?;
        let theirs = self.commit_of(branch)?;
        if self.is_ancestor(&theirs, &head)? {
            return Ok(MergeOutcome::UpToDate);
        }
        let new = if self.is_ancestor(&head, &theirs)? {
            theirs
        } else {
            let tree = match self.merge_tree(&head, &theirs)? {
                Ok(tree) => tree,
                Err(conflict) => return Ok(conflict),
            };
            self.commit_tree(&tree, &[&head, &theirs], message)?
        };
        // The merge is a commit already; git's fast-forward updates the
        // checkout, the index and the branch, and refuses rather than
        // overwrite an untracked file.
        let out = self
            .git
            .at(&self.root, &["merge", "--ff-only", "-q", "--no-stat", &new])
            .output()?;
        if !out.success() {
            return Err(WorkspaceError::MergeRefused {
                target,
                branch: branch.to_string(),
                stderr: out.stderr,
            });
        }
        Ok(MergeOutcome::Merged { commit: new })
    }

    /// The branch `--merge` would merge `branch` into: refused when HEAD is
    /// detached or tracked files other than `own` (repository-relative)
    /// have uncommitted changes. Asked before a run starts, so that a
    /// merge the user asked for is not refused only at its end.
    pub fn merge_target(&self, branch: &str, own: &[String]) -> Result<String, WorkspaceError> {
        let Some(target) = self.current_branch()? else {
            return Err(WorkspaceError::DetachedHead {
                branch: branch.to_string(),
            });
        };
        let paths: Vec<String> = self
            .status(&["status", "--porcelain=v1", "-z", "--untracked-files=no"])?
            .into_iter()
            .filter(|p| !own.contains(p))
            .collect();
        if !paths.is_empty() {
            return Err(WorkspaceError::DirtyMergeTarget {
                target,
                branch: branch.to_string(),
                paths,
            });
        }
        Ok(target)
    }

    /// The directory of run `run_id`'s checkouts, outside the repository.
    pub fn sandbox_dir(&self, run_id: &str) -> PathBuf {
        self.sandboxes.join(run_id)
    }

    /// Take the runs' checkouts somewhere else than [`sandbox_root`]
    /// (tests, benchmarks). Refused inside the repository.
    pub fn with_sandboxes(mut self, dir: impl Into<PathBuf>) -> Result<Repo, WorkspaceError> {
        let dir = dir.into();
        check_outside(&self.root, &dir)?;
        self.sandboxes = dir;
        Ok(self)
    }

    /// Refs under `PREFIX` (a full ref prefix such as `refs/score/`).
    fn refs_under(&self, prefix: &str) -> Result<Vec<String>, WorkspaceError> {
        let out = self
            .git
            .at(&self.root, &["for-each-ref", "--format=%(refname)", prefix])
            .run()?;
        Ok(String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect())
    }

    /// Delete refs in one transaction.
    fn delete_refs(&self, refs: &[String]) -> Result<(), WorkspaceError> {
        if refs.is_empty() {
            return Ok(());
        }
        let mut input = String::new();
        for reference in refs {
            input.push_str(&format!("delete {reference}\n"));
        }
        self.git
            .at(&self.root, &["update-ref", "--stdin"])
            .stdin(input)
            .run()?;
        Ok(())
    }

    /// End of a run: its checkouts go (all of them, or with `keep` only
    /// the parked ones and the temporary directories), and so do the refs
    /// of its parts' commits (merged work stays on the integration branch,
    /// which stays).
    pub fn finish_run(&self, run_id: &str, keep: bool) -> Result<Cleaned, WorkspaceError> {
        check_name("run id", run_id)?;
        let _pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        let mut cleaned = Cleaned::default();
        let dir = self.sandbox_dir(run_id);
        if keep {
            for sub in ["pool", "tmp"] {
                remove_all(&dir.join(sub))?;
            }
        } else {
            if dir.exists() {
                cleaned.checkouts.push(dir.clone());
            }
            remove_all(&dir)?;
            let refs = self.refs_under(&format!("refs/score/{run_id}/"))?;
            self.delete_refs(&refs)?;
            cleaned.branches = refs;
        }
        Ok(cleaned)
    }

    /// What `score clean` would remove for every run not in `keep`: the
    /// runs' checkouts, their part refs (and what runs of earlier versions
    /// left: worktrees under `.score/worktrees`, `score-parts/` branches),
    /// and with `with_branches` their integration branches `score/RUN`
    /// (never the one checked out), each marked merged or not into HEAD.
    /// Changes nothing.
    pub fn plan_clean(
        &self,
        keep: &[&str],
        with_branches: bool,
    ) -> Result<CleanPlan, WorkspaceError> {
        let kept = |run: &str| keep.contains(&run);
        let mut plan = CleanPlan::default();
        if let Ok(entries) = std::fs::read_dir(&self.sandboxes) {
            for entry in entries.flatten() {
                let run = entry.file_name().to_string_lossy().into_owned();
                if !kept(&run) {
                    plan.checkouts.push(entry.path());
                }
            }
        }
        plan.checkouts.sort();
        let mut legacy_dirs = Vec::new();
        let legacy = self.root.join(SCORE_DIR).join("worktrees");
        if std::fs::symlink_metadata(&legacy).is_ok_and(|m| m.is_dir()) {
            for entry in std::fs::read_dir(&legacy).into_iter().flatten().flatten() {
                if !kept(&entry.file_name().to_string_lossy()) {
                    legacy_dirs.push(entry.path());
                }
            }
        }
        legacy_dirs.sort();
        plan.checkouts.extend(legacy_dirs);
        let run_of = |reference: &str, prefix: &str| {
            reference
                .strip_prefix(prefix)
                .and_then(|rest| rest.split('/').next())
                .map(str::to_string)
        };
        for prefix in ["refs/score/", "refs/heads/score-parts/"] {
            for reference in self.refs_under(prefix)? {
                if run_of(&reference, prefix).is_some_and(|run| !kept(&run)) {
                    plan.refs.push(reference);
                }
            }
        }
        if with_branches {
            let current = self.current_branch()?.map(|b| full_ref(&b));
            let head = self.head_commit()?;
            for reference in self.refs_under("refs/heads/score/")? {
                let run = run_of(&reference, "refs/heads/score/");
                if run.is_some_and(|run| !kept(&run)) && current.as_ref() != Some(&reference) {
                    let tip = self.branch_tip(&reference)?;
                    plan.branches.push(BranchToClean {
                        name: reference.trim_start_matches("refs/heads/").to_string(),
                        merged: self.is_ancestor(&tip, &head)?,
                    });
                }
            }
        }
        Ok(plan)
    }

    /// Carry out `plan`: checkouts and refs go; an integration branch goes
    /// if it is merged into HEAD, or with `force`. What was removed.
    pub fn clean(&self, plan: &CleanPlan, force: bool) -> Result<Cleaned, WorkspaceError> {
        let _pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        let mut cleaned = Cleaned::default();
        for dir in &plan.checkouts {
            remove_all(dir)?;
            cleaned.checkouts.push(dir.clone());
        }
        if plan
            .checkouts
            .iter()
            .any(|d| !d.starts_with(&self.sandboxes))
        {
            self.git.at(&self.root, &["worktree", "prune"]).run()?;
        }
        let mut doomed = plan.refs.clone();
        for branch in &plan.branches {
            if branch.merged || force {
                doomed.push(full_ref(&branch.name));
            }
        }
        self.delete_refs(&doomed)?;
        cleaned.branches = doomed
            .iter()
            .map(|r| r.trim_start_matches("refs/heads/").to_string())
            .collect();
        Ok(cleaned)
    }
}

/// The runs' checkouts must not be inside the repository they come from:
/// the user's `git status` would see them, and a part could reach the
/// user's files through `..`.
fn check_outside(root: &Path, dir: &Path) -> Result<(), WorkspaceError> {
    let canonical = |p: &Path| {
        // The directory may not exist yet: its deepest existing ancestor.
        let mut probe = p.to_path_buf();
        let mut rest = Vec::new();
        loop {
            if let Ok(real) = probe.canonicalize() {
                return rest.iter().rev().fold(real, |acc: PathBuf, c| acc.join(c));
            }
            match (probe.file_name().map(|n| n.to_os_string()), probe.parent()) {
                (Some(name), Some(parent)) => {
                    rest.push(name);
                    probe = parent.to_path_buf();
                }
                _ => return p.to_path_buf(),
            }
        }
    };
    let (root, dir) = (canonical(root), canonical(dir));
    if dir.starts_with(&root) || root.starts_with(&dir) {
        return Err(WorkspaceError::SandboxInsideRepository { dir, root });
    }
    Ok(())
}

/// A full object id (SHA-1 or SHA-256).
fn is_oid(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `git commit-tree` with the message on stdin.
fn commit_tree(
    git: &Git,
    dir: &Path,
    tree: &str,
    parents: &[&str],
    message: &str,
) -> Result<String, WorkspaceError> {
    let mut args = vec!["commit-tree".to_string(), tree.to_string()];
    for parent in parents {
        args.push("-p".to_string());
        args.push(parent.to_string());
    }
    git.at(dir, &args).stdin(message.to_string()).text()
}

/// `git merge-tree -z --name-only --messages` output of a conflicted merge:
/// `TREE\0PATH\0...\0\0` then messages `N\0PATH1\0..PATHN\0TYPE\0TEXT\0`.
fn parse_conflict(stdout: &[u8]) -> Result<MergeOutcome, WorkspaceError> {
    let mut fields = nul_fields(stdout);
    fields.next(); // the tree, with conflict markers
    let mut paths = Vec::new();
    for field in fields.by_ref() {
        if field.is_empty() {
            break;
        }
        paths.push(utf8_path(field)?);
    }
    let mut messages = Vec::new();
    while let Some(count) = fields.next() {
        let count: usize = String::from_utf8_lossy(count).parse().unwrap_or(0);
        for _ in 0..count {
            fields.next();
        }
        let kind = fields
            .next()
            .map(|k| String::from_utf8_lossy(k).into_owned());
        let text = fields
            .next()
            .map(|t| String::from_utf8_lossy(t).trim().to_string());
        if let (Some(kind), Some(text)) = (kind, text)
            && kind.starts_with("CONFLICT")
        {
            messages.push(text);
        }
    }
    paths.sort();
    paths.dedup();
    Ok(MergeOutcome::Conflict { paths, messages })
}

/// Make the runtime's directory `dir` (a workspace's `.score`) ignore
/// itself: a `.gitignore` inside it that ignores everything, so that
/// `git status` and `git add -A` never see the journals and logs, wherever
/// the workspace sits in the repository. Refuses a `.score` that is not a
/// real directory (a link could send the runtime's writes elsewhere).
pub fn ignore_runtime_dir(dir: &Path) -> Result<(), WorkspaceError> {
    match std::fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => {
            return Err(WorkspaceError::Io {
                action: "use".to_string(),
                path: dir.to_path_buf(),
                error: std::io::Error::other(
                    "it is not a directory (a symbolic link or a file): remove it, and score \
                     makes a new one",
                ),
            });
        }
        Err(_) => std::fs::create_dir_all(dir).map_err(|error| WorkspaceError::Io {
            action: "create".to_string(),
            path: dir.to_path_buf(),
            error,
        })?,
    }
    let file = dir.join(".gitignore");
    if std::fs::symlink_metadata(&file).is_ok() {
        return Ok(());
    }
    std::fs::write(
        &file,
        "# the score runtime's files (journals, logs, cache): never committed\n*\n",
    )
    .map_err(|error| WorkspaceError::Io {
        action: "write".to_string(),
        path: file,
        error,
    })
}

/// `rm -rf`, quiet when there is nothing to remove.
fn remove_all(path: &Path) -> Result<(), WorkspaceError> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(WorkspaceError::Io {
            action: "remove".to_string(),
            path: path.to_path_buf(),
            error,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_be_branch_components() {
        for good in ["20261124-153012-7f3a", "api", "build_docs", "step.2", "_x"] {
            assert!(check_name("task", good).is_ok(), "{good}");
        }
        for (bad, needle) in [
            ("", "empty"),
            ("a/b", "`/`"),
            ("a b", "` `"),
            (".hidden", "starts with"),
            ("-x", "starts with"),
            ("x.lock", ".lock"),
            ("a..b", ".."),
            ("é", "`é`"),
        ] {
            let e = check_name("task", bad).expect_err(bad).to_string();
            assert!(e.contains(needle), "{bad}: {e}");
        }
    }

    #[test]
    fn conflicts_parse_from_merge_tree_output() {
        let out = b"32b1\0d1/f1.txt\0n.txt\0\0\
            1\0d1/f1.txt\0Auto-merging\0Auto-merging d1/f1.txt\n\0\
            1\0d1/f1.txt\0CONFLICT (contents)\0CONFLICT (content): Merge conflict in d1/f1.txt\n\0\
            1\0n.txt\0CONFLICT (contents)\0CONFLICT (add/add): Merge conflict in n.txt\n\0";
        let MergeOutcome::Conflict { paths, messages } = parse_conflict(out).unwrap() else {
            panic!("a conflict");
        };
        assert_eq!(paths, ["d1/f1.txt", "n.txt"]);
        assert_eq!(
            messages,
            [
                "CONFLICT (content): Merge conflict in d1/f1.txt",
                "CONFLICT (add/add): Merge conflict in n.txt"
            ]
        );
    }

    #[test]
    fn messages_carry_trailers() {
        assert_eq!(
            part_commit_message("r1", "api", "claude", &["fast", "safe"]),
            "score: part api (agent claude)\n\nIntents served: fast, safe\n\n\
             Score-Run: r1\nScore-Part: api\nScore-Agent: claude\n"
        );
        assert_eq!(
            part_commit_message("r1", "api", "x", &[]),
            "score: part api (agent x)\n\nScore-Run: r1\nScore-Part: api\nScore-Agent: x\n"
        );
        assert!(merge_message("r1", "api").starts_with("score: merge part api into score/r1\n"));
    }

    #[test]
    fn branch_names() {
        assert_eq!(integration_branch("r1"), "score/r1");
        assert_eq!(part_ref("r1", "api"), "refs/score/r1/api");
        assert_eq!(full_ref("score/r1"), "refs/heads/score/r1");
        assert_eq!(full_ref("refs/heads/x"), "refs/heads/x");
    }
}
