//! `mlguard install` and `uninstall`: the filter driver, the attributes that select it and the
//! pre-commit hook, each written where git really reads it (asked from git itself, so
//! worktrees, submodules and `core.hooksPath` are right), and removed exactly.
//!
//! Two promises shape what is written. A clone never breaks because of mlguard: the filter is
//! not `required`, and its commands are small shell snippets that fall back to doing nothing
//! (and say so) when the binary has gone, so `status`, `diff`, `checkout`, `stash` and `rebase`
//! keep working. And nothing gets committed silently instead: the pre-commit hook refuses
//! notebooks with outputs and credentials, and refuses every commit, with instructions, when
//! mlguard itself is missing. Install is all or nothing: a failure undoes what it wrote.

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
    #[error("{error}; everything install had written was undone{}", undo_problems(.undo_failures))]
    RolledBack {
        error: Box<InstallError>,
        undo_failures: Vec<String>,
    },
}

fn undo_problems(failures: &[String]) -> String {
    if failures.is_empty() {
        String::new()
    } else {
        format!(" except: {}", failures.join("; "))
    }
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

/// The configuration keys `install` writes; also the keys `uninstall` removes.
pub(crate) const CONFIG_KEYS: [&str; 7] = [
    "filter.mlguard.process",
    "filter.mlguard.clean",
    "filter.mlguard.smudge",
    "filter.mlguard.required",
    "diff.ipynb.textconv",
    "hook.mlguard.command",
    "hook.mlguard.event",
];

/// What the snippets say when the binary has gone.
fn missing_warning() -> &'static str {
    "printf 'mlguard: warning: %s is missing: notebooks are not stripped, and commits are refused until you reinstall mlguard and run `mlguard install` (or remove the filter: git config --remove-section filter.mlguard)\\n' \"$m\" >&2"
}

/// The test the snippets run before using the binary.
const RUNS: &str = "[ -f \"$m\" ] && [ -x \"$m\" ]";

/// The filter and diff keys with their values for this binary. Each value is a shell snippet
/// (git runs them with `sh -c`) that uses the binary when it is there and otherwise:
/// - `process` answers git's filter handshake itself, offering no capability, so git stores
///   the content unfiltered (never a broken checkout; the hook refuses the commit);
/// - `textconv` shows the file as it is;
/// - `clean` fails, which git (the filter not being required) answers by storing the content
///   unfiltered.
pub fn config_entries(exe: &Path) -> Vec<(&'static str, String)> {
    let m = format!("m={}", shell::single_quoted(&exe.to_string_lossy()));
    let warn = missing_warning();
    let values = [
        format!(
            "{m}; if {RUNS}; then exec \"$m\" filter-process; fi; {warn}; printf '0016git-filter-server\\n000eversion=2\\n00000000'; exec cat >/dev/null"
        ),
        format!("{m}; if {RUNS}; then exec \"$m\" strip; fi; {warn}; exit 1"),
        "cat".to_string(),
        "false".to_string(),
        format!(
            "{m}; mlguard_textconv() {{ if {RUNS}; then \"$m\" strip -t \"$1\" && return; fi; cat \"$1\"; }}; mlguard_textconv"
        ),
    ];
    CONFIG_KEYS.into_iter().zip(values).collect()
}

/// The binary a configured filter or hook command runs (`m='…'` at its start).
pub(crate) fn configured_binary(command: &str) -> Option<PathBuf> {
    let rest = command.trim_start().strip_prefix("m=")?;
    shell::parse_single_quoted(rest).map(|(path, _)| PathBuf::from(path))
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

/// A hook manager the repository is set up for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Manager {
    PreCommit,
    Husky,
    Lefthook,
}

impl Manager {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Manager::PreCommit => "the pre-commit framework",
            Manager::Husky => "husky",
            Manager::Lefthook => "lefthook",
        }
    }

    /// The lines to add to the manager's configuration so that it runs mlguard's checks.
    fn instructions(self) -> &'static str {
        match self {
            Manager::PreCommit => {
                "add to .pre-commit-config.yaml:\n\
                 - repo: local\n  hooks:\n    - id: mlguard\n      name: mlguard (notebook outputs and credentials)\n      entry: mlguard hook pre-commit\n      language: system\n      pass_filenames: false\n      require_serial: true"
            }
            Manager::Lefthook => {
                "add to lefthook.yml:\npre-commit:\n  commands:\n    mlguard:\n      run: mlguard hook pre-commit"
            }
            Manager::Husky => "add the line `mlguard hook pre-commit` to .husky/pre-commit",
        }
    }
}

/// The hook manager the repository is configured for, and whether its hook is actually
/// installed in this clone (a `.pre-commit-config.yaml` in a clone where nobody ran
/// `pre-commit install` protects nothing).
pub(crate) fn hook_manager(top: &Path, hook: &Path) -> Option<(Manager, bool)> {
    let hook_text = fs::read_to_string(hook).unwrap_or_default();
    let hooks_path = git::text(&["config", "core.hooksPath"]).ok();
    let husky_active = hooks_path.as_deref().is_some_and(|p| p.contains(".husky"));
    if husky_active || top.join(".husky").is_dir() {
        return Some((Manager::Husky, husky_active));
    }
    let lefthook_files = [
        "lefthook.yml",
        "lefthook.yaml",
        ".lefthook.yml",
        ".lefthook.yaml",
    ];
    if lefthook_files.iter().any(|f| top.join(f).exists()) {
        return Some((Manager::Lefthook, hook_text.contains("lefthook")));
    }
    if top.join(".pre-commit-config.yaml").exists() {
        let installed = hook_text.contains("File generated by pre-commit")
            || hook_text.contains("pre-commit.com");
        return Some((Manager::PreCommit, installed));
    }
    None
}

/// One thing install did, and how to undo it.
#[derive(Debug)]
enum Undo {
    Config {
        scope: Scope,
        key: &'static str,
        previous: Option<String>,
    },
    File {
        path: PathBuf,
        previous: Option<Vec<u8>>,
    },
    Rename {
        from: PathBuf,
        to: PathBuf,
    },
}

/// The undo log of one install: on failure, everything is put back, newest first.
#[derive(Debug, Default)]
struct Journal(Vec<Undo>);

impl Journal {
    fn set_config(
        &mut self,
        scope: Scope,
        key: &'static str,
        value: &str,
    ) -> Result<(), InstallError> {
        let previous = config_get(scope, key);
        git::output(&["config", scope.config_flag(), key, value], None)?;
        self.0.push(Undo::Config {
            scope,
            key,
            previous,
        });
        Ok(())
    }

    fn write_file(
        &mut self,
        path: &Path,
        content: &[u8],
        executable: bool,
    ) -> Result<(), InstallError> {
        let previous = match fs::read(path) {
            Ok(bytes) => Some(bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_error(path)(e)),
        };
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io_error(dir))?;
        }
        fs::write(path, content).map_err(io_error(path))?;
        self.0.push(Undo::File {
            path: path.to_path_buf(),
            previous,
        });
        if executable {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(path, fs::Permissions::from_mode(0o755)).map_err(io_error(path))?;
        }
        Ok(())
    }

    fn rename(&mut self, from: &Path, to: &Path) -> Result<(), InstallError> {
        fs::rename(from, to).map_err(io_error(from))?;
        self.0.push(Undo::Rename {
            from: from.to_path_buf(),
            to: to.to_path_buf(),
        });
        Ok(())
    }

    /// Puts everything back; returns what could not be undone.
    fn undo(self) -> Vec<String> {
        let mut failures = Vec::new();
        for step in self.0.into_iter().rev() {
            let result = match &step {
                Undo::Config {
                    scope,
                    key,
                    previous: Some(value),
                } => git::output(&["config", scope.config_flag(), key, value], None)
                    .map(drop)
                    .map_err(|e| e.to_string()),
                Undo::Config {
                    scope,
                    key,
                    previous: None,
                } => git::output(&["config", scope.config_flag(), "--unset", key], None)
                    .map(drop)
                    .map_err(|e| e.to_string()),
                Undo::File {
                    path,
                    previous: Some(bytes),
                } => fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display())),
                Undo::File {
                    path,
                    previous: None,
                } => fs::remove_file(path).map_err(|e| format!("{}: {e}", path.display())),
                Undo::Rename { from, to } => {
                    fs::rename(to, from).map_err(|e| format!("{}: {e}", to.display()))
                }
            };
            if let Err(failure) = result {
                failures.push(failure);
            }
        }
        failures
    }
}

/// Installs the filter, the attributes and the hook; returns what it did, line by line. On a
/// failure nothing that was written stays.
pub fn install(exe: &Path, scope: Scope) -> Result<Vec<String>, InstallError> {
    let mut journal = Journal::default();
    match install_steps(exe, scope, &mut journal) {
        Ok(done) => Ok(done),
        Err(error) => Err(InstallError::RolledBack {
            error: Box::new(error),
            undo_failures: journal.undo(),
        }),
    }
}

fn install_steps(
    exe: &Path,
    scope: Scope,
    journal: &mut Journal,
) -> Result<Vec<String>, InstallError> {
    let mut done = Vec::new();
    for (key, value) in config_entries(exe) {
        if config_get(scope, key).as_deref() != Some(value.as_str()) {
            journal.set_config(scope, key, &value)?;
            done.push(format!("set {key}"));
        }
    }
    let attributes = attributes_path(scope)?;
    if let Some(updated) = with_attribute_lines(&read_or_empty(&attributes)?) {
        journal.write_file(&attributes, updated.as_bytes(), false)?;
        done.push(format!(
            "added the notebook filter to {}",
            attributes.display()
        ));
    }
    match scope {
        Scope::User => done.extend(install_config_hook(exe, journal)?),
        Scope::Clone(_) => done.extend(install_hook(exe, journal)?),
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

/// The attributes text with our lines added, or `None` when they are all there already.
fn with_attribute_lines(text: &str) -> Option<String> {
    let present: Vec<&str> = text.lines().collect();
    if ATTRIBUTE_LINES.iter().all(|l| present.contains(l)) {
        return None;
    }
    let mut updated = text.to_string();
    if !updated.is_empty() && !updated.ends_with('\n') {
        updated.push('\n');
    }
    updated.push_str(ATTRIBUTES_MARKER);
    updated.push('\n');
    for line in ATTRIBUTE_LINES {
        updated.push_str(line);
        updated.push('\n');
    }
    Some(updated)
}

/// Removes our lines; a file left empty is removed (install may have created it).
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
    if kept.trim().is_empty() {
        fs::remove_file(path).map_err(io_error(path))?;
    } else {
        fs::write(path, kept).map_err(io_error(path))?;
    }
    Ok(true)
}

pub(crate) fn is_ours(path: &Path) -> bool {
    fs::read_to_string(path).is_ok_and(|text| text.contains(HOOK_MARKER))
}

fn install_hook(exe: &Path, journal: &mut Journal) -> Result<Vec<String>, InstallError> {
    let top = toplevel()?;
    let dir = hooks_dir()?;
    let hook = dir.join("pre-commit");
    let mut done = Vec::new();
    if let Some((manager, installed)) = hook_manager(&top, &hook) {
        if installed {
            return Ok(vec![format!(
                "no hook file written: {} runs this clone's hooks; to run mlguard's checks, {}",
                manager.name(),
                manager.instructions()
            )]);
        }
        done.push(format!(
            "the repository is set up for {} but its hook is not installed in this clone, so mlguard's hook is installed; once {} is installed, keep mlguard's checks with: {}",
            manager.name(),
            manager.name(),
            manager.instructions()
        ));
    }
    let script = HOOK_TEMPLATE.replace("@MLGUARD@", &shell::single_quoted(&exe.to_string_lossy()));
    if is_ours(&hook) && fs::read_to_string(&hook).is_ok_and(|t| t == script) {
        return Ok(done);
    }
    if dir.exists() && !dir.is_dir() {
        return Err(InstallError::Refused(format!(
            "the hooks directory {} is not a directory (check core.hooksPath)",
            dir.display()
        )));
    }
    if hook.exists() && !is_ours(&hook) {
        let chained = dir.join(format!("pre-commit{CHAINED_SUFFIX}"));
        if chained.exists() {
            return Err(InstallError::Refused(format!(
                "{} exists and so does {}: move one of them away first",
                hook.display(),
                chained.display()
            )));
        }
        journal.rename(&hook, &chained)?;
        done.push(format!(
            "kept the existing hook as {} (it runs first)",
            chained.display()
        ));
    }
    journal.write_file(&hook, script.as_bytes(), true)?;
    done.push(format!(
        "installed the pre-commit hook at {}",
        hook.display()
    ));
    Ok(done)
}

/// git 2.54 and later run hooks defined in configuration (`hook.<name>.command`/`.event`)
/// alongside the hooks directory, so a global install covers every repository without touching
/// any hook file. Older git ignores the keys; hooks are then installed per clone.
fn install_config_hook(exe: &Path, journal: &mut Journal) -> Result<Vec<String>, InstallError> {
    let command = format!(
        "{} hook pre-commit",
        shell::double_quoted(&exe.to_string_lossy())
    );
    let mut done = Vec::new();
    if config_get(Scope::User, "hook.mlguard.command").as_deref() != Some(command.as_str()) {
        journal.set_config(Scope::User, "hook.mlguard.command", &command)?;
        done.push(format!("set hook.mlguard.command = {command}"));
    }
    if config_get(Scope::User, "hook.mlguard.event").as_deref() != Some("pre-commit") {
        journal.set_config(Scope::User, "hook.mlguard.event", "pre-commit")?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configured_binary_is_read_back_from_any_path() {
        for path in [
            "/usr/local/bin/mlguard",
            "/opt/my tools/it's \"$(x)\"/mlguard",
        ] {
            for (_, value) in config_entries(Path::new(path)).iter().take(2) {
                assert_eq!(
                    configured_binary(value),
                    Some(PathBuf::from(path)),
                    "{value}"
                );
            }
        }
        assert_eq!(configured_binary("\"/x/mlguard\" filter-process"), None);
    }
}
