//! Stripping notebooks on disk, and writing them back without ever leaving half a notebook:
//! through a complete temporary copy renamed over the original (owner, group and mode kept),
//! or, for a file with several hard links (where a rename would leave the other names with
//! the old content), copied back in place once the complete stripped copy exists.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::NotebookError;
use super::strip::{self, StripOptions, Stripped};

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{}: {source}", shown(path))]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", shown(path))]
    Notebook {
        path: PathBuf,
        source: NotebookError,
    },
    #[error(
        "{}: writing in place failed ({source}); the stripped notebook is kept at {}",
        shown(path),
        shown(kept)
    )]
    PartlyWritten {
        path: PathBuf,
        kept: PathBuf,
        source: std::io::Error,
    },
}

/// A path as printed: control characters escaped.
fn shown(path: &Path) -> String {
    crate::shell::printable(&path.to_string_lossy()).into_owned()
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
                // Written as it is walked, straight into the temporary copy.
                write_atomically_with(path, |file| prepared.write_to(file))?;
            }
            Vec::new()
        }
    };
    Ok(Stripped { changed, output })
}

/// Replaces a file's content. A complete stripped copy is written first, to a temporary file in
/// the same directory with the original's mode, owner and group (where permitted); it is then
/// renamed over the original, so a reader (or an interrupted run) sees the old or the new
/// notebook, never half of one. A file with several hard links is rewritten in place from that
/// copy instead, so every name sees the new content; if that fails, the copy is kept and
/// named. A symlink is followed so the link itself survives.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), FileError> {
    write_atomically_with(path, |file| file.write_all(contents))
}

/// `write_atomically`, with the content written by `write` (into the temporary copy; a file
/// with several links is then rewritten from that copy).
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), FileError> {
    use std::os::unix::fs::MetadataExt;
    let io_error = |source| FileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let target = fs::canonicalize(path).map_err(io_error)?;
    let metadata = fs::metadata(&target).map_err(io_error)?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.mlguard-{}.tmp", std::process::id()));
    let written = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut file);
        write(&mut buffered)?;
        buffered.flush()?;
        drop(buffered);
        file.sync_all()?;
        fs::set_permissions(&temp, metadata.permissions())?;
        // Keeping another user's ownership needs the right to; without it the file stays ours,
        // as any editor would leave it.
        let _ = std::os::unix::fs::chown(&temp, Some(metadata.uid()), Some(metadata.gid()));
        Ok(())
    })();
    if let Err(source) = written {
        let _ = fs::remove_file(&temp);
        return Err(io_error(source));
    }
    if metadata.nlink() > 1 {
        let copied = (|| {
            let mut file = fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&target)?;
            std::io::copy(&mut fs::File::open(&temp)?, &mut file)?;
            file.sync_all()
        })();
        return match copied {
            Ok(()) => fs::remove_file(&temp).map_err(io_error),
            Err(source) => Err(FileError::PartlyWritten {
                path: path.to_path_buf(),
                kept: temp,
                source,
            }),
        };
    }
    fs::rename(&temp, &target).map_err(|source| {
        let _ = fs::remove_file(&temp);
        io_error(source)
    })
}
