use item_bank::{Bank, BankHash, Exam};

use crate::{audit_row, now, repo, stores};

#[tokio::test]
async fn a_bank_round_trips_with_the_same_hash_items_and_assets() {
    let bank = Bank::load(&repo("crates/item-bank/tests/fixtures/tiny")).expect("tiny bank");
    for db in stores().await {
        assert!(db.store.put_bank(&bank, now()).await.expect("put"), "{}: first put is new", db.label);
        assert!(
            !db.store.put_bank(&bank, now()).await.expect("put again"),
            "{}: same hash is not stored twice",
            db.label
        );
        let back = db.store.get_bank(bank.hash()).await.expect("get").expect("stored");
        assert_eq!(back.hash(), bank.hash(), "{}", db.label);
        assert_eq!(back.items().len(), bank.items().len(), "{}", db.label);
        for (a, b) in back.items().iter().zip(bank.items()) {
            assert_eq!(
                (a.id(), a.stem(), a.key(), a.options()),
                (b.id(), b.stem(), b.key(), b.options()),
                "{}",
                db.label
            );
        }
        assert_eq!(back.asset("dot.svg"), bank.asset("dot.svg"), "{}", db.label);
        let listed = db.store.list_banks().await.expect("list");
        assert_eq!(listed.len(), 1, "{}", db.label);
        assert_eq!(listed[0].item_count, 5, "{}", db.label);
    }
}

#[tokio::test]
async fn the_skd_bank_and_exam_round_trip() {
    let (exam, bank, _) = Exam::load(&repo("question-banks/exams/skd.toml")).unwrap_or_else(|e| panic!("{e}"));
    for db in stores().await {
        db.store.put_exam(&exam, &bank, now()).await.expect("put exam");
        let stored = db.store.get_exam(exam.code()).await.expect("get").expect("stored");
        assert_eq!(stored.bank.hash(), bank.hash(), "{}", db.label);
        assert_eq!(stored.bank.items().len(), bank.items().len(), "{}", db.label);
        assert_eq!(stored.exam.sections(), exam.sections(), "{}", db.label);
        assert!(stored.exam.check(&stored.bank).is_ok(), "{}", db.label);
    }
}

#[tokio::test]
async fn an_unknown_bank_or_exam_is_none() {
    for db in stores().await {
        let missing = BankHash::from_hex(&"0".repeat(64)).expect("hex");
        assert!(db.store.get_bank(&missing).await.expect("get").is_none(), "{}", db.label);
        assert!(db.store.get_exam("NOPE").await.expect("get").is_none(), "{}", db.label);
    }
}

#[tokio::test]
async fn a_tampered_stored_bank_is_refused() {
    let bank = Bank::load(&repo("crates/item-bank/tests/fixtures/tiny")).expect("tiny bank");
    for db in stores().await {
        db.store.put_bank(&bank, now()).await.expect("put");
        sqlx::query("UPDATE bank_files SET body = REPLACE(body, 'How many dots?', 'How many squares?') WHERE name = 'items.toml'")
            .execute(db.store.pool())
            .await
            .expect("tamper");
        let err = db.store.get_bank(bank.hash()).await.expect_err("tampered bank must not load");
        assert!(err.to_string().contains("does not hash to its key"), "{}: {err}", db.label);
    }
}

#[tokio::test]
async fn sqlite_runs_in_wal_with_full_sync() {
    let dbs = stores().await;
    let d = dbs[0].store.durability().await.expect("pragmas");
    assert_eq!(d, "sqlite journal_mode=wal synchronous=FULL");
    // Statement journals in memory (2), not in a temporary file beside the database.
    let temp: i64 = sqlx::query_scalar("PRAGMA temp_store").fetch_one(dbs[0].store.pool()).await.expect("temp_store");
    assert_eq!(temp, 2);
    if let Some(pg) = dbs.get(1) {
        assert_eq!(pg.store.durability().await.expect("show"), "postgres synchronous_commit=on");
    }
}

#[tokio::test]
async fn the_writer_gets_the_large_cache_and_the_wal_is_copied_back_on_a_connection_of_its_own() {
    let dbs = stores().await;
    let shared = &dbs[0].store;
    let store::group_commit::BatchWriter::Direct(mut writer) = shared.batch_writer().await.expect("writer") else {
        panic!("SQLite's writer runs SQLite on its own thread");
    };
    // Durable as the pool's connections, with the large page cache (negative: KiB); readers
    // keep SQLite's default (see lib.rs).
    let expected = store::group_commit::WriterSettings {
        journal_mode: "wal".into(),
        synchronous: 2,
        foreign_keys: true,
        busy_timeout_ms: 10_000,
        cache_size: -64 * 1024,
        wal_autocheckpoint: 10_000,
        temp_store: 2,
    };
    assert_eq!(writer.settings().expect("settings"), expected);
    let readers: i64 = sqlx::query_scalar("PRAGMA cache_size").fetch_one(shared.pool()).await.expect("cache_size");
    assert_eq!(readers, -2_000);

    for seq in 1..=50 {
        writer.write_batch(&store::Batch { audit: vec![audit_row(seq)], ..store::Batch::default() }).expect("commit");
    }
    let checkpointer = shared.checkpointer().await.expect("checkpointer");
    let c = checkpointer.checkpoint().await.expect("checkpoint").expect("sqlite checkpoints");
    assert!(!c.busy, "{c:?}");
    assert!(c.wal_frames >= 50, "every commit added a frame: {c:?}");
    assert_eq!(c.copied_frames, c.wal_frames, "nothing held the WAL: all of it is in the database file");
    // Nothing new: nothing left to copy.
    let again = checkpointer.checkpoint().await.expect("checkpoint").expect("sqlite");
    assert_eq!(again.copied_frames, again.wal_frames);
    if let Some(pg) = dbs.get(1) {
        assert_eq!(pg.store.checkpoint().await.expect("pg"), None);
    }
}
