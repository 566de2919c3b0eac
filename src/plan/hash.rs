//! Canonical JSON and the plan's hashes.
//!
//! A task's hash identifies what the task will do and everything it builds
//! on: a runtime can skip a task whose hash matches a finished one (resume,
//! caching). So it covers the task's own content, its agent's settings and,
//! through their hashes, every task upstream — a change anywhere upstream
//! changes every hash downstream, and nothing else.

use super::types::{Agent, Plan, Task};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// Writes `value` as canonical JSON: object keys sorted (by their UTF-8
/// bytes), no whitespace, strings escaped as serde_json does.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::String(s) => write_string(s, out),
        // Numbers, booleans and null have one spelling in serde_json.
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(s: &str, out: &mut String) {
    // Serialising a &str cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The hash of all sources: sha256 over one line `NAME SHA256\n` per file,
/// in name order. File names are relative, so the hash does not depend on
/// where the project lives.
pub fn source_hash(sources: &BTreeMap<String, String>) -> String {
    let mut text = String::new();
    for (name, hash) in sources {
        text.push_str(name);
        text.push(' ');
        text.push_str(hash);
        text.push('\n');
    }
    sha256_hex(text.as_bytes())
}

/// A task's content hash: sha256 over
///
/// ```text
/// score-task/1\n
/// task <canonical JSON of the task without its "hash" field>\n
/// agent <canonical JSON of its agent, or null>\n
/// dep <hash>\n        (one line per dependency, hashes sorted)
/// ```
///
/// The agent is included because the same prompt given to another model is
/// another piece of work.
pub fn task_hash(task: &Task, agent: Option<&Agent>, dependency_hashes: &[&str]) -> String {
    let mut value = serde_json::to_value(task).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("hash");
    }
    let task_json = canonical_json(&value);
    hash_parts(&task_json, &agent_json(agent), dependency_hashes)
}

fn agent_json(agent: Option<&Agent>) -> String {
    let agent = agent
        .and_then(|a| serde_json::to_value(a).ok())
        .unwrap_or(Value::Null);
    canonical_json(&agent)
}

fn hash_parts(task_json: &str, agent_json: &str, dependency_hashes: &[&str]) -> String {
    finish(prefix(task_json.as_bytes(), agent_json), dependency_hashes)
}

/// The hash state after the `task` and `agent` lines: what does not depend
/// on other tasks, so it can be computed for all tasks at once.
fn prefix(task_json: &[u8], agent_json: &str) -> Sha256 {
    let mut hasher = Sha256::new();
    hasher.update(b"score-task/1\ntask ");
    hasher.update(task_json);
    hasher.update(b"\nagent ");
    hasher.update(agent_json.as_bytes());
    hasher.update(b"\n");
    hasher
}

fn finish(mut hasher: Sha256, dependency_hashes: &[&str]) -> String {
    let mut deps: Vec<&str> = dependency_hashes.to_vec();
    deps.sort_unstable();
    for dep in deps {
        hasher.update(b"dep ");
        hasher.update(dep.as_bytes());
        hasher.update(b"\n");
    }
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Computes every task's hash, upstream first. `plan.tasks` must be in an
/// order where dependencies come first (wave order is); a dependency that is
/// not a task of the plan is hashed as its bare id, so a malformed plan still
/// gets deterministic hashes.
///
/// Fast path for big plans: a task whose JSON objects are all built with
/// sorted keys (as the compiler builds them) serialises straight to
/// canonical JSON, without an intermediate tree; debug builds check that
/// the two agree.
pub fn assign_hashes(plan: &mut Plan) {
    let agents: HashMap<&str, String> = plan
        .agents
        .iter()
        .map(|(id, a)| (id.as_str(), agent_json(Some(a))))
        .collect();
    let null = agent_json(None);
    for task in plan.tasks.iter_mut() {
        // Empty, the hash is left out of the JSON.
        task.hash = String::new();
    }
    // The expensive part (serialising each task) does not depend on other
    // tasks: do it for all tasks in parallel, then chain the hashes.
    let states: Vec<Sha256> = super::par_map(&plan.tasks, |task| {
        let mut buffer = Vec::with_capacity(8 * 1024);
        if serde_json::to_writer(&mut buffer, task).is_err() {
            buffer.clear();
        }
        debug_assert_eq!(
            String::from_utf8_lossy(&buffer),
            canonical_json(&serde_json::to_value(task).unwrap_or(Value::Null)),
            "task `{}` does not serialise canonically: some object was built unsorted",
            task.id
        );
        prefix(&buffer, agents.get(task.agent.as_str()).unwrap_or(&null))
    });
    let mut done: HashMap<String, String> = HashMap::with_capacity(plan.tasks.len());
    for (task, state) in plan.tasks.iter_mut().zip(states) {
        let deps: Vec<&str> = task
            .depends_on
            .iter()
            .map(|d| done.get(d).map(String::as_str).unwrap_or(d.as_str()))
            .collect();
        let hash = finish(state, &deps);
        done.insert(task.id.clone(), hash.clone());
        task.hash = hash;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        let v = json!({"b": [1, {"z": null, "a": true}], "a": "x\"y", "é": 1.5});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":"x\"y","b":[1,{"a":true,"z":null}],"é":1.5}"#
        );
    }

    #[test]
    fn sha256_of_empty_input_is_the_known_value() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn the_fast_path_agrees_with_the_documented_definition() {
        use crate::plan::fixtures::{plan, task};
        let mut plan = plan(vec![task("a", &[], 5), task("b", &["a"], 7)]);
        assign_hashes(&mut plan);
        let a = plan.task("a").unwrap();
        let b = plan.task("b").unwrap();
        let agent = plan.agents.get("a");
        assert_eq!(a.hash, task_hash(a, agent, &[]));
        assert_eq!(b.hash, task_hash(b, agent, &[a.hash.as_str()]));
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn source_hash_depends_on_names_and_contents() {
        let mut a = BTreeMap::new();
        a.insert("main.score".to_string(), sha256_hex(b"x"));
        let mut b = a.clone();
        assert_eq!(source_hash(&a), source_hash(&b));
        b.insert("other.score".to_string(), sha256_hex(b"y"));
        assert_ne!(source_hash(&a), source_hash(&b));
        let mut c = BTreeMap::new();
        c.insert("renamed.score".to_string(), sha256_hex(b"x"));
        assert_ne!(source_hash(&a), source_hash(&c));
    }
}
