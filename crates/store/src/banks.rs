//! Banks stored by content hash, as their files.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use item_bank::{Bank, BankHash, BankSource};
use sqlx::Row;

use crate::connection::Store;
use crate::error::{Result, StoreError};
use crate::rows::{StoredBank, ts};

impl Store {
    /// Stores a bank unless a bank with the same content hash is already stored.
    /// Returns whether it was new.
    pub async fn put_bank(&self, bank: &Bank, now: DateTime<Utc>) -> Result<bool> {
        let hash = bank.hash().to_hex();
        let mut tx = self.begin_write().await?;
        let exists: Option<String> =
            sqlx::query_scalar("SELECT hash FROM banks WHERE hash = $1").bind(&hash).fetch_optional(&mut *tx).await?;
        if exists.is_some() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO banks (hash, name, version, title, language, item_count, stored_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&hash)
        .bind(bank.name())
        .bind(bank.version())
        .bind(bank.title())
        .bind(bank.language())
        .bind(bank.items().len() as i64)
        .bind(ts(now))
        .execute(&mut *tx)
        .await?;
        for (name, body) in &bank.source().files {
            sqlx::query("INSERT INTO bank_files (bank_hash, name, body) VALUES ($1, $2, $3)")
                .bind(&hash)
                .bind(name)
                .bind(body)
                .execute(&mut *tx)
                .await?;
        }
        for (name, body) in &bank.source().assets {
            sqlx::query("INSERT INTO bank_assets (bank_hash, name, body) VALUES ($1, $2, $3)")
                .bind(&hash)
                .bind(name)
                .bind(body.clone())
                .execute(&mut *tx)
                .await?;
        }
        for (position, item) in bank.items().iter().enumerate() {
            sqlx::query(
                "INSERT INTO items (bank_hash, item_id, position, section, topic, kind) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&hash)
            .bind(item.id().as_str())
            .bind(position as i64)
            .bind(item.section().as_str())
            .bind(item.topic().as_str())
            .bind(item.key().kind_name())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Loads a bank back through item-bank's parser and checks it still hashes to its key.
    pub async fn get_bank(&self, hash: &BankHash) -> Result<Option<Bank>> {
        let key = hash.to_hex();
        let name: Option<String> =
            sqlx::query_scalar("SELECT name FROM banks WHERE hash = $1").bind(&key).fetch_optional(&self.pool).await?;
        let Some(name) = name else { return Ok(None) };
        let mut source = BankSource { root: format!("stored:{name}@{}", hash.short()), ..BankSource::default() };
        let files = sqlx::query("SELECT name, body FROM bank_files WHERE bank_hash = $1")
            .bind(&key)
            .fetch_all(&self.pool)
            .await?;
        for row in files {
            source.files.insert(row.try_get("name")?, row.try_get("body")?);
        }
        let assets = sqlx::query("SELECT name, body FROM bank_assets WHERE bank_hash = $1")
            .bind(&key)
            .fetch_all(&self.pool)
            .await?;
        let mut map = BTreeMap::new();
        for row in assets {
            map.insert(row.try_get::<String, _>("name")?, row.try_get::<Vec<u8>, _>("body")?);
        }
        source.assets = map;
        let bank =
            Bank::parse(source).map_err(|d| StoreError::CorruptBank { hash: key.clone(), message: d.to_string() })?;
        if bank.hash() != hash {
            return Err(StoreError::BankHashMismatch { expected: key, stored: bank.hash().to_hex() });
        }
        Ok(Some(bank))
    }

    pub async fn list_banks(&self) -> Result<Vec<StoredBank>> {
        let rows = sqlx::query("SELECT hash, name, version, item_count, stored_at FROM banks ORDER BY name, stored_at")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(StoredBank {
                    hash: r.try_get("hash")?,
                    name: r.try_get("name")?,
                    version: r.try_get("version")?,
                    item_count: r.try_get("item_count")?,
                    stored_at: r.try_get("stored_at")?,
                })
            })
            .collect()
    }
}
