//! The `score` command line: parse flags (`args.rs`), call the library,
//! print what it returns and map outcomes to exit codes (0 success, 1
//! problems found in the sources or a failed task, 2 usage or I/O, 130
//! cancelled). The commands with more to print than a line live beside it:
//! `running.rs` (runs), `authoring.rs` (writing and exporting scores);
//! `output.rs` is what they share.

mod args;
mod authoring;
mod output;
mod running;

use args::*;
use authoring::*;
use clap::Parser;
use miette::{IntoDiagnostic, WrapErr, miette};
use output::*;
use running::*;
use score::driver;
use score::runtime;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

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
