//! A JSON writer that produces the bytes of Python's `json.dumps(obj, indent=N, sort_keys=…,
//! ensure_ascii=…)` with the `(",", ": ")` separators every notebook writer uses. It writes as
//! it walks, into a small buffer handed to the destination whenever it fills, so a document is
//! never held twice.

use std::io::Write;

use super::pyrepr::write_json_number;

use super::{Object, Piece, Text, Value, code_points, push_code_point, split_lines};

#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    pub indent: usize,
    pub sort_keys: bool,
    /// Escape everything outside printable ASCII as `\uXXXX` (Python's default, used by nbformat v1–v3).
    pub ensure_ascii: bool,
}

/// Serializes `value` and appends exactly one trailing newline, as `nbformat.write` does.
pub fn write_document(value: &Value, options: WriteOptions) -> Vec<u8> {
    let mut writer = Writer {
        out: Vec::with_capacity(4096),
        sink: None,
        options,
        spans: Vec::new(),
    };
    writer.value(value, 0);
    writer.out.push(b'\n');
    writer.out
}

/// Serializes `value` (with the trailing newline) into `destination` as it walks, in pieces of
/// about 64 kB: only a write to `destination` can fail.
pub fn write_document_to(
    value: &Value,
    options: WriteOptions,
    destination: &mut dyn Write,
) -> std::io::Result<()> {
    let mut writer = Writer {
        out: Vec::with_capacity(Writer::PIECE + 4096),
        sink: Some(Sink {
            destination,
            failed: None,
        }),
        options,
        spans: Vec::new(),
    };
    writer.value(value, 0);
    writer.out.push(b'\n');
    let Some(sink) = writer.sink else {
        return Ok(());
    };
    match sink.failed {
        Some(e) => Err(e),
        None => sink.destination.write_all(&writer.out),
    }
}

/// Where a streaming writer's pieces go; the first error stops the writing.
struct Sink<'d> {
    destination: &'d mut dyn Write,
    failed: Option<std::io::Error>,
}

struct Writer<'d> {
    out: Vec<u8>,
    /// `None`: the whole document stays in `out`.
    sink: Option<Sink<'d>>,
    options: WriteOptions,
    /// The item spans of the list being written (reused from list to list).
    spans: Vec<(usize, usize, bool)>,
}

impl Writer<'_> {
    const PIECE: usize = 64 << 10;

    /// Hands the buffer to the sink once it is full enough (called between values).
    fn spill(&mut self) {
        if let Some(sink) = &mut self.sink {
            if self.out.len() >= Self::PIECE {
                if sink.failed.is_none() {
                    if let Err(e) = sink.destination.write_all(&self.out) {
                        sink.failed = Some(e);
                    }
                }
                self.out.clear();
            }
        }
    }

    fn value(&mut self, value: &Value, level: usize) {
        match value {
            Value::Null => self.out.extend_from_slice(b"null"),
            Value::Bool(true) => self.out.extend_from_slice(b"true"),
            Value::Bool(false) => self.out.extend_from_slice(b"false"),
            Value::Number(raw) => write_json_number(&mut self.out, raw),
            Value::String(text) => self.text(text),
            Value::Lines { text, keep_ends } => match text {
                // Jupyter stores text as its lines already: then they are written as they are,
                // not joined and split again.
                Text::Joined { list, separator } if *keep_ends && separator.is_empty() => {
                    if !self.list(list, level, true) {
                        self.lines(&text.decoded(), true, level);
                    }
                }
                _ => self.lines(&text.decoded(), *keep_ends, level),
            },
            Value::Array(items) => self.array(items, level),
            Value::StringList(list) => {
                self.list(list, level, false);
            }
            Value::Object(object) => self.object(object, level),
        }
    }

    fn newline(&mut self, level: usize) {
        self.out.push(b'\n');
        self.out
            .extend(std::iter::repeat_n(b' ', level * self.options.indent));
    }

    fn array(&mut self, items: &[Value], level: usize) {
        self.sequence(b'[', b']', items.len(), level, |w, i| {
            w.value(&items[i], level + 1)
        });
    }

    /// Writes a list of strings from its raw items. With `as_lines`, only when the items are
    /// exactly the lines `split_lines(keepends=True)` cuts their concatenation into (none
    /// empty, each but the last ending in `\n`, no other line terminator); returns whether it
    /// wrote. An item already escaped as json.dumps escapes is copied as it is.
    fn list(&mut self, list: &super::StringList, level: usize, as_lines: bool) -> bool {
        let raw = list.raw();
        let mut spans = std::mem::take(&mut self.spans);
        spans.clear();
        list.spans(&mut spans);
        let count = spans.len();
        if as_lines
            && !spans
                .iter()
                .enumerate()
                .all(|(index, &(start, end, escaped))| {
                    is_one_line(&raw[start..end], escaped, index + 1 == count)
                })
        {
            self.spans = spans;
            return false;
        }
        self.sequence(b'[', b']', count, level, |w, i| {
            let (start, end, escaped) = spans[i];
            let item = &raw[start..end];
            w.text(&if escaped {
                Text::Escaped(item)
            } else {
                Text::Plain(item)
            });
        });
        self.spans = spans;
        true
    }

    fn lines(&mut self, text: &[u8], keep_ends: bool, level: usize) {
        let lines = split_lines(text, keep_ends);
        self.sequence(b'[', b']', lines.len(), level, |w, i| w.string(lines[i]));
    }

    fn object(&mut self, object: &Object, level: usize) {
        let entries = &object.entries;
        // Notebooks are saved with sorted keys: then there is nothing to sort.
        let in_order =
            !self.options.sort_keys || entries.windows(2).all(|pair| pair[0].0 <= pair[1].0);
        if in_order {
            self.sequence(b'{', b'}', entries.len(), level, |w, i| {
                let (key, value) = &entries[i];
                w.entry(key, value, level);
            });
            return;
        }
        let mut sorted: Vec<_> = entries.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(&b.0));
        self.sequence(b'{', b'}', sorted.len(), level, |w, i| {
            let (key, value) = sorted[i];
            w.entry(key, value, level);
        });
    }

    fn entry(&mut self, key: &[u8], value: &Value, level: usize) {
        self.string(key);
        self.out.extend_from_slice(b": ");
        self.value(value, level + 1);
    }

    fn sequence(
        &mut self,
        open: u8,
        close: u8,
        len: usize,
        level: usize,
        mut item: impl FnMut(&mut Self, usize),
    ) {
        self.out.push(open);
        if len > 0 {
            for i in 0..len {
                if i > 0 {
                    self.out.push(b',');
                }
                self.newline(level + 1);
                item(self, i);
                self.spill();
            }
            self.newline(level);
        }
        self.out.push(close);
    }

    /// A string value, re-escaped straight from its parsed form.
    fn text(&mut self, text: &Text) {
        self.out.push(b'"');
        if !self.options.ensure_ascii {
            // Parsed text already in the form json.dumps gives it (what nbformat writes) is
            // copied as it is, not decoded and escaped again.
            match text {
                Text::Plain(raw) => {
                    self.out.extend_from_slice(raw);
                    self.out.push(b'"');
                    return;
                }
                Text::Escaped(raw) if escaped_as_python_does(raw) => {
                    self.out.extend_from_slice(raw);
                    self.out.push(b'"');
                    return;
                }
                _ => {}
            }
        }
        text.for_each_piece(|piece| match piece {
            Piece::Bytes(run) if self.options.ensure_ascii => self.ascii_escaped(run),
            Piece::Bytes(run) => self.utf8_escaped(run),
            Piece::CodePoint(cp) => self.code_point(cp),
        });
        self.out.push(b'"');
    }

    fn code_point(&mut self, cp: u32) {
        let plain = (0x20..0x7f).contains(&cp) && cp != 0x22 && cp != 0x5c;
        let raw_ok = !self.options.ensure_ascii
            && cp >= 0x20
            && cp != 0x22
            && cp != 0x5c
            && !(0xd800..0xe000).contains(&cp);
        if plain || raw_ok {
            push_code_point(&mut self.out, cp);
        } else {
            let mut buf = Vec::with_capacity(4);
            push_code_point(&mut buf, cp);
            self.ascii_escaped(&buf);
        }
    }

    fn string(&mut self, text: &[u8]) {
        self.out.push(b'"');
        if self.options.ensure_ascii {
            self.ascii_escaped(text);
        } else {
            self.utf8_escaped(text);
        }
        self.out.push(b'"');
    }

    /// `ensure_ascii=False`: only quotes, backslashes and C0 controls are escaped. Lone
    /// surrogates (which Python refuses to encode) are written as `\udxxx` escapes.
    fn utf8_escaped(&mut self, text: &[u8]) {
        let mut run_start = 0;
        let mut i = 0;
        while i < text.len() {
            i = skip_unescaped(text, i);
            let Some(&b) = text.get(i) else { break };
            let is_surrogate = b == 0xed && text.get(i + 1).is_some_and(|n| *n >= 0xa0);
            if b >= 0x20 && b != b'"' && b != b'\\' && !is_surrogate {
                i += 1;
                continue;
            }
            self.out.extend_from_slice(&text[run_start..i]);
            let len = if is_surrogate { 3 } else { 1 };
            let cp = code_points(&text[i..i + len]).next().unwrap_or(0);
            self.escape(cp);
            i += len;
            run_start = i;
        }
        self.out.extend_from_slice(&text[run_start..]);
    }

    fn ascii_escaped(&mut self, text: &[u8]) {
        for cp in code_points(text) {
            match cp {
                0x20..=0x7e if cp != 0x22 && cp != 0x5c => self.out.push(cp as u8),
                0x10000.. => {
                    let v = cp - 0x10000;
                    self.escape(0xd800 | (v >> 10));
                    self.escape(0xdc00 | (v & 0x3ff));
                }
                _ => self.escape(cp),
            }
        }
    }

    fn escape(&mut self, cp: u32) {
        let short: &[u8] = match cp {
            0x22 => b"\\\"",
            0x5c => b"\\\\",
            0x0a => b"\\n",
            0x0d => b"\\r",
            0x09 => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            _ => {
                self.out
                    .extend_from_slice(format!("\\u{cp:04x}").as_bytes());
                return;
            }
        };
        self.out.extend_from_slice(short);
    }
}

/// Whether escaped string content uses exactly the escapes `json.dumps(ensure_ascii=False)`
/// writes: `\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, and `\u00xx` (lowercase) for the other
/// control characters. Then re-escaping its decoded form would give it back byte for byte.
/// (Raw text never holds a control character, a quote or a backslash, and parsed input is
/// UTF-8, so only the escapes need checking.)
fn escaped_as_python_does(raw: &[u8]) -> bool {
    let mut i = 0;
    loop {
        i = find_any(raw, i, [b'\\'; 3]);
        if i >= raw.len() {
            return true;
        }
        match raw.get(i + 1) {
            Some(b'"' | b'\\' | b'n' | b'r' | b't' | b'b' | b'f') => i += 2,
            Some(b'u') => {
                let canonical = match raw.get(i + 2..i + 6) {
                    Some([b'0', b'0', high @ (b'0' | b'1'), low]) => {
                        let code = u32::from(high - b'0') << 4
                            | match low {
                                b'0'..=b'9' => u32::from(low - b'0'),
                                b'a'..=b'f' => u32::from(low - b'a' + 10),
                                _ => return false,
                            };
                        !matches!(code, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d)
                    }
                    _ => false,
                };
                if !canonical {
                    return false;
                }
                i += 6;
            }
            _ => return false,
        }
    }
}

/// Whether one raw list item is a single line as `split_lines(keepends=True)` would cut it:
/// not empty, ending in `\n` unless it is the last item, and holding no other line terminator
/// (judged on the raw form: an escape that could decode to one, `\r`, `\f`, `\uXXXX`, or a raw
/// U+0085, U+2028, U+2029, makes the answer no).
fn is_one_line(raw: &[u8], escaped: bool, last: bool) -> bool {
    let body = match raw.strip_suffix(b"\\n") {
        // `\\n` is an escaped backslash and an `n`, not a newline.
        Some(body) if escaped && !ends_in_backslash_escape(body) => body,
        _ if last && !raw.is_empty() => raw,
        _ => return false,
    };
    !has_line_terminator(body)
}

/// Whether `raw` (escaped string content) ends in an unfinished run of backslashes, i.e. an odd
/// number of them.
fn ends_in_backslash_escape(raw: &[u8]) -> bool {
    raw.iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 1
}

fn has_line_terminator(raw: &[u8]) -> bool {
    let mut i = 0;
    loop {
        i = find_any(raw, i, [b'\\', 0xc2, 0xe2]);
        match raw.get(i) {
            None => return false,
            Some(b'\\') => {
                if matches!(raw.get(i + 1), Some(b'n' | b'r' | b'f' | b'u')) {
                    return true;
                }
                i += 2;
            }
            Some(0xc2) if raw.get(i + 1) == Some(&0x85) => return true,
            Some(0xe2)
                if raw.get(i + 1) == Some(&0x80) && matches!(raw.get(i + 2), Some(0xa8 | 0xa9)) =>
            {
                return true;
            }
            Some(_) => i += 1,
        }
    }
}

/// The index of the first byte at or after `pos` equal to one of `needles`, or the end.
fn find_any(bytes: &[u8], mut pos: usize, needles: [u8; 3]) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of the x86_64 baseline, and every load reads 16 bytes that lie
        // inside `bytes` (checked by the loop condition); unaligned loads are allowed.
        unsafe {
            let [a, b, c] = needles.map(|n| _mm_set1_epi8(n as i8));
            while pos + 16 <= bytes.len() {
                let block = _mm_loadu_si128(bytes.as_ptr().add(pos).cast());
                let hits = _mm_or_si128(
                    _mm_or_si128(_mm_cmpeq_epi8(block, a), _mm_cmpeq_epi8(block, b)),
                    _mm_cmpeq_epi8(block, c),
                );
                let mask = _mm_movemask_epi8(hits);
                if mask != 0 {
                    return pos + mask.trailing_zeros() as usize;
                }
                pos += 16;
            }
        }
    }
    while let Some(&b) = bytes.get(pos) {
        if needles.contains(&b) {
            break;
        }
        pos += 1;
    }
    pos
}

/// The index of the first byte at or after `pos` that `utf8_escaped` must look at (a control
/// byte, `"`, `\\`, or 0xED, which may begin a surrogate), or the end.
fn skip_unescaped(bytes: &[u8], mut pos: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        pos = skip_unescaped_sse2(bytes, pos);
    }
    while let Some(&b) = bytes.get(pos) {
        if b < 0x20 || b == b'"' || b == b'\\' || b == 0xed {
            break;
        }
        pos += 1;
    }
    pos
}

/// Skips whole 16-byte blocks without such bytes; the caller finishes byte by byte.
#[cfg(target_arch = "x86_64")]
fn skip_unescaped_sse2(bytes: &[u8], mut pos: usize) -> usize {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86_64 baseline, and every load reads 16 bytes that lie
    // inside `bytes` (checked by the loop condition); unaligned loads are allowed.
    unsafe {
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        let surrogate_lead = _mm_set1_epi8(0xed_u8 as i8);
        let last_control = _mm_set1_epi8(0x1f);
        while pos + 16 <= bytes.len() {
            let block = _mm_loadu_si128(bytes.as_ptr().add(pos).cast());
            let is_control = _mm_cmpeq_epi8(_mm_max_epu8(block, last_control), last_control);
            let special = _mm_or_si128(
                _mm_or_si128(
                    _mm_cmpeq_epi8(block, quote),
                    _mm_cmpeq_epi8(block, backslash),
                ),
                _mm_or_si128(is_control, _mm_cmpeq_epi8(block, surrogate_lead)),
            );
            let mask = _mm_movemask_epi8(special);
            if mask != 0 {
                return pos + mask.trailing_zeros() as usize;
            }
            pos += 16;
        }
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    const NB4: WriteOptions = WriteOptions {
        indent: 1,
        sort_keys: true,
        ensure_ascii: false,
    };

    fn dumps(json: &str, options: WriteOptions) -> String {
        String::from_utf8(write_document(&parse(json).unwrap(), options)).unwrap()
    }

    #[test]
    fn layout_matches_json_dumps_indent_1() {
        let out = dumps(
            r#"{"b": [1, {}], "a": [], "c": {"y": null, "x": true}}"#,
            NB4,
        );
        let expected = "{\n \"a\": [],\n \"b\": [\n  1,\n  {}\n ],\n \"c\": {\n  \"x\": true,\n  \"y\": null\n }\n}\n";
        assert_eq!(out, expected);
    }

    #[test]
    fn escapes_like_python() {
        let out = dumps(
            r#""\u001b[0m \u0000 \u000b \u007f é \u2028 \" \\ \/ \b\f\n\r\t""#,
            NB4,
        );
        assert_eq!(
            out,
            "\"\\u001b[0m \\u0000 \\u000b \u{7f} é \u{2028} \\\" \\\\ / \\b\\f\\n\\r\\t\"\n"
        );
        let ascii = WriteOptions {
            ensure_ascii: true,
            ..NB4
        };
        assert_eq!(
            dumps(r#""é😀\u007f\ud800""#, ascii),
            "\"\\u00e9\\ud83d\\ude00\\u007f\\ud800\"\n"
        );
        assert_eq!(dumps(r#""a\ud800b""#, NB4), "\"a\\ud800b\"\n");
    }
}
