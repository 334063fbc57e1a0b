//! Opening a database: the SQLite file and its directory made private, the pool, the
//! migrations and the audit log's append-only triggers.

use std::path::Path;

use crate::connection::{Backend, READER_CACHE_KIB, Store, connect, sqlite_path};
use crate::error::{Result, StoreError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// The default SQLite file inside a data directory.
pub fn sqlite_url_in(data_dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", data_dir.join("ujian.db").display())
}

impl Store {
    /// Opens (creating if needed) the database at `url` and applies pending migrations.
    ///
    /// SQLite runs in WAL mode with `synchronous=FULL`, so a committed transaction survives
    /// power loss: the answer path acknowledges only after commit (docs/design-rules.md:
    /// nothing acknowledged is lost).
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
