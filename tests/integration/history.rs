//! `mlguard scan --range` and `--history` on real repositories: every commit's additions, each
//! distinct blob once, and for each secret the commits that expose it.

use std::fs;
use std::path::Path;

use crate::common::*;

const HF: &str = "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";
const GROQ: &str = "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";

/// Commits everything staged at a fixed date (day `day` of January 2024, noon UTC).
fn commit_at(dir: &Path, day: u32, message: &str) -> String {
    let date = format!("2024-01-{day:02}T12:00:00Z");
    let out = git_command(dir)
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .args(["commit", "-qm", message])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    git(dir, &["rev-parse", "HEAD"]).trim().to_string()
}

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn scan(dir: &Path, args: &[&str]) -> (i32, Vec<serde_json::Value>) {
    let out = mlguard_in(dir)
        .args(["scan", "--no-config", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let findings = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), findings)
}

#[test]
fn deleted_and_moved_secret_is_found_with_its_exposure() {
    let repo = git_repo();
    write(repo.path(), "README.md", "# project\n");
    git(repo.path(), &["add", "."]);
    commit_at(repo.path(), 1, "init");
    write(repo.path(), "eval/run.py", &format!("KEY = \"{HF}\"\n"));
    git(repo.path(), &["add", "."]);
    let introduced = commit_at(repo.path(), 2, "add eval");
    git(
        repo.path(),
        &["mv", "eval/run.py", "eval/run_benchmarks.py"],
    );
    let moved = commit_at(repo.path(), 3, "rename");
    git(repo.path(), &["rm", "-q", "eval/run_benchmarks.py"]);
    commit_at(repo.path(), 4, "remove");
    write(repo.path(), "later.py", "x = 1\n");
    git(repo.path(), &["add", "."]);
    commit_at(repo.path(), 5, "more");

    assert_eq!(scan(repo.path(), &["."]).0, 0, "the tree is clean now");
    let (code, findings) = scan(repo.path(), &["--history"]);
    assert_eq!(code, 1);
    assert_eq!(
        findings.len(),
        1,
        "one secret, reported once: {findings:#?}"
    );
    let exposure = &findings[0]["exposure"];
    assert_eq!(exposure["first_commit"]["id"], introduced);
    assert_eq!(exposure["first_commit"]["date"], "2024-01-02T12:00:00Z");
    assert_eq!(
        exposure["first_commit"]["author"],
        "Test <test@example.com>"
    );
    assert_eq!(exposure["last_commit"]["id"], moved);
    assert_eq!(exposure["in_head"], false);
    assert_eq!(exposure["commits"], 2);
    assert_eq!(
        exposure["paths"],
        serde_json::json!(["eval/run.py", "eval/run_benchmarks.py"])
    );
    assert!(!String::from_utf8_lossy(&serde_json::to_vec(&findings).unwrap()).contains(HF));
}

#[test]
fn side_branches_merges_and_ranges() {
    let repo = git_repo();
    write(repo.path(), "a.py", "x = 1\n");
    git(repo.path(), &["add", "."]);
    let base = commit_at(repo.path(), 1, "init");
    write(repo.path(), "old.py", &format!("OLD = \"{HF}\"\n"));
    git(repo.path(), &["add", "."]);
    let old_secret = commit_at(repo.path(), 2, "old secret");

    git(repo.path(), &["checkout", "-q", "-b", "feature"]);
    write(
        repo.path(),
        "feature.py",
        &format!("client = Groq(api_key=\"{GROQ}\")\n"),
    );
    git(repo.path(), &["add", "."]);
    commit_at(repo.path(), 3, "feature with a key");
    git(repo.path(), &["checkout", "-q", "main"]);
    write(repo.path(), "b.py", "y = 2\n");
    git(repo.path(), &["add", "."]);
    commit_at(repo.path(), 4, "main moves on");

    // Only on a side branch: --history finds it, HEAD does not have it.
    let (_, findings) = scan(repo.path(), &["--history"]);
    let groq = findings
        .iter()
        .find(|f| f["rule"] == "groq-api-key")
        .expect("side-branch secret");
    assert_eq!(groq["exposure"]["in_head"], false);

    // The merge brings it in: a range from before the merge sees it, not the old secret.
    let date = "2024-01-05T12:00:00Z";
    let merge = git_command(repo.path())
        .env("GIT_AUTHOR_DATE", date)
        .env("GIT_COMMITTER_DATE", date)
        .args(["merge", "-q", "--no-ff", "-m", "merge feature", "feature"])
        .output()
        .unwrap();
    assert!(merge.status.success());
    let (code, findings) = scan(repo.path(), &["--range", &format!("{old_secret}..HEAD")]);
    assert_eq!(code, 1);
    let rules: Vec<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        ["groq-api-key"],
        "the old secret is outside the range"
    );
    assert_eq!(findings[0]["exposure"]["in_head"], true);

    // From the root (an all-zero start, as in a push event for a new branch).
    let zero = "0".repeat(40);
    let (_, findings) = scan(repo.path(), &["--range", &format!("{zero}..HEAD")]);
    assert_eq!(findings.len(), 2);

    // An empty range.
    let (code, findings) = scan(repo.path(), &["--range", "HEAD..HEAD"]);
    assert_eq!((code, findings.len()), (0, 0));
    let _ = base;
}

#[test]
fn range_reports_only_lines_its_commits_add() {
    let repo = git_repo();
    write(repo.path(), "cfg.py", &format!("OLD = \"{HF}\"\n"));
    git(repo.path(), &["add", "."]);
    let first = commit_at(repo.path(), 1, "old");
    write(
        repo.path(),
        "cfg.py",
        &format!("OLD = \"{HF}\"\nNEW = \"{GROQ}\"\n"),
    );
    git(repo.path(), &["add", "."]);
    commit_at(repo.path(), 2, "new");
    let (_, findings) = scan(repo.path(), &["--range", &format!("{first}..HEAD")]);
    let rules: Vec<&str> = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["groq-api-key"]);
}

#[test]
fn notebook_output_secret_in_history_is_named_as_such() {
    let repo = git_repo();
    let nb = serde_json::json!({
        "cells": [{"cell_type": "code", "execution_count": 1, "metadata": {}, "source": ["print(os.environ['HF_TOKEN'])\n"],
                   "outputs": [{"name": "stdout", "output_type": "stream", "text": [format!("{HF}\n")]}]}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 4
    });
    write(repo.path(), "explore.ipynb", &nb.to_string());
    git(repo.path(), &["add", "."]);
    commit_at(repo.path(), 1, "notebook");
    let (_, findings) = scan(repo.path(), &["--history"]);
    assert_eq!(
        findings[0]["location"],
        "cell 1 of 1, output 1 (stream stdout)"
    );
    assert_eq!(findings[0]["notebook_output"], true);
    let text = mlguard_in(repo.path())
        .args(["scan", "--no-config", "--history"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("mlguard strip explore.ipynb")
            && text.contains("git filter-repo --replace-text"),
        "{text}"
    );
    assert!(!text.contains(HF));
}

#[test]
fn sarif_for_history_carries_exposure_and_notes() {
    let repo = git_repo();
    write(repo.path(), "a.py", &format!("KEY = \"{HF}\"\n"));
    write(repo.path(), "big.txt", &"x".repeat(2_000));
    fs::write(
        repo.path().join(".mlguard.toml"),
        "[scan]\nmax_file_size = 1000\n",
    )
    .unwrap();
    git(repo.path(), &["add", "."]);
    commit_at(repo.path(), 1, "one");
    let out = mlguard_in(repo.path())
        .args(["scan", "--history", "--format", "sarif"])
        .output()
        .unwrap();
    assert_valid_sarif(&out.stdout);
    let sarif: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = &sarif["runs"][0];
    assert_eq!(run["results"][0]["properties"]["exposure"]["commits"], 1);
    let notes = run["invocations"][0]["toolExecutionNotifications"].to_string();
    assert!(
        notes.contains("big.txt") && notes.contains("skipped"),
        "{notes}"
    );
}
