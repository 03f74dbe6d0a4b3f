//! String values that stay undecoded until something needs them.
//!
//! A notebook's images are megabytes of base64 ending in a `\n` escape, and nbstripout is about
//! to drop most of them: decoding (copying) them would cost more than the rest of the run. The
//! parser validates escapes in place and keeps the raw slice; decoding happens on demand, and the
//! writer re-escapes straight from the raw form. A list of strings (a cell's source, a stream's
//! text) can stay one raw slice too (`StringList`), and the string nbformat joins it into is
//! the list itself, read piece by piece (`Text::Joined`): nothing is copied to join lines that
//! are about to be dropped or split again.

use std::borrow::Cow;

use super::push_code_point;

/// A non-empty JSON array of strings kept as its raw text (already validated by the parser):
/// for a notebook of many short lines, a node per line would weigh more than the lines.
#[derive(Debug, Clone, Copy)]
pub struct StringList<'a> {
    /// The bytes between `[` and `]`.
    raw: &'a [u8],
    len: usize,
}

impl<'a> StringList<'a> {
    /// `raw` must be the validated inside of an array of `len` strings.
    pub(super) fn new(raw: &'a [u8], len: usize) -> Self {
        StringList { raw, len }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Each item's raw content as (start, end, holds an escape) in `raw()`, appended to `spans`
    /// (a buffer the caller reuses): one scan, where `items` would be walked once per use.
    pub fn spans(&self, spans: &mut Vec<(usize, usize, bool)>) {
        let raw = self.raw;
        let mut pos = 0;
        while let Some(quote) = raw
            .get(pos..)
            .and_then(|r| r.iter().position(|&b| b == b'"'))
        {
            let start = pos + quote + 1;
            let mut end = start;
            let mut escaped = false;
            loop {
                end = super::parse::scan_plain(raw, end);
                match raw.get(end) {
                    Some(b'\\') => {
                        escaped = true;
                        end += 2;
                    }
                    _ => break,
                }
            }
            let end = end.min(raw.len());
            spans.push((start, end, escaped));
            pos = end + 1;
        }
    }

    /// The raw text between the brackets (items, commas, whitespace), as the parser validated it.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The items, each as the parser would have given it.
    pub fn items(&self) -> impl Iterator<Item = Text<'a>> + 'a {
        let raw = self.raw;
        let mut pos = 0;
        std::iter::from_fn(move || {
            let start = pos + raw.get(pos..)?.iter().position(|&b| b == b'"')? + 1;
            let mut end = start;
            let mut escaped = false;
            loop {
                end = super::parse::scan_plain(raw, end);
                match raw.get(end)? {
                    b'\\' => {
                        escaped = true;
                        end += 2;
                    }
                    _ => break,
                }
            }
            pos = end + 1;
            let content = &raw[start..end];
            Some(if escaped {
                Text::Escaped(content)
            } else {
                Text::Plain(content)
            })
        })
    }
}

impl PartialEq for StringList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.items().eq(other.items())
    }
}

/// Decoded content is UTF-8, except that a lone surrogate is kept as its 3-byte WTF-8 form.
#[derive(Debug, Clone)]
pub enum Text<'a> {
    /// Input bytes without escapes: raw and decoded are the same.
    Plain(&'a [u8]),
    /// Input bytes between the quotes, escapes still in place (already validated).
    Escaped(&'a [u8]),
    /// Built by mlguard (joined lines, new ids).
    Owned(Vec<u8>),
    /// The items of a list joined with `separator` (nbformat's `rejoin_lines`), never copied.
    Joined {
        list: StringList<'a>,
        separator: &'static [u8],
    },
}

/// A run of literal bytes, or one code point that came from an escape.
pub enum Piece<'t> {
    Bytes(&'t [u8]),
    CodePoint(u32),
}

impl<'a> Text<'a> {
    pub fn decoded(&self) -> Cow<'_, [u8]> {
        match self {
            Text::Plain(bytes) => Cow::Borrowed(bytes),
            Text::Owned(bytes) => Cow::Borrowed(bytes),
            Text::Escaped(raw) => Cow::Owned(unescape(raw)),
            Text::Joined { .. } => Cow::Owned(self.collect()),
        }
    }

    pub fn into_decoded(self) -> Cow<'a, [u8]> {
        match self {
            Text::Plain(bytes) => Cow::Borrowed(bytes),
            Text::Owned(bytes) => Cow::Owned(bytes),
            Text::Escaped(raw) => Cow::Owned(unescape(raw)),
            Text::Joined { .. } => Cow::Owned(self.collect()),
        }
    }

    fn collect(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.for_each_piece(|piece| match piece {
            Piece::Bytes(run) => out.extend_from_slice(run),
            Piece::CodePoint(cp) => push_code_point(&mut out, cp),
        });
        out
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Text::Plain(b) | Text::Escaped(b) => b.is_empty(),
            Text::Owned(b) => b.is_empty(),
            Text::Joined { list, separator } => {
                (separator.is_empty() || list.len() < 2) && list.items().all(|t| t.is_empty())
            }
        }
    }

    /// Calls `f` with the decoded content piece by piece, without allocating.
    pub fn for_each_piece(&self, mut f: impl FnMut(Piece)) {
        self.each_piece(&mut f);
    }

    fn each_piece(&self, f: &mut dyn FnMut(Piece)) {
        match self {
            Text::Plain(bytes) => f(Piece::Bytes(bytes)),
            Text::Owned(bytes) => f(Piece::Bytes(bytes)),
            Text::Escaped(raw) => escaped_pieces(raw, f),
            Text::Joined { list, separator } => {
                for (i, item) in list.items().enumerate() {
                    if i > 0 && !separator.is_empty() {
                        f(Piece::Bytes(separator));
                    }
                    item.each_piece(f);
                }
            }
        }
    }

    /// Python's `len()` (code points), or `None` once it exceeds `limit`.
    pub fn char_count_within(&self, limit: u64) -> Option<u64> {
        if let Text::Joined { list, separator } = self {
            // Item by item, so a megabyte list over the limit is not walked to the end.
            let separators = (list.len().saturating_sub(1) * separator.len()) as u64;
            let mut count = separators;
            for item in list.items() {
                count += item.char_count_within(limit.checked_sub(count)?)?;
            }
            return (count <= limit).then_some(count);
        }
        let raw_len = match self {
            Text::Plain(b) | Text::Escaped(b) => b.len(),
            Text::Owned(b) => b.len(),
            Text::Joined { .. } => 0,
        } as u64;
        // A character takes at most 4 raw bytes, or 12 as an escaped surrogate pair.
        let widest = if matches!(self, Text::Escaped(_)) {
            12
        } else {
            4
        };
        if raw_len / widest > limit {
            return None;
        }
        let mut count = 0u64;
        self.for_each_piece(|piece| match piece {
            Piece::Bytes(run) => {
                count += run.iter().filter(|&&b| (b & 0xc0) != 0x80).count() as u64
            }
            Piece::CodePoint(_) => count += 1,
        });
        (count <= limit).then_some(count)
    }
}

impl PartialEq for Text<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.decoded() == other.decoded()
    }
}

/// The index in escaped string content `raw` at which decoded byte `target` begins (an offset
/// inside an escape maps to the escape's start); `raw.len()` past the end.
pub fn raw_index(raw: &[u8], target: usize) -> usize {
    RawCursor::new(raw).raw_offset(target)
}

/// Maps increasing decoded offsets of one escaped string to raw offsets, walking the string once
/// in total (so placing many matches in one huge string stays linear).
pub struct RawCursor<'a> {
    raw: &'a [u8],
    raw_pos: usize,
    decoded_pos: usize,
}

impl<'a> RawCursor<'a> {
    pub fn new(raw: &'a [u8]) -> Self {
        RawCursor {
            raw,
            raw_pos: 0,
            decoded_pos: 0,
        }
    }

    /// The raw offset of decoded offset `target`, as `raw_index` gives it. Targets must not
    /// decrease between calls; a smaller one restarts from the beginning.
    pub fn raw_offset(&mut self, target: usize) -> usize {
        if target < self.decoded_pos {
            *self = RawCursor::new(self.raw);
        }
        let raw = self.raw;
        while self.raw_pos < raw.len() {
            if raw[self.raw_pos] != b'\\' {
                let run_end = raw[self.raw_pos..]
                    .iter()
                    .position(|&b| b == b'\\')
                    .map_or(raw.len(), |p| self.raw_pos + p);
                let run = run_end - self.raw_pos;
                if target < self.decoded_pos + run {
                    return self.raw_pos + (target - self.decoded_pos);
                }
                self.decoded_pos += run;
                self.raw_pos = run_end;
                continue;
            }
            let (cp, len) = decode_escape(&raw[self.raw_pos..]);
            let width = utf8_width(cp);
            if target < self.decoded_pos + width {
                return self.raw_pos;
            }
            self.decoded_pos += width;
            self.raw_pos += len;
        }
        raw.len()
    }
}

/// Bytes of the WTF-8 encoding of a code point.
fn utf8_width(cp: u32) -> usize {
    match cp {
        0..=0x7f => 1,
        0x80..=0x7ff => 2,
        0x800..=0xffff => 3,
        _ => 4,
    }
}

pub fn unescape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    escaped_pieces(raw, |piece| match piece {
        Piece::Bytes(run) => out.extend_from_slice(run),
        Piece::CodePoint(cp) => push_code_point(&mut out, cp),
    });
    out
}

/// Walks validated escaped content; a surrogate pair is joined as Python's decoder does.
fn escaped_pieces(raw: &[u8], mut f: impl FnMut(Piece)) {
    let mut i = 0;
    while i < raw.len() {
        let run_end = raw[i..]
            .iter()
            .position(|&b| b == b'\\')
            .map_or(raw.len(), |p| i + p);
        if run_end > i {
            f(Piece::Bytes(&raw[i..run_end]));
        }
        i = run_end;
        if i >= raw.len() {
            break;
        }
        let (cp, len) = decode_escape(&raw[i..]);
        f(Piece::CodePoint(cp));
        i += len;
    }
}

/// Decodes the escape at the start of `raw` (which begins with `\`): its code point and length.
fn decode_escape(raw: &[u8]) -> (u32, usize) {
    let simple = match raw.get(1) {
        Some(b'b') => 0x08,
        Some(b'f') => 0x0c,
        Some(b'n') => 0x0a,
        Some(b'r') => 0x0d,
        Some(b't') => 0x09,
        Some(b'u') => return decode_unicode(raw),
        Some(&other) => u32::from(other),
        None => u32::from(b'\\'),
    };
    (simple, 2)
}

fn decode_unicode(raw: &[u8]) -> (u32, usize) {
    let first = hex4(raw.get(2..6));
    if (0xd800..0xdc00).contains(&first) && raw.get(6..8) == Some(b"\\u") {
        let second = hex4(raw.get(8..12));
        if (0xdc00..0xe000).contains(&second) {
            return (0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00), 12);
        }
    }
    (first, 6)
}

pub fn hex4(digits: Option<&[u8]>) -> u32 {
    digits
        .filter(|d| d.len() == 4 && d.iter().all(u8::is_ascii_hexdigit))
        .and_then(|d| std::str::from_utf8(d).ok())
        .and_then(|d| u32::from_str_radix(d, 16).ok())
        .unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoded_offsets_map_to_raw_positions() {
        let raw = br#"a\"b\u00e9c\nd\ud83d\ude00e"#;
        let decoded = unescape(raw);
        for (target, expected) in [(b'c', b'c'), (b'd', b'd'), (b'e', b'e'), (b'b', b'b')] {
            let at = decoded.iter().position(|&b| b == target).unwrap();
            assert_eq!(raw[raw_index(raw, at)], expected);
        }
        let quote = decoded.iter().position(|&b| b == b'"').unwrap();
        assert_eq!(&raw[raw_index(raw, quote)..][..2], br#"\""#);
        assert_eq!(raw_index(raw, decoded.len()), raw.len());
        let mut cursor = RawCursor::new(raw);
        for target in 0..decoded.len() {
            assert_eq!(
                cursor.raw_offset(target),
                raw_index(raw, target),
                "{target}"
            );
        }
    }
}
