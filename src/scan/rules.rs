//! Detection rules as data: the built-in `rules.toml` (compiled in) plus a team's custom rules
//! from `[scan]`, compiled once into regexes and one keyword automaton. A rule also carries what
//! reports say about it (what the credential is, its provider, severity score and precision);
//! those fields are optional and default from the rule's severity, so a new rule is valid with
//! only an id, a description, keywords and a regex.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex::bytes::Regex;
use serde::Deserialize;

const BUILTIN: &str = include_str!("rules.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// Where a rule's regex runs once one of its keywords is seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Window {
    /// The lines holding a keyword (cheap, and enough for single-line credentials).
    #[default]
    Line,
    /// The whole text (patterns spanning lines, such as PEM blocks).
    File,
}

/// How often a rule's findings are real credentials (SARIF `precision`, which GitHub code
/// scanning uses to rank alerts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// A format with a fixed prefix and structure (a checksum, a marker): almost never wrong.
    VeryHigh,
    /// A distinctive prefix and length.
    High,
    /// Recognised by its context (a variable name, a file kind) as much as by its form.
    Medium,
    Low,
}

impl Precision {
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::VeryHigh => "very-high",
            Precision::High => "high",
            Precision::Medium => "medium",
            Precision::Low => "low",
        }
    }
}

/// How much content a scan will read, which decides how much to invest in setting up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Volume {
    /// A commit's worth of files (the hook, `--staged`).
    Small,
    /// Directories and histories.
    Large,
}

/// A rule as written in TOML (built-in file or a team's `[[scan.rules]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    pub description: String,
    pub regex: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub window: Window,
    #[serde(default)]
    pub entropy: f64,
    #[serde(default)]
    pub mixed: bool,
    /// Also looked for in the printable runs of binary files (tokens with a distinctive prefix).
    #[serde(default)]
    pub binary: bool,
    pub paths: Option<String>,
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default = "default_severity")]
    pub severity: Severity,
    #[serde(default = "default_fix")]
    pub fix: String,
    #[serde(default)]
    pub examples: Vec<String>,
    #[serde(default)]
    pub negatives: Vec<String>,
    /// What the credential is and what someone holding it can do (SARIF `fullDescription`);
    /// default: a sentence built from `description`.
    pub about: Option<String>,
    /// Who issues the credential (`openai`, `aws`): a tag in SARIF. Default: none.
    pub provider: Option<String>,
    /// GitHub's security severity, 0.0 to 10.0 (9.0 and above is critical, 7.0 high, 4.0
    /// medium). Default: 8.0 for errors, 4.0 for warnings.
    pub security_severity: Option<f64>,
    /// Default: high for errors, medium for warnings.
    pub precision: Option<Precision>,
}

impl RuleSpec {
    /// What the credential is, for reports: `about`, or a sentence built from the description.
    pub fn about(&self) -> String {
        match (&self.about, self.severity) {
            (Some(about), _) => about.clone(),
            (None, Severity::Error) => format!(
                "A {} committed to the repository: anyone who can read the repository, a clone, a fork or a CI log of it can use it until it is revoked.",
                self.description
            ),
            (None, Severity::Warning) => format!(
                "A code smell that tends to leak credentials: {}.",
                self.description
            ),
        }
    }

    pub fn security_severity(&self) -> f64 {
        self.security_severity.unwrap_or(match self.severity {
            Severity::Error => 8.0,
            Severity::Warning => 4.0,
        })
    }

    pub fn precision(&self) -> Precision {
        self.precision.unwrap_or(match self.severity {
            Severity::Error => Precision::High,
            Severity::Warning => Precision::Medium,
        })
    }

    /// Checks the report fields (the regexes are checked when they compile).
    fn validate(&self) -> Result<(), RuleError> {
        let severity = self.security_severity();
        if !(0.0..=10.0).contains(&severity) {
            return Err(RuleError::SecuritySeverity {
                id: self.id.clone(),
                value: severity,
            });
        }
        if let Some(provider) = &self.provider {
            let valid = !provider.is_empty()
                && provider.len() <= 40
                && provider
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !valid {
                return Err(RuleError::Provider {
                    id: self.id.clone(),
                    provider: provider.clone(),
                });
            }
        }
        Ok(())
    }
}

fn default_severity() -> Severity {
    Severity::Error
}

fn default_fix() -> String {
    "revoke it with its provider and read it from the environment or a secret manager".into()
}

/// `rules.toml`: the rule set's version (bumped whenever a rule changes; `--version` and the
/// SARIF report name it) and the rules.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    version: String,
    rules: Vec<RuleSpec>,
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("rule {id}: invalid {what}: {message}")]
    Regex {
        id: String,
        what: &'static str,
        message: String,
    },
    #[error("rule {id}: security_severity {value} is outside 0.0 to 10.0")]
    SecuritySeverity { id: String, value: f64 },
    #[error("rule {id}: provider `{provider}` must be 1 to 40 lowercase letters, digits or dashes")]
    Provider { id: String, provider: String },
    #[error("rule {0}: a rule needs at least one keyword")]
    NoKeywords(String),
    #[error("rule {0}: defined twice")]
    Duplicate(String),
    #[error("built-in rules: {0}")]
    Builtin(String),
    #[error("keyword automaton: {0}")]
    Automaton(String),
}

/// A compiled rule. The main regex is built on first use: most runs (a commit of three files)
/// need a handful of the rules, and building all of them would double a hook's run time.
#[derive(Debug)]
pub struct Rule {
    pub spec: RuleSpec,
    regex: OnceLock<Regex>,
    pub paths: Option<Regex>,
    pub allow: Vec<Regex>,
}

/// Every active rule, with one automaton over all their keywords.
#[derive(Debug)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub keywords: AhoCorasick,
    /// For each keyword pattern, the rules it enables.
    pub keyword_rules: Vec<Vec<usize>>,
    /// The keywords of the rules that apply to every path, built on first use: most files are
    /// not `.env` or shell files, and the keywords of those rules (`=`, `export`) are on nearly
    /// every line of code, so leaving them out of the automaton there saves most of its matches.
    everywhere: OnceLock<Option<Keywords>>,
    kind: AhoCorasickKind,
}

/// A keyword automaton and, for each of its patterns, the rules it enables.
#[derive(Debug)]
struct Keywords {
    automaton: AhoCorasick,
    rules: Vec<Vec<usize>>,
}

/// The keyword patterns of `rules` (lowercased, each once) and the rules each enables.
fn keyword_patterns<'r>(
    rules: impl Iterator<Item = (usize, &'r Rule)>,
) -> (Vec<String>, Vec<Vec<usize>>) {
    let mut patterns: Vec<String> = Vec::new();
    let mut keyword_rules: Vec<Vec<usize>> = Vec::new();
    for (index, rule) in rules {
        for keyword in &rule.spec.keywords {
            let keyword = keyword.to_ascii_lowercase();
            match patterns.iter().position(|p| *p == keyword) {
                Some(existing) => keyword_rules[existing].push(index),
                None => {
                    patterns.push(keyword);
                    keyword_rules.push(vec![index]);
                }
            }
        }
    }
    (patterns, keyword_rules)
}

fn automaton(patterns: &[String], kind: AhoCorasickKind) -> Result<AhoCorasick, RuleError> {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(kind))
        .build(patterns)
        .map_err(|e| RuleError::Automaton(e.to_string()))
}

fn builtin_file() -> Result<RuleFile, RuleError> {
    toml::from_str::<RuleFile>(BUILTIN).map_err(|e| RuleError::Builtin(e.to_string()))
}

pub fn builtin_specs() -> Result<Vec<RuleSpec>, RuleError> {
    builtin_file().map(|file| file.rules)
}

/// The built-in rule set's version and its number of rules (for `--version`).
pub fn builtin_summary() -> Result<(String, usize), RuleError> {
    builtin_file().map(|file| (file.version, file.rules.len()))
}

/// The built-in rule set's version, parsed once per process (for reports).
pub fn builtin_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| builtin_summary().map(|(v, _)| v).unwrap_or_default())
}

/// Where a rule comes from, which decides how far its regex is trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleOrigin {
    /// mlguard's own `rules.toml`: compiled on first use (a hook needs a handful of them).
    Builtin,
    /// A team's `[[scan.rules]]`: compiled when the configuration loads, so a bad pattern is
    /// reported at once, and held to a small compiled size.
    Team,
}

impl RuleOrigin {
    /// The largest compiled program allowed. The regex engine runs in time linear in the input
    /// times the program's size, and a team's pattern with huge counted repetitions
    /// (`a{100000}`, `(?:[a-z]{1,50}){50}`) would take minutes per megabyte; refused instead.
    fn size_limit(self) -> usize {
        match self {
            RuleOrigin::Builtin => 50 << 20,
            RuleOrigin::Team => 256 << 10,
        }
    }
}

fn compile_regex(
    id: &str,
    what: &'static str,
    pattern: &str,
    origin: RuleOrigin,
) -> Result<Regex, RuleError> {
    // ASCII classes and word boundaries: credentials are ASCII, and Unicode-aware `\b`, `\w`
    // and `(?i)` make automata several times larger to build.
    regex::bytes::RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(origin.size_limit())
        .build()
        .map_err(|e| RuleError::Regex {
            id: id.to_string(),
            what,
            message: e
                .to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .trim()
                .to_string(),
        })
}

impl Rule {
    /// Checks the rule and compiles its small regexes; a team's rule also has its main regex
    /// compiled now, so that a bad pattern is reported when the configuration loads.
    pub fn compile(spec: RuleSpec, origin: RuleOrigin) -> Result<Rule, RuleError> {
        if spec.keywords.is_empty() {
            return Err(RuleError::NoKeywords(spec.id));
        }
        spec.validate()?;
        let regex = OnceLock::new();
        if origin == RuleOrigin::Team {
            let _ = regex.set(compile_regex(&spec.id, "regex", &spec.regex, origin)?);
        }
        let paths = spec
            .paths
            .as_deref()
            .map(|p| compile_regex(&spec.id, "paths", p, origin))
            .transpose()?;
        let allow = spec
            .allow
            .iter()
            .map(|a| compile_regex(&spec.id, "allow", a, origin))
            .collect::<Result<_, _>>()?;
        Ok(Rule {
            spec,
            regex,
            paths,
            allow,
        })
    }

    /// The rule's regex. Built-in patterns are compiled in a test, so building cannot fail
    /// here; if it ever did, the rule matches nothing rather than aborting a commit hook.
    pub fn regex(&self) -> &Regex {
        self.regex.get_or_init(|| {
            compile_regex(
                &self.spec.id,
                "regex",
                &self.spec.regex,
                RuleOrigin::Builtin,
            )
            .unwrap_or_else(|_| Regex::new(r"\b\B").expect("a never-matching regex is valid"))
        })
    }
}

impl RuleSet {
    /// Compiles the built-in `specs` and the team's `custom` ones, minus the `disabled` ids.
    /// `volume` picks the keyword automaton: a DFA scans megabytes faster but takes a
    /// millisecond to build, which a commit hook reading a few files does not win back.
    pub fn new(
        specs: Vec<RuleSpec>,
        custom: Vec<RuleSpec>,
        disabled: &[String],
        volume: Volume,
    ) -> Result<RuleSet, RuleError> {
        let mut rules: Vec<Rule> = Vec::new();
        let all = specs
            .into_iter()
            .map(|s| (s, RuleOrigin::Builtin))
            .chain(custom.into_iter().map(|s| (s, RuleOrigin::Team)));
        for (spec, origin) in all.filter(|(s, _)| !disabled.contains(&s.id)) {
            if rules.iter().any(|r| r.spec.id == spec.id) {
                return Err(RuleError::Duplicate(spec.id));
            }
            rules.push(Rule::compile(spec, origin)?);
        }
        let (patterns, keyword_rules) = keyword_patterns(rules.iter().enumerate());
        let kind = match volume {
            Volume::Small => AhoCorasickKind::ContiguousNFA,
            Volume::Large => AhoCorasickKind::DFA,
        };
        let keywords = automaton(&patterns, kind)?;
        Ok(RuleSet {
            rules,
            keywords,
            keyword_rules,
            everywhere: OnceLock::new(),
            kind,
        })
    }

    /// The automaton to look for keywords with, and the rules each of its patterns enables:
    /// without the keywords of path-restricted rules when none of those applies (`applicable`
    /// is indexed by rule). Either way every applicable rule's keywords are in it.
    pub fn keywords_for(&self, applicable: &[bool]) -> (&AhoCorasick, &[Vec<usize>]) {
        let restricted_applies = self
            .rules
            .iter()
            .zip(applicable)
            .any(|(rule, &applies)| applies && rule.paths.is_some());
        if !restricted_applies {
            let everywhere = self.everywhere.get_or_init(|| {
                let (patterns, rules) = keyword_patterns(
                    self.rules
                        .iter()
                        .enumerate()
                        .filter(|(_, rule)| rule.paths.is_none()),
                );
                let automaton = automaton(&patterns, self.kind).ok()?;
                Some(Keywords { automaton, rules })
            });
            if let Some(keywords) = everywhere {
                return (&keywords.automaton, &keywords.rules);
            }
        }
        (&self.keywords, &self.keyword_rules)
    }

    pub fn builtin() -> Result<RuleSet, RuleError> {
        RuleSet::new(builtin_specs()?, Vec::new(), &[], Volume::Small)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_fill_in_their_report_fields() {
        let (version, count) = builtin_summary().unwrap();
        assert!(!version.is_empty());
        assert_eq!(count, builtin_specs().unwrap().len());
        for spec in builtin_specs().unwrap() {
            spec.validate().unwrap();
        }
        // The report fields are optional; the built-in rules of the first rule set fill them in.
        let specs = builtin_specs().unwrap();
        let filled = specs
            .iter()
            .filter(|s| s.about.is_some() && s.precision.is_some() && s.security_severity.is_some())
            .count();
        assert!(
            filled >= 39,
            "{filled} rules with about, precision and security_severity"
        );
    }

    #[test]
    fn a_rule_without_report_fields_gets_defaults() {
        let spec: RuleSpec = toml::from_str(
            "id = 'acme'\ndescription = 'ACME key'\nregex = 'acme_[a-z]{8}'\nkeywords = ['acme_']",
        )
        .unwrap();
        let rule = Rule::compile(spec, RuleOrigin::Team).unwrap();
        assert_eq!(rule.spec.security_severity(), 8.0);
        assert_eq!(rule.spec.precision(), Precision::High);
        assert!(rule.spec.about().contains("ACME key"));
        let bad: RuleSpec = toml::from_str(
            "id = 'acme'\ndescription = 'x'\nregex = 'x'\nkeywords = ['x']\nsecurity_severity = 11.0",
        )
        .unwrap();
        let error = Rule::compile(bad, RuleOrigin::Team)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("acme") && error.contains("security_severity"),
            "{error}"
        );
        let unknown = toml::from_str::<RuleSpec>(
            "id = 'acme'\ndescription = 'x'\nregex = 'x'\nkeywords = ['x']\nseverity_score = 1",
        );
        assert!(unknown.is_err(), "unknown fields stay errors");
    }

    #[test]
    fn every_builtin_regex_compiles() {
        for spec in builtin_specs().unwrap() {
            compile_regex(&spec.id, "regex", &spec.regex, RuleOrigin::Builtin).unwrap();
        }
    }
}
