//! Verification: what an agent returns is accepted only when it is a JSON
//! object that matches the task's result schema and every `ensures` check
//! passes. Each failure is described in words meant for the agent: they
//! are fed back to it on the next attempt.
//!
//! Checks run code the agent wrote: they run under the same confinement
//! as the agent's own program (the part's checkout, its private `TMPDIR`,
//! the agent's `writes` and `reads`) with the scrubbed environment, but
//! without the agent's `pass_env` variables: a check needs no API key.

use super::process::{self, ProcessSpec};
use super::sandbox::Confinement;
use crate::plan::CheckRun;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Compiled result schemas, shared: a big plan has thousands of tasks and a
/// handful of distinct schemas.
#[derive(Default)]
pub struct Validators {
    by_schema: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

impl Validators {
    /// Validates `value` against `schema`; `Err` lists the problems (at
    /// most 10), each with where in the value it is.
    pub fn validate(&self, schema: &crate::plan::Schema, value: &Value) -> Result<(), String> {
        let validator = {
            let mut cache = self.by_schema.lock().unwrap_or_else(|e| e.into_inner());
            match cache.get(schema.compact()) {
                Some(v) => v.clone(),
                None => {
                    let v = jsonschema::draft202012::new(schema)
                        .map(Arc::new)
                        .map_err(|e| format!("the task's result schema is invalid: {e}"))?;
                    cache.insert(schema.compact().to_string(), v.clone());
                    v
                }
            }
        };
        let problems: Vec<String> = validator
            .iter_errors(value)
            .take(10)
            .map(|e| {
                let at = e.instance_path().to_string();
                if at.is_empty() {
                    format!("- {e}")
                } else {
                    format!("- at `{at}`: {e}")
                }
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the result does not match its schema:\n{}",
                problems.join("\n")
            ))
        }
    }
}

/// The outcome of one check.
#[derive(Clone, Debug)]
pub struct CheckOutcome {
    pub check: String,
    pub command: String,
    pub passed: bool,
    /// What happened, for the agent and the journal: the exit status (or the
    /// timeout) and the end of its output.
    pub message: String,
    pub duration: Duration,
}

/// Runs `check` in `workspace` under `confinement`, its output going to
/// `log_prefix.stdout` and `.stderr` (secrets masked).
pub async fn run_check(
    check: &CheckRun,
    workspace: &Path,
    log_prefix: &Path,
    confinement: &Confinement,
) -> CheckOutcome {
    let with = |suffix: &str| -> PathBuf {
        let mut p = log_prefix.as_os_str().to_owned();
        p.push(suffix);
        PathBuf::from(p)
    };
    let spec = ProcessSpec {
        argv: check.argv.clone(),
        cwd: workspace.to_path_buf(),
        env: confinement.env.clone(),
        stdin: None,
        stdout: with(".stdout"),
        stderr: with(".stderr"),
        fs: confinement.fs.clone(),
        redactor: confinement.redactor.clone(),
    };
    let started = Instant::now();
    let timeout = Duration::from_millis(check.timeout_ms);
    let result = tokio::time::timeout(timeout, process::run(&spec)).await;
    let duration = started.elapsed();
    let output_tail = || {
        let out = process::tail(&spec.stdout, 30, 3000);
        let err = process::tail(&spec.stderr, 30, 3000);
        let mut text = String::new();
        for (name, body) in [("stdout", out), ("stderr", err)] {
            if !body.trim().is_empty() {
                text.push_str(&format!("\nThe end of its {name}:\n```\n{body}\n```"));
            }
        }
        text
    };
    let (passed, message) = match result {
        Err(_) => (
            false,
            format!(
                "the check `{}` (`{}`) did not finish within {} and was stopped.{}",
                check.check,
                check.command,
                crate::plan::format_duration(check.timeout_ms),
                output_tail()
            ),
        ),
        Ok(Err(error)) => (
            false,
            format!("the check `{}` could not be run: {error}", check.check),
        ),
        Ok(Ok(exit)) if exit.success() => (true, format!("the check `{}` passed", check.check)),
        Ok(Ok(exit)) => (
            false,
            format!(
                "the check `{}` (`{}`) failed with {exit}.{}",
                check.check,
                check.command,
                output_tail()
            ),
        ),
    };
    CheckOutcome {
        check: check.check.clone(),
        command: check.command.clone(),
        passed,
        message,
        duration,
    }
}

/// The text appended to the prompt of a retry: what went wrong before.
pub fn feedback(previous_attempt: u32, attempts: u32, problems: &str) -> String {
    format!(
        "\n\n---\n\n## Your previous attempt ({previous_attempt} of {attempts}) was not accepted\n\n{problems}\n\nFix this and answer again, following every instruction above.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(command: &str, timeout_ms: u64) -> CheckRun {
        CheckRun {
            args: Default::default(),
            argv: vec!["sh".into(), "-c".into(), command.into()],
            check: "shell".into(),
            command: command.into(),
            timeout_ms,
        }
    }

    #[test]
    fn schema_problems_say_where() {
        let validators = Validators::default();
        let schema = crate::plan::Schema::new(json!({
            "type": "object", "required": ["n"], "additionalProperties": false,
            "properties": {"n": {"type": "integer"}}
        }));
        assert!(validators.validate(&schema, &json!({"n": 1})).is_ok());
        let e = validators
            .validate(&schema, &json!({"n": "one"}))
            .unwrap_err();
        assert!(e.contains("at `/n`"), "{e}");
        let e = validators.validate(&schema, &json!({})).unwrap_err();
        assert!(e.contains("\"n\" is a required property"), "{e}");
    }

    #[tokio::test]
    async fn checks_pass_fail_and_time_out() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("c");
        let c = Confinement::default();
        let ok = run_check(&check("test -d .", 5000), dir.path(), &logs, &c).await;
        assert!(ok.passed);
        let bad = run_check(
            &check("echo broken thing >&2; exit 4", 5000),
            dir.path(),
            &logs,
            &c,
        )
        .await;
        assert!(!bad.passed);
        assert!(bad.message.contains("exit status 4"), "{}", bad.message);
        assert!(bad.message.contains("broken thing"), "{}", bad.message);
        let slow = run_check(&check("sleep 5", 100), dir.path(), &logs, &c).await;
        assert!(!slow.passed);
        assert!(
            slow.message.contains("did not finish within 100ms"),
            "{}",
            slow.message
        );
    }
}
