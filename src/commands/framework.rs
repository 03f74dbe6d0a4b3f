//! `mlguard hook pre-commit-framework [FILES]...`: the credential scan as a hook of the
//! pre-commit framework (and prek), which never passes vacuously. The framework calls hooks in
//! several ways, and a hook that reads only the index passes with a committed secret in all but
//! one of them; so the scan decides what to read from how it was called:
//!
//! - `PRE_COMMIT_FROM_REF` and `PRE_COMMIT_TO_REF` set (the `pre-push` stage, `run --from-ref
//!   --to-ref`): every commit of `FROM..TO`, including content added and deleted again inside
//!   the range, which no file list shows;
//! - a `pre-push` of a branch whose history the remote does not have at all (the framework
//!   then sets no refs and hands every file): every commit of the pushed branch;
//! - inside `git commit` (git gives every commit hook `GIT_INDEX_FILE`): what the commit adds
//!   to the handed files, read from the index;
//! - otherwise (`run --all-files`, `run --files`, pre-commit.ci): the handed files whole, as
//!   the index holds them.
//!
//! When that reads nothing, the outcome says so instead of reporting a clean scan.

use std::path::PathBuf;

use super::scan::{self, BaselineRequest, FailOn, Scan, ScanError, ScanRequest, Target, Verdict};
use crate::report::Format;
use crate::scan::rules::Volume;
use crate::settings::Settings;

/// How the framework called the hook, read from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// `PRE_COMMIT_FROM_REF..PRE_COMMIT_TO_REF`.
    Range { from: String, to: String },
    /// A push of a branch none of whose history is on the remote (`PRE_COMMIT_LOCAL_BRANCH`).
    PushFromRoot { local_ref: String },
    /// Inside `git commit` (or a merge): the staged changes.
    Commit,
    /// `run --all-files`, `run --files` or a plain `run`: the handed files.
    Files,
}

impl Invocation {
    /// Reads the variables the framework and git set; `var` returns a variable's value.
    pub fn detect(var: impl Fn(&str) -> Option<String>) -> Invocation {
        let set = |name: &str| var(name).filter(|v| !v.is_empty());
        if let (Some(from), Some(to)) = (set("PRE_COMMIT_FROM_REF"), set("PRE_COMMIT_TO_REF")) {
            return Invocation::Range { from, to };
        }
        if set("PRE_COMMIT_REMOTE_NAME").is_some() {
            if let Some(local_ref) = set("PRE_COMMIT_LOCAL_BRANCH") {
                return Invocation::PushFromRoot { local_ref };
            }
        }
        if set("GIT_INDEX_FILE").is_some() {
            return Invocation::Commit;
        }
        Invocation::Files
    }
}

#[derive(Debug)]
pub struct FrameworkRequest {
    pub invocation: Invocation,
    /// The files the framework handed to the hook (after its `files`/`exclude`/`types`).
    pub files: Vec<PathBuf>,
}

#[derive(Debug)]
pub struct FrameworkOutcome {
    /// The findings, for stdout.
    pub report: Vec<u8>,
    /// Notes (skipped content), for stderr.
    pub notes: Vec<String>,
    /// One line saying what was scanned and what was found, or that there was nothing to scan.
    pub summary: String,
    /// Credentials found (the hook fails when non-zero).
    pub credentials: usize,
}

impl FrameworkOutcome {
    pub fn failed(&self) -> bool {
        self.credentials > 0
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FrameworkError {
    #[error(transparent)]
    Scan(#[from] ScanError),
    #[error("{variable}: `{value}` is not a git revision (it starts with `-`)")]
    BadRevision {
        variable: &'static str,
        value: String,
    },
}

/// Scans what the invocation calls for; see the module documentation.
pub fn run(
    settings: &Settings,
    request: FrameworkRequest,
) -> Result<FrameworkOutcome, FrameworkError> {
    let handed = request.files.len();
    let (target, what) = match &request.invocation {
        Invocation::Range { from, to } => {
            check_revision("PRE_COMMIT_FROM_REF", from)?;
            check_revision("PRE_COMMIT_TO_REF", to)?;
            (
                Target::Range(format!("{from}..{to}")),
                format!("the commits {}..{}", short(from), short(to)),
            )
        }
        Invocation::PushFromRoot { local_ref } => {
            check_revision("PRE_COMMIT_LOCAL_BRANCH", local_ref)?;
            (
                Target::Range(format!("..{local_ref}")),
                format!("every commit of {local_ref} (new to the remote)"),
            )
        }
        Invocation::Commit => (Target::Staged, "what this commit adds".to_string()),
        Invocation::Files => (
            Target::TrackedFiles(request.files.clone()),
            "the files handed to the hook (whole, as committed)".to_string(),
        ),
    };
    let request_for = |target| ScanRequest {
        target,
        format: Format::Text,
        fail_on: FailOn::Errors,
        baseline: BaselineRequest::default(),
    };
    let outcome = match target {
        // The framework may split a long file list over several calls: each scans its share.
        Target::Staged => {
            let handed: std::collections::HashSet<String> = request
                .files
                .iter()
                .map(|p| {
                    let text = p.to_string_lossy();
                    text.strip_prefix("./").unwrap_or(&text).to_string()
                })
                .collect();
            let scan = Scan::new(settings, Volume::Small)?;
            let mut files = scan.staged_files()?;
            files.retain(|f| handed.contains(&f.path));
            scan.run(request_for(Target::StagedFiles(files)))?
        }
        // A range is judged by the settings at its base, as `mlguard scan --range` does.
        other => scan::run(settings, request_for(other))?,
    };
    let summary = if outcome.scanned == 0 {
        let why = match &request.invocation {
            Invocation::Range { .. } | Invocation::PushFromRoot { .. } => {
                format!("{what} add no file content")
            }
            Invocation::Commit if handed == 0 => "the commit adds no file content".to_string(),
            Invocation::Commit => format!(
                "none of the {handed} handed file(s) has staged content to scan (all skipped by [scan] skip_paths?)"
            ),
            Invocation::Files if handed == 0 => {
                "the framework handed the hook no file (nothing staged? `pre-commit run --all-files` checks every file)"
                    .to_string()
            }
            Invocation::Files => format!(
                "the {handed} handed file(s) are all skipped by [scan] skip_paths"
            ),
        };
        format!("mlguard: nothing to scan: {why}; this is not a clean result")
    } else if outcome.verdict == Verdict::Findings {
        format!(
            "mlguard: {} credential(s) and {} warning(s) in {what} ({} read); remove them (and revoke any that were pushed), then try again",
            outcome.errors,
            outcome.warnings,
            units(&request.invocation, outcome.scanned)
        )
    } else {
        format!(
            "mlguard: no credentials in {what} ({} read{})",
            units(&request.invocation, outcome.scanned),
            if outcome.warnings > 0 {
                format!(", {} warning(s)", outcome.warnings)
            } else {
                String::new()
            }
        )
    };
    Ok(FrameworkOutcome {
        report: outcome.report,
        notes: outcome.notes,
        summary,
        credentials: outcome.errors,
    })
}

fn units(invocation: &Invocation, count: usize) -> String {
    match invocation {
        Invocation::Range { .. } | Invocation::PushFromRoot { .. } => format!("{count} blob(s)"),
        Invocation::Commit | Invocation::Files => format!("{count} file(s)"),
    }
}

/// A revision that starts with `-` would reach `git log` as an option.
fn check_revision(variable: &'static str, value: &str) -> Result<(), FrameworkError> {
    if value.starts_with('-') {
        return Err(FrameworkError::BadRevision {
            variable,
            value: value.to_string(),
        });
    }
    Ok(())
}

/// A commit id shortened for messages; other revisions as they are.
fn short(revision: &str) -> &str {
    if revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit()) {
        &revision[..12]
    } else {
        revision
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(vars: &[(&str, &str)]) -> Invocation {
        Invocation::detect(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn the_invocation_follows_the_framework_and_git_variables() {
        assert_eq!(detect(&[]), Invocation::Files);
        assert_eq!(detect(&[("PRE_COMMIT", "1")]), Invocation::Files);
        assert_eq!(
            detect(&[("GIT_INDEX_FILE", ".git/index")]),
            Invocation::Commit
        );
        assert_eq!(
            detect(&[
                ("PRE_COMMIT_FROM_REF", "a"),
                ("PRE_COMMIT_TO_REF", "b"),
                ("GIT_INDEX_FILE", ".git/index")
            ]),
            Invocation::Range {
                from: "a".into(),
                to: "b".into()
            }
        );
        // Only one of the two refs, or empty values: not a range.
        assert_eq!(detect(&[("PRE_COMMIT_FROM_REF", "a")]), Invocation::Files);
        assert_eq!(
            detect(&[("PRE_COMMIT_FROM_REF", ""), ("PRE_COMMIT_TO_REF", "")]),
            Invocation::Files
        );
        assert_eq!(
            detect(&[
                ("PRE_COMMIT_REMOTE_NAME", "origin"),
                ("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main")
            ]),
            Invocation::PushFromRoot {
                local_ref: "refs/heads/main".into()
            }
        );
    }

    #[test]
    fn revisions_cannot_be_options() {
        assert!(check_revision("PRE_COMMIT_FROM_REF", "--output=/tmp/x").is_err());
        assert!(check_revision("PRE_COMMIT_FROM_REF", "HEAD~1").is_ok());
        assert_eq!(short(&"a".repeat(40)), "aaaaaaaaaaaa");
        assert_eq!(short("origin/main"), "origin/main");
    }
}
