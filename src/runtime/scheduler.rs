//! The scheduler: which task starts next, and what the end of a task means
//! for the others. A pure, synchronous state machine (no tokio, no I/O, no
//! clock), so that every rule of a run's order is decided in one place and
//! tested alone; the conductor (`conduct.rs`) tells it what happened and
//! does what it answers.
//!
//! It knows the plan as indices only: each task's dependencies, estimate
//! and agent, the limits, and each task's [`Status`]. The conductor asks
//! [`Scheduler::next_step`] what to do (dispatch a task, sync the journal,
//! ask for an approval, wait, or finish) and reports what happens, one
//! method per kind of event ([`Scheduler::finished`], [`Scheduler::answered`],
//! [`Scheduler::merged`], [`Scheduler::durable`], [`Scheduler::synced`],
//! [`Scheduler::budget_refused`], [`Scheduler::cancel`]); each returns the
//! actions that event calls for (the tasks to skip, the tasks cancelled).
//!
//! The rules:
//! - A task is ready when every task it depends on is done; tasks done
//!   before this invocation (resumed) count as done.
//! - At most each agent's `concurrency` of its tasks run at once, and at
//!   most the global limit in all (the lower of the score's `concurrency`
//!   and `--jobs`). A merge after an approval holds a global slot.
//! - Among an agent's ready tasks, the one with the most estimated work
//!   after it (itself included: its remaining critical path) goes first,
//!   then plan order. Agents with ready tasks and a free slot take turns.
//! - A finished task's dependants are released only once the journal that
//!   holds its success is synced; tasks ready already are dispatched
//!   before that sync (they do not depend on it).
//! - A failed task's dependants are skipped, transitively, each with the
//!   task it needed.
//! - A task awaiting approval releases nothing: approved, it is done (once
//!   its work is merged, if it has a commit); rejected, it fails. One
//!   question at a time, and only when approvals are asked here (on a
//!   terminal); tasks already awaiting approval at the start are asked too.
//! - A budget refusal puts the task back and nothing more is dispatched.
//! - A cancel dispatches nothing more and asks nothing more; the tasks in
//!   flight go back to ready and are reported.
//!
//! Cost: O(log n) per task. A task enters its agent's ready heap exactly
//! once, when its last dependency is released; agents with ready tasks and
//! free capacity wait in a FIFO of their own. Nothing ever walks the
//! waiting tasks (only the end of the run, and a cancel, look at all).

use super::journal::RunStatus;
use crate::plan::Plan;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// Where a task stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Waiting for dependencies.
    Pending,
    /// In its agent's ready queue.
    Ready,
    Running,
    /// Its result is accepted and journaled; a person must approve it.
    AwaitingApproval,
    Done,
    Failed,
    /// Not run: a dependency failed.
    Skipped,
}

/// The tasks of a plan as the scheduler sees them, by plan index. Tasks
/// are in wave order: a task's dependants come after it.
#[derive(Clone, Debug, Default)]
pub struct Dag {
    /// For each task, the tasks it depends on.
    pub deps: Vec<Vec<usize>>,
    /// For each task, its estimated duration.
    pub estimate_ms: Vec<u64>,
    /// For each task, the index of its agent (into [`Limits::per_agent`]).
    pub agent: Vec<usize>,
}

impl Dag {
    pub fn of_plan(plan: &Plan) -> Dag {
        let index: std::collections::HashMap<&str, usize> = plan
            .tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.as_str(), i))
            .collect();
        let agent_ids: Vec<&str> = plan.agents.keys().map(String::as_str).collect();
        Dag {
            deps: plan
                .tasks
                .iter()
                .map(|t| {
                    t.depends_on
                        .iter()
                        .filter_map(|d| index.get(d.as_str()).copied())
                        .collect()
                })
                .collect(),
            estimate_ms: plan.tasks.iter().map(|t| t.estimate_ms).collect(),
            agent: plan
                .tasks
                .iter()
                .map(|t| agent_ids.iter().position(|a| *a == t.agent).unwrap_or(0))
                .collect(),
        }
    }
}

/// How many tasks may run at once.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Per agent (in the plan's order of agents).
    pub per_agent: Vec<usize>,
    /// In all.
    pub global: usize,
}

impl Limits {
    /// The plan's limits (each agent's `concurrency`, the score's), with
    /// `--jobs`.
    pub fn of_plan(plan: &Plan, jobs: Option<usize>) -> Limits {
        Limits {
            per_agent: plan
                .agents
                .values()
                .map(|a| agent_limit(a.concurrency))
                .collect(),
            global: global_limit(plan.score.concurrency, jobs),
        }
    }
}

/// An agent's limit: its `concurrency` (at least 1), else none.
pub fn agent_limit(concurrency: Option<u32>) -> usize {
    concurrency.map_or(usize::MAX, |c| c.max(1) as usize)
}

/// The run's limit: the lower of the score's `concurrency` and `--jobs`
/// (each at least 1), else none.
pub fn global_limit(concurrency: Option<u32>, jobs: Option<usize>) -> usize {
    [
        concurrency.map(|c| c.max(1) as usize),
        jobs.map(|j| j.max(1)),
    ]
    .into_iter()
    .flatten()
    .min()
    .unwrap_or(usize::MAX)
}

/// What the conductor does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Start this task (it is running from now on). If the budget refuses
    /// it, say so with [`Scheduler::budget_refused`].
    Dispatch(usize),
    /// Make the journal durable, then call [`Scheduler::synced`].
    Sync,
    /// Ask a person to approve this task's result; the answer goes to
    /// [`Scheduler::answered`].
    Ask(usize),
    /// Wait for a report from a task in flight (or an answer, or Ctrl-C).
    Wait,
    /// Nothing is in flight and nothing more can start: the run is over.
    Finish(RunStatus),
}

/// How a task in flight ended, once its result is journaled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Settled {
    Done,
    /// Accepted; it waits for a person's approval.
    AwaitingApproval,
    Failed,
}

/// A person's answer to an approval question.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Approved. `merge_first`: its commit is being merged (off the loop;
    /// it holds a global slot meanwhile) and it is done only once
    /// [`Scheduler::merged`] says so; else it is done now.
    Approved { merge_first: bool },
    /// Rejected: it fails.
    Rejected,
}

/// A task skipped because a task it needs failed or was skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Skip {
    pub task: usize,
    /// The dependency it needed.
    pub needs: usize,
    /// That dependency's status: `Failed` or `Skipped`.
    pub needs_status: Status,
}

/// A task waiting in its agent's queue: the most remaining work first, then
/// plan order.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Queued {
    remaining_ms: u64,
    order: Reverse<usize>,
}

/// The run's order: see the module's documentation.
pub struct Scheduler {
    dependants: Vec<Vec<usize>>,
    agent_of: Vec<usize>,
    /// Estimated work from each task to the end of the plan.
    remaining_ms: Vec<u64>,
    limits: Limits,
    status: Vec<Status>,
    /// Dependencies of each task not done yet.
    unmet: Vec<usize>,
    /// Each agent's ready tasks.
    queues: Vec<BinaryHeap<Queued>>,
    running_per_agent: Vec<usize>,
    /// Tasks running, plus merges after an approval.
    running: usize,
    /// Agents with ready tasks and a free slot, in turn (each at most once).
    waiting_agents: VecDeque<usize>,
    agent_waiting: Vec<bool>,
    /// Done since the last sync: their dependants wait for it.
    released: Vec<usize>,
    /// A record its sender waits on must be synced.
    sync_owed: bool,
    ask_approvals: bool,
    /// Tasks whose approval is to be asked, in turn.
    approvals: VecDeque<usize>,
    asking: bool,
    budget_refused: bool,
    cancelled: bool,
}

impl Scheduler {
    /// A scheduler for `dag` within `limits`, each task starting with its
    /// status in `start`: `Done` (resumed), `AwaitingApproval` (resumed,
    /// still waiting) or `Pending`. `ask_approvals`: approvals are asked
    /// here (on a terminal); otherwise a task awaiting one stays so.
    pub fn new(dag: Dag, limits: Limits, start: Vec<Status>, ask_approvals: bool) -> Scheduler {
        let n = dag.deps.len();
        let agents = limits.per_agent.len();
        let mut dependants: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, ds) in dag.deps.iter().enumerate() {
            for &d in ds {
                dependants[d].push(i);
            }
        }
        // Remaining estimated work from each task to the end (tasks are in
        // wave order: dependants come later).
        let mut remaining_ms = vec![0u64; n];
        for i in (0..n).rev() {
            let after = dependants[i]
                .iter()
                .map(|&d| remaining_ms[d])
                .max()
                .unwrap_or(0);
            remaining_ms[i] = dag.estimate_ms[i] + after;
        }
        let unmet = dag
            .deps
            .iter()
            .map(|ds| ds.iter().filter(|&&d| start[d] != Status::Done).count())
            .collect();
        let mut scheduler = Scheduler {
            dependants,
            agent_of: dag.agent,
            remaining_ms,
            limits,
            status: start,
            unmet,
            queues: (0..agents).map(|_| BinaryHeap::new()).collect(),
            running_per_agent: vec![0; agents],
            running: 0,
            waiting_agents: VecDeque::new(),
            agent_waiting: vec![false; agents],
            released: Vec::new(),
            sync_owed: false,
            ask_approvals,
            approvals: VecDeque::new(),
            asking: false,
            budget_refused: false,
            cancelled: false,
        };
        for i in 0..n {
            match scheduler.status[i] {
                Status::Pending if scheduler.unmet[i] == 0 => scheduler.enqueue(i),
                Status::AwaitingApproval if ask_approvals => scheduler.approvals.push_back(i),
                _ => {}
            }
        }
        // Agents take their first turns in the plan's order of agents.
        for a in 0..agents {
            scheduler.wake(a);
        }
        scheduler
    }

    /// What to do next: dispatch what the limits allow, then sync what the
    /// last reports released, then ask an approval, then wait or finish.
    pub fn next_step(&mut self) -> Step {
        if let Some(i) = self.dispatch() {
            return Step::Dispatch(i);
        }
        if !self.released.is_empty() || self.sync_owed {
            return Step::Sync;
        }
        if !self.asking
            && !self.cancelled
            && let Some(i) = self.approvals.pop_front()
        {
            self.asking = true;
            return Step::Ask(i);
        }
        if self.running == 0 && !self.asking {
            return Step::Finish(self.run_status());
        }
        Step::Wait
    }

    /// Task `i`, in flight, ended (its result is journaled): its slot is
    /// free. Returns the tasks skipped because it failed.
    pub fn finished(&mut self, i: usize, settled: Settled) -> Vec<Skip> {
        debug_assert_eq!(self.status[i], Status::Running);
        let a = self.agent_of[i];
        self.running -= 1;
        self.running_per_agent[a] -= 1;
        self.wake(a);
        match settled {
            Settled::Done => {
                self.status[i] = Status::Done;
                self.released.push(i);
                Vec::new()
            }
            Settled::AwaitingApproval => {
                self.status[i] = Status::AwaitingApproval;
                if self.ask_approvals {
                    self.approvals.push_back(i);
                }
                Vec::new()
            }
            Settled::Failed => self.fail(i),
        }
    }

    /// A person answered the question about task `i`. Returns the tasks
    /// skipped because it was rejected.
    pub fn answered(&mut self, i: usize, answer: Answer) -> Vec<Skip> {
        self.asking = false;
        match answer {
            Answer::Approved { merge_first: true } => {
                self.running += 1;
                Vec::new()
            }
            Answer::Approved { merge_first: false } => {
                self.status[i] = Status::Done;
                self.released.push(i);
                Vec::new()
            }
            Answer::Rejected => self.fail(i),
        }
    }

    /// The merge of approved task `i` ended: done, or failed (a conflict).
    /// Returns the tasks skipped because it failed.
    pub fn merged(&mut self, i: usize, ok: bool) -> Vec<Skip> {
        self.running -= 1;
        if ok {
            self.status[i] = Status::Done;
            self.released.push(i);
            Vec::new()
        } else {
            self.fail(i)
        }
    }

    /// A record was journaled that its sender waits to see durable: the
    /// next step is a sync.
    pub fn durable(&mut self) {
        self.sync_owed = true;
    }

    /// The journal is durable: what it holds releases its dependants.
    pub fn synced(&mut self) {
        self.sync_owed = false;
        // Taken out while the dependants are released (and put back, empty,
        // to keep its allocation for the next batch).
        let mut released = std::mem::take(&mut self.released);
        for &i in &released {
            for k in 0..self.dependants[i].len() {
                let d = self.dependants[i][k];
                self.unmet[d] -= 1;
                if self.unmet[d] == 0 && self.status[d] == Status::Pending {
                    self.make_ready(d);
                }
            }
        }
        released.clear();
        self.released = released;
    }

    /// Task `i`, just dispatched, was refused by the budget: it goes back
    /// to its queue, and nothing more is dispatched.
    pub fn budget_refused(&mut self, i: usize) {
        debug_assert_eq!(self.status[i], Status::Running);
        let a = self.agent_of[i];
        self.running -= 1;
        self.running_per_agent[a] -= 1;
        self.budget_refused = true;
        self.make_ready(i);
    }

    /// Ctrl-C: nothing more is dispatched, released or asked. Returns the
    /// tasks that were in flight, which are ready again (a resume plays
    /// them). Call it once the reports that had arrived are handled.
    pub fn cancel(&mut self) -> Vec<usize> {
        self.cancelled = true;
        self.asking = false;
        self.running = 0;
        self.released.clear();
        let mut in_flight = Vec::new();
        for (i, status) in self.status.iter_mut().enumerate() {
            if *status == Status::Running {
                *status = Status::Ready;
                in_flight.push(i);
            }
        }
        in_flight
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled
    }

    /// Each task's status, by plan index.
    pub fn statuses(&self) -> &[Status] {
        &self.status
    }

    /// How many tasks have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.status.iter().filter(|&&s| s == status).count()
    }

    /// How the run stands: what [`Step::Finish`] reports.
    pub fn run_status(&self) -> RunStatus {
        if self.cancelled {
            RunStatus::Cancelled
        } else if self.status.iter().all(|&s| s == Status::Done) {
            RunStatus::Succeeded
        } else if self.budget_refused {
            RunStatus::OverBudget
        } else if self
            .status
            .iter()
            .any(|s| matches!(s, Status::Failed | Status::Skipped))
        {
            RunStatus::Failed
        } else if self.status.contains(&Status::AwaitingApproval) {
            RunStatus::Paused
        } else {
            RunStatus::Failed
        }
    }

    /// The next task the limits allow, marked running.
    fn dispatch(&mut self) -> Option<usize> {
        while !self.cancelled && !self.budget_refused && self.running < self.limits.global {
            let a = self.waiting_agents.pop_front()?;
            self.agent_waiting[a] = false;
            if self.running_per_agent[a] >= self.limits.per_agent[a] {
                continue;
            }
            let Some(i) = self.pop_ready(a) else {
                continue;
            };
            self.status[i] = Status::Running;
            self.running += 1;
            self.running_per_agent[a] += 1;
            self.wake(a);
            return Some(i);
        }
        None
    }

    /// Task `i` joins its agent's ready queue, and the agent the line.
    fn make_ready(&mut self, i: usize) {
        self.enqueue(i);
        self.wake(self.agent_of[i]);
    }

    /// Task `i` joins its agent's ready queue.
    fn enqueue(&mut self, i: usize) {
        self.status[i] = Status::Ready;
        self.queues[self.agent_of[i]].push(Queued {
            remaining_ms: self.remaining_ms[i],
            order: Reverse(i),
        });
    }

    /// Agent `a`'s first task still ready (one skipped while queued is
    /// dropped).
    fn pop_ready(&mut self, a: usize) -> Option<usize> {
        while let Some(Queued { order, .. }) = self.queues[a].pop() {
            if self.status[order.0] == Status::Ready {
                return Some(order.0);
            }
        }
        None
    }

    /// Agent `a` takes its turn to dispatch if it has a ready task and a
    /// free slot (and is not in line already).
    fn wake(&mut self, a: usize) {
        if !self.agent_waiting[a]
            && self.running_per_agent[a] < self.limits.per_agent[a]
            && !self.queues[a].is_empty()
        {
            self.waiting_agents.push_back(a);
            self.agent_waiting[a] = true;
        }
    }

    /// Task `i` failed: everything downstream not started is skipped.
    fn fail(&mut self, i: usize) -> Vec<Skip> {
        self.status[i] = Status::Failed;
        let mut skips = Vec::new();
        let mut stack: Vec<(usize, usize)> = self.dependants[i].iter().map(|&d| (d, i)).collect();
        while let Some((d, because)) = stack.pop() {
            if matches!(self.status[d], Status::Pending | Status::Ready) {
                self.status[d] = Status::Skipped;
                skips.push(Skip {
                    task: d,
                    needs: because,
                    needs_status: self.status[because],
                });
                stack.extend(self.dependants[d].iter().map(|&x| (x, d)));
            }
        }
        skips
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A task: the tasks it depends on, its estimate, its agent.
    type T<'a> = (&'a [usize], u64, usize);

    fn dag(tasks: &[T]) -> Dag {
        Dag {
            deps: tasks.iter().map(|t| t.0.to_vec()).collect(),
            estimate_ms: tasks.iter().map(|t| t.1).collect(),
            agent: tasks.iter().map(|t| t.2).collect(),
        }
    }

    fn limits(per_agent: &[usize], global: usize) -> Limits {
        Limits {
            per_agent: per_agent.to_vec(),
            global,
        }
    }

    /// A fresh run of `tasks`, without limits, approvals asked.
    fn fresh(tasks: &[T], agents: usize) -> Scheduler {
        Scheduler::new(
            dag(tasks),
            limits(&vec![usize::MAX; agents], usize::MAX),
            vec![Status::Pending; tasks.len()],
            true,
        )
    }

    /// Takes every dispatch offered; returns them and the step after.
    fn dispatch_all(s: &mut Scheduler) -> (Vec<usize>, Step) {
        let mut dispatched = Vec::new();
        loop {
            match s.next_step() {
                Step::Dispatch(i) => dispatched.push(i),
                step => return (dispatched, step),
            }
        }
    }

    /// Syncs as long as the scheduler asks to.
    fn sync(s: &mut Scheduler) {
        assert_eq!(s.next_step(), Step::Sync);
        s.synced();
    }

    const INDEPENDENT: &[usize] = &[];

    #[test]
    fn an_agent_runs_at_most_its_concurrency() {
        // Agent 0 may run two at once; agent 1 has no limit.
        let tasks: Vec<T> = vec![
            (INDEPENDENT, 10, 0),
            (INDEPENDENT, 10, 0),
            (INDEPENDENT, 10, 0),
            (INDEPENDENT, 10, 0),
            (INDEPENDENT, 10, 1),
        ];
        let mut s = Scheduler::new(
            dag(&tasks),
            limits(&[2, usize::MAX], usize::MAX),
            vec![Status::Pending; 5],
            false,
        );
        assert_eq!(dispatch_all(&mut s), (vec![0, 4, 1], Step::Wait));
        assert_eq!(s.statuses()[2], Status::Ready);
        // A freed slot is taken at once, before the batch is synced.
        assert!(s.finished(0, Settled::Done).is_empty());
        assert_eq!(dispatch_all(&mut s), (vec![2], Step::Sync));
        s.synced();
        assert_eq!(s.next_step(), Step::Wait);
        for i in [1, 2, 4] {
            s.finished(i, Settled::Done);
        }
        assert_eq!(dispatch_all(&mut s), (vec![3], Step::Sync));
        s.synced();
        s.finished(3, Settled::Done);
        sync(&mut s);
        assert_eq!(s.next_step(), Step::Finish(RunStatus::Succeeded));
    }

    #[test]
    fn the_global_limit_holds_across_agents() {
        let tasks: Vec<T> = vec![
            (INDEPENDENT, 10, 0),
            (INDEPENDENT, 10, 1),
            (INDEPENDENT, 10, 0),
            (INDEPENDENT, 10, 1),
        ];
        let mut s = Scheduler::new(
            dag(&tasks),
            limits(&[usize::MAX, usize::MAX], 2),
            vec![Status::Pending; 4],
            false,
        );
        assert_eq!(dispatch_all(&mut s), (vec![0, 1], Step::Wait));
        s.finished(1, Settled::Done);
        assert_eq!(dispatch_all(&mut s), (vec![2], Step::Sync));
        s.synced();
        assert_eq!(s.next_step(), Step::Wait);
    }

    #[test]
    fn agents_with_ready_tasks_take_turns() {
        // Task 1 has more work after it than task 2, but agent 1 has not
        // had its turn yet.
        let tasks: Vec<T> = vec![
            (INDEPENDENT, 30, 0),
            (INDEPENDENT, 20, 0),
            (INDEPENDENT, 10, 1),
        ];
        let mut s = Scheduler::new(
            dag(&tasks),
            limits(&[usize::MAX, usize::MAX], 2),
            vec![Status::Pending; 3],
            false,
        );
        assert_eq!(dispatch_all(&mut s), (vec![0, 2], Step::Wait));
    }

    #[test]
    fn the_global_limit_is_the_lower_of_the_scores_and_jobs() {
        assert_eq!(global_limit(Some(4), Some(2)), 2);
        assert_eq!(global_limit(Some(2), Some(8)), 2);
        assert_eq!(global_limit(None, Some(3)), 3);
        assert_eq!(global_limit(Some(5), None), 5);
        assert_eq!(global_limit(None, None), usize::MAX);
        // Zero means one, not a run that never starts.
        assert_eq!(global_limit(Some(0), None), 1);
        assert_eq!(global_limit(None, Some(0)), 1);
        assert_eq!(agent_limit(Some(3)), 3);
        assert_eq!(agent_limit(Some(0)), 1);
        assert_eq!(agent_limit(None), usize::MAX);
    }

    #[test]
    fn a_plans_limits_and_graph_are_read_by_index() {
        use crate::plan::fixtures::{AGENT, plan, task};
        let mut plan = plan(vec![
            task("model", &[], 10),
            task("store", &["model"], 20),
            task("api", &["model", "store"], 30),
        ]);
        plan.score.concurrency = Some(4);
        if let Some(agent) = plan.agents.get_mut(AGENT) {
            agent.concurrency = Some(2);
        }
        let dag = Dag::of_plan(&plan);
        assert_eq!(dag.deps, vec![vec![], vec![0], vec![0, 1]]);
        assert_eq!(dag.estimate_ms, vec![10, 20, 30]);
        assert_eq!(dag.agent, vec![0, 0, 0]);
        let limits = Limits::of_plan(&plan, Some(3));
        assert_eq!((limits.per_agent, limits.global), (vec![2], 3));
        let limits = Limits::of_plan(&plan, None);
        assert_eq!(limits.global, 4);
    }

    #[test]
    fn the_most_remaining_work_goes_first() {
        // One slot. Task 1 is short but 3 (long) follows it: 110 to go;
        // task 2 has 50; task 0 has 10.
        let tasks: Vec<T> = vec![
            (INDEPENDENT, 10, 0),
            (INDEPENDENT, 10, 0),
            (INDEPENDENT, 50, 0),
            (&[1], 100, 0),
        ];
        let mut s = Scheduler::new(
            dag(&tasks),
            limits(&[1], usize::MAX),
            vec![Status::Pending; 4],
            false,
        );
        let mut order = Vec::new();
        loop {
            match s.next_step() {
                Step::Dispatch(i) => order.push(i),
                Step::Sync => s.synced(),
                Step::Wait => {
                    let running = s.statuses().iter().position(|&st| st == Status::Running);
                    s.finished(running.unwrap(), Settled::Done);
                }
                step => {
                    assert_eq!(step, Step::Finish(RunStatus::Succeeded));
                    break;
                }
            }
        }
        // 2 goes before 3: 3 is released only once 1's success is synced,
        // and the freed slot does not wait for that sync.
        assert_eq!(order, vec![1, 2, 3, 0]);
    }

    #[test]
    fn equal_work_goes_in_plan_order() {
        let tasks: Vec<T> = vec![(INDEPENDENT, 5, 0); 4];
        let mut s = Scheduler::new(
            dag(&tasks),
            limits(&[1], usize::MAX),
            vec![Status::Pending; 4],
            false,
        );
        let mut order: Vec<usize> = Vec::new();
        for _ in 0..4 {
            let (dispatched, _) = dispatch_all(&mut s);
            order.extend(&dispatched);
            s.finished(dispatched[0], Settled::Done);
        }
        assert_eq!(order, vec![0, 1, 2, 3]);
    }

    #[test]
    fn a_failure_skips_everything_downstream_with_reasons() {
        // A diamond under 0, and 4 on its own.
        let tasks: Vec<T> = vec![
            (INDEPENDENT, 10, 0),
            (&[0], 10, 0),
            (&[0], 10, 0),
            (&[1, 2], 10, 0),
            (INDEPENDENT, 10, 0),
        ];
        let mut s = fresh(&tasks, 1);
        assert_eq!(dispatch_all(&mut s), (vec![0, 4], Step::Wait));
        let skips = s.finished(0, Settled::Failed);
        let skip = |task, needs, needs_status| Skip {
            task,
            needs,
            needs_status,
        };
        // Each skipped once, naming what it needed and what became of it.
        assert_eq!(
            skips,
            vec![
                skip(2, 0, Status::Failed),
                skip(3, 2, Status::Skipped),
                skip(1, 0, Status::Failed),
            ]
        );
        // A failure releases nothing: no sync of its own.
        assert_eq!(s.next_step(), Step::Wait);
        // What does not depend on it goes on.
        s.finished(4, Settled::Done);
        sync(&mut s);
        assert_eq!(s.next_step(), Step::Finish(RunStatus::Failed));
        use Status::*;
        assert_eq!(s.statuses(), &[Failed, Skipped, Skipped, Skipped, Done]);
        assert_eq!((s.count(Done), s.count(Failed)), (1, 1));
    }

    #[test]
    fn dependants_are_released_only_after_the_sync() {
        let tasks: Vec<T> = vec![(INDEPENDENT, 10, 0), (&[0], 10, 0)];
        let mut s = fresh(&tasks, 1);
        assert_eq!(dispatch_all(&mut s), (vec![0], Step::Wait));
        s.finished(0, Settled::Done);
        assert_eq!(s.next_step(), Step::Sync);
        assert_eq!(s.statuses()[1], Status::Pending);
        // Asked again without syncing: still a sync, never the dependant.
        assert_eq!(s.next_step(), Step::Sync);
        s.synced();
        assert_eq!(s.statuses()[1], Status::Ready);
        assert_eq!(s.next_step(), Step::Dispatch(1));
    }

    #[test]
    fn a_durable_record_is_synced_even_when_nothing_is_released() {
        let tasks: Vec<T> = vec![(INDEPENDENT, 10, 0)];
        let mut s = fresh(&tasks, 1);
        assert_eq!(dispatch_all(&mut s), (vec![0], Step::Wait));
        s.durable();
        sync(&mut s);
        assert_eq!(s.next_step(), Step::Wait);
    }

    #[test]
    fn a_cancel_dispatches_nothing_more_and_reports_the_tasks_in_flight() {
        let tasks: Vec<T> = vec![(INDEPENDENT, 10, 0); 3];
        let mut s = Scheduler::new(
            dag(&tasks),
            limits(&[2], usize::MAX),
            vec![Status::Pending; 3],
            true,
        );
        assert_eq!(dispatch_all(&mut s), (vec![0, 1], Step::Wait));
        assert_eq!(s.cancel(), vec![0, 1]);
        assert!(s.is_cancelled());
        assert_eq!(s.statuses(), &[Status::Ready; 3]);
        assert_eq!(s.next_step(), Step::Finish(RunStatus::Cancelled));
    }

    #[test]
    fn a_result_that_arrived_before_the_cancel_is_kept_but_releases_nothing() {
        let tasks: Vec<T> = vec![(INDEPENDENT, 10, 0), (INDEPENDENT, 10, 0), (&[0], 10, 0)];
        let mut s = fresh(&tasks, 1);
        assert_eq!(dispatch_all(&mut s), (vec![0, 1], Step::Wait));
        s.finished(0, Settled::Done);
        assert_eq!(s.cancel(), vec![1]);
        assert_eq!(s.next_step(), Step::Finish(RunStatus::Cancelled));
        use Status::*;
        assert_eq!(s.statuses(), &[Done, Ready, Pending]);
    }

    #[test]
    fn a_cancel_asks_nothing_more() {
        let tasks: Vec<T> = vec![(INDEPENDENT, 10, 0); 2];
        let mut s = fresh(&tasks, 1);
        dispatch_all(&mut s);
        s.finished(0, Settled::AwaitingApproval);
        s.finished(1, Settled::AwaitingApproval);
        assert_eq!(s.next_step(), Step::Ask(0));
        assert_eq!(s.cancel(), Vec::<usize>::new());
        assert_eq!(s.next_step(), Step::Finish(RunStatus::Cancelled));
    }

    #[test]
    fn a_task_awaiting_approval_releases_nothing_until_approved() {
        let tasks: Vec<T> = vec![(INDEPENDENT, 10, 0), (&[0], 10, 0)];
        let mut s = fresh(&tasks, 1);
        dispatch_all(&mut s);
        s.finished(0, Settled::AwaitingApproval);
        // Nothing released: no sync; the question is asked.
        assert_eq!(s.next_step(), Step::Ask(0));
        assert_eq!(s.next_step(), Step::Wait);
        assert_eq!(s.statuses()[1], Status::Pending);
        s.answered(0, Answer::Approved { merge_first: false });
        assert_eq!(s.statuses()[0], Status::Done);
        sync(&mut s);
        assert_eq!(s.next_step(), Step::Dispatch(1));
    }

    #[test]
    fn approvals_are_asked_one_at_a_time() {
        let tasks: Vec<T> = vec![(INDEPENDENT, 10, 0); 2];
        let mut s = fresh(&tasks, 1);
        dispatch_all(&mut s);
        s.finished(0, Settled::AwaitingApproval);
        s.finished(1, Settled::AwaitingApproval);
        assert_eq!(s.next_step(), Step::Ask(0));
        assert_eq!(s.next_step(), Step::Wait);
        s.answered(0, Answer::Approved { merge_first: false });
        sync(&mut s);
        assert_eq!(s.next_step(), Step::Ask(1));
    }

    #[test]
    fn without_a_terminal_a_task_awaiting_approval_pauses_the_run() {
        let tasks: Vec<T> = vec![(INDEPENDENT, 10, 0), (&[0], 10, 0), (INDEPENDENT, 10, 0)];
        let mut s = Scheduler::new(
            dag(&tasks),
            limits(&[usize::MAX], usize::MAX),
            vec![Status::Pending; 3],
            false,
        );
        assert_eq!(dispatch_all(&mut s), (vec![0, 2], Step::Wait));
        s.finished(0, Settled::AwaitingApproval);
        s.finished(2, Settled::Done);
        sync(&mut s);
        // What does not depend on it ran; the run pauses.
        assert_eq!(s.next_step(), Step::Finish(RunStatus::Paused));
        assert_eq!(s.statuses()[1], Status::Pending);
    }

    #[test]
    fn a_rejection_fails_the_task_and_skips_its_dependants() {
        let tasks: Vec<T> = vec![(INDEPENDENT, 10, 0), (&[0], 10, 0), (&[1], 10, 0)];
        let mut s = fresh(&tasks, 1);
        dispatch_all(&mut s);
        s.finished(0, Settled::AwaitingApproval);
        assert_eq!(s.next_step(), Step::Ask(0));
        let skips = s.answered(0, Answer::Rejected);
        let skipped: Vec<(usize, usize)> = skips.iter().map(|k| (k.task, k.needs)).collect();
        assert_eq!(skipped, vec![(1, 0), (2, 1)]);
        assert_eq!(s.statuses()[0], Status::Failed);
        assert_eq!(s.next_step(), Step::Finish(RunStatus::Failed));
    }

    #[test]
    fn an_approved_merge_holds_a_slot_and_releases_once_merged() {
        // One slot. 0 needs an approval; 1 needs 0; 2 and 3 are on their own.
        let tasks: Vec<T> = vec![
            (INDEPENDENT, 10, 0),
            (&[0], 10, 0),
            (INDEPENDENT, 10, 0),
            (INDEPENDENT, 10, 0),
        ];
        let mut s = Scheduler::new(
            dag(&tasks),
            limits(&[usize::MAX], 1),
            vec![Status::Pending; 4],
            true,
        );
        assert_eq!(dispatch_all(&mut s), (vec![0], Step::Wait));
        s.finished(0, Settled::AwaitingApproval);
        assert_eq!(dispatch_all(&mut s), (vec![2], Step::Ask(0)));
        s.answered(0, Answer::Approved { merge_first: true });
        s.finished(2, Settled::Done);
        // The merge holds the only slot: 3 waits.
        sync(&mut s);
        assert_eq!(s.next_step(), Step::Wait);
        assert_eq!(s.statuses()[0], Status::AwaitingApproval);
        assert!(s.merged(0, true).is_empty());
        assert_eq!(s.statuses()[0], Status::Done);
        assert_eq!(dispatch_all(&mut s), (vec![3], Step::Sync));
        s.synced();
        assert_eq!(s.statuses()[1], Status::Ready);
    }

    #[test]
    fn a_failed_merge_fails_the_task_and_skips_its_dependants() {
        let tasks: Vec<T> = vec![(INDEPENDENT, 10, 0), (&[0], 10, 0)];
        let mut s = fresh(&tasks, 1);
        dispatch_all(&mut s);
        s.finished(0, Settled::AwaitingApproval);
        assert_eq!(s.next_step(), Step::Ask(0));
        s.answered(0, Answer::Approved { merge_first: true });
        assert_eq!(s.next_step(), Step::Wait);
        let skips = s.merged(0, false);
        assert_eq!(skips.iter().map(|k| k.task).collect::<Vec<_>>(), vec![1]);
        assert_eq!(s.next_step(), Step::Finish(RunStatus::Failed));
    }

    #[test]
    fn a_budget_refusal_puts_the_task_back_and_stops_dispatching() {
        let tasks: Vec<T> = vec![(INDEPENDENT, 10, 0); 3];
        let mut s = fresh(&tasks, 1);
        assert_eq!(s.next_step(), Step::Dispatch(0));
        assert_eq!(s.next_step(), Step::Dispatch(1));
        s.budget_refused(1);
        assert_eq!(s.statuses()[1], Status::Ready);
        // The task in flight finishes; nothing more starts.
        assert_eq!(s.next_step(), Step::Wait);
        s.finished(0, Settled::Done);
        sync(&mut s);
        assert_eq!(s.next_step(), Step::Finish(RunStatus::OverBudget));
        use Status::*;
        assert_eq!(s.statuses(), &[Done, Ready, Ready]);
    }

    #[test]
    fn tasks_done_at_the_start_count_as_met() {
        let tasks: Vec<T> = vec![(INDEPENDENT, 10, 0), (&[0], 10, 0), (&[1], 10, 0)];
        let start = vec![Status::Done, Status::Pending, Status::Pending];
        let mut s = Scheduler::new(dag(&tasks), limits(&[usize::MAX], usize::MAX), start, true);
        assert_eq!(dispatch_all(&mut s), (vec![1], Step::Wait));
        assert_eq!(s.statuses()[2], Status::Pending);
        let done = vec![Status::Done; 3];
        let mut s = Scheduler::new(dag(&tasks), limits(&[usize::MAX], usize::MAX), done, true);
        assert_eq!(s.next_step(), Step::Finish(RunStatus::Succeeded));
    }

    #[test]
    fn tasks_awaiting_approval_at_the_start_are_asked_again() {
        let tasks: Vec<T> = vec![(INDEPENDENT, 10, 0), (&[0], 10, 0)];
        let start = || vec![Status::AwaitingApproval, Status::Pending];
        let mut s = Scheduler::new(dag(&tasks), limits(&[1], usize::MAX), start(), true);
        assert_eq!(s.next_step(), Step::Ask(0));
        s.answered(0, Answer::Approved { merge_first: false });
        sync(&mut s);
        assert_eq!(s.next_step(), Step::Dispatch(1));
        // Without a terminal they wait for `score approve`.
        let mut s = Scheduler::new(dag(&tasks), limits(&[1], usize::MAX), start(), false);
        assert_eq!(s.next_step(), Step::Finish(RunStatus::Paused));
    }
}
