//! The SARIF as GitHub code scanning reads it: rule help, security severity, tags and
//! precision; a run id per kind of scan; fingerprints that tell copies in two files apart and
//! keep a moved line's alert; no link that goes nowhere; and GitHub's ingestion limits.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::common::*;

const HF: &str = "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";

fn sarif(dir: &Path, args: &[&str]) -> Value {
    let out = mlguard_in(dir)
        .arg("scan")
        .args(args)
        .args(["--format", "sarif"])
        .output()
        .unwrap();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(HF));
    assert_valid_sarif(&out.stdout);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn fingerprints(document: &Value) -> Vec<(String, String)> {
    document["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .to_string();
            let print = r["partialFingerprints"]["mlguardFinding/v1"]
                .as_str()
                .expect("a path-qualified fingerprint")
                .to_string();
            (uri, print)
        })
        .collect()
}

#[test]
fn rules_carry_what_github_shows() {
    let dir = git_repo();
    fs::write(dir.path().join("a.py"), format!("KEY = \"{HF}\"\n")).unwrap();
    let document = sarif(dir.path(), &["a.py"]);
    let text = document.to_string();
    assert!(
        !text.contains("informationUri"),
        "no link to a page that does not exist"
    );
    let driver = &document["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "mlguard");
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    let rules = driver["rules"].as_array().unwrap();
    for rule in rules {
        let id = rule["id"].as_str().unwrap();
        for field in ["shortDescription", "fullDescription"] {
            assert!(
                !rule[field]["text"].as_str().unwrap_or_default().is_empty(),
                "{id}: {field}"
            );
        }
        let help_text = rule["help"]["text"].as_str().unwrap();
        let help_markdown = rule["help"]["markdown"].as_str().unwrap();
        for help in [help_text, help_markdown] {
            assert!(
                help.contains("git filter-repo --replace-text") && help.contains("mlguard:allow"),
                "{id}: help says how to purge history and silence a false positive"
            );
        }
        assert!(help_markdown.contains("### "), "{id}: markdown headings");
        let properties = &rule["properties"];
        let severity: f64 = properties["security-severity"]
            .as_str()
            .expect("security-severity is a string")
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&severity), "{id}: {severity}");
        let tags: Vec<&str> = properties["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert!(tags.contains(&"security"), "{id}: {tags:?}");
        assert!(tags.len() <= 20, "{id}: GitHub reads at most 20 tags");
        assert!(
            ["very-high", "high", "medium", "low"]
                .contains(&properties["precision"].as_str().unwrap()),
            "{id}"
        );
    }
    let hf = rules
        .iter()
        .find(|r| r["id"] == "huggingface-token")
        .unwrap();
    assert_eq!(
        hf["properties"]["tags"],
        serde_json::json!(["security", "secret", "huggingface"])
    );
    assert_eq!(hf["properties"]["security-severity"], "8.5");
    assert!(
        hf["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("Revoke it at huggingface.co/settings/tokens"),
        "{}",
        hf["help"]["markdown"]
    );
    let smell = rules
        .iter()
        .find(|r| r["id"] == "environment-dump")
        .unwrap();
    assert_eq!(
        smell["properties"]["tags"],
        serde_json::json!(["security", "code-smell"])
    );
}

#[test]
fn each_kind_of_scan_has_its_own_automation_id() {
    let repo = git_repo();
    fs::write(repo.path().join("a.py"), format!("KEY = \"{HF}\"\n")).unwrap();
    git(repo.path(), &["add", "a.py"]);
    let id = |document: &Value| document["runs"][0]["automationDetails"]["id"].clone();
    assert_eq!(id(&sarif(repo.path(), &["--staged"])), "mlguard/staged/");
    assert_eq!(id(&sarif(repo.path(), &["a.py"])), "mlguard/paths/");
    git(repo.path(), &["commit", "-q", "-m", "one"]);
    assert_eq!(
        id(&sarif(repo.path(), &["--range", "..HEAD"])),
        "mlguard/range/"
    );
    assert_eq!(id(&sarif(repo.path(), &["--history"])), "mlguard/history/");
}

#[test]
fn fingerprints_follow_the_path_and_the_secret_not_the_line() {
    let dir = git_repo();
    let line = format!("KEY = \"{HF}\"\n");
    fs::write(dir.path().join("a.py"), &line).unwrap();
    fs::write(dir.path().join("b.py"), &line).unwrap();
    let first = fingerprints(&sarif(dir.path(), &["a.py", "b.py"]));
    assert_eq!(first.len(), 2);
    assert_ne!(
        first[0].1, first[1].1,
        "one secret in two files is two alerts"
    );

    // The line moves down: same alert. A second copy in the same file: a new one.
    fs::write(dir.path().join("a.py"), format!("import os\n\n{line}")).unwrap();
    let moved = fingerprints(&sarif(dir.path(), &["a.py"]));
    assert_eq!(moved, [first[0].clone()], "a moved line keeps its alert");
    fs::write(
        dir.path().join("a.py"),
        format!("import os\n\n{line}{line}"),
    )
    .unwrap();
    let twice = fingerprints(&sarif(dir.path(), &["a.py"]));
    assert_eq!(twice.len(), 2);
    assert_eq!(twice[0], first[0], "the first copy keeps its alert");
    assert_ne!(twice[1].1, twice[0].1, "the second copy is its own alert");

    assert!(
        first.iter().all(|(_, p)| p.len() == 64),
        "fingerprints are SHA-256 hex: {first:?}"
    );
}

#[test]
fn sarif_stays_within_github_ingestion_limits() {
    let dir = git_repo();
    let mut text = String::new();
    for i in 0..50 {
        text.push_str(&format!("KEY_{i} = \"{HF}\"\n"));
    }
    fs::write(dir.path().join("many.py"), &text).unwrap();
    let out = mlguard_in(dir.path())
        .args(["scan", "--format", "sarif", "many.py"])
        .output()
        .unwrap();
    let document: Value = serde_json::from_slice(&out.stdout).unwrap();
    let runs = document["runs"].as_array().unwrap();
    assert!(runs.len() <= 20, "GitHub reads at most 20 runs per file");
    let run = &runs[0];
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 50);
    assert!(results.len() <= 25_000);
    assert!(run["tool"]["driver"]["rules"].as_array().unwrap().len() <= 25_000);
    for result in results {
        assert!(result["locations"].as_array().unwrap().len() <= 1_000);
        assert!(!result["message"]["text"].as_str().unwrap().is_empty());
        let rule_index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            run["tool"]["driver"]["rules"][rule_index]["id"],
            result["ruleId"]
        );
    }
    let fingerprints: std::collections::BTreeSet<&str> = results
        .iter()
        .map(|r| {
            r["partialFingerprints"]["mlguardFinding/v1"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(fingerprints.len(), 50, "50 copies in one file, 50 alerts");
    // 10 MB gzipped is GitHub's upload limit; uncompressed stays far below even that here.
    assert!(out.stdout.len() < 10_000_000);
}
