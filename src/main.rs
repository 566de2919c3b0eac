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
    about = "Compile and check architecture scores: intents, contracts, agents, parts and sequences",
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
}

fn main() -> ExitCode {
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
        Command::Lsp => {
            score::lsp::serve_stdio()
                .into_diagnostic()
                .wrap_err("the language server stopped")?;
            Ok(ExitCode::SUCCESS)
        }
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
