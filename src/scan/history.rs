//! Scanning git history: the commits of a range (what CI sees on a push) or every blob reachable
//! from any ref, each distinct blob scanned once, and for each secret its exposure: the commit
//! that introduced it, the last one that still holds it, its paths, whether HEAD holds it, and
//! how many commits carry it.
//!
//! The cost has to stay below reading the history once, in memory that does not grow with it:
//! - `--history` reads every reachable blob through `git rev-list --objects | git cat-file
//!   --batch`, piped from one git into the other, in traversal order (the order packs are
//!   written in, so delta bases come before their deltas). Each header carries the blob's path,
//!   so mlguard keeps no table of blobs at all; content streams through reused buffers into
//!   scanner threads on every core.
//! - `--range` streams `git log --raw` over the range and feeds the added blobs to one
//!   `cat-file`; for an edited file the old version is read only when the new one has findings.
//! - Only the blobs that hold a secret are followed back to commits, afterwards: one `git log
//!   --raw --find-object` pass lists the commits that add or remove them, and one pass over the
//!   commit graph derives which commits hold them (each commit's tree is its first parent's plus
//!   its own changes), so no tree is read and only commits holding a secret are remembered.
//!
//! Missing objects (a partial clone, a damaged repository) are never fetched: what could be read
//! is scanned and reported, and what could not is named (the scan then exits 2).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::engine::{Examined, Scanner, Unscanned};
use super::finding::{CommitInfo, Exposure, Finding};
use super::sources::SourceOptions;
use crate::git::{self, BatchStream, Blob, CatFile, GitError, Header, Oid, Stream};
use crate::parallel::{self, Panicked};

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Panicked(#[from] Panicked),
    #[error("--range {spec}: {reason}")]
    Range { spec: String, reason: String },
}

/// Which commits to scan.
#[derive(Debug, Clone)]
pub enum Selection {
    /// `A..B`: the commits of B not in A (an all-zero or empty A means from the root); also
    /// `A...B` and a single revision (everything it reaches).
    Range(String),
    /// Every commit reachable from any ref.
    All,
}

/// A blob over `max_file_size`, scanned in chunks rather than read whole; reported as a note.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub path: String,
    pub size: u64,
}

/// Content that could not be read: a missing object, or a git command that failed midway.
#[derive(Debug, Clone)]
pub struct Unreadable {
    /// The object id (with its path when known), or the command.
    pub what: String,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct HistoryReport {
    /// One finding per secret (rule and value), at the place it was first seen, with its
    /// exposure filled in, oldest first.
    pub findings: Vec<Finding>,
    /// Blobs over `max_file_size`: not read whole (nor parsed as notebooks) but scanned in
    /// chunks as they stream from git.
    pub skipped: Vec<Skipped>,
    /// Blobs whose content could not be looked into (compressed archives), by path.
    pub unscanned: Vec<(String, Unscanned)>,
    /// What could not be read; when not empty the scan is incomplete (exit 2).
    pub unreadable: Vec<Unreadable>,
    /// Things the user must know: a shallow clone, an empty range.
    pub notes: Vec<String>,
    pub blobs_scanned: usize,
    pub bytes_scanned: u64,
}

/// Where a long scan is, for a progress line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading and scanning blobs.
    Scanning,
    /// Following the secrets found back to the commits that hold them.
    Following,
}

#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub phase: Phase,
    pub blobs: u64,
    pub bytes: u64,
    pub elapsed: Duration,
}

/// Receives progress a few times a second (never per blob), from the thread reading git.
pub type ProgressSink<'a> = &'a (dyn Fn(&Progress) + Sync);

/// Scans the selected history and computes each secret's exposure.
pub fn scan_history(
    scanner: &Scanner,
    selection: &Selection,
    options: &SourceOptions,
    progress: Option<ProgressSink>,
) -> Result<HistoryReport, HistoryError> {
    let mut report = HistoryReport::default();
    // `--history` needs neither answer before it starts reading: whether the clone is shallow
    // (a note) and HEAD's id (for exposure) are asked while the history is read.
    let (revisions, shallow, head) = match selection {
        Selection::All => (
            vec!["--all".to_string()],
            Some(Stream::spawn(&["rev-parse", "--is-shallow-repository"])?),
            Some(Stream::spawn(&["rev-parse", "--verify", "-q", "HEAD"])?),
        ),
        Selection::Range(_) => {
            let shallow = git::text(&["rev-parse", "--is-shallow-repository"])? == "true";
            (resolve(selection, shallow, &mut report.notes)?, None, None)
        }
    };
    let revisions: Vec<&str> = revisions.iter().map(String::as_str).collect();
    let meter = Meter::new(progress);
    let scanned = match selection {
        Selection::All => run_scanners(scanner, options, |sender, pool| {
            read_blobs(
                scanner,
                Source::All(&revisions),
                options,
                &meter,
                sender,
                pool,
            )
        })?,
        Selection::Range(spec) => {
            let scanned = run_scanners(scanner, options, |sender, pool| {
                read_blobs(
                    scanner,
                    Source::Range(&revisions),
                    options,
                    &meter,
                    sender,
                    pool,
                )
            })?;
            if scanned.produced.commits == 0 && scanned.produced.unreadable.is_empty() {
                report
                    .notes
                    .push(format!("the range {spec} holds no commit: nothing to scan"));
            }
            scanned
        }
    };
    let Scanned {
        found,
        unscanned,
        produced,
    } = scanned;
    report.unscanned = unscanned;
    report.unscanned.extend(produced.unscanned);
    report.unscanned.sort_by(|a, b| a.0.cmp(&b.0));
    report.skipped = produced.skipped;
    report.unreadable = produced.unreadable;
    report.blobs_scanned = produced.blobs;
    report.bytes_scanned = produced.bytes;
    if let Some(stream) = shallow {
        // Outside a repository this is where the scan says so (the listing failed too).
        if stream_text(stream)? == "true" {
            resolve(selection, true, &mut report.notes)?;
        }
    }
    let mut found = found;
    found.extend(produced.found);
    let head = match head {
        Some(stream) => HeadCheck::Commit(stream_oid(stream)),
        None => HeadCheck::Tree,
    };
    if found.is_empty() {
        return Ok(report);
    }
    meter.report(Phase::Following);
    let groups = Groups::new(found);
    let partial = !report.unreadable.is_empty();
    let follow = follow_blobs(&revisions, &groups, options, head, partial)?;
    report.findings = place_findings(groups, follow);
    Ok(report)
}

/// What a command printed, trimmed; its failure (with git's message) is an error.
fn stream_text(
    (stream, mut output): (Stream, std::process::ChildStdout),
) -> Result<String, GitError> {
    let mut text = Vec::new();
    let read = output.read_to_end(&mut text);
    let command = stream.command().to_string();
    stream.finish()?;
    read.map_err(|source| GitError::Spawn { command, source })?;
    Ok(String::from_utf8_lossy(&text).trim().to_string())
}

/// The object id a command such as `git rev-parse --verify HEAD` printed; `None` when it
/// printed none (an unborn branch).
fn stream_oid(spawned: (Stream, std::process::ChildStdout)) -> Option<Oid> {
    Oid::from_hex(stream_text(spawned).ok()?.as_bytes())
}

/// The revisions to walk, as arguments no git command can take for options: `--all`, or
/// commit ids that `git rev-parse --verify --end-of-options` resolved.
fn resolve(
    selection: &Selection,
    shallow: bool,
    notes: &mut Vec<String>,
) -> Result<Vec<String>, HistoryError> {
    const SHALLOW: &str = "this clone is shallow: commits before its boundary are not in it and were not scanned; fetch the whole history (`git fetch --unshallow`, or `fetch-depth: 0` for actions/checkout, `GIT_DEPTH: 0` in GitLab CI) and scan again";
    let spec = match selection {
        Selection::All => {
            if shallow {
                notes.push(SHALLOW.into());
            }
            return Ok(vec!["--all".into()]);
        }
        Selection::Range(spec) => spec,
    };
    let parts = split_spec(spec);
    let error = |reason: String| HistoryError::Range {
        spec: spec.clone(),
        reason,
    };
    if parts.tip.starts_with('^') {
        return Err(error(format!(
            "`{}` only excludes commits, so the range names no commit to scan; write BASE..TIP",
            parts.tip
        )));
    }
    let verify = |rev: &str| -> Result<String, HistoryError> {
        let resolved = git::text(&[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{rev}^{{commit}}"),
        ]);
        match resolved {
            Ok(id) if Oid::from_hex(id.as_bytes()).is_some() => Ok(id),
            Err(GitError::NotARepository) => Err(GitError::NotARepository.into()),
            _ => Err(error(format!(
                "`{rev}` is not a commit in this repository{}",
                if shallow {
                    " (this clone is shallow: fetch the whole history with `git fetch --unshallow`, or `fetch-depth: 0` for actions/checkout)"
                } else {
                    ""
                }
            ))),
        }
    };
    let tip = verify(parts.tip)?;
    let base = match parts.base {
        Some(base) if !base.is_empty() && !base.bytes().all(|b| b == b'0') => Some(verify(base)?),
        _ => None,
    };
    Ok(match base {
        None => {
            if shallow {
                notes.push(SHALLOW.into());
            }
            vec![tip]
        }
        Some(base) if parts.symmetric => vec![format!("{base}...{tip}")],
        Some(base) => vec![tip, format!("^{base}")],
    })
}

/// A range as written: `BASE..TIP`, `BASE...TIP`, or a single revision.
#[derive(Debug, PartialEq, Eq)]
struct SpecParts<'a> {
    base: Option<&'a str>,
    tip: &'a str,
    symmetric: bool,
}

fn split_spec(spec: &str) -> SpecParts<'_> {
    let (base, tip, symmetric) = if let Some((base, tip)) = spec.split_once("...") {
        (Some(base), tip, true)
    } else if let Some((base, tip)) = spec.split_once("..") {
        (Some(base), tip, false)
    } else {
        (None, spec, false)
    };
    SpecParts {
        base,
        tip: if tip.is_empty() { "HEAD" } else { tip },
        symmetric,
    }
}

/// Counts what was read (from every reader thread) and calls the progress sink at most every
/// 200 ms.
struct Meter<'p> {
    sink: Option<ProgressSink<'p>>,
    start: Instant,
    last: Mutex<Instant>,
    blobs: AtomicU64,
    bytes: AtomicU64,
}

impl<'p> Meter<'p> {
    const EVERY: Duration = Duration::from_millis(200);

    fn new(sink: Option<ProgressSink<'p>>) -> Self {
        let now = Instant::now();
        Meter {
            sink,
            start: now,
            last: Mutex::new(now),
            blobs: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    fn add(&self, bytes: u64) {
        let blobs = self.blobs.fetch_add(1, Ordering::Relaxed) + 1;
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        // Looking at the clock every 256 blobs (or after a large one) keeps it out of the profile.
        if self.sink.is_some() && (blobs % 256 == 0 || bytes > 1 << 20) {
            let due = self.last.try_lock().is_ok_and(|mut last| {
                let due = last.elapsed() >= Self::EVERY;
                if due {
                    *last = Instant::now();
                }
                due
            });
            if due {
                self.report(Phase::Scanning);
            }
        }
    }

    fn report(&self, phase: Phase) {
        if let Some(sink) = self.sink {
            sink(&Progress {
                phase,
                blobs: self.blobs.load(Ordering::Relaxed),
                bytes: self.bytes.load(Ordering::Relaxed),
                elapsed: self.start.elapsed(),
            });
        }
    }
}

/// A blob's place in a batch: its id, the version it replaced (range mode), its path, and
/// where its content ends in the batch's data.
struct Meta {
    oid: Oid,
    old: Option<Oid>,
    path: String,
    end: usize,
}

/// Blobs on their way to a scanner, several small ones at a time in one buffer: handing a
/// history's many small blobs over one by one costs more in thread wake-ups than scanning them.
#[derive(Default)]
struct Batch {
    blobs: Vec<Meta>,
    data: Vec<u8>,
}

impl Batch {
    const BYTES: usize = 1 << 19;
    const BLOBS: usize = 128;

    fn is_full(&self) -> bool {
        self.data.len() >= Self::BYTES || self.blobs.len() >= Self::BLOBS
    }

    /// Each blob with its content.
    fn each(&self) -> impl Iterator<Item = (&Meta, &[u8])> {
        let mut start = 0;
        self.blobs.iter().map(move |meta| {
            let content = &self.data[start..meta.end];
            start = meta.end;
            (meta, content)
        })
    }
}

/// The reading side's end of the channel: fills batches from a `cat-file` stream and sends
/// them when full.
struct Outbox<'a> {
    sender: &'a SyncSender<Batch>,
    pool: &'a BufferPool,
    current: Batch,
}

impl<'a> Outbox<'a> {
    fn new(sender: &'a SyncSender<Batch>, pool: &'a BufferPool) -> Result<Self, Panicked> {
        Ok(Outbox {
            sender,
            pool,
            current: pool.take()?,
        })
    }

    /// Reads the blob announced by the reader's last header into the current batch. `Ok(false)`:
    /// the scanners have stopped.
    fn add(
        &mut self,
        reader: &mut git::BatchReader,
        oid: Oid,
        old: Option<Oid>,
        path: String,
        size: u64,
    ) -> Result<bool, HistoryError> {
        let start = self.current.data.len();
        if let Err(e) = reader.read_content(size, &mut self.current.data) {
            self.current.data.truncate(start);
            return Err(e.into());
        }
        let end = self.current.data.len();
        self.current.blobs.push(Meta {
            oid,
            old,
            path,
            end,
        });
        if self.current.is_full() {
            return self.send();
        }
        Ok(true)
    }

    fn send(&mut self) -> Result<bool, HistoryError> {
        if self.current.blobs.is_empty() {
            return Ok(true);
        }
        let full = std::mem::replace(&mut self.current, self.pool.take()?);
        Ok(self.sender.send(full).is_ok())
    }
}

/// A finding and the blob it was found in; `novel` when the blob's old version (range mode)
/// did not hold the same secret.
struct Found {
    blob: Oid,
    finding: Finding,
    novel: bool,
}

/// What the reading side reports besides the blobs it handed over.
#[derive(Default)]
struct Produced {
    /// Findings in blobs scanned as they streamed (those over `max_file_size`).
    found: Vec<Found>,
    unscanned: Vec<(String, Unscanned)>,
    skipped: Vec<Skipped>,
    unreadable: Vec<Unreadable>,
    blobs: usize,
    bytes: u64,
    commits: usize,
}

impl Produced {
    fn merge(&mut self, other: Produced) {
        self.found.extend(other.found);
        self.unscanned.extend(other.unscanned);
        self.skipped.extend(other.skipped);
        self.unreadable.extend(other.unreadable);
        self.blobs += other.blobs;
        self.bytes += other.bytes;
        self.commits += other.commits;
    }
}

struct Scanned {
    found: Vec<Found>,
    unscanned: Vec<(String, Unscanned)>,
    produced: Produced,
}

/// Reused batches, so that streaming a history does not leave the allocator holding hundreds
/// of megabytes of freed blobs.
#[derive(Default)]
struct BufferPool(Mutex<Vec<Batch>>);

impl BufferPool {
    const KEEP: usize = 16;
    const LARGEST: usize = 16 << 20;

    fn take(&self) -> Result<Batch, Panicked> {
        Ok(parallel::lock(&self.0)?.pop().unwrap_or_default())
    }

    fn give(&self, mut batch: Batch) -> Result<(), Panicked> {
        batch.blobs.clear();
        batch.data.clear();
        let mut pool = parallel::lock(&self.0)?;
        if pool.len() < Self::KEEP && batch.data.capacity() <= Self::LARGEST {
            pool.push(batch);
        }
        Ok(())
    }
}

/// Runs `produce` (the reading side) on this thread and scanner threads on every core; each
/// scanner's result is joined, so a panic anywhere fails the scan instead of losing findings.
fn run_scanners(
    scanner: &Scanner,
    options: &SourceOptions,
    produce: impl FnOnce(&SyncSender<Batch>, &BufferPool) -> Result<Produced, HistoryError>,
) -> Result<Scanned, HistoryError> {
    let threads = parallel::threads_for(usize::MAX);
    let pool = BufferPool::default();
    let old_reader: Mutex<Option<CatFile>> = Mutex::new(None);
    let (sender, receiver) = sync_channel::<Batch>(threads * 2);
    // Each scanner holds the receiver; when every scanner has ended (even by a panic) the
    // receiver is dropped and the reader's sends fail instead of blocking forever.
    let receiver = Arc::new(Mutex::new(receiver));
    let (found, produced) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let receiver = Arc::clone(&receiver);
                let (pool, old_reader) = (&pool, &old_reader);
                scope.spawn(move || scan_received(scanner, options, &receiver, pool, old_reader))
            })
            .collect();
        drop(receiver);
        let produced = produce(&sender, &pool);
        drop(sender);
        let mut found = Vec::new();
        let mut unscanned = Vec::new();
        let mut failure = None;
        for handle in handles {
            match handle.join() {
                Ok(Ok((part, not_scanned))) => {
                    found.extend(part);
                    unscanned.extend(not_scanned);
                }
                Ok(Err(e)) => failure = failure.or(Some(e)),
                Err(_) => {
                    failure = failure.or(Some(HistoryError::Panicked(Panicked {
                        message: "a history scanner".into(),
                    })))
                }
            }
        }
        match failure {
            Some(e) => (Err(e), produced),
            None => (Ok((found, unscanned)), produced),
        }
    });
    if let Ok(Some(reader)) = old_reader.into_inner() {
        reader.finish();
    }
    let (found, unscanned) = found?;
    Ok(Scanned {
        found,
        unscanned,
        produced: produced?,
    })
}

/// What a scanner thread found, and the blobs it could not look into, by path.
type ScannerResult = (Vec<Found>, Vec<(String, Unscanned)>);

/// One scanner thread: scans blobs as they arrive until the readers are done. In range mode a
/// blob with findings is compared with its old version, read only then.
fn scan_received(
    scanner: &Scanner,
    options: &SourceOptions,
    receiver: &Mutex<Receiver<Batch>>,
    pool: &BufferPool,
    old_reader: &Mutex<Option<CatFile>>,
) -> Result<ScannerResult, HistoryError> {
    let mut found = Vec::new();
    let mut unscanned = Vec::new();
    loop {
        let next = parallel::lock(receiver)?.recv();
        let Ok(batch) = next else {
            return Ok((found, unscanned));
        };
        for (meta, content) in batch.each() {
            parallel::debug_fault(&meta.path);
            let examined = scanner.examine(&meta.path, content);
            if let Some(reason) = examined.unscanned {
                unscanned.push((meta.path.clone(), reason));
            }
            let old = meta.old.filter(|_| !examined.findings.is_empty());
            let old_secrets = match old {
                Some(old) => old_secrets(scanner, old_reader, old, &meta.path, options)?,
                None => HashSet::new(),
            };
            found.extend(found_in(meta.oid, examined.findings, &old_secrets));
        }
        pool.give(batch)?;
    }
}

/// The findings of one blob, each marked novel unless its old version held the same secret.
fn found_in(
    blob: Oid,
    findings: Vec<Finding>,
    old_secrets: &HashSet<(usize, Vec<u8>)>,
) -> impl Iterator<Item = Found> + '_ {
    findings.into_iter().map(move |finding| Found {
        blob,
        novel: !old_secrets.contains(&(finding.rule, finding.secret.clone())),
        finding,
    })
}

/// The secrets of a changed file's old version (under the same path, so the same rules
/// apply), read through one shared `cat-file` started on first use (most ranges never need
/// it), or streamed when over `max_file_size`. A version that cannot be read counts as empty,
/// so every secret of the new one is reported: the scan fails closed.
fn old_secrets(
    scanner: &Scanner,
    reader: &Mutex<Option<CatFile>>,
    old: Oid,
    path: &str,
    options: &SourceOptions,
) -> Result<HashSet<(usize, Vec<u8>)>, HistoryError> {
    let secrets = |examined: Examined| {
        examined
            .findings
            .into_iter()
            .map(|f| (f.rule, f.secret))
            .collect()
    };
    let read = {
        let mut reader = parallel::lock(reader)?;
        if reader.is_none() {
            *reader = Some(CatFile::spawn_offline()?);
        }
        match reader
            .as_mut()
            .map(|cat_file| cat_file.read_one(&old.to_hex(), options.max_file_size, Vec::new()))
        {
            Some(Ok(blob)) => Some(blob),
            _ => {
                // A missing object leaves the process usable; anything else may not: start over.
                *reader = None;
                None
            }
        }
    };
    Ok(match read {
        Some(Blob::Content(content)) => secrets(scanner.examine(path, &content)),
        Some(Blob::TooLarge(_)) => match stream_blob(scanner, old, path) {
            Ok(examined) => secrets(examined),
            Err(_) => HashSet::new(),
        },
        None => HashSet::new(),
    })
}

/// Scans a blob over `max_file_size` straight from `git cat-file blob`, in chunks.
fn stream_blob(scanner: &Scanner, blob: Oid, path: &str) -> Result<Examined, GitError> {
    let hex = blob.to_hex();
    let (stream, stdout) = Stream::spawn(&["cat-file", "blob", &hex])?;
    let examined = scanner.examine_reader(path, BufReader::with_capacity(1 << 20, stdout));
    match examined {
        Ok(examined) => {
            stream.finish()?;
            Ok(examined)
        }
        Err(source) => {
            let command = stream.command().to_string();
            stream.kill();
            Err(GitError::Spawn { command, source })
        }
    }
}

/// The `git log` arguments both range passes and the follow pass share: raw changes with full
/// ids, NUL-separated (paths are never quoted), no renames (a rename is a deletion and an
/// addition), merges diffed against their first parent, and nothing a user's configuration
/// could add to the output.
const LOG_RAW: [&str; 11] = [
    "-c",
    "log.showSignature=false",
    "log",
    "-z",
    "--raw",
    "--no-abbrev",
    "--no-renames",
    "--no-color",
    "--no-ext-diff",
    "--diff-merges=first-parent",
    "--format=%x01%H",
];

/// One raw change record of `git log -z --raw`.
struct RawChange {
    old: Option<Oid>,
    new: Option<Oid>,
}

/// `:old_mode new_mode old new status`; gitlinks (submodules) and absent sides are `None`.
fn parse_raw(meta: &[u8]) -> Option<RawChange> {
    let meta = meta.strip_prefix(b":")?;
    let mut fields = meta.split(|&b| b == b' ');
    let (old_mode, new_mode) = (fields.next()?, fields.next()?);
    let (old, new) = (fields.next()?, fields.next()?);
    let blob = |mode: &[u8], id: &[u8]| {
        if mode == b"000000" || mode == b"160000" {
            return None;
        }
        Oid::from_hex(id).filter(|oid| !oid.is_null())
    };
    Some(RawChange {
        old: blob(old_mode, old),
        new: blob(new_mode, new),
    })
}

/// A token of `git log -z --raw --format=%x01%H`: a commit, or a change and its path.
enum LogToken {
    Commit(Oid),
    Change(RawChange, Vec<u8>),
}

/// Reads `git log -z --raw` output token by token, reusing one buffer.
struct LogReader<R> {
    input: BufReader<R>,
    buffer: Vec<u8>,
}

impl<R: Read> LogReader<R> {
    fn new(input: R) -> Self {
        LogReader {
            input: BufReader::with_capacity(1 << 16, input),
            buffer: Vec::new(),
        }
    }

    fn field(&mut self) -> std::io::Result<Option<&[u8]>> {
        self.buffer.clear();
        if self.input.read_until(0, &mut self.buffer)? == 0 {
            return Ok(None);
        }
        if self.buffer.last() == Some(&0) {
            self.buffer.pop();
        }
        let start = self.buffer.iter().take_while(|&&b| b == b'\n').count();
        Ok(Some(&self.buffer[start..]))
    }

    fn next_token(&mut self) -> std::io::Result<Option<LogToken>> {
        loop {
            let Some(field) = self.field()? else {
                return Ok(None);
            };
            if let Some(id) = field.strip_prefix(b"\x01") {
                if let Some(oid) = Oid::from_hex(id) {
                    return Ok(Some(LogToken::Commit(oid)));
                }
            } else if field.starts_with(b":") {
                let change = parse_raw(field);
                let path = self.field()?.unwrap_or_default().to_vec();
                if let Some(change) = change {
                    return Ok(Some(LogToken::Change(change, path)));
                }
            }
        }
    }
}

/// A blob requested from a `cat-file`, waiting for its content: its id, the version it
/// replaced (range mode), its path.
struct Job {
    oid: Oid,
    old: Option<Oid>,
    path: String,
}

/// Where the blobs come from.
#[derive(Clone, Copy)]
enum Source<'a> {
    /// `--history`: every blob reachable from the revisions, from `git rev-list --objects`.
    All(&'a [&'a str]),
    /// `--range`: what each commit adds, from `git log --raw`.
    Range(&'a [&'a str]),
}

/// One `cat-file` as the lister sees it: the queue of requested jobs and the request pipe.
struct Requests {
    jobs: Sender<Job>,
    pipe: BufWriter<std::process::ChildStdin>,
}

impl Requests {
    /// Queues the job, then asks for it (the reader pops jobs as the answers come).
    fn send(&mut self, job: Job, line: &mut Vec<u8>) -> bool {
        line.clear();
        job.oid.push_hex(line);
        line.push(b'\n');
        self.jobs.send(job).is_ok() && self.pipe.write_all(line).is_ok()
    }
}

/// The lister's side of every `cat-file`: jobs are spread by path, so the versions of one file
/// (and the delta chains between them) stay in one process.
struct Router {
    outputs: Vec<Requests>,
    line: Vec<u8>,
}

impl Router {
    fn send(&mut self, job: Job) -> bool {
        let hash = job.path.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        let index = (hash % self.outputs.len() as u64) as usize;
        self.outputs[index].send(job, &mut self.line)
    }

    /// Sends what is buffered, so no `cat-file` waits while the lister waits for git.
    fn flush(&mut self) -> bool {
        self.outputs.iter_mut().all(|o| o.pipe.flush().is_ok())
    }
}

/// Reads the blobs of `source` through several `cat-file` processes (decompression is most
/// of a history scan's cost, and one process uses one core) and hands them to the scanners.
/// A lister thread turns git's listing into requests; one reader thread per `cat-file` reads
/// the answers. What cannot be read is reported in `Produced::unreadable`.
fn read_blobs(
    scanner: &Scanner,
    source: Source,
    options: &SourceOptions,
    meter: &Meter,
    sender: &SyncSender<Batch>,
    pool: &BufferPool,
) -> Result<Produced, HistoryError> {
    let count = parallel::threads_for(usize::MAX).clamp(1, 4);
    // The listing starts first: every `cat-file` waits for it.
    let listing = match source {
        Source::All(revisions) => Stream::spawn(&list_all_args(revisions))?,
        Source::Range(revisions) => Stream::spawn(&list_range_args(revisions))?,
    };
    let mut streams = Vec::with_capacity(count);
    let mut outputs = Vec::with_capacity(count);
    let mut queues = Vec::with_capacity(count);
    for _ in 0..count {
        let (stream, stdin) = match BatchStream::spawn() {
            Ok(spawned) => spawned,
            Err(e) => {
                listing.0.kill();
                return Err(e.into());
            }
        };
        let (jobs, queue) = channel::<Job>();
        streams.push(stream);
        outputs.push(Requests {
            jobs,
            pipe: BufWriter::with_capacity(1 << 14, stdin),
        });
        queues.push(queue);
    }
    let router = Router {
        outputs,
        line: Vec::with_capacity(80),
    };
    let mut produced = Produced::default();
    std::thread::scope(|scope| {
        let lister = scope.spawn(move || match source {
            Source::All(_) => list_all(listing, router),
            Source::Range(_) => list_range(listing, router, options),
        });
        let readers: Vec<_> = streams
            .iter_mut()
            .zip(queues)
            .map(|(stream, queue)| {
                scope.spawn(move || {
                    read_stream(scanner, stream, queue, options, meter, sender, pool)
                })
            })
            .collect();
        for reader in readers {
            match reader.join() {
                Ok(part) => produced.merge(part),
                Err(_) => produced.unreadable.push(Unreadable {
                    what: "the history".into(),
                    reason: "a reader thread panicked".into(),
                }),
            }
        }
        match lister.join() {
            Ok(Ok(commits)) => produced.commits = commits,
            Ok(Err(e)) => produced.unreadable.push(Unreadable {
                what: "the listing of the history".into(),
                reason: e.to_string(),
            }),
            Err(_) => produced.unreadable.push(Unreadable {
                what: "the listing of the history".into(),
                reason: "the lister thread panicked".into(),
            }),
        }
    });
    for stream in streams {
        if let Err(e) = stream.finish() {
            if produced.unreadable.is_empty() {
                produced.unreadable.push(Unreadable {
                    what: "the history".into(),
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(produced)
}

/// One reader thread: pops the jobs of its `cat-file` as the answers come and batches the
/// blobs for the scanners. On a failure it stops its `cat-file` (the lister then stops too)
/// and says after how many blobs.
fn read_stream(
    scanner: &Scanner,
    stream: &mut BatchStream,
    queue: Receiver<Job>,
    options: &SourceOptions,
    meter: &Meter,
    sender: &SyncSender<Batch>,
    pool: &BufferPool,
) -> Produced {
    let mut produced = Produced::default();
    let failure = match read_jobs(
        scanner,
        stream,
        queue,
        options,
        meter,
        sender,
        pool,
        &mut produced,
    ) {
        Ok(()) => return produced,
        Err(failure) => failure,
    };
    stream.stop();
    if let Some(reason) = failure {
        produced.unreadable.push(Unreadable {
            what: format!("the history after {} blob(s)", produced.blobs),
            reason,
        });
    }
    produced
}

/// `Err(Some(reason))`: reading failed; `Err(None)`: the scanners stopped (their error is
/// reported).
#[allow(clippy::too_many_arguments)]
fn read_jobs(
    scanner: &Scanner,
    stream: &mut BatchStream,
    queue: Receiver<Job>,
    options: &SourceOptions,
    meter: &Meter,
    sender: &SyncSender<Batch>,
    pool: &BufferPool,
    produced: &mut Produced,
) -> Result<(), Option<String>> {
    let fail = |e: &dyn std::fmt::Display| Some(e.to_string());
    let mut outbox = Outbox::new(sender, pool).map_err(|e| fail(&e))?;
    for job in queue {
        let header = match stream.reader.next_header() {
            Ok(Some(header)) => header,
            Ok(None) => return Err(Some("git cat-file ended early".into())),
            Err(e) => return Err(fail(&e)),
        };
        let (size, blob) = match header {
            Header::Object { oid, size, blob } if oid == job.oid => (size, blob),
            Header::Object { .. } => return Err(Some("git cat-file answered out of order".into())),
            Header::Missing { .. } => {
                produced.unreadable.push(Unreadable {
                    what: if job.path.is_empty() {
                        job.oid.to_hex()
                    } else {
                        format!("{} ({})", job.oid, job.path)
                    },
                    reason: "missing object".into(),
                });
                continue;
            }
        };
        if !blob {
            stream.reader.skip_content(size).map_err(|e| fail(&e))?;
            continue;
        }
        if options.too_large(size) {
            // Scanned here, in chunks, as it streams: it is never held whole.
            let examined = stream
                .reader
                .stream_content(size, |content| scanner.examine_reader(&job.path, content))
                .map_err(|e| fail(&e))?
                .map_err(|e| fail(&e))?;
            if let Some(reason) = examined.unscanned {
                produced.unscanned.push((job.path.clone(), reason));
            }
            let old = job.old.filter(|_| !examined.findings.is_empty());
            let old_secrets = match old {
                Some(old) => {
                    let reader = Mutex::new(None);
                    let secrets = old_secrets(scanner, &reader, old, &job.path, options);
                    if let Ok(Some(reader)) = reader.into_inner() {
                        reader.finish();
                    }
                    secrets.map_err(|e| fail(&e))?
                }
                None => HashSet::new(),
            };
            produced
                .found
                .extend(found_in(job.oid, examined.findings, &old_secrets));
            produced.skipped.push(Skipped {
                path: job.path,
                size,
            });
            produced.blobs += 1;
            produced.bytes += size;
            meter.add(size);
            continue;
        }
        match outbox.add(&mut stream.reader, job.oid, job.old, job.path, size) {
            Ok(true) => {}
            Ok(false) => return Err(None),
            Err(e) => return Err(fail(&e)),
        }
        produced.blobs += 1;
        produced.bytes += size;
        meter.add(size);
    }
    match outbox.send() {
        Ok(true) => Ok(()),
        Ok(false) => Err(None),
        Err(e) => Err(fail(&e)),
    }
}

/// `git rev-list --objects` for every blob the revisions reach.
fn list_all_args<'a>(revisions: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "rev-list",
        "--objects",
        "--filter=object:type=blob",
        "--filter-provided-objects",
        "--missing=print",
    ];
    args.extend_from_slice(revisions);
    args
}

/// The lister of `--history`: `git rev-list --objects` lines (`<id> <path>`, and `?<id>` for a
/// missing object) become jobs. Returns 0 (commits are not counted here).
fn list_all(
    (stream, output): (Stream, std::process::ChildStdout),
    mut router: Router,
) -> Result<usize, GitError> {
    let mut input = BufReader::with_capacity(1 << 16, output);
    let mut line = Vec::new();
    let mut stopped = false;
    loop {
        if input.buffer().is_empty() && !router.flush() {
            stopped = true;
            break;
        }
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(source) => {
                stream.kill();
                return Err(GitError::Spawn {
                    command: "rev-list --objects".into(),
                    source,
                });
            }
        }
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        let (id, path) = match line.iter().position(|&b| b == b' ') {
            Some(space) => (&line[..space], &line[space + 1..]),
            None => (&line[..], &b""[..]),
        };
        let Some(oid) = Oid::from_hex(id.strip_prefix(b"?").unwrap_or(id)) else {
            continue;
        };
        let job = Job {
            oid,
            old: None,
            path: String::from_utf8_lossy(path).into_owned(),
        };
        if !router.send(job) {
            stopped = true;
            break;
        }
    }
    let _ = router.flush();
    drop(router);
    if stopped {
        // A cat-file stopped reading: the listing is no longer wanted.
        stream.kill();
        return Ok(0);
    }
    stream.finish()?;
    Ok(0)
}

/// `git log --raw` over the range.
fn list_range_args<'a>(revisions: &[&'a str]) -> Vec<&'a str> {
    let mut args: Vec<&str> = LOG_RAW.to_vec();
    args.extend_from_slice(revisions);
    args.push("--");
    args
}

/// The lister of `--range`: streams `git log --raw` (merges against their first parent) and
/// queues each new (blob, old blob) pair once; paths `skip_paths` excludes are left out.
/// Returns the number of commits listed.
fn list_range(
    (log, output): (Stream, std::process::ChildStdout),
    mut router: Router,
    options: &SourceOptions,
) -> Result<usize, GitError> {
    let mut reader = LogReader::new(output);
    let mut seen: HashSet<[u8; 32]> = HashSet::new();
    let mut commits = 0;
    let mut stopped = false;
    loop {
        if reader.input.buffer().is_empty() && !router.flush() {
            stopped = true;
            break;
        }
        let token = match reader.next_token() {
            Ok(Some(token)) => token,
            Ok(None) => break,
            Err(source) => {
                let command = log.command().to_string();
                log.kill();
                return Err(GitError::Spawn { command, source });
            }
        };
        let (change, path) = match token {
            LogToken::Commit(_) => {
                commits += 1;
                continue;
            }
            LogToken::Change(change, path) => (change, path),
        };
        let Some(new) = change.new else { continue };
        let path = String::from_utf8_lossy(&path).into_owned();
        if options.skipped(&path) || !seen.insert(pair_key(new, change.old)) {
            continue;
        }
        let job = Job {
            oid: new,
            old: change.old,
            path,
        };
        if !router.send(job) {
            stopped = true;
            break;
        }
    }
    let _ = router.flush();
    drop(router);
    if stopped {
        log.kill();
        return Ok(commits);
    }
    log.finish()?;
    Ok(commits)
}

/// A (new, old) pair in 32 bytes: the first 16 bytes of each id. Two pairs could only collide
/// through a 128-bit prefix collision of git object ids.
fn pair_key(new: Oid, old: Option<Oid>) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(&new.as_bytes()[..16]);
    if let Some(old) = old {
        key[16..].copy_from_slice(&old.as_bytes()[..16]);
    }
    key
}

/// The secrets found, one group per (rule, secret value), and for each flagged blob the groups
/// it holds. Groups are made from novel findings only; a blob whose old version already held a
/// secret still holds it, and counts for its exposure.
struct Groups {
    /// The group's representative finding (deterministic: the smallest blob id, then line).
    findings: Vec<Finding>,
    by_blob: HashMap<Oid, Vec<usize>>,
    /// Each group's first finding (by position) in each blob that holds it, so the finding can
    /// be reported where the walk first meets its secret without reading that blob again.
    in_blob: HashMap<(usize, Oid), Finding>,
}

impl Groups {
    fn new(mut found: Vec<Found>) -> Groups {
        found.sort_by(|a, b| {
            (a.blob, a.finding.line, a.finding.column, a.finding.rule).cmp(&(
                b.blob,
                b.finding.line,
                b.finding.column,
                b.finding.rule,
            ))
        });
        let mut index: HashMap<(usize, Vec<u8>), usize> = HashMap::new();
        let mut groups = Groups {
            findings: Vec::new(),
            by_blob: HashMap::new(),
            in_blob: HashMap::new(),
        };
        for found in found.iter().filter(|f| f.novel) {
            let key = (found.finding.rule, found.finding.secret.clone());
            if let std::collections::hash_map::Entry::Vacant(slot) = index.entry(key) {
                slot.insert(groups.findings.len());
                groups.findings.push(found.finding.clone());
            }
        }
        for found in found {
            let key = (found.finding.rule, found.finding.secret.clone());
            if let Some(&group) = index.get(&key) {
                let entry = groups.by_blob.entry(found.blob).or_default();
                if !entry.contains(&group) {
                    entry.push(group);
                }
                groups
                    .in_blob
                    .entry((group, found.blob))
                    .or_insert(found.finding);
            }
        }
        groups
    }
}

/// How to decide whether HEAD still holds a secret.
#[derive(Clone, Copy)]
enum HeadCheck {
    /// `--history` walks every commit, HEAD included: its derived content answers.
    Commit(Option<Oid>),
    /// A range may not contain HEAD: HEAD's tree is listed.
    Tree,
}

/// A secret group's exposure as the commit walk builds it.
#[derive(Default)]
struct Walked {
    first: Option<Rc<CommitInfo>>,
    last: Option<Rc<CommitInfo>>,
    /// The blob and path that held the secret in its first commit.
    first_place: Option<(Oid, u32)>,
    paths: BTreeSet<u32>,
    commits: usize,
    in_head: bool,
    /// Seen in the history only under paths `skip_paths` excludes.
    only_skipped: bool,
}

struct Follow {
    walked: Vec<Walked>,
    paths: Vec<String>,
}

/// Interned paths: only the paths flagged blobs appear under are ever stored.
#[derive(Default)]
struct Paths {
    names: Vec<String>,
    index: HashMap<Vec<u8>, u32>,
}

impl Paths {
    fn intern(&mut self, path: &[u8]) -> u32 {
        if let Some(&id) = self.index.get(path) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(String::from_utf8_lossy(path).into_owned());
        self.index.insert(path.to_vec(), id);
        id
    }
}

/// A flagged blob added or removed at a path by a commit.
struct Touch {
    old: Option<Oid>,
    new: Option<Oid>,
    path: u32,
}

/// Above this many flagged blobs the follow pass reads every change instead of asking git
/// for them by id (a command line has its limits).
const FIND_OBJECT_LIMIT: usize = 2000;

/// Follows the flagged blobs through the history: which commits add or remove them (one `git
/// log --find-object` pass, or every change in a partial clone, where `--find-object` would
/// need missing blobs), then one pass over the commit graph, oldest first, deriving each
/// commit's flagged content from its first parent's and its own changes.
fn follow_blobs(
    revisions: &[&str],
    groups: &Groups,
    options: &SourceOptions,
    head: HeadCheck,
    partial: bool,
) -> Result<Follow, HistoryError> {
    let mut paths = Paths::default();
    let mut walked: Vec<Walked> = (0..groups.findings.len())
        .map(|_| Walked::default())
        .collect();
    let flagged = |oid: &Option<Oid>| oid.is_some_and(|o| groups.by_blob.contains_key(&o));
    // The commit graph is listed while the changes are looked for (git sorts it first).
    let args: Vec<&str> = [
        "-c",
        "log.showSignature=false",
        "log",
        "-z",
        "--topo-order",
        "--reverse",
        "--no-color",
        "--format=%H %P%x01%ct%x01%an <%ae>",
    ]
    .into_iter()
    .chain(revisions.iter().copied())
    .chain(["--"])
    .collect();
    let (stream, output) = Stream::spawn(&args)?;
    // Read ahead while the changes are looked for: git formats the graph (reading every
    // commit) meanwhile instead of afterwards, up to a bounded amount held here.
    let ahead = std::thread::spawn(move || read_ahead(output, READ_AHEAD));
    let by_id = !partial && groups.by_blob.len() <= FIND_OBJECT_LIMIT;
    let touches = match touching_commits(revisions, groups, by_id) {
        Ok(touches) => touches,
        Err(_) if by_id => match touching_commits(revisions, groups, false) {
            Ok(touches) => touches,
            Err(e) => {
                stream.kill();
                return Err(e.into());
            }
        },
        Err(e) => {
            stream.kill();
            return Err(e.into());
        }
    };
    let mut changes: HashMap<Oid, Vec<Touch>> = HashMap::new();
    for (commit, change, path) in touches {
        if !(flagged(&change.old) || flagged(&change.new)) {
            continue;
        }
        if options.skipped(&String::from_utf8_lossy(&path)) {
            for group in change.new.iter().flat_map(|n| &groups.by_blob[n]) {
                walked[*group].only_skipped = true;
            }
            continue;
        }
        let path = paths.intern(&path);
        changes.entry(commit).or_default().push(Touch {
            old: change.old,
            new: change.new,
            path,
        });
    }
    let mut holding: HashMap<Oid, Rc<Vec<(Oid, u32)>>> = HashMap::new();
    let io_error = |source| GitError::Spawn {
        command: stream.command().to_string(),
        source,
    };
    let (read, output) = match ahead.join() {
        Ok((read, output, None)) => (read, output),
        Ok((_, _, Some(e))) => {
            let e = io_error(e);
            stream.kill();
            return Err(e.into());
        }
        Err(_) => {
            stream.kill();
            return Err(HistoryError::Panicked(Panicked {
                message: "the commit graph reader".into(),
            }));
        }
    };
    let mut input = BufReader::with_capacity(1 << 16, std::io::Cursor::new(read).chain(output));
    let mut record = Vec::new();
    let mut counted: Vec<usize> = Vec::new();
    loop {
        record.clear();
        let read = input.read_until(0, &mut record).map_err(io_error)?;
        if read == 0 {
            break;
        }
        if record.last() == Some(&0) {
            record.pop();
        }
        let Some(commit) = parse_commit(&record) else {
            continue;
        };
        let inherited = commit.first_parent.and_then(|p| holding.get(&p).cloned());
        let present = match changes.remove(&commit.id) {
            None => inherited,
            Some(touches) => {
                let mut present: Vec<(Oid, u32)> =
                    inherited.map(|p| p.to_vec()).unwrap_or_default();
                for touch in touches {
                    if let Some(old) = touch.old {
                        present.retain(|&(blob, path)| !(blob == old && path == touch.path));
                    }
                    if let Some(new) = touch.new.filter(|n| groups.by_blob.contains_key(n)) {
                        present.push((new, touch.path));
                    }
                }
                (!present.is_empty()).then(|| Rc::new(present))
            }
        };
        let Some(present) = present else { continue };
        let info = Rc::new(CommitInfo {
            id: commit.id.to_hex(),
            time: commit.time,
            author: String::from_utf8_lossy(commit.author).into_owned(),
        });
        let is_head = matches!(head, HeadCheck::Commit(Some(h)) if h == commit.id);
        counted.clear();
        for &(blob, path) in present.iter() {
            for &group in groups.by_blob.get(&blob).into_iter().flatten() {
                let state = &mut walked[group];
                if state.first.is_none() {
                    state.first = Some(Rc::clone(&info));
                    state.first_place = Some((blob, path));
                }
                state.paths.insert(path);
                state.in_head |= is_head;
                if !counted.contains(&group) {
                    counted.push(group);
                    state.commits += 1;
                    if state
                        .last
                        .as_ref()
                        .is_none_or(|last| info.time >= last.time)
                    {
                        state.last = Some(Rc::clone(&info));
                    }
                }
            }
        }
        holding.insert(commit.id, present);
    }
    stream.finish()?;
    if matches!(head, HeadCheck::Tree) {
        mark_head_tree(groups, options, &mut walked)?;
    }
    Ok(Follow {
        walked,
        paths: paths.names,
    })
}

/// How much of the commit graph's listing is read ahead of the walk: a constant bound (about
/// 250,000 commits), the rest waits in the pipe.
const READ_AHEAD: usize = 32 << 20;

/// Reads `output` until its end or `limit` bytes; the error, if any, comes back with what was
/// read.
fn read_ahead(
    mut output: std::process::ChildStdout,
    limit: usize,
) -> (Vec<u8>, std::process::ChildStdout, Option<std::io::Error>) {
    let mut read = Vec::new();
    let result = (&mut output).take(limit as u64).read_to_end(&mut read);
    (read, output, result.err())
}

/// The changes that touch flagged blobs, per commit: asked of git by blob id (`--find-object`),
/// or every change of the history, filtered here.
fn touching_commits(
    revisions: &[&str],
    groups: &Groups,
    by_id: bool,
) -> Result<Vec<(Oid, RawChange, Vec<u8>)>, GitError> {
    let finds: Vec<String> = if by_id {
        let mut blobs: Vec<&Oid> = groups.by_blob.keys().collect();
        blobs.sort();
        blobs
            .into_iter()
            .map(|b| format!("--find-object={b}"))
            .collect()
    } else {
        Vec::new()
    };
    let args: Vec<&str> = LOG_RAW
        .iter()
        .copied()
        .chain(finds.iter().map(String::as_str))
        .chain(revisions.iter().copied())
        .chain(["--"])
        .collect();
    let (stream, output) = Stream::spawn(&args)?;
    let mut reader = LogReader::new(output);
    let mut touches = Vec::new();
    let mut commit: Option<Oid> = None;
    let flagged = |oid: &Option<Oid>| oid.is_some_and(|o| groups.by_blob.contains_key(&o));
    loop {
        let token = reader.next_token().map_err(|source| GitError::Spawn {
            command: stream.command().to_string(),
            source,
        });
        match token {
            Ok(Some(LogToken::Commit(id))) => commit = Some(id),
            Ok(Some(LogToken::Change(change, path))) => {
                if let Some(id) = commit.filter(|_| flagged(&change.old) || flagged(&change.new)) {
                    touches.push((id, change, path));
                }
            }
            Ok(None) => break,
            Err(e) => {
                stream.kill();
                return Err(e);
            }
        }
    }
    stream.finish()?;
    Ok(touches)
}

/// A record of `git log -z --format=%H %P%x01%ct%x01%an <%ae>`.
struct CommitRecord<'r> {
    id: Oid,
    first_parent: Option<Oid>,
    time: i64,
    author: &'r [u8],
}

fn parse_commit(record: &[u8]) -> Option<CommitRecord<'_>> {
    let mut fields = record.splitn(3, |&b| b == 1);
    let (ids, time, author) = (fields.next()?, fields.next()?, fields.next()?);
    let mut ids = ids.split(|&b| b == b' ').filter(|s| !s.is_empty());
    Some(CommitRecord {
        id: Oid::from_hex(ids.next()?)?,
        first_parent: ids.next().and_then(Oid::from_hex),
        time: std::str::from_utf8(time).ok()?.trim().parse().ok()?,
        author,
    })
}

/// Range mode: HEAD holds a secret when its tree has a flagged blob at a path not skipped.
/// The tree is streamed, never held.
fn mark_head_tree(
    groups: &Groups,
    options: &SourceOptions,
    walked: &mut [Walked],
) -> Result<(), GitError> {
    let Ok((stream, output)) = Stream::spawn(&["ls-tree", "-r", "-z", "--full-tree", "HEAD"])
    else {
        return Ok(());
    };
    let mut input = BufReader::with_capacity(1 << 16, output);
    let mut entry = Vec::new();
    while input.read_until(0, &mut entry).unwrap_or(0) > 0 {
        if entry.last() == Some(&0) {
            entry.pop();
        }
        // `<mode> blob <id>\t<path>`
        if let Some(tab) = entry.iter().position(|&b| b == b'\t') {
            let mut meta = entry[..tab].split(|&b| b == b' ');
            let (_, kind, id) = (meta.next(), meta.next(), meta.next());
            if kind == Some(b"blob") {
                if let Some(group_ids) = id
                    .and_then(Oid::from_hex)
                    .and_then(|o| groups.by_blob.get(&o))
                {
                    if !options.skipped(&String::from_utf8_lossy(&entry[tab + 1..])) {
                        for &group in group_ids {
                            walked[group].in_head = true;
                        }
                    }
                }
            }
        }
        entry.clear();
    }
    // An unborn HEAD has no tree: nothing is in it.
    let _ = stream.finish();
    Ok(())
}

/// Turns the walked groups into findings: each reported where its secret was first seen (the
/// blob and path of its first commit), with its exposure; oldest first. A secret seen only under
/// skipped paths is dropped; one the walk could not place is still reported, without exposure
/// (fail closed).
fn place_findings(mut groups: Groups, follow: Follow) -> Vec<Finding> {
    let Follow { walked, paths } = follow;
    let mut findings = Vec::new();
    let representatives = std::mem::take(&mut groups.findings);
    for (group, (mut finding, state)) in representatives.into_iter().zip(walked).enumerate() {
        let (Some(first), Some(last)) = (state.first, state.last) else {
            if !state.only_skipped {
                findings.push(finding);
            }
            continue;
        };
        if let Some((blob, path)) = state.first_place {
            if let Some(first_found) = groups.in_blob.remove(&(group, blob)) {
                finding = first_found;
            }
            finding.path = paths[path as usize].clone();
        }
        finding.exposure = Some(Exposure {
            first: (*first).clone(),
            last: (*last).clone(),
            paths: state
                .paths
                .iter()
                .map(|&p| paths[p as usize].clone())
                .collect(),
            in_head: state.in_head,
            commits: state.commits,
        });
        findings.push(finding);
    }
    findings.sort_by(|a, b| {
        let time = |f: &Finding| f.exposure.as_ref().map_or(0, |e| e.first.time);
        (time(a), &a.path, a.line).cmp(&(time(b), &b.path, b.line))
    });
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_specs() {
        let parts = |s| split_spec(s);
        assert_eq!(
            parts("main..HEAD"),
            SpecParts {
                base: Some("main"),
                tip: "HEAD",
                symmetric: false
            }
        );
        assert_eq!(parts("main..").tip, "HEAD");
        assert_eq!(parts("..abc").base, Some(""));
        assert!(parts("a...b").symmetric);
        assert_eq!(parts("^HEAD~3").tip, "^HEAD~3");
        assert_eq!(parts("--output=/x").base, None);
    }

    #[test]
    fn raw_lines() {
        let zero = "0".repeat(40);
        let a = "a".repeat(40);
        let added = parse_raw(format!(":000000 100644 {zero} {a} A").as_bytes()).unwrap();
        assert_eq!((added.old, added.new), (None, Oid::from_hex(a.as_bytes())));
        let gitlink = parse_raw(format!(":000000 160000 {zero} {a} A").as_bytes()).unwrap();
        assert!(gitlink.new.is_none());
    }

    #[test]
    fn log_tokens_split_on_nul() {
        let (c, a, b) = ("c".repeat(40), "a".repeat(40), "b".repeat(40));
        let stream = format!(
            "\x01{c}\0\n:100644 100644 {a} {b} M\0dir/x\ny.py\0\x01{c}\0\x01{c}\0\n:000000 100644 {} {a} A\0z\0",
            "0".repeat(40)
        );
        let mut reader = LogReader::new(stream.as_bytes());
        let mut tokens = Vec::new();
        while let Some(token) = reader.next_token().unwrap() {
            tokens.push(match token {
                LogToken::Commit(_) => "commit".to_string(),
                LogToken::Change(_, path) => String::from_utf8(path).unwrap(),
            });
        }
        assert_eq!(tokens, ["commit", "dir/x\ny.py", "commit", "commit", "z"]);
    }

    #[test]
    fn commit_records() {
        let record = format!(
            "{} {} {}\x011704067200\x01A <a@b>",
            "c".repeat(40),
            "p".repeat(40).replace('p', "1"),
            "2".repeat(40)
        );
        let parsed = parse_commit(record.as_bytes()).unwrap();
        assert_eq!(parsed.time, 1_704_067_200);
        assert_eq!(parsed.first_parent.unwrap().to_hex(), "1".repeat(40));
        assert_eq!(parsed.author, b"A <a@b>");
    }
}
