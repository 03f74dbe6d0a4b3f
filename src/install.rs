//! `mlguard install`, `uninstall` and `status`: the filter driver, the attributes that select
//! it and the pre-commit hook, each written where git really reads it (asked from git itself,
//! so worktrees, submodules and `core.hooksPath` are right), and removed exactly.

use std::fs;
use std::path::{Path, PathBuf};

use crate::git::{self, GitError};
use crate::strip::{self, Render, StripOptions};

/// The hook script shipped in `hooks/pre-commit`; `@MLGUARD@` becomes the binary's path.
const HOOK_TEMPLATE: &str = include_str!("../hooks/pre-commit");
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

/// Where to install: this repository (default) or the user's configuration.
#[derive(Debug, Clone, Copy, Default)]
pub struct InstallOptions {
    pub global: bool,
    /// Attributes go to the committed `.gitattributes` instead of `info/attributes`.
    pub gitattributes: bool,
}

impl InstallOptions {
    fn scope(&self) -> &'static str {
        if self.global { "--global" } else { "--local" }
    }
}

fn git_text(args: &[&str]) -> Result<String, GitError> {
    git::output(args, None).map(|out| {
        String::from_utf8_lossy(&out)
            .trim_end_matches('\n')
            .to_string()
    })
}

/// A value of a config key in one scope, if set.
fn config_get(scope: &str, key: &str) -> Option<String> {
    git_text(&["config", scope, "--get", key]).ok()
}

/// A path as a double-quoted shell word (git runs filter commands with spaces through `sh -c`).
fn shell_double_quoted(path: &Path) -> String {
    let text = path.to_string_lossy();
    let escaped: String = text
        .chars()
        .flat_map(|c| match c {
            '"' | '\\' | '$' | '`' => vec!['\\', c],
            other => vec![other],
        })
        .collect();
    format!("\"{escaped}\"")
}

fn shell_single_quoted(path: &Path) -> String {
    format!("'{}'", path.to_string_lossy().replace('\'', "'\\''"))
}

/// The configuration keys `install` writes, with their values for this binary.
pub fn config_entries(exe: &Path) -> Vec<(&'static str, String)> {
    let quoted = shell_double_quoted(exe);
    vec![
        ("filter.mlguard.process", format!("{quoted} filter-process")),
        ("filter.mlguard.clean", format!("{quoted} strip")),
        ("filter.mlguard.smudge", "cat".to_string()),
        ("filter.mlguard.required", "true".to_string()),
        ("diff.ipynb.textconv", format!("{quoted} strip -t")),
    ]
}

pub fn toplevel() -> Result<PathBuf, GitError> {
    git_text(&["rev-parse", "--show-toplevel"]).map(PathBuf::from)
}

/// The attributes file git reads for this repository (or, `--global`, for the user).
pub fn attributes_path(options: &InstallOptions) -> Result<PathBuf, InstallError> {
    if options.gitattributes {
        return Ok(toplevel()?.join(".gitattributes"));
    }
    if options.global {
        if let Some(path) = config_get("--global", "core.attributesFile") {
            return Ok(expand_home(&path));
        }
        let base = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| home().join(".config"));
        return Ok(base.join("git/attributes"));
    }
    let common = git_text(&["rev-parse", "--path-format=absolute", "--git-common-dir"])?;
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
    git_text(&["rev-parse", "--path-format=absolute", "--git-path", "hooks"]).map(PathBuf::from)
}

/// A hook manager that owns the hooks, if any: its hooks are not ours to rewrite.
fn hook_manager(top: &Path) -> Option<&'static str> {
    let hooks_path = git_text(&["config", "core.hooksPath"]).ok();
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
pub fn install(exe: &Path, options: &InstallOptions) -> Result<Vec<String>, InstallError> {
    let mut done = Vec::new();
    for (key, value) in config_entries(exe) {
        if config_get(options.scope(), key).as_deref() != Some(value.as_str()) {
            git::output(&["config", options.scope(), key, &value], None)?;
            done.push(format!("set {key} = {value}"));
        }
    }
    let attributes = attributes_path(options)?;
    if add_attribute_lines(&attributes)? {
        done.push(format!(
            "added the notebook filter to {}",
            attributes.display()
        ));
    }
    if options.global {
        done.extend(install_config_hook(exe)?);
    } else {
        done.extend(install_hook(exe)?);
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

fn is_ours(path: &Path) -> bool {
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
    let script = HOOK_TEMPLATE.replace("@MLGUARD@", &shell_single_quoted(exe));
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
    let command = format!("{} hook pre-commit", shell_double_quoted(exe));
    let mut done = Vec::new();
    if config_get("--global", "hook.mlguard.command").as_deref() != Some(command.as_str()) {
        git::output(
            &["config", "--global", "hook.mlguard.command", &command],
            None,
        )?;
        done.push(format!("set hook.mlguard.command = {command}"));
    }
    if config_get("--global", "hook.mlguard.event").as_deref() != Some("pre-commit") {
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
pub fn uninstall(options: &InstallOptions) -> Result<Vec<String>, InstallError> {
    let mut done = Vec::new();
    for key in [
        "filter.mlguard.process",
        "filter.mlguard.clean",
        "filter.mlguard.smudge",
        "filter.mlguard.required",
        "diff.ipynb.textconv",
        "hook.mlguard.command",
        "hook.mlguard.event",
    ] {
        let Some(value) = config_get(options.scope(), key) else {
            continue;
        };
        let ours = key.starts_with("filter.mlguard.")
            || key.starts_with("hook.mlguard.")
            || value.contains("mlguard");
        if ours {
            git::output(&["config", options.scope(), "--unset", key], None)?;
            done.push(format!("removed {key}"));
        }
    }
    for section in ["filter.mlguard", "diff.ipynb", "hook.mlguard"] {
        let left = git_text(&[
            "config",
            options.scope(),
            "--get-regexp",
            &format!("^{}\\.", section.replace('.', "\\.")),
        ]);
        if left.is_err() {
            let _ = git::output(
                &["config", options.scope(), "--remove-section", section],
                None,
            );
        }
    }
    let attributes = attributes_path(options)?;
    if remove_attribute_lines(&attributes)? {
        done.push(format!(
            "removed the notebook filter from {}",
            attributes.display()
        ));
    }
    if !options.global {
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

/// What is configured, and whether git actually applies it.
#[derive(Debug, Default)]
pub struct Status {
    pub lines: Vec<String>,
    pub fully_installed: bool,
}

/// Checks the filter driver, the attributes git applies to a notebook, the hook, and the
/// notebooks committed with outputs (judged with the team's strip options).
pub fn status(options: &StripOptions) -> Result<Status, InstallError> {
    let mut lines = Vec::new();
    let process = git_text(&["config", "filter.mlguard.process"]).ok();
    let driver_ok = match &process {
        Some(command) => {
            let binary = command_binary(command);
            let runs = binary.as_deref().is_some_and(is_executable);
            lines.push(format!(
                "filter driver: filter.mlguard.process = {command}{}",
                if runs {
                    ""
                } else {
                    "  (binary missing or not executable: run `mlguard install` again)"
                }
            ));
            runs && git_text(&["config", "filter.mlguard.required"]).is_ok_and(|v| v == "true")
        }
        None => {
            lines.push("filter driver: not configured (filter.mlguard.process is unset)".into());
            false
        }
    };
    let attributes = git_text(&["check-attr", "filter", "diff", "--", "mlguard-probe.ipynb"])
        .unwrap_or_default();
    let filter_applies = attributes.contains("filter: mlguard");
    lines.push(format!(
        "attributes: *.ipynb {}",
        if filter_applies {
            "filter=mlguard (git applies it)"
        } else {
            "do not select the mlguard filter"
        }
    ));
    if filter_applies && process.is_none() {
        lines.push("warning: the attributes select the mlguard filter but this clone has no driver for it: notebooks are committed unstripped until you run `mlguard install`".into());
    }
    let hook = hooks_dir()?.join("pre-commit");
    let hook_ok = is_ours(&hook) && is_executable(&hook);
    lines.push(format!(
        "pre-commit hook: {}",
        match (is_ours(&hook), hook_ok) {
            (true, true) => format!("installed at {}", hook.display()),
            (true, false) => format!("{} is not executable", hook.display()),
            _ if hook.exists() => format!("{} is not mlguard's", hook.display()),
            _ => "not installed".into(),
        }
    ));
    lines.extend(committed_outputs(options)?);
    Ok(Status {
        lines,
        fully_installed: driver_ok && filter_applies && hook_ok,
    })
}

/// Notebooks committed in HEAD with outputs: once the filter is active they show as modified
/// (the stripped worktree no longer matches them) until they are renormalized.
fn committed_outputs(options: &StripOptions) -> Result<Vec<String>, InstallError> {
    let Ok(tree) = git::tree_blobs("HEAD") else {
        return Ok(vec!["committed notebooks: none yet (no commit)".into()]);
    };
    let notebooks: Vec<(String, String)> = tree
        .into_iter()
        .filter(|(path, _)| path.ends_with(".ipynb"))
        .collect();
    let ids: Vec<String> = notebooks.iter().map(|(_, id)| id.clone()).collect();
    let blobs = git::CatFile::spawn()?.read_all(ids)?;
    let dirty: Vec<&str> = notebooks
        .iter()
        .zip(&blobs)
        .filter(|(_, blob)| {
            strip::strip_bytes(blob, options, Render::Never).is_ok_and(|s| s.changed)
        })
        .map(|((path, _), _)| path.as_str())
        .collect();
    let mut lines = vec![format!(
        "committed notebooks: {} in HEAD, {} of them with outputs",
        notebooks.len(),
        dirty.len()
    )];
    if !dirty.is_empty() {
        let shown: Vec<&str> = dirty.iter().take(10).copied().collect();
        lines.push(format!(
            "  with outputs: {}{}",
            shown.join(", "),
            if dirty.len() > 10 { ", ..." } else { "" }
        ));
        lines.push("  with the filter active these show as modified; strip them in one commit: git add --renormalize -- '*.ipynb' && git commit -m 'Strip notebook outputs'".into());
    }
    Ok(lines)
}

/// The program of a filter command (`"/path/to/mlguard" filter-process`).
fn command_binary(command: &str) -> Option<PathBuf> {
    let command = command.trim();
    let Some(rest) = command.strip_prefix('"') else {
        return command.split_whitespace().next().map(PathBuf::from);
    };
    let mut path = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => path.push(chars.next()?),
            '"' => return Some(PathBuf::from(path)),
            other => path.push(other),
        }
    }
    None
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_odd_paths() {
        let path = Path::new("/opt/my tools/ml\"guard");
        assert_eq!(shell_double_quoted(path), "\"/opt/my tools/ml\\\"guard\"");
        assert_eq!(
            command_binary(&format!("{} filter-process", shell_double_quoted(path))),
            Some(path.to_path_buf())
        );
        assert_eq!(shell_single_quoted(Path::new("/a'b")), "'/a'\\''b'");
    }
}
