//! The scanning engine: finds rule matches in a file's content and name, notebook-aware.
//!
//! A keyword automaton runs over each text first; only the rules whose keywords occur run their
//! regex, and only over the lines holding the keyword (or the whole text for multi-line rules).
//! A notebook is scanned as the strings and keys it holds (see `notebook`), JSON-decoded and
//! with ANSI colour codes removed, so `\"` escapes and tracebacks do not hide a key. UTF-16 and
//! UTF-32 files are decoded first; binary files are scanned for tokens with a distinctive
//! prefix; only media and compressed files are not scanned, and the caller is told so. Every
//! match is mapped back to its physical line in the file, in time linear in the file's size and
//! the number of matches, and files of any size are scanned in bounded memory (`scan_reader`).

use std::io::Read;

use regex::bytes::Regex;

use super::context;
use super::finding::{Finding, only_new_secrets};
use super::notebook::{self, PathItem, Unit};
use super::precision;
use super::rules::{Content, NEAR_LINES, PathMatches, RuleSet, Severity, Window};
use super::text::{
    AnsiMap, ContentKind, LineIndex, content_kind, decode_wide, line_bounds, strip_ansi,
};
use crate::json::{self, Value};
use crate::notebook::Mode;

/// Scans content with a rule set and the team's allow-list.
pub struct Scanner<'r> {
    pub rules: &'r RuleSet,
    pub allow: Vec<Regex>,
}

/// Why (part of) a file was not scanned; the caller names it in a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unscanned {
    /// A compressed container (zip, gzip, …): its content would have to be unpacked.
    Compressed(&'static str),
}

impl std::fmt::Display for Unscanned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unscanned::Compressed(kind) => write!(f, "{kind}: compressed content is not unpacked"),
        }
    }
}

/// What scanning one file found, and what it could not look at.
#[derive(Debug, Default)]
pub struct Examined {
    pub findings: Vec<Finding>,
    pub unscanned: Option<Unscanned>,
}

/// Which rules may run on a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RuleScope {
    All,
    /// Binary content: only rules marked `binary` (distinctive token prefixes).
    BinaryOnly,
}

/// A match inside one decoded text, before it is placed in the file.
#[derive(Debug, Clone, Copy)]
struct Hit {
    rule: usize,
    start: usize,
    end: usize,
    match_start: usize,
    match_end: usize,
}

/// A finding and where its whole match begins in the file (for chunked reading).
struct Placed {
    match_start: usize,
    finding: Finding,
}

/// Large files are read in chunks of this size, each overlapping the previous one by `OVERLAP`
/// so that a match across a chunk border is found whole (no credential is longer).
const CHUNK: usize = 8 << 20;
const OVERLAP: usize = 256 << 10;

impl<'r> Scanner<'r> {
    pub fn new(rules: &'r RuleSet, allow: Vec<Regex>) -> Self {
        Scanner { rules, allow }
    }

    /// Scans one file's name and content.
    pub fn scan(&self, path: &str, content: &[u8]) -> Vec<Finding> {
        self.examine(path, content).findings
    }

    /// Scans one file's name and content, and says what could not be scanned.
    pub fn examine(&self, path: &str, content: &[u8]) -> Examined {
        // Which rules apply to the path is decided once, for the name and the content alike
        // (a history scan examines hundreds of thousands of blobs).
        let applicable = self.applicable(path, RuleScope::All);
        let mut examined = self.examine_content_with(path, content, &applicable);
        let mut findings = self.scan_name_with(path, &applicable);
        findings.append(&mut examined.findings);
        examined.findings = findings;
        examined
    }

    /// The content alone (`path` decides which rules apply and whether it is a notebook).
    fn examine_content(&self, path: &str, content: &[u8]) -> Examined {
        self.examine_content_with(path, content, &self.applicable(path, RuleScope::All))
    }

    /// `examine_content`, with the rules that apply to `path` (`applicable(path, All)`).
    fn examine_content_with(&self, path: &str, content: &[u8], applicable: &[bool]) -> Examined {
        let mut examined = Examined::default();
        match content_kind(content) {
            ContentKind::Text { bom } => {
                let notebook = Mode::of_path(path) == Some(Mode::Jupyter);
                let parsed = notebook
                    .then(|| self.scan_notebook(path, content, bom, applicable))
                    .flatten();
                examined.findings.extend(parsed.unwrap_or_else(|| {
                    self.scan_text_with(path, content, bom, applicable.to_vec())
                }));
            }
            ContentKind::Wide(encoding) => {
                let decoded = decode_wide(content, encoding);
                examined.findings.extend(self.scan_text_with(
                    path,
                    &decoded,
                    0,
                    applicable.to_vec(),
                ));
            }
            ContentKind::Binary => {
                let binary_only = self.narrowed(applicable, RuleScope::BinaryOnly);
                examined
                    .findings
                    .extend(self.scan_text_with(path, content, 0, binary_only));
            }
            ContentKind::Media(_) => {}
            ContentKind::Compressed(kind) => examined.unscanned = Some(Unscanned::Compressed(kind)),
        }
        examined
    }

    /// Scans the new version of a changed file and keeps the secrets the old version (scanned
    /// under the same path, so the same rules apply) did not hold. The old version is scanned
    /// only when the new one has findings.
    pub fn scan_change(&self, path: &str, new: &[u8], old: Option<&[u8]>) -> Vec<Finding> {
        self.examine_change(path, new, old.map(|content| (path, content)))
            .findings
    }

    /// As `scan_change`, with the old version's own path (a rename): a token in the new name
    /// is new unless the old name held it too.
    pub fn examine_change(&self, path: &str, new: &[u8], old: Option<(&str, &[u8])>) -> Examined {
        let mut examined = self.examine(path, new);
        if let Some((old_path, old_content)) = old {
            if !examined.findings.is_empty() {
                let mut before = self.scan_name(old_path);
                before.extend(self.examine_content(path, old_content).findings);
                let found = std::mem::take(&mut examined.findings);
                examined.findings = only_new_secrets(found, &before);
            }
        }
        examined
    }

    /// Scans a file read from `reader` in overlapping chunks, in bounded memory, for files too
    /// large to hold. Notebooks are scanned as text here; the file name is scanned too.
    pub fn examine_reader(&self, path: &str, mut reader: impl Read) -> std::io::Result<Examined> {
        let mut examined = Examined {
            findings: self.scan_name(path),
            unscanned: None,
        };
        let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK + OVERLAP);
        let (mut base_line, mut first, mut scope) = (0usize, true, RuleScope::All);
        loop {
            // Top the buffer (which starts with the previous chunk's tail) up to CHUNK new bytes.
            let read = (&mut reader).take(CHUNK as u64).read_to_end(&mut buffer)?;
            let last = read < CHUNK;
            let mut skip = 0;
            if first {
                match content_kind(&buffer) {
                    ContentKind::Text { bom } => skip = bom,
                    ContentKind::Binary => scope = RuleScope::BinaryOnly,
                    ContentKind::Wide(encoding) => {
                        // Rare at this size: decode what is left as a whole, then scan it.
                        let mut rest = std::mem::take(&mut buffer);
                        reader.read_to_end(&mut rest)?;
                        let decoded = decode_wide(&rest, encoding);
                        examined
                            .findings
                            .extend(self.scan_text(path, &decoded, 0, RuleScope::All));
                        return Ok(examined);
                    }
                    ContentKind::Media(_) => return Ok(examined),
                    ContentKind::Compressed(kind) => {
                        examined.unscanned = Some(Unscanned::Compressed(kind));
                        return Ok(examined);
                    }
                }
            }
            // This chunk reports the matches that begin before `keep_until`; the next chunk
            // begins there and reports the rest, each match once and whole.
            let keep_until = if last {
                buffer.len()
            } else {
                buffer.len().saturating_sub(OVERLAP)
            };
            let applicable = self.applicable(path, scope);
            let mut lines = LineIndex::new(&buffer);
            let unit = Unit::whole(&buffer, skip);
            for placed in self.place_unit(path, &buffer, &mut lines, &unit, None, &applicable) {
                if placed.match_start < keep_until {
                    let mut finding = placed.finding;
                    finding.line += base_line;
                    finding.end_line += base_line;
                    examined.findings.push(finding);
                }
            }
            if last {
                break;
            }
            base_line += buffer[..keep_until].iter().filter(|&&b| b == b'\n').count();
            buffer.drain(..keep_until);
            first = false;
        }
        Ok(examined)
    }

    /// The file's name, as text: a token in a file name is committed as surely as one inside.
    pub fn scan_name(&self, path: &str) -> Vec<Finding> {
        self.scan_name_with(path, &self.applicable(path, RuleScope::All))
    }

    /// `scan_name`, with the rules that apply to `path` (`applicable(path, All)`).
    fn scan_name_with(&self, path: &str, applicable: &[bool]) -> Vec<Finding> {
        let name = path.as_bytes();
        let mut findings = Vec::new();
        for hit in self.hits(name, applicable) {
            findings.push(Finding {
                rule: hit.rule,
                path: path.to_string(),
                line: 1,
                column: 1,
                end_line: 1,
                secret: name[hit.start..hit.end].to_vec(),
                locator: Some(NAME_LOCATOR.into()),
                in_notebook_output: false,
                exposure: None,
            });
        }
        findings
    }

    fn applicable(&self, path: &str, scope: RuleScope) -> Vec<bool> {
        let mut seen = PathMatches::default();
        let everywhere: Vec<bool> = self
            .rules
            .rules
            .iter()
            .map(|r| r.applies_to_with(path, &mut seen))
            .collect();
        self.narrowed(&everywhere, scope)
    }

    /// `applicable(path, All)` narrowed to `scope`: the same as `applicable(path, scope)`.
    fn narrowed(&self, applicable: &[bool], scope: RuleScope) -> Vec<bool> {
        applicable
            .iter()
            .zip(&self.rules.rules)
            .map(|(&applies, r)| applies && (scope == RuleScope::All || r.spec.binary))
            .collect()
    }

    /// A plain text (or binary) file, after `skip` leading bytes (a BOM).
    fn scan_text(&self, path: &str, content: &[u8], skip: usize, scope: RuleScope) -> Vec<Finding> {
        self.scan_text_with(path, content, skip, self.applicable(path, scope))
    }

    /// `scan_text`, with the rules that apply (`applicable(path, scope)`).
    fn scan_text_with(
        &self,
        path: &str,
        content: &[u8],
        skip: usize,
        mut applicable: Vec<bool>,
    ) -> Vec<Finding> {
        if precision::is_conversation_dataset(path, content) {
            for (applies, rule) in applicable.iter_mut().zip(&self.rules.rules) {
                *applies &= !rule.spec.skip_datasets;
            }
        }
        let mut lines = LineIndex::new(content);
        let unit = Unit::whole(content, skip);
        self.place_unit(path, content, &mut lines, &unit, None, &applicable)
            .into_iter()
            .map(|placed| placed.finding)
            .collect()
    }

    fn scan_notebook(
        &self,
        path: &str,
        content: &[u8],
        bom: usize,
        applicable: &[bool],
    ) -> Option<Vec<Finding>> {
        let text = std::str::from_utf8(&content[bom..]).ok()?;
        let root = json::parse(text).ok()?;
        let mut lines = LineIndex::new(content);
        let mut findings = Vec::new();
        for unit in &notebook::units(&root, content) {
            let placed = self.place_unit(path, content, &mut lines, unit, Some(&root), applicable);
            findings.extend(placed.into_iter().map(|p| p.finding));
        }
        Some(findings)
    }

    /// Finds the matches in one unit and places them in the file.
    fn place_unit(
        &self,
        path: &str,
        file: &[u8],
        lines: &mut LineIndex,
        unit: &Unit,
        root: Option<&Value>,
        applicable: &[bool],
    ) -> Vec<Placed> {
        let (clean, removed) = strip_ansi(&unit.text);
        // Context (src/scan/context): the unit judged by its content, plus derived texts.
        let hits = self.hits_with_context(path, unit, &clean, applicable);
        if hits.is_empty() {
            return Vec::new();
        }
        let ansi = AnsiMap::new(&removed);
        let mut clean_lines = LineIndex::new(&clean);
        // Secret starts and ends increase from hit to hit; whole-match starts almost always do
        // too, and get a placer of their own so that neither walk restarts.
        let mut placer = unit.placer(file);
        let mut match_placer = unit.placer(file);
        let mut placed = Vec::new();
        // A read-only SAS that a program wrote down is a link a service handed out (see
        // `RuleSpec::skip_read_only_sas`).
        let printed = unit.in_output || precision::is_recorded_output(path);
        for hit in hits {
            if clean_lines.has_marker(hit.start) {
                continue;
            }
            if printed
                && self.rules.rules[hit.rule].spec.skip_read_only_sas
                && precision::is_read_only_sas(&clean, hit.start)
            {
                continue;
            }
            let match_start = match_placer.file_offset(ansi.unmap(hit.match_start));
            let start = placer.file_offset(ansi.unmap(hit.start));
            let end = placer.file_offset(ansi.unmap(hit.end.saturating_sub(1)));
            if lines.has_marker(start) {
                continue;
            }
            let (line, column) = lines.line_and_column(start);
            let (end_line, _) = lines.line_and_column(end);
            placed.push(Placed {
                match_start,
                finding: Finding {
                    rule: hit.rule,
                    path: path.to_string(),
                    line,
                    column,
                    end_line,
                    secret: clean[hit.start..hit.end].to_vec(),
                    locator: root.map(|root| notebook::locator(root, &unit.path)),
                    in_notebook_output: unit.in_output,
                    exposure: None,
                },
            });
        }
        placed
    }

    /// Keyword prefilter, then each enabled rule's regex over its windows; filtered and
    /// deduplicated. Hits come sorted by position and do not overlap.
    fn hits(&self, text: &[u8], applicable: &[bool]) -> Vec<Hit> {
        self.hits_in(text, applicable, Content::Text)
    }

    fn hits_in(&self, text: &[u8], applicable: &[bool], content: Content) -> Vec<Hit> {
        let mut windows: Vec<(usize, usize, usize)> = Vec::new();
        let mut current_line = (usize::MAX, 0);
        // The window each rule last asked for: a line with several keywords of one rule asks
        // once, so the sort below sees each (rule, window) about once instead of per keyword.
        let mut last: Vec<(usize, usize)> = vec![(usize::MAX, usize::MAX); applicable.len()];
        let keywords = self.rules.keywords_for(applicable);
        for found in keywords.matches(text) {
            for &rule in &keywords.rules[found.pattern().as_usize()] {
                if !applicable[rule] {
                    continue;
                }
                let window = match self.rules.rules[rule].spec.window {
                    Window::File => (0, text.len()),
                    Window::Line => {
                        if !(current_line.0 <= found.start() && found.end() <= current_line.1) {
                            current_line = line_bounds(text, found.start(), found.end());
                        }
                        current_line
                    }
                };
                if last[rule] != window {
                    last[rule] = window;
                    windows.push((rule, window.0, window.1));
                }
            }
        }
        windows.sort_unstable();
        windows.dedup();
        let mut hits = Vec::new();
        for (rule_index, from, to) in windows {
            let rule = &self.rules.rules[rule_index];
            for captures in rule.regex_in(content).captures_iter(&text[from..to]) {
                let whole = captures.get(0).map_or(0..0, |m| m.range());
                if let Some(secret) = rule.credible_secret(&text[from..to], &captures, &self.allow)
                {
                    if rule.spec.skip_local_commands
                        && precision::in_local_command(text, from + whole.start)
                    {
                        continue;
                    }
                    if precision::is_ciphertext(text, from + secret.start..from + secret.end) {
                        continue;
                    }
                    let near = &rule.allows().allow_near;
                    if !near.is_empty() {
                        let around = precision::lines_around(text, from + whole.start, NEAR_LINES);
                        if near.iter().any(|a| a.is_match(around)) {
                            continue;
                        }
                    }
                    hits.push(Hit {
                        rule: rule_index,
                        start: from + secret.start,
                        end: from + secret.end,
                        match_start: from + whole.start,
                        match_end: from + whole.end,
                    });
                }
            }
        }
        self.deduplicate(hits)
    }

    /// Overlapping secrets: the earlier rule wins. A warning inside an error's match is dropped.
    /// One sort and one sweep: linear after sorting, however many matches a line holds.
    fn deduplicate(&self, mut hits: Vec<Hit>) -> Vec<Hit> {
        hits.sort_by_key(|h| (h.start, h.rule));
        let mut kept: Vec<Hit> = Vec::with_capacity(hits.len());
        for hit in hits {
            match kept.last_mut() {
                Some(last) if hit.start < last.end => {
                    if hit.rule < last.rule {
                        *last = hit;
                    }
                }
                _ => kept.push(hit),
            }
        }
        let severity = |h: &Hit| self.rules.rules[h.rule].spec.severity;
        let errors: Vec<(usize, usize)> = kept
            .iter()
            .filter(|h| severity(h) == Severity::Error)
            .map(|h| (h.start, h.end))
            .collect();
        kept.retain(|h| {
            if severity(h) == Severity::Error {
                return true;
            }
            // Errors are sorted by start and do not overlap, so their ends increase too: the
            // only candidates are the last one starting before the warning's match ends.
            let before_end = errors.partition_point(|(start, _)| *start < h.match_end);
            before_end
                .checked_sub(1)
                .is_none_or(|i| errors[i].1 <= h.match_start)
        });
        kept
    }
}

/// The locator of a finding in a file's name.
pub const NAME_LOCATOR: &str = "file name";

// ==== Context: texts derived from a unit's structure (src/scan/context) ======================
// Kept apart from the keyword/regex machinery above: this block only decides which texts and
// paths the ordinary `hits` run on, and maps derived matches back onto the unit's text.
impl Scanner<'_> {
    /// `hits` on the unit, under its virtual path if its content gives one (a shebang script,
    /// a `%%writefile .env` cell), plus the hits in its derived texts, placed on the unit.
    /// Binary content (only `binary` rules apply: prefixed tokens) is scanned as it is, without
    /// the word boundary before a prefix (see `Rule::regex_in`); so is a file that every other
    /// rule skips, where a token glued to what precedes it is still the token.
    fn hits_with_context(
        &self,
        path: &str,
        unit: &Unit,
        clean: &[u8],
        applicable: &[bool],
    ) -> Vec<Hit> {
        let binary_scope = applicable
            .iter()
            .zip(&self.rules.rules)
            .all(|(applies, rule)| !applies || rule.spec.binary);
        if binary_scope {
            return self.hits_in(clean, applicable, Content::Binary);
        }
        let keys: Vec<&[u8]> = unit
            .path
            .iter()
            .filter_map(|item| match item {
                PathItem::Key(key) => Some(*key),
                PathItem::Index(_) => None,
            })
            .collect();
        let worth = |name: &[u8]| self.rules.keywords.is_match(name);
        let place = context::Place {
            path,
            keys: &keys,
            worth: &worth,
        };
        let virtual_path = context::virtual_path(&place, clean);
        let virtual_applicable = virtual_path
            .as_deref()
            .map(|p| self.applicable(p, RuleScope::All));
        let applicable = virtual_applicable.as_deref().unwrap_or(applicable);
        let place = context::Place {
            path: virtual_path.as_deref().unwrap_or(path),
            ..place
        };
        let mut hits = self.hits(clean, applicable);
        let derived = context::derive(&place, clean);
        if derived.is_empty() {
            return hits;
        }
        let shadowed = |hit: &Hit| {
            derived
                .iter()
                .flat_map(|d| &d.shadows)
                .any(|range| range.start <= hit.start && hit.end <= range.end)
        };
        hits.retain(|hit| !shadowed(hit));
        for text in derived {
            let own = text
                .path
                .as_deref()
                .map(|p| self.applicable(p, RuleScope::All));
            for hit in self.hits(&text.text, own.as_deref().unwrap_or(applicable)) {
                let secret = text.source_range(hit.start, hit.end);
                if secret.is_empty() {
                    continue;
                }
                hits.push(Hit {
                    rule: hit.rule,
                    start: secret.start,
                    end: secret.end,
                    match_start: secret.start,
                    match_end: secret.end,
                });
            }
        }
        self.deduplicate(hits)
    }
}
