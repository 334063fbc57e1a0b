//! The `ujian` server and command line: everything that does I/O on top of the pure
//! domain crates.
//!
//! # Layout
//!
//! - [`cli`]: the `ujian` command line (clap): committee commands and `serve`.
//! - `committee`: bank validation, CSV import, exam checks, candidate import.
//! - [`demo`]: `ujian demo`, a ready-to-use exam on SQLite.
//! - [`credentials`]: PINs under a keyed hash, staff passwords as argon2id, PIN generation.
//! - [`keys`]: the secret key files in `DATA_DIR/keys`.
//! - [`app`]: [`app::App`]: configuration, router, listener and graceful shutdown.
//! - [`serve`]: the accept loop: header-read and idle timeouts, connection caps.
//! - [`edge`]: the Origin check, security headers and error shape every route passes.
//! - [`audit`]: the hash-chained audit log and its verification.
//! - [`receipt`]: Ed25519-signed result receipts and their verification.
//! - [`auth`]: candidate login, tokens, lockout.
//! - [`throttle`]: the failed-login table: attempts counted before they are checked.
//! - [`client_ip`]: the client's address, through trusted reverse proxies.
//! - [`board`]: the public board: running scores, ranks, coalesced live feed (SSE).
//! - [`clock`]: the injected clock (real or manual).
//! - [`error`]: the one mapping of errors to wire codes.
//! - [`live`]: sessions in memory, the candidate actions, deadline sweep and checkpoints.
//! - [`monitor`]: seat events for the supervisor's live monitor.
//! - [`staff`]: staff login and the role/scope extractor.
//! - [`control`]: sitting control and the live seat monitor.
//! - [`writer`]: the group-commit writer task (ack only after commit).
//! - [`protocol`]: the candidate WebSocket's JSON wire types.
//! - `ws`: the candidate WebSocket handler.
//! - `pages`: the candidate page and item images.
//! - [`results`]: result exports (CSV, JSON), rescored from the answer logs, with codes.
//! - [`sitting`]: preparing a sitting with every paper drawn in advance.

pub mod actions;
pub mod app;
pub mod audit;
pub mod auth;
pub mod board;
pub mod cli;
pub mod client_ip;
pub mod clock;
mod committee;
pub mod control;
pub mod credentials;
pub mod demo;
pub mod edge;
pub mod error;
mod http;
pub mod keys;
pub mod live;
pub mod monitor;
mod pages;
pub mod protocol;
pub mod receipt;
pub mod results;
pub mod serve;
pub mod sitting;
pub mod staff;
pub mod throttle;
pub mod writer;
mod ws;
