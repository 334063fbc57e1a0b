//! The group commit's own connection: SQLite's writer or PostgreSQL's pooled one.

use super::batch::Batch;
use super::pooled::PooledWriter;
use super::sqlite::DirectWriter;
use crate::connection::{Backend, Store, WRITER_CACHE_KIB};
use crate::error::Result;

/// The group commit's own connection ([`Store::batch_writer`]).
pub enum BatchWriter {
    /// SQLite: statements run on the calling thread, a commit blocks it until its fsync
    /// (`write_batch` never yields).
    Direct(DirectWriter),
    /// PostgreSQL: a pool of one connection.
    Pooled(PooledWriter),
}

impl BatchWriter {
    /// The group commit: all of `batch` in one durable transaction, or none of it (see
    /// [`PooledWriter::write_batch`] for the rules a session update keeps).
    pub async fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        match self {
            BatchWriter::Direct(w) => w.write_batch(batch),
            BatchWriter::Pooled(w) => w.write_batch(batch).await,
        }
    }

    pub async fn close(self) {
        if let BatchWriter::Pooled(w) = self {
            w.close().await;
        }
    }
}

impl Store {
    /// A connection of its own for the group-commit writer, which runs on its own thread so
    /// that its commits never queue behind the request handlers. On SQLite it is a
    /// [`DirectWriter`] with the large page cache ([`WRITER_CACHE_KIB`]), used
    /// synchronously on that thread (open it there); on PostgreSQL a pool of one
    /// connection, made on the calling runtime.
    pub async fn batch_writer(&self) -> Result<BatchWriter> {
        Ok(match self.backend() {
            Backend::Sqlite => BatchWriter::Direct(DirectWriter::open(&self.sqlite_file()?, WRITER_CACHE_KIB)?),
            Backend::Postgres => BatchWriter::Pooled(PooledWriter::open(self).await?),
        })
    }
}
