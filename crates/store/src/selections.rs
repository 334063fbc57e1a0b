//! Selections: the definition's text, the applicants linked to candidates by participant
//! number, and the signed announcements, which are only ever added.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::connection::Store;
use crate::error::Result;
use crate::rows::ts;

/// The start of every announcement query (a macro so `concat!` keeps each query a literal).
macro_rules! announcement_columns {
    () => {
        "SELECT no, selection_id, seq, stage, supersedes, payload, signature, key_id, created_at FROM announcements"
    };
}

/// A selection as stored: its `selection.toml` text, parsed again where it is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectionRow {
    pub id: String,
    pub name: String,
    pub source: String,
    pub stored_at: String,
}

/// One applicant of a selection, as the checked applicant list gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicantRow {
    pub participant_no: String,
    pub name: String,
    pub formation: String,
    pub track: String,
    /// Hundredths (IPK 3.75 is 375); `None` when the list left it blank.
    pub education: Option<i64>,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
}

/// One assessor's scores for one applicant's SKB component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessorScoreRow {
    pub component: String,
    pub participant_no: String,
    pub assessor: String,
    /// One per rubric criterion, in the rubric's order.
    pub criteria: Vec<i64>,
}

/// A published announcement: the payload exactly as it was signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnouncementRow {
    pub no: String,
    pub selection_id: String,
    /// 1, 2, … within the selection.
    pub seq: i64,
    pub stage: String,
    pub supersedes: Option<String>,
    /// The signed JSON, byte for byte.
    pub payload: String,
    /// Base64url Ed25519 signature over `payload`.
    pub signature: String,
    pub key_id: String,
    pub created_at: String,
}

impl Store {
    /// Stores a selection and its applicants in one transaction, replacing the applicants
    /// of a selection stored before under the same id. Returns whether it replaced one.
    pub async fn put_selection(
        &self,
        selection: &SelectionRow,
        applicants: &[ApplicantRow],
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let existed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM selections WHERE id = $1")
            .bind(&selection.id)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO selections (id, name, source, stored_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, source = excluded.source,
                 stored_at = excluded.stored_at",
        )
        .bind(&selection.id)
        .bind(&selection.name)
        .bind(&selection.source)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM selection_applicants WHERE selection_id = $1")
            .bind(&selection.id)
            .execute(&mut *tx)
            .await?;
        for a in applicants {
            sqlx::query(
                "INSERT INTO selection_applicants
                     (selection_id, participant_no, name, formation, track, education, birth_date)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(&selection.id)
            .bind(&a.participant_no)
            .bind(&a.name)
            .bind(&a.formation)
            .bind(&a.track)
            .bind(a.education)
            .bind(&a.birth_date)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(existed > 0)
    }

    pub async fn get_selection(&self, id: &str) -> Result<Option<SelectionRow>> {
        let row = sqlx::query("SELECT id, name, source, stored_at FROM selections WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(SelectionRow {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                source: r.try_get("source")?,
                stored_at: r.try_get("stored_at")?,
            })
        })
        .transpose()
    }

    /// Every applicant of a selection, by participant number.
    pub async fn selection_applicants(&self, selection_id: &str) -> Result<Vec<ApplicantRow>> {
        let rows = sqlx::query(
            "SELECT participant_no, name, formation, track, education, birth_date
             FROM selection_applicants WHERE selection_id = $1 ORDER BY participant_no",
        )
        .bind(selection_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(applicant).collect()
    }

    /// One applicant of a selection.
    pub async fn selection_applicant(&self, selection_id: &str, participant_no: &str) -> Result<Option<ApplicantRow>> {
        let row = sqlx::query(
            "SELECT participant_no, name, formation, track, education, birth_date
             FROM selection_applicants WHERE selection_id = $1 AND participant_no = $2",
        )
        .bind(selection_id)
        .bind(participant_no)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(applicant).transpose()
    }

    /// Adds assessors' scores in one transaction: all or none. A score an assessor already
    /// gave for the same applicant and component is refused by the key, never replaced.
    pub async fn put_assessor_scores(
        &self,
        selection_id: &str,
        scores: &[AssessorScoreRow],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for s in scores {
            let criteria: Vec<String> = s.criteria.iter().map(i64::to_string).collect();
            sqlx::query(
                "INSERT INTO assessor_scores (selection_id, component, participant_no, assessor, criteria, recorded_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(selection_id)
            .bind(&s.component)
            .bind(&s.participant_no)
            .bind(&s.assessor)
            .bind(criteria.join(","))
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every assessor's scores for a component of a selection, by participant and assessor.
    pub async fn assessor_scores(&self, selection_id: &str, component: &str) -> Result<Vec<AssessorScoreRow>> {
        let rows = sqlx::query(
            "SELECT component, participant_no, assessor, criteria FROM assessor_scores
             WHERE selection_id = $1 AND component = $2 ORDER BY participant_no, assessor",
        )
        .bind(selection_id)
        .bind(component)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let criteria: String = r.try_get("criteria")?;
                Ok(AssessorScoreRow {
                    component: r.try_get("component")?,
                    participant_no: r.try_get("participant_no")?,
                    assessor: r.try_get("assessor")?,
                    criteria: criteria.split(',').filter_map(|c| c.parse().ok()).collect(),
                })
            })
            .collect()
    }

    /// Adds an announcement. There is no way to change or remove one.
    pub async fn put_announcement(&self, a: &AnnouncementRow) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO announcements (no, selection_id, seq, stage, supersedes, payload, signature, key_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&a.no)
        .bind(&a.selection_id)
        .bind(a.seq)
        .bind(&a.stage)
        .bind(&a.supersedes)
        .bind(&a.payload)
        .bind(&a.signature)
        .bind(&a.key_id)
        .bind(&a.created_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A selection's announcements in the order they were made.
    pub async fn announcements_of(&self, selection_id: &str) -> Result<Vec<AnnouncementRow>> {
        let rows = sqlx::query(concat!(announcement_columns!(), " WHERE selection_id = $1 ORDER BY seq"))
            .bind(selection_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(announcement).collect()
    }

    pub async fn get_announcement(&self, no: &str) -> Result<Option<AnnouncementRow>> {
        let row =
            sqlx::query(concat!(announcement_columns!(), " WHERE no = $1")).bind(no).fetch_optional(&self.pool).await?;
        row.as_ref().map(announcement).transpose()
    }
}

fn applicant(r: &AnyRow) -> Result<ApplicantRow> {
    Ok(ApplicantRow {
        participant_no: r.try_get("participant_no")?,
        name: r.try_get("name")?,
        formation: r.try_get("formation")?,
        track: r.try_get("track")?,
        education: r.try_get("education")?,
        birth_date: r.try_get("birth_date")?,
    })
}

fn announcement(r: &AnyRow) -> Result<AnnouncementRow> {
    Ok(AnnouncementRow {
        no: r.try_get("no")?,
        selection_id: r.try_get("selection_id")?,
        seq: r.try_get("seq")?,
        stage: r.try_get("stage")?,
        supersedes: r.try_get("supersedes")?,
        payload: r.try_get("payload")?,
        signature: r.try_get("signature")?,
        key_id: r.try_get("key_id")?,
        created_at: r.try_get("created_at")?,
    })
}
