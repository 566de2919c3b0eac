//! Shared helpers of the tests that drive `score run` and friends: files,
//! git repositories, and the journals runs leave in `.score/runs/`.

use serde_json::Value;
use std::path::{Path, PathBuf};

/// Writes `text` to `dir/name`, creating directories.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&path, text).unwrap();
    path
}

/// Every file below `dir`, recursively; links are listed, never followed
/// (a part may leave one pointing anywhere). Empty when `dir` is missing.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(entry.path()),
                Ok(_) => found.push(entry.path()),
                Err(_) => {}
            }
        }
    }
    found
}

/// Runs git in `dir` (with an identity, without the machine's config) and
/// returns its trimmed stdout; panics with git's message when it fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@localhost"])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Makes `dir` a git repository on `main` with everything in it committed:
/// parts that can change files play in git worktrees of the workspace.
pub fn git_init(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "init"]);
}

/// A file's content at `REV:PATH` in the repository in `dir`, if it exists.
pub fn git_show(dir: &Path, spec: &str) -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["show", spec])
        .current_dir(dir)
        .output()
        .unwrap();
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The ids of the runs in `workspace` that have a journal, oldest first.
pub fn run_ids(workspace: &Path) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(workspace.join(".score/runs"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .filter(|e| e.path().join("events.jsonl").is_file())
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// The latest run in `workspace`.
pub fn latest_run(workspace: &Path) -> String {
    run_ids(workspace)
        .pop()
        .expect("a run with a journal in .score/runs")
}

/// The latest run's journal, if there is one yet: its complete, readable
/// lines (a run killed in the middle of a write leaves a torn last line).
pub fn try_journal(workspace: &Path) -> Option<Vec<Value>> {
    let id = run_ids(workspace).pop()?;
    let path = workspace.join(".score/runs").join(id).join("events.jsonl");
    let text = std::fs::read_to_string(path).ok()?;
    Some(
        text.lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect(),
    )
}

/// The latest run's journal, every line of which must be JSON.
pub fn journal(workspace: &Path) -> Vec<Value> {
    let path = workspace
        .join(".score/runs")
        .join(latest_run(workspace))
        .join("events.jsonl");
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).expect("every journal line is JSON"))
        .collect()
}

/// The records of one kind of event.
pub fn events<'a>(records: &'a [Value], kind: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["event"] == kind).collect()
}
