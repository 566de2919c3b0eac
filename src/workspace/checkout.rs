//! A part's private checkout: the files of the integration branch in a
//! directory of their own, outside the user's repository, that only this
//! part's programs may write.
//!
//! # Why not a git worktree
//!
//! A worktree shares everything with the user's repository: refs, config,
//! hooks, `info/`, and an admin directory the part can write. An agent with
//! a shell could move the user's branches, plant hooks, point its `.git`
//! file at the user's index, or rewrite the base commit the runtime reads on
//! resume. A checkout shares nothing it could change:
//!
//! ```text
//! SANDBOXES/RUN/                    runtime-owned; a part may write none of it but its own dir
//!   parts/TASK/                     the part's files (the agent's working directory)
//!   parts/TASK/.git/                the agent's own repository: refs, config, hooks, index
//!                                   of its own; objects borrowed read-only (alternates)
//!   index/TASK                      the runtime's index of the part's files
//!   tmp/TASK/                       the part's TMPDIR
//!   pool/N/, pool/N.index           checkouts parked for the next part of the run
//! ```
//!
//! The runtime looks at a part's files only through its own index and the
//! user's object store (`GIT_DIR` = the repository's common dir,
//! `GIT_WORK_TREE` = the part's directory, `GIT_INDEX_FILE` = the runtime's
//! index), with attributes read from the part's base commit
//! (`GIT_ATTR_SOURCE`), never from files the part wrote, and with hooks and
//! the fsmonitor off (see `git.rs`). The objects it writes (the part's blobs,
//! trees and commit) are content-addressed data; the only ref it writes is
//! `refs/score/RUN/TASK`, in a namespace that is not a branch.
//!
//! A checkout's directory is checked by device and inode before every
//! operation: if it is no longer the directory the runtime made (replaced by
//! a link, say), the runtime refuses to touch it.
//!
//! Every part starts clean: a recycled checkout is reset to the new base,
//! and everything untracked or ignored that an earlier part left is removed
//! (`git clean -ffdx`), as is the earlier part's `.git`.

use super::edits::{self, EditError, FileEdit};
use super::enforce::{Change, ChangeKind};
use super::error::WorkspaceError;
use super::git::{Git, Invocation, failed, nul_fields, pathspec_input, utf8_path};
use super::{Repo, check_name, part_ref, remove_all};
use std::path::{Path, PathBuf};

/// One part's checkout. Cheap to clone; holds no handle.
#[derive(Clone, Debug)]
pub struct Checkout {
    git: Git,
    /// The user's repository's common git directory (objects, refs, config).
    git_dir: PathBuf,
    dir: PathBuf,
    index: PathBuf,
    tmp: PathBuf,
    run_id: String,
    task: String,
    base: String,
    base_tree: String,
    /// Device and inode of `dir` when the runtime made it.
    identity: (u64, u64),
}

/// The device and inode of a real directory (not a link to one).
fn identity_of(dir: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(dir).ok()?;
    meta.is_dir().then(|| (meta.dev(), meta.ino()))
}

fn io(action: &str, path: &Path, error: std::io::Error) -> WorkspaceError {
    WorkspaceError::Io {
        action: action.to_string(),
        path: path.to_path_buf(),
        error,
    }
}

fn create_dir(path: &Path) -> Result<(), WorkspaceError> {
    std::fs::create_dir_all(path).map_err(|e| io("create", path, e))
}

impl Repo {
    /// A checkout for part `task` of run `run_id` with the files of the
    /// integration branch `score/RUN` as it is now (call it once the part's
    /// dependencies are merged). Recycles a parked checkout of the run when
    /// there is one; otherwise checks every file out. Whatever was in the
    /// part's directory before (a crashed attempt's files) is discarded.
    pub fn checkout(&self, run_id: &str, task: &str) -> Result<Checkout, WorkspaceError> {
        check_name("run id", run_id)?;
        check_name("task", task)?;
        let integration = super::full_ref(&super::integration_branch(run_id));
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
        let (Some(base), Some(base_tree)) = (
            out.success().then_some(()).and(text.lines().next()),
            text.lines().nth(1),
        ) else {
            return Err(WorkspaceError::BranchNotFound {
                branch: super::integration_branch(run_id),
            });
        };
        let run_dir = self.sandbox_dir(run_id);
        for sub in ["parts", "index", "tmp", "pool"] {
            create_dir(&run_dir.join(sub))?;
        }
        let dir = run_dir.join("parts").join(task);
        let index = run_dir.join("index").join(task);
        let tmp = run_dir.join("tmp").join(task);
        // Leftovers of a crashed invocation: nothing of them is trusted.
        remove_all(&dir)?;
        remove_file(&index)?;
        remove_all(&tmp)?;
        create_dir(&tmp)?;
        let mut checkout = Checkout {
            git: self.git.clone(),
            git_dir: self.common_dir.clone(),
            dir,
            index,
            tmp,
            run_id: run_id.to_string(),
            task: task.to_string(),
            base: base.to_string(),
            base_tree: base_tree.to_string(),
            identity: (0, 0),
        };
        let recycled = match self.claim_parked(run_id, &checkout.dir, &checkout.index)? {
            Some(identity) => {
                checkout.identity = identity;
                // Anything odd an earlier part left that git cannot undo
                // (a directory it may not write, say): start afresh.
                if checkout.reset_to_base().is_err() {
                    remove_all(&checkout.dir)?;
                    remove_file(&checkout.index)?;
                    false
                } else {
                    true
                }
            }
            None => false,
        };
        if !recycled {
            create_dir(&checkout.dir)?;
            checkout.identity = identity_of(&checkout.dir).ok_or_else(|| {
                io(
                    "create",
                    &checkout.dir,
                    std::io::Error::other("not a directory"),
                )
            })?;
            checkout.reset_to_base()?;
        }
        checkout.init_private_repository(&self.common_dir, &self.object_format)?;
        Ok(checkout)
    }

    /// Move a parked checkout of the run (and its index) to `dir`, if there
    /// is one; its identity.
    fn claim_parked(
        &self,
        run_id: &str,
        dir: &Path,
        index: &Path,
    ) -> Result<Option<(u64, u64)>, WorkspaceError> {
        let _pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        let pool = self.sandbox_dir(run_id).join("pool");
        let Ok(entries) = std::fs::read_dir(&pool) else {
            return Ok(None);
        };
        let mut parked: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .collect();
        parked.sort();
        for candidate in parked {
            let candidate_index = parked_index(&candidate);
            let Some(identity) = identity_of(&candidate) else {
                remove_all(&candidate)?;
                continue;
            };
            if std::fs::rename(&candidate_index, index).is_err()
                || std::fs::rename(&candidate, dir).is_err()
            {
                remove_all(&candidate)?;
                remove_file(&candidate_index)?;
                remove_file(index)?;
                continue;
            }
            return Ok(Some(identity));
        }
        Ok(None)
    }

    /// Park a checkout whose part is done so that the run's next
    /// [`Repo::checkout`] reuses its files instead of writing every file
    /// again. Its `.git` and TMPDIR go now.
    pub fn release_checkout(&self, checkout: Checkout) -> Result<(), WorkspaceError> {
        let _pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        remove_all(&checkout.tmp)?;
        if checkout.verify().is_err() {
            // Not the directory the runtime made: never reuse it.
            remove_file(&checkout.dir)?;
            remove_all(&checkout.dir)?;
            remove_file(&checkout.index)?;
            return Ok(());
        }
        remove_all(&checkout.dir.join(".git"))?;
        let pool = self.sandbox_dir(&checkout.run_id).join("pool");
        create_dir(&pool)?;
        let parked = pool.join(&checkout.task);
        remove_all(&parked)?;
        let moved = std::fs::rename(&checkout.index, parked_index(&parked)).is_ok()
            && std::fs::rename(&checkout.dir, &parked).is_ok();
        if !moved {
            remove_all(&checkout.dir)?;
            remove_all(&parked)?;
            remove_file(&parked_index(&parked))?;
            remove_file(&checkout.index)?;
        }
        Ok(())
    }

    /// Remove a part's checkout, its index and its TMPDIR. Its commit stays
    /// where it was merged.
    pub fn remove_checkout(&self, checkout: Checkout) -> Result<(), WorkspaceError> {
        remove_all(&checkout.tmp)?;
        remove_file(&checkout.index)?;
        // A link in the checkout's place is removed, never followed.
        remove_file(&checkout.dir)?;
        remove_all(&checkout.dir)
    }
}

/// The index of a parked checkout `pool/NAME`: `pool/NAME.index` (task
/// names may contain dots, so never `with_extension`).
fn parked_index(parked: &Path) -> PathBuf {
    let mut name = parked.file_name().unwrap_or_default().to_os_string();
    name.push(".index");
    parked.with_file_name(name)
}

/// Delete a file or link; quiet when it is absent or is a directory.
fn remove_file(path: &Path) -> Result<(), WorkspaceError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.is_dir() => std::fs::remove_file(path).map_err(|e| io("delete", path, e)),
        _ => Ok(()),
    }
}

impl Checkout {
    /// The part's directory: the working directory of its programs.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The part's private temporary directory (its programs' `TMPDIR`).
    pub fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    pub fn task(&self) -> &str {
        &self.task
    }

    /// The commit the checkout started from (the integration branch's tip
    /// when it was made).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The ref that holds the part's commit: `refs/score/RUN/TASK`.
    pub fn commit_ref(&self) -> String {
        part_ref(&self.run_id, &self.task)
    }

    /// Refuse to go on if the part's directory is not the one the runtime
    /// made (by device and inode): a link or a directory put in its place
    /// would send the runtime's rollbacks and cleanups elsewhere.
    pub fn verify(&self) -> Result<(), WorkspaceError> {
        match identity_of(&self.dir) {
            Some(identity) if identity == self.identity => Ok(()),
            Some(_) => Err(WorkspaceError::CheckoutReplaced {
                task: self.task.clone(),
                path: self.dir.clone(),
                what: "another directory".to_string(),
            }),
            None => Err(WorkspaceError::CheckoutReplaced {
                task: self.task.clone(),
                path: self.dir.clone(),
                what: match std::fs::symlink_metadata(&self.dir) {
                    Ok(meta) if meta.file_type().is_symlink() => "a symbolic link".to_string(),
                    Ok(_) => "a file".to_string(),
                    Err(_) => "nothing (it was deleted)".to_string(),
                },
            }),
        }
    }

    /// The environment of every git command on the part's files: the
    /// user's repository (never the `.git` in the part's files), the part's
    /// files as work tree, the runtime's own index, and attributes (so
    /// filters and text conversions) from the base commit, never from a
    /// `.gitattributes` the part wrote.
    fn git_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("GIT_DIR", self.git_dir.to_string_lossy().into_owned()),
            ("GIT_WORK_TREE", self.dir.to_string_lossy().into_owned()),
            ("GIT_INDEX_FILE", self.index.to_string_lossy().into_owned()),
            ("GIT_ATTR_SOURCE", self.base.clone()),
        ]
    }

    /// git on the part's files, through the runtime's own index.
    fn git_on<'a>(&'a self, args: &[&str]) -> Invocation<'a> {
        self.git_env()
            .into_iter()
            .fold(self.git.at(&self.dir, args), |call, (key, value)| {
                call.env(key, value)
            })
    }

    /// The files, the index and nothing else exactly as in the base commit:
    /// tracked files restored, untracked and ignored files removed.
    fn reset_to_base(&self) -> Result<(), WorkspaceError> {
        self.verify()?;
        // Not part of the part's files, and never cleaned by git.
        remove_all(&self.dir.join(".git"))?;
        self.git_on(&["read-tree", "--reset", "-u", &self.base])
            .run()?;
        // `-ff`: directories that are repositories of their own too; `-x`:
        // ignored files too (a script left in `target/` by an earlier part
        // must not help a later part's checks pass).
        self.git_on(&["clean", "-q", "-ffdx"]).run()?;
        Ok(())
    }

    /// The agent's own repository in `.git`: HEAD on a branch named after
    /// the part at the base commit, an index matching the files, objects
    /// borrowed read-only from the user's repository. Nothing the runtime
    /// reads.
    fn init_private_repository(
        &self,
        common_dir: &Path,
        object_format: &str,
    ) -> Result<(), WorkspaceError> {
        let git = self.dir.join(".git");
        for sub in ["objects/info", "objects/pack", "refs/heads", "refs/tags"] {
            create_dir(&git.join(sub))?;
        }
        let config = if object_format == "sha1" {
            "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n".to_string()
        } else {
            format!(
                "[core]\n\trepositoryformatversion = 1\n\tfilemode = true\n\tbare = false\n\
                 [extensions]\n\tobjectFormat = {object_format}\n"
            )
        };
        let files = [
            ("config", config),
            ("HEAD", format!("ref: refs/heads/{}\n", self.task)),
            (
                &*format!("refs/heads/{}", self.task),
                format!("{}\n", self.base),
            ),
            (
                "objects/info/alternates",
                format!("{}\n", common_dir.join("objects").display()),
            ),
            (
                "description",
                "The part's own repository (made by score); the runtime never reads it.\n"
                    .to_string(),
            ),
        ];
        for (name, text) in files {
            let path = git.join(name);
            std::fs::write(&path, text).map_err(|e| io("write", &path, e))?;
        }
        let index = git.join("index");
        std::fs::copy(&self.index, &index).map_err(|e| io("copy", &index, e))?;
        Ok(())
    }

    /// Every file that differs from the base commit: tracked and untracked,
    /// added, modified, deleted and renamed (git's rename detection), sorted
    /// by path; ignored files (per the part's `.gitignore` files) are left
    /// out, as they are never committed. Symbolic links carry their target
    /// and repositories nested in the part's files are marked, for
    /// [`enforce`](super::enforce).
    ///
    /// Stages everything in the runtime's index, as [`Checkout::commit`]
    /// would.
    pub fn changes(&self) -> Result<Vec<Change>, WorkspaceError> {
        self.verify()?;
        self.git_on(&["add", "-A"]).run()?;
        let out = self
            .git_on(&[
                "diff-index",
                "--cached",
                "-M",
                "-z",
                "--raw",
                "--no-abbrev",
                &self.base,
            ])
            .run()?;
        let mut changes = Vec::new();
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
            let mut change = Change::new(path, kind);
            match *new_mode {
                "120000" => {
                    let target = std::fs::read_link(self.dir.join(&change.path))
                        .map(|t| t.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    change.link = Some(target);
                }
                "160000" => change.nested_repository = true,
                _ => {}
            }
            changes.push(change);
        }
        changes.sort();
        Ok(changes)
    }

    /// Put `paths` back as they are in the base commit: files the base has
    /// are restored (content and mode), others are deleted, in the files and
    /// in the index. Empty directories left behind are removed. Never
    /// follows a symbolic link: a link on the way to a path is removed, not
    /// gone through.
    pub fn rollback<S: AsRef<str>>(&self, paths: &[S]) -> Result<(), WorkspaceError> {
        if paths.is_empty() {
            return Ok(());
        }
        self.verify()?;
        for path in paths {
            let path = path.as_ref();
            if !crate::glob::is_valid_path(path) || path.split('/').any(|s| s == ".git") {
                return Err(WorkspaceError::InvalidPath {
                    path: path.to_string(),
                    reason: "it is not a file path inside the checkout".to_string(),
                });
            }
        }
        let in_base = self.in_base(paths)?;
        let (restore, delete): (Vec<&str>, Vec<&str>) = paths
            .iter()
            .map(AsRef::as_ref)
            .partition(|p| in_base.iter().any(|b| b == p));
        for path in &delete {
            // Whatever stands on the way (a link, a file) is cleared, so
            // the deletion happens here and nowhere else.
            self.clear_way(path)?;
            let file = self.dir.join(path);
            match std::fs::symlink_metadata(&file) {
                Ok(meta) if meta.is_dir() => remove_all(&file)?,
                Ok(_) => std::fs::remove_file(&file).map_err(|e| io("delete", &file, e))?,
                Err(_) => {}
            }
            self.remove_empty_parents(path);
        }
        if !delete.is_empty() {
            self.git_on(&[
                "rm",
                "-r",
                "-q",
                "--cached",
                "--ignore-unmatch",
                "--pathspec-from-file=-",
                "--pathspec-file-nul",
            ])
            .literal_pathspecs()
            .stdin(pathspec_input(&delete))
            .run()?;
        }
        if !restore.is_empty() {
            for path in &restore {
                self.clear_way(path)?;
            }
            self.git_on(&[
                "checkout",
                "-q",
                &self.base,
                "--pathspec-from-file=-",
                "--pathspec-file-nul",
            ])
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
            let out = self.git_on(&args).literal_pathspecs().run()?;
            for field in nul_fields(&out.stdout) {
                found.push(utf8_path(field)?);
            }
        }
        Ok(found)
    }

    /// Make room at `path`: a link or file where one of its directories
    /// should be is removed; so is a directory where the file was (for a
    /// restore).
    fn clear_way(&self, path: &str) -> Result<(), WorkspaceError> {
        let segments: Vec<&str> = path.split('/').collect();
        let mut at = self.dir.clone();
        for (i, segment) in segments.iter().enumerate() {
            at.push(segment);
            let last = i + 1 == segments.len();
            match std::fs::symlink_metadata(&at) {
                Err(_) => return Ok(()),
                Ok(meta) if last && meta.is_dir() => return Ok(()),
                Ok(meta) if !last && !meta.is_dir() => {
                    return std::fs::remove_file(&at).map_err(|e| io("delete", &at, e));
                }
                Ok(_) => {}
            }
        }
        Ok(())
    }

    fn remove_empty_parents(&self, path: &str) {
        let mut dir = self.dir.join(path);
        while dir.pop() && dir != self.dir && dir.starts_with(&self.dir) {
            // Fails, and stops the climb, at the first directory not empty.
            if std::fs::remove_dir(&dir).is_err() {
                break;
            }
        }
    }

    /// Apply an HTTP agent's file edits in the checkout, all or nothing,
    /// and return the paths edited. See [`FileEdit`] and
    /// [`parse_edits`](super::parse_edits); absolute paths, `..`, and paths
    /// into `.git` or `.score` are refused with a message per bad edit.
    pub fn apply_edits(&self, edits: &[FileEdit]) -> Result<Vec<String>, EditError> {
        if let Err(e) = self.verify() {
            return Err(EditError::one(None, None, e.to_string()));
        }
        // Without GIT_ATTR_SOURCE: `git apply` (2.47) crashes with it. It
        // runs no hook, and a `.gitattributes` of the part can at most pick
        // among the filters the user configured.
        let env: Vec<_> = self
            .git_env()
            .into_iter()
            .filter(|(key, _)| *key != "GIT_ATTR_SOURCE")
            .collect();
        edits::apply(&self.dir, &self.git, &env, edits)
    }

    /// Puts the work of `commit` (a part's commit of an earlier run) in
    /// the checkout: its changes merged three-way onto the base, as the
    /// integration branch would merge them. `Ok(false)`: they conflict
    /// with the base (nothing changed in the checkout). For a cached
    /// result, whose checks must pass again in the tree it would make.
    pub fn apply_commit(&self, commit: &str) -> Result<bool, WorkspaceError> {
        self.verify()?;
        if commit.starts_with('-') {
            return Err(WorkspaceError::NotACommit {
                rev: commit.to_string(),
            });
        }
        let args = [
            "merge-tree",
            "--write-tree",
            "-z",
            "--name-only",
            &self.base,
            commit,
        ];
        let out = self.git_on(&args).output()?;
        let tree = match out.code {
            Some(0) => nul_fields(&out.stdout)
                .next()
                .map(|t| String::from_utf8_lossy(t).into_owned())
                .unwrap_or_default(),
            Some(1) => return Ok(false),
            _ => return Err(failed("merge-tree --write-tree", self.dir.clone(), &out)),
        };
        self.git_on(&["read-tree", "--reset", "-u", &tree]).run()?;
        Ok(true)
    }

    /// Commit everything in the checkout (as [`Checkout::changes`] sees it)
    /// as one commit whose parent is the base, point `refs/score/RUN/TASK`
    /// at it, and return it; `None` if the files equal the base.
    ///
    /// Checks run before the commit may have written files: call
    /// [`Checkout::changes`] and enforce `owns` after them, not only after
    /// the agent.
    pub fn commit(&self, message: &str) -> Result<Option<String>, WorkspaceError> {
        self.verify()?;
        self.git_on(&["add", "-A"]).run()?;
        let tree = self.git_on(&["write-tree"]).text()?;
        if tree == self.base_tree {
            return Ok(None);
        }
        let commit = self
            .git_on(&["commit-tree", &tree, "-p", &self.base])
            .stdin(message.to_string())
            .text()?;
        let reflog = format!("score: commit part {}", self.task);
        let reference = self.commit_ref();
        let out = self
            .git_on(&["update-ref", "-m", &reflog, &reference, &commit])
            .output()?;
        if !out.success() {
            return Err(failed(
                &format!("update-ref {reference}"),
                self.dir.clone(),
                &out,
            ));
        }
        Ok(Some(commit))
    }
}
