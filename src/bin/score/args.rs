//! The command line's flags: clap's derive over one enum of subcommands.
//! The doc comments are the help text (`score help COMMAND`), so they say
//! what each flag does for a user, not how it is implemented.

use crate::output::parse_graph_format;
use clap::{Parser, Subcommand, ValueEnum};
use score::diagnostics::ColorChoice;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "score",
    version,
    about = "Check, compile and run architecture scores: intents, contracts, agents, parts and sequences",
    long_about = None,
    propagate_version = true,
    arg_required_else_help = true
)]
pub(crate) struct Cli {
    /// When to colour diagnostics.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto)]
    pub(crate) color: ColorChoice,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// rustc-style text on stderr
    Human,
    /// JSON Lines on stdout, one object per diagnostic
    Json,
}

/// How `score runs` and `score status` print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum StateFormat {
    /// Text on stdout, for people
    Human,
    /// JSON on stdout, for scripts
    Json,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Check scores: syntax, names, types, order, boundaries, agents, coverage.
    ///
    /// Each FILE is checked as a program with everything it imports. A
    /// directory stands for every `.score` file below it, except those that
    /// another file imports (those are checked as part of their importer).
    /// With no path, the current directory is checked.
    Check {
        /// Files or directories to check.
        paths: Vec<PathBuf>,
        /// Output format for diagnostics.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Treat warnings as errors (exit 1 when there is any).
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Format scores in place, in the one canonical layout.
    Fmt {
        /// Files or directories to format (default: the current directory).
        paths: Vec<PathBuf>,
        /// Change nothing; list the files that would change and exit 1 if any.
        #[arg(long)]
        check: bool,
    },
    /// Compile a score into its JSON execution plan (stdout, or `-o FILE`).
    Build {
        /// The score to compile.
        file: PathBuf,
        /// Where to write the plan (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Draw the DAG of parts, with agents, complexity and waves.
    Graph {
        /// The score to draw.
        file: PathBuf,
        /// dot or mermaid (text); svg or png (rendered by Graphviz `dot`).
        #[arg(long, default_value = "dot", value_parser = parse_graph_format)]
        format: score::graph::GraphFormat,
        /// Where to write the picture (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Summarise the plan: waves, critical path, complexity per agent, budget.
    ///
    /// With `--diff`: per part, what a run now would do (`done` in the
    /// latest run, `cached`, or `run`) and the first reason it runs.
    Plan {
        /// The score to summarise.
        file: PathBuf,
        /// Compare with the workspace's cache and latest run: per part
        /// `done`, `cached` or `run`, and why.
        #[arg(long)]
        diff: bool,
        /// With `--diff`: `human` (a table) or `json` (one object per part
        /// and line).
        #[arg(long, value_enum, default_value_t = Format::Human, requires = "diff")]
        format: Format,
        /// With `--diff`: a score input's value (NAME=VALUE or NAME=@FILE);
        /// an input not given is taken to be unchanged.
        #[arg(long, value_name = "NAME=VALUE", requires = "diff")]
        input: Vec<String>,
        /// With `--diff`: the workspace (default: the score's `workspace`).
        #[arg(long, value_name = "DIR", requires = "diff")]
        workspace: Option<PathBuf>,
    },
    /// Explain a diagnostic code, with a wrong and a right example.
    Explain {
        /// The code, e.g. E0401. Without it, every code is listed.
        code: Option<String>,
    },
    /// Run the language server over stdio (for editors).
    Lsp,
    /// Serve the compiler and the conductor to AI agents over the Model
    /// Context Protocol: stdio by default, Streamable HTTP with `--http`.
    ///
    /// Tools: check, explain, format, build, plan, graph, run, status,
    /// approve, reject. Resources: the language reference, the stdlib, the
    /// diagnostics' explanations, runs' journals and reports. See docs/mcp.md.
    Mcp {
        /// Serve over Streamable HTTP at `http://ADDR/mcp` instead of stdio
        /// (a loopback address, e.g. 127.0.0.1:8765).
        #[arg(long, value_name = "ADDR")]
        http: Option<String>,
        /// Allow `--http` on an address that is not loopback: anyone who
        /// reaches it can run scores as you.
        #[arg(long, requires = "http")]
        allow_remote: bool,
    },
    /// Run a score (or a plan built by `score build`): dispatch its parts to
    /// their agents in parallel, verify what they return, journal every event.
    ///
    /// The run's journal, outputs and logs go to `.score/runs/RUN_ID/` in the
    /// workspace. Exit status: 0 when every task succeeded (and, with
    /// `--merge`, its work was merged), 1 otherwise (a task failed, or
    /// `--merge` was refused at the end: a conflict, or changes made during
    /// the run; the work stays on `score/RUN_ID`), 130 when cancelled with
    /// Ctrl-C, 2 when the run could not start (`--merge` into a tree with
    /// uncommitted changes included). Uncommitted edits of the score's own
    /// files (the `.score` run and those it imports) are played, not a
    /// dirty tree.
    Run(RunArgs),
    /// Draft a score from a specification, with the checker in the loop.
    ///
    /// An agent is given the specification, the language reference and the
    /// standard library, and writes a score; what `score check` finds goes
    /// back to it until the score checks clean or the rounds run out. Only
    /// a clean score is written (to FILE, or standard output). Every round
    /// is journaled like a run in `.score/runs/` of the current directory.
    /// Exit status: 0 a clean score, 1 none after every round, 2 the draft
    /// could not start, 130 cancelled.
    Draft {
        /// The specification: Markdown or any text.
        spec: PathBuf,
        /// The agent that drafts: an agent of `--agents FILE`, or else of
        /// the standard library (claude_code, codex, ...). Default: the
        /// `default_agent` of `--agents FILE`.
        #[arg(long, value_name = "NAME")]
        agent: Option<String>,
        /// A score that declares the agents to draft with (its other
        /// declarations are ignored).
        #[arg(long, value_name = "FILE")]
        agents: Option<PathBuf>,
        /// Where to write the score (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// At most N rounds of answer and check (1 to 100).
        #[arg(long, value_name = "N", default_value_t = score::draft::DEFAULT_ROUNDS)]
        rounds: u32,
        /// Replace the output file if it exists.
        #[arg(long)]
        force: bool,
        /// How much of the language each prompt carries: `full` (the
        /// reference and the commented standard library, about 15k tokens)
        /// or `brief` (headings, tables and examples: for small contexts).
        #[arg(long, value_enum, default_value_t = DraftReference::Full)]
        reference: DraftReference,
    },
    /// Check that each agent of a score can play its parts: its program on
    /// PATH and its version, its key variable set (never printed); with
    /// `--live`, a trivial prompt answered. One line per agent; exit 1 when
    /// one cannot play its parts.
    Doctor {
        /// The score (`.score`) or plan (`.json`).
        file: PathBuf,
        /// Also have each agent answer a trivial prompt (spends a little).
        #[arg(long)]
        live: bool,
        /// Check agent OTHER for NAME's parts, as `score run --agent` would.
        #[arg(long, value_name = "NAME=OTHER")]
        agent: Vec<String>,
    },
    /// Remove what old runs left: the parts' checkouts and refs, all listed
    /// before anything is removed.
    ///
    /// Integration branches `score/RUN_ID` (the results) are kept unless
    /// `--branches`, and even then only those merged into HEAD unless
    /// `--force`; journals in `.score/runs/` are kept unless `--runs`.
    Clean {
        /// The workspace (default: the current directory).
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
        /// Also delete the runs' integration branches `score/RUN_ID` that
        /// HEAD contains.
        #[arg(long)]
        branches: bool,
        /// With `--branches`: also the integration branches not merged into
        /// HEAD (their work is lost).
        #[arg(long)]
        force: bool,
        /// Also delete the runs' journals, outputs and logs (`.score/runs/`)
        /// and the cache (`.score/cache/`).
        #[arg(long)]
        runs: bool,
        /// List what would be removed; remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Approve (or reject) a part's result that a run is waiting for.
    ///
    /// Then continue the run with `score run FILE --resume RUN_ID`.
    Approve {
        /// The run, as `score run` named it (e.g. 20261124-153012-7f3a).
        run: String,
        /// The part waiting for approval.
        part: String,
        /// Reject the result instead: the part fails, and runs again on resume.
        #[arg(long)]
        reject: bool,
        /// The workspace of the run (default: the nearest directory, from the
        /// current one up, that holds the run in `.score/runs/`).
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
    },
    /// List the runs of a workspace: id, start, status, parts done and
    /// failed, cost, duration (oldest first).
    Runs {
        /// The workspace (default: the nearest directory, from the current
        /// one up, that holds `.score/runs/`).
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
        /// `human` (a table) or `json` (an array of objects).
        #[arg(long, value_enum, default_value_t = StateFormat::Human)]
        format: StateFormat,
    },
    /// Show one run's state: what runs now, what waits, what failed and why.
    ///
    /// Exit status 0 when the run succeeded, is playing or waits for
    /// approvals; 1 when it failed, was cancelled, interrupted or ran out
    /// of budget; 2 when there is no such run.
    Status {
        /// The run (default: the latest).
        run: Option<String>,
        /// The workspace of the run (default: the nearest directory, from
        /// the current one up, that holds `.score/runs/`).
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
        /// `human` (text) or `json` (the whole state of the run).
        #[arg(long, value_enum, default_value_t = StateFormat::Human)]
        format: StateFormat,
    },
    /// Serve the live page of a workspace's runs (see docs/ui.md).
    ///
    /// Prints the URL (with the key that shows each run's approval token)
    /// and serves until Ctrl-C. Listens on 127.0.0.1 and a free port unless
    /// ADDR says otherwise.
    Serve {
        /// Where to listen: HOST:PORT or a port (default 127.0.0.1, any
        /// free port). Any other address than loopback is said on stderr.
        addr: Option<String>,
        /// The workspace whose runs to serve (default: the nearest
        /// directory, from the current one up, that holds `.score/runs/`).
        #[arg(long, value_name = "DIR", conflicts_with = "runs")]
        workspace: Option<PathBuf>,
        /// The runs directory itself (a workspace's `.score/runs`).
        #[arg(long, value_name = "DIR")]
        runs: Option<PathBuf>,
    },
    /// Run one task of a plan, as `score run` would: the unit a distributed
    /// engine (Argo Workflows) schedules. See docs/scale-out.md.
    Task {
        #[command(subcommand)]
        action: TaskAction,
    },
    /// Merge the part branches of a distributed run into its integration
    /// branch `score/RUN_ID`, in DAG order.
    ///
    /// Exit status 0 when merged, 1 on a conflict, 2 when it could not start.
    Merge {
        /// The plan (`score build`).
        #[arg(long, value_name = "FILE")]
        plan: PathBuf,
        /// The run whose part branches (`score-parts/RUN_ID/TASK`) to merge.
        #[arg(long, value_name = "RUN_ID")]
        run: String,
        /// Clone this repository, merge there and push `score/RUN_ID` back
        /// (default: the repository in the current directory).
        #[arg(long, value_name = "URL")]
        repo: Option<String>,
        /// The commit or branch the run started from.
        #[arg(long, value_name = "REF")]
        base: Option<String>,
    },
    /// Export a score (or plan) for another scheduler.
    Export {
        #[command(subcommand)]
        target: ExportTarget,
    },
    /// Make a score from another tool's plan (see docs/import.md).
    Import {
        #[command(subcommand)]
        source: ImportSource,
    },
    /// Write a starter score for an existing repository (`DIR/score.score`).
    ///
    /// Its build and test commands, the coding-agent CLIs on PATH, one part
    /// per top-level source directory; it checks clean as written. Never
    /// overwrites without `--force`. See docs/import.md.
    Init {
        /// The repository (default: the current directory).
        dir: Option<PathBuf>,
        /// Replace an existing `score.score`.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum ImportSource {
    /// A score from a GitHub spec-kit feature (tasks.md, spec.md).
    ///
    /// Each task of tasks.md is a part owning the files it names, each user
    /// story of spec.md an intent, the phases and `[P]` groups a sequence.
    /// The score goes to stdout (or `-o FILE`); the report (tasks, groups,
    /// every `[P]` claim `score check` refutes) and the warnings go to
    /// stderr. Exit 0 when imported, 2 when it could not be.
    Speckit {
        /// The feature directory (with tasks.md, and spec.md if any) or a
        /// tasks.md file.
        path: PathBuf,
        /// Where to write the score (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Print the report on stdout instead of the score (which is still
        /// written with `-o`).
        #[arg(long)]
        report: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum ExportTarget {
    /// An Argo Workflows `Workflow` (YAML): one pod per part running
    /// `score task run`, then `score merge`. See docs/scale-out.md.
    Argo {
        /// The score (`.score`) or plan (`.json`, from `score build`).
        file: PathBuf,
        /// Where to write the Workflow (default: standard output).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// The container image with `score` and git, e.g. ghcr.io/acme/score:1.
        #[arg(long)]
        image: String,
        /// The git repository the pods clone and push to (default: asked at
        /// submission, `argo submit -p repo=URL`).
        #[arg(long, value_name = "URL")]
        repo: Option<String>,
        /// The branch or commit the parts start from.
        #[arg(long, value_name = "REF", default_value = score::export::argo::DEFAULT_BASE)]
        base: String,
        /// The Secret holding the agents' API keys, one key per `key_env`.
        #[arg(long, value_name = "NAME", default_value = score::export::argo::DEFAULT_SECRET)]
        secret: String,
        /// A Secret with a `.git-credentials` file the pods push with.
        #[arg(long, value_name = "SECRET")]
        git_credentials: Option<String>,
        /// The Kubernetes service account the pods run as.
        #[arg(long, value_name = "NAME")]
        service_account: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum TaskAction {
    /// Run exactly one task: its agent, validation, checks, retries with
    /// feedback and boundary enforcement, reading its dependencies' outputs
    /// from files and writing its own. Its work is committed on the branch
    /// `score-parts/RUN_ID/TASK` (pushed with `--repo`). The last line on
    /// stdout is a JSON status. Exit status: 0 succeeded, 1 the task failed,
    /// 2 it could not run (bad plan, missing inputs or keys).
    Run {
        /// The plan (`score build`).
        #[arg(long, value_name = "FILE")]
        plan: PathBuf,
        /// The task's id.
        #[arg(long, value_name = "ID")]
        task: String,
        /// The directory holding the dependencies' outputs, `DEP.json` each.
        #[arg(long, value_name = "DIR")]
        inputs: PathBuf,
        /// Where to write the task's outputs, `TASK.json`.
        #[arg(long, value_name = "DIR")]
        outputs: PathBuf,
        /// Clone this git repository (URL or path) and push the part branch
        /// back (default: work in the repository of the current directory).
        #[arg(long, value_name = "URL")]
        repo: Option<String>,
        /// The commit or branch to start from (with `--repo`).
        #[arg(long, value_name = "REF")]
        base: Option<String>,
        /// The run this task belongs to (names the branches).
        #[arg(long, value_name = "RUN_ID")]
        run: Option<String>,
        /// The score's workspace inside the repository (default: its root
        /// with `--repo`, else the plan's `workspace`).
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
        /// Give a score input: NAME=VALUE, or NAME=@FILE.
        #[arg(long, value_name = "NAME=VALUE")]
        input: Vec<String>,
        /// Play the task with another agent (`--agent NAME=OTHER`).
        #[arg(long, value_name = "NAME=OTHER")]
        agent: Vec<String>,
    },
}

#[derive(clap::Args)]
pub(crate) struct RunArgs {
    /// The score (`.score`) or plan (`.json`, from `score build`) to run.
    pub(crate) file: PathBuf,
    /// At most N tasks at once (besides the score's and agents' `concurrency`).
    #[arg(short, long, value_name = "N")]
    pub(crate) jobs: Option<usize>,
    /// Run only this part and the parts it needs (repeatable).
    #[arg(long, value_name = "PART")]
    pub(crate) only: Vec<String>,
    /// Show what would run and why (done, cached or run, per part), then
    /// what would be dispatched, with each prompt; call nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Play every part with the built-in mock and run nothing: the waves,
    /// the inputs each part receives and its outputs; checks are listed,
    /// not run; no git, no journal, no cache. Exit 0 when the score plays
    /// through.
    #[arg(long, conflicts_with_all = [
        "dry_run", "agent", "resume", "fresh", "merge", "in_place", "keep_worktrees",
        "events", "trust_cache", "allow_dirty", "jobs",
    ])]
    pub(crate) rehearse: bool,
    /// With `--rehearse`: also show each part's full prompt.
    #[arg(long, requires = "rehearse")]
    pub(crate) show_prompts: bool,
    /// Reuse cached results without running their checks again (faster;
    /// the report says so).
    #[arg(long, conflicts_with = "fresh")]
    pub(crate) trust_cache: bool,
    /// Finish an interrupted run (the latest, or RUN_ID): tasks already done
    /// are not run again, unless their content hash changed.
    #[arg(long, value_name = "RUN_ID", num_args = 0..=1, default_missing_value = "")]
    pub(crate) resume: Option<String>,
    /// Run every task, even those whose result is cached from an earlier run.
    #[arg(long)]
    pub(crate) fresh: bool,
    /// Give a score input: NAME=VALUE, or NAME=@FILE to read it from a file.
    #[arg(long, value_name = "NAME=VALUE")]
    pub(crate) input: Vec<String>,
    /// Play NAME's parts with agent OTHER (`--agent '*=mock'`: every part by
    /// the built-in mock).
    #[arg(long, value_name = "NAME=OTHER")]
    pub(crate) agent: Vec<String>,
    /// Write the events to stdout as JSON Lines (the journal's records).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub(crate) events: Option<EventsFormat>,
    /// The workspace to run in (default: the score's `workspace`, relative
    /// to the file).
    #[arg(long, value_name = "DIR")]
    pub(crate) workspace: Option<PathBuf>,
    /// Run even if the workspace has uncommitted changes (the parts start
    /// from the last commit and do not see them). Edits of the score's own
    /// files need no flag: the run plays them and journals their hashes.
    #[arg(long)]
    pub(crate) allow_dirty: bool,
    /// Keep the parts' git worktrees (under `.score/worktrees/`) after the run.
    #[arg(long)]
    pub(crate) keep_worktrees: bool,
    /// Play every part in the workspace itself, without git worktrees: no
    /// repository needed and less overhead, but nothing stops an agent from
    /// writing outside its `owns`, and parts running at the same time share
    /// one directory. For trusted commands (a build DAG), not for agents.
    #[arg(long, conflicts_with_all = ["keep_worktrees", "merge"])]
    pub(crate) in_place: bool,
    /// When every task succeeded, merge the run's branch `score/RUN_ID` into
    /// the checked-out branch. Refused before anything runs (exit 2) when
    /// that branch's tracked files have uncommitted changes; refused at the
    /// end (a conflict) exits 1.
    #[arg(long)]
    pub(crate) merge: bool,
    /// Serve the run's live page while it plays (its URL on stderr), where
    /// approvals are answered. ADDR: HOST:PORT or a port (default
    /// 127.0.0.1, any free port). See docs/ui.md.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "")]
    pub(crate) ui: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum DraftReference {
    /// The whole language reference and the commented standard library.
    Full,
    /// Headings, tables and examples only (small context windows).
    Brief,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum EventsFormat {
    /// One JSON object per line
    Json,
}
