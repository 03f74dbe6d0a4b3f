//! Failing closed (issue "no credential gets past the hook or CI"): each way a secret used to
//! get through is tried on a real repository, through the installed hook, `--staged`,
//! `--range` and a directory scan, and must be refused (or named in a note when it cannot be
//! scanned) without the whole secret ever being printed.

use std::fs;
use std::path::Path;

use crate::common::*;

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
    assert_refused_everywhere(repo.path(), &base, "gcp-service-account-key", &fragment);
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

const HF: &str = "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";
const AWS_ID: &str = "AKIALVFUPXQMB2Y2NYRV";
const GITHUB: &str = "ghp_MHwkpu9mq9Ugk9QgmyjjYtUtBrmgO6grn4yD";

/// An installed repository with one commit; returns it and that commit.
fn repo_with_base() -> (tempfile::TempDir, String) {
    let repo = installed_repo();
    fs::write(repo.path().join("README.md"), "# project\n").unwrap();
    commit_unchecked(repo.path(), "base");
    let base = git(repo.path(), &["rev-parse", "HEAD"]).trim().to_string();
    (repo, base)
}

/// `files` hold `rule`'s `secret`: a directory scan finds it, and so do `--staged`, the hook
/// and `--range` (see `assert_refused_everywhere`).
fn assert_found_everywhere(files: &[(&str, Vec<u8>)], rule: &str, secret: &str) {
    assert_found(files, rule, secret, Filter::Active);
}

/// Whether the clone strips notebooks when they are staged.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Filter {
    Active,
    /// As in a clone without the driver: outputs reach the index (the hook then refuses them).
    Absent,
}

fn assert_found(files: &[(&str, Vec<u8>)], rule: &str, secret: &str, filter: Filter) {
    let (repo, base) = repo_with_base();
    if filter == Filter::Absent {
        git(
            repo.path(),
            &["config", "--unset", "filter.mlguard.process"],
        );
        git(repo.path(), &["config", "--unset", "filter.mlguard.clean"]);
    }
    for (name, content) in files {
        let path = repo.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
    let dir = mlguard_in(repo.path())
        .args(["scan", "--no-config", "."])
        .output()
        .unwrap();
    let text = combined(&dir);
    assert_eq!(dir.status.code(), Some(1), "directory scan: {text}");
    assert!(text.contains(rule), "directory scan: {text}");
    assert!(
        !text.contains(secret),
        "directory scan printed the secret: {text}"
    );
    assert_refused_everywhere(repo.path(), &base, rule, secret);
}

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xff, 0xfe];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

#[test]
fn utf16_files_are_decoded_and_scanned() {
    // What PowerShell's `>` writes: UTF-16LE with a BOM, CRLF line ends.
    assert_found_everywhere(
        &[(
            "prod.env",
            utf16le_with_bom(&format!("AWS_ACCESS_KEY_ID={AWS_ID}\r\n")),
        )],
        "aws-access-key-id",
        AWS_ID,
    );
    let no_bom: Vec<u8> = format!("token = \"{HF}\"\n")
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    assert_found_everywhere(&[("train.py", no_bom)], "huggingface-token", HF);
}

#[test]
fn a_text_file_with_a_stray_nul_and_a_binary_file_are_scanned() {
    let mut stray = b"\0".to_vec();
    stray.extend(format!("token = \"{GITHUB}\"\n").as_bytes());
    assert_found_everywhere(&[("setup.py", stray)], "github-token", GITHUB);
    let mut binary: Vec<u8> = (0..=255u8).cycle().take(5000).collect();
    binary.extend(format!("\0{HF}\0").as_bytes());
    binary.extend((0..=255u8).cycle().take(5000));
    assert_found_everywhere(&[("model.pkl", binary)], "huggingface-token", HF);
}

/// Fixture (held-out 13: two LangChain `vectorstore.pkl` files): a pickle writes a string's
/// length just before it, and a length of 32 to 126 is a printable byte glued to the token
/// (`3sk-…` for 51 characters). The token is found all the same.
#[test]
fn a_token_behind_a_printable_length_byte_in_a_pickle_is_found() {
    // An OpenAI key of the older shape: 51 characters, written after the byte 51, `3`.
    let key = "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";
    assert_eq!(key.len(), 51);
    let mut pickle =
        b"\x80\x04\x95\x1f\x02\x00\x00\x00\x00\x00\x00\x8c\x1blangchain.embeddings.openai\x94"
            .to_vec();
    pickle.extend(b"\x8c\x0eopenai_api_key\x94\x8c");
    pickle.push(key.len() as u8);
    pickle.extend(key.as_bytes());
    pickle.extend(b"\x94\x8c\x0fopenai_api_base\x94N\x8c\x05model\x94");
    pickle.extend((0..=255u8).cycle().take(4000));
    assert_found_everywhere(&[("vectorstore.pkl", pickle)], "openai-api-key", key);
}

#[test]
fn a_utf8_bom_never_hides_line_1() {
    let password = "8KUCERkj9Zhx9PkO3x";
    let mut content = b"\xef\xbb\xbf".to_vec();
    content.extend(format!("export DB_PASSWORD=\"{password}\"\n").as_bytes());
    assert_found_everywhere(&[("deploy.sh", content)], "shell-export-secret", password);
}

#[test]
fn a_token_in_a_file_name_is_found_and_never_printed() {
    assert_found_everywhere(
        &[(&format!("keys/{HF}.txt"), b"nothing here\n".to_vec())],
        "huggingface-token",
        HF,
    );
}

/// Files over `max_file_size` are streamed in chunks, not skipped: a token anywhere, including
/// across the border of two chunks, is found once.
#[test]
fn files_over_the_size_limit_are_streamed_not_skipped() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join(".git")).unwrap();
    fs::write(
        dir.path().join(".mlguard.toml"),
        "[scan]\nmax_file_size = 1000\n",
    )
    .unwrap();
    let chunk = 8 << 20;
    let mut big = vec![b'x'; chunk + (1 << 20)];
    for (i, at) in [10, chunk - 20, chunk + 100_000].into_iter().enumerate() {
        let line = format!("\nk{i} = \"{HF}\"\n");
        big[at..at + line.len()].copy_from_slice(line.as_bytes());
    }
    fs::write(dir.path().join("dump.log"), &big).unwrap();
    let out = mlguard_in(dir.path())
        .args(["scan", "--format", "json", "dump.log"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", combined(&out));
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let lines: Vec<u64> = findings
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    assert_eq!(
        lines,
        [2, 4, 6],
        "each token once, at its line: {findings:#?}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("larger files are streamed"),
        "the limit is named: {}",
        combined(&out)
    );
}

/// What cannot be scanned (a compressed archive) is named on stderr in every mode.
#[test]
fn a_compressed_file_is_named_in_a_note_in_every_mode() {
    let (repo, _) = repo_with_base();
    let mut zip = b"PK\x03\x04".to_vec();
    zip.extend([0u8; 40]);
    fs::write(repo.path().join("weights.zip"), &zip).unwrap();
    git(repo.path(), &["add", "weights.zip"]);
    for args in [
        &["scan", "--no-config", "."][..],
        &["scan", "--no-config", "--staged"],
    ] {
        let out = mlguard_in(repo.path()).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("not scanned (zip archive") && stderr.contains("weights.zip"),
            "{args:?}: {stderr}"
        );
    }
    let commit = git_output(repo.path(), &["commit", "-m", "weights"]);
    let text = combined(&commit);
    assert!(text.contains("not scanned (zip archive"), "hook: {text}");
}

fn notebook(cell: serde_json::Value) -> Vec<u8> {
    serde_json::json!({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 4})
        .to_string()
        .into_bytes()
}

#[test]
fn notebook_keys_and_look_alike_skip_places_are_scanned() {
    // A token as a key in cell metadata.
    let in_key = notebook(
        serde_json::json!({"cell_type": "markdown", "metadata": {HF: true}, "source": ["x"]}),
    );
    assert_found_everywhere(&[("a.ipynb", in_key)], "huggingface-token", HF);
    // Under a key named model_id or image/png outside the places the schemas define.
    let model_id = notebook(
        serde_json::json!({"cell_type": "markdown", "metadata": {"model_id": GITHUB}, "source": ["x"]}),
    );
    assert_found_everywhere(&[("b.ipynb", model_id)], "github-token", GITHUB);
    let image = notebook(
        serde_json::json!({"cell_type": "markdown", "metadata": {"image/png": format!("key {HF}")}, "source": ["x"]}),
    );
    assert_found_everywhere(&[("c.ipynb", image)], "huggingface-token", HF);
    // A token as a key of an application/json output (which the filter strips, so this one is
    // staged unfiltered).
    let json_output = notebook(
        serde_json::json!({"cell_type": "code", "execution_count": 1, "metadata": {}, "source": ["x"],
        "outputs": [{"output_type": "execute_result", "execution_count": 1, "metadata": {}, "data": {"application/json": {GITHUB: 1}}}]}),
    );
    assert_found(
        &[("d.ipynb", json_output)],
        "github-token",
        GITHUB,
        Filter::Absent,
    );
}

#[test]
fn a_source_line_split_across_list_items_is_scanned_whole() {
    let (first, second) = HF.split_at(15);
    let split = notebook(
        serde_json::json!({"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],
        "source": [format!("login(token=\"{first}"), format!("{second}\")\n")]}),
    );
    assert_found_everywhere(&[("split.ipynb", split)], "huggingface-token", HF);
}

#[test]
fn the_hook_refuses_zeppelin_notes_with_results() {
    let repo = installed_repo();
    // Stage the note past the filter, as a clone without the driver would.
    git(
        repo.path(),
        &["config", "--unset", "filter.mlguard.process"],
    );
    git(repo.path(), &["config", "--unset", "filter.mlguard.clean"]);
    let note = serde_json::json!({"paragraphs": [{"text": "%python\nprint(1)", "results": {"code": "SUCCESS", "msg": [{"type": "TEXT", "data": "1\n"}]}}], "name": "n"});
    fs::write(repo.path().join("note.zpln"), note.to_string()).unwrap();
    git(repo.path(), &["add", "note.zpln"]);
    let commit = git_output(repo.path(), &["commit", "-m", "note"]);
    let text = combined(&commit);
    assert!(!commit.status.success(), "{text}");
    assert!(text.contains("note.zpln: notebook-outputs"), "{text}");
}

/// A pull request that adds a secret and the setting that hides it: the range is judged by
/// the settings at its base, and the note says so.
#[test]
fn a_range_reads_weakening_settings_from_its_base() {
    let (repo, base) = repo_with_base();
    fs::write(
        repo.path().join(".mlguard.toml"),
        "[scan]\nskip_paths = [\"**\"]\ndisable_rules = [\"huggingface-token\"]\nallow_regexes = [\"^hf_\"]\n",
    )
    .unwrap();
    fs::write(repo.path().join("train.py"), format!("T = \"{HF}\"\n")).unwrap();
    commit_unchecked(repo.path(), "config and secret together");
    let range = mlguard_in(repo.path())
        .args(["scan", "--range", &format!("{base}..HEAD")])
        .output()
        .unwrap();
    let text = combined(&range);
    assert_eq!(range.status.code(), Some(1), "{text}");
    assert!(text.contains("huggingface-token"), "{text}");
    // The same config, read from the working tree by a directory scan: named in a note.
    let dir = mlguard_in(repo.path())
        .args(["scan", "."])
        .output()
        .unwrap();
    let text = combined(&dir);
    assert_eq!(dir.status.code(), Some(0), "{text}");
    assert!(
        text.contains("settings from")
            && text.contains(".mlguard.toml")
            && text.contains("rules disabled: `huggingface-token`")
            && text.contains("paths skipped: `**`")
            && text.contains("secrets allowed by: `^hf_`"),
        "{text}"
    );
}

#[test]
fn settings_that_would_switch_scanning_off_are_refused_or_named() {
    for (config, needle) in [
        (
            "[scan]\nallow_regexes = [\"\"]\n",
            "matches the empty string",
        ),
        (
            "[scan]\nallow_regexes = [\".*\"]\n",
            "matches the empty string",
        ),
        (
            "[[scan.rules]]\nid = 'slow'\ndescription = 'x'\nregex = '(?P<secret>(?:[a-z]{1,50}){50})'\nkeywords = ['a']\n",
            "rule slow",
        ),
        (
            "[[scan.rules]]\nid = 'big'\ndescription = 'x'\nregex = 'a{100000}'\nkeywords = ['a']\n",
            "size limit",
        ),
    ] {
        let (repo, _) = repo_with_base();
        fs::write(repo.path().join(".mlguard.toml"), config).unwrap();
        fs::write(repo.path().join("train.py"), format!("T = \"{HF}\"\n")).unwrap();
        git(repo.path(), &["add", "."]);
        let staged = mlguard_in(repo.path())
            .args(["scan", "--staged"])
            .output()
            .unwrap();
        assert_eq!(
            staged.status.code(),
            Some(2),
            "{config}: {}",
            combined(&staged)
        );
        assert!(
            combined(&staged).contains(needle),
            "{config}: {}",
            combined(&staged)
        );
        let commit = git_output(repo.path(), &["commit", "-m", "x"]);
        assert!(!commit.status.success(), "{config}: the hook fails closed");
    }
}

/// Scan time is linear in the number of findings: a 1 MB line of 20,000 tokens and a 4 MB
/// file of 80,000 tokens are each scanned, every token reported (benches/many-tokens.sh
/// times them).
#[test]
fn many_tokens_on_one_line_or_in_one_file_are_all_reported() {
    let dir = tempfile::tempdir().unwrap();
    // No letter of a placeholder word (`your`, `xxxx`, `dummy`…), so no token is taken for one.
    const ALNUM: &[u8] = b"BFHIJKQVWZbfhijkqvwz0123456789";
    let token = |i: usize| {
        let mut state = (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let body: String = (0..36)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                ALNUM[(state >> 58) as usize % ALNUM.len()] as char
            })
            .collect();
        format!("ghp_{body}")
    };
    let line: String = (0..20_000).map(|i| format!("{} ", token(i))).collect();
    assert!(line.len() >= 800_000);
    fs::write(dir.path().join("one-line.txt"), &line).unwrap();
    let file: String = (0..80_000)
        .map(|i| format!("deploy_token_{i:06} = \"{}\"\n", token(i)))
        .collect();
    assert!(file.len() >= 4_000_000);
    fs::write(dir.path().join("many-lines.txt"), &file).unwrap();
    for (name, count) in [("one-line.txt", 20_000), ("many-lines.txt", 80_000)] {
        let out = mlguard_in(dir.path())
            .args(["scan", "--no-config", "--format", "json", name])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{name}");
        let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(findings.len(), count, "{name}");
    }
}

/// The hook script never expands the path it was installed with: a binary in a directory whose
/// name holds `$(…)`, backticks and a quote is neither run as a command nor a syntax error.
#[test]
fn a_hostile_binary_path_is_inert_in_the_hook() {
    let repo = git_repo();
    let tools = tempfile::tempdir().unwrap();
    let dir = tools.path().join("t$(touch PWNED)`touch PWNED2`\"q'");
    fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("mlguard");
    copy_mlguard(&exe);
    let install = std::process::Command::new(&exe)
        .current_dir(repo.path())
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", repo.path().join(".absent"))
        .arg("install")
        .output()
        .unwrap();
    assert!(install.status.success(), "{}", combined(&install));
    fs::write(repo.path().join("a.py"), "x = 1\n").unwrap();
    git(repo.path(), &["add", "a.py"]);
    let commit = git_output(repo.path(), &["commit", "-m", "with the binary"]);
    assert!(commit.status.success(), "{}", combined(&commit));
    fs::remove_file(&exe).unwrap();
    fs::write(repo.path().join("a.py"), "x = 2\n").unwrap();
    git(repo.path(), &["add", "a.py"]);
    let commit = git_command(repo.path())
        .env("PATH", "/usr/bin:/bin")
        .args(["commit", "-m", "without"])
        .output()
        .unwrap();
    let text = combined(&commit);
    assert!(!commit.status.success(), "{text}");
    assert!(
        text.contains("cannot find mlguard") && !text.contains("Syntax error"),
        "{text}"
    );
    for dir in [repo.path(), tools.path()] {
        assert!(!dir.join("PWNED").exists() && !dir.join("PWNED2").exists());
    }
}

#[test]
fn control_characters_in_paths_cannot_forge_report_lines() {
    let dir = tempfile::tempdir().unwrap();
    let name = "x\nfake.py:9:9: forged-rule: \u{1b}[2Jfake.py";
    fs::write(dir.path().join(name), format!("T = \"{HF}\"\n")).unwrap();
    let out = mlguard_in(dir.path())
        .args(["scan", "--no-config", "."])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
    assert!(
        !stdout.lines().any(|l| l.starts_with("fake.py:9:9")),
        "a forged line: {stdout}"
    );
}

#[test]
fn short_secrets_show_no_characters_and_config_errors_no_values() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join(".git")).unwrap();
    fs::write(dir.path().join(".env"), "DB_PASSWORD=Xq7pL2vN9sR4tW8z\n").unwrap();
    let out = mlguard_in(dir.path())
        .args(["scan", "--format", "json", "."])
        .output()
        .unwrap();
    let findings: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(findings[0]["redacted"], "\u{2026} (16 chars)");
    fs::write(
        dir.path().join(".mlguard.toml"),
        format!("[scan]\nskip_paths = \"{GITHUB}\"\n"),
    )
    .unwrap();
    let out = mlguard_in(dir.path()).args(["scan", "."]).output().unwrap();
    let text = combined(&out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("skip_paths") || text.contains("sequence"),
        "{text}"
    );
    assert!(!text.contains(&GITHUB[4..]), "the value is echoed: {text}");
}
