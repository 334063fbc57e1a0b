//! The candidate's attempt: paper assembly, the session state machine and its timer.
//!
//! Pure: no I/O, no clock, no tasks. Time is an argument ([`Tick`], milliseconds of a
//! monotonic clock the server owns), randomness comes from a seed the server derives from
//! the sitting's secret with [`paper::seed`].
//!
//! # Layout
//!
//! - [`paper`]: [`Paper`] and [`assemble`]: the seeded draw and shuffles.
//! - [`cycling`]: [`AnswerCycling`]: one question answered with many options in a short
//!   while, the shape of probing for the key.
//! - [`timer`]: [`Timer`]: allowed, used and running time, pauses and extensions.
//! - [`session`]: [`Session`], [`Command`], [`Event`], [`Refusal`]: what a candidate and a
//!   supervisor can do to a session, and what it answers.
//! - [`answer_log`]: [`Replay`] and [`LogDigest`]: the sheet a stored answer log replays
//!   to, and the digest of the log that receipts carry.

pub mod answer_log;
pub mod cycling;
pub mod paper;
pub mod session;
pub mod timer;

pub use answer_log::{LogDigest, LogLine, Replay};
pub use cycling::AnswerCycling;
pub use paper::{Paper, PaperEntry, PaperError, assemble, seed};
pub use session::{Command, Event, FinishReason, Refusal, Session, Status};
pub use timer::{Tick, Timer};
