//! `.score/lock`: one run per workspace at a time.
//!
//! The lock file names its holder (pid, run id, start time). A lock whose
//! process is gone (a run killed with SIGKILL, a crashed machine) is stale
//! and is taken over, so `--resume` after a crash needs no manual cleanup;
//! the processes its holder left running are stopped first.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Who holds the lock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub run: String,
    /// Milliseconds since the Unix epoch.
    pub since: u64,
}

/// A held lock; released (the file removed) when dropped.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    /// The holder it replaced, when it took over a stale lock.
    pub took_over: Option<Holder>,
    /// How many processes the replaced holder had left running (stopped
    /// before the lock was taken).
    pub leftovers_stopped: usize,
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Only remove our own lock.
        if let Some(holder) = read_holder(&self.path)
            && holder.pid == std::process::id()
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Why the lock could not be taken.
#[derive(Debug)]
pub enum LockError {
    /// Another live process holds it.
    Held {
        holder: Holder,
        path: PathBuf,
    },
    Io(std::io::Error, PathBuf),
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Held { holder, path } => write!(
                f,
                "another `score run` is using this workspace: process {} (run {}), holding `{}`; \
                 wait for it to finish or stop it (Ctrl-C), then try again",
                holder.pid,
                holder.run,
                path.display()
            ),
            LockError::Io(e, path) => write!(f, "cannot create the lock `{}`: {e}", path.display()),
        }
    }
}

fn read_holder(path: &Path) -> Option<Holder> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// Whether a process with this pid exists.
fn alive(pid: u32) -> bool {
    if pid == 0 || pid > i32::MAX as u32 {
        return false;
    }
    // SAFETY: kill(2) with signal 0 only checks for existence/permission.
    let r = unsafe { libc::kill(pid as i32, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Takes `.score/lock` in `score_dir` for `run`.
pub fn acquire(score_dir: &Path, run: &str) -> Result<Lock, LockError> {
    let path = score_dir.join("lock");
    std::fs::create_dir_all(score_dir).map_err(|e| LockError::Io(e, path.clone()))?;
    let me = Holder {
        pid: std::process::id(),
        run: run.to_string(),
        since: super::journal::now_ms(),
    };
    let mut took_over: Option<Holder> = None;
    let mut leftovers_stopped = 0;
    // Two rounds: the second after removing a stale lock (if another
    // process wins the race in between, it holds the lock and we say so).
    for _ in 0..2 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                let text = serde_json::to_string(&me).unwrap_or_default();
                file.write_all(text.as_bytes())
                    .and_then(|_| file.sync_all())
                    .map_err(|e| LockError::Io(e, path.clone()))?;
                return Ok(Lock {
                    path,
                    took_over,
                    leftovers_stopped,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                match read_holder(&path) {
                    Some(holder) if alive(holder.pid) && holder.pid != me.pid => {
                        return Err(LockError::Held { holder, path });
                    }
                    // Stale (its process is gone), ours, or unreadable (a
                    // crash while writing it): take it over, once what its
                    // holder left running (agents, checks) is stopped: they
                    // would go on writing in the worktrees of the run.
                    stale => {
                        if let Some(holder) = &stale
                            && holder.pid != me.pid
                        {
                            leftovers_stopped += super::process::stop_leftovers(holder.pid);
                        }
                        took_over = stale;
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
            Err(e) => return Err(LockError::Io(e, path)),
        }
    }
    match read_holder(&path) {
        Some(holder) => Err(LockError::Held { holder, path }),
        None => Err(LockError::Io(
            std::io::Error::other("the lock keeps changing hands"),
            path,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_stale_locks_are_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let lock = acquire(dir.path(), "r1").unwrap();
        assert!(lock.took_over.is_none());
        // A live holder (the parent of this process) blocks.
        let parent = Holder {
            pid: std::os::unix::process::parent_id(),
            run: "other".into(),
            since: 0,
        };
        drop(lock);
        assert!(!dir.path().join("lock").exists());
        std::fs::write(
            dir.path().join("lock"),
            serde_json::to_string(&parent).unwrap(),
        )
        .unwrap();
        let error = acquire(dir.path(), "r2").unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("run other") && text.contains(&parent.pid.to_string()),
            "{text}"
        );
        // A dead holder is stale.
        let dead = Holder {
            pid: i32::MAX as u32 - 7,
            run: "gone".into(),
            since: 0,
        };
        std::fs::write(
            dir.path().join("lock"),
            serde_json::to_string(&dead).unwrap(),
        )
        .unwrap();
        let lock = acquire(dir.path(), "r3").unwrap();
        assert_eq!(
            lock.took_over.as_ref().map(|h| h.run.as_str()),
            Some("gone")
        );
    }
}
