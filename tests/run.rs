//! `score run`, driven through the real binary on real workspaces: the
//! journal, resume, the cache, the lock, approvals, budgets, cancel, and
//! command agents as small scripts (real child processes).

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::path::Path;

mod support;

use support::runs::*;

fn score(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("score").unwrap();
    cmd.current_dir(dir);
    cmd.env_remove("CI");
    cmd
}

/// A diamond of mock parts: `a` feeds `b` and `c`, both feed `d`.
const DIAMOND: &str = r#"
score diamond {
  default_agent fast
}

agent fast: mock {
  tier complex
  seed 7
}

intent done "Everything gets done" {
  accept "every part finishes"
}

type Note { title: Text, lines: [Text] }

part a {
  serves done
  output topic: Text
}

part b {
  serves done
  input topic = a.topic
  output note: Note
}

part c {
  serves done
  input topic = a.topic
  output count: Int
}

part d {
  serves done
  input note = b.note
  input count = c.count
  output verdict: Text
}
"#;

#[test]
fn a_mock_run_succeeds_and_journals_every_step() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.score", DIAMOND);
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success()
        .stdout(predicate::str::contains("4 of 4 tasks done"))
        .stdout(predicate::str::contains("Critical path as run: a"));
    let records = journal(dir.path());
    assert_eq!(records[0]["event"], "run_started");
    assert_eq!(records.last().unwrap()["event"], "run_finished");
    assert_eq!(records.last().unwrap()["status"], "succeeded");
    let done = events(&records, "task_succeeded");
    assert_eq!(done.len(), 4);
    // Order: a before b and c, both before d.
    let pos = |t: &str| done.iter().position(|r| r["task"] == t).unwrap();
    assert!(pos("a") < pos("b") && pos("a") < pos("c"));
    assert!(pos("b") < pos("d") && pos("c") < pos("d"));
    // Outputs are schema-shaped and written to outputs/.
    let d = done[pos("b")];
    assert!(d["outputs"]["note"]["title"].is_string(), "{d}");
    let id = latest_run(dir.path());
    let file = dir.path().join(format!(".score/runs/{id}/outputs/b.json"));
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    assert_eq!(saved, d["outputs"]);
    // The plan that ran is kept beside the journal.
    assert!(
        dir.path()
            .join(format!(".score/runs/{id}/plan.json"))
            .is_file()
    );
}

#[test]
fn inputs_flow_into_prompts_of_dependants() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "s.score",
        &DIAMOND.replace("agent fast: mock {", "agent fast: mock {\n  latency 1ms"),
    );
    // A command agent for `d` that records its prompt.
    let script =
        "#!/bin/sh\ncp \"$1\" prompt-of-d.md\necho '{\"verdict\": \"fine\"}' > \"$SCORE_OUTPUT\"\n";
    write(dir.path(), "record.sh", script);
    let text = std::fs::read_to_string(dir.path().join("s.score")).unwrap().replace(
        "part d {",
        "agent recorder: command {\n  run [\"sh\", \"record.sh\", \"{prompt_file}\"]\n  tier complex\n}\n\npart d by recorder {\n  owns \"prompt-of-d.md\"",
    );
    write(dir.path(), "s.score", &text);
    git_init(dir.path());
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success();
    let records = journal(dir.path());
    let b = events(&records, "task_succeeded")
        .into_iter()
        .find(|r| r["task"] == "b")
        .unwrap()
        .clone();
    // d wrote it in its worktree; it reached the run's branch.
    let branch = format!("score/{}:prompt-of-d.md", latest_run(dir.path()));
    let prompt = git_show(dir.path(), &branch).expect("d's file is on the integration branch");
    assert!(
        !dir.path().join("prompt-of-d.md").exists(),
        "the user's checkout is untouched"
    );
    let title = b["outputs"]["note"]["title"].as_str().unwrap();
    assert!(
        prompt.contains(title),
        "the prompt of d lacks b's output:\n{prompt}"
    );
    assert!(!prompt.contains("{{input."), "{prompt}");
}

#[test]
fn events_json_streams_the_journal_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.score", DIAMOND);
    let out = score(dir.path())
        .args(["run", "s.score", "--events", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("every stdout line is JSON"))
        .collect();
    assert_eq!(lines, journal(dir.path()));
}

#[test]
fn dry_run_shows_prompts_and_calls_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.score", DIAMOND);
    score(dir.path())
        .args(["run", "s.score", "--dry-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains("=== a (wave 1) ==="))
        .stdout(predicate::str::contains("=== d (wave 3) ==="))
        .stdout(predicate::str::contains("  | "))
        .stdout(predicate::str::contains("{{input.topic}}"));
    assert!(!dir.path().join(".score").exists());
}

#[test]
fn only_runs_a_part_and_what_it_needs() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.score", DIAMOND);
    score(dir.path())
        .args(["run", "s.score", "--only", "b"])
        .assert()
        .success()
        .stdout(predicate::str::contains("2 of 2 tasks done"));
    let done: Vec<String> = events(&journal(dir.path()), "task_succeeded")
        .iter()
        .map(|r| r["task"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(done, ["a", "b"]);
    score(dir.path())
        .args(["run", "s.score", "--only", "bb"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no part `bb`"))
        .stderr(predicate::str::contains("its parts are: a, b, c, d"));
}

#[test]
fn a_plan_file_runs_like_its_score_and_bad_plans_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.score", DIAMOND);
    score(dir.path())
        .args(["build", "s.score", "-o", "plan.json"])
        .assert()
        .success();
    score(dir.path())
        .args(["run", "plan.json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("4 of 4 tasks done"));
    write(dir.path(), "other.json", r#"{"format": "score-plan/9"}"#);
    score(dir.path())
        .args(["run", "other.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("score-plan/9"))
        .stderr(predicate::str::contains("rebuild it"));
    write(dir.path(), "broken.json", "{ not json");
    score(dir.path())
        .args(["run", "broken.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not valid JSON"));
    score(dir.path())
        .args(["run", "missing.score"])
        .assert()
        .code(2);
}

#[test]
fn a_second_run_reuses_cached_results_unless_fresh() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.score", DIAMOND);
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success();
    let first = journal(dir.path());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success()
        .stdout(predicate::str::contains("cached"));
    let second = journal(dir.path());
    assert_eq!(
        events(&second, "attempt_started").len(),
        0,
        "nothing is played again"
    );
    let cached = events(&second, "task_succeeded");
    assert!(cached.iter().all(|r| r["cached_from"].is_string()));
    // Same outputs as the first run.
    for r in cached {
        let earlier = events(&first, "task_succeeded")
            .into_iter()
            .find(|e| e["task"] == r["task"])
            .unwrap();
        assert_eq!(earlier["outputs"], r["outputs"]);
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    score(dir.path())
        .args(["run", "s.score", "--fresh"])
        .assert()
        .success();
    assert_eq!(events(&journal(dir.path()), "attempt_started").len(), 4);
}

/// A command agent that fails its check the first time and fixes it on the
/// retry, reading the feedback in its prompt.
#[test]
fn a_failing_check_is_fed_back_and_the_retry_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let script = r#"#!/bin/sh
# First attempt: writes nothing. A retry (its prompt carries the feedback):
# writes the file the check wants.
if grep -q "was not accepted" "$1"; then
  mkdir -p out && echo hello > out/hello.txt
fi
echo '{}' > "$SCORE_OUTPUT"
"#;
    write(dir.path(), "agent.sh", script);
    write(
        dir.path(),
        "s.score",
        r#"
use std.checks.{file_exists}

score fix { default_agent tool }

agent tool: command {
  run ["sh", "agent.sh", "{prompt_file}"]
  tier complex
}

intent hello "A file says hello" { accept "out/hello.txt exists" }

part write {
  serves hello
  owns "out/**"
  ensures file_exists(path: "out/hello.txt")
    retries 1
}
"#,
    );
    git_init(dir.path());
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success()
        .stdout(predicate::str::contains("1 of 1 tasks done"));
    let id = latest_run(dir.path());
    assert_eq!(
        git_show(dir.path(), &format!("score/{id}:out/hello.txt")).as_deref(),
        Some("hello\n")
    );
    let records = journal(dir.path());
    let failed = events(&records, "attempt_failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["kind"], "check");
    assert!(
        failed[0]["message"]
            .as_str()
            .unwrap()
            .contains("out/hello.txt")
    );
    let id = latest_run(dir.path());
    let second = std::fs::read_to_string(
        dir.path()
            .join(format!(".score/runs/{id}/logs/write.2.prompt.md")),
    )
    .unwrap();
    assert!(
        second.contains("Your previous attempt (1 of 2) was not accepted"),
        "{second}"
    );
    assert!(second.contains("file_exists"), "{second}");
}

#[test]
fn command_agents_that_time_out_or_write_bad_json_fail_clearly() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "slow.sh", "#!/bin/sh\nsleep 30\n");
    write(
        dir.path(),
        "bad.sh",
        "#!/bin/sh\necho '{not json' > \"$SCORE_OUTPUT\"\n",
    );
    write(
        dir.path(),
        "boom.sh",
        "#!/bin/sh\necho 'something broke' >&2\nexit 3\n",
    );
    write(
        dir.path(),
        "s.score",
        r#"
score bad {}

agent slow: command { run ["sh", "slow.sh"] tier complex }
agent bad: command { run ["sh", "bad.sh"] tier complex }
agent boom: command { run ["sh", "boom.sh"] tier complex }
agent missing: command { run ["score-no-such-program"] tier complex }

intent i "Things happen" { accept "they do" }

part waits by slow { serves i timeout 1s output x: Text }
part garbles by bad { serves i output x: Text }
part breaks by boom { serves i output x: Text }
part absent by missing { serves i output x: Text }
"#,
    );
    git_init(dir.path());
    let started = std::time::Instant::now();
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("`waits` failed (timeout)"))
        .stdout(predicate::str::contains(
            "`garbles` failed (invalid output)",
        ))
        .stdout(predicate::str::contains("invalid JSON"))
        .stdout(predicate::str::contains("`breaks` failed (agent)"))
        .stdout(predicate::str::contains("something broke"))
        .stdout(predicate::str::contains("`absent` failed (setup)"))
        .stdout(predicate::str::contains("no such program"));
    // The sleeping agent was killed at its timeout, not waited for.
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn a_failed_task_skips_its_dependants_and_resume_finishes_the_run() {
    let dir = tempfile::tempdir().unwrap();
    // `c` is played by a script that fails until a file exists.
    // (The marker is outside the repository: the script runs in a worktree.)
    let outside = tempfile::tempdir().unwrap();
    let marker = outside.path().join("fixed");
    write(
        dir.path(),
        "flaky.sh",
        &format!(
            "#!/bin/sh\nif [ -e '{}' ]; then echo '{{\"count\": 3}}' > \"$SCORE_OUTPUT\"; else echo 'not yet' >&2; exit 1; fi\n",
            marker.display()
        ),
    );
    let text = DIAMOND.replace(
        "part c {",
        "agent flaky: command {\n  run [\"sh\", \"flaky.sh\"]\n  tier complex\n}\n\npart c by flaky {",
    );
    write(dir.path(), "s.score", &text);
    git_init(dir.path());
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("`c` failed (agent)"))
        .stdout(predicate::str::contains("skipped"))
        .stdout(predicate::str::contains("--resume"));
    let first = journal(dir.path());
    assert_eq!(events(&first, "task_skipped").len(), 1);
    std::fs::write(&marker, "").unwrap();
    score(dir.path())
        .args(["run", "s.score", "--resume"])
        .assert()
        .success()
        .stdout(predicate::str::contains("done before"));
    let records = journal(dir.path());
    // a and b were not played again; c and d were.
    let starts: Vec<&str> = events(&records, "attempt_started")
        .iter()
        .map(|r| r["task"].as_str().unwrap())
        .collect();
    assert_eq!(starts.iter().filter(|t| **t == "a").count(), 1);
    assert_eq!(starts.iter().filter(|t| **t == "b").count(), 1);
    assert_eq!(starts.iter().filter(|t| **t == "c").count(), 2);
    for task in ["a", "b", "c", "d"] {
        let n = events(&records, "task_succeeded")
            .iter()
            .filter(|r| r["task"] == task)
            .count();
        assert_eq!(n, 1, "{task} succeeded {n} times");
    }
    // The retry of `c` on resume logged as attempt 2, not over attempt 1.
    let id = latest_run(dir.path());
    assert!(
        dir.path()
            .join(format!(".score/runs/{id}/logs/c.1.stderr"))
            .is_file()
    );
    assert!(
        dir.path()
            .join(format!(".score/runs/{id}/logs/c.2.stderr"))
            .is_file()
    );
}

#[test]
fn resume_reruns_a_task_whose_hash_changed_and_everything_after_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.score", DIAMOND);
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success();
    // Change `c`'s part: its hash and d's change.
    let text = DIAMOND.replace(
        "  output count: Int\n",
        "  output count: Int\n  brief \"count carefully\"\n",
    );
    write(dir.path(), "s.score", &text);
    score(dir.path())
        .args(["run", "s.score", "--resume"])
        .assert()
        .success();
    let records = journal(dir.path());
    let starts: Vec<&str> = events(&records, "attempt_started")
        .iter()
        .map(|r| r["task"].as_str().unwrap())
        .collect();
    let count = |t: &str| starts.iter().filter(|s| **s == t).count();
    assert_eq!(
        (count("a"), count("b"), count("c"), count("d")),
        (1, 1, 2, 2)
    );
}

#[test]
fn resume_needs_a_run() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.score", DIAMOND);
    score(dir.path())
        .args(["run", "s.score", "--resume"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no run to resume"));
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success();
    score(dir.path())
        .args(["run", "s.score", "--resume", "19990101-000000-0000"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no run `19990101-000000-0000`"));
}

#[test]
fn a_live_lock_holder_is_named_and_a_stale_lock_is_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.score", DIAMOND);
    std::fs::create_dir_all(dir.path().join(".score")).unwrap();
    // This test process is alive: its lock blocks.
    let holder = serde_json::json!({"pid": std::process::id(), "run": "other-run", "since": 0});
    write(dir.path(), ".score/lock", &holder.to_string());
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "another `score run` is using this workspace",
        ))
        .stderr(predicate::str::contains("other-run"));
    // A dead process's lock is stale.
    let stale = serde_json::json!({"pid": 2147483000u32, "run": "gone-run", "since": 0});
    write(dir.path(), ".score/lock", &stale.to_string());
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "took over the lock of run gone-run",
        ));
    assert!(
        !dir.path().join(".score/lock").exists(),
        "the lock is released"
    );
}

#[test]
fn approvals_pause_the_run_until_score_approve() {
    let dir = tempfile::tempdir().unwrap();
    let text = DIAMOND.replace(
        "  output note: Note\n",
        "  output note: Note\n  approve \"the tech lead\"\n",
    );
    write(dir.path(), "s.score", &text);
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("paused"))
        .stdout(predicate::str::contains("score approve"));
    let records = journal(dir.path());
    assert_eq!(events(&records, "approval_requested").len(), 1);
    assert!(
        events(&records, "task_succeeded")
            .iter()
            .all(|r| r["task"] != "b" && r["task"] != "d")
    );
    let id = latest_run(dir.path());
    score(dir.path())
        .args(["approve", &id, "c"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not waiting for an approval"));
    score(dir.path())
        .args(["approve", &id, "b"])
        .assert()
        .success()
        .stdout(predicate::str::contains("approved `b`"))
        // The command to continue names the score the run played.
        .stdout(predicate::str::contains(format!(
            "continue the run with `score run s.score --resume {id}`"
        )));
    score(dir.path())
        .args(["run", "s.score", "--resume"])
        .assert()
        .success();
    let records = journal(dir.path());
    assert_eq!(events(&records, "approved").len(), 1);
    // b was not played again; d ran after the approval.
    let b_starts = events(&records, "attempt_started")
        .iter()
        .filter(|r| r["task"] == "b")
        .count();
    assert_eq!(b_starts, 1);
    assert_eq!(events(&records, "task_succeeded").len(), 4);
}

#[test]
fn a_score_budget_stops_dispatching() {
    let dir = tempfile::tempdir().unwrap();
    // The mock reports about a token per 4 characters of prompt: a few
    // hundred per task. A budget of 600 tokens lets two tasks run at most.
    let text = DIAMOND.replace(
        "score diamond {\n",
        "score diamond {\n  budget tokens 600\n  concurrency 1\n",
    );
    write(dir.path(), "s.score", &text);
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("over budget"))
        .stdout(predicate::str::contains(
            "budget of 600 tokens would be exceeded",
        ));
    let records = journal(dir.path());
    assert_eq!(events(&records, "budget_exhausted").len(), 1);
    let done = events(&records, "task_succeeded").len();
    assert!((1..4).contains(&done), "{done} tasks ran");
}

#[test]
fn inputs_are_given_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = DIAMOND
        .replace(
            "score diamond {\n",
            "score diamond {\n  input audience: Text\n",
        )
        .replace(
            "part a {\n  serves done\n",
            "part a {\n  serves done\n  input audience = score.audience\n",
        );
    write(dir.path(), "s.score", &text);
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`audience: Text`"));
    score(dir.path())
        .args([
            "run",
            "s.score",
            "--input",
            "audience=newcomers",
            "--dry-run",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"newcomers\""));
}

#[test]
fn a_missing_api_key_stops_the_run_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let text = DIAMOND.replace(
        "agent fast: mock {\n  tier complex\n  seed 7\n}",
        "agent fast: openai {\n  model \"gpt-test\"\n  endpoint \"http://127.0.0.1:9/v1\"\n  key_env \"SCORE_TEST_MISSING_KEY\"\n  tier complex\n}",
    );
    write(dir.path(), "s.score", &text);
    score(dir.path())
        .env_remove("SCORE_TEST_MISSING_KEY")
        .args(["run", "s.score"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("SCORE_TEST_MISSING_KEY"))
        .stderr(predicate::str::contains("fast=mock"));
    assert!(!dir.path().join(".score/runs").exists());
    // Played by the mock instead, it runs.
    score(dir.path())
        .env_remove("SCORE_TEST_MISSING_KEY")
        .args(["run", "s.score", "--agent", "fast=mock"])
        .assert()
        .success();
}

#[test]
fn ctrl_c_cancels_in_flight_work_and_resume_continues() {
    let dir = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let quick = outside.path().join("quick");
    write(
        dir.path(),
        "slow.sh",
        &format!(
            "#!/bin/sh\n[ -e '{}' ] || sleep 30\necho '{{\"count\": 1}}' > \"$SCORE_OUTPUT\"\n",
            quick.display()
        ),
    );
    let text = DIAMOND.replace(
        "part c {",
        "agent slow: command {\n  run [\"sh\", \"slow.sh\"]\n  tier complex\n}\n\npart c by slow {",
    );
    write(dir.path(), "s.score", &text);
    git_init(dir.path());
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_score"))
        .args(["run", "s.score"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until `c` is in flight.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let started = try_journal(dir.path()).is_some_and(|records| {
            records
                .iter()
                .any(|r| r["event"] == "attempt_started" && r["task"] == "c")
        });
        if started {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "c never started");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let started = std::time::Instant::now();
    let status = child.wait().unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "cancel took too long"
    );
    assert_eq!(status.code(), Some(130));
    // The hints name the real file and run, ready to copy.
    let read = |pipe: Option<&mut dyn std::io::Read>| {
        let mut text = String::new();
        pipe.unwrap().read_to_string(&mut text).unwrap();
        text
    };
    let stderr = read(child.stderr.as_mut().map(|p| p as &mut dyn std::io::Read));
    let stdout = read(child.stdout.as_mut().map(|p| p as &mut dyn std::io::Read));
    let id = latest_run(dir.path());
    assert!(
        stderr.contains(&format!(
            "Cancelling: stopping the tasks in flight (run `score run s.score --resume {id}` to continue)"
        )),
        "{stderr}"
    );
    assert!(
        stdout.contains(&format!("Continue with `score run s.score --resume {id}`")),
        "{stdout}"
    );
    let records = journal(dir.path());
    let cancelled = events(&records, "run_cancelled");
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0]["in_flight"], serde_json::json!(["c"]));
    // The sleeping script was killed, not left behind.
    let out = std::process::Command::new("pgrep")
        .args(["-f", "slow.sh"])
        .output();
    if let Ok(out) = out {
        let pids = String::from_utf8_lossy(&out.stdout).to_string();
        let ours = pids.lines().any(|pid| {
            std::fs::read_link(format!("/proc/{pid}/cwd"))
                .is_ok_and(|cwd| cwd == dir.path().canonicalize().unwrap())
        });
        assert!(!ours, "the agent's process survived the cancel");
    }
    std::fs::write(&quick, "").unwrap();
    score(dir.path())
        .args(["run", "s.score", "--resume"])
        .assert()
        .success();
    let records = journal(dir.path());
    assert_eq!(events(&records, "task_succeeded").len(), 4);
}

#[test]
fn the_quickstart_runs_in_parallel_without_any_key() {
    // In a repository of its own, as on a fresh clone of this one.
    let dir = tempfile::tempdir().unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart");
    for file in ["quickstart.score", "agents/write_file.sh"] {
        write(
            dir.path(),
            file,
            &std::fs::read_to_string(source.join(file)).unwrap(),
        );
    }
    git_init(dir.path());
    score(dir.path())
        .env_remove("OPENAI_API_KEY")
        .env_remove("ANTHROPIC_API_KEY")
        .args(["run", "quickstart.score"])
        .assert()
        .success()
        .stdout(predicate::str::contains("5 of 5 tasks done"));
    let records = journal(dir.path());
    // backend, frontend and notes ran at the same time.
    let position = |event: &str, task: &str| {
        records
            .iter()
            .position(|r| r["event"] == event && r["task"] == task)
            .unwrap()
    };
    let last_start = ["backend", "frontend", "notes"]
        .iter()
        .map(|t| position("attempt_started", t))
        .max()
        .unwrap();
    let first_end = ["backend", "frontend", "notes"]
        .iter()
        .map(|t| position("task_succeeded", t))
        .min()
        .unwrap();
    assert!(
        last_start < first_end,
        "the three middle parts did not overlap"
    );
    let branch = format!("score/{}", latest_run(dir.path()));
    for file in [
        "out/backend/server.md",
        "out/frontend/index.md",
        "out/notes/README.md",
    ] {
        let text = git_show(dir.path(), &format!("{branch}:{file}")).unwrap_or_default();
        assert!(
            text.contains("Written by agents/write_file.sh"),
            "{file}: {text}"
        );
    }
}

#[test]
fn jobs_limits_how_many_tasks_run_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let text = DIAMOND.replace("agent fast: mock {", "agent fast: mock {\n  latency 20ms");
    write(dir.path(), "s.score", &text);
    score(dir.path())
        .args(["run", "s.score", "--jobs", "1"])
        .assert()
        .success();
    // With one slot, every task ends before the next one starts.
    let mut running = 0i32;
    for record in journal(dir.path()) {
        match record["event"].as_str().unwrap() {
            "attempt_started" => running += 1,
            "task_succeeded" | "attempt_failed" => running -= 1,
            _ => {}
        }
        assert!(running <= 1, "two tasks ran at once with --jobs 1");
    }
    score(dir.path())
        .args(["run", "s.score", "--jobs", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--jobs 0"));
}

#[test]
fn a_part_budget_stops_its_retries() {
    let dir = tempfile::tempdir().unwrap();
    // The mock fails every attempt; the part's budget runs out before its
    // ten retries do.
    let text = DIAMOND
        .replace("  seed 7\n", "  seed 7\n  fail_rate 1.0\n")
        .replace(
            "part a {\n  serves done\n",
            "part a {\n  serves done\n  retries 10\n  budget tokens 500\n",
        );
    write(dir.path(), "s.score", &text);
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("`a` failed (budget)"))
        .stdout(predicate::str::contains("part's budget of 500 tokens"));
    let attempts = events(&journal(dir.path()), "attempt_started").len();
    assert!((1..11).contains(&attempts), "{attempts} attempts");
}
