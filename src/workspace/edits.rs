//! File edits sent by HTTP agents (openai, anthropic), which cannot touch
//! the disk themselves: a list of whole files, unified diffs and deletions,
//! validated and applied in the part's worktree.
//!
//! Application is all or nothing: every path is checked before anything is
//! written, and if an edit fails on the way (a diff that does not apply),
//! the files already edited are put back as they were. The agent gets one
//! message per bad edit, and a retry starts from the same files.
//!
//! What is written here is not trusted either: the runtime still computes
//! the worktree's changes and enforces `owns` afterwards, exactly as for a
//! command agent. The checks here only keep edits inside the worktree.

use super::git::{Git, nul_fields};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::fmt;
use std::path::{Path, PathBuf};

/// One edit to one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawEdit", into = "RawEdit")]
pub struct FileEdit {
    /// Relative to the workspace root, `/`-separated.
    pub path: String,
    pub action: EditAction,
}

/// What an edit does to its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EditAction {
    /// Create the file, or replace all of its content.
    Write(String),
    /// A unified diff of this one file, applied with `git apply`.
    Diff(String),
    /// Delete the file.
    Delete,
}

impl FileEdit {
    pub fn write(path: impl Into<String>, content: impl Into<String>) -> FileEdit {
        FileEdit {
            path: path.into(),
            action: EditAction::Write(content.into()),
        }
    }

    pub fn diff(path: impl Into<String>, diff: impl Into<String>) -> FileEdit {
        FileEdit {
            path: path.into(),
            action: EditAction::Diff(diff.into()),
        }
    }

    pub fn delete(path: impl Into<String>) -> FileEdit {
        FileEdit {
            path: path.into(),
            action: EditAction::Delete,
        }
    }
}

/// The JSON form, `{path, content}`, `{path, diff}` or `{path, delete: true}`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEdit {
    path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    diff: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delete: Option<bool>,
}

impl TryFrom<RawEdit> for FileEdit {
    type Error = String;

    fn try_from(raw: RawEdit) -> Result<FileEdit, String> {
        let action = match (raw.content, raw.diff, raw.delete) {
            (Some(content), None, None | Some(false)) => EditAction::Write(content),
            (None, Some(diff), None | Some(false)) => EditAction::Diff(diff),
            (None, None, Some(true)) => EditAction::Delete,
            (None, None, Some(false)) => {
                return Err("`delete` is false, and there is no `content` or `diff`: \
                     give exactly one of `content`, `diff` or `delete: true`"
                    .to_string());
            }
            (None, None, None) => {
                return Err("the edit has no `content`, `diff` or `delete`: \
                     give exactly one of them"
                    .to_string());
            }
            _ => {
                return Err(
                    "the edit has more than one of `content`, `diff` and `delete`: \
                     give exactly one (use two edits for two changes)"
                        .to_string(),
                );
            }
        };
        Ok(FileEdit {
            path: raw.path,
            action,
        })
    }
}

impl From<FileEdit> for RawEdit {
    fn from(edit: FileEdit) -> RawEdit {
        let mut raw = RawEdit {
            path: edit.path,
            content: None,
            diff: None,
            delete: None,
        };
        match edit.action {
            EditAction::Write(content) => raw.content = Some(content),
            EditAction::Diff(diff) => raw.diff = Some(diff),
            EditAction::Delete => raw.delete = Some(true),
        }
        raw
    }
}

/// Why edits were refused. Nothing was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EditError {
    pub problems: Vec<EditProblem>,
}

/// What is wrong with one edit (or with the whole reply, `index: None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EditProblem {
    /// 0-based position in the list.
    pub index: Option<usize>,
    pub path: Option<String>,
    pub message: String,
}

impl fmt::Display for EditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.index, &self.path) {
            (Some(i), Some(path)) => write!(f, "edit {} (`{path}`): {}", i + 1, self.message),
            (Some(i), None) => write!(f, "edit {}: {}", i + 1, self.message),
            (None, _) => f.write_str(&self.message),
        }
    }
}

impl fmt::Display for EditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the file edits were refused and none was applied: ")?;
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for EditError {}

impl EditError {
    pub(crate) fn one(
        index: Option<usize>,
        path: Option<&str>,
        message: impl Into<String>,
    ) -> EditError {
        EditError {
            problems: vec![EditProblem {
                index,
                path: path.map(str::to_string),
                message: message.into(),
            }],
        }
    }
}

/// The JSON Schema of an agent's reply carrying file edits:
/// `{"edits": [{path, content} | {path, diff} | {path, delete: true}, ...]}`.
///
/// The reply is an object rather than a bare list, and every object closes
/// its properties and requires all of them, because that is what OpenAI's
/// strict structured outputs accept; Anthropic takes it as a tool's
/// `input_schema` as is.
pub fn edits_schema() -> Value {
    let path = json!({
        "type": "string",
        "description": "The file's path relative to the workspace root, with `/` between \
                        directories, e.g. `src/main.rs`. No absolute paths, no `..`, \
                        nothing under `.git/` or `.score/`."
    });
    json!({
        "type": "object",
        "description": "Changes to files of the workspace, applied in order, all or none.",
        "properties": {
            "edits": {
                "type": "array",
                "description": "The edits, applied in order.",
                "items": {
                    "anyOf": [
                        {
                            "type": "object",
                            "description": "Create a file, or replace all of its content.",
                            "properties": {
                                "path": path,
                                "content": {
                                    "type": "string",
                                    "description": "The complete new content of the file."
                                }
                            },
                            "required": ["path", "content"],
                            "additionalProperties": false
                        },
                        {
                            "type": "object",
                            "description": "Change part of an existing file with a unified diff.",
                            "properties": {
                                "path": path,
                                "diff": {
                                    "type": "string",
                                    "description": "A unified diff of this file only \
                                                    (`--- a/PATH`, `+++ b/PATH`, then \
                                                    `@@` hunks with a few lines of context)."
                                }
                            },
                            "required": ["path", "diff"],
                            "additionalProperties": false
                        },
                        {
                            "type": "object",
                            "description": "Delete a file.",
                            "properties": {
                                "path": path,
                                "delete": {"type": "boolean", "enum": [true]}
                            },
                            "required": ["path", "delete"],
                            "additionalProperties": false
                        }
                    ]
                }
            }
        },
        "required": ["edits"],
        "additionalProperties": false
    })
}

/// How to write file edits, for an agent's prompt (the schema says the
/// same to the model's structured output; this says it in words).
pub const EDITS_INSTRUCTIONS: &str = "\
To change files, reply with a JSON object {\"edits\": [...]}, applied in order, all or none:
- {\"path\": \"src/lib.rs\", \"content\": \"...\"} creates the file or replaces ALL of its content;
- {\"path\": \"src/lib.rs\", \"diff\": \"--- a/src/lib.rs\\n+++ b/src/lib.rs\\n@@ -1,3 +1,3 @@\\n...\"} \
changes part of an existing file with a unified diff of that file only (keep a few unchanged \
context lines around each change);
- {\"path\": \"src/old.rs\", \"delete\": true} deletes the file.
Paths are relative to the workspace root and use `/`. Write only files you are allowed to write.";

/// Read an agent's reply: `{"edits": [...]}` (the schema's form) or a bare
/// list. Every problem is reported, each with the edit's position.
pub fn parse_edits(reply: &Value) -> Result<Vec<FileEdit>, EditError> {
    let list = match reply {
        Value::Array(list) => list,
        Value::Object(object) => match object.get("edits") {
            Some(Value::Array(list)) => list,
            Some(_) => {
                return Err(EditError::one(None, None, "`edits` must be a list"));
            }
            None => {
                return Err(EditError::one(
                    None,
                    None,
                    "the reply has no `edits` list: reply with {\"edits\": [...]}",
                ));
            }
        },
        _ => {
            return Err(EditError::one(
                None,
                None,
                "the reply must be an object {\"edits\": [...]}",
            ));
        }
    };
    let mut edits = Vec::new();
    let mut problems = Vec::new();
    for (index, item) in list.iter().enumerate() {
        let path = item.get("path").and_then(Value::as_str).map(str::to_string);
        match serde_json::from_value::<FileEdit>(item.clone()) {
            Ok(edit) => {
                if let Err(reason) = check_path(&edit.path) {
                    problems.push(EditProblem {
                        index: Some(index),
                        path,
                        message: reason,
                    });
                } else {
                    edits.push(edit);
                }
            }
            Err(error) => problems.push(EditProblem {
                index: Some(index),
                path,
                message: describe_serde_error(&error.to_string()),
            }),
        }
    }
    if problems.is_empty() {
        Ok(edits)
    } else {
        Err(EditError { problems })
    }
}

/// serde's messages name Rust types; say it in the reply's terms.
fn describe_serde_error(message: &str) -> String {
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .replace("struct RawEdit", "an edit object")
        .replace("invalid type: ", "wrong type: ");
    if message.starts_with("unknown field") {
        format!("{message}; an edit has only `path` and one of `content`, `diff`, `delete`")
    } else {
        message
    }
}

/// Whether an edit may name `path`; the reason if not.
pub fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("the path is empty".to_string());
    }
    if path.contains('\0') {
        return Err("the path contains a NUL character".to_string());
    }
    let bytes = path.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if path.starts_with('/') || path.starts_with('~') || path.starts_with('\\') || drive {
        return Err(
            "the path is absolute; give it relative to the workspace root, e.g. `src/main.rs`"
                .to_string(),
        );
    }
    if path.contains('\\') {
        return Err("the path contains a backslash; separate directories with `/`".to_string());
    }
    for (i, segment) in path.split('/').enumerate() {
        match segment {
            "" => {
                return Err(
                    "the path has an empty segment (`//` or a trailing `/`); name a file"
                        .to_string(),
                );
            }
            "." => return Err("the path has a `.` segment; write it without".to_string()),
            ".." => {
                return Err(
                    "the path goes up with `..`, out of the workspace; edits stay inside it"
                        .to_string(),
                );
            }
            s if s.eq_ignore_ascii_case(".git") => {
                return Err(
                    "the path is inside `.git`, git's own data, which edits never touch"
                        .to_string(),
                );
            }
            s if i == 0 && s.eq_ignore_ascii_case(".score") => {
                return Err(
                    "the path is inside `.score`, the runtime's own data, which edits never touch"
                        .to_string(),
                );
            }
            _ => {}
        }
    }
    Ok(())
}

/// A file as it was before an edit, to put it back.
enum Snapshot {
    Missing,
    File(Vec<u8>, std::fs::Permissions),
    Link(PathBuf),
}

fn snapshot(file: &Path) -> std::io::Result<Snapshot> {
    match std::fs::symlink_metadata(file) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Snapshot::Missing),
        Err(e) => Err(e),
        Ok(meta) if meta.file_type().is_symlink() => Ok(Snapshot::Link(std::fs::read_link(file)?)),
        Ok(meta) => Ok(Snapshot::File(std::fs::read(file)?, meta.permissions())),
    }
}

fn restore(file: &Path, snapshot: &Snapshot) {
    // Best effort: this runs after another failure, which is what gets
    // reported.
    if let Ok(meta) = std::fs::symlink_metadata(file) {
        if meta.is_dir() {
            let _ = std::fs::remove_dir_all(file);
        } else {
            let _ = std::fs::remove_file(file);
        }
    }
    match snapshot {
        Snapshot::Missing => {}
        Snapshot::File(bytes, permissions) => {
            if std::fs::write(file, bytes).is_ok() {
                let _ = std::fs::set_permissions(file, permissions.clone());
            }
        }
        Snapshot::Link(target) => {
            #[cfg(unix)]
            let _ = std::os::unix::fs::symlink(target, file);
            #[cfg(not(unix))]
            let _ = target;
        }
    }
}

/// Apply `edits` in the checkout at `root`. See [`Checkout::apply_edits`](super::Checkout::apply_edits).
/// `env` is set for every git command (the checkout's: which repository
/// and work tree git sees, never the `.git` inside the part's files).
pub(crate) fn apply(
    root: &Path,
    git: &Git,
    env: &[(&'static str, String)],
    edits: &[FileEdit],
) -> Result<Vec<String>, EditError> {
    let problems: Vec<EditProblem> = edits
        .iter()
        .enumerate()
        .filter_map(|(index, edit)| {
            check_path(&edit.path).err().map(|message| EditProblem {
                index: Some(index),
                path: Some(edit.path.clone()),
                message,
            })
        })
        .collect();
    if !problems.is_empty() {
        return Err(EditError { problems });
    }
    let mut undo: Vec<(PathBuf, Snapshot)> = Vec::new();
    let mut written: Vec<String> = Vec::new();
    for (index, edit) in edits.iter().enumerate() {
        let fail = |message: String| EditError::one(Some(index), Some(&edit.path), message);
        let file = root.join(&edit.path);
        let result = check_ancestors(root, &edit.path)
            .and_then(|()| snapshot(&file).map_err(|e| format!("cannot read the file: {e}")))
            .and_then(|before| {
                undo.push((file.clone(), before));
                apply_one(root, git, env, edit, &file)
            });
        if let Err(message) = result {
            for (file, before) in undo.iter().rev() {
                restore(file, before);
            }
            return Err(fail(message));
        }
        if !written.contains(&edit.path) {
            written.push(edit.path.clone());
        }
    }
    Ok(written)
}

/// No directory on the way to `path` may be a symbolic link (it could lead
/// out of the worktree) or a file.
fn check_ancestors(root: &Path, path: &str) -> Result<(), String> {
    let segments: Vec<&str> = path.split('/').collect();
    let mut dir = root.to_path_buf();
    for (i, segment) in segments[..segments.len() - 1].iter().enumerate() {
        dir.push(segment);
        let shown = segments[..=i].join("/");
        match std::fs::symlink_metadata(&dir) {
            Err(_) => return Ok(()), // the rest is created
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(format!(
                    "`{shown}` is a symbolic link, and edits never go through links; \
                     edit the files where they really are"
                ));
            }
            Ok(meta) if !meta.is_dir() => {
                return Err(format!(
                    "`{shown}` is a file, not a directory; to replace it with a \
                     directory, delete it in an earlier edit"
                ));
            }
            Ok(_) => {}
        }
    }
    Ok(())
}

fn apply_one(
    root: &Path,
    git: &Git,
    env: &[(&'static str, String)],
    edit: &FileEdit,
    file: &Path,
) -> Result<(), String> {
    let meta = std::fs::symlink_metadata(file).ok();
    if meta.as_ref().is_some_and(|m| m.is_dir()) {
        return Err("this is a directory; edits change files (list its files one by one)".into());
    }
    match &edit.action {
        EditAction::Write(content) => {
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create its directory: {e}"))?;
            }
            // Replace a link rather than write through it.
            if meta.as_ref().is_some_and(|m| m.file_type().is_symlink()) {
                std::fs::remove_file(file).map_err(|e| format!("cannot replace the link: {e}"))?;
            }
            std::fs::write(file, content).map_err(|e| format!("cannot write the file: {e}"))
        }
        EditAction::Delete => {
            if meta.is_none() {
                return Err("there is no such file to delete".into());
            }
            std::fs::remove_file(file).map_err(|e| format!("cannot delete the file: {e}"))
        }
        EditAction::Diff(diff) => apply_diff(root, git, env, &edit.path, diff, meta.is_some()),
    }
}

/// The file names in a diff header line (`--- a/x.rs\t2024-...` → `a/x.rs`).
fn header_name(line: &str) -> &str {
    let name = line[4..].split('\t').next().unwrap_or("");
    name.trim_end()
}

/// How many leading components (`-p`) to strip from `name` to get `path`.
fn strip_level(name: &str, path: &str) -> Option<usize> {
    if name == path {
        Some(0)
    } else if name.split_once('/').is_some_and(|(_, rest)| rest == path) {
        Some(1)
    } else {
        None
    }
}

fn apply_diff(
    root: &Path,
    git: &Git,
    env: &[(&'static str, String)],
    path: &str,
    diff: &str,
    exists: bool,
) -> Result<(), String> {
    let at = |args: &[&str]| {
        env.iter().fold(git.at(root, args), |call, (key, value)| {
            call.env(key, value.clone())
        })
    };
    let mut text = diff.replace("\r\n", "\n");
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let lines: Vec<&str> = text.lines().collect();
    let Some(first_hunk) = lines.iter().position(|l| l.starts_with("@@")) else {
        return Err(
            "the diff has no hunk (a line starting with `@@`); send the file's \
                    whole new content as `content` instead"
                .into(),
        );
    };
    // Another file's header further down. `--recount` would read it as
    // lines of the hunk above (and the patch would then fail to apply), so
    // look for it first, for a clear message. A line starting with `@@` is
    // always a hunk header, so the three lines cannot be hunk content.
    for window in lines[first_hunk..].windows(3) {
        if window[0].starts_with("--- ")
            && window[1].starts_with("+++ ")
            && window[2].starts_with("@@")
        {
            let name = match header_name(window[1]) {
                "/dev/null" => header_name(window[0]),
                name => name,
            };
            if strip_level(name, path).is_none() {
                let shown = ["a/", "b/"]
                    .iter()
                    .find_map(|prefix| name.strip_prefix(prefix))
                    .unwrap_or(name);
                return Err(format!(
                    "the diff also changes `{shown}`; a diff edit changes its own file only \
                     (send one edit per file)"
                ));
            }
        }
    }
    let header = &lines[..first_hunk];
    let old = header.iter().rev().find(|l| l.starts_with("--- "));
    let new = header.iter().rev().find(|l| l.starts_with("+++ "));
    let (patch, level) = match (old, new) {
        (Some(old), Some(new)) => {
            let names: Vec<&str> = [header_name(old), header_name(new)]
                .into_iter()
                .filter(|n| *n != "/dev/null")
                .collect();
            let mut level = None;
            for name in &names {
                match strip_level(name, path) {
                    Some(l) if level.is_none_or(|seen| seen == l) => level = Some(l),
                    _ => {
                        return Err(format!(
                            "the diff's header names `{name}`, but this edit's path is \
                             `{path}`; a diff edit changes its own file only"
                        ));
                    }
                }
            }
            (text.clone(), level.unwrap_or(1))
        }
        // Hunks alone: the edit's path says which file.
        _ => {
            let from = if exists {
                format!("a/{path}")
            } else {
                "/dev/null".to_string()
            };
            let hunks = lines[first_hunk..].join("\n");
            (format!("--- {from}\n+++ b/{path}\n{hunks}\n"), 1)
        }
    };
    let strip = format!("-p{level}");
    // Check what the patch touches before it touches anything.
    let listed = at(&["apply", "--numstat", "-z", "--recount", &strip, "-"])
        .stdin(patch.clone())
        .output()
        .map_err(|e| e.to_string())?;
    if !listed.success() {
        return Err(format!(
            "the diff cannot be read: {}; send a unified diff (`--- a/{path}`, `+++ b/{path}`, \
             `@@` hunks) or the whole file as `content`",
            git_apply_message(&listed.stderr)
        ));
    }
    for name in numstat_paths(&listed.stdout) {
        if name != path {
            return Err(format!(
                "the diff also changes `{name}`; a diff edit changes its own file only \
                 (send one edit per file)"
            ));
        }
    }
    let mut last = String::new();
    for lenient in [false, true] {
        let mut args = vec!["apply", "--recount", "--whitespace=nowarn", &strip];
        if lenient {
            // Models often get trailing whitespace of context lines wrong.
            args.push("--ignore-whitespace");
        }
        args.push("-");
        let out = at(&args)
            .stdin(patch.clone())
            .output()
            .map_err(|e| e.to_string())?;
        if out.success() {
            return Ok(());
        }
        last = out.stderr;
    }
    Err(format!(
        "the diff does not apply to the current file: {}; make the context lines match the \
         file exactly, or send the whole file as `content`",
        git_apply_message(&last)
    ))
}

/// The paths of `git apply --numstat -z` (`ADDED\tDELETED\tPATH\0`, or for
/// a rename `ADDED\tDELETED\t\0FROM\0TO\0`).
fn numstat_paths(out: &[u8]) -> Vec<String> {
    let mut paths = Vec::new();
    let mut fields = nul_fields(out);
    while let Some(field) = fields.next() {
        let text = String::from_utf8_lossy(field);
        let name = text.splitn(3, '\t').nth(2).unwrap_or("").to_string();
        if name.is_empty() {
            for _ in 0..2 {
                if let Some(side) = fields.next() {
                    paths.push(String::from_utf8_lossy(side).into_owned());
                }
            }
        } else {
            paths.push(name);
        }
    }
    paths
}

/// `error: patch failed: a.rs:3\nerror: a.rs: patch does not apply` →
/// `patch failed: a.rs:3, a.rs: patch does not apply`.
fn git_apply_message(stderr: &str) -> String {
    let text = stderr
        .lines()
        .map(|l| {
            l.trim()
                .trim_start_matches("error: ")
                .trim_start_matches("fatal: ")
        })
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    if text.is_empty() {
        "git apply failed without a message".to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_leave_the_worktree_are_refused() {
        assert!(check_path("src/main.rs").is_ok());
        assert!(check_path(".github/workflows/ci.yml").is_ok());
        assert!(check_path("a/.scorefile").is_ok());
        assert!(check_path("docs/.score/x").is_ok());
        for (path, needle) in [
            ("", "empty"),
            ("/etc/passwd", "absolute"),
            ("~/x", "absolute"),
            ("C:/x", "absolute"),
            ("a\\b", "backslash"),
            ("a//b", "empty segment"),
            ("a/", "empty segment"),
            ("./a", "`.` segment"),
            ("../x", "`..`"),
            ("a/../../x", "`..`"),
            (".git/config", "`.git`"),
            ("sub/.git/hooks/pre-commit", "`.git`"),
            (".GIT/config", "`.git`"),
            (".score/runs/x", "`.score`"),
        ] {
            let reason = check_path(path).expect_err(path);
            assert!(reason.contains(needle), "{path}: {reason}");
        }
    }

    #[test]
    fn replies_parse_with_a_message_per_bad_edit() {
        let reply = json!({"edits": [
            {"path": "a.rs", "content": "x"},
            {"path": "b.rs", "diff": "@@ -1 +1 @@\n-a\n+b\n"},
            {"path": "c.rs", "delete": true},
        ]});
        let edits = parse_edits(&reply).unwrap();
        assert_eq!(
            edits,
            vec![
                FileEdit::write("a.rs", "x"),
                FileEdit::diff("b.rs", "@@ -1 +1 @@\n-a\n+b\n"),
                FileEdit::delete("c.rs")
            ]
        );
        // A bare list is accepted too.
        assert_eq!(
            parse_edits(&json!([{"path": "a", "content": ""}]))
                .unwrap()
                .len(),
            1
        );

        let bad = json!({"edits": [
            {"path": "ok.rs", "content": "x"},
            {"path": "../x", "content": "x"},
            {"path": "a", "content": "x", "diff": "y"},
            {"path": "b"},
            {"path": "c", "delete": false},
            {"path": "d", "content": 3},
            {"path": "e", "content": "x", "mode": "755"},
            "nope",
        ]});
        let error = parse_edits(&bad).unwrap_err();
        let indexes: Vec<usize> = error.problems.iter().filter_map(|p| p.index).collect();
        assert_eq!(indexes, [1, 2, 3, 4, 5, 6, 7]);
        let text = error.to_string();
        assert!(text.contains("edit 2 (`../x`): the path goes up"), "{text}");
        assert!(
            text.contains("edit 3 (`a`): the edit has more than one"),
            "{text}"
        );
        assert!(text.contains("edit 4 (`b`): the edit has no"), "{text}");
        assert!(text.contains("edit 5 (`c`): `delete` is false"), "{text}");
        assert!(text.contains("edit 6 (`d`): wrong type"), "{text}");
        assert!(text.contains("unknown field `mode`"), "{text}");
        assert!(!text.contains("RawEdit"), "{text}");
        assert!(parse_edits(&json!({"files": []})).is_err());
        assert!(parse_edits(&json!("x")).is_err());
    }

    #[test]
    fn edits_round_trip_through_json() {
        for edit in [
            FileEdit::write("a", "b"),
            FileEdit::diff("a", "@@"),
            FileEdit::delete("a"),
        ] {
            let value = serde_json::to_value(&edit).unwrap();
            assert_eq!(serde_json::from_value::<FileEdit>(value).unwrap(), edit);
        }
        assert_eq!(
            serde_json::to_value(FileEdit::delete("x")).unwrap(),
            json!({"path": "x", "delete": true})
        );
    }

    #[test]
    fn the_schema_accepts_what_parse_accepts() {
        let schema = edits_schema();
        let validator = jsonschema::validator_for(&schema).expect("a valid schema");
        let good = json!({"edits": [
            {"path": "a.rs", "content": "x"},
            {"path": "b.rs", "diff": "@@"},
            {"path": "c.rs", "delete": true}
        ]});
        assert!(validator.is_valid(&good));
        for bad in [
            json!({"edits": [{"path": "a"}]}),
            json!({"edits": [{"path": "a", "delete": false}]}),
            json!({"edits": [{"path": "a", "content": "x", "extra": 1}]}),
            json!({"edits": []
                , "more": 1}),
            json!([]),
        ] {
            assert!(!validator.is_valid(&bad), "{bad}");
        }
    }

    #[test]
    fn diff_headers_give_the_strip_level() {
        assert_eq!(
            header_name("--- a/src/x.rs\t2024-01-01 00:00"),
            "a/src/x.rs"
        );
        assert_eq!(strip_level("a/src/x.rs", "src/x.rs"), Some(1));
        assert_eq!(strip_level("src/x.rs", "src/x.rs"), Some(0));
        assert_eq!(strip_level("b/src/y.rs", "src/x.rs"), None);
        assert_eq!(
            numstat_paths(b"1\t0\ta.rs\0" as &[u8]),
            vec!["a.rs".to_string()]
        );
        assert_eq!(
            numstat_paths(b"1\t0\t\0old\0new\0" as &[u8]),
            vec!["old".to_string(), "new".to_string()]
        );
    }
}
