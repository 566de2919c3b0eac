//! The plan's data types: what `score build` writes and `score run` reads.
//!
//! Everything here is plain data with serde derives. The plan's JSON has
//! its keys sorted, and it is written straight from these types (a 10 000
//! task plan is tens of megabytes: no intermediate tree, no re-sorting), so:
//! struct fields are declared in the alphabetical order of their JSON names,
//! maps are `BTreeMap`s, [`Agent`] sorts its own fields, and the JSON Schemas
//! held as `Value`s are built with sorted keys. A test compares the output
//! with a fully re-sorted copy. Every optional field is written (as `null`
//! when absent): a plan always has the same shape, which keeps the runtime
//! and the JSON Schema simple. `docs/plan.md` documents each field.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A JSON Schema held in a plan.
///
/// Shared, not copied: a big score uses a few types in thousands of places.
/// It is written on one line, its keys sorted — compact JSON rendered once
/// when the schema is made, so writing and hashing a 10 000 task plan copies
/// text instead of walking the same trees again and again. Reads as the
/// `Value` it holds.
#[derive(Clone, Debug)]
pub struct Schema(Arc<SchemaInner>);

#[derive(Debug)]
struct SchemaInner {
    value: Value,
    compact: Box<serde_json::value::RawValue>,
    pretty: std::sync::OnceLock<String>,
}

impl Schema {
    /// Keys are sorted here, whatever order `value` has them in.
    pub fn new(mut value: Value) -> Schema {
        value.sort_all_objects();
        // Writing a `Value` cannot fail.
        let compact = serde_json::value::to_raw_value(&value).unwrap_or_default();
        Schema(Arc::new(SchemaInner {
            value,
            compact,
            pretty: std::sync::OnceLock::new(),
        }))
    }

    /// The schema as indented JSON, keys sorted (for prompts).
    pub fn pretty(&self) -> &str {
        self.0
            .pretty
            .get_or_init(|| serde_json::to_string_pretty(&self.0.value).unwrap_or_default())
    }

    /// The schema as one line of JSON, keys sorted.
    pub fn compact(&self) -> &str {
        self.0.compact.get()
    }
}

impl PartialEq for Schema {
    fn eq(&self, other: &Schema) -> bool {
        self.0.value == other.0.value
    }
}

impl std::ops::Deref for Schema {
    type Target = Value;

    fn deref(&self) -> &Value {
        &self.0.value
    }
}

impl Serialize for Schema {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.compact.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Schema {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Schema, D::Error> {
        Value::deserialize(deserializer).map(Schema::new)
    }
}

/// The value of the plan's `format` field. A runtime refuses other values.
pub const FORMAT: &str = "score-plan/1";

/// A compiled score: everything a runtime needs, nothing secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The agents that tasks use, by name.
    pub agents: BTreeMap<String, Agent>,
    pub critical_path: CriticalPath,
    /// Always [`FORMAT`].
    pub format: String,
    pub score: ScoreInfo,
    /// sha256 over `sources` (see [`super::hash::source_hash`]).
    pub source_hash: String,
    /// Every source file that went into the plan (the score's modules, the
    /// standard library modules it used, a prompt template override), by
    /// name, with the sha256 of its bytes.
    pub sources: BTreeMap<String, String>,
    /// One task per part, in wave order, then by id.
    pub tasks: Vec<Task>,
    /// Layers of task ids: every dependency of a task in wave `i` is in a
    /// wave before `i`, so the tasks of one wave may run together.
    pub waves: Vec<Vec<String>>,
}

impl Plan {
    /// The task with this id.
    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.id == id)
    }

    /// Each task's position in [`Plan::tasks`], by id: for looking many
    /// tasks up (dependencies, journal records) without a scan each.
    pub fn index(&self) -> std::collections::HashMap<&str, usize> {
        self.tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.as_str(), i))
            .collect()
    }
}

/// The score's metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScoreInfo {
    pub budget: Option<Budget>,
    /// At most this many tasks run at once (`null`: no limit but `--jobs`).
    pub concurrency: Option<u32>,
    pub default_agent: Option<String>,
    /// The score's `///` documentation.
    pub doc: Option<String>,
    /// The score-level inputs, given at run time with `--input n=VALUE`.
    pub inputs: BTreeMap<String, ValueSpec>,
    /// The name after `score`.
    pub name: String,
    /// The prompt template override, relative to the entry file's directory;
    /// `null` when the built-in template was used.
    pub prompt_template: Option<String>,
    /// The `title` setting, or the name when there is none.
    pub title: String,
    /// The repository the parts write into, relative to the score file, as
    /// written (default `"."`).
    pub workspace: String,
}

/// A token and/or money budget. At least one of the two is set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    pub tokens: Option<u64>,
    pub usd: Option<f64>,
}

impl Budget {
    pub fn is_empty(&self) -> bool {
        self.tokens.is_none() && self.usd.is_none()
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.tokens, self.usd) {
            (Some(t), Some(u)) => write!(f, "{} tokens, ${u:.2}", group_thousands(t)),
            (Some(t), None) => write!(f, "{} tokens", group_thousands(t)),
            (None, Some(u)) => write!(f, "${u:.2}"),
            (None, None) => write!(f, "none"),
        }
    }
}

/// `200000` → `200_000`, as a score would write it.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('_');
        }
        out.push(ch);
    }
    out
}

/// How hard a part is, and how hard a part an agent may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Complexity {
    Routine,
    Moderate,
    Complex,
}

impl Complexity {
    pub const ALL: [Complexity; 3] = [
        Complexity::Routine,
        Complexity::Moderate,
        Complexity::Complex,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Complexity::Routine => "routine",
            Complexity::Moderate => "moderate",
            Complexity::Complex => "complex",
        }
    }

    /// The estimate of a part that has no `estimate` setting: routine 10m,
    /// moderate 30m, complex 1h. Only the critical path and the summary use
    /// estimates.
    pub fn default_estimate_ms(self) -> u64 {
        match self {
            Complexity::Routine => 10 * MINUTE_MS,
            Complexity::Moderate => 30 * MINUTE_MS,
            Complexity::Complex => 60 * MINUTE_MS,
        }
    }
}

impl fmt::Display for Complexity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub const SECOND_MS: u64 = 1000;
pub const MINUTE_MS: u64 = 60 * SECOND_MS;
pub const HOUR_MS: u64 = 60 * MINUTE_MS;

/// A task's timeout when its part has none: three times its estimate, so a
/// part that takes longer than expected is not cut off, but a hung agent is
/// (at most the longest timeout a part may have, a week).
pub fn default_timeout_ms(estimate_ms: u64) -> u64 {
    let (_, longest) = crate::check::settings::limits::TIMEOUT_MS;
    estimate_ms.saturating_mul(3).min(longest)
}

/// A check's timeout when its `check` declaration has none: 10 minutes.
pub const DEFAULT_CHECK_TIMEOUT_MS: u64 = 10 * MINUTE_MS;

/// A duration as a score writes it: `1h30m`, `15m`, `45s`, `500ms`.
pub fn format_duration(ms: u64) -> String {
    if ms == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    let (h, rest) = (ms / HOUR_MS, ms % HOUR_MS);
    let (m, rest) = (rest / MINUTE_MS, rest % MINUTE_MS);
    let (s, milli) = (rest / SECOND_MS, rest % SECOND_MS);
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    if milli > 0 {
        out.push_str(&format!("{milli}ms"));
    }
    out
}

/// A performer with its resolved settings. Secrets appear only as the names
/// of the environment variables that hold them (`key_env`).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Agent {
    /// The hardest complexity this agent may take.
    pub tier: Complexity,
    /// At most this many of its tasks run at once (`null`: no own limit).
    pub concurrency: Option<u32>,
    /// USD per million input / output tokens, for costs and budgets.
    pub price_in: Option<f64>,
    pub price_out: Option<f64>,
    pub doc: Option<String>,
    /// Extra paths the programs of its parts may write (see
    /// `docs/security.md`), as written: `~` is expanded at run time.
    /// Left out of the JSON when empty.
    #[serde(default)]
    pub writes: Vec<String>,
    /// The only paths the programs of its parts may read besides their
    /// checkout, their temporary directory and the system's directories;
    /// `None` (left out of the JSON): everything.
    #[serde(default)]
    pub reads: Option<Vec<String>>,
    /// Whether its programs may run unconfined where Landlock is missing.
    /// Left out of the JSON when `required`.
    #[serde(default)]
    pub confinement: ConfinementMode,
    /// The provider and its own settings; written as `"provider": "openai"`
    /// plus the provider's fields, side by side with the fields above.
    #[serde(flatten)]
    pub provider: Provider,
}

impl Serialize for Agent {
    /// The common fields and the provider's side by side, keys sorted.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let provider = serde_json::to_value(&self.provider).map_err(S::Error::custom)?;
        let mut fields: BTreeMap<String, Value> = match provider {
            Value::Object(map) => map.into_iter().collect(),
            _ => BTreeMap::new(),
        };
        let common = [
            ("concurrency", serde_json::to_value(self.concurrency)),
            ("doc", serde_json::to_value(&self.doc)),
            ("price_in", serde_json::to_value(self.price_in)),
            ("price_out", serde_json::to_value(self.price_out)),
            ("tier", serde_json::to_value(self.tier)),
        ];
        for (name, value) in common {
            fields.insert(name.to_string(), value.map_err(S::Error::custom)?);
        }
        // The sandbox settings only when set, so that plans (and task
        // hashes) of scores without them stay as they were.
        if !self.writes.is_empty() {
            fields.insert("writes".into(), Value::from(self.writes.clone()));
        }
        if let Some(reads) = &self.reads {
            fields.insert("reads".into(), Value::from(reads.clone()));
        }
        if self.confinement != ConfinementMode::Required {
            let mode = serde_json::to_value(self.confinement).map_err(S::Error::custom)?;
            fields.insert("confinement".into(), mode);
        }
        // Values inside (e.g. `env`) come from BTreeMaps: already sorted.
        fields.serialize(serializer)
    }
}

/// Where Landlock is missing: refuse to run an agent's programs
/// (`required`, the default) or run them unconfined (`optional`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConfinementMode {
    #[default]
    Required,
    Optional,
}

/// An agent provider and the settings that only it has.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "provider", rename_all = "lowercase")]
pub enum Provider {
    /// An OpenAI-compatible `/v1/chat/completions` endpoint.
    Openai {
        model: String,
        /// The base URL, e.g. `https://api.openai.com/v1`.
        endpoint: String,
        /// The environment variable holding the API key (`null`: no key,
        /// e.g. a local server).
        key_env: Option<String>,
        temperature: Option<f64>,
        max_tokens: Option<u64>,
    },
    /// The Anthropic Messages API.
    Anthropic {
        model: String,
        endpoint: String,
        key_env: Option<String>,
        max_tokens: Option<u64>,
    },
    /// A local program. `run` is an argv list; `{prompt_file}`,
    /// `{output_file}` and `{workspace}` are substituted as whole arguments.
    Command {
        run: Vec<String>,
        env: BTreeMap<String, String>,
        /// The instruction file written in the part's checkout (`null`: the
        /// protocol's own, if it has one).
        #[serde(default)]
        instructions: Option<String>,
        /// The variable holding the program's key, for `score doctor`.
        #[serde(default)]
        key_env: Option<String>,
        /// How to read what the program prints.
        #[serde(default)]
        protocol: Protocol,
        /// `true` when the prompt is also written to the program's stdin.
        stdin_prompt: bool,
        /// Names of the runtime's environment variables passed through to
        /// the program (its environment is otherwise scrubbed). Left out
        /// of the JSON when empty.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pass_env: Vec<String>,
    },
    /// Built in: answers with values that satisfy the output types.
    Mock {
        latency_ms: Option<u64>,
        fail_rate: Option<f64>,
        seed: Option<u64>,
    },
}

impl Provider {
    pub fn name(&self) -> &'static str {
        match self {
            Provider::Openai { .. } => "openai",
            Provider::Anthropic { .. } => "anthropic",
            Provider::Command { .. } => "command",
            Provider::Mock { .. } => "mock",
        }
    }
}

/// How the runtime talks to a `command` agent's program (see
/// `docs/agents.md`): what it prints, the flags it takes for a result
/// schema and a budget, the instruction file it reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// The result object in `$SCORE_OUTPUT` or last on stdout; no usage.
    #[default]
    Plain,
    /// Claude Code: `claude -p --output-format json` (or `stream-json`).
    ClaudeJson,
    /// Codex CLI: `codex exec --json`.
    CodexJsonl,
    /// Gemini CLI: `gemini --output-format json`.
    GeminiJson,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Plain => "plain",
            Protocol::ClaudeJson => "claude_json",
            Protocol::CodexJsonl => "codex_jsonl",
            Protocol::GeminiJson => "gemini_json",
        }
    }
}

/// The base URL used when an `openai` agent has no `endpoint`.
pub const OPENAI_ENDPOINT: &str = "https://api.openai.com/v1";
/// The base URL used when an `anthropic` agent has no `endpoint`.
pub const ANTHROPIC_ENDPOINT: &str = "https://api.anthropic.com/v1";

/// One part, ready to dispatch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub agent: String,
    /// Who must sign off before the task counts as done (the run pauses).
    pub approve: Option<String>,
    pub brief: Option<String>,
    pub budget: Option<Budget>,
    /// Commands run after the agent finishes; all must pass.
    pub checks: Vec<CheckRun>,
    pub complexity: Complexity,
    /// The contracts the part fulfils, in the order written.
    pub contracts: Vec<ContractInfo>,
    /// Ids of the tasks that must finish first (sorted): the sequence's
    /// edges and the sources of input bindings.
    pub depends_on: Vec<String>,
    /// The part's `///` documentation.
    pub doc: Option<String>,
    /// For the critical path: the part's `estimate`, or the default by
    /// complexity.
    pub estimate_ms: u64,
    /// See [`super::hash::task_hash`]. Left out of the JSON while empty,
    /// which is how the hash is computed over the task "without its hash".
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hash: String,
    /// The part's name.
    pub id: String,
    pub inputs: BTreeMap<String, Input>,
    /// The intents the part serves, in the order written.
    pub intents: Vec<IntentInfo>,
    pub outputs: BTreeMap<String, ValueSpec>,
    /// Workspace-relative globs the task may write.
    pub owns: Vec<String>,
    /// Natural-language `ensures`: stated in the prompt, not run.
    pub postconditions: Vec<String>,
    /// The full prompt; `{{input.NAME}}` placeholders are filled at run time.
    pub prompt: String,
    /// Workspace-relative globs the task reads.
    pub reads: Vec<String>,
    /// JSON Schema of the object the agent returns: one property per output.
    pub result_schema: Schema,
    /// Extra attempts after a failed one.
    pub retries: u32,
    /// Per attempt.
    pub timeout_ms: u64,
    /// Index into [`Plan::waves`].
    pub wave: usize,
}

/// A contract a part fulfils, with what it states on its own (the task's
/// inputs, outputs, globs and checks already include these).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContractInfo {
    pub doc: Option<String>,
    /// Its `ensures`, as written: `cargo_test(package: "store")` or the
    /// natural-language statement.
    pub ensures: Vec<String>,
    /// The names of the contract's own inputs and outputs.
    pub inputs: Vec<String>,
    pub name: String,
    pub outputs: Vec<String>,
    pub owns: Vec<String>,
    pub reads: Vec<String>,
}

/// An intent a task serves.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntentInfo {
    /// Acceptance criteria.
    pub accept: Vec<String>,
    pub id: String,
    /// `must`, `should` or `could` (`null` when not given).
    pub priority: Option<String>,
    pub statement: String,
}

/// The type of a value crossing a boundary: as written, and as JSON Schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValueSpec {
    pub doc: Option<String>,
    /// A self-contained JSON Schema (draft 2020-12) for the value.
    pub schema: Schema,
    /// The type as a score writes it, e.g. `[Link]?`.
    #[serde(rename = "type")]
    pub ty: String,
}

/// A task input: its type and where its value comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Input {
    pub doc: Option<String>,
    pub schema: Schema,
    pub source: InputSource,
    #[serde(rename = "type")]
    pub ty: String,
}

/// Where an input's value comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum InputSource {
    /// An output of another task (which is then among `depends_on`).
    Task { output: String, task: String },
    /// A score-level input, given with `--input NAME=VALUE`.
    ScoreInput { name: String },
}

/// A check with its command resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckRun {
    /// The arguments, by parameter name.
    pub args: BTreeMap<String, Value>,
    /// What to execute: `["sh", "-c", command]`, in the task's workspace.
    pub argv: Vec<String>,
    /// The `check` declaration, e.g. `cargo_test`.
    pub check: String,
    /// The `run` template with the arguments substituted: a POSIX shell
    /// command line.
    pub command: String,
    pub timeout_ms: u64,
}

/// The longest chain of dependent tasks, by estimate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CriticalPath {
    /// The sum of their estimates: the shortest the run can take.
    pub estimate_ms: u64,
    /// Task ids, first to last.
    pub tasks: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_the_language() {
        assert_eq!(format_duration(0), "0s");
        assert_eq!(format_duration(500), "500ms");
        assert_eq!(format_duration(15 * MINUTE_MS), "15m");
        assert_eq!(format_duration(HOUR_MS + 30 * MINUTE_MS), "1h30m");
        assert_eq!(format_duration(2 * HOUR_MS + 5 * SECOND_MS), "2h5s");
    }

    #[test]
    fn thousands_are_grouped_like_score_numbers() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1_000");
        assert_eq!(group_thousands(200_000), "200_000");
        assert_eq!(group_thousands(1_234_567), "1_234_567");
    }

    #[test]
    fn budget_display() {
        let b = Budget {
            tokens: Some(200_000),
            usd: Some(12.5),
        };
        assert_eq!(b.to_string(), "200_000 tokens, $12.50");
        assert_eq!(Budget::default().to_string(), "none");
    }

    #[test]
    fn agent_provider_is_flattened_beside_common_fields() {
        let agent = crate::plan::fixtures::agent(Provider::Mock {
            latency_ms: Some(5),
            fail_rate: None,
            seed: None,
        });
        let v = serde_json::to_value(&agent).unwrap();
        assert_eq!(v["provider"], "mock");
        assert_eq!(v["tier"], "complex");
        assert_eq!(v["latency_ms"], 5);
        let back: Agent = serde_json::from_value(v).unwrap();
        assert_eq!(back, agent);
    }

    #[test]
    fn input_sources_are_tagged() {
        let s = InputSource::Task {
            task: "model".into(),
            output: "link_type".into(),
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"from": "task", "task": "model", "output": "link_type"})
        );
        let s = InputSource::ScoreInput {
            name: "repo".into(),
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"from": "score_input", "name": "repo"})
        );
    }
}
