//! The fast path must keep up with the grammar, in every build.
//!
//! Why: `fast.rs` mirrors `grammar/score.pest` by hand. Debug builds compare
//! every tree it builds with pest's, but nothing notices when it *gives up*
//! on a correct declaration: pest takes over and the result is the same,
//! only slower. A grammar rule added without its fast-path counterpart would
//! cost the front end its throughput target silently. These tests make that
//! loud, in debug and release test builds alike:
//!
//! - every correct declaration of a corpus (the examples, the standard
//!   library, the diagnostic cases of `tests/cases/`, the `score` blocks of
//!   `docs/language.md` and a few declarations below) is read by the fast
//!   path into exactly the tree pest and the lowering build;
//! - every rule of the grammar that produces a node occurs in some correct
//!   declaration of that corpus (or is listed in [`ONLY_IN_ERRORS`] with the
//!   reason). A new rule therefore needs an example here, and the example
//!   needs the fast path to read it.

use super::ast::Item;
use super::grammar::{Rule, ScoreParser};
use super::{fast, lower, rules, scan};
use crate::source::FileId;
use pest::Parser;
use pest::iterators::Pair;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Rules that never occur in a correct declaration: the lowering reports
/// every one of their matches, so the fast path rightly leaves them to pest.
const ONLY_IN_ERRORS: &[(&str, &str)] = &[(
    "dangling_doc",
    "a doc comment documenting nothing: the lowering reports it",
)];

/// Declarations of constructs the examples and docs may not show.
const EXTRA: &str = r#"
/// Every kind of type.
type Shapes {
  /// A documented field.
  plain: Text,
  maybe: Int?
  twice: [Text]??
  table: {Text: [Float]}
  nested: {Text: {Text: Bool?}}?
}

enum Flag { on, off, }

intent undocumented """
  A statement
  in a text block.
  """

check tool(a: Int, b: [Text],) {
  run "tool"
}

agent bot: mock {
  latency 15ms
  ratio -0.5, 1_000, 2.25
  yes true
  no false
  list [1, "two", [3], {a: 1, "b": [true]},]
  empty [], {}
  call f(), g(1, name: "x",)
  tagged sh "echo", regex """^a"""
  typed n: Int = score.n, m: [Text]
  bound x = a.b.c
  dotted a.b
}

part p: A + b.B by c.d {}

use a.b.{c, d,}

sequence {
  a -> [b, c,] -> d
  e
}
"#;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn score_files(dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            score_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "score") {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.strip_prefix(root()).unwrap_or(&path);
            out.push((name.display().to_string(), text));
        }
    }
}

/// The ```score blocks of a Markdown file.
fn score_blocks(path: &Path, out: &mut Vec<(String, String)>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut block: Option<String> = None;
    for line in text.lines() {
        match &mut block {
            None if line.trim_start() == "```score" => block = Some(String::new()),
            Some(b) if line.trim_start() == "```" => {
                let name = path.strip_prefix(root()).unwrap_or(path);
                out.push((name.display().to_string(), std::mem::take(b)));
                block = None;
            }
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
}

fn corpus() -> Vec<(String, String)> {
    let mut files = Vec::new();
    score_files(&root().join("examples"), &mut files);
    score_files(&root().join("tests/cases"), &mut files);
    score_blocks(&root().join("docs/language.md"), &mut files);
    for (name, text) in super::stdlib::modules() {
        files.push((name.to_string(), text.to_string()));
    }
    files.push(("fast_coverage.rs".to_string(), EXTRA.to_string()));
    files
}

fn collect_rules(pair: Pair<'_, Rule>, seen: &mut BTreeSet<String>) {
    seen.insert(format!("{:?}", pair.as_rule()));
    for inner in pair.into_inner() {
        collect_rules(inner, seen);
    }
}

/// A correct declaration: pest's tree of it, lowered without a diagnostic.
struct Correct {
    text: String,
    tree: Item,
    fast: Option<Item>,
}

/// Every correct declaration of the corpus, and the rules their parses use.
fn correct_declarations() -> (Vec<(String, Correct)>, BTreeSet<String>) {
    let mut correct = Vec::new();
    let mut seen = BTreeSet::new();
    for (name, text) in corpus() {
        let file = FileId(0);
        let scan = scan::scan(file, &text);
        for chunk in scan.chunks.iter().filter(|c| !c.broken) {
            let Some((keyword, _)) = chunk.keyword else {
                continue;
            };
            let slice = &text[chunk.start..chunk.end];
            let Ok(mut pairs) = ScoreParser::parse(rules(keyword).0, slice) else {
                continue;
            };
            let chunk_pair = pairs.next().expect("a chunk rule matched");
            let decl = chunk_pair
                .clone()
                .into_inner()
                .next()
                .expect("a declaration");
            let first = scan
                .comments
                .partition_point(|c| (c.span.start as usize) < chunk.start);
            let last = scan
                .comments
                .partition_point(|c| (c.span.start as usize) < chunk.end);
            let mut diagnostics = Vec::new();
            let tree = lower::Lowerer::new(
                file,
                &text,
                chunk.start,
                &scan.comments[first..last],
                &mut diagnostics,
            )
            .declaration(decl);
            if !diagnostics.is_empty() {
                continue;
            }
            collect_rules(chunk_pair, &mut seen);
            let fast = fast::declaration(file, &text, chunk.start, chunk.end);
            correct.push((
                name.clone(),
                Correct {
                    text: slice.to_string(),
                    tree,
                    fast,
                },
            ));
        }
    }
    (correct, seen)
}

/// The grammar's rules that produce a node (not `_{ }`), by name.
fn node_rules() -> Vec<String> {
    let grammar = include_str!("../../grammar/score.pest");
    let silent: BTreeSet<&str> = grammar
        .lines()
        .filter_map(|line| {
            let (name, rest) = line.split_once('=')?;
            rest.trim_start().starts_with("_{").then_some(name.trim())
        })
        .collect();
    Rule::all_rules()
        .iter()
        .map(|r| format!("{r:?}"))
        .filter(|r| !silent.contains(r.as_str()))
        .collect()
}

#[test]
fn the_fast_path_reads_every_correct_declaration_of_the_corpus() {
    let (correct, _) = correct_declarations();
    assert!(correct.len() > 300, "the corpus shrank: {}", correct.len());
    let mut problems = Vec::new();
    for (name, c) in &correct {
        match &c.fast {
            None => problems.push(format!(
                "{name}: the fast path gave up on a correct declaration (teach src/syntax/fast.rs what the grammar accepts):\n{}",
                c.text
            )),
            Some(fast) if *fast != c.tree => problems.push(format!(
                "{name}: the fast path and pest disagree on:\n{}",
                c.text
            )),
            Some(_) => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn every_grammar_rule_occurs_in_a_correct_declaration() {
    let (_, seen) = correct_declarations();
    let exempt: BTreeSet<&str> = ONLY_IN_ERRORS.iter().map(|(r, _)| *r).collect();
    let missing: Vec<String> = node_rules()
        .into_iter()
        .filter(|r| !seen.contains(r) && !exempt.contains(r.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "no correct declaration of the corpus uses the grammar rule(s) {missing:?}: add one \
         (to `EXTRA` in src/syntax/fast_coverage.rs, an example or docs/language.md) and make \
         src/syntax/fast.rs read it, or list the rule in `ONLY_IN_ERRORS` with the reason"
    );
    // The exemptions stay true: none of them occurs in a correct declaration.
    for (rule, why) in ONLY_IN_ERRORS {
        assert!(
            !seen.contains(*rule),
            "`{rule}` ({why}) occurs in a correct declaration"
        );
        assert!(
            node_rules().iter().any(|r| r == rule),
            "`{rule}` is no rule of the grammar any more"
        );
    }
}

#[test]
fn the_extra_declarations_are_all_correct() {
    // A declaration of `EXTRA` with a mistake would be skipped silently, and
    // the rules it was written for would seem covered by nothing.
    let (correct, _) = correct_declarations();
    let extra = correct
        .iter()
        .filter(|(name, _)| name == "fast_coverage.rs")
        .count();
    let chunks = scan::scan(FileId(0), EXTRA)
        .chunks
        .iter()
        .filter(|c| c.keyword.is_some())
        .count();
    assert_eq!(extra, chunks, "every declaration of EXTRA is correct");
}
