//! mlguard keeps notebook outputs and credentials out of ML repositories.
//!
//! The library holds everything but argument parsing and exit codes: the Python-compatible JSON
//! model, nbformat reading and writing, nbstripout's stripping rules, the credential rules and
//! scanner, git plumbing, reports, configuration and the in-place file handling.

pub mod baseline;
pub mod config;
pub mod files;
pub mod filter_process;
pub mod git;
pub mod history;
pub mod hook;
pub mod install;
pub mod json;
pub mod notebook;
pub mod report;
pub mod rules;
pub mod scan;
pub mod sources;
pub mod strip;
