//! The report at the end of a run: a table per task, the totals, the
//! critical path as it actually ran, where the outputs are, and what to do
//! next.

use super::Finished;
use super::conduct::Status;
use super::journal::RunStatus;
use super::progress::human_ms;
use std::fmt::Write;
use std::path::Path;

/// The report, as text. `file` is how the user named the score or plan
/// (for the commands it suggests); paths are shown relative to `cwd`.
pub fn render(finished: &Finished, file: &str, cwd: &Path) -> String {
    let plan = &finished.plan;
    let outcome = &finished.outcome;
    let states = &outcome.states;
    let run = &finished.run;
    let mut out = String::new();

    let done = states.iter().filter(|s| s.status == Status::Done).count();
    let _ = writeln!(
        out,
        "\nRun {} {} in {}: {done} of {} tasks done",
        run.id,
        outcome.status.as_str(),
        human_ms(outcome.wall.as_millis() as u64),
        states.len()
    );
    let mut rows: Vec<[String; 6]> = vec![[
        "task".into(),
        "status".into(),
        "attempts".into(),
        "time".into(),
        "tokens".into(),
        "cost".into(),
    ]];
    let (mut tokens, mut cost, mut attempts) = (0u64, 0.0f64, 0u32);
    for (task, state) in plan.tasks.iter().zip(states) {
        let status = match state.status {
            Status::Done if state.cached_from.is_some() => match state.cache_checks {
                Some(checks) => format!("cached ({})", checks.describe()),
                None => "cached".to_string(),
            },
            Status::Done if state.resumed => "done before".to_string(),
            Status::Done => "done".to_string(),
            Status::Failed => "FAILED".to_string(),
            Status::Skipped => "skipped".to_string(),
            Status::AwaitingApproval => "waiting".to_string(),
            Status::Pending | Status::Ready | Status::Running => "not run".to_string(),
        };
        tokens += state.usage.total();
        cost += state.cost_usd;
        attempts += state.attempts;
        rows.push([
            task.id.clone(),
            status,
            state.attempts.to_string(),
            if state.duration_ms > 0 || state.status == Status::Done {
                human_ms(state.duration_ms)
            } else {
                "-".into()
            },
            if state.usage.total() > 0 {
                thousands(state.usage.total())
            } else {
                "-".into()
            },
            if state.cost_usd > 0.0 {
                format!("${:.4}", state.cost_usd)
            } else {
                "-".into()
            },
        ]);
    }
    rows.push([
        "total".into(),
        String::new(),
        attempts.to_string(),
        human_ms(outcome.wall.as_millis() as u64),
        if tokens > 0 {
            thousands(tokens)
        } else {
            "-".into()
        },
        if cost > 0.0 {
            format!("${cost:.4}")
        } else {
            "-".into()
        },
    ]);
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for (n, row) in rows.iter().enumerate() {
        if n == rows.len() - 1 {
            let _ = writeln!(
                out,
                "  {}",
                "-".repeat(widths.iter().sum::<usize>() + 2 * 5)
            );
        }
        let mut line = String::from("  ");
        for (c, cell) in row.iter().enumerate() {
            if c >= 2 {
                let _ = write!(line, "{cell:>w$}", w = widths[c]);
            } else {
                let _ = write!(line, "{cell:<w$}", w = widths[c]);
            }
            if c < 5 {
                line.push_str("  ");
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }

    // The critical path as it ran: from the task that finished last, back
    // through the dependency that finished last each time.
    let index = plan.index();
    let last = (0..states.len())
        .filter(|&i| states[i].status == Status::Done && states[i].finished_at.is_some())
        .max_by_key(|&i| states[i].finished_at);
    if let Some(mut i) = last {
        let mut chain = vec![i];
        while let Some(prev) = plan.tasks[i]
            .depends_on
            .iter()
            .filter_map(|d| index.get(d.as_str()).copied())
            .filter(|&d| states[d].finished_at.is_some())
            .max_by_key(|&d| states[d].finished_at)
        {
            chain.push(prev);
            i = prev;
        }
        chain.reverse();
        let steps: Vec<String> = chain
            .iter()
            .map(|&i| format!("{} ({})", plan.tasks[i].id, human_ms(states[i].duration_ms)))
            .collect();
        let _ = writeln!(out, "\nCritical path as run: {}", steps.join(" → "));
    }

    for (task, state) in plan.tasks.iter().zip(states) {
        if let (Status::Failed, Some((kind, message))) = (state.status, &state.failure) {
            let _ = writeln!(out, "\n`{}` failed ({}):", task.id, kind.as_str());
            let lines: Vec<&str> = message.lines().collect();
            for line in lines.iter().take(20) {
                let _ = writeln!(out, "  {line}");
            }
            if lines.len() > 20 {
                let _ = writeln!(out, "  … ({} more lines)", lines.len() - 20);
            }
            let _ = writeln!(
                out,
                "  logs: {}",
                shown(&run.logs().join(format!("{}.*", task.id)), cwd)
            );
        }
    }
    if let Some(message) = &outcome.budget_message {
        let _ = writeln!(out, "\nStopped dispatching: {message}.");
    }

    if let Some(branch) = &finished.branch {
        let _ = writeln!(
            out,
            "\nThe parts' work is on the branch `{branch}`: inspect it with `git log --first-parent {branch}`, take it with `git merge {branch}` (or run with --merge)"
        );
    }
    let _ = writeln!(out, "\nOutputs: {}", shown(&run.outputs(), cwd));
    let _ = writeln!(out, "Journal: {}", shown(&run.events(), cwd));
    match outcome.status {
        RunStatus::Succeeded => {}
        RunStatus::Paused => {
            for (task, state) in plan.tasks.iter().zip(states) {
                if state.status == Status::AwaitingApproval {
                    let _ = writeln!(
                        out,
                        "Waiting for {}: approve with `score approve {} {}`",
                        task.approve.as_deref().unwrap_or("approval"),
                        run.id,
                        task.id
                    );
                }
            }
            let _ = writeln!(
                out,
                "then continue with `{}`",
                super::resume_command(file, &run.id)
            );
        }
        RunStatus::Cancelled | RunStatus::Failed | RunStatus::OverBudget => {
            let _ = writeln!(
                out,
                "Continue with `{}` (finished tasks are not run again)",
                super::resume_command(file, &run.id)
            );
        }
    }
    // Failure messages quote what programs printed: no secret in them.
    finished.redactor.text(&out).into_owned()
}

fn shown(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd).unwrap_or(path).display().to_string()
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}
