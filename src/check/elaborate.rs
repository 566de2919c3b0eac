//! Elaboration: each declaration of the syntax tree becomes its part of the
//! checked model, its settings validated against the schema, its names
//! resolved, its values typed. (Not to be confused with `syntax/lower.rs`,
//! which lowers pest's pairs into the syntax tree.)
//!
//! Declarations are elaborated kind by kind (types, checks, intents, agents,
//! the score, contracts, parts) so that what one needs from another (a
//! check's parameters for a call, an agent for `default_agent`) is there.

use super::resolve::{self, Want};
use super::settings::{self, DeclKind, PROVIDERS, Target, Validated};
use super::{Ctx, ItemId, Resolution, suggest, types};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::PartInput;
use crate::model::{
    AgentId, Budget, CheckId, ContractId, Decl, Ensure, EnsureKind, EnumId, FieldDef, Glob,
    IntentId, Level, Origin, Param, Part, PartId, PartOutput, Port, Priority, Protocol, Provider,
    Spanned, Symbol, SymbolId, SymbolKind, TypeId, VariantDef,
};
use crate::source::{FileId, Span};
use crate::syntax::ast::{
    AgentDecl, CheckDecl, ContractDecl, EnumDecl, Ident, IntentDecl, Item, PartDecl, Path,
    ScoreDecl, TypeDecl, Value,
};
use std::collections::HashMap;
use std::time::Duration;

/// What the later phases need from a part's declaration.
pub(crate) struct PartWork<'p> {
    pub file: FileId,
    /// Every contract the part names resolved, so its interface is complete.
    pub contracts_ok: bool,
    /// The spans of the contract names, aligned with the part's `contracts`.
    pub contract_spans: Vec<Span>,
    /// `by AGENT`.
    pub agent: Resolution<AgentId>,
    /// The part has a `serves` line (even one that did not resolve).
    pub serves_written: bool,
    /// `input n = p.o` and `input n: T = p.o`, in source order.
    pub bindings: Vec<RawBinding<'p>>,
}

#[derive(Clone, Copy)]
pub(crate) struct RawBinding<'p> {
    pub name: &'p Ident,
    pub source: &'p Path,
    /// The whole `n = p.o`.
    pub span: Span,
}

/// A part with every setting at its default.
pub(crate) fn new_part(decl: Decl) -> Part {
    Part {
        decl,
        contracts: Vec::new(),
        agent: None,
        agent_span: None,
        agent_is_default: false,
        inputs: Vec::new(),
        outputs: Vec::new(),
        owns: Vec::new(),
        reads: Vec::new(),
        ensures: Vec::new(),
        brief: None,
        complexity: Level::Routine,
        complexity_span: None,
        retries: 0,
        timeout: None,
        estimate: None,
        budget: Budget::default(),
        approve: None,
        serves: Vec::new(),
        after: Vec::new(),
    }
}

pub(crate) fn elaborate(cx: &mut Ctx<'_>) {
    let input = cx.input;
    // Kind by kind, in a fixed order (see the module doc).
    let order: [fn(&Item) -> bool; 7] = [
        |i| matches!(i, Item::Type(_) | Item::Enum(_)),
        |i| matches!(i, Item::Check(_)),
        |i| matches!(i, Item::Intent(_)),
        |i| matches!(i, Item::Agent(_)),
        |i| matches!(i, Item::Score(_)),
        |i| matches!(i, Item::Contract(_)),
        |i| matches!(i, Item::Part(_)),
    ];
    for wanted in order {
        for (f, file) in input.files.iter().enumerate() {
            let file_id = FileId(f as u32);
            for (i, item) in file.items.iter().enumerate() {
                if !wanted(item) {
                    continue;
                }
                match (item, cx.items[f][i]) {
                    (Item::Type(d), Some(ItemId::Record(id))) => lower_record(cx, file_id, d, id),
                    (Item::Enum(d), Some(ItemId::Enum(id))) => lower_enum(cx, d, id),
                    (Item::Check(d), Some(ItemId::Check(id))) => lower_check(cx, file_id, d, id),
                    (Item::Intent(d), Some(ItemId::Intent(id))) => lower_intent(cx, d, id),
                    (Item::Agent(d), Some(ItemId::Agent(id))) => lower_agent(cx, file_id, d, id),
                    (Item::Score(d), _)
                        if cx.score_decl.is_some_and(|(_, kept)| std::ptr::eq(kept, d)) =>
                    {
                        lower_score(cx, file_id, d)
                    }
                    (Item::Contract(d), Some(ItemId::Contract(id))) => {
                        lower_contract(cx, file_id, d, id)
                    }
                    (Item::Part(d), Some(ItemId::Part(id))) => lower_part(cx, file_id, d, id),
                    _ => {}
                }
            }
        }
    }
}

// ----- values -----

pub(crate) fn string(value: &Value) -> Option<String> {
    match value {
        Value::Str(s) => Some(s.value.clone()),
        _ => None,
    }
}

fn integer(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) if n.integer && n.value >= 0.0 => Some(n.value as u64),
        _ => None,
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => Some(n.value),
        _ => None,
    }
}

fn duration(value: &Value) -> Option<Duration> {
    match value {
        Value::Duration(d) => Some(Duration::from_millis(d.millis)),
        _ => None,
    }
}

fn word(value: &Value) -> Option<(&str, Span)> {
    match value {
        Value::Path(p) if p.segments.len() == 1 => Some((&p.segments[0].name, p.span)),
        _ => None,
    }
}

fn validate<'p>(
    cx: &mut Ctx<'p>,
    kind: DeclKind,
    provider: Option<&'p str>,
    name: &'p Ident,
    body: Option<&'p crate::syntax::ast::Body>,
) -> Validated<'p> {
    let target = Target {
        kind,
        provider,
        name,
        body,
    };
    settings::validate(&target, &mut cx.diags)
}

fn member_symbol(
    cx: &mut Ctx<'_>,
    kind: SymbolKind,
    name: &Ident,
    full_span: Span,
    doc: Option<String>,
    detail: String,
    parent: SymbolId,
) -> SymbolId {
    cx.add_symbol(Symbol {
        kind,
        name: name.name.clone(),
        span: name.span,
        full_span,
        doc,
        detail,
        parent: Some(parent),
    })
}

/// Remembers the names of members already declared, to report a second one
/// (E0102).
#[derive(Default)]
struct Names(HashMap<String, Span>);

impl Names {
    /// `true` when the name is new.
    fn insert(&mut self, cx: &mut Ctx<'_>, what: &str, name: &Ident) -> bool {
        if let Some(&first) = self.0.get(&name.name) {
            cx.report(
                super::duplicate(&format!("{what} `{}`", name.name), first, name.span)
                    .help("remove one of them, or rename it"),
            );
            return false;
        }
        self.0.insert(name.name.clone(), name.span);
        true
    }
}

// ----- types -----

fn lower_record(cx: &mut Ctx<'_>, file: FileId, d: &TypeDecl, id: TypeId) {
    let parent = cx.model.records[id.index()].decl.symbol;
    let mut names = Names::default();
    let mut fields = Vec::new();
    for field in &d.fields {
        let ty = resolve::resolve_type(cx, file, &field.ty);
        if !names.insert(cx, "field", &field.name) {
            continue;
        }
        let doc = field.doc.as_ref().map(|d| d.text.clone());
        let detail = format!("{}: {}", field.name.name, cx.model.display_ty(&ty));
        let symbol = member_symbol(
            cx,
            SymbolKind::Field,
            &field.name,
            field.span,
            doc.clone(),
            detail,
            parent,
        );
        fields.push(FieldDef {
            name: field.name.name.clone(),
            ty,
            span: field.span,
            doc,
            symbol,
        });
    }
    cx.model.records[id.index()].fields = fields;
}

fn lower_enum(cx: &mut Ctx<'_>, d: &EnumDecl, id: EnumId) {
    let parent = cx.model.enums[id.index()].decl.symbol;
    let mut names = Names::default();
    let mut variants = Vec::new();
    for variant in &d.variants {
        if !names.insert(cx, "variant", &variant.name) {
            continue;
        }
        let doc = variant.doc.as_ref().map(|d| d.text.clone());
        let detail = format!("{}.{}", d.name.name, variant.name.name);
        let symbol = member_symbol(
            cx,
            SymbolKind::Variant,
            &variant.name,
            variant.span,
            doc.clone(),
            detail,
            parent,
        );
        variants.push(VariantDef {
            name: variant.name.name.clone(),
            span: variant.span,
            doc,
            symbol,
        });
    }
    cx.model.enums[id.index()].variants = variants;
}

// ----- checks and intents -----

/// The `{name}` placeholders of a check's command, with their byte offsets.
/// `${NAME}` is a shell variable, and braces around anything but a name
/// (`{}`, `{print $1}`) are the shell's too.
fn placeholders(template: &str) -> Vec<(usize, &str)> {
    let mut found = Vec::new();
    let bytes = template.as_bytes();
    for (at, _) in template.match_indices('{') {
        if at > 0 && bytes[at - 1] == b'$' {
            continue;
        }
        let rest = &template[at + 1..];
        let Some(end) = rest.find('}') else { continue };
        let name = &rest[..end];
        let mut chars = name.chars();
        let starts_well = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if starts_well && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            found.push((at, name));
        }
    }
    found
}

fn lower_check<'p>(cx: &mut Ctx<'p>, file: FileId, d: &'p CheckDecl, id: CheckId) {
    let parent = cx.model.checks[id.index()].decl.symbol;
    let mut names = Names::default();
    let mut params = Vec::new();
    for param in &d.params {
        let ty = resolve::resolve_type(cx, file, &param.ty);
        if !names.insert(cx, "parameter", &param.name) {
            continue;
        }
        let detail = format!("{}: {}", param.name.name, cx.model.display_ty(&ty));
        let symbol = member_symbol(
            cx,
            SymbolKind::Param,
            &param.name,
            param.span,
            None,
            detail,
            parent,
        );
        params.push(Param {
            name: param.name.name.clone(),
            ty,
            span: param.span,
            symbol,
        });
    }
    let settings = validate(cx, DeclKind::Check, None, &d.name, Some(&d.body));
    if let Some(Value::Str(run)) = settings.one("run") {
        let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
        for (at, placeholder) in placeholders(&run.value) {
            if names.contains(&placeholder) {
                continue;
            }
            // Point at the placeholder when the literal has no escapes.
            let span = if run.span.len() == run.value.len() + 2 && !run.block {
                let start = run.span.start as usize + 1 + at;
                Span::new(run.span.file, start, start + placeholder.len() + 2)
            } else {
                run.span
            };
            let mut diag = Diagnostic::new(
                Code::E0104,
                format!(
                    "`run` uses `{{{placeholder}}}`, but check `{}` has no parameter `{placeholder}`",
                    d.name.name
                ),
            )
            .primary(span, "no such parameter");
            diag = match suggest::best_match(placeholder, names.iter().copied()) {
                Some(close) => diag.help(format!("did you mean `{{{close}}}`?")),
                None => diag.help(format!(
                    "declare it: `check {}({placeholder}: Text)`, or write `${{{placeholder}}}` \
                     for a shell variable",
                    d.name.name
                )),
            };
            cx.report(diag);
        }
    }
    let check = &mut cx.model.checks[id.index()];
    check.params = params;
    check.run = settings.one("run").and_then(string).unwrap_or_default();
    check.timeout = settings.one("timeout").and_then(duration);
}

fn lower_intent<'p>(cx: &mut Ctx<'p>, d: &'p IntentDecl, id: IntentId) {
    let settings = validate(cx, DeclKind::Intent, None, &d.name, d.body.as_ref());
    let accepts = settings
        .all("accept")
        .filter_map(|v| {
            string(v).map(|value| Spanned {
                value,
                span: v.span(),
            })
        })
        .collect();
    let priority = settings
        .one("priority")
        .and_then(word)
        .and_then(|(w, _)| Priority::parse(w));
    let written = d
        .body
        .as_ref()
        .is_some_and(|b| b.settings.iter().any(|s| s.name.name == "accept"));
    if written {
        cx.intents_with_accept.insert(id);
    }
    let intent = &mut cx.model.intents[id.index()];
    intent.accepts = accepts;
    intent.priority = priority;
}

// ----- agents -----

fn lower_agent<'p>(cx: &mut Ctx<'p>, file: FileId, d: &'p AgentDecl, id: AgentId) {
    let provider = d.provider.name.as_str();
    let known = PROVIDERS.contains(&provider);
    if !known {
        let diag = unknown_provider(cx, file, &d.provider);
        cx.report(diag);
    }
    let settings = validate(
        cx,
        DeclKind::Agent,
        known.then_some(provider),
        &d.name,
        Some(&d.body),
    );
    let text = |name: &str| settings.one(name).and_then(string);
    let provider = match provider {
        "openai" => Provider::OpenAi {
            model: text("model").unwrap_or_default(),
            endpoint: text("endpoint"),
            key_env: text("key_env"),
            temperature: settings.one("temperature").and_then(number),
            max_tokens: settings.one("max_tokens").and_then(integer),
        },
        "anthropic" => Provider::Anthropic {
            model: text("model").unwrap_or_default(),
            endpoint: text("endpoint"),
            key_env: text("key_env"),
            max_tokens: settings.one("max_tokens").and_then(integer),
        },
        "command" => Provider::Command {
            run: settings.all("run").filter_map(string).collect(),
            env: match settings.one("env") {
                Some(Value::Map(entries, _)) => entries
                    .iter()
                    .filter_map(|e| string(&e.value).map(|v| (e.key.text().to_string(), v)))
                    .collect(),
                _ => Vec::new(),
            },
            stdin_prompt: settings.one("stdin").and_then(word).is_some(),
            pass_env: settings.all("pass_env").filter_map(string).collect(),
            protocol: settings
                .one("protocol")
                .and_then(word)
                .and_then(|(w, _)| Protocol::parse(w))
                .unwrap_or_default(),
            instructions: text("instructions"),
            key_env: text("key_env"),
        },
        "mock" => Provider::Mock {
            latency: settings.one("latency").and_then(duration),
            fail_rate: settings.one("fail_rate").and_then(number),
            seed: settings.one("seed").and_then(integer),
        },
        other => Provider::Unknown(other.to_string()),
    };
    let tier = settings.one("tier").and_then(word);
    if tier.is_none() && d.body.settings.iter().any(|s| s.name.name == "tier") {
        // Rejected (E0104): the intended tier is unknown, so E0501 must not
        // be judged against the default.
        cx.unknown_tier.insert(id);
    }
    let agent = &mut cx.model.agents[id.index()];
    agent.provider = provider;
    if let Some((level, span)) = tier.and_then(|(w, s)| Level::parse(w).map(|l| (l, s))) {
        agent.tier = level;
        agent.tier_span = Some(span);
    }
    agent.concurrency = settings
        .one("concurrency")
        .and_then(integer)
        .map(|n| n.min(u32::MAX as u64) as u32);
    agent.price_in = settings.one("price_in").and_then(number);
    agent.price_out = settings.one("price_out").and_then(number);
    agent.sandbox = crate::model::AgentSandbox {
        writes: settings.all("writes").filter_map(string).collect(),
        reads: settings
            .accepted
            .iter()
            .any(|a| a.spec.name == "reads")
            .then(|| settings.all("reads").filter_map(string).collect()),
        optional: settings.one("confinement").and_then(word).map(|(w, _)| w) == Some("optional"),
    };
}

fn unknown_provider(cx: &Ctx<'_>, file: FileId, provider: &Ident) -> Diagnostic {
    let mut diag = Diagnostic::new(
        Code::E0502,
        format!("unknown agent provider `{}`", provider.name),
    )
    .primary(provider.span, "not a provider");
    let scope = &cx.scopes[file.index()];
    if let Some(ItemId::Agent(agent)) = scope.names.get(&provider.name).and_then(|e| e.target) {
        let decl = &cx.model.agents[agent.index()].decl;
        return diag
            .secondary(decl.name_span, format!("`{}` is an agent", provider.name))
            .note(format!(
                "`{}` is an agent, not a provider; an agent cannot be based on another",
                provider.name
            ))
            .help(format!(
                "to use it, write `by {}` on the parts it should play, and remove this agent",
                provider.name
            ));
    }
    if let Some(close) = suggest::best_match(&provider.name, PROVIDERS.iter().copied()) {
        diag = diag.help(format!("did you mean `{close}`?"));
    }
    diag.note(format!(
        "the providers are {}",
        suggest::list(PROVIDERS, PROVIDERS.len())
    ))
}

// ----- the score -----

fn lower_score<'p>(cx: &mut Ctx<'p>, file: FileId, d: &'p ScoreDecl) {
    let settings = validate(cx, DeclKind::Score, None, &d.name, Some(&d.body));
    let parent = cx.model.score.as_ref().map(|s| s.decl.symbol);
    let Some(parent) = parent else { return };
    let default_agent = match settings.one("default_agent") {
        Some(Value::Path(path)) => match resolve::resolve(cx, file, path, Want::Agent) {
            Some(ItemId::Agent(id)) => Resolution::Found(id, path.span),
            _ => Resolution::Poisoned,
        },
        // Written but rejected (E0104): do not add E0503 on top.
        Some(_) => Resolution::Poisoned,
        None if d
            .body
            .settings
            .iter()
            .any(|s| s.name.name == "default_agent") =>
        {
            Resolution::Poisoned
        }
        None => Resolution::Absent,
    };
    cx.default_agent = default_agent;
    let inputs = lower_ports(
        cx,
        file,
        settings.all("input"),
        SymbolKind::ScoreInput,
        parent,
        &mut Names::default(),
        "score input",
    );
    let budget = lower_budget(cx, &settings);
    cx.model.prompt_template = settings.one("prompt_template").and_then(|v| {
        string(v).map(|value| Spanned {
            value,
            span: v.span(),
        })
    });
    let Some(score) = cx.model.score.as_mut() else {
        return;
    };
    score.title = settings.one("title").and_then(string);
    score.workspace = settings.one("workspace").and_then(string);
    score.concurrency = settings
        .one("concurrency")
        .and_then(integer)
        .map(|n| n.min(u32::MAX as u64) as u32);
    score.default_agent = match default_agent {
        Resolution::Found(id, _) => Some(id),
        _ => None,
    };
    score.budget = budget;
    score.inputs = inputs;
}

fn lower_budget(cx: &mut Ctx<'_>, settings: &Validated<'_>) -> Budget {
    let mut budget = Budget::default();
    let mut seen: HashMap<&str, Span> = HashMap::new();
    for value in settings.all("budget") {
        let Value::Tagged { tag, value, span } = value else {
            continue;
        };
        if let Some(&first) = seen.get(tag.name.as_str()) {
            cx.report(
                super::duplicate(&format!("the `{}` budget", tag.name), first, *span)
                    .help("keep one of the two"),
            );
            continue;
        }
        seen.insert(&tag.name, *span);
        match tag.name.as_str() {
            "tokens" => budget.tokens = integer(value),
            "usd" => budget.usd = number(value),
            _ => {}
        }
    }
    budget
}

/// `name: Type` values: typed ports with symbols, duplicates reported.
fn lower_ports<'p>(
    cx: &mut Ctx<'p>,
    file: FileId,
    values: impl Iterator<Item = &'p Value>,
    kind: SymbolKind,
    parent: SymbolId,
    names: &mut Names,
    what: &str,
) -> Vec<Port> {
    let mut ports = Vec::new();
    for value in values {
        let Value::Typed { name, ty, span, .. } = value else {
            continue;
        };
        let resolved = resolve::resolve_type(cx, file, ty);
        if !names.insert(cx, what, name) {
            continue;
        }
        let keyword = match kind {
            SymbolKind::Output => "output",
            _ => "input",
        };
        let detail = format!(
            "{keyword} {}: {}",
            name.name,
            cx.model.display_ty(&resolved)
        );
        let symbol = member_symbol(cx, kind, name, *span, None, detail, parent);
        ports.push(Port {
            name: name.name.clone(),
            ty: resolved,
            span: *span,
            symbol,
        });
    }
    ports
}

fn globs<'p>(values: impl Iterator<Item = &'p Value>, origin: Origin) -> Vec<Glob> {
    values
        .filter_map(|v| match v {
            Value::Str(s) => Some(Glob {
                pattern: s.value.clone(),
                span: s.span,
                origin,
            }),
            _ => None,
        })
        .collect()
}

fn lower_ensures<'p>(
    cx: &mut Ctx<'p>,
    file: FileId,
    values: impl Iterator<Item = &'p Value>,
    origin: Origin,
) -> Vec<Ensure> {
    let mut ensures = Vec::new();
    for value in values {
        match value {
            Value::Str(s) => ensures.push(Ensure {
                kind: EnsureKind::Text(s.value.clone()),
                span: s.span,
                origin,
            }),
            Value::Call(call) => {
                let Some(ItemId::Check(check)) =
                    resolve::resolve(cx, file, &call.callee, Want::Check)
                else {
                    continue;
                };
                if let Some(args) = types::check_args(cx, file, call, check) {
                    ensures.push(Ensure {
                        kind: EnsureKind::Check { check, args },
                        span: call.span,
                        origin,
                    });
                }
            }
            _ => {}
        }
    }
    ensures
}

// ----- contracts -----

fn lower_contract<'p>(cx: &mut Ctx<'p>, file: FileId, d: &'p ContractDecl, id: ContractId) {
    let settings = validate(cx, DeclKind::Contract, None, &d.name, Some(&d.body));
    let parent = cx.model.contracts[id.index()].decl.symbol;
    let inputs = lower_ports(
        cx,
        file,
        settings.all("input"),
        SymbolKind::Input,
        parent,
        &mut Names::default(),
        "input",
    );
    let outputs = lower_ports(
        cx,
        file,
        settings.all("output"),
        SymbolKind::Output,
        parent,
        &mut Names::default(),
        "output",
    );
    let ensures = lower_ensures(cx, file, settings.all("ensures"), Origin::Own);
    let contract = &mut cx.model.contracts[id.index()];
    contract.inputs = inputs;
    contract.outputs = outputs;
    contract.owns = globs(settings.all("owns"), Origin::Own);
    contract.reads = globs(settings.all("reads"), Origin::Own);
    contract.ensures = ensures;
}

// ----- parts -----

fn lower_part<'p>(cx: &mut Ctx<'p>, file: FileId, d: &'p PartDecl, id: PartId) {
    let settings = validate(cx, DeclKind::Part, None, &d.name, Some(&d.body));
    let parent = cx.model.parts[id.index()].decl.symbol;

    let mut contracts: Vec<ContractId> = Vec::new();
    let mut contract_spans: Vec<Span> = Vec::new();
    let mut contracts_ok = true;
    for path in &d.contracts {
        match resolve::resolve(cx, file, path, Want::Contract) {
            Some(ItemId::Contract(contract)) => {
                if let Some(i) = contracts.iter().position(|c| *c == contract) {
                    cx.report(
                        Diagnostic::new(
                            Code::E0102,
                            format!("contract `{}` is named twice", path.dotted()),
                        )
                        .primary(path.span, "named again here")
                        .secondary(contract_spans[i], "first named here")
                        .help("a part fulfils each contract once; remove the repetition"),
                    );
                    continue;
                }
                contracts.push(contract);
                contract_spans.push(path.span);
            }
            _ => contracts_ok = false,
        }
    }

    let agent = match &d.agent {
        None => Resolution::Absent,
        Some(path) => match resolve::resolve(cx, file, path, Want::Agent) {
            Some(ItemId::Agent(agent)) => Resolution::Found(agent, path.span),
            _ => Resolution::Poisoned,
        },
    };

    let mut serves: Vec<IntentId> = Vec::new();
    let serves_written = d.body.settings.iter().any(|s| s.name.name == "serves");
    let serves_values: usize = d
        .body
        .settings
        .iter()
        .filter(|s| s.name.name == "serves")
        .map(|s| s.values.len())
        .sum();
    if settings.all("serves").count() < serves_values {
        // A value was rejected (E0104): it may have meant any intent.
        cx.unresolved_serves.push(None);
    }
    for value in settings.all("serves") {
        let Value::Path(path) = value else { continue };
        match resolve::resolve_with(cx, file, path, Want::Intent) {
            Ok(Some(ItemId::Intent(intent))) => {
                if !serves.contains(&intent) {
                    serves.push(intent);
                }
            }
            Ok(_) => cx.unresolved_serves.push(None),
            Err(suggestion) => cx.unresolved_serves.push(match suggestion {
                Some(ItemId::Intent(intent)) => Some(intent),
                _ => None,
            }),
        }
    }

    let (complexity, complexity_span) = match settings.one("complexity").and_then(word) {
        Some((w, span)) => (Level::parse(w).unwrap_or_default(), Some(span)),
        None => (Level::Routine, None),
    };

    // Own inputs: declarations (`n: T`) become inputs now; bindings are
    // resolved once every part's outputs are known.
    let mut declared = Names::default();
    let mut inputs = Vec::new();
    let mut bindings = Vec::new();
    let mut bound: HashMap<String, Span> = HashMap::new();
    for value in settings.all("input") {
        let (name, source, span) = match value {
            Value::Typed {
                name,
                ty,
                source,
                span,
            } => {
                let resolved = resolve::resolve_type(cx, file, ty);
                if declared.insert(cx, "input", name) {
                    let detail = format!("input {}: {}", name.name, cx.model.display_ty(&resolved));
                    let symbol =
                        member_symbol(cx, SymbolKind::Input, name, *span, None, detail, parent);
                    inputs.push(PartInput {
                        name: name.name.clone(),
                        ty: resolved,
                        declared: Some(*span),
                        origin: Origin::Own,
                        source: None,
                        binding: None,
                        symbol,
                    });
                }
                (name, source.as_ref(), *span)
            }
            Value::Binding { name, source, span } => (name, Some(source), *span),
            _ => continue,
        };
        let Some(source) = source else { continue };
        if let Some(&first) = bound.get(&name.name) {
            cx.report(
                Diagnostic::new(Code::E0102, format!("input `{}` is bound twice", name.name))
                    .primary(span, "bound again here")
                    .secondary(first, "first bound here")
                    .help("an input takes its value from one place; keep one binding"),
            );
            continue;
        }
        bound.insert(name.name.clone(), span);
        bindings.push(RawBinding { name, source, span });
    }

    let mut output_names = Names::default();
    let outputs: Vec<PartOutput> = lower_ports(
        cx,
        file,
        settings.all("output"),
        SymbolKind::Output,
        parent,
        &mut output_names,
        "output",
    )
    .into_iter()
    .map(|p| PartOutput {
        name: p.name,
        ty: p.ty,
        span: p.span,
        origin: Origin::Own,
        symbol: p.symbol,
    })
    .collect();

    let ensures = lower_ensures(cx, file, settings.all("ensures"), Origin::Own);
    let budget = lower_budget(cx, &settings);

    let part = &mut cx.model.parts[id.index()];
    part.contracts = contracts;
    part.serves = serves;
    part.complexity = complexity;
    part.complexity_span = complexity_span;
    part.inputs = inputs;
    part.outputs = outputs;
    part.owns = globs(settings.all("owns"), Origin::Own);
    part.reads = globs(settings.all("reads"), Origin::Own);
    part.ensures = ensures;
    part.brief = settings.one("brief").and_then(string);
    part.retries = settings
        .one("retries")
        .and_then(integer)
        .map_or(0, |n| n.min(u32::MAX as u64) as u32);
    part.timeout = settings.one("timeout").and_then(duration);
    part.estimate = settings.one("estimate").and_then(duration);
    part.budget = budget;
    part.approve = settings.one("approve").and_then(string);

    debug_assert_eq!(cx.parts.len(), id.index(), "parts are lowered in id order");
    cx.parts.push(PartWork {
        file,
        contracts_ok,
        contract_spans,
        agent,
        serves_written,
        bindings,
    });
}

#[cfg(test)]
mod tests {
    use super::super::testing::{base_with, check_one};
    use super::placeholders;
    use crate::diagnostics::Code;

    #[test]
    fn placeholders_are_names_in_braces() {
        assert_eq!(
            placeholders("cargo test -p {package} ${HOME} {} {print $1} {a_1}"),
            vec![(14, "package"), (46, "a_1")]
        );
    }

    #[test]
    fn unknown_placeholders_in_a_check() {
        let outcome = check_one(&base_with("-p {package}", "-p {pkg}"));
        let d = outcome.single(Code::E0104);
        assert_eq!(
            d.message,
            "`run` uses `{pkg}`, but check `cargo_test` has no parameter `pkg`"
        );
        assert_eq!(outcome.label_texts(d), vec!["{pkg}"]);
    }
}
