//! The `openai` and `anthropic` agents against a scripted local server
//! (`tests/support/llm_server.rs`): what they send, what they read, and how
//! they meet the faults of a real network.
//!
//! Agents come from the factory (`score::runtime::agents::performer`) so
//! that it is covered too; the tests that exercise transport retries build
//! them directly with a retry policy of a few milliseconds, since the
//! factory's policy is the real one (seconds of backoff).

mod support;

use support::llm_server;

use llm_server::{CHAT, LlmServer, MESSAGES, Step};
use score::plan::{Agent, Complexity, Provider};
use score::runtime::agent::{AgentError, AttemptFiles, AttemptRequest, Performer, Reply};
use score::runtime::agents::anthropic::{AnthropicAgent, AnthropicConfig};
use score::runtime::agents::http::RetryPolicy;
use score::runtime::agents::openai::{OpenAiAgent, OpenAiConfig};
use score::runtime::agents::{Secret, performer};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The API key the tests use; it must never show in an error or a log.
const KEY: &str = "sk-test-0123456789-SECRET";
const KEY_ENV: &str = "SCORE_TEST_API_KEY";

fn schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "additionalProperties": false,
        "properties": {"store_api": {"type": "string"}, "count": {"type": "integer"}},
        "required": ["store_api", "count"],
        "type": "object"
    })
}

/// A prompt shaped like the built-in template's: with outputs, it holds
/// the schema.
fn prompt(has_outputs: bool) -> String {
    if has_outputs {
        format!(
            "# Shop: part `store`\n\nWrite the store.\n\n## What to return\n\n\
             The object must match this JSON Schema:\n\n```json\n{:#}\n```",
            schema()
        )
    } else {
        "# Shop: part `store`\n\nWrite the store.\n\n## What to return\n\n\
         This part returns no values: end with `{}` in a fenced `json` code block."
            .into()
    }
}

fn request(logs: &Path, has_outputs: bool) -> AttemptRequest {
    AttemptRequest {
        task: "store".into(),
        attempt: 1,
        prompt: prompt(has_outputs),
        result_schema: if has_outputs {
            schema()
        } else {
            json!({"type": "object", "properties": {}, "additionalProperties": false})
        },
        has_outputs,
        workspace: logs.to_path_buf(),
        files: AttemptFiles::new(logs, "store", 1),
        timeout: Duration::from_secs(30),
        seed: 42,
        confinement: Default::default(),
        contract: None,
        budget_usd: None,
    }
}

fn agent(provider: Provider) -> Agent {
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
    }
}

fn openai_provider(server: &LlmServer, key_env: Option<&str>) -> Provider {
    Provider::Openai {
        model: "gpt-test".into(),
        endpoint: server.url(),
        key_env: key_env.map(String::from),
        temperature: None,
        max_tokens: None,
    }
}

fn anthropic_provider(server: &LlmServer) -> Provider {
    Provider::Anthropic {
        model: "claude-test".into(),
        // A trailing slash must not make `//messages`.
        endpoint: format!("{}/", server.url()),
        key_env: Some(KEY_ENV.into()),
        max_tokens: None,
    }
}

/// The agent for `provider` from the factory, with the key in `KEY_ENV`.
fn from_factory(provider: Provider) -> Arc<dyn Performer> {
    performer("llm", &agent(provider), &|name| {
        (name == KEY_ENV).then(|| KEY.to_string())
    })
    .expect("the factory builds the agent")
}

/// Retries in milliseconds, for the transport tests.
fn fast(retries: u32) -> RetryPolicy {
    RetryPolicy {
        retries,
        base: Duration::from_millis(2),
        max_delay: Duration::from_millis(10),
        request_timeout: None,
    }
}

fn openai_with(server: &LlmServer, retry: RetryPolicy) -> OpenAiAgent {
    OpenAiAgent::new(OpenAiConfig {
        model: "gpt-test".into(),
        endpoint: server.url(),
        key: Some(Secret::new(KEY.into())),
        key_env: Some(KEY_ENV.into()),
        temperature: None,
        max_tokens: None,
        retry,
    })
    .unwrap()
}

fn anthropic_with(server: &LlmServer, retry: RetryPolicy) -> AnthropicAgent {
    AnthropicAgent::new(AnthropicConfig {
        model: "claude-test".into(),
        endpoint: server.url(),
        key: Some(Secret::new(KEY.into())),
        key_env: Some(KEY_ENV.into()),
        max_tokens: None,
        retry,
    })
    .unwrap()
}

/// The transcript's lines, checked to hold no key.
fn transcript(request: &AttemptRequest) -> Vec<Value> {
    let text = std::fs::read_to_string(&request.files.transcript).unwrap_or_default();
    assert!(!text.contains(KEY), "the key is in the transcript:\n{text}");
    text.lines()
        .map(|line| serde_json::from_str(line).expect("each line is a JSON object"))
        .collect()
}

/// The error, checked to hold no key.
fn error_of(result: Result<Reply, AgentError>) -> AgentError {
    let error = result.expect_err("the attempt fails");
    assert!(!format!("{error} {error:?}").contains(KEY), "{error:?}");
    error
}

#[tokio::test]
async fn openai_reads_the_result_and_usage() {
    let server = LlmServer::start().unwrap();
    server.push(
        CHAT,
        [Step::complete(r#"{"store_api": "get, put", "count": 2}"#)],
    );
    let logs = tempfile::tempdir().unwrap();
    let request = request(logs.path(), true);
    let reply = from_factory(openai_provider(&server, Some(KEY_ENV)))
        .perform(&request)
        .await
        .unwrap();
    assert_eq!(
        reply.result.unwrap(),
        json!({"store_api": "get, put", "count": 2})
    );
    assert_eq!(
        (reply.usage.input_tokens, reply.usage.output_tokens),
        (11, 7)
    );

    let sent = server.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "POST");
    assert_eq!(sent[0].path, CHAT);
    assert_eq!(
        sent[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(sent[0].header("content-type"), Some("application/json"));
    let lines = transcript(&request);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["status"], 200);
    assert_eq!(lines[0]["request"], sent[0].json());
    assert_eq!(
        lines[0]["response"]["choices"][0]["message"]["content"],
        r#"{"store_api": "get, put", "count": 2}"#
    );
    assert_eq!(lines[0]["error"], Value::Null);
}

#[tokio::test]
async fn openai_asks_for_structured_output_when_the_task_has_outputs() {
    let server = LlmServer::start().unwrap();
    let performer = from_factory(Provider::Openai {
        model: "gpt-test".into(),
        endpoint: server.url(),
        key_env: None,
        temperature: Some(0.25),
        max_tokens: Some(2000),
    });
    let logs = tempfile::tempdir().unwrap();
    // Nothing scripted: the server answers with a value of the schema.
    let reply = performer
        .perform(&request(logs.path(), true))
        .await
        .unwrap();
    assert_eq!(
        reply.result.unwrap(),
        json!({"store_api": "text", "count": 1})
    );
    let reply = performer
        .perform(&request(logs.path(), false))
        .await
        .unwrap();
    assert_eq!(reply.result.unwrap(), json!({}));

    let sent = server.requests_to(CHAT);
    let with_outputs = sent[0].json();
    assert_eq!(
        with_outputs,
        json!({
            "model": "gpt-test",
            "messages": [{"role": "user", "content": prompt(true)}],
            "temperature": 0.25,
            "max_tokens": 2000,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "result", "schema": schema(), "strict": false}
            }
        })
    );
    assert!(sent[1].json().get("response_format").is_none());
    // No key_env: no Authorization header at all.
    assert_eq!(sent[0].header("authorization"), None);
}

#[tokio::test]
async fn anthropic_sends_its_headers_and_reads_the_text_blocks() {
    let server = LlmServer::start().unwrap();
    server.push(
        MESSAGES,
        [Step::Complete {
            content: "I wrote it.\n\n```json\n{\"store_api\": \"kv\", \"count\": 3}\n```".into(),
            input_tokens: 120,
            output_tokens: 30,
        }],
    );
    let logs = tempfile::tempdir().unwrap();
    let request = request(logs.path(), true);
    let reply = from_factory(anthropic_provider(&server))
        .perform(&request)
        .await
        .unwrap();
    assert_eq!(
        reply.result.unwrap(),
        json!({"store_api": "kv", "count": 3})
    );
    assert_eq!(
        (reply.usage.input_tokens, reply.usage.output_tokens),
        (120, 30)
    );

    let sent = server.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, MESSAGES);
    assert_eq!(sent[0].header("x-api-key"), Some(KEY));
    assert_eq!(sent[0].header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(sent[0].header("content-type"), Some("application/json"));
    assert_eq!(sent[0].header("authorization"), None);
    assert_eq!(
        sent[0].json(),
        json!({
            "model": "claude-test",
            "max_tokens": 8192,
            "messages": [{"role": "user", "content": prompt(true)}]
        })
    );
    assert_eq!(transcript(&request).len(), 1);
}

#[tokio::test]
async fn anthropic_default_answer_follows_the_prompts_schema() {
    let server = LlmServer::start().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let reply = from_factory(anthropic_provider(&server))
        .perform(&request(logs.path(), true))
        .await
        .unwrap();
    assert_eq!(
        reply.result.unwrap(),
        json!({"store_api": "text", "count": 1})
    );
}

#[tokio::test]
async fn rate_limits_wait_for_retry_after() {
    let server = LlmServer::start().unwrap();
    server.push(
        CHAT,
        [
            Step::rate_limited("1"),
            Step::complete(r#"{"store_api": "a", "count": 1}"#),
        ],
    );
    let logs = tempfile::tempdir().unwrap();
    let request = request(logs.path(), true);
    let started = Instant::now();
    let reply = openai_with(&server, fast(3))
        .perform(&request)
        .await
        .unwrap();
    // The backoff alone would be a few milliseconds: the wait is the
    // server's.
    assert!(started.elapsed() >= Duration::from_millis(950));
    assert!(reply.result.is_ok());
    assert_eq!(server.requests().len(), 2);
    let lines = transcript(&request);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["status"], 429);
    assert!(lines[0]["error"].as_str().unwrap().contains("429"));
    assert_eq!(lines[1]["status"], 200);
    assert_eq!(lines[1]["exchange"], 2);
}

#[tokio::test]
async fn a_retry_after_past_the_attempts_timeout_gives_up_at_once() {
    let server = LlmServer::start().unwrap();
    server.push(CHAT, [Step::rate_limited("20")]);
    let logs = tempfile::tempdir().unwrap();
    let mut request = request(logs.path(), true);
    request.timeout = Duration::from_secs(5);
    let started = Instant::now();
    let error = error_of(openai_with(&server, fast(3)).perform(&request).await);
    assert!(started.elapsed() < Duration::from_secs(3));
    let AgentError::Transport { message } = &error else {
        panic!("{error:?}")
    };
    assert!(message.contains("attempt's timeout"), "{message}");
    assert!(message.contains("429"), "{message}");
}

#[tokio::test]
async fn server_errors_are_retried() {
    let server = LlmServer::start().unwrap();
    server.push(
        MESSAGES,
        [
            Step::server_error(),
            Step::error(529, "Overloaded"),
            Step::json(&json!({"store_api": "x", "count": 5})),
        ],
    );
    let logs = tempfile::tempdir().unwrap();
    let request = request(logs.path(), true);
    let reply = anthropic_with(&server, fast(3))
        .perform(&request)
        .await
        .unwrap();
    assert_eq!(reply.result.unwrap(), json!({"store_api": "x", "count": 5}));
    // Usage is the successful exchange's.
    assert_eq!(reply.usage.total(), 18);
    let statuses: Vec<Value> = transcript(&request)
        .iter()
        .map(|l| l["status"].clone())
        .collect();
    assert_eq!(statuses, [json!(500), json!(529), json!(200)]);
}

#[tokio::test]
async fn dropped_connections_are_retried() {
    let server = LlmServer::start().unwrap();
    server.push(
        CHAT,
        [
            Step::Reset,
            Step::Close,
            Step::complete(r#"{"store_api": "a", "count": 1}"#),
        ],
    );
    let logs = tempfile::tempdir().unwrap();
    let request = request(logs.path(), true);
    let reply = openai_with(&server, fast(3))
        .perform(&request)
        .await
        .unwrap();
    assert!(reply.result.is_ok());
    assert_eq!(server.requests().len(), 3);
    let lines = transcript(&request);
    assert_eq!(lines.len(), 3);
    for line in &lines[..2] {
        assert_eq!(line["status"], Value::Null);
        assert_eq!(line["response"], Value::Null);
        assert!(line["error"].is_string(), "{line}");
    }
}

#[tokio::test]
async fn malformed_bodies_are_retried() {
    let server = LlmServer::start().unwrap();
    server.push(
        CHAT,
        [
            Step::Malformed("<html>upstream error</html>".into()),
            Step::Malformed(r#"{"object": "chat.completion"}"#.into()),
            Step::complete(r#"{"store_api": "a", "count": 1}"#),
        ],
    );
    let logs = tempfile::tempdir().unwrap();
    let request = request(logs.path(), true);
    let reply = openai_with(&server, fast(3))
        .perform(&request)
        .await
        .unwrap();
    assert!(reply.result.is_ok());
    let lines = transcript(&request);
    assert_eq!(lines.len(), 3);
    // A body that is not JSON is kept as text.
    assert_eq!(lines[0]["response"], "<html>upstream error</html>");
    assert!(lines[0]["error"].as_str().unwrap().contains("not JSON"));
    assert!(lines[1]["error"].as_str().unwrap().contains("choices"));
}

#[tokio::test]
async fn a_slow_answer_is_waited_for() {
    let server = LlmServer::start().unwrap();
    server.push(
        MESSAGES,
        [Step::slow(
            Duration::from_millis(400),
            Step::json(&json!({"store_api": "slow", "count": 1})),
        )],
    );
    let logs = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let reply = from_factory(anthropic_provider(&server))
        .perform(&request(logs.path(), true))
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert_eq!(reply.result.unwrap()["store_api"], "slow");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_request_past_its_own_timeout_is_retried() {
    let server = LlmServer::start().unwrap();
    server.push(
        CHAT,
        [
            Step::slow(Duration::from_secs(2), Step::complete("{}")),
            Step::complete(r#"{"store_api": "quick", "count": 1}"#),
        ],
    );
    let logs = tempfile::tempdir().unwrap();
    let request = request(logs.path(), true);
    let policy = RetryPolicy {
        request_timeout: Some(Duration::from_millis(200)),
        ..fast(2)
    };
    let started = Instant::now();
    let reply = openai_with(&server, policy)
        .perform(&request)
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(reply.result.unwrap()["store_api"], "quick");
    let lines = transcript(&request);
    assert!(
        lines[0]["error"].as_str().unwrap().contains("200 ms"),
        "{}",
        lines[0]
    );
}

#[tokio::test]
async fn a_bad_request_fails_the_attempt_with_the_servers_message() {
    for (path, performer) in [(CHAT, "openai"), (MESSAGES, "anthropic")] {
        let server = LlmServer::start().unwrap();
        server.push(
            path,
            [Step::error(400, "max_tokens is too large: 999999999")],
        );
        let logs = tempfile::tempdir().unwrap();
        let request = request(logs.path(), true);
        let agent = if performer == "openai" {
            from_factory(openai_provider(&server, Some(KEY_ENV)))
        } else {
            from_factory(anthropic_provider(&server))
        };
        let error = error_of(agent.perform(&request).await);
        let AgentError::Failed { message, usage } = &error else {
            panic!("{performer}: {error:?}")
        };
        assert!(
            message.contains("max_tokens is too large: 999999999"),
            "{message}"
        );
        assert!(message.contains("400"), "{message}");
        assert_eq!(usage.total(), 0);
        // Not retried: a 400 would only come again.
        assert_eq!(server.requests().len(), 1, "{performer}");
        assert_eq!(transcript(&request).len(), 1);
    }
}

#[tokio::test]
async fn a_refused_key_is_a_setup_error_naming_the_variable() {
    for path in [CHAT, MESSAGES] {
        let server = LlmServer::start().unwrap();
        // Servers quote the key they refused; it must not travel on.
        server.push(
            path,
            [Step::error(
                401,
                format!("Incorrect API key provided: {KEY}."),
            )],
        );
        let logs = tempfile::tempdir().unwrap();
        let request = request(logs.path(), true);
        let agent = if path == CHAT {
            from_factory(openai_provider(&server, Some(KEY_ENV)))
        } else {
            from_factory(anthropic_provider(&server))
        };
        let error = error_of(agent.perform(&request).await);
        let AgentError::Setup { message } = &error else {
            panic!("{path}: {error:?}")
        };
        assert!(message.contains(&format!("`{KEY_ENV}`")), "{message}");
        assert!(
            message.contains("Incorrect API key provided: ***"),
            "{message}"
        );
        assert_eq!(server.requests().len(), 1);
        let lines = transcript(&request);
        assert_eq!(lines[0]["status"], 401);
        assert!(lines[0]["error"].as_str().unwrap().contains(KEY_ENV));
    }
}

#[tokio::test]
async fn a_wrong_endpoint_is_a_setup_error_naming_the_url() {
    let server = LlmServer::start().unwrap();
    let logs = tempfile::tempdir().unwrap();
    let performer = from_factory(Provider::Openai {
        model: "gpt-test".into(),
        endpoint: format!("http://{}/wrong", server.addr()),
        key_env: Some(KEY_ENV.into()),
        temperature: None,
        max_tokens: None,
    });
    let error = error_of(performer.perform(&request(logs.path(), true)).await);
    let AgentError::Setup { message } = &error else {
        panic!("{error:?}")
    };
    let url = format!("http://{}/wrong/chat/completions", server.addr());
    assert!(message.contains(&url), "{message}");
    assert!(message.contains("`endpoint`"), "{message}");
}

#[tokio::test]
async fn a_redirect_is_reported_not_followed() {
    // Following it would turn the POST into a GET, and could carry the key
    // to another host.
    let server = LlmServer::start().unwrap();
    let elsewhere = format!("{}/moved/messages", server.url());
    server.push(
        MESSAGES,
        [Step::Raw {
            status: 307,
            headers: vec![("Location".into(), elsewhere.clone())],
            body: String::new(),
        }],
    );
    let logs = tempfile::tempdir().unwrap();
    let error = error_of(
        from_factory(anthropic_provider(&server))
            .perform(&request(logs.path(), true))
            .await,
    );
    let AgentError::Setup { message } = &error else {
        panic!("{error:?}")
    };
    assert!(message.contains(&elsewhere), "{message}");
    assert!(message.contains("`endpoint`"), "{message}");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn exhausted_retries_are_a_transport_error() {
    let server = LlmServer::start().unwrap();
    server.push(
        MESSAGES,
        [
            Step::server_error(),
            Step::Reset,
            Step::error(503, "Service temporarily unavailable"),
            Step::json(&json!({"never": "reached"})),
        ],
    );
    let logs = tempfile::tempdir().unwrap();
    let request = request(logs.path(), true);
    let error = error_of(anthropic_with(&server, fast(2)).perform(&request).await);
    let AgentError::Transport { message } = &error else {
        panic!("{error:?}")
    };
    // The last problem, in words, and how many tries it took.
    assert!(
        message.contains("Service temporarily unavailable"),
        "{message}"
    );
    assert!(message.contains("503"), "{message}");
    assert!(message.contains("3 tries"), "{message}");
    assert_eq!(server.requests().len(), 3);
    assert_eq!(server.pending(MESSAGES), 1);
    assert_eq!(transcript(&request).len(), 3);
}

#[tokio::test]
async fn a_result_that_breaks_the_schema_is_still_returned() {
    // Validation is the runtime's job: the agent returns what it read.
    let server = LlmServer::start().unwrap();
    server.push(CHAT, [Step::complete(r#"{"store_api": 7, "extra": true}"#)]);
    let logs = tempfile::tempdir().unwrap();
    let reply = from_factory(openai_provider(&server, Some(KEY_ENV)))
        .perform(&request(logs.path(), true))
        .await
        .unwrap();
    assert_eq!(
        reply.result.unwrap(),
        json!({"store_api": 7, "extra": true})
    );
}

#[tokio::test]
async fn a_reply_without_json_is_a_result_error_unless_nothing_is_due() {
    let server = LlmServer::start().unwrap();
    let prose = "I have written the store module and its tests.";
    server.push(MESSAGES, [Step::complete(prose), Step::complete(prose)]);
    let performer = from_factory(anthropic_provider(&server));
    let logs = tempfile::tempdir().unwrap();
    let reply = performer
        .perform(&request(logs.path(), true))
        .await
        .unwrap();
    let why = reply.result.unwrap_err();
    assert!(why.contains("no JSON object"), "{why}");
    assert_eq!(reply.usage.total(), 18);
    let reply = performer
        .perform(&request(logs.path(), false))
        .await
        .unwrap();
    assert_eq!(reply.result.unwrap(), json!({}));
}

#[tokio::test]
async fn a_truncated_reply_fails_the_attempt() {
    for path in [CHAT, MESSAGES] {
        let server = LlmServer::start().unwrap();
        server.push(
            path,
            [Step::Truncated {
                content: "```json\n{\"store_api\": \"a very long".into(),
            }],
        );
        let logs = tempfile::tempdir().unwrap();
        let agent = if path == CHAT {
            from_factory(openai_provider(&server, Some(KEY_ENV)))
        } else {
            from_factory(anthropic_provider(&server))
        };
        let error = error_of(agent.perform(&request(logs.path(), true)).await);
        let AgentError::Failed { message, usage } = &error else {
            panic!("{path}: {error:?}")
        };
        assert!(message.contains("cut off"), "{message}");
        assert!(message.contains("max_tokens"), "{message}");
        assert_eq!(usage.output_tokens, 100, "{path}");
        // Not a transport fault: one request.
        assert_eq!(server.requests().len(), 1);
    }
}

#[tokio::test]
async fn a_refusal_fails_the_attempt_with_the_reason() {
    let server = LlmServer::start().unwrap();
    server.push(CHAT, [Step::Refusal("I cannot help with that.".into())]);
    let logs = tempfile::tempdir().unwrap();
    let error = error_of(
        from_factory(openai_provider(&server, Some(KEY_ENV)))
            .perform(&request(logs.path(), true))
            .await,
    );
    let AgentError::Failed { message, usage } = &error else {
        panic!("{error:?}")
    };
    assert!(message.contains("I cannot help with that."), "{message}");
    assert_eq!(usage.total(), 14);
}

#[tokio::test]
async fn agents_are_shared_by_concurrent_attempts() {
    let server = LlmServer::start().unwrap();
    let performer = from_factory(openai_provider(&server, Some(KEY_ENV)));
    let logs = tempfile::tempdir().unwrap();
    let requests: Vec<AttemptRequest> = (1..=8)
        .map(|n| {
            let mut request = request(logs.path(), true);
            request.attempt = n;
            request.files = AttemptFiles::new(logs.path(), "store", n);
            request
        })
        .collect();
    let mut tasks = Vec::new();
    for request in requests {
        let performer = Arc::clone(&performer);
        tasks.push(tokio::spawn(async move {
            performer.perform(&request).await.map(|r| r.result)
        }));
    }
    for task in tasks {
        let result = task.await.unwrap().unwrap();
        assert_eq!(result.unwrap(), json!({"store_api": "text", "count": 1}));
    }
    assert_eq!(server.requests().len(), 8);
}

#[test]
fn an_endpoint_that_is_not_a_url_is_refused_when_the_agent_is_made() {
    let provider = Provider::Anthropic {
        model: "claude-test".into(),
        endpoint: "api.anthropic.com/v1".into(),
        key_env: Some(KEY_ENV.into()),
        max_tokens: None,
    };
    let error = performer("claude", &agent(provider), &|_| Some(KEY.into()))
        .err()
        .unwrap();
    assert!(error.contains("agent `claude`"), "{error}");
    assert!(error.contains("api.anthropic.com/v1"), "{error}");
    assert!(!error.contains(KEY), "{error}");
}
