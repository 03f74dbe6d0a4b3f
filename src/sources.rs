//! What gets scanned: files and directories on disk, or the changes staged for the next commit.

use std::collections::HashSet;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use regex::bytes::Regex;

use crate::git::{self, GitError};
use crate::scan::{Finding, Scanner, is_binary};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Git(#[from] GitError),
}

/// Limits and exclusions shared by every source.
#[derive(Debug, Default)]
pub struct SourceOptions {
    pub skip_paths: Vec<Regex>,
    pub max_file_size: u64,
}

impl SourceOptions {
    fn skipped(&self, path: &str) -> bool {
        self.skip_paths
            .iter()
            .any(|re| re.is_match(path.as_bytes()))
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

/// Scans files on both cores; files over the size limit are skipped.
pub fn scan_files(
    scanner: &Scanner,
    files: &[PathBuf],
    options: &SourceOptions,
) -> Result<Vec<Finding>, SourceError> {
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(files.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Result<Vec<Finding>, SourceError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut found = Vec::new();
                    loop {
                        let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(path) = files.get(index) else { break };
                        found.extend(scan_file(scanner, path, options)?);
                    }
                    Ok(found)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Ok(Vec::new())))
            .collect()
    });
    let mut findings = Vec::new();
    for result in results {
        findings.extend(result?);
    }
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
    if options.max_file_size > 0 && size > options.max_file_size {
        return Ok(Vec::new());
    }
    let content = std::fs::read(path).map_err(io_error)?;
    Ok(scanner.scan(&display(path), &content))
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

/// Scans staged files: new files whole; for edited and renamed files, only findings on lines
/// that the old version did not have.
pub fn scan_staged_files(
    scanner: &Scanner,
    files: &[StagedFile],
    options: &SourceOptions,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    for file in files {
        let too_big =
            options.max_file_size > 0 && file.content.len() as u64 > options.max_file_size;
        if too_big || is_binary(&file.content) {
            continue;
        }
        let found = scanner.scan(&file.path, &file.content);
        findings.extend(match &file.old_content {
            Some(old) => only_added_lines(found, &file.content, old),
            None => found,
        });
    }
    findings
}

/// Scans what the next commit adds (see `staged_files` and `scan_staged_files`).
pub fn scan_staged(
    scanner: &Scanner,
    options: &SourceOptions,
) -> Result<Vec<Finding>, SourceError> {
    let files = staged_files(options)?;
    Ok(scan_staged_files(scanner, &files, options))
}

/// Keeps the findings on lines of `new` that `old` does not have (what a change adds).
pub fn only_added_lines(findings: Vec<Finding>, new: &[u8], old: &[u8]) -> Vec<Finding> {
    let old_lines: HashSet<&[u8]> = old.split(|&b| b == b'\n').collect();
    let new_lines: Vec<&[u8]> = new.split(|&b| b == b'\n').collect();
    findings
        .into_iter()
        .filter(|f| {
            new_lines
                .get(f.line - 1)
                .is_none_or(|line| !old_lines.contains(line))
        })
        .collect()
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
