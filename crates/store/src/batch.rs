//! The group commit: everything one durable transaction stores, and the SQL that stores
//! it in a handful of statements however many candidates it covers.
//!
//! A batch is a few multi-row statements, never a statement per row: on SQLite each
//! statement is a hand-off to sqlx's connection thread, on PostgreSQL a round trip.

use std::collections::HashMap;

use sqlx::AssertSqlSafe;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

use crate::sessions::{LogEntry, SessionWrite};
use crate::staff::AuditRow;
use crate::{Backend, Result, Store};

/// A login token to store (only its hash is ever kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLoginToken {
    pub token_hash: String,
    pub session_id: String,
    pub created_at: String,
}

/// What one transaction stores. Requests of many clients are merged into one batch with
/// [`Batch::append`]; the order of audit rows is kept (the hash chain relies on it).
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub log: Vec<LogEntry>,
    pub sessions: Vec<SessionWrite>,
    pub audit: Vec<AuditRow>,
    pub login_tokens: Vec<NewLoginToken>,
}

impl Batch {
    /// A batch of one session update.
    pub fn session(write: SessionWrite) -> Batch {
        Batch { sessions: vec![write], ..Batch::default() }
    }

    pub fn append(&mut self, other: Batch) {
        self.log.extend(other.log);
        self.sessions.extend(other.sessions);
        self.audit.extend(other.audit);
        self.login_tokens.extend(other.login_tokens);
    }

    pub fn is_empty(&self) -> bool {
        self.log.is_empty() && self.sessions.is_empty() && self.audit.is_empty() && self.login_tokens.is_empty()
    }
}

/// Rows per multi-row statement: well under SQLite's 32,766 bound parameters (and
/// PostgreSQL's 65,535) at up to 9 a row, and small enough to prepare quickly.
pub(crate) const CHUNK: usize = 256;

type AnyQuery = Query<'static, sqlx::Any, AnyArguments>;

impl Store {
    /// The group commit: many log lines, session updates, audit rows and login tokens in
    /// one durable transaction. Either all of it is stored or none of it.
    ///
    /// Session updates keep what the answer path promises whatever order they arrive in:
    /// a finished session is final, used time and extensions only grow, and a write
    /// without a status (a clock checkpoint) never changes the status.
    pub async fn write_batch(&self, batch: &Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let sessions = merge_sessions(&batch.sessions);
        match self.backend {
            Backend::Sqlite => self.write_batch_at_once(batch, &sessions).await,
            Backend::Postgres => self.write_batch_by_statement(batch, &sessions).await,
        }
    }

    /// Every statement of the transaction for `batch`, in the order their values are bound:
    /// audit rows, login tokens, log lines, session updates, one statement per [`CHUNK`].
    fn batch_statements(&self, batch: &Batch, sessions: &[SessionWrite]) -> Vec<String> {
        let mut sql = Vec::new();
        let chunks = |n: usize| n.div_ceil(CHUNK);
        let sizes = |n: usize| (0..chunks(n)).map(move |i| (n - i * CHUNK).min(CHUNK));
        sql.extend(sizes(batch.audit.len()).map(|n| self.insert_sql(AUDIT, 8, n)));
        sql.extend(sizes(batch.login_tokens.len()).map(|n| self.insert_sql(TOKENS, 3, n)));
        sql.extend(sizes(batch.log.len()).map(|n| self.insert_sql(LOG, 9, n)));
        sql.extend(sizes(sessions.len()).map(|n| self.update_sessions_sql(n)));
        sql
    }

    /// SQLite: the whole transaction as one multi-statement execute, `BEGIN IMMEDIATE` to
    /// `COMMIT`. sqlx runs each statement on its connection's thread and the caller waits
    /// for every one; at a room's start a commit was six such hand-offs (begin, four
    /// statements, commit), each a thread woken and put back to sleep. sqlx binds a
    /// multi-statement query's `?` values in order across its statements.
    async fn write_batch_at_once(&self, batch: &Batch, sessions: &[SessionWrite]) -> Result<()> {
        let sql = format!("BEGIN IMMEDIATE; {}; COMMIT", self.batch_statements(batch, sessions).join("; "));
        let mut q: AnyQuery = sqlx::query(AssertSqlSafe(sql));
        q = batch.audit.iter().fold(q, bind_audit);
        q = batch.login_tokens.iter().fold(q, bind_token);
        q = batch.log.iter().fold(q, bind_log);
        q = sessions.iter().fold(q, bind_session);
        let mut conn = self.pool.acquire().await?;
        if let Err(e) = q.execute(&mut *conn).await {
            // A statement failed before COMMIT ran: nothing of the batch may stay pending
            // on the connection. (If COMMIT itself failed, SQLite has already rolled back
            // and this ROLLBACK finds no transaction, which is fine.)
            if let Err(rollback) = sqlx::query("ROLLBACK").execute(&mut *conn).await {
                tracing::debug!(error = %rollback, "rollback after a failed group commit");
            }
            return Err(e.into());
        }
        Ok(())
    }

    /// PostgreSQL: one statement at a time in a transaction (its extended protocol takes
    /// one statement per query).
    async fn write_batch_by_statement(&self, batch: &Batch, sessions: &[SessionWrite]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let mut sql = self.batch_statements(batch, sessions).into_iter();
        let mut next = || sql.next().unwrap_or_default();
        for chunk in batch.audit.chunks(CHUNK) {
            chunk.iter().fold(sqlx::query(AssertSqlSafe(next())), bind_audit).execute(&mut *tx).await?;
        }
        for chunk in batch.login_tokens.chunks(CHUNK) {
            chunk.iter().fold(sqlx::query(AssertSqlSafe(next())), bind_token).execute(&mut *tx).await?;
        }
        for chunk in batch.log.chunks(CHUNK) {
            chunk.iter().fold(sqlx::query(AssertSqlSafe(next())), bind_log).execute(&mut *tx).await?;
        }
        for chunk in sessions.chunks(CHUNK) {
            chunk.iter().fold(sqlx::query(AssertSqlSafe(next())), bind_session).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Runs one statement per [`CHUNK`] of `rows`: `sql(n)` for a chunk of `n` rows, each
    /// row's values bound by `bind` (given the row's index in `rows`).
    pub(crate) async fn execute_chunked<T>(
        &self,
        conn: &mut sqlx::AnyConnection,
        rows: &[T],
        sql: impl Fn(usize) -> String,
        bind: impl Fn(AnyQuery, usize, &T) -> AnyQuery,
    ) -> Result<()> {
        for (n, chunk) in rows.chunks(CHUNK).enumerate() {
            let mut q: AnyQuery = sqlx::query(AssertSqlSafe(sql(chunk.len())));
            for (i, row) in chunk.iter().enumerate() {
                q = bind(q, n * CHUNK + i, row);
            }
            q.execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// `INSERT INTO {target} VALUES (..), (..)` for `rows` rows of `cols` columns.
    pub(crate) fn insert_sql(&self, target: &str, cols: usize, rows: usize) -> String {
        format!("INSERT INTO {target} VALUES {}", self.values_sql(cols, rows))
    }

    /// One UPDATE for many sessions, joined to a VALUES list (columns `column1..9` on both
    /// backends). The list holds each session once ([`merge_sessions`]).
    fn update_sessions_sql(&self, rows: usize) -> String {
        format!(
            "UPDATE sessions SET status = COALESCE(v.column2, sessions.status),
                 used_ms = CASE WHEN sessions.used_ms > v.column3 THEN sessions.used_ms ELSE v.column3 END,
                 extension_ms = CASE WHEN sessions.extension_ms > v.column4 THEN sessions.extension_ms ELSE v.column4 END,
                 last_seen_at = v.column5,
                 started_at = COALESCE(sessions.started_at, v.column6),
                 finished_at = COALESCE(v.column7, sessions.finished_at),
                 finish_reason = COALESCE(v.column8, sessions.finish_reason),
                 result = COALESCE(v.column9, sessions.result)
             FROM (VALUES {}) AS v
             WHERE sessions.id = v.column1 AND sessions.status <> 'finished'",
            self.values_sql(9, rows)
        )
    }

    /// `(p, p, ..), (p, ..)` with the backend's placeholders. SQLite gets anonymous `?`:
    /// sqlx-sqlite looks every parameter up by name, and SQLite finds a name (`$7`) by a
    /// linear scan, so numbered placeholders make binding quadratic in the row count.
    /// PostgreSQL only accepts `$N`.
    fn values_sql(&self, cols: usize, rows: usize) -> String {
        let mut sql = String::with_capacity(rows * cols * 6);
        for r in 0..rows {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..cols {
                if c > 0 {
                    sql.push_str(", ");
                }
                match self.backend {
                    Backend::Sqlite => sql.push('?'),
                    Backend::Postgres => {
                        use std::fmt::Write as _;
                        let _ = write!(sql, "${}", r * cols + c + 1);
                    }
                }
            }
            sql.push(')');
        }
        sql
    }
}

const AUDIT: &str = "audit_log (seq, at, actor, action, subject, detail, prev_hash, hash)";
const TOKENS: &str = "login_tokens (token_hash, session_id, created_at)";
const LOG: &str = "answer_log (session_id, seq, position, action, choice, flagged, client_ts, server_ts, used_ms)";

fn bind_audit(q: AnyQuery, a: &AuditRow) -> AnyQuery {
    q.bind(a.seq)
        .bind(a.at.as_str())
        .bind(a.actor.as_str())
        .bind(a.action.as_str())
        .bind(a.subject.as_str())
        .bind(a.detail.as_str())
        .bind(a.prev_hash.as_str())
        .bind(a.hash.as_str())
}

fn bind_token(q: AnyQuery, t: &NewLoginToken) -> AnyQuery {
    q.bind(t.token_hash.as_str()).bind(t.session_id.as_str()).bind(t.created_at.as_str())
}

fn bind_log(q: AnyQuery, e: &LogEntry) -> AnyQuery {
    q.bind(e.session_id.as_str())
        .bind(e.seq)
        .bind(e.position)
        .bind(e.action.as_str())
        .bind(e.choice.as_deref())
        .bind(e.flagged.map(i64::from))
        .bind(e.client_ts.as_deref())
        .bind(e.server_ts.as_str())
        .bind(e.used_ms)
}

fn bind_session(q: AnyQuery, s: &SessionWrite) -> AnyQuery {
    q.bind(s.session_id.as_str())
        .bind(s.status.as_deref())
        .bind(s.used_ms)
        .bind(s.extension_ms)
        .bind(s.last_seen_at.as_str())
        .bind(s.started_at.as_deref())
        .bind(s.finished_at.as_deref())
        .bind(s.finish_reason.as_deref())
        .bind(s.result.as_deref())
}

/// One update per session: the latest state, keeping one-time fields (started_at,
/// finished_at, finish_reason, result) from whichever write set them. Mirrors what the
/// UPDATE enforces against the stored row.
pub(crate) fn merge_sessions(writes: &[SessionWrite]) -> Vec<SessionWrite> {
    let mut out: Vec<SessionWrite> = Vec::with_capacity(writes.len());
    let mut index = HashMap::with_capacity(writes.len());
    for w in writes {
        match index.get(w.session_id.as_str()) {
            None => {
                index.insert(w.session_id.as_str(), out.len());
                out.push(w.clone());
            }
            Some(&i) => {
                let prev = &mut out[i];
                let was_finished = prev.status.as_deref() == Some("finished");
                prev.started_at = prev.started_at.take().or_else(|| w.started_at.clone());
                prev.finished_at = w.finished_at.clone().or(prev.finished_at.take());
                prev.finish_reason = w.finish_reason.clone().or(prev.finish_reason.take());
                prev.result = w.result.clone().or(prev.result.take());
                if !was_finished && w.status.is_some() {
                    prev.status = w.status.clone();
                }
                prev.used_ms = prev.used_ms.max(w.used_ms);
                prev.extension_ms = prev.extension_ms.max(w.extension_ms);
                prev.last_seen_at = w.last_seen_at.clone();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(id: &str, status: Option<&str>, used: i64) -> SessionWrite {
        SessionWrite {
            session_id: id.into(),
            status: status.map(str::to_owned),
            used_ms: used,
            extension_ms: 0,
            last_seen_at: "t".into(),
            started_at: None,
            finished_at: None,
            finish_reason: None,
            result: None,
        }
    }

    #[test]
    fn merging_keeps_one_update_per_session_and_one_time_fields() {
        let mut a = w("s1", Some("active"), 10);
        a.started_at = Some("start".into());
        let mut f = w("s1", Some("finished"), 30);
        f.result = Some("r".into());
        let merged =
            merge_sessions(&[a, w("s2", Some("active"), 5), f, w("s1", Some("active"), 20), w("s1", None, 25)]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].status.as_deref(), Some("finished"));
        assert_eq!(merged[0].used_ms, 30);
        assert_eq!(merged[0].started_at.as_deref(), Some("start"));
        assert_eq!(merged[0].result.as_deref(), Some("r"));
        assert_eq!(merged[1].session_id, "s2");
    }

    #[test]
    fn a_checkpoint_after_a_status_keeps_the_status() {
        let merged = merge_sessions(&[w("s1", Some("paused"), 10), w("s1", None, 12)]);
        assert_eq!((merged[0].status.as_deref(), merged[0].used_ms), (Some("paused"), 12));
    }
}
