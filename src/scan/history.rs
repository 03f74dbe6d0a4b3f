//! Scanning git history: the commits of a range (what CI sees on a push) or every blob reachable
//! from any ref, each distinct blob scanned once, and for each secret its exposure: the commit
//! that introduced it, the last one that still holds it, its paths, and how many commits carry it.
//!
//! Content streams through one `git cat-file --batch` into scanner threads (memory is bounded by
//! the blob size limit, not the history size); `git log --raw` is read twice as a stream: once
//! for the blobs, and, only when something was found, once more to follow the flagged blobs.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use super::engine::Scanner;
use super::finding::{CommitInfo, Exposure, Finding};
use super::sources::SourceOptions;
use crate::git::{self, Blob, CatFile, GitError, Stream};
use crate::parallel::{self, Panicked, Task};

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Panicked(#[from] Panicked),
}

/// Which commits to scan.
#[derive(Debug, Clone)]
pub enum Selection {
    /// `A..B`: the commits of B not in A (an all-zero or empty A means from the root).
    Range(String),
    /// Every commit reachable from any ref.
    All,
}

impl Selection {
    fn log_args(&self) -> Vec<String> {
        match self {
            Selection::All => vec!["--all".into()],
            Selection::Range(spec) => match spec.split_once("..") {
                Some((base, tip)) if base.is_empty() || base.bytes().all(|b| b == b'0') => {
                    vec![if tip.is_empty() {
                        "HEAD".into()
                    } else {
                        tip.to_string()
                    }]
                }
                Some((base, "")) => vec![format!("{base}..HEAD")],
                _ => vec![spec.clone()],
            },
        }
    }
}

/// A blob too large to scan, reported as a note.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub path: String,
    pub size: u64,
}

#[derive(Debug, Default)]
pub struct HistoryReport {
    /// One finding per secret (rule and value), at the place it was first seen, with its
    /// exposure filled in, oldest first.
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
    pub blobs_scanned: usize,
}

/// One changed path of a commit (`--raw`): old and new blob (`None` for absent).
struct Change {
    old: Option<String>,
    new: Option<String>,
    path: String,
}

/// Streams `git log --raw` for the selection, oldest first, calling `each` per commit.
fn walk_log(
    selection: &Selection,
    mut each: impl FnMut(CommitInfo, Vec<String>, Vec<Change>),
) -> Result<(), GitError> {
    let mut args: Vec<String> = [
        "-c",
        "core.quotePath=false",
        "log",
        "--topo-order",
        "--reverse",
        "--raw",
        "--no-abbrev",
        "--no-renames",
        "--diff-merges=first-parent",
        "--format=%x01%H %P%x02%ct%x02%an <%ae>",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(selection.log_args());
    args.push("--".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (stream, stdout) = Stream::spawn(&args)?;
    let parse_error = || GitError::Parse {
        command: stream.command().to_string(),
    };
    let mut current: Option<(CommitInfo, Vec<String>, Vec<Change>)> = None;
    for line in BufReader::new(stdout).split(b'\n') {
        let line = line.map_err(|source| GitError::Spawn {
            command: stream.command().to_string(),
            source,
        })?;
        if let Some(header) = line.strip_prefix(b"\x01") {
            if let Some((commit, parents, changes)) = current.take() {
                each(commit, parents, changes);
            }
            current = Some(parse_header(&String::from_utf8_lossy(header)).ok_or_else(parse_error)?);
        } else if let (Some(raw), Some((_, _, changes))) =
            (line.strip_prefix(b":"), current.as_mut())
        {
            changes.extend(parse_raw(&String::from_utf8_lossy(raw)));
        }
    }
    if let Some((commit, parents, changes)) = current.take() {
        each(commit, parents, changes);
    }
    stream.finish()
}

fn parse_header(header: &str) -> Option<(CommitInfo, Vec<String>, Vec<Change>)> {
    let mut fields = header.splitn(3, '\x02');
    let mut ids = fields.next()?.split(' ');
    let id = ids.next()?.to_string();
    let parents = ids.filter(|p| !p.is_empty()).map(str::to_string).collect();
    let time = fields.next()?.trim().parse().ok()?;
    let author = fields.next()?.to_string();
    Some((CommitInfo { id, time, author }, parents, Vec::new()))
}

/// `100644 100644 <old> <new> M<TAB>path`; gitlinks (submodules) are left out.
fn parse_raw(raw: &str) -> Option<Change> {
    let (meta, path) = raw.split_once('\t')?;
    let parts: Vec<&str> = meta.split(' ').collect();
    let [old_mode, new_mode, old, new, _status] = parts[..] else {
        return None;
    };
    let blob = |mode: &str, id: &str| {
        (mode != "000000" && mode != "160000" && !id.bytes().all(|b| b == b'0'))
            .then(|| id.to_string())
    };
    Some(Change {
        old: blob(old_mode, old),
        new: blob(new_mode, new),
        path: path.to_string(),
    })
}

/// A blob to scan, and (in range mode) the blob it replaced, for added-lines filtering.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Job {
    blob: String,
    old: Option<String>,
    path: String,
}

/// Scans the selected history and computes each secret's exposure.
pub fn scan_history(
    scanner: &Scanner,
    selection: &Selection,
    options: &SourceOptions,
) -> Result<HistoryReport, HistoryError> {
    let mut jobs: Vec<Job> = Vec::new();
    let mut seen: HashSet<(String, Option<String>)> = HashSet::new();
    let by_lines = matches!(selection, Selection::Range(_));
    walk_log(selection, |_, _, changes| {
        for change in changes {
            let Some(new) = change.new else { continue };
            let old = if by_lines { change.old } else { None };
            if seen.insert((new.clone(), old.clone())) {
                jobs.push(Job {
                    blob: new,
                    old,
                    path: change.path,
                });
            }
        }
    })?;
    let (found, skipped) = scan_blobs(scanner, &jobs, options.max_file_size)?;
    let mut report = HistoryReport {
        skipped,
        blobs_scanned: jobs.len(),
        ..Default::default()
    };
    if found.is_empty() {
        return Ok(report);
    }
    let (groups, blob_groups) = group_by_secret(found);
    let exposures = follow_blobs(selection, &blob_groups, groups.len())?;
    report.findings = groups
        .into_iter()
        .zip(exposures)
        .filter_map(|(mut finding, exposure)| {
            finding.exposure = Some(exposure?);
            Some(finding)
        })
        .collect();
    report.findings.sort_by(|a, b| {
        let time = |f: &Finding| f.exposure.as_ref().map_or(0, |e| e.first.time);
        (time(a), &a.path, a.line).cmp(&(time(b), &b.path, b.line))
    });
    Ok(report)
}

/// A finding and the blob it was found in.
type BlobFinding = (String, Finding);

/// A blob read for scanning: the job's index, its content and, in range mode, the old version.
type ReadBlob = (usize, Vec<u8>, Option<Vec<u8>>);

/// Reused content buffers, so that streaming a history does not leave the allocator holding
/// hundreds of megabytes of freed blobs.
#[derive(Default)]
struct BufferPool(Mutex<Vec<Vec<u8>>>);

impl BufferPool {
    const KEEP: usize = 16;
    const LARGEST: usize = 16 << 20;

    fn take(&self) -> Result<Vec<u8>, Panicked> {
        Ok(parallel::lock(&self.0)?.pop().unwrap_or_default())
    }

    fn give(&self, mut buffer: Vec<u8>) -> Result<(), Panicked> {
        buffer.clear();
        let mut pool = parallel::lock(&self.0)?;
        if pool.len() < Self::KEEP && buffer.capacity() <= Self::LARGEST {
            pool.push(buffer);
        }
        Ok(())
    }
}

/// What the readers hand over besides content: blobs skipped for their size.
type ReaderResult = Result<Vec<Skipped>, HistoryError>;

/// Streams the jobs' blobs into scanner threads. Decompression in `git cat-file` is the slow
/// part of a history scan, so two cat-file processes each read half of the blobs. Every
/// thread's result is joined: an error or a panic anywhere fails the scan.
fn scan_blobs(
    scanner: &Scanner,
    jobs: &[Job],
    max_blob_size: Option<u64>,
) -> Result<(Vec<BlobFinding>, Vec<Skipped>), HistoryError> {
    let parallelism = parallel::threads_for(usize::MAX);
    let readers = parallelism.clamp(1, 2).min(jobs.len().max(1));
    let pool = BufferPool::default();
    let (sender, receiver) = sync_channel::<ReadBlob>(parallelism * 2);
    // Each scanner holds the receiver; when every scanner has ended (even by a panic) the
    // receiver is dropped and the readers' sends fail instead of blocking forever.
    let receiver = Arc::new(Mutex::new(receiver));
    let pool = &pool;
    let mut scanners: Vec<Task<Vec<BlobFinding>, HistoryError>> = Vec::new();
    for _ in 0..parallelism {
        let receiver = Arc::clone(&receiver);
        scanners.push(Box::new(move || {
            scan_received(scanner, jobs, &receiver, pool)
        }));
    }
    drop(receiver);
    let mut reader_tasks: Vec<Task<Vec<Skipped>, HistoryError>> = Vec::new();
    for reader in 0..readers {
        let sender = sender.clone();
        reader_tasks.push(Box::new(move || {
            read_share(jobs, reader, readers, max_blob_size, pool, sender)
        }));
    }
    drop(sender);
    let (found, skipped) = std::thread::scope(|scope| {
        let consumers = scope.spawn(|| parallel::join_all(scanners));
        let skipped = parallel::join_all(reader_tasks);
        let found = consumers
            .join()
            .map_err(|_| Panicked {
                message: "the scanner pool".into(),
            })
            .map_err(HistoryError::from)
            .and_then(|r| r);
        (found, skipped)
    });
    let skipped: Vec<Skipped> = skipped?.into_iter().flatten().collect();
    let found: Vec<BlobFinding> = found?.into_iter().flatten().collect();
    Ok((found, skipped))
}

/// One scanner thread: scans blobs as they arrive until every reader is done.
fn scan_received(
    scanner: &Scanner,
    jobs: &[Job],
    receiver: &Mutex<Receiver<ReadBlob>>,
    pool: &BufferPool,
) -> Result<Vec<BlobFinding>, HistoryError> {
    let mut found = Vec::new();
    loop {
        let next = parallel::lock(receiver)?.recv();
        let Ok((index, content, old)) = next else {
            return Ok(found);
        };
        let job = &jobs[index];
        parallel::debug_fault(&job.path);
        let findings = scanner.scan_change(&job.path, &content, old.as_deref());
        if let Some(old) = old {
            pool.give(old)?;
        }
        pool.give(content)?;
        found.extend(findings.into_iter().map(|f| (job.blob.clone(), f)));
    }
}

/// One reader: every `readers`-th job from `first`, through its own `git cat-file --batch`.
fn read_share(
    jobs: &[Job],
    first: usize,
    readers: usize,
    max_blob_size: Option<u64>,
    pool: &BufferPool,
    sender: SyncSender<ReadBlob>,
) -> ReaderResult {
    let share: Vec<usize> = (first..jobs.len()).step_by(readers).collect();
    let ids: Vec<String> = share
        .iter()
        .flat_map(|&i| std::iter::once(jobs[i].blob.clone()).chain(jobs[i].old.clone()))
        .collect();
    let mut skipped = Vec::new();
    let mut batch = CatFile::spawn()?;
    let writer = batch.request(ids);
    for index in share {
        let job = &jobs[index];
        let content = batch.next_blob(max_blob_size, pool.take()?)?;
        let old = match job.old {
            Some(_) => Some(batch.next_blob(max_blob_size, pool.take()?)?),
            None => None,
        };
        match content {
            Blob::TooLarge(size) => skipped.push(Skipped {
                path: job.path.clone(),
                size,
            }),
            Blob::Content(content) => {
                let old = match old {
                    Some(Blob::Content(old)) => Some(old),
                    _ => None,
                };
                if sender.send((index, content, old)).is_err() {
                    break;
                }
            }
        }
    }
    drop(sender);
    let _ = writer.join();
    batch.finish();
    Ok(skipped)
}

/// One finding per (rule, secret value), kept from the first blob seen; and for each flagged
/// blob, the secrets (group indices) it holds.
fn group_by_secret(found: Vec<BlobFinding>) -> (Vec<Finding>, HashMap<String, Vec<usize>>) {
    let mut groups: Vec<Finding> = Vec::new();
    let mut blob_groups: HashMap<String, Vec<usize>> = HashMap::new();
    for (blob, finding) in found {
        let index = match groups
            .iter()
            .position(|g| g.rule == finding.rule && g.secret == finding.secret)
        {
            Some(index) => index,
            None => {
                groups.push(finding);
                groups.len() - 1
            }
        };
        let entry = blob_groups.entry(blob).or_default();
        if !entry.contains(&index) {
            entry.push(index);
        }
    }
    (groups, blob_groups)
}

/// Follows the flagged blobs through the history: each commit's tree is its first parent's
/// plus its own changes, so the flagged (blob, path) pairs a commit holds are derived in one
/// pass, oldest first, without reading any tree. Returns each secret group's exposure.
fn follow_blobs(
    selection: &Selection,
    blob_groups: &HashMap<String, Vec<usize>>,
    group_count: usize,
) -> Result<Vec<Option<Exposure>>, GitError> {
    let mut holding: HashMap<String, Vec<(String, String)>> = HashMap::new();
    let mut exposures: Vec<Option<Exposure>> = vec![None; group_count];
    walk_log(selection, |commit, parents, changes| {
        let mut present = parents
            .first()
            .and_then(|p| holding.get(p))
            .cloned()
            .unwrap_or_default();
        for change in &changes {
            if let Some(old) = change
                .old
                .as_deref()
                .filter(|o| blob_groups.contains_key(*o))
            {
                present.retain(|(blob, path)| !(blob == old && *path == change.path));
            }
            if let Some(new) = change
                .new
                .as_deref()
                .filter(|n| blob_groups.contains_key(*n))
            {
                present.push((new.to_string(), change.path.clone()));
            }
        }
        let mut counted: BTreeSet<usize> = BTreeSet::new();
        for (blob, path) in &present {
            for &group in blob_groups.get(blob).into_iter().flatten() {
                let exposure = exposures[group].get_or_insert_with(|| Exposure {
                    first: commit.clone(),
                    last: commit.clone(),
                    paths: BTreeSet::new(),
                    in_head: false,
                    commits: 0,
                });
                exposure.paths.insert(path.clone());
                if counted.insert(group) {
                    exposure.commits += 1;
                    if commit.time >= exposure.last.time {
                        exposure.last = commit.clone();
                    }
                }
            }
        }
        if !present.is_empty() {
            holding.insert(commit.id.clone(), present);
        }
    })?;
    let head: HashSet<String> = git::tree_blobs("HEAD")
        .map(|tree| tree.into_iter().map(|(_, id)| id).collect())
        .unwrap_or_default();
    for (blob, groups) in blob_groups {
        if head.contains(blob) {
            for &group in groups {
                if let Some(exposure) = exposures[group].as_mut() {
                    exposure.in_head = true;
                }
            }
        }
    }
    Ok(exposures)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_specs() {
        let args = |s: &str| Selection::Range(s.into()).log_args();
        assert_eq!(args("main..HEAD"), ["main..HEAD"]);
        assert_eq!(
            args("0000000000000000000000000000000000000000..abc"),
            ["abc"]
        );
        assert_eq!(args("..abc"), ["abc"]);
        assert_eq!(args("main.."), ["main..HEAD"]);
    }

    #[test]
    fn raw_lines() {
        let zero = "0".repeat(40);
        let a = "a".repeat(40);
        let added = parse_raw(&format!("000000 100644 {zero} {a} A\tdir/x y.py")).unwrap();
        assert_eq!(
            (added.old, added.new.as_deref(), added.path.as_str()),
            (None, Some(a.as_str()), "dir/x y.py")
        );
        let gitlink = parse_raw(&format!("000000 160000 {zero} {a} A\tsub")).unwrap();
        assert!(gitlink.new.is_none());
    }
}
