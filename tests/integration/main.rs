//! The integration suite, one crate so that it links once. Most of it drives the real binary
//! and the real git in temporary repositories, where the process boundary is the point (exit
//! codes, hooks, the filter protocol); `strip_properties` and `scan_corpus` call the library.
//!
//! Two groups need material outside a plain clone and are skipped, each with a line on stderr
//! saying so, when it is absent: the shared corpus (`../shared/corpus`, or `MLGUARD_CORPUS`) and
//! the pinned reference tools (nbstripout, pre-commit, the SARIF schema), which `.ci/test`
//! installs into `target/reference-venv` (or `MLGUARD_REFERENCE_VENV`). `.ci/test` runs all.

mod common;

mod action;
mod cli_conventions;
mod fail_closed;
mod framework_hook;
mod git_robustness;
mod history;
mod history_ci;
mod history_generated;
mod install;
mod pre_commit_framework;
mod pre_commit_mirror;
mod sarif_github;
mod scan_cli;
mod scan_corpus;
mod scan_matrix;
mod scan_staged;
mod strip_cli;
mod strip_differential;
mod strip_memory;
mod strip_properties;
