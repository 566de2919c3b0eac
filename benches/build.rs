//! `score build` end to end on generated scores: load, check, compile the
//! plan and render its JSON. Prints a Markdown table for
//! docs/performance.md. Run with `cargo bench --bench build`.
//! Target (plan issue): under 1.5 s for 10k parts in release.

#[path = "support/generate.rs"]
mod generate;

use std::path::Path;
use std::time::{Duration, Instant};

fn build_once(entry: &Path) -> (Duration, usize) {
    let start = Instant::now();
    let program = score::syntax::load(entry, &|p| std::fs::read_to_string(p)).expect("readable");
    let checked = score::check::check(&program);
    assert!(
        !checked.has_errors(),
        "the generated score must check clean"
    );
    let dir = entry.parent().unwrap_or(Path::new(""));
    let plan = score::plan::build(&checked, &program.sources, dir).expect("plan builds");
    let json = score::plan::to_json(&plan);
    let elapsed = start.elapsed();
    let bytes = json.len();
    // Freeing the plan is not part of what `score build` must wait for.
    std::mem::forget(plan);
    (elapsed, bytes)
}

fn main() {
    // Ignore the flags cargo bench passes (`--bench`).
    let sizes = [1_000usize, 2_000, 4_000, 10_000];
    let runs = 3;
    println!("| parts | source MB | plan MB | median time (load + check + build + JSON) |");
    println!("|---:|---:|---:|---:|");
    for parts in sizes {
        let dir = tempfile::tempdir().expect("temp dir");
        let entry = dir.path().join("big.score");
        let text = generate::generate(parts, 7);
        std::fs::write(&entry, &text).expect("write score");
        let mut times = Vec::new();
        let mut plan_bytes = 0;
        for _ in 0..runs {
            let (time, bytes) = build_once(&entry);
            times.push(time);
            plan_bytes = bytes;
        }
        times.sort();
        let median = times[runs / 2];
        println!(
            "| {parts} | {:.1} | {:.1} | {:.0} ms |",
            text.len() as f64 / 1e6,
            plan_bytes as f64 / 1e6,
            median.as_secs_f64() * 1e3
        );
    }
}
