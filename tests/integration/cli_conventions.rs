//! Command-line conventions: shell completions, man pages, `--version` naming the rule set,
//! `--config FILE` / `MLGUARD_CONFIG`, and `NO_COLOR` wherever colour can appear.

use std::fs;

use crate::common::*;

const HF: &str = "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";

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn version_names_the_rule_set() {
    let rules = mlguard::scan::rules::builtin_specs().unwrap().len();
    for flag in ["--version", "-V"] {
        let out = mlguard().arg(flag).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!(
                "mlguard {} (rule set 5, {rules} rules)\n",
                env!("CARGO_PKG_VERSION")
            )
        );
    }
}

#[test]
fn completions_for_four_shells_and_man_pages() {
    for (shell, marker) in [
        ("bash", "complete -F _mlguard"),
        ("zsh", "#compdef mlguard"),
        ("fish", "complete -c mlguard"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = mlguard().args(["completions", shell]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(
            script.contains("filter-process") && script.contains("range"),
            "{shell}: subcommands and their options"
        );
    }
    let out = mlguard().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "unknown shell: usage error");

    let out = mlguard().arg("man").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.starts_with(".ie") || page.contains(".TH mlguard 1"),
        "{page}"
    );
    assert!(page.contains(".TH mlguard 1") && page.contains("completions"));
    let out = mlguard().args(["man", "scan"]).output().unwrap();
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.contains(".TH mlguard-scan 1") && page.contains("\\-\\-range"),
        "{page}"
    );
    let out = mlguard().args(["man", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("no subcommand `nope`"));
}

#[test]
fn config_file_from_the_flag_or_the_environment() {
    let dir = git_repo();
    fs::write(dir.path().join("a.py"), format!("KEY = \"{HF}\"\n")).unwrap();
    let policy = tempfile::tempdir().unwrap();
    let file = policy.path().join("org-policy.toml");
    fs::write(
        &file,
        "[scan]\ndisable_rules = [\"huggingface-token\", \"generic-secret-assignment\"]\n",
    )
    .unwrap();

    let found = mlguard_in(dir.path())
        .args(["scan", "a.py"])
        .output()
        .unwrap();
    assert_eq!(found.status.code(), Some(1), "{}", text(&found));
    let flag = mlguard_in(dir.path())
        .args(["scan", "a.py", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(flag.status.code(), Some(0), "{}", text(&flag));
    let before_subcommand = mlguard_in(dir.path())
        .arg("--config")
        .arg(&file)
        .args(["scan", "a.py"])
        .output()
        .unwrap();
    assert_eq!(
        before_subcommand.status.code(),
        Some(0),
        "{}",
        text(&before_subcommand)
    );
    let env = mlguard_in(dir.path())
        .args(["scan", "a.py"])
        .env("MLGUARD_CONFIG", &file)
        .output()
        .unwrap();
    assert_eq!(env.status.code(), Some(0), "{}", text(&env));
    // --no-config wins over both.
    let none = mlguard_in(dir.path())
        .args(["scan", "a.py", "--no-config"])
        .env("MLGUARD_CONFIG", &file)
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(1), "{}", text(&none));
    // A missing or invalid file is an error naming it (exit 2), never a silent default.
    let missing = mlguard_in(dir.path())
        .args(["scan", "a.py"])
        .env("MLGUARD_CONFIG", policy.path().join("absent.toml"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing).contains("absent.toml"), "{}", text(&missing));
    fs::write(&file, "[scan]\nunknown = 1\n").unwrap();
    let invalid = mlguard_in(dir.path())
        .args(["--config"])
        .arg(&file)
        .args(["strip", "--verify"])
        .arg(fixture("notebooks/demo.ipynb"))
        .output()
        .unwrap();
    assert_eq!(invalid.status.code(), Some(2));
    assert!(
        text(&invalid).contains("org-policy.toml"),
        "{}",
        text(&invalid)
    );

    // Before the subcommand, --config does not hide strip's multi-value options from the
    // parser that joins their values (as nbstripout reads them).
    fs::write(&file, "").unwrap();
    fs::copy(fixture("notebooks/demo.ipynb"), dir.path().join("nb.ipynb")).unwrap();
    let multi = mlguard_in(dir.path())
        .arg("--config")
        .arg(&file)
        .args([
            "strip",
            "--keep-output-type",
            "error",
            "stream:stdout",
            "nb.ipynb",
        ])
        .output()
        .unwrap();
    assert_eq!(multi.status.code(), Some(0), "{}", text(&multi));
}

#[test]
fn no_color_turns_off_the_only_colour_there_is() {
    // mlguard's own reports have no colour; clap's help and usage errors do when forced.
    let forced = mlguard()
        .arg("--help")
        .env("CLICOLOR_FORCE", "1")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert!(
        forced.stdout.contains(&0x1b),
        "the check can fail: colour is forced"
    );
    for args in [&["--help"][..], &["scan", "--bogus"][..]] {
        let out = mlguard()
            .args(args)
            .env("CLICOLOR_FORCE", "1")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(
            !out.stdout.contains(&0x1b) && !out.stderr.contains(&0x1b),
            "{args:?}: {}",
            text(&out)
        );
    }
    let out = mlguard()
        .args(["scan", "--bogus"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "usage errors still exit 2");
    // Reports never colour, whatever the environment says.
    let dir = git_repo();
    fs::write(dir.path().join("a.py"), format!("KEY = \"{HF}\"\n")).unwrap();
    let out = mlguard_in(dir.path())
        .args(["scan", "a.py"])
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(!out.stdout.contains(&0x1b) && !out.stderr.contains(&0x1b));
}
