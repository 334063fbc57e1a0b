//! The group-commit writer: one task owns every answer write. It takes whatever requests
//! are queued (up to a batch), stores them in one durable transaction, and only then
//! answers each request, so an `ack` always follows a commit (DESIGN rule 1).

use store::{AuditRow, LogEntry, SessionWrite, Store};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// The most requests one transaction takes; more wait for the next commit.
const MAX_BATCH: usize = 2_000;

/// What one request stores, all in the same transaction.
#[derive(Debug, Default)]
pub struct Write {
    pub log: Option<LogEntry>,
    pub session: Option<SessionWrite>,
    pub audit: Option<AuditRow>,
}

struct WriteReq {
    write: Write,
    done: oneshot::Sender<Result<(), String>>,
}

/// A queued write; await it for the commit.
pub struct Pending(oneshot::Receiver<Result<(), String>>);

impl Pending {
    pub async fn committed(self) -> Result<(), WriteError> {
        match self.0.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(WriteError::Commit(e)),
            Err(_) => Err(WriteError::Stopped),
        }
    }
}

/// A handle to the writer task. Cheap to clone.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<WriteReq>,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the writer has stopped")]
    Stopped,
    #[error("commit failed: {0}")]
    Commit(String),
}

impl Writer {
    /// Starts the writer. It stops after `shutdown` turns true, once every queued request
    /// has been committed.
    pub fn spawn(store: Store, shutdown: watch::Receiver<bool>) -> (Writer, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(16_384);
        let handle = tokio::spawn(run(store, rx, shutdown));
        (Writer { tx }, handle)
    }

    /// Stores one log line (if any) and the session's new state; returns once committed.
    pub async fn write(&self, log: Option<LogEntry>, session: SessionWrite) -> Result<(), WriteError> {
        self.enqueue(Write { log, session: Some(session), audit: None }).await?.committed().await
    }

    /// Queues a write and returns at once; the queue keeps the order of `enqueue` calls,
    /// which is what the audit chain relies on.
    pub async fn enqueue(&self, write: Write) -> Result<Pending, WriteError> {
        let (done, wait) = oneshot::channel();
        self.tx.send(WriteReq { write, done }).await.map_err(|_| WriteError::Stopped)?;
        Ok(Pending(wait))
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<WriteReq>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let first = tokio::select! {
            biased;
            req = rx.recv() => match req {
                Some(r) => r,
                None => return,
            },
            () = crate::app::stopped(&mut shutdown) => {
                // Commit whatever is already queued, then stop taking more.
                rx.close();
                let mut rest = Vec::new();
                while let Ok(r) = rx.try_recv() {
                    rest.push(r);
                }
                if !rest.is_empty() {
                    commit(&store, rest).await;
                }
                return;
            }
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        commit(&store, batch).await;
    }
}

async fn commit(store: &Store, batch: Vec<WriteReq>) {
    let log: Vec<LogEntry> = batch.iter().filter_map(|r| r.write.log.clone()).collect();
    let sessions = merge_sessions(batch.iter().filter_map(|r| r.write.session.as_ref()));
    let audit: Vec<AuditRow> = batch.iter().filter_map(|r| r.write.audit.clone()).collect();
    let result = store.write_batch(&log, &sessions, &audit).await.map_err(|e| e.to_string());
    if let Err(e) = &result {
        tracing::error!(error = %e, rows = log.len(), "group commit failed");
    }
    for r in batch {
        let _ = r.done.send(result.clone());
    }
}

/// One update per session: the latest state, keeping one-time fields (started_at,
/// finished_at, finish_reason, result) from whichever request set them.
fn merge_sessions<'a>(writes: impl Iterator<Item = &'a SessionWrite>) -> Vec<SessionWrite> {
    let mut out: Vec<SessionWrite> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for w in writes {
        match index.get(&w.session_id) {
            None => {
                index.insert(w.session_id.clone(), out.len());
                out.push(w.clone());
            }
            Some(&i) => {
                let prev = out[i].clone();
                let mut next = w.clone();
                next.started_at = next.started_at.or(prev.started_at);
                next.finished_at = next.finished_at.or(prev.finished_at);
                next.finish_reason = next.finish_reason.or(prev.finish_reason);
                next.result = next.result.or(prev.result);
                next.status = next.status.or(prev.status.clone());
                next.used_ms = next.used_ms.max(prev.used_ms);
                // A finished state is final even if an earlier-queued checkpoint comes later.
                if prev.status.as_deref() == Some("finished") {
                    next.status = prev.status;
                }
                out[i] = next;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(id: &str, status: &str, used: i64) -> SessionWrite {
        SessionWrite {
            session_id: id.into(),
            status: Some(status.into()),
            used_ms: used,
            extension_ms: 0,
            last_seen_at: "t".into(),
            started_at: None,
            finished_at: None,
            finish_reason: None,
            result: None,
        }
    }

    #[test]
    fn merging_keeps_one_update_per_session_and_one_time_fields() {
        let mut a = w("s1", "active", 10);
        a.started_at = Some("start".into());
        let mut f = w("s1", "finished", 30);
        f.result = Some("r".into());
        let merged = merge_sessions([a, w("s2", "active", 5), f, w("s1", "active", 20)].iter());
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].status.as_deref(), Some("finished"));
        assert_eq!(merged[0].used_ms, 30);
        assert_eq!(merged[0].started_at.as_deref(), Some("start"));
        assert_eq!(merged[0].result.as_deref(), Some("r"));
    }
}
