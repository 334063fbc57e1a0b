//! Persistence for ujian on SQLite (embedded, the default) and PostgreSQL (by URL), through
//! one sqlx code path (the `Any` driver) and one set of migrations, except where SQLite's
//! hand-offs through sqlx cost too much: the group commit (`direct`) and the bulk loads
//! (`load`) run SQLite themselves there, on a thread of their own (rusqlite, the same
//! SQLite library as sqlx's).
//!
//! # Layout
//!
//! - `connection`: [`Store`], opening a database and applying migrations; the settings
//!   every connection gets, the durability read-back, and the WAL checkpointer
//!   ([`run_wal_checkpoints`]).
//! - `error`: [`StoreError`].
//! - `rows`: every row type the store reads or writes ([`SessionRecord`], [`LogEntry`],
//!   [`AuditRow`], …), plain values with no database code.
//! - `banks`: banks stored by content hash, loaded back through item-bank's own parser.
//! - `exams`: exam blueprints tied to the bank they were checked against.
//! - `people`: candidates and supervisors (credentials as argon2id hashes, made by the caller).
//! - `sessions`: sittings, sessions, papers, login tokens and the append-only answer log,
//!   written by the group commit ([`BatchWriter`]: `batch`, and on SQLite `direct`) and
//!   read back by `load`.
//! - `staff`: staff tokens and scopes, seats, check-in, and reading the audit log.
//! - `append_only`: the triggers that refuse UPDATE and DELETE on the audit log, and
//!   [`Store::append_audit`] for entries from the command line.
//! - `tokens`: candidate login tokens: what a presented one stands for, and ending them
//!   (marked with a reason, never deleted).
//!
//! Every query is written once, with `$1` placeholders that both backends accept, except
//! multi-row statements, which use `?` on SQLite (see `batch`), and the SQLite group
//! commit's own statements (`direct`); `load`'s queries run on both drivers as written.

mod append_only;
mod banks;
mod batch;
mod connection;
mod direct;
mod error;
mod exams;
mod load;
mod people;
mod rows;
mod sessions;
mod staff;
mod tokens;

use connection::{WRITER_CACHE_KIB, connect};

pub use batch::Batch;
pub use connection::{
    Backend, Store, WAL_CHECKPOINT_EVERY, WalCheckpoint, create_private_dir, run_wal_checkpoints, sqlite_url_in,
};
pub use direct::{DirectWriter, WriterSettings};
pub use error::{Result, StoreError};
pub use exams::StoredExam;
pub use rows::{
    AnswerLine, AuditRow, BoardRow, LogEntry, LoginCandidate, NewCandidate, NewLoginToken, NewSession, NewSitting,
    NewSupervisor, PaperRow, Revoked, SeatRow, SessionRecord, SessionWrite, SittingListRow, SittingRow, StaffRow,
    StoredBank, TokenRevocation, TokenRow, ts,
};
/// The digest a [`SessionRecord`] carries on; the answer log's rules live in session-engine.
pub use session_engine::LogDigest;

impl Store {
    /// A connection of its own for the group-commit writer, which runs on its own thread so
    /// that its commits never queue behind the request handlers. On SQLite it is a
    /// [`DirectWriter`] with the large page cache ([`WRITER_CACHE_KIB`]), used
    /// synchronously on that thread (open it there); on PostgreSQL a pool of one
    /// connection, made on the calling runtime.
    pub async fn batch_writer(&self) -> Result<BatchWriter> {
        Ok(match self.backend {
            Backend::Sqlite => BatchWriter::Direct(DirectWriter::open(&self.sqlite_file()?, WRITER_CACHE_KIB)?),
            Backend::Postgres => BatchWriter::Pooled(self.pooled_writer().await?),
        })
    }

    /// The writer PostgreSQL gets, on either backend: the store's tests run the pooled
    /// commit on SQLite too, beside the direct one, so both are checked on every run.
    #[doc(hidden)]
    pub async fn pooled_writer(&self) -> Result<Store> {
        let pool = connect(&self.url, self.backend, 1, WRITER_CACHE_KIB).await?;
        Ok(Store { pool, backend: self.backend, url: self.url.clone() })
    }
}

/// The group commit's own connection ([`Store::batch_writer`]).
pub enum BatchWriter {
    /// SQLite: statements run on the calling thread, a commit blocks it until its fsync
    /// (`write_batch` never yields).
    Direct(DirectWriter),
    /// PostgreSQL: a pool of one connection.
    Pooled(Store),
}

impl BatchWriter {
    /// The group commit: all of `batch` in one durable transaction, or none of it (see
    /// [`Store::commit_pooled`] for the rules a session update keeps).
    pub async fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        match self {
            BatchWriter::Direct(w) => w.write_batch(batch),
            BatchWriter::Pooled(store) => store.commit_pooled(batch).await,
        }
    }

    pub async fn close(self) {
        if let BatchWriter::Pooled(store) = self {
            store.close().await;
        }
    }
}
