//! The MCP prompts: the two conversations an agent has with `score` most,
//! ready to start. `draft_score` turns a spec into a score and checks it
//! until it is clean; `fix_diagnostics` repairs what `check` reported. Both
//! point the agent at the tools and resources rather than pasting the whole
//! language reference into the conversation.

use super::ScoreServer;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{GetPromptResult, PromptMessage, Role};
use rmcp::schemars::{self, JsonSchema};
use rmcp::{prompt, prompt_router};
use serde::Deserialize;

#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct DraftArgs {
    /// The specification to turn into a score: what must be built, its
    /// pieces, constraints, who should build what.
    pub spec: String,
    /// Where the score should be written (default `score.score`).
    pub file: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct FixArgs {
    /// The diagnostics to fix, as `check` returned them (JSON) or as
    /// `score check` printed them.
    pub diagnostics: String,
    /// The score they are about.
    pub file: Option<String>,
}

#[prompt_router(router = "prompts", vis = "pub(super)")]
impl ScoreServer {
    /// Draft a score from a specification, then check it until it is clean.
    #[prompt(name = "draft_score")]
    pub(crate) fn draft_score(&self, Parameters(args): Parameters<DraftArgs>) -> GetPromptResult {
        let file = args.file.as_deref().unwrap_or("score.score");
        GetPromptResult::new(vec![PromptMessage::new_text(
            Role::User,
            self.clean(&draft_text(&args.spec, file)),
        )])
        .with_description("Draft a score from this spec")
    }

    /// Fix the diagnostics `check` reported on a score.
    #[prompt(name = "fix_diagnostics")]
    pub(crate) fn fix_diagnostics(&self, Parameters(args): Parameters<FixArgs>) -> GetPromptResult {
        GetPromptResult::new(vec![PromptMessage::new_text(
            Role::User,
            self.clean(&fix_text(&args.diagnostics, args.file.as_deref())),
        )])
        .with_description("Fix these diagnostics")
    }
}

fn draft_text(spec: &str, file: &str) -> String {
    format!(
        "Write an architecture score (a `.score` file) for the specification below, as `{file}`.\n\
\n\
1. Read the language reference, resource `score://docs/language`, and the standard library modules you use (`score://stdlib/std.agents`, `score://stdlib/std.checks`, `score://stdlib/std.types`).\n\
2. Model what must be built as `intent`s with `accept` criteria; the boundaries between pieces as `contract`s; who builds as `agent`s; each piece as a `part` that `serves` intents, `owns` the files it may change (no two parts may own the same file) and declares its inputs and outputs; the order as `needs` or `sequence`s.\n\
3. Call the `check` tool with the text (`text`, `name: \"{file}\"`) after every change, and fix every error it reports (the `explain` tool tells what a code means) until `ok` is true.\n\
4. Call `plan` to see the waves and the critical path, and say whether the parallelism is what the spec needs.\n\
\n\
Specification:\n\
\n\
{spec}\n"
    )
}

fn fix_text(diagnostics: &str, file: Option<&str>) -> String {
    let which = file.map_or_else(|| "the score".to_string(), |f| format!("`{f}`"));
    format!(
        "Fix these diagnostics of {which}.\n\
\n\
For each one: read where it points (file, line, column, the labels), read its explanation (the `explain` tool, or resource `score://diagnostics/CODE`), and change the score so that the rule holds; do not silence a check by deleting what the spec needs. Fix errors before warnings. Then call `check` again and repeat until it reports `ok`.\n\
\n\
Diagnostics:\n\
\n\
{diagnostics}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompts_carry_what_they_were_given_and_name_the_tools() {
        let draft = draft_text("a shop with a cart", "shop.score");
        assert!(draft.contains("a shop with a cart"));
        assert!(draft.contains("`check`") && draft.contains("score://docs/language"));
        assert!(draft.contains("shop.score"));
        let fix = fix_text("E0401 at 3:5", Some("shop.score"));
        assert!(fix.contains("E0401 at 3:5") && fix.contains("`shop.score`"));
        assert!(fix.contains("`explain`"));
    }
}
