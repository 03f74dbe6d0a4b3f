//! The GitHub Action (`action.yml`) run on this machine: its steps are read from the YAML (with
//! the pinned PyYAML), the `run:` steps execute in bash as a runner would run them (the same
//! `GITHUB_*` / `RUNNER_*` variables, `GITHUB_OUTPUT`, `GITHUB_PATH`, `GITHUB_STEP_SUMMARY`, the
//! step conditions), and the two `uses:` steps are stood in for (the cache says hit or miss; the
//! SARIF upload records the file). The mlguard it installs is the wheel `.ci/test` built, from a
//! local wheelhouse. Events: a new branch, a pull request (from a fork and not), a push, a
//! shallow checkout, the first push of a repository, a manual run, and a cache hit. Then
//! actionlint (with shellcheck) on every workflow file and on the action's steps.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use crate::common::*;

const HF: &str = "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";
const AWS: &str = "AKIALVFUPXQMB2Y2NYRV";
const Z40: &str = "0000000000000000000000000000000000000000";

/// `action.yml` as JSON, parsed by PyYAML from the reference venv.
fn action() -> Value {
    let out = Command::new(reference_tool("python"))
        .args([
            "-c",
            "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
        ])
        .arg(manifest_dir().join("action.yml"))
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn wheelhouse() -> Option<PathBuf> {
    match std::env::var_os("MLGUARD_WHEELHOUSE").map(PathBuf::from) {
        Some(dir) if dir.is_dir() => Some(dir),
        _ => {
            skip(
                "needs the mlguard-cli wheel built from this checkout: run .ci/test, which builds \
                 it into target/wheels and sets MLGUARD_WHEELHOUSE",
            );
            None
        }
    }
}

/// What a step left behind.
#[derive(Debug, Default, Clone)]
struct StepState {
    outcome: String,
    outputs: BTreeMap<String, String>,
}

/// One simulated job running the action once.
struct Runner {
    _temp: tempfile::TempDir,
    action: Value,
    workspace: PathBuf,
    temp: PathBuf,
    tool_cache: PathBuf,
    home: PathBuf,
    find_links: PathBuf,
    event_name: String,
    event: Value,
    repository: String,
    actor: String,
    inputs: BTreeMap<String, String>,
    cache_hit: bool,
}

#[derive(Debug)]
struct Job {
    failed: bool,
    steps: Vec<(String, String)>,
    summary: String,
    log: String,
    uploads: Vec<String>,
    outputs: BTreeMap<String, String>,
}

impl Job {
    fn step(&self, name: &str) -> &str {
        self.steps
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, o)| o.as_str())
            .unwrap_or("absent")
    }

    fn sarif(&self) -> Value {
        let path = &self.outputs["sarif-file"];
        serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
    }

    fn rule_ids(&self) -> Vec<String> {
        self.sarif()["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["ruleId"].as_str().unwrap().to_string())
            .collect()
    }
}

struct Scope<'a> {
    runner: &'a Runner,
    steps: &'a BTreeMap<String, StepState>,
    failed: bool,
}

impl Scope<'_> {
    /// The value of a context path or a literal, as the expressions in action.yml use them.
    fn value(&self, atom: &str) -> String {
        let atom = atom.trim();
        if let Some(literal) = atom.strip_prefix('\'').and_then(|a| a.strip_suffix('\'')) {
            return literal.to_string();
        }
        let parts: Vec<&str> = atom.split('.').collect();
        let runner = self.runner;
        match parts[..] {
            ["inputs", name] => runner.inputs.get(name).cloned().unwrap_or_default(),
            ["steps", id, "outputs", name] => self
                .steps
                .get(id)
                .and_then(|s| s.outputs.get(name).cloned())
                .unwrap_or_default(),
            ["steps", id, "outcome"] => self
                .steps
                .get(id)
                .map(|s| s.outcome.clone())
                .unwrap_or_default(),
            ["github", "event_name"] => runner.event_name.clone(),
            ["github", "repository"] => runner.repository.clone(),
            ["github", "actor"] => runner.actor.clone(),
            ["github", "event", ..] => {
                let mut value = &runner.event;
                for key in &parts[2..] {
                    value = &value[*key];
                }
                match value {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                }
            }
            ["runner", "os"] => "Linux".into(),
            ["runner", "arch"] => "X64".into(),
            _ => panic!("the test's expression evaluator does not know `{atom}`"),
        }
    }

    fn truth(&self, expression: &str) -> bool {
        let expression = expression.trim();
        if let Some((left, right)) = expression.split_once("||") {
            return self.truth(left) || self.truth(right);
        }
        if let Some((left, right)) = expression.split_once("&&") {
            return self.truth(left) && self.truth(right);
        }
        match expression {
            "always()" => return true,
            "success()" => return !self.failed,
            "failure()" => return self.failed,
            _ => {}
        }
        if let Some((left, right)) = expression.split_once("!=") {
            return self.value(left) != self.value(right);
        }
        if let Some((left, right)) = expression.split_once("==") {
            return self.value(left) == self.value(right);
        }
        let value = self.value(expression);
        !value.is_empty() && value != "false"
    }

    /// A step's `if:`; without a status function it also needs every earlier step to succeed.
    fn condition(&self, condition: Option<&str>) -> bool {
        let Some(condition) = condition else {
            return !self.failed;
        };
        let condition = condition
            .trim()
            .strip_prefix("${{")
            .and_then(|c| c.strip_suffix("}}"))
            .unwrap_or(condition);
        let has_status = ["always()", "success()", "failure()", "cancelled()"]
            .iter()
            .any(|f| condition.contains(f));
        (has_status || !self.failed) && self.truth(condition)
    }

    fn interpolate(&self, text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("unclosed expression") + start;
            out.push_str(&self.value(&rest[start + 3..end]));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }
}

impl Runner {
    fn new(action: &Value, workspace: &Path, find_links: &Path, tool_cache: &Path) -> Runner {
        let dir = tempfile::tempdir().unwrap();
        let temp = dir.path().to_path_buf();
        let inputs = action["inputs"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, spec)| {
                (
                    name.clone(),
                    spec["default"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        Runner {
            _temp: dir,
            action: action.clone(),
            workspace: workspace.to_path_buf(),
            home: temp.join("home"),
            temp,
            tool_cache: tool_cache.to_path_buf(),
            find_links: find_links.to_path_buf(),
            event_name: "push".into(),
            event: json!({}),
            repository: "org/repo".into(),
            actor: "someone".into(),
            inputs,
            cache_hit: false,
        }
    }

    fn run(&self) -> Job {
        fs::create_dir_all(&self.home).unwrap();
        let event_path = self.temp.join("event.json");
        fs::write(&event_path, self.event.to_string()).unwrap();
        let path_file = self.temp.join("github-path");
        fs::write(&path_file, "").unwrap();
        let mut steps: BTreeMap<String, StepState> = BTreeMap::new();
        let mut job = Job {
            failed: false,
            steps: Vec::new(),
            summary: String::new(),
            log: String::new(),
            uploads: Vec::new(),
            outputs: BTreeMap::new(),
        };
        let reference_bin = reference_tool("python").parent().unwrap().to_path_buf();
        for (index, step) in self.action["runs"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
        {
            let id = step["id"]
                .as_str()
                .map_or_else(|| format!("__{index}"), str::to_string);
            let name = step["name"].as_str().unwrap_or(&id).to_string();
            let scope = Scope {
                runner: self,
                steps: &steps,
                failed: job.failed,
            };
            if !scope.condition(step["if"].as_str()) {
                job.steps.push((name, "skipped".into()));
                steps.insert(
                    id,
                    StepState {
                        outcome: "skipped".into(),
                        ..StepState::default()
                    },
                );
                continue;
            }
            let env: BTreeMap<String, String> = step["env"]
                .as_object()
                .map(|e| {
                    e.iter()
                        .map(|(k, v)| (k.clone(), scope.interpolate(v.as_str().unwrap_or(""))))
                        .collect()
                })
                .unwrap_or_default();
            let with: BTreeMap<String, String> = step["with"]
                .as_object()
                .map(|w| {
                    w.iter()
                        .map(|(k, v)| (k.clone(), scope.interpolate(v.as_str().unwrap_or(""))))
                        .collect()
                })
                .unwrap_or_default();
            let mut state = StepState::default();
            let succeeded = if let Some(uses) = step["uses"].as_str() {
                if uses.starts_with("actions/cache@") {
                    assert!(
                        !with["path"].is_empty() && !with["key"].is_empty(),
                        "{with:?}"
                    );
                    let hit = if self.cache_hit { "true" } else { "" };
                    state.outputs.insert("cache-hit".into(), hit.into());
                    true
                } else if uses.starts_with("github/codeql-action/upload-sarif@") {
                    job.uploads.push(with["sarif_file"].clone());
                    true
                } else {
                    panic!("the test does not stand in for {uses}");
                }
            } else {
                let script = step["run"].as_str().expect("a run or uses step");
                assert_eq!(step["shell"], "bash", "{name}: shell");
                let script_path = self.temp.join(format!("step-{index}.sh"));
                fs::write(&script_path, script).unwrap();
                let output_file = self.temp.join(format!("output-{index}"));
                let summary_file = self.temp.join(format!("summary-{index}"));
                fs::write(&output_file, "").unwrap();
                let mut path: Vec<String> = fs::read_to_string(&path_file)
                    .unwrap()
                    .lines()
                    .rev()
                    .map(str::to_string)
                    .collect();
                path.extend([
                    reference_bin.display().to_string(),
                    "/usr/local/bin".into(),
                    "/usr/bin".into(),
                    "/bin".into(),
                ]);
                let out = Command::new("bash")
                    .args(["--noprofile", "--norc", "-eo", "pipefail"])
                    .arg(&script_path)
                    .current_dir(&self.workspace)
                    .env_clear()
                    .env("PATH", path.join(":"))
                    .env("HOME", &self.home)
                    .env("CI", "true")
                    .env("GITHUB_ACTIONS", "true")
                    .env("GITHUB_EVENT_NAME", &self.event_name)
                    .env("GITHUB_EVENT_PATH", &event_path)
                    .env("GITHUB_WORKSPACE", &self.workspace)
                    .env("GITHUB_REPOSITORY", &self.repository)
                    .env("GITHUB_ACTOR", &self.actor)
                    .env("GITHUB_ACTION_PATH", manifest_dir())
                    .env("GITHUB_OUTPUT", &output_file)
                    .env("GITHUB_PATH", &path_file)
                    .env("GITHUB_STEP_SUMMARY", &summary_file)
                    .env("RUNNER_TEMP", &self.temp)
                    .env("RUNNER_TOOL_CACHE", &self.tool_cache)
                    .env("RUNNER_OS", "Linux")
                    .env("RUNNER_ARCH", "X64")
                    .env("PIP_NO_INDEX", "1")
                    .env("PIP_FIND_LINKS", &self.find_links)
                    .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
                    .env("GIT_CONFIG_NOSYSTEM", "1")
                    .env("GIT_CONFIG_GLOBAL", self.home.join(".gitconfig-absent"))
                    .envs(&env)
                    .output()
                    .expect("run bash");
                job.log.push_str(&format!(
                    "--- {name} (exit {:?})\n{}{}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ));
                for line in fs::read_to_string(&output_file).unwrap().lines() {
                    if let Some((key, value)) = line.split_once('=') {
                        state.outputs.insert(key.into(), value.into());
                    }
                }
                job.summary
                    .push_str(&fs::read_to_string(&summary_file).unwrap_or_default());
                out.status.success()
            };
            state.outcome = if succeeded { "success" } else { "failure" }.into();
            if !succeeded && step["continue-on-error"] != json!(true) {
                job.failed = true;
            }
            job.steps.push((name, state.outcome.clone()));
            steps.insert(id, state);
        }
        let scope = Scope {
            runner: self,
            steps: &steps,
            failed: job.failed,
        };
        for (name, spec) in self.action["outputs"].as_object().unwrap() {
            let value = scope.interpolate(spec["value"].as_str().unwrap());
            job.outputs.insert(name.clone(), value);
        }
        assert!(
            !job.log.contains(HF) && !job.summary.contains(HF) && !job.log.contains(AWS),
            "a whole secret was printed:\n{}",
            job.log
        );
        job
    }
}

/// The project's history, in a bare "origin": `main` holds an old key; `feature` adds a new
/// one; `clean` adds a harmless file; `nbout` adds a notebook that still has outputs.
struct Origin {
    dir: tempfile::TempDir,
    commits: BTreeMap<&'static str, String>,
}

fn origin() -> Origin {
    let work = git_repo();
    let w = work.path();
    let commit = |message: &str| {
        git(w, &["add", "-A"]);
        git(w, &["commit", "-q", "-m", message]);
        git(w, &["rev-parse", "HEAD"]).trim().to_string()
    };
    let mut commits = BTreeMap::new();
    fs::write(w.join("README.md"), "# project\n").unwrap();
    commits.insert("root", commit("root"));
    fs::write(w.join("old.py"), format!("AWS_KEY = \"{AWS}\"\n")).unwrap();
    commits.insert("main", commit("old key"));
    git(w, &["checkout", "-q", "-b", "feature"]);
    fs::write(w.join("train.py"), format!("login(token=\"{HF}\")\n")).unwrap();
    commits.insert("feature-key", commit("new key"));
    fs::write(w.join("eval.py"), "print('eval')\n").unwrap();
    commits.insert("feature", commit("eval"));
    git(w, &["checkout", "-q", "-b", "clean", "main"]);
    fs::write(w.join("notes.md"), "notes\n").unwrap();
    commits.insert("clean", commit("notes"));
    git(w, &["checkout", "-q", "-b", "nbout", "main"]);
    let notebook = json!({
        "cells": [{"cell_type": "code", "execution_count": 1, "metadata": {}, "source": ["print(1)\n"],
                   "outputs": [{"name": "stdout", "output_type": "stream", "text": ["1\n"]}]}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 4
    });
    fs::write(w.join("nb.ipynb"), notebook.to_string()).unwrap();
    commits.insert("nbout", commit("notebook"));
    let dir = tempfile::tempdir().unwrap();
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--bare",
            &w.display().to_string(),
            "origin.git",
        ],
    );
    Origin { dir, commits }
}

impl Origin {
    fn url(&self) -> String {
        format!("file://{}", self.dir.path().join("origin.git").display())
    }

    /// A checkout of `commit`, as actions/checkout with fetch-depth: 0 leaves it.
    fn checkout(&self, commit: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["clone", "-q", &self.url(), "ws"]);
        let ws = dir.path().join("ws");
        git(&ws, &["checkout", "-q", "--detach", commit]);
        dir
    }
}

struct Setup {
    action: Value,
    wheels: PathBuf,
    origin: Origin,
    tool_cache: tempfile::TempDir,
}

fn setup() -> Option<Setup> {
    if !require_reference_tools() {
        return None;
    }
    let wheels = wheelhouse()?;
    Some(Setup {
        action: action(),
        wheels,
        origin: origin(),
        tool_cache: tempfile::tempdir().unwrap(),
    })
}

impl Setup {
    fn runner(&self, workspace: &Path) -> Runner {
        Runner::new(
            &self.action,
            workspace,
            &self.wheels,
            self.tool_cache.path(),
        )
    }

    fn commit(&self, name: &str) -> String {
        self.origin.commits[name].clone()
    }
}

#[test]
fn action_scripts_take_inputs_only_through_env() {
    if !require_reference_tools() {
        return;
    }
    let action = action();
    assert_eq!(action["runs"]["using"], "composite");
    for step in action["runs"]["steps"].as_array().unwrap() {
        if let Some(script) = step["run"].as_str() {
            assert!(
                !script.contains("${{"),
                "step {:?} pastes an expression into its script",
                step["name"]
            );
            assert_eq!(step["shell"], "bash");
        } else {
            let uses = step["uses"].as_str().unwrap();
            let (_, version) = uses.split_once('@').unwrap();
            assert!(
                version.starts_with('v') && version[1..].chars().all(|c| c.is_ascii_digit()),
                "{uses}: pin a released major version"
            );
        }
    }
}

#[test]
fn action_on_a_new_branch_scans_only_what_the_default_branch_lacks() {
    let Some(s) = setup() else { return };
    let checkout = s.origin.checkout(&s.commit("feature"));
    let mut runner = s.runner(&checkout.path().join("ws"));
    runner.event = json!({
        "before": Z40, "after": s.commit("feature"), "ref": "refs/heads/feature",
        "repository": {"default_branch": "main"},
    });
    let job = runner.run();
    assert!(job.failed, "{}", job.log);
    assert_eq!(job.step("Summary and verdict"), "failure", "{}", job.log);
    assert_eq!(
        job.rule_ids(),
        ["huggingface-token"],
        "only the branch's own commits: {}",
        job.log
    );
    assert_eq!(
        job.outputs["range"],
        format!("{}..{}", s.commit("main"), s.commit("feature"))
    );
    assert_eq!(job.outputs["credentials"], "1");
    assert!(
        job.log.contains("::error file=train.py,line=1"),
        "{}",
        job.log
    );
    assert!(
        job.summary.contains("**1 credential(s)**"),
        "{}",
        job.summary
    );
    assert!(
        job.summary.contains("`huggingface-token`"),
        "{}",
        job.summary
    );
    assert_eq!(
        job.uploads,
        [job.outputs["sarif-file"].clone()],
        "same repository: uploaded"
    );
    assert_eq!(
        job.sarif()["runs"][0]["automationDetails"]["id"],
        "mlguard/range/"
    );
    assert_valid_sarif(&fs::read(&job.outputs["sarif-file"]).unwrap());
}

#[test]
fn action_on_a_pull_request_from_a_fork_fails_without_uploading() {
    let Some(s) = setup() else { return };
    let checkout = s.origin.checkout(&s.commit("feature"));
    let mut runner = s.runner(&checkout.path().join("ws"));
    runner.event_name = "pull_request".into();
    runner.event = json!({"pull_request": {
        "base": {"sha": s.commit("main"), "repo": {"full_name": "org/repo"}},
        "head": {"sha": s.commit("feature"), "repo": {"full_name": "fork/repo"}},
    }});
    let job = runner.run();
    assert!(job.failed, "{}", job.log);
    assert_eq!(job.rule_ids(), ["huggingface-token"], "{}", job.log);
    assert!(job.uploads.is_empty(), "a fork's token cannot upload");
    assert_eq!(job.step("Upload SARIF to code scanning"), "skipped");
    assert!(
        job.summary
            .contains("SARIF not uploaded: a pull request from a fork"),
        "{}",
        job.summary
    );
}

#[test]
fn action_on_a_clean_push_passes_and_a_cache_hit_installs_nothing() {
    let Some(s) = setup() else { return };
    let checkout = s.origin.checkout(&s.commit("clean"));
    let ws = checkout.path().join("ws");
    let mut runner = s.runner(&ws);
    runner.event = json!({
        "before": s.commit("main"), "after": s.commit("clean"), "ref": "refs/heads/clean",
        "repository": {"default_branch": "main"},
    });
    let job = runner.run();
    assert!(!job.failed, "{}", job.log);
    assert_eq!(job.outputs["credentials"], "0");
    assert!(
        job.summary.contains("**0 credential(s)**"),
        "{}",
        job.summary
    );
    assert!(job.summary.contains("SARIF uploaded"), "{}", job.summary);
    assert_eq!(job.uploads.len(), 1);

    // Second job, cache restored: nothing may be installed (the wheelhouse is now empty).
    let empty = tempfile::tempdir().unwrap();
    let mut again = Runner::new(&s.action, &ws, empty.path(), s.tool_cache.path());
    again.event = runner.event.clone();
    again.cache_hit = true;
    let job = again.run();
    assert!(!job.failed, "{}", job.log);
    assert!(!job.log.contains("Successfully installed"), "{}", job.log);

    // A miss with the empty wheelhouse does try to install, and fails the job.
    let mut miss = Runner::new(&s.action, &ws, empty.path(), s.tool_cache.path());
    miss.event = runner.event.clone();
    let job = miss.run();
    assert!(job.failed, "{}", job.log);
    assert_eq!(job.step("Install mlguard"), "failure");
}

#[test]
fn action_fails_on_a_committed_notebook_with_outputs() {
    let Some(s) = setup() else { return };
    let checkout = s.origin.checkout(&s.commit("nbout"));
    let mut runner = s.runner(&checkout.path().join("ws"));
    runner.event_name = "pull_request".into();
    runner.event = json!({"pull_request": {
        "base": {"sha": s.commit("main"), "repo": {"full_name": "org/repo"}},
        "head": {"sha": s.commit("nbout"), "repo": {"full_name": "org/repo"}},
    }});
    let job = runner.run();
    assert!(job.failed, "{}", job.log);
    assert_eq!(job.outputs["credentials"], "0");
    assert_eq!(job.outputs["notebooks"], "1");
    assert!(
        job.summary.contains("1 of 1 still carry outputs") && job.summary.contains("nb.ipynb"),
        "{}",
        job.summary
    );
    // Not a fork: the (clean) SARIF is uploaded all the same.
    assert_eq!(job.uploads.len(), 1);
}

#[test]
fn action_on_a_shallow_checkout_fetches_the_history_it_needs() {
    let Some(s) = setup() else { return };
    let dir = tempfile::tempdir().unwrap();
    git(
        dir.path(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            "--branch",
            "feature",
            &s.origin.url(),
            "ws",
        ],
    );
    let ws = dir.path().join("ws");
    assert_eq!(
        git(&ws, &["rev-parse", "--is-shallow-repository"]).trim(),
        "true"
    );
    let mut runner = s.runner(&ws);
    runner.event = json!({
        "before": s.commit("main"), "after": s.commit("feature"), "ref": "refs/heads/feature",
        "repository": {"default_branch": "main"},
    });
    let job = runner.run();
    assert!(job.failed, "{}", job.log);
    assert!(job.log.contains("shallow checkout"), "{}", job.log);
    assert_eq!(job.rule_ids(), ["huggingface-token"], "{}", job.log);
}

#[test]
fn action_on_the_first_push_and_on_a_manual_run_scans_everything() {
    let Some(s) = setup() else { return };
    let checkout = s.origin.checkout(&s.commit("main"));
    let ws = checkout.path().join("ws");
    let mut runner = s.runner(&ws);
    runner.event = json!({
        "before": Z40, "after": s.commit("main"), "ref": "refs/heads/main",
        "repository": {"default_branch": "main"},
    });
    let job = runner.run();
    assert!(job.failed, "{}", job.log);
    assert_eq!(job.outputs["range"], format!("..{}", s.commit("main")));
    assert_eq!(job.rule_ids(), ["aws-access-key-id"], "{}", job.log);

    let mut manual = s.runner(&ws);
    manual.event_name = "workflow_dispatch".into();
    let job = manual.run();
    assert!(job.failed, "{}", job.log);
    assert_eq!(job.outputs["range"], "");
    let mut rules = job.rule_ids();
    rules.sort();
    assert_eq!(
        rules,
        ["aws-access-key-id", "huggingface-token"],
        "{}",
        job.log
    );
    assert_eq!(
        job.sarif()["runs"][0]["automationDetails"]["id"],
        "mlguard/history/"
    );
}

/// The action's steps as a workflow, so that actionlint checks them as it checks a job.
fn action_as_workflow(action: &Value) -> Value {
    let inputs: serde_json::Map<String, Value> = action["inputs"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, spec)| {
            (
                name.clone(),
                json!({"type": "string", "required": false, "default": spec["default"]}),
            )
        })
        .collect();
    json!({
        "name": "action.yml's steps",
        "on": {"workflow_call": {"inputs": inputs}},
        "permissions": {"contents": "read", "security-events": "write"},
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
    })
}

fn actionlint(repo: &Path) -> (bool, String) {
    let bin = reference_tool("actionlint").parent().unwrap().to_path_buf();
    let out = Command::new(bin.join("actionlint"))
        .arg("-no-color")
        .current_dir(repo)
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
        )
        .output()
        .expect("run actionlint");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn actionlint_passes_on_every_workflow_and_the_action() {
    // actionlint checks the run: scripts with shellcheck when it is on PATH.
    if require_reference_tool("actionlint").is_none()
        || require_reference_tool("shellcheck").is_none()
    {
        return;
    }
    let repo = git_repo();
    let workflows = repo.path().join(".github/workflows");
    fs::create_dir_all(&workflows).unwrap();
    let ours = files_with_extension(&manifest_dir().join(".github/workflows"), "yml");
    assert!(ours.len() >= 2, "the release and CI workflows");
    for file in &ours {
        fs::copy(file, workflows.join(file.file_name().unwrap())).unwrap();
    }
    // `uses: ./` in a workflow is checked against this action.yml's inputs.
    fs::copy(
        manifest_dir().join("action.yml"),
        repo.path().join("action.yml"),
    )
    .unwrap();
    fs::write(
        workflows.join("zz-action-steps.yml"),
        serde_json::to_string_pretty(&action_as_workflow(&action())).unwrap(),
    )
    .unwrap();
    let (passed, report) = actionlint(repo.path());
    assert!(passed, "actionlint:\n{report}");

    // The linter can fail: an input pasted into a script is caught.
    let bad = git_repo();
    let bad_workflows = bad.path().join(".github/workflows");
    fs::create_dir_all(&bad_workflows).unwrap();
    fs::write(
        bad_workflows.join("bad.yml"),
        "on: pull_request\npermissions: {}\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo \"${{ github.event.pull_request.title }}\"\n",
    )
    .unwrap();
    let (passed, report) = actionlint(bad.path());
    assert!(
        !passed && report.contains("potentially untrusted"),
        "{report}"
    );
}
