//! The scanning engine: finds rule matches in a file's content, notebook-aware.
//!
//! A keyword automaton runs over each text first; only the rules whose keywords occur run their
//! regex, and only over the lines holding the keyword (or the whole text for multi-line rules).
//! A notebook is scanned as the strings it holds, JSON-decoded and with ANSI colour codes
//! removed, so `\"` escapes and tracebacks do not hide a key; `image/*` payloads are skipped.
//! Every match is mapped back to its physical line in the file.

use std::borrow::Cow;

use regex::bytes::Regex;

use crate::json::{self, Piece, Text, Value};
use crate::rules::{Rule, RuleSet, Severity, Window};

/// Inline markers that silence a finding on their line (ours, detect-secrets', gitleaks').
const ALLOW_MARKERS: [&[u8]; 3] = [
    b"mlguard:allow",
    b"pragma: allowlist secret",
    b"gitleaks:allow",
];

/// Values that are shapes of a secret, not secrets (matched case-insensitively).
const PLACEHOLDER_PARTS: [&str; 15] = [
    "xxxx",
    "...",
    "\u{2026}",
    "****",
    "your",
    "placeholder",
    "changeme",
    "change_me",
    "redacted",
    "<",
    ">",
    "example",
    "dummy",
    "${",
    "%(",
];
const PLACEHOLDER_WORDS: [&str; 12] = [
    "password", "passwd", "pass", "secret", "pwd", "token", "test", "admin", "root", "user",
    "username", "none",
];

/// One reported credential or smell.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: usize,
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    /// The matched credential: used for hashing and redaction, never printed.
    pub secret: Vec<u8>,
    /// Where in a notebook (`cell 4, output 2 (stream stdout)`).
    pub locator: Option<String>,
    pub in_notebook_output: bool,
    /// For history scans: when and where the secret was in the repository.
    pub exposure: Option<crate::history::Exposure>,
}

/// Scans content with a rule set and the team's allow-list.
pub struct Scanner<'r> {
    pub rules: &'r RuleSet,
    pub allow: Vec<Regex>,
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

impl<'r> Scanner<'r> {
    pub fn new(rules: &'r RuleSet, allow: Vec<Regex>) -> Self {
        Scanner { rules, allow }
    }

    /// Scans one file's content. Binary content (a NUL byte early on) yields nothing.
    pub fn scan(&self, path: &str, content: &[u8]) -> Vec<Finding> {
        if is_binary(content) {
            return Vec::new();
        }
        let applicable: Vec<bool> = self
            .rules
            .rules
            .iter()
            .map(|r| r.paths.as_ref().is_none_or(|p| p.is_match(path.as_bytes())))
            .collect();
        if path.ends_with(".ipynb") {
            if let Some(findings) = self.scan_notebook(path, content, &applicable) {
                return findings;
            }
        }
        let segment = Segment {
            decoded_start: 0,
            raw: content,
            escaped: false,
        };
        let unit = Unit {
            text: Cow::Borrowed(content),
            segments: vec![segment],
            path: Vec::new(),
            in_output: false,
        };
        self.scan_unit(path, content, &unit, None, &applicable)
    }

    fn scan_notebook(
        &self,
        path: &str,
        content: &[u8],
        applicable: &[bool],
    ) -> Option<Vec<Finding>> {
        let text =
            std::str::from_utf8(content.strip_prefix(b"\xef\xbb\xbf").unwrap_or(content)).ok()?;
        let root = json::parse(text).ok()?;
        let mut units = Vec::new();
        collect_units(&root, &mut Vec::new(), &mut units);
        let mut findings = Vec::new();
        for unit in &units {
            findings.extend(self.scan_unit(path, content, unit, Some(&root), applicable));
        }
        Some(findings)
    }

    fn scan_unit(
        &self,
        path: &str,
        file: &[u8],
        unit: &Unit,
        root: Option<&Value>,
        applicable: &[bool],
    ) -> Vec<Finding> {
        let (clean, removed) = strip_ansi(&unit.text);
        let hits = self.hits(&clean, applicable);
        hits.into_iter()
            .filter(|hit| !line_has_marker(&clean, hit.start))
            .filter_map(|hit| {
                let start = unit.file_offset(file, unmap(&removed, hit.start));
                let end = unit.file_offset(file, unmap(&removed, hit.end.saturating_sub(1)));
                if line_has_marker(file, start) {
                    return None;
                }
                let (line, column) = line_and_column(file, start);
                Some(Finding {
                    rule: hit.rule,
                    path: path.to_string(),
                    line,
                    column,
                    end_line: line_and_column(file, end).0,
                    secret: clean[hit.start..hit.end].to_vec(),
                    locator: root.map(|root| locator(root, &unit.path)),
                    in_notebook_output: unit.in_output,
                    exposure: None,
                })
            })
            .collect()
    }

    /// Keyword prefilter, then each enabled rule's regex over its windows; filtered and deduplicated.
    fn hits(&self, text: &[u8], applicable: &[bool]) -> Vec<Hit> {
        let mut windows: Vec<(usize, usize, usize)> = Vec::new();
        let mut current_line = (usize::MAX, 0);
        for found in self.rules.keywords.find_overlapping_iter(text) {
            for &rule in &self.rules.keyword_rules[found.pattern().as_usize()] {
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
                windows.push((rule, window.0, window.1));
            }
        }
        windows.sort_unstable();
        windows.dedup();
        let mut hits = Vec::new();
        for (rule_index, from, to) in windows {
            let rule = &self.rules.rules[rule_index];
            for captures in rule.regex().captures_iter(&text[from..to]) {
                let whole = captures.get(0).map_or(0..0, |m| m.range());
                let secret = secret_range(rule, &captures).unwrap_or(whole.clone());
                let hit = Hit {
                    rule: rule_index,
                    start: from + secret.start,
                    end: from + secret.end,
                    match_start: from + whole.start,
                    match_end: from + whole.end,
                };
                if self.is_credible(rule, &text[hit.start..hit.end]) {
                    hits.push(hit);
                }
            }
        }
        self.deduplicate(hits)
    }

    fn is_credible(&self, rule: &Rule, secret: &[u8]) -> bool {
        let spec = &rule.spec;
        !secret.is_empty()
            && entropy(secret) >= spec.entropy
            && (!spec.mixed
                || (secret.iter().any(u8::is_ascii_digit)
                    && secret.iter().any(u8::is_ascii_alphabetic)))
            && !rule.allow.iter().any(|a| a.is_match(secret))
            && !self.allow.iter().any(|a| a.is_match(secret))
            && (spec.severity == Severity::Warning || !is_placeholder(secret))
    }

    /// Overlapping secrets: the earlier rule wins. A warning inside an error's match is dropped.
    fn deduplicate(&self, mut hits: Vec<Hit>) -> Vec<Hit> {
        hits.sort_by_key(|h| (h.start, h.rule));
        let mut kept: Vec<Hit> = Vec::new();
        for hit in hits {
            let overlaps = |k: &Hit| k.start < hit.end && hit.start < k.end;
            if let Some(existing) = kept.iter_mut().find(|k| overlaps(k)) {
                if hit.rule < existing.rule {
                    *existing = hit;
                }
                continue;
            }
            kept.push(hit);
        }
        let severity = |h: &Hit| self.rules.rules[h.rule].spec.severity;
        let errors: Vec<Hit> = kept
            .iter()
            .copied()
            .filter(|h| severity(h) == Severity::Error)
            .collect();
        kept.retain(|h| {
            severity(h) == Severity::Error
                || !errors
                    .iter()
                    .any(|e| e.start < h.match_end && h.match_start < e.end)
        });
        kept
    }
}

/// Orders findings by file, position and rule, so every report is deterministic.
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (&a.path, a.line, a.column, a.rule).cmp(&(&b.path, b.line, b.column, b.rule))
    });
}

/// The first named group that took part in the match (rules name the credential's group).
fn secret_range(rule: &Rule, captures: &regex::bytes::Captures) -> Option<std::ops::Range<usize>> {
    rule.regex()
        .capture_names()
        .flatten()
        .find_map(|name| captures.name(name))
        .map(|m| m.range())
}

pub fn is_binary(content: &[u8]) -> bool {
    content[..content.len().min(8000)].contains(&0)
}

fn is_placeholder(secret: &[u8]) -> bool {
    let lower = String::from_utf8_lossy(secret).to_lowercase();
    let template = lower.contains('{') && lower.contains('}');
    template
        || PLACEHOLDER_PARTS.iter().any(|p| lower.contains(p))
        || PLACEHOLDER_WORDS.contains(&lower.as_str())
}

/// Shannon entropy in bits per byte.
pub fn entropy(data: &[u8]) -> f64 {
    let mut counts = [0usize; 256];
    for &b in data {
        counts[usize::from(b)] += 1;
    }
    let len = data.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / len;
            -p * p.log2()
        })
        .sum()
}

fn line_bounds(text: &[u8], start: usize, end: usize) -> (usize, usize) {
    let line_start = text[..start]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let line_end = text[end..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(text.len(), |p| end + p);
    (line_start, line_end)
}

fn line_has_marker(text: &[u8], offset: usize) -> bool {
    let offset = offset.min(text.len());
    let (start, end) = line_bounds(text, offset, offset);
    let line = &text[start..end];
    ALLOW_MARKERS
        .iter()
        .any(|m| line.windows(m.len()).any(|w| w == *m))
}

/// 1-based line and character column of a byte offset.
pub fn line_and_column(text: &[u8], offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let column = before[line_start..]
        .iter()
        .filter(|&&b| (b & 0xc0) != 0x80)
        .count()
        + 1;
    (line, column)
}

/// Removes ANSI CSI sequences (`ESC [ params letter`); returns the removed (offset, length) pairs.
fn strip_ansi(text: &[u8]) -> (Cow<'_, [u8]>, Vec<(usize, usize)>) {
    if !text.contains(&0x1b) {
        return (Cow::Borrowed(text), Vec::new());
    }
    let mut clean = Vec::with_capacity(text.len());
    let mut removed = Vec::new();
    let mut i = 0;
    while i < text.len() {
        if text[i] == 0x1b && text.get(i + 1) == Some(&b'[') {
            let params = text[i + 2..]
                .iter()
                .take_while(|b| b.is_ascii_digit() || matches!(b, b';' | b'?'))
                .count();
            if text
                .get(i + 2 + params)
                .is_some_and(|b| (0x40..=0x7e).contains(b))
            {
                let len = params + 3;
                removed.push((clean.len(), len));
                i += len;
                continue;
            }
        }
        clean.push(text[i]);
        i += 1;
    }
    (Cow::Owned(clean), removed)
}

/// Maps an offset in ANSI-stripped text back to the original text.
fn unmap(removed: &[(usize, usize)], offset: usize) -> usize {
    offset
        + removed
            .iter()
            .take_while(|(at, _)| *at <= offset)
            .map(|(_, len)| len)
            .sum::<usize>()
}

/// A piece of a unit's decoded text and where its raw form sits in the file.
struct Segment<'a> {
    decoded_start: usize,
    raw: &'a [u8],
    escaped: bool,
}

/// One decoded text to scan: a string, or a list of strings joined (a cell source, a stream).
struct Unit<'a, 'v> {
    text: Cow<'a, [u8]>,
    segments: Vec<Segment<'a>>,
    /// Where the text sits in the notebook (empty for plain files); described only for findings.
    path: Vec<PathItem<'v>>,
    in_output: bool,
}

impl Unit<'_, '_> {
    /// The byte offset in `file` of decoded offset `offset`.
    fn file_offset(&self, file: &[u8], offset: usize) -> usize {
        let index = self
            .segments
            .partition_point(|s| s.decoded_start <= offset)
            .saturating_sub(1);
        let Some(segment) = self.segments.get(index) else {
            return 0;
        };
        let base = (segment.raw.as_ptr() as usize).saturating_sub(file.as_ptr() as usize);
        let within = offset - segment.decoded_start;
        if !segment.escaped {
            return base + within.min(segment.raw.len());
        }
        base + raw_index(segment.raw, within)
    }
}

/// The raw index in escaped JSON string content where decoded byte `target` begins.
fn raw_index(raw: &[u8], target: usize) -> usize {
    let (mut decoded, mut raw_pos, mut found) = (0usize, 0usize, None);
    Text::Escaped(raw).for_each_piece(|piece| {
        if found.is_some() {
            return;
        }
        let (decoded_len, raw_len) = match piece {
            Piece::Bytes(run) => (run.len(), run.len()),
            Piece::CodePoint(cp) => {
                let mut buf = Vec::new();
                json::push_code_point(&mut buf, cp);
                (buf.len(), escape_len(&raw[raw_pos..]))
            }
        };
        if target < decoded + decoded_len {
            found = Some(
                raw_pos
                    + if matches!(piece, Piece::Bytes(_)) {
                        target - decoded
                    } else {
                        0
                    },
            );
        }
        decoded += decoded_len;
        raw_pos += raw_len;
    });
    found.unwrap_or(raw.len())
}

fn escape_len(raw: &[u8]) -> usize {
    match raw.get(1) {
        Some(b'u') if raw.get(6..8) == Some(b"\\u") => {
            let first = json::text_hex4(raw.get(2..6));
            let second = json::text_hex4(raw.get(8..12));
            if (0xd800..0xdc00).contains(&first) && (0xdc00..0xe000).contains(&second) {
                12
            } else {
                6
            }
        }
        Some(b'u') => 6,
        _ => 2,
    }
}

#[derive(Debug, Clone, Copy)]
enum PathItem<'v> {
    Key(&'v [u8]),
    Index(usize),
}

fn is_skipped_key(key: &[u8]) -> bool {
    key.starts_with(b"image/")
        || key == b"application/vnd.jupyter.widget-view+json"
        || key == b"model_id"
}

/// No credential fits in fewer bytes than this, so shorter strings are not scanned.
const SHORTEST_SECRET: usize = 8;

fn collect_units<'a, 'v>(
    value: &'v Value<'a>,
    path: &mut Vec<PathItem<'v>>,
    out: &mut Vec<Unit<'a, 'v>>,
) {
    match value {
        Value::Object(object) => {
            for (key, child) in &object.entries {
                if !is_skipped_key(key) {
                    path.push(PathItem::Key(key));
                    collect_units(child, path, out);
                    path.pop();
                }
            }
        }
        Value::Array(items) if items.iter().all(|i| matches!(i, Value::String(_))) => {
            let texts: Vec<&Text<'a>> = items
                .iter()
                .filter_map(|i| match i {
                    Value::String(t) => Some(t),
                    _ => None,
                })
                .collect();
            if let Some(unit) = make_unit(path, &texts) {
                out.push(unit);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                path.push(PathItem::Index(index));
                collect_units(child, path, out);
                path.pop();
            }
        }
        Value::String(text) => {
            if let Some(unit) = make_unit(path, &[text]) {
                out.push(unit);
            }
        }
        _ => {}
    }
}

/// One text from string pieces; pieces that do not end a line get a `\n` between them. A
/// single unescaped string is scanned in place, without a copy.
fn make_unit<'a, 'v>(path: &[PathItem<'v>], texts: &[&Text<'a>]) -> Option<Unit<'a, 'v>> {
    let raw_len: usize = texts.iter().map(|t| raw_of(t).0.len()).sum();
    if raw_len < SHORTEST_SECRET {
        return None;
    }
    let segments: Vec<Segment<'a>> = Vec::with_capacity(texts.len());
    let in_output = path
        .iter()
        .any(|p| matches!(p, PathItem::Key(k) if *k == b"outputs"));
    let mut unit = Unit {
        text: Cow::Borrowed(&[]),
        segments,
        path: path.to_vec(),
        in_output,
    };
    if let [Text::Plain(raw)] = texts {
        unit.text = Cow::Borrowed(raw);
        unit.segments.push(Segment {
            decoded_start: 0,
            raw,
            escaped: false,
        });
        return Some(unit);
    }
    let mut joined = Vec::with_capacity(raw_len + texts.len());
    for text in texts {
        let (raw, escaped) = raw_of(text);
        unit.segments.push(Segment {
            decoded_start: joined.len(),
            raw,
            escaped,
        });
        joined.extend_from_slice(&text.decoded());
        if !joined.ends_with(b"\n") {
            joined.push(b'\n');
        }
    }
    unit.text = Cow::Owned(joined);
    Some(unit)
}

fn raw_of<'a>(text: &Text<'a>) -> (&'a [u8], bool) {
    match text {
        Text::Plain(raw) => (raw, false),
        Text::Escaped(raw) => (raw, true),
        Text::Owned(_) => (&[], false),
    }
}

/// Describes a notebook path for people: `cell 4, output 2 (stream stdout)`.
fn locator(root: &Value, path: &[PathItem]) -> String {
    let key = |i: usize| match path.get(i) {
        Some(PathItem::Key(k)) => Some(String::from_utf8_lossy(k).into_owned()),
        _ => None,
    };
    let index = |i: usize| match path.get(i) {
        Some(PathItem::Index(n)) => Some(*n),
        _ => None,
    };
    let Some(cells_at) = path
        .iter()
        .position(|p| matches!(p, PathItem::Key(k) if *k == b"cells"))
    else {
        return match (key(0).as_deref(), key(1).as_deref()) {
            (Some("metadata"), Some("widgets")) => "notebook metadata (widget state)".into(),
            (Some("metadata"), _) => "notebook metadata".into(),
            _ => "notebook".into(),
        };
    };
    let mut text = format!("cell {}", index(cells_at + 1).unwrap_or(0) + 1);
    match key(cells_at + 2).as_deref() {
        Some("outputs") => {
            let output = index(cells_at + 3).unwrap_or(0);
            let node = lookup(root, &path[..(cells_at + 4).min(path.len())]);
            let field = |name: &str| {
                let value = node?.as_object()?.get(name)?.as_text()?;
                Some(String::from_utf8_lossy(&value).into_owned())
            };
            let output_type = field("output_type").unwrap_or_else(|| "output".into());
            let detail = match output_type.as_str() {
                "stream" => field("name"),
                "error" => key(cells_at + 4),
                _ => key(cells_at + 5),
            };
            let detail = detail.map(|d| format!(" {d}")).unwrap_or_default();
            text.push_str(&format!(", output {} ({output_type}{detail})", output + 1));
        }
        Some(other) => text.push_str(&format!(" {other}")),
        None => {}
    }
    text
}

fn lookup<'v, 'a>(root: &'v Value<'a>, path: &[PathItem]) -> Option<&'v Value<'a>> {
    path.iter().try_fold(root, |node, item| match item {
        PathItem::Key(k) => node.as_object()?.get(&String::from_utf8_lossy(k)),
        PathItem::Index(i) => node.as_array()?.get(*i),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_separates_keys_from_patterns() {
        assert!(entropy(b"aaaaaaaa") < 0.1);
        assert!(entropy(b"mXxYBbZWOzJJnUfdUACNWiPsFdJikEAvst") > 4.0);
    }

    #[test]
    fn ansi_codes_are_removed_and_mapped_back() {
        let text = b"a\x1b[38;5;124mbc\x1b[0md";
        let (clean, removed) = strip_ansi(text);
        assert_eq!(clean.as_ref(), b"abcd");
        assert_eq!(text[unmap(&removed, 3)], b'd');
        assert_eq!(text[unmap(&removed, 1)], b'b');
    }

    #[test]
    fn escaped_offsets_map_to_raw_positions() {
        let raw = br#"a\"b\u00e9c\nd"#;
        let decoded = Text::Escaped(raw).decoded().into_owned();
        let target = decoded.iter().position(|&b| b == b'c').unwrap();
        assert_eq!(raw[raw_index(raw, target)], b'c');
        let d = decoded.iter().position(|&b| b == b'd').unwrap();
        assert_eq!(raw[raw_index(raw, d)], b'd');
    }
}
