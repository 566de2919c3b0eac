//! Waves and the critical path, computed on the plan's own task graph.
//!
//! A task's wave is the length of the longest chain of dependencies that
//! leads to it (tasks with no dependencies are in wave 0). So every
//! dependency of a task is in an earlier wave, and the tasks of one wave are
//! independent of each other: they may run together.
//!
//! The critical path is the chain whose estimates add up to the most: with
//! unlimited agents, the run cannot be shorter than that.

use super::types::{CriticalPath, Task};
use std::collections::HashMap;
use std::fmt;

/// The result of scheduling a list of tasks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The wave of each task, by index in the input slice.
    pub wave_of: Vec<usize>,
    /// Task ids per wave, sorted within a wave.
    pub waves: Vec<Vec<String>>,
    pub critical_path: CriticalPathResult,
}

/// The critical path as computed here (converted into the plan's
/// [`CriticalPath`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CriticalPathResult {
    /// Indices into the input slice, first to last.
    pub tasks: Vec<usize>,
    pub estimate_ms: u64,
}

/// Why a task graph cannot be scheduled. The checker rules out both for a
/// score (E0101, E0301); a hand-edited plan file may still have them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScheduleError {
    /// Two tasks have the same id.
    DuplicateTask(String),
    /// `task` depends on `dependency`, which is not a task of the plan.
    UnknownDependency { task: String, dependency: String },
    /// The dependencies form a cycle; the ids of the tasks on it, in order.
    Cycle(Vec<String>),
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleError::DuplicateTask(id) => {
                write!(
                    f,
                    "the plan has two tasks named `{id}`; task ids must be unique"
                )
            }
            ScheduleError::UnknownDependency { task, dependency } => write!(
                f,
                "task `{task}` depends on `{dependency}`, which is not a task of the plan"
            ),
            ScheduleError::Cycle(ids) => {
                let mut chain = ids.join(" -> ");
                if let Some(first) = ids.first() {
                    chain.push_str(" -> ");
                    chain.push_str(first);
                }
                write!(f, "the tasks depend on each other in a cycle: {chain}")
            }
        }
    }
}

impl std::error::Error for ScheduleError {}

/// Computes waves and the critical path of `tasks` (their `depends_on` and
/// `estimate_ms`). Deterministic: ties between equally long paths go to the
/// path that is smallest by task id.
pub fn schedule(tasks: &[Task]) -> Result<Schedule, ScheduleError> {
    let n = tasks.len();
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(n);
    for (i, t) in tasks.iter().enumerate() {
        if index.insert(t.id.as_str(), i).is_some() {
            return Err(ScheduleError::DuplicateTask(t.id.clone()));
        }
    }
    let mut deps: Vec<Vec<usize>> = Vec::with_capacity(n);
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, t) in tasks.iter().enumerate() {
        let mut ds = Vec::with_capacity(t.depends_on.len());
        for d in &t.depends_on {
            let Some(&j) = index.get(d.as_str()) else {
                return Err(ScheduleError::UnknownDependency {
                    task: t.id.clone(),
                    dependency: d.clone(),
                });
            };
            ds.push(j);
        }
        ds.sort_unstable();
        ds.dedup();
        for &j in &ds {
            dependents[j].push(i);
        }
        deps.push(ds);
    }

    let order = topological_order(tasks, &deps, &dependents)?;

    // Longest chains, walking dependencies first.
    let mut wave_of = vec![0usize; n];
    let mut finish = vec![0u64; n];
    let mut best_pred: Vec<Option<usize>> = vec![None; n];
    for &i in &order {
        let mut wave = 0;
        let mut start = 0u64;
        let mut pred: Option<usize> = None;
        for &j in &deps[i] {
            wave = wave.max(wave_of[j] + 1);
            let better = match pred {
                None => true,
                Some(p) => finish[j] > start || (finish[j] == start && tasks[j].id < tasks[p].id),
            };
            if better {
                start = finish[j];
                pred = Some(j);
            }
        }
        wave_of[i] = wave;
        finish[i] = start.saturating_add(tasks[i].estimate_ms);
        best_pred[i] = pred;
    }

    let wave_count = wave_of.iter().map(|w| w + 1).max().unwrap_or(0);
    let mut waves: Vec<Vec<String>> = vec![Vec::new(); wave_count];
    for (i, &w) in wave_of.iter().enumerate() {
        waves[w].push(tasks[i].id.clone());
    }
    for wave in &mut waves {
        wave.sort();
    }

    let mut critical_path = CriticalPathResult::default();
    let end = (0..n).max_by(|&a, &b| {
        finish[a]
            .cmp(&finish[b])
            // On a tie, prefer the smaller id (max_by keeps the last maximum).
            .then_with(|| tasks[b].id.cmp(&tasks[a].id))
    });
    if let Some(end) = end {
        critical_path.estimate_ms = finish[end];
        let mut cursor = Some(end);
        while let Some(i) = cursor {
            critical_path.tasks.push(i);
            cursor = best_pred[i];
        }
        critical_path.tasks.reverse();
    }

    Ok(Schedule {
        wave_of,
        waves,
        critical_path,
    })
}

/// Kahn's algorithm; reports a cycle with its members in order.
fn topological_order(
    tasks: &[Task],
    deps: &[Vec<usize>],
    dependents: &[Vec<usize>],
) -> Result<Vec<usize>, ScheduleError> {
    let n = tasks.len();
    let mut missing: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut ready: Vec<usize> = (0..n).filter(|&i| missing[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop() {
        order.push(i);
        for &k in &dependents[i] {
            missing[k] -= 1;
            if missing[k] == 0 {
                ready.push(k);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    // Every task left has an unfinished dependency that is also left: follow
    // those until one repeats.
    let start = (0..n)
        .filter(|&i| missing[i] > 0)
        .min_by(|&a, &b| tasks[a].id.cmp(&tasks[b].id))
        .unwrap_or(0);
    let mut seen: HashMap<usize, usize> = HashMap::new();
    let mut walk = Vec::new();
    let mut cursor = start;
    loop {
        if let Some(&pos) = seen.get(&cursor) {
            let mut cycle: Vec<String> = walk[pos..]
                .iter()
                .map(|&i: &usize| tasks[i].id.clone())
                .collect();
            // We walked against the arrows (task -> its dependency).
            cycle.reverse();
            return Err(ScheduleError::Cycle(cycle));
        }
        seen.insert(cursor, walk.len());
        walk.push(cursor);
        cursor = deps[cursor]
            .iter()
            .copied()
            .find(|&j| missing[j] > 0)
            .unwrap_or(cursor);
    }
}

impl Schedule {
    /// The plan's form of the critical path (ids instead of indices).
    pub fn critical_path(&self, tasks: &[Task]) -> CriticalPath {
        CriticalPath {
            tasks: self
                .critical_path
                .tasks
                .iter()
                .map(|&i| tasks[i].id.clone())
                .collect(),
            estimate_ms: self.critical_path.estimate_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures::task;

    #[test]
    fn the_example_score_has_three_waves() {
        // model -> [store, docs] -> api, store also feeds api.
        let tasks = vec![
            task("api", &["store", "docs"], 10),
            task("docs", &["model"], 10),
            task("model", &[], 60),
            task("store", &["model"], 15),
        ];
        let s = schedule(&tasks).unwrap();
        assert_eq!(
            s.waves,
            vec![vec!["model"], vec!["docs", "store"], vec!["api"]]
        );
        assert_eq!(s.wave_of, vec![2, 1, 0, 1]);
        let cp = s.critical_path(&tasks);
        assert_eq!(cp.tasks, vec!["model", "store", "api"]);
        assert_eq!(cp.estimate_ms, 85);
    }

    #[test]
    fn ties_go_to_the_smaller_id() {
        let tasks = vec![
            task("b", &[], 5),
            task("a", &[], 5),
            task("c", &["b", "a"], 1),
        ];
        let cp = schedule(&tasks).unwrap().critical_path(&tasks);
        assert_eq!(cp.tasks, vec!["a", "c"]);
        let tasks = vec![task("y", &[], 5), task("x", &[], 5)];
        let cp = schedule(&tasks).unwrap().critical_path(&tasks);
        assert_eq!(cp.tasks, vec!["x"]);
    }

    #[test]
    fn the_critical_path_follows_estimates_not_wave_count() {
        // a -> b -> c is three waves but short; d alone is long.
        let tasks = vec![
            task("a", &[], 1),
            task("b", &["a"], 1),
            task("c", &["b"], 1),
            task("d", &[], 100),
        ];
        let cp = schedule(&tasks).unwrap().critical_path(&tasks);
        assert_eq!(cp.tasks, vec!["d"]);
        assert_eq!(cp.estimate_ms, 100);
    }

    #[test]
    fn an_empty_plan_has_no_waves() {
        let s = schedule(&[]).unwrap();
        assert!(s.waves.is_empty());
        assert!(s.critical_path.tasks.is_empty());
    }

    #[test]
    fn cycles_and_unknown_dependencies_are_reported() {
        let tasks = vec![
            task("a", &["c"], 1),
            task("b", &["a"], 1),
            task("c", &["b"], 1),
            task("d", &[], 1),
        ];
        let err = schedule(&tasks).unwrap_err();
        let ScheduleError::Cycle(ids) = &err else {
            panic!("expected a cycle, got {err:?}")
        };
        assert_eq!(ids.len(), 3);
        assert!(err.to_string().contains(" -> "), "{err}");

        let tasks = vec![task("a", &["ghost"], 1)];
        assert_eq!(
            schedule(&tasks).unwrap_err().to_string(),
            "task `a` depends on `ghost`, which is not a task of the plan"
        );
        let tasks = vec![task("a", &[], 1), task("a", &[], 1)];
        assert!(matches!(
            schedule(&tasks),
            Err(ScheduleError::DuplicateTask(_))
        ));
    }
}
