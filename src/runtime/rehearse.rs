//! `score run FILE --rehearse`: the whole score played through by the
//! built-in mock, without running anything.
//!
//! `--agent '*=mock'` is a real run: checkouts, checks, retries, the cache
//! and the journal. On a realistic score it fails, because the mock writes
//! no files and every `ensures` check (`pytest`, `file_exists`) then fails.
//! A rehearsal is for another question: does the score hang together,
//! what does each part receive and what is it asked? So it plays every
//! part, wave by wave, with the values the mock would answer (the same
//! seeds as a mock run), lists each part's checks without running them,
//! and touches nothing: no lock, no git, no journal, no cache. It is a
//! pure function of the prepared plan.

use super::Prepared;
use super::attempt::attempt_seed;
use super::inputs::{fill_prompt, given_inputs, missing_inputs, value_of};
use super::verify::Validators;
use crate::plan::{Plan, Provider, Task};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// The score's inputs for a rehearsal: those given with `--input`, and a
/// mock value for each one not given (with a warning naming it).
pub fn score_inputs(
    plan: &Plan,
    given: &[String],
    base: &Path,
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<String, Value>, String> {
    let mut values = given_inputs(plan, given, base)?;
    let missing: Vec<String> = missing_inputs(plan, &values)
        .into_iter()
        .map(str::to_string)
        .collect();
    for name in missing {
        let seed = crate::plan::hash::sha256_hex(name.as_bytes());
        let seed = u64::from_str_radix(&seed[..16], 16).unwrap_or(0);
        let value = super::agents::mock::value(0, seed, &plan.score.inputs[&name].schema);
        warnings.push(format!(
            "input `{name}` is not given: the rehearsal uses a mock value (give it with `--input {name}=VALUE`)"
        ));
        values.insert(name, value);
    }
    Ok(values)
}

/// What a rehearsal found.
pub struct Rehearsal {
    /// The text to show.
    pub text: String,
    /// Every part played through (its mock value matched its result
    /// schema).
    pub played_through: bool,
}

/// Plays `prepared` (its agents already the mock) through: per wave, each
/// part's inputs (the values it would receive), its outputs (the mock's
/// answer), its checks (listed, not run) and, with `show_prompts`, its
/// full prompt.
pub fn rehearse(prepared: &Prepared, show_prompts: bool) -> Rehearsal {
    let plan = &prepared.plan;
    let validators = Validators::default();
    let index = plan.index();
    let mut outputs: Vec<Option<Value>> = vec![None; plan.tasks.len()];
    let mut text = String::new();
    let mut failed = Vec::new();
    let _ = writeln!(
        text,
        "Rehearsal of `{}`: {} part{} in {} wave{}, every part played by the mock. \
         Checks are listed, not run; nothing is written.",
        plan.score.name,
        plan.tasks.len(),
        plural(plan.tasks.len()),
        plan.waves.len(),
        plural(plan.waves.len()),
    );
    for (w, wave) in plan.waves.iter().enumerate() {
        let _ = writeln!(text, "\n--- wave {} ---", w + 1);
        for id in wave {
            let Some(&i) = index.get(id.as_str()) else {
                continue;
            };
            let task = &plan.tasks[i];
            let inputs: BTreeMap<String, Value> = task
                .inputs
                .iter()
                .map(|(name, input)| {
                    let value = value_of(input, &prepared.score_inputs, |dep| {
                        index.get(dep).and_then(|&d| outputs[d].as_ref())
                    });
                    (name.clone(), value)
                })
                .collect();
            let answer = mock_answer(plan, task);
            let _ = writeln!(text, "\n{} (by {})", task.id, task.agent);
            if inputs.is_empty() {
                let _ = writeln!(text, "  inputs:   none");
            }
            for (name, value) in &inputs {
                let _ = writeln!(text, "  input:    {name} = {}", short_json(value));
            }
            match validators.validate(&task.result_schema, &answer) {
                Ok(()) => {
                    let _ = writeln!(text, "  outputs:  {}", short_json(&answer));
                }
                Err(why) => {
                    let _ = writeln!(text, "  FAILED:   {why}");
                    failed.push(task.id.clone());
                }
            }
            if !task.owns.is_empty() {
                let _ = writeln!(text, "  may write: {}", task.owns.join(", "));
            }
            for check in &task.checks {
                let _ = writeln!(
                    text,
                    "  check:    {} ({}), not run",
                    check.command, check.check
                );
            }
            if let Some(approver) = &task.approve {
                let _ = writeln!(text, "  approval: {approver}, not asked");
            }
            if show_prompts {
                let _ = writeln!(text, "  prompt:");
                for line in fill_prompt(task, &inputs).lines() {
                    let _ = writeln!(text, "    | {line}");
                }
            }
            outputs[i] = Some(answer);
        }
    }
    let played_through = failed.is_empty();
    if played_through {
        let checks: usize = plan.tasks.iter().map(|t| t.checks.len()).sum();
        let _ = writeln!(
            text,
            "\nRehearsed: all {} part{} played through; {checks} check{} listed, not run. \
             `score run` plays it for real.",
            plan.tasks.len(),
            plural(plan.tasks.len()),
            plural(checks),
        );
    } else {
        let _ = writeln!(
            text,
            "\nThe rehearsal stopped short: the mock's answer of {} does not match its result schema.",
            failed.join(", ")
        );
    }
    Rehearsal {
        text,
        played_through,
    }
}

/// What the mock answers the first attempt of `task` (a mock run's seeds).
fn mock_answer(plan: &Plan, task: &Task) -> Value {
    let agent_seed = match plan.agents.get(&task.agent).map(|a| &a.provider) {
        Some(Provider::Mock { seed, .. }) => seed.unwrap_or(0),
        _ => 0,
    };
    super::agents::mock::value(agent_seed, attempt_seed(task, 1), &task.result_schema)
}

/// A value as one line of JSON, cut at 200 characters.
fn short_json(value: &Value) -> String {
    let text = serde_json::to_string(value).unwrap_or_default();
    if text.chars().count() > 200 {
        format!("{}…", text.chars().take(200).collect::<String>())
    } else {
        text
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::fixtures;
    use serde_json::json;

    /// `a` answers `n`, `b` receives it as `x`; `b` has a check.
    fn prepared() -> Prepared {
        let mut a = fixtures::task("a", &[], 10);
        a.result_schema = crate::plan::Schema::new(json!({
            "type": "object", "required": ["n"], "additionalProperties": false,
            "properties": {"n": {"type": "integer"}}
        }));
        let mut b = fixtures::task("b", &["a"], 10);
        b.inputs.insert(
            "x".into(),
            crate::plan::Input {
                doc: None,
                schema: crate::plan::Schema::new(json!({"type": "integer"})),
                source: crate::plan::InputSource::Task {
                    task: "a".into(),
                    output: "n".into(),
                },
                ty: "Int".into(),
            },
        );
        b.prompt = "Use {{input.x}}.".into();
        b.checks.push(crate::plan::CheckRun {
            args: BTreeMap::new(),
            argv: vec!["sh".into(), "-c".into(), "exit 1".into()],
            check: "shell".into(),
            command: "exit 1".into(),
            timeout_ms: 1000,
        });
        let mut plan = fixtures::plan(vec![a, b]);
        crate::plan::hash::assign_hashes(&mut plan);
        let sandbox =
            std::sync::Arc::new(super::super::sandbox::Policy::new(&plan, true, &|_| None));
        Prepared {
            plan,
            score_inputs: BTreeMap::new(),
            performers: Default::default(),
            warnings: vec![],
            sandbox,
        }
    }

    #[test]
    fn every_part_plays_through_with_the_mock_values_flowing_downstream() {
        let prepared = prepared();
        let rehearsal = rehearse(&prepared, true);
        assert!(rehearsal.played_through, "{}", rehearsal.text);
        let text = &rehearsal.text;
        let n = mock_answer(&prepared.plan, &prepared.plan.tasks[0])["n"].clone();
        assert!(text.contains(&format!("input:    x = {n}")), "{text}");
        assert!(text.contains(&format!("    | Use {n}.")), "{text}");
        assert!(text.contains("check:    exit 1 (shell), not run"), "{text}");
        assert!(text.contains("--- wave 2 ---"), "{text}");
        // Without prompts, none is shown.
        assert!(!rehearse(&prepared, false).text.contains("    | "));
    }

    #[test]
    fn a_value_the_schema_refuses_stops_the_rehearsal() {
        let mut prepared = prepared();
        // No value can match an impossible schema.
        prepared.plan.tasks[0].result_schema = crate::plan::Schema::new(json!({"not": {}}));
        let rehearsal = rehearse(&prepared, false);
        assert!(!rehearsal.played_through);
        assert!(
            rehearsal.text.contains("stopped short"),
            "{}",
            rehearsal.text
        );
    }
}
