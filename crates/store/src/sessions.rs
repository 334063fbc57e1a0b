//! Sittings, sessions, papers and the answer log: the exam-day tables.

use std::collections::BTreeMap;

use sqlx::{AssertSqlSafe, Row};

use crate::{Result, Store};

/// A sitting to create, with every candidate's session and paper drawn in advance.
#[derive(Debug, Clone)]
pub struct NewSitting {
    pub id: String,
    pub exam_code: String,
    pub venue: String,
    pub starts_at: String,
    pub secret_hex: String,
    pub token: String,
    pub created_at: String,
    pub sessions: Vec<NewSession>,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub participant_no: String,
    pub duration_ms: i64,
    pub paper: Vec<PaperRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperRow {
    pub section: String,
    pub item_id: String,
    /// The item's own labels in the order shown, e.g. "CAEBD".
    pub option_order: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SittingRow {
    pub id: String,
    pub exam_code: String,
    pub venue: String,
    pub token: String,
    pub status: String,
    pub secret_hex: String,
}

/// Everything needed to bring a session back into memory.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: String,
    pub sitting_id: String,
    pub venue: String,
    pub exam_code: String,
    pub participant_no: String,
    pub name: String,
    pub status: String,
    pub finish_reason: Option<String>,
    pub duration_ms: i64,
    pub extension_ms: i64,
    pub used_ms: i64,
    pub result: Option<String>,
    pub paper: Vec<PaperRow>,
    /// The current sheet: the last answer per position (shown labels).
    pub answers: BTreeMap<i64, Option<String>>,
    pub flags: BTreeMap<i64, bool>,
    /// Every acknowledged seq with its position and server timestamp, to repeat acks.
    pub acks: BTreeMap<i64, (Option<i64>, String)>,
}

/// One line of the append-only answer log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub session_id: String,
    pub seq: i64,
    pub position: Option<i64>,
    pub action: String,
    pub choice: Option<String>,
    pub flagged: Option<bool>,
    pub client_ts: Option<String>,
    pub server_ts: String,
}

/// The session row as it stands after a write: its status and the time charged so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionWrite {
    pub session_id: String,
    /// The new status; `None` for a clock checkpoint, which must never change the status
    /// (it may have been read before a pause or finish that commits first).
    pub status: Option<String>,
    pub used_ms: i64,
    pub extension_ms: i64,
    pub last_seen_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub finish_reason: Option<String>,
    pub result: Option<String>,
}

/// One session as the public board and result exports see it.
#[derive(Debug, Clone)]
pub struct BoardRow {
    pub session_id: String,
    pub participant_no: String,
    pub name: String,
    pub sitting_id: String,
    pub venue: String,
    pub exam_code: String,
    pub status: String,
    pub finish_reason: Option<String>,
    pub result: Option<String>,
}

/// What a login needs to decide: the candidate's sessions with their sittings.
#[derive(Debug, Clone)]
pub struct LoginCandidate {
    pub session_id: String,
    pub sitting_status: String,
    pub sitting_token: String,
    pub session_status: String,
    pub pin_hash: String,
}

/// Rows per multi-row INSERT: well under SQLite's 32,766 bound parameters at 8 a row.
const LOG_CHUNK: usize = 500;

impl Store {
    /// Creates a sitting with all its sessions and papers in one transaction. Returns false
    /// (and changes nothing) if a sitting with this id exists.
    pub async fn create_sitting(&self, s: &NewSitting) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let exists: Option<String> =
            sqlx::query_scalar("SELECT id FROM sittings WHERE id = $1").bind(&s.id).fetch_optional(&mut *tx).await?;
        if exists.is_some() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO sittings (id, exam_code, venue, starts_at, secret, token, status, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'prepared', $7)",
        )
        .bind(&s.id)
        .bind(&s.exam_code)
        .bind(&s.venue)
        .bind(&s.starts_at)
        .bind(&s.secret_hex)
        .bind(&s.token)
        .bind(&s.created_at)
        .execute(&mut *tx)
        .await?;
        for session in &s.sessions {
            sqlx::query("INSERT INTO sitting_candidates (sitting_id, participant_no) VALUES ($1, $2)")
                .bind(&s.id)
                .bind(&session.participant_no)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO sessions (id, sitting_id, participant_no, status, duration_ms) VALUES ($1, $2, $3, 'ready', $4)",
            )
            .bind(&session.id)
            .bind(&s.id)
            .bind(&session.participant_no)
            .bind(session.duration_ms)
            .execute(&mut *tx)
            .await?;
            for (n, rows) in session.paper.chunks(LOG_CHUNK).enumerate() {
                let sql = insert_sql("papers (session_id, position, section, item_id, option_order)", 5, rows.len());
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for (i, row) in rows.iter().enumerate() {
                    q = q
                        .bind(session.id.clone())
                        .bind((n * LOG_CHUNK + i) as i64)
                        .bind(row.section.clone())
                        .bind(row.item_id.clone())
                        .bind(row.option_order.clone());
                }
                q.execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn get_sitting(&self, id: &str) -> Result<Option<SittingRow>> {
        let row = sqlx::query("SELECT id, exam_code, venue, token, status, secret FROM sittings WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(SittingRow {
                id: r.try_get("id")?,
                exam_code: r.try_get("exam_code")?,
                venue: r.try_get("venue")?,
                token: r.try_get("token")?,
                status: r.try_get("status")?,
                secret_hex: r.try_get("secret")?,
            })
        })
        .transpose()
    }

    pub async fn set_sitting_status(&self, id: &str, status: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE sittings SET status = $1 WHERE id = $2").bind(status).bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The candidate's sessions, with their sittings' tokens and states, for login.
    pub async fn login_candidate(&self, participant_no: &str) -> Result<Vec<LoginCandidate>> {
        let rows = sqlx::query(
            "SELECT s.id, t.status AS sitting_status, t.token, s.status AS session_status, c.pin_hash
             FROM sessions s JOIN sittings t ON t.id = s.sitting_id JOIN candidates c ON c.participant_no = s.participant_no
             WHERE s.participant_no = $1 ORDER BY t.starts_at DESC",
        )
        .bind(participant_no)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(LoginCandidate {
                    session_id: r.try_get("id")?,
                    sitting_status: r.try_get("sitting_status")?,
                    sitting_token: r.try_get("token")?,
                    session_status: r.try_get("session_status")?,
                    pin_hash: r.try_get("pin_hash")?,
                })
            })
            .collect()
    }

    pub async fn put_login_token(&self, token_hash: &str, session_id: &str, now: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO login_tokens (token_hash, session_id, created_at) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(session_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends every login of a session (its candidate moved to another PC).
    pub async fn revoke_login_tokens(&self, session_id: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM login_tokens WHERE session_id = $1").bind(session_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn session_for_token(&self, token_hash: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT session_id FROM login_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Sessions that are running or paused, to bring into memory at start so that the
    /// deadline sweep covers them whether or not their candidate reconnects.
    pub async fn unfinished_session_ids(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT id FROM sessions WHERE status IN ('active', 'paused') ORDER BY id")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn load_session(&self, id: &str) -> Result<Option<SessionRecord>> {
        let row = sqlx::query(
            "SELECT s.id, s.sitting_id, t.venue, t.exam_code, s.participant_no, c.name, s.status, s.finish_reason,
                    s.duration_ms, s.extension_ms, s.used_ms, s.result
             FROM sessions s JOIN sittings t ON t.id = s.sitting_id JOIN candidates c ON c.participant_no = s.participant_no
             WHERE s.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let mut rec = SessionRecord {
            id: r.try_get("id")?,
            sitting_id: r.try_get("sitting_id")?,
            venue: r.try_get("venue")?,
            exam_code: r.try_get("exam_code")?,
            participant_no: r.try_get("participant_no")?,
            name: r.try_get("name")?,
            status: r.try_get("status")?,
            finish_reason: r.try_get("finish_reason")?,
            duration_ms: r.try_get("duration_ms")?,
            extension_ms: r.try_get("extension_ms")?,
            used_ms: r.try_get("used_ms")?,
            result: r.try_get("result")?,
            paper: Vec::new(),
            answers: BTreeMap::new(),
            flags: BTreeMap::new(),
            acks: BTreeMap::new(),
        };
        let paper =
            sqlx::query("SELECT section, item_id, option_order FROM papers WHERE session_id = $1 ORDER BY position")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        for p in paper {
            rec.paper.push(PaperRow {
                section: p.try_get("section")?,
                item_id: p.try_get("item_id")?,
                option_order: p.try_get("option_order")?,
            });
        }
        // Replaying the log in seq order gives the current sheet: the last word per position wins.
        let log = sqlx::query(
            "SELECT seq, position, action, choice, flagged, server_ts FROM answer_log WHERE session_id = $1 ORDER BY seq",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        for l in log {
            let seq: i64 = l.try_get("seq")?;
            let position: Option<i64> = l.try_get("position")?;
            let action: String = l.try_get("action")?;
            match (action.as_str(), position) {
                ("answer", Some(p)) => {
                    rec.answers.insert(p, l.try_get("choice")?);
                }
                ("flag", Some(p)) => {
                    rec.flags.insert(p, l.try_get::<Option<i64>, _>("flagged")?.unwrap_or(0) != 0);
                }
                _ => {}
            }
            rec.acks.insert(seq, (position, l.try_get("server_ts")?));
        }
        Ok(Some(rec))
    }

    /// Every session with its candidate, sitting and venue, optionally of one exam.
    pub async fn board_rows(&self, exam_code: Option<&str>) -> Result<Vec<BoardRow>> {
        let rows = sqlx::query(
            "SELECT s.id, s.participant_no, c.name, s.sitting_id, t.venue, t.exam_code, s.status, s.finish_reason, s.result
             FROM sessions s JOIN sittings t ON t.id = s.sitting_id JOIN candidates c ON c.participant_no = s.participant_no
             WHERE $1 IS NULL OR t.exam_code = $1 ORDER BY s.id",
        )
        .bind(exam_code)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(BoardRow {
                    session_id: r.try_get("id")?,
                    participant_no: r.try_get("participant_no")?,
                    name: r.try_get("name")?,
                    sitting_id: r.try_get("sitting_id")?,
                    venue: r.try_get("venue")?,
                    exam_code: r.try_get("exam_code")?,
                    status: r.try_get("status")?,
                    finish_reason: r.try_get("finish_reason")?,
                    result: r.try_get("result")?,
                })
            })
            .collect()
    }

    /// The group commit: many log lines and session updates in one durable transaction.
    /// Either all of it is stored or none of it.
    pub async fn write_batch(
        &self,
        log: &[LogEntry],
        sessions: &[SessionWrite],
        audit: &[crate::AuditRow],
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for a in audit {
            sqlx::query(
                "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(a.seq)
            .bind(&a.at)
            .bind(&a.actor)
            .bind(&a.action)
            .bind(&a.subject)
            .bind(&a.detail)
            .bind(&a.prev_hash)
            .bind(&a.hash)
            .execute(&mut *tx)
            .await?;
        }
        for chunk in log.chunks(LOG_CHUNK) {
            let sql = insert_sql(
                "answer_log (session_id, seq, position, action, choice, flagged, client_ts, server_ts)",
                8,
                chunk.len(),
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for e in chunk {
                q = q
                    .bind(e.session_id.clone())
                    .bind(e.seq)
                    .bind(e.position)
                    .bind(e.action.clone())
                    .bind(e.choice.clone())
                    .bind(e.flagged.map(i64::from))
                    .bind(e.client_ts.clone())
                    .bind(e.server_ts.clone());
            }
            q.execute(&mut *tx).await?;
        }
        for s in sessions {
            sqlx::query(
                // A finished session is final: no later write (a checkpoint queued before the
                // finish committed, say) may change it. Used time only grows.
                "UPDATE sessions SET status = COALESCE($1, status),
                     used_ms = CASE WHEN used_ms > $2 THEN used_ms ELSE $2 END,
                     extension_ms = CASE WHEN extension_ms > $3 THEN extension_ms ELSE $3 END, last_seen_at = $4,
                     started_at = COALESCE(started_at, $5), finished_at = COALESCE($6, finished_at),
                     finish_reason = COALESCE($7, finish_reason), result = COALESCE($8, result)
                 WHERE id = $9 AND status <> 'finished'",
            )
            .bind(&s.status)
            .bind(s.used_ms)
            .bind(s.extension_ms)
            .bind(&s.last_seen_at)
            .bind(&s.started_at)
            .bind(&s.finished_at)
            .bind(&s.finish_reason)
            .bind(&s.result)
            .bind(&s.session_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The stored answer log of a session, in seq order (for checks and exports).
    pub async fn answer_log(&self, session_id: &str) -> Result<Vec<LogEntry>> {
        let rows = sqlx::query(
            "SELECT session_id, seq, position, action, choice, flagged, client_ts, server_ts
             FROM answer_log WHERE session_id = $1 ORDER BY seq",
        )
        .bind(session_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(LogEntry {
                    session_id: r.try_get("session_id")?,
                    seq: r.try_get("seq")?,
                    position: r.try_get("position")?,
                    action: r.try_get("action")?,
                    choice: r.try_get("choice")?,
                    flagged: r.try_get::<Option<i64>, _>("flagged")?.map(|f| f != 0),
                    client_ts: r.try_get("client_ts")?,
                    server_ts: r.try_get("server_ts")?,
                })
            })
            .collect()
    }
}

/// `INSERT INTO {target} VALUES ($1, .., $n), (..)` for `rows` rows of `cols` columns.
/// Written by hand because the Any driver's query builder emits `?`, which PostgreSQL
/// does not accept; `$N` works on both.
fn insert_sql(target: &str, cols: usize, rows: usize) -> String {
    let mut sql = format!("INSERT INTO {target} VALUES ");
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..cols {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * cols + c + 1));
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    #[test]
    fn insert_sql_numbers_placeholders_across_rows() {
        assert_eq!(super::insert_sql("t (a, b)", 2, 2), "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)");
    }
}
