//! The audit log: append-only and hash-chained with SHA-256. Each entry's hash covers its
//! content and the previous entry's hash, so editing, removing or reordering any stored
//! entry breaks the chain from there on, and `ujian audit verify` names the first break.
//!
//! Entries are numbered and chained here, under one lock, and handed to the group-commit
//! writer in that order (its queue is FIFO), usually in the same transaction as the change
//! they record. The command line appends entries beside a running server; the writing
//! transaction links each entry to the head it really follows (`store::chain`), and this
//! head follows what the commits report, so nobody's entry is refused for its place.
//!
//! A chain alone does not stop someone who can write the database from rebuilding it from
//! genesis. So the server signs the head of the stored chain with its Ed25519 key
//! (`signed_head::SignedHead`, by `signed_head::HeadPublisher`) every minute and at every sitting close, and
//! publishes it; every receipt names the head at its finish. A head someone kept, or a
//! receipt, is then a fixed point a rewritten chain no longer passes through
//! (`ujian audit verify --head`, `ujian receipt verify`).

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use store::{AuditRow, Batch, Store};

use store::group_commit::{WriteError, Writer};

pub use store::chain::{GENESIS, entry_hash};

/// A place in the chain: an entry's number and hash (0 and [`GENESIS`] before the first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    pub seq: i64,
    pub hash: String,
}

impl ChainHead {
    pub fn genesis() -> ChainHead {
        ChainHead { seq: 0, hash: GENESIS.to_owned() }
    }

    /// Whether `rows` (the stored chain, in order from entry 1) pass through this head.
    pub fn check_in(&self, rows: &[AuditRow]) -> Result<(), HeadMismatch> {
        if self.seq == 0 {
            return if self.hash == GENESIS {
                Ok(())
            } else {
                Err(HeadMismatch::Differs { stored: GENESIS.to_owned() })
            };
        }
        match usize::try_from(self.seq - 1).ok().and_then(|i| rows.get(i)) {
            None => Err(HeadMismatch::Missing { stored: rows.len() as i64 }),
            Some(r) if r.seq == self.seq && r.hash == self.hash => Ok(()),
            Some(r) => Err(HeadMismatch::Differs { stored: r.hash.clone() }),
        }
    }
}

/// Why a stored chain does not pass through a head.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadMismatch {
    #[error("the stored chain has only {stored} entries: entries were removed")]
    Missing { stored: i64 },
    #[error("the stored entry has hash {stored}: the chain was rewritten")]
    Differs { stored: String },
}

/// What an audit entry says, before it has its place in the chain.
pub struct Entry<'a> {
    /// When it happened, by the server's UTC clock (`store::ts`).
    pub at: String,
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: &'a str,
    pub detail: serde_json::Value,
}

/// Numbers and chains new entries. The lock is a tokio mutex because it is held while the
/// entry is queued to the writer, which keeps queue order equal to chain order.
pub struct Audit {
    head: tokio::sync::Mutex<(i64, String)>,
    /// The last entry known to be stored: what receipts and signed heads name. A plain
    /// lock, read under a session's lock when a receipt is signed.
    committed: Mutex<ChainHead>,
}

impl Audit {
    pub async fn load(store: &Store) -> anyhow::Result<Audit> {
        let head = store.audit_head().await?.unwrap_or((0, GENESIS.to_owned()));
        let committed = Mutex::new(ChainHead { seq: head.0, hash: head.1.clone() });
        Ok(Audit { head: tokio::sync::Mutex::new(head), committed })
    }

    /// The last entry known to be stored.
    pub fn committed_head(&self) -> ChainHead {
        self.committed.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// An entry has been committed (commits land in chain order, so later is higher).
    pub fn stored(&self, head: ChainHead) {
        let mut committed = self.committed.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if head.seq > committed.seq {
            *committed = head;
        }
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

    /// Stores an entry through the group commit, with whatever else (`with`) belongs in
    /// the same transaction; returns once it is committed.
    pub async fn record(
        &self,
        writer: &Writer,
        store: &Store,
        entry: Entry<'_>,
        mut with: Batch,
    ) -> Result<(), WriteError> {
        let pending = {
            // Chain order must be queue order: hold the chain's lock until queued.
            let (row, _guard) = self.next(&entry.at, entry.actor, entry.action, entry.subject, &entry.detail).await;
            with.audit.push(row);
            writer.enqueue(with).await?
        };
        match pending.committed_audit_head().await {
            Ok(Some((seq, hash))) => {
                self.followed(seq, &hash).await;
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => {
                self.reload(store).await;
                Err(e)
            }
        }
    }

    /// A commit stored entries up to `seq`: the last known to be stored. Where entries
    /// were appended beside this server (the command line), the commit placed this
    /// server's after them, and the next ones are numbered from there. Entries still
    /// queued were numbered before and are placed by their own commit.
    async fn followed(&self, seq: i64, hash: &str) {
        self.stored(ChainHead { seq, hash: hash.to_owned() });
        let mut head = self.head.lock().await;
        if seq >= head.0 {
            *head = (seq, hash.to_owned());
        }
    }

    /// After a failed commit the stored chain is the truth again.
    pub async fn reload(&self, store: &Store) {
        if let Ok(h) = store.audit_head().await {
            let h = h.unwrap_or((0, GENESIS.to_owned()));
            self.stored(ChainHead { seq: h.0, hash: h.1.clone() });
            *self.head.lock().await = h;
        }
    }
}

/// Appends an entry from the command line (which may run beside a server: see
/// [`Store::append_audit`]). A server that numbered an entry of its own for the same place
/// meanwhile has it placed after this one by its commit.
pub async fn append(
    store: &Store,
    at: &str,
    actor: &str,
    action: &str,
    subject: &str,
    detail: &serde_json::Value,
) -> anyhow::Result<AuditRow> {
    let detail = detail.to_string();
    Ok(store.append_audit(|head| AuditRow::after(head, at, actor, action, subject, &detail)).await?)
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

    #[test]
    fn a_head_is_in_a_chain_only_at_its_place_with_its_hash() {
        let rows = chain(5);
        let at = |i: usize| ChainHead { seq: rows[i].seq, hash: rows[i].hash.clone() };
        assert_eq!(at(2).check_in(&rows), Ok(()));
        assert_eq!(ChainHead::genesis().check_in(&rows), Ok(()));
        assert_eq!(ChainHead::genesis().check_in(&[]), Ok(()));
        assert_eq!(at(4).check_in(&rows[..3]), Err(HeadMismatch::Missing { stored: 3 }));
        let other = chain(5).into_iter().map(|mut r| {
            r.detail = "{\"x\":1}".into();
            r
        });
        let mut prev = GENESIS.to_owned();
        let rebuilt: Vec<AuditRow> = other
            .map(|mut r| {
                r.prev_hash = prev.clone();
                r.hash = entry_hash(&r.prev_hash, r.seq, &r.at, &r.actor, &r.action, &r.subject, &r.detail);
                prev = r.hash.clone();
                r
            })
            .collect();
        assert_eq!(verify(&rebuilt), Ok(5), "a chain rebuilt from genesis holds together");
        assert!(matches!(at(2).check_in(&rebuilt), Err(HeadMismatch::Differs { .. })), "but not through the head");
    }
}
