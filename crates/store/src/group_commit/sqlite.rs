//! The group commit on SQLite without a hand-off: a connection of its own, used
//! synchronously on the thread that calls it.
//!
//! Through sqlx every statement is a message to the connection's own thread and a wake
//! back, and every bound string is copied on the way; a commit of a few hundred rows would be
//! a dozen such hand-offs and a statement prepared afresh for each row count. Here the writer
//! thread itself runs SQLite: one prepared statement a table, executed once a row, inside a
//! real transaction (`BEGIN IMMEDIATE` … `COMMIT`) that is rolled back on any failure.
//!
//! PostgreSQL keeps the pool's commit (`pooled`), whose multi-row statements are
//! generated from the same column table (`columns`) and so store the same rows under the
//! same session rules; the store's batch tests run both writers.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};

use super::batch::{Batch, merge_sessions};
use super::columns::{ANSWER_LOG, AUDIT, LOGIN_TOKENS, revoke_other_logins, update_session};
use crate::chain::relink;
use crate::connection::open_sqlite;
use crate::error::{Result, StoreError};

// Generated once from the column table; the statement cache is keyed by their text.
static INSERT_AUDIT: LazyLock<String> = LazyLock::new(|| AUDIT.one_row());
static INSERT_TOKEN: LazyLock<String> = LazyLock::new(|| LOGIN_TOKENS.one_row());
static REVOKE_OTHERS: LazyLock<String> = LazyLock::new(revoke_other_logins);
static INSERT_LOG: LazyLock<String> = LazyLock::new(|| ANSWER_LOG.one_row());
static UPDATE_SESSION: LazyLock<String> = LazyLock::new(update_session);

/// A SQLite connection that only stores group commits. Open it on the thread that will use
/// it: every call blocks that thread until SQLite is done (a commit waits for its fsync).
pub struct DirectWriter {
    /// `None` after a failed commit left its transaction open: that connection is closed
    /// at once (releasing the write lock every other connection waits on) and a new one
    /// is opened by the next commit.
    conn: Option<Connection>,
    path: PathBuf,
    cache_kib: i64,
}

impl DirectWriter {
    /// Opens the database file at `path` (created and migrated already, by [`Store::open`])
    /// with the settings of every ujian connection.
    ///
    /// [`Store::open`]: crate::connection::Store::open
    pub(crate) fn open(path: &Path, cache_kib: i64) -> Result<DirectWriter> {
        let conn = open_sqlite(path, cache_kib)?;
        Ok(DirectWriter { conn: Some(conn), path: path.to_owned(), cache_kib })
    }

    /// The settings in force on this connection, read back from SQLite.
    pub fn settings(&mut self) -> Result<WriterSettings> {
        let conn = self.connection()?;
        let int = |pragma: &str| conn.query_row(pragma, [], |r| r.get::<_, i64>(0));
        Ok(WriterSettings {
            journal_mode: conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
            synchronous: int("PRAGMA synchronous")?,
            foreign_keys: int("PRAGMA foreign_keys")? == 1,
            busy_timeout_ms: int("PRAGMA busy_timeout")?,
            cache_size: int("PRAGMA cache_size")?,
            wal_autocheckpoint: int("PRAGMA wal_autocheckpoint")?,
            temp_store: int("PRAGMA temp_store")?,
        })
    }

    /// The group commit: all of `batch` in one durable transaction, or none of it.
    /// Returns the audit log's head after it when the batch holds entries.
    pub fn write_batch(&mut self, batch: &Batch) -> Result<Option<(i64, String)>> {
        // Leases are PostgreSQL's (`Store::take_lease` refuses on SQLite): a fence here
        // could not be checked, so the batch is refused rather than stored unchecked.
        if !batch.fences.is_empty() {
            return Err(StoreError::LeasesNeedPostgres);
        }
        let conn = self.connection()?;
        let result = store(conn, batch);
        if result.is_err() && !conn.is_autocommit() {
            // The rollback on the transaction's drop failed, so the connection is still
            // inside it, holding the database's write lock. Close it now; the next commit
            // opens another. The commit's own error is what the caller gets.
            tracing::warn!("a failed group commit left its transaction open; closing the writer's connection");
            if let Some(stuck) = self.conn.take()
                && let Err((_, e)) = stuck.close()
            {
                tracing::error!(error = %e, "closing the writer's connection failed");
            }
        }
        result
    }

    fn connection(&mut self) -> Result<&mut Connection> {
        if self.conn.is_none() {
            self.conn = Some(open_sqlite(&self.path, self.cache_kib)?);
        }
        Ok(self.conn.as_mut().expect("opened above"))
    }
}

/// What [`DirectWriter::settings`] reads back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterSettings {
    pub journal_mode: String,
    /// 2 is FULL: the WAL is synced at every commit.
    pub synchronous: i64,
    pub foreign_keys: bool,
    pub busy_timeout_ms: i64,
    /// Negative: KiB.
    pub cache_size: i64,
    /// Pages.
    pub wal_autocheckpoint: i64,
    /// 2 is MEMORY.
    pub temp_store: i64,
}

fn store(conn: &mut Connection, batch: &Batch) -> Result<Option<(i64, String)>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut audit_head = None;
    if !batch.audit.is_empty() {
        // BEGIN IMMEDIATE holds the write lock: the head read here is the one the entries
        // follow when this commits.
        let head = tx
            .query_row("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let (rows, head) = relink(&batch.audit, head);
        audit_head = head;
        let mut insert = tx.prepare_cached(&INSERT_AUDIT)?;
        for a in rows.iter() {
            insert.execute(params![a.seq, a.at, a.actor, a.action, a.subject, a.detail, a.prev_hash, a.hash])?;
        }
    }
    if !batch.login_tokens.is_empty() {
        let mut insert = tx.prepare_cached(&INSERT_TOKEN)?;
        for t in &batch.login_tokens {
            insert.execute(params![t.token_hash, t.session_id, t.created_at])?;
        }
    }
    if !batch.revocations.is_empty() {
        let mut revoke = tx.prepare_cached(&REVOKE_OTHERS)?;
        for r in &batch.revocations {
            revoke.execute(params![r.session_id, r.keep_hash, r.at])?;
        }
    }
    if !batch.log.is_empty() {
        let mut insert = tx.prepare_cached(&INSERT_LOG)?;
        for e in &batch.log {
            insert.execute(params![
                e.session_id,
                e.seq,
                e.position,
                e.action,
                e.choice,
                e.flagged.map(i64::from),
                e.client_ts,
                e.server_ts,
                e.used_ms,
            ])?;
        }
    }
    if !batch.sessions.is_empty() {
        let mut update = tx.prepare_cached(&UPDATE_SESSION)?;
        for s in merge_sessions(&batch.sessions) {
            update.execute(params![
                s.session_id,
                s.status,
                s.used_ms,
                s.extension_ms,
                s.last_seen_at,
                s.started_at,
                s.finished_at,
                s.finish_reason,
                s.result,
                s.receipt_code,
            ])?;
        }
    }
    tx.commit()?;
    Ok(audit_head)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::connection::{Store, WRITER_CACHE_KIB};
    use crate::open::sqlite_url_in;
    use crate::rows::AuditRow;

    fn audit(seq: i64) -> Batch {
        let row = AuditRow::after(Some((seq - 1, String::new())), "t", "a", "x", "s", "{}");
        Batch { audit: vec![row], ..Batch::default() }
    }

    #[tokio::test]
    async fn a_connection_left_inside_a_transaction_is_closed_at_once_and_the_next_commit_reopens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&sqlite_url_in(dir.path())).await.expect("open");
        let path = dir.path().join("ujian.db");
        let mut writer = DirectWriter::open(&path, WRITER_CACHE_KIB).expect("writer");
        writer.write_batch(&audit(1)).expect("first");
        // A transaction the writer did not start and cannot end, holding the write lock:
        // the next commit fails to begin its own.
        writer.connection().expect("connection").execute_batch("BEGIN IMMEDIATE").expect("begin");
        assert!(writer.write_batch(&audit(2)).is_err());
        // The stuck connection is gone already: another takes the write lock without waiting.
        let other = Connection::open(&path).expect("other");
        other.busy_timeout(Duration::ZERO).expect("no waiting");
        other.execute_batch("BEGIN IMMEDIATE; ROLLBACK;").expect("the write lock is free");
        drop(other);
        writer.write_batch(&audit(3)).expect("a new connection commits");
        let seqs: Vec<i64> = store.audit_log().await.expect("audit").iter().map(|a| a.seq).collect();
        // Entry 2 was never stored: the third commit's entry takes its place.
        assert_eq!(seqs, [1, 2]);
    }
}
