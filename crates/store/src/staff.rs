//! Staff accounts, their tokens and what they supervise; the audit log rows.

use sqlx::Row;

use crate::connection::Store;
use crate::error::Result;
use crate::rows::{AuditRow, SeatRow, SittingListRow, StaffRow};

impl Store {
    pub async fn staff(&self, username: &str) -> Result<Option<StaffRow>> {
        let row = sqlx::query("SELECT username, name, password_hash, role FROM supervisors WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(StaffRow {
                username: r.try_get("username")?,
                name: r.try_get("name")?,
                password_hash: r.try_get("password_hash")?,
                role: r.try_get("role")?,
            })
        })
        .transpose()
    }

    pub async fn put_staff_token(&self, token_hash: &str, username: &str, now: &str, expires: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO staff_tokens (token_hash, username, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(username)
            .bind(now)
            .bind(expires)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_staff_token(&self, token_hash: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM staff_tokens WHERE token_hash = $1").bind(token_hash).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether any admin account exists: without one nobody can open a sitting, and
    /// `ujian serve` says how to make one.
    pub async fn has_admin(&self) -> Result<bool> {
        let admins: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM supervisors WHERE role = 'admin'").fetch_one(&self.pool).await?;
        Ok(admins > 0)
    }

    /// The staff member a token belongs to, if it has not expired at `now`.
    pub async fn staff_for_token(&self, token_hash: &str, now: &str) -> Result<Option<StaffRow>> {
        let username: Option<String> =
            sqlx::query_scalar("SELECT username FROM staff_tokens WHERE token_hash = $1 AND expires_at > $2")
                .bind(token_hash)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
        match username {
            Some(u) => self.staff(&u).await,
            None => Ok(None),
        }
    }

    pub async fn assign_supervisor(&self, sitting_id: &str, username: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO sitting_supervisors (sitting_id, username) VALUES ($1, $2) ON CONFLICT (sitting_id, username) DO NOTHING",
        )
        .bind(sitting_id)
        .bind(username)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether `username` supervises `sitting_id`.
    pub async fn supervises(&self, username: &str, sitting_id: &str) -> Result<bool> {
        let n: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM sitting_supervisors WHERE username = $1 AND sitting_id = $2")
                .bind(username)
                .bind(sitting_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(n > 0)
    }

    /// Sittings, all of them or only those `username` supervises.
    pub async fn sittings(&self, supervised_by: Option<&str>) -> Result<Vec<SittingListRow>> {
        let rows = sqlx::query(
            "SELECT id, exam_code, venue, starts_at, status FROM sittings
             WHERE $1 IS NULL OR id IN (SELECT sitting_id FROM sitting_supervisors WHERE username = $1)
             ORDER BY starts_at, id",
        )
        .bind(supervised_by)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(SittingListRow {
                    id: r.try_get("id")?,
                    exam_code: r.try_get("exam_code")?,
                    venue: r.try_get("venue")?,
                    starts_at: r.try_get("starts_at")?,
                    status: r.try_get("status")?,
                })
            })
            .collect()
    }

    pub async fn seats(&self, sitting_id: &str) -> Result<Vec<SeatRow>> {
        let rows = sqlx::query(
            "SELECT s.id, s.participant_no, c.name, s.status, s.finish_reason, s.result, s.seat, s.checked_in_at
             FROM sessions s JOIN candidates c ON c.participant_no = s.participant_no
             WHERE s.sitting_id = $1 ORDER BY s.participant_no",
        )
        .bind(sitting_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(SeatRow {
                    session_id: r.try_get("id")?,
                    participant_no: r.try_get("participant_no")?,
                    name: r.try_get("name")?,
                    status: r.try_get("status")?,
                    finish_reason: r.try_get("finish_reason")?,
                    result: r.try_get("result")?,
                    seat: r.try_get("seat")?,
                    checked_in_at: r.try_get("checked_in_at")?,
                })
            })
            .collect()
    }

    /// The sitting a session belongs to.
    pub async fn sitting_of(&self, session_id: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT sitting_id FROM sessions WHERE id = $1")
            .bind(session_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn check_in(&self, session_id: &str, seat: Option<&str>, now: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE sessions SET seat = COALESCE($1, seat), checked_in_at = COALESCE(checked_in_at, $2) WHERE id = $3",
        )
        .bind(seat)
        .bind(now)
        .bind(session_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_move_allowed(&self, session_id: &str, allowed: bool) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE sessions SET move_allowed = $1 WHERE id = $2")
            .bind(i64::from(allowed))
            .bind(session_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn move_allowed(&self, session_id: &str) -> Result<bool> {
        let n: Option<i64> = sqlx::query_scalar("SELECT move_allowed FROM sessions WHERE id = $1")
            .bind(session_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(n.unwrap_or(0) != 0)
    }

    pub async fn set_sitting_token(&self, sitting_id: &str, token: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE sittings SET token = $1 WHERE id = $2")
            .bind(token)
            .bind(sitting_id)
            .execute(&mut *tx)
            .await?;
        crate::sessions::raise_login_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The last audit row (the chain's head), if any.
    pub async fn audit_head(&self) -> Result<Option<(i64, String)>> {
        let row =
            sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetch_optional(&self.pool).await?;
        row.map(|r| Ok((r.try_get("seq")?, r.try_get("hash")?))).transpose()
    }

    /// The whole audit log, in order.
    pub async fn audit_log(&self) -> Result<Vec<AuditRow>> {
        let rows =
            sqlx::query("SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log ORDER BY seq")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|r| {
                Ok(AuditRow {
                    seq: r.try_get("seq")?,
                    at: r.try_get("at")?,
                    actor: r.try_get("actor")?,
                    action: r.try_get("action")?,
                    subject: r.try_get("subject")?,
                    detail: r.try_get("detail")?,
                    prev_hash: r.try_get("prev_hash")?,
                    hash: r.try_get("hash")?,
                })
            })
            .collect()
    }
}
