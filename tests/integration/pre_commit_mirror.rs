//! The hooks that need no Rust, for real: `pre-commit-mirror/` becomes a hook repository whose
//! `language: python` hooks install the wheel that `.ci/test` built from this checkout (served
//! with `PIP_NO_INDEX` / `PIP_FIND_LINKS`, so nothing comes from an index), and the real
//! pre-commit 4.7.0 (and prek) run them in a sample repository with no cargo on PATH: strip
//! rewrites and fails, verify fails without rewriting, the scan blocks a staged key, and
//! `run --all-files`, `run --from-ref/--to-ref` and a push all fail on a committed one.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common::*;

const HF: &str = "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";

/// The wheels `.ci/test` built (`MLGUARD_WHEELHOUSE`); without them the test says it is skipped.
fn wheelhouse() -> Option<PathBuf> {
    let dir = std::env::var_os("MLGUARD_WHEELHOUSE").map(PathBuf::from);
    match dir {
        Some(dir)
            if files_with_extension(&dir, "whl").iter().any(|w| {
                w.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("mlguard_cli-"))
            }) =>
        {
            Some(dir)
        }
        _ => {
            skip(
                "needs the mlguard-cli wheel built from this checkout: run .ci/test, which builds \
                 it into target/wheels and sets MLGUARD_WHEELHOUSE",
            );
            None
        }
    }
}

/// Where virtualenv keeps the setuptools wheel it seeds with: the mirror package's build
/// backend, so that `pip install .` of the mirror needs no index either.
fn build_backend_wheels() -> PathBuf {
    let out = Command::new(reference_tool("python"))
        .args([
            "-c",
            "import os, virtualenv.seed.wheels.embed as e; print(os.path.dirname(e.__file__))",
        ])
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// PATH for the hooks: the system directories, none of which holds cargo or rustc.
fn path_without_rust(extra: &[&Path]) -> String {
    let system = ["/usr/local/bin", "/usr/bin", "/bin"];
    for dir in system {
        for tool in ["cargo", "rustc", "rustup"] {
            assert!(
                !Path::new(dir).join(tool).exists(),
                "{dir}/{tool} exists: this test needs a PATH without Rust"
            );
        }
    }
    extra
        .iter()
        .map(|p| p.display().to_string())
        .chain(system.iter().map(|s| s.to_string()))
        .collect::<Vec<_>>()
        .join(":")
}

/// The mirror as its own repository: `pre-commit-mirror/`'s files, committed.
fn mirror_repository() -> (tempfile::TempDir, String) {
    let mirror = git_repo();
    let source = manifest_dir().join("pre-commit-mirror");
    for name in [".pre-commit-hooks.yaml", "pyproject.toml", "README.md"] {
        fs::copy(source.join(name), mirror.path().join(name)).unwrap();
    }
    git(mirror.path(), &["add", "-A"]);
    git(mirror.path(), &["commit", "-q", "-m", "mirror"]);
    let rev = git(mirror.path(), &["rev-parse", "HEAD"])
        .trim()
        .to_string();
    (mirror, rev)
}

/// A sample project using the mirror's three hooks.
fn sample_repository(mirror: &Path, rev: &str) -> tempfile::TempDir {
    let sample = git_repo();
    fs::write(
        sample.path().join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: mlguard-strip\n      - id: mlguard-verify\n      - id: mlguard-scan\n",
            mirror.display()
        ),
    )
    .unwrap();
    fs::write(sample.path().join("README.md"), "# sample\n").unwrap();
    git(sample.path(), &["add", "-A"]);
    git(sample.path(), &["commit", "-q", "-m", "init"]);
    sample
}

/// Runs commands in the sample repository with a clean environment: no Rust on PATH, the
/// framework's cache in `home`, and packages only from the local wheelhouse.
struct Framework {
    sample: PathBuf,
    home: PathBuf,
    path: String,
    finds: String,
}

impl Framework {
    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.sample)
            .env_clear()
            .env("PATH", &self.path)
            .env("HOME", &self.home)
            .env("PRE_COMMIT_HOME", self.home.join("pre-commit"))
            .env("PREK_HOME", self.home.join("prek"))
            .env("PIP_NO_INDEX", "1")
            .env("PIP_FIND_LINKS", &self.finds)
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.home.join(".gitconfig-absent"))
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com");
        cmd
    }

    fn run(&self, program: &Path, args: &[&str]) -> (Output, String, Duration) {
        let start = Instant::now();
        let out = self.command(program).args(args).output().expect("run");
        let took = start.elapsed();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!text.contains(HF), "a whole secret was printed: {text}");
        (out, text, took)
    }

    fn git(&self, args: &[&str]) -> (Output, String) {
        let (out, text, _) = self.run(Path::new("git"), args);
        (out, text)
    }
}

fn setup(
    home: &Path,
    tool_dirs: &[&Path],
) -> Option<(Framework, tempfile::TempDir, tempfile::TempDir)> {
    if !require_reference_tools() {
        return None;
    }
    let wheels = wheelhouse()?;
    let (mirror, rev) = mirror_repository();
    let sample = sample_repository(mirror.path(), &rev);
    let framework = Framework {
        sample: sample.path().to_path_buf(),
        home: home.to_path_buf(),
        path: path_without_rust(tool_dirs),
        finds: format!("{} {}", wheels.display(), build_backend_wheels().display()),
    };
    Some((framework, mirror, sample))
}

#[test]
fn mirror_manifest_matches_the_rust_one_and_pins_this_version() {
    let rust = fs::read_to_string(manifest_dir().join(".pre-commit-hooks.yaml")).unwrap();
    let python =
        fs::read_to_string(manifest_dir().join("pre-commit-mirror/.pre-commit-hooks.yaml"))
            .unwrap();
    let hooks = |text: &str| -> String {
        text.lines()
            .skip_while(|l| l.starts_with('#'))
            .map(|l| l.replace("language: rust", "language: python"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        hooks(&rust),
        hooks(&python),
        "the two manifests differ beyond the language"
    );
    assert_eq!(python.matches("\n  language: python\n").count(), 3);
    let version = env!("CARGO_PKG_VERSION");
    let pyproject =
        fs::read_to_string(manifest_dir().join("pre-commit-mirror/pyproject.toml")).unwrap();
    assert!(
        pyproject.contains(&format!("\"mlguard-cli=={version}\""))
            && pyproject.contains(&format!("version = \"{version}\"")),
        "pre-commit-mirror/pyproject.toml must pin mlguard-cli=={version}"
    );
    let action = fs::read_to_string(manifest_dir().join("action.yml")).unwrap();
    assert!(
        action.contains(&format!("default: \"{version}\"")),
        "action.yml's version input must default to {version}"
    );
}

#[test]
fn pre_commit_runs_the_wheel_hooks_without_rust_and_never_passes_vacuously() {
    let home = tempfile::tempdir().unwrap();
    let Some((fw, _mirror, _sample)) = setup(home.path(), &[]) else {
        return;
    };
    let pre_commit = reference_tool("pre-commit");
    let dir = fw.sample.clone();

    // First run: the framework builds the hook environment from the wheel (no cargo anywhere).
    let (out, text, first) = fw.run(&pre_commit, &["run", "--all-files", "--verbose"]);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("mlguard: no credentials in the files handed to the hook"),
        "{text}"
    );
    let (out, text, later) = fw.run(&pre_commit, &["run", "--all-files"]);
    assert!(out.status.success(), "{text}");
    let _ = writeln_stderr(&format!(
        "pre-commit 4.7.0, language: python hooks from the wheel: first run {:.1} s, later run {:.2} s",
        first.as_secs_f64(),
        later.as_secs_f64()
    ));
    let (out, text, _) = fw.run(
        &pre_commit,
        &[
            "install",
            "--hook-type",
            "pre-commit",
            "--hook-type",
            "pre-push",
        ],
    );
    assert!(out.status.success(), "{text}");

    // Nothing staged: the scan says so instead of passing as clean.
    let (out, text, _) = fw.run(&pre_commit, &["run", "mlguard-scan", "--verbose"]);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("mlguard: nothing to scan"), "{text}");

    // verify fails and leaves the notebook alone; strip fails because it rewrote it.
    let with_outputs = notebook_printing("accuracy 0.91");
    fs::write(dir.join("nb.ipynb"), &with_outputs).unwrap();
    git(&dir, &["add", "nb.ipynb"]);
    let (out, text, _) = fw.run(
        &pre_commit,
        &["run", "mlguard-verify", "--files", "nb.ipynb"],
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("would have stripped nb.ipynb"), "{text}");
    assert_eq!(
        fs::read_to_string(dir.join("nb.ipynb")).unwrap(),
        with_outputs
    );
    let (out, text, _) = fw.run(
        &pre_commit,
        &["run", "mlguard-strip", "--files", "nb.ipynb"],
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("files were modified by this hook"), "{text}");
    assert!(
        !fs::read_to_string(dir.join("nb.ipynb"))
            .unwrap()
            .contains("accuracy")
    );
    git(&dir, &["add", "nb.ipynb"]);
    let (out, text) = fw.git(&["commit", "-q", "-m", "notebook"]);
    assert!(out.status.success(), "a clean commit passes: {text}");

    // A staged key blocks the commit.
    fs::write(dir.join("train.py"), format!("login(token=\"{HF}\")\n")).unwrap();
    git(&dir, &["add", "train.py"]);
    let before = git(&dir, &["rev-parse", "HEAD"]);
    let (out, text) = fw.git(&["commit", "-m", "key"]);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("train.py:1:14: huggingface-token")
            && text.contains("in what this commit adds"),
        "{text}"
    );
    assert_eq!(
        git(&dir, &["rev-parse", "HEAD"]),
        before,
        "the commit was refused"
    );

    // Committed anyway (--no-verify): run --all-files and run --from-ref/--to-ref fail on it.
    let (out, text) = fw.git(&["commit", "-q", "--no-verify", "-m", "key"]);
    assert!(out.status.success(), "{text}");
    let (out, text, _) = fw.run(&pre_commit, &["run", "--all-files"]);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("train.py:1:14: huggingface-token"), "{text}");
    let (out, text, _) = fw.run(
        &pre_commit,
        &[
            "run",
            "mlguard-scan",
            "--from-ref",
            "HEAD~1",
            "--to-ref",
            "HEAD",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("train.py:1:14: huggingface-token") && text.contains("in the commits"),
        "{text}"
    );

    // Removed again: every file is clean, but the range still holds the key, and a push of
    // it (the branch is new to the remote, so the framework sets no refs) is refused.
    let start = before.trim().to_string();
    fs::write(
        dir.join("train.py"),
        "login(token=os.environ[\"HF_TOKEN\"])\n",
    )
    .unwrap();
    git(&dir, &["add", "train.py"]);
    let (out, text) = fw.git(&["commit", "-q", "-m", "no key"]);
    assert!(out.status.success(), "{text}");
    let (out, text, _) = fw.run(&pre_commit, &["run", "--all-files"]);
    assert!(out.status.success(), "{text}");
    let (out, text, _) = fw.run(
        &pre_commit,
        &[
            "run",
            "mlguard-scan",
            "--from-ref",
            &start,
            "--to-ref",
            "HEAD",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "added then removed: {text}");
    let remote = tempfile::tempdir().unwrap();
    git(remote.path(), &["init", "-q", "--bare"]);
    git(
        &dir,
        &[
            "remote",
            "add",
            "origin",
            &remote.path().display().to_string(),
        ],
    );
    let (out, text) = fw.git(&["push", "origin", "main"]);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("huggingface-token") && text.contains("every commit of"),
        "{text}"
    );
    assert!(
        git_output(remote.path(), &["rev-parse", "--verify", "main"])
            .status
            .code()
            != Some(0)
    );

    // Pushed anyway; the next push carries a clean commit only (FROM..TO set): it goes through.
    let (out, text) = fw.git(&["push", "-q", "--no-verify", "origin", "main"]);
    assert!(out.status.success(), "{text}");
    fs::write(dir.join("eval.py"), "print('ok')\n").unwrap();
    git(&dir, &["add", "eval.py"]);
    let (out, text) = fw.git(&["commit", "-q", "-m", "eval"]);
    assert!(out.status.success(), "{text}");
    let (out, text) = fw.git(&["push", "origin", "main"]);
    assert!(out.status.success(), "{text}");
}

#[test]
fn prek_runs_the_wheel_hooks_without_rust() {
    let home = tempfile::tempdir().unwrap();
    // prek hands uv its own environment, so the local wheelhouse goes in uv's user settings;
    // prek uses the uv found beside it (the pinned one in the reference venv).
    let Some(prek) = require_reference_tool("prek") else {
        return;
    };
    let prek_dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&prek, prek_dir.path().join("prek")).unwrap();
    let Some((fw, _mirror, _sample)) = setup(home.path(), &[prek_dir.path()]) else {
        return;
    };
    let config = home.path().join(".config/uv");
    fs::create_dir_all(&config).unwrap();
    let finds: Vec<String> = fw.finds.split(' ').map(|d| format!("{d:?}")).collect();
    fs::write(
        config.join("uv.toml"),
        format!("no-index = true\nfind-links = [{}]\n", finds.join(", ")),
    )
    .unwrap();
    let dir = fw.sample.clone();
    let prek = prek_dir.path().join("prek");
    let (out, text, first) = fw.run(&prek, &["run", "--all-files"]);
    assert!(out.status.success(), "{text}");
    let (out, text, later) = fw.run(&prek, &["run", "--all-files"]);
    assert!(out.status.success(), "{text}");
    let _ = writeln_stderr(&format!(
        "prek 0.5.11, language: python hooks from the wheel: first run {:.1} s, later run {:.2} s",
        first.as_secs_f64(),
        later.as_secs_f64()
    ));
    fs::write(dir.join("train.py"), format!("login(token=\"{HF}\")\n")).unwrap();
    git(&dir, &["add", "train.py"]);
    let (out, text) = fw.git(&["commit", "-q", "--no-verify", "-m", "key"]);
    assert!(out.status.success(), "{text}");
    let (out, text, _) = fw.run(&prek, &["run", "--all-files"]);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("train.py:1:14: huggingface-token"), "{text}");
    let (out, text, _) = fw.run(
        &prek,
        &[
            "run",
            "mlguard-scan",
            "--from-ref",
            "HEAD~1",
            "--to-ref",
            "HEAD",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("in the commits"), "{text}");
}

/// A line for the person running the tests (timings), past the harness's capture.
fn writeln_stderr(line: &str) -> std::io::Result<()> {
    use std::io::Write;
    writeln!(std::io::stderr(), "{line}")
}
