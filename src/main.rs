//! The `score` command line: parse flags, call the library, map outcomes to
//! exit codes (0 success, 1 problems found in the sources, 2 usage or I/O).

use clap::{Parser, Subcommand, ValueEnum};
use miette::{IntoDiagnostic, WrapErr, miette};
use score::diagnostics::{self, Code, ColorChoice, Diagnostic};
use score::driver::{self, Tally};
use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
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
    Plan {
        /// The score to summarise.
        file: PathBuf,
    },
    /// Explain a diagnostic code, with a wrong and a right example.
    Explain {
        /// The code, e.g. E0401. Without it, every code is listed.
        code: Option<String>,
    },
    /// Run the language server over stdio (for editors).
    Lsp,
    /// Run a score (or a plan built by `score build`): dispatch its parts to
    /// their agents in parallel, verify what they return, journal every event.
    ///
    /// The run's journal, outputs and logs go to `.score/runs/RUN_ID/` in the
    /// workspace. Exit status: 0 when every task succeeded, 1 otherwise, 130
    /// when cancelled with Ctrl-C, 2 when the run could not start.
    Run(RunArgs),
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
    /// Remove what old runs left: their git worktrees and part branches.
    ///
    /// Integration branches `score/RUN_ID` (the results) are kept unless
    /// `--branches`; journals in `.score/runs/` are kept unless `--runs`.
    Clean {
        /// The workspace (default: the current directory).
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
        /// Also delete the runs' integration branches `score/RUN_ID`.
        #[arg(long)]
        branches: bool,
        /// Also delete the runs' journals, outputs and logs (`.score/runs/`)
        /// and the cache (`.score/cache/`).
        #[arg(long)]
        runs: bool,
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
    /// Show what would be dispatched, with each prompt, and call nothing.
    #[arg(long)]
    dry_run: bool,
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
    /// from the last commit and do not see them).
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
    /// the checked-out branch.
    #[arg(long)]
    merge: bool,
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
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> miette::Result<ExitCode> {
    let color = use_color(cli.color);
    match cli.command {
        Command::Check {
            paths,
            format,
            deny_warnings,
        } => check(&paths, format, color, deny_warnings),
        Command::Fmt { paths, check } => fmt(&paths, check, color),
        Command::Explain { code } => explain(code.as_deref()),
        Command::Build { file, output } => match compile(&file, color)? {
            Ok(plan) => {
                write_output(output.as_deref(), score::plan::to_json(&plan).as_bytes())?;
                Ok(ExitCode::SUCCESS)
            }
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
            match compile(&file, color)? {
                Ok(plan) => {
                    let picture =
                        score::graph::render(&plan, format).map_err(|e| miette!("{e}"))?;
                    write_output(output.as_deref(), &picture)?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(code) => Ok(code),
            }
        }
        Command::Plan { file } => match compile(&file, color)? {
            Ok(plan) => {
                print!("{}", score::plan::summary(&plan));
                Ok(ExitCode::SUCCESS)
            }
            Err(code) => Ok(code),
        },
        Command::Run(args) => run_score(args, color),
        Command::Doctor { file, live, agent } => doctor(&file, live, &agent, color),
        Command::Clean {
            workspace,
            branches,
            runs,
        } => clean(workspace, branches, runs),
        Command::Approve {
            run,
            part,
            reject,
            workspace,
        } => approve(&run, &part, reject, workspace),
        Command::Export { target } => export(target, color),
        Command::Task { action } => task(action),
        Command::Merge {
            plan,
            run,
            repo,
            base,
        } => merge(&plan, &run, repo.as_deref(), base.as_deref()),
        Command::Lsp => {
            score::lsp::serve_stdio()
                .into_diagnostic()
                .wrap_err("the language server stopped")?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `score doctor`: the library examines; this prints and sets the status.
fn doctor(
    file: &std::path::Path,
    live: bool,
    agents: &[String],
    color: bool,
) -> miette::Result<ExitCode> {
    let plan = match score_or_plan(file, color)? {
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

/// `score run`: load (or compile) the plan, prepare it, then run it (or show
/// it with `--dry-run`) and report.
fn run_score(args: RunArgs, color: bool) -> miette::Result<ExitCode> {
    use score::runtime;
    let file = &args.file;
    let plan = match score_or_plan(file, color)? {
        Ok(plan) => plan,
        Err(code) => return Ok(code),
    };
    let base = file.parent().unwrap_or(std::path::Path::new(""));
    let cwd = std::env::current_dir().into_diagnostic()?;
    let workspace = match &args.workspace {
        Some(dir) => cwd.join(dir),
        None => cwd.join(base).join(&plan.score.workspace),
    };
    let workspace = workspace.canonicalize().map_err(|e| {
        miette!(
            help = "create the directory, fix the score's `workspace` setting, or pass `--workspace DIR`",
            "the workspace `{}` cannot be used: {e}",
            workspace.display()
        )
    })?;
    let options = runtime::RunOptions {
        only: args.only.clone(),
        agents: args.agent.clone(),
        inputs: args.input.clone(),
        input_base: cwd.clone(),
        jobs: args.jobs,
        resume: args
            .resume
            .as_ref()
            .map(|id| Some(id.clone()).filter(|id| !id.is_empty())),
        fresh: args.fresh,
        allow_dirty: args.allow_dirty,
        keep_worktrees: args.keep_worktrees,
        merge: args.merge,
        in_place: args.in_place,
        ..Default::default()
    };
    if args.jobs == Some(0) {
        return Err(miette!(
            help = "give at least 1",
            "`--jobs 0` would run nothing"
        ));
    }
    let env = |name: &str| std::env::var(name).ok();
    let prepared = runtime::prepare(plan, &options, &env).map_err(|e| miette!("{e}"))?;
    let mode = match args.events {
        Some(EventsFormat::Json) => runtime::Mode::Json,
        None => runtime::Mode::auto(),
    };
    if mode != runtime::Mode::Json {
        for warning in &prepared.warnings {
            eprintln!("warning: {warning}");
        }
        if args.in_place {
            eprintln!(
                "warning: --in-place: parts play in the workspace itself; what they write outside their `owns` is not rolled back"
            );
        }
    }
    if args.dry_run {
        print!("{}", runtime::dry_run(&prepared, &workspace));
        return Ok(ExitCode::SUCCESS);
    }
    let ctx = runtime::RunContext {
        workspace,
        mode,
        interactive: mode != runtime::Mode::Json
            && std::io::stdin().is_terminal()
            && std::io::stderr().is_terminal(),
    };
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .into_diagnostic()
        .wrap_err("cannot start the async runtime")?;
    let finished = tokio
        .block_on(runtime::run(prepared, &options, &ctx))
        .map_err(|e| miette!("{e}"))?;
    // In-flight children were killed on cancel; do not wait for stragglers.
    tokio.shutdown_timeout(std::time::Duration::from_millis(200));
    if let Some(holder) = &finished.took_over {
        let stopped = match finished.leftovers_stopped {
            0 => String::new(),
            1 => "; stopped 1 process it had left running".to_string(),
            n => format!("; stopped {n} processes it had left running"),
        };
        eprintln!(
            "note: took over the lock of run {} (process {} is gone{stopped})",
            holder.run, holder.pid
        );
    }
    let mut report = runtime::report::render(&finished, &file.display().to_string(), &cwd);
    match &finished.merged {
        Some(Ok(message)) => report.push_str(&format!("Merged: {message}\n")),
        Some(Err(message)) => report.push_str(&format!("Not merged: {message}\n")),
        None => {}
    }
    if mode == runtime::Mode::Json {
        eprint!("{report}");
    } else {
        print!("{report}");
    }
    Ok(match finished.outcome.status {
        runtime::RunStatus::Succeeded => ExitCode::SUCCESS,
        runtime::RunStatus::Cancelled => ExitCode::from(130),
        _ => ExitCode::from(1),
    })
}

/// `score clean`.
fn clean(workspace: Option<PathBuf>, branches: bool, runs: bool) -> miette::Result<ExitCode> {
    let cwd = std::env::current_dir().into_diagnostic()?;
    let dir = workspace.map_or(cwd.clone(), |d| cwd.join(d));
    let message = score::runtime::clean(&dir, branches, runs).map_err(|e| miette!("{e}"))?;
    println!("{message}");
    Ok(ExitCode::SUCCESS)
}

/// `score approve RUN PART`.
fn approve(
    run: &str,
    part: &str,
    reject: bool,
    workspace: Option<PathBuf>,
) -> miette::Result<ExitCode> {
    let cwd = std::env::current_dir().into_diagnostic()?;
    let workspace = match workspace {
        Some(dir) => cwd.join(dir),
        None => cwd
            .ancestors()
            .find(|dir| dir.join(".score").join("runs").join(run).is_dir())
            .map(|d| d.to_path_buf())
            .ok_or_else(|| {
                miette!(
                    help = "run it from the workspace of the run, or pass `--workspace DIR`",
                    "no run `{run}` in `.score/runs/` here or in any parent directory"
                )
            })?,
    };
    let by = std::env::var("USER").unwrap_or_else(|_| "someone".into());
    let message =
        score::runtime::approve(&workspace, run, part, !reject, &by).map_err(|e| miette!("{e}"))?;
    println!("{message}");
    Ok(ExitCode::SUCCESS)
}

/// The plan of a `.score` file (checked and compiled; `Err` holds the exit
/// code when the check failed, its diagnostics shown) or of a plan file
/// written by `score build` (validated).
fn score_or_plan(
    file: &std::path::Path,
    color: bool,
) -> miette::Result<Result<score::plan::Plan, ExitCode>> {
    if file.extension().is_some_and(|e| e == "score") {
        return compile(file, color);
    }
    read_plan(file).map(Ok).map_err(|e| {
        miette!(
            help =
                "give a `.score` file, or a plan written by `score build FILE.score -o plan.json`",
            "{e}"
        )
    })
}

/// Reads a plan file (`score build`'s output), with the reason when it is
/// not one.
fn read_plan(file: &std::path::Path) -> Result<score::plan::Plan, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read the plan `{}`: {e}", file.display()))?;
    score::plan::load(&text).map_err(|e| format!("`{}`: {e}", file.display()))
}

/// `score task run`: one task; the last line of stdout is its JSON status.
fn task(action: TaskAction) -> miette::Result<ExitCode> {
    let TaskAction::Run {
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
    } = action;
    let cwd = std::env::current_dir().into_diagnostic()?;
    let request = score::runtime::task::TaskRequest {
        task: task.clone(),
        inputs_dir: cwd.join(inputs),
        outputs_dir: cwd.join(outputs),
        repo,
        base,
        run,
        workspace: cwd.clone(),
        subdir: workspace,
        inputs: input,
        agents: agent,
    };
    let status = match read_plan(&plan) {
        Ok(plan) => {
            let tokio = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .into_diagnostic()?;
            let env = |name: &str| std::env::var(name).ok();
            let status = tokio.block_on(score::runtime::task::run_task(plan, &request, &env));
            tokio.shutdown_timeout(std::time::Duration::from_millis(200));
            status
        }
        Err(message) => score::runtime::task::TaskStatus {
            task,
            status: "error",
            run: None,
            attempts: 0,
            commit: None,
            branch: None,
            outputs_file: None,
            message: Some(message),
        },
    };
    if let Some(message) = &status.message
        && status.status != "succeeded"
    {
        eprintln!("error: `{}` {}: {message}", status.task, status.status);
    }
    println!("{}", serde_json::to_string(&status).unwrap_or_default());
    Ok(ExitCode::from(status.exit_code()))
}

/// `score merge`.
fn merge(
    plan: &std::path::Path,
    run: &str,
    repo: Option<&str>,
    base: Option<&str>,
) -> miette::Result<ExitCode> {
    let plan = read_plan(plan).map_err(|e| miette!("{e}"))?;
    let cwd = std::env::current_dir().into_diagnostic()?;
    match score::runtime::task::merge_parts(&plan, run, repo, base, &cwd) {
        Ok(report) => {
            println!(
                "merged {} part{} into `{}`{}",
                report.merged.len(),
                if report.merged.len() == 1 { "" } else { "s" },
                report.branch,
                if report.without_branch.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({} had no branch: {})",
                        report.without_branch.len(),
                        report.without_branch.join(", ")
                    )
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(message) if message.contains("conflicts") => {
            eprintln!("error: {message}");
            Ok(ExitCode::from(1))
        }
        Err(message) => Err(miette!("{message}")),
    }
}

/// `score export argo`: the plan (compiled from a score, or loaded like
/// `score run` loads a plan file) as an Argo Workflow in YAML.
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
    let plan = match score_or_plan(&file, color)? {
        Ok(plan) => plan,
        Err(code) => return Ok(code),
    };
    let workflow = score::export::argo_workflow(&plan, &options);
    if let Some(warning) = score::export::argo::size_warning(&workflow) {
        eprintln!("warning: {warning}");
    }
    let yaml = score::export::to_yaml(&workflow);
    write_output(output.as_deref(), yaml.as_bytes())?;
    Ok(ExitCode::SUCCESS)
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

fn check(
    paths: &[PathBuf],
    format: Format,
    color: bool,
    deny_warnings: bool,
) -> miette::Result<ExitCode> {
    let programs = driver::check_paths(paths).map_err(driver_error)?;
    let mut tally = Tally::default();
    let mut seen = HashSet::new();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for program in &programs {
        let sources = program.sources();
        let fresh: Vec<Diagnostic> = program
            .diagnostics()
            .iter()
            .filter(|d| seen.insert(driver::dedup_key(sources, d)))
            .cloned()
            .collect();
        tally.add(&fresh);
        match format {
            Format::Human => eprint!("{}", diagnostics::render_human(sources, &fresh, color)),
            Format::Json => {
                out.write_all(diagnostics::render_json(sources, &fresh).as_bytes())
                    .into_diagnostic()?;
            }
        }
    }
    out.flush().into_diagnostic()?;
    let failed = tally.errors > 0 || (deny_warnings && tally.warnings > 0);
    if format == Format::Human {
        let names: Vec<String> = programs
            .iter()
            .map(|p| format!("`{}`", p.entry.display()))
            .collect();
        let what = if names.len() == 1 {
            names[0].clone()
        } else {
            format!("{} files", names.len())
        };
        if failed {
            eprintln!("error: {what} failed the check: {tally}");
        } else {
            eprintln!("checked {what}: {tally}");
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn fmt(paths: &[PathBuf], check_only: bool, color: bool) -> miette::Result<ExitCode> {
    let files = driver::collect_entries(paths).map_err(driver_error)?;
    let mut changed = Vec::new();
    let mut broken = 0;
    for path in &files {
        let text = std::fs::read_to_string(path)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot read `{}`", path.display()))?;
        let mut sources = score::source::SourceMap::new();
        let id = sources.add(
            path.display().to_string(),
            score::source::Origin::Disk(path.clone()),
            text.clone(),
        );
        match score::fmt::format_source(id, &text) {
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                changed.push(path.clone());
                if !check_only {
                    std::fs::write(path, formatted)
                        .into_diagnostic()
                        .wrap_err_with(|| format!("cannot write `{}`", path.display()))?;
                }
            }
            Err(errors) => {
                broken += 1;
                eprint!("{}", diagnostics::render_human(&sources, &errors, color));
                eprintln!(
                    "error: `{}` has syntax errors; it was not formatted",
                    path.display()
                );
            }
        }
    }
    for path in &changed {
        if check_only {
            println!("would reformat {}", path.display());
        } else {
            println!("formatted {}", path.display());
        }
    }
    if check_only && !changed.is_empty() {
        eprintln!(
            "{} of {} files would be reformatted; run `score fmt` to fix",
            changed.len(),
            files.len()
        );
    }
    let failed = broken > 0 || (check_only && !changed.is_empty());
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn explain(code: Option<&str>) -> miette::Result<ExitCode> {
    match code {
        None => {
            for info in diagnostics::CODES {
                println!(
                    "{}  {:<7}  {}",
                    info.code,
                    info.severity.as_str(),
                    info.title
                );
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

fn parse_graph_format(text: &str) -> Result<score::graph::GraphFormat, String> {
    text.parse()
}

/// Check `file` and compile its plan. Diagnostics go to stderr; when there
/// is an error, the exit code to return instead of a plan.
fn compile(
    file: &std::path::Path,
    color: bool,
) -> miette::Result<Result<score::plan::Plan, ExitCode>> {
    let program = driver::check_file(file).map_err(driver_error)?;
    let sources = program.sources();
    eprint!(
        "{}",
        diagnostics::render_human(sources, program.diagnostics(), color)
    );
    if program.checked.has_errors() {
        let mut tally = Tally::default();
        tally.add(program.diagnostics());
        eprintln!("error: `{}` failed the check: {tally}", file.display());
        return Ok(Err(ExitCode::from(1)));
    }
    let entry_dir = file.parent().unwrap_or(std::path::Path::new(""));
    match score::plan::build(&program.checked, sources, entry_dir) {
        Ok(plan) => Ok(Ok(plan)),
        Err(error) => Err(match error.help {
            Some(help) => miette!(help = help, "{}", error.message),
            None => miette!("{}", error.message),
        }),
    }
}

/// Write to a file, or to stdout when no file is given.
fn write_output(path: Option<&std::path::Path>, bytes: &[u8]) -> miette::Result<()> {
    match path {
        Some(path) => std::fs::write(path, bytes)
            .into_diagnostic()
            .wrap_err_with(|| format!("cannot write `{}`", path.display())),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes).into_diagnostic()?;
            out.flush().into_diagnostic()
        }
    }
}

fn driver_error(error: driver::DriverError) -> miette::Report {
    let help = match &error {
        driver::DriverError::NothingToCheck { .. } => {
            "pass a `.score` file, or a directory that contains some"
        }
        _ => "check the path and its permissions",
    };
    miette!(help = help, "{error}")
}
