//! The candidate page in headless Chromium (Debian's chromium driven by playwright-core,
//! installed by scripts/setup-browser.sh, which the README's test command runs).

use crate::helpers::{PIN, Setup, TestApp, participant, repo};

#[tokio::test]
async fn the_candidate_page_logs_in_answers_flags_survives_a_reload_and_shows_the_score() {
    let script = repo("tests/browser/candidate.mjs");
    assert!(
        repo("tests/browser/node_modules/playwright-core").exists(),
        "playwright-core is not installed: run scripts/setup-browser.sh (scripts/test.sh does)"
    );
    let app = TestApp::spawn(Setup::skd(1)).await;
    let out = tokio::process::Command::new("node")
        .arg(&script)
        .current_dir(repo("tests/browser"))
        .env("BASE_URL", app.http(""))
        .env("PARTICIPANT", participant(1))
        .env("PIN", PIN)
        .env("TOKEN", &app.token)
        .env("EXPECT_TOTAL", "110")
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "browser test failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    // What the page did went through the server: the answers are stored.
    let session = server::sitting::session_id(crate::helpers::SITTING, &participant(1));
    let log = app.store().answer_log(&session).await.expect("log");
    assert!(log.iter().filter(|e| e.action == "answer").count() >= 3, "{log:?}");
    assert!(log.iter().any(|e| e.action == "flag" && e.flagged == Some(true)));
    assert!(log.iter().any(|e| e.action == "finish"));
}
