//! The prompt of one drafting round: pure text in, text out.
//!
//! Agents are stateless between rounds (an API call, a fresh CLI process),
//! so every round carries everything: what to answer, the specification,
//! the language reference and the standard library, and from the second
//! round on the previous answer with what `score check --format json` said
//! about it. The reference is the one the user reads (`docs/language.md`,
//! embedded at build time), so the agent and the user learn the same
//! language.

/// The language reference, as shipped in `docs/language.md`.
pub const LANGUAGE_REFERENCE: &str = include_str!("../../docs/language.md");

/// How much of the language the prompt carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reference {
    /// `docs/language.md` whole, and the standard library with its doc
    /// comments (about 15k tokens).
    #[default]
    Full,
    /// For models with a small context: the reference's headings, tables
    /// and examples without the prose, and the standard library without
    /// comments (about a third).
    Brief,
}

/// The language reference as [`Reference::Brief`] gives it: headings,
/// tables and code blocks.
fn brief_reference() -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in LANGUAGE_REFERENCE.lines() {
        let fence = line.starts_with("```");
        if fence || fenced || line.starts_with('#') || line.starts_with('|') {
            out.push_str(line);
            out.push('\n');
        }
        if fence {
            fenced = !fenced;
        }
    }
    out
}

/// A stdlib module without its comment lines.
fn without_comments(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The previous round, fed back: the score the agent answered (or why no
/// score could be read from its answer) and the checker's findings.
#[derive(Clone, Debug, PartialEq)]
pub enum Feedback {
    /// A score that did not check clean, with the diagnostics as JSON
    /// Lines (`score check --format json`).
    Diagnostics {
        score: String,
        json_lines: String,
        /// `score explain CODE` of each code found, once each.
        explanations: String,
    },
    /// The answer held no score (not JSON, no `score` field, the agent
    /// failed or timed out): what went wrong.
    NoScore { why: String },
}

/// The prompt of a round. `spec_name` is how the specification is named
/// (its path as given); `file_name` the score's file name as it will be
/// written, so that diagnostics and the answer speak of the same file.
pub fn render(
    spec_name: &str,
    spec: &str,
    file_name: &str,
    round: u32,
    rounds: u32,
    feedback: Option<&Feedback>,
    reference: Reference,
) -> String {
    let mut out = String::with_capacity(LANGUAGE_REFERENCE.len() + spec.len() + 8_192);
    out.push_str(&format!(
        "# Write an architecture score\n\n\
         You write `{file_name}`: a `.score` file, in the language described below, that \
         orchestrates coding agents to build what the specification `{spec_name}` asks for. \
         Declare the intents (the user-visible goals, with `accept` criteria taken from the \
         specification), the contracts and parts (units of work, each owning the files it \
         may write, so that parts that may run at the same time never write the same file), \
         the agents that play them, and the order between parts. Every part serves an intent.\n\n\
         `score check` proves the score: names and types resolve, the order has no cycle, \
         parallel parts never own the same file, every intent is served. This is round \
         {round} of at most {rounds}: your answer is checked, and what the checker finds comes \
         back to you until the score checks clean.\n\n\
         ## Your answer\n\n\
         Answer with one JSON object and nothing else: `{{\"score_text\": \"...\"}}`, where the \
         value is the complete text of `{file_name}` (newlines escaped as JSON requires).\n\n"
    ));
    if let Some(feedback) = feedback {
        out.push_str("## What the checker said about your last answer\n\n");
        match feedback {
            Feedback::Diagnostics {
                score,
                json_lines,
                explanations,
            } => {
                out.push_str(
                    "Your last score did not check clean. Fix every error (warnings are worth \
                     fixing too), keep what was right, and answer with the whole corrected \
                     file.\n\nYour last score:\n\n",
                );
                push_fenced(&mut out, "score", score);
                out.push_str(
                    "\nThe diagnostics, one JSON object per line (`code`, `message`, `line` and \
                     `column` 1-based, `help`):\n\n",
                );
                push_fenced(&mut out, "json", json_lines);
                if !explanations.trim().is_empty() {
                    out.push_str("\nWhat each code means (`score explain CODE`):\n\n");
                    out.push_str(explanations.trim_end());
                    out.push('\n');
                }
            }
            Feedback::NoScore { why } => {
                out.push_str("No score could be read from your last answer: ");
                out.push_str(why.trim());
                out.push_str("\n\nAnswer with the JSON object described above.\n");
            }
        }
        out.push('\n');
    }
    out.push_str(&format!("## The specification: `{spec_name}`\n\n"));
    push_fenced(&mut out, "markdown", spec);
    out.push_str("\n## The language reference\n\n");
    match reference {
        Reference::Full => out.push_str(LANGUAGE_REFERENCE.trim_end()),
        Reference::Brief => out.push_str(brief_reference().trim_end()),
    }
    out.push_str("\n\n## The standard library\n\n");
    for (module, text) in crate::syntax::stdlib::modules() {
        out.push_str(&format!("### `{module}`\n\n"));
        match reference {
            Reference::Full => push_fenced(&mut out, "score", text),
            Reference::Brief => push_fenced(&mut out, "score", &without_comments(text)),
        }
        out.push('\n');
    }
    out
}

/// `text` in a code fence longer than any run of backticks inside it, so
/// that a specification with its own fences stays one block.
fn push_fenced(out: &mut String, language: &str, text: &str) {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    out.push_str(&format!(
        "{fence}{language}\n{}\n{fence}\n",
        text.trim_end()
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_round_carries_the_spec_the_reference_and_the_stdlib() {
        let prompt = render(
            "specs/shop.md",
            "Users buy things.",
            "shop.score",
            1,
            5,
            None,
            Reference::Full,
        );
        assert!(prompt.contains("round 1 of at most 5"));
        assert!(prompt.contains("Users buy things."));
        assert!(prompt.contains("`specs/shop.md`"));
        assert!(prompt.contains("{\"score_text\": \"...\"}"));
        assert!(prompt.contains("## 8. Modules and the standard library"));
        assert!(prompt.contains("### `std.agents`"));
        assert!(prompt.contains("agent claude_code: command"));
        assert!(!prompt.contains("What the checker said"));
    }

    #[test]
    fn a_later_round_carries_the_last_score_and_its_diagnostics() {
        let feedback = Feedback::Diagnostics {
            score: "part p by nobody {}".into(),
            json_lines: "{\"code\":\"E0101\",\"line\":1}\n".into(),
            explanations: "E0101: unknown name".into(),
        };
        let prompt = render(
            "s.md",
            "x",
            "s.score",
            2,
            5,
            Some(&feedback),
            Reference::Full,
        );
        let said = prompt.find("What the checker said").unwrap();
        assert!(said < prompt.find("## The specification").unwrap());
        assert!(prompt.contains("part p by nobody {}"));
        assert!(prompt.contains("\"code\":\"E0101\""));
        assert!(prompt.contains("E0101: unknown name"));
        let none = Feedback::NoScore {
            why: "no JSON object".into(),
        };
        let prompt = render("s.md", "x", "s.score", 3, 5, Some(&none), Reference::Full);
        assert!(prompt.contains("No score could be read from your last answer: no JSON object"));
    }

    #[test]
    fn a_spec_with_fences_stays_inside_its_block() {
        let spec = "Intro\n```score\npart a {}\n```\nend";
        let prompt = render("s.md", spec, "s.score", 1, 1, None, Reference::Brief);
        assert!(prompt.contains("````markdown\nIntro\n```score"), "{prompt}");
        assert!(prompt.contains("end\n````\n"));
    }

    #[test]
    fn the_brief_reference_keeps_the_examples_and_tables_in_a_third() {
        let full = render("s.md", "x", "s.score", 1, 1, None, Reference::Full);
        let brief = render("s.md", "x", "s.score", 1, 1, None, Reference::Brief);
        assert!(
            brief.len() * 2 < full.len(),
            "{} vs {}",
            brief.len(),
            full.len()
        );
        assert!(brief.contains("## 8. Modules and the standard library"));
        assert!(brief.contains("| `default_agent` | agent name |"));
        assert!(brief.contains("use std.checks.{cargo_test, shell}"));
        assert!(brief.contains("agent claude_code: command"));
        assert!(!brief.contains("// Ready-made agents"));
    }
}
