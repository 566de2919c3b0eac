//! What the boundary around a program costs: `true` started the way the
//! runtime started programs before the sandbox (its own process group, the
//! inherited environment), through `process::run` with a PID namespace and
//! the scrubbed environment, and with Landlock on top. Target (sandbox
//! issue): a confined `true` costs at most 2 ms more than an unconfined one.
//!
//! Run with `cargo bench --bench sandbox` (`-- --quick`: fewer samples).
//! Prints a Markdown table; figures in docs/performance.md.

use score::runtime::process::{self, ProcessSpec};
use score::runtime::redact::Redactor;
use score::runtime::sandbox::{self, FsRules};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// How `true` is started.
#[derive(Clone, Copy)]
enum Way {
    /// As the runtime did before the sandbox: its own process group, the
    /// inherited environment.
    Before,
    /// `process::run` without filesystem rules: scrubbed environment, PID
    /// namespace.
    Contained,
    /// `process::run` with Landlock too.
    Confined,
}

async fn start(way: Way, work: &Path, plain: &ProcessSpec, confined: &ProcessSpec) -> Duration {
    let started = Instant::now();
    match way {
        Way::Before => {
            let status = tokio::process::Command::new("true")
                .current_dir(work)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .kill_on_drop(true)
                .status()
                .await
                .expect("true runs");
            assert!(status.success());
        }
        Way::Contained => assert!(process::run(plain).await.expect("true runs").success()),
        Way::Confined => assert!(process::run(confined).await.expect("true runs").success()),
    }
    started.elapsed()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn spec(dir: &Path, fs: Option<FsRules>) -> ProcessSpec {
    ProcessSpec {
        argv: vec!["true".into()],
        cwd: dir.to_path_buf(),
        env: sandbox::base_environment(&|name| std::env::var(name).ok(), &dir.join("tmp")),
        stdin: None,
        stdout: dir.join("out"),
        stderr: dir.join("err"),
        fs,
        redactor: Redactor::none(),
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let samples = if quick { 50 } else { 500 };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let work = dir.path();
    std::fs::create_dir_all(work.join("tmp")).expect("tmp");
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let support = sandbox::support();

    let plain = spec(work, None);
    let confined_spec = spec(
        work,
        Some(FsRules {
            writes: vec![work.to_path_buf()],
            reads: None,
            optional: true,
        }),
    );
    // Interleaved, so that a burst of load on the machine hits all three
    // alike; the median of each.
    let ways = [Way::Before, Way::Contained, Way::Confined];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); 3];
    tokio.block_on(async {
        for round in 0..samples + 5 {
            for k in 0..3 {
                let i = (round as usize + k) % 3;
                let took = start(ways[i], work, &plain, &confined_spec).await;
                if round >= 5 {
                    times[i].push(took);
                }
            }
        }
    });
    let [before, contained, confined]: [Duration; 3] = times
        .into_iter()
        .map(median)
        .collect::<Vec<_>>()
        .try_into()
        .expect("three ways");
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    let extra = |d: Duration| format!("{:+.2} ms", (d.as_secs_f64() - before.as_secs_f64()) * 1e3);
    println!(
        "Sandbox: {} ({samples} runs of `true` each, interleaved; medians)\n",
        support.describe()
    );
    println!("| how `true` is started | per run | more than before |");
    println!("| --- | ---: | ---: |");
    println!(
        "| before the sandbox (process group, inherited environment) | {} | |",
        ms(before)
    );
    println!(
        "| `process::run`: scrubbed environment, PID namespace | {} | {} |",
        ms(contained),
        extra(contained)
    );
    println!(
        "| `process::run` confined: the above and Landlock | {} | {} |",
        ms(confined),
        extra(confined)
    );
}
