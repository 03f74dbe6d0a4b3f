//! YAML as ML configurations write it (Hydra, axolotl, DVC, MLflow, docker-compose, Kubernetes):
//! an indentation walk, not a full parser, that knows each scalar's enclosing keys.
//!
//! Derived lines: `wandb.api_key = …` for a nested scalar (the vendor is on an enclosing key),
//! `WANDB_API_KEY = …` for a Kubernetes or compose `- name: … / value: …` pair, and, for a
//! Kubernetes `Secret`, every `data:` value decoded from base64 (judged as a `.env` file:
//! a Secret is a store of credentials by definition).

use super::{Derived, Place, base64, is_candidate, is_text};

/// One open mapping key: its indentation and name.
struct Level {
    indent: usize,
    key: Vec<u8>,
}

pub fn derive<'p>(place: &Place<'p>, text: &[u8], out: &mut Vec<Derived<'p>>) {
    let mut nested = Derived::new(place, None);
    // Judged as a `.env` file, in the manifest's own directory (a test overlay stays one).
    let mut secrets = Derived::new(place, Some(format!("{}.env", place.path)));
    for document in documents(text) {
        walk(text, document, &mut nested, &mut secrets);
    }
    out.push(nested);
    out.push(secrets);
}

/// The byte ranges of the YAML documents (`---` separated).
fn documents(text: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut offset = 0;
    for line in text.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"---") {
            out.push((start, offset));
            start = offset + line.len();
        }
        offset += line.len();
    }
    out.push((start, text.len()));
    out
}

fn walk(
    text: &[u8],
    (from, to): (usize, usize),
    nested: &mut Derived<'_>,
    secrets: &mut Derived<'_>,
) {
    let document = &text[from..to];
    let is_secret = document
        .split(|&b| b == b'\n')
        .any(|l| trim(l) == b"kind: Secret" || trim(l) == b"kind: \"Secret\"");
    let mut stack: Vec<Level> = Vec::new();
    let mut block_scalar: Option<usize> = None;
    // The last `name:` (or `key:`) scalar seen at an indentation, for `value:` to pair with.
    let mut pending_name: Option<(usize, Vec<u8>)> = None;
    let mut offset = from;
    for line in document.split_inclusive(|&b| b == b'\n') {
        let line_start = offset;
        offset += line.len();
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        let mut indent = content.iter().take_while(|&&b| b == b' ').count();
        let mut rest = &content[indent..];
        if rest.is_empty() || rest.starts_with(b"#") {
            continue;
        }
        if let Some(block) = block_scalar {
            if indent > block {
                continue;
            }
            block_scalar = None;
        }
        let mut item = false;
        while rest.starts_with(b"- ") || rest == b"-" {
            let skip = 1 + rest[1..].iter().take_while(|&&b| b == b' ').count();
            indent += skip;
            rest = &rest[skip.min(rest.len())..];
            item = true;
        }
        let Some((key, value_at)) = split_key(rest) else {
            continue;
        };
        while stack.last().is_some_and(|level| level.indent >= indent) {
            stack.pop();
        }
        if item {
            pending_name = None;
        }
        let raw_value = trim(strip_comment(&rest[value_at..]));
        if raw_value.is_empty() || raw_value.starts_with(b"|") || raw_value.starts_with(b">") {
            if !raw_value.is_empty() {
                block_scalar = Some(indent);
            }
            stack.push(Level {
                indent,
                key: key.to_vec(),
            });
            continue;
        }
        let value = unquote(raw_value);
        let value_start = line_start + (value.as_ptr() as usize - line.as_ptr() as usize);
        let value_end = value_start + value.len();
        if key == b"name" || key == b"key" {
            pending_name = Some((indent, value.to_vec()));
        }
        if key == b"value" {
            if let Some((at, name)) = pending_name.take() {
                if at == indent && is_candidate(value) {
                    nested.push_pair(&name, value, value_start, value_end);
                    continue;
                }
            }
        }
        if is_secret && stack.len() == 1 && stack[0].indent == 0 {
            if stack[0].key == b"data" {
                secrets.shadows.push(value_start..value_end);
                if let Some(decoded) = base64::decode(value) {
                    if !decoded.is_empty() && is_text(&decoded) {
                        secrets.push_decoded_pair(key, &decoded, value_start, value_end);
                    }
                }
                continue;
            }
            if stack[0].key == b"stringData" && is_candidate(value) {
                secrets.push_pair(key, value, value_start, value_end);
                continue;
            }
        }
        if stack.is_empty() || !is_candidate(value) {
            continue;
        }
        let mut name = Vec::new();
        for level in &stack {
            name.extend_from_slice(&level.key);
            name.push(b'.');
        }
        name.extend_from_slice(key);
        nested.push_pair(&name, value, value_start, value_end);
    }
}

/// `key: rest` → (key without quotes, offset of rest); `None` when the line is not a mapping entry.
fn split_key(line: &[u8]) -> Option<(&[u8], usize)> {
    if let Some(quote) = line.first().filter(|q| matches!(q, b'"' | b'\'')) {
        let close = line[1..].iter().position(|b| b == quote)? + 1;
        let after = &line[close + 1..];
        let colon = after.iter().take_while(|&&b| b == b' ').count();
        if after.get(colon) != Some(&b':') {
            return None;
        }
        return Some((&line[1..close], close + 1 + colon + 1));
    }
    let colon = line
        .windows(2)
        .position(|w| w[0] == b':' && w[1] == b' ')
        .or_else(|| line.ends_with(b":").then(|| line.len() - 1))?;
    let key = &line[..colon];
    let plain = !key.is_empty()
        && key.iter().all(|&b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b' ' | b'$')
        });
    plain.then_some((trim(key), colon + 1))
}

/// A plain scalar's trailing ` # comment` removed (quoted scalars keep their `#`).
fn strip_comment(value: &[u8]) -> &[u8] {
    let value = trim(value);
    if matches!(value.first(), Some(b'"' | b'\'')) {
        return value;
    }
    match value.windows(2).position(|w| w == b" #") {
        Some(at) => &value[..at],
        None => value,
    }
}

fn unquote(value: &[u8]) -> &[u8] {
    match value {
        [b'"', inner @ .., b'"'] | [b'\'', inner @ .., b'\''] => inner,
        _ => value,
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |p| p + 1);
    &bytes[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn derived(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let place = Place {
            path: "x.yaml",
            keys: &[],
            worth: &crate::scan::context::tests::all,
        };
        derive(&place, text.as_bytes(), &mut out);
        out.iter()
            .flat_map(|d| {
                String::from_utf8_lossy(&d.text)
                    .lines()
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn nested_scalars_carry_their_enclosing_keys() {
        let text = "logger:\n  wandb:\n    project: llm # the project\n    api_key: 3f9a1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c\nother: 1\n";
        assert_eq!(
            derived(text),
            ["logger.wandb.api_key = 3f9a1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c"]
        );
    }

    #[test]
    fn name_value_pairs_and_secret_data() {
        let text = "kind: Secret\ndata:\n  DB_PASSWORD: OEtVQ0VSa2o5Wmh4OVBrTw==\n---\nspec:\n  env:\n  - name: WANDB_API_KEY\n    value: \"3f9a1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c\"\n";
        let lines = derived(text);
        assert!(
            lines.contains(&"WANDB_API_KEY = 3f9a1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c".to_string()),
            "{lines:?}"
        );
        assert!(
            lines.contains(&"DB_PASSWORD = 8KUCERkj9Zhx9PkO".to_string()),
            "{lines:?}"
        );
    }
}
