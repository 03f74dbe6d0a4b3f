//! `mlguard status`: what is configured in this clone and whether git actually applies it,
//! judged by asking git (`check-attr`, the hooks path) rather than by reading files.

use std::fs;
use std::path::Path;

use super::install::{InstallError, hooks_dir, is_ours};
use crate::git;
use crate::notebook::Mode;
use crate::notebook::strip::{self, Render, StripOptions};
use crate::shell;

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
    let process = git::text(&["config", "filter.mlguard.process"]).ok();
    let driver_ok = match &process {
        Some(command) => {
            let binary = shell::first_word(command);
            let runs = binary.is_some_and(|b| is_executable(Path::new(&b)));
            lines.push(format!(
                "filter driver: filter.mlguard.process = {command}{}",
                if runs {
                    ""
                } else {
                    "  (binary missing or not executable: run `mlguard install` again)"
                }
            ));
            runs && git::text(&["config", "filter.mlguard.required"]).is_ok_and(|v| v == "true")
        }
        None => {
            lines.push("filter driver: not configured (filter.mlguard.process is unset)".into());
            false
        }
    };
    let attributes = git::text(&["check-attr", "filter", "diff", "--", "mlguard-probe.ipynb"])
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
        .filter(|(path, _)| Mode::of_path(path) == Some(Mode::Jupyter))
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

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
