//! Long explanations: `score explain CODE` and `docs/errors.md`, both
//! generated from the registry so they cannot drift apart.

use super::{CODES, Code};

/// The explanation of one code as Markdown, headed by its code and title.
pub fn explain(code: Code) -> String {
    let info = code.info();
    format!(
        "# {}: {}\n\nSeverity: {}.\n\n{}\n",
        info.code,
        info.title,
        info.severity.as_str(),
        info.explanation.trim()
    )
}

/// The whole of `docs/errors.md`.
pub fn errors_markdown() -> String {
    let mut out = String::from(
        "# Diagnostic codes\n\n\
         <!-- Generated from src/diagnostics/explanations by `UPDATE_DOCS=1 cargo test --test docs`; do not edit by hand. -->\n\n\
         Every diagnostic of `score check` has a stable code. `score explain CODE` prints the \
         same text as this page.\n\n\
         | code | severity | meaning |\n| --- | --- | --- |\n",
    );
    for info in CODES {
        out.push_str(&format!(
            "| [{code}](#{anchor}) | {severity} | {title} |\n",
            code = info.code,
            anchor = info.code.as_str().to_lowercase(),
            severity = info.severity.as_str(),
            title = info.title
        ));
    }
    for info in CODES {
        out.push('\n');
        // Demote the explanation's headings by one level under the code's `##`.
        let mut in_fence = false;
        let body = info
            .explanation
            .trim()
            .lines()
            .map(|line| {
                if line.starts_with("```") {
                    in_fence = !in_fence;
                }
                if !in_fence && line.starts_with('#') {
                    format!("#{line}")
                } else {
                    line.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        out.push_str(&format!(
            "## {}\n\n**{}** ({}).\n\n{}\n",
            info.code,
            info.title,
            info.severity.as_str(),
            body
        ));
    }
    out
}
