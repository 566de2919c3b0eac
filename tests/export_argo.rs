//! `score export argo`: every example's Workflow validates against Argo's
//! published JSON Schema (vendored in `tests/data/argo-workflows/`) and
//! passes the rules Argo checks that the schema cannot express; the YAML
//! reads back as the same document; the export is deterministic and holds
//! no secret; and the command line works end to end.

use assert_cmd::Command;
use proptest::prelude::*;
use score::export::{ArgoOptions, argo_workflow, task_names, to_yaml};
use score::plan::{self, Plan};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const IMAGE: &str = "ghcr.io/x/score:1";
const EXAMPLES: [&str; 3] = [
    "examples/shortener.score",
    "examples/webshop/main.score",
    "examples/quickstart/quickstart.score",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------- plans

fn read(p: &Path) -> std::io::Result<String> {
    std::fs::read_to_string(p)
}

fn errors_of(checked: &score::check::Checked) -> Vec<String> {
    checked
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
}

/// Checks and builds the score at `relative` (to the crate root).
fn build(relative: &str) -> Plan {
    let entry = root().join(relative);
    let program = score::syntax::load(&entry, &read).unwrap_or_else(|e| panic!("{e}"));
    let checked = score::check::check(&program);
    let errors = errors_of(&checked);
    assert!(errors.is_empty(), "{relative}: {errors:?}");
    let dir = entry.parent().unwrap_or(Path::new(""));
    plan::build(&checked, &program.sources, dir).unwrap_or_else(|e| panic!("{e}"))
}

/// A score whose ids are hard to name in Kubernetes: upper case, `_`, a
/// look-alike pair (`Store_API`/`store_api`), a workflow name
/// (`score_run`), a name that an approval would take (`pay_approval`), an
/// id longer than 63 characters; with approvals, API agents with keys,
/// retries, checks and score inputs.
const AWKWARD: &str = r#"
/// A score with awkward ids.
score Awkward_Score {
  title "Awkward: {{ids}} & more"
  concurrency 2
  default_agent stand_in
  /// The target environment.
  input environment: Text
  input base: Text
}

use std.checks.{file_exists}

intent ship "It ships" {
  accept "it ships"
}

agent stand_in: mock {
  tier complex
}

agent Architect: openai {
  model "gpt-4.1"
  key_env "OPENAI_API_KEY"
  tier complex
}

agent critic: anthropic {
  model "claude-sonnet-4-5"
  key_env "ANTHROPIC_API_KEY"
  tier complex
}

part Store_API by Architect {
  serves ship
  output api: Text
  retries 3
  timeout 20m
  ensures file_exists(path: "api.md")
}

part store_api {
  serves ship
  input api = Store_API.api
  approve "the {{security}} lead: \"yes\" or no"
}

part score_run {
  serves ship
}

part pay by critic {
  serves ship
  approve "payments"
}

part pay_approval {
  serves ship
}

part a_part_whose_name_is_much_longer_than_sixty_three_characters_in_total {
  serves ship
  approve "someone"
}

part merge_all {
  serves ship
}

sequence {
  Store_API -> store_api -> [score_run, pay] -> merge_all
  pay -> pay_approval
}
"#;

fn build_awkward() -> Plan {
    let program =
        score::syntax::load_source("awkward.score", AWKWARD.to_string(), Path::new(""), &read);
    let checked = score::check::check(&program);
    let errors = errors_of(&checked);
    assert!(errors.is_empty(), "{errors:?}");
    let mut plan = plan::build(&checked, &program.sources, Path::new("")).unwrap();
    // Module-qualified ids (`billing.invoice`) only arise from imports;
    // give one task such an id, then check the plan is still valid.
    rename_task(&mut plan, "score_run", "billing.score_run");
    plan::load(&plan::to_json(&plan)).expect("the renamed plan is valid")
}

fn rename_task(plan: &mut Plan, old: &str, new: &str) {
    let swap = |s: &mut String| {
        if s == old {
            *s = new.to_string();
        }
    };
    for task in &mut plan.tasks {
        swap(&mut task.id);
        task.depends_on.iter_mut().for_each(swap);
        task.depends_on.sort();
        for input in task.inputs.values_mut() {
            if let plan::InputSource::Task { task, .. } = &mut input.source {
                swap(task);
            }
        }
    }
    for wave in &mut plan.waves {
        wave.iter_mut().for_each(swap);
        wave.sort();
    }
    plan.critical_path.tasks.iter_mut().for_each(swap);
    let mut tasks = std::mem::take(&mut plan.tasks);
    tasks.sort_by(|a, b| (a.wave, &a.id).cmp(&(b.wave, &b.id)));
    plan.tasks = tasks;
}

// ---------------------------------------------------------------- Argo's schema

fn argo_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let path = root().join("tests/data/argo-workflows/schema.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "Argo's JSON Schema is vendored at {} (see the README beside it): {e}",
                path.display()
            )
        });
        serde_json::from_str(&text).expect("Argo's schema is JSON")
    })
}

fn argo_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    // The schema is written in draft-07 style (`definitions`), whatever its
    // `$schema` says.
    VALIDATOR
        .get_or_init(|| jsonschema::draft7::new(argo_schema()).expect("Argo's schema compiles"))
}

fn schema_errors(doc: &Value) -> Vec<String> {
    argo_validator()
        .iter_errors(doc)
        .map(|e| format!("at {}: {e}", e.instance_path()))
        .collect()
}

/// The schema has no `additionalProperties: false`, so a misspelt field
/// would pass it: walk the document beside the Workflow's definition and
/// report every key that the definition does not know.
fn unknown_fields(doc: &Value) -> Vec<String> {
    let root = argo_schema();
    let workflow = &root["definitions"]["io.argoproj.workflow.v1alpha1.Workflow"];
    let mut out = Vec::new();
    walk_fields(root, workflow, doc, "", &mut out);
    out
}

fn walk_fields(root: &Value, schema: &Value, value: &Value, at: &str, out: &mut Vec<String>) {
    let schema = match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.trim_start_matches("#/definitions/");
            &root["definitions"][name]
        }
        None => schema,
    };
    match value {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let extra = schema.get("additionalProperties").filter(|a| a.is_object());
            for (key, item) in map {
                let here = format!("{at}/{key}");
                match (props.and_then(|p| p.get(key)), extra) {
                    (Some(sub), _) | (None, Some(sub)) => walk_fields(root, sub, item, &here, out),
                    (None, None) if props.is_some() => {
                        out.push(format!("{here}: Argo's schema has no such field"))
                    }
                    (None, None) => {}
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk_fields(root, sub, item, &format!("{at}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------- Argo's rules

fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// Every `{{...}}` tag in the strings of `value`.
fn tags(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => {
            let mut rest = s.as_str();
            while let Some(start) = rest.find("{{") {
                let after = &rest[start + 2..];
                match after.find("}}") {
                    Some(end) => {
                        out.push(after[..end].trim().to_string());
                        rest = &after[end + 2..];
                    }
                    None => {
                        out.push(after.to_string());
                        break;
                    }
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| tags(v, out)),
        Value::Object(map) => map.values().for_each(|v| tags(v, out)),
        _ => {}
    }
}

fn names_of(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// What Argo's own validation checks beyond the schema: names, references,
/// the DAG (acyclic, `depends` and `dependencies` not mixed), artifacts
/// supplied and resolvable, parameters declared, volumes declared.
fn argo_rules(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let spec = &doc["spec"];
    let templates = spec["templates"].as_array().cloned().unwrap_or_default();
    let mut by_name: HashMap<String, &Value> = HashMap::new();
    for t in &templates {
        let name = t["name"].as_str().unwrap_or("");
        if !is_dns_label(name) {
            problems.push(format!("template name `{name}` is not a DNS-1123 label"));
        }
        if by_name.insert(name.to_string(), t).is_some() {
            problems.push(format!("two templates are named `{name}`"));
        }
    }
    let entry = spec["entrypoint"].as_str().unwrap_or("");
    if !by_name.contains_key(entry) {
        problems.push(format!("the entrypoint `{entry}` is not a template"));
    }
    let params: BTreeSet<String> = names_of(&spec["arguments"]["parameters"])
        .into_iter()
        .collect();
    let global_artifacts: BTreeSet<String> = names_of(&spec["arguments"]["artifacts"])
        .into_iter()
        .collect();
    let volumes: BTreeSet<String> = names_of(&spec["volumes"]).into_iter().collect();

    for t in &templates {
        let tname = t["name"].as_str().unwrap_or("");
        let inputs: Vec<String> = names_of(&t["inputs"]["artifacts"]);
        if inputs.iter().collect::<BTreeSet<_>>().len() != inputs.len() {
            problems.push(format!("{tname}: two input artifacts share a name"));
        }
        let paths: Vec<&str> = t["inputs"]["artifacts"]
            .as_array()
            .map(|a| a.iter().filter_map(|i| i["path"].as_str()).collect())
            .unwrap_or_default();
        if paths.iter().collect::<BTreeSet<_>>().len() != paths.len() {
            problems.push(format!("{tname}: two input artifacts share a path"));
        }
        // Only variables Argo resolves may appear.
        let mut found = Vec::new();
        tags(t, &mut found);
        for tag in found {
            let ok = match tag.split_once('.') {
                _ if tag == "workflow.name" => true,
                Some(("workflow", rest)) => rest
                    .strip_prefix("parameters.")
                    .is_some_and(|p| params.contains(p)),
                Some(("inputs", rest)) => rest
                    .strip_prefix("artifacts.")
                    .is_some_and(|a| inputs.iter().any(|i| i == a)),
                Some(("tasks", _)) => t.get("dag").is_some(),
                _ => false,
            };
            if !ok {
                problems.push(format!("{tname}: `{{{{{tag}}}}}` cannot be resolved"));
            }
        }
        if let Some(container) = t.get("container") {
            for mount in container["volumeMounts"].as_array().into_iter().flatten() {
                let v = mount["name"].as_str().unwrap_or("");
                if !volumes.contains(v) {
                    problems.push(format!("{tname}: mounts the undeclared volume `{v}`"));
                }
            }
        }
        let Some(dag) = t.get("dag") else { continue };
        // The DAG template's inputs come from the workflow's arguments.
        if tname == entry {
            for a in &inputs {
                if !global_artifacts.contains(a) {
                    problems.push(format!("{tname}: input artifact `{a}` is not supplied"));
                }
            }
        }
        let tasks = dag["tasks"].as_array().cloned().unwrap_or_default();
        let uses_depends = tasks.iter().any(|x| x.get("depends").is_some());
        let uses_dependencies = tasks.iter().any(|x| x.get("dependencies").is_some());
        if uses_depends && uses_dependencies {
            problems.push(format!("{tname}: mixes `depends` and `dependencies`"));
        }
        let mut deps: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for task in &tasks {
            let name = task["name"].as_str().unwrap_or("").to_string();
            if !is_dns_label(&name) {
                problems.push(format!("task name `{name}` is not a DNS-1123 label"));
            }
            let list: Vec<String> = task["dependencies"]
                .as_array()
                .map(|d| {
                    d.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            if deps.insert(name.clone(), list).is_some() {
                problems.push(format!("two DAG tasks are named `{name}`"));
            }
        }
        for (name, list) in &deps {
            for d in list {
                if !deps.contains_key(d) {
                    problems.push(format!("`{name}` depends on `{d}`, which is not a task"));
                }
            }
        }
        // Acyclic: Kahn's algorithm.
        let mut indegree: BTreeMap<&str, usize> =
            deps.iter().map(|(n, l)| (n.as_str(), l.len())).collect();
        let mut ready: Vec<&str> = indegree
            .iter()
            .filter(|(_, d)| **d == 0)
            .map(|(n, _)| *n)
            .collect();
        let mut seen = 0;
        while let Some(n) = ready.pop() {
            seen += 1;
            for (m, list) in &deps {
                if list.iter().any(|d| d == n) {
                    let e = indegree.get_mut(m.as_str()).unwrap();
                    *e -= 1;
                    if *e == 0 {
                        ready.push(m);
                    }
                }
            }
        }
        if seen != deps.len() {
            problems.push(format!("{tname}: the DAG has a cycle"));
        }
        let ancestors = |of: &str| -> BTreeSet<String> {
            let mut out = BTreeSet::new();
            let mut stack = deps.get(of).cloned().unwrap_or_default();
            while let Some(d) = stack.pop() {
                if out.insert(d.clone()) {
                    stack.extend(deps.get(&d).cloned().unwrap_or_default());
                }
            }
            out
        };
        for task in &tasks {
            let name = task["name"].as_str().unwrap_or("");
            let target = task["template"].as_str().unwrap_or("");
            let Some(template) = by_name.get(target) else {
                problems.push(format!("`{name}` runs the unknown template `{target}`"));
                continue;
            };
            // Artifacts: exactly the template's inputs, each resolvable.
            let wanted: BTreeSet<String> = template["inputs"]["artifacts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|a| a.get("raw").is_none() && a.get("from").is_none())
                .filter_map(|a| a["name"].as_str().map(String::from))
                .collect();
            let given: BTreeSet<String> = names_of(&task["arguments"]["artifacts"])
                .into_iter()
                .collect();
            if wanted != given {
                problems.push(format!(
                    "`{name}`: artifacts {given:?}, template wants {wanted:?}"
                ));
            }
            for arg in task["arguments"]["artifacts"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let from = arg["from"].as_str().unwrap_or("");
                let inner = from.trim_start_matches("{{").trim_end_matches("}}");
                let ok = if let Some(a) = inner.strip_prefix("inputs.artifacts.") {
                    inputs.iter().any(|i| i == a)
                } else if let Some(rest) = inner.strip_prefix("tasks.") {
                    match rest.split_once(".outputs.artifacts.") {
                        Some((source, artifact)) => {
                            ancestors(name).contains(source)
                                && tasks
                                    .iter()
                                    .find(|x| x["name"] == source)
                                    .and_then(|x| by_name.get(x["template"].as_str()?))
                                    .is_some_and(|st| {
                                        names_of(&st["outputs"]["artifacts"])
                                            .iter()
                                            .any(|o| o == artifact)
                                    })
                        }
                        None => false,
                    }
                } else {
                    false
                };
                if !ok {
                    problems.push(format!(
                        "`{name}`: artifact from `{from}` cannot be resolved"
                    ));
                }
            }
            let wanted: BTreeSet<String> = template["inputs"]["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p.get("value").is_none() && p.get("default").is_none())
                .filter_map(|p| p["name"].as_str().map(String::from))
                .collect();
            let given: BTreeSet<String> = names_of(&task["arguments"]["parameters"])
                .into_iter()
                .collect();
            if wanted != given {
                problems.push(format!(
                    "`{name}`: parameters {given:?}, template wants {wanted:?}"
                ));
            }
        }
    }
    problems
}

// ---------------------------------------------------------------- YAML

/// Parses YAML (one document) into JSON, failing on what JSON cannot hold.
fn parse_yaml(text: &str) -> Value {
    let docs = yaml_rust2::YamlLoader::load_from_str(text)
        .unwrap_or_else(|e| panic!("the YAML does not parse: {e}\n{text}"));
    assert_eq!(docs.len(), 1, "one document");
    yaml_to_json(&docs[0])
}

fn yaml_to_json(yaml: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match yaml {
        Yaml::Real(s) => json!(s.parse::<f64>().expect("a YAML float")),
        Yaml::Integer(i) => json!(i),
        Yaml::String(s) => json!(s),
        Yaml::Boolean(b) => json!(b),
        Yaml::Null => Value::Null,
        Yaml::Array(items) => Value::Array(items.iter().map(yaml_to_json).collect()),
        Yaml::Hash(map) => Value::Object(
            map.iter()
                .map(|(k, v)| match k {
                    Yaml::String(k) => (k.clone(), yaml_to_json(v)),
                    other => panic!("a key that is not a string: {other:?}"),
                })
                .collect(),
        ),
        other => panic!("not JSON: {other:?}"),
    }
}

/// Whether a plain scalar `s` would be read as something other than a
/// string by a YAML 1.1 reader (booleans, null, ints in any base, floats,
/// base-60 numbers, timestamps, `<<`, `=`). An independent oracle for the
/// emitter's own test.
fn yaml11_not_a_string(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "~", "null", "Null", "NULL", "",
        "<<", "=",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    let t = s.strip_prefix(['-', '+']).unwrap_or(s);
    let all = |x: &str, f: fn(char) -> bool| !x.is_empty() && x.chars().all(f);
    let digits_ = |c: char| c.is_ascii_digit() || c == '_';
    let int = t
        .strip_prefix("0b")
        .is_some_and(|r| all(r, |c| c == '0' || c == '1' || c == '_'))
        || t.strip_prefix("0x")
            .is_some_and(|r| all(r, |c| c.is_ascii_hexdigit() || c == '_'))
        || (t.starts_with('0') && all(t, |c| ('0'..='7').contains(&c) || c == '_'))
        || (t.starts_with(|c: char| c.is_ascii_digit()) && all(t, digits_));
    let sexagesimal = t.starts_with(|c: char| c.is_ascii_digit()) && {
        let mut parts = t.split(':');
        let first = parts.next().unwrap_or("");
        let rest: Vec<&str> = parts.collect();
        all(first, digits_)
            && !rest.is_empty()
            && rest.iter().enumerate().all(|(i, p)| {
                let p = if i == rest.len() - 1 {
                    p.split('.').next().unwrap_or("")
                } else {
                    p
                };
                (1..=2).contains(&p.len()) && all(p, |c| c.is_ascii_digit())
            })
    };
    let special_float = [".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN"].contains(&t);
    let float = {
        let (mantissa, exponent) = match t.find(['e', 'E']) {
            Some(i) => (&t[..i], Some(&t[i + 1..])),
            None => (t, None),
        };
        let mantissa_ok = match mantissa.split_once('.') {
            Some((int, frac)) => {
                (int.is_empty()
                    || (int.starts_with(|c: char| c.is_ascii_digit()) && all(int, digits_)))
                    && frac.chars().all(|c| c.is_ascii_digit() || c == '.')
            }
            None => false,
        };
        let exponent_ok = exponent.is_none_or(|e| {
            e.strip_prefix(['-', '+'])
                .is_some_and(|d| all(d, |c| c.is_ascii_digit()))
        });
        mantissa_ok && exponent_ok
    };
    let timestamp =
        s.len() >= 8 && s[..4].chars().all(|c| c.is_ascii_digit()) && s.as_bytes()[4] == b'-';
    int || sexagesimal || special_float || float || timestamp
}

#[test]
fn the_yaml11_oracle_knows_its_cases() {
    for s in [
        "yes",
        "Off",
        "~",
        "12",
        "-0x1F",
        "0b101",
        "017",
        "1_000",
        "1:20",
        "190:20:30.15",
        "1.5",
        ".5",
        "-.inf",
        "1.0e+3",
        "2001-12-14",
        "<<",
    ] {
        assert!(yaml11_not_a_string(s), "{s}");
    }
    for s in ["--plan", "a1", "e3", "-e", "x:1", "1e3x", "v1.2"] {
        assert!(!yaml11_not_a_string(s), "{s}");
    }
}

// ---------------------------------------------------------------- checks

/// Everything a valid export satisfies.
fn assert_valid(doc: &Value, what: &str) {
    let errors = schema_errors(doc);
    assert!(
        errors.is_empty(),
        "{what}: Argo's schema rejects it:\n{}",
        errors.join("\n")
    );
    let unknown = unknown_fields(doc);
    assert!(unknown.is_empty(), "{what}:\n{}", unknown.join("\n"));
    let problems = argo_rules(doc);
    assert!(
        problems.is_empty(),
        "{what}: Argo would reject it:\n{}",
        problems.join("\n")
    );
}

/// The DAG's tasks by name.
fn dag_tasks(doc: &Value) -> BTreeMap<String, Value> {
    doc["spec"]["templates"][0]["dag"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_string(), t.clone()))
        .collect()
}

fn template<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["spec"]["templates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no template `{name}`"))
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The Workflow mirrors the plan: one DAG task per task with the same
/// edges (through approvals), the task's id on its command line, inputs and
/// outputs where `score task run` expects them, keys by name, the deadline
/// and the plan itself.
fn assert_mirrors(plan: &Plan, doc: &Value, options: &ArgoOptions) {
    let names = task_names(plan);
    let dag = dag_tasks(doc);
    let done = |id: &str| -> String {
        let task = plan.task(id).unwrap();
        let name = &names[id];
        match &task.approve {
            Some(who) => {
                let approval = dag
                    .values()
                    .find(|t| {
                        t["template"] == "score-approval" && t["dependencies"] == json!([name])
                    })
                    .unwrap_or_else(|| panic!("no approval step after `{id}`"));
                let params = &approval["arguments"]["parameters"];
                assert_eq!(params[0]["value"], id);
                assert_eq!(params[1]["value"], who.replace("{{", "{ {"));
                approval["name"].as_str().unwrap().to_string()
            }
            None => name.clone(),
        }
    };
    let approvals = plan.tasks.iter().filter(|t| t.approve.is_some()).count();
    assert_eq!(
        dag.len(),
        plan.tasks.len() + approvals + 1,
        "tasks, approvals, merge"
    );
    for task in &plan.tasks {
        let name = &names[&task.id];
        let node = &dag[name];
        let want: Vec<String> = task.depends_on.iter().map(|d| done(d)).collect();
        assert_eq!(strings(&node["dependencies"]), want, "{}", task.id);
        let tpl = template(doc, node["template"].as_str().unwrap());
        let args = strings(&tpl["container"]["args"]);
        let task_arg = args.iter().position(|a| *a == "--task").unwrap();
        assert_eq!(args[task_arg + 1], task.id);
        assert_eq!(&args[..2], ["task", "run"]);
        assert_eq!(tpl["container"]["image"], options.image.as_str());
        let inputs: BTreeSet<&str> = tpl["inputs"]["artifacts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["path"].as_str().unwrap())
            .collect();
        let mut expected: BTreeSet<String> = task
            .depends_on
            .iter()
            .map(|d| format!("/score/inputs/{d}.json"))
            .collect();
        expected.insert("/score/plan.json".into());
        assert_eq!(inputs, expected.iter().map(String::as_str).collect());
        assert_eq!(
            tpl["outputs"]["artifacts"][0]["path"],
            format!("/score/outputs/{}.json", task.id)
        );
        // The keys of the task's own agent, by name, from the one Secret.
        let env = tpl["container"]["env"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let key_env = match &plan.agents[&task.agent].provider {
            plan::Provider::Openai { key_env, .. } | plan::Provider::Anthropic { key_env, .. } => {
                key_env.clone()
            }
            _ => None,
        };
        let refs: Vec<&Value> = env
            .iter()
            .filter(|e| e.get("valueFrom").is_some())
            .collect();
        match key_env {
            Some(k) => {
                assert_eq!(refs.len(), 1, "{}", task.id);
                assert_eq!(refs[0]["name"], k.as_str());
                assert_eq!(
                    refs[0]["valueFrom"]["secretKeyRef"],
                    json!({"name": options.secret, "key": k})
                );
            }
            None => assert!(refs.is_empty(), "{}: no agent key", task.id),
        }
        assert!(env.iter().all(|e| e.get("value").is_none() || !e["name"].as_str().unwrap().ends_with("_KEY")));
        // Long enough for every attempt and check.
        let deadline: u64 = tpl["activeDeadlineSeconds"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let checks: u64 = task.checks.iter().map(|c| c.timeout_ms).sum();
        assert!(deadline * 1000 >= (task.timeout_ms + checks) * (u64::from(task.retries) + 1));
        assert_eq!(
            tpl["retryStrategy"]["limit"],
            options.pod_retries.to_string()
        );
    }
    // The merge waits for every leaf (through its approval).
    let leaves: Vec<String> = plan
        .tasks
        .iter()
        .filter(|t| !plan.tasks.iter().any(|o| o.depends_on.contains(&t.id)))
        .map(|t| done(&t.id))
        .collect();
    assert_eq!(strings(&dag["score-merge"]["dependencies"]), leaves);
    let merge = template(doc, "score-merge");
    assert_eq!(
        strings(&merge["container"]["args"]),
        [
            "merge",
            "--plan",
            "/score/plan.json",
            "--repo",
            "{{workflow.parameters.repo}}",
            "--base",
            "{{workflow.parameters.base}}",
            "--run",
            "{{workflow.name}}"
        ]
    );
    // The plan reaches every pod, as the same JSON.
    let data = doc["spec"]["arguments"]["artifacts"][0]["raw"]["data"]
        .as_str()
        .unwrap();
    let embedded: Value = serde_json::from_str(data).unwrap();
    let original: Value = serde_json::from_str(&plan::to_json(plan)).unwrap();
    assert_eq!(embedded, original);
    assert_eq!(
        doc["spec"]["parallelism"],
        plan.score.concurrency.map_or(Value::Null, |c| json!(c))
    );
}

// ---------------------------------------------------------------- tests

#[test]
fn every_example_exports_a_valid_workflow() {
    let options = ArgoOptions::new(IMAGE);
    for example in EXAMPLES {
        let plan = build(example);
        let doc = argo_workflow(&plan, &options);
        assert_valid(&doc, example);
        assert_mirrors(&plan, &doc, &options);
        let yaml = to_yaml(&doc);
        assert_eq!(parse_yaml(&yaml), doc, "{example}: the YAML reads back");
        // Deterministic: again, and from the plan reloaded from its JSON.
        let again = plan::load(&plan::to_json(&plan)).unwrap();
        assert_eq!(to_yaml(&argo_workflow(&again, &options)), yaml, "{example}");
        assert!(yaml.starts_with("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n"));
    }
}

#[test]
fn an_awkward_plan_exports_a_valid_workflow() {
    let plan = build_awkward();
    let options = ArgoOptions {
        repo: Some("https://git.example.com/acme/shop.git".into()),
        base: "release/1.0".into(),
        service_account: Some("score-runner".into()),
        secret: "agent-keys".into(),
        git_credentials: Some("git-push".into()),
        pod_retries: 4,
        ..ArgoOptions::new(IMAGE)
    };
    options.check().unwrap();
    let doc = argo_workflow(&plan, &options);
    assert_valid(&doc, "awkward");
    assert_mirrors(&plan, &doc, &options);
    assert_eq!(parse_yaml(&to_yaml(&doc)), doc);

    let names = task_names(&plan);
    assert_eq!(names["pay"], "pay");
    assert!(names["Store_API"].starts_with("store-api-"), "{names:?}");
    assert!(names["store_api"].starts_with("store-api-"), "{names:?}");
    assert_eq!(names["billing.score_run"], "billing-score-run");
    assert_eq!(names["merge_all"], "merge-all");
    let long = &names["a_part_whose_name_is_much_longer_than_sixty_three_characters_in_total"];
    assert!(
        long.len() <= 63 && long.starts_with("a-part-whose-name"),
        "{long}"
    );
    let dag = dag_tasks(&doc);
    // `pay_approval` keeps its name; the approval of `pay` gets a hash.
    assert_eq!(dag["pay-approval"]["template"], "pay-approval");
    let pay_approval = dag
        .iter()
        .find(|(_, t)| t["template"] == "score-approval" && t["dependencies"] == json!(["pay"]))
        .unwrap()
        .0;
    assert!(pay_approval.starts_with("pay-approval-"), "{pay_approval}");

    // Options reach the document.
    let spec = &doc["spec"];
    assert_eq!(spec["serviceAccountName"], "score-runner");
    assert_eq!(spec["parallelism"], 2);
    let params = spec["arguments"]["parameters"].as_array().unwrap();
    assert_eq!(
        params[0],
        json!({"name": "repo", "value": "https://git.example.com/acme/shop.git", "description": params[0]["description"]})
    );
    assert_eq!(params[1]["value"], "release/1.0");
    // Score inputs are parameters without a value (Argo asks for them);
    // `base` is taken by the workflow, so that input is `input-base`.
    let names: Vec<&str> = params.iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["repo", "base", "input-base", "environment"]);
    assert!(params[2].get("value").is_none() && params[3].get("value").is_none());
    let merge = template(&doc, "score-merge");
    assert!(
        merge["container"]["env"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["value"] == "store --file=/score/git/.git-credentials")
    );
    assert_eq!(merge["retryStrategy"]["limit"], "4");
    // Text from the score cannot become an Argo expression.
    let mut found = Vec::new();
    tags(&doc["metadata"], &mut found);
    tags(&doc["spec"]["arguments"], &mut found);
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn the_binary_exports_and_keeps_secrets_out() {
    const FAKE: &str = "sk-fake-secret-value-0123456789";
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("workflow.yaml");
    let shortener = root().join("examples/shortener.score");
    Command::cargo_bin("score")
        .unwrap()
        .args(["export", "argo"])
        .arg(&shortener)
        .args(["--image", IMAGE, "-o"])
        .arg(&out)
        .env("OPENAI_API_KEY", FAKE)
        .env("ANTHROPIC_API_KEY", FAKE)
        .assert()
        .success();
    let yaml = std::fs::read_to_string(&out).unwrap();
    assert!(!yaml.contains(FAKE), "a secret value reached the Workflow");
    assert!(yaml.contains("secretKeyRef:\n"));
    assert!(yaml.contains("key: OPENAI_API_KEY\n"));
    let doc = parse_yaml(&yaml);
    assert_valid(&doc, "the binary's shortener export");
    assert_eq!(
        doc,
        argo_workflow(&build("examples/shortener.score"), &ArgoOptions::new(IMAGE))
    );

    // A plan file works as well, to standard output, with the flags.
    let plan_file = dir.path().join("plan.json");
    std::fs::write(
        &plan_file,
        plan::to_json(&build("examples/quickstart/quickstart.score")),
    )
    .unwrap();
    let output = Command::cargo_bin("score")
        .unwrap()
        .args(["export", "argo"])
        .arg(&plan_file)
        .args([
            "--image",
            IMAGE,
            "--repo",
            "https://example.com/r.git",
            "--base",
            "dev",
        ])
        .args([
            "--secret",
            "keys",
            "--git-credentials",
            "push",
            "--service-account",
            "runner",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let doc = parse_yaml(&String::from_utf8(output.stdout).unwrap());
    assert_valid(&doc, "the binary's quickstart export");
    assert_eq!(
        doc["spec"]["arguments"]["parameters"][0]["value"],
        "https://example.com/r.git"
    );
    assert_eq!(doc["spec"]["arguments"]["parameters"][1]["value"], "dev");
    assert_eq!(doc["spec"]["serviceAccountName"], "runner");
    assert_eq!(doc["spec"]["volumes"][2]["secret"]["secretName"], "push");
}

#[test]
fn the_binary_explains_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("plan.json");
    std::fs::write(&bad, r#"{"format": "score-plan/0"}"#).unwrap();
    Command::cargo_bin("score")
        .unwrap()
        .args(["export", "argo"])
        .arg(&bad)
        .args(["--image", IMAGE])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("score-plan/0"))
        .stderr(predicates::str::contains("score build"));
    Command::cargo_bin("score")
        .unwrap()
        .args(["export", "argo", "examples/quickstart/quickstart.score"])
        .current_dir(root())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--image"));
    Command::cargo_bin("score")
        .unwrap()
        .args(["export", "argo", "examples/quickstart/quickstart.score"])
        .args(["--image", IMAGE, "--secret", "Agent_Keys"])
        .current_dir(root())
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "`--secret Agent_Keys` is not a Kubernetes object name",
        ));
    // A score with errors: its diagnostics, exit 1, nothing written.
    let broken = dir.path().join("broken.score");
    std::fs::write(&broken, "part p {\n  serves nothing\n}\n").unwrap();
    Command::cargo_bin("score")
        .unwrap()
        .args(["export", "argo"])
        .arg(&broken)
        .args(["--image", IMAGE])
        .assert()
        .code(1)
        .stdout("");
}

#[test]
fn long_keys_and_odd_strings_read_back() {
    let doc = json!({
        "k".repeat(1500): {"nested": ["a", {"b": "line\nline"}]},
        "": "",
        "multi": "first\n  indented\n\nlast\n",
        "edge": ["\n", "x\n\n", " lead\nx", "tab\tin\nside", "nel\u{85}x", "\u{feff}bom"],
        "numbers": [0, -1, 1.5, 1e300, -2.5e-8, 9007199254740993i64],
    });
    assert_eq!(parse_yaml(&to_yaml(&doc)), doc);
}

fn tricky_string() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "yes",
        "No",
        "ON",
        "off",
        "y",
        "n",
        "~",
        "null",
        "true",
        "FALSE",
        "1",
        "-1",
        "0x1F",
        "0o17",
        "017",
        "1_000",
        "1:20",
        "2001-12-14",
        ".inf",
        "-.inf",
        ".NaN",
        "1e3",
        "<<",
        "=",
        "-",
        "--",
        "---",
        "...",
        "--plan",
        "-p",
        "? x",
        "- x",
        "a: b",
        "a #b",
        "#x",
        "{{x}}",
        "[x]",
        "{x}",
        "*a",
        "&a",
        "!t",
        "|",
        ">",
        "%x",
        "@x",
        "`x",
        "'q'",
        "\"q\"",
        "x:",
        "x:1",
        "http://x/y",
        "é",
        "✓",
        "🎉",
        "\u{2028}",
        "\u{85}",
        "\u{feff}",
        "\u{1b}",
        "\u{7f}",
        "\t",
        "\r",
        "\n",
        " ",
        "  x  ",
        "\\",
        "\\n",
    ])
    .prop_map(String::from);
    let chars = "[ -~\n\t\r\u{85}\u{a0}\u{2028}\u{feff}é✓🎉\u{1b}\u{7f}]{0,24}";
    prop_oneof![
        words.clone(),
        chars,
        (words.clone(), "[ :#\n-]{0,2}", words).prop_map(|(a, sep, b)| format!("{a}{sep}{b}")),
    ]
}

fn tricky_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        tricky_string().prop_map(Value::String),
        any::<i64>().prop_map(|i| json!(i)),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((tricky_string(), inner), 0..5)
                .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Whatever the strings, the YAML reads back as the same value.
    #[test]
    fn yaml_round_trips(value in tricky_value()) {
        let text = to_yaml(&value);
        prop_assert_eq!(parse_yaml(&text), value, "{}", text);
    }

    /// A string written plain is a string for YAML 1.1 readers too
    /// (Kubernetes' reader), not a boolean, number, null or date.
    #[test]
    fn plain_strings_are_strings_in_yaml_1_1(s in tricky_string()) {
        let text = to_yaml(&json!({ "k": s.clone() }));
        let written = text.strip_prefix("k: ").unwrap().strip_suffix('\n').unwrap_or_default();
        if written == s {
            prop_assert!(!yaml11_not_a_string(&s), "{:?} was written plain", s);
        }
        // And as a key.
        let text = to_yaml(&json!({ s.clone(): 1 }));
        if text == format!("{s}: 1\n") {
            prop_assert!(!yaml11_not_a_string(&s), "{:?} was written as a plain key", s);
        }
    }
}

/// The checks above can fail: each mutation of a valid export is caught.
#[test]
fn the_checks_catch_what_argo_rejects() {
    let plan = build("examples/quickstart/quickstart.score");
    let good = argo_workflow(&plan, &ArgoOptions::new(IMAGE));
    assert_valid(&good, "quickstart");
    const DAG: &str = "/spec/templates/0/dag/tasks";
    type Check = fn(&Value) -> Vec<String>;
    type Mutation = (&'static str, Check, fn(&mut Value));
    let mutations: [Mutation; 10] = [
        ("an integer where Argo wants a string", schema_errors, |d| {
            d["spec"]["templates"][1]["retryStrategy"]["limit"] = json!(2)
        }),
        ("a misspelt field", unknown_fields, |d| {
            d["spec"]["templates"][1]["retryStrategey"] = json!({})
        }),
        ("another kind", schema_errors, |d| d["kind"] = json!("Job")),
        ("a cycle", argo_rules, |d| {
            d.pointer_mut(&format!("{DAG}/0")).unwrap()["dependencies"] = json!(["review"])
        }),
        ("depends and dependencies mixed", argo_rules, |d| {
            d.pointer_mut(&format!("{DAG}/0")).unwrap()["depends"] = json!("notes")
        }),
        ("an invalid name", argo_rules, |d| {
            d.pointer_mut(&format!("{DAG}/0")).unwrap()["name"] = json!("Plan_1")
        }),
        ("a dependency on nothing", argo_rules, |d| {
            d.pointer_mut(&format!("{DAG}/1")).unwrap()["dependencies"] = json!(["nobody"])
        }),
        ("an artifact not supplied", argo_rules, |d| {
            d.pointer_mut(&format!("{DAG}/1/arguments/artifacts"))
                .unwrap()
                .as_array_mut()
                .unwrap()
                .pop();
        }),
        (
            "an artifact from a task that is not an ancestor",
            argo_rules,
            |d| {
                d.pointer_mut(&format!("{DAG}/1/arguments/artifacts/1"))
                    .unwrap()["from"] = json!("{{tasks.notes.outputs.artifacts.result}}")
            },
        ),
        ("an undeclared parameter", argo_rules, |d| {
            d["spec"]["arguments"]["parameters"]
                .as_array_mut()
                .unwrap()
                .remove(1);
        }),
    ];
    for (what, check, mutate) in mutations {
        let mut doc = good.clone();
        mutate(&mut doc);
        assert!(!check(&doc).is_empty(), "{what} went unnoticed");
    }
}

/// The quickstart excerpt in docs/scale-out.md is what the command writes:
/// every line of it, but the `# ...` elisions, appears in the export, in
/// the same order.
#[test]
fn the_documented_excerpt_is_current() {
    let doc = std::fs::read_to_string(root().join("docs/scale-out.md")).unwrap();
    let section = doc
        .split("## An example: the quickstart")
        .nth(1)
        .expect("docs/scale-out.md has the quickstart example");
    let excerpt = section
        .split("```yaml\n")
        .nth(1)
        .and_then(|s| s.split("\n```").next())
        .expect("a yaml block");
    let options = ArgoOptions::new("ghcr.io/acme/score:1");
    let yaml = to_yaml(&argo_workflow(
        &build("examples/quickstart/quickstart.score"),
        &options,
    ));
    let mut lines = yaml.lines();
    for wanted in excerpt
        .lines()
        .filter(|l| !l.trim_start().starts_with("# ..."))
    {
        let wanted = wanted.split("   # ").next().unwrap_or(wanted).trim_end();
        assert!(
            lines.any(|l| l == wanted),
            "docs/scale-out.md shows `{wanted}`, which the export does not have (or not there)"
        );
    }
}
