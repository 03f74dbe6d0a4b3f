//! Differential test: `mlguard strip` against the pinned nbstripout 0.9.1 over the shared corpus
//! (real notebooks, edge cases, nbstripout's own cases with their flags, and the real notebooks
//! again under each main option), byte for byte, except the deviations the README lists.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

struct Case {
    name: String,
    input: PathBuf,
    args: Vec<String>,
    golden: Option<PathBuf>,
    expected_reference_rc: Option<i32>,
}

fn notebook_version(input: &Path) -> Option<u64> {
    let text = std::fs::read(input).ok()?;
    let value: serde_json::Value = serde_json::from_slice(&text).ok()?;
    value.get("nbformat")?.as_u64()
}

/// Where a difference is deliberate (README, "Deviations from nbstripout"), what to check instead.
enum Expectation {
    Identical,
    /// nbstripout fails, mlguard succeeds.
    WeAccept(&'static str),
    /// nbstripout's result is random or wrong here; mlguard has its own test for this case.
    NotCompared,
}

fn expectation(case: &Case, reference_stderr: &str) -> Expectation {
    let file = case
        .input
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let has = |flag: &str| case.args.iter().any(|a| a.starts_with(flag));
    if file.starts_with("lone-surrogate-escape") {
        return Expectation::WeAccept("lone surrogate kept as an escape");
    }
    if file.starts_with("lone-surrogate") {
        return Expectation::WeAccept("lone surrogate kept as an escape");
    }
    if file.starts_with("utf8-bom") {
        return Expectation::WeAccept("UTF-8 BOM accepted");
    }
    if has("--drop-empty-cells") && notebook_version(&case.input).is_some_and(|v| v < 4) {
        return Expectation::NotCompared; // nbstripout drops every v3 code cell
    }
    let random_ids = reference_stderr.contains("missing an id")
        || reference_stderr.contains("Non-unique cell id");
    if has("--keep-id") && random_ids {
        return Expectation::NotCompared; // nbformat invents random ids
    }
    Expectation::Identical
}

fn run_case(case: &Case) -> Result<&'static str, String> {
    let input = std::fs::read(&case.input).map_err(|e| format!("{}: {e}", case.name))?;
    let mut reference = Command::new(reference_tool("nbstripout"));
    reference.args(&case.args);
    let reference = run_with_stdin(reference, &input);
    let mut ours = mlguard();
    ours.arg("strip").arg("--no-config").args(&case.args);
    let ours = run_with_stdin(ours, &input);
    let reference_rc = reference.status.code().unwrap_or(-1);
    let our_rc = ours.status.code().unwrap_or(-1);
    let fail = |what: &str| Err(format!("{}: {what}", case.name));
    if let Some(expected) = case.expected_reference_rc {
        if expected != reference_rc {
            return fail(&format!(
                "harness: nbstripout exited {reference_rc}, manifest says {expected}"
            ));
        }
    }
    match expectation(case, &String::from_utf8_lossy(&reference.stderr)) {
        Expectation::NotCompared => return Ok("not compared"),
        Expectation::WeAccept(why) => {
            if reference_rc == 0 || our_rc != 0 || ours.stdout.is_empty() {
                return fail(&format!(
                    "deviation '{why}' no longer holds (ref {reference_rc}, ours {our_rc})"
                ));
            }
            return Ok("deviation");
        }
        Expectation::Identical => {}
    }
    if reference_rc != 0 {
        if our_rc != 2 || !ours.stdout.is_empty() {
            return fail(&format!(
                "nbstripout fails ({reference_rc}); mlguard must exit 2 with no output, got {our_rc}"
            ));
        }
        return Ok("both fail");
    }
    if our_rc != 0 {
        return fail(&format!(
            "mlguard exited {our_rc}: {}",
            String::from_utf8_lossy(&ours.stderr)
        ));
    }
    if ours.stdout != reference.stdout {
        return fail(&first_difference(&reference.stdout, &ours.stdout));
    }
    if let Some(golden) = &case.golden {
        let golden_bytes =
            std::fs::read(golden).map_err(|e| format!("{}: {e}", golden.display()))?;
        if golden_bytes != ours.stdout {
            return fail("differs from upstream golden file");
        }
    }
    Ok("identical")
}

fn first_difference(expected: &[u8], got: &[u8]) -> String {
    let at = expected
        .iter()
        .zip(got)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(got.len()));
    let context = |b: &[u8]| {
        String::from_utf8_lossy(&b[at.saturating_sub(60)..(at + 60).min(b.len())]).into_owned()
    };
    format!(
        "byte {at} differs:\n  nbstripout: {:?}\n  mlguard:    {:?}",
        context(expected),
        context(got)
    )
}

fn check_all(cases: &[Case]) {
    let results = parallel_map(cases, run_case);
    let failures: Vec<&String> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    let identical = results
        .iter()
        .filter(|r| matches!(r, Ok("identical")))
        .count();
    eprintln!("{identical} of {} cases byte-identical", cases.len());
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(identical > 0, "no case was compared");
}

fn stdin_cases(dir: &str, args: &[&str]) -> Vec<Case> {
    files_with_extension(&corpus().join(dir), "ipynb")
        .into_iter()
        .map(|input| Case {
            name: format!("{} {}", input.display(), args.join(" ")),
            input,
            args: args.iter().map(|a| a.to_string()).collect(),
            golden: None,
            expected_reference_rc: None,
        })
        .collect()
}

/// The repository's own fixtures, with nbstripout's own argument syntax: the output-type
/// options take several values (`nargs='+'`), and odd shapes nbformat tolerates (`"outputs":
/// {}`, `"source": {}`) come out as nbstripout writes them.
#[test]
fn fixtures_and_multi_value_options_match_nbstripout() {
    if !require_reference_tools() {
        return;
    }
    let option_sets: [&[&str]; 7] = [
        &[],
        &["--keep-output"],
        &["--drop-empty-cells"],
        &["--keep-output-type", "stream:stdout", "execute_result"],
        &[
            "--keep-output",
            "--drop-output-type",
            "stream:stderr",
            "error",
        ],
        &["--keep-output-type", "error", "--keep-count"],
        &["--extra-keys", "metadata.kernelspec cell.metadata.tags"],
    ];
    let inputs = files_with_extension(&fixture("notebooks"), "ipynb");
    let cases: Vec<Case> = option_sets
        .iter()
        .flat_map(|args| {
            inputs.iter().map(move |input| Case {
                name: format!("{} {}", input.display(), args.join(" ")),
                input: input.clone(),
                args: args.iter().map(|a| a.to_string()).collect(),
                golden: None,
                expected_reference_rc: None,
            })
        })
        .collect();
    check_all(&cases);
}

#[test]
fn real_and_edge_notebooks_match_nbstripout() {
    if !require_reference_tools() || !require_corpus() {
        return;
    }
    let mut cases = stdin_cases("real-notebooks", &[]);
    cases.extend(stdin_cases("edge-cases", &[]));
    assert!(
        cases.len() >= 100,
        "corpus incomplete: {} notebooks",
        cases.len()
    );
    check_all(&cases);
}

#[test]
fn nbstripout_manifest_cases_match() {
    if !require_reference_tools() || !require_corpus() {
        return;
    }
    let base = corpus().join("nbstripout-tests");
    let manifest = std::fs::read_to_string(base.join("manifest.tsv")).expect("manifest.tsv");
    let cases: Vec<Case> = manifest
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("id\t") && !l.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let args: Vec<String> = serde_json::from_str(fields[3]).expect("args_json");
            Case {
                name: format!("manifest {}", fields[0]),
                input: base.join(fields[1]),
                args,
                golden: (fields[2] != "-").then(|| base.join(fields[2])),
                expected_reference_rc: fields[4].parse().ok(),
            }
        })
        .collect();
    assert_eq!(cases.len(), 40);
    check_all(&cases);
}

#[test]
fn real_notebooks_match_under_each_main_option() {
    if !require_reference_tools() || !require_corpus() {
        return;
    }
    let option_sets: [&[&str]; 8] = [
        &["--keep-output"],
        &["--keep-count"],
        &["--keep-id"],
        &["--drop-empty-cells"],
        &[
            "--extra-keys",
            "metadata.kernelspec metadata.language_info cell.metadata.tags cell.attachments",
        ],
        &[
            "--keep-metadata-keys",
            "cell.metadata.collapsed cell.metadata.scrolled metadata.widgets",
        ],
        &["--max-size", "1k"],
        &[
            "--keep-output",
            "--drop-output-type",
            "stream:stderr",
            "error",
        ],
    ];
    let cases: Vec<Case> = option_sets
        .iter()
        .flat_map(|args| stdin_cases("real-notebooks", args))
        .collect();
    check_all(&cases);
}

/// In place and `--verify` behave as nbstripout's: same bytes on disk (an unchanged notebook is
/// not rewritten, whatever its formatting) and the same exit code.
#[test]
fn in_place_and_verify_match_nbstripout() {
    if !require_reference_tools() || !require_corpus() {
        return;
    }
    let mut inputs = files_with_extension(&corpus().join("real-notebooks"), "ipynb");
    inputs.extend(files_with_extension(&corpus().join("edge-cases"), "ipynb"));
    let results = parallel_map(&inputs, |input| -> Result<(), String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let (theirs, ours) = (dir.path().join("ref.ipynb"), dir.path().join("ours.ipynb"));
        std::fs::copy(input, &theirs)
            .and_then(|_| std::fs::copy(input, &ours))
            .map_err(|e| e.to_string())?;
        let verify_ref = Command::new(reference_tool("nbstripout"))
            .arg("--verify")
            .arg(&theirs)
            .output()
            .map_err(|e| e.to_string())?;
        let verify_ours = mlguard()
            .args(["strip", "--no-config", "--verify"])
            .arg(&ours)
            .output()
            .map_err(|e| e.to_string())?;
        let reference = Command::new(reference_tool("nbstripout"))
            .arg(&theirs)
            .output()
            .map_err(|e| e.to_string())?;
        if !reference.status.success() {
            return Ok(());
        }
        let name = input.display();
        if verify_ref.status.code() != verify_ours.status.code() {
            return Err(format!(
                "{name}: --verify exit {:?} vs nbstripout {:?}",
                verify_ours.status.code(),
                verify_ref.status.code()
            ));
        }
        let ran = mlguard()
            .args(["strip", "--no-config"])
            .arg(&ours)
            .output()
            .map_err(|e| e.to_string())?;
        if !ran.status.success() {
            return Err(format!(
                "{name}: in place failed: {}",
                String::from_utf8_lossy(&ran.stderr)
            ));
        }
        if std::fs::read(&theirs).ok() != std::fs::read(&ours).ok() {
            return Err(format!("{name}: in-place result differs"));
        }
        Ok(())
    });
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
