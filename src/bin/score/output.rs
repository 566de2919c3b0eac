//! What every command shares: reading a score or a plan (its diagnostics
//! shown), writing to a file or stdout, colour, and turning library errors
//! into the miette reports `main` prints (exit 2).

use miette::{IntoDiagnostic, WrapErr, miette};
use score::diagnostics::ColorChoice;
use score::driver::{self, PlanError};
use score::plan::Plan;
use score::runtime;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

/// The plan of `file`: a score compiled (its warnings shown), or with
/// `plan_files` any other file read as a plan. `Err` is the exit code once
/// a problem in the sources has been shown.
pub(crate) fn plan_of(
    file: &Path,
    color: bool,
    plan_files: bool,
) -> miette::Result<Result<Plan, ExitCode>> {
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

pub(crate) fn plan_error(error: &PlanError, color: bool) -> miette::Result<ExitCode> {
    eprint!("{}", error.diagnostics(color));
    match error.usage() {
        None => Ok(ExitCode::from(1)),
        Some((message, Some(help))) => Err(miette!(help = help, "{message}")),
        Some((message, None)) => Err(miette!("{message}")),
    }
}

pub(crate) fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    }
}

pub(crate) fn parse_graph_format(text: &str) -> Result<score::graph::GraphFormat, String> {
    text.parse()
}

/// Write to a file, or to stdout when no file is given.
pub(crate) fn write_output(path: Option<&Path>, bytes: &[u8]) -> miette::Result<ExitCode> {
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

pub(crate) fn driver_error(error: driver::DriverError) -> miette::Report {
    miette!(help = error.help(), "{error}")
}

pub(crate) fn refused(refusal: runtime::Refusal) -> miette::Report {
    miette!(help = refusal.help, "{}", refusal.message)
}
