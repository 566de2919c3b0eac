//! `check` through `score mcp` against `score check` itself, on a generated
//! score of about 10,000 lines (it checks clean, so every phase of the
//! checker runs). Prints a Markdown table for docs/performance.md.
//!
//! Run: `cargo bench --bench mcp`
//! Options (after `--`): `--lines 10000` `--runs 10` `--seed 1`.
//!
//! Three ways to the same verdict, each timed `--runs` times (the median
//! is reported, after one untimed warm-up):
//! - `score check FILE --format json`: a process per check, as a script or
//!   an agent shelling out would run it;
//! - the MCP `check` tool with `paths`, on one running `score mcp` (stdio):
//!   request written → response read, as an agent's client sees it;
//! - the MCP `check` tool with the `text` of the score (the draft sent
//!   over the wire, about 1 MB of JSON each way in).
//!
//! Target (from the issue): MCP `check` within 20 % of `score check`.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

#[path = "support/generate.rs"]
mod generate;

/// How long to wait for any one answer before calling the server stuck.
const PATIENCE: Duration = Duration::from_secs(120);

struct Options {
    lines: usize,
    runs: usize,
    seed: u64,
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            eprintln!("usage: cargo bench --bench mcp -- [--lines 10000] [--runs 10] [--seed 1]");
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
        runs: 10,
        seed: 1,
    };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("`{name}` needs a value"));
        let number = |text: String, flag: &str| {
            text.parse::<usize>()
                .map_err(|_| format!("`{flag}` needs a number, not `{text}`"))
        };
        match arg.as_str() {
            // `cargo bench` passes `--bench` to every benchmark executable.
            "--bench" => {}
            "--lines" => options.lines = number(value("--lines")?, "--lines")?.max(100),
            "--runs" => options.runs = number(value("--runs")?, "--runs")?.max(1),
            "--seed" => options.seed = number(value("--seed")?, "--seed")? as u64,
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(options)
}

/// `score mcp` on stdio, one request at a time.
struct Server {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    next_id: i64,
}

impl Server {
    fn start(dir: &std::path::Path) -> Result<Server, String> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_score"))
            .arg("mcp")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start `score mcp`: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            stdin,
            lines,
            next_id: 1,
        };
        server.request(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "bench", "version": "1"}}),
        )?;
        server.write(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}))?;
        Ok(server)
    }

    fn write(&mut self, message: &Value) -> Result<(), String> {
        writeln!(self.stdin, "{message}")
            .and_then(|_| self.stdin.flush())
            .map_err(|e| format!("cannot write to the server: {e}"))
    }

    fn request(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let id = self.next_id;
        self.next_id += 1;
        self.write(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))?;
        loop {
            let line = self
                .lines
                .recv_timeout(PATIENCE)
                .map_err(|_| format!("no answer to `{method}` in {PATIENCE:?}"))?;
            let message: Value =
                serde_json::from_str(&line).map_err(|e| format!("not JSON ({e}): {line}"))?;
            if message["id"] == id {
                return Ok(message);
            }
        }
    }

    /// One `check` call; fails unless the score checked clean.
    fn check(&mut self, arguments: &Value) -> Result<(), String> {
        let answer = self.request(
            "tools/call",
            json!({"name": "check", "arguments": arguments}),
        )?;
        let result = &answer["result"]["structuredContent"];
        if result["ok"] != true || result["errors"] != 0 {
            return Err(format!("the check did not pass: {answer}"));
        }
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The median of `runs` timings of `f`, after one untimed warm-up.
fn median(runs: usize, mut f: impl FnMut() -> Result<(), String>) -> Result<Duration, String> {
    f()?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed());
    }
    times.sort();
    Ok(times[times.len() / 2])
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn run(options: &Options) -> Result<(), String> {
    // Lines grow linearly with parts: measure a small score, then scale.
    let probe = 1_000;
    let per_probe = generate::generate(probe, options.seed).lines().count();
    let parts = (options.lines * probe).div_ceil(per_probe).max(1);
    let text = generate::generate(parts, options.seed);
    println!(
        "score: {parts} parts, {} lines, {:.2} MB (seed {}); median of {} runs",
        text.lines().count(),
        text.len() as f64 / 1e6,
        options.seed,
        options.runs
    );
    let dir = tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
    let file = dir.path().join("bench.score");
    std::fs::write(&file, &text).map_err(|e| format!("cannot write the score: {e}"))?;

    let cli = median(options.runs, || {
        let out = Command::new(env!("CARGO_BIN_EXE_score"))
            .args(["check", "bench.score", "--format", "json"])
            .current_dir(dir.path())
            .output()
            .map_err(|e| format!("cannot run `score check`: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`score check` failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(())
    })?;

    let mut server = Server::start(dir.path())?;
    let by_path = json!({"paths": ["bench.score"]});
    let mcp_paths = median(options.runs, || server.check(&by_path))?;
    let by_text = json!({"text": text, "name": "bench.score"});
    let mcp_text = median(options.runs, || server.check(&by_text))?;

    let ratio = |d: Duration| d.as_secs_f64() / cli.as_secs_f64();
    println!();
    println!("| check of the score | median | vs `score check` |");
    println!("|---|---:|---:|");
    println!(
        "| `score check --format json` (a process each) | {} | 1.00 |",
        ms(cli)
    );
    println!(
        "| MCP `check` with `paths` (one server, stdio) | {} | {:.2} |",
        ms(mcp_paths),
        ratio(mcp_paths)
    );
    println!(
        "| MCP `check` with the `text` | {} | {:.2} |",
        ms(mcp_text),
        ratio(mcp_text)
    );
    let verdict = if ratio(mcp_paths) <= 1.2 {
        "within"
    } else {
        "NOT within"
    };
    println!("\nMCP `check` with `paths` is {verdict} 20 % of `score check` (target).");
    Ok(())
}
