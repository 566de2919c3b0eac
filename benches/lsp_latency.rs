//! How long `score lsp` takes, on a score of about 10,000 lines, from a
//! one-character edit to the diagnostics it publishes, and how much memory
//! the server holds once the file is open. Prints a Markdown table for
//! docs/performance.md.
//!
//! Run: `cargo bench --bench lsp_latency`
//! Options (after `--`): `--lines 10000` `--edits 20` `--seed 1`.
//!
//! It drives the release `score` binary as an editor would: `initialize`,
//! `didOpen` of a generated score (which checks clean, so every phase of
//! the checker runs), then one `didChange` at a time (full-document sync,
//! which the server advertises), each waiting for the next
//! `publishDiagnostics` of that document before the next edit.
//!
//! The server publishes only once typing has paused for its debounce delay
//! (`DEBOUNCE` in src/lsp/mod.rs): it waits that long for another message
//! after the last change, then checks. So edit → diagnostics is the delay
//! plus the work, and the work is reported as the total minus the delay.
//! Re-opening the edited text (`didClose` then `didOpen`) publishes at once,
//! without the delay: it is timed too, as a direct measure of the work.
//!
//! Targets (from the issue): edit → published diagnostics under 100 ms in
//! release; server memory after opening under 200 MB.

use serde_json::{Value, json};
use std::path::Path;
use std::process::{Child, ChildStdin, ExitCode};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

#[path = "support/generate.rs"]
mod generate;
#[path = "../tests/support/lsp_wire.rs"]
mod lsp_wire;

/// The server's debounce delay, as in `DEBOUNCE` in src/lsp/mod.rs (the
/// server does not advertise it; keep the two in step).
const DEBOUNCE: Duration = Duration::from_millis(50);

/// How long to wait for any one answer before calling the server stuck.
const PATIENCE: Duration = Duration::from_secs(60);

struct Options {
    lines: usize,
    edits: usize,
    seed: u64,
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            eprintln!(
                "usage: cargo bench --bench lsp_latency -- [--lines 10000] [--edits 20] [--seed 1]"
            );
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        lines: 10_000,
        edits: 20,
        seed: 1,
    };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("`{name}` needs a value"));
        match arg.as_str() {
            // `cargo bench` passes `--bench` to every benchmark executable.
            "--bench" => {}
            "--lines" => options.lines = parse_number(&value("--lines")?, "--lines")?.max(100),
            "--edits" => options.edits = parse_number(&value("--edits")?, "--edits")?.max(1),
            "--seed" => options.seed = parse_number(&value("--seed")?, "--seed")? as u64,
            // `cargo bench -- ARGS` gives the same ARGS to every benchmark.
            other => eprintln!("note: lsp_latency ignores `{other}`"),
        }
    }
    Ok(options)
}

fn parse_number(text: &str, flag: &str) -> Result<usize, String> {
    text.replace('_', "")
        .parse()
        .map_err(|_| format!("`{flag}` expects a whole number, found `{text}`"))
}

/// A minimal LSP client over the server's stdin and stdout.
struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
}

impl Client {
    fn start(dir: &Path) -> Result<Client, String> {
        let lsp_wire::Server {
            child,
            stdin,
            messages,
        } = lsp_wire::start(dir)
            .map_err(|e| format!("cannot start `{} lsp`: {e}", env!("CARGO_BIN_EXE_score")))?;
        Ok(Client {
            child,
            stdin,
            messages,
            next_id: 1,
        })
    }

    fn send(&mut self, message: &Value) -> Result<(), String> {
        lsp_wire::write_message(&mut self.stdin, message)
            .map_err(|e| format!("cannot write to the server: {e}"))
    }

    fn notify(&mut self, method: &str, params: Value) -> Result<(), String> {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}))
    }

    fn next(&mut self) -> Result<Value, String> {
        self.messages.recv_timeout(PATIENCE).map_err(|e| match e {
            RecvTimeoutError::Timeout => format!("the server sent nothing for {PATIENCE:?}"),
            RecvTimeoutError::Disconnected => "the server closed its output".to_string(),
        })
    }

    fn request(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))?;
        loop {
            let message = self.next()?;
            if message["id"] == json!(id) {
                if let Some(error) = message.get("error") {
                    return Err(format!("`{method}` failed: {error}"));
                }
                return Ok(message["result"].clone());
            }
        }
    }

    /// Waits for the next diagnostics published for `uri`; returns how many.
    fn diagnostics(&mut self, uri: &str) -> Result<usize, String> {
        loop {
            let message = self.next()?;
            if message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
            {
                return Ok(message["params"]["diagnostics"]
                    .as_array()
                    .map_or(0, Vec::len));
            }
        }
    }

    fn shutdown(mut self) -> Result<(), String> {
        self.request("shutdown", Value::Null)?;
        self.notify("exit", Value::Null)?;
        let status = self
            .child
            .wait()
            .map_err(|e| format!("cannot wait for the server: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("the server exited with {status}"))
        }
    }
}

/// A field of /proc/PID/status, in KiB (Linux only; `None` elsewhere).
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        line.strip_prefix(field)?
            .strip_prefix(':')?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse()
            .ok()
    })
}

fn mb(kib: Option<u64>) -> String {
    kib.map_or("n/a".to_string(), |k| {
        format!("{:.1}", k as f64 * 1024.0 / 1e6)
    })
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// Median, minimum and maximum.
fn summary(samples: &mut [Duration]) -> (Duration, Duration, Duration) {
    samples.sort();
    let n = samples.len();
    let median = if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2
    };
    (median, samples[0], samples[n - 1])
}

/// The text after edit `i`: the score plus a trailing comment whose last
/// character changes with each edit, so that each text differs from the
/// previous one by exactly one character and still checks clean.
fn edited(base: &str, i: usize) -> String {
    let letters = b"abcdefghijklmnopqrstuvwxyz";
    format!("{base}// edit {}\n", letters[i % letters.len()] as char)
}

fn run(options: &Options) -> Result<(), String> {
    // Lines grow linearly with parts: measure a small score, then scale.
    let probe = 1_000;
    let per_probe = generate::generate(probe, options.seed).lines().count();
    let parts = (options.lines * probe).div_ceil(per_probe).max(1);
    let base = generate::generate(parts, options.seed);
    let text = edited(&base, 0);
    let lines = text.lines().count();
    println!(
        "score: {parts} parts, {lines} lines, {:.2} MB (seed {})",
        text.len() as f64 / 1e6,
        options.seed
    );

    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let file = dir.path().join("bench.score");
    std::fs::write(&file, &text).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    let root = format!("file://{}", dir.path().display());
    let uri = format!("file://{}", file.display());

    let mut client = Client::start(dir.path())?;
    let pid = client.child.id();
    let init = client.request(
        "initialize",
        json!({"processId": null, "rootUri": root, "capabilities": {}}),
    )?;
    // Full sync is what the edits below send; make sure it is what the
    // server expects (1 = Full, possibly inside an options object).
    let sync = &init["capabilities"]["textDocumentSync"];
    let kind = sync.get("change").unwrap_or(sync);
    if kind != &json!(1) {
        return Err(format!(
            "the server advertises textDocumentSync {sync}, not full sync (1); update the bench"
        ));
    }
    client.notify("initialized", json!({}))?;
    let rss_before_open = status_kib(pid, "VmRSS");

    let start = Instant::now();
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "score", "version": 1, "text": text}}),
    )?;
    let found = client.diagnostics(&uri)?;
    let open_time = start.elapsed();
    if found != 0 {
        return Err(format!(
            "the generated score should check clean, but the server published {found} diagnostics"
        ));
    }
    let rss_after_open = status_kib(pid, "VmRSS");
    let hwm_after_open = status_kib(pid, "VmHWM");

    // Edit → diagnostics, through the debounce.
    let mut version = 1;
    let mut totals = Vec::new();
    for i in 1..=options.edits {
        version += 1;
        let change = edited(&base, i);
        let start = Instant::now();
        client.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": change}],
            }),
        )?;
        let found = client.diagnostics(&uri)?;
        totals.push(start.elapsed());
        if found != 0 {
            return Err(format!("edit {i} gave {found} diagnostics instead of none"));
        }
    }

    // Re-open the edited text: published at once, no debounce.
    let mut reopens = Vec::new();
    for i in 0..options.edits {
        client.notify(
            "textDocument/didClose",
            json!({"textDocument": {"uri": uri}}),
        )?;
        // Closing clears the document's diagnostics: skip that message.
        client.diagnostics(&uri)?;
        version += 1;
        let change = edited(&base, options.edits + 1 + i);
        let start = Instant::now();
        client.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "score", "version": version, "text": change}}),
        )?;
        client.diagnostics(&uri)?;
        reopens.push(start.elapsed());
    }
    let rss_end = status_kib(pid, "VmRSS");
    let hwm_end = status_kib(pid, "VmHWM");
    client.shutdown()?;

    let (total_median, total_min, total_max) = summary(&mut totals);
    let mut work: Vec<Duration> = totals.iter().map(|t| t.saturating_sub(DEBOUNCE)).collect();
    let (work_median, work_min, work_max) = summary(&mut work);
    let (reopen_median, reopen_min, reopen_max) = summary(&mut reopens);
    let n = options.edits;

    println!();
    println!("| measure ({n} runs; first open once) | median | min | max |");
    println!("| --- | ---: | ---: | ---: |");
    println!("| first `didOpen` → diagnostics | {} | | |", ms(open_time));
    println!(
        "| `didChange` → diagnostics (includes the {} ms debounce) | {} | {} | {} |",
        DEBOUNCE.as_millis(),
        ms(total_median),
        ms(total_min),
        ms(total_max)
    );
    println!(
        "| work = the line above − {} ms | {} | {} | {} |",
        DEBOUNCE.as_millis(),
        ms(work_median),
        ms(work_min),
        ms(work_max)
    );
    println!(
        "| re-open (`didClose` + `didOpen`) → diagnostics, no debounce | {} | {} | {} |",
        ms(reopen_median),
        ms(reopen_min),
        ms(reopen_max)
    );
    println!();
    println!("| server memory | MB |");
    println!("| --- | ---: |");
    println!("| RSS after `initialize` | {} |", mb(rss_before_open));
    println!("| RSS after opening | {} |", mb(rss_after_open));
    println!(
        "| peak RSS (VmHWM) after opening | {} |",
        mb(hwm_after_open)
    );
    println!("| RSS after all edits | {} |", mb(rss_end));
    println!("| peak RSS (VmHWM) after all edits | {} |", mb(hwm_end));
    println!();
    println!("(MB are 10⁶ bytes.)");
    Ok(())
}
