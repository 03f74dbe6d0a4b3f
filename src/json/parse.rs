//! A JSON parser with the acceptance rules of Python's `json.loads` (strict mode).
//!
//! It borrows every string without escapes straight from the input, so a notebook whose
//! megabytes of base64 images are about to be dropped is validated but never copied.

use std::borrow::Cow;

use super::text::{StringList, hex4};
use super::{Key, Object, Text, Value};

/// Python's C scanner gives up near 1,000 levels (its recursion limit); so do we, without a stack overflow.
const MAX_DEPTH: usize = 1000;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} at line {line} column {column}")]
pub struct ParseError {
    pub message: &'static str,
    pub line: usize,
    pub column: usize,
}

/// Parses one JSON document (surrounding whitespace allowed, nothing else).
pub fn parse(input: &str) -> Result<Value<'_>, ParseError> {
    parse_with(input, false)
}

/// As `parse`, but a non-empty array of strings becomes one `Value::StringList` over its raw
/// text instead of a node per string: what a notebook's lines cost to hold drops from several
/// times their size to nothing. For readers that only rewrite the document (stripping).
pub fn parse_compact(input: &str) -> Result<Value<'_>, ParseError> {
    parse_with(input, true)
}

fn parse_with(input: &str, compact: bool) -> Result<Value<'_>, ParseError> {
    let mut parser = Parser {
        text: input,
        bytes: input.as_bytes(),
        pos: 0,
        depth: 0,
        compact,
    };
    parser.skip_whitespace();
    let value = parser.value()?;
    parser.skip_whitespace();
    if parser.pos != parser.bytes.len() {
        return Err(parser.error("extra data after the document"));
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    compact: bool,
}

impl<'a> Parser<'a> {
    fn error(&self, message: &'static str) -> ParseError {
        let before = &self.bytes[..self.pos.min(self.bytes.len())];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        let column = self.text[line_start..self.pos.min(self.text.len())]
            .chars()
            .count()
            + 1;
        ParseError {
            message,
            line,
            column,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat_literal(&mut self, literal: &str) -> bool {
        if self.bytes[self.pos..].starts_with(literal.as_bytes()) {
            self.pos += literal.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Result<Value<'a>, ParseError> {
        match self.peek() {
            Some(b'{') => self.nested(Self::object),
            Some(b'[') => self.nested(Self::array),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b'-' | b'0'..=b'9' | b'N' | b'I') => self.number(),
            Some(b't') if self.eat_literal("true") => Ok(Value::Bool(true)),
            Some(b'f') if self.eat_literal("false") => Ok(Value::Bool(false)),
            Some(b'n') if self.eat_literal("null") => Ok(Value::Null),
            None => Err(self.error("unexpected end of input, expecting a value")),
            _ => Err(self.error("expecting a value")),
        }
    }

    fn nested(
        &mut self,
        parse: fn(&mut Self) -> Result<Value<'a>, ParseError>,
    ) -> Result<Value<'a>, ParseError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.error("nesting too deep"));
        }
        self.depth += 1;
        let value = parse(self);
        self.depth -= 1;
        value
    }

    fn array(&mut self) -> Result<Value<'a>, ParseError> {
        if self.compact {
            if let Some(list) = self.string_list()? {
                return Ok(list);
            }
        }
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.value()?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.error("expecting ',' or ']'")),
            }
        }
    }

    /// An array of strings only, as one raw slice; `None` (and the position unchanged) when an
    /// item is not a string or the array is empty, so the caller parses it item by item.
    fn string_list(&mut self) -> Result<Option<Value<'a>>, ParseError> {
        let open = self.pos;
        self.pos += 1;
        let mut len = 0;
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                self.pos = open;
                return Ok(None);
            }
            self.string()?;
            len += 1;
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    let raw = &self.bytes[open + 1..self.pos - 1];
                    return Ok(Some(Value::StringList(StringList::new(raw, len))));
                }
                _ => return Err(self.error("expecting ',' or ']'")),
            }
        }
    }

    fn object(&mut self) -> Result<Value<'a>, ParseError> {
        self.pos += 1;
        let mut object = Object::default();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(object));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error("expecting a property name in double quotes"));
            }
            let key = match self.string()? {
                Text::Plain(bytes) => Key::Borrowed(bytes),
                other => Cow::Owned(other.into_decoded().into_owned()),
            };
            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error("expecting ':' delimiter"));
            }
            self.pos += 1;
            self.skip_whitespace();
            let value = self.value()?;
            insert_last_wins(&mut object, key, value);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(object));
                }
                _ => return Err(self.error("expecting ',' or '}'")),
            }
        }
    }

    /// Python's NUMBER_RE `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`, plus `NaN`, `Infinity`, `-Infinity`.
    fn number(&mut self) -> Result<Value<'a>, ParseError> {
        let start = self.pos;
        for special in ["NaN", "Infinity", "-Infinity"] {
            if self.eat_literal(special) {
                return Ok(Value::Number(&self.text[start..self.pos]));
            }
        }
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.skip_digits(),
            _ => return Err(self.error("expecting a value")),
        }
        if self.peek() == Some(b'.') && self.digit_at(self.pos + 1) {
            self.pos += 1;
            self.skip_digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(self.bytes.get(self.pos + 1), Some(b'+' | b'-')));
            if self.digit_at(self.pos + 1 + sign) {
                self.pos += 1 + sign;
                self.skip_digits();
            }
        }
        Ok(Value::Number(&self.text[start..self.pos]))
    }

    fn digit_at(&self, index: usize) -> bool {
        self.bytes.get(index).is_some_and(u8::is_ascii_digit)
    }

    fn skip_digits(&mut self) {
        while self.digit_at(self.pos) {
            self.pos += 1;
        }
    }

    /// Finds the closing quote, validating escapes on the way; nothing is decoded or copied.
    fn string(&mut self) -> Result<Text<'a>, ParseError> {
        self.pos += 1;
        let start = self.pos;
        let mut escaped = false;
        loop {
            self.pos = scan_plain(self.bytes, self.pos);
            match self.peek() {
                Some(b'"') => break,
                Some(b'\\') => {
                    self.validate_escape()?;
                    escaped = true;
                }
                Some(_) => return Err(self.error("invalid control character in string")),
                None => return Err(self.error("unterminated string")),
            }
        }
        let raw = &self.bytes[start..self.pos];
        self.pos += 1;
        Ok(if escaped {
            Text::Escaped(raw)
        } else {
            Text::Plain(raw)
        })
    }

    fn validate_escape(&mut self) -> Result<(), ParseError> {
        match self.bytes.get(self.pos + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.pos += 2,
            Some(b'u') if hex4(self.bytes.get(self.pos + 2..self.pos + 6)) != u32::MAX => {
                self.pos += 6
            }
            Some(b'u') => return Err(self.error("invalid \\uXXXX escape")),
            _ => return Err(self.error("invalid escape")),
        }
        Ok(())
    }
}

/// Python keeps the first position of a repeated key and the last value.
fn insert_last_wins<'a>(object: &mut Object<'a>, key: Key<'a>, value: Value<'a>) {
    if let Some(slot) = object.entries.iter_mut().find(|(k, _)| *k == key) {
        slot.1 = value;
    } else {
        object.entries.push((key, value));
    }
}

/// Returns the index of the first `"`, `\\` or control byte at or after `pos` (or the end).
/// This loop is where parsing spends its time (megabytes of base64 images), hence the SIMD.
pub(super) fn scan_plain(bytes: &[u8], mut pos: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        pos = scan_plain_sse2(bytes, pos);
    }
    while let Some(&b) = bytes.get(pos) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        pos += 1;
    }
    pos
}

/// Skips whole 16-byte blocks free of special bytes; the caller finishes byte by byte.
#[cfg(target_arch = "x86_64")]
fn scan_plain_sse2(bytes: &[u8], mut pos: usize) -> usize {
    use std::arch::x86_64::*;
    // SAFETY: SSE2 is part of the x86_64 baseline, and every load reads 16 bytes that lie
    // inside `bytes` (checked by the loop condition); unaligned loads are allowed.
    unsafe {
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        let last_control = _mm_set1_epi8(0x1f);
        while pos + 16 <= bytes.len() {
            let block = _mm_loadu_si128(bytes.as_ptr().add(pos).cast());
            let is_control = _mm_cmpeq_epi8(_mm_max_epu8(block, last_control), last_control);
            let special = _mm_or_si128(
                _mm_or_si128(
                    _mm_cmpeq_epi8(block, quote),
                    _mm_cmpeq_epi8(block, backslash),
                ),
                is_control,
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
    use super::*;

    fn text(v: &Value) -> Vec<u8> {
        v.as_text().unwrap().into_owned()
    }

    #[test]
    fn accepts_python_extensions() {
        let v =
            parse(r#"[NaN, Infinity, -Infinity, 123456789012345678901234567890, 1E5]"#).unwrap();
        let raws: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|x| match x {
                Value::Number(r) => *r,
                _ => "",
            })
            .collect();
        assert_eq!(
            raws,
            [
                "NaN",
                "Infinity",
                "-Infinity",
                "123456789012345678901234567890",
                "1E5"
            ]
        );
    }

    #[test]
    fn rejects_what_python_rejects() {
        for bad in [
            "",
            " ",
            "{",
            "[1,]",
            "01",
            "1.",
            "\"a\tb\"",
            "{\"a\" 1}",
            "[1] x",
            "\u{feff}{}",
            "tru",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn decodes_escapes_and_keeps_lone_surrogates() {
        let v = parse(r#""a\/\u00e9\ud83d\ude00\ud800x""#).unwrap();
        let mut expected = "a/é😀".as_bytes().to_vec();
        expected.extend_from_slice(&[0xed, 0xa0, 0x80, b'x']);
        assert_eq!(text(&v), expected);
    }

    #[test]
    fn duplicate_keys_keep_first_position_last_value() {
        let v = parse(r#"{"a": 1, "b": 2, "a": 3}"#).unwrap();
        let o = v.as_object().unwrap();
        assert_eq!(o.entries.len(), 2);
        assert_eq!(o.entries[0].0.as_ref(), b"a");
        assert_eq!(o.get("a"), Some(&Value::Number("3")));
    }

    #[test]
    fn depth_is_limited_without_overflow() {
        let ok = format!("{}{}", "[".repeat(999), "]".repeat(999));
        assert!(parse(&ok).is_ok());
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        assert_eq!(parse(&deep).unwrap_err().message, "nesting too deep");
    }

    #[test]
    fn error_positions_are_one_based() {
        let err = parse("{\n  \"a\": x}").unwrap_err();
        assert_eq!((err.line, err.column), (2, 8));
    }

    #[test]
    fn compact_lists_read_and_write_like_item_by_item() {
        let docs = [
            r#"{"a": ["x\n", "y \"q\" \u00e9\ud83d\ude00", "", "z"], "b": [1, "s"], "c": [], "d": [["p"], "q"]}"#,
            r#"["only", "strings"]"#,
            r#"[ "spaced" ,  "out" ]"#,
        ];
        let options = super::super::WriteOptions {
            indent: 1,
            sort_keys: true,
            ensure_ascii: false,
        };
        for doc in docs {
            let full = parse(doc).unwrap();
            let compact = parse_compact(doc).unwrap();
            assert_eq!(
                super::super::write_document(&full, options),
                super::super::write_document(&compact, options),
                "{doc}"
            );
        }
        let Value::StringList(list) = parse_compact(r#"["a\"b", "c"]"#).unwrap() else {
            panic!("not a compact list");
        };
        let items: Vec<Vec<u8>> = list.items().map(|t| t.decoded().into_owned()).collect();
        assert_eq!(items, [b"a\"b".to_vec(), b"c".to_vec()]);
        let joined = Text::Joined {
            list,
            separator: b"\n",
        };
        assert_eq!(joined.decoded().as_ref(), b"a\"b\nc");
        assert_eq!(joined.char_count_within(5), Some(5));
        assert_eq!(joined.char_count_within(4), None);
        assert!(parse_compact(r#"["a" "b"]"#).is_err());
        assert!(parse_compact(r#"["a", ]"#).is_err());
    }

    #[test]
    fn plain_scan_stops_at_specials_in_long_runs() {
        let s = format!("\"{}\\n{}\"", "a".repeat(37), "b".repeat(20));
        assert_eq!(text(&parse(&s).unwrap()).len(), 58);
        for at in 0..40 {
            let ctrl = format!("\"{}\u{1}{}\"", "a".repeat(at), "b".repeat(40 - at));
            assert!(parse(&ctrl).is_err(), "control byte at {at}");
            let quote = format!("\"{}\"{}", "a".repeat(at), " ".repeat(40 - at));
            assert_eq!(text(&parse(&quote).unwrap()).len(), at);
        }
        let high = format!("\"{}\"", "é€😀\u{7f}".repeat(9));
        assert_eq!(
            text(&parse(&high).unwrap()),
            high.trim_matches('"').as_bytes()
        );
    }
}
