//! Approvals given from outside the terminal, to a run playing in this
//! process: the live page (`score run --ui`) answers here, the conductor
//! waits here.
//!
//! Why a desk and not the journal: `score approve` journals an answer that
//! a later `--resume` reads, but a run playing now is waiting on its
//! scheduler, not on the file. The desk hands the answer to the conductor,
//! which journals it exactly as it journals an answer typed on the
//! terminal, and the run goes on at once. An answer may arrive before the
//! conductor asks (the scheduler asks one part at a time): it is kept until
//! then.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Where a live run's approvals are answered.
pub struct ApprovalDesk {
    run_id: String,
    inner: Mutex<Desk>,
}

#[derive(Default)]
struct Desk {
    /// Answers given before the conductor asked.
    answers: HashMap<String, bool>,
    /// Questions the conductor asked, not answered yet.
    asked: HashMap<String, oneshot::Sender<bool>>,
}

impl std::fmt::Debug for ApprovalDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApprovalDesk({})", self.run_id)
    }
}

impl ApprovalDesk {
    /// The desk of run `run_id` (the id the run will have: see
    /// `RunOptions::run_id`).
    pub fn new(run_id: &str) -> Arc<ApprovalDesk> {
        Arc::new(ApprovalDesk {
            run_id: run_id.to_string(),
            inner: Mutex::new(Desk::default()),
        })
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// A person's answer about `task` (the caller checked that the run's
    /// journal shows it awaiting approval). The first answer counts.
    pub fn answer(&self, task: &str, approved: bool) {
        let mut desk = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match desk.asked.remove(task) {
            Some(asked) => {
                let _ = asked.send(approved);
            }
            None => {
                desk.answers.entry(task.to_string()).or_insert(approved);
            }
        }
    }

    /// The conductor asks about `task`: the answer, when one is given.
    pub(crate) fn ask(&self, task: &str) -> oneshot::Receiver<bool> {
        let (tx, rx) = oneshot::channel();
        let mut desk = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match desk.answers.remove(task) {
            Some(approved) => {
                let _ = tx.send(approved);
            }
            None => {
                desk.asked.insert(task.to_string(), tx);
            }
        }
        rx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_answer_reaches_the_question_whichever_comes_first() {
        let desk = ApprovalDesk::new("r");
        let asked = desk.ask("a");
        desk.answer("a", true);
        assert!(asked.await.unwrap());
        desk.answer("b", false);
        desk.answer("b", true);
        assert!(!desk.ask("b").await.unwrap(), "the first answer counts");
    }
}
