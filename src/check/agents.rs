//! Who plays each part: its agent is `by AGENT`, else the score's
//! `default_agent` (E0503 when neither), and the agent's tier must be at
//! least the part's complexity (E0501).

use super::{Ctx, ItemId, Resolution, suggest};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::{AgentId, Level};
use crate::source::FileId;

pub(crate) fn agents(cx: &mut Ctx<'_>) {
    for p in 0..cx.parts.len() {
        let (agent, span, is_default) = match cx.parts[p].agent {
            Resolution::Found(agent, span) => (agent, span, false),
            // The unresolved name is reported; nothing more to say.
            Resolution::Poisoned => continue,
            Resolution::Absent => match cx.default_agent {
                Resolution::Found(agent, span) => (agent, span, true),
                Resolution::Poisoned => continue,
                Resolution::Absent => {
                    let diag = no_agent(cx, p);
                    cx.report(diag);
                    continue;
                }
            },
        };
        let part = &mut cx.model.parts[p];
        part.agent = Some(agent);
        part.agent_span = Some(span);
        part.agent_is_default = is_default;
        let complexity = part.complexity;
        let tier = cx.model.agents[agent.index()].tier;
        if complexity > tier && !cx.unknown_tier.contains(&agent) {
            let diag = too_complex(cx, p, agent, is_default);
            cx.report(diag);
        }
    }
}

/// Agents visible from a file (declared, imported, or `module.name`) with
/// at least this tier, as they would be written there.
fn agents_in_scope(cx: &Ctx<'_>, file: FileId, at_least: Level) -> Vec<String> {
    let scope = &cx.scopes[file.index()];
    let fits = |id: AgentId| cx.model.agents[id.index()].tier >= at_least;
    let mut names: Vec<String> = scope
        .names
        .iter()
        .filter_map(|(name, entry)| match entry.target {
            Some(ItemId::Agent(id)) if fits(id) => Some(name.clone()),
            _ => None,
        })
        .collect();
    names.sort_unstable();
    let mut qualified: Vec<String> = Vec::new();
    for (alias, module) in &scope.modules {
        let Some(module) = module.file else { continue };
        for (name, item) in &cx.scopes[module.index()].decls {
            if let ItemId::Agent(id) = item
                && fits(*id)
            {
                qualified.push(format!("{alias}.{name}"));
            }
        }
    }
    qualified.sort_unstable();
    names.extend(qualified);
    names
}

fn no_agent(cx: &Ctx<'_>, p: usize) -> Diagnostic {
    let part = &cx.model.parts[p];
    let mut diag = Diagnostic::new(
        Code::E0503,
        format!("part `{}` has no agent", part.decl.name),
    )
    .primary(part.decl.name_span, "no `by AGENT` here");
    diag = match &cx.model.score {
        Some(score) => diag.secondary(score.decl.name_span, "and the score has no `default_agent`"),
        None => diag.note("there is no `score` declaration to give a `default_agent`"),
    };
    let candidates = agents_in_scope(cx, cx.parts[p].file, part.complexity);
    let example = candidates.first().map_or("AGENT", String::as_str);
    let mut help = format!(
        "name one after the part (`part {} by {example}`), or set `default_agent {example}` in \
         the score",
        part.decl.name
    );
    if !candidates.is_empty() {
        help.push_str(&format!(
            "; agents in scope that can play it: {}",
            suggest::list(&candidates, 5)
        ));
    }
    diag.help(help)
}

fn too_complex(cx: &Ctx<'_>, p: usize, agent: AgentId, is_default: bool) -> Diagnostic {
    let part = &cx.model.parts[p];
    let a = &cx.model.agents[agent.index()];
    let (complexity, tier) = (part.complexity.as_str(), a.tier.as_str());
    let mut diag = Diagnostic::new(
        Code::E0501,
        format!(
            "part `{}` is `{complexity}` work, above the tier of its agent `{}` (`{tier}`)",
            part.decl.name, a.decl.name
        ),
    )
    .primary(
        part.complexity_span.unwrap_or(part.decl.name_span),
        format!("complexity `{complexity}`"),
    );
    diag = match a.tier_span {
        Some(span) => diag.secondary(span, format!("`{}` takes work up to `{tier}`", a.decl.name)),
        None => diag.secondary(
            a.decl.name_span,
            format!("`{}` has the default tier, `routine`", a.decl.name),
        ),
    };
    if let Some(span) = part.agent_span {
        let label = if is_default {
            format!("`{}` is the score's default agent", a.decl.name)
        } else {
            format!("`{}` is chosen here", a.decl.name)
        };
        diag = diag.secondary(span, label);
    }
    let candidates = agents_in_scope(cx, cx.parts[p].file, part.complexity);
    if candidates.is_empty() {
        diag.help(format!(
            "raise `{}`'s tier (`tier {complexity}`), give the part an agent of tier \
             `{complexity}`, or split the work into simpler parts",
            a.decl.name
        ))
    } else {
        diag.help(format!(
            "give the part an agent that takes `{complexity}` work (`by {}`); in scope: {}",
            candidates[0],
            suggest::list(&candidates, 5)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{base_with, check_one};
    use crate::diagnostics::Code;

    #[test]
    fn parts_take_the_default_agent() {
        let outcome = check_one(super::super::testing::BASE);
        let model = &outcome.checked.model;
        let store = &model.parts[1];
        assert_eq!(store.agent, model.find_agent("coder"));
        assert!(store.agent_is_default);
    }

    #[test]
    fn no_agent_at_all() {
        let outcome = check_one(&base_with("  default_agent coder\n", ""));
        let d = outcome.single(Code::E0503);
        assert_eq!(d.message, "part `store` has no agent");
        assert_eq!(outcome.label_texts(d), vec!["store", "shortener"]);
    }

    #[test]
    fn complexity_above_tier() {
        let outcome = check_one(&base_with("  tier complex\n", "  tier moderate\n"));
        let d = outcome.single(Code::E0501);
        assert_eq!(
            d.message,
            "part `model` is `complex` work, above the tier of its agent `architect` (`moderate`)"
        );
        assert_eq!(
            outcome.label_texts(d),
            vec!["complex", "moderate", "architect"]
        );
    }

    #[test]
    fn default_tiers_and_helpful_alternatives() {
        let outcome = check_one(&base_with("part model by architect", "part model by coder"));
        let d = outcome.single(Code::E0501);
        assert_eq!(outcome.label_texts(d), vec!["complex", "coder", "coder"]);
        assert_eq!(
            d.help.as_deref(),
            Some(
                "give the part an agent that takes `complex` work (`by architect`); in scope: `architect`"
            )
        );
    }

    #[test]
    fn a_rejected_tier_is_not_judged() {
        let outcome = check_one(&base_with("  tier complex\n", "  tier complx\n"));
        assert_eq!(
            outcome.single(Code::E0104).help.as_deref(),
            Some("did you mean `complex`?")
        );
    }

    #[test]
    fn equal_complexity_and_tier_is_fine() {
        check_one(&base_with(
            "  tier complex\n",
            "  tier complex\n  concurrency 2\n",
        ))
        .assert_clean();
    }
}
