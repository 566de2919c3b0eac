//! Crash safety: `score run` killed with SIGKILL at random points, many
//! times over, then `--resume`d. Every task must end done exactly once in
//! the journal, no finished task may be dispatched again, and no output may
//! be lost.

use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

mod support;

use support::runs::*;

/// Sixteen mock parts in four layers of four; every part of a layer needs
/// every part of the layer before. Each answer takes 40 ms, four at a time:
/// a run takes about a fifth of a second, so kills land everywhere in it.
fn layered_score() -> String {
    let mut text = String::from(
        "score layers {\n  default_agent slow\n  concurrency 4\n}\n\n\
         agent slow: mock {\n  latency 40ms\n  tier complex\n}\n\n\
         intent all \"Every layer is built\" {\n  accept \"every part finishes\"\n}\n",
    );
    for layer in 0..4 {
        for k in 0..4 {
            text.push_str(&format!(
                "\npart l{layer}_{k} {{\n  serves all\n  output v: Text\n}}\n"
            ));
        }
    }
    text.push_str("\nsequence {\n  ");
    let layers: Vec<String> = (0..4)
        .map(|layer| {
            let parts: Vec<String> = (0..4).map(|k| format!("l{layer}_{k}")).collect();
            format!("[{}]", parts.join(", "))
        })
        .collect();
    text.push_str(&layers.join(" -> "));
    text.push_str("\n}\n");
    text
}

/// A small deterministic generator for the kill times.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn score_run(dir: &Path, resume: bool) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_score"));
    cmd.arg("run")
        .arg("s.score")
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if resume {
        cmd.arg("--resume");
    }
    cmd
}

#[test]
fn sigkill_at_random_points_then_resume_loses_nothing_and_repeats_nothing() {
    let text = layered_score();
    let mut rng = Lcg(0x5c04e);
    let mut killed_mid_run = 0;
    for iteration in 0..24 {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("s.score"), &text).unwrap();
        // One or two kills per iteration, at random times.
        let kills = 1 + (iteration % 2);
        let mut resume = false;
        for _ in 0..kills {
            let mut child = score_run(dir.path(), resume).spawn().unwrap();
            let wait = Duration::from_millis(rng.next() % 350);
            std::thread::sleep(wait);
            let _ = child.kill(); // SIGKILL
            let status = child.wait().unwrap();
            if !status.success() {
                killed_mid_run += 1;
            }
            resume = try_journal(dir.path()).is_some();
        }
        // Finish the run.
        let status = score_run(dir.path(), resume).status().unwrap();
        assert!(
            status.success(),
            "iteration {iteration}: the resumed run failed"
        );
        let records = try_journal(dir.path()).unwrap();

        let mut succeeded: HashMap<String, usize> = HashMap::new();
        for (n, record) in records.iter().enumerate() {
            let task = record["task"].as_str().unwrap_or_default().to_string();
            match record["event"].as_str().unwrap() {
                "task_succeeded" => *succeeded.entry(task).or_default() += 1,
                "attempt_started" => assert!(
                    !succeeded.contains_key(&task),
                    "iteration {iteration}: `{task}` was dispatched again after it succeeded (record {n})"
                ),
                _ => {}
            }
        }
        assert_eq!(succeeded.len(), 16, "iteration {iteration}: {succeeded:?}");
        assert!(
            succeeded.values().all(|&n| n == 1),
            "iteration {iteration}: a task succeeded more than once: {succeeded:?}"
        );
        // No output lost: every task's output file matches its journaled outputs.
        // The run the journal above is from: the latest with a journal. (A
        // kill before the journal's first line leaves a run directory with
        // none, whose id may sort after the run that finished the work.)
        let runs = dir.path().join(".score/runs");
        let id = latest_run(dir.path());
        for record in records.iter().filter(|r| r["event"] == "task_succeeded") {
            let task = record["task"].as_str().unwrap();
            let file = runs.join(&id).join("outputs").join(format!("{task}.json"));
            let saved: Value =
                serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            assert_eq!(
                saved, record["outputs"],
                "iteration {iteration}: output of {task}"
            );
            assert!(saved["v"].is_string());
        }
    }
    assert!(
        killed_mid_run >= 10,
        "only {killed_mid_run} kills landed mid-run; the test is not testing"
    );
}
