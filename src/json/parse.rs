//! A JSON parser with the acceptance rules of Python's `json.loads` (strict mode).
//!
//! It borrows every string without escapes straight from the input, so a notebook whose
//! megabytes of base64 images are about to be dropped is validated but never copied.

use std::borrow::Cow;

use super::{Object, Text, Value, push_code_point};

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
    let mut parser = Parser {
        text: input,
        bytes: input.as_bytes(),
        pos: 0,
        depth: 0,
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
            let key = self.string()?;
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

    fn string(&mut self) -> Result<Text<'a>, ParseError> {
        self.pos += 1;
        let start = self.pos;
        self.pos = scan_plain(self.bytes, self.pos);
        match self.peek() {
            Some(b'"') => {
                self.pos += 1;
                Ok(Cow::Borrowed(&self.bytes[start..self.pos - 1]))
            }
            Some(b'\\') => {
                let mut owned = self.bytes[start..self.pos].to_vec();
                self.escaped_rest(&mut owned)?;
                Ok(Cow::Owned(owned))
            }
            Some(_) => Err(self.error("invalid control character in string")),
            None => Err(self.error("unterminated string")),
        }
    }

    fn escaped_rest(&mut self, out: &mut Vec<u8>) -> Result<(), ParseError> {
        loop {
            let run_start = self.pos;
            self.pos = scan_plain(self.bytes, self.pos);
            out.extend_from_slice(&self.bytes[run_start..self.pos]);
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => self.escape(out)?,
                Some(_) => return Err(self.error("invalid control character in string")),
                None => return Err(self.error("unterminated string")),
            }
        }
    }

    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), ParseError> {
        let simple = match self.bytes.get(self.pos + 1) {
            Some(b'"') => b'"',
            Some(b'\\') => b'\\',
            Some(b'/') => b'/',
            Some(b'b') => 0x08,
            Some(b'f') => 0x0c,
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(b'u') => return self.unicode_escape(out),
            _ => return Err(self.error("invalid escape")),
        };
        out.push(simple);
        self.pos += 2;
        Ok(())
    }

    /// `\uXXXX`, joining a surrogate pair as Python does and keeping a lone surrogate as-is.
    fn unicode_escape(&mut self, out: &mut Vec<u8>) -> Result<(), ParseError> {
        let first = self.hex4(self.pos + 2)?;
        self.pos += 6;
        if (0xd800..0xdc00).contains(&first) && self.bytes[self.pos..].starts_with(b"\\u") {
            if let Ok(second) = self.hex4(self.pos + 2) {
                if (0xdc00..0xe000).contains(&second) {
                    self.pos += 6;
                    push_code_point(out, 0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00));
                    return Ok(());
                }
            }
        }
        push_code_point(out, first);
        Ok(())
    }

    fn hex4(&self, at: usize) -> Result<u32, ParseError> {
        let digits = self
            .bytes
            .get(at..at + 4)
            .filter(|d| d.iter().all(u8::is_ascii_hexdigit))
            .ok_or_else(|| self.error("invalid \\uXXXX escape"))?;
        let text = std::str::from_utf8(digits).map_err(|_| self.error("invalid \\uXXXX escape"))?;
        u32::from_str_radix(text, 16).map_err(|_| self.error("invalid \\uXXXX escape"))
    }
}

/// Python keeps the first position of a repeated key and the last value.
fn insert_last_wins<'a>(object: &mut Object<'a>, key: Text<'a>, value: Value<'a>) {
    if let Some(slot) = object.entries.iter_mut().find(|(k, _)| *k == key) {
        slot.1 = value;
    } else {
        object.entries.push((key, value));
    }
}

/// Returns the index of the first `"`, `\` or control byte at or after `pos` (or the end).
fn scan_plain(bytes: &[u8], mut pos: usize) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = bytes.get(pos..pos + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let quote = word ^ (LO * u64::from(b'"'));
        let backslash = word ^ (LO * u64::from(b'\\'));
        // A zero byte in `quote`/`backslash`, or a byte below 0x20 in `word`, sets its high bit.
        let special = (quote.wrapping_sub(LO) & !quote)
            | (backslash.wrapping_sub(LO) & !backslash)
            | (word.wrapping_sub(LO * 0x20) & !word);
        if special & HI != 0 {
            break;
        }
        pos += 8;
    }
    while let Some(&b) = bytes.get(pos) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        pos += 1;
    }
    pos
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &Value) -> Vec<u8> {
        v.as_text().unwrap().to_vec()
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
    fn plain_scan_stops_at_specials_in_long_runs() {
        let s = format!("\"{}\\n{}\"", "a".repeat(37), "b".repeat(20));
        assert_eq!(text(&parse(&s).unwrap()).len(), 58);
        let ctrl = format!("\"{}\u{1}\"", "a".repeat(17));
        assert!(parse(&ctrl).is_err());
    }
}
