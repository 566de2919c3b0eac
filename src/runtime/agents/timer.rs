//! A sleep precise to tens of microseconds, for the mock's `latency`.
//!
//! tokio's timer has a resolution of one millisecond and rounds deadlines
//! up: `tokio::time::sleep(20 ms)` takes about 21.2 ms. The mock's latency
//! stands in for an agent's time, and benchmarks judge the scheduler by
//! makespans built from it; a 6 % error per task would hide what the
//! scheduler does. So one thread keeps the deadlines of every sleeping mock
//! in a heap and waits for the earliest with the operating system's
//! high-resolution timeout (a futex on Linux, with the thread's timer slack
//! set to its least).

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::OnceLock;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// Waits for `duration`, give or take the operating system's timer slack.
///
/// Dropping the future is a cancel: the timer thread finds nobody to wake
/// at the deadline and forgets the entry.
pub async fn sleep(duration: Duration) {
    let deadline = Instant::now() + duration;
    let (wake, woken) = oneshot::channel();
    match timer() {
        Some(timer) if timer.send(Sleeper { deadline, wake }).is_ok() => {
            let _ = woken.await;
        }
        // No timer thread (the system refused one): tokio's coarser timer
        // is still a correct sleep.
        _ => tokio::time::sleep_until(deadline.into()).await,
    }
}

struct Sleeper {
    deadline: Instant,
    wake: oneshot::Sender<()>,
}

// The heap is a max-heap: order sleepers so that the earliest deadline is
// the greatest.
impl Ord for Sleeper {
    fn cmp(&self, other: &Self) -> Ordering {
        other.deadline.cmp(&self.deadline)
    }
}

impl PartialOrd for Sleeper {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Sleeper {
    fn eq(&self, other: &Self) -> bool {
        self.deadline == other.deadline
    }
}

impl Eq for Sleeper {}

/// The channel to the timer thread, started on first use. The sender is
/// kept for the life of the process, so the thread never finds it closed.
fn timer() -> Option<&'static mpsc::Sender<Sleeper>> {
    static TIMER: OnceLock<Option<mpsc::Sender<Sleeper>>> = OnceLock::new();
    TIMER
        .get_or_init(|| {
            let (sender, receiver) = mpsc::channel();
            std::thread::Builder::new()
                .name("score-mock-timer".into())
                .spawn(move || keep_time(receiver))
                .ok()
                .map(|_| sender)
        })
        .as_ref()
}

fn keep_time(receiver: mpsc::Receiver<Sleeper>) {
    // Linux lets a thread's timeouts end up to 50 µs late by default, to
    // batch wake-ups; this thread exists to be on time.
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK takes a number and has no memory effects.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong);
    }
    let mut sleepers = BinaryHeap::new();
    loop {
        let now = Instant::now();
        while sleepers
            .peek()
            .is_some_and(|next: &Sleeper| next.deadline <= now)
        {
            if let Some(due) = sleepers.pop() {
                // The sleeper may be gone (cancelled): nothing to wake.
                let _ = due.wake.send(());
            }
        }
        let next = match sleepers.peek() {
            Some(next) => receiver.recv_timeout(next.deadline - now),
            None => receiver.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match next {
            Ok(sleeper) => sleepers.push(sleeper),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sleepers_wake_in_deadline_order_and_never_early() {
        let start = Instant::now();
        let (order, mut woken) = tokio::sync::mpsc::unbounded_channel();
        for ms in [30u64, 10, 20, 10, 0] {
            let order = order.clone();
            tokio::spawn(async move {
                sleep(Duration::from_millis(ms)).await;
                let _ = order.send((ms, start.elapsed()));
            });
        }
        drop(order);
        let mut seen = Vec::new();
        while let Some((ms, elapsed)) = woken.recv().await {
            assert!(
                elapsed >= Duration::from_millis(ms),
                "a {ms} ms sleep ended after {elapsed:?}"
            );
            seen.push(ms);
        }
        assert_eq!(seen.len(), 5);
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(seen, sorted, "sleepers woke out of deadline order");
    }

    #[tokio::test]
    async fn a_cancelled_sleep_does_not_stop_the_others() {
        let cancelled =
            tokio::time::timeout(Duration::from_millis(1), sleep(Duration::from_secs(60)));
        assert!(cancelled.await.is_err());
        let start = Instant::now();
        sleep(Duration::from_millis(5)).await;
        assert!(start.elapsed() >= Duration::from_millis(5));
    }
}
