//! `mlguard hook pre-commit-framework`, called as the pre-commit framework calls it (the
//! variables it and git set, the files it hands over), without the framework: what it scans in
//! each case, and that it says "nothing to scan" rather than passing an empty scan as clean.

use std::fs;
use std::path::Path;
use std::process::Output;

use crate::common::*;

const HF: &str = "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";
const AWS: &str = "AKIALVFUPXQMB2Y2NYRV";

fn hook(dir: &Path, env: &[(&str, &str)], files: &[&str]) -> (Output, String) {
    let out = mlguard_in(dir)
        .args(["hook", "pre-commit-framework"])
        .args(files)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains(HF) && !text.contains(AWS),
        "secret printed: {text}"
    );
    (out, text)
}

/// A repository whose first commit holds an AWS key in old.py.
fn repo() -> tempfile::TempDir {
    let repo = git_repo();
    fs::write(repo.path().join("old.py"), format!("KEY = \"{AWS}\"\n")).unwrap();
    git(repo.path(), &["add", "old.py"]);
    git(repo.path(), &["commit", "-q", "-m", "old key"]);
    repo
}

const COMMIT: (&str, &str) = ("GIT_INDEX_FILE", ".git/index");

#[test]
fn during_a_commit_it_scans_what_the_commit_adds_to_the_handed_files() {
    let repo = repo();
    let dir = repo.path();
    fs::write(dir.join("new.py"), format!("login(token=\"{HF}\")\n")).unwrap();
    fs::write(dir.join("old.py"), format!("import os\nKEY = \"{AWS}\"\n")).unwrap();
    git(dir, &["add", "new.py", "old.py"]);
    let (out, text) = hook(dir, &[COMMIT], &["new.py", "old.py"]);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("new.py:1:14: huggingface-token"), "{text}");
    assert!(
        !text.contains("aws-access-key-id"),
        "old.py's key is not new: {text}"
    );
    assert!(
        text.contains("in what this commit adds (2 file(s) read)"),
        "{text}"
    );
    // The framework may split the files over calls: each call scans its own share.
    let (out, text) = hook(dir, &[COMMIT], &["old.py"]);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("mlguard: no credentials in what this commit adds (1 file(s) read)"),
        "{text}"
    );
    // Only a deletion staged, so no file handed: nothing to scan, said so.
    git(dir, &["reset", "-q"]);
    git(dir, &["checkout", "--", "old.py"]);
    git(dir, &["rm", "-q", "old.py"]);
    let (out, text) = hook(dir, &[COMMIT], &[]);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "mlguard: nothing to scan: the commit adds no file content; this is not a clean result"
        ),
        "{text}"
    );
}

#[test]
fn under_run_all_files_it_scans_the_handed_files_as_committed() {
    let repo = repo();
    let dir = repo.path();
    // The committed key is found although nothing is staged...
    let (out, text) = hook(dir, &[("PRE_COMMIT", "1")], &["old.py"]);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("old.py:1:8: aws-access-key-id"), "{text}");
    assert!(
        text.contains("the files handed to the hook (whole, as committed)"),
        "{text}"
    );
    // ...it is read from the index, not from a working copy that differs...
    fs::write(dir.join("old.py"), "KEY = os.environ['KEY']\n").unwrap();
    let (out, text) = hook(dir, &[], &["old.py"]);
    assert_eq!(out.status.code(), Some(1), "{text}");
    // ...and an untracked file handed over (`run --files`) is read from disk.
    fs::write(dir.join("untracked.py"), format!("t = \"{HF}\"\n")).unwrap();
    let (out, text) = hook(dir, &[], &["./untracked.py"]);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("untracked.py:1:6: huggingface-token"),
        "{text}"
    );
    // No file at all: nothing to scan.
    let (out, text) = hook(dir, &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("mlguard: nothing to scan: the framework handed the hook no file"),
        "{text}"
    );
    // Skipped by the configuration: nothing to scan either, and said so.
    fs::write(
        dir.join(".mlguard.toml"),
        "[scan]\nskip_paths = [\"*.py\"]\n",
    )
    .unwrap();
    let (out, text) = hook(dir, &[], &["old.py"]);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("the 1 handed file(s) are all skipped"),
        "{text}"
    );
}

#[test]
fn with_from_and_to_refs_it_scans_every_commit_of_the_range() {
    let repo = repo();
    let dir = repo.path();
    let start = git(dir, &["rev-parse", "HEAD"]).trim().to_string();
    fs::write(dir.join("new.py"), format!("login(token=\"{HF}\")\n")).unwrap();
    git(dir, &["add", "new.py"]);
    git(dir, &["commit", "-q", "-m", "key"]);
    git(dir, &["rm", "-q", "new.py"]);
    git(dir, &["commit", "-q", "-m", "key gone"]);
    let range = [
        ("PRE_COMMIT_FROM_REF", start.as_str()),
        ("PRE_COMMIT_TO_REF", "HEAD"),
    ];
    // Added and removed inside the range: no file shows it, the range does. A commit is
    // running too (GIT_INDEX_FILE), but the refs decide.
    let (out, text) = hook(dir, &[range[0], range[1], COMMIT], &[]);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("new.py:1:14: huggingface-token"), "{text}");
    assert!(
        text.contains(&format!("in the commits {}..HEAD", &start[..12])),
        "{text}"
    );
    // An empty range: nothing to scan.
    let (out, text) = hook(
        dir,
        &[
            ("PRE_COMMIT_FROM_REF", "HEAD"),
            ("PRE_COMMIT_TO_REF", "HEAD"),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("mlguard: nothing to scan: the commits HEAD..HEAD add no file content"),
        "{text}"
    );
    // A "revision" that git would read as an option is refused.
    let (out, text) = hook(
        dir,
        &[
            ("PRE_COMMIT_FROM_REF", "--output=/tmp/x"),
            ("PRE_COMMIT_TO_REF", "HEAD"),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("PRE_COMMIT_FROM_REF"), "{text}");
}

#[test]
fn a_push_of_a_branch_new_to_the_remote_scans_its_whole_history() {
    let repo = repo();
    let dir = repo.path();
    git(dir, &["rm", "-q", "old.py"]);
    git(dir, &["commit", "-q", "-m", "key gone"]);
    let push = [
        ("PRE_COMMIT_REMOTE_NAME", "origin"),
        ("PRE_COMMIT_REMOTE_URL", "/dev/null"),
        ("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main"),
        ("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/main"),
    ];
    let (out, text) = hook(dir, &push, &[]);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("old.py:1:8: aws-access-key-id"), "{text}");
    assert!(text.contains("every commit of refs/heads/main"), "{text}");
}

#[test]
fn the_installed_hook_name_takes_no_files() {
    let repo = repo();
    let out = mlguard_in(repo.path())
        .args(["hook", "pre-commit", "old.py"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("takes no files"));
}
