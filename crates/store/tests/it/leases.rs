//! Sitting leases (docs/cluster.md), on PostgreSQL:
//! leases are PostgreSQL's, so these run only when `UJIAN_TEST_PG` is set, except the
//! check that SQLite refuses them.

use std::time::Duration;

use item_bank::Exam;
use store::{Lease, NewCandidate, NewSession, NewSitting, PaperRow, Store, StoreError};

use crate::{fresh_pg_database, now, repo};

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

async fn take(store: &Store, sitting: &str, node: &str) -> Option<Lease> {
    store.take_lease(sitting, node, TTL).await.expect("take lease")
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
