//! The group-commit writer: one task owns every answer write. It takes whatever requests
//! are queued (up to a batch), stores them in one durable transaction, and only then
//! answers each request, so an `ack` always follows a commit (DESIGN rule 1).

use std::time::Duration;

use store::{Backend, Batch, BatchWriter, Store};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// The most requests one transaction takes; more wait for the next commit.
const MAX_BATCH: usize = 2_000;

/// How often SQLite's WAL is copied back into the database file, off the writer's thread.
/// Each copy ends with an fsync of the database file, and a commit's fsync of the WAL
/// waits behind it on the disk: once a second instead of four times halved the slowest
/// acks (docs/benchmarks.md, ninth series). At exam-day rates a second's WAL stays far
/// below `wal_autocheckpoint`.
pub const WAL_CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

struct WriteReq {
    write: Batch,
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
    /// Starts the writer on a thread of its own, with its own runtime and its own database
    /// connection ([`Store::batch_writer`]), and returns once that connection is open. On
    /// SQLite the thread runs SQLite itself; on PostgreSQL a commit is several round trips,
    /// and on the shared runtime each would wait behind every candidate's connection task.
    /// It stops after `shutdown` turns true, once every queued request has been committed.
    pub async fn spawn(store: Store, shutdown: watch::Receiver<bool>) -> anyhow::Result<(Writer, JoinHandle<()>)> {
        let (tx, rx) = mpsc::channel(16_384);
        let (opened, open) = oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
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
            Ok(Err(e)) => Err(anyhow::Error::new(e).context("open the writer's database connection")),
            Err(_) => Err(anyhow::anyhow!("the writer's thread stopped before its connection opened")),
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
            () = crate::shutdown::stopped(&mut shutdown) => {
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
    let mut batch = Batch::default();
    let mut waiting = Vec::with_capacity(requests.len());
    for r in requests {
        batch.append(r.write);
        waiting.push(r.done);
    }
    let began = std::time::Instant::now();
    let result = writer.write_batch(&batch).await.map_err(|e| e.to_string());
    tracing::debug!(
        requests = waiting.len(),
        log = batch.log.len(),
        sessions = batch.sessions.len(),
        micros = began.elapsed().as_micros() as u64,
        "group commit"
    );
    if let Err(e) = &result {
        tracing::error!(error = %e, requests = waiting.len(), rows = batch.log.len(), "group commit failed");
    }
    for done in waiting {
        let _ = done.send(result.clone());
    }
}

/// Copies SQLite's WAL into the database file every [`WAL_CHECKPOINT_EVERY`], on a
/// connection of its own, until shutdown ([`Store::checkpoint`]): the writer's commits
/// then seldom find the WAL at its `wal_autocheckpoint` size, and when they do, little is
/// left to copy. Returns at once on PostgreSQL.
pub async fn run_wal_checkpoints(store: Store, mut shutdown: watch::Receiver<bool>) {
    if store.backend() != Backend::Sqlite {
        return;
    }
    let own = match store.checkpointer().await {
        Ok(own) => own,
        Err(e) => {
            tracing::warn!(error = %e, "no connection for WAL checkpoints; the writer does them");
            return;
        }
    };
    let mut every = tokio::time::interval(WAL_CHECKPOINT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {
                let began = std::time::Instant::now();
                match own.checkpoint().await {
                    Ok(Some(c)) if c.wal_frames > 0 => tracing::debug!(
                        busy = c.busy,
                        wal_frames = c.wal_frames,
                        copied_frames = c.copied_frames,
                        micros = began.elapsed().as_micros() as u64,
                        "wal checkpoint"
                    ),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "wal checkpoint failed; the writer's own checkpoints continue"),
                }
            }
            () = crate::shutdown::stopped(&mut shutdown) => break,
        }
    }
    own.close().await;
}
