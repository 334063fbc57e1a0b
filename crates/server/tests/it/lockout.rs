//! Login throttling under attack: guesses sent all at once, lockouts by people without
//! the sitting token or at another address, guessing spread over many addresses, a
//! reverse proxy in front, probing for staff usernames, and the failed-login table's
//! memory.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use futures_util::future::join_all;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::helpers::{PIN, Setup, TestApp, databases, prepare_data};

const LOCKED: (u16, &str) = (429, "too_many_attempts");
const WRONG: (u16, &str) = (401, "bad_credentials");

async fn code(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    (status, body["error"]["code"].as_str().unwrap_or("").to_owned())
}

fn is(got: &(u16, String), expected: (u16, &str)) -> bool {
    got.0 == expected.0 && got.1 == expected.1
}

/// A client whose connections come from `ip` (any of 127.0.0.0/8 reaches the server).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder().local_address(ip.parse::<IpAddr>().expect("ip")).build().expect("client")
}

/// A candidate login, optionally as a reverse proxy forwarding for `forwarded_for`.
async fn login(
    client: &reqwest::Client,
    app: &TestApp,
    forwarded_for: Option<&str>,
    participant: &str,
    pin: &str,
    token: &str,
) -> (u16, String) {
    let mut req = client
        .post(app.http("/api/v1/candidate/login"))
        .json(&json!({ "participant_no": participant, "pin": pin, "token": token }));
    if let Some(chain) = forwarded_for {
        req = req.header("x-forwarded-for", chain);
    }
    code(req.send().await.expect("login")).await
}

async fn staff_login(client: &reqwest::Client, app: &TestApp, username: &str, password: &str) -> (u16, String) {
    let resp = client
        .post(app.http("/api/v1/staff/login"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .expect("staff login");
    code(resp).await
}

#[tokio::test]
async fn four_hundred_concurrent_wrong_pins_get_at_most_ten_checked_and_the_right_pin_after_them_is_refused() {
    // Both databases: the logins read the store.
    for db in databases() {
        let app = TestApp::spawn(Setup::tiny(1).on(db)).await;
        let client = reqwest::Client::new();
        // A neighbour who knows the room's token sends 400 guesses at once.
        let guesses: Vec<String> = (0..400).map(|i| format!("{:06}", 100_000 + i)).collect();
        let answers = join_all(guesses.iter().map(|pin| login(&client, &app, None, "P-0001", pin, &app.token))).await;
        let checked = answers.iter().filter(|a| is(a, WRONG)).count();
        let refused = answers.iter().filter(|a| is(a, LOCKED)).count();
        assert!(checked <= 10, "{checked} of 400 concurrent guesses were checked");
        assert_eq!(checked + refused, 400, "{answers:?}");
        // The right PIN, sent after them, is not accepted either.
        let right = login(&client, &app, None, "P-0001", PIN, &app.token).await;
        assert!(is(&right, LOCKED), "{right:?}");
        app.clock.advance(5 * 60_000);
        assert_eq!(login(&client, &app, None, "P-0001", PIN, &app.token).await.0, 200);
    }
}

#[tokio::test]
async fn wrong_sitting_tokens_cannot_lock_a_candidate_out() {
    // Both databases: the logins read the store.
    for db in databases() {
        let app = TestApp::spawn(Setup::tiny(1).on(db)).await;
        let client = reqwest::Client::new();
        // Someone outside the room, who reads P-0001 off the public board, tries to lock them out.
        for i in 0..50 {
            let answer = login(&client, &app, None, "P-0001", "000000", &format!("NOPE{i}")).await;
            assert!(is(&answer, WRONG), "attempt {i}: {answer:?}");
        }
        assert_eq!(login(&client, &app, None, "P-0001", PIN, &app.token).await.0, 200);
    }
}

#[tokio::test]
async fn a_supervisor_unlocks_a_candidate_locked_out_by_wrong_pins() {
    // Both databases: the logins read the store, the unlock writes the audit log.
    for db in databases() {
        let app = TestApp::spawn(Setup::tiny(2).on(db)).await;
        let client = reqwest::Client::new();
        for _ in 0..10 {
            assert!(is(&login(&client, &app, None, "P-0001", "111111", &app.token).await, WRONG));
        }
        assert!(is(&login(&client, &app, None, "P-0001", PIN, &app.token).await, LOCKED));
        let unlock = "/api/v1/sessions/T-1.P-0001/unlock";
        let reason = json!({ "reason": "peserta lupa PIN, kartu ujian diperiksa" });
        let (status, _) = app.act(&app.staff("sup2").await, unlock, reason.clone()).await;
        assert_eq!(status, 403, "a supervisor of another sitting");
        let sup = app.staff("sup1").await;
        let (status, body) = app.act(&sup, unlock, json!({ "reason": "" })).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("reason_required")));
        let (status, body) = app.act(&sup, unlock, reason.clone()).await;
        assert_eq!((status, &body["changed"]), (200, &json!(true)), "{body}");
        assert_eq!(login(&client, &app, None, "P-0001", PIN, &app.token).await.0, 200);
        let (status, body) = app.act(&sup, "/api/v1/sessions/T-1.P-0002/unlock", reason).await;
        assert_eq!((status, &body["changed"]), (200, &json!(false)), "P-0002 was not locked: {body}");
        let log = app.store().audit_log().await.expect("audit");
        let entry = log.iter().find(|r| r.action == "candidate.unlock").expect("the unlock is audited");
        assert_eq!((entry.actor.as_str(), entry.subject.as_str()), ("sup1", "T-1.P-0001"));
        assert!(entry.detail.contains("kartu ujian diperiksa"), "{}", entry.detail);
    }
}

#[tokio::test]
async fn a_password_guesser_elsewhere_cannot_lock_a_supervisor_out() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let guesser = client_from("127.0.0.2");
    for i in 0..10 {
        assert!(is(&staff_login(&guesser, &app, "sup1", &format!("guess{i}")).await, WRONG));
    }
    let more = staff_login(&guesser, &app, "sup1", PIN).await;
    assert!(is(&more, LOCKED), "the guesser's own address is locked for the account: {more:?}");
    let supervisor = client_from("127.0.0.1");
    assert_eq!(staff_login(&supervisor, &app, "sup1", PIN).await.0, 200);
}

#[tokio::test]
async fn guessing_a_staff_password_from_many_addresses_is_throttled_except_where_the_account_logs_in() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let supervisor = client_from("127.0.0.1");
    assert_eq!(staff_login(&supervisor, &app, "sup1", PIN).await.0, 200, "the supervisor's own PC");
    // Twelve addresses, nine guesses each: each stays under its own address's limit.
    let app = &app;
    let guessers = (1..=12).map(|i| async move {
        let client = client_from(&format!("127.0.1.{i}"));
        let mut answers = Vec::new();
        for g in 0..9 {
            answers.push(staff_login(&client, app, "sup1", &format!("guess{i}-{g}")).await);
        }
        answers
    });
    let answers: Vec<(u16, String)> = join_all(guessers).await.into_iter().flatten().collect();
    let checked = answers.iter().filter(|a| is(a, WRONG)).count();
    assert_eq!(checked, server::throttle::STAFF.max as usize, "{answers:?}");
    assert!(answers.iter().all(|a| is(a, WRONG) || is(a, LOCKED)), "{answers:?}");
    // The account is closed to addresses it has not logged in from, even with the right
    // password; the supervisor's own PC still gets in.
    assert!(is(&staff_login(&client_from("127.0.2.1"), app, "sup1", PIN).await, LOCKED));
    assert_eq!(staff_login(&supervisor, app, "sup1", PIN).await.0, 200);
}

#[tokio::test]
async fn an_admin_unlocks_a_staff_account_and_a_supervisor_cannot() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let elsewhere = client_from("127.0.0.3");
    for i in 0..10 {
        assert!(is(&staff_login(&elsewhere, &app, "sup1", &format!("typo{i}")).await, WRONG));
    }
    assert!(is(&staff_login(&elsewhere, &app, "sup1", PIN).await, LOCKED));
    let reason = json!({ "reason": "pengawas salah ketik kata sandi" });
    let (status, _) = app.act(&app.staff("sup2").await, "/api/v1/staff/sup1/unlock", reason.clone()).await;
    assert_eq!(status, 403, "only the exam committee unlocks staff");
    let admin = app.staff("admin").await;
    let (status, body) = app.act(&admin, "/api/v1/staff/sup1/unlock", reason).await;
    assert_eq!((status, &body["changed"]), (200, &json!(true)), "{body}");
    assert_eq!(staff_login(&elsewhere, &app, "sup1", PIN).await.0, 200);
    let log = app.store().audit_log().await.expect("audit");
    let entry = log.iter().find(|r| r.action == "staff.unlock").expect("the unlock is audited");
    assert_eq!((entry.actor.as_str(), entry.subject.as_str()), ("admin", "sup1"));
}

#[tokio::test]
async fn an_unknown_staff_username_takes_a_password_check_like_a_known_one() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let client = reqwest::Client::new();
    let before = app.state.auth.password_checks();
    assert!(is(&staff_login(&client, &app, "nobody-here", "guess").await, WRONG));
    assert_eq!(app.state.auth.password_checks(), before + 1, "the unknown username was checked against a hash");
    // The time it takes says so too: interleaved, averaged, with a margin wide enough
    // for a busy machine (an unchecked unknown username takes a thirtieth of a check).
    let (mut known, mut unknown) = (Duration::ZERO, Duration::ZERO);
    for i in 0..6 {
        let t = Instant::now();
        assert!(is(&staff_login(&client, &app, "sup2", &format!("wrong{i}")).await, WRONG));
        known += t.elapsed();
        let t = Instant::now();
        assert!(is(&staff_login(&client, &app, &format!("ghost{i}"), "wrong").await, WRONG));
        unknown += t.elapsed();
    }
    assert!(unknown * 3 >= known, "unknown usernames {unknown:?} against wrong passwords {known:?}");
}

#[tokio::test]
async fn failures_behind_a_trusted_proxy_lock_out_only_the_client_they_came_from() {
    let app = TestApp::spawn(Setup::tiny(1).trusting("127.0.0.1")).await;
    let proxy = reqwest::Client::new();
    // Someone behind the proxy guesses across participant numbers.
    for i in 0..200 {
        let answer = login(&proxy, &app, Some("203.0.113.7"), &format!("X-{i}"), "000000", &app.token).await;
        assert!(is(&answer, WRONG), "{answer:?}");
    }
    let again = login(&proxy, &app, Some("203.0.113.7"), "P-0001", PIN, &app.token).await;
    assert!(is(&again, LOCKED), "{again:?}");
    // What it writes in the header itself stays left of what the proxy appended.
    let spoofed = login(&proxy, &app, Some("198.51.100.20, 203.0.113.7"), "P-0001", PIN, &app.token).await;
    assert!(is(&spoofed, LOCKED), "{spoofed:?}");
    // A candidate behind the same proxy logs in.
    assert_eq!(login(&proxy, &app, Some("198.51.100.20"), "P-0001", PIN, &app.token).await.0, 200);
}

#[tokio::test]
async fn a_client_cannot_escape_its_lockout_by_sending_x_forwarded_for() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let client = reqwest::Client::new();
    for i in 0..200 {
        let forged = format!("198.51.100.{}", i % 250);
        assert!(is(&login(&client, &app, Some(&forged), &format!("X-{i}"), "000000", &app.token).await, WRONG));
    }
    let answer = login(&client, &app, Some("192.0.2.1"), "P-0001", PIN, &app.token).await;
    assert!(is(&answer, LOCKED), "no proxy is trusted: the header is ignored: {answer:?}");
}

#[tokio::test]
async fn an_oversized_or_malformed_login_is_refused_before_it_is_counted() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let client = reqwest::Client::new();
    let huge = "9".repeat(5 * 1024);
    let answer = login(&client, &app, None, &huge, "000000", &app.token).await;
    assert_eq!(answer, (413, "too_large".to_owned()));
    let answer = staff_login(&client, &app, &huge, "guess").await;
    assert_eq!(answer, (413, "too_large".to_owned()));
    // More than an address's budget of identifiers no candidate or account can have.
    for i in 0..300 {
        let answer = login(&client, &app, None, &format!("{}{i}", "Z".repeat(32)), "000000", &app.token).await;
        assert_eq!(answer, (400, "bad_request".to_owned()), "attempt {i}");
    }
    for name in ["a b", "<script>", &"u".repeat(65)] {
        assert_eq!(staff_login(&client, &app, name, "guess").await, (400, "bad_request".to_owned()), "{name}");
    }
    // None of it was counted: the table is empty and the address has its whole budget.
    assert!(app.state.auth.throttle.is_empty());
    assert_eq!(login(&client, &app, None, "P-0001", PIN, &app.token).await.0, 200);
}

/// One login over a fresh connection from `from`, as raw HTTP/1.1; the status.
async fn raw_login(from: Ipv4Addr, to: SocketAddr, body: String) -> u16 {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::new(from.into(), 0)).expect("bind a loopback address");
    let mut stream = socket.connect(to).await.expect("connect");
    let request = format!(
        "POST /api/v1/candidate/login HTTP/1.1\r\nhost: {to}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await.expect("read");
    let head = String::from_utf8_lossy(&reply[..reply.len().min(12)]).into_owned();
    head.strip_prefix("HTTP/1.1 ").and_then(|s| s.get(..3)).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc/PID/status");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS");
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).expect("VmRSS in kB")
}

/// Failed logins `from..to`, each from its own loopback address with its own identifier:
/// every other one as long as a body may be, the rest well-formed (with the room's token,
/// as a candidate in the room could send them).
async fn distinct_failures(server: SocketAddr, token: &str, first: u32, count: u32) {
    let statuses: Vec<u16> = futures_util::stream::iter(first..first + count)
        .map(|i| {
            let from = Ipv4Addr::from(u32::from(Ipv4Addr::new(127, 2, 0, 0)) + i);
            let participant = if i % 2 == 0 { format!("{i:0>1000}") } else { format!("Z-{i}") };
            let body = json!({ "participant_no": participant, "pin": "000000", "token": token }).to_string();
            raw_login(from, server, body)
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let unexpected: Vec<&u16> = statuses.iter().filter(|s| !matches!(s, 400 | 401)).collect();
    assert!(
        unexpected.is_empty(),
        "{} answers not 400 or 401: {:?}",
        unexpected.len(),
        &unexpected[..10.min(unexpected.len())]
    );
}

#[tokio::test]
async fn a_hundred_thousand_failed_logins_with_distinct_identifiers_leave_the_server_small() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, token) = prepare_data(&Setup::tiny(1), dir.path()).await;
    let server = crate::crash::start(dir.path(), &url).await;
    let pid = server.child.id().expect("running");
    // Warm up whatever the server keeps anyway (threads, pools, buffers).
    distinct_failures(server.addr, &token, 0, 2_000).await;
    let before = rss_kib(pid);
    distinct_failures(server.addr, &token, 2_000, 100_000).await;
    let grown = rss_kib(pid).saturating_sub(before);
    assert!(grown < 20 * 1024, "the server grew by {grown} KiB over 100,000 failed logins");
}
