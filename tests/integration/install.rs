//! `mlguard install`, the filter process, the hook, `uninstall` and `status` on real
//! repositories driven by the real git.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use crate::common::*;

const HF: &str = "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";
const AWS_ID: &str = "AKIALVFUPXQMB2Y2NYRV";
const AWS_SECRET: &str = "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";

fn notebook_with_output(text: &str) -> String {
    serde_json::json!({
        "cells": [{"cell_type": "code", "execution_count": 3, "metadata": {}, "source": ["print(x)\n"],
                   "outputs": [{"name": "stdout", "output_type": "stream", "text": [format!("{text}\n")]}]}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 4
    })
    .to_string()
}

fn run(dir: &Path, args: &[&str]) -> Output {
    mlguard_in(dir).args(args).output().unwrap()
}

fn installed_repo() -> tempfile::TempDir {
    let repo = git_repo();
    let out = run(repo.path(), &["install"]);
    assert!(out.status.success(), "{}", combined(&out));
    repo
}

fn staged_output_count(dir: &Path, path: &str) -> usize {
    let blob = git(dir, &["show", &format!(":{path}")]);
    let nb: serde_json::Value = serde_json::from_str(&blob).unwrap();
    nb["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["outputs"].as_array().map_or(0, Vec::len))
        .sum()
}

#[test]
fn filter_strips_the_staged_blob_and_keeps_the_working_copy() {
    let repo = installed_repo();
    let nb = notebook_with_output("loss 0.1");
    fs::write(repo.path().join("nb.ipynb"), &nb).unwrap();
    git(repo.path(), &["add", "nb.ipynb"]);
    assert_eq!(staged_output_count(repo.path(), "nb.ipynb"), 0);
    assert_eq!(
        fs::read_to_string(repo.path().join("nb.ipynb")).unwrap(),
        nb
    );
    git(repo.path(), &["commit", "-qm", "nb"]);
    assert_eq!(git(repo.path(), &["status", "--porcelain"]), "");

    // A new output only: nothing to commit (git status may list the file while its size
    // differs from the index's record; the filtered content is the same, so the diff is empty).
    fs::write(
        repo.path().join("nb.ipynb"),
        notebook_with_output("loss 0.05"),
    )
    .unwrap();
    assert_eq!(git(repo.path(), &["diff"]), "");
    git(repo.path(), &["add", "nb.ipynb"]);
    assert_eq!(git(repo.path(), &["diff", "--cached"]), "");
    fs::write(
        repo.path().join("nb.ipynb"),
        nb.replace("print(x)", "print(y)"),
    )
    .unwrap();
    let diff = git(repo.path(), &["diff"]);
    assert!(
        diff.contains("+    \"print(y)\\n\"") && !diff.contains("loss"),
        "{diff}"
    );
}

#[test]
fn filter_process_handles_empty_large_and_odd_files() {
    let repo = installed_repo();
    let big_text = "x".repeat(100 * 1024);
    fs::write(repo.path().join("empty.ipynb"), "").unwrap();
    fs::write(
        repo.path().join("with space\nand newline.ipynb"),
        notebook_with_output(&big_text),
    )
    .unwrap();
    let huge = serde_json::json!({
        "cells": (0..40).map(|i| serde_json::json!({"cell_type": "code", "execution_count": i, "metadata": {}, "source": [format!("step({i})")],
            "outputs": [{"data": {"image/png": "iVBOR".repeat(110_000)}, "metadata": {}, "output_type": "display_data"}]})).collect::<Vec<_>>(),
        "metadata": {}, "nbformat": 4, "nbformat_minor": 4
    })
    .to_string();
    assert!(huge.len() > 20 * 1024 * 1024);
    fs::write(repo.path().join("huge.ipynb"), &huge).unwrap();
    git(repo.path(), &["add", "."]);
    assert_eq!(git(repo.path(), &["show", ":empty.ipynb"]), "");
    assert_eq!(
        staged_output_count(repo.path(), "with space\nand newline.ipynb"),
        0
    );
    assert_eq!(staged_output_count(repo.path(), "huge.ipynb"), 0);
    let staged = git(repo.path(), &["show", ":huge.ipynb"]);
    assert!(staged.contains("step(39)") && staged.len() < 100_000);
}

/// The filter is not `required` (a missing binary must never break a checkout), so git stores
/// a notebook it cannot strip as it is, never truncated; the hook then refuses the commit.
#[test]
fn invalid_notebook_is_stored_whole_and_refused_at_commit() {
    let repo = installed_repo();
    fs::write(repo.path().join("bad.ipynb"), "{\"cells\": [").unwrap();
    let add = git_output(repo.path(), &["add", "bad.ipynb"]);
    assert!(add.status.success(), "{}", combined(&add));
    assert!(
        String::from_utf8_lossy(&add.stderr).contains("bad.ipynb"),
        "git says the filter failed: {}",
        combined(&add)
    );
    assert_eq!(
        git(repo.path(), &["show", ":bad.ipynb"]),
        "{\"cells\": [",
        "unfiltered, never truncated"
    );
    let commit = git_output(repo.path(), &["commit", "-m", "bad"]);
    let text = combined(&commit);
    assert!(!commit.status.success(), "{text}");
    assert!(text.contains("bad.ipynb: notebook-invalid"), "{text}");

    // A team that wants `git add` itself to fail can still make the filter required.
    git(repo.path(), &["rm", "-q", "--cached", "bad.ipynb"]);
    git(repo.path(), &["config", "filter.mlguard.required", "true"]);
    let add = git_output(repo.path(), &["add", "bad.ipynb"]);
    assert!(!add.status.success());
    assert_eq!(
        git(repo.path(), &["ls-files", "--stage"]),
        "",
        "nothing may be staged"
    );
}

#[test]
fn hook_refuses_credentials_and_unstripped_notebooks() {
    let repo = installed_repo();
    fs::write(
        repo.path().join(".env"),
        format!("AWS_ACCESS_KEY_ID={AWS_ID}\nAWS_SECRET_ACCESS_KEY={AWS_SECRET}\n"),
    )
    .unwrap();
    git(repo.path(), &["add", ".env"]);
    let commit = git_output(repo.path(), &["commit", "-m", "env"]);
    let text = combined(&commit);
    assert!(!commit.status.success());
    assert!(
        text.contains(".env:1:") && text.contains("aws-access-key-id") && text.contains("fix:"),
        "{text}"
    );
    assert!(
        !text.contains(AWS_ID) && !text.contains(AWS_SECRET),
        "secret printed: {text}"
    );
    git(repo.path(), &["rm", "-q", "--cached", ".env"]);

    // The filter is not active (a clone without `mlguard install`'s driver): the hook blocks.
    git(
        repo.path(),
        &["config", "--unset", "filter.mlguard.process"],
    );
    git(repo.path(), &["config", "--unset", "filter.mlguard.clean"]);
    git(repo.path(), &["config", "filter.mlguard.required", "false"]);
    fs::write(
        repo.path().join("nb.ipynb"),
        notebook_with_output(&format!("token {HF}")),
    )
    .unwrap();
    git(repo.path(), &["add", "nb.ipynb"]);
    let commit = git_output(repo.path(), &["commit", "-m", "nb"]);
    let text = combined(&commit);
    assert!(!commit.status.success());
    assert!(
        text.contains("nb.ipynb: notebook-outputs")
            && text.contains("mlguard strip nb.ipynb && git add nb.ipynb"),
        "{text}"
    );
    assert!(
        text.contains("huggingface-token")
            && text.contains("cell 1 of 1, output 1 (stream stdout)"),
        "{text}"
    );
    assert!(!text.contains(HF), "secret printed: {text}");

    // Same through `git commit -a` (another index file).
    git(repo.path(), &["rm", "-q", "--cached", "nb.ipynb"]);
    fs::write(repo.path().join("nb.ipynb"), notebook_with_output("fine")).unwrap();
    git(repo.path(), &["add", "nb.ipynb"]);
    git(
        repo.path(),
        &[
            "-c",
            "core.hooksPath=/dev/null",
            "commit",
            "-qm",
            "nb with output",
        ],
    );
    fs::write(
        repo.path().join("nb.ipynb"),
        notebook_with_output(&format!("token {HF}")),
    )
    .unwrap();
    let commit = git_output(repo.path(), &["commit", "-a", "-m", "leak"]);
    assert!(!commit.status.success(), "{}", combined(&commit));
    assert!(combined(&commit).contains("huggingface-token"));
}

#[test]
fn hook_fails_closed_when_mlguard_is_missing() {
    let repo = git_repo();
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("mlguard");
    copy_mlguard(&copy);
    let out = std::process::Command::new(&copy)
        .current_dir(repo.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", repo.path().join(".absent"))
        .arg("install")
        .output()
        .unwrap();
    assert!(out.status.success());
    fs::remove_file(&copy).unwrap();
    fs::write(repo.path().join("a.py"), "x = 1\n").unwrap();
    git(
        repo.path(),
        &["-c", "filter.mlguard.required=false", "add", "a.py"],
    );
    let commit = git_command(repo.path())
        .env("PATH", "/usr/bin:/bin")
        .args(["commit", "-m", "x"])
        .output()
        .unwrap();
    assert!(!commit.status.success());
    assert!(
        combined(&commit).contains("cannot find mlguard"),
        "{}",
        combined(&commit)
    );
}

fn snapshot(dir: &Path) -> (String, String, String) {
    let config = fs::read_to_string(dir.join(".git/config")).unwrap();
    let attributes = fs::read_to_string(dir.join(".git/info/attributes")).unwrap_or_default();
    let hook = fs::read_to_string(dir.join(".git/hooks/pre-commit")).unwrap_or_default();
    (config, attributes, hook)
}

#[test]
fn reinstall_changes_nothing_and_uninstall_restores_everything_else() {
    let repo = git_repo();
    let hooks = repo.path().join(".git/hooks");
    fs::write(
        hooks.join("pre-commit"),
        "#!/bin/sh\necho foreign-hook-ran\n",
    )
    .unwrap();
    fs::set_permissions(hooks.join("pre-commit"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::create_dir_all(repo.path().join(".git/info")).unwrap();
    fs::write(
        repo.path().join(".git/info/attributes"),
        "*.png filter=lfs diff=lfs merge=lfs -text\n",
    )
    .unwrap();
    git(
        repo.path(),
        &["config", "filter.lfs.clean", "git-lfs clean -- %f"],
    );
    let before = snapshot(repo.path());

    assert!(run(repo.path(), &["install"]).status.success());
    let installed = snapshot(repo.path());
    let again = run(repo.path(), &["install"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("nothing changed"));
    assert_eq!(snapshot(repo.path()), installed);

    fs::write(repo.path().join("a.py"), "x = 1\n").unwrap();
    git(repo.path(), &["add", "a.py"]);
    let commit = git_output(repo.path(), &["commit", "-m", "x"]);
    assert!(commit.status.success(), "{}", combined(&commit));
    assert!(
        combined(&commit).contains("foreign-hook-ran"),
        "the chained hook must still run"
    );

    assert!(run(repo.path(), &["uninstall"]).status.success());
    assert_eq!(snapshot(repo.path()), before);
}

#[test]
fn linked_worktree_and_submodule_use_the_files_git_reads() {
    let repo = git_repo();
    fs::write(repo.path().join("a.py"), "x = 1\n").unwrap();
    git(repo.path(), &["add", "a.py"]);
    git(repo.path(), &["commit", "-qm", "init"]);
    let worktree_parent = tempfile::tempdir().unwrap();
    let worktree = worktree_parent.path().join("wt");
    git(
        repo.path(),
        &[
            "worktree",
            "add",
            "-q",
            "-b",
            "wt",
            worktree.to_str().unwrap(),
        ],
    );
    assert!(run(&worktree, &["install"]).status.success());
    assert!(
        repo.path().join(".git/info/attributes").exists(),
        "attributes in the common dir"
    );
    assert!(git(&worktree, &["check-attr", "filter", "--", "x.ipynb"]).contains("filter: mlguard"));
    assert!(
        run(&worktree, &["status"]).status.success(),
        "{}",
        combined(&run(&worktree, &["status"]))
    );
    fs::write(worktree.join("nb.ipynb"), notebook_with_output("out")).unwrap();
    git(&worktree, &["add", "nb.ipynb"]);
    assert_eq!(staged_output_count(&worktree, "nb.ipynb"), 0);
    assert!(run(&worktree, &["uninstall"]).status.success());
    assert!(!git(&worktree, &["check-attr", "filter", "--", "x.ipynb"]).contains("mlguard"));

    let inner = git_repo();
    fs::write(inner.path().join("b.py"), "y = 1\n").unwrap();
    git(inner.path(), &["add", "b.py"]);
    git(inner.path(), &["commit", "-qm", "inner"]);
    git(
        repo.path(),
        &[
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            inner.path().to_str().unwrap(),
            "sub",
        ],
    );
    let sub = repo.path().join("sub");
    assert!(run(&sub, &["install"]).status.success());
    assert!(
        repo.path()
            .join(".git/modules/sub/info/attributes")
            .exists()
    );
    assert!(
        repo.path()
            .join(".git/modules/sub/hooks/pre-commit")
            .exists()
    );
    assert!(git(&sub, &["check-attr", "filter", "--", "x.ipynb"]).contains("filter: mlguard"));
    assert!(
        !git(repo.path(), &["check-attr", "filter", "--", "x.ipynb"]).contains("mlguard"),
        "the superproject is untouched"
    );
}

#[test]
fn hooks_path_and_hook_managers_are_respected() {
    let repo = git_repo();
    git(repo.path(), &["config", "core.hooksPath", ".githooks"]);
    assert!(run(repo.path(), &["install"]).status.success());
    assert!(repo.path().join(".githooks/pre-commit").exists());
    assert!(!repo.path().join(".git/hooks/pre-commit").exists());

    // The pre-commit framework, installed in this clone: its hook is left alone and the lines
    // to add are printed.
    let framework = git_repo();
    fs::write(
        framework.path().join(".pre-commit-config.yaml"),
        "repos: []\n",
    )
    .unwrap();
    let framework_hook = framework.path().join(".git/hooks/pre-commit");
    fs::write(
        &framework_hook,
        "#!/usr/bin/env bash\n# File generated by pre-commit: https://pre-commit.com\nexit 0\n",
    )
    .unwrap();
    fs::set_permissions(&framework_hook, fs::Permissions::from_mode(0o755)).unwrap();
    let out = run(framework.path(), &["install"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("mlguard hook pre-commit"));
    assert!(
        fs::read_to_string(&framework_hook)
            .unwrap()
            .contains("File generated by pre-commit"),
        "no hook behind the framework's back"
    );
}

#[test]
fn paths_with_spaces() {
    let outer = tempfile::tempdir().unwrap();
    let repo = outer.path().join("my repo");
    fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    assert!(run(&repo, &["install"]).status.success());
    fs::write(repo.join("my notebook.ipynb"), notebook_with_output("out")).unwrap();
    git(&repo, &["add", "my notebook.ipynb"]);
    assert_eq!(staged_output_count(&repo, "my notebook.ipynb"), 0);
    let commit = git_output(&repo, &["commit", "-m", "x"]);
    assert!(commit.status.success(), "{}", combined(&commit));
}

#[test]
fn status_reports_a_clone_without_the_driver_and_committed_outputs() {
    let repo = git_repo();
    fs::write(
        repo.path().join("nb.ipynb"),
        notebook_with_output("committed output"),
    )
    .unwrap();
    git(repo.path(), &["add", "nb.ipynb"]);
    git(repo.path(), &["commit", "-qm", "nb with outputs"]);
    assert!(
        run(repo.path(), &["install", "--gitattributes"])
            .status
            .success()
    );
    assert!(
        fs::read_to_string(repo.path().join(".gitattributes"))
            .unwrap()
            .contains("*.ipynb filter=mlguard")
    );
    let status = run(repo.path(), &["status"]);
    let text = combined(&status);
    assert_eq!(status.status.code(), Some(0), "{text}");
    assert!(
        text.contains("1 of them stored unstripped or in another layout")
            && text.contains("git add --renormalize"),
        "{text}"
    );
    assert!(
        git(repo.path(), &["status", "--porcelain"]).contains(" M nb.ipynb"),
        "phantom modification, as status warned"
    );

    // A clone: the committed attributes come along, the driver does not.
    git(repo.path(), &["add", ".gitattributes"]);
    git(
        repo.path(),
        &[
            "-c",
            "core.hooksPath=/dev/null",
            "commit",
            "-qm",
            "attributes",
        ],
    );
    let clone_parent = tempfile::tempdir().unwrap();
    git(
        clone_parent.path(),
        &["clone", "-q", repo.path().to_str().unwrap(), "clone"],
    );
    let status = run(&clone_parent.path().join("clone"), &["status"]);
    assert_eq!(status.status.code(), Some(1));
    assert!(
        combined(&status).contains("no driver"),
        "{}",
        combined(&status)
    );
}

#[test]
fn global_install_applies_to_every_repository() {
    let home = tempfile::tempdir().unwrap();
    let global = home.path().join("gitconfig");
    let repo = git_repo();
    let with_home = |cmd: &mut std::process::Command| {
        cmd.env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join(".config"))
            .env("GIT_CONFIG_GLOBAL", &global);
    };
    let mut install = mlguard_in(repo.path());
    with_home(&mut install);
    assert!(
        install
            .args(["install", "--global"])
            .output()
            .unwrap()
            .status
            .success()
    );
    assert!(
        fs::read_to_string(&global)
            .unwrap()
            .contains("filter-process")
    );
    assert!(home.path().join(".config/git/attributes").exists());
    let mut check = git_command(repo.path());
    with_home(&mut check);
    let attr = check
        .args(["check-attr", "filter", "--", "x.ipynb"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&attr.stdout).contains("filter: mlguard"));
    let mut uninstall = mlguard_in(repo.path());
    with_home(&mut uninstall);
    assert!(
        uninstall
            .args(["uninstall", "--global"])
            .output()
            .unwrap()
            .status
            .success()
    );
    assert!(!fs::read_to_string(&global).unwrap().contains("mlguard"));
}

#[test]
fn configured_baseline_is_honoured_by_the_hook_after_the_line_moves() {
    let repo = installed_repo();
    fs::write(
        repo.path().join(".mlguard.toml"),
        "[scan]\nbaseline = \"ci/accepted.json\"\n",
    )
    .unwrap();
    fs::create_dir_all(repo.path().join("ci")).unwrap();
    fs::write(repo.path().join("legacy.py"), format!("TOKEN = \"{HF}\"\n")).unwrap();
    let record = run(repo.path(), &["scan", "--update-baseline"]);
    assert!(record.status.success(), "{}", combined(&record));
    assert!(repo.path().join("ci/accepted.json").exists());

    // The accepted secret moves down a few lines in a new commit: the hook lets it through.
    fs::write(
        repo.path().join("legacy.py"),
        format!("import os\n\n\nTOKEN = \"{HF}\"\n"),
    )
    .unwrap();
    git(repo.path(), &["add", "."]);
    let commit = git_output(repo.path(), &["commit", "-m", "accepted"]);
    assert!(commit.status.success(), "{}", combined(&commit));

    // A new secret in the same file is refused, and only it is reported.
    fs::write(
        repo.path().join("legacy.py"),
        format!("import os\nKEY = \"{AWS_ID}\"\n\nTOKEN = \"{HF}\"\n"),
    )
    .unwrap();
    git(repo.path(), &["add", "legacy.py"]);
    let commit = git_output(repo.path(), &["commit", "-m", "new secret"]);
    let text = combined(&commit);
    assert!(!commit.status.success(), "{text}");
    assert!(text.contains("aws-access-key-id"), "{text}");
    assert!(!text.contains("huggingface-token"), "{text}");
}

/// A failed install (here: `core.hooksPath` names a file) leaves nothing behind.
#[test]
fn a_failed_install_undoes_what_it_wrote() {
    let repo = git_repo();
    fs::write(repo.path().join("hooks-file"), "not a directory\n").unwrap();
    git(repo.path(), &["config", "core.hooksPath", "hooks-file"]);
    let before = snapshot(repo.path());
    let out = run(repo.path(), &["install"]);
    let text = combined(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("undone"), "{text}");
    assert_eq!(
        snapshot(repo.path()),
        before,
        "config and attributes restored"
    );
    assert!(!git(repo.path(), &["config", "--list"]).contains("filter.mlguard"));
}

/// A repository set up for a hook manager whose hook is not installed in this clone still
/// gets mlguard's hook (credential blocking would otherwise be off), and the manager's lines
/// are printed; the pre-commit framework, installed later, runs it as its legacy hook.
#[test]
fn a_hook_manager_that_is_not_installed_does_not_turn_the_checks_off() {
    for (file, content) in [
        (".pre-commit-config.yaml", "repos: []\n"),
        ("lefthook.yml", "pre-commit:\n  commands: {}\n"),
    ] {
        let repo = git_repo();
        fs::write(repo.path().join(file), content).unwrap();
        let out = run(repo.path(), &["install"]);
        let text = combined(&out);
        assert!(out.status.success(), "{text}");
        assert!(text.contains("mlguard hook pre-commit"), "{file}: {text}");
        let hook = repo.path().join(".git/hooks/pre-commit");
        assert!(
            fs::read_to_string(&hook).unwrap().contains("mlguard-hook"),
            "{file}: our hook is installed"
        );
        fs::write(repo.path().join(".env"), format!("HF_TOKEN={HF}\n")).unwrap();
        git(repo.path(), &["add", ".env"]);
        let commit = git_output(repo.path(), &["commit", "-m", "leak"]);
        assert!(!commit.status.success(), "{file}: {}", combined(&commit));
    }

    // husky is set up (a .husky directory) but `npm install` never ran: hooksPath is unset.
    let repo = git_repo();
    fs::create_dir_all(repo.path().join(".husky")).unwrap();
    let out = run(repo.path(), &["install"]);
    assert!(
        combined(&out).contains(".husky/pre-commit"),
        "{}",
        combined(&out)
    );
    assert!(repo.path().join(".git/hooks/pre-commit").exists());
}

#[test]
fn the_framework_installed_later_keeps_running_mlguard() {
    if !require_reference_tools() {
        return;
    }
    let repo = git_repo();
    fs::write(repo.path().join(".pre-commit-config.yaml"), "repos: []\n").unwrap();
    assert!(run(repo.path(), &["install"]).status.success());
    let framework = std::process::Command::new(reference_tool("pre-commit"))
        .current_dir(repo.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env(
            "GIT_CONFIG_GLOBAL",
            repo.path().join(".test-gitconfig-absent"),
        )
        .env("PRE_COMMIT_HOME", repo.path().join(".git/pre-commit-home"))
        .arg("install")
        .output()
        .unwrap();
    assert!(framework.status.success(), "{}", combined(&framework));
    fs::write(repo.path().join(".env"), format!("HF_TOKEN={HF}\n")).unwrap();
    git(repo.path(), &["add", ".env", ".pre-commit-config.yaml"]);
    let commit = git_output(repo.path(), &["commit", "-m", "leak"]);
    let text = combined(&commit);
    assert!(!commit.status.success(), "{text}");
    assert!(text.contains("huggingface-token"), "{text}");
}

#[test]
fn uninstall_leaves_no_empty_attributes_file_behind() {
    let repo = git_repo();
    let attributes = repo.path().join(".git/info/attributes");
    let _ = fs::remove_file(&attributes);
    assert!(run(repo.path(), &["install"]).status.success());
    assert!(attributes.exists());
    assert!(run(repo.path(), &["uninstall"]).status.success());
    assert!(
        !attributes.exists(),
        "install created it, uninstall removes it"
    );
}

#[test]
fn install_scope_flags_are_exclusive_and_uninstall_help_is_about_removing() {
    let repo = git_repo();
    let out = run(repo.path(), &["install", "--global", "--gitattributes"]);
    assert_eq!(out.status.code(), Some(2), "{}", combined(&out));
    assert!(!repo.path().join(".gitattributes").exists());
    let help = combined(&run(repo.path(), &["uninstall", "--help"]));
    assert!(
        help.contains("Remove the attribute lines from the committed .gitattributes"),
        "{help}"
    );
}

/// `status` counts what git will really show as modified: notebooks with outputs and clean
/// notebooks stored in another layout, not the ones already stored as the filter writes them.
#[test]
fn status_counts_what_git_will_show() {
    let repo = git_repo();
    let stripped = |source: &str| {
        let out = crate::common::run_with_stdin(
            {
                let mut cmd = mlguard();
                cmd.args(["strip", "--no-config"]);
                cmd
            },
            notebook_with_output(source).as_bytes(),
        );
        String::from_utf8(out.stdout).unwrap()
    };
    fs::write(repo.path().join("outputs.ipynb"), notebook_with_output("x")).unwrap();
    let minified: serde_json::Value = serde_json::from_str(&stripped("y")).unwrap();
    fs::write(repo.path().join("layout.ipynb"), minified.to_string()).unwrap();
    fs::write(repo.path().join("clean.ipynb"), stripped("z")).unwrap();
    git(repo.path(), &["add", "."]);
    git(repo.path(), &["commit", "-qm", "notebooks"]);
    assert!(run(repo.path(), &["install"]).status.success());
    let text = combined(&run(repo.path(), &["status"]));
    assert!(
        text.contains("3 in HEAD, 2 of them stored unstripped or in another layout"),
        "{text}"
    );
    for name in ["outputs.ipynb", "layout.ipynb", "clean.ipynb"] {
        let path = repo.path().join(name);
        let content = fs::read(&path).unwrap();
        fs::write(&path, content).unwrap();
    }
    git(repo.path(), &["add", "--renormalize", "."]);
    let changed = git(repo.path(), &["diff", "--cached", "--name-only"]);
    let mut changed: Vec<&str> = changed.lines().collect();
    changed.sort();
    assert_eq!(changed, ["layout.ipynb", "outputs.ipynb"]);
}
