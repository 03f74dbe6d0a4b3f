//! `mlguard install` and `uninstall`: the filter driver, the attributes that select it and the
//! pre-commit hook, each written where git really reads it (asked from git itself, so
//! worktrees, submodules and `core.hooksPath` are right), and removed exactly.

use std::fs;
use std::path::{Path, PathBuf};

use crate::git::{self, GitError};
use crate::shell;

/// The hook script shipped in `hooks/pre-commit`; `@MLGUARD@` becomes the binary's path.
const HOOK_TEMPLATE: &str = include_str!("../../hooks/pre-commit");
const HOOK_MARKER: &str = "# mlguard-hook:";
const CHAINED_SUFFIX: &str = ".mlguard-chained";
const ATTRIBUTES_MARKER: &str =
    "# mlguard: strip notebook outputs when staging (managed by `mlguard install`)";
const ATTRIBUTE_LINES: [&str; 2] = ["*.ipynb filter=mlguard diff=ipynb", "*.zpln filter=mlguard"];

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Refused(String),
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> InstallError + '_ {
    move |source| InstallError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Which attributes file a per-clone install writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AttributesFile {
    /// `info/attributes` in the common git directory: this clone only.
    #[default]
    Info,
    /// The committed `.gitattributes`: every clone, once committed.
    Committed,
}

/// Where to install: this clone, or the user's configuration (every repository).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Clone(AttributesFile),
    User,
}

impl Scope {
    fn config_flag(self) -> &'static str {
        match self {
            Scope::Clone(_) => "--local",
            Scope::User => "--global",
        }
    }
}

/// A value of a config key in one scope, if set.
fn config_get(scope: Scope, key: &str) -> Option<String> {
    git::text(&["config", scope.config_flag(), "--get", key]).ok()
}

/// The configuration keys `install` writes, with their values for this binary; also the keys
/// `uninstall` removes.
pub(crate) const CONFIG_KEYS: [&str; 7] = [
    "filter.mlguard.process",
    "filter.mlguard.clean",
    "filter.mlguard.smudge",
    "filter.mlguard.required",
    "diff.ipynb.textconv",
    "hook.mlguard.command",
    "hook.mlguard.event",
];

/// The filter and diff keys with their values for this binary.
pub fn config_entries(exe: &Path) -> Vec<(&'static str, String)> {
    let quoted = shell::double_quoted(&exe.to_string_lossy());
    let values = [
        format!("{quoted} filter-process"),
        format!("{quoted} strip"),
        "cat".to_string(),
        "true".to_string(),
        format!("{quoted} strip -t"),
    ];
    CONFIG_KEYS.into_iter().zip(values).collect()
}

pub fn toplevel() -> Result<PathBuf, GitError> {
    git::text(&["rev-parse", "--show-toplevel"]).map(PathBuf::from)
}

/// The attributes file git reads for this repository (or, for the user scope, every one).
pub fn attributes_path(scope: Scope) -> Result<PathBuf, InstallError> {
    if scope == Scope::Clone(AttributesFile::Committed) {
        return Ok(toplevel()?.join(".gitattributes"));
    }
    if scope == Scope::User {
        if let Some(path) = config_get(Scope::User, "core.attributesFile") {
            return Ok(expand_home(&path));
        }
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| home().join(".config"));
        return Ok(base.join("git/attributes"));
    }
    let common = git::text(&["rev-parse", "--path-format=absolute", "--git-common-dir"])?;
    Ok(PathBuf::from(common).join("info/attributes"))
}

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
}

fn expand_home(path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => home().join(rest),
        None => PathBuf::from(path),
    }
}

/// The hooks directory git uses here (`core.hooksPath` and worktrees applied by git itself).
pub fn hooks_dir() -> Result<PathBuf, GitError> {
    git::text(&["rev-parse", "--path-format=absolute", "--git-path", "hooks"]).map(PathBuf::from)
}

/// A hook manager that owns the hooks, if any: its hooks are not ours to rewrite.
fn hook_manager(top: &Path) -> Option<&'static str> {
    let hooks_path = git::text(&["config", "core.hooksPath"]).ok();
    if hooks_path.as_deref().is_some_and(|p| p.contains(".husky")) {
        return Some("husky");
    }
    if [
        "lefthook.yml",
        "lefthook.yaml",
        ".lefthook.yml",
        ".lefthook.yaml",
    ]
    .iter()
    .any(|f| top.join(f).exists())
    {
        return Some("lefthook");
    }
    if top.join(".pre-commit-config.yaml").exists() {
        return Some("pre-commit");
    }
    None
}

fn manager_instructions(manager: &str) -> String {
    match manager {
        "pre-commit" => "the repository uses the pre-commit framework: add to .pre-commit-config.yaml\n\
             - repo: local\n  hooks:\n    - id: mlguard-scan\n      name: mlguard scan (staged credentials)\n      entry: mlguard hook pre-commit\n      language: system\n      pass_filenames: false\n      require_serial: true"
            .to_string(),
        "lefthook" => "the repository uses lefthook: add to lefthook.yml\npre-commit:\n  commands:\n    mlguard:\n      run: mlguard hook pre-commit".to_string(),
        _ => "the repository uses husky: add the line `mlguard hook pre-commit` to .husky/pre-commit".to_string(),
    }
}

/// Installs the filter, the attributes and the hook; returns what it did, line by line.
pub fn install(exe: &Path, scope: Scope) -> Result<Vec<String>, InstallError> {
    let mut done = Vec::new();
    for (key, value) in config_entries(exe) {
        if config_get(scope, key).as_deref() != Some(value.as_str()) {
            git::output(&["config", scope.config_flag(), key, &value], None)?;
            done.push(format!("set {key} = {value}"));
        }
    }
    let attributes = attributes_path(scope)?;
    if add_attribute_lines(&attributes)? {
        done.push(format!(
            "added the notebook filter to {}",
            attributes.display()
        ));
    }
    match scope {
        Scope::User => done.extend(install_config_hook(exe)?),
        Scope::Clone(_) => done.extend(install_hook(exe)?),
    }
    if done.is_empty() {
        done.push("already installed; nothing changed".into());
    }
    Ok(done)
}

fn read_or_empty(path: &Path) -> Result<String, InstallError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(e) => Err(io_error(path)(e)),
    }
}

fn add_attribute_lines(path: &Path) -> Result<bool, InstallError> {
    let text = read_or_empty(path)?;
    let present: Vec<&str> = text.lines().collect();
    if ATTRIBUTE_LINES.iter().all(|l| present.contains(l)) {
        return Ok(false);
    }
    let mut updated = text.clone();
    if !updated.is_empty() && !updated.ends_with('\n') {
        updated.push('\n');
    }
    updated.push_str(ATTRIBUTES_MARKER);
    updated.push('\n');
    for line in ATTRIBUTE_LINES {
        updated.push_str(line);
        updated.push('\n');
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io_error(dir))?;
    }
    fs::write(path, updated).map_err(io_error(path))?;
    Ok(true)
}

fn remove_attribute_lines(path: &Path) -> Result<bool, InstallError> {
    let text = read_or_empty(path)?;
    let ours = |line: &str| line == ATTRIBUTES_MARKER || ATTRIBUTE_LINES.contains(&line);
    if !text.lines().any(ours) {
        return Ok(false);
    }
    let kept: String = text
        .lines()
        .filter(|l| !ours(l))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(path, kept).map_err(io_error(path))?;
    Ok(true)
}

pub(crate) fn is_ours(path: &Path) -> bool {
    fs::read_to_string(path).is_ok_and(|text| text.contains(HOOK_MARKER))
}

fn install_hook(exe: &Path) -> Result<Vec<String>, InstallError> {
    let top = toplevel()?;
    if let Some(manager) = hook_manager(&top) {
        return Ok(vec![format!(
            "no hook file written: {}",
            manager_instructions(manager)
        )]);
    }
    let dir = hooks_dir()?;
    let hook = dir.join("pre-commit");
    let script = HOOK_TEMPLATE.replace("@MLGUARD@", &shell::single_quoted(&exe.to_string_lossy()));
    let mut done = Vec::new();
    if is_ours(&hook) && fs::read_to_string(&hook).is_ok_and(|t| t == script) {
        return Ok(done);
    }
    fs::create_dir_all(&dir).map_err(io_error(&dir))?;
    if hook.exists() && !is_ours(&hook) {
        let chained = dir.join(format!("pre-commit{CHAINED_SUFFIX}"));
        if chained.exists() {
            return Err(InstallError::Refused(format!(
                "{} exists and so does {}: move one of them away first",
                hook.display(),
                chained.display()
            )));
        }
        fs::rename(&hook, &chained).map_err(io_error(&hook))?;
        done.push(format!(
            "kept the existing hook as {} (it runs first)",
            chained.display()
        ));
    }
    write_executable(&hook, &script)?;
    done.push(format!(
        "installed the pre-commit hook at {}",
        hook.display()
    ));
    Ok(done)
}

fn write_executable(path: &Path, text: &str) -> Result<(), InstallError> {
    use std::os::unix::fs::PermissionsExt;
    fs::write(path, text).map_err(io_error(path))?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).map_err(io_error(path))
}

/// git 2.54 and later run hooks defined in configuration (`hook.<name>.command`/`.event`)
/// alongside the hooks directory, so a global install covers every repository without touching
/// any hook file. Older git ignores the keys; hooks are then installed per clone.
fn install_config_hook(exe: &Path) -> Result<Vec<String>, InstallError> {
    let command = format!(
        "{} hook pre-commit",
        shell::double_quoted(&exe.to_string_lossy())
    );
    let mut done = Vec::new();
    if config_get(Scope::User, "hook.mlguard.command").as_deref() != Some(command.as_str()) {
        git::output(
            &["config", "--global", "hook.mlguard.command", &command],
            None,
        )?;
        done.push(format!("set hook.mlguard.command = {command}"));
    }
    if config_get(Scope::User, "hook.mlguard.event").as_deref() != Some("pre-commit") {
        git::output(
            &["config", "--global", "hook.mlguard.event", "pre-commit"],
            None,
        )?;
        done.push("set hook.mlguard.event = pre-commit (git 2.54 or later runs it in every repository; with older git run `mlguard install` in each clone)".into());
    }
    Ok(done)
}

/// Removes exactly what `install` added: our config values, our attribute lines, our hook (a
/// chained hook is put back). Other tools' keys and lines stay.
pub fn uninstall(scope: Scope) -> Result<Vec<String>, InstallError> {
    let mut done = Vec::new();
    for key in CONFIG_KEYS {
        let Some(value) = config_get(scope, key) else {
            continue;
        };
        let ours = key.starts_with("filter.mlguard.")
            || key.starts_with("hook.mlguard.")
            || value.contains("mlguard");
        if ours {
            git::output(&["config", scope.config_flag(), "--unset", key], None)?;
            done.push(format!("removed {key}"));
        }
    }
    for section in ["filter.mlguard", "diff.ipynb", "hook.mlguard"] {
        let left = git::text(&[
            "config",
            scope.config_flag(),
            "--get-regexp",
            &format!("^{}\\.", section.replace('.', "\\.")),
        ]);
        if left.is_err() {
            let _ = git::output(
                &["config", scope.config_flag(), "--remove-section", section],
                None,
            );
        }
    }
    let attributes = attributes_path(scope)?;
    if remove_attribute_lines(&attributes)? {
        done.push(format!(
            "removed the notebook filter from {}",
            attributes.display()
        ));
    }
    if let Scope::Clone(_) = scope {
        done.extend(uninstall_hook()?);
    }
    if done.is_empty() {
        done.push("mlguard was not installed here; nothing changed".into());
    }
    Ok(done)
}

fn uninstall_hook() -> Result<Vec<String>, InstallError> {
    let dir = hooks_dir()?;
    let hook = dir.join("pre-commit");
    let chained = dir.join(format!("pre-commit{CHAINED_SUFFIX}"));
    let mut done = Vec::new();
    if is_ours(&hook) {
        fs::remove_file(&hook).map_err(io_error(&hook))?;
        done.push(format!("removed the pre-commit hook {}", hook.display()));
        if chained.exists() {
            fs::rename(&chained, &hook).map_err(io_error(&chained))?;
            done.push(format!("restored the previous hook {}", hook.display()));
        }
    }
    Ok(done)
}
