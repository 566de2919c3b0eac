//! Generated documentation stays current: `docs/errors.md` is the registry
//! of diagnostic codes rendered as Markdown. Regenerate it with
//! `UPDATE_DOCS=1 cargo test --test docs`.

use std::path::Path;

#[test]
fn errors_md_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/errors.md");
    let expected = score::diagnostics::errors_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/errors.md is out of date: run `UPDATE_DOCS=1 cargo test --test docs`"
    );
}

#[test]
fn every_code_is_documented_with_examples() {
    for info in score::diagnostics::CODES {
        let text = info.explanation;
        assert!(
            text.contains("```score"),
            "{} needs a ```score example",
            info.code
        );
        assert!(
            !text.contains("TODO"),
            "{} explanation is unfinished",
            info.code
        );
    }
}

/// The `score` blocks of a Markdown text.
fn score_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match &mut current {
            None if line.trim_start() == "```score" => current = Some(String::new()),
            Some(block) if line.trim_start() == "```" => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

fn check_text(text: &str) -> Vec<score::diagnostics::Diagnostic> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let program = score::syntax::load_source("doc.score", text.to_string(), dir, &|p| {
        std::fs::read_to_string(p)
    });
    score::check::check(&program).diagnostics
}

/// The sample on the README's front page is a real, clean score.
#[test]
fn readme_sample_checks_clean() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let blocks = score_blocks(&readme);
    assert!(!blocks.is_empty());
    for block in blocks {
        let diagnostics = check_text(&block);
        assert!(diagnostics.is_empty(), "{diagnostics:#?}\n{block}");
    }
}

/// Each explanation's example produces its code, and its fix checks clean.
#[test]
fn explanations_examples_are_true() {
    for info in score::diagnostics::CODES {
        let text = info.explanation;
        let example = text.split("## Example").nth(1).and_then(|rest| {
            score_blocks(rest.split("## Fix").next().unwrap())
                .into_iter()
                .next()
        });
        let fix = text
            .split("## Fix")
            .nth(1)
            .and_then(|rest| score_blocks(rest).into_iter().next());
        let (Some(example), Some(fix)) = (example, fix) else {
            panic!(
                "{} needs a ```score block under ## Example and ## Fix",
                info.code
            );
        };
        let found = check_text(&example);
        assert!(
            found.iter().any(|d| d.code == info.code),
            "the example of {} does not produce it: {found:#?}",
            info.code
        );
        let found = check_text(&fix);
        assert!(
            found.is_empty(),
            "the fix of {} does not check clean: {found:#?}",
            info.code
        );
    }
}

/// The table of `std.agents` in the language reference says what the
/// standard library really runs: each command agent's argv (quoted where
/// an argument has a space), its protocol and its tier.
#[test]
fn the_std_agents_table_matches_the_stdlib() {
    use score::plan::Provider;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/language.md");
    let text = std::fs::read_to_string(path).unwrap();
    let agents = score::draft::agent::std_agents();
    assert!(agents.len() >= 6, "{agents:?}");
    for name in agents {
        let (plan, id) = score::draft::agent::drafting_plan(Some(&name), None, false).unwrap();
        let agent = &plan.agents[&id];
        let row = text
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("no row for `{name}` in the std.agents table"));
        // `| agent | argv | stdin | protocol | tier |`
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert_eq!(
            cells[5],
            format!("{:?}", agent.tier).to_lowercase(),
            "{row}"
        );
        if let Provider::Command { run, protocol, .. } = &agent.provider {
            let argv: Vec<String> = run
                .iter()
                .map(|a| {
                    if a.contains(' ') {
                        format!("\"{a}\"")
                    } else {
                        a.clone()
                    }
                })
                .collect();
            assert!(
                cells[2].starts_with(&format!("`{}`", argv.join(" "))),
                "the row of `{name}` shows another argv than the stdlib's {argv:?}: {row}"
            );
            assert_eq!(cells[4], format!("`{}`", protocol.as_str()), "{row}");
        }
    }
}
