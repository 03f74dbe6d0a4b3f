//! `mlguard strip` as users run it: in place, as a filter, with configuration, on bad input,
//! and where it deliberately differs from nbstripout.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::common::*;

const DIRTY: &str = r#"{"cells": [{"cell_type": "code", "execution_count": 3, "id": "a1", "metadata": {"collapsed": true, "tags": ["keep_me"]}, "outputs": [{"name": "stdout", "output_type": "stream", "text": ["hf_secret\n"]}], "source": ["print(1)\n", "x = 2"]}, {"cell_type": "markdown", "id": "b2", "metadata": {"tags": ["solution"]}, "source": "answer"}, {"cell_type": "code", "execution_count": null, "id": "c3", "metadata": {"tags": ["draft"]}, "outputs": [], "source": "   "}], "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}"#;

fn strip_stdin(args: &[&str], input: &[u8]) -> std::process::Output {
    let mut cmd = mlguard();
    cmd.arg("strip").arg("--no-config").args(args);
    run_with_stdin(cmd, input)
}

/// `mlguard strip --no-config ARGS PATH` (in place, unless ARGS say otherwise).
fn strip_path(args: &[&str], path: &Path) -> std::process::Output {
    mlguard()
        .args(["strip", "--no-config"])
        .args(args)
        .arg(path)
        .output()
        .unwrap()
}

fn stdout_json(output: &std::process::Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("valid JSON")
}

#[test]
fn filter_strips_outputs_counts_and_renumbers_ids() {
    let nb = stdout_json(&strip_stdin(&[], DIRTY.as_bytes()));
    let cell = &nb["cells"][0];
    assert_eq!(cell["outputs"], serde_json::json!([]));
    assert_eq!(cell["execution_count"], serde_json::Value::Null);
    assert_eq!(cell["id"], "0");
    assert!(cell["metadata"].get("collapsed").is_none());
    assert_eq!(cell["source"], serde_json::json!(["print(1)\n", "x = 2"]));
}

#[test]
fn in_place_rewrites_atomically_and_keeps_mode_and_symlinks() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.ipynb");
    fs::write(&real, DIRTY).unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
    let link = dir.path().join("link.ipynb");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = strip_path(&[], &link);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        fs::metadata(&real).unwrap().permissions().mode() & 0o777,
        0o640
    );
    let content = fs::read_to_string(&real).unwrap();
    assert!(!content.contains("hf_secret") && content.ends_with("}\n"));
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        2,
        "temporary files left behind: {leftovers:?}"
    );
}

#[test]
fn unchanged_notebook_is_not_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clean.ipynb");
    let first = strip_stdin(&[], DIRTY.as_bytes()).stdout;
    // Same content, other formatting: nbstripout's change test is semantic, so no rewrite.
    let reformatted =
        serde_json::to_vec_pretty(&serde_json::from_slice::<serde_json::Value>(&first).unwrap())
            .unwrap();
    fs::write(&path, &reformatted).unwrap();
    let before = fs::metadata(&path).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = strip_path(&[], &path);
    assert!(out.status.success());
    assert_eq!(fs::read(&path).unwrap(), reformatted);
    assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), before);
}

#[test]
fn other_extensions_are_skipped_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.json");
    fs::write(&path, DIRTY).unwrap();
    strip_path(&[], &path);
    assert_eq!(fs::read_to_string(&path).unwrap(), DIRTY);
    let out = strip_path(&["-f"], &path);
    assert!(out.status.success());
    assert!(!fs::read_to_string(&path).unwrap().contains("hf_secret"));
}

#[test]
fn textconv_dry_run_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let dirty = dir.path().join("dirty.ipynb");
    let clean = dir.path().join("clean.ipynb");
    fs::write(&dirty, DIRTY).unwrap();
    fs::write(&clean, strip_stdin(&[], DIRTY.as_bytes()).stdout).unwrap();

    let textconv = strip_path(&["-t"], &dirty);
    assert_eq!(textconv.stdout, strip_stdin(&[], DIRTY.as_bytes()).stdout);
    assert_eq!(
        fs::read_to_string(&dirty).unwrap(),
        DIRTY,
        "-t must not write"
    );

    let dry = mlguard()
        .args(["strip", "--no-config", "--dry-run"])
        .arg(&dirty)
        .arg(&clean)
        .output()
        .unwrap();
    assert_eq!(dry.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&dry.stdout),
        format!("Dry run: would have stripped {}\n", dirty.display())
    );

    let verify = mlguard()
        .args(["strip", "--no-config", "--verify"])
        .arg(&dirty)
        .arg(&clean)
        .output()
        .unwrap();
    assert_eq!(verify.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&verify.stdout).contains("dirty.ipynb"));
    let verify_clean = strip_path(&["--verify"], &clean);
    assert_eq!(verify_clean.status.code(), Some(0));
    assert_eq!(
        fs::read_to_string(&dirty).unwrap(),
        DIRTY,
        "--verify must not write"
    );
}

/// Every bad input: one line on stderr naming the input, exit 2, nothing on stdout, file untouched.
#[test]
fn bad_input_fails_cleanly_and_loses_nothing() {
    let deep = format!("{{\"a\": {}{}}}", "[".repeat(3000), "]".repeat(3000));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", b"".to_vec()),
        ("whitespace", b"  \n".to_vec()),
        ("truncated", br#"{"cells": [{"#.to_vec()),
        ("invalid utf-8", b"{\"cells\": [], \"metadata\": {\"a\": \"\xe9\"}, \"nbformat\": 4, \"nbformat_minor\": 5}".to_vec()),
        ("array", b"[1, 2]".to_vec()),
        ("not a notebook", br#"{"hello": "world", "nbformat": 4}"#.to_vec()),
        ("nbformat 5", br#"{"cells": [], "metadata": {}, "nbformat": 5, "nbformat_minor": 0}"#.to_vec()),
        ("deep nesting", deep.into_bytes()),
        ("trailing garbage", format!("{DIRTY}}}").into_bytes()),
        ("contradicting keep_output", br#"{"cells": [{"cell_type": "code", "metadata": {"keep_output": false, "tags": ["keep_output"]}, "outputs": [], "source": ""}], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}"#.to_vec()),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, input) in cases {
        let out = strip_stdin(&[], &input);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(out.stdout.is_empty(), "{name}: wrote to stdout");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{name}: {stderr}");
        assert!(stderr.contains("stdin"), "{name}: {stderr}");

        let path = dir.path().join("bad.ipynb");
        fs::write(&path, &input).unwrap();
        let out = strip_path(&[], &path);
        assert_eq!(out.status.code(), Some(2), "{name} in place");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("bad.ipynb"),
            "{name}"
        );
        assert_eq!(fs::read(&path).unwrap(), input, "{name}: file modified");
    }
}

#[test]
fn other_files_are_still_processed_after_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (bad, good) = (dir.path().join("a.ipynb"), dir.path().join("b.ipynb"));
    fs::write(&bad, "{").unwrap();
    fs::write(&good, DIRTY).unwrap();
    let out = mlguard()
        .args(["strip", "--no-config"])
        .arg(&bad)
        .arg(&good)
        .arg(dir.path().join("missing.ipynb"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 2);
    assert!(!fs::read_to_string(&good).unwrap().contains("hf_secret"));
}

#[test]
fn closed_stdout_and_dev_null_are_fine() {
    let image = "iVBORw0KGgo".repeat(50_000);
    let big = serde_json::json!({
        "cells": (0..10).map(|i| serde_json::json!({"cell_type": "code", "execution_count": i, "metadata": {}, "source": [format!("plot({i})")],
            "outputs": [{"data": {"image/png": image}, "metadata": {}, "output_type": "display_data"}]})).collect::<Vec<_>>(),
        "metadata": {}, "nbformat": 4, "nbformat_minor": 4
    })
    .to_string();
    assert!(big.len() > 5_000_000);
    let big = big.into_bytes();
    let mut cmd = mlguard();
    cmd.args(["strip", "--no-config", "--keep-output"]);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take()); // the reader goes away before anything is written
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&big).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.code().is_some(), "killed by a signal");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));

    let null = fs::File::create("/dev/null").unwrap();
    let status = mlguard()
        .args(["strip", "--no-config"])
        .stdin(fs::File::open(fixture("notebooks/v40-minimal.ipynb")).unwrap())
        .stdout(null)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "writing to /dev/null must work (nbstripout fails there)"
    );
}

fn write_config(dir: &Path, name: &str, text: &str) {
    fs::create_dir_all(dir.join(".git")).unwrap();
    fs::write(dir.join(name), text).unwrap();
}

#[test]
fn config_file_sets_defaults_and_cli_adds_to_them() {
    for (name, text) in [
        (
            ".mlguard.toml",
            "[strip]\nkeep_count = true\nextra_keys = ['metadata.kernelspec']\ndrop_tagged_cells = 'solution'\n",
        ),
        (
            "pyproject.toml",
            "[project]\nname = 'x'\n\n[tool.mlguard.strip]\nkeep_count = true\nextra_keys = 'metadata.kernelspec'\ndrop_tagged_cells = ['solution']\n",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write_config(dir.path(), name, text);
        let sub = dir.path().join("notebooks/deep");
        fs::create_dir_all(&sub).unwrap();
        let mut cmd = mlguard();
        cmd.current_dir(&sub)
            .args(["strip", "--drop-tagged-cells", "draft"]);
        let nb = stdout_json(&run_with_stdin(cmd, DIRTY.as_bytes()));
        assert_eq!(
            nb["cells"][0]["execution_count"], 3,
            "{name}: keep_count from config"
        );
        assert!(
            nb["metadata"].get("kernelspec").is_none(),
            "{name}: extra_keys from config"
        );
        assert_eq!(
            nb["cells"].as_array().unwrap().len(),
            1,
            "{name}: tags from config and CLI"
        );
    }
}

#[test]
fn config_errors_name_the_file_and_key() {
    for (name, text, needle) in [
        (
            ".mlguard.toml",
            "[strip]\nkeep_outputs = true\n",
            "keep_outputs",
        ),
        (".mlguard.toml", "[strip\n", ".mlguard.toml"),
        (
            ".mlguard.toml",
            "[strip]\nextra_keys = 'kernelspec'\n",
            "kernelspec",
        ),
        (".mlguard.toml", "[strip]\nmax_size = '1.5k'\n", "max_size"),
        (
            "pyproject.toml",
            "[tool.mlguard.strip]\nbogus = 1\n",
            "bogus",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write_config(dir.path(), name, text);
        let mut cmd = mlguard();
        cmd.current_dir(dir.path()).arg("strip");
        let out = run_with_stdin(cmd, DIRTY.as_bytes());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(out.stdout.is_empty());
        assert!(
            stderr.contains(name) && stderr.contains(needle),
            "{text}: {stderr}"
        );
    }
}

#[test]
fn config_lookup_stops_at_the_repository_root() {
    let outer = tempfile::tempdir().unwrap();
    fs::write(
        outer.path().join(".mlguard.toml"),
        "[strip]\nkeep_count = true\n",
    )
    .unwrap();
    let repo = outer.path().join("repo");
    fs::create_dir_all(repo.join(".git")).unwrap();
    let mut cmd = mlguard();
    cmd.current_dir(&repo).arg("strip");
    let nb = stdout_json(&run_with_stdin(cmd, DIRTY.as_bytes()));
    assert_eq!(nb["cells"][0]["execution_count"], serde_json::Value::Null);
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["--max-size", "1.5k"][..],
        &["--extra-keys", "kernelspec"],
        &["--keep-output-type", "a:b:c"],
        &["--mode", "vscode"],
        &["--bogus"],
    ] {
        let out = strip_stdin(args, DIRTY.as_bytes());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
    }
}

// Deviations from nbstripout, each with the input that shows it (README, "Deviations").

#[test]
fn deviation_drop_tagged_cells_drops_every_listed_tag() {
    let nb = stdout_json(&strip_stdin(
        &["--drop-tagged-cells", "solution draft"],
        DIRTY.as_bytes(),
    ));
    assert_eq!(nb["cells"].as_array().unwrap().len(), 1);
}

#[test]
fn deviation_v3_code_cells_are_judged_by_their_input() {
    let input = fs::read(fixture("notebooks/v3-worksheets.ipynb")).unwrap();
    let nb = stdout_json(&strip_stdin(&["--drop-empty-cells"], &input));
    let cells = nb["worksheets"][0]["cells"].as_array().unwrap();
    assert!(
        cells.iter().any(|c| c["cell_type"] == "code"),
        "v3 code cells with input must stay"
    );
}

#[test]
fn deviation_bom_and_lone_surrogate_are_accepted() {
    let bom = fs::read(fixture("notebooks/utf8-bom.ipynb")).unwrap();
    let without = strip_stdin(&[], &bom[3..]);
    assert_eq!(strip_stdin(&[], &bom).stdout, without.stdout);
    let lone = strip_stdin(
        &[],
        &fs::read(fixture("notebooks/lone-surrogate.ipynb")).unwrap(),
    );
    assert!(lone.status.success());
    assert!(String::from_utf8_lossy(&lone.stdout).contains("\\ud800"));
}

#[test]
fn deviation_keep_output_type_does_not_swallow_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nb.ipynb");
    fs::write(&path, DIRTY).unwrap();
    let out = strip_path(&["--keep-output-type", "error"], &path);
    assert!(out.status.success());
    assert!(!fs::read_to_string(&path).unwrap().contains("hf_secret"));
}

#[test]
fn deviation_missing_ids_are_deterministic_with_keep_id() {
    let input = fs::read(fixture("notebooks/v45-missing-ids.ipynb")).unwrap();
    let first = strip_stdin(&["--keep-id"], &input);
    let second = strip_stdin(&["--keep-id"], &input);
    assert!(first.status.success());
    assert_eq!(first.stdout, second.stdout);
    let nb = stdout_json(&first);
    let ids: Vec<&str> = nb["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
}

#[test]
fn zeppelin_mode_empties_results() {
    // The expected bytes are nbstripout 0.9.1's output for the same note.
    let out = strip_stdin(
        &["--mode", "zeppelin"],
        &fs::read(fixture("notebooks/note.zpln")).unwrap(),
    );
    assert!(out.status.success());
    assert_eq!(
        out.stdout,
        fs::read(fixture("notebooks/note.zpln.expected")).unwrap()
    );
}

/// nbstripout's syntax for options with several values, as a git filter would run it: the
/// notebook comes on stdin, and every word is a type (previously `execute_result` was taken for
/// a file, skipped, and an empty notebook stored).
#[test]
fn multi_value_options_take_every_word_up_to_a_path() {
    let nb = r#"{"cells": [{"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [{"name": "stdout", "output_type": "stream", "text": ["a\n"]}, {"data": {"text/plain": ["1"]}, "execution_count": 1, "metadata": {}, "output_type": "execute_result"}, {"ename": "E", "evalue": "v", "output_type": "error", "traceback": []}], "source": ["1"]}], "metadata": {"tags": []}, "nbformat": 4, "nbformat_minor": 4}"#;
    let out = strip_stdin(
        &["--keep-output-type", "stream:stdout", "execute_result"],
        nb.as_bytes(),
    );
    let kept: Vec<String> = stdout_json(&out)["cells"][0]["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["output_type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kept, ["stream", "execute_result"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nb.ipynb");
    fs::write(&path, nb).unwrap();
    let out = mlguard()
        .current_dir(dir.path())
        .args([
            "strip",
            "--no-config",
            "--drop-tagged-cells",
            "draft",
            "solution",
            "--keep-output-type",
            "error",
            "nb.ipynb",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stripped: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(stripped["cells"][0]["outputs"][0]["output_type"], "error");
}

#[test]
fn a_path_that_does_not_exist_is_an_error_whatever_its_extension() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["missing.ipynb", "missing.py", "missing"] {
        let out = mlguard()
            .current_dir(dir.path())
            .args(["strip", "--no-config", "--verify", name])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(name));
    }
}

#[test]
fn a_file_that_is_not_a_notebook_is_named_as_skipped() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.py"), DIRTY).unwrap();
    let out = strip_path(&[], &dir.path().join("a.py"));
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("skipped, not a notebook")
            && String::from_utf8_lossy(&out.stderr).contains("-f"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read_to_string(dir.path().join("a.py")).unwrap(), DIRTY);
}

/// `--verify DIR` looks at every notebook below it, as `git ls-files` sees them.
#[test]
fn verify_of_a_directory_recurses_and_honours_gitignore() {
    let repo = git_repo();
    let nested = repo.path().join("nb/deep");
    fs::create_dir_all(&nested).unwrap();
    let clean = stdout_json(&strip_stdin(&[], DIRTY.as_bytes())).to_string();
    fs::write(repo.path().join("nb/clean.ipynb"), &clean).unwrap();
    fs::write(repo.path().join(".gitignore"), "scratch/\n").unwrap();
    fs::create_dir_all(repo.path().join("nb/scratch")).unwrap();
    fs::write(repo.path().join("nb/scratch/ignored.ipynb"), DIRTY).unwrap();
    let verify = |dir: &Path| {
        mlguard()
            .current_dir(repo.path())
            .args(["strip", "--no-config", "--verify"])
            .arg(dir)
            .output()
            .unwrap()
    };
    let out = verify(Path::new("nb"));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    fs::write(nested.join("dirty.ipynb"), DIRTY).unwrap();
    let out = verify(Path::new("nb"));
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("nb/deep/dirty.ipynb"), "{stdout}");
    assert!(!stdout.contains("ignored"), "{stdout}");
    assert_eq!(
        verify(repo.path()).status.code(),
        Some(1),
        "absolute path too"
    );
    // In place, a directory strips every notebook below it.
    let out = strip_path(&[], &repo.path().join("nb"));
    assert!(out.status.success());
    assert_eq!(verify(Path::new("nb")).status.code(), Some(0));
}

/// In place, a notebook keeps its owner and group (where the caller may set them), and every
/// hard link to it sees the stripped content.
#[test]
fn in_place_keeps_owner_group_and_hard_links() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nb.ipynb");
    let link = dir.path().join("link.ipynb");
    fs::write(&path, DIRTY).unwrap();
    fs::hard_link(&path, &link).unwrap();
    let running_as_root = fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if running_as_root {
        std::os::unix::fs::chown(&path, Some(12345), Some(23456)).unwrap();
    } else {
        partial("not root: the owner/group part needs to run as root (as in CI)");
    }
    let before = fs::metadata(&path).unwrap();
    let out = strip_path(&[], &path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = fs::metadata(&path).unwrap();
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    assert_eq!(
        after.ino(),
        before.ino(),
        "rewritten in place, not replaced"
    );
    assert!(!fs::read_to_string(&link).unwrap().contains("hf_secret"));
    assert_eq!(fs::read(&link).unwrap(), fs::read(&path).unwrap());
    let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 2, "no temporary file left behind");

    // A single link is replaced through a rename, owner kept.
    let single = dir.path().join("single.ipynb");
    fs::write(&single, DIRTY).unwrap();
    if running_as_root {
        std::os::unix::fs::chown(&single, Some(12345), Some(23456)).unwrap();
    }
    let before = fs::metadata(&single).unwrap();
    assert!(strip_path(&[], &single).status.success());
    let after = fs::metadata(&single).unwrap();
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
}

/// nbformat 4.5 requires cell ids: where `--extra-keys cell.id` removes them, nbformat would
/// write random ones (a new diff on every run); mlguard writes the cell's index.
#[test]
fn deviation_extra_keys_cell_id_keeps_4_5_cells_valid() {
    let input = fs::read(fixture("notebooks/v45-missing-ids.ipynb")).unwrap();
    for args in [
        &["--extra-keys", "cell.id"][..],
        &["--keep-id", "--extra-keys", "cell.id"],
    ] {
        let first = strip_stdin(args, &input);
        assert_eq!(first.stdout, strip_stdin(args, &input).stdout, "{args:?}");
        let ids: Vec<String> = stdout_json(&first)["cells"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, ["0", "1"], "{args:?}");
    }
}

/// A `.zpln` note is stripped as a Zeppelin note whatever `--mode` says (nbstripout needs
/// `-m zeppelin` for it and fails otherwise), as the git filter does.
#[test]
fn deviation_zeppelin_notes_need_no_mode_flag() {
    let dir = tempfile::tempdir().unwrap();
    let note = dir.path().join("note.zpln");
    fs::copy(fixture("notebooks/note.zpln"), &note).unwrap();
    assert!(strip_path(&[], &note).status.success());
    assert_eq!(
        fs::read(&note).unwrap(),
        fs::read(fixture("notebooks/note.zpln.expected")).unwrap()
    );
}
