//! `score serve` against a recorded journal (tests/data/ui/events.jsonl: a
//! part in every status, an approval, a retry after a boundary violation),
//! over a real 127.0.0.1 socket: the JSON endpoints, the part detail (with
//! the secrets of the server's environment masked), approvals and their
//! token, and the event stream tailing the journal as it grows.

mod support;

use serde_json::Value;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use support::page::{self, Sse};

const RUN: &str = "20261203-120000-0001";
/// A secret in the server's environment, which an agent printed.
const SECRET: &str = "sk-live-page-test-0123456789";

struct Server {
    child: Child,
    host: String,
    key: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A workspace holding the recorded run: its plan (built from the
/// fixture's score), its journal (written by "this process", alive), logs.
fn workspace() -> tempfile::TempDir {
    workspace_of_pid(std::process::id())
}

/// The same, its journal written by process `pid`.
fn workspace_of_pid(pid: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join(".score/runs").join(RUN);
    std::fs::create_dir_all(run.join("logs")).unwrap();
    let built = Command::new(env!("CARGO_BIN_EXE_score"))
        .args(["build", "tests/data/ui/fixture.score", "-o"])
        .arg(run.join("plan.json"))
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let journal = std::fs::read_to_string("tests/data/ui/events.jsonl")
        .unwrap()
        .replace("\"pid\":PID", &format!("\"pid\":{pid}"));
    std::fs::write(run.join("events.jsonl"), journal).unwrap();
    std::fs::write(
        run.join("logs/retried.2.stdout"),
        format!("wrote src/retried/a.rs\nusing the key {SECRET}\n"),
    )
    .unwrap();
    dir
}

fn serve(workspace: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_score"))
        .args(["serve", "--workspace"])
        .arg(workspace)
        .env("SCORE_UI_TEST_API_KEY", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let url = page::read_url(&mut BufReader::new(child.stdout.take().unwrap()));
    let (host, path) = page::split(&url);
    let key = path
        .split("key=")
        .nth(1)
        .expect("the URL has the key")
        .to_string();
    assert!(host.starts_with("127.0.0.1:"), "loopback by default: {url}");
    Server { child, host, key }
}

fn status_of(state: &Value, part: &str) -> String {
    state["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == part)
        .unwrap_or_else(|| panic!("no part {part}"))["status"]
        .as_str()
        .unwrap()
        .to_string()
}

fn events_path(workspace: &Path) -> PathBuf {
    workspace.join(".score/runs").join(RUN).join("events.jsonl")
}

#[test]
fn the_state_of_a_recorded_run_shows_every_status() {
    let ws = workspace();
    let server = serve(ws.path());
    let state = page::get_json(&server.host, &format!("/api/runs/{RUN}"));
    assert_eq!(state["phase"], "running");
    for (part, status) in [
        ("retried", "done"),
        ("reused", "cached"),
        ("broken", "failed"),
        ("blocked", "skipped"),
        ("signed", "done"),
        ("pending", "awaiting_approval"),
        ("playing", "running"),
        ("again", "retrying"),
        ("later", "waiting"),
    ] {
        assert_eq!(status_of(&state, part), status, "{part}");
    }
    assert_eq!(state["totals"]["budget_usd"], 5.0);
    assert_eq!(
        state["critical_path"],
        serde_json::json!(["broken", "blocked"])
    );
    let retried = &state["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "retried")
        .unwrap();
    assert_eq!(retried["attempts"][0]["failure"]["kind"], "boundary");
    assert_eq!(
        retried["attempts"][0]["rolled_back"],
        serde_json::json!(["src/other.rs"])
    );
    // Tokens: the failed attempt's and the rest of the success's, once.
    assert_eq!(retried["tokens_in"], 300);

    let runs = page::get_json(&server.host, "/api/runs");
    assert_eq!(runs[0]["id"], RUN);
    assert!(runs[0].get("token").is_none(), "no token without the key");
    let runs = page::get_json(&server.host, &format!("/api/runs?key={}", server.key));
    assert_eq!(runs[0]["token"].as_str().unwrap().len(), 32);

    let (status, body) = page::get(&server.host, "/api/runs/20990101-000000-0000");
    assert_eq!(status, 404);
    assert!(body.contains(RUN), "lists the runs there are: {body}");
}

#[test]
fn the_page_and_its_assets_are_served_from_the_binary() {
    let ws = workspace();
    let server = serve(ws.path());
    for (path, needle) in [
        (format!("/runs/{RUN}"), "<script src=\"/app.js\">"),
        ("/".to_string(), "id=\"runs\""),
        ("/app.js".to_string(), "EventSource"),
        ("/app.css".to_string(), "--awaiting_approval"),
    ] {
        let (status, body) = page::get(&server.host, &path);
        assert_eq!(status, 200, "{path}");
        assert!(body.contains(needle), "{path}");
        assert!(
            !body.contains("https://"),
            "{path} loads nothing from the network"
        );
    }
}

#[test]
fn a_part_detail_has_its_contract_attempts_and_logs_with_secrets_masked() {
    let ws = workspace();
    let server = serve(ws.path());
    let (status, body) = page::get(&server.host, &format!("/api/runs/{RUN}/parts/retried"));
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains(SECRET), "the secret is masked: {body}");
    let detail: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        detail["contract"]["owns"],
        serde_json::json!(["src/retried/**"])
    );
    assert_eq!(
        detail["attempts"][0]["rolled_back"],
        serde_json::json!(["src/other.rs"])
    );
    let stdout = detail["attempts"][1]["stdout"].as_str().unwrap();
    assert!(
        stdout.contains("wrote src/retried/a.rs") && stdout.contains("***"),
        "{stdout}"
    );
    let (status, body) = page::get(&server.host, &format!("/api/runs/{RUN}/parts/nope"));
    assert_eq!(status, 404);
    assert!(body.contains("retried"), "names the parts: {body}");
}

#[test]
fn an_approval_needs_the_token_and_is_journaled_like_score_approve() {
    let ws = workspace();
    let server = serve(ws.path());
    let approve = format!("/api/runs/{RUN}/parts/pending/approve");
    let (status, _) = page::request("POST", &server.host, &approve);
    assert_eq!(status, 403, "no token");
    let (status, _) = page::request("POST", &server.host, &format!("{approve}?token=0123"));
    assert_eq!(status, 403, "a wrong token");
    let runs = page::get_json(&server.host, &format!("/api/runs?key={}", server.key));
    let token = runs[0]["token"].as_str().unwrap().to_string();
    let (status, body) = page::request(
        "POST",
        &server.host,
        &format!("/api/runs/{RUN}/parts/playing/approve?token={token}"),
    );
    assert_eq!(status, 409, "not waiting: {body}");
    let (status, body) = page::request("POST", &server.host, &format!("{approve}?token={token}"));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("--resume"), "{body}");
    let journal = std::fs::read_to_string(events_path(ws.path())).unwrap();
    let last: Value = serde_json::from_str(journal.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "approved");
    assert_eq!(last["task"], "pending");
    // Answered: not twice.
    let (status, _) = page::request("POST", &server.host, &format!("{approve}?token={token}"));
    assert_eq!(status, 409);
}

#[test]
fn the_event_stream_sends_the_journal_then_what_is_appended() {
    let ws = workspace();
    let server = serve(ws.path());
    let mut sse = Sse::open(&server.host, &format!("/api/runs/{RUN}/events"));
    let (state, records) = sse.until_state(|_| true);
    let lines = std::fs::read_to_string(events_path(ws.path())).unwrap();
    assert_eq!(records.len(), lines.lines().count(), "every line, once");
    assert_eq!(records[0]["event"], "run_started");
    assert_eq!(status_of(&state, "playing"), "running");

    // The run goes on: the stream follows the file.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(events_path(ws.path()))
        .unwrap();
    writeln!(
        file,
        r#"{{"at":1796300001000,"event":"task_succeeded","task":"playing","hash":"h","inputs_hash":"i","outputs":{{}},"attempts":1,"tokens_in":1,"tokens_out":1,"cost_usd":0.0,"duration_ms":199,"cached_from":null,"commit":null}}"#
    )
    .unwrap();
    // A secret that reached the file is masked on the wire all the same.
    writeln!(
        file,
        r#"{{"at":1796300001000,"event":"attempt_failed","task":"again","attempt":2,"kind":"agent","message":"echoed {SECRET}","tokens_in":0,"tokens_out":0,"cost_usd":0.0,"duration_ms":1}}"#
    )
    .unwrap();
    // Half a line: not sent until it is whole.
    write!(
        file,
        r#"{{"at":1796300001001,"event":"run_finished","status":"failed","#
    )
    .unwrap();
    file.flush().unwrap();
    let (state, records) = sse.until_state(|s| status_of(s, "playing") == "done");
    assert_eq!(records.len(), 2);
    let wire = format!("{records:?}{state}");
    assert!(
        !wire.contains(SECRET) && wire.contains("echoed ***"),
        "{wire}"
    );
    assert_eq!(state["phase"], "running");
    writeln!(file, r#""succeeded":6,"failed":1,"remaining":2}}"#).unwrap();
    let (state, records) = sse.until_state(|s| s["phase"] != "running");
    assert_eq!(state["phase"], "failed");
    assert_eq!(records[0]["event"], "run_finished");
    // Once over, the parts that were playing wait for a resume.
    assert_eq!(status_of(&state, "again"), "waiting");
}

fn score(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_score"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn score_runs_and_score_status_read_the_same_journal() {
    let ws = workspace();
    let (code, out, _) = score(ws.path(), &["runs"]);
    assert_eq!(code, 0);
    assert!(
        out.contains(RUN) && out.contains("running") && out.contains("3/9"),
        "{out}"
    );
    let (_, out, _) = score(ws.path(), &["runs", "--format", "json"]);
    let runs: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(runs[0]["failed"], 1);

    let (code, out, _) = score(ws.path(), &["status"]);
    assert_eq!(code, 0, "a run still playing: {out}");
    for needle in [
        "running (1):\n  playing by mock, attempt 1",
        "retrying (1):\n  again by mock, attempt 2",
        "after check: the check `test -f out/again.txt` failed",
        "failed (1):\n  broken after 1 attempt(s): agent: the agent exited with status 3: boom",
        "skipped (1):\n  blocked: `broken` failed",
        &format!("awaiting approval (1):\n  pending (by the lead): `score approve {RUN} pending`"),
        "waiting (1):\n  later (needs playing)",
        "budget: $5.00",
    ] {
        assert!(out.contains(needle), "`{needle}` in:\n{out}");
    }
    let (code, out, _) = score(ws.path(), &["status", RUN, "--format", "json"]);
    assert_eq!(code, 0);
    let state: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(status_of(&state, "pending"), "awaiting_approval");
}

#[test]
fn a_run_whose_process_is_gone_is_interrupted() {
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let ws = workspace_of_pid(pid);
    let (code, out, _) = score(ws.path(), &["status"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("interrupted"), "{out}");
    assert!(out.contains(&format!("--resume {RUN}")), "{out}");
    assert!(!out.contains("running ("), "nothing plays any more: {out}");
}

#[test]
fn status_of_no_run_or_an_unknown_one_says_what_there_is() {
    let empty = tempfile::tempdir().unwrap();
    let (code, _, err) = score(empty.path(), &["status"]);
    assert_eq!(code, 2);
    assert!(err.contains("no runs in"), "{err}");
    let (code, out, err) = score(empty.path(), &["runs"]);
    assert_eq!((code, out.as_str()), (0, ""));
    assert!(err.contains("no runs in"), "{err}");
    let ws = workspace();
    let (code, _, err) = score(ws.path(), &["status", "20990101-000000-0000"]);
    assert_eq!(code, 2);
    assert!(err.contains(RUN), "lists the runs there are: {err}");
}

#[test]
fn ctrl_c_stops_the_server_even_with_a_page_open() {
    let ws = workspace();
    let mut server = serve(ws.path());
    let mut sse = Sse::open(&server.host, &format!("/api/runs/{RUN}/events"));
    sse.until_state(|_| true);
    // SAFETY: signals the server this test started.
    unsafe { libc::kill(server.child.id() as libc::pid_t, libc::SIGINT) };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "`score serve` hangs on Ctrl-C"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    // The stream was ended, not cut.
    while sse.next().is_some() {}
}
