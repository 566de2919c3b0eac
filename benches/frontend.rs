//! Parse + lower throughput of the front end on large generated scores.
//!
//! Run: `cargo bench --bench frontend -- --warm-up-time 1 --measurement-time 3`
//! Target (docs/performance.md): at least 20 MB/s in release.
//!
//! Two groups:
//! - `parse+lower`: clean scores, the common case (each declaration takes
//!   the parser's fast path);
//! - `parse+lower (every part broken)`: the same score with an unknown
//!   escape in every part's brief, so that every part goes through the full
//!   pest parser and lowering that report errors: the worst case, e.g. an
//!   editor re-checking a file full of mistakes.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use score::source::FileId;
use score::syntax::ast::{File, Item};

#[path = "support/generate.rs"]
mod generate;

/// Sizes in parts; 10k parts is about 7 MB of source.
const SIZES: [usize; 2] = [1_000, 10_000];

fn parts_in(file: &File) -> usize {
    file.items
        .iter()
        .filter(|item| matches!(item, Item::Part(_)))
        .count()
}

fn parse_and_lower(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse+lower");
    // A 10k-part parse takes long enough that 10 samples say all there is.
    group.sample_size(10);
    for parts in SIZES {
        let text = generate::generate(parts, 1);
        // Time the success path only: a syntax error changes the work done.
        let (file, diagnostics) = score::syntax::parse(FileId(0), &text);
        assert!(
            diagnostics.is_empty(),
            "the generated {parts}-part score does not parse cleanly: {:?}",
            diagnostics.first()
        );
        assert_eq!(parts_in(&file), parts);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(parts), &text, |b, text| {
            // Freeing the tree is not parsing: it happens outside the timing.
            b.iter_with_large_drop(|| score::syntax::parse(FileId(0), black_box(text)))
        });
    }
    group.finish();
}

fn parse_and_lower_with_errors(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse+lower (every part broken)");
    group.sample_size(10);
    for parts in SIZES {
        let text = generate::generate(parts, 1).replace("    Build the ", "    Build \\q the ");
        let (file, diagnostics) = score::syntax::parse(FileId(0), &text);
        // Error recovery: one error per part, and every part still parsed.
        assert_eq!(diagnostics.len(), parts, "one unknown escape per part");
        assert_eq!(parts_in(&file), parts);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(parts), &text, |b, text| {
            b.iter_with_large_drop(|| score::syntax::parse(FileId(0), black_box(text)))
        });
    }
    group.finish();
}

criterion_group!(benches, parse_and_lower, parse_and_lower_with_errors);
criterion_main!(benches);
