//! A notebook as the scanner sees it: the decoded strings it holds (cell sources, outputs,
//! tracebacks, widget state), each a `Unit` of text that knows where its bytes sit in the file,
//! so a key hidden behind `\"` escapes is found and still reported at its physical line, with a
//! locator people can read (`cell 4, output 2 (stream stdout)`).

use std::borrow::Cow;

use crate::json::{self, Text, Value};

/// A piece of a unit's decoded text and where its raw form sits in the file.
pub struct Segment<'a> {
    pub decoded_start: usize,
    pub raw: &'a [u8],
    pub escaped: bool,
}

/// One decoded text to scan: a string, or a list of strings joined (a cell source, a stream).
pub struct Unit<'a, 'v> {
    pub text: Cow<'a, [u8]>,
    pub segments: Vec<Segment<'a>>,
    /// Where the text sits in the notebook (empty for plain files); described only for findings.
    pub path: Vec<PathItem<'v>>,
    pub in_output: bool,
}

impl<'a> Unit<'a, '_> {
    /// A whole plain file as one unit.
    pub fn whole(content: &'a [u8]) -> Self {
        Unit {
            text: Cow::Borrowed(content),
            segments: vec![Segment {
                decoded_start: 0,
                raw: content,
                escaped: false,
            }],
            path: Vec::new(),
            in_output: false,
        }
    }

    /// The byte offset in `file` of decoded offset `offset`.
    pub fn file_offset(&self, file: &[u8], offset: usize) -> usize {
        let index = self
            .segments
            .partition_point(|s| s.decoded_start <= offset)
            .saturating_sub(1);
        let Some(segment) = self.segments.get(index) else {
            return 0;
        };
        let base = (segment.raw.as_ptr() as usize).saturating_sub(file.as_ptr() as usize);
        let within = offset - segment.decoded_start;
        if !segment.escaped {
            return base + within.min(segment.raw.len());
        }
        base + json::raw_index(segment.raw, within)
    }
}

#[derive(Debug, Clone, Copy)]
pub enum PathItem<'v> {
    Key(&'v [u8]),
    Index(usize),
}

fn is_skipped_key(key: &[u8]) -> bool {
    key.starts_with(b"image/")
        || key == b"application/vnd.jupyter.widget-view+json"
        || key == b"model_id"
}

/// No credential fits in fewer bytes than this, so shorter strings are not scanned.
const SHORTEST_SECRET: usize = 8;

/// Every text of a parsed notebook worth scanning.
pub fn units<'a, 'v>(root: &'v Value<'a>) -> Vec<Unit<'a, 'v>> {
    let mut out = Vec::new();
    collect_units(root, &mut Vec::new(), &mut out);
    out
}

fn collect_units<'a, 'v>(
    value: &'v Value<'a>,
    path: &mut Vec<PathItem<'v>>,
    out: &mut Vec<Unit<'a, 'v>>,
) {
    match value {
        Value::Object(object) => {
            for (key, child) in &object.entries {
                if !is_skipped_key(key) {
                    path.push(PathItem::Key(key));
                    collect_units(child, path, out);
                    path.pop();
                }
            }
        }
        Value::Array(items) if items.iter().all(|i| matches!(i, Value::String(_))) => {
            let texts: Vec<&Text<'a>> = items
                .iter()
                .filter_map(|i| match i {
                    Value::String(t) => Some(t),
                    _ => None,
                })
                .collect();
            if let Some(unit) = make_unit(path, &texts) {
                out.push(unit);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                path.push(PathItem::Index(index));
                collect_units(child, path, out);
                path.pop();
            }
        }
        Value::String(text) => {
            if let Some(unit) = make_unit(path, &[text]) {
                out.push(unit);
            }
        }
        _ => {}
    }
}

/// One text from string pieces; pieces that do not end a line get a `\n` between them. A
/// single unescaped string is scanned in place, without a copy.
fn make_unit<'a, 'v>(path: &[PathItem<'v>], texts: &[&Text<'a>]) -> Option<Unit<'a, 'v>> {
    let raw_len: usize = texts.iter().map(|t| raw_of(t).0.len()).sum();
    if raw_len < SHORTEST_SECRET {
        return None;
    }
    let in_output = path
        .iter()
        .any(|p| matches!(p, PathItem::Key(k) if *k == b"outputs"));
    let mut unit = Unit {
        text: Cow::Borrowed(&[]),
        segments: Vec::with_capacity(texts.len()),
        path: path.to_vec(),
        in_output,
    };
    if let [Text::Plain(raw)] = texts {
        unit.text = Cow::Borrowed(raw);
        unit.segments.push(Segment {
            decoded_start: 0,
            raw,
            escaped: false,
        });
        return Some(unit);
    }
    let mut joined = Vec::with_capacity(raw_len + texts.len());
    for text in texts {
        let (raw, escaped) = raw_of(text);
        unit.segments.push(Segment {
            decoded_start: joined.len(),
            raw,
            escaped,
        });
        joined.extend_from_slice(&text.decoded());
        if !joined.ends_with(b"\n") {
            joined.push(b'\n');
        }
    }
    unit.text = Cow::Owned(joined);
    Some(unit)
}

fn raw_of<'a>(text: &Text<'a>) -> (&'a [u8], bool) {
    match text {
        Text::Plain(raw) => (raw, false),
        Text::Escaped(raw) => (raw, true),
        Text::Owned(_) => (&[], false),
    }
}

/// Describes a notebook path for people: `cell 4, output 2 (stream stdout)`.
pub fn locator(root: &Value, path: &[PathItem]) -> String {
    let key = |i: usize| match path.get(i) {
        Some(PathItem::Key(k)) => Some(String::from_utf8_lossy(k).into_owned()),
        _ => None,
    };
    let index = |i: usize| match path.get(i) {
        Some(PathItem::Index(n)) => Some(*n),
        _ => None,
    };
    let Some(cells_at) = path
        .iter()
        .position(|p| matches!(p, PathItem::Key(k) if *k == b"cells"))
    else {
        return match (key(0).as_deref(), key(1).as_deref()) {
            (Some("metadata"), Some("widgets")) => "notebook metadata (widget state)".into(),
            (Some("metadata"), _) => "notebook metadata".into(),
            _ => "notebook".into(),
        };
    };
    let mut text = format!("cell {}", index(cells_at + 1).unwrap_or(0) + 1);
    match key(cells_at + 2).as_deref() {
        Some("outputs") => {
            let output = index(cells_at + 3).unwrap_or(0);
            let node = lookup(root, &path[..(cells_at + 4).min(path.len())]);
            let field = |name: &str| {
                let value = node?.as_object()?.get(name)?.as_text()?;
                Some(String::from_utf8_lossy(&value).into_owned())
            };
            let output_type = field("output_type").unwrap_or_else(|| "output".into());
            let detail = match output_type.as_str() {
                "stream" => field("name"),
                "error" => key(cells_at + 4),
                _ => key(cells_at + 5),
            };
            let detail = detail.map(|d| format!(" {d}")).unwrap_or_default();
            text.push_str(&format!(", output {} ({output_type}{detail})", output + 1));
        }
        Some(other) => text.push_str(&format!(" {other}")),
        None => {}
    }
    text
}

fn lookup<'v, 'a>(root: &'v Value<'a>, path: &[PathItem]) -> Option<&'v Value<'a>> {
    path.iter().try_fold(root, |node, item| match item {
        PathItem::Key(k) => node.as_object()?.get(&String::from_utf8_lossy(k)),
        PathItem::Index(i) => node.as_array()?.get(*i),
    })
}
