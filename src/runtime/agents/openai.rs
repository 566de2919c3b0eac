//! The `openai` agent: an OpenAI-compatible `chat/completions` endpoint
//! (OpenAI itself, or a local server such as vLLM, llama.cpp or Ollama).
//!
//! One user message holds the task's whole prompt. A task with outputs
//! also asks for structured output (`response_format` with the result's
//! JSON Schema, not strict: strict mode accepts only a subset of JSON
//! Schema, and the runtime validates the result anyway).

use super::Secret;
use super::http::{HttpClient, Post, RetryPolicy, count, result_of};
use crate::runtime::agent::{AgentError, AttemptRequest, BoxFuture, Performer, Reply, Usage};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use serde_json::{Map, Value, json};

#[derive(Clone, Debug)]
pub struct OpenAiConfig {
    pub model: String,
    /// Base URL, e.g. `https://api.openai.com/v1`.
    pub endpoint: String,
    pub key: Option<Secret>,
    /// The environment variable the key was read from, named in messages
    /// about a refused key (never its value).
    pub key_env: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u64>,
    /// How transport faults are retried.
    pub retry: RetryPolicy,
}

#[derive(Debug)]
pub struct OpenAiAgent {
    config: OpenAiConfig,
    /// `{endpoint}/chat/completions`.
    url: String,
    http: HttpClient,
}

impl OpenAiAgent {
    /// Fails when the endpoint is not an http(s) URL or the HTTP client
    /// cannot be set up.
    pub fn new(config: OpenAiConfig) -> Result<OpenAiAgent, String> {
        let url = endpoint_url(&config.endpoint, "chat/completions")?;
        let http = HttpClient::new(config.retry)?;
        Ok(OpenAiAgent { config, url, http })
    }

    /// The request body for `request`.
    fn body(&self, request: &AttemptRequest) -> Value {
        let mut body = Map::new();
        body.insert("model".into(), json!(self.config.model));
        body.insert(
            "messages".into(),
            json!([{"role": "user", "content": request.prompt}]),
        );
        if let Some(temperature) = self.config.temperature {
            body.insert("temperature".into(), json!(temperature));
        }
        if let Some(max_tokens) = self.config.max_tokens {
            body.insert("max_tokens".into(), json!(max_tokens));
        }
        if request.has_outputs {
            body.insert(
                "response_format".into(),
                json!({
                    "type": "json_schema",
                    "json_schema": {
                        "name": "result",
                        "schema": request.result_schema,
                        "strict": false,
                    }
                }),
            );
        }
        Value::Object(body)
    }

    fn headers(&self) -> Result<HeaderMap, AgentError> {
        let mut headers = HeaderMap::new();
        if let Some(key) = &self.config.key {
            let mut value =
                HeaderValue::from_str(&format!("Bearer {}", key.expose())).map_err(|_| {
                    AgentError::Setup {
                        message: bad_key_message(self.config.key_env.as_deref()),
                    }
                })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        Ok(headers)
    }
}

impl Performer for OpenAiAgent {
    fn perform<'a>(
        &'a self,
        request: &'a AttemptRequest,
    ) -> BoxFuture<'a, Result<Reply, AgentError>> {
        Box::pin(async move {
            let body = self.body(request);
            let key = (self.config.key.as_ref(), self.config.key_env.as_deref());
            let post = Post::for_attempt(&self.url, self.headers()?, &body, key, request);
            let completion = self.http.post_json(&post, read_completion).await?;
            completion.reply(request.has_outputs, self.config.max_tokens)
        })
    }
}

/// What a completion says, as far as the runtime cares.
#[derive(Debug, PartialEq)]
struct Completion {
    content: Option<String>,
    refusal: Option<String>,
    finish_reason: Option<String>,
    usage: Usage,
}

/// The completion in a 2xx body; `Err` when the body is not one (the
/// transport retries it as malformed).
fn read_completion(body: &Value) -> Result<Completion, String> {
    let choice = body
        .get("choices")
        .and_then(Value::as_array)
        .and_then(|choices| choices.first())
        .ok_or("it has no `choices`")?;
    let message = choice
        .get("message")
        .filter(|m| m.is_object())
        .ok_or("its first choice has no `message`")?;
    let content = match message.get("content") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.clone()),
        // Some compatible servers send content parts.
        Some(Value::Array(parts)) => Some(
            parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(""),
        ),
        Some(_) => return Err("its message's `content` is neither text nor null".into()),
    };
    let text = |value: Option<&Value>| {
        value
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let usage = body.get("usage").unwrap_or(&Value::Null);
    Ok(Completion {
        content,
        refusal: text(message.get("refusal")),
        finish_reason: text(choice.get("finish_reason")),
        usage: Usage {
            input_tokens: count(&usage["prompt_tokens"]),
            output_tokens: count(&usage["completion_tokens"]),
            cost_usd: None,
        },
    })
}

impl Completion {
    fn reply(self, has_outputs: bool, max_tokens: Option<u64>) -> Result<Reply, AgentError> {
        let usage = self.usage;
        let failed = |message: String| Err(AgentError::Failed { message, usage });
        if let Some(refusal) = self.refusal {
            return failed(format!("the model refused the task: {refusal}"));
        }
        match self.finish_reason.as_deref() {
            Some("length") => {
                return failed(truncated_message(max_tokens, usage.output_tokens));
            }
            Some("content_filter") => {
                return failed(
                    "the provider's content filter stopped the reply (finish_reason \
                     `content_filter`)"
                        .into(),
                );
            }
            _ => {}
        }
        let Some(content) = self.content else {
            return failed(format!(
                "the reply has no content (finish_reason `{}`)",
                self.finish_reason.as_deref().unwrap_or("none")
            ));
        };
        Ok(Reply {
            result: result_of(&content, has_outputs),
            usage,
        })
    }
}

/// The message for a reply cut off at the token limit (shared with the
/// Anthropic agent).
pub(crate) fn truncated_message(max_tokens: Option<u64>, output_tokens: u64) -> String {
    let limit = match max_tokens {
        Some(limit) => format!("its limit of {limit} tokens"),
        None => format!("the model's token limit ({output_tokens} tokens)"),
    };
    format!(
        "the reply was cut off at {limit} before it was complete; raise the agent's \
         `max_tokens`, or split the part into smaller ones"
    )
}

/// The message for a key that cannot be sent in a header.
pub(crate) fn bad_key_message(key_env: Option<&str>) -> String {
    format!(
        "the API key in `{}` cannot be sent in an HTTP header (it holds a line break or \
         another control character); set it again without them",
        key_env.unwrap_or("key_env")
    )
}

/// `{endpoint}/{path}`, with the endpoint checked to be an http(s) URL
/// (shared with the Anthropic agent).
pub(crate) fn endpoint_url(endpoint: &str, path: &str) -> Result<String, String> {
    let base = endpoint.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(base).map_err(|e| {
        format!("the endpoint `{endpoint}` is not a URL ({e}); write it like `https://host/v1`")
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "the endpoint `{endpoint}` is not an http or https URL; write it like `https://host/v1`"
        ));
    }
    Ok(format!("{base}/{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::agent::AttemptFiles;
    use std::path::Path;
    use std::time::Duration;

    fn agent(temperature: Option<f64>, max_tokens: Option<u64>) -> OpenAiAgent {
        OpenAiAgent::new(OpenAiConfig {
            model: "gpt-test".into(),
            endpoint: "http://127.0.0.1:9/v1/".into(),
            key: None,
            key_env: None,
            temperature,
            max_tokens,
            retry: RetryPolicy::default(),
        })
        .unwrap()
    }

    fn request(has_outputs: bool) -> AttemptRequest {
        AttemptRequest {
            task: "t".into(),
            attempt: 1,
            prompt: "Do it.".into(),
            result_schema: json!({"type": "object", "required": ["a"]}),
            has_outputs,
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
    fn the_url_takes_no_double_slash() {
        assert_eq!(
            agent(None, None).url,
            "http://127.0.0.1:9/v1/chat/completions"
        );
        assert!(endpoint_url("api.openai.com/v1", "x").is_err());
        assert!(
            endpoint_url("ftp://host/v1", "x")
                .unwrap_err()
                .contains("http or https")
        );
    }

    #[test]
    fn the_body_has_only_the_settings_given() {
        let body = agent(None, None).body(&request(false));
        assert_eq!(
            body,
            json!({"model": "gpt-test", "messages": [{"role": "user", "content": "Do it."}]})
        );
        let body = agent(Some(0.2), Some(100)).body(&request(true));
        assert_eq!(body["temperature"], json!(0.2));
        assert_eq!(body["max_tokens"], json!(100));
        assert_eq!(body["response_format"]["type"], "json_schema");
        assert_eq!(
            body["response_format"]["json_schema"],
            json!({"name": "result", "schema": {"type": "object", "required": ["a"]}, "strict": false})
        );
    }

    #[test]
    fn reads_a_completion() {
        let body = json!({
            "choices": [{"message": {"role": "assistant", "content": "{\"a\": 1}"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 3}
        });
        let completion = read_completion(&body).unwrap();
        let reply = completion.reply(true, None).unwrap();
        assert_eq!(reply.result.unwrap(), json!({"a": 1}));
        assert_eq!(reply.usage.total(), 13);
    }

    #[test]
    fn a_body_without_a_message_is_malformed() {
        assert!(read_completion(&json!({})).unwrap_err().contains("choices"));
        assert!(
            read_completion(&json!({"choices": []}))
                .unwrap_err()
                .contains("choices")
        );
        assert!(
            read_completion(&json!({"choices": [{}]}))
                .unwrap_err()
                .contains("message")
        );
        assert!(read_completion(&json!({"choices": [{"message": {"content": 3}}]})).is_err());
    }

    #[test]
    fn refusals_truncation_and_empty_content_fail_the_attempt() {
        let refused = json!({"choices": [{"message": {"content": null, "refusal": "I can't."}}]});
        let error = read_completion(&refused)
            .unwrap()
            .reply(true, None)
            .unwrap_err();
        assert!(error.to_string().contains("I can't."), "{error}");

        let cut = json!({
            "choices": [{"message": {"content": "{\"a\""}, "finish_reason": "length"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 100}
        });
        let error = read_completion(&cut)
            .unwrap()
            .reply(true, Some(100))
            .unwrap_err();
        match error {
            AgentError::Failed { message, usage } => {
                assert!(message.contains("max_tokens"), "{message}");
                assert!(message.contains("100 tokens"), "{message}");
                assert_eq!(usage.output_tokens, 100);
            }
            other => panic!("{other:?}"),
        }

        let empty = json!({"choices": [{"message": {"content": null}, "finish_reason": "stop"}]});
        let error = read_completion(&empty)
            .unwrap()
            .reply(false, None)
            .unwrap_err();
        assert!(error.to_string().contains("no content"), "{error}");
    }

    #[test]
    fn content_parts_are_joined() {
        let body = json!({"choices": [{"message": {"content": [
            {"type": "text", "text": "{\"a\":"}, {"type": "text", "text": " 2}"}
        ]}}]});
        let reply = read_completion(&body).unwrap().reply(true, None).unwrap();
        assert_eq!(reply.result.unwrap(), json!({"a": 2}));
    }
}
