//! Detection rules as data: the built-in `rules.toml` (compiled in) plus a team's custom rules
//! from `[scan]`, compiled once into regexes and one keyword automaton. A rule also carries what
//! reports say about it (what the credential is, its provider, severity score and precision);
//! those fields are optional and default from the rule's severity, so a new rule is valid with
//! only an id, a description, keywords and a regex.
//!
//! Regexes may use the shared pieces of `[fragments]` (`{{assign}}`: everything ML code writes
//! between a credential's name and its value), so that a way of writing credentials is taught
//! once and every named rule learns it. Named groups carry meaning: `secret` is reported,
//! `value` is what the plausibility filters judge (default: the secret), `name` is the
//! credential's name (checked against `allow_name`), `user` is a user name the secret must not
//! repeat, and a match in which `unless` took part is dropped. (Groups named `value2`, … serve
//! as `value` in other alternatives: a regex cannot use one name twice.) A secret group whose
//! name starts with `bare` holds an unquoted value, which must not read as a name in code.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, Match};
use regex::bytes::Regex;
use serde::Deserialize;

use super::precision;
use super::text::entropy;

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
    /// Minimum number of character classes (lower, upper, digit, other) in the value.
    #[serde(default)]
    pub classes: u8,
    /// Also looked for in the printable runs of binary files (tokens with a distinctive prefix).
    #[serde(default)]
    pub binary: bool,
    pub paths: Option<String>,
    /// Regex on the file path: files the rule does not apply to (minified bundles, lock files).
    pub skip_paths: Option<String>,
    /// Not applied to conversation datasets (JSON or JSON Lines chat turns committed for
    /// fine-tuning, see `precision::is_conversation_dataset`), where a rule that goes by a
    /// name meets the made-up values of generated text (`"Here is your new password: …"`).
    #[serde(default)]
    pub skip_datasets: bool,
    /// Not reported inside a shell command that calls a local server (`curl … \` lines
    /// naming `localhost`, `127.0.0.1`, `0.0.0.0` or `[::1]`, see
    /// `precision::in_local_command`): API documentation's requests to a development instance,
    /// whose tokens open nothing outside the writer's machine.
    #[serde(default)]
    pub skip_local_commands: bool,
    /// Not reported when a notebook output, a log, a data file or a recorded HTTP exchange
    /// (`precision::is_recorded_output`) holds a shared access signature that only reads
    /// (`sp=r` or `sp=rl`, see `precision::is_read_only_sas`): a download link a service handed
    /// out (DALL-E images, run logs, a public dataset's token), as a presigned URL is. One a
    /// person wrote into code or configuration is reported.
    #[serde(default)]
    pub skip_read_only_sas: bool,
    #[serde(default)]
    pub allow: Vec<String>,
    /// Regexes on the whole match (the context around the secret) that mark examples.
    #[serde(default)]
    pub allow_match: Vec<String>,
    /// Regexes on the `name` group that mark names of non-credentials (`token_type`, `test_key`).
    #[serde(default)]
    pub allow_name: Vec<String>,
    /// Regexes on the lines around a match (`NEAR_LINES` before and after) that mark a
    /// configuration published by design (a Firebase web app's `firebaseConfig`, whose `apiKey`
    /// every page that uses it ships).
    #[serde(default)]
    pub allow_near: Vec<String>,
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
    #[serde(default)]
    fragments: BTreeMap<String, String>,
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
    #[error("rule {id}: unknown fragment {{{{{name}}}}}")]
    Fragment { id: String, name: String },
    #[error("rule {id}: example {text:?} is not found by the rule")]
    ExampleMissed { id: String, text: String },
    #[error("rule {id}: negative {text:?} is found by the rule")]
    NegativeFound { id: String, text: String },
    #[error("built-in rules: {0}")]
    Builtin(String),
    #[error("keyword automaton: {0}")]
    Automaton(String),
}

/// How many lines before and after a match `allow_near` reads.
pub const NEAR_LINES: usize = 3;

/// A compiled rule. The main regex is built on first use: most runs (a commit of three files)
/// need a handful of the rules, and building all of them would double a hook's run time.
#[derive(Debug)]
pub struct Rule {
    pub spec: RuleSpec,
    regex: OnceLock<Regex>,
    /// The regex as binary content is searched with (see `Rule::regex_in`).
    binary_regex: OnceLock<Regex>,
    /// `paths` and `skip_paths`, compiled when a file first asks (most rules have neither).
    places: OnceLock<Places>,
    /// `allow`, `allow_match`, `allow_name` and `allow_near`, compiled when the rule first
    /// matches.
    allows: OnceLock<Allows>,
    /// Built in, or the team's (whose examples are checked when the configuration loads).
    pub origin: RuleOrigin,
}

/// Which files a rule looks at.
#[derive(Debug, Default)]
pub struct Places {
    pub paths: Option<Regex>,
    pub skip_paths: Option<Regex>,
}

/// What a rule lets pass: documentation values, contexts, names.
#[derive(Debug, Default)]
pub struct Allows {
    pub allow: Vec<Regex>,
    pub allow_match: Vec<Regex>,
    pub allow_name: Vec<Regex>,
    pub allow_near: Vec<Regex>,
}

/// Compiles a rule's small regexes. Rules share patterns (the test-path fragment), so each
/// distinct pattern is compiled once per process.
fn compile_shared(
    id: &str,
    what: &'static str,
    pattern: &str,
    origin: RuleOrigin,
) -> Result<Regex, RuleError> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static CACHE: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(regex) = cache.lock().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(regex);
    }
    let regex = compile_regex(id, what, pattern, origin)?;
    if let Ok(mut cache) = cache.lock() {
        cache.insert(pattern.to_string(), regex.clone());
    }
    Ok(regex)
}

/// What the path patterns said about one path. Rules that share a pattern share its compiled
/// regex (`compile_shared`), and with it the pattern's text: its address names the pattern.
#[derive(Debug, Default)]
pub struct PathMatches(Vec<(*const u8, bool)>);

impl PathMatches {
    fn is_match(&mut self, pattern: &Regex, path: &str) -> bool {
        let key = pattern.as_str().as_ptr();
        if let Some(&(_, matched)) = self.0.iter().find(|(seen, _)| *seen == key) {
            return matched;
        }
        let matched = pattern.is_match(path.as_bytes());
        self.0.push((key, matched));
        matched
    }
}

impl Places {
    fn compile(spec: &RuleSpec, origin: RuleOrigin) -> Result<Places, RuleError> {
        let one = |what: &'static str, pattern: &Option<String>| {
            pattern
                .as_deref()
                .map(|p| compile_shared(&spec.id, what, p, origin))
                .transpose()
        };
        Ok(Places {
            paths: one("paths", &spec.paths)?,
            skip_paths: one("skip_paths", &spec.skip_paths)?,
        })
    }
}

impl Allows {
    fn compile(spec: &RuleSpec, origin: RuleOrigin) -> Result<Allows, RuleError> {
        let list = |what: &'static str, patterns: &[String]| {
            patterns
                .iter()
                .map(|a| compile_shared(&spec.id, what, a, origin))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Allows {
            allow: list("allow", &spec.allow)?,
            allow_match: list("allow_match", &spec.allow_match)?,
            allow_name: list("allow_name", &spec.allow_name)?,
            allow_near: list("allow_near", &spec.allow_near)?,
        })
    }
}

/// Every active rule, with one automaton over all their keywords.
#[derive(Debug)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub keywords: AhoCorasick,
    /// For each keyword pattern, the rules it enables.
    pub keyword_rules: Vec<Vec<usize>>,
    starts: StartBytes,
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
    starts: StartBytes,
}

/// The bytes a keyword can begin with (case-insensitive), as a fast test: any letter, or one of
/// a few other bytes. `None` when there are too many other bytes for the test.
#[derive(Debug, Clone, Copy)]
struct StartBytes {
    others: Option<[u8; 4]>,
    /// The longest keyword, in bytes.
    longest: usize,
}

impl StartBytes {
    fn new(patterns: &[String]) -> StartBytes {
        let mut others: Vec<u8> = patterns
            .iter()
            .filter_map(|p| p.bytes().next())
            .filter(|b| !b.is_ascii_alphabetic())
            .collect();
        others.sort_unstable();
        others.dedup();
        let longest = patterns.iter().map(String::len).max().unwrap_or(0);
        let others = match others.len() {
            0..=4 => {
                let mut set = [others.first().copied().unwrap_or(b'a'); 4];
                set[..others.len()].copy_from_slice(&others);
                Some(set)
            }
            _ => None,
        };
        StartBytes { others, longest }
    }
}

/// What a text is searched for keywords with: the automaton, the rules each of its patterns
/// enables, and where a keyword can begin.
pub struct KeywordSearch<'r> {
    automaton: &'r AhoCorasick,
    pub rules: &'r [Vec<usize>],
    starts: StartBytes,
}

impl<'r> KeywordSearch<'r> {
    /// Texts shorter than this are searched whole.
    const SPARSE_FROM: usize = 16 << 10;
    /// Stretches of text closer than this are searched as one.
    const GAP: usize = 256;
    /// A text is searched by stretches when fewer than one byte in this many can begin a keyword.
    const SPARSE_RATIO: usize = 64;

    /// Every occurrence of every keyword in `text`, overlapping ones included, in the order
    /// `find_overlapping_iter` gives them. A keyword begins with a letter or one of a few other
    /// bytes, so in a long text where such bytes are rare (numeric tables) the automaton walks
    /// only the stretches that begin at one and end a keyword's length after the last one
    /// before a long run without any; the rest is skipped at SIMD speed. Texts where they are
    /// common (code, prose) are searched whole, as before.
    pub fn matches<'t>(&'t self, text: &'t [u8]) -> impl Iterator<Item = Match> + 't {
        let sparse = text.len() >= Self::SPARSE_FROM
            && self.starts.others.is_some_and(|others| {
                count_starts(text, others, text.len() / Self::SPARSE_RATIO)
                    < text.len() / Self::SPARSE_RATIO
            });
        let mut whole = (!sparse).then(|| self.automaton.find_overlapping_iter(text));
        let mut stretches = sparse.then(|| self.stretches(text)).into_iter().flatten();
        let mut current: Option<aho_corasick::FindOverlappingIter<'t, 't>> = None;
        std::iter::from_fn(move || {
            if let Some(iter) = whole.as_mut() {
                return iter.next();
            }
            loop {
                if let Some(found) = current.as_mut().and_then(Iterator::next) {
                    return Some(found);
                }
                let (start, end) = stretches.next()?;
                current = Some(
                    self.automaton
                        .find_overlapping_iter(Input::new(text).range(start..end)),
                );
            }
        })
    }

    /// The stretches of `text` a keyword can lie in, in order, disjoint: each begins at a byte
    /// a keyword can begin with and ends `longest` bytes after the last such byte before a run
    /// of at least `GAP` bytes that hold none.
    fn stretches<'t>(&'t self, text: &'t [u8]) -> impl Iterator<Item = (usize, usize)> + 't {
        let others = self.starts.others.unwrap_or([b'a'; 4]);
        let longest = self.starts.longest;
        let mut pos = 0;
        std::iter::from_fn(move || {
            let start = next_start(text, pos, others, true);
            if start >= text.len() {
                return None;
            }
            let mut cursor = start;
            let end = loop {
                // The first byte that cannot begin a keyword, and the next one that can.
                let gap = next_start(text, cursor, others, false);
                let resume = next_start(text, gap, others, true);
                if resume >= text.len() || resume - gap >= Self::GAP.max(longest) {
                    break (gap + longest).min(text.len());
                }
                cursor = resume;
            };
            pos = end;
            Some((start, end))
        })
    }
}

/// How many bytes of `text` are an ASCII letter or one of `others`, counted until there are
/// `enough` (a dense text is judged from its first bytes).
fn count_starts(text: &[u8], others: [u8; 4], enough: usize) -> usize {
    let mut count = 0;
    let mut pos = 0;
    #[cfg(target_arch = "x86_64")]
    {
        while pos + 16 <= text.len() && count < enough {
            // SAFETY: the 16 bytes at `pos` lie inside `text` (checked by the loop condition).
            count += unsafe { start_mask(text, pos, others) }.count_ones() as usize;
            pos += 16;
        }
        if count >= enough {
            return count;
        }
    }
    count
        + text[pos..]
            .iter()
            .filter(|b| b.is_ascii_alphabetic() || others.contains(b))
            .count()
}

/// Bit `i` set when byte `pos + i` of `text` is an ASCII letter or one of `others`.
///
/// # Safety
/// `pos + 16 <= text.len()`.
#[cfg(target_arch = "x86_64")]
unsafe fn start_mask(text: &[u8], pos: usize, others: [u8; 4]) -> u32 {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86_64 baseline; the caller guarantees that the 16 bytes
    // read lie inside `text`; unaligned loads are allowed.
    unsafe {
        let block = _mm_loadu_si128(text.as_ptr().add(pos).cast());
        // A letter: (byte | 0x20) - 'a' is at most 25 (unsigned).
        let folded = _mm_sub_epi8(
            _mm_or_si128(block, _mm_set1_epi8(0x20)),
            _mm_set1_epi8(b'a' as i8),
        );
        let z = _mm_set1_epi8((b'z' - b'a') as i8);
        let letter = _mm_cmpeq_epi8(_mm_min_epu8(folded, z), folded);
        let [o0, o1, o2, o3] = others.map(|o| _mm_set1_epi8(o as i8));
        let other = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(block, o0), _mm_cmpeq_epi8(block, o1)),
            _mm_or_si128(_mm_cmpeq_epi8(block, o2), _mm_cmpeq_epi8(block, o3)),
        );
        _mm_movemask_epi8(_mm_or_si128(letter, other)) as u32
    }
}

/// The first index at or after `pos` whose byte can begin a keyword (`wanted`), or cannot
/// (`!wanted`); the end when there is none.
fn next_start(text: &[u8], mut pos: usize, others: [u8; 4], wanted: bool) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        while pos + 16 <= text.len() {
            // SAFETY: the 16 bytes at `pos` lie inside `text` (checked by the loop condition).
            let mask = unsafe { start_mask(text, pos, others) };
            let mask = if wanted { mask } else { !mask & 0xffff };
            if mask != 0 {
                return pos + mask.trailing_zeros() as usize;
            }
            pos += 16;
        }
    }
    while let Some(b) = text.get(pos) {
        if (b.is_ascii_alphabetic() || others.contains(b)) == wanted {
            break;
        }
        pos += 1;
    }
    pos
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

/// The rule file without its `examples` and `negatives` arrays: four fifths of its bytes, which
/// only the tests and `rules check` read. A scan parses this (a commit hook has milliseconds).
fn without_examples(text: &str) -> String {
    let mut out = String::with_capacity(text.len() / 4);
    let mut skipping = false;
    for line in text.split_inclusive('\n') {
        if skipping {
            // An array closes on a line of its own; a table or key line means it did not, and
            // is kept so that the parse fails rather than rules going missing.
            let fresh = line.starts_with('[') || line.starts_with(|c: char| c.is_ascii_lowercase());
            if !fresh {
                skipping = line.trim_end() != "]";
                continue;
            }
            skipping = false;
        }
        if line.starts_with("examples = [") || line.starts_with("negatives = [") {
            skipping = !line.trim_end().ends_with(']');
            continue;
        }
        out.push_str(line);
    }
    out
}

/// The built-in rule file, parsed once per process (without examples).
fn builtin_file() -> Result<&'static RuleFile, RuleError> {
    static FILE: OnceLock<Result<RuleFile, String>> = OnceLock::new();
    FILE.get_or_init(|| {
        toml::from_str::<RuleFile>(&without_examples(BUILTIN)).map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| RuleError::Builtin(e.clone()))
}

/// The built-in rules, fragments expanded (without their examples and negatives).
pub fn builtin_specs() -> Result<Vec<RuleSpec>, RuleError> {
    let file = builtin_file()?;
    file.rules
        .iter()
        .map(|spec| expand_fragments(spec.clone(), &file.fragments))
        .collect()
}

/// The built-in rules with their examples and negatives (for the tests and `rules check`).
pub fn builtin_specs_with_examples() -> Result<Vec<RuleSpec>, RuleError> {
    let file =
        toml::from_str::<RuleFile>(BUILTIN).map_err(|e| RuleError::Builtin(e.to_string()))?;
    file.rules
        .into_iter()
        .map(|spec| expand_fragments(spec, &file.fragments))
        .collect()
}

/// The shared regex pieces a rule may name as `{{name}}`.
pub fn builtin_fragments() -> Result<BTreeMap<String, String>, RuleError> {
    Ok(builtin_file()?.fragments.clone())
}

/// Replaces every `{{name}}` in the rule's patterns with its fragment (fragments may use
/// fragments defined before them in the alphabet of their expansion: expansion repeats).
pub fn expand_fragments(
    mut spec: RuleSpec,
    fragments: &BTreeMap<String, String>,
) -> Result<RuleSpec, RuleError> {
    let id = spec.id.clone();
    let expand = |text: &mut String| -> Result<(), RuleError> {
        for _ in 0..8 {
            let Some(start) = text.find("{{") else {
                return Ok(());
            };
            let Some(len) = text[start..].find("}}") else {
                return Ok(());
            };
            let name = text[start + 2..start + len].to_string();
            let Some(fragment) = fragments.get(&name) else {
                return Err(RuleError::Fragment {
                    id: id.clone(),
                    name,
                });
            };
            *text = text.replace(&format!("{{{{{name}}}}}"), fragment);
        }
        Ok(())
    };
    expand(&mut spec.regex)?;
    for paths in spec.paths.iter_mut().chain(spec.skip_paths.iter_mut()) {
        expand(paths)?;
    }
    for pattern in spec
        .allow
        .iter_mut()
        .chain(spec.allow_match.iter_mut())
        .chain(spec.allow_name.iter_mut())
        .chain(spec.allow_near.iter_mut())
    {
        expand(pattern)?;
    }
    Ok(spec)
}

/// The built-in rule set's version and its number of rules (for `--version`).
pub fn builtin_summary() -> Result<(String, usize), RuleError> {
    builtin_file().map(|file| (file.version.clone(), file.rules.len()))
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
        let places = OnceLock::new();
        let allows = OnceLock::new();
        // A team's rule is compiled whole now, so that a bad pattern is reported at load; the
        // built-ins (checked by the tests) when first needed: a hook needs a handful.
        if origin == RuleOrigin::Team {
            let _ = regex.set(compile_regex(&spec.id, "regex", &spec.regex, origin)?);
            let _ = places.set(Places::compile(&spec, origin)?);
            let _ = allows.set(Allows::compile(&spec, origin)?);
        }
        Ok(Rule {
            spec,
            regex,
            binary_regex: OnceLock::new(),
            places,
            allows,
            origin,
        })
    }

    /// Which files the rule looks at (a built-in pattern that failed to compile, which the
    /// tests rule out, would leave the rule looking everywhere rather than abort a hook).
    pub fn places(&self) -> &Places {
        self.places
            .get_or_init(|| Places::compile(&self.spec, self.origin).unwrap_or_default())
    }

    /// What the rule lets pass.
    pub fn allows(&self) -> &Allows {
        self.allows
            .get_or_init(|| Allows::compile(&self.spec, self.origin).unwrap_or_default())
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

    /// The rule's regex for `content`. In binary content a prefixed token need not start at a
    /// word boundary: serialisers write a string's length just before it, and a length of 32
    /// to 126 is a printable byte (`3sk-…` in a pickled LangChain vector store), so a leading
    /// `\b` is dropped there.
    pub fn regex_in(&self, content: Content) -> &Regex {
        let loose = match content {
            Content::Text => None,
            Content::Binary => self.spec.regex.strip_prefix(r"\b"),
        };
        let Some(loose) = loose else {
            return self.regex();
        };
        self.binary_regex.get_or_init(|| {
            compile_regex(&self.spec.id, "regex", loose, self.origin)
                .unwrap_or_else(|_| self.regex().clone())
        })
    }
}

/// What a rule's regex is run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    Text,
    /// The bytes of a binary file (only `binary` rules apply).
    Binary,
}

impl Rule {
    /// Whether the rule looks at a file at `path` (its `paths`, minus its `skip_paths`).
    pub fn applies_to(&self, path: &str) -> bool {
        self.applies_to_with(path, &mut PathMatches::default())
    }

    /// `applies_to`, remembering in `seen` what each path pattern said about `path`: ten rules
    /// share the test-path pattern, and a history scan asks for every one of its blobs.
    pub fn applies_to_with(&self, path: &str, seen: &mut PathMatches) -> bool {
        if self.spec.paths.is_none() && self.spec.skip_paths.is_none() {
            return true;
        }
        let places = self.places();
        places.paths.as_ref().is_none_or(|p| seen.is_match(p, path))
            && places
                .skip_paths
                .as_ref()
                .is_none_or(|p| !seen.is_match(p, path))
    }

    /// Judges one match: the range of the credential it reports, or `None` when the match is an
    /// example, a placeholder, too regular to be random, or silenced by the team's `allow`.
    /// `haystack` is the text the captures index into.
    pub fn credible_secret(
        &self,
        haystack: &[u8],
        captures: &regex::bytes::Captures,
        team_allow: &[Regex],
    ) -> Option<std::ops::Range<usize>> {
        let whole = captures.get(0)?;
        let mut names = self.regex().capture_names().flatten();
        if names
            .clone()
            .any(|name| name.starts_with("unless") && captures.name(name).is_some())
        {
            return None;
        }
        let describes = |name: &&str| {
            NON_SECRET_GROUPS.contains(name)
                || name.starts_with("value")
                || name.starts_with("unless")
        };
        let (secret_group, secret) = names
            .clone()
            .filter(|name| !describes(name))
            .find_map(|name| captures.name(name).map(|m| (name, m)))
            .unwrap_or(("", whole));
        // A bare value that ends a sentence keeps its full stop out (`…password: a9B7xQ.`).
        let mut range = secret.range();
        if secret_group.starts_with("bare") && range.len() > 1 && haystack[range.end - 1] == b'.' {
            range.end -= 1;
        }
        let value = names
            .find_map(|name| {
                name.starts_with("value")
                    .then(|| captures.name(name))
                    .flatten()
            })
            .map_or(&haystack[range.clone()], |m| m.as_bytes());
        let spec = &self.spec;
        // Cheap tests first: the allow lists compile on first use, and most candidates that
        // reach this point (a `token` in `tokenizer = ...`) fail on entropy or shape.
        // A value the shell or a template completes (`"acme-SqlP@ss-${DEPLOYMENT_ID}"`): what is
        // written is a prefix of a value made at run time, not the value. Only where a name is the
        // evidence: a whole prefixed token is one whatever follows it.
        let completed_at_run_time = captures.name("name").is_some()
            && precision::continues_with_interpolation(&haystack[range.end..]);
        let credible = !value.is_empty()
            && !completed_at_run_time
            && entropy(value) >= precision::entropy_floor(value, spec.entropy)
            && (!spec.mixed || precision::is_mixed(value))
            && precision::classes(value) >= spec.classes
            && !precision::is_placeholder(value)
            // A credential's value (warnings match code patterns, an environment dump).
            && (spec.severity == Severity::Warning
                || !(precision::is_password_hash(value)
                    || precision::is_code_expression(value)
                    || precision::encodes_stand_in(value)))
            && !team_allow.iter().any(|a| a.is_match(secret.as_bytes()))
            && !self.allows().allow.iter().any(|a| a.is_match(value))
            && !self.allows().allow_match.iter()
                .any(|a| a.is_match(whole.as_bytes()))
            && !captures.name("name").is_some_and(|name| {
                precision::is_fixture_name(name.as_bytes())
                    || self.allows().allow_name.iter().any(|a| a.is_match(name.as_bytes()))
            })
            // A password that repeats the user name (`admin:admin@`) is a stand-in; one that
            // changes its case was chosen, and is judged like any other password.
            && captures
                .name("user")
                .is_none_or(|user| user.as_bytes() != value)
            && !captures.name("name").is_some_and(|name| {
                precision::repeats_name(value, name.as_bytes())
                    // A token with a vendor's prefix under such a name is still a token
                    // (`token_hash = "ghp_…"` is a mistake, not a hash).
                    || (precision::has_digest_shape(value)
                        && precision::names_a_digest(precision::with_key_path(
                            haystack,
                            name.range(),
                        )))
                    || precision::inside_arn(haystack, name.start())
            })
            && !precision::inside_base64(haystack, secret.range())
            && !captures.name("name").is_some_and(|name| {
                precision::with_key_path(haystack, name.range())
                    .to_ascii_lowercase()
                    .windows(14)
                    .any(|w| w == b"encrypteddata.")
            })
            // A value may be a name in code: `credentials: S3CredentialsConfig` (unquoted), or
            // `"MistralAIPromptExecutionSettings"` (no digit: a random key nearly always has one).
            && !((secret_group.starts_with("bare") || !value.iter().any(u8::is_ascii_digit))
                && precision::is_code_identifier(value))
            && !(secret_group.starts_with("bare") && precision::is_dotted_reference(value))
            // `credentials: Neo4jCredentials = Depends(…)`: a type annotation, then the default.
            && !(secret_group.starts_with("bare")
                && precision::is_annotation(value, &haystack[range.end..]));
        credible.then_some(range)
    }
}

/// Named groups that describe a match rather than hold the credential (and `value…` and
/// `unless…` groups).
const NON_SECRET_GROUPS: [&str; 3] = ["name", "user", "unless"];

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
        let fragments = builtin_fragments()?;
        let custom = custom
            .into_iter()
            .map(|spec| expand_fragments(spec, &fragments))
            .collect::<Result<Vec<_>, _>>()?;
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
            starts: StartBytes::new(&patterns),
            everywhere: OnceLock::new(),
            kind,
        })
    }

    /// The automaton to look for keywords with, and the rules each of its patterns enables:
    /// without the keywords of path-restricted rules when none of those applies (`applicable`
    /// is indexed by rule). Either way every applicable rule's keywords are in it.
    pub fn keywords_for(&self, applicable: &[bool]) -> KeywordSearch<'_> {
        let restricted_applies = self
            .rules
            .iter()
            .zip(applicable)
            .any(|(rule, &applies)| applies && rule.spec.paths.is_some());
        if !restricted_applies {
            let everywhere = self.everywhere.get_or_init(|| {
                let (patterns, rules) = keyword_patterns(
                    self.rules
                        .iter()
                        .enumerate()
                        .filter(|(_, rule)| rule.spec.paths.is_none()),
                );
                let automaton = automaton(&patterns, self.kind).ok()?;
                let starts = StartBytes::new(&patterns);
                Some(Keywords {
                    automaton,
                    rules,
                    starts,
                })
            });
            if let Some(keywords) = everywhere {
                return KeywordSearch {
                    automaton: &keywords.automaton,
                    rules: &keywords.rules,
                    starts: keywords.starts,
                };
            }
        }
        KeywordSearch {
            automaton: &self.keywords,
            rules: &self.keyword_rules,
            starts: self.starts,
        }
    }

    pub fn builtin() -> Result<RuleSet, RuleError> {
        RuleSet::new(builtin_specs()?, Vec::new(), &[], Volume::Small)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_path_patterns_answer_as_each_rule_alone() {
        let rules = RuleSet::builtin().unwrap();
        let placed = rules
            .rules
            .iter()
            .filter(|r| r.spec.paths.is_some() || r.spec.skip_paths.is_some())
            .count();
        let paths = [
            "src/train.py",
            "tests/test_api.py",
            ".env",
            "deploy/prod.env",
            "scripts/run.sh",
            "node_modules/x/index.js",
            "docs/docusaurus.config.js",
            ".npmrc",
            "clearml.conf",
            "analytics/track.py",
        ];
        let (mut applied, mut skipped) = (false, false);
        for path in paths {
            let mut seen = PathMatches::default();
            for rule in &rules.rules {
                let remembered = rule.applies_to_with(path, &mut seen);
                assert_eq!(
                    remembered,
                    rule.applies_to(path),
                    "{} on {path}",
                    rule.spec.id
                );
                let placed = rule.spec.paths.is_some() || rule.spec.skip_paths.is_some();
                applied |= placed && remembered;
                skipped |= placed && !remembered;
            }
            // One answer per distinct pattern, however many rules share it.
            assert!(seen.0.len() < placed, "{path}: {} answers", seen.0.len());
        }
        assert!(applied && skipped);
    }

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

    /// The stretch search finds exactly what the automaton finds over the whole text, in the
    /// same order, on long texts sparse and dense in keyword starts.
    #[test]
    fn keyword_search_by_stretches_finds_what_the_whole_text_holds() {
        let rules = RuleSet::new(builtin_specs().unwrap(), Vec::new(), &[], Volume::Large).unwrap();
        let keywords: Vec<&str> = [
            "hf_",
            "KEY",
            "password",
            "://",
            "=",
            "\"username\"",
            "_live_",
            "ghp_",
        ]
        .to_vec();
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        let mut sparse_rounds = 0;
        for round in 0..40 {
            // Every other round is a numeric table with a keyword now and then (searched by
            // stretches); the others hold letters everywhere (searched whole).
            let sparse = round % 2 == 1;
            let mut text = Vec::new();
            while text.len() < 20_000 + round * 3_000 {
                let roll = next() % if sparse { 4_000 } else { 40 };
                match roll {
                    0 => text.extend_from_slice(keywords[next() % keywords.len()].as_bytes()),
                    1..=3 if !sparse => text.push(b'a' + (next() % 26) as u8),
                    4 => text.push(b'\n'),
                    _ => text.push(b"0123456789.,-"[next() % 13]),
                }
            }
            for applicable in [
                vec![true; rules.rules.len()],
                vec![false; rules.rules.len()],
            ] {
                let search = rules.keywords_for(&applicable);
                let others = search.starts.others.unwrap();
                if count_starts(&text, others, usize::MAX) * KeywordSearch::SPARSE_RATIO
                    < text.len()
                {
                    sparse_rounds += 1;
                }
                let whole: Vec<_> = search.automaton.find_overlapping_iter(&text[..]).collect();
                let stretched: Vec<_> = search.matches(&text).collect();
                assert_eq!(whole, stretched, "round {round}");
            }
        }
        assert!(sparse_rounds >= 30, "{sparse_rounds}");
    }

    #[test]
    fn builtin_keywords_begin_with_a_letter_or_one_of_four_other_bytes() {
        // More than four and numeric tables are searched whole again (`StartBytes`).
        let mut others: Vec<(u8, String)> = builtin_specs()
            .unwrap()
            .iter()
            .flat_map(|spec| spec.keywords.iter().map(move |k| (k, &spec.id)))
            .filter(|(k, _)| !k.as_bytes()[0].is_ascii_alphabetic())
            .map(|(k, id)| (k.as_bytes()[0], format!("{id}: {k}")))
            .collect();
        others.sort();
        let mut bytes: Vec<u8> = others.iter().map(|(b, _)| *b).collect();
        bytes.dedup();
        assert!(bytes.len() <= 4, "{others:?}");
    }

    #[test]
    fn every_builtin_regex_compiles() {
        for spec in builtin_specs().unwrap() {
            compile_regex(&spec.id, "regex", &spec.regex, RuleOrigin::Builtin).unwrap();
        }
    }

    #[test]
    fn the_scan_reads_every_rule_without_its_examples() {
        let full = builtin_specs_with_examples().unwrap();
        let lean = builtin_specs().unwrap();
        assert_eq!(full.len(), lean.len());
        for (f, l) in full.iter().zip(&lean) {
            assert!(!f.examples.is_empty() && l.examples.is_empty(), "{}", f.id);
            let mut stripped = f.clone();
            stripped.examples.clear();
            stripped.negatives.clear();
            assert_eq!(format!("{stripped:?}"), format!("{l:?}"), "{}", f.id);
        }
    }

    #[test]
    fn fragments_expand_and_unknown_ones_are_errors() {
        let mut fragments = BTreeMap::new();
        fragments.insert("sep".to_string(), r"\s*=\s*".to_string());
        fragments.insert("both".to_string(), "a{{sep}}b".to_string());
        let spec = |regex: &str| RuleSpec {
            id: "x".into(),
            description: String::new(),
            regex: regex.into(),
            keywords: vec!["a".into()],
            window: Window::Line,
            entropy: 0.0,
            mixed: false,
            classes: 0,
            binary: false,
            paths: None,
            skip_paths: None,
            skip_datasets: false,
            skip_local_commands: false,
            skip_read_only_sas: false,
            allow: Vec::new(),
            allow_match: Vec::new(),
            allow_name: Vec::new(),
            allow_near: Vec::new(),
            severity: Severity::Error,
            fix: String::new(),
            examples: Vec::new(),
            negatives: Vec::new(),
            about: None,
            provider: None,
            security_severity: None,
            precision: None,
        };
        let expanded = expand_fragments(spec("key{{both}}"), &fragments).unwrap();
        assert_eq!(expanded.regex, r"keya\s*=\s*b");
        let error = expand_fragments(spec("{{nope}}"), &fragments).unwrap_err();
        assert_eq!(error.to_string(), "rule x: unknown fragment {{nope}}");
    }
}
