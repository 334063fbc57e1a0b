//! The audit log against an insider with database access: signed heads, receipts that
//! name the head, triggers, and the committee's own commands in the chain.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use server::audit::{GENESIS, entry_hash};
use server::signed_head::SignedHead;
use store::{AuditRow, Store};

use crate::helpers::{Db, Setup, TestApp, databases, fresh_pg_database, repo};

/// Runs the `ujian` binary; returns the exit code, stdout and stderr.
fn ujian(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ujian")).args(args).current_dir(repo("")).output().expect("run ujian");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

async fn public_key(app: &TestApp) -> String {
    let keys: Value = reqwest::get(app.http("/api/v1/keys")).await.expect("keys").json().await.expect("json");
    keys["keys"][0]["public_key_hex"].as_str().expect("key").to_owned()
}

async fn published_head(app: &TestApp) -> SignedHead {
    let resp = reqwest::get(app.http("/api/v1/audit/head")).await.expect("head");
    assert_eq!(resp.status(), 200);
    resp.json().await.expect("a signed head")
}

/// A copy of the database at `url` (the server that used it stopped): the file on SQLite,
/// `CREATE DATABASE … TEMPLATE` on PostgreSQL. Returns the copy's URL.
async fn copy_database(db: Db, url: &str, data_dir: &Path, into: &Path) -> String {
    match db {
        Db::Sqlite => {
            for suffix in ["", "-wal", "-shm"] {
                let from = data_dir.join(format!("ujian.db{suffix}"));
                if from.exists() {
                    std::fs::copy(&from, into.join(format!("ujian.db{suffix}"))).expect("copy the database");
                }
            }
            store::sqlite_url_in(into)
        }
        Db::Postgres => {
            let copy = fresh_pg_database().await;
            let (prefix, copy_name) = copy.rsplit_once('/').expect("url");
            let (_, original) = url.rsplit_once('/').expect("url");
            let admin = std::env::var("UJIAN_TEST_PG").expect("UJIAN_TEST_PG");
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await.expect("connect");
            for sql in
                [format!("DROP DATABASE {copy_name}"), format!("CREATE DATABASE {copy_name} TEMPLATE {original}")]
            {
                sqlx::Executor::execute(&mut conn, sqlx::AssertSqlSafe(sql)).await.expect("copy the database");
            }
            format!("{prefix}/{copy_name}")
        }
    }
}

/// What an insider with database access does: drop the triggers, then rebuild the whole
/// chain from genesis with the published total of `session` raised by 100 and the first
/// two entries of other sessions left out, every hash recomputed.
async fn rewrite_chain(db: Db, url: &str, session: &str) {
    let store = Store::open(url).await.expect("open the copy");
    let drops: &[&str] = match db {
        Db::Sqlite => &["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"],
        Db::Postgres => &["DROP TRIGGER audit_log_no_update_delete ON audit_log"],
    };
    for sql in drops {
        sqlx::query(sqlx::AssertSqlSafe(*sql)).execute(store.pool()).await.expect("drop trigger");
    }
    let rows = store.audit_log().await.expect("read the chain");
    let mut dropped = 0;
    let kept: Vec<AuditRow> = rows
        .into_iter()
        .filter(|r| {
            let drop = dropped < 2 && r.subject != session && r.action == "candidate.login";
            dropped += usize::from(drop);
            !drop
        })
        .collect();
    assert_eq!(dropped, 2, "two entries to leave out");
    let mut prev = GENESIS.to_owned();
    let mut raised = false;
    let forged: Vec<AuditRow> = kept
        .into_iter()
        .enumerate()
        .map(|(i, mut r)| {
            if r.action == "session.finished" && r.subject == session {
                let mut detail: Value = serde_json::from_str(&r.detail).expect("json");
                let total = detail["result"]["total"].as_i64().expect("total");
                detail["result"]["total"] = json!(total + 100);
                r.detail = detail.to_string();
                raised = true;
            }
            r.seq = i as i64 + 1;
            r.prev_hash = prev.clone();
            r.hash = entry_hash(&r.prev_hash, r.seq, &r.at, &r.actor, &r.action, &r.subject, &r.detail);
            prev = r.hash.clone();
            r
        })
        .collect();
    assert!(raised, "the finish of {session} is in the chain");
    sqlx::query("DELETE FROM audit_log").execute(store.pool()).await.expect("delete the chain");
    for r in &forged {
        sqlx::query(
            "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(r.seq)
        .bind(&r.at)
        .bind(&r.actor)
        .bind(&r.action)
        .bind(&r.subject)
        .bind(&r.detail)
        .bind(&r.prev_hash)
        .bind(&r.hash)
        .execute(store.pool())
        .await
        .expect("insert the forged chain");
    }
    store.close().await;
}

#[tokio::test]
async fn a_chain_rebuilt_from_genesis_is_caught_by_a_head_published_before_and_by_a_receipt() {
    for db in databases() {
        let mut app = TestApp::spawn(Setup::tiny(3).on(db)).await;
        let key = public_key(&app).await;
        let mut c1 = app.candidate(1).await;
        let _c2 = app.candidate(2).await;
        let _c3 = app.candidate(3).await;
        c1.answer(0, Some("A")).await;
        let (_, finished) = c1.finish().await;
        let receipt = finished["receipt_full"].as_str().expect("receipt").to_owned();
        // The sitting closes: a head covering its results is signed and published at once.
        let admin = app.staff("admin").await;
        let (status, _) = app.act(&admin, "/api/v1/sittings/T-1/close", json!({ "reason": "selesai" })).await;
        assert_eq!(status, 200);
        let head = published_head(&app).await;
        let (stored_seq, stored_hash) = app.store().audit_head().await.expect("head").expect("entries");
        assert_eq!((head.seq, head.hash.as_str()), (stored_seq, stored_hash.as_str()), "{db:?}: signed at the close");
        head.verify(&key).expect("signed by the published key");
        let kept = tempfile::tempdir().expect("tmp");
        let head_file = kept.path().join("head.json");
        std::fs::write(&head_file, serde_json::to_string(&head).expect("json")).expect("keep the head");
        let head_file = head_file.to_str().expect("utf8");

        let dir = app.dir.path().to_owned();
        let d = dir.to_str().expect("utf8");
        let url = app.url.clone();
        app.shutdown().await;
        let copy_dir = tempfile::tempdir().expect("tmp");
        let copy = copy_database(db, &url, &dir, copy_dir.path()).await;

        // Before the rewrite, the copy extends the head and holds the receipt's head.
        let (code, out, err) = ujian(&["--data-dir", d, "--database", &copy, "audit", "verify", "--head", head_file]);
        assert_eq!(code, 0, "{db:?}: {out}{err}");
        assert!(out.contains("ok: the chain extends the head signed at"), "{out}");
        let (code, out, err) = ujian(&["--data-dir", d, "--database", &copy, "receipt", "verify", &receipt]);
        assert_eq!(code, 0, "{db:?}: {out}{err}");
        assert!(out.contains("ok: the audit chain holds the receipt's head"), "{out}");

        rewrite_chain(db, &copy, "T-1.P-0001").await;

        // The rebuilt chain is consistent in itself…
        let (code, out, err) = ujian(&["--data-dir", d, "--database", &copy, "audit", "verify"]);
        assert_eq!(code, 0, "{db:?}: {out}{err}");
        assert!(out.contains("chain intact"), "{out}");
        // …but it no longer passes through the head published before the rewrite…
        let (code, out, err) = ujian(&["--data-dir", d, "--database", &copy, "audit", "verify", "--head", head_file]);
        assert_eq!(code, 1, "{db:?}: {out}{err}");
        assert!(err.contains("tampered: the chain does not extend the head signed at"), "{db:?}: {err}");
        // …nor through the head the receipt names, nor does it record the receipt's result.
        let (code, out, err) = ujian(&["--data-dir", d, "--database", &copy, "receipt", "verify", &receipt]);
        assert_eq!(code, 1, "{db:?}: {out}{err}");
        assert!(out.contains("valid receipt"), "the receipt itself is genuine: {out}");
        assert!(err.contains("tampered: the chain does not hold the receipt's audit head"), "{db:?}: {err}");
        assert!(err.contains("records total"), "{db:?}: the raised total is named: {err}");
    }
}

#[tokio::test]
async fn a_forged_or_foreign_head_is_refused_before_the_chain_is_read() {
    let mut app = TestApp::spawn(Setup::tiny(1)).await;
    let _c = app.candidate(1).await;
    let mut head = app.state.heads.sign_now();
    let dir = app.dir.path().to_owned();
    let url = app.url.clone();
    app.shutdown().await;
    let kept = tempfile::tempdir().expect("tmp");
    let file = kept.path().join("head.json");
    // Someone moves the published head back to make a shorter chain pass.
    head.seq -= 1;
    std::fs::write(&file, serde_json::to_string(&head).expect("json")).expect("write");
    let (code, _, err) = ujian(&[
        "--data-dir",
        dir.to_str().expect("utf8"),
        "--database",
        &url,
        "audit",
        "verify",
        "--head",
        file.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("the signature does not match"), "{err}");
}

#[tokio::test]
async fn the_head_is_signed_again_every_minute_and_names_the_stored_chain() {
    for db in databases() {
        let app = TestApp::spawn(Setup::tiny(1).on(db)).await;
        let key = public_key(&app).await;
        let first = published_head(&app).await;
        first.verify(&key).expect("valid");
        let _c = app.candidate(1).await; // a login: one more entry
        let (seq, hash) = app.store().audit_head().await.expect("head").expect("entries");
        assert!(seq > first.seq);
        app.clock.advance(61_000);
        // The signer looks at the clock every second: wait (bounded) for its next look.
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        let next = loop {
            let head = published_head(&app).await;
            if head.signed_at != first.signed_at {
                break head;
            }
            assert!(tokio::time::Instant::now() < deadline, "{db:?}: no new head a minute later");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        assert_eq!((next.seq, next.hash.as_str()), (seq, hash.as_str()), "{db:?}");
        next.verify(&key).expect("valid");
    }
}

#[tokio::test]
async fn the_database_refuses_to_update_or_delete_audit_entries() {
    for db in databases() {
        let app = TestApp::spawn(Setup::tiny(1).on(db)).await;
        let _c = app.candidate(1).await;
        let before = app.store().audit_log().await.expect("log");
        assert!(!before.is_empty());
        let pool = app.store().pool();
        for sql in [
            "UPDATE audit_log SET detail = '{}' WHERE seq = 1",
            "DELETE FROM audit_log WHERE seq = 1",
            "DELETE FROM audit_log",
        ] {
            let err = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(pool).await.expect_err(sql);
            assert!(err.to_string().contains("audit_log is append-only"), "{db:?} {sql}: {err}");
        }
        assert_eq!(app.store().audit_log().await.expect("log"), before, "{db:?}: nothing changed");
    }
}

#[tokio::test]
async fn every_committee_command_that_changes_an_exam_day_leaves_an_audit_entry() {
    for db in databases() {
        let dir = tempfile::tempdir().expect("tmp");
        let data = dir.path().join("data");
        let d = data.to_str().expect("utf8");
        let url = match db {
            Db::Sqlite => store::sqlite_url_in(&data),
            Db::Postgres => fresh_pg_database().await,
        };
        let csv = dir.path().join("peserta.csv");
        std::fs::write(&csv, "participant_no,name,pin\nA-1,Ani,123456\nA-2,Budi,\n").expect("write");
        let pins = dir.path().join("pins.csv");
        let (csv, pins) = (csv.to_str().expect("utf8"), pins.to_str().expect("utf8"));
        let run = |args: &[&str]| {
            let mut all = vec!["--data-dir", d, "--database", &url];
            all.extend_from_slice(args);
            let (code, out, err) = ujian(&all);
            assert_eq!(code, 0, "{db:?} {args:?}: {out}{err}");
        };
        run(&["exam", "import", "question-banks/exams/sample-en.toml"]);
        run(&["candidates", "import", csv, "--pins-out", pins]);
        // Importing again re-issues A-2's PIN (a new one is generated).
        run(&["candidates", "import", csv, "--pins-out", pins]);
        let list = dir.path().join("list.csv");
        std::fs::write(&list, "participant_no\nA-1\nA-2\n").expect("write");
        let prepare = ["sitting", "prepare", "--id", "S-1", "--exam", "SAMPLE-EN", "--venue", "Hall"];
        let mut prepare = prepare.to_vec();
        prepare.extend(["--starts-at", "2026-11-24T08:00:00+07:00", "--candidates", list.to_str().expect("utf8")]);
        run(&prepare);
        run(&["staff", "add", "pengawas1", "--sitting", "S-1"]);

        let store = Store::open(&url).await.expect("open");
        let log = store.audit_log().await.expect("log");
        store.close().await;
        let actions: Vec<(&str, &str)> = log.iter().map(|r| (r.action.as_str(), r.subject.as_str())).collect();
        assert_eq!(
            actions,
            [
                ("exam.imported", "SAMPLE-EN"),
                ("candidates.imported", csv),
                ("candidates.imported", csv),
                ("sitting.prepared", "S-1"),
                ("staff.added", "pengawas1"),
            ],
            "{db:?}"
        );
        assert!(log.iter().all(|r| r.actor.starts_with("committee")), "{db:?}");
        let reissue: Value = serde_json::from_str(&log[2].detail).expect("json");
        assert_eq!(reissue["pins_reissued"], json!(["A-2"]), "{db:?}: {reissue}");
        assert!(!log[4].detail.contains("password"), "{db:?}: no password in the log");
        let (code, out, err) = ujian(&["--data-dir", d, "--database", &url, "audit", "verify"]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("ok: 5 audit entries, chain intact"), "{db:?}: {out}");
    }
}

#[tokio::test]
async fn a_committee_entry_written_beside_a_running_server_takes_nothing_from_the_servers_entries() {
    for db in databases() {
        let mut app = TestApp::spawn(Setup::tiny(3).on(db)).await;
        let d = app.dir.path().to_str().expect("utf8").to_owned();
        let url = app.url.clone();
        let mut c1 = app.candidate(1).await;
        // The committee adds a supervisor while the server runs: an entry the server did
        // not number, at the place it would give its next one.
        let (code, out, err) = ujian(&["--data-dir", &d, "--database", &url, "staff", "add", "pengawas9"]);
        assert_eq!(code, 0, "{db:?}: {out}{err}");
        // Every audited write of the server after it is stored: a login, answers, a finish
        // with its published result, a supervisor's pause of the room.
        let mut c2 = app.candidate(2).await;
        assert_eq!(c1.answer(0, Some("A")).await["type"], "ack", "{db:?}");
        assert_eq!(c2.answer(0, Some("A")).await["type"], "ack", "{db:?}");
        let (ack, finished) = c1.finish().await;
        assert_eq!((ack["type"].as_str(), finished["type"].as_str()), (Some("ack"), Some("finished")), "{db:?}");
        let receipt = finished["receipt_full"].as_str().expect("receipt").to_owned();
        let admin = app.staff("admin").await;
        let (status, body) = app.act(&admin, "/api/v1/sittings/T-1/pause", json!({ "reason": "listrik padam" })).await;
        assert_eq!(status, 200, "{db:?}: {body}");
        // And again after a second append: the server's head follows the stored chain.
        let (code, out, err) = ujian(&["--data-dir", &d, "--database", &url, "staff", "add", "pengawas10"]);
        assert_eq!(code, 0, "{db:?}: {out}{err}");
        let (status, body) = app.act(&admin, "/api/v1/sittings/T-1/resume", json!({ "reason": "listrik pulih" })).await;
        assert_eq!(status, 200, "{db:?}: {body}");
        assert_eq!(c2.recv().await["type"], "paused", "{db:?}");
        assert_eq!(c2.recv().await["type"], "resumed", "{db:?}");
        let after = c2.answer(1, Some("A")).await;
        assert_eq!(after["type"], "ack", "{db:?}: {after}");
        let log = app.store().audit_log().await.expect("log");
        let actions: Vec<&str> = log.iter().map(|r| r.action.as_str()).collect();
        for action in ["staff.added", "session.finished", "sitting.pause", "sitting.resume"] {
            assert!(actions.contains(&action), "{db:?}: {action} in {actions:?}");
        }
        assert_eq!(actions.iter().filter(|a| **a == "staff.added").count(), 2, "{db:?}");
        app.shutdown().await;
        let (code, out, err) = ujian(&["--data-dir", &d, "--database", &url, "audit", "verify"]);
        assert_eq!(code, 0, "{db:?}: {out}{err}");
        assert!(out.contains(&format!("ok: {} audit entries, chain intact", log.len())), "{db:?}: {out}");
        // The receipt names a head the stored chain holds.
        let (code, out, err) = ujian(&["--data-dir", &d, "--database", &url, "receipt", "verify", &receipt]);
        assert_eq!(code, 0, "{db:?}: {out}{err}");
        assert!(out.contains("ok: the audit chain holds the receipt's head"), "{db:?}: {out}");
    }
}
