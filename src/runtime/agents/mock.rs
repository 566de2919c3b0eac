//! The built-in `mock` agent: answers every task with a value generated
//! from its result schema, after an optional delay, failing now and then
//! when asked to.
//!
//! Everything is reproducible: the failure decision and the value depend
//! only on the agent's `seed` and the attempt's seed (which the runtime
//! derives from the task's hash and the attempt number). So a mock run can
//! be replayed, and a retry of a failed attempt may succeed.
//!
//! Token usage is made up but plausible, so that budgets can be exercised
//! with the mock: input tokens = characters of the prompt / 4, output
//! tokens = characters of the result as compact JSON / 4 (both rounded up),
//! the usual rule of thumb for English text.

use super::mock_values::{generate, mix};
use crate::runtime::agent::{AgentError, AttemptRequest, BoxFuture, Performer, Reply, Usage};
use std::time::Duration;

/// Salts that make the failure decision and the value independent.
const FAIL_SALT: u64 = 0x6661_696c; // "fail"
const VALUE_SALT: u64 = 0x7661_6c75; // "valu"

/// Answers with values generated from the result schema.
#[derive(Debug)]
pub struct MockAgent {
    latency: Duration,
    fail_rate: f64,
    seed: u64,
}

impl MockAgent {
    /// `latency`: how long each attempt takes (zero: it answers at once);
    /// `fail_rate`: the probability, from 0 to 1, that an attempt fails
    /// (values outside are clamped); `seed`: varies the answers and
    /// failures between otherwise identical runs.
    pub fn new(latency: Duration, fail_rate: f64, seed: u64) -> MockAgent {
        MockAgent {
            latency,
            fail_rate,
            seed,
        }
    }

    /// Whether the attempt with this seed fails.
    fn fails(&self, request_seed: u64) -> bool {
        if self.fail_rate.is_nan() || self.fail_rate <= 0.0 {
            return false;
        }
        // 53 random bits: a uniform number in [0, 1).
        let draw = (mix(self.seed, request_seed ^ FAIL_SALT) >> 11) as f64 / (1u64 << 53) as f64;
        draw < self.fail_rate
    }

    /// The attempt, without the delay.
    fn answer(&self, request: &AttemptRequest) -> Result<Reply, AgentError> {
        let input_tokens = tokens(request.prompt.chars().count());
        if self.fails(request.seed) {
            return Err(AgentError::Failed {
                message: format!(
                    "the mock failed this attempt on purpose (fail_rate {})",
                    self.fail_rate
                ),
                usage: Usage {
                    input_tokens,
                    output_tokens: 0,
                    cost_usd: None,
                },
            });
        }
        let result = value(self.seed, request.seed, &request.result_schema);
        let output_tokens = tokens(json_chars(&result));
        Ok(Reply {
            result: Ok(result),
            usage: Usage {
                input_tokens,
                output_tokens,
                cost_usd: None,
            },
        })
    }
}

impl Performer for MockAgent {
    fn perform<'a>(
        &'a self,
        request: &'a AttemptRequest,
    ) -> BoxFuture<'a, Result<Reply, AgentError>> {
        Box::pin(async move {
            // No timer at all when there is no latency: benchmarks dispatch
            // thousands of mock tasks and measure the runtime's overhead.
            // Otherwise a fine timer: the latency is what benchmarks of
            // makespan are built from (see `timer`).
            if !self.latency.is_zero() {
                super::timer::sleep(self.latency).await;
            }
            self.answer(request)
        })
    }
}

/// The value a mock of seed `agent_seed` answers an attempt of seed
/// `request_seed` with (when it does not fail): what `score run
/// --rehearse` shows without running anything.
pub(crate) fn value(
    agent_seed: u64,
    request_seed: u64,
    result_schema: &serde_json::Value,
) -> serde_json::Value {
    generate(result_schema, mix(agent_seed, request_seed ^ VALUE_SALT))
}

/// The rule of thumb: a token is about four characters.
fn tokens(chars: usize) -> u64 {
    (chars as u64).div_ceil(4)
}

/// The length in characters of `value` as compact JSON.
fn json_chars(value: &serde_json::Value) -> usize {
    serde_json::to_string(value).map_or(0, |text| text.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::agent::AttemptFiles;
    use serde_json::json;
    use std::path::Path;

    fn request(seed: u64) -> AttemptRequest {
        AttemptRequest {
            task: "store".into(),
            attempt: 1,
            prompt: "x".repeat(400),
            result_schema: json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {
                    "topic": {"type": "string"},
                    "count": {"type": "integer"}
                },
                "required": ["topic", "count"],
                "additionalProperties": false
            }),
            has_outputs: true,
            workspace: "/nonexistent".into(),
            files: AttemptFiles::new(Path::new("/nonexistent/logs"), "store", 1),
            timeout: Duration::from_secs(1),
            seed,
            confinement: Default::default(),
            contract: None,
            budget_usd: None,
        }
    }

    #[tokio::test]
    async fn answers_with_a_schema_valid_value_and_plausible_usage() {
        let agent = MockAgent::new(Duration::ZERO, 0.0, 7);
        let request = request(42);
        let reply = agent.perform(&request).await.unwrap();
        let result = reply.result.unwrap();
        let validator = jsonschema::draft202012::new(&request.result_schema).unwrap();
        assert!(validator.is_valid(&result), "{result}");
        assert!(result["topic"].as_str().unwrap().starts_with("topic-"));
        assert_eq!(reply.usage.input_tokens, 100);
        let chars = serde_json::to_string(&result).unwrap().len() as u64;
        assert_eq!(reply.usage.output_tokens, chars.div_ceil(4));
        assert!(reply.usage.output_tokens > 0);
    }

    #[tokio::test]
    async fn is_deterministic_and_depends_on_both_seeds() {
        let value = |agent_seed, request_seed| {
            let agent = MockAgent::new(Duration::ZERO, 0.0, agent_seed);
            agent
                .answer(&request(request_seed))
                .unwrap()
                .result
                .unwrap()
        };
        assert_eq!(value(1, 2), value(1, 2));
        assert_ne!(value(1, 2), value(1, 3));
        assert_ne!(value(1, 2), value(5, 2));
    }

    #[test]
    fn fails_at_about_the_rate_asked_and_says_why() {
        let agent = MockAgent::new(Duration::ZERO, 0.3, 9);
        let failures = (0..10_000u64).filter(|s| agent.fails(*s)).count();
        assert!((2_700..3_300).contains(&failures), "{failures} failures");
        let seed = (0..).find(|s| agent.fails(*s)).unwrap();
        match agent.answer(&request(seed)) {
            Err(AgentError::Failed { message, usage }) => {
                assert_eq!(
                    message,
                    "the mock failed this attempt on purpose (fail_rate 0.3)"
                );
                assert_eq!(usage.input_tokens, 100);
                assert_eq!(usage.output_tokens, 0);
            }
            other => panic!("expected a failure, got {other:?}"),
        }
        // The same attempt fails again; the decision is not a coin flip.
        assert!(agent.answer(&request(seed)).is_err());
    }

    #[test]
    fn rates_at_the_edges() {
        let never = MockAgent::new(Duration::ZERO, 0.0, 1);
        let always = MockAgent::new(Duration::ZERO, 1.0, 1);
        let nonsense = MockAgent::new(Duration::ZERO, f64::NAN, 1);
        for seed in 0..1000 {
            assert!(!never.fails(seed));
            assert!(always.fails(seed));
            assert!(!nonsense.fails(seed));
        }
    }

    #[tokio::test]
    async fn waits_its_latency() {
        let agent = MockAgent::new(Duration::from_millis(50), 0.0, 1);
        let start = std::time::Instant::now();
        agent.perform(&request(1)).await.unwrap();
        assert!(start.elapsed() >= Duration::from_millis(50));
    }

    #[test]
    fn without_latency_it_needs_no_timer() {
        // Polled outside any runtime: a `sleep` would panic for lack of a
        // timer, so this proves zero latency skips it.
        let agent = MockAgent::new(Duration::ZERO, 0.0, 1);
        let request = request(1);
        let mut future = agent.perform(&request);
        let waker = std::task::Waker::noop();
        let mut context = std::task::Context::from_waker(waker);
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(reply) => assert!(reply.unwrap().result.is_ok()),
            std::task::Poll::Pending => panic!("a mock without latency answers at once"),
        }
    }

    #[test]
    fn a_task_without_outputs_gets_an_empty_object() {
        let agent = MockAgent::new(Duration::ZERO, 0.0, 1);
        let mut request = request(3);
        request.has_outputs = false;
        request.result_schema = json!({
            "type": "object", "properties": {}, "required": [], "additionalProperties": false
        });
        assert_eq!(agent.answer(&request).unwrap().result.unwrap(), json!({}));
    }
}
