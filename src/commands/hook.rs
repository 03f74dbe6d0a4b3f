//! `mlguard hook pre-commit`: what the installed hook runs. Staged notebooks must carry no
//! outputs (the filter was not active), and the staged changes must add no credential; the
//! credential check is the shared scan (`commands::scan`), baseline and settings included.

use std::io::Write;

use super::scan::{BaselineRequest, FailOn, Scan, ScanError, ScanRequest, Target};
use crate::notebook::Mode;
use crate::notebook::strip::{self, Render};
use crate::report::Format;
use crate::scan::rules::Volume;
use crate::settings::Settings;
use crate::shell;

/// What the checks found; the commit goes ahead only when both counts are zero.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PreCommitOutcome {
    /// The report for the person committing (stdout).
    pub report: Vec<u8>,
    /// Notes on what could not be checked (stderr).
    pub notes: Vec<String>,
    pub unstripped_notebooks: usize,
    pub credentials: usize,
}

impl PreCommitOutcome {
    pub fn refused(&self) -> bool {
        self.unstripped_notebooks > 0 || self.credentials > 0
    }
}

/// Runs the pre-commit checks on the index git is committing.
pub fn pre_commit(settings: &Settings) -> Result<PreCommitOutcome, ScanError> {
    let scan = Scan::new(settings, Volume::Small)?;
    let files = scan.staged_files()?;
    let mut report = Vec::new();
    let mut unstripped_notebooks = 0;
    for file in &files {
        let Some(mode) = Mode::of_path(&file.path) else {
            continue;
        };
        let options = strip::StripOptions {
            mode,
            ..settings.strip.clone()
        };
        let stripped = strip::strip_bytes(&file.content, &options, Render::Never);
        if stripped.is_ok_and(|s| s.changed) {
            unstripped_notebooks += 1;
            let quoted = shell::quote(&file.path);
            writeln!(
                report,
                "{}: notebook-outputs: the staged notebook still has outputs (the mlguard filter is not active in this clone)\n    fix: mlguard strip {quoted} && git add {quoted}   (or run `mlguard install` once, then git add {quoted})",
                file.path
            )?;
        }
    }
    let outcome = scan.run(ScanRequest {
        target: Target::StagedFiles(files),
        format: Format::Text,
        fail_on: FailOn::Errors,
        baseline: BaselineRequest::default(),
    })?;
    report.extend_from_slice(&outcome.report);
    Ok(PreCommitOutcome {
        report,
        notes: outcome.notes,
        unstripped_notebooks,
        credentials: outcome.errors,
    })
}
