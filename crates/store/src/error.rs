//! The store's one error type.

use std::path::PathBuf;

/// Errors from the store. Expected refusals are variants; database failures carry sqlx's error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database settings: {0}")]
    Durability(String),
    #[error("a database read on a blocking thread stopped: {0}")]
    Blocking(String),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("stored bank {hash} no longer validates: {message}")]
    CorruptBank { hash: String, message: String },
    #[error("stored bank {stored} does not hash to its key {expected}")]
    BankHashMismatch { expected: String, stored: String },
    #[error("exam {exam} names bank {bank}, which is not stored")]
    MissingBank { exam: String, bank: String },
    #[error("sitting leases need PostgreSQL: a single node on SQLite owns every sitting")]
    LeasesNeedPostgres,
    /// A group commit carried the fence of a sitting whose lease its node no longer holds
    /// at that epoch: nothing of it was stored (the writer retries the rest without them).
    #[error("the lease of sitting(s) {} is no longer held", .0.join(", "))]
    Fenced(Vec<String>),
    #[error("stored exam {code} no longer parses: {message}")]
    CorruptExam { code: String, message: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
