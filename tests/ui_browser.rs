//! A real browser on the live page of a live run: headless Chromium (the
//! Debian package `chromium`; `.ci/run` installs it) loads the page that
//! `score run --ui` prints for the quickstart (with an approval on its last
//! part), the test reads the DOM until that part waits for the approval,
//! clicks "Approve" with the mouse, and reads the DOM again until every
//! part is done and the run succeeded; the run's process must then exit 0.
//! A screenshot of the end is saved under `target/tmp/ui-browser/`.
//!
//! The browser is driven over the DevTools protocol (`support::browser`).
//!
//! Without Chromium the test says so and passes, unless
//! `SCORE_TEST_BROWSER=1` demands it (CI). Run it alone with
//! `cargo test --test ui_browser -- --nocapture`.

mod support;

use serde_json::json;
use std::io::{BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use support::browser::{Browser, chromium};
use support::runs::git_init;

/// The quickstart, its last part needing an approval, in a repository.
fn quickstart() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let example = Path::new("examples/quickstart");
    for file in ["quickstart.score", "agents/write_file.sh"] {
        let to = dir.path().join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(example.join(file), &to).unwrap();
    }
    let score = dir.path().join("quickstart.score");
    let text = std::fs::read_to_string(&score).unwrap();
    let with_approval = text.replace(
        "part review by mock {\n",
        "part review by mock {\n  approve \"the reviewer\"\n",
    );
    assert_ne!(text, with_approval, "the quickstart's `review` part moved");
    std::fs::write(&score, with_approval).unwrap();
    git_init(dir.path());
    dir
}

#[test]
fn a_live_run_is_watched_and_approved_from_the_page() {
    let Some(program) = chromium() else {
        if std::env::var_os("SCORE_TEST_BROWSER").is_some_and(|v| v == "1") {
            panic!("SCORE_TEST_BROWSER=1 but no chromium on PATH: install the `chromium` package");
        }
        eprintln!(
            "skipped: no chromium on PATH (install the Debian package `chromium`; \
             SCORE_TEST_BROWSER=1 makes this a failure)"
        );
        return;
    };
    let ws = quickstart();
    let mut run = Command::new(env!("CARGO_BIN_EXE_score"))
        .args(["run", "quickstart.score", "--ui"])
        .current_dir(ws.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(run.stderr.take().unwrap());
    let url = support::page::read_url(&mut stderr);
    // The rest of what the run says, kept for a failure's message.
    let said = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        rest
    });

    let mut browser = Browser::start(&program);
    let page = browser.open(&url);
    browser.wait_for(
        &page,
        r#"document.querySelector('button.approve[data-part="review"]') !== null"#,
    );
    // Everything before it is done, and the run waits.
    browser.wait_for(
        &page,
        r#"[...document.querySelectorAll('#parts tr[data-part]')].filter(r => r.dataset.status === 'done').length === 4"#,
    );
    assert_eq!(
        browser.eval(&page, "document.getElementById('phase').dataset.phase"),
        "running"
    );
    // A part's detail, while the run waits (its process serves the page):
    // its contract, its attempt and the diff it committed.
    browser.click(&page, r#"#dag .node[data-part="backend"]"#);
    browser.wait_for(
        &page,
        r#"!document.getElementById('detail').hidden && document.getElementById('detail').innerText.includes('Committed diff')"#,
    );
    let detail = browser.eval(&page, "document.getElementById('detail').innerText");
    let detail = detail.as_str().unwrap();
    for needle in [
        "out/backend/**",
        "Attempt 1",
        "out/backend/server.md",
        "Check",
    ] {
        assert!(
            detail.contains(needle),
            "`{needle}` in the detail:\n{detail}"
        );
    }

    browser.click(&page, "#detail .close");
    browser.wait_for(&page, "document.getElementById('detail').hidden");
    browser.click(&page, r#"button.approve[data-part="review"]"#);
    browser.wait_for(
        &page,
        "document.getElementById('phase').dataset.phase === 'succeeded'",
    );
    let statuses = browser.eval(
        &page,
        "Object.fromEntries([...document.querySelectorAll('#parts tr[data-part]')].map(r => [r.dataset.part, r.dataset.status]))",
    );
    assert_eq!(
        statuses,
        json!({"plan": "done", "backend": "done", "frontend": "done", "notes": "done", "review": "done"})
    );
    assert_eq!(
        browser.eval(&page, "document.getElementById('error').hidden"),
        true,
        "no error on the page: {}",
        browser.eval(&page, "document.getElementById('error').textContent")
    );
    let nodes = browser.eval(
        &page,
        "[...document.querySelectorAll('#dag .node')].map(n => n.dataset.status).join(',')",
    );
    assert_eq!(
        nodes, "done,done,done,done,done",
        "the DAG shows the end too"
    );

    let shot = browser.call(
        Some(&page),
        "Page.captureScreenshot",
        json!({"format": "png", "captureBeyondViewport": true}),
    );
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ui-browser");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::write(artifacts.join("quickstart-approved.png"), &png).unwrap();
    eprintln!(
        "screenshot: {}",
        artifacts.join("quickstart-approved.png").display()
    );

    let status = run.wait().unwrap();
    let said = said.join().unwrap();
    assert!(status.success(), "the run ends well once approved: {said}");
    let journal = support::runs::journal(ws.path());
    let approved = support::runs::events(&journal, "approved");
    assert_eq!(approved.len(), 1, "approved once, from the page");
    assert_eq!(approved[0]["task"], "review");
}
