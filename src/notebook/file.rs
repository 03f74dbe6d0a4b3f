//! Stripping notebooks on disk: which files qualify, and writing them back atomically.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::NotebookError;
use super::strip::{self, Render, StripOptions, Stripped};

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Notebook {
        path: PathBuf,
        source: NotebookError,
    },
}

/// What to do with each file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Rewrite the file when stripping changes it.
    InPlace,
    /// Only report whether it would change (`--dry-run`, `--verify`).
    Check,
    /// Return the stripped notebook for printing (`--textconv`).
    Print,
}

/// Strips one file. In place, an unchanged notebook is not touched at all.
pub fn strip_file(
    path: &Path,
    options: &StripOptions,
    action: Action,
) -> Result<Stripped, FileError> {
    let io_error = |source| FileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let input = fs::read(path).map_err(io_error)?;
    let render = match action {
        Action::InPlace => Render::IfChanged,
        Action::Check => Render::Never,
        Action::Print => Render::Always,
    };
    let stripped =
        strip::strip_bytes(&input, options, render).map_err(|source| FileError::Notebook {
            path: path.to_path_buf(),
            source,
        })?;
    if action == Action::InPlace && stripped.changed {
        write_atomically(path, &stripped.output).map_err(io_error)?;
    }
    Ok(stripped)
}

/// Replaces a file's content through a temporary file and a rename in the same directory, so
/// a reader (or an interrupted run) sees the old or the new notebook, never half of one.
/// The mode bits are kept, and a symlink is followed so the link itself survives.
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let target = fs::canonicalize(path)?;
    let permissions = fs::metadata(&target)?.permissions();
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.mlguard-{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        fs::set_permissions(&temp, permissions)?;
        fs::rename(&temp, &target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}
