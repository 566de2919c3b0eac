//! Coverage: every intent is served by some part (W0601) and says how to
//! tell it is met (W0603); every part serves some intent (W0602).
//! Declarations in the standard library are not the user's to fix and are
//! not warned about.

use super::Ctx;
use crate::diagnostics::{Code, Diagnostic};
use std::collections::HashSet;

pub(crate) fn coverage(cx: &mut Ctx<'_>) {
    let mut served = vec![false; cx.model.intents.len()];
    for part in &cx.model.parts {
        for intent in &part.serves {
            served[intent.index()] = true;
        }
    }
    // A `serves` that did not resolve may have meant an intent: do not add
    // "no part serves it" to the unknown-name error. Without a suggestion we
    // cannot tell which intent was meant, so say nothing at all.
    let unknown_target = cx.unresolved_serves.iter().any(Option::is_none);
    let suggested: HashSet<usize> = cx
        .unresolved_serves
        .iter()
        .flatten()
        .map(|i| i.index())
        .collect();

    let mut diags = Vec::new();
    for (i, intent) in cx.model.intents.iter().enumerate() {
        if cx.is_stdlib(intent.decl.file) {
            continue;
        }
        let name = &intent.decl.name;
        if !served[i] && !unknown_target && !suggested.contains(&i) {
            diags.push(
                Diagnostic::new(Code::W0601, format!("no part serves intent `{name}`"))
                    .primary(intent.decl.name_span, "served by no part")
                    .help(format!(
                        "add `serves {name}` to the parts that work towards it, or remove the \
                         intent"
                    )),
            );
        }
        let has_accept = cx
            .intents_with_accept
            .contains(&crate::model::IntentId(i as u32));
        if !has_accept {
            diags.push(
                Diagnostic::new(
                    Code::W0603,
                    format!("intent `{name}` has no acceptance criterion"),
                )
                .primary(intent.decl.name_span, "no `accept`")
                .help(format!(
                    "say how to tell it is met: `intent {name} \"...\" {{ accept \"...\" }}`"
                )),
            );
        }
    }
    for (p, part) in cx.model.parts.iter().enumerate() {
        if cx.is_stdlib(part.decl.file) || !part.serves.is_empty() || cx.parts[p].serves_written {
            continue;
        }
        let name = &part.decl.name;
        diags.push(
            Diagnostic::new(Code::W0602, format!("part `{name}` serves no intent"))
                .primary(part.decl.name_span, "no `serves`")
                .help("add `serves INTENT` naming the intents this part works towards"),
        );
    }
    cx.diags.extend(diags);
}

#[cfg(test)]
mod tests {
    use super::super::testing::{BASE, base_with, check_one};
    use crate::diagnostics::Code;

    #[test]
    fn unserved_intents() {
        let outcome = check_one(&format!(
            "{BASE}\nintent audit \"Every change is logged\" {{ accept \"a log\" }}\n"
        ));
        let d = outcome.single(Code::W0601);
        assert_eq!(d.message, "no part serves intent `audit`");
    }

    #[test]
    fn parts_serving_nothing() {
        let outcome = check_one(&format!("{BASE}\npart docs {{ owns \"docs/**\" }}\n"));
        outcome.single(Code::W0602);
    }

    #[test]
    fn intents_without_criteria() {
        let outcome = check_one(&base_with(
            " {\n  accept \"the same URL twice yields the same slug\"\n}",
            "",
        ));
        let d = outcome.single(Code::W0603);
        assert_eq!(d.message, "intent `shorten` has no acceptance criterion");
    }

    #[test]
    fn a_rejected_serves_does_not_cascade() {
        let outcome = check_one(&BASE.replace("serves shorten", "serves \"shorten\""));
        assert_eq!(
            outcome.codes(),
            vec![Code::E0104, Code::E0104],
            "{}",
            outcome.render()
        );
    }

    #[test]
    fn a_misspelt_serves_does_not_cascade() {
        let outcome = check_one(&BASE.replace("serves shorten", "serves shortn"));
        // two E0101 (one per part), no W0601 for `shorten`, no W0602
        assert_eq!(
            outcome.codes(),
            vec![Code::E0101, Code::E0101],
            "{}",
            outcome.render()
        );
    }
}
