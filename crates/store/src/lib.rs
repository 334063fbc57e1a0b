//! Persistence for ujian on SQLite (embedded, the default) and PostgreSQL (by URL), through
//! one sqlx code path (the `Any` driver) and one set of migrations, except where SQLite's
//! hand-offs through sqlx cost too much: the group commit (`direct`) and the bulk loads
//! (`load`) run SQLite themselves there, on a thread of their own (rusqlite, the same
//! SQLite library as sqlx's).
//!
//! # Layout
//!
//! - [`Store`]: opening a database, applying migrations, the durability settings.
//! - `rows`: every row type the store reads or writes ([`SessionRecord`], [`LogEntry`],
//!   [`AuditRow`], …), plain values with no database code.
//! - `banks`: banks stored by content hash, loaded back through item-bank's own parser.
//! - `exams`: exam blueprints tied to the bank they were checked against.
//! - `people`: candidates and supervisors (credentials as argon2id hashes, made by the caller).
//! - `sessions`: sittings, sessions, papers, login tokens and the append-only answer log,
//!   written by the group commit ([`BatchWriter`]: `batch`, and on SQLite `direct`) and
//!   read back by `load`.
//! - `staff`: staff tokens and scopes, seats, check-in, and reading the audit log.
//! - `append_only`: the triggers that refuse UPDATE and DELETE on the audit log, and
//!   [`Store::append_audit`] for entries from the command line.
//! - `tokens`: candidate login tokens: what a presented one stands for, and ending them
//!   (marked with a reason, never deleted).
//!
//! Every query is written once, with `$1` placeholders that both backends accept, except
//! multi-row statements, which use `?` on SQLite (see `batch`), and the SQLite group
//! commit's own statements (`direct`); `load`'s queries run on both drivers as written.

mod append_only;
mod banks;
mod batch;
mod direct;
mod exams;
mod load;
mod people;
mod rows;
mod sessions;
mod staff;
mod tokens;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, AssertSqlSafe, Executor};

pub use batch::Batch;
pub use direct::{DirectWriter, WriterSettings};
pub use exams::StoredExam;
pub use rows::{
    AnswerLine, AuditRow, BoardRow, LogEntry, LoginCandidate, NewCandidate, NewLoginToken, NewSession, NewSitting,
    NewSupervisor, PaperRow, Revoked, SeatRow, SessionRecord, SessionWrite, SittingListRow, SittingRow, StaffRow,
    StoredBank, TokenRevocation, TokenRow, ts,
};
/// The digest a [`SessionRecord`] carries on; the answer log's rules live in session-engine.
pub use session_engine::LogDigest;

/// Errors from the store. Expected refusals are variants; database failures carry sqlx's error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database settings: {0}")]
    Durability(String),
    #[error("a database read on a blocking thread stopped: {0}")]
    Blocking(String),
    #[error("migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create data directory {path}: {source}")]
    DataDir { path: PathBuf, source: std::io::Error },
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("stored bank {hash} no longer validates: {message}")]
    CorruptBank { hash: String, message: String },
    #[error("stored bank {stored} does not hash to its key {expected}")]
    BankHashMismatch { expected: String, stored: String },
    #[error("exam {exam} names bank {bank}, which is not stored")]
    MissingBank { exam: String, bank: String },
    #[error("stored exam {code} no longer parses: {message}")]
    CorruptExam { code: String, message: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

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
    pool: AnyPool,
    backend: Backend,
    url: String,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// The default SQLite file inside a data directory.
pub fn sqlite_url_in(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("ujian.db").display())
}

impl Store {
    /// Opens (creating if needed) the database at `url` and applies pending migrations.
    ///
    /// SQLite runs in WAL mode with `synchronous=FULL`, so a committed transaction survives
    /// power loss: the answer path acknowledges only after commit (DESIGN rule 1).
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        if backend == Backend::Sqlite
            && let Some(dir) = sqlite_path(url).and_then(|p| p.parent().map(Path::to_owned))
            && !dir.as_os_str().is_empty()
        {
            create_private_dir(&dir).map_err(|source| StoreError::DataDir { path: dir.clone(), source })?;
        }
        // Only where the URL asks for the file to be created (as `sqlite_url_in` does).
        if backend == Backend::Sqlite
            && url.contains("mode=rwc")
            && let Some(file) = sqlite_path(url)
        {
            create_private_file(&file).map_err(|source| StoreError::DataDir { path: file.clone(), source })?;
        }
        let pool = connect(url, backend, if backend == Backend::Sqlite { 4 } else { 16 }, READER_CACHE_KIB).await?;
        MIGRATOR.run(&pool).await?;
        let store = Store { pool, backend, url: url.to_owned() };
        store.install_append_only().await?;
        Ok(store)
    }

    /// A connection of its own for the group-commit writer, which runs on its own thread so
    /// that its commits never queue behind the request handlers. On SQLite it is a
    /// [`DirectWriter`] with the large page cache ([`WRITER_CACHE_KIB`]), used
    /// synchronously on that thread (open it there); on PostgreSQL a pool of one
    /// connection, made on the calling runtime.
    pub async fn batch_writer(&self) -> Result<BatchWriter> {
        Ok(match self.backend {
            Backend::Sqlite => BatchWriter::Direct(DirectWriter::open(&self.sqlite_file()?, WRITER_CACHE_KIB)?),
            Backend::Postgres => BatchWriter::Pooled(self.pooled_writer().await?),
        })
    }

    /// The writer PostgreSQL gets, on either backend: the store's tests run the pooled
    /// commit on SQLite too, beside the direct one, so both are checked on every run.
    #[doc(hidden)]
    pub async fn pooled_writer(&self) -> Result<Store> {
        let pool = connect(&self.url, self.backend, 1, WRITER_CACHE_KIB).await?;
        Ok(Store { pool, backend: self.backend, url: self.url.clone() })
    }

    /// The file the pool's connections open, read from the URL as sqlx reads it (percent
    /// escapes decoded). An in-memory database has none: its writer could not share it.
    fn sqlite_file(&self) -> Result<PathBuf> {
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

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction. On SQLite it begins IMMEDIATE: a deferred transaction
    /// that later writes fails with "database is locked" whatever the busy timeout.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
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

/// The group commit's own connection ([`Store::batch_writer`]).
pub enum BatchWriter {
    /// SQLite: statements run on the calling thread, a commit blocks it until its fsync
    /// (`write_batch` never yields).
    Direct(DirectWriter),
    /// PostgreSQL: a pool of one connection.
    Pooled(Store),
}

impl BatchWriter {
    /// The group commit: all of `batch` in one durable transaction, or none of it (see
    /// [`Store::commit_pooled`] for the rules a session update keeps).
    pub async fn write_batch(&mut self, batch: &Batch) -> Result<()> {
        match self {
            BatchWriter::Direct(w) => w.write_batch(batch),
            BatchWriter::Pooled(store) => store.commit_pooled(batch).await,
        }
    }

    pub async fn close(self) {
        if let BatchWriter::Pooled(store) = self {
            store.close().await;
        }
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
const WRITER_CACHE_KIB: i64 = 64 * 1024;
/// SQLite page cache of the shared pool's connections: SQLite's default. In WAL mode a
/// connection drops its whole cache when another connection has committed since its last
/// read, which under load is every time, and the drop walks the cache's hash table, which
/// never shrinks: a large cache here made every read slower and saved none.
pub(crate) const READER_CACHE_KIB: i64 = 2_000;

/// ujian's settings on every SQLite connection, the pool's and the group commit's own
/// (`direct`), with `cache_kib` of page cache.
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
async fn connect(url: &str, backend: Backend, connections: u32, cache_kib: i64) -> Result<AnyPool> {
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

/// Creates a directory (and its parents) readable by its owner only: it holds the banks
/// with their keys, the sittings' tokens and the PIN hashes. An existing one is left as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the SQLite file empty and readable by its owner only, unless it exists. SQLite
/// gives its WAL and shared-memory files the database file's mode, so they are private too.
fn create_private_file(file: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(file) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}
