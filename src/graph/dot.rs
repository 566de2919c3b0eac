//! Graphviz DOT output.

use super::{CRITICAL, PlanIndex, colours};
use crate::plan::Plan;
use crate::plan::types::{Complexity, format_duration};
use std::fmt::Write as _;

/// A DOT string literal.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The plan's task graph in DOT: one cluster per wave, left to right (with
/// `newrank`, `rank=same` keeps a wave's parts in one column even where an
/// edge would pull one further right); nodes coloured by complexity; the
/// critical path in bold blue.
pub fn to_dot(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// The task graph of the score `{}`, drawn by `score graph`.",
        plan.score.name
    );
    let _ = writeln!(out, "digraph {} {{", quote(&plan.score.name));
    let _ = writeln!(
        out,
        "  graph [label={}, labelloc=t, fontname=\"Helvetica\", fontsize=16, rankdir=LR, newrank=true, nodesep=0.25, ranksep=0.5];",
        quote(&plan.score.title)
    );
    out.push_str(
        "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=11];\n",
    );
    out.push_str("  edge [color=\"#757575\", arrowsize=0.7];\n");

    let PlanIndex {
        critical,
        critical_edges,
        by_id,
    } = PlanIndex::new(plan);
    for (i, wave) in plan.waves.iter().enumerate() {
        let _ = writeln!(out, "\n  subgraph cluster_wave_{} {{", i + 1);
        let _ = writeln!(
            out,
            "    label=\"wave {}\"; rank=same; style=dashed; color=\"#9e9e9e\"; fontcolor=\"#616161\"; fontsize=11;",
            i + 1
        );
        for id in wave {
            let Some(task) = by_id.get(id.as_str()) else {
                continue;
            };
            let (fill, border) = colours(task.complexity);
            let label = format!(
                "{}\n{} · {} · {}",
                task.id,
                task.agent,
                task.complexity,
                format_duration(task.estimate_ms)
            );
            let emphasis = if critical.contains(id.as_str()) {
                format!(", color=\"{CRITICAL}\", penwidth=2.5")
            } else {
                format!(", color=\"{border}\"")
            };
            let _ = writeln!(
                out,
                "    {} [label={}, fillcolor=\"{fill}\"{emphasis}];",
                quote(id),
                quote(&label)
            );
        }
        out.push_str("  }\n");
    }

    let mut edges = Vec::new();
    for task in &plan.tasks {
        for dep in &task.depends_on {
            edges.push((dep.as_str(), task.id.as_str()));
        }
    }
    edges.sort_unstable();
    if !edges.is_empty() {
        out.push('\n');
    }
    for (from, to) in edges {
        if critical_edges.contains(&(from, to)) {
            let _ = writeln!(
                out,
                "  {} -> {} [color=\"{CRITICAL}\", penwidth=2.5];",
                quote(from),
                quote(to)
            );
        } else {
            let _ = writeln!(out, "  {} -> {};", quote(from), quote(to));
        }
    }

    // The legend: one swatch per complexity, and the critical path.
    out.push_str("\n  subgraph cluster_legend {\n");
    out.push_str("    label=\"legend\"; style=solid; color=\"#bdbdbd\"; fontcolor=\"#616161\"; fontsize=11;\n");
    for c in Complexity::ALL {
        let (fill, border) = colours(c);
        let _ = writeln!(
            out,
            "    \"legend:{c}\" [label=\"{c}\", fillcolor=\"{fill}\", color=\"{border}\"];"
        );
    }
    let _ = writeln!(
        out,
        "    \"legend:critical\" [label=\"critical path\", fillcolor=\"#ffffff\", color=\"{CRITICAL}\", penwidth=2.5];"
    );
    out.push_str("    \"legend:routine\" -> \"legend:moderate\" -> \"legend:complex\" -> \"legend:critical\" [style=invis];\n");
    out.push_str("  }\n");
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}
