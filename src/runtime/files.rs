//! Files the runtime writes beside the journal, off the conductor's loop:
//! the copies of outputs (`outputs/TASK.json`) and the cache
//! (`.score/cache/results.jsonl`).
//!
//! The journal is the commit point of a task's result; these files are
//! conveniences derived from it (resume rewrites a lost output file from
//! the journal, and a lost cache entry only means a task is played again).
//! So they are written by a thread of their own, and the conductor never
//! waits for a file system that can take milliseconds to create a file.
//! Each file is written whole and renamed into place: a reader (or a crash)
//! never sees half of one. The cache is one file appended to, not a file
//! per entry: creating files is what slows every other file operation down
//! (the journal's syncs included) on a busy disk.

use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
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
    tx: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

/// What the writer thread does with some bytes.
enum Job {
    /// Writes a whole file (replacing it).
    Whole(PathBuf, Vec<u8>),
    /// Appends whole lines to a file.
    Append(PathBuf, Vec<u8>),
    /// Appends the lines a function makes, made on the writer's thread.
    AppendMade(PathBuf, Box<dyn FnOnce() -> Vec<u8> + Send>),
}

/// The writer's state: directories made, files open for appending.
#[derive(Default)]
struct Writing {
    made: HashSet<PathBuf>,
    appending: HashMap<PathBuf, std::fs::File>,
}

impl Writing {
    fn make_parent(&mut self, path: &Path) {
        if let Some(dir) = path.parent()
            && !self.made.contains(dir)
        {
            let _ = std::fs::create_dir_all(dir);
            self.made.insert(dir.to_path_buf());
        }
    }

    fn run(&mut self, job: Job) {
        match job {
            Job::Whole(path, bytes) => {
                self.make_parent(&path);
                write_whole(&path, &bytes);
            }
            Job::AppendMade(path, make) => self.run(Job::Append(path, make())),
            Job::Append(path, bytes) => {
                if !self.appending.contains_key(&path) {
                    self.make_parent(&path);
                    let Some(file) = open_for_lines(&path) else {
                        return;
                    };
                    self.appending.insert(path.clone(), file);
                }
                if let Some(file) = self.appending.get_mut(&path) {
                    let _ = file.write_all(&bytes);
                }
            }
        }
    }
}

/// Opens `path` to append lines to it; if a crash left its last line
/// unfinished, ends that line first (the reader skips it) so that the next
/// line is whole.
fn open_for_lines(path: &Path) -> Option<std::fs::File> {
    use std::os::unix::fs::FileExt;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
        .ok()?;
    let len = file.metadata().ok()?.len();
    let mut last = [0u8];
    if len > 0 && file.read_exact_at(&mut last, len - 1).is_ok() && last[0] != b'\n' {
        file.write_all(b"\n").ok()?;
    }
    Some(file)
}

impl FileWriter {
    pub fn start() -> FileWriter {
        let (tx, rx) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("score-files".into())
            .spawn(move || {
                yield_to_the_conductor();
                let mut writing = Writing::default();
                for job in rx {
                    writing.run(job);
                }
            })
            .ok();
        FileWriter {
            tx: Some(tx),
            thread,
        }
    }

    fn send(&self, job: Job) {
        match (&self.tx, &self.thread) {
            (Some(tx), Some(_)) => {
                let _ = tx.send(job);
            }
            // No thread could be started: write here.
            _ => Writing::default().run(job),
        }
    }

    /// Writes `bytes` to `path` (soon; [`FileWriter::finish`] waits).
    pub fn write(&self, path: PathBuf, bytes: Vec<u8>) {
        self.send(Job::Whole(path, bytes));
    }

    /// Appends the lines `make` returns (whole lines, each ending with a
    /// newline) to `path`, calling it on the writer's thread: lines that
    /// cost something to make (hashes) are not paid for on the
    /// conductor's loop.
    pub fn append_made(&self, path: PathBuf, make: impl FnOnce() -> Vec<u8> + Send + 'static) {
        self.send(Job::AppendMade(path, Box::new(make)));
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

/// The file of the cache, in the cache directory: one accepted result per
/// line (a [`CacheEntry`]), the last line for a key winning.
pub const CACHE_FILE: &str = "results.jsonl";

/// The cache of accepted results, by what a task was (its hash) and what it
/// was given (the hash of its inputs).
pub struct Cache {
    file: Option<std::fs::File>,
    /// Where each key's latest entry is in the file (offset, length): read
    /// once when the run starts; entries are parsed only when looked up.
    index: HashMap<(String, String), (u64, usize)>,
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

/// The key of an entry: what an index of the file needs from each line.
#[derive(serde::Deserialize)]
struct Key {
    hash: String,
    inputs_hash: String,
}

impl Cache {
    /// Reads the index of the cache in `dir`. An entry superseded by a later
    /// one for the same key stays in the file until more than half the
    /// lines are such: then the file is rewritten with the latest only.
    pub fn open(dir: &Path) -> Cache {
        let path = dir.join(CACHE_FILE);
        let Ok(text) = std::fs::read(&path) else {
            return Cache {
                file: None,
                index: HashMap::new(),
            };
        };
        let mut index = HashMap::new();
        let mut lines = 0usize;
        let mut offset = 0usize;
        for line in text.split_inclusive(|&b| b == b'\n') {
            // A line a crash cut short (no newline) or that does not parse
            // is no entry.
            if line.ends_with(b"\n")
                && let Ok(key) = serde_json::from_slice::<Key>(line)
            {
                index.insert((key.hash, key.inputs_hash), (offset as u64, line.len()));
                lines += 1;
            }
            offset += line.len();
        }
        if lines > 64 && lines > 2 * index.len() {
            let mut kept: Vec<(u64, usize)> = index.values().copied().collect();
            kept.sort_unstable();
            let mut compact = Vec::with_capacity(text.len() / 2);
            let mut moved = HashMap::with_capacity(kept.len());
            for &(start, len) in &kept {
                moved.insert(start, compact.len() as u64);
                compact.extend_from_slice(&text[start as usize..start as usize + len]);
            }
            write_whole(&path, &compact);
            for place in index.values_mut() {
                place.0 = moved[&place.0];
            }
        }
        Cache {
            file: std::fs::File::open(&path).ok(),
            index,
        }
    }

    /// The result cached for this task hash and these inputs, if any.
    pub fn lookup(&self, hash: &str, inputs_hash: &str) -> Option<Cached> {
        use std::os::unix::fs::FileExt;
        let &(offset, len) = self
            .index
            .get(&(hash.to_string(), inputs_hash.to_string()))?;
        let mut line = vec![0u8; len];
        self.file.as_ref()?.read_exact_at(&mut line, offset).ok()?;
        let value: Value = serde_json::from_slice(&line).ok()?;
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
    /// The hash of each field group of the part and of each input value
    /// (see `preview.rs`): what lets a later preview say what changed.
    pub fields: &'a BTreeMap<String, String>,
    pub inputs: &'a BTreeMap<String, String>,
}

impl CacheEntry<'_> {
    /// The cache file in the cache directory `dir`, and the entry's line.
    pub fn encode(&self, dir: &Path) -> (PathBuf, Vec<u8>) {
        let entry = serde_json::json!({
            "commit": self.commit, "fields": self.fields, "hash": self.hash,
            "inputs": self.inputs, "inputs_hash": self.inputs_hash,
            "outputs": self.outputs, "run": self.run, "task": self.task,
            "worktree": self.worktree,
        });
        let mut line = entry.to_string().into_bytes();
        line.push(b'\n');
        (dir.join(CACHE_FILE), line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(hash: &str, inputs: &str, run: &str, x: i64) -> (PathBuf, Vec<u8>, Value) {
        let outputs = json!({ "x": x });
        let (path, line) = CacheEntry {
            hash,
            inputs_hash: inputs,
            run,
            task: "t",
            outputs: &outputs,
            commit: Some("c0ffee"),
            worktree: true,
            fields: &BTreeMap::new(),
            inputs: &BTreeMap::new(),
        }
        .encode(Path::new("cache"));
        (path, line, outputs)
    }

    #[test]
    fn entries_written_are_found_by_the_next_run() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("cache");
        let mut writer = FileWriter::start();
        let (_, line, _) = entry("h1", "i1", "r1", 1);
        writer.append_made(cache_dir.join(CACHE_FILE), move || line);
        let (_, line, _) = entry("h2", "i2", "r1", 2);
        writer.append_made(cache_dir.join(CACHE_FILE), move || line);
        writer.write(
            dir.path().join("outputs/t.json"),
            outputs_file(&json!({"x": 1})),
        );
        writer.finish();
        let cache = Cache::open(&cache_dir);
        let hit = cache.lookup("h1", "i1").unwrap();
        assert_eq!(
            (hit.run.as_str(), hit.commit.as_deref(), hit.worktree),
            ("r1", Some("c0ffee"), true)
        );
        assert_eq!(hit.outputs, json!({"x": 1}));
        assert_eq!(cache.lookup("h2", "i2").unwrap().outputs, json!({"x": 2}));
        assert!(cache.lookup("h1", "other").is_none());
        let saved = std::fs::read_to_string(dir.path().join("outputs/t.json")).unwrap();
        assert_eq!(saved, "{\n  \"x\": 1\n}\n");
        // One file, no temporary file left behind.
        assert_eq!(std::fs::read_dir(&cache_dir).unwrap().count(), 1);
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_the_next_entry_is_whole() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(CACHE_FILE);
        let (_, first, _) = entry("h1", "i1", "r1", 1);
        let (_, second, _) = entry("h2", "i2", "r1", 2);
        let mut text = first.clone();
        text.extend_from_slice(&second[..second.len() / 2]);
        std::fs::write(&file, &text).unwrap();
        let cache = Cache::open(dir.path());
        assert!(cache.lookup("h1", "i1").is_some());
        assert!(cache.lookup("h2", "i2").is_none());
        let mut writer = FileWriter::start();
        writer.append_made(file.clone(), move || second);
        writer.finish();
        let cache = Cache::open(dir.path());
        assert_eq!(cache.lookup("h2", "i2").unwrap().outputs, json!({"x": 2}));
    }

    #[test]
    fn the_latest_entry_wins_and_superseded_ones_are_compacted_away() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(CACHE_FILE);
        let mut text = Vec::new();
        for run in 0..100 {
            for key in ["a", "b"] {
                text.extend(entry(key, "i", &format!("r{run}"), run).1);
            }
        }
        std::fs::write(&file, &text).unwrap();
        let cache = Cache::open(dir.path());
        assert_eq!(cache.lookup("a", "i").unwrap().run, "r99");
        assert_eq!(cache.lookup("b", "i").unwrap().outputs, json!({"x": 99}));
        let lines = std::fs::read_to_string(&file).unwrap().lines().count();
        assert_eq!(lines, 2, "compacted to the latest entry per key");
        let again = Cache::open(dir.path());
        assert_eq!(again.lookup("a", "i").unwrap().run, "r99");
    }
}
