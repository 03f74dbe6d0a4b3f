//! What gets scanned: files and directories on disk, or the changes staged for the next commit.
//! Nothing is skipped without a word: files over the size limit are streamed in chunks rather
//! than read whole, and whatever cannot be scanned (a compressed archive) is returned as such
//! for the caller to name.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use regex::bytes::Regex;

use super::engine::{Examined, Scanner, Unscanned};
use super::finding::{Finding, sort_findings};
use crate::git::{self, Blob, GitError};
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
    /// Files larger than this are scanned in chunks instead of read whole; `None`: no limit.
    pub max_file_size: Option<u64>,
}

/// What a source's scan found, and the files it could not look into.
#[derive(Debug, Default)]
pub struct SourceReport {
    pub findings: Vec<Finding>,
    pub unscanned: Vec<(String, Unscanned)>,
}

impl SourceReport {
    fn add(&mut self, path: &str, examined: Examined) {
        self.findings.extend(examined.findings);
        if let Some(reason) = examined.unscanned {
            self.unscanned.push((path.to_string(), reason));
        }
    }

    fn sorted(mut self) -> Self {
        sort_findings(&mut self.findings);
        self.unscanned.sort_by(|a, b| a.0.cmp(&b.0));
        self
    }
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

/// Scans files on every core; files over the size limit are streamed. Findings come sorted.
pub fn scan_files(
    scanner: &Scanner,
    files: &[PathBuf],
    options: &SourceOptions,
) -> Result<SourceReport, SourceError> {
    let per_file = parallel::map(files, parallel::threads_for(files.len()), |path| {
        scan_file(scanner, path, options).map(|examined| (display(path), examined))
    })?;
    let mut report = SourceReport::default();
    for (path, examined) in per_file {
        report.add(&path, examined);
    }
    Ok(report.sorted())
}

fn scan_file(
    scanner: &Scanner,
    path: &Path,
    options: &SourceOptions,
) -> Result<Examined, SourceError> {
    let io_error = |source| SourceError::Io {
        path: path.to_path_buf(),
        source,
    };
    let shown = display(path);
    parallel::debug_fault(&shown);
    let size = std::fs::metadata(path).map_err(io_error)?.len();
    if options.too_large(size) {
        let file = std::fs::File::open(path).map_err(io_error)?;
        return scanner
            .examine_reader(&shown, std::io::BufReader::new(file))
            .map_err(io_error);
    }
    let content = std::fs::read(path).map_err(io_error)?;
    Ok(scanner.examine(&shown, &content))
}

/// One version of a staged file: its blob, read unless it is over the size limit.
#[derive(Debug)]
pub struct StagedBlob {
    pub id: String,
    pub size: u64,
    /// `None` when the blob is over the size limit: it is then streamed when scanned.
    pub content: Option<Vec<u8>>,
}

impl StagedBlob {
    /// The whole content (a large blob is read from git now).
    pub fn load(&self) -> Result<std::borrow::Cow<'_, [u8]>, GitError> {
        match &self.content {
            Some(content) => Ok(std::borrow::Cow::Borrowed(content)),
            None => git::blob(&self.id).map(std::borrow::Cow::Owned),
        }
    }
}

/// A file as the next commit will store it, with the version it replaces (edits, renames).
#[derive(Debug)]
pub struct StagedFile {
    pub path: String,
    pub new: StagedBlob,
    /// The replaced version and its path (different for a rename).
    pub old: Option<(String, StagedBlob)>,
}

fn path_text(path: &[u8]) -> String {
    Path::new(std::ffi::OsStr::from_bytes(path))
        .to_string_lossy()
        .into_owned()
}

/// Reads what the next commit adds from the index (new, edited, renamed files; no deletions).
pub fn staged_files(options: &SourceOptions) -> Result<Vec<StagedFile>, SourceError> {
    let mut reader = git::CatFile::spawn()?;
    let changes: Vec<_> = git::staged_changes()?
        .into_iter()
        .filter(|c| !options.skipped(&String::from_utf8_lossy(&c.path)))
        .collect();
    let mut ids: Vec<String> = Vec::new();
    for change in &changes {
        ids.push(change.new_blob.clone());
        ids.extend(change.old_blob.clone());
    }
    let writer = reader.request(ids);
    let mut read = |id: &String| -> Result<StagedBlob, GitError> {
        let (size, content) = match reader.next_blob(options.max_file_size, Vec::new())? {
            Blob::Content(content) => (content.len() as u64, Some(content)),
            Blob::TooLarge(size) => (size, None),
        };
        Ok(StagedBlob {
            id: id.clone(),
            size,
            content,
        })
    };
    let mut files = Vec::with_capacity(changes.len());
    for change in &changes {
        let new = read(&change.new_blob)?;
        let old = match &change.old_blob {
            Some(id) => {
                let old_path = change.old_path.as_deref().unwrap_or(&change.path);
                Some((path_text(old_path), read(id)?))
            }
            None => None,
        };
        files.push(StagedFile {
            path: path_text(&change.path),
            new,
            old,
        });
    }
    let _ = writer.join();
    reader.finish();
    Ok(files)
}

/// Scans staged files: new files whole; for edited and renamed files, only the secrets that
/// the old version did not hold. Findings come sorted.
pub fn scan_staged_files(
    scanner: &Scanner,
    files: &[StagedFile],
) -> Result<SourceReport, SourceError> {
    let mut report = SourceReport::default();
    for file in files {
        parallel::debug_fault(&file.path);
        let examined = match (&file.new.content, &file.old) {
            (Some(new), None) => scanner.examine(&file.path, new),
            (Some(new), Some((old_path, old))) => {
                let old_content = old.load()?;
                scanner.examine_change(&file.path, new, Some((old_path, &old_content)))
            }
            (None, old) => {
                let examined = stream_blob(scanner, &file.path, &file.new.id)?;
                match old {
                    Some((old_path, old)) if !examined.findings.is_empty() => {
                        let mut before = stream_blob(scanner, &file.path, &old.id)?.findings;
                        before.extend(scanner.scan_name(old_path));
                        Examined {
                            findings: super::finding::only_new_secrets(examined.findings, &before),
                            unscanned: examined.unscanned,
                        }
                    }
                    _ => examined,
                }
            }
        };
        report.add(&file.path, examined);
    }
    Ok(report.sorted())
}

/// Scans a large blob straight from `git cat-file blob`, in chunks.
fn stream_blob(scanner: &Scanner, path: &str, id: &str) -> Result<Examined, SourceError> {
    let (stream, stdout) = git::Stream::spawn(&["cat-file", "blob", id])?;
    let examined = scanner
        .examine_reader(path, std::io::BufReader::with_capacity(1 << 20, stdout))
        .map_err(|source| GitError::Spawn {
            command: stream.command().to_string(),
            source,
        })?;
    stream.finish()?;
    Ok(examined)
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
