//! Byte-level helpers the scanner needs on every text: entropy and placeholder tests that decide
//! whether a match is a credential, inline allow markers, line/column positions, and removal of
//! ANSI colour codes (tracebacks in notebook outputs) with the map back to the original offsets.

use std::borrow::Cow;

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

/// A file whose first 8,000 bytes hold a NUL byte is treated as binary.
pub fn is_binary(content: &[u8]) -> bool {
    content[..content.len().min(8000)].contains(&0)
}

/// Whether a matched value is a template or a stand-in rather than a credential.
pub fn is_placeholder(secret: &[u8]) -> bool {
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

/// The bounds of the line(s) holding `start..end`, without their newlines.
pub fn line_bounds(text: &[u8], start: usize, end: usize) -> (usize, usize) {
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

/// Whether the line holding `offset` carries an inline allow marker.
pub fn line_has_marker(text: &[u8], offset: usize) -> bool {
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
pub fn strip_ansi(text: &[u8]) -> (Cow<'_, [u8]>, Vec<(usize, usize)>) {
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
pub fn unmap(removed: &[(usize, usize)], offset: usize) -> usize {
    offset
        + removed
            .iter()
            .take_while(|(at, _)| *at <= offset)
            .map(|(_, len)| len)
            .sum::<usize>()
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
}
