//! Supervisor console: roles, scope, sitting control, the seat monitor, the audit trail.

use futures_util::StreamExt as _;
use serde_json::{Value, json};
use server::http::{Access, routes};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::helpers::{Candidate, PIN, Setup, TestApp, participant};

/// Fills a route's path parameters with ids that exist.
fn concrete(path: &str, app: &TestApp) -> String {
    let hash = app.bank.hash().to_hex();
    path.replace("/api/v1/boards/{kind}/{id}", "/api/v1/boards/sitting/T-1")
        .replace("/board/{kind}/{id}", "/board/sitting/T-1")
        .replace("/console/{sitting}", "/console/T-1")
        .replace("/static/{file}", "/static/common.js")
        .replace("/api/v1/assets/{hash}/{name}", &format!("/api/v1/assets/{hash}/dot.svg"))
        .replace("/api/v1/sittings/{id}/{action}", "/api/v1/sittings/T-1/open")
        .replace("/api/v1/sessions/{id}/{action}", "/api/v1/sessions/T-1.P-0001/checkin")
        .replace("/api/v1/sessions/{id}/unlock", "/api/v1/sessions/T-1.P-0001/unlock")
        .replace("/api/v1/staff/{username}/unlock", "/api/v1/staff/sup1/unlock")
        .replace("/api/v1/sittings/{id}/reports/{file}", "/api/v1/sittings/T-1/reports/integrity.json")
        .replace("/api/v1/exams/{code}/reports/{file}", "/api/v1/exams/{code}/reports/items.json")
        .replace("{id}", "T-1")
}

async fn call(app: &TestApp, method: &str, path: &str, token: Option<&str>) -> u16 {
    let client = reqwest::Client::new();
    let url = app.http(path);
    let mut req = match method {
        "GET" => client.get(&url),
        "POST" => client.post(&url).json(&json!({ "reason": "role matrix check" })),
        other => panic!("method {other}"),
    };
    if path.starts_with("/ws/") {
        req = req
            .header("connection", "upgrade")
            .header("upgrade", "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==");
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.expect("request");
    resp.status().as_u16()
}

#[tokio::test]
async fn every_route_allows_exactly_the_roles_it_should() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let candidate = app.candidate(1).await.token;
    let admin = app.staff("admin").await;
    let own = app.staff("sup1").await;
    let other = app.staff("sup2").await;
    // A supervisor lists only their sittings; the admin all.
    let list = |t: String| {
        let app = &app;
        async move {
            reqwest::Client::new()
                .get(app.http("/api/v1/sittings"))
                .bearer_auth(t)
                .send()
                .await
                .expect("get")
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    assert_eq!(list(other.clone()).await.as_array().map(Vec::len), Some(1));
    assert_eq!(list(other.clone()).await[0]["id"], "T-2");
    assert_eq!(list(admin.clone()).await.as_array().map(Vec::len), Some(2));
    let denied = |code: u16| code == 401 || code == 403;
    let mut checked = 0;
    // Logouts end the tokens: check them last.
    let mut all = routes();
    all.sort_by_key(|r| r.path.ends_with("/logout"));
    let exam = app.store().get_sitting("T-1").await.expect("read").expect("T-1").exam_code;
    for r in all {
        let path = concrete(r.path, &app).replace("{code}", &exam);
        let as_nobody = call(&app, r.method, &path, None).await;
        let as_candidate = call(&app, r.method, &path, Some(&candidate)).await;
        let as_other = call(&app, r.method, &path, Some(&other)).await;
        let as_own = call(&app, r.method, &path, Some(&own)).await;
        let as_admin = call(&app, r.method, &path, Some(&admin)).await;
        let cell = format!(
            "{} {path}: nobody {as_nobody}, candidate {as_candidate}, other supervisor {as_other}, own supervisor {as_own}, admin {as_admin}",
            r.method
        );
        match r.access {
            Access::Public => {
                assert!(!denied(as_nobody) || r.path.ends_with("/login"), "{cell}");
            }
            Access::Candidate => {
                assert_eq!(as_nobody, 401, "{cell}");
                assert!(!denied(as_candidate), "{cell}");
                assert_eq!(as_admin, 401, "staff tokens are not candidate tokens: {cell}");
            }
            Access::CandidateOrStaff => {
                assert_eq!(as_nobody, 401, "{cell}");
                // The candidate's own paper may not hold this image (then 404): never 401/403.
                assert!(!denied(as_candidate), "{cell}");
                for as_staff in [as_other, as_own, as_admin] {
                    assert_eq!(as_staff, 200, "staff see every image: {cell}");
                }
            }
            Access::Staff => {
                assert_eq!(as_nobody, 401, "{cell}");
                assert_eq!(as_candidate, 401, "{cell}");
                assert!(!denied(as_own), "{cell}");
                assert!(!denied(as_admin), "{cell}");
                let scoped = path.contains("T-1");
                if scoped {
                    assert_eq!(as_other, 403, "a supervisor of another sitting: {cell}");
                } else {
                    assert!(!denied(as_other), "{cell}");
                }
            }
            Access::Admin => {
                assert_eq!(as_nobody, 401, "{cell}");
                assert_eq!(as_candidate, 401, "{cell}");
                assert_eq!(as_own, 403, "{cell}");
                assert_eq!(as_other, 403, "{cell}");
                assert!(!denied(as_admin), "{cell}");
            }
        }
        checked += 1;
    }
    assert_eq!(checked, routes().len());
}

#[tokio::test]
async fn pause_resume_extend_and_terminate_reach_the_candidate_live() {
    let app = TestApp::spawn(Setup::tiny(2)).await;
    let sup = app.staff("sup1").await;
    let mut c = app.candidate(1).await;
    assert_eq!(c.answer(0, Some("A")).await["type"], "ack");
    app.clock.advance(60_000);

    // The whole room is paused (a power cut): the clock stops for every running seat.
    let (status, body) = app.act(&sup, "/api/v1/sittings/T-1/pause", json!({ "reason": "listrik padam" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["sessions"], 1);
    assert_eq!(c.recv().await["type"], "paused");
    let refused = c.answer(1, Some("A")).await;
    assert_eq!(refused["code"], "paused", "{refused}");
    app.clock.advance(30 * 60_000);
    // A candidate who logs in during the pause starts paused: their clock does not run.
    let c2 = app.candidate(2).await;
    assert_eq!(c2.welcome["status"], "paused");
    assert_eq!(c2.welcome["remaining_ms"], 10 * 60_000);
    let (status, _) = app.act(&sup, "/api/v1/sittings/T-1/resume", json!({ "reason": "listrik menyala" })).await;
    assert_eq!(status, 200);
    let resumed = c.recv().await;
    assert_eq!(resumed["type"], "resumed");
    assert_eq!(resumed["remaining_ms"], 9 * 60_000, "the pause was not charged");

    // Without a reason nothing happens.
    let (status, body) =
        app.act(&sup, "/api/v1/sessions/T-1.P-0001/extend", json!({ "reason": "", "minutes": 5 })).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("reason_required")));
    let (status, _) = app
        .act(&sup, "/api/v1/sessions/T-1.P-0001/extend", json!({ "reason": "komputer mati 5 menit", "minutes": 5 }))
        .await;
    assert_eq!(status, 200);
    let extended = c.recv().await;
    assert_eq!(extended["type"], "extended");
    assert_eq!(extended["remaining_ms"], 14 * 60_000);

    let (status, _) =
        app.act(&sup, "/api/v1/sessions/T-1.P-0001/terminate", json!({ "reason": "membawa catatan" })).await;
    assert_eq!(status, 200);
    let finished = c.recv().await;
    assert_eq!(finished["type"], "finished");
    assert_eq!(finished["reason"], "terminated");
    let (status, body) = app.act(&sup, "/api/v1/sessions/T-1.P-0001/resume", json!({ "reason": "coba lagi" })).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("finished")));

    // Everything is in the audit trail, with its reason, and the chain holds.
    let log = app.store().audit_log().await.expect("audit");
    let actions: Vec<&str> = log.iter().map(|r| r.action.as_str()).collect();
    for a in [
        "candidate.login",
        "staff.login",
        "session.paused",
        "sitting.pause",
        "session.resumed",
        "session.extended",
        "session.finished",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
    assert!(log.iter().any(|r| r.action == "session.extended" && r.detail.contains("komputer mati 5 menit")));
    assert_eq!(server::audit::verify(&log), Ok(log.len()));
}

#[tokio::test]
async fn the_seat_monitor_shows_seats_and_events_as_they_happen() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let sup = app.staff("sup1").await;
    let mut req = format!("ws://{}/ws/monitor/T-1", app.addr).into_client_request().expect("req");
    req.headers_mut().insert("authorization", format!("Bearer {sup}").parse().expect("hdr"));
    let (mut monitor, _) = tokio_tungstenite::connect_async(req).await.expect("monitor");
    let mut next = async || -> Value {
        let m = tokio::time::timeout(std::time::Duration::from_secs(10), monitor.next())
            .await
            .expect("in time")
            .expect("open")
            .expect("frame");
        serde_json::from_str(m.to_text().expect("text")).expect("json")
    };
    let first = next().await;
    assert_eq!(first["type"], "seats");
    assert_eq!(first["seats"][0]["participant_no"], "P-0001");
    assert_eq!(first["seats"][0]["connected"], false);

    let mut c = app.candidate(1).await;
    c.answer(0, Some("A")).await;
    c.answer(1, Some("A")).await; // no time between: faster than anyone reads
    c.send(json!({ "type": "event", "seq": c.seq + 1, "kind": "focus_lost", "client_ts": 1 })).await;
    let ack = c.recv().await;
    assert_eq!(ack["type"], "ack", "{ack}");
    let mut kinds = Vec::new();
    let mut seen_connected_seat = false;
    let mut seen = Vec::new();
    let mut grouped = Value::Null;
    while kinds.len() < 3 || !seen_connected_seat {
        assert!(seen.len() < 40, "the monitor never showed it all: {seen:?}");
        let m = next().await;
        seen.push(m.clone());
        match m["type"].as_str() {
            Some("event") => {
                kinds.push(m["event"]["kind"].as_str().expect("kind").to_owned());
                if m["event"]["kind"] == "irregularity" {
                    grouped = m["event"]["irregularity"].clone();
                } else {
                    assert!(m["event"].get("irregularity").is_none(), "only an irregularity carries one: {m}");
                }
            }
            Some("seats") => {
                let s = &m["seats"][0];
                if s["connected"] == true && s["answered"] == 2 {
                    assert_eq!(s["total"], 4);
                    assert_eq!(s["status"], "active");
                    seen_connected_seat = true;
                }
            }
            _ => {}
        }
    }
    // One grouped irregularity for the candidate, with its evidence, instead of an event per
    // fast answer.
    assert_eq!(kinds[..3], ["connected", "irregularity", "focus_lost"]);
    assert_eq!(
        grouped,
        json!({ "fast_answers": 1, "fastest_ms": 0, "cycled_questions": 0, "answers": 2, "score": 1 }),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_started_exam_moves_to_another_pc_only_with_the_supervisors_leave_and_stays_moved_after_a_restart() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let sup = app.staff("sup1").await;
    let mut c = app.candidate(1).await;
    c.answer(0, Some("A")).await;
    let old_token = c.token.clone();
    let resp = app.login(&participant(1), PIN, &app.token).await;
    assert_eq!(resp.status(), 403);
    assert_eq!(resp.json::<Value>().await.expect("json")["error"]["code"], "seat_locked");
    let (status, _) = app
        .act(&sup, "/api/v1/sessions/T-1.P-0001/allow-move", json!({ "reason": "PC 12 mati, pindah ke PC 30" }))
        .await;
    assert_eq!(status, 200);
    let moved = app.login(&participant(1), PIN, &app.token).await;
    assert_eq!(moved.status(), 200);
    let new_token = moved.json::<Value>().await.expect("json")["token"].as_str().expect("token").to_owned();
    let c2 = Candidate::connect(app.addr, &new_token).await;
    assert_eq!(c2.welcome["answers"], json!({ "0": "A" }));
    assert_eq!(c.recv().await["type"], "taken_over");
    // The old PC's login no longer works (it is told why), and the leave was used up.
    assert_eq!(crate::seats::first_frame(&app, &old_token).await["code"], "seat_locked");
    assert_eq!(app.login(&participant(1), PIN, &app.token).await.status(), 403);
    drop(c2);
    // A new process knows the move only from the store: the old login stays ended.
    let app = app.restart("crates/item-bank/tests/fixtures/tiny-exam.toml").await;
    let refused = crate::seats::first_frame(&app, &old_token).await;
    assert_eq!(refused["code"], "seat_locked", "the old PC's login ended with the move: {refused}");
    let c2 = Candidate::connect(app.addr, &new_token).await;
    assert_eq!(c2.welcome["answers"], json!({ "0": "A" }));
}

#[tokio::test]
async fn rotating_the_token_stops_the_old_one() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let admin = app.staff("admin").await;
    let (status, body) = app.act(&admin, "/api/v1/sittings/T-1/rotate-token", json!({ "reason": "token bocor" })).await;
    assert_eq!(status, 200);
    let token = body["token"].as_str().expect("token").to_owned();
    assert_ne!(token, app.token);
    assert_eq!(app.login(&participant(1), PIN, &app.token).await.status(), 401);
    assert_eq!(app.login(&participant(1), PIN, &token).await.status(), 200);
}

#[tokio::test]
async fn a_sitting_closed_from_the_console_refuses_logins_until_it_opens_again() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let admin = app.staff("admin").await;
    let (status, _) = app.act(&admin, "/api/v1/sittings/T-1/close", json!({ "reason": "sesi selesai" })).await;
    assert_eq!(status, 200);
    let resp = app.login(&participant(1), PIN, &app.token).await;
    assert_eq!(resp.status(), 403, "a closed room's seats are not logged in from memory either");
    let (status, _) = app.act(&admin, "/api/v1/sittings/T-1/open", json!({ "reason": "dibuka kembali" })).await;
    assert_eq!(status, 200);
    assert_eq!(app.login(&participant(1), PIN, &app.token).await.status(), 200);
}

/// The participants of T-1 checked in, in participant order.
async fn checked_in(app: &TestApp) -> Vec<String> {
    let rows = app.store().seats(crate::helpers::SITTING).await.expect("seats");
    rows.into_iter().filter(|r| r.checked_in_at.is_some()).map(|r| r.participant_no).collect()
}

#[tokio::test]
async fn a_bulk_check_in_names_every_unknown_number_and_checks_in_nobody_or_everyone_audited() {
    let app = TestApp::spawn(Setup::tiny(4)).await;
    let sup = app.staff("sup1").await;
    // Two unknown numbers among good ones: both named, nobody checked in.
    let body = json!({ "reason": "absen pagi", "participants": [participant(1), "P-9998", participant(2), "X-1"] });
    let (status, reply) = app.act(&sup, "/api/v1/sittings/T-1/checkin", body).await;
    assert_eq!(status, 404, "{reply}");
    let message = reply["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("P-9998") && message.contains("X-1"), "every unknown number named: {message}");
    assert!(checked_in(&app).await.is_empty(), "a refused bulk check-in checks in nobody");
    // Scanned numbers with blanks and a repeat: each checked in once, each audited.
    let body = json!({ "reason": "absen pagi", "participants": [participant(1), " ", participant(3), participant(1)] });
    let (status, reply) = app.act(&sup, "/api/v1/sittings/T-1/checkin", body).await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["sessions"], json!(["T-1.P-0001", "T-1.P-0003"]));
    assert_eq!(checked_in(&app).await, vec![participant(1), participant(3)]);
    let log = app.store().audit_log().await.expect("audit");
    assert_eq!(log.iter().filter(|r| r.action == "session.checkin").count(), 2, "one audit row a seat");
    // Another sitting's supervisor cannot check anyone in here.
    let other = app.staff("sup2").await;
    let body = json!({ "reason": "absen pagi", "participants": [participant(2)] });
    let (status, _) = app.act(&other, "/api/v1/sittings/T-1/checkin", body).await;
    assert!(status == 403 || status == 404, "got {status}");
    assert_eq!(checked_in(&app).await.len(), 2);
}

#[tokio::test]
async fn staff_logins_lock_out_after_repeated_failures_and_recover() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let login = |password: &'static str| {
        let app = &app;
        async move {
            reqwest::Client::new()
                .post(app.http("/api/v1/staff/login"))
                .json(&json!({ "username": "sup1", "password": password }))
                .send()
                .await
                .expect("login")
                .status()
                .as_u16()
        }
    };
    for _ in 0..10 {
        assert_eq!(login("salah").await, 401);
    }
    assert_eq!(login(PIN).await, 429);
    app.clock.advance(5 * 60_000);
    assert_eq!(login(PIN).await, 200);
}

#[tokio::test]
async fn ujian_audit_verify_catches_an_edited_row() {
    let mut app = TestApp::spawn(Setup::tiny(1)).await;
    let mut c = app.candidate(1).await;
    c.answer(0, Some("A")).await;
    c.finish().await;
    let db = app.url.clone();
    let dir = app.dir.path().to_owned();
    app.shutdown().await;
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_ujian"))
            .args(["--data-dir", dir.to_str().expect("utf8"), "--database", &db, "audit", "verify"])
            .output()
            .expect("run")
    };
    let ok = run();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("chain intact"));

    // Somebody raises the published total in the database (dropping the trigger that
    // refuses the edit first, as an insider would).
    let store = store::Store::open(&db).await.expect("open");
    sqlx::query("DROP TRIGGER audit_log_no_update").execute(store.pool()).await.expect("drop trigger");
    let n = sqlx::query(
        "UPDATE audit_log SET detail = REPLACE(detail, '\"total\":', '\"total\":1') WHERE action = 'session.finished'",
    )
    .execute(store.pool())
    .await
    .expect("tamper")
    .rows_affected();
    assert_eq!(n, 1);
    let seq: i64 = sqlx::query_scalar("SELECT seq FROM audit_log WHERE action = 'session.finished'")
        .fetch_one(store.pool())
        .await
        .expect("seq");
    store.close().await;
    let broken = run();
    assert_eq!(broken.status.code(), Some(1));
    let err = String::from_utf8_lossy(&broken.stderr);
    assert!(err.contains(&format!("audit log broken at entry {seq}")), "{err}");
}

#[tokio::test]
async fn ujian_receipt_verify_accepts_a_real_receipt_and_refuses_a_forged_one() {
    let mut app = TestApp::spawn(Setup::tiny(1)).await;
    let mut c = app.candidate(1).await;
    c.answer(0, Some("A")).await;
    let (_, finished) = c.finish().await;
    let receipt = finished["receipt_full"].as_str().expect("receipt").to_owned();
    let dir = app.dir.path().to_owned();
    app.shutdown().await;
    let run = |r: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_ujian"))
            .args(["--data-dir", dir.to_str().expect("utf8"), "receipt", "verify", r])
            .output()
            .expect("run")
    };
    let ok = run(&receipt);
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(out.contains(&format!("valid receipt {}", finished["receipt"].as_str().expect("code"))), "{out}");
    let mut forged = receipt.clone();
    let i = forged.find('.').expect("dot") + 5;
    let c = if &forged[i..=i] == "A" { "B" } else { "A" };
    forged.replace_range(i..=i, c);
    let bad = run(&forged);
    assert_eq!(bad.status.code(), Some(1));
}

#[tokio::test]
async fn staff_logout_ends_the_token_on_the_server() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let token = app.staff("sup1").await;
    let me = |t: String| {
        let app = &app;
        async move {
            reqwest::Client::new()
                .get(app.http("/api/v1/staff/me"))
                .bearer_auth(t)
                .send()
                .await
                .expect("me")
                .status()
                .as_u16()
        }
    };
    assert_eq!(me(token.clone()).await, 200);
    let resp =
        reqwest::Client::new().post(app.http("/api/v1/staff/logout")).bearer_auth(&token).send().await.expect("logout");
    assert_eq!(resp.status(), 204);
    assert_eq!(me(token).await, 401);
}

/// The console's seats of sitting T-1, by participant number.
async fn console_seats(app: &TestApp, token: &str) -> std::collections::HashMap<String, Value> {
    let detail: Value = reqwest::Client::new()
        .get(app.http("/api/v1/sittings/T-1"))
        .bearer_auth(token)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let seats = detail["seats"].as_array().expect("seats").iter();
    seats.map(|s| (s["participant_no"].as_str().expect("no").to_owned(), s.clone())).collect()
}

#[tokio::test]
async fn a_seat_finished_before_a_restart_shows_its_result_and_a_disqualification_its_reason() {
    let app = TestApp::spawn(Setup::tiny(3)).await;
    let sup = app.staff("sup1").await;
    let mut c1 = app.candidate(1).await;
    c1.answer(0, Some("A")).await;
    c1.answer(1, Some("B")).await;
    let (_, finished) = c1.finish().await;
    let total = finished["total"].as_i64().expect("total");
    let mut c2 = app.candidate(2).await;
    c2.answer(0, Some("A")).await;
    let (status, _) =
        app.act(&sup, "/api/v1/sessions/T-1.P-0002/terminate", json!({ "reason": "membawa catatan" })).await;
    assert_eq!(status, 200);
    let check = |seats: &std::collections::HashMap<String, Value>, when: &str| {
        let s1 = &seats[&participant(1)];
        assert_eq!(
            (&s1["status"], &s1["reason"], &s1["answered"], &s1["total"], s1["score"].as_i64()),
            (&json!("finished"), &json!("submitted"), &json!(2), &json!(4), Some(total)),
            "{when}: {s1}"
        );
        let s2 = &seats[&participant(2)];
        assert_eq!(
            (&s2["status"], &s2["reason"], &s2["answered"]),
            (&json!("finished"), &json!("terminated"), &json!(1)),
            "{when}: {s2}"
        );
        let s3 = &seats[&participant(3)];
        assert_eq!(
            (&s3["status"], &s3["answered"], &s3["total"], &s3["score"]),
            (&json!("ready"), &json!(0), &json!(4), &Value::Null),
            "{when}: {s3}"
        );
    };
    check(&console_seats(&app, &sup).await, "before the restart");
    drop((c1, c2));
    let app = app.restart("crates/item-bank/tests/fixtures/tiny-exam.toml").await;
    let sup = app.staff("sup1").await;
    check(&console_seats(&app, &sup).await, "after the restart");
}

#[tokio::test]
async fn staff_read_a_sittings_reports_one_computation_at_a_time() {
    let app = TestApp::spawn(Setup::tiny(2)).await;
    let sup = app.staff("sup1").await;
    let admin = app.staff("admin").await;
    let mut c = app.candidate(1).await;
    assert_eq!(c.answer(0, Some("A")).await["type"], "ack");
    c.finish().await;
    let get = |path: String, token: String| {
        let app = &app;
        async move {
            let resp = reqwest::Client::new().get(app.http(&path)).bearer_auth(token).send().await.expect("get");
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            (status, headers, resp.text().await.expect("body"))
        }
    };
    let (status, headers, html) = get("/api/v1/sittings/T-1/reports/integrity".into(), sup.clone()).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert!(html.contains("bukan putusan") && html.contains("P-0001"), "{html}");
    let (status, headers, csv) = get("/api/v1/sittings/T-1/reports/integrity.csv".into(), sup.clone()).await;
    assert_eq!(status, 200, "{csv}");
    assert_eq!(headers["content-disposition"], "attachment; filename=\"integrity.csv\"");
    assert!(csv.starts_with("participant_no,name,") && csv.contains("takeovers"), "{csv}");
    let (status, _, json) = get("/api/v1/sittings/T-1/reports/integrity.json".into(), sup.clone()).await;
    assert_eq!(status, 200);
    let json: Value = serde_json::from_str(&json).expect("json");
    assert_eq!(json["sitting"], "T-1");
    let (status, _, body) = get("/api/v1/sittings/T-1/reports/secrets.txt".into(), sup.clone()).await;
    assert_eq!(status, 404, "{body}");

    let exam = app.store().get_sitting("T-1").await.expect("read").expect("T-1").exam_code;
    let (status, _, items) = get(format!("/api/v1/exams/{exam}/reports/items.csv"), admin.clone()).await;
    assert_eq!(status, 200, "{items}");
    assert!(items.starts_with("item,section,scoring,drawn"), "{items}");
    let (status, _, _) = get(format!("/api/v1/exams/{exam}/reports/items"), sup.clone()).await;
    assert_eq!(status, 403, "items span every sitting: admin only");
    let (status, _, _) = get("/api/v1/exams/NOPE/reports/items".into(), admin.clone()).await;
    assert_eq!(status, 404);

    // While one report is computed, another request is told to come back later.
    let running = app.state.reports.clone().try_acquire_owned().expect("no report running");
    let (status, headers, body) = get("/api/v1/sittings/T-1/reports/integrity".into(), sup.clone()).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(headers["retry-after"], "10");
    assert!(body.contains("rate_limited"), "{body}");
    drop(running);
    assert_eq!(get("/api/v1/sittings/T-1/reports/integrity".into(), sup).await.0, 200);
}
