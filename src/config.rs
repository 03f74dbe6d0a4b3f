//! The team's shared settings: `.mlguard.toml`, or `[tool.mlguard]` in `pyproject.toml`.
//!
//! The file is looked up from the working directory upwards, stopping at the repository root
//! (the first directory with a `.git` entry), so a sub-project can carry its own settings.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::rules::{RuleSet, Volume, builtin_specs};
use crate::sources::{SourceOptions, glob_to_regex};
use crate::strip::{self, Mode, OutputType, StripOptions};

/// Files above this size are not scanned unless the configuration says otherwise.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 50_000_000;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}[{section}] {message}", path.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default())]
    Setting {
        path: Option<PathBuf>,
        section: &'static str,
        message: String,
    },
}

/// The whole configuration file; every table is optional, every unknown key an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub strip: StripConfig,
    #[serde(default)]
    pub scan: ScanConfig,
}

/// `[scan]`: what to skip, what to allow, which rules to turn off, and the team's own rules.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanConfig {
    /// Gitignore-style globs of paths not to scan.
    #[serde(default)]
    pub skip_paths: Vec<String>,
    /// Regexes on the secret: a match is a known non-secret.
    #[serde(default)]
    pub allow_regexes: Vec<String>,
    #[serde(default)]
    pub disable_rules: Vec<String>,
    /// Files larger than this are skipped (default 50M; 0: no limit).
    pub max_file_size: Option<Size>,
    #[serde(default)]
    pub rules: Vec<crate::rules::RuleSpec>,
}

/// `[strip]`: the same settings as `mlguard strip`'s options, with the same names.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StripConfig {
    pub keep_output: Option<bool>,
    pub keep_count: Option<bool>,
    pub keep_id: Option<bool>,
    pub extra_keys: Option<Words>,
    pub keep_metadata_keys: Option<Words>,
    pub drop_empty_cells: Option<bool>,
    pub drop_tagged_cells: Option<Words>,
    pub strip_init_cells: Option<bool>,
    pub max_size: Option<Size>,
    pub keep_output_type: Option<Words>,
    pub drop_output_type: Option<Words>,
}

/// A list given either as a TOML array or as one whitespace-separated string (nbstripout's style).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Words {
    One(String),
    Many(Vec<String>),
}

impl Words {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Words::One(s) => s.split_whitespace().map(str::to_string).collect(),
            Words::Many(items) => items
                .iter()
                .flat_map(|s| s.split_whitespace())
                .map(str::to_string)
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Size {
    Number(u64),
    Text(String),
}

/// A loaded configuration and where it came from (for error messages).
#[derive(Debug, Default)]
pub struct Loaded {
    pub path: Option<PathBuf>,
    pub config: Config,
}

/// What a scan needs from `[scan]`: the rules (built-in plus the team's, minus the disabled
/// ones), the allow-list, and the path and size limits.
pub struct ScanSetup {
    pub rules: RuleSet,
    pub allow: Vec<regex::bytes::Regex>,
    pub sources: SourceOptions,
}

impl Loaded {
    fn setting_error(&self, section: &'static str, message: String) -> ConfigError {
        ConfigError::Setting {
            path: self.path.clone(),
            section,
            message,
        }
    }

    /// The `[strip]` options; errors name the file.
    pub fn strip_options(&self) -> Result<StripOptions, ConfigError> {
        self.config
            .strip
            .to_options()
            .map_err(|e| self.setting_error("strip", e))
    }

    /// Compiles `[scan]` for a scan of the given volume; errors name the file and the key.
    pub fn scan_setup(&self, volume: Volume) -> Result<ScanSetup, ConfigError> {
        let scan = &self.config.scan;
        let invalid = |message: String| self.setting_error("scan", message);
        let specs = builtin_specs().map_err(|e| invalid(e.to_string()))?;
        let known = |id: &String| specs.iter().chain(&scan.rules).any(|s| &s.id == id);
        if let Some(unknown) = scan.disable_rules.iter().find(|id| !known(id)) {
            return Err(invalid(format!("disable_rules: unknown rule `{unknown}`")));
        }
        let rules = RuleSet::new(specs, scan.rules.clone(), &scan.disable_rules, volume)
            .map_err(|e| invalid(e.to_string()))?;
        let allow = scan
            .allow_regexes
            .iter()
            .map(|a| {
                regex::bytes::Regex::new(a).map_err(|e| invalid(format!("allow_regexes: {a}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        let skip_paths = scan
            .skip_paths
            .iter()
            .map(|g| glob_to_regex(g).map_err(|e| invalid(format!("skip_paths: {g}: {e}"))))
            .collect::<Result<_, _>>()?;
        let max_file_size = match &scan.max_file_size {
            Some(size) => size
                .bytes()
                .map_err(|e| invalid(format!("max_file_size: {e}")))?,
            None => DEFAULT_MAX_FILE_SIZE,
        };
        Ok(ScanSetup {
            rules,
            allow,
            sources: SourceOptions {
                skip_paths,
                max_file_size,
            },
        })
    }
}

/// Finds and parses the configuration that applies to `start`; none found is an empty config.
pub fn discover(start: &Path) -> Result<Loaded, ConfigError> {
    for dir in start.ancestors() {
        let own = dir.join(".mlguard.toml");
        if own.is_file() {
            return load(&own, None);
        }
        let pyproject = dir.join("pyproject.toml");
        if pyproject.is_file() {
            let loaded = load(&pyproject, Some(&["tool", "mlguard"]))?;
            if loaded.path.is_some() {
                return Ok(loaded);
            }
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    Ok(Loaded::default())
}

/// Loads one file; with `table`, only that nested table (absent: an empty, path-less config).
pub fn load(path: &Path, table: Option<&[&str]>) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |error: toml::de::Error| ConfigError::Invalid {
        path: path.to_path_buf(),
        line: error.span().map_or(1, |span| line_of(&text, span.start)),
        message: error.message().trim().to_string(),
    };
    let config = match table {
        None => toml::from_str(&text).map_err(invalid)?,
        Some(keys) => {
            let document: toml::Table = toml::from_str(&text).map_err(invalid)?;
            let Some(value) = lookup(&document, keys) else {
                return Ok(Loaded::default());
            };
            value
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Invalid {
                    path: path.to_path_buf(),
                    line: 1,
                    message: format!("[{}]: {}", keys.join("."), e.message().trim()),
                })?
        }
    };
    Ok(Loaded {
        path: Some(path.to_path_buf()),
        config,
    })
}

fn lookup<'t>(table: &'t toml::Table, keys: &[&str]) -> Option<&'t toml::Value> {
    let (first, rest) = keys.split_first()?;
    let value = table.get(*first)?;
    match rest {
        [] => Some(value),
        _ => lookup(value.as_table()?, rest),
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Parses nbstripout's size syntax: an integer with an optional `k`, `M` or `G` (powers of 1000).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, factor) = match text.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&text[..text.len() - 1], 1_000),
        Some('M') => (&text[..text.len() - 1], 1_000_000),
        Some('G') => (&text[..text.len() - 1], 1_000_000_000),
        _ => (text, 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(factor))
        .ok_or_else(|| {
            format!("invalid size `{text}`: expected an integer with an optional k, M or G suffix")
        })
}

impl Size {
    pub fn bytes(&self) -> Result<u64, String> {
        match self {
            Size::Number(n) => Ok(*n),
            Size::Text(text) => parse_size(text),
        }
    }
}

impl StripConfig {
    /// The options this table describes, on top of nbstripout's defaults.
    pub fn to_options(&self) -> Result<StripOptions, String> {
        let flag = |value: Option<bool>| value.unwrap_or(false);
        let words = |value: &Option<Words>| value.as_ref().map(Words::to_vec).unwrap_or_default();
        let options = StripOptions {
            keep_output: flag(self.keep_output),
            keep_count: flag(self.keep_count),
            keep_id: flag(self.keep_id),
            extra_keys: checked_keys(words(&self.extra_keys), "extra_keys")?,
            keep_metadata_keys: checked_keys(
                words(&self.keep_metadata_keys),
                "keep_metadata_keys",
            )?,
            drop_empty_cells: flag(self.drop_empty_cells),
            drop_tagged_cells: words(&self.drop_tagged_cells),
            strip_init_cells: flag(self.strip_init_cells),
            max_size: match &self.max_size {
                None => 0,
                Some(Size::Number(n)) => *n,
                Some(Size::Text(text)) => parse_size(text).map_err(|e| format!("max_size: {e}"))?,
            },
            keep_output_types: output_types(words(&self.keep_output_type), "keep_output_type")?,
            drop_output_types: output_types(words(&self.drop_output_type), "drop_output_type")?,
            mode: Mode::Jupyter,
        };
        Ok(options)
    }
}

fn checked_keys(keys: Vec<String>, field: &str) -> Result<Vec<String>, String> {
    for key in &keys {
        strip::validate_key_path(key).map_err(|e| format!("{field}: {e}"))?;
    }
    Ok(keys)
}

fn output_types(items: Vec<String>, field: &str) -> Result<Vec<OutputType>, String> {
    items
        .iter()
        .map(|s| s.parse().map_err(|e| format!("{field}: {e}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_nbstripout() {
        assert_eq!(parse_size("50"), Ok(50));
        assert_eq!(parse_size("2k"), Ok(2_000));
        assert_eq!(parse_size("3M"), Ok(3_000_000));
        assert!(parse_size("1.5k").is_err());
        assert!(parse_size("1x").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn words_accept_string_or_list() {
        let config: Config = toml::from_str(
            "[strip]\nextra_keys = 'metadata.a cell.metadata.b'\ndrop_tagged_cells = ['x', 'y z']",
        )
        .unwrap();
        let options = config.strip.to_options().unwrap();
        assert_eq!(options.extra_keys, ["metadata.a", "cell.metadata.b"]);
        assert_eq!(options.drop_tagged_cells, ["x", "y", "z"]);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = toml::from_str::<Config>("[strip]\nkeep_outputs = true\n").unwrap_err();
        assert!(err.message().contains("keep_outputs"));
        let bad = toml::from_str::<Config>("[strip]\nextra_keys = 'foo'\n").unwrap();
        assert!(bad.strip.to_options().unwrap_err().contains("foo"));
    }
}
