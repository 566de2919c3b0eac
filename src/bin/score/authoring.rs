//! The commands that write scores: `score draft` (an agent with the checker
//! in the loop), `score import speckit`, `score init`, and the ones that
//! turn a score into something else: `score export argo`, `score explain`.

use crate::args::*;
use crate::output::*;
use miette::miette;
use score::diagnostics::{self, Code};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `score draft`: the library plays the rounds; this shows them, writes
/// the clean score and sets the status.
pub(crate) fn draft(request: score::draft::DraftRequest, force: bool) -> miette::Result<ExitCode> {
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
pub(crate) fn import_speckit(
    path: &Path,
    output: Option<&Path>,
    report: bool,
) -> miette::Result<ExitCode> {
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
pub(crate) fn init(dir: PathBuf, force: bool) -> miette::Result<ExitCode> {
    let written = score::init::init(&dir, force, &|name| std::env::var_os(name))
        .map_err(|error| miette!(help = error.help(), "{error}"))?;
    eprintln!("{}", written.summary());
    Ok(ExitCode::SUCCESS)
}

/// `score export argo`: the plan as an Argo Workflow in YAML.
pub(crate) fn export(target: ExportTarget, color: bool) -> miette::Result<ExitCode> {
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

pub(crate) fn explain(code: Option<&str>) -> miette::Result<ExitCode> {
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
