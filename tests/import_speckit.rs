//! `score import speckit` on spec-kit style features (tests/data/speckit/):
//! snapshots of the imported scores and reports, the command line, and
//! properties on arbitrary Markdown: the importer never panics, and every
//! score it writes is one `score check` accepts apart from genuine
//! findings (overlaps of `[P]` claims, coverage warnings).

use assert_cmd::Command;
use predicates::prelude::*;
use proptest::prelude::*;
use score::import::speckit::{self, ImportError, Imported};
use std::path::{Path, PathBuf};

fn score() -> Command {
    let mut cmd = Command::cargo_bin("score").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    cmd.env("NO_COLOR", "1");
    cmd
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/speckit")
        .join(name)
}

/// The score, then the warnings and the report, as one reviewable text.
fn rendered(imported: &Imported) -> String {
    let mut out = imported.score.clone();
    out.push_str("\n---- warnings\n");
    for warning in &imported.warnings {
        out.push_str(&format!("{warning}\n"));
    }
    out.push_str("---- report\n");
    out.push_str(&imported.report.summary());
    out
}

#[test]
fn imported_fixtures() {
    insta::glob!("data/speckit/*/tasks.md", |path| {
        let imported = speckit::import(path.parent().unwrap()).unwrap();
        insta::assert_snapshot!(rendered(&imported));
    });
}

/// The `[P]` claims each fixture gets wrong, as the checker refutes them.
#[test]
fn false_parallel_claims_are_refuted_with_ids_and_lines() {
    let refuted = |name: &str| -> Vec<String> {
        speckit::import(&fixture(name))
            .unwrap()
            .report
            .refuted
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(
        refuted("001-photo-albums"),
        [
            "T010 and T011 are marked [P] but both write backend/src/models/album.py (tasks.md:51, :52)",
            "T021 and T022 are marked [P] but both write docs/albums.md (tasks.md:81, :82)",
        ]
    );
    assert_eq!(
        refuted("002-mcp-bridge"),
        [
            "T005 and T006 are marked [P] but both write backend/mcp_server/server.py (tasks.md:22, :23)"
        ]
    );
    assert!(refuted("003-exportar-informes").is_empty());
    assert_eq!(
        refuted("004-rough-notes"),
        ["T005 and T006 are marked [P] but both write app/assets/style.css (tasks.md:9, :10)"]
    );
}

/// A tasks.md file may be given instead of its directory; spec.md beside
/// it is still read.
#[test]
fn a_tasks_file_is_imported_like_its_directory() {
    let by_dir = speckit::import(&fixture("001-photo-albums")).unwrap();
    let by_file = speckit::import(&fixture("001-photo-albums/tasks.md")).unwrap();
    assert_eq!(by_dir.score, by_file.score);
    assert!(
        by_file
            .score
            .contains("accept \"Given an album, When the user renames it")
    );
}

#[test]
fn the_cli_writes_the_score_and_reports_on_stderr() {
    let assert = score()
        .args(["import", "speckit", "tests/data/speckit/002-mcp-bridge"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "T005 and T006 are marked [P] but both write backend/mcp_server/server.py (tasks.md:22, :23)",
        ))
        .stderr(predicate::str::contains(
            "warning: tasks.md:40: T013 names no file path",
        ));
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let expected = speckit::import(&fixture("002-mcp-bridge")).unwrap().score;
    assert_eq!(stdout, expected);
}

#[test]
fn the_report_flag_prints_the_report_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("albums.score");
    score()
        .args([
            "import",
            "speckit",
            "tests/data/speckit/001-photo-albums",
            "--report",
            "-o",
        ])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "23 tasks (3 done) in 6 phases, 6 parallel groups, 4 intents; 2 [P] claims are refuted",
        ))
        .stdout(predicate::str::contains("part t001").not());
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains("part t023 {"), "{written}");
}

/// `score check` accepts every imported score apart from genuine findings:
/// the refuted `[P]` claims (E0401) and, for the feature whose tasks name a
/// story its spec lacks, nothing else that is an error.
#[test]
fn score_check_accepts_the_imported_scores_apart_from_the_refuted_claims() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("001-photo-albums", 2),
        ("002-mcp-bridge", 1),
        ("003-exportar-informes", 0),
        ("004-rough-notes", 1),
    ];
    for (name, overlaps) in cases {
        let out = dir.path().join(format!("{name}.score"));
        score()
            .args(["import", "speckit"])
            .arg(fixture(name))
            .arg("-o")
            .arg(&out)
            .assert()
            .success();
        let assert = score()
            .args(["check", "--format", "json"])
            .arg(&out)
            .assert()
            .code(if overlaps == 0 { 0 } else { 1 });
        let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
        let codes: Vec<String> = stdout
            .lines()
            .map(|line| {
                let json: serde_json::Value = serde_json::from_str(line).unwrap();
                json["code"].as_str().unwrap().to_string()
            })
            .collect();
        assert_eq!(
            codes,
            vec!["E0401".to_string(); overlaps],
            "{name}: every diagnostic is a refuted [P] claim"
        );
    }
}

#[test]
fn what_cannot_be_imported_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    score()
        .args(["import", "speckit"])
        .arg(dir.path().join("missing"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no tasks.md at"))
        .stderr(predicate::str::contains("feature directory"));
    score()
        .args(["import", "speckit"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no tasks.md at"));
    std::fs::write(dir.path().join("tasks.md"), "# Tasks\n\nNothing yet.\n").unwrap();
    score()
        .args(["import", "speckit"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("holds no task with an id"))
        .stderr(predicate::str::contains("- [ ] T001"));
    // Bytes that are not UTF-8 are read, not refused.
    std::fs::write(
        dir.path().join("tasks.md"),
        b"- [ ] T001 \xff\xfe in src/a.py\n",
    )
    .unwrap();
    score()
        .args(["import", "speckit"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("owns \"src/a.py\""));
}

// ---- properties ----

/// Lines real tasks.md files are made of, and broken versions of them.
fn fragment() -> impl Strategy<Value = String> {
    let fixed = prop::sample::select(vec![
        "# Tasks: X",
        "## Phase 1: Setup",
        "### Phase 2 — Core 🛠️",
        "#### Tests",
        "## User Story 1 - Title (Priority: P1)",
        "**Independent Test**: it works",
        "**Checkpoint**: done",
        "```",
        "~~~~",
        "<!--",
        "-->",
        "| ID | Parallel | Story | Task |",
        "|---|---|---|---|",
        "| T009 | yes | US1 | a in src/a.py |",
        "|",
        "- [ ]",
        "- [x] [P]",
        "- [ ] T",
        "- [ ] **T001**",
        "  - nested in docs/",
        "    * deeper `x/y.rs`",
        "",
        "\r",
        "- T001 depends on T002",
        "---",
        "1. **Given** a, **When** b, **Then** c",
    ])
    .prop_map(str::to_string);
    let task = (
        prop::sample::select(vec!["- [ ] ", "- [X] ", "* ", "1. ", "  - [ ] ", "+ [x] "]),
        prop::sample::select(vec![
            "T001", "T002", "**T003**", "`t004`", "T002R", "T-7", "T001",
        ]),
        prop::sample::select(vec![
            "",
            " [P]",
            " [P] [US1]",
            " [US2]",
            " [P][US3]",
            " (P)",
        ]),
        prop::sample::select(vec![
            " Create src/models/user.py",
            " Edit src/models/user.py",
            " docs/",
            " in /abs/x.py and ../up.rs",
            " src/[entity].py {a,b} *.rs",
            " 在src/中文.py中",
            " emoji 🎯 README.md",
            "",
            " \"quotes\" and \\ backslash",
            " a\tb\u{202e}c",
            " src/x\u{202e}y.py and src/\u{0}.rs",
        ]),
    )
        .prop_map(|(marker, id, marks, text)| format!("{marker}{id}{marks}{text}"));
    prop_oneof![fixed, task, "[ -~\\t]{0,40}", "\\PC{0,20}"]
}

fn markdown() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(fragment(), 0..40),
        prop::sample::select(vec!["\n", "\r\n"]),
    )
        .prop_map(|(lines, ending)| lines.join(ending))
}

/// What must hold for any import: no panic; a score is always produced
/// unless there is no task; the score is in canonical form; and checking
/// it finds no error besides the refuted claims.
fn assert_imports_cleanly(tasks: &str, spec: Option<&str>) {
    match speckit::import_text(tasks, spec, "001-feature") {
        Ok(imported) => {
            let again = score::fmt::format_source(score::source::FileId(0), &imported.score)
                .expect("the imported score parses");
            assert_eq!(again, imported.score, "the imported score is formatted");
            let errors: Vec<&String> = imported
                .report
                .findings
                .iter()
                .filter(|f| f.starts_with('E'))
                .collect();
            assert!(
                errors.is_empty(),
                "errors besides overlaps: {errors:?}\n{tasks}"
            );
            assert!(imported.report.tasks > 0);
        }
        Err(ImportError::Empty { .. }) => {}
        Err(other) => panic!("unexpected error {other}\n{tasks}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn import_never_panics_on_task_like_markdown(tasks in markdown(), spec in markdown()) {
        assert_imports_cleanly(&tasks, None);
        assert_imports_cleanly(&tasks, Some(&spec));
    }

    #[test]
    fn import_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let text = String::from_utf8_lossy(&bytes);
        assert_imports_cleanly(&text, Some(&text));
    }

    #[test]
    fn import_never_panics_on_arbitrary_text(text in "\\PC{0,300}") {
        assert_imports_cleanly(&text, None);
    }
}
