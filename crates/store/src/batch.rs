//! The group commit: everything one durable transaction stores, and the SQL that stores
//! it in a handful of statements however many candidates it covers.
//!
//! On PostgreSQL a batch is a few multi-row statements, never a statement per row: each
//! statement is a round trip. SQLite's writer runs its statements on its own thread
//! without one (`direct`).

use std::collections::HashMap;

use sqlx::AssertSqlSafe;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

use crate::rows::{AuditRow, LogEntry, NewLoginToken, SessionWrite, TokenRevocation};
use crate::{Backend, Result, Store};

/// What one transaction stores. Requests of many clients are merged into one batch with
/// [`Batch::append`]; the order of audit rows is kept (the hash chain relies on it).
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub log: Vec<LogEntry>,
    pub sessions: Vec<SessionWrite>,
    pub audit: Vec<AuditRow>,
    pub login_tokens: Vec<NewLoginToken>,
    /// Sessions starting now whose other logins end (`superseded`), applied after
    /// `login_tokens`: a login stored in the same batch is another login too.
    pub revocations: Vec<TokenRevocation>,
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
        self.revocations.extend(other.revocations);
    }

    pub fn is_empty(&self) -> bool {
        self.log.is_empty()
            && self.sessions.is_empty()
            && self.audit.is_empty()
            && self.login_tokens.is_empty()
            && self.revocations.is_empty()
    }
}

/// Rows per multi-row statement: well under SQLite's 32,766 bound parameters (and
/// PostgreSQL's 65,535) at up to 9 a row, and small enough to prepare quickly.
pub(crate) const CHUNK: usize = 256;

type AnyQuery = Query<'static, sqlx::Any, AnyArguments>;

impl Store {
    /// The group commit through the pool: many log lines, session updates, audit rows and
    /// login tokens in one durable transaction. Either all of it is stored or none of it.
    /// PostgreSQL's writer commits this way ([`crate::BatchWriter`]).
    ///
    /// Session updates keep what the answer path promises whatever order they arrive in:
    /// a finished session is final, used time and extensions only grow, and a write
    /// without a status (a clock checkpoint) never changes the status.
    pub(crate) async fn commit_pooled(&self, batch: &Batch) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let audit = "audit_log (seq, at, actor, action, subject, detail, prev_hash, hash)";
        self.execute_chunked(
            &mut tx,
            &batch.audit,
            |n| self.insert_sql(audit, 8, n),
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
        let tokens = "login_tokens (token_hash, session_id, created_at)";
        self.execute_chunked(
            &mut tx,
            &batch.login_tokens,
            |n| self.insert_sql(tokens, 3, n),
            |q, _, t| q.bind(t.token_hash.as_str()).bind(t.session_id.as_str()).bind(t.created_at.as_str()),
        )
        .await?;
        self.execute_chunked(
            &mut tx,
            &batch.revocations,
            |n| self.revoke_others_sql(n),
            |q, _, r| q.bind(r.session_id.as_str()).bind(r.keep_hash.as_str()).bind(r.at.as_str()),
        )
        .await?;
        let log = "answer_log (session_id, seq, position, action, choice, flagged, client_ts, server_ts, used_ms)";
        self.execute_chunked(
            &mut tx,
            &batch.log,
            |n| self.insert_sql(log, 9, n),
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
        self.execute_chunked(
            &mut tx,
            &sessions,
            |n| self.update_sessions_sql(n),
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
            },
        )
        .await?;
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

    /// One UPDATE ending the other logins of many sessions that start, joined to a VALUES
    /// list of (session, the login that keeps the seat, when).
    fn revoke_others_sql(&self, rows: usize) -> String {
        format!(
            "UPDATE login_tokens SET revoked_reason = 'superseded', revoked_at = v.column3
             FROM (VALUES {}) AS v
             WHERE login_tokens.session_id = v.column1 AND login_tokens.token_hash <> v.column2
                 AND login_tokens.revoked_reason IS NULL",
            self.values_sql(3, rows)
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
