//! The board as an answer-key oracle, and the other things a candidate or an outsider can
//! observe while a session runs: what they see must not depend on the options chosen.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::{Value, json};
use server::clock::Clock as _;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::board::Feed;
use crate::helpers::{Setup, TestApp, best_and_worst, databases};

type Monitor = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open_monitor(app: &TestApp, staff_token: &str) -> Monitor {
    let mut req = format!("ws://{}/ws/monitor/T-1", app.addr).into_client_request().expect("req");
    req.headers_mut().insert("authorization", format!("Bearer {staff_token}").parse().expect("hdr"));
    tokio_tungstenite::connect_async(req).await.expect("monitor").0
}

/// The monitor's next frame, within a bound.
async fn monitor_next(monitor: &mut Monitor) -> Value {
    let m = tokio::time::timeout(Duration::from_secs(20), monitor.next())
        .await
        .expect("a monitor frame in time")
        .expect("open")
        .expect("frame");
    serde_json::from_str(m.to_text().expect("text")).expect("json")
}

/// `v` without the fields that are progress or time, which may change with any answer
/// whatever its option (and the board's version, which counts frames).
fn masked(v: &Value, fields: &[&str]) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        for f in fields {
            o.remove(*f);
        }
    }
    v
}

/// Everything a watcher received about each session, masked: by session id, every
/// distinct payload.
#[derive(Default)]
struct Seen(BTreeMap<String, BTreeSet<String>>);

impl Seen {
    fn note(&mut self, what: &str, row: &Value, mask: &[&str]) {
        let id = row["id"].as_str().or(row["session"].as_str()).expect("a session id").to_owned();
        self.0.entry(format!("{what} {id}")).or_default().insert(masked(row, mask).to_string());
    }

    /// Every watcher saw one thing per session, whatever was answered.
    #[track_caller]
    fn assert_constant(&self, db: &str) {
        for (who, values) in &self.0 {
            assert_eq!(
                values.len(),
                1,
                "{db}: {who} received payloads that differ with the options chosen: {values:#?}"
            );
        }
    }
}

const ROW_PROGRESS: &[&str] = &["answered"];
const SEAT_PROGRESS: &[&str] = &["answered", "remaining_ms"];

#[tokio::test]
async fn a_candidate_cycling_options_learns_nothing_from_the_board_its_feed_or_the_monitor() {
    for db in databases() {
        let tag = format!("{db:?}");
        // The attacker, and a second candidate whose answers mark where each step's
        // frames end (their row's progress moves, so a delta is due).
        let app = TestApp::spawn(Setup::skd(2).on(db)).await;
        let sup = app.staff("sup1").await;
        let mut attacker = app.candidate(1).await;
        let mut marker = app.candidate(2).await;
        let session = "T-1.P-0001";
        let key = best_and_worst(&app, session).await;
        let mut feed = Feed::open(&app, "/api/v1/boards/sitting/T-1/feed").await;
        let mut monitor = open_monitor(&app, &sup).await;
        let mut seen = Seen::default();

        let (event, snap) = feed.next().await;
        assert_eq!(event, "snapshot", "{tag}");
        assert_eq!(snap["board"]["exam"]["running"], "progress", "{tag}: the default policy");
        for row in snap["rows"].as_array().expect("rows") {
            seen.note("feed snapshot", row, ROW_PROGRESS);
        }
        let mut marked = 0;
        let mut scored_steps = 0;
        for (q, (keyed, ..)) in key.iter().enumerate().take(10) {
            let question = attacker.get(q).await;
            let labels: Vec<String> = question["options"]
                .as_array()
                .expect("options")
                .iter()
                .map(|o| o["label"].as_str().expect("label").to_owned())
                .collect();
            assert!(labels.len() >= 2, "{tag}: {question}");
            for label in &labels {
                // A patient attacker: far enough apart that no irregularity is reported,
                // so the monitor has nothing to say about the answers themselves.
                app.clock.advance(31_000);
                let ack = attacker.answer(q, Some(label)).await;
                assert_eq!(ack["type"], "ack", "{tag}: {ack}");
                scored_steps += usize::from(label == keyed);

                // The step's frames end with the delta carrying the marker's next answer.
                marked += 1;
                assert_eq!(marker.answer(marked - 1, Some("A")).await["type"], "ack", "{tag}");
                loop {
                    let (event, frame) = feed.next().await;
                    let rows = frame["rows"].as_array().expect("rows");
                    for row in rows {
                        seen.note(&format!("feed {event}"), row, ROW_PROGRESS);
                    }
                    let done = event == "delta"
                        && rows.iter().any(|r| r["id"] == "T-1.P-0002" && r["answered"] == marked as u64);
                    if done {
                        break;
                    }
                }
                let board: Value = reqwest::get(app.http("/api/v1/boards/sitting/T-1"))
                    .await
                    .expect("snapshot")
                    .json()
                    .await
                    .expect("json");
                for row in board["rows"].as_array().expect("rows") {
                    seen.note("snapshot", row, ROW_PROGRESS);
                }
                let detail: Value = reqwest::Client::new()
                    .get(app.http("/api/v1/sittings/T-1"))
                    .bearer_auth(&sup)
                    .send()
                    .await
                    .expect("seats")
                    .json()
                    .await
                    .expect("json");
                for seat in detail["seats"].as_array().expect("seats") {
                    seen.note("seat view", seat, SEAT_PROGRESS);
                }
            }
        }
        assert_eq!(scored_steps, 10, "{tag}: the keyed option of every question was among those tried");

        // The monitor's stream: every seats frame up to one showing the whole attack, and
        // every event, as received.
        loop {
            let frame = monitor_next(&mut monitor).await;
            match frame["type"].as_str() {
                Some("seats") => {
                    let seats = frame["seats"].as_array().expect("seats");
                    for seat in seats {
                        seen.note("monitor seat", seat, SEAT_PROGRESS);
                    }
                    if seats.iter().any(|s| s["session"] == session && s["answered"] == 10) {
                        break;
                    }
                }
                Some("event") => {
                    let ev = &frame["event"];
                    seen.note(&format!("monitor event {}", ev["kind"]), ev, &["at"]);
                }
                _ => panic!("{tag}: unexpected monitor frame {frame}"),
            }
        }
        seen.assert_constant(&tag);
        let feed_rows = &seen.0[&format!("feed delta {session}")];
        let row: Value = serde_json::from_str(feed_rows.first().expect("a row")).expect("json");
        assert_eq!(row["status"], "active", "{tag}");
        assert!(row.get("total").is_none() && row.get("scores").is_none() && row.get("rank").is_none(), "{tag}: {row}");

        // The finish publishes the score at once.
        let (_, finished) = attacker.finish().await;
        // `offset` asks for a page built now, not the feed's cached one (a tick behind).
        let board: Value = reqwest::get(app.http("/api/v1/boards/sitting/T-1?offset=0"))
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        let row = board["rows"].as_array().expect("rows").iter().find(|r| r["id"] == session).expect("row").clone();
        assert_eq!((&row["total"], &row["rank"], &row["status"]), (&finished["total"], &json!(1), &json!("finished")));
    }
}

/// A row of the sitting's board, as a viewer gets it now (`offset` asks for a page built
/// for the request, not the feed's cached one, which may be a tick behind).
async fn board_row(app: &TestApp, session: &str) -> Value {
    let board: Value =
        reqwest::get(app.http("/api/v1/boards/sitting/T-1?offset=0")).await.expect("get").json().await.expect("json");
    board["rows"].as_array().expect("rows").iter().find(|r| r["id"] == session).expect("row").clone()
}

#[tokio::test]
async fn an_interval_board_shows_running_scores_only_as_stored_at_each_mark() {
    const MINUTE: u64 = 60_000;
    let app = TestApp::spawn(Setup::skd(1).board("running = \"interval\"\ninterval_minutes = 5")).await;
    let session = "T-1.P-0001";
    let key = best_and_worst(&app, session).await;
    let mut c = app.candidate(1).await;
    let registry = &app.state.registry;
    // The sweep that takes the marks is run here directly, so each read below follows it.
    let sweep_and_read = async || {
        registry.sweep_deadlines().await;
        board_row(&app, session).await
    };
    assert_eq!(c.answer(0, Some(&key[0].0)).await["type"], "ack");
    let row = sweep_and_read().await;
    assert_eq!((row["answered"].as_u64(), row.get("total")), (Some(1), None), "before any mark: no score: {row}");
    assert_eq!(row["status"], "active");

    // To the next whole five minutes of the server's UTC clock.
    let utc = u64::try_from(app.clock.utc().timestamp_millis()).expect("after 1970");
    let to_mark = 5 * MINUTE - utc % (5 * MINUTE);
    app.clock.advance(to_mark);
    let row = sweep_and_read().await;
    assert_eq!(row["total"].as_i64(), Some(key[0].2), "at the mark: the score as stored then: {row}");
    assert!(row["rank"].is_number(), "a running score that is shown is ranked: {row}");

    // An answer after the mark moves the progress, not the score, until the next mark.
    assert_eq!(c.answer(1, Some(&key[1].0)).await["type"], "ack");
    for _ in 0..4 {
        app.clock.advance(MINUTE);
        let row = sweep_and_read().await;
        assert_eq!((row["answered"].as_u64(), row["total"].as_i64()), (Some(2), Some(key[0].2)), "{row}");
    }
    app.clock.advance(MINUTE);
    let row = sweep_and_read().await;
    assert_eq!(row["total"].as_i64(), Some(key[0].2 + key[1].2), "the next mark: {row}");

    let (_, finished) = c.finish().await;
    let row = board_row(&app, session).await;
    assert_eq!((&row["total"], &row["status"]), (&finished["total"], &json!("finished")), "the finish shows at once");
}

#[tokio::test]
async fn a_live_board_warns_that_it_is_an_answer_key_oracle_at_start_and_in_exam_check() {
    let app = TestApp::spawn(Setup::tiny(1).board(crate::helpers::LIVE_BOARD)).await;
    assert_eq!(app.exam_warnings.len(), 1, "{:?}", app.exam_warnings);
    assert!(app.exam_warnings[0].contains("exam TINY"), "{:?}", app.exam_warnings);
    assert!(app.exam_warnings[0].contains("answer-key oracle"), "{:?}", app.exam_warnings);
    let quiet = TestApp::spawn(Setup::tiny(1)).await;
    assert_eq!(quiet.exam_warnings, Vec::<String>::new(), "the default policy warns of nothing");

    // `ujian exam check` of the same exam with a live board.
    let dir = tempfile::tempdir().expect("tmp");
    let fixture = crate::helpers::repo("crates/item-bank/tests/fixtures");
    let text = std::fs::read_to_string(fixture.join("tiny-exam.toml"))
        .expect("read")
        .replace("bank = \"tiny\"", &format!("bank = {:?}", fixture.join("tiny").display().to_string()))
        + "\n[board]\nrunning = \"live\"\n";
    let path = dir.path().join("live.toml");
    std::fs::write(&path, text).expect("write");
    let check = |path: &std::path::Path| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ujian"))
            .args(["exam", "check", &path.display().to_string()])
            .output()
            .expect("run ujian");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = check(&path);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("board while running: live scores"), "{out}");
    assert!(
        err.contains("warning: exam TINY has [board] running = \"live\"") && err.contains("answer-key oracle"),
        "{err}"
    );
    let (code, out, err) = check(&fixture.join("tiny-exam.toml"));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("board while running: progress only"), "{out}");
    assert!(!err.contains("warning"), "{err}");
}

#[tokio::test]
async fn cycling_one_question_through_its_options_is_reported_once_and_exported() {
    for db in databases() {
        let tag = format!("{db:?}");
        let app = TestApp::spawn(Setup::tiny(2).on(db)).await;
        let sup = app.staff("sup1").await;
        let mut monitor = open_monitor(&app, &sup).await;
        let mut c = app.candidate(1).await;
        // A question with three options (the tiny exam also has one with two).
        let mut q = 0;
        while c.get(q).await["options"].as_array().map(Vec::len) != Some(3) {
            q += 1;
        }
        // Two options back and forth is changing one's mind; the third different option
        // within the minute is cycling, reported once however many follow.
        for label in ["A", "B", "A", "C", "B", "C"] {
            assert_eq!(c.answer(q, Some(label)).await["type"], "ack", "{tag}");
        }
        // Another candidate who changes their mind once is not reported.
        let mut other = app.candidate(2).await;
        other.answer(0, Some("A")).await;
        other.answer(0, Some("B")).await;
        // The monitor's events come in order: this one closes what the answers caused.
        let seq = c.next_seq();
        c.send(json!({ "type": "event", "seq": seq, "kind": "focus_lost", "client_ts": 1 })).await;
        assert_eq!(c.recv().await["type"], "ack", "{tag}");
        c.finish().await;
        let mut cycling = Vec::new();
        let until = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            assert!(tokio::time::Instant::now() < until, "{tag}: the monitor never sent the closing event");
            let frame = monitor_next(&mut monitor).await;
            if frame["type"] != "event" {
                continue;
            }
            let ev = &frame["event"];
            if ev["kind"] == "answer_cycling" {
                cycling.push(ev.clone());
            }
            if ev["kind"] == "focus_lost" {
                break;
            }
        }
        assert_eq!(cycling.len(), 1, "{tag}: one event, not one per answer: {cycling:?}");
        assert_eq!((&cycling[0]["participant_no"], &cycling[0]["by"]), (&json!("P-0001"), &json!("server")), "{tag}");
        let detail = format!("question {} answered with several different options within a minute", q + 1);
        assert_eq!(cycling[0]["detail"], detail, "{tag}");

        // The sitting is still open: a provisional export.
        let options = server::results::Options { openings: None, multiplier: 1, provisional: true };
        let export = server::results::export(app.store(), server::results::Scope::Sitting("T-1"), options)
            .await
            .expect("export");
        let by_no: BTreeMap<&str, usize> =
            export.lines.iter().map(|l| (l.participant_no.as_str(), l.answer_cycling)).collect();
        assert_eq!(by_no, BTreeMap::from([("P-0001", 1), ("P-0002", 0)]), "{tag}");
        let csv = server::results::to_csv(&export).expect("csv");
        let header = csv.lines().next().expect("header");
        assert!(header.ends_with(",answer_cycling,irregularities"), "{tag}: {header}");
    }
}

#[tokio::test]
async fn no_question_is_sent_while_paused_or_after_the_finish() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let sup = app.staff("sup1").await;
    let mut c = app.candidate(1).await;
    assert_eq!(c.get(0).await["type"], "question");
    let (status, _) = app.act(&sup, "/api/v1/sessions/T-1.P-0001/pause", json!({ "reason": "power cut" })).await;
    assert_eq!(status, 200);
    assert_eq!(c.recv().await["type"], "paused");
    let refused = c.get(1).await;
    assert_eq!((&refused["type"], &refused["code"]), (&json!("error"), &json!("paused")), "{refused}");
    let (status, _) = app.act(&sup, "/api/v1/sessions/T-1.P-0001/resume", json!({ "reason": "power back" })).await;
    assert_eq!(status, 200);
    assert_eq!(c.recv().await["type"], "resumed");
    assert_eq!(c.get(1).await["type"], "question", "after the resume, questions again");
    c.finish().await;
    let refused = c.get(1).await;
    assert_eq!((&refused["type"], &refused["code"]), (&json!("error"), &json!("finished")), "{refused}");
}

#[tokio::test]
async fn a_candidate_cannot_make_the_monitor_show_a_server_event() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let sup = app.staff("sup1").await;
    let mut monitor = open_monitor(&app, &sup).await;
    let mut c = app.candidate(1).await;
    for kind in ["finished", "taken_over", "answer_cycling", "connected", "focus_lost\u{0}", ""] {
        let seq = c.next_seq();
        c.send(json!({ "type": "event", "seq": seq, "kind": kind, "client_ts": 1 })).await;
        let reply = c.recv().await;
        assert_eq!(
            (&reply["type"], &reply["code"], &reply["seq"]),
            (&json!("error"), &json!("bad_message"), &json!(seq)),
            "{kind:?}: {reply}"
        );
        assert!(reply["message"].as_str().is_some_and(|m| m.contains("focus_lost")), "the kinds there are: {reply}");
    }
    // Refused ones were not stored: the log holds the allowed one only.
    let seq = c.next_seq();
    c.send(json!({ "type": "event", "seq": seq, "kind": "fullscreen_exit", "client_ts": 1 })).await;
    assert_eq!(c.recv().await["type"], "ack");
    let log = app.store().answer_log("T-1.P-0001").await.expect("log");
    let events: Vec<Option<&str>> = log.iter().filter(|e| e.action == "event").map(|e| e.choice.as_deref()).collect();
    assert_eq!(events, [Some("fullscreen_exit")]);
    let mut seen = Vec::new();
    loop {
        let frame = monitor_next(&mut monitor).await;
        if frame["type"] != "event" {
            continue;
        }
        let ev = frame["event"].clone();
        let last = ev["kind"] == "fullscreen_exit";
        seen.push((ev["kind"].as_str().map(str::to_owned), ev["by"].as_str().map(str::to_owned)));
        if last {
            break;
        }
    }
    let s = |k: &str, by: &str| (Some(k.to_owned()), Some(by.to_owned()));
    assert_eq!(seen, [s("connected", "server"), s("fullscreen_exit", "candidate")]);
}
