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
use crate::scan::finding::Finding;
use crate::scan::history::{self, HistoryError, Selection};
use crate::scan::rules::{Severity, Volume};
use crate::scan::sources::{self, SourceError, SourceOptions, StagedFile};
use crate::settings::{ScanSetup, Settings, SettingsError};

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
}

/// A scan set up from the settings: the compiled rules, the allow-list and the path limits.
pub struct Scan<'s> {
    settings: &'s Settings,
    setup: ScanSetup,
}

impl<'s> Scan<'s> {
    pub fn new(settings: &'s Settings, volume: Volume) -> Result<Self, ScanError> {
        Ok(Scan {
            settings,
            setup: settings.scan_setup(volume)?,
        })
    }

    /// The staged files the scan would read (without the skipped paths).
    pub fn staged_files(&self) -> Result<Vec<StagedFile>, ScanError> {
        Ok(sources::staged_files(&self.setup.sources)?)
    }

    /// Scans, applies the baseline, and writes the report.
    pub fn run(&self, request: ScanRequest) -> Result<ScanOutcome, ScanError> {
        let kind = request.target.kind();
        let (findings, notes, scanned) = self.findings(request.target)?;
        self.conclude(
            Scanned {
                findings,
                notes,
                count: scanned,
                kind,
            },
            request.format,
            request.fail_on,
            &request.baseline,
        )
    }

    fn findings(&self, target: Target) -> Result<(Vec<Finding>, Vec<String>, usize), ScanError> {
        let scanner = Scanner::new(&self.setup.rules, self.setup.allow.clone());
        let options = &self.setup.sources;
        let mut notes = Vec::new();
        let (findings, scanned) = match target {
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
                (
                    sources::scan_staged_files(&scanner, &files, options),
                    files.len(),
                )
            }
            Target::StagedFiles(files) => (
                sources::scan_staged_files(&scanner, &files, options),
                files.len(),
            ),
            Target::TrackedFiles(paths) => {
                let files = tracked_files(&paths, options, &mut notes)?;
                (
                    sources::scan_staged_files(&scanner, &files, options),
                    files.len(),
                )
            }
            Target::Range(range) => self.history(&scanner, &Selection::Range(range), &mut notes)?,
            Target::History => self.history(&scanner, &Selection::All, &mut notes)?,
        };
        Ok((findings, notes, scanned))
    }

    fn history(
        &self,
        scanner: &Scanner,
        selection: &Selection,
        notes: &mut Vec<String>,
    ) -> Result<(Vec<Finding>, usize), ScanError> {
        let report = history::scan_history(scanner, selection, &self.setup.sources)?;
        let limit = self.setup.sources.max_file_size.unwrap_or_default();
        notes.extend(report.skipped.iter().map(|s| {
            format!(
                "skipped {} ({} bytes, over the {limit}-byte limit)",
                s.path, s.size
            )
        }));
        notes.push(format!("{} blob(s) scanned", report.blobs_scanned));
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
        })
    }
}

/// Sets up and runs one scan (the command line's entry point).
pub fn run(settings: &Settings, request: ScanRequest) -> Result<ScanOutcome, ScanError> {
    Scan::new(settings, request.target.volume())?.run(request)
}

/// What a scan read and found, before the baseline and the report.
struct Scanned {
    findings: Vec<Finding>,
    notes: Vec<String>,
    /// Files or blobs read.
    count: usize,
    kind: RunKind,
}

/// Reads `paths` as the index holds them (stage 0 of regular files); a path the index does not
/// hold is read from disk. Files over the size limit are left out with a note.
fn tracked_files(
    paths: &[PathBuf],
    options: &SourceOptions,
    notes: &mut Vec<String>,
) -> Result<Vec<StagedFile>, ScanError> {
    let wanted: Vec<&PathBuf> = paths
        .iter()
        .filter(|p| !options.skipped(&p.to_string_lossy()))
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let listing = git::output(&["ls-files", "--stage", "-z"], None).map_err(SourceError::from)?;
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
    let mut in_index: Vec<(&PathBuf, String)> = Vec::new();
    let mut files = Vec::new();
    for path in wanted {
        let key = path
            .strip_prefix("./")
            .unwrap_or(path)
            .as_os_str()
            .as_bytes();
        match index.get(key) {
            Some(blob) => in_index.push((path, blob.to_string())),
            None => {
                let io_error = |source| SourceError::Io {
                    path: path.clone(),
                    source,
                };
                let size = std::fs::metadata(path).map_err(io_error)?.len();
                if options.too_large(size) {
                    notes.push(too_large_note(path, size, options));
                    continue;
                }
                files.push(StagedFile {
                    path: display(path),
                    content: std::fs::read(path).map_err(io_error)?,
                    old_content: None,
                });
            }
        }
    }
    if !in_index.is_empty() {
        let mut reader = CatFile::spawn().map_err(SourceError::from)?;
        let writer = reader.request(in_index.iter().map(|(_, blob)| blob.clone()).collect());
        for (path, _) in &in_index {
            match reader
                .next_blob(options.max_file_size, Vec::new())
                .map_err(SourceError::from)?
            {
                Blob::Content(content) => files.push(StagedFile {
                    path: display(path),
                    content,
                    old_content: None,
                }),
                Blob::TooLarge(size) => notes.push(too_large_note(path, size, options)),
            }
        }
        let _ = writer.join();
        reader.finish();
    }
    Ok(files)
}

fn display(path: &std::path::Path) -> String {
    let text = path.to_string_lossy();
    text.strip_prefix("./").unwrap_or(&text).to_string()
}

fn too_large_note(path: &std::path::Path, size: u64, options: &SourceOptions) -> String {
    format!(
        "skipped {} ({size} bytes, over the {}-byte limit)",
        display(path),
        options.max_file_size.unwrap_or_default()
    )
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
