//! Workspaces, through the real binary and real git: every part that can
//! change files plays in its own worktree, changes outside its `owns` are
//! rolled back and fed back, and the work is merged into `score/RUN_ID` in
//! DAG order, surviving SIGKILL and `--resume`.

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;

mod support;

use support::llm_server;
use support::runs::*;

fn score(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("score").unwrap();
    cmd.current_dir(dir).env_remove("CI");
    cmd
}

/// A script agent: writes `FILE` (its first argument) with a line naming
/// the task, after a short pause.
const WRITER: &str = "#!/bin/sh\nsleep 0.05\nmkdir -p \"$(dirname \"$1\")\"\necho \"written by $SCORE_TASK\" > \"$1\"\n";

/// Three parts write disjoint directories at the same time; a fourth, after
/// them, writes its own.
fn fan_in_score() -> String {
    let mut text = String::from(
        "score fan {\n  concurrency 3\n}\n\nintent all \"Files get written\" {\n  accept \"every part's file exists\"\n}\n",
    );
    for part in ["api", "web", "docs", "final"] {
        text.push_str(&format!(
            "\nagent w_{part}: command {{\n  run [\"sh\", \"writer.sh\", \"{part}/out.txt\"]\n  tier complex\n}}\n\
             \npart {part} by w_{part} {{\n  serves all\n  owns \"{part}/**\"\n}}\n"
        ));
    }
    text.push_str("\nsequence {\n  [api, web, docs] -> final\n}\n");
    text
}

#[test]
fn parallel_parts_are_merged_in_order_one_commit_each() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "writer.sh", WRITER);
    write(dir.path(), "s.score", &fan_in_score());
    git_init(dir.path());
    let head = git(dir.path(), &["rev-parse", "HEAD"]);
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success()
        .stdout(predicate::str::contains("git merge score/"));
    let branch = format!("score/{}", latest_run(dir.path()));
    for part in ["api", "web", "docs", "final"] {
        let text = git(dir.path(), &["show", &format!("{branch}:{part}/out.txt")]);
        assert_eq!(text, format!("written by {part}"));
    }
    // One merge per part on the first-parent line, `final` last.
    let merges = git(
        dir.path(),
        &[
            "log",
            "--first-parent",
            "--format=%s",
            &format!("{head}..{branch}"),
        ],
    );
    let merges: Vec<&str> = merges.lines().collect();
    assert_eq!(merges.len(), 4, "{merges:?}");
    assert!(merges[0].contains("merge part final into"), "{merges:?}");
    // Each part's own commit touches only its directory.
    for part in ["api", "web", "docs", "final"] {
        let files = git(
            dir.path(),
            &[
                "log",
                "--format=",
                "--name-only",
                "--author=score",
                &format!("--grep=part {part} (agent"),
                &branch,
            ],
        );
        assert_eq!(files.trim(), format!("{part}/out.txt"));
    }
    // The user's checkout is untouched, and the worktrees are gone.
    assert_eq!(git(dir.path(), &["rev-parse", "HEAD"]), head);
    assert!(!dir.path().join("api").exists());
    assert_eq!(git(dir.path(), &["status", "--porcelain"]), "");
    let worktrees = git(dir.path(), &["worktree", "list"]);
    assert_eq!(worktrees.lines().count(), 1, "{worktrees}");
}

#[test]
fn writes_outside_owns_are_rolled_back_and_fed_back() {
    let dir = tempfile::tempdir().unwrap();
    // First attempt: also writes a file outside its boundary. The retry
    // (its prompt carries the feedback) keeps to it.
    let script = "#!/bin/sh\nmkdir -p api\necho api > api/server.txt\n\
                  if ! grep -q 'outside the paths you may write' \"$1\"; then echo sneaky > README.md; echo x > stray.txt; fi\n";
    write(dir.path(), "agent.sh", script);
    write(dir.path(), "README.md", "the user's readme\n");
    write(
        dir.path(),
        "s.score",
        "score b {}\n\nagent tool: command {\n  run [\"sh\", \"agent.sh\", \"{prompt_file}\"]\n  tier complex\n}\n\n\
         intent i \"An API exists\" {\n  accept \"api/server.txt exists\"\n}\n\n\
         part api by tool {\n  serves i\n  owns \"api/**\"\n  retries 1\n}\n",
    );
    git_init(dir.path());
    // The retry line names what was undone, not only that something was.
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "those changes were undone: `README.md` was modified; `stray.txt` was added",
        ));
    let records = journal(dir.path());
    let failed: Vec<&Value> = records
        .iter()
        .filter(|r| r["event"] == "attempt_failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["kind"], "boundary");
    let message = failed[0]["message"].as_str().unwrap();
    assert!(
        message.contains("README.md") && message.contains("stray.txt"),
        "{message}"
    );
    assert!(message.contains("api/**"), "{message}");
    let branch = format!("score/{}", latest_run(dir.path()));
    assert_eq!(
        git(dir.path(), &["show", &format!("{branch}:README.md")]),
        "the user's readme"
    );
    assert_eq!(
        git(dir.path(), &["show", &format!("{branch}:api/server.txt")]),
        "api"
    );
    let files = git(dir.path(), &["ls-tree", "-r", "--name-only", &branch]);
    assert!(!files.contains("stray.txt"), "{files}");
}

#[test]
fn a_part_that_never_keeps_to_its_boundary_fails() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "agent.sh", "#!/bin/sh\necho x > stray.txt\n");
    write(
        dir.path(),
        "s.score",
        "score b {}\n\nagent tool: command {\n  run [\"sh\", \"agent.sh\"]\n  tier complex\n}\n\n\
         intent i \"Something\" {\n  accept \"it happens\"\n}\n\n\
         part api by tool {\n  serves i\n  owns \"api/**\"\n  retries 1\n}\n",
    );
    git_init(dir.path());
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("`api` failed (boundary)"))
        .stdout(predicate::str::contains("stray.txt"));
    let branch = format!("score/{}", latest_run(dir.path()));
    let files = git(dir.path(), &["ls-tree", "-r", "--name-only", &branch]);
    assert!(!files.contains("stray.txt"), "{files}");
}

#[test]
fn an_http_agent_writes_files_through_edits_and_bad_paths_are_refused() {
    let server = llm_server::LlmServer::start().unwrap();
    let bad = serde_json::json!({
        "title": "Home",
        "edits": [
            {"path": "web/index.html", "content": "<h1>Home</h1>\n"},
            {"path": "../escape.txt", "content": "out"},
            {"path": "/etc/score-test", "content": "out"}
        ]
    });
    let good = serde_json::json!({
        "title": "Home",
        "edits": [{"path": "web/index.html", "content": "<h1>Home</h1>\n"}]
    });
    server.push(
        llm_server::CHAT,
        [llm_server::Step::json(&bad), llm_server::Step::json(&good)],
    );
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "s.score",
        &format!(
            "score h {{}}\n\nagent llm: openai {{\n  model \"test\"\n  endpoint \"{}\"\n  tier complex\n}}\n\n\
             intent i \"A home page\" {{\n  accept \"web/index.html exists\"\n}}\n\n\
             part web by llm {{\n  serves i\n  owns \"web/**\"\n  output title: Text\n  retries 1\n}}\n",
            server.url()
        ),
    );
    git_init(dir.path());
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success();
    let records = journal(dir.path());
    let failed: Vec<&Value> = records
        .iter()
        .filter(|r| r["event"] == "attempt_failed")
        .collect();
    assert_eq!(failed.len(), 1, "{records:?}");
    let message = failed[0]["message"].as_str().unwrap();
    assert!(
        message.contains("../escape.txt") && message.contains("/etc/score-test"),
        "{message}"
    );
    // The request asked for edits beside the outputs.
    let first = &server.requests_to(llm_server::CHAT)[0];
    let schema = &first.json()["response_format"]["json_schema"]["schema"];
    assert!(schema["properties"]["edits"].is_object(), "{schema}");
    let branch = format!("score/{}", latest_run(dir.path()));
    assert_eq!(
        git(dir.path(), &["show", &format!("{branch}:web/index.html")]),
        "<h1>Home</h1>"
    );
    assert!(!dir.path().parent().unwrap().join("escape.txt").exists());
    assert!(!Path::new("/etc/score-test").exists());
    let done = records
        .iter()
        .find(|r| r["event"] == "task_succeeded")
        .unwrap();
    assert_eq!(done["outputs"], serde_json::json!({"title": "Home"}));
}

#[test]
fn the_workspace_must_be_a_clean_git_repository() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "writer.sh", WRITER);
    write(dir.path(), "s.score", &fan_in_score());
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a git repository"))
        .stderr(predicate::str::contains("git init"));
    // In place, no repository is needed: the parts write the workspace.
    let outside = tempfile::tempdir().unwrap();
    for file in ["writer.sh", "s.score"] {
        std::fs::copy(dir.path().join(file), outside.path().join(file)).unwrap();
    }
    score(outside.path())
        .args(["run", "s.score", "--in-place"])
        .assert()
        .success()
        .stderr(predicate::str::contains("not rolled back"));
    assert!(outside.path().join("api/out.txt").is_file());
    git_init(dir.path());
    write(dir.path(), "notes.txt", "uncommitted\n");
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("uncommitted changes"))
        .stderr(predicate::str::contains("notes.txt"))
        .stderr(predicate::str::contains("--allow-dirty"));
    score(dir.path())
        .args(["run", "s.score", "--allow-dirty"])
        .assert()
        .success();
}

#[test]
fn a_workspace_inside_a_repository_and_merge_and_clean() {
    let repo = tempfile::tempdir().unwrap();
    let dir = repo.path().join("sub/project");
    write(&dir, "writer.sh", WRITER);
    write(&dir, "s.score", &fan_in_score());
    write(repo.path(), "elsewhere.txt", "not the workspace\n");
    git_init(repo.path());
    // Changes outside the workspace do not make it dirty.
    write(repo.path(), "elsewhere.txt", "changed\n");
    let sandboxes = tempfile::tempdir().unwrap();
    score(&dir)
        .env("SCORE_SANDBOX_DIR", sandboxes.path())
        .args(["run", "s.score", "--keep-worktrees"])
        .assert()
        .success();
    let branch = format!("score/{}", latest_run(&dir));
    assert_eq!(
        git(
            repo.path(),
            &["show", &format!("{branch}:sub/project/api/out.txt")]
        ),
        "written by api"
    );
    // The parts' checkouts are outside the repository, kept on request.
    let kept = files_below(sandboxes.path());
    assert!(
        kept.iter()
            .any(|p| p.ends_with("parts/api/sub/project/api/out.txt")),
        "{kept:?}"
    );
    assert_eq!(git(repo.path(), &["worktree", "list"]).lines().count(), 1);
    // `sub/.score` is not untracked: the runtime's directory ignores itself.
    assert_eq!(
        git(repo.path(), &["status", "--porcelain", "--", "sub"]),
        ""
    );
    score(&dir)
        .env("SCORE_SANDBOX_DIR", sandboxes.path())
        .args(["clean"])
        .assert()
        .success()
        .stdout(predicate::str::contains("removed"));
    assert!(files_below(sandboxes.path()).is_empty());
    // --merge brings the result into the checked-out branch.
    git(repo.path(), &["checkout", "-q", "--", "elsewhere.txt"]);
    score(&dir)
        .args(["run", "s.score", "--fresh", "--merge"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Merged:"));
    assert_eq!(
        std::fs::read_to_string(dir.join("final/out.txt")).unwrap(),
        "written by final\n"
    );
}

#[test]
fn cached_parts_bring_their_commits_to_the_new_branch() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "writer.sh", WRITER);
    write(dir.path(), "s.score", &fan_in_score());
    git_init(dir.path());
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success()
        .stdout(predicate::str::contains("cached"));
    let records = journal(dir.path());
    assert!(records.iter().all(|r| r["event"] != "attempt_started"));
    let branch = format!("score/{}", latest_run(dir.path()));
    for part in ["api", "web", "docs", "final"] {
        assert_eq!(
            git(dir.path(), &["show", &format!("{branch}:{part}/out.txt")]),
            format!("written by {part}")
        );
    }
}

/// SIGKILL anywhere, merges included, then `--resume`: the final tree is
/// the tree of an uninterrupted run, and no part is merged twice.
#[test]
fn sigkill_then_resume_gives_the_same_tree() {
    let reference = {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "writer.sh", WRITER);
        write(dir.path(), "s.score", &fan_in_score());
        git_init(dir.path());
        score(dir.path())
            .args(["run", "s.score"])
            .assert()
            .success();
        let branch = format!("score/{}", latest_run(dir.path()));
        git(dir.path(), &["rev-parse", &format!("{branch}^{{tree}}")])
    };
    let mut seed: u64 = 0x2545_f491;
    for iteration in 0..12 {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "writer.sh", WRITER);
        write(dir.path(), "s.score", &fan_in_score());
        git_init(dir.path());
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let wait = std::time::Duration::from_millis((seed >> 33) % 400);
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_score"))
            .args(["run", "s.score"])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(wait);
        let _ = child.kill();
        let _ = child.wait();
        let started = dir.path().join(".score/runs").exists()
            && std::fs::read_dir(dir.path().join(".score/runs"))
                .unwrap()
                .any(|e| e.unwrap().path().join("events.jsonl").is_file());
        let mut finish = score(dir.path());
        finish.args(["run", "s.score"]);
        if started {
            finish.arg("--resume");
        }
        finish.assert().success();
        let branch = format!("score/{}", latest_run(dir.path()));
        let tree = git(dir.path(), &["rev-parse", &format!("{branch}^{{tree}}")]);
        assert_eq!(
            tree, reference,
            "iteration {iteration} (killed after {wait:?})"
        );
        let merges = git(
            dir.path(),
            &["log", "--first-parent", "--merges", "--format=%s", &branch],
        );
        for part in ["api", "web", "docs", "final"] {
            let n = merges
                .lines()
                .filter(|l| l.contains(&format!("merge part {part} into")))
                .count();
            assert_eq!(
                n, 1,
                "iteration {iteration}: `{part}` merged {n} times:\n{merges}"
            );
        }
    }
}

/// Opt-in: a part played by the standard library's `aider` agent in its
/// worktree, against a local OpenAI-compatible server (e.g.
/// `../shared/tools/local-llm start`). Needs `aider` on PATH:
/// `SCORE_TEST_AIDER=1 SCORE_TEST_OPENAI_URL=http://127.0.0.1:8080/v1 cargo test --test run_workspace live_aider`.
#[test]
fn live_aider_plays_a_part_in_a_worktree() {
    let (Ok(_), Ok(url)) = (
        std::env::var("SCORE_TEST_AIDER"),
        std::env::var("SCORE_TEST_OPENAI_URL"),
    ) else {
        eprintln!(
            "skipped: set SCORE_TEST_AIDER=1 and SCORE_TEST_OPENAI_URL (a local OpenAI-compatible server) to run aider in a worktree"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "s.score",
        r#"use std.agents.{aider}
use std.checks.{file_exists}

score live { default_agent aider }

intent i "A greeting file exists" { accept "hello.txt says hello" }

part hello {
  serves i
  owns "hello.txt"
  ensures file_exists(path: "hello.txt")
  retries 2
  brief "Create the file hello.txt containing the single word hello."
}
"#,
    );
    git_init(dir.path());
    score(dir.path())
        .env("OPENAI_API_BASE", &url)
        .env("OPENAI_API_KEY", "local")
        .env("AIDER_MODEL", "openai/local")
        .args(["run", "s.score"])
        .timeout(std::time::Duration::from_secs(900))
        .assert()
        .success();
    let branch = format!("score/{}", latest_run(dir.path()));
    let files = git(dir.path(), &["ls-tree", "-r", "--name-only", &branch]);
    assert!(files.lines().any(|f| f == "hello.txt"), "{files}");
}

#[test]
fn clean_lists_what_it_removes_and_keeps_unmerged_branches_without_force() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "writer.sh", WRITER);
    write(dir.path(), "s.score", &fan_in_score());
    git_init(dir.path());
    let sandboxes = tempfile::tempdir().unwrap();
    let score_in = |args: &[&str]| {
        let mut cmd = score(dir.path());
        cmd.env("SCORE_SANDBOX_DIR", sandboxes.path()).args(args);
        cmd
    };
    score_in(&["run", "s.score", "--keep-worktrees"])
        .assert()
        .success();
    let branch = format!("score/{}", latest_run(dir.path()));
    // A dry run names every checkout directory and the unmerged branch,
    // and removes nothing.
    let out = score_in(&["clean", "--branches", "--dry-run"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("would remove"), "{text}");
    assert!(
        text.contains(&format!("keeping 1 branch not merged into HEAD: {branch}")),
        "{text}"
    );
    assert!(!files_below(sandboxes.path()).is_empty());
    assert!(text.contains("nothing was"), "{text}");
    // Without --force the unmerged result stays.
    score_in(&["clean", "--branches"])
        .assert()
        .success()
        .stdout(predicate::str::contains("removing "))
        .stdout(predicate::str::contains("--force"))
        .stdout(predicate::str::contains("\nremoved "));
    assert!(files_below(sandboxes.path()).is_empty());
    assert_eq!(
        git(dir.path(), &["branch", "--list", &branch]).trim(),
        branch
    );
    // With --force it goes, and the listing says what is lost.
    score_in(&["clean", "--branches", "--force"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!(
            "removing branch {branch} (NOT merged: its work is lost)"
        )));
    assert_eq!(git(dir.path(), &["branch", "--list", &branch]), "");
    score_in(&["clean"])
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing to remove"));
}

/// A command agent that leaves a mark in `marks` (outside the repository;
/// its `writes` allow it) when it starts, then writes its part's file.
const MARKER: &str = "#!/bin/sh\ntouch \"$1/$SCORE_TASK\"\nmkdir -p api\necho \"written by $SCORE_TASK\" > api/out.txt\n";

/// One part played by the marking agent; the intent lives in a module the
/// score imports (`goals.score`), so that the score has two files.
fn marking_score(dir: &Path, marks: &Path) {
    write(dir, "mark.sh", MARKER);
    write(
        dir,
        "goals.score",
        "intent i \"A file gets written\" {\n  accept \"api/out.txt exists\"\n}\n",
    );
    let marks = marks.display();
    write(
        dir,
        "s.score",
        &format!(
            "use goals.{{i}}\n\nscore m {{}}\n\nagent tool: command {{\n  run [\"sh\", \"mark.sh\", \"{marks}\"]\n  writes [\"{marks}\"]\n  tier complex\n}}\n\n\
             part api by tool {{\n  serves i\n  owns \"api/**\"\n}}\n"
        ),
    );
}

#[test]
fn merge_on_a_dirty_tree_is_refused_before_any_agent_starts() {
    let dir = tempfile::tempdir().unwrap();
    let marks = tempfile::tempdir().unwrap();
    marking_score(dir.path(), marks.path());
    write(dir.path(), "README.md", "the user's readme\n");
    git_init(dir.path());
    write(dir.path(), "README.md", "an edit not committed\n");
    for args in [
        &["run", "s.score", "--merge", "--allow-dirty"][..],
        &["run", "s.score", "--merge"][..],
    ] {
        score(dir.path())
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("uncommitted changes (README.md)"))
            .stderr(predicate::str::contains("nothing was run"));
    }
    // No agent started, no run was opened, no branch was made.
    assert!(files_below(marks.path()).is_empty());
    assert!(try_journal(dir.path()).is_none());
    assert_eq!(git(dir.path(), &["branch", "--list", "score/*"]), "");
    // The same run on a clean tree plays and merges: the agent does leave
    // its mark when it runs.
    git(dir.path(), &["checkout", "-q", "--", "README.md"]);
    score(dir.path())
        .args(["run", "s.score", "--merge"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Merged:"));
    assert!(marks.path().join("api").is_file());
    assert!(dir.path().join("api/out.txt").is_file());
}

#[test]
fn edits_to_the_score_are_played_and_journaled_not_a_dirty_tree() {
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let marks = tempfile::tempdir().unwrap();
    marking_score(dir.path(), marks.path());
    git_init(dir.path());
    // Edit the score and the module it imports, and add a module in a new
    // directory; commit nothing.
    let text = std::fs::read_to_string(dir.path().join("s.score")).unwrap();
    let edited = text
        .replace("tier complex", "tier complex\n  concurrency 2")
        .replace("use goals.{i}", "use goals.{i}\nuse lib.extra.{extra}")
        .replace("serves i", "serves i, extra");
    write(dir.path(), "s.score", &edited);
    write(
        dir.path(),
        "lib/extra.score",
        "intent extra \"The file says who wrote it\" {\n  accept \"it names the part\"\n}\n",
    );
    let goals = "// the goal, reworded\nintent i \"The file gets written\" {\n  accept \"api/out.txt exists\"\n}\n";
    write(dir.path(), "goals.score", goals);
    score(dir.path())
        .args(["run", "s.score", "--merge"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "playing the uncommitted edits of goals.score, lib/extra.score, s.score",
        ))
        .stdout(predicate::str::contains("Merged:"));
    let records = journal(dir.path());
    let started = events(&records, "run_started")[0];
    let sha = |text: &str| {
        sha2::Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert_eq!(started["sources"]["s.score"], sha(&edited), "{started}");
    assert_eq!(started["sources"]["goals.score"], sha(goals), "{started}");
    assert_eq!(
        started["edited"],
        serde_json::json!(["goals.score", "lib/extra.score", "s.score"]),
        "{started}"
    );
    // The work was merged; the edits are still the user's, uncommitted.
    assert!(dir.path().join("api/out.txt").is_file());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("s.score")).unwrap(),
        edited
    );
    assert_eq!(
        git(dir.path(), &["status", "--porcelain"]),
        "M goals.score\n M s.score\n?? lib/"
    );
    // Any other uncommitted change still needs `--allow-dirty`.
    write(dir.path(), "notes.txt", "uncommitted\n");
    score(dir.path())
        .args(["run", "s.score", "--fresh"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("notes.txt"))
        .stderr(predicate::str::contains("--allow-dirty"));
}

#[test]
fn a_merge_refused_at_the_end_exits_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let marks = tempfile::tempdir().unwrap();
    marking_score(dir.path(), marks.path());
    let text = std::fs::read_to_string(dir.path().join("s.score")).unwrap();
    write(
        dir.path(),
        "s.score",
        &text.replace(
            "owns \"api/**\"\n",
            "owns \"api/**\"\n  approve \"the lead\"\n",
        ),
    );
    git_init(dir.path());
    // The run pauses for the approval; meanwhile the user commits a
    // different `api/out.txt` on the branch the run will merge into.
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("score approve"));
    let id = latest_run(dir.path());
    write(dir.path(), "api/out.txt", "the user's own\n");
    git(dir.path(), &["add", "api/out.txt"]);
    git(dir.path(), &["commit", "-q", "-m", "mine"]);
    let head = git(dir.path(), &["rev-parse", "HEAD"]);
    score(dir.path())
        .args(["approve", &id, "api"])
        .assert()
        .success();
    score(dir.path())
        .args(["run", "s.score", "--resume", &id, "--merge"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("Not merged:"))
        .stdout(predicate::str::contains(
            "conflicts with the checked-out branch in api/out.txt",
        ));
    // Nothing of the user's was touched; the work is on the run's branch.
    assert_eq!(git(dir.path(), &["rev-parse", "HEAD"]), head);
    assert_eq!(
        git(dir.path(), &["show", &format!("score/{id}:api/out.txt")]),
        "written by api"
    );
}

#[test]
fn a_part_without_reads_is_told_it_may_read_the_repository_and_its_upstream_files() {
    let dir = tempfile::tempdir().unwrap();
    // `cli` uses `model`'s file: its prompt must say it may read it (and
    // where it is), and its sandbox must let it.
    write(
        dir.path(),
        "model.sh",
        "#!/bin/sh\nmkdir -p model\necho 'struct Link' > model/lib.txt\n",
    );
    write(
        dir.path(),
        "cli.sh",
        "#!/bin/sh\nset -e\ngrep -q 'You may read: the whole repository.' \"$1\"\n\
         grep -q 'read their files to use their work: `model/\\*\\*` (part `model`)' \"$1\"\n\
         mkdir -p cli\n{ echo 'uses:'; cat model/lib.txt; } > cli/main.txt\n",
    );
    write(
        dir.path(),
        "s.score",
        "score s {}\n\nintent i \"A CLI\" {\n  accept \"it uses the model\"\n}\n\n\
         agent m: command {\n  run [\"sh\", \"model.sh\"]\n  tier complex\n}\n\n\
         agent c: command {\n  run [\"sh\", \"cli.sh\", \"{prompt_file}\"]\n  tier complex\n}\n\n\
         part model by m {\n  serves i\n  owns \"model/**\"\n}\n\n\
         part cli by c {\n  serves i\n  owns \"cli/**\"\n}\n\n\
         sequence {\n  model -> cli\n}\n",
    );
    git_init(dir.path());
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success();
    let branch = format!("score/{}", latest_run(dir.path()));
    assert_eq!(
        git(dir.path(), &["show", &format!("{branch}:cli/main.txt")]),
        "uses:\nstruct Link"
    );
    // The first part builds on nothing: no such line in its prompt.
    let out = score(dir.path())
        .args(["build", "s.score"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let plan: Value = serde_json::from_slice(&out).unwrap();
    let model = plan["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "model")
        .unwrap();
    let prompt = model["prompt"].as_str().unwrap();
    assert!(
        prompt.contains("You may read: the whole repository."),
        "{prompt}"
    );
    assert!(!prompt.contains("builds on"), "{prompt}");
}
