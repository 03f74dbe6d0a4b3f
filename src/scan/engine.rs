//! The scanning engine: finds rule matches in a file's content, notebook-aware.
//!
//! A keyword automaton runs over each text first; only the rules whose keywords occur run their
//! regex, and only over the lines holding the keyword (or the whole text for multi-line rules).
//! A notebook is scanned as the strings it holds (see `notebook`), JSON-decoded and with ANSI
//! colour codes removed, so `\"` escapes and tracebacks do not hide a key. Every match is mapped
//! back to its physical line in the file.

use regex::bytes::Regex;

use super::context;
use super::finding::{Finding, only_new_secrets};
use super::notebook::{self, PathItem, Unit};
use super::rules::{RuleSet, Severity, Window};
use super::text::{is_binary, line_and_column, line_bounds, line_has_marker, strip_ansi, unmap};
use crate::json::{self, Value};
use crate::notebook::Mode;

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
        if Mode::of_path(path) == Some(Mode::Jupyter) {
            if let Some(findings) = self.scan_notebook(path, content, &applicable) {
                return findings;
            }
        }
        self.scan_unit(path, content, &Unit::whole(content), None, &applicable)
    }

    /// Scans the new version of a changed file and keeps the secrets the old version (scanned
    /// under the same path, so the same rules apply) did not hold. The old version is scanned
    /// only when the new one has findings.
    pub fn scan_change(&self, path: &str, new: &[u8], old: Option<&[u8]>) -> Vec<Finding> {
        let found = self.scan(path, new);
        match old {
            Some(old) if !found.is_empty() => only_new_secrets(found, &self.scan(path, old)),
            _ => found,
        }
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
        let mut findings = Vec::new();
        for unit in &notebook::units(&root) {
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
        // Context (src/scan/context): the unit judged by its content, plus derived texts.
        let hits = self.hits_with_context(path, unit, &clean, applicable);
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
                    locator: root.map(|root| notebook::locator(root, &unit.path)),
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
                if let Some(secret) = rule.credible_secret(&captures, &self.allow) {
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

// ==== Context: texts derived from a unit's structure (src/scan/context) ======================
// Kept apart from the keyword/regex machinery above: this block only decides which texts and
// paths the ordinary `hits` run on, and maps derived matches back onto the unit's text.
impl Scanner<'_> {
    /// Which rules apply to a file at `path` (rules with `paths` apply to matching paths only).
    fn applicable(&self, path: &str) -> Vec<bool> {
        self.rules
            .rules
            .iter()
            .map(|r| r.paths.as_ref().is_none_or(|p| p.is_match(path.as_bytes())))
            .collect()
    }

    /// `hits` on the unit, under its virtual path if its content gives one (a shebang script,
    /// a `%%writefile .env` cell), plus the hits in its derived texts, placed on the unit.
    fn hits_with_context(
        &self,
        path: &str,
        unit: &Unit,
        clean: &[u8],
        applicable: &[bool],
    ) -> Vec<Hit> {
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
        let virtual_applicable = virtual_path.as_deref().map(|p| self.applicable(p));
        let applicable = virtual_applicable.as_deref().unwrap_or(applicable);
        let place = context::Place {
            path: virtual_path.as_deref().unwrap_or(path),
            keys: &keys,
            worth: &worth,
        };
        let mut hits = self.hits(clean, applicable);
        let derived = context::derive(&place, clean);
        if derived.is_empty() {
            return hits;
        }
        for text in derived {
            let own = text.path.as_deref().map(|p| self.applicable(p));
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
