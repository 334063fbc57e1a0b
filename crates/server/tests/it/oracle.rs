//! The board as an answer-key oracle, and the other things a candidate or an outsider can
//! observe while a session runs: what they see must not depend on the options chosen.

use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::helpers::{Setup, TestApp};

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
