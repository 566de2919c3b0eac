//! Per-part overhead of the workspace library on a repository of 5 000
//! files with 50 parts: the part's private checkout (outside the
//! repository), changes + enforcement, commit, merge into the integration
//! branch, and release of the checkout.
//! Target (workspace issue): under 150 ms per part.
//!
//! Run with `cargo bench --bench workspace`. Prints a Markdown table:
//! - `sequential`: one part at a time, recycled checkouts (a chain of parts);
//! - `waves of 5`: five parts at a time in threads, merged in order after
//!   each wave (a wide DAG), recycled checkouts;
//! - `fresh checkouts`: one at a time, each removed instead of released, so
//!   every part pays a full checkout (what recycling saves).

use score::glob::Glob;
use score::workspace::{Repo, enforce};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const FILES: usize = 5_000;
const PARTS: usize = 50;

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["-c", "user.name=bench", "-c", "user.email=bench@localhost"])
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "core.hooksPath=/dev/null",
        ])
        .args(args)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

/// 5 000 files of a few hundred bytes in 100 directories, one commit, in
/// a temporary directory under `SCORE_BENCH_TMPDIR` if set (to compare file
/// systems: `SCORE_BENCH_TMPDIR=/dev/shm`), else the system's.
fn build_repo() -> tempfile::TempDir {
    let dir = match std::env::var_os("SCORE_BENCH_TMPDIR") {
        Some(base) => tempfile::tempdir_in(base),
        None => tempfile::tempdir(),
    }
    .expect("temp dir");
    git(dir.path(), &["init", "-q"]);
    for d in 0..FILES / 50 {
        let sub = dir.path().join(format!("src/m{d:03}"));
        std::fs::create_dir_all(&sub).unwrap();
        for f in 0..50 {
            let body = format!(
                "// module {d} file {f}\n{}",
                "pub fn f() -> u32 { 42 }\n".repeat(8)
            );
            std::fs::write(sub.join(format!("f{f:02}.rs")), body).unwrap();
        }
    }
    std::fs::write(dir.path().join(".gitignore"), "target/\n").unwrap();
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "5k files"]);
    dir
}

#[derive(Default, Clone, Copy)]
struct Phases {
    create: Duration,
    changes: Duration,
    commit: Duration,
    merge: Duration,
    release: Duration,
}

impl std::ops::AddAssign for Phases {
    fn add_assign(&mut self, o: Phases) {
        self.create += o.create;
        self.changes += o.changes;
        self.commit += o.commit;
        self.merge += o.merge;
        self.release += o.release;
    }
}

/// One part up to its commit: a checkout, an agent's writes in the part's
/// own module (two new files, one modified), changes and enforcement.
fn work(
    repo: &Repo,
    run: &str,
    part: usize,
    phases: &mut Phases,
) -> (score::workspace::Checkout, String) {
    let t = Instant::now();
    let wt = repo
        .checkout(run, &format!("p{part:02}"))
        .expect("checkout");
    phases.create += t.elapsed();
    let module = format!("src/m{part:03}");
    std::fs::write(wt.path().join(&module).join("new_a.rs"), "pub fn a() {}\n").unwrap();
    std::fs::write(wt.path().join(&module).join("new_b.rs"), "pub fn b() {}\n").unwrap();
    std::fs::write(
        wt.path().join(&module).join("f00.rs"),
        format!("// changed by {part}\n"),
    )
    .unwrap();
    let owns = [Glob::parse(&format!("{module}/**")).unwrap()];
    let t = Instant::now();
    let changes = wt.changes().expect("changes");
    assert_eq!(changes.len(), 3);
    assert!(enforce(&changes, &owns).is_empty());
    phases.changes += t.elapsed();
    let t = Instant::now();
    let commit = wt
        .commit(&format!("part p{part:02}"))
        .expect("commit")
        .expect("a commit");
    phases.commit += t.elapsed();
    (wt, commit)
}

fn finish(
    repo: &Repo,
    branch: &str,
    wt: score::workspace::Checkout,
    commit: &str,
    recycle: bool,
    phases: &mut Phases,
) {
    let t = Instant::now();
    let outcome = repo.merge(branch, commit, "merge").expect("merge");
    assert!(matches!(
        outcome,
        score::workspace::MergeOutcome::Merged { .. }
    ));
    phases.merge += t.elapsed();
    let t = Instant::now();
    if recycle {
        repo.release_checkout(wt).expect("release");
    } else {
        repo.remove_checkout(wt).expect("remove");
    }
    phases.release += t.elapsed();
}

fn sequential(repo: &Repo, run: &str, recycle: bool) -> (Duration, Phases) {
    let branch = repo.create_integration_branch(run).unwrap();
    let mut phases = Phases::default();
    let start = Instant::now();
    for part in 0..PARTS {
        let (wt, commit) = work(repo, run, part, &mut phases);
        finish(repo, &branch, wt, &commit, recycle, &mut phases);
    }
    (start.elapsed(), phases)
}

fn waves(repo: &Arc<Repo>, run: &str, width: usize) -> (Duration, Phases) {
    let branch = repo.create_integration_branch(run).unwrap();
    let mut phases = Phases::default();
    let start = Instant::now();
    for wave in 0..PARTS / width {
        let handles: Vec<_> = (0..width)
            .map(|i| {
                let repo = Arc::clone(repo);
                let run = run.to_string();
                std::thread::spawn(move || {
                    let mut phases = Phases::default();
                    let (wt, commit) = work(&repo, &run, wave * width + i, &mut phases);
                    (wt, commit, phases)
                })
            })
            .collect();
        // Threads overlap: their phase times are summed, so the phase
        // columns of this row add up to more than the wall time.
        for handle in handles {
            let (wt, commit, p) = handle.join().unwrap();
            phases += p;
            finish(repo, &branch, wt, &commit, true, &mut phases);
        }
    }
    (start.elapsed(), phases)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0 / PARTS as f64
}

fn main() {
    let dir = build_repo();
    // The checkouts on the same file system as the repository.
    let sandboxes = tempfile::tempdir_in(dir.path().parent().expect("a parent")).expect("temp dir");
    let repo = Arc::new(
        Repo::open(dir.path())
            .expect("open")
            .with_sandboxes(sandboxes.path())
            .expect("sandboxes outside the repository"),
    );
    println!(
        "Repository: {FILES} files in `{}`; {PARTS} parts; each part writes 2 files and changes 1.\n",
        dir.path().display()
    );
    println!("| mode | wall ms/part | create | changes + enforce | commit | merge | release |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let rows: Vec<(&str, (Duration, Phases))> = vec![
        ("sequential, recycled", sequential(&repo, "seq", true)),
        ("waves of 5, recycled", waves(&repo, "waves", 5)),
        (
            "sequential, fresh checkouts",
            sequential(&repo, "fresh", false),
        ),
    ];
    for (name, (wall, p)) in rows {
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} |",
            ms(wall),
            ms(p.create),
            ms(p.changes),
            ms(p.commit),
            ms(p.merge),
            ms(p.release)
        );
    }
    for run in ["seq", "waves", "fresh"] {
        repo.finish_run(run, false).expect("finish");
    }
}
