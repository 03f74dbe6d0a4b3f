//! `mlguard strip`: a notebook on stdin to stdout (the git clean filter), or files in place,
//! printed (`-t`) or only checked (`--dry-run`, `--verify`). A file that fails is reported and
//! the others are still processed; the filter never writes anything for input it cannot strip.
//! Nothing is passed over in silence: a path that does not exist is an error, a directory is
//! searched for notebooks (as `git ls-files` sees them, so `.gitignore` applies), and a file
//! that is not a notebook is named as skipped.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

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
    /// Files that could not be stripped (or do not exist), each with its error.
    pub failures: Vec<FileError>,
    /// Files named on the command line that are not notebooks (`-f` processes them).
    pub skipped: Vec<PathBuf>,
    /// Directories in which no notebook was found.
    pub empty_directories: Vec<PathBuf>,
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

/// Strips each file in turn (each notebook of a directory), writing printed notebooks and
/// dry-run lines to `out`.
pub fn strip_files(
    request: &StripRequest,
    options: &StripOptions,
    out: &mut dyn Write,
) -> Result<StripOutcome, StripError> {
    let mut outcome = StripOutcome::default();
    for path in &request.files {
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(source) => {
                outcome.failures.push(FileError::Io {
                    path: path.clone(),
                    source,
                });
                continue;
            }
        };
        if metadata.is_dir() {
            let notebooks = notebooks_under(path);
            if notebooks.is_empty() {
                outcome.empty_directories.push(path.clone());
            }
            for notebook in notebooks {
                strip_one(&notebook, request.action, options, out, &mut outcome)?;
            }
        } else if request.selection == Selection::Notebooks && Mode::of_path(path).is_none() {
            outcome.skipped.push(path.clone());
        } else {
            strip_one(path, request.action, options, out, &mut outcome)?;
        }
    }
    Ok(outcome)
}

fn strip_one(
    path: &Path,
    action: Action,
    options: &StripOptions,
    out: &mut dyn Write,
    outcome: &mut StripOutcome,
) -> Result<(), StripError> {
    // A `.zpln` note found in a directory is a Zeppelin note whatever `--mode` says.
    let zeppelin = StripOptions {
        mode: Mode::Zeppelin,
        ..StripOptions::default()
    };
    let options = if Mode::of_path(path) == Some(Mode::Zeppelin) {
        &zeppelin
    } else {
        options
    };
    match file::strip_file(path, options, action) {
        Ok(stripped) => {
            outcome.changed |= stripped.changed;
            match action {
                Action::Print => out.write_all(&stripped.output)?,
                Action::Check if stripped.changed => {
                    writeln!(out, "Dry run: would have stripped {}", path.display())?;
                }
                Action::Check | Action::InPlace => {}
            }
        }
        Err(error) => outcome.failures.push(error),
    }
    Ok(())
}

/// The notebooks (`.ipynb`, `.zpln`) below a directory, as `git ls-files` sees them inside a
/// repository (tracked and untracked, `.gitignore` honoured); outside one, every file below it
/// (`.git` directories and symlinks skipped). Sorted.
fn notebooks_under(dir: &Path) -> Vec<PathBuf> {
    let listed = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--deduplicate",
        ])
        .stderr(std::process::Stdio::null())
        .output();
    let mut files: Vec<PathBuf> = match listed {
        Ok(out) if out.status.success() => out
            .stdout
            .split(|&b| b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| dir.join(std::ffi::OsStr::from_bytes(p)))
            // Tracked but deleted from the working tree: nothing to strip.
            .filter(|p| p.is_file())
            .collect(),
        _ => walk(dir),
    };
    files.retain(|p| Mode::of_path(p).is_some());
    files.sort();
    files.dedup();
    files
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&next) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() && entry.file_name() != ".git" {
                pending.push(entry.path());
            } else if kind.is_file() {
                files.push(entry.path());
            }
        }
    }
    files
}
