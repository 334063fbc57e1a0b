use item_bank::Exam;
use store::{Batch, LogEntry, NewCandidate, NewSession, NewSitting, PaperRow, SessionWrite};

use crate::{audit_row, now, repo, stores, stores_each_writer};

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
        receipt_code: None,
    }
}

/// The tiny exam, candidate P-1 and sitting S with session `S.P-1`, on a fresh store.
async fn one_session(db: &crate::TestDb) {
    sessions(db, 1).await;
}

/// The tiny exam and sitting S with `n` sessions `S.P-1..n` (papers of three positions).
async fn sessions(db: &crate::TestDb, n: usize) {
    let (exam, bank, _) = Exam::load(&repo("crates/item-bank/tests/fixtures/tiny-exam.toml")).expect("tiny");
    db.store.put_exam(&exam, &bank, now()).await.expect("exam");
    let candidates: Vec<NewCandidate> = (1..=n)
        .map(|i| NewCandidate {
            participant_no: format!("P-{i}"),
            name: format!("Peserta {i}"),
            birth_date: None,
            pin_hash: "h".into(),
            accommodation: None,
        })
        .collect();
    db.store.put_candidates(&candidates, now()).await.expect("candidates");
    let paper: Vec<PaperRow> = ["K-1", "K-2", "K-3"]
        .iter()
        .map(|id| PaperRow { section: "K".into(), item_id: (*id).into(), option_order: "ABC".into() })
        .collect();
    let sitting = NewSitting {
        id: "S".into(),
        exam_code: exam.code().into(),
        venue: "V".into(),
        starts_at: "t".into(),
        secret_hex: "00".into(),
        token: "ABCDEF".into(),
        created_at: "t".into(),
        sessions: (1..=n)
            .map(|i| NewSession {
                id: format!("S.P-{i}"),
                participant_no: format!("P-{i}"),
                duration_ms: 600_000,
                paper: paper.clone(),
            })
            .collect(),
    };
    assert!(db.store.create_sitting(&sitting).await.expect("sitting"));
}

fn answer(session: &str, seq: i64, position: i64, choice: &str, used_ms: i64) -> LogEntry {
    LogEntry {
        session_id: session.into(),
        seq,
        position: Some(position),
        action: "answer".into(),
        choice: Some(choice.into()),
        flagged: None,
        client_ts: None,
        server_ts: format!("2026-11-23T08:00:{:02}.000Z", seq % 60),
        used_ms: Some(used_ms),
    }
}

#[tokio::test]
async fn a_finished_session_stays_finished_whatever_is_written_after() {
    for db in stores_each_writer().await {
        one_session(&db).await;
        db.commit(&Batch::session(write(Some("active"), 1_000))).await.expect("start");
        db.commit(&Batch::session(write(Some("finished"), 5_000))).await.expect("finish");
        // A checkpoint read before the finish but committed after it, and a stale status.
        db.commit(&Batch::session(write(None, 4_000))).await.expect("late checkpoint");
        db.commit(&Batch::session(write(Some("active"), 4_500))).await.expect("stale write");
        let rec = db.store.load_session("S.P-1").await.expect("load").expect("session");
        assert_eq!(rec.status, "finished", "{}", db.label);
        assert_eq!(rec.used_ms, 5_000, "{}", db.label);
    }
}

#[tokio::test]
async fn a_checkpoint_never_changes_the_status_and_used_time_only_grows() {
    for db in stores_each_writer().await {
        one_session(&db).await;
        db.commit(&Batch::session(write(Some("paused"), 3_000))).await.expect("pause");
        db.commit(&Batch::session(write(None, 2_000))).await.expect("stale checkpoint");
        let rec = db.store.load_session("S.P-1").await.expect("load").expect("session");
        assert_eq!((rec.status.as_str(), rec.used_ms), ("paused", 3_000), "{}", db.label);
    }
}

#[tokio::test]
async fn one_batch_stores_many_sessions_and_answers_in_a_few_statements() {
    // 300 sessions × 3 answers: more rows than one multi-row statement takes, on both backends.
    for db in stores_each_writer().await {
        sessions(&db, 300).await;
        let mut batch = Batch::default();
        for i in 1..=300 {
            let id = format!("S.P-{i}");
            let mut start = write(Some("active"), 0);
            start.session_id = id.clone();
            start.started_at = Some("t0".into());
            batch.sessions.push(start);
            for seq in 1..=3 {
                let choice = ["A", "B", "C"][(i + seq as usize) % 3];
                batch.log.push(answer(&id, seq, seq - 1, choice, seq * 1_000 + i as i64));
            }
            // A checkpoint merged into the same batch: no status, more time.
            let mut later = write(None, 500);
            later.session_id = id;
            batch.sessions.push(later);
        }
        db.commit(&batch).await.expect("batch");
        let rec = db.store.load_session("S.P-7").await.expect("load").expect("session");
        assert_eq!(rec.status, "active", "{}", db.label);
        // The log's clock is ahead of the row's: the reload takes the larger.
        assert_eq!(rec.used_ms, 3_007, "{}", db.label);
        assert_eq!(rec.paper.len(), 3);
        assert_eq!(rec.answers.get(&2).cloned().flatten().as_deref(), Some(["A", "B", "C"][(7 + 3) % 3]));
        assert_eq!(rec.acks.len(), 3, "{}", db.label);
        // Each session's start, for the analyses' time spent on a first answer.
        let starts = db.store.session_starts_of("S").await.expect("starts");
        assert_eq!(starts.len(), 300, "{}", db.label);
        assert!(starts.iter().all(|(_, at)| at.as_deref() == Some("t0")), "{}", db.label);
        assert!(db.store.session_starts_of("nope").await.expect("starts").is_empty());
        let log = db.store.answer_log("S.P-300").await.expect("log");
        assert_eq!(
            log,
            (1..=3)
                .map(|seq| answer(
                    "S.P-300",
                    seq,
                    seq - 1,
                    ["A", "B", "C"][(300 + seq as usize) % 3],
                    seq * 1_000 + 300
                ))
                .collect::<Vec<_>>()
        );
    }
}

#[tokio::test]
async fn a_restart_loads_every_unfinished_session_at_once_and_only_those() {
    for db in stores().await {
        sessions(&db, 5).await;
        let mut batch = Batch::default();
        for (i, status) in [(1, "active"), (2, "paused"), (3, "finished"), (5, "active")] {
            let mut w = write(Some(status), 1_000 * i);
            w.session_id = format!("S.P-{i}");
            batch.sessions.push(w);
            batch.log.push(answer(&format!("S.P-{i}"), 1, 0, "B", 2_000 * i));
        }
        // Every kind of line, so the bulk load (SQLite: its own connection) is compared
        // with the one-session load (the pool) on all of a record.
        let flag =
            LogEntry { action: "flag".into(), choice: None, flagged: Some(true), ..answer("S.P-2", 2, 1, "", 4_100) };
        let event = LogEntry {
            action: "event".into(),
            position: None,
            choice: Some("blur".into()),
            ..answer("S.P-2", 3, 0, "", 4_200)
        };
        let unflag = LogEntry { flagged: Some(false), seq: 6, position: Some(2), ..flag.clone() };
        let cleared = LogEntry { choice: None, ..answer("S.P-2", 7, 2, "", 4_500) };
        batch.log.extend([flag, event, answer("S.P-2", 4, 0, "C", 4_300), answer("S.P-2", 5, 2, "A", 4_400)]);
        batch.log.extend([unflag, cleared]);
        db.commit(&batch).await.expect("batch");
        let recs = db.store.load_unfinished_sessions().await.expect("load");
        let ids: Vec<&str> = recs.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["S.P-1", "S.P-2", "S.P-5"], "{}", db.label);
        // An opening sitting preloads the sessions that have not started, with their papers.
        let ready = db.store.load_sitting_sessions("S").await.expect("load sitting");
        assert_eq!(ready.iter().map(|r| (r.id.as_str(), r.paper.len())).collect::<Vec<_>>(), [("S.P-4", 3)]);
        let one = db.store.load_session("S.P-4").await.expect("load").expect("S.P-4");
        assert_eq!(format!("{:?}", ready[0]), format!("{one:?}"), "{}", db.label);
        // Every session of the sitting, finished and not started included (the export).
        let every = db.store.load_every_session_of("S").await.expect("load every");
        assert_eq!(every.len(), 5, "{}", db.label);
        for rec in &every {
            let one = db.store.load_session(&rec.id).await.expect("load").expect("session");
            assert_eq!(format!("{rec:?}"), format!("{one:?}"), "{}", db.label);
        }
        assert!(db.store.load_every_session_of("nope").await.expect("load").is_empty());
        assert!(db.store.load_sitting_sessions("nope").await.expect("load").is_empty());
        for rec in &recs {
            let one = db.store.load_session(&rec.id).await.expect("load").expect("session");
            // Debug covers every field, the log's digest (as hex) included.
            assert_eq!(format!("{rec:?}"), format!("{one:?}"), "{}", db.label);
            assert_eq!(rec.paper.len(), 3);
        }
        let p2 = &recs[1];
        assert_eq!((p2.flags.get(&1), p2.flags.get(&2)), (Some(&true), Some(&false)), "{}", db.label);
        assert_eq!(p2.answers.get(&0).cloned().flatten().as_deref(), Some("C"), "{}: the last word wins", db.label);
        assert_eq!(p2.answers.get(&2), Some(&None), "{}: a cleared answer", db.label);
        assert_eq!(p2.acks.len(), 7, "{}", db.label);
        assert_eq!(p2.used_ms, 4_500, "{}", db.label);
        assert_eq!(recs[2].used_ms, 10_000, "{}", db.label);
        // A finished session's row is final: its log cannot add time.
        let finished = db.store.load_session("S.P-3").await.expect("load").expect("session");
        assert_eq!(finished.used_ms, 3_000, "{}", db.label);
    }
}

#[tokio::test]
async fn what_a_login_checks_is_listed_by_sitting_and_every_change_to_it_raises_the_generation() {
    for db in stores().await {
        sessions(&db, 3).await;
        let start = db.store.login_generation().await.expect("generation");
        // A started session's logins are not first logins: not listed.
        let started = SessionWrite { status: Some("active".into()), ..write(None, 0) };
        db.commit(&Batch::session(started)).await.expect("start S.P-1");
        let mut rows = db.store.sitting_logins("S").await.expect("rows");
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let seen: Vec<(&str, &str, &str, &str)> = rows
            .iter()
            .map(|(p, c)| (p.as_str(), c.session_id.as_str(), c.sitting_token.as_str(), c.pin_hash.as_str()))
            .collect();
        assert_eq!(seen, [("P-2", "S.P-2", "ABCDEF", "h"), ("P-3", "S.P-3", "ABCDEF", "h")], "{}", db.label);
        assert!(rows.iter().all(|(_, c)| c.sitting_id == "S" && c.session_status == "ready"), "{}", db.label);
        assert!(db.store.sitting_logins("NO-SUCH").await.expect("rows").is_empty(), "{}", db.label);
        assert_eq!(db.store.login_generation().await.expect("generation"), start, "answers change no login");

        // A PIN re-issued, a token rotated and a status set each raise it, in their own
        // transaction.
        let reissued = NewCandidate {
            participant_no: "P-2".into(),
            name: "Peserta 2".into(),
            birth_date: None,
            pin_hash: "h2".into(),
            accommodation: None,
        };
        db.store.put_candidates(&[reissued], now()).await.expect("re-issue");
        assert_eq!(db.store.login_generation().await.expect("generation"), start + 1, "{}", db.label);
        db.store.set_sitting_token("S", "GHIJKL").await.expect("rotate");
        assert_eq!(db.store.login_generation().await.expect("generation"), start + 2, "{}", db.label);
        db.store.set_sitting_status("S", "closed").await.expect("close");
        assert_eq!(db.store.login_generation().await.expect("generation"), start + 3, "{}", db.label);
        let rows = db.store.sitting_logins("S").await.expect("rows");
        let p2 = rows.iter().find(|(p, _)| p == "P-2").expect("P-2");
        assert_eq!((p2.1.pin_hash.as_str(), p2.1.sitting_token.as_str()), ("h2", "GHIJKL"), "{}", db.label);
    }
}

#[tokio::test]
async fn a_batch_that_fails_stores_none_of_it_and_the_next_batch_is_stored() {
    for db in stores_each_writer().await {
        sessions(&db, 2).await;
        let first = answer("S.P-1", 1, 0, "A", 100);
        db.commit(&Batch { log: vec![first.clone()], ..Batch::default() }).await.expect("first");
        // The log's 301st row breaks its key (S.P-1's seq 1 again), after the audit row and
        // 300 rows (more than one statement on PostgreSQL) already ran: those are rolled
        // back, and the session update, after the log, never runs.
        let audit = audit_row(1);
        let started = SessionWrite { session_id: "S.P-2".into(), status: Some("active".into()), ..write(None, 50) };
        let mut log: Vec<LogEntry> = (1..=300).map(|seq| answer("S.P-2", seq, 0, "B", 50)).collect();
        log.push(first.clone());
        let bad = Batch { log, sessions: vec![started.clone()], audit: vec![audit.clone()], ..Batch::default() };
        // One writer for both batches, as the server keeps one.
        let mut writer = db.writer().await;
        assert!(writer.write_batch(&bad).await.is_err(), "{}", db.label);
        let p2 = db.store.load_session("S.P-2").await.expect("load").expect("S.P-2");
        assert!(p2.acks.is_empty() && p2.status == "ready", "{}: {p2:?}", db.label);
        assert!(db.store.audit_log().await.expect("audit").is_empty(), "{}", db.label);
        // Nothing of it stays open on the writer's connection: the next batch commits.
        let good = Batch {
            log: vec![answer("S.P-2", 1, 0, "B", 50)],
            sessions: vec![started],
            audit: vec![audit],
            ..Batch::default()
        };
        writer.write_batch(&good).await.unwrap_or_else(|e| panic!("{}: after a failed batch: {e}", db.label));
        writer.close().await;
        let p2 = db.store.load_session("S.P-2").await.expect("load").expect("S.P-2");
        assert_eq!((p2.acks.len(), p2.status.as_str()), (1, "active"), "{}", db.label);
        assert_eq!(db.store.audit_log().await.expect("audit").len(), 1, "{}", db.label);
    }
}

#[tokio::test]
async fn a_batch_of_every_kind_beyond_one_statement_binds_each_value_to_its_row() {
    // Over 256 rows of all four kinds: several statements each, their values bound in
    // order across them; a value bound one place off would land in the wrong row.
    for db in stores_each_writer().await {
        sessions(&db, 300).await;
        let mut batch = Batch::default();
        for i in 1..=300i64 {
            let id = format!("S.P-{i}");
            batch.audit.push(audit_row(i));
            batch.login_tokens.push(store::NewLoginToken {
                token_hash: format!("tok{i}"),
                session_id: id.clone(),
                created_at: "t".into(),
            });
            batch.log.push(answer(&id, 1, 2, ["A", "B", "C"][i as usize % 3], i));
            batch.sessions.push(SessionWrite { session_id: id, status: Some("active".into()), ..write(None, i) });
        }
        db.commit(&batch).await.expect("batch");
        let audit = db.store.audit_log().await.expect("audit");
        assert_eq!(audit.len(), 300, "{}", db.label);
        assert_eq!(audit.last(), Some(&audit_row(300)), "{}", db.label);
        for i in [1, 256, 257, 300] {
            let id = format!("S.P-{i}");
            assert_eq!(db.store.session_for_token(&format!("tok{i}")).await.expect("token"), Some(id.clone()));
            let log = db.store.answer_log(&id).await.expect("log");
            assert_eq!(log, [answer(&id, 1, 2, ["A", "B", "C"][i % 3], i as i64)], "{}", db.label);
            let rec = db.store.load_session(&id).await.expect("load").expect("session");
            assert_eq!((rec.status.as_str(), rec.used_ms), ("active", i as i64), "{}: {id}", db.label);
        }
    }
}

#[tokio::test]
async fn a_start_ends_the_sessions_other_logins_and_a_close_ends_those_of_sessions_not_started() {
    for db in stores_each_writer().await {
        sessions(&db, 3).await;
        let token = |hash: &str, session: &str| store::NewLoginToken {
            token_hash: hash.into(),
            session_id: session.into(),
            created_at: "2026-01-01T00:00:00Z".into(),
        };
        let logins = Batch {
            login_tokens: vec![token("a1", "S.P-1"), token("a2", "S.P-1"), token("b1", "S.P-2"), token("c1", "S.P-3")],
            ..Batch::default()
        };
        db.commit(&logins).await.expect("logins");
        // P-1 starts with a1, and a login of it stored in the same batch ends too.
        let start = Batch {
            login_tokens: vec![token("a3", "S.P-1")],
            sessions: vec![SessionWrite {
                session_id: "S.P-1".into(),
                status: Some("active".into()),
                ..write(None, 0)
            }],
            revocations: vec![store::TokenRevocation {
                session_id: "S.P-1".into(),
                keep_hash: "a1".into(),
                at: "2026-01-01T00:01:00Z".into(),
            }],
            ..Batch::default()
        };
        db.commit(&start).await.expect("start");
        let why = |hash: &'static str| {
            let store = db.store.clone();
            async move { store.login_token(hash).await.expect("read").expect("token").revoked }
        };
        assert_eq!(why("a1").await, None, "{}", db.label);
        assert_eq!(why("a2").await, Some(store::Revoked::Superseded), "{}", db.label);
        assert_eq!(why("a3").await, Some(store::Revoked::Superseded), "{}", db.label);
        assert_eq!(db.store.session_for_token("a2").await.expect("read"), None, "{}", db.label);
        // Closing: P-1 started (kept), P-2 is started in memory only (kept), P-3 ends.
        let ended = db.store.close_sitting("S", &["S.P-2".to_owned()], "2026-01-01T00:02:00Z").await.expect("close");
        assert_eq!(ended, ["S.P-3"], "{}", db.label);
        assert_eq!(why("a1").await, None, "{}", db.label);
        assert_eq!(why("b1").await, None, "{}", db.label);
        assert_eq!(why("c1").await, Some(store::Revoked::SittingClosed), "{}", db.label);
        assert_eq!(db.store.get_sitting("S").await.expect("read").expect("sitting").status, "closed");
        let row = db.store.login_token("a1").await.expect("read").expect("token");
        assert_eq!((row.session_status.as_str(), row.exam_code.as_str()), ("active", "TINY"), "{}", db.label);
        // A leave to move is used once.
        db.store.set_move_allowed("S.P-1", true).await.expect("allow");
        assert!(db.store.take_move_allowed("S.P-1").await.expect("take"));
        assert!(!db.store.take_move_allowed("S.P-1").await.expect("take"), "{}", db.label);
    }
}

#[tokio::test]
async fn a_receipt_code_finds_its_result_by_the_index_and_older_results_are_filled_in() {
    for db in stores_each_writer().await {
        sessions(&db, 2).await;
        // S.P-1 finishes with its code written beside the result; S.P-2 as a session that
        // finished before the column existed: a result, no code.
        let finish = |id: &str, code: Option<&str>| SessionWrite {
            session_id: id.into(),
            result: Some(format!("{{\"receipt\":\"{}\"}}", code.unwrap_or("OLD0-CODE-0002"))),
            receipt_code: code.map(str::to_owned),
            ..write(Some("finished"), 1_000)
        };
        db.commit(&Batch::session(finish("S.P-1", Some("AAAA-BBBB-CCCC")))).await.expect("finish P-1");
        db.commit(&Batch::session(finish("S.P-2", None))).await.expect("finish P-2");
        let found = db.store.results_by_receipt_code("AAAA-BBBB-CCCC").await.expect("lookup");
        assert_eq!(found, ["{\"receipt\":\"AAAA-BBBB-CCCC\"}"], "{}", db.label);
        assert!(db.store.results_by_receipt_code("OLD0-CODE-0002").await.expect("lookup").is_empty());

        let missing = db.store.results_without_receipt_code().await.expect("missing");
        assert_eq!(missing, [("S.P-2".to_owned(), "{\"receipt\":\"OLD0-CODE-0002\"}".to_owned())], "{}", db.label);
        db.store.set_receipt_codes(&[("S.P-2".into(), "OLD0-CODE-0002".into())]).await.expect("fill in");
        assert_eq!(db.store.results_by_receipt_code("OLD0-CODE-0002").await.expect("lookup").len(), 1);
        assert!(db.store.results_without_receipt_code().await.expect("missing").is_empty(), "{}", db.label);

        if db.label == "sqlite" {
            // The lookup reads the index, not every finished session's result.
            let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(
                "EXPLAIN QUERY PLAN SELECT result FROM sessions
                 WHERE receipt_code = 'X' AND status = 'finished' AND result IS NOT NULL",
            )
            .fetch_all(db.store.pool())
            .await
            .expect("plan");
            assert!(plan.iter().any(|p| p.3.contains("sessions_receipt_code")), "{plan:?}");
        }
    }
}
