//! The plan compiler: a checked score becomes a versioned JSON execution
//! plan (`"format": "score-plan/1"`), the input of `score run`.
//!
//! Only `compile` reads the checked model; everything else works on the
//! plan's own types (`types`): the schedule (waves and critical path), the
//! JSON Schemas of values, the hashes, the prompts, the summary of
//! `score plan` and the pictures of `score graph` (in [`crate::graph`]).
//! The format is documented field by field in `docs/plan.md`, and as a JSON
//! Schema in `schemas/score-plan-1.json`.

pub(crate) mod compile;
pub(crate) mod consistency;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod hash;
pub(crate) mod prompt;
pub mod schedule;
pub(crate) mod schema;
pub(crate) mod summary;
pub(crate) mod types;

pub use compile::{BuildError, build};
pub use summary::summary;
pub use types::*;

use serde_json::Value;
use std::fmt;

/// The plan format's JSON Schema (draft 2020-12).
pub const PLAN_SCHEMA: &str = include_str!("../../schemas/score-plan-1.json");

/// The plan as pretty JSON: keys sorted, two-space indentation, a final
/// line break. The same plan always gives the same bytes.
///
/// The types serialise with sorted keys (see `types`), so the plan is
/// written straight from them, without a `Value` tree to sort (a 10 000 task
/// plan is tens of megabytes); JSON Schemas are written on one line. Tests
/// check that every object's keys come out sorted.
pub fn to_json(plan: &Plan) -> String {
    let mut bytes = Vec::with_capacity(plan.tasks.len() * 10 * 1024 + 4096);
    if serde_json::to_writer_pretty(&mut bytes, plan).is_err() {
        bytes.clear();
    }
    bytes.push(b'\n');
    // serde_json writes UTF-8 only.
    String::from_utf8(bytes).unwrap_or_default()
}

/// `value` as pretty JSON with every object's keys sorted (no final line
/// break).
pub fn pretty_sorted(value: &Value) -> String {
    serde_json::to_string_pretty(&sort_keys(value)).unwrap_or_default()
}

/// Whether every object in `value` has its keys in sorted order (as the
/// text it was parsed from had them: this crate's serde_json keeps order).
pub fn keys_are_sorted(value: &Value) -> bool {
    match value {
        Value::Object(map) => {
            map.keys().zip(map.keys().skip(1)).all(|(a, b)| a < b)
                && map.values().all(keys_are_sorted)
        }
        Value::Array(items) => items.iter().all(keys_are_sorted),
        _ => true,
    }
}

/// A copy of `value` in which every object's keys are sorted. (serde_json
/// keeps insertion order in this crate, so order must be made explicit.)
pub fn sort_keys(value: &Value) -> Value {
    let mut sorted = value.clone();
    sorted.sort_all_objects();
    sorted
}

/// `f` over every item, on all cores for big inputs; results in order.
/// (Building a plan for thousands of parts spends its time in work that is
/// independent per task: rendering prompts, serialising for the hashes.)
pub(crate) fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(8);
    if threads < 2 || items.len() < 512 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(results) => results,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// Why a plan file could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// Not JSON at all.
    Json(String),
    /// JSON, but another format (or none).
    Format(Option<String>),
    /// Does not match the plan's JSON Schema: one message per problem.
    Schema(Vec<String>),
    /// Matches the schema but its tasks cannot be scheduled.
    Graph(String),
    /// Its tasks can be scheduled, but it refers to things it does not
    /// define (an agent, a task's output, ...): one message per problem.
    Inconsistent(Vec<String>),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Json(e) => write!(f, "the plan is not valid JSON: {e}"),
            LoadError::Format(None) => write!(
                f,
                "this JSON file is not a score plan: it has no \"format\" field (expected \"{FORMAT}\"); build one with `score build FILE.score`"
            ),
            LoadError::Format(Some(found)) => write!(
                f,
                "the plan's format is \"{found}\", but this version of score reads \"{FORMAT}\"; rebuild it with `score build`"
            ),
            LoadError::Schema(problems) => {
                write!(f, "the plan does not match the score-plan/1 schema:")?;
                for p in problems {
                    write!(f, "\n  - {p}")?;
                }
                Ok(())
            }
            LoadError::Graph(e) => write!(f, "the plan's tasks cannot be scheduled: {e}"),
            LoadError::Inconsistent(problems) => {
                write!(
                    f,
                    "the plan contradicts itself (was it edited by hand?); rebuild it with `score build`, or fix:"
                )?;
                for p in problems {
                    write!(f, "\n  - {p}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// Checks a plan document against [`PLAN_SCHEMA`]; on failure, one message
/// per problem (`at /tasks/0/retries: -1 is less than the minimum of 0`).
pub fn validate(plan: &Value) -> Result<(), Vec<String>> {
    let schema: Value = serde_json::from_str(PLAN_SCHEMA).expect("the plan schema is JSON");
    let validator = jsonschema::draft202012::new(&schema).expect("the plan schema is valid");
    let problems: Vec<String> = validator
        .iter_errors(plan)
        .map(|e| {
            let at = e.instance_path().to_string();
            if at.is_empty() {
                e.to_string()
            } else {
                format!("at {at}: {e}")
            }
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Reads a plan file's text: checks its format and schema, that its tasks
/// form a graph that can run, and that every name it uses is defined in it
/// (`plan::consistency`): the runtime trusts a loaded plan.
pub fn load(text: &str) -> Result<Plan, LoadError> {
    let value: Value = serde_json::from_str(text).map_err(|e| LoadError::Json(e.to_string()))?;
    match value.get("format") {
        Some(Value::String(f)) if f == FORMAT => {}
        Some(Value::String(f)) => return Err(LoadError::Format(Some(f.clone()))),
        Some(other) => return Err(LoadError::Format(Some(other.to_string()))),
        None => return Err(LoadError::Format(None)),
    }
    validate(&value).map_err(LoadError::Schema)?;
    let plan: Plan =
        serde_json::from_value(value).map_err(|e| LoadError::Schema(vec![e.to_string()]))?;
    schedule::schedule(&plan.tasks).map_err(|e| LoadError::Graph(e.to_string()))?;
    let problems = consistency::problems(&plan);
    if !problems.is_empty() {
        return Err(LoadError::Inconsistent(problems));
    }
    Ok(plan)
}

/// Reads and validates a plan file (`score build -o FILE`); the error
/// names the file and says what is wrong with it.
pub fn load_file(path: &std::path::Path) -> Result<Plan, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the plan `{}`: {e}", path.display()))?;
    load(&text).map_err(|e| format!("`{}`: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorted_keys_are_recognised() {
        let sorted: Value = serde_json::from_str(r#"{"a": [{"x": 1, "y": 2}], "b": {}}"#).unwrap();
        assert!(keys_are_sorted(&sorted));
        let unsorted: Value =
            serde_json::from_str(r#"{"a": [{"y": 1, "x": 2}], "b": {}}"#).unwrap();
        assert!(!keys_are_sorted(&unsorted));
        assert!(keys_are_sorted(&sort_keys(&unsorted)));
    }

    #[test]
    fn schemas_are_written_on_one_line_with_sorted_keys() {
        let schema = Schema::new(json!({"type": "object", "properties": {"b": {}, "a": {}}}));
        let text = serde_json::to_string_pretty(&vec![schema.clone()]).unwrap();
        assert_eq!(
            text,
            "[\n  {\"properties\":{\"a\":{},\"b\":{}},\"type\":\"object\"}\n]"
        );
        assert!(
            schema
                .pretty()
                .starts_with("{\n  \"properties\": {\n    \"a\"")
        );
        let back: Schema = serde_json::from_str(schema.compact()).unwrap();
        assert_eq!(back, schema);
    }
}
