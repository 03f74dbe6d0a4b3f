//! TOML, INI and `.cfg`/`.conf` files: a `[wandb]` or `[remote "storage"]` section header names
//! the vendor that the keys below it belong to, so `api_key = …` under `[wandb]` is derived as
//! `wandb.api_key = …`.

use super::{Derived, Place, is_candidate};

pub fn derive<'p>(place: &Place<'p>, text: &[u8], out: &mut Vec<Derived<'p>>) {
    let mut derived = Derived::new(place, None);
    let mut section: Option<Vec<u8>> = None;
    let mut offset = 0;
    for line in text.split_inclusive(|&b| b == b'\n') {
        let line_start = offset;
        offset += line.len();
        let content = line.trim_ascii();
        if let Some(header) = content
            .strip_prefix(b"[")
            .and_then(|h| h.strip_suffix(b"]"))
        {
            let header = header
                .trim_ascii_start()
                .strip_prefix(b"[")
                .unwrap_or(header);
            let header = header.strip_suffix(b"]").unwrap_or(header);
            section = Some(header.iter().copied().filter(|b| *b != b'\'').collect());
            continue;
        }
        let Some(section) = section.as_ref() else {
            continue;
        };
        let Some(split) = content.iter().position(|&b| b == b'=' || b == b':') else {
            continue;
        };
        let key = content[..split].trim_ascii();
        let key = key
            .strip_prefix(b"\"")
            .and_then(|k| k.strip_suffix(b"\""))
            .unwrap_or(key);
        if key.is_empty() || key.iter().any(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let value = content[split + 1..].trim_ascii();
        let value = match value {
            [b'"', inner @ .., b'"'] | [b'\'', inner @ .., b'\''] => inner,
            _ => value,
        };
        if !is_candidate(value) {
            continue;
        }
        let start = line_start + (value.as_ptr() as usize - line.as_ptr() as usize);
        let mut name = section.clone();
        name.push(b'.');
        name.extend_from_slice(key);
        derived.push_pair(&name, value, start, start + value.len());
    }
    out.push(derived);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_qualified_by_their_section() {
        let mut out = Vec::new();
        let place = Place {
            path: "x",
            keys: &[],
            worth: &crate::scan::context::tests::all,
        };
        derive(&place, b"[wandb]\napi_key = \"3f9a1c2b4d5e6f70\"\n['remote \"s3\"']\n  url = s3://bucket/path\n", &mut out);
        let text = String::from_utf8_lossy(&out[0].text).into_owned();
        assert_eq!(
            text,
            "wandb.api_key = 3f9a1c2b4d5e6f70\nremote \"s3\".url = s3://bucket/path\n"
        );
    }
}
