//! Reading a spec-kit `tasks.md`: phases, tasks, their markers and words.
//!
//! The format (spec-kit's `templates/tasks-template.md`): tasks are
//! checklist items `- [ ] T012 [P] [US1] Description with src/paths.py`,
//! grouped under `## Phase N: ...` headings. Real files stray from it:
//! bold or code-quoted ids, markers in another order, nested bullets that
//! carry more of a task's words, tables, examples in code fences, CRLF,
//! tasks before the first phase, phases at heading levels 2 to 4. This
//! reader takes all of those; what it cannot read becomes a [`Warning`]
//! with a line number, never a failure.

use super::markdown::{self, LineKind};
use super::spec::{StoryHeading, story_heading};
use super::{Source, Warning};
use std::collections::HashMap;

/// Everything read from one `tasks.md`.
#[derive(Clone, Debug, Default)]
pub(crate) struct TaskList {
    /// The text of the first level-1 heading (`Tasks: Feature name`).
    pub title: Option<String>,
    /// Only phases that hold at least one task, in file order.
    pub phases: Vec<Phase>,
    pub tasks: Vec<Task>,
    pub warnings: Vec<Warning>,
}

/// A section of tasks. Phases run one after another.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Phase {
    /// The heading's text; empty for the tasks before the first phase.
    pub title: String,
    /// The heading's line; 0 for the tasks before the first phase.
    pub line: usize,
    /// The user story this phase implements, when its heading names one.
    pub story: Option<StoryHeading>,
    /// `**Key**: value` lines of the phase (`Goal`, `Independent Test`,
    /// `Checkpoint`), with the key in lower case.
    pub notes: Vec<(String, String)>,
}

/// One task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Task {
    /// As written, upper case (`T012`, `T002R`).
    pub id: String,
    pub line: usize,
    /// Checked (`[X]`).
    pub done: bool,
    /// Marked `[P]`: claims it can run beside its neighbours.
    pub parallel: bool,
    /// The user story numbers of its `[USn]` labels.
    pub stories: Vec<u32>,
    /// Its words without the id and markers, plus its nested lines.
    pub text: String,
    /// Index into [`TaskList::phases`].
    pub phase: usize,
}

/// The head of a task line: what precedes the description.
#[derive(Debug, Default, PartialEq, Eq)]
struct Head<'a> {
    id: Option<String>,
    done: bool,
    checkbox: bool,
    parallel: bool,
    stories: Vec<u32>,
    rest: &'a str,
}

/// Read `text`, the content of a `tasks.md`.
pub(crate) fn read(text: &str) -> TaskList {
    let lines = markdown::lines(text);
    let phase_levels = phase_levels(&lines);
    let mut list = TaskList::default();
    let mut pending = Phase::default();
    let mut pending_used = false;
    // The task whose nested lines may follow, with its indentation.
    let mut open: Option<(usize, usize)> = None;
    let mut table_header: Option<Vec<String>> = None;
    // Each id seen: the line of its first task, and how many tasks have it.
    let mut seen_ids: HashMap<String, (usize, usize)> = HashMap::new();
    let warn = |list: &mut TaskList, line: usize, message: String| {
        list.warnings.push(Warning {
            source: Source::Tasks,
            line,
            message,
        });
    };

    for (index, line) in lines.iter().enumerate() {
        match line.kind {
            LineKind::Hidden => continue,
            LineKind::Heading { level, title } => {
                open = None;
                table_header = None;
                if level == 1 && list.title.is_none() {
                    list.title = Some(markdown::plain(title));
                }
                if phase_levels.as_ref().is_some_and(|p| p.contains(&level)) {
                    pending = Phase {
                        title: markdown::plain(title),
                        line: line.number,
                        story: story_heading(title),
                        notes: Vec::new(),
                    };
                    pending_used = false;
                }
                continue;
            }
            LineKind::Text => {}
        }
        let raw = line.text;
        // A quoted task (`> - [ ] T001 ...`) is still a task.
        let trimmed = raw.trim().trim_start_matches(['>', ' ']).trim();
        if trimmed.is_empty() {
            continue;
        }
        if let Some(note) = note(trimmed) {
            if pending_used {
                list.phases
                    .last_mut()
                    .expect("a used phase")
                    .notes
                    .push(note);
            } else {
                pending.notes.push(note);
            }
        }
        let indent = raw.len() - raw.trim_start().len();

        // Tables: a row naming a task id is a task.
        if trimmed.starts_with('|') {
            open = None;
            let cells = cells(trimmed);
            if cells.iter().all(|c| is_separator_cell(c)) {
                continue;
            }
            let next_is_separator = lines.get(index + 1).is_some_and(|next| {
                let t = next.text.trim();
                t.starts_with('|') && cells_of(t).iter().all(|c| is_separator_cell(c))
            });
            if next_is_separator {
                table_header = Some(cells.iter().map(|c| c.to_lowercase()).collect());
                continue;
            }
            if let Some(task) = table_task(&cells, table_header.as_deref()) {
                let index = phase_index(&mut list, &mut pending, &mut pending_used);
                push_task(&mut list, &mut seen_ids, task, line.number, index);
            }
            continue;
        }
        table_header = None;

        if let Some(head) = task_head(trimmed) {
            let has_list_marker = head.checkbox || list_marker(trimmed).is_some();
            match &head.id {
                Some(id) if head.checkbox || !seen_ids.contains_key(&id.to_uppercase()) => {
                    if !has_list_marker {
                        continue;
                    }
                    let index = phase_index(&mut list, &mut pending, &mut pending_used);
                    let task = Task {
                        id: id.to_uppercase(),
                        line: line.number,
                        done: head.done,
                        parallel: head.parallel,
                        stories: head.stories,
                        text: head.rest.trim().to_string(),
                        phase: index,
                    };
                    push_task(&mut list, &mut seen_ids, task, line.number, index);
                    open = Some((list.tasks.len() - 1, indent));
                    continue;
                }
                Some(_) => {
                    // A bullet that mentions a known task ("- T005 depends
                    // on T003"): a reference, not a task.
                    open = None;
                    continue;
                }
                None if head.checkbox => {
                    warn(
                        &mut list,
                        line.number,
                        format!(
                            "a checklist item without a task id (like T001) is not imported: \
                             \"{}\"",
                            shorten(trimmed)
                        ),
                    );
                    open = None;
                    continue;
                }
                None => {}
            }
        }
        // A nested line of the open task: more of its words.
        match open {
            Some((task, task_indent)) if indent > task_indent => {
                let text = &mut list.tasks[task].text;
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(trimmed);
            }
            _ => open = None,
        }
    }
    list
}

/// Add a task, renaming a repeated id (with a warning).
fn push_task(
    list: &mut TaskList,
    seen: &mut HashMap<String, (usize, usize)>,
    mut task: Task,
    line: usize,
    phase: usize,
) {
    task.phase = phase;
    task.line = line;
    // Renamed ids (`T001_2`) cannot clash with written ones: those have no
    // `_`.
    let (first, count) = seen.entry(task.id.clone()).or_insert((line, 0));
    *count += 1;
    if *count > 1 {
        let renamed = format!("{}_{count}", task.id);
        list.warnings.push(Warning {
            source: Source::Tasks,
            line,
            message: format!(
                "{} is used again (first at line {first}); this task is imported as {renamed}",
                task.id
            ),
        });
        task.id = renamed;
    }
    if task.text.is_empty() {
        list.warnings.push(Warning {
            source: Source::Tasks,
            line,
            message: format!("{} has no description", task.id),
        });
    }
    list.tasks.push(task);
}

/// The index of the phase new tasks go to, creating it on its first task.
fn phase_index(list: &mut TaskList, pending: &mut Phase, used: &mut bool) -> usize {
    if !*used {
        list.phases.push(std::mem::take(pending));
        *used = true;
    }
    list.phases.len() - 1
}

/// The heading levels that start a phase: from the top (a document's
/// single level-1 heading is its title, not a phase) down to the shallowest
/// level among the headings above some task. Deeper headings are
/// subsections of a phase.
fn phase_levels(lines: &[markdown::Line<'_>]) -> Option<std::ops::RangeInclusive<usize>> {
    let titles = lines
        .iter()
        .filter(|l| matches!(l.kind, LineKind::Heading { level: 1, .. }))
        .count();
    let lowest_counted = if titles == 1 { 2 } else { 1 };
    let mut stack: Vec<usize> = Vec::new();
    let mut best: Option<usize> = None;
    for line in lines {
        match line.kind {
            LineKind::Heading { level, .. } => {
                stack.retain(|&l| l < level);
                stack.push(level);
            }
            LineKind::Text => {
                let t = line.text.trim().trim_start_matches(['>', ' ']).trim();
                let is_task = (t.starts_with('|') && cells(t).iter().any(|c| task_id(c).is_some()))
                    || task_head(t).is_some_and(|h| h.id.is_some());
                if is_task && let Some(&level) = stack.iter().find(|&&l| l >= lowest_counted) {
                    best = Some(best.map_or(level, |b: usize| b.min(level)));
                }
            }
            LineKind::Hidden => {}
        }
    }
    best.map(|b| lowest_counted..=b)
}

/// `- `, `* `, `+ `, `1. ` or `1) ` at the start of `text`: the rest.
fn list_marker(text: &str) -> Option<&str> {
    for marker in ["- ", "* ", "+ "] {
        if let Some(rest) = text.strip_prefix(marker) {
            return Some(rest);
        }
    }
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && digits < 10 {
        let rest = &text[digits..];
        for marker in [". ", ") "] {
            if let Some(rest) = rest.strip_prefix(marker) {
                return Some(rest);
            }
        }
    }
    None
}

/// The head of a list item or checklist line: checkbox, id and markers in
/// any order, the description after them. `None` when `text` is neither a
/// list item nor a checklist item.
fn task_head(text: &str) -> Option<Head<'_>> {
    let mut head = Head::default();
    let mut rest = match list_marker(text) {
        Some(rest) => rest.trim_start(),
        None if text.starts_with('[') => text,
        None => return None,
    };
    for (mark, done) in [("[ ]", false), ("[x]", true), ("[X]", true)] {
        if let Some(after) = rest.strip_prefix(mark) {
            head.checkbox = true;
            head.done = done;
            rest = after.trim_start();
            break;
        }
    }
    // Leading words: the id and the markers, in any order, possibly bold,
    // in code ticks, glued together (`[P][US1]`) or ending in `:`.
    loop {
        let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = &rest[..word_end];
        if word.is_empty() {
            break;
        }
        let bare = word
            .trim_matches(|c| c == '*' || c == '_' || c == '`')
            .trim_end_matches([':', '.', ','])
            .trim_matches(|c| c == '*' || c == '_' || c == '`');
        let mut consumed = false;
        if head.id.is_none()
            && let Some(id) = task_id(bare)
        {
            head.id = Some(id);
            consumed = true;
        } else if let Some(markers) = markers(bare) {
            for marker in markers {
                match marker {
                    Marker::Parallel => head.parallel = true,
                    Marker::Story(n) => {
                        if !head.stories.contains(&n) {
                            head.stories.push(n);
                        }
                    }
                }
            }
            consumed = true;
        }
        if !consumed {
            break;
        }
        rest = rest[word_end..].trim_start();
        // A separator after the head: `T001 - Do it`, `T001 — Do it`.
        for dash in ["- ", "– ", "— "] {
            if head.id.is_some() && rest.starts_with(dash) {
                rest = rest[dash.len()..].trim_start();
            }
        }
    }
    head.rest = rest;
    Some(head)
}

enum Marker {
    Parallel,
    Story(u32),
}

/// `[P]`, `(P)`, `[US1]`, `[US1, US2]`, `[Story 2]`, or several glued
/// (`[P][US1]`); `None` if the word is anything else.
fn markers(word: &str) -> Option<Vec<Marker>> {
    if word == "(P)" || word == "(p)" {
        return Some(vec![Marker::Parallel]);
    }
    if !word.starts_with('[') || !word.ends_with(']') {
        return None;
    }
    let mut out = Vec::new();
    for group in word[1..word.len() - 1].split("][") {
        for item in group.split(',') {
            let item = item.trim();
            let upper = item.to_ascii_uppercase();
            if upper == "P" || upper == "PARALLEL" {
                out.push(Marker::Parallel);
            } else if let Some(n) = story_label(&upper) {
                out.push(Marker::Story(n));
            } else {
                return None;
            }
        }
    }
    Some(out)
}

/// `US1`, `US-1`, `US 1`, `STORY 1`, `STORY1` (upper case) → 1.
fn story_label(upper: &str) -> Option<u32> {
    let rest = upper
        .strip_prefix("US")
        .or_else(|| upper.strip_prefix("STORY"))?;
    let digits = rest.trim_start_matches(['-', ' ', '_']);
    if digits.is_empty() || digits.len() > 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A task id: `T`, an optional `-`, digits, then letters (`T012`,
/// `T002R`, `t7`, `T-001`), returned upper case without the `-`.
fn task_id(word: &str) -> Option<String> {
    let rest = word.strip_prefix(['T', 't'])?;
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let letters = &rest[digits..];
    if letters.len() > 3 || !letters.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    Some(format!("T{}", rest.to_ascii_uppercase()))
}

/// `**Independent Test**: text` → ("independent test", "text").
fn note(line: &str) -> Option<(String, String)> {
    let line = line.strip_prefix("**")?;
    let (key, value) = line.split_once("**")?;
    let key = key.trim().trim_end_matches(':').trim();
    let value = value.trim_start().strip_prefix(':').unwrap_or(value).trim();
    if key.is_empty() || value.is_empty() || key.len() > 40 {
        return None;
    }
    Some((key.to_lowercase(), markdown::plain(value)))
}

fn cells_of(row: &str) -> Vec<&str> {
    let inner = row.trim();
    let inner = inner.strip_prefix('|').unwrap_or(inner);
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    inner.split('|').map(str::trim).collect()
}

fn cells(row: &str) -> Vec<String> {
    cells_of(row).into_iter().map(str::to_string).collect()
}

fn is_separator_cell(cell: &str) -> bool {
    let t = cell.trim();
    !t.is_empty() && t.chars().all(|c| matches!(c, '-' | ':' | ' '))
}

/// A task from a table row: one cell is the id; columns whose header says
/// parallel, story or status give those markers; the other cells are the
/// description.
fn table_task(cells: &[String], header: Option<&[String]>) -> Option<Task> {
    let unwrap = |c: &str| {
        c.trim_matches(|x| x == '*' || x == '`' || x == '_')
            .to_string()
    };
    let id_at = cells.iter().position(|c| task_id(&unwrap(c)).is_some())?;
    let id = task_id(&unwrap(&cells[id_at]))?;
    let mut task = Task {
        id,
        line: 0,
        done: false,
        parallel: false,
        stories: Vec::new(),
        text: String::new(),
        phase: 0,
    };
    let mut words = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        if i == id_at || cell.is_empty() {
            continue;
        }
        let name = header.and_then(|h| h.get(i)).map_or("", String::as_str);
        let value = unwrap(cell);
        let lower = value.to_lowercase();
        let yes = matches!(
            lower.as_str(),
            "[p]" | "p" | "yes" | "y" | "x" | "[x]" | "✓" | "✔" | "✅" | "true" | "done"
        );
        if name.contains("parallel") || name == "[p]" || name == "p" {
            task.parallel |= yes;
        } else if name.contains("status") || name.contains("done") || name == "✓" {
            task.done |= yes || lower.contains("done") || lower.contains("complete");
        } else if name.contains("story") {
            let label = value.trim_matches(['[', ']']).to_ascii_uppercase();
            if let Some(n) = story_label(&label) {
                task.stories.push(n);
            }
        } else if matches!(lower.as_str(), "[ ]" | "[x]") {
            task.done |= lower == "[x]";
        } else if let Some(marks) = markers(&value) {
            for m in marks {
                match m {
                    Marker::Parallel => task.parallel = true,
                    Marker::Story(n) => task.stories.push(n),
                }
            }
        } else {
            words.push(cell.as_str());
        }
    }
    // Markers may also lead the description cell.
    let joined = words.join(" — ");
    match task_head(&format!("- {joined}")) {
        Some(head) => {
            task.parallel |= head.parallel;
            for n in head.stories {
                if !task.stories.contains(&n) {
                    task.stories.push(n);
                }
            }
            task.text = head.rest.trim().to_string();
        }
        None => task.text = joined,
    }
    Some(task)
}

/// A line cut to a readable length for a warning.
pub(crate) fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_shape_is_read() {
        let text = "# Tasks: Demo\n\n## Phase 1: Setup\n\n- [ ] T001 Create src/\n- [X] T002 [P] Configure .eslintrc.json\n\n## Phase 2: User Story 1 - Sign in (Priority: P1) 🎯 MVP\n\n**Independent Test**: a user signs in\n\n- [ ] T003 [P] [US1] Model in src/user.py\n  - also src/user_test.py\n- [ ] T004 [US1] Service\n";
        let list = read(text);
        assert_eq!(list.title.as_deref(), Some("Tasks: Demo"));
        assert_eq!(list.phases.len(), 2);
        assert_eq!(list.phases[1].story.as_ref().map(|s| s.number), Some(1));
        assert_eq!(
            list.phases[1].notes,
            [(
                "independent test".to_string(),
                "a user signs in".to_string()
            )]
        );
        let ids: Vec<&str> = list.tasks.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["T001", "T002", "T003", "T004"]);
        assert!(list.tasks[1].done && list.tasks[1].parallel);
        assert_eq!(list.tasks[2].stories, [1]);
        assert_eq!(
            list.tasks[2].text,
            "Model in src/user.py\n- also src/user_test.py"
        );
        assert_eq!(list.tasks[2].line, 12);
        assert_eq!(list.tasks[3].phase, 1);
        assert!(list.warnings.is_empty(), "{:?}", list.warnings);
    }

    #[test]
    fn heads_in_other_shapes() {
        let head = task_head("- [ ] **T012** [P][US2] Do it").unwrap();
        assert_eq!(head.id.as_deref(), Some("T012"));
        assert!(head.parallel);
        assert_eq!(head.stories, [2]);
        assert_eq!(head.rest, "Do it");
        let head = task_head("* [x] [P] `t002r`: Fix - it").unwrap();
        assert_eq!(
            (head.id.as_deref(), head.done, head.rest),
            (Some("T002R"), true, "Fix - it")
        );
        let head = task_head("1. T-003 — Write").unwrap();
        assert_eq!((head.id.as_deref(), head.rest), (Some("T003"), "Write"));
        assert!(task_head("Plain text T001").is_none());
        assert_eq!(task_head("- [ ] Do it without id").unwrap().id, None);
        assert_eq!(task_head("- The [P] marker").unwrap().id, None);
    }

    #[test]
    fn tables_fences_references_and_repeats() {
        let text = "## Phase 1\n| ID | Parallel | Story | Task |\n|---|---|---|---|\n| T001 | yes | US1 | Write a.py |\n| **T002** | | | [P] Write b.py |\n```\n- [ ] T009 example\n```\n- [ ] T001 again\n- [ ] no id here\n\n## Notes\n- T002 depends on T001\n";
        let list = read(text);
        let ids: Vec<&str> = list.tasks.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["T001", "T002", "T001_2"]);
        assert!(list.tasks[0].parallel && list.tasks[1].parallel);
        assert_eq!(list.tasks[0].stories, [1]);
        assert_eq!(list.tasks[1].text, "Write b.py");
        let lines: Vec<usize> = list.warnings.iter().map(|w| w.line).collect();
        assert_eq!(lines, [9, 10], "{:?}", list.warnings);
    }

    #[test]
    fn quoted_tasks_are_tasks() {
        let list = read("> - [ ] T001 [P] Write a.py\n> > - [x] T002 [P] Write b.py\n");
        let ids: Vec<(&str, bool)> = list.tasks.iter().map(|t| (t.id.as_str(), t.done)).collect();
        assert_eq!(ids, [("T001", false), ("T002", true)]);
    }

    #[test]
    fn deeper_phase_headings_and_tasks_before_them() {
        let text = "# T\n- [ ] T001 first\n### Phase A\n#### Sub\n- [ ] T002 [P] a\n#### Other sub\n- [ ] T003 [P] b\n### Phase B\n- [ ] T004 c\n";
        let list = read(text);
        assert_eq!(list.phases.len(), 3);
        assert_eq!(list.phases[0].title, "");
        assert_eq!(list.phases[1].title, "Phase A");
        let phases: Vec<usize> = list.tasks.iter().map(|t| t.phase).collect();
        assert_eq!(phases, [0, 1, 1, 2]);
    }
}
