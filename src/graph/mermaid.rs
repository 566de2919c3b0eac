//! Mermaid flowchart output (renders in GitHub Markdown).

use super::{CRITICAL, PlanIndex, colours};
use crate::plan::Plan;
use crate::plan::types::{Complexity, format_duration};
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

/// Text inside a Mermaid `["..."]` label: quotes and angle brackets become
/// entity codes, the only escapes Mermaid understands there.
fn label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            '\n' => out.push_str("<br/>"),
            c => out.push(c),
        }
    }
    out
}

/// Node ids: `p_` + the task id with anything but letters, digits and `_`
/// replaced by `_` (Mermaid reserves words such as `end`, hence the
/// prefix); a numeric suffix keeps them unique.
fn node_ids(plan: &Plan) -> BTreeMap<&str, String> {
    let mut used = HashSet::new();
    let mut ids = BTreeMap::new();
    for task in &plan.tasks {
        let base: String = std::iter::once("p_".to_string())
            .chain(task.id.chars().map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c.to_string()
                } else {
                    "_".to_string()
                }
            }))
            .collect();
        let mut id = base.clone();
        let mut n = 2;
        while !used.insert(id.clone()) {
            id = format!("{base}_{n}");
            n += 1;
        }
        ids.insert(task.id.as_str(), id);
    }
    ids
}

/// The plan's task graph as a Mermaid flowchart: one subgraph per wave, left
/// to right; nodes coloured by complexity; the critical path with thick
/// arrows.
pub fn to_mermaid(plan: &Plan) -> String {
    let ids = node_ids(plan);
    let mut out = String::new();
    // YAML front matter must come first; a double-quoted YAML string
    // escapes `\` and `"` with a backslash.
    let title = plan
        .score
        .title
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    let _ = writeln!(out, "---\ntitle: \"{title}\"\n---");
    out.push_str("flowchart LR\n");
    let _ = writeln!(
        out,
        "  %% The task graph of the score `{}`, drawn by `score graph`.",
        plan.score.name
    );

    let PlanIndex {
        critical,
        critical_edges,
        by_id,
    } = PlanIndex::new(plan);
    for (i, wave) in plan.waves.iter().enumerate() {
        let _ = writeln!(out, "  subgraph wave_{}[\"wave {}\"]", i + 1, i + 1);
        out.push_str("    direction TB\n");
        for id in wave {
            let (Some(task), Some(node)) = (by_id.get(id.as_str()), ids.get(id.as_str())) else {
                continue;
            };
            let text = format!(
                "<b>{}</b><br/>{} · {} · {}",
                label(&task.id),
                label(&task.agent),
                task.complexity,
                format_duration(task.estimate_ms)
            );
            let _ = writeln!(out, "    {node}[\"{text}\"]");
        }
        out.push_str("  end\n");
    }

    let mut edges = Vec::new();
    for task in &plan.tasks {
        for dep in &task.depends_on {
            edges.push((dep.as_str(), task.id.as_str()));
        }
    }
    edges.sort_unstable();
    for (from, to) in edges {
        let (Some(a), Some(b)) = (ids.get(from), ids.get(to)) else {
            continue;
        };
        let arrow = if critical_edges.contains(&(from, to)) {
            "==>"
        } else {
            "-->"
        };
        let _ = writeln!(out, "  {a} {arrow} {b}");
    }

    for c in Complexity::ALL {
        let (fill, border) = colours(c);
        let _ = writeln!(
            out,
            "  classDef {c} fill:{fill},stroke:{border},color:#212121"
        );
    }
    let _ = writeln!(
        out,
        "  classDef critical stroke:{CRITICAL},stroke-width:3px"
    );
    for c in Complexity::ALL {
        let members: Vec<&str> = plan
            .tasks
            .iter()
            .filter(|t| t.complexity == c)
            .filter_map(|t| ids.get(t.id.as_str()).map(String::as_str))
            .collect();
        if !members.is_empty() {
            let _ = writeln!(out, "  class {} {c}", members.join(","));
        }
    }
    let on_path: Vec<&str> = plan
        .tasks
        .iter()
        .filter(|t| critical.contains(t.id.as_str()))
        .filter_map(|t| ids.get(t.id.as_str()).map(String::as_str))
        .collect();
    if !on_path.is_empty() {
        let _ = writeln!(out, "  class {} critical", on_path.join(","));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_escape_what_mermaid_would_misread() {
        assert_eq!(label("a \"b\" <c> #1"), "a #quot;b#quot; #lt;c#gt; #35;1");
    }
}
