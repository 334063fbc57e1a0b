//! The public board: running scores, ranks, the coalesced live feed.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Db, LIVE_BOARD, Setup, TestApp, best_and_worst, databases, participant};

/// A Server-Sent Events reader over a streaming HTTP response.
pub(crate) struct Feed {
    resp: reqwest::Response,
    buf: String,
}

impl Feed {
    pub(crate) async fn open(app: &TestApp, path: &str) -> Feed {
        let resp = reqwest::get(app.http(path)).await.expect("feed");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        assert_eq!(resp.headers()["cache-control"], "no-cache", "no cache may hold a live feed");
        Feed { resp, buf: String::new() }
    }

    /// The next event: (name, JSON data).
    pub(crate) async fn next(&mut self) -> (String, Value) {
        // One bound for the event, not for each chunk: keep-alive comments keep coming
        // whether or not the board ever moves.
        let until = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut event = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue; // keep-alive comment
                }
                return (event, serde_json::from_str(&data).expect("event json"));
            }
            let chunk = tokio::time::timeout_at(until, self.resp.chunk())
                .await
                .expect("an event in time")
                .expect("read")
                .expect("stream open");
            self.buf.push_str(std::str::from_utf8(&chunk).expect("utf8"));
        }
    }
}

/// Rows by id, as a viewer holds them.
fn apply(state: &mut BTreeMap<String, Value>, rows: &Value) {
    for row in rows.as_array().expect("rows") {
        let mut row = row.clone();
        row.as_object_mut().expect("object").remove("rank");
        state.insert(row["id"].as_str().expect("id").to_owned(), row);
    }
}

/// The board's order as a client computes it (docs/protocol.md): rows with a total by
/// total, then tie-break sections; then started rows without one by answers; then rows
/// not started; then id. Competition ranks for rows with a total, none for the others.
fn order(state: &BTreeMap<String, Value>, sections: &[String], tie_break: &[String]) -> Vec<(String, Option<usize>)> {
    let key = |r: &Value| {
        let Some(total) = r["total"].as_i64() else {
            let tier = if r["status"] == "ready" { 2 } else { 1 };
            return vec![tier, -r["answered"].as_i64().expect("answered")];
        };
        let mut k = vec![0, -total];
        for t in tie_break {
            let i = sections.iter().position(|s| s == t).expect("section");
            k.push(-r["scores"][i].as_i64().expect("score"));
        }
        k
    };
    let mut rows: Vec<&Value> = state.values().collect();
    rows.sort_by(|a, b| (key(a), a["id"].as_str()).cmp(&(key(b), b["id"].as_str())));
    let mut out: Vec<(String, Option<usize>)> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let rank = if r["total"].is_null() {
            None
        } else if i > 0 && key(rows[i - 1]) == key(r) {
            out.last().and_then(|(_, k)| *k)
        } else {
            Some(i + 1)
        };
        out.push((r["id"].as_str().expect("id").to_owned(), rank));
    }
    out
}

#[tokio::test]
async fn a_viewer_sees_running_scores_move_and_a_late_viewer_gets_the_same_state() {
    let app = TestApp::spawn(Setup::skd(3).board(LIVE_BOARD)).await;
    let mut feed = Feed::open(&app, "/api/v1/boards/sitting/T-1/feed").await;
    let (event, snap) = feed.next().await;
    assert_eq!(event, "snapshot");
    assert_eq!(snap["rows"].as_array().map(Vec::len), Some(3));
    assert!(
        snap["rows"].as_array().expect("rows").iter().all(|r| r["status"] == "ready" && r["total"].is_null()),
        "not started: no score, not shown as failing: {snap}"
    );
    assert_eq!(snap["board"]["exam"]["running"], "live");
    let sections: Vec<String> = snap["board"]["exam"]["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .map(|s| s["code"].as_str().expect("code").to_owned())
        .collect();
    let tie_break: Vec<String> = snap["board"]["exam"]["tie_break"]
        .as_array()
        .expect("tb")
        .iter()
        .map(|s| s.as_str().expect("code").to_owned())
        .collect();
    assert_eq!(snap["board"]["exam"]["names"], "masked");
    assert_eq!(snap["rows"][0]["name"], "P****** 1", "names are masked as the exam says");
    let mut state = BTreeMap::new();
    apply(&mut state, &snap["rows"]);
    let mut version = snap["version"].as_u64().expect("version");

    // Candidate 2 answers five questions right: the viewer sees P-0002 move to the top
    // with 25 points, before anyone finishes.
    let mut c2 = app.candidate(2).await;
    let key = best_and_worst(&app, "T-1.P-0002").await;
    for (i, (best, ..)) in key.iter().enumerate().take(5) {
        assert_eq!(c2.answer(i, Some(best)).await["type"], "ack");
    }
    let mut frames = 0;
    loop {
        let (event, delta) = feed.next().await;
        assert_eq!(event, "delta");
        let v = delta["version"].as_u64().expect("version");
        assert!(v > version, "versions only grow");
        version = v;
        frames += 1;
        apply(&mut state, &delta["rows"]);
        if state["T-1.P-0002"]["total"] == 25 {
            break;
        }
    }
    assert!(frames <= 6, "{frames} frames for 6 changes: deltas are coalesced per tick");
    assert_eq!(state["T-1.P-0002"]["status"], "active");
    let ranked = order(&state, &sections, &tie_break);
    assert_eq!(ranked[0], ("T-1.P-0002".to_owned(), Some(1)));
    assert_eq!(
        ranked[1..],
        [("T-1.P-0001".to_owned(), None), ("T-1.P-0003".to_owned(), None)],
        "not started: unranked"
    );

    // Candidates 1 and 3 answer and finish; 2 finishes too.
    for i in [1usize, 3] {
        let mut c = app.candidate(i).await;
        let key = best_and_worst(&app, &format!("T-1.{}", participant(i))).await;
        for (q, (best, worst, ..)) in key.iter().enumerate().take(12) {
            let pick = if (q + i) % 3 == 0 { worst } else { best };
            c.answer(q, Some(pick)).await;
        }
        let (_, finished) = c.finish().await;
        assert_eq!(finished["type"], "finished");
    }
    let (_, finished2) = c2.finish().await;
    let total2 = finished2["total"].as_i64().expect("total");
    loop {
        let (_, delta) = feed.next().await;
        apply(&mut state, &delta["rows"]);
        if state.values().all(|r| r["status"] == "finished") {
            break;
        }
    }
    assert_eq!(state["T-1.P-0002"]["total"], total2);

    // A viewer arriving now gets a snapshot equal to what the first one built from deltas.
    let late: Value =
        reqwest::get(app.http("/api/v1/boards/sitting/T-1")).await.expect("get").json().await.expect("json");
    let mut late_state = BTreeMap::new();
    apply(&mut late_state, &late["rows"]);
    assert_eq!(late_state, state);
    let server_order: Vec<(String, Option<usize>)> = late["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| (r["id"].as_str().expect("id").to_owned(), r["rank"].as_u64().map(|r| r as usize)))
        .collect();
    assert_eq!(server_order, order(&state, &sections, &tie_break));

    // The venue and exam boards carry the same rows.
    let exam: Value =
        reqwest::get(app.http("/api/v1/boards/exam/SKD-2026")).await.expect("get").json().await.expect("json");
    assert_eq!(exam["total_rows"], 3);
    let venue: Value = reqwest::get(app.http("/api/v1/boards/venue/Test?exam=SKD-2026"))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(venue["rows"], late["rows"]);
    let list: Value = reqwest::get(app.http("/api/v1/boards")).await.expect("get").json().await.expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn the_board_survives_a_restart_with_final_and_running_scores() {
    let app = TestApp::spawn(Setup::tiny(2).board(LIVE_BOARD)).await;
    let mut c1 = app.candidate(1).await;
    c1.answer(0, Some("A")).await;
    c1.finish().await;
    let mut c2 = app.candidate(2).await;
    let key = best_and_worst(&app, "T-1.P-0002").await;
    c2.answer(0, Some(&key[0].0)).await;
    // Pages chosen with an offset are built for the request: they show the board as it is
    // now, where the first page (cached per board version) may be a tick behind.
    let before: Value =
        reqwest::get(app.http("/api/v1/boards/sitting/T-1?offset=0")).await.expect("get").json().await.expect("json");
    drop((c1, c2));
    let app = app.restart("crates/item-bank/tests/fixtures/tiny-exam.toml").await;
    let after: Value =
        reqwest::get(app.http("/api/v1/boards/sitting/T-1?offset=0")).await.expect("get").json().await.expect("json");
    assert_eq!(after["rows"], before["rows"]);
    assert_eq!(after["board"]["exam"]["names"], "full");
    assert_eq!(after["rows"][0]["name"].as_str().map(|n| n.starts_with("Peserta")), Some(true));
}

/// A candidate's row on the sitting's board as it is now (a page chosen with an offset is
/// built for the request): (answered, total).
async fn board_row(app: &TestApp, session: &str) -> (i64, i64) {
    let board: Value =
        reqwest::get(app.http("/api/v1/boards/sitting/T-1?offset=0")).await.expect("get").json().await.expect("json");
    let row = board["rows"].as_array().expect("rows").iter().find(|r| r["id"] == session).expect("row").clone();
    (row["answered"].as_i64().expect("answered"), row["total"].as_i64().unwrap_or(0))
}

#[tokio::test]
async fn the_board_shows_an_answer_only_once_it_is_stored() {
    for db in databases() {
        let app = TestApp::spawn(Setup::tiny(1).on(db).board(LIVE_BOARD)).await;
        let session = "T-1.P-0001";
        let key = best_and_worst(&app, session).await;
        let mut c = app.candidate(1).await;
        // Logged in now: a login is written, and the write lock is about to be held.
        let sup = app.staff("sup1").await;
        assert_eq!(board_row(&app, session).await, (0, 0), "{db:?}");
        // The ack marks the row for the board's next read, which (unless the board ticks
        // in between) comes while the next answer is still being committed.
        assert_eq!(c.answer(0, Some(&key[0].0)).await["type"], "ack", "{db:?}");

        // Hold the database's write lock, as a long checkpoint or a slow disk would: the
        // next answer is applied in memory and waits for its commit.
        let mut holder = app.store().pool().acquire().await.expect("connection");
        let hold: &[&str] = match db {
            Db::Sqlite => &["BEGIN IMMEDIATE"],
            Db::Postgres => &["BEGIN", "LOCK TABLE answer_log IN EXCLUSIVE MODE"],
        };
        for sql in hold {
            sqlx::query(*sql).execute(&mut *holder).await.expect("hold the write lock");
        }
        let seq = c.next_seq();
        c.send(json!({ "type": "answer", "seq": seq, "index": 1, "choice": key[1].0 })).await;
        // The supervisor's seat view reads the session in memory: once it counts the
        // answer, the answer is applied and its commit is waiting.
        // Well within the writer's busy timeout on SQLite (10 s), after which its commit
        // would fail instead of waiting.
        let until = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let detail: Value = reqwest::Client::new()
                .get(app.http("/api/v1/sittings/T-1"))
                .bearer_auth(&sup)
                .send()
                .await
                .expect("seats")
                .json()
                .await
                .expect("json");
            if detail["seats"][0]["answered"] == 2 {
                break;
            }
            assert!(tokio::time::Instant::now() < until, "{db:?}: the answer was never applied: {detail}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(board_row(&app, session).await, (1, key[0].2), "{db:?}: the board shows only what is stored");

        sqlx::query("ROLLBACK").execute(&mut *holder).await.expect("release");
        drop(holder);
        let ack = c.recv().await;
        assert_eq!((ack["type"].clone(), ack["seq"].clone()), (json!("ack"), json!(seq)), "{db:?}: {ack}");
        assert_eq!(board_row(&app, session).await, (2, key[0].2 + key[1].2), "{db:?}: stored, then shown");
    }
}

#[tokio::test]
async fn unknown_boards_are_404_with_a_code() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    for path in ["/api/v1/boards/sitting/NOPE", "/api/v1/boards/planet/T-1", "/api/v1/boards/venue/Test"] {
        let resp = reqwest::get(app.http(path)).await.expect("get");
        assert_eq!(resp.status(), 404, "{path}");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["error"]["code"], "unknown_board", "{path}");
    }
}

#[tokio::test]
async fn only_finished_results_are_ranked_and_the_board_says_when_its_sitting_ends() {
    let app = TestApp::spawn(Setup::tiny(4)).await;
    let sup = app.staff("sup1").await;
    // P-0001 finishes with one best answer; P-0002 answers everything best and is
    // disqualified; P-0003 is still working; P-0004 never starts.
    let mut c1 = app.candidate(1).await;
    let key = best_and_worst(&app, "T-1.P-0001").await;
    c1.answer(0, Some(&key[0].0)).await;
    c1.finish().await;
    let mut c2 = app.candidate(2).await;
    let key = best_and_worst(&app, "T-1.P-0002").await;
    for (i, (best, ..)) in key.iter().enumerate() {
        assert_eq!(c2.answer(i, Some(best)).await["type"], "ack");
    }
    let (status, _) = app.act(&sup, "/api/v1/sessions/T-1.P-0002/terminate", json!({ "reason": "joki" })).await;
    assert_eq!(status, 200);
    let mut c3 = app.candidate(3).await;
    c3.answer(0, Some("A")).await;
    app.clock.advance(60_000);

    let board: Value =
        reqwest::get(app.http("/api/v1/boards/sitting/T-1?offset=0")).await.expect("get").json().await.expect("json");
    let now_ms = server::clock::Clock::utc(&*app.clock).timestamp_millis();
    assert_eq!(board["server_ms"], now_ms, "a page says when it was made, on the server's clock");
    let rows: Vec<(&str, &Value, &Value)> = board["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| (r["participant_no"].as_str().expect("no"), &r["rank"], &r["status"]))
        .collect();
    assert_eq!(
        rows,
        [
            ("P-0001", &json!(1), &json!("finished")),
            ("P-0003", &Value::Null, &json!("active")),
            ("P-0004", &Value::Null, &json!("ready")),
            ("P-0002", &Value::Null, &json!("finished")),
        ],
        "{board}"
    );
    let row = |no: &str| board["rows"].as_array().expect("rows").iter().find(|r| r["participant_no"] == no).cloned();
    // The disqualified row keeps its reason; its score is no result and earns no rank.
    assert_eq!(row("P-0002").expect("row")["reason"], "terminated");
    // The sitting started when the test began and lasts ten minutes, one of which has
    // passed: nine minutes left, one value for the board.
    // (The sitting was prepared a moment before the server's clock was made.)
    let ends = board["ends_ms"].as_i64().expect("the sitting's end");
    assert!((ends - (now_ms + 9 * 60_000)).abs() < 1_000, "{board}");
}

#[tokio::test]
async fn the_public_board_does_not_tell_who_has_extra_time() {
    let app = TestApp::spawn(Setup::tiny(2)).await;
    let sup = app.staff("sup1").await;
    let mut feed = Feed::open(&app, "/api/v1/boards/sitting/T-1/feed").await;
    let (event, _) = feed.next().await;
    assert_eq!(event, "snapshot");
    // P-0001 gets an extension; P-0002 works to the sitting's time. Both answer one
    // question, the same one.
    let mut c1 = app.candidate(1).await;
    let mut c2 = app.candidate(2).await;
    assert_eq!(c1.answer(0, Some("A")).await["type"], "ack");
    assert_eq!(c2.answer(0, Some("A")).await["type"], "ack");
    let (status, _) =
        app.act(&sup, "/api/v1/sessions/T-1.P-0001/extend", json!({ "reason": "listrik padam", "minutes": 5 })).await;
    assert_eq!(status, 200);
    app.clock.advance(60_000);
    let start_ms = server::clock::Clock::utc(&*app.clock).timestamp_millis() - 60_000;

    // What a viewer holds after the feed's frames, and what a page and a new feed say.
    let mut frames = Vec::new();
    let mut held = BTreeMap::new();
    while held.len() < 2 || held.values().any(|r: &Value| r["answered"] != 1) {
        let (event, delta) = feed.next().await;
        assert_eq!(event, "delta");
        apply(&mut held, &delta["rows"]);
        frames.push(delta);
    }
    let page: Value =
        reqwest::get(app.http("/api/v1/boards/sitting/T-1?offset=0")).await.expect("get").json().await.expect("json");
    let (_, snap) = Feed::open(&app, "/api/v1/boards/sitting/T-1/feed").await.next().await;
    frames.extend([page, snap]);
    // The sitting's end (it was prepared a moment before the server's clock was made),
    // five minutes before P-0001's own.
    let ends = frames[0]["ends_ms"].as_i64().expect("the sitting's end");
    assert!((ends - (start_ms + 10 * 60_000)).abs() < 1_000, "{}", frames[0]);
    for frame in &frames {
        assert_eq!(frame["ends_ms"], ends, "one end for the board, in every frame: {frame}");
    }
    let public = |r: &Value| {
        let mut r = r.as_object().expect("row").clone();
        for field in ["id", "participant_no", "name"] {
            assert!(r.remove(field).is_some(), "{field}");
        }
        r
    };
    for frame in &frames[frames.len() - 2..] {
        let rows = frame["rows"].as_array().expect("rows");
        let by = |no: &str| rows.iter().find(|r| r["participant_no"] == no).expect("row");
        assert_eq!(public(by("P-0001")), public(by("P-0002")), "only public fields differ: {frame}");
        const PUBLIC: [&str; 12] = [
            "id",
            "participant_no",
            "name",
            "sitting",
            "venue",
            "scores",
            "total",
            "answered",
            "passed",
            "status",
            "reason",
            "rank",
        ];
        for row in rows {
            let extra: Vec<&String> =
                row.as_object().expect("row").keys().filter(|k| !PUBLIC.contains(&k.as_str())).collect();
            assert!(extra.is_empty(), "no field beyond the public ones: {extra:?} in {row}");
        }
    }
    let rows: Vec<&Value> = held.values().collect();
    assert_eq!(public(rows[0]), public(rows[1]), "the feed's rows differ only in public fields");
}
