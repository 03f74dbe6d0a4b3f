//! Reading and writing notebooks the way nbformat 5.11 does for nbstripout.
//!
//! Reading applies each format version's normalization (`rejoin_lines`, `strip_transient`, the
//! cell ids that validation adds to 4.5 notebooks); writing applies `split_lines` and the
//! version's `json.dumps` settings. The structural checks mirror the places where nbformat would
//! raise, so that a file nbstripout refuses is refused here too, and never half-written.

use crate::json::{self, Object, StringList, Text, Value, WriteOptions};

#[derive(Debug, thiserror::Error)]
pub enum NotebookError {
    #[error("invalid UTF-8 at byte {0}")]
    InvalidUtf8(usize),
    #[error("invalid JSON: {0}")]
    Json(#[from] json::ParseError),
    #[error("not a notebook: the top-level JSON value is not an object")]
    NotAnObject,
    #[error("unsupported nbformat version {0} (mlguard reads versions 1 to 4)")]
    UnsupportedVersion(String),
    #[error("not a valid notebook: {0}")]
    Invalid(String),
    #[error(
        "cell {0}: metadata says `keep_output: false` but the cell is tagged `keep_output`; remove one of them"
    )]
    KeepOutputContradiction(usize),
}

pub type Result<T> = std::result::Result<T, NotebookError>;

fn invalid(message: impl Into<String>) -> NotebookError {
    NotebookError::Invalid(message.into())
}

/// The notebook format major version, which decides normalization and output layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    V1,
    V2,
    V3,
    V4 { minor: i64 },
}

#[derive(Debug)]
pub struct Notebook<'a> {
    pub root: Object<'a>,
    pub format: Format,
}

/// Decodes raw file bytes: a UTF-8 BOM is skipped (nbstripout rejects it), anything else must be UTF-8.
pub fn decode(input: &[u8]) -> Result<&str> {
    let input = input.strip_prefix(b"\xef\xbb\xbf").unwrap_or(input);
    std::str::from_utf8(input).map_err(|e| NotebookError::InvalidUtf8(e.valid_up_to()))
}

/// Parses a notebook with nbformat's normalization. Lists of lines stay raw slices of `text`
/// (`json::parse_compact`) and are joined lazily, so the parsed notebook weighs a small part of
/// its text, whatever it holds.
pub fn read(text: &str) -> Result<Notebook<'_>> {
    let Value::Object(root) = json::parse_compact(text)? else {
        return Err(NotebookError::NotAnObject);
    };
    let format = detect_format(&root)?;
    let mut nb = Notebook { root, format };
    match format {
        Format::V4 { minor } => {
            rejoin_v4(&mut nb.root)?;
            strip_transient_v4(&mut nb.root)?;
            if minor >= 5 {
                repair_cell_ids(&mut nb.root);
            }
        }
        Format::V3 | Format::V2 => rejoin_v3(&mut nb.root, format)?,
        Format::V1 => {}
    }
    Ok(nb)
}

fn detect_format(root: &Object) -> Result<Format> {
    let major = match root.get("nbformat") {
        None => 1,
        Some(value) => integer(value).ok_or_else(|| {
            NotebookError::UnsupportedVersion(format!("{:?}", display_scalar(value)))
        })?,
    };
    let minor = match root.get("nbformat_minor") {
        None => 0,
        Some(value) => {
            integer(value).ok_or_else(|| invalid("`nbformat_minor` is not an integer"))?
        }
    };
    match major {
        1 => Ok(Format::V1),
        2 => Ok(Format::V2),
        3 => Ok(Format::V3),
        4 => Ok(Format::V4 { minor }),
        other => Err(NotebookError::UnsupportedVersion(other.to_string())),
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(raw) if json::number_kind(raw) == json::NumberKind::Int => raw.parse().ok(),
        _ => None,
    }
}

fn display_scalar(value: &Value) -> String {
    match value {
        Value::Number(raw) => (*raw).to_string(),
        Value::String(s) => String::from_utf8_lossy(&s.decoded()).into_owned(),
        other => format!("{other:?}").chars().take(20).collect(),
    }
}

/// The notebook's cells: `cells` in v4 and v1, every worksheet's `cells` in v2/v3.
pub fn cell_lists<'n, 'a>(
    root: &'n mut Object<'a>,
    format: Format,
) -> Result<Vec<&'n mut Vec<Value<'a>>>> {
    if matches!(format, Format::V2 | Format::V3) {
        let worksheets = root
            .get_mut("worksheets")
            .and_then(Value::as_array_mut)
            .ok_or_else(|| invalid("missing `worksheets`"))?;
        worksheets
            .iter_mut()
            .map(|ws| {
                ws.as_object_mut()
                    .and_then(|ws| ws.get_mut("cells"))
                    .and_then(Value::as_array_mut)
                    .ok_or_else(|| invalid("a worksheet has no `cells` list"))
            })
            .collect()
    } else {
        let cells = root
            .get_mut("cells")
            .and_then(Value::as_array_mut)
            .ok_or_else(|| invalid("missing `cells`"))?;
        Ok(vec![cells])
    }
}

pub fn cell_object<'n, 'a>(cell: &'n mut Value<'a>) -> Result<&'n mut Object<'a>> {
    cell.as_object_mut()
        .ok_or_else(|| invalid("a cell is not an object"))
}

fn join_strings<'a>(items: &[Value<'a>], separator: &[u8]) -> Option<Value<'a>> {
    let mut joined = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            joined.extend_from_slice(separator);
        }
        joined.extend_from_slice(&item.as_text()?);
    }
    Some(Value::String(Text::Owned(joined)))
}

/// `separator.join(list)` as a string that reads the list in place.
fn joined<'a>(list: StringList<'a>, separator: &'static [u8]) -> Value<'a> {
    Value::String(Text::Joined { list, separator })
}

/// Replaces a list of strings by their concatenation; errors where Python's `"".join` would raise.
fn rejoin_field(object: &mut Object, key: &str, what: &str) -> Result<()> {
    if let Some(slot) = object.get_mut(key) {
        match slot {
            Value::Array(items) => {
                *slot = join_strings(items, b"")
                    .ok_or_else(|| invalid(format!("{what} holds a non-string line")))?;
            }
            Value::StringList(list) => *slot = joined(*list, b""),
            _ => {}
        }
    }
    Ok(())
}

fn is_json_mime(key: &[u8]) -> bool {
    key == b"application/json" || (key.starts_with(b"application/") && key.ends_with(b"+json"))
}

fn rejoin_mimebundle(bundle: &mut Value) -> Result<()> {
    let bundle = bundle
        .as_object_mut()
        .ok_or_else(|| invalid("a mime bundle is not an object"))?;
    for (key, value) in &mut bundle.entries {
        if is_json_mime(key) {
            continue;
        }
        match value {
            Value::Array(items) => {
                if let Some(text) = join_strings(items, b"") {
                    *value = text;
                }
            }
            Value::StringList(list) => *value = joined(*list, b""),
            _ => {}
        }
    }
    Ok(())
}

fn rejoin_v4(root: &mut Object) -> Result<()> {
    for cells in cell_lists(root, Format::V4 { minor: 0 })? {
        for cell in cells.iter_mut() {
            let cell = cell_object(cell)?;
            rejoin_field(cell, "source", "a cell source")?;
            if let Some(attachments) = cell.get_mut("attachments") {
                let attachments = attachments
                    .as_object_mut()
                    .ok_or_else(|| invalid("cell attachments are not an object"))?;
                for (_, bundle) in &mut attachments.entries {
                    rejoin_mimebundle(bundle)?;
                }
            }
            if cell.get("cell_type").is_some_and(|t| t.is_str("code")) {
                rejoin_outputs_v4(cell)?;
            }
        }
    }
    Ok(())
}

/// An empty object where a list of outputs belongs: nbformat iterates it as no outputs (and
/// nbstripout then writes `[]`), so it is read as such.
pub fn is_empty_object(value: &Value) -> bool {
    matches!(value, Value::Object(object) if object.entries.is_empty())
}

fn rejoin_outputs_v4(cell: &mut Object) -> Result<()> {
    let Some(outputs) = cell.get_mut("outputs") else {
        return Ok(());
    };
    if is_empty_object(outputs) {
        return Ok(());
    }
    let outputs = outputs
        .as_array_mut()
        .ok_or_else(|| invalid("cell outputs are not a list"))?;
    for output in outputs {
        let output = output
            .as_object_mut()
            .ok_or_else(|| invalid("an output is not an object"))?;
        let output_type = output.get("output_type").cloned().unwrap_or(Value::Null);
        if output_type.is_str("execute_result") || output_type.is_str("display_data") {
            if let Some(data) = output.get_mut("data") {
                rejoin_mimebundle(data)?;
            }
        } else if output_type.truthy() {
            rejoin_field(output, "text", "an output text")?;
        }
    }
    Ok(())
}

fn strip_transient_v4(root: &mut Object) -> Result<()> {
    let metadata = root
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| invalid("missing notebook `metadata`"))?;
    for key in ["orig_nbformat", "orig_nbformat_minor", "signature"] {
        metadata.remove(key);
    }
    for cells in cell_lists(root, Format::V4 { minor: 0 })? {
        for cell in cells.iter_mut() {
            cell_metadata(cell_object(cell)?)?.remove("trusted");
        }
    }
    Ok(())
}

pub fn cell_metadata<'n, 'a>(cell: &'n mut Object<'a>) -> Result<&'n mut Object<'a>> {
    cell.get_mut("metadata")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| invalid("a cell has no `metadata` object"))
}

/// nbformat 4.5 validation gives a cell without an id (or with a repeated one) a random id.
/// Ours is deterministic; without `--keep-id` it is renumbered anyway, as upstream.
fn repair_cell_ids(root: &mut Object) {
    let Some(cells) = root.get_mut("cells").and_then(Value::as_array_mut) else {
        return;
    };
    let mut seen = SeenIds::default();
    for (index, cell) in cells.iter_mut().enumerate() {
        let Some(cell) = cell.as_object_mut() else {
            continue;
        };
        if let Some(id) = cell.get("id").filter(|id| !seen.contains(id)) {
            seen.insert(id);
            continue;
        }
        let new_id = (0..)
            .map(|salt| {
                Value::String(Text::Owned(
                    format!("{:08x}", fnv1a(index as u64, salt) as u32).into_bytes(),
                ))
            })
            .find(|candidate| !seen.contains(candidate))
            .unwrap_or(Value::Null);
        seen.insert(&new_id);
        cell.insert("id", new_id);
    }
}

/// The cell ids met so far: strings (all of them, in a valid notebook) in a hash set, so a
/// notebook of many cells is checked in linear time; anything else in a list.
#[derive(Default)]
struct SeenIds<'a> {
    text: std::collections::HashSet<Vec<u8>>,
    other: Vec<Value<'a>>,
}

impl<'a> SeenIds<'a> {
    fn contains(&self, id: &Value) -> bool {
        match id {
            Value::String(text) => self.text.contains(text.decoded().as_ref()),
            other => self.other.iter().any(|seen| seen == other),
        }
    }

    fn insert(&mut self, id: &Value<'a>) {
        match id {
            Value::String(text) => {
                self.text.insert(text.decoded().into_owned());
            }
            other => self.other.push(other.clone()),
        }
    }
}

fn fnv1a(index: u64, salt: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in index.to_le_bytes().into_iter().chain(salt.to_le_bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3);
    }
    hash
}

/// v2 joins lines with `\n`; v3 does the same unless the first line already ends in a newline.
fn join_v3<'a>(slot: &Value<'a>, format: Format) -> Option<Value<'a>> {
    let ends_in_newline = |t: &[u8]| t.ends_with(b"\n") || t.ends_with(b"\r");
    let separator = |first_has_newline: bool| -> &'static [u8] {
        if format == Format::V3 && first_has_newline {
            b""
        } else {
            b"\n"
        }
    };
    match slot {
        Value::StringList(list) => {
            let first = list
                .items()
                .next()
                .is_some_and(|t| ends_in_newline(&t.decoded()));
            Some(joined(*list, separator(first)))
        }
        Value::Array(items) => {
            let first = items
                .first()
                .and_then(Value::as_text)
                .is_some_and(|t| ends_in_newline(&t));
            join_strings(items, separator(first))
        }
        _ => None,
    }
}

const V3_MULTILINE_OUTPUTS: [&str; 6] = ["text", "html", "svg", "latex", "javascript", "json"];

fn rejoin_v3_field(object: &mut Object, key: &str, format: Format) -> Result<()> {
    if let Some(slot) = object.get_mut(key) {
        if matches!(slot, Value::Array(_) | Value::StringList(_)) {
            *slot = join_v3(slot, format)
                .ok_or_else(|| invalid(format!("`{key}` holds a non-string line")))?;
        }
    }
    Ok(())
}

fn rejoin_v3(root: &mut Object, format: Format) -> Result<()> {
    for cells in cell_lists(root, format)? {
        for cell in cells.iter_mut() {
            let cell = cell_object(cell)?;
            if is_code_cell_v3(cell)? {
                rejoin_v3_field(cell, "input", format)?;
                for output in v3_outputs(cell)? {
                    for key in V3_MULTILINE_OUTPUTS {
                        rejoin_v3_field(output, key, format)?;
                    }
                }
            } else {
                rejoin_v3_field(cell, "source", format)?;
                rejoin_v3_field(cell, "rendered", format)?;
            }
        }
    }
    Ok(())
}

fn is_code_cell_v3(cell: &Object) -> Result<bool> {
    let cell_type = cell
        .get("cell_type")
        .ok_or_else(|| invalid("a cell has no `cell_type`"))?;
    Ok(cell_type.is_str("code"))
}

fn v3_outputs<'n, 'a>(cell: &'n mut Object<'a>) -> Result<Vec<&'n mut Object<'a>>> {
    if cell.get("outputs").is_some_and(is_empty_object) {
        return Ok(Vec::new());
    }
    cell.get_mut("outputs")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| invalid("a code cell has no `outputs` list"))?
        .iter_mut()
        .map(|o| {
            o.as_object_mut()
                .ok_or_else(|| invalid("an output is not an object"))
        })
        .collect()
}

/// A notebook ready to be written: every check that could fail has been made, so writing it can
/// only fail on the destination.
pub struct Prepared<'a> {
    root: Value<'a>,
    options: WriteOptions,
}

impl Prepared<'_> {
    pub fn to_vec(&self) -> Vec<u8> {
        json::write_document(&self.root, self.options)
    }

    /// Writes the notebook as it walks it (a notebook is never held twice).
    pub fn write_to(&self, destination: &mut dyn std::io::Write) -> std::io::Result<()> {
        json::write_document_to(&self.root, self.options, destination)
    }

    /// A JSON document written as `json.dump(indent=2)` (Zeppelin notes).
    pub fn json(root: Value<'_>, options: WriteOptions) -> Prepared<'_> {
        Prepared { root, options }
    }
}

/// Serializes a notebook as nbformat writes its version.
pub fn write(nb: Notebook) -> Result<Vec<u8>> {
    prepare(nb).map(|prepared| prepared.to_vec())
}

/// Applies the write-side normalization of the notebook's version (`split_lines`, v3's
/// transient keys) and picks its `json.dumps` settings.
pub fn prepare(mut nb: Notebook) -> Result<Prepared> {
    let options = match nb.format {
        Format::V4 { .. } => {
            split_lines_v4(&mut nb.root)?;
            WriteOptions {
                indent: 1,
                sort_keys: true,
                ensure_ascii: false,
            }
        }
        Format::V3 | Format::V2 => {
            if nb.format == Format::V3 {
                strip_transient_v3(&mut nb.root)?;
            }
            split_lines_v3(&mut nb.root, nb.format)?;
            WriteOptions {
                indent: 1,
                sort_keys: true,
                ensure_ascii: true,
            }
        }
        Format::V1 => WriteOptions {
            indent: 4,
            sort_keys: false,
            ensure_ascii: true,
        },
    };
    Ok(Prepared {
        root: Value::Object(nb.root),
        options,
    })
}

/// Marks a string to be written as a list of its lines; it is split only while writing, one
/// string at a time.
fn to_lines(slot: &mut Value, keep_ends: bool) {
    if let Value::String(text) = slot {
        let text = std::mem::replace(text, Text::Owned(Vec::new()));
        *slot = Value::Lines { text, keep_ends };
    }
}

fn split_mimebundle(bundle: &mut Value) {
    if let Some(bundle) = bundle.as_object_mut() {
        for (key, value) in &mut bundle.entries {
            if key.starts_with(b"text/")
                || key.as_ref() == b"application/javascript"
                || key.as_ref() == b"image/svg+xml"
            {
                to_lines(value, true);
            }
        }
    }
}

fn split_lines_v4(root: &mut Object) -> Result<()> {
    for cells in cell_lists(root, Format::V4 { minor: 0 })? {
        for cell in cells.iter_mut() {
            let cell = cell_object(cell)?;
            if let Some(source) = cell.get_mut("source") {
                to_lines(source, true);
            }
            if let Some(attachments) = cell.get_mut("attachments").and_then(Value::as_object_mut) {
                for (_, bundle) in &mut attachments.entries {
                    split_mimebundle(bundle);
                }
            }
            let cell_type = cell
                .get("cell_type")
                .ok_or_else(|| invalid("a cell has no `cell_type`"))?;
            if cell_type.is_str("code") {
                split_outputs_v4(cell)?;
            }
        }
    }
    Ok(())
}

fn split_outputs_v4(cell: &mut Object) -> Result<()> {
    for output in v3_outputs(cell)? {
        let output_type = output
            .get("output_type")
            .ok_or_else(|| invalid("an output has no `output_type`"))?;
        if output_type.is_str("execute_result") || output_type.is_str("display_data") {
            if let Some(data) = output.get_mut("data") {
                split_mimebundle(data);
            }
        } else if output_type.is_str("stream") {
            let text = output
                .get_mut("text")
                .ok_or_else(|| invalid("a stream output has no `text`"))?;
            to_lines(text, true);
        }
    }
    Ok(())
}

fn strip_transient_v3(root: &mut Object) -> Result<()> {
    root.remove("orig_nbformat");
    root.remove("orig_nbformat_minor");
    for cells in cell_lists(root, Format::V3)? {
        for cell in cells.iter_mut() {
            let cell = cell_object(cell)?;
            if let Some(metadata) = cell.get_mut("metadata").and_then(Value::as_object_mut) {
                metadata.remove("trusted");
            }
            cell.remove("trusted");
        }
    }
    Ok(())
}

fn split_lines_v3(root: &mut Object, format: Format) -> Result<()> {
    let keep_ends = format == Format::V3;
    for cells in cell_lists(root, format)? {
        for cell in cells.iter_mut() {
            let cell = cell_object(cell)?;
            if is_code_cell_v3(cell)? {
                if let Some(input) = cell.get_mut("input") {
                    to_lines(input, keep_ends);
                }
                for output in v3_outputs(cell)? {
                    for key in V3_MULTILINE_OUTPUTS {
                        if let Some(value) = output.get_mut(key) {
                            to_lines(value, keep_ends);
                        }
                    }
                }
            } else {
                for key in ["source", "rendered"] {
                    if let Some(value) = cell.get_mut(key) {
                        to_lines(value, keep_ends);
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// nbformat 4.5 ids: a repeated or missing id gets a new one, distinct from every id seen;
    /// the first holder of an id keeps it, whatever its type.
    #[test]
    fn cell_ids_are_repaired_once_each() {
        let text = r#"{"cells": [{"id": "a"}, {"id": "a"}, {}, {"id": 7}, {"id": 7}, {"id": "b"}],
                       "metadata": {}, "nbformat": 4, "nbformat_minor": 5}"#;
        let Value::Object(mut root) = json::parse_compact(text).unwrap() else {
            panic!("not an object");
        };
        repair_cell_ids(&mut root);
        let ids: Vec<String> = root
            .get("cells")
            .and_then(Value::as_array)
            .unwrap()
            .iter()
            .map(|cell| match cell.as_object().and_then(|c| c.get("id")) {
                Some(Value::String(t)) => String::from_utf8(t.decoded().into_owned()).unwrap(),
                Some(Value::Number(n)) => format!("#{n}"),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!((&ids[0][..], &ids[3][..], &ids[5][..]), ("a", "#7", "b"));
        let unique: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        assert!(
            ids[1].len() == 8 && ids[2].len() == 8 && ids[4].len() == 8,
            "{ids:?}"
        );
    }
}
