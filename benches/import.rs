//! `score import speckit` (read tasks.md and spec.md, write and format the
//! score, check it and map the overlaps back to tasks) on a generated
//! 500-task feature.
//!
//! Run: `cargo bench --bench import -- --warm-up-time 1 --measurement-time 3`
//! Target (issue 15, docs/performance.md): import plus check of a 500-task
//! tasks.md under 200 ms.

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const TASKS: [usize; 2] = [100, 500];

/// A deterministic feature of `n` tasks in the template's shape: phases of
/// 25 tasks, each a setup task and then runs of four `[P]` tasks writing
/// their own files, except that every 50th task repeats its neighbour's
/// file (a false claim, so that the refutation path is timed too).
fn tasks_md(n: usize) -> String {
    let mut out = String::from("# Tasks: Generated feature\n\n");
    for id in 1..=n {
        if (id - 1) % 25 == 0 {
            let phase = (id - 1) / 25 + 1;
            let _ = writeln!(
                out,
                "\n## Phase {phase}: User Story {phase} - Area {phase} (Priority: P{})\n\n\
                 **Independent Test**: area {phase} works on its own\n",
                phase % 3 + 1
            );
        }
        let story = (id - 1) / 25 + 1;
        let parallel = (id - 1) % 5 != 0;
        let file = if id % 50 == 0 { id - 1 } else { id };
        let _ = writeln!(
            out,
            "- [ ] T{id:03} {}[US{story}] Implement piece {id} in src/area{story}/piece_{file}.py",
            if parallel { "[P] " } else { "" }
        );
    }
    out
}

fn spec_md(stories: usize) -> String {
    let mut out = String::from("# Feature Specification: Generated feature\n\n");
    for n in 1..=stories {
        let _ = writeln!(
            out,
            "### User Story {n} - Area {n} (Priority: P{})\n\n**Acceptance Scenarios**:\n\n\
             1. **Given** area {n}, **When** it is used, **Then** it answers\n\
             2. **Given** bad input, **When** it is used, **Then** it refuses\n",
            n % 3 + 1
        );
    }
    out.push_str("## Success Criteria\n\n- **SC-001**: Every area answers in under 1 s\n");
    out
}

fn import(c: &mut Criterion) {
    let mut group = c.benchmark_group("import speckit");
    group.sample_size(10);
    for n in TASKS {
        let tasks = tasks_md(n);
        let spec = spec_md(n.div_ceil(25));
        let imported = score::import::speckit::import_text(&tasks, Some(&spec), "001-generated")
            .expect("the generated feature imports");
        assert_eq!(imported.report.tasks, n);
        assert_eq!(
            imported.report.refuted.len(),
            n / 50,
            "one false claim per 50 tasks"
        );
        assert!(
            imported.report.findings.is_empty(),
            "{:?}",
            imported.report.findings
        );
        group.throughput(Throughput::Bytes(tasks.len() as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(n),
            &(tasks, spec),
            |b, (t, s)| {
                b.iter(|| {
                    score::import::speckit::import_text(black_box(t), Some(s), "001-generated")
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, import);
criterion_main!(benches);
