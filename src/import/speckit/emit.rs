//! From what tasks.md and spec.md say to the text of a score.
//!
//! The mapping (docs/import.md): each task is a part named after its id,
//! owning the paths its words name; each user story is an intent; the
//! order is one `sequence` in which phases follow one another and each run
//! of consecutive `[P]` tasks of a phase is a group. The text is written
//! plainly here and laid out by the formatter afterwards.

use super::paths;
use super::spec::Spec;
use super::tasks::{Task, TaskList};
use super::{Source, Warning};
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

/// The agent that plays every part, from the standard library; the header
/// of the score tells the reader to change it.
const AGENT: &str = "claude_code";

/// The language's reserved words (docs/language.md, "Names").
const RESERVED: &[&str] = &[
    "score", "use", "type", "enum", "intent", "check", "contract", "agent", "part", "sequence",
    "by", "true", "false",
];

/// The intent of the tasks that name no user story.
const FEATURE_INTENT: &str = "feature";

/// The score's text (not yet formatted) and what the report needs.
pub(crate) struct Emitted {
    pub text: String,
    /// Part name → index of its task.
    pub parts: Vec<(String, usize)>,
    /// Steps of the sequence that hold two or more tasks.
    pub groups: usize,
    pub intents: usize,
    pub warnings: Vec<Warning>,
}

/// Write the score for `list` (and `spec`, when the feature has one).
/// `feature` is the feature's directory name (`001-user-auth`).
pub(crate) fn emit(list: &TaskList, spec: Option<&Spec>, feature: &str) -> Emitted {
    let mut warnings = Vec::new();
    let mut out = String::new();
    let from = if spec.is_some() {
        "tasks.md and spec.md"
    } else {
        "tasks.md"
    };
    let _ = writeln!(
        out,
        "// Imported by `score import speckit` from the {from} of spec-kit\n\
         // feature `{}`.",
        comment_text(feature)
    );
    out.push_str(
        "// Each task is a part that owns the files its words name; the sequence keeps\n\
         // the phases in order and runs the tasks marked [P] side by side.\n\
         // Choose the agent (`default_agent`), then run `score check` on this file.\n",
    );
    let _ = writeln!(out, "use std.agents.{{{AGENT}}}\n");

    let names = part_names(&list.tasks);
    let title = spec
        .and_then(|s| s.title.clone())
        .or_else(|| {
            list.title.as_ref().map(|t| {
                t.split_once(':')
                    .map_or(t.as_str(), |(_, name)| name)
                    .trim()
                    .to_string()
            })
        })
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| feature.to_string());
    let score_name = score_name(feature, &names);
    let _ = writeln!(
        out,
        "score {score_name} {{\n  title {}\n  default_agent {AGENT}\n}}\n",
        quote(&title)
    );

    // Intents: every story a task or the spec names, then the feature.
    let mut stories: BTreeSet<u32> = list.tasks.iter().flat_map(|t| t.stories.clone()).collect();
    if let Some(spec) = spec {
        stories.extend(spec.stories.iter().map(|s| s.heading.number));
    }
    // Where each story is first named, looked up once (a file may name
    // thousands of stories).
    let mut story_sources = StorySources::default();
    for task in &list.tasks {
        for &n in &task.stories {
            story_sources.first_task_line.entry(n).or_insert(task.line);
        }
    }
    for (index, phase) in list.phases.iter().enumerate() {
        if let Some(story) = &phase.story {
            story_sources.phase.entry(story.number).or_insert(index);
        }
    }
    if let Some(spec) = spec {
        for (index, story) in spec.stories.iter().enumerate() {
            story_sources
                .spec
                .entry(story.heading.number)
                .or_insert(index);
        }
    }
    for &n in &stories {
        write_story(&mut out, n, list, spec, &story_sources, &mut warnings);
    }
    let needs_feature = list.tasks.iter().any(|t| t.stories.is_empty());
    if needs_feature {
        write_feature_intent(&mut out, &title, list, spec);
    }
    let intents = stories.len() + usize::from(needs_feature);

    // Parts.
    let mut parts = Vec::with_capacity(list.tasks.len());
    for (index, task) in list.tasks.iter().enumerate() {
        let name = &names[index];
        write_part(&mut out, name, task, &mut warnings);
        parts.push((name.clone(), index));
    }

    let groups = write_sequence(&mut out, list, &names);
    Emitted {
        text: out,
        parts,
        groups,
        intents,
        warnings,
    }
}

/// `T012` → `t012`; a repeated id was already renamed `T012_2`.
fn part_names(tasks: &[Task]) -> Vec<String> {
    tasks.iter().map(|t| t.id.to_ascii_lowercase()).collect()
}

/// An identifier for the score from the feature's directory name:
/// `001-user-auth` → `feature_001_user_auth`.
fn score_name(feature: &str, taken: &[String]) -> String {
    let mut name = String::new();
    for c in feature.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('_') && !name.is_empty() {
            name.push('_');
        }
    }
    let name = name.trim_end_matches('_').to_string();
    let needs_prefix = name.is_empty()
        || name.starts_with(|c: char| c.is_ascii_digit())
        || RESERVED.contains(&name.as_str())
        || name == FEATURE_INTENT
        || name == AGENT
        || taken.contains(&name)
        || (name.starts_with("us") && name[2..].bytes().all(|b| b.is_ascii_digit()));
    match (needs_prefix, name.is_empty()) {
        (_, true) => "feature_score".to_string(),
        (true, false) => format!("feature_{name}"),
        (false, false) => name,
    }
}

/// For each story number: the line of the first task labelled with it,
/// the first phase whose heading names it, its story in spec.md.
#[derive(Default)]
struct StorySources {
    first_task_line: HashMap<u32, usize>,
    phase: HashMap<u32, usize>,
    spec: HashMap<u32, usize>,
}

fn write_story(
    out: &mut String,
    n: u32,
    list: &TaskList,
    spec: Option<&Spec>,
    sources: &StorySources,
    warnings: &mut Vec<Warning>,
) {
    let from_spec = spec.and_then(|s| sources.spec.get(&n).map(|&i| &s.stories[i]));
    let phase = sources.phase.get(&n).map(|&i| &list.phases[i]);
    if spec.is_some() && from_spec.is_none() {
        let line = sources.first_task_line.get(&n).copied().unwrap_or(0);
        warnings.push(Warning {
            source: Source::Tasks,
            line,
            message: format!(
                "[US{n}] names user story {n}, which spec.md does not have; its intent is made \
                 from tasks.md"
            ),
        });
    }
    let heading = from_spec
        .map(|s| s.heading.clone())
        .or_else(|| phase.and_then(|p| p.story.clone()));
    let title = heading
        .as_ref()
        .map_or_else(|| format!("User story {n}"), |h| h.title.clone());
    let mut accept: Vec<String> = from_spec.map(|s| s.scenarios.clone()).unwrap_or_default();
    if accept.is_empty()
        && let Some(phase) = phase
    {
        accept.extend(
            phase
                .notes
                .iter()
                .filter(|(k, _)| k == "independent test" || k == "checkpoint")
                .map(|(_, v)| v.clone()),
        );
    }
    if accept.is_empty() {
        accept.push(format!("the tasks of user story {n} in tasks.md are done"));
    }
    match from_spec {
        Some(story) => {
            let _ = writeln!(out, "// User story {n}, spec.md:{}", story.line);
        }
        None => match phase {
            Some(p) => {
                let _ = writeln!(out, "// User story {n}, tasks.md:{}", p.line);
            }
            None => {
                let _ = writeln!(
                    out,
                    "// User story {n}, from the [US{n}] labels of tasks.md"
                );
            }
        },
    }
    let _ = writeln!(out, "intent us{n} {} {{", quote(&title));
    if let Some(p) = heading.and_then(|h| h.priority) {
        let priority = match p {
            0 | 1 => "must",
            2 => "should",
            _ => "could",
        };
        let _ = writeln!(out, "  priority {priority}");
    }
    for a in accept {
        let _ = writeln!(out, "  accept {}", quote(&a));
    }
    out.push_str("}\n\n");
}

fn write_feature_intent(out: &mut String, title: &str, list: &TaskList, spec: Option<&Spec>) {
    let mut accept: Vec<String> = spec.map(|s| s.success.clone()).unwrap_or_default();
    if accept.is_empty() {
        for phase in list.phases.iter().filter(|p| p.story.is_none()) {
            accept.extend(
                phase
                    .notes
                    .iter()
                    .filter(|(k, _)| k == "checkpoint")
                    .map(|(_, v)| v.clone()),
            );
        }
    }
    if accept.is_empty() {
        accept.push("every task in tasks.md is done".to_string());
    }
    out.push_str("// The feature as a whole: served by the tasks of no user story.\n");
    let _ = writeln!(out, "intent {FEATURE_INTENT} {} {{", quote(title));
    out.push_str("  priority must\n");
    for a in accept {
        let _ = writeln!(out, "  accept {}", quote(&a));
    }
    out.push_str("}\n\n");
}

fn write_part(out: &mut String, name: &str, task: &Task, warnings: &mut Vec<Warning>) {
    let found = paths::find(&task.text);
    for problem in &found.problems {
        warnings.push(Warning {
            source: Source::Tasks,
            line: task.line,
            message: format!("{}: {problem}", task.id),
        });
    }
    if found.globs.is_empty() {
        warnings.push(Warning {
            source: Source::Tasks,
            line: task.line,
            message: format!(
                "{} names no file path, so its part owns nothing; add the paths it writes",
                task.id
            ),
        });
    }
    let mut comment = format!("// {}, tasks.md:{}", task.id, task.line);
    if task.parallel {
        comment.push_str(", marked [P]");
    }
    if task.done {
        comment.push_str(", done (checked in tasks.md)");
    }
    let _ = writeln!(out, "{comment}");
    let _ = writeln!(out, "part {name} {{");
    if task.stories.is_empty() {
        let _ = writeln!(out, "  serves {FEATURE_INTENT}");
    } else {
        let serves: Vec<String> = task.stories.iter().map(|n| format!("us{n}")).collect();
        let _ = writeln!(out, "  serves {}", serves.join(", "));
    }
    if !found.globs.is_empty() {
        let owns: Vec<String> = found.globs.iter().map(|g| quote(g)).collect();
        let _ = writeln!(out, "  owns {}", owns.join(", "));
    }
    if !task.text.is_empty() {
        let _ = writeln!(out, "  brief {}", quote(&task.text));
    }
    out.push_str("}\n\n");
}

/// The one `sequence`: a chain per phase, each starting from the last step
/// of the phase before, so that phases follow one another. Returns how many
/// steps are groups of two or more tasks.
fn write_sequence(out: &mut String, list: &TaskList, names: &[String]) -> usize {
    // Steps per phase: runs of consecutive [P] tasks, or single tasks.
    let mut phases: Vec<Vec<Vec<usize>>> = vec![Vec::new(); list.phases.len()];
    for (index, task) in list.tasks.iter().enumerate() {
        let steps = &mut phases[task.phase];
        let extend = task.parallel
            && steps
                .last()
                .and_then(|s: &Vec<usize>| s.last())
                .is_some_and(|&prev| list.tasks[prev].parallel);
        if extend {
            steps.last_mut().expect("a step").push(index);
        } else {
            steps.push(vec![index]);
        }
    }
    let step = |members: &[usize]| -> String {
        if members.len() == 1 {
            names[members[0]].clone()
        } else {
            let inner: Vec<&str> = members.iter().map(|&i| names[i].as_str()).collect();
            format!("[{}]", inner.join(", "))
        }
    };
    let groups = phases.iter().flatten().filter(|s| s.len() > 1).count();
    if list.tasks.is_empty() {
        return groups;
    }
    out.push_str("sequence {\n");
    let mut previous: Option<String> = None;
    for (phase, steps) in list.phases.iter().zip(&phases) {
        if steps.is_empty() {
            continue;
        }
        let heading = if phase.line == 0 {
            "Tasks before the first phase".to_string()
        } else {
            format!("{} (tasks.md:{})", comment_text(&phase.title), phase.line)
        };
        let _ = writeln!(out, "  // {heading}");
        let mut chain: Vec<String> = previous.iter().cloned().collect();
        chain.extend(steps.iter().map(|s| step(s)));
        let _ = writeln!(out, "  {}", chain.join(" -> "));
        previous = steps.last().map(|s| step(s));
    }
    out.push_str("}\n");
    groups
}

/// A string literal for `value` (the formatter respells it canonically;
/// this only has to be correct).
pub(crate) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:X}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text safe inside a line comment: one line, no control characters.
fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_names_are_identifiers_that_collide_with_nothing() {
        assert_eq!(score_name("001-user-auth", &[]), "feature_001_user_auth");
        assert_eq!(score_name("Login Flow!", &[]), "login_flow");
        assert_eq!(score_name("t001", &["t001".to_string()]), "feature_t001");
        assert_eq!(score_name("part", &[]), "feature_part");
        assert_eq!(score_name("us2", &[]), "feature_us2");
        assert_eq!(score_name("ñ", &[]), "feature_score");
    }

    #[test]
    fn quotes_escape_what_a_string_cannot_hold() {
        assert_eq!(
            quote("a \"b\" \\ c\nd\u{7}"),
            "\"a \\\"b\\\" \\\\ c\\nd\\u{7}\""
        );
    }
}
