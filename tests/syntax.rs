//! The front end through its public API: parsing, loading programs from
//! disk with the embedded standard library, and the syntax cases of
//! `tests/cases/` (each `E0001_*`/`E0002_*`/`E0103_*` case must produce its
//! code from the front end, and nothing else from it).

use std::path::{Path, PathBuf};

use score::diagnostics::Code;
use score::source::{FileId, Origin};
use score::syntax::{self, ImportKind, ast, load, load_source, parse, stdlib};

fn read(path: &Path) -> std::io::Result<String> {
    std::fs::read_to_string(path)
}

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("score-syntax-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn write(&self, relative: &str, text: &str) -> PathBuf {
        let path = self.0.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn parse_returns_every_declaration_with_spans_in_the_file() {
    let text = "use std.checks.{shell}\n\ncheck lint() {\n  run \"make lint\"\n}\n";
    let (file, diagnostics) = parse(FileId(3), text);
    assert!(diagnostics.is_empty());
    assert_eq!(file.file, FileId(3));
    assert_eq!(file.items.len(), 2);
    let span = file.items[1].span();
    assert_eq!(span.file, FileId(3));
    assert_eq!(
        &text[span.range()],
        "check lint() {\n  run \"make lint\"\n}"
    );
}

#[test]
fn strip_spans_makes_layouts_comparable() {
    let (mut a, _) = parse(FileId(0), "enum E { a, b }");
    let (mut b, _) = parse(FileId(0), "enum E {\n  a\n  b\n}\n");
    assert_ne!(a, b);
    a.strip_spans();
    b.strip_spans();
    assert_eq!(a, b);
}

#[test]
fn the_stdlib_is_embedded_and_parses() {
    let names: Vec<&str> = stdlib::modules().map(|(name, _)| name).collect();
    for wanted in ["std.agents", "std.checks", "std.types"] {
        assert!(names.contains(&wanted), "{wanted} missing from {names:?}");
    }
    for (name, text) in stdlib::modules() {
        assert_eq!(stdlib::module(name), Some(text));
        let (_, diagnostics) = parse(FileId(0), text);
        assert!(diagnostics.is_empty(), "{name}: {diagnostics:#?}");
    }
    // Every stdlib file on disk is in the table (the build script scans the
    // directory, so a new file needs no code change).
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("stdlib/std");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "score") {
            let module = format!("std.{}", path.file_stem().unwrap().to_string_lossy());
            assert_eq!(
                stdlib::module(&module),
                Some(std::fs::read_to_string(&path).unwrap().as_str())
            );
        }
    }
}

#[test]
fn loads_a_program_from_disk() {
    let dir = TempDir::new("load");
    let entry = dir.write(
        "shop/main.score",
        "use std.checks.{cargo_test}\nuse billing.types\nuse billing.types.Invoice\n\npart ledger {\n  ensures cargo_test(package: \"ledger\")\n}\n",
    );
    dir.write(
        "shop/billing/types.score",
        "use std.types.{FileSet}\n\ntype Invoice {\n  files: FileSet\n}\n",
    );
    let program = load(&entry, &read).unwrap();
    assert!(program.diagnostics.is_empty(), "{:#?}", program.diagnostics);
    let names: Vec<String> = program.sources.files().map(|f| f.name.clone()).collect();
    let base = entry.parent().unwrap().to_string_lossy().replace('\\', "/");
    assert_eq!(
        names,
        [
            entry.to_string_lossy().into_owned(),
            "<std>/checks.score".to_string(),
            format!("{base}/billing/types.score"),
            "<std>/types.score".to_string(),
        ]
    );
    assert_eq!(program.files.len(), program.sources.len());
    for (i, file) in program.files.iter().enumerate() {
        assert_eq!(file.file, FileId(i as u32));
    }
    assert!(program.sources.get(FileId(1)).is_stdlib());
    assert_eq!(
        program.sources.get(FileId(3)).origin,
        Origin::Stdlib("std.types".to_string())
    );
    assert_eq!(program.imports.len(), 4);
    assert!(
        matches!(&program.imports[1].kind, ImportKind::Module { alias } if alias.name == "types")
    );
    assert!(
        matches!(&program.imports[2].kind, ImportKind::Items(items) if items[0].name == "Invoice")
    );
    assert_eq!(program.imports[1].module, program.imports[2].module);
    let use_decl = &program.files[0].items[program.imports[1].item];
    assert!(matches!(use_decl, ast::Item::Use(_)));
}

#[test]
fn an_unreadable_entry_is_a_load_error_naming_the_file() {
    let err = load(Path::new("does/not/exist.score"), &read).unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("cannot read `does/not/exist.score`: "),
        "{message}"
    );
    let as_error: &dyn std::error::Error = &err;
    assert!(as_error.source().is_some());
}

#[test]
fn load_source_for_unsaved_buffers() {
    let dir = TempDir::new("source");
    dir.write("lib.score", "type T {\n  x: Int\n}\n");
    let program = load_source(
        "buffer.score",
        "use lib.T\nuse lib.U\n".to_string(),
        &dir.0,
        &read,
    );
    assert_eq!(program.files.len(), 2);
    assert_eq!(program.sources.get(FileId(0)).origin, Origin::Memory);
    let codes: Vec<Code> = program.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::E0103]);
    assert_eq!(
        program.diagnostics[0].message,
        "module `lib` has no item `U`"
    );
}

/// Every case file and example parses without panicking; the syntax cases
/// produce exactly their code from the front end.
#[test]
fn case_files() {
    let cases = tests_dir().join("cases");
    let mut seen = 0;
    for entry in std::fs::read_dir(&cases).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let entry_file = if path.is_dir() {
            path.join("main.score")
        } else {
            path.clone()
        };
        if entry_file.extension().is_none_or(|e| e != "score") {
            continue;
        }
        let program = load(&entry_file, &read).unwrap();
        let codes: Vec<&str> = program
            .diagnostics
            .iter()
            .map(|d| d.code.as_str())
            .collect();
        let expected = ["E0001", "E0002", "E0103"]
            .into_iter()
            .find(|c| name.starts_with(c));
        match expected {
            Some(code) => {
                seen += 1;
                assert!(!codes.is_empty(), "{name}: no diagnostic");
                assert!(codes.iter().all(|c| *c == code), "{name}: {codes:?}");
            }
            // Other cases are about later phases: the front end is silent.
            None => assert!(codes.is_empty(), "{name}: {:#?}", program.diagnostics),
        }
    }
    assert!(seen >= 9, "only {seen} syntax cases");
}

#[test]
fn examples_parse_cleanly() {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let Ok(entries) = std::fs::read_dir(&examples) else {
        return;
    };
    let mut stack: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    while let Some(path) = stack.pop() {
        if path.is_dir() {
            stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        } else if path.extension().is_some_and(|e| e == "score") {
            let text = std::fs::read_to_string(&path).unwrap();
            let (_, diagnostics) = syntax::parse(FileId(0), &text);
            assert!(
                diagnostics.is_empty(),
                "{}: {diagnostics:#?}",
                path.display()
            );
        }
    }
}
