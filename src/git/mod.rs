//! Git plumbing: the staged changes and the blobs they point at, read the way git itself sees
//! them (through `git`, so `GIT_INDEX_FILE`, worktrees and the user's configuration apply), and
//! the streams a history scan reads (every reachable blob in pack order, commit logs).
//! `filter_process` speaks git's long-running filter protocol.

pub mod filter_process;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStderr, ChildStdout, Command, Stdio};

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
    #[error(
        "not a git repository (nor any parent directory): run mlguard inside a git clone, or `git init` to create one"
    )]
    NotARepository,
}

/// What git prints when it is run outside a repository (`rev-parse`, `log`, `config --local`).
fn outside_repository(stderr: &str) -> bool {
    stderr.contains("not a git repository")
        || stderr.contains("can only be used inside a git repository")
}

/// A failed command's error: outside a repository that is what the user needs to hear, not
/// git's command line.
fn failure(command: &str, stderr: &[u8]) -> GitError {
    let stderr = String::from_utf8_lossy(stderr).trim().to_string();
    if outside_repository(&stderr) {
        return GitError::NotARepository;
    }
    GitError::Failed {
        command: command.to_string(),
        stderr,
    }
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
        return Err(failure(command, &result.stderr));
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

/// A git command whose stdout is read as a stream (`git log` over a whole history). Its stderr
/// is drained by a thread, so a chatty git never blocks, and is kept for the error message.
/// Missing objects are never fetched from a promisor remote (`GIT_NO_LAZY_FETCH`): a scan runs
/// without network, and reports what it could not read instead.
pub struct Stream {
    child: Child,
    command: String,
    stderr: Option<std::thread::JoinHandle<Vec<u8>>>,
}

/// At most this much of a command's stderr is kept for its error message.
const STDERR_KEPT: usize = 16 << 10;

fn drain(stderr: Option<ChildStderr>) -> Option<std::thread::JoinHandle<Vec<u8>>> {
    let stderr = stderr?;
    Some(std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buffer = [0u8; 4096];
        let mut stderr = stderr;
        while let Ok(n) = stderr.read(&mut buffer) {
            if n == 0 {
                break;
            }
            let room = STDERR_KEPT.saturating_sub(kept.len());
            kept.extend_from_slice(&buffer[..n.min(room)]);
        }
        kept
    }))
}

impl Stream {
    pub fn spawn(args: &[&str]) -> Result<(Stream, ChildStdout), GitError> {
        Stream::spawn_with_input(args, Stdio::null())
    }

    /// Like `spawn`, with stdin from `input` (another command's stdout, or a pipe we write).
    pub fn spawn_with_input(
        args: &[&str],
        input: impl Into<Stdio>,
    ) -> Result<(Stream, ChildStdout), GitError> {
        let command = args.join(" ");
        let mut child = git(args)
            .env("GIT_NO_LAZY_FETCH", "1")
            .stdin(input)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_error(&command))?;
        let stderr = drain(child.stderr.take());
        let stdout = child.stdout.take().ok_or_else(|| GitError::Parse {
            command: command.clone(),
        })?;
        Ok((
            Stream {
                child,
                command,
                stderr,
            },
            stdout,
        ))
    }

    pub fn command(&self) -> &str {
        &self.command
    }

    /// The pipe to the command's stdin, when it was spawned with `Stdio::piped()`.
    pub fn stdin(&mut self) -> Option<std::process::ChildStdin> {
        self.child.stdin.take()
    }

    /// Waits for the command; a failure is reported with git's stderr.
    pub fn finish(mut self) -> Result<(), GitError> {
        drop(self.child.stdin.take());
        let status = self.child.wait().map_err(spawn_error(&self.command))?;
        let stderr = self
            .stderr
            .take()
            .and_then(|handle| handle.join().ok())
            .unwrap_or_default();
        if status.success() {
            Ok(())
        } else {
            Err(failure(&self.command, &stderr))
        }
    }

    /// Stops the command early (its output is no longer wanted) and reaps it.
    pub fn kill(mut self) {
        self.stop();
        let _ = self.child.wait();
    }

    /// Stops the command without waiting for it (`finish` or `kill` still reap it).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
    }
}

/// A git object id in binary (SHA-1 or SHA-256): 33 bytes, where the hex string took a
/// 40- or 64-byte heap allocation and a pointer. History scans key their tables by it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Oid {
    len: u8,
    bytes: [u8; 32],
}

impl Oid {
    /// Parses a full hex object id (40 or 64 digits).
    pub fn from_hex(hex: &[u8]) -> Option<Oid> {
        if hex.len() != 40 && hex.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, pair) in hex.chunks_exact(2).enumerate() {
            let digit = |c: u8| (c as char).to_digit(16);
            bytes[i] = (digit(pair[0])? << 4 | digit(pair[1])?) as u8;
        }
        Some(Oid {
            len: (hex.len() / 2) as u8,
            bytes,
        })
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The all-zero id git uses for "no object".
    pub fn is_null(&self) -> bool {
        self.as_bytes().iter().all(|&b| b == 0)
    }

    pub fn to_hex(&self) -> String {
        let mut hex = Vec::with_capacity(64);
        self.push_hex(&mut hex);
        String::from_utf8(hex).unwrap_or_default()
    }

    /// Appends the id in lowercase hex (what a history scan writes for every blob it asks for).
    pub fn push_hex(&self, out: &mut Vec<u8>) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for &byte in self.as_bytes() {
            out.push(DIGITS[usize::from(byte >> 4)]);
            out.push(DIGITS[usize::from(byte & 15)]);
        }
    }
}

impl std::fmt::Display for Oid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl std::fmt::Debug for Oid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Oid({self})")
    }
}

/// The `--batch` format of the streams below: the input line's text after the object name
/// (`%(rest)`, a path) comes back in the header, so no table maps answers to requests.
const BATCH_FORMAT: &str = "--batch=%(objectname) %(objecttype) %(objectsize) %(rest)";

/// One header of a `cat-file --batch` stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Header {
    /// An object whose `size` bytes of content follow; `rest` is the request's text after the
    /// object name (read it with `BatchReader::rest`).
    Object { oid: Oid, blob: bool, size: u64 },
    /// An object the repository does not have (a partial clone, a damaged repository); `name`
    /// is the request as git echoed it.
    Missing { name: String },
}

/// A pipe from git read in large pieces. `cat-file` writes each object in several small
/// writes, and a reader waiting on the pipe is woken for every one of them: for a history of
/// small blobs those wake-ups cost more than the reading. After a short read this reader lets
/// the pipe fill for a moment before reading again, so git writes without waking anyone.
struct Patient {
    pipe: ChildStdout,
    short: bool,
}

impl Patient {
    /// A read shorter than this means git is slower than we are.
    const SHORT: usize = 32 << 10;
    /// Long enough for git to write tens of kilobytes, far shorter than a pipe takes to fill.
    const PAUSE: std::time::Duration = std::time::Duration::from_micros(200);
}

impl Read for Patient {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        if self.short {
            std::thread::sleep(Self::PAUSE);
        }
        let read = self.pipe.read(buffer)?;
        self.short = read > 0 && read < Self::SHORT.min(buffer.len());
        Ok(read)
    }
}

/// Reads `cat-file --batch` answers: headers, then content into reused buffers or skipped.
pub struct BatchReader {
    reader: BufReader<Patient>,
    line: Vec<u8>,
    rest: std::ops::Range<usize>,
    command: &'static str,
}

impl BatchReader {
    fn new(stdout: ChildStdout, command: &'static str) -> Self {
        let pipe = Patient {
            pipe: stdout,
            short: false,
        };
        BatchReader {
            reader: BufReader::with_capacity(1 << 20, pipe),
            line: Vec::with_capacity(256),
            rest: 0..0,
            command,
        }
    }

    fn io_error(&self, source: std::io::Error) -> GitError {
        GitError::Spawn {
            command: self.command.into(),
            source,
        }
    }

    /// The next header; `None` at the end of the stream.
    pub fn next_header(&mut self) -> Result<Option<Header>, GitError> {
        self.line.clear();
        let read = self
            .reader
            .read_until(b'\n', &mut self.line)
            .map_err(|e| self.io_error(e))?;
        if read == 0 {
            return Ok(None);
        }
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
        }
        let parse_error = || GitError::Parse {
            command: self.command.into(),
        };
        let mut fields = self.line.splitn(4, |&b| b == b' ');
        let name = fields.next().unwrap_or_default();
        let kind = fields.next().unwrap_or_default();
        if kind == b"missing" || kind == b"ambiguous" {
            return Ok(Some(Header::Missing {
                name: String::from_utf8_lossy(name).into_owned(),
            }));
        }
        let oid = Oid::from_hex(name).ok_or_else(parse_error)?;
        let blob = kind == b"blob";
        let size = fields
            .next()
            .and_then(|s| std::str::from_utf8(s).ok())
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(parse_error)?;
        let base = self.line.as_ptr() as usize;
        self.rest = match fields.next() {
            Some(rest) => {
                let start = rest.as_ptr() as usize - base;
                start..start + rest.len()
            }
            None => 0..0,
        };
        Ok(Some(Header::Object { oid, blob, size }))
    }

    /// The request's text after the object name, for the last `Header::Object`.
    pub fn rest(&self) -> &[u8] {
        self.line.get(self.rest.clone()).unwrap_or_default()
    }

    /// Appends the content announced by the last header to `buffer`.
    pub fn read_content(&mut self, size: u64, buffer: &mut Vec<u8>) -> Result<(), GitError> {
        let size = usize::try_from(size).map_err(|_| GitError::Parse {
            command: self.command.into(),
        })?;
        buffer.reserve(size + 1);
        let read = (&mut self.reader)
            .take(size as u64 + 1)
            .read_to_end(buffer)
            .map_err(|e| self.io_error(e))?;
        if read != size + 1 {
            return Err(self.io_error(std::io::ErrorKind::UnexpectedEof.into()));
        }
        buffer.pop();
        Ok(())
    }

    /// Hands the content announced by the last header to `consume` as a stream (for content
    /// too large to hold); what `consume` leaves unread is skipped.
    pub fn stream_content<R>(
        &mut self,
        size: u64,
        consume: impl FnOnce(&mut dyn Read) -> R,
    ) -> Result<R, GitError> {
        let mut content = (&mut self.reader).take(size);
        let result = consume(&mut content);
        let drained =
            std::io::copy(&mut content, &mut std::io::sink()).and_then(|_| match content.limit() {
                0 => Ok(()),
                _ => Err(std::io::ErrorKind::UnexpectedEof.into()),
            });
        drained.map_err(|e| self.io_error(e))?;
        let mut newline = [0u8; 1];
        self.reader
            .read_exact(&mut newline)
            .map_err(|e| self.io_error(e))?;
        Ok(result)
    }

    /// Skips the content announced by the last header without holding it.
    pub fn skip_content(&mut self, size: u64) -> Result<(), GitError> {
        let skipped = std::io::copy(&mut (&mut self.reader).take(size + 1), &mut std::io::sink())
            .map_err(|e| self.io_error(e))?;
        if skipped != size + 1 {
            return Err(self.io_error(std::io::ErrorKind::UnexpectedEof.into()));
        }
        Ok(())
    }
}

/// A `cat-file --batch` we feed ourselves: requests go in through `requests()` (from another
/// thread), answers come out of `reader` in the same order.
pub struct BatchStream {
    pub reader: BatchReader,
    process: Stream,
}

impl BatchStream {
    pub fn spawn() -> Result<(BatchStream, std::process::ChildStdin), GitError> {
        let (mut process, stdout) =
            Stream::spawn_with_input(&["cat-file", BATCH_FORMAT, "--buffer"], Stdio::piped())?;
        widen_pipe(&stdout);
        let stdin = process.stdin().ok_or_else(|| GitError::Parse {
            command: "cat-file --batch".into(),
        })?;
        Ok((
            BatchStream {
                reader: BatchReader::new(stdout, "cat-file --batch"),
                process,
            },
            stdin,
        ))
    }

    pub fn finish(self) -> Result<(), GitError> {
        let BatchStream { reader, process } = self;
        drop(reader);
        process.finish()
    }

    /// Stops `cat-file` now, so a thread blocked writing requests gets an error.
    pub fn stop(&mut self) {
        self.process.stop();
    }
}

/// The size asked for a bulk pipe: Linux's default limit for an unprivileged process
/// (`/proc/sys/fs/pipe-max-size`).
#[cfg(target_os = "linux")]
const WIDE_PIPE: libc::c_int = 1 << 20;

/// Asks the kernel for a 1 MiB pipe instead of 64 KiB where `cat-file` streams every blob of a
/// history: git and mlguard then wake each other half as often (on the 500-commit benchmark,
/// 12,000 context switches become 6,000 and the scan takes a sixth less time). Best effort:
/// where the kernel refuses (a user's pipe quota is spent) the pipe keeps its size and works as
/// before.
#[cfg(target_os = "linux")]
fn widen_pipe(pipe: &ChildStdout) {
    use std::os::fd::AsRawFd;
    // SAFETY: F_SETPIPE_SZ on a descriptor this process owns for the call's duration; it reads
    // no memory, and a failure only leaves the pipe as it was.
    unsafe {
        libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, WIDE_PIPE);
    }
}

#[cfg(not(target_os = "linux"))]
fn widen_pipe(_pipe: &ChildStdout) {}

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
        CatFile::spawn_with(&[])
    }

    /// For history scans: a missing object is reported, never fetched from a promisor remote.
    pub fn spawn_offline() -> Result<CatFile, GitError> {
        CatFile::spawn_with(&[("GIT_NO_LAZY_FETCH", "1")])
    }

    fn spawn_with(env: &[(&str, &str)]) -> Result<CatFile, GitError> {
        let mut child = git(&["cat-file", "--batch"])
            .envs(env.iter().copied())
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

    /// Reads one blob now (the process answers each request as it comes, so requests and
    /// reads can alternate); a missing object is an error.
    pub fn read_one(
        &mut self,
        id: &str,
        max_size: Option<u64>,
        buffer: Vec<u8>,
    ) -> Result<Blob, GitError> {
        let stdin = self.child.stdin.as_mut().ok_or_else(|| GitError::Parse {
            command: CAT_FILE.into(),
        })?;
        writeln!(stdin, "{id}")
            .and_then(|()| stdin.flush())
            .map_err(cat_file_error)?;
        self.next_blob(max_size, buffer)
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
