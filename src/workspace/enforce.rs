//! Boundary enforcement: which changes fall outside a part's `owns`.

use crate::glob::Glob;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One changed file in a worktree, relative to the worktree's base commit.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Change {
    /// The path now (for a deletion, the path that was deleted).
    pub path: String,
    /// Serialized inline: `{"path": "b", "kind": "renamed", "from": "a"}`.
    #[serde(flatten)]
    pub kind: ChangeKind,
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

/// A change to a path the part does not own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The path outside `owns`; for a rename, the side that is outside
    /// (a rename whose both sides are outside gives two violations).
    pub path: String,
    /// The whole change, for the message.
    pub change: Change,
    /// The part's `owns` globs, none of which matches `path`.
    pub owns: Vec<String>,
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

/// The changes that fall outside `owns`, in the order of `changes`. A path
/// is owned when at least one glob matches it; a rename needs both its old
/// and its new path owned.
pub fn enforce(changes: &[Change], owns: &[Glob]) -> Vec<Violation> {
    let owned = |path: &str| owns.iter().any(|glob| glob.matches(path));
    let globs = || owns.iter().map(|g| g.as_str().to_string()).collect();
    let mut violations = Vec::new();
    for change in changes {
        let mut sides = vec![change.path.as_str()];
        if let ChangeKind::Renamed { from } = &change.kind {
            sides.insert(0, from.as_str());
        }
        for path in sides {
            if !owned(path) {
                violations.push(Violation {
                    path: path.to_string(),
                    change: change.clone(),
                    owns: globs(),
                });
            }
        }
    }
    violations
}

/// The paths [`Worktree::rollback`](super::Worktree::rollback) should
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
        Change {
            path: path.to_string(),
            kind,
        }
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
