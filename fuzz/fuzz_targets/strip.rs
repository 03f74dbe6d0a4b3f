//! Fuzzes the notebook parser and stripper: no input may panic, and whatever is accepted must
//! come out as JSON that parses and strips to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mlguard::notebook::strip::{Render, StripOptions, strip_bytes};

fuzz_target!(|data: &[u8]| {
    let options = StripOptions::default();
    if let Ok(stripped) = strip_bytes(data, &options, Render::Always) {
        let again = strip_bytes(&stripped.output, &options, Render::Always).expect("output strips again");
        assert_eq!(stripped.output, again.output, "stripping is not idempotent");
    }
});
