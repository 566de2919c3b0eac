//! The command line, driven through the real binary: exit codes (0 clean,
//! 1 problems in the sources, 2 usage or I/O errors), output formats, and
//! the bundled examples and standard library.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;

fn score() -> Command {
    let mut cmd = Command::cargo_bin("score").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd.env_remove("NO_COLOR");
    cmd
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const CLEAN: &str = r#"use std.agents.{mock}

score demo {
  title "Demo"
  default_agent mock
}

intent greet "A visitor is greeted" {
  accept "the page says hello"
}

part page {
  serves greet
  owns "web/**"
}
"#;

#[test]
fn version_and_help() {
    score()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("score "));
    score()
        .arg("help")
        .assert()
        .success()
        .stdout(predicate::str::contains("check"))
        .stdout(predicate::str::contains("fmt"))
        .stdout(predicate::str::contains("explain"));
    // No subcommand: usage on stderr, exit 2.
    score().assert().code(2);
}

#[test]
fn bad_flag_is_a_usage_error() {
    score()
        .args(["check", "--no-such-flag"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--no-such-flag"));
    score()
        .args(["check", "--format", "xml", "examples/shortener.score"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("possible values"));
}

#[test]
fn missing_file_is_an_io_error() {
    score()
        .args(["check", "no/such/file.score"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read `no/such/file.score`"));
}

#[test]
fn directory_without_scores_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    score()
        .arg("check")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no `.score` files found"));
}

#[test]
fn clean_file_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "demo.score", CLEAN);
    score()
        .arg("check")
        .arg(&file)
        .assert()
        .success()
        .stderr(predicate::str::contains("no problems"));
    score()
        .args(["check", "--format", "json"])
        .arg(&file)
        .assert()
        .success()
        .stdout("");
}

#[test]
fn errors_exit_one_with_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let text = CLEAN.replace("serves greet", "serves gret");
    write(dir.path(), "demo.score", &text);
    let output = score()
        .current_dir(dir.path())
        .args(["check", "--format", "json", "demo.score"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let unknown = lines
        .iter()
        .find(|d| d["code"] == "E0101")
        .expect("an E0101 for `gret`");
    assert_eq!(unknown["severity"], "error");
    assert_eq!(unknown["file"], "demo.score");
    assert_eq!(unknown["line"], 13);
    assert_eq!(unknown["column"], 10);
    assert_eq!(unknown["end_column"], 14);
    assert!(!unknown["labels"].as_array().unwrap().is_empty());
    assert!(unknown["message"].as_str().unwrap().contains("gret"));
    assert!(unknown["help"].as_str().unwrap().contains("greet"));
}

#[test]
fn json_columns_count_characters() {
    let dir = tempfile::tempdir().unwrap();
    // `é` and `🎵` are one character each, more than one byte.
    let text = CLEAN.replace("\"Demo\"", "\"Démo 🎵\" tittle \"é\"");
    write(dir.path(), "demo.score", &text);
    let output = score()
        .current_dir(dir.path())
        .args(["check", "--format", "json", "demo.score"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let diagnostic: serde_json::Value = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|d| d["code"] == "E0104")
        .expect("E0104 for `tittle`");
    assert_eq!(diagnostic["line"], 4);
    assert_eq!(diagnostic["column"], 18);
    assert_eq!(diagnostic["end_column"], 24);
}

#[test]
fn warnings_alone_exit_zero_unless_denied() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{CLEAN}\nintent spare \"Nobody serves this\" {{\n  accept \"x\"\n}}\n");
    let file = write(dir.path(), "demo.score", &text);
    score()
        .arg("check")
        .arg(&file)
        .assert()
        .success()
        .stderr(predicate::str::contains("W0601"));
    score()
        .args(["check", "--deny-warnings"])
        .arg(&file)
        .assert()
        .code(1);
}

#[test]
fn colour_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "demo.score",
        &CLEAN.replace("greet\n", "gret\n"),
    );
    score()
        .args(["check", "--color", "always"])
        .arg(&file)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("\u{1b}["));
    // Not a terminal: no escape codes under `auto`.
    score()
        .arg("check")
        .arg(&file)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("\u{1b}[").not());
}

#[test]
fn directory_checks_programs_not_their_modules() {
    // examples/webshop/types.score is imported by main.score: it is checked
    // as part of main.score, not as a program of its own.
    score()
        .args(["check", "examples/webshop"])
        .assert()
        .success()
        .stderr(predicate::str::contains("examples/webshop/main.score"));
}

#[test]
fn every_example_checks_clean() {
    for example in [
        "examples/shortener.score",
        "examples/webshop/main.score",
        "examples/quickstart/quickstart.score",
    ] {
        score()
            .args(["check", "--deny-warnings", example])
            .assert()
            .success();
    }
}

#[test]
fn examples_and_stdlib_are_formatted() {
    score()
        .args(["fmt", "--check", "examples", "stdlib"])
        .assert()
        .success()
        .stdout("");
}

#[test]
fn fmt_check_names_files_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let messy = CLEAN.replace("  title", "      title");
    let file = write(dir.path(), "demo.score", &messy);
    score()
        .args(["fmt", "--check"])
        .arg(&file)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("demo.score"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), messy);
    score().arg("fmt").arg(&file).assert().success();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), CLEAN);
    score()
        .args(["fmt", "--check"])
        .arg(&file)
        .assert()
        .success();
}

#[test]
fn fmt_refuses_files_with_syntax_errors() {
    let dir = tempfile::tempdir().unwrap();
    let broken = "part a {\n      owns \"x\"\n";
    let file = write(dir.path(), "broken.score", broken);
    score()
        .args(["fmt", "--color", "never"])
        .arg(&file)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("E0001"))
        .stderr(predicate::str::contains("not formatted"));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), broken);
}

#[test]
fn explain_prints_the_registry() {
    score()
        .args(["explain", "e0401"])
        .assert()
        .success()
        .stdout(predicate::str::contains("# E0401"))
        .stdout(predicate::str::contains("```score"));
    score()
        .arg("explain")
        .assert()
        .success()
        .stdout(predicate::str::contains("W0603"));
    score()
        .args(["explain", "E9999"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a diagnostic code"));
}

#[test]
fn a_build_error_in_the_sources_shows_its_line_and_exits_one() {
    let dir = tempfile::tempdir().unwrap();
    let text = CLEAN.replace(
        "title \"Demo\"",
        "title \"Demo\"\n  prompt_template \"prompts/none.md\"",
    );
    write(dir.path(), "demo.score", &text);
    score()
        .current_dir(dir.path())
        .args(["build", "--color", "never", "demo.score"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "error[E0104]: cannot read the prompt template `prompts/none.md`",
        ))
        .stderr(predicate::str::contains(
            "prompt_template \"prompts/none.md\"",
        ))
        .stderr(predicate::str::contains("demo.score:5:19"))
        .stderr(predicate::str::contains(
            "error: no plan can be built from `demo.score`",
        ));
}

#[test]
fn doctor_says_per_agent_whether_it_can_play() {
    let dir = tempfile::tempdir().unwrap();
    let agent = write(
        dir.path(),
        "agent.sh",
        "#!/bin/sh\n[ \"$1\" = --version ] && echo 'agent 3.1' && exit 0\necho '{\"done\": true}'\n",
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&agent, std::fs::Permissions::from_mode(0o755)).unwrap();
    let text = |program: &str| {
        format!(
            r#"use std.agents.{{mock}}

score demo {{
  title "Demo"
}}

intent greet "A visitor is greeted" {{
  accept "the page says hello"
}}

agent local: command {{
  run ["{program}"]
  protocol claude_json
  key_env "SCORE_DOCTOR_TEST_KEY"
}}

part page by local {{
  serves greet
}}

part other by mock {{
  serves greet
}}
"#
        )
    };
    let file = write(dir.path(), "ok.score", &text("./agent.sh"));
    score()
        .args(["doctor", file.to_str().unwrap()])
        .env("SCORE_DOCTOR_TEST_KEY", "secret-value-never-shown")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "ok   local  `./agent.sh` agent 3.1 at ",
        ))
        .stdout(predicate::str::contains(
            "(protocol claude_json); key variable SCORE_DOCTOR_TEST_KEY is set",
        ))
        .stdout(predicate::str::contains("ok   mock   mock: built in"))
        .stdout(predicate::str::contains("secret-value-never-shown").not());
    let file = write(dir.path(), "missing.score", &text("score-no-such-agent"));
    score()
        .args(["doctor", file.to_str().unwrap()])
        .env_remove("SCORE_DOCTOR_TEST_KEY")
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "FAIL local  `score-no-such-agent` is not installed on PATH",
        ))
        .stdout(predicate::str::contains(
            "1 of 2 agent(s) cannot play their parts",
        ));
    // `--agent` swaps agents as `score run` does.
    score()
        .args(["doctor", file.to_str().unwrap(), "--agent", "local=mock"])
        .assert()
        .success();
}

#[test]
fn check_of_a_directory_counts_the_files_that_failed() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..3 {
        write(dir.path(), &format!("ok{i}.score"), CLEAN);
    }
    for i in 0..2 {
        write(
            dir.path(),
            &format!("bad{i}.score"),
            &CLEAN.replace("serves greet", "serves greeet"),
        );
    }
    score()
        .current_dir(dir.path())
        .args(["check", "."])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "error: 2 of 5 files failed the check: 2 errors",
        ));
}

#[test]
fn an_unused_import_is_a_warning_that_denied_warnings_fail() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "s.score",
        &CLEAN.replace(
            "use std.agents.{mock}",
            "use std.agents.{mock}\nuse std.checks.{shell}",
        ),
    );
    score()
        .args(["check", file.to_str().unwrap()])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "warning[W0106]: `shell` is imported but never used",
        ));
    score()
        .args(["check", "--deny-warnings", file.to_str().unwrap()])
        .assert()
        .code(1);
}

#[test]
fn order_written_as_a_setting_and_a_yaml_colon_get_a_fix() {
    let dir = tempfile::tempdir().unwrap();
    let order = write(
        dir.path(),
        "order.score",
        &format!("{CLEAN}\npart cli {{\n  serves greet\n  depends_on page\n}}\n"),
    );
    score()
        .args(["check", order.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "help: remove `depends_on` from the part and, after the part, write `sequence { page -> cli }`",
        ));
    let colon = write(
        dir.path(),
        "colon.score",
        &CLEAN.replace("serves greet\n", "serves greet\n  retries: 1;\n"),
    );
    score()
        .args(["check", colon.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "help: drop the `:` and the `;`: a setting is its name, a space and its value, e.g. `retries 1`",
        ));
}
