//! The audit log's hash chain: how an entry is linked to the one before it.
//!
//! The chain is defined here, beside the tables, because the link is made where the entry
//! is stored: the server numbers its entries ahead (a receipt names the head), but the
//! command line appends entries too ([`Store::append_audit`]), so a writing transaction
//! takes the head it really follows from the log itself ([`relink`]) and links the
//! entries it stores to it. Two writers then never take the same place, and nothing the
//! server acknowledged waits on whether the command line wrote meanwhile.
//!
//! [`Store::append_audit`]: crate::Store::append_audit

use std::borrow::Cow;

use ring::digest;

use crate::rows::AuditRow;

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

impl AuditRow {
    /// The entry placed right after `head` (the last stored entry's number and hash;
    /// `None`: the log is empty), with its number and both hashes.
    pub fn after(
        head: Option<(i64, String)>,
        at: &str,
        actor: &str,
        action: &str,
        subject: &str,
        detail: &str,
    ) -> AuditRow {
        let (prev_seq, prev_hash) = head.unwrap_or_else(|| (0, GENESIS.to_owned()));
        let seq = prev_seq + 1;
        AuditRow {
            seq,
            at: at.to_owned(),
            actor: actor.to_owned(),
            action: action.to_owned(),
            subject: subject.to_owned(),
            hash: entry_hash(&prev_hash, seq, at, actor, action, subject, detail),
            detail: detail.to_owned(),
            prev_hash,
        }
    }
}

/// `rows` as they follow `head` (read in the writing transaction): rows already linked to
/// it are kept as they are; from the first that is not (someone else appended meanwhile),
/// each is numbered and hashed again after the one before. Also returns the head after
/// the last row.
pub(crate) fn relink(rows: &[AuditRow], head: Option<(i64, String)>) -> (Cow<'_, [AuditRow]>, Option<(i64, String)>) {
    let mut prev = head.clone().unwrap_or_else(|| (0, GENESIS.to_owned()));
    let linked = rows.iter().take_while(|r| {
        let follows = r.seq == prev.0 + 1 && r.prev_hash == prev.1;
        if follows {
            prev = (r.seq, r.hash.clone());
        }
        follows
    });
    let kept = linked.count();
    if kept == rows.len() {
        let head = rows.last().map(|r| (r.seq, r.hash.clone())).or(head);
        return (Cow::Borrowed(rows), head);
    }
    let mut out = rows[..kept].to_vec();
    for r in &rows[kept..] {
        let row = AuditRow::after(Some(prev), &r.at, &r.actor, &r.action, &r.subject, &r.detail);
        prev = (row.seq, row.hash.clone());
        out.push(row);
    }
    (Cow::Owned(out), Some(prev))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(head: Option<(i64, String)>, subjects: &[&str]) -> Vec<AuditRow> {
        let mut head = head;
        subjects
            .iter()
            .map(|s| {
                let row = AuditRow::after(head.clone(), "t", "a", "x", s, "{}");
                head = Some((row.seq, row.hash.clone()));
                row
            })
            .collect()
    }

    #[test]
    fn rows_that_follow_the_head_are_kept_as_they_are() {
        let rows = chain(None, &["a", "b"]);
        let (out, head) = relink(&rows, None);
        assert!(matches!(out, Cow::Borrowed(_)));
        assert_eq!(head, Some((2, rows[1].hash.clone())));
        let (out, head) = relink(&[], Some((7, "h".into())));
        assert!(out.is_empty());
        assert_eq!(head, Some((7, "h".into())));
    }

    #[test]
    fn rows_numbered_behind_an_append_follow_it_with_their_content_unchanged() {
        let stored = chain(None, &["a"]);
        // The server numbered "b" and "c" after "a"; the command line stored "cli" there.
        let theirs = chain(Some((1, stored[0].hash.clone())), &["b", "c"]);
        let cli = chain(Some((1, stored[0].hash.clone())), &["cli"]);
        let (out, head) = relink(&theirs, Some((2, cli[0].hash.clone())));
        assert_eq!(out.iter().map(|r| (r.seq, r.subject.as_str())).collect::<Vec<_>>(), [(3, "b"), (4, "c")]);
        assert_eq!(out[0].prev_hash, cli[0].hash);
        assert_eq!(out[1].prev_hash, out[0].hash);
        assert_eq!(out[1], chain(Some((2, cli[0].hash.clone())), &["b", "c"])[1], "exactly as if numbered after it");
        assert_eq!(head, Some((4, out[1].hash.clone())));
    }
}
