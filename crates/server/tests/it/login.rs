//! Candidate login: credentials, sitting state, lockout.

use crate::helpers::{PIN, Setup, TestApp};

async fn code(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: serde_json::Value = resp.json().await.expect("json");
    (status, body["error"]["code"].as_str().unwrap_or("").to_owned())
}

#[tokio::test]
async fn wrong_pin_token_or_participant_is_refused_alike() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    assert_eq!(code(app.login("P-0001", "000000", &app.token).await).await, (401, "bad_credentials".into()));
    assert_eq!(code(app.login("P-0001", PIN, "WRONG1").await).await, (401, "bad_credentials".into()));
    assert_eq!(code(app.login("P-9999", PIN, &app.token).await).await, (401, "bad_credentials".into()));
    let ok = app.login("p-0001", PIN, &app.token.to_lowercase()).await;
    assert_eq!(ok.status(), 401, "participant numbers are exact");
    let ok = app.login("P-0001", PIN, &app.token.to_lowercase()).await;
    assert_eq!(ok.status(), 200, "the token is read case-insensitively");
    let cookie = ok.headers().get("set-cookie").expect("cookie").to_str().expect("ascii").to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
}

#[tokio::test]
async fn a_closed_sitting_refuses_login() {
    let app = TestApp::spawn(Setup::tiny(2)).await;
    // A first login has the server read the sitting's status and keep it.
    assert_eq!(app.login("P-0002", PIN, &app.token).await.status(), 200);
    assert_eq!(app.state.auth.logins_from_memory(), 1, "an open sitting's ready seat logs in from memory");
    // Closed by another process: the seats read again after its change (the server's
    // watch does this within `LOGINS_WATCH_EVERY`) carry the new status.
    app.store().set_sitting_status(crate::helpers::SITTING, "closed").await.expect("close");
    app.state.auth.refresh_seats(app.store()).await.expect("refresh");
    assert_eq!(code(app.login("P-0001", PIN, &app.token).await).await, (403, "sitting_not_open".into()));
    assert_eq!(app.state.auth.logins_from_memory(), 1);
}

#[tokio::test]
async fn repeated_failures_lock_the_participant_out() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    for _ in 0..10 {
        assert_eq!(app.login("P-0001", "111111", &app.token).await.status(), 401);
    }
    assert_eq!(code(app.login("P-0001", PIN, &app.token).await).await, (429, "too_many_attempts".into()));
    // The lockout ends after its window (the server's clock, not the wall's).
    app.clock.advance(5 * 60_000);
    assert_eq!(app.login("P-0001", PIN, &app.token).await.status(), 200);
}

#[tokio::test]
async fn the_websocket_needs_a_valid_token() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let req = format!("ws://{}/ws/candidate", app.addr);
    let err = tokio_tungstenite::connect_async(req).await.expect_err("no token");
    assert!(err.to_string().contains("401"), "{err}");
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let mut req = format!("ws://{}/ws/candidate", app.addr).into_client_request().expect("req");
    req.headers_mut().insert("authorization", format!("Bearer {}", "ab".repeat(32)).parse().expect("hdr"));
    let err = tokio_tungstenite::connect_async(req).await.expect_err("unknown token");
    assert!(err.to_string().contains("401"), "{err}");
}

#[tokio::test]
async fn health_reports_the_durability_settings() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let staff = app.staff("admin").await;
    let resp = reqwest::Client::new().get(app.http("/health")).bearer_auth(&staff).send().await.expect("get");
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "sqlite journal_mode=wal synchronous=FULL");
}

#[tokio::test]
async fn many_failures_from_one_address_lock_that_address_out() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    // Guessing across many participant numbers from one address.
    for i in 0..200 {
        let resp = app.login(&format!("X-{i}"), "000000", &app.token).await;
        assert_eq!(resp.status(), 401);
    }
    assert_eq!(code(app.login("P-0001", PIN, &app.token).await).await, (429, "too_many_attempts".into()));
    app.clock.advance(5 * 60_000);
    assert_eq!(app.login("P-0001", PIN, &app.token).await.status(), 200);
}

#[tokio::test]
async fn a_pin_hash_is_tied_to_its_candidate_and_argon2_hashes_of_earlier_versions_still_work() {
    let app = TestApp::spawn(Setup::tiny(2)).await;
    let store = app.store();
    // P-0002 is given P-0001's stored hash: it is a MAC over the participant too, so the
    // right PIN no longer works for P-0002.
    let first = store.candidate_pin_hash("P-0001").await.expect("read").expect("hash");
    assert!(first.starts_with("hmac-sha256$") && !first.contains(PIN), "{first}");
    let mut copy = candidate("P-0002");
    copy.pin_hash = first;
    store.put_candidates(&[copy], chrono::Utc::now()).await.expect("update");
    // What the open sitting's logins check is kept in memory and read again when the
    // store's login generation moves (within `LOGINS_WATCH_EVERY`); read it now.
    app.state.auth.refresh_seats(store).await.expect("refresh");
    assert_eq!(code(app.login("P-0002", PIN, &app.token).await).await, (401, "bad_credentials".into()));
    // An argon2id PIN hash (as stored before keyed hashes) is checked the slow way.
    let mut old = candidate("P-0002");
    old.pin_hash = server::credentials::hash_secret("975310").expect("argon2");
    store.put_candidates(&[old], chrono::Utc::now()).await.expect("update");
    app.state.auth.refresh_seats(store).await.expect("refresh");
    assert_eq!(code(app.login("P-0002", PIN, &app.token).await).await, (401, "bad_credentials".into()));
    assert_eq!(app.login("P-0002", "975310", &app.token).await.status(), 200);
}

#[tokio::test]
async fn a_pin_reissued_by_another_process_replaces_the_one_the_server_kept() {
    let app = TestApp::spawn(Setup::tiny(2)).await;
    // The room's first logins are answered from memory.
    assert_eq!(app.login("P-0001", PIN, &app.token).await.status(), 200);
    assert_eq!(app.state.auth.logins_from_memory(), 1);
    // `ujian candidates import` re-issues P-0002's PIN from another process, on its own
    // connection to the database.
    let other = store::Store::open(&app.url).await.expect("open as the command line does");
    let pins = server::credentials::PinKey::load_or_create(app.dir.path()).expect("pin key");
    let mut reissued = candidate("P-0002");
    reissued.pin_hash = pins.hash_pin("P-0002", "135790");
    other.put_candidates(&[reissued], chrono::Utc::now()).await.expect("re-issue");
    other.close().await;
    // The server's watch of the login generation drops the old PIN (a bound, not a sleep:
    // the watch runs every 250 ms).
    let refused = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        loop {
            let resp = app.login("P-0002", PIN, &app.token).await;
            if resp.status() == 401 {
                break code(resp).await;
            }
            assert_eq!(resp.status(), 200, "the old PIN works until the watch has run, then is refused");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the old PIN stops working once the server sees the change");
    assert_eq!(refused, (401, "bad_credentials".into()));
    assert_eq!(app.login("P-0002", "135790", &app.token).await.status(), 200, "the new PIN works");
    let from_memory = app.state.auth.logins_from_memory();
    assert!(from_memory >= 2, "the new PIN is the one kept now: {from_memory}");
    // P-0001 (logged in, not yet connected) logs in again as before.
    assert_eq!(app.login("P-0001", PIN, &app.token).await.status(), 200);
}

fn candidate(no: &str) -> store::NewCandidate {
    store::NewCandidate {
        participant_no: no.into(),
        name: "Peserta".into(),
        birth_date: None,
        pin_hash: String::new(),
        accommodation: None,
    }
}
