//! Starting a run from MCP: the `score` executable itself, as a detached
//! child running `score run FILE --events json`.
//!
//! A run lasts far longer than a request, and must be an ordinary run: the
//! same journal, workspace lock, sandbox, resume and approvals as one
//! started from a terminal. So it is one, in its own process (and process
//! group, so a signal to the server's group does not stop it), outliving
//! the request and, if need be, the server. Its id is the `run` field of
//! the first event it prints (`run_started`, or `run_resumed`); if it exits
//! before printing one, what it wrote on stderr says why.
//!
//! Its stdout and stderr go to files that are unlinked as soon as they are
//! open: nothing is left behind, and a run never blocks on a full pipe.

use serde_json::Value;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// What to run: the flags of `score run`.
#[derive(Debug)]
pub(crate) struct RunRequest {
    pub exe: PathBuf,
    pub file: PathBuf,
    pub cwd: PathBuf,
    pub workspace: Option<PathBuf>,
    pub only: Vec<String>,
    pub agents: Vec<String>,
    pub inputs: Vec<String>,
    pub jobs: Option<usize>,
    pub resume: Option<String>,
    pub fresh: bool,
    pub allow_dirty: bool,
}

impl RunRequest {
    /// The arguments of `score run`.
    fn args(&self) -> Vec<String> {
        let mut args = vec![
            "run".to_string(),
            self.file.display().to_string(),
            "--events".into(),
            "json".into(),
        ];
        let mut flag = |name: &str, value: &str| {
            args.push(name.to_string());
            args.push(value.to_string());
        };
        if let Some(dir) = &self.workspace {
            flag("--workspace", &dir.display().to_string());
        }
        self.only.iter().for_each(|p| flag("--only", p));
        self.agents.iter().for_each(|a| flag("--agent", a));
        self.inputs.iter().for_each(|i| flag("--input", i));
        if let Some(jobs) = self.jobs {
            flag("--jobs", &jobs.to_string());
        }
        if let Some(run) = &self.resume {
            args.push(format!("--resume={run}"));
        }
        if self.fresh {
            args.push("--fresh".into());
        }
        if self.allow_dirty {
            args.push("--allow-dirty".into());
        }
        args
    }
}

/// A run that has started.
#[derive(Debug)]
pub(crate) struct Started {
    pub run_id: String,
    pub pid: u32,
}

/// How long a run may take to journal its start (compiling a large score,
/// preparing its agents) before the request gives up waiting; the run goes
/// on regardless.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Start the run and wait until it names itself.
pub(crate) async fn start(request: &RunRequest) -> Result<Started, String> {
    let (stdout_writer, mut stdout) = unlinked_file("out")?;
    let (stderr_writer, mut stderr) = unlinked_file("err")?;
    let mut child = Command::new(&request.exe)
        .args(request.args())
        .current_dir(&request.cwd)
        .stdin(Stdio::null())
        .stdout(stdout_writer)
        .stderr(stderr_writer)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start `{}`: {e}", request.exe.display()))?;
    let pid = child.id();
    // Reap the child when it ends (no zombie while the server lives).
    let (exited_tx, mut exited) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = exited_tx.send(child.wait().ok().and_then(|s| s.code()));
    });
    let deadline = tokio::time::Instant::now() + START_TIMEOUT;
    let mut seen = String::new();
    loop {
        read_more(&mut stdout, &mut seen);
        if let Some(run_id) = first_run_id(&seen) {
            return Ok(Started { run_id, pid });
        }
        match exited.try_recv() {
            Ok(code) => {
                // It may have printed its start just before exiting.
                read_more(&mut stdout, &mut seen);
                if let Some(run_id) = first_run_id(&seen) {
                    return Ok(Started { run_id, pid });
                }
                let mut why = String::new();
                read_more(&mut stderr, &mut why);
                let code = code.map_or("a signal".to_string(), |c| format!("status {c}"));
                return Err(format!(
                    "`score run` stopped ({code}) before the run started: {}",
                    why.trim()
                ));
            }
            Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {}
            Err(tokio::sync::oneshot::error::TryRecvError::Closed) => {
                return Err("lost track of the `score run` process".into());
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "`score run` (pid {pid}) has not started the run after {} s; it goes on: see `status` for the latest run",
                START_TIMEOUT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The run id of the first event, once its line is complete.
fn first_run_id(text: &str) -> Option<String> {
    let (line, _) = text.split_once('\n')?;
    let event: Value = serde_json::from_str(line).ok()?;
    event.get("run")?.as_str().map(String::from)
}

/// Appends what has been written to `file` since the last read.
fn read_more(file: &mut File, into: &mut String) {
    let mut bytes = Vec::new();
    if file.read_to_end(&mut bytes).is_ok() {
        into.push_str(&String::from_utf8_lossy(&bytes));
    }
}

/// A new file in the temporary directory, already unlinked: a handle to
/// give the child and one to read what it writes.
fn unlinked_file(what: &str) -> Result<(File, File), String> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let path: PathBuf = std::env::temp_dir().join(format!(
        "score-mcp-{}-{}.{what}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let cannot = |e: std::io::Error| format!("cannot create `{}`: {e}", path.display());
    let writer = File::options()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(cannot)?;
    let mut reader = File::open(&path).map_err(cannot);
    let _ = std::fs::remove_file(Path::new(&path));
    if let Ok(reader) = &mut reader {
        let _ = reader.seek(SeekFrom::Start(0));
    }
    Ok((writer, reader?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_id_is_read_from_the_first_complete_line() {
        assert_eq!(first_run_id(""), None);
        assert_eq!(first_run_id("{\"event\":\"run_started\",\"run\":\"r"), None);
        let line = "{\"at\":1,\"event\":\"run_started\",\"run\":\"20261203-1\"}\n{";
        assert_eq!(first_run_id(line), Some("20261203-1".into()));
    }

    #[test]
    fn the_flags_are_those_of_score_run() {
        let request = RunRequest {
            exe: "score".into(),
            file: "s.score".into(),
            cwd: ".".into(),
            workspace: Some("ws".into()),
            only: vec!["p".into()],
            agents: vec!["*=mock".into()],
            inputs: vec![],
            jobs: Some(2),
            resume: Some("r1".into()),
            fresh: true,
            allow_dirty: false,
        };
        assert_eq!(
            request.args().join(" "),
            "run s.score --events json --workspace ws --only p --agent *=mock --jobs 2 --resume=r1 --fresh"
        );
    }

    #[test]
    fn an_unlinked_file_reads_back_what_is_written_and_leaves_nothing() {
        use std::io::Write;
        let (mut writer, mut reader) = unlinked_file("test").unwrap();
        writer.write_all(b"one\n").unwrap();
        let mut seen = String::new();
        read_more(&mut reader, &mut seen);
        writer.write_all(b"two\n").unwrap();
        read_more(&mut reader, &mut seen);
        assert_eq!(seen, "one\ntwo\n");
    }
}
