//! `score graph`: the DOT and Mermaid pictures of the examples' plans.
//! Graphviz is not needed to run these tests; when it is installed, the DOT
//! text is also rendered to check that Graphviz accepts it.

use score::graph::{self, GraphFormat};
use score::plan::{self, Plan};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn build(relative: &str) -> Plan {
    let entry = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    let program = score::syntax::load(&entry, &|p: &Path| std::fs::read_to_string(p))
        .unwrap_or_else(|e| panic!("{e}"));
    let checked = score::check::check(&program);
    assert!(!checked.has_errors(), "{relative} has errors");
    plan::build(&checked, &program.sources, entry.parent().unwrap())
        .unwrap_or_else(|e| panic!("{e}"))
}

const EXAMPLES: &[(&str, &str)] = &[
    ("shortener", "examples/shortener.score"),
    ("webshop", "examples/webshop/main.score"),
    ("quickstart", "examples/quickstart/quickstart.score"),
];

#[test]
fn dot_snapshots() {
    for (name, path) in EXAMPLES {
        insta::assert_snapshot!(format!("dot_{name}"), graph::to_dot(&build(path)));
    }
}

#[test]
fn mermaid_snapshots() {
    for (name, path) in EXAMPLES {
        insta::assert_snapshot!(format!("mermaid_{name}"), graph::to_mermaid(&build(path)));
    }
}

/// The quoted node names of DOT lines like `"a" [label=...]` and the pairs
/// of `"a" -> "b"` lines (legend entries excluded).
fn dot_nodes_and_edges(dot: &str) -> (BTreeSet<String>, BTreeSet<(String, String)>) {
    let mut nodes = BTreeSet::new();
    let mut edges = BTreeSet::new();
    for line in dot.lines().map(str::trim) {
        if line.starts_with("\"legend:") {
            continue;
        }
        let quoted: Vec<&str> = line.split('"').collect();
        if line.starts_with('"') && line.contains(" -> ") && quoted.len() >= 4 {
            edges.insert((quoted[1].to_string(), quoted[3].to_string()));
        } else if line.starts_with('"') && line.contains("[label=") {
            nodes.insert(quoted[1].to_string());
        }
    }
    (nodes, edges)
}

#[test]
fn every_task_and_dependency_is_drawn_once() {
    for (_, path) in EXAMPLES {
        let plan = build(path);
        let dot = graph::to_dot(&plan);
        let (nodes, edges) = dot_nodes_and_edges(&dot);
        let ids: BTreeSet<String> = plan.tasks.iter().map(|t| t.id.clone()).collect();
        assert_eq!(nodes, ids, "{path}");
        let deps: BTreeSet<(String, String)> = plan
            .tasks
            .iter()
            .flat_map(|t| t.depends_on.iter().map(|d| (d.clone(), t.id.clone())))
            .collect();
        assert_eq!(edges, deps, "{path}");
        // One cluster per wave.
        for i in 1..=plan.waves.len() {
            assert!(
                dot.contains(&format!("subgraph cluster_wave_{i} {{")),
                "{path}"
            );
        }
        assert!(!dot.contains(&format!("cluster_wave_{} ", plan.waves.len() + 1)));

        let mermaid = graph::to_mermaid(&plan);
        let arrows = mermaid
            .lines()
            .filter(|l| l.contains(" --> ") || l.contains(" ==> "))
            .count();
        assert_eq!(arrows, deps.len(), "{path}");
        // The critical path is drawn with thick arrows, one per step.
        let thick = mermaid.lines().filter(|l| l.contains(" ==> ")).count();
        assert_eq!(
            thick,
            plan.critical_path.tasks.len().saturating_sub(1),
            "{path}"
        );
        assert_eq!(
            mermaid.matches("subgraph wave_").count(),
            plan.waves.len(),
            "{path}"
        );
    }
}

#[test]
fn pictures_are_deterministic() {
    for (_, path) in EXAMPLES {
        let (a, b) = (build(path), build(path));
        assert_eq!(graph::to_dot(&a), graph::to_dot(&b));
        assert_eq!(graph::to_mermaid(&a), graph::to_mermaid(&b));
        assert_eq!(
            graph::render(&a, GraphFormat::Dot).unwrap(),
            graph::to_dot(&a).into_bytes()
        );
        assert_eq!(
            graph::render(&a, GraphFormat::Mermaid).unwrap(),
            graph::to_mermaid(&a).into_bytes()
        );
    }
}

#[test]
fn graphviz_accepts_the_dot_text_when_installed() {
    let installed = std::process::Command::new("dot")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        eprintln!("Graphviz is not installed: skipping the rendering check");
        return;
    }
    let plan = build("examples/webshop/main.score");
    let svg = graph::render(&plan, GraphFormat::Svg).unwrap_or_else(|e| panic!("{e}"));
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.contains("<svg"), "{svg}");
    for task in &plan.tasks {
        assert!(
            svg.contains(&task.id),
            "{} is missing from the picture",
            task.id
        );
    }
}
