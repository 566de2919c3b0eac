//! The agents: one [`super::agent::Performer`] per provider.
//!
//! - [`mock`]: built in, deterministic, schema-valid values;
//! - [`command`]: a local program (coding-agent CLIs, scripts), whose
//!   output [`protocol`] reads;
//! - [`openai`]: an OpenAI-compatible `chat/completions` endpoint;
//! - [`anthropic`]: the Anthropic Messages API.
//!
//! [`performer`] makes the right one for an agent of the plan; it is where
//! API keys are read from the environment, once, before the run starts.

pub mod anthropic;
pub mod command;
pub mod extract;
pub mod http;
pub mod mock;
mod mock_values;
pub mod openai;
pub mod protocol;
mod timer;

use super::agent::Performer;
use crate::plan::{Agent, Provider};
use std::sync::Arc;
use std::time::Duration;

/// A secret read from the environment (an API key). It is never printed:
/// `Debug` shows `Secret(***)`, and it has no `Display`.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The secret's value, to put in a request header and nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The performer for agent `id` of the plan. `env` looks up environment
/// variables (the process environment in `score run`; a map in tests).
///
/// Fails, with a message that says what to do, when the agent needs an API
/// key whose variable is not set: this is checked before a run starts, not
/// discovered by a failed task.
pub fn performer(
    id: &str,
    agent: &Agent,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Arc<dyn Performer>, String> {
    let key = |key_env: &Option<String>| -> Result<Option<Secret>, String> {
        match key_env {
            None => Ok(None),
            Some(var) => match env(var) {
                Some(value) if !value.is_empty() => Ok(Some(Secret::new(value))),
                _ => Err(format!(
                    "agent `{id}` needs an API key in the environment variable `{var}`, which is not set; \
                     export {var}=..., or play its parts with another agent (`--agent {id}=mock`)"
                )),
            },
        }
    };
    Ok(match &agent.provider {
        Provider::Mock {
            latency_ms,
            fail_rate,
            seed,
        } => Arc::new(mock::MockAgent::new(
            Duration::from_millis(latency_ms.unwrap_or(0)),
            fail_rate.unwrap_or(0.0),
            seed.unwrap_or(0),
        )),
        Provider::Command {
            run,
            env,
            stdin_prompt,
            protocol,
            instructions,
            ..
        } => Arc::new(
            command::CommandAgent::new(run.clone(), env.clone(), *stdin_prompt)
                .with_protocol(*protocol, instructions.clone()),
        ),
        Provider::Openai {
            model,
            endpoint,
            key_env,
            temperature,
            max_tokens,
        } => Arc::new(
            openai::OpenAiAgent::new(openai::OpenAiConfig {
                model: model.clone(),
                endpoint: endpoint.clone(),
                key: key(key_env)?,
                key_env: key_env.clone(),
                temperature: *temperature,
                max_tokens: *max_tokens,
                retry: http::RetryPolicy::from_env()?,
            })
            .map_err(|e| format!("agent `{id}`: {e}"))?,
        ),
        Provider::Anthropic {
            model,
            endpoint,
            key_env,
            max_tokens,
        } => Arc::new(
            anthropic::AnthropicAgent::new(anthropic::AnthropicConfig {
                model: model.clone(),
                endpoint: endpoint.clone(),
                key: key(key_env)?,
                key_env: key_env.clone(),
                max_tokens: *max_tokens,
                retry: http::RetryPolicy::from_env()?,
            })
            .map_err(|e| format!("agent `{id}`: {e}"))?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn openai(key_env: Option<&str>) -> Agent {
        crate::plan::fixtures::agent(Provider::Openai {
            model: "m".into(),
            endpoint: "http://127.0.0.1:9/v1".into(),
            key_env: key_env.map(String::from),
            temperature: None,
            max_tokens: None,
        })
    }

    #[test]
    fn a_missing_key_is_an_error_before_the_run() {
        let error = performer("gpt", &openai(Some("SCORE_TEST_KEY")), &|_| None)
            .err()
            .unwrap();
        assert!(error.contains("`SCORE_TEST_KEY`"), "{error}");
        assert!(error.contains("--agent gpt=mock"), "{error}");
        assert!(performer("gpt", &openai(Some("K")), &|_| Some("sk-1".into())).is_ok());
        assert!(performer("local", &openai(None), &|_| None).is_ok());
    }

    #[test]
    fn secrets_do_not_print() {
        let secret = Secret::new("sk-very-secret".into());
        assert_eq!(format!("{secret:?}"), "Secret(***)");
    }
}
