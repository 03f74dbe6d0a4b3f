//! What a scan produces, as plain data: a finding, and for history scans the exposure of its
//! secret (commits, dates, paths). Every other part of the scanner and every report depends on
//! these types, and they depend on nothing, so the engine, the sources and the reports never
//! import each other to share them.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

/// One reported credential or code smell.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Index of the rule in the scan's `RuleSet`.
    pub rule: usize,
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    /// The matched credential: used for hashing and redaction, never printed.
    pub secret: Vec<u8>,
    /// Where in a notebook (`cell 4 of 12, output 2 (stream stdout)`).
    pub locator: Option<String>,
    pub in_notebook_output: bool,
    /// For history scans: when and where the secret was in the repository.
    pub exposure: Option<Exposure>,
}

impl Finding {
    /// The secret's SHA-256 in hex: how reports and baselines name it without showing it.
    pub fn secret_sha256(&self) -> String {
        secret_sha256(&self.secret)
    }
}

/// SHA-256 of a secret, in lowercase hex.
pub fn secret_sha256(secret: &[u8]) -> String {
    Sha256::digest(secret)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A commit as reported in an exposure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub id: String,
    /// Committer time, seconds since the Unix epoch.
    pub time: i64,
    pub author: String,
}

impl CommitInfo {
    /// The commit time as `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn date(&self) -> String {
        iso8601(self.time)
    }
}

/// How long, where and in how many commits one secret was exposed.
#[derive(Debug, Clone)]
pub struct Exposure {
    pub first: CommitInfo,
    pub last: CommitInfo,
    pub paths: BTreeSet<String>,
    pub in_head: bool,
    pub commits: usize,
}

/// Orders findings by file, position and rule, so every report is deterministic.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, a.rule).cmp(&(&b.path, b.line, b.column, b.rule))
    });
}

/// Keeps the findings of a changed file's new version whose secret is new: a finding is old
/// only when the same rule found the same secret value in the old version. Deciding by the
/// secret, not by the line, matters for every multi-line match: a private key rotated under the
/// same `-----BEGIN` line, or a real key added under a header the file already had, is new.
pub fn only_new_secrets(findings: Vec<Finding>, old_findings: &[Finding]) -> Vec<Finding> {
    if old_findings.is_empty() {
        return findings;
    }
    let old: std::collections::HashSet<(usize, &[u8])> = old_findings
        .iter()
        .map(|f| (f.rule, f.secret.as_slice()))
        .collect();
    findings
        .into_iter()
        .filter(|f| !old.contains(&(f.rule, f.secret.as_slice())))
        .collect()
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time (UTC), without a date library.
pub fn iso8601(time: i64) -> String {
    let days = time.div_euclid(86_400);
    let seconds = time.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_is_hex() {
        assert_eq!(
            secret_sha256(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn dates_are_utc_iso8601() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_704_067_200), "2024-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400 + 3661), "2000-02-29T01:01:01Z");
    }
}
