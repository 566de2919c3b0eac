//! `score draft` through the real binary against a scripted
//! OpenAI-compatible server on 127.0.0.1: the checker's diagnostics go back
//! to the agent until the score checks clean, every round is journaled
//! like a run, only a clean score is written, and the key is nowhere.

use assert_cmd::Command;
use llm_server::{CHAT, LlmServer, Step};
use serde_json::{Value, json};
use std::path::Path;

mod support;

use support::llm_server;
use support::runs::*;

const KEY: &str = "sk-draft-test-0123456789abcdef";

fn score(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("score").unwrap();
    cmd.current_dir(dir)
        .env_remove("CI")
        .env("SCORE_HTTP_BACKOFF_MS", "5")
        .env("SCORE_TEST_DRAFT_KEY", KEY);
    cmd
}

/// The agents file: one OpenAI-compatible agent at the fake server.
fn agents(dir: &Path, url: &str) {
    write(
        dir,
        "team.score",
        &format!(
            "score team {{\n  default_agent writer\n}}\n\n\
             agent writer: openai {{\n  model \"draft-test\"\n  endpoint \"{url}\"\n  \
             key_env \"SCORE_TEST_DRAFT_KEY\"\n  price_in 1.0\n  price_out 2.0\n}}\n"
        ),
    );
}

const SPEC: &str = "# Feature: greetings\n\n## User story 1 (P1)\n\nA visitor is greeted by name.\n\n\
                    **Acceptance**: given a name, the page says hello to it.\n";

/// A score with one error: its part is played by an agent nobody declared.
const BROKEN: &str = "score greet {}\n\nintent hello \"A visitor is greeted by name\" {\n  \
                      accept \"given a name, the page says hello to it\"\n}\n\n\
                      part page by nobody {\n  serves hello\n  owns \"web/**\"\n}\n";

/// The same score, fixed.
const FIXED: &str = "use std.agents.{claude_code}\n\nscore greet {}\n\n\
                     intent hello \"A visitor is greeted by name\" {\n  \
                     accept \"given a name, the page says hello to it\"\n}\n\n\
                     part page by claude_code {\n  serves hello\n  owns \"web/**\"\n}\n";

fn answer(text: &str) -> Step {
    Step::json(&json!({ "score_text": text }))
}

#[test]
fn a_broken_answer_gets_its_diagnostics_back_and_the_fixed_one_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let server = LlmServer::start().unwrap();
    agents(dir.path(), &server.url());
    write(dir.path(), "spec.md", SPEC);
    server.push(CHAT, [answer(BROKEN), answer(FIXED)]);

    let out = score(dir.path())
        .args([
            "draft",
            "spec.md",
            "--agents",
            "team.score",
            "-o",
            "greet.score",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("round 1/5: 1 error"), "{stderr}");
    assert!(stderr.contains("round 2/5: checks clean"), "{stderr}");
    assert!(stderr.contains("checks clean after 2 rounds"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("greet.score")).unwrap(),
        FIXED
    );
    // The written score checks clean on its own.
    score(dir.path())
        .args(["check", "greet.score"])
        .assert()
        .success();

    // The second prompt carried the first score and its diagnostics, with
    // positions, as `score check --format json` gives them.
    let requests = server.requests_to(CHAT);
    assert_eq!(requests.len(), 2);
    let first = prompt_of(&requests[0].json());
    let second = prompt_of(&requests[1].json());
    assert!(first.contains("A visitor is greeted by name."), "the spec");
    assert!(
        first.contains("## 8. Modules and the standard library"),
        "the reference"
    );
    assert!(first.contains("agent claude_code: command"), "the stdlib");
    assert!(!first.contains("What the checker said"));
    assert!(second.contains("part page by nobody"), "the last score");
    let line = second
        .lines()
        .find(|l| l.starts_with('{') && l.contains("\"code\":\"E0101\""))
        .unwrap_or_else(|| panic!("no E0101 line in the prompt:\n{second}"));
    let diagnostic: Value = serde_json::from_str(line).unwrap();
    assert_eq!(diagnostic["file"], "greet.score");
    assert_eq!(diagnostic["line"], 7);
    assert!(diagnostic["column"].as_u64().is_some());
    for request in &requests {
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {KEY}").as_str())
        );
    }

    // Journaled like a run: two attempts, the first failed on the check,
    // the second succeeded, tokens and cost counted.
    let records = journal(dir.path());
    let started = events(&records, "attempt_started");
    assert_eq!(started.len(), 2);
    assert_eq!(started[0]["task"], "score_draft");
    assert_eq!(started[0]["agent"], "writer");
    let failed = events(&records, "attempt_failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["kind"], "check");
    assert!(failed[0]["message"].as_str().unwrap().contains("E0101"));
    assert_eq!(failed[0]["tokens_in"], 11);
    let done = events(&records, "task_succeeded");
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["outputs"]["score_text"], FIXED);
    assert_eq!(done[0]["tokens_in"], 22);
    assert_eq!(done[0]["tokens_out"], 14);
    assert!(done[0]["cost_usd"].as_f64().unwrap() > 0.0);
    let finished = events(&records, "run_finished");
    assert_eq!(finished[0]["status"], "succeeded");
    // `.score/` ignores itself: the draft leaves the tree clean.
    assert!(dir.path().join(".score/.gitignore").is_file());
    let run = latest_run(dir.path());
    let logs = dir.path().join(".score/runs").join(&run).join("logs");
    for file in [
        "score_draft.1.prompt.md",
        "score_draft.1.score",
        "score_draft.1.diagnostics.jsonl",
        "score_draft.2.prompt.md",
        "score_draft.2.score",
    ] {
        assert!(logs.join(file).is_file(), "{file}");
    }
    // The key reached the server's header and no file of the run.
    for file in files_below(&dir.path().join(".score")) {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        assert!(!text.contains(KEY), "the key is in {}", file.display());
    }
}

#[test]
fn it_gives_up_after_the_rounds_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = LlmServer::start().unwrap();
    agents(dir.path(), &server.url());
    write(dir.path(), "spec.md", SPEC);
    server.push(
        CHAT,
        [
            answer(BROKEN),
            Step::complete("I would rather not answer in JSON."),
            answer(BROKEN),
        ],
    );
    let out = score(dir.path())
        .args([
            "draft",
            "spec.md",
            "--agents",
            "team.score",
            "--rounds",
            "3",
            "-o",
            "greet.score",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("round 2/3: no score (invalid output)"),
        "{stderr}"
    );
    assert!(stderr.contains("round 3/3: 1 error"), "{stderr}");
    // The last diagnostics are shown, as `score check` shows them.
    assert!(stderr.contains("error[E0101]"), "{stderr}");
    assert!(stderr.contains("No clean score after 3 rounds"), "{stderr}");
    assert!(!dir.path().join("greet.score").exists());
    assert_eq!(server.requests_to(CHAT).len(), 3);
    // The third prompt says why the second answer held no score.
    let third = prompt_of(&server.requests_to(CHAT)[2].json());
    assert!(
        third.contains("No score could be read from your last answer"),
        "{third}"
    );
    let records = journal(dir.path());
    assert_eq!(events(&records, "attempt_failed").len(), 3);
    assert_eq!(events(&records, "task_failed").len(), 1);
    assert_eq!(events(&records, "run_finished")[0]["status"], "failed");
}

#[test]
fn it_refuses_before_calling_anything_when_it_cannot_start() {
    let dir = tempfile::tempdir().unwrap();
    let server = LlmServer::start().unwrap();
    agents(dir.path(), &server.url());
    write(dir.path(), "spec.md", SPEC);
    write(dir.path(), "taken.score", "// mine\n");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "draft",
                "spec.md",
                "--agents",
                "team.score",
                "-o",
                "taken.score",
            ],
            "does not overwrite",
        ),
        (
            vec!["draft", "missing.md", "--agents", "team.score"],
            "cannot read the specification",
        ),
        (vec!["draft", "spec.md"], "no agent to draft with"),
        (
            vec!["draft", "spec.md", "--agent", "nobody"],
            "not an agent of the standard library",
        ),
        (
            vec![
                "draft",
                "spec.md",
                "--agents",
                "team.score",
                "--agent",
                "ghost",
            ],
            "no agent `ghost`",
        ),
        (
            vec![
                "draft",
                "spec.md",
                "--agents",
                "team.score",
                "--rounds",
                "0",
            ],
            "out of range",
        ),
    ];
    for (args, expected) in cases {
        let out = score(dir.path()).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // Without the key, it says which variable to set.
    let out = score(dir.path())
        .env_remove("SCORE_TEST_DRAFT_KEY")
        .args(["draft", "spec.md", "--agents", "team.score"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SCORE_TEST_DRAFT_KEY"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("taken.score")).unwrap(),
        "// mine\n"
    );
    assert!(server.requests().is_empty(), "no request was made");
    assert!(!dir.path().join(".score").exists(), "no run was started");
}

#[test]
fn without_output_the_clean_score_goes_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let server = LlmServer::start().unwrap();
    agents(dir.path(), &server.url());
    write(dir.path(), "spec.md", SPEC);
    server.push(CHAT, [answer(FIXED)]);
    let out = score(dir.path())
        .args([
            "draft",
            "spec.md",
            "--agents",
            "team.score",
            "--rounds",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), FIXED);
}

/// The user message of an OpenAI request.
fn prompt_of(body: &Value) -> String {
    body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["role"] == "user")
        .map(|m| m["content"].as_str().unwrap_or_default().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A command agent that drafts is confined as in a run: it plays in an
/// empty directory outside the repository, and what it tries to write in
/// the user's directory is refused; its answer still comes back.
#[test]
fn a_command_agent_drafts_confined_outside_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let user = dir.path().canonicalize().unwrap();
    let answer = serde_json::to_string(&json!({ "score_text": FIXED })).unwrap();
    let script = format!(
        "#!/bin/sh\n\
         echo pwned > '{}/escaped' 2>/dev/null\n\
         cat > \"$SCORE_OUTPUT\" <<'JSON'\n{answer}\nJSON\n",
        user.display()
    );
    write(&user, "agent.sh", &script);
    write(
        &user,
        "team.score",
        &format!(
            "agent scribe: command {{\n  run [\"sh\", \"{}/agent.sh\"]\n}}\n",
            user.display()
        ),
    );
    write(&user, "spec.md", SPEC);
    let out = score(&user)
        .env_remove("SCORE_TEST_NO_SANDBOX")
        .args([
            "draft",
            "spec.md",
            "--agents",
            "team.score",
            "-o",
            "greet.score",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(user.join("greet.score")).unwrap(),
        FIXED
    );
    assert!(
        !user.join("escaped").exists(),
        "the agent wrote in the user's directory"
    );
}

/// Opt-in (`SCORE_LIVE_AGENTS=1`): a real OpenAI-compatible server, the
/// tiny model of `../shared/tools/local-llm`, drafts for two rounds. It is
/// not expected to converge: the test judges the loop and the journal.
///
/// ```sh
/// SCORE_LIVE_AGENTS=1 cargo test --test draft live -- --nocapture
/// ```
#[test]
fn live_a_real_model_plays_the_rounds_and_each_is_journaled() {
    if std::env::var("SCORE_LIVE_AGENTS").ok().as_deref() != Some("1") {
        eprintln!("skipped: set SCORE_LIVE_AGENTS=1 to run it against ../shared/tools/local-llm");
        return;
    }
    let port = std::env::var("SCORE_LIVE_LLM_PORT").unwrap_or_else(|_| "8093".into());
    let llm = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/local-llm");
    let started = std::process::Command::new("bash")
        .arg(&llm)
        .args(["start", &port])
        .env(
            "SCORE_LLM_THREADS",
            std::env::var("SCORE_LLM_THREADS").unwrap_or("2".into()),
        )
        .output()
        .unwrap();
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    agents(dir.path(), &format!("http://127.0.0.1:{port}/v1"));
    write(dir.path(), "spec.md", SPEC);
    let out = score(dir.path())
        .timeout(std::time::Duration::from_secs(1800))
        .args([
            "draft",
            "spec.md",
            "--agents",
            "team.score",
            "--rounds",
            "2",
            "--reference",
            "brief",
            "-o",
            "greet.score",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stderr}");
    assert!(matches!(out.status.code(), Some(0 | 1)), "{stderr}");
    let records = journal(dir.path());
    let rounds = events(&records, "attempt_started").len();
    assert!((1..=2).contains(&rounds), "{rounds} rounds");
    let ended = events(&records, "attempt_failed").len() + events(&records, "task_succeeded").len();
    assert_eq!(ended, rounds, "every round ends in the journal");
    assert_eq!(events(&records, "run_finished").len(), 1);
    assert_eq!(
        dir.path().join("greet.score").exists(),
        out.status.code() == Some(0),
        "a score is written exactly when it checks clean"
    );
}
