//! One task in flight, from dispatch to result: a cached result reused if
//! it still holds, else the agent's attempts, each verified, with feedback
//! on retries, and finally the landing of the part's work.
//!
//! The conductor (`conduct.rs`) spawns [`play`] for each task it dispatches
//! and hears back over its channel (`Msg`): attempts starting and failing,
//! durable records to wait for, and the task's result. Everything here runs
//! off the conductor's loop.
//!
//! An attempt is a sequence of named steps, each a function below:
//! the budget gate ([`budget_refuses`]), the prompt file, [`perform`] (the
//! agent within the part's timeout), [`apply_edits`] (an HTTP agent's file
//! edits), [`enforce_boundary`] (what it changed outside `owns` is undone),
//! [`verify`] (result schema, checks) and [`land`] (commit and merge).

use super::agent::{AgentError, AttemptFiles, AttemptRequest, Performer, Usage};
use super::conduct::{Msg, Shared, TaskResult, merge_message};
use super::files::Cached;
use super::inputs::{fill_prompt, inputs_hash};
use super::isolation::{Isolation, commit_message, needs_checkout, writes_through_edits};
use super::journal::{CacheChecks, Event, FailureKind};
use super::sandbox::Confinement;
use super::verify::{feedback, run_check};
use crate::plan::{Agent, Budget, Provider, Task};
use crate::workspace::Checkout;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why an attempt was not accepted: a kind and a message for the journal
/// and for the next attempt's feedback.
type Failure = (FailureKind, String);

/// One task, from dispatch to result: its attempts, each verified, with
/// feedback on retries. A cached result is re-verified by its checks
/// instead of being played again.
pub(super) async fn play(
    shared: Arc<Shared>,
    i: usize,
    inputs: BTreeMap<String, Value>,
    first_attempt: u32,
    cached: Option<Cached>,
) {
    let result = attempts(&shared, i, &inputs, first_attempt, cached).await;
    let _ = shared.tx.send(Msg::Finished(i, result));
}

/// The attempts of task `i`, from `first_attempt` up to its retries, until
/// one is accepted, the budget refuses another, or a fault no retry can
/// help (setup, transport) stops the task.
async fn attempts(
    shared: &Shared,
    i: usize,
    inputs: &BTreeMap<String, Value>,
    first_attempt: u32,
    cached: Option<Cached>,
) -> TaskResult {
    let plan = &shared.plan;
    let task = &plan.tasks[i];
    let agent = &plan.agents[&task.agent];
    let inputs_hash = inputs_hash(inputs);
    let started = Instant::now();
    let failed = |kind: FailureKind, message: String| TaskResult::Failed {
        kind,
        message,
        usage: Usage::default(),
        cost: 0.0,
        duration_ms: started.elapsed().as_millis() as u64,
    };
    let isolation = shared
        .isolation
        .as_deref()
        .filter(|_| needs_checkout(task, agent));

    if let Some(cached) = cached
        && let Some(result) = reuse(shared, task, isolation, cached, &inputs_hash, started).await
    {
        return result;
    }

    let Some(performer) = shared.performers.get(&task.agent) else {
        return failed(
            FailureKind::Setup,
            format!("no performer for agent `{}`", task.agent),
        );
    };
    let checkout = match isolation {
        Some(isolation) => match isolation.checkout(&task.id).await {
            Ok(checkout) => Some(checkout),
            Err(e) => return failed(FailureKind::Setup, e),
        },
        None => None,
    };
    let cwd = match (isolation, &checkout) {
        (Some(isolation), Some(checkout)) => isolation.cwd(checkout),
        _ => shared.workspace.clone(),
    };
    let edits = isolation.is_some() && writes_through_edits(task, agent);
    let writes_prompt_file = !matches!(agent.provider, Provider::Mock { .. });
    let (base_prompt, result_schema) = prompt_and_schema(task, inputs, edits);
    // The part's contract, for a program that reads it from a file in the
    // part's own checkout (never written into a person's working tree).
    let contract = (checkout.is_some() && matches!(agent.provider, Provider::Command { .. }))
        .then(|| Arc::<str>::from(super::instructions::contract(task, inputs)));
    let allowed = task.retries.saturating_add(1);
    let last_attempt = first_attempt.saturating_add(task.retries);
    let mut prompt_feedback = String::new();
    let mut total_usage = Usage::default();
    let mut total_cost = 0.0;
    let mut last: Failure = (FailureKind::Agent, String::new());

    for attempt in first_attempt..=last_attempt {
        let nth = attempt - first_attempt + 1;
        if let Some(message) = budget_refuses(shared, task, total_usage, total_cost, nth - 1) {
            last = (FailureKind::Budget, message);
            break;
        }
        let files = AttemptFiles::new(&shared.logs, &task.id, attempt);
        // Feedback quotes what programs printed: never a secret.
        let prompt = shared
            .sandbox
            .redactor
            .text(&format!("{base_prompt}{prompt_feedback}"))
            .into_owned();
        let confinement = match confine(shared, task, agent, checkout.as_ref(), attempt) {
            Ok(confinement) => confinement,
            Err(e) => {
                last = (FailureKind::Setup, e);
                break;
            }
        };
        if writes_prompt_file && let Err(e) = std::fs::write(&files.prompt, &prompt) {
            last = (
                FailureKind::Setup,
                format!(
                    "cannot write the prompt file `{}`: {e}",
                    files.prompt.display()
                ),
            );
            break;
        }
        let _ = shared.tx.send(Msg::Event(Event::AttemptStarted {
            task: task.id.clone(),
            attempt,
            agent: task.agent.clone(),
            hash: task.hash.clone(),
        }));
        let request = AttemptRequest {
            task: task.id.clone(),
            attempt,
            prompt,
            result_schema: result_schema.clone(),
            has_outputs: !task.outputs.is_empty() || edits,
            workspace: cwd.clone(),
            files,
            timeout: Duration::from_millis(task.timeout_ms),
            seed: attempt_seed(task, attempt),
            confinement: confinement.clone(),
            contract: contract.clone(),
            budget_usd: budget_left_usd(
                shared.plan.score.budget.as_ref(),
                shared.spend.usd(),
                task.budget.as_ref(),
                total_cost,
            ),
        };
        let attempt_started = Instant::now();
        let (mut outcome, usage) = match perform(performer.as_ref(), &request, task).await {
            Answer::Fault(fault) => {
                last = fault;
                journal_attempt_failed(
                    shared,
                    task,
                    attempt,
                    &last,
                    Usage::default(),
                    0.0,
                    attempt_started,
                );
                break;
            }
            Answer::Value(value, usage) => (Ok(value), usage),
            Answer::Failed(failure, usage) => (Err(failure), usage),
        };
        outcome = match (edits, isolation, &checkout, outcome) {
            (true, Some(isolation), Some(checkout), Ok(value)) => {
                apply_edits(isolation, checkout, value).await
            }
            (.., outcome) => outcome,
        };
        // What the attempt changed outside its boundary is undone, whatever
        // else happened: the next attempt starts from the part's own work.
        if let (Some(isolation), Some(checkout)) = (isolation, &checkout) {
            outcome = match enforce_boundary(isolation, checkout, &task.owns, outcome).await {
                Ok(outcome) => outcome,
                Err(e) => {
                    last = (FailureKind::Setup, e);
                    break;
                }
            };
        }
        if let Ok(value) = &outcome
            && let Err(failure) = verify(
                shared,
                task,
                value,
                attempt,
                Place {
                    cwd: &cwd,
                    isolation,
                    checkout: checkout.as_ref(),
                    confinement: &confinement,
                },
            )
            .await
        {
            outcome = Err(failure);
        }
        let cost = price(agent, usage);
        shared.spend.add(usage, cost);
        total_usage += usage;
        total_cost += cost;
        match outcome {
            Ok(value) => {
                let mut result = TaskResult::Succeeded {
                    outputs: value,
                    inputs_hash: inputs_hash.clone(),
                    attempts: attempt,
                    usage: total_usage,
                    cost: total_cost,
                    duration_ms: started.elapsed().as_millis() as u64,
                    cached_from: None,
                    commit: None,
                    cache_checks: None,
                };
                if let (Some(isolation), Some(checkout)) = (isolation, checkout) {
                    result = land(shared, isolation, task, checkout, result).await;
                }
                return result;
            }
            Err(failure) => {
                journal_attempt_failed(
                    shared,
                    task,
                    attempt,
                    &failure,
                    usage,
                    cost,
                    attempt_started,
                );
                prompt_feedback = feedback(nth, allowed, &failure.1);
                last = failure;
            }
        }
    }
    TaskResult::Failed {
        kind: last.0,
        message: last.1,
        usage: total_usage,
        cost: total_cost,
        duration_ms: started.elapsed().as_millis() as u64,
    }
}

/// The seed of attempt `attempt` of `task`: from its hash, so that a mock
/// answers the same attempt of the same task the same way (and a
/// rehearsal shows what a mock run would get).
pub(super) fn attempt_seed(task: &Task, attempt: u32) -> u64 {
    let base = u64::from_str_radix(&task.hash[..task.hash.len().min(16)], 16).unwrap_or(0);
    super::journal::splitmix(base ^ u64::from(attempt))
}

/// The task's prompt (its inputs filled in) and the schema its result must
/// match. An HTTP agent that writes files does so through its answer: an
/// `edits` list beside the outputs, which the runtime applies in the
/// checkout; the schema requires it and the prompt says how.
fn prompt_and_schema(
    task: &Task,
    inputs: &BTreeMap<String, Value>,
    edits: bool,
) -> (String, Value) {
    let mut base_prompt = fill_prompt(task, inputs);
    let mut result_schema: Value = (*task.result_schema).clone();
    if edits {
        if let Some(edits_list) = crate::workspace::edits_schema()
            .get("properties")
            .and_then(|p| p.get("edits"))
            .cloned()
            && let Some(object) = result_schema.as_object_mut()
        {
            if let Some(Value::Object(properties)) = object.get_mut("properties") {
                properties.insert("edits".into(), edits_list);
            }
            if let Some(Value::Array(required)) = object.get_mut("required") {
                required.push(Value::String("edits".into()));
            } else {
                object.insert("required".into(), serde_json::json!(["edits"]));
            }
        }
        base_prompt.push_str("\n\n## Writing files\n\n");
        base_prompt.push_str(crate::workspace::EDITS_INSTRUCTIONS);
        base_prompt.push_str(
            "\nPut the list in the `edits` property of the JSON object you return, beside the outputs.\n",
        );
    }
    (base_prompt, result_schema)
}

/// What an attempt cost: what the agent reported, else its tokens at the
/// agent's prices.
pub(crate) fn price(agent: &Agent, usage: Usage) -> f64 {
    usage.cost_usd.unwrap_or_else(|| {
        usage.input_tokens as f64 * agent.price_in.unwrap_or(0.0) / 1e6
            + usage.output_tokens as f64 * agent.price_out.unwrap_or(0.0) / 1e6
    })
}

/// What is left of the score's and the part's money budgets (the smaller),
/// for an agent that can stop itself at a budget; `None` without one.
fn budget_left_usd(
    score: Option<&Budget>,
    score_spent: f64,
    part: Option<&Budget>,
    part_spent: f64,
) -> Option<f64> {
    let score = score.and_then(|b| b.usd).map(|usd| usd - score_spent);
    let part = part.and_then(|b| b.usd).map(|usd| usd - part_spent);
    match (score, part) {
        (Some(a), Some(b)) => Some(a.min(b).max(0.0)),
        (a, b) => a.or(b).map(|usd| usd.max(0.0)),
    }
}

/// Why another attempt may not start, if it may not: the score's budget
/// (shared by every task in flight) or the part's own, given what the
/// task's `attempts_made` have used so far.
fn budget_refuses(
    shared: &Shared,
    task: &Task,
    usage: Usage,
    cost: f64,
    attempts_made: u32,
) -> Option<String> {
    shared
        .plan
        .score
        .budget
        .as_ref()
        .and_then(|b| shared.spend.refuses(b))
        .or_else(|| part_budget_refuses(task.budget.as_ref(), usage, cost, attempts_made))
}

/// What the agent answered.
enum Answer {
    /// A result object, still to be verified.
    Value(Value, Usage),
    /// No acceptable result: the attempt failed (and may be retried).
    Failed(Failure, Usage),
    /// A fault no retry can help (setup, transport): the task stops.
    Fault(Failure),
}

/// The agent plays the attempt, within the part's timeout.
async fn perform(performer: &dyn Performer, request: &AttemptRequest, task: &Task) -> Answer {
    let reply = tokio::time::timeout(request.timeout, performer.perform(request)).await;
    match reply {
        Err(_) => Answer::Failed(
            (
                FailureKind::Timeout,
                format!(
                    "the attempt did not finish within the part's timeout of {} and was stopped",
                    crate::plan::format_duration(task.timeout_ms)
                ),
            ),
            Usage::default(),
        ),
        Ok(Err(AgentError::Setup { message })) => Answer::Fault((FailureKind::Setup, message)),
        Ok(Err(AgentError::Transport { message })) => {
            Answer::Fault((FailureKind::Transport, message))
        }
        Ok(Err(AgentError::Failed { message, usage })) => {
            Answer::Failed((FailureKind::Agent, message), usage)
        }
        Ok(Ok(reply)) => match reply.result {
            Err(why) => Answer::Failed((FailureKind::InvalidOutput, why), reply.usage),
            Ok(value) => Answer::Value(value, reply.usage),
        },
    }
}

/// An HTTP agent's file edits (the `edits` list beside its outputs) are
/// applied in the part's checkout; the value keeps the outputs only.
async fn apply_edits(
    isolation: &Isolation,
    checkout: &Checkout,
    mut value: Value,
) -> Result<Value, Failure> {
    let list = value
        .as_object_mut()
        .and_then(|o| o.remove("edits"))
        .unwrap_or(Value::Array(Vec::new()));
    match crate::workspace::parse_edits(&serde_json::json!({ "edits": list })) {
        Err(e) => Err((FailureKind::InvalidOutput, e.to_string())),
        Ok(list) => match isolation.apply_edits(checkout, list).await {
            Err(e) => Err((FailureKind::InvalidOutput, e)),
            Ok(_) => Ok(value),
        },
    }
}

/// Undoes what the attempt changed outside the part's `owns`: a violation
/// fails the attempt (`boundary`), naming what was undone, whatever else
/// happened. `Err`: the checkout could not be inspected (the task stops).
async fn enforce_boundary(
    isolation: &Isolation,
    checkout: &Checkout,
    owns: &[String],
    outcome: Result<Value, Failure>,
) -> Result<Result<Value, Failure>, String> {
    match isolation.enforce(checkout, owns).await {
        Ok(None) => Ok(outcome),
        Ok(Some((_, feedback))) => {
            let message = match outcome {
                Err((_, other)) => format!("{feedback}\nBesides: {other}"),
                Ok(_) => feedback,
            };
            Ok(Err((FailureKind::Boundary, message)))
        }
        Err(e) => Err(e),
    }
}

/// The boundary of attempt `attempt` of `task`'s programs (its agent's
/// and its checks): its checkout (or, without one, the workspace) and a
/// private TMPDIR, below the checkout's temporary directory outside the
/// repository (or, without a checkout, next to the run's logs).
fn confine(
    shared: &Shared,
    task: &Task,
    agent: &Agent,
    checkout: Option<&Checkout>,
    attempt: u32,
) -> Result<Confinement, String> {
    match checkout {
        Some(checkout) => shared.sandbox.attempt(
            &task.agent,
            agent,
            checkout.path(),
            checkout.tmp_dir(),
            &attempt.to_string(),
        ),
        None => shared.sandbox.attempt(
            &task.agent,
            agent,
            &shared.workspace,
            &shared.logs.with_file_name("tmp"),
            &format!("{}.{attempt}", task.id),
        ),
    }
}

/// Where an attempt's programs run: the working directory, the checkout
/// (with the isolation it belongs to) and the confinement.
#[derive(Clone, Copy)]
struct Place<'a> {
    cwd: &'a Path,
    isolation: Option<&'a Isolation>,
    checkout: Option<&'a Checkout>,
    confinement: &'a Confinement,
}

/// Verifies an agent's result: it must match the task's result schema,
/// then the part's checks must pass in `cwd`, one after the other; what
/// the checks wrote outside the boundary is undone.
async fn verify(
    shared: &Shared,
    task: &Task,
    value: &Value,
    attempt: u32,
    place: Place<'_>,
) -> Result<(), Failure> {
    let Place {
        cwd,
        isolation,
        checkout,
        confinement,
    } = place;
    if let Err(why) = shared.validators.validate(&task.result_schema, value) {
        return Err((FailureKind::InvalidOutput, why));
    }
    for (k, check) in task.checks.iter().enumerate() {
        let log = shared
            .logs
            .join(format!("{}.{attempt}.check-{}", task.id, k + 1));
        let outcome = run_check(check, cwd, &log, confinement).await;
        if !outcome.passed {
            return Err((FailureKind::Check, outcome.message));
        }
    }
    // What the checks wrote outside the boundary (test reports, caches
    // not in .gitignore) is not the part's work: undone before the commit.
    if let (Some(isolation), Some(checkout)) = (isolation, checkout)
        && let Err(e) = isolation.enforce(checkout, &task.owns).await
    {
        return Err((FailureKind::Setup, e));
    }
    Ok(())
}

/// A verified result's work goes home: committed in the checkout, journaled
/// (durably) as committed, then merged into the integration branch. A part
/// that waits for an approval is merged only once approved.
async fn land(
    shared: &Shared,
    isolation: &Isolation,
    task: &crate::plan::Task,
    checkout: crate::workspace::Checkout,
    mut result: TaskResult,
) -> TaskResult {
    let message = commit_message(task, &isolation.run_id);
    let commit = match isolation.commit(&checkout, message.clone()).await {
        Ok(commit) => commit,
        Err(e) => {
            return TaskResult::Failed {
                kind: FailureKind::Setup,
                message: format!("cannot commit the part's work: {e}"),
                usage: Usage::default(),
                cost: 0.0,
                duration_ms: 0,
            };
        }
    };
    if let TaskResult::Succeeded {
        outputs,
        inputs_hash,
        attempts,
        usage,
        cost,
        duration_ms,
        commit: slot,
        ..
    } = &mut result
    {
        *slot = commit.clone();
        let waits = task.approve.is_some() && !shared.approvals_elsewhere;
        if let (Some(commit), false) = (&commit, waits) {
            let committed = Event::TaskCommitted {
                task: task.id.clone(),
                hash: task.hash.clone(),
                inputs_hash: inputs_hash.clone(),
                commit: commit.clone(),
                outputs: outputs.clone(),
                attempts: *attempts,
                tokens_in: usage.input_tokens,
                tokens_out: usage.output_tokens,
                cost_usd: *cost,
                duration_ms: *duration_ms,
            };
            let (ack, durable) = tokio::sync::oneshot::channel();
            let _ = shared.tx.send(Msg::Durable(committed, ack));
            // Merge only once the commit is on record: a crash from here
            // on is recovered by merging it, never by playing the part again.
            if durable.await.is_err() {
                return TaskResult::Failed {
                    kind: FailureKind::Setup,
                    message: "the run stopped before the part's commit could be journaled".into(),
                    usage: *usage,
                    cost: *cost,
                    duration_ms: *duration_ms,
                };
            }
            if let Err(e) = isolation
                .merge(commit.clone(), merge_message(task, &isolation.run_id))
                .await
            {
                return TaskResult::Failed {
                    kind: FailureKind::Conflict,
                    message: e,
                    usage: *usage,
                    cost: *cost,
                    duration_ms: *duration_ms,
                };
            }
        }
    }
    isolation.release(checkout).await;
    result
}

/// A cached result, reused when it still holds: its outputs still match
/// the result schema and, unless `--trust-cache`, its checks pass again in
/// the part's own tree (with a checkout: a fresh one from this run's
/// branch with the cached commit applied; without: the workspace). Its
/// commit is then merged into this run's integration branch. `None`: play
/// the task (a `cache_rejected` record says why).
async fn reuse(
    shared: &Shared,
    task: &crate::plan::Task,
    isolation: Option<&Isolation>,
    cached: Cached,
    inputs_hash: &str,
    started: Instant,
) -> Option<TaskResult> {
    let reject = |message: String| {
        let _ = shared.tx.send(Msg::Event(Event::CacheRejected {
            task: task.id.clone(),
            cached_from: cached.run.clone(),
            message,
        }));
        None
    };
    if let Err(why) = shared
        .validators
        .validate(&task.result_schema, &cached.outputs)
    {
        return reject(why);
    }
    if isolation.is_some() && cached.commit.is_none() && !cached.worktree && !task.owns.is_empty() {
        // It ran in place: its files are in no commit this run's branch
        // could take. Play it.
        return reject("it ran in place: its files are in no commit this run could take".into());
    }
    let checks = if shared.trust_cache {
        CacheChecks::Trusted
    } else if task.checks.is_empty() {
        CacheChecks::None
    } else {
        if let Err(message) = recheck(shared, task, isolation, cached.commit.as_deref()).await {
            return reject(message);
        }
        CacheChecks::Passed
    };
    if let (Some(isolation), Some(commit)) = (isolation, &cached.commit)
        && let Err(e) = isolation
            .merge(commit.clone(), merge_message(task, &isolation.run_id))
            .await
    {
        return reject(e);
    }
    Some(TaskResult::Succeeded {
        outputs: cached.outputs.clone(),
        inputs_hash: inputs_hash.to_string(),
        attempts: 0,
        usage: Usage::default(),
        cost: 0.0,
        duration_ms: started.elapsed().as_millis() as u64,
        cached_from: Some(cached.run.clone()),
        commit: cached.commit.clone(),
        cache_checks: Some(checks),
    })
}

/// Runs a cached result's checks again where its work would land: with a
/// checkout, a fresh one of this run's branch with `commit` applied (what
/// the merge will make); without, the workspace. `Err`: why it no longer
/// holds.
async fn recheck(
    shared: &Shared,
    task: &crate::plan::Task,
    isolation: Option<&Isolation>,
    commit: Option<&str>,
) -> Result<(), String> {
    let agent = &shared.plan.agents[&task.agent];
    let checkout = match isolation {
        Some(isolation) => {
            let checkout = isolation.checkout(&task.id).await?;
            if let Some(commit) = commit {
                match isolation.apply_commit(&checkout, commit.to_string()).await {
                    Ok(true) => {}
                    Ok(false) => {
                        isolation.release(checkout).await;
                        return Err(format!(
                            "its commit {} conflicts with this run's branch",
                            &commit[..commit.len().min(12)]
                        ));
                    }
                    Err(e) => {
                        isolation.release(checkout).await;
                        return Err(e);
                    }
                }
            }
            Some(checkout)
        }
        None => None,
    };
    let (cwd, confinement) = match (isolation, &checkout) {
        (Some(isolation), Some(checkout)) => (
            isolation.cwd(checkout),
            shared.sandbox.attempt(
                &task.agent,
                agent,
                checkout.path(),
                checkout.tmp_dir(),
                "cache",
            ),
        ),
        _ => (
            shared.workspace.clone(),
            shared.sandbox.attempt(
                &task.agent,
                agent,
                &shared.workspace,
                &shared.logs.with_file_name("tmp"),
                &format!("{}.cache", task.id),
            ),
        ),
    };
    let mut verdict = Ok(());
    match confinement {
        Err(e) => verdict = Err(e),
        Ok(confinement) => {
            for (k, check) in task.checks.iter().enumerate() {
                let log = shared
                    .logs
                    .join(format!("{}.cache-check-{}", task.id, k + 1));
                let outcome = run_check(check, &cwd, &log, &confinement).await;
                if !outcome.passed {
                    verdict = Err(outcome.message);
                    break;
                }
            }
        }
    }
    if let (Some(isolation), Some(checkout)) = (isolation, checkout) {
        isolation.release(checkout).await;
    }
    verdict
}

fn journal_attempt_failed(
    shared: &Shared,
    task: &crate::plan::Task,
    attempt: u32,
    failure: &(FailureKind, String),
    usage: Usage,
    cost: f64,
    started: Instant,
) {
    let _ = shared.tx.send(Msg::Event(Event::AttemptFailed {
        task: task.id.clone(),
        attempt,
        kind: failure.0,
        message: failure.1.clone(),
        tokens_in: usage.input_tokens,
        tokens_out: usage.output_tokens,
        cost_usd: cost,
        duration_ms: started.elapsed().as_millis() as u64,
    }));
}

/// Why the part's own budget refuses another attempt: what it spent plus
/// what its attempts have cost on average.
fn part_budget_refuses(
    budget: Option<&Budget>,
    usage: Usage,
    cost: f64,
    attempts: u32,
) -> Option<String> {
    let budget = budget?;
    let n = u64::from(attempts.max(1));
    if let Some(limit) = budget.tokens {
        let spent = usage.total();
        if spent >= limit || (attempts > 0 && spent + spent / n > limit) {
            return Some(format!(
                "the part's budget of {} tokens would be exceeded: {} spent over {attempts} attempt(s)",
                crate::plan::group_thousands(limit),
                crate::plan::group_thousands(spent)
            ));
        }
    }
    if let Some(limit) = budget.usd
        && (cost >= limit || (attempts > 0 && cost + cost / n as f64 > limit))
    {
        return Some(format!(
            "the part's budget of ${limit:.2} would be exceeded: ${cost:.4} spent over {attempts} attempt(s)"
        ));
    }
    None
}
