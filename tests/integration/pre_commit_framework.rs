//! The pre-commit framework for real: `pre-commit try-repo` on this repository builds mlguard
//! with cargo (`language: rust`) and runs `mlguard-strip`, `mlguard-verify` and `mlguard-scan`
//! in a sample repository, failing on outputs and credentials and passing once they are gone.

use std::fs;
use std::path::Path;
use std::process::Output;

use crate::common::*;

const HF: &str = "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";

/// Runs `pre-commit try-repo <this repository>` in `sample` with a clean, isolated environment.
fn try_repo(sample: &Path) -> Output {
    let mut cmd = std::process::Command::new(reference_tool("pre-commit"));
    cmd.current_dir(sample).env_clear();
    for inherited in ["PATH", "HOME", "CARGO_HOME", "RUSTUP_HOME"] {
        if let Some(value) = std::env::var_os(inherited) {
            cmd.env(inherited, value);
        }
    }
    cmd.env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", sample.join(".absent"))
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env("PRE_COMMIT_HOME", sample.join(".pre-commit-home"))
        // One build directory for every run, without LTO: the test checks the wiring, not speed.
        .env(
            "CARGO_TARGET_DIR",
            manifest_dir().join("target/pre-commit-build"),
        )
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
    cmd.arg("try-repo").arg(manifest_dir()).output().unwrap()
}

#[test]
fn try_repo_fails_on_outputs_and_credentials_then_passes() {
    if !require_reference_tools() {
        return;
    }
    let sample = git_repo();
    fs::write(
        sample.path().join("nb.ipynb"),
        notebook_printing("accuracy 0.91"),
    )
    .unwrap();
    fs::write(
        sample.path().join("train.py"),
        format!("login(token=\"{HF}\")\n"),
    )
    .unwrap();
    git(sample.path(), &["add", "nb.ipynb", "train.py"]);

    let failing = try_repo(sample.path());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&failing.stdout),
        String::from_utf8_lossy(&failing.stderr)
    );
    assert!(!failing.status.success(), "{text}");
    assert!(
        text.contains("mlguard strip (notebook outputs)")
            && text.contains("files were modified by this hook"),
        "{text}"
    );
    assert!(
        text.contains("mlguard scan (credentials)")
            && text.contains("train.py:1:14: huggingface-token"),
        "{text}"
    );
    assert!(!text.contains(HF), "secret printed: {text}");
    assert!(
        !fs::read_to_string(sample.path().join("nb.ipynb"))
            .unwrap()
            .contains("accuracy"),
        "mlguard-strip rewrites in place"
    );

    fs::write(
        sample.path().join("train.py"),
        "login(token=os.environ[\"HF_TOKEN\"])\n",
    )
    .unwrap();
    git(sample.path(), &["add", "nb.ipynb", "train.py"]);
    let passing = try_repo(sample.path());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&passing.stdout),
        String::from_utf8_lossy(&passing.stderr)
    );
    assert!(passing.status.success(), "{text}");
    assert_eq!(text.matches("Passed").count(), 3, "{text}");
}
