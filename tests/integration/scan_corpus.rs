//! The labelled corpus (`tests/scan-corpus`, written by its seeded `generate.py`): every planted
//! fake credential must be found at its labelled line by its rule, and nothing else may fire.
//! The real-notebook corpus, which holds no live credential, must give no finding at all. Both
//! call the library's scan (the process boundary is tested elsewhere).

use std::collections::BTreeSet;
use std::path::Path;

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
fn labelled_corpus_has_full_recall_and_precision() {
    let dir = manifest_dir().join("tests/scan-corpus");
    let labels: BTreeSet<(String, u64, String)> = std::fs::read_to_string(dir.join("labels.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[1].parse().unwrap(), f[2].to_string())
        })
        .collect();
    let found: BTreeSet<(String, u64, String)> = scan_json(&dir, &["positives", "negatives"])
        .iter()
        .map(|f| {
            (
                f["file"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let missed: Vec<_> = labels.difference(&found).collect();
    let false_positives: Vec<_> = found.difference(&labels).collect();
    let hits = labels.len() - missed.len();
    eprintln!(
        "recall {hits}/{} = {:.1}%, precision {hits}/{} = {:.1}%",
        labels.len(),
        100.0 * hits as f64 / labels.len() as f64,
        found.len(),
        100.0 * hits as f64 / found.len().max(1) as f64
    );
    assert!(missed.is_empty(), "missed:\n{missed:#?}");
    assert!(
        false_positives.is_empty(),
        "false positives:\n{false_positives:#?}"
    );
    let rules: BTreeSet<&str> = labels.iter().map(|l| l.2.as_str()).collect();
    let builtin = mlguard::scan::rules::builtin_specs().unwrap();
    for spec in &builtin {
        assert!(
            rules.contains(spec.id.as_str()),
            "rule {} has no labelled case",
            spec.id
        );
    }
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
