//! The prompt each agent receives, rendered at build time.
//!
//! A template (the built-in `stdlib/templates/prompt.md`, or a score's own
//! through `prompt_template "file.md"`) arranges named sections; this module
//! renders each section from the task in Markdown and fills them in. The
//! template language is deliberately tiny:
//!
//! - `{{name}}` inserts a section;
//! - `{{#name}} ... {{/name}}` keeps its content only when the section is
//!   not empty, `{{^name}} ... {{/name}}` only when it is empty;
//! - `{{! comment }}` is dropped;
//! - `{{input.NAME}}` is kept as it is: the runtime replaces it with the
//!   input's value (as JSON) when it dispatches the task;
//! - a line holding only a block tag or a comment disappears with its line
//!   break, so blocks can sit on lines of their own.

use super::types::{Input, InputSource, ScoreInfo, Task, format_duration};
use std::fmt;

/// The built-in template.
pub const DEFAULT_TEMPLATE: &str = include_str!("../../stdlib/templates/prompt.md");

/// The sections a template may use.
pub const SECTIONS: &[&str] = &[
    "title",
    "score",
    "task",
    "agent",
    "complexity",
    "doc",
    "intents",
    "contracts",
    "boundaries",
    "inputs",
    "outputs",
    "checks",
    "brief",
];

/// Blocks nest at most this deep: rendering (and dropping) the template
/// recurses once per level, and the thirteen sections never need more.
const MAX_BLOCK_NESTING: usize = 64;

/// A problem in a prompt template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    /// 1-based line of the template.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for TemplateError {}

/// A parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    nodes: Vec<Node>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    Text(String),
    Section(usize),
    /// Kept verbatim for the runtime (`{{input.NAME}}`).
    Placeholder(String),
    Block {
        section: usize,
        inverted: bool,
        children: Vec<Node>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TagKind {
    Var,
    Open,
    Inverted,
    Close,
    Comment,
}

#[derive(Debug)]
enum Token<'a> {
    Text(&'a str),
    Tag {
        kind: TagKind,
        name: &'a str,
        line: usize,
    },
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

fn tokenize(text: &str) -> Result<Vec<Token<'_>>, TemplateError> {
    let mut tokens = Vec::new();
    let mut rest = 0;
    while let Some(found) = text[rest..].find("{{") {
        let open = rest + found;
        if open > rest {
            tokens.push(Token::Text(&text[rest..open]));
        }
        let line = line_of(text, open);
        let end = if text[open + 2..].starts_with('!') {
            comment_end(&text[open + 2..])
        } else {
            text[open + 2..].find("}}")
        };
        let Some(len) = end else {
            return Err(TemplateError {
                line,
                message: "`{{` is never closed: add `}}` after the section name".into(),
            });
        };
        let inner = &text[open + 2..open + 2 + len];
        rest = open + 2 + len + 2;
        let (kind, name) = match inner.chars().next() {
            Some('!') => (TagKind::Comment, ""),
            Some('#') => (TagKind::Open, inner[1..].trim()),
            Some('^') => (TagKind::Inverted, inner[1..].trim()),
            Some('/') => (TagKind::Close, inner[1..].trim()),
            _ => (TagKind::Var, inner.trim()),
        };
        tokens.push(Token::Tag { kind, name, line });
    }
    if rest < text.len() {
        tokens.push(Token::Text(&text[rest..]));
    }
    Ok(tokens)
}

/// Where a comment's closing `}}` is: comments may show tags, so each `{{`
/// inside one needs its own `}}` before the comment ends.
fn comment_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i + 1 < bytes.len() {
        match &bytes[i..i + 2] {
            b"{{" => {
                depth += 1;
                i += 2;
            }
            b"}}" if depth == 0 => return Some(i),
            b"}}" => {
                depth -= 1;
                i += 2;
            }
            _ => i += 1,
        }
    }
    None
}

/// Whether the tag at `i` sits on a line of its own. Decided on the
/// original tokens, before any line is removed.
fn standalone(tokens: &[Token<'_>], i: usize) -> bool {
    let before_ok = match i.checked_sub(1).map(|p| &tokens[p]) {
        None => true,
        Some(Token::Text(t)) => match t.rfind('\n') {
            Some(nl) => t[nl + 1..].chars().all(|c| c == ' ' || c == '\t'),
            None => i == 1 && t.chars().all(|c| c == ' ' || c == '\t'),
        },
        Some(Token::Tag { .. }) => false,
    };
    let after_ok = match tokens.get(i + 1) {
        None => true,
        Some(Token::Text(t)) => {
            let trimmed = t.trim_start_matches([' ', '\t']);
            trimmed.is_empty() || trimmed.starts_with('\n') || trimmed.starts_with("\r\n")
        }
        Some(Token::Tag { .. }) => false,
    };
    before_ok && after_ok
}

impl Template {
    /// Parses a template, checking that every section name is known and
    /// every block is closed.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let tokens = tokenize(text)?;
        // Which part of each text token survives: [cut_start, cut_end).
        let mut cuts: Vec<(usize, usize)> = tokens
            .iter()
            .map(|t| match t {
                Token::Text(s) => (0, s.len()),
                Token::Tag { .. } => (0, 0),
            })
            .collect();
        for (i, token) in tokens.iter().enumerate() {
            let Token::Tag { kind, .. } = token else {
                continue;
            };
            if *kind == TagKind::Var || !standalone(&tokens, i) {
                continue;
            }
            if let Some(Token::Text(t)) = i.checked_sub(1).map(|p| &tokens[p]) {
                cuts[i - 1].1 = t.rfind('\n').map(|nl| nl + 1).unwrap_or(0);
            }
            if let Some(Token::Text(t)) = tokens.get(i + 1) {
                let spaces = t.len() - t.trim_start_matches([' ', '\t']).len();
                let rest = &t[spaces..];
                let newline = if rest.starts_with("\r\n") {
                    2
                } else if rest.starts_with('\n') {
                    1
                } else {
                    0
                };
                cuts[i + 1].0 = spaces + newline;
            }
        }

        // (section, inverted, line, children so far)
        let mut stack: Vec<(usize, bool, usize, Vec<Node>)> = Vec::new();
        let mut nodes: Vec<Node> = Vec::new();
        for (i, token) in tokens.iter().enumerate() {
            let current = match stack.last_mut() {
                Some((_, _, _, children)) => children,
                None => &mut nodes,
            };
            match *token {
                Token::Text(t) => {
                    let (start, end) = cuts[i];
                    if start < end {
                        current.push(Node::Text(t[start..end].to_string()));
                    }
                }
                Token::Tag {
                    kind: TagKind::Comment,
                    ..
                } => {}
                Token::Tag {
                    kind: TagKind::Var,
                    name,
                    line,
                } => {
                    if let Some(input) = name.strip_prefix("input.") {
                        if input.is_empty() {
                            return Err(TemplateError {
                                line,
                                message: "`{{input.}}` names no input: write `{{input.NAME}}`"
                                    .into(),
                            });
                        }
                        current.push(Node::Placeholder(name.to_string()));
                    } else {
                        current.push(Node::Section(section_index(name, line)?));
                    }
                }
                Token::Tag {
                    kind: kind @ (TagKind::Open | TagKind::Inverted),
                    name,
                    line,
                } => {
                    let section = section_index(name, line)?;
                    if stack.len() == MAX_BLOCK_NESTING {
                        return Err(TemplateError {
                            line,
                            message: format!(
                                "blocks nest more than {MAX_BLOCK_NESTING} deep; a block inside \
                                 a block of the same section adds nothing: remove the inner ones"
                            ),
                        });
                    }
                    stack.push((section, kind == TagKind::Inverted, line, Vec::new()));
                }
                Token::Tag {
                    kind: TagKind::Close,
                    name,
                    line,
                } => {
                    let Some((section, inverted, _, children)) = stack.pop() else {
                        return Err(TemplateError {
                            line,
                            message: format!(
                                "`{{{{/{name}}}}}` closes a block that was never opened"
                            ),
                        });
                    };
                    if SECTIONS[section] != name {
                        return Err(TemplateError {
                            line,
                            message: format!(
                                "`{{{{/{name}}}}}` closes the block `{}`: write `{{{{/{}}}}}`",
                                SECTIONS[section], SECTIONS[section]
                            ),
                        });
                    }
                    let block = Node::Block {
                        section,
                        inverted,
                        children,
                    };
                    match stack.last_mut() {
                        Some((_, _, _, parent)) => parent.push(block),
                        None => nodes.push(block),
                    }
                }
            }
        }
        if let Some((section, _, line, _)) = stack.pop() {
            return Err(TemplateError {
                line,
                message: format!(
                    "the block `{}` is never closed: add `{{{{/{}}}}}`",
                    SECTIONS[section], SECTIONS[section]
                ),
            });
        }
        Ok(Template { nodes })
    }

    /// The built-in template.
    pub fn builtin() -> Template {
        Template::parse(DEFAULT_TEMPLATE).expect("the built-in prompt template parses")
    }

    /// Fills in the sections; the result ends with exactly one line break.
    pub fn render(&self, sections: &Sections) -> String {
        let mut out = String::new();
        render_nodes(&self.nodes, sections, &mut out);
        let trimmed = out.trim_start_matches(['\n', '\r']).trim_end();
        let mut result = String::with_capacity(trimmed.len() + 1);
        result.push_str(trimmed);
        result.push('\n');
        result
    }
}

fn section_index(name: &str, line: usize) -> Result<usize, TemplateError> {
    SECTIONS.iter().position(|s| *s == name).ok_or_else(|| {
        let hint = SECTIONS
            .iter()
            .map(|s| (strsim::levenshtein(s, name), *s))
            .filter(|(d, _)| *d <= 2)
            .min()
            .map(|(_, s)| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        TemplateError {
            line,
            message: format!(
                "unknown section `{name}`; {hint}the sections are: {}, and `input.NAME` for an input's value",
                SECTIONS.join(", ")
            ),
        }
    })
}

fn render_nodes(nodes: &[Node], sections: &Sections, out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Section(i) => out.push_str(&sections.values[*i]),
            Node::Placeholder(p) => {
                out.push_str("{{");
                out.push_str(p);
                out.push_str("}}");
            }
            Node::Block {
                section,
                inverted,
                children,
            } => {
                if sections.values[*section].is_empty() == *inverted {
                    render_nodes(children, sections, out);
                }
            }
        }
    }
}

/// The rendered sections of one task's prompt, in [`SECTIONS`] order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sections {
    values: Vec<String>,
}

/// A part another builds on (one of its `depends_on`), and the paths it
/// may write: where the work the dependant needs is.
#[derive(Clone, Copy, Debug)]
pub struct Upstream<'a> {
    pub id: &'a str,
    pub owns: &'a [String],
}

impl Sections {
    /// Renders every section for `task`, whose `depends_on` are
    /// `upstream` (in that order; those that write no file may be left
    /// out). Sections never end with a line break; an empty one is `""`.
    pub fn for_task(score: &ScoreInfo, task: &Task, upstream: &[Upstream<'_>]) -> Sections {
        let values = SECTIONS
            .iter()
            .map(|name| match *name {
                "title" => score.title.clone(),
                "score" => score.name.clone(),
                "task" => task.id.clone(),
                "agent" => task.agent.clone(),
                "complexity" => task.complexity.to_string(),
                "doc" => task.doc.clone().unwrap_or_default().trim_end().to_string(),
                "intents" => intents(task),
                "contracts" => contracts(task),
                "boundaries" => boundaries(task, upstream),
                "inputs" => inputs(task),
                "outputs" => outputs(task),
                "checks" => checks(task),
                "brief" => task
                    .brief
                    .clone()
                    .unwrap_or_default()
                    .trim_end()
                    .to_string(),
                _ => String::new(),
            })
            .collect();
        Sections { values }
    }
}

/// Renders the prompt of `task` with `template`; `upstream` as for
/// [`Sections::for_task`].
pub fn render(
    template: &Template,
    score: &ScoreInfo,
    task: &Task,
    upstream: &[Upstream<'_>],
) -> String {
    template.render(&Sections::for_task(score, task, upstream))
}

fn code_list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn intents(task: &Task) -> String {
    let mut out = Vec::new();
    for intent in &task.intents {
        let mut s = format!("- **{}**: {}", intent.id, intent.statement);
        if let Some(p) = &intent.priority {
            s.push_str(&format!(" (priority: {p})"));
        }
        if !intent.accept.is_empty() {
            s.push_str("\n  It is done when:");
            for a in &intent.accept {
                s.push_str(&format!("\n  - {a}"));
            }
        }
        out.push(s);
    }
    out.join("\n")
}

fn contracts(task: &Task) -> String {
    let mut out = Vec::new();
    for c in &task.contracts {
        let mut s = format!("### `{}`", c.name);
        if let Some(doc) = &c.doc {
            s.push_str("\n\n");
            s.push_str(doc.trim_end());
        }
        let mut terms = Vec::new();
        if !c.inputs.is_empty() {
            terms.push(format!("- takes: {}", code_list(&c.inputs)));
        }
        if !c.outputs.is_empty() {
            terms.push(format!("- provides: {}", code_list(&c.outputs)));
        }
        if !c.owns.is_empty() {
            terms.push(format!("- owns: {}", code_list(&c.owns)));
        }
        if !c.reads.is_empty() {
            terms.push(format!("- reads: {}", code_list(&c.reads)));
        }
        for e in &c.ensures {
            terms.push(format!("- ensures: {e}"));
        }
        if !terms.is_empty() {
            s.push_str("\n\n");
            s.push_str(&terms.join("\n"));
        }
        out.push(s);
    }
    out.join("\n\n")
}

/// What the part may write and read. Without `reads` it may read the
/// whole repository (its checkout holds all of it, and the sandbox confines
/// reads only by the agent's `reads`); `reads` narrows that to those paths,
/// the files of the parts it builds on and its own. The parts it builds on
/// are named with what they own: the work it must use is there.
fn boundaries(task: &Task, upstream: &[Upstream<'_>]) -> String {
    let write = if task.owns.is_empty() {
        "You may write: nothing. This part changes no file; it only returns values.".to_string()
    } else {
        format!("You may write: {}.", code_list(&task.owns))
    };
    let upstream: Vec<&Upstream<'_>> = upstream.iter().filter(|u| !u.owns.is_empty()).collect();
    let mut read = if task.reads.is_empty() {
        "You may read: the whole repository.".to_string()
    } else {
        let mut what = vec![code_list(&task.reads)];
        if !upstream.is_empty() {
            what.push("the files of the parts this one builds on".to_string());
        }
        if !task.owns.is_empty() {
            what.push("what you may write".to_string());
        }
        format!("You may read: {}.", join_and(&what))
    };
    if !upstream.is_empty() {
        let files: Vec<String> = upstream
            .iter()
            .map(|u| format!("{} (part `{}`)", code_list(u.owns), u.id))
            .collect();
        read.push_str(&format!(
            "\nThis part builds on parts that finish before it starts; read their files to use \
             their work: {}.",
            files.join(", ")
        ));
    }
    let rest = if task.owns.is_empty() {
        "Do not change any file: changes are rejected."
    } else {
        "Do not change anything else: changes outside what you may write are rejected."
    };
    format!(
        "{write}\n{read}\n{rest}\n\nPaths are relative to the workspace (the root of the repository), \
         and `*` matches within one directory, `**` across directories."
    )
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn input_origin(input: &Input) -> String {
    match &input.source {
        InputSource::Task { task, output } => {
            format!("the output `{output}` of the part `{task}`")
        }
        InputSource::ScoreInput { name } => {
            format!("the score input `{name}`, given when the run starts")
        }
    }
}

fn inputs(task: &Task) -> String {
    let mut out = Vec::new();
    for (name, input) in &task.inputs {
        let mut s = format!(
            "### `{name}`: `{}`\n\nFrom {}.",
            input.ty,
            input_origin(input)
        );
        if let Some(doc) = &input.doc {
            s.push(' ');
            s.push_str(doc.trim_end());
        }
        s.push_str(&format!("\n\n```json\n{{{{input.{name}}}}}\n```"));
        out.push(s);
    }
    out.join("\n\n")
}

fn outputs(task: &Task) -> String {
    if task.outputs.is_empty() {
        return "This part returns no values. When you are done, end your reply with an empty \
                JSON object, `{}`, in a fenced `json` code block."
            .to_string();
    }
    let mut s = String::from(
        "When you are done, end your reply with one JSON object in a fenced `json` code block, \
         holding these values:\n",
    );
    for (name, spec) in &task.outputs {
        s.push_str(&format!("\n- `{name}`: `{}`", spec.ty));
        if let Some(doc) = &spec.doc {
            s.push_str(" — ");
            s.push_str(doc.trim_end());
        }
    }
    s.push_str("\n\nThe object must match this JSON Schema:\n\n```json\n");
    s.push_str(task.result_schema.pretty());
    s.push_str("\n```");
    s
}

fn checks(task: &Task) -> String {
    let mut parts = Vec::new();
    if !task.checks.is_empty() {
        let mut s = String::from(
            "When you are done, these commands run in the workspace; each must succeed:\n",
        );
        for c in &task.checks {
            s.push_str(&format!(
                "\n- `{}` (time limit {})",
                c.command,
                format_duration(c.timeout_ms)
            ));
        }
        parts.push(s);
    }
    if !task.postconditions.is_empty() {
        let mut s = String::from("These must also hold:\n");
        for p in &task.postconditions {
            s.push_str(&format!("\n- {p}"));
        }
        parts.push(s);
    }
    if task.retries > 0 {
        let attempts = if task.retries == 1 {
            "one more attempt".to_string()
        } else {
            format!("up to {} more attempts", task.retries)
        };
        let what = if task.checks.is_empty() {
            "If your reply does not match the schema"
        } else {
            "If a check fails or your reply does not match the schema"
        };
        parts.push(format!("{what}, you get the failure and {attempts}."));
    }
    if let Some(who) = &task.approve {
        parts.push(format!("Then {who} reviews your work and must approve it."));
    }
    parts.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sections(pairs: &[(&str, &str)]) -> Sections {
        let values = SECTIONS
            .iter()
            .map(|s| {
                pairs
                    .iter()
                    .find(|(k, _)| k == s)
                    .map(|(_, v)| v.to_string())
                    .unwrap_or_default()
            })
            .collect();
        Sections { values }
    }

    #[test]
    fn variables_and_blocks() {
        let t = Template::parse("# {{title}}\n{{#brief}}\nBrief: {{brief}}\n{{/brief}}\n{{^brief}}\nno brief\n{{/brief}}\nend\n").unwrap();
        assert_eq!(
            t.render(&sections(&[("title", "T"), ("brief", "do it")])),
            "# T\nBrief: do it\nend\n"
        );
        assert_eq!(
            t.render(&sections(&[("title", "T")])),
            "# T\nno brief\nend\n"
        );
    }

    #[test]
    fn standalone_tags_and_comments_leave_no_blank_lines() {
        let t = Template::parse("{{! a\nmulti-line comment showing {{doc}} }}\nA\n  {{#doc}}  \n{{doc}}\n{{/doc}}\n{{#brief}}\n{{brief}}\n{{/brief}}\nB").unwrap();
        assert_eq!(t.render(&sections(&[("doc", "D")])), "A\nD\nB\n");
        assert_eq!(t.render(&sections(&[])), "A\nB\n");
    }

    #[test]
    fn inline_blocks_keep_their_surroundings() {
        let t = Template::parse("x {{#doc}}[{{doc}}]{{/doc}} y").unwrap();
        assert_eq!(t.render(&sections(&[("doc", "d")])), "x [d] y\n");
        assert_eq!(t.render(&sections(&[])), "x  y\n");
    }

    #[test]
    fn input_placeholders_are_kept_for_the_runtime() {
        let t = Template::parse("value: {{ input.repo }}").unwrap();
        assert_eq!(t.render(&sections(&[])), "value: {{input.repo}}\n");
    }

    #[test]
    fn errors_say_what_and_where() {
        let e = Template::parse("a\n{{titel}}").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("unknown section `titel`"), "{e}");
        assert!(e.message.contains("did you mean `title`?"), "{e}");
        let e = Template::parse("{{#doc}}\n{{/brief}}").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 2: `{{/brief}}` closes the block `doc`: write `{{/doc}}`"
        );
        let e = Template::parse("{{#doc}}x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1: the block `doc` is never closed: add `{{/doc}}`"
        );
        let e = Template::parse("x {{/doc}}").unwrap_err();
        assert!(e.message.contains("never opened"), "{e}");
        let e = Template::parse("x\n\n{{title").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(Template::parse("{{input.}}").is_err());
    }

    #[test]
    fn deeply_nested_blocks_are_an_error_not_a_stack_overflow() {
        let nested = |n: usize| format!("{}x{}", "{{#doc}}".repeat(n), "{{/doc}}".repeat(n));
        let t = Template::parse(&nested(MAX_BLOCK_NESTING)).unwrap();
        assert_eq!(t.render(&sections(&[("doc", "d")])), "x\n");
        for n in [MAX_BLOCK_NESTING + 1, 100_000] {
            let e = Template::parse(&nested(n)).unwrap_err();
            assert!(e.message.contains("nest more than 64 deep"), "{e}");
        }
    }

    #[test]
    fn a_part_without_reads_may_read_the_repository_and_is_told_its_upstream_files() {
        use crate::plan::fixtures;
        let mut task = fixtures::task("cli", &["model", "plan"], 1000);
        task.owns = vec!["src/cli/**".into()];
        let model_owns = vec!["src/model/**".into(), "src/lib.rs".into()];
        let upstream = [
            Upstream {
                id: "model",
                owns: &model_owns,
            },
            // A part that writes no file has nothing to read.
            Upstream {
                id: "plan",
                owns: &[],
            },
        ];
        let text = boundaries(&task, &upstream);
        assert!(
            text.contains("You may read: the whole repository.\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "read their files to use their work: `src/model/**`, `src/lib.rs` (part `model`)."
            ),
            "{text}"
        );
        assert!(!text.contains("`plan`"), "{text}");
        // `reads` narrows it: to those paths, the upstream files and the
        // part's own.
        task.reads = vec!["docs/**".into()];
        let text = boundaries(&task, &upstream);
        assert!(
            text.contains(
                "You may read: `docs/**`, the files of the parts this one builds on and what you \
                 may write.\n"
            ),
            "{text}"
        );
        let text = boundaries(&task, &[]);
        assert!(
            text.contains("You may read: `docs/**` and what you may write.\n"),
            "{text}"
        );
        assert!(!text.contains("builds on"), "{text}");
    }

    #[test]
    fn the_builtin_template_parses_and_uses_every_section_it_documents() {
        let t = Template::builtin();
        let all = sections(&SECTIONS.iter().map(|s| (*s, "X")).collect::<Vec<_>>());
        let text = t.render(&all);
        assert!(text.starts_with("# X: part `X`\n"), "{text}");
        for heading in [
            "## What this part is for",
            "## Contracts",
            "## Boundaries",
            "## Inputs",
            "## What to return",
            "## How your work will be checked",
            "## Brief",
        ] {
            assert!(text.contains(heading), "missing {heading}:\n{text}");
        }
        assert!(!text.contains("\n\n\n"), "{text}");
        // Boundaries and outputs always have text; the rest may be empty.
        let empty = t.render(&sections(&[
            ("title", "T"),
            ("task", "t"),
            ("boundaries", "B"),
            ("outputs", "O"),
        ]));
        assert!(!empty.contains("## Brief"));
        assert!(!empty.contains("\n\n\n"), "{empty}");
    }
}
