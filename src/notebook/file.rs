//! Stripping notebooks on disk: which files qualify, and writing them back atomically.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::NotebookError;
use super::strip::{self, StripOptions, Stripped};

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
    let (changed, prepared) =
        strip::strip_prepared(&input, options).map_err(|source| FileError::Notebook {
            path: path.to_path_buf(),
            source,
        })?;
    let output = match action {
        Action::Print => prepared.to_vec(),
        Action::Check => Vec::new(),
        Action::InPlace => {
            if changed {
                // Written as it is walked, straight into the temporary file.
                write_atomically_with(path, |file| prepared.write_to(file)).map_err(io_error)?;
            }
            Vec::new()
        }
    };
    Ok(Stripped { changed, output })
}

/// Replaces a file's content through a temporary file and a rename in the same directory, so
/// a reader (or an interrupted run) sees the old or the new notebook, never half of one.
/// The mode bits are kept, and a symlink is followed so the link itself survives.
pub fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    write_atomically_with(path, |file| file.write_all(contents))
}

/// `write_atomically`, with the content written by `write` into the temporary file.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
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
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut file);
        write(&mut buffered)?;
        buffered.flush()?;
        drop(buffered);
        file.sync_all()?;
        fs::set_permissions(&temp, permissions)?;
        fs::rename(&temp, &target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}
