//! The order of parts: the graph made of every `sequence` chain and every
//! input binding, its cycles (E0301), a topological order, and reachability
//! for "may these two parts run at the same time?".
//!
//! Reachability is a bitset of descendants per strongly connected
//! component, filled in reverse topological order: O(c²/64) words and
//! O(e·c/64) time for c components and e edges, so 10 000 parts take about
//! 12 MB and a few milliseconds. Parts on a cycle are condensed into one
//! node, so with a cycle the later phases still get an order and answers.

use super::resolve::{self, Want};
use super::{Ctx, ItemId, suggest};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::{Edge, EdgeCause, PartId, Reachability};
use crate::source::FileId;
use crate::syntax::ast::Item;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};

/// The strongly connected components of a graph (Tarjan's algorithm,
/// iterative so that deep graphs cannot overflow the stack), each listed
/// once; a component is emitted after every component reachable from it.
pub(crate) fn strongly_connected(adjacency: &[Vec<u32>]) -> Vec<Vec<u32>> {
    const UNVISITED: u32 = u32::MAX;
    let n = adjacency.len();
    let mut index = vec![UNVISITED; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut components = Vec::new();
    let mut next = 0u32;
    let mut calls: Vec<(u32, usize)> = Vec::new();
    for root in 0..n as u32 {
        if index[root as usize] != UNVISITED {
            continue;
        }
        index[root as usize] = next;
        low[root as usize] = next;
        next += 1;
        stack.push(root);
        on_stack[root as usize] = true;
        calls.push((root, 0));
        while let Some(&mut (v, ref mut position)) = calls.last_mut() {
            let successors = &adjacency[v as usize];
            if *position < successors.len() {
                let w = successors[*position];
                *position += 1;
                if index[w as usize] == UNVISITED {
                    index[w as usize] = next;
                    low[w as usize] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w as usize] = true;
                    calls.push((w, 0));
                } else if on_stack[w as usize] {
                    low[v as usize] = low[v as usize].min(index[w as usize]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(u, _)) = calls.last() {
                low[u as usize] = low[u as usize].min(low[v as usize]);
            }
            if low[v as usize] == index[v as usize] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w as usize] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    components
}

/// The shortest cycle through `start` using only nodes for which `keep`
/// holds, as edges `(from, to, label)` from `start` back to `start`.
/// `successors(n)` gives `(to, label)` pairs. Empty when there is none.
pub(crate) fn shortest_cycle(
    start: u32,
    successors: &dyn Fn(u32) -> Vec<(u32, u32)>,
    keep: &dyn Fn(u32) -> bool,
) -> Vec<(u32, u32, u32)> {
    let mut parent: HashMap<u32, (u32, u32)> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for (w, label) in successors(v) {
            if w == start {
                // Walk back from v to start.
                let mut path = vec![(v, w, label)];
                let mut node = v;
                while node != start {
                    let (from, label) = parent[&node];
                    path.push((from, node, label));
                    node = from;
                }
                path.reverse();
                return path;
            }
            if keep(w) && !parent.contains_key(&w) {
                parent.insert(w, (v, label));
                queue.push_back(w);
            }
        }
    }
    Vec::new()
}

/// Build the part graph, report its cycles, fill `edges`, `order` and each
/// part's `after`, and return the reachability for the boundary checks.
pub(crate) fn order(cx: &mut Ctx<'_>) -> Reachability {
    let n = cx.model.parts.len();
    let mut edges: Vec<Edge> = Vec::new();
    let mut seen: HashSet<(u32, u32)> = HashSet::new();
    let mut add = |edges: &mut Vec<Edge>, from: PartId, to: PartId, cause: EdgeCause| {
        if seen.insert((from.0, to.0)) {
            edges.push(Edge { from, to, cause });
        }
    };

    let input = cx.input;
    for (f, file) in input.files.iter().enumerate() {
        let file_id = FileId(f as u32);
        for item in &file.items {
            let Item::Sequence(sequence) = item else {
                continue;
            };
            for chain in &sequence.chains {
                let steps: Vec<Vec<PartId>> = chain
                    .steps
                    .iter()
                    .map(|step| {
                        step.parts()
                            .iter()
                            .filter_map(|path| {
                                match resolve::resolve(cx, file_id, path, Want::Part) {
                                    Some(ItemId::Part(id)) => Some(id),
                                    _ => None,
                                }
                            })
                            .collect()
                    })
                    .collect();
                for (i, pair) in steps.windows(2).enumerate() {
                    let arrow = chain.arrows.get(i).copied().unwrap_or(chain.span);
                    for &from in &pair[0] {
                        for &to in &pair[1] {
                            add(&mut edges, from, to, EdgeCause::Sequence(arrow));
                        }
                    }
                }
            }
        }
    }
    for &(from, to, span) in &cx.binding_edges {
        add(&mut edges, from, to, EdgeCause::Binding(span));
    }

    // succ[v] = (to, edge index)
    let mut succ: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
    for (i, edge) in edges.iter().enumerate() {
        succ[edge.from.index()].push((edge.to.0, i as u32));
    }
    let adjacency: Vec<Vec<u32>> = succ
        .iter()
        .map(|s| s.iter().map(|(to, _)| *to).collect())
        .collect();
    let components = strongly_connected(&adjacency);
    let mut component_of = vec![0u32; n];
    for (c, members) in components.iter().enumerate() {
        for &m in members {
            component_of[m as usize] = c as u32;
        }
    }
    let cyclic: Vec<bool> = components
        .iter()
        .map(|members| members.len() > 1 || adjacency[members[0] as usize].contains(&members[0]))
        .collect();

    // One E0301 per cycle, in source order of its first part.
    let mut cycles: Vec<usize> = (0..components.len()).filter(|&c| cyclic[c]).collect();
    cycles.sort_by_key(|&c| components[c].iter().min().copied());
    for c in cycles {
        let diag = cycle_diagnostic(cx, &components[c], &succ, &component_of, c as u32, &edges);
        cx.report(diag);
    }

    // Topological order of the components; among those ready, the one with
    // the smallest part id first, so the order follows the declarations.
    let count = components.len();
    let mut component_succ: Vec<Vec<u32>> = vec![Vec::new(); count];
    let mut indegree = vec![0u32; count];
    let mut component_edges: HashSet<(u32, u32)> = HashSet::new();
    for edge in &edges {
        let (a, b) = (
            component_of[edge.from.index()],
            component_of[edge.to.index()],
        );
        if a != b && component_edges.insert((a, b)) {
            component_succ[a as usize].push(b);
            indegree[b as usize] += 1;
        }
    }
    let min_member: Vec<u32> = components
        .iter()
        .map(|m| *m.iter().min().expect("components are not empty"))
        .collect();
    let mut ready: BinaryHeap<Reverse<(u32, u32)>> = (0..count as u32)
        .filter(|&c| indegree[c as usize] == 0)
        .map(|c| Reverse((min_member[c as usize], c)))
        .collect();
    let mut topo_rank = vec![0u32; count];
    let mut order = Vec::with_capacity(n);
    let mut rank = 0;
    while let Some(Reverse((_, c))) = ready.pop() {
        topo_rank[c as usize] = rank;
        rank += 1;
        let mut members = components[c as usize].clone();
        members.sort_unstable();
        order.extend(members.into_iter().map(PartId));
        for &s in &component_succ[c as usize] {
            indegree[s as usize] -= 1;
            if indegree[s as usize] == 0 {
                ready.push(Reverse((min_member[s as usize], s)));
            }
        }
    }
    debug_assert_eq!(order.len(), n, "the condensation is acyclic");

    // Renumber components topologically for the reachability bitsets.
    let mut ranked_succ: Vec<Vec<u32>> = vec![Vec::new(); count];
    let mut ranked_cyclic = vec![false; count];
    for c in 0..count {
        let r = topo_rank[c] as usize;
        ranked_succ[r] = component_succ[c]
            .iter()
            .map(|&s| topo_rank[s as usize])
            .collect();
        ranked_cyclic[r] = cyclic[c];
    }
    let node_rank: Vec<u32> = component_of
        .iter()
        .map(|&c| topo_rank[c as usize])
        .collect();
    let reachability = Reachability::new(node_rank, ranked_cyclic, &|c| ranked_succ[c].clone());

    for part in &mut cx.model.parts {
        part.after.clear();
    }
    for edge in &edges {
        cx.model.parts[edge.to.index()].after.push(edge.from);
    }
    for part in &mut cx.model.parts {
        part.after.sort_unstable();
        part.after.dedup();
    }
    cx.model.edges = edges;
    cx.model.order = order;
    reachability
}

fn cycle_diagnostic(
    cx: &Ctx<'_>,
    members: &[u32],
    succ: &[Vec<(u32, u32)>],
    component_of: &[u32],
    component: u32,
    edges: &[Edge],
) -> Diagnostic {
    let start = *members.iter().min().expect("components are not empty");
    let cycle = shortest_cycle(start, &|v| succ[v as usize].clone(), &|v| {
        component_of[v as usize] == component
    });
    let name = |id: u32| cx.model.parts[id as usize].decl.name.as_str();
    let mut names: Vec<String> = cycle
        .iter()
        .map(|&(from, _, _)| format!("`{}`", name(from)))
        .collect();
    names.push(format!("`{}`", name(start)));
    let mut diag = Diagnostic::new(
        Code::E0301,
        format!("the parts form a cycle: {}", names.join(" → ")),
    );
    for (i, &(from, to, edge)) in cycle.iter().enumerate() {
        let (span, label) = match edges[edge as usize].cause {
            EdgeCause::Sequence(span) => {
                (span, format!("`{}` runs before `{}`", name(from), name(to)))
            }
            EdgeCause::Binding(span) => (
                span,
                format!("`{}` takes an input from `{}`", name(to), name(from)),
            ),
        };
        diag = if i == 0 {
            diag.primary(span, label)
        } else {
            diag.secondary(span, label)
        };
    }
    let in_cycle: HashSet<u32> = cycle.iter().map(|&(from, _, _)| from).collect();
    let mut others: Vec<&str> = members
        .iter()
        .filter(|m| !in_cycle.contains(m))
        .map(|&m| name(m))
        .collect();
    others.sort_unstable();
    if !others.is_empty() {
        diag = diag.note(format!(
            "{} {} caught in the same cycle",
            suggest::list(&others, 8),
            if others.len() == 1 { "is" } else { "are" }
        ));
    }
    diag.help("a part cannot wait for itself: remove one of these orderings")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn components_of_a_small_graph() {
        // 0 -> 1 -> 2 -> 0, 2 -> 3, 4 -> 4
        let adjacency = vec![vec![1], vec![2], vec![0, 3], vec![], vec![4]];
        let mut components: Vec<Vec<u32>> = strongly_connected(&adjacency)
            .into_iter()
            .map(|mut c| {
                c.sort_unstable();
                c
            })
            .collect();
        // Reverse topological: {3} comes before {0, 1, 2}.
        let pos3 = components.iter().position(|c| c == &vec![3]).unwrap();
        let pos012 = components.iter().position(|c| c == &vec![0, 1, 2]).unwrap();
        assert!(pos3 < pos012);
        components.sort();
        assert_eq!(components, vec![vec![0, 1, 2], vec![3], vec![4]]);
    }

    #[test]
    fn deep_chains_do_not_overflow() {
        let n = 200_000u32;
        let adjacency: Vec<Vec<u32>> = (0..n)
            .map(|i| if i + 1 < n { vec![i + 1] } else { vec![] })
            .collect();
        assert_eq!(strongly_connected(&adjacency).len(), n as usize);
    }

    #[test]
    fn shortest_cycle_is_found() {
        // 0 -> 1 -> 2 -> 0 and a shortcut 0 -> 2
        let succ = [vec![(1, 10), (2, 11)], vec![(2, 12)], vec![(0, 13)]];
        let cycle = shortest_cycle(0, &|v| succ[v as usize].clone(), &|_| true);
        assert_eq!(cycle, vec![(0, 2, 11), (2, 0, 13)]);
        let self_loop = [vec![(0, 7)]];
        assert_eq!(
            shortest_cycle(0, &|v| self_loop[v as usize].clone(), &|_| true),
            vec![(0, 0, 7)]
        );
    }
}

#[cfg(test)]
mod check_tests {
    use super::super::testing::{BASE, base_with, check_one};
    use crate::diagnostics::Code;
    use crate::model::PartId;

    #[test]
    fn cycles_are_named_in_full() {
        let outcome = check_one(&format!("{BASE}\nsequence {{ store -> model }}\n"));
        let d = outcome.single(Code::E0301);
        assert_eq!(
            d.message,
            "the parts form a cycle: `model` → `store` → `model`"
        );
        assert_eq!(outcome.label_texts(d), vec!["->", "->"]);
    }

    #[test]
    fn bindings_close_cycles_too() {
        let outcome = check_one(&base_with("model -> store", "store -> model"));
        let d = outcome.single(Code::E0301);
        assert_eq!(
            d.message,
            "the parts form a cycle: `model` → `store` → `model`"
        );
        assert_eq!(
            outcome.label_texts(d),
            vec!["link_type = model.link_type", "->"]
        );
        // the order is still total
        assert_eq!(outcome.checked.model.order.len(), 2);
    }

    #[test]
    fn groups_and_order() {
        let text = format!(
            "{BASE}\npart a {{ serves shorten }}\npart b {{ serves shorten }}\npart c {{ serves shorten }}\n\
             sequence {{ a -> [b, c] -> store }}\n"
        );
        let outcome = check_one(&text);
        outcome.assert_clean();
        let model = &outcome.checked.model;
        let id = |n: &str| model.find_part(n).unwrap();
        assert!(model.may_run_together(id("b"), id("c")));
        assert!(!model.may_run_together(id("a"), id("store")));
        assert!(model.reaches(id("a"), id("store")));
        assert!(model.may_run_together(id("model"), id("a")));
        let position = |p: PartId| model.order.iter().position(|q| *q == p).unwrap();
        assert!(position(id("a")) < position(id("b")));
        assert!(position(id("c")) < position(id("store")));
        assert_eq!(
            model.part(id("store")).after,
            vec![id("model"), id("b"), id("c")]
        );
    }

    #[test]
    fn a_long_cycle() {
        let text = format!(
            "{BASE}\npart a {{ serves shorten }}\npart b {{ serves shorten }}\npart c {{ serves shorten }}\n\
             sequence {{\n  a -> b\n  b -> c\n  c -> a\n  c -> model\n}}\n"
        );
        let outcome = check_one(&text);
        let d = outcome.single(Code::E0301);
        assert_eq!(d.message, "the parts form a cycle: `a` → `b` → `c` → `a`");
        assert_eq!(d.labels.len(), 3);
    }
}
