//! `score doctor`: can each agent of a score play its parts, here and now?
//!
//! A run that fails on its first part because `claude` is not installed, or
//! its key is not exported, wastes the minutes its other parts took. The
//! doctor asks the cheap questions up front, one line per agent: is the
//! program on `PATH` (or at its path), which version it is, whether the key
//! variable is set (never its value), and with `--live` whether the agent
//! answers a trivial prompt through the same performer and protocol a run
//! uses. An agent that no part uses is not examined.
//!
//! The examination is split in two: [`examine`] gathers facts through a
//! [`Probe`] (the real one runs programs and reads the environment; tests
//! give their own) and [`Finding`] says what they mean.

use super::agent::{AttemptFiles, AttemptRequest, Performer};
use crate::plan::{Agent, Plan, Provider};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// How long `--live` waits for an agent's answer.
pub const LIVE_TIMEOUT: Duration = Duration::from_secs(600);

/// How long `PROGRAM --version` may take.
const VERSION_TIMEOUT: Duration = Duration::from_secs(20);

/// What the doctor found about one agent.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub agent: String,
    /// The parts it plays could not run (the run would fail).
    pub broken: bool,
    /// One line: what was found, what to do.
    pub line: String,
}

/// The doctor's report: one finding per agent that plays a part.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    /// Every agent can play its parts.
    pub fn ok(&self) -> bool {
        self.findings.iter().all(|f| !f.broken)
    }

    /// The report as the terminal shows it: `ok`/`FAIL`, the agent, what
    /// was found; then a summary line.
    pub fn render(&self) -> String {
        let width = self
            .findings
            .iter()
            .map(|f| f.agent.len())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for f in &self.findings {
            let status = if f.broken { "FAIL" } else { "ok  " };
            out.push_str(&format!("{status} {:width$}  {}\n", f.agent, f.line));
        }
        let broken = self.findings.iter().filter(|f| f.broken).count();
        if broken == 0 {
            out.push_str(&format!("{} agent(s) ready\n", self.findings.len()));
        } else {
            out.push_str(&format!(
                "{broken} of {} agent(s) cannot play their parts\n",
                self.findings.len()
            ));
        }
        out
    }
}

/// The facts the doctor looks at, behind a trait so that tests need not
/// install programs.
pub trait Probe {
    /// The program `name` resolves to: a path relative to `workspace` when
    /// it has a `/`, else the first match on `PATH`.
    fn locate(&self, name: &str, workspace: &Path) -> Option<PathBuf>;
    /// The first line `PROGRAM --version` prints, if it answers.
    fn version(&self, program: &Path) -> Option<String>;
    /// Whether an environment variable is set and not empty.
    fn is_set(&self, var: &str) -> bool;
}

/// The real machine: `PATH`, child processes, the environment.
pub struct System;

impl Probe for System {
    fn locate(&self, name: &str, workspace: &Path) -> Option<PathBuf> {
        if name.contains('/') {
            let path = workspace.join(name);
            return is_executable(&path).then_some(path);
        }
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| is_executable(candidate))
    }

    fn version(&self, program: &Path) -> Option<String> {
        let mut child = std::process::Command::new(program)
            .arg("--version")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .ok()?;
        let started = std::time::Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if started.elapsed() < VERSION_TIMEOUT => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return None;
                }
            }
        }
        let mut text = String::new();
        use std::io::Read;
        child.stdout.take()?.read_to_string(&mut text).ok()?;
        text.lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_string)
    }

    fn is_set(&self, var: &str) -> bool {
        std::env::var_os(var).is_some_and(|v| !v.is_empty())
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The agents that play at least one part, in name order.
fn playing(plan: &Plan) -> Vec<(&String, &Agent)> {
    let used: BTreeSet<&str> = plan.tasks.iter().map(|t| t.agent.as_str()).collect();
    plan.agents
        .iter()
        .filter(|(id, _)| used.contains(id.as_str()))
        .collect()
}

/// Looks at every agent that plays a part, without running it.
pub fn examine(plan: &Plan, workspace: &Path, probe: &dyn Probe) -> Report {
    let findings = playing(plan)
        .into_iter()
        .map(|(id, agent)| examine_one(id, agent, workspace, probe))
        .collect();
    Report { findings }
}

fn examine_one(id: &str, agent: &Agent, workspace: &Path, probe: &dyn Probe) -> Finding {
    let finding = |broken: bool, line: String| Finding {
        agent: id.to_string(),
        broken,
        line,
    };
    match &agent.provider {
        Provider::Mock { .. } => finding(false, "mock: built in, needs nothing".into()),
        Provider::Openai {
            model,
            endpoint,
            key_env,
            ..
        }
        | Provider::Anthropic {
            model,
            endpoint,
            key_env,
            ..
        } => {
            let provider = agent.provider.name();
            match key_env {
                Some(var) if !probe.is_set(var) => finding(
                    true,
                    format!(
                        "{provider} `{model}` at {endpoint}: key variable {var} is not set; \
                         export {var}=... (or play its parts with `--agent {id}=mock`)"
                    ),
                ),
                Some(var) => finding(
                    false,
                    format!("{provider} `{model}` at {endpoint}: key variable {var} is set"),
                ),
                None => finding(
                    false,
                    format!("{provider} `{model}` at {endpoint}: no key needed"),
                ),
            }
        }
        Provider::Command {
            run,
            protocol,
            key_env,
            ..
        } => {
            let Some(name) = run.first().filter(|n| !n.is_empty()) else {
                return finding(true, "command: `run` names no program".into());
            };
            let key = key_env.as_deref().map(|var| {
                if probe.is_set(var) {
                    format!("; key variable {var} is set")
                } else {
                    format!("; key variable {var} is not set (fine if `{name}` has its own login)")
                }
            });
            let key = key.unwrap_or_default();
            let Some(path) = probe.locate(name, workspace) else {
                let where_ = if name.contains('/') {
                    format!("at `{}`", workspace.join(name).display())
                } else {
                    "on PATH".to_string()
                };
                return finding(
                    true,
                    format!(
                        "`{name}` is not installed {where_} (protocol {}){key}",
                        protocol.as_str()
                    ),
                );
            };
            let version = probe
                .version(&path)
                .unwrap_or_else(|| "version unknown".to_string());
            finding(
                false,
                format!(
                    "`{name}` {version} at {} (protocol {}){key}",
                    path.display(),
                    protocol.as_str()
                ),
            )
        }
    }
}

/// `--live`: each agent that passed [`examine`] answers a trivial prompt,
/// through the performer a run would use (so through its protocol), in a
/// scratch directory. Its finding says what it answered, with tokens and
/// cost; an agent that fails is broken.
pub async fn live(
    report: &mut Report,
    performers: &std::collections::HashMap<String, Arc<dyn Performer>>,
    timeout: Duration,
    confine: &dyn Fn(&str, &Path) -> Result<super::sandbox::Confinement, String>,
) {
    let scratch = match super::sandbox::ScratchDir::create(&std::env::temp_dir().join(format!(
        "score-doctor-{}-{}",
        std::process::id(),
        super::journal::now_ms()
    ))) {
        Ok(scratch) => scratch,
        Err(e) => {
            for f in &mut report.findings {
                f.broken = true;
                f.line
                    .push_str(&format!("; cannot make a scratch directory: {e}"));
            }
            return;
        }
    };
    for finding in &mut report.findings {
        if finding.broken {
            continue;
        }
        let Some(performer) = performers.get(&finding.agent) else {
            continue;
        };
        let dir = scratch.path().join(&finding.agent);
        let logs = dir.join("logs");
        if let Err(e) = std::fs::create_dir_all(&logs) {
            finding.broken = true;
            finding
                .line
                .push_str(&format!("; cannot prepare the check: {e}"));
            continue;
        }
        // The program runs as it would in a run: confined, its environment
        // scrubbed to what its agent passes on.
        let confinement = match confine(&finding.agent, &dir) {
            Ok(confinement) => confinement,
            Err(e) => {
                finding.broken = true;
                finding.line.push_str(&format!("; cannot confine it: {e}"));
                continue;
            }
        };
        let request = trivial_request(&finding.agent, &dir, &logs, timeout, confinement);
        let _ = std::fs::write(&request.files.prompt, &request.prompt);
        let outcome = tokio::time::timeout(timeout, performer.perform(&request)).await;
        let said = match outcome {
            Err(_) => Err(format!("no answer within {}s", timeout.as_secs())),
            Ok(Err(e)) => Err(first_line(&e.to_string())),
            Ok(Ok(reply)) => {
                let u = reply.usage;
                let cost = u.cost_usd.map_or(String::new(), |c| format!(", ${c:.4}"));
                let spent = format!(
                    "{} in / {} out tokens{cost}",
                    u.input_tokens, u.output_tokens
                );
                Ok(match reply.result {
                    Ok(_) => format!("answers ({spent})"),
                    Err(why) => format!(
                        "answers, without a result object ({spent}): {}",
                        first_line(&why)
                    ),
                })
            }
        };
        match said {
            Ok(text) => finding.line.push_str(&format!("; live: {text}")),
            Err(text) => {
                finding.broken = true;
                finding.line.push_str(&format!("; live: failed: {text}"));
            }
        }
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    match line.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

/// A prompt any agent can answer in one short turn.
fn trivial_request(
    agent: &str,
    dir: &Path,
    logs: &Path,
    timeout: Duration,
    confinement: super::sandbox::Confinement,
) -> AttemptRequest {
    AttemptRequest {
        task: format!("doctor-{agent}"),
        attempt: 1,
        prompt: "This is a health check. Do not use any tool and do not change any file. \
                 Answer with exactly this JSON object and nothing else: {\"ok\": true}"
            .into(),
        result_schema: serde_json::json!({
            "type": "object",
            "properties": {"ok": {"type": "boolean"}},
            "required": ["ok"],
            "additionalProperties": false
        }),
        has_outputs: true,
        workspace: dir.to_path_buf(),
        files: AttemptFiles::new(logs, "doctor", 1),
        timeout,
        seed: 0,
        confinement,
        contract: None,
        budget_usd: None,
    }
}

/// `score doctor` for a plan: the report, and with `live` each agent's
/// answer to a trivial prompt. `env` reads variables (API keys of HTTP
/// agents, for their performers).
pub fn doctor(
    plan: &Plan,
    workspace: &Path,
    live_timeout: Option<Duration>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Report {
    let mut report = examine(plan, workspace, &System);
    let Some(timeout) = live_timeout else {
        return report;
    };
    let mut performers = std::collections::HashMap::new();
    for (id, agent) in playing(plan) {
        if let Ok(p) = super::agents::performer(id, agent, env) {
            performers.insert(id.clone(), p);
        }
    }
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => {
            let policy = super::sandbox::Policy::new(plan, false, env);
            let confine = |id: &str, dir: &Path| {
                let agent = plan
                    .agents
                    .get(id)
                    .ok_or_else(|| format!("no agent `{id}` in the plan"))?;
                policy.attempt(id, agent, dir, &dir.join("tmp"), "doctor")
            };
            rt.block_on(live(&mut report, &performers, timeout, &confine))
        }
        Err(e) => {
            for f in &mut report.findings {
                f.broken = true;
                f.line
                    .push_str(&format!("; cannot start the async runtime: {e}"));
            }
        }
    }
    report
}

/// `score doctor FILE`: the plan of the score at `score_file` (with
/// `--agent` overrides applied), its agents examined in its workspace (the
/// score's `workspace` setting, relative to the file), and with `live` each
/// asked a trivial prompt.
pub fn for_score(
    mut plan: Plan,
    score_file: &Path,
    overrides: &[String],
    live: bool,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Report, String> {
    super::select::override_agents(&mut plan, overrides)?;
    let base = score_file.parent().unwrap_or(Path::new(""));
    let workspace = base.join(&plan.score.workspace);
    Ok(doctor(&plan, &workspace, live.then_some(LIVE_TIMEOUT), env))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Protocol;
    use std::collections::BTreeMap;

    struct Fake {
        installed: Vec<&'static str>,
        set: Vec<&'static str>,
    }

    impl Probe for Fake {
        fn locate(&self, name: &str, _: &Path) -> Option<PathBuf> {
            self.installed
                .contains(&name)
                .then(|| PathBuf::from(format!("/usr/bin/{name}")))
        }
        fn version(&self, program: &Path) -> Option<String> {
            Some(format!("{} 1.0", program.file_name()?.to_str()?))
        }
        fn is_set(&self, var: &str) -> bool {
            self.set.contains(&var)
        }
    }

    fn agent(provider: Provider) -> Agent {
        crate::plan::fixtures::agent(provider)
    }

    fn command(program: &str, key_env: Option<&str>) -> Provider {
        Provider::Command {
            run: vec![program.into(), "-p".into()],
            env: BTreeMap::new(),
            instructions: None,
            key_env: key_env.map(String::from),
            protocol: Protocol::ClaudeJson,
            stdin_prompt: true,
            pass_env: vec![],
        }
    }

    fn plan(agents: Vec<(&str, Agent)>, used: &[&str]) -> Plan {
        let mut plan: Plan = serde_json::from_value(serde_json::json!({
            "agents": {}, "critical_path": {"estimate_ms": 0, "tasks": []},
            "format": "score-plan/1",
            "score": {"budget": null, "concurrency": null, "default_agent": null, "doc": null,
                      "inputs": {}, "name": "s", "prompt_template": null, "title": "s",
                      "workspace": "."},
            "source_hash": "", "sources": {}, "tasks": [], "waves": []
        }))
        .unwrap();
        for (id, a) in agents {
            plan.agents.insert(id.into(), a);
        }
        plan.tasks = used
            .iter()
            .map(|a| {
                let mut t = crate::runtime::instructions::tests_support::task();
                t.id = format!("part-{a}");
                t.agent = a.to_string();
                t
            })
            .collect();
        plan
    }

    #[test]
    fn one_line_per_playing_agent_and_broken_ones_fail() {
        let plan = plan(
            vec![
                (
                    "claude",
                    agent(command("claude", Some("ANTHROPIC_API_KEY"))),
                ),
                ("codex", agent(command("codex", Some("OPENAI_API_KEY")))),
                (
                    "gpt",
                    agent(Provider::Openai {
                        model: "m".into(),
                        endpoint: "http://127.0.0.1:9/v1".into(),
                        key_env: Some("OPENAI_API_KEY".into()),
                        temperature: None,
                        max_tokens: None,
                    }),
                ),
                ("unused", agent(command("nothing-here", None))),
            ],
            &["claude", "codex", "gpt"],
        );
        let probe = Fake {
            installed: vec!["claude"],
            set: vec!["ANTHROPIC_API_KEY"],
        };
        let report = examine(&plan, Path::new("/w"), &probe);
        assert_eq!(report.findings.len(), 3, "{report:?}");
        let by = |id: &str| report.findings.iter().find(|f| f.agent == id).unwrap();
        let claude = by("claude");
        assert!(!claude.broken);
        assert_eq!(
            claude.line,
            "`claude` claude 1.0 at /usr/bin/claude (protocol claude_json); key variable \
             ANTHROPIC_API_KEY is set"
        );
        let codex = by("codex");
        assert!(codex.broken);
        assert!(
            codex.line.contains("`codex` is not installed on PATH"),
            "{}",
            codex.line
        );
        assert!(
            codex.line.contains("OPENAI_API_KEY is not set"),
            "{}",
            codex.line
        );
        let gpt = by("gpt");
        assert!(
            gpt.broken && gpt.line.contains("export OPENAI_API_KEY"),
            "{}",
            gpt.line
        );
        assert!(!report.ok());
        let text = report.render();
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.starts_with("ok   claude  `claude`"), "{text}");
        assert!(
            text.ends_with("2 of 3 agent(s) cannot play their parts\n"),
            "{text}"
        );
    }

    #[test]
    fn the_real_probe_finds_programs_and_their_versions() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("agent.sh");
        std::fs::write(&script, "#!/bin/sh\necho \"agent 4.2 (test)\"\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let found = System.locate("agent.sh", dir.path());
        assert_eq!(found, None, "a bare name is looked up on PATH only");
        let found = System.locate("./agent.sh", dir.path()).unwrap();
        assert_eq!(System.version(&found).as_deref(), Some("agent 4.2 (test)"));
        assert!(System.locate("sh", dir.path()).is_some());
        assert!(System.locate("score-no-such-program", dir.path()).is_none());
    }

    #[tokio::test]
    async fn live_asks_the_agent_through_its_performer() {
        let dir = tempfile::tempdir().unwrap();
        let answer = dir.path().join("answer.sh");
        std::fs::write(
            &answer,
            "#!/bin/sh\ncat > /dev/null\necho '{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"result\":\"{\\\"ok\\\": true}\",\"total_cost_usd\":0.5,\"usage\":{\"input_tokens\":7,\"output_tokens\":3}}'\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&answer, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut good = command(answer.to_str().unwrap(), None);
        if let Provider::Command { run, .. } = &mut good {
            run.truncate(1);
        }
        let plan = plan(
            vec![
                ("good", agent(good)),
                ("bad", agent(command("false", None))),
            ],
            &["good", "bad"],
        );
        let mut report = examine(&plan, dir.path(), &System);
        let mut performers = std::collections::HashMap::new();
        for (id, a) in &plan.agents {
            performers.insert(
                id.clone(),
                crate::runtime::agents::performer(id, a, &|_| None).unwrap(),
            );
        }
        let policy = crate::runtime::sandbox::Policy::new(&plan, false, &|_| None);
        let confine = |id: &str, dir: &Path| {
            policy.attempt(id, &plan.agents[id], dir, &dir.join("tmp"), "doctor")
        };
        live(&mut report, &performers, Duration::from_secs(30), &confine).await;
        let by = |id: &str| report.findings.iter().find(|f| f.agent == id).unwrap();
        assert!(
            by("good")
                .line
                .ends_with("; live: answers (7 in / 3 out tokens, $0.5000)"),
            "{}",
            by("good").line
        );
        let bad = by("bad");
        assert!(bad.broken, "{bad:?}");
        assert!(bad.line.contains("; live: failed: "), "{}", bad.line);
    }
}
