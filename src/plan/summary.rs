//! `score plan`: a summary of a plan for a person at a terminal.
//!
//! It answers the questions one asks before spending money on a run: what
//! runs together, how long it will take at best, who does the hard work,
//! what it may cost, and what will slow it down.

use super::types::{Budget, Complexity, Plan, Task, format_duration, group_thousands};
use std::collections::{BTreeMap, BTreeSet};

/// The summary as plain text (no colour), ending with a line break.
pub fn summary(plan: &Plan) -> String {
    let mut out = String::new();
    let agents: BTreeSet<&str> = plan.tasks.iter().map(|t| t.agent.as_str()).collect();
    out.push_str(&format!(
        "{} ({}): {}, {}, {}\n",
        plan.score.title,
        plan.score.name,
        count(plan.tasks.len(), "task"),
        count(plan.waves.len(), "wave"),
        count(agents.len(), "agent"),
    ));
    if plan.tasks.is_empty() {
        out.push_str("\nThe score has no parts, so there is nothing to run.\n");
        return out;
    }
    let by_id: BTreeMap<&str, &Task> = plan.tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    let critical: BTreeSet<&str> = plan
        .critical_path
        .tasks
        .iter()
        .map(String::as_str)
        .collect();

    out.push_str("\nWaves (* on the critical path)\n");
    let mut rows = Vec::new();
    for (i, wave) in plan.waves.iter().enumerate() {
        for (j, id) in wave.iter().enumerate() {
            let Some(task) = by_id.get(id.as_str()) else {
                continue;
            };
            let mut notes = Vec::new();
            if task.approve.is_some() {
                notes.push("needs approval");
            }
            rows.push(vec![
                if j == 0 {
                    format!("{}", i + 1)
                } else {
                    String::new()
                },
                if critical.contains(id.as_str()) {
                    "*".into()
                } else {
                    String::new()
                },
                id.clone(),
                task.agent.clone(),
                task.complexity.to_string(),
                format_duration(task.estimate_ms),
                notes.join(", "),
            ]);
        }
    }
    table(
        &mut out,
        &[],
        &rows,
        &[
            Align::Right,
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Right,
            Align::Left,
        ],
    );

    out.push_str(&format!(
        "\nCritical path: {} ({})\n  {}\n",
        format_duration(plan.critical_path.estimate_ms),
        count(plan.critical_path.tasks.len(), "task"),
        plan.critical_path.tasks.join(" → ")
    ));

    complexity_table(plan, &mut out);
    budget(plan, &mut out);

    let approvals: Vec<Vec<String>> = plan
        .tasks
        .iter()
        .filter_map(|t| {
            t.approve
                .as_ref()
                .map(|who| vec![t.id.clone(), who.clone()])
        })
        .collect();
    if !approvals.is_empty() {
        out.push_str("\nApprovals (the run pauses until a person signs off)\n");
        table(&mut out, &[], &approvals, &[Align::Left, Align::Left]);
    }

    let warnings = warnings(plan);
    if !warnings.is_empty() {
        out.push_str("\nWarnings\n");
        for w in warnings {
            out.push_str("  - ");
            out.push_str(&w);
            out.push('\n');
        }
    }
    out
}

fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

/// Appends an indented table; trailing spaces are trimmed.
fn table(out: &mut String, header: &[&str], rows: &[Vec<String>], align: &[Align]) {
    let columns = align.len();
    let mut widths = vec![0usize; columns];
    let all = std::iter::once(header.iter().map(|h| h.to_string()).collect::<Vec<_>>())
        .filter(|h| !h.is_empty())
        .chain(rows.iter().cloned())
        .collect::<Vec<_>>();
    for row in &all {
        for (i, cell) in row.iter().enumerate().take(columns) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    for row in &all {
        let mut line = String::from(" ");
        for (i, cell) in row.iter().enumerate().take(columns) {
            // An empty column (e.g. no task needs approval) takes no room.
            if widths[i] == 0 {
                continue;
            }
            let pad = widths[i] - cell.chars().count();
            line.push(' ');
            match align[i] {
                Align::Left => {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad));
                }
                Align::Right => {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

#[derive(Default, Clone, Copy)]
struct Tally {
    tasks: usize,
    ms: u64,
}

impl Tally {
    fn add(&mut self, task: &Task) {
        self.tasks += 1;
        self.ms += task.estimate_ms;
    }

    fn cell(self) -> String {
        if self.tasks == 0 {
            "-".into()
        } else {
            format!("{} · {}", self.tasks, format_duration(self.ms))
        }
    }
}

fn complexity_table(plan: &Plan, out: &mut String) {
    let mut per_agent: BTreeMap<&str, [Tally; 3]> = BTreeMap::new();
    let mut all = [Tally::default(); 3];
    for task in &plan.tasks {
        let i = task.complexity as usize;
        per_agent.entry(&task.agent).or_default()[i].add(task);
        all[i].add(task);
    }
    out.push_str("\nComplexity (tasks · estimated time)\n");
    let mut rows = Vec::new();
    let row = |name: &str, t: &[Tally; 3]| {
        let total = t.iter().fold(Tally::default(), |a, b| Tally {
            tasks: a.tasks + b.tasks,
            ms: a.ms + b.ms,
        });
        let mut r = vec![name.to_string()];
        r.extend(t.iter().map(|x| x.cell()));
        r.push(total.cell());
        r
    };
    for (agent, t) in &per_agent {
        rows.push(row(agent, t));
    }
    if per_agent.len() > 1 {
        rows.push(row("all agents", &all));
    }
    let mut header = vec!["agent"];
    header.extend(Complexity::ALL.iter().map(|c| c.as_str()));
    header.push("total");
    table(
        out,
        &header,
        &rows,
        &[
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Left,
        ],
    );
}

/// Part budgets added up: how many parts have one, and their sum (also
/// `score mcp`'s `plan` tool).
pub(crate) fn parts_budget(plan: &Plan) -> (usize, Budget) {
    let mut n = 0;
    let mut total = Budget::default();
    for b in plan.tasks.iter().filter_map(|t| t.budget.as_ref()) {
        n += 1;
        if let Some(t) = b.tokens {
            total.tokens = Some(total.tokens.unwrap_or(0).saturating_add(t));
        }
        if let Some(u) = b.usd {
            total.usd = Some(total.usd.unwrap_or(0.0) + u);
        }
    }
    (n, total)
}

fn budget(plan: &Plan, out: &mut String) {
    out.push_str("\nBudget\n");
    match &plan.score.budget {
        Some(b) if !b.is_empty() => out.push_str(&format!("  score: {b}\n")),
        _ => out.push_str("  score: no budget (the run is not limited)\n"),
    }
    let (n, total) = parts_budget(plan);
    if n > 0 {
        out.push_str(&format!(
            "  parts: {} of {} have their own budget, together {total}\n",
            n,
            plan.tasks.len()
        ));
    }
}

/// What will slow the run down, one sentence each (also `score mcp`'s
/// `plan` tool).
pub(crate) fn warnings(plan: &Plan) -> Vec<String> {
    let mut warnings = Vec::new();
    let cp = plan.critical_path.estimate_ms;
    let score_limit = plan.score.concurrency.map(u64::from);

    // An agent whose own work, spread over as many tasks at once as it may
    // run, takes longer than the critical path: it sets the pace.
    let mut work: BTreeMap<&str, (usize, u64)> = BTreeMap::new();
    for task in &plan.tasks {
        let w = work.entry(&task.agent).or_default();
        w.0 += 1;
        w.1 += task.estimate_ms;
    }
    let mut agent_flagged = false;
    for (name, (tasks, ms)) in &work {
        let agent_limit = plan
            .agents
            .get(*name)
            .and_then(|a| a.concurrency)
            .map(u64::from);
        let (limit, by) = match (agent_limit, score_limit) {
            (Some(a), Some(s)) if s < a => (s, format!("the score's concurrency {s}")),
            (Some(a), _) => (a, format!("its concurrency {a}")),
            (None, Some(s)) => (s, format!("the score's concurrency {s}")),
            (None, None) => continue,
        };
        let floor = ms.div_ceil(limit.max(1));
        if floor > cp && *tasks as u64 > limit {
            agent_flagged = true;
            warnings.push(format!(
                "agent `{name}` will be the bottleneck: its {} add up to {}, so with {by} they take at least {}, longer than the critical path ({}); raise its `concurrency` or move parts to another agent",
                count(*tasks, "task"),
                format_duration(*ms),
                format_duration(floor),
                format_duration(cp),
            ));
        }
    }
    if let Some(limit) = score_limit
        && !agent_flagged
    {
        let total: u64 = plan.tasks.iter().map(|t| t.estimate_ms).sum();
        let floor = total.div_ceil(limit.max(1));
        if floor > cp {
            warnings.push(format!(
                "the score's concurrency {limit} will be the bottleneck: all tasks add up to {}, so the run takes at least {}, longer than the critical path ({}); raise `concurrency` in the score",
                format_duration(total),
                format_duration(floor),
                format_duration(cp),
            ));
        }
    }

    // Waves with more tasks of one agent than it may run at once: those
    // tasks queue behind each other although the score lets them overlap.
    let by_id: BTreeMap<&str, &Task> = plan.tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut crowded: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (i, wave) in plan.waves.iter().enumerate() {
        let mut per_agent: BTreeMap<&str, u64> = BTreeMap::new();
        for id in wave {
            if let Some(t) = by_id.get(id.as_str()) {
                *per_agent.entry(t.agent.as_str()).or_default() += 1;
            }
        }
        for (agent, n) in per_agent {
            let limit = plan.agents.get(agent).and_then(|a| a.concurrency);
            if let Some(limit) = limit
                && n > u64::from(limit)
            {
                crowded
                    .entry(agent)
                    .or_default()
                    .push(format!("wave {} has {n}", i + 1));
            }
        }
    }
    for (agent, waves) in crowded {
        let limit = plan
            .agents
            .get(agent)
            .and_then(|a| a.concurrency)
            .unwrap_or(1);
        let shown: Vec<&str> = waves.iter().take(5).map(String::as_str).collect();
        let more = if waves.len() > shown.len() {
            format!(" (and {} more waves)", waves.len() - shown.len())
        } else {
            String::new()
        };
        warnings.push(format!(
            "agent `{agent}` runs at most {} at once, but {}{more}: those tasks will wait for each other",
            count(limit as usize, "task"),
            shown.join(", "),
        ));
    }

    let (_, total) = parts_budget(plan);
    if let Some(score) = &plan.score.budget {
        if let (Some(limit), Some(sum)) = (score.tokens, total.tokens)
            && sum > limit
        {
            warnings.push(format!(
                "the parts' own budgets add up to {} tokens, more than the score's {} tokens",
                group_thousands(sum),
                group_thousands(limit)
            ));
        }
        if let (Some(limit), Some(sum)) = (score.usd, total.usd)
            && sum > limit
        {
            warnings.push(format!(
                "the parts' own budgets add up to ${sum:.2}, more than the score's ${limit:.2}"
            ));
        }
    }

    for task in &plan.tasks {
        if task.timeout_ms < task.estimate_ms {
            warnings.push(format!(
                "part `{}` has a timeout of {}, shorter than its estimate of {}: it will likely be stopped before it finishes",
                task.id,
                format_duration(task.timeout_ms),
                format_duration(task.estimate_ms)
            ));
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::{AGENT, task};
    use crate::plan::types::MINUTE_MS;

    /// The fixture plan with a budget of 1 000 tokens and these limits.
    fn plan(tasks: Vec<Task>, concurrency: Option<u32>, agent_concurrency: Option<u32>) -> Plan {
        let mut plan = crate::plan::fixtures::plan(tasks);
        plan.score.concurrency = concurrency;
        plan.score.budget = Some(Budget {
            tokens: Some(1000),
            usd: None,
        });
        if let Some(agent) = plan.agents.get_mut(AGENT) {
            agent.concurrency = agent_concurrency;
        }
        plan
    }

    #[test]
    fn lists_waves_critical_path_and_complexity() {
        let mut t = vec![
            task("model", &[], 60 * MINUTE_MS),
            task("store", &["model"], 10 * MINUTE_MS),
            task("docs", &["model"], 10 * MINUTE_MS),
        ];
        t[0].complexity = Complexity::Complex;
        t[1].budget = Some(Budget {
            tokens: Some(5000),
            usd: None,
        });
        let text = summary(&plan(t, None, None));
        assert!(
            text.starts_with("Demo (demo): 3 tasks, 2 waves, 1 agent\n"),
            "{text}"
        );
        // `docs` and `store` tie: the smaller id wins.
        assert!(
            text.contains("Critical path: 1h10m (2 tasks)\n  model → docs\n"),
            "{text}"
        );
        assert!(text.contains("\n  1 * model a complex  1h\n  2 * docs  a routine 10m\n      store a routine 10m\n"), "{text}");
        assert!(
            text.contains("\n  a     2 · 20m -        1 · 1h  3 · 1h20m\n"),
            "{text}"
        );
        assert!(
            text.contains("parts: 1 of 3 have their own budget, together 5_000 tokens"),
            "{text}"
        );
        assert!(
            text.contains("more than the score's 1_000 tokens"),
            "{text}"
        );
    }

    #[test]
    fn flags_an_agent_that_sets_the_pace() {
        let t: Vec<Task> = (0..6)
            .map(|i| task(&format!("t{i}"), &[], 10 * MINUTE_MS))
            .collect();
        let text = summary(&plan(t.clone(), None, Some(2)));
        assert!(text.contains("agent `a` will be the bottleneck"), "{text}");
        assert!(
            text.contains("at least 30m, longer than the critical path (10m)"),
            "{text}"
        );
        assert!(
            text.contains("agent `a` runs at most 2 tasks at once, but wave 1 has 6: those tasks will wait for each other"),
            "{text}"
        );
        // Enough concurrency: no warning.
        let text = summary(&plan(t.clone(), None, Some(6)));
        assert!(
            !text.contains("bottleneck") && !text.contains("Warnings"),
            "{text}"
        );
        // The score's limit is the tighter one.
        let text = summary(&plan(t, Some(3), Some(6)));
        assert!(text.contains("with the score's concurrency 3"), "{text}");
    }

    #[test]
    fn an_empty_plan_says_so() {
        let text = summary(&plan(vec![], None, None));
        assert!(text.contains("nothing to run"), "{text}");
    }
}
