//! The boundary against hostile agents, on the git side: each test plays a
//! part with a small shell script that attacks the user's repository the
//! way a careless or hostile coding agent could (replacing its directory,
//! moving branches, planting hooks and filters, redirecting `.git`, links,
//! leftovers for later parts, forged resume state), through the real
//! `score` binary and real git. After each run the user's checkout, index,
//! branches, config, hooks and `info/` are byte-for-byte what they were,
//! and what the part did wrong is named in the journal.
//!
//! The attacks here use only what a part can reach from inside its
//! checkout (relative paths, its own `.git`, paths it can discover). Writes
//! to absolute paths are the confinement's business (tests/sandbox_process.rs).

mod support;

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::runs::{files_below, git, write};

/// A user's repository: the score, the agent scripts, a README, all
/// committed; then an uncommitted edit and a new file, which no run may
/// touch.
struct Project {
    repo: tempfile::TempDir,
    sandboxes: tempfile::TempDir,
}

impl Project {
    fn new(score: &str, scripts: &[(&str, &str)]) -> Project {
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path();
        write(root, "s.score", score);
        write(root, "README.md", "# the user's project\n");
        write(root, ".gitignore", "target/\n");
        for (name, body) in scripts {
            write(root, name, body);
        }
        git(root, &["init", "-q", "-b", "main"]);
        git(root, &["add", "-A"]);
        git(root, &["commit", "-q", "-m", "initial"]);
        Project {
            repo,
            sandboxes: tempfile::tempdir().unwrap(),
        }
    }

    fn root(&self) -> &Path {
        self.repo.path()
    }

    fn score(&self) -> Command {
        let mut cmd = Command::cargo_bin("score").unwrap();
        cmd.current_dir(self.root())
            .env_remove("CI")
            .env("SCORE_SANDBOX_DIR", self.sandboxes.path());
        cmd
    }

    /// What no run may change: every file of the checkout and of `.git`
    /// (config, hooks, info, index, HEAD, refs) but the object store, the
    /// reflogs, the run's own branch and part refs, and `.score`; and every
    /// ref git lists, but those.
    fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        let root = self.root();
        let mut files = BTreeMap::new();
        let skipped = |rel: &str| {
            rel == ".score"
                || rel.starts_with(".score/")
                || rel.starts_with(".git/objects")
                || rel.starts_with(".git/logs")
                || rel.starts_with(".git/refs/heads/score/")
                || rel.starts_with(".git/refs/score")
        };
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                if skipped(&rel) {
                    continue;
                }
                let meta = std::fs::symlink_metadata(&path).unwrap();
                if meta.is_dir() {
                    stack.push(path);
                } else if meta.file_type().is_symlink() {
                    let target = std::fs::read_link(&path).unwrap();
                    files.insert(rel, target.to_string_lossy().as_bytes().to_vec());
                } else {
                    files.insert(rel, std::fs::read(&path).unwrap());
                }
            }
        }
        let refs: String = git(root, &["for-each-ref", "--format=%(refname) %(objectname)"])
            .lines()
            .filter(|l| !l.starts_with("refs/heads/score/") && !l.starts_with("refs/score/"))
            .map(|l| format!("{l}\n"))
            .collect();
        files.insert("(refs)".into(), refs.into_bytes());
        files
    }

    /// Uncommitted work of the user's: an edit and a new file.
    fn dirty(&self) {
        write(
            self.root(),
            "README.md",
            "# the user's project\nuncommitted edit\n",
        );
        write(self.root(), "notes.txt", "a new file, not yet added\n");
    }

    fn journal(&self) -> String {
        let runs = self.root().join(".score/runs");
        let mut text = String::new();
        for entry in std::fs::read_dir(runs).unwrap().flatten() {
            text.push_str(&std::fs::read_to_string(entry.path().join("events.jsonl")).unwrap());
        }
        text
    }

    fn branch(&self) -> String {
        git(
            self.root(),
            &[
                "for-each-ref",
                "--format=%(refname:short)",
                "refs/heads/score/",
            ],
        )
        .lines()
        .last()
        .expect("a run branch")
        .to_string()
    }

    fn files_on(&self, branch: &str) -> Vec<String> {
        git(self.root(), &["ls-tree", "-r", "--name-only", branch])
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// A one-part score: part `p` owns `p/**`, played by `sh attack.sh`.
fn one_part(extra: &str) -> String {
    format!(
        "use std.checks.{{shell}}\n\nscore s {{\n  default_agent a\n}}\n\n\
         intent i \"The part writes its file\" {{\n  accept \"p/out.txt exists\"\n}}\n\n\
         agent a: command {{\n  run [\"sh\", \"attack.sh\"]\n  tier complex\n}}\n\n\
         part p {{\n  serves i\n  owns \"p/**\"\n  retries 1\n{extra}}}\n"
    )
}

/// The user's repository, as a script inside a part can find it: through
/// the alternates of the part's own `.git`.
const FIND_REPO: &str =
    "repo=$(dirname \"$(dirname \"$(head -1 .git/objects/info/alternates)\")\")\n";

#[test]
fn a_part_that_replaces_its_directory_with_a_link_to_the_user_checkout_loses_nothing() {
    let script = format!(
        "#!/bin/sh\n{FIND_REPO}mkdir -p p && echo ok > p/out.txt\n\
         here=$PWD\ncd ..\nrm -rf \"$here\" 2>/dev/null\nln -s \"$repo\" \"$here\" 2>/dev/null\nexit 0\n"
    );
    let score = one_part("").replace(
        "  tier complex\n",
        "  tier complex\n  confinement optional\n",
    );
    // Confined, the part cannot touch its checkout's parent directory: it
    // empties its checkout instead, which is a boundary violation (rolled
    // back). Unconfined (as where Landlock is missing), it replaces the
    // directory, and the runtime refuses to touch what took its place.
    for (sandbox, expected) in [
        (true, "`attack.sh` was deleted"),
        (false, "no longer the directory score made"),
    ] {
        let project = Project::new(&score, &[("attack.sh", &script)]);
        project.dirty();
        let before = project.snapshot();
        let mut cmd = project.score();
        if !sandbox {
            cmd.env("SCORE_TEST_NO_SANDBOX", "1");
        }
        cmd.args(["run", "s.score", "--allow-dirty"])
            .assert()
            .failure();
        let journal = project.journal();
        assert!(journal.contains(expected), "{expected}\n{journal}");
        assert_eq!(
            project.snapshot(),
            before,
            "the user's files and repository (sandbox: {sandbox})"
        );
        assert!(project.root().join("notes.txt").exists());
    }
}

#[test]
fn git_commands_inside_a_part_never_reach_the_user_refs_config_hooks_or_index() {
    // Everything a part can do with plain git from inside its checkout:
    // move branches, stash, plant hooks, fsmonitor and a clean filter
    // through the common dir, rewrite `.git` to point at the user's.
    let script = format!(
        "#!/bin/sh\n{FIND_REPO}\
         mkdir -p p && echo ok > p/out.txt\n\
         git update-ref refs/heads/main HEAD 2>/dev/null\n\
         git branch -f score/evil HEAD 2>/dev/null\n\
         echo stash-me >> README.md; git stash -q 2>/dev/null\n\
         common=$(git rev-parse --git-common-dir)\n\
         mkdir -p \"$common/hooks\" \"$common/info\"\n\
         printf '#!/bin/sh\\ntouch \"{marker}\"\\n' > \"$common/hooks/post-commit\"; chmod +x \"$common/hooks/post-commit\"\n\
         git config core.fsmonitor \"touch {marker}\"\n\
         git config filter.evil.clean \"touch {marker}; cat\"\n\
         echo '* filter=evil' > \"$common/info/attributes\"\n\
         echo '* filter=evil' > p/.gitattributes\n\
         rm -rf .git; echo \"gitdir: $repo/.git\" > .git\n\
         exit 0\n",
        marker = "$repo/../PWNED-$SCORE_TASK"
    );
    let project = Project::new(&one_part(""), &[("attack.sh", &script)]);
    project.dirty();
    let before = project.snapshot();
    project
        .score()
        .args(["run", "s.score", "--allow-dirty"])
        .assert()
        .success();
    assert_eq!(
        project.snapshot(),
        before,
        "the user's files and repository"
    );
    let pwned = project.root().parent().unwrap().join("PWNED-p");
    assert!(
        !pwned.exists(),
        "a filter, hook or fsmonitor of the part ran"
    );
    // The part's own files made it; its `.git` did not.
    let files = project.files_on(&project.branch());
    assert!(files.contains(&"p/out.txt".to_string()), "{files:?}");
    assert!(!files.iter().any(|f| f.contains(".git/")), "{files:?}");
    // Nothing new under the user's hooks, and the user's branches are
    // where they were.
    assert_eq!(git(project.root(), &["branch", "--list", "score/evil"]), "");
}

#[test]
fn links_are_writes_only_inside_owns() {
    // Attempt 1: links out of the part (to the user's README, to
    // /etc/passwd, to an unowned file) and a `.score` link; attempt 2: a
    // link that stays inside. Every bad one is rolled back and fed back.
    let script = "#!/bin/sh\nmkdir -p p\necho ok > p/out.txt\n\
        if [ \"$SCORE_ATTEMPT\" = 1 ]; then\n\
          ln -s ../README.md p/readme\n\
          ln -s ../../../../README.md p/far\n\
          ln -s /etc/passwd p/passwd\n\
          ln -s ../s.score p/score\n\
          ln -s .. .score\n\
        else\n\
          ln -s out.txt p/alias\n\
        fi\n";
    let project = Project::new(&one_part(""), &[("attack.sh", script)]);
    let before = project.snapshot();
    project.score().args(["run", "s.score"]).assert().success();
    assert_eq!(project.snapshot(), before);
    let journal = project.journal();
    for needle in [
        "`p/readme` is a symbolic link to `../README.md`",
        "`p/passwd` is a symbolic link to `/etc/passwd`",
        "`p/far` is a symbolic link",
        "`p/score` is a symbolic link",
        "`.score` was added",
    ] {
        assert!(journal.contains(needle), "{needle}\n{journal}");
    }
    let branch = project.branch();
    let mut files = project.files_on(&branch);
    files.retain(|f| f.starts_with("p/") || f.starts_with(".score"));
    assert_eq!(files, ["p/alias", "p/out.txt"]);
    assert_eq!(
        git(
            project.root(),
            &["cat-file", "-p", &format!("{branch}:p/alias")]
        ),
        "out.txt"
    );
    // `.score` in the user's workspace is still the runtime's directory.
    assert!(
        std::fs::symlink_metadata(project.root().join(".score"))
            .unwrap()
            .is_dir()
    );
}

#[test]
fn nothing_an_earlier_part_left_helps_a_later_part() {
    // `first` leaves an ignored script and an untracked file, and writes
    // outside its owns; `second` runs after it (recycling its checkout) and
    // its check passes only if it finds none of that.
    let score = "use std.checks.{shell}\n\nscore s {\n  default_agent a\n}\n\n\
        intent i \"Parts write files\" {\n  accept \"they exist\"\n}\n\n\
        agent a: command {\n  run [\"sh\", \"agent.sh\"]\n  tier complex\n}\n\n\
        part first {\n  serves i\n  owns \"first/**\"\n  retries 1\n}\n\n\
        part second {\n  serves i\n  owns \"second/**\"\n  retries 0\n  \
        ensures shell(cmd: \"test ! -e target/cheat.sh && test ! -e first/untracked.log && test ! -e stray.txt\")\n}\n\n\
        sequence {\n  first -> second\n}\n";
    let agent = "#!/bin/sh\nmkdir -p \"$SCORE_TASK\"\necho ok > \"$SCORE_TASK/out.txt\"\n\
        if [ \"$SCORE_TASK\" = first ] && [ \"$SCORE_ATTEMPT\" = 1 ]; then\n\
          mkdir -p target && printf '#!/bin/sh\\nexit 0\\n' > target/cheat.sh\n\
          echo log > first/untracked.log\n\
          echo stray > stray.txt\n\
        fi\n";
    let project = Project::new(
        score,
        &[("agent.sh", agent), (".gitignore", "target/\n*.log\n")],
    );
    project.score().args(["run", "s.score"]).assert().success();
    let files = project.files_on(&project.branch());
    assert!(files.contains(&"second/out.txt".to_string()), "{files:?}");
    assert!(!files.contains(&"stray.txt".to_string()), "{files:?}");
}

#[test]
fn resume_trusts_the_journal_not_what_a_part_planted() {
    // On its first attempt the part plants a commit with a file outside its
    // boundary on every ref of its own repository, then waits to be killed
    // with the conductor (a crash); on resume it behaves. Only its honest
    // work is merged.
    let script = "#!/bin/sh\nmkdir -p p\necho ok > p/out.txt\n\
        if [ \"$SCORE_ATTEMPT\" = 1 ]; then\n\
          echo evil > evil.txt\n\
          git add -A >/dev/null 2>&1\n\
          git -c user.name=x -c user.email=x@x commit -qm planted >/dev/null 2>&1\n\
          planted=$(git rev-parse HEAD)\n\
          for f in .git/score-base .git/ORIG_HEAD .git/FETCH_HEAD; do echo $planted > $f; done\n\
          touch .git/PLANTED\n\
          sleep 60\n\
        fi\n";
    let project = Project::new(&one_part(""), &[("attack.sh", script)]);
    let before = project.snapshot();
    let mut first = std::process::Command::new(assert_cmd::cargo::cargo_bin("score"))
        .current_dir(project.root())
        .env_remove("CI")
        .env("SCORE_SANDBOX_DIR", project.sandboxes.path())
        .args(["run", "s.score"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait (a bounded number of times) for the part to have planted.
    let planted = || {
        files_below(project.sandboxes.path())
            .iter()
            .any(|p| p.ends_with("parts/p/.git/PLANTED"))
    };
    for _ in 0..600 {
        if planted() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(planted(), "the part never planted its commit");
    first.kill().unwrap();
    first.wait().unwrap();
    project
        .score()
        .args(["run", "s.score", "--resume"])
        .assert()
        .success();
    assert_eq!(project.snapshot(), before);
    let files = project.files_on(&project.branch());
    assert!(files.contains(&"p/out.txt".to_string()), "{files:?}");
    assert!(!files.contains(&"evil.txt".to_string()), "{files:?}");
}

/// The directory of a run's checkouts is recorded in the journal.
#[test]
fn the_journal_says_where_the_checkouts_are() {
    let script = "#!/bin/sh\nmkdir -p p && echo ok > p/out.txt\n";
    let project = Project::new(&one_part(""), &[("attack.sh", script)]);
    project.score().args(["run", "s.score"]).assert().success();
    let journal = project.journal();
    let sandboxes: PathBuf = project.sandboxes.path().to_path_buf();
    assert!(
        journal.contains(&format!("\"checkouts\":\"{}", sandboxes.display())),
        "{journal}"
    );
}
