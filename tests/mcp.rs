//! `score mcp` end to end: the official Python MCP SDK (a client nobody
//! here wrote) over stdio and over Streamable HTTP on 127.0.0.1, and raw
//! JSON-RPC lines for the protocol's error paths.
//!
//! The Python client lives in a venv that `tests/mcp/setup-venv.sh` makes
//! (`.ci/run` makes it too); the tests make it when it is missing. A
//! machine that cannot may opt out with `SCORE_SKIP_MCP_PYTHON=1`; without
//! that, a missing venv fails the test and says how to fix it.

mod support;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;
use support::runs::{git_init, write};

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's python, made on first use; `None` when the machine opted out.
fn python() -> Option<PathBuf> {
    static VENV: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    let venv = VENV.get_or_init(|| {
        let dir = std::env::var_os("SCORE_MCP_VENV")
            .map_or_else(|| manifest().join("target/mcp-venv"), PathBuf::from);
        let out = Command::new("sh")
            .arg(manifest().join("tests/mcp/setup-venv.sh"))
            .arg(&dir)
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(dir.join("bin/python"))
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    });
    match venv {
        Ok(python) => Some(python.clone()),
        Err(_) if std::env::var("SCORE_SKIP_MCP_PYTHON").is_ok_and(|v| v == "1") => {
            eprintln!("skipped: no Python MCP SDK and SCORE_SKIP_MCP_PYTHON=1");
            None
        }
        Err(why) => panic!(
            "cannot make the Python venv with the official MCP SDK that these tests drive `score mcp` with:\n{why}\n\
             fix: run `tests/mcp/setup-venv.sh` (needs python3 with venv, and PyPI), or set SCORE_SKIP_MCP_PYTHON=1 to skip these tests"
        ),
    }
}

/// A directory with `broken.score` (two parts that may write one file:
/// E0401) and the quickstart in its own repository under `quickstart/`.
fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let broken =
        std::fs::read_to_string(manifest().join("tests/cases/E0401_owns_overlap.score")).unwrap();
    write(dir.path(), "broken.score", &broken);
    let quickstart = dir.path().join("quickstart");
    for file in ["quickstart.score", "agents/write_file.sh"] {
        let text =
            std::fs::read_to_string(manifest().join("examples/quickstart").join(file)).unwrap();
        write(&quickstart, file, &text);
    }
    git_init(&quickstart);
    dir
}

/// Runs the Python client; what it saw. (Bounded: a server that stops
/// answering fails the test instead of hanging it.)
fn client(python: &Path, mode: &str, target: &str, dir: &Path) -> Value {
    let mut child = Command::new(python)
        .arg(manifest().join("tests/mcp/client.py"))
        .args([mode, target])
        .arg(dir)
        .env_remove("CI")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let read_all = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            pipe.read_to_string(&mut text).unwrap();
            text
        })
    };
    let (stdout, stderr) = (read_all(Box::new(stdout)), read_all(Box::new(stderr)));
    let mut status = None;
    for _ in 0..6000 {
        status = child.try_wait().unwrap();
        if status.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let Some(status) = status else {
        let _ = child.kill();
        panic!("the Python MCP client did not finish in 10 minutes");
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert!(status.success(), "the Python MCP client failed:\n{stderr}");
    serde_json::from_str(&stdout).unwrap()
}

fn assert_e0401_with_positions(diagnostic: &Value) {
    assert_eq!(diagnostic["code"], "E0401");
    assert_eq!(diagnostic["severity"], "error");
    assert!(
        diagnostic["file"]
            .as_str()
            .unwrap()
            .ends_with("broken.score")
    );
    // `owns "src/store/**"` in contract Storage, and the labels.
    assert_eq!(
        (&diagnostic["line"], &diagnostic["column"]),
        (&json!(34), &json!(8))
    );
    assert_eq!(diagnostic["end_column"], 22);
    assert!(diagnostic["labels"].as_array().unwrap().len() >= 2);
    assert!(diagnostic["help"].as_str().unwrap().contains("sequence"));
}

#[test]
fn the_official_python_sdk_checks_runs_and_follows_a_run_over_stdio() {
    let Some(python) = python() else { return };
    let dir = workdir();
    let seen = client(&python, "stdio", env!("CARGO_BIN_EXE_score"), dir.path());

    let tools: Vec<&str> = seen["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert_eq!(
        tools,
        [
            "approve",
            "build",
            "check",
            "explain",
            "format",
            "graph",
            "import_speckit",
            "plan",
            "reject",
            "run",
            "status"
        ]
    );
    assert_e0401_with_positions(&seen["check"]);
    assert_eq!(seen["check_text_codes"], json!(["E0401"]));
    // A tool that needs a clean score: a tool error with the code.
    assert_eq!(seen["plan_error"]["code"], "E0401");
    assert_e0401_with_positions(&seen["plan_error"]["diagnostics"][0]);
    assert_eq!(
        seen["explain_title"],
        "parts that may run at the same time can write the same path"
    );
    assert!(
        seen["resource_text"]
            .as_str()
            .unwrap()
            .starts_with("# E0401")
    );
    assert_eq!(seen["prompts"], json!(["draft_score", "fix_diagnostics"]));
    assert!(
        seen["prompt_text"]
            .as_str()
            .unwrap()
            .contains("a tiny shop")
    );

    // The run: an ordinary one, in the quickstart's workspace, done.
    let run_id = seen["run"]["run_id"].as_str().unwrap();
    let status = &seen["status"];
    assert_eq!(status["state"], "succeeded", "{status}");
    assert_eq!(status["succeeded"], 5, "{status}");
    assert_eq!(
        seen["states"].as_array().unwrap().last().unwrap(),
        "succeeded"
    );
    let workspace = dir.path().join("quickstart");
    let journal = support::runs::journal(&workspace);
    assert_eq!(journal[0]["event"], "run_started");
    assert_eq!(journal[0]["run"], run_id);
    assert_eq!(journal.last().unwrap()["status"], "succeeded");
    // Its work is on the run's integration branch, as with `score run`.
    let branch = support::runs::git(
        &workspace,
        &["branch", "--list", &format!("score/{run_id}")],
    );
    assert!(branch.contains(run_id), "{branch}");
    let report = seen["report"].as_str().unwrap();
    assert!(
        report.starts_with(&format!("Run {run_id} succeeded: 5 of 5 tasks")),
        "{report}"
    );
}

/// `score mcp --http 127.0.0.1:0`, and the URL it serves at.
fn http_server(dir: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_score"))
        .args(["mcp", "--http", "127.0.0.1:0"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .rsplit(' ')
        .next()
        .filter(|url| url.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    (child, url)
}

#[test]
fn the_official_python_sdk_speaks_streamable_http_on_loopback() {
    let Some(python) = python() else { return };
    let dir = workdir();
    let (mut server, url) = http_server(dir.path());
    assert!(url.ends_with("/mcp"), "{url}");
    let seen = client(&python, "http", &url, dir.path());
    // Only `/mcp` is MCP.
    let address = url.trim_start_matches("http://").split('/').next().unwrap();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET /other HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut status = String::new();
    BufReader::new(stream).read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 404"), "{status}");
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(seen["tools"].as_array().unwrap().len(), 11);
    assert_e0401_with_positions(&seen["check"]);
    assert_eq!(seen["plan_error"]["code"], "E0401");
}

#[test]
fn a_non_loopback_address_is_refused_unless_allowed() {
    let out = Command::new(env!("CARGO_BIN_EXE_score"))
        .args(["mcp", "--http", "0.0.0.0:0"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a loopback address"), "{stderr}");
    assert!(stderr.contains("--allow-remote"), "{stderr}");
}

/// `score mcp` on stdio, spoken to line by line.
struct Raw {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<Value>,
}

impl Raw {
    fn start(dir: &Path, env: &[(&str, &str)]) -> Raw {
        let mut child = Command::new(env!("CARGO_BIN_EXE_score"))
            .arg("mcp")
            .current_dir(dir)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let line = line.unwrap();
                let value = serde_json::from_str(&line).unwrap_or_else(|e| {
                    panic!("the server wrote a line that is not JSON ({e}): {line}")
                });
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        let mut raw = Raw {
            child,
            stdin,
            lines,
        };
        raw.send(
            &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "raw", "version": "1"}}}),
        );
        assert_eq!(raw.next()["id"], 0);
        raw.line(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        raw
    }

    fn line(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn send(&mut self, message: &Value) {
        self.line(&message.to_string());
    }

    /// The next message (a bound, not a timing: a server that stopped
    /// answering fails the test instead of hanging it).
    fn next(&mut self) -> Value {
        self.lines
            .recv_timeout(Duration::from_secs(120))
            .expect("the server stopped answering")
    }

    /// The answer to request `id` (skipping notifications).
    fn answer(&mut self, id: i64) -> Value {
        loop {
            let message = self.next();
            if message["id"] == id {
                return message;
            }
            assert!(
                message.get("id").is_none() || message["id"].is_null(),
                "an answer to another request: {message}"
            );
        }
    }

    fn call(&mut self, id: i64, tool: &str, arguments: Value) -> Value {
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": tool, "arguments": arguments}}));
        self.answer(id)
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn malformed_requests_get_json_rpc_errors_and_the_server_keeps_serving() {
    let dir = workdir();
    let mut raw = Raw::start(dir.path(), &[]);

    // Not JSON at all: ignored (as every official MCP SDK does: there is
    // no id to answer, and answering garbage can start an error storm).
    raw.line("this is not json {");
    // JSON that is not a JSON-RPC message: Invalid Request, no id.
    raw.line(r#"{"hello": "world"}"#);
    let invalid = raw.next();
    assert_eq!(invalid["error"]["code"], -32600, "{invalid}");
    assert!(invalid.get("id").is_none() || invalid["id"].is_null());
    raw.line("[]");
    assert_eq!(raw.next()["error"]["code"], -32600);

    // An unknown method: Method Not Found, with its id.
    raw.send(&json!({"jsonrpc": "2.0", "id": 1, "method": "no/such/method"}));
    assert_eq!(raw.answer(1)["error"]["code"], -32601);

    // An unknown tool: Invalid Params.
    let unknown = raw.call(2, "no_such_tool", json!({}));
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");

    // Arguments of the wrong shape: a tool error saying what is wrong.
    let wrong = raw.call(3, "check", json!({"paths": 5}));
    assert_eq!(wrong["result"]["isError"], true, "{wrong}");
    let text = wrong["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("paths") || text.contains("sequence"),
        "{text}"
    );

    // A code that does not exist: a tool error with structured content.
    let explain = raw.call(4, "explain", json!({"code": "E9999"}));
    assert_eq!(explain["result"]["isError"], true);
    assert_eq!(explain["result"]["structuredContent"]["code"], "usage");

    // And after all that, it still answers.
    let check = raw.call(5, "check", json!({"paths": ["broken.score"]}));
    let diagnostics = &check["result"]["structuredContent"]["diagnostics"];
    assert_e0401_with_positions(&diagnostics[0]);
    raw.send(&json!({"jsonrpc": "2.0", "id": 6, "method": "ping"}));
    assert_eq!(raw.answer(6)["result"], json!({}));
}

#[test]
fn the_server_never_returns_a_secret_of_its_environment() {
    let dir = workdir();
    // An identifier too, so that a diagnostic can quote it.
    let secret = "sk_test_0123456789abcdef";
    let mut raw = Raw::start(dir.path(), &[("SOME_API_KEY", secret)]);
    let text = format!(
        "intent i \"the key is {secret}\" {{\n  accept \"x\"\n}}\n\npart p by {secret} {{ serves i }}\n"
    );
    // Echoed by `format`, quoted by `check`'s diagnostics: masked in both.
    let formatted = raw.call(1, "format", json!({ "text": text }));
    let check = raw.call(2, "check", json!({ "text": text }));
    for answer in [&formatted, &check] {
        let shown = answer.to_string();
        assert!(!shown.contains(secret), "{shown}");
    }
    let formatted = formatted["result"]["structuredContent"]["text"]
        .as_str()
        .unwrap();
    assert!(formatted.contains("the key is ***"), "{formatted}");
    let unknown_agent = &check["result"]["structuredContent"]["diagnostics"][0];
    assert_eq!(unknown_agent["code"], "E0101");
    let message = unknown_agent["message"].as_str().unwrap();
    assert!(message.contains("***"), "{message}");
}

#[test]
fn a_run_that_cannot_start_is_a_tool_error_saying_why() {
    let dir = workdir();
    // Uncommitted changes in the workspace: `score run` refuses.
    write(&dir.path().join("quickstart"), "dirty.txt", "x\n");
    let mut raw = Raw::start(dir.path(), &[]);
    let answer = raw.call(1, "run", json!({"file": "quickstart/quickstart.score"}));
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    let failure = &answer["result"]["structuredContent"];
    assert_eq!(failure["code"], "run");
    let message = failure["message"].as_str().unwrap();
    assert!(message.contains("before the run started"), "{message}");
    assert!(message.contains("uncommitted"), "{message}");
    // A score with errors does not start a process at all.
    let broken = raw.call(2, "run", json!({"file": "broken.score"}));
    assert_eq!(broken["result"]["structuredContent"]["code"], "E0401");
    assert!(!dir.path().join(".score").exists());
}

/// Four mock parts in a diamond; `b` needs a person's approval.
const NEEDS_APPROVAL: &str = r#"
score diamond {
  default_agent fast
}

agent fast: mock {
  tier complex
  seed 7
}

intent done "Everything gets done" {
  accept "every part finishes"
}

part a {
  serves done
  output topic: Text
}

part b {
  serves done
  input topic = a.topic
  output note: Text
  approve "the tech lead"
}

part c {
  serves done
  input topic = a.topic
  output count: Int
}

part d {
  serves done
  input note = b.note
  input count = c.count
  output verdict: Text
}
"#;

impl Raw {
    /// Polls `status` until the run is done; its last state. (Bounded, so
    /// that a run that never ends fails the test instead of hanging it.)
    fn wait_for(&mut self, first_id: i64, run_id: &str) -> Value {
        for id in first_id..first_id + 3000 {
            let status = self.call(id, "status", json!({ "run_id": run_id }));
            let state = status["result"]["structuredContent"].clone();
            assert!(state.is_object(), "{status}");
            if state["done"] == true {
                return state;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("run {run_id} did not finish")
    }
}

#[test]
fn a_run_paused_for_approval_is_approved_and_resumed_through_mcp() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "s.score", NEEDS_APPROVAL);
    let mut raw = Raw::start(dir.path(), &[]);
    let started = raw.call(1, "run", json!({"file": "s.score"}));
    let run_id = started["result"]["structuredContent"]["run_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{started}"))
        .to_string();
    let state = raw.wait_for(100, &run_id);
    assert_eq!(state["state"], "paused", "{state}");
    assert_eq!(
        state["waiting_for_approval"],
        json!([{"task": "b", "approver": "the tech lead"}])
    );

    // `c` is not waiting: a tool error from `score approve`'s own check.
    let wrong = raw.call(2, "approve", json!({"run_id": run_id, "part": "c"}));
    assert_eq!(wrong["result"]["isError"], true, "{wrong}");
    let message = wrong["result"]["structuredContent"]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("not waiting for an approval"), "{message}");

    let approved = raw.call(3, "approve", json!({"run_id": run_id, "part": "b"}));
    let message = approved["result"]["structuredContent"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{approved}"));
    assert!(message.starts_with("approved `b`"), "{message}");

    let resumed = raw.call(4, "run", json!({"file": "s.score", "resume": run_id}));
    assert_eq!(
        resumed["result"]["structuredContent"]["run_id"], run_id,
        "{resumed}"
    );
    let state = raw.wait_for(1000, &run_id);
    assert_eq!(state["state"], "succeeded", "{state}");
    assert_eq!(state["succeeded"], 4);
    assert!(state["waiting_for_approval"].as_array().unwrap().is_empty());
    let records = support::runs::journal(dir.path());
    assert!(records.iter().any(|r| r["event"] == "approved"));
}

#[test]
fn build_plan_graph_and_format_answer_with_the_library_s_own_results() {
    let dir = workdir();
    let mut raw = Raw::start(dir.path(), &[]);
    let file = "quickstart/quickstart.score";

    let built = raw.call(1, "build", json!({ "file": file }));
    let built = &built["result"]["structuredContent"];
    let plan_path = PathBuf::from(built["plan_path"].as_str().unwrap());
    assert_eq!(
        plan_path,
        dir.path().join("quickstart/quickstart.plan.json")
    );
    assert_eq!(
        (built["tasks"].clone(), built["waves"].clone()),
        (json!(5), json!(3))
    );
    // The plan written is the one `score build` writes.
    let cli = Command::new(env!("CARGO_BIN_EXE_score"))
        .args(["build", file])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(std::fs::read(&plan_path).unwrap(), cli.stdout);

    let plan = raw.call(2, "plan", json!({ "file": file }));
    let plan = &plan["result"]["structuredContent"];
    let cli = Command::new(env!("CARGO_BIN_EXE_score"))
        .args(["plan", file])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(plan["summary"].as_str().unwrap().as_bytes(), cli.stdout);
    assert_eq!(plan["waves"][0], json!(["plan"]));
    assert_eq!(plan["critical_path"]["tasks"][0], "plan");
    // Which parts a run now would play, and why: `score plan --diff`.
    let cli = Command::new(env!("CARGO_BIN_EXE_score"))
        .args(["plan", file, "--diff", "--format", "json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let lines: Vec<Value> = String::from_utf8_lossy(&cli.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    let preview = plan["preview"].as_array().unwrap();
    assert_eq!(preview.len(), lines.len());
    for (mcp, cli) in preview.iter().zip(&lines) {
        for key in ["part", "status", "reason", "wave"] {
            assert_eq!(mcp[key], cli[key], "{key}: {mcp} vs {cli}");
        }
    }
    assert_eq!(preview[0]["status"], "run");
    assert_eq!(preview[0]["reason"], "no earlier result");

    let graph = raw.call(3, "graph", json!({ "file": file }));
    let mermaid = graph["result"]["structuredContent"]["mermaid"]
        .as_str()
        .unwrap();
    let cli = Command::new(env!("CARGO_BIN_EXE_score"))
        .args(["graph", "--format", "mermaid", file])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(mermaid.as_bytes(), cli.stdout);

    let formatted = raw.call(
        4,
        "format",
        json!({"text": "intent  i \"x\"   {\naccept \"y\"\n}\n"}),
    );
    let formatted = &formatted["result"]["structuredContent"];
    assert_eq!(formatted["changed"], true);
    assert_eq!(formatted["text"], "intent i \"x\" {\n  accept \"y\"\n}\n");
    let broken = raw.call(5, "format", json!({"text": "intent i \"x\" {\n"}));
    assert_eq!(broken["result"]["isError"], true);
    assert_eq!(broken["result"]["structuredContent"]["code"], "E0001");
}

#[test]
fn a_spec_kit_feature_is_imported_with_its_refuted_claims() {
    let dir = workdir();
    let feature = manifest().join("tests/data/speckit/001-photo-albums");
    let mut raw = Raw::start(dir.path(), &[]);
    let imported = raw.call(
        1,
        "import_speckit",
        json!({ "path": feature.display().to_string() }),
    );
    let imported = &imported["result"]["structuredContent"];
    // The score `score import speckit` writes, and its report.
    let cli = Command::new(env!("CARGO_BIN_EXE_score"))
        .args(["import", "speckit"])
        .arg(&feature)
        .output()
        .unwrap();
    assert_eq!(imported["score"].as_str().unwrap().as_bytes(), cli.stdout);
    let refuted = imported["refuted"].as_array().unwrap();
    assert!(!refuted.is_empty(), "{imported}");
    let first = &refuted[0];
    assert!(first["first"].as_str().unwrap().starts_with('T'));
    assert!(first["first_line"].as_u64().unwrap() > 0);
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .contains("are marked [P] but both write"),
        "{first}"
    );
    // The imported text checks through `check`, with the refuted claims as
    // its only errors.
    let checked = raw.call(
        2,
        "check",
        json!({ "text": imported["score"], "name": "albums.score" }),
    );
    let diagnostics = checked["result"]["structuredContent"]["diagnostics"]
        .as_array()
        .unwrap()
        .clone();
    let errors: Vec<&Value> = diagnostics
        .iter()
        .filter(|d| d["severity"] == "error")
        .collect();
    assert_eq!(errors.len(), refuted.len(), "{diagnostics:?}");
    assert!(errors.iter().all(|d| d["code"] == "E0401"));
    // A path with no tasks.md is a tool error saying what to give.
    let missing = raw.call(3, "import_speckit", json!({ "path": "nowhere" }));
    assert_eq!(missing["result"]["isError"], true, "{missing}");
}
