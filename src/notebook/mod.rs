//! Notebooks as nbstripout sees them: reading and writing each nbformat version exactly as
//! nbformat 5.11 does (`format`), nbstripout 0.9.1's stripping rules (`strip`), and stripping
//! files on disk without ever leaving half a notebook behind (`file`).

pub mod file;
pub mod format;
pub mod strip;

pub use format::{Format, Notebook, NotebookError};

/// The two kinds of notebook mlguard strips.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Jupyter `.ipynb`.
    #[default]
    Jupyter,
    /// Zeppelin `.zpln` notes (every paragraph's `results` is emptied).
    Zeppelin,
}

impl Mode {
    /// The kind of notebook a path names, by its extension (case-insensitive: `NB.IPYNB` is a
    /// notebook too); `None` for any other file. The one place this is decided.
    pub fn of_path(path: impl AsRef<std::path::Path>) -> Option<Mode> {
        let extension = path.as_ref().extension()?.to_str()?;
        if extension.eq_ignore_ascii_case("ipynb") {
            Some(Mode::Jupyter)
        } else if extension.eq_ignore_ascii_case("zpln") {
            Some(Mode::Zeppelin)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notebook_kinds_by_extension_in_any_case() {
        assert_eq!(Mode::of_path("a/b.ipynb"), Some(Mode::Jupyter));
        assert_eq!(Mode::of_path("B.IPYNB"), Some(Mode::Jupyter));
        assert_eq!(Mode::of_path("note.zpln"), Some(Mode::Zeppelin));
        assert_eq!(Mode::of_path("x.py"), None);
        assert_eq!(Mode::of_path("ipynb"), None);
        assert_eq!(Mode::of_path(".ipynb"), None);
    }
}
