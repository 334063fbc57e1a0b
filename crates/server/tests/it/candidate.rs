//! A candidate sitting an exam over the WebSocket.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{
    Candidate, Db, Setup, TestApp, assert_receipt_covers_log, best_and_worst, databases, participant,
};

fn session_of(i: usize) -> String {
    server::sitting::session_id(crate::helpers::SITTING, &participant(i))
}

#[tokio::test]
async fn a_full_skd_paper_is_sat_acked_and_scored_as_the_keys_imply() {
    for db in databases() {
        let app = TestApp::spawn(Setup::skd(1).on(db)).await;
        let mut c = app.candidate(1).await;
        assert_eq!(c.welcome["total"], 110);
        assert_eq!(c.welcome["status"], "active");
        assert_eq!(c.welcome["remaining_ms"], 100 * 60_000);
        let key = best_and_worst(&app, &session_of(1)).await;
        assert_eq!(key.len(), 110);
        // Best answer on even positions, worst on odd ones, the last ten blank.
        let mut expected = std::collections::BTreeMap::<String, i64>::new();
        let sections = c.welcome["sections"].as_array().expect("sections").clone();
        for (i, (best, worst, best_pts, worst_pts)) in key.iter().enumerate() {
            let section = sections
                .iter()
                .rev()
                .find(|s| s["start"].as_u64().expect("start") as usize <= i)
                .expect("section")["code"]
                .as_str()
                .expect("code")
                .to_owned();
            // A candidate's pace (the flood limit refills with the server's clock).
            app.clock.advance(100);
            let q = c.get(i).await;
            assert_eq!(q["type"], "question", "{q}");
            assert_eq!(q["section"], section.as_str());
            if i >= 100 {
                *expected.entry(section).or_default() += 0;
                continue;
            }
            let (choice, pts) = if i % 2 == 0 { (best, best_pts) } else { (worst, worst_pts) };
            let ack = c.answer(i, Some(choice)).await;
            assert_eq!(ack["type"], "ack", "{ack}");
            assert_eq!(ack["seq"], c.seq);
            assert_eq!(ack["index"], i);
            let ts = ack["server_ts"].as_str().expect("server_ts");
            assert!(chrono::DateTime::parse_from_rfc3339(ts).is_ok(), "{ts}");
            *expected.entry(section).or_default() += pts;
        }
        let (ack, finished) = c.finish().await;
        assert_eq!(ack["type"], "ack");
        assert_eq!(finished["type"], "finished", "{finished}");
        assert_eq!(finished["reason"], "submitted");
        for (section, points) in &expected {
            assert_eq!(finished["scores"][section], *points, "{db:?} section {section}: {finished}");
        }
        let total: i64 = expected.values().sum();
        assert_eq!(finished["total"], total, "{db:?}");
        assert_eq!(finished["receipt"].as_str().map(str::len), Some(14));
        // The receipt is signed, and checks out against the published key.
        let keys: Value = reqwest::get(app.http("/api/v1/keys")).await.expect("keys").json().await.expect("json");
        let public = keys["keys"][0]["public_key_hex"].as_str().expect("key");
        let (payload, code) = server::receipt::verify(finished["receipt_full"].as_str().expect("full receipt"), public)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(code, finished["receipt"].as_str().expect("code"));
        assert_eq!(payload.total, total);
        assert_eq!(payload.session, session_of(1));
        assert_eq!(payload.bank_sha256, app.bank.hash().to_hex());
        assert_receipt_covers_log(app.addr, app.store(), &session_of(1), &finished).await;
        // Every acknowledged answer is in the log, in order.
        let log = app.store().answer_log(&session_of(1)).await.expect("log");
        assert_eq!(log.iter().filter(|e| e.action == "answer").count(), 100, "{db:?}");
        let seqs: Vec<i64> = log.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=101).collect::<Vec<_>>(), "{db:?}");
        // The result was stored, and a reconnect shows it.
        let again = Candidate::connect(app.addr, &c.token).await;
        assert_eq!(again.welcome["status"], "finished");
        assert_eq!(again.welcome["result"]["total"], total);
    }
}

#[tokio::test]
async fn answers_after_the_deadline_are_refused_and_the_session_finishes_with_no_client() {
    let app = TestApp::spawn(Setup::tiny(2)).await;
    let mut c = app.candidate(1).await;
    assert_eq!(c.answer(0, Some("A")).await["type"], "ack");
    assert_eq!(c.welcome["remaining_ms"], 10 * 60_000);
    app.clock.advance(9 * 60_000);
    let ack = c.answer(1, Some("B")).await;
    assert_eq!(ack["remaining_ms"], 60_000, "{ack}");
    app.clock.advance(60_000);
    let refused = c.answer(2, Some("A")).await;
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["code"], "time_expired", "{refused}");
    assert_eq!(refused["seq"], c.seq);
    let finished = c.recv().await;
    assert_eq!(finished["type"], "finished", "{finished}");
    assert_eq!(finished["reason"], "time_up");
    // Finished by the server, the receipt still covers both answers and nothing else.
    assert_receipt_covers_log(app.addr, app.store(), &session_of(1), &finished).await;
    assert_eq!(app.store().answer_log(&session_of(1)).await.expect("log").len(), 2);

    // Candidate 2 started and walked away: the server finishes and scores them anyway.
    let c2 = app.candidate(2).await;
    drop(c2);
    app.clock.advance(10 * 60_000 + 1);
    // The sweep runs on its own every 250 ms; run one now rather than wait for it.
    app.state.registry.sweep_deadlines().await;
    let status = app.store().load_session(&session_of(2)).await.expect("load").expect("session");
    assert_eq!(status.status, "finished");
    assert_eq!(status.finish_reason.as_deref(), Some("time_up"));
    let result: Value = serde_json::from_str(status.result.as_deref().expect("result stored")).expect("json");
    assert_eq!(result["total"], 0);
}

#[tokio::test]
async fn malformed_and_refused_messages_get_errors_and_the_connection_keeps_working() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let mut c = app.candidate(1).await;
    let cases: Vec<(String, &str)> = vec![
        ("{not json".into(), "bad_message"),
        ("[1,2]".into(), "bad_message"),
        (json!({ "type": "teleport" }).to_string(), "bad_message"),
        (json!({ "type": "answer", "seq": 1, "index": 0 }).to_string(), "bad_message"),
        (json!({ "type": "answer", "seq": 1, "index": 99, "choice": "A" }).to_string(), "unknown_index"),
        (json!({ "type": "answer", "seq": 1, "index": -1, "choice": "A" }).to_string(), "unknown_index"),
        (json!({ "type": "answer", "seq": 1, "index": 0, "choice": "Z" }).to_string(), "bad_choice"),
        (json!({ "type": "answer", "seq": 1, "index": 0, "choice": 3 }).to_string(), "bad_choice"),
        (json!({ "type": "answer", "seq": 0, "index": 0, "choice": "A" }).to_string(), "bad_seq"),
        (json!({ "type": "get", "index": 5000 }).to_string(), "unknown_index"),
        ("x".repeat(10_000), "too_large"),
    ];
    for (text, code) in &cases {
        c.send_text(text).await;
        let reply = c.recv().await;
        assert_eq!(reply["type"], "error", "{text:.60}: {reply}");
        assert_eq!(reply["code"], *code, "{text:.60}: {reply}");
    }
    // Still usable after all that.
    c.send(json!({ "type": "ping" })).await;
    assert_eq!(c.recv().await["type"], "pong");
    // A frame larger than the server's read chunk but within the limit is read whole.
    c.send_text(&format!("{{\"type\":\"ping\"{}}}", " ".repeat(3_900))).await;
    assert_eq!(c.recv().await["type"], "pong");
    let ack = c.answer(0, Some("A")).await;
    assert_eq!(ack["type"], "ack", "{ack}");
    assert_eq!(ack["seq"], 1);
}

/// Makes every commit that holds an answer to `position` fail, as a full disk would, on
/// either database; `false` takes the fault away.
async fn refuse_answers_to(app: &TestApp, db: Db, position: i64, refuse: bool) {
    let statements: Vec<String> = match (db, refuse) {
        (Db::Sqlite, true) => vec![format!(
            "CREATE TRIGGER refuse_answer BEFORE INSERT ON answer_log WHEN NEW.position = {position} \
             BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
        )],
        (Db::Sqlite, false) => vec!["DROP TRIGGER refuse_answer".into()],
        (Db::Postgres, true) => vec![
            format!(
                "CREATE FUNCTION refuse_answer() RETURNS trigger AS $$ BEGIN \
                 IF NEW.position = {position} THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; \
                 END $$ LANGUAGE plpgsql"
            ),
            "CREATE TRIGGER refuse_answer BEFORE INSERT ON answer_log FOR EACH ROW EXECUTE FUNCTION refuse_answer()"
                .into(),
        ],
        (Db::Postgres, false) => vec!["DROP TRIGGER refuse_answer ON answer_log".into()],
    };
    for sql in statements {
        sqlx::query(sqlx::AssertSqlSafe(sql)).execute(app.store().pool()).await.expect("fault trigger");
    }
}

#[tokio::test]
async fn a_failed_commit_is_refused_loses_nothing_and_the_same_seq_is_stored_once_it_can_be() {
    for db in databases() {
        let app = TestApp::spawn(Setup::tiny(1).on(db)).await;
        let mut c = app.candidate(1).await;
        assert_eq!(c.answer(0, Some("B")).await["type"], "ack");
        assert_eq!(c.flag(0, true).await["type"], "ack");
        assert_eq!(c.answer(1, Some("A")).await["type"], "ack");

        refuse_answers_to(&app, db, 2, true).await;
        let refused = c.answer(2, Some("A")).await;
        assert_eq!(refused["type"], "error", "{db:?}: {refused}");
        assert_eq!(refused["code"], "internal", "{db:?}: {refused}");
        assert_eq!(refused["seq"], 4, "{db:?}: {refused}");
        // The page is attached to the session as stored, before it sends anything more:
        // a supervisor's pause and resume reach it.
        let sup = app.staff("sup1").await;
        for (action, pushed) in [("pause", "paused"), ("resume", "resumed")] {
            let path = format!("/api/v1/sessions/{}/{action}", session_of(1));
            let (status, body) = app.act(&sup, &path, json!({ "reason": "uji gangguan disk" })).await;
            assert_eq!(status, 200, "{db:?} {action}: {body}");
            assert_eq!(c.recv().await["type"], pushed, "{db:?}");
        }
        // The connection carries on, on what was stored: the acknowledged answers and
        // flag, and not the answer whose commit failed.
        assert_eq!(c.get(0).await["choice"], "B", "{db:?}");
        assert_eq!(c.get(0).await["flagged"], true, "{db:?}");
        assert_eq!(c.get(1).await["choice"], "A", "{db:?}");
        assert_eq!(c.get(2).await["choice"], Value::Null, "{db:?}");

        // Once the fault is gone, the same seq again (as docs/protocol.md tells a client
        // to do after `internal`) is stored and acknowledged.
        refuse_answers_to(&app, db, 2, false).await;
        c.seq = 3;
        let ack = c.answer(2, Some("A")).await;
        assert_eq!((ack["type"].clone(), ack["seq"].clone()), (json!("ack"), json!(4)), "{db:?}: {ack}");
        assert_eq!(c.get(2).await["choice"], "A", "{db:?}");
        let log = app.store().answer_log(&session_of(1)).await.expect("log");
        let lines: Vec<(i64, Option<i64>, &str)> = log.iter().map(|e| (e.seq, e.position, e.action.as_str())).collect();
        assert_eq!(
            lines,
            [(1, Some(0), "answer"), (2, Some(0), "flag"), (3, Some(1), "answer"), (4, Some(2), "answer")]
        );
        // The receipt signs exactly the stored log: the failed line never entered it.
        let (ack, finished) = c.finish().await;
        assert_eq!(ack["type"], "ack", "{db:?}: {ack}");
        assert_receipt_covers_log(app.addr, app.store(), &session_of(1), &finished).await;
    }
}

#[tokio::test]
async fn no_question_a_candidate_receives_carries_the_explanation() {
    // Every item of the tiny bank the paper draws from K-3, W-1, W-2 has an explanation.
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let mut c = app.candidate(1).await;
    let mut frames = vec![c.welcome.to_string()];
    for i in 0..4 {
        let q = c.get(i).await;
        assert_eq!(q["type"], "question", "{q}");
        frames.push(q.to_string());
    }
    assert!(frames.iter().any(|f| f.contains("\"stem\"")), "the questions were received");
    for f in &frames {
        assert!(!f.contains("Pembahasan"), "an explanation reached the candidate: {f}");
    }
}

#[tokio::test]
async fn a_replayed_seq_gets_the_same_ack_and_changes_nothing() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let mut c = app.candidate(1).await;
    let first = c.answer(0, Some("B")).await;
    assert_eq!(first["type"], "ack");
    // The same seq again, even with a different choice: same ack, answer unchanged.
    c.send(json!({ "type": "answer", "seq": 1, "index": 0, "choice": "C" })).await;
    let replay = c.recv().await;
    assert_eq!(replay["type"], "ack");
    assert_eq!(replay["server_ts"], first["server_ts"]);
    assert_eq!(replay["index"], 0);
    assert_eq!(c.get(0).await["choice"], "B");
    let log = app.store().answer_log(&session_of(1)).await.expect("log");
    assert_eq!(log.len(), 1);
    // A seq below the last one that was never acked is refused, not applied.
    c.seq = 5;
    assert_eq!(c.answer(1, Some("A")).await["type"], "ack");
    c.send(json!({ "type": "answer", "seq": 3, "index": 1, "choice": "B" })).await;
    let stale = c.recv().await;
    assert_eq!(stale["code"], "bad_seq", "{stale}");
    assert_eq!(c.get(1).await["choice"], "A");
}

#[tokio::test]
async fn the_welcome_that_starts_a_session_carries_its_first_question_and_no_later_one_does() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let mut c = app.candidate(1).await;
    let pushed = c.welcome["question"].clone();
    assert_eq!(pushed["index"], 0, "{}", c.welcome);
    // The same question a `get` returns, without its type.
    let mut asked = c.get(0).await;
    asked.as_object_mut().expect("question").remove("type");
    assert_eq!(pushed, asked);
    assert_eq!(c.answer(0, Some("B")).await["type"], "ack");
    let token = c.token.clone();
    drop(c);
    let c = Candidate::connect(app.addr, &token).await;
    assert_eq!(c.welcome["status"], "active");
    assert!(c.welcome.get("question").is_none(), "a resumed page asks for its own question: {}", c.welcome);
}

#[tokio::test]
async fn answers_flags_and_time_survive_a_reconnect_and_a_graceful_restart() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let mut c = app.candidate(1).await;
    for reply in [
        c.answer(0, Some("B")).await,
        c.answer(3, Some("A")).await,
        c.answer(3, Some("B")).await,
        c.flag(2, true).await,
        c.flag(3, true).await,
        c.flag(3, false).await,
    ] {
        assert_eq!(reply["type"], "ack", "{reply}");
    }
    app.clock.advance(120_000);
    let token = c.token.clone();
    drop(c);
    let c = Candidate::connect(app.addr, &token).await;
    assert_eq!(c.welcome["answers"], json!({ "0": "B", "3": "B" }));
    assert_eq!(c.welcome["flags"], json!([2]));
    assert_eq!(c.welcome["last_seq"], 6);
    assert_eq!(c.welcome["remaining_ms"], 8 * 60_000);
    drop(c);

    // A graceful restart (SIGTERM) checkpoints the clock; the new process starts its own.
    let app = app.restart("crates/item-bank/tests/fixtures/tiny-exam.toml").await;
    let mut c = Candidate::connect(app.addr, &token).await;
    assert_eq!(c.welcome["answers"], json!({ "0": "B", "3": "B" }));
    assert_eq!(c.welcome["flags"], json!([2]));
    assert_eq!(c.welcome["remaining_ms"], 8 * 60_000, "no time charged while the server was down");
    let q = c.get(3).await;
    assert_eq!(q["choice"], "B");
    assert_eq!(q["flagged"], false);
    assert_eq!(c.answer(1, Some("A")).await["seq"], 7);
}

/// The session row's stored `used_ms` (what a checkpoint writes), not the reload's figure.
async fn stored_row_used_ms(app: &TestApp, session: &str) -> i64 {
    sqlx::query_scalar("SELECT used_ms FROM sessions WHERE id = $1")
        .bind(session)
        .fetch_one(app.store().pool())
        .await
        .expect("used_ms")
}

#[tokio::test]
async fn every_ack_stores_the_clock_and_idle_clocks_get_checkpoints() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let allowed = 10 * 60_000;
    let mut c = app.candidate(1).await;
    app.clock.advance(30_000);
    let ack = c.answer(0, Some("B")).await;
    // Whatever happens next, a reload knows at least the time this ack reported.
    let rec = app.store().load_session(&session_of(1)).await.expect("load").expect("session");
    assert_eq!(allowed - rec.used_ms, ack["remaining_ms"].as_i64().expect("remaining"));
    assert_eq!(rec.used_ms, 30_000);

    // A clock stored less than the checkpoint interval ago is left alone ...
    let row = stored_row_used_ms(&app, &session_of(1)).await;
    app.clock.advance(3_000);
    app.state.registry.checkpoint(false).await;
    assert_eq!(stored_row_used_ms(&app, &session_of(1)).await, row);
    // ... and written once it would be older than the interval by the next pass.
    app.clock.advance(1_000);
    app.state.registry.checkpoint(false).await;
    assert_eq!(stored_row_used_ms(&app, &session_of(1)).await, 34_000);
    // A shutdown writes every running clock.
    app.clock.advance(500);
    app.state.registry.checkpoint(true).await;
    assert_eq!(stored_row_used_ms(&app, &session_of(1)).await, 34_500);
}

#[tokio::test]
async fn a_second_connection_takes_over_the_seat_and_the_first_is_told() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let mut first = app.candidate(1).await;
    first.answer(0, Some("A")).await;
    let mut second = Candidate::connect(app.addr, &first.token).await;
    assert_eq!(second.welcome["answers"], json!({ "0": "A" }));
    assert_eq!(first.recv().await["type"], "taken_over");
    assert_eq!(first.recv().await["type"], "_closed");
    assert_eq!(second.answer(1, Some("B")).await["type"], "ack");
}

#[tokio::test]
async fn papers_differ_between_candidates_and_never_change_for_one() {
    let app = TestApp::spawn(Setup::skd(3)).await;
    let mut orders = Vec::new();
    for i in 1..=3 {
        let rec = app.store().load_session(&session_of(i)).await.expect("load").expect("session");
        orders.push(rec.paper.iter().map(|p| format!("{}:{}", p.item_id, p.option_order)).collect::<Vec<_>>());
    }
    assert_ne!(orders[0], orders[1]);
    assert_ne!(orders[1], orders[2]);
    // What a candidate is shown follows the stored paper, on every connect.
    let mut c = app.candidate(1).await;
    let a = c.get(0).await;
    let token = c.token.clone();
    drop(c);
    let mut c = Candidate::connect(app.addr, &token).await;
    assert_eq!(c.get(0).await, a);
}

/// Field names that would give a key or a weight away.
const FORBIDDEN: &[&str] = &["answer", "key", "points", "weight", "correct", "score", "scores", "result"];

fn assert_no_key(v: &Value, path: &str) {
    match v {
        Value::Object(map) => {
            for (k, inner) in map {
                assert!(!FORBIDDEN.contains(&k.as_str()), "{path}.{k} is in a candidate payload before finish: {v}");
                assert_no_key(inner, &format!("{path}.{k}"));
            }
        }
        Value::Array(items) => items.iter().for_each(|i| assert_no_key(i, path)),
        _ => {}
    }
}

#[tokio::test]
async fn no_payload_before_finish_carries_a_key_or_option_points() {
    let app = TestApp::spawn(Setup::skd(1)).await;
    let mut c = app.candidate(1).await;
    assert_no_key(&c.welcome, "welcome");
    let mut stems = BTreeSet::new();
    for i in 0..110 {
        app.clock.advance(100);
        let q = c.get(i).await;
        assert_no_key(&q, "question");
        stems.insert((q["stem"].as_str().expect("stem").to_owned(), q["image"].as_str().map(str::to_owned)));
        let ack = c.answer(i, Some("A")).await;
        assert_no_key(&ack, "ack");
    }
    assert_eq!(stems.len(), 110);
}

#[tokio::test]
async fn a_flood_from_one_connection_is_limited_and_others_carry_on() {
    let app = TestApp::spawn(Setup::tiny(2)).await;
    let mut flooder = app.candidate(1).await;
    let mut other = app.candidate(2).await;
    for _ in 0..300 {
        flooder.send(json!({ "type": "ping" })).await;
    }
    let mut pongs = 0;
    let mut limited = 0;
    for _ in 0..300 {
        match flooder.recv().await["type"].as_str() {
            Some("pong") => pongs += 1,
            Some("error") => limited += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    // The server's clock stands still in tests, so the allowance does not refill.
    assert_eq!(pongs, 120, "the burst allowance");
    assert_eq!(limited, 180);
    // The other candidate is not affected.
    assert_eq!(other.answer(0, Some("A")).await["type"], "ack");
    app.clock.advance(10_000);
    flooder.send(json!({ "type": "ping" })).await;
    assert_eq!(flooder.recv().await["type"], "pong", "the allowance refills with time");
}

#[tokio::test]
async fn a_message_refused_for_rate_limiting_is_named_by_its_seq_and_goes_through_later() {
    let app = TestApp::spawn(Setup::skd(1)).await;
    let mut c = app.candidate(1).await;
    // The server's clock stands still: the burst allowance is all there is. Everything is
    // sent before anything is read, as a page that falls behind does.
    let first = c.seq + 1;
    for i in 0..130 {
        let seq = first + i;
        let msg = json!({ "type": "flag", "seq": seq, "index": i % 100, "flagged": true });
        c.send(msg).await;
    }
    let mut acked = Vec::new();
    let mut refused = Vec::new();
    while acked.len() + refused.len() < 130 {
        let m = c.recv().await;
        match m["type"].as_str() {
            Some("ack") => acked.push(m["seq"].as_i64().expect("seq")),
            Some("error") => {
                assert_eq!(m["code"], "rate_limited", "{m}");
                refused.push(m["seq"].as_i64().expect("a refusal names the message's seq"));
            }
            _ => {}
        }
    }
    assert!(!refused.is_empty(), "the burst is limited");
    let last_acked = acked.iter().max().copied().expect("acks");
    assert!(refused.iter().all(|s| *s > last_acked), "the refused come after the acknowledged");
    // A second later there is room again: the first refused one, sent again, is stored.
    app.clock.advance(1_000);
    c.send(json!({ "type": "flag", "seq": refused[0], "index": (refused[0] - first) % 100, "flagged": true })).await;
    let again = c.recv().await;
    assert_eq!((again["type"].as_str(), again["seq"].as_i64()), (Some("ack"), Some(refused[0])), "{again}");
}
