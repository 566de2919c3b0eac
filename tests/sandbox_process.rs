//! The boundary around the programs the runtime starts, attacked the ways
//! it was attacked, through the real binary, real git and real child
//! processes: a daemon that leaves the process group (`setsid`, a double
//! fork, `nohup`), a program or a check that prints the keys it inherited
//! (in four encodings), a program that writes or links outside its
//! checkout or reads the runtime's environment. Each attack has its own
//! small agent script.

use assert_cmd::Command;
use base64::Engine as _;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

mod support;
#[allow(unused_imports)]
use support::runs::*;

fn score(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("score").unwrap();
    cmd.current_dir(dir)
        .env_remove("CI")
        .env_remove("SCORE_TEST_NO_SANDBOX");
    cmd
}

/// Every file below `dir`, recursively, with its bytes.
fn contents_below(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    files_below(dir)
        .into_iter()
        .filter_map(|path| std::fs::read(&path).ok().map(|bytes| (path, bytes)))
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A daemon, a double-forked child and a `nohup`'d one, each printing its
/// pid (as the runtime sees it: `/proc` is the host's) and then sleeping for
/// 1000 seconds; the script waits until all three have said their pid.
const DAEMONS: &str = r#"#!/bin/sh
pids="$TMPDIR/pids"
: > "$pids"
setsid sh -c 'read pid rest < /proc/self/stat; echo "setsid $pid" >> "$0"; exec sleep 1000' "$pids" &
( ( read pid rest < /proc/self/stat; echo "double $pid" >> "$pids"; exec sleep 1000 ) & )
nohup sh -c 'read pid rest < /proc/self/stat; echo "nohup $pid" >> "$0"; exec sleep 1000' "$pids" > /dev/null 2>&1 &
while [ "$(wc -l < "$pids")" -lt 3 ]; do sleep 0.01; done
cat "$pids"
[ "$1" = check ] || echo '{}' > "$SCORE_OUTPUT"
"#;

/// The pids a [`DAEMONS`] script printed in `log`.
fn daemon_pids(log: &Path) -> Vec<u32> {
    let text = std::fs::read_to_string(log).unwrap();
    let pids: Vec<u32> = text
        .lines()
        .filter_map(|l| l.split_once(' ')?.1.trim().parse().ok())
        .collect();
    assert_eq!(pids.len(), 3, "{text}");
    pids
}

/// Whether `pid` is one of the sleeping daemons (its pid may have been
/// reused by something else since).
fn is_daemon(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|cmdline| cmdline == b"sleep\x001000\x00")
        .unwrap_or(false)
}

#[test]
fn nothing_an_agent_or_a_check_starts_outlives_the_attempt() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "daemons.sh", DAEMONS);
    write(
        dir.path(),
        "s.score",
        r#"
score daemons { default_agent tool }

agent tool: command {
  run ["sh", "daemons.sh"]
  tier complex
}

check daemons() {
  run "sh daemons.sh check"
}

intent quiet "Nothing is left running" { accept "no daemon survives" }

part work {
  serves quiet
  owns "out/**"
  ensures daemons()
}
"#,
    );
    git_init(dir.path());
    score(dir.path())
        .args(["run", "s.score"])
        .assert()
        .success();
    let logs = dir
        .path()
        .join(".score/runs")
        .join(latest_run(dir.path()))
        .join("logs");
    let mut pids = daemon_pids(&logs.join("work.1.stdout"));
    pids.extend(daemon_pids(&logs.join("work.1.check-1.stdout")));
    // `score run` has returned: each program's namespace is gone, with
    // everything in it.
    let left: Vec<u32> = pids.into_iter().filter(|&pid| is_daemon(pid)).collect();
    for &pid in &left {
        // SAFETY: kill(2); do not leave them running if the test fails.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
        }
    }
    assert!(left.is_empty(), "daemons outlived the run: {left:?}");
}

/// The canaries: environment variables holding "secrets" with characters
/// that every encoding writes differently.
const CANARIES: &[(&str, &str)] = &[
    ("OPENAI_API_KEY", "sk-canary-openai/0123456789+abcdef"),
    ("ANTHROPIC_API_KEY", "sk-ant-canary/9876543210=uvwxyz"),
    ("SCORE_CANARY_TOKEN", "tok-canary/passed+through=4242"),
    ("MY_DB_PASSWORD", "pw-canary/hunter2+hunter2=x"),
];

/// Prints its environment and every canary it can find, raw, JSON-escaped
/// (`\/`), URL-encoded and base64-encoded (standard and URL-safe, at two
/// alignments), on stdout and stderr. An agent: fails its first attempt
/// (the end of its stderr goes into the journal and the next prompt), then
/// returns a canary as its output, JSON-escaped. A check: passes.
const LEAKER: &str = r#"#!/bin/sh
{
  env | sort
  for v in "$SCORE_CANARY_TOKEN" "$OPENAI_API_KEY" "$ANTHROPIC_API_KEY" "$MY_DB_PASSWORD"; do
    [ -n "$v" ] || continue
    printf 'raw %s\n' "$v"
    printf 'json "%s"\n' "$(printf '%s' "$v" | sed 's,/,\\/,g')"
    printf 'url %s\n' "$(printf '%s' "$v" | od -An -tx1 -v | tr -d ' \n' | sed 's/../%&/g')"
    printf 'b64 %s\n' "$(printf 'ab%s' "$v" | base64 | tr -d '\n')"
    printf 'b64url %s\n' "$(printf 'a%s' "$v" | base64 | tr -d '\n' | tr '+/' '-_')"
  done
} > "$TMPDIR/said"
cat "$TMPDIR/said"
cat "$TMPDIR/said" >&2
[ "$1" = check ] && exit 0
if [ "$SCORE_ATTEMPT" = 1 ]; then exit 1; fi
printf '{"said": "%s"}\n' "$(printf '%s' "$SCORE_CANARY_TOKEN" | sed 's,/,\\/,g')" > "$SCORE_OUTPUT"
"#;

/// The forms of `secret` to look for: raw, `\/`-escaped, every byte
/// percent-encoded, and the base64 characters that depend on the secret
/// alone at each alignment (standard and URL-safe).
fn forms(secret: &str) -> Vec<Vec<u8>> {
    let mut out = vec![
        secret.as_bytes().to_vec(),
        secret.replace('/', "\\/").into_bytes(),
        secret
            .bytes()
            .map(|b| format!("%{b:02x}"))
            .collect::<String>()
            .into_bytes(),
    ];
    for align in 0..3 {
        let mut data = vec![b'a'; align];
        data.extend_from_slice(secret.as_bytes());
        let start = (align * 8).div_ceil(6);
        let end = data.len() * 8 / 6;
        for engine in [
            base64::engine::general_purpose::STANDARD_NO_PAD,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ] {
            out.push(engine.encode(&data).as_bytes()[start..end].to_vec());
        }
    }
    out
}

#[test]
fn keys_in_the_environment_reach_no_program_and_no_byte_the_runtime_stores_or_prints() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "leaker.sh", LEAKER);
    write(
        dir.path(),
        "s.score",
        r#"
score leaks { default_agent tool }

agent tool: command {
  run ["sh", "leaker.sh"]
  pass_env ["SCORE_CANARY_TOKEN"]
  tier complex
}

check leak() {
  run "sh leaker.sh check"
}

intent said "Something is said" { accept "the part says something" }

part talk {
  serves said
  owns "out/**"
  output said: Text
  ensures leak()
  retries 1
}
"#,
    );
    git_init(dir.path());
    let mut cmd = score(dir.path());
    cmd.args(["run", "s.score"]);
    for (name, value) in CANARIES {
        cmd.env(name, value);
    }
    let output = cmd.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let mut places = contents_below(&dir.path().join(".score"));
    places.push(("score's stdout".into(), output.stdout.clone()));
    places.push(("score's stderr".into(), output.stderr.clone()));
    let mut leaks = Vec::new();
    for (name, value) in CANARIES {
        for form in forms(value) {
            for (place, bytes) in &places {
                if contains(bytes, &form) {
                    leaks.push(format!(
                        "{name} as `{}` in {}",
                        String::from_utf8_lossy(&form),
                        place.display()
                    ));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "leaked:\n{}", leaks.join("\n"));

    let logs = dir
        .path()
        .join(".score/runs")
        .join(latest_run(dir.path()))
        .join("logs");
    let read = |name: &str| std::fs::read_to_string(logs.join(name)).unwrap();
    // The agent got the variable it passes through (masked in its log), and
    // no other key.
    let agent = read("talk.2.stdout");
    assert!(agent.contains("SCORE_CANARY_TOKEN=***"), "{agent}");
    assert!(agent.contains("raw ***"), "{agent}");
    for name in ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "MY_DB_PASSWORD"] {
        assert!(!agent.contains(name), "{name} reached the agent:\n{agent}");
    }
    // The check got none: no key, not even the agent's.
    let check = read("talk.2.check-1.stdout");
    assert!(check.contains("PATH="), "{check}");
    for (name, _) in CANARIES {
        assert!(!check.contains(name), "{name} reached the check:\n{check}");
    }
    // The failure went into the journal and the next prompt, masked.
    let prompt = read("talk.2.prompt.md");
    assert!(prompt.contains("was not accepted"), "{prompt}");
    assert!(prompt.contains("raw ***"), "{prompt}");
    let records = journal(dir.path());
    let succeeded = events(&records, "task_succeeded");
    assert_eq!(succeeded[0]["outputs"]["said"], "***");
}

/// Tries to leave its boundary in every way listed, printing `NAME:
/// allowed` or `NAME: denied` for each. `$1`: a path in /tmp outside its
/// TMPDIR; `$2`: a file outside its checkout; `$3`: `check` for a check.
const ESCAPER: &str = r#"#!/bin/sh
try() {
  name=$1; shift
  if "$@" > /dev/null 2>&1; then echo "$name: allowed"; else echo "$name: denied"; fi
}
try home sh -c 'echo x > "$HOME/escape-home"'
try parent sh -c 'echo x > "$PWD/../escape-parent"'
try up-up sh -c 'echo x > ../../escape-up-up'
try tmp sh -c "echo x > '$1'"
try own-tmp sh -c 'echo x > "$TMPDIR/inside"'
try checkout sh -c 'mkdir -p out && echo x > out/inside.txt'
try environ-key grep -q canary "/proc/$SCORE_CONDUCTOR_PID/environ"
try memory head -c 1 "/proc/$SCORE_CONDUCTOR_PID/mem"
try hardlink ln "$2" "out/link-$3"
try rename mv "$2" out/moved
try dev-null sh -c 'echo x > /dev/null'
[ "$3" = check ] || echo '{}' > "$SCORE_OUTPUT"
"#;

#[test]
fn a_confined_program_writes_only_its_checkout_and_its_tmp() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let home = dir.path().join("home");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let outside = dir.path().join("outside.txt");
    std::fs::write(&outside, "not yours\n").unwrap();
    let escape = |what: &str| {
        std::env::temp_dir().join(format!(
            "score-escape-{}-{what}",
            dir.path().file_name().unwrap().to_string_lossy()
        ))
    };
    let (agent_tmp, check_tmp) = (escape("agent"), escape("check"));
    write(&work, "escaper.sh", ESCAPER);
    write(
        &work,
        "s.score",
        &format!(
            r#"
score boxed {{ default_agent tool }}

agent tool: command {{
  run ["sh", "escaper.sh", "{agent_tmp}", "{outside}", "agent"]
  tier complex
}}

check escape() {{
  run "sh escaper.sh {check_tmp} {outside} check"
}}

intent boxed "Programs stay in their box" {{ accept "nothing escapes" }}

part work {{
  serves boxed
  owns "out/**"
  ensures escape()
}}
"#,
            agent_tmp = agent_tmp.display(),
            check_tmp = check_tmp.display(),
            outside = outside.display(),
        ),
    );
    git_init(&work);
    // The runtime's environment holds a key, which no program can read in
    // `/proc/PID/environ` (`grep` finds no `canary` there).
    score(&work)
        .args(["run", "s.score"])
        .env("HOME", &home)
        .env("SCORE_TEST_API_KEY", "sk-canary-in-the-runtime-environ")
        .assert()
        .success();
    let logs = work
        .join(".score/runs")
        .join(latest_run(&work))
        .join("logs");
    for log in ["work.1.stdout", "work.1.check-1.stdout"] {
        let said = std::fs::read_to_string(logs.join(log)).unwrap();
        let expected = "home: denied\nparent: denied\nup-up: denied\ntmp: denied\n\
                        own-tmp: allowed\ncheckout: allowed\nenviron-key: denied\nmemory: denied\n\
                        hardlink: denied\nrename: denied\ndev-null: allowed\n";
        assert_eq!(said, expected, "{log}");
    }
    assert!(!home.join("escape-home").exists());
    assert!(!agent_tmp.exists() && !check_tmp.exists());
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "not yours\n");
    let worktrees = work.join(".score/worktrees");
    assert!(
        !contents_below(&worktrees)
            .iter()
            .any(|(p, _)| p.to_string_lossy().contains("escape")),
        "something escaped its checkout"
    );
    // What the agent wrote in its checkout is its work.
    let id = latest_run(&work);
    assert_eq!(
        git_show(&work, &format!("score/{id}:out/inside.txt")).as_deref(),
        Some("x\n")
    );
}

const CONFINED_SCORE: &str = r#"
score plain { default_agent tool }

agent tool: command {
  run ["sh", "-c", "echo '{}' > \"$SCORE_OUTPUT\""]
  tier complex
  CONFINEMENT
}

intent done "It runs" { accept "it ran" }

part work {
  serves done
  owns "out/**"
}
"#;

#[test]
fn without_landlock_only_an_agent_marked_optional_runs_unconfined() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "s.score",
        &CONFINED_SCORE.replace("CONFINEMENT", ""),
    );
    git_init(dir.path());
    // `SCORE_TEST_NO_SANDBOX` plays a machine without Landlock or PID
    // namespaces: the run stops before it starts, saying what to do.
    score(dir.path())
        .args(["run", "s.score"])
        .env("SCORE_TEST_NO_SANDBOX", "1")
        .assert()
        .failure()
        .stderr(predicate::str::contains("this system has no Landlock"))
        .stderr(predicate::str::contains("confinement optional"))
        .stderr(predicate::str::contains("--in-place"));
    assert!(run_ids(dir.path()).is_empty(), "a run started");

    write(
        dir.path(),
        "s.score",
        &CONFINED_SCORE.replace("CONFINEMENT", "confinement optional"),
    );
    git(dir.path(), &["commit", "-qam", "optional"]);
    let assert = score(dir.path())
        .args(["run", "s.score"])
        .env("SCORE_TEST_NO_SANDBOX", "1")
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert_eq!(
        stderr.matches("no Landlock").count(),
        1,
        "said once per run:\n{stderr}"
    );
    assert!(stderr.contains("run unconfined"), "{stderr}");
    assert!(stderr.contains("no PID namespace"), "{stderr}");
    // With Landlock, the same score runs confined and says nothing of it.
    let assert = score(dir.path())
        .args(["run", "s.score", "--fresh"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(!stderr.contains("Landlock"), "{stderr}");
}

#[test]
fn the_sandbox_settings_reach_the_plan_and_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "s.score",
        r#"
agent tool: command {
  run ["tool"]
  pass_env ["TOOL_API_KEY", "TOOL_BASE_URL"]
  writes ["~/.tool", "/var/cache/tool"]
  reads ["~/.config/tool"]
  confinement optional
  tier complex
}

intent done "It runs" { accept "it ran" }

part work by tool { serves done }
"#,
    );
    let plan = dir.path().join("plan.json");
    score(dir.path())
        .args(["build", "s.score", "-o"])
        .arg(&plan)
        .assert()
        .success();
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    let tool = &plan["agents"]["tool"];
    assert_eq!(
        tool["pass_env"],
        serde_json::json!(["TOOL_API_KEY", "TOOL_BASE_URL"])
    );
    assert_eq!(
        tool["writes"],
        serde_json::json!(["~/.tool", "/var/cache/tool"])
    );
    assert_eq!(tool["reads"], serde_json::json!(["~/.config/tool"]));
    assert_eq!(tool["confinement"], "optional");

    // A misspelt setting is caught, with the right one suggested.
    write(
        dir.path(),
        "s.score",
        "agent tool: command {\n  run [\"tool\"]\n  pass_envs [\"X\"]\n}\n",
    );
    score(dir.path())
        .args(["check", "s.score"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("did you mean `pass_env`?"));
}

/// Reads what it is given and what it is not; `$1`: a readable directory's
/// file, `$2`: a file elsewhere.
const READER: &str = r#"#!/bin/sh
try() {
  name=$1; shift
  if "$@" > /dev/null 2>&1; then echo "$name: allowed"; else echo "$name: denied"; fi
}
try declared cat "$1"
try elsewhere cat "$2"
try prompt cat "$SCORE_PROMPT_FILE"
try system cat /etc/hostname
try checkout cat reader.sh
echo '{}' > "$SCORE_OUTPUT"
"#;

#[test]
fn an_agent_that_declares_reads_reads_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    let allowed = dir.path().join("allowed");
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&allowed).unwrap();
    std::fs::write(allowed.join("notes.txt"), "yours\n").unwrap();
    let elsewhere = dir.path().join("private.txt");
    std::fs::write(&elsewhere, "not yours\n").unwrap();
    write(&work, "reader.sh", READER);
    write(
        &work,
        "s.score",
        &format!(
            r#"
score reads {{ default_agent tool }}

agent tool: command {{
  run ["sh", "reader.sh", "{notes}", "{elsewhere}"]
  reads ["{allowed}"]
  tier complex
}}

intent read "It reads" {{ accept "it read" }}

part work {{
  serves read
  owns "out/**"
}}
"#,
            notes = allowed.join("notes.txt").display(),
            elsewhere = elsewhere.display(),
            allowed = allowed.display(),
        ),
    );
    git_init(&work);
    score(&work).args(["run", "s.score"]).assert().success();
    let log = work
        .join(".score/runs")
        .join(latest_run(&work))
        .join("logs/work.1.stdout");
    assert_eq!(
        std::fs::read_to_string(log).unwrap(),
        "declared: allowed\nelsewhere: denied\nprompt: allowed\nsystem: allowed\ncheckout: allowed\n"
    );
}
