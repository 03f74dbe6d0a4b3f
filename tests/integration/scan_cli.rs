//! `mlguard scan` on files: report formats (never a whole secret), exit codes, inline allow
//! markers, the `[scan]` configuration and baselines.

use std::fs;
use std::path::Path;
use std::process::Output;

use crate::common::*;

const HF: &str = "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";
const OPENAI: &str = "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";

fn scan(dir: &Path, args: &[&str]) -> Output {
    mlguard_in(dir).arg("scan").args(args).output().unwrap()
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join(".git")).unwrap();
    fs::write(
        dir.path().join("train.py"),
        format!("import wandb\nlogin(token=\"{HF}\")\nprint(os.environ)\n"),
    )
    .unwrap();
    fs::write(
        dir.path().join(".env"),
        format!("OPENAI_API_KEY={OPENAI}\n"),
    )
    .unwrap();
    fs::write(
        dir.path().join(".git/config"),
        format!("token = \"{HF}\"\n"),
    )
    .unwrap();
    dir
}

fn all_output(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn text_report_names_file_rule_and_fix_without_the_secret() {
    let dir = project();
    let out = scan(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = all_output(&out);
    assert!(text.contains("train.py:2:14: huggingface-token"), "{text}");
    assert!(
        text.contains(".env:1:16: openai-api-key"),
        "dotfiles are scanned: {text}"
    );
    assert!(text.contains("fix: revoke it at huggingface.co"), "{text}");
    assert!(text.contains("environment-dump: warning"), "{text}");
    assert!(
        !text.contains(".git/config"),
        ".git must be skipped: {text}"
    );
    assert!(
        !text.contains(HF) && !text.contains(OPENAI),
        "secret printed: {text}"
    );
}

#[test]
fn no_format_contains_a_whole_secret() {
    let dir = project();
    for format in ["text", "json", "sarif", "github"] {
        let out = scan(dir.path(), &["--format", format]);
        assert_eq!(out.status.code(), Some(1), "{format}");
        let text = all_output(&out);
        for secret in [HF, OPENAI] {
            assert!(!text.contains(secret), "{format} leaks the secret");
            assert!(
                !text.contains(&secret[secret.len() / 3..]),
                "{format} leaks part of the secret"
            );
        }
    }
}

#[test]
fn json_report_has_the_documented_fields() {
    let dir = project();
    let out = scan(dir.path(), &["--format", "json"]);
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let hf = findings
        .iter()
        .find(|f| f["rule"] == "huggingface-token")
        .expect("hf finding");
    for field in [
        "file",
        "line",
        "column",
        "end_line",
        "rule",
        "description",
        "severity",
        "secret_sha256",
        "redacted",
        "location",
    ] {
        assert!(hf.get(field).is_some(), "missing {field}");
    }
    assert_eq!(hf["severity"], "error");
    assert_eq!(hf["secret_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(hf["redacted"], "hf_m\u{2026} (37 chars)");
}

#[test]
fn sarif_report_validates_against_the_schema() {
    let dir = project();
    let out = scan(dir.path(), &["--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    assert_valid_sarif(&out.stdout);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    assert!(doc["runs"][0]["results"].as_array().unwrap().len() >= 3);
}

#[test]
fn github_annotations() {
    let dir = project();
    let out = scan(dir.path(), &["--format", "github"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines().any(|l| l.starts_with(
            "::error file=train.py,line=2,col=14,endLine=2,title=mlguard huggingface-token::"
        )),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("::warning file=train.py,line=3")),
        "{text}"
    );
}

#[test]
fn warnings_alone_exit_0_unless_strict() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("log.py"),
        "logging.error(\"env: %s\", os.environ)\n",
    )
    .unwrap();
    assert_eq!(scan(dir.path(), &["--no-config"]).status.code(), Some(0));
    assert_eq!(
        scan(dir.path(), &["--no-config", "--strict"]).status.code(),
        Some(1)
    );
}

#[test]
fn inline_markers_allow_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        format!("a = \"{HF}\"  # mlguard:allow"),
        format!("b = \"{HF}\"  # pragma: allowlist secret"),
        format!("c = \"{HF}\"  # gitleaks:allow"),
    ];
    fs::write(dir.path().join("ok.py"), lines.join("\n")).unwrap();
    let nb = format!(
        r#"{{"cells": [{{"cell_type": "code", "metadata": {{}}, "outputs": [], "source": ["token = \"{HF}\"  # mlguard:allow\n"]}}], "metadata": {{}}, "nbformat": 4, "nbformat_minor": 4}}"#
    );
    fs::write(dir.path().join("ok.ipynb"), nb).unwrap();
    let out = scan(dir.path(), &["--no-config"]);
    assert_eq!(out.status.code(), Some(0), "{}", all_output(&out));
}

#[test]
fn broken_notebook_is_scanned_as_text() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("broken.ipynb"),
        format!("{{\"cells\": [\"token = {HF}\n"),
    )
    .unwrap();
    let out = scan(dir.path(), &["--no-config", "--format", "json"]);
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["location"], serde_json::Value::Null);
}

#[test]
fn scan_config_skips_allows_disables_and_adds_rules() {
    let dir = project();
    fs::create_dir_all(dir.path().join("fixtures")).unwrap();
    fs::write(
        dir.path().join("fixtures/fake.py"),
        format!("t = \"{HF}\"\n"),
    )
    .unwrap();
    fs::write(
        dir.path().join("acme.py"),
        "ACME = \"acme_live_8KUCERkj9Zhx9PkO\"\n",
    )
    .unwrap();
    fs::write(
        dir.path().join(".mlguard.toml"),
        r#"[scan]
skip_paths = ["fixtures/**"]
allow_regexes = ['^sk-e3nN']
disable_rules = ["environment-dump"]

[[scan.rules]]
id = "acme-token"
description = "ACME deploy token"
regex = '\bacme_live_[A-Za-z0-9]{16}\b'
keywords = ["acme_live_"]
entropy = 3.0
"#,
    )
    .unwrap();
    let out = scan(dir.path(), &["--format", "json"]);
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut got: Vec<(String, String)> = findings
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().into(),
                f["rule"].as_str().unwrap().into(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("acme.py".into(), "acme-token".into()),
            ("train.py".into(), "huggingface-token".into())
        ]
    );
}

#[test]
fn scan_config_errors_name_file_and_key() {
    for (text, needle) in [
        ("[scan]\nskip_path = []\n", "skip_path"),
        ("[scan]\ndisable_rules = ['no-such-rule']\n", "no-such-rule"),
        (
            "[[scan.rules]]\nid = 'x'\ndescription = 'x'\nregex = '('\nkeywords = ['x']\n",
            "rule x",
        ),
        (
            "[[scan.rules]]\nid = 'y'\ndescription = 'y'\nregex = 'y'\n",
            "keyword",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join(".git")).unwrap();
        fs::write(dir.path().join(".mlguard.toml"), text).unwrap();
        let out = scan(dir.path(), &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(
            stderr.contains(".mlguard.toml") && stderr.contains(needle),
            "{text}: {stderr}"
        );
    }
}

#[test]
fn baseline_is_keyed_by_secret_not_line() {
    let dir = project();
    let baseline = dir.path().join("mlguard-baseline.json");
    let write = scan(
        dir.path(),
        &["--baseline", "mlguard-baseline.json", "--update-baseline"],
    );
    assert_eq!(write.status.code(), Some(0));
    let first = fs::read_to_string(&baseline).unwrap();
    assert!(!first.contains(HF) && first.contains("secret_sha256"));
    assert_eq!(
        scan(dir.path(), &["--baseline", "mlguard-baseline.json"])
            .status
            .code(),
        Some(0)
    );

    // Moving the secret down does not churn the baseline or bring the finding back.
    fs::write(
        dir.path().join("train.py"),
        format!("import wandb\n\n\n# moved\nlogin(token=\"{HF}\")\nprint(os.environ)\n"),
    )
    .unwrap();
    assert_eq!(
        scan(dir.path(), &["--baseline", "mlguard-baseline.json"])
            .status
            .code(),
        Some(0)
    );
    scan(
        dir.path(),
        &["--baseline", "mlguard-baseline.json", "--update-baseline"],
    );
    assert_eq!(fs::read_to_string(&baseline).unwrap(), first);

    // A new secret is still reported.
    fs::write(dir.path().join("new.py"), format!("k = \"{OPENAI}\"\n")).unwrap();
    let out = scan(
        dir.path(),
        &["--baseline", "mlguard-baseline.json", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["file"], "new.py");
}

#[test]
fn missing_path_and_bad_baseline_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        scan(dir.path(), &["--no-config", "nope"]).status.code(),
        Some(2)
    );
    fs::write(dir.path().join("b.json"), "{").unwrap();
    let out = scan(dir.path(), &["--no-config", "--baseline", "b.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("b.json"));
}

/// A worker that panics (a fault injected in debug builds with `MLGUARD_DEBUG_PANIC_ON`) makes
/// the scan fail with exit 2; it never passes with fewer findings.
#[test]
fn a_panicking_scan_worker_is_exit_2_never_a_clean_pass() {
    let dir = project();
    for name in ["a.py", "b.py", "c.py", "d.py"] {
        fs::write(dir.path().join(name), "x = 1\n").unwrap();
    }
    let out = mlguard_in(dir.path())
        .env("MLGUARD_DEBUG_PANIC_ON", "c.py")
        .args(["scan", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
    assert!(out.stdout.is_empty(), "no report after a crash");

    let repo = git_repo();
    fs::write(repo.path().join("c.py"), "x = 1\n").unwrap();
    fs::write(repo.path().join("train.py"), format!("t = \"{HF}\"\n")).unwrap();
    git(repo.path(), &["add", "."]);
    for args in [&["scan", "--staged"][..], &["hook", "pre-commit"]] {
        let out = mlguard_in(repo.path())
            .env("MLGUARD_DEBUG_PANIC_ON", "c.py")
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", all_output(&out));
    }
    git(repo.path(), &["commit", "-qm", "x", "--no-verify"]);
    let out = mlguard_in(repo.path())
        .env("MLGUARD_DEBUG_PANIC_ON", "c.py")
        .args(["scan", "--history"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", all_output(&out));
}
