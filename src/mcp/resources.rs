//! The MCP resources: what an agent reads to write a score and to follow a
//! run. The language reference (`docs/language.md`, embedded), every
//! stdlib module (embedded by `build.rs`), every diagnostic's explanation,
//! and each run's journal and report, under `score://`:
//!
//! - `score://docs/language`
//! - `score://stdlib/MODULE` (e.g. `score://stdlib/std.checks`)
//! - `score://diagnostics/CODE` (e.g. `score://diagnostics/E0401`)
//! - `score://runs/RUN_ID/journal` and `score://runs/RUN_ID/report`
//!
//! The server masks secrets in whatever is read here (see `mod.rs`).

use super::{plain_name, run_state};
use crate::diagnostics::{self, Code};
use crate::runtime::journal::RunsDir;
use crate::syntax::stdlib;
use rmcp::model::{Resource, ResourceTemplate};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The language reference, as the repository has it.
const LANGUAGE: &str = include_str!("../../docs/language.md");

const MARKDOWN: &str = "text/markdown";
const SCORE: &str = "text/x-score";
const JSON_LINES: &str = "application/jsonl";
const TEXT: &str = "text/plain";

/// How many of a workspace's runs are listed (the latest); older ones can
/// still be read by their URI.
const LISTED_RUNS: usize = 20;

/// Every resource there is now: the fixed ones, the latest runs of the
/// workspace at `root`, and the `known` runs (id → workspace).
pub(crate) fn list(root: &Path, known: &BTreeMap<String, PathBuf>) -> Vec<Resource> {
    let mut out = vec![
        Resource::new("score://docs/language", "language")
            .with_title("The score language reference")
            .with_mime_type(MARKDOWN),
    ];
    out.extend(stdlib::modules().map(|(module, _)| {
        Resource::new(format!("score://stdlib/{module}"), module)
            .with_title(format!("Standard library module {module}"))
            .with_mime_type(SCORE)
    }));
    out.extend(diagnostics::CODES.iter().map(|info| {
        Resource::new(
            format!("score://diagnostics/{}", info.code.as_str()),
            info.code.as_str(),
        )
        .with_title(format!("{}: {}", info.code.as_str(), info.title))
        .with_mime_type(MARKDOWN)
    }));
    let mut runs: Vec<String> = RunsDir::new(root).list();
    runs.extend(
        known
            .keys()
            .filter(|id| !runs.contains(id))
            .cloned()
            .collect::<Vec<_>>(),
    );
    runs.sort();
    for run in runs.iter().rev().take(LISTED_RUNS) {
        out.push(
            Resource::new(
                format!("score://runs/{run}/journal"),
                format!("{run} journal"),
            )
            .with_title(format!("The journal of run {run}"))
            .with_mime_type(JSON_LINES),
        );
        out.push(
            Resource::new(
                format!("score://runs/{run}/report"),
                format!("{run} report"),
            )
            .with_title(format!("The report of run {run}"))
            .with_mime_type(TEXT),
        );
    }
    out
}

/// The URI templates, for runs started later and every module and code.
pub(crate) fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new("score://runs/{run_id}/journal", "run journal")
            .with_description("A run's journal, one JSON event per line")
            .with_mime_type(JSON_LINES),
        ResourceTemplate::new("score://runs/{run_id}/report", "run report")
            .with_description("A run's report: its state, each task, the totals")
            .with_mime_type(TEXT),
        ResourceTemplate::new("score://stdlib/{module}", "stdlib module")
            .with_description("A standard library module, e.g. std.checks")
            .with_mime_type(SCORE),
        ResourceTemplate::new("score://diagnostics/{code}", "diagnostic explanation")
            .with_description("What a diagnostic code means, e.g. E0401")
            .with_mime_type(MARKDOWN),
    ]
}

/// The text of resource `uri` and its MIME type, or why there is none.
/// Runs are looked for in the `known` workspaces, then in `root` and its
/// parents.
pub(crate) fn read(
    root: &Path,
    known: &BTreeMap<String, PathBuf>,
    uri: &str,
) -> Result<(String, &'static str), String> {
    let unknown = || format!("there is no resource `{uri}`; list them with resources/list");
    let rest = uri.strip_prefix("score://").ok_or_else(unknown)?;
    let (kind, name) = rest.split_once('/').ok_or_else(unknown)?;
    match kind {
        "docs" if name == "language" => Ok((LANGUAGE.to_string(), MARKDOWN)),
        "stdlib" => stdlib::module(name)
            .map(|text| (text.to_string(), SCORE))
            .ok_or_else(|| format!("there is no stdlib module `{name}`")),
        "diagnostics" => Code::parse(name)
            .map(|code| (diagnostics::explain(code), MARKDOWN))
            .ok_or_else(|| format!("`{name}` is not a diagnostic code of score")),
        "runs" => {
            let (run_id, what) = name.split_once('/').ok_or_else(unknown)?;
            if !plain_name(run_id) {
                return Err(format!("`{run_id}` is not a run id"));
            }
            let workspace = match known.get(run_id) {
                Some(dir) => dir.clone(),
                None => crate::runtime::workspace_of_run(run_id, None, root)
                    .map_err(|refusal| refusal.message)?,
            };
            match what {
                "journal" => {
                    let path = RunsDir::new(&workspace).run(run_id).events();
                    std::fs::read_to_string(&path)
                        .map(|text| (text, JSON_LINES))
                        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))
                }
                "report" => run_state::read(&workspace, run_id)
                    .map(|state| (run_state::report(&state), TEXT)),
                _ => Err(unknown()),
            }
        }
        _ => Err(unknown()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_fixed_resource_reads() {
        let dir = tempfile::tempdir().unwrap();
        let listed = list(dir.path(), &BTreeMap::new());
        assert!(listed.len() > diagnostics::CODES.len());
        for resource in &listed {
            let (text, mime) = read(dir.path(), &BTreeMap::new(), &resource.uri).unwrap();
            assert!(!text.is_empty(), "{}", resource.uri);
            assert_eq!(Some(mime), resource.mime_type.as_deref());
        }
        let (text, _) = read(dir.path(), &BTreeMap::new(), "score://diagnostics/E0401").unwrap();
        assert!(text.contains("E0401"), "{text}");
    }

    #[test]
    fn unknown_and_escaping_uris_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for uri in [
            "file:///etc/passwd",
            "score://docs/other",
            "score://stdlib/std.nothing",
            "score://diagnostics/E9999",
            "score://runs/../journal",
            "score://runs/../../etc/report",
            "score://runs/nothing/journal",
        ] {
            assert!(read(dir.path(), &BTreeMap::new(), uri).is_err(), "{uri}");
        }
    }
}
