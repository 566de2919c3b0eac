//! A part's detail for the page: what it was asked (its contract, the
//! prompt of each attempt), what it did (the output tails, its checks and
//! their logs, boundary violations with the paths rolled back) and what it
//! left (the diff it committed).
//!
//! Read from the run's directory and the workspace's git, never from the
//! conductor: a finished run shows the same detail as a live one. Text is
//! cut to its tail (a log can be large; the end says why it failed); the
//! caller masks secrets in all of it.

use super::ApiError;
use crate::plan::Task;
use crate::runtime::agent::AttemptFiles;
use crate::runtime::journal::RunDir;
use crate::runtime::state::{self, AttemptState, PartState};
use axum::http::StatusCode;
use serde::Serialize;
use std::path::Path;

/// How much of the end of a log or output is shown.
const TAIL_BYTES: u64 = 16 * 1024;
/// How much of a diff is shown.
const DIFF_BYTES: usize = 256 * 1024;

#[derive(Serialize)]
pub(super) struct Detail {
    part: PartState,
    contract: Option<Contract>,
    attempts: Vec<AttemptDetail>,
    /// `git show` of the commit of its work.
    diff: Option<String>,
}

/// The part's side of the plan: what it may touch and must ensure.
#[derive(Serialize)]
struct Contract {
    doc: Option<String>,
    brief: Option<String>,
    owns: Vec<String>,
    reads: Vec<String>,
    contracts: Vec<crate::plan::ContractInfo>,
    intents: Vec<String>,
    postconditions: Vec<String>,
    checks: Vec<String>,
    outputs: Vec<String>,
    approve: Option<String>,
    retries: u32,
    timeout_ms: u64,
    /// The prompt template (with placeholders for its inputs).
    prompt: String,
}

#[derive(Serialize)]
struct AttemptDetail {
    #[serde(flatten)]
    attempt: AttemptState,
    /// The prompt file of this attempt (agents that read one).
    prompt: Option<String>,
    stdout: Option<String>,
    stderr: Option<String>,
    output: Option<String>,
    checks: Vec<CheckLog>,
}

#[derive(Serialize)]
struct CheckLog {
    check: String,
    stdout: Option<String>,
    stderr: Option<String>,
}

/// The detail of `part_id` in `run` (whose commits are in `workspace`).
pub(super) fn of(
    run: &RunDir,
    plan: Option<&crate::plan::Plan>,
    workspace: &Path,
    part_id: &str,
) -> Result<Detail, ApiError> {
    let records = crate::runtime::journal::read(&run.events()).map_err(ApiError::internal)?;
    let folded = state::fold(&run.id, plan, &records);
    let Some(part) = folded.part(part_id).cloned() else {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!(
                "run `{}` has no part `{part_id}`; its parts are: {}",
                run.id,
                folded
                    .parts
                    .iter()
                    .map(|p| p.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    let task = plan.and_then(|p| p.task(part_id));
    let logs = run.logs();
    let attempts = part
        .attempts
        .iter()
        .map(|a| {
            let files = AttemptFiles::new(&logs, &part.id, a.attempt);
            let checks = task.map_or(Vec::new(), |t| {
                t.checks
                    .iter()
                    .enumerate()
                    .map(|(k, c)| {
                        let prefix =
                            logs.join(format!("{}.{}.check-{}", part.id, a.attempt, k + 1));
                        CheckLog {
                            check: c.command.clone(),
                            stdout: tail(&with_suffix(&prefix, "stdout")),
                            stderr: tail(&with_suffix(&prefix, "stderr")),
                        }
                    })
                    .filter(|c| c.stdout.is_some() || c.stderr.is_some())
                    .collect()
            });
            AttemptDetail {
                attempt: a.clone(),
                prompt: tail_of(&files.prompt, 64 * 1024),
                stdout: tail(&files.stdout),
                stderr: tail(&files.stderr),
                output: tail(&files.output).or_else(|| tail(&files.transcript)),
                checks,
            }
        })
        .collect();
    let diff = part.commit.as_deref().and_then(|c| diff(workspace, c));
    Ok(Detail {
        contract: task.map(contract),
        part,
        attempts,
        diff,
    })
}

fn contract(task: &Task) -> Contract {
    Contract {
        doc: task.doc.clone(),
        brief: task.brief.clone(),
        owns: task.owns.clone(),
        reads: task.reads.clone(),
        contracts: task.contracts.clone(),
        intents: task
            .intents
            .iter()
            .map(|i| format!("{}: {}", i.id, i.statement))
            .collect(),
        postconditions: task.postconditions.clone(),
        checks: task.checks.iter().map(|c| c.command.clone()).collect(),
        outputs: task
            .outputs
            .iter()
            .map(|(name, spec)| format!("{name}: {}", spec.ty))
            .collect(),
        approve: task.approve.clone(),
        retries: task.retries,
        timeout_ms: task.timeout_ms,
        prompt: task.prompt.clone(),
    }
}

fn with_suffix(prefix: &Path, suffix: &str) -> std::path::PathBuf {
    let mut p = prefix.as_os_str().to_owned();
    p.push(".");
    p.push(suffix);
    p.into()
}

fn tail(path: &Path) -> Option<String> {
    tail_of(path, TAIL_BYTES)
}

/// The last `max` bytes of a file (from a line start when cut), as text.
fn tail_of(path: &Path, max: u64) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let from = len.saturating_sub(max);
    file.seek(SeekFrom::Start(from)).ok()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if from > 0 {
        let start = text.find('\n').map_or(0, |i| i + 1);
        text = format!("[… {from} bytes before]\n{}", &text[start..]);
    }
    Some(text)
}

/// `git show --stat --patch` of `commit` (a hash the journal holds) in
/// `workspace`'s repository, cut at [`DIFF_BYTES`].
fn diff(workspace: &Path, commit: &str) -> Option<String> {
    if commit.is_empty() || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(workspace)
        .args([
            "show",
            "--no-color",
            "--stat",
            "--patch",
            "--format=commit %H%n%n%B",
        ])
        .arg(commit)
        .arg("--")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    if text.len() > DIFF_BYTES {
        let mut cut = DIFF_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n[… the diff goes on]\n");
    }
    Some(text)
}
