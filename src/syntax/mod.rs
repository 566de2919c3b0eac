//! The front end: pest grammar, lowering to the AST, error recovery, and
//! loading a program's modules (including the embedded standard library).
//!
//! [`parse`] works in three steps:
//! 1. a hand-written pre-scanner (`scan.rs`) walks the text once, collects
//!    comments, reports unterminated strings and text blocks (E0002), and
//!    splits the file into one chunk per top-level declaration;
//! 2. each chunk is parsed on its own with the pest rule for its keyword
//!    (`grammar/score.pest`), so a syntax error in one declaration never
//!    hides the others: the broken one becomes [`ast::Item::Error`] and one
//!    E0001 in words users know (`errors.rs`);
//! 3. the pairs are lowered into the AST (`lower.rs`), every node with its
//!    span in the file.
//!
//! A declaration that is entirely correct (nearly all of them) takes a fast
//! path instead of steps 2 and 3: `fast.rs` reads it straight into the same
//! tree, following the grammar's ordered choices, and hands anything it does
//! not plainly understand back to pest. Debug builds check every tree it
//! builds against pest's.

pub mod ast;
mod errors;
mod fast;
mod grammar;
mod literal;
mod loader;
mod lower;
mod scan;
pub mod stdlib;
mod strip;

pub use loader::{Import, ImportKind, LoadError, Program, load, load_source};

use pest::Parser;

use crate::diagnostics::{Code, Diagnostic};
use crate::source::{FileId, Span};
use errors::ChunkContext;
use grammar::{Rule, ScoreParser};
use scan::{Chunk, Keyword};

/// Parse one file. Never panics, whatever the input: every problem is a
/// diagnostic (E0001 syntax error, E0002 unterminated string or text block),
/// and every declaration that parses is in the returned tree, in source
/// order, even when others around it are broken.
pub fn parse(file: FileId, text: &str) -> (ast::File, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    if u32::try_from(text.len()).is_err() {
        diagnostics.push(
            Diagnostic::new(Code::E0001, "file too large")
                .primary(Span::new(file, 0, 0), "this file is 4 GiB or more")
                .help("split the score into modules and import them with `use`"),
        );
        let empty = ast::File {
            file,
            items: Vec::new(),
            comments: Vec::new(),
        };
        return (empty, diagnostics);
    }
    let scan = scan::scan(file, text);
    diagnostics.extend(scan.diagnostics);
    let mut items = Vec::with_capacity(scan.chunks.len());
    for chunk in &scan.chunks {
        parse_chunk(
            file,
            text,
            chunk,
            &scan.comments,
            &mut items,
            &mut diagnostics,
        );
    }
    // The scanner's diagnostics come first; keep everything in file order.
    diagnostics.sort_by_key(|d| d.primary_span().map(|s| s.start));
    let file = ast::File {
        file,
        items,
        comments: scan.comments,
    };
    (file, diagnostics)
}

fn rules(keyword: Keyword) -> (Rule, Rule) {
    match keyword {
        Keyword::Score => (Rule::score_chunk, Rule::score_decl),
        Keyword::Use => (Rule::use_chunk, Rule::use_decl),
        Keyword::Type => (Rule::type_chunk, Rule::type_decl),
        Keyword::Enum => (Rule::enum_chunk, Rule::enum_decl),
        Keyword::Intent => (Rule::intent_chunk, Rule::intent_decl),
        Keyword::Check => (Rule::check_chunk, Rule::check_decl),
        Keyword::Contract => (Rule::contract_chunk, Rule::contract_decl),
        Keyword::Agent => (Rule::agent_chunk, Rule::agent_decl),
        Keyword::Part => (Rule::part_chunk, Rule::part_decl),
        Keyword::Sequence => (Rule::sequence_chunk, Rule::sequence_decl),
    }
}

fn parse_chunk(
    file: FileId,
    text: &str,
    chunk: &Chunk,
    comments: &[ast::Comment],
    items: &mut Vec<ast::Item>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let error_span = Span::new(file, chunk.start, chunk.last_end.max(chunk.start));
    let Some((keyword, _)) = chunk.keyword else {
        // Text before the first declaration.
        if chunk.broken {
            return;
        }
        if let Some(at) = chunk.first_token {
            let (span, found, _) = errors::token_text(file, text, at);
            diagnostics.push(errors::stray_text(span, &found));
        } else if let Some(at) = chunk.first_doc {
            let (span, _, _) = errors::token_text(file, text, at);
            diagnostics.push(lower::dangling_doc_diagnostic(span));
        }
        return;
    };
    if chunk.broken {
        // Its E0002 (or unterminated comment, or nesting) is reported.
        items.push(ast::Item::Error(error_span));
        return;
    }
    if let Some(item) = fast::declaration(file, text, chunk.start, chunk.end) {
        #[cfg(debug_assertions)]
        verify_fast_path(file, text, chunk, keyword, comments, &item);
        items.push(item);
        return;
    }
    let slice = &text[chunk.start..chunk.end];
    // The comments inside this chunk: span trimming searches only these.
    let first = comments.partition_point(|c| (c.span.start as usize) < chunk.start);
    let last = comments.partition_point(|c| (c.span.start as usize) < chunk.end);
    let comments = &comments[first..last];
    let (chunk_rule, decl_rule) = rules(keyword);
    match ScoreParser::parse(chunk_rule, slice) {
        Ok(mut pairs) => {
            let decl = pairs
                .next()
                .and_then(|chunk| chunk.into_inner().next())
                .expect("a chunk rule holds its declaration");
            items.push(
                lower::Lowerer::new(file, text, chunk.start, comments, diagnostics)
                    .declaration(decl),
            );
        }
        Err(_) => {
            let Some(err) = errors::detailed_failure(chunk_rule, slice) else {
                // Cannot happen (the same parse just failed); stay safe.
                items.push(ast::Item::Error(error_span));
                return;
            };
            let ctx = ChunkContext {
                file,
                text,
                start: chunk.start,
                end: chunk.end,
                keyword,
            };
            let error = errors::describe(&ctx, &err);
            diagnostics.push(error.diagnostic);
            // Text after a whole declaration: keep the declaration.
            let salvaged = error
                .declaration_complete
                .then(|| ScoreParser::parse(decl_rule, slice).ok())
                .flatten()
                .and_then(|mut pairs| pairs.next());
            match salvaged {
                Some(decl) => items.push(
                    lower::Lowerer::new(file, text, chunk.start, comments, diagnostics)
                        .declaration(decl),
                ),
                None => items.push(ast::Item::Error(error_span)),
            }
        }
    }
}

/// Debug builds check every declaration the fast path read against pest
/// and the lowering, so that every test and fuzzing run compares the two.
#[cfg(debug_assertions)]
fn verify_fast_path(
    file: FileId,
    text: &str,
    chunk: &Chunk,
    keyword: Keyword,
    comments: &[ast::Comment],
    fast: &ast::Item,
) {
    let slice = &text[chunk.start..chunk.end];
    let (chunk_rule, _) = rules(keyword);
    let pairs = ScoreParser::parse(chunk_rule, slice);
    let Ok(mut pairs) = pairs else {
        panic!("the fast path accepted what pest rejects: {slice:?}\n{fast:#?}");
    };
    let decl = pairs
        .next()
        .and_then(|chunk| chunk.into_inner().next())
        .expect("a chunk rule holds its declaration");
    let mut diagnostics = Vec::new();
    let first = comments.partition_point(|c| (c.span.start as usize) < chunk.start);
    let last = comments.partition_point(|c| (c.span.start as usize) < chunk.end);
    let slow = lower::Lowerer::new(
        file,
        text,
        chunk.start,
        &comments[first..last],
        &mut diagnostics,
    )
    .declaration(decl);
    assert!(
        diagnostics.is_empty(),
        "the fast path accepted what the lowering reports: {slice:?}\n{diagnostics:#?}"
    );
    assert_eq!(&slow, fast, "the fast path and pest disagree on {slice:?}");
}

#[cfg(test)]
mod fast_coverage;
#[cfg(test)]
mod tests;
