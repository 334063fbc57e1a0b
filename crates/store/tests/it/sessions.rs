use item_bank::Exam;
use store::{NewCandidate, NewSession, NewSitting, PaperRow, SessionWrite};

use crate::{now, repo, stores};

fn write(status: Option<&str>, used: i64) -> SessionWrite {
    SessionWrite {
        session_id: "S.P-1".into(),
        status: status.map(str::to_owned),
        used_ms: used,
        extension_ms: 0,
        last_seen_at: "t".into(),
        started_at: None,
        finished_at: status.filter(|s| *s == "finished").map(|_| "t".to_owned()),
        finish_reason: None,
        result: None,
    }
}

/// The tiny exam, candidate P-1 and sitting S with session `S.P-1`, on a fresh store.
async fn one_session(db: &crate::TestDb) {
    let (exam, bank, _) = Exam::load(&repo("crates/item-bank/tests/fixtures/tiny-exam.toml")).expect("tiny");
    db.store.put_exam(&exam, &bank, now()).await.expect("exam");
    let c = NewCandidate {
        participant_no: "P-1".into(),
        name: "A".into(),
        birth_date: None,
        pin_hash: "h".into(),
        accommodation: None,
    };
    db.store.put_candidates(&[c], now()).await.expect("candidate");
    let paper = vec![PaperRow { section: "K".into(), item_id: "K-1".into(), option_order: "ABC".into() }];
    let sitting = NewSitting {
        id: "S".into(),
        exam_code: exam.code().into(),
        venue: "V".into(),
        starts_at: "t".into(),
        secret_hex: "00".into(),
        token: "ABCDEF".into(),
        created_at: "t".into(),
        sessions: vec![NewSession { id: "S.P-1".into(), participant_no: "P-1".into(), duration_ms: 600_000, paper }],
    };
    assert!(db.store.create_sitting(&sitting).await.expect("sitting"));
}

#[tokio::test]
async fn a_finished_session_stays_finished_whatever_is_written_after() {
    for db in stores().await {
        one_session(&db).await;
        db.store.write_batch(&[], &[write(Some("active"), 1_000)], &[]).await.expect("start");
        db.store.write_batch(&[], &[write(Some("finished"), 5_000)], &[]).await.expect("finish");
        // A checkpoint read before the finish but committed after it, and a stale status.
        db.store.write_batch(&[], &[write(None, 4_000)], &[]).await.expect("late checkpoint");
        db.store.write_batch(&[], &[write(Some("active"), 4_500)], &[]).await.expect("stale write");
        let rec = db.store.load_session("S.P-1").await.expect("load").expect("session");
        assert_eq!(rec.status, "finished", "{}", db.label);
        assert_eq!(rec.used_ms, 5_000, "{}", db.label);
    }
}

#[tokio::test]
async fn a_checkpoint_never_changes_the_status_and_used_time_only_grows() {
    for db in stores().await {
        one_session(&db).await;
        db.store.write_batch(&[], &[write(Some("paused"), 3_000)], &[]).await.expect("pause");
        db.store.write_batch(&[], &[write(None, 2_000)], &[]).await.expect("stale checkpoint");
        let rec = db.store.load_session("S.P-1").await.expect("load").expect("session");
        assert_eq!((rec.status.as_str(), rec.used_ms), ("paused", 3_000), "{}", db.label);
    }
}
