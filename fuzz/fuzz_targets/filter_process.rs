//! Fuzzes git's long-running filter protocol as mlguard serves it: any byte stream on stdin
//! ends in a clean return or a protocol error, never a panic or a hang, and every answer is
//! well-formed pkt-line framing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlguard::git::filter_process::serve;
use mlguard::notebook::strip::StripOptions;

/// A valid handshake, so that most inputs reach the request loop.
const HANDSHAKE: &[u8] = b"0016git-filter-client\n000eversion=2\n00000015capability=clean\n0016capability=smudge\n0000";

fuzz_target!(|data: &[u8]| {
    let mut input = if data.first().is_some_and(|b| b & 1 == 0) {
        let mut input = HANDSHAKE.to_vec();
        input.extend_from_slice(&data[1..]);
        input
    } else {
        data.to_vec()
    };
    input.truncate(1 << 20);
    let (mut out, mut log) = (Vec::new(), Vec::new());
    let _ = serve(
        &mut input.as_slice(),
        &mut out,
        &mut log,
        &StripOptions::default(),
    );
    // The answers are pkt-lines: four hex digits, then that many bytes minus four.
    let mut rest = out.as_slice();
    while !rest.is_empty() {
        let header = std::str::from_utf8(&rest[..4]).expect("hex header");
        let length = usize::from_str_radix(header, 16).expect("hex length");
        assert!(length == 0 || (5..=65520).contains(&length), "length {length}");
        rest = &rest[length.max(4)..];
    }
});
