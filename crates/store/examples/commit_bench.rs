//! The group commit alone: batches of answer-log rows for many sessions, as the writer
//! stores them under a closed loop, timed per row. Prints figures; asserts nothing.
//!
//! `cargo run --release -p store --example commit_bench -- [URL] [sessions] [rows per batch] [batches]`
//! (URL defaults, or `-`, to a fresh SQLite file in a temporary directory).

use std::time::Instant;

use store::{Batch, LogEntry, Store};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = tempfile::tempdir()?;
    let url = args.first().filter(|u| *u != "-").cloned().unwrap_or_else(|| store::sqlite_url_in(dir.path()));
    let sessions: usize = args.get(1).map_or(Ok(1_000), |s| s.parse())?;
    let per_batch: usize = args.get(2).map_or(Ok(500), |s| s.parse())?;
    let batches: usize = args.get(3).map_or(Ok(400), |s| s.parse())?;

    let store = Store::open(&url).await?;
    seed(&store, sessions).await?;
    let mut writer = store.batch_writer().await?;
    let mut seqs = vec![0i64; sessions];
    let mut next = 0usize;
    let started = Instant::now();
    let mut cpu = std::time::Duration::ZERO;
    for _ in 0..batches {
        let mut batch = Batch::default();
        for _ in 0..per_batch {
            let s = next % sessions;
            next += 1;
            seqs[s] += 1;
            batch.log.push(LogEntry {
                session_id: format!("BENCH.{s:05}"),
                seq: seqs[s],
                position: Some(seqs[s] - 1),
                action: "answer".into(),
                choice: Some("C".into()),
                flagged: None,
                client_ts: Some("1795454357368".into()),
                server_ts: "2026-11-23T17:19:17.370Z".into(),
                used_ms: Some(seqs[s] * 1_000),
            });
        }
        let t = Instant::now();
        writer.write_batch(&batch).await?;
        cpu += t.elapsed();
    }
    let rows = batches * per_batch;
    println!(
        "{} rows in {batches} commits of {per_batch} over {sessions} sessions ({:?}): {:.2} µs a row, {:.0} rows/s, {:.2} ms a commit; wall {:.2} s",
        rows,
        store.backend(),
        cpu.as_secs_f64() * 1e6 / rows as f64,
        rows as f64 / cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1e3 / batches as f64,
        started.elapsed().as_secs_f64(),
    );
    Ok(())
}

/// The parent rows the answer log points at, written directly (a bank, an exam, a sitting,
/// candidates and sessions); their contents do not matter to the commit being timed.
async fn seed(store: &Store, sessions: usize) -> Result<(), sqlx::Error> {
    let pool = store.pool();
    let now = "2026-11-23T00:00:00.000Z";
    sqlx::query("DELETE FROM answer_log WHERE session_id LIKE 'BENCH.%'").execute(pool).await?;
    for sql in [
        format!("INSERT INTO banks VALUES ('bench', 'bench', '1', 'bench', 'id', 0, '{now}') ON CONFLICT DO NOTHING"),
        format!("INSERT INTO exams VALUES ('BENCH', 'bench', 'bench', '', '{now}') ON CONFLICT DO NOTHING"),
        format!(
            "INSERT INTO sittings VALUES ('BENCH', 'BENCH', 'bench', '{now}', '00', '000000', 'open', '{now}') ON CONFLICT DO NOTHING"
        ),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
    }
    for s in 0..sessions {
        let no = format!("BENCH-{s:05}");
        sqlx::query("INSERT INTO candidates (participant_no, name, pin_hash, created_at) VALUES ($1, $1, '-', $2) ON CONFLICT DO NOTHING")
            .bind(&no)
            .bind(now)
            .execute(pool)
            .await?;
        sqlx::query("INSERT INTO sessions (id, sitting_id, participant_no, status, duration_ms) VALUES ($1, 'BENCH', $2, 'active', 6000000) ON CONFLICT DO NOTHING")
            .bind(format!("BENCH.{s:05}"))
            .bind(&no)
            .execute(pool)
            .await?;
    }
    Ok(())
}
