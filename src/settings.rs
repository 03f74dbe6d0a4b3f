//! The team's shared settings and the command line, parsed once into one `Settings`.
//!
//! The file is `.mlguard.toml`, or `[tool.mlguard]` in `pyproject.toml`, looked up from the
//! working directory upwards and stopping at the repository root (the first directory with a
//! `.git` entry), so a sub-project can carry its own settings. Strip options from the file and
//! from the command line go through the same parser (`StripInput`), the command line on top:
//! its flags can only turn settings on, its lists add to the file's, `--max-size` replaces.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::notebook::Mode;
use crate::notebook::strip::{self, OptionError, OutputType, StripOptions};
use crate::scan::rules::{RuleError, RuleSet, RuleSpec, Volume, builtin_specs};
use crate::scan::sources::{SourceOptions, glob_to_regex};

/// Files above this size are not scanned unless the configuration says otherwise.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 50_000_000;

/// Where a setting came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File(PathBuf),
    CommandLine,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::CommandLine => f.write_str("command line"),
        }
    }
}

/// What is wrong with one setting's value.
#[derive(Debug, thiserror::Error)]
pub enum Problem {
    #[error(transparent)]
    Strip(#[from] OptionError),
    #[error("invalid size `{0}`: expected an integer with an optional k, M or G suffix")]
    Size(String),
    #[error("invalid regex `{pattern}`: {message}")]
    Regex { pattern: String, message: String },
    #[error("invalid glob `{glob}`: {message}")]
    Glob { glob: String, message: String },
    #[error("unknown rule `{0}`")]
    UnknownRule(String),
    #[error("`{0}` matches the empty string, so it would allow every secret")]
    AllowsEverything(String),
    #[error(transparent)]
    Rule(#[from] RuleError),
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{origin}: {key}: {problem}")]
    Invalid {
        origin: Origin,
        key: &'static str,
        problem: Problem,
    },
}

/// Where to take the configuration file from.
#[derive(Debug, Clone)]
pub enum ConfigSource {
    /// Look up from this directory to the repository root.
    Discover(PathBuf),
    /// Exactly this file (`--config`, `MLGUARD_CONFIG`).
    File(PathBuf),
    /// No file: built-in defaults (`--no-config`).
    Defaults,
}

/// Every setting mlguard reads, validated.
#[derive(Debug, Default)]
pub struct Settings {
    /// The file the settings came from, if any.
    pub file: Option<PathBuf>,
    /// How that file was chosen.
    pub chosen: Chosen,
    pub strip: StripOptions,
    pub scan: ScanSettings,
}

/// How the configuration file was chosen, which decides whether a range scan may replace it
/// with the one at the range's base.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Chosen {
    /// Built-in defaults (no file, or `--no-config`).
    #[default]
    Defaults,
    /// Found by looking up from the working directory.
    Discovered,
    /// Named by `--config` or `MLGUARD_CONFIG`: used as it is, everywhere.
    Explicit,
    /// Read from a git revision (the base of a range).
    Revision(String),
}

/// `[scan]`, validated but not compiled (compiling rules is `scan_setup`'s work).
#[derive(Debug, Clone)]
pub struct ScanSettings {
    pub skip_paths: Vec<String>,
    pub allow_regexes: Vec<String>,
    pub disable_rules: Vec<String>,
    /// Files larger than this are not scanned; `None`: no limit.
    pub max_file_size: Option<u64>,
    pub rules: Vec<RuleSpec>,
    /// Accepted findings, resolved against the configuration file's directory.
    pub baseline: Option<PathBuf>,
}

impl Default for ScanSettings {
    fn default() -> Self {
        ScanSettings {
            skip_paths: Vec::new(),
            allow_regexes: Vec::new(),
            disable_rules: Vec::new(),
            max_file_size: Some(DEFAULT_MAX_FILE_SIZE),
            rules: Vec::new(),
            baseline: None,
        }
    }
}

/// What a scan needs from `[scan]`, compiled: the rules (built-in plus the team's, minus the
/// disabled ones), the allow-list, and the path and size limits.
pub struct ScanSetup {
    pub rules: RuleSet,
    pub allow: Vec<regex::bytes::Regex>,
    pub sources: SourceOptions,
}

/// Strip settings as written, in a file or on the command line, before validation. Lists are
/// words separated by whitespace or commas, in one string or several.
#[derive(Debug, Clone, Default)]
pub struct StripInput {
    pub keep_output: Option<bool>,
    pub keep_count: Option<bool>,
    pub keep_id: Option<bool>,
    pub extra_keys: Vec<String>,
    pub keep_metadata_keys: Vec<String>,
    pub drop_empty_cells: Option<bool>,
    pub drop_tagged_cells: Vec<String>,
    pub strip_init_cells: Option<bool>,
    pub max_size: Option<String>,
    pub keep_output_type: Vec<String>,
    pub drop_output_type: Vec<String>,
    pub mode: Option<Mode>,
}

impl Settings {
    /// Reads the configuration file the source names (none found: the defaults).
    pub fn load(source: &ConfigSource) -> Result<Settings, SettingsError> {
        match source {
            ConfigSource::Defaults => Ok(Settings::default()),
            ConfigSource::File(path) => {
                let table = is_pyproject(path).then_some(&["tool", "mlguard"][..]);
                let mut settings = load_file(path, table)?.unwrap_or_else(|| Settings {
                    file: Some(path.clone()),
                    ..Settings::default()
                });
                settings.chosen = Chosen::Explicit;
                Ok(settings)
            }
            ConfigSource::Discover(start) => discover(start),
        }
    }

    /// One line on what the scan settings turn off (disabled rules, skipped paths, allow
    /// patterns, a size limit) and where they come from; `None` when they turn nothing off.
    /// A committed configuration can weaken the scan, so this is always said out loud.
    pub fn weakening_summary(&self) -> Option<String> {
        let scan = &self.scan;
        let quoted = |items: &[String]| {
            items
                .iter()
                .map(|i| format!("`{}`", crate::shell::printable(i)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut parts = Vec::new();
        if !scan.disable_rules.is_empty() {
            parts.push(format!("rules disabled: {}", quoted(&scan.disable_rules)));
        }
        if !scan.skip_paths.is_empty() {
            parts.push(format!("paths skipped: {}", quoted(&scan.skip_paths)));
        }
        if !scan.allow_regexes.is_empty() {
            parts.push(format!(
                "secrets allowed by: {}",
                quoted(&scan.allow_regexes)
            ));
        }
        if scan.max_file_size != Some(DEFAULT_MAX_FILE_SIZE) {
            parts.push(match scan.max_file_size {
                Some(limit) => {
                    format!("size limit {limit} bytes (larger files are streamed, not skipped)")
                }
                None => "no size limit (every file is read whole)".into(),
            });
        }
        if parts.is_empty() {
            return None;
        }
        let from = match (&self.file, &self.chosen) {
            (Some(file), Chosen::Revision(rev)) => {
                format!("{} at {}", file.display(), crate::shell::printable(rev))
            }
            (Some(file), _) => file.display().to_string(),
            (None, _) => "the command line".into(),
        };
        Some(format!("settings from {from}: {}", parts.join("; ")))
    }

    /// Parses a configuration held in memory (a file read from a git revision), labelled `path`.
    pub fn from_text(path: &Path, text: &str) -> Result<Settings, SettingsError> {
        let table = is_pyproject(path).then_some(&["tool", "mlguard"][..]);
        Ok(parse(path, text, table)?.unwrap_or_default())
    }

    /// Layers the command line's strip options over the file's.
    pub fn apply_strip_input(&mut self, input: &StripInput) -> Result<(), SettingsError> {
        apply_strip(&mut self.strip, input, &Origin::CommandLine)
    }

    /// Compiles `[scan]` for a scan of the given volume; errors name the file and the key.
    pub fn scan_setup(&self, volume: Volume) -> Result<ScanSetup, SettingsError> {
        let scan = &self.scan;
        let origin = self.origin();
        let invalid = |key: &'static str, problem: Problem| SettingsError::Invalid {
            origin: origin.clone(),
            key,
            problem,
        };
        let specs = builtin_specs().map_err(|e| invalid("rules", e.into()))?;
        let known = |id: &String| specs.iter().chain(&scan.rules).any(|s| &s.id == id);
        if let Some(unknown) = scan.disable_rules.iter().find(|id| !known(id)) {
            return Err(invalid(
                "disable_rules",
                Problem::UnknownRule(unknown.clone()),
            ));
        }
        let rules = RuleSet::new(specs, scan.rules.clone(), &scan.disable_rules, volume)
            .map_err(|e| invalid("rules", e.into()))?;
        let allow = scan
            .allow_regexes
            .iter()
            .map(|pattern| {
                let regex = regex::bytes::Regex::new(pattern).map_err(|e| {
                    invalid(
                        "allow_regexes",
                        Problem::Regex {
                            pattern: pattern.clone(),
                            message: e.to_string(),
                        },
                    )
                })?;
                if regex.is_match(b"") {
                    return Err(invalid(
                        "allow_regexes",
                        Problem::AllowsEverything(pattern.clone()),
                    ));
                }
                Ok(regex)
            })
            .collect::<Result<_, _>>()?;
        let skip_paths = scan
            .skip_paths
            .iter()
            .map(|glob| {
                glob_to_regex(glob).map_err(|e| {
                    invalid(
                        "skip_paths",
                        Problem::Glob {
                            glob: glob.clone(),
                            message: e.to_string(),
                        },
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(ScanSetup {
            rules,
            allow,
            sources: SourceOptions {
                skip_paths,
                max_file_size: scan.max_file_size,
            },
        })
    }

    fn origin(&self) -> Origin {
        self.file.clone().map_or(Origin::CommandLine, Origin::File)
    }
}

fn is_pyproject(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "pyproject.toml")
}

/// Finds and parses the configuration that applies to `start`; none found is the defaults.
fn discover(start: &Path) -> Result<Settings, SettingsError> {
    for dir in start.ancestors() {
        for (name, table) in CONFIG_FILES {
            let path = dir.join(name);
            if path.is_file() {
                // pyproject.toml counts only when it has the `[tool.mlguard]` table.
                if let Some(settings) = load_file(&path, table)? {
                    return Ok(discovered(settings));
                }
            }
        }
        if dir.join(".git").exists() {
            break;
        }
    }
    Ok(Settings::default())
}

fn discovered(mut settings: Settings) -> Settings {
    if settings.file.is_some() {
        settings.chosen = Chosen::Discovered;
    }
    settings
}

/// The configuration file names, in the order they are looked for in each directory, with the
/// table that holds mlguard's settings.
pub const CONFIG_FILES: [(&str, Option<&[&str]>); 2] = [
    (".mlguard.toml", None),
    ("pyproject.toml", Some(&["tool", "mlguard"])),
];

impl Settings {
    /// Parses the configuration held at a git revision: `files` are (repository path, content)
    /// pairs in lookup order, as found at `rev`; the first that holds mlguard settings wins.
    pub fn from_revision(
        rev: &str,
        files: &[(PathBuf, Vec<u8>)],
    ) -> Result<Settings, SettingsError> {
        for (path, content) in files {
            let table = is_pyproject(path).then_some(&["tool", "mlguard"][..]);
            let text = String::from_utf8_lossy(content);
            if let Some(mut settings) = parse(path, &text, table)? {
                settings.chosen = Chosen::Revision(rev.to_string());
                return Ok(settings);
            }
        }
        Ok(Settings {
            chosen: Chosen::Revision(rev.to_string()),
            ..Settings::default()
        })
    }
}

/// Loads one file; with `table`, only that nested table (`None` when the table is absent).
fn load_file(path: &Path, table: Option<&[&str]>) -> Result<Option<Settings>, SettingsError> {
    let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text, table)
}

/// The whole configuration file; every table is optional, every unknown key an error.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    strip: StripTable,
    #[serde(default)]
    scan: ScanTable,
}

/// `[scan]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScanTable {
    #[serde(default)]
    skip_paths: Vec<String>,
    #[serde(default)]
    allow_regexes: Vec<String>,
    #[serde(default)]
    disable_rules: Vec<String>,
    max_file_size: Option<Size>,
    #[serde(default)]
    rules: Vec<RuleSpec>,
    baseline: Option<PathBuf>,
}

/// `[strip]` as written: `mlguard strip`'s options with the same names.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StripTable {
    keep_output: Option<bool>,
    keep_count: Option<bool>,
    keep_id: Option<bool>,
    extra_keys: Option<Words>,
    keep_metadata_keys: Option<Words>,
    drop_empty_cells: Option<bool>,
    drop_tagged_cells: Option<Words>,
    strip_init_cells: Option<bool>,
    max_size: Option<Size>,
    keep_output_type: Option<Words>,
    drop_output_type: Option<Words>,
}

/// A list given either as a TOML array or as one string (nbstripout's style).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Words {
    One(String),
    Many(Vec<String>),
}

impl Words {
    fn into_vec(self) -> Vec<String> {
        match self {
            Words::One(s) => vec![s],
            Words::Many(items) => items,
        }
    }
}

/// A size: an integer, or nbstripout's syntax in a string (`10k`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Size {
    Number(u64),
    Text(String),
}

impl Size {
    fn text(&self) -> String {
        match self {
            Size::Number(n) => n.to_string(),
            Size::Text(text) => text.clone(),
        }
    }
}

fn parse(
    path: &Path,
    text: &str,
    table: Option<&[&str]>,
) -> Result<Option<Settings>, SettingsError> {
    let syntax = |error: toml::de::Error, prefix: String| SettingsError::Syntax {
        path: path.to_path_buf(),
        line: error.span().map_or(1, |span| line_of(text, span.start)),
        message: format!("{prefix}{}", without_values(error.message().trim())),
    };
    let config: FileConfig = match table {
        None => toml::from_str(text).map_err(|e| syntax(e, String::new()))?,
        Some(keys) => {
            let document: toml::Table =
                toml::from_str(text).map_err(|e| syntax(e, String::new()))?;
            let Some(value) = lookup(&document, keys) else {
                return Ok(None);
            };
            value
                .clone()
                .try_into()
                .map_err(|e| syntax(e, format!("[{}]: ", keys.join("."))))?
        }
    };
    let origin = Origin::File(path.to_path_buf());
    let mut strip_options = StripOptions::default();
    apply_strip(&mut strip_options, &config.strip.into_input(), &origin)?;
    let scan = config.scan;
    let max_file_size = match &scan.max_file_size {
        None => Some(DEFAULT_MAX_FILE_SIZE),
        Some(size) => match parse_size(&size.text()) {
            Ok(0) => None,
            Ok(limit) => Some(limit),
            Err(problem) => {
                return Err(SettingsError::Invalid {
                    origin,
                    key: "max_file_size",
                    problem,
                });
            }
        },
    };
    let base = path.parent().unwrap_or(Path::new("."));
    Ok(Some(Settings {
        file: Some(path.to_path_buf()),
        chosen: Chosen::Defaults,
        strip: strip_options,
        scan: ScanSettings {
            skip_paths: scan.skip_paths,
            allow_regexes: scan.allow_regexes,
            disable_rules: scan.disable_rules,
            max_file_size,
            rules: scan.rules,
            baseline: scan.baseline.map(|b| base.join(b)),
        },
    }))
}

impl StripTable {
    fn into_input(self) -> StripInput {
        let words = |w: Option<Words>| w.map(Words::into_vec).unwrap_or_default();
        StripInput {
            keep_output: self.keep_output,
            keep_count: self.keep_count,
            keep_id: self.keep_id,
            extra_keys: words(self.extra_keys),
            keep_metadata_keys: words(self.keep_metadata_keys),
            drop_empty_cells: self.drop_empty_cells,
            drop_tagged_cells: words(self.drop_tagged_cells),
            strip_init_cells: self.strip_init_cells,
            max_size: self.max_size.map(|s| s.text()),
            keep_output_type: words(self.keep_output_type),
            drop_output_type: words(self.drop_output_type),
            mode: None,
        }
    }
}

/// Splits list values into words: whitespace and commas separate them, in any mix.
pub fn split_words(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(|c: char| c.is_whitespace() || c == ','))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The one strip-option parser, for the file and the command line alike.
fn apply_strip(
    options: &mut StripOptions,
    input: &StripInput,
    origin: &Origin,
) -> Result<(), SettingsError> {
    let invalid = |key: &'static str, problem: Problem| SettingsError::Invalid {
        origin: origin.clone(),
        key,
        problem,
    };
    let flag = |target: &mut bool, value: Option<bool>| {
        if let Some(value) = value {
            *target = value;
        }
    };
    flag(&mut options.keep_output, input.keep_output);
    flag(&mut options.keep_count, input.keep_count);
    flag(&mut options.keep_id, input.keep_id);
    flag(&mut options.drop_empty_cells, input.drop_empty_cells);
    flag(&mut options.strip_init_cells, input.strip_init_cells);
    for (key, words, target) in [
        ("extra_keys", &input.extra_keys, &mut options.extra_keys),
        (
            "keep_metadata_keys",
            &input.keep_metadata_keys,
            &mut options.keep_metadata_keys,
        ),
    ] {
        for word in split_words(words) {
            strip::validate_key_path(&word).map_err(|e| invalid(key, e.into()))?;
            target.push(word);
        }
    }
    options
        .drop_tagged_cells
        .extend(split_words(&input.drop_tagged_cells));
    for (key, words, target) in [
        (
            "keep_output_type",
            &input.keep_output_type,
            &mut options.keep_output_types,
        ),
        (
            "drop_output_type",
            &input.drop_output_type,
            &mut options.drop_output_types,
        ),
    ] {
        for word in split_words(words) {
            let parsed: OutputType = word
                .parse()
                .map_err(|e: OptionError| invalid(key, e.into()))?;
            target.push(parsed);
        }
    }
    if let Some(size) = &input.max_size {
        options.max_size = parse_size(size).map_err(|p| invalid("max_size", p))?;
    }
    if let Some(mode) = input.mode {
        options.mode = mode;
    }
    Ok(())
}

fn lookup<'t>(table: &'t toml::Table, keys: &[&str]) -> Option<&'t toml::Value> {
    let (first, rest) = keys.split_first()?;
    let value = table.get(*first)?;
    match rest {
        [] => Some(value),
        _ => lookup(value.as_table()?, rest),
    }
}

/// A parser message without the values it quotes: `invalid type: string "ghp_…", expected a
/// sequence` names the key's expected type, and the value may be a credential pasted in the
/// wrong place. Quoted values become `"…"`.
fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', false) => {
                quoted = true;
                out.push_str("\"\u{2026}");
            }
            ('"', true) => {
                quoted = false;
                out.push('"');
            }
            ('\\', true) => {
                chars.next();
            }
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    out
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Parses nbstripout's size syntax: an integer with an optional `k`, `M` or `G` (powers of 1000).
pub fn parse_size(text: &str) -> Result<u64, Problem> {
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
        .ok_or_else(|| Problem::Size(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_toml(text: &str) -> Result<Settings, SettingsError> {
        Settings::from_text(Path::new("/p/.mlguard.toml"), text)
    }

    #[test]
    fn sizes_follow_nbstripout() {
        assert_eq!(parse_size("50").ok(), Some(50));
        assert_eq!(parse_size("2k").ok(), Some(2_000));
        assert_eq!(parse_size("3M").ok(), Some(3_000_000));
        assert!(parse_size("1.5k").is_err());
        assert!(parse_size("1x").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn lists_split_the_same_way_in_the_file_and_on_the_command_line() {
        let mut settings = from_toml(
            "[strip]\nextra_keys = 'metadata.a cell.metadata.b'\ndrop_tagged_cells = ['x', 'y z,w']",
        )
        .unwrap();
        assert_eq!(settings.strip.extra_keys, ["metadata.a", "cell.metadata.b"]);
        assert_eq!(settings.strip.drop_tagged_cells, ["x", "y", "z", "w"]);
        settings
            .apply_strip_input(&StripInput {
                drop_tagged_cells: vec!["p,q r".into()],
                keep_metadata_keys: vec!["cell.metadata.collapsed".into()],
                keep_count: Some(true),
                ..StripInput::default()
            })
            .unwrap();
        assert_eq!(
            settings.strip.drop_tagged_cells,
            ["x", "y", "z", "w", "p", "q", "r"]
        );
        assert!(settings.strip.keep_count);
        let bad = settings.apply_strip_input(&StripInput {
            keep_metadata_keys: vec!["foo".into()],
            ..StripInput::default()
        });
        assert!(matches!(
            bad,
            Err(SettingsError::Invalid {
                origin: Origin::CommandLine,
                key: "keep_metadata_keys",
                ..
            })
        ));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_rejected() {
        let err = from_toml("[strip]\nkeep_outputs = true\n").unwrap_err();
        assert!(err.to_string().contains("keep_outputs"), "{err}");
        let err = from_toml("[strip]\nextra_keys = 'foo'\n").unwrap_err();
        assert!(err.to_string().contains("extra_keys") && err.to_string().contains("foo"));
        let err = from_toml("[scan]\nmax_file_size = '3x'\n").unwrap_err();
        assert!(err.to_string().contains("max_file_size"), "{err}");
    }

    #[test]
    fn type_errors_do_not_echo_the_value() {
        let err = from_toml("[scan]\nskip_paths = \"ghp_MHwkpu9mq9Ugk9QgmyjjYtUtBrmgO6grn4yD\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("skip_paths") || err.contains("sequence"),
            "{err}"
        );
        assert!(!err.contains("MHwkpu9mq9"), "{err}");
    }

    #[test]
    fn zero_means_no_size_limit_and_the_baseline_is_relative_to_the_file() {
        let settings = from_toml("[scan]\nmax_file_size = 0\nbaseline = 'b.json'\n").unwrap();
        assert_eq!(settings.scan.max_file_size, None);
        assert_eq!(settings.scan.baseline, Some(PathBuf::from("/p/b.json")));
        assert_eq!(
            Settings::default().scan.max_file_size,
            Some(DEFAULT_MAX_FILE_SIZE)
        );
    }
}
