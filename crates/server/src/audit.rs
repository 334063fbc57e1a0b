//! The audit log: append-only and hash-chained with SHA-256. Each entry's hash covers its
//! content and the previous entry's hash, so editing, removing or reordering any stored
//! entry breaks the chain from there on, and `ujian audit verify` names the first break.
//!
//! Entries are numbered and chained here, under one lock, and handed to the group-commit
//! writer in that order (its queue is FIFO), usually in the same transaction as the change
//! they record.

use ring::digest;
use store::{AuditRow, Store};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of an entry: SHA-256 over its fields, each length-prefixed.
pub fn entry_hash(
    prev_hash: &str,
    seq: i64,
    at: &str,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &str,
) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    for part in ["ujian-audit-v1", prev_hash, &seq.to_string(), at, actor, action, subject, detail] {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part.as_bytes());
    }
    hex::encode(ctx.finish())
}

/// Numbers and chains new entries. The lock is a tokio mutex because it is held while the
/// entry is queued to the writer, which keeps queue order equal to chain order.
pub struct Audit {
    head: tokio::sync::Mutex<(i64, String)>,
}

impl Audit {
    pub async fn load(store: &Store) -> anyhow::Result<Audit> {
        let head = store.audit_head().await?.unwrap_or((0, GENESIS.to_owned()));
        Ok(Audit { head: tokio::sync::Mutex::new(head) })
    }

    /// Takes the next place in the chain. The guard must be held until the entry is queued.
    pub async fn next(
        &self,
        at: &str,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &serde_json::Value,
    ) -> (AuditRow, tokio::sync::MutexGuard<'_, (i64, String)>) {
        let mut head = self.head.lock().await;
        let seq = head.0 + 1;
        let detail = detail.to_string();
        let hash = entry_hash(&head.1, seq, at, actor, action, subject, &detail);
        let row = AuditRow {
            seq,
            at: at.to_owned(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            detail,
            prev_hash: head.1.clone(),
            hash: hash.clone(),
        };
        *head = (seq, hash);
        (row, head)
    }

    /// After a failed commit the stored chain is the truth again.
    pub async fn reload(&self, store: &Store) {
        if let Ok(h) = store.audit_head().await {
            *self.head.lock().await = h.unwrap_or((0, GENESIS.to_owned()));
        }
    }
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    pub seq: i64,
    pub reason: String,
}

/// Recomputes the chain; `Ok(n)` when all `n` entries hold, else the first break.
pub fn verify(rows: &[AuditRow]) -> Result<usize, Break> {
    let mut prev = GENESIS.to_owned();
    for (i, r) in rows.iter().enumerate() {
        let expected_seq = i as i64 + 1;
        if r.seq != expected_seq {
            return Err(Break {
                seq: r.seq,
                reason: format!("expected entry {expected_seq} here (an entry is missing)"),
            });
        }
        if r.prev_hash != prev {
            return Err(Break { seq: r.seq, reason: "its prev_hash is not the previous entry's hash".into() });
        }
        let hash = entry_hash(&r.prev_hash, r.seq, &r.at, &r.actor, &r.action, &r.subject, &r.detail);
        if r.hash != hash {
            return Err(Break { seq: r.seq, reason: "its content does not match its hash (edited)".into() });
        }
        prev = hash;
    }
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRow> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let hash = entry_hash(&prev, seq, "t", "a", "act", "s", "{}");
                let row = AuditRow {
                    seq,
                    at: "t".into(),
                    actor: "a".into(),
                    action: "act".into(),
                    subject: "s".into(),
                    detail: "{}".into(),
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                row
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn an_edit_a_removal_or_a_forged_link_is_caught_at_its_entry() {
        let mut edited = chain(5);
        edited[2].detail = "{\"x\":1}".into();
        assert_eq!(verify(&edited).map_err(|b| b.seq), Err(3));
        let mut removed = chain(5);
        removed.remove(1);
        assert_eq!(verify(&removed).map_err(|b| b.seq), Err(3));
        let mut rehashed = chain(5);
        rehashed[1].detail = "{\"x\":1}".into();
        rehashed[1].hash = entry_hash(&rehashed[1].prev_hash, 2, "t", "a", "act", "s", "{\"x\":1}");
        assert_eq!(verify(&rehashed).map_err(|b| b.seq), Err(3), "re-hashing one entry breaks the next link");
    }
}
