//! Tests of the benchmark input generator, `benches/support/generate.rs`.
//!
//! The generator lives beside the benchmarks that use it; this target exists
//! so that its unit tests run (`cargo test --bench generator`, and `cargo
//! test`): the benchmark targets use `harness = false`, which drops
//! `#[test]` functions (and the generator is shared by `#[path]`, so its own
//! `#[cfg(test)]` module would be compiled, unused, into each of them).

#[path = "support/generate.rs"]
mod generate;

use std::collections::HashSet;

use generate::generate;

fn count_parts(text: &str) -> usize {
    text.lines().filter(|l| l.starts_with("part ")).count()
}

#[test]
fn the_same_seed_gives_the_same_bytes() {
    assert_eq!(generate(300, 7), generate(300, 7));
    assert_ne!(generate(300, 7), generate(300, 8));
}

#[test]
fn every_requested_part_is_declared_once() {
    for n in [0, 1, 2, 5, 37, 1000] {
        let text = generate(n, 1);
        assert_eq!(count_parts(&text), n, "parts for n = {n}");
        let names: HashSet<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("part "))
            .map(|l| l.split([' ', ':']).next().unwrap())
            .collect();
        assert_eq!(names.len(), n, "distinct part names for n = {n}");
    }
}

#[test]
fn the_declaration_counts_follow_the_size() {
    let text = generate(1000, 3);
    let starting = |kw: &str| text.lines().filter(|l| l.starts_with(kw)).count();
    assert_eq!(starting("contract "), 100);
    assert_eq!(starting("intent "), 125);
    assert_eq!(starting("type ") + starting("enum "), 33 + 16);
    assert!((4..=6).contains(&starting("agent ")));
    assert!(starting("sequence {") >= 1);
    assert!(text.contains(" -> ["), "a chain with a parallel group");
    assert!(
        text.contains("= score.repo"),
        "a score-level input is bound"
    );
}

/// Renders the first few diagnostics, for a failure message.
fn first_diagnostics(diagnostics: &[score::diagnostics::Diagnostic]) -> String {
    diagnostics
        .iter()
        .take(5)
        .map(|d| format!("{} {} at {:?}", d.code, d.message, d.primary_span()))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_output_parses_without_a_diagnostic() {
    for (parts, seed) in [(1, 1), (40, 2), (400, 3), (1000, 4)] {
        let text = generate(parts, seed);
        let (file, diagnostics) = score::syntax::parse(score::source::FileId(0), &text);
        assert!(
            diagnostics.is_empty(),
            "{parts} parts, seed {seed}:\n{}",
            first_diagnostics(&diagnostics)
        );
        let declared = file
            .items
            .iter()
            .filter(|item| matches!(item, score::syntax::ast::Item::Part(_)))
            .count();
        assert_eq!(declared, parts);
    }
}

/// The generated scores import nothing; a read would be a bug in the test.
fn no_files(path: &std::path::Path) -> std::io::Result<String> {
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        format!(
            "the generated score reads no file, but {} was asked for",
            path.display()
        ),
    ))
}

#[test]
fn the_output_checks_clean() {
    // Clean means no warning either: the benchmarks must time every phase
    // in full, on the kind of score people mean to write.
    for (parts, seed) in [(1, 1), (2, 9), (7, 5), (40, 2), (400, 3), (1000, 4)] {
        let text = generate(parts, seed);
        let program = score::syntax::load_source(
            "generated.score",
            text,
            std::path::Path::new("."),
            &no_files,
        );
        let checked = score::check::check(&program);
        assert!(
            checked.diagnostics.is_empty(),
            "{parts} parts, seed {seed}:\n{}",
            score::diagnostics::render_human(
                &program.sources,
                &checked.diagnostics[..checked.diagnostics.len().min(5)],
                false
            )
        );
    }
}

#[test]
fn without_its_sequences_the_output_has_write_conflicts() {
    // Proves the clean result above means something: the stage groups own
    // the same file and only the `sequence` blocks keep them apart, so a
    // checker that proves boundaries must object once the blocks are gone.
    let text = generate(1000, 4);
    let cut = text
        .find("/// Stage groups share a file")
        .expect("the generated score ends with its sequence blocks");
    let program = score::syntax::load_source(
        "generated.score",
        text[..cut].to_string(),
        std::path::Path::new("."),
        &no_files,
    );
    let checked = score::check::check(&program);
    assert!(
        checked
            .diagnostics
            .iter()
            .any(|d| d.code == score::diagnostics::Code::E0401),
        "expected an E0401 write conflict, got: {:?}",
        checked
            .diagnostics
            .iter()
            .map(|d| d.code)
            .collect::<Vec<_>>()
    );
}
