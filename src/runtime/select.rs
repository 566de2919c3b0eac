//! What a run plays: `--only PART` (and what it needs) and
//! `--agent NAME=OTHER` (play a part with another agent).

use crate::plan::hash::assign_hashes;
use crate::plan::{Agent, Complexity, Plan, Provider};
use std::collections::{BTreeSet, HashMap};

/// The agent `--agent X=mock` means when the plan has no agent `mock`: the
/// standard library's, built in.
pub fn builtin_mock() -> Agent {
    Agent {
        tier: Complexity::Complex,
        concurrency: None,
        price_in: None,
        price_out: None,
        doc: Some("The built-in mock agent: well-typed values, no network.".into()),
        writes: Vec::new(),
        reads: None,
        confinement: Default::default(),
        provider: Provider::Mock {
            latency_ms: None,
            fail_rate: None,
            seed: None,
        },
    }
}

/// Applies `--agent NAME=OTHER` (NAME may be `*` for every agent). The
/// tasks' hashes are recomputed: the same prompt given to another agent is
/// another piece of work. Returns warnings (an agent of a lower tier than
/// the parts it now plays).
pub fn override_agents(plan: &mut Plan, overrides: &[String]) -> Result<Vec<String>, String> {
    if overrides.is_empty() {
        return Ok(Vec::new());
    }
    let mut map: HashMap<String, String> = HashMap::new();
    for arg in overrides {
        let Some((from, to)) = arg.split_once('=') else {
            return Err(format!(
                "`--agent {arg}`: write `--agent NAME=OTHER` (or `--agent '*=mock'` for every agent)"
            ));
        };
        let (from, to) = (from.trim(), to.trim());
        if to == "mock" && !plan.agents.contains_key("mock") {
            plan.agents.insert("mock".into(), builtin_mock());
        }
        if !plan.agents.contains_key(to) {
            return Err(format!(
                "`--agent {arg}`: the plan has no agent `{to}`; its agents are: {} (and the built-in `mock`)",
                names(plan)
            ));
        }
        if from != "*" && !plan.agents.contains_key(from) {
            return Err(format!(
                "`--agent {arg}`: the plan has no agent `{from}`; its agents are: {}",
                names(plan)
            ));
        }
        map.insert(from.to_string(), to.to_string());
    }
    let mut warnings = BTreeSet::new();
    for task in &mut plan.tasks {
        let to = map.get(&task.agent).or_else(|| map.get("*")).cloned();
        if let Some(to) = to
            && to != task.agent
        {
            let tier = plan.agents[&to].tier;
            if tier < task.complexity {
                warnings.insert(format!(
                    "agent `{to}` (tier {tier}) now plays `{}`, a {} part",
                    task.id, task.complexity
                ));
            }
            task.agent = to;
        }
    }
    let used: BTreeSet<String> = plan.tasks.iter().map(|t| t.agent.clone()).collect();
    plan.agents.retain(|id, _| used.contains(id));
    assign_hashes(plan);
    Ok(warnings.into_iter().collect())
}

fn names(plan: &Plan) -> String {
    plan.agents
        .keys()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Keeps only the named tasks and everything they need (their transitive
/// dependencies). Hashes do not change: a task's hash covers only what is
/// upstream of it.
pub fn only(plan: &mut Plan, parts: &[String]) -> Result<(), String> {
    if parts.is_empty() {
        return Ok(());
    }
    let index = plan.index();
    let mut keep = vec![false; plan.tasks.len()];
    let mut stack = Vec::new();
    for part in parts {
        let Some(&i) = index.get(part.as_str()) else {
            let ids: Vec<&str> = plan.tasks.iter().map(|t| t.id.as_str()).collect();
            let hint = match crate::diagnostics::suggest::best_match(part, ids.iter().copied()) {
                Some(close) => format!(" (did you mean `{close}`?)"),
                None if ids.len() <= 30 => format!("; its parts are: {}", ids.join(", ")),
                None => String::new(),
            };
            return Err(format!(
                "`--only {part}`: the plan has no part `{part}`{hint}"
            ));
        };
        stack.push(i);
    }
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut keep[i], true) {
            continue;
        }
        for dep in &plan.tasks[i].depends_on {
            if let Some(&d) = index.get(dep.as_str()) {
                stack.push(d);
            }
        }
    }
    let kept: BTreeSet<String> = plan
        .tasks
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(t, _)| t.id.clone())
        .collect();
    plan.tasks.retain(|t| kept.contains(&t.id));
    for wave in &mut plan.waves {
        wave.retain(|id| kept.contains(id));
    }
    plan.waves.retain(|w| !w.is_empty());
    let used: BTreeSet<String> = plan.tasks.iter().map(|t| t.agent.clone()).collect();
    plan.agents.retain(|id, _| used.contains(id));
    Ok(())
}
