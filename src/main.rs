//! The `score` command line: parse flags, call the library, map outcomes to
//! exit codes (0 success, 1 problems found in the sources, 2 usage or I/O).

use clap::{Parser, Subcommand, ValueEnum};
use miette::{IntoDiagnostic, WrapErr, miette};
use score::diagnostics::{self, Code, ColorChoice};
use score::driver::{self, PlanError};
use score::plan::Plan;
use score::runtime::{self, Mode, RunContext, RunOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "score",
    version,
    about = "Check, compile and run architecture scores: intents, contracts, agents, parts and sequences",
    long_about = None,
    propagate_version = true,
    arg_required_else_help = true
)]
struct Cli {
    /// When to colour diagnostics.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// rustc-style text on stderr
    Human,
    /// JSON Lines on stdout, one object per diagnostic
    Json,
}

/// How `score runs` and `score status` print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum StateFormat {
    /// Text on stdout, for people
    Human,
    /// JSON on stdout, for scripts
    Json,
}

#[derive(Subcommand)]
enum Command {
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
enum ImportSource {
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
enum ExportTarget {
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
enum TaskAction {
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
struct RunArgs {
    /// The score (`.score`) or plan (`.json`, from `score build`) to run.
    file: PathBuf,
    /// At most N tasks at once (besides the score's and agents' `concurrency`).
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
    /// Run only this part and the parts it needs (repeatable).
    #[arg(long, value_name = "PART")]
    only: Vec<String>,
    /// Show what would run and why (done, cached or run, per part), then
    /// what would be dispatched, with each prompt; call nothing.
    #[arg(long)]
    dry_run: bool,
    /// Play every part with the built-in mock and run nothing: the waves,
    /// the inputs each part receives and its outputs; checks are listed,
    /// not run; no git, no journal, no cache. Exit 0 when the score plays
    /// through.
    #[arg(long, conflicts_with_all = [
        "dry_run", "agent", "resume", "fresh", "merge", "in_place", "keep_worktrees",
        "events", "trust_cache", "allow_dirty", "jobs",
    ])]
    rehearse: bool,
    /// With `--rehearse`: also show each part's full prompt.
    #[arg(long, requires = "rehearse")]
    show_prompts: bool,
    /// Reuse cached results without running their checks again (faster;
    /// the report says so).
    #[arg(long, conflicts_with = "fresh")]
    trust_cache: bool,
    /// Finish an interrupted run (the latest, or RUN_ID): tasks already done
    /// are not run again, unless their content hash changed.
    #[arg(long, value_name = "RUN_ID", num_args = 0..=1, default_missing_value = "")]
    resume: Option<String>,
    /// Run every task, even those whose result is cached from an earlier run.
    #[arg(long)]
    fresh: bool,
    /// Give a score input: NAME=VALUE, or NAME=@FILE to read it from a file.
    #[arg(long, value_name = "NAME=VALUE")]
    input: Vec<String>,
    /// Play NAME's parts with agent OTHER (`--agent '*=mock'`: every part by
    /// the built-in mock).
    #[arg(long, value_name = "NAME=OTHER")]
    agent: Vec<String>,
    /// Write the events to stdout as JSON Lines (the journal's records).
    #[arg(long, value_enum, value_name = "FORMAT")]
    events: Option<EventsFormat>,
    /// The workspace to run in (default: the score's `workspace`, relative
    /// to the file).
    #[arg(long, value_name = "DIR")]
    workspace: Option<PathBuf>,
    /// Run even if the workspace has uncommitted changes (the parts start
    /// from the last commit and do not see them). Edits of the score's own
    /// files need no flag: the run plays them and journals their hashes.
    #[arg(long)]
    allow_dirty: bool,
    /// Keep the parts' git worktrees (under `.score/worktrees/`) after the run.
    #[arg(long)]
    keep_worktrees: bool,
    /// Play every part in the workspace itself, without git worktrees: no
    /// repository needed and less overhead, but nothing stops an agent from
    /// writing outside its `owns`, and parts running at the same time share
    /// one directory. For trusted commands (a build DAG), not for agents.
    #[arg(long, conflicts_with_all = ["keep_worktrees", "merge"])]
    in_place: bool,
    /// When every task succeeded, merge the run's branch `score/RUN_ID` into
    /// the checked-out branch. Refused before anything runs (exit 2) when
    /// that branch's tracked files have uncommitted changes; refused at the
    /// end (a conflict) exits 1.
    #[arg(long)]
    merge: bool,
    /// Serve the run's live page while it plays (its URL on stderr), where
    /// approvals are answered. ADDR: HOST:PORT or a port (default
    /// 127.0.0.1, any free port). See docs/ui.md.
    #[arg(long, value_name = "ADDR", num_args = 0..=1, default_missing_value = "")]
    ui: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum DraftReference {
    /// The whole language reference and the commented standard library.
    Full,
    /// Headings, tables and examples only (small context windows).
    Brief,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum EventsFormat {
    /// One JSON object per line
    Json,
}

fn main() -> ExitCode {
    // Messages name paths, ids and commands to copy: never break their lines.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().wrap_lines(false).build())
    }));
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(2)
        }
    }
}

/// Each command: the library does the work; this prints what it returns
/// and picks the exit code (0 success, 1 problems found, 2 usage or I/O).
fn run(cli: Cli) -> miette::Result<ExitCode> {
    let color = use_color(cli.color);
    let cwd = || std::env::current_dir().into_diagnostic();
    let failed = |failed: bool| ExitCode::from(u8::from(failed));
    match cli.command {
        Command::Check {
            paths,
            format,
            deny_warnings,
        } => {
            let report = driver::check(&paths).map_err(driver_error)?;
            match format {
                Format::Human => eprint!("{}", report.human(color, deny_warnings)),
                Format::Json => write_output(None, report.json().as_bytes()).map(drop)?,
            }
            Ok(failed(report.failed(deny_warnings)))
        }
        Command::Fmt { paths, check } => {
            let formatted = driver::format_paths(&paths, check).map_err(driver_error)?;
            eprint!("{}", formatted.errors(color));
            print!("{}", formatted.listing());
            if let Some(summary) = formatted.summary() {
                eprintln!("{summary}");
            }
            Ok(failed(formatted.failed()))
        }
        Command::Explain { code } => explain(code.as_deref()),
        Command::Build { file, output } => match plan_of(&file, color, false)? {
            Ok(plan) => write_output(output.as_deref(), score::plan::to_json(&plan).as_bytes()),
            Err(code) => Ok(code),
        },
        Command::Graph {
            file,
            format,
            output,
        } => {
            if format.needs_graphviz() && output.is_none() && std::io::stdout().is_terminal() {
                return Err(miette!(
                    help = format!(
                        "write it to a file: `score graph --format {format} -o graph.{}`",
                        format.extension()
                    ),
                    "a {format} picture is binary and cannot be shown in the terminal"
                ));
            }
            match plan_of(&file, color, false)? {
                Ok(plan) => {
                    let picture =
                        score::graph::render(&plan, format).map_err(|e| miette!("{e}"))?;
                    write_output(output.as_deref(), &picture)
                }
                Err(code) => Ok(code),
            }
        }
        Command::Plan {
            file, diff: false, ..
        } => match plan_of(&file, color, false)? {
            Ok(plan) => {
                print!("{}", score::plan::summary(&plan));
                Ok(ExitCode::SUCCESS)
            }
            Err(code) => Ok(code),
        },
        Command::Plan {
            file,
            diff: true,
            format,
            input,
            workspace,
        } => plan_diff(&file, format, &input, workspace.as_deref(), color),
        Command::Run(args) => run_score(args, color),
        Command::Draft {
            spec,
            agent,
            agents,
            output,
            rounds,
            force,
            reference,
        } => {
            let request = score::draft::DraftRequest {
                spec,
                output,
                agent,
                agents_file: agents,
                rounds,
                workspace: cwd()?,
                color,
                reference: match reference {
                    DraftReference::Full => score::draft::prompt::Reference::Full,
                    DraftReference::Brief => score::draft::prompt::Reference::Brief,
                },
            };
            draft(request, force)
        }
        Command::Doctor { file, live, agent } => doctor(&file, live, &agent, color),
        Command::Clean {
            workspace,
            branches,
            force,
            runs,
            dry_run,
        } => {
            let cwd = cwd()?;
            let dir = workspace.map_or(cwd.clone(), |d| cwd.join(d));
            let options = runtime::CleanOptions {
                branches,
                runs,
                dry_run,
                force,
            };
            // The listing is printed before anything is removed.
            let message = runtime::clean(&dir, options, &mut |line| println!("{line}"))
                .map_err(|e| miette!("{e}"))?;
            println!("{message}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Approve {
            run,
            part,
            reject,
            workspace,
        } => {
            let workspace =
                runtime::workspace_of_run(&run, workspace.as_deref(), &cwd()?).map_err(refused)?;
            let message =
                runtime::approve(&workspace, &run, &part, !reject).map_err(|e| miette!("{e}"))?;
            println!("{message}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { target } => export(target, color),
        Command::Serve {
            addr,
            workspace,
            runs,
        } => {
            let cwd = cwd()?;
            let workspace = match runs {
                Some(dir) => {
                    let dir = cwd.join(dir);
                    match dir.parent().and_then(Path::parent) {
                        Some(ws) if dir.ends_with(".score/runs") => ws.to_path_buf(),
                        _ => {
                            return Err(miette!(
                                help = "pass a workspace's `.score/runs`, or `--workspace DIR`",
                                "`{}` is not a runs directory (`WORKSPACE/.score/runs`)",
                                dir.display()
                            ));
                        }
                    }
                }
                None => runtime::workspace_of_runs(workspace.as_deref(), &cwd),
            };
            serve(&workspace, addr.as_deref())
        }
        Command::Runs { workspace, format } => {
            let workspace = runtime::workspace_of_runs(workspace.as_deref(), &cwd()?);
            let (runs, unreadable) = runtime::state::list(&workspace);
            unreadable.iter().for_each(|e| eprintln!("warning: {e}"));
            if runs.is_empty() && format == StateFormat::Human {
                eprintln!(
                    "no runs in `{}`; start one with `score run FILE`",
                    workspace.join(".score/runs").display()
                );
                return Ok(ExitCode::SUCCESS);
            }
            match format {
                StateFormat::Human => print!("{}", runtime::state::render_runs(&runs)),
                StateFormat::Json => {
                    println!("{}", serde_json::to_string_pretty(&runs).into_diagnostic()?)
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Status {
            run,
            workspace,
            format,
        } => {
            let cwd = cwd()?;
            let workspace = match &run {
                // Not found: the workspace of the runs there are, which the
                // error then lists.
                Some(id) => runtime::workspace_of_run(id, workspace.as_deref(), &cwd)
                    .unwrap_or_else(|_| runtime::workspace_of_runs(None, &cwd)),
                None => runtime::workspace_of_runs(workspace.as_deref(), &cwd),
            };
            let runs = runtime::journal::RunsDir::new(&workspace);
            let id = match run.or_else(|| runs.latest()) {
                Some(id) => id,
                None => {
                    return Err(miette!(
                        help = "start one with `score run FILE`, or pass `--workspace DIR`",
                        "no runs in `{}`",
                        runs.root.display()
                    ));
                }
            };
            let state = runtime::state::load(&runs, &id).map_err(|e| miette!("{e}"))?;
            match format {
                StateFormat::Human => print!("{}", runtime::state::render_status(&state)),
                StateFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&state).into_diagnostic()?
                ),
            }
            use runtime::state::RunPhase;
            Ok(failed(!matches!(
                state.phase,
                RunPhase::Succeeded | RunPhase::Running | RunPhase::Paused
            )))
        }
        Command::Task {
            action:
                TaskAction::Run {
                    plan,
                    task,
                    inputs,
                    outputs,
                    repo,
                    base,
                    run,
                    workspace,
                    input,
                    agent,
                },
        } => {
            let cwd = cwd()?;
            let request = runtime::task::TaskRequest {
                task,
                inputs_dir: cwd.join(inputs),
                outputs_dir: cwd.join(outputs),
                repo,
                base,
                run,
                workspace: cwd,
                subdir: workspace,
                inputs: input,
                agents: agent,
            };
            let env = |name: &str| std::env::var(name).ok();
            let status = runtime::task::run_from_file(&plan, &request, &env);
            if let Some(complaint) = status.complaint() {
                eprintln!("{complaint}");
            }
            println!("{}", status.to_json());
            Ok(ExitCode::from(status.exit_code()))
        }
        Command::Merge {
            plan,
            run,
            repo,
            base,
        } => {
            let plan = score::plan::load_file(&plan).map_err(|e| miette!("{e}"))?;
            match runtime::merge::merge_parts(
                &plan,
                &run,
                repo.as_deref(),
                base.as_deref(),
                &cwd()?,
            ) {
                Ok(report) => {
                    println!("{report}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(conflict @ runtime::merge::MergeError::Conflict { .. }) => {
                    eprintln!("error: {conflict}");
                    Ok(ExitCode::from(1))
                }
                Err(error) => Err(miette!("{error}")),
            }
        }
        Command::Import {
            source:
                ImportSource::Speckit {
                    path,
                    output,
                    report,
                },
        } => import_speckit(&path, output.as_deref(), report),
        Command::Init { dir, force } => init(dir.unwrap_or_else(|| PathBuf::from(".")), force),
        Command::Mcp { http, allow_remote } => {
            match http {
                Some(address) => {
                    score::mcp::serve_http(&address, allow_remote).map_err(|e| match e.help() {
                        Some(help) => miette!(help = help, "{e}"),
                        None => miette!("{e}"),
                    })?
                }
                None => score::mcp::serve_stdio()
                    .into_diagnostic()
                    .wrap_err("the MCP server stopped")?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Lsp => {
            score::lsp::serve_stdio()
                .into_diagnostic()
                .wrap_err("the language server stopped")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `score draft`: the library plays the rounds; this shows them, writes
/// the clean score and sets the status.
fn draft(request: score::draft::DraftRequest, force: bool) -> miette::Result<ExitCode> {
    if let Some(out) = &request.output
        && out.symlink_metadata().is_ok()
        && !force
    {
        return Err(miette!(
            help = "pass `--force` to replace it, or name another file with `-o`",
            "`{}` exists: `score draft` does not overwrite it",
            out.display()
        ));
    }
    let cwd = request.workspace.clone();
    let output = request.output.clone();
    let rounds = request.rounds;
    let env = |name: &str| std::env::var(name).ok();
    let prepared = score::draft::prepare(request, &env).map_err(|e| match e.help {
        Some(help) => miette!(help = help, "{}", e.message),
        None => miette!("{}", e.message),
    })?;
    for warning in prepared.warnings() {
        eprintln!("warning: {warning}");
    }
    eprintln!(
        "Drafting with agent `{}`, at most {rounds} round{}.",
        prepared.agent(),
        if rounds == 1 { "" } else { "s" }
    );
    let drafted = score::draft::draft(prepared, &|round| eprintln!("{}", round.line(rounds)))
        .map_err(|e| miette!("{e}"))?;
    if let Some(verdict) = &drafted.last_verdict {
        eprint!("{}", verdict.human);
    }
    if let Some(text) = &drafted.score {
        write_output(output.as_deref(), text.as_bytes())?;
    }
    eprint!("{}", drafted.summary(&cwd));
    Ok(ExitCode::from(drafted.exit_code()))
}

/// `score import speckit`: the score to stdout or `-o`, the report and the
/// warnings to stderr (the report to stdout with `--report`).
fn import_speckit(path: &Path, output: Option<&Path>, report: bool) -> miette::Result<ExitCode> {
    let imported = score::import::speckit::import(path)
        .map_err(|error| miette!(help = error.help(), "{error}"))?;
    let mut stderr = String::new();
    for warning in &imported.warnings {
        stderr.push_str(&format!("warning: {warning}\n"));
    }
    let summary = imported.report.summary();
    if report {
        eprint!("{stderr}");
        if let Some(output) = output {
            write_output(Some(output), imported.score.as_bytes())?;
        }
        write_output(None, summary.as_bytes())
    } else {
        eprint!("{stderr}{summary}");
        write_output(output, imported.score.as_bytes())
    }
}

/// `score init`: detect, write, say what was written.
fn init(dir: PathBuf, force: bool) -> miette::Result<ExitCode> {
    let written = score::init::init(&dir, force, &|name| std::env::var_os(name))
        .map_err(|error| miette!(help = error.help(), "{error}"))?;
    eprintln!("{}", written.summary());
    Ok(ExitCode::SUCCESS)
}

/// `score doctor`: the library examines; this prints and sets the status.
fn doctor(
    file: &std::path::Path,
    live: bool,
    agents: &[String],
    color: bool,
) -> miette::Result<ExitCode> {
    let plan = match plan_of(file, color, true)? {
        Ok(plan) => plan,
        Err(code) => return Ok(code),
    };
    let env = |name: &str| std::env::var(name).ok();
    let report = score::runtime::doctor::for_score(plan, file, agents, live, &env)
        .map_err(|e| miette!("{e}"))?;
    print!("{}", report.render());
    Ok(if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `score plan --diff`: what a run now would do, per part.
fn plan_diff(
    file: &Path,
    format: Format,
    inputs: &[String],
    workspace: Option<&Path>,
    color: bool,
) -> miette::Result<ExitCode> {
    let plan = match plan_of(file, color, true)? {
        Ok(plan) => plan,
        Err(code) => return Ok(code),
    };
    let cwd = std::env::current_dir().into_diagnostic()?;
    let workspace = runtime::workspace_of(file, &plan, workspace, &cwd).map_err(refused)?;
    let parts = runtime::plan_diff(&plan, &workspace, inputs, &cwd).map_err(|e| miette!("{e}"))?;
    match format {
        Format::Json => print!("{}", runtime::preview::render_json_lines(&parts)),
        Format::Human => {
            println!(
                "`{}` in {}, against its latest run (`done`: what `score run --resume` would not \
                 play again) and its cache (`cached`: what a new run reuses):\n",
                plan.score.name,
                workspace.display()
            );
            print!("{}", runtime::preview::render_table(&parts));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `score run`: the plan (compiled, or read from a plan file), prepared,
/// then run (or shown with `--dry-run`) and reported.
fn run_score(args: RunArgs, color: bool) -> miette::Result<ExitCode> {
    let plan = match plan_of(&args.file, color, true)? {
        Ok(plan) => plan,
        Err(code) => return Ok(code),
    };
    let cwd = std::env::current_dir().into_diagnostic()?;
    let options = RunOptions {
        only: args.only,
        agents: args.agent,
        inputs: args.input,
        input_base: cwd.clone(),
        jobs: args.jobs,
        resume: args.resume.map(|id| Some(id).filter(|id| !id.is_empty())),
        fresh: args.fresh,
        trust_cache: args.trust_cache,
        rehearse: args.rehearse,
        allow_dirty: args.allow_dirty,
        keep_worktrees: args.keep_worktrees,
        merge: args.merge,
        in_place: args.in_place,
        score_files: runtime::score_files(&args.file, &plan, &cwd),
        ..Default::default()
    };
    let env = |name: &str| std::env::var(name).ok();
    let prepared = runtime::prepare(plan, &options, &env).map_err(|e| miette!("{e}"))?;
    // Still one thread: the keys, read, leave /proc/PID/environ.
    runtime::sandbox::hide_secret_values(&prepared.sandbox);
    let mode = match args.events {
        Some(EventsFormat::Json) => Mode::Json,
        None => Mode::auto(),
    };
    if mode != Mode::Json {
        prepared
            .warnings
            .iter()
            .for_each(|w| eprintln!("warning: {w}"));
    }
    if args.rehearse {
        let rehearsal = runtime::rehearse::rehearse(&prepared, args.show_prompts);
        print!("{}", rehearsal.text);
        return Ok(ExitCode::from(u8::from(!rehearsal.played_through)));
    }
    // Only now: a rehearsal needs no workspace (it writes nothing).
    let workspace =
        runtime::workspace_of(&args.file, &prepared.plan, args.workspace.as_deref(), &cwd)
            .map_err(refused)?;
    if args.dry_run {
        let parts = runtime::preview_run(&prepared, &workspace, &options);
        print!("{}", runtime::dry_run(&prepared, &workspace, &parts));
        return Ok(ExitCode::SUCCESS);
    }
    let mut options = options;
    let page = match &args.ui {
        Some(addr) => page_of_run(&workspace, &prepared, &mut options, addr)?,
        None => None,
    };
    let ctx = RunContext {
        file: Some(args.file.display().to_string()),
        ..RunContext::on_terminal(workspace, mode)
    };
    let finished = runtime::block_on(async {
        let Some((ui, listener)) = page else {
            return runtime::run(prepared, &options, &ctx).await;
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(score::ui::serve(ui.clone(), listener, async {
            let _ = stopped.await;
        }));
        let finished = runtime::run(prepared, &options, &ctx).await;
        // The page shows the end before the process exits.
        ui.close(std::time::Duration::from_secs(2)).await;
        let _ = stop.send(());
        let _ = server.await;
        finished
    })
    .and_then(|finished| finished)
    .map_err(|e| miette!("{e}"))?;
    if let Some(note) = finished.takeover_note() {
        eprintln!("note: {note}");
    }
    let report = finished.report(&args.file.display().to_string(), &cwd);
    if mode == Mode::Json {
        eprint!("{report}");
    } else {
        print!("{report}");
    }
    Ok(ExitCode::from(finished.exit_code()))
}

/// `score serve`: the live page of the workspace's runs, until Ctrl-C.
fn serve(workspace: &Path, addr: Option<&str>) -> miette::Result<ExitCode> {
    let (listener, warning) = score::ui::bind(addr).map_err(|e| miette!("{e}"))?;
    if let Some(warning) = warning {
        eprintln!("warning: {warning}");
    }
    let local = listener.local_addr().into_diagnostic()?;
    let ui = score::ui::Ui::new(workspace, score::ui::environment_redactor(), None);
    eprintln!(
        "serving the runs of `{}` (Ctrl-C stops)",
        workspace.display()
    );
    println!("{}", ui.index_url(local));
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    runtime::block_on(score::ui::serve(ui, listener, stop))
        .and_then(|served| served)
        .map_err(|e| miette!("{e}"))?;
    Ok(ExitCode::SUCCESS)
}

/// `score run --ui`: the page's server for the run about to start, its
/// URL said on stderr; approvals go to the run through its desk.
fn page_of_run(
    workspace: &Path,
    prepared: &runtime::Prepared,
    options: &mut RunOptions,
    addr: &str,
) -> miette::Result<Option<(std::sync::Arc<score::ui::Ui>, std::net::TcpListener)>> {
    let Some(run_id) = runtime::run_id_of(workspace, options) else {
        // Nothing to resume: the run says so.
        return Ok(None);
    };
    if options.resume.is_none() {
        options.run_id = Some(run_id.clone());
    }
    let (listener, warning) =
        score::ui::bind(Some(addr).filter(|a| !a.is_empty())).map_err(|e| miette!("{e}"))?;
    if let Some(warning) = warning {
        eprintln!("warning: {warning}");
    }
    let desk = runtime::approvals::ApprovalDesk::new(&run_id);
    options.page_approvals = Some(desk.clone());
    let ui = score::ui::Ui::new(workspace, prepared.sandbox.redactor.clone(), Some(desk));
    let local = listener.local_addr().into_diagnostic()?;
    eprintln!(
        "the run's page (approvals are answered there): {}",
        ui.run_url(local, &run_id)
    );
    Ok(Some((ui, listener)))
}

/// `score export argo`: the plan as an Argo Workflow in YAML.
fn export(target: ExportTarget, color: bool) -> miette::Result<ExitCode> {
    let ExportTarget::Argo {
        file,
        output,
        image,
        repo,
        base,
        secret,
        git_credentials,
        service_account,
    } = target;
    let options = score::export::ArgoOptions {
        repo,
        base,
        secret,
        git_credentials,
        service_account,
        ..score::export::ArgoOptions::new(image)
    };
    options
        .check()
        .map_err(|e| miette!(help = "see `score export argo --help`", "{e}"))?;
    if let Some(warning) = options.credentials_warning() {
        eprintln!("warning: {warning}");
    }
    let plan = match plan_of(&file, color, true)? {
        Ok(plan) => plan,
        Err(code) => return Ok(code),
    };
    let workflow = score::export::argo_workflow(&plan, &options);
    if let Some(warning) = score::export::argo::size_warning(&workflow) {
        eprintln!("warning: {warning}");
    }
    write_output(
        output.as_deref(),
        score::export::to_yaml(&workflow).as_bytes(),
    )
}

fn explain(code: Option<&str>) -> miette::Result<ExitCode> {
    match code {
        None => {
            for info in diagnostics::CODES {
                let severity = info.severity.as_str();
                println!("{}  {severity:<7}  {}", info.code, info.title);
            }
            println!("\nRun `score explain CODE` for the explanation of one code.");
            Ok(ExitCode::SUCCESS)
        }
        Some(text) => match Code::parse(text) {
            Some(code) => {
                print!("{}", diagnostics::explain(code));
                Ok(ExitCode::SUCCESS)
            }
            None => Err(miette!(
                help = "run `score explain` to list every code",
                "`{text}` is not a diagnostic code of score"
            )),
        },
    }
}

/// The plan of `file`: a score compiled (its warnings shown), or with
/// `plan_files` any other file read as a plan. `Err` is the exit code once
/// a problem in the sources has been shown.
fn plan_of(file: &Path, color: bool, plan_files: bool) -> miette::Result<Result<Plan, ExitCode>> {
    let planned = if plan_files {
        driver::score_or_plan(file)
    } else {
        driver::compile(file)
    };
    match planned {
        Ok(planned) => {
            eprint!("{}", planned.diagnostics(color));
            Ok(Ok(planned.plan))
        }
        Err(error) => plan_error(&error, color).map(Err),
    }
}

fn plan_error(error: &PlanError, color: bool) -> miette::Result<ExitCode> {
    eprint!("{}", error.diagnostics(color));
    match error.usage() {
        None => Ok(ExitCode::from(1)),
        Some((message, Some(help))) => Err(miette!(help = help, "{message}")),
        Some((message, None)) => Err(miette!("{message}")),
    }
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    }
}

fn parse_graph_format(text: &str) -> Result<score::graph::GraphFormat, String> {
    text.parse()
}

/// Write to a file, or to stdout when no file is given.
fn write_output(path: Option<&Path>, bytes: &[u8]) -> miette::Result<ExitCode> {
    match path {
        Some(path) => std::fs::write(path, bytes)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot write `{}`", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes).into_diagnostic()?;
            out.flush().into_diagnostic()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn driver_error(error: driver::DriverError) -> miette::Report {
    miette!(help = error.help(), "{error}")
}

fn refused(refusal: runtime::Refusal) -> miette::Report {
    miette!(help = refusal.help, "{}", refusal.message)
}
