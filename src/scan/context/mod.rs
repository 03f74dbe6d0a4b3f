//! Context that a line-oriented regex cannot see: where a value's name is not next to it.
//!
//! ML repositories write a credential's name and value apart in a few recurring ways: nested
//! configuration (`wandb:` then an indented `api_key:` in Hydra, axolotl or compose YAML, a
//! `[wandb]` TOML section, `{"wandb": {"api_key": …}}`), tables (a pandas HTML output with the
//! name in one `<td>` and the value in the next), argument lists (`"args": ["--wandb_key",
//! "…"]` in W&B run metadata), Kubernetes `name:`/`value:` pairs, and encodings (a `Secret`'s
//! base64 `data:`, a notebook attachment). For each of them this module writes *derived text*:
//! one line per value, `qualified.name = value`, that the ordinary rules then scan, with a map
//! from every derived offset back to the source text so findings land on the value's line.
//!
//! It also names the file a text should be judged as (`virtual_path`): an extensionless script
//! with a shell shebang is a shell script, a `%%writefile .env` cell is a `.env` file.
//!
//! Everything here is a pure function of (place, text); the engine calls `derive` and
//! `virtual_path` from one marked place.

pub(crate) mod base64;
mod html;
mod json;
mod sections;
mod yaml;

pub use base64::decode as decode_base64;

/// What the engine knows about the text being scanned.
#[derive(Clone, Copy)]
pub struct Place<'p> {
    /// The file's path as reported (or the virtual path that replaced it).
    pub path: &'p str,
    /// For a notebook's string, the object keys leading to it (`cells`, `outputs`, `data`, …).
    pub keys: &'p [&'p [u8]],
    /// Whether a derived name could make a rule fire (holds one of the rules' keywords): a
    /// derived line matters only through its name, since its value is scanned where it is.
    pub worth: &'p dyn Fn(&[u8]) -> bool,
}

impl Place<'_> {
    fn has_key(&self, key: &[u8]) -> bool {
        self.keys.contains(&key)
    }

    fn extension(&self) -> &str {
        let name = self.path.rsplit('/').next().unwrap_or(self.path);
        name.rsplit_once('.').map_or("", |(_, ext)| ext)
    }
}

/// A stretch of derived text and where it came from.
#[derive(Debug, Clone, Copy)]
struct Piece {
    derived: usize,
    derived_len: usize,
    source: usize,
    source_len: usize,
}

/// Text written from the structure of a source text, scanned like any other text.
pub struct Derived<'p> {
    pub text: Vec<u8>,
    pieces: Vec<Piece>,
    /// The path rules should see for this text (`None`: the file's).
    pub path: Option<String>,
    /// Source ranges that this text judges instead of the source: an encoded value is a
    /// credential or not by what it decodes to, whatever its encoded form looks like.
    pub shadows: Vec<std::ops::Range<usize>>,
    worth: &'p dyn Fn(&[u8]) -> bool,
}

impl<'p> Derived<'p> {
    fn new(place: &Place<'p>, path: Option<String>) -> Self {
        Derived {
            text: Vec::new(),
            pieces: Vec::new(),
            path,
            shadows: Vec::new(),
            worth: place.worth,
        }
    }

    /// Appends one line `name = value`: the name is written as given, the value copied from
    /// `source[value_at..value_at + value.len()]` (or decoded from it, when `value` differs
    /// from the source bytes: then the whole encoded stretch `value_at..value_end` is its place).
    fn push_pair(&mut self, name: &[u8], value: &[u8], value_at: usize, value_end: usize) {
        if (self.worth)(name) {
            self.push_decoded_pair(name, value, value_at, value_end);
        }
    }

    /// `push_pair` for a value that was decoded: its text is new, so it is worth scanning
    /// whatever its name.
    fn push_decoded_pair(&mut self, name: &[u8], value: &[u8], value_at: usize, value_end: usize) {
        self.text.extend_from_slice(name);
        self.text.extend_from_slice(b" = ");
        self.pieces.push(Piece {
            derived: self.text.len(),
            derived_len: value.len(),
            source: value_at,
            source_len: value_end - value_at,
        });
        self.text.extend_from_slice(value);
        self.text.push(b'\n');
    }

    /// Appends a whole text whose bytes all came from `source_at..source_end`.
    fn push_text(&mut self, text: &[u8], source_at: usize, source_end: usize) {
        self.pieces.push(Piece {
            derived: self.text.len(),
            derived_len: text.len(),
            source: source_at,
            source_len: source_end - source_at,
        });
        self.text.extend_from_slice(text);
        if !self.text.ends_with(b"\n") {
            self.text.push(b'\n');
        }
    }

    fn is_empty(&self) -> bool {
        self.pieces.is_empty() && self.shadows.is_empty()
    }

    /// The source range of the derived range `start..end` (which lies within one piece, as
    /// every match in derived text lies within one value).
    pub fn source_range(&self, start: usize, end: usize) -> std::ops::Range<usize> {
        let index = self
            .pieces
            .partition_point(|p| p.derived <= start)
            .saturating_sub(1);
        let Some(piece) = self.pieces.get(index) else {
            return 0..0;
        };
        if piece.derived_len == piece.source_len {
            let within = |offset: usize| offset.saturating_sub(piece.derived).min(piece.source_len);
            piece.source + within(start)..piece.source + within(end).max(within(start))
        } else {
            piece.source..piece.source + piece.source_len
        }
    }
}

/// The path a text should be judged as, when its content says more than its name: a shell
/// shebang on an extensionless file, or a notebook cell that writes or runs a file.
pub fn virtual_path(place: &Place, text: &[u8]) -> Option<String> {
    let first_line = text.split(|&b| b == b'\n').next().unwrap_or_default();
    let first_line = String::from_utf8_lossy(first_line);
    let first_line = first_line.trim();
    if place.keys.is_empty() {
        let name = place.path.rsplit('/').next().unwrap_or(place.path);
        if !name.contains('.') && is_shell_shebang(first_line) {
            return Some(format!("{}.sh", place.path));
        }
        return None;
    }
    if !place.has_key(b"source") {
        return None;
    }
    if let Some(rest) = first_line.strip_prefix("%%writefile") {
        let target = rest
            .split_whitespace()
            .find(|word| !word.starts_with('-'))?;
        return Some(target.trim_matches(['"', '\'']).to_string());
    }
    matches!(
        first_line,
        "%%bash" | "%%sh" | "%%script bash" | "%%script sh"
    )
    .then(|| "cell.sh".to_string())
}

fn is_shell_shebang(line: &str) -> bool {
    let Some(interpreter) = line.strip_prefix("#!") else {
        return false;
    };
    let mut words = interpreter.split_whitespace();
    let program = words.next().unwrap_or_default();
    let program = match program.rsplit('/').next() {
        Some("env") => words.find(|w| !w.starts_with('-')).unwrap_or_default(),
        Some(name) => name,
        None => "",
    };
    matches!(program, "sh" | "bash" | "zsh" | "ksh" | "dash" | "ash")
}

/// Every derived text of `text` at `place` (most texts have none, at the cost of a few byte
/// searches).
pub fn derive<'p>(place: &Place<'p>, text: &[u8]) -> Vec<Derived<'p>> {
    let mut out = Vec::new();
    let ext = place.extension().to_ascii_lowercase();
    if place.keys.is_empty() {
        match ext.as_str() {
            "yml" | "yaml" => yaml::derive(place, text, &mut out),
            "json" => json::derive_file(place, text, &mut out),
            "toml" | "ini" | "cfg" | "conf" | "properties" => {
                sections::derive(place, text, &mut out)
            }
            "" => {
                let name = place.path.rsplit('/').next().unwrap_or(place.path);
                if matches!(name, "config" | "credentials" | "config.local") {
                    sections::derive(place, text, &mut out);
                }
            }
            _ => {}
        }
        if let Some(name) = logged_param(place.path) {
            // MLflow logs a run's params and tags one file each, the file named after the
            // parameter and holding its raw value: `mlruns/0/<run>/params/wandb_api_key`.
            let value = text.trim_ascii();
            if is_candidate(value) {
                let start = value.as_ptr() as usize - text.as_ptr() as usize;
                let mut derived = Derived::new(place, None);
                derived.push_pair(name.as_bytes(), value, start, start + value.len());
                out.push(derived);
            }
        }
    } else {
        if place.has_key(b"application/json") {
            json::derive_notebook_value(place, text, &mut out);
        }
        if place.has_key(b"attachments") {
            attachment(place, text, &mut out);
        }
    }
    // Tables are where people look at data: HTML outputs and pages, Markdown, printed text.
    let tabular = if place.keys.is_empty() {
        matches!(
            ext.as_str(),
            "html" | "htm" | "md" | "markdown" | "mdx" | "txt" | "log"
        )
    } else {
        place.has_key(b"text/html")
            || place.has_key(b"text/markdown")
            || place.has_key(b"text/plain")
            || place.has_key(b"text")
            || place.has_key(b"source")
    };
    if tabular {
        html::derive(place, text, &mut out);
    }
    out.retain(|d| !d.is_empty());
    out
}

/// The parameter a file of an MLflow run holds (`…/params/NAME` or `…/tags/NAME`).
fn logged_param(path: &str) -> Option<&str> {
    let mut parts = path.rsplit('/');
    let name = parts.next()?;
    matches!(parts.next(), Some("params" | "tags")).then_some(name)
}

/// A notebook attachment's text: nbformat stores every attachment base64-encoded.
fn attachment<'p>(place: &Place<'p>, text: &[u8], out: &mut Vec<Derived<'p>>) {
    let compact: Vec<u8> = text
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let Some(decoded) = base64::decode(&compact) else {
        return;
    };
    if decoded.is_empty() || !is_text(&decoded) {
        return;
    }
    let mut derived = Derived::new(place, None);
    derived.push_text(&decoded, 0, text.len());
    out.push(derived);
}

/// Printable text (what is worth scanning after decoding).
fn is_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| {
        s.chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
    })
}

/// Whether a value could be a credential at all: one token, long enough.
fn is_candidate(value: &[u8]) -> bool {
    let value = without_scheme(value);
    (8..=4096).contains(&value.len())
        && !value.iter().any(|b| b.is_ascii_whitespace())
        && value.iter().any(u8::is_ascii_alphanumeric)
}

/// A value without the authorization scheme it may open with (`Bearer …` as an HTTP
/// request's header value in a workflow export or API client collection).
fn without_scheme(value: &[u8]) -> &[u8] {
    ["bearer ", "basic ", "token "]
        .iter()
        .find_map(|scheme| {
            value
                .get(..scheme.len())
                .filter(|head| head.eq_ignore_ascii_case(scheme.as_bytes()))
                .map(|_| &value[scheme.len()..])
        })
        .unwrap_or(value)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn all(_: &[u8]) -> bool {
        true
    }

    fn place(path: &str) -> Place<'_> {
        Place {
            path,
            keys: &[],
            worth: &all,
        }
    }

    #[test]
    fn shebang_scripts_are_shell_scripts() {
        let text = b"#!/usr/bin/env bash\nexport X=1\n";
        assert_eq!(
            virtual_path(&place("docker/entrypoint"), text).as_deref(),
            Some("docker/entrypoint.sh")
        );
        assert_eq!(virtual_path(&place("train.py"), text), None);
        assert_eq!(virtual_path(&place("run"), b"#!/usr/bin/python3\n"), None);
    }

    #[test]
    fn a_json_output_names_a_value_by_its_top_level_key() {
        // Fixture: blind set 4 (an STS response shown as a notebook's `application/json`).
        let keys: [&[u8]; 6] = [
            b"cells",
            b"outputs",
            b"data",
            b"application/json",
            b"SecretAccessKey",
            b"x",
        ];
        let output = Place {
            path: "nb.ipynb",
            keys: &keys[..5],
            worth: &all,
        };
        let derived = derive(&output, b"Qm7vXk2pLr9TzW4nYc8bA1sDf3Gh5Jk7Lz9Xc2Vb");
        let text: Vec<String> = derived
            .iter()
            .map(|d| String::from_utf8_lossy(&d.text).into_owned())
            .collect();
        assert_eq!(
            text,
            ["SecretAccessKey = Qm7vXk2pLr9TzW4nYc8bA1sDf3Gh5Jk7Lz9Xc2Vb\n"]
        );
    }

    #[test]
    fn writefile_cells_take_the_written_name() {
        let keys: [&[u8]; 3] = [b"cells", b"source", b"x"];
        let cell = Place {
            path: "nb.ipynb",
            keys: &keys,
            worth: &all,
        };
        assert_eq!(
            virtual_path(&cell, b"%%writefile -a .env\nA=1\n").as_deref(),
            Some(".env")
        );
        assert_eq!(
            virtual_path(&cell, b"%%bash\nexport A=1\n").as_deref(),
            Some("cell.sh")
        );
    }

    #[test]
    fn source_ranges_map_copied_and_decoded_values() {
        let mut derived = Derived::new(&place("x"), None);
        derived.push_pair(b"a.b", b"value123", 40, 48);
        derived.push_pair(b"c", b"decoded", 60, 72);
        let at = derived
            .text
            .windows(8)
            .position(|w| w == b"value123")
            .unwrap();
        assert_eq!(derived.source_range(at + 2, at + 8), 42..48);
        let at = derived
            .text
            .windows(7)
            .position(|w| w == b"decoded")
            .unwrap();
        assert_eq!(derived.source_range(at, at + 7), 60..72);
    }
}
