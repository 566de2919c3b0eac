//! A scripted LLM server for tests: real HTTP/1.1 on 127.0.0.1, written by
//! hand over `std::net` so that faults (resets, malformed bodies, stalls)
//! can be injected exactly where a test wants them.
//!
//! It speaks both protocols the runtime uses, `POST /v1/chat/completions`
//! (OpenAI) and `POST /v1/messages` (Anthropic), records every request, and
//! answers each path from its own queue of [`Step`]s. With an empty queue it
//! answers a completion holding a value that satisfies the request's result
//! schema (from `response_format`, or else the schema block of the prompt),
//! so that it can also stand behind a whole `score run`: it only listens;
//! point an agent's `endpoint` at [`LlmServer::url`].
//!
//! Part of `tests/support` (`mod support;`, then `support::llm_server`).

use serde_json::{Map, Value, json};
use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// The OpenAI path.
pub const CHAT: &str = "/v1/chat/completions";
/// The Anthropic path.
pub const MESSAGES: &str = "/v1/messages";

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Step {
    /// A completion whose text is `content`.
    Complete {
        content: String,
        input_tokens: u64,
        output_tokens: u64,
    },
    /// A completion cut off at the token limit (`finish_reason: "length"`,
    /// `stop_reason: "max_tokens"`).
    Truncated { content: String },
    /// A refusal (OpenAI's `message.refusal`; Anthropic's `stop_reason:
    /// "refusal"`).
    Refusal(String),
    /// 429 with `Retry-After: retry_after` (seconds or an HTTP date).
    RateLimited { retry_after: String },
    /// An error status with the provider's error body holding `message`.
    Error { status: u16, message: String },
    /// Read the request, then close the connection without answering.
    Close,
    /// Read the request, then reset the connection (TCP RST).
    Reset,
    /// 200 with exactly this body (not JSON, or JSON of the wrong shape).
    Malformed(String),
    /// Exactly this status, extra headers and body.
    Raw {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Wait `delay`, then play `then`.
    Slow { delay: Duration, then: Box<Step> },
}

impl Step {
    /// A completion with `content` and usage 11 in / 7 out.
    pub fn complete(content: impl Into<String>) -> Step {
        Step::Complete {
            content: content.into(),
            input_tokens: 11,
            output_tokens: 7,
        }
    }

    /// A completion whose content is `value` in a fenced `json` block.
    pub fn json(value: &Value) -> Step {
        Step::complete(format!("Done.\n\n```json\n{value:#}\n```\n"))
    }

    pub fn rate_limited(retry_after: impl Into<String>) -> Step {
        Step::RateLimited {
            retry_after: retry_after.into(),
        }
    }

    pub fn error(status: u16, message: impl Into<String>) -> Step {
        Step::Error {
            status,
            message: message.into(),
        }
    }

    pub fn server_error() -> Step {
        Step::error(
            500,
            "The server had an error while processing your request.",
        )
    }

    pub fn slow(delay: Duration, then: Step) -> Step {
        Step::Slow {
            delay,
            then: Box::new(then),
        }
    }
}

/// A request as the server received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The whole request as text, headers included (to look for secrets).
    pub fn text(&self) -> String {
        let mut text = format!("{} {}\n", self.method, self.path);
        for (name, value) in &self.headers {
            text.push_str(&format!("{name}: {value}\n"));
        }
        text.push_str(&String::from_utf8_lossy(&self.body));
        text
    }
}

#[derive(Default)]
struct Shared {
    scripts: Mutex<HashMap<String, VecDeque<Step>>>,
    requests: Mutex<Vec<Recorded>>,
    stop: AtomicBool,
    /// Numbers the completions' ids.
    served: AtomicU64,
}

/// The running server; it stops when dropped.
pub struct LlmServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl LlmServer {
    /// Listen on an ephemeral port of 127.0.0.1.
    pub fn start() -> std::io::Result<LlmServer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let acceptor = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if shared.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let shared = Arc::clone(&shared);
                    std::thread::spawn(move || serve(stream, &shared));
                }
            })
        };
        Ok(LlmServer {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// The base URL to use as an agent's `endpoint`: `http://127.0.0.1:PORT/v1`.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queue `steps` for `path` ([`CHAT`] or [`MESSAGES`]), after any
    /// already queued.
    pub fn push(&self, path: &str, steps: impl IntoIterator<Item = Step>) {
        lock(&self.shared.scripts)
            .entry(path.to_string())
            .or_default()
            .extend(steps);
    }

    /// How many steps of `path` are still queued.
    pub fn pending(&self, path: &str) -> usize {
        lock(&self.shared.scripts)
            .get(path)
            .map_or(0, VecDeque::len)
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.shared.requests).clone()
    }

    /// The requests received on `path`.
    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
}

impl Drop for LlmServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor, blocked in `accept`, so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// A poisoned lock only means another test thread panicked; the data is
/// still what it was.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// One connection: one request, one answer, then close (`Connection:
/// close`), so that every scripted step meets a request of its own.
fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(request) = read_request(&stream) else {
        return;
    };
    lock(&shared.requests).push(request.clone());
    let step = lock(&shared.scripts)
        .get_mut(&request.path)
        .and_then(VecDeque::pop_front);
    let number = shared.served.fetch_add(1, Ordering::SeqCst) + 1;
    let step = match step {
        Some(step) => step,
        None if request.method != "POST" => Step::error(405, "only POST is served here"),
        None if protocol(&request.path).is_none() => {
            Step::error(404, format!("no route for {}", request.path))
        }
        None => default_step(&request),
    };
    play(stream, &request, step, number);
}

fn read_request(stream: &TcpStream) -> Option<Recorded> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Recorded {
        method,
        path,
        headers,
        body,
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Protocol {
    OpenAi,
    Anthropic,
}

/// The protocol served on `path`: only the exact paths, so that an agent
/// with a wrong endpoint meets a 404 as it would in the wild.
fn protocol(path: &str) -> Option<Protocol> {
    match path {
        CHAT => Some(Protocol::OpenAi),
        MESSAGES => Some(Protocol::Anthropic),
        _ => None,
    }
}

fn play(mut stream: TcpStream, request: &Recorded, step: Step, number: u64) {
    let proto = protocol(&request.path).unwrap_or(Protocol::OpenAi);
    let model = request.json()["model"]
        .as_str()
        .unwrap_or("test-model")
        .to_string();
    let (status, headers, body): (u16, Vec<(String, String)>, String) = match step {
        Step::Slow { delay, then } => {
            std::thread::sleep(delay);
            return play(stream, request, *then, number);
        }
        Step::Close => {
            let _ = stream.shutdown(Shutdown::Both);
            return;
        }
        Step::Reset => {
            reset(stream);
            return;
        }
        Step::Complete {
            content,
            input_tokens,
            output_tokens,
        } => (
            200,
            vec![],
            completion(
                proto,
                number,
                &model,
                Some(&content),
                None,
                "stop",
                input_tokens,
                output_tokens,
            ),
        ),
        Step::Truncated { content } => (
            200,
            vec![],
            completion(
                proto,
                number,
                &model,
                Some(&content),
                None,
                "length",
                11,
                100,
            ),
        ),
        Step::Refusal(reason) => (
            200,
            vec![],
            completion(proto, number, &model, None, Some(&reason), "stop", 11, 3),
        ),
        Step::RateLimited { retry_after } => (
            429,
            vec![("Retry-After".to_string(), retry_after)],
            error_body(proto, 429, "Rate limit reached; try again later."),
        ),
        Step::Error { status, message } => (status, vec![], error_body(proto, status, &message)),
        Step::Malformed(body) => (200, vec![], body),
        Step::Raw {
            status,
            headers,
            body,
        } => (status, headers, body),
    };
    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        reason(status),
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    // The client may have given up (a timeout test): nothing to do then.
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
}

/// Close with a TCP reset rather than an orderly FIN: `SO_LINGER` with a
/// zero timeout makes `close` discard the connection.
#[cfg(unix)]
fn reset(stream: TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a `linger` of the right size.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(stream);
}

#[cfg(not(unix))]
fn reset(stream: TcpStream) {
    let _ = stream.shutdown(Shutdown::Both);
}

#[allow(clippy::too_many_arguments)]
fn completion(
    proto: Protocol,
    number: u64,
    model: &str,
    content: Option<&str>,
    refusal: Option<&str>,
    finish: &str,
    input_tokens: u64,
    output_tokens: u64,
) -> String {
    match proto {
        Protocol::OpenAi => json!({
            "id": format!("chatcmpl-{number}"),
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish,
            }],
            "usage": {
                "prompt_tokens": input_tokens,
                "completion_tokens": output_tokens,
                "total_tokens": input_tokens + output_tokens,
            },
        }),
        Protocol::Anthropic => {
            let stop_reason = match (finish, refusal) {
                (_, Some(_)) => "refusal",
                ("length", _) => "max_tokens",
                _ => "end_turn",
            };
            let text = content.or(refusal).unwrap_or("");
            json!({
                "id": format!("msg_{number}"),
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": text}],
                "stop_reason": stop_reason,
                "stop_sequence": null,
                "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
            })
        }
    }
    .to_string()
}

fn error_body(proto: Protocol, status: u16, message: &str) -> String {
    let kind = match status {
        400 | 422 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    match proto {
        Protocol::OpenAi => {
            json!({"error": {"message": message, "type": kind, "param": null, "code": null}})
        }
        Protocol::Anthropic => {
            json!({"type": "error", "error": {"type": kind, "message": message}})
        }
    }
    .to_string()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        529 => "Overloaded",
        _ => "Status",
    }
}

/// The answer when nothing is scripted: a value for the request's result
/// schema, as bare JSON under structured output and in a fenced block
/// otherwise. Usage: a token per four bytes, so that longer prompts cost
/// more.
fn default_step(request: &Recorded) -> Step {
    let body = request.json();
    let prompt = body["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_string();
    let structured = body["response_format"]["json_schema"]["schema"].clone();
    let content = if structured.is_object() {
        sample(&structured, &structured, 0).to_string()
    } else {
        let value = match schema_in_prompt(&prompt) {
            Some(schema) => sample(&schema, &schema, 0),
            None => json!({}),
        };
        format!("Done.\n\n```json\n{value:#}\n```\n")
    };
    Step::Complete {
        input_tokens: prompt.len() as u64 / 4 + 1,
        output_tokens: content.len() as u64 / 4 + 1,
        content,
    }
}

/// The JSON Schema the prompt asks the result to match: the first fenced
/// `json` block holding an object with a `$schema` (the built-in prompt's
/// "What to return" section has one).
pub fn schema_in_prompt(prompt: &str) -> Option<Value> {
    let mut rest = prompt;
    while let Some(open) = rest.find("```json\n") {
        let block = &rest[open + "```json\n".len()..];
        let end = block.find("```")?;
        if let Ok(value) = serde_json::from_str::<Value>(&block[..end])
            && value.get("$schema").is_some()
        {
            return Some(value);
        }
        rest = &block[end + 3..];
    }
    None
}

/// A simple value valid for `schema` (as the plan writes schemas: `$ref`
/// into `$defs`, `anyOf` for optionals, records with `required`), resolved
/// against `root`.
pub fn sample(schema: &Value, root: &Value, depth: usize) -> Value {
    if depth > 32 {
        return Value::Null;
    }
    if let Some(reference) = schema["$ref"].as_str() {
        let target = reference
            .strip_prefix('#')
            .and_then(|pointer| root.pointer(pointer));
        return target.map_or(Value::Null, |t| sample(t, root, depth + 1));
    }
    if let Some(value) = schema.get("const") {
        return value.clone();
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return first.clone();
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = schema[key].as_array().and_then(|a| a.first()) {
            return sample(first, root, depth + 1);
        }
    }
    let ty = match &schema["type"] {
        Value::String(ty) => ty.as_str(),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or("null"),
        _ if schema.get("properties").is_some() => "object",
        _ => "null",
    };
    match ty {
        "object" => {
            let mut object = Map::new();
            for name in schema["required"].as_array().into_iter().flatten() {
                if let Some(name) = name.as_str() {
                    let property = &schema["properties"][name];
                    object.insert(name.to_string(), sample(property, root, depth + 1));
                }
            }
            Value::Object(object)
        }
        "array" => {
            let items = schema["minItems"].as_u64().unwrap_or(0);
            Value::Array(
                (0..items)
                    .map(|_| sample(&schema["items"], root, depth + 1))
                    .collect(),
            )
        }
        "string" => json!("text"),
        "integer" => json!(schema["minimum"].as_i64().unwrap_or(1).max(1)),
        "number" => json!(schema["minimum"].as_f64().unwrap_or(1.0).max(1.0)),
        "boolean" => json!(true),
        _ => Value::Null,
    }
}
