//! `mlguard strip`: a notebook on stdin to stdout (the git clean filter), or files in place,
//! printed (`-t`) or only checked (`--dry-run`, `--verify`). A file that fails is reported and
//! the others are still processed; the filter never writes anything for input it cannot strip.

use std::io::Write;
use std::path::PathBuf;

use crate::notebook::Mode;
use crate::notebook::NotebookError;
use crate::notebook::file::{self, Action, FileError};
use crate::notebook::strip::{self, Render, StripOptions};

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
/// line; otherwise the stripped notebook, and only once it is complete.
pub fn strip_stdin(
    input: &[u8],
    options: &StripOptions,
    action: Action,
    out: &mut dyn Write,
) -> Result<bool, StripError> {
    let render = if action == Action::Check {
        Render::Never
    } else {
        Render::Always
    };
    let stripped = strip::strip_bytes(input, options, render)?;
    if action == Action::Check {
        if stripped.changed {
            out.write_all(b"Dry run: would have stripped input from stdin\n")?;
        }
    } else {
        out.write_all(&stripped.output)?;
    }
    Ok(stripped.changed)
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
