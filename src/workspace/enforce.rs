//! Boundary enforcement: which changes fall outside a part's `owns`.
//!
//! Three rules, each a boundary violation (rolled back, fed back, retried):
//! - a change to a path no `owns` glob matches (a rename needs both sides);
//! - a symbolic link, unless its target resolves, without leaving the
//!   repository, to a path the part owns (a link is a write to wherever it
//!   points: merged, it would let any later reader or writer reach there);
//! - anything named `.score` (the runtime's own directory), in any form, and
//!   repositories nested in the part's files.

use crate::glob::Glob;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One changed file in a checkout, relative to the checkout's base commit.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Change {
    /// The path now (for a deletion, the path that was deleted).
    pub path: String,
    /// Serialized inline: `{"path": "b", "kind": "renamed", "from": "a"}`.
    #[serde(flatten)]
    pub kind: ChangeKind,
    /// The target, when the path is now a symbolic link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The path is now a git repository of its own (a gitlink).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nested_repository: bool,
}

impl Change {
    /// A change to a regular file.
    pub fn new(path: impl Into<String>, kind: ChangeKind) -> Change {
        Change {
            path: path.into(),
            kind,
            link: None,
            nested_repository: false,
        }
    }
}

/// How a file changed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeKind {
    /// A new file (tracked or not).
    Added,
    /// Content, mode or type changed.
    Modified,
    Deleted,
    /// Moved from `from` (git's rename detection: at least 50% similar).
    Renamed {
        from: String,
    },
}

impl ChangeKind {
    /// `added`, `modified`, `deleted`, `renamed`.
    pub fn verb(&self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Modified => "modified",
            ChangeKind::Deleted => "deleted",
            ChangeKind::Renamed { .. } => "renamed",
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ChangeKind::Renamed { from } => write!(f, "renamed `{from}` to `{}`", self.path),
            kind => write!(f, "{} `{}`", kind.verb(), self.path),
        }
    }
}

/// A change the part may not make.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The path to roll back; for a rename, the side that is outside
    /// (a rename whose both sides are outside gives two violations).
    pub path: String,
    /// The whole change, for the message.
    pub change: Change,
    /// The part's `owns` globs.
    pub owns: Vec<String>,
    /// Which rule it breaks.
    pub rule: Rule,
}

/// The boundary rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    /// No `owns` glob matches the path.
    NotOwned,
    /// A symbolic link whose target is outside the part's files (`resolved`
    /// is `None` when it leaves the repository or is absolute).
    LinkLeadsOut {
        target: String,
        resolved: Option<String>,
    },
    /// `.score`, the runtime's own directory.
    RuntimeDirectory,
    /// A git repository inside the part's files.
    NestedRepository,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let owns = if self.owns.is_empty() {
            "the part owns no files".to_string()
        } else {
            format!(
                "it matches none of the part's `owns` globs: {}",
                self.owns
                    .iter()
                    .map(|g| format!("`{g}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        match &self.rule {
            Rule::NotOwned => {}
            Rule::LinkLeadsOut { target, resolved } => {
                return write!(
                    f,
                    "`{}` is a symbolic link to `{target}`, which {}; a part may only leave \
                     links that stay within its own files (write a file, or link to one \
                     inside {})",
                    self.path,
                    match resolved {
                        Some(resolved) => format!("is `{resolved}`, outside the part's files"),
                        None => "leads out of the repository".to_string(),
                    },
                    if self.owns.is_empty() {
                        "the part's files".to_string()
                    } else {
                        self.owns
                            .iter()
                            .map(|g| format!("`{g}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                );
            }
            Rule::RuntimeDirectory => {
                return write!(
                    f,
                    "`{}` was {}, but `.score` is the runtime's own directory and is never \
                     part of a part's work",
                    self.path,
                    self.change.kind.verb()
                );
            }
            Rule::NestedRepository => {
                return write!(
                    f,
                    "`{}` is a git repository of its own (a directory with a `.git` inside), \
                     whose files cannot be part of the part's work; do not run `git init` \
                     there (for Rust, create packages with `cargo new --vcs none`)",
                    self.path
                );
            }
        }
        match &self.change.kind {
            ChangeKind::Renamed { from } if *from == self.path => write!(
                f,
                "`{}` was renamed to `{}`, but `{}` is outside the part's files: {owns}",
                from, self.change.path, self.path
            ),
            ChangeKind::Renamed { from } => write!(
                f,
                "`{from}` was renamed to `{}`, but `{}` is outside the part's files: {owns}",
                self.path, self.path
            ),
            kind => write!(
                f,
                "`{}` was {}, but it is outside the part's files: {owns}",
                self.path,
                kind.verb()
            ),
        }
    }
}

/// The changes the part may not make, in the order of `changes`: paths
/// outside `owns` (a rename needs both its old and its new path owned),
/// links whose target is not an owned path, `.score` in any form, nested
/// repositories. Paths are relative to the repository, as the globs are.
pub fn enforce(changes: &[Change], owns: &[Glob]) -> Vec<Violation> {
    let owned = |path: &str| owns.iter().any(|glob| glob.matches(path));
    let globs: Vec<String> = owns.iter().map(|g| g.as_str().to_string()).collect();
    let mut violations = Vec::new();
    for change in changes {
        let violation = |path: &str, rule: Rule| Violation {
            path: path.to_string(),
            change: change.clone(),
            owns: globs.clone(),
            rule,
        };
        let mut sides = vec![change.path.as_str()];
        if let ChangeKind::Renamed { from } = &change.kind {
            sides.insert(0, from.as_str());
        }
        let before = violations.len();
        for path in sides {
            if path.split('/').any(|c| c == super::SCORE_DIR) {
                violations.push(violation(path, Rule::RuntimeDirectory));
            } else if !owned(path) {
                violations.push(violation(path, Rule::NotOwned));
            }
        }
        if violations.len() > before || change.kind == ChangeKind::Deleted {
            continue;
        }
        if change.nested_repository {
            violations.push(violation(&change.path, Rule::NestedRepository));
        } else if let Some(target) = &change.link {
            let resolved = resolve_link(&change.path, target);
            if !resolved
                .as_deref()
                .is_some_and(|r| !r.split('/').any(|c| c == super::SCORE_DIR) && owned(r))
            {
                violations.push(violation(
                    &change.path,
                    Rule::LinkLeadsOut {
                        target: target.clone(),
                        resolved,
                    },
                ));
            }
        }
    }
    violations
}

/// Where a link at `path` pointing at `target` leads, as a path relative to
/// the repository, worked out from the text alone (never from the file
/// system): `None` for an absolute target, an empty one, or one that climbs
/// out of the repository.
pub fn resolve_link(path: &str, target: &str) -> Option<String> {
    if target.is_empty() || target.starts_with('/') || target.contains('\0') {
        return None;
    }
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    for component in target.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("/"))
}

/// The paths [`Checkout::rollback`](super::Checkout::rollback) should
/// restore to undo `violations`, without duplicates.
pub fn violating_paths(violations: &[Violation]) -> Vec<String> {
    let mut paths: Vec<String> = violations.iter().map(|v| v.path.clone()).collect();
    paths.sort();
    paths.dedup();
    paths
}

/// What to tell an agent whose attempt was rolled back, for its next
/// prompt: every path, what happened to it, and where it may write.
pub fn violation_feedback(violations: &[Violation], owns: &[Glob]) -> String {
    let mut text = String::from(
        "Your previous attempt changed files outside the paths you may write, \
         and those changes were undone:\n",
    );
    for violation in violations {
        text.push_str(&format!("- {violation}\n"));
    }
    if owns.is_empty() {
        text.push_str("You may not create, modify, delete or rename any file.\n");
    } else {
        text.push_str(
            "Only create, modify, delete or rename files whose paths match one of these globs \
             (`*` stays within one directory, `**` spans directories):\n",
        );
        for glob in owns {
            text.push_str(&format!("- `{glob}`\n"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn globs(patterns: &[&str]) -> Vec<Glob> {
        patterns.iter().map(|p| Glob::parse(p).unwrap()).collect()
    }

    fn change(path: &str, kind: ChangeKind) -> Change {
        Change::new(path, kind)
    }

    fn link(path: &str, target: &str) -> Change {
        Change {
            link: Some(target.to_string()),
            ..Change::new(path, ChangeKind::Added)
        }
    }

    #[test]
    fn links_resolve_by_their_text() {
        assert_eq!(resolve_link("src/a", "b").as_deref(), Some("src/b"));
        assert_eq!(
            resolve_link("src/a", "../README.md").as_deref(),
            Some("README.md")
        );
        assert_eq!(
            resolve_link("src/x/a", "./../y/./b").as_deref(),
            Some("src/y/b")
        );
        assert_eq!(resolve_link("a", "../../etc/passwd"), None);
        assert_eq!(resolve_link("src/a", "../.."), None);
        assert_eq!(resolve_link("src/a", "/etc/passwd"), None);
        assert_eq!(resolve_link("src/a", ""), None);
    }

    #[test]
    fn links_must_stay_within_the_part() {
        let owns = globs(&["src/**"]);
        assert!(enforce(&[link("src/a", "b.rs")], &owns).is_empty());
        assert!(enforce(&[link("src/x/a", "../y/b.rs")], &owns).is_empty());
        for (path, target) in [
            ("src/a", "../README.md"),
            ("src/a", "../../README.md"),
            ("src/a", "/etc/passwd"),
            ("src/a", "../.score/runs"),
        ] {
            let v = enforce(&[link(path, target)], &owns);
            assert_eq!(v.len(), 1, "{path} -> {target}");
            assert!(matches!(v[0].rule, Rule::LinkLeadsOut { .. }), "{:?}", v[0]);
            let text = v[0].to_string();
            assert!(text.contains("symbolic link"), "{text}");
        }
        // Outside `owns` itself: one violation, for the path.
        let v = enforce(&[link("docs/a", "../src/b.rs")], &owns);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].rule, Rule::NotOwned);
    }

    #[test]
    fn the_runtime_directory_is_never_part_of_the_work() {
        let owns = globs(&["**"]);
        for path in [".score", ".score/runs/x", "sub/.score", "sub/.score/lock"] {
            let v = enforce(&[change(path, ChangeKind::Added)], &owns);
            assert_eq!(v.len(), 1, "{path}");
            assert_eq!(v[0].rule, Rule::RuntimeDirectory);
        }
        assert!(enforce(&[change(".scores/x", ChangeKind::Added)], &owns).is_empty());
    }

    #[test]
    fn nested_repositories_are_violations() {
        let owns = globs(&["**"]);
        let nested = Change {
            nested_repository: true,
            ..Change::new("vendor/x", ChangeKind::Added)
        };
        let v = enforce(&[nested], &owns);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].rule, Rule::NestedRepository);
        assert!(
            v[0].to_string().contains("git repository of its own"),
            "{}",
            v[0]
        );
    }

    #[test]
    fn owned_changes_pass() {
        let owns = globs(&["src/api/**", "docs/api.md"]);
        let changes = vec![
            change("src/api/x.rs", ChangeKind::Added),
            change("docs/api.md", ChangeKind::Modified),
            change("src/api/deep/y.rs", ChangeKind::Deleted),
        ];
        assert!(enforce(&changes, &owns).is_empty());
    }

    #[test]
    fn unowned_changes_are_named_with_the_globs() {
        let owns = globs(&["src/api/**"]);
        let changes = vec![
            change("src/api/x.rs", ChangeKind::Added),
            change("src/db/y.rs", ChangeKind::Modified),
            change("README.md", ChangeKind::Deleted),
        ];
        let violations = enforce(&changes, &owns);
        let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["src/db/y.rs", "README.md"]);
        assert_eq!(violations[0].owns, ["src/api/**"]);
        let message = violations[0].to_string();
        assert!(message.contains("`src/db/y.rs` was modified"), "{message}");
        assert!(message.contains("`src/api/**`"), "{message}");
    }

    #[test]
    fn renames_need_both_sides_owned() {
        let owns = globs(&["src/api/**"]);
        let inside = change(
            "src/api/b.rs",
            ChangeKind::Renamed {
                from: "src/api/a.rs".into(),
            },
        );
        let out_of = change(
            "src/api/b.rs",
            ChangeKind::Renamed {
                from: "src/db/a.rs".into(),
            },
        );
        let into = change(
            "src/db/b.rs",
            ChangeKind::Renamed {
                from: "src/api/a.rs".into(),
            },
        );
        let across = change(
            "lib/b.rs",
            ChangeKind::Renamed {
                from: "src/db/a.rs".into(),
            },
        );
        assert!(enforce(std::slice::from_ref(&inside), &owns).is_empty());
        let v = enforce(std::slice::from_ref(&out_of), &owns);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].path, "src/db/a.rs");
        assert!(
            v[0].to_string()
                .starts_with("`src/db/a.rs` was renamed to `src/api/b.rs`"),
            "{}",
            v[0]
        );
        let v = enforce(std::slice::from_ref(&into), &owns);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].path, "src/db/b.rs");
        let v = enforce(&[across], &owns);
        assert_eq!(violating_paths(&v), ["lib/b.rs", "src/db/a.rs"]);
    }

    #[test]
    fn owning_nothing_forbids_everything() {
        let v = enforce(&[change("a", ChangeKind::Added)], &[]);
        assert_eq!(v.len(), 1);
        assert!(v[0].to_string().contains("owns no files"), "{}", v[0]);
        let feedback = violation_feedback(&v, &[]);
        assert!(feedback.contains("may not create"), "{feedback}");
    }

    #[test]
    fn feedback_lists_paths_and_globs() {
        let owns = globs(&["src/**", "Cargo.toml"]);
        let v = enforce(&[change("docs/x.md", ChangeKind::Added)], &owns);
        let text = violation_feedback(&v, &owns);
        assert!(text.contains("- `docs/x.md` was added"), "{text}");
        assert!(text.contains("- `src/**`\n- `Cargo.toml`\n"), "{text}");
    }

    #[test]
    fn changes_serialize_for_the_journal() {
        let c = change("b", ChangeKind::Renamed { from: "a".into() });
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"path": "b", "kind": "renamed", "from": "a"})
        );
        assert_eq!(serde_json::from_value::<Change>(json).unwrap(), c);
        assert_eq!(c.to_string(), "renamed `a` to `b`");
    }
}
