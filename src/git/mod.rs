//! Git plumbing: the staged changes and the blobs they point at, read the way git itself sees
//! them (through `git`, so `GIT_INDEX_FILE`, worktrees and the user's configuration apply).
//! `filter_process` speaks git's long-running filter protocol.

pub mod filter_process;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdout, Command, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("cannot run `git {command}`: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("`git {command}` failed: {stderr}")]
    Failed { command: String, stderr: String },
    #[error("unexpected output from `git {command}`")]
    Parse { command: String },
}

fn git(args: &[&str]) -> Command {
    let mut cmd = Command::new("git");
    cmd.args(args);
    cmd
}

fn spawn_error(command: &str) -> impl Fn(std::io::Error) -> GitError + '_ {
    move |source| GitError::Spawn {
        command: command.to_string(),
        source,
    }
}

/// Waits for git and turns a non-zero exit into an error carrying its stderr.
fn finish(child: Child, command: &str) -> Result<Vec<u8>, GitError> {
    let result = child.wait_with_output().map_err(spawn_error(command))?;
    if !result.status.success() {
        let stderr = String::from_utf8_lossy(&result.stderr).trim().to_string();
        return Err(GitError::Failed {
            command: command.to_string(),
            stderr,
        });
    }
    Ok(result.stdout)
}

/// Runs git and returns its stdout; a non-zero exit is an error carrying stderr.
pub fn output(args: &[&str], stdin: Option<&[u8]>) -> Result<Vec<u8>, GitError> {
    let command = args.join(" ");
    let mut child = git(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_error(&command))?;
    if let (Some(data), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(data).map_err(spawn_error(&command))?;
    }
    finish(child, &command)
}

/// Runs git and returns its stdout as text, without the trailing newline.
pub fn text(args: &[&str]) -> Result<String, GitError> {
    output(args, None).map(|out| {
        String::from_utf8_lossy(&out)
            .trim_end_matches('\n')
            .to_string()
    })
}

/// One blob's content, read whole (`git cat-file blob`).
pub fn blob(id: &str) -> Result<Vec<u8>, GitError> {
    output(&["cat-file", "blob", id], None)
}

/// The blobs of a commit's tree as (path, blob id); gitlinks and trees are left out.
pub fn tree_blobs(rev: &str) -> Result<Vec<(String, String)>, GitError> {
    let listing = output(&["ls-tree", "-r", "-z", "--full-tree", rev], None)?;
    Ok(listing
        .split(|&b| b == 0)
        .filter_map(|entry| {
            let entry = String::from_utf8_lossy(entry);
            let (meta, path) = entry.split_once('\t')?;
            let mut fields = meta.split(' ');
            let (_, kind, id) = (fields.next()?, fields.next()?, fields.next()?);
            (kind == "blob").then(|| (path.to_string(), id.to_string()))
        })
        .collect())
}

/// A git command whose stdout is read as a stream (`git log` over a whole history).
pub struct Stream {
    child: Child,
    command: String,
}

impl Stream {
    pub fn spawn(args: &[&str]) -> Result<(Stream, ChildStdout), GitError> {
        let command = args.join(" ");
        let mut child = git(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error(&command))?;
        let stdout = child.stdout.take().ok_or_else(|| GitError::Parse {
            command: command.clone(),
        })?;
        Ok((Stream { child, command }, stdout))
    }

    pub fn command(&self) -> &str {
        &self.command
    }

    /// Waits for the command; a failure is reported with git's stderr.
    pub fn finish(self) -> Result<(), GitError> {
        finish(self.child, &self.command).map(drop)
    }
}

fn trimmed(bytes: Vec<u8>) -> String {
    String::from_utf8_lossy(&bytes).trim().to_string()
}

/// The empty tree's id in this repository's hash (what an unborn branch is compared with).
pub fn empty_tree() -> Result<String, GitError> {
    output(&["hash-object", "-t", "tree", "--stdin"], Some(b"")).map(trimmed)
}

/// A path the index adds or changes, with its new blob and (for edits and renames) the old one.
#[derive(Debug, Clone)]
pub struct StagedChange {
    pub path: Vec<u8>,
    pub new_blob: String,
    pub old_blob: Option<String>,
    /// The path the old blob had, for a rename or copy.
    pub old_path: Option<Vec<u8>>,
}

/// `git diff-index --cached` against HEAD (rename detection on): what the next commit adds.
/// On an unborn branch HEAD does not resolve, and the empty tree stands in for it.
pub fn staged_changes() -> Result<Vec<StagedChange>, GitError> {
    let diff = |tree: &str| {
        let args = [
            "diff-index",
            "--cached",
            "-z",
            "-M",
            "--raw",
            "--no-abbrev",
            "--ignore-submodules",
            tree,
        ];
        let raw = output(&args, None)?;
        parse_raw_diff(&raw).ok_or_else(|| GitError::Parse {
            command: args.join(" "),
        })
    };
    match diff("HEAD") {
        Err(GitError::Failed { .. })
            if output(&["rev-parse", "--verify", "-q", "HEAD"], None).is_err() =>
        {
            diff(&empty_tree()?)
        }
        result => result,
    }
}

/// Parses `--raw -z` records: `:old_mode new_mode old new STATUS\0path\0[new_path\0]`.
fn parse_raw_diff(raw: &[u8]) -> Option<Vec<StagedChange>> {
    let mut fields = raw.split(|&b| b == 0).filter(|f| !f.is_empty());
    let mut changes = Vec::new();
    while let Some(header) = fields.next() {
        let header = std::str::from_utf8(header.strip_prefix(b":")?).ok()?;
        let parts: Vec<&str> = header.split(' ').collect();
        let [_, new_mode, old, new, status] = parts[..] else {
            return None;
        };
        let first_path = fields.next()?.to_vec();
        let kind = status.chars().next()?;
        let (path, old_path) = if matches!(kind, 'R' | 'C') {
            (fields.next()?.to_vec(), Some(first_path))
        } else {
            (first_path, None)
        };
        if kind == 'D' || new_mode == "160000" {
            continue;
        }
        let old_blob = (kind != 'A' && !old.bytes().all(|b| b == b'0')).then(|| old.to_string());
        changes.push(StagedChange {
            path,
            new_blob: new.to_string(),
            old_blob,
            old_path,
        });
    }
    Some(changes)
}

/// A blob read by `CatFile`: its content, or its size when it was over the limit and skipped.
pub enum Blob {
    Content(Vec<u8>),
    TooLarge(u64),
}

const CAT_FILE: &str = "cat-file --batch";

fn cat_file_error(source: std::io::Error) -> GitError {
    GitError::Spawn {
        command: CAT_FILE.into(),
        source,
    }
}

/// One `git cat-file --batch` process, read as a stream: blobs over a size limit are skipped
/// without being held in memory, and buffers can be reused. It is started before it is needed
/// so that its start-up overlaps other git work (a pre-commit hook counts milliseconds).
pub struct CatFile {
    child: Child,
    reader: BufReader<ChildStdout>,
}

impl CatFile {
    pub fn spawn() -> Result<CatFile, GitError> {
        let mut child = git(&["cat-file", "--batch"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(cat_file_error)?;
        let stdout = child.stdout.take().ok_or_else(|| GitError::Parse {
            command: CAT_FILE.into(),
        })?;
        Ok(CatFile {
            child,
            reader: BufReader::with_capacity(1 << 20, stdout),
        })
    }

    /// Writes the requests from a thread, so that git's answers can be read meanwhile.
    pub fn request(&mut self, ids: Vec<String>) -> std::thread::JoinHandle<()> {
        let stdin = self.child.stdin.take();
        std::thread::spawn(move || {
            if let Some(stdin) = stdin {
                let mut stdin = std::io::BufWriter::new(stdin);
                for id in ids {
                    if writeln!(stdin, "{id}").is_err() {
                        return;
                    }
                }
            }
        })
    }

    /// The next blob, read into `buffer` (reused); one over `max_size` is skipped unread. A
    /// missing object is an error.
    pub fn next_blob(
        &mut self,
        max_size: Option<u64>,
        mut buffer: Vec<u8>,
    ) -> Result<Blob, GitError> {
        let mut header = String::new();
        self.reader.read_line(&mut header).map_err(cat_file_error)?;
        let size: u64 = match header.split_whitespace().collect::<Vec<_>>()[..] {
            [_, "blob", size] => size.parse().map_err(|_| GitError::Parse {
                command: CAT_FILE.into(),
            })?,
            _ => {
                return Err(GitError::Failed {
                    command: CAT_FILE.into(),
                    stderr: header.trim().to_string(),
                });
            }
        };
        if max_size.is_some_and(|limit| size > limit) {
            std::io::copy(&mut (&mut self.reader).take(size + 1), &mut std::io::sink())
                .map_err(cat_file_error)?;
            return Ok(Blob::TooLarge(size));
        }
        buffer.clear();
        buffer.resize(size as usize + 1, 0);
        self.reader
            .read_exact(&mut buffer)
            .map_err(cat_file_error)?;
        buffer.pop();
        Ok(Blob::Content(buffer))
    }

    /// Reads every blob of `ids`, in order.
    pub fn read_all(mut self, ids: Vec<String>) -> Result<Vec<Vec<u8>>, GitError> {
        let count = ids.len();
        let writer = self.request(ids);
        let mut blobs = Vec::with_capacity(count);
        for _ in 0..count {
            if let Blob::Content(content) = self.next_blob(None, Vec::new())? {
                blobs.push(content);
            }
        }
        let _ = writer.join();
        self.finish();
        Ok(blobs)
    }

    pub fn finish(mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_diff_records_are_parsed() {
        let zero = "0".repeat(40);
        let (a, b) = ("a".repeat(40), "b".repeat(40));
        let raw = format!(
            ":000000 100644 {zero} {a} A\0new file.py\0:100644 100644 {a} {b} R087\0old.py\0moved\nname.py\0:100644 000000 {a} {zero} D\0gone.py\0"
        );
        let changes = parse_raw_diff(raw.as_bytes()).unwrap();
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].path, b"new file.py");
        assert!(changes[0].old_blob.is_none());
        assert_eq!(changes[1].path, b"moved\nname.py");
        assert_eq!(changes[1].old_blob.as_deref(), Some(a.as_str()));
    }
}
