//! Reports of scan findings: text for people, JSON, SARIF 2.1.0 and GitHub workflow
//! annotations for machines. No format ever holds a whole secret: only a short prefix, its
//! length and its SHA-256.
//!
//! The SARIF is written for GitHub code scanning: each rule carries its descriptions, help (what
//! the credential is, how to revoke it, how to purge it from history), a security severity,
//! tags and a precision; each run says what kind of scan it was (`automationDetails`), so a
//! pull-request run and a nightly history run do not close each other's alerts; and each
//! result's fingerprint names the rule, the path and the secret, so one secret in two files
//! is two alerts while a line that moves keeps its alert.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::scan::engine::NAME_LOCATOR;
use crate::scan::finding::{CommitInfo, Exposure, Finding, secret_sha256};
use crate::scan::rules::{self, RuleSet, RuleSpec, Severity};
use crate::shell;
use crate::shell::printable;

/// GitHub code scanning accepts at most this many results per run.
const SARIF_MAX_RESULTS: usize = 25_000;

/// What was scanned: SARIF's `automationDetails.id` keeps each kind's alerts apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    /// Files and directories.
    Paths,
    /// What a commit adds.
    Staged,
    /// The commits of a range (a push, a pull request).
    Range,
    /// Every blob of the history.
    History,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Paths => "paths",
            RunKind::Staged => "staged",
            RunKind::Range => "range",
            RunKind::History => "history",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
    Github,
}

/// When a credential sits in a file name, every report (and a baseline) would print it with
/// the path: the findings are copied with those names redacted in their paths (exposure paths
/// included). `None` when no finding is in a file name.
pub fn with_names_redacted(findings: &[Finding]) -> Option<Vec<Finding>> {
    let secrets: Vec<&[u8]> = findings
        .iter()
        .filter(|f| f.locator.as_deref() == Some(NAME_LOCATOR))
        .map(|f| f.secret.as_slice())
        .collect();
    if secrets.is_empty() {
        return None;
    }
    let hide = |path: &str| {
        secrets.iter().fold(path.to_string(), |path, secret| {
            path.replace(&*String::from_utf8_lossy(secret), &redact(secret))
        })
    };
    Some(
        findings
            .iter()
            .cloned()
            .map(|mut finding| {
                finding.path = hide(&finding.path);
                if let Some(exposure) = &mut finding.exposure {
                    exposure.paths = exposure.paths.iter().map(|p| hide(p)).collect();
                }
                finding
            })
            .collect(),
    )
}

/// A short prefix (none for secrets under 20 characters; else at most 4 characters and at most
/// a quarter of the secret) and the length.
pub fn redact(secret: &[u8]) -> String {
    let text = String::from_utf8_lossy(secret);
    let chars = text.chars().count();
    let shown: String = text.chars().take(shown_chars(chars)).collect();
    format!("{}\u{2026} ({chars} chars)", printable(&shown))
}

/// How many leading characters of a secret a report may show: none of a short secret (a
/// password of 16 characters would lose a quarter of its strength), at most four of a long
/// one (enough to tell `sk-p` from `hf_x`), never more than a quarter.
fn shown_chars(chars: usize) -> usize {
    if chars < 20 { 0 } else { (chars / 4).min(4) }
}

fn notebook_fix(finding: &Finding) -> Option<String> {
    finding.in_notebook_output.then(|| {
        format!(
            "it is in a notebook output: run `mlguard strip {0} && git add {0}` (and rotate it if it was ever pushed)",
            printable(&shell::quote(&finding.path))
        )
    })
}

/// Writes the findings; `notes` (skipped blobs, truncation) go into SARIF's notifications and
/// are the caller's to print for the other formats.
pub fn write(
    out: &mut impl Write,
    format: Format,
    kind: RunKind,
    rules: &RuleSet,
    findings: &[Finding],
    notes: &[String],
) -> io::Result<()> {
    let renamed = with_names_redacted(findings);
    let findings = renamed.as_deref().unwrap_or(findings);
    match format {
        Format::Text => write_text(out, rules, findings),
        Format::Json => {
            let items: Vec<Value> = findings.iter().map(|f| json_finding(rules, f)).collect();
            serde_json::to_writer_pretty(&mut *out, &items)?;
            writeln!(out)
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif(kind, rules, findings, notes))?;
            writeln!(out)
        }
        Format::Github => write_github(out, rules, findings),
    }
}

fn write_text(out: &mut impl Write, rules: &RuleSet, findings: &[Finding]) -> io::Result<()> {
    for finding in findings {
        let spec = &rules.rules[finding.rule].spec;
        let place = finding
            .locator
            .as_ref()
            .map(|l| format!(" [{}]", printable(l)))
            .unwrap_or_default();
        let kind = if spec.severity == Severity::Warning {
            "warning: "
        } else {
            ""
        };
        writeln!(
            out,
            "{}:{}:{}: {}: {kind}{}{place}",
            printable(&finding.path),
            finding.line,
            finding.column,
            spec.id,
            spec.description
        )?;
        writeln!(out, "    found: {}", redact(&finding.secret))?;
        writeln!(out, "    fix: {}", spec.fix)?;
        if let Some(extra) = notebook_fix(finding) {
            writeln!(out, "    fix: {extra}")?;
        }
        if let Some(exposure) = &finding.exposure {
            write_exposure(out, exposure)?;
        }
    }
    Ok(())
}

fn commit_text(commit: &CommitInfo) -> String {
    format!(
        "{} ({}, {})",
        &commit.id[..commit.id.len().min(12)],
        commit.date(),
        printable(&commit.author)
    )
}

fn write_exposure(out: &mut impl Write, exposure: &Exposure) -> io::Result<()> {
    writeln!(out, "    introduced: {}", commit_text(&exposure.first))?;
    writeln!(out, "    last present: {}", commit_text(&exposure.last))?;
    writeln!(
        out,
        "    exposed in {} commit(s), {}; paths: {}",
        exposure.commits,
        if exposure.in_head {
            "still in HEAD"
        } else {
            "no longer in HEAD (history only)"
        },
        exposure
            .paths
            .iter()
            .map(|p| printable(p).into_owned())
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(
        out,
        "    history: rotating is the fix; to also purge it from history (printed, not run): {PURGE_HISTORY}"
    )
}

/// How to take a secret out of every commit; printed, never run.
const PURGE_HISTORY: &str = "put the line `literal:<the secret>==>***REMOVED***` in expressions.txt, run `git filter-repo --replace-text expressions.txt`, force-push every branch and tag, and have every clone re-cloned";

fn exposure_json(exposure: &Exposure) -> Value {
    let commit = |c: &CommitInfo| json!({"id": c.id, "date": c.date(), "author": c.author});
    json!({
        "first_commit": commit(&exposure.first),
        "last_commit": commit(&exposure.last),
        "paths": exposure.paths,
        "in_head": exposure.in_head,
        "commits": exposure.commits,
    })
}

fn json_finding(rules: &RuleSet, finding: &Finding) -> Value {
    let spec = &rules.rules[finding.rule].spec;
    json!({
        "file": finding.path,
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "rule": spec.id,
        "description": spec.description,
        "severity": spec.severity.as_str(),
        "secret_sha256": finding.secret_sha256(),
        "redacted": redact(&finding.secret),
        "location": finding.locator,
        "fix": spec.fix,
        "notebook_output": finding.in_notebook_output,
        "exposure": finding.exposure.as_ref().map(exposure_json),
    })
}

fn sarif(kind: RunKind, rules: &RuleSet, findings: &[Finding], notes: &[String]) -> Value {
    let mut notes = notes.to_vec();
    if findings.len() > SARIF_MAX_RESULTS {
        notes.push(format!(
            "{} results; only the first {SARIF_MAX_RESULTS} are included (GitHub's limit); use --format json for all",
            findings.len()
        ));
    }
    let findings = &findings[..findings.len().min(SARIF_MAX_RESULTS)];
    let sarif_rules: Vec<Value> = rules
        .rules
        .iter()
        .map(|rule| sarif_rule(&rule.spec))
        .collect();
    let mut occurrences: std::collections::HashMap<String, usize> =
        std::collections::HashMap::new();
    let results: Vec<Value> = findings
        .iter()
        .map(|finding| {
            let spec = &rules.rules[finding.rule].spec;
            let mut message = format!("{} ({}). Fix: {}", spec.description, redact(&finding.secret), spec.fix);
            if let Some(locator) = &finding.locator {
                message = format!("{message} Location in notebook: {locator}.");
            }
            let fingerprint = sarif_fingerprint(spec, finding);
            let occurrence = occurrences.entry(fingerprint.clone()).or_default();
            *occurrence += 1;
            // A second copy of the same secret in the same file is its own alert.
            let fingerprint = match *occurrence {
                1 => fingerprint,
                n => format!("{fingerprint}:{n}"),
            };
            let mut result = json!({
                "ruleId": spec.id,
                "ruleIndex": finding.rule,
                "level": sarif_level(spec.severity),
                "message": {"text": message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": sarif_uri(&finding.path)},
                        "region": {"startLine": finding.line, "startColumn": finding.column, "endLine": finding.end_line},
                    },
                }],
                "partialFingerprints": {"mlguardFinding/v1": fingerprint},
            });
            if let Some(exposure) = &finding.exposure {
                result["properties"] = json!({"exposure": exposure_json(exposure)});
            }
            result
        })
        .collect();
    let notifications: Vec<Value> = notes
        .iter()
        .map(|n| json!({"level": "note", "message": {"text": n}}))
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mlguard",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": sarif_rules,
                "properties": {"ruleSetVersion": rules::builtin_version()},
            }},
            "automationDetails": {"id": format!("mlguard/{}/", kind.as_str())},
            "results": results,
            "invocations": [{"executionSuccessful": true, "toolExecutionNotifications": notifications}],
        }],
    })
}

/// Which results are "the same alert" across runs: the rule, the path and the secret, but not
/// the line, so a moved line keeps its alert and a copy in another file is a new one.
fn sarif_fingerprint(spec: &RuleSpec, finding: &Finding) -> String {
    let path = finding.path.strip_prefix("./").unwrap_or(&finding.path);
    let key = format!("{}\0{path}\0{}", spec.id, finding.secret_sha256());
    secret_sha256(key.as_bytes())
}

/// A rule as GitHub code scanning shows it: title, description, help and ranking fields.
fn sarif_rule(spec: &RuleSpec) -> Value {
    let about = spec.about();
    let (revoke_heading, history) = match spec.severity {
        Severity::Error => (
            "Revoke it first",
            format!(
                "Deleting the line does not undo the leak: the value stays in every commit, clone and fork that has it. Rotating is the fix; to also purge it from history (do this by hand): {PURGE_HISTORY}."
            ),
        ),
        Severity::Warning => (
            "Fix",
            format!(
                "If the literal was a real credential, revoke it with its provider; to also purge it from history (do this by hand): {PURGE_HISTORY}."
            ),
        ),
    };
    let remove = "Read the credential from the environment or a secret manager instead of the code. If it is in a notebook output, `mlguard strip FILE && git add FILE` removes the outputs.";
    let silence = "If it is a false positive, add `mlguard:allow` to the line, or record accepted findings with `mlguard scan --baseline FILE --update-baseline`.";
    let fix = capitalized(&spec.fix);
    let text = format!(
        "{about}\n\n{revoke_heading}: {fix}.\n\nRemove it from the code: {remove}\n\nRemove it from history: {history}\n\n{silence}"
    );
    let markdown = format!(
        "**{}**\n\n{about}\n\n### {revoke_heading}\n\n{fix}.\n\n### Remove it from the code\n\n{remove}\n\n### Remove it from history\n\n{history}\n\n### False positives\n\n{silence}",
        capitalized(&spec.description)
    );
    let mut tags = vec!["security".to_string()];
    match spec.severity {
        Severity::Error => tags.push("secret".into()),
        Severity::Warning => tags.push("code-smell".into()),
    }
    tags.extend(spec.provider.clone());
    json!({
        "id": spec.id,
        "name": spec.id,
        "shortDescription": {"text": spec.description},
        "fullDescription": {"text": about},
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": sarif_level(spec.severity)},
        "properties": {
            "tags": tags,
            "precision": spec.precision().as_str(),
            "security-severity": format!("{:.1}", spec.security_severity()),
        },
    })
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn sarif_level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A relative URI reference: path segments percent-encoded where needed.
fn sarif_uri(path: &str) -> String {
    let path = path.strip_prefix("./").unwrap_or(path);
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'.' | b'_' | b'-' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `::error file=…,line=…::message` lines, escaped as the workflow-command syntax requires.
fn write_github(out: &mut impl Write, rules: &RuleSet, findings: &[Finding]) -> io::Result<()> {
    for finding in findings {
        let spec = &rules.rules[finding.rule].spec;
        let mut message = format!(
            "{} ({}). Fix: {}",
            spec.description,
            redact(&finding.secret),
            spec.fix
        );
        if let Some(locator) = &finding.locator {
            message.push_str(&format!(" [{}]", printable(locator)));
        }
        writeln!(
            out,
            "::{} file={},line={},col={},endLine={},title={}::{}",
            spec.severity.as_str(),
            escape_property(&printable(&finding.path)),
            finding.line,
            finding.column,
            finding.end_line,
            escape_property(&format!("mlguard {}", spec.id)),
            escape_data(&message)
        )?;
    }
    Ok(())
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_shows_little() {
        let fake = b"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"; // mlguard:allow
        assert_eq!(redact(fake), "hf_m\u{2026} (37 chars)");
        assert_eq!(redact(b"abcdefgh"), "\u{2026} (8 chars)");
        assert_eq!(redact(b"8KUCERkj9Zhx9PkO"), "\u{2026} (16 chars)");
        assert_eq!(redact(b"8KUCERkj9Zhx9PkO1234"), "8KUC\u{2026} (20 chars)");
        assert_eq!(redact(b"abc"), "\u{2026} (3 chars)");
    }

    #[test]
    fn github_escaping() {
        assert_eq!(escape_property("a,b:c%\n"), "a%2Cb%3Ac%25%0A");
        assert_eq!(sarif_uri("dir/a b.ipynb"), "dir/a%20b.ipynb");
    }
}
