//! The journal: `.score/runs/RUN_ID/events.jsonl`, one JSON object per state
//! change, append-only.
//!
//! It is the run's memory. `--resume` rebuilds the state of a run from it,
//! so every change is written here before the runtime acts on it, and a
//! task's success (with its outputs, inline) is on disk, fsync'd, before
//! any task that depends on it starts. Reading tolerates a torn last line
//! (a crash in the middle of a write): it is dropped, and the file is cut
//! back to the last complete line before new events are appended.
//!
//! Secrets never reach the journal: events carry ids, hashes, outputs,
//! token counts and messages written by the runtime, never a header or an
//! environment value.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// One line of the journal: when, and what.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Milliseconds since the Unix epoch.
    pub at: u64,
    #[serde(flatten)]
    pub event: Event,
}

/// What was verified of a cached result before it was reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheChecks {
    /// Its `ensures` checks ran again in the part's own tree and passed.
    Passed,
    /// The part has no checks to run again.
    None,
    /// `--trust-cache`: reused without running its checks again.
    Trusted,
}

impl CacheChecks {
    /// How the report and the progress say it.
    pub fn describe(self) -> &'static str {
        match self {
            CacheChecks::Passed => "checks re-run: passed",
            CacheChecks::None => "no checks to re-run",
            CacheChecks::Trusted => "checks not re-run: --trust-cache",
        }
    }
}

/// Why an attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The agent reported a failure (a non-zero exit, a refused request).
    Agent,
    /// The result was missing, not JSON, or did not match its schema.
    InvalidOutput,
    /// An `ensures` check failed.
    Check,
    /// The attempt ran past the task's timeout.
    Timeout,
    /// The endpoint kept failing at the transport level.
    Transport,
    /// The agent could not be started at all.
    Setup,
    /// The part's budget is spent.
    Budget,
    /// The agent changed files outside the part's `owns`.
    Boundary,
    /// The part's work could not be merged into the integration branch.
    Conflict,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Agent => "agent",
            FailureKind::InvalidOutput => "invalid output",
            FailureKind::Check => "check",
            FailureKind::Timeout => "timeout",
            FailureKind::Transport => "transport",
            FailureKind::Setup => "setup",
            FailureKind::Budget => "budget",
            FailureKind::Boundary => "boundary",
            FailureKind::Conflict => "conflict",
        }
    }
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Every task succeeded.
    Succeeded,
    /// Some task failed or could not run.
    Failed,
    /// Stopped by Ctrl-C (or SIGTERM).
    Cancelled,
    /// Waiting for approvals: `score approve`, then `--resume`.
    Paused,
    /// The budget ran out before every task could run.
    OverBudget,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Paused => "paused",
            RunStatus::OverBudget => "over budget",
        }
    }
}

/// A state change.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A new run: the plan it runs and how many tasks it will dispatch.
    RunStarted {
        run: String,
        score: String,
        source_hash: String,
        tasks: usize,
        pid: u32,
        /// Where the parts' checkouts are (outside the repository), when
        /// the run uses them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        checkouts: Option<String>,
        /// The sha256 of each of the score's files the plan was built from
        /// (the plan's `sources`): what this run played, committed or not.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        sources: BTreeMap<String, String>,
        /// The score's own files that had uncommitted edits when the run
        /// started (repository-relative): played as they were, and not a
        /// dirty tree.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        edited: Vec<String>,
        /// The score (or plan) file the run plays, absolute: what the hints
        /// to resume it name (`score approve`, `score status`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file: Option<String>,
    },
    /// `--resume` picked this run up again.
    RunResumed {
        run: String,
        source_hash: String,
        pid: u32,
        /// Tasks already done, which will not run again.
        done: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        checkouts: Option<String>,
    },
    /// An attempt was dispatched to an agent.
    AttemptStarted {
        task: String,
        attempt: u32,
        agent: String,
        hash: String,
    },
    /// An attempt did not produce an accepted result.
    AttemptFailed {
        task: String,
        attempt: u32,
        kind: FailureKind,
        message: String,
        tokens_in: u64,
        tokens_out: u64,
        cost_usd: f64,
        duration_ms: u64,
    },
    /// The result was accepted (valid outputs, checks passed), and the task
    /// needs a person's approval before it counts as done. The outputs are
    /// here so that no work is lost while waiting.
    ApprovalRequested {
        task: String,
        hash: String,
        inputs_hash: String,
        approver: String,
        outputs: Value,
        /// The commit of its work, merged once approved.
        #[serde(default)]
        commit: Option<String>,
        attempts: u32,
        tokens_in: u64,
        tokens_out: u64,
        cost_usd: f64,
        duration_ms: u64,
    },
    /// The part's work is committed in its worktree and about to be merged
    /// into the integration branch: if the run stops before
    /// `task_succeeded`, resume merges this commit (once) instead of
    /// playing the part again.
    TaskCommitted {
        task: String,
        hash: String,
        inputs_hash: String,
        commit: String,
        outputs: Value,
        attempts: u32,
        tokens_in: u64,
        tokens_out: u64,
        cost_usd: f64,
        duration_ms: u64,
    },
    /// A person approved (`score approve` or the interactive prompt).
    Approved { task: String, by: String },
    /// A person rejected the result: the task fails.
    Rejected { task: String, by: String },
    /// The task is done: the commit point. Written once per task per run.
    TaskSucceeded {
        task: String,
        hash: String,
        inputs_hash: String,
        outputs: Value,
        attempts: u32,
        tokens_in: u64,
        tokens_out: u64,
        cost_usd: f64,
        duration_ms: u64,
        /// Reused from an earlier run's cache instead of run: that run's id.
        cached_from: Option<String>,
        /// The commit of its work, merged into the integration branch
        /// (`null` when it changed no file or ran without a worktree).
        #[serde(default)]
        commit: Option<String>,
        /// A cached result: whether its checks were run again before it
        /// was reused (left out of the JSON for results played now).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_checks: Option<CacheChecks>,
    },
    /// A cached result no longer holds: its checks, run again in the
    /// part's own tree, failed (or its commit no longer applies). The part
    /// is played again.
    CacheRejected {
        task: String,
        /// The run the cached result came from.
        cached_from: String,
        message: String,
    },
    /// The task gave up: its last failure.
    TaskFailed {
        task: String,
        hash: String,
        attempts: u32,
        kind: FailureKind,
        message: String,
    },
    /// The task was not run (a dependency failed, the budget ran out).
    TaskSkipped { task: String, reason: String },
    /// The score's budget would be exceeded by another dispatch.
    BudgetExhausted {
        message: String,
        tokens: u64,
        cost_usd: f64,
    },
    /// Ctrl-C: in-flight attempts were cancelled.
    RunCancelled { in_flight: Vec<String> },
    /// The end of this invocation.
    RunFinished {
        status: RunStatus,
        succeeded: usize,
        failed: usize,
        remaining: usize,
    },
}

impl Event {
    /// The task this event is about, if any.
    pub fn task(&self) -> Option<&str> {
        match self {
            Event::AttemptStarted { task, .. }
            | Event::AttemptFailed { task, .. }
            | Event::ApprovalRequested { task, .. }
            | Event::TaskCommitted { task, .. }
            | Event::Approved { task, .. }
            | Event::Rejected { task, .. }
            | Event::TaskSucceeded { task, .. }
            | Event::CacheRejected { task, .. }
            | Event::TaskFailed { task, .. }
            | Event::TaskSkipped { task, .. } => Some(task),
            _ => None,
        }
    }
}

/// The file a run plays, as its `run_started` recorded it, shown relative
/// to `cwd` when it lies below it: for the `score run FILE --resume RUN_ID`
/// a person is told to type. `FILE` when the journal does not say.
pub fn played_file(records: &[Record], cwd: &Path) -> String {
    records
        .iter()
        .find_map(|r| match &r.event {
            Event::RunStarted { file, .. } => file.clone(),
            _ => None,
        })
        .map(|file| shown_from(&file, cwd))
        .unwrap_or_else(|| "FILE".to_string())
}

/// `file` relative to `cwd` when below it, else as it is.
pub fn shown_from(file: &str, cwd: &Path) -> String {
    Path::new(file)
        .strip_prefix(cwd)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| file.to_string())
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The append side of a journal.
pub struct Journal {
    file: File,
    path: PathBuf,
    /// Bytes written since the last sync.
    unsynced: bool,
    line: Vec<u8>,
    /// Masks the run's secrets in every line (see [`Journal::set_redactor`]).
    redactor: std::sync::Arc<super::redact::Redactor>,
}

impl Journal {
    /// Opens (creating) `path` for appending. A torn last line left by a
    /// crash is cut off first, so the next event starts a line of its own.
    pub fn open(path: &Path) -> std::io::Result<Journal> {
        if let Ok(bytes) = std::fs::read(path)
            && !bytes.is_empty()
            && bytes.last() != Some(&b'\n')
        {
            let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            let file = OpenOptions::new().write(true).open(path)?;
            file.set_len(keep as u64)?;
            file.sync_data()?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Journal {
            file,
            path: path.to_path_buf(),
            unsynced: false,
            line: Vec::with_capacity(512),
            redactor: super::redact::Redactor::none(),
        })
    }

    /// Every line appended from now on has the secrets of `redactor`
    /// masked (in any encoding), whatever the event carries.
    pub fn set_redactor(&mut self, redactor: std::sync::Arc<super::redact::Redactor>) {
        self.redactor = redactor;
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record (one `write`, so a line is never interleaved with
    /// another writer's, e.g. `score approve`). Not yet durable: see
    /// [`Journal::sync`].
    pub fn append(&mut self, record: &Record) -> std::io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, record)?;
        self.line.push(b'\n');
        if let std::borrow::Cow::Owned(masked) = self.redactor.json_line(&self.line) {
            self.line = masked;
        }
        self.file.write_all(&self.line)?;
        self.unsynced = true;
        Ok(())
    }

    /// Makes everything appended so far durable (one fdatasync for any
    /// number of records: the runtime appends all the events it has, then
    /// syncs once before acting on them).
    pub fn sync(&mut self) -> std::io::Result<()> {
        if self.unsynced {
            self.file.sync_data()?;
            self.unsynced = false;
        }
        Ok(())
    }

    /// The serialised form of the last record appended (for `--events json`).
    pub fn last_line(&self) -> &[u8] {
        &self.line
    }
}

/// Reads a journal: every complete, well-formed line. A torn or unreadable
/// last line is dropped (a crash in the middle of a write); a bad line in
/// the middle is an error, naming the line.
pub fn read(path: &Path) -> Result<Vec<Record>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the journal `{}`: {e}", path.display()))?;
    let complete = match text.rfind('\n') {
        Some(i) => &text[..=i],
        None => "",
    };
    let lines: Vec<&str> = complete.lines().collect();
    let mut records = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(line) {
            Ok(record) => records.push(record),
            // A crash can leave garbage only at the end.
            Err(_) if i + 1 == lines.len() => {}
            Err(e) => {
                return Err(format!(
                    "the journal `{}` is damaged at line {}: {e}",
                    path.display(),
                    i + 1
                ));
            }
        }
    }
    Ok(records)
}

/// A new run id: the UTC time and a random suffix, `20261124-153012-7f3a`,
/// so that ids sort by start time.
pub fn new_run_id() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    let mut mix = now.as_nanos() as u64 ^ ((std::process::id() as u64) << 32);
    mix = splitmix(mix);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}-{:04x}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        mix & 0xffff
    )
}

/// A new run id that sorts after `latest` (ids made in the same second
/// would otherwise sort by their random suffix, and "the latest run" must
/// be the one started last).
pub fn new_run_id_after(latest: Option<&str>) -> String {
    let id = new_run_id();
    match latest {
        Some(latest) if latest >= id.as_str() => {
            // Same second (or a clock that went back): the next suffix.
            let (stamp, suffix) = latest.rsplit_once('-').unwrap_or((latest, "0"));
            let next = u64::from_str_radix(suffix, 16).unwrap_or(0) + 1;
            format!("{stamp}-{next:04x}")
        }
        _ => id,
    }
}

/// The splitmix64 step: a fast, well-mixed hash of a 64-bit value.
pub fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Year, month, day of a day count since 1970-01-01 (proleptic Gregorian;
/// Howard Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The directories of a workspace's runs: `.score/runs/`.
#[derive(Clone, Debug)]
pub struct RunsDir {
    pub root: PathBuf,
}

impl RunsDir {
    pub fn new(workspace: &Path) -> RunsDir {
        RunsDir {
            root: workspace.join(".score").join("runs"),
        }
    }

    pub fn run(&self, id: &str) -> RunDir {
        RunDir {
            id: id.to_string(),
            dir: self.root.join(id),
        }
    }

    /// The ids of the runs there are, oldest first.
    pub fn list(&self) -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("events.jsonl").is_file())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        ids.sort();
        ids
    }

    /// The most recent run.
    pub fn latest(&self) -> Option<String> {
        self.list().pop()
    }
}

/// One run's directory: `.score/runs/RUN_ID/`.
#[derive(Clone, Debug)]
pub struct RunDir {
    pub id: String,
    pub dir: PathBuf,
}

impl RunDir {
    pub fn events(&self) -> PathBuf {
        self.dir.join("events.jsonl")
    }
    pub fn outputs(&self) -> PathBuf {
        self.dir.join("outputs")
    }
    pub fn output(&self, task: &str) -> PathBuf {
        self.outputs().join(format!("{task}.json"))
    }
    pub fn logs(&self) -> PathBuf {
        self.dir.join("logs")
    }
    pub fn plan(&self) -> PathBuf {
        self.dir.join("plan.json")
    }

    /// Creates the directories.
    pub fn create(&self) -> std::io::Result<()> {
        std::fs::create_dir_all(self.outputs())?;
        std::fs::create_dir_all(self.logs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(event: Event) -> Record {
        Record { at: 1, event }
    }

    #[test]
    fn the_file_to_resume_is_shown_from_where_the_person_is() {
        let started = |file: Option<&str>| {
            vec![record(Event::RunStarted {
                run: "r".into(),
                score: "s".into(),
                source_hash: "h".into(),
                tasks: 1,
                pid: 1,
                checkouts: None,
                sources: Default::default(),
                edited: Vec::new(),
                file: file.map(str::to_string),
            })]
        };
        let records = started(Some("/repo/shop/main.score"));
        assert_eq!(played_file(&records, Path::new("/repo")), "shop/main.score");
        assert_eq!(
            played_file(&records, Path::new("/elsewhere")),
            "/repo/shop/main.score"
        );
        assert_eq!(played_file(&started(None), Path::new("/repo")), "FILE");
        assert_eq!(played_file(&[], Path::new("/repo")), "FILE");
    }

    #[test]
    fn events_round_trip_with_a_tag() {
        let r = record(Event::TaskSkipped {
            task: "a".into(),
            reason: "b failed".into(),
        });
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(
            text,
            r#"{"at":1,"event":"task_skipped","task":"a","reason":"b failed"}"#
        );
        assert_eq!(serde_json::from_str::<Record>(&text).unwrap(), r);
    }

    #[test]
    fn a_torn_last_line_is_dropped_and_cut_off_before_appending() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        let mut journal = Journal::open(&path).unwrap();
        journal
            .append(&record(Event::Approved {
                task: "a".into(),
                by: "me".into(),
            }))
            .unwrap();
        journal.sync().unwrap();
        drop(journal);
        // A crash in the middle of the next line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"at":2,"event":"task_succ"#).unwrap();
        drop(f);
        assert_eq!(read(&path).unwrap().len(), 1);
        let mut journal = Journal::open(&path).unwrap();
        journal
            .append(&record(Event::TaskSkipped {
                task: "b".into(),
                reason: "r".into(),
            }))
            .unwrap();
        let records = read(&path).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].event.task(), Some("b"));
    }

    #[test]
    fn damage_in_the_middle_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.jsonl");
        std::fs::write(&path, "{\"at\":1,\"event\":\"approved\",\"task\":\"a\",\"by\":\"x\"}\nnot json\n{\"at\":1,\"event\":\"approved\",\"task\":\"a\",\"by\":\"x\"}\n").unwrap();
        let error = read(&path).unwrap_err();
        assert!(error.contains("line 2"), "{error}");
    }

    #[test]
    fn run_ids_sort_by_time_and_dates_are_right() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_416), (2025, 11, 24));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        let id = new_run_id();
        assert_eq!(id.len(), "20261124-153012-7f3a".len(), "{id}");
        assert!(id.starts_with("20"), "{id}");
    }

    #[test]
    fn outputs_are_kept_inline() {
        let r = record(Event::TaskSucceeded {
            task: "t".into(),
            hash: "h".into(),
            inputs_hash: "i".into(),
            outputs: json!({"x": 1}),
            attempts: 1,
            tokens_in: 0,
            tokens_out: 0,
            cost_usd: 0.0,
            duration_ms: 3,
            cached_from: None,
            commit: None,
            cache_checks: None,
        });
        let back: Record = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
