//! The real coding-agent CLIs, end to end, opt-in (`SCORE_LIVE_AGENTS=1`).
//!
//! These are the only tests that read `../shared/tools`: `agent-clis`
//! installs Claude Code and Codex CLI at pinned versions from the npm
//! registry, `local-llm` serves a tiny model on 127.0.0.1 that both talk to
//! (no account, no network). A call takes a minute or two on two cores, so
//! they are few, and skipped unless asked for:
//!
//! ```sh
//! SCORE_LIVE_AGENTS=1 cargo test --test live_agents -- --nocapture --test-threads 1
//! ```
//!
//! The model is tiny: its answers are real but poor, so these tests judge
//! the protocol path (tokens, cost, budgets, keys), not what the parts
//! produce. `claude_code_connects_to_score_mcp` needs no model at all: it
//! checks that Claude Code loads `score mcp` (seconds, not minutes).

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

mod support;
#[allow(unused_imports)]
use support::runs::*;

/// The dummy key `agent-clis` configures; it must never reach `.score/`.
const DUMMY_KEY: &str = "sk-local-dummy";

fn live() -> bool {
    std::env::var("SCORE_LIVE_AGENTS").is_ok_and(|v| v == "1")
}

fn tools() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("shared")
        .join("tools")
}

fn port() -> String {
    std::env::var("SCORE_LIVE_LLM_PORT").unwrap_or_else(|_| "8093".into())
}

/// Runs a shared tool, panicking with its output when it fails.
fn tool(args: &[&str]) -> String {
    let out = std::process::Command::new("bash")
        .args(args)
        .env(
            "SCORE_LLM_THREADS",
            std::env::var("SCORE_LLM_THREADS").unwrap_or("2".into()),
        )
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A home directory whose `.claude/settings.json` and `.codex/config.toml`
/// point both CLIs at the local server, and the directory of the CLIs.
fn setup(home: &Path) -> String {
    let tools = tools();
    let clis = tools.join("agent-clis");
    let llm = tools.join("local-llm");
    tool(&[clis.to_str().unwrap(), "install"]);
    tool(&[llm.to_str().unwrap(), "start", &port()]);
    let bin = tool(&[
        clis.to_str().unwrap(),
        "home",
        home.to_str().unwrap(),
        &port(),
    ]);
    // The tiny model on a busy two-core machine can take minutes to read a
    // 5k-token prompt before its first token: wait for it rather than
    // reconnect (Codex's default is 5 minutes of silence, Claude Code's
    // 10 minutes a request).
    let codex = home.join(".codex/config.toml");
    let mut config = std::fs::read_to_string(&codex).unwrap();
    config.push_str("stream_idle_timeout_ms = 1800000\n");
    std::fs::write(&codex, config).unwrap();
    let claude = home.join(".claude/settings.json");
    let mut settings: Value =
        serde_json::from_str(&std::fs::read_to_string(&claude).unwrap()).unwrap();
    settings["env"]["API_TIMEOUT_MS"] = "1800000".into();
    std::fs::write(&claude, settings.to_string()).unwrap();
    bin
}

fn score(dir: &Path, home: &Path, bin: &str) -> Command {
    let mut cmd = Command::cargo_bin("score").unwrap();
    let path = format!("{bin}:{}", std::env::var("PATH").unwrap_or_default());
    cmd.current_dir(dir)
        .env_remove("CI")
        .env("HOME", home)
        .env("PATH", path)
        // Codex's provider reads its (dummy) key from here; Claude Code's
        // comes from the home's settings.json.
        .env("OPENAI_API_KEY", DUMMY_KEY)
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("CODEX_HOME")
        .timeout(std::time::Duration::from_secs(1200));
    cmd
}

/// Two parts, one per CLI, one after the other (`concurrency 1`, Claude
/// Code's first: it has the longer estimate).
fn two_parts(budget: &str) -> String {
    format!(
        r#"use std.agents.{{claude_code, codex}}

score live {{
  title "Live agents"
  concurrency 1
{budget}}}

intent greet "The project says hello" {{
  accept "a greeting exists"
}}

part hello by claude_code {{
  serves greet
  output greeting: Text
  estimate 2h
  timeout 30m
  brief "Answer with the JSON object {{\"greeting\": \"hello\"}} and nothing else."
}}

part name by codex {{
  serves greet
  output name: Text
  estimate 1h
  timeout 30m
  brief "Answer with the JSON object {{\"name\": \"score\"}} and nothing else."
}}
"#
    )
}

/// Tokens and cost each task's attempts spent, from the journal.
fn spent(records: &[Value], task: &str) -> (u64, u64, f64) {
    let mut total = (0, 0, 0.0);
    for r in records {
        let kind = r["event"].as_str().unwrap_or("");
        if r["task"] == task && matches!(kind, "attempt_failed" | "task_succeeded") {
            total.0 += r["tokens_in"].as_u64().unwrap_or(0);
            total.1 += r["tokens_out"].as_u64().unwrap_or(0);
            total.2 += r["cost_usd"].as_f64().unwrap_or(0.0);
        }
    }
    total
}

/// With `SCORE_LIVE_KEEP=DIR`, keeps a copy of the run's logs (the real
/// programs' outputs) in `DIR/NAME`, to look at or to record fixtures from.
fn keep(dir: &Path, name: &str) {
    if let Ok(keep) = std::env::var("SCORE_LIVE_KEEP") {
        let to = Path::new(&keep).join(name);
        std::fs::create_dir_all(&to).unwrap();
        let status = std::process::Command::new("cp")
            .arg("-r")
            .arg(dir.join(".score/runs"))
            .arg(&to)
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// No file under `.score/` holds the key.
fn assert_no_key(dir: &Path) {
    let found: Vec<PathBuf> = files_below(&dir.join(".score"))
        .into_iter()
        .filter(|path| {
            std::fs::read(path).is_ok_and(|b| String::from_utf8_lossy(&b).contains(DUMMY_KEY))
        })
        .collect();
    assert!(found.is_empty(), "the key is in {found:?}");
}

#[test]
fn claude_code_and_codex_play_a_score_with_tokens_costs_and_budgets() {
    if !live() {
        eprintln!("skipped: set SCORE_LIVE_AGENTS=1 to run the real CLIs");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let bin = setup(home.path());

    // A whole run: both parts played by the real programs.
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "live.score", &two_parts(""));
    git_init(dir.path());
    let out = score(dir.path(), home.path(), &bin)
        .args(["run", "live.score"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("--- score run ---\n{stdout}\n{stderr}");
    keep(dir.path(), "run");
    let records = journal(dir.path());
    let (claude_in, claude_out, claude_cost) = spent(&records, "hello");
    let (codex_in, codex_out, _) = spent(&records, "name");
    eprintln!(
        "claude: {claude_in} in, {claude_out} out, ${claude_cost}; codex: {codex_in} in, {codex_out} out"
    );
    assert!(
        claude_in > 0 && claude_out > 0,
        "Claude Code's tokens are journaled"
    );
    assert!(claude_cost > 0.0, "Claude Code's cost is journaled");
    assert!(
        codex_in > 0 && codex_out > 0,
        "Codex CLI's tokens are journaled"
    );
    // The instruction files were put back: nothing of the runtime's is
    // committed or left behind.
    let branch = format!("score/{}", latest_run(dir.path()));
    for file in ["CLAUDE.md", "AGENTS.md"] {
        assert_eq!(git_show(dir.path(), &format!("{branch}:{file}")), None);
    }
    assert_no_key(dir.path());

    // A score budget smaller than one call: the first call spends it, and
    // the run stops for the budget before the second part.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "live.score",
        &two_parts("  budget usd 0.000001\n"),
    );
    git_init(dir.path());
    let out = score(dir.path(), home.path(), &bin)
        .args(["run", "live.score"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("--- score run (budget) ---\n{stdout}\n{stderr}");
    keep(dir.path(), "budget");
    assert_eq!(out.status.code(), Some(1));
    let records = journal(dir.path());
    let exhausted = events(&records, "budget_exhausted");
    assert_eq!(exhausted.len(), 1, "{records:#?}");
    let message = exhausted[0]["message"].as_str().unwrap();
    assert!(message.contains("the score's budget of $0.00"), "{message}");
    let finished = events(&records, "run_finished");
    assert_eq!(finished[0]["status"], "over_budget");
    assert!(
        format!("{stdout}{stderr}").contains("budget"),
        "the run says why it stopped"
    );
    // What Claude Code spent before the budget stopped the run counts.
    assert!(spent(&records, "hello").2 > 0.0);
    assert_eq!(
        spent(&records, "name"),
        (0, 0, 0.0),
        "the second part never ran"
    );
    assert_no_key(dir.path());
}

/// Claude Code, the real CLI, loads `score mcp` both ways docs/mcp.md
/// gives: registered with `claude mcp add` (then `claude mcp list` reports
/// it connected), and from an `--mcp-config` file (its stream-json `init`
/// event lists the server as connected, with score's tools). Neither needs
/// a model: the session is stopped right after `init`. Codex CLI reads the
/// server from its `config.toml`.
#[test]
fn claude_code_connects_to_score_mcp() {
    if !live() {
        eprintln!("skipped: set SCORE_LIVE_AGENTS=1 to run the real CLIs");
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let clis = tools().join("agent-clis");
    tool(&[clis.to_str().unwrap(), "install"]);
    let bin = tool(&[
        clis.to_str().unwrap(),
        "home",
        home.path().to_str().unwrap(),
        &port(),
    ]);
    let score = env!("CARGO_BIN_EXE_score");
    let claude = |args: &[&str]| {
        let mut cmd = std::process::Command::new(Path::new(&bin).join("claude"));
        cmd.args(args)
            .current_dir(project.path())
            .env("HOME", home.path())
            .env_remove("ANTHROPIC_API_KEY");
        cmd
    };

    let added = claude(&["mcp", "add", "score", "--", score, "mcp"])
        .output()
        .unwrap();
    assert!(added.status.success(), "{added:?}");
    let listed = claude(&["mcp", "list"]).output().unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    let line = listed
        .lines()
        .find(|l| l.starts_with("score:"))
        .unwrap_or_else(|| panic!("score is not listed:\n{listed}"));
    assert!(line.contains("Connected"), "{line}");

    let config = project.path().join("mcp.json");
    let servers = serde_json::json!({"mcpServers": {"score": {"command": score, "args": ["mcp"]}}});
    std::fs::write(&config, servers.to_string()).unwrap();
    let mut session = claude(&[
        "-p",
        "say hi",
        "--mcp-config",
        config.to_str().unwrap(),
        "--strict-mcp-config",
        "--output-format",
        "stream-json",
        "--verbose",
    ]);
    let mut child = {
        use std::os::unix::process::CommandExt;
        session
            .process_group(0)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut first = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut first,
    )
    .unwrap();
    // SAFETY: kill(2) on the process group this test started.
    unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
    let _ = child.wait();
    let init: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(init["subtype"], "init", "{init}");
    assert_eq!(
        init["mcp_servers"],
        serde_json::json!([{"name": "score", "status": "connected"}])
    );
    let tools: Vec<&str> = init["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|t| t.starts_with("mcp__score__"))
        .collect();
    assert!(tools.contains(&"mcp__score__check"), "{tools:?}");
    assert!(tools.contains(&"mcp__score__run"), "{tools:?}");

    // Codex CLI reads the `[mcp_servers.score]` table docs/mcp.md gives
    // (it has no health check to run without a session).
    let codex_home = tempfile::tempdir().unwrap();
    let table = format!("[mcp_servers.score]\ncommand = {score:?}\nargs = [\"mcp\"]\n");
    std::fs::write(codex_home.path().join("config.toml"), table).unwrap();
    let listed = std::process::Command::new(Path::new(&bin).join("codex"))
        .args(["mcp", "get", "score"])
        .env("CODEX_HOME", codex_home.path())
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(listed.contains("enabled: true"), "{listed}");
    assert!(listed.contains("transport: stdio"), "{listed}");
}
