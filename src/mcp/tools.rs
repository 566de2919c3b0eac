//! The MCP tools: each one the library call behind a `score` command, with
//! JSON Schemas for its input and its structured output (derived from the
//! types below), and its failures as tool errors carrying the diagnostics'
//! codes ([`ToolFailure`]).
//!
//! `check` reports what it found as its result (finding problems is what
//! it is for); the tools that need a score without errors (`build`, `plan`,
//! `graph`, `run`) fail with the diagnostics instead.

use super::{ScoreServer, ToolFailure, launch, run_state};
use crate::diagnostics::{self, Code};
use crate::driver::{self, PlanError, Planned};
use crate::plan::Plan;
use crate::source::{Origin, SourceMap};
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::{schemars, tool, tool_router};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What a tool returns. (The tools spell it out: the SDK's macro derives
/// the output schema from `Result<Json<T>, _>` as written.)
type ToolResult<T> = Result<Json<T>, ToolFailure>;

/// One diagnostic, with the fields of `score check --format json`.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct DiagnosticOut {
    /// The code, e.g. E0401 (`explain` tells what it means).
    pub code: String,
    /// error, warning or note.
    pub severity: String,
    pub message: String,
    /// The file of the primary position (null for a diagnostic without
    /// one); lines and columns are 1-based, columns in characters.
    pub file: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub end_line: Option<u32>,
    pub end_column: Option<u32>,
    pub labels: Vec<LabelOut>,
    pub notes: Vec<String>,
    /// How to fix it.
    pub help: Option<String>,
}

/// A place a diagnostic points at.
#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct LabelOut {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub message: String,
    /// Whether this is the diagnostic's own position.
    pub primary: bool,
}

/// The diagnostics of a program in the JSON form of `score check`.
fn diagnostics_out(sources: &SourceMap, found: &[diagnostics::Diagnostic]) -> Vec<DiagnosticOut> {
    found
        .iter()
        .filter_map(|d| serde_json::from_value(diagnostics::to_json(sources, d)).ok())
        .collect()
}

#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct CheckInput {
    /// Files or directories to check, relative to the server's directory
    /// (a directory stands for every `.score` file below it).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Check this text instead of files (an unsaved draft). Its imports
    /// resolve relative to the directory of `name`.
    pub text: Option<String>,
    /// The file the text stands for (default `draft.score`), shown in
    /// diagnostics.
    pub name: Option<String>,
    /// Count warnings as failures.
    #[serde(default)]
    pub deny_warnings: bool,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct CheckOutput {
    /// No error (and no warning with `deny_warnings`).
    pub ok: bool,
    pub errors: usize,
    pub warnings: usize,
    /// Every diagnostic, in the order `score check` reports them.
    pub diagnostics: Vec<DiagnosticOut>,
    /// The line `score check` closes with.
    pub summary: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ExplainInput {
    /// A diagnostic code, e.g. E0401.
    pub code: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct ExplainOutput {
    pub code: String,
    pub severity: String,
    pub title: String,
    /// Markdown: the rule, why it exists, a wrong and a right example.
    pub explanation: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct FormatInput {
    /// The text of a score.
    pub text: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct FormatOutput {
    /// The text in the canonical layout of `score fmt`.
    pub text: String,
    /// Whether it differs from the input.
    pub changed: bool,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct FileInput {
    /// The `.score` file, relative to the server's directory.
    pub file: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct BuildInput {
    /// The `.score` file, relative to the server's directory.
    pub file: String,
    /// Where to write the plan (default: beside the score, `NAME.plan.json`).
    pub output: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct BuildOutput {
    /// Where the plan was written.
    pub plan_path: String,
    pub score: String,
    pub title: String,
    pub tasks: usize,
    pub waves: usize,
    pub agents: Vec<String>,
    pub source_hash: String,
    /// The score's warnings (a score with errors has no plan).
    pub warnings: Vec<DiagnosticOut>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct PlanOutput {
    pub score: String,
    pub title: String,
    /// Every task in wave order.
    pub tasks: Vec<PlanTask>,
    /// Task ids by wave: the tasks of one wave may run together.
    pub waves: Vec<Vec<String>>,
    pub critical_path: CriticalPathOut,
    pub budget: BudgetOut,
    /// What will slow the run down.
    pub warnings: Vec<String>,
    /// The text `score plan` prints.
    pub summary: String,
    /// What a run now would do with each part (`score plan --diff`):
    /// `done` in the latest run, `cached`, or `run`, with the first reason
    /// (the field that changed, an upstream part that runs, no earlier
    /// result). Empty when the score's workspace cannot be read.
    pub preview: Vec<PreviewOut>,
}

/// One line of `score plan --diff`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct PreviewOut {
    pub part: String,
    /// done, cached or run.
    pub status: String,
    pub reason: String,
    /// 1-based.
    pub wave: usize,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ImportSpeckitInput {
    /// A spec-kit feature directory (with `tasks.md`, and `spec.md` if
    /// present) or a `tasks.md` file, relative to the server's directory.
    pub path: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct ImportSpeckitOutput {
    /// The score, canonically formatted: check it with `check` (`text`).
    pub score: String,
    /// What could not be read or mapped, as `tasks.md:LINE: message`.
    pub warnings: Vec<String>,
    pub tasks: usize,
    /// Tasks checked off (`[X]`), kept and marked done.
    pub done: usize,
    pub phases: usize,
    /// Runs of `[P]` tasks that may run at the same time.
    pub groups: usize,
    pub intents: usize,
    /// Every `[P]` claim the checker's boundary proof refutes.
    pub refuted: Vec<RefutedOut>,
    /// Anything else `score check` reports about the imported score.
    pub findings: Vec<String>,
    /// The report `score import speckit --report` prints.
    pub summary: String,
}

/// Two tasks marked `[P]` that may both write one file.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct RefutedOut {
    pub first: String,
    pub first_line: usize,
    pub second: String,
    pub second_line: usize,
    /// A path both may write.
    pub path: String,
    /// "T005 and T006 are marked [P] but both write ... (tasks.md:41, :42)".
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct PlanTask {
    pub id: String,
    pub agent: String,
    /// routine, moderate or complex.
    pub complexity: String,
    pub estimate_ms: u64,
    /// 1-based, as `score plan` shows it.
    pub wave: usize,
    pub depends_on: Vec<String>,
    /// Whether it is on the critical path.
    pub critical: bool,
    /// Who must approve its result, if anyone.
    pub approver: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct CriticalPathOut {
    /// Task ids, first to last.
    pub tasks: Vec<String>,
    /// The shortest the run can take.
    pub estimate_ms: u64,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct BudgetOut {
    /// The score's budget (null: the run is not limited).
    pub score: Option<BudgetValue>,
    /// How many parts have a budget of their own.
    pub parts_with_budget: usize,
    /// Those budgets added up.
    pub parts_total: Option<BudgetValue>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct BudgetValue {
    pub tokens: Option<u64>,
    pub usd: Option<f64>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct GraphOutput {
    /// The DAG of parts as a Mermaid flowchart (`score graph --format mermaid`).
    pub mermaid: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct RunInput {
    /// The score (`.score`) or plan (`.json`) to run, relative to the
    /// server's directory.
    pub file: String,
    /// The workspace (default: the score's `workspace`).
    pub workspace: Option<String>,
    /// Run only these parts and what they need.
    #[serde(default)]
    pub only: Vec<String>,
    /// Play NAME's parts with agent OTHER: `NAME=OTHER` (`*=mock`: every
    /// part by the built-in mock).
    #[serde(default)]
    pub agents: Vec<String>,
    /// Score inputs, `NAME=VALUE`.
    #[serde(default)]
    pub inputs: Vec<String>,
    /// At most this many tasks at once.
    pub jobs: Option<usize>,
    /// Continue this interrupted or paused run instead of starting one.
    pub resume: Option<String>,
    /// Run every task, even those cached from an earlier run.
    #[serde(default)]
    pub fresh: bool,
    /// Run even if the workspace has uncommitted changes.
    #[serde(default)]
    pub allow_dirty: bool,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct RunOutput {
    /// The run's id: give it to `status`, `approve`, `reject`.
    pub run_id: String,
    /// The workspace the run plays in (its journal is in
    /// `.score/runs/RUN_ID/`).
    pub workspace: String,
    /// The `score run` process.
    pub pid: u32,
    /// Resources to read: the journal and the report.
    pub journal: String,
    pub report: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct StatusInput {
    /// The run (default: the latest in the workspace).
    pub run_id: Option<String>,
    /// The workspace of the run (default: the server's directory and its
    /// parents).
    pub workspace: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct ApproveInput {
    /// The run, as `run` or `status` named it.
    pub run_id: String,
    /// The part waiting for approval.
    pub part: String,
    /// The workspace of the run (default: the server's directory and its
    /// parents).
    pub workspace: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct ApproveOutput {
    pub message: String,
    /// Continue the run with the `run` tool and this as `resume`.
    pub run_id: String,
}

#[tool_router(router = tools, vis = "pub(self)")]
impl ScoreServer {
    /// `score check`: files, directories, or a text.
    #[tool(
        description = "Check scores (syntax, names, types, order, boundaries, agents, coverage) and return every diagnostic with its code and position, as `score check --format json`. Give `paths`, or `text` to check a draft.",
        annotations(read_only_hint = true)
    )]
    pub(crate) fn check(
        &self,
        Parameters(input): Parameters<CheckInput>,
    ) -> Result<Json<CheckOutput>, ToolFailure> {
        let output = match &input.text {
            Some(text) => self.check_text(text, input.name.as_deref(), input.deny_warnings),
            None => self.check_paths(&input.paths, input.deny_warnings)?,
        };
        self.scrub(output)
    }

    #[tool(
        description = "Explain a diagnostic code (e.g. E0401): the rule, why it exists, a wrong and a right example.",
        annotations(read_only_hint = true)
    )]
    pub(crate) fn explain(
        &self,
        Parameters(input): Parameters<ExplainInput>,
    ) -> Result<Json<ExplainOutput>, ToolFailure> {
        let Some(code) = Code::parse(input.code.trim()) else {
            return Err(self.failure(ToolFailure::new(
                "usage",
                format!("`{}` is not a diagnostic code of score", input.code),
                Some("read the resources `score://diagnostics/CODE` for the list of codes".into()),
            )));
        };
        let info = diagnostics::CODES
            .iter()
            .find(|info| info.code == code)
            .expect("a parsed code is in the registry");
        self.scrub(ExplainOutput {
            code: code.as_str().to_string(),
            severity: info.severity.as_str().to_string(),
            title: info.title.to_string(),
            explanation: diagnostics::explain(code),
        })
    }

    #[tool(
        description = "Format the text of a score in the one canonical layout (`score fmt`). A text with syntax errors is not formatted: the errors come back.",
        annotations(read_only_hint = true)
    )]
    pub(crate) fn format(
        &self,
        Parameters(input): Parameters<FormatInput>,
    ) -> Result<Json<FormatOutput>, ToolFailure> {
        let mut sources = SourceMap::new();
        let file = sources.add("draft.score", Origin::Memory, input.text.clone());
        match crate::fmt::format_source(file, &input.text) {
            Ok(text) => self.scrub(FormatOutput {
                changed: text != input.text,
                text,
            }),
            Err(errors) => Err(self.source_failure(
                "the text has syntax errors, so it cannot be formatted",
                diagnostics_out(&sources, &errors),
            )),
        }
    }

    #[tool(
        description = "Compile a score into its JSON execution plan (`score build`), write it, and return where with a summary.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true
        )
    )]
    pub(crate) fn build(
        &self,
        Parameters(input): Parameters<BuildInput>,
    ) -> Result<Json<BuildOutput>, ToolFailure> {
        let file = self.resolve(&input.file);
        let planned = self.compile(&file)?;
        let plan_path = match &input.output {
            Some(output) => self.resolve(output),
            None => file.with_extension("plan.json"),
        };
        std::fs::write(&plan_path, crate::plan::to_json(&planned.plan)).map_err(|e| {
            self.failure(ToolFailure::new(
                "io",
                format!("cannot write `{}`: {e}", plan_path.display()),
                Some("give a writable `output` path".into()),
            ))
        })?;
        let plan = &planned.plan;
        let agents: BTreeSet<&str> = plan.tasks.iter().map(|t| t.agent.as_str()).collect();
        self.scrub(BuildOutput {
            plan_path: plan_path.display().to_string(),
            score: plan.score.name.clone(),
            title: plan.score.title.clone(),
            tasks: plan.tasks.len(),
            waves: plan.waves.len(),
            agents: agents.into_iter().map(String::from).collect(),
            source_hash: plan.source_hash.clone(),
            warnings: warnings_of(&planned),
        })
    }

    #[tool(
        description = "Summarise what a run of a score would do (`score plan`): waves, each task's agent, complexity and estimate, the critical path, the budget, and what will slow it down.",
        annotations(read_only_hint = true)
    )]
    pub(crate) fn plan(
        &self,
        Parameters(input): Parameters<FileInput>,
    ) -> Result<Json<PlanOutput>, ToolFailure> {
        let file = self.resolve(&input.file);
        let planned = self.compile(&file)?;
        let mut output = plan_output(&planned.plan);
        output.preview = crate::runtime::workspace_of(&file, &planned.plan, None, &self.root)
            .ok()
            .and_then(|workspace| {
                crate::runtime::plan_diff(&planned.plan, &workspace, &[], &self.root).ok()
            })
            .unwrap_or_default()
            .into_iter()
            .map(|p| PreviewOut {
                part: p.part,
                status: p.status.as_str().to_string(),
                reason: p.reason,
                wave: p.wave,
            })
            .collect();
        self.scrub(output)
    }

    #[tool(
        description = "Import a spec-kit feature (`tasks.md`, and `spec.md` if present) as a score (`score import speckit`): one part per task owning the files it names, phases in order, consecutive [P] tasks together, user stories as intents; and every [P] claim the checker refutes (two tasks that would write the same file).",
        annotations(read_only_hint = true)
    )]
    pub(crate) fn import_speckit(
        &self,
        Parameters(input): Parameters<ImportSpeckitInput>,
    ) -> Result<Json<ImportSpeckitOutput>, ToolFailure> {
        let imported = crate::import::speckit::import(&self.resolve(&input.path)).map_err(|e| {
            self.failure(ToolFailure::new(
                "import",
                e.to_string(),
                Some(e.help().to_string()),
            ))
        })?;
        let report = &imported.report;
        self.scrub(ImportSpeckitOutput {
            warnings: imported.warnings.iter().map(ToString::to_string).collect(),
            tasks: report.tasks,
            done: report.done,
            phases: report.phases,
            groups: report.groups,
            intents: report.intents,
            refuted: report
                .refuted
                .iter()
                .map(|r| RefutedOut {
                    first: r.first.id.clone(),
                    first_line: r.first.line,
                    second: r.second.id.clone(),
                    second_line: r.second.line,
                    path: r.path.clone(),
                    message: r.to_string(),
                })
                .collect(),
            findings: report.findings.clone(),
            summary: report.summary(),
            score: imported.score,
        })
    }

    #[tool(
        description = "Draw the DAG of a score's parts, with agents, complexity and waves, as a Mermaid flowchart (`score graph --format mermaid`).",
        annotations(read_only_hint = true)
    )]
    pub(crate) fn graph(
        &self,
        Parameters(input): Parameters<FileInput>,
    ) -> Result<Json<GraphOutput>, ToolFailure> {
        let planned = self.compile(&self.resolve(&input.file))?;
        let picture = crate::graph::render(&planned.plan, crate::graph::GraphFormat::Mermaid)
            .map_err(|e| self.failure(ToolFailure::new("graph", e.to_string(), None)))?;
        self.scrub(GraphOutput {
            mermaid: String::from_utf8_lossy(&picture).into_owned(),
        })
    }

    #[tool(
        description = "Start `score run` on a score in the background (the same journal, lock and sandbox as on the command line) and return the run's id at once; follow it with `status`.",
        annotations(
            read_only_hint = false,
            destructive_hint = false,
            open_world_hint = true
        )
    )]
    pub(crate) async fn run(
        &self,
        Parameters(input): Parameters<RunInput>,
    ) -> Result<Json<RunOutput>, ToolFailure> {
        let file = self.resolve(&input.file);
        // A score with errors fails here, with its diagnostics, rather than
        // in a child process whose stderr is text.
        let planned = match driver::score_or_plan(&file) {
            Ok(planned) => planned,
            Err(error) => return Err(self.plan_failure(&error)),
        };
        let cwd = self.root.as_path();
        let workspace = crate::runtime::workspace_of(
            &file,
            &planned.plan,
            input.workspace.as_deref().map(Path::new),
            cwd,
        )
        .map_err(|r| self.failure(ToolFailure::new("usage", r.message, Some(r.help))))?;
        let request = launch::RunRequest {
            exe: self.exe.to_path_buf(),
            file,
            cwd: cwd.to_path_buf(),
            workspace: input.workspace.map(|_| workspace.clone()),
            only: input.only,
            agents: input.agents,
            inputs: input.inputs,
            jobs: input.jobs,
            resume: input.resume,
            fresh: input.fresh,
            allow_dirty: input.allow_dirty,
        };
        let started = launch::start(&request)
            .await
            .map_err(|message| self.failure(ToolFailure::new("run", message, None)))?;
        self.know_run(&started.run_id, &workspace);
        self.scrub(RunOutput {
            journal: format!("score://runs/{}/journal", started.run_id),
            report: format!("score://runs/{}/report", started.run_id),
            run_id: started.run_id,
            workspace: workspace.display().to_string(),
            pid: started.pid,
        })
    }

    #[tool(
        description = "The state of a run, read from its journal: running, succeeded, failed, paused (waiting for approvals), cancelled, over budget or interrupted; each task's status, attempts, tokens and cost; the parts waiting for approval.",
        annotations(read_only_hint = true)
    )]
    pub(crate) fn status(
        &self,
        Parameters(input): Parameters<StatusInput>,
    ) -> Result<Json<run_state::RunState>, ToolFailure> {
        let (workspace, run_id) =
            self.find_run(input.run_id.as_deref(), input.workspace.as_deref())?;
        self.know_run(&run_id, &workspace);
        let state = run_state::read(&workspace, &run_id)
            .map_err(|message| self.failure(ToolFailure::new("run", message, None)))?;
        self.scrub(state)
    }

    #[tool(
        description = "Approve a part's result that a run is waiting for (`score approve`); then continue the run with `run` and `resume`.",
        annotations(read_only_hint = false, destructive_hint = false)
    )]
    pub(crate) fn approve(
        &self,
        Parameters(input): Parameters<ApproveInput>,
    ) -> Result<Json<ApproveOutput>, ToolFailure> {
        self.answer(input, true)
    }

    #[tool(
        description = "Reject a part's result that a run is waiting for (`score approve --reject`): the part fails, and runs again when the run is resumed.",
        annotations(read_only_hint = false, destructive_hint = true)
    )]
    pub(crate) fn reject(
        &self,
        Parameters(input): Parameters<ApproveInput>,
    ) -> Result<Json<ApproveOutput>, ToolFailure> {
        self.answer(input, false)
    }
}

impl ScoreServer {
    fn check_text(&self, text: &str, name: Option<&str>, deny_warnings: bool) -> CheckOutput {
        let name = name.unwrap_or("draft.score");
        let path = self.resolve(name);
        let base = path.parent().unwrap_or(&self.root).to_path_buf();
        let checked = driver::check_source(name, text.to_string(), &base);
        let mut tally = driver::Tally::default();
        tally.add(checked.diagnostics());
        let failed = tally.errors > 0 || (deny_warnings && tally.warnings > 0);
        CheckOutput {
            ok: !failed,
            errors: tally.errors,
            warnings: tally.warnings,
            diagnostics: diagnostics_out(checked.sources(), checked.diagnostics()),
            summary: if failed {
                format!("error: `{name}` failed the check: {tally}")
            } else {
                format!("checked `{name}`: {tally}")
            },
        }
    }

    fn check_paths(
        &self,
        paths: &[String],
        deny_warnings: bool,
    ) -> Result<CheckOutput, ToolFailure> {
        let paths: Vec<PathBuf> = if paths.is_empty() {
            vec![self.root.to_path_buf()]
        } else {
            paths.iter().map(|p| self.resolve(p)).collect()
        };
        let report = driver::check(&paths).map_err(|e| {
            self.failure(ToolFailure::new("io", e.to_string(), Some(e.help().into())))
        })?;
        Ok(CheckOutput {
            ok: !report.failed(deny_warnings),
            errors: report.tally.errors,
            warnings: report.tally.warnings,
            diagnostics: report
                .programs
                .iter()
                .flat_map(|(program, fresh)| diagnostics_out(program.sources(), fresh))
                .collect(),
            summary: report.summary(deny_warnings),
        })
    }

    /// The plan of a `.score` file, or the failure with its diagnostics.
    fn compile(&self, file: &Path) -> Result<Planned, ToolFailure> {
        driver::compile(file).map_err(|e| self.plan_failure(&e))
    }

    fn plan_failure(&self, error: &PlanError) -> ToolFailure {
        match error {
            PlanError::Check(program) => self.source_failure(
                &format!("`{}` failed the check", program.entry.display()),
                diagnostics_out(program.sources(), program.diagnostics()),
            ),
            PlanError::Build { program, error } if error.diagnostic().is_some() => {
                let located: Vec<_> = error.diagnostic().into_iter().collect();
                self.source_failure(
                    &format!("no plan can be built from `{}`", program.entry.display()),
                    diagnostics_out(program.sources(), &located),
                )
            }
            other => {
                let (message, help) = other
                    .usage()
                    .unwrap_or_else(|| ("the score has no plan".into(), None));
                self.failure(ToolFailure::new("usage", message, help))
            }
        }
    }

    /// A failure in the sources: its code is the first error's.
    fn source_failure(&self, message: &str, diagnostics: Vec<DiagnosticOut>) -> ToolFailure {
        let code = diagnostics
            .iter()
            .find(|d| d.severity == "error")
            .or(diagnostics.first())
            .map_or_else(|| "error".to_string(), |d| d.code.clone());
        let codes: BTreeSet<&str> = diagnostics.iter().map(|d| d.code.as_str()).collect();
        let mut failure = ToolFailure::new(
            &code,
            format!(
                "{message}: {}",
                codes.into_iter().collect::<Vec<_>>().join(", ")
            ),
            Some("fix the diagnostics (`explain` a code), then call the tool again".into()),
        );
        failure.diagnostics = diagnostics;
        self.failure(failure)
    }

    /// `failure` with every secret masked.
    pub(super) fn failure(&self, failure: ToolFailure) -> ToolFailure {
        ToolFailure {
            code: failure.code,
            message: self.clean(&failure.message),
            help: failure.help.map(|h| self.clean(&h)),
            diagnostics: failure
                .diagnostics
                .into_iter()
                .map(|d| self.scrubbed(d))
                .collect(),
        }
    }

    /// A tool's result with every secret masked.
    fn scrub<T: Serialize + DeserializeOwned>(&self, value: T) -> ToolResult<T> {
        Ok(Json(self.scrubbed(value)))
    }

    fn scrubbed<T: Serialize + DeserializeOwned>(&self, value: T) -> T {
        if self.redactor.is_empty() {
            return value;
        }
        // Masking keeps every string a string, so the value reads back.
        serde_json::from_value(self.clean_json(&value)).unwrap_or(value)
    }

    /// The workspace and id of the run a request names (the latest when it
    /// names none): where the request says, else where the server last saw
    /// that run, else the server's directory and those above it.
    fn find_run(
        &self,
        run_id: Option<&str>,
        workspace: Option<&str>,
    ) -> Result<(PathBuf, String), ToolFailure> {
        let not_found = |message: String, help: String| {
            self.failure(ToolFailure::new("run", message, Some(help)))
        };
        match run_id {
            Some(id) if workspace.is_none() && self.known_runs().contains_key(id) => {
                Ok((self.known_runs()[id].clone(), id.to_string()))
            }
            Some(id) => {
                let flag = workspace.map(Path::new);
                let dir = crate::runtime::workspace_of_run(id, flag, &self.root)
                    .map_err(|r| not_found(r.message, r.help))?;
                Ok((dir, id.to_string()))
            }
            None => {
                let dir = self.workspace(workspace);
                let latest = crate::runtime::journal::RunsDir::new(&dir).latest();
                latest.map(|id| (dir.clone(), id)).ok_or_else(|| {
                    not_found(
                        format!("there is no run in `{}`", dir.join(".score/runs").display()),
                        "start one with the `run` tool, or give the `workspace` of a run".into(),
                    )
                })
            }
        }
    }

    fn answer(&self, input: ApproveInput, approve: bool) -> ToolResult<ApproveOutput> {
        let (workspace, run_id) = self.find_run(Some(&input.run_id), input.workspace.as_deref())?;
        let message = crate::runtime::approve(&workspace, &run_id, &input.part, approve)
            .map_err(|m| self.failure(ToolFailure::new("approval", m, None)))?;
        self.scrub(ApproveOutput { message, run_id })
    }
}

/// The tools, with schemas every client reads without complaint: schemars
/// marks integers with formats of its own (`uint64`, `uint32`, `double`)
/// that JSON Schema does not define, and some clients (Claude Code) warn
/// about each one. The types already say what they need to.
pub(super) fn router() -> rmcp::handler::server::router::tool::ToolRouter<ScoreServer> {
    let mut router = ScoreServer::tools();
    for route in router.map.values_mut() {
        let mut input = (*route.attr.input_schema).clone();
        standard_formats_only(&mut input);
        route.attr.input_schema = std::sync::Arc::new(input);
        if let Some(output) = &route.attr.output_schema {
            let mut output = (**output).clone();
            standard_formats_only(&mut output);
            route.attr.output_schema = Some(std::sync::Arc::new(output));
        }
    }
    router
}

/// Removes the `format`s of numbers (schemars' own) from a schema, at every
/// depth.
fn standard_formats_only(schema: &mut serde_json::Map<String, serde_json::Value>) {
    let numeric = schema
        .get("format")
        .and_then(|f| f.as_str())
        .is_some_and(|f| {
            f.starts_with("uint") || f.starts_with("int") || f == "double" || f == "float"
        });
    if numeric {
        schema.remove("format");
    }
    for value in schema.values_mut() {
        match value {
            serde_json::Value::Object(inner) => standard_formats_only(inner),
            serde_json::Value::Array(items) => items
                .iter_mut()
                .filter_map(serde_json::Value::as_object_mut)
                .for_each(standard_formats_only),
            _ => {}
        }
    }
}

fn warnings_of(planned: &Planned) -> Vec<DiagnosticOut> {
    planned.program.as_ref().map_or_else(Vec::new, |program| {
        diagnostics_out(program.sources(), program.diagnostics())
    })
}

/// `score plan` as data.
fn plan_output(plan: &Plan) -> PlanOutput {
    let critical: BTreeSet<&str> = plan
        .critical_path
        .tasks
        .iter()
        .map(String::as_str)
        .collect();
    let budget = |b: &crate::plan::Budget| BudgetValue {
        tokens: b.tokens,
        usd: b.usd,
    };
    let (parts_with_budget, parts_total) = crate::plan::summary::parts_budget(plan);
    PlanOutput {
        score: plan.score.name.clone(),
        title: plan.score.title.clone(),
        tasks: plan
            .tasks
            .iter()
            .map(|t| PlanTask {
                id: t.id.clone(),
                agent: t.agent.clone(),
                complexity: t.complexity.as_str().to_string(),
                estimate_ms: t.estimate_ms,
                wave: t.wave + 1,
                depends_on: t.depends_on.clone(),
                critical: critical.contains(t.id.as_str()),
                approver: t.approve.clone(),
            })
            .collect(),
        waves: plan.waves.clone(),
        critical_path: CriticalPathOut {
            tasks: plan.critical_path.tasks.clone(),
            estimate_ms: plan.critical_path.estimate_ms,
        },
        budget: BudgetOut {
            score: plan
                .score
                .budget
                .as_ref()
                .filter(|b| !b.is_empty())
                .map(budget),
            parts_with_budget,
            parts_total: (parts_with_budget > 0).then(|| budget(&parts_total)),
        },
        warnings: crate::plan::summary::warnings(plan),
        summary: crate::plan::summary(plan),
        preview: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_schemas_without_schemars_own_formats() {
        let router = router();
        let mut names: Vec<&str> = router.map.keys().map(|k| k.as_ref()).collect();
        names.sort();
        assert_eq!(
            names,
            [
                "approve",
                "build",
                "check",
                "explain",
                "format",
                "graph",
                "import_speckit",
                "plan",
                "reject",
                "run",
                "status"
            ]
        );
        for route in router.map.values() {
            let output = route.attr.output_schema.as_ref();
            let output =
                output.unwrap_or_else(|| panic!("{} has no output schema", route.attr.name));
            for schema in [&route.attr.input_schema, output] {
                let text = serde_json::to_string(&**schema).unwrap();
                assert!(!text.contains("uint"), "{}: {text}", route.attr.name);
                assert!(!text.contains("\"double\""), "{}: {text}", route.attr.name);
            }
        }
    }

    #[test]
    fn the_plan_as_data_says_what_score_plan_prints() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("quickstart.score");
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/quickstart");
        std::fs::copy(source.join("quickstart.score"), &file).unwrap();
        let Ok(planned) = driver::compile(&file) else {
            panic!("the quickstart compiles")
        };
        let plan = plan_output(&planned.plan);
        assert_eq!(plan.score, "quickstart");
        assert_eq!(plan.waves.len(), 3);
        assert_eq!(plan.tasks.len(), 5);
        assert_eq!(plan.tasks[0].wave, 1);
        assert_eq!(
            plan.critical_path.tasks.first().map(String::as_str),
            Some("plan")
        );
        assert!(plan.tasks.iter().filter(|t| t.critical).count() >= 2);
        assert!(plan.summary.contains("Critical path"));
        assert_eq!(
            plan.budget.score.is_none(),
            planned.plan.score.budget.is_none()
        );
    }
}
