//! What gets scanned: files and directories on disk, or the changes staged for the next commit.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use regex::bytes::Regex;

use super::engine::Scanner;
use super::finding::{Finding, sort_findings};
use super::text::is_binary;
use crate::git::{self, GitError};
use crate::parallel::{self, Panicked};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Panicked(#[from] Panicked),
}

/// Limits and exclusions shared by every source.
#[derive(Debug, Default)]
pub struct SourceOptions {
    pub skip_paths: Vec<Regex>,
    /// Files larger than this are not scanned; `None`: no limit.
    pub max_file_size: Option<u64>,
}

impl SourceOptions {
    pub fn skipped(&self, path: &str) -> bool {
        self.skip_paths
            .iter()
            .any(|re| re.is_match(path.as_bytes()))
    }

    pub fn too_large(&self, size: u64) -> bool {
        self.max_file_size.is_some_and(|limit| size > limit)
    }
}

/// Turns a gitignore-style glob into a regex on `/`-separated paths: a pattern without `/`
/// matches a name at any depth; `**` crosses directories, `*` and `?` do not.
pub fn glob_to_regex(glob: &str) -> Result<Regex, regex::Error> {
    let anchored = glob.trim_start_matches('/');
    let mut pattern = String::from("(?:^|/)");
    let mut chars = anchored.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                    pattern.push_str("(?:.*/)?");
                } else {
                    pattern.push_str(".*");
                }
            }
            '*' => pattern.push_str("[^/]*"),
            '?' => pattern.push_str("[^/]"),
            other => pattern.push_str(&regex::escape(&other.to_string())),
        }
    }
    pattern.push_str("(?:/|$)");
    Regex::new(&pattern)
}

fn display(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.strip_prefix("./").unwrap_or(&text).to_string()
}

/// Every file below the roots (dotfiles included; `.git` directories and symlinks skipped).
pub fn list_files(roots: &[PathBuf], options: &SourceOptions) -> Result<Vec<PathBuf>, SourceError> {
    let mut files = Vec::new();
    let mut pending: Vec<PathBuf> = roots.to_vec();
    while let Some(path) = pending.pop() {
        let io_error = |source| SourceError::Io {
            path: path.clone(),
            source,
        };
        let metadata = std::fs::symlink_metadata(&path).map_err(io_error)?;
        if options.skipped(&display(&path)) {
            continue;
        }
        if metadata.is_dir() {
            for entry in std::fs::read_dir(&path).map_err(io_error)? {
                let entry = entry.map_err(io_error)?;
                if entry.file_name() != ".git" {
                    pending.push(entry.path());
                }
            }
        } else if metadata.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Scans files on every core; files over the size limit are skipped. Findings come sorted.
pub fn scan_files(
    scanner: &Scanner,
    files: &[PathBuf],
    options: &SourceOptions,
) -> Result<Vec<Finding>, SourceError> {
    let per_file = parallel::map(files, parallel::threads_for(files.len()), |path| {
        scan_file(scanner, path, options)
    })?;
    let mut findings: Vec<Finding> = per_file.into_iter().flatten().collect();
    sort_findings(&mut findings);
    Ok(findings)
}

fn scan_file(
    scanner: &Scanner,
    path: &Path,
    options: &SourceOptions,
) -> Result<Vec<Finding>, SourceError> {
    let io_error = |source| SourceError::Io {
        path: path.to_path_buf(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io_error)?.len();
    if options.too_large(size) {
        return Ok(Vec::new());
    }
    let content = std::fs::read(path).map_err(io_error)?;
    let shown = display(path);
    parallel::debug_fault(&shown);
    Ok(scanner.scan(&shown, &content))
}

/// A file as the next commit will store it, with the version it replaces (edits, renames).
#[derive(Debug)]
pub struct StagedFile {
    pub path: String,
    pub content: Vec<u8>,
    pub old_content: Option<Vec<u8>>,
}

/// Reads what the next commit adds from the index (new, edited, renamed files; no deletions).
pub fn staged_files(options: &SourceOptions) -> Result<Vec<StagedFile>, SourceError> {
    let reader = git::CatFile::spawn()?;
    let changes: Vec<_> = git::staged_changes()?
        .into_iter()
        .filter(|c| !options.skipped(&String::from_utf8_lossy(&c.path)))
        .collect();
    let mut ids: Vec<String> = changes.iter().map(|c| c.new_blob.clone()).collect();
    ids.extend(changes.iter().filter_map(|c| c.old_blob.clone()));
    let mut blobs = reader.read_all(ids)?.into_iter();
    let new_blobs: Vec<Vec<u8>> = blobs.by_ref().take(changes.len()).collect();
    Ok(changes
        .iter()
        .zip(new_blobs)
        .map(|(change, content)| StagedFile {
            path: Path::new(std::ffi::OsStr::from_bytes(&change.path))
                .to_string_lossy()
                .into_owned(),
            content,
            old_content: change.old_blob.as_ref().and_then(|_| blobs.next()),
        })
        .collect())
}

/// Scans staged files: new files whole; for edited and renamed files, only the secrets that
/// the old version did not hold. Findings come sorted.
pub fn scan_staged_files(
    scanner: &Scanner,
    files: &[StagedFile],
    options: &SourceOptions,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for file in files {
        if options.too_large(file.content.len() as u64) || is_binary(&file.content) {
            continue;
        }
        parallel::debug_fault(&file.path);
        findings.extend(scanner.scan_change(
            &file.path,
            &file.content,
            file.old_content.as_deref(),
        ));
    }
    sort_findings(&mut findings);
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_follow_gitignore_conventions() {
        let matches =
            |glob: &str, path: &str| glob_to_regex(glob).unwrap().is_match(path.as_bytes());
        assert!(matches("*.csv", "data/train.csv"));
        assert!(!matches("*.csv", "data/train.csv.py"));
        assert!(matches("data/**", "data/a/b.txt"));
        assert!(matches("fixtures", "tests/fixtures/x.py"));
        assert!(!matches("src/*.py", "src/a/b.py"));
        assert!(matches("**/secrets_test.py", "a/b/secrets_test.py"));
    }
}
