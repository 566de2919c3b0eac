//! The live page (`score serve`, `score run --ui`): how fast it shows a
//! large run, and what serving it costs a run. Prints Markdown tables for
//! docs/performance.md.
//!
//! Run: `cargo bench --bench ui` (options after `--`: `--parts 1000`,
//! `--runs 5`, `--makespan-parts 300`, `--latency-ms 20`).
//!
//! 1. **first data**: a finished run of `--parts` parts (a plan from the
//!    benchmarks' generator; a journal with an attempt and a success per
//!    part, a tenth of them retried after a boundary violation), served by
//!    `score::ui` on 127.0.0.1: the time to answer the page, the state
//!    JSON, and the first `state` event of the stream (each from a fresh
//!    connection; median of `--runs`). With Chromium on PATH, also the
//!    browser's time from navigating to the run's URL to a DOM with every
//!    part in the table and the DAG (target: under 1 s).
//! 2. **overhead**: a run of `--makespan-parts` parts played by the mock
//!    with `--latency-ms` per attempt, in this process, without the page
//!    and with it open (the server on the run's tokio, a client reading the
//!    event stream the whole run): the makespans' medians (target: the
//!    page adds under 2 %).

#[path = "../tests/support/browser.rs"]
#[allow(dead_code)]
mod browser;
#[path = "support/generate.rs"]
mod generate;

use score::plan::{Plan, Provider};
use score::runtime::journal::{Event, FailureKind, Journal, Record, RunsDir};
use score::runtime::{self, Mode, RunContext, RunOptions, RunStatus};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

struct Options {
    parts: usize,
    runs: usize,
    makespan_parts: usize,
    latency_ms: u64,
}

fn main() -> ExitCode {
    let mut options = Options {
        parts: 1000,
        runs: 5,
        makespan_parts: 300,
        latency_ms: 20,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().and_then(|v| v.parse::<usize>().ok());
        match arg.as_str() {
            "--parts" => options.parts = value().unwrap_or(options.parts),
            "--runs" => options.runs = value().unwrap_or(options.runs).max(1),
            "--makespan-parts" => {
                options.makespan_parts = value().unwrap_or(options.makespan_parts)
            }
            "--latency-ms" => options.latency_ms = value().unwrap_or(20) as u64,
            // `cargo bench` passes `--bench`.
            _ => {}
        }
    }
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(options: &Options) -> Result<(), String> {
    first_data(options)?;
    overhead(options)
}

/// A plan of `parts` parts from the generator, every agent the mock
/// (with `latency_ms`), nothing to check or own (the mock writes nothing).
fn plan(parts: usize, latency_ms: Option<u64>) -> Result<Plan, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let file = dir.path().join("big.score");
    std::fs::write(&file, generate::generate(parts, 7)).map_err(|e| e.to_string())?;
    let mut plan = score::driver::compile(&file)
        .map_err(|_| "the generated score does not compile".to_string())?
        .plan;
    for agent in plan.agents.values_mut() {
        agent.provider = Provider::Mock {
            latency_ms,
            fail_rate: None,
            seed: None,
        };
    }
    for task in &mut plan.tasks {
        task.checks.clear();
        task.owns.clear();
        task.approve = None;
    }
    Ok(plan)
}

/// Writes a finished run of `plan` into `workspace`: its plan and a
/// journal as `score run` would leave it.
fn record_run(plan: &Plan, workspace: &Path, id: &str) -> Result<(), String> {
    let run = RunsDir::new(workspace).run(id);
    run.create().map_err(|e| e.to_string())?;
    std::fs::write(run.plan(), score::plan::to_json(plan)).map_err(|e| e.to_string())?;
    let mut journal = Journal::open(&run.events()).map_err(|e| e.to_string())?;
    let mut at = 1_796_300_000_000;
    let mut append = |event: Event| {
        at += 3;
        journal.append(&Record { at, event })
    };
    let io = |e: std::io::Error| e.to_string();
    append(Event::RunStarted {
        run: id.into(),
        score: plan.score.name.clone(),
        source_hash: plan.source_hash.clone(),
        tasks: plan.tasks.len(),
        pid: 1,
        checkouts: None,
        sources: Default::default(),
        edited: Vec::new(),
        file: None,
    })
    .map_err(io)?;
    for (i, task) in plan.tasks.iter().enumerate() {
        let started = |attempt| Event::AttemptStarted {
            task: task.id.clone(),
            attempt,
            agent: task.agent.clone(),
            hash: task.hash.clone(),
        };
        append(started(1)).map_err(io)?;
        let attempts = if i % 10 == 0 {
            append(Event::AttemptFailed {
                task: task.id.clone(),
                attempt: 1,
                kind: FailureKind::Boundary,
                message: "Your previous attempt changed files outside the paths you may write, and those changes were undone:\n- `elsewhere.txt` was created\n".into(),
                tokens_in: 900,
                tokens_out: 120,
                cost_usd: 0.01,
                duration_ms: 2000,
            })
            .map_err(io)?;
            append(started(2)).map_err(io)?;
            2
        } else {
            1
        };
        append(Event::TaskSucceeded {
            task: task.id.clone(),
            hash: task.hash.clone(),
            inputs_hash: "0".repeat(64),
            outputs: serde_json::json!({"summary": {"title": "done", "body": "a result of a few words"}}),
            attempts,
            tokens_in: 1800,
            tokens_out: 240,
            cost_usd: 0.02,
            duration_ms: 4000,
            cached_from: None,
            commit: None,
            cache_checks: None,
        })
        .map_err(io)?;
    }
    append(Event::RunFinished {
        status: RunStatus::Succeeded,
        succeeded: plan.tasks.len(),
        failed: 0,
        remaining: 0,
    })
    .map_err(io)?;
    journal.sync().map_err(io)
}

/// The time to the end of a GET's answer, and its size.
fn timed_get(addr: SocketAddr, path: &str) -> Result<(Duration, usize), String> {
    let start = Instant::now();
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut body = Vec::new();
    stream.read_to_end(&mut body).map_err(|e| e.to_string())?;
    if !body.starts_with(b"HTTP/1.0 200") && !body.starts_with(b"HTTP/1.1 200") {
        return Err(format!(
            "GET {path}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ));
    }
    Ok((start.elapsed(), body.len()))
}

/// The time to the first `state` event of the stream, and its size.
fn timed_first_state(addr: SocketAddr, path: &str) -> Result<(Duration, usize), String> {
    let start = Instant::now();
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut in_state = false;
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err("the stream ended before a state".into());
        }
        if line.starts_with("event: state") {
            in_state = true;
        } else if in_state && line.starts_with("data:") {
            return Ok((start.elapsed(), line.len()));
        }
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Section 1.
fn first_data(options: &Options) -> Result<(), String> {
    let plan = plan(options.parts, None)?;
    let workspace = tempfile::tempdir().map_err(|e| e.to_string())?;
    let id = "20261203-000000-0001";
    record_run(&plan, workspace.path(), id)?;
    let tokio = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let ui = score::ui::Ui::new(
        workspace.path(),
        score::runtime::redact::Redactor::none(),
        None,
    );
    let (listener, _) = score::ui::bind(None)?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let url = ui.run_url(addr, id);
    tokio.spawn(score::ui::serve(ui, listener, std::future::pending()));

    println!(
        "### The live page of a finished run of {} parts ({} journal lines)\n",
        plan.tasks.len(),
        std::fs::read_to_string(RunsDir::new(workspace.path()).run(id).events())
            .map_err(|e| e.to_string())?
            .lines()
            .count()
    );
    println!(
        "| What | First (cold) | Median of {} | Size |",
        options.runs
    );
    println!("|---|---|---|---|");
    let page = format!("/runs/{id}");
    let state = format!("/api/runs/{id}");
    let events = format!("/api/runs/{id}/events");
    for (what, path, stream) in [
        ("the page (HTML)", page.as_str(), false),
        ("the state (JSON)", state.as_str(), false),
        ("the first `state` event", events.as_str(), true),
    ] {
        let mut samples = Vec::new();
        let mut size = 0;
        for _ in 0..options.runs {
            let (time, bytes) = if stream {
                timed_first_state(addr, path)?
            } else {
                timed_get(addr, path)?
            };
            samples.push(time);
            size = bytes;
        }
        let first = samples[0];
        println!(
            "| {what} | {} | {} | {} kB |",
            ms(first),
            ms(median(samples)),
            size / 1024
        );
    }
    match browser::chromium() {
        None => println!("\n(no chromium on PATH: the browser's time is not measured)"),
        Some(program) => {
            // In the page's own clock (from the start of the navigation
            // to the end of drawing the first state: `scoreFirstDrawnMs`),
            // and as the test sees it (from the DevTools command to a DOM
            // with every part: browser overhead and polling included).
            // The index of runs, one row, is the floor.
            let measure =
                |url: &str, ready: &str| -> Result<(Vec<Duration>, Vec<Duration>), String> {
                    let (mut page, mut seen) = (Vec::new(), Vec::new());
                    for _ in 0..options.runs {
                        let mut chrome = browser::Browser::start(&program);
                        let start = Instant::now();
                        let session = chrome.open(url);
                        chrome.wait_for(&session, ready);
                        seen.push(start.elapsed());
                        let drawn = chrome
                            .eval(&session, "window.scoreFirstDrawnMs")
                            .as_f64()
                            .ok_or("the page did not say when it drew")?;
                        page.push(Duration::from_secs_f64(drawn / 1000.0));
                    }
                    Ok((page, seen))
                };
            let (floor_page, floor_seen) = measure(
                &format!("http://{addr}/"),
                "document.querySelectorAll('tr[data-run]').length === 1",
            )?;
            let (page, seen) = measure(
                &url,
                &format!(
                    "document.querySelectorAll('#parts tr[data-part]').length === {0} && \
                     document.querySelectorAll('#dag .node').length === {0}",
                    plan.tasks.len()
                ),
            )?;
            for (what, samples) in [
                (
                    "Chromium, page clock: navigation → index of runs drawn (the floor)",
                    floor_page,
                ),
                (
                    "Chromium, page clock: navigation → 1,000 parts drawn (first paint with data)",
                    page,
                ),
                (
                    "Chromium, as the test sees it: index of runs (the floor)",
                    floor_seen,
                ),
                (
                    "Chromium, as the test sees it: every part in the table and the DAG",
                    seen,
                ),
            ] {
                println!(
                    "| {what} | {} | {} | |",
                    ms(samples[0]),
                    ms(median(samples))
                );
            }
        }
    }
    println!();
    Ok(())
}

/// One in-process run of `plan`; with `page`, its server runs beside it
/// and a client reads its event stream throughout. The makespan.
fn run_once(plan: &Plan, page: bool) -> Result<Duration, String> {
    let workspace = tempfile::tempdir().map_err(|e| e.to_string())?;
    let mut options = RunOptions {
        in_place: true,
        input_base: workspace.path().to_path_buf(),
        // The generated score's inputs are text.
        inputs: plan
            .score
            .inputs
            .keys()
            .map(|name| format!("{name}=x"))
            .collect(),
        ..RunOptions::default()
    };
    let id = runtime::run_id_of(workspace.path(), &options).ok_or("no run id")?;
    options.run_id = Some(id.clone());
    let prepared = runtime::prepare(plan.clone(), &options, &|_| None)?;
    let ctx = RunContext {
        workspace: workspace.path().to_path_buf(),
        mode: Mode::Quiet,
        interactive: false,
        file: None,
    };
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    let finished = tokio.block_on(async {
        if !page {
            return runtime::run(prepared, &options, &ctx).await;
        }
        let ui = score::ui::Ui::new(workspace.path(), prepared.sandbox.redactor.clone(), None);
        let (listener, _) = score::ui::bind(None)?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let server = tokio::spawn(score::ui::serve(
            ui.clone(),
            listener,
            std::future::pending(),
        ));
        // The page: the event stream, read until the server closes it.
        let reader = {
            let path = format!("/api/runs/{id}/events");
            std::thread::spawn(move || {
                // The journal exists once the run started.
                let deadline = Instant::now() + Duration::from_secs(30);
                while Instant::now() < deadline {
                    if let Ok(mut s) = TcpStream::connect(addr) {
                        let _ = write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
                        let mut all = Vec::new();
                        let _ = s.read_to_end(&mut all);
                        if all.starts_with(b"HTTP/1.0 200") || all.starts_with(b"HTTP/1.1 200") {
                            return;
                        }
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
            })
        };
        let finished = runtime::run(prepared, &options, &ctx).await;
        ui.close(Duration::from_secs(2)).await;
        server.abort();
        let _ = reader.join();
        finished
    })?;
    let wall = start.elapsed();
    if finished.outcome.status != RunStatus::Succeeded {
        return Err(format!(
            "the run ended {}",
            finished.outcome.status.as_str()
        ));
    }
    Ok(wall)
}

/// Section 2.
fn overhead(options: &Options) -> Result<(), String> {
    let plan = plan(options.makespan_parts, Some(options.latency_ms))?;
    let mut without = Vec::new();
    let mut with = Vec::new();
    // Interleaved, so that the machine's load hits both alike.
    for _ in 0..options.runs {
        without.push(run_once(&plan, false)?);
        with.push(run_once(&plan, true)?);
    }
    let (a, b) = (median(without), median(with));
    let overhead = b.as_secs_f64() / a.as_secs_f64() - 1.0;
    println!(
        "### What the page costs a run ({} parts, mock latency {} ms, {} waves)\n",
        plan.tasks.len(),
        options.latency_ms,
        plan.waves.len()
    );
    println!("| Makespan | Median of {} |", options.runs);
    println!("|---|---|");
    println!("| without the page | {} |", ms(a));
    println!("| with the page open (server + event stream) | {} |", ms(b));
    println!(
        "| overhead | {:+.2} % ({}; target under 2 %) |",
        overhead * 100.0,
        if overhead < 0.02 { "met" } else { "NOT met" }
    );
    Ok(())
}
