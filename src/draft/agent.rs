//! Which agent drafts, and the one-part plan it plays.
//!
//! `score draft` does not invent a way to call agents: the drafting agent
//! is an agent a score can declare, compiled by the ordinary pipeline into
//! an ordinary plan of one part (`score_draft`, with one output
//! `score_text: Text`), and prepared by the runtime as `score run` would (its
//! key read once, its programs confined, its secrets known to the
//! redactor). So every provider works (an OpenAI- or Anthropic-compatible
//! API, Claude Code or Codex CLI in their machine-readable modes, any
//! command), and with the same boundary as in a run.
//!
//! Where the agent comes from:
//! - `--agents FILE`: a score declaring agents (and importing any from
//!   `std.agents`). `--agent NAME` picks one; without it, the file's
//!   `default_agent`, or its only agent.
//! - otherwise `--agent NAME` names an agent of the standard library
//!   (`claude_code`, `codex`, ...).

use crate::check;
use crate::diagnostics::render_human;
use crate::driver::{self, CheckedProgram};
use crate::plan::{self, Plan};
use std::path::Path;

/// The id of the drafting part in its plan.
pub const PART: &str = "score_draft";

/// The declarations appended to the agents' program: one part with one
/// `Text` output, the score.
fn drafting_part(agent: &str) -> String {
    format!(
        "\n\n/// Writes a score for a specification, with `score check` in the loop.\n\
         part {PART} by {agent} {{\n  output score_text: Text\n}}\n"
    )
}

/// What went wrong choosing the agent: said to the user as is (exit 2).
#[derive(Debug, Clone, PartialEq)]
pub struct AgentChoiceError {
    pub message: String,
    pub help: String,
}

impl AgentChoiceError {
    fn new(message: impl Into<String>, help: impl Into<String>) -> AgentChoiceError {
        AgentChoiceError {
            message: message.into(),
            help: help.into(),
        }
    }
}

/// The names of the agents a checked program declares or imports.
fn agent_names(program: &check::Checked) -> Vec<String> {
    let mut names: Vec<String> = program
        .model
        .agents
        .iter()
        .map(|a| a.decl.name.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The agents of the standard library (`std.agents`).
pub fn std_agents() -> Vec<String> {
    agent_names(&driver::check_source("<draft>", "use std.agents\n".into(), Path::new(".")).checked)
}

/// The drafting plan: one part, `score_draft`, played by the chosen agent.
/// Returns the plan and the agent's id in it.
pub fn drafting_plan(
    agent: Option<&str>,
    agents_file: Option<&Path>,
    color: bool,
) -> Result<(Plan, String), AgentChoiceError> {
    match agents_file {
        Some(file) => from_file(agent, file, color),
        None => from_stdlib(agent),
    }
}

fn from_stdlib(agent: Option<&str>) -> Result<(Plan, String), AgentChoiceError> {
    let known = std_agents();
    let Some(name) = agent else {
        return Err(AgentChoiceError::new(
            "no agent to draft with",
            format!(
                "name one: `--agent NAME` with an agent of the standard library ({}), or \
                 `--agents FILE` with a score that declares yours (its `default_agent` drafts)",
                known.join(", ")
            ),
        ));
    };
    if !known.iter().any(|k| k == name) {
        return Err(AgentChoiceError::new(
            format!("`{name}` is not an agent of the standard library"),
            format!(
                "the standard library has {}; to draft with an agent of your own, declare it in \
                 a score and pass `--agents FILE --agent {name}`",
                known.join(", ")
            ),
        ));
    }
    let text = format!(
        "use std.agents.{{{name}}}\n\nscore draft {{}}\n{}",
        drafting_part(name)
    );
    let program = driver::check_source("<draft>", text, Path::new("."));
    build(
        &program,
        name,
        Path::new("."),
        "the standard library",
        false,
    )
}

fn from_file(
    agent: Option<&str>,
    file: &Path,
    color: bool,
) -> Result<(Plan, String), AgentChoiceError> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        AgentChoiceError::new(
            format!("cannot read the agents file `{}`: {e}", file.display()),
            "give `--agents` a `.score` file that declares the agent",
        )
    })?;
    let shown = file.display().to_string();
    let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
    let program = driver::check_source(&shown, text.clone(), &dir);
    let checked = &program.checked;
    if checked.has_errors() {
        return Err(AgentChoiceError::new(
            format!(
                "the agents file `{shown}` does not check:\n{}",
                render_human(program.sources(), program.diagnostics(), color)
            ),
            format!("fix it first: `score check {shown}`"),
        ));
    }
    let names = agent_names(checked);
    let name = match agent {
        Some(name) => name.to_string(),
        None => match checked
            .model
            .score
            .as_ref()
            .and_then(|s| s.default_agent)
            .map(|id| checked.model.agent(id).decl.name.clone())
        {
            Some(default) => default,
            None if names.len() == 1 => names[0].clone(),
            None => {
                return Err(AgentChoiceError::new(
                    format!("`{shown}` has no `default_agent` to draft with"),
                    format!(
                        "pick one with `--agent NAME` ({}), or give the file's score a \
                         `default_agent`",
                        if names.is_empty() {
                            "it declares no agent".to_string()
                        } else {
                            names.join(", ")
                        }
                    ),
                ));
            }
        },
    };
    let with_part = format!("{text}{}", drafting_part(&name));
    let program = driver::check_source(&shown, with_part, &dir);
    let first = build(&program, &name, &dir, &shown, true);
    // An agent of the standard library the file does not import: import it.
    if first.is_err() && std_agents().contains(&name) {
        let imported = format!("use std.agents.{{{name}}}\n{text}{}", drafting_part(&name));
        let program = driver::check_source(&shown, imported, &dir);
        if let Ok(found) = build(&program, &name, &dir, &shown, true) {
            return Ok(found);
        }
    }
    first
}

/// Compiles the plan of the checked program with the drafting part, kept
/// to that part; the error names the agent and where it was looked for.
fn build(
    program: &CheckedProgram,
    name: &str,
    dir: &Path,
    place: &str,
    from_file: bool,
) -> Result<(Plan, String), AgentChoiceError> {
    let checked = &program.checked;
    let names = agent_names(checked);
    let not_found = || {
        AgentChoiceError::new(
            format!("no agent `{name}` in {place}"),
            if from_file {
                format!(
                    "it declares or imports {}; pick one with `--agent NAME`",
                    if names.is_empty() {
                        "no agent".to_string()
                    } else {
                        names.join(", ")
                    }
                )
            } else {
                "run `score draft --help` for how agents are chosen".to_string()
            },
        )
    };
    if checked.has_errors() {
        if !names.iter().any(|n| n == name) {
            return Err(not_found());
        }
        return Err(AgentChoiceError::new(
            format!(
                "agent `{name}` cannot draft:\n{}",
                render_human(program.sources(), program.diagnostics(), false)
            ),
            "fix what is shown (in the agents file, or the name given with `--agent`)",
        ));
    }
    let mut plan = plan::build(checked, program.sources(), dir).map_err(|e| {
        AgentChoiceError::new(
            format!("cannot prepare agent `{name}`: {}", e.message),
            e.help
                .clone()
                .unwrap_or_else(|| "check the agent's settings".into()),
        )
    })?;
    plan.tasks.retain(|t| t.id == PART);
    let Some(task) = plan.tasks.first() else {
        return Err(not_found());
    };
    let agent = task.agent.clone();
    plan.agents.retain(|id, _| *id == agent);
    plan.waves = vec![vec![PART.to_string()]];
    Ok((plan, agent))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Provider;

    #[test]
    fn the_standard_library_names_its_coding_agents() {
        let names = std_agents();
        for name in ["claude_code", "codex", "mock"] {
            assert!(names.iter().any(|n| n == name), "{names:?}");
        }
    }

    #[test]
    fn a_standard_agent_plays_the_one_drafting_part() {
        let (plan, agent) = drafting_plan(Some("claude_code"), None, false).unwrap();
        assert_eq!(plan.tasks.len(), 1);
        assert_eq!(plan.tasks[0].id, PART);
        assert!(matches!(
            plan.agents[&agent].provider,
            Provider::Command { .. }
        ));
        let schema = plan.tasks[0].result_schema.compact();
        assert!(schema.contains("\"score_text\""), "{schema}");
    }

    #[test]
    fn an_unknown_or_missing_agent_lists_the_known_ones() {
        let e = drafting_plan(Some("nobody"), None, false).unwrap_err();
        assert!(e.message.contains("`nobody`"), "{e:?}");
        assert!(e.help.contains("claude_code"), "{e:?}");
        let e = drafting_plan(None, None, false).unwrap_err();
        assert!(e.help.contains("--agent NAME"), "{e:?}");
    }

    #[test]
    fn an_agents_file_gives_its_default_or_a_named_agent() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("team.score");
        std::fs::write(
            &file,
            "use std.agents.{codex}\n\nscore team {\n  default_agent writer\n}\n\n\
             agent writer: openai {\n  model \"m\"\n  endpoint \"http://127.0.0.1:9/v1\"\n}\n\n\
             agent other: mock {}\n",
        )
        .unwrap();
        let (plan, agent) = drafting_plan(None, Some(&file), false).unwrap();
        assert_eq!(agent, "writer");
        assert!(matches!(
            plan.agents[&agent].provider,
            Provider::Openai { .. }
        ));
        let (_, agent) = drafting_plan(Some("other"), Some(&file), false).unwrap();
        assert_eq!(agent, "other");
        // Imported by the file, and one it does not import.
        let (_, agent) = drafting_plan(Some("codex"), Some(&file), false).unwrap();
        assert_eq!(agent, "codex");
        let (_, agent) = drafting_plan(Some("claude_code"), Some(&file), false).unwrap();
        assert_eq!(agent, "claude_code");
        let e = drafting_plan(Some("ghost"), Some(&file), false).unwrap_err();
        assert!(e.message.contains("no agent `ghost`"), "{e:?}");
        assert!(e.help.contains("writer"), "{e:?}");
    }

    #[test]
    fn a_broken_agents_file_is_shown_not_guessed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("team.score");
        std::fs::write(&file, "agent a: openai {\n  model 3\n}\n").unwrap();
        let e = drafting_plan(None, Some(&file), false).unwrap_err();
        assert!(e.message.contains("does not check"), "{e:?}");
        assert!(e.message.contains("E0"), "{e:?}");
    }
}
