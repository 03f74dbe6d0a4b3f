//! Baseline files: findings a team has accepted, keyed by rule, path and the secret's hash (not
//! line numbers), so moving code around does not churn the file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::finding::Finding;
use super::rules::RuleSet;

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid baseline {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write baseline {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry {
    pub rule: String,
    pub path: String,
    pub secret_sha256: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    version: u32,
    findings: BTreeSet<Entry>,
}

pub fn entry(rules: &RuleSet, finding: &Finding) -> Entry {
    Entry {
        rule: rules.rules[finding.rule].spec.id.clone(),
        path: finding
            .path
            .strip_prefix("./")
            .unwrap_or(&finding.path)
            .to_string(),
        secret_sha256: finding.secret_sha256(),
    }
}

pub fn load(path: &Path) -> Result<BTreeSet<Entry>, BaselineError> {
    let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file: File = serde_json::from_str(&text).map_err(|e| BaselineError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if file.version != 1 {
        return Err(BaselineError::Invalid {
            path: path.to_path_buf(),
            message: format!("unsupported version {}", file.version),
        });
    }
    Ok(file.findings)
}

/// Writes the findings as a sorted, stable baseline (same findings, same bytes).
pub fn save(path: &Path, rules: &RuleSet, findings: &[Finding]) -> Result<(), BaselineError> {
    let file = File {
        version: 1,
        findings: findings.iter().map(|f| entry(rules, f)).collect(),
    };
    let mut text = serde_json::to_string_pretty(&file).map_err(|e| BaselineError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    text.push('\n');
    std::fs::write(path, text).map_err(|source| BaselineError::Write {
        path: path.to_path_buf(),
        source,
    })
}
