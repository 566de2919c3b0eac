//! The checked model → the plan. This is the only module of the plan
//! compiler that reads [`crate::model`]; the rest works on [`Plan`].
//!
//! Names: a task, agent, intent or type is called by its declared name.
//! Names are unique per file, not per program, so when two files declare
//! the same name, both are qualified by their module (`billing.invoice`,
//! `std.agents.mock`), which keeps every id in the plan unique.

use super::hash::{assign_hashes, sha256_hex, source_hash};
use super::prompt::{self, Template};
use super::schedule::schedule;
use super::schema::{FieldDesc, NamedKind, NamedType, SchemaSet, TypeDefs, TypeDesc};
use super::types::*;
use crate::check::Checked;
use crate::diagnostics::{Code, Diagnostic};
use crate::model::{self, Const, EnsureKind, Level, Model, Ty};
use crate::source::{FileId, Origin, SourceMap, Span};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

/// Why a plan could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildError {
    /// What is wrong, in one sentence.
    pub message: String,
    /// Where, when it is a place in the sources, and the code it is a
    /// diagnostic of there.
    pub span: Option<(Span, Code)>,
    /// How to fix it.
    pub help: Option<String>,
}

impl BuildError {
    fn new(message: impl Into<String>) -> BuildError {
        BuildError {
            message: message.into(),
            span: None,
            help: None,
        }
    }

    /// The error as a diagnostic of the sources, when it is a place there
    /// (shown with the lines it points at, like any other diagnostic).
    pub fn diagnostic(&self) -> Option<Diagnostic> {
        let (span, code) = self.span?;
        let diagnostic = Diagnostic::new(code, self.message.clone()).primary(span, "");
        Some(match &self.help {
            Some(help) => diagnostic.help(help.clone()),
            None => diagnostic,
        })
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\nhelp: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for BuildError {}

/// A prompt template given explicitly (instead of the score's
/// `prompt_template` setting or the built-in one).
#[derive(Clone, Debug)]
pub struct TemplateSource {
    /// How the plan names the file, relative to the entry's directory.
    pub name: String,
    pub text: String,
}

/// Compiles a checked program into a plan.
///
/// `sources` are the program's files (for the source hash and for the
/// directory of the file that declares `prompt_template`); `entry_dir` is
/// the directory of the entry file, against which file names in the plan
/// are made relative. Fails when the program has errors, or when the
/// prompt template cannot be read or parsed.
pub fn build(checked: &Checked, sources: &SourceMap, entry_dir: &Path) -> Result<Plan, BuildError> {
    let template = score_template(&checked.model, sources, entry_dir)?;
    build_with_template(checked, sources, entry_dir, template)
}

/// [`build`], with the prompt template given explicitly (`None`: the
/// built-in one), whatever the score says.
pub fn build_with_template(
    checked: &Checked,
    sources: &SourceMap,
    entry_dir: &Path,
    template: Option<TemplateSource>,
) -> Result<Plan, BuildError> {
    if checked.has_errors() {
        let n = checked.diagnostics.iter().filter(|d| d.is_error()).count();
        return Err(BuildError {
            message: format!(
                "the score has {n} error{}, so no plan can be built",
                if n == 1 { "" } else { "s" }
            ),
            span: None,
            help: Some("run `score check` to see them".into()),
        });
    }
    let parsed = match &template {
        None => Template::builtin(),
        Some(t) => Template::parse(&t.text).map_err(|e| BuildError {
            message: format!("the prompt template `{}` is invalid: {e}", t.name),
            span: None,
            help: Some("see stdlib/templates/prompt.md for the sections a template may use".into()),
        })?,
    };
    Compiler::new(&checked.model, sources, entry_dir).compile(&parsed, template)
}

/// The template named by the score's `prompt_template` setting, read
/// relative to the file that declares it.
fn score_template(
    model: &Model,
    sources: &SourceMap,
    entry_dir: &Path,
) -> Result<Option<TemplateSource>, BuildError> {
    let Some((written, span)) = prompt_template_setting(model) else {
        return Ok(None);
    };
    // A score held in memory (an editor's unsaved buffer) stands for a
    // file in the entry's directory.
    let base = sources
        .get(span.file)
        .path()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| entry_dir.to_path_buf());
    let path = base.join(&written);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(TemplateSource {
            name: relative_name(&path, entry_dir),
            text,
        })),
        Err(e) => Err(BuildError {
            message: format!("cannot read the prompt template `{written}`: {e}"),
            span: Some((span, Code::E0104)),
            help: Some(
                "the path is relative to the file that declares the score; copy stdlib/templates/prompt.md there to start from the built-in template"
                    .into(),
            ),
        }),
    }
}

/// The score's `prompt_template "path"` setting: the path as written and
/// the span of the setting's value.
fn prompt_template_setting(model: &Model) -> Option<(String, Span)> {
    model
        .prompt_template
        .as_ref()
        .map(|t| (t.value.clone(), t.span))
}

/// A part's outputs as the result schema needs them: name, type, doc.
type Outputs = Vec<(String, TypeDesc, Option<String>)>;

struct Compiler<'m> {
    model: &'m Model,
    sources: &'m SourceMap,
    entry_dir: &'m Path,
    /// Module name of each file, e.g. `std.agents`, `billing.types`.
    modules: HashMap<FileId, String>,
    part_ids: Vec<String>,
    agent_ids: Vec<String>,
    intent_ids: Vec<String>,
    record_names: Vec<String>,
    enum_names: Vec<String>,
    schemas_of_types: SchemaSet,
    /// Caches shared by the threads that build tasks.
    schemas: Mutex<HashMap<TypeDesc, Schema>>,
    result_schemas: Mutex<HashMap<Outputs, Schema>>,
}

impl<'m> Compiler<'m> {
    fn new(model: &'m Model, sources: &'m SourceMap, entry_dir: &'m Path) -> Compiler<'m> {
        let modules: HashMap<FileId, String> = sources
            .files()
            .map(|f| (f.id, module_name(f, entry_dir)))
            .collect();
        let mut c = Compiler {
            model,
            sources,
            entry_dir,
            part_ids: Vec::new(),
            agent_ids: Vec::new(),
            intent_ids: Vec::new(),
            record_names: Vec::new(),
            enum_names: Vec::new(),
            schemas_of_types: SchemaSet::new(TypeDefs::new()),
            schemas: Mutex::new(HashMap::new()),
            result_schemas: Mutex::new(HashMap::new()),
            modules,
        };
        c.part_ids = c.unique(model.parts.iter().map(|p| &p.decl));
        c.agent_ids = c.unique(model.agents.iter().map(|a| &a.decl));
        c.intent_ids = c.unique(model.intents.iter().map(|i| &i.decl));
        // Records and enums share one namespace in `$defs`.
        let type_names = c.unique(
            model
                .records
                .iter()
                .map(|r| &r.decl)
                .chain(model.enums.iter().map(|e| &e.decl)),
        );
        let (records, enums) = type_names.split_at(model.records.len());
        c.record_names = records.to_vec();
        c.enum_names = enums.to_vec();
        c.schemas_of_types = SchemaSet::new(c.type_defs());
        c
    }

    /// Each declaration's name, qualified by its module when another
    /// declaration in the list has the same name.
    fn unique<'d>(&self, decls: impl Iterator<Item = &'d model::Decl> + Clone) -> Vec<String> {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for d in decls.clone() {
            *counts.entry(d.name.as_str()).or_default() += 1;
        }
        decls
            .map(|d| {
                if counts[d.name.as_str()] > 1 {
                    match self.modules.get(&d.file) {
                        Some(m) if !m.is_empty() => format!("{m}.{}", d.name),
                        _ => d.name.clone(),
                    }
                } else {
                    d.name.clone()
                }
            })
            .collect()
    }

    fn type_defs(&self) -> TypeDefs {
        let mut defs = TypeDefs::new();
        for (i, r) in self.model.records.iter().enumerate() {
            let fields = r
                .fields
                .iter()
                .map(|f| FieldDesc {
                    name: f.name.clone(),
                    ty: self.desc(&f.ty),
                    doc: f.doc.clone(),
                })
                .collect();
            defs.insert(
                self.record_names[i].clone(),
                NamedType {
                    doc: r.decl.doc.clone(),
                    kind: NamedKind::Record(fields),
                },
            );
        }
        for (i, e) in self.model.enums.iter().enumerate() {
            let variants = e
                .variants
                .iter()
                .map(|v| (v.name.clone(), v.doc.clone()))
                .collect();
            defs.insert(
                self.enum_names[i].clone(),
                NamedType {
                    doc: e.decl.doc.clone(),
                    kind: NamedKind::Enum(variants),
                },
            );
        }
        defs
    }

    /// The model's type as the schema module describes it.
    fn desc(&self, ty: &Ty) -> TypeDesc {
        match ty {
            Ty::Text => TypeDesc::Text,
            Ty::Int => TypeDesc::Int,
            Ty::Float => TypeDesc::Float,
            Ty::Bool => TypeDesc::Bool,
            Ty::Path => TypeDesc::Path,
            // A checked model has no `Error`; accepting any value is the
            // only schema that cannot reject a right answer.
            Ty::Json | Ty::Error => TypeDesc::Json,
            Ty::Record(id) => TypeDesc::Named(self.record_names[id.index()].clone()),
            Ty::Enum(id) => TypeDesc::Named(self.enum_names[id.index()].clone()),
            Ty::Optional(t) => TypeDesc::Optional(Box::new(self.desc(t))),
            Ty::List(t) => TypeDesc::List(Box::new(self.desc(t))),
            Ty::Map(t) => TypeDesc::Map(Box::new(TypeDesc::Text), Box::new(self.desc(t))),
        }
    }

    fn spec(&self, ty: &Ty, doc: Option<String>) -> ValueSpec {
        let desc = self.desc(ty);
        ValueSpec {
            ty: desc.display(),
            schema: self.schema(&desc),
            doc,
        }
    }

    /// The schema of a type; big scores use few types many times over.
    fn schema(&self, desc: &TypeDesc) -> Schema {
        // A poisoned lock only means another thread panicked; the map is
        // still a valid cache.
        if let Some(s) = self
            .schemas
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(desc)
        {
            return s.clone();
        }
        let s = Schema::new(self.schemas_of_types.schema_for(desc));
        self.schemas
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(desc.clone(), s.clone());
        s
    }

    /// The schema of a part's result (one property per output), likewise
    /// shared between parts with the same outputs.
    fn result_schema(&self, outputs: &[(String, TypeDesc, Option<String>)]) -> Schema {
        if let Some(s) = self
            .result_schemas
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(outputs)
        {
            return s.clone();
        }
        let s = Schema::new(
            self.schemas_of_types.object_schema(
                outputs
                    .iter()
                    .map(|(n, t, d)| (n.as_str(), t, d.as_deref())),
            ),
        );
        self.result_schemas
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(outputs.to_vec(), s.clone());
        s
    }

    fn symbol_doc(&self, symbol: model::SymbolId) -> Option<String> {
        self.model
            .symbols
            .get(symbol.index())
            .and_then(|s| s.doc.clone())
    }

    fn compile(
        &self,
        template: &Template,
        template_source: Option<TemplateSource>,
    ) -> Result<Plan, BuildError> {
        let score = self.score_info(template_source.as_ref().map(|t| t.name.clone()));

        let mut used_agents: BTreeSet<usize> = BTreeSet::new();
        for &pid in &self.model.order {
            let part = self.model.part(pid);
            let Some(agent) = part.agent else {
                return Err(BuildError {
                    message: format!("part `{}` has no agent", part.decl.name),
                    span: Some((part.decl.name_span, Code::E0503)),
                    help: Some(
                        "add `by AGENT` to the part, or `default_agent` to the score".into(),
                    ),
                });
            };
            used_agents.insert(agent.index());
        }
        let mut tasks = super::par_map(&self.model.order, |&pid| {
            let part = self.model.part(pid);
            // Every part has an agent: checked just above.
            let agent = part.agent.unwrap_or(model::AgentId(0));
            self.task(part, pid, agent)
        });
        if let Some(d) = self.model.score.as_ref().and_then(|s| s.default_agent) {
            used_agents.insert(d.index());
        }
        let agents: BTreeMap<String, Agent> = used_agents
            .into_iter()
            .map(|i| (self.agent_ids[i].clone(), self.agent(&self.model.agents[i])))
            .collect();
        let sched = schedule(&tasks).map_err(|e| BuildError::new(e.to_string()))?;
        for (i, t) in tasks.iter_mut().enumerate() {
            t.wave = sched.wave_of[i];
        }
        let critical_path = sched.critical_path(&tasks);
        tasks.sort_by(|a, b| (a.wave, &a.id).cmp(&(b.wave, &b.id)));
        let owns: BTreeMap<&str, &[String]> = tasks
            .iter()
            .map(|t| (t.id.as_str(), t.owns.as_slice()))
            .collect();
        let prompts = super::par_map(&tasks, |t| {
            let upstream: Vec<prompt::Upstream<'_>> = t
                .depends_on
                .iter()
                .filter_map(|d| {
                    owns.get(d.as_str())
                        .map(|&owns| prompt::Upstream { id: d, owns })
                })
                .collect();
            prompt::render(template, &score, t, &upstream)
        });
        for (t, p) in tasks.iter_mut().zip(prompts) {
            t.prompt = p;
        }

        let mut sources = BTreeMap::new();
        for f in self.sources.files() {
            sources.insert(file_name(f, self.entry_dir), sha256_hex(f.text.as_bytes()));
        }
        if let Some(t) = &template_source {
            sources.insert(t.name.clone(), sha256_hex(t.text.as_bytes()));
        }
        let mut plan = Plan {
            format: FORMAT.to_string(),
            source_hash: source_hash(&sources),
            sources,
            score,
            agents,
            tasks,
            waves: sched.waves,
            critical_path,
        };
        assign_hashes(&mut plan);
        Ok(plan)
    }

    fn score_info(&self, prompt_template: Option<String>) -> ScoreInfo {
        let entry_stem = self
            .sources
            .files()
            .next()
            .map(|f| {
                let name = f.name.rsplit(['/', '\\']).next().unwrap_or(&f.name);
                name.strip_suffix(".score").unwrap_or(name).to_string()
            })
            .unwrap_or_else(|| "score".to_string());
        let Some(s) = &self.model.score else {
            return ScoreInfo {
                title: entry_stem.clone(),
                name: entry_stem,
                doc: None,
                workspace: ".".into(),
                concurrency: None,
                default_agent: None,
                budget: None,
                inputs: BTreeMap::new(),
                prompt_template,
            };
        };
        ScoreInfo {
            name: s.decl.name.clone(),
            title: s.title.clone().unwrap_or_else(|| s.decl.name.clone()),
            doc: s.decl.doc.clone(),
            workspace: s.workspace.clone().unwrap_or_else(|| ".".into()),
            concurrency: s.concurrency,
            default_agent: s.default_agent.map(|a| self.agent_ids[a.index()].clone()),
            budget: budget(&s.budget),
            inputs: s
                .inputs
                .iter()
                .map(|p| (p.name.clone(), self.spec(&p.ty, self.symbol_doc(p.symbol))))
                .collect(),
            prompt_template,
        }
    }

    fn agent(&self, a: &model::Agent) -> Agent {
        let provider = match &a.provider {
            model::Provider::OpenAi {
                model,
                endpoint,
                key_env,
                temperature,
                max_tokens,
            } => Provider::Openai {
                model: model.clone(),
                endpoint: endpoint.clone().unwrap_or_else(|| OPENAI_ENDPOINT.into()),
                key_env: key_env.clone(),
                temperature: *temperature,
                max_tokens: *max_tokens,
            },
            model::Provider::Anthropic {
                model,
                endpoint,
                key_env,
                max_tokens,
            } => Provider::Anthropic {
                model: model.clone(),
                endpoint: endpoint
                    .clone()
                    .unwrap_or_else(|| ANTHROPIC_ENDPOINT.into()),
                key_env: key_env.clone(),
                max_tokens: *max_tokens,
            },
            model::Provider::Command {
                run,
                env,
                stdin_prompt,
                pass_env,
                protocol,
                instructions,
                key_env,
            } => Provider::Command {
                run: run.clone(),
                env: env.iter().cloned().collect(),
                instructions: instructions.clone(),
                key_env: key_env.clone(),
                protocol: match protocol {
                    model::Protocol::Plain => Protocol::Plain,
                    model::Protocol::ClaudeJson => Protocol::ClaudeJson,
                    model::Protocol::CodexJsonl => Protocol::CodexJsonl,
                    model::Protocol::GeminiJson => Protocol::GeminiJson,
                },
                stdin_prompt: *stdin_prompt,
                pass_env: pass_env.clone(),
            },
            model::Provider::Mock {
                latency,
                fail_rate,
                seed,
            } => Provider::Mock {
                latency_ms: latency.map(|d| d.as_millis() as u64),
                fail_rate: *fail_rate,
                seed: *seed,
            },
            // Only with E0502, which stops the build before this point; the
            // mock is the one provider that needs nothing.
            model::Provider::Unknown(_) => Provider::Mock {
                latency_ms: None,
                fail_rate: None,
                seed: None,
            },
        };
        Agent {
            tier: level(a.tier),
            concurrency: a.concurrency,
            price_in: a.price_in,
            price_out: a.price_out,
            doc: a.decl.doc.clone(),
            writes: a.sandbox.writes.clone(),
            reads: a.sandbox.reads.clone(),
            confinement: if a.sandbox.optional {
                ConfinementMode::Optional
            } else {
                ConfinementMode::Required
            },
            provider,
        }
    }

    fn task(&self, part: &model::Part, pid: model::PartId, agent: model::AgentId) -> Task {
        let m = self.model;
        let complexity = level(part.complexity);
        let estimate_ms = part
            .estimate
            .map(|d| d.as_millis() as u64)
            .unwrap_or_else(|| complexity.default_estimate_ms());
        let timeout_ms = part
            .timeout
            .map(|d| d.as_millis() as u64)
            .unwrap_or_else(|| default_timeout_ms(estimate_ms));

        let inputs: BTreeMap<String, Input> = part
            .inputs
            .iter()
            .map(|i| {
                let spec = self.spec(&i.ty, self.symbol_doc(i.symbol));
                let source = match &i.source {
                    Some(model::Source::Part { part, output }) => InputSource::Task {
                        task: self.part_ids[part.index()].clone(),
                        output: output.clone(),
                    },
                    Some(model::Source::ScoreInput(name)) => {
                        InputSource::ScoreInput { name: name.clone() }
                    }
                    // Unbound inputs are E0202, which stops the build first.
                    None => InputSource::ScoreInput {
                        name: i.name.clone(),
                    },
                };
                (
                    i.name.clone(),
                    Input {
                        ty: spec.ty,
                        schema: spec.schema,
                        doc: spec.doc,
                        source,
                    },
                )
            })
            .collect();

        let out_descs: Vec<(String, TypeDesc, Option<String>)> = part
            .outputs
            .iter()
            .map(|o| (o.name.clone(), self.desc(&o.ty), self.symbol_doc(o.symbol)))
            .collect();
        let result_schema = self.result_schema(&out_descs);
        let outputs: BTreeMap<String, ValueSpec> = out_descs
            .iter()
            .map(|(n, t, d)| {
                (
                    n.clone(),
                    ValueSpec {
                        ty: t.display(),
                        schema: self.schema(t),
                        doc: d.clone(),
                    },
                )
            })
            .collect();

        let mut checks = Vec::new();
        let mut postconditions = Vec::new();
        for e in &part.ensures {
            match &e.kind {
                EnsureKind::Check { check, args } => checks.push(self.check_run(*check, args)),
                EnsureKind::Text(t) => postconditions.push(t.clone()),
            }
        }

        let mut depends_on: Vec<String> = part
            .after
            .iter()
            .map(|p| self.part_ids[p.index()].clone())
            .collect();
        depends_on.sort();
        depends_on.dedup();

        Task {
            id: self.part_ids[pid.index()].clone(),
            doc: part.decl.doc.clone(),
            agent: self.agent_ids[agent.index()].clone(),
            complexity,
            contracts: part
                .contracts
                .iter()
                .map(|c| self.contract_info(*c))
                .collect(),
            intents: part
                .serves
                .iter()
                .map(|i| {
                    let intent = m.intent(*i);
                    IntentInfo {
                        id: self.intent_ids[i.index()].clone(),
                        statement: intent.statement.clone(),
                        accept: intent.accepts.iter().map(|a| a.value.clone()).collect(),
                        priority: intent.priority.map(|p| p.as_str().to_string()),
                    }
                })
                .collect(),
            depends_on,
            inputs,
            outputs,
            result_schema,
            owns: patterns(&part.owns),
            reads: patterns(&part.reads),
            checks,
            postconditions,
            retries: part.retries,
            timeout_ms,
            estimate_ms,
            budget: budget(&part.budget),
            approve: part.approve.clone(),
            brief: part.brief.clone(),
            prompt: String::new(),
            wave: 0,
            hash: String::new(),
        }
    }

    fn check_run(&self, id: model::CheckId, args: &[(String, Const)]) -> CheckRun {
        let check = self.model.check(id);
        let command = substitute(&check.run, args);
        CheckRun {
            check: check.decl.name.clone(),
            args: args
                .iter()
                .map(|(n, v)| {
                    let mut value = v.to_json();
                    value.sort_all_objects();
                    (n.clone(), value)
                })
                .collect(),
            argv: vec!["sh".into(), "-c".into(), command.clone()],
            command,
            timeout_ms: check
                .timeout
                .map(|d| d.as_millis() as u64)
                .unwrap_or(DEFAULT_CHECK_TIMEOUT_MS),
        }
    }

    fn contract_info(&self, id: model::ContractId) -> ContractInfo {
        let c = self.model.contract(id);
        ContractInfo {
            name: c.decl.name.clone(),
            doc: c.decl.doc.clone(),
            inputs: c.inputs.iter().map(|p| p.name.clone()).collect(),
            outputs: c.outputs.iter().map(|p| p.name.clone()).collect(),
            owns: patterns(&c.owns),
            reads: patterns(&c.reads),
            ensures: c
                .ensures
                .iter()
                .map(|e| match &e.kind {
                    EnsureKind::Check { check, args } => {
                        let args: Vec<String> = args
                            .iter()
                            .map(|(n, v)| format!("{n}: {}", score_literal(v)))
                            .collect();
                        format!(
                            "`{}({})`",
                            self.model.check(*check).decl.name,
                            args.join(", ")
                        )
                    }
                    EnsureKind::Text(t) => t.clone(),
                })
                .collect(),
        }
    }
}

fn level(l: Level) -> Complexity {
    match l {
        Level::Routine => Complexity::Routine,
        Level::Moderate => Complexity::Moderate,
        Level::Complex => Complexity::Complex,
    }
}

fn budget(b: &model::Budget) -> Option<Budget> {
    let b = Budget {
        tokens: b.tokens,
        usd: b.usd,
    };
    (!b.is_empty()).then_some(b)
}

/// Glob patterns in order, without repeats (a part may restate what its
/// contract already says).
fn patterns(globs: &[model::Glob]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    globs
        .iter()
        .filter(|g| seen.insert(g.pattern.as_str()))
        .map(|g| g.pattern.clone())
        .collect()
}

/// Replaces each `{param}` of a check's `run` template with the argument's
/// text, exactly as written (the standard library's documented rule: the
/// template decides the quoting, so `shell(cmd)` and `pytest(args)` can pass
/// several words). Braces that do not name a parameter stay as they are,
/// so shell and awk syntax in a template is safe. A parameter left out of
/// the call (an optional one) becomes the empty string.
pub fn substitute(template: &str, args: &[(String, Const)]) -> String {
    substitute_with(template, |name| {
        args.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.render())
    })
}

/// [`substitute`] over any lookup; `lookup` returns `None` for a name that
/// is not a parameter.
pub fn substitute_with(template: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..name_len];
        if name_len > 0
            && after[name_len..].starts_with('}')
            && let Some(value) = lookup(name)
        {
            out.push_str(&value);
            rest = &after[name_len + 1..];
        } else {
            out.push('{');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// A constant as a score would write it, for showing `ensures` calls.
fn score_literal(c: &Const) -> String {
    match c {
        Const::Text(s) => serde_json::to_string(s).unwrap_or_default(),
        Const::Int(i) => i.to_string(),
        Const::Float(f) => f.to_string(),
        Const::Bool(b) => b.to_string(),
        Const::Variant { name, .. } => name.clone(),
        Const::List(items) => format!(
            "[{}]",
            items
                .iter()
                .map(score_literal)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Const::Map(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!("{k}: {}", score_literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// How the plan names a source file: relative to the entry's directory with
/// `/` separators; a standard library module as `<std>/checks.score`.
fn file_name(file: &crate::source::SourceFile, entry_dir: &Path) -> String {
    match &file.origin {
        Origin::Disk(path) => relative_name(path, entry_dir),
        Origin::Stdlib(module) => {
            let rest = module.strip_prefix("std.").unwrap_or(module);
            format!("<std>/{}.score", rest.replace('.', "/"))
        }
        Origin::Memory => file.name.clone(),
    }
}

/// The module a file is imported as: `std.agents` for the standard library,
/// else its path relative to the entry's directory without `.score`, with
/// `.` between segments (`billing/types.score` → `billing.types`).
fn module_name(file: &crate::source::SourceFile, entry_dir: &Path) -> String {
    match &file.origin {
        Origin::Stdlib(module) => module.clone(),
        Origin::Disk(path) => {
            let name = relative_name(path, entry_dir);
            let name = name.strip_suffix(".score").unwrap_or(&name);
            name.split('/')
                .filter(|s| !s.is_empty() && *s != "..")
                .collect::<Vec<_>>()
                .join(".")
        }
        Origin::Memory => file
            .name
            .strip_suffix(".score")
            .unwrap_or(&file.name)
            .to_string(),
    }
}

/// `path` relative to `base`, with `/` separators; never absolute. When the
/// two cannot be related lexically (one absolute, one relative), both are
/// resolved on disk; failing that, the file's name alone is used.
pub fn relative_name(path: &Path, base: &Path) -> String {
    let rel = match (path.is_absolute(), base.is_absolute()) {
        (a, b) if a == b => diff(&normalize(path), &normalize(base)),
        _ => match (std::fs::canonicalize(path), std::fs::canonicalize(base)) {
            (Ok(p), Ok(b)) => diff(&p, &b),
            _ => None,
        },
    };
    let rel = rel.unwrap_or_else(|| {
        path.file_name()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("score"))
    });
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            Component::ParentDir => Some("..".to_string()),
            _ => None,
        })
        .collect();
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// Removes `.` and folds `a/..` lexically.
fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                _ => out.push(c),
            },
            other => out.push(other),
        }
    }
    out.iter().collect()
}

/// `path` relative to `base` (both normalized, both absolute or both
/// relative). `None` when `base` climbs out of what `path` shares with it.
fn diff(path: &Path, base: &Path) -> Option<PathBuf> {
    let p: Vec<Component<'_>> = path.components().collect();
    let b: Vec<Component<'_>> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for c in &b[common..] {
        match c {
            Component::Normal(_) => out.push(".."),
            // `base` goes up where `path` does not: no lexical answer.
            _ => return None,
        }
    }
    for c in &p[common..] {
        out.push(c.as_os_str());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution_is_verbatim_and_leaves_other_braces() {
        let args = vec![
            ("package".to_string(), Const::Text("store".into())),
            ("n".to_string(), Const::Int(3)),
        ];
        assert_eq!(
            substitute("cargo test -p {package}", &args),
            "cargo test -p store"
        );
        assert_eq!(
            substitute("awk '{print $1}' {n} {missing} {", &args),
            "awk '{print $1}' 3 {missing} {"
        );
        let args = vec![(
            "cmd".to_string(),
            Const::Text("npm --prefix frontend ci".into()),
        )];
        assert_eq!(substitute("{cmd}", &args), "npm --prefix frontend ci");
        assert_eq!(
            substitute("{cmd}{cmd}", &args),
            "npm --prefix frontend cinpm --prefix frontend ci"
        );
    }

    #[test]
    fn relative_names_are_never_absolute() {
        assert_eq!(
            relative_name(
                Path::new("examples/webshop/types.score"),
                Path::new("examples/webshop")
            ),
            "types.score"
        );
        assert_eq!(
            relative_name(Path::new("./a/b.score"), Path::new(".")),
            "a/b.score"
        );
        assert_eq!(
            relative_name(Path::new("a/b.score"), Path::new("")),
            "a/b.score"
        );
        assert_eq!(
            relative_name(Path::new("shared/t.md"), Path::new("app")),
            "../shared/t.md"
        );
        assert_eq!(
            relative_name(Path::new("/x/y/z.score"), Path::new("/x/w")),
            "../y/z.score"
        );
        // `base` climbs above where it starts: fall back to the file name.
        assert_eq!(
            relative_name(Path::new("a.score"), Path::new("../elsewhere")),
            "a.score"
        );
    }

    #[test]
    fn literals_read_like_the_score() {
        assert_eq!(
            score_literal(&Const::Text("a \"b\"".into())),
            r#""a \"b\"""#
        );
        assert_eq!(
            score_literal(&Const::List(vec![Const::Int(1), Const::Bool(false)])),
            "[1, false]"
        );
        assert_eq!(
            score_literal(&Const::Map(vec![("k".into(), Const::Float(0.5))])),
            "{k: 0.5}"
        );
    }
}

#[cfg(test)]
mod model_tests {
    //! The compiler on a hand-built model (the shape of the language
    //! reference's example), independent of the checker.
    use super::*;
    use crate::model::*;
    use std::time::Duration;

    fn decl(name: &str, file: u32) -> Decl {
        Decl {
            name: name.into(),
            file: FileId(file),
            name_span: Span::default(),
            span: Span::default(),
            doc: None,
            symbol: SymbolId(0),
            has_errors: false,
        }
    }

    fn glob(p: &str, origin: model::Origin) -> Glob {
        Glob {
            pattern: p.into(),
            span: Span::default(),
            origin,
        }
    }

    fn part(name: &str, agent: u32) -> Part {
        Part {
            decl: decl(name, 0),
            contracts: vec![],
            agent: Some(AgentId(agent)),
            agent_span: None,
            agent_is_default: false,
            inputs: vec![],
            outputs: vec![],
            owns: vec![],
            reads: vec![],
            ensures: vec![],
            brief: None,
            complexity: Level::Routine,
            complexity_span: None,
            retries: 0,
            timeout: None,
            estimate: None,
            budget: model::Budget::default(),
            approve: None,
            serves: vec![],
            after: vec![],
        }
    }

    pub(crate) fn example() -> (Checked, SourceMap) {
        let mut sources = SourceMap::new();
        sources.add(
            "shortener.score",
            crate::source::Origin::Disk("proj/shortener.score".into()),
            "score shortener {}".into(),
        );
        sources.add(
            "<std>/checks.score",
            crate::source::Origin::Stdlib("std.checks".into()),
            "check cargo_test(package: Text) {}".into(),
        );
        let mut m = Model {
            score: Some(model::Score {
                decl: decl("shortener", 0),
                title: Some("URL shortener".into()),
                workspace: None,
                concurrency: Some(4),
                default_agent: Some(AgentId(1)),
                budget: model::Budget {
                    tokens: Some(200_000),
                    usd: None,
                },
                inputs: vec![],
            }),
            ..Model::default()
        };
        m.records.push(Record {
            decl: decl("Link", 0),
            fields: vec![FieldDef {
                name: "slug".into(),
                ty: Ty::Text,
                span: Span::default(),
                doc: None,
                symbol: SymbolId(0),
            }],
        });
        m.intents.push(Intent {
            decl: decl("shorten", 0),
            statement: "A user turns a long URL into a short link".into(),
            accepts: vec![Spanned {
                value: "the same URL twice yields the same slug".into(),
                span: Span::default(),
            }],
            priority: Some(Priority::Must),
        });
        m.checks.push(model::Check {
            decl: decl("cargo_test", 1),
            params: vec![],
            run: "cargo test -p {package}".into(),
            timeout: Some(Duration::from_secs(600)),
        });
        m.contracts.push(Contract {
            decl: decl("Storage", 0),
            inputs: vec![],
            outputs: vec![],
            owns: vec![glob("src/store/**", model::Origin::Own)],
            reads: vec![],
            ensures: vec![Ensure {
                kind: EnsureKind::Check {
                    check: CheckId(0),
                    args: vec![("package".into(), Const::Text("store".into()))],
                },
                span: Span::default(),
                origin: model::Origin::Own,
            }],
        });
        m.agents.push(model::Agent {
            decl: decl("architect", 0),
            provider: model::Provider::OpenAi {
                model: "gpt-4.1".into(),
                endpoint: None,
                key_env: Some("OPENAI_API_KEY".into()),
                temperature: None,
                max_tokens: None,
            },
            tier: Level::Complex,
            tier_span: None,
            concurrency: None,
            price_in: None,
            price_out: None,
            sandbox: Default::default(),
        });
        m.agents.push(model::Agent {
            decl: decl("coder", 0),
            provider: model::Provider::Command {
                run: vec!["aider".into(), "{prompt_file}".into()],
                env: vec![],
                stdin_prompt: false,
                pass_env: vec![],
                protocol: model::Protocol::Plain,
                instructions: None,
                key_env: None,
            },
            tier: Level::Routine,
            tier_span: None,
            concurrency: Some(2),
            price_in: None,
            price_out: None,
            sandbox: Default::default(),
        });
        // An agent nobody uses stays out of the plan.
        m.agents.push(model::Agent {
            decl: decl("unused", 0),
            provider: model::Provider::Mock {
                latency: None,
                fail_rate: None,
                seed: None,
            },
            tier: Level::Complex,
            tier_span: None,
            concurrency: None,
            price_in: None,
            price_out: None,
            sandbox: Default::default(),
        });

        let mut model_part = part("model", 0);
        model_part.complexity = Level::Complex;
        model_part.serves = vec![IntentId(0)];
        model_part.owns = vec![glob("src/model.rs", model::Origin::Own)];
        model_part.outputs = vec![PartOutput {
            name: "link_type".into(),
            ty: Ty::List(Box::new(Ty::Record(TypeId(0)))),
            span: Span::default(),
            origin: model::Origin::Own,
            symbol: SymbolId(0),
        }];
        model_part.brief = Some("Define the Link type.".into());

        let mut store = part("store", 1);
        store.contracts = vec![ContractId(0)];
        store.serves = vec![IntentId(0)];
        store.owns = vec![
            glob("src/store/**", model::Origin::Contract(ContractId(0))),
            glob("src/store/**", model::Origin::Own),
        ];
        store.ensures = m.contracts[0].ensures.clone();
        store.ensures.push(Ensure {
            kind: EnsureKind::Text("every public function has a doc comment".into()),
            span: Span::default(),
            origin: model::Origin::Own,
        });
        store.inputs = vec![PartInput {
            name: "link_type".into(),
            ty: Ty::List(Box::new(Ty::Record(TypeId(0)))),
            declared: None,
            origin: model::Origin::Own,
            source: Some(Source::Part {
                part: PartId(0),
                output: "link_type".into(),
            }),
            binding: None,
            symbol: SymbolId(0),
        }];
        store.retries = 2;
        store.timeout = Some(Duration::from_secs(15 * 60));
        store.after = vec![PartId(0)];

        let mut docs = part("docs", 1);
        docs.owns = vec![glob("docs/**", model::Origin::Own)];
        docs.after = vec![PartId(0)];
        docs.approve = Some("the tech lead".into());
        docs.budget = model::Budget {
            tokens: Some(5_000),
            usd: None,
        };

        m.parts = vec![model_part, store, docs];
        m.order = vec![PartId(0), PartId(1), PartId(2)];
        (
            Checked {
                model: m,
                diagnostics: vec![],
            },
            sources,
        )
    }

    #[test]
    fn compiles_the_example() {
        let (checked, sources) = example();
        let plan = build(&checked, &sources, Path::new("proj")).unwrap();
        assert_eq!(plan.format, FORMAT);
        assert_eq!(plan.score.title, "URL shortener");
        assert_eq!(plan.score.workspace, ".");
        assert_eq!(plan.score.default_agent.as_deref(), Some("coder"));
        assert_eq!(
            plan.sources.keys().collect::<Vec<_>>(),
            vec!["<std>/checks.score", "shortener.score"]
        );
        assert_eq!(
            plan.agents.keys().collect::<Vec<_>>(),
            vec!["architect", "coder"]
        );
        let crate::plan::types::Provider::Openai { endpoint, .. } =
            &plan.agents["architect"].provider
        else {
            panic!("architect is an openai agent")
        };
        assert_eq!(endpoint, OPENAI_ENDPOINT);
        assert_eq!(plan.waves, vec![vec!["model"], vec!["docs", "store"]]);
        let ids: Vec<&str> = plan.tasks.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, vec!["model", "docs", "store"]);
        assert_eq!(plan.critical_path.tasks, vec!["model", "docs"]);
        assert_eq!(plan.critical_path.estimate_ms, 70 * MINUTE_MS);

        let store = plan.task("store").unwrap();
        assert_eq!(store.owns, vec!["src/store/**"]);
        assert_eq!(store.checks.len(), 1);
        assert_eq!(store.checks[0].command, "cargo test -p store");
        assert_eq!(
            store.checks[0].argv,
            vec!["sh", "-c", "cargo test -p store"]
        );
        assert_eq!(store.checks[0].timeout_ms, 10 * MINUTE_MS);
        assert_eq!(
            store.postconditions,
            vec!["every public function has a doc comment"]
        );
        assert_eq!(store.timeout_ms, 15 * MINUTE_MS);
        assert_eq!(store.estimate_ms, 10 * MINUTE_MS);
        assert_eq!(store.inputs["link_type"].ty, "[Link]");
        assert_eq!(
            store.inputs["link_type"].source,
            InputSource::Task {
                task: "model".into(),
                output: "link_type".into()
            }
        );
        assert_eq!(
            store.contracts[0].ensures,
            vec![r#"`cargo_test(package: "store")`"#]
        );
        assert!(
            store.prompt.contains("{{input.link_type}}"),
            "{}",
            store.prompt
        );
        assert!(
            store.prompt.contains("You may write: `src/store/**`."),
            "{}",
            store.prompt
        );
        assert!(
            store
                .prompt
                .contains("- `cargo test -p store` (time limit 10m)"),
            "{}",
            store.prompt
        );
        assert!(
            store.prompt.contains("up to 2 more attempts"),
            "{}",
            store.prompt
        );

        let model_task = plan.task("model").unwrap();
        assert_eq!(
            model_task.outputs["link_type"].schema["$defs"]["Link"]["required"],
            serde_json::json!(["slug"])
        );
        assert_eq!(
            model_task.result_schema["required"],
            serde_json::json!(["link_type"])
        );
        assert_eq!(model_task.timeout_ms, 3 * HOUR_MS);

        let docs = plan.task("docs").unwrap();
        assert_eq!(docs.budget.as_ref().and_then(|b| b.tokens), Some(5_000));
        assert!(
            docs.prompt.contains("the tech lead reviews your work"),
            "{}",
            docs.prompt
        );

        let json = crate::plan::to_json(&plan);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        // Written directly from the types, with every key in order.
        assert!(crate::plan::keys_are_sorted(&value), "{json}");
        if let Err(problems) = crate::plan::validate(&value) {
            panic!(
                "the plan does not match its schema:\n{}",
                problems.join("\n")
            );
        }
        assert!(!json.contains("proj/"), "no build-machine paths: {json}");
        let back = crate::plan::load(&json).unwrap();
        assert_eq!(back, plan);
    }

    #[test]
    fn builds_are_deterministic_and_hashes_flow_downstream() {
        let (checked, sources) = example();
        let a = build(&checked, &sources, Path::new("proj")).unwrap();
        let b = build(&checked, &sources, Path::new("proj")).unwrap();
        assert_eq!(crate::plan::to_json(&a), crate::plan::to_json(&b));

        // Change the brief of `model`: its hash and those downstream change.
        let (mut changed, sources) = example();
        changed.model.parts[0].brief = Some("Something else.".into());
        let c = build(&changed, &sources, Path::new("proj")).unwrap();
        for id in ["model", "store", "docs"] {
            assert_ne!(a.task(id).unwrap().hash, c.task(id).unwrap().hash, "{id}");
        }
        // Change `docs` only: nothing else moves.
        let (mut changed, sources) = example();
        changed.model.parts[2].retries = 5;
        let d = build(&changed, &sources, Path::new("proj")).unwrap();
        assert_ne!(a.task("docs").unwrap().hash, d.task("docs").unwrap().hash);
        assert_eq!(a.task("model").unwrap().hash, d.task("model").unwrap().hash);
        assert_eq!(a.task("store").unwrap().hash, d.task("store").unwrap().hash);
    }

    #[test]
    fn a_template_override_is_used_and_hashed() {
        let (checked, sources) = example();
        let plan = build_with_template(
            &checked,
            &sources,
            Path::new("proj"),
            Some(TemplateSource {
                name: "prompts/mine.md".into(),
                text: "Do {{task}} for {{title}}. Input: {{input.link_type}}".into(),
            }),
        )
        .unwrap();
        assert_eq!(
            plan.score.prompt_template.as_deref(),
            Some("prompts/mine.md")
        );
        assert!(plan.sources.contains_key("prompts/mine.md"));
        assert_eq!(
            plan.task("store").unwrap().prompt,
            "Do store for URL shortener. Input: {{input.link_type}}\n"
        );
        let err = build_with_template(
            &checked,
            &sources,
            Path::new("proj"),
            Some(TemplateSource {
                name: "bad.md".into(),
                text: "{{#brief}}".into(),
            }),
        )
        .unwrap_err();
        assert!(
            err.message
                .contains("the prompt template `bad.md` is invalid: line 1"),
            "{err}"
        );
    }

    #[test]
    fn same_names_in_two_files_are_qualified() {
        let (mut checked, mut sources) = example();
        sources.add(
            "lib/extra.score",
            crate::source::Origin::Disk("proj/lib/extra.score".into()),
            String::new(),
        );
        let mut twin = part("docs", 1);
        twin.decl.file = FileId(2);
        checked.model.parts.push(twin);
        checked.model.order.push(PartId(3));
        let plan = build(&checked, &sources, Path::new("proj")).unwrap();
        let mut ids: Vec<&str> = plan.tasks.iter().map(|t| t.id.as_str()).collect();
        ids.sort();
        assert_eq!(
            ids,
            vec!["lib.extra.docs", "model", "shortener.docs", "store"]
        );
    }

    #[test]
    fn a_program_with_errors_builds_nothing() {
        let (mut checked, sources) = example();
        checked
            .diagnostics
            .push(crate::diagnostics::Diagnostic::new(
                crate::diagnostics::Code::E0101,
                "unknown name",
            ));
        let err = build(&checked, &sources, Path::new("proj")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the score has 1 error, so no plan can be built\nhelp: run `score check` to see them"
        );
    }
}
