//! What each subcommand does, as library calls that take a request and return an outcome:
//! `main.rs` parses arguments into these, prints the outcomes and picks the exit code, and the
//! hooks call the same functions (the pre-commit hook is `hook::pre_commit`, the pre-commit
//! framework's scan hook is `framework::run`; both run the shared scan).

pub mod filter;
pub mod framework;
pub mod hook;
pub mod install;
pub mod scan;
pub mod status;
pub mod strip;

pub use crate::notebook::Mode;
pub use crate::notebook::file::Action;
pub use crate::report::Format;
pub use crate::settings::{ConfigSource, Settings, StripInput};
pub use crate::shell::printable;
