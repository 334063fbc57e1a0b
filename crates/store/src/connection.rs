//! The database handle and how ujian connects: the settings every connection gets (SQLite's set explicitly and read back, docs/design-rules.md:
//! durability is set, never assumed), the SQLite connections of the group commit and the
//! bulk loads, and the WAL checkpointer.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, AssertSqlSafe, Executor};
use tokio::sync::watch;

use crate::error::{Result, StoreError};

/// Which database is behind the pool; the few places that differ (transaction start,
/// pragmas) ask this rather than parsing URLs again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A handle on the database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    pub(crate) url: String,
}

impl Store {
    /// The file the pool's connections open, read from the URL as sqlx reads it (percent
    /// escapes decoded). An in-memory database has none: its writer could not share it.
    pub(crate) fn sqlite_file(&self) -> Result<PathBuf> {
        use sqlx::sqlite::SqliteConnectOptions;
        let file = SqliteConnectOptions::from_str(&self.url)?.get_filename().to_owned();
        // sqlx names an in-memory database `file:sqlx-in-memory-N`.
        if sqlite_path(&self.url).is_none() || file.to_str().is_some_and(|f| f.starts_with("file:")) {
            return Err(StoreError::UnsupportedUrl(self.url.clone()));
        }
        Ok(file)
    }

    /// Another handle on the same database with one connection of its own, for copying
    /// SQLite's WAL back into the database file ([`Store::checkpoint`]) off the writer's
    /// thread.
    pub async fn checkpointer(&self) -> Result<Store> {
        let pool = connect(&self.url, self.backend, 1, READER_CACHE_KIB).await?;
        Ok(Store { pool, backend: self.backend, url: self.url.clone() })
    }

    /// Copies what it can of SQLite's WAL into the database file, without waiting for or
    /// holding up the writer or readers (`PRAGMA wal_checkpoint(PASSIVE)`). Run on a
    /// connection of its own, it does ahead of time the copying that otherwise falls to
    /// the writer once the WAL reaches `wal_autocheckpoint` pages: that commit, and every
    /// ack waiting on it, would wait for thousands of page writes and an fsync of the
    /// database file. `None` on PostgreSQL, which checkpoints by itself.
    pub async fn checkpoint(&self) -> Result<Option<WalCheckpoint>> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&self.pool).await?;
        use sqlx::Row as _;
        Ok(Some(WalCheckpoint {
            busy: row.try_get::<i64, _>(0)? != 0,
            wal_frames: row.try_get(1)?,
            copied_frames: row.try_get(2)?,
        }))
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The shared pool, for tests that need SQL the store does not offer (a fault
    /// trigger, a tampered row).
    #[cfg(feature = "test-support")]
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction. On SQLite it begins IMMEDIATE: a deferred transaction
    /// that later writes fails with "database is locked" whatever the busy timeout.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Reads back the durability settings in force, for `ujian serve` to log and tests to check.
    pub async fn durability(&self) -> Result<String> {
        match self.backend {
            Backend::Sqlite => {
                let mode: String = sqlx::query_scalar("PRAGMA journal_mode").fetch_one(&self.pool).await?;
                let sync: i64 = sqlx::query_scalar("PRAGMA synchronous").fetch_one(&self.pool).await?;
                Ok(format!(
                    "sqlite journal_mode={mode} synchronous={}",
                    if sync == 2 { "FULL".into() } else { sync.to_string() }
                ))
            }
            Backend::Postgres => {
                let sync: String = sqlx::query_scalar("SHOW synchronous_commit").fetch_one(&self.pool).await?;
                Ok(format!("postgres synchronous_commit={sync}"))
            }
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl std::fmt::Debug for Store {
    // Not the URL: a PostgreSQL URL can hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish_non_exhaustive()
    }
}

/// What a WAL checkpoint found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalCheckpoint {
    /// Another connection held a lock the checkpoint needed; it copied nothing.
    pub busy: bool,
    /// Frames in the WAL.
    pub wal_frames: i64,
    /// Frames of the WAL now in the database file (all of them: the WAL starts over at
    /// the next write).
    pub copied_frames: i64,
}

/// SQLite page cache of the writer's connection. The answer log's index takes a page write
/// per session in every commit; SQLite's default cache (2 MiB) makes each of those a read
/// from the OS too, and spills mid-transaction. Used only as the database grows.
pub(crate) const WRITER_CACHE_KIB: i64 = 64 * 1024;
/// SQLite page cache of the shared pool's connections: SQLite's default. In WAL mode a
/// connection drops its whole cache when another connection has committed since its last
/// read, which under load is every time, and the drop walks the cache's hash table, which
/// never shrinks: a large cache here makes every read slower and saves nothing.
pub(crate) const READER_CACHE_KIB: i64 = 2_000;

/// ujian's settings on every SQLite connection, the pool's and the group commit's own
/// (`group_commit`), with `cache_kib` of page cache.
pub(crate) fn sqlite_settings(cache_kib: i64) -> [String; 7] {
    [
        // Set explicitly: sqlx does not enable WAL by itself, and durability is not a
        // default we leave to a library.
        "PRAGMA journal_mode = WAL".into(),
        "PRAGMA synchronous = FULL".into(),
        "PRAGMA foreign_keys = ON".into(),
        "PRAGMA busy_timeout = 10000".into(),
        format!("PRAGMA cache_size = -{cache_kib}"),
        // Checkpoint the WAL every ~40 MiB instead of 4: a hot page written by many
        // commits is copied back once per checkpoint.
        "PRAGMA wal_autocheckpoint = 10000".into(),
        // A multi-row INSERT keeps a statement journal (to undo itself alone if a row fails
        // a constraint); in a temporary file that is a write system call per page it
        // touches. In memory it costs nothing durable: the statement journal never
        // outlives its transaction.
        "PRAGMA temp_store = MEMORY".into(),
    ]
}

/// A pool with ujian's settings on every connection (`cache_kib`: SQLite's page cache).
pub(crate) async fn connect(url: &str, backend: Backend, connections: u32, cache_kib: i64) -> Result<AnyPool> {
    let options = AnyConnectOptions::from_str(url)?;
    Ok(AnyPoolOptions::new()
        .max_connections(connections)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    for pragma in sqlite_settings(cache_kib) {
                        conn.execute(AssertSqlSafe(pragma)).await?;
                    }
                } else {
                    conn.execute("SET synchronous_commit = on").await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await?)
}

pub(crate) fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// A connection with the settings the pool's get (`sqlite_settings`, with why each),
/// refusing a file it cannot write or one not in WAL with `synchronous=FULL`.
pub(crate) fn open_sqlite(path: &Path, cache_kib: i64) -> Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    // READ_WRITE opens a write-protected file read-only instead of failing: every commit
    // would then fail, so refuse at the start.
    if conn.is_readonly(rusqlite::MAIN_DB)? {
        return Err(StoreError::Durability(format!("{} can only be read", path.display())));
    }
    for pragma in sqlite_settings(cache_kib) {
        conn.execute_batch(&pragma)?;
    }
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Durability(format!("journal_mode is {mode}, not wal")));
    }
    let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
    if sync != 2 {
        return Err(StoreError::Durability(format!("synchronous is {sync}, not FULL (2)")));
    }
    conn.set_prepared_statement_cache_capacity(8);
    Ok(conn)
}

/// How often SQLite's WAL is copied back into the database file, off the writer's thread.
/// Each copy ends with an fsync of the database file, and a commit's fsync of the WAL
/// waits behind it on the disk: the fewer copies, the fewer acks held up (the figures are
/// in docs/benchmarks.md). At exam-day rates a second's WAL stays far below
/// `wal_autocheckpoint`.
pub(crate) const WAL_CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Copies SQLite's WAL into the database file every second (`WAL_CHECKPOINT_EVERY`), on a
/// connection of its own, until `shutdown` turns true ([`Store::checkpoint`]): the
/// writer's commits then seldom find the WAL at its `wal_autocheckpoint` size, and when
/// they do, little is left to copy. Returns at once on PostgreSQL.
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
            () = stopped(&mut shutdown) => break,
        }
    }
    own.close().await;
}

/// Resolves once `shutdown` turns true, or its sender is gone. Nothing of the watch is
/// kept across the wait, so a task waiting on it can move between threads.
pub(crate) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}
