//! Planted-token recall and exposure on a generated history: the seeded generator of the
//! history benchmark (`benches/make-history.py`) builds a small one here (the benchmark builds
//! 2,000 and 20,000 commits), and `--history` and `--range` must find every planted token with
//! the exposure the generator recorded.

use std::process::Command;

use crate::common::*;

const COMMITS: u32 = 120;

#[test]
fn every_planted_token_is_found_with_its_exposure() {
    if Command::new("python3").arg("--version").output().is_err() {
        skip("needs python3 to generate the history (benches/make-history.py)");
        return;
    }
    let out_dir = tempfile::tempdir().unwrap();
    let generated = Command::new("python3")
        .arg(manifest_dir().join("benches/make-history.py"))
        .arg(out_dir.path())
        .arg(COMMITS.to_string())
        .arg("7")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", out_dir.path().join("absent"))
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let repo = out_dir.path().join("repo");
    let planted: Vec<serde_json::Value> =
        std::fs::read_to_string(out_dir.path().join("planted.jsonl"))
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
    assert_eq!(planted.len(), 5);
    let commits: Vec<String> = git(&repo, &["rev-list", "--reverse", "HEAD"])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(commits.len(), COMMITS as usize);

    let zero = "0".repeat(40);
    let whole_range = format!("{zero}..HEAD");
    for args in [["--history", ""], ["--range", whole_range.as_str()]] {
        let mut command = mlguard_in(&repo);
        command.args(["scan", "--no-config", "--format", "json", args[0]]);
        if !args[1].is_empty() {
            command.arg(args[1]);
        }
        let out = command.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(findings.len(), planted.len(), "{args:?}: {findings:#?}");
        for token in &planted {
            let found = findings
                .iter()
                .find(|f| f["secret_sha256"] == token["secret_sha256"])
                .unwrap_or_else(|| panic!("{args:?}: not found: {token}"));
            let exposure = &found["exposure"];
            assert_eq!(found["rule"], token["rule"], "{args:?}");
            assert_eq!(found["file"], token["path"], "{args:?}");
            assert_eq!(exposure["in_head"], token["in_head"], "{args:?} {token}");
            assert_eq!(exposure["commits"], token["commits"], "{args:?} {token}");
            let index = token["commit_index"].as_u64().unwrap() as usize;
            assert_eq!(exposure["first_commit"]["id"], commits[index], "{args:?}");
            assert_eq!(exposure["paths"], serde_json::json!([token["path"]]));
        }
    }
}
