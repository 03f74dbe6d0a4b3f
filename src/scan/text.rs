//! Byte-level helpers the scanner needs on every text: what kind of content a file holds (text,
//! UTF-16/32, binary, media, compressed), the entropy of a match (placeholder tests are in
//! `precision`), inline allow markers, line/column positions computed in linear time for any
//! number of matches, and removal of ANSI colour codes (tracebacks in notebook outputs) with the
//! map back to the original offsets.

use std::borrow::Cow;

/// Inline markers that silence a finding on their line (ours, detect-secrets', gitleaks').
const ALLOW_MARKERS: [&[u8]; 3] = [
    b"mlguard:allow",
    b"pragma: allowlist secret",
    b"gitleaks:allow",
];

/// How much of a file's start is examined to decide what it holds.
const SNIFF: usize = 8000;

/// What a file's bytes are, decided from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    /// UTF-8 or ASCII text (a rare stray NUL allowed); `bom` is 3 when a UTF-8 BOM leads.
    Text { bom: usize },
    /// UTF-16 or UTF-32 text (by BOM or by the pattern of NUL bytes): decoded, then scanned.
    Wide(WideEncoding),
    /// An image, audio or video format: no text to scan.
    Media(&'static str),
    /// A compressed container: its content cannot be scanned without unpacking it.
    Compressed(&'static str),
    /// Other binary data: its printable runs are scanned for prefixed tokens.
    Binary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WideEncoding {
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
}

/// Magic numbers of formats that hold no text worth scanning.
const MEDIA: [(&[u8], &str); 9] = [
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"II*\0", "TIFF image"),
    (b"MM\0*", "TIFF image"),
    (b"ID3", "MP3 audio"),
    (b"OggS", "Ogg media"),
    (b"fLaC", "FLAC audio"),
];

/// Magic numbers of compressed containers (zip also covers wheels, jars, `.pt`, `.npz`, Office).
const COMPRESSED: [(&[u8], &str); 9] = [
    (b"PK\x03\x04", "zip archive"),
    (b"PK\x05\x06", "zip archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"BZh", "bzip2 data"),
    (b"\xfd7zXZ\0", "xz data"),
    (b"\x28\xb5\x2f\xfd", "zstd data"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"Rar!\x1a\x07", "rar archive"),
    (b"\x04\x22\x4d\x18", "lz4 data"),
];

/// Decides what `content` holds from its first bytes.
pub fn content_kind(content: &[u8]) -> ContentKind {
    let head = &content[..content.len().min(SNIFF)];
    for (prefix, encoding) in [
        (&b"\xff\xfe\0\0"[..], WideEncoding::Utf32Le),
        (b"\0\0\xfe\xff", WideEncoding::Utf32Be),
        (b"\xff\xfe", WideEncoding::Utf16Le),
        (b"\xfe\xff", WideEncoding::Utf16Be),
    ] {
        if head.starts_with(prefix) {
            return ContentKind::Wide(encoding);
        }
    }
    let bom = if head.starts_with(b"\xef\xbb\xbf") {
        3
    } else {
        0
    };
    if let Some((_, name)) = COMPRESSED.iter().find(|(magic, _)| head.starts_with(magic)) {
        return ContentKind::Compressed(name);
    }
    if let Some((_, name)) = MEDIA.iter().find(|(magic, _)| head.starts_with(magic)) {
        return ContentKind::Media(name);
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" {
        match &head[8..12] {
            b"WEBP" => return ContentKind::Media("WebP image"),
            b"WAVE" => return ContentKind::Media("WAV audio"),
            b"AVI " => return ContentKind::Media("AVI video"),
            _ => {}
        }
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return ContentKind::Media("MP4/QuickTime media");
    }
    let nuls = head.iter().filter(|&&b| b == 0).count();
    if nuls == 0 {
        return ContentKind::Text { bom };
    }
    if let Some(encoding) = wide_pattern(head) {
        return ContentKind::Wide(encoding);
    }
    // A text file with a stray NUL (a bad paste, a C string) is still text: NULs are rare and
    // almost everything else is printable.
    let printable = head
        .iter()
        .filter(|&&b| matches!(b, b'\t' | b'\n' | b'\r' | 0x20..=0x7e) || b >= 0x80)
        .count();
    if nuls * 100 <= head.len() && printable * 100 >= head.len() * 95 {
        return ContentKind::Text { bom };
    }
    ContentKind::Binary
}

/// UTF-16/32 text without a BOM: ASCII characters leave NUL bytes in a regular pattern.
fn wide_pattern(head: &[u8]) -> Option<WideEncoding> {
    let units = |width: usize, zero_at: &[usize], text_at: usize| {
        let chunks = head.chunks_exact(width);
        let total = chunks.len();
        let matching = chunks
            .filter(|c| zero_at.iter().all(|&i| c[i] == 0) && c[text_at] != 0)
            .count();
        total >= 4 && matching * 10 >= total * 9
    };
    if units(4, &[1, 2, 3], 0) {
        Some(WideEncoding::Utf32Le)
    } else if units(4, &[0, 1, 2], 3) {
        Some(WideEncoding::Utf32Be)
    } else if units(2, &[1], 0) {
        Some(WideEncoding::Utf16Le)
    } else if units(2, &[0], 1) {
        Some(WideEncoding::Utf16Be)
    } else {
        None
    }
}

/// Decodes UTF-16/32 text to UTF-8 (a BOM dropped, invalid units replaced).
pub fn decode_wide(content: &[u8], encoding: WideEncoding) -> Vec<u8> {
    let text: String = match encoding {
        WideEncoding::Utf16Le | WideEncoding::Utf16Be => {
            let units = content.chunks_exact(2).map(|c| match encoding {
                WideEncoding::Utf16Le => u16::from_le_bytes([c[0], c[1]]),
                _ => u16::from_be_bytes([c[0], c[1]]),
            });
            char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
        WideEncoding::Utf32Le | WideEncoding::Utf32Be => content
            .chunks_exact(4)
            .map(|c| {
                let bytes = [c[0], c[1], c[2], c[3]];
                let value = match encoding {
                    WideEncoding::Utf32Le => u32::from_le_bytes(bytes),
                    _ => u32::from_be_bytes(bytes),
                };
                char::from_u32(value).unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect(),
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    text.as_bytes().to_vec()
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

/// Line positions of one text, computed once, so that placing any number of matches costs a
/// binary search each, and whether a line carries an allow marker is decided once per line.
pub struct LineIndex<'t> {
    text: &'t [u8],
    /// Offset of every `\n`, listed on first use: most texts have no finding to place.
    newlines: std::cell::OnceCell<Vec<usize>>,
    markers: std::collections::HashMap<usize, bool>,
    /// The last position placed, to count columns incrementally along a long line.
    cursor: (usize, usize),
}

impl<'t> LineIndex<'t> {
    pub fn new(text: &'t [u8]) -> Self {
        LineIndex {
            text,
            newlines: std::cell::OnceCell::new(),
            markers: std::collections::HashMap::new(),
            cursor: (0, 1),
        }
    }

    fn newlines(&self) -> &[usize] {
        self.newlines.get_or_init(|| {
            let text = self.text;
            text.iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i)
                .collect()
        })
    }

    /// 0-based line number of an offset.
    fn line(&self, offset: usize) -> usize {
        self.newlines().partition_point(|&n| n < offset)
    }

    fn line_start(&self, line: usize) -> usize {
        if line == 0 {
            0
        } else {
            self.newlines()[line - 1] + 1
        }
    }

    /// 1-based line and character column of a byte offset. Offsets given in increasing order
    /// along one line are counted from the previous one, not from the line's start.
    pub fn line_and_column(&mut self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line(offset);
        let start = self.line_start(line);
        let (from, column) = if self.cursor.0 >= start && self.cursor.0 <= offset {
            self.cursor
        } else {
            (start, 1)
        };
        let column = column
            + self.text[from..offset]
                .iter()
                .filter(|&&b| (b & 0xc0) != 0x80)
                .count();
        self.cursor = (offset, column);
        (line + 1, column)
    }

    /// Whether the line holding `offset` carries an inline allow marker.
    pub fn has_marker(&mut self, offset: usize) -> bool {
        let line = self.line(offset.min(self.text.len()));
        let text = self.text;
        let start = self.line_start(line);
        let end = self.newlines().get(line).copied().unwrap_or(text.len());
        *self.markers.entry(line).or_insert_with(|| {
            let line = &text[start..end];
            ALLOW_MARKERS
                .iter()
                .any(|m| line.windows(m.len()).any(|w| w == *m))
        })
    }
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

/// Maps offsets in ANSI-stripped text back to the original text in logarithmic time: the
/// removed sequences' positions with the total removed before each.
pub struct AnsiMap {
    /// (offset in the clean text, bytes removed up to and including that sequence)
    removed: Vec<(usize, usize)>,
}

impl AnsiMap {
    pub fn new(removed: &[(usize, usize)]) -> Self {
        let mut total = 0;
        AnsiMap {
            removed: removed
                .iter()
                .map(|&(at, len)| {
                    total += len;
                    (at, total)
                })
                .collect(),
        }
    }

    pub fn unmap(&self, offset: usize) -> usize {
        let before = self.removed.partition_point(|(at, _)| *at <= offset);
        offset + before.checked_sub(1).map_or(0, |i| self.removed[i].1)
    }
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
        let map = AnsiMap::new(&removed);
        assert_eq!(text[map.unmap(3)], b'd');
        assert_eq!(text[map.unmap(1)], b'b');
        assert_eq!(text[map.unmap(0)], b'a');
    }

    #[test]
    fn lines_and_columns_in_any_order() {
        let text = "ab\nçd\n\nxyz".as_bytes();
        let mut index = LineIndex::new(text);
        let offset = |s: &str| {
            text.windows(s.len())
                .position(|w| w == s.as_bytes())
                .unwrap()
        };
        assert_eq!(index.line_and_column(offset("d")), (2, 2));
        assert_eq!(index.line_and_column(offset("b")), (1, 2));
        assert_eq!(index.line_and_column(offset("z")), (4, 3));
        assert_eq!(index.line_and_column(offset("y")), (4, 2));
        assert_eq!(index.line_and_column(text.len()), (4, 4));
    }

    #[test]
    fn content_kinds() {
        assert_eq!(content_kind(b"key = 1\n"), ContentKind::Text { bom: 0 });
        assert_eq!(
            content_kind(b"\xef\xbb\xbfA=1"),
            ContentKind::Text { bom: 3 }
        );
        let utf16: Vec<u8> = "TOKEN=abcdefgh\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(
            content_kind(&utf16),
            ContentKind::Wide(WideEncoding::Utf16Le)
        );
        assert_eq!(
            decode_wide(&utf16, WideEncoding::Utf16Le),
            b"TOKEN=abcdefgh\n"
        );
        let mut with_bom = vec![0xfe, 0xff];
        with_bom.extend("x=1".encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(
            content_kind(&with_bom),
            ContentKind::Wide(WideEncoding::Utf16Be)
        );
        assert_eq!(decode_wide(&with_bom, WideEncoding::Utf16Be), b"x=1");
        let mut stray = b"\0".to_vec();
        stray.extend(b"API_KEY=1234567890abcdef\n".repeat(20));
        assert_eq!(content_kind(&stray), ContentKind::Text { bom: 0 });
        assert_eq!(
            content_kind(b"PK\x03\x04rest"),
            ContentKind::Compressed("zip archive")
        );
        assert_eq!(
            content_kind(b"\x89PNG\r\n\x1a\n\0\0"),
            ContentKind::Media("PNG image")
        );
        let binary: Vec<u8> = (0..=255u8).cycle().take(4000).collect();
        assert_eq!(content_kind(&binary), ContentKind::Binary);
    }
}
