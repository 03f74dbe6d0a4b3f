//! Failing closed (issue "no credential gets past the hook or CI"): each way a secret used to
//! get through is tried on a real repository, through the installed hook, `--staged`,
//! `--range` and a directory scan, and must be refused (or named in a note when it cannot be
//! scanned) without the whole secret ever being printed.

use std::fs;
use std::path::Path;
use std::process::Output;

use crate::common::*;

fn combined(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A deterministic pseudo-random base64 body (a fake key, the same every run).
fn base64_body(seed: u64, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            ALPHABET[(state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 58) as usize] as char
        })
        .collect()
}

fn pem(seed: u64) -> String {
    let body = base64_body(seed, 256);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
        lines.join("\n")
    )
}

fn installed_repo() -> tempfile::TempDir {
    let repo = git_repo();
    let out = mlguard_in(repo.path()).arg("install").output().unwrap();
    assert!(out.status.success(), "{}", combined(&out));
    repo
}

fn commit_unchecked(dir: &Path, message: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", message, "--no-verify"]);
}

/// The change staged in `repo` adds `rule`'s secret: `--staged` and the hook refuse it, and
/// once committed (past the hook) `--range BASE..HEAD` reports it. No output holds `secret`.
fn assert_refused_everywhere(repo: &Path, base: &str, rule: &str, secret: &str) {
    git(repo, &["add", "-A"]);
    let staged = mlguard_in(repo)
        .args(["scan", "--staged", "--no-config"])
        .output()
        .unwrap();
    let text = combined(&staged);
    assert_eq!(staged.status.code(), Some(1), "--staged: {text}");
    assert!(text.contains(rule), "--staged: {text}");
    assert!(
        !text.contains(secret),
        "--staged printed the secret: {text}"
    );

    let commit = git_output(repo, &["commit", "-m", "change"]);
    let text = combined(&commit);
    assert!(!commit.status.success(), "the hook let it through: {text}");
    assert!(text.contains(rule), "hook: {text}");
    assert!(
        !text.contains(secret),
        "the hook printed the secret: {text}"
    );

    git(repo, &["commit", "-qm", "change", "--no-verify"]);
    let range = mlguard_in(repo)
        .args(["scan", "--no-config", "--range", &format!("{base}..HEAD")])
        .output()
        .unwrap();
    let text = combined(&range);
    assert_eq!(range.status.code(), Some(1), "--range: {text}");
    assert!(text.contains(rule), "--range: {text}");
    assert!(!text.contains(secret), "--range printed the secret: {text}");
}

#[test]
fn a_private_key_rotated_in_place_is_new() {
    let repo = installed_repo();
    fs::write(repo.path().join("deploy.key"), pem(1)).unwrap();
    commit_unchecked(repo.path(), "old key");
    let base = git(repo.path(), &["rev-parse", "HEAD"]).trim().to_string();
    // Same BEGIN/END lines, new body.
    let rotated = pem(2);
    fs::write(repo.path().join("deploy.key"), &rotated).unwrap();
    let body_line = rotated.lines().nth(1).unwrap().to_string();
    assert_refused_everywhere(repo.path(), &base, "private-key", &body_line);
}

#[test]
fn a_real_key_under_a_header_the_file_already_had_is_new() {
    let repo = installed_repo();
    // Documentation with a placeholder key block, then the real key pasted under the same header.
    fs::write(
        repo.path().join("SETUP.md"),
        "Put your key here:\n-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    commit_unchecked(repo.path(), "docs");
    let base = git(repo.path(), &["rev-parse", "HEAD"]).trim().to_string();
    let key = pem(3).replace("RSA PRIVATE KEY", "PRIVATE KEY");
    fs::write(
        repo.path().join("SETUP.md"),
        format!("Put your key here:\n{key}"),
    )
    .unwrap();
    let body_line = key.lines().nth(2).unwrap().to_string();
    assert_refused_everywhere(repo.path(), &base, "private-key", &body_line);
}

#[test]
fn a_json_escaped_service_account_key_rotated_in_place_is_new() {
    let repo = installed_repo();
    let account = |seed: u64| {
        let key = pem(seed)
            .replace("RSA PRIVATE KEY", "PRIVATE KEY")
            .replace('\n', "\\n");
        format!(
            "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"ml-prod\",\n  \"private_key\": \"{key}\",\n  \"client_email\": \"trainer@ml-prod.iam.gserviceaccount.com\"\n}}\n"
        )
    };
    fs::write(repo.path().join("sa.json"), account(4)).unwrap();
    commit_unchecked(repo.path(), "sa");
    let base = git(repo.path(), &["rev-parse", "HEAD"]).trim().to_string();
    let rotated = account(5);
    fs::write(repo.path().join("sa.json"), &rotated).unwrap();
    let fragment = base64_body(5, 256)[64..128].to_string();
    assert_refused_everywhere(repo.path(), &base, "private-key", &fragment);
}

#[test]
fn an_unchanged_secret_in_an_edited_file_is_not_reported_again() {
    let repo = git_repo();
    let hf = "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";
    fs::write(repo.path().join("a.py"), format!("T = \"{hf}\"\n")).unwrap();
    commit_unchecked(repo.path(), "old");
    // The same secret moves to another line; nothing new is added.
    fs::write(
        repo.path().join("a.py"),
        format!("import os\n\nT = \"{hf}\"  # moved\n"),
    )
    .unwrap();
    git(repo.path(), &["add", "-A"]);
    let out = mlguard_in(repo.path())
        .args(["scan", "--staged", "--no-config"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", combined(&out));
}
