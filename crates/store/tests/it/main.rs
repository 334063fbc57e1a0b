//! Store tests: each runs on SQLite, and again on PostgreSQL when `UJIAN_TEST_PG` is set.

mod banks;
mod leases;
mod people;
mod sessions;

use std::path::PathBuf;

use store::group_commit::BatchWriter;
use store::{Batch, Store};

/// A store under test, with what keeps it alive (the temp dir) and cleans it up (the PG database).
pub(crate) struct TestDb {
    pub(crate) store: Store,
    pub(crate) label: &'static str,
    /// Group commits go through the pooled writer PostgreSQL uses even on SQLite.
    pooled: bool,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// The writer the server would keep for this store (or the pooled one, see `pooled`).
    pub(crate) async fn writer(&self) -> BatchWriter {
        if self.pooled {
            BatchWriter::Pooled(self.store.pooled_writer().await.expect("pooled writer"))
        } else {
            self.store.batch_writer().await.expect("writer")
        }
    }

    /// One group commit through a writer of its own.
    pub(crate) async fn commit(&self, batch: &Batch) -> store::Result<()> {
        let mut writer = self.writer().await;
        let result = writer.write_batch(batch).await;
        writer.close().await;
        result.map(|_| ())
    }
}

/// A fresh SQLite store, plus a fresh PostgreSQL database when `UJIAN_TEST_PG` is set.
pub(crate) async fn stores() -> Vec<TestDb> {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = store::sqlite_url_in(dir.path());
    let mut out = vec![TestDb {
        store: Store::open(&url).await.expect("open sqlite"),
        label: "sqlite",
        pooled: false,
        _dir: Some(dir),
    }];
    if let Some(url) = fresh_pg_database().await {
        out.push(TestDb {
            store: Store::open(&url).await.expect("open postgres"),
            label: "postgres",
            pooled: false,
            _dir: None,
        });
    }
    out
}

/// As [`stores`], plus a fresh SQLite store whose group commits take PostgreSQL's pooled
/// path: SQLite's writer has its own (`direct`), and both must store the same, on every
/// run whether PostgreSQL is there or not.
pub(crate) async fn stores_each_writer() -> Vec<TestDb> {
    let mut out = stores().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&store::sqlite_url_in(dir.path())).await.expect("open sqlite");
    out.push(TestDb { store, label: "sqlite, pooled commit", pooled: true, _dir: Some(dir) });
    out
}

/// Says once a run that the PostgreSQL half is skipped, straight to stderr: the harness
/// hides what `eprintln!` prints in a test that passes, and a skip must be seen.
fn say_postgres_skipped() {
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "skipped the PostgreSQL runs: set UJIAN_TEST_PG=postgres://USER@HOST/DATABASE to run them (.ci/run does)"
        );
    });
}

/// Creates an empty database on the server named by `UJIAN_TEST_PG` and returns its URL.
pub(crate) async fn fresh_pg_database() -> Option<String> {
    let Some(base) = std::env::var("UJIAN_TEST_PG").ok().filter(|s| !s.is_empty()) else {
        say_postgres_skipped();
        return None;
    };
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base).await.expect("connect UJIAN_TEST_PG");
    let name = format!("ujian_test_{}_{}", std::process::id(), next_id());
    sqlx::Executor::execute(&mut conn, sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create database");
    let (prefix, _) = base.rsplit_once('/').expect("UJIAN_TEST_PG must end with /DATABASE");
    Some(format!("{prefix}/{name}"))
}

fn next_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    N.fetch_add(1, Ordering::Relaxed) * 1_000_000_000 + u64::from(nanos)
}

pub(crate) fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

pub(crate) fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-23T08:00:00Z").expect("ts").to_utc()
}

/// The audit row numbered `seq` of a chain whose entry `n` has subject `S.P-n`: linked to
/// the ones before, as the writer stores rows that follow the stored head unchanged.
pub(crate) fn audit_row(seq: i64) -> store::AuditRow {
    let mut row = store::AuditRow::after(None, "t", "a", "x", "S.P-1", "{}");
    for n in 2..=seq {
        row = store::AuditRow::after(Some((row.seq, row.hash.clone())), "t", "a", "x", &format!("S.P-{n}"), "{}");
    }
    row
}
