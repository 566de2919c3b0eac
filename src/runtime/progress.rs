//! Showing a run as it goes: progress bars on a terminal, one plain line
//! per event otherwise, or the journal's own JSON lines on stdout
//! (`--events json`) for tools.

use super::journal::{Event, Record};
use super::redact::Redactor;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How to show progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Bars on stderr (a terminal).
    Bars,
    /// One line per event on stderr.
    Plain,
    /// Every journal record as a JSON line on stdout; nothing on stderr.
    Json,
    /// Nothing (benchmarks, embedding).
    Quiet,
}

impl Mode {
    /// Bars when stderr is a terminal, plain lines otherwise.
    pub fn auto() -> Mode {
        if std::io::stderr().is_terminal() && std::env::var_os("CI").is_none() {
            Mode::Bars
        } else {
            Mode::Plain
        }
    }
}

/// The display of one run; cheap to clone (shared).
#[derive(Clone)]
pub struct Progress {
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    mode: Mode,
    total: usize,
    finished: usize,
    multi: Option<MultiProgress>,
    overall: Option<ProgressBar>,
    running: HashMap<String, ProgressBar>,
    /// Masks the run's secrets in every line shown.
    redactor: Arc<Redactor>,
    /// The command that continues this run, for the line Ctrl-C prints.
    resume: String,
}

impl Progress {
    /// `total` tasks, of which `done` are done already (resumed).
    pub fn new(mode: Mode, total: usize, done: usize) -> Progress {
        let (multi, overall) = if mode == Mode::Bars {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let bar = multi.add(ProgressBar::new(total as u64));
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix:>12.cyan.bold} [{bar:30}] {pos}/{len} tasks  {elapsed}  {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_prefix("Running");
            bar.set_position(done as u64);
            bar.enable_steady_tick(Duration::from_millis(200));
            (Some(multi), Some(bar))
        } else {
            (None, None)
        };
        Progress {
            inner: Arc::new(Mutex::new(Inner {
                mode,
                total,
                finished: done,
                multi,
                overall,
                running: HashMap::new(),
                redactor: Redactor::none(),
                resume: "score run FILE --resume RUN_ID".to_string(),
            })),
        }
    }

    /// Every line shown from now on has the secrets of `redactor` masked
    /// (JSON lines come from the journal, masked already).
    pub fn set_redactor(&self, redactor: Arc<Redactor>) {
        self.lock().redactor = redactor;
    }

    /// The command that continues this run (`score run s.score --resume
    /// RUN_ID`), said when Ctrl-C cancels it.
    pub fn set_resume_command(&self, command: String) {
        self.lock().resume = command;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Shows one journal record (`line` is its JSON line).
    pub fn record(&self, record: &Record, line: &[u8]) {
        let mut inner = self.lock();
        match inner.mode {
            Mode::Json => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(line);
                let _ = out.flush();
            }
            Mode::Plain => {
                if let Some(text) = inner.describe(&record.event) {
                    eprintln!("{}", inner.redactor.text(&text));
                }
            }
            Mode::Bars => inner.bars(&record.event),
            Mode::Quiet => {}
        }
    }

    /// Asks a yes/no question on the terminal (approvals). The bars are
    /// hidden while the person answers.
    pub fn ask(&self, question: &str) -> bool {
        let multi = self.lock().multi.clone();
        let prompt = || {
            eprint!("{question} [y/N] ");
            let _ = std::io::stderr().flush();
            let mut answer = String::new();
            if std::io::stdin().lock().read_line(&mut answer).is_err() {
                return false;
            }
            matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
        };
        match multi {
            Some(multi) => multi.suspend(prompt),
            None => prompt(),
        }
    }

    /// Ctrl-C was pressed.
    pub fn cancelled(&self) {
        let mut inner = self.lock();
        if matches!(inner.mode, Mode::Json | Mode::Quiet) {
            return;
        }
        for (_, bar) in inner.running.drain() {
            bar.finish_and_clear();
        }
        let text = format!(
            "Cancelling: stopping the tasks in flight (run `{}` to continue)",
            inner.resume
        );
        match &inner.multi {
            Some(multi) => {
                let _ = multi.println(text);
            }
            None => eprintln!("{text}"),
        }
    }

    /// The run is over: clear the bars.
    pub fn finish(&self) {
        let mut inner = self.lock();
        for (_, bar) in inner.running.drain() {
            bar.finish_and_clear();
        }
        if let Some(bar) = inner.overall.take() {
            bar.finish_and_clear();
        }
    }
}

impl Inner {
    fn counter(&self) -> String {
        let width = self.total.to_string().len();
        format!("[{:>width$}/{}]", self.finished, self.total)
    }

    /// The plain line for an event (None: not worth a line).
    fn describe(&mut self, event: &Event) -> Option<String> {
        Some(match event {
            Event::RunStarted {
                run, tasks, edited, ..
            } if !edited.is_empty() => format!(
                "run {run}: {tasks} tasks, playing the uncommitted edits of {} (their hashes \
                 are in the journal's run_started)",
                edited.join(", ")
            ),
            Event::RunStarted { run, tasks, .. } => format!("run {run}: {tasks} tasks"),
            Event::RunResumed { run, done, .. } => {
                format!("resuming run {run}: {done} tasks already done")
            }
            Event::AttemptStarted {
                task,
                attempt,
                agent,
                ..
            } => {
                format!(
                    "{} start    {task} ({agent}, attempt {attempt})",
                    self.counter()
                )
            }
            Event::AttemptFailed {
                task,
                attempt,
                kind,
                message,
                ..
            } => format!(
                "{} retry    {task}: attempt {attempt} failed ({}): {}",
                self.counter(),
                kind.as_str(),
                gist(message)
            ),
            Event::TaskSucceeded {
                task,
                attempts,
                duration_ms,
                cached_from,
                cache_checks,
                ..
            } => {
                self.finished += 1;
                match cached_from {
                    Some(run) => format!(
                        "{} cached   {task} (from run {run}{})",
                        self.counter(),
                        cache_checks
                            .map(|c| format!("; {}", c.describe()))
                            .unwrap_or_default()
                    ),
                    None => format!(
                        "{} done     {task} ({} attempt{}, {})",
                        self.counter(),
                        attempts,
                        if *attempts == 1 { "" } else { "s" },
                        human_ms(*duration_ms)
                    ),
                }
            }
            Event::TaskFailed {
                task,
                kind,
                message,
                ..
            } => {
                self.finished += 1;
                format!(
                    "{} FAILED   {task} ({}): {}",
                    self.counter(),
                    kind.as_str(),
                    gist(message)
                )
            }
            Event::TaskSkipped { task, reason } => {
                self.finished += 1;
                format!("{} skipped  {task}: {reason}", self.counter())
            }
            Event::ApprovalRequested { task, approver, .. } => {
                format!(
                    "{} waiting  {task}: needs the approval of {approver}",
                    self.counter()
                )
            }
            Event::TaskCommitted { .. } => return None,
            Event::CacheRejected {
                task,
                cached_from,
                message,
            } => format!(
                "{} recheck  {task}: the result of run {cached_from} no longer holds, playing it again: {}",
                self.counter(),
                gist(message)
            ),
            Event::Approved { task, by } => format!("approved {task} (by {by})"),
            Event::Rejected { task, by } => format!("rejected {task} (by {by})"),
            Event::BudgetExhausted { message, .. } => {
                format!("budget: {message}; no new tasks will start")
            }
            Event::RunCancelled { .. } | Event::RunFinished { .. } => return None,
        })
    }

    fn bars(&mut self, event: &Event) {
        let Some(multi) = self.multi.clone() else {
            return;
        };
        match event {
            Event::AttemptStarted {
                task,
                attempt,
                agent,
                ..
            } => {
                let bar = self.running.entry(task.clone()).or_insert_with(|| {
                    let bar = multi.add(ProgressBar::new_spinner());
                    bar.set_style(
                        ProgressStyle::with_template("  {spinner} {prefix:.bold} {msg} {elapsed}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar.set_prefix(task.clone());
                    bar.enable_steady_tick(Duration::from_millis(120));
                    bar
                });
                bar.set_message(format!("{agent} · attempt {attempt} ·"));
            }
            Event::AttemptFailed {
                task,
                attempt,
                kind,
                message,
                ..
            } => {
                let _ = multi.println(format!(
                    "    attempt {attempt} of {task} failed ({}): {}",
                    kind.as_str(),
                    self.redactor.text(&gist(message))
                ));
            }
            _ => {
                let task = event.task().map(str::to_string);
                if let Some(text) = self.describe(event) {
                    // The counter is in the bar; keep the words.
                    let words = text
                        .split_once("] ")
                        .map_or(text.as_str(), |(_, w)| w)
                        .to_string();
                    let _ = multi.println(format!("    {}", self.redactor.text(&words)));
                }
                if matches!(
                    event,
                    Event::TaskSucceeded { .. }
                        | Event::TaskFailed { .. }
                        | Event::TaskSkipped { .. }
                        | Event::ApprovalRequested { .. }
                ) && let Some(task) = task
                    && let Some(bar) = self.running.remove(&task)
                {
                    bar.finish_and_clear();
                }
                if let Some(overall) = &self.overall {
                    overall.set_position(self.finished as u64);
                }
            }
        }
    }
}

/// A failure in one line: its first line, and when that line introduces a
/// list (it ends with `:`, as a boundary violation's does, before the
/// paths), the list's first items, so that the line names what went wrong.
fn gist(text: &str) -> String {
    const ITEMS: usize = 3;
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("");
    if !first.ends_with(':') {
        return first.to_string();
    }
    // Each item up to its reason (`, but ...`): the line is for what
    // happened to which path; the journal and the feedback say why.
    let items: Vec<&str> = lines
        .map_while(|l| l.trim_start().strip_prefix("- "))
        .map(|item| item.split(", but ").next().unwrap_or(item))
        .collect();
    if items.is_empty() {
        return first.to_string();
    }
    let mut shown = items[..items.len().min(ITEMS)].join("; ");
    if items.len() > ITEMS {
        shown.push_str(&format!("; and {} more", items.len() - ITEMS));
    }
    format!("{first} {shown}")
}

/// `850ms`, `4.2s`, `3m12s`.
pub fn human_ms(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else {
        let s = ms / 1000;
        if s < 3600 {
            format!("{}m{:02}s", s / 60, s % 60)
        } else {
            format!("{}h{:02}m", s / 3600, s % 3600 / 60)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::gist;

    #[test]
    fn a_failure_line_keeps_the_items_its_first_line_introduces() {
        let boundary = "Your previous attempt changed files outside the paths you may write, \
                        and those changes were undone:\n- `README.md` was modified, but it is \
                        outside the part's files\n- `stray.txt` was added\nOnly create, modify, delete or rename files \
                        whose paths match one of these globs:\n- `api/**`\n";
        assert_eq!(
            gist(boundary),
            "Your previous attempt changed files outside the paths you may write, and those \
             changes were undone: `README.md` was modified; `stray.txt` was added"
        );
        let many: String = (0..5).map(|i| format!("\n- `f{i}` was added")).collect();
        assert_eq!(
            gist(&format!("undone:{many}")),
            "undone: `f0` was added; `f1` was added; `f2` was added; and 2 more"
        );
        assert_eq!(gist("exit status 1\nstderr: boom"), "exit status 1");
        assert_eq!(gist("nothing follows:"), "nothing follows:");
    }
}
