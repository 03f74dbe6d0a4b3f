//! mlguard keeps notebook outputs and credentials out of ML repositories.
//!
//! The library holds everything but argument parsing, printing and exit codes. Modules, with
//! dependencies pointing down the list:
//!
//! - `commands`: what each subcommand does (`scan` is shared by the command line and the hooks;
//!   `strip`, `hook`, `install`, `status`), as request → outcome calls.
//! - `settings`: finding and parsing `.mlguard.toml` / `[tool.mlguard]`, one `Settings` with the
//!   command line layered on top.
//! - `report`: findings as text, JSON, SARIF 2.1.0 and GitHub annotations, always redacted.
//! - `scan`: the rules (data), the engine, the finding types, the sources (files, the index,
//!   history) and baselines.
//! - `notebook`: nbformat reading and writing, nbstripout's stripping rules, in-place files.
//! - `git`: plumbing through the `git` command, and the long-running filter protocol.
//! - `json`: the Python-faithful JSON model both of the above read notebooks with.
//! - `parallel`, `shell`: the thread pool that never loses a worker's result, shell quoting.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod commands;
pub mod git;
pub mod json;
pub mod notebook;
pub mod parallel;
pub mod report;
pub mod scan;
pub mod settings;
pub mod shell;
