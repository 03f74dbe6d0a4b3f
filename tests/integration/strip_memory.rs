//! Memory that does not multiply the input (issue 13): stripping a notebook, as the clean filter
//! on stdin and through `filter-process`, peaks at no more than 1.3 times the notebook's size
//! (plus the process's fixed cost), for notebooks of many short lines (the costliest to parse)
//! and of large images alike. Peaks are read with GNU time (`/usr/bin/time -f %M`); mlguard
//! starts no child here, so it is mlguard's own.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::*;

/// What any run of the binary costs before it reads a byte (code, allocator, buffers).
const FIXED_MB: f64 = 12.0;

/// A notebook of about `megabytes` MB: many cells of short source lines and stream, HTML and
/// plain-text outputs of short lines, or cells with large base64 images.
fn notebook(megabytes: usize, images: bool) -> Vec<u8> {
    let mut cells = Vec::new();
    let mut size = 0;
    let mut i = 0u64;
    while size < megabytes << 20 {
        let outputs = if images {
            let png: String = (0..3_000_000u64)
                .map(|k| {
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef0123456789+/"[((k * 7 + i) % 44) as usize]
                        as char
                })
                .collect();
            serde_json::json!([{"data": {"image/png": png, "text/plain": ["<Figure>"]},
                                "metadata": {}, "output_type": "display_data"}])
        } else {
            let lines: Vec<String> = (0..80)
                .map(|k| format!("epoch {k} loss 0.{i:05} acc {k}\n"))
                .collect();
            let html: Vec<String> = (0..30)
                .map(|k| format!("<tr><td>{k}</td><td>{i}</td></tr>\n"))
                .collect();
            serde_json::json!([{"name": "stdout", "output_type": "stream", "text": lines},
                               {"data": {"text/html": html, "text/plain": ["a table\n"]}, "execution_count": 1,
                                "metadata": {}, "output_type": "execute_result"}])
        };
        let source: Vec<String> = (0..20)
            .map(|k| format!("x_{k} = f({i}, {k})  # step\n"))
            .collect();
        let cell = serde_json::json!({"cell_type": "code", "execution_count": 1, "id": format!("{i:08x}"),
                                      "metadata": {}, "outputs": outputs, "source": source});
        size += cell.to_string().len();
        cells.push(cell);
        i += 1;
    }
    let nb =
        serde_json::json!({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5});
    serde_json::to_vec_pretty(&nb).unwrap()
}

/// The peak RSS in MB of `mlguard ARGS < stdin_file`, or `None` without GNU time.
fn peak_mb(args: &[&str], stdin_file: &Path) -> Option<f64> {
    if !Path::new("/usr/bin/time").exists() {
        return None;
    }
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_mlguard"))
        .args(args)
        .stdin(std::fs::File::open(stdin_file).unwrap())
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let kb: f64 = stderr.lines().last()?.trim().parse().ok()?;
    Some(kb / 1024.0)
}

fn packet(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(format!("{:04x}", payload.len() + 4).as_bytes());
    out.extend_from_slice(payload);
}

/// A `filter-process` session: the handshake and one clean request for `content`.
fn filter_session(content: &[u8]) -> Vec<u8> {
    let mut session = Vec::new();
    packet(&mut session, b"git-filter-client\n");
    packet(&mut session, b"version=2\n");
    session.extend_from_slice(b"0000");
    packet(&mut session, b"capability=clean\n");
    packet(&mut session, b"capability=smudge\n");
    session.extend_from_slice(b"0000");
    packet(&mut session, b"command=clean\n");
    packet(&mut session, b"pathname=big.ipynb\n");
    session.extend_from_slice(b"0000");
    for chunk in content.chunks(65516) {
        packet(&mut session, chunk);
    }
    session.extend_from_slice(b"0000");
    session
}

#[test]
fn stripping_peaks_near_the_notebook_size() {
    let dir = tempfile::tempdir().unwrap();
    for (name, images) in [("text", false), ("images", true)] {
        let content = notebook(24, images);
        let size_mb = content.len() as f64 / (1 << 20) as f64;
        let file = dir.path().join(format!("{name}.ipynb"));
        std::fs::write(&file, &content).unwrap();
        let session = dir.path().join(format!("{name}.session"));
        std::fs::write(&session, filter_session(&content)).unwrap();
        drop(content);
        for (how, args, input) in [
            ("strip", &["strip", "--no-config"][..], &file),
            ("filter-process", &["filter-process"][..], &session),
        ] {
            let Some(peak) = peak_mb(args, input) else {
                skip("needs GNU time at /usr/bin/time to read the peak memory");
                return;
            };
            // The session file holds the notebook plus 4 bytes a packet; the content is what counts.
            let limit = 1.3 * size_mb + FIXED_MB;
            assert!(
                peak <= limit,
                "{how} of a {size_mb:.0} MB {name} notebook peaked at {peak:.0} MB (limit {limit:.0} MB)"
            );
        }
    }
}
