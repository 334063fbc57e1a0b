//! The `ujian` server and command line: everything that does I/O on top of the pure
//! domain crates.
//!
//! # Layout
//!
//! - [`announcements`]: a stored selection's stages computed from stored results, and
//!   its signed, immutable announcements; a candidate's own standing.
//! - [`cli`]: the `ujian` command line (clap): committee commands and `serve`.
//! - `committee`: bank validation, CSV import, exam checks, candidate import.
//! - [`demo`]: `ujian demo`, a ready-to-use exam on SQLite.
//! - [`config`]: the server's settings, passed explicitly.
//! - [`startup`]: [`startup::App`]: opens the database, starts the tasks, binds the
//!   listener; stops them in order.
//! - [`shutdown`]: the shutdown signal and the wait every task selects on.
//! - [`http`]: the routes with their access, one module per surface, the accept loop, the
//!   edge checks, the pages; the only module (with `cli` and `main`) that knows axum.
//! - [`credentials`]: PINs under a keyed hash, staff passwords as argon2id, PIN generation.
//! - [`keys`]: the secret key files in `DATA_DIR/keys`.
//! - [`audit`]: the hash-chained audit log and its verification.
//! - [`receipt`]: Ed25519-signed result receipts and their verification.
//! - [`signed_head`]: the audit chain's head signed with the receipts' key, published.
//! - [`auth`]: candidate login, tokens, lockout.
//! - [`throttle`]: the failed-login table: attempts counted before they are checked.
//! - [`board`]: the public board: running scores, ranks, coalesced live feed.
//! - [`clock`]: the injected clock (real or manual).
//! - [`error`]: the error [`error::Code`]s and the errors built from them.
//! - [`actions`]: staff actions on sittings and sessions, and the audit log's actions.
//! - [`exams`]: exams with their banks, loaded once, and their images.
//! - [`live`]: seats (sessions in memory), the candidate and supervisor actions, the
//!   deadline sweep and checkpoints.
//! - [`monitor`]: seat events for the supervisor's live monitor.
//! - [`staff`]: staff login, roles and scope.
//! - [`control`]: sitting and seat control, and what the live monitor shows.
//! - [`protocol`]: the candidate WebSocket's JSON wire types.
//! - [`results`]: result exports (CSV, JSON), rescored from the answer logs, with codes.
//! - [`sitting`]: preparing a sitting with every paper drawn in advance.
//! - [`sittings`]: sitting statuses ([`sittings::SittingStatus`]) and starts, read once.

pub mod actions;
pub mod announcements;
pub mod audit;
pub mod auth;
pub mod board;
pub mod cli;
pub mod clock;
mod committee;
pub mod config;
pub mod control;
pub mod credentials;
pub mod demo;
pub mod error;
pub mod exams;
pub mod http;
pub mod keys;
pub mod live;
pub mod monitor;
pub mod protocol;
pub mod receipt;
pub mod results;
pub mod shutdown;
pub mod signed_head;
pub mod sitting;
pub mod sittings;
pub mod staff;
pub mod startup;
pub mod throttle;
pub mod welcome;
