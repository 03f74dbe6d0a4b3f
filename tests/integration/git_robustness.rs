//! A clone never breaks because of mlguard: with the installed binary present, gone, or
//! replaced by a file that cannot run, everyday git (status, diff, checkout of branches and
//! files, stash, rebase) keeps working, while a commit is refused with instructions. Run with
//! every git on the machine (Debian's and the newer one under /usr/local), since git before
//! 2.55 dies when a filter process cannot start.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::*;

const NB_MAIN: &str = "print('main')";
const NB_FEATURE: &str = "print('feature')";

fn notebook(source: &str, output: &str) -> String {
    serde_json::json!({
        "cells": [{"cell_type": "code", "execution_count": 2, "metadata": {}, "source": [source],
                   "outputs": [{"name": "stdout", "output_type": "stream", "text": [format!("{output}\n")]}]}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 4
    })
    .to_string()
}

/// The gits to test with: every distinct one among the usual install places.
fn gits() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = Vec::new();
    let mut versions: Vec<String> = Vec::new();
    for candidate in ["/usr/bin/git", "/usr/local/bin/git"] {
        let path = PathBuf::from(candidate);
        let Ok(out) = Command::new(&path).arg("--version").output() else {
            continue;
        };
        let version = String::from_utf8_lossy(&out.stdout).into_owned();
        if !versions.contains(&version) {
            versions.push(version);
            found.push(path);
        }
    }
    assert!(!found.is_empty(), "no git found");
    found
}

/// A repository driven by one git binary, with a PATH that holds neither cargo's bin directory
/// nor any other mlguard.
struct Clone {
    dir: tempfile::TempDir,
    bin: tempfile::TempDir,
}

impl Clone {
    fn new(git_binary: &Path) -> Clone {
        let bin = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(git_binary, bin.path().join("git")).unwrap();
        let clone = Clone {
            dir: tempfile::tempdir().unwrap(),
            bin,
        };
        clone.ok(&["init", "-q", "-b", "main"]);
        clone
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> Output {
        git_command(self.path())
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.bin.path().display()),
            )
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.git(args);
        assert!(out.status.success(), "git {args:?}: {}", combined(&out));
        combined(&out)
    }

    fn write(&self, path: &str, text: &str) {
        fs::write(self.path().join(path), text).unwrap();
    }

    fn read(&self, path: &str) -> String {
        fs::read_to_string(self.path().join(path)).unwrap()
    }
}

#[derive(Debug, Clone, Copy)]
enum Binary {
    Present,
    Gone,
    NotExecutable,
}

/// Installs a copy of mlguard that lives in a directory whose name has a space (so git runs
/// the filter through the shell), builds a little history, then puts the binary in `state`.
fn installed_clone(git_binary: &Path, state: Binary) -> (Clone, tempfile::TempDir) {
    let clone = Clone::new(git_binary);
    let tools = tempfile::tempdir().unwrap();
    let dir = tools.path().join("my tools");
    fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("mlguard");
    copy_mlguard(&exe);
    let out = Command::new(&exe)
        .current_dir(clone.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", clone.path().join(".absent"))
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", clone.bin.path().display()),
        )
        .arg("install")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", combined(&out));

    clone.write("nb.ipynb", &notebook(NB_MAIN, "out 1"));
    clone.write("a.py", "x = 1\n");
    clone.ok(&["add", "."]);
    clone.ok(&["commit", "-qm", "start"]);
    clone.ok(&["checkout", "-q", "-b", "feature"]);
    clone.write("nb2.ipynb", &notebook(NB_FEATURE, "out 2"));
    clone.ok(&["add", "nb2.ipynb"]);
    clone.ok(&["commit", "-qm", "feature notebook"]);
    clone.ok(&["checkout", "-q", "main"]);
    clone.write("nb.ipynb", &notebook("print('main 2')", "out 3"));
    clone.ok(&["add", "nb.ipynb"]);
    clone.ok(&["commit", "-qm", "main notebook"]);

    match state {
        Binary::Present => {}
        Binary::Gone => fs::remove_file(&exe).unwrap(),
        Binary::NotExecutable => {
            fs::write(&exe, "not a program\n").unwrap();
            fs::set_permissions(&exe, fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    (clone, tools)
}

#[test]
fn everyday_git_keeps_working_whatever_happened_to_the_binary() {
    for git_binary in gits() {
        for state in [Binary::Present, Binary::Gone, Binary::NotExecutable] {
            let context = format!("{} with the binary {state:?}", git_binary.display());
            let (clone, _tools) = installed_clone(&git_binary, state);
            // Outputs in the working copy only: the stored notebook is stripped.
            clone.write("nb.ipynb", &notebook("print('main 2')", "fresh output"));
            clone.ok(&["status"]);
            clone.ok(&["diff"]);
            // Branch switch and back: both notebooks come out whole.
            clone.ok(&["stash"]);
            clone.ok(&["checkout", "-q", "feature"]);
            assert!(clone.read("nb2.ipynb").contains(NB_FEATURE), "{context}");
            assert!(clone.read("nb.ipynb").contains(NB_MAIN), "{context}");
            clone.ok(&["checkout", "-q", "main"]);
            assert!(!clone.path().join("nb2.ipynb").exists(), "{context}");
            clone.ok(&["stash", "pop"]);
            assert!(
                clone.read("nb.ipynb").contains("print('main 2')"),
                "{context}"
            );
            // File checkout restores the committed notebook.
            clone.ok(&["checkout", "--", "nb.ipynb"]);
            assert!(
                clone.read("nb.ipynb").contains("print('main 2')"),
                "{context}"
            );
            // Rebase the feature branch onto main.
            clone.ok(&["checkout", "-q", "feature"]);
            clone.ok(&["rebase", "-q", "main"]);
            assert!(
                clone.read("nb.ipynb").contains("print('main 2')"),
                "{context}"
            );
            assert!(clone.read("nb2.ipynb").contains(NB_FEATURE), "{context}");

            // A commit: fine with the binary, refused with instructions without it.
            clone.write("nb2.ipynb", &notebook(NB_FEATURE, "hf token output"));
            clone.write("a.py", "x = 2\n");
            clone.ok(&["add", "a.py", "nb2.ipynb"]);
            let commit = clone.git(&["commit", "-m", "change"]);
            let text = combined(&commit);
            match state {
                Binary::Present => {
                    assert!(commit.status.success(), "{context}: {text}");
                    let stored = clone.ok(&["show", "HEAD:nb2.ipynb"]);
                    assert!(!stored.contains("hf token output"), "{context}: stripped");
                }
                Binary::Gone | Binary::NotExecutable => {
                    assert!(!commit.status.success(), "{context}: {text}");
                    assert!(
                        text.contains("cannot find mlguard")
                            && text.contains("mlguard install")
                            && text.contains("remove-section filter.mlguard"),
                        "{context}: {text}"
                    );
                    let log = clone.ok(&["log", "--oneline"]);
                    assert!(!log.contains("change"), "{context}: nothing committed");
                }
            }
        }
    }
}

#[test]
fn status_says_when_the_binary_is_gone() {
    let git_binary = gits().remove(0);
    let (clone, tools) = installed_clone(&git_binary, Binary::Gone);
    let exe = tools.path().join("my tools/mlguard");
    copy_mlguard(&tools.path().join("other"));
    let status = Command::new(tools.path().join("other"))
        .current_dir(clone.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", clone.path().join(".absent"))
        .arg("status")
        .output()
        .unwrap();
    let text = combined(&status);
    assert_eq!(status.status.code(), Some(1), "{text}");
    assert!(
        text.contains(&exe.display().to_string()) && text.contains("missing or not executable"),
        "{text}"
    );
}
