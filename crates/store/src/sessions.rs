//! Sittings, sessions, papers and the answer log: the exam-day tables.

use sqlx::{AssertSqlSafe, Row};

use crate::connection::Store;
use crate::error::Result;
use crate::load::Which;
use crate::multi_row::{execute_chunked, insert_sql};
use crate::rows::{AnswerLine, BoardRow, LogEntry, LoginCandidate, LoginCounts, NewSitting, SessionRecord, SittingRow};

impl Store {
    /// Creates a sitting with all its sessions and papers in one transaction. Returns false
    /// (and changes nothing) if a sitting with this id exists.
    pub async fn create_sitting(&self, s: &NewSitting) -> Result<bool> {
        self.create_sitting_counted(s, &mut || {}).await
    }

    /// [`Store::create_sitting`], calling `stored` after each session's rows (a progress
    /// bar: 30,000 candidates' papers take seconds).
    pub async fn create_sitting_counted(&self, s: &NewSitting, stored: &mut (dyn FnMut() + Send)) -> Result<bool> {
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
            execute_chunked(
                &mut tx,
                &session.paper,
                |n| insert_sql(self.backend, papers, 5, n),
                |q, i, row| {
                    q.bind(session.id.as_str())
                        .bind(i as i64)
                        .bind(row.section.as_str())
                        .bind(row.item_id.as_str())
                        .bind(row.option_order.as_str())
                },
            )
            .await?;
            stored();
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

    /// The stored results (JSON) of finished sessions whose receipt short code is `code`:
    /// an indexed lookup, for the public receipt page.
    pub async fn results_by_receipt_code(&self, code: &str) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT result FROM sessions WHERE receipt_code = $1 AND status = 'finished' AND result IS NOT NULL",
        )
        .bind(code)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|r| Ok(r.try_get("result")?)).collect()
    }

    /// Finished sessions whose receipt code is not in its column yet (they finished before
    /// the column existed), as (session id, result JSON).
    pub async fn results_without_receipt_code(&self) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT id, result FROM sessions WHERE receipt_code IS NULL AND status = 'finished' AND result IS NOT NULL",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|r| Ok((r.try_get("id")?, r.try_get("result")?))).collect()
    }

    /// Fills in receipt codes (session id, code) of sessions that have none, in one
    /// transaction. An empty code marks a result that holds none, so it is not read again.
    pub async fn set_receipt_codes(&self, codes: &[(String, String)]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for (id, code) in codes {
            sqlx::query("UPDATE sessions SET receipt_code = $2 WHERE id = $1 AND receipt_code IS NULL")
                .bind(id)
                .bind(code)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
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

impl Store {
    /// When each session of a sitting started (`None` if it never did), in id order: the
    /// analyses measure the time spent on a first answer from it.
    pub async fn session_starts_of(&self, sitting_id: &str) -> Result<Vec<(String, Option<String>)>> {
        let rows = sqlx::query("SELECT id, started_at FROM sessions WHERE sitting_id = $1 ORDER BY id")
            .bind(sitting_id)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(|r| Ok((r.try_get("id")?, r.try_get("started_at")?))).collect()
    }

    /// The client events (`event` lines: focus lost, page hidden…) of a sitting's sessions,
    /// counted by session and kind, in one query for the whole room.
    pub async fn event_counts_of(&self, sitting_id: &str) -> Result<Vec<(String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT l.session_id, COALESCE(l.choice, '') AS kind, COUNT(*) AS n
             FROM answer_log l JOIN sessions s ON s.id = l.session_id
             WHERE s.sitting_id = $1 AND l.action = 'event'
             GROUP BY l.session_id, COALESCE(l.choice, '')
             ORDER BY l.session_id, kind",
        )
        .bind(sitting_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|r| Ok((r.try_get("session_id")?, r.try_get("kind")?, r.try_get("n")?))).collect()
    }

    /// Per session of a sitting that has logged in: its candidate logins, the moves among
    /// them (`candidate.login` entries whose detail says `"moved":true`), and its connects
    /// after the start (`candidate.reconnect`, a takeover when the detail says
    /// `"takeover":true`), from the audit log in one query for the room.
    pub async fn login_counts_of(&self, sitting_id: &str) -> Result<Vec<LoginCounts>> {
        let rows = sqlx::query(
            "SELECT a.subject AS session_id,
                    SUM(CASE WHEN a.action = 'candidate.login' THEN 1 ELSE 0 END) AS logins,
                    SUM(CASE WHEN a.action = 'candidate.login' AND a.detail LIKE '%\"moved\":true%'
                        THEN 1 ELSE 0 END) AS moves,
                    SUM(CASE WHEN a.action = 'candidate.reconnect' AND a.detail NOT LIKE '%\"takeover\":true%'
                        THEN 1 ELSE 0 END) AS reconnects,
                    SUM(CASE WHEN a.action = 'candidate.reconnect' AND a.detail LIKE '%\"takeover\":true%'
                        THEN 1 ELSE 0 END) AS takeovers
             FROM audit_log a JOIN sessions s ON s.id = a.subject
             WHERE s.sitting_id = $1 AND a.action IN ('candidate.login', 'candidate.reconnect')
             GROUP BY a.subject
             ORDER BY a.subject",
        )
        .bind(sitting_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(LoginCounts {
                    session_id: r.try_get("session_id")?,
                    logins: r.try_get("logins")?,
                    moves: r.try_get("moves")?,
                    reconnects: r.try_get("reconnects")?,
                    takeovers: r.try_get("takeovers")?,
                })
            })
            .collect()
    }

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
