//! Part interfaces and input bindings: a part's effective inputs and
//! outputs (its contracts' plus its own), conflicting types between them
//! (E0201), bindings to outputs of the wrong type (E0201) or that do not
//! exist (E0203), and inputs never bound (E0202).
//!
//! Two declarations of the same input or output for one part (from two
//! contracts, or a contract and the part) are fine when their types agree:
//! they describe the same value. When the types differ, that is reported as
//! a type mismatch (E0201), not a duplicate (E0102), because the fix is to
//! make the types agree, not to remove a name.
//!
//! An input that is only bound (`input n = p.o`) and declared nowhere takes
//! the type of what it is bound to.

use super::elaborate::RawBinding;
use super::resolve::{self, Want};
use super::{Ctx, ItemId, suggest};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::{
    Ensure, Glob, Origin, PartId, PartInput, PartOutput, Source, Symbol, SymbolKind, Ty,
};
use crate::source::Span;
use crate::syntax::ast::Path;
use std::collections::{HashMap, HashSet};

/// Merge each part's contracts into its inputs, outputs, globs and ensures.
pub(crate) fn interfaces(cx: &mut Ctx<'_>) {
    for p in 0..cx.model.parts.len() {
        let contracts = cx.model.parts[p].contracts.clone();
        let own_inputs = std::mem::take(&mut cx.model.parts[p].inputs);
        let own_outputs = std::mem::take(&mut cx.model.parts[p].outputs);

        let mut inputs: Vec<PartInput> = Vec::new();
        let mut outputs: Vec<PartOutput> = Vec::new();
        let mut owns: Vec<Glob> = Vec::new();
        let mut reads: Vec<Glob> = Vec::new();
        let mut ensures: Vec<Ensure> = Vec::new();
        for (i, &c) in contracts.iter().enumerate() {
            let origin = Origin::Contract(c);
            let header = cx.parts[p].contract_spans.get(i).copied();
            let contract = cx.model.contracts[c.index()].clone();
            for port in contract.inputs {
                let candidate = PartInput {
                    name: port.name,
                    ty: port.ty,
                    declared: Some(port.span),
                    origin,
                    source: None,
                    binding: None,
                    symbol: port.symbol,
                };
                merge_input(cx, p, &mut inputs, candidate, header);
            }
            for port in contract.outputs {
                let candidate = PartOutput {
                    name: port.name,
                    ty: port.ty,
                    span: port.span,
                    origin,
                    symbol: port.symbol,
                };
                merge_output(cx, p, &mut outputs, candidate, header);
            }
            let inherit = |globs: Vec<Glob>| globs.into_iter().map(|g| Glob { origin, ..g });
            owns.extend(inherit(contract.owns));
            reads.extend(inherit(contract.reads));
            ensures.extend(contract.ensures.into_iter().map(|e| Ensure { origin, ..e }));
        }
        for input in own_inputs {
            merge_input(cx, p, &mut inputs, input, None);
        }
        for output in own_outputs {
            merge_output(cx, p, &mut outputs, output, None);
        }
        let part = &mut cx.model.parts[p];
        part.inputs = inputs;
        part.outputs = outputs;
        owns.append(&mut part.owns);
        reads.append(&mut part.reads);
        ensures.append(&mut part.ensures);
        part.owns = owns;
        part.reads = reads;
        part.ensures = ensures;
    }
}

/// Where a conflicting declaration came from, for the message.
fn origin_words(cx: &Ctx<'_>, origin: Origin) -> String {
    match origin {
        Origin::Own => "the part itself".into(),
        Origin::Contract(c) => format!("contract `{}`", cx.model.contracts[c.index()].decl.name),
    }
}

fn conflict(
    cx: &mut Ctx<'_>,
    p: usize,
    what: &str,
    name: &str,
    first: (Origin, &Ty, Span),
    second: (Origin, &Ty, Span),
    header: Option<Span>,
) {
    let part = cx.model.parts[p].decl.name.clone();
    let (t1, t2) = (cx.model.display_ty(first.1), cx.model.display_ty(second.1));
    let (o1, o2) = (origin_words(cx, first.0), origin_words(cx, second.0));
    // The error belongs to the part: point at its own declaration, or at the
    // contract's name in its header.
    let primary = match second.0 {
        Origin::Own => second.2,
        Origin::Contract(_) => header.unwrap_or(cx.model.parts[p].decl.name_span),
    };
    let mut diag = Diagnostic::new(
        Code::E0201,
        format!("{what} `{name}` of part `{part}` has two types: `{t1}` and `{t2}`"),
    );
    if primary == second.2 {
        diag = diag.primary(second.2, format!("`{t2}` here, in {o2}"));
    } else {
        diag = diag
            .primary(primary, format!("{o2} makes `{name}` a `{t2}`"))
            .secondary(second.2, format!("`{t2}` here, in {o2}"));
    }
    cx.report(
        diag.secondary(first.2, format!("`{t1}` here, in {o1}"))
            .help(format!(
                "a part has one `{name}`: give both declarations the same type"
            )),
    );
}

fn merge_input(
    cx: &mut Ctx<'_>,
    p: usize,
    inputs: &mut Vec<PartInput>,
    candidate: PartInput,
    header: Option<Span>,
) {
    let Some(existing) = inputs.iter().find(|i| i.name == candidate.name) else {
        inputs.push(candidate);
        return;
    };
    if existing.ty != candidate.ty && !existing.ty.has_error() && !candidate.ty.has_error() {
        let first = (
            existing.origin,
            &existing.ty.clone(),
            existing.declared.unwrap_or_default(),
        );
        let second = (
            candidate.origin,
            &candidate.ty,
            candidate.declared.unwrap_or_default(),
        );
        conflict(
            cx,
            p,
            "input",
            &candidate.name,
            (first.0, first.1, first.2),
            second,
            header,
        );
    }
}

fn merge_output(
    cx: &mut Ctx<'_>,
    p: usize,
    outputs: &mut Vec<PartOutput>,
    candidate: PartOutput,
    header: Option<Span>,
) {
    let Some(existing) = outputs.iter().find(|o| o.name == candidate.name) else {
        outputs.push(candidate);
        return;
    };
    if existing.ty != candidate.ty && !existing.ty.has_error() && !candidate.ty.has_error() {
        let first_ty = existing.ty.clone();
        let first = (existing.origin, &first_ty, existing.span);
        conflict(
            cx,
            p,
            "output",
            &candidate.name,
            first,
            (candidate.origin, &candidate.ty, candidate.span),
            header,
        );
    }
}

/// What a binding's source resolved to.
struct Resolved {
    source: Source,
    ty: Ty,
    /// The output or score input declaration.
    declared: Span,
    /// The source as written, e.g. `model.link_type`.
    text: String,
}

/// Resolve every binding, type-check it, record the ordering it implies,
/// and report inputs left unbound.
pub(crate) fn bind<'p>(cx: &mut Ctx<'p>) {
    // Outputs are final once the interfaces are merged.
    let producers = producers(cx);
    for p in 0..cx.parts.len() {
        let file = cx.parts[p].file;
        let bindings: Vec<RawBinding<'p>> = cx.parts[p].bindings.clone();
        let mut failed: HashSet<String> = HashSet::new();
        for binding in &bindings {
            let Some(resolved) = resolve_source(cx, file, binding.source) else {
                failed.insert(binding.name.name.clone());
                continue;
            };
            let part = &cx.model.parts[p];
            match part.inputs.iter().position(|i| i.name == binding.name.name) {
                Some(index) => {
                    let input = &part.inputs[index];
                    if input.declared != Some(binding.span) {
                        let symbol = input.symbol;
                        cx.add_ref(binding.name.span, symbol);
                    }
                    let input = &cx.model.parts[p].inputs[index];
                    if !resolved.ty.fits(&input.ty) {
                        let diag = mismatch(cx, binding, input, &resolved);
                        cx.report(diag);
                        failed.insert(binding.name.name.clone());
                        continue;
                    }
                    let input = &mut cx.model.parts[p].inputs[index];
                    input.source = Some(resolved.source.clone());
                    input.binding = Some(binding.span);
                }
                None => {
                    // Declared nowhere: the input takes the source's type.
                    let parent = cx.model.parts[p].decl.symbol;
                    let detail = format!(
                        "input {}: {}",
                        binding.name.name,
                        cx.model.display_ty(&resolved.ty)
                    );
                    let symbol = cx.add_symbol(Symbol {
                        kind: SymbolKind::Input,
                        name: binding.name.name.clone(),
                        span: binding.name.span,
                        full_span: binding.span,
                        doc: None,
                        detail,
                        parent: Some(parent),
                    });
                    cx.model.parts[p].inputs.push(PartInput {
                        name: binding.name.name.clone(),
                        ty: resolved.ty.clone(),
                        declared: None,
                        origin: Origin::Own,
                        source: Some(resolved.source.clone()),
                        binding: Some(binding.span),
                        symbol,
                    });
                }
            }
            if let Source::Part { part, .. } = resolved.source {
                cx.binding_edges
                    .push((part, PartId(p as u32), binding.span));
            }
        }
        unbound(cx, p, &failed, &producers);
    }
}

fn resolve_source(cx: &mut Ctx<'_>, file: crate::source::FileId, path: &Path) -> Option<Resolved> {
    let segments = &path.segments;
    if segments.len() == 2 && segments[0].name == "score" {
        return score_input(cx, path);
    }
    if segments.len() < 2 {
        cx.report(
            Diagnostic::new(
                Code::E0203,
                format!("`{}` does not name an output", path.dotted()),
            )
            .primary(path.span, "expected `part.output` or `score.input`")
            .help(format!(
                "bind the input to a part's output (`= PART.{0}`) or to a score input \
                 (`= score.{0}`)",
                path.dotted()
            )),
        );
        return None;
    }
    let (init, last) = segments.split_at(segments.len() - 1);
    let output = &last[0];
    let prefix = Path {
        segments: init.to_vec(),
        span: init[0].span.to(init[init.len() - 1].span),
    };
    let Some(ItemId::Part(source)) = resolve::resolve(cx, file, &prefix, Want::Part) else {
        return None;
    };
    let part = &cx.model.parts[source.index()];
    if let Some(found) = part.outputs.iter().find(|o| o.name == output.name) {
        let resolved = Resolved {
            source: Source::Part {
                part: source,
                output: found.name.clone(),
            },
            ty: found.ty.clone(),
            declared: found.span,
            text: path.dotted(),
        };
        let symbol = found.symbol;
        cx.add_ref(output.span, symbol);
        return Some(resolved);
    }
    // A part whose contracts did not all resolve may well have this output.
    if !cx.parts[source.index()].contracts_ok {
        return None;
    }
    let produced: Vec<String> = part
        .outputs
        .iter()
        .map(|o| format!("{}: {}", o.name, cx.model.display_ty(&o.ty)))
        .collect();
    let names: Vec<&str> = part.outputs.iter().map(|o| o.name.as_str()).collect();
    let mut diag = Diagnostic::new(
        Code::E0203,
        format!("part `{}` has no output `{}`", part.decl.name, output.name),
    )
    .primary(
        output.span,
        format!("not an output of `{}`", part.decl.name),
    )
    .secondary(
        part.decl.name_span,
        format!("`{}` is declared here", part.decl.name),
    );
    diag = if produced.is_empty() {
        diag.note(format!("`{}` produces no outputs", part.decl.name))
    } else {
        diag.note(format!(
            "`{}` produces {}",
            part.decl.name,
            suggest::list(&produced, 10)
        ))
    };
    diag = match suggest::best_match(&output.name, names.iter().copied()) {
        Some(close) => diag.help(format!("did you mean `{close}`?")),
        None => diag.help(format!(
            "declare it in `{}` (`output {}: TYPE`), or bind to an output it produces",
            part.decl.name, output.name
        )),
    };
    cx.report(diag);
    None
}

fn score_input(cx: &mut Ctx<'_>, path: &Path) -> Option<Resolved> {
    let name = &path.segments[1];
    let Some(score) = &cx.model.score else {
        cx.report(
            Diagnostic::new(
                Code::E0203,
                format!(
                    "there is no `score` declaration, so `score.{}` names nothing",
                    name.name
                ),
            )
            .primary(path.span, "no score input")
            .help(format!(
                "declare the score with its input: `score NAME {{ input {}: TYPE }}`",
                name.name
            )),
        );
        return None;
    };
    if let Some(input) = score.inputs.iter().find(|i| i.name == name.name) {
        let resolved = Resolved {
            source: Source::ScoreInput(input.name.clone()),
            ty: input.ty.clone(),
            declared: input.span,
            text: path.dotted(),
        };
        let (input_symbol, score_symbol) = (input.symbol, score.decl.symbol);
        cx.add_ref(path.segments[0].span, score_symbol);
        cx.add_ref(name.span, input_symbol);
        return Some(resolved);
    }
    let names: Vec<&str> = score.inputs.iter().map(|i| i.name.as_str()).collect();
    let mut diag = Diagnostic::new(
        Code::E0203,
        format!("the score has no input `{}`", name.name),
    )
    .primary(name.span, "not an input of the score")
    .secondary(
        score.decl.name_span,
        format!("score `{}` is declared here", score.decl.name),
    );
    diag = match suggest::best_match(&name.name, names.iter().copied()) {
        Some(close) => diag.help(format!("did you mean `score.{close}`?")),
        None => diag.help(format!(
            "declare it in the score: `input {}: TYPE`; it is then given at run time with \
             `--input {}=VALUE`",
            name.name, name.name
        )),
    };
    cx.report(diag);
    None
}

fn mismatch(
    cx: &Ctx<'_>,
    binding: &RawBinding<'_>,
    input: &PartInput,
    resolved: &Resolved,
) -> Diagnostic {
    let expected = cx.model.display_ty(&input.ty);
    let found = cx.model.display_ty(&resolved.ty);
    let name = &binding.name.name;
    let mut diag = Diagnostic::new(
        Code::E0201,
        format!(
            "`{name}` expects `{expected}` but `{}` is `{found}`",
            resolved.text
        ),
    )
    .primary(binding.source.span, format!("this is `{found}`"))
    .secondary(
        resolved.declared,
        format!("`{}` is declared `{found}` here", resolved.text),
    );
    if let Some(declared) = input.declared {
        diag = diag.secondary(declared, format!("`{name}` is declared `{expected}` here"));
    }
    diag.help("bind an output of the expected type, or make the two declarations agree")
}

/// E0202 for every input of part `p` with no source, except those whose
/// binding failed (already reported).
fn unbound(
    cx: &mut Ctx<'_>,
    p: usize,
    failed: &HashSet<String>,
    producers: &HashMap<String, Vec<PartId>>,
) {
    let part = &cx.model.parts[p];
    let missing: Vec<usize> = part
        .inputs
        .iter()
        .enumerate()
        .filter(|(_, i)| i.source.is_none() && !failed.contains(&i.name))
        .map(|(index, _)| index)
        .collect();
    if missing.is_empty() {
        return;
    }
    for index in missing {
        let part = &cx.model.parts[p];
        let input = &part.inputs[index];
        let ty = cx.model.display_ty(&input.ty);
        let mut diag = Diagnostic::new(
            Code::E0202,
            format!(
                "input `{}` of part `{}` is never bound",
                input.name, part.decl.name
            ),
        )
        .primary(
            part.decl.name_span,
            format!("`{}` needs `{}`", part.decl.name, input.name),
        );
        if let Some(declared) = input.declared {
            let place = match input.origin {
                Origin::Own => "declared here".to_string(),
                Origin::Contract(c) => format!(
                    "declared here, in contract `{}`",
                    cx.model.contracts[c.index()].decl.name
                ),
            };
            diag = diag.secondary(declared, place);
        }
        // Bindings of this part to names declared nowhere else: a typo?
        let stray: Vec<&str> = part
            .inputs
            .iter()
            .filter(|i| i.declared.is_none())
            .map(|i| i.name.as_str())
            .collect();
        let fitting: Vec<String> = producers
            .get(input.name.as_str())
            .into_iter()
            .flatten()
            .filter(|&&q| q.index() != p)
            .filter(|&&q| {
                cx.model.parts[q.index()]
                    .outputs
                    .iter()
                    .any(|o| o.name == input.name && o.ty.fits(&input.ty))
            })
            .take(3)
            .map(|q| {
                format!(
                    "`input {} = {}.{}`",
                    input.name,
                    cx.model.parts[q.index()].decl.name,
                    input.name
                )
            })
            .collect();
        let from_score = cx.model.score.as_ref().is_some_and(|s| {
            s.inputs
                .iter()
                .any(|i| i.name == input.name && i.ty.fits(&input.ty))
        });
        diag = if let Some(close) = suggest::best_match(&input.name, stray.iter().copied()) {
            diag.help(format!(
                "`{close}` is bound but declared nowhere; did you mean to bind `{}`?",
                input.name
            ))
        } else if !fitting.is_empty() {
            diag.help(format!(
                "bind it in the part, e.g. {}",
                fitting.join(" or ")
            ))
        } else if from_score {
            diag.help(format!(
                "bind it to the score's input: `input {0} = score.{0}`",
                input.name
            ))
        } else {
            diag.help(format!(
                "bind it in the part with `input {0} = PART.OUTPUT`, or declare `input {0}: {ty}` \
                 in the score and bind it with `input {0} = score.{0}`",
                input.name
            ))
        };
        cx.report(diag);
    }
}

/// Which parts produce an output of each name.
fn producers(cx: &Ctx<'_>) -> HashMap<String, Vec<PartId>> {
    let mut map: HashMap<String, Vec<PartId>> = HashMap::new();
    for (i, part) in cx.model.parts.iter().enumerate() {
        for output in &part.outputs {
            map.entry(output.name.clone())
                .or_default()
                .push(PartId(i as u32));
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::super::testing::{BASE, base_with, check_files, check_one};
    use crate::diagnostics::Code;
    use crate::model::{Origin, Source};

    #[test]
    fn bindings_resolve_to_outputs() {
        let outcome = check_one(BASE);
        let model = &outcome.checked.model;
        let store = &model.parts[1];
        assert_eq!(store.inputs.len(), 1);
        assert_eq!(
            store.inputs[0].source,
            Some(Source::Part {
                part: crate::model::PartId(0),
                output: "link_type".into()
            })
        );
        assert!(matches!(store.inputs[0].origin, Origin::Contract(_)));
        assert_eq!(store.outputs[0].name, "store_api");
        assert_eq!(store.owns[0].pattern, "src/store/**");
        assert_eq!(store.ensures.len(), 1);
    }

    #[test]
    fn type_mismatch_names_both_types() {
        let outcome = check_one(&base_with(
            "input link_type: Text",
            "input link_type: [Text]",
        ));
        let d = outcome.single(Code::E0201);
        assert_eq!(
            d.message,
            "`link_type` expects `[Text]` but `model.link_type` is `Text`"
        );
        assert_eq!(
            outcome.label_texts(d),
            vec!["model.link_type", "link_type: Text", "link_type: [Text]"]
        );
    }

    #[test]
    fn optional_inputs_accept_plain_values() {
        check_one(&base_with(
            "input link_type: Text",
            "input link_type: Text?",
        ))
        .assert_clean();
    }

    #[test]
    fn unbound_inputs() {
        let outcome = check_one(&base_with("  input link_type = model.link_type\n", ""));
        let d = outcome.single(Code::E0202);
        assert_eq!(
            d.message,
            "input `link_type` of part `store` is never bound"
        );
        assert_eq!(outcome.label_texts(d), vec!["store", "link_type: Text"]);
        assert_eq!(
            d.help.as_deref(),
            Some("bind it in the part, e.g. `input link_type = model.link_type`")
        );
    }

    #[test]
    fn a_misspelt_binding_is_pointed_out() {
        let outcome = check_one(&base_with(
            "input link_type = model",
            "input lnk_type = model",
        ));
        let d = outcome.single(Code::E0202);
        assert_eq!(
            d.help.as_deref(),
            Some("`lnk_type` is bound but declared nowhere; did you mean to bind `link_type`?")
        );
    }

    #[test]
    fn missing_outputs() {
        let outcome = check_one(&base_with("= model.link_type", "= model.link_typ"));
        let d = outcome.single(Code::E0203);
        assert_eq!(d.message, "part `model` has no output `link_typ`");
        assert_eq!(d.notes, vec!["`model` produces `link_type: Text`"]);
        assert_eq!(d.help.as_deref(), Some("did you mean `link_type`?"));
    }

    #[test]
    fn score_inputs() {
        let text = base_with(
            "  default_agent coder\n",
            "  default_agent coder\n  input kind: Text\n",
        )
        .replace("= model.link_type", "= score.kind");
        let outcome = check_one(&text);
        outcome.assert_clean();
        let store = &outcome.checked.model.parts[1];
        assert_eq!(
            store.inputs[0].source,
            Some(Source::ScoreInput("kind".into()))
        );
        // but `model -> store` still orders them
        let outcome = check_one(&text.replace("= score.kind", "= score.knd"));
        let d = outcome.single(Code::E0203);
        assert_eq!(d.message, "the score has no input `knd`");
        assert_eq!(d.help.as_deref(), Some("did you mean `score.kind`?"));
    }

    #[test]
    fn unknown_source_parts_do_not_cascade() {
        let outcome = check_one(&base_with("= model.link_type", "= modl.link_type"));
        let d = outcome.single(Code::E0101);
        assert_eq!(d.help.as_deref(), Some("did you mean `model`?"));
        // an unknown contract hides the interface: no E0202 for it
        let outcome = check_one(&base_with("part store: Storage", "part store: Storag"));
        outcome.single(Code::E0101);
    }

    #[test]
    fn conflicting_contract_types() {
        let text = format!(
            "{}\ncontract Cache {{\n  input link_type: Int\n}}\n",
            base_with("part store: Storage", "part store: Storage + Cache")
        );
        let outcome = check_one(&text);
        let d = outcome.single(Code::E0201);
        assert_eq!(
            d.message,
            "input `link_type` of part `store` has two types: `Text` and `Int`"
        );
        assert_eq!(
            outcome.label_texts(d),
            vec!["Cache", "link_type: Int", "link_type: Text"]
        );
    }

    #[test]
    fn bindings_across_files() {
        let main = base_with("contract Storage {", "use parts.{model}\ncontract Storage {")
            .replace(
                "part model by architect {\n  serves shorten\n  complexity complex\n  output link_type: Text\n}",
                "",
            )
            .replace("input link_type: Text", "input link_type: Int");
        let outcome = check_files(&[
            ("main", &main),
            (
                "parts",
                "part model by architect { output link_type: Text }\nagent architect: mock {}",
            ),
        ]);
        let d = outcome
            .checked
            .diagnostics
            .iter()
            .find(|d| d.code == Code::E0201)
            .unwrap();
        // the output's label is in the other file
        assert_ne!(
            d.labels[0].span.file,
            d.labels[1].span.file,
            "{}",
            outcome.render()
        );
    }
}
