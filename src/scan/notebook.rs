//! A notebook as the scanner sees it: the decoded strings it holds (cell sources, outputs,
//! tracebacks, widget state, and every object key), each a `Unit` of text that knows where its
//! bytes sit in the file, so a key hidden behind `\"` escapes is found and still reported at its
//! physical line, with a locator people can read (`cell 4 of 12, output 2 (stream stdout)`).
//!
//! Only the places the nbformat and widget schemas define as opaque are skipped: base64 image
//! payloads of outputs and attachments, and a widget view's `model_id`. A cell's source (and
//! any other multi-line field) split into a list is scanned as the one text Jupyter joins it
//! into, so a token split across two list items is still whole.

use std::borrow::Cow;

use crate::json::{RawCursor, Text, Value};

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
    /// A whole plain file as one unit (after `skip` leading bytes, a BOM).
    pub fn whole(content: &'a [u8], skip: usize) -> Self {
        let text = content.get(skip..).unwrap_or_default();
        Unit {
            text: Cow::Borrowed(text),
            segments: vec![Segment {
                decoded_start: 0,
                raw: text,
                escaped: false,
            }],
            path: Vec::new(),
            in_output: false,
        }
    }

    /// Places decoded offsets of this unit in `file`; offsets must come in increasing order.
    pub fn placer<'u>(&'u self, file: &'u [u8]) -> Placer<'u, 'a, 'u> {
        Placer {
            unit: self,
            file,
            segment: usize::MAX,
            cursor: RawCursor::new(&[]),
        }
    }
}

/// Maps a unit's decoded offsets to file offsets, walking each escaped segment once.
pub struct Placer<'u, 'a, 'v> {
    unit: &'u Unit<'a, 'v>,
    file: &'u [u8],
    segment: usize,
    cursor: RawCursor<'a>,
}

impl Placer<'_, '_, '_> {
    /// The byte offset in the file of decoded offset `offset`.
    pub fn file_offset(&mut self, offset: usize) -> usize {
        let segments = &self.unit.segments;
        let index = segments
            .partition_point(|s| s.decoded_start <= offset)
            .saturating_sub(1);
        let Some(segment) = segments.get(index) else {
            return 0;
        };
        let base = (segment.raw.as_ptr() as usize).saturating_sub(self.file.as_ptr() as usize);
        let within = offset - segment.decoded_start;
        if !segment.escaped {
            return base + within.min(segment.raw.len());
        }
        if index != self.segment {
            self.segment = index;
            self.cursor = RawCursor::new(segment.raw);
        }
        base + self.cursor.raw_offset(within)
    }
}

#[derive(Debug, Clone, Copy)]
pub enum PathItem<'v> {
    Key(&'v [u8]),
    Index(usize),
}

/// Whether the value under `key`, inside the object at `path`, is one of the opaque places the
/// schemas define: an image payload of an output or attachment, a widget view's model id.
fn is_opaque(path: &[PathItem], key: &[u8]) -> bool {
    let parent = |back: usize| match path.len().checked_sub(back).map(|i| path[i]) {
        Some(PathItem::Key(k)) => Some(k),
        _ => None,
    };
    let is_output = |at: usize| {
        matches!(
            path.len().checked_sub(at).map(|i| path[i]),
            Some(PathItem::Index(_))
        ) && parent(at + 1) == Some(b"outputs".as_slice())
    };
    let base64_image = key.starts_with(b"image/") && key != b"image/svg+xml";
    // v4 outputs keep images in a `data` bundle; attachments are bundles keyed by file name.
    if base64_image && parent(1) == Some(b"data".as_slice()) && is_output(2) {
        return true;
    }
    if base64_image && parent(2) == Some(b"attachments".as_slice()) {
        return true;
    }
    // v3 outputs keep them directly in the output object.
    if matches!(key, b"png" | b"jpeg" | b"gif") && is_output(1) {
        return true;
    }
    key == b"model_id" && parent(1) == Some(b"application/vnd.jupyter.widget-view+json".as_slice())
}

/// Fields nbformat stores as a list of lines and joins with nothing between them: a cell's
/// source, a stream's text, and the text-like values of mime bundles.
fn joins_without_separator(key: &[u8]) -> bool {
    matches!(key, b"source" | b"text" | b"input")
        || key.starts_with(b"text/")
        || key == b"application/javascript"
        || key == b"image/svg+xml"
}

/// No credential fits in fewer bytes than this, so shorter strings are not scanned.
const SHORTEST_SECRET: usize = 8;

/// Every text of a parsed notebook worth scanning; `file` is the notebook's bytes.
pub fn units<'a, 'v>(root: &'v Value<'a>, file: &'a [u8]) -> Vec<Unit<'a, 'v>> {
    let mut out = Vec::new();
    collect_units(root, file, &mut Vec::new(), &mut out);
    out
}

fn collect_units<'a, 'v>(
    value: &'v Value<'a>,
    file: &'a [u8],
    path: &mut Vec<PathItem<'v>>,
    out: &mut Vec<Unit<'a, 'v>>,
) {
    match value {
        Value::Object(object) => {
            let keys: Vec<Text<'a>> = object
                .entries
                .iter()
                .filter(|(key, _)| key.len() >= SHORTEST_SECRET)
                .map(|(key, _)| key_text(key))
                .collect();
            let key_refs: Vec<&Text<'a>> = keys.iter().collect();
            if let Some(unit) = make_unit(path, &key_refs, b"\n", file) {
                out.push(unit);
            }
            for (key, child) in &object.entries {
                if !is_opaque(path, key) {
                    path.push(PathItem::Key(key));
                    collect_units(child, file, path, out);
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
            let separator: &[u8] = match path.last() {
                Some(PathItem::Key(key)) if joins_without_separator(key) => b"",
                _ => b"\n",
            };
            if let Some(unit) = make_unit(path, &texts, separator, file) {
                out.push(unit);
            }
        }
        Value::Array(items) => {
            for (index, child) in items.iter().enumerate() {
                path.push(PathItem::Index(index));
                collect_units(child, file, path, out);
                path.pop();
            }
        }
        Value::String(text) => {
            if let Some(unit) = make_unit(path, &[text], b"", file) {
                out.push(unit);
            }
        }
        _ => {}
    }
}

/// A key as text: borrowed keys point into the file; a key that held escapes was decoded while
/// parsing, and is placed at the start of the file (its finding is still reported).
fn key_text<'a>(key: &Cow<'a, [u8]>) -> Text<'a> {
    match key {
        Cow::Borrowed(raw) => Text::Plain(raw),
        Cow::Owned(decoded) => Text::Owned(decoded.clone()),
    }
}

/// One text from string pieces joined by `separator`. A single unescaped string is scanned in
/// place, without a copy.
fn make_unit<'a, 'v>(
    path: &[PathItem<'v>],
    texts: &[&Text<'a>],
    separator: &[u8],
    file: &'a [u8],
) -> Option<Unit<'a, 'v>> {
    let raw_len: usize = texts.iter().map(|t| raw_of(t, file).0.len()).sum();
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
    let mut joined = Vec::with_capacity(raw_len + texts.len() * separator.len());
    for (i, text) in texts.iter().enumerate() {
        if i > 0 {
            joined.extend_from_slice(separator);
        }
        let (raw, escaped) = raw_of(text, file);
        unit.segments.push(Segment {
            decoded_start: joined.len(),
            raw,
            escaped,
        });
        joined.extend_from_slice(&text.decoded());
    }
    unit.text = Cow::Owned(joined);
    Some(unit)
}

/// The raw bytes of a text in the file, and whether they hold escapes. A text built by mlguard
/// (a decoded key) has no raw form: it is anchored at the file's start, with its decoded length.
fn raw_of<'a>(text: &Text<'a>, file: &'a [u8]) -> (&'a [u8], bool) {
    match text {
        Text::Plain(raw) => (raw, false),
        Text::Escaped(raw) => (raw, true),
        Text::Owned(decoded) => (&file[..decoded.len().min(file.len())], false),
        // Only `json::parse_compact` makes these, and the scanner parses with `json::parse`.
        Text::Joined { .. } => (&file[..0], false),
    }
}

/// Describes a notebook path for people: `cell 4 of 12, output 2 (stream stdout)` (cells and
/// outputs count from 1).
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
    let cells = lookup(root, &path[..=cells_at]).and_then(Value::as_array);
    let mut text = format!(
        "cell {} of {}",
        index(cells_at + 1).unwrap_or(0) + 1,
        cells.map_or(0, Vec::len)
    );
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
