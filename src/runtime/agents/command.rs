//! The `command` agent: a local program (a coding-agent CLI, a script)
//! plays the part.
//!
//! The program runs in the workspace, in its own process group (so that a
//! timeout or a cancel, which drop the attempt's future, kill everything it
//! started), never through a shell. Its argv is the agent's `run`, where an
//! argument that is exactly `{prompt_file}`, `{output_file}` or
//! `{workspace}` becomes that path. It finds the same paths, and the task,
//! in its environment:
//!
//! | variable | value |
//! | --- | --- |
//! | `SCORE_PROMPT_FILE` | the file holding the prompt |
//! | `SCORE_OUTPUT` | where to write the result object |
//! | `SCORE_WORKSPACE` | the workspace (also the working directory) |
//! | `SCORE_TASK` | the task's id |
//! | `SCORE_ATTEMPT` | the attempt number, from 1 |
//! | `SCORE_CONDUCTOR_PID` | the `score` process (see [`crate::runtime::process`]) |
//!
//! Nothing else is inherited: the program gets the scrubbed environment of
//! [`crate::runtime::sandbox`] (`PATH`, `HOME`, `LANG`, `LC_*`, `TERM`,
//! `USER`, a private `TMPDIR`), the agent's `pass_env` variables and its
//! `env`, and runs under the attempt's confinement.
//!
//! The result is, in this order of preference: the JSON object written to
//! `$SCORE_OUTPUT`; the last JSON object on standard output (see
//! [`super::extract`]); `{}` for a task without outputs. A program that
//! exits with a failure status has failed the attempt, whatever it wrote.
//!
//! An agent with a `protocol` (a coding-agent CLI in its machine-readable
//! mode) is read by [`super::protocol`] instead: its own account of the
//! attempt gives the answer (the structured one first, else the object in
//! its final message), the tokens and cost, and whether it failed, also
//! when it exits with a failure status. The protocol adds the tool's flags
//! for the result schema and the budget after `run`, and the part's
//! contract goes into the tool's instruction file for as long as the
//! program runs (see `runtime::instructions`).

use super::extract::extract_result;
use super::protocol::{self, Unreadable};
use crate::plan::Protocol;
use crate::runtime::agent::{AgentError, AttemptRequest, BoxFuture, Performer, Reply, Usage};
use crate::runtime::instructions::Installed;
use crate::runtime::process::{self, ProcessSpec, SpawnError};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// How much of a failed program's stderr goes into the failure message.
const TAIL_LINES: usize = 20;
const TAIL_BYTES: usize = 4096;

/// Standard output beyond this size is searched for the result only in its
/// last part (coding agents can log a lot; the result comes last).
const STDOUT_LIMIT: u64 = 16 << 20;

/// Standard error is read for a protocol's error object (Gemini CLI prints
/// it there) only in its last part.
const STDERR_LIMIT: u64 = 1 << 20;

/// Runs a local program.
#[derive(Debug)]
pub struct CommandAgent {
    run: Vec<String>,
    env: BTreeMap<String, String>,
    stdin_prompt: bool,
    /// How to read its output, and the flags it takes (see
    /// [`super::protocol`]).
    protocol: Protocol,
    /// The instruction file the part's contract goes into (`None`: none).
    instructions: Option<String>,
}

impl CommandAgent {
    /// `run`: the program and its arguments (placeholders allowed, see the
    /// module documentation); `env`: variables added to the inherited
    /// environment; `stdin_prompt`: also write the prompt to its stdin.
    pub fn new(
        run: Vec<String>,
        env: BTreeMap<String, String>,
        stdin_prompt: bool,
    ) -> CommandAgent {
        CommandAgent {
            run,
            env,
            stdin_prompt,
            protocol: Protocol::Plain,
            instructions: None,
        }
    }

    /// Reads the program's output by `protocol`, and writes the part's
    /// contract to `instructions` (default: the protocol's own file).
    pub fn with_protocol(mut self, protocol: Protocol, instructions: Option<String>) -> Self {
        self.protocol = protocol;
        self.instructions = instructions
            .or_else(|| super::super::instructions::default_file(protocol).map(String::from));
        self
    }

    /// The arguments the protocol adds after `run`: the result schema, for
    /// a tool that shapes its answer after one, and the budget left, for
    /// one that stops itself at a budget. Writes the schema file a tool
    /// takes by path.
    fn protocol_args(&self, request: &AttemptRequest) -> Result<Vec<String>, AgentError> {
        let mut args = Vec::new();
        let schema = request.has_outputs.then_some(&request.result_schema);
        match self.protocol {
            Protocol::ClaudeJson => {
                if let Some(schema) = schema {
                    args.push("--json-schema".to_string());
                    args.push(schema.to_string());
                }
                if let Some(usd) = request.budget_usd {
                    args.push("--max-budget-usd".to_string());
                    args.push(format!("{:.6}", usd.max(0.0)));
                }
            }
            Protocol::CodexJsonl => {
                if let Some(schema) = schema {
                    let path = &request.files.schema;
                    std::fs::write(path, super::protocol::strict_schema(schema).to_string())
                        .map_err(|e| AgentError::Setup {
                            message: format!(
                                "cannot write the schema file `{}`: {e}",
                                path.display()
                            ),
                        })?;
                    args.push("--output-schema".to_string());
                    args.push(path.to_string_lossy().into_owned());
                }
            }
            Protocol::Plain | Protocol::GeminiJson => {}
        }
        Ok(args)
    }

    /// The program as the score names it, for messages.
    fn program(&self) -> &str {
        self.run.first().map_or("", String::as_str)
    }

    /// What to run for `request`.
    fn spec(&self, request: &AttemptRequest) -> ProcessSpec {
        let path = |p: &Path| p.to_string_lossy().into_owned();
        let argv = self
            .run
            .iter()
            .map(|arg| match arg.as_str() {
                "{prompt_file}" => path(&request.files.prompt),
                "{output_file}" => path(&request.files.output),
                "{workspace}" => path(&request.workspace),
                _ => arg.clone(),
            })
            .collect();
        // The environment is an allow-list (see `runtime::sandbox`): the
        // scrubbed base, the variables the agent passes through, the
        // agent's own, then the runtime's, which nothing overrides.
        let confinement = &request.confinement;
        let mut env: Vec<(String, String)> = confinement.env.clone();
        env.extend(confinement.pass_env.iter().cloned());
        env.extend(self.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        env.extend([
            ("SCORE_OUTPUT".into(), path(&request.files.output)),
            ("SCORE_TASK".into(), request.task.clone()),
            ("SCORE_ATTEMPT".into(), request.attempt.to_string()),
            ("SCORE_PROMPT_FILE".into(), path(&request.files.prompt)),
            ("SCORE_WORKSPACE".into(), path(&request.workspace)),
        ]);
        // The program may write its result file and read its prompt, which
        // are in the run's logs, outside its checkout.
        let fs = confinement.fs.clone().map(|mut fs| {
            fs.writes.push(request.files.output.clone());
            if let Some(reads) = &mut fs.reads {
                reads.push(request.files.prompt.clone());
            }
            fs
        });
        ProcessSpec {
            argv,
            cwd: request.workspace.clone(),
            env,
            stdin: self
                .stdin_prompt
                .then(|| request.prompt.as_bytes().to_vec()),
            stdout: request.files.stdout.clone(),
            stderr: request.files.stderr.clone(),
            fs,
            redactor: confinement.redactor.clone(),
        }
    }

    async fn attempt(&self, request: &AttemptRequest) -> Result<Reply, AgentError> {
        let program = self.program();
        if program.is_empty() {
            return Err(AgentError::Setup {
                message: "the command agent's `run` names no program; give the program and its \
                          arguments, e.g. `run [\"my-agent\", \"{prompt_file}\"]`"
                    .into(),
            });
        }
        // Checked here because a missing working directory makes spawning
        // fail with "not found", which would blame the program.
        if !request.workspace.is_dir() {
            return Err(AgentError::Setup {
                message: format!(
                    "cannot run `{program}`: the workspace `{}` is not a directory",
                    request.workspace.display()
                ),
            });
        }
        // A result left by an earlier run of the same attempt must not be
        // taken for this one's. The file exists, empty, so that a confined
        // program may be allowed to write it (an empty file is no result).
        if let Err(error) = std::fs::write(&request.files.output, b"") {
            return Err(AgentError::Setup {
                message: format!(
                    "cannot create the result file `{}`: {error}",
                    request.files.output.display()
                ),
            });
        }
        let mut spec = self.spec(request);
        spec.argv.extend(self.protocol_args(request)?);
        // The contract goes where the tool looks for instructions, for as
        // long as the program runs (the guard puts the original back even
        // when the attempt is dropped).
        let installed = match (&self.instructions, &request.contract) {
            (Some(name), Some(contract)) => Installed::write(&request.workspace, name, contract)
                .map_err(|message| AgentError::Setup { message })?,
            _ => None,
        };
        let exit = process::run(&spec)
            .await
            .map_err(|error| AgentError::Setup {
                message: match error {
                    SpawnError::Io(error) => format!("cannot run `{program}`: {error}"),
                    SpawnError::Sandbox(why) => format!("cannot run `{program}`: {why}"),
                    error => error.to_string(),
                },
            })?;
        if let Some(installed) = installed {
            installed
                .restore()
                .map_err(|message| AgentError::Setup { message })?;
        }
        // What it wrote as its result is stored and passed on: no secret in it.
        if let Err(error) = request.confinement.redactor.file(&request.files.output) {
            return Err(AgentError::Setup {
                message: format!(
                    "cannot mask secrets in `{}`: {error}",
                    request.files.output.display()
                ),
            });
        }
        if self.protocol == Protocol::Plain {
            if !exit.success() {
                return Err(AgentError::Failed {
                    message: self.failure(exit, request),
                    usage: Usage::default(),
                });
            }
            return Ok(Reply {
                result: self.result(request, None),
                usage: Usage::default(),
            });
        }
        self.read_protocol(exit, request)
    }

    /// The reply of a program that speaks a protocol: its own account of
    /// the attempt (answer, tokens, cost, error), whatever its exit status.
    fn read_protocol(
        &self,
        exit: process::Exit,
        request: &AttemptRequest,
    ) -> Result<Reply, AgentError> {
        let program = self.program();
        let stdout = read_end(&request.files.stdout, STDOUT_LIMIT);
        let stderr = read_end(&request.files.stderr, STDERR_LIMIT);
        let transcript = match protocol::read(self.protocol, &stdout, &stderr) {
            Ok(transcript) => transcript,
            Err(Unreadable { message, usage }) => {
                let message = if exit.success() {
                    format!("`{program}` returned no result: {message}")
                } else {
                    format!(
                        "{}
({message})",
                        self.failure(exit, request)
                    )
                };
                return if exit.success() {
                    Ok(Reply {
                        result: Err(message),
                        usage,
                    })
                } else {
                    Err(AgentError::Failed { message, usage })
                };
            }
        };
        let usage = transcript.usage;
        if let Some(error) = transcript.error {
            let message = if error.over_budget {
                format!(
                    "`{program}` stopped at the budget it was given ({}): {}",
                    request
                        .budget_usd
                        .map_or_else(|| "its own".to_string(), |usd| format!("${usd:.6}")),
                    error.message
                )
            } else {
                format!("`{program}` failed: {}", error.message)
            };
            return Err(AgentError::Failed { message, usage });
        }
        if !exit.success() {
            return Err(AgentError::Failed {
                message: self.failure(exit, request),
                usage,
            });
        }
        let answer = match transcript.structured {
            Some(value @ Value::Object(_)) => Answer::Structured(value),
            Some(other) => Answer::Text(other.to_string()),
            None => Answer::Text(transcript.answer.unwrap_or_default()),
        };
        Ok(Reply {
            result: self.result(request, Some(answer)),
            usage,
        })
    }

    /// Why the attempt failed, with the end of what the program said.
    fn failure(&self, exit: process::Exit, request: &AttemptRequest) -> String {
        let program = self.program();
        let how = match (exit.code, exit.signal) {
            (Some(code), _) => format!("`{program}` exited with status {code}"),
            (None, Some(signal)) => format!("`{program}` was killed by signal {signal}"),
            (None, None) => format!("`{program}` ended with {exit}"),
        };
        let stderr = process::tail(&request.files.stderr, TAIL_LINES, TAIL_BYTES);
        if !stderr.trim().is_empty() {
            return format!("{how}; the end of its stderr:\n{stderr}");
        }
        let stdout = process::tail(&request.files.stdout, TAIL_LINES, TAIL_BYTES);
        if !stdout.trim().is_empty() {
            return format!("{how} and wrote nothing to stderr; the end of its stdout:\n{stdout}");
        }
        format!("{how} and printed nothing")
    }

    /// The result of a program that succeeded: what it wrote to
    /// `$SCORE_OUTPUT`, else its protocol's `answer`, else (plain) the last
    /// object on its standard output.
    fn result(&self, request: &AttemptRequest, answer: Option<Answer>) -> Result<Value, String> {
        let program = self.program();
        let output = &request.files.output;
        if let Ok(text) = std::fs::read_to_string(output)
            && !text.trim().is_empty()
        {
            return match serde_json::from_str::<Value>(&text) {
                Ok(value @ Value::Object(_)) => Ok(value),
                Ok(other) => Err(format!(
                    "`{program}` wrote {} to $SCORE_OUTPUT ({}), but the result must be one JSON \
                     object with one property per output",
                    kind(&other),
                    output.display()
                )),
                Err(error) => Err(format!(
                    "`{program}` wrote invalid JSON to $SCORE_OUTPUT ({}): {error}",
                    output.display()
                )),
            };
        }
        // A task without outputs returns `{}` unless it wrote a result
        // file: what such a program prints (JSON logs, a CLI's JSON mode)
        // is not its result.
        if !request.has_outputs {
            return Ok(Value::Object(Default::default()));
        }
        match answer {
            Some(Answer::Structured(value)) => return Ok(value),
            Some(Answer::Text(text)) => {
                return extract_result(&text).map_err(|why| {
                    if text.trim().is_empty() {
                        format!("`{program}` returned no result: its final answer was empty")
                    } else {
                        format!(
                            "`{program}` returned no result object ({why}); its final answer began: {}",
                            excerpt(&text, 400)
                        )
                    }
                });
            }
            None => {}
        }
        let stdout = read_end(&request.files.stdout, STDOUT_LIMIT);
        let why = match extract_result(&stdout) {
            Ok(value) => return Ok(value),
            Err(why) => why,
        };
        let printed = if stdout.trim().is_empty() {
            "printed nothing".to_string()
        } else {
            format!("printed no result object ({why})")
        };
        Err(format!(
            "`{program}` returned no result: it wrote nothing to $SCORE_OUTPUT and {printed}; \
             write the result as one JSON object to the file named by $SCORE_OUTPUT (the \
             `{{output_file}}` argument), or print it as the last line of standard output"
        ))
    }
}

impl Performer for CommandAgent {
    fn perform<'a>(
        &'a self,
        request: &'a AttemptRequest,
    ) -> BoxFuture<'a, Result<Reply, AgentError>> {
        Box::pin(self.attempt(request))
    }
}

/// A protocol's final answer.
enum Answer {
    /// Shaped by the tool after the result schema.
    Structured(Value),
    /// Text, where the result object is looked for.
    Text(String),
}

/// The first `max` characters of `text`, on one line, for a message.
fn excerpt(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &one_line[..at]),
        None => one_line,
    }
}

/// "an array", "a string", ...: what a JSON value is, for messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The text of a file, or its last `limit` bytes when it is bigger; empty
/// when it cannot be read.
fn read_end(path: &Path, limit: u64) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = file.metadata().map_or(0, |m| m.len());
    if len > limit && file.seek(SeekFrom::Start(len - limit)).is_err() {
        return String::new();
    }
    let mut bytes = Vec::new();
    if file.read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::agent::AttemptFiles;
    use serde_json::json;
    use std::path::PathBuf;
    use std::time::Duration;

    /// A workspace and a logs directory, with the prompt written.
    struct Setup {
        dir: tempfile::TempDir,
        request: AttemptRequest,
    }

    fn setup() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let workspace = dir.path().join("work");
        let logs = dir.path().join("logs");
        std::fs::create_dir_all(&workspace).unwrap();
        std::fs::create_dir_all(&logs).unwrap();
        let files = AttemptFiles::new(&logs, "store", 2);
        let prompt = "Build the store.\nReturn its API.".to_string();
        std::fs::write(&files.prompt, &prompt).unwrap();
        let request = AttemptRequest {
            task: "store".into(),
            attempt: 2,
            prompt,
            result_schema: json!({"type": "object"}),
            has_outputs: true,
            workspace,
            files,
            timeout: Duration::from_secs(30),
            seed: 1,
            confinement: Default::default(),
            contract: None,
            budget_usd: None,
        };
        Setup { dir, request }
    }

    impl Setup {
        /// A shell script in the temporary directory, ready to run.
        fn script(&self, name: &str, body: &str) -> String {
            let path = self.dir.path().join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
            path.to_string_lossy().into_owned()
        }

        async fn run(&self, agent: &CommandAgent) -> Result<Reply, AgentError> {
            agent.perform(&self.request).await
        }
    }

    fn agent(run: &[&str]) -> CommandAgent {
        CommandAgent::new(
            run.iter().map(|s| s.to_string()).collect(),
            BTreeMap::new(),
            false,
        )
    }

    fn sh(script: &str) -> CommandAgent {
        agent(&["sh", "-c", script])
    }

    #[tokio::test]
    async fn the_result_written_to_score_output_wins() {
        let s = setup();
        let reply = s
            .run(&sh(
                r#"echo '{"api": "from file"}' > "$SCORE_OUTPUT"; echo '{"api": "stdout"}'"#,
            ))
            .await
            .unwrap();
        assert_eq!(reply.result.unwrap(), json!({"api": "from file"}));
        assert_eq!(reply.usage, Usage::default());
    }

    #[tokio::test]
    async fn the_result_can_come_on_stdout() {
        let s = setup();
        let script = "echo 'working...'; printf '```json\\n{\"api\": 1}\\n```\\n'; echo done";
        let reply = s.run(&sh(script)).await.unwrap();
        assert_eq!(reply.result.unwrap(), json!({"api": 1}));
        // The streams are in the attempt's files.
        let stdout = std::fs::read_to_string(&s.request.files.stdout).unwrap();
        assert!(stdout.starts_with("working...\n"), "{stdout}");
    }

    #[tokio::test]
    async fn an_empty_output_file_falls_back_to_stdout() {
        let s = setup();
        let reply = s
            .run(&sh(r#": > "$SCORE_OUTPUT"; echo '{"api": 2}'"#))
            .await
            .unwrap();
        assert_eq!(reply.result.unwrap(), json!({"api": 2}));
    }

    #[tokio::test]
    async fn invalid_json_in_score_output_is_reported() {
        let s = setup();
        let reply = s
            .run(&sh(
                r#"echo '{"api": ' > "$SCORE_OUTPUT"; echo '{"api": 3}'"#,
            ))
            .await
            .unwrap();
        let error = reply.result.unwrap_err();
        assert!(
            error.starts_with("`sh` wrote invalid JSON to $SCORE_OUTPUT ("),
            "{error}"
        );
        assert!(error.contains("EOF while parsing"), "{error}");

        let reply = s
            .run(&sh(r#"echo '[1, 2]' > "$SCORE_OUTPUT""#))
            .await
            .unwrap();
        let error = reply.result.unwrap_err();
        assert!(error.contains("wrote an array to $SCORE_OUTPUT"), "{error}");
    }

    #[tokio::test]
    async fn no_result_is_fine_only_without_outputs() {
        let mut s = setup();
        let error = s
            .run(&sh("echo 'all done'"))
            .await
            .unwrap()
            .result
            .unwrap_err();
        assert!(error.starts_with("`sh` returned no result"), "{error}");
        assert!(error.contains("printed no result object"), "{error}");
        assert!(
            error.contains("$SCORE_OUTPUT") && error.contains("{output_file}"),
            "{error}"
        );
        let error = s.run(&sh("true")).await.unwrap().result.unwrap_err();
        assert!(error.contains("printed nothing"), "{error}");

        s.request.has_outputs = false;
        let reply = s.run(&sh("echo 'all done'")).await.unwrap();
        assert_eq!(reply.result.unwrap(), json!({}));
        // Without outputs, JSON on stdout is not taken for the result.
        let reply = s.run(&sh("echo '{\"level\": \"info\"}'")).await.unwrap();
        assert_eq!(reply.result.unwrap(), json!({}));
    }

    #[tokio::test]
    async fn a_stale_output_file_is_not_taken_for_the_result() {
        let s = setup();
        std::fs::write(&s.request.files.output, r#"{"api": "old"}"#).unwrap();
        let reply = s.run(&sh("echo '{\"api\": \"new\"}'")).await.unwrap();
        assert_eq!(reply.result.unwrap(), json!({"api": "new"}));
    }

    #[tokio::test]
    async fn a_failure_status_fails_the_attempt_with_the_end_of_stderr() {
        let s = setup();
        let script = r#"i=0; while [ $i -lt 30 ]; do echo "error line $i" >&2; i=$((i+1)); done
echo '{"api": 1}' > "$SCORE_OUTPUT"; exit 3"#;
        match s.run(&sh(script)).await {
            Err(AgentError::Failed { message, usage }) => {
                assert!(
                    message.starts_with("`sh` exited with status 3; the end of its stderr:\n…\n"),
                    "{message}"
                );
                assert!(
                    message.ends_with("error line 28\nerror line 29"),
                    "{message}"
                );
                assert!(!message.contains("error line 9\n"), "{message}");
                assert_eq!(usage, Usage::default());
            }
            other => panic!("expected a failure, got {other:?}"),
        }
        // Without stderr, the end of stdout says what happened.
        match s.run(&sh("echo 'tests failed'; exit 1")).await {
            Err(AgentError::Failed { message, .. }) => assert_eq!(
                message,
                "`sh` exited with status 1 and wrote nothing to stderr; the end of its stdout:\ntests failed"
            ),
            other => panic!("expected a failure, got {other:?}"),
        }
        match s.run(&sh("kill -9 $$")).await {
            Err(AgentError::Failed { message, .. }) => {
                assert_eq!(message, "`sh` was killed by signal 9 and printed nothing")
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_program_that_cannot_start_is_a_setup_error() {
        let s = setup();
        match s
            .run(&agent(&["score-no-such-agent", "{prompt_file}"]))
            .await
        {
            Err(AgentError::Setup { message }) => {
                assert!(message.contains("`score-no-such-agent`"), "{message}");
                assert!(message.contains("no such program"), "{message}");
            }
            other => panic!("expected a setup error, got {other:?}"),
        }
        // A file that is not executable.
        let not_executable = s.dir.path().join("agent.sh");
        std::fs::write(&not_executable, "echo hi").unwrap();
        match s.run(&agent(&[not_executable.to_str().unwrap()])).await {
            Err(AgentError::Setup { message }) => {
                assert!(message.contains("ermission denied"), "{message}")
            }
            other => panic!("expected a setup error, got {other:?}"),
        }
        match s.run(&agent(&[])).await {
            Err(AgentError::Setup { message }) => assert!(message.contains("names no program")),
            other => panic!("expected a setup error, got {other:?}"),
        }
        let mut missing = setup();
        missing.request.workspace = PathBuf::from("/nonexistent/score-workspace");
        match missing.run(&sh("true")).await {
            Err(AgentError::Setup { message }) => {
                assert!(message.contains("is not a directory"), "{message}")
            }
            other => panic!("expected a setup error, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn placeholders_are_replaced_as_whole_arguments() {
        let s = setup();
        let script = s.script(
            "args.sh",
            r#"for a in "$@"; do printf '%s\n' "$a"; done > args.txt; pwd > pwd.txt"#,
        );
        let agent = agent(&[
            &script,
            "{prompt_file}",
            "{output_file}",
            "{workspace}",
            "x{workspace}",
            "{prompt_file} ",
            "$SCORE_TASK",
            "a b;c",
        ]);
        s.run(&agent).await.unwrap();
        let work = &s.request.workspace;
        let args = std::fs::read_to_string(work.join("args.txt")).unwrap();
        let expected = [
            s.request.files.prompt.to_str().unwrap(),
            s.request.files.output.to_str().unwrap(),
            work.to_str().unwrap(),
            "x{workspace}",
            "{prompt_file} ",
            "$SCORE_TASK",
            "a b;c",
        ];
        assert_eq!(args.lines().collect::<Vec<_>>(), expected);
        // The working directory is the workspace.
        let pwd = std::fs::read_to_string(work.join("pwd.txt")).unwrap();
        assert_eq!(
            std::fs::canonicalize(pwd.trim()).unwrap(),
            std::fs::canonicalize(work).unwrap()
        );
    }

    #[tokio::test]
    async fn the_environment_tells_the_program_what_to_do() {
        let s = setup();
        let mut env = BTreeMap::new();
        env.insert("AGENT_MODEL".to_string(), "big".to_string());
        // The runtime's variables win over the agent's.
        env.insert("SCORE_TASK".to_string(), "not-this".to_string());
        let agent = CommandAgent::new(
            vec![
                "sh".into(),
                "-c".into(),
                r#"printf '%s\n' "$AGENT_MODEL" "$SCORE_TASK" "$SCORE_ATTEMPT" "$SCORE_OUTPUT" "$SCORE_PROMPT_FILE" "$SCORE_WORKSPACE" "${PATH:+inherited}" > env.txt"#
                    .into(),
            ],
            env,
            false,
        );
        let mut request = s.request.clone();
        request.has_outputs = false;
        agent.perform(&request).await.unwrap();
        let text = std::fs::read_to_string(request.workspace.join("env.txt")).unwrap();
        let expected = [
            "big",
            "store",
            "2",
            request.files.output.to_str().unwrap(),
            request.files.prompt.to_str().unwrap(),
            request.workspace.to_str().unwrap(),
            "inherited",
        ];
        assert_eq!(text.lines().collect::<Vec<_>>(), expected);
    }

    #[tokio::test]
    async fn the_prompt_goes_to_stdin_only_when_asked() {
        let s = setup();
        let copy_stdin = |stdin_prompt| {
            CommandAgent::new(
                vec!["sh".into(), "-c".into(), "cat > stdin.txt".into()],
                BTreeMap::new(),
                stdin_prompt,
            )
        };
        let stdin = s.request.workspace.join("stdin.txt");
        let mut request = s.request.clone();
        request.has_outputs = false;
        copy_stdin(true).perform(&request).await.unwrap();
        assert_eq!(std::fs::read_to_string(&stdin).unwrap(), request.prompt);
        copy_stdin(false).perform(&request).await.unwrap();
        assert_eq!(std::fs::read_to_string(&stdin).unwrap(), "");
    }

    /// A stand-in for Claude Code: records its arguments and the
    /// instruction file it finds, then prints a result object like
    /// `claude -p --output-format json` does.
    const FAKE_CLAUDE: &str = r#"printf '%s\n' "$@" > args.txt
cp CLAUDE.md seen-instructions.md 2>/dev/null
echo '{"type":"result","subtype":"success","is_error":false,"result":"done","structured_output":{"api":"typed"},"total_cost_usd":0.25,"usage":{"input_tokens":100,"cache_read_input_tokens":20,"output_tokens":7}}'"#;

    #[tokio::test]
    async fn a_protocol_adds_its_flags_writes_the_contract_and_reads_the_account() {
        let mut s = setup();
        std::fs::write(s.request.workspace.join("CLAUDE.md"), "# Ours\n").unwrap();
        s.request.contract = Some("You own src/store.".into());
        s.request.budget_usd = Some(1.5);
        s.request.result_schema =
            json!({"type": "object", "properties": {"api": {"type": "string"}}});
        let script = s.script("claude.sh", FAKE_CLAUDE);
        let agent = agent(&[&script, "-p"]).with_protocol(Protocol::ClaudeJson, None);
        let reply = s.run(&agent).await.unwrap();
        assert_eq!(reply.result.unwrap(), json!({"api": "typed"}));
        assert_eq!(
            reply.usage,
            Usage {
                input_tokens: 120,
                output_tokens: 7,
                cost_usd: Some(0.25)
            }
        );
        let work = &s.request.workspace;
        let args = std::fs::read_to_string(work.join("args.txt")).unwrap();
        let args: Vec<&str> = args.lines().collect();
        let schema = s.request.result_schema.to_string();
        assert_eq!(
            args,
            [
                "-p",
                "--json-schema",
                schema.as_str(),
                "--max-budget-usd",
                "1.500000"
            ]
        );
        // The program saw the contract after the repository's own text; the
        // file is the repository's again afterwards.
        let seen = std::fs::read_to_string(work.join("seen-instructions.md")).unwrap();
        assert!(seen.starts_with("# Ours\n\n"), "{seen}");
        assert!(seen.ends_with("You own src/store."), "{seen}");
        assert_eq!(
            std::fs::read_to_string(work.join("CLAUDE.md")).unwrap(),
            "# Ours\n"
        );
        // Without a contract (no checkout of its own), no file is written.
        s.request.contract = None;
        std::fs::remove_file(work.join("CLAUDE.md")).unwrap();
        std::fs::remove_file(work.join("seen-instructions.md")).unwrap();
        s.run(&agent).await.unwrap();
        assert!(!work.join("seen-instructions.md").exists());
        assert!(!work.join("CLAUDE.md").exists());
    }

    #[tokio::test]
    async fn codex_gets_its_schema_as_a_strict_file() {
        let mut s = setup();
        s.request.result_schema =
            json!({"type": "object", "properties": {"api": {"type": "string"}}});
        let script = s.script(
            "codex.sh",
            r#"printf '%s\n' "$@" > args.txt
echo '{"type":"thread.started","thread_id":"t"}'
echo '{"type":"item.completed","item":{"id":"item_0","type":"agent_message","text":"{\"api\": \"x\"}"}}'
echo '{"type":"turn.completed","usage":{"input_tokens":9,"cached_input_tokens":0,"output_tokens":3}}'"#,
        );
        let agent = agent(&[&script, "exec"]).with_protocol(Protocol::CodexJsonl, None);
        let reply = s.run(&agent).await.unwrap();
        assert_eq!(reply.result.unwrap(), json!({"api": "x"}));
        assert_eq!(
            reply.usage,
            Usage {
                input_tokens: 9,
                output_tokens: 3,
                cost_usd: None
            }
        );
        let args = std::fs::read_to_string(s.request.workspace.join("args.txt")).unwrap();
        let file = s.request.files.schema.to_str().unwrap();
        assert_eq!(
            args.lines().collect::<Vec<_>>(),
            ["exec", "--output-schema", file]
        );
        let written: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        assert_eq!(written["additionalProperties"], json!(false));
        assert_eq!(written["required"], json!(["api"]));
    }

    #[tokio::test]
    async fn the_program_s_own_error_fails_the_attempt_with_its_cost() {
        let s = setup();
        let script = s.script(
            "claude.sh",
            r#"echo '{"type":"result","subtype":"error_max_budget_usd","is_error":true,"total_cost_usd":0.5,"usage":{"input_tokens":10,"output_tokens":2},"errors":["Reached maximum budget"]}'; exit 1"#,
        );
        let claude = agent(&[&script]).with_protocol(Protocol::ClaudeJson, None);
        match s.run(&claude).await {
            Err(AgentError::Failed { message, usage }) => {
                assert!(
                    message.contains("stopped at the budget it was given"),
                    "{message}"
                );
                assert!(message.contains("Reached maximum budget"), "{message}");
                assert_eq!(usage.cost_usd, Some(0.5));
                assert_eq!(usage.input_tokens, 10);
            }
            other => panic!("expected a failure, got {other:?}"),
        }
        // Output that is not the protocol's: a failed attempt that says so.
        let script = s.script("plain.sh", "echo 'hello'");
        let codex = agent(&[&script]).with_protocol(Protocol::CodexJsonl, None);
        let error = s.run(&codex).await.unwrap().result.unwrap_err();
        assert!(error.contains("holds no Codex CLI events"), "{error}");
    }

    #[tokio::test]
    async fn dropping_the_attempt_kills_the_program_and_what_it_started() {
        let s = setup();
        // The program starts a helper that would leave a mark after a while,
        // then works for a long time itself.
        let script =
            r#"(sleep 1; touch helper-survived) & sleep 1; touch agent-survived; sleep 30"#;
        let agent = sh(script);
        let start = std::time::Instant::now();
        let attempt = tokio::time::timeout(Duration::from_millis(300), s.run(&agent)).await;
        assert!(attempt.is_err(), "the attempt should have timed out");
        assert!(start.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let work = &s.request.workspace;
        assert!(
            !work.join("helper-survived").exists(),
            "the helper survived"
        );
        assert!(
            !work.join("agent-survived").exists(),
            "the program survived"
        );
    }
}
