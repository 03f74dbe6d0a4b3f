//! A JSON document model that round-trips the way Python's `json` module does.
//!
//! nbstripout reads notebooks with `json.loads` and writes them with `json.dumps`, and byte
//! identity with it needs two things serde_json cannot do: read and write `NaN`/`Infinity`
//! (Python emits them, serde_json rejects them), and keep a lone surrogate escape such as
//! `\ud800` (serde_json refuses it; Python keeps it in the string). The rest of Python's view
//! (integers of any size, floats printed with `repr`, duplicate keys where the last value wins at
//! the first position, insertion order) follows from keeping number literals and key order as
//! written. The other reason for a model of our own is speed: strings stay borrowed and
//! undecoded (WTF-8 once decoded), so a notebook's megabytes of base64 images that are about to
//! be dropped are validated but never copied.

mod parse;
mod pyrepr;
mod text;
mod write;

use std::borrow::Cow;

pub use parse::{ParseError, parse, parse_compact};
pub use pyrepr::{NumberKind, number_kind, python_str_len};
pub use text::{Piece, RawCursor, StringList, Text, raw_index};
pub use write::{WriteOptions, write_document, write_document_to};

/// A decoded object key (keys are short, so they are decoded while parsing).
pub type Key<'a> = Cow<'a, [u8]>;

/// One JSON value. `Number` keeps the literal as written (validated against Python's grammar).
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Number(&'a str),
    String(Text<'a>),
    Array(Vec<Value<'a>>),
    /// A non-empty array of strings, as one raw slice (`parse_compact` only).
    StringList(StringList<'a>),
    Object(Object<'a>),
    /// A string that the writer emits as a list of its lines (nbformat's `split_lines`).
    Lines {
        text: Text<'a>,
        keep_ends: bool,
    },
}

/// An object with its keys in insertion order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Object<'a> {
    pub entries: Vec<(Key<'a>, Value<'a>)>,
}

impl<'a> Object<'a> {
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_ref() == key.as_bytes())
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value<'a>> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k.as_ref() == key.as_bytes())
            .map(|(_, v)| v)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn remove(&mut self, key: &str) -> Option<Value<'a>> {
        let index = self
            .entries
            .iter()
            .position(|(k, _)| k.as_ref() == key.as_bytes())?;
        Some(self.entries.remove(index).1)
    }

    /// Replaces the value in place (keeping the key's position) or appends it, as a Python dict does.
    pub fn insert(&mut self, key: &'static str, value: Value<'a>) {
        match self.get_mut(key) {
            Some(slot) => *slot = value,
            None => self.entries.push((Cow::Borrowed(key.as_bytes()), value)),
        }
    }
}

impl<'a> Value<'a> {
    pub fn as_object(&self) -> Option<&Object<'a>> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut Object<'a>> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Value<'a>>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Value<'a>>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The decoded content of a string value.
    pub fn as_text(&self) -> Option<Cow<'_, [u8]>> {
        match self {
            Value::String(s) => Some(s.decoded()),
            _ => None,
        }
    }

    pub fn is_str(&self, expected: &str) -> bool {
        match self {
            Value::String(Text::Plain(s)) => *s == expected.as_bytes(),
            Value::String(s) => s.decoded().as_ref() == expected.as_bytes(),
            _ => false,
        }
    }

    /// Python's `bool(x)`.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Number(raw) => pyrepr::number_is_nonzero(raw),
            Value::String(s) => !s.is_empty(),
            Value::Lines { text, .. } => !text.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::StringList(list) => !list.is_empty(),
            Value::Object(o) => !o.entries.is_empty(),
        }
    }

    /// Python's `needle in container` for a string needle; `None` where Python raises `TypeError`.
    pub fn py_contains(&self, needle: &str) -> Option<bool> {
        match self {
            Value::String(s) => Some(contains_bytes(&s.decoded(), needle.as_bytes())),
            Value::Array(items) => Some(items.iter().any(|item| item.is_str(needle))),
            Value::StringList(list) => Some(
                list.items()
                    .any(|item| item.decoded().as_ref() == needle.as_bytes()),
            ),
            Value::Object(o) => Some(o.contains_key(needle)),
            _ => None,
        }
    }
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Decodes WTF-8 into code points (lone surrogates come out as their surrogate value).
pub fn code_points(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let b = *bytes.get(i)?;
        let (len, init) = match b {
            0x00..=0x7f => (1, u32::from(b)),
            0xc0..=0xdf => (2, u32::from(b & 0x1f)),
            0xe0..=0xef => (3, u32::from(b & 0x0f)),
            _ => (4, u32::from(b & 0x07)),
        };
        let end = (i + len).min(bytes.len());
        let cp = bytes[i + 1..end]
            .iter()
            .fold(init, |acc, &c| (acc << 6) | u32::from(c & 0x3f));
        i = end;
        Some(cp)
    })
}

/// Appends the WTF-8 encoding of a code point (surrogates included).
pub fn push_code_point(out: &mut Vec<u8>, cp: u32) {
    match cp {
        0..=0x7f => out.push(cp as u8),
        0x80..=0x7ff => out.extend_from_slice(&[0xc0 | (cp >> 6) as u8, 0x80 | (cp & 0x3f) as u8]),
        0x800..=0xffff => out.extend_from_slice(&[
            0xe0 | (cp >> 12) as u8,
            0x80 | ((cp >> 6) & 0x3f) as u8,
            0x80 | (cp & 0x3f) as u8,
        ]),
        _ => out.extend_from_slice(&[
            0xf0 | (cp >> 18) as u8,
            0x80 | ((cp >> 12) & 0x3f) as u8,
            0x80 | ((cp >> 6) & 0x3f) as u8,
            0x80 | (cp & 0x3f) as u8,
        ]),
    }
}

/// Python's `str.splitlines(keepends)`: splits on `\n`, `\r\n`, `\r`, `\v`, `\f`, `\x1c`–`\x1e`,
/// U+0085, U+2028 and U+2029.
pub fn split_lines(text: &[u8], keep_ends: bool) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < text.len() {
        let terminator_len = match text[i] {
            b'\r' if text.get(i + 1) == Some(&b'\n') => 2,
            b'\n' | b'\r' | 0x0b | 0x0c | 0x1c..=0x1e => 1,
            0xc2 if text.get(i + 1) == Some(&0x85) => 2,
            0xe2 if text.get(i + 1) == Some(&0x80)
                && matches!(text.get(i + 2), Some(0xa8 | 0xa9)) =>
            {
                3
            }
            _ => 0,
        };
        if terminator_len == 0 {
            i += 1;
            continue;
        }
        let end = if keep_ends { i + terminator_len } else { i };
        lines.push(&text[start..end]);
        i += terminator_len;
        start = i;
    }
    if start < text.len() {
        lines.push(&text[start..]);
    }
    lines
}

/// Python's `str.isspace()` for one code point.
pub fn is_python_space(cp: u32) -> bool {
    matches!(cp, 0x1c..=0x1f) || char::from_u32(cp).is_some_and(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitlines_matches_python_terminators() {
        let text = "a\nb\r\nc\rd\x0be\x0cf\x1cg\u{85}h\u{2028}i\u{2029}j";
        let lines = split_lines(text.as_bytes(), true);
        let expected = [
            "a\n",
            "b\r\n",
            "c\r",
            "d\x0b",
            "e\x0c",
            "f\x1c",
            "g\u{85}",
            "h\u{2028}",
            "i\u{2029}",
            "j",
        ];
        let got: Vec<&str> = lines
            .iter()
            .map(|l| std::str::from_utf8(l).unwrap())
            .collect();
        assert_eq!(got, expected);
        assert!(split_lines(b"", true).is_empty());
        assert_eq!(split_lines(b"x\n\ny", false), vec![&b"x"[..], b"", b"y"]);
    }

    #[test]
    fn python_space_includes_separators() {
        assert!(is_python_space(0x1c) && is_python_space(0x85) && is_python_space(0x3000));
        assert!(!is_python_space(u32::from(b'a')) && !is_python_space(0x200b));
    }
}
