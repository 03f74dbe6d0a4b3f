//! What CI relies on from `--range` and `--history` beyond the basic scan: exposure computed
//! over the whole range, revisions that cannot smuggle options into git, ranges that name no
//! commit, shallow and partial clones, damaged repositories, `skip_paths`, and messages outside
//! a repository. Each test drives the real binary on a real temporary repository.

use std::fs;
use std::path::Path;
use std::process::Output;

use crate::common::*;

const HF: &str = "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";
const GROQ: &str = "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";

fn write(dir: &Path, path: &str, text: &str) {
    let path = dir.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn commit(dir: &Path, message: &str) -> String {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", message]);
    git(dir, &["rev-parse", "HEAD"]).trim().to_string()
}

fn run(dir: &Path, args: &[&str]) -> Output {
    mlguard_in(dir).arg("scan").args(args).output().unwrap()
}

fn json(out: &Output) -> Vec<serde_json::Value> {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no JSON report: {}", String::from_utf8_lossy(&out.stderr)))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Issue 10: a key added in one commit of the range and its file edited in a later one is
/// still in HEAD, and both commits hold it.
#[test]
fn range_exposure_follows_the_file_through_later_edits() {
    let repo = git_repo();
    write(repo.path(), "README.md", "# project\n");
    let base = commit(repo.path(), "base");
    write(repo.path(), "cfg.py", &format!("KEY = \"{HF}\"\n"));
    let added = commit(repo.path(), "add key");
    write(
        repo.path(),
        "cfg.py",
        &format!("KEY = \"{HF}\"\nDEBUG = True\n"),
    );
    let edited = commit(repo.path(), "edit the file");
    write(repo.path(), "other.py", "x = 1\n");
    commit(repo.path(), "unrelated");

    for args in [
        vec!["--range".to_string(), format!("{base}..HEAD")],
        vec!["--history".to_string()],
    ] {
        let mut all = vec!["--no-config", "--format", "json"];
        all.extend(args.iter().map(String::as_str));
        let out = run(repo.path(), &all);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        let findings = json(&out);
        assert_eq!(findings.len(), 1, "{args:?}: {findings:#?}");
        let exposure = &findings[0]["exposure"];
        assert_eq!(exposure["in_head"], true, "{args:?}");
        assert_eq!(exposure["commits"], 3, "{args:?}: added, edited, unrelated");
        assert_eq!(exposure["first_commit"]["id"], added, "{args:?}");
        assert_ne!(exposure["last_commit"]["id"], edited);
        assert_eq!(findings[0]["file"], "cfg.py");
    }
}

/// Issue 9 §6: a revision is never handed to git as an option, and a range naming no commit is
/// an error.
#[test]
fn revisions_are_validated_and_cannot_be_options() {
    let repo = git_repo();
    write(repo.path(), "a.py", &format!("KEY = \"{HF}\"\n"));
    commit(repo.path(), "one");
    write(repo.path(), "b.py", "x = 1\n");
    commit(repo.path(), "two");
    let injected = repo.path().join("injected.txt");
    let option = format!("--range=--output={}", injected.display());
    for args in [
        vec!["--no-config", option.as_str()],
        vec!["--no-config", "--range=--all"],
        vec!["--no-config", "--range", "^HEAD~1"],
        vec!["--no-config", "--range", "no-such-branch..HEAD"],
        vec!["--no-config", "--range", "HEAD~1..no-such-branch"],
    ] {
        let out = run(repo.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("--range"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert!(!injected.exists(), "git was handed an option");

    // Both ends valid but nothing between them: an empty range, said so, not an error.
    let out = run(repo.path(), &["--no-config", "--range", "HEAD..HEAD"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("holds no commit"), "{}", stderr(&out));
}

/// Issue 10 §3: a missing object (here: a loose blob deleted from a repository that was never
/// packed) is named, everything else is scanned and reported, and the exit code is 2.
#[test]
fn a_missing_object_is_named_and_the_rest_is_reported() {
    let repo = git_repo();
    write(repo.path(), "keys.py", &format!("KEY = \"{HF}\"\n"));
    write(repo.path(), "lost.py", &format!("GROQ = \"{GROQ}\"\n"));
    commit(repo.path(), "one");
    let lost = git(repo.path(), &["rev-parse", "HEAD:lost.py"])
        .trim()
        .to_string();
    let object = repo
        .path()
        .join(".git/objects")
        .join(&lost[..2])
        .join(&lost[2..]);
    fs::remove_file(&object).unwrap();

    for range in [["--history", ""], ["--range", "HEAD"]] {
        let mut args = vec!["--no-config", "--format", "json", range[0]];
        if !range[1].is_empty() {
            args.push(range[1]);
        }
        let out = run(repo.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        let findings = json(&out);
        let rules: Vec<&str> = findings
            .iter()
            .map(|f| f["rule"].as_str().unwrap())
            .collect();
        assert_eq!(rules, ["huggingface-token"], "{args:?}");
        assert!(
            stderr(&out).contains(&lost) && stderr(&out).contains("missing"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(!stderr(&out).contains(HF));
    }
}

/// A partial clone (`--filter=blob:none`): the blobs it never fetched are named, never fetched
/// (no network at run time), and what it has is scanned.
#[test]
fn a_partial_clone_is_scanned_as_far_as_it_goes() {
    let origin = git_repo();
    write(origin.path(), "cfg.py", &format!("OLD = \"{GROQ}\"\n"));
    commit(origin.path(), "old");
    write(origin.path(), "cfg.py", &format!("KEY = \"{HF}\"\n"));
    commit(origin.path(), "new");
    git(origin.path(), &["config", "uploadpack.allowFilter", "true"]);
    let clones = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    git(
        clones.path(),
        &[
            "clone",
            "-q",
            "--no-local",
            "--filter=blob:none",
            &url,
            "partial",
        ],
    );
    let partial = clones.path().join("partial");
    let before = git(&partial, &["count-objects", "-v"]);

    let out = run(&partial, &["--no-config", "--format", "json", "--history"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let findings = json(&out);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["rule"], "huggingface-token");
    assert_eq!(findings[0]["exposure"]["in_head"], true);
    let text = stderr(&out);
    assert!(text.contains("missing object"), "{text}");
    assert!(text.contains("incomplete"), "{text}");
    assert_eq!(
        git(&partial, &["count-objects", "-v"]),
        before,
        "nothing was fetched"
    );
}

/// Issue 10 §3: `--history` in a shallow clone says that history is missing and how to fetch it.
#[test]
fn a_shallow_clone_is_named_with_the_way_to_fetch_the_rest() {
    let origin = git_repo();
    write(origin.path(), "old.py", &format!("OLD = \"{GROQ}\"\n"));
    commit(origin.path(), "old");
    write(origin.path(), "old.py", "gone\n");
    commit(origin.path(), "remove");
    write(origin.path(), "new.py", "x = 1\n");
    commit(origin.path(), "new");
    let clones = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    git(
        clones.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let shallow = clones.path().join("shallow");

    let out = run(&shallow, &["--no-config", "--history"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(
        text.contains("shallow") && text.contains("fetch-depth: 0"),
        "{text}"
    );
    // A full clone has no such note.
    let out = run(origin.path(), &["--no-config", "--history"]);
    assert!(!stderr(&out).contains("shallow"));
}

/// Issue 9 §4: `skip_paths` applies to `--range` and `--history` as to the hook and directory
/// scans; a secret also present under a path that is not skipped is still reported (fail closed).
#[test]
fn skip_paths_apply_to_history_and_ranges() {
    let repo = git_repo();
    write(
        repo.path(),
        ".mlguard.toml",
        "[scan]\nskip_paths = [\"fixtures/**\"]\n",
    );
    write(repo.path(), "README.md", "# p\n");
    let base = commit(repo.path(), "config");
    write(
        repo.path(),
        "fixtures/fake.py",
        &format!("KEY = \"{HF}\"\n"),
    );
    write(
        repo.path(),
        "fixtures/copy.py",
        &format!("GROQ = \"{GROQ}\"\n"),
    );
    commit(repo.path(), "fixtures");
    write(repo.path(), "src/real.py", &format!("GROQ = \"{GROQ}\"\n"));
    commit(repo.path(), "the same content outside the fixtures");

    for args in [
        vec!["--history".to_string()],
        vec!["--range".into(), format!("{base}..HEAD")],
    ] {
        let mut all = vec!["--format", "json"];
        all.extend(args.iter().map(String::as_str));
        let out = run(repo.path(), &all);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let findings = json(&out);
        let rules: Vec<&str> = findings
            .iter()
            .map(|f| f["rule"].as_str().unwrap())
            .collect();
        assert_eq!(rules, ["groq-api-key"], "{args:?}: {findings:#?}");
        assert_eq!(findings[0]["file"], "src/real.py", "{args:?}");
        assert_eq!(
            findings[0]["exposure"]["paths"],
            serde_json::json!(["src/real.py"]),
            "{args:?}"
        );
    }
    let out = run(repo.path(), &["--format", "json", "."]);
    assert_eq!(json(&out).len(), 1, "the directory scan agrees");
}

/// Issue 10 §3: outside a repository every git-using command says so and what to run, instead
/// of printing git's command line.
#[test]
fn outside_a_repository_the_message_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let commands: [&[&str]; 7] = [
        &["scan", "--staged"],
        &["scan", "--history"],
        &["scan", "--range", "HEAD~1..HEAD"],
        &["install"],
        &["status"],
        &["hook", "pre-commit"],
        &["uninstall"],
    ];
    for args in commands {
        let out = mlguard_in(dir.path())
            .args(args)
            .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
            .output()
            .unwrap();
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {text}");
        assert!(
            text.contains("not a git repository") && text.contains("git init"),
            "{args:?}: {text}"
        );
        assert!(
            !text.contains("rev-parse") && !text.contains("failed:"),
            "{args:?}: {text}"
        );
    }
}

/// Progress goes to a terminal only: with stderr redirected nothing but the notes is printed.
#[test]
fn no_progress_line_when_stderr_is_not_a_terminal() {
    let repo = git_repo();
    write(repo.path(), "a.py", "x = 1\n");
    commit(repo.path(), "one");
    let out = run(repo.path(), &["--no-config", "--history"]);
    let text = stderr(&out);
    assert!(
        !text.contains('\r') && !text.contains("scanning history"),
        "{text:?}"
    );
}

/// Issue 9 §2 for history: a blob over `max_file_size` is scanned in chunks as it streams from
/// git (never skipped), and it is named in a note.
#[test]
fn blobs_over_the_size_limit_are_streamed_not_skipped() {
    let repo = git_repo();
    write(
        repo.path(),
        ".mlguard.toml",
        "[scan]\nmax_file_size = 1000\n",
    );
    let base = commit(repo.path(), "config");
    let mut big = "x = 1\n".repeat(1000);
    big.push_str(&format!("KEY = \"{HF}\"\n"));
    write(repo.path(), "data/big.py", &big);
    commit(repo.path(), "big file");
    for args in [
        vec!["--history".to_string()],
        vec!["--range".into(), format!("{base}..HEAD")],
    ] {
        let mut all = vec!["--format", "json"];
        all.extend(args.iter().map(String::as_str));
        let out = run(repo.path(), &all);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let findings = json(&out);
        assert_eq!(findings.len(), 1, "{args:?}");
        assert_eq!(findings[0]["line"], 1001, "{args:?}");
        assert_eq!(findings[0]["exposure"]["in_head"], true, "{args:?}");
        let text = stderr(&out);
        assert!(
            text.contains("data/big.py") && text.contains("in chunks"),
            "{text}"
        );
    }
}
