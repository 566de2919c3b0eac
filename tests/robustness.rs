//! Hostile input, through the real binary: whatever a user (or a tool
//! gone wrong) feeds `score`, it answers with a clear message and an exit
//! status, never a crash (a stack overflow aborts with SIGABRT, a panic
//! exits with 101).
//!
//! - a type nested 25 000 levels deep (`Text????...`), in `score check`,
//!   `build`, `fmt` and the language server;
//! - plans edited by hand into inconsistency (an agent, a dependency, an
//!   output that is not there), in every command that reads a plan;
//! - numbers past their setting's range (`retries 4294967295`), in a score
//!   and in a plan;
//! - a `.score/lock` naming a live process that is not the run that wrote
//!   it;
//! - `--repo` values that git would read as options, or that carry
//!   credentials, in `score export argo`, `score task run` and `score merge`.

mod support;

use support::lsp_wire;

use assert_cmd::Command;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn score(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("score").unwrap();
    cmd.current_dir(dir);
    cmd.env("NO_COLOR", "1");
    cmd
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A clean score whose one part has an output of type `ty`.
fn score_with_output_type(ty: &str) -> String {
    format!(
        "score s {{ default_agent a }}\n\
         agent a: mock {{ tier complex }}\n\
         intent i \"x\" {{ accept \"y\" }}\n\
         part p {{\n  serves i\n  output x: {ty}\n}}\n"
    )
}

fn deep_type() -> String {
    format!("Text{}", "?".repeat(25_000))
}

#[test]
fn a_type_25000_levels_deep_is_a_diagnostic_in_check_build_and_fmt() {
    let dir = tempfile::tempdir().unwrap();
    let text = score_with_output_type(&deep_type());
    write(dir.path(), "deep.score", &text);
    for args in [
        &["check", "deep.score"][..],
        &["check", "--format", "json", "deep.score"],
        &["build", "deep.score", "-o", "plan.json"],
        &["fmt", "deep.score"],
        &["fmt", "--check", "deep.score"],
    ] {
        let out = score(dir.path()).args(args).output().unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(1), "{args:?}: {all}");
        assert!(all.contains("nesting too deep"), "{args:?}: {all}");
        assert!(!all.contains("overflow"), "{args:?}: {all}");
    }
    // The JSON diagnostic names the mark that goes too deep.
    let out = score(dir.path())
        .args(["check", "--format", "json", "deep.score"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let deep: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|d| d["message"] == "nesting too deep")
        .collect();
    assert_eq!(deep.len(), 1, "{stdout}");
    assert!(!dir.path().join("plan.json").exists());
    // The file is left as it was.
    assert_eq!(
        std::fs::read_to_string(dir.path().join("deep.score")).unwrap(),
        text
    );
    // The deepest legal type still builds.
    write(
        dir.path(),
        "ok.score",
        &score_with_output_type(&format!("Text{}", "?".repeat(63))),
    );
    score(dir.path())
        .args(["build", "ok.score", "-o", "plan.json"])
        .assert()
        .success();
}

/// A minimal client of `score lsp` over its real stdio.
struct Client {
    server: lsp_wire::Server,
    next_id: i64,
}

impl Client {
    fn start(dir: &Path) -> Client {
        let server = lsp_wire::start(dir).expect("start `score lsp`");
        let mut client = Client { server, next_id: 1 };
        let root = format!("file://{}", dir.display());
        let init = client.request(
            "initialize",
            json!({"processId": null, "rootUri": root, "capabilities": {}}),
        );
        assert!(init.get("result").is_some(), "{init}");
        client.notify("initialized", json!({}));
        client
    }

    fn notify(&mut self, method: &str, params: Value) {
        let message = json!({"jsonrpc": "2.0", "method": method, "params": params});
        lsp_wire::write_message(&mut self.server.stdin, &message).unwrap();
    }

    fn next(&mut self) -> Value {
        self.server
            .messages
            .recv_timeout(Duration::from_secs(30))
            .expect("the server answers within 30 s")
    }

    /// The whole response (result or error) to a request.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let message = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        lsp_wire::write_message(&mut self.server.stdin, &message).unwrap();
        loop {
            let message = self.next();
            if message["id"] == json!(id) {
                return message;
            }
        }
    }

    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        loop {
            let message = self.next();
            if message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
            {
                return message["params"]["diagnostics"].as_array().unwrap().clone();
            }
        }
    }

    fn shutdown(mut self) {
        let response = self.request("shutdown", Value::Null);
        assert!(response["result"].is_null(), "{response}");
        self.notify("exit", Value::Null);
        let status = self.server.child.wait().unwrap();
        assert!(status.success(), "exit status {status}");
    }
}

#[test]
fn a_type_25000_levels_deep_is_a_diagnostic_in_the_language_server() {
    let dir = tempfile::tempdir().unwrap();
    let text = score_with_output_type(&deep_type());
    let path = write(dir.path(), "deep.score", &text);
    let uri = format!("file://{}", path.display());
    let mut client = Client::start(dir.path());
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "score", "version": 1, "text": text}}),
    );
    let diagnostics = client.diagnostics(&uri);
    assert!(
        diagnostics
            .iter()
            .any(|d| d["message"].as_str().unwrap().contains("nesting too deep")),
        "{diagnostics:#?}"
    );
    // Every feature still answers on the file.
    let position = json!({"line": 5, "character": 20});
    let doc = json!({"uri": uri});
    for (method, params) in [
        (
            "textDocument/hover",
            json!({"textDocument": doc, "position": position}),
        ),
        (
            "textDocument/definition",
            json!({"textDocument": doc, "position": position}),
        ),
        (
            "textDocument/completion",
            json!({"textDocument": doc, "position": position}),
        ),
        ("textDocument/documentSymbol", json!({"textDocument": doc})),
        (
            "textDocument/formatting",
            json!({"textDocument": doc, "options": {"tabSize": 2, "insertSpaces": true}}),
        ),
    ] {
        let response = client.request(method, params);
        assert!(
            response.get("result").is_some() || response.get("error").is_some(),
            "{method}: {response}"
        );
    }
    // An edit that makes it legal clears the error.
    let fixed = score_with_output_type("Text?");
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    let diagnostics = client.diagnostics(&uri);
    assert!(
        diagnostics.iter().all(|d| d["severity"] != 1),
        "{diagnostics:#?}"
    );
    client.shutdown();
}

// ---------------------------------------------------------------------------
// Plans edited by hand

const TWO_PARTS: &str = r#"score s {
  default_agent a
  input repo: Text
}
agent a: mock { tier complex }
intent i "x" { accept "y" }
part model {
  serves i
  output link: Text
}
part store {
  serves i
  input link = model.link
  input repo = score.repo
}
"#;

/// A directory with a git repository and the plan of [`TWO_PARTS`].
fn built_plan() -> (tempfile::TempDir, Value) {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["init", "-q"][..],
        &["commit", "-q", "--allow-empty", "-m", "init"],
    ] {
        let ok = std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@t")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@t")
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }
    write(dir.path(), "s.score", TWO_PARTS);
    score(dir.path())
        .args(["build", "s.score", "-o", "plan.json"])
        .assert()
        .success();
    let plan =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap())
            .unwrap();
    (dir, plan)
}

fn task_mut<'p>(plan: &'p mut Value, id: &str) -> &'p mut Value {
    plan["tasks"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|t| t["id"] == id)
        .unwrap()
}

/// Every command that reads a plan refuses `plan` with exit status 2 and
/// a message containing `expected`, and never panics.
fn refused_everywhere(dir: &Path, plan: &Value, expected: &str) {
    write(
        dir,
        "edited.json",
        &serde_json::to_string_pretty(plan).unwrap(),
    );
    let inputs = dir.join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    for args in [
        &["run", "edited.json", "--input", "repo=x"][..],
        &["run", "edited.json", "--dry-run"],
        &[
            "task",
            "run",
            "--plan",
            "edited.json",
            "--task",
            "store",
            "--inputs",
            "in",
            "--outputs",
            "out",
        ],
        &["export", "argo", "edited.json", "--image", "score:1"],
        &["merge", "--plan", "edited.json", "--run", "r1"],
    ] {
        let out = score(dir).args(args).output().unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(2), "{args:?}: {all}");
        assert!(all.contains(expected), "{args:?}: {all}");
        assert!(!all.contains("panicked"), "{args:?}: {all}");
    }
}

#[test]
fn a_plan_naming_an_agent_it_does_not_define_is_refused() {
    let (dir, mut plan) = built_plan();
    // As built, it runs.
    score(dir.path())
        .args(["run", "plan.json", "--input", "repo=x"])
        .assert()
        .success();
    task_mut(&mut plan, "store")["agent"] = json!("ghost");
    refused_everywhere(
        dir.path(),
        &plan,
        "task `store` is played by agent `ghost`, which the plan does not define",
    );
}

#[test]
fn a_plan_whose_inputs_come_from_nowhere_is_refused() {
    let (dir, plan) = built_plan();
    let mut edited = plan.clone();
    task_mut(&mut edited, "store")["inputs"]["link"]["source"]["output"] = json!("nope");
    refused_everywhere(dir.path(), &edited, "task `model` has no output `nope`");
    let mut edited = plan.clone();
    task_mut(&mut edited, "store")["inputs"]["repo"]["source"]["name"] = json!("nope");
    refused_everywhere(
        dir.path(),
        &edited,
        "is the score input `nope`, which the plan does not declare",
    );
    let mut edited = plan.clone();
    task_mut(&mut edited, "store")["depends_on"] = json!(["ghost"]);
    refused_everywhere(
        dir.path(),
        &edited,
        "depends on `ghost`, which is not a task",
    );
    let mut edited = plan.clone();
    task_mut(&mut edited, "model")["depends_on"] = json!(["store"]);
    refused_everywhere(dir.path(), &edited, "cycle");
    let mut edited = plan;
    edited["waves"] = json!([["model", "store"]]);
    refused_everywhere(dir.path(), &edited, "`waves` lists it in wave 0");
}

// ---------------------------------------------------------------------------
// Numbers out of range

#[test]
fn retries_past_the_range_are_refused_in_a_score_and_in_a_plan() {
    let (dir, mut plan) = built_plan();
    let text = TWO_PARTS.replace(
        "  serves i\n  output link",
        "  serves i\n  retries 4294967295\n  output link",
    );
    write(dir.path(), "wrapped.score", &text);
    for args in [
        &["check", "wrapped.score"][..],
        &["run", "wrapped.score", "--input", "repo=x"],
    ] {
        score(dir.path())
            .args(args)
            .assert()
            .code(1)
            .stderr(predicates::str::contains(
                "setting `retries` expects a whole number from 0 to 100, found `4294967295`",
            ));
    }
    task_mut(&mut plan, "model")["retries"] = json!(u32::MAX);
    refused_everywhere(
        dir.path(),
        &plan,
        "/tasks/0/retries: 4294967295 is greater than the maximum of 100",
    );
    // A timeout no clock can add: refused too.
    let (dir, mut plan) = built_plan();
    task_mut(&mut plan, "model")["timeout_ms"] = json!(u64::MAX);
    refused_everywhere(dir.path(), &plan, "/tasks/0/timeout_ms");
}

// ---------------------------------------------------------------------------
// Locks naming another process

/// A `sleep` that is not score, killed when dropped.
struct Sleeper(std::process::Child);

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Field 22 of `/proc/PID/stat`: when the process started.
fn start_time(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 1..];
    after.split_whitespace().nth(19).unwrap().parse().unwrap()
}

#[test]
fn a_lock_naming_a_live_unrelated_process_says_which_and_how_to_go_on() {
    if !Path::new("/proc/self/stat").exists() {
        eprintln!("skipped: no /proc");
        return;
    }
    let (dir, _) = built_plan();
    let sleeper = Sleeper(
        std::process::Command::new("sleep")
            .arg("300")
            .spawn()
            .unwrap(),
    );
    let pid = sleeper.0.id();
    // Wait until it is `sleep` (not yet the forked test) in /proc.
    for _ in 0..10_000 {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if cmdline.starts_with(b"sleep") {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    std::fs::create_dir_all(dir.path().join(".score")).unwrap();
    // A lock as older versions wrote it: no start time to compare.
    write(
        dir.path(),
        ".score/lock",
        &json!({"pid": pid, "run": "r-old", "since": 0}).to_string(),
    );
    let out = score(dir.path())
        .args(["run", "plan.json", "--input", "repo=x"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    for expected in [
        format!("process {pid} (`sleep 300`)"),
        format!("process {pid} may not be a score run"),
        "remove `".to_string(),
        ".score/lock` and try again".to_string(),
    ] {
        assert!(stderr.contains(&expected), "{expected}: {stderr}");
    }
    // Not the message for a holder known to be the run.
    assert!(!stderr.contains(&format!("`kill {pid}`")), "{stderr}");
    // With the holder's start time recorded, the pid is known to be
    // another process's now: the lock is stale and the run goes ahead.
    write(
        dir.path(),
        ".score/lock",
        &json!({"pid": pid, "run": "r-old", "since": 0, "started": start_time(pid) - 1})
            .to_string(),
    );
    score(dir.path())
        .args(["run", "plan.json", "--input", "repo=x"])
        .assert()
        .success();
    assert!(!dir.path().join(".score/lock").exists());
    let mut sleeper = sleeper;
    assert!(
        sleeper.0.try_wait().unwrap().is_none(),
        "the sleeper is left alone"
    );
}

// ---------------------------------------------------------------------------
// Repository arguments

#[test]
fn a_repo_that_git_would_read_as_an_option_is_refused() {
    let (dir, _) = built_plan();
    let pwned = dir.path().join("pwned");
    // `--repo=VALUE`: clap takes a value starting with `-` this way.
    let evil = format!("--repo=--upload-pack=touch {}", pwned.display());
    std::fs::create_dir_all(dir.path().join("in")).unwrap();
    let task_run = [
        "task",
        "run",
        "--plan",
        "plan.json",
        "--task",
        "model",
        "--inputs",
        "in",
        "--outputs",
        "out",
    ];
    for args in [
        vec!["export", "argo", "plan.json", "--image", "score:1", &evil],
        vec![
            "export",
            "argo",
            "plan.json",
            "--image",
            "score:1",
            "--base=--orphan=x",
        ],
        [&task_run[..], &[&evil]].concat(),
        [&task_run[..], &["--repo", ".", "--base=--orphan=x"]].concat(),
        vec!["merge", "--plan", "plan.json", "--run", "r1", &evil],
    ] {
        let out = score(dir.path()).args(&args).output().unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(2), "{args:?}: {all}");
        assert!(
            all.contains("starts with `-`, which git would read as an option"),
            "{args:?}: {all}"
        );
        assert!(!pwned.exists(), "{args:?} ran git's option");
    }
}

#[test]
fn credentials_in_a_repo_url_are_never_written_or_shown() {
    let (dir, _) = built_plan();
    let token = "ghp_S3cr3tT0kenValue";
    let url = format!("https://x-access-token:{token}@127.0.0.1:1/acme/shop.git");
    let out = score(dir.path())
        .args([
            "export",
            "argo",
            "plan.json",
            "--image",
            "score:1",
            "--repo",
            &url,
            "-o",
            "wf.yaml",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let yaml = std::fs::read_to_string(dir.path().join("wf.yaml")).unwrap();
    assert!(!yaml.contains(token), "the token is in the workflow");
    assert!(
        !yaml.contains("x-access-token"),
        "the user is in the workflow"
    );
    assert!(yaml.contains("https://127.0.0.1:1/acme/shop.git"), "{yaml}");
    assert!(!stderr.contains(token), "{stderr}");
    assert!(
        stderr.contains("warning: `--repo` holds credentials"),
        "{stderr}"
    );
    assert!(stderr.contains("--git-credentials"), "{stderr}");
    // To standard output as well.
    let out = score(dir.path())
        .args([
            "export",
            "argo",
            "plan.json",
            "--image",
            "score:1",
            "--repo",
            &url,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stdout).contains(token));
    // `score task run` and `score merge` use it (nothing listens on port
    // 1), but do not repeat it.
    std::fs::create_dir_all(dir.path().join("in")).unwrap();
    for args in [
        vec![
            "task",
            "run",
            "--plan",
            "plan.json",
            "--task",
            "model",
            "--inputs",
            "in",
            "--outputs",
            "out",
            "--repo",
            &url,
        ],
        vec![
            "merge",
            "--plan",
            "plan.json",
            "--run",
            "r1",
            "--repo",
            &url,
        ],
    ] {
        let out = score(dir.path())
            .args(&args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(2), "{all}");
        assert!(
            all.contains("cannot clone `https://127.0.0.1:1/acme/shop.git`"),
            "{all}"
        );
        assert!(!all.contains(token), "{args:?}: {all}");
    }
}
