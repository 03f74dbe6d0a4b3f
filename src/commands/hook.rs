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
use crate::shell::printable;

/// What the checks found; the commit goes ahead only when every count is zero.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PreCommitOutcome {
    /// The report for the person committing (stdout).
    pub report: Vec<u8>,
    /// Notes on what could not be checked (stderr).
    pub notes: Vec<String>,
    pub unstripped_notebooks: usize,
    /// Staged notebooks that cannot be read (the filter could not strip them either).
    pub invalid_notebooks: usize,
    pub credentials: usize,
}

impl PreCommitOutcome {
    pub fn refused(&self) -> bool {
        self.unstripped_notebooks > 0 || self.invalid_notebooks > 0 || self.credentials > 0
    }

    /// The lines that close a refusal: what happened, how to fix a real leak, and what to do
    /// about a false alarm.
    pub fn refusal(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "mlguard: commit refused: {} notebook(s) with outputs, {} unreadable notebook(s), {} credential(s)",
            self.unstripped_notebooks, self.invalid_notebooks, self.credentials
        )];
        if self.credentials > 0 {
            lines.push("mlguard: a real credential: revoke it with its provider, remove it from the file, and commit again (it never reached a commit).".into());
            lines.push("mlguard: a false alarm: add `mlguard:allow` in a comment on that line, record it with `mlguard scan --update-baseline` and [scan] baseline, or adjust [scan] in .mlguard.toml.".into());
        }
        lines
    }
}

/// Runs the pre-commit checks on the index git is committing.
pub fn pre_commit(settings: &Settings) -> Result<PreCommitOutcome, ScanError> {
    let scan = Scan::new(settings, Volume::Small)?;
    let files = scan.staged_files()?;
    let mut report = Vec::new();
    let (mut unstripped_notebooks, mut invalid_notebooks) = (0, 0);
    for file in &files {
        let Some(mode) = Mode::of_path(&file.path) else {
            continue;
        };
        let options = strip::StripOptions {
            mode,
            ..settings.strip.clone()
        };
        let content = file.new.load()?;
        if content.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let quoted = printable(&shell::quote(&file.path)).into_owned();
        match strip::strip_bytes(&content, &options, Render::Never) {
            Ok(stripped) if stripped.changed => {
                unstripped_notebooks += 1;
                writeln!(
                    report,
                    "{}: notebook-outputs: the staged notebook still has outputs (the mlguard filter is not active in this clone)\n    fix: mlguard strip {quoted} && git add {quoted}   (or run `mlguard install` once, then git add {quoted})",
                    printable(&file.path)
                )?;
            }
            Ok(_) => {}
            Err(error) => {
                invalid_notebooks += 1;
                writeln!(
                    report,
                    "{}: notebook-invalid: the staged notebook cannot be read ({error}), so it was not stripped\n    fix: repair it (a merge conflict left in it?), then git add {quoted}",
                    printable(&file.path)
                )?;
            }
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
        invalid_notebooks,
        credentials: outcome.errors,
    })
}
