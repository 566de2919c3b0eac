//! The part's contract where a coding agent looks for instructions.
//!
//! Coding-agent CLIs read standing instructions from a file at the root of
//! the repository they work in (`CLAUDE.md` for Claude Code, `AGENTS.md`
//! for Codex CLI and opencode, `GEMINI.md` for Gemini CLI). The prompt
//! already holds the contract, but a long session forgets its first
//! message; the instruction file is re-read. So before a `command` agent
//! starts in a part's checkout, the runtime writes the contract there,
//! after whatever the repository's own file says, and puts the original
//! back (or removes the file) as soon as the program ends, before the
//! runtime looks at what the part changed: the runtime's text is never
//! committed, and a dropped attempt (timeout, Ctrl-C) restores it too.
//!
//! [`contract`] is pure (the task and its input values in, Markdown out);
//! [`Installed`] is the file on disk and the guard that restores it.

use crate::plan::{InputSource, Protocol, Task};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The line that starts the runtime's section in an instruction file. A
/// file that already has it (left by a run that was killed) gets its old
/// section replaced, not a second one.
pub const MARKER: &str = "<!-- score: the part's contract, added for this run; not committed -->";

/// The instruction file a protocol's program reads, when it reads one.
pub fn default_file(protocol: Protocol) -> Option<&'static str> {
    match protocol {
        Protocol::Plain => None,
        Protocol::ClaudeJson => Some("CLAUDE.md"),
        Protocol::CodexJsonl => Some("AGENTS.md"),
        Protocol::GeminiJson => Some("GEMINI.md"),
    }
}

/// The part's contract as Markdown: what it serves, its boundaries, its
/// inputs with their values, its outputs, its checks.
pub fn contract(task: &Task, inputs: &BTreeMap<String, Value>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Your part: `{}`\n", task.id);
    out.push_str(
        "You play this part of a larger project; other agents play the others. \
         This is your contract: the runtime checks your work against it.\n",
    );
    if !task.intents.is_empty() {
        out.push_str("\n## What it serves\n\n");
        for intent in &task.intents {
            let _ = writeln!(out, "- `{}`: {}", intent.id, intent.statement);
            for accept in &intent.accept {
                let _ = writeln!(out, "  - accepted when: {accept}");
            }
        }
    }
    out.push_str("\n## Boundaries\n\n");
    if task.owns.is_empty() {
        out.push_str("- You may write no file: answer with the result only.\n");
    } else {
        let _ = writeln!(
            out,
            "- You may write only: {}. Changes elsewhere are rolled back and fail the attempt.",
            quoted(&task.owns)
        );
    }
    // As the prompt says: without `reads`, the whole repository.
    if task.reads.is_empty() {
        out.push_str("- You may read the whole repository.\n");
    } else {
        let _ = writeln!(out, "- You may read: {}.", quoted(&task.reads));
    }
    out.push_str("- Do not commit: the runtime commits your work once it is verified.\n");
    if !task.inputs.is_empty() {
        out.push_str("\n## Inputs\n\n");
        for (name, input) in &task.inputs {
            let from = match &input.source {
                InputSource::Task { task, output } => format!("from `{task}.{output}`"),
                InputSource::ScoreInput { name } => format!("the score's input `{name}`"),
            };
            let value = inputs
                .get(name)
                .map_or_else(|| "(not known yet)".to_string(), Value::to_string);
            let _ = writeln!(out, "- `{name}`: {} ({from}) = `{value}`", input.ty);
        }
    }
    if !task.outputs.is_empty() {
        out.push_str("\n## Outputs\n\n");
        out.push_str("Your final answer is one JSON object with one property per output:\n\n");
        for (name, output) in &task.outputs {
            let doc = output
                .doc
                .as_deref()
                .map_or(String::new(), |d| format!(": {d}"));
            let _ = writeln!(out, "- `{name}`: {}{doc}", output.ty);
        }
    }
    if !task.checks.is_empty() || !task.postconditions.is_empty() {
        out.push_str("\n## Checks\n\n");
        for check in &task.checks {
            let _ = writeln!(out, "- `{}` must pass", check.command);
        }
        for post in &task.postconditions {
            let _ = writeln!(out, "- {post}");
        }
    }
    out
}

fn quoted(globs: &[String]) -> String {
    globs
        .iter()
        .map(|g| format!("`{g}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `existing` (the repository's own instructions, if any) with the
/// contract after it; an earlier run's section is replaced.
pub fn merged(existing: Option<&str>, contract: &str) -> String {
    let own = existing
        .map(|text| match text.find(MARKER) {
            Some(at) => &text[..at],
            None => text,
        })
        .unwrap_or("")
        .trim_end();
    let mut out = String::with_capacity(own.len() + contract.len() + MARKER.len() + 4);
    if !own.is_empty() {
        out.push_str(own);
        out.push_str("\n\n");
    }
    out.push_str(MARKER);
    out.push('\n');
    out.push_str(contract);
    out
}

/// An instruction file written for one attempt. Dropping it puts the
/// original back (or removes the file when there was none).
#[derive(Debug)]
pub struct Installed {
    path: PathBuf,
    /// Device and inode of the directory holding `path` when the file was
    /// written: the program may replace that directory (or one above it,
    /// inside its checkout) with a link before the runtime puts the file
    /// back.
    dir: (u64, u64),
    original: Option<Vec<u8>>,
    restored: bool,
}

/// The device and inode of `dir`, following links (what a write below it
/// would reach).
fn identity(dir: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir).ok().map(|m| (m.dev(), m.ino()))
}

impl Installed {
    /// Writes `contract` into `dir/name`, after what the file holds. A
    /// name that is not a plain file name (`../x`, `a/b`) is refused: the
    /// runtime writes only directly inside the checkout. A file that is a
    /// symbolic link (a repository's `CLAUDE.md -> AGENTS.md`) is left
    /// alone (`None`): writing through it could reach outside the checkout,
    /// and the prompt holds the contract anyway.
    pub fn write(dir: &Path, name: &str, contract: &str) -> Result<Option<Installed>, String> {
        let plain = !name.is_empty()
            && Path::new(name).file_name().and_then(|n| n.to_str()) == Some(name)
            && name != "."
            && name != "..";
        if !plain {
            return Err(format!(
                "the instruction file `{name}` must be a file name in the checkout's root, like \
                 `CLAUDE.md`"
            ));
        }
        let path = dir.join(name);
        let Some(dir_identity) = identity(dir) else {
            return Err(format!(
                "cannot write in `{}`: no such directory",
                dir.display()
            ));
        };
        let original = match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => return Ok(None),
            Ok(_) => Some(
                std::fs::read(&path)
                    .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("cannot read `{}`: {e}", path.display())),
        };
        let existing = original.as_deref().map(String::from_utf8_lossy);
        let text = merged(existing.as_deref(), contract);
        std::fs::write(&path, text).map_err(|e| {
            format!(
                "cannot write the instruction file `{}`: {e}",
                path.display()
            )
        })?;
        Ok(Some(Installed {
            path,
            dir: dir_identity,
            original,
            restored: false,
        }))
    }

    /// Puts the original back now, saying what went wrong if it could not.
    pub fn restore(mut self) -> Result<(), String> {
        self.restored = true;
        self.put_back()
    }

    /// The program ran in between and may have left anything at the path:
    /// whatever is there is removed (a link itself, never what it points
    /// at), and the original is written as a new file. A directory on the
    /// way that is no longer the one the file was written in is refused.
    fn put_back(&self) -> Result<(), String> {
        let parent = self.path.parent().unwrap_or(Path::new("."));
        if identity(parent) != Some(self.dir) {
            return Err(format!(
                "cannot restore the instruction file `{}` after the agent: its directory was \
                 replaced (by a link?); nothing was written there",
                self.path.display()
            ));
        }
        let cleared = match std::fs::symlink_metadata(&self.path) {
            Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&self.path),
            Ok(_) => std::fs::remove_file(&self.path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        };
        let done = cleared.and_then(|()| match &self.original {
            Some(bytes) => {
                use std::io::Write;
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&self.path)
                    .and_then(|mut file| file.write_all(bytes))
            }
            None => Ok(()),
        });
        done.map_err(|e| {
            format!(
                "cannot restore the instruction file `{}` after the agent: {e}",
                self.path.display()
            )
        })
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        if !self.restored {
            let _ = self.put_back();
        }
    }
}

/// A task to test with (shared with other modules' tests).
#[cfg(test)]
pub(crate) mod tests_support {
    use crate::plan::{Complexity, Input, InputSource, IntentInfo, Schema, Task, ValueSpec};
    use serde_json::json;
    use std::collections::BTreeMap;

    pub fn task() -> Task {
        let text = || Schema::new(json!({"type": "string"}));
        Task {
            agent: "claude".into(),
            approve: None,
            brief: None,
            budget: None,
            checks: vec![],
            complexity: Complexity::Routine,
            contracts: vec![],
            depends_on: vec!["model".into()],
            doc: None,
            estimate_ms: 1,
            hash: String::new(),
            id: "store".into(),
            inputs: BTreeMap::from([(
                "link".to_string(),
                Input {
                    doc: None,
                    schema: text(),
                    source: InputSource::Task {
                        task: "model".into(),
                        output: "link_type".into(),
                    },
                    ty: "Text".into(),
                },
            )]),
            intents: vec![IntentInfo {
                accept: vec!["the same URL gives the same slug".into()],
                id: "shorten".into(),
                priority: None,
                statement: "A user shortens a URL".into(),
            }],
            outputs: BTreeMap::from([(
                "store_api".to_string(),
                ValueSpec {
                    doc: Some("the store's API".into()),
                    schema: text(),
                    ty: "Text".into(),
                },
            )]),
            owns: vec!["src/store/**".into()],
            postconditions: vec!["slugs are short".into()],
            prompt: String::new(),
            reads: vec!["src/model.rs".into()],
            result_schema: Schema::new(json!({"type": "object"})),
            retries: 0,
            timeout_ms: 1,
            wave: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::task;
    use super::*;
    use serde_json::json;

    #[test]
    fn the_contract_says_what_the_part_serves_owns_reads_gets_and_returns() {
        let inputs = BTreeMap::from([("link".to_string(), json!("struct Link"))]);
        let text = contract(&task(), &inputs);
        for expected in [
            "# Your part: `store`",
            "- `shorten`: A user shortens a URL",
            "  - accepted when: the same URL gives the same slug",
            "You may write only: `src/store/**`.",
            "You may read: `src/model.rs`.",
            "- `link`: Text (from `model.link_type`) = `\"struct Link\"`",
            "- `store_api`: Text: the store's API",
            "- slugs are short",
        ] {
            assert!(text.contains(expected), "{expected:?} in\n{text}");
        }
        let unread = Task {
            reads: Vec::new(),
            ..task()
        };
        let text = contract(&unread, &inputs);
        assert!(
            text.contains("- You may read the whole repository.\n"),
            "{text}"
        );
    }

    #[test]
    fn merging_keeps_the_repository_s_own_text_and_replaces_an_old_section() {
        assert_eq!(merged(None, "C\n"), format!("{MARKER}\nC\n"));
        let once = merged(Some("# Ours\n\nBe nice.\n"), "C1\n");
        assert_eq!(once, format!("# Ours\n\nBe nice.\n\n{MARKER}\nC1\n"));
        assert_eq!(
            merged(Some(&once), "C2\n"),
            format!("# Ours\n\nBe nice.\n\n{MARKER}\nC2\n")
        );
    }

    #[test]
    fn the_original_comes_back_however_the_attempt_ends() {
        let dir = tempfile::tempdir().unwrap();
        // No file before: none after.
        let installed = Installed::write(dir.path(), "CLAUDE.md", "contract\n")
            .unwrap()
            .unwrap();
        let written = std::fs::read_to_string(dir.path().join("CLAUDE.md")).unwrap();
        assert!(written.ends_with("contract\n"));
        installed.restore().unwrap();
        assert!(!dir.path().join("CLAUDE.md").exists());
        // A file before: the same bytes after, also when the guard is
        // dropped (a cancelled attempt).
        std::fs::write(dir.path().join("AGENTS.md"), "own\n").unwrap();
        let installed = Installed::write(dir.path(), "AGENTS.md", "contract\n")
            .unwrap()
            .unwrap();
        let written = std::fs::read_to_string(dir.path().join("AGENTS.md")).unwrap();
        assert!(written.starts_with("own\n\n") && written.ends_with("contract\n"));
        drop(installed);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("AGENTS.md")).unwrap(),
            "own\n"
        );
    }

    #[test]
    fn restoring_never_writes_through_what_the_program_left() {
        let dir = tempfile::tempdir().unwrap();
        let checkout = dir.path().join("checkout");
        std::fs::create_dir_all(checkout.join("sub")).unwrap();
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, "precious\n").unwrap();
        // The file replaced by a link to a file outside: the link goes, the
        // original comes back as a file, the outside file is untouched.
        std::fs::write(checkout.join("AGENTS.md"), "own\n").unwrap();
        let installed = Installed::write(&checkout, "AGENTS.md", "contract\n")
            .unwrap()
            .unwrap();
        std::fs::remove_file(checkout.join("AGENTS.md")).unwrap();
        std::os::unix::fs::symlink(&outside, checkout.join("AGENTS.md")).unwrap();
        installed.restore().unwrap();
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious\n");
        let meta = std::fs::symlink_metadata(checkout.join("AGENTS.md")).unwrap();
        assert!(meta.is_file());
        assert_eq!(
            std::fs::read_to_string(checkout.join("AGENTS.md")).unwrap(),
            "own\n"
        );
        // The directory on the way replaced by a link to another one: refused,
        // and nothing is written there.
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::write(elsewhere.join("CLAUDE.md"), "theirs\n").unwrap();
        let installed = Installed::write(&checkout.join("sub"), "CLAUDE.md", "contract\n")
            .unwrap()
            .unwrap();
        std::fs::remove_dir_all(checkout.join("sub")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, checkout.join("sub")).unwrap();
        let error = installed.restore().unwrap_err();
        assert!(error.contains("was replaced"), "{error}");
        assert_eq!(
            std::fs::read_to_string(elsewhere.join("CLAUDE.md")).unwrap(),
            "theirs\n"
        );
    }

    #[test]
    fn only_plain_names_and_never_through_links() {
        let dir = tempfile::tempdir().unwrap();
        for bad in ["../x.md", "a/b.md", "", ".."] {
            assert!(Installed::write(dir.path(), bad, "c").is_err(), "{bad}");
        }
        std::fs::write(dir.path().join("AGENTS.md"), "own\n").unwrap();
        std::os::unix::fs::symlink("AGENTS.md", dir.path().join("CLAUDE.md")).unwrap();
        assert!(
            Installed::write(dir.path(), "CLAUDE.md", "c")
                .unwrap()
                .is_none()
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("AGENTS.md")).unwrap(),
            "own\n"
        );
    }
}
