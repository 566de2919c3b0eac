//! `score init` on small generated repositories of each kind (Cargo, npm,
//! Python, Go, none): what it detects, that the score it writes checks
//! clean through the real binary, and that it never overwrites a score
//! without `--force`.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn score() -> Command {
    let mut cmd = Command::cargo_bin("score").unwrap();
    cmd.env("NO_COLOR", "1");
    cmd
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A directory of fake programs for PATH: `score init` only looks for them.
fn bin_with(dir: &Path, programs: &[&str]) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for program in programs {
        let path = bin.join(program);
        write(&path, "#!/bin/sh\nexit 0\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    bin
}

/// A repository of `kind` under `root/demo-KIND`, with source directories
/// and directories that are not source (build output, dependencies).
fn repository(root: &Path, kind: &str) -> PathBuf {
    let repo = root.join(format!("demo-{kind}"));
    std::fs::create_dir_all(&repo).unwrap();
    match kind {
        "cargo" => {
            write(&repo.join("Cargo.toml"), "[package]\nname = \"demo\"\n");
            write(&repo.join("src/main.rs"), "fn main() {}\n");
            write(&repo.join("tests/it.rs"), "");
            write(&repo.join("target/debug/demo"), "");
        }
        "npm" => {
            write(
                &repo.join("package.json"),
                r#"{"name": "demo", "scripts": {"build": "tsc", "test": "jest"}}"#,
            );
            write(&repo.join("src/index.ts"), "");
            write(&repo.join("web-ui/app.tsx"), "");
            write(&repo.join("node_modules/x/index.js"), "");
            write(&repo.join("dist/index.js"), "");
        }
        "python" => {
            write(&repo.join("pyproject.toml"), "[project]\nname = \"demo\"\n");
            write(&repo.join("demo/__init__.py"), "");
            write(&repo.join("tests/test_demo.py"), "");
            write(&repo.join(".venv/bin/python"), "");
            write(&repo.join("__pycache__/x.pyc"), "");
        }
        "go" => {
            write(&repo.join("go.mod"), "module example.com/demo\n");
            write(&repo.join("cmd/demo/main.go"), "package main\n");
            write(&repo.join("internal/store/store.go"), "package store\n");
            write(&repo.join("check/check.go"), "package check\n");
        }
        "none" => {}
        other => panic!("no repository kind {other}"),
    }
    repo
}

/// `score init` with only `bin` on PATH.
fn init(repo: &Path, bin: &Path) -> assert_cmd::assert::Assert {
    score().arg("init").arg(repo).env("PATH", bin).assert()
}

#[test]
fn each_kind_of_repository_gets_a_starter_that_checks_clean() {
    let root = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], &[&str]); 5] = [
        (
            "cargo",
            &["claude", "aider"],
            &[
                "shell(cmd: \"cargo build\")",
                "shell(cmd: \"cargo test\")",
                "owns \"src/**\"",
                "owns \"tests/**\"",
                "default_agent claude_code",
                "Also found on PATH: aider",
            ],
        ),
        (
            "npm",
            &["codex"],
            &[
                "shell(cmd: \"npm run build\")",
                "shell(cmd: \"npm test\")",
                "part web_ui",
                "owns \"web-ui/**\"",
                "default_agent codex",
            ],
        ),
        (
            "python",
            &["gemini"],
            &[
                "shell(cmd: \"pytest\")",
                "part demo",
                "owns \"demo/**\"",
                "default_agent gemini_cli",
            ],
        ),
        (
            "go",
            &["opencode"],
            &[
                "shell(cmd: \"go build ./...\")",
                "shell(cmd: \"go test ./...\")",
                "part check_dir",
                "owns \"internal/**\"",
                "default_agent opencode",
            ],
        ),
        (
            "none",
            &[],
            &[
                "default_agent mock",
                "No coding-agent CLI",
                "part project",
                "owns \"**\"",
            ],
        ),
    ];
    for (kind, programs, expected) in cases {
        let repo = repository(root.path(), kind);
        let bin = bin_with(&root.path().join(kind), programs);
        init(&repo, &bin)
            .success()
            .stderr(predicate::str::contains("wrote `"))
            .stderr(predicate::str::contains("score check"));
        let path = repo.join("score.score");
        let text = std::fs::read_to_string(&path).unwrap();
        for want in expected {
            assert!(text.contains(want), "{kind}: `{want}` missing from\n{text}");
        }
        for not_source in ["target", "node_modules", "dist", ".venv", "__pycache__"] {
            assert!(
                !text.contains(&format!("\"{not_source}/**\"")),
                "{kind}: {not_source} is not source\n{text}"
            );
        }
        // It checks clean through the real binary, warnings denied, and is
        // already formatted.
        score()
            .args(["check", "--deny-warnings"])
            .arg(&path)
            .assert()
            .success()
            .stderr(predicate::str::contains("no problems"));
        score()
            .args(["fmt", "--check"])
            .arg(&path)
            .assert()
            .success();
        insta::assert_snapshot!(format!("init_{kind}"), text);
    }
}

#[test]
fn an_existing_score_is_kept_unless_forced() {
    let root = tempfile::tempdir().unwrap();
    let repo = repository(root.path(), "cargo");
    let bin = bin_with(root.path(), &[]);
    let path = repo.join("score.score");
    write(&path, "// my own score\n");
    init(&repo, &bin)
        .code(2)
        .stderr(predicate::str::contains("already exists"))
        .stderr(predicate::str::contains("--force"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "// my own score\n");
    score()
        .arg("init")
        .arg(&repo)
        .arg("--force")
        .env("PATH", &bin)
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("score demo_cargo {")
    );
}

#[cfg(unix)]
#[test]
fn a_link_in_the_way_is_never_written_through() {
    let root = tempfile::tempdir().unwrap();
    let repo = repository(root.path(), "none");
    let bin = bin_with(root.path(), &[]);
    let target = root.path().join("elsewhere.txt");
    write(&target, "precious\n");
    std::os::unix::fs::symlink(&target, repo.join("score.score")).unwrap();
    score()
        .arg("init")
        .arg(&repo)
        .arg("--force")
        .env("PATH", &bin)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
}

#[test]
fn the_current_directory_is_the_default_and_a_missing_one_is_an_error() {
    let root = tempfile::tempdir().unwrap();
    let repo = repository(root.path(), "go");
    let bin = bin_with(root.path(), &[]);
    score()
        .arg("init")
        .current_dir(&repo)
        .env("PATH", &bin)
        .assert()
        .success();
    assert!(repo.join("score.score").is_file());
    init(&root.path().join("missing"), &bin)
        .code(2)
        .stderr(predicate::str::contains("is not a directory"));
}
