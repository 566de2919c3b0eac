//! The settings each declaration accepts, and their validation (E0104,
//! E0105, E0102 for a setting given twice).
//!
//! The schema is a public data table: the checker validates against it and
//! the language server uses it for completion and hover. Settings are not
//! reserved words, so this table is the only place that says what `tier`
//! or `owns` means, and where.
//!
//! Wrong values are reported under E0104 as well as unknown names: both say
//! "this setting, as written, is not one this declaration understands", and
//! the message names what was expected (`setting `timeout` expects a
//! duration like `15m`, found a string`).

use super::suggest;
use crate::diagnostics::{Code, Diagnostic};
use crate::model::SymbolKind;
use crate::syntax::ast::{Body, Ident, Setting, Value};

/// The declarations that have settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeclKind {
    Score,
    Intent,
    Check,
    Contract,
    Agent,
    Part,
}

impl DeclKind {
    pub const ALL: &'static [DeclKind] = &[
        DeclKind::Score,
        DeclKind::Intent,
        DeclKind::Check,
        DeclKind::Contract,
        DeclKind::Agent,
        DeclKind::Part,
    ];

    /// The declaration's keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            DeclKind::Score => "score",
            DeclKind::Intent => "intent",
            DeclKind::Check => "check",
            DeclKind::Contract => "contract",
            DeclKind::Agent => "agent",
            DeclKind::Part => "part",
        }
    }

    fn plural(self) -> &'static str {
        match self {
            DeclKind::Score => "scores",
            DeclKind::Intent => "intents",
            DeclKind::Check => "checks",
            DeclKind::Contract => "contracts",
            DeclKind::Agent => "agents",
            DeclKind::Part => "parts",
        }
    }
}

/// What values a setting takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    /// A string or a text block.
    String,
    /// Strings: `"a", "b"` or `["a", "b"]`.
    Strings,
    /// A whole number from `min` to `max`.
    Integer { min: u64, max: u64 },
    /// A number from `min` to `max`.
    Number { min: f64, max: f64 },
    /// `500ms`, `30s`, `15m`, `2h`, from `min_ms` to `max_ms`.
    Duration { min_ms: u64, max_ms: u64 },
    /// One name of a fixed set, such as `routine|moderate|complex`.
    Choice(&'static [&'static str]),
    /// The name of a declaration of this kind.
    Name(SymbolKind),
    /// Names of declarations of this kind (`serves a, b`).
    Names(SymbolKind),
    /// `name: Type`.
    Port,
    /// A part's input: `name: Type`, `name = part.output` or
    /// `name: Type = part.output`.
    PartInput,
    /// A check call `name(arg: value)` or a natural-language string.
    Ensures,
    /// `tokens N` or `usd X`.
    Budget,
    /// `{ KEY: "value", ... }`.
    StringMap,
}

impl Shape {
    /// What the setting expects, for messages: "a duration like `15m`".
    pub fn expected(&self) -> String {
        match self {
            Shape::String => "a string".into(),
            Shape::Strings => "one or more strings".into(),
            Shape::Integer { .. } | Shape::Number { .. } => self.range().unwrap_or_default(),
            Shape::Duration { .. } => "a duration like `15m`".into(),
            Shape::Choice(names) => format!("one of {}", suggest::alternatives(names)),
            Shape::Name(kind) => format!("{} name", kind.with_article()),
            Shape::Names(kind) => format!("{} names", kind.noun()),
            Shape::Port => "a name and a type like `name: Text`".into(),
            Shape::PartInput => "`name = part.output` or `name: Type`".into(),
            Shape::Ensures => "a check call like `cargo_test(package: \"api\")` or a string".into(),
            Shape::Budget => "`tokens N` or `usd X`".into(),
            Shape::StringMap => "a map of strings like `{ RUST_LOG: \"debug\" }`".into(),
        }
    }

    /// The range of a numeric setting, for messages and docs: "a whole
    /// number from 0 to 100", "a duration from 1ms to 168h".
    pub fn range(&self) -> Option<String> {
        Some(match *self {
            Shape::Integer { min, max } => {
                format!(
                    "a whole number from {} to {}",
                    group_digits(min),
                    group_digits(max)
                )
            }
            Shape::Number { min, max } => format!("a number from {min} to {}", max_text(max)),
            Shape::Duration { min_ms, max_ms } => format!(
                "a duration from {} to {}",
                duration_text(min_ms),
                duration_text(max_ms)
            ),
            _ => return None,
        })
    }

    /// Whether several values may follow the setting's name on one line.
    fn takes_list(&self) -> bool {
        matches!(self, Shape::Strings | Shape::Names(_))
    }
}

/// One setting a declaration accepts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SettingSpec {
    pub name: &'static str,
    pub shape: Shape,
    /// May be given on several lines (each adds values).
    pub repeatable: bool,
    /// Must be given (E0105 when missing).
    pub required: bool,
    /// One line for hovers and docs.
    pub doc: &'static str,
    /// The setting as it would be written, for completion and help.
    pub example: &'static str,
}

impl SettingSpec {
    /// Whether one line may hold several comma-separated values.
    pub fn takes_several(&self) -> bool {
        self.repeatable || self.shape.takes_list()
    }
}

const fn spec(
    name: &'static str,
    shape: Shape,
    repeatable: bool,
    required: bool,
    doc: &'static str,
    example: &'static str,
) -> SettingSpec {
    SettingSpec {
        name,
        shape,
        repeatable,
        required,
        doc,
        example,
    }
}

/// The ranges of numeric settings.
///
/// Every number a score gives ends up in arithmetic (attempts, deadlines,
/// costs) or in a request to an API, so each has a range that no real score
/// comes near and that keeps that arithmetic far from overflowing. The plan
/// format repeats them (`schemas/score-plan-1.json`, checked when a plan is
/// loaded), and `docs/language.md` lists them; tests keep the three in step.
pub mod limits {
    const HOUR_MS: u64 = 60 * 60 * 1000;

    /// Parts (or tasks of one agent) running at once.
    pub const CONCURRENCY: (u64, u64) = (1, 10_000);
    /// Extra attempts after a failed one.
    pub const RETRIES: (u64, u64) = (0, 100);
    /// One attempt of a part, or one run of a check: up to a week.
    pub const TIMEOUT_MS: (u64, u64) = (1, 168 * HOUR_MS);
    /// A part's expected duration: up to 30 days.
    pub const ESTIMATE_MS: (u64, u64) = (1, 720 * HOUR_MS);
    /// A mock agent's answer time: up to an hour.
    pub const LATENCY_MS: (u64, u64) = (0, HOUR_MS);
    /// USD per million tokens.
    pub const PRICE: (f64, f64) = (0.0, 10_000.0);
    /// Tokens in one answer.
    pub const MAX_TOKENS: (u64, u64) = (1, 10_000_000);
    pub const TEMPERATURE: (f64, f64) = (0.0, 2.0);
    pub const FAIL_RATE: (f64, f64) = (0.0, 1.0);
    /// Every seed a JSON number holds exactly (2^53 - 1).
    pub const SEED: (u64, u64) = (0, 9_007_199_254_740_991);
    /// `budget tokens N`.
    pub const BUDGET_TOKENS: (u64, u64) = (0, 1_000_000_000_000);
    /// `budget usd X`.
    pub const BUDGET_USD: (f64, f64) = (0.0, 1_000_000_000.0);
}

const fn integer((min, max): (u64, u64)) -> Shape {
    Shape::Integer { min, max }
}

const fn number((min, max): (f64, f64)) -> Shape {
    Shape::Number { min, max }
}

const fn duration((min_ms, max_ms): (u64, u64)) -> Shape {
    Shape::Duration { min_ms, max_ms }
}

/// `10000` → `10_000`, as a score writes it.
fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('_');
        }
        out.push(ch);
    }
    out
}

fn max_text(max: f64) -> String {
    if max.fract() == 0.0 && max < 1e15 {
        group_digits(max as u64)
    } else {
        max.to_string()
    }
}

/// A bound in milliseconds as a score writes it, in the largest unit that
/// divides it (`168h`, `30s`, `1ms`).
fn duration_text(ms: u64) -> String {
    for (unit, size) in [("h", 3_600_000), ("m", 60_000), ("s", 1_000)] {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{unit}", group_digits(ms / size));
        }
    }
    format!("{}ms", group_digits(ms))
}

const LEVELS: &[&str] = &["routine", "moderate", "complex"];

/// The agent providers.
pub const PROVIDERS: &[&str] = &["openai", "anthropic", "command", "mock"];

const BUDGET: SettingSpec = spec(
    "budget",
    Shape::Budget,
    true,
    false,
    "A spending limit: `budget tokens N` and/or `budget usd X`.",
    "budget tokens 200_000",
);
const OWNS: SettingSpec = spec(
    "owns",
    Shape::Strings,
    true,
    false,
    "Globs of the paths the owner may write (relative to the workspace).",
    "owns \"src/store/**\"",
);
const READS: SettingSpec = spec(
    "reads",
    Shape::Strings,
    true,
    false,
    "Globs of the paths the owner reads but does not write.",
    "reads \"src/model.rs\"",
);
const ENSURES: SettingSpec = spec(
    "ensures",
    Shape::Ensures,
    true,
    false,
    "A postcondition: a check call, or a natural-language statement.",
    "ensures cargo_test(package: \"store\")",
);
const OUTPUT: SettingSpec = spec(
    "output",
    Shape::Port,
    true,
    false,
    "A value produced, with its type.",
    "output store_api: Text",
);
const TIMEOUT: SettingSpec = spec(
    "timeout",
    duration(limits::TIMEOUT_MS),
    false,
    false,
    "How long one attempt may take before it is stopped.",
    "timeout 15m",
);

static SCORE: &[SettingSpec] = &[
    spec(
        "title",
        Shape::String,
        false,
        false,
        "A human title for the project.",
        "title \"URL shortener\"",
    ),
    spec(
        "workspace",
        Shape::String,
        false,
        false,
        "The repository the parts write into, relative to this file (default: its directory).",
        "workspace \".\"",
    ),
    spec(
        "concurrency",
        integer(limits::CONCURRENCY),
        false,
        false,
        "At most this many parts run at once.",
        "concurrency 4",
    ),
    spec(
        "default_agent",
        Shape::Name(SymbolKind::Agent),
        false,
        false,
        "The agent of every part without `by AGENT`.",
        "default_agent coder",
    ),
    BUDGET,
    spec(
        "prompt_template",
        Shape::String,
        false,
        false,
        "A Markdown file laying out the prompt each agent receives, relative to this file \
         (default: the built-in template).",
        "prompt_template \"prompt.md\"",
    ),
    spec(
        "input",
        Shape::Port,
        true,
        false,
        "A value given at run time with `--input name=VALUE`; parts bind it with `= score.name`.",
        "input repo: Path",
    ),
];

static INTENT: &[SettingSpec] = &[
    spec(
        "accept",
        Shape::String,
        true,
        false,
        "An acceptance criterion: how to tell the intent is met.",
        "accept \"an unknown slug answers 404\"",
    ),
    spec(
        "priority",
        Shape::Choice(&["must", "should", "could"]),
        false,
        false,
        "How much the intent matters: `must`, `should` or `could`.",
        "priority must",
    ),
];

static CHECK: &[SettingSpec] = &[
    spec(
        "run",
        Shape::String,
        false,
        true,
        "The command to run; `{param}` is replaced by the argument. Passes when it exits with 0.",
        "run \"cargo test -p {package}\"",
    ),
    TIMEOUT,
];

static CONTRACT: &[SettingSpec] = &[
    spec(
        "input",
        Shape::Port,
        true,
        false,
        "A value the owner needs; the part fulfilling the contract binds it.",
        "input link_type: Text",
    ),
    OUTPUT,
    OWNS,
    READS,
    ENSURES,
];

const TIER: SettingSpec = spec(
    "tier",
    Shape::Choice(LEVELS),
    false,
    false,
    "The most complex work this agent takes: `routine` (default), `moderate` or `complex`.",
    "tier complex",
);
const AGENT_CONCURRENCY: SettingSpec = spec(
    "concurrency",
    integer(limits::CONCURRENCY),
    false,
    false,
    "At most this many parts run on this agent at once.",
    "concurrency 2",
);
const PRICE_IN: SettingSpec = spec(
    "price_in",
    number(limits::PRICE),
    false,
    false,
    "USD per million input tokens, for costs and budgets.",
    "price_in 2.0",
);
const PRICE_OUT: SettingSpec = spec(
    "price_out",
    number(limits::PRICE),
    false,
    false,
    "USD per million output tokens, for costs and budgets.",
    "price_out 8.0",
);
const MODEL: SettingSpec = spec(
    "model",
    Shape::String,
    false,
    true,
    "The model name the endpoint knows.",
    "model \"gpt-4.1\"",
);
const ENDPOINT: SettingSpec = spec(
    "endpoint",
    Shape::String,
    false,
    false,
    "The API's base URL (default: the provider's public API).",
    "endpoint \"http://localhost:8000/v1\"",
);
const KEY_ENV: SettingSpec = spec(
    "key_env",
    Shape::String,
    false,
    false,
    "The environment variable holding the API key (never the key itself).",
    "key_env \"OPENAI_API_KEY\"",
);
const MAX_TOKENS: SettingSpec = spec(
    "max_tokens",
    integer(limits::MAX_TOKENS),
    false,
    false,
    "The most tokens one answer may have.",
    "max_tokens 8192",
);

const WRITES: SettingSpec = spec(
    "writes",
    Shape::Strings,
    true,
    false,
    "Extra paths the programs of its parts (the agent's and the checks) may write, besides \
     the part's checkout and its temporary directory; `~` is your home directory.",
    "writes [\"~/.claude\", \"~/.claude.json\"]",
);
const SANDBOX_READS: SettingSpec = spec(
    "reads",
    Shape::Strings,
    true,
    false,
    "If given, the only paths the programs of its parts may read besides the checkout, the \
     temporary directory, what they may write and the system's directories (default: \
     everything); `~` is your home directory.",
    "reads [\"~/.config/tool\"]",
);
const CONFINEMENT: SettingSpec = spec(
    "confinement",
    Shape::Choice(&["required", "optional"]),
    false,
    false,
    "Where Landlock is missing (not Linux, an old kernel): `required` (default) refuses to \
     run the programs of its parts, `optional` runs them unconfined.",
    "confinement optional",
);

static AGENT_COMMON: &[SettingSpec] = &[
    TIER,
    AGENT_CONCURRENCY,
    PRICE_IN,
    PRICE_OUT,
    WRITES,
    SANDBOX_READS,
    CONFINEMENT,
];

static OPENAI: &[SettingSpec] = &[
    MODEL,
    ENDPOINT,
    KEY_ENV,
    spec(
        "temperature",
        number(limits::TEMPERATURE),
        false,
        false,
        "Sampling temperature.",
        "temperature 0.2",
    ),
    MAX_TOKENS,
    TIER,
    AGENT_CONCURRENCY,
    PRICE_IN,
    PRICE_OUT,
    WRITES,
    SANDBOX_READS,
    CONFINEMENT,
];

static ANTHROPIC: &[SettingSpec] = &[
    MODEL,
    ENDPOINT,
    KEY_ENV,
    MAX_TOKENS,
    TIER,
    AGENT_CONCURRENCY,
    PRICE_IN,
    PRICE_OUT,
    WRITES,
    SANDBOX_READS,
    CONFINEMENT,
];

static COMMAND: &[SettingSpec] = &[
    spec(
        "run",
        Shape::Strings,
        false,
        true,
        "The program and its arguments; `{prompt_file}`, `{output_file}` and `{workspace}` are \
         replaced as whole arguments, never through a shell.",
        "run [\"aider\", \"--yes-always\", \"--message-file\", \"{prompt_file}\"]",
    ),
    spec(
        "env",
        Shape::StringMap,
        false,
        false,
        "Extra environment variables for the program.",
        "env { RUST_LOG: \"info\" }",
    ),
    spec(
        "stdin",
        Shape::Choice(&["prompt"]),
        false,
        false,
        "`stdin prompt` also writes the prompt to the program's standard input.",
        "stdin prompt",
    ),
    spec(
        "pass_env",
        Shape::Strings,
        true,
        false,
        "Names of environment variables passed through to the program, whose environment is \
         otherwise scrubbed (their values are masked in everything the runtime stores or prints).",
        "pass_env [\"ANTHROPIC_API_KEY\"]",
    ),
    spec(
        "protocol",
        Shape::Choice(crate::model::Protocol::NAMES),
        false,
        false,
        "How to read what the program prints: `plain` (default: the result object in \
         `$SCORE_OUTPUT` or last on stdout), `claude_json` (Claude Code), `codex_jsonl` (Codex \
         CLI) or `gemini_json` (Gemini CLI). The protocol also gives the program the part's \
         result schema, budget and instruction file.",
        "protocol claude_json",
    ),
    spec(
        "instructions",
        Shape::String,
        false,
        false,
        "The instruction file the program reads in the part's checkout, where the runtime \
         writes the part's contract (default: the protocol's, e.g. `CLAUDE.md`; none for \
         `plain`).",
        "instructions \"CONVENTIONS.md\"",
    ),
    spec(
        "key_env",
        Shape::String,
        false,
        false,
        "The environment variable holding the program's API key (never the key itself); \
         `score doctor` says whether it is set. Programs that log in by themselves need none.",
        "key_env \"ANTHROPIC_API_KEY\"",
    ),
    TIER,
    AGENT_CONCURRENCY,
    PRICE_IN,
    PRICE_OUT,
    WRITES,
    SANDBOX_READS,
    CONFINEMENT,
];

static MOCK: &[SettingSpec] = &[
    spec(
        "latency",
        duration(limits::LATENCY_MS),
        false,
        false,
        "How long each answer takes.",
        "latency 200ms",
    ),
    spec(
        "fail_rate",
        number(limits::FAIL_RATE),
        false,
        false,
        "The share of attempts that fail, from 0 to 1.",
        "fail_rate 0.1",
    ),
    spec(
        "seed",
        integer(limits::SEED),
        false,
        false,
        "Seed for the deterministic answers and failures.",
        "seed 42",
    ),
    TIER,
    AGENT_CONCURRENCY,
    PRICE_IN,
    PRICE_OUT,
    WRITES,
    SANDBOX_READS,
    CONFINEMENT,
];

static PART: &[SettingSpec] = &[
    spec(
        "serves",
        Shape::Names(SymbolKind::Intent),
        true,
        false,
        "The intents this part works towards.",
        "serves shorten, redirect",
    ),
    spec(
        "complexity",
        Shape::Choice(LEVELS),
        false,
        false,
        "How demanding the work is: `routine` (default), `moderate` or `complex`; the agent's \
         tier must be at least this.",
        "complexity moderate",
    ),
    spec(
        "input",
        Shape::PartInput,
        true,
        false,
        "A value this part needs: bound to another part's output (`= part.output`) or to a \
         score input (`= score.name`).",
        "input link_type = model.link_type",
    ),
    OUTPUT,
    OWNS,
    READS,
    ENSURES,
    spec(
        "brief",
        Shape::String,
        false,
        false,
        "What to do, in words, for the agent.",
        "brief \"\"\"\n  Write the store.\n  \"\"\"",
    ),
    spec(
        "retries",
        integer(limits::RETRIES),
        false,
        false,
        "How many times a failed attempt is retried (default 0).",
        "retries 2",
    ),
    TIMEOUT,
    spec(
        "estimate",
        duration(limits::ESTIMATE_MS),
        false,
        false,
        "Expected duration, for the critical path (default: by complexity).",
        "estimate 30m",
    ),
    BUDGET,
    spec(
        "approve",
        Shape::String,
        false,
        false,
        "Who signs off: the run pauses for a person before the part's result is accepted.",
        "approve \"tech lead\"",
    ),
];

/// The settings a declaration accepts. For an agent, `provider` selects the
/// provider's settings (which include the ones every agent has); with no or
/// an unknown provider, only the settings every agent has.
pub fn settings_for(kind: DeclKind, provider: Option<&str>) -> &'static [SettingSpec] {
    match kind {
        DeclKind::Score => SCORE,
        DeclKind::Intent => INTENT,
        DeclKind::Check => CHECK,
        DeclKind::Contract => CONTRACT,
        DeclKind::Part => PART,
        DeclKind::Agent => match provider {
            Some("openai") => OPENAI,
            Some("anthropic") => ANTHROPIC,
            Some("command") => COMMAND,
            Some("mock") => MOCK,
            _ => AGENT_COMMON,
        },
    }
}

/// One setting's description, if the declaration accepts it.
pub fn find_setting(
    kind: DeclKind,
    provider: Option<&str>,
    name: &str,
) -> Option<&'static SettingSpec> {
    settings_for(kind, provider).iter().find(|s| s.name == name)
}

/// The providers whose agents accept a setting.
pub fn providers_with(name: &str) -> Vec<&'static str> {
    PROVIDERS
        .iter()
        .copied()
        .filter(|p| find_setting(DeclKind::Agent, Some(p), name).is_some())
        .collect()
}

/// A setting that passed validation, with its values (the list of a
/// `[...]` or comma-separated strings flattened; bad values left out).
#[derive(Debug)]
pub(crate) struct Accepted<'a> {
    pub spec: &'static SettingSpec,
    pub values: Vec<&'a Value>,
}

/// The accepted settings of one declaration, in source order.
#[derive(Debug, Default)]
pub(crate) struct Validated<'a> {
    pub accepted: Vec<Accepted<'a>>,
}

impl<'a> Validated<'a> {
    /// The first value of a single-valued setting.
    pub fn one(&self, name: &str) -> Option<&'a Value> {
        self.accepted
            .iter()
            .find(|a| a.spec.name == name)
            .and_then(|a| a.values.first().copied())
    }

    /// Every value of a setting, across its lines.
    pub fn all(&self, name: &str) -> impl Iterator<Item = &'a Value> + '_ {
        let name = name.to_string();
        self.accepted
            .iter()
            .filter(move |a| a.spec.name == name)
            .flat_map(|a| a.values.iter().copied())
    }
}

/// The declaration whose settings are validated.
pub(crate) struct Target<'a> {
    pub kind: DeclKind,
    /// The agent's provider when it is one of [`PROVIDERS`]; `None` for an
    /// agent whose provider is unknown (E0502 reported elsewhere), which
    /// silences what depends on the provider.
    pub provider: Option<&'a str>,
    pub name: &'a Ident,
    pub body: Option<&'a Body>,
}

impl Target<'_> {
    fn describe(&self) -> String {
        match (self.kind, self.provider) {
            (DeclKind::Agent, Some(p)) => format!("`{p}` agents"),
            (kind, _) => kind.plural().into(),
        }
    }
}

/// Validate a declaration's settings against the schema: unknown settings
/// and wrong values (E0104), a non-repeatable setting given twice (E0102),
/// required ones missing (E0105).
pub(crate) fn validate<'a>(target: &Target<'a>, diags: &mut Vec<Diagnostic>) -> Validated<'a> {
    let provider_unknown = target.kind == DeclKind::Agent && target.provider.is_none();
    let specs = settings_for(target.kind, target.provider);
    let mut validated = Validated::default();
    let mut seen: Vec<(&'static str, &'a Setting)> = Vec::new();
    let settings: &'a [Setting] = target.body.map_or(&[], |b| &b.settings);

    for setting in settings {
        let name = setting.name.name.as_str();
        let Some(spec) = specs.iter().find(|s| s.name == name) else {
            // With an unknown provider we cannot tell which settings are
            // right; only names no agent knows are certainly wrong.
            if provider_unknown && !providers_with(name).is_empty() {
                continue;
            }
            diags.push(unknown_setting(target, specs, setting));
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
            if !spec.repeatable {
                diags.push(
                    Diagnostic::new(Code::E0102, format!("setting `{name}` is given twice"))
                        .primary(setting.name.span, "given again here")
                        .secondary(first.name.span, "first given here")
                        .help(format!(
                            "`{name}` takes one value; keep one of the two lines"
                        )),
                );
                continue;
            }
        } else {
            seen.push((spec.name, setting));
        }
        let values = check_values(spec, setting, target, diags);
        validated.accepted.push(Accepted { spec, values });
    }

    if !provider_unknown {
        for spec in specs.iter().filter(|s| s.required) {
            if seen.iter().all(|(n, _)| *n != spec.name) {
                let who = match (target.kind, target.provider) {
                    (DeclKind::Agent, Some(p)) => format!("a `{p}` agent"),
                    (kind, _) => format!("a {}", kind.keyword()),
                };
                diags.push(
                    Diagnostic::new(
                        Code::E0105,
                        format!(
                            "{} `{}` is missing the required setting `{}`",
                            target.kind.keyword(),
                            target.name.name,
                            spec.name
                        ),
                    )
                    .primary(target.name.span, format!("{who} needs `{}`", spec.name))
                    .note(format!("`{}`: {}", spec.name, spec.doc))
                    .help(format!("add it, for example: `{}`", spec.example)),
                );
            }
        }
    }
    validated
}

fn unknown_setting(target: &Target<'_>, specs: &[SettingSpec], setting: &Setting) -> Diagnostic {
    let name = setting.name.name.as_str();
    let what = target.describe();
    let mut diag = Diagnostic::new(Code::E0104, format!("unknown setting `{name}` for {what}"));
    // A setting of another provider: say whose it is.
    if let (DeclKind::Agent, Some(provider)) = (target.kind, target.provider) {
        let owners = providers_with(name);
        if !owners.is_empty() {
            let owners: Vec<String> = owners.iter().map(|p| format!("`{p}`")).collect();
            return diag
                .primary(
                    setting.name.span,
                    format!("not a setting of `{provider}` agents"),
                )
                .note(format!(
                    "`{name}` is a setting of {} agents, not of `{provider}` agents",
                    owners.join(" and ")
                ))
                .help(format!(
                    "remove it, or change the provider if this agent should be {}",
                    owners.join(" or ")
                ));
        }
    }
    diag = diag.primary(setting.name.span, "unknown setting");
    if target.kind == DeclKind::Part
        && let Some(help) = order_hint(name, &target.name.name, &setting.values)
    {
        return diag
            .note("the order of parts is not a setting of a part: `sequence` blocks declare it")
            .help(help);
    }
    if let Some(close) = suggest::best_match(name, specs.iter().map(|s| s.name)) {
        return diag.help(format!("did you mean `{close}`?"));
    }
    // A setting of another kind of declaration.
    let owners: Vec<&str> = DeclKind::ALL
        .iter()
        .filter(|k| **k != target.kind)
        .filter(|k| match k {
            DeclKind::Agent => !providers_with(name).is_empty(),
            _ => find_setting(**k, None, name).is_some(),
        })
        .map(|k| k.plural())
        .collect();
    if !owners.is_empty() {
        diag = diag.note(format!(
            "`{name}` is a setting of {}, not of {what}",
            suggest::list(&owners, 6).replace('`', "")
        ));
    }
    let known: Vec<&str> = specs.iter().map(|s| s.name).collect();
    diag.help(format!("{what} accept {}", suggest::list(&known, 20)))
}

/// Settings other languages (Make, CI files, task runners) order work
/// with, where this language has `sequence`: those naming the parts that
/// run first, and those naming the parts that run after.
const ORDER_FIRST: &[&str] = &[
    "needs",
    "need",
    "depends_on",
    "depends",
    "dependencies",
    "after",
    "requires",
    "require",
    "waits_for",
    "wait_for",
    "runs_after",
    "run_after",
];
const ORDER_THEN: &[&str] = &["before", "runs_before", "run_before", "then", "next"];

/// For `needs cli` in part `app`: how this language says it,
/// `sequence { cli -> app }`. `None` for a setting that is no such word.
fn order_hint(name: &str, part: &str, values: &[Value]) -> Option<String> {
    let first = ORDER_FIRST.contains(&name);
    if !first && !ORDER_THEN.contains(&name) {
        return None;
    }
    let mut others: Vec<String> = Vec::new();
    for value in values {
        match value {
            Value::Path(path) => others.push(path.dotted()),
            Value::List(items, _) => others.extend(items.iter().filter_map(|v| match v {
                Value::Path(path) => Some(path.dotted()),
                _ => None,
            })),
            _ => {}
        }
    }
    let others = match others.as_slice() {
        [] => "OTHER".to_string(),
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    };
    let chain = if first {
        format!("{others} -> {part}")
    } else {
        format!("{part} -> {others}")
    };
    Some(format!(
        "remove `{name}` from the part and, after the part, write `sequence {{ {chain} }}`"
    ))
}

fn check_values<'a>(
    spec: &'static SettingSpec,
    setting: &'a Setting,
    target: &Target<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<&'a Value> {
    let name = spec.name;
    if setting.values.is_empty() {
        diags.push(
            Diagnostic::new(Code::E0104, format!("setting `{name}` needs a value"))
                .primary(
                    setting.name.span,
                    format!("expected {}", spec.shape.expected()),
                )
                .help(format!("for example: `{}`", spec.example)),
        );
        return Vec::new();
    }
    if !spec.takes_several() && setting.values.len() > 1 {
        diags.push(
            Diagnostic::new(
                Code::E0104,
                format!(
                    "setting `{name}` takes one value, found {}",
                    setting.values.len()
                ),
            )
            .primary(setting.values[1].span(), "unexpected second value")
            .secondary(setting.name.span, format!("`{name}` takes one value")),
        );
    }
    let values: &'a [Value] = if spec.takes_several() {
        &setting.values
    } else {
        &setting.values[..1]
    };
    let mut good = Vec::new();
    for value in values {
        // `run ["a", "b"]`: a bracketed list of strings is one list.
        if let (Shape::Strings, Value::List(items, _)) = (&spec.shape, value) {
            for item in items {
                match value_problem(&spec.shape, item, target) {
                    None => good.push(item),
                    Some(problem) => diags.push(problem.into_diag(spec, item)),
                }
            }
            continue;
        }
        match value_problem(&spec.shape, value, target) {
            None => good.push(value),
            Some(problem) => diags.push(problem.into_diag(spec, value)),
        }
    }
    good
}

/// Why a value does not fit a shape.
struct Problem {
    /// Replaces the generic "expects X, found Y" message when set.
    message: Option<String>,
    help: Option<String>,
    /// The value is of the right kind but out of range: as written.
    out_of_range: Option<String>,
}

impl Problem {
    fn wrong() -> Problem {
        Problem {
            message: None,
            help: None,
            out_of_range: None,
        }
    }

    fn help(help: impl Into<String>) -> Problem {
        Problem {
            help: Some(help.into()),
            ..Problem::wrong()
        }
    }

    fn out_of_range(raw: &str) -> Problem {
        Problem {
            out_of_range: Some(raw.to_string()),
            ..Problem::wrong()
        }
    }

    fn into_diag(self, spec: &SettingSpec, value: &Value) -> Diagnostic {
        let expected = match &self.out_of_range {
            Some(_) => spec.shape.range().unwrap_or_else(|| spec.shape.expected()),
            None => spec.shape.expected(),
        };
        let found = match &self.out_of_range {
            Some(raw) => format!("`{raw}`"),
            None => value.describe().to_string(),
        };
        let message = self.message.unwrap_or_else(|| {
            format!("setting `{}` expects {expected}, found {found}", spec.name)
        });
        let mut diag = Diagnostic::new(Code::E0104, message)
            .primary(value.span(), format!("expected {expected}"));
        diag.help = Some(
            self.help
                .unwrap_or_else(|| format!("for example: `{}`", spec.example)),
        );
        diag
    }
}

fn value_problem(shape: &Shape, value: &Value, target: &Target<'_>) -> Option<Problem> {
    match shape {
        Shape::String | Shape::Strings => match value {
            Value::Str(_) => None,
            Value::Path(p) => Some(Problem::help(format!(
                "put the text in quotes: `\"{}\"`",
                p.dotted()
            ))),
            _ => Some(Problem::wrong()),
        },
        Shape::Integer { min, max } => match value {
            Value::Number(n) if n.integer && n.value >= *min as f64 && n.value <= *max as f64 => {
                None
            }
            Value::Number(n) if !n.integer => Some(Problem::help("write a whole number")),
            Value::Number(n) => Some(Problem::out_of_range(&n.raw)),
            _ => Some(Problem::wrong()),
        },
        Shape::Number { min, max } => match value {
            Value::Number(n) if n.value >= *min && n.value <= *max => None,
            Value::Number(n) => Some(Problem::out_of_range(&n.raw)),
            _ => Some(Problem::wrong()),
        },
        Shape::Duration { min_ms, max_ms } => match value {
            Value::Duration(d) if (*min_ms..=*max_ms).contains(&d.millis) => None,
            Value::Duration(d) => Some(Problem::out_of_range(&d.raw)),
            Value::Number(n) => Some(Problem::help(format!(
                "add a unit: `{}ms`, `{}s`, `{}m` or `{}h`",
                n.raw, n.raw, n.raw, n.raw
            ))),
            _ => Some(Problem::wrong()),
        },
        Shape::Choice(names) => match value {
            Value::Path(p) if p.segments.len() == 1 => {
                let word = &p.segments[0].name;
                if names.contains(&word.as_str()) {
                    return None;
                }
                let mut problem = Problem::wrong();
                problem.message = Some(format!(
                    "`{word}` is not {}",
                    Shape::Choice(names).expected()
                ));
                if let Some(close) = suggest::best_match(word, names.iter().copied()) {
                    problem.help = Some(format!("did you mean `{close}`?"));
                } else {
                    problem.help = Some(format!("use {}", suggest::alternatives(names)));
                }
                Some(problem)
            }
            Value::Str(s) if names.contains(&s.value.as_str()) => Some(Problem::help(format!(
                "write it without quotes: `{}`",
                s.value
            ))),
            _ => Some(Problem::wrong()),
        },
        Shape::Name(_) | Shape::Names(_) => match value {
            Value::Path(_) => None,
            Value::Str(s) => Some(Problem::help(format!(
                "write the name without quotes: `{}`",
                s.value
            ))),
            _ => Some(Problem::wrong()),
        },
        Shape::Port => match value {
            Value::Typed { source: None, .. } => None,
            Value::Typed {
                source: Some(_), ..
            }
            | Value::Binding { .. } => {
                let mut problem = Problem::wrong();
                problem.help = Some(match target.kind {
                    DeclKind::Score => {
                        "a score input is given at run time with `--input name=VALUE`; \
                         write only `name: Type`"
                            .into()
                    }
                    DeclKind::Contract => {
                        "a contract only declares its inputs; bind them in the part that \
                         fulfils it: `input name = part.output`"
                            .into()
                    }
                    _ => "an output is produced by this part; write only `name: Type`".into(),
                });
                Some(problem)
            }
            _ => Some(Problem::wrong()),
        },
        Shape::PartInput => match value {
            Value::Typed { .. } | Value::Binding { .. } => None,
            _ => Some(Problem::wrong()),
        },
        Shape::Ensures => match value {
            Value::Call(_) | Value::Str(_) => None,
            Value::Path(p) => Some(Problem::help(format!(
                "call the check with its arguments: `{}(...)`",
                p.dotted()
            ))),
            _ => Some(Problem::wrong()),
        },
        Shape::Budget => match value {
            Value::Tagged { tag, value, .. } => {
                let units = ["tokens", "usd"];
                if !units.contains(&tag.name.as_str()) {
                    let mut problem = Problem::wrong();
                    problem.message = Some(format!(
                        "unknown budget unit `{}`: expected `tokens` or `usd`",
                        tag.name
                    ));
                    problem.help = suggest::best_match(&tag.name, units)
                        .map(|c| format!("did you mean `{c}`?"));
                    return Some(problem);
                }
                let (tokens_min, tokens_max) = limits::BUDGET_TOKENS;
                let (usd_min, usd_max) = limits::BUDGET_USD;
                let tokens = tag.name == "tokens";
                match value.as_ref() {
                    Value::Number(n)
                        if tokens
                            && n.integer
                            && n.value >= tokens_min as f64
                            && n.value <= tokens_max as f64 =>
                    {
                        None
                    }
                    Value::Number(n) if !tokens && n.value >= usd_min && n.value <= usd_max => None,
                    Value::Number(n) if n.value >= 0.0 && (n.integer || !tokens) => {
                        let mut problem = Problem::wrong();
                        problem.message = Some(if tokens {
                            format!(
                                "a budget of `{}` tokens is out of range: from {} to {} tokens",
                                n.raw,
                                group_digits(tokens_min),
                                group_digits(tokens_max)
                            )
                        } else {
                            format!(
                                "a budget of `{}` dollars is out of range: from {usd_min} to {} dollars",
                                n.raw,
                                max_text(usd_max)
                            )
                        });
                        Some(problem)
                    }
                    _ => Some(Problem::help(if tokens {
                        "write a whole number of tokens: `budget tokens 200_000`"
                    } else {
                        "write an amount in dollars: `budget usd 12.5`"
                    })),
                }
            }
            _ => Some(Problem::wrong()),
        },
        Shape::StringMap => match value {
            Value::Map(entries, _) => {
                if entries.iter().all(|e| matches!(e.value, Value::Str(_))) {
                    None
                } else {
                    Some(Problem::help("every value of the map must be a string"))
                }
            }
            _ => Some(Problem::wrong()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_has_unique_names_and_docs() {
        for kind in DeclKind::ALL {
            let providers: Vec<Option<&str>> = if *kind == DeclKind::Agent {
                PROVIDERS.iter().map(|p| Some(*p)).chain([None]).collect()
            } else {
                vec![None]
            };
            for provider in providers {
                let specs = settings_for(*kind, provider);
                for (i, s) in specs.iter().enumerate() {
                    assert!(!s.doc.is_empty() && s.example.starts_with(s.name));
                    assert!(
                        specs[i + 1..].iter().all(|o| o.name != s.name),
                        "{} twice in {:?} {:?}",
                        s.name,
                        kind,
                        provider
                    );
                }
            }
        }
    }

    #[test]
    fn provider_tables() {
        assert!(
            find_setting(DeclKind::Agent, Some("command"), "run")
                .unwrap()
                .required
        );
        assert!(
            find_setting(DeclKind::Agent, Some("openai"), "model")
                .unwrap()
                .required
        );
        assert!(find_setting(DeclKind::Agent, Some("mock"), "model").is_none());
        assert!(find_setting(DeclKind::Agent, None, "tier").is_some());
        assert_eq!(providers_with("model"), vec!["openai", "anthropic"]);
        assert_eq!(providers_with("temperature"), vec!["openai"]);
        assert!(providers_with("nothing").is_empty());
    }
}

#[cfg(test)]
mod check_tests {
    use super::super::testing::{base_with, check_one};
    use crate::diagnostics::Code;

    #[test]
    fn unknown_settings_suggest_close_ones() {
        let outcome = check_one(&base_with(
            "  complexity complex\n",
            "  complexity complex\n  brif \"x\"\n",
        ));
        let d = outcome.single(Code::E0104);
        assert_eq!(d.message, "unknown setting `brif` for parts");
        assert_eq!(d.help.as_deref(), Some("did you mean `brief`?"));
    }

    #[test]
    fn order_written_as_a_setting_points_to_sequence() {
        for (setting, help) in [
            (
                "needs model",
                "remove `needs` from the part and, after the part, write `sequence { model -> store }`",
            ),
            (
                "depends_on model",
                "remove `depends_on` from the part and, after the part, write `sequence { model -> store }`",
            ),
            (
                "after [model, api]",
                "remove `after` from the part and, after the part, write `sequence { [model, api] -> store }`",
            ),
            (
                "before docs",
                "remove `before` from the part and, after the part, write `sequence { store -> docs }`",
            ),
        ] {
            let outcome = check_one(&base_with(
                "  input link_type = model.link_type\n",
                &format!("  input link_type = model.link_type\n  {setting}\n"),
            ));
            let d = outcome.single(Code::E0104);
            assert_eq!(d.help.as_deref(), Some(help), "{setting}");
            assert_eq!(
                d.notes,
                vec!["the order of parts is not a setting of a part: `sequence` blocks declare it"]
            );
        }
    }

    #[test]
    fn settings_of_another_provider_say_whose_they_are() {
        let outcome = check_one(&base_with(
            "  model \"gpt-4.1\"\n",
            "  model \"gpt-4.1\"\n  run [\"x\"]\n",
        ));
        let d = outcome.single(Code::E0104);
        assert_eq!(
            d.notes,
            vec!["`run` is a setting of `command` agents, not of `openai` agents"]
        );
    }

    #[test]
    fn settings_of_another_declaration_say_whose_they_are() {
        let outcome = check_one(&base_with(
            "  accept \"the same URL twice yields the same slug\"\n",
            "  accept \"the same URL twice yields the same slug\"\n  owns \"src/**\"\n",
        ));
        let d = outcome.single(Code::E0104);
        assert_eq!(
            d.notes,
            vec!["`owns` is a setting of contracts and parts, not of intents"]
        );
    }

    #[test]
    fn wrong_value_kinds() {
        let outcome = check_one(&base_with(
            "  serves shorten\n  input",
            "  serves shorten\n  timeout \"15m\"\n  input",
        ));
        let d = outcome.single(Code::E0104);
        assert_eq!(
            d.message,
            "setting `timeout` expects a duration like `15m`, found a string"
        );
        let outcome = check_one(&base_with(
            "  serves shorten\n  input",
            "  serves shorten\n  timeout 15\n  input",
        ));
        let d = outcome.single(Code::E0104);
        assert_eq!(
            d.help.as_deref(),
            Some("add a unit: `15ms`, `15s`, `15m` or `15h`")
        );
        let outcome = check_one(&base_with("complexity complex", "complexity complx"));
        let d = outcome.single(Code::E0104);
        assert_eq!(
            d.message,
            "`complx` is not one of `routine`, `moderate` or `complex`"
        );
        assert_eq!(d.help.as_deref(), Some("did you mean `complex`?"));
        let outcome = check_one(&base_with(
            "complexity complex",
            "complexity complex, routine",
        ));
        let d = outcome.single(Code::E0104);
        assert_eq!(d.message, "setting `complexity` takes one value, found 2");
    }

    #[test]
    fn numbers_and_durations_out_of_range() {
        let outcome = check_one(&base_with(
            "  serves shorten\n  input",
            "  serves shorten\n  retries 4294967295\n  input",
        ));
        let d = outcome.single(Code::E0104);
        assert_eq!(
            d.message,
            "setting `retries` expects a whole number from 0 to 100, found `4294967295`"
        );
        assert_eq!(
            outcome.label_texts(d),
            vec!["4294967295"],
            "the label is on the value"
        );
        for (setting, message) in [
            (
                "retries -1",
                "expects a whole number from 0 to 100, found `-1`",
            ),
            ("retries 101", "found `101`"),
            (
                "timeout 169h",
                "expects a duration from 1ms to 168h, found `169h`",
            ),
            (
                "timeout 0s",
                "expects a duration from 1ms to 168h, found `0s`",
            ),
            (
                "estimate 721h",
                "expects a duration from 1ms to 720h, found `721h`",
            ),
        ] {
            let outcome = check_one(&base_with(
                "  serves shorten\n  input",
                &format!("  serves shorten\n  {setting}\n  input"),
            ));
            let d = outcome.single(Code::E0104);
            assert!(d.message.contains(message), "{setting}: {}", d.message);
        }
        // The bounds themselves are fine.
        for setting in [
            "retries 0",
            "retries 100",
            "timeout 1ms",
            "timeout 168h",
            "estimate 720h",
        ] {
            let outcome = check_one(&base_with(
                "  serves shorten\n  input",
                &format!("  serves shorten\n  {setting}\n  input"),
            ));
            outcome.assert_clean();
        }
        let outcome = check_one(&base_with(
            "  title \"URL shortener\"\n",
            "  title \"URL shortener\"\n  concurrency 10_001\n  budget tokens 1_000_000_000_001\n",
        ));
        let messages: Vec<&str> = outcome
            .checked
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(
            messages,
            [
                "setting `concurrency` expects a whole number from 1 to 10_000, found `10_001`",
                "a budget of `1_000_000_000_001` tokens is out of range: from 0 to 1_000_000_000_000 tokens",
            ]
        );
    }

    #[test]
    fn agent_numbers_out_of_range() {
        for (agent, setting, message) in [
            (
                "model \"gpt-4.1\"",
                "temperature 2.5",
                "expects a number from 0 to 2, found `2.5`",
            ),
            (
                "model \"gpt-4.1\"",
                "max_tokens 0",
                "from 1 to 10_000_000, found `0`",
            ),
            (
                "model \"gpt-4.1\"",
                "price_in 10001",
                "from 0 to 10_000, found `10001`",
            ),
            (
                "model \"gpt-4.1\"",
                "concurrency 0",
                "from 1 to 10_000, found `0`",
            ),
        ] {
            let outcome = check_one(&base_with(
                &format!("  {agent}\n"),
                &format!("  {agent}\n  {setting}\n"),
            ));
            let d = outcome.single(Code::E0104);
            assert!(d.message.contains(message), "{setting}: {}", d.message);
        }
    }

    #[test]
    fn single_settings_given_twice() {
        let outcome = check_one(&base_with(
            "complexity complex",
            "complexity complex\n  complexity complex",
        ));
        let d = outcome.single(Code::E0102);
        assert_eq!(d.message, "setting `complexity` is given twice");
        assert_eq!(outcome.label_texts(d), vec!["complexity", "complexity"]);
    }

    #[test]
    fn required_settings() {
        let outcome = check_one(&base_with("  run [\"aider\", \"{prompt_file}\"]\n", ""));
        let d = outcome.single(Code::E0105);
        assert_eq!(
            d.message,
            "agent `coder` is missing the required setting `run`"
        );
        assert_eq!(outcome.label_texts(d), vec!["coder"]);
        let outcome = check_one(&base_with("  model \"gpt-4.1\"\n", ""));
        outcome.single(Code::E0105);
    }

    #[test]
    fn protocols_are_a_choice_with_a_suggestion() {
        let outcome = check_one(&base_with(
            "  run [\"aider\", \"{prompt_file}\"]\n",
            "  run [\"claude\", \"-p\"]\n  protocol claude_jsn\n",
        ));
        let d = outcome.single(Code::E0104);
        assert!(
            d.message.contains("`claude_jsn` is not one of"),
            "{}",
            d.message
        );
        assert_eq!(d.help.as_deref(), Some("did you mean `claude_json`?"));
        // Only command agents have one.
        let outcome = check_one(&base_with(
            "  model \"gpt-4.1\"\n",
            "  model \"gpt-4.1\"\n  protocol plain\n",
        ));
        outcome.single(Code::E0104);
    }

    #[test]
    fn unknown_providers() {
        let outcome = check_one(&base_with("architect: openai", "architect: opnai"));
        let d = outcome.single(Code::E0502);
        assert_eq!(d.help.as_deref(), Some("did you mean `openai`?"));
        // Its `model` is not reported as unknown, nor as missing.
        let outcome = check_one(&base_with("architect: openai", "architect: bedrock"));
        assert_eq!(outcome.single(Code::E0502).help, None);
    }

    #[test]
    fn budgets_and_maps() {
        let outcome = check_one(&base_with(
            "  title \"URL shortener\"\n",
            "  title \"URL shortener\"\n  budget tokens 100, usd 2.5\n",
        ));
        outcome.assert_clean();
        let score = outcome.checked.model.score.clone().unwrap();
        assert_eq!(score.budget.tokens, Some(100));
        assert_eq!(score.budget.usd, Some(2.5));
        let outcome = check_one(&base_with(
            "  title \"URL shortener\"\n",
            "  title \"URL shortener\"\n  budget token 100\n",
        ));
        let d = outcome.single(Code::E0104);
        assert_eq!(d.help.as_deref(), Some("did you mean `tokens`?"));
        let outcome = check_one(&base_with(
            "  title \"URL shortener\"\n",
            "  title \"URL shortener\"\n  budget tokens 1\n  budget tokens 2\n",
        ));
        outcome.single(Code::E0102);
        let outcome = check_one(&base_with(
            "  run [\"aider\", \"{prompt_file}\"]\n",
            "  run [\"aider\", \"{prompt_file}\"]\n  env { A: \"1\", \"B-C\": \"2\" }\n  stdin prompt\n  protocol claude_json\n  instructions \"NOTES.md\"\n  key_env \"K\"\n",
        ));
        outcome.assert_clean();
        let coder = &outcome.checked.model.agents[1];
        assert_eq!(
            coder.provider,
            crate::model::Provider::Command {
                run: vec!["aider".into(), "{prompt_file}".into()],
                env: vec![("A".into(), "1".into()), ("B-C".into(), "2".into())],
                stdin_prompt: true,
                pass_env: vec![],
                protocol: crate::model::Protocol::ClaudeJson,
                instructions: Some("NOTES.md".into()),
                key_env: Some("K".into()),
            }
        );
    }
}
