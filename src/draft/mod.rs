//! `score draft SPEC.md`: a score written by an agent, with the checker in
//! the loop.
//!
//! Writing the score is the slowest step between an idea and an orchestra
//! at work, and the checker already knows what is wrong with a score and
//! how to fix it. So an agent ([`agent`]: any agent a score can declare) is
//! given the specification, the language reference and the standard
//! library ([`prompt`]), its answer is checked in memory ([`verdict`]), and
//! the diagnostics go back to it, as `score check --format json` prints
//! them, until the score checks clean or the rounds run out. Only a clean
//! score is ever written.
//!
//! A draft is a run: its journal, prompts, answers, diagnostics, tokens and
//! cost go to `.score/runs/RUN_ID/` like any run's (one part, `score_draft`,
//! one attempt per round), with the run's redaction, so `score runs` and
//! the run's page show it, and nothing secret reaches a file. The agent
//! plays in an empty directory outside the repository, confined as in a
//! run: drafting needs to write nothing but its answer.

pub mod agent;
pub mod prompt;
pub mod verdict;

use crate::runtime::agent::{AgentError, AttemptFiles, AttemptRequest, Usage};
use crate::runtime::journal::{self, Event, FailureKind, Journal, Record, RunStatus, RunsDir};
use crate::runtime::{self, RunOptions};
use prompt::Feedback;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
pub use verdict::Verdict;

/// At most this many rounds (`--rounds`).
pub const MAX_ROUNDS: u32 = 100;
/// The default of `--rounds`.
pub const DEFAULT_ROUNDS: u32 = 5;

/// What `score draft` was asked to do.
#[derive(Clone, Debug)]
pub struct DraftRequest {
    /// The specification (Markdown, or any text).
    pub spec: PathBuf,
    /// Where the score will be written (`-o`); `None`: standard output.
    /// Names the file in diagnostics; its directory resolves imports.
    pub output: Option<PathBuf>,
    /// `--agent NAME`.
    pub agent: Option<String>,
    /// `--agents FILE`: a score declaring the agents.
    pub agents_file: Option<PathBuf>,
    /// At most this many rounds (1 to [`MAX_ROUNDS`]).
    pub rounds: u32,
    /// Where the draft's run directory goes (`.score/runs/` below it).
    pub workspace: PathBuf,
    /// Colour in the diagnostics of a broken agents file.
    pub color: bool,
    /// How much of the language each prompt carries (`--reference`).
    pub reference: prompt::Reference,
}

/// How one round ended.
#[derive(Clone, Debug, PartialEq)]
pub enum RoundOutcome {
    /// The score checks clean (perhaps with warnings).
    Clean { warnings: usize },
    /// The score has errors.
    Diagnostics { errors: usize, warnings: usize },
    /// No score came back: why.
    NoScore { kind: FailureKind, why: String },
}

/// One round, as reported.
#[derive(Clone, Debug)]
pub struct Round {
    pub number: u32,
    pub outcome: RoundOutcome,
    pub usage: Usage,
    pub cost_usd: f64,
    pub duration_ms: u64,
}

/// A finished draft.
#[derive(Debug)]
pub struct Drafted {
    /// The run id, and its directory (the journal and logs).
    pub run: String,
    pub run_dir: PathBuf,
    pub agent: String,
    pub rounds: Vec<Round>,
    /// The clean score, when one came back.
    pub score: Option<String>,
    /// The checker's verdict on the last score that came back.
    pub last_verdict: Option<Verdict>,
    /// Why the draft stopped before its rounds ran out (an agent that
    /// cannot start, an endpoint that keeps failing, Ctrl-C).
    pub stopped: Option<String>,
    pub cancelled: bool,
}

impl Drafted {
    pub fn usage(&self) -> Usage {
        let mut total = Usage::default();
        for round in &self.rounds {
            total += round.usage;
        }
        total
    }

    pub fn cost_usd(&self) -> f64 {
        self.rounds.iter().map(|r| r.cost_usd).sum()
    }

    /// 0: a clean score; 1: none after every round (or the agent failed);
    /// 130: cancelled.
    pub fn exit_code(&self) -> u8 {
        if self.cancelled {
            130
        } else if self.score.is_some() {
            0
        } else {
            1
        }
    }

    /// The closing lines: what came of it, the totals, where the journal is.
    pub fn summary(&self, cwd: &Path) -> String {
        let usage = self.usage();
        let shown = self
            .run_dir
            .strip_prefix(cwd)
            .unwrap_or(&self.run_dir)
            .display()
            .to_string();
        let head = match (&self.score, &self.stopped) {
            (Some(_), _) => format!(
                "The score checks clean after {} round{}.",
                self.rounds.len(),
                plural(self.rounds.len())
            ),
            (None, Some(why)) => format!("No score: {why}"),
            (None, None) => format!(
                "No clean score after {} round{}: {}; nothing was written.",
                self.rounds.len(),
                plural(self.rounds.len()),
                match self.rounds.last().map(|r| &r.outcome) {
                    Some(RoundOutcome::NoScore { .. }) => "the last answer held no score (above)",
                    _ => "the last diagnostics are above",
                }
            ),
        };
        format!(
            "{head}\nAgent `{}`: {} tokens in, {} out, ${:.4}. Journal: {shown}/events.jsonl (run {})\n",
            self.agent,
            usage.input_tokens,
            usage.output_tokens,
            self.cost_usd(),
            self.run
        )
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

impl Round {
    /// One line of progress: `round 2/5: 3 errors, 1 warning`.
    pub fn line(&self, rounds: u32) -> String {
        let what = match &self.outcome {
            RoundOutcome::Clean { warnings: 0 } => "checks clean".to_string(),
            RoundOutcome::Clean { warnings } => {
                format!("checks clean ({warnings} warning{})", plural(*warnings))
            }
            RoundOutcome::Diagnostics { errors, warnings } => {
                let mut s = format!("{errors} error{}", plural(*errors));
                if *warnings > 0 {
                    s.push_str(&format!(", {warnings} warning{}", plural(*warnings)));
                }
                s
            }
            RoundOutcome::NoScore { kind, why } => {
                let first = why.lines().next().unwrap_or("").trim();
                format!("no score ({}): {first}", kind.as_str())
            }
        };
        format!(
            "round {}/{rounds}: {what} [{} ms]",
            self.number, self.duration_ms
        )
    }
}

/// Why a draft could not start (exit 2): said with what to do.
#[derive(Debug, Clone, PartialEq)]
pub struct DraftError {
    pub message: String,
    pub help: Option<String>,
}

impl DraftError {
    fn new(message: impl Into<String>, help: Option<&str>) -> DraftError {
        DraftError {
            message: message.into(),
            help: help.map(str::to_string),
        }
    }
}

impl From<agent::AgentChoiceError> for DraftError {
    fn from(e: agent::AgentChoiceError) -> DraftError {
        DraftError {
            message: e.message,
            help: Some(e.help),
        }
    }
}

/// Everything settled before the first round: read once, and the keys
/// hidden, while the process has one thread (see
/// [`runtime::sandbox::hide_secret_values`]).
pub struct Prepared {
    request: DraftRequest,
    spec: String,
    prepared: runtime::Prepared,
    agent: String,
}

impl Prepared {
    /// Warnings worth showing before the first round (what confines
    /// programs here, when something is missing).
    pub fn warnings(&self) -> &[String] {
        &self.prepared.warnings
    }

    pub fn agent(&self) -> &str {
        &self.agent
    }
}

/// Reads the spec, chooses the agent and prepares it (its key, its
/// confinement). Call before any thread starts.
pub fn prepare(
    request: DraftRequest,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Prepared, DraftError> {
    if request.rounds == 0 || request.rounds > MAX_ROUNDS {
        return Err(DraftError::new(
            format!(
                "`--rounds {}` is out of range: a draft has 1 to {MAX_ROUNDS} rounds",
                request.rounds
            ),
            Some("give a number of rounds from 1 to 100 (the default is 5)"),
        ));
    }
    let spec = std::fs::read(&request.spec).map_err(|e| {
        DraftError::new(
            format!(
                "cannot read the specification `{}`: {e}",
                request.spec.display()
            ),
            Some("give the path of a Markdown or text file"),
        )
    })?;
    let spec = String::from_utf8(spec).map_err(|_| {
        DraftError::new(
            format!(
                "the specification `{}` is not UTF-8 text",
                request.spec.display()
            ),
            Some("give a Markdown or text file"),
        )
    })?;
    let (plan, agent) = agent::drafting_plan(
        request.agent.as_deref(),
        request.agents_file.as_deref(),
        request.color,
    )?;
    let prepared = runtime::prepare(plan, &RunOptions::default(), env)
        .map_err(|e| DraftError::new(e, None))?;
    runtime::sandbox::hide_secret_values(&prepared.sandbox);
    Ok(Prepared {
        request,
        spec,
        prepared,
        agent,
    })
}

/// Plays the rounds; `on_round` hears of each as it ends.
pub fn draft(prepared: Prepared, on_round: &(dyn Fn(&Round) + Sync)) -> Result<Drafted, String> {
    runtime::block_on(rounds(prepared, on_round))?
}

/// The files and journal of a draft's run.
struct RunFiles {
    dir: journal::RunDir,
    journal: Journal,
    redactor: std::sync::Arc<runtime::redact::Redactor>,
}

impl RunFiles {
    fn record(&mut self, event: Event) -> Result<(), String> {
        let record = Record {
            at: journal::now_ms(),
            event,
        };
        self.journal
            .append(&record)
            .and_then(|_| self.journal.sync())
            .map_err(|e| {
                format!(
                    "cannot write the journal `{}`: {e}",
                    self.journal.path().display()
                )
            })
    }

    /// Writes a file of the run, its secrets masked.
    fn write(&self, path: &Path, text: &str) -> Result<(), String> {
        std::fs::write(path, self.redactor.text(text).as_bytes())
            .map_err(|e| format!("cannot write `{}`: {e}", path.display()))
    }
}

async fn rounds(prepared: Prepared, on_round: &(dyn Fn(&Round) + Sync)) -> Result<Drafted, String> {
    let Prepared {
        request,
        spec,
        prepared,
        agent,
    } = prepared;
    let plan = &prepared.plan;
    let task = &plan.tasks[0];
    let agent_decl = &plan.agents[&agent];
    let performer = prepared
        .performers
        .get(&agent)
        .ok_or_else(|| format!("no performer for agent `{agent}`"))?
        .clone();
    let redactor = prepared.sandbox.redactor.clone();

    // `.score/` ignores itself, as in a run: a draft never dirties a tree.
    crate::workspace::ignore_runtime_dir(&request.workspace.join(".score"))
        .map_err(|e| e.to_string())?;
    let runs = RunsDir::new(&request.workspace);
    let run_id = journal::new_run_id_after(runs.latest().as_deref());
    let dir = runs.run(&run_id);
    dir.create()
        .map_err(|e| format!("cannot create `{}`: {e}", dir.dir.display()))?;
    let mut journal = Journal::open(&dir.events())
        .map_err(|e| format!("cannot open `{}`: {e}", dir.events().display()))?;
    journal.set_redactor(redactor.clone());
    let mut files = RunFiles {
        dir,
        journal,
        redactor: redactor.clone(),
    };
    files.write(&files.dir.plan(), &crate::plan::to_json(plan))?;

    // An empty directory outside the repository for the agent to play in.
    let scratch = runtime::sandbox::ScratchDir::create(
        &std::env::temp_dir().join(format!("score-draft-{run_id}")),
    )?;
    let work = scratch.path().join("work");
    let tmp_root = scratch.path().join("tmp");
    for d in [&work, &tmp_root] {
        std::fs::create_dir(d).map_err(|e| format!("cannot create `{}`: {e}", d.display()))?;
    }

    let spec_name = request.spec.display().to_string();
    let spec_hash = crate::plan::hash::sha256_hex(spec.as_bytes());
    let (file_name, base_dir) = match &request.output {
        Some(out) => (
            out.display().to_string(),
            out.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
        ),
        None => ("draft.score".to_string(), PathBuf::from(".")),
    };
    files.record(Event::RunStarted {
        run: run_id.clone(),
        score: format!("draft of {spec_name}"),
        source_hash: spec_hash.clone(),
        tasks: 1,
        pid: std::process::id(),
        checkouts: None,
        sources: [(spec_name.clone(), spec_hash.clone())].into(),
        edited: Vec::new(),
        file: None,
    })?;

    let started = Instant::now();
    let mut drafted = Drafted {
        run: run_id.clone(),
        run_dir: files.dir.dir.clone(),
        agent: agent.clone(),
        rounds: Vec::new(),
        score: None,
        last_verdict: None,
        stopped: None,
        cancelled: false,
    };
    let mut feedback: Option<Feedback> = None;
    let mut last_failure = (FailureKind::Check, String::new());
    let seed_base = u64::from_str_radix(&spec_hash[..16], 16).unwrap_or(0);
    let timeout = Duration::from_millis(task.timeout_ms);
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);

    for number in 1..=request.rounds {
        let round_started = Instant::now();
        let text = prompt::render(
            &spec_name,
            &spec,
            &file_name,
            number,
            request.rounds,
            feedback.as_ref(),
            request.reference,
        );
        let logs = files.dir.logs();
        let attempt_files = AttemptFiles::new(&logs, agent::PART, number);
        files.write(&attempt_files.prompt, &text)?;
        files.record(Event::AttemptStarted {
            task: agent::PART.into(),
            attempt: number,
            agent: agent.clone(),
            hash: spec_hash.clone(),
        })?;
        let confinement = prepared.sandbox.attempt(
            &agent,
            agent_decl,
            &work,
            &tmp_root,
            &format!("{}.{number}", agent::PART),
        )?;
        let attempt = AttemptRequest {
            task: agent::PART.into(),
            attempt: number,
            prompt: redactor.text(&text).into_owned(),
            result_schema: (*task.result_schema).clone(),
            has_outputs: true,
            workspace: work.clone(),
            files: attempt_files.clone(),
            timeout,
            seed: journal::splitmix(seed_base ^ u64::from(number)),
            confinement,
            contract: None,
            budget_usd: None,
        };
        let answer = tokio::select! {
            answer = tokio::time::timeout(timeout, performer.perform(&attempt)) => answer,
            _ = &mut ctrl_c => {
                drafted.cancelled = true;
                drafted.stopped = Some("cancelled (Ctrl-C)".into());
                files.record(Event::RunCancelled { in_flight: vec![agent::PART.into()] })?;
                break;
            }
        };
        let (result, usage): (Result<String, (FailureKind, String)>, Usage) = match answer {
            Err(_) => (
                Err((
                    FailureKind::Timeout,
                    format!(
                        "the agent did not answer within {}",
                        crate::plan::format_duration(task.timeout_ms)
                    ),
                )),
                Usage::default(),
            ),
            Ok(Err(AgentError::Failed { message, usage })) => {
                (Err((FailureKind::Agent, message)), usage)
            }
            Ok(Err(AgentError::Setup { message })) => {
                (Err((FailureKind::Setup, message)), Usage::default())
            }
            Ok(Err(AgentError::Transport { message })) => {
                (Err((FailureKind::Transport, message)), Usage::default())
            }
            Ok(Ok(reply)) => (
                reply
                    .result
                    .map_err(|why| (FailureKind::InvalidOutput, why))
                    .and_then(score_of),
                reply.usage,
            ),
        };
        let cost_usd = runtime::price(agent_decl, usage);
        let duration_ms = round_started.elapsed().as_millis() as u64;
        let outcome = match result {
            Ok(score) => {
                let verdict = verdict::check_text(&file_name, &score, &base_dir);
                files.write(
                    &logs.join(format!("{}.{number}.score", agent::PART)),
                    &score,
                )?;
                files.write(
                    &logs.join(format!("{}.{number}.diagnostics.jsonl", agent::PART)),
                    &verdict.json_lines,
                )?;
                let tally = verdict.tally;
                if verdict.clean() {
                    let outputs = json!({ "score_text": score });
                    files.write(&files.dir.output(agent::PART), &outputs.to_string())?;
                    files.record(Event::TaskSucceeded {
                        task: agent::PART.into(),
                        hash: spec_hash.clone(),
                        inputs_hash: spec_hash.clone(),
                        outputs,
                        attempts: number,
                        tokens_in: drafted.usage().input_tokens + usage.input_tokens,
                        tokens_out: drafted.usage().output_tokens + usage.output_tokens,
                        cost_usd: drafted.cost_usd() + cost_usd,
                        duration_ms: started.elapsed().as_millis() as u64,
                        cached_from: None,
                        commit: None,
                        cache_checks: None,
                    })?;
                    drafted.score = Some(redactor.text(&score).into_owned());
                    drafted.last_verdict = Some(verdict);
                    RoundOutcome::Clean {
                        warnings: tally.warnings,
                    }
                } else {
                    last_failure = (FailureKind::Check, verdict.human.clone());
                    files.record(Event::AttemptFailed {
                        task: agent::PART.into(),
                        attempt: number,
                        kind: FailureKind::Check,
                        message: format!("`score check` found {tally}\n{}", verdict.human),
                        tokens_in: usage.input_tokens,
                        tokens_out: usage.output_tokens,
                        cost_usd,
                        duration_ms,
                    })?;
                    feedback = Some(Feedback::Diagnostics {
                        score,
                        json_lines: verdict.json_lines.clone(),
                        explanations: verdict.explanations.clone(),
                    });
                    drafted.last_verdict = Some(verdict);
                    RoundOutcome::Diagnostics {
                        errors: tally.errors,
                        warnings: tally.warnings,
                    }
                }
            }
            Err((kind, why)) => {
                last_failure = (kind, why.clone());
                files.record(Event::AttemptFailed {
                    task: agent::PART.into(),
                    attempt: number,
                    kind,
                    message: why.clone(),
                    tokens_in: usage.input_tokens,
                    tokens_out: usage.output_tokens,
                    cost_usd,
                    duration_ms,
                })?;
                feedback = Some(Feedback::NoScore { why: why.clone() });
                if matches!(kind, FailureKind::Setup | FailureKind::Transport) {
                    drafted.stopped = Some(format!(
                        "the agent `{agent}` cannot be reached or started ({}): {why}",
                        kind.as_str()
                    ));
                }
                RoundOutcome::NoScore { kind, why }
            }
        };
        let round = Round {
            number,
            outcome,
            usage,
            cost_usd,
            duration_ms,
        };
        on_round(&round);
        drafted.rounds.push(round);
        if drafted.score.is_some() || drafted.stopped.is_some() {
            break;
        }
    }

    if drafted.score.is_none() {
        let (kind, message) = if drafted.cancelled {
            (FailureKind::Agent, "cancelled".to_string())
        } else {
            last_failure
        };
        files.record(Event::TaskFailed {
            task: agent::PART.into(),
            hash: spec_hash.clone(),
            attempts: drafted.rounds.len() as u32,
            kind,
            message,
        })?;
    }
    let (status, succeeded, failed) = match (&drafted.score, drafted.cancelled) {
        (_, true) => (RunStatus::Cancelled, 0, 0),
        (Some(_), _) => (RunStatus::Succeeded, 1, 0),
        (None, _) => (RunStatus::Failed, 0, 1),
    };
    files.record(Event::RunFinished {
        status,
        succeeded,
        failed,
        remaining: usize::from(drafted.cancelled),
    })?;
    Ok(drafted)
}

/// The score in an agent's result object: `{"score_text": "..."}`.
fn score_of(value: Value) -> Result<String, (FailureKind, String)> {
    match value.get("score_text") {
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.clone()),
        Some(Value::String(_)) => Err((
            FailureKind::InvalidOutput,
            "the `score_text` property is empty: put the whole text of the score in it".into(),
        )),
        _ => Err((
            FailureKind::InvalidOutput,
            "the answer has no `score_text` property holding the score's text as a string".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_score_is_read_from_its_property_only() {
        assert_eq!(
            score_of(json!({"score_text": "part a {}"})).unwrap(),
            "part a {}"
        );
        for wrong in [
            json!({}),
            json!({"score_text": 3}),
            json!({"score_text": "  "}),
        ] {
            let (kind, why) = score_of(wrong).unwrap_err();
            assert_eq!(kind, FailureKind::InvalidOutput);
            assert!(why.contains("`score_text`"), "{why}");
        }
    }

    #[test]
    fn a_round_line_says_what_came_back() {
        let round = |outcome| Round {
            number: 2,
            outcome,
            usage: Usage::default(),
            cost_usd: 0.0,
            duration_ms: 7,
        };
        assert_eq!(
            round(RoundOutcome::Diagnostics {
                errors: 3,
                warnings: 1
            })
            .line(5),
            "round 2/5: 3 errors, 1 warning [7 ms]"
        );
        assert_eq!(
            round(RoundOutcome::Clean { warnings: 0 }).line(5),
            "round 2/5: checks clean [7 ms]"
        );
        let line = round(RoundOutcome::NoScore {
            kind: FailureKind::InvalidOutput,
            why: "no JSON\nmore".into(),
        })
        .line(5);
        assert_eq!(line, "round 2/5: no score (invalid output): no JSON [7 ms]");
    }

    #[test]
    fn out_of_range_rounds_and_an_unreadable_spec_are_refused_before_anything() {
        let dir = tempfile::tempdir().unwrap();
        let request = |rounds, spec: &str| DraftRequest {
            spec: dir.path().join(spec),
            output: None,
            agent: Some("mock".into()),
            agents_file: None,
            rounds,
            workspace: dir.path().to_path_buf(),
            color: false,
            reference: prompt::Reference::Full,
        };
        let none = |_: &str| None;
        let e = prepare(request(0, "s.md"), &none).err().unwrap();
        assert!(e.message.contains("--rounds 0"), "{e:?}");
        let e = prepare(request(3, "missing.md"), &none).err().unwrap();
        assert!(e.message.contains("cannot read the specification"), "{e:?}");
        assert!(!dir.path().join(".score").exists(), "no run was started");
    }
}
