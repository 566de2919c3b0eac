//! A run the user can trust, driven through the real binary: the rehearsal
//! (`--rehearse`) of the bundled examples, the honest cache (a reused
//! result's checks run again, in its own tree; `--trust-cache`), and the
//! preview of what a run will do (`score plan --diff`, `--dry-run`).

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

mod support;

use support::runs::*;

fn score(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("score").unwrap();
    cmd.current_dir(dir);
    cmd.env_remove("CI");
    cmd
}

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

/// A copy of an example directory, so that a test can see it wrote nothing.
fn copy_of(example: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = examples().join(example);
    for file in files_below(&from) {
        let to = dir.path().join(file.strip_prefix(&from).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&file, &to).unwrap();
    }
    dir
}

/// The README's rehearsal of the webshop: every part by the mock, checks
/// listed and not run, exit 0, and nothing written anywhere in the
/// workspace.
#[test]
fn the_webshop_rehearses_green_and_writes_nothing() {
    let dir = copy_of("webshop");
    let before = files_below(dir.path());
    score(dir.path())
        .args(["run", "main.score", "--rehearse"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--- wave 1 ---"))
        .stdout(predicate::str::contains("(cargo_test), not run"))
        .stdout(predicate::str::contains("input:    decisions = "))
        .stdout(predicate::str::contains(
            "Rehearsed: all 17 parts played through",
        ))
        // Its inputs are not given: mocked, and said so.
        .stderr(predicate::str::contains("input `repo_url` is not given"));
    assert_eq!(
        files_below(dir.path()),
        before,
        "a rehearsal writes nothing"
    );
    assert!(!dir.path().join(".score").exists());
}

/// Every rehearsal the README shows, run as written from the repository's
/// root, exits 0.
#[test]
fn the_readmes_rehearsals_exit_0() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let commands: Vec<&str> = readme
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("score run ") && l.contains("--rehearse"))
        .collect();
    assert!(
        commands.iter().any(|c| c.contains("examples/webshop")),
        "the README rehearses the webshop: {commands:?}"
    );
    for command in commands {
        let args: Vec<&str> = command.split_whitespace().skip(1).collect();
        score(root).args(&args).assert().success();
    }
}

#[test]
fn the_quickstart_rehearses_green_with_its_prompts() {
    let dir = copy_of("quickstart");
    git_init(dir.path());
    let out = score(dir.path())
        .args(["run", "quickstart.score", "--rehearse", "--show-prompts"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "check:    test -e 'out/backend/server.md' (file_exists), not run",
        ))
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    // Each part's full prompt, with the values it receives filled in: the
    // topic `plan`'s mock answer gave, never a placeholder.
    assert!(text.contains("    | "), "{text}");
    assert!(!text.contains("{{input."), "{text}");
    assert!(!dir.path().join(".score").exists());
    assert_eq!(git(dir.path(), &["branch", "--list", "score/*"]), "");
    // The plain mock run, by contrast, really runs the checks.
    score(dir.path())
        .args(["run", "quickstart.score", "--rehearse", "--agent", "*=mock"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
}

/// A small Python project whose parts must write code for their checks
/// (`pytest`, `file_exists`) to pass: a mock run fails on it, a rehearsal
/// plays it through.
#[test]
fn a_score_with_pytest_and_file_exists_checks_rehearses_green() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "py.score",
        r#"
use std.checks.{shell, file_exists}

score py { default_agent coder }

agent coder: command {
  run ["coder", "{prompt_file}"]
  tier complex
}

intent tally "Words are counted" { accept "a CLI prints the count" }

part core {
  serves tally
  owns "tally/core.py", "tests/test_core.py"
  output module: Path
  ensures shell(cmd: "python3 -m pytest -q tests/test_core.py")
  retries 2
}

part cli {
  serves tally
  input module = core.module
  owns "tally/cli.py"
  ensures file_exists(path: "tally/cli.py")
}
"#,
    );
    score(dir.path())
        .args(["run", "py.score", "--rehearse"])
        .assert()
        .success()
        .stdout(predicate::str::contains("(shell), not run"))
        .stdout(predicate::str::contains("(file_exists), not run"))
        .stdout(predicate::str::contains("input:    module = "))
        .stdout(predicate::str::contains("all 2 parts played through"));
    assert!(!dir.path().join(".score").exists());
}

/// One part copies `mode.txt` (a file it does not own) to `out/result.txt`;
/// its check says the two are the same. Change `mode.txt` and the cached
/// result no longer holds.
const FOLLOWER: &str = r#"
use std.checks.{shell}
use std.agents.{mock}

score trust { default_agent tool }

agent tool: command {
  run ["sh", "copy.sh"]
  tier complex
}

intent same "The result follows the mode" { accept "out/result.txt equals mode.txt" }

part follow {
  serves same
  owns "out/**"
  output copied: Bool
  ensures shell(cmd: "cmp -s out/result.txt mode.txt")
}

part report by mock {
  serves same
  input copied = follow.copied
  output summary: Text
}
"#;

const COPY: &str = "#!/bin/sh\nmkdir -p out && cp mode.txt out/result.txt\necho '{\"copied\": true}' > \"$SCORE_OUTPUT\"\n";

fn follower(git: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.score", FOLLOWER);
    write(dir.path(), "copy.sh", COPY);
    write(dir.path(), "mode.txt", "one\n");
    if git {
        git_init(dir.path());
    }
    dir
}

/// `mode.txt` changes (committed, when in git): the part's check would now
/// fail on its cached work.
fn change_the_mode(dir: &Path, git_repo: bool) {
    std::thread::sleep(std::time::Duration::from_millis(1100));
    write(dir, "mode.txt", "two\n");
    if git_repo {
        git(dir, &["commit", "-q", "-am", "mode two"]);
    }
}

fn follow_attempts(records: &[Value]) -> usize {
    events(records, "attempt_started")
        .iter()
        .filter(|r| r["task"] == "follow")
        .count()
}

#[test]
fn a_cached_part_whose_check_now_fails_is_played_again_in_a_worktree() {
    let dir = follower(true);
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success();
    // Unchanged: reused, its check run again in its own tree, and said so.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success()
        .stdout(predicate::str::contains("cached (checks re-run: passed)"));
    let records = journal(dir.path());
    assert_eq!(follow_attempts(&records), 0);
    let reused = events(&records, "task_succeeded");
    assert!(
        reused
            .iter()
            .any(|r| r["task"] == "follow" && r["cache_checks"] == "passed")
    );

    change_the_mode(dir.path(), true);
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success()
        .stderr(predicate::str::contains("recheck  follow"));
    let records = journal(dir.path());
    let rejected = events(&records, "cache_rejected");
    assert_eq!(rejected.len(), 1, "{records:?}");
    assert_eq!(rejected[0]["task"], "follow");
    assert!(
        rejected[0]["message"].as_str().unwrap().contains("cmp -s"),
        "the journal says why: {}",
        rejected[0]["message"]
    );
    assert_eq!(follow_attempts(&records), 1, "played again");
    let branch = format!("score/{}", latest_run(dir.path()));
    assert_eq!(
        git_show(dir.path(), &format!("{branch}:out/result.txt")).as_deref(),
        Some("two\n")
    );
}

#[test]
fn trust_cache_skips_the_recheck_and_the_report_says_so() {
    let dir = follower(true);
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success();
    change_the_mode(dir.path(), true);
    score(dir.path())
        .args(["run", "s.score", "--trust-cache"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "cached (checks not re-run: --trust-cache)",
        ));
    let records = journal(dir.path());
    assert_eq!(follow_attempts(&records), 0);
    assert!(events(&records, "cache_rejected").is_empty());
}

#[test]
fn a_cached_part_whose_check_now_fails_is_played_again_in_place() {
    let dir = follower(false);
    score(dir.path())
        .args(["run", "s.score", "--in-place"])
        .assert()
        .success();
    change_the_mode(dir.path(), false);
    score(dir.path())
        .args(["run", "s.score", "--in-place"])
        .assert()
        .success();
    let records = journal(dir.path());
    assert_eq!(events(&records, "cache_rejected").len(), 1);
    assert_eq!(follow_attempts(&records), 1);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out/result.txt")).unwrap(),
        "two\n"
    );
}

/// A diamond of mock parts: `a` feeds `b` and `c`, both feed `d`.
const DIAMOND: &str = r#"
score diamond { default_agent fast }

agent fast: mock {
  tier complex
  seed 7
}

intent done "Everything gets done" { accept "every part finishes" }

part a {
  serves done
  output topic: Text
}

part b {
  serves done
  input topic = a.topic
  output count: Int
  brief "Count the topic's letters."
}

part c {
  serves done
  input topic = a.topic
  output count: Int
}

part d {
  serves done
  input b = b.count
  input c = c.count
  output verdict: Text
}
"#;

#[test]
fn dry_run_after_editing_a_brief_lists_that_part_and_its_dependants_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.score", DIAMOND);
    // Nothing earlier: everything runs, the first for want of a result.
    score(dir.path())
        .args(["run", "s.score", "--dry-run"])
        .assert()
        .success()
        .stdout(predicate::str::contains("+ a  "))
        .stdout(predicate::str::contains("no earlier result"))
        .stdout(predicate::str::contains("4 to run, 0 cached, 0 done."));
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success();
    write(
        dir.path(),
        "s.score",
        &DIAMOND.replace("Count the topic's letters.", "Count the topic's vowels."),
    );
    let out = score(dir.path())
        .args(["run", "s.score", "--dry-run"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .take_while(|l| !l.starts_with("==="))
        .filter(|l| l.starts_with("  "))
        .map(|l| l.split_whitespace().collect())
        .collect();
    let row = |part: &str| {
        rows.iter()
            .find(|r| r.get(1) == Some(&part))
            .unwrap_or_else(|| panic!("no row for {part} in:\n{text}"))
            .join(" ")
    };
    assert!(row("a").contains("cached result of run"), "{text}");
    assert!(row("c").contains("cached result of run"), "{text}");
    assert!(row("b").contains("run its brief changed"), "{text}");
    assert!(row("d").contains("run `b` (upstream) will run"), "{text}");
    assert!(text.contains("2 to run, 2 cached, 0 done."), "{text}");
    // Waves from 1, as `score plan` numbers them.
    assert!(text.contains("=== a (wave 1) ==="), "{text}");

    // The same as JSON Lines, from `score plan --diff`; the latest run has
    // every unchanged part done.
    let out = score(dir.path())
        .args(["plan", "s.score", "--diff", "--format", "json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
        .collect();
    let status: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l["part"].as_str().unwrap(), l["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        status,
        vec![("a", "done"), ("b", "run"), ("c", "done"), ("d", "run")]
    );
    assert!(lines.iter().all(|l| l["reason"].is_string()));
    assert_eq!(lines[1]["cause"]["field"], "brief");
    assert_eq!(lines[3]["cause"]["part"], "b");
    // A human table too.
    score(dir.path())
        .args(["plan", "s.score", "--diff"])
        .assert()
        .success()
        .stdout(predicate::str::contains("~ b"))
        .stdout(predicate::str::contains("2 to run, 0 cached, 2 done."));
    // With --fresh, everything runs, and says why.
    score(dir.path())
        .args(["run", "s.score", "--dry-run", "--fresh"])
        .assert()
        .success()
        .stdout(predicate::str::contains("4 to run, 0 cached, 0 done."))
        .stdout(predicate::str::contains("--fresh"));
}
