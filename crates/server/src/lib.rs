//! The `ujian` server and command line: everything that does I/O on top of the pure
//! domain crates.
//!
//! # Layout
//!
//! - [`cli`]: the `ujian` command line (clap): committee commands and `serve`.
//! - `committee`: bank validation, CSV import, exam checks, candidate import.
//! - [`credentials`]: argon2id hashing of PINs and passwords, PIN generation.
//! - [`app`]: [`app::App`]: configuration, router, listener and graceful shutdown.

pub mod app;
pub mod cli;
mod committee;
pub mod credentials;
