//! `.score/lock`: one run per workspace at a time.
//!
//! The lock file names its holder (pid, run id, start time). A lock whose
//! process is gone (a run killed with SIGKILL, a crashed machine) is stale
//! and is taken over, so `--resume` after a crash needs no manual cleanup;
//! the processes its holder left running are stopped first.
//!
//! A pid alone does not name a process for long: once the holder is gone,
//! the system may give its pid to any other program, and a lock naming a
//! live pid would then block every run for good. So the holder also records
//! when its process started (`/proc/PID/stat`, in clock ticks after boot):
//! a live pid whose process started at another time is not the holder, and
//! its lock is stale too. Where the start time cannot be known (no `/proc`,
//! a lock written by an older version), the message says which process has
//! the pid, that it may not be a score run, and how to remove the lock.

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
    /// When the holder's process started, in clock ticks after boot (field
    /// 22 of `/proc/PID/stat`): with the pid, it names the process even
    /// after the pid is given to another. `None` without `/proc`, and in
    /// locks written by older versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<u64>,
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
    /// A live process has the holder's pid.
    Held {
        holder: Holder,
        path: PathBuf,
        /// That process's command line, when `/proc` shows it.
        command: Option<String>,
        /// Its start time is the one the holder recorded: it is the holder.
        /// When `false`, it may be another program that got the pid since.
        verified: bool,
    },
    Io(std::io::Error, PathBuf),
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Held {
                holder,
                path,
                command,
                verified,
            } => {
                let pid = holder.pid;
                let command = match command {
                    Some(command) => format!("`{command}`"),
                    None => "its command line cannot be read".to_string(),
                };
                let age = held_for(holder.since)
                    .map(|age| format!(", for {age}"))
                    .unwrap_or_default();
                write!(
                    f,
                    "the lock `{}` says another `score run` is using this workspace: \
                     process {pid} ({command}), run {}{age}",
                    path.display(),
                    holder.run
                )?;
                if *verified {
                    write!(
                        f,
                        "; wait for it to finish or stop it (Ctrl-C in its terminal, or \
                         `kill {pid}`), then try again"
                    )
                } else {
                    write!(
                        f,
                        "; process {pid} may not be a score run: the lock does not say when \
                         its holder started, and another program may have got its pid since. \
                         If it is a `score run`, wait for it to finish or stop it (Ctrl-C in \
                         its terminal); if it is not, remove `{}` and try again",
                        path.display()
                    )
                }
            }
            LockError::Io(e, path) => write!(f, "cannot create the lock `{}`: {e}", path.display()),
        }
    }
}

fn read_holder(path: &Path) -> Option<Holder> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// How long ago `since` (ms since the epoch) was, as a duration; `None`
/// when it is not a plausible time.
fn held_for(since: u64) -> Option<String> {
    let now = super::journal::now_ms();
    (since > 0 && since <= now).then(|| crate::plan::format_duration((now - since) / 1000 * 1000))
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

/// When process `pid` started, in clock ticks after boot (`/proc/PID/stat`,
/// field 22); `None` without `/proc` or for a process that is gone.
fn started(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    start_time_of_stat(&stat)
}

/// Field 22 of a `/proc/PID/stat` line. The second field (the command in
/// parentheses) may hold spaces and parentheses itself, so fields are
/// counted from the last `)`.
fn start_time_of_stat(stat: &str) -> Option<u64> {
    let after_command = &stat[stat.rfind(')')? + 1..];
    // The fields after the command start with field 3 (the state).
    after_command.split_whitespace().nth(22 - 3)?.parse().ok()
}

/// Process `pid`'s command line (`/proc/PID/cmdline`), shortened.
fn command_line(pid: u32) -> Option<String> {
    let bytes = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let args: Vec<String> = bytes
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    if args.is_empty() {
        return None;
    }
    let line = args.join(" ");
    Some(match line.char_indices().nth(160) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line,
    })
}

/// Whether process `pid` is (probably) a `score` process: its program is
/// named `score`, or is this very binary.
fn is_score(pid: u32) -> bool {
    let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
    if exe.is_some() && exe == std::env::current_exe().ok() {
        return true;
    }
    command_line(pid)
        .and_then(|c| c.split(' ').next().map(str::to_string))
        .is_some_and(|program| {
            Path::new(&program)
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("score"))
        })
}

/// What the pid a lock names is now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Liveness {
    /// No process has it.
    Gone,
    /// The holder itself: the pid and its start time match.
    Holder,
    /// Another process got the pid after the holder ended.
    Reused,
    /// A live process whose start time cannot be compared.
    Unknown,
}

fn liveness(holder: &Holder) -> Liveness {
    if !alive(holder.pid) {
        return Liveness::Gone;
    }
    match (holder.started, started(holder.pid)) {
        (Some(recorded), Some(now)) if recorded == now => Liveness::Holder,
        (Some(_), Some(_)) => Liveness::Reused,
        _ => Liveness::Unknown,
    }
}

fn held(holder: Holder, path: PathBuf, verified: bool) -> LockError {
    LockError::Held {
        command: command_line(holder.pid),
        holder,
        path,
        verified,
    }
}

/// Takes `.score/lock` in `score_dir` for `run`.
pub fn acquire(score_dir: &Path, run: &str) -> Result<Lock, LockError> {
    let path = score_dir.join("lock");
    std::fs::create_dir_all(score_dir).map_err(|e| LockError::Io(e, path.clone()))?;
    let me = Holder {
        pid: std::process::id(),
        run: run.to_string(),
        since: super::journal::now_ms(),
        started: started(std::process::id()),
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
                let holder = read_holder(&path);
                let state = holder.as_ref().filter(|h| h.pid != me.pid).map(liveness);
                match (holder, state) {
                    (Some(holder), Some(state @ (Liveness::Holder | Liveness::Unknown))) => {
                        return Err(held(holder, path, state == Liveness::Holder));
                    }
                    // Stale (its process is gone, or its pid is another
                    // process's now), ours, or unreadable (a crash while
                    // writing it): take it over, once what its holder left
                    // running (agents, checks) is stopped: they would go on
                    // writing in the worktrees of the run. (Those carry the
                    // holder's pid; if that pid is now another score's,
                    // they may be its own: left alone.)
                    (stale, state) => {
                        let stop = match state {
                            Some(Liveness::Gone) => true,
                            Some(Liveness::Reused) => {
                                stale.as_ref().is_some_and(|h| !is_score(h.pid))
                            }
                            _ => false,
                        };
                        if let Some(holder) = stale.as_ref().filter(|_| stop) {
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
        Some(holder) => {
            let verified = liveness(&holder) == Liveness::Holder;
            Err(held(holder, path, verified))
        }
        None => Err(LockError::Io(
            std::io::Error::other("the lock keeps changing hands"),
            path,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_lock(dir: &Path, holder: &Holder) {
        std::fs::write(dir.join("lock"), serde_json::to_string(holder).unwrap()).unwrap();
    }

    /// A child process that is not score, to hold pids in tests; killed
    /// when dropped.
    struct Sleeper(std::process::Child);

    impl Sleeper {
        fn start() -> Sleeper {
            let sleeper = Sleeper(
                std::process::Command::new("sleep")
                    .arg("300")
                    .spawn()
                    .unwrap(),
            );
            // Until it has exec'd, /proc shows the forked test binary.
            for _ in 0..10_000 {
                if !Path::new("/proc/self/cmdline").exists()
                    || command_line(sleeper.pid()).as_deref() == Some("sleep 300")
                {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            sleeper
        }

        fn pid(&self) -> u32 {
            self.0.id()
        }

        fn running(&mut self) -> bool {
            self.0.try_wait().unwrap().is_none()
        }
    }

    impl Drop for Sleeper {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    #[test]
    fn one_holder_at_a_time_and_stale_locks_are_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let lock = acquire(dir.path(), "r1").unwrap();
        assert!(lock.took_over.is_none());
        // The lock records our start time.
        let ours = read_holder(&dir.path().join("lock")).unwrap();
        assert_eq!(ours.pid, std::process::id());
        if Path::new("/proc/self/stat").exists() {
            assert!(ours.started.is_some());
        }
        drop(lock);
        assert!(!dir.path().join("lock").exists());
        // A live holder (the parent of this process) blocks.
        let parent = Holder {
            pid: std::os::unix::process::parent_id(),
            run: "other".into(),
            since: 0,
            started: None,
        };
        write_lock(dir.path(), &parent);
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
            started: None,
        };
        write_lock(dir.path(), &dead);
        let lock = acquire(dir.path(), "r3").unwrap();
        assert_eq!(
            lock.took_over.as_ref().map(|h| h.run.as_str()),
            Some("gone")
        );
    }

    #[test]
    fn a_live_holder_is_named_with_its_command_line() {
        if !Path::new("/proc/self/stat").exists() {
            return; // nothing to compare start times with
        }
        let dir = tempfile::tempdir().unwrap();
        let sleeper = Sleeper::start();
        let holder = Holder {
            pid: sleeper.pid(),
            run: "r0".into(),
            since: super::super::journal::now_ms() - 90_000,
            started: started(sleeper.pid()),
        };
        write_lock(dir.path(), &holder);
        let error = acquire(dir.path(), "r1").unwrap_err();
        assert!(matches!(error, LockError::Held { verified: true, .. }));
        let text = error.to_string();
        let pid = sleeper.pid();
        assert!(
            text.contains(&format!("process {pid} (`sleep 300`), run r0, for 1m30s")),
            "{text}"
        );
        assert!(text.contains(&format!("`kill {pid}`")), "{text}");
        assert!(!text.contains("may not be"), "{text}");
    }

    #[test]
    fn a_pid_of_unknown_start_may_not_be_score_and_the_message_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let sleeper = Sleeper::start();
        // A lock from an older version: no start time.
        let holder = Holder {
            pid: sleeper.pid(),
            run: "r0".into(),
            since: 0,
            started: None,
        };
        write_lock(dir.path(), &holder);
        let error = acquire(dir.path(), "r1").unwrap_err();
        let text = error.to_string();
        let pid = sleeper.pid();
        assert!(
            text.contains(&format!("process {pid} may not be a score run")),
            "{text}"
        );
        let lock_path = dir.path().join("lock");
        assert!(
            text.contains(&format!("remove `{}`", lock_path.display())),
            "{text}"
        );
        if Path::new("/proc/self/cmdline").exists() {
            assert!(text.contains("(`sleep 300`)"), "{text}");
        }
        assert!(lock_path.exists(), "the lock is left alone");
    }

    #[test]
    fn a_pid_reused_by_another_process_does_not_hold_the_lock() {
        if !Path::new("/proc/self/stat").exists() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut sleeper = Sleeper::start();
        // The holder had this pid, but started at another time.
        let holder = Holder {
            pid: sleeper.pid(),
            run: "long-gone".into(),
            since: 0,
            started: started(sleeper.pid()).map(|t| t.saturating_sub(1000)),
        };
        write_lock(dir.path(), &holder);
        let lock = acquire(dir.path(), "r1").unwrap();
        assert_eq!(lock.took_over, Some(holder));
        assert_eq!(lock.leftovers_stopped, 0);
        assert!(
            sleeper.running(),
            "the process that has the pid now is left alone"
        );
    }

    #[test]
    fn start_times_are_read_past_odd_command_names() {
        let mut fields: Vec<String> = (3..=30).map(|n| n.to_string()).collect();
        fields[0] = "S".into();
        let stat = format!("4242 (a (b) c) {}", fields.join(" "));
        assert_eq!(start_time_of_stat(&stat), Some(22));
        assert_eq!(start_time_of_stat("4242 (x) S 1 2"), None);
        assert_eq!(start_time_of_stat("garbage"), None);
        if Path::new("/proc/self/stat").exists() {
            let me = started(std::process::id()).unwrap();
            assert_eq!(started(std::process::id()), Some(me));
        }
    }
}
