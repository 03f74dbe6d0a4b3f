//! `mlguard scan --staged` on real repositories: only what the next commit adds is reported,
//! read from the index that git is actually committing.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::common::*;

const HF_A: &str = "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";
const HF_B: &str = "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";
const AWS: &str = "AKIALVFUPXQMB2Y2NYRV";

fn staged(dir: &Path) -> (i32, Vec<serde_json::Value>) {
    let out = mlguard_in(dir)
        .args(["scan", "--staged", "--no-config", "--format", "json"])
        .output()
        .unwrap();
    let findings = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap_or(-1), findings)
}

fn files_and_rules(findings: &[serde_json::Value]) -> Vec<(String, String)> {
    findings
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn new_file_on_an_unborn_branch_is_scanned() {
    let repo = git_repo();
    fs::write(
        repo.path().join("train.py"),
        format!("login(token=\"{HF_A}\")\n"),
    )
    .unwrap();
    git(repo.path(), &["add", "train.py"]);
    let (code, findings) = staged(repo.path());
    assert_eq!(code, 1);
    assert_eq!(
        files_and_rules(&findings),
        [("train.py".into(), "huggingface-token".into())]
    );
    assert_eq!(findings[0]["line"], 1);
}

#[test]
fn clean_index_and_unstaged_changes_give_exit_0() {
    let repo = git_repo();
    fs::write(repo.path().join("a.py"), "x = 1\n").unwrap();
    git(repo.path(), &["add", "a.py"]);
    git(repo.path(), &["commit", "-qm", "init"]);
    fs::write(repo.path().join("a.py"), format!("x = \"{HF_A}\"\n")).unwrap();
    let (code, findings) = staged(repo.path());
    assert_eq!(
        (code, findings.len()),
        (0, 0),
        "unstaged work must not be scanned"
    );
}

#[test]
fn modified_file_reports_only_the_added_secret() {
    let repo = git_repo();
    fs::write(repo.path().join("cfg.py"), format!("OLD = \"{HF_A}\"\n")).unwrap();
    git(repo.path(), &["add", "cfg.py"]);
    git(repo.path(), &["commit", "-qm", "old secret"]);
    fs::write(
        repo.path().join("cfg.py"),
        format!("import os\nOLD = \"{HF_A}\"\nNEW = \"{HF_B}\"\n"),
    )
    .unwrap();
    git(repo.path(), &["add", "cfg.py"]);
    let (code, findings) = staged(repo.path());
    assert_eq!(code, 1);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["line"], 3);
}

#[test]
fn renames_and_deletions_add_nothing_but_edits_in_renamed_files_count() {
    let repo = git_repo();
    fs::write(
        repo.path().join("old.py"),
        format!("KEY = \"{HF_A}\"\nx = 1\ny = 2\nz = 3\n"),
    )
    .unwrap();
    fs::write(repo.path().join("gone.py"), format!("KEY = \"{HF_B}\"\n")).unwrap();
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-qm", "init"]);
    git(repo.path(), &["mv", "old.py", "new.py"]);
    git(repo.path(), &["rm", "-q", "gone.py"]);
    assert_eq!(staged(repo.path()), (0, vec![]));
    fs::write(
        repo.path().join("new.py"),
        format!("KEY = \"{HF_A}\"\nx = 1\ny = 2\nz = 3\nAWS = \"{AWS}\"\n"),
    )
    .unwrap();
    git(repo.path(), &["add", "new.py"]);
    let (code, findings) = staged(repo.path());
    assert_eq!(code, 1);
    assert_eq!(
        files_and_rules(&findings),
        [("new.py".into(), "aws-access-key-id".into())]
    );
}

#[test]
fn odd_paths_and_binary_files() {
    let repo = git_repo();
    fs::write(
        repo.path().join("with space.py"),
        format!("k = \"{HF_A}\"\n"),
    )
    .unwrap();
    fs::write(
        repo.path().join("new\nline.py"),
        format!("k = \"{HF_B}\"\n"),
    )
    .unwrap();
    let non_utf8 = std::ffi::OsStr::from_encoded_bytes_unchecked_safe(b"caf\xe9.py");
    fs::write(repo.path().join(non_utf8), format!("k = \"{AWS}\"\n")).unwrap();
    let mut binary = vec![0u8; 64];
    binary.extend_from_slice(HF_A.as_bytes());
    fs::write(repo.path().join("weights.bin"), binary).unwrap();
    git(repo.path(), &["add", "."]);
    let (code, findings) = staged(repo.path());
    assert_eq!(code, 1);
    let mut files: Vec<String> = findings
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    files.sort();
    // A binary file is not skipped: its printable runs are scanned for prefixed tokens.
    assert_eq!(
        files,
        [
            "caf\u{fffd}.py",
            "new\nline.py",
            "weights.bin",
            "with space.py"
        ]
    );
}

trait FromBytes {
    fn from_encoded_bytes_unchecked_safe(bytes: &[u8]) -> &std::ffi::OsStr;
}

impl FromBytes for std::ffi::OsStr {
    fn from_encoded_bytes_unchecked_safe(bytes: &[u8]) -> &std::ffi::OsStr {
        std::os::unix::ffi::OsStrExt::from_bytes(bytes)
    }
}

#[test]
fn notebook_outputs_in_the_index_are_read_not_the_working_copy() {
    let repo = git_repo();
    let nb = format!(
        r#"{{"cells": [{{"cell_type": "code", "execution_count": 1, "metadata": {{}}, "outputs": [{{"name": "stdout", "output_type": "stream", "text": ["token: {HF_A}\n"]}}], "source": ["print(t)"]}}], "metadata": {{}}, "nbformat": 4, "nbformat_minor": 4}}"#
    );
    fs::write(repo.path().join("nb.ipynb"), &nb).unwrap();
    git(repo.path(), &["add", "nb.ipynb"]);
    fs::write(repo.path().join("nb.ipynb"), "{}").unwrap();
    let (code, findings) = staged(repo.path());
    assert_eq!(code, 1);
    // The working file no longer holds the token: the position is the staged version's.
    assert_eq!(
        findings[0]["location"],
        "cell 1 of 1, output 1 (stream stdout); line of the staged version, not of your working file"
    );
    assert_eq!(findings[0]["notebook_output"], true);
}

/// Real commits through a pre-commit hook: `git commit -a` and `git commit PATH` use a
/// temporary index (GIT_INDEX_FILE), which the scan must read.
#[test]
fn hook_sees_commit_a_and_commit_paths() {
    let repo = git_repo();
    fs::write(repo.path().join("a.py"), "x = 1\n").unwrap();
    fs::write(repo.path().join("b.py"), "y = 1\n").unwrap();
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-qm", "init"]);
    let hook = repo.path().join(".git/hooks/pre-commit");
    fs::write(
        &hook,
        format!(
            "#!/bin/sh\nexec '{}' scan --staged --no-config\n",
            env!("CARGO_BIN_EXE_mlguard")
        ),
    )
    .unwrap();
    fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();

    fs::write(repo.path().join("a.py"), format!("x = \"{HF_A}\"\n")).unwrap();
    let commit_all = git_output(repo.path(), &["commit", "-a", "-m", "leak"]);
    assert!(
        !commit_all.status.success(),
        "git commit -a must be refused"
    );
    // git sends a hook's stdout to stderr.
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&commit_all.stdout),
        String::from_utf8_lossy(&commit_all.stderr)
    );
    assert!(
        output.contains("a.py:1:") && output.contains("huggingface-token"),
        "{output}"
    );
    assert!(!output.contains(HF_A), "secret printed");

    let commit_path = git_output(repo.path(), &["commit", "-m", "leak", "a.py"]);
    assert!(
        !commit_path.status.success(),
        "git commit PATH must be refused"
    );

    fs::write(repo.path().join("a.py"), "x = 2\n").unwrap();
    let clean = git_output(repo.path(), &["commit", "-a", "-m", "fine"]);
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
}

#[test]
fn outside_a_repository_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = mlguard_in(dir.path())
        .env("GIT_CEILING_DIRECTORIES", dir.path())
        .args(["scan", "--staged", "--no-config"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("git"));
}

/// The hook reads the staged (stripped) notebook, but reports the line of the file the user
/// has open when the secret is there too.
#[test]
fn findings_are_placed_in_the_working_file_when_it_holds_them() {
    let repo = git_repo();
    let out = mlguard_in(repo.path()).arg("install").output().unwrap();
    assert!(out.status.success());
    let nb = serde_json::json!({
        "cells": [
            {"cell_type": "code", "execution_count": 1, "metadata": {}, "source": ["print(1)\n"],
             "outputs": [{"name": "stdout", "output_type": "stream", "text": ["a\n", "b\n", "c\n", "d\n", "e\n", "f\n", "g\n"]}]},
            {"cell_type": "code", "execution_count": 2, "metadata": {}, "source": [format!("login(token=\"{HF_A}\")\n")], "outputs": []}
        ],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 4
    });
    let text = serde_json::to_string_pretty(&nb).unwrap();
    fs::write(repo.path().join("nb.ipynb"), &text).unwrap();
    git(repo.path(), &["add", "nb.ipynb"]);
    let expected_line = text.lines().position(|l| l.contains(HF_A)).unwrap() + 1;
    let staged_blob = git(repo.path(), &["show", ":nb.ipynb"]);
    let staged_line = staged_blob.lines().position(|l| l.contains(HF_A)).unwrap() + 1;
    assert_ne!(expected_line, staged_line, "the fixture must move the line");
    let (code, findings) = staged(repo.path());
    assert_eq!(code, 1);
    let hf = findings
        .iter()
        .find(|f| f["rule"] == "huggingface-token")
        .unwrap();
    assert_eq!(hf["line"], expected_line, "{findings:#?}");
    assert_eq!(hf["location"], "cell 2 of 2 source");
}
