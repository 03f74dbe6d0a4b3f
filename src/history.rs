//! Scanning git history: the commits of a range (what CI sees on a push) or every blob reachable
//! from any ref, each distinct blob scanned once, and for each secret its exposure: the commit
//! that introduced it, the last one that still holds it, its paths, and how many commits carry it.
//!
//! Content streams through one `git cat-file --batch` into scanner threads (memory is bounded by
//! the blob size limit, not the history size); `git log --raw` is read twice as a stream: once
//! for the blobs, and, only when something was found, once more to follow the flagged blobs.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::sync::Mutex;
use std::sync::mpsc::sync_channel;

use crate::git::{Blob, CatFile, GitError, Stream};
use crate::scan::{Finding, Scanner, is_binary};

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

/// A commit as reported in an exposure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub id: String,
    pub time: i64,
    pub author: String,
}

/// How long, where and in how many commits one secret was exposed.
#[derive(Debug, Clone)]
pub struct Exposure {
    pub first: CommitInfo,
    pub last: CommitInfo,
    pub paths: BTreeSet<String>,
    pub in_head: bool,
    pub commits: usize,
}

/// A blob too large to scan, reported as a note.
#[derive(Debug, Clone)]
pub struct Skipped {
    pub path: String,
    pub size: u64,
}

#[derive(Debug, Default)]
pub struct HistoryReport {
    /// One finding per secret (rule and value), at the place it was first seen, with its exposure.
    pub findings: Vec<(Finding, Exposure)>,
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
    max_blob_size: u64,
) -> Result<HistoryReport, GitError> {
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
    let (found, skipped) = scan_blobs(scanner, &jobs, max_blob_size)?;
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
        .filter_map(|(f, e)| Some((f, e?)))
        .collect();
    report.findings.sort_by(|a, b| {
        (a.1.first.time, &a.0.path, a.0.line).cmp(&(b.1.first.time, &b.0.path, b.0.line))
    });
    Ok(report)
}

/// A finding and the blob it was found in.
type BlobFinding = (String, Finding);

/// A blob read for scanning: the job's index, its content and, in range mode, the old version.
type Loaded = (usize, Vec<u8>, Option<Vec<u8>>);

/// Reused content buffers, so that streaming a history does not leave the allocator holding
/// hundreds of megabytes of freed blobs.
#[derive(Default)]
struct BufferPool(Mutex<Vec<Vec<u8>>>);

impl BufferPool {
    const KEEP: usize = 16;
    const LARGEST: usize = 16 << 20;

    fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_default()
    }

    fn give(&self, mut buffer: Vec<u8>) {
        buffer.clear();
        if let Ok(mut pool) = self.0.lock() {
            if pool.len() < Self::KEEP && buffer.capacity() <= Self::LARGEST {
                pool.push(buffer);
            }
        }
    }
}

/// Streams the jobs' blobs into scanner threads. Decompression in `git cat-file` is the slow
/// part of a history scan, so two cat-file processes each read half of the blobs.
fn scan_blobs(
    scanner: &Scanner,
    jobs: &[Job],
    max_blob_size: u64,
) -> Result<(Vec<BlobFinding>, Vec<Skipped>), GitError> {
    let parallelism = std::thread::available_parallelism().map_or(2, |n| n.get());
    let readers = parallelism.clamp(1, 2).min(jobs.len().max(1));
    let found = Mutex::new(Vec::new());
    let skipped = Mutex::new(Vec::new());
    let pool = BufferPool::default();
    let (sender, receiver) = sync_channel::<Loaded>(parallelism * 2);
    let receiver = Mutex::new(receiver);
    let results: Vec<Result<(), GitError>> = std::thread::scope(|scope| {
        for _ in 0..parallelism {
            scope.spawn(|| {
                while let Ok(Ok((index, content, old))) = receiver.lock().map(|r| r.recv()) {
                    let job = &jobs[index];
                    let mut findings = scanner.scan(&job.path, &content);
                    if let Some(old) = old {
                        findings = crate::sources::only_added_lines(findings, &content, &old);
                        pool.give(old);
                    }
                    pool.give(content);
                    if let Ok(mut all) = found.lock() {
                        all.extend(findings.into_iter().map(|f| (job.blob.clone(), f)));
                    }
                }
            });
        }
        let handles: Vec<_> = (0..readers)
            .map(|reader| {
                let sender = sender.clone();
                let (pool, skipped) = (&pool, &skipped);
                scope.spawn(move || {
                    read_share(jobs, reader, readers, max_blob_size, pool, skipped, sender)
                })
            })
            .collect();
        drop(sender);
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Ok(())))
            .collect()
    });
    results.into_iter().collect::<Result<(), GitError>>()?;
    Ok((
        found.into_inner().unwrap_or_default(),
        skipped.into_inner().unwrap_or_default(),
    ))
}

/// One reader: every `readers`-th job from `first`, through its own `git cat-file --batch`.
fn read_share(
    jobs: &[Job],
    first: usize,
    readers: usize,
    max_blob_size: u64,
    pool: &BufferPool,
    skipped: &Mutex<Vec<Skipped>>,
    sender: std::sync::mpsc::SyncSender<Loaded>,
) -> Result<(), GitError> {
    let share: Vec<usize> = (first..jobs.len()).step_by(readers).collect();
    let ids: Vec<String> = share
        .iter()
        .flat_map(|&i| std::iter::once(jobs[i].blob.clone()).chain(jobs[i].old.clone()))
        .collect();
    let mut batch = CatFile::spawn()?;
    let writer = batch.request(ids);
    for index in share {
        let job = &jobs[index];
        let content = batch.next_blob(max_blob_size, pool.take())?;
        let old = match job.old {
            Some(_) => Some(batch.next_blob(max_blob_size, pool.take())?),
            None => None,
        };
        match content {
            Blob::TooLarge(size) => {
                if let Ok(mut s) = skipped.lock() {
                    s.push(Skipped {
                        path: job.path.clone(),
                        size,
                    });
                }
            }
            Blob::Content(content) if !is_binary(&content) => {
                let old = match old {
                    Some(Blob::Content(old)) => Some(old),
                    _ => None,
                };
                if sender.send((index, content, old)).is_err() {
                    break;
                }
            }
            Blob::Content(content) => pool.give(content),
        }
    }
    drop(sender);
    let _ = writer.join();
    batch.finish();
    Ok(())
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
    let head: HashSet<String> = crate::git::tree_blobs("HEAD")
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

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time (UTC), without a date library.
pub fn iso8601(time: i64) -> String {
    let days = time.div_euclid(86_400);
    let seconds = time.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_iso8601() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_704_067_200), "2024-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400 + 3661), "2000-02-29T01:01:01Z");
    }

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
