//! The commands around a run: `score run` (with `--dry-run`, `--rehearse`,
//! `--ui`), `score plan --diff`, `score serve`, `score doctor`. Each calls
//! the runtime, prints what it returns and picks the exit code.

use crate::args::*;
use crate::output::*;
use miette::{IntoDiagnostic, miette};
use score::runtime::{self, Mode, RunContext, RunOptions};
use std::path::Path;
use std::process::ExitCode;

/// `score run`: the plan (compiled, or read from a plan file), prepared,
/// then run (or shown with `--dry-run`) and reported.
pub(crate) fn run_score(args: RunArgs, color: bool) -> miette::Result<ExitCode> {
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

/// `score plan --diff`: what a run now would do, per part.
pub(crate) fn plan_diff(
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

/// `score serve`: the live page of the workspace's runs, until Ctrl-C.
pub(crate) fn serve(workspace: &Path, addr: Option<&str>) -> miette::Result<ExitCode> {
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
pub(crate) fn page_of_run(
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

/// `score doctor`: the library examines; this prints and sets the status.
pub(crate) fn doctor(
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
