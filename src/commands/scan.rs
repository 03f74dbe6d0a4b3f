//! One scan, whoever asks for it: the command line, the pre-commit hook, and any later hook
//! (pre-push, server side) describe what to scan and how to report in a `ScanRequest`, and get
//! back a `ScanOutcome` with the report, the notes and a verdict. Settings, the baseline, the
//! ordering of findings and the counting of errors live here once, so no caller can drift.

use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::git::{self, Blob, CatFile};
use crate::report::{self, Format, RunKind};
use crate::scan::baseline::{self, BaselineError};
use crate::scan::engine::Scanner;
use crate::scan::engine::Unscanned;
use crate::scan::finding::{Finding, sort_findings};
use crate::scan::history::{self, HistoryError, ProgressSink, Selection};
use crate::scan::rules::{Severity, Volume};
use crate::scan::sources::{
    self, SourceError, SourceOptions, SourceReport, StagedBlob, StagedFile,
};
use crate::settings::{CONFIG_FILES, Chosen, ScanSetup, Settings, SettingsError};
use crate::shell::printable;

/// What to scan.
#[derive(Debug)]
pub enum Target {
    /// Files and directories on disk.
    Paths(Vec<PathBuf>),
    /// What the next commit adds, read from the index.
    Staged,
    /// Staged files the caller has already read (the hook also checks them for outputs).
    StagedFiles(Vec<StagedFile>),
    /// These files whole, as the index holds them (what the repository has, not a worktree
    /// copy a clean filter would change); files the index does not hold are read from disk.
    /// What the pre-commit framework hands a hook under `run --all-files` or `run --files`.
    TrackedFiles(Vec<PathBuf>),
    /// The content each commit of `A..B` adds.
    Range(String),
    /// Every blob reachable from any ref.
    History,
}

impl Target {
    /// How much the scan will read, which decides how much to invest in setting up.
    pub fn volume(&self) -> Volume {
        match self {
            Target::Staged | Target::StagedFiles(_) => Volume::Small,
            Target::Paths(_) | Target::TrackedFiles(_) | Target::Range(_) | Target::History => {
                Volume::Large
            }
        }
    }

    /// The kind of run, as reports name it.
    pub fn kind(&self) -> RunKind {
        match self {
            Target::Paths(_) | Target::TrackedFiles(_) => RunKind::Paths,
            Target::Staged | Target::StagedFiles(_) => RunKind::Staged,
            Target::Range(_) => RunKind::Range,
            Target::History => RunKind::History,
        }
    }
}

/// Which findings fail the scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FailOn {
    /// Credentials (severity error) only.
    #[default]
    Errors,
    /// Code-smell warnings too (`--strict`).
    Warnings,
}

/// Which baseline to apply: the command line's file, else the configured one.
#[derive(Debug, Clone, Default)]
pub struct BaselineRequest {
    pub file: Option<PathBuf>,
    /// Write the current findings to the baseline instead of reporting them.
    pub update: bool,
}

#[derive(Debug)]
pub struct ScanRequest {
    pub target: Target,
    pub format: Format,
    pub fail_on: FailOn,
    pub baseline: BaselineRequest,
}

/// How the scan ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing that fails the scan.
    Clean,
    /// Findings that fail the scan (exit 1).
    Findings,
    /// `--update-baseline`: the findings were recorded.
    BaselineWritten { path: PathBuf, count: usize },
}

#[derive(Debug)]
pub struct ScanOutcome {
    /// The report, for stdout.
    pub report: Vec<u8>,
    /// Things the user must know (skipped content, counts), for stderr.
    pub notes: Vec<String>,
    /// The one-line summary for people (text reports only).
    pub summary: Option<String>,
    /// How many files (or, for history and ranges, distinct blobs) were read: zero means the
    /// scan had nothing to look at, which a caller must not report as "no credentials".
    pub scanned: usize,
    pub errors: usize,
    pub warnings: usize,
    pub verdict: Verdict,
    /// Content that could not be read (missing objects, a git command that failed midway): the
    /// report covers everything else, and the scan must not pass (exit 2).
    pub unreadable: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    #[error("--update-baseline needs a baseline file: pass --baseline FILE or set [scan] baseline")]
    NoBaselineFile,
    #[error("writing the report: {0}")]
    Report(#[from] std::io::Error),
    #[error(transparent)]
    Git(#[from] git::GitError),
}

/// A scan set up from the settings: the compiled rules, the allow-list and the path limits.
pub struct Scan<'s> {
    settings: &'s Settings,
    setup: ScanSetup,
    progress: Option<ProgressSink<'s>>,
}

impl<'s> Scan<'s> {
    pub fn new(settings: &'s Settings, volume: Volume) -> Result<Self, ScanError> {
        Ok(Scan {
            settings,
            setup: settings.scan_setup(volume)?,
            progress: None,
        })
    }

    /// Reports the progress of history scans (`--range`, `--history`) to `sink`.
    pub fn with_progress(mut self, sink: ProgressSink<'s>) -> Self {
        self.progress = Some(sink);
        self
    }

    /// The staged files the scan would read (without the skipped paths).
    pub fn staged_files(&self) -> Result<Vec<StagedFile>, ScanError> {
        Ok(sources::staged_files(&self.setup.sources)?)
    }

    /// Scans, applies the baseline, and writes the report.
    pub fn run(&self, request: ScanRequest) -> Result<ScanOutcome, ScanError> {
        let kind = request.target.kind();
        let mut unreadable = Vec::new();
        let (findings, mut notes, count) = self.findings(request.target, &mut unreadable)?;
        notes.extend(self.settings.weakening_summary());
        let mut outcome = self.conclude(
            Scanned {
                findings,
                notes,
                count,
                kind,
            },
            request.format,
            request.fail_on,
            &request.baseline,
        )?;
        outcome.unreadable = unreadable;
        Ok(outcome)
    }

    /// The findings, the notes, and how many files or blobs were read; what could not be read
    /// goes to `unreadable`.
    fn findings(
        &self,
        target: Target,
        unreadable: &mut Vec<String>,
    ) -> Result<(Vec<Finding>, Vec<String>, usize), ScanError> {
        let scanner = Scanner::new(&self.setup.rules, self.setup.allow.clone());
        let options = &self.setup.sources;
        let mut notes = Vec::new();
        let (report, count) = match target {
            Target::Paths(paths) => {
                let roots = if paths.is_empty() {
                    vec![PathBuf::from(".")]
                } else {
                    paths
                };
                let files = sources::list_files(&roots, options)?;
                (sources::scan_files(&scanner, &files, options)?, files.len())
            }
            Target::Staged => {
                let files = sources::staged_files(options)?;
                let report = sources::scan_staged_files(&scanner, &files)?;
                (working_tree_positions(&scanner, report), files.len())
            }
            Target::StagedFiles(files) => {
                let report = sources::scan_staged_files(&scanner, &files)?;
                (working_tree_positions(&scanner, report), files.len())
            }
            Target::TrackedFiles(paths) => {
                let (tracked, untracked) = tracked_files(&paths, options)?;
                let mut report = sources::scan_staged_files(&scanner, &tracked)?;
                let on_disk = sources::scan_files(&scanner, &untracked, options)?;
                report.findings.extend(on_disk.findings);
                report.unscanned.extend(on_disk.unscanned);
                sort_findings(&mut report.findings);
                (report, tracked.len() + untracked.len())
            }
            Target::Range(range) => {
                let (findings, count) =
                    self.history(&scanner, &Selection::Range(range), &mut notes, unreadable)?;
                (
                    SourceReport {
                        findings,
                        unscanned: Vec::new(),
                    },
                    count,
                )
            }
            Target::History => {
                let (findings, count) =
                    self.history(&scanner, &Selection::All, &mut notes, unreadable)?;
                (
                    SourceReport {
                        findings,
                        unscanned: Vec::new(),
                    },
                    count,
                )
            }
        };
        notes.extend(unscanned_notes(&report.unscanned));
        Ok((report.findings, notes, count))
    }

    /// The history's findings and the number of blobs read.
    fn history(
        &self,
        scanner: &Scanner,
        selection: &Selection,
        notes: &mut Vec<String>,
        unreadable: &mut Vec<String>,
    ) -> Result<(Vec<Finding>, usize), ScanError> {
        let report = history::scan_history(scanner, selection, &self.setup.sources, self.progress)?;
        let limit = self.setup.sources.max_file_size.unwrap_or_default();
        notes.extend(report.notes);
        notes.extend(report.skipped.iter().map(|s| {
            format!(
                "skipped reading {} whole ({} bytes, over the {limit}-byte max_file_size): scanned in chunks as text",
                printable(&s.path),
                s.size
            )
        }));
        notes.extend(unscanned_notes(&report.unscanned));
        notes.push(format!(
            "{} blob(s) scanned ({:.1} MB)",
            report.blobs_scanned,
            report.bytes_scanned as f64 / 1e6
        ));
        unreadable.extend(
            report
                .unreadable
                .iter()
                .map(|u| format!("could not read {}: {}", printable(&u.what), u.reason)),
        );
        if !report.unreadable.is_empty() {
            notes.push(format!(
                "{} object(s) or stream(s) could not be read, so the scan is incomplete; in a partial clone fetch them (`git fetch --refetch --no-filter`), in a damaged one run `git fsck`",
                report.unreadable.len()
            ));
        }
        Ok((report.findings, report.blobs_scanned))
    }

    fn conclude(
        &self,
        scanned: Scanned,
        format: Format,
        fail_on: FailOn,
        baseline_request: &BaselineRequest,
    ) -> Result<ScanOutcome, ScanError> {
        let Scanned {
            mut findings,
            notes,
            count,
            kind,
        } = scanned;
        let rules = &self.setup.rules;
        if let Some(redacted) = report::with_names_redacted(&findings) {
            findings = redacted;
        }
        let baseline_file = baseline_request
            .file
            .clone()
            .or_else(|| self.settings.scan.baseline.clone());
        if baseline_request.update {
            let path = baseline_file.ok_or(ScanError::NoBaselineFile)?;
            baseline::save(&path, rules, &findings)?;
            return Ok(ScanOutcome {
                report: Vec::new(),
                notes,
                summary: None,
                scanned: count,
                errors: 0,
                warnings: 0,
                verdict: Verdict::BaselineWritten {
                    path,
                    count: findings.len(),
                },
                unreadable: Vec::new(),
            });
        }
        if let Some(path) = &baseline_file {
            let known = baseline::load(path)?;
            findings.retain(|f| !known.contains(&baseline::entry(rules, f)));
        }
        let mut report_bytes = Vec::new();
        report::write(&mut report_bytes, format, kind, rules, &findings, &notes)?;
        let errors = findings
            .iter()
            .filter(|f| rules.rules[f.rule].spec.severity == Severity::Error)
            .count();
        let warnings = findings.len() - errors;
        let fails = errors > 0 || (fail_on == FailOn::Warnings && warnings > 0);
        Ok(ScanOutcome {
            report: report_bytes,
            // SARIF carries the notes itself (notifications); other formats leave them to stderr.
            notes: if format == Format::Sarif {
                Vec::new()
            } else {
                notes
            },
            summary: (format == Format::Text)
                .then(|| summary(errors, warnings, &findings, count, kind)),
            scanned: count,
            errors,
            warnings,
            verdict: if fails {
                Verdict::Findings
            } else {
                Verdict::Clean
            },
            unreadable: Vec::new(),
        })
    }
}

/// Sets up and runs one scan (the command line's entry point). A range is judged by the
/// settings at its base (the trusted side), not by those of the commits being checked, unless
/// the configuration file was named explicitly: one pull request must not be able to add a
/// secret and the setting that hides it.
pub fn run(settings: &Settings, request: ScanRequest) -> Result<ScanOutcome, ScanError> {
    run_with(settings, request, None)
}

/// `run`, reporting the progress of history scans to `progress`.
pub fn run_with_progress(
    settings: &Settings,
    request: ScanRequest,
    progress: ProgressSink,
) -> Result<ScanOutcome, ScanError> {
    run_with(settings, request, Some(progress))
}

fn run_with(
    settings: &Settings,
    request: ScanRequest,
    progress: Option<ProgressSink>,
) -> Result<ScanOutcome, ScanError> {
    let base_settings = match &request.target {
        Target::Range(range) if settings.chosen != Chosen::Explicit => {
            Some(settings_at_base(range)?)
        }
        _ => None,
    };
    let settings = base_settings.as_ref().unwrap_or(settings);
    let mut scan = Scan::new(settings, request.target.volume())?;
    if let Some(progress) = progress {
        scan = scan.with_progress(progress);
    }
    scan.run(request)
}

/// The base of `A..B` (or `A...B`); `None` when the range starts from the root (empty or
/// all-zero `A`) or is not a two-sided range.
fn range_base(range: &str) -> Option<&str> {
    let (base, _) = range.split_once("..")?;
    let base = base.trim_end_matches('.');
    (!base.is_empty() && !base.bytes().all(|b| b == b'0')).then_some(base)
}

/// The configuration as it is at the range's base; from the root there is no trusted side, so
/// the built-in defaults apply.
fn settings_at_base(range: &str) -> Result<Settings, ScanError> {
    let Some(base) = range_base(range) else {
        return Ok(Settings {
            chosen: Chosen::Revision("the built-in defaults (the range starts at the root)".into()),
            ..Settings::default()
        });
    };
    let prefix = git::text(&["rev-parse", "--show-prefix"])?;
    let mut dirs: Vec<String> = Vec::new();
    let mut dir = prefix.trim_end_matches('/').to_string();
    loop {
        dirs.push(dir.clone());
        match dir.rfind('/') {
            Some(cut) => dir.truncate(cut),
            None if dir.is_empty() => break,
            None => dir.clear(),
        }
    }
    let mut files = Vec::new();
    for dir in dirs {
        for (name, _) in CONFIG_FILES {
            let path = if dir.is_empty() {
                name.to_string()
            } else {
                format!("{dir}/{name}")
            };
            // `--end-of-options` keeps a base such as `--output=x` from being read as an option.
            let spec = format!("{base}:{path}");
            if let Ok(content) = git::output(&["cat-file", "blob", "--end-of-options", &spec], None)
            {
                files.push((PathBuf::from(path), content));
            }
        }
    }
    Ok(Settings::from_revision(base, &files)?)
}

/// Staged findings are placed in the staged blobs, which can differ from the files people have
/// open (a notebook's outputs are stripped from the blob; `git add -p` stages part of a file).
/// Where the working file holds the same secret, report its position there; otherwise say that
/// the line is the staged version's.
fn working_tree_positions(scanner: &Scanner, mut report: SourceReport) -> SourceReport {
    if report.findings.is_empty() {
        return report;
    }
    let top = git::text(&["rev-parse", "--show-toplevel"]).map(PathBuf::from);
    let mut cache: std::collections::HashMap<String, Vec<Finding>> = Default::default();
    for finding in &mut report.findings {
        if finding.locator.as_deref() == Some(crate::scan::engine::NAME_LOCATOR) {
            continue;
        }
        let in_file = cache.entry(finding.path.clone()).or_insert_with(|| {
            let Ok(top) = &top else { return Vec::new() };
            std::fs::read(top.join(&finding.path))
                .map(|content| scanner.scan(&finding.path, &content))
                .unwrap_or_default()
        });
        match in_file
            .iter()
            .find(|f| f.rule == finding.rule && f.secret == finding.secret)
        {
            Some(there) => {
                finding.line = there.line;
                finding.column = there.column;
                finding.end_line = there.end_line;
                finding.locator.clone_from(&there.locator);
            }
            None => {
                let staged = "line of the staged version, not of your working file";
                finding.locator = Some(match &finding.locator {
                    Some(locator) => format!("{locator}; {staged}"),
                    None => staged.into(),
                });
            }
        }
    }
    report
}

/// Notes naming what could not be scanned, one line per reason, the files listed.
fn unscanned_notes(unscanned: &[(String, Unscanned)]) -> Vec<String> {
    let mut by_reason: Vec<(String, Vec<&str>)> = Vec::new();
    for (path, reason) in unscanned {
        let reason = reason.to_string();
        match by_reason.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, paths)) => paths.push(path),
            None => by_reason.push((reason, vec![path])),
        }
    }
    by_reason
        .into_iter()
        .map(|(reason, paths)| {
            const SHOWN: usize = 20;
            let mut list: Vec<String> = paths
                .iter()
                .take(SHOWN)
                .map(|p| printable(p).into_owned())
                .collect();
            if paths.len() > SHOWN {
                list.push(format!("and {} more", paths.len() - SHOWN));
            }
            format!("not scanned ({reason}): {}", list.join(", "))
        })
        .collect()
}

/// What a scan read and found, before the baseline and the report.
struct Scanned {
    findings: Vec<Finding>,
    notes: Vec<String>,
    /// Files or blobs read.
    count: usize,
    kind: RunKind,
}

/// Splits `paths` into the files the index holds (stage 0 of regular files), read from the
/// index (a blob over the size limit is left to be streamed), and the others, to read from disk.
fn tracked_files(
    paths: &[PathBuf],
    options: &SourceOptions,
) -> Result<(Vec<StagedFile>, Vec<PathBuf>), ScanError> {
    let wanted: Vec<&PathBuf> = paths
        .iter()
        .filter(|p| !options.skipped(&p.to_string_lossy()))
        .collect();
    if wanted.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let listing = git::output(&["ls-files", "--stage", "-z"], None)?;
    let mut index: std::collections::HashMap<&[u8], &str> = std::collections::HashMap::new();
    for record in listing.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        // `<mode> <blob> <stage>\t<path>`
        let Some(tab) = record.iter().position(|&b| b == b'\t') else {
            continue;
        };
        let meta = std::str::from_utf8(&record[..tab]).unwrap_or_default();
        if let [mode, blob, "0"] = meta.split(' ').collect::<Vec<_>>()[..] {
            if mode.starts_with("100") {
                index.insert(&record[tab + 1..], blob);
            }
        }
    }
    let mut in_index: Vec<(String, String)> = Vec::new();
    let mut untracked = Vec::new();
    for path in wanted {
        let path = path.strip_prefix("./").unwrap_or(path);
        match index.get(path.as_os_str().as_bytes()) {
            Some(blob) => in_index.push((path.to_string_lossy().into_owned(), blob.to_string())),
            None => untracked.push(path.to_path_buf()),
        }
    }
    let mut tracked = Vec::with_capacity(in_index.len());
    if !in_index.is_empty() {
        let mut reader = CatFile::spawn()?;
        let writer = reader.request(in_index.iter().map(|(_, blob)| blob.clone()).collect());
        for (path, id) in in_index {
            let (size, content) = match reader.next_blob(options.max_file_size, Vec::new())? {
                Blob::Content(content) => (content.len() as u64, Some(content)),
                Blob::TooLarge(size) => (size, None),
            };
            tracked.push(StagedFile {
                path,
                new: StagedBlob { id, size, content },
                old: None,
            });
        }
        let _ = writer.join();
        reader.finish();
    }
    Ok((tracked, untracked))
}

fn summary(
    errors: usize,
    warnings: usize,
    findings: &[Finding],
    scanned: usize,
    kind: RunKind,
) -> String {
    let unit = match kind {
        RunKind::Range | RunKind::History => "blob(s)",
        RunKind::Paths | RunKind::Staged => "file(s)",
    };
    if scanned == 0 {
        return format!(
            "mlguard: nothing to scan: 0 {unit} read, so this is not a clean result (the {} had no content to check)",
            match kind {
                RunKind::Paths => "paths",
                RunKind::Staged => "staged changes",
                RunKind::Range => "range",
                RunKind::History => "history",
            }
        );
    }
    if findings.is_empty() {
        return format!("mlguard: no credentials found in {scanned} {unit}");
    }
    let files: std::collections::BTreeSet<&str> =
        findings.iter().map(|f| f.path.as_str()).collect();
    format!(
        "mlguard: {errors} credential(s) and {warnings} warning(s) in {} file(s)",
        files.len()
    )
}
