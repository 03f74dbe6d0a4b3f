//! `mlguard strip`: a notebook on stdin to stdout (the git clean filter), or files in place,
//! printed (`-t`) or only checked (`--dry-run`, `--verify`). A file that fails is reported and
//! the others are still processed; the filter never writes anything for input it cannot strip.

use std::io::Write;
use std::path::PathBuf;

use crate::notebook::Mode;
use crate::notebook::NotebookError;
use crate::notebook::file::{self, Action, FileError};
use crate::notebook::strip::{self, StripOptions};

/// Which files to process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// `.ipynb` and `.zpln` only (nbstripout's rule).
    Notebooks,
    /// Any file (`-f/--force`).
    Any,
}

#[derive(Debug)]
pub struct StripRequest {
    pub files: Vec<PathBuf>,
    pub action: Action,
    pub selection: Selection,
}

#[derive(Debug, Default)]
pub struct StripOutcome {
    /// Some notebook was (or, when checking, would be) changed.
    pub changed: bool,
    /// Files that could not be stripped, each with its error.
    pub failures: Vec<FileError>,
}

#[derive(Debug, thiserror::Error)]
pub enum StripError {
    #[error("stdin: {0}")]
    Stdin(#[from] NotebookError),
    #[error("stdout: {0}")]
    Output(#[from] std::io::Error),
}

/// Strips a notebook read from stdin. With `Action::Check` nothing is written but the dry-run
/// line; otherwise the stripped notebook, written as it is walked once every check has passed
/// (an error writes nothing).
pub fn strip_stdin(
    input: &[u8],
    options: &StripOptions,
    action: Action,
    out: &mut dyn Write,
) -> Result<bool, StripError> {
    let (changed, prepared) = strip::strip_prepared(input, options)?;
    if action == Action::Check {
        if changed {
            out.write_all(b"Dry run: would have stripped input from stdin\n")?;
        }
    } else {
        prepared.write_to(out)?;
    }
    Ok(changed)
}

/// Strips each file in turn, writing printed notebooks and dry-run lines to `out`.
pub fn strip_files(
    request: &StripRequest,
    options: &StripOptions,
    out: &mut dyn Write,
) -> Result<StripOutcome, StripError> {
    let mut outcome = StripOutcome::default();
    for path in &request.files {
        if request.selection == Selection::Notebooks && Mode::of_path(path).is_none() {
            continue;
        }
        match file::strip_file(path, options, request.action) {
            Ok(stripped) => {
                outcome.changed |= stripped.changed;
                match request.action {
                    Action::Print => out.write_all(&stripped.output)?,
                    Action::Check if stripped.changed => {
                        writeln!(out, "Dry run: would have stripped {}", path.display())?
                    }
                    Action::Check | Action::InPlace => {}
                }
            }
            Err(error) => outcome.failures.push(error),
        }
    }
    Ok(outcome)
}
