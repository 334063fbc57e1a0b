//! Receipts by their short code: the public lookup, its QR code, and `ujian receipt
//! verify CODE` against the database or a server.

use serde_json::Value;

use crate::helpers::{Setup, TestApp};

/// Runs the `ujian` binary without blocking the runtime (the server under test answers it
/// on this same thread); returns the exit code, stdout and stderr.
async fn ujian(args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ujian")).args(args).output().await.expect("run ujian");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[tokio::test]
async fn a_short_code_gives_back_its_full_receipt_and_a_signed_receipt_its_qr_code() {
    let app = TestApp::spawn(Setup::tiny(2)).await;
    let mut c = app.candidate(1).await;
    c.answer(0, Some("A")).await;
    let (_, finished) = c.finish().await;
    let code = finished["receipt"].as_str().expect("code").to_owned();
    let full = finished["receipt_full"].as_str().expect("full").to_owned();
    let get = |path: String| async move { reqwest::get(path).await.expect("get") };

    let found = get(app.http(&format!("/api/v1/receipts/{code}"))).await;
    assert_eq!(found.status(), 200);
    let found: Value = found.json().await.expect("json");
    assert_eq!(found["receipt"], full.as_str());
    assert_eq!(found["code"], code.as_str());
    let keys: Vec<&str> = found.as_object().expect("object").keys().map(String::as_str).collect();
    assert_eq!(keys, ["code", "key_id", "receipt"], "the receipt and what names it, nothing more");
    // As a person types it: lower case, spaces for dashes.
    let typed = code.to_lowercase().replace('-', "%20");
    let again: Value = get(app.http(&format!("/api/v1/receipts/{typed}"))).await.json().await.expect("json");
    assert_eq!(again["receipt"], full.as_str());

    // The QR code of a receipt this server signed; of nothing else.
    let qr = get(app.http(&format!("/api/v1/receipts/qr.svg?receipt={full}"))).await;
    assert_eq!(qr.status(), 200);
    assert_eq!(qr.headers()["content-type"], "image/svg+xml");
    assert!(qr.text().await.expect("svg").contains("<svg"));
    let forged = full.replacen("UJ1.e", "UJ1.f", 1);
    assert_ne!(forged, full);
    let qr = get(app.http(&format!("/api/v1/receipts/qr.svg?receipt={forged}"))).await;
    assert_eq!(qr.status(), 404);

    // A code nobody holds, a running session's nothing, and text that is no code at all.
    for unknown in ["AAAA-AAAA-AAAA", "UJ1.x.y.z", "%25%25%25%25-%25%25%25%25-%25%25%25%25"] {
        let resp = get(app.http(&format!("/api/v1/receipts/{unknown}"))).await;
        assert_eq!(resp.status(), 404, "{unknown}");
        let body: Value = resp.json().await.expect("json");
        assert_eq!(body["error"]["code"], "unknown_receipt", "{unknown}");
    }
    // Limited per address like built board pages (the test clock stands still).
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(get(app.http(&format!("/api/v1/receipts/{code}"))).await.status().as_u16());
    }
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}

#[tokio::test]
async fn receipt_verify_takes_the_short_code_from_the_database_or_a_server() {
    let mut app = TestApp::spawn(Setup::tiny(1)).await;
    let mut c = app.candidate(1).await;
    c.answer(0, Some("A")).await;
    let (_, finished) = c.finish().await;
    let code = finished["receipt"].as_str().expect("code").to_owned();
    let server = app.http("");
    // Through the server's endpoint, with the key it publishes.
    let (status, out, err) =
        ujian(&["receipt", "verify", &code.to_lowercase(), "--server", server.trim_end_matches('/')]).await;
    assert_eq!(status, 0, "{out}{err}");
    assert!(out.contains(&format!("valid receipt {code}")), "{out}");
    let (status, _, err) =
        ujian(&["receipt", "verify", "AAAA-AAAA-AAAA", "--server", server.trim_end_matches('/')]).await;
    assert_eq!(status, 1, "{err}");
    assert!(err.contains("no result has this receipt code"), "{err}");

    let dir = app.dir.path().to_owned();
    app.shutdown().await;
    let d = dir.to_str().expect("utf8");
    // From the data dir's database: the receipt, and the audit chain that published it.
    let (status, out, err) = ujian(&["--data-dir", d, "receipt", "verify", &code]).await;
    assert_eq!(status, 0, "{out}{err}");
    assert!(out.contains(&format!("valid receipt {code}")) && out.contains("ok: the audit chain"), "{out}");
    let (status, _, err) = ujian(&["--data-dir", d, "receipt", "verify", "AAAA-AAAA-AAAA"]).await;
    assert_eq!(status, 1);
    assert!(err.contains("no result in the database has the receipt code AAAA-AAAA-AAAA"), "{err}");
}

#[tokio::test]
async fn a_result_stored_without_its_code_column_is_found_after_a_restart() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let mut c = app.candidate(1).await;
    c.answer(0, Some("A")).await;
    let (_, finished) = c.finish().await;
    let code = finished["receipt"].as_str().expect("code").to_owned();
    drop(c);
    // As a session finished before the column existed.
    sqlx::query("UPDATE sessions SET receipt_code = NULL").execute(app.store().pool()).await.expect("clear codes");
    let resp = reqwest::get(app.http(&format!("/api/v1/receipts/{code}"))).await.expect("get");
    assert_eq!(resp.status(), 404, "the lookup reads the column, not the result's text");
    let app = app.restart("crates/item-bank/tests/fixtures/tiny-exam.toml").await;
    let found: Value =
        reqwest::get(app.http(&format!("/api/v1/receipts/{code}"))).await.expect("get").json().await.expect("json");
    assert_eq!(found["receipt"], finished["receipt_full"], "filled in at startup");
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_lookup_allowance() {
    let app = TestApp::spawn(Setup::tiny(1).trusting("127.0.0.1")).await;
    let proxy = reqwest::Client::new();
    let get = |path: &str, client: &str| proxy.get(app.http(path)).header("x-forwarded-for", client).send();
    // One client behind the proxy spends its allowance (the test clock stands still)...
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(get("/api/v1/receipts/AAAA-AAAA-AAAA", "203.0.113.7").await.expect("get").status().as_u16());
        statuses.push(get("/api/v1/boards/sitting/T-1?offset=0", "203.0.113.7").await.expect("get").status().as_u16());
    }
    assert_eq!(statuses[22..], [429, 429], "both limits spent: {statuses:?}");
    // ...and another behind the same proxy still has its own.
    assert_eq!(get("/api/v1/receipts/AAAA-AAAA-AAAA", "198.51.100.9").await.expect("get").status(), 404);
    assert_eq!(get("/api/v1/boards/sitting/T-1?offset=0", "198.51.100.9").await.expect("get").status(), 200);
}
