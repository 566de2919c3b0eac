//! A local simulation of Argo's DAG semantics: the Workflow that
//! `score export argo` writes is executed task by task, in dependency
//! order, by running each container's command locally (no containers),
//! with artifacts passed as Argo passes them, against a bare git repository
//! standing in for the remote. The resulting integration branch and outputs
//! must equal those of `score run` on the same plan.

use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

mod support;

use support::runs::*;

fn yaml_to_json(yaml: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match yaml {
        Yaml::Hash(hash) => Value::Object(
            hash.iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), yaml_to_json(v)))
                .collect::<Map<String, Value>>(),
        ),
        Yaml::Array(items) => Value::Array(items.iter().map(yaml_to_json).collect()),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(r) => r.parse::<f64>().map(Value::from).unwrap_or(Value::Null),
        Yaml::Boolean(b) => Value::Bool(*b),
        _ => Value::Null,
    }
}

/// The bundled quickstart at the root of a new repository on `main`.
fn quickstart_repo(dir: &Path) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart");
    for file in ["quickstart.score", "agents/write_file.sh"] {
        let to = dir.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(source.join(file), to).unwrap();
    }
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "init"]);
}

fn score() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_score"));
    cmd.env_remove("CI");
    cmd
}

/// Replaces Argo's `{{...}}` expressions this simulation knows.
fn substitute(text: &str, params: &HashMap<&str, String>) -> String {
    let mut out = text.to_string();
    for (name, value) in params {
        out = out.replace(&format!("{{{{{name}}}}}"), value);
    }
    assert!(
        !out.contains("{{"),
        "an Argo expression this simulation does not know: {out}"
    );
    out
}

#[test]
fn the_exported_workflow_run_as_argo_would_equals_score_run() {
    let root = tempfile::tempdir().unwrap();

    // The reference: `score run` in a clone.
    let reference = root.path().join("reference");
    std::fs::create_dir_all(&reference).unwrap();
    quickstart_repo(&reference);
    let status = score()
        .args(["run", "quickstart.score"])
        .current_dir(&reference)
        .status()
        .unwrap();
    assert!(status.success());
    let runs = reference.join(".score/runs");
    let run_id = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    let run_id = run_id.to_string_lossy().to_string();
    let expected_tree = git(
        &reference,
        &["rev-parse", &format!("score/{run_id}^{{tree}}")],
    );
    let mut expected_outputs: BTreeMap<String, Value> = BTreeMap::new();
    for entry in std::fs::read_dir(runs.join(&run_id).join("outputs")).unwrap() {
        let path = entry.unwrap().path();
        let task = path.file_stem().unwrap().to_string_lossy().to_string();
        expected_outputs.insert(
            task,
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap(),
        );
    }

    // The "cluster": a bare remote with the same first commit.
    let source = root.path().join("source");
    std::fs::create_dir_all(&source).unwrap();
    quickstart_repo(&source);
    let remote = root.path().join("remote.git");
    git(
        root.path(),
        &[
            "clone",
            "-q",
            "--bare",
            source.to_str().unwrap(),
            remote.to_str().unwrap(),
        ],
    );
    let out = score()
        .args(["build", "quickstart.score"])
        .current_dir(&source)
        .output()
        .unwrap();
    assert!(out.status.success());
    std::fs::write(root.path().join("plan.json"), &out.stdout).unwrap();
    let out = score()
        .args(["export", "argo", "plan.json", "--image", "score:test"])
        .current_dir(root.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let yaml = String::from_utf8(out.stdout).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&yaml).unwrap();
    let workflow = yaml_to_json(&docs[0]);

    // Argo: parameters, the workflow-level artifacts, the DAG.
    let workflow_name = "quickstart-sim".to_string();
    let mut params: HashMap<&str, String> = HashMap::new();
    params.insert("workflow.parameters.repo", remote.display().to_string());
    params.insert("workflow.parameters.base", "main".into());
    params.insert("workflow.name", workflow_name.clone());
    let spec = &workflow["spec"];
    let mut global_artifacts: HashMap<String, String> = HashMap::new();
    for artifact in spec["arguments"]["artifacts"].as_array().unwrap() {
        global_artifacts.insert(
            artifact["name"].as_str().unwrap().to_string(),
            artifact["raw"]["data"].as_str().unwrap().to_string(),
        );
    }
    let templates: HashMap<String, &Value> = spec["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_string(), t))
        .collect();
    let entry = templates[spec["entrypoint"].as_str().unwrap()];
    // The DAG template's inputs are the workflow's artifacts, by name.
    let dag_inputs: HashMap<String, String> = entry["inputs"]["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let name = a["name"].as_str().unwrap().to_string();
            (name.clone(), global_artifacts[&name].clone())
        })
        .collect();
    let mut pending: Vec<&Value> = entry["dag"]["tasks"].as_array().unwrap().iter().collect();
    // Each finished DAG task's output artifacts: name -> file.
    let mut finished: HashMap<String, HashMap<String, PathBuf>> = HashMap::new();
    let mut order = Vec::new();
    while !pending.is_empty() {
        let ready = pending
            .iter()
            .position(|t| {
                t["dependencies"]
                    .as_array()
                    .map(|d| d.iter().all(|d| finished.contains_key(d.as_str().unwrap())))
                    .unwrap_or(true)
            })
            .expect("the DAG has a cycle or a dangling dependency");
        let task = pending.remove(ready);
        let name = task["name"].as_str().unwrap().to_string();
        let template = templates[task["template"].as_str().unwrap()];
        order.push(name.clone());
        if template.get("suspend").is_some() {
            // An approval: `argo resume`.
            finished.insert(name, HashMap::new());
            continue;
        }
        let pod = root.path().join("pods").join(&name);
        let home = pod.join("home");
        std::fs::create_dir_all(&home).unwrap();
        let in_pod = |path: &str| pod.join(path.trim_start_matches('/'));
        // Input artifacts, from the DAG task's arguments.
        let arguments: HashMap<String, String> = task["arguments"]["artifacts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|a| {
                        (
                            a["name"].as_str().unwrap().to_string(),
                            a["from"].as_str().unwrap().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        for input in template["inputs"]["artifacts"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let input_name = input["name"].as_str().unwrap();
            let from = &arguments[input_name];
            let path = in_pod(input["path"].as_str().unwrap());
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            if let Some(artifact) = from
                .strip_prefix("{{inputs.artifacts.")
                .and_then(|r| r.strip_suffix("}}"))
            {
                std::fs::write(&path, &dag_inputs[artifact]).unwrap();
            } else {
                let inner = from
                    .strip_prefix("{{tasks.")
                    .and_then(|r| r.strip_suffix("}}"))
                    .unwrap();
                let (producer, artifact) = inner.split_once(".outputs.artifacts.").unwrap();
                std::fs::copy(&finished[producer][artifact], &path).unwrap();
            }
        }
        for dir in ["/score/inputs", "/score/outputs"] {
            std::fs::create_dir_all(in_pod(dir)).unwrap();
        }
        let container = &template["container"];
        let args: Vec<String> = container["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                let a = substitute(a.as_str().unwrap(), &params);
                if a.starts_with("/score/") {
                    in_pod(&a).display().to_string()
                } else {
                    a
                }
            })
            .collect();
        assert_eq!(container["command"], serde_json::json!(["score"]));
        let out = score().args(&args).current_dir(&home).output().unwrap();
        assert!(
            out.status.success(),
            "DAG task `{name}` failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut outputs = HashMap::new();
        for artifact in template["outputs"]["artifacts"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let path = in_pod(artifact["path"].as_str().unwrap());
            assert!(
                path.is_file(),
                "`{name}` did not write its artifact {}",
                path.display()
            );
            outputs.insert(artifact["name"].as_str().unwrap().to_string(), path);
        }
        finished.insert(name, outputs);
    }
    assert_eq!(order.last().map(String::as_str), Some("score-merge"));

    // The same tree on the integration branch, the same outputs.
    let tree = git(
        &remote,
        &["rev-parse", &format!("score/{workflow_name}^{{tree}}")],
    );
    assert_eq!(
        tree, expected_tree,
        "the distributed run built another tree"
    );
    for (task, expected) in &expected_outputs {
        let file = &finished[task.as_str()]["result"];
        let outputs: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        assert_eq!(&outputs, expected, "outputs of `{task}`");
    }
    // One merge per part that wrote files, in DAG order.
    let merges = git(
        &remote,
        &[
            "log",
            "--first-parent",
            "--merges",
            "--format=%s",
            &format!("score/{workflow_name}"),
        ],
    );
    for part in ["backend", "frontend", "notes"] {
        assert_eq!(
            merges
                .lines()
                .filter(|l| l.contains(&format!("merge part {part} into")))
                .count(),
            1,
            "{merges}"
        );
    }
}

#[test]
fn task_run_alone_says_what_is_wrong() {
    let root = tempfile::tempdir().unwrap();
    let source = root.path().join("source");
    std::fs::create_dir_all(&source).unwrap();
    quickstart_repo(&source);
    let out = score()
        .args(["build", "quickstart.score", "-o", "../plan.json"])
        .current_dir(&source)
        .output()
        .unwrap();
    assert!(out.status.success());
    let run = |args: &[&str]| {
        let out = score()
            .args(["task", "run", "--plan", "plan.json", "--outputs", "out"])
            .args(args)
            .current_dir(root.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let last: Value =
            serde_json::from_str(stdout.lines().last().unwrap_or("null")).unwrap_or(Value::Null);
        (
            out.status.code(),
            last,
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let source_path = source.display().to_string();
    // Inputs missing: `backend` needs `plan`'s outputs.
    std::fs::create_dir_all(root.path().join("in")).unwrap();
    let (code, status, stderr) = run(&[
        "--task",
        "backend",
        "--inputs",
        "in",
        "--repo",
        &source_path,
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(status["status"], "error");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("the outputs of `plan`"),
        "{status}"
    );
    // A dependency's outputs that break its schema.
    std::fs::write(root.path().join("in/plan.json"), r#"{"topic": 3}"#).unwrap();
    let (code, status, _) = run(&[
        "--task",
        "backend",
        "--inputs",
        "in",
        "--repo",
        &source_path,
    ]);
    assert_eq!(code, Some(2));
    assert!(
        status["message"].as_str().unwrap().contains("do not match"),
        "{status}"
    );
    // An unknown task, a bad plan.
    let (code, status, _) = run(&["--task", "nope", "--inputs", "in"]);
    assert_eq!(code, Some(2));
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("no task `nope`"),
        "{status}"
    );
    std::fs::write(root.path().join("bad.json"), "{}").unwrap();
    let out = score()
        .args([
            "task",
            "run",
            "--plan",
            "bad.json",
            "--task",
            "plan",
            "--inputs",
            "in",
            "--outputs",
            "out",
        ])
        .current_dir(root.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // The agent failing: the first task played by a program that is absent.
    let (code, status, _) = run(&[
        "--task",
        "plan",
        "--inputs",
        "in",
        "--repo",
        &source_path,
        "--agent",
        "mock=writer",
    ]);
    // `writer` needs an @file line the plan part's prompt lacks: it fails.
    assert_eq!(code, Some(1), "{status}");
    assert_eq!(status["status"], "failed");
    assert!(
        status["message"].as_str().unwrap().contains("@file"),
        "{status}"
    );
    // And it succeeds: outputs written, status line says so.
    let (code, status, stderr) = run(&["--task", "plan", "--inputs", "in", "--repo", &source_path]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(status["status"], "succeeded");
    assert!(root.path().join("out/plan.json").is_file());
}

#[test]
fn merge_says_merged_or_conflict_with_its_exit_code() {
    let root = tempfile::tempdir().unwrap();
    let source = root.path().join("source");
    std::fs::create_dir_all(&source).unwrap();
    quickstart_repo(&source);
    let built = score()
        .args(["build", "quickstart.score", "-o", "../plan.json"])
        .current_dir(&source)
        .output()
        .unwrap();
    assert!(built.status.success());
    // Two part branches from main that write the same file differently.
    for (task, text) in [("backend", "one\n"), ("frontend", "two\n")] {
        git(
            &source,
            &[
                "checkout",
                "-q",
                "-b",
                &format!("score-parts/r1/{task}"),
                "main",
            ],
        );
        write(&source, "shared.txt", text);
        git(&source, &["add", "-A"]);
        git(&source, &["commit", "-q", "-m", task]);
    }
    git(&source, &["checkout", "-q", "main"]);
    let merge = |run: &str| {
        score()
            .args(["merge", "--plan", "../plan.json", "--run", run])
            .current_dir(&source)
            .output()
            .unwrap()
    };
    let out = merge("r1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "a conflict is exit 1: {stderr}");
    assert!(
        stderr.contains("error: the branch of `frontend` conflicts with `score/r1` in shared.txt"),
        "{stderr}"
    );
    // One branch alone merges.
    git(
        &source,
        &[
            "branch",
            "-q",
            "score-parts/r2/backend",
            "score-parts/r1/backend",
        ],
    );
    let out = merge("r2");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with("merged 1 part into `score/r2` (4 had no branch: "),
        "{stdout}"
    );
    // A run id git refuses is exit 2.
    assert_eq!(merge("a..b").status.code(), Some(2));
}
