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
            Value::Lines { text, keep_ends } => self.lines(&text.decoded(), *keep_ends, level),
            Value::Array(items) => self.array(items, level),
            Value::StringList(list) => {
                let mut items = list.items();
                self.sequence(b'[', b']', list.len(), level, |w, _| {
                    if let Some(item) = items.next() {
                        w.text(&item);
                    }
                });
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

    fn lines(&mut self, text: &[u8], keep_ends: bool, level: usize) {
        let lines = split_lines(text, keep_ends);
        self.sequence(b'[', b']', lines.len(), level, |w, i| w.string(lines[i]));
    }

    fn object(&mut self, object: &Object, level: usize) {
        let mut entries: Vec<_> = object.entries.iter().collect();
        if self.options.sort_keys {
            entries.sort_by(|a, b| a.0.cmp(&b.0));
        }
        self.sequence(b'{', b'}', entries.len(), level, |w, i| {
            let (key, value) = entries[i];
            w.string(key);
            w.out.extend_from_slice(b": ");
            w.value(value, level + 1);
        });
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
            let b = text[i];
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
