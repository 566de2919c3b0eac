//! Files the runtime writes beside the journal, off the conductor's loop:
//! the copies of outputs (`outputs/TASK.json`) and the cache
//! (`.score/cache/`).
//!
//! The journal is the commit point of a task's result; these files are
//! conveniences derived from it (resume rewrites a lost output file from
//! the journal, and a lost cache entry only means a task is played again).
//! So they are written by a thread of their own, and the conductor never
//! waits for a file system that can take milliseconds to create a file.
//! Each file is written whole and renamed into place: a reader (or a crash)
//! never sees half of one.

use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

/// Lowers the calling thread's priority to the least (nice 19), so that
/// creating files, which costs CPU in the kernel (tens of microseconds a
/// file on some file systems), never takes a core from the conductor and
/// the agents when results arrive together: the files trail behind, in
/// the time the run spends waiting for agents.
fn yield_to_the_conductor() {
    // On Linux, PRIO_PROCESS with a thread id sets that thread's nice value
    // alone. Failure leaves the thread as it was: still correct.
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and setpriority have no memory effects.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 19);
    }
}

/// A background writer of whole files.
pub struct FileWriter {
    tx: Option<mpsc::Sender<(PathBuf, Vec<u8>)>>,
    thread: Option<JoinHandle<()>>,
}

impl FileWriter {
    pub fn start() -> FileWriter {
        let (tx, rx) = mpsc::channel::<(PathBuf, Vec<u8>)>();
        let thread = std::thread::Builder::new()
            .name("score-files".into())
            .spawn(move || {
                yield_to_the_conductor();
                let mut made: HashSet<PathBuf> = HashSet::new();
                for (path, bytes) in rx {
                    if let Some(dir) = path.parent()
                        && !made.contains(dir)
                    {
                        let _ = std::fs::create_dir_all(dir);
                        made.insert(dir.to_path_buf());
                    }
                    write_whole(&path, &bytes);
                }
            })
            .ok();
        FileWriter {
            tx: Some(tx),
            thread,
        }
    }

    /// Writes `bytes` to `path` (soon; [`FileWriter::finish`] waits).
    pub fn write(&self, path: PathBuf, bytes: Vec<u8>) {
        match (&self.tx, &self.thread) {
            (Some(tx), Some(_)) => {
                let _ = tx.send((path, bytes));
            }
            // No thread could be started: write here.
            _ => {
                if let Some(dir) = path.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                write_whole(&path, &bytes);
            }
        }
    }

    /// Waits until everything sent has been written.
    pub fn finish(&mut self) {
        self.tx = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for FileWriter {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Write then rename: never half a file.
pub fn write_whole(path: &Path, bytes: &[u8]) {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    if std::fs::write(&tmp, bytes).is_ok() && std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// A task's outputs as the file `outputs/TASK.json` holds them.
pub fn outputs_file(outputs: &Value) -> Vec<u8> {
    let mut text = serde_json::to_string_pretty(outputs).unwrap_or_default();
    text.push('\n');
    text.into_bytes()
}

/// The cache of accepted results: `.score/cache/HASH.INPUTS.json`, by what
/// a task was and what it was given.
pub struct Cache {
    dir: PathBuf,
    /// The entries there were when the run started (one directory read,
    /// instead of a failing open per dispatched task).
    names: HashSet<String>,
}

/// A cached result: the run it came from and its outputs.
pub struct Cached {
    pub run: String,
    pub outputs: Value,
    /// The commit of its work, when it ran in a worktree and changed files.
    pub commit: Option<String>,
    /// Whether it ran in a worktree (then no commit means it changed no
    /// file; in place, its files were never committed anywhere).
    pub worktree: bool,
}

fn entry_name(hash: &str, inputs_hash: &str) -> String {
    let short = &inputs_hash[..inputs_hash.len().min(16)];
    format!("{hash}.{short}.json")
}

impl Cache {
    pub fn open(dir: &Path) -> Cache {
        let names = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        Cache {
            dir: dir.to_path_buf(),
            names,
        }
    }

    /// The result cached for this task hash and these inputs, if any.
    pub fn lookup(&self, hash: &str, inputs_hash: &str) -> Option<Cached> {
        let name = entry_name(hash, inputs_hash);
        if !self.names.contains(&name) {
            return None;
        }
        let text = std::fs::read_to_string(self.dir.join(name)).ok()?;
        let value: Value = serde_json::from_str(&text).ok()?;
        if value.get("hash")?.as_str()? != hash
            || value.get("inputs_hash")?.as_str()? != inputs_hash
        {
            return None;
        }
        Some(Cached {
            run: value.get("run")?.as_str()?.to_string(),
            outputs: value.get("outputs")?.clone(),
            commit: value
                .get("commit")
                .and_then(Value::as_str)
                .map(str::to_string),
            worktree: value
                .get("worktree")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }
}

/// One accepted result, as the cache records it for later runs.
pub struct CacheEntry<'a> {
    /// The task's content hash and the hash of the inputs it was given:
    /// together they are the key a later run looks the entry up by.
    pub hash: &'a str,
    pub inputs_hash: &'a str,
    pub run: &'a str,
    pub task: &'a str,
    pub outputs: &'a Value,
    pub commit: Option<&'a str>,
    pub worktree: bool,
}

impl CacheEntry<'_> {
    /// The path of the entry under the cache directory `dir`, and its bytes.
    pub fn encode(&self, dir: &Path) -> (PathBuf, Vec<u8>) {
        let entry = serde_json::json!({
            "commit": self.commit, "hash": self.hash, "inputs_hash": self.inputs_hash,
            "outputs": self.outputs, "run": self.run, "task": self.task,
            "worktree": self.worktree,
        });
        (
            dir.join(entry_name(self.hash, self.inputs_hash)),
            entry.to_string().into_bytes(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_written_are_found_by_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("cache");
        let mut writer = FileWriter::start();
        let (path, bytes) = CacheEntry {
            hash: "h1",
            inputs_hash: "i1",
            run: "r1",
            task: "t",
            outputs: &json!({"x": 1}),
            commit: Some("c0ffee"),
            worktree: true,
        }
        .encode(&cache_dir);
        writer.write(path, bytes);
        writer.write(
            dir.path().join("outputs/t.json"),
            outputs_file(&json!({"x": 1})),
        );
        writer.finish();
        let cache = Cache::open(&cache_dir);
        let hit = cache.lookup("h1", "i1").unwrap();
        assert_eq!(
            (hit.run.as_str(), hit.commit.as_deref()),
            ("r1", Some("c0ffee"))
        );
        assert_eq!(hit.outputs, json!({"x": 1}));
        assert!(cache.lookup("h1", "other").is_none());
        let saved = std::fs::read_to_string(dir.path().join("outputs/t.json")).unwrap();
        assert_eq!(saved, "{\n  \"x\": 1\n}\n");
        // No temporary file is left behind.
        assert_eq!(std::fs::read_dir(&cache_dir).unwrap().count(), 1);
    }
}
