//! The pages in headless Chromium: the scripts beside them in `crates/server/web/tests/`
//! (Debian's chromium driven by playwright-core, installed by scripts/setup-browser.sh)
//! against a real server. Opt-in like PostgreSQL: they run when `UJIAN_TEST_BROWSER=1`
//! (scripts/test.sh and CI set it); otherwise each says why it skipped, and passes.

use std::io::Write as _;
use std::path::PathBuf;

use crate::helpers::{PIN, Setup, TestApp, participant, repo};

/// The folder of the browser scripts, or `None` when the browser tests were not asked for.
fn browser_tests(test: &str) -> Option<PathBuf> {
    if std::env::var("UJIAN_TEST_BROWSER").as_deref() != Ok("1") {
        // Straight to stderr: the test harness hides what `eprintln!` prints in a test that
        // passes, and a skip must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "skipped {test}: set UJIAN_TEST_BROWSER=1 to run the browser tests (scripts/test.sh does)"
        );
        return None;
    }
    let dir = repo("crates/server/web/tests");
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: run scripts/setup-browser.sh (scripts/test.sh does)"
    );
    assert!(
        dir.join("node_modules/axe-core").exists(),
        "axe-core is not installed: run scripts/setup-browser.sh (scripts/test.sh does)"
    );
    Some(dir)
}

/// `node script` in the browser scripts' folder, against `app`.
fn node_script(dir: &std::path::Path, script: &str, app: &TestApp) -> tokio::process::Command {
    let mut command = tokio::process::Command::new("node");
    command.arg(dir.join(script)).current_dir(dir).env("BASE_URL", app.http(""));
    command
}

async fn read_stderr(node: &mut tokio::process::Child) -> String {
    use tokio::io::AsyncReadExt as _;
    let mut stderr = String::new();
    if let Some(mut e) = node.stderr.take() {
        let _ = e.read_to_string(&mut stderr).await;
    }
    stderr
}

#[tokio::test]
async fn the_candidate_page_logs_in_answers_flags_survives_a_reload_and_shows_the_score() {
    let Some(dir) = browser_tests("the_candidate_page_logs_in_answers_flags_survives_a_reload_and_shows_the_score")
    else {
        return;
    };
    let app = TestApp::spawn(Setup::skd(1)).await;
    let out = node_script(&dir, "candidate.mjs", &app)
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

#[tokio::test]
async fn the_public_board_page_shows_the_ranking_and_follows_it_live() {
    use tokio::io::{AsyncBufReadExt as _, BufReader};
    let Some(dir) = browser_tests("the_public_board_page_shows_the_ranking_and_follows_it_live") else { return };
    let app = TestApp::spawn(Setup::skd(3)).await;
    let mut node = node_script(&dir, "board.mjs", &app)
        .env("BOARD_PATH", "/board/sitting/T-1")
        .env("WATCH_PARTICIPANT", participant(1))
        .env("EXPECT_ROWS", "3")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run node");
    let mut lines = BufReader::new(node.stdout.take().expect("stdout")).lines();
    let mut output = Vec::new();
    // The page is up and shows the three candidates: now P-0001 answers, and the page
    // must follow without a reload.
    let ready = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read") {
            output.push(line.clone());
            if line.trim() == "READY" {
                return true;
            }
        }
        false
    })
    .await
    .expect("the page got ready in time");
    if !ready {
        let stderr = read_stderr(&mut node).await;
        panic!("board.mjs ended before READY:\n{}\nstderr:\n{stderr}", output.join("\n"));
    }
    // P-0002 is still working (by default: progress, no score, no rank); P-0001 finishes
    // and its score appears at once.
    let mut other = app.candidate(2).await;
    assert_eq!(other.answer(0, Some("A")).await["type"], "ack");
    let mut c = app.candidate(1).await;
    let key = crate::helpers::best_and_worst(&app, "T-1.P-0001").await;
    for (i, (best, ..)) in key.iter().enumerate().take(4) {
        assert_eq!(c.answer(i, Some(best)).await["type"], "ack");
    }
    assert_eq!(c.finish().await.1["type"], "finished");
    while let Some(line) = lines.next_line().await.expect("read") {
        output.push(line);
    }
    let status = node.wait().await.expect("wait");
    let stderr = read_stderr(&mut node).await;
    assert!(status.success(), "board.mjs failed\nstdout:\n{}\nstderr:\n{stderr}", output.join("\n"));
}

#[tokio::test]
async fn a_supervisor_pauses_the_sitting_in_the_console_and_the_candidate_page_shows_it() {
    let Some(dir) = browser_tests("a_supervisor_pauses_the_sitting_in_the_console_and_the_candidate_page_shows_it")
    else {
        return;
    };
    let app = TestApp::spawn(Setup::skd(1)).await;
    let out = node_script(&dir, "console.mjs", &app)
        .env("STAFF_USER", "sup1")
        .env("STAFF_PASSWORD", PIN)
        .env("SITTING", crate::helpers::SITTING)
        .env("PARTICIPANT", participant(1))
        .env("PIN", PIN)
        .env("TOKEN", &app.token)
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "console test failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    // The page's actions went through the API and into the audit trail, with reasons.
    let log = app.store().audit_log().await.expect("audit");
    for action in ["sitting.pause", "sitting.resume", "session.extended"] {
        assert!(log.iter().any(|r| r.action == action), "{action} not audited");
    }
    assert_eq!(server::audit::verify(&log), Ok(log.len()));
}

#[tokio::test]
async fn a_room_of_200_fits_the_console_as_a_table_and_a_map_without_accessibility_violations() {
    let Some(dir) =
        browser_tests("a_room_of_200_fits_the_console_as_a_table_and_a_map_without_accessibility_violations")
    else {
        return;
    };
    let app = TestApp::spawn(Setup::tiny(200)).await;
    let out = node_script(&dir, "console-room.mjs", &app)
        .env("STAFF_USER", "sup1")
        .env("STAFF_PASSWORD", PIN)
        .env("SITTING", crate::helpers::SITTING)
        .env("ROOM", "200")
        .env("NAMED", "150")
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "console-room test failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    // The check-ins the script made (151 single, 3 in bulk) are in the audit trail.
    let log = app.store().audit_log().await.expect("audit");
    assert_eq!(log.iter().filter(|r| r.action == "session.checkin").count(), 154, "one audited check-in a seat");
}

#[tokio::test]
async fn the_public_board_ranks_only_results_shows_codes_and_fits_a_phone_and_a_stream() {
    let Some(dir) = browser_tests("the_public_board_ranks_only_results_shows_codes_and_fits_a_phone_and_a_stream")
    else {
        return;
    };
    let app = TestApp::spawn(Setup::skd(4)).await;
    let sup = app.staff("sup1").await;
    let mut finished = app.candidate(1).await;
    let key = crate::helpers::best_and_worst(&app, "T-1.P-0001").await;
    assert_eq!(finished.answer(0, Some(&key[0].0)).await["type"], "ack");
    assert_eq!(finished.finish().await.1["type"], "finished");
    let mut cheat = app.candidate(2).await;
    let key = crate::helpers::best_and_worst(&app, "T-1.P-0002").await;
    for (i, (best, ..)) in key.iter().enumerate().take(20) {
        assert_eq!(cheat.answer(i, Some(best)).await["type"], "ack");
    }
    let (status, _) =
        app.act(&sup, "/api/v1/sessions/T-1.P-0002/terminate", serde_json::json!({ "reason": "joki" })).await;
    assert_eq!(status, 200);
    let mut working = app.candidate(3).await;
    assert_eq!(working.answer(0, Some("A")).await["type"], "ack");
    let out = node_script(&dir, "board-results.mjs", &app)
        .env("BOARD_PATH", "/board/sitting/T-1")
        .env("FINISHED", participant(1))
        .env("DISQUALIFIED", participant(2))
        .env("WORKING", participant(3))
        .env("ABSENT", participant(4))
        .env("QUESTIONS", "110")
        .output()
        .await
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "board-results.mjs failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
}

#[tokio::test]
async fn the_time_up_toast_goes_when_the_result_arrives() {
    use tokio::io::{AsyncBufReadExt as _, BufReader};
    let Some(dir) = browser_tests("the_time_up_toast_goes_when_the_result_arrives") else { return };
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let mut node = node_script(&dir, "candidate-timeup.mjs", &app)
        .env("PARTICIPANT", participant(1))
        .env("PIN", PIN)
        .env("TOKEN", &app.token)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run node");
    let mut lines = BufReader::new(node.stdout.take().expect("stdout")).lines();
    let mut output = Vec::new();
    let time_up = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read") {
            output.push(line.clone());
            if line.trim() == "TIME_UP" {
                return true;
            }
        }
        false
    })
    .await
    .expect("the page ran out of time in time");
    if !time_up {
        let stderr = read_stderr(&mut node).await;
        panic!("candidate-timeup.mjs ended before TIME_UP:\n{}\nstderr:\n{stderr}", output.join("\n"));
    }
    // The server's clock reaches the deadline too: its sweep finishes the session.
    app.clock.advance(11 * 60_000);
    while let Some(line) = lines.next_line().await.expect("read") {
        output.push(line);
    }
    let status = node.wait().await.expect("wait");
    let stderr = read_stderr(&mut node).await;
    assert!(status.success(), "candidate-timeup.mjs failed\nstdout:\n{}\nstderr:\n{stderr}", output.join("\n"));
}

#[tokio::test]
async fn the_candidate_page_sends_again_what_the_server_refused_for_coming_too_fast() {
    use tokio::io::{AsyncBufReadExt as _, BufReader};
    let test = "the_candidate_page_sends_again_what_the_server_refused_for_coming_too_fast";
    let Some(dir) = browser_tests(test) else { return };
    let app = TestApp::spawn(Setup::skd(1)).await;
    let answers = 109;
    let mut node = node_script(&dir, "candidate-ratelimit.mjs", &app)
        .env("PARTICIPANT", participant(1))
        .env("PIN", PIN)
        .env("TOKEN", &app.token)
        .env("ANSWERS", answers.to_string())
        .env("STEP_TIMEOUT", "40000")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run node");
    let mut lines = BufReader::new(node.stdout.take().expect("stdout")).lines();
    let mut output = Vec::new();
    let limited = tokio::time::timeout(std::time::Duration::from_secs(90), async {
        while let Some(line) = lines.next_line().await.expect("read") {
            output.push(line.clone());
            if line.trim().starts_with("LIMITED") {
                return true;
            }
        }
        false
    })
    .await
    .expect("the server limited the page in time");
    if !limited {
        let stderr = read_stderr(&mut node).await;
        panic!("candidate-ratelimit.mjs ended before LIMITED:\n{}\nstderr:\n{stderr}", output.join("\n"));
    }
    // The allowance refills with the server's clock.
    app.clock.advance(6_000);
    while let Some(line) = lines.next_line().await.expect("read") {
        output.push(line);
    }
    let status = node.wait().await.expect("wait");
    let stderr = read_stderr(&mut node).await;
    assert!(status.success(), "candidate-ratelimit.mjs failed\nstdout:\n{}\nstderr:\n{stderr}", output.join("\n"));
    let answered: usize = output
        .iter()
        .find_map(|l| l.trim().strip_prefix("ANSWERED ").and_then(|n| n.parse().ok()))
        .expect("the page says how many it answered");
    let session = server::sitting::session_id(crate::helpers::SITTING, &participant(1));
    let log = app.store().answer_log(&session).await.expect("log");
    let positions: std::collections::BTreeSet<Option<i64>> =
        log.iter().filter(|e| e.action == "answer").map(|e| e.position).collect();
    assert_eq!(positions.len(), answered, "every answer stored once the server took them");
}
