//! The event stream of a run: its journal, tailed.
//!
//! Why tail the file: the journal is the one record of a run, whoever
//! writes it (this process, another `score run`, `score approve`), so a
//! stream that reads it shows a live run, a finished one and a resumed one
//! the same way. Each stream reads the file from the start, then what is
//! appended, a few times a second: every complete new line goes out as a
//! `record` event, then the state folded from all of them as one `state`
//! event. A torn last line (a write in progress) waits for its end.

use super::Ui;
use crate::runtime::journal::{Record, now_ms};
use crate::runtime::state;
use axum::extract::{Path as UrlPath, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How often the journal is looked at.
const TICK: Duration = Duration::from_millis(200);

/// One reader of one journal.
struct Tail {
    ui: Arc<Ui>,
    id: String,
    offset: u64,
    /// The bytes of an incomplete last line.
    partial: Vec<u8>,
    records: Vec<Record>,
    plan: Option<Arc<crate::plan::Plan>>,
    /// The last state sent (to send a change of liveness without a record).
    last_state: Option<String>,
    closing: tokio::sync::watch::Receiver<bool>,
    done: bool,
    /// The last state sent says the run plays.
    running: bool,
}

/// Counts an open stream for as long as it lives.
struct Open(Arc<Ui>);

impl Drop for Open {
    fn drop(&mut self) {
        if self.0.streams.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.drained.notify_waiters();
        }
    }
}

pub(super) async fn events(State(ui): State<Arc<Ui>>, UrlPath(id): UrlPath<String>) -> Response {
    if let Err(e) = ui.known_run(&id) {
        return e.into_response();
    }
    ui.streams.fetch_add(1, Ordering::SeqCst);
    let open = Open(ui.clone());
    let tail = Tail {
        closing: ui.closing.subscribe(),
        ui,
        id,
        offset: 0,
        partial: Vec::new(),
        records: Vec::new(),
        plan: None,
        last_state: None,
        done: false,
        running: false,
    };
    let stream = futures_util::stream::unfold((tail, open), |(mut tail, open)| async move {
        let events = tail.next_batch().await?;
        Some((
            futures_util::stream::iter(events.into_iter().map(Ok::<_, Infallible>)),
            (tail, open),
        ))
    });
    use futures_util::StreamExt;
    Sse::new(stream.flatten())
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

impl Tail {
    /// The next events: at once when the journal has grown, else after
    /// the next tick that finds something. `None`: the stream ends (the
    /// server is closing and everything was sent).
    async fn next_batch(&mut self) -> Option<Vec<SseEvent>> {
        if self.done {
            return None;
        }
        let mut ticks = 0u32;
        loop {
            let closing = *self.closing.borrow();
            let mut events = self.read().await;
            if !events.is_empty() || self.last_state.is_none() {
                events.extend(self.state_event());
                return Some(events);
            }
            // No new line: once a second, whether the run died under its
            // journal (only a run still playing can).
            ticks += 1;
            if self.running
                && ticks.is_multiple_of(5)
                && let Some(event) = self.state_event()
            {
                return Some(vec![event]);
            }
            if closing {
                self.done = true;
                return None;
            }
            let mut closing = self.closing.clone();
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                _ = closing.changed() => {}
            }
        }
    }

    /// The complete lines appended since the last read, as `record` events.
    async fn read(&mut self) -> Vec<SseEvent> {
        let path = self.ui.runs.run(&self.id).events();
        let offset = self.offset;
        let read = tokio::task::spawn_blocking(move || -> std::io::Result<(Vec<u8>, u64)> {
            let mut file = std::fs::File::open(&path)?;
            let len = file.metadata()?.len();
            // A journal cut shorter (`score clean --runs` and a new run of
            // the same id cannot happen, but a truncation can): start over.
            let from = if len < offset { 0 } else { offset };
            file.seek(SeekFrom::Start(from))?;
            let mut bytes = Vec::new();
            file.take(len - from).read_to_end(&mut bytes)?;
            Ok((bytes, from))
        })
        .await;
        let Ok(Ok((bytes, from))) = read else {
            return Vec::new();
        };
        if from < self.offset {
            self.partial.clear();
            self.records.clear();
        }
        self.offset = from + bytes.len() as u64;
        self.partial.extend_from_slice(&bytes);
        let Some(end) = self.partial.iter().rposition(|&b| b == b'\n') else {
            return Vec::new();
        };
        let complete: Vec<u8> = self.partial.drain(..=end).collect();
        if self.plan.is_none() {
            self.plan = self.ui.plan(&self.id);
        }
        let redactor = self.ui.redactor(&self.id);
        let mut events = Vec::new();
        for line in String::from_utf8_lossy(&complete).lines() {
            if line.trim().is_empty() {
                continue;
            }
            if let Ok(record) = serde_json::from_str::<Record>(line) {
                self.records.push(record);
                events.push(
                    SseEvent::default()
                        .event("record")
                        .data(&*redactor.text(line)),
                );
            }
        }
        events
    }

    /// The state now, as a `state` event, unless it is the one sent last.
    fn state_event(&mut self) -> Option<SseEvent> {
        let folded = state::fold(&self.id, self.plan.as_deref(), &self.records);
        let mut settled = state::settle(folded, now_ms());
        self.running = settled.phase == state::RunPhase::Running;
        // Elapsed times tick every moment; they do not make a new state.
        for part in &mut settled.parts {
            if part.ended_at.is_none() {
                part.elapsed_ms = 0;
            }
        }
        let json = self.ui.redacted_json(&self.id, &settled).ok()?.to_string();
        if self.last_state.as_deref() == Some(json.as_str()) {
            return None;
        }
        self.last_state = Some(json.clone());
        Some(SseEvent::default().event("state").data(json))
    }
}
