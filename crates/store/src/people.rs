//! Candidates and supervisors. Credentials arrive already hashed (argon2id): the store
//! never sees a PIN or a password.

use chrono::{DateTime, Utc};

use crate::connection::Store;
use crate::error::Result;
use crate::rows::{NewCandidate, NewSupervisor, ts};

impl Store {
    /// Inserts or updates candidates in one transaction: all of them or none.
    pub async fn put_candidates(&self, candidates: &[NewCandidate], now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for c in candidates {
            sqlx::query(
                "INSERT INTO candidates (participant_no, name, birth_date, pin_hash, accommodation, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (participant_no) DO UPDATE SET name = excluded.name, birth_date = excluded.birth_date,
                     pin_hash = excluded.pin_hash, accommodation = excluded.accommodation",
            )
            .bind(&c.participant_no)
            .bind(&c.name)
            .bind(&c.birth_date)
            .bind(&c.pin_hash)
            .bind(&c.accommodation)
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        }
        crate::sessions::raise_login_generation(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn candidate_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM candidates").fetch_one(&self.pool).await?)
    }

    /// The stored PIN hash of a candidate, for login.
    pub async fn candidate_pin_hash(&self, participant_no: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT pin_hash FROM candidates WHERE participant_no = $1")
            .bind(participant_no)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// A candidate's accommodation (a name from the exam's `[accommodations]`), if registered.
    pub async fn candidate_accommodation(&self, participant_no: &str) -> Result<Option<Option<String>>> {
        Ok(sqlx::query_scalar("SELECT accommodation FROM candidates WHERE participant_no = $1")
            .bind(participant_no)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn put_supervisor(&self, s: &NewSupervisor, now: DateTime<Utc>) -> Result<()> {
        self.put_staff(s, &[], now).await
    }

    /// Creates or updates a staff account and assigns it `sittings`, in one transaction: a
    /// failed assignment (a sitting that does not exist) leaves the account as it was, its
    /// old password included.
    pub async fn put_staff(&self, s: &NewSupervisor, sittings: &[String], now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO supervisors (username, name, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (username) DO UPDATE SET name = excluded.name, password_hash = excluded.password_hash, role = excluded.role",
        )
        .bind(&s.username)
        .bind(&s.name)
        .bind(&s.password_hash)
        .bind(&s.role)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        for sitting in sittings {
            sqlx::query(
                "INSERT INTO sitting_supervisors (sitting_id, username) VALUES ($1, $2)
                 ON CONFLICT (sitting_id, username) DO NOTHING",
            )
            .bind(sitting)
            .bind(&s.username)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
