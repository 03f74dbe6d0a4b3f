//! The scanning engine: finds rule matches in a file's content, notebook-aware.
//!
//! A keyword automaton runs over each text first; only the rules whose keywords occur run their
//! regex, and only over the lines holding the keyword (or the whole text for multi-line rules).
//! A notebook is scanned as the strings it holds (see `notebook`), JSON-decoded and with ANSI
//! colour codes removed, so `\"` escapes and tracebacks do not hide a key. Every match is mapped
//! back to its physical line in the file.

use regex::bytes::Regex;

use super::finding::{Finding, only_new_secrets};
use super::notebook::{self, Unit};
use super::rules::{Rule, RuleSet, Severity, Window};
use super::text::{
    entropy, is_binary, is_placeholder, line_and_column, line_bounds, line_has_marker, strip_ansi,
    unmap,
};
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

/// The first named group that took part in the match (rules name the credential's group).
fn secret_range(rule: &Rule, captures: &regex::bytes::Captures) -> Option<std::ops::Range<usize>> {
    rule.regex()
        .capture_names()
        .flatten()
        .find_map(|name| captures.name(name))
        .map(|m| m.range())
}
