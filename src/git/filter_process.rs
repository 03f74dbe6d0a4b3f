//! git's long-running filter protocol (`filter.<driver>.process`), so one mlguard process
//! strips every notebook of a `git add`, `git status` or `git diff`.
//!
//! pkt-line framing: four hex digits give the packet length including themselves; `0000` is a
//! flush. After the handshake each request is a key list (`command=`, `pathname=`, …), a flush,
//! the content in packets and a flush. Every request is read whole before anything is written
//! back (git writes the whole request before it reads, so answering early can deadlock), and a
//! notebook that cannot be stripped gets `status=error` and no content, never a partial blob.
//!
//! A command such as `git add --renormalize .` sends thousands of notebooks through one
//! process, and a large notebook should cost little more than its own size: each request's
//! content is read into one buffer reused for the next, and the stripped notebook is written
//! into packets as it is walked (it is never held whole).

use std::io::{self, Read, Write};

use crate::notebook::Mode;
use crate::notebook::format;
use crate::notebook::strip::{self, StripOptions};

/// The largest payload of one packet (git's LARGE_PACKET_MAX minus the header).
const MAX_PAYLOAD: usize = 65516;

#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("filter protocol: {0}")]
    Io(#[from] io::Error),
    #[error("filter protocol: {0}")]
    Violation(String),
}

fn violation(message: impl Into<String>) -> ProtocolError {
    ProtocolError::Violation(message.into())
}

/// One packet: data, or a flush.
#[derive(Debug, PartialEq, Eq)]
enum Packet {
    Data(Vec<u8>),
    Flush,
}

/// Reads a packet header: `None` at a clean end of input (between requests), `Some(0)` for a
/// flush, else the payload length.
fn read_header(input: &mut impl Read) -> Result<Option<usize>, ProtocolError> {
    let mut header = [0u8; 4];
    let mut filled = 0;
    while filled < 4 {
        match input.read(&mut header[filled..])? {
            0 if filled == 0 => return Ok(None),
            0 => return Err(violation("truncated packet header")),
            n => filled += n,
        }
    }
    let text = std::str::from_utf8(&header).map_err(|_| violation("packet header is not hex"))?;
    let length = usize::from_str_radix(text, 16)
        .map_err(|_| violation(format!("bad packet header {text:?}")))?;
    match length {
        0 => Ok(Some(0)),
        1..=4 => Err(violation(format!("unexpected packet length {length}"))),
        _ => Ok(Some(length - 4)),
    }
}

/// Reads one packet; `None` at a clean end of input (between requests).
fn read_packet(input: &mut impl Read) -> Result<Option<Packet>, ProtocolError> {
    match read_header(input)? {
        None => Ok(None),
        Some(0) => Ok(Some(Packet::Flush)),
        Some(length) => {
            let mut payload = vec![0; length];
            input.read_exact(&mut payload)?;
            Ok(Some(Packet::Data(payload)))
        }
    }
}

/// Packets as a byte stream: whatever is written goes out in packets of the largest size.
struct PacketWriter<'o, W: Write> {
    out: &'o mut W,
    pending: Vec<u8>,
}

impl<W: Write> Write for PacketWriter<'_, W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = MAX_PAYLOAD - self.pending.len();
        let taken = data.len().min(room);
        self.pending.extend_from_slice(&data[..taken]);
        if self.pending.len() == MAX_PAYLOAD {
            write_packet(self.out, &self.pending)?;
            self.pending.clear();
        }
        Ok(taken)
    }

    /// Sends what is pending as a last, shorter packet.
    fn flush(&mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            write_packet(self.out, &self.pending)?;
            self.pending.clear();
        }
        Ok(())
    }
}

fn write_packet(out: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    write!(out, "{:04x}", payload.len() + 4)?;
    out.write_all(payload)
}

fn write_flush(out: &mut impl Write) -> io::Result<()> {
    out.write_all(b"0000")
}

fn write_text(out: &mut impl Write, line: &str) -> io::Result<()> {
    write_packet(out, format!("{line}\n").as_bytes())
}

/// Reads text packets up to a flush, each without its trailing newline.
fn read_list(input: &mut impl Read) -> Result<Option<Vec<String>>, ProtocolError> {
    let mut lines = Vec::new();
    loop {
        match read_packet(input)? {
            None if lines.is_empty() => return Ok(None),
            None => return Err(violation("input ended inside a key list")),
            Some(Packet::Flush) => return Ok(Some(lines)),
            Some(Packet::Data(mut data)) => {
                if data.last() == Some(&b'\n') {
                    data.pop();
                }
                lines.push(String::from_utf8_lossy(&data).into_owned());
            }
        }
    }
}

/// Reads a request's content, up to its flush, into `content` (cleared first; reused from one
/// request to the next), straight from the input without a copy per packet.
fn read_content(input: &mut impl Read, content: &mut Vec<u8>) -> Result<(), ProtocolError> {
    content.clear();
    loop {
        match read_header(input)? {
            Some(0) => return Ok(()),
            Some(length) => {
                let read = input.take(length as u64).read_to_end(content)?;
                if read != length {
                    return Err(violation("input ended inside a packet"));
                }
            }
            None => return Err(violation("input ended inside content")),
        }
    }
}

/// The handshake: `git-filter-client` / `version=2`, then the capabilities; we take `clean`
/// and `smudge` (a required filter must answer smudge too, so checkouts keep working).
fn handshake(input: &mut impl Read, out: &mut impl Write) -> Result<(), ProtocolError> {
    let welcome = read_list(input)?.ok_or_else(|| violation("no greeting from git"))?;
    if welcome.first().map(String::as_str) != Some("git-filter-client") {
        return Err(violation(format!("unexpected greeting {welcome:?}")));
    }
    if !welcome.iter().any(|l| l == "version=2") {
        return Err(violation(format!(
            "git offers no supported version: {welcome:?}"
        )));
    }
    write_text(out, "git-filter-server")?;
    write_text(out, "version=2")?;
    write_flush(out)?;
    out.flush()?;
    let offered = read_list(input)?.ok_or_else(|| violation("no capabilities from git"))?;
    for capability in ["capability=clean", "capability=smudge"] {
        if offered.iter().any(|c| c == capability) {
            write_text(out, capability)?;
        }
    }
    write_flush(out)?;
    out.flush()?;
    Ok(())
}

/// What to answer for one file: its content as it came (smudge, an empty notebook), or the
/// stripped notebook, ready to be written. `Err` carries the message for git's stderr.
enum Answer<'c> {
    Unchanged,
    Stripped(format::Prepared<'c>),
}

fn answer<'c>(
    command: &str,
    pathname: &str,
    content: &'c [u8],
    options: &StripOptions,
) -> Result<Answer<'c>, String> {
    match command {
        "smudge" => Ok(Answer::Unchanged),
        // An empty notebook (`touch new.ipynb`) has nothing to strip; refusing it would make a
        // required filter block `git add` and `git status` for the whole repository.
        "clean" if content.iter().all(u8::is_ascii_whitespace) => Ok(Answer::Unchanged),
        "clean" => {
            // No other option applies to a Zeppelin note, so its options are the defaults.
            let zeppelin = StripOptions {
                mode: Mode::Zeppelin,
                ..StripOptions::default()
            };
            let options = if Mode::of_path(pathname) == Some(Mode::Zeppelin) {
                &zeppelin
            } else {
                options
            };
            strip::strip_prepared(content, options)
                .map(|(_, prepared)| Answer::Stripped(prepared))
                .map_err(|e| format!("mlguard: error: {pathname}: {e}"))
        }
        other => Err(format!(
            "mlguard: error: {pathname}: unsupported filter command `{other}`"
        )),
    }
}

/// `status=success`, the content in packets (written as it is produced), and the closing
/// flushes (the second one keeps the status).
fn write_success(
    out: &mut impl Write,
    content: &[u8],
    answer: &Answer,
    packet: &mut Vec<u8>,
) -> io::Result<()> {
    write_text(out, "status=success")?;
    write_flush(out)?;
    let mut packets = PacketWriter {
        out,
        pending: std::mem::take(packet),
    };
    let written = match answer {
        Answer::Unchanged => packets.write_all(content),
        Answer::Stripped(prepared) => prepared.write_to(&mut packets),
    }
    .and_then(|()| packets.flush());
    *packet = std::mem::take(&mut packets.pending);
    written?;
    write_flush(out)?;
    write_flush(out)
}

/// Serves requests until git closes the pipe. Errors for one file are reported on `log`.
pub fn serve(
    input: &mut impl Read,
    out: &mut impl Write,
    log: &mut impl Write,
    options: &StripOptions,
) -> Result<(), ProtocolError> {
    handshake(input, out)?;
    let mut content = Vec::new();
    let mut packet = Vec::with_capacity(MAX_PAYLOAD);
    while let Some(keys) = read_list(input)? {
        let value = |name: &str| {
            keys.iter()
                .find_map(|k| k.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
                .unwrap_or_default()
                .to_string()
        };
        let (command, pathname) = (value("command"), value("pathname"));
        read_content(input, &mut content)?;
        match answer(&command, &pathname, &content, options) {
            Ok(answer) => write_success(out, &content, &answer, &mut packet)?,
            Err(message) => {
                let _ = writeln!(log, "{message}");
                write_text(out, "status=error")?;
                write_flush(out)?;
            }
        }
        out.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(out: &mut Vec<u8>, text: &str) {
        write_packet(out, text.as_bytes()).unwrap();
    }

    fn request(input: &mut Vec<u8>, command: &str, path: &str, content: &[u8]) {
        packet(input, &format!("command={command}\n"));
        packet(input, &format!("pathname={path}\n"));
        input.extend_from_slice(b"0000");
        for chunk in content.chunks(MAX_PAYLOAD) {
            write_packet(input, chunk).unwrap();
        }
        input.extend_from_slice(b"0000");
    }

    fn session(requests: impl FnOnce(&mut Vec<u8>)) -> (Vec<u8>, String) {
        let mut input = Vec::new();
        packet(&mut input, "git-filter-client\n");
        packet(&mut input, "version=2\n");
        input.extend_from_slice(b"0000");
        for c in [
            "capability=clean\n",
            "capability=smudge\n",
            "capability=delay\n",
        ] {
            packet(&mut input, c);
        }
        input.extend_from_slice(b"0000");
        requests(&mut input);
        let (mut out, mut log) = (Vec::new(), Vec::new());
        serve(
            &mut input.as_slice(),
            &mut out,
            &mut log,
            &StripOptions::default(),
        )
        .unwrap();
        (out, String::from_utf8(log).unwrap())
    }

    #[test]
    fn handshake_takes_clean_and_smudge_only() {
        let (out, _) = session(|_| {});
        assert_eq!(
            out,
            b"0016git-filter-server\n000eversion=2\n00000015capability=clean\n0016capability=smudge\n0000"
        );
    }

    #[test]
    fn smudge_passes_through_and_bad_notebooks_get_status_error() {
        let big = vec![b'x'; 70_001];
        let (out, log) = session(|input| {
            request(input, "smudge", "a.ipynb", &big);
            request(input, "clean", "bad.ipynb", b"{not json");
            request(input, "clean", "empty.ipynb", b"");
        });
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("0013status=success\n0000fff0"));
        assert_eq!(text.matches("status=error").count(), 1, "{text}");
        assert!(
            text.ends_with("0013status=success\n000000000000"),
            "empty file passes: {text}"
        );
        assert!(log.contains("bad.ipynb") && !log.contains("empty.ipynb"));
        assert_eq!(out.iter().filter(|&&b| b == b'x').count(), 70_001);
    }
}
