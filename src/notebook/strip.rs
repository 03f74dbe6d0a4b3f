//! nbstripout's stripping rules: which outputs, counts, ids, cells and metadata keys go.
//!
//! The order and precedence are nbstripout 0.9.1's (`strip_output` and
//! `determine_keep_output`); the deliberate deviations are listed in the README.

use super::Mode;
use super::format::{self, Format, Notebook, NotebookError, Result};
use crate::json::{self, Object, Text, Value};

/// Keys nbstripout strips by default.
const DEFAULT_STRIP_KEYS: [&str; 8] = [
    "metadata.signature",
    "metadata.widgets",
    "cell.metadata.collapsed",
    "cell.metadata.ExecuteTime",
    "cell.metadata.execution",
    "cell.metadata.heading_collapsed",
    "cell.metadata.hidden",
    "cell.metadata.scrolled",
];

/// What to strip. `keep_output: false` means "not forced": the notebook's own
/// `metadata.keep_output` then decides, as with nbstripout's unset flag. `max_size` 0 keeps no
/// output by size (nbstripout's default).
#[derive(Debug, Clone, Default)]
pub struct StripOptions {
    pub keep_output: bool,
    pub keep_count: bool,
    pub keep_id: bool,
    pub extra_keys: Vec<String>,
    pub keep_metadata_keys: Vec<String>,
    pub drop_empty_cells: bool,
    pub drop_tagged_cells: Vec<String>,
    pub strip_init_cells: bool,
    pub max_size: u64,
    pub keep_output_types: Vec<OutputType>,
    pub drop_output_types: Vec<OutputType>,
    pub mode: Mode,
}

/// `output_type` or `output_type:name` (e.g. `stream:stderr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputType {
    pub output_type: String,
    pub name: Option<String>,
}

/// A strip option value that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    #[error("invalid key `{0}`: expected metadata.PATH or cell.PATH")]
    Key(String),
    #[error("invalid output type `{0}`: expected TYPE or TYPE:NAME")]
    OutputType(String),
}

impl std::str::FromStr for OutputType {
    type Err = OptionError;

    fn from_str(s: &str) -> std::result::Result<Self, OptionError> {
        let mut parts = s.split(':');
        let output_type = parts.next().unwrap_or_default().to_string();
        let name = parts.next().map(str::to_string);
        if output_type.is_empty() || parts.next().is_some() || name.as_deref() == Some("") {
            return Err(OptionError::OutputType(s.to_string()));
        }
        Ok(OutputType { output_type, name })
    }
}

impl OutputType {
    fn matches(&self, output: &Value) -> bool {
        let Some(output) = output.as_object() else {
            return false;
        };
        output
            .get("output_type")
            .is_some_and(|t| t.is_str(&self.output_type))
            && self
                .name
                .as_deref()
                .is_none_or(|name| output.get("name").is_some_and(|n| n.is_str(name)))
    }
}

/// Checks an `--extra-keys`/`--keep-metadata-keys` entry: `metadata.PATH` or `cell.PATH`.
pub fn validate_key_path(key: &str) -> std::result::Result<(), OptionError> {
    match key.split_once('.') {
        Some(("metadata" | "cell", rest)) if !rest.is_empty() => Ok(()),
        _ => Err(OptionError::Key(key.to_string())),
    }
}

/// The result of stripping one notebook.
#[derive(Debug)]
pub struct Stripped {
    /// nbstripout's semantic change test: the parsed notebook differs from the stripped one.
    pub changed: bool,
    /// The serialized notebook; empty when `render` was `IfChanged` and nothing changed.
    pub output: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Render {
    Always,
    IfChanged,
    Never,
}

/// Strips a notebook given as raw bytes. Errors leave no partial output behind.
pub fn strip_bytes(input: &[u8], options: &StripOptions, render: Render) -> Result<Stripped> {
    let (changed, prepared) = strip_prepared(input, options)?;
    let wanted = render == Render::Always || (render == Render::IfChanged && changed);
    let output = if wanted {
        prepared.to_vec()
    } else {
        Vec::new()
    };
    Ok(Stripped { changed, output })
}

/// Strips a notebook and returns whether it changed, with the result ready to be written:
/// every error comes before a single byte is, and the result is written as it is walked
/// (`Prepared::write_to`), so a notebook is held once, as its input, plus a small tree.
pub fn strip_prepared<'i>(
    input: &'i [u8],
    options: &StripOptions,
) -> Result<(bool, format::Prepared<'i>)> {
    let text = format::decode(input)?;
    if options.mode == Mode::Zeppelin {
        return strip_zeppelin(text);
    }
    let mut nb = format::read(text)?;
    let changed = strip_notebook(&mut nb, options)?;
    Ok((changed, format::prepare(nb)?))
}

/// Zeppelin notes: every paragraph's `results` becomes `{}`; written as `json.dump(indent=2)`.
fn strip_zeppelin(text: &str) -> Result<(bool, format::Prepared<'_>)> {
    let mut root = json::parse_compact(text)?;
    let paragraphs = root
        .as_object_mut()
        .and_then(|o| o.get_mut("paragraphs"))
        .and_then(Value::as_array_mut)
        .ok_or_else(|| NotebookError::Invalid("missing Zeppelin `paragraphs`".into()))?;
    let mut changed = false;
    for paragraph in paragraphs {
        let paragraph = paragraph
            .as_object_mut()
            .ok_or_else(|| NotebookError::Invalid("a paragraph is not an object".into()))?;
        if let Some(results) = paragraph.get_mut("results") {
            changed |= *results != Value::Object(Object::default());
            *results = Value::Object(Object::default());
        }
    }
    let options = json::WriteOptions {
        indent: 2,
        sort_keys: false,
        ensure_ascii: true,
    };
    Ok((changed, format::Prepared::json(root, options)))
}

/// The strip list, split into notebook-metadata and cell paths.
struct StripKeys {
    metadata: Vec<String>,
    cell: Vec<String>,
}

impl StripKeys {
    fn new(options: &StripOptions) -> Self {
        let all = DEFAULT_STRIP_KEYS
            .iter()
            .map(|k| (*k).to_string())
            .chain(options.extra_keys.iter().cloned())
            .filter(|k| !options.keep_metadata_keys.contains(k));
        let (mut metadata, mut cell) = (Vec::new(), Vec::new());
        for key in all {
            match key.split_once('.') {
                Some(("metadata", path)) => metadata.push(path.to_string()),
                Some(("cell", path)) => cell.push(path.to_string()),
                _ => {}
            }
        }
        StripKeys { metadata, cell }
    }
}

/// nbstripout's `pop_recursive`: the whole remaining path is tried as a literal key first, so
/// keys that contain dots (`application/vnd.databricks.v1+cell`) work. Returns whether it popped.
fn pop_recursive(object: &mut Object, path: &str) -> bool {
    if object.remove(path).is_some() {
        return true;
    }
    let Some((head, tail)) = path.split_once('.') else {
        return false;
    };
    match object.get_mut(head).and_then(Value::as_object_mut) {
        Some(child) => pop_recursive(child, tail),
        None => false,
    }
}

/// Applies nbstripout's `strip_output`; returns whether anything changed.
pub fn strip_notebook(nb: &mut Notebook, options: &StripOptions) -> Result<bool> {
    let keys = StripKeys::new(options);
    let metadata = nb
        .root
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| NotebookError::Invalid("missing notebook `metadata`".into()))?;
    let default_keep =
        options.keep_output || metadata.get("keep_output").is_some_and(Value::truthy);
    let mut changed = false;
    for path in &keys.metadata {
        changed |= pop_recursive(metadata, path);
    }
    let format = nb.format;
    let needs_ids = matches!(format, Format::V4 { minor } if minor >= 5);
    let mut index = 0;
    for cells in format::cell_lists(&mut nb.root, format)? {
        changed |= drop_cells(cells, options, format)?;
        for cell in cells.iter_mut() {
            let cell = format::cell_object(cell)?;
            let keep = keep_output_for(cell, default_keep, options.strip_init_cells, index)?;
            changed |= strip_cell(cell, keep, index, options, &keys, needs_ids)?;
            index += 1;
        }
    }
    Ok(changed)
}

fn drop_cells(cells: &mut Vec<Value>, options: &StripOptions, format: Format) -> Result<bool> {
    let before = cells.len();
    let mut failure = None;
    cells.retain(|cell| match keep_cell(cell, options, format) {
        Ok(keep) => keep,
        Err(e) => {
            failure.get_or_insert(e);
            true
        }
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(cells.len() != before),
    }
}

fn keep_cell(cell: &Value, options: &StripOptions, format: Format) -> Result<bool> {
    let cell = cell
        .as_object()
        .ok_or_else(|| NotebookError::Invalid("a cell is not an object".into()))?;
    if options.drop_empty_cells && !has_content(cell, format)? {
        return Ok(false);
    }
    if options.drop_tagged_cells.is_empty() {
        return Ok(true);
    }
    let tags = match cell.get("metadata") {
        None => return Ok(true),
        Some(Value::Object(metadata)) => metadata.get("tags"),
        Some(_) => {
            return Err(NotebookError::Invalid(
                "a cell's metadata is not an object".into(),
            ));
        }
    };
    let Some(tags) = tags else { return Ok(true) };
    for tag in &options.drop_tagged_cells {
        let tagged = tags
            .py_contains(tag)
            .ok_or_else(|| NotebookError::Invalid("a cell's `tags` is not a list".into()))?;
        if tagged {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether a cell's source has a non-whitespace character. v3 code cells keep it in `input`.
fn has_content(cell: &Object, format: Format) -> Result<bool> {
    let is_v3_code = matches!(format, Format::V2 | Format::V3)
        && cell.get("cell_type").is_some_and(|t| t.is_str("code"));
    let field = if is_v3_code { "input" } else { "source" };
    let non_blank = |text: &[u8]| json::code_points(text).any(|cp| !json::is_python_space(cp));
    match cell.get(field) {
        None => Ok(false),
        Some(Value::String(text)) => Ok(non_blank(&text.decoded())),
        Some(Value::Array(lines)) => lines.iter().try_fold(false, |found, line| match line {
            Value::String(text) => Ok(found || non_blank(&text.decoded())),
            _ => Err(NotebookError::Invalid(
                "a cell source holds a non-string line".into(),
            )),
        }),
        Some(Value::StringList(lines)) => Ok(lines.items().any(|line| non_blank(&line.decoded()))),
        // nbstripout iterates a mapping's keys, as Python does.
        Some(Value::Object(object)) => Ok(object.entries.iter().any(|(key, _)| non_blank(key))),
        Some(_) => Err(NotebookError::Invalid("a cell source is not text".into())),
    }
}

/// nbstripout's `determine_keep_output`: `init_cell` first, then the `keep_output` metadata or
/// tag, then the notebook/command-line default.
fn keep_output_for(
    cell: &Object,
    default: bool,
    strip_init_cells: bool,
    index: usize,
) -> Result<bool> {
    let Some(metadata) = cell.get("metadata") else {
        return Ok(default);
    };
    let metadata = metadata
        .as_object()
        .ok_or_else(|| NotebookError::Invalid("a cell's metadata is not an object".into()))?;
    if let Some(init_cell) = metadata.get("init_cell") {
        return Ok(init_cell.truthy() && !strip_init_cells);
    }
    let keep_metadata = metadata.get("keep_output");
    let tagged = match metadata.get("tags") {
        None => false,
        Some(tags) => tags
            .py_contains("keep_output")
            .ok_or_else(|| NotebookError::Invalid("a cell's `tags` is not a list".into()))?,
    };
    match keep_metadata {
        Some(value) if tagged && !value.truthy() => {
            Err(NotebookError::KeepOutputContradiction(index))
        }
        Some(value) => Ok(value.truthy() || tagged),
        None if tagged => Ok(true),
        None => Ok(default),
    }
}

fn strip_cell(
    cell: &mut Object,
    keep: bool,
    index: usize,
    options: &StripOptions,
    keys: &StripKeys,
    needs_ids: bool,
) -> Result<bool> {
    let mut changed = false;
    if let Some(outputs) = cell.get_mut("outputs") {
        if format::is_empty_object(outputs) {
            // nbstripout rebuilds the list whenever it filters outputs: `{}` becomes `[]`.
            let filters = !keep
                || !options.keep_output_types.is_empty()
                || !options.drop_output_types.is_empty();
            if filters {
                *outputs = Value::Array(Vec::new());
                changed = true;
            }
        } else {
            let outputs = outputs
                .as_array_mut()
                .ok_or_else(|| NotebookError::Invalid("cell outputs are not a list".into()))?;
            changed |= strip_outputs(outputs, keep, options)?;
        }
    }
    if !options.keep_count {
        for key in ["prompt_number", "execution_count"] {
            changed |= set_null(cell, key);
        }
    }
    if !options.keep_id && cell.contains_key("id") {
        let id = Value::String(Text::Owned(index.to_string().into_bytes()));
        changed |= cell.get("id") != Some(&id);
        cell.insert("id", id);
    }
    for path in &keys.cell {
        changed |= pop_recursive(cell, path);
    }
    // A 4.5 cell must have an id: where `--extra-keys cell.id` removed it, nbformat would write
    // a random one (a new diff on every run); the cell's index is written instead.
    if needs_ids && !cell.contains_key("id") {
        cell.insert(
            "id",
            Value::String(Text::Owned(index.to_string().into_bytes())),
        );
        changed = true;
    }
    Ok(changed)
}

fn set_null(object: &mut Object, key: &str) -> bool {
    match object.get_mut(key) {
        Some(value) if *value != Value::Null => {
            *value = Value::Null;
            true
        }
        _ => false,
    }
}

fn strip_outputs(outputs: &mut Vec<Value>, keep: bool, options: &StripOptions) -> Result<bool> {
    let before = outputs.len();
    if !keep || !options.keep_output_types.is_empty() {
        outputs.retain(|output| {
            size_at_most(output, options.max_size)
                || options.keep_output_types.iter().any(|t| t.matches(output))
        });
    }
    let mut changed = outputs.len() != before;
    if !options.keep_count {
        for output in outputs.iter_mut() {
            let output = output
                .as_object_mut()
                .ok_or_else(|| NotebookError::Invalid("an output is not an object".into()))?;
            changed |= set_null(output, "execution_count");
        }
    }
    if !options.drop_output_types.is_empty() {
        let kept = outputs.len();
        outputs.retain(|output| !options.drop_output_types.iter().any(|t| t.matches(output)));
        changed |= outputs.len() != kept;
    }
    Ok(changed)
}

/// nbstripout's `get_size(output) <= limit`, where size counts the characters of every string
/// (dict keys excluded) and `len(str(x))` of other scalars. It stops counting past the limit, so
/// a megabyte image is not walked to decide that it goes.
fn size_at_most(value: &Value, limit: u64) -> bool {
    let mut remaining = limit;
    consume_size(value, &mut remaining)
}

fn consume_size(value: &Value, remaining: &mut u64) -> bool {
    let size = match value {
        Value::Null | Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(raw) => json::python_str_len(raw) as u64,
        Value::String(text) => match text.char_count_within(*remaining) {
            Some(chars) => chars,
            None => return false,
        },
        Value::Lines { text, .. } => match text.char_count_within(*remaining) {
            Some(chars) => chars,
            None => return false,
        },
        Value::Array(items) => return items.iter().all(|item| consume_size(item, remaining)),
        Value::StringList(list) => {
            return list
                .items()
                .all(|item| match item.char_count_within(*remaining) {
                    Some(chars) => {
                        *remaining -= chars;
                        true
                    }
                    None => false,
                });
        }
        Value::Object(object) => {
            return object
                .entries
                .iter()
                .all(|(_, v)| consume_size(v, remaining));
        }
    };
    match remaining.checked_sub(size) {
        Some(rest) => {
            *remaining = rest;
            true
        }
        None => false,
    }
}
