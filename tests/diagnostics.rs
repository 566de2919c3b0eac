//! Snapshot tests of every diagnostic, through the real binary.
//!
//! Each case is a `.score` file under `tests/cases/` (or a directory with a
//! `main.score` for cases that span several files). A case named after a code
//! (`E0401_overlap.score`) must produce that code and no other; a case named
//! `ok_*` must check clean. The rendered human output, the JSON output and the
//! exit code are snapshotted. Update snapshots with
//! `INSTA_UPDATE=always cargo test --test diagnostics` and review the diff.

use assert_cmd::Command;
use score::diagnostics::CODES;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// The case's path relative to `tests/`, with `/` separators, as the binary
/// is run from `tests/`.
fn relative(path: &Path) -> String {
    path.strip_prefix(tests_dir())
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

struct Outcome {
    human: String,
    json: String,
    exit: i32,
}

fn run_check(case: &str) -> Outcome {
    let human = Command::cargo_bin("score")
        .unwrap()
        .current_dir(tests_dir())
        .args(["check", "--color", "never", case])
        .output()
        .unwrap();
    let json = Command::cargo_bin("score")
        .unwrap()
        .current_dir(tests_dir())
        .args(["check", "--format", "json", case])
        .output()
        .unwrap();
    assert_eq!(
        human.status.code(),
        json.status.code(),
        "both formats agree on the exit code"
    );
    Outcome {
        human: String::from_utf8(human.stderr).unwrap(),
        json: String::from_utf8(json.stdout).unwrap(),
        exit: human.status.code().unwrap_or(-1),
    }
}

/// The codes in a JSON Lines output.
fn codes(json: &str) -> Vec<String> {
    json.lines()
        .map(|line| {
            let value: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            value["code"].as_str().unwrap().to_string()
        })
        .collect()
}

/// The code a case is named after: `E0401_overlap.score` → `E0401`.
fn expected_code(case: &str) -> Option<String> {
    let name = case
        .trim_end_matches("/main.score")
        .rsplit('/')
        .next()
        .unwrap();
    let prefix = name.split(['_', '.']).next().unwrap();
    CODES
        .iter()
        .find(|info| info.code.as_str() == prefix)
        .map(|info| info.code.as_str().to_string())
}

fn check_case(path: &Path) {
    let case = relative(path);
    let outcome = run_check(&case);
    let found = codes(&outcome.json);
    match expected_code(&case) {
        Some(code) => {
            assert!(
                found.contains(&code),
                "{case} must produce {code}, got {found:?}\n{}",
                outcome.human
            );
            assert!(
                found.iter().all(|c| *c == code),
                "{case} must produce only {code}, got {found:?}\n{}",
                outcome.human
            );
        }
        None => {
            assert!(
                case.contains("ok_"),
                "{case}: name a case after its code (E0401_...) or ok_..."
            );
            assert!(
                found.is_empty(),
                "{case} must check clean, got {found:?}\n{}",
                outcome.human
            );
            assert_eq!(outcome.exit, 0);
        }
    }
    let snapshot = format!(
        "exit code: {}\n\n--- human (stderr) ---\n{}\n--- json (stdout) ---\n{}",
        outcome.exit, outcome.human, outcome.json
    );
    insta::assert_snapshot!(snapshot);
}

#[test]
fn single_file_cases() {
    insta::glob!("cases/*.score", check_case);
}

#[test]
fn multi_file_cases() {
    insta::glob!("cases/*/main.score", check_case);
}

/// Every code in the registry has at least one case that produces it.
#[test]
fn every_code_has_a_case() {
    let mut covered = BTreeSet::new();
    for entry in std::fs::read_dir(tests_dir().join("cases")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(code) = expected_code(&name) {
            covered.insert(code);
        }
    }
    let missing: Vec<&str> = CODES
        .iter()
        .map(|info| info.code.as_str())
        .filter(|code| !covered.contains(*code))
        .collect();
    assert!(missing.is_empty(), "codes without a test case: {missing:?}");
}
