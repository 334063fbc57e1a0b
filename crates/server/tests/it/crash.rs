//! kill -9 of the real server process mid-exam: nothing acknowledged is lost, and the
//! time the server was down is not charged.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{
    Candidate, Db, PIN, SITTING, Setup, assert_receipt_covers_log, databases, participant, prepare_data,
};

/// A real `ujian serve` process.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: std::net::SocketAddr,
}

pub(crate) async fn start(data_dir: &std::path::Path, url: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ujian"))
        .args(["--data-dir", data_dir.to_str().expect("utf8"), "--database", url, "serve", "--listen", "127.0.0.1:0"])
        .env("UJIAN_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn ujian serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            if let Some(rest) = line.strip_prefix("ujian listening on http://") {
                return rest.parse().expect("addr");
            }
        }
        panic!("ujian serve exited before listening");
    })
    .await
    .expect("server started in time");
    Server { child, addr }
}

/// `ujian serve` turns transparent huge pages off for itself (`cli::without_huge_pages`).
fn assert_no_huge_pages(child: &Child) {
    let pid = child.id().expect("running");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc/PID/status");
    let line = status.lines().find(|l| l.starts_with("THP_enabled:")).expect("THP_enabled in /proc/PID/status");
    assert_eq!(line.split_whitespace().nth(1), Some("0"), "{line}");
}

async fn login(addr: std::net::SocketAddr, token: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}/api/v1/candidate/login"))
        .json(&json!({ "participant_no": participant(1), "pin": PIN, "token": token }))
        .send()
        .await
        .expect("login");
    assert_eq!(resp.status(), 200);
    resp.json::<serde_json::Value>().await.expect("json")["token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn kill_9_mid_exam_loses_no_acknowledged_answer_and_charges_no_downtime() {
    for db in databases() {
        let dir = tempfile::tempdir().expect("tmp");
        let (url, sitting_token) = prepare_data(&Setup::skd(1).on(db), dir.path()).await;
        let mut server = start(dir.path(), &url).await;
        assert_no_huge_pages(&server.child);
        let token = login(server.addr, &sitting_token).await;
        let mut c = Candidate::connect(server.addr, &token).await;
        let mut acked = std::collections::BTreeMap::new();
        // Quantitative comparisons in the SKD bank have four options, so E is not always there.
        let labels = ["A", "B", "C", "D"];
        let mut last_remaining = 0;
        for i in 0..40usize {
            let choice = labels[(i * 7) % labels.len()];
            let ack = c.answer(i, Some(choice)).await;
            assert_eq!(ack["type"], "ack", "{ack}");
            acked.insert(i.to_string(), choice.to_string());
            last_remaining = ack["remaining_ms"].as_u64().expect("remaining");
        }
        assert_eq!(c.flag(7, true).await["type"], "ack");
        assert_eq!(c.flag(9, true).await["type"], "ack");
        // The next answer is sent but the server dies before we read the ack: whatever it
        // did with it, nothing *acknowledged* may be missing afterwards.
        c.send(json!({ "type": "answer", "seq": c.seq + 1, "index": 50, "choice": "E" })).await;
        let last_ack = Instant::now();
        server.child.start_kill().expect("kill -9");
        server.child.wait().await.expect("wait");
        let killed = Instant::now();
        drop(c);

        // Down for a while: this must not come off the candidate's time.
        let downtime = Duration::from_secs(3);
        tokio::time::sleep(downtime).await;
        let restart = Instant::now();
        let mut server = start(dir.path(), &url).await;
        let mut c = Candidate::connect(server.addr, &token).await;
        let up_after = restart.elapsed();
        let answers = c.welcome["answers"].as_object().expect("answers").clone();
        for (index, choice) in &acked {
            assert_eq!(
                answers.get(index).and_then(|v| v.as_str()),
                Some(choice.as_str()),
                "{db:?}: answer {index} lost"
            );
        }
        assert!(answers.len() == 40 || (answers.len() == 41 && answers["50"] == "E"), "{db:?}: {answers:?}");
        assert_eq!(c.welcome["flags"], json!([7, 9]), "{db:?}");
        let remaining = c.welcome["remaining_ms"].as_u64().expect("remaining");
        let charged = last_remaining.saturating_sub(remaining);
        let up = (killed - last_ack) + up_after;
        assert!(
            Duration::from_millis(charged) <= up + Duration::from_millis(50),
            "{db:?}: charged {charged} ms but the server was up only {up:?} of that time (down {downtime:?})"
        );
        assert!(remaining <= last_remaining, "{db:?}: time was added");
        // And the exam goes on.
        let seq = c.welcome["last_seq"].as_i64().expect("last_seq");
        c.seq = seq;
        assert_eq!(c.answer(60, Some("A")).await["type"], "ack");
        let (_, finished) = c.finish().await;
        assert_eq!(finished["type"], "finished", "{db:?}");
        // The digest the receipt signs was rebuilt from the stored log at the restart.
        let store = store::Store::open(&url).await.expect("open store");
        assert_receipt_covers_log(
            server.addr,
            &store,
            &server::sitting::session_id(SITTING, &participant(1)),
            &finished,
        )
        .await;
        store.close().await;
        server.child.start_kill().expect("kill");
        let _ = server.child.wait().await;
        if db == Db::Postgres {
            // The database is left for the server to drop with the cluster; nothing to clean.
        }
    }
}

#[tokio::test]
async fn a_second_server_on_the_same_data_dir_is_refused_until_the_first_is_gone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, _) = prepare_data(&Setup::tiny(1), dir.path()).await;
    let mut first = start(dir.path(), &url).await;
    let second = Command::new(env!("CARGO_BIN_EXE_ujian"))
        .args([
            "--data-dir",
            dir.path().to_str().expect("utf8"),
            "--database",
            &url,
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .env("UJIAN_LOG", "warn")
        .output();
    let second = tokio::time::timeout(Duration::from_secs(60), second).await.expect("refused in time").expect("run");
    assert_eq!(second.status.code(), Some(1));
    let err = String::from_utf8_lossy(&second.stderr);
    let pid = first.child.id().expect("running");
    assert!(
        err.contains(&format!("another ujian server is running on {} (process {pid})", dir.path().display())),
        "{err}"
    );
    // kill -9 leaves no stale lock: the kernel drops it with the process.
    first.child.start_kill().expect("kill -9");
    let _ = first.child.wait().await;
    let mut again = start(dir.path(), &url).await;
    again.child.start_kill().expect("kill");
    let _ = again.child.wait().await;
}
