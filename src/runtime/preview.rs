//! What a run will do, before it does it: per part `done`, `cached` or
//! `run`, and for `run` the first reason (`score plan --diff`, the table at
//! the top of `score run --dry-run`; an MCP server can call [`preview`]).
//!
//! A task's hash says *that* something changed, not *what*: so every
//! accepted result the cache records also carries a hash per field group
//! of its part ([`field_hashes`]: the brief, the contract, the agent, ...)
//! and per input value ([`input_hashes`]). Comparing those with the plan's
//! names the field that changed, the way Terraform's plan names the
//! attribute that forces a replacement.
//!
//! [`preview`] is pure: the plan and what earlier runs recorded
//! ([`Earlier`]) in, one [`PartPreview`] per task out, in plan order.
//! [`load_earlier`] is the I/O around it: it reads the cache and the
//! journal of the latest run of a workspace.

use super::files::CACHE_FILE;
use super::inputs::{inputs_hash, value_of};
use super::journal::{Event, RunsDir};
use crate::plan::hash::{canonical_json, sha256_hex};
use crate::plan::{Agent, Plan, Task};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The field groups of a part whose hashes are recorded, in the order a
/// reason names them (the first that changed wins), each with the task's
/// JSON fields it covers. `agent` also covers the agent's own settings;
/// fields of the task no group names fall under `other`.
const FIELD_GROUPS: &[(&str, &[&str])] = &[
    ("brief", &["brief", "doc", "postconditions"]),
    (
        "contract",
        &[
            "contracts",
            "inputs",
            "outputs",
            "owns",
            "reads",
            "result_schema",
        ],
    ),
    ("intents", &["intents"]),
    ("agent", &["agent"]),
    ("checks", &["checks"]),
    (
        "settings",
        &[
            "approve",
            "budget",
            "complexity",
            "estimate_ms",
            "retries",
            "timeout_ms",
        ],
    ),
    ("order", &["depends_on", "id", "wave"]),
    ("prompt", &["prompt"]),
];

/// The hash of each field group of `task` (played by `agent`): what the
/// cache records beside a result so that a later preview can say which
/// field changed.
pub fn field_hashes(task: &Task, agent: Option<&Agent>) -> BTreeMap<String, String> {
    let mut json = match serde_json::to_value(task) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    json.remove("hash");
    let mut hashes = BTreeMap::new();
    for (group, fields) in FIELD_GROUPS {
        let mut part = serde_json::Map::new();
        for field in *fields {
            if let Some(value) = json.remove(*field) {
                part.insert((*field).to_string(), value);
            }
        }
        if *group == "agent" {
            let agent = agent
                .and_then(|a| serde_json::to_value(a).ok())
                .unwrap_or(Value::Null);
            part.insert("settings".into(), agent);
        }
        hashes.insert(group.to_string(), hash_of(&Value::Object(part)));
    }
    // Whatever a future plan adds to a task still counts.
    hashes.insert("other".into(), hash_of(&Value::Object(json)));
    hashes
}

/// The hash of each input value, by input name.
pub fn input_hashes(values: &BTreeMap<String, Value>) -> BTreeMap<String, String> {
    values
        .iter()
        .map(|(name, value)| (name.clone(), hash_of(value)))
        .collect()
}

fn hash_of(value: &Value) -> String {
    sha256_hex(canonical_json(value).as_bytes())
}

/// One accepted result of an earlier run, as the cache recorded it.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    pub task: String,
    pub hash: String,
    pub inputs_hash: String,
    pub outputs: Value,
    /// The run that produced it.
    pub run: String,
    /// [`field_hashes`] of the part then (`None`: recorded before they
    /// were).
    pub fields: Option<BTreeMap<String, String>>,
    /// [`input_hashes`] of the values it was given then.
    pub inputs: Option<BTreeMap<String, String>>,
}

/// A part done in the run `--resume` would continue.
#[derive(Clone, Debug, PartialEq)]
pub struct DoneRecord {
    pub hash: String,
    pub outputs: Value,
}

/// What earlier runs left: the cache (oldest first) and the run `--resume`
/// would continue, with its parts done.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Earlier {
    pub cache: Vec<Recorded>,
    /// The latest run's id and its parts done (by id).
    pub latest_run: Option<(String, HashMap<String, DoneRecord>)>,
}

/// What a preview compares with, as the run would.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Basis {
    /// Parts done in the latest run count (`--resume`; `score plan --diff`).
    pub done: bool,
    /// Results in the cache count (a new run without `--fresh`).
    pub cache: bool,
}

/// Whether a part will be played.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PreviewStatus {
    /// Done in the run `--resume` would continue.
    Done,
    /// An earlier result is reused (its checks run again first, unless
    /// `--trust-cache`).
    Cached,
    /// Played by its agent.
    Run,
}

impl PreviewStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PreviewStatus::Done => "done",
            PreviewStatus::Cached => "cached",
            PreviewStatus::Run => "run",
        }
    }
}

/// Why a part runs (or what it reuses), machine-readable.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cause {
    /// Done in run `run`.
    Done { run: String },
    /// Reused from run `run`'s result.
    Cached { run: String },
    /// A field group of the part changed (see [`field_hashes`]).
    Changed { field: String },
    /// A part it depends on will run.
    Upstream { part: String },
    /// The value of one of its inputs changed.
    Input { input: String },
    /// No earlier result of this part to reuse.
    NoEarlierResult,
    /// Earlier results exist but none matches, and they cannot say why
    /// (recorded before per-field hashes were).
    HashChanged,
    /// Not done in the run `--resume` continues (failed, skipped, never
    /// started).
    NotDone { run: String },
    /// `--fresh`: nothing earlier is reused.
    Fresh,
}

impl Cause {
    /// The reason in words.
    pub fn describe(&self) -> String {
        match self {
            Cause::Done { run } => format!("done in run {run}"),
            Cause::Cached { run } => format!("result of run {run}"),
            Cause::Changed { field } => format!("its {field} changed"),
            Cause::Upstream { part } => format!("`{part}` (upstream) will run"),
            Cause::Input { input } => format!("the value of input `{input}` changed"),
            Cause::NoEarlierResult => "no earlier result".to_string(),
            Cause::HashChanged => "its content changed".to_string(),
            Cause::NotDone { run } => format!("not done in run {run}"),
            Cause::Fresh => "--fresh".to_string(),
        }
    }
}

/// One part of a preview.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartPreview {
    pub part: String,
    pub status: PreviewStatus,
    /// [`Cause::describe`]: the first reason it runs, or where its result
    /// comes from.
    pub reason: String,
    pub cause: Cause,
    /// Its wave, from 1.
    pub wave: usize,
}

/// Each task of `plan` (in plan order): `done`, `cached` or `run`, and why.
///
/// `score_inputs` are the score's input values; an input missing from it
/// is taken to be unchanged. A part is `done` when `basis.done` and the
/// latest run has its success with the hash it has now; else `cached` when
/// `basis.cache` and the cache has its hash with the input values it will
/// get (known when everything upstream is done or cached); else `run`,
/// with the first reason of: a field of its own that changed since its
/// latest recorded result, an upstream part that will run, an input value
/// that changed, no earlier result.
pub fn preview(
    plan: &Plan,
    score_inputs: &BTreeMap<String, Value>,
    earlier: &Earlier,
    basis: Basis,
) -> Vec<PartPreview> {
    // The cache by key, the latest entry winning, and by part.
    let mut by_key: HashMap<(&str, &str), &Recorded> = HashMap::new();
    let mut by_hash: HashMap<&str, Vec<&Recorded>> = HashMap::new();
    let mut latest_of_part: HashMap<&str, &Recorded> = HashMap::new();
    for entry in &earlier.cache {
        by_key.insert((&entry.hash, &entry.inputs_hash), entry);
        by_hash.entry(&entry.hash).or_default().push(entry);
        latest_of_part.insert(&entry.task, entry);
    }
    let index = plan.index();
    let mut out: Vec<PartPreview> = Vec::with_capacity(plan.tasks.len());
    // The outputs each part will have, when known before the run.
    let mut outputs: Vec<Option<&Value>> = vec![None; plan.tasks.len()];
    for (i, task) in plan.tasks.iter().enumerate() {
        let wave = task.wave + 1;
        let entry = |status, cause: Cause| PartPreview {
            part: task.id.clone(),
            status,
            reason: cause.describe(),
            cause,
            wave,
        };
        if basis.done
            && let Some((run, done)) = &earlier.latest_run
            && let Some(record) = done.get(&task.id)
            && record.hash == task.hash
        {
            outputs[i] = Some(&record.outputs);
            out.push(entry(PreviewStatus::Done, Cause::Done { run: run.clone() }));
            continue;
        }
        // Its dependencies that will run, first in plan order.
        let upstream_runs = task
            .depends_on
            .iter()
            .filter_map(|d| index.get(d.as_str()).copied())
            .filter(|&d| d < out.len() && out[d].status == PreviewStatus::Run)
            .min();
        // Its input values, where known: a missing score input or an
        // output of a part that runs is not.
        let values: BTreeMap<String, Option<Value>> = task
            .inputs
            .iter()
            .map(|(name, input)| {
                let known = match &input.source {
                    crate::plan::InputSource::ScoreInput { name } => {
                        score_inputs.contains_key(name)
                    }
                    crate::plan::InputSource::Task { task, .. } => index
                        .get(task.as_str())
                        .is_some_and(|&d| outputs.get(d).is_some_and(Option::is_some)),
                };
                let value = known.then(|| {
                    value_of(input, score_inputs, |dep| {
                        index.get(dep).and_then(|&d| outputs[d])
                    })
                });
                (name.clone(), value)
            })
            .collect();
        if basis.cache && upstream_runs.is_none() {
            let hit = if values.values().all(Option::is_some) {
                let all: BTreeMap<String, Value> = values
                    .iter()
                    .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
                    .collect();
                by_key
                    .get(&(task.hash.as_str(), inputs_hash(&all).as_str()))
                    .copied()
            } else {
                // Some values are unknown: the latest entry with this hash
                // whose known values match.
                by_hash.get(task.hash.as_str()).and_then(|entries| {
                    entries
                        .iter()
                        .rev()
                        .find(|e| inputs_match(e, &values))
                        .copied()
                })
            };
            if let Some(hit) = hit {
                outputs[i] = Some(&hit.outputs);
                out.push(entry(
                    PreviewStatus::Cached,
                    Cause::Cached {
                        run: hit.run.clone(),
                    },
                ));
                continue;
            }
        }
        let cause = why_run(
            task,
            plan,
            &values,
            latest_of_part.get(task.id.as_str()).copied(),
            upstream_runs.map(|d| plan.tasks[d].id.clone()),
            earlier,
            basis,
        );
        out.push(entry(PreviewStatus::Run, cause));
    }
    out
}

/// Whether the known input values match what `entry` was given.
fn inputs_match(entry: &Recorded, values: &BTreeMap<String, Option<Value>>) -> bool {
    let Some(recorded) = &entry.inputs else {
        return true;
    };
    values.iter().all(|(name, value)| match value {
        None => true,
        Some(value) => recorded.get(name) == Some(&hash_of(value)),
    })
}

/// The first reason a part that is neither done nor cached runs.
fn why_run(
    task: &Task,
    plan: &Plan,
    values: &BTreeMap<String, Option<Value>>,
    latest: Option<&Recorded>,
    upstream: Option<String>,
    earlier: &Earlier,
    basis: Basis,
) -> Cause {
    if !basis.done && !basis.cache {
        return Cause::Fresh;
    }
    let Some(latest) = latest else {
        return match (upstream, &earlier.latest_run) {
            (Some(part), _) => Cause::Upstream { part },
            (None, Some((run, _))) if basis.done && !basis.cache => {
                Cause::NotDone { run: run.clone() }
            }
            (None, _) => Cause::NoEarlierResult,
        };
    };
    if let Some(fields) = &latest.fields {
        let now = field_hashes(task, plan.agents.get(&task.agent));
        let changed = FIELD_GROUPS
            .iter()
            .map(|(group, _)| *group)
            .chain(std::iter::once("other"))
            .find(|group| fields.get(*group) != now.get(*group));
        if let Some(field) = changed {
            return Cause::Changed {
                field: field.to_string(),
            };
        }
    }
    if let Some(part) = upstream {
        return Cause::Upstream { part };
    }
    if let Some(recorded) = &latest.inputs {
        for (name, value) in values {
            if let Some(value) = value
                && recorded.get(name) != Some(&hash_of(value))
            {
                return Cause::Input {
                    input: name.clone(),
                };
            }
        }
    }
    match &earlier.latest_run {
        Some((run, _)) if basis.done && !basis.cache => Cause::NotDone { run: run.clone() },
        _ => Cause::HashChanged,
    }
}

/// Reads what earlier runs in `workspace` left: the cache
/// (`.score/cache/results.jsonl`) and the journal of run `run` (default:
/// the latest). What cannot be read counts as absent: a preview never
/// fails on it.
pub fn load_earlier(workspace: &Path, run: Option<&str>) -> Earlier {
    let score_dir = workspace.join(".score");
    let mut cache = Vec::new();
    if let Ok(text) = std::fs::read_to_string(score_dir.join("cache").join(CACHE_FILE)) {
        for line in text.lines() {
            if let Some(entry) = parse_entry(line) {
                cache.push(entry);
            }
        }
    }
    let runs = RunsDir::new(workspace);
    let latest_run = run.map(str::to_string).or_else(|| runs.latest()).map(|id| {
        let mut done = HashMap::new();
        if let Ok(records) = super::journal::read(&runs.run(&id).events()) {
            for record in records {
                if let Event::TaskSucceeded {
                    task,
                    hash,
                    outputs,
                    ..
                } = record.event
                {
                    done.insert(task, DoneRecord { hash, outputs });
                }
            }
        }
        (id, done)
    });
    Earlier { cache, latest_run }
}

/// One line of the cache file, if it is a whole entry.
fn parse_entry(line: &str) -> Option<Recorded> {
    let value: Value = serde_json::from_str(line).ok()?;
    let text = |key: &str| value.get(key)?.as_str().map(str::to_string);
    let map = |key: &str| {
        value
            .get(key)
            .and_then(|m| serde_json::from_value::<BTreeMap<String, String>>(m.clone()).ok())
    };
    Some(Recorded {
        task: text("task")?,
        hash: text("hash")?,
        inputs_hash: text("inputs_hash")?,
        outputs: value.get("outputs")?.clone(),
        run: text("run")?,
        fields: map("fields"),
        inputs: map("inputs"),
    })
}

/// The preview as a table, Terraform-style: `+` runs for the first time,
/// `~` runs again, `=` is reused; then the totals.
pub fn render_table(parts: &[PartPreview]) -> String {
    use std::fmt::Write;
    let width = parts.iter().map(|p| p.part.len()).max().unwrap_or(4).max(4);
    let mut out = String::new();
    for p in parts {
        let mark = match (p.status, &p.cause) {
            (PreviewStatus::Run, Cause::NoEarlierResult) => '+',
            (PreviewStatus::Run, _) => '~',
            _ => '=',
        };
        let _ = writeln!(
            out,
            "  {mark} {:<width$}  wave {:<3} {:<7} {}",
            p.part,
            p.wave,
            p.status.as_str(),
            p.reason
        );
    }
    let count = |s| parts.iter().filter(|p| p.status == s).count();
    let _ = writeln!(
        out,
        "\n{} to run, {} cached, {} done.",
        count(PreviewStatus::Run),
        count(PreviewStatus::Cached),
        count(PreviewStatus::Done)
    );
    out
}

/// The preview as JSON Lines: one object per part with `part`, `status`,
/// `reason`, `cause` and `wave`.
pub fn render_json_lines(parts: &[PartPreview]) -> String {
    let mut out = String::new();
    for p in parts {
        out.push_str(&serde_json::to_string(p).unwrap_or_default());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures;
    use serde_json::json;

    /// A plan `a` → `b` → `c` (each given the one before's `n`), plus
    /// `d` on its own; hashed as the compiler hashes.
    fn plan() -> Plan {
        let input = |from: &str| crate::plan::Input {
            doc: None,
            schema: crate::plan::Schema::new(json!({})),
            source: crate::plan::InputSource::Task {
                task: from.into(),
                output: "n".into(),
            },
            ty: "Int".into(),
        };
        let mut b = fixtures::task("b", &["a"], 10);
        b.inputs.insert("x".into(), input("a"));
        let mut c = fixtures::task("c", &["b"], 10);
        c.inputs.insert("y".into(), input("b"));
        let mut plan = fixtures::plan(vec![
            fixtures::task("a", &[], 10),
            b,
            c,
            fixtures::task("d", &[], 10),
        ]);
        crate::plan::hash::assign_hashes(&mut plan);
        plan
    }

    /// `plan` with part `id`'s brief changed.
    fn with_brief(plan: &Plan, id: &str, brief: &str) -> Plan {
        let mut plan = plan.clone();
        for task in &mut plan.tasks {
            if task.id == id {
                task.brief = Some(brief.into());
            }
        }
        crate::plan::hash::assign_hashes(&mut plan);
        plan
    }

    /// The cache a run of `plan` leaves: every task accepted with the
    /// mock-ish outputs `{"n": i}`.
    fn cache_of(plan: &Plan, run: &str) -> Vec<Recorded> {
        let mut outputs: HashMap<&str, Value> = HashMap::new();
        let mut cache = Vec::new();
        for (i, task) in plan.tasks.iter().enumerate() {
            let values: BTreeMap<String, Value> = task
                .inputs
                .iter()
                .map(|(name, input)| {
                    (
                        name.clone(),
                        value_of(input, &BTreeMap::new(), |d| outputs.get(d)),
                    )
                })
                .collect();
            let out = json!({ "n": i });
            cache.push(Recorded {
                task: task.id.clone(),
                hash: task.hash.clone(),
                inputs_hash: inputs_hash(&values),
                outputs: out.clone(),
                run: run.into(),
                fields: Some(field_hashes(task, plan.agents.get(&task.agent))),
                inputs: Some(input_hashes(&values)),
            });
            outputs.insert(&task.id, out);
        }
        cache
    }

    const NEW_RUN: Basis = Basis {
        done: false,
        cache: true,
    };

    fn statuses(parts: &[PartPreview]) -> Vec<(&str, &str, &str)> {
        parts
            .iter()
            .map(|p| (p.part.as_str(), p.status.as_str(), p.reason.as_str()))
            .collect()
    }

    #[test]
    fn nothing_earlier_means_everything_runs_for_the_first_time() {
        let plan = plan();
        let parts = preview(&plan, &BTreeMap::new(), &Earlier::default(), NEW_RUN);
        assert!(parts.iter().all(|p| p.status == PreviewStatus::Run));
        assert_eq!(parts[0].cause, Cause::NoEarlierResult);
        // Downstream of a part that runs, that is the first reason.
        let c = parts.iter().find(|p| p.part == "c").unwrap();
        assert_eq!(c.cause, Cause::Upstream { part: "b".into() });
    }

    #[test]
    fn an_unchanged_plan_is_all_cached() {
        let plan = plan();
        let earlier = Earlier {
            cache: cache_of(&plan, "r1"),
            latest_run: None,
        };
        let parts = preview(&plan, &BTreeMap::new(), &earlier, NEW_RUN);
        assert!(
            parts.iter().all(|p| p.status == PreviewStatus::Cached),
            "{:?}",
            statuses(&parts)
        );
        assert_eq!(parts[0].reason, "result of run r1");
    }

    #[test]
    fn a_changed_brief_runs_that_part_and_its_dependants_each_with_its_reason() {
        let before = plan();
        let earlier = Earlier {
            cache: cache_of(&before, "r1"),
            latest_run: None,
        };
        let after = with_brief(&before, "b", "A new brief.");
        let parts = preview(&after, &BTreeMap::new(), &earlier, NEW_RUN);
        assert_eq!(
            statuses(&parts),
            vec![
                ("a", "cached", "result of run r1"),
                ("b", "run", "its brief changed"),
                ("c", "run", "`b` (upstream) will run"),
                ("d", "cached", "result of run r1"),
            ]
        );
    }

    #[test]
    fn a_changed_agent_is_named() {
        let before = plan();
        let earlier = Earlier {
            cache: cache_of(&before, "r1"),
            latest_run: None,
        };
        let mut after = before.clone();
        if let Some(agent) = after.agents.get_mut(fixtures::AGENT) {
            agent.price_in = Some(3.0);
        }
        crate::plan::hash::assign_hashes(&mut after);
        let parts = preview(&after, &BTreeMap::new(), &earlier, NEW_RUN);
        assert_eq!(parts[0].reason, "its agent changed");
    }

    #[test]
    fn done_in_the_latest_run_wins_and_fresh_runs_everything() {
        let plan = plan();
        let done: HashMap<String, DoneRecord> = plan
            .tasks
            .iter()
            .take(1)
            .map(|t| {
                (
                    t.id.clone(),
                    DoneRecord {
                        hash: t.hash.clone(),
                        outputs: json!({"n": 0}),
                    },
                )
            })
            .collect();
        let earlier = Earlier {
            cache: cache_of(&plan, "r1"),
            latest_run: Some(("r2".into(), done)),
        };
        let both = Basis {
            done: true,
            cache: true,
        };
        let parts = preview(&plan, &BTreeMap::new(), &earlier, both);
        assert_eq!(
            (parts[0].status, parts[1].status),
            (PreviewStatus::Done, PreviewStatus::Cached)
        );
        let resume = Basis {
            done: true,
            cache: false,
        };
        let parts = preview(&plan, &BTreeMap::new(), &earlier, resume);
        assert_eq!(parts[0].status, PreviewStatus::Done);
        assert_eq!(parts[1].status, PreviewStatus::Run);
        let fresh = Basis {
            done: false,
            cache: false,
        };
        let parts = preview(&plan, &BTreeMap::new(), &earlier, fresh);
        assert!(parts.iter().all(|p| p.cause == Cause::Fresh));
    }

    #[test]
    fn a_changed_upstream_output_is_an_input_that_changed() {
        let plan = plan();
        let mut cache = cache_of(&plan, "r1");
        // `a` was played again since (same hash, same inputs) and answered
        // otherwise; `b` was not played after it.
        let mut a = cache[0].clone();
        a.outputs = json!({"n": 42});
        a.run = "r2".into();
        cache.push(a);
        let earlier = Earlier {
            cache,
            latest_run: None,
        };
        let parts = preview(&plan, &BTreeMap::new(), &earlier, NEW_RUN);
        assert_eq!(parts[0].reason, "result of run r2");
        let b = parts.iter().find(|p| p.part == "b").unwrap();
        assert_eq!(b.status, PreviewStatus::Run);
        assert_eq!(b.cause, Cause::Input { input: "x".into() });
        // And `c` after it.
        assert_eq!(parts[2].cause, Cause::Upstream { part: "b".into() });
    }

    #[test]
    fn json_lines_parse_and_the_table_totals() {
        let plan = plan();
        let parts = preview(&plan, &BTreeMap::new(), &Earlier::default(), NEW_RUN);
        for line in render_json_lines(&parts).lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            assert!(v["part"].is_string() && v["reason"].is_string());
            assert_eq!(v["status"], "run");
        }
        let table = render_table(&parts);
        assert!(table.contains("+ a"), "{table}");
        assert!(table.contains("4 to run, 0 cached, 0 done."), "{table}");
    }

    #[test]
    fn cache_lines_are_read_back() {
        let plan = plan();
        let task = &plan.tasks[0];
        let fields = field_hashes(task, None);
        let line = json!({
            "task": task.id, "hash": task.hash, "inputs_hash": "i", "outputs": {},
            "run": "r", "fields": fields, "inputs": {}
        })
        .to_string();
        let entry = parse_entry(&line).unwrap();
        assert_eq!(entry.fields, Some(fields));
        assert!(parse_entry("{\"task\": 1}").is_none());
    }
}
