//! `score check` (load + check) on large generated scores.
//!
//! Run: `cargo bench --bench check -- --warm-up-time 1 --measurement-time 3`
//! Target (docs/performance.md): 10k parts in under a second. The scaling
//! table with peak memory is `benches/check_scaling.rs`.

use std::hint::black_box;
use std::io;
use std::path::Path;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

#[path = "support/generate.rs"]
mod generate;

const SIZES: [usize; 5] = [1_000, 2_000, 4_000, 8_000, 16_000];

/// The generated scores import nothing; a read would be a bug in the bench.
fn no_files(path: &Path) -> io::Result<String> {
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!(
            "the benchmark reads no file, but {} was asked for",
            path.display()
        ),
    ))
}

fn load_and_check(text: String) -> score::check::Checked {
    let program = score::syntax::load_source("bench.score", text, Path::new("."), &no_files);
    score::check::check(&program)
}

fn check(c: &mut Criterion) {
    let mut group = c.benchmark_group("load+check");
    group.sample_size(10);
    for parts in SIZES {
        let text = generate::generate(parts, 1);
        // A score with errors could let the checker skip work: insist on a
        // clean one so that every phase runs in full.
        let checked = load_and_check(text.clone());
        assert!(
            checked.diagnostics.is_empty(),
            "the generated {parts}-part score does not check clean; first diagnostic: {:?}",
            checked.diagnostics.first()
        );
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(parts), &text, |b, text| {
            // The copy of the source (load_source takes it by value) is made
            // outside the timed region.
            b.iter_batched(
                || text.clone(),
                |text| load_and_check(black_box(text)),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, check);
criterion_main!(benches);
