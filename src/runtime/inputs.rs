//! Input values: the score's inputs given on the command line, the values a
//! task receives from its dependencies, and how they enter its prompt.

use crate::plan::hash::{canonical_json, sha256_hex};
use crate::plan::{Input, InputSource, Plan, Task};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Reads `--input NAME=VALUE` / `--input NAME=@FILE` against the score's
/// declared inputs. A value is taken as JSON when it parses as JSON that the
/// input's type accepts, else as a string; every declared input must be
/// given, and each must match its schema.
pub fn score_inputs(
    plan: &Plan,
    given: &[String],
    base: &Path,
) -> Result<BTreeMap<String, Value>, String> {
    let values = given_inputs(plan, given, base)?;
    let missing = missing_inputs(plan, &values);
    if !missing.is_empty() {
        let missing: Vec<String> = missing
            .iter()
            .map(|name| format!("`{name}: {}`", plan.score.inputs[*name].ty))
            .collect();
        return Err(format!(
            "the score needs {} {} at run time: give {} with `--input NAME=VALUE`",
            if missing.len() == 1 {
                "the input"
            } else {
                "the inputs"
            },
            missing.join(", "),
            if missing.len() == 1 { "it" } else { "each" }
        ));
    }
    Ok(values)
}

/// The score's inputs not among `values`, by name.
pub fn missing_inputs<'p>(plan: &'p Plan, values: &BTreeMap<String, Value>) -> Vec<&'p str> {
    plan.score
        .inputs
        .keys()
        .filter(|name| !values.contains_key(*name))
        .map(String::as_str)
        .collect()
}

/// The `--input` values given, read and validated as [`score_inputs`]
/// does, without requiring every declared input (a preview or a rehearsal
/// can do without some).
pub fn given_inputs(
    plan: &Plan,
    given: &[String],
    base: &Path,
) -> Result<BTreeMap<String, Value>, String> {
    let mut values = BTreeMap::new();
    for arg in given {
        let Some((name, raw)) = arg.split_once('=') else {
            return Err(format!(
                "`--input {arg}` has no value; write `--input NAME=VALUE` or `--input NAME=@FILE`"
            ));
        };
        let name = name.trim();
        let Some(spec) = plan.score.inputs.get(name) else {
            let known: Vec<&str> = plan.score.inputs.keys().map(String::as_str).collect();
            return Err(if known.is_empty() {
                format!("`--input {name}`: the score declares no inputs")
            } else {
                format!(
                    "`--input {name}`: the score has no input `{name}`; its inputs are: {}",
                    known.join(", ")
                )
            });
        };
        let text = match raw.strip_prefix('@') {
            Some(file) => {
                let path = base.join(file);
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    format!(
                        "`--input {name}=@{file}`: cannot read `{}`: {e}",
                        path.display()
                    )
                })?;
                text.strip_suffix('\n').map(str::to_string).unwrap_or(text)
            }
            None => raw.to_string(),
        };
        let validator = jsonschema::draft202012::new(&spec.schema)
            .map_err(|e| format!("the schema of input `{name}` is invalid: {e}"))?;
        let value = match serde_json::from_str::<Value>(&text) {
            Ok(json) if validator.is_valid(&json) => json,
            _ => Value::String(text.clone()),
        };
        if let Some(error) = validator.iter_errors(&value).next() {
            return Err(format!(
                "`--input {name}`: {} is not a valid `{}`: {error}",
                short(&text),
                spec.ty
            ));
        }
        values.insert(name.to_string(), value);
    }
    Ok(values)
}

fn short(text: &str) -> String {
    let one_line: String = text
        .chars()
        .take(60)
        .map(|c| if c == '\n' { ' ' } else { c })
        .collect();
    if text.chars().count() > 60 {
        format!("`{one_line}…`")
    } else {
        format!("`{one_line}`")
    }
}

/// Where a task's input value comes from, looked up by the caller.
pub fn value_of<'v>(
    input: &Input,
    score_inputs: &'v BTreeMap<String, Value>,
    outputs_of: impl Fn(&str) -> Option<&'v Value>,
) -> Value {
    match &input.source {
        InputSource::ScoreInput { name } => score_inputs.get(name).cloned().unwrap_or(Value::Null),
        // An optional output that the result left out is null.
        InputSource::Task { task, output } => outputs_of(task)
            .and_then(|outputs| outputs.get(output))
            .cloned()
            .unwrap_or(Value::Null),
    }
}

/// The hash of a task's input values: with the task's hash, what makes a
/// cached result reusable.
pub fn inputs_hash(values: &BTreeMap<String, Value>) -> String {
    let map: serde_json::Map<String, Value> =
        values.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    sha256_hex(canonical_json(&Value::Object(map)).as_bytes())
}

/// The prompt with every `{{input.NAME}}` replaced by the value as JSON.
/// Placeholders without a value (in `--dry-run`, for inputs that come from
/// other tasks) are left as they are.
pub fn fill_prompt(task: &Task, values: &BTreeMap<String, Value>) -> String {
    let prompt = &task.prompt;
    if !prompt.contains("{{input.") {
        return prompt.clone();
    }
    let mut out = String::with_capacity(prompt.len() + 256);
    let mut rest = prompt.as_str();
    while let Some(start) = rest.find("{{input.") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "{{input.".len()..];
        match after.find("}}") {
            Some(end) if values.contains_key(after[..end].trim()) => {
                let value = &values[after[..end].trim()];
                out.push_str(&serde_json::to_string_pretty(value).unwrap_or_default());
                rest = &after[end + 2..];
            }
            _ => {
                out.push_str("{{input.");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Schema, ValueSpec};
    use serde_json::json;

    fn plan_with_inputs(inputs: &[(&str, &str, Value)]) -> Plan {
        let mut plan = crate::plan::fixtures::plan(vec![]);
        for (name, ty, schema) in inputs {
            plan.score.inputs.insert(
                name.to_string(),
                ValueSpec {
                    doc: None,
                    schema: Schema::new(schema.clone()),
                    ty: ty.to_string(),
                },
            );
        }
        plan
    }

    #[test]
    fn values_are_json_when_the_type_takes_them_else_text() {
        let plan = plan_with_inputs(&[
            ("repo", "Text", json!({"type": "string"})),
            ("count", "Int", json!({"type": "integer"})),
            (
                "tags",
                "[Text]",
                json!({"type": "array", "items": {"type": "string"}}),
            ),
        ]);
        let given = [
            "repo=42".to_string(),
            "count=3".into(),
            "tags=[\"a\",\"b\"]".into(),
        ];
        let values = score_inputs(&plan, &given, Path::new(".")).unwrap();
        assert_eq!(values["repo"], json!("42"));
        assert_eq!(values["count"], json!(3));
        assert_eq!(values["tags"], json!(["a", "b"]));
    }

    #[test]
    fn bad_missing_and_unknown_inputs_are_explained() {
        let plan = plan_with_inputs(&[("count", "Int", json!({"type": "integer"}))]);
        let e = score_inputs(&plan, &["count=many".into()], Path::new(".")).unwrap_err();
        assert!(e.contains("not a valid `Int`"), "{e}");
        let e = score_inputs(&plan, &[], Path::new(".")).unwrap_err();
        assert!(e.contains("`count: Int`") && e.contains("--input"), "{e}");
        let e = score_inputs(&plan, &["nope=1".into()], Path::new(".")).unwrap_err();
        assert!(e.contains("no input `nope`") && e.contains("count"), "{e}");
        let e = score_inputs(&plan, &["count".into()], Path::new(".")).unwrap_err();
        assert!(e.contains("NAME=VALUE"), "{e}");
    }

    #[test]
    fn values_can_come_from_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("brief.txt"), "hello\nworld\n").unwrap();
        let plan = plan_with_inputs(&[("brief", "Text", json!({"type": "string"}))]);
        let values = score_inputs(&plan, &["brief=@brief.txt".into()], dir.path()).unwrap();
        assert_eq!(values["brief"], json!("hello\nworld"));
        let e = score_inputs(&plan, &["brief=@missing.txt".into()], dir.path()).unwrap_err();
        assert!(e.contains("cannot read"), "{e}");
    }

    #[test]
    fn inputs_hash_ignores_key_order() {
        let a: BTreeMap<String, Value> = [("x".to_string(), json!({"b": 1, "a": 2}))].into();
        let b: BTreeMap<String, Value> = [("x".to_string(), json!({"a": 2, "b": 1}))].into();
        assert_eq!(inputs_hash(&a), inputs_hash(&b));
        let c: BTreeMap<String, Value> = [("x".to_string(), json!({"a": 3, "b": 1}))].into();
        assert_ne!(inputs_hash(&a), inputs_hash(&c));
    }
}
