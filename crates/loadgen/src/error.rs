//! The load generator's expected failures; everything else travels as `anyhow` with context.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LoadgenError {
    #[error("the database already holds {candidates} candidates; give a fresh database (or data directory)")]
    DatabaseNotEmpty { candidates: i64 },
    #[error("the data directory {0} is not empty; give a fresh one or leave --data-dir out")]
    DataDirNotEmpty(PathBuf),
    #[error("cannot find the ujian binary at {0}; build it with `cargo build --release -p server` or pass --ujian")]
    NoServerBinary(PathBuf),
    #[error("ujian serve exited before it was listening ({status}); see {log}")]
    ServerExited { status: String, log: PathBuf },
    #[error("ujian serve did not say where it listens within {secs} s; see {log}")]
    ServerSilent { secs: u64, log: PathBuf },
    #[error("`kill -{signal} {pid}` failed: {message}")]
    Signal { signal: &'static str, pid: u32, message: String },
}
