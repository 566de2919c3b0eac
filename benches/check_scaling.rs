//! How `score check` (load + check) scales with the size of the score: time
//! and peak memory per size, printed as a Markdown table for
//! docs/performance.md.
//!
//! Run: `cargo bench --bench check_scaling`
//! Options (after `--`): `--sizes 1000,2000,4000` `--runs 5` `--seed 1`.
//!
//! Each size runs in a child process, because a process's peak resident set
//! size only grows: a size measured after a bigger one would report the
//! bigger one's peak. The parent generates the score into a temporary file
//! and re-runs this executable with `--child FILE`; like `score check FILE`,
//! the child only reads the file, loads and checks it, so its peak
//! (`VmHWM` in /proc/self/status) is that of checking, not of generating.
//!
//! Targets (from the issues): 10k parts in under 1 s with a peak under
//! 300 MB, and time growing no faster than n·log n.

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

#[path = "support/generate.rs"]
mod generate;

const DEFAULT_SIZES: [usize; 6] = [1_000, 2_000, 4_000, 8_000, 10_000, 16_000];

struct Options {
    sizes: Vec<usize>,
    runs: usize,
    seed: u64,
    child: Option<PathBuf>,
}

/// One size's measurements, as the child reports them.
struct Sample {
    parts: usize,
    bytes: usize,
    load: Duration,
    check: Duration,
    total: Duration,
    /// Resident set size once the source is in memory, before loading (KiB).
    baseline_kib: u64,
    /// Peak resident set size of the child, which only loads and checks (KiB).
    peak_kib: u64,
}

fn main() -> ExitCode {
    let options = match parse_args(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("error: {message}");
            eprintln!(
                "usage: cargo bench --bench check_scaling -- [--sizes 1000,2000] [--runs 5] [--seed 1]"
            );
            return ExitCode::from(2);
        }
    };
    match &options.child {
        Some(file) => child(file, &options),
        None => parent(&options),
    }
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        sizes: DEFAULT_SIZES.to_vec(),
        runs: 5,
        seed: 1,
        child: None,
    };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("`{name}` needs a value"));
        match arg.as_str() {
            // `cargo bench` passes `--bench` to every benchmark executable.
            "--bench" => {}
            "--sizes" => {
                options.sizes = value("--sizes")?
                    .split(',')
                    .map(|s| parse_number(s.trim(), "--sizes"))
                    .collect::<Result<_, _>>()?;
                if options.sizes.contains(&0) {
                    return Err("`--sizes` takes part counts of at least 1".to_string());
                }
            }
            "--runs" => options.runs = parse_number(&value("--runs")?, "--runs")?.max(1),
            "--seed" => options.seed = parse_number(&value("--seed")?, "--seed")? as u64,
            "--child" => options.child = Some(PathBuf::from(value("--child")?)),
            // `cargo bench -- ARGS` gives the same ARGS to every benchmark,
            // criterion's included: skip what is meant for them.
            other => eprintln!("note: check_scaling ignores `{other}`"),
        }
    }
    Ok(options)
}

fn parse_number(text: &str, flag: &str) -> Result<usize, String> {
    text.replace('_', "")
        .parse()
        .map_err(|_| format!("`{flag}` expects a whole number, found `{text}`"))
}

/// The generated scores import nothing; a read would be a bug in the bench.
fn no_files(path: &Path) -> io::Result<String> {
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!(
            "the benchmark reads no file, but {} was asked for",
            path.display()
        ),
    ))
}

/// Measures one score: prints `bytes load_ns check_ns total_ns
/// baseline_kib peak_kib` on one line.
fn child(file: &Path, options: &Options) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", file.display());
            return ExitCode::FAILURE;
        }
    };
    let baseline_kib = status_kib("VmRSS").unwrap_or(0);
    let (mut loads, mut checks, mut totals) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..options.runs {
        let input = text.clone();
        let start = Instant::now();
        let program = score::syntax::load_source("bench.score", input, Path::new("."), &no_files);
        let loaded = Instant::now();
        let checked = score::check::check(&program);
        let done = Instant::now();
        // A score with errors could let the checker skip work: only a clean
        // one is a fair measurement.
        if run == 0 && !checked.diagnostics.is_empty() {
            let shown = &checked.diagnostics[..checked.diagnostics.len().min(5)];
            eprintln!(
                "error: {} does not check clean ({} diagnostics); the first ones:\n{}",
                file.display(),
                checked.diagnostics.len(),
                score::diagnostics::render_human(&program.sources, shown, false)
            );
            return ExitCode::FAILURE;
        }
        loads.push(loaded - start);
        checks.push(done - loaded);
        totals.push(done - start);
    }
    let peak_kib = status_kib("VmHWM").unwrap_or(0);
    println!(
        "{} {} {} {} {baseline_kib} {peak_kib}",
        text.len(),
        median(&mut loads).as_nanos(),
        median(&mut checks).as_nanos(),
        median(&mut totals).as_nanos(),
    );
    ExitCode::SUCCESS
}

fn parent(options: &Options) -> ExitCode {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("error: cannot find this executable to re-run it per size: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "load+check, median of {} runs, seed {}; each size in its own process\n",
        options.runs, options.seed
    );
    println!(
        "| parts | source MB | load (parse+lower) | check | load+check | ns per n·log₂n | vs first row | peak RSS MB | RSS before load MB |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut samples: Vec<Sample> = Vec::new();
    for &parts in &options.sizes {
        let file = std::env::temp_dir().join(format!(
            "score-bench-{}-{parts}-{}.score",
            std::process::id(),
            options.seed
        ));
        if let Err(e) = std::fs::write(&file, generate::generate(parts, options.seed)) {
            eprintln!("error: cannot write {}: {e}", file.display());
            return ExitCode::FAILURE;
        }
        let output = Command::new(&exe)
            .arg("--child")
            .arg(&file)
            .args(["--runs", &options.runs.to_string()])
            .output();
        let _ = std::fs::remove_file(&file);
        let output = match output {
            Ok(output) => output,
            Err(e) => {
                eprintln!("error: cannot run {} for {parts} parts: {e}", exe.display());
                return ExitCode::FAILURE;
            }
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        let Some(sample) = output
            .status
            .success()
            .then(|| parse_sample(parts, &stdout))
            .flatten()
        else {
            eprintln!(
                "error: the measurement of {parts} parts failed ({}):\n{}{}",
                output.status,
                stdout,
                String::from_utf8_lossy(&output.stderr)
            );
            return ExitCode::FAILURE;
        };
        let per = per_nlogn(&sample);
        let first = samples.first().map_or(per, per_nlogn);
        println!(
            "| {} | {:.2} | {} | {} | {} | {:.1} | {:.2} | {:.1} | {:.1} |",
            sample.parts,
            sample.bytes as f64 / 1e6,
            ms(sample.load),
            ms(sample.check),
            ms(sample.total),
            per,
            per / first,
            sample.peak_kib as f64 / 1024.0,
            sample.baseline_kib as f64 / 1024.0,
        );
        let _ = io::stdout().flush();
        samples.push(sample);
    }
    verdict(&samples);
    ExitCode::SUCCESS
}

/// Compares the samples with the targets, in words.
fn verdict(samples: &[Sample]) {
    println!();
    if let Some(s) = samples.iter().find(|s| s.parts == 10_000) {
        let time_ok = s.total < Duration::from_secs(1);
        let memory_ok = s.peak_kib < 300 * 1024;
        println!(
            "- 10k parts: {} (target < 1 s): {}; peak RSS {:.1} MB (target < 300 MB): {}",
            ms(s.total),
            if time_ok { "met" } else { "MISSED" },
            s.peak_kib as f64 / 1024.0,
            if memory_ok { "met" } else { "MISSED" },
        );
    }
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return;
    };
    if last.parts > first.parts {
        let growth = per_nlogn(last) / per_nlogn(first);
        // A 1.5x allowance absorbs cache effects and noise; n² over a
        // 16x range would show as about 11x.
        println!(
            "- growth from {} to {} parts: time per n·log₂n changed {:.2}x: {}",
            first.parts,
            last.parts,
            growth,
            if growth <= 1.5 {
                "no faster than n·log n"
            } else {
                "FASTER than n·log n"
            }
        );
    }
}

fn parse_sample(parts: usize, line: &str) -> Option<Sample> {
    let fields: Vec<u64> = line
        .split_whitespace()
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    let [bytes, load, check, total, baseline_kib, peak_kib] = fields[..] else {
        return None;
    };
    Some(Sample {
        parts,
        bytes: bytes as usize,
        load: Duration::from_nanos(load),
        check: Duration::from_nanos(check),
        total: Duration::from_nanos(total),
        baseline_kib,
        peak_kib,
    })
}

fn per_nlogn(sample: &Sample) -> f64 {
    let n = sample.parts.max(2) as f64;
    sample.total.as_nanos() as f64 / (n * n.log2())
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// A `kB` field of /proc/self/status, e.g. `VmHWM` (peak resident set).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        rest.trim().strip_suffix("kB")?.trim().parse().ok()
    })
}
