//! How fast `score run` conducts a plan, and how much memory it needs.
//! Prints Markdown tables for docs/performance.md.
//!
//! Run: `cargo bench --bench runtime`
//! Options (after `--`): `--runs 3` (runs per figure, the median is shown),
//! `--heavy-runs 1` (the same for the runs that leave thousands of files:
//! the 10k-task runs and `score run` against make; see [`Scratch`]),
//! `--tasks 10000` (size of the overhead plans), `--latency-ms 20` (the
//! mock's latency in the makespan runs), `--section overhead|makespan|make`
//! (repeatable; default all three), `--write-plans DIR` (write every plan
//! and Makefile the bench would run into DIR, run nothing: for profiling
//! `score run` by hand), `--workspace-root DIR` (where the temporary
//! workspaces go; default the system's temporary directory).
//!
//! The plans are built directly as [`Plan`] values (tasks, dependencies,
//! waves and hashes as `score build` would write them), in three sections
//! that follow the issue's targets:
//!
//! 1. **overhead**: 10k tasks played by the mock with no latency, on three
//!    graphs (all independent, one chain, 100 layers of 100 with 3 edges
//!    each), run by the release `score run` binary. The run's time (from
//!    its journal's first record to its last) divided by the tasks is the
//!    runtime's cost per task (target: at most 100 µs); the child's peak
//!    RSS comes from `wait4` (target: under 150 MB).
//! 2. **makespan**: 2k tasks on a layered graph, the mock waiting a fixed
//!    latency per task, under a concurrency limit: the makespan (the wall
//!    time of `runtime::run` in this process) against max(critical path,
//!    total work / concurrency) (target: within 3 %).
//! 3. **make**: layered graphs of `true` commands, run by `score run --jobs
//!    N` (a `command` agent, tasks without outputs, in a fresh git
//!    repository: every command part plays in a worktree of its own) and by
//!    `make -jN` on an equivalent Makefile (target: score within 1.2×).
//!
//! Three calibrations come first, because they set floors no scheduler can
//! go below on this machine: the cost of one `fdatasync` (the journal syncs
//! once per batch of results before releasing dependants, so a chain pays
//! one per task), of creating a small file (the runtime writes one per
//! task), and how long a mock attempt with the latency really takes (the
//! mock's timer wakes it some tens of microseconds late).

use score::plan::{self, Agent, Complexity, Plan, Provider, Schema, ScoreInfo, Task};
use score::runtime::agent::{AttemptFiles, AttemptRequest, Performer};
use score::runtime::agents::mock::MockAgent;
use score::runtime::{self, Mode, RunContext, RunOptions, RunStatus};
use serde_json::json;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

/// The overhead target: wall time per task, zero-latency mock.
const OVERHEAD_TARGET: Duration = Duration::from_micros(100);
/// The memory target for `score run` on the 10k-task plans, in bytes.
const MEMORY_TARGET: u64 = 150_000_000;
/// The makespan target: at most this much over the lower bound.
const MAKESPAN_TARGET: f64 = 0.03;
/// The command target: score's time at most this multiple of make's.
const MAKE_TARGET: f64 = 1.2;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Overhead,
    Makespan,
    Make,
}

struct Options {
    runs: usize,
    heavy_runs: usize,
    tasks: usize,
    latency_ms: u64,
    sections: Vec<Section>,
    write_plans: Option<PathBuf>,
    workspace_root: Option<PathBuf>,
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            eprintln!(
                "usage: cargo bench --bench runtime -- [--runs 3] [--tasks 10000] \
                 [--heavy-runs 1] [--latency-ms 20] [--section overhead|makespan|make]... \
                 [--workspace-root DIR] [--write-plans DIR]"
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
        runs: 3,
        heavy_runs: 1,
        tasks: 10_000,
        latency_ms: 20,
        sections: Vec::new(),
        write_plans: None,
        workspace_root: None,
    };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("`{name}` needs a value"));
        match arg.as_str() {
            // `cargo bench` passes `--bench` to every benchmark executable.
            "--bench" => {}
            "--runs" => options.runs = parse_number(&value("--runs")?, "--runs")?.max(1),
            "--heavy-runs" => {
                options.heavy_runs = parse_number(&value("--heavy-runs")?, "--heavy-runs")?.max(1);
            }
            "--tasks" => options.tasks = parse_number(&value("--tasks")?, "--tasks")?.max(100),
            "--latency-ms" => {
                options.latency_ms =
                    parse_number(&value("--latency-ms")?, "--latency-ms")?.max(1) as u64;
            }
            "--write-plans" => options.write_plans = Some(value("--write-plans")?.into()),
            "--workspace-root" => {
                options.workspace_root = Some(value("--workspace-root")?.into());
            }
            "--section" => {
                let name = value("--section")?;
                options.sections.push(match name.as_str() {
                    "overhead" => Section::Overhead,
                    "makespan" => Section::Makespan,
                    "make" => Section::Make,
                    other => {
                        return Err(format!(
                            "unknown section `{other}`; the sections are overhead, makespan and make"
                        ));
                    }
                });
            }
            // `cargo bench -- ARGS` gives the same ARGS to every benchmark.
            other => eprintln!("note: the runtime bench ignores `{other}`"),
        }
    }
    if options.sections.is_empty() {
        options.sections = vec![Section::Overhead, Section::Makespan, Section::Make];
    }
    Ok(options)
}

fn parse_number(text: &str, flag: &str) -> Result<usize, String> {
    text.replace('_', "")
        .parse()
        .map_err(|_| format!("`{flag}` expects a whole number, found `{text}`"))
}

fn run(options: &Options) -> Result<(), String> {
    if let Some(dir) = &options.write_plans {
        return write_all_plans(options, dir);
    }
    let scratch = Scratch::new(options.workspace_root.as_deref())?;
    let sync = fdatasync_cost(&scratch.fresh("sync-probe")?)?;
    let (create, create_p90) = create_cost(&scratch.fresh("create-probe")?)?;
    let sleep = sleep_cost(Duration::from_millis(options.latency_ms))?;
    println!("## Calibration\n");
    println!("- workspaces under {}", scratch.root.path().display());
    println!(
        "- one `fdatasync` after a small append, in a temporary directory (median of {}): {:.0} µs",
        SYNC_SAMPLES,
        micros(sync)
    );
    println!(
        "- creating, writing and closing a small file (as the runtime writes each task's \
         outputs file), {CREATE_SAMPLES} files: median {:.0} µs, 90th percentile {:.0} µs",
        micros(create),
        micros(create_p90)
    );
    println!(
        "- a mock attempt with `latency {} ms` (mean of {}): {:.3} ms",
        options.latency_ms,
        SLEEP_SAMPLES,
        sleep.as_secs_f64() * 1e3
    );
    if options.sections.contains(&Section::Overhead) {
        overhead(options, &scratch)?;
    }
    if options.sections.contains(&Section::Makespan) {
        makespan(options, sleep, &scratch)?;
    }
    if options.sections.contains(&Section::Make) {
        versus_make(options, &scratch)?;
    }
    println!("\n(MB are 10⁶ bytes; every run gets a fresh temporary workspace.)");
    let start = Instant::now();
    let dirs = scratch.made.get();
    drop(scratch);
    eprintln!(
        "removed {dirs} temporary directories in {}",
        ms(start.elapsed())
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// The task graphs.

/// A task graph: for each task, the indices of the tasks it depends on (all
/// smaller than its own, so index order is a topological order).
struct Graph {
    label: String,
    deps: Vec<Vec<usize>>,
}

impl Graph {
    /// `n` tasks, no edges: one wave.
    fn independent(n: usize) -> Graph {
        Graph {
            label: format!("{n} independent"),
            deps: vec![Vec::new(); n],
        }
    }

    /// `n` tasks, each after the one before: `n` waves of one.
    fn chain(n: usize) -> Graph {
        Graph {
            label: format!("chain of {n}"),
            deps: (0..n)
                .map(|i| if i == 0 { Vec::new() } else { vec![i - 1] })
                .collect(),
        }
    }

    /// `layers` layers of `width` tasks; each task after the first layer
    /// depends on `edges` distinct tasks of the layer before, picked
    /// deterministically from `seed`. So every layer is a wave and the
    /// longest chain has `layers` tasks.
    fn layered(layers: usize, width: usize, edges: usize, seed: u64) -> Graph {
        let edges = edges.clamp(1, width);
        let mut deps = Vec::with_capacity(layers * width);
        for layer in 0..layers {
            for k in 0..width {
                let i = layer * width + k;
                if layer == 0 {
                    deps.push(Vec::new());
                    continue;
                }
                let base = (layer - 1) * width;
                let mut mine: Vec<usize> = Vec::with_capacity(edges);
                let mut draw = seed ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                while mine.len() < edges {
                    draw = splitmix(draw);
                    let d = base + (draw % width as u64) as usize;
                    if !mine.contains(&d) {
                        mine.push(d);
                    }
                }
                mine.sort_unstable();
                deps.push(mine);
            }
        }
        Graph {
            label: format!("{layers} layers × {width}, {edges} edges each"),
            deps,
        }
    }

    fn len(&self) -> usize {
        self.deps.len()
    }

    /// Tasks on the longest chain.
    fn depth(&self) -> usize {
        let mut depth = vec![0usize; self.len()];
        for (i, ds) in self.deps.iter().enumerate() {
            depth[i] = 1 + ds.iter().map(|&d| depth[d]).max().unwrap_or(0);
        }
        depth.into_iter().max().unwrap_or(0)
    }

    fn id(i: usize) -> String {
        // Zero-padded, so id order is index order within a wave.
        format!("t{i:05}")
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The plan `score build` would write for `graph`, every task played by
/// one agent with `provider`, without outputs, each estimated at
/// `estimate_ms` (the runtime dispatches the longest remaining work first).
fn build_plan(
    graph: &Graph,
    provider: Provider,
    estimate_ms: u64,
    concurrency: Option<u32>,
) -> Result<Plan, String> {
    let result_schema = Schema::new(result_schema());
    let mut tasks: Vec<Task> = graph
        .deps
        .iter()
        .enumerate()
        .map(|(i, ds)| {
            let id = Graph::id(i);
            Task {
                agent: "bench".into(),
                approve: None,
                brief: None,
                budget: None,
                checks: Vec::new(),
                complexity: Complexity::Routine,
                contracts: Vec::new(),
                depends_on: ds.iter().map(|&d| Graph::id(d)).collect(),
                doc: None,
                estimate_ms,
                hash: String::new(),
                inputs: BTreeMap::new(),
                intents: Vec::new(),
                outputs: BTreeMap::new(),
                owns: Vec::new(),
                postconditions: Vec::new(),
                prompt: format!("Play part `{id}` of the runtime benchmark. It has no outputs."),
                reads: Vec::new(),
                result_schema: result_schema.clone(),
                retries: 0,
                timeout_ms: 10 * plan::MINUTE_MS,
                wave: 0,
                id,
            }
        })
        .collect();
    let schedule = plan::schedule::schedule(&tasks).map_err(|e| e.to_string())?;
    // The bounds below are computed from the graph: it must be the one the
    // runtime sees.
    if schedule.waves.len() != graph.depth() {
        return Err(format!(
            "the graph `{}` has a longest chain of {} tasks, but its plan has {} waves",
            graph.label,
            graph.depth(),
            schedule.waves.len()
        ));
    }
    for (task, &wave) in tasks.iter_mut().zip(&schedule.wave_of) {
        task.wave = wave;
    }
    let critical_path = schedule.critical_path(&tasks);
    // The plan lists tasks in wave order, then by id.
    tasks.sort_by(|a, b| (a.wave, &a.id).cmp(&(b.wave, &b.id)));
    let mut agents = BTreeMap::new();
    agents.insert(
        "bench".to_string(),
        Agent {
            tier: Complexity::Complex,
            concurrency: None,
            price_in: None,
            price_out: None,
            doc: None,
            writes: Vec::new(),
            reads: None,
            confinement: Default::default(),
            provider,
        },
    );
    let mut sources = BTreeMap::new();
    sources.insert(
        "bench.score".to_string(),
        plan::hash::sha256_hex(graph.label.as_bytes()),
    );
    let mut plan = Plan {
        agents,
        critical_path,
        format: plan::FORMAT.into(),
        score: ScoreInfo {
            budget: None,
            concurrency,
            default_agent: Some("bench".into()),
            doc: None,
            inputs: BTreeMap::new(),
            name: "bench".into(),
            prompt_template: None,
            title: "Runtime benchmark".into(),
            workspace: ".".into(),
        },
        source_hash: plan::hash::source_hash(&sources),
        sources,
        tasks,
        waves: schedule.waves,
    };
    plan::hash::assign_hashes(&mut plan);
    Ok(plan)
}

fn mock(latency_ms: Option<u64>) -> Provider {
    Provider::Mock {
        latency_ms,
        fail_rate: None,
        seed: None,
    }
}

/// Writes `plan` as `score build` would, after checking that `score run`
/// will accept it (the format's schema and the graph).
fn write_plan(plan: &Plan, dir: &Path) -> Result<std::path::PathBuf, String> {
    let text = plan::to_json(plan);
    plan::load(&text).map_err(|e| format!("the benchmark built an invalid plan: {e}"))?;
    let path = dir.join("plan.json");
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// Section 1: the three shapes, `n` tasks each.
fn overhead_graphs(n: usize) -> [Graph; 3] {
    // Layers of 100 (or fewer for small `--tasks`), as many as fit.
    let width = 100.min(n);
    [
        Graph::independent(n),
        Graph::chain(n),
        Graph::layered(n / width, width, 3, 1),
    ]
}

/// Section 2: one configuration bound by the work (20 layers of 100 under
/// a limit of 8), one by the critical path (100 layers of 20 under 32).
fn makespan_configs() -> [(Graph, u32); 2] {
    [
        (Graph::layered(20, 100, 3, 2), 8),
        (Graph::layered(100, 20, 2, 3), 32),
    ]
}

/// Section 3: 500 and 1000 tasks. (Each command part plays in a git
/// worktree of its own, a dozen git processes per task: 2000 tasks at -j2
/// would take minutes.)
fn make_graphs() -> [Graph; 2] {
    [Graph::layered(10, 50, 3, 4), Graph::layered(20, 50, 3, 5)]
}

/// A `command` agent that runs `true`.
fn true_command() -> Provider {
    Provider::Command {
        run: vec!["true".into()],
        env: BTreeMap::new(),
        instructions: None,
        key_env: None,
        protocol: score::plan::Protocol::Plain,
        stdin_prompt: false,
        pass_env: Vec::new(),
    }
}

/// `--write-plans DIR`: every plan (and Makefile) of the selected sections,
/// to run `score run` by hand under a profiler.
fn write_all_plans(options: &Options, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    let mut save = |name: String, plan: Plan| -> Result<(), String> {
        let sub = dir.join(&name);
        std::fs::create_dir_all(&sub)
            .map_err(|e| format!("cannot create {}: {e}", sub.display()))?;
        written.push(write_plan(&plan, &sub)?);
        Ok(())
    };
    let slug = |label: &str| {
        label
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
            .split('-')
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join("-")
    };
    if options.sections.contains(&Section::Overhead) {
        for graph in overhead_graphs(options.tasks) {
            let plan = build_plan(&graph, mock(None), 1000, None)?;
            save(format!("overhead-{}", slug(&graph.label)), plan)?;
        }
    }
    if options.sections.contains(&Section::Makespan) {
        for (graph, concurrency) in makespan_configs() {
            let plan = build_plan(
                &graph,
                mock(Some(options.latency_ms)),
                options.latency_ms,
                Some(concurrency),
            )?;
            save(
                format!("makespan-{}-c{concurrency}", slug(&graph.label)),
                plan,
            )?;
        }
    }
    if options.sections.contains(&Section::Make) {
        for graph in make_graphs() {
            let plan = build_plan(&graph, true_command(), 1000, None)?;
            let name = format!("make-{}", slug(&graph.label));
            save(name.clone(), plan)?;
            let path = dir.join(name).join("Makefile");
            std::fs::write(&path, makefile(&graph))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
    }
    for path in written {
        println!("{}", path.display());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Running.

/// One in-process run of `plan`, as `score run` makes it: the wall time
/// of `runtime::run` (lock, journal, conductor, every file it writes).
fn run_in_process(plan: &Plan, jobs: Option<usize>, scratch: &Scratch) -> Result<Duration, String> {
    let workspace = scratch.fresh("workspace")?;
    let options = RunOptions {
        jobs,
        input_base: workspace.clone(),
        ..RunOptions::default()
    };
    let prepared = runtime::prepare(plan.clone(), &options, &|_| None)?;
    let ctx = RunContext {
        workspace,
        mode: Mode::Quiet,
        interactive: false,
        file: None,
    };
    // As `score run` builds it.
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start tokio: {e}"))?;
    let start = Instant::now();
    let finished = tokio.block_on(runtime::run(prepared, &options, &ctx))?;
    let wall = start.elapsed();
    let done = finished.tasks_done();
    if finished.outcome.status != RunStatus::Succeeded || done != plan.tasks.len() {
        return Err(format!(
            "the run ended {} with {done} of {} tasks done",
            finished.outcome.status.as_str(),
            plan.tasks.len()
        ));
    }
    // Freeing the states is not timed.
    drop(finished);
    drop(tokio);
    Ok(wall)
}

/// A finished child process: wall time and its own peak RSS.
struct Measured {
    wall: Duration,
    max_rss_bytes: u64,
}

/// Runs `command` to its end, reading its rusage with `wait4` (so the peak
/// RSS is this child's alone, not the largest of every child so far as
/// `getrusage(RUSAGE_CHILDREN)` would give). `what` names it in errors;
/// `stderr` is where its standard error went, shown when it fails.
fn measure(command: &mut Command, what: &str, stderr: &Path) -> Result<Measured, String> {
    let start = Instant::now();
    let child = command
        .spawn()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    let reaped = loop {
        // SAFETY: `status` and `usage` are valid for writes for the call;
        // `pid` is our own child, not waited for anywhere else (`child` is
        // dropped below without `wait`, which does not reap).
        let r = unsafe { libc::wait4(pid, &mut status, 0, usage.as_mut_ptr()) };
        if r == -1 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        break r;
    };
    let wall = start.elapsed();
    drop(child);
    if reaped != pid {
        return Err(format!(
            "cannot wait for {what}: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: wait4 succeeded, so it filled `usage` (and it was zeroed).
    let usage = unsafe { usage.assume_init() };
    let exited_ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    if !exited_ok {
        let said = std::fs::read_to_string(stderr).unwrap_or_default();
        let tail: Vec<&str> = said.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "{what} failed (wait status {status:#x}); the end of its stderr:\n{}",
            tail.join("\n")
        ));
    }
    Ok(Measured {
        wall,
        // Linux reports ru_maxrss in KiB.
        max_rss_bytes: usage.ru_maxrss.max(0) as u64 * 1024,
    })
}

/// `score run PLAN --events json > /dev/null` in a fresh workspace.
fn run_binary(
    plan_path: &Path,
    jobs: Option<usize>,
    workspace: &Path,
    extra: &[&str],
) -> Result<Measured, String> {
    let stderr_path = plan_path.with_file_name("score-run.stderr");
    let stderr = std::fs::File::create(&stderr_path)
        .map_err(|e| format!("cannot create {}: {e}", stderr_path.display()))?;
    let mut command = Command::new(env!("CARGO_BIN_EXE_score"));
    command
        .arg("run")
        .arg(plan_path)
        .arg("--workspace")
        .arg(workspace)
        .args(["--events", "json"])
        .args(extra);
    if let Some(jobs) = jobs {
        command.args(["--jobs", &jobs.to_string()]);
    }
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    measure(&mut command, "`score run`", &stderr_path)
}

// ---------------------------------------------------------------------------
// 1. Scheduling overhead and memory.

fn overhead(options: &Options, scratch: &Scratch) -> Result<(), String> {
    let n = options.tasks;
    let graphs = overhead_graphs(n);
    println!("\n## Scheduling overhead: zero-latency mock, {n} tasks\n");
    println!(
        "The release `score run PLAN --events json > /dev/null` as a child process, \
         median of {} run(s). Process: spawn to exit (loading and validating the plan, \
         the run, the report). Run: from the journal's `run_started` to its \
         `run_finished` (the conductor's loop). Peak RSS: the child's own, from `wait4`.\n",
        options.heavy_runs
    );
    println!(
        "| plan | tasks | waves | process wall | per task | run (journal) | per task \
         | peak RSS MB |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut worst_per_task = Duration::ZERO;
    let mut worst_rss = 0u64;
    for graph in &graphs {
        let plan = build_plan(graph, mock(None), 1000, None)?;
        let path = write_plan(&plan, &scratch.fresh("plan")?)?;
        let mut walls = Vec::new();
        let mut spans = Vec::new();
        let mut rss = 0u64;
        for _ in 0..options.heavy_runs {
            let workspace = scratch.fresh("workspace")?;
            let process = run_binary(&path, None, &workspace, &[])?;
            walls.push(process.wall);
            spans.push(journal_span(&workspace)?);
            rss = rss.max(process.max_rss_bytes);
        }
        let wall = median(&mut walls);
        let span = median(&mut spans);
        let tasks = graph.len() as u32;
        worst_per_task = worst_per_task.max(span / tasks);
        worst_rss = worst_rss.max(rss);
        println!(
            "| {} | {} | {} | {} | {:.1} µs | {} | {:.1} µs | {:.1} |",
            graph.label,
            graph.len(),
            plan.waves.len(),
            ms(wall),
            micros(wall / tasks),
            ms(span),
            micros(span / tasks),
            rss as f64 / 1e6
        );
    }
    println!(
        "\nTargets: at most {:.0} µs per task (the run): worst {:.1} µs ({}); peak RSS under \
         {:.0} MB: worst {:.1} MB ({}).",
        micros(OVERHEAD_TARGET),
        micros(worst_per_task),
        verdict(worst_per_task <= OVERHEAD_TARGET),
        MEMORY_TARGET as f64 / 1e6,
        worst_rss as f64 / 1e6,
        verdict(worst_rss < MEMORY_TARGET)
    );
    Ok(())
}

/// How long the run in `workspace` took by its journal: from the
/// `run_started` record to the `run_finished` one (milliseconds).
fn journal_span(workspace: &Path) -> Result<Duration, String> {
    let runs = workspace.join(".score").join("runs");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&runs)
        .map_err(|e| format!("cannot read {}: {e}", runs.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    let [dir] = dirs.as_mut_slice() else {
        return Err(format!("{} should hold exactly one run", runs.display()));
    };
    let journal = dir.join("events.jsonl");
    let text = std::fs::read_to_string(&journal)
        .map_err(|e| format!("cannot read {}: {e}", journal.display()))?;
    let mut started = None;
    let mut finished = None;
    for line in text.lines() {
        let record: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| format!("{} has a bad line: {e}", journal.display()))?;
        let at = record["at"].as_u64();
        match record["event"].as_str() {
            Some("run_started") => started = at,
            Some("run_finished") => finished = at,
            _ => {}
        }
    }
    match (started, finished) {
        (Some(a), Some(b)) if b >= a => Ok(Duration::from_millis(b - a)),
        _ => Err(format!(
            "{} has no `run_started` and `run_finished` records in order",
            journal.display()
        )),
    }
}

// ---------------------------------------------------------------------------
// 2. Makespan with a fixed latency.

fn makespan(options: &Options, sleep: Duration, scratch: &Scratch) -> Result<(), String> {
    let latency = Duration::from_millis(options.latency_ms);
    let configs = makespan_configs();
    println!(
        "\n## Makespan: mock latency {} ms, concurrency limit (the score's `concurrency`)\n",
        options.latency_ms
    );
    println!(
        "Bound = max(critical path, total work / concurrency). Measured: `runtime::run` \
         in this process, median of {} runs. Timer floor: the bound with each {} ms replaced \
         by the measured mock attempt above.\n",
        options.runs, options.latency_ms
    );
    println!(
        "| DAG | tasks | concurrency | critical path | work / concurrency | bound \
         | measured | over the bound | timer floor | over the floor |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut worst = 0.0f64;
    for (graph, concurrency) in &configs {
        let plan = build_plan(
            graph,
            mock(Some(options.latency_ms)),
            options.latency_ms,
            Some(*concurrency),
        )?;
        let critical = latency * graph.depth() as u32;
        let per_slot = latency * graph.len() as u32 / *concurrency;
        let bound = critical.max(per_slot);
        let floor = bound.mul_f64(sleep.as_secs_f64() / latency.as_secs_f64());
        let mut walls = Vec::new();
        for _ in 0..options.runs {
            walls.push(run_in_process(&plan, None, scratch)?);
        }
        let measured = median(&mut walls);
        let over = measured.as_secs_f64() / bound.as_secs_f64() - 1.0;
        let over_floor = measured.as_secs_f64() / floor.as_secs_f64() - 1.0;
        worst = worst.max(over);
        println!(
            "| {} | {} | {concurrency} | {} | {} | {} | {} | {:+.1} % | {} | {:+.1} % |",
            graph.label,
            graph.len(),
            ms(critical),
            ms(per_slot),
            ms(bound),
            ms(measured),
            over * 100.0,
            ms(floor),
            over_floor * 100.0
        );
    }
    println!(
        "\nTarget: within {:.0} % of the bound: worst {:+.1} % ({}).",
        MAKESPAN_TARGET * 100.0,
        worst * 100.0,
        verdict(worst <= MAKESPAN_TARGET)
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// 3. `true` commands: score against make.

/// A Makefile with one target per task, its dependencies as prerequisites
/// and `true` as its recipe; `all` needs every task. No target is a file
/// that exists, so make runs every recipe once.
fn makefile(graph: &Graph) -> String {
    let mut text = String::from("# Generated by benches/runtime.rs\nall:");
    for i in 0..graph.len() {
        text.push(' ');
        text.push_str(&Graph::id(i));
    }
    text.push('\n');
    for (i, ds) in graph.deps.iter().enumerate() {
        text.push_str(&Graph::id(i));
        text.push(':');
        for &d in ds {
            text.push(' ');
            text.push_str(&Graph::id(d));
        }
        text.push_str("\n\ttrue\n");
    }
    text
}

fn run_make(dir: &Path, jobs: usize) -> Result<Measured, String> {
    let stderr_path = dir.join("make.stderr");
    let stderr = std::fs::File::create(&stderr_path)
        .map_err(|e| format!("cannot create {}: {e}", stderr_path.display()))?;
    let mut command = Command::new("make");
    command
        // -r: no built-in rules (nothing here needs them).
        .args(["-r", "-s", "-f", "Makefile", "-j", &jobs.to_string(), "all"])
        .current_dir(dir)
        // `cargo bench` may hand its jobserver down; this make is on its own.
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .env_remove("MAKEFILES")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    measure(&mut command, "`make`", &stderr_path)
}

fn versus_make(options: &Options, scratch: &Scratch) -> Result<(), String> {
    let graphs = make_graphs();
    let command = true_command();
    println!("\n## `true` commands: `score run --jobs N` against `make -jN`\n");
    println!(
        "Both as child processes, wall time from spawn to exit; make: median of {} runs, \
         `make -r -s -jN all` on a Makefile with one target per task whose recipe is `true`; \
         score: median of {} run(s), `score run plan.json --jobs N --events json > /dev/null` \
                  in a fresh git repository, a `command` agent running `true` for each task (each \
         part plays in a git worktree of its own); `--in-place`: the same in a plain \
         directory, every part in the workspace itself, as make runs its recipes.\n",
        options.runs, options.heavy_runs
    );
    println!(
        "| DAG | tasks | N | make | score run (worktrees) | worktrees / make | score run --in-place | in place / make | in place per task | make per task |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut worst = 0.0f64;
    for graph in &graphs {
        let plan = build_plan(graph, command.clone(), 1000, None)?;
        let dir = scratch.fresh("plan")?;
        let path = write_plan(&plan, &dir)?;
        let makefile_path = dir.join("Makefile");
        std::fs::write(&makefile_path, makefile(graph))
            .map_err(|e| format!("cannot write {}: {e}", makefile_path.display()))?;
        for jobs in [2usize, 8] {
            let mut makes = Vec::new();
            let mut scores = Vec::new();
            for _ in 0..options.runs {
                makes.push(run_make(&dir, jobs)?.wall);
            }
            let mut in_place = Vec::new();
            for _ in 0..options.heavy_runs {
                let workspace = scratch.git_workspace()?;
                scores.push(run_binary(&path, Some(jobs), &workspace, &[])?.wall);
                let plain = scratch.fresh("workspace")?;
                in_place.push(run_binary(&path, Some(jobs), &plain, &["--in-place"])?.wall);
            }
            let make = median(&mut makes);
            let score = median(&mut scores);
            let place = median(&mut in_place);
            let ratio = score.as_secs_f64() / make.as_secs_f64();
            let place_ratio = place.as_secs_f64() / make.as_secs_f64();
            worst = worst.max(place_ratio);
            let tasks = graph.len() as u32;
            println!(
                "| {} | {} | {jobs} | {} | {} | {ratio:.1}× | {} | {place_ratio:.2}× | {:.2} ms | {:.2} ms |",
                graph.label,
                graph.len(),
                ms(make),
                ms(score),
                ms(place),
                micros(place / tasks) / 1e3,
                micros(make / tasks) / 1e3
            );
        }
    }
    println!(
        "\nTarget: score within {MAKE_TARGET}× of make: worst {worst:.2}× in place ({}).",
        verdict(worst <= MAKE_TARGET)
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Calibration and helpers.

const SYNC_SAMPLES: usize = 200;
const SLEEP_SAMPLES: usize = 50;
const CREATE_SAMPLES: usize = 500;

/// The median and 90th percentile cost of creating a small file. On this
/// machine it depends on what was deleted lately (see [`Scratch`]), so it
/// is measured before every bench: it tells how to read the figures.
fn create_cost(dir: &Path) -> Result<(Duration, Duration), String> {
    let mut samples = Vec::with_capacity(CREATE_SAMPLES);
    for i in 0..CREATE_SAMPLES {
        let path = dir.join(format!("probe{i:04}.json"));
        let start = Instant::now();
        std::fs::write(&path, b"{\"probe\": true}\n")
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        samples.push(start.elapsed());
    }
    samples.sort();
    Ok((median(&mut samples), samples[CREATE_SAMPLES * 9 / 10]))
}

/// The median cost of `fdatasync` after appending a journal-sized line.
fn fdatasync_cost(dir: &Path) -> Result<Duration, String> {
    use std::io::Write;
    let path = dir.join("sync-probe.jsonl");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    let line = [b'x'; 300];
    let mut samples = Vec::with_capacity(SYNC_SAMPLES);
    for _ in 0..SYNC_SAMPLES {
        file.write_all(&line)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let start = Instant::now();
        file.sync_data()
            .map_err(|e| format!("cannot sync {}: {e}", path.display()))?;
        samples.push(start.elapsed());
    }
    Ok(median(&mut samples))
}

/// What the compiler writes as the result schema of a part without outputs.
fn result_schema() -> serde_json::Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "additionalProperties": false,
        "properties": {},
        "required": [],
        "type": "object",
    })
}

/// The mean real duration of a mock attempt with this latency (no outputs):
/// what each task of the makespan plans really takes, however the mock
/// waits.
fn sleep_cost(latency: Duration) -> Result<Duration, String> {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start tokio: {e}"))?;
    let mock = MockAgent::new(latency, 0.0, 1);
    let scratch = std::env::temp_dir().join("score-bench-mock");
    let request = AttemptRequest {
        task: "t".into(),
        attempt: 1,
        prompt: String::new(),
        result_schema: result_schema(),
        has_outputs: false,
        workspace: scratch.clone(),
        files: AttemptFiles::new(&scratch, "t", 1),
        timeout: latency * 10,
        seed: 1,
        confinement: Default::default(),
        contract: None,
        budget_usd: None,
    };
    tokio.block_on(async {
        let start = Instant::now();
        for _ in 0..SLEEP_SAMPLES {
            mock.perform(&request)
                .await
                .map_err(|e| format!("the mock failed: {e:?}"))?;
        }
        Ok(start.elapsed() / SLEEP_SAMPLES as u32)
    })
}

/// Where the workspaces and plans go: fresh directories under one
/// temporary root, all removed at the end of the bench rather than after
/// each run. On this machine's ext4, which has no journal, creating a file
/// skips every inode of its block group deleted in the last minute or more
/// (`recently_deleted` in fs/ext4/ialloc.c), one lookup each: removing a
/// 10k-task workspace at once would make the next run's file creations pay
/// for it. Removing is slow there too (`discard` is on: about 1.5 ms per
/// file that reached the disk), which is why the runs that leave tens of
/// thousands of files are counted apart (`--heavy-runs`).
struct Scratch {
    root: tempfile::TempDir,
    /// Directories made so far (they are numbered in order).
    made: Cell<usize>,
}

impl Scratch {
    fn new(parent: Option<&Path>) -> Result<Scratch, String> {
        let root = match parent {
            Some(parent) => tempfile::Builder::new()
                .prefix("score-runtime-bench")
                .tempdir_in(parent),
            None => tempfile::Builder::new()
                .prefix("score-runtime-bench")
                .tempdir(),
        }
        .map_err(|e| format!("cannot make a temporary directory: {e}"))?;
        Ok(Scratch {
            root,
            made: Cell::new(0),
        })
    }

    /// A new empty directory, as an absolute path without symlinks (the
    /// runtime wants the workspace so).
    fn fresh(&self, what: &str) -> Result<PathBuf, String> {
        let n = self.made.get() + 1;
        self.made.set(n);
        let dir = self.root.path().join(format!("{n:04}-{what}"));
        std::fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        dir.canonicalize()
            .map_err(|e| format!("cannot resolve {}: {e}", dir.display()))
    }

    /// A fresh workspace that is a git repository with one empty commit,
    /// which `score run` needs for parts that play in worktrees (every part
    /// of a `command` agent; the mock's parts need none).
    fn git_workspace(&self) -> Result<PathBuf, String> {
        let dir = self.fresh("workspace")?;
        let git = |args: &[&str]| -> Result<(), String> {
            let out = Command::new("git")
                .arg("-C")
                .arg(&dir)
                .args([
                    "-c",
                    "user.name=score bench",
                    "-c",
                    "user.email=bench@localhost",
                    "-c",
                    "commit.gpgSign=false",
                ])
                .args(args)
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("cannot run git: {e}"))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!(
                    "`git {}` failed in {}: {}",
                    args.join(" "),
                    dir.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
        };
        git(&["init", "-q"])?;
        git(&["commit", "-q", "--allow-empty", "-m", "initial commit"])?;
        Ok(dir)
    }
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    let n = samples.len();
    if n == 0 {
        return Duration::ZERO;
    }
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}
