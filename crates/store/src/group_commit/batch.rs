//! What one group commit stores, and the merge rule that keeps one update per session
//! whatever order a batch's writes arrived in.

use std::collections::HashMap;

use super::columns::{
    EXTENSION_MS, FINISH_REASON, FINISHED_AT, LAST_SEEN_AT, RECEIPT_CODE, RESULT, STARTED_AT, STATUS, USED_MS,
};
use crate::leases::Lease;
use crate::rows::{AuditRow, LogEntry, NewLoginToken, SessionWrite, TokenRevocation};

/// What one transaction stores. Requests of many clients are merged into one batch with
/// [`Batch::append`]; the order of audit rows is kept (the hash chain relies on it).
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub log: Vec<LogEntry>,
    pub sessions: Vec<SessionWrite>,
    pub audit: Vec<AuditRow>,
    pub login_tokens: Vec<NewLoginToken>,
    /// Sessions starting now whose other logins end (`superseded`), applied after
    /// `login_tokens`: a login stored in the same batch is another login too.
    pub revocations: Vec<TokenRevocation>,
    /// On a cluster, the leases of the sittings this batch's writes touch: the commit
    /// stores the batch only while each is still held at its epoch, checked in its own
    /// transaction (docs/cluster.md). A request that writes to a sitting of a node's lease
    /// carries that lease; otherwise a stale owner's write could land. Empty on a single
    /// node, which then runs no check at all.
    pub fences: Vec<Lease>,
}

impl Batch {
    /// A batch of one session update.
    pub fn session(write: SessionWrite) -> Batch {
        Batch { sessions: vec![write], ..Batch::default() }
    }

    pub fn append(&mut self, other: Batch) {
        self.log.extend(other.log);
        self.sessions.extend(other.sessions);
        self.audit.extend(other.audit);
        self.login_tokens.extend(other.login_tokens);
        self.revocations.extend(other.revocations);
        self.fences.extend(other.fences);
    }

    /// This batch, stored only while `lease` is held ([`Batch::fences`]).
    pub fn fenced(mut self, lease: Lease) -> Batch {
        self.fences.push(lease);
        self
    }

    /// Nothing to store (fences alone store nothing).
    pub fn is_empty(&self) -> bool {
        self.log.is_empty()
            && self.sessions.is_empty()
            && self.audit.is_empty()
            && self.login_tokens.is_empty()
            && self.revocations.is_empty()
    }
}

/// One update per session: the latest state, keeping one-time fields (started_at,
/// finished_at, finish_reason, result, receipt_code) from whichever write set them. Each column keeps
/// its rule from the column table (`columns::SESSIONS`), here between the writes of one
/// batch as the UPDATE keeps it against the stored row.
pub(crate) fn merge_sessions(writes: &[SessionWrite]) -> Vec<SessionWrite> {
    let mut out: Vec<SessionWrite> = Vec::with_capacity(writes.len());
    let mut index = HashMap::with_capacity(writes.len());
    for w in writes {
        match index.get(w.session_id.as_str()) {
            None => {
                index.insert(w.session_id.as_str(), out.len());
                out.push(w.clone());
            }
            Some(&i) => {
                let prev = &mut out[i];
                // As the UPDATE's guard skips a finished row: its status is final.
                if prev.status.as_deref() != Some("finished") {
                    prev.status = STATUS.merge(prev.status.take(), w.status.clone());
                }
                prev.used_ms = USED_MS.merge_value(prev.used_ms, w.used_ms);
                prev.extension_ms = EXTENSION_MS.merge_value(prev.extension_ms, w.extension_ms);
                prev.last_seen_at =
                    LAST_SEEN_AT.merge_value(std::mem::take(&mut prev.last_seen_at), w.last_seen_at.clone());
                prev.started_at = STARTED_AT.merge(prev.started_at.take(), w.started_at.clone());
                prev.finished_at = FINISHED_AT.merge(prev.finished_at.take(), w.finished_at.clone());
                prev.finish_reason = FINISH_REASON.merge(prev.finish_reason.take(), w.finish_reason.clone());
                prev.result = RESULT.merge(prev.result.take(), w.result.clone());
                prev.receipt_code = RECEIPT_CODE.merge(prev.receipt_code.take(), w.receipt_code.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(id: &str, status: Option<&str>, used: i64) -> SessionWrite {
        SessionWrite {
            session_id: id.into(),
            status: status.map(str::to_owned),
            used_ms: used,
            extension_ms: 0,
            last_seen_at: "t".into(),
            started_at: None,
            finished_at: None,
            finish_reason: None,
            result: None,
            receipt_code: None,
        }
    }

    #[test]
    fn merging_keeps_one_update_per_session_and_one_time_fields() {
        let mut a = w("s1", Some("active"), 10);
        a.started_at = Some("start".into());
        let mut f = w("s1", Some("finished"), 30);
        f.result = Some("r".into());
        let merged =
            merge_sessions(&[a, w("s2", Some("active"), 5), f, w("s1", Some("active"), 20), w("s1", None, 25)]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].status.as_deref(), Some("finished"));
        assert_eq!(merged[0].used_ms, 30);
        assert_eq!(merged[0].started_at.as_deref(), Some("start"));
        assert_eq!(merged[0].result.as_deref(), Some("r"));
        assert_eq!(merged[1].session_id, "s2");
    }

    #[test]
    fn a_checkpoint_after_a_status_keeps_the_status() {
        let merged = merge_sessions(&[w("s1", Some("paused"), 10), w("s1", None, 12)]);
        assert_eq!((merged[0].status.as_deref(), merged[0].used_ms), (Some("paused"), 12));
    }
}
