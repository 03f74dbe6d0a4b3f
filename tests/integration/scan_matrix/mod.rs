//! The placement matrix: every credential format planted in every place ML repositories put
//! credentials, and hard negatives (stand-ins and look-alikes under the same names) in the same
//! places, generated from a seed at test time (into `target/tmp/scan-matrix`, rewritten when
//! the generator changes) and scanned through the library's one scan entry point. A new rule is tested in every placement, and a new
//! placement with every format, by adding one entry.
//!
//! Recall is counted per format × placement: a finding of severity error on the planted line.
//! Any other error-severity finding (in a negative, or on another line of a positive) is a false
//! positive. The test asserts the known gaps exactly (so a fix must update the list) and no false
//! positive; with `MLGUARD_MATRIX_REPORT=FILE` it also writes the Markdown summary the README
//! quotes.

mod formats;
mod placements;
mod structured;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use mlguard::commands::scan::{BaselineRequest, FailOn, ScanRequest, Target};
use mlguard::commands::{Format, Settings};

use formats::Rng;
use placements::Planted;

const SEED: u64 = 20_261_201;

/// Format × placement cells that are not found, each with the reason. Keep in step with the
/// rules: the test fails when a cell listed here is found, too.
const KNOWN_GAPS: &[(&str, &str, &str)] = &[];

/// A planted file and what the scan must say about it.
struct Planting {
    format: String,
    placement: String,
    path: String,
    positive: bool,
    expected_rule: String,
    /// The line that must carry an error finding (positives).
    line: usize,
    /// Lines where an error finding is right too (a service-account file's private key).
    also: BTreeSet<usize>,
}

fn line_of(content: &str, needle: &str) -> usize {
    let at = content
        .find(needle)
        .unwrap_or_else(|| panic!("needle {needle:.20} not in the planted file"));
    content[..at].matches('\n').count() + 1
}

/// The matrix as (relative path, content) pairs and the plantings, built in memory.
fn generate() -> (Vec<(String, String)>, Vec<Planting>) {
    let mut rng = Rng::new(SEED);
    let mut files = Vec::new();
    let mut plantings = Vec::new();
    let mut add = |format: &str,
                   placement: &str,
                   file: &Planted,
                   positive: bool,
                   rule: &str,
                   also: &[String]| {
        let relative = format!(
            "{}/{format}/{placement}/{}",
            if positive { "pos" } else { "neg" },
            file.path
        );
        files.push((relative.clone(), file.content.clone()));
        plantings.push(Planting {
            format: format.into(),
            placement: placement.into(),
            path: relative,
            positive,
            expected_rule: rule.into(),
            line: if positive {
                line_of(&file.content, &file.needle)
            } else {
                0
            },
            also: also
                .iter()
                .filter(|n| file.content.contains(n.as_str()))
                .map(|n| line_of(&file.content, n))
                .collect(),
        });
    };
    let placements = placements::placements();
    for format in formats::formats() {
        for placement in &placements {
            let value = (format.value)(&mut rng);
            let file = (placement.build)(&format, &value, &mut rng);
            add(format.id, placement.id, &file, true, format.rule, &[]);
        }
    }
    for case in structured::positives(&mut rng) {
        add(
            case.format,
            case.placement,
            &case.file,
            true,
            "",
            &case.also,
        );
    }
    for negative in formats::negatives() {
        for placement in &placements {
            let value = (negative.value)(&mut rng);
            let file = (placement.build)(&negative, &value, &mut rng);
            add(negative.id, placement.id, &file, false, "", &[]);
        }
    }
    for case in structured::negatives(&mut rng) {
        add(case.format, case.placement, &case.file, false, "", &[]);
    }
    (files, plantings)
}

/// Writes the matrix under the test target directory, unless the same matrix is already
/// there: the generator is deterministic, so a stamp of its content says whether the files on
/// disk are current. (Rewriting is cheap; deleting thousands of files is slow on some disks.)
fn materialise(files: &[(String, String)]) -> PathBuf {
    use sha2::{Digest, Sha256};
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("scan-matrix");
    let mut hasher = Sha256::new();
    for (path, content) in files {
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(content.as_bytes());
        hasher.update([0]);
    }
    let stamp: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let stamp_file = dir.join(".stamp");
    if std::fs::read_to_string(&stamp_file).ok().as_deref() == Some(stamp.as_str()) {
        return dir;
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("remove a stale matrix");
    }
    for (relative, content) in files {
        let path = dir.join(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create dirs");
        std::fs::write(&path, content).expect("write planted file");
    }
    std::fs::write(&stamp_file, stamp).expect("write the stamp");
    dir
}

/// (file relative to `dir`, line, end line, rule) of every error-severity finding.
fn scan(dir: &Path) -> Vec<(String, usize, usize, String)> {
    let request = ScanRequest {
        target: Target::Paths(vec![dir.to_path_buf()]),
        format: Format::Json,
        fail_on: FailOn::Errors,
        baseline: BaselineRequest::default(),
    };
    let outcome = mlguard::commands::scan::run(&Settings::default(), request).expect("scan");
    let findings: Vec<serde_json::Value> =
        serde_json::from_slice(&outcome.report).expect("JSON report");
    let prefix = format!("{}/", dir.display());
    findings
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| {
            let file = f["file"].as_str().unwrap_or_default();
            (
                file.strip_prefix(&prefix).unwrap_or(file).to_string(),
                f["line"].as_u64().unwrap_or(0) as usize,
                f["end_line"].as_u64().unwrap_or(0) as usize,
                f["rule"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    planted: usize,
    found: usize,
    by_own_rule: usize,
}

fn percent(part: usize, whole: usize) -> String {
    format!("{:.1}%", 100.0 * part as f64 / whole.max(1) as f64)
}

#[test]
fn every_format_is_found_in_every_placement_and_no_lookalike_fires() {
    let (files, plantings) = generate();
    let dir = materialise(&files);
    let findings = scan(&dir);
    let mut by_file: BTreeMap<&str, Vec<&(String, usize, usize, String)>> = BTreeMap::new();
    for finding in &findings {
        by_file.entry(finding.0.as_str()).or_default().push(finding);
    }
    let mut misses: BTreeSet<(String, String)> = BTreeSet::new();
    let mut false_positives = Vec::new();
    let mut formats: BTreeMap<String, Tally> = BTreeMap::new();
    let mut places: BTreeMap<String, Tally> = BTreeMap::new();
    let (mut negatives, mut positives) = (0, 0);
    for planting in &plantings {
        let found = by_file
            .get(planting.path.as_str())
            .cloned()
            .unwrap_or_default();
        if !planting.positive {
            negatives += 1;
            false_positives.extend(found.iter().map(|f| format!("{}:{} {}", f.0, f.1, f.3)));
            continue;
        }
        positives += 1;
        let covers =
            |f: &&(String, usize, usize, String), line: usize| f.1 <= line && line <= f.2.max(f.1);
        let hit = found.iter().find(|f| covers(f, planting.line));
        for f in &found {
            let expected = covers(f, planting.line) || planting.also.iter().any(|&l| covers(f, l));
            if !expected {
                false_positives.push(format!("{}:{} {}", f.0, f.1, f.3));
            }
        }
        for tally in [
            formats.entry(planting.format.clone()).or_default(),
            places.entry(planting.placement.clone()).or_default(),
        ] {
            tally.planted += 1;
            tally.found += usize::from(hit.is_some());
            tally.by_own_rule += usize::from(hit.is_some_and(|f| {
                planting.expected_rule.is_empty() || f.3 == planting.expected_rule
            }));
        }
        if hit.is_none() {
            misses.insert((planting.format.clone(), planting.placement.clone()));
        }
    }
    let found: usize = formats.values().map(|t| t.found).sum();
    let error_findings = findings.len();
    let mut report = format!(
        "Placement matrix (seed {SEED}): {positives} planted credentials in {} formats × {} placements, {negatives} hard negatives.\n\n\
         **Recall {found}/{positives} = {}**, false positives {} (precision {}).\n\n",
        formats.len(),
        places.len(),
        percent(found, positives),
        false_positives.len(),
        percent(error_findings - false_positives.len(), error_findings),
    );
    report.push_str("| placement | recall | found by the format's own rule |\n|---|---|---|\n");
    for (place, tally) in &places {
        report.push_str(&format!(
            "| `{place}` | {}/{} | {} |\n",
            tally.found, tally.planted, tally.by_own_rule
        ));
    }
    report.push_str("\n| format | recall | found by its own rule |\n|---|---|---|\n");
    for (format, tally) in &formats {
        report.push_str(&format!(
            "| `{format}` | {}/{} | {} |\n",
            tally.found, tally.planted, tally.by_own_rule
        ));
    }
    if !misses.is_empty() {
        report.push_str("\nNot found:\n");
        for (format, place) in &misses {
            report.push_str(&format!("- `{format}` in `{place}`\n"));
        }
    }
    if let Some(path) = std::env::var_os("MLGUARD_MATRIX_REPORT") {
        std::fs::write(path, &report).expect("write the matrix report");
    }
    eprintln!("{report}");
    let known: BTreeSet<(String, String)> = KNOWN_GAPS
        .iter()
        .map(|(f, p, _)| (f.to_string(), p.to_string()))
        .collect();
    let unexpected: Vec<_> = misses.difference(&known).collect();
    let fixed: Vec<_> = known.difference(&misses).collect();
    assert!(unexpected.is_empty(), "not found: {unexpected:#?}");
    assert!(
        fixed.is_empty(),
        "found now, drop from KNOWN_GAPS: {fixed:#?}"
    );
    assert!(
        false_positives.is_empty(),
        "false positives:\n{}",
        false_positives.join("\n")
    );
}

/// Filters judge values (entropy, placeholder shapes, runs, words), so a filter tuned on a few
/// values can drop real ones: every format's value is drawn many times here, in an assignment
/// and in its client call, and each must be found.
#[test]
fn random_values_of_every_format_are_found() {
    use mlguard::scan::Scanner;
    use mlguard::scan::rules::{RuleSet, Severity};

    const DRAWS: usize = 500;
    let rules = RuleSet::builtin().expect("built-in rules");
    let scanner = Scanner::new(&rules, Vec::new());
    let mut rng = Rng::new(SEED ^ 0x5eed);
    let mut misses = Vec::new();
    for format in formats::formats() {
        let mut text = String::new();
        let mut values = Vec::new();
        for _ in 0..DRAWS {
            let value = (format.value)(&mut rng);
            text.push_str(&format!(
                "{} = \"{value}\"\n{}\n",
                format.env,
                format.call.replace("{v}", &value)
            ));
            values.push(value);
        }
        let found: BTreeSet<usize> = scanner
            .scan("src/settings.py", text.as_bytes())
            .iter()
            .filter(|f| rules.rules[f.rule].spec.severity == Severity::Error)
            .map(|f| f.line)
            .collect();
        let missed: Vec<&String> = values
            .iter()
            .enumerate()
            .filter(|(i, _)| !found.contains(&(2 * i + 1)) || !found.contains(&(2 * i + 2)))
            .map(|(_, v)| v)
            .collect();
        if let Some(first) = missed.first() {
            misses.push(format!(
                "{}: {} of {DRAWS} draws missed, e.g. {first}",
                format.id,
                missed.len()
            ));
        }
    }
    assert!(misses.is_empty(), "{}", misses.join("\n"));
}
