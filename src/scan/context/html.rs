//! Tables: a pandas DataFrame rendered as HTML (notebook `text/html` outputs) or a Markdown
//! pipe table puts a credential's name in one cell and its value in the next, or the name in
//! the column header. Each row becomes derived lines `left cell = right cell` and
//! `column header = cell`.

use std::sync::OnceLock;

use regex::bytes::Regex;

use super::{Derived, Place, is_candidate};

/// A cell's content and where it sits in the source.
struct Cell {
    start: usize,
    text: Vec<u8>,
}

fn patterns() -> &'static (Regex, Regex, Regex) {
    static PATTERNS: OnceLock<(Regex, Regex, Regex)> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let build = |p: &str| {
            regex::bytes::RegexBuilder::new(p)
                .unicode(false)
                .build()
                .expect("the table patterns are valid")
        };
        (
            build(r"(?is)<tr\b[^>]*>(.*?)</tr\s*>"),
            build(r"(?is)<(t[dh])\b[^>]*>(.*?)</t[dh]\s*>"),
            build(r"(?s)<[^>]*>"),
        )
    })
}

pub fn derive<'p>(place: &Place<'p>, text: &[u8], out: &mut Vec<Derived<'p>>) {
    // One vectorised literal search decides whether there is a table at all (most texts).
    static TABLE: OnceLock<Regex> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        regex::bytes::RegexBuilder::new(r"<t[dhDH]|<T[dhDH]|\n\|")
            .unicode(false)
            .build()
            .expect("the table probe is valid")
    });
    let mut html = false;
    let mut pipes = text.starts_with(b"|");
    for found in table.find_iter(text) {
        match found.as_bytes()[0] {
            b'<' => html = true,
            _ => pipes = true,
        }
        if html && pipes {
            break;
        }
    }
    let mut derived = Derived::new(place, None);
    if html {
        html_rows(text, &mut derived);
    }
    if pipes {
        pipe_rows(text, &mut derived);
    }
    out.push(derived);
}

fn html_rows(text: &[u8], out: &mut Derived<'_>) {
    let (row, cell, tag) = patterns();
    let mut header: Vec<Vec<u8>> = Vec::new();
    for row_match in row.captures_iter(text) {
        let Some(body) = row_match.get(1) else {
            continue;
        };
        let mut cells = Vec::new();
        let mut all_headers = true;
        for cell_match in cell.captures_iter(body.as_bytes()) {
            let (Some(kind), Some(content)) = (cell_match.get(1), cell_match.get(2)) else {
                continue;
            };
            all_headers &= kind.as_bytes().eq_ignore_ascii_case(b"th");
            let raw = content.as_bytes();
            // Inner markup (`<code>`, `<b>`) removed; the value's place is its first text byte.
            let plain = tag.replace_all(raw, &b""[..]);
            let trimmed = plain.trim_ascii();
            let lead = raw.iter().take_while(|b| b.is_ascii_whitespace()).count();
            cells.push(Cell {
                start: body.start() + content.start() + lead,
                text: trimmed.to_vec(),
            });
        }
        if all_headers && !cells.is_empty() {
            header = cells.iter().map(|c| c.text.clone()).collect();
            continue;
        }
        pairs(&cells, &header, out);
    }
}

fn pipe_rows(text: &[u8], out: &mut Derived<'_>) {
    let mut header: Vec<Vec<u8>> = Vec::new();
    let mut previous: Option<Vec<Cell>> = None;
    let mut offset = 0;
    for line in text.split_inclusive(|&b| b == b'\n') {
        let line_start = offset;
        offset += line.len();
        let content = line.trim_ascii_end();
        if !content.starts_with(b"|") {
            previous = None;
            header.clear();
            continue;
        }
        let mut cells = Vec::new();
        let mut at = 1;
        for part in content[1..].split(|&b| b == b'|') {
            let lead = part.iter().take_while(|b| b.is_ascii_whitespace()).count();
            cells.push(Cell {
                start: line_start + at + lead,
                text: part.trim_ascii().to_vec(),
            });
            at += part.len() + 1;
        }
        let separator = cells
            .iter()
            .all(|c| c.text.iter().all(|b| matches!(b, b'-' | b':' | b' ')));
        if separator {
            if let Some(first) = previous.take() {
                header = first.into_iter().map(|c| c.text).collect();
            }
            continue;
        }
        pairs(&cells, &header, out);
        previous = Some(cells);
    }
}

/// `left = right` for neighbouring cells, `header = cell` for each column.
fn pairs(cells: &[Cell], header: &[Vec<u8>], out: &mut Derived<'_>) {
    for (index, cell) in cells.iter().enumerate() {
        if !is_candidate(&cell.text) {
            continue;
        }
        let end = cell.start + cell.text.len();
        if let Some(left) = index.checked_sub(1).map(|i| &cells[i].text) {
            if !left.is_empty() && left.len() <= 100 {
                out.push_pair(left, &cell.text, cell.start, end);
            }
        }
        if let Some(name) = header
            .get(index)
            .filter(|h| !h.is_empty() && h.len() <= 100)
        {
            out.push_pair(name, &cell.text, cell.start, end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbouring_cells_and_headers_pair_up() {
        let text = b"<table>\n<thead><tr><th></th><th>name</th><th>api_key</th></tr></thead>\n<tr>\n  <th>0</th>\n  <td>WANDB_API_KEY</td>\n  <td>3f9a1c2b4d5e6f70</td>\n</tr>\n</table>";
        let mut out = Vec::new();
        let place = Place {
            path: "x",
            keys: &[],
            worth: &crate::scan::context::tests::all,
        };
        derive(&place, text, &mut out);
        let derived = String::from_utf8_lossy(&out[0].text).into_owned();
        assert!(
            derived.contains("WANDB_API_KEY = 3f9a1c2b4d5e6f70\n"),
            "{derived}"
        );
        assert!(
            derived.contains("api_key = 3f9a1c2b4d5e6f70\n"),
            "{derived}"
        );
        let at = out[0]
            .text
            .windows(16)
            .position(|w| w == b"3f9a1c2b4d5e6f70")
            .unwrap();
        assert_eq!(&text[out[0].source_range(at, at + 16)], b"3f9a1c2b4d5e6f70");
    }

    #[test]
    fn pipe_tables_pair_up() {
        let text = b"| name | value |\n|---|---|\n| COHERE_API_KEY | s0HqtO93L7Q5uUaVcojs |\n";
        let mut out = Vec::new();
        let place = Place {
            path: "x",
            keys: &[],
            worth: &crate::scan::context::tests::all,
        };
        derive(&place, text, &mut out);
        let derived = String::from_utf8_lossy(&out[0].text).into_owned();
        assert!(
            derived.contains("COHERE_API_KEY = s0HqtO93L7Q5uUaVcojs\n"),
            "{derived}"
        );
        assert!(
            derived.contains("value = s0HqtO93L7Q5uUaVcojs\n"),
            "{derived}"
        );
    }
}
