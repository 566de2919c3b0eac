//! The workspace library against real git repositories in temporary
//! directories.

use score::glob::Glob;
use score::workspace::{
    Change, ChangeKind, FileEdit, MergeOutcome, Repo, Rule, WorkspaceError, enforce,
    integration_branch, merge_message, part_commit_message, violating_paths, violation_feedback,
};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

/// Run git for a test's own setup, isolated from the machine's config.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .args([
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@localhost",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "core.hooksPath=/dev/null",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

fn write(dir: &Path, path: &str, content: &str) {
    let file = dir.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, content).unwrap();
}

fn read(dir: &Path, path: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(path)).ok()
}

/// A repository in a temporary directory, and a temporary directory for
/// its runs' checkouts (outside it, as always).
struct TestRepo {
    dir: tempfile::TempDir,
    sandboxes: tempfile::TempDir,
}

impl TestRepo {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The repository, with its runs' checkouts in `self.sandboxes`.
    fn open(&self) -> Repo {
        Repo::open(self.path())
            .unwrap()
            .with_sandboxes(self.sandboxes.path())
            .unwrap()
    }
}

/// A repository with `files` committed on `main`.
fn repo_with(files: &[(&str, &str)]) -> TestRepo {
    let dir = TestRepo {
        dir: tempfile::tempdir().unwrap(),
        sandboxes: tempfile::tempdir().unwrap(),
    };
    git(dir.path(), &["init", "-q"]);
    for (path, content) in files {
        write(dir.path(), path, content);
    }
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "initial"]);
    dir
}

fn standard_repo() -> TestRepo {
    repo_with(&[
        ("README.md", "# project\n"),
        ("src/lib.rs", "pub fn a() {}\n"),
        ("src/api/mod.rs", "// api\n"),
        ("src/db/mod.rs", "// db\n"),
        ("docs/guide.md", "guide\nline 2\nline 3\nline 4\n"),
        (".gitignore", "target/\n*.log\n"),
    ])
}

fn globs(patterns: &[&str]) -> Vec<Glob> {
    patterns.iter().map(|p| Glob::parse(p).unwrap()).collect()
}

fn change(path: &str, kind: ChangeKind) -> Change {
    Change::new(path, kind)
}

/// `git ls-tree` of a revision: the file paths.
fn files_of(dir: &Path, rev: &str) -> Vec<String> {
    git(dir, &["ls-tree", "-r", "--name-only", rev])
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn a_directory_without_git_is_refused_with_git_init_as_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let error = Repo::open(dir.path()).unwrap_err();
    assert!(
        matches!(error, WorkspaceError::NotARepository { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("is not a git repository"), "{message}");
    assert!(message.contains("git init"), "{message}");
    assert!(message.contains("git commit"), "{message}");
}

#[test]
fn a_repository_without_commits_is_refused_with_a_first_commit_as_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q"]);
    let error = Repo::open(dir.path()).unwrap_err();
    assert!(
        matches!(error, WorkspaceError::NoCommits { .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("git add -A && git commit"),
        "{error}"
    );
}

#[test]
fn a_subdirectory_of_a_repository_is_refused() {
    let dir = standard_repo();
    let error = Repo::open(dir.path().join("src")).unwrap_err();
    assert!(
        matches!(error, WorkspaceError::NotTopLevel { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("top-level"), "{error}");
    let missing = Repo::open(dir.path().join("nope")).unwrap_err();
    assert!(
        missing.to_string().contains("no such directory"),
        "{missing}"
    );
}

#[test]
fn dirty_paths_see_user_changes_but_not_score_files_or_ignored_ones() {
    let dir = standard_repo();
    let root = dir.path();
    let repo = dir.open();
    assert_eq!(repo.root(), root.canonicalize().unwrap());
    // `.score/` ignores itself: neither the user's .gitignore nor
    // .git/info/exclude is written.
    let exclude_before = read(root, ".git/info/exclude");
    score::workspace::ignore_runtime_dir(&root.join(".score")).unwrap();
    write(root, ".score/runs/r1/events.jsonl", "{}\n");
    write(root, "target/debug/x", "bin");
    write(root, "build.log", "log");
    assert_eq!(repo.dirty_paths().unwrap(), Vec::<String>::new());
    assert_eq!(git(root, &["status", "--porcelain", "--ignored=no"]), "");
    repo.ensure_clean().unwrap();
    assert_eq!(read(root, ".gitignore").unwrap(), "target/\n*.log\n");
    assert_eq!(read(root, ".git/info/exclude"), exclude_before);
    // The same in a subdirectory.
    score::workspace::ignore_runtime_dir(&root.join("docs/.score")).unwrap();
    write(root, "docs/.score/lock", "1");
    assert_eq!(git(root, &["status", "--porcelain"]), "");
    // A `.score` that is a link is refused, not written through.
    std::os::unix::fs::symlink(root.join("src"), root.join("src/api/.score")).unwrap();
    assert!(score::workspace::ignore_runtime_dir(&root.join("src/api/.score")).is_err());
    std::fs::remove_file(root.join("src/api/.score")).unwrap();

    write(root, "src/lib.rs", "changed\n");
    write(root, "new.txt", "x");
    std::fs::remove_file(root.join("docs/guide.md")).unwrap();
    write(root, "staged.txt", "s");
    git(root, &["add", "staged.txt"]);
    let mut dirty = repo.dirty_paths().unwrap();
    dirty.sort();
    assert_eq!(
        dirty,
        ["docs/guide.md", "new.txt", "src/lib.rs", "staged.txt"]
    );
    let error = repo.ensure_clean().unwrap_err();
    assert!(error.to_string().contains("--allow-dirty"), "{error}");
    assert!(error.to_string().contains("`new.txt`"), "{error}");
}

#[test]
fn head_and_branch_are_reported() {
    let dir = standard_repo();
    let repo = dir.open();
    let head = git(dir.path(), &["rev-parse", "HEAD"]);
    assert_eq!(repo.head_commit().unwrap(), head);
    assert_eq!(repo.current_branch().unwrap().as_deref(), Some("main"));
    git(dir.path(), &["checkout", "-q", "--detach"]);
    assert_eq!(repo.current_branch().unwrap(), None);
}

#[test]
fn the_integration_branch_starts_at_head_and_survives_a_resume() {
    let dir = standard_repo();
    let root = dir.path();
    let repo = dir.open();
    let head = repo.head_commit().unwrap();
    assert_eq!(repo.create_integration_branch("r1").unwrap(), "score/r1");
    assert_eq!(git(root, &["rev-parse", "score/r1"]), head);
    // The user's checkout is untouched.
    assert_eq!(repo.current_branch().unwrap().as_deref(), Some("main"));
    write(root, "more.txt", "x");
    git(root, &["add", "more.txt"]);
    git(root, &["commit", "-q", "-m", "more"]);
    // Resume: the branch is kept where it was.
    assert_eq!(repo.create_integration_branch("r1").unwrap(), "score/r1");
    assert_eq!(git(root, &["rev-parse", "score/r1"]), head);
    let bad = repo.create_integration_branch("a/b").unwrap_err();
    assert!(matches!(bad, WorkspaceError::InvalidName { .. }), "{bad:?}");
}

#[test]
fn a_branch_named_score_blocks_the_integration_branch_with_a_clear_message() {
    let dir = standard_repo();
    git(dir.path(), &["branch", "score"]);
    let repo = dir.open();
    let error = repo.create_integration_branch("r1").unwrap_err();
    assert!(
        matches!(&error, WorkspaceError::BranchNamespaceTaken { blocking, .. } if blocking == "score"),
        "{error:?}"
    );
    assert!(error.to_string().contains("git branch -m score"), "{error}");
}

#[test]
fn checkouts_start_from_the_integration_branch_tip_outside_the_repository() {
    let dir = standard_repo();
    let root = dir.path();
    let repo = dir.open();
    let missing = repo.checkout("r1", "api").unwrap_err();
    assert!(
        matches!(missing, WorkspaceError::BranchNotFound { .. }),
        "{missing:?}"
    );
    repo.create_integration_branch("r1").unwrap();
    let wt = repo.checkout("r1", "api").unwrap();
    assert_eq!(wt.path(), dir.sandboxes.path().join("r1/parts/api"));
    assert!(!wt.path().starts_with(root));
    assert_eq!(wt.tmp_dir(), dir.sandboxes.path().join("r1/tmp/api"));
    assert!(wt.tmp_dir().is_dir());
    assert_eq!(wt.commit_ref(), "refs/score/r1/api");
    assert_eq!(wt.base(), repo.head_commit().unwrap());
    assert_eq!(read(wt.path(), "src/lib.rs").unwrap(), "pub fn a() {}\n");
    // The agent's own repository: on a branch named after the part, at the
    // base, clean; not the user's.
    assert_eq!(git(wt.path(), &["symbolic-ref", "--short", "HEAD"]), "api");
    assert_eq!(git(wt.path(), &["rev-parse", "HEAD"]), wt.base());
    assert_eq!(git(wt.path(), &["status", "--porcelain"]), "");
    assert_eq!(
        git(wt.path(), &["rev-parse", "--absolute-git-dir"]),
        wt.path().join(".git").to_string_lossy()
    );
    assert!(wt.changes().unwrap().is_empty());
    // The checkout neither makes the user's checkout dirty nor adds a
    // worktree or a branch to the user's repository.
    assert!(repo.dirty_paths().unwrap().is_empty());
    assert_eq!(git(root, &["worktree", "list"]).lines().count(), 1);
    assert_eq!(git(root, &["branch", "--list", "score-parts/*"]), "");
}

#[test]
fn changes_cover_added_modified_deleted_renamed_untracked_and_skip_ignored() {
    let dir = repo_with(&[
        ("keep.txt", "keep\n"),
        ("edit.txt", "one\n"),
        ("gone.txt", "gone\n"),
        (
            "old/name.rs",
            "fn long_enough_to_be_detected_as_a_rename() {\n    let x = 1;\n    let y = 2;\n}\n",
        ),
        ("script.sh", "echo hi\n"),
        (".gitignore", "target/\n"),
    ]);
    let repo = dir.open();
    repo.create_integration_branch("r").unwrap();
    let wt = repo.checkout("r", "t").unwrap();
    let p = wt.path();
    write(p, "edit.txt", "two\n");
    std::fs::remove_file(p.join("gone.txt")).unwrap();
    std::fs::create_dir_all(p.join("new")).unwrap();
    std::fs::rename(p.join("old/name.rs"), p.join("new/name.rs")).unwrap();
    write(p, "untracked/deep/file.txt", "u");
    write(p, "target/debug/output.bin", "ignored");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(p.join("script.sh"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
    }
    let changes = wt.changes().unwrap();
    let mut expected = vec![
        change("edit.txt", ChangeKind::Modified),
        change("gone.txt", ChangeKind::Deleted),
        change(
            "new/name.rs",
            ChangeKind::Renamed {
                from: "old/name.rs".into(),
            },
        ),
        change("untracked/deep/file.txt", ChangeKind::Added),
    ];
    #[cfg(unix)]
    expected.push(change("script.sh", ChangeKind::Modified));
    expected.sort();
    assert_eq!(changes, expected);
    // Idempotent: asking again gives the same answer.
    assert_eq!(wt.changes().unwrap(), expected);
}

#[test]
fn changes_include_commits_the_agent_made_itself() {
    let dir = standard_repo();
    let repo = dir.open();
    repo.create_integration_branch("r").unwrap();
    let wt = repo.checkout("r", "t").unwrap();
    write(wt.path(), "src/api/new.rs", "new\n");
    git(wt.path(), &["add", "-A"]);
    git(wt.path(), &["commit", "-q", "-m", "agent commit"]);
    write(wt.path(), "src/api/more.rs", "more\n");
    assert_eq!(
        wt.changes().unwrap(),
        [
            change("src/api/more.rs", ChangeKind::Added),
            change("src/api/new.rs", ChangeKind::Added)
        ]
    );
    // The part's commit has the files, not the agent's history: one commit
    // on the base, at the part's ref.
    let commit = wt.commit("part t").unwrap().unwrap();
    assert_eq!(git(dir.path(), &["rev-parse", "refs/score/r/t"]), commit);
    assert_eq!(
        git(dir.path(), &["rev-parse", &format!("{commit}^")]),
        wt.base()
    );
    assert_eq!(
        git(
            dir.path(),
            &["rev-list", "--count", &format!("{}..{commit}", wt.base())]
        ),
        "1"
    );
}

#[test]
fn a_violation_is_found_rolled_back_and_explained() {
    let dir = standard_repo();
    let repo = dir.open();
    repo.create_integration_branch("r").unwrap();
    let wt = repo.checkout("r", "api").unwrap();
    let p = wt.path();
    let owns = globs(&["src/api/**"]);
    write(p, "src/api/handler.rs", "fn h() {}\n"); // owned
    write(p, "src/db/mod.rs", "// changed by the wrong part\n"); // modified, not owned
    write(p, "src/db/extra/new.rs", "x\n"); // added, not owned
    std::fs::remove_file(p.join("README.md")).unwrap(); // deleted, not owned
    let changes = wt.changes().unwrap();
    let violations = enforce(&changes, &owns);
    let paths = violating_paths(&violations);
    assert_eq!(paths, ["README.md", "src/db/extra/new.rs", "src/db/mod.rs"]);
    assert!(violations.iter().all(|v| v.owns == ["src/api/**"]));
    let feedback = violation_feedback(&violations, &owns);
    assert!(feedback.contains("`README.md` was deleted"), "{feedback}");
    assert!(feedback.contains("`src/api/**`"), "{feedback}");

    wt.rollback(&paths).unwrap();
    assert_eq!(read(p, "src/db/mod.rs").unwrap(), "// db\n");
    assert_eq!(read(p, "README.md").unwrap(), "# project\n");
    assert!(!p.join("src/db/extra").exists(), "empty directories go too");
    assert_eq!(read(p, "src/api/handler.rs").unwrap(), "fn h() {}\n");
    assert_eq!(
        wt.changes().unwrap(),
        [change("src/api/handler.rs", ChangeKind::Added)]
    );
    assert!(enforce(&wt.changes().unwrap(), &owns).is_empty());
    let bad = wt.rollback(&["../x"]).unwrap_err();
    assert!(matches!(bad, WorkspaceError::InvalidPath { .. }), "{bad:?}");
}

#[test]
fn rollback_undoes_a_rename_out_of_the_owned_area_and_file_directory_swaps() {
    let dir = standard_repo();
    let repo = dir.open();
    repo.create_integration_branch("r").unwrap();
    let wt = repo.checkout("r", "api").unwrap();
    let p = wt.path();
    std::fs::rename(p.join("docs/guide.md"), p.join("src/api/guide.md")).unwrap();
    // README.md becomes a directory.
    std::fs::remove_file(p.join("README.md")).unwrap();
    write(p, "README.md/inner.txt", "x");
    let changes = wt.changes().unwrap();
    let owns = globs(&["src/api/**"]);
    let violations = enforce(&changes, &owns);
    let paths = violating_paths(&violations);
    assert!(paths.contains(&"docs/guide.md".to_string()), "{paths:?}");
    assert!(paths.contains(&"README.md".to_string()), "{paths:?}");
    assert!(
        paths.contains(&"README.md/inner.txt".to_string()),
        "{paths:?}"
    );
    wt.rollback(&paths).unwrap();
    assert_eq!(read(p, "README.md").unwrap(), "# project\n");
    assert_eq!(
        read(p, "docs/guide.md").unwrap(),
        "guide\nline 2\nline 3\nline 4\n"
    );
    // The owned side of the rename stays, now a copy.
    assert!(enforce(&wt.changes().unwrap(), &owns).is_empty());
}

#[test]
fn edits_write_diff_and_delete_files() {
    let dir = standard_repo();
    let repo = dir.open();
    repo.create_integration_branch("r").unwrap();
    let wt = repo.checkout("r", "docs").unwrap();
    let p = wt.path();
    let edits = vec![
        FileEdit::write("docs/new/page.md", "# page\n"),
        FileEdit::diff(
            "docs/guide.md",
            "--- a/docs/guide.md\n+++ b/docs/guide.md\n@@ -1,4 +1,4 @@\n guide\n-line 2\n+line two\n line 3\n line 4\n",
        ),
        // Hunks only, and wrong line counts: the header comes from the
        // path, the counts are recomputed.
        FileEdit::diff("src/api/mod.rs", "@@ -1 +1,2 @@\n // api\n+pub fn x() {}\n"),
        // A new file as a diff without prefixes.
        FileEdit::diff(
            "docs/created.md",
            "--- /dev/null\n+++ docs/created.md\n@@ -0,0 +1 @@\n+made\n",
        ),
        FileEdit::delete("README.md"),
        FileEdit::write("docs/new/page.md", "# page, rewritten\n"),
    ];
    let written = wt.apply_edits(&edits).unwrap();
    assert_eq!(
        written,
        [
            "docs/new/page.md",
            "docs/guide.md",
            "src/api/mod.rs",
            "docs/created.md",
            "README.md"
        ]
    );
    assert_eq!(read(p, "docs/new/page.md").unwrap(), "# page, rewritten\n");
    assert_eq!(
        read(p, "docs/guide.md").unwrap(),
        "guide\nline two\nline 3\nline 4\n"
    );
    assert_eq!(
        read(p, "src/api/mod.rs").unwrap(),
        "// api\npub fn x() {}\n"
    );
    assert_eq!(read(p, "docs/created.md").unwrap(), "made\n");
    assert!(!p.join("README.md").exists());
    let kinds: Vec<(String, &str)> = wt
        .changes()
        .unwrap()
        .into_iter()
        .map(|c| (c.path.clone(), c.kind.verb()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("README.md".to_string(), "deleted"),
            ("docs/created.md".to_string(), "added"),
            ("docs/guide.md".to_string(), "modified"),
            ("docs/new/page.md".to_string(), "added"),
            ("src/api/mod.rs".to_string(), "modified"),
        ]
    );
}

#[test]
fn bad_edits_are_refused_each_with_a_message_and_nothing_is_applied() {
    let dir = standard_repo();
    let repo = dir.open();
    repo.create_integration_branch("r").unwrap();
    let wt = repo.checkout("r", "docs").unwrap();
    let p = wt.path();
    let edits = vec![
        FileEdit::write("docs/ok.md", "fine\n"),
        FileEdit::write("../escape.txt", "x"),
        FileEdit::write("/etc/evil", "x"),
        FileEdit::write(".git/config", "x"),
        FileEdit::write(".score/runs/x", "x"),
    ];
    let error = wt.apply_edits(&edits).unwrap_err();
    let indexes: Vec<usize> = error.problems.iter().filter_map(|e| e.index).collect();
    assert_eq!(indexes, [1, 2, 3, 4]);
    let text = error.to_string();
    assert!(text.contains("none was applied"), "{text}");
    assert!(text.contains("edit 2 (`../escape.txt`)"), "{text}");
    assert!(text.contains("absolute"), "{text}");
    assert!(text.contains("`.git`"), "{text}");
    assert!(!p.join("docs/ok.md").exists());
    assert!(!p.parent().unwrap().join("escape.txt").exists());

    // A diff that does not apply: the edits before it are undone.
    let edits = vec![
        FileEdit::write("docs/guide.md", "replaced\n"),
        FileEdit::write("docs/ok.md", "fine\n"),
        FileEdit::diff("src/lib.rs", "@@ -1 +1 @@\n-no such line\n+x\n"),
    ];
    let error = wt.apply_edits(&edits).unwrap_err();
    assert_eq!(error.problems.len(), 1);
    assert_eq!(error.problems[0].index, Some(2));
    assert!(error.to_string().contains("does not apply"), "{error}");
    assert_eq!(
        read(p, "docs/guide.md").unwrap(),
        "guide\nline 2\nline 3\nline 4\n"
    );
    assert!(!p.join("docs/ok.md").exists());
    assert!(wt.changes().unwrap().is_empty());

    // A diff edit may change its own file only.
    let two_files = "--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -1 +1 @@\n-pub fn a() {}\n+pub fn b() {}\n\
                     --- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-# project\n+# hacked\n";
    let error = wt
        .apply_edits(&[FileEdit::diff("src/lib.rs", two_files)])
        .unwrap_err();
    assert!(
        error.to_string().contains("also changes `README.md`"),
        "{error}"
    );
    let other = "--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-# project\n+# hacked\n";
    let error = wt
        .apply_edits(&[FileEdit::diff("src/lib.rs", other)])
        .unwrap_err();
    assert!(
        error.to_string().contains("header names `a/README.md`"),
        "{error}"
    );
    assert_eq!(read(p, "README.md").unwrap(), "# project\n");

    let error = wt
        .apply_edits(&[FileEdit::delete("docs/none.md")])
        .unwrap_err();
    assert!(error.to_string().contains("no such file"), "{error}");
    let error = wt.apply_edits(&[FileEdit::write("src", "x")]).unwrap_err();
    assert!(error.to_string().contains("directory"), "{error}");
}

#[cfg(unix)]
#[test]
fn edits_never_go_through_symbolic_links() {
    let dir = standard_repo();
    let outside = tempfile::tempdir().unwrap();
    let repo = dir.open();
    repo.create_integration_branch("r").unwrap();
    let wt = repo.checkout("r", "docs").unwrap();
    std::os::unix::fs::symlink(outside.path(), wt.path().join("docs/link")).unwrap();
    let error = wt
        .apply_edits(&[FileEdit::write("docs/link/x.txt", "x")])
        .unwrap_err();
    assert!(error.to_string().contains("symbolic link"), "{error}");
    assert!(!outside.path().join("x.txt").exists());
    // A link as the file itself is replaced, not written through.
    let target = outside.path().join("target.txt");
    std::fs::write(&target, "outside\n").unwrap();
    std::os::unix::fs::symlink(&target, wt.path().join("docs/file-link")).unwrap();
    wt.apply_edits(&[FileEdit::write("docs/file-link", "inside\n")])
        .unwrap();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "outside\n");
    assert_eq!(read(wt.path(), "docs/file-link").unwrap(), "inside\n");
}

#[test]
fn parallel_parts_in_disjoint_directories_merge_into_one_branch() {
    let dir = standard_repo();
    let root = dir.path().to_path_buf();
    let repo = Arc::new(dir.open());
    let branch = repo.create_integration_branch("r").unwrap();
    let parts = ["alpha", "beta", "gamma", "delta"];
    let handles: Vec<_> = parts
        .iter()
        .map(|&part| {
            let repo = Arc::clone(&repo);
            std::thread::spawn(move || {
                let wt = repo.checkout("r", part).unwrap();
                write(wt.path(), &format!("parts/{part}/lib.rs"), part);
                write(wt.path(), &format!("parts/{part}/more/x.txt"), "x");
                let changes = wt.changes().unwrap();
                assert!(enforce(&changes, &globs(&[&format!("parts/{part}/**")])).is_empty());
                let commit = wt.commit(&format!("part {part}")).unwrap().unwrap();
                (part, commit, wt)
            })
        })
        .collect();
    let done: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    // Merge in a fixed (DAG) order.
    let mut merged = Vec::new();
    for (part, commit, wt) in &done {
        let outcome = repo
            .merge(&branch, commit, &format!("merge part {part}"))
            .unwrap();
        let MergeOutcome::Merged { commit: merge } = outcome else {
            panic!("{part}: {outcome:?}");
        };
        assert_eq!(git(&root, &["rev-parse", &format!("{merge}^2")]), *commit);
        merged.push(merge);
        repo.release_checkout(wt.clone()).unwrap();
    }
    let files = files_of(&root, &branch);
    for part in parts {
        assert!(files.contains(&format!("parts/{part}/lib.rs")), "{files:?}");
        assert!(
            files.contains(&format!("parts/{part}/more/x.txt")),
            "{files:?}"
        );
    }
    assert!(files.contains(&"README.md".to_string()));
    // One merge commit per part on the first-parent line, in merge order.
    let first_parent = git(&root, &["log", "--first-parent", "--format=%s", &branch]);
    assert_eq!(
        first_parent.lines().collect::<Vec<_>>(),
        [
            "merge part delta",
            "merge part gamma",
            "merge part beta",
            "merge part alpha",
            "initial"
        ]
    );
    // The user's checkout and branch are untouched.
    assert_eq!(repo.current_branch().unwrap().as_deref(), Some("main"));
    assert!(!root.join("parts").exists());
    assert!(repo.dirty_paths().unwrap().is_empty());
    assert_eq!(git(&root, &["rev-list", "--count", "main"]), "1");
}

#[test]
fn concurrent_merges_into_one_branch_all_land() {
    let dir = standard_repo();
    let root = dir.path().to_path_buf();
    let repo = Arc::new(dir.open());
    let branch = repo.create_integration_branch("r").unwrap();
    let commits: Vec<String> = (0..6)
        .map(|i| {
            let wt = repo.checkout("r", &format!("p{i}")).unwrap();
            write(wt.path(), &format!("out/p{i}.txt"), "x");
            wt.commit("part").unwrap().unwrap()
        })
        .collect();
    let handles: Vec<_> = commits
        .iter()
        .cloned()
        .map(|commit| {
            let repo = Arc::clone(&repo);
            let branch = branch.clone();
            std::thread::spawn(move || repo.merge(&branch, &commit, "merge").unwrap())
        })
        .collect();
    for handle in handles {
        assert!(matches!(
            handle.join().unwrap(),
            MergeOutcome::Merged { .. }
        ));
    }
    for commit in &commits {
        assert!(repo.is_merged(&branch, commit).unwrap());
    }
    let files = files_of(&root, &branch);
    assert_eq!(files.iter().filter(|f| f.starts_with("out/")).count(), 6);
}

#[test]
fn a_conflict_names_the_paths_and_leaves_the_branch_unchanged() {
    let dir = standard_repo();
    let root = dir.path();
    let repo = dir.open();
    let branch = repo.create_integration_branch("r").unwrap();
    let a = repo.checkout("r", "a").unwrap();
    let b = repo.checkout("r", "b").unwrap();
    write(a.path(), "README.md", "# from a\n");
    write(a.path(), "shared/new.txt", "a\n");
    write(b.path(), "README.md", "# from b\n");
    write(b.path(), "shared/new.txt", "b\n");
    write(b.path(), "b-only.txt", "b\n");
    let ca = a.commit("a").unwrap().unwrap();
    let cb = b.commit("b").unwrap().unwrap();
    assert!(matches!(
        repo.merge(&branch, &ca, "merge a").unwrap(),
        MergeOutcome::Merged { .. }
    ));
    let before = git(root, &["rev-parse", &branch]);
    let outcome = repo.merge(&branch, &cb, "merge b").unwrap();
    let MergeOutcome::Conflict { paths, messages } = outcome else {
        panic!("expected a conflict, got {outcome:?}");
    };
    assert_eq!(paths, ["README.md", "shared/new.txt"]);
    assert!(
        messages
            .iter()
            .any(|m| m.contains("CONFLICT") && m.contains("README.md")),
        "{messages:?}"
    );
    assert_eq!(git(root, &["rev-parse", &branch]), before);
    assert!(!repo.is_merged(&branch, &cb).unwrap());
}

#[test]
fn merging_and_committing_again_change_nothing() {
    let dir = standard_repo();
    let root = dir.path();
    let repo = dir.open();
    let branch = repo.create_integration_branch("r").unwrap();
    let wt = repo.checkout("r", "api").unwrap();
    assert_eq!(wt.commit("nothing").unwrap(), None, "no changes, no commit");
    write(wt.path(), "src/api/x.rs", "x\n");
    let commit = wt.commit("api").unwrap().unwrap();
    assert_eq!(git(root, &["rev-parse", &wt.commit_ref()]), commit);
    let MergeOutcome::Merged { commit: merge } = repo.merge(&branch, &commit, "m").unwrap() else {
        panic!("merged");
    };
    // Crash between the merge and the journal: merging again is a no-op.
    assert_eq!(
        repo.merge(&branch, &commit, "m").unwrap(),
        MergeOutcome::UpToDate
    );
    assert_eq!(
        repo.merge(&branch, &wt.commit_ref(), "m").unwrap(),
        MergeOutcome::UpToDate
    );
    assert_eq!(git(root, &["rev-parse", &branch]), merge);
    assert!(repo.is_merged(&branch, &commit).unwrap());
    let bad = repo.merge(&branch, "no-such-thing", "m").unwrap_err();
    assert!(matches!(bad, WorkspaceError::NotACommit { .. }), "{bad:?}");
    let bad = repo.merge("score/nope", &commit, "m").unwrap_err();
    assert!(
        matches!(bad, WorkspaceError::BranchNotFound { .. }),
        "{bad:?}"
    );
}

#[test]
fn a_checkout_made_again_trusts_nothing_that_was_there() {
    let dir = standard_repo();
    let root = dir.path();
    let repo = dir.open();
    let branch = repo.create_integration_branch("r").unwrap();
    let wt = repo.checkout("r", "api").unwrap();
    write(wt.path(), "src/api/half.rs", "half done\n");
    write(wt.path(), "src/lib.rs", "broken\n");
    write(wt.path(), "target/cache.bin", "build output\n");
    write(wt.tmp_dir(), "scratch", "x\n");
    // What an agent may plant in its own repository.
    write(wt.path(), ".git/hooks/post-commit", "#!/bin/sh\nexit 1\n");
    write(
        wt.path(),
        ".git/refs/heads/api",
        "0000000000000000000000000000000000000000\n",
    );

    // Another part merges meanwhile: the integration branch moves on.
    let other = repo.checkout("r", "db").unwrap();
    write(other.path(), "src/db/x.rs", "x\n");
    let c = other.commit("db").unwrap().unwrap();
    repo.merge(&branch, &c, "merge db").unwrap();

    // Resume after a crash: a fresh checkout of the branch as it is now.
    let again = repo.checkout("r", "api").unwrap();
    assert_eq!(again.base(), git(root, &["rev-parse", &branch]));
    assert_eq!(read(again.path(), "src/db/x.rs").unwrap(), "x\n");
    assert!(!again.path().join("src/api/half.rs").exists());
    assert!(!again.path().join("target/cache.bin").exists());
    assert!(!again.tmp_dir().join("scratch").exists());
    assert!(!again.path().join(".git/hooks/post-commit").exists());
    assert_eq!(read(again.path(), "src/lib.rs").unwrap(), "pub fn a() {}\n");
    assert_eq!(git(again.path(), &["rev-parse", "HEAD"]), again.base());
    assert!(again.changes().unwrap().is_empty());

    // Its directory deleted by hand: made again.
    std::fs::remove_dir_all(again.path()).unwrap();
    let fresh = repo.checkout("r", "api").unwrap();
    assert_eq!(read(fresh.path(), "README.md").unwrap(), "# project\n");
}

#[test]
fn a_replaced_checkout_directory_is_never_touched() {
    let dir = standard_repo();
    let repo = dir.open();
    repo.create_integration_branch("r").unwrap();
    let wt = repo.checkout("r", "api").unwrap();
    // The part replaces its own directory with a link to the user's
    // checkout (what an unconfined agent could do).
    write(dir.path(), "user-file.txt", "precious\n");
    std::fs::remove_dir_all(wt.path()).unwrap();
    std::os::unix::fs::symlink(dir.path(), wt.path()).unwrap();
    for error in [
        wt.changes().unwrap_err(),
        wt.rollback(&["README.md"]).unwrap_err(),
        wt.commit("x").unwrap_err(),
    ] {
        assert!(
            matches!(error, WorkspaceError::CheckoutReplaced { .. }),
            "{error:?}"
        );
        assert!(error.to_string().contains("a symbolic link"), "{error}");
    }
    // Released or removed, the link goes, not what it points at.
    repo.release_checkout(wt.clone()).unwrap();
    assert!(std::fs::symlink_metadata(wt.path()).is_err());
    assert_eq!(read(dir.path(), "user-file.txt").unwrap(), "precious\n");
    assert_eq!(read(dir.path(), "README.md").unwrap(), "# project\n");
}

#[test]
fn released_checkouts_are_recycled_clean_for_the_next_part() {
    let dir = standard_repo();
    let root = dir.path();
    let repo = dir.open();
    let branch = repo.create_integration_branch("r").unwrap();
    let first = repo.checkout("r", "first").unwrap();
    write(first.path(), "first/done.txt", "1\n");
    write(first.path(), "target/cache.bin", "ignored build output\n");
    let c = first.commit("first").unwrap().unwrap();
    repo.merge(&branch, &c, "merge first").unwrap();
    write(first.path(), "stray-untracked.txt", "after the commit\n");
    write(first.path(), "src/lib.rs", "changed after the commit\n");
    let old_path = first.path().to_path_buf();
    repo.release_checkout(first).unwrap();
    assert!(!old_path.exists());

    let second = repo.checkout("r", "second").unwrap();
    assert_eq!(second.path(), dir.sandboxes.path().join("r/parts/second"));
    assert_eq!(second.base(), git(root, &["rev-parse", &branch]));
    assert_eq!(read(second.path(), "first/done.txt").unwrap(), "1\n");
    assert_eq!(
        read(second.path(), "src/lib.rs").unwrap(),
        "pub fn a() {}\n"
    );
    assert!(!second.path().join("stray-untracked.txt").exists());
    assert!(
        !second.path().join("target/cache.bin").exists(),
        "nothing ignored carries over from another part"
    );
    assert!(second.changes().unwrap().is_empty());
    assert_eq!(
        git(second.path(), &["symbolic-ref", "--short", "HEAD"]),
        "second"
    );
    // Nothing left in the pool.
    let pool: Vec<_> = std::fs::read_dir(dir.sandboxes.path().join("r/pool"))
        .unwrap()
        .collect();
    assert!(pool.is_empty(), "{pool:?}");
    write(second.path(), "second/x.txt", "2\n");
    let c2 = second.commit("second").unwrap().unwrap();
    assert!(matches!(
        repo.merge(&branch, &c2, "merge second").unwrap(),
        MergeOutcome::Merged { .. }
    ));
}

#[test]
fn an_agent_made_git_repository_is_a_violation_rolled_back() {
    let dir = standard_repo();
    let repo = dir.open();
    repo.create_integration_branch("r").unwrap();
    let wt = repo.checkout("r", "api").unwrap();
    write(wt.path(), "src/api/pkg/src/main.rs", "fn main() {}\n");
    git(&wt.path().join("src/api/pkg"), &["init", "-q"]);
    git(&wt.path().join("src/api/pkg"), &["add", "-A"]);
    git(
        &wt.path().join("src/api/pkg"),
        &["commit", "-q", "-m", "nested"],
    );
    let changes = wt.changes().unwrap();
    let violations = enforce(&changes, &globs(&["src/api/**"]));
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].path, "src/api/pkg");
    assert_eq!(violations[0].rule, Rule::NestedRepository);
    assert!(
        violations[0].to_string().contains("--vcs none"),
        "{}",
        violations[0]
    );
    wt.rollback(&violating_paths(&violations)).unwrap();
    assert!(!wt.path().join("src/api/pkg").exists());
    assert!(wt.changes().unwrap().is_empty());
    // A retry starts clean too.
    let again = repo.checkout("r", "api").unwrap();
    assert!(!again.path().join("src/api/pkg").exists());
    assert!(again.changes().unwrap().is_empty());
}

#[test]
fn merge_into_current_fast_forwards_or_merges_and_refuses_dirty_trees() {
    let dir = standard_repo();
    let root = dir.path();
    let repo = dir.open();
    let branch = repo.create_integration_branch("r").unwrap();
    let wt = repo.checkout("r", "api").unwrap();
    write(wt.path(), "src/api/x.rs", "x\n");
    let c = wt.commit("api").unwrap().unwrap();
    repo.merge(&branch, &c, "merge api").unwrap();

    // Uncommitted changes to tracked files: refused, nothing touched.
    write(root, "README.md", "local edit\n");
    let error = repo.merge_into_current(&branch, "m").unwrap_err();
    assert!(
        matches!(error, WorkspaceError::DirtyMergeTarget { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("git stash"), "{error}");
    git(root, &["checkout", "--", "README.md"]);

    // An untracked file in the way: git refuses, and says which.
    write(root, "src/api/x.rs", "mine\n");
    let error = repo.merge_into_current(&branch, "m").unwrap_err();
    assert!(
        matches!(error, WorkspaceError::MergeRefused { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("src/api/x.rs"), "{error}");
    std::fs::remove_file(root.join("src/api/x.rs")).unwrap();

    // Nothing moved on main: a fast-forward.
    let tip = git(root, &["rev-parse", &branch]);
    let outcome = repo.merge_into_current(&branch, "m").unwrap();
    assert_eq!(
        outcome,
        MergeOutcome::Merged {
            commit: tip.clone()
        }
    );
    assert_eq!(git(root, &["rev-parse", "main"]), tip);
    assert_eq!(read(root, "src/api/x.rs").unwrap(), "x\n");
    assert_eq!(
        repo.merge_into_current(&branch, "m").unwrap(),
        MergeOutcome::UpToDate
    );

    // The user committed meanwhile: a merge commit.
    let wt2 = repo.checkout("r", "db").unwrap();
    write(wt2.path(), "src/db/y.rs", "y\n");
    let c2 = wt2.commit("db").unwrap().unwrap();
    repo.merge(&branch, &c2, "merge db").unwrap();
    write(root, "user.txt", "u\n");
    git(root, &["add", "user.txt"]);
    git(root, &["commit", "-q", "-m", "user work"]);
    let MergeOutcome::Merged { commit } = repo
        .merge_into_current(&branch, "score: merge run r")
        .unwrap()
    else {
        panic!("merged");
    };
    assert_eq!(git(root, &["rev-parse", "main"]), commit);
    assert_eq!(
        git(root, &["log", "-1", "--format=%s", "main"]),
        "score: merge run r"
    );
    assert_eq!(read(root, "src/db/y.rs").unwrap(), "y\n");
    assert_eq!(read(root, "user.txt").unwrap(), "u\n");
    assert!(repo.dirty_paths().unwrap().is_empty());

    git(root, &["checkout", "-q", "--detach"]);
    let error = repo.merge_into_current(&branch, "m").unwrap_err();
    assert!(
        matches!(error, WorkspaceError::DetachedHead { .. }),
        "{error:?}"
    );
}

#[test]
fn edits_of_the_score_s_own_files_do_not_refuse_a_merge() {
    let dir = standard_repo();
    let root = dir.path();
    let repo = dir.open();
    let branch = repo.create_integration_branch("r").unwrap();
    let wt = repo.checkout("r", "api").unwrap();
    write(wt.path(), "src/api/x.rs", "x\n");
    let c = wt.commit("api").unwrap().unwrap();
    repo.merge(&branch, &c, "merge api").unwrap();
    // The README stands for the score: its edit is the user's, and stays.
    write(root, "README.md", "local edit\n");
    let own = ["README.md".to_string()];
    assert_eq!(repo.merge_target(&branch, &own).unwrap(), "main");
    assert!(matches!(
        repo.merge_target(&branch, &[]),
        Err(WorkspaceError::DirtyMergeTarget { .. })
    ));
    let outcome = repo.merge_into_current_except(&branch, "m", &own).unwrap();
    assert!(
        matches!(outcome, MergeOutcome::Merged { .. }),
        "{outcome:?}"
    );
    assert_eq!(read(root, "src/api/x.rs").unwrap(), "x\n");
    assert_eq!(read(root, "README.md").unwrap(), "local edit\n");
    assert_eq!(repo.dirty_paths().unwrap(), vec!["README.md".to_string()]);
}

#[test]
fn merge_into_current_reports_a_conflict_without_touching_the_checkout() {
    let dir = standard_repo();
    let root = dir.path();
    let repo = dir.open();
    let branch = repo.create_integration_branch("r").unwrap();
    let wt = repo.checkout("r", "api").unwrap();
    write(wt.path(), "README.md", "# from the run\n");
    let c = wt.commit("api").unwrap().unwrap();
    repo.merge(&branch, &c, "merge").unwrap();
    write(root, "README.md", "# from the user\n");
    git(root, &["commit", "-q", "-am", "user"]);
    let head = git(root, &["rev-parse", "HEAD"]);
    let outcome = repo.merge_into_current(&branch, "m").unwrap();
    assert!(
        matches!(&outcome, MergeOutcome::Conflict { paths, .. } if paths == &["README.md"]),
        "{outcome:?}"
    );
    assert_eq!(git(root, &["rev-parse", "HEAD"]), head);
    assert_eq!(read(root, "README.md").unwrap(), "# from the user\n");
    assert!(repo.dirty_paths().unwrap().is_empty());
}

#[test]
fn finish_run_and_clean_remove_what_runs_left() {
    let dir = standard_repo();
    let root = dir.path();
    let repo = dir.open();
    let sandboxes = dir.sandboxes.path();
    let mut kept = Vec::new();
    for run in ["old", "current"] {
        let branch = repo.create_integration_branch(run).unwrap();
        for task in ["a", "b"] {
            let wt = repo.checkout(run, task).unwrap();
            // Different content per run: identical commits made in the
            // same second would be one commit.
            write(wt.path(), &format!("{task}.txt"), &format!("{run} {task}"));
            let c = wt.commit(task).unwrap().unwrap();
            repo.merge(&branch, &c, "m").unwrap();
            kept.push(wt);
        }
    }
    // `current`'s b is parked in the pool.
    let b = kept.pop().unwrap();
    repo.release_checkout(b).unwrap();
    // What a run of an earlier version left: a worktree and a part branch.
    git(root, &["branch", "score-parts/ancient/x"]);
    git(
        root,
        &[
            "worktree",
            "add",
            "-q",
            ".score/worktrees/ancient/x",
            "score-parts/ancient/x",
        ],
    );

    let plan = repo.plan_clean(&["current"], false).unwrap();
    assert!(plan.branches.is_empty());
    // Planning removes nothing.
    assert!(sandboxes.join("old").exists());
    let cleaned = repo.clean(&plan, false).unwrap();
    assert_eq!(
        cleaned.checkouts,
        [sandboxes.join("old"), root.join(".score/worktrees/ancient")],
        "{cleaned:?}"
    );
    assert_eq!(
        cleaned.branches,
        [
            "refs/score/old/a",
            "refs/score/old/b",
            "score-parts/ancient/x"
        ]
    );
    assert!(sandboxes.join("current/parts/a").exists());
    assert_eq!(git(root, &["worktree", "list"]).lines().count(), 1);
    assert_eq!(
        git(root, &["rev-parse", "--verify", "-q", "score/old"]).len(),
        40
    );

    // Keeping checkouts: the pool and the temporary directories go, `a`
    // stays with its ref.
    let cleaned = repo.finish_run("current", true).unwrap();
    assert_eq!(cleaned, Default::default());
    assert!(sandboxes.join("current/parts/a").exists());
    assert!(!sandboxes.join("current/pool").exists());
    let cleaned = repo.finish_run("current", false).unwrap();
    assert_eq!(
        cleaned.branches,
        ["refs/score/current/a", "refs/score/current/b"]
    );
    assert!(!sandboxes.join("current").exists());

    // With branches: integration branches go too, except a checked-out one,
    // and one not merged into HEAD only with `force`.
    git(root, &["checkout", "-q", "score/current"]);
    let plan = repo.plan_clean(&[], true).unwrap();
    assert_eq!(
        plan.branches,
        [score::workspace::BranchToClean {
            name: "score/old".into(),
            merged: false
        }]
    );
    let cleaned = repo.clean(&plan, false).unwrap();
    assert_eq!(cleaned.branches, Vec::<String>::new());
    assert_eq!(
        git(root, &["rev-parse", "--verify", "-q", "score/old"]).len(),
        40
    );
    let cleaned = repo.clean(&plan, true).unwrap();
    assert_eq!(cleaned.branches, ["score/old"]);
    assert_eq!(
        git(
            root,
            &[
                "for-each-ref",
                "--format=%(refname:short)",
                "refs/heads/score"
            ]
        ),
        "score/current"
    );
    assert_eq!(git(root, &["for-each-ref", "refs/score"]), "");
    let nothing = repo.plan_clean(&[], true).unwrap();
    assert_eq!(nothing, Default::default());
    // A merged integration branch goes without `force`.
    git(root, &["checkout", "-q", "main"]);
    git(root, &["merge", "-q", "--no-edit", "score/current"]);
    let plan = repo.plan_clean(&[], true).unwrap();
    assert!(plan.branches.iter().all(|b| b.merged), "{plan:?}");
    assert_eq!(
        repo.clean(&plan, false).unwrap().branches,
        ["score/current"]
    );
}

#[test]
fn commits_work_without_any_git_identity_and_carry_scores() {
    let dir = standard_repo();
    let root = dir.path();
    let repo = Repo::open(root)
        .unwrap()
        .with_identity("Score Bot", "bot@example.com");
    let branch = repo.create_integration_branch("r").unwrap();
    let wt = repo.checkout("r", "api").unwrap();
    write(wt.path(), "src/api/x.rs", "x\n");
    let c = wt.commit("part api\n\nScore-Run: r\n").unwrap().unwrap();
    assert_eq!(
        git(
            root,
            &[
                "log",
                "-1",
                "--format=%an <%ae>|%s|%(trailers:key=Score-Run,valueonly)",
                &c
            ]
        ),
        "Score Bot <bot@example.com>|part api|r"
    );
    let MergeOutcome::Merged { commit } = repo.merge(&branch, &c, "merge api").unwrap() else {
        panic!()
    };
    assert_eq!(
        git(root, &["log", "-1", "--format=%cn", &commit]),
        "Score Bot"
    );
    assert_eq!(integration_branch("r"), branch);
}

#[test]
fn removing_a_checkout_keeps_its_merged_work() {
    let dir = standard_repo();
    let root = dir.path();
    let repo = dir.open();
    let branch = repo.create_integration_branch("r").unwrap();
    let wt = repo.checkout("r", "api").unwrap();
    write(wt.path(), "src/api/x.rs", "x\n");
    let message = part_commit_message("r", "api", "claude", &["fast"]);
    let c = wt.commit(&message).unwrap().unwrap();
    repo.merge(&branch, &c, &merge_message("r", "api")).unwrap();
    let path = wt.path().to_path_buf();
    repo.remove_checkout(wt).unwrap();
    assert!(!path.exists());
    assert_eq!(git(root, &["for-each-ref", "refs/heads/score-parts"]), "");
    assert_eq!(git(root, &["worktree", "list"]).lines().count(), 1);
    assert!(files_of(root, &branch).contains(&"src/api/x.rs".to_string()));
    let trailer = git(
        root,
        &[
            "log",
            "-1",
            "--format=%(trailers:key=Score-Part,valueonly)",
            &format!("{branch}^2"),
        ],
    );
    assert_eq!(trailer, "api");
}

#[test]
fn task_names_with_dots_recycle_like_any_other() {
    let dir = standard_repo();
    let repo = dir.open();
    repo.create_integration_branch("r").unwrap();
    let first = repo.checkout("r", "step.1").unwrap();
    write(first.path(), "src/api/x.rs", "x\n");
    repo.release_checkout(first).unwrap();
    let pool = dir.sandboxes.path().join("r/pool");
    assert!(pool.join("step.1").is_dir());
    assert!(pool.join("step.1.index").is_file());
    let second = repo.checkout("r", "step.2").unwrap();
    assert!(!pool.join("step.1").exists(), "recycled");
    assert!(!pool.join("step.1.index").exists());
    assert!(!second.path().join("src/api/x.rs").exists());
    assert!(second.changes().unwrap().is_empty());
}

/// A cached part's commit of an earlier run, applied on a newer base (for
/// its checks to run again where its work would land); a conflict with
/// the base changes nothing.
#[test]
fn an_earlier_commit_applies_on_a_newer_base_or_says_it_conflicts() {
    let dir = standard_repo();
    let repo = dir.open();
    repo.create_integration_branch("r1").unwrap();
    let wt = repo.checkout("r1", "t").unwrap();
    write(wt.path(), "src/api/new.rs", "new\n");
    write(wt.path(), "README.md", "# project, by t\n");
    let earlier = wt.commit("part t").unwrap().unwrap();
    repo.release_checkout(wt).unwrap();
    // The user moves on: another file changes on main.
    write(dir.path(), "docs/guide.md", "guide v2\n");
    git(dir.path(), &["commit", "-q", "-am", "guide v2"]);
    repo.create_integration_branch("r2").unwrap();
    let wt = repo.checkout("r2", "t").unwrap();
    assert!(wt.apply_commit(&earlier).unwrap());
    assert_eq!(read(wt.path(), "src/api/new.rs").as_deref(), Some("new\n"));
    assert_eq!(
        read(wt.path(), "docs/guide.md").as_deref(),
        Some("guide v2\n")
    );
    assert_eq!(
        read(wt.path(), "README.md").as_deref(),
        Some("# project, by t\n")
    );
    repo.release_checkout(wt).unwrap();
    // Now main changes the line the part changed: a conflict.
    write(dir.path(), "README.md", "# project, by the user\n");
    git(dir.path(), &["commit", "-q", "-am", "readme"]);
    repo.create_integration_branch("r3").unwrap();
    let wt = repo.checkout("r3", "t").unwrap();
    assert!(!wt.apply_commit(&earlier).unwrap());
    assert_eq!(read(wt.path(), "src/api/new.rs"), None);
    assert_eq!(
        read(wt.path(), "README.md").as_deref(),
        Some("# project, by the user\n")
    );
    assert!(wt.apply_commit("--output=x").is_err());
}
