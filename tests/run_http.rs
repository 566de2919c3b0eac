//! `score run` with API agents, through the real binary against a real HTTP
//! server on 127.0.0.1: the OpenAI and Anthropic protocols, transport
//! faults on the way, and secrets that must appear nowhere.

use assert_cmd::Command;
use llm_server::{CHAT, LlmServer, MESSAGES, Step};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

mod support;

use support::llm_server;
use support::runs::*;

fn score(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("score").unwrap();
    cmd.current_dir(dir)
        .env_remove("CI")
        // Fast backoff: the faults below are retried in milliseconds.
        .env("SCORE_HTTP_BACKOFF_MS", "5");
    cmd
}

/// Two parts: `outline` by an OpenAI-compatible agent, `summary` (which
/// needs it) by an Anthropic one. Neither writes files: no repository needed.
fn score_text(url: &str) -> String {
    format!(
        r#"
score apis {{}}

agent gpt: openai {{
  model "gpt-test"
  endpoint "{url}"
  key_env "SCORE_TEST_OPENAI_KEY"
  tier complex
  price_in 2.0
  price_out 8.0
}}

agent claude: anthropic {{
  model "claude-test"
  endpoint "{url}"
  key_env "SCORE_TEST_ANTHROPIC_KEY"
  tier complex
}}

intent i "A summary of an outline" {{
  accept "the summary names the outline's topic"
}}

part outline by gpt {{
  serves i
  output topic: Text
  output points: [Text]
}}

part summary by claude {{
  serves i
  input topic = outline.topic
  output text: Text
  retries 1
}}
"#
    )
}

const OPENAI_KEY: &str = "sk-test-0123456789-do-not-leak";
const ANTHROPIC_KEY: &str = "sk-ant-test-9876543210-do-not-leak";

#[test]
fn api_agents_play_through_faults_and_keys_leak_nowhere() {
    let server = LlmServer::start().unwrap();
    server.push(
        CHAT,
        [
            Step::rate_limited("0"),
            Step::server_error(),
            Step::json(&json!({"topic": "tides", "points": ["moon", "sun"]})),
        ],
    );
    server.push(
        MESSAGES,
        [
            Step::slow(
                Duration::from_millis(200),
                Step::complete("No JSON here, sorry."),
            ),
            Step::complete("Here it is:\n```json\n{\"text\": \"All about tides.\"}\n```\n"),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.score"), score_text(&server.url())).unwrap();
    let out = score(dir.path())
        .env("SCORE_TEST_OPENAI_KEY", OPENAI_KEY)
        .env("SCORE_TEST_ANTHROPIC_KEY", ANTHROPIC_KEY)
        .args(["run", "s.score"])
        .assert()
        .success()
        .get_output()
        .clone();

    let records = journal(dir.path());
    let done: Vec<&Value> = records
        .iter()
        .filter(|r| r["event"] == "task_succeeded")
        .collect();
    assert_eq!(done.len(), 2);
    assert_eq!(done[0]["outputs"]["topic"], "tides");
    assert_eq!(done[1]["outputs"]["text"], "All about tides.");
    // Transport faults were not attempts; the reply without JSON was one.
    let failed: Vec<&Value> = records
        .iter()
        .filter(|r| r["event"] == "attempt_failed")
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["task"], "summary");
    assert_eq!(failed[0]["kind"], "invalid_output");
    // Usage and cost are read and priced.
    assert!(done[0]["tokens_in"].as_u64().unwrap() > 0);
    assert!(done[0]["cost_usd"].as_f64().unwrap() > 0.0);

    // The protocols: a bearer key and structured output; x-api-key and a version.
    let chat = server.requests_to(CHAT);
    assert_eq!(chat.len(), 3);
    let last = chat.last().unwrap();
    assert_eq!(
        last.header("authorization"),
        Some(format!("Bearer {OPENAI_KEY}").as_str())
    );
    assert_eq!(last.json()["response_format"]["type"], "json_schema");
    let messages = server.requests_to(MESSAGES);
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].header("x-api-key"), Some(ANTHROPIC_KEY));
    assert!(messages[0].header("anthropic-version").is_some());
    // The input reached the prompt; the retry carries the feedback.
    let prompt = messages[1].json()["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(prompt.contains("\"tides\""), "{prompt}");
    assert!(prompt.contains("was not accepted"), "{prompt}");

    // Secrets: nowhere under .score/, not in stdout or stderr.
    for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains(OPENAI_KEY) && !text.contains(ANTHROPIC_KEY),
            "a key in {name}"
        );
    }
    let mut files = 0;
    let mut stack = vec![dir.path().join(".score")];
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else {
            files += 1;
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            assert!(
                !text.contains(OPENAI_KEY) && !text.contains(ANTHROPIC_KEY),
                "a key in {}",
                path.display()
            );
        }
    }
    assert!(files > 5, "only {files} files under .score/");
    // Nor in the plan.
    let plan = score(dir.path())
        .env("SCORE_TEST_OPENAI_KEY", OPENAI_KEY)
        .args(["build", "s.score"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let plan = String::from_utf8(plan).unwrap();
    assert!(!plan.contains(OPENAI_KEY));
    assert!(plan.contains("SCORE_TEST_OPENAI_KEY"));
}

#[test]
fn a_refused_key_fails_at_once_naming_the_variable_not_the_key() {
    let server = LlmServer::start().unwrap();
    server.push(
        CHAT,
        [Step::error(
            401,
            format!("Incorrect API key provided: {OPENAI_KEY}"),
        )],
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.score"), score_text(&server.url())).unwrap();
    let out = score(dir.path())
        .env("SCORE_TEST_OPENAI_KEY", OPENAI_KEY)
        .env("SCORE_TEST_ANTHROPIC_KEY", ANTHROPIC_KEY)
        .args(["run", "s.score"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("`outline` failed (setup)"), "{stdout}");
    assert!(stdout.contains("SCORE_TEST_OPENAI_KEY"), "{stdout}");
    assert!(!stdout.contains(OPENAI_KEY), "{stdout}");
    assert_eq!(
        server.requests_to(CHAT).len(),
        1,
        "a refused key is not retried"
    );
    let journal_text = serde_json::to_string(&journal(dir.path())).unwrap();
    assert!(!journal_text.contains(OPENAI_KEY));
}

#[test]
fn endpoint_down_is_a_transport_failure_after_backoff() {
    // Nothing listens on this port once the server is dropped.
    let url = {
        let server = LlmServer::start().unwrap();
        server.url()
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.score"), score_text(&url)).unwrap();
    score(dir.path())
        .env("SCORE_TEST_OPENAI_KEY", OPENAI_KEY)
        .env("SCORE_TEST_ANTHROPIC_KEY", ANTHROPIC_KEY)
        .env("SCORE_HTTP_RETRIES", "2")
        .args(["run", "s.score"])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("`outline` failed (transport)"))
        .stdout(predicates::str::contains("skipped"));
}

/// Opt-in: a real OpenAI-compatible server, e.g. the llama.cpp server that
/// `../shared/tools/local-llm start` runs: `SCORE_TEST_OPENAI_URL=http://127.0.0.1:8080/v1`.
#[test]
fn live_openai_compatible_server_with_structured_output() {
    let Ok(url) = std::env::var("SCORE_TEST_OPENAI_URL") else {
        eprintln!(
            "skipped: set SCORE_TEST_OPENAI_URL to an OpenAI-compatible server (e.g. `local-llm start`) to run this test"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.score"),
        format!(
            r#"
score live {{}}

agent local: openai {{
  model "local"
  endpoint "{url}"
  tier complex
  max_tokens 256
}}

intent i "A greeting" {{
  accept "a short greeting"
}}

part greet by local {{
  serves i
  output greeting: Text
  retries 2
  brief "Write a one-line friendly greeting."
}}
"#
        ),
    )
    .unwrap();
    score(dir.path())
        .env("SCORE_HTTP_BACKOFF_MS", "500")
        .args(["run", "s.score"])
        .timeout(Duration::from_secs(600))
        .assert()
        .success();
    let records = journal(dir.path());
    let done = records
        .iter()
        .find(|r| r["event"] == "task_succeeded")
        .unwrap();
    assert!(done["outputs"]["greeting"].is_string());
}

#[test]
fn a_schema_invalid_answer_is_fed_back_and_retried() {
    let server = LlmServer::start().unwrap();
    server.push(
        CHAT,
        [
            Step::json(&json!({"topic": 42, "points": "not a list"})),
            Step::json(&json!({"topic": "tides", "points": []})),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let text = score_text(&server.url()).replace(
        "part outline by gpt {\n  serves i\n",
        "part outline by gpt {\n  serves i\n  retries 1\n",
    );
    std::fs::write(dir.path().join("s.score"), text).unwrap();
    score(dir.path())
        .env("SCORE_TEST_OPENAI_KEY", OPENAI_KEY)
        .env("SCORE_TEST_ANTHROPIC_KEY", ANTHROPIC_KEY)
        .args(["run", "s.score", "--only", "outline"])
        .assert()
        .success();
    let records = journal(dir.path());
    let failed: Vec<&Value> = records
        .iter()
        .filter(|r| r["event"] == "attempt_failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["kind"], "invalid_output");
    let message = failed[0]["message"].as_str().unwrap();
    assert!(
        message.contains("/topic") && message.contains("/points"),
        "{message}"
    );
    let retry = &server.requests_to(CHAT)[1];
    let prompt = retry.json()["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(prompt.contains("does not match its schema"), "{prompt}");
}
