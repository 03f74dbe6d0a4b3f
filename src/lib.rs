//! mlguard keeps notebook outputs and credentials out of ML repositories.
//!
//! The library holds everything but argument parsing and exit codes: the Python-compatible JSON
//! model, nbformat reading and writing, nbstripout's stripping rules, configuration and the
//! in-place file handling.

pub mod config;
pub mod files;
pub mod json;
pub mod notebook;
pub mod strip;
