//! Types: records with no finite value (E0204) and check arguments (E0205).
//! Type resolution itself is in `resolve`; bindings (E0201–E0203) are in
//! `bindings`.
//!
//! A check argument fits its parameter when: a string is given for `Text`
//! or `Path`; a whole number for `Int`; any number for `Float`; `true` or
//! `false` for `Bool`; a variant name for an enum; a `[...]` list for a
//! list type (each element fitting); a `{ key: value }` map for a map type
//! (each value fitting) or a record (its fields, every required one
//! present); anything for `Json`. A parameter of type `T?` may be left out
//! or given a `T`.

use super::order::{shortest_cycle, strongly_connected};
use super::{Ctx, suggest};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::{CheckId, Const, Ty};
use crate::source::{FileId, Span};
use crate::syntax::ast::{Call, Value};

/// Check a call's arguments against the check's parameters. Returns the
/// arguments in parameter order, or `None` after reporting E0205.
pub(crate) fn check_args(
    cx: &mut Ctx<'_>,
    _file: FileId,
    call: &Call,
    check: CheckId,
) -> Option<Vec<(String, Const)>> {
    let params = cx.model.checks[check.index()].params.clone();
    let check_decl = &cx.model.checks[check.index()].decl;
    let check_name = check_decl.name.clone();
    let declared_at = check_decl.name_span;
    let signature = cx.input.sources.text(check_signature_span(cx, check));
    let signature = if signature.is_empty() {
        check_name.clone()
    } else {
        signature.to_string()
    };
    let base = |message: String| -> Diagnostic { Diagnostic::new(Code::E0205, message) };
    let declared_label = format!("`{check_name}` is declared here");

    let mut ok = true;
    let mut assigned: Vec<Option<(Const, Span)>> = vec![None; params.len()];
    let mut given = vec![false; params.len()];
    // A misspelt name most likely meant a missing parameter: reporting it as
    // missing too would say the same thing twice.
    let mut unknown_name = false;
    let mut positional = 0;
    let mut named_seen = false;
    let mut too_many_reported = false;
    for arg in &call.args {
        let index = match &arg.name {
            Some(name) => {
                named_seen = true;
                match params.iter().position(|p| p.name == name.name) {
                    Some(index) => {
                        cx.add_ref(name.span, params[index].symbol);
                        index
                    }
                    None => {
                        let mut diag = base(format!(
                            "check `{check_name}` has no parameter `{}`",
                            name.name
                        ))
                        .primary(name.span, "unknown parameter")
                        .secondary(declared_at, declared_label.clone());
                        let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
                        diag = match suggest::best_match(&name.name, names.iter().copied()) {
                            Some(close) => diag.help(format!("did you mean `{close}`?")),
                            None if names.is_empty() => {
                                diag.help(format!("`{check_name}` takes no arguments"))
                            }
                            None => diag.note(format!("the check is `{signature}`")),
                        };
                        cx.report(diag);
                        ok = false;
                        unknown_name = true;
                        continue;
                    }
                }
            }
            None => {
                if named_seen {
                    cx.report(
                        base("a positional argument follows a named one".into())
                            .primary(arg.span, "positional argument")
                            .help("name it, or move it before the named arguments"),
                    );
                    ok = false;
                    continue;
                }
                if positional >= params.len() {
                    if !too_many_reported {
                        let given = call.args.iter().filter(|a| a.name.is_none()).count();
                        cx.report(
                            base(format!(
                                "check `{check_name}` takes {} argument{}, but {given} {} given",
                                params.len(),
                                if params.len() == 1 { "" } else { "s" },
                                if given == 1 { "was" } else { "were" }
                            ))
                            .primary(arg.span, "unexpected argument")
                            .secondary(declared_at, declared_label.clone())
                            .note(format!("the check is `{signature}`")),
                        );
                        too_many_reported = true;
                    }
                    ok = false;
                    continue;
                }
                positional += 1;
                positional - 1
            }
        };
        let param = &params[index];
        if given[index] {
            let mut diag = base(format!("argument `{}` is given twice", param.name))
                .primary(arg.span, "given again here");
            if let Some((_, first)) = &assigned[index] {
                diag = diag.secondary(*first, "first given here");
            }
            cx.report(diag);
            ok = false;
            continue;
        }
        given[index] = true;
        match fit(cx, &arg.value, &param.ty) {
            Ok(value) => assigned[index] = Some((value, arg.span)),
            Err(mismatch) => {
                let expected = cx.model.display_ty(&param.ty);
                let message = mismatch.message.unwrap_or_else(|| {
                    format!(
                        "argument `{}` of `{check_name}` expects `{expected}`, found {}",
                        param.name, mismatch.found
                    )
                });
                let mut diag = base(message)
                    .primary(mismatch.span, format!("expected `{}`", mismatch.expected))
                    .secondary(param.span, format!("`{}` is declared here", param.name));
                if let Some(help) = mismatch.help {
                    diag = diag.help(help);
                }
                cx.report(diag);
                ok = false;
            }
        }
    }
    // Only parameters given nowhere are missing: a failed argument is
    // reported once, as itself.
    let missing: Vec<&str> = params
        .iter()
        .zip(&given)
        .filter(|(p, given)| p.required() && !**given)
        .map(|(p, _)| p.name.as_str())
        .collect();
    if !missing.is_empty() && !unknown_name {
        let plural = if missing.len() == 1 { "" } else { "s" };
        cx.report(
            base(format!(
                "missing argument{plural} {} to check `{check_name}`",
                suggest::list(&missing, 10)
            ))
            .primary(
                call.span,
                format!("missing {}", suggest::list(&missing, 10)),
            )
            .secondary(declared_at, declared_label)
            .help(format!("the check is `{signature}`")),
        );
        ok = false;
    }
    ok.then(|| {
        params
            .iter()
            .zip(assigned)
            .filter_map(|(p, a)| a.map(|(value, _)| (p.name.clone(), value)))
            .collect()
    })
}

/// The span of `name(params)` in the check's declaration.
fn check_signature_span(cx: &Ctx<'_>, check: CheckId) -> Span {
    let decl = &cx.model.checks[check.index()].decl;
    let end = cx.model.checks[check.index()]
        .params
        .last()
        .map_or(decl.name_span.end, |p| p.span.end);
    // Include the closing parenthesis when it follows directly.
    let text = &cx.input.sources.get(decl.file).text;
    let rest = &text[end as usize..];
    let close = rest
        .find(')')
        .filter(|i| {
            rest[..*i]
                .trim_matches([',', ' ', '\n', '\t', '\r'])
                .is_empty()
        })
        .map_or(end, |i| end + i as u32 + 1);
    Span {
        file: decl.file,
        start: decl.name_span.start,
        end: close,
    }
}

struct Mismatch {
    span: Span,
    expected: String,
    found: &'static str,
    message: Option<String>,
    help: Option<String>,
}

/// Check a constant against a type.
fn fit(cx: &Ctx<'_>, value: &Value, ty: &Ty) -> Result<Const, Mismatch> {
    let wrong = || Mismatch {
        span: value.span(),
        expected: cx.model.display_ty(ty),
        found: value.describe(),
        message: None,
        help: None,
    };
    match (ty, value) {
        (Ty::Optional(inner), _) => fit(cx, value, inner),
        (Ty::Json | Ty::Error, _) => any_const(value).ok_or_else(wrong),
        (Ty::Text | Ty::Path, Value::Str(s)) => Ok(Const::Text(s.value.clone())),
        (Ty::Text | Ty::Path, Value::Path(p)) => Err(Mismatch {
            help: Some(format!("put the text in quotes: `\"{}\"`", p.dotted())),
            ..wrong()
        }),
        (Ty::Int, Value::Number(n)) if n.integer => Ok(Const::Int(n.value as i64)),
        (Ty::Int, Value::Number(_)) => Err(Mismatch {
            help: Some("write a whole number".into()),
            ..wrong()
        }),
        (Ty::Float, Value::Number(n)) => Ok(Const::Float(n.value)),
        (Ty::Bool, Value::Bool(b, _)) => Ok(Const::Bool(*b)),
        (Ty::Enum(id), Value::Path(p)) if p.segments.len() == 1 => {
            let e = &cx.model.enums[id.index()];
            let name = &p.segments[0].name;
            if e.variants.iter().any(|v| &v.name == name) {
                return Ok(Const::Variant {
                    ty: *id,
                    name: name.clone(),
                });
            }
            let variants: Vec<&str> = e.variants.iter().map(|v| v.name.as_str()).collect();
            Err(Mismatch {
                message: Some(format!("`{name}` is not a variant of `{}`", e.decl.name)),
                help: Some(match suggest::best_match(name, variants.iter().copied()) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => format!("use {}", suggest::alternatives(&variants)),
                }),
                ..wrong()
            })
        }
        (Ty::Enum(id), Value::Str(s)) => {
            let e = &cx.model.enums[id.index()];
            let help = e
                .variants
                .iter()
                .any(|v| v.name == s.value)
                .then(|| format!("write the variant without quotes: `{}`", s.value));
            Err(Mismatch { help, ..wrong() })
        }
        (Ty::List(inner), Value::List(items, _)) => items
            .iter()
            .map(|item| fit(cx, item, inner))
            .collect::<Result<Vec<_>, _>>()
            .map(Const::List),
        (Ty::Map(inner), Value::Map(entries, _)) => entries
            .iter()
            .map(|e| fit(cx, &e.value, inner).map(|v| (e.key.text().to_string(), v)))
            .collect::<Result<Vec<_>, _>>()
            .map(Const::Map),
        (Ty::Record(id), Value::Map(entries, span)) => {
            let record = &cx.model.records[id.index()];
            let mut out = Vec::new();
            for entry in entries {
                let Some(field) = record.fields.iter().find(|f| f.name == entry.key.text()) else {
                    let names: Vec<&str> = record.fields.iter().map(|f| f.name.as_str()).collect();
                    return Err(Mismatch {
                        span: entry.key.span(),
                        message: Some(format!(
                            "`{}` has no field `{}`",
                            record.decl.name,
                            entry.key.text()
                        )),
                        help: suggest::best_match(entry.key.text(), names.iter().copied())
                            .map(|c| format!("did you mean `{c}`?")),
                        ..wrong()
                    });
                };
                out.push((field.name.clone(), fit(cx, &entry.value, &field.ty)?));
            }
            let missing: Vec<&str> = record
                .fields
                .iter()
                .filter(|f| !matches!(f.ty, Ty::Optional(_) | Ty::Error))
                .filter(|f| out.iter().all(|(n, _)| n != &f.name))
                .map(|f| f.name.as_str())
                .collect();
            if !missing.is_empty() {
                return Err(Mismatch {
                    span: *span,
                    message: Some(format!(
                        "a `{}` needs the field{} {}",
                        record.decl.name,
                        if missing.len() == 1 { "" } else { "s" },
                        suggest::list(&missing, 10)
                    )),
                    ..wrong()
                });
            }
            Ok(Const::Map(out))
        }
        _ => Err(wrong()),
    }
}

/// Any literal as a constant (for `Json` parameters).
fn any_const(value: &Value) -> Option<Const> {
    Some(match value {
        Value::Str(s) => Const::Text(s.value.clone()),
        Value::Number(n) if n.integer => Const::Int(n.value as i64),
        Value::Number(n) => Const::Float(n.value),
        Value::Bool(b, _) => Const::Bool(*b),
        Value::List(items, _) => Const::List(items.iter().map(any_const).collect::<Option<_>>()?),
        Value::Map(entries, _) => Const::Map(
            entries
                .iter()
                .map(|e| any_const(&e.value).map(|v| (e.key.text().to_string(), v)))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    })
}

/// E0204: a record that contains itself through required fields only has
/// no finite value. Optional fields, lists and maps end the chain (they can
/// be empty). Each cycle (strongly connected component) is reported once.
pub(crate) fn record_cycles(cx: &mut Ctx<'_>) {
    let records = &cx.model.records;
    // succ[r] = (s, field index) for each required field of record type.
    let succ: Vec<Vec<(u32, u32)>> = records
        .iter()
        .map(|r| {
            r.fields
                .iter()
                .enumerate()
                .filter_map(|(i, f)| match f.ty {
                    Ty::Record(s) => Some((s.0, i as u32)),
                    _ => None,
                })
                .collect()
        })
        .collect();
    let adjacency: Vec<Vec<u32>> = succ
        .iter()
        .map(|s| s.iter().map(|(to, _)| *to).collect())
        .collect();
    let components = strongly_connected(&adjacency);
    let mut component_of = vec![0usize; adjacency.len()];
    for (c, members) in components.iter().enumerate() {
        for &m in members {
            component_of[m as usize] = c;
        }
    }
    let mut diags = Vec::new();
    for (c, component) in components.iter().enumerate() {
        let start = *component.iter().min().expect("components are not empty");
        let self_loop = adjacency[start as usize].contains(&start);
        if component.len() == 1 && !self_loop {
            continue;
        }
        let in_component = |n: u32| component_of[n as usize] == c;
        let cycle = shortest_cycle(start, &|n| succ[n as usize].clone(), &in_component);
        // cycle: [(from, to, field)] edges from `start` back to it.
        let names: Vec<String> = cycle
            .iter()
            .map(|&(from, _, field)| {
                let r = &records[from as usize];
                let f = &r.fields[field as usize];
                format!(
                    "`{}.{}: {}`",
                    r.decl.name,
                    f.name,
                    cx.model.display_ty(&f.ty)
                )
            })
            .collect();
        let start_name = &records[start as usize].decl.name;
        let mut diag = Diagnostic::new(
            Code::E0204,
            format!(
                "record type `{start_name}` contains itself through required fields: {} → `{start_name}`",
                names.join(" → ")
            ),
        );
        for (i, &(from, to, field)) in cycle.iter().enumerate() {
            let r = &records[from as usize];
            let f = &r.fields[field as usize];
            let label = format!(
                "every `{}` needs a `{}`",
                r.decl.name, records[to as usize].decl.name
            );
            diag = if i == 0 {
                diag.primary(f.span, label)
            } else {
                diag.secondary(f.span, label)
            };
        }
        let others: Vec<&str> = component
            .iter()
            .filter(|n| cycle.iter().all(|(from, _, _)| from != *n))
            .map(|n| records[*n as usize].decl.name.as_str())
            .collect();
        if !others.is_empty() {
            diag = diag.note(format!(
                "{} {} caught in the same cycle",
                suggest::list(&others, 8),
                if others.len() == 1 { "is" } else { "are" }
            ));
        }
        diags.push(diag.note("no value of such a type can ever be written down: it never ends").help(
            "make one of these fields optional (`T?`), a list (`[T]`) or a map (`{Text: T}`)",
        ));
    }
    cx.diags.extend(diags);
}

#[cfg(test)]
mod tests {
    use super::super::testing::{BASE, base_with, check_files, check_one};
    use crate::diagnostics::Code;
    use crate::model::{Const, EnsureKind};

    #[test]
    fn recursive_records_through_required_fields() {
        let outcome = check_one(&format!(
            "{BASE}\ntype Tree {{ root: Node }}\ntype Node {{ label: Text\n parent: Tree }}\n"
        ));
        let d = outcome.single(Code::E0204);
        assert_eq!(
            d.message,
            "record type `Tree` contains itself through required fields: `Tree.root: Node` → \
             `Node.parent: Tree` → `Tree`"
        );
        assert_eq!(outcome.label_texts(d), vec!["root: Node", "parent: Tree"]);
    }

    #[test]
    fn a_record_containing_itself_directly() {
        let outcome = check_one(&format!("{BASE}\ntype Loop {{ next: Loop }}\n"));
        let d = outcome.single(Code::E0204);
        assert_eq!(outcome.label_texts(d), vec!["next: Loop"]);
    }

    #[test]
    fn optional_lists_and_maps_break_recursion() {
        check_one(&format!(
            "{BASE}\ntype Tree {{ children: [Tree]\n parent: Tree?\n index: {{Text: Tree}} }}\n"
        ))
        .assert_clean();
    }

    #[test]
    fn one_diagnostic_per_cycle() {
        // Two cycles sharing `A`: one component, one diagnostic.
        let outcome = check_one(&format!(
            "{BASE}\ntype A {{ b: B\n c: C }}\ntype B {{ a: A }}\ntype C {{ a: A }}\n"
        ));
        let d = outcome.single(Code::E0204);
        assert_eq!(d.notes[0], "`C` is caught in the same cycle");
    }

    #[test]
    fn check_arguments_are_resolved() {
        let outcome = check_one(BASE);
        let model = &outcome.checked.model;
        let storage = &model.contracts[0];
        assert_eq!(
            storage.ensures[0].kind,
            EnsureKind::Check {
                check: crate::model::CheckId(0),
                args: vec![("package".into(), Const::Text("store".into()))],
            }
        );
        // positional arguments work too
        let outcome = check_one(&base_with(
            "cargo_test(package: \"store\")",
            "cargo_test(\"store\")",
        ));
        outcome.assert_clean();
    }

    fn with_call(call: &str) -> String {
        base_with("cargo_test(package: \"store\")", call)
    }

    #[test]
    fn wrong_check_arguments() {
        let outcome = check_one(&with_call("cargo_test(pakage: \"store\")"));
        let d = outcome.single(Code::E0205);
        assert_eq!(d.message, "check `cargo_test` has no parameter `pakage`");
        assert_eq!(d.help.as_deref(), Some("did you mean `package`?"));
        assert_eq!(outcome.label_texts(d), vec!["pakage", "cargo_test"]);

        let outcome = check_one(&with_call("cargo_test()"));
        let d = outcome.single(Code::E0205);
        assert_eq!(
            d.message,
            "missing argument `package` to check `cargo_test`"
        );
        assert_eq!(
            d.help.as_deref(),
            Some("the check is `cargo_test(package: Text)`")
        );

        let outcome = check_one(&with_call("cargo_test(package: 3)"));
        let d = outcome.single(Code::E0205);
        assert_eq!(
            d.message,
            "argument `package` of `cargo_test` expects `Text`, found a number"
        );

        let outcome = check_one(&with_call("cargo_test(\"a\", \"b\")"));
        let d = outcome.single(Code::E0205);
        assert_eq!(
            d.message,
            "check `cargo_test` takes 1 argument, but 2 were given"
        );

        let outcome = check_one(&with_call("cargo_test(package: \"a\", package: \"b\")"));
        outcome.single(Code::E0205);
    }

    #[test]
    fn check_arguments_against_the_stdlib() {
        let main = base_with(
            "check cargo_test(package: Text) {\n  run \"cargo test -p {package}\"\n}",
            "use std.checks.{cargo_test, file_exists}",
        )
        .replace(
            "ensures cargo_test(package: \"store\")",
            "ensures file_exists(path: 1)",
        );
        let outcome = check_files(&[("main", &main)]);
        let d = outcome.single(Code::E0205);
        // the parameter's declaration is in the stdlib file
        let file = outcome.sources.get(d.labels[1].span.file);
        assert!(file.is_stdlib(), "{}", outcome.render());
    }

    #[test]
    fn typed_constants() {
        let text = format!(
            "{BASE}\nenum Mode {{ fast, slow }}\ntype Opt {{ n: Int\n m: Float? }}\n\
             check c(mode: Mode, list: [Int], opts: Opt, extra: Json, maybe: Bool?) {{ run \"x\" }}\n\
             contract Other {{ ensures c(mode: fast, list: [1, 2], opts: {{ n: 1 }}, extra: {{ a: [true] }}) }}\n"
        );
        check_one(&text).assert_clean();
        let bad = text.replace("mode: fast", "mode: fats");
        let d = check_one(&bad).single(Code::E0205).clone();
        assert_eq!(d.message, "`fats` is not a variant of `Mode`");
        let bad = text.replace("opts: { n: 1 }", "opts: { m: 1 }");
        let d = check_one(&bad).single(Code::E0205).clone();
        assert_eq!(d.message, "a `Opt` needs the field `n`");
        let bad = text.replace("list: [1, 2]", "list: [1, 2.5]");
        let outcome = check_one(&bad);
        let d = outcome.single(Code::E0205);
        assert_eq!(outcome.label_texts(d)[0], "2.5");
    }
}
