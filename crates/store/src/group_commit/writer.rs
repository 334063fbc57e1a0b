//! The group-commit writer: one task owns every answer write. It takes whatever requests
//! are queued (up to a batch), stores them in one durable transaction, and only then
//! answers each request, so an `ack` always follows a commit (docs/design-rules.md:
//! nothing acknowledged is lost).

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

use super::batch::Batch;
use super::pooled::PooledWriter;
use super::sqlite::DirectWriter;
use crate::connection::{Backend, Store, WRITER_CACHE_KIB, stopped};
use crate::error::{Result, StoreError};

/// The most requests one transaction takes; more wait for the next commit.
const MAX_BATCH: usize = 2_000;

/// The group commit's own connection ([`Store::batch_writer`]).
pub enum BatchWriter {
    /// SQLite: statements run on the calling thread, a commit blocks it until its fsync
    /// (`write_batch` never yields).
    Direct(DirectWriter),
    /// PostgreSQL: a pool of one connection.
    Pooled(PooledWriter),
}

impl BatchWriter {
    /// The group commit: all of `batch` in one durable transaction, or none of it (see
    /// [`PooledWriter::write_batch`] for the rules a session update keeps). Returns the
    /// audit log's head after it when the batch holds entries.
    pub async fn write_batch(&mut self, batch: &Batch) -> Result<Option<(i64, String)>> {
        match self {
            BatchWriter::Direct(w) => w.write_batch(batch),
            BatchWriter::Pooled(w) => w.write_batch(batch).await,
        }
    }

    pub async fn close(self) {
        if let BatchWriter::Pooled(w) = self {
            w.close().await;
        }
    }
}

impl Store {
    /// A connection of its own for the group-commit writer, which runs on its own thread so
    /// that its commits never queue behind the request handlers. On SQLite it is a
    /// [`DirectWriter`] with the large page cache (`WRITER_CACHE_KIB`), used
    /// synchronously on that thread (open it there); on PostgreSQL a pool of one
    /// connection, made on the calling runtime.
    pub async fn batch_writer(&self) -> Result<BatchWriter> {
        Ok(match self.backend() {
            Backend::Sqlite => BatchWriter::Direct(DirectWriter::open(&self.sqlite_file()?, WRITER_CACHE_KIB)?),
            Backend::Postgres => BatchWriter::Pooled(PooledWriter::open(self).await?),
        })
    }
}

/// What a commit answers: the audit log's head after it (`None` when it stored no entry).
type Committed = Result<Option<(i64, String)>, WriteError>;

struct WriteReq {
    write: Batch,
    done: oneshot::Sender<Committed>,
}

/// A queued write; await it for the commit.
pub struct Pending(oneshot::Receiver<Committed>);

impl Pending {
    pub async fn committed(self) -> Result<(), WriteError> {
        self.committed_audit_head().await.map(|_| ())
    }

    /// Waits for the commit; returns the audit log's head after it when the commit stored
    /// entries (which it linked to the head it found: see [`crate::chain`]).
    pub async fn committed_audit_head(self) -> Result<Option<(i64, String)>, WriteError> {
        self.0.await.unwrap_or(Err(WriteError::Stopped))
    }
}

/// A handle to the writer task. Cheap to clone.
#[derive(Clone)]
pub struct Writer {
    tx: mpsc::Sender<WriteReq>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WriteError {
    #[error("the writer has stopped")]
    Stopped,
    #[error("commit failed: {0}")]
    Commit(String),
    /// The write carried the lease of `sitting` as a fence and this node no longer holds
    /// it at that epoch: nothing of the write was stored, and this node must stop writing
    /// to the sitting (another node owns it).
    #[error("the lease of sitting {sitting} is no longer held")]
    Fenced { sitting: String },
}

/// Why the writer did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("build the writer's runtime")]
    Runtime(#[source] std::io::Error),
    #[error("open the writer's database connection")]
    Open(#[source] StoreError),
    #[error("the writer's thread stopped before its connection opened")]
    Stopped,
}

impl Writer {
    /// Starts the writer on a thread of its own, with its own runtime and its own database
    /// connection ([`Store::batch_writer`]), and returns once that connection is open. On
    /// SQLite the thread runs SQLite itself; on PostgreSQL a commit is several round trips,
    /// and on the shared runtime each would wait behind every candidate's connection task.
    /// It stops after `shutdown` turns true, once every queued request has been committed.
    pub async fn spawn(store: Store, shutdown: watch::Receiver<bool>) -> Result<(Writer, JoinHandle<()>), StartError> {
        let (tx, rx) = mpsc::channel(16_384);
        let (opened, open) = oneshot::channel();
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(StartError::Runtime)?;
        let handle = tokio::task::spawn_blocking(move || {
            runtime.block_on(async move {
                let mut own = match store.batch_writer().await {
                    Ok(own) => {
                        let _ = opened.send(Ok(()));
                        own
                    }
                    Err(e) => {
                        let _ = opened.send(Err(e));
                        return;
                    }
                };
                run(&mut own, rx, shutdown).await;
                own.close().await;
            });
        });
        match open.await {
            Ok(Ok(())) => Ok((Writer { tx }, handle)),
            Ok(Err(e)) => Err(StartError::Open(e)),
            Err(_) => Err(StartError::Stopped),
        }
    }

    /// Stores `write` with whatever else is queued; returns once committed.
    pub async fn write(&self, write: Batch) -> Result<(), WriteError> {
        self.enqueue(write).await?.committed().await
    }

    /// Queues a write and returns at once; the queue keeps the order of `enqueue` calls,
    /// which is what the audit chain relies on.
    pub async fn enqueue(&self, write: Batch) -> Result<Pending, WriteError> {
        let (done, wait) = oneshot::channel();
        self.tx.send(WriteReq { write, done }).await.map_err(|_| WriteError::Stopped)?;
        Ok(Pending(wait))
    }
}

async fn run(writer: &mut BatchWriter, mut rx: mpsc::Receiver<WriteReq>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let first = tokio::select! {
            biased;
            req = rx.recv() => match req {
                Some(r) => r,
                None => return,
            },
            () = stopped(&mut shutdown) => {
                // Commit whatever is already queued, then stop taking more.
                rx.close();
                let mut rest = Vec::new();
                while let Ok(r) = rx.try_recv() {
                    rest.push(r);
                }
                if !rest.is_empty() {
                    commit(writer, rest).await;
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
        commit(writer, batch).await;
    }
}

async fn commit(writer: &mut BatchWriter, requests: Vec<WriteReq>) {
    if requests.iter().any(|r| !r.write.fences.is_empty()) {
        return commit_fenced(writer, requests).await;
    }
    let mut batch = Batch::default();
    let mut waiting = Vec::with_capacity(requests.len());
    for r in requests {
        batch.append(r.write);
        waiting.push(r.done);
    }
    let result = write_logged(writer, &batch, waiting.len()).await;
    for done in waiting {
        let _ = done.send(result.clone());
    }
}

/// A group commit on a cluster: when a fence is broken, the transaction stored nothing,
/// so the requests carrying that fence are refused (`Fenced`) and the rest are committed
/// again without them. Each retry drops at least one request, so it ends.
async fn commit_fenced(writer: &mut BatchWriter, mut requests: Vec<WriteReq>) {
    loop {
        let mut batch = Batch::default();
        for r in &requests {
            batch.append(r.write.clone());
        }
        let began = std::time::Instant::now();
        let broken = match writer.write_batch(&batch).await {
            Err(StoreError::Fenced(broken)) => broken,
            other => {
                let result = log_outcome(other, &batch, requests.len(), began);
                for r in requests {
                    let _ = r.done.send(result.clone());
                }
                return;
            }
        };
        let fenced_by = |r: &WriteReq| r.write.fences.iter().find(|f| broken.iter().any(|s| s == f.sitting())).cloned();
        let (refused, rest): (Vec<_>, Vec<_>) = requests.into_iter().partition(|r| fenced_by(r).is_some());
        tracing::warn!(sittings = ?broken, refused = refused.len(), rest = rest.len(), "group commit refused writes of sittings whose lease is gone");
        if refused.is_empty() {
            // Cannot happen (a broken fence is some request's); never loop on it.
            let e = WriteError::Commit(StoreError::Fenced(broken).to_string());
            for r in rest {
                let _ = r.done.send(Err(e.clone()));
            }
            return;
        }
        for r in refused {
            let sitting = fenced_by(&r).map(|f| f.sitting().to_owned()).unwrap_or_default();
            let _ = r.done.send(Err(WriteError::Fenced { sitting }));
        }
        if rest.is_empty() {
            return;
        }
        requests = rest;
    }
}

async fn write_logged(writer: &mut BatchWriter, batch: &Batch, requests: usize) -> Committed {
    let began = std::time::Instant::now();
    let result = writer.write_batch(batch).await;
    log_outcome(result, batch, requests, began)
}

fn log_outcome(
    result: Result<Option<(i64, String)>>,
    batch: &Batch,
    requests: usize,
    began: std::time::Instant,
) -> Committed {
    tracing::debug!(
        requests,
        log = batch.log.len(),
        sessions = batch.sessions.len(),
        micros = began.elapsed().as_micros() as u64,
        "group commit"
    );
    result.map_err(|e| {
        tracing::error!(error = %e, requests, rows = batch.log.len(), "group commit failed");
        WriteError::Commit(e.to_string())
    })
}
