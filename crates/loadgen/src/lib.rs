//! `ujian-loadgen`: simulated candidates and public board viewers against a ujian server,
//! measuring what the exam day needs (login and ack latency, throughput, board latency,
//! server memory and CPU) and checking what it promises (nothing acknowledged is lost, no
//! time is given back, every session finishes), including across a kill -9.
//!
//! # Layout
//!
//! - [`cli`]: the `ujian-loadgen` command line (`run`, `prepare`, `echo`).
//! - [`prepare`]: a fresh database with the exam, N candidates and an open sitting.
//! - [`process`]: the spawned `ujian serve` (start, SIGTERM, kill -9, restart) and `/proc`.
//! - [`run`]: one run: viewers, candidates, monitor, crash; [`run::drive`] is the entry
//!   point tests use against an in-process server.
//! - [`candidate`]: one simulated candidate over HTTP and WebSocket.
//! - [`http1`]: the minimal HTTP/1.1 client candidates log in with.
//! - [`viewer`]: board viewers (SSE) and the ack → viewer latency matcher.
//! - [`echo`]: the bare WebSocket echo baseline.
//! - [`check`]: acknowledgements against the stored answer log.
//! - [`stats`]: percentiles and error counts.
//! - [`report`]: the result file and the summary table.
//! - [`error`]: the expected failures.
//!
//! Load is always driven over the network, as a browser would: the server library is used
//! only to prepare data and for its wire types.

pub mod candidate;
pub mod check;
pub mod cli;
pub mod echo;
pub mod error;
pub mod http1;
pub mod prepare;
pub mod process;
pub mod report;
pub mod run;
pub mod stats;
pub mod viewer;
