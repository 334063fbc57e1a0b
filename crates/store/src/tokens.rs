//! Candidate login tokens: what a presented token stands for, and ending tokens.
//!
//! A token is ended by marking its row with a reason ([`Revoked`]), never by deleting it,
//! so that a PC presenting an ended token is told why (the sitting closed, the seat is
//! held by another login, the candidate logged out).

use sqlx::Row;

use crate::connection::Store;
use crate::error::Result;
use crate::rows::{Revoked, TokenRow};

impl Store {
    /// The token with this hash and what it stands for, ended or not.
    pub async fn login_token(&self, token_hash: &str) -> Result<Option<TokenRow>> {
        let row = sqlx::query(
            "SELECT t.session_id, t.revoked_reason, t.created_at, g.starts_at, g.exam_code, s.status,
                    s.duration_ms + s.extension_ms AS allowed_ms, s.finished_at
             FROM login_tokens t JOIN sessions s ON s.id = t.session_id JOIN sittings g ON g.id = s.sitting_id
             WHERE t.token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(TokenRow {
                session_id: r.try_get("session_id")?,
                revoked: r.try_get::<Option<String>, _>("revoked_reason")?.as_deref().map(Revoked::parse),
                created_at: r.try_get("created_at")?,
                sitting_starts_at: r.try_get("starts_at")?,
                exam_code: r.try_get("exam_code")?,
                session_status: r.try_get("status")?,
                allowed_ms: r.try_get("allowed_ms")?,
                finished_at: r.try_get("finished_at")?,
            })
        })
        .transpose()
    }

    /// The session a token in force belongs to (`None` for an unknown or ended token).
    pub async fn session_for_token(&self, token_hash: &str) -> Result<Option<String>> {
        Ok(self.login_token(token_hash).await?.filter(|t| t.revoked.is_none()).map(|t| t.session_id))
    }

    /// Ends one token (a logout). Returns whether it was in force.
    pub async fn revoke_token(&self, token_hash: &str, why: Revoked, at: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE login_tokens SET revoked_reason = $1, revoked_at = $2 WHERE token_hash = $3 AND revoked_reason IS NULL",
        )
        .bind(why.as_str())
        .bind(at)
        .bind(token_hash)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Ends every login of a session still in force.
    pub async fn revoke_login_tokens(&self, session_id: &str, why: Revoked, at: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        revoke_session(&mut tx, session_id, why, at).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Uses up a supervisor's leave for a session to move to another PC: true if there was
    /// one. One statement, so two logins cannot both use one leave.
    pub async fn take_move_allowed(&self, session_id: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE sessions SET move_allowed = 0 WHERE id = $1 AND move_allowed <> 0")
            .bind(session_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Closes a sitting and, in the same transaction, ends the logins of its sessions that
    /// have not started, except `started` (sessions the caller has started in memory whose
    /// start may not be stored yet). Returns the sessions that had logins to end.
    pub async fn close_sitting(&self, sitting_id: &str, started: &[String], at: &str) -> Result<Vec<String>> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE sittings SET status = 'closed' WHERE id = $1").bind(sitting_id).execute(&mut *tx).await?;
        let ready: Vec<String> =
            sqlx::query_scalar("SELECT id FROM sessions WHERE sitting_id = $1 AND status = 'ready' ORDER BY id")
                .bind(sitting_id)
                .fetch_all(&mut *tx)
                .await?;
        let mut ended = Vec::new();
        for id in ready.into_iter().filter(|id| !started.contains(id)) {
            if revoke_session(&mut tx, &id, Revoked::SittingClosed, at).await? > 0 {
                ended.push(id);
            }
        }
        crate::sessions::raise_login_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(ended)
    }
}

/// Ends a session's logins in force; returns how many.
async fn revoke_session(tx: &mut sqlx::AnyConnection, session_id: &str, why: Revoked, at: &str) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE login_tokens SET revoked_reason = $1, revoked_at = $2 WHERE session_id = $3 AND revoked_reason IS NULL",
    )
    .bind(why.as_str())
    .bind(at)
    .bind(session_id)
    .execute(tx)
    .await?
    .rows_affected())
}
