//! A part's worktree: created (or recycled) from the integration branch,
//! then inspected, rolled back, edited and committed.

use super::edits::{self, EditError, FileEdit};
use super::enforce::{Change, ChangeKind};
use super::error::WorkspaceError;
use super::git::{Git, failed, nul_fields, pathspec_input, utf8_path};
use super::{Repo, check_name, commit_tree, full_ref, part_branch, remove_all};
use std::path::{Path, PathBuf};

/// The file, in a worktree's admin directory, that records its base commit.
const BASE_FILE: &str = "score-base";

/// One part's git worktree. Holds no lock and no handle: cheap to clone,
/// and can outlive the [`Repo`] it came from.
#[derive(Clone, Debug)]
pub struct Worktree {
    git: Git,
    path: PathBuf,
    /// The worktree's own admin directory (`.git/worktrees/NAME`).
    admin: PathBuf,
    run_id: String,
    task: String,
    branch: String,
    base: String,
    base_tree: String,
}

impl Repo {
    /// A fresh worktree for an attempt of part `task` in run `run_id`:
    /// `.score/worktrees/RUN/TASK` on branch `score-parts/RUN/TASK`, with
    /// the files of the integration branch `score/RUN` as it is now (call
    /// it once the part's dependencies are merged).
    ///
    /// Idempotent for resume: if the worktree exists, it is reset to its
    /// recorded base (not to the branch's current tip): local changes,
    /// untracked files and the part's commit, if any, are discarded;
    /// ignored files (build output) stay. A worktree left half-made by a
    /// crash is recreated. Use [`Repo::open_worktree`] instead to pick up
    /// work already done.
    pub fn add_worktree(&self, run_id: &str, task: &str) -> Result<Worktree, WorkspaceError> {
        check_name("run id", run_id)?;
        check_name("task", task)?;
        if let Some(worktree) = self.open_worktree(run_id, task)? {
            worktree.reset()?;
            return Ok(worktree);
        }
        let path = self.worktree_path(run_id, task);
        if path.exists() {
            // Leftovers of a crash before the base was recorded.
            self.remove_worktree_dir(&path)?;
            self.git.at(self.root(), &["worktree", "prune"]).run()?;
        }
        let integration = full_ref(&super::integration_branch(run_id));
        let out = self
            .git
            .at(
                self.root(),
                &[
                    "rev-parse",
                    &format!("{integration}^{{commit}}"),
                    &format!("{integration}^{{tree}}"),
                ],
            )
            .output()?;
        let text = out.text();
        let (Some(tip), Some(base_tree)) = (
            out.success().then_some(()).and(text.lines().next()),
            text.lines().nth(1),
        ) else {
            return Err(WorkspaceError::BranchNotFound {
                branch: super::integration_branch(run_id),
            });
        };
        let (tip, base_tree) = (tip.to_string(), base_tree.to_string());
        let branch = part_branch(run_id, task);
        if self.claim_parked(run_id, &path)? {
            switch(&self.git, &path, &branch, &tip)?;
        } else {
            self.create(&path, &branch, &tip)?;
        }
        let admin = admin_dir(&path)?;
        write_atomic(&admin.join(BASE_FILE), &format!("{tip}\n"))?;
        Ok(Worktree {
            git: self.git.clone(),
            path,
            admin,
            run_id: run_id.to_string(),
            task: task.to_string(),
            branch,
            base: tip,
            base_tree,
        })
    }

    fn create(&self, path: &Path, branch: &str, base: &str) -> Result<(), WorkspaceError> {
        let path_text = path.to_string_lossy().into_owned();
        let args = [
            "worktree",
            "add",
            "-q",
            "--no-track",
            "-B",
            branch,
            &path_text,
            base,
        ];
        let out = self.git.at(self.root(), &args).output()?;
        if out.success() {
            return Ok(());
        }
        if let Some(error) = self.blocked_branch(branch)? {
            return Err(error);
        }
        // A worktree registered at this path whose files are gone: forget
        // it and try again.
        self.git.at(self.root(), &["worktree", "prune"]).run()?;
        remove_all(path)?;
        self.git.at(self.root(), &args).run()?;
        Ok(())
    }

    /// Move a parked worktree of the run to `path`, if there is one.
    fn claim_parked(&self, run_id: &str, path: &Path) -> Result<bool, WorkspaceError> {
        let _pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        let Ok(entries) = std::fs::read_dir(self.pool_dir(run_id)) else {
            return Ok(false);
        };
        let mut parked: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        parked.sort();
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|error| WorkspaceError::Io {
                action: "create".to_string(),
                path: parent.to_path_buf(),
                error,
            })?;
        }
        for candidate in parked {
            let from = candidate.to_string_lossy().into_owned();
            let to = path.to_string_lossy().into_owned();
            let out = self
                .git
                .at(self.root(), &["worktree", "move", &from, &to])
                .output()?;
            if out.success() {
                return Ok(true);
            }
            // Damaged: drop it and try the next.
            self.remove_worktree_dir(&candidate)?;
        }
        Ok(false)
    }

    /// The existing worktree of part `task`, exactly as it is (resume: the
    /// agent's files may be there, or its commit), or `None` if there is no
    /// complete one.
    pub fn open_worktree(
        &self,
        run_id: &str,
        task: &str,
    ) -> Result<Option<Worktree>, WorkspaceError> {
        check_name("run id", run_id)?;
        check_name("task", task)?;
        let path = self.worktree_path(run_id, task);
        if !path.join(".git").is_file() {
            return Ok(None);
        }
        let Ok(admin) = admin_dir(&path) else {
            return Ok(None);
        };
        let Ok(recorded) = std::fs::read_to_string(admin.join(BASE_FILE)) else {
            return Ok(None);
        };
        let base = recorded.trim().to_string();
        let out = self
            .git
            .at(
                &path,
                &["rev-parse", "--verify", "-q", &format!("{base}^{{tree}}")],
            )
            .output()?;
        if !out.success() {
            return Ok(None);
        }
        Ok(Some(Worktree {
            git: self.git.clone(),
            path,
            admin,
            run_id: run_id.to_string(),
            task: task.to_string(),
            branch: part_branch(run_id, task),
            base,
            base_tree: out.text(),
        }))
    }

    /// Park a worktree whose part is done (merged, or abandoned) so that
    /// the run's next [`Repo::add_worktree`] reuses it instead of checking
    /// out every file again. Its files are discarded then; its branch stays
    /// until [`Repo::finish_run`].
    pub fn release_worktree(&self, worktree: Worktree) -> Result<(), WorkspaceError> {
        let _pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        let pool = self.pool_dir(&worktree.run_id);
        std::fs::create_dir_all(&pool).map_err(|error| WorkspaceError::Io {
            action: "create".to_string(),
            path: pool.clone(),
            error,
        })?;
        let parked = pool.join(&worktree.task);
        remove_all(&parked)?;
        let from = worktree.path.to_string_lossy().into_owned();
        let to = parked.to_string_lossy().into_owned();
        let out = self
            .git
            .at(self.root(), &["worktree", "move", &from, &to])
            .output()?;
        if !out.success() {
            // Cannot be moved (a submodule inside, say): remove it instead.
            self.remove_worktree_dir(&worktree.path)?;
        }
        // The base record belongs to the part, not to the directory.
        let _ = std::fs::remove_file(worktree.admin.join(BASE_FILE));
        Ok(())
    }
}

/// Check out `base` on a new (or reset) `branch` in an existing worktree and
/// drop untracked files; ignored files stay.
fn switch(git: &Git, path: &Path, branch: &str, base: &str) -> Result<(), WorkspaceError> {
    git.at(
        path,
        &["checkout", "-q", "-f", "--no-track", "-B", branch, base],
    )
    .run()?;
    // `-ff`: also directories that are git repositories of their own.
    git.at(path, &["clean", "-q", "-ff", "-d"]).run()?;
    Ok(())
}

/// The worktree's admin directory, from its `.git` file
/// (`gitdir: /repo/.git/worktrees/NAME`).
fn admin_dir(path: &Path) -> Result<PathBuf, WorkspaceError> {
    let dot_git = path.join(".git");
    let text = std::fs::read_to_string(&dot_git).map_err(|error| WorkspaceError::Io {
        action: "read".to_string(),
        path: dot_git.clone(),
        error,
    })?;
    let dir = text
        .trim()
        .strip_prefix("gitdir: ")
        .ok_or_else(|| WorkspaceError::Io {
            action: "read the worktree link".to_string(),
            path: dot_git.clone(),
            error: std::io::Error::new(std::io::ErrorKind::InvalidData, "no `gitdir:` line"),
        })?;
    // Relative when git's `worktree.useRelativePaths` is set.
    Ok(path.join(dir))
}

fn write_atomic(file: &Path, text: &str) -> Result<(), WorkspaceError> {
    let temp = file.with_extension("tmp");
    let io = |action: &str, path: &Path, error| WorkspaceError::Io {
        action: action.to_string(),
        path: path.to_path_buf(),
        error,
    };
    std::fs::write(&temp, text).map_err(|e| io("write", &temp, e))?;
    std::fs::rename(&temp, file).map_err(|e| io("replace", file, e))
}

impl Worktree {
    /// The worktree's directory: the working directory of command agents.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    pub fn task(&self) -> &str {
        &self.task
    }

    /// The part's branch, `score-parts/RUN/TASK`.
    pub fn branch(&self) -> &str {
        &self.branch
    }

    /// The commit the worktree started from (the integration branch's tip
    /// when it was created).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Back to the base: the branch and index at the base commit, tracked
    /// files restored, untracked files removed, ignored files kept.
    pub fn reset(&self) -> Result<(), WorkspaceError> {
        switch(&self.git, &self.path, &self.branch, &self.base)
    }

    /// Every file that differs from the base commit: tracked and untracked,
    /// added, modified, deleted and renamed (git's rename detection), sorted
    /// by path. Ignored files (per `.gitignore`) are left out. Commits the
    /// agent made itself count too: the comparison is with the base.
    ///
    /// Stages everything (`git add -A`) in the worktree's own index, as
    /// [`Worktree::commit`] would.
    pub fn changes(&self) -> Result<Vec<Change>, WorkspaceError> {
        self.git.at(&self.path, &["add", "-A"]).run()?;
        let out = self
            .git
            .at(
                &self.path,
                &[
                    "diff-index",
                    "--cached",
                    "-M",
                    "-z",
                    "--raw",
                    "--no-abbrev",
                    &self.base,
                ],
            )
            .run()?;
        let mut changes = Vec::new();
        let mut nested = Vec::new();
        let mut fields = nul_fields(&out.stdout);
        while let Some(header) = fields.next() {
            // `:OLDMODE NEWMODE OLDOID NEWOID STATUS`, then the path(s).
            let header = String::from_utf8_lossy(header);
            let parts: Vec<&str> = header.trim_start_matches(':').split(' ').collect();
            let (Some(new_mode), Some(status)) = (parts.get(1), parts.get(4)) else {
                continue;
            };
            let Some(path) = fields.next() else { break };
            let first = utf8_path(path)?;
            let (path, kind) = match status.as_bytes().first() {
                Some(b'R') => {
                    let Some(to) = fields.next() else { break };
                    (utf8_path(to)?, ChangeKind::Renamed { from: first })
                }
                Some(b'C') => {
                    let Some(to) = fields.next() else { break };
                    (utf8_path(to)?, ChangeKind::Added)
                }
                Some(b'A') => (first, ChangeKind::Added),
                Some(b'D') => (first, ChangeKind::Deleted),
                _ => (first, ChangeKind::Modified),
            };
            if *new_mode == "160000" {
                nested.push(path.clone());
            }
            changes.push(Change { path, kind });
        }
        if !nested.is_empty() {
            return Err(WorkspaceError::NestedRepository {
                task: self.task.clone(),
                paths: nested,
            });
        }
        changes.sort();
        Ok(changes)
    }

    /// Put `paths` back as they are in the base commit: files the base has
    /// are restored (content and mode), others are deleted, in the files and
    /// in the index. Empty directories left behind are removed.
    pub fn rollback<S: AsRef<str>>(&self, paths: &[S]) -> Result<(), WorkspaceError> {
        if paths.is_empty() {
            return Ok(());
        }
        for path in paths {
            let path = path.as_ref();
            if !crate::glob::is_valid_path(path) || path.split('/').any(|s| s == ".git") {
                return Err(WorkspaceError::InvalidPath {
                    path: path.to_string(),
                    reason: "it is not a file path inside the worktree".to_string(),
                });
            }
        }
        let in_base = self.in_base(paths)?;
        let (restore, delete): (Vec<&str>, Vec<&str>) = paths
            .iter()
            .map(AsRef::as_ref)
            .partition(|p| in_base.iter().any(|b| b == p));
        for path in &delete {
            let file = self.path.join(path);
            match std::fs::symlink_metadata(&file) {
                Ok(meta) if meta.is_dir() => remove_all(&file)?,
                Ok(_) => std::fs::remove_file(&file).map_err(|error| WorkspaceError::Io {
                    action: "delete".to_string(),
                    path: file.clone(),
                    error,
                })?,
                Err(_) => {}
            }
            self.remove_empty_parents(path);
        }
        if !delete.is_empty() {
            self.git
                .at(
                    &self.path,
                    &[
                        "rm",
                        "-r",
                        "-q",
                        "--cached",
                        "--ignore-unmatch",
                        "--pathspec-from-file=-",
                        "--pathspec-file-nul",
                    ],
                )
                .literal_pathspecs()
                .stdin(pathspec_input(&delete))
                .run()?;
        }
        if !restore.is_empty() {
            for path in &restore {
                self.clear_way(path)?;
            }
            self.git
                .at(
                    &self.path,
                    &[
                        "checkout",
                        "-q",
                        &self.base,
                        "--pathspec-from-file=-",
                        "--pathspec-file-nul",
                    ],
                )
                .literal_pathspecs()
                .stdin(pathspec_input(&restore))
                .run()?;
        }
        Ok(())
    }

    /// Which of `paths` are files of the base commit.
    fn in_base<S: AsRef<str>>(&self, paths: &[S]) -> Result<Vec<String>, WorkspaceError> {
        let mut found = Vec::new();
        // Bounded argument lists, far below the system's limit.
        for chunk in paths.chunks(500) {
            let mut args = vec![
                "ls-tree",
                "-r",
                "-z",
                "--name-only",
                "--full-tree",
                &self.base,
                "--",
            ];
            args.extend(chunk.iter().map(AsRef::as_ref));
            let out = self.git.at(&self.path, &args).literal_pathspecs().run()?;
            for field in nul_fields(&out.stdout) {
                found.push(utf8_path(field)?);
            }
        }
        Ok(found)
    }

    /// Make room to restore `path`: a directory where the file was, or a
    /// file or link where one of its directories was, is removed.
    fn clear_way(&self, path: &str) -> Result<(), WorkspaceError> {
        let segments: Vec<&str> = path.split('/').collect();
        let mut at = self.path.clone();
        for (i, segment) in segments.iter().enumerate() {
            at.push(segment);
            let last = i + 1 == segments.len();
            match std::fs::symlink_metadata(&at) {
                Err(_) => return Ok(()),
                Ok(meta) if last && meta.is_dir() => return remove_all(&at),
                Ok(meta) if !last && !meta.is_dir() => {
                    return std::fs::remove_file(&at).map_err(|error| WorkspaceError::Io {
                        action: "delete".to_string(),
                        path: at.clone(),
                        error,
                    });
                }
                Ok(_) => {}
            }
        }
        Ok(())
    }

    fn remove_empty_parents(&self, path: &str) {
        let mut dir = self.path.join(path);
        while dir.pop() && dir != self.path && dir.starts_with(&self.path) {
            // Fails, and stops the climb, at the first directory not empty.
            if std::fs::remove_dir(&dir).is_err() {
                break;
            }
        }
    }

    /// Apply an HTTP agent's file edits in the worktree, all or nothing,
    /// and return the paths edited. See [`FileEdit`] and
    /// [`parse_edits`](super::parse_edits); absolute paths, `..`, and paths
    /// into `.git` or `.score` are refused with a message per bad edit.
    pub fn apply_edits(&self, edits: &[FileEdit]) -> Result<Vec<String>, EditError> {
        edits::apply(&self.path, &self.git, edits)
    }

    /// Commit everything in the worktree (as [`Worktree::changes`] sees it)
    /// as one commit whose parent is the base, on the part's branch, and
    /// return it; `None` if the files equal the base.
    ///
    /// Idempotent: if the branch already holds a commit on the base with
    /// these very files (a resumed run), that commit is returned.
    /// Checks run before the commit may have written files: call
    /// [`Worktree::changes`] and enforce `owns` after them, not only after
    /// the agent.
    pub fn commit(&self, message: &str) -> Result<Option<String>, WorkspaceError> {
        self.git.at(&self.path, &["add", "-A"]).run()?;
        let tree = self.git.at(&self.path, &["write-tree"]).text()?;
        let reference = full_ref(&self.branch);
        if let Some((commit, commit_tree, parents)) = self.tip()?
            && commit_tree == tree
            && parents == [self.base.as_str()]
        {
            return Ok(Some(commit));
        }
        if tree == self.base_tree {
            return Ok(None);
        }
        let commit = commit_tree(&self.git, &self.path, &tree, &[&self.base], message)?;
        let reflog = format!("score: commit part {}", self.task);
        self.git
            .at(
                &self.path,
                &["update-ref", "-m", &reflog, &reference, &commit],
            )
            .run()?;
        // An agent may have switched branches; the part's branch is what
        // the worktree must show.
        let head = std::fs::read_to_string(self.admin.join("HEAD")).unwrap_or_default();
        if head.trim() != format!("ref: {reference}") {
            self.git
                .at(&self.path, &["symbolic-ref", "HEAD", &reference])
                .run()?;
        }
        Ok(Some(commit))
    }

    /// The part's commit on its branch, if it has one (resume: the agent
    /// finished and its work was committed, but maybe not merged).
    pub fn committed(&self) -> Result<Option<String>, WorkspaceError> {
        Ok(match self.tip()? {
            Some((commit, _, parents)) if parents == [self.base.as_str()] => Some(commit),
            _ => None,
        })
    }

    /// The part branch's tip: its commit, tree and parents; `None` if the
    /// branch does not exist.
    fn tip(&self) -> Result<Option<(String, String, Vec<String>)>, WorkspaceError> {
        let reference = full_ref(&self.branch);
        let out = self
            .git
            .at(
                &self.path,
                &[
                    "rev-parse",
                    &format!("{reference}^{{commit}}"),
                    &format!("{reference}^{{tree}}"),
                    &format!("{reference}^@"),
                ],
            )
            .output()?;
        if !out.success() {
            return Ok(None);
        }
        let text = out.text();
        let mut lines = text.lines().map(str::to_string);
        match (lines.next(), lines.next()) {
            (Some(commit), Some(tree)) => Ok(Some((commit, tree, lines.collect()))),
            _ => Err(failed(
                &format!("rev-parse {reference}"),
                self.path.clone(),
                &out,
            )),
        }
    }
}
