//! JSON configurations and outputs: a value's enclosing keys (`{"wandb": {"api_key": …}}`),
//! command lines saved as argument arrays (W&B's `wandb-metadata.json` `"args": ["--wandb_key",
//! "…"]`), and `{"name": …, "value": …}` pairs.

use super::{Derived, Place, is_candidate};
use crate::json::{self, Text, Value};

/// JSON files larger than this are data, not configuration, and are not walked.
const LARGEST_CONFIG: usize = 1 << 20;

pub fn derive_file<'p>(place: &Place<'p>, text: &[u8], out: &mut Vec<Derived<'p>>) {
    if text.len() > LARGEST_CONFIG {
        return;
    }
    let Ok(source) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(root) = json::parse(source) else {
        return;
    };
    let mut derived = Derived::new(place, None);
    walk(text, &root, &mut Vec::new(), &mut derived);
    out.push(derived);
}

/// A string of a notebook's `application/json` output: its keys below the MIME type name it.
pub fn derive_notebook_value<'p>(place: &Place<'p>, text: &[u8], out: &mut Vec<Derived<'p>>) {
    let keys = place.keys;
    let Some(at) = keys.iter().position(|k| *k == b"application/json") else {
        return;
    };
    // (A top-level key names its value too: an STS response's `SecretAccessKey`.)
    let inner = &keys[at + 1..];
    if inner.is_empty() || !is_candidate(text) {
        return;
    }
    let mut derived = Derived::new(place, None);
    derived.push_pair(&inner.join(&b'.'), text, 0, text.len());
    out.push(derived);
}

fn walk(file: &[u8], value: &Value, path: &mut Vec<Vec<u8>>, out: &mut Derived<'_>) {
    match value {
        Value::Object(object) => {
            let text_of = |key: &str| match object.get(key) {
                Some(Value::String(text)) => Some(text),
                _ => None,
            };
            if let (Some(name), Some(value)) =
                (text_of("name").or(text_of("key")), text_of("value"))
            {
                push(file, &name.decoded(), value, out);
            }
            for (key, child) in &object.entries {
                path.push(key.to_vec());
                walk(file, child, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            let strings: Vec<&Text> = items
                .iter()
                .filter_map(|i| match i {
                    Value::String(t) => Some(t),
                    _ => None,
                })
                .collect();
            for pair in strings.windows(2) {
                let flag = pair[0].decoded();
                if flag.starts_with(b"-") && !pair[1].decoded().starts_with(b"-") {
                    push(file, &flag, pair[1], out);
                }
            }
            for child in items {
                walk(file, child, path, out);
            }
        }
        Value::String(text) if path.len() >= 2 => push(file, &path.join(&b'.'), text, out),
        _ => {}
    }
}

fn push(file: &[u8], name: &[u8], text: &Text, out: &mut Derived<'_>) {
    let decoded = text.decoded();
    // Workflow exports (n8n) mark a field as an expression with a leading `=`; a literal key
    // after it is still a literal (`"value": "=Bearer …"`).
    let value = match decoded.strip_prefix(b"=") {
        Some(rest) if !rest.starts_with(b"{") && !rest.starts_with(b"=") => rest,
        _ => &decoded[..],
    };
    if !is_candidate(value) {
        return;
    }
    let raw: &[u8] = match text {
        Text::Plain(raw) | Text::Escaped(raw) => raw,
        Text::Owned(_) | Text::Joined { .. } => return,
    };
    // The `=` left out is the raw text's first byte too (it needs no escaping).
    let marker = decoded.len() - value.len();
    let start = (raw.as_ptr() as usize).saturating_sub(file.as_ptr() as usize) + marker;
    out.push_pair(name, value, start, start + raw.len().saturating_sub(marker));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_arguments_and_pairs() {
        let text = br#"{"wandb": {"api_key": "3f9a1c2b4d5e"}, "args": ["--lr", "0.1", "--wandb_key", "9c8b7a6d5e4f"], "env": [{"name": "HF_TOKEN", "value": "hf_abcdefgh1"}]}"#;
        let mut out = Vec::new();
        let place = Place {
            path: "x",
            keys: &[],
            worth: &crate::scan::context::tests::all,
        };
        derive_file(&place, text, &mut out);
        let derived = String::from_utf8_lossy(&out[0].text).into_owned();
        assert!(
            derived.contains("wandb.api_key = 3f9a1c2b4d5e\n"),
            "{derived}"
        );
        assert!(
            derived.contains("--wandb_key = 9c8b7a6d5e4f\n"),
            "{derived}"
        );
        assert!(derived.contains("HF_TOKEN = hf_abcdefgh1\n"), "{derived}");
        let at = out[0]
            .text
            .windows(12)
            .position(|w| w == b"9c8b7a6d5e4f")
            .unwrap();
        let range = out[0].source_range(at, at + 12);
        assert_eq!(&text[range], b"9c8b7a6d5e4f");
    }
}
