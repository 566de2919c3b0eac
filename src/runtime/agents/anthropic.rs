//! The `anthropic` agent: the Anthropic Messages API.
//!
//! One user message holds the task's whole prompt, which asks for the
//! result as a JSON object in a fenced `json` block at the end of the
//! reply; the result is read from the text of the reply.

use super::Secret;
use super::http::{HttpClient, Post, RetryPolicy, count, result_of};
use super::openai::{bad_key_message, endpoint_url, truncated_message};
use crate::runtime::agent::{AgentError, AttemptRequest, BoxFuture, Performer, Reply, Usage};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

/// The API version every request names.
pub const API_VERSION: &str = "2023-06-01";

/// `max_tokens` is required by the API; this is used when the agent does
/// not set it.
pub const DEFAULT_MAX_TOKENS: u64 = 8192;

#[derive(Clone, Debug)]
pub struct AnthropicConfig {
    pub model: String,
    /// Base URL, e.g. `https://api.anthropic.com/v1`.
    pub endpoint: String,
    pub key: Option<Secret>,
    /// The environment variable the key was read from, named in messages
    /// about a refused key (never its value).
    pub key_env: Option<String>,
    pub max_tokens: Option<u64>,
    /// How transport faults are retried.
    pub retry: RetryPolicy,
}

#[derive(Debug)]
pub struct AnthropicAgent {
    config: AnthropicConfig,
    /// `{endpoint}/messages`.
    url: String,
    http: HttpClient,
}

impl AnthropicAgent {
    /// Fails when the endpoint is not an http(s) URL or the HTTP client
    /// cannot be set up.
    pub fn new(config: AnthropicConfig) -> Result<AnthropicAgent, String> {
        let url = endpoint_url(&config.endpoint, "messages")?;
        let http = HttpClient::new(config.retry)?;
        Ok(AnthropicAgent { config, url, http })
    }

    fn max_tokens(&self) -> u64 {
        self.config.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS)
    }

    fn body(&self, request: &AttemptRequest) -> Value {
        json!({
            "model": self.config.model,
            "max_tokens": self.max_tokens(),
            "messages": [{"role": "user", "content": request.prompt}],
        })
    }

    fn headers(&self) -> Result<HeaderMap, AgentError> {
        let mut headers = HeaderMap::new();
        headers.insert("anthropic-version", HeaderValue::from_static(API_VERSION));
        if let Some(key) = &self.config.key {
            let mut value = HeaderValue::from_str(key.expose()).map_err(|_| AgentError::Setup {
                message: bad_key_message(self.config.key_env.as_deref()),
            })?;
            value.set_sensitive(true);
            headers.insert("x-api-key", value);
        }
        Ok(headers)
    }
}

impl Performer for AnthropicAgent {
    fn perform<'a>(
        &'a self,
        request: &'a AttemptRequest,
    ) -> BoxFuture<'a, Result<Reply, AgentError>> {
        Box::pin(async move {
            let body = self.body(request);
            let key = (self.config.key.as_ref(), self.config.key_env.as_deref());
            let post = Post::for_attempt(&self.url, self.headers()?, &body, key, request);
            let message = self.http.post_json(&post, read_message).await?;
            message.reply(request.has_outputs, self.max_tokens())
        })
    }
}

/// What a message says, as far as the runtime cares.
#[derive(Debug, PartialEq)]
struct Message {
    /// The text blocks, joined by line breaks.
    text: String,
    stop_reason: Option<String>,
    usage: Usage,
}

/// The message in a 2xx body; `Err` when the body is not one (the
/// transport retries it as malformed).
fn read_message(body: &Value) -> Result<Message, String> {
    let blocks = body
        .get("content")
        .and_then(Value::as_array)
        .ok_or("it has no `content` list")?;
    let text = blocks
        .iter()
        .filter(|block| block.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|block| block.get("text").and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join("\n");
    let usage = body.get("usage").unwrap_or(&Value::Null);
    Ok(Message {
        text,
        stop_reason: body
            .get("stop_reason")
            .and_then(Value::as_str)
            .map(str::to_string),
        usage: Usage {
            // Tokens read from or written to the prompt cache are input
            // too; the API counts them apart from `input_tokens`.
            input_tokens: count(&usage["input_tokens"])
                + count(&usage["cache_creation_input_tokens"])
                + count(&usage["cache_read_input_tokens"]),
            output_tokens: count(&usage["output_tokens"]),
            cost_usd: None,
        },
    })
}

impl Message {
    fn reply(self, has_outputs: bool, max_tokens: u64) -> Result<Reply, AgentError> {
        let usage = self.usage;
        let failed = |message: String| Err(AgentError::Failed { message, usage });
        match self.stop_reason.as_deref() {
            Some("max_tokens") => return failed(truncated_message(Some(max_tokens), 0)),
            Some("refusal") => {
                return failed(format!(
                    "the model refused the task (stop_reason `refusal`){}",
                    if self.text.trim().is_empty() {
                        String::new()
                    } else {
                        format!(": {}", self.text.trim())
                    }
                ));
            }
            _ => {}
        }
        Ok(Reply {
            result: result_of(&self.text, has_outputs),
            usage,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::agent::AttemptFiles;
    use std::path::Path;
    use std::time::Duration;

    fn agent(max_tokens: Option<u64>) -> AnthropicAgent {
        AnthropicAgent::new(AnthropicConfig {
            model: "claude-test".into(),
            endpoint: "https://api.anthropic.com/v1".into(),
            key: Some(Secret::new("sk-ant-secret".into())),
            key_env: Some("ANTHROPIC_API_KEY".into()),
            max_tokens,
            retry: RetryPolicy::default(),
        })
        .unwrap()
    }

    fn request() -> AttemptRequest {
        AttemptRequest {
            task: "t".into(),
            attempt: 1,
            prompt: "Do it.".into(),
            result_schema: json!({"type": "object"}),
            has_outputs: true,
            workspace: "/w".into(),
            files: AttemptFiles::new(Path::new("/logs"), "t", 1),
            timeout: Duration::from_secs(60),
            seed: 1,
            confinement: Default::default(),
            contract: None,
            budget_usd: None,
        }
    }

    #[test]
    fn the_body_always_has_max_tokens() {
        assert_eq!(
            agent(None).body(&request()),
            json!({"model": "claude-test", "max_tokens": 8192,
                   "messages": [{"role": "user", "content": "Do it."}]})
        );
        assert_eq!(agent(Some(10)).body(&request())["max_tokens"], 10);
        assert_eq!(agent(None).url, "https://api.anthropic.com/v1/messages");
    }

    #[test]
    fn the_key_header_is_sensitive() {
        let headers = agent(None).headers().unwrap();
        assert!(headers["x-api-key"].is_sensitive());
        assert_eq!(headers["anthropic-version"], API_VERSION);
        assert!(!format!("{headers:?}").contains("sk-ant-secret"));
    }

    #[test]
    fn reads_the_text_blocks_and_usage() {
        let body = json!({
            "content": [
                {"type": "thinking", "thinking": "{\"no\": 1}"},
                {"type": "text", "text": "Done."},
                {"type": "text", "text": "```json\n{\"a\": 1}\n```"}
            ],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 7, "output_tokens": 4, "cache_read_input_tokens": 3}
        });
        let reply = read_message(&body).unwrap().reply(true, 100).unwrap();
        assert_eq!(reply.result.unwrap(), json!({"a": 1}));
        assert_eq!(
            reply.usage,
            Usage {
                input_tokens: 10,
                output_tokens: 4,
                cost_usd: None,
            }
        );
        assert!(read_message(&json!({"type": "message"})).is_err());
    }

    #[test]
    fn truncation_and_refusal_fail_the_attempt() {
        let body = json!({"content": [{"type": "text", "text": "{"}], "stop_reason": "max_tokens",
                          "usage": {"input_tokens": 1, "output_tokens": 10}});
        match read_message(&body).unwrap().reply(true, 10) {
            Err(AgentError::Failed { message, usage }) => {
                assert!(message.contains("max_tokens"), "{message}");
                assert!(message.contains("10 tokens"), "{message}");
                assert_eq!(usage.output_tokens, 10);
            }
            other => panic!("{other:?}"),
        }
        let body = json!({"content": [], "stop_reason": "refusal"});
        let error = read_message(&body).unwrap().reply(true, 10).unwrap_err();
        assert!(error.to_string().contains("refused"), "{error}");
    }

    #[test]
    fn a_task_without_outputs_accepts_a_reply_without_json() {
        let body =
            json!({"content": [{"type": "text", "text": "All done."}], "stop_reason": "end_turn"});
        let reply = read_message(&body).unwrap().reply(false, 10).unwrap();
        assert_eq!(reply.result.unwrap(), json!({}));
        let reply = read_message(&body).unwrap().reply(true, 10).unwrap();
        assert!(reply.result.unwrap_err().contains("no JSON object"));
    }
}
