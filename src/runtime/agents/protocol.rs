//! Reading what a coding-agent CLI prints in its machine-readable mode.
//!
//! A `command` agent declares its `protocol`; this module turns the
//! program's standard output (and, for errors some tools print there, its
//! standard error) into a [`Transcript`]: the final answer, a structured
//! answer the tool produced from the part's result schema, the tokens and
//! cost it reports, and whether it says it failed. It is pure: text in,
//! data out, so every parser is tested on recorded outputs of the real
//! programs (`tests/data/agents/`).
//!
//! The formats, as the pinned versions print them (see `docs/agents.md`):
//!
//! - `claude_json`: Claude Code's `--output-format json`, one object of
//!   `"type": "result"`; or `stream-json`, one event per line ending with
//!   that same object. Only the last line is parsed.
//! - `codex_jsonl`: Codex CLI's `exec --json`, one event per line: the
//!   answer is the last `item.completed` of an `agent_message`, the tokens
//!   the sum of the `turn.completed` usages, errors `turn.failed` and the
//!   `error` events no completed turn followed (Codex reports a reconnect
//!   as an `error` too). Lines are told apart by their leading `{"type":"…"` without
//!   parsing them, so a megabyte of tool output costs a scan for newlines.
//! - `gemini_json`: Gemini CLI's `--output-format json`, one object with
//!   `response`, `stats` and, on failure, `error` (which the CLI prints on
//!   standard error).

use crate::plan::Protocol;
use crate::runtime::agent::Usage;
use serde::Deserialize;
use serde_json::Value;

/// What a program said about one attempt, read by its protocol.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Transcript {
    /// The final answer, as text (the result object is looked for in it
    /// when there is no `structured` answer).
    pub answer: Option<String>,
    /// The answer the tool shaped after the result schema it was given
    /// (Claude Code's `structured_output`). Still validated by the runtime.
    pub structured: Option<Value>,
    /// Tokens, and the cost when the program reports it.
    pub usage: Usage,
    /// The program says the attempt failed.
    pub error: Option<ProgramError>,
}

/// A failure the program reported in its output.
#[derive(Clone, Debug, PartialEq)]
pub struct ProgramError {
    pub message: String,
    /// It stopped because it reached the budget it was given
    /// (`--max-budget-usd`).
    pub over_budget: bool,
}

/// Why a program's output could not be read at all.
#[derive(Clone, Debug, PartialEq)]
pub struct Unreadable {
    /// What is wrong, in words for the user (and the retry's feedback).
    pub message: String,
    /// What could still be read: tokens spent before the output broke off.
    pub usage: Usage,
}

/// Reads `stdout` (and `stderr`, where the tool prints its errors) by
/// `protocol`. `Plain` has nothing to read here (the command agent looks
/// for the result object itself) and gives an empty transcript.
pub fn read(protocol: Protocol, stdout: &str, stderr: &str) -> Result<Transcript, Unreadable> {
    match protocol {
        Protocol::Plain => Ok(Transcript::default()),
        Protocol::ClaudeJson => read_claude(stdout),
        Protocol::CodexJsonl => read_codex(stdout),
        Protocol::GeminiJson => read_gemini(stdout, stderr),
    }
}

/// The `"type"` of a JSON Lines event, read from its first bytes when the
/// line starts with it (as every event of these tools does).
fn leading_type(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("{\"type\":\"")?;
    let end = rest.find('"')?;
    Some(&rest[..end])
}

/// The `"type"` of a JSON Lines event wherever it is in the object (the
/// slow path, for a line that does not start with it).
fn parsed_type(line: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Head {
        #[serde(rename = "type")]
        kind: String,
    }
    serde_json::from_str::<Head>(line).ok().map(|h| h.kind)
}

/// The lines of `text` from the last to the first, trimmed, non-empty.
fn lines_back(text: &str) -> impl Iterator<Item = &str> {
    text.rsplit('\n').map(str::trim).filter(|l| !l.is_empty())
}

/// A count in a JSON usage object (0 when absent or not a count).
fn count(value: Option<&Value>) -> u64 {
    value.and_then(Value::as_u64).unwrap_or(0)
}

// --- Claude Code -------------------------------------------------------

/// The final object of `claude -p --output-format json|stream-json`.
#[derive(Deserialize)]
struct ClaudeResult {
    subtype: Option<String>,
    #[serde(default)]
    is_error: bool,
    result: Option<String>,
    total_cost_usd: Option<f64>,
    #[serde(default)]
    usage: Value,
    /// The same tokens per model; the only count in some error results
    /// (`error_max_budget_usd` leaves `usage` at zero).
    #[serde(default, rename = "modelUsage")]
    model_usage: Value,
    structured_output: Option<Value>,
    /// Error subtypes list what went wrong here.
    #[serde(default)]
    errors: Vec<Value>,
}

fn claude_usage(usage: &Value, cost: Option<f64>) -> Usage {
    Usage {
        // Tokens read from or written to the prompt cache are input too;
        // the API counts them apart from `input_tokens`.
        input_tokens: count(usage.get("input_tokens"))
            + count(usage.get("cache_creation_input_tokens"))
            + count(usage.get("cache_read_input_tokens")),
        output_tokens: count(usage.get("output_tokens")),
        cost_usd: cost,
    }
}

fn read_claude(stdout: &str) -> Result<Transcript, Unreadable> {
    // `json` prints one object (on one line); `stream-json` ends with the
    // same object on the last line.
    let last = lines_back(stdout).next();
    let result = last
        .filter(|line| match leading_type(line) {
            Some(kind) => kind == "result",
            None => parsed_type(line).as_deref() == Some("result"),
        })
        .and_then(|line| serde_json::from_str::<ClaudeResult>(line).ok())
        // The object printed over several lines.
        .or_else(|| {
            serde_json::from_str::<Value>(stdout.trim())
                .ok()
                .filter(|v| v["type"] == "result")
                .and_then(|v| serde_json::from_value::<ClaudeResult>(v).ok())
        });
    let Some(result) = result else {
        return Err(Unreadable {
            message: if stdout.trim().is_empty() {
                "it printed nothing (a `claude_json` agent runs `claude -p --output-format json`)"
                    .into()
            } else {
                "its output does not end with Claude Code's `result` object: it stopped before \
                 it finished, or it does not run with `-p --output-format json` (or `stream-json`)"
                    .into()
            },
            usage: claude_stream_usage(stdout),
        });
    };
    let mut usage = claude_usage(&result.usage, result.total_cost_usd);
    if usage.input_tokens + usage.output_tokens == 0
        && let Some(models) = result.model_usage.as_object()
    {
        for model in models.values() {
            usage.input_tokens += count(model.get("inputTokens"))
                + count(model.get("cacheReadInputTokens"))
                + count(model.get("cacheCreationInputTokens"));
            usage.output_tokens += count(model.get("outputTokens"));
        }
    }
    let subtype = result.subtype.as_deref().unwrap_or("");
    let error = (result.is_error || subtype.starts_with("error")).then(|| {
        let mut said: Vec<String> = result
            .errors
            .iter()
            .map(|e| match e {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        if let Some(text) = result.result.as_deref().filter(|t| !t.trim().is_empty()) {
            said.insert(0, text.trim().to_string());
        }
        let what = match subtype {
            "" | "success" => "Claude Code reported an error".to_string(),
            other => format!("Claude Code stopped with `{other}`"),
        };
        ProgramError {
            message: if said.is_empty() {
                what
            } else {
                format!("{what}: {}", said.join("; "))
            },
            over_budget: subtype == "error_max_budget_usd",
        }
    });
    Ok(Transcript {
        answer: result.result,
        structured: result.structured_output.filter(|v| !v.is_null()),
        usage,
        error,
    })
}

/// The tokens of a `stream-json` transcript that broke off before its
/// result: each assistant message's usage, counted once per message (the
/// CLI prints one event per content block, each with the message's usage).
fn claude_stream_usage(stdout: &str) -> Usage {
    let mut usage = Usage::default();
    let mut seen: Vec<String> = Vec::new();
    for line in stdout.lines() {
        let line = line.trim();
        if leading_type(line) != Some("assistant") {
            continue;
        }
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let message = &event["message"];
        let id = message["id"].as_str().unwrap_or_default().to_string();
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        let u = claude_usage(&message["usage"], None);
        usage.input_tokens += u.input_tokens;
        usage.output_tokens += u.output_tokens;
    }
    usage
}

// --- Codex CLI ---------------------------------------------------------

fn read_codex(stdout: &str) -> Result<Transcript, Unreadable> {
    let mut usage = Usage::default();
    // Only the last agent message and the last error since the last
    // completed turn matter: their lines are kept and parsed once, at the
    // end, so a long session costs a scan for newlines and event types.
    let mut answer_line: Option<&str> = None;
    let mut error_line: Option<&str> = None;
    let mut failures: Vec<String> = Vec::new();
    let mut started = false;
    let mut turn_ended = false;
    for line in stdout.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let slow;
        let kind = match leading_type(line) {
            Some(kind) => kind,
            None => {
                slow = parsed_type(line);
                match slow.as_deref() {
                    Some(kind) => kind,
                    None => continue,
                }
            }
        };
        match kind {
            "thread.started" | "turn.started" => started = true,
            "turn.completed" => {
                turn_ended = true;
                // What went wrong before was retried away ("Reconnecting…
                // 1/5"): the turn completed.
                error_line = None;
                if let Ok(event) = serde_json::from_str::<Value>(line) {
                    let u = &event["usage"];
                    // `input_tokens` already includes the cached ones.
                    usage.input_tokens += count(u.get("input_tokens"));
                    usage.output_tokens += count(u.get("output_tokens"));
                }
            }
            "turn.failed" => {
                turn_ended = true;
                failures.push(serde_json::from_str::<Value>(line).map_or_else(
                    |_| "its turn failed".into(),
                    |e| codex_error_message(&e["error"]),
                ));
            }
            "error" => error_line = Some(line),
            "item.completed" if is_agent_message(line) => answer_line = Some(line),
            _ => {}
        }
    }
    if !started {
        return Err(Unreadable {
            message: if stdout.trim().is_empty() {
                "it printed nothing (a `codex_jsonl` agent runs `codex exec --json`)".into()
            } else {
                "its output holds no Codex CLI events: it does not run with `exec --json`".into()
            },
            usage,
        });
    }
    if !turn_ended && error_line.is_none() {
        return Err(Unreadable {
            message: "its output ends before the turn did (no `turn.completed` event): it \
                      stopped before it finished"
                .into(),
            usage,
        });
    }
    // `error` events that a completed turn followed were transient (the
    // CLI reports a reconnect as an `error` too); a failed turn says why
    // itself, and an error after the last completed turn is the last word.
    let why = if !failures.is_empty() {
        Some(failures.join("; "))
    } else {
        error_line.map(|line| {
            serde_json::from_str::<Value>(line)
                .map_or_else(|_| line.to_string(), |e| codex_error_message(&e))
        })
    };
    let error = why.map(|why| ProgramError {
        message: format!("Codex CLI reported an error: {why}"),
        over_budget: false,
    });
    let answer = answer_line
        .and_then(|line| serde_json::from_str::<Value>(line).ok())
        .and_then(|event| event["item"]["text"].as_str().map(str::to_string));
    Ok(Transcript {
        answer,
        structured: None,
        usage,
        error,
    })
}

/// Whether an `item.completed` line is an agent message. Codex writes an
/// item as `{"id":…,"type":…,` then its fields, so the first `"type"`
/// after the event's own is the item's (a message's text comes after it).
fn is_agent_message(line: &str) -> bool {
    match line.strip_prefix("{\"type\":\"item.completed\"") {
        Some(rest) => rest
            .find("\"type\":\"")
            .is_some_and(|at| rest[at + 8..].starts_with("agent_message\"")),
        // Not the layout Codex writes: parse it.
        None => serde_json::from_str::<Value>(line)
            .is_ok_and(|event| event["item"]["type"] == "agent_message"),
    }
}

/// An error event's message: Codex nests the provider's JSON error as a
/// string in `message` at times; it is kept as it is.
fn codex_error_message(error: &Value) -> String {
    match error.get("message").and_then(Value::as_str) {
        Some(message) => message.trim().to_string(),
        None => error.to_string(),
    }
}

// --- Gemini CLI --------------------------------------------------------

#[derive(Deserialize)]
struct GeminiOutput {
    response: Option<String>,
    #[serde(default)]
    stats: Value,
    error: Option<Value>,
}

fn read_gemini(stdout: &str, stderr: &str) -> Result<Transcript, Unreadable> {
    // The CLI prints its answer on stdout, but an error object on stderr
    // (after any log lines).
    let parsed = serde_json::from_str::<GeminiOutput>(stdout.trim())
        .ok()
        .or_else(|| last_json_object(stderr));
    let Some(output) = parsed else {
        return Err(Unreadable {
            message: if stdout.trim().is_empty() {
                "it printed no JSON (a `gemini_json` agent runs `gemini --output-format json`)"
                    .into()
            } else {
                "its output is not Gemini CLI's JSON object: it stopped before it finished, or \
                 it does not run with `--output-format json`"
                    .into()
            },
            usage: Usage::default(),
        });
    };
    let mut usage = Usage::default();
    if let Some(models) = output.stats.get("models").and_then(Value::as_object) {
        for model in models.values() {
            let tokens = &model["tokens"];
            usage.input_tokens += count(tokens.get("prompt"));
            // Thinking is output the model is billed for.
            usage.output_tokens += count(tokens.get("candidates")) + count(tokens.get("thoughts"));
        }
    }
    let error = output.error.map(|e| ProgramError {
        message: format!(
            "Gemini CLI reported an error: {}",
            e.get("message")
                .and_then(Value::as_str)
                .map_or_else(|| e.to_string(), |m| m.trim().to_string())
        ),
        over_budget: false,
    });
    Ok(Transcript {
        answer: output.response,
        structured: None,
        usage,
        error,
    })
}

/// The last line-started JSON object in `text` that reads as Gemini's
/// output, where it may span several lines (pretty-printed).
fn last_json_object(text: &str) -> Option<GeminiOutput> {
    text.match_indices("\n{")
        .map(|(i, _)| i + 1)
        .chain(text.starts_with('{').then_some(0))
        .filter_map(|start| {
            let mut stream =
                serde_json::Deserializer::from_str(&text[start..]).into_iter::<GeminiOutput>();
            stream.next()?.ok()
        })
        .last()
}

/// The result schema as OpenAI's structured outputs take it in strict
/// mode (which Codex CLI asks for): every object closed
/// (`additionalProperties: false`) with every property required. Stricter
/// than the part's schema at most, never looser; the runtime still
/// validates the answer against the part's own schema.
pub fn strict_schema(schema: &Value) -> Value {
    let mut schema = schema.clone();
    close_objects(&mut schema);
    schema
}

fn close_objects(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get("properties") {
                let names: Vec<Value> = properties.keys().cloned().map(Value::String).collect();
                map.insert("required".into(), Value::Array(names));
                map.insert("additionalProperties".into(), Value::Bool(false));
            }
            for child in map.values_mut() {
                close_objects(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_read_from_the_first_bytes() {
        assert_eq!(
            leading_type(r#"{"type":"turn.completed","usage":{}}"#),
            Some("turn.completed")
        );
        assert_eq!(leading_type(r#"{"usage":{},"type":"x"}"#), None);
        assert_eq!(
            parsed_type(r#"{"usage":{},"type":"x"}"#).as_deref(),
            Some("x")
        );
        assert!(is_agent_message(
            r#"{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"hi"}}"#
        ));
        assert!(!is_agent_message(
            r#"{"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"\"type\":\"agent_message\""}}"#
        ));
    }

    #[test]
    fn strict_schemas_close_every_object() {
        let schema = serde_json::json!({
            "type": "object",
            "properties": {
                "a": {"type": "string"},
                "b": {"type": "object", "properties": {"c": {"type": "integer"}}}
            },
            "required": ["a"]
        });
        assert_eq!(
            strict_schema(&schema),
            serde_json::json!({
                "type": "object",
                "properties": {
                    "a": {"type": "string"},
                    "b": {
                        "type": "object",
                        "properties": {"c": {"type": "integer"}},
                        "required": ["c"],
                        "additionalProperties": false
                    }
                },
                "required": ["a", "b"],
                "additionalProperties": false
            })
        );
    }

    /// A recorded output of a pinned version (see tests/data/agents/).
    macro_rules! recorded {
        ($name:literal) => {
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/agents/",
                $name
            ))
        };
    }

    /// The result object in a transcript's answer, as the command agent
    /// reads it.
    fn result_of(t: &Transcript) -> Result<Value, String> {
        match &t.structured {
            Some(v) => Ok(v.clone()),
            None => super::super::extract::extract_result(t.answer.as_deref().unwrap_or("")),
        }
    }

    fn greeting_schema_accepts(value: &Value) -> bool {
        let schema = serde_json::json!({
            "type": "object",
            "properties": {"greeting": {"type": "string"}},
            "required": ["greeting"],
            "additionalProperties": false
        });
        jsonschema::is_valid(&schema, value)
    }

    // --- Claude Code 2.1.197 (against the local LLM server) ---

    #[test]
    fn claude_answer_that_ignores_the_schema() {
        // Run with `--json-schema`; the tiny model never called the
        // structured-output tool and rambled instead: no structured output,
        // no JSON in the answer, a cost and tokens all the same.
        let t = read(
            Protocol::ClaudeJson,
            recorded!("claude_schema_ignored.json"),
            "",
        )
        .unwrap();
        assert_eq!(t.error, None);
        assert_eq!(t.structured, None);
        assert!(
            t.answer
                .as_deref()
                .unwrap()
                .starts_with("You can use the CLI")
        );
        assert!(result_of(&t).unwrap_err().contains("no JSON object"));
        // Cache reads are input too.
        assert_eq!(
            (t.usage.input_tokens, t.usage.output_tokens),
            (3224 + 6968, 535)
        );
        assert_eq!(t.usage.cost_usd, Some(0.032979));
    }

    #[test]
    fn claude_refusal_and_truncation() {
        // Asked to decline; it answered something else without a result.
        let t = read(Protocol::ClaudeJson, recorded!("claude_refusal.json"), "").unwrap();
        assert_eq!(t.error, None);
        assert!(
            t.answer
                .as_deref()
                .unwrap()
                .starts_with("You can use the Agent tool")
        );
        assert!(result_of(&t).unwrap_err().contains("no JSON object"));
        assert!(t.usage.cost_usd.unwrap() > 0.0);
        // `stream-json` killed after 25 s: only the `system` event.
        let error = read(
            Protocol::ClaudeJson,
            recorded!("claude_truncated.jsonl"),
            "",
        )
        .unwrap_err();
        assert!(
            error.message.contains("stopped before it finished"),
            "{}",
            error.message
        );
        assert_eq!(error.usage.total(), 0);
    }

    #[test]
    fn claude_error_with_its_cost() {
        // Recorded by `score run` (std.agents.claude_code): the answer ran
        // past the output cap; `is_error` with subtype `success`.
        let t = read(Protocol::ClaudeJson, recorded!("claude_error.json"), "").unwrap();
        let error = t.error.unwrap();
        assert_eq!(
            error.message,
            "Claude Code reported an error: API Error: Claude's response exceeded the 256 output \
             token maximum. To configure this behavior, set the CLAUDE_CODE_MAX_OUTPUT_TOKENS \
             environment variable."
        );
        assert!(!error.over_budget);
        assert_eq!(
            (t.usage.input_tokens, t.usage.output_tokens),
            (3881 + 12873, 1024)
        );
        assert_eq!(t.usage.cost_usd, Some(0.0514415));
    }

    #[test]
    fn claude_stopped_at_its_budget() {
        // Recorded by `score run` with `budget usd 0.000001`: the runtime
        // passed `--max-budget-usd 0.000001`; the tokens are only in
        // `modelUsage`.
        let t = read(
            Protocol::ClaudeJson,
            recorded!("claude_budget_error.json"),
            "",
        )
        .unwrap();
        let error = t.error.unwrap();
        assert!(error.over_budget);
        assert_eq!(
            error.message,
            "Claude Code stopped with `error_max_budget_usd`: Reached maximum budget ($0.000001)"
        );
        assert_eq!(t.usage.cost_usd, Some(0.0251665));
        assert!(
            t.usage.input_tokens > 0 && t.usage.output_tokens > 0,
            "{:?}",
            t.usage
        );
    }

    #[test]
    fn claude_stream_json_ends_with_the_same_result() {
        let t = read(Protocol::ClaudeJson, recorded!("claude_stream.jsonl"), "").unwrap();
        assert!(
            t.error
                .unwrap()
                .message
                .contains("256 output token maximum")
        );
        assert!(t.usage.cost_usd.unwrap() > 0.0);
        assert!(t.usage.input_tokens > 0);
        // Cut before its result (the process was killed): unreadable, but
        // the tokens of the assistant messages so far still count.
        let recorded = recorded!("claude_stream.jsonl");
        let cut = &recorded[..recorded.trim_end().rfind('\n').unwrap()];
        let error = read(Protocol::ClaudeJson, cut, "").unwrap_err();
        assert!(
            error
                .message
                .contains("does not end with Claude Code's `result`"),
            "{}",
            error.message
        );
        let error = read(Protocol::ClaudeJson, "", "").unwrap_err();
        assert!(
            error.message.contains("printed nothing"),
            "{}",
            error.message
        );
    }

    // --- Codex CLI 0.171.0 (against the local LLM server) ---

    #[test]
    fn codex_success_after_a_reconnect() {
        // The server was slow to start answering: Codex reconnected (an
        // `error` event) and the turn then completed.
        let t = read(Protocol::CodexJsonl, recorded!("codex_success.jsonl"), "").unwrap();
        assert_eq!(t.error, None);
        assert_eq!(
            result_of(&t).unwrap(),
            serde_json::json!({"greeting": "Hello, codegorper"})
        );
        assert_eq!((t.usage.input_tokens, t.usage.output_tokens), (4785, 23));
        assert_eq!(t.usage.cost_usd, None);
    }

    #[test]
    fn codex_errors() {
        // The endpoint answered 404: five reconnects, then a failed turn,
        // which says why.
        let t = read(Protocol::CodexJsonl, recorded!("codex_error.jsonl"), "").unwrap();
        let error = t.error.unwrap();
        assert_eq!(
            error.message,
            "Codex CLI reported an error: unexpected status 404 Not Found: File Not Found, url: \
             http://127.0.0.1:8093/nope/v1/responses"
        );
        assert_eq!(t.answer, None);
        assert_eq!(t.usage.total(), 0);
        // Nothing listening: it kept reconnecting until it was stopped.
        let t = read(
            Protocol::CodexJsonl,
            recorded!("codex_unreachable.jsonl"),
            "",
        )
        .unwrap();
        let error = t.error.unwrap();
        assert!(
            error.message.contains("waiting for network"),
            "{}",
            error.message
        );
    }

    #[test]
    fn codex_truncated() {
        // Killed while the model was still answering.
        let error = read(Protocol::CodexJsonl, recorded!("codex_truncated.jsonl"), "").unwrap_err();
        assert!(
            error.message.contains("ends before the turn did"),
            "{}",
            error.message
        );
        assert_eq!(error.usage.total(), 0);
        let error = read(Protocol::CodexJsonl, "", "").unwrap_err();
        assert!(
            error.message.contains("printed nothing"),
            "{}",
            error.message
        );
        let error = read(Protocol::CodexJsonl, "Reading prompt from stdin...\n", "").unwrap_err();
        assert!(
            error.message.contains("no Codex CLI events"),
            "{}",
            error.message
        );
    }

    #[test]
    fn codex_answer_that_violates_the_schema() {
        // Recorded by `score run` (std.agents.codex, `--output-schema`
        // given): the model answered with an object of the wrong shape,
        // which the runtime's validation rejects.
        let t = read(
            Protocol::CodexJsonl,
            recorded!("codex_schema_violation.jsonl"),
            "",
        )
        .unwrap();
        assert_eq!(t.error, None);
        assert_eq!((t.usage.input_tokens, t.usage.output_tokens), (5496, 138));
        let value = result_of(&t).unwrap();
        assert_eq!(value["name"], serde_json::json!({"type": "string"}));
        let schema = serde_json::json!({
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "required": ["name"],
            "additionalProperties": false
        });
        assert!(!jsonschema::is_valid(&schema, &value));
    }

    #[test]
    fn codex_refusal() {
        let t = read(Protocol::CodexJsonl, recorded!("codex_refusal.jsonl"), "").unwrap();
        assert_eq!(t.error, None);
        assert_eq!(t.answer.as_deref(), Some("I am not capable of helping."));
        assert!(result_of(&t).unwrap_err().contains("no JSON object"));
        assert_eq!((t.usage.input_tokens, t.usage.output_tokens), (4787, 8));
    }

    // --- Gemini CLI 0.61.0 (against a stand-in Gemini API on 127.0.0.1) ---

    #[test]
    fn gemini_success() {
        let t = read(
            Protocol::GeminiJson,
            recorded!("gemini_success.json"),
            recorded!("gemini_success.stderr"),
        )
        .unwrap();
        assert_eq!(t.error, None);
        assert_eq!(t.answer.as_deref(), Some("{\"greeting\": \"hello\"}"));
        assert_eq!(
            result_of(&t).unwrap(),
            serde_json::json!({"greeting": "hello"})
        );
        // The router's call and the main one, summed per model.
        assert_eq!((t.usage.input_tokens, t.usage.output_tokens), (10240, 18));
        assert_eq!(t.usage.cost_usd, None);
    }

    #[test]
    fn gemini_errors_come_on_stderr() {
        // The API refused the key (HTTP 400); the CLI exits with an error
        // object on stderr after its stack traces.
        let t = read(
            Protocol::GeminiJson,
            recorded!("gemini_error.json"),
            recorded!("gemini_error.stderr"),
        )
        .unwrap();
        let error = t.error.unwrap();
        assert!(
            error.message.contains("API key not valid"),
            "{}",
            error.message
        );
        assert!(!error.over_budget);
        assert_eq!(t.usage.total(), 0);
        let t = read(
            Protocol::GeminiJson,
            recorded!("gemini_autherror.json"),
            recorded!("gemini_autherror.stderr"),
        )
        .unwrap();
        assert!(
            t.error
                .unwrap()
                .message
                .contains("Invalid auth method selected")
        );
    }

    #[test]
    fn gemini_refusal_schema_violation_and_truncation() {
        let t = read(Protocol::GeminiJson, recorded!("gemini_refusal.json"), "").unwrap();
        assert_eq!(t.error, None);
        assert_eq!(t.answer.as_deref(), Some("I cannot help with that."));
        assert!(result_of(&t).unwrap_err().contains("no JSON object"));
        let t = read(
            Protocol::GeminiJson,
            recorded!("gemini_schema_violation.json"),
            "",
        )
        .unwrap();
        let value = result_of(&t).unwrap();
        assert_eq!(value, serde_json::json!({"count": "many"}));
        assert!(!greeting_schema_accepts(&value));
        // Killed before it printed anything.
        let error = read(Protocol::GeminiJson, recorded!("gemini_truncated.json"), "").unwrap_err();
        assert!(
            error.message.contains("printed no JSON"),
            "{}",
            error.message
        );
    }

    #[test]
    fn plain_reads_nothing() {
        assert_eq!(
            read(Protocol::Plain, "{\"a\": 1}", "").unwrap(),
            Transcript::default()
        );
    }
}
