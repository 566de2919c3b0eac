//! Plans built by hand for unit tests, in one place: a bare task, an agent
//! of any provider, and a plan around tasks (scheduled, with one mock agent
//! `a`). Tests change the one field they are about (`Task { retries: 2,
//! ..task("t", &[], 10) }`) instead of each writing every field of a plan.
//!
//! Tests that need a realistic plan compile a score instead (see
//! `tests/plan.rs`); these are for what a score cannot express or would
//! hide (an empty plan, hand-picked estimates, awkward ids).

use super::schedule::schedule;
use super::types::{
    Agent, Complexity, CriticalPath, FORMAT, Plan, Provider, Schema, ScoreInfo, Task,
};
use std::collections::BTreeMap;

/// The agent every fixture task uses.
pub(crate) const AGENT: &str = "a";

/// A task of agent [`AGENT`] with no inputs, outputs, checks or budget;
/// its timeout is three times its estimate.
pub(crate) fn task(id: &str, deps: &[&str], estimate_ms: u64) -> Task {
    Task {
        id: id.to_string(),
        doc: None,
        agent: AGENT.to_string(),
        complexity: Complexity::Routine,
        contracts: vec![],
        intents: vec![],
        depends_on: deps.iter().map(|d| d.to_string()).collect(),
        inputs: BTreeMap::new(),
        outputs: BTreeMap::new(),
        result_schema: Schema::new(serde_json::json!({})),
        owns: vec![],
        reads: vec![],
        checks: vec![],
        postconditions: vec![],
        retries: 0,
        timeout_ms: 3 * estimate_ms,
        estimate_ms,
        budget: None,
        approve: None,
        brief: None,
        prompt: String::new(),
        wave: 0,
        hash: String::new(),
    }
}

/// An agent of the complex tier, without limits or prices.
pub(crate) fn agent(provider: Provider) -> Agent {
    Agent {
        tier: Complexity::Complex,
        concurrency: None,
        price_in: None,
        price_out: None,
        doc: None,
        writes: Vec::new(),
        reads: None,
        confinement: Default::default(),
        provider,
    }
}

/// The mock provider with its defaults.
pub(crate) fn mock() -> Provider {
    Provider::Mock {
        latency_ms: None,
        fail_rate: None,
        seed: None,
    }
}

/// A plan `demo` of `tasks` played by one mock agent [`AGENT`]: waves and
/// the critical path computed as the compiler would, no budget, no limits.
/// Panics if the tasks have a cycle or an unknown dependency.
pub(crate) fn plan(tasks: Vec<Task>) -> Plan {
    let s = schedule(&tasks).expect("fixture tasks form a DAG");
    let mut tasks = tasks;
    for (i, t) in tasks.iter_mut().enumerate() {
        t.wave = s.wave_of[i];
    }
    let mut agents = BTreeMap::new();
    agents.insert(AGENT.to_string(), agent(mock()));
    Plan {
        format: FORMAT.into(),
        score: ScoreInfo {
            name: "demo".into(),
            title: "Demo".into(),
            doc: None,
            workspace: ".".into(),
            concurrency: None,
            default_agent: None,
            budget: None,
            inputs: BTreeMap::new(),
            prompt_template: None,
        },
        sources: BTreeMap::new(),
        source_hash: "0".repeat(64),
        agents,
        critical_path: CriticalPath {
            tasks: s.critical_path(&tasks).tasks,
            estimate_ms: s.critical_path.estimate_ms,
        },
        waves: s.waves,
        tasks,
    }
}
