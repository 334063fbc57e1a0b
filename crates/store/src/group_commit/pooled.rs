//! The group commit through sqlx, PostgreSQL's writer: a batch is a few multi-row
//! statements, never a statement per row, because each statement is a round trip.
//! The store's tests run it on SQLite too, beside the SQLite writer, so both are checked
//! on every run.

use super::batch::{Batch, merge_sessions};
use super::columns::{ANSWER_LOG, AUDIT, LOGIN_TOKENS, revoke_other_logins_sql, update_sessions_sql};
use crate::chain::relink;
use crate::connection::{Backend, Store, WRITER_CACHE_KIB, connect};
use crate::error::{Result, StoreError};
use crate::leases::broken_fences;
use crate::multi_row::execute_chunked;

/// A pool of one connection that only stores group commits.
pub struct PooledWriter {
    store: Store,
}

impl PooledWriter {
    /// A connection of its own on the database `store` is open on.
    pub(crate) async fn open(store: &Store) -> Result<PooledWriter> {
        let pool = connect(&store.url, store.backend, 1, WRITER_CACHE_KIB).await?;
        Ok(PooledWriter { store: Store { pool, backend: store.backend, url: store.url.clone() } })
    }

    /// The group commit: many log lines, session updates, audit rows and login tokens in
    /// one durable transaction. Either all of it is stored or none of it.
    ///
    /// Session updates keep what the answer path promises whatever order they arrive in:
    /// a finished session is final, used time and extensions only grow, and a write
    /// without a status (a clock checkpoint) never changes the status.
    ///
    /// Returns the audit log's head after it when the batch holds entries: they are
    /// linked to the head read in this transaction ([`relink`]).
    ///
    /// A batch with fences is stored only if every one still holds, checked first in this
    /// transaction and kept locked to its end; otherwise nothing is stored and the error
    /// names the sittings whose lease is gone ([`StoreError::Fenced`]).
    pub async fn write_batch(&mut self, batch: &Batch) -> Result<Option<(i64, String)>> {
        let backend = self.store.backend;
        if !batch.fences.is_empty() && backend != Backend::Postgres {
            return Err(StoreError::LeasesNeedPostgres);
        }
        let mut tx = self.store.begin_write().await?;
        if !batch.fences.is_empty() {
            let broken = broken_fences(&mut tx, &batch.fences).await?;
            if !broken.is_empty() {
                tx.rollback().await?;
                return Err(StoreError::Fenced(broken));
            }
        }
        let mut audit_head = None;
        let mut audit = std::borrow::Cow::Borrowed(&batch.audit[..]);
        if !batch.audit.is_empty() {
            if backend == Backend::Postgres {
                // As `append_audit` does: nobody appends between this read and the commit.
                sqlx::query("LOCK TABLE audit_log IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
            }
            let head: Option<(i64, String)> =
                sqlx::query_as("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
                    .fetch_optional(&mut *tx)
                    .await?;
            (audit, audit_head) = relink(&batch.audit, head);
        }
        execute_chunked(
            &mut tx,
            &audit,
            |n| AUDIT.rows(backend, n),
            |q, _, a| {
                q.bind(a.seq)
                    .bind(a.at.as_str())
                    .bind(a.actor.as_str())
                    .bind(a.action.as_str())
                    .bind(a.subject.as_str())
                    .bind(a.detail.as_str())
                    .bind(a.prev_hash.as_str())
                    .bind(a.hash.as_str())
            },
        )
        .await?;
        execute_chunked(
            &mut tx,
            &batch.login_tokens,
            |n| LOGIN_TOKENS.rows(backend, n),
            |q, _, t| q.bind(t.token_hash.as_str()).bind(t.session_id.as_str()).bind(t.created_at.as_str()),
        )
        .await?;
        execute_chunked(
            &mut tx,
            &batch.revocations,
            |n| revoke_other_logins_sql(backend, n),
            |q, _, r| q.bind(r.session_id.as_str()).bind(r.keep_hash.as_str()).bind(r.at.as_str()),
        )
        .await?;
        execute_chunked(
            &mut tx,
            &batch.log,
            |n| ANSWER_LOG.rows(backend, n),
            |q, _, e| {
                q.bind(e.session_id.as_str())
                    .bind(e.seq)
                    .bind(e.position)
                    .bind(e.action.as_str())
                    .bind(e.choice.as_deref())
                    .bind(e.flagged.map(i64::from))
                    .bind(e.client_ts.as_deref())
                    .bind(e.server_ts.as_str())
                    .bind(e.used_ms)
            },
        )
        .await?;
        let sessions = merge_sessions(&batch.sessions);
        execute_chunked(
            &mut tx,
            &sessions,
            |n| update_sessions_sql(backend, n),
            |q, _, s| {
                q.bind(s.session_id.as_str())
                    .bind(s.status.as_deref())
                    .bind(s.used_ms)
                    .bind(s.extension_ms)
                    .bind(s.last_seen_at.as_str())
                    .bind(s.started_at.as_deref())
                    .bind(s.finished_at.as_deref())
                    .bind(s.finish_reason.as_deref())
                    .bind(s.result.as_deref())
                    .bind(s.receipt_code.as_deref())
            },
        )
        .await?;
        tx.commit().await?;
        Ok(audit_head)
    }

    pub async fn close(self) {
        self.store.close().await;
    }
}

impl Store {
    /// The writer PostgreSQL gets, on either backend: the store's tests run the pooled
    /// commit on SQLite too, beside the SQLite writer, so both are checked on every run.
    #[cfg(feature = "test-support")]
    pub async fn pooled_writer(&self) -> Result<PooledWriter> {
        PooledWriter::open(self).await
    }
}
