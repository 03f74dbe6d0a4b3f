//! Precision on material the rules were not written from. `tests/scan-corpus/negatives` holds
//! named negatives: each reproduces, in our own words, a false alarm found while scanning
//! public ML repositories (pre-signed URLs, `.env` templates, PyJWT's README token, local
//! databases, lock files, Jupyter server tokens, public keys…); none may give any finding.
//! The real-notebook corpus, which holds no live credential, must give no finding either. And
//! the public repositories of `tests/real-repos.tsv`, when their checkouts are at hand
//! (`MLGUARD_REAL_REPOS`), must give exactly the findings triaged there. All call the
//! library's scan (the process boundary is tested elsewhere).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use mlguard::commands::scan::{BaselineRequest, FailOn, ScanRequest, Target};
use mlguard::commands::{Format, Settings};

use crate::common::*;

/// The JSON report of a scan of `paths` under `dir`, with the paths reported relative to it.
fn scan_json(dir: &Path, paths: &[&str]) -> Vec<serde_json::Value> {
    let request = ScanRequest {
        target: Target::Paths(paths.iter().map(|p| dir.join(p)).collect()),
        format: Format::Json,
        fail_on: FailOn::Errors,
        baseline: BaselineRequest::default(),
    };
    let outcome = mlguard::commands::scan::run(&Settings::default(), request).expect("scan");
    let prefix = format!("{}/", dir.display());
    let mut findings: Vec<serde_json::Value> =
        serde_json::from_slice(&outcome.report).expect("JSON report");
    for finding in &mut findings {
        let file = finding["file"].as_str().unwrap_or_default();
        finding["file"] = file.strip_prefix(&prefix).unwrap_or(file).into();
    }
    findings
}

#[test]
fn named_negatives_give_no_finding() {
    let dir = manifest_dir().join("tests/scan-corpus");
    let findings = scan_json(&dir, &["negatives"]);
    let summary: Vec<String> = findings
        .iter()
        .map(|f| {
            format!(
                "{}:{} {} {}",
                f["file"], f["line"], f["rule"], f["severity"]
            )
        })
        .collect();
    assert!(summary.is_empty(), "{summary:#?}");
}

#[test]
fn real_notebooks_give_no_finding() {
    if !require_corpus() {
        return;
    }
    let findings = scan_json(
        &corpus(),
        &["real-notebooks", "edge-cases", "nbstripout-tests"],
    );
    assert!(findings.is_empty(), "{findings:#?}");
}

/// `tests/real-repos.tsv`: `repo` rows (owner/name, commit) and `finding` rows (owner/name,
/// path, line, rule, severity, secret SHA-256, verdict).
struct RealRepos {
    repos: Vec<(String, String)>,
    findings: BTreeSet<(String, String, u64, String, String)>,
}

fn real_repos() -> RealRepos {
    let text = std::fs::read_to_string(manifest_dir().join("tests/real-repos.tsv"))
        .expect("tests/real-repos.tsv");
    let mut list = RealRepos {
        repos: Vec::new(),
        findings: BTreeSet::new(),
    };
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["repo", repo, commit, ..] => list.repos.push((repo.to_string(), commit.to_string())),
            ["finding", repo, path, line, rule, _severity, sha, _verdict] => {
                list.findings.insert((
                    repo.to_string(),
                    path.to_string(),
                    line.parse().expect("a line number"),
                    rule.to_string(),
                    sha.to_string(),
                ));
            }
            other => panic!("tests/real-repos.tsv: unexpected row {other:?}"),
        }
    }
    list
}

#[test]
fn real_repositories_list_is_well_formed() {
    let list = real_repos();
    assert!(list.repos.len() >= 40, "{} repositories", list.repos.len());
    for (repo, commit) in &list.repos {
        assert!(repo.contains('/'), "{repo}");
        assert_eq!(commit.len(), 40, "{repo}: commit {commit}");
    }
    let known: BTreeSet<&str> = list.repos.iter().map(|(r, _)| r.as_str()).collect();
    for finding in &list.findings {
        assert!(
            known.contains(finding.0.as_str()),
            "{finding:?}: repository not listed"
        );
    }
}

/// With `MLGUARD_REAL_REPOS=DIR` holding checkouts named `owner+name` (at the listed commits),
/// each present repository must give exactly its triaged findings.
#[test]
fn real_repositories_give_exactly_the_triaged_findings() {
    let Some(root) = std::env::var_os("MLGUARD_REAL_REPOS").map(PathBuf::from) else {
        skip(
            "set MLGUARD_REAL_REPOS to a directory of checkouts named owner+name (tests/real-repos.tsv)",
        );
        return;
    };
    let list = real_repos();
    let mut missing = Vec::new();
    let mut got = BTreeSet::new();
    let mut scanned = BTreeSet::new();
    for (repo, _) in &list.repos {
        let dir_name = repo.replace('/', "+");
        if !root.join(&dir_name).is_dir() {
            missing.push(repo.clone());
            continue;
        }
        scanned.insert(repo.clone());
        for f in scan_json(&root.join(&dir_name), &["."]) {
            let file = f["file"].as_str().unwrap_or_default();
            got.insert((
                repo.clone(),
                file.strip_prefix("./").unwrap_or(file).to_string(),
                f["line"].as_u64().unwrap_or(0),
                f["rule"].as_str().unwrap_or_default().to_string(),
                f["secret_sha256"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    if !missing.is_empty() {
        partial(&format!(
            "{} listed repositories are not checked out: {missing:?}",
            missing.len()
        ));
    }
    let expected: BTreeSet<_> = list
        .findings
        .iter()
        .filter(|f| scanned.contains(&f.0))
        .cloned()
        .collect();
    let new: Vec<_> = got.difference(&expected).collect();
    let gone: Vec<_> = expected.difference(&got).collect();
    assert!(
        new.is_empty() && gone.is_empty(),
        "new findings: {new:#?}\nfindings gone: {gone:#?}"
    );
}
