//! Sittings, sessions, papers and the answer log: the exam-day tables.

use std::collections::BTreeMap;

use session_engine::{LogDigest, LogLine};
use sqlx::{AssertSqlSafe, Row};

use crate::load::Which;
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
    /// When it is scheduled to start (RFC 3339): a candidate's login expires counting from it.
    pub starts_at: String,
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
    /// The stored log's digest, to carry on as lines are added.
    pub log_digest: LogDigest,
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
    /// The time charged to the session when this line was written. Answers carry the
    /// clock with them, so the session row need not be rewritten on every answer; a
    /// reload takes the larger of this and the row's `used_ms`.
    pub used_ms: Option<i64>,
}

impl<'a> From<&'a LogEntry> for LogLine<'a> {
    fn from(e: &'a LogEntry) -> LogLine<'a> {
        LogLine {
            seq: e.seq,
            position: e.position,
            action: &e.action,
            choice: e.choice.as_deref(),
            flagged: e.flagged,
            server_ts: &e.server_ts,
            used_ms: e.used_ms,
        }
    }
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
    pub sitting_id: String,
    pub sitting_status: String,
    pub sitting_token: String,
    pub session_status: String,
    pub pin_hash: String,
}

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
            let papers = "papers (session_id, position, section, item_id, option_order)";
            self.execute_chunked(
                &mut tx,
                &session.paper,
                |n| self.insert_sql(papers, 5, n),
                |q, i, row| {
                    q.bind(session.id.as_str())
                        .bind(i as i64)
                        .bind(row.section.as_str())
                        .bind(row.item_id.as_str())
                        .bind(row.option_order.as_str())
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    pub async fn get_sitting(&self, id: &str) -> Result<Option<SittingRow>> {
        let row =
            sqlx::query("SELECT id, exam_code, venue, token, status, secret, starts_at FROM sittings WHERE id = $1")
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
                starts_at: r.try_get("starts_at")?,
            })
        })
        .transpose()
    }

    pub async fn set_sitting_status(&self, id: &str, status: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE sittings SET status = $1 WHERE id = $2").bind(status).bind(id).execute(&mut *tx).await?;
        raise_login_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The candidate's sessions, with their sittings' tokens and states, for login.
    pub async fn login_candidate(&self, participant_no: &str) -> Result<Vec<LoginCandidate>> {
        let rows = self.login_rows("s.participant_no = $1 ORDER BY t.starts_at DESC", participant_no).await?;
        Ok(rows.into_iter().map(|(_, c)| c).collect())
    }

    /// What the logins of a sitting's not-started sessions check, by participant: kept
    /// in memory while the sitting is open (see [`Store::login_generation`]).
    pub async fn sitting_logins(&self, sitting_id: &str) -> Result<Vec<(String, LoginCandidate)>> {
        self.login_rows("s.sitting_id = $1 AND s.status = 'ready'", sitting_id).await
    }

    /// What a login checks, with each row's participant, for the sessions `filter` (a
    /// fixed condition on `s`, with `$1` bound to `bound`) selects.
    async fn login_rows(&self, filter: &'static str, bound: &str) -> Result<Vec<(String, LoginCandidate)>> {
        let sql = format!(
            "SELECT s.participant_no, s.id, s.sitting_id, t.status AS sitting_status, t.token, s.status AS session_status, c.pin_hash
             FROM sessions s JOIN sittings t ON t.id = s.sitting_id JOIN candidates c ON c.participant_no = s.participant_no
             WHERE {filter}"
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(bound).fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    r.try_get("participant_no")?,
                    LoginCandidate {
                        session_id: r.try_get("id")?,
                        sitting_id: r.try_get("sitting_id")?,
                        sitting_status: r.try_get("sitting_status")?,
                        sitting_token: r.try_get("token")?,
                        session_status: r.try_get("session_status")?,
                        pin_hash: r.try_get("pin_hash")?,
                    },
                ))
            })
            .collect()
    }

    /// A counter raised by every change to what a login checks (a PIN hash, a sitting's
    /// token or status), in the same transaction, by whichever process makes it. Whoever keeps
    /// [`Store::sitting_logins`] in memory reads it first and drops what it kept once it moves.
    pub async fn login_generation(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT generation FROM store_generations WHERE name = 'logins'")
            .fetch_one(&self.pool)
            .await?)
    }

    /// One session with its paper and its answer log replayed.
    pub async fn load_session(&self, id: &str) -> Result<Option<SessionRecord>> {
        Ok(self.load_sessions(Which::One(id)).await?.pop())
    }

    /// Every session of a sitting that has not started, to have a room in memory before
    /// its candidates log in together: three queries instead of three per candidate.
    /// (Started ones are loaded by [`Store::load_unfinished_sessions`] at start.)
    pub async fn load_sitting_sessions(&self, sitting_id: &str) -> Result<Vec<SessionRecord>> {
        self.load_sessions(Which::Sitting(sitting_id)).await
    }

    /// Every session of a sitting, whatever its status, in id order: the results export
    /// rescores a sitting from this in three queries instead of three per candidate.
    pub async fn load_every_session_of(&self, sitting_id: &str) -> Result<Vec<SessionRecord>> {
        self.load_sessions(Which::AllOfSitting(sitting_id)).await
    }

    /// Every running or paused session, to bring into memory at start so that the
    /// deadline sweep covers them whether or not their candidates reconnect. Three queries
    /// however many sessions: a restart under load must not wait on one per session.
    pub async fn load_unfinished_sessions(&self) -> Result<Vec<SessionRecord>> {
        self.load_sessions(Which::Unfinished).await
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

    /// The stored answer log of a session, in seq order (for checks and exports).
    pub async fn answer_log(&self, session_id: &str) -> Result<Vec<LogEntry>> {
        let rows = sqlx::query(
            "SELECT session_id, seq, position, action, choice, flagged, client_ts, server_ts, used_ms
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
                    used_ms: r.try_get("used_ms")?,
                })
            })
            .collect()
    }
}

/// One stored answer line, as the results export reads it to spot answer cycling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerLine {
    pub session_id: String,
    pub position: i64,
    pub choice: Option<String>,
    pub server_ts: String,
}

impl Store {
    /// Every answer line of a sitting's sessions, by session and then in seq order.
    pub async fn answer_lines_of(&self, sitting_id: &str) -> Result<Vec<AnswerLine>> {
        let rows = sqlx::query(
            "SELECT l.session_id, l.position, l.choice, l.server_ts
             FROM answer_log l JOIN sessions s ON s.id = l.session_id
             WHERE s.sitting_id = $1 AND l.action = 'answer' AND l.position IS NOT NULL
             ORDER BY l.session_id, l.seq",
        )
        .bind(sitting_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(AnswerLine {
                    session_id: r.try_get("session_id")?,
                    position: r.try_get("position")?,
                    choice: r.try_get("choice")?,
                    server_ts: r.try_get("server_ts")?,
                })
            })
            .collect()
    }
}

/// Raises [`Store::login_generation`] inside a transaction that changes what a login checks.
pub(crate) async fn raise_login_generation(tx: &mut sqlx::AnyConnection) -> Result<()> {
    sqlx::query("UPDATE store_generations SET generation = generation + 1 WHERE name = 'logins'").execute(tx).await?;
    Ok(())
}
