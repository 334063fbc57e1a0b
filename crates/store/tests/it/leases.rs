//! Sitting leases and the fences group commits carry (docs/cluster.md), on PostgreSQL:
//! leases are PostgreSQL's, so these run only when `UJIAN_TEST_PG` is set, except the
//! check that SQLite refuses them.

use std::time::Duration;

use item_bank::Exam;
use store::group_commit::{BatchWriter, WriteError, Writer};
use store::{Batch, Lease, LeaseKeeper, LogEntry, NewCandidate, NewSession, NewSitting, PaperRow, Store, StoreError};
use tokio::sync::watch;

use crate::{audit_row, fresh_pg_database, now, repo};

const TTL: Duration = Duration::from_secs(30);

/// A fresh PostgreSQL store with sittings S and T, session `S.P-1` in S and `T.P-2` in T;
/// `None` when `UJIAN_TEST_PG` is not set.
async fn two_sittings() -> Option<Store> {
    let store = Store::open(&fresh_pg_database().await?).await.expect("open postgres");
    let (exam, bank, _) = Exam::load(&repo("crates/item-bank/tests/fixtures/tiny-exam.toml")).expect("tiny");
    store.put_exam(&exam, &bank, now()).await.expect("exam");
    let candidates: Vec<NewCandidate> = (1..=2)
        .map(|i| NewCandidate {
            participant_no: format!("P-{i}"),
            name: format!("Peserta {i}"),
            birth_date: None,
            pin_hash: "h".into(),
            accommodation: None,
        })
        .collect();
    store.put_candidates(&candidates, now()).await.expect("candidates");
    for (sitting, participant) in [("S", "P-1"), ("T", "P-2")] {
        let paper = ["K-1", "K-2", "K-3"]
            .iter()
            .map(|id| PaperRow { section: "K".into(), item_id: (*id).into(), option_order: "ABC".into() })
            .collect();
        let new = NewSitting {
            id: sitting.into(),
            exam_code: exam.code().into(),
            venue: "V".into(),
            starts_at: "t".into(),
            secret_hex: "00".into(),
            token: "ABCDEF".into(),
            created_at: "t".into(),
            sessions: vec![NewSession {
                id: format!("{sitting}.{participant}"),
                participant_no: participant.into(),
                duration_ms: 600_000,
                paper,
            }],
        };
        assert!(store.create_sitting(&new).await.expect("sitting"));
    }
    Some(store)
}

/// An answer to position 0 of `session`, as line `seq` of its log.
fn answer(session: &str, seq: i64) -> Batch {
    Batch {
        log: vec![LogEntry {
            session_id: session.into(),
            seq,
            position: Some(0),
            action: "answer".into(),
            choice: Some("A".into()),
            flagged: None,
            client_ts: None,
            server_ts: "2026-11-23T08:00:01.000Z".into(),
            used_ms: Some(1_000),
        }],
        ..Batch::default()
    }
}

async fn take(store: &Store, sitting: &str, node: &str) -> Option<Lease> {
    store.take_lease(sitting, node, TTL).await.expect("take lease")
}

/// Backends of this database waiting for a lock, as PostgreSQL itself reports them.
async fn waiting_on_locks(store: &Store) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .fetch_one(store.pool())
    .await
    .expect("pg_stat_activity")
}

/// Returns once `n` backends wait for a lock: the barrier that orders two connections
/// (a condition PostgreSQL reports, polled; the deadline only ends a broken run).
async fn until_waiting(store: &Store, n: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while waiting_on_locks(store).await < n {
        assert!(tokio::time::Instant::now() < deadline, "{n} backend(s) never waited for a lock");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn a_sitting_has_one_owner_and_a_new_owner_gets_the_next_epoch() {
    let Some(store) = two_sittings().await else { return };
    let a = take(&store, "S", "node-a").await.expect("a free sitting is taken");
    assert_eq!((a.sitting(), a.node(), a.epoch()), ("S", "node-a", 1));
    assert_eq!(take(&store, "S", "node-b").await, None, "a live lease of another node is refused");
    assert_eq!(take(&store, "S", "node-a").await, Some(a.clone()), "renewing keeps the epoch");

    store.expire_lease("S").await.expect("expire");
    let b = take(&store, "S", "node-b").await.expect("an expired lease is taken over");
    assert_eq!((b.node(), b.epoch()), ("node-b", 2));
    assert_eq!(take(&store, "S", "node-a").await, None, "the old owner cannot take it back while B holds it");

    let listed = store.leases().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!((&listed[0].lease, listed[0].expired), (&b, false));
    assert!(listed[0].expires_at.ends_with('Z'), "{}", listed[0].expires_at);

    assert!(!store.release_lease(&a).await.expect("release"), "a lease no longer held is not released");
    assert!(store.release_lease(&b).await.expect("release"));
    assert!(store.leases().await.expect("list")[0].expired);
    let again = take(&store, "S", "node-a").await.expect("a released sitting is free");
    assert_eq!(again.epoch(), 3, "the epoch never goes back, even after a release");
}

#[tokio::test]
async fn sqlite_refuses_leases() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&store::sqlite_url_in(dir.path())).await.expect("open sqlite");
    let refused = store.take_lease("S", "node-a", TTL).await;
    assert!(matches!(refused, Err(StoreError::LeasesNeedPostgres)), "{refused:?}");
    assert!(matches!(store.leases().await, Err(StoreError::LeasesNeedPostgres)));
}

#[tokio::test]
async fn a_sqlite_writer_refuses_a_fenced_batch_rather_than_store_it_unchecked() {
    let Some(pg) = two_sittings().await else { return };
    let lease = take(&pg, "S", "node-a").await.expect("take");
    for db in crate::stores_each_writer().await.into_iter().filter(|db| db.store.backend() == store::Backend::Sqlite) {
        let refused = db.commit(&Batch { audit: vec![audit_row(1)], ..Batch::default() }.fenced(lease.clone())).await;
        assert!(matches!(refused, Err(StoreError::LeasesNeedPostgres)), "{}: {refused:?}", db.label);
        assert!(db.store.audit_log().await.expect("audit").is_empty(), "{}", db.label);
    }
}

#[tokio::test]
async fn a_stale_owners_commit_is_refused_and_stores_nothing() {
    let Some(store) = two_sittings().await else { return };
    let stale = take(&store, "S", "node-a").await.expect("take");
    store.expire_lease("S").await.expect("expire");
    take(&store, "S", "node-b").await.expect("B takes over");

    let mut batch = answer("S.P-1", 1);
    batch.audit.push(audit_row(1));
    let mut writer = BatchWriter::Pooled(store.pooled_writer().await.expect("writer"));
    let refused = writer.write_batch(&batch.fenced(stale)).await;
    assert!(matches!(&refused, Err(StoreError::Fenced(s)) if s == &["S"]), "{refused:?}");
    assert!(store.answer_log("S.P-1").await.expect("log").is_empty());
    assert!(store.audit_log().await.expect("audit").is_empty(), "no row of a refused commit lands");
    writer.close().await;
}

#[tokio::test]
async fn a_fenced_sittings_writes_are_dropped_from_a_group_commit_and_the_rest_lands() {
    let Some(store) = two_sittings().await else { return };
    let stale = take(&store, "S", "node-a").await.expect("take S");
    let t = take(&store, "T", "node-a").await.expect("take T");
    store.expire_lease("S").await.expect("expire");
    take(&store, "S", "node-b").await.expect("B takes S over");
    let session_before = format!("{:?}", store.load_every_session_of("S").await.expect("sessions"));

    let (_stop, shutdown) = watch::channel(false);
    let (writer, _task) = Writer::spawn(store.clone(), shutdown).await.expect("writer");
    // Hold the writer in a first commit (it waits for the audit log's lock) so that the
    // next two requests are queued together and taken as one group commit.
    let mut hold = store.pool().begin().await.expect("begin");
    sqlx::query("LOCK TABLE audit_log IN EXCLUSIVE MODE").execute(&mut *hold).await.expect("lock");
    let first = writer.enqueue(Batch { audit: vec![audit_row(1)], ..Batch::default() }).await.expect("enqueue");
    until_waiting(&store, 1).await;
    let mut from_stale = answer("S.P-1", 1);
    from_stale.sessions.push(store::SessionWrite {
        session_id: "S.P-1".into(),
        status: Some("active".into()),
        used_ms: 5_000,
        extension_ms: 0,
        last_seen_at: "t".into(),
        started_at: Some("t".into()),
        finished_at: None,
        finish_reason: None,
        result: None,
        receipt_code: None,
    });
    let refused = writer.enqueue(from_stale.fenced(stale)).await.expect("enqueue");
    let landed = writer.enqueue(answer("T.P-2", 1).fenced(t)).await.expect("enqueue");
    hold.rollback().await.expect("release the lock");

    first.committed().await.expect("the first commit");
    assert_eq!(refused.committed().await, Err(WriteError::Fenced { sitting: "S".into() }));
    landed.committed().await.expect("the other sitting's write lands");
    assert!(store.answer_log("S.P-1").await.expect("log").is_empty());
    assert_eq!(format!("{:?}", store.load_every_session_of("S").await.expect("sessions")), session_before);
    assert_eq!(store.answer_log("T.P-2").await.expect("log").len(), 1);
}

#[tokio::test]
async fn a_takeover_waits_for_a_commit_holding_the_fence() {
    let Some(store) = two_sittings().await else { return };
    let a = take(&store, "S", "node-a").await.expect("take");
    // A stopped renewing: B may take S over, but not in the middle of A's commit.
    store.expire_lease("S").await.expect("expire");

    let mut hold = store.pool().begin().await.expect("begin");
    sqlx::query("LOCK TABLE audit_log IN EXCLUSIVE MODE").execute(&mut *hold).await.expect("lock");
    let mut batch = answer("S.P-1", 1);
    batch.audit.push(audit_row(1));
    let mut writer = BatchWriter::Pooled(store.pooled_writer().await.expect("writer"));
    let commit = tokio::spawn({
        let batch = batch.fenced(a.clone());
        async move {
            let result = writer.write_batch(&batch).await.map(|_| ());
            (writer, result)
        }
    });
    // A's commit has checked its fence and holds it, waiting for the audit log.
    until_waiting(&store, 1).await;
    let takeover = tokio::spawn({
        let store = store.clone();
        async move { store.take_lease("S", "node-b", TTL).await }
    });
    until_waiting(&store, 2).await;
    assert!(!takeover.is_finished(), "the takeover waits for the commit holding the fence");
    hold.rollback().await.expect("release the lock");

    let (mut writer, committed) = commit.await.expect("commit task");
    committed.expect("A's commit, wholly before the takeover, lands");
    let b = takeover.await.expect("takeover task").expect("take").expect("B takes S after A's commit");
    assert_eq!(b.epoch(), a.epoch() + 1);
    assert_eq!(store.answer_log("S.P-1").await.expect("log").len(), 1);

    let late = writer.write_batch(&answer("S.P-1", 2).fenced(a)).await;
    assert!(matches!(&late, Err(StoreError::Fenced(s)) if s == &["S"]), "{late:?}");
    assert_eq!(store.answer_log("S.P-1").await.expect("log").len(), 1);
    writer.close().await;
}

#[tokio::test]
async fn a_keeper_gives_out_a_fence_only_while_it_surely_holds_the_lease() {
    let Some(store) = two_sittings().await else { return };
    let keeper = LeaseKeeper::open(&store, "node-a", TTL).await.expect("keeper");
    let lease = keeper.take("S").await.expect("take").expect("a free sitting");
    assert_eq!(keeper.fence("S", tokio::time::Instant::now()), Some(lease.clone()));
    assert_eq!(keeper.fence("T", tokio::time::Instant::now()), None, "a sitting never taken has no fence");
    // No renewal for a whole TTL: the node must assume the lease is gone, before the
    // database's expiry (counted from later).
    let later = tokio::time::Instant::now();
    assert_eq!(keeper.fence("S", later + TTL), None);

    assert_eq!(keeper.renew().await.expect("renew"), Vec::<String>::new());
    store.expire_lease("S").await.expect("expire");
    take(&store, "S", "node-b").await.expect("B takes S over");
    assert_eq!(keeper.renew().await.expect("renew"), ["S"]);
    assert_eq!(keeper.fence("S", tokio::time::Instant::now()), None, "a lease another node took is no fence");
    keeper.close().await;
}

#[tokio::test]
async fn a_keeper_releasing_its_leases_lets_another_node_take_them_at_once() {
    let Some(store) = two_sittings().await else { return };
    let keeper = LeaseKeeper::open(&store, "node-a", TTL).await.expect("keeper");
    keeper.take("T").await.expect("take").expect("a free sitting");
    assert_eq!(take(&store, "T", "node-b").await, None);
    keeper.release_all().await.expect("release");
    assert_eq!(keeper.fence("T", tokio::time::Instant::now()), None);
    assert_eq!(take(&store, "T", "node-b").await.map(|l| l.epoch()), Some(2));
    keeper.close().await;
}

#[tokio::test]
async fn a_running_keeper_notices_a_takeover_at_its_first_renewal() {
    let Some(store) = two_sittings().await else { return };
    let keeper = std::sync::Arc::new(LeaseKeeper::open(&store, "node-a", TTL).await.expect("keeper"));
    keeper.take("S").await.expect("take").expect("a free sitting");
    store.expire_lease("S").await.expect("expire");
    take(&store, "S", "node-b").await.expect("B takes S over");
    let (stop, shutdown) = watch::channel(false);
    let running = tokio::spawn({
        let keeper = keeper.clone();
        async move { keeper.run(shutdown).await }
    });
    // The first renewal runs at once. The deadline is well inside the TTL, so the fence
    // can only have gone through that renewal, not by running out.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while keeper.fence("S", tokio::time::Instant::now()).is_some() {
        assert!(tokio::time::Instant::now() < deadline, "the keeper never renewed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // B's lease stands: the keeper's renewal did not take it back.
    assert_eq!(store.leases().await.expect("list")[0].lease.node(), "node-b");
    stop.send(true).expect("stop");
    running.await.expect("the keeper stops");
    keeper.close().await;
}
