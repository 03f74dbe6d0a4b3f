//! `mlguard status`: what is configured in this clone and whether git actually applies it,
//! judged by asking git (`check-attr`, the hooks path) rather than by reading files, and what
//! the user should know before relying on it (notebooks that will show as modified, outputs a
//! stash does not keep).

use std::fs;
use std::path::Path;

use super::install::{InstallError, configured_binary, hook_manager, hooks_dir, is_ours, toplevel};
use crate::git;
use crate::notebook::Mode;
use crate::notebook::strip::{self, Render, StripOptions};
use crate::shell::printable;

/// What is configured, and whether git actually applies it.
#[derive(Debug, Default)]
pub struct Status {
    pub lines: Vec<String>,
    pub fully_installed: bool,
}

/// Checks the filter driver, the attributes git applies to a notebook, the hook, and the
/// notebooks committed in a layout the filter would change (judged with the team's options).
pub fn status(options: &StripOptions) -> Result<Status, InstallError> {
    let mut lines = Vec::new();
    let process = git::text(&["config", "filter.mlguard.process"]).ok();
    let driver_ok = match &process {
        Some(command) => {
            let binary = configured_binary(command);
            let runs = binary.as_deref().is_some_and(is_executable);
            let shown = binary.as_deref().map_or_else(
                || "a command mlguard did not write".to_string(),
                |b| printable(&b.to_string_lossy()).into_owned(),
            );
            lines.push(format!(
                "filter driver: {shown}{}",
                if runs {
                    ""
                } else {
                    " (missing or not executable: notebooks are staged unstripped and the hook refuses commits; reinstall mlguard and run `mlguard install` again)"
                }
            ));
            runs
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
        lines.push("warning: the attributes select the mlguard filter but this clone has no driver for it: notebooks are staged unstripped (and refused by mlguard's hook, if installed) until you run `mlguard install`".into());
    }
    let hook = hooks_dir()?.join("pre-commit");
    let hook_ok = is_ours(&hook) && is_executable(&hook);
    let manager = toplevel().ok().and_then(|top| hook_manager(&top, &hook));
    lines.push(format!(
        "pre-commit hook: {}",
        match (is_ours(&hook), hook_ok, manager) {
            (true, true, _) => format!("installed at {}", hook.display()),
            (true, false, _) => format!("{} is not executable", hook.display()),
            (false, _, Some((manager, true))) => format!(
                "managed by {}: make sure its configuration runs `mlguard hook pre-commit`",
                manager.name()
            ),
            _ if hook.exists() => format!("{} is not mlguard's", hook.display()),
            _ => "not installed".into(),
        }
    ));
    let manager_runs = matches!(manager, Some((_, true)));
    lines.extend(committed_layout(options)?);
    if filter_applies {
        lines.push("note: the filter cleans what git stores, not your files: `git stash` + `git stash pop` and `git rebase --autostash` bring notebooks back without their outputs (git keeps the cleaned version); commit or copy outputs you need first. Checking out a branch with committed outputs shows those notebooks as modified until they are renormalized.".into());
    }
    Ok(Status {
        lines,
        fully_installed: driver_ok && filter_applies && (hook_ok || manager_runs),
    })
}

/// Notebooks committed in HEAD that the filter would store differently (outputs, counts, or
/// just another layout): git shows each as modified once it is touched or renormalized.
fn committed_layout(options: &StripOptions) -> Result<Vec<String>, InstallError> {
    let Ok(tree) = git::tree_blobs("HEAD") else {
        return Ok(vec!["committed notebooks: none yet (no commit)".into()]);
    };
    let notebooks: Vec<(String, String, Mode)> = tree
        .into_iter()
        .filter_map(|(path, id)| Mode::of_path(&path).map(|mode| (path, id, mode)))
        .collect();
    let ids: Vec<String> = notebooks.iter().map(|(_, id, _)| id.clone()).collect();
    let blobs = git::CatFile::spawn()?.read_all(ids)?;
    let differ: Vec<&str> = notebooks
        .iter()
        .zip(&blobs)
        .filter(|((_, _, mode), blob)| {
            let options = StripOptions {
                mode: *mode,
                ..options.clone()
            };
            // What git compares is the filter's output with the stored blob, byte for byte.
            !blob.iter().all(u8::is_ascii_whitespace)
                && strip::strip_bytes(blob, &options, Render::Always)
                    .is_ok_and(|s| s.output != **blob)
        })
        .map(|((path, _, _), _)| path.as_str())
        .collect();
    let mut lines = vec![format!(
        "committed notebooks: {} in HEAD, {} of them stored unstripped or in another layout",
        notebooks.len(),
        differ.len()
    )];
    if !differ.is_empty() {
        let shown: Vec<String> = differ
            .iter()
            .take(10)
            .map(|p| printable(p).into_owned())
            .collect();
        lines.push(format!(
            "  {}{}",
            shown.join(", "),
            if differ.len() > 10 { ", ..." } else { "" }
        ));
        lines.push("  with the filter active these show as modified once touched or renormalized; strip them in one commit: git add --renormalize -- '*.ipynb' && git commit -m 'Strip notebook outputs'".into());
    }
    Ok(lines)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
