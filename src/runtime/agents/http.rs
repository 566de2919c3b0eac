//! The HTTP transport shared by the API agents ([`super::openai`],
//! [`super::anthropic`]).
//!
//! One [`HttpClient`] per agent (so the agent's tasks share a connection
//! pool) posts JSON and keeps trying through what is the network's or the
//! provider's trouble rather than the agent's: 429, 408 and 5xx answers,
//! connection errors, timeouts, and malformed bodies are retried with
//! exponential backoff and full jitter, honouring `Retry-After`. These
//! retries are not attempts: when they run out the attempt ends with
//! [`AgentError::Transport`], which does not consume the task's retries.
//! Answers that retrying cannot change end the attempt at once: 401/403 and
//! 404 are [`AgentError::Setup`] (a wrong key, endpoint or model), any other
//! 4xx is [`AgentError::Failed`] with the server's message.
//!
//! Every exchange's request and response bodies (never headers: that is
//! where keys are) are appended to the attempt's transcript, one JSON object
//! per line, so that a user can see what was said.

use super::Secret;
use super::extract::extract_result;
use crate::runtime::agent::{AgentError, AttemptRequest};
use crate::runtime::redact::Redactor;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION, RETRY_AFTER};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The variable that sets [`RetryPolicy::retries`].
pub const RETRIES_ENV: &str = "SCORE_HTTP_RETRIES";
/// The variable that sets [`RetryPolicy::base`], in milliseconds.
pub const BACKOFF_ENV: &str = "SCORE_HTTP_BACKOFF_MS";
/// The variable that sets [`RetryPolicy::request_timeout`], in milliseconds.
pub const TIMEOUT_ENV: &str = "SCORE_HTTP_TIMEOUT_MS";

/// The longest `Retry-After` honoured. A server asking for more is treated
/// as down for now: the attempt ends as a transport failure instead of
/// silently stalling the run.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// How long establishing a connection may take before it counts as a
/// connection error (and is retried).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// How an [`HttpClient`] retries transport faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first try (so at most `retries + 1` requests).
    pub retries: u32,
    /// The backoff before the first retry; it doubles with every retry.
    pub base: Duration,
    /// The longest backoff (a `Retry-After` from the server is honoured
    /// beyond it, up to [`MAX_RETRY_AFTER`]).
    pub max_delay: Duration,
    /// How long one HTTP request may take before it is abandoned and
    /// retried; `None`: no limit of its own (the attempt's timeout bounds
    /// it). Off by default because a slow model is not a fault, and
    /// retrying a long generation pays for it twice.
    pub request_timeout: Option<Duration>,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            retries: 6,
            base: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            request_timeout: None,
        }
    }
}

impl RetryPolicy {
    /// The default policy, tuned by `SCORE_HTTP_RETRIES`,
    /// `SCORE_HTTP_BACKOFF_MS` and `SCORE_HTTP_TIMEOUT_MS` in the process
    /// environment.
    pub fn from_env() -> Result<RetryPolicy, String> {
        RetryPolicy::from_lookup(&|name| std::env::var(name).ok())
    }

    /// [`RetryPolicy::from_env`] with the variables looked up by `env` (the
    /// agents' factory passes its own lookup; tests pass a map). An unset
    /// or empty variable keeps the default; a malformed one is an error
    /// that names it.
    pub fn from_lookup(env: &dyn Fn(&str) -> Option<String>) -> Result<RetryPolicy, String> {
        let number = |name: &str, what: &str| -> Result<Option<u64>, String> {
            match env(name) {
                None => Ok(None),
                Some(value) if value.trim().is_empty() => Ok(None),
                Some(value) => value.trim().parse::<u64>().map(Some).map_err(|_| {
                    format!(
                        "the environment variable `{name}` must be {what}, like `{name}=6`; it is `{}`",
                        value.trim()
                    )
                }),
            }
        };
        let mut policy = RetryPolicy::default();
        if let Some(retries) = number(RETRIES_ENV, "a whole number of retries")? {
            policy.retries = u32::try_from(retries).unwrap_or(u32::MAX);
        }
        if let Some(ms) = number(BACKOFF_ENV, "a whole number of milliseconds")? {
            policy.base = Duration::from_millis(ms);
            // A base above the cap would make every backoff the cap.
            policy.max_delay = policy.max_delay.max(policy.base);
        }
        if let Some(ms) = number(TIMEOUT_ENV, "a whole number of milliseconds")? {
            policy.request_timeout = (ms > 0).then(|| Duration::from_millis(ms));
        }
        Ok(policy)
    }

    /// The backoff before retry `retry` (0 for the first retry) when the
    /// server did not say how long to wait: "full jitter", a uniformly
    /// random wait between 0 and `min(max_delay, base * 2^retry)`, so that
    /// many tasks failing together do not come back together. `unit` is
    /// the random draw in `[0, 1)`.
    pub fn backoff(&self, retry: u32, unit: f64) -> Duration {
        let ceiling = self
            .base
            .checked_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX))
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        ceiling.mul_f64(unit.clamp(0.0, 1.0))
    }
}

/// A JSON POST for [`HttpClient::post_json`].
#[derive(Debug)]
pub struct Post<'a> {
    pub url: &'a str,
    /// The provider's headers, the key among them (mark it sensitive).
    pub headers: HeaderMap,
    pub body: &'a Value,
    /// The API key, to scrub from anything written or returned (a server
    /// may quote it back in an error).
    pub key: Option<&'a Secret>,
    /// The environment variable the key comes from, to name in messages.
    pub key_env: Option<&'a str>,
    /// The attempt's `transcript` file.
    pub transcript: &'a Path,
    /// Masks the run's secrets and the key, in every encoding, in
    /// everything written or returned.
    pub redactor: Arc<Redactor>,
    /// The attempt's timeout: no backoff is started that would end after it.
    pub budget: Duration,
    /// Varies the jitter between tasks.
    pub seed: u64,
}

impl<'a> Post<'a> {
    /// The request of one attempt: its transcript file, its timeout and its
    /// seed come from the attempt.
    pub fn for_attempt(
        url: &'a str,
        headers: HeaderMap,
        body: &'a Value,
        key: (Option<&'a Secret>, Option<&'a str>),
        attempt: &'a AttemptRequest,
    ) -> Post<'a> {
        Post {
            url,
            headers,
            body,
            key: key.0,
            key_env: key.1,
            transcript: &attempt.files.transcript,
            redactor: (attempt.confinement.redactor).including(key.0.map(Secret::expose)),
            budget: attempt.timeout,
            seed: attempt.seed,
        }
    }
}

/// A JSON-over-HTTP client with the retries described in the module
/// documentation.
#[derive(Clone, Debug)]
pub struct HttpClient {
    client: reqwest::Client,
    policy: RetryPolicy,
}

/// What one exchange came to.
enum Outcome<T> {
    Done(T),
    /// A transport fault: retry, after the server's `Retry-After` if any.
    Retry {
        problem: String,
        retry_after: Option<Duration>,
    },
    Fatal(AgentError),
}

/// Makes `ring` the process's TLS crypto provider, once. reqwest is built
/// without a provider (`rustls-no-provider`: the default one, aws-lc-rs, is
/// a long C build), and it panics when a client is built with none. If
/// something else installed one first, that one stays.
fn install_crypto_provider() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

impl HttpClient {
    pub fn new(policy: RetryPolicy) -> Result<HttpClient, String> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            // A redirected POST turns into a GET, and a redirect to another
            // host would carry the key in a header reqwest does not know to
            // drop (`x-api-key`): report redirects instead of following them.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("score/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot set up the HTTP client: {}", error_chain(&e)))?;
        Ok(HttpClient { client, policy })
    }

    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    /// POST `post.body` to `post.url` until an answer arrives that `read`
    /// accepts, a fatal answer arrives, or the retries run out. `read`
    /// turns a 2xx body into what the agent needs; its `Err` says what the
    /// body lacks, and such a body is retried like any malformed one.
    pub async fn post_json<T>(
        &self,
        post: &Post<'_>,
        read: impl Fn(&Value) -> Result<T, String>,
    ) -> Result<T, AgentError> {
        let payload = match serde_json::to_vec(post.body) {
            Ok(payload) => payload,
            Err(e) => {
                return Err(AgentError::Setup {
                    message: format!("cannot encode the request to {} as JSON: {e}", post.url),
                });
            }
        };
        let deadline = Instant::now().checked_add(post.budget);
        let tries = self.policy.retries.saturating_add(1);
        let mut problem = String::new();
        for exchange in 1..=tries {
            let (next_problem, retry_after) =
                match self.exchange(post, &payload, exchange, &read).await {
                    Outcome::Done(value) => return Ok(value),
                    Outcome::Fatal(error) => return Err(error),
                    Outcome::Retry {
                        problem,
                        retry_after,
                    } => (problem, retry_after),
                };
            problem = next_problem;
            if exchange == tries {
                break;
            }
            let delay = match retry_after {
                Some(wait) if wait > MAX_RETRY_AFTER => {
                    return Err(AgentError::Transport {
                        message: format!(
                            "POST {}: {problem}; the server asks to wait {} before retrying, \
                             longer than score waits ({}); try again later",
                            post.url,
                            seconds(wait),
                            seconds(MAX_RETRY_AFTER)
                        ),
                    });
                }
                Some(wait) => wait,
                None => self
                    .policy
                    .backoff(exchange - 1, jitter(post.seed, exchange)),
            };
            if let Some(deadline) = deadline
                && Instant::now()
                    .checked_add(delay)
                    .is_none_or(|resume| resume >= deadline)
            {
                return Err(AgentError::Transport {
                    message: format!(
                        "POST {}: {problem}; gave up after {exchange} {}: waiting {} more \
                         would pass the attempt's timeout",
                        post.url,
                        plural(exchange, "try", "tries"),
                        seconds(delay)
                    ),
                });
            }
            tokio::time::sleep(delay).await;
        }
        Err(AgentError::Transport {
            message: format!(
                "POST {}: {problem}; gave up after {tries} {}. The endpoint may be down or \
                 overloaded: try again later, or allow more retries with `{RETRIES_ENV}`",
                post.url,
                plural(tries, "try", "tries")
            ),
        })
    }

    /// One request and its answer, written to the transcript.
    async fn exchange<T>(
        &self,
        post: &Post<'_>,
        payload: &[u8],
        number: u32,
        read: &impl Fn(&Value) -> Result<T, String>,
    ) -> Outcome<T> {
        let started = Instant::now();
        let mut request = self
            .client
            .post(post.url)
            .headers(post.headers.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(payload.to_vec());
        if let Some(timeout) = self.policy.request_timeout {
            request = request.timeout(timeout);
        }
        let mut entry = Entry {
            number,
            url: post.url,
            request: post.body,
            status: None,
            response: None,
            error: None,
            started,
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                let problem = redact(&describe(&e, self.policy.request_timeout), post);
                entry.error = Some(problem.clone());
                entry.append(post.transcript, &post.redactor).await;
                return Outcome::Retry {
                    problem,
                    retry_after: None,
                };
            }
        };
        let status = response.status();
        entry.status = Some(status.as_u16());
        let retry_after = retry_after(response.headers(), SystemTime::now());
        let location = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes,
            Err(e) => {
                let problem = redact(
                    &format!(
                        "HTTP {status}, then the body broke off: {}",
                        describe(&e, self.policy.request_timeout)
                    ),
                    post,
                );
                entry.error = Some(problem.clone());
                entry.append(post.transcript, &post.redactor).await;
                return Outcome::Retry {
                    problem,
                    retry_after,
                };
            }
        };
        let text = redact(&String::from_utf8_lossy(&bytes), post);
        let parsed = serde_json::from_str::<Value>(&text);
        entry.response = Some(match &parsed {
            Ok(value) => value.clone(),
            Err(_) => Value::String(text.clone()),
        });
        let outcome = classify(
            post,
            status,
            &text,
            parsed,
            retry_after,
            location.as_deref(),
            read,
        );
        match &outcome {
            Outcome::Done(_) => {}
            Outcome::Retry { problem, .. } => entry.error = Some(problem.clone()),
            Outcome::Fatal(error) => entry.error = Some(error.to_string()),
        }
        entry.append(post.transcript, &post.redactor).await;
        outcome
    }
}

/// What an answer means: see the module documentation.
fn classify<T>(
    post: &Post<'_>,
    status: StatusCode,
    text: &str,
    parsed: Result<Value, serde_json::Error>,
    retry_after: Option<Duration>,
    location: Option<&str>,
    read: &impl Fn(&Value) -> Result<T, String>,
) -> Outcome<T> {
    let says = || match server_message(text) {
        Some(message) => format!("HTTP {status}: {message}"),
        None => format!("HTTP {status}"),
    };
    if status.is_success() {
        return match parsed {
            Err(e) => Outcome::Retry {
                problem: format!(
                    "HTTP {status}, but the body is not JSON ({e}): {}",
                    clip(text)
                ),
                retry_after,
            },
            Ok(value) => match read(&value) {
                Ok(done) => Outcome::Done(done),
                Err(why) => Outcome::Retry {
                    problem: format!("HTTP {status}, but the body is not a completion: {why}"),
                    retry_after,
                },
            },
        };
    }
    match status.as_u16() {
        408 | 429 | 500..=599 => Outcome::Retry {
            problem: says(),
            retry_after,
        },
        401 | 403 => Outcome::Fatal(AgentError::Setup {
            message: match post.key_env {
                Some(var) => format!(
                    "{} refused the API key ({}); check the key in the environment variable `{var}`",
                    post.url,
                    says()
                ),
                None => format!(
                    "{} refused the request ({}); it needs an API key: set the agent's `key_env` \
                     to the environment variable that holds it",
                    post.url,
                    says()
                ),
            },
        }),
        300..=399 => Outcome::Fatal(AgentError::Setup {
            message: match location {
                Some(to) => format!(
                    "{} redirects to {to} (HTTP {status}); set the agent's `endpoint` to the \
                     new address",
                    post.url
                ),
                None => format!(
                    "{} answered with a redirect (HTTP {status}); check the agent's `endpoint`",
                    post.url
                ),
            },
        }),
        404 => Outcome::Fatal(AgentError::Setup {
            message: format!(
                "{} was not found ({}); check the agent's `endpoint` and `model`",
                post.url,
                says()
            ),
        }),
        _ => Outcome::Fatal(AgentError::Failed {
            message: format!("the API refused the request ({})", says()),
            usage: Default::default(),
        }),
    }
}

/// The result object in a model's reply `text`, for a task with outputs or
/// not: a task without outputs has returned `{}` when its reply holds no
/// object.
pub fn result_of(text: &str, has_outputs: bool) -> Result<Value, String> {
    // Structured outputs make the whole reply the object; try that first
    // so that an object holding a fenced block in a string stays whole.
    if let Ok(value @ Value::Object(_)) = serde_json::from_str::<Value>(text.trim()) {
        return Ok(value);
    }
    match extract_result(text) {
        Ok(value) => Ok(value),
        Err(_) if !has_outputs => Ok(Value::Object(Default::default())),
        Err(why) => Err(why),
    }
}

/// A non-negative count from a JSON number (providers send token counts
/// as integers; anything else counts as 0 rather than failing a reply).
pub fn count(value: &Value) -> u64 {
    value.as_u64().unwrap_or(0)
}

/// One line of the transcript.
struct Entry<'a> {
    number: u32,
    url: &'a str,
    request: &'a Value,
    status: Option<u16>,
    response: Option<Value>,
    error: Option<String>,
    started: Instant,
}

impl Entry<'_> {
    /// Append the line. A transcript is a record for the user, not part of
    /// the work: failing to write it must not fail a request that has
    /// already been paid for, so errors are ignored.
    async fn append(&self, path: &Path, redactor: &Redactor) {
        use tokio::io::AsyncWriteExt;
        let mut line = json!({
            "exchange": self.number,
            "url": self.url,
            "request": self.request,
            "status": self.status,
            "response": self.response,
            "error": self.error,
            "elapsed_ms": u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
        })
        .to_string();
        line.push('\n');
        // The request carries the prompt, masked already; the response is
        // the server's, and may quote anything back.
        let line = redactor.json_line(line.as_bytes());
        let file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .await;
        if let Ok(mut file) = file {
            let _ = file.write_all(&line).await;
            let _ = file.flush().await;
        }
    }
}

/// `text` with every form of the key and of the run's other secrets
/// masked (see [`Redactor`]).
fn redact(text: &str, post: &Post<'_>) -> String {
    post.redactor.text(text).into_owned()
}

/// The error message in an error body: OpenAI and Anthropic both send
/// `{"error": {"message": ...}}`; other servers a string `error` or
/// `message`, or plain text.
fn server_message(text: &str) -> Option<String> {
    let from_json = serde_json::from_str::<Value>(text).ok().and_then(|value| {
        let error = value.get("error");
        error
            .and_then(|e| e.get("message"))
            .or(error.filter(|e| e.is_string()))
            .or(value.get("message"))
            .or(value.get("detail"))
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    let message = from_json.unwrap_or_else(|| clip(text));
    // It is quoted inside a sentence of ours.
    let message = message.trim().trim_end_matches('.');
    (!message.is_empty()).then(|| message.to_string())
}

/// At most a few hundred characters of `text`, on one line.
fn clip(text: &str) -> String {
    const MAX: usize = 300;
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(MAX) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None => line,
    }
}

/// A send or body error in words: what kind of fault, and the innermost
/// cause (`Connection refused (os error 111)`), without reqwest's wrapping.
fn describe(error: &reqwest::Error, request_timeout: Option<Duration>) -> String {
    let cause = error_chain(error);
    if error.is_timeout() {
        match request_timeout {
            Some(limit) => format!("no complete answer within {}", seconds(limit)),
            None => format!("the request timed out: {cause}"),
        }
    } else if error.is_connect() {
        format!("cannot connect: {cause}")
    } else {
        format!("the connection failed before a complete answer: {cause}")
    }
}

/// The innermost cause of `error` (`Connection refused (os error 111)`):
/// the wrappers around it ("error sending request for url (...)", "client
/// error (Connect)") say nothing a user can act on.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    innermost.to_string()
}

/// How long the server asks to wait: `Retry-After` in seconds or as an
/// HTTP date, or `retry-after-ms` (sent by some OpenAI-compatible servers).
fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    if let Some(ms) = headers
        .get("retry-after-ms")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|ms| ms.is_finite() && *ms >= 0.0)
    {
        return Some(Duration::from_secs_f64(ms.min(1e12) / 1000.0));
    }
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)));
    }
    let at = http_date(value)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(at.saturating_sub(now)))
}

/// An HTTP date (RFC 9110 §5.6.7) as seconds since the Unix epoch: the
/// preferred `Sun, 06 Nov 1994 08:49:37 GMT`, and the obsolete
/// `Sunday, 06-Nov-94 08:49:37 GMT` and `Sun Nov  6 08:49:37 1994`.
fn http_date(text: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let tokens: Vec<&str> = text
        .split([' ', ',', '-'])
        .filter(|t| !t.is_empty())
        .collect();
    let month = tokens
        .iter()
        .find_map(|t| MONTHS.iter().position(|m| t.eq_ignore_ascii_case(m)))?
        as u64
        + 1;
    let time = tokens.iter().find(|t| t.contains(':'))?;
    let numbers: Vec<&str> = tokens
        .iter()
        .copied()
        .filter(|t| t.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    // In all three forms the day comes before the year (asctime puts the
    // month first, the others the day).
    let [day, year] = numbers.as_slice() else {
        return None;
    };
    let day: u64 = day.parse().ok()?;
    let mut year: u64 = year.parse().ok()?;
    if year < 100 {
        // RFC 850's two-digit years.
        year += if year < 70 { 2000 } else { 1900 };
    }
    let mut clock = time.split(':').map(|p| p.parse::<u64>().ok());
    let (hour, minute, second) = (clock.next()??, clock.next()??, clock.next()??);
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 || year < 1970 {
        return None;
    }
    Some(days_since_epoch(year, month, day)? * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar.
fn days_since_epoch(year: u64, month: u64, day: u64) -> Option<u64> {
    let leap = |y: u64| (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400);
    let month_days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let mut days = 0;
    for y in 1970..year {
        days += if leap(y) { 366 } else { 365 };
    }
    for (m, length) in month_days.iter().enumerate().take((month - 1) as usize) {
        days += length + u64::from(m == 1 && leap(year));
    }
    let length = month_days[(month - 1) as usize] + u64::from(month == 2 && leap(year));
    (day <= length).then_some(days + day - 1)
}

/// A random draw in `[0, 1)` for the jitter. `RandomState` is seeded
/// randomly per process and per use, which is all jitter needs; mixing in
/// the task's seed keeps two tasks apart even so.
fn jitter(seed: u64, retry: u32) -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::hash::RandomState::new().build_hasher();
    hasher.write_u64(seed);
    hasher.write_u32(retry);
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// `1.5 s`, `250 ms`.
fn seconds(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{} ms", duration.as_millis())
    } else if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

fn plural<'a>(n: u32, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_policy_reads_its_variables() {
        assert_eq!(
            RetryPolicy::from_lookup(&lookup(&[])).unwrap(),
            RetryPolicy::default()
        );
        let policy = RetryPolicy::from_lookup(&lookup(&[
            (RETRIES_ENV, "2"),
            (BACKOFF_ENV, " 5 "),
            (TIMEOUT_ENV, "1500"),
        ]))
        .unwrap();
        assert_eq!(policy.retries, 2);
        assert_eq!(policy.base, Duration::from_millis(5));
        assert_eq!(policy.max_delay, Duration::from_secs(60));
        assert_eq!(policy.request_timeout, Some(Duration::from_millis(1500)));
        let policy = RetryPolicy::from_lookup(&lookup(&[
            (BACKOFF_ENV, "120000"),
            (TIMEOUT_ENV, "0"),
            (RETRIES_ENV, ""),
        ]))
        .unwrap();
        assert_eq!(policy.max_delay, Duration::from_secs(120));
        assert_eq!(policy.request_timeout, None);
        assert_eq!(policy.retries, 6);
        let error = RetryPolicy::from_lookup(&lookup(&[(RETRIES_ENV, "many")])).unwrap_err();
        assert!(error.contains("`SCORE_HTTP_RETRIES`"), "{error}");
        assert!(error.contains("`many`"), "{error}");
        assert!(RetryPolicy::from_lookup(&lookup(&[(BACKOFF_ENV, "-1")])).is_err());
    }

    #[test]
    fn backoff_is_full_jitter_under_a_doubling_cap() {
        let policy = RetryPolicy {
            retries: 6,
            base: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            request_timeout: None,
        };
        assert_eq!(policy.backoff(0, 0.0), Duration::ZERO);
        assert_eq!(policy.backoff(0, 0.5), Duration::from_millis(50));
        assert_eq!(policy.backoff(2, 0.5), Duration::from_millis(200));
        assert_eq!(policy.backoff(3, 1.0), Duration::from_millis(800));
        assert_eq!(policy.backoff(4, 1.0), Duration::from_secs(1));
        assert_eq!(policy.backoff(200, 0.5), Duration::from_millis(500));
        for retry in 0..20 {
            let draw = jitter(7, retry);
            assert!((0.0..1.0).contains(&draw), "{draw}");
        }
    }

    #[test]
    fn retry_after_in_seconds_dates_and_milliseconds() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_770); // 1994-11-06 08:49:30
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(*name, HeaderValue::from_static(value));
            }
            map
        };
        assert_eq!(
            retry_after(&headers(&[("retry-after", "3")]), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Sun, 06 Nov 1994 08:49:37 GMT")]),
                now
            ),
            Some(Duration::from_secs(7))
        );
        // A date in the past: retry now.
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "Sat, 05 Nov 1994 08:49:37 GMT")]),
                now
            ),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after(
                &headers(&[("retry-after", "3"), ("retry-after-ms", "250")]),
                now
            ),
            Some(Duration::from_millis(250))
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")]), now), None);
        assert_eq!(retry_after(&headers(&[("retry-after", "-3")]), now), None);
        assert_eq!(retry_after(&headers(&[]), now), None);
    }

    #[test]
    fn http_dates_in_all_three_forms() {
        let expected = Some(784_111_777);
        assert_eq!(http_date("Sun, 06 Nov 1994 08:49:37 GMT"), expected);
        assert_eq!(http_date("Sunday, 06-Nov-94 08:49:37 GMT"), expected);
        assert_eq!(http_date("Sun Nov  6 08:49:37 1994"), expected);
        assert_eq!(http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
        assert_eq!(
            http_date("Tue, 29 Feb 2028 12:00:00 GMT"),
            Some(1_835_438_400)
        );
        assert_eq!(http_date("Wed, 29 Feb 2027 12:00:00 GMT"), None);
        assert_eq!(http_date("Sun, 06 Nov 1994 25:49:37 GMT"), None);
        assert_eq!(http_date("06 Nov 1994"), None);
        assert_eq!(http_date(""), None);
    }

    #[test]
    fn server_messages_from_either_provider() {
        let openai = r#"{"error": {"message": "Invalid value for 'model'", "type": "invalid_request_error"}}"#;
        assert_eq!(server_message(openai).unwrap(), "Invalid value for 'model'");
        let anthropic = r#"{"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: too large"}}"#;
        assert_eq!(server_message(anthropic).unwrap(), "max_tokens: too large");
        assert_eq!(server_message(r#"{"error": "nope"}"#).unwrap(), "nope");
        // Quoted inside our own sentences: no period of its own.
        assert_eq!(
            server_message(r#"{"message": "Slow down."}"#).unwrap(),
            "Slow down"
        );
        assert_eq!(
            server_message("<html>\n  Bad   gateway\n</html>").unwrap(),
            "<html> Bad gateway </html>"
        );
        assert_eq!(server_message("  "), None);
        assert!(clip(&"x".repeat(1000)).ends_with('…'));
    }

    #[test]
    fn keys_are_scrubbed_in_every_encoding() {
        let key = Secret::new("sk-123/456".into());
        let body = json!({});
        let mut post = post("http://x", &body, Path::new("t"), Duration::from_secs(1));
        assert_eq!(redact("bad key sk-123/456", &post), "bad key sk-123/456");
        post.redactor = Redactor::none().including([key.expose()]);
        assert_eq!(
            redact("bad key sk-123/456 (\"sk-123\\/456\", sk-123%2F456)", &post),
            "bad key *** (\"***\", ***)"
        );
    }

    #[test]
    fn results_for_tasks_with_and_without_outputs() {
        assert_eq!(result_of("{\"a\": 1}", true).unwrap(), json!({"a": 1}));
        // The whole text wins over a block inside one of its strings.
        let nested = r#"{"doc": "```json\n{\"b\": 2}\n```"}"#;
        assert_eq!(
            result_of(nested, true).unwrap(),
            json!({"doc": "```json\n{\"b\": 2}\n```"})
        );
        assert_eq!(
            result_of("Done:\n```json\n{\"a\": 2}\n```", true).unwrap(),
            json!({"a": 2})
        );
        assert!(result_of("Done.", true).is_err());
        assert_eq!(result_of("Done.", false).unwrap(), json!({}));
        assert_eq!(
            result_of("```json\n{\"x\": 1}\n```", false).unwrap(),
            json!({"x": 1})
        );
    }

    /// A port on which nothing listens: connections are refused at once.
    fn closed_port() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        format!("http://127.0.0.1:{port}/v1/x")
    }

    fn post<'a>(url: &'a str, body: &'a Value, transcript: &'a Path, budget: Duration) -> Post<'a> {
        Post {
            url,
            headers: HeaderMap::new(),
            body,
            key: None,
            key_env: None,
            transcript,
            redactor: Redactor::none(),
            budget,
            seed: 0,
        }
    }

    #[tokio::test]
    async fn an_https_endpoint_gets_a_tls_handshake() {
        // The OpenAI and Anthropic APIs are HTTPS: the client must have a
        // crypto provider (reqwest panics without one) and open with a TLS
        // ClientHello. A listener on 127.0.0.1 reads what arrives.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            use std::io::Read;
            let (mut stream, _) = listener.accept().unwrap();
            let mut head = [0u8; 3];
            stream.read_exact(&mut head).map(|_| head)
        });
        let client = HttpClient::new(RetryPolicy::default()).unwrap();
        let sent = client
            .client
            .post(format!("https://127.0.0.1:{port}/v1/chat/completions"))
            .send()
            .await;
        assert!(sent.is_err(), "the listener answers nothing");
        let head = server.join().unwrap().unwrap();
        // A TLS record (22: handshake) of protocol version 3.x.
        assert_eq!((head[0], head[1]), (22, 3), "{head:?}");
    }

    #[tokio::test]
    async fn refused_connections_are_retried_then_reported() {
        let dir = tempfile::tempdir().unwrap();
        let transcript = dir.path().join("t.transcript.json");
        let url = closed_port();
        let body = json!({"q": 1});
        let client = HttpClient::new(RetryPolicy {
            retries: 2,
            base: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            request_timeout: None,
        })
        .unwrap();
        let error = client
            .post_json(
                &post(&url, &body, &transcript, Duration::from_secs(60)),
                |_| Ok(()),
            )
            .await
            .unwrap_err();
        let AgentError::Transport { message } = &error else {
            panic!("{error:?}")
        };
        assert!(message.contains("cannot connect"), "{message}");
        assert!(message.contains("after 3 tries"), "{message}");
        assert!(message.contains(RETRIES_ENV), "{message}");
        let lines: Vec<Value> = std::fs::read_to_string(&transcript)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2]["exchange"], 3);
        assert_eq!(lines[0]["request"], body);
        assert_eq!(lines[0]["status"], Value::Null);
        assert!(
            lines[0]["error"]
                .as_str()
                .unwrap()
                .contains("cannot connect")
        );
    }

    #[tokio::test]
    async fn no_backoff_outlasts_the_attempt() {
        let dir = tempfile::tempdir().unwrap();
        let transcript = dir.path().join("t.transcript.json");
        let url = closed_port();
        let body = json!({});
        let client = HttpClient::new(RetryPolicy {
            retries: 6,
            base: Duration::from_secs(30),
            max_delay: Duration::from_secs(30),
            request_timeout: None,
        })
        .unwrap();
        let started = Instant::now();
        // Full jitter may draw a short wait; a budget of 1 ms is shorter
        // than any but a zero draw, and a zero draw just tries again.
        let error = client
            .post_json(
                &post(&url, &body, &transcript, Duration::from_millis(1)),
                |_| Ok(()),
            )
            .await
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(error.to_string().contains("attempt's timeout"), "{error}");
    }
}
