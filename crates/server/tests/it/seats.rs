//! Who may sit which seat, and for how long: sitting status and starts, login tokens
//! (ended at a close, a start, a move, a logout; expired), the images of one's own paper,
//! and what a supervisor may do without the exam committee. Each test is an attack.

use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::helpers::{Candidate, PIN, SITTING, Setup, TestApp, databases, participant};

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const TINY: &str = "crates/item-bank/tests/fixtures/tiny-exam.toml";
/// How long a test waits for something that must happen (a bound, not a sleep).
const WAIT: Duration = Duration::from_secs(20);

fn session_of(i: usize) -> String {
    server::sitting::session_id(SITTING, &participant(i))
}

/// Logs candidate `i` in (without connecting); returns the login token.
async fn login(app: &TestApp, i: usize) -> String {
    let resp = app.login(&participant(i), PIN, &app.token).await;
    assert_eq!(resp.status(), 200, "login of candidate {i}");
    resp.json::<Value>().await.expect("json")["token"].as_str().expect("token").to_owned()
}

/// Opens the candidate WebSocket with `token` and returns the first frame: a `welcome`,
/// or the `error` that refused the connection (`_refused` with the HTTP status when the
/// upgrade itself was refused).
pub(crate) async fn first_frame(app: &TestApp, token: &str) -> Value {
    let mut req = format!("ws://{}/ws/candidate", app.addr).into_client_request().expect("request");
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().expect("header"));
    let mut ws = match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => ws,
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            return json!({ "type": "_refused", "status": resp.status().as_u16() });
        }
        Err(e) => panic!("connect: {e}"),
    };
    loop {
        let frame =
            tokio::time::timeout(WAIT, ws.next()).await.expect("a frame in time").expect("open").expect("frame");
        match frame {
            Message::Text(t) => return serde_json::from_str(t.as_str()).expect("json"),
            Message::Close(_) => return json!({ "type": "_closed" }),
            _ => continue,
        }
    }
}

async fn stored_status(app: &TestApp, i: usize) -> String {
    let rows = app.store().seats(SITTING).await.expect("seats");
    rows.into_iter().find(|r| r.participant_no == participant(i)).expect("seat").status
}

#[tokio::test]
async fn a_token_taken_while_open_cannot_start_the_exam_after_close() {
    for db in databases() {
        let app = TestApp::spawn(Setup::tiny(3).on(db)).await;
        let sup = app.staff("sup1").await;
        // Candidate 1 takes a token while the room is open and waits outside; candidate 2
        // is working when the sitting closes.
        let early = login(&app, 1).await;
        let mut working = app.candidate(2).await;
        assert_eq!(working.answer(0, Some("A")).await["type"], "ack");
        let (status, body) = app.act(&sup, "/api/v1/sittings/T-1/close", json!({ "reason": "sesi selesai" })).await;
        assert_eq!(status, 200, "{db:?}: {body}");
        assert_eq!(body["working"], 1, "{db:?}: the one still working is counted: {body}");
        assert_eq!(body["logins_ended"], 1, "{db:?}: {body}");
        // The early token cannot start the exam: told why, and nothing started.
        let refused = first_frame(&app, &early).await;
        assert_eq!(refused["type"], "error", "{db:?}: {refused}");
        assert_eq!(refused["code"], "sitting_closed", "{db:?}: {refused}");
        assert_eq!(stored_status(&app, 1).await, "ready", "{db:?}");
        // The candidate who was working goes on, and a reload of their page still works.
        assert_eq!(working.answer(1, Some("B")).await["type"], "ack", "{db:?}");
        let reloaded = Candidate::connect(app.addr, &working.token).await;
        assert_eq!(reloaded.welcome["status"], "active", "{db:?}");
        assert_eq!(working.recv().await["type"], "taken_over", "{db:?}: the old tab of the same PC");
        // A login now is refused as before, and one that never connected stays refused
        // after a restart too (the store ended it, not only this process).
        assert_eq!(app.login(&participant(3), PIN, &app.token).await.status(), 403);
        let app = app.restart(TINY).await;
        assert_eq!(first_frame(&app, &early).await["code"], "sitting_closed", "{db:?}");
    }
}

#[tokio::test]
async fn a_ready_session_cannot_start_in_a_closed_sitting_even_with_a_token_still_in_force() {
    for db in databases() {
        let app = TestApp::spawn(Setup::tiny(1).on(db)).await;
        let token = login(&app, 1).await;
        // Closed behind the server's back (as another process would): the token is still
        // in force, but the start is decided against the sitting's status.
        app.store().set_sitting_status(SITTING, "closed").await.expect("close");
        let app = app.restart(TINY).await;
        let refused = first_frame(&app, &token).await;
        assert_eq!((refused["type"].as_str(), refused["code"].as_str()), (Some("error"), Some("sitting_closed")));
        assert_eq!(stored_status(&app, 1).await, "ready", "{db:?}");
    }
}

#[tokio::test]
async fn a_second_device_logged_in_before_the_start_cannot_take_the_running_seat() {
    for db in databases() {
        let app = TestApp::spawn(Setup::tiny(1).on(db)).await;
        let sup = app.staff("sup1").await;
        // Two devices log in before the start (any number may).
        let first = login(&app, 1).await;
        let second = login(&app, 1).await;
        let mut seat = Candidate::connect(app.addr, &first).await;
        assert_eq!(seat.welcome["status"], "active");
        assert_eq!(seat.answer(0, Some("A")).await["type"], "ack");
        // The other device is told the seat is held, and the seat is not disturbed.
        let refused = first_frame(&app, &second).await;
        assert_eq!(refused["code"], "seat_locked", "{db:?}: {refused}");
        assert_eq!(seat.answer(1, Some("A")).await["type"], "ack", "{db:?}: the seat is still this PC's");
        // A reload on the same PC still works.
        let mut reloaded = Candidate::connect(app.addr, &first).await;
        assert_eq!(reloaded.welcome["answers"], json!({ "0": "A", "1": "A" }));
        assert_eq!(seat.recv().await["type"], "taken_over");
        // Also after a restart: the store ended the other login with the start.
        let app = app.restart(TINY).await;
        assert_eq!(first_frame(&app, &second).await["code"], "seat_locked", "{db:?}");
        reloaded = Candidate::connect(app.addr, &first).await;
        assert_eq!(reloaded.welcome["status"], "active");
        // Only the supervisor's leave moves the seat, with a new login.
        let (status, _) =
            app.act(&sup, "/api/v1/sessions/T-1.P-0001/allow-move", json!({ "reason": "PC 3 mati" })).await;
        assert_eq!(status, 200);
        let moved = login(&app, 1).await;
        let there = Candidate::connect(app.addr, &moved).await;
        assert_eq!(there.welcome["answers"], json!({ "0": "A", "1": "A" }));
        assert_eq!(reloaded.recv().await["type"], "taken_over");
        for old in [&first, &second] {
            assert_eq!(first_frame(&app, old).await["code"], "seat_locked", "{db:?}");
        }
    }
}

#[tokio::test]
async fn a_logged_out_token_left_on_a_shared_pc_opens_nothing() {
    for db in databases() {
        let app = TestApp::spawn(Setup::tiny(1).on(db)).await;
        let resp = app.login(&participant(1), PIN, &app.token).await;
        let cookie = resp.headers()["set-cookie"].to_str().expect("ascii").to_owned();
        // A session cookie: it goes when the browser closes. Not `Secure` over plain http.
        assert!(!cookie.contains("Max-Age") && !cookie.contains("Expires"), "{cookie}");
        assert!(!cookie.contains("Secure"), "{cookie}");
        let token = resp.json::<Value>().await.expect("json")["token"].as_str().expect("token").to_owned();
        let mut c = Candidate::connect(app.addr, &token).await;
        c.answer(0, Some("A")).await;
        c.finish().await;
        let out = reqwest::Client::new()
            .post(app.http("/api/v1/candidate/logout"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("logout");
        assert_eq!(out.status(), 204);
        assert!(out.headers()["set-cookie"].to_str().expect("ascii").contains("Max-Age=0"));
        // The next person at the PC, with the token the browser kept: nothing, not even
        // the previous candidate's name and result.
        assert_eq!(first_frame(&app, &token).await, json!({ "type": "_refused", "status": 401 }), "{db:?}");
        let app = app.restart(TINY).await;
        assert_eq!(first_frame(&app, &token).await, json!({ "type": "_refused", "status": 401 }), "{db:?}");
    }
}

#[tokio::test]
async fn login_cookies_are_secure_when_the_public_address_is_https() {
    crate::helpers::init_logs();
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, token) = crate::helpers::prepare_data(&Setup::tiny(1), dir.path()).await;
    let mut config =
        server::config::Config::new(dir.path().to_owned(), Some(url), "127.0.0.1:0".parse().expect("addr"));
    config.public_url = Some("https://ujian.example.go.id".into());
    let app = server::startup::App::build(&config).await.expect("build");
    let addr = app.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    let resp = client
        .post(format!("http://{addr}/api/v1/candidate/login"))
        .json(&json!({ "participant_no": participant(1), "pin": PIN, "token": token }))
        .send()
        .await
        .expect("login");
    let cookie = resp.headers()["set-cookie"].to_str().expect("ascii").to_owned();
    assert!(cookie.contains("; Secure") && !cookie.contains("Max-Age"), "{cookie}");
    let resp = client
        .post(format!("http://{addr}/api/v1/staff/login"))
        .json(&json!({ "username": "sup1", "password": PIN }))
        .send()
        .await
        .expect("staff login");
    let cookie = resp.headers()["set-cookie"].to_str().expect("ascii").to_owned();
    assert!(cookie.contains("; Secure") && cookie.contains("Max-Age=43200"), "{cookie}");
    let _ = stop.send(());
    server.await.expect("server task").expect("serve");
}

#[tokio::test]
async fn a_token_expires_at_the_sittings_end_plus_the_grace_and_a_result_is_readable_for_a_while() {
    for db in databases() {
        let app = TestApp::spawn(Setup::tiny(2).on(db)).await;
        // Candidate 1 logs in and never starts; candidate 2 sits the exam and finishes.
        let idle = login(&app, 1).await;
        let mut c = app.candidate(2).await;
        c.answer(0, Some("A")).await;
        let (_, finished) = c.finish().await;
        assert_eq!(finished["type"], "finished");
        // Within 15 minutes the finished session's login reads its result, and only that.
        app.clock.advance(14 * 60_000);
        let again = first_frame(&app, &c.token).await;
        assert_eq!((again["type"].as_str(), again["status"].as_str()), (Some("welcome"), Some("finished")));
        assert_eq!(again["result"]["total"], finished["total"]);
        let hash = app.bank.hash().to_hex();
        let image = reqwest::Client::new()
            .get(app.http(&format!("/api/v1/assets/{hash}/dot.svg")))
            .bearer_auth(&c.token)
            .send()
            .await
            .expect("asset");
        assert_eq!(image.status(), 409, "{db:?}: nothing but the result");
        // After that, nothing.
        app.clock.advance(2 * 60_000);
        let expired = first_frame(&app, &c.token).await;
        assert_eq!(expired["code"], "token_expired", "{db:?}: {expired}");
        // The idle login lasts the sitting's end for the candidate (the exam's 10 minutes
        // from the login) plus the exam's grace (30 minutes by default), and no longer. A
        // fresh process reads it from the store (its clock starts again at the real now,
        // a few seconds after the login). Probed with an image: a login in force of a
        // session not started is told `not_started` (409); connecting would start it.
        let app = app.restart(TINY).await;
        let probe = |token: String| {
            let url = app.http(&format!("/api/v1/assets/{hash}/dot.svg"));
            async move {
                let resp = reqwest::Client::new().get(url).bearer_auth(token).send().await.expect("asset");
                let status = resp.status().as_u16();
                (status, resp.json::<Value>().await.map(|v| v["error"]["code"].clone()).unwrap_or(Value::Null))
            }
        };
        app.clock.advance(39 * 60_000);
        assert_eq!(probe(idle.clone()).await, (409, json!("not_started")), "{db:?}");
        app.clock.advance(2 * 60_000);
        assert_eq!(probe(idle.clone()).await, (401, json!("token_expired")), "{db:?}");
        assert_eq!(first_frame(&app, &idle).await["code"], "token_expired", "{db:?}");
    }
}

#[tokio::test]
async fn a_candidate_cannot_download_an_image_that_is_not_on_their_paper() {
    for db in databases() {
        let app = TestApp::spawn(Setup::tiny(8).on(db)).await;
        let hash = app.bank.hash().to_hex();
        // Which papers hold the item with the image (K-1): drawn at random, so look.
        let mut with = None;
        let mut without = None;
        for i in 1..=8 {
            let rec = app.store().load_session(&session_of(i)).await.expect("load").expect("session");
            if rec.paper.iter().any(|p| p.item_id == "K-1") {
                with.get_or_insert(i);
            } else {
                without.get_or_insert(i);
            }
        }
        let (with, without) = (with.expect("a paper with K-1"), without.expect("a paper without K-1"));
        let fetch = |token: String| {
            let url = app.http(&format!("/api/v1/assets/{hash}/dot.svg"));
            async move { reqwest::Client::new().get(url).bearer_auth(token).send().await.expect("asset").status() }
        };
        // Before the start the paper's images are not served either: they are questions.
        let before = login(&app, with).await;
        assert_eq!(fetch(before.clone()).await, 409, "{db:?}");
        let owner = Candidate::connect(app.addr, &before).await;
        assert_eq!(fetch(owner.token.clone()).await, 200, "{db:?}");
        let other = app.candidate(without).await;
        assert_eq!(fetch(other.token.clone()).await, 404, "{db:?}: a guessed name of another paper");
        // Staff see every image.
        assert_eq!(fetch(app.staff("sup2").await).await, 200, "{db:?}");
    }
}

#[tokio::test]
async fn a_supervisor_cannot_reopen_or_pause_a_closed_sitting() {
    for db in databases() {
        let app = TestApp::spawn(Setup::tiny(1).on(db)).await;
        let sup = app.staff("sup1").await;
        let (status, _) = app.act(&sup, "/api/v1/sittings/T-1/close", json!({ "reason": "sesi selesai" })).await;
        assert_eq!(status, 200);
        for action in ["open", "pause", "resume"] {
            let (status, body) =
                app.act(&sup, &format!("/api/v1/sittings/T-1/{action}"), json!({ "reason": "buka lagi" })).await;
            assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{db:?} {action}");
        }
        assert_eq!(app.store().get_sitting(SITTING).await.expect("read").expect("sitting").status, "closed");
        assert_eq!(app.login(&participant(1), PIN, &app.token).await.status(), 403, "{db:?}: still closed");
        // The exam committee may.
        let admin = app.staff("admin").await;
        let (status, _) = app.act(&admin, "/api/v1/sittings/T-1/open", json!({ "reason": "keputusan panitia" })).await;
        assert_eq!(status, 200, "{db:?}");
        assert_eq!(app.login(&participant(1), PIN, &app.token).await.status(), 200, "{db:?}");
    }
}

#[tokio::test]
async fn a_supervisor_cannot_extend_a_session_beyond_the_exams_cap() {
    for db in databases() {
        let app = TestApp::spawn(Setup::tiny(1).on(db)).await;
        let sup = app.staff("sup1").await;
        let mut c = app.candidate(1).await;
        let extend = |token: String, minutes: u32| {
            let app = &app;
            async move {
                app.act(
                    &token,
                    "/api/v1/sessions/T-1.P-0001/extend",
                    json!({ "reason": "komputer mati", "minutes": minutes }),
                )
                .await
            }
        };
        // Up to the cap (30 minutes a session, in total, by default) the room decides.
        assert_eq!(extend(sup.clone(), 20).await.0, 200);
        assert_eq!(c.recv().await["remaining_ms"], 30 * 60_000);
        let (status, body) = extend(sup.clone(), 11).await;
        assert_eq!((status, body["error"]["code"].as_str()), (403, Some("extension_limit")), "{db:?}: {body}");
        assert_eq!(extend(sup.clone(), 10).await.0, 200, "{db:?}: exactly the cap");
        assert_eq!(c.recv().await["remaining_ms"], 40 * 60_000);
        for _ in 0..3 {
            assert_eq!(extend(sup.clone(), 1).await.0, 403, "{db:?}");
        }
        // Beyond it, only the exam committee.
        let admin = app.staff("admin").await;
        assert_eq!(extend(admin, 60).await.0, 200, "{db:?}");
        assert_eq!(c.recv().await["remaining_ms"], 100 * 60_000);
        let stored = app.store().load_session(&session_of(1)).await.expect("load").expect("session");
        assert_eq!(stored.extension_ms, 90 * 60_000, "{db:?}");
    }
}

/// Opens the seat monitor of T-1 with a staff token.
async fn monitor(app: &TestApp, token: &str) -> Ws {
    let mut req = format!("ws://{}/ws/monitor/T-1", app.addr).into_client_request().expect("req");
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().expect("hdr"));
    tokio_tungstenite::connect_async(req).await.expect("monitor").0
}

/// Reads the monitor until it says why it closes; fails if it keeps streaming past [`WAIT`].
async fn closed_because(ws: &mut Ws) -> Value {
    tokio::time::timeout(WAIT, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str()).expect("json");
                    if v["type"] == "closed" {
                        // Then the socket ends.
                        while let Some(Ok(m)) = ws.next().await {
                            if matches!(m, Message::Close(_)) {
                                break;
                            }
                        }
                        return v;
                    }
                }
                Some(Ok(_)) => {}
                other => panic!("the monitor ended without saying why: {other:?}"),
            }
        }
    })
    .await
    .expect("the monitor closes within a few seconds")
}

#[tokio::test]
async fn a_seat_monitor_stops_streaming_once_its_supervisor_logs_out() {
    for db in databases() {
        let app = TestApp::spawn(Setup::tiny(1).on(db)).await;
        let sup = app.staff("sup1").await;
        let mut ws = monitor(&app, &sup).await;
        let first = ws.next().await.expect("frame").expect("ok");
        assert!(first.to_text().expect("text").contains("\"seats\""));
        let resp =
            reqwest::Client::new().post(app.http("/api/v1/staff/logout")).bearer_auth(&sup).send().await.expect("out");
        assert_eq!(resp.status(), 204);
        assert_eq!(closed_because(&mut ws).await["code"], "unauthorized", "{db:?}");
    }
}

#[tokio::test]
async fn a_seat_monitor_stops_streaming_once_its_supervisor_is_taken_off_the_sitting() {
    for db in databases() {
        let app = TestApp::spawn(Setup::tiny(1).on(db)).await;
        let sup = app.staff("sup1").await;
        let admin = app.staff("admin").await;
        let mut watching = monitor(&app, &sup).await;
        let mut admin_watching = monitor(&app, &admin).await;
        // The committee takes the supervisor off the sitting (in the database, as the
        // command line would).
        sqlx::query("DELETE FROM sitting_supervisors WHERE username = 'sup1'")
            .execute(app.store().pool())
            .await
            .expect("unassign");
        assert_eq!(closed_because(&mut watching).await["code"], "forbidden", "{db:?}");
        // The admin's monitor goes on.
        let mut seats = 0;
        while seats < 5 {
            let m =
                tokio::time::timeout(WAIT, admin_watching.next()).await.expect("in time").expect("open").expect("ok");
            if m.to_text().expect("text").contains("\"seats\"") {
                seats += 1;
            }
        }
    }
}
