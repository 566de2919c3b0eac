//! What reading a coding-agent CLI's output costs per attempt: the
//! recorded Codex CLI (`exec --json`) and Claude Code (`stream-json`)
//! transcripts of `tests/data/agents/`, grown to 1 MB by repeating their
//! recorded middle events (a long session prints many tool calls before
//! its answer), read by [`score::runtime::agents::protocol::read`].
//! Target (agents issue): under 1 ms per attempt.
//!
//! Run with `cargo bench --bench protocol`. Prints a Markdown table.

use score::plan::Protocol;
use score::runtime::agents::protocol;
use std::time::{Duration, Instant};

const SIZE: usize = 1 << 20;

/// `recorded` with its middle lines (all but the first and the last
/// `keep_last`) repeated until the text is about `SIZE` bytes.
fn grow(recorded: &str, keep_last: usize) -> String {
    let lines: Vec<&str> = recorded.lines().filter(|l| !l.trim().is_empty()).collect();
    let (head, rest) = lines.split_at(1);
    let (middle, tail) = rest.split_at(rest.len() - keep_last);
    assert!(!middle.is_empty(), "the transcript has middle events");
    let mut out = String::with_capacity(SIZE + 4096);
    out.push_str(head[0]);
    out.push('\n');
    while out.len() < SIZE {
        for line in middle {
            out.push_str(line);
            out.push('\n');
        }
    }
    for line in tail {
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn time(protocol: Protocol, text: &str) -> (Duration, u64) {
    // Warm up, then take the median of many reads.
    let mut tokens = 0;
    for _ in 0..10 {
        tokens = protocol::read(protocol, text, "")
            .unwrap()
            .usage
            .input_tokens;
    }
    let mut times: Vec<Duration> = (0..200)
        .map(|_| {
            let start = Instant::now();
            let t = protocol::read(protocol, std::hint::black_box(text), "").unwrap();
            std::hint::black_box(&t);
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[times.len() / 2], tokens)
}

fn main() {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/agents/");
    let read = |name: &str| std::fs::read_to_string(format!("{data}{name}")).unwrap();
    let cases = [
        (
            "codex_jsonl",
            Protocol::CodexJsonl,
            grow(&read("codex_success.jsonl"), 2),
        ),
        (
            "claude_json (stream-json)",
            Protocol::ClaudeJson,
            grow(&read("claude_stream.jsonl"), 1),
        ),
        // `--output-format json`: one object, as recorded.
        (
            "claude_json (json)",
            Protocol::ClaudeJson,
            read("claude_schema_ignored.json"),
        ),
    ];
    println!("| protocol | transcript | median read | input tokens read |");
    println!("| --- | --- | --- | --- |");
    for (name, protocol, text) in &cases {
        let (median, tokens) = time(*protocol, text);
        println!(
            "| {name} | {} KiB, {} lines | {:.1} µs | {tokens} |",
            text.len() / 1024,
            text.lines().count(),
            median.as_secs_f64() * 1e6
        );
    }
}
