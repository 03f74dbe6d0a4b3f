//! `mlguard hook pre-commit`: what the installed hook runs. Staged notebooks must carry no
//! outputs (the filter was not active), and the staged changes must add no credential.

use std::io::Write;

use crate::config::{ConfigError, Loaded};
use crate::report::{self, Format};
use crate::rules::{Severity, Volume};
use crate::scan::{Scanner, sort_findings};
use crate::sources::{self, SourceError};
use crate::strip::{self, Render};

#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("writing the report: {0}")]
    Io(#[from] std::io::Error),
}

/// What the checks found; the commit goes ahead only when both counts are zero.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PreCommitOutcome {
    pub unstripped_notebooks: usize,
    pub credentials: usize,
}

/// Runs the pre-commit checks on the index git is committing and writes the report to `out`.
pub fn pre_commit(loaded: &Loaded, out: &mut impl Write) -> Result<PreCommitOutcome, HookError> {
    let strip_options = loaded.strip_options()?;
    let setup = loaded.scan_setup(Volume::Small)?;
    let files = sources::staged_files(&setup.sources)?;
    let mut outcome = PreCommitOutcome::default();
    for file in files.iter().filter(|f| f.path.ends_with(".ipynb")) {
        let stripped = strip::strip_bytes(&file.content, &strip_options, Render::Never);
        if stripped.is_ok_and(|s| s.changed) {
            outcome.unstripped_notebooks += 1;
            let quoted = report::shell_quote(&file.path);
            writeln!(
                out,
                "{}: notebook-outputs: the staged notebook still has outputs (the mlguard filter is not active in this clone)\n    fix: mlguard strip {quoted} && git add {quoted}   (or run `mlguard install` once, then git add {quoted})",
                file.path
            )?;
        }
    }
    let scanner = Scanner::new(&setup.rules, setup.allow);
    let mut findings = sources::scan_staged_files(&scanner, &files, &setup.sources);
    sort_findings(&mut findings);
    report::write(out, Format::Text, &setup.rules, &findings, &[])?;
    outcome.credentials = findings
        .iter()
        .filter(|f| setup.rules.rules[f.rule].spec.severity == Severity::Error)
        .count();
    Ok(outcome)
}
