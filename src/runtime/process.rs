//! Child processes that can be stopped as a whole: commands agents run and
//! the `ensures` checks.
//!
//! Every program starts inside the boundary of [`super::sandbox`]: an
//! explicit environment (nothing is inherited), a PID namespace of its own
//! where the machine allows (everything it starts dies with it, `setsid` or
//! not), and, when the spec has filesystem rules, Landlock. When it has
//! ended, its stdout and stderr files are rewritten with the run's secrets
//! masked, before anything reads them.
//!
//! Each child also leads its own process group, so that a timeout or a
//! cancel kills what it started too (a coding agent's shell, its test
//! runner), namespace or not. The group is killed when the future running
//! it is dropped: timeouts and Ctrl-C are implemented by dropping,
//! everywhere in the runtime.
//!
//! A `score` process killed with SIGKILL cannot do that: its children run
//! on, orphaned, in worktrees the next invocation is about to reuse. So
//! every child carries the pid of the `score` process that started it in
//! its environment ([`CONDUCTOR_ENV`]), inherited by whatever it starts in
//! turn, and [`stop_leftovers`] finds them all by that mark when a stale
//! lock is taken over.

use super::redact::Redactor;
use super::sandbox::{ChildSetup, FsRules};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// A command to run. Its `Debug` shows the names of its environment
/// variables, never their values (keys passed through are among them).
#[derive(Clone, Default)]
pub struct ProcessSpec {
    /// Program and arguments; never passed through a shell.
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    /// The program's whole environment: nothing is inherited (see
    /// [`super::sandbox::base_environment`]). A later entry wins over an
    /// earlier one of the same name.
    pub env: Vec<(String, String)>,
    /// Written to the child's standard input, which is then closed. `None`:
    /// the child's stdin is empty (`/dev/null`).
    pub stdin: Option<Vec<u8>>,
    /// Where standard output and error go (created or truncated).
    pub stdout: PathBuf,
    pub stderr: PathBuf,
    /// Landlock rules; `None`: the filesystem is not confined.
    pub fs: Option<FsRules>,
    /// Masks secrets in `stdout` and `stderr` once the program has ended.
    pub redactor: Arc<Redactor>,
}

impl std::fmt::Debug for ProcessSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ProcessSpec")
            .field("argv", &self.argv)
            .field("cwd", &self.cwd)
            .field("env", &names)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .field("fs", &self.fs)
            .finish_non_exhaustive()
    }
}

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit {
    pub code: Option<i32>,
    /// The signal that killed it (unix).
    pub signal: Option<i32>,
}

impl Exit {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    fn from_status(status: ExitStatus) -> Exit {
        use std::os::unix::process::ExitStatusExt;
        Exit {
            code: status.code(),
            signal: status.signal(),
        }
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.code, self.signal) {
            (Some(code), _) => write!(f, "exit status {code}"),
            (None, Some(signal)) => write!(f, "killed by signal {signal}"),
            (None, None) => write!(f, "an unknown exit status"),
        }
    }
}

/// Why a child could not be run.
#[derive(Debug)]
pub enum SpawnError {
    /// The program does not exist or cannot be executed.
    Program {
        program: String,
        error: std::io::Error,
    },
    /// A log file could not be created, or waiting failed.
    Io(std::io::Error),
    /// The program cannot be confined as asked (no Landlock, and the
    /// confinement is required).
    Sandbox(String),
}

impl std::fmt::Display for SpawnError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SpawnError::Program { program, error }
                if error.kind() == std::io::ErrorKind::NotFound =>
            {
                write!(
                    f,
                    "cannot run `{program}`: no such program (is it installed and on PATH?)"
                )
            }
            SpawnError::Program { program, error } => write!(f, "cannot run `{program}`: {error}"),
            SpawnError::Io(error) => write!(f, "{error}"),
            SpawnError::Sandbox(why) => f.write_str(why),
        }
    }
}

/// Kills the child's whole process group when dropped, unless it has been
/// reaped already; then masks the secrets in its output files (a program
/// stopped by a timeout may have printed one too).
struct GroupGuard {
    pgid: Option<i32>,
    redactor: Arc<Redactor>,
    files: [PathBuf; 2],
}

impl GroupGuard {
    fn disarm(&mut self) {
        self.pgid = None;
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid {
            kill_group(pgid);
            if !self.redactor.is_empty() {
                // Nothing may write the files while they are rewritten:
                // wait (briefly) for the group to be gone. Its PID 1, when
                // there is a namespace, is gone only once everything in the
                // namespace is.
                let deadline = Instant::now() + Duration::from_millis(500);
                while Instant::now() < deadline && group_alive(pgid) {
                    std::thread::sleep(Duration::from_millis(2));
                }
                for path in &self.files {
                    let _ = self.redactor.file(path);
                }
            }
        }
    }
}

/// Whether a process of group `pgid` is still running (not a zombie).
fn group_alive(pgid: i32) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        entry.file_name().to_str().is_some_and(|name| {
            name.bytes().all(|b| b.is_ascii_digit())
                && std::fs::read_to_string(entry.path().join("stat")).is_ok_and(|stat| {
                    // `pid (command) state ppid pgrp ...`
                    let mut fields = stat
                        .rsplit_once(')')
                        .map_or("", |(_, rest)| rest)
                        .split_whitespace();
                    let state = fields.next().unwrap_or("Z");
                    let pgrp = fields.nth(1).and_then(|f| f.parse::<i32>().ok());
                    pgrp == Some(pgid) && !matches!(state, "Z" | "X" | "x")
                })
        })
    })
}

/// SIGKILL to every process of group `pgid`.
fn kill_group(pgid: i32) {
    if pgid > 0 {
        // SAFETY: kill(2) with a negative pid signals a process group; it
        // has no memory effects. Errors (group already gone) are harmless.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

/// Runs `spec` to its end. Dropping the future kills the child's process
/// group (and the child is reaped by tokio in the background).
pub async fn run(spec: &ProcessSpec) -> Result<Exit, SpawnError> {
    let Some((program, args)) = spec.argv.split_first() else {
        return Err(SpawnError::Program {
            program: String::new(),
            error: std::io::Error::new(std::io::ErrorKind::InvalidInput, "the command is empty"),
        });
    };
    let resolved = spec
        .fs
        .as_ref()
        .filter(|fs| fs.reads.is_some())
        .and_then(|_| resolve_program(program, &spec.env));
    let setup = ChildSetup::new(spec.fs.as_ref(), resolved.as_deref())
        .map_err(|e| SpawnError::Sandbox(e.to_string()))?;
    let stdout = std::fs::File::create(&spec.stdout).map_err(SpawnError::Io)?;
    let stderr = std::fs::File::create(&spec.stderr).map_err(SpawnError::Io)?;
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .current_dir(&spec.cwd)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .env(CONDUCTOR_ENV, std::process::id().to_string())
        .stdin(if spec.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr))
        .process_group(0)
        .kill_on_drop(true);
    // SAFETY: `apply` makes only async-signal-safe calls and allocates
    // nothing (everything was prepared above, in the parent).
    unsafe {
        command.pre_exec(move || setup.apply());
    }
    let mut child = command.spawn().map_err(|error| SpawnError::Program {
        program: program.clone(),
        error,
    })?;
    let mut guard = GroupGuard {
        pgid: child.id().map(|id| id as i32),
        redactor: spec.redactor.clone(),
        files: [spec.stdout.clone(), spec.stderr.clone()],
    };
    if let (Some(bytes), Some(mut stdin)) = (&spec.stdin, child.stdin.take()) {
        // A child that does not read its input closes the pipe: not an error.
        let _ = stdin.write_all(bytes).await;
        let _ = stdin.shutdown().await;
        drop(stdin);
    }
    let status = child.wait().await.map_err(SpawnError::Io)?;
    // The leader has exited; whatever it left running in its group goes too
    // (a check must not leave a server behind).
    if let Some(pgid) = guard.pgid {
        kill_group(pgid);
    }
    guard.disarm();
    for path in [&spec.stdout, &spec.stderr] {
        spec.redactor.file(path).map_err(SpawnError::Io)?;
    }
    Ok(Exit::from_status(status))
}

/// The file `program` names, looked up in the `PATH` of `env` as `execvp`
/// would (to let it be read when the agent declares `reads`).
fn resolve_program(program: &str, env: &[(String, String)]) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    let path = env.iter().rev().find(|(k, _)| k == "PATH")?;
    std::env::split_paths(&path.1)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// The environment variable by which every child of the runtime (and its
/// descendants) names the `score` process that started it.
pub const CONDUCTOR_ENV: &str = "SCORE_CONDUCTOR_PID";

/// Stops every process left running by the `score` process `conductor`,
/// which is gone: the processes whose environment carries its mark. Waits
/// (two seconds at most) until they have ended, so that nothing they do
/// overlaps what the caller does next. Returns how many there were.
///
/// Reads `/proc`: on systems without it, finds nothing.
pub fn stop_leftovers(conductor: u32) -> usize {
    let mark = format!("{CONDUCTOR_ENV}={conductor}");
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut stopped = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == me || pid == conductor || pid > i32::MAX as u32 {
            continue;
        }
        // The environment the process started with; unreadable for other
        // users' processes, which are not ours to stop anyway.
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ.split(|&b| b == 0).any(|var| var == mark.as_bytes()) {
            // SAFETY: kill(2) has no memory effects; a process that is gone
            // already makes it fail harmlessly.
            unsafe {
                libc::kill(pid as i32, libc::SIGKILL);
            }
            stopped.push(pid);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline && stopped.iter().any(|&pid| running(pid)) {
        std::thread::sleep(Duration::from_millis(5));
    }
    stopped.len()
}

/// Whether process `pid` exists and is not a zombie (a zombie runs no code:
/// it waits for its parent, here usually init, to reap it).
fn running(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // `pid (command) state ...`: the command may contain anything, `)` too.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.trim_start().chars().next())
        .is_some_and(|state| !matches!(state, 'Z' | 'X' | 'x'))
}

/// The last `max_lines` lines of a file, at most `max_bytes` bytes of them,
/// as text (for feedback and reports). Empty when the file cannot be read.
pub fn tail(path: &Path, max_lines: usize, max_bytes: usize) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(max_bytes as u64);
    if file.seek(SeekFrom::Start(start)).is_err() {
        return String::new();
    }
    let mut bytes = Vec::new();
    if file.read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(max_lines);
    let mut out = lines[from..].join("\n");
    if start > 0 || from > 0 {
        out.insert_str(0, "…\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn spec(dir: &Path, argv: &[&str]) -> ProcessSpec {
        ProcessSpec {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            cwd: dir.to_path_buf(),
            env: vec![
                ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
                ("SCORE_TEST_VAR".into(), "hello".into()),
            ],
            stdin: None,
            stdout: dir.join("out"),
            stderr: dir.join("err"),
            fs: None,
            redactor: Redactor::none(),
        }
    }

    #[tokio::test]
    async fn runs_a_program_with_env_stdin_and_captured_streams() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = spec(
            dir.path(),
            &[
                "sh",
                "-c",
                "cat; echo \"$SCORE_TEST_VAR\"; echo oops >&2; exit 3",
            ],
        );
        s.stdin = Some(b"from stdin\n".to_vec());
        let exit = run(&s).await.unwrap();
        assert_eq!(exit.code, Some(3));
        assert!(!exit.success());
        assert_eq!(
            std::fs::read_to_string(dir.path().join("out")).unwrap(),
            "from stdin\nhello\n"
        );
        assert_eq!(tail(&dir.path().join("err"), 5, 100), "oops");
    }

    #[tokio::test]
    async fn a_missing_program_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let error = run(&spec(dir.path(), &["score-no-such-program"]))
            .await
            .unwrap_err();
        assert!(error.to_string().contains("no such program"), "{error}");
    }

    #[tokio::test]
    async fn dropping_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        // The child starts a grandchild that would write a file after a while.
        let marker = dir.path().join("marker");
        let script = format!("(sleep 1; touch '{}') & sleep 30", marker.display());
        let s = spec(dir.path(), &["sh", "-c", &script]);
        let result = tokio::time::timeout(Duration::from_millis(200), run(&s)).await;
        assert!(result.is_err(), "the command should have timed out");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert!(!marker.exists(), "the grandchild survived the timeout");
    }

    #[tokio::test]
    async fn children_carry_the_mark_of_their_conductor() {
        let dir = tempfile::tempdir().unwrap();
        let s = spec(dir.path(), &["sh", "-c", "echo $SCORE_CONDUCTOR_PID"]);
        run(&s).await.unwrap();
        let printed = std::fs::read_to_string(dir.path().join("out")).unwrap();
        assert_eq!(printed.trim(), std::process::id().to_string());
    }

    #[test]
    fn leftovers_of_a_gone_conductor_are_stopped_with_their_descendants() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("marker");
        // A conductor pid no live process has (pids stay below 2^22).
        let gone = u32::MAX - std::process::id();
        let script = format!("(sleep 1; touch '{}') & sleep 30", marker.display());
        let mut child = std::process::Command::new("sh")
            .args(["-c", &script])
            .env(CONDUCTOR_ENV, gone.to_string())
            .spawn()
            .unwrap();
        // Let the shell start its background job.
        std::thread::sleep(Duration::from_millis(200));
        let stopped = stop_leftovers(gone);
        assert!(stopped >= 2, "stopped {stopped}: the shell and its sleeps");
        assert!(!running(child.id()));
        child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(1200));
        assert!(!marker.exists(), "a descendant survived");
        assert_eq!(stop_leftovers(gone), 0);
    }

    #[test]
    fn tail_keeps_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let text: String = (1..=100).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&path, text).unwrap();
        assert_eq!(tail(&path, 2, 10_000), "…\nline 99\nline 100");
        assert_eq!(tail(&dir.path().join("none"), 2, 10), "");
    }
}
