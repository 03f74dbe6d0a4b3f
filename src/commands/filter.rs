//! `mlguard filter-process`: serves git's long-running filter protocol for one git command,
//! stripping notebooks with the repository's `[strip]` settings (the protocol is in
//! `git::filter_process`).

use std::io::{Read, Write};

use crate::git::filter_process::{self, ProtocolError};
use crate::settings::Settings;

/// Serves requests until git closes the pipe; per-file errors go to `log`.
pub fn serve(
    settings: &Settings,
    input: &mut impl Read,
    output: &mut impl Write,
    log: &mut impl Write,
) -> Result<(), ProtocolError> {
    filter_process::serve(input, output, log, &settings.strip)
}
