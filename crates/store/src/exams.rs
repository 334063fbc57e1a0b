//! Exam blueprints, stored as their file text next to the hash of the bank they were checked against.

use chrono::{DateTime, Utc};
use item_bank::{Bank, BankHash, Exam};
use sqlx::Row;

use crate::connection::Store;
use crate::error::{Result, StoreError};
use crate::rows::ts;

/// An exam as stored, with the exact bank it draws from.
#[derive(Debug, Clone)]
pub struct StoredExam {
    pub exam: Exam,
    pub bank: Bank,
}

impl Store {
    /// Stores (or replaces) an exam and the bank it was checked against.
    pub async fn put_exam(&self, exam: &Exam, bank: &Bank, now: DateTime<Utc>) -> Result<()> {
        self.put_bank(bank, now).await?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO exams (code, title, bank_hash, source, stored_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (code) DO UPDATE SET title = excluded.title, bank_hash = excluded.bank_hash,
                 source = excluded.source, stored_at = excluded.stored_at",
        )
        .bind(exam.code())
        .bind(exam.title())
        .bind(bank.hash().to_hex())
        .bind(exam.source())
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_exam(&self, code: &str) -> Result<Option<StoredExam>> {
        let row = sqlx::query("SELECT bank_hash, source FROM exams WHERE code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let hash: String = row.try_get("bank_hash")?;
        let source: String = row.try_get("source")?;
        let exam = Exam::parse(&format!("stored:{code}"), &source)
            .map_err(|d| StoreError::CorruptExam { code: code.to_owned(), message: d.to_string() })?;
        let bank_hash = BankHash::from_hex(&hash).ok_or_else(|| StoreError::CorruptExam {
            code: code.to_owned(),
            message: format!("bad bank hash {hash:?}"),
        })?;
        let bank = self
            .get_bank(&bank_hash)
            .await?
            .ok_or_else(|| StoreError::MissingBank { exam: code.to_owned(), bank: hash.clone() })?;
        Ok(Some(StoredExam { exam, bank }))
    }
}
