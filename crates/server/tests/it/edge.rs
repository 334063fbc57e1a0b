//! Attacks on the server's edge: held connections, cross-site requests, framing and
//! caching, polled board snapshots, and what error bodies and `/health` tell.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::helpers::{PIN, SITTING, Setup, TestApp, participant};

/// How long a test waits for the server to do something before failing (a bound).
const BOUND: Duration = Duration::from_secs(15);

/// The sockets of the server's connections this process holds open (file descriptors
/// whose socket's local port is the server's, the listener aside). The clients' sockets
/// have the server's port as their remote port and are not counted.
fn server_socket_fds(port: u16) -> usize {
    let inodes: HashSet<String> = std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|link| {
            let link = link.to_string_lossy().into_owned();
            Some(link.strip_prefix("socket:[")?.strip_suffix(']')?.to_owned())
        })
        .collect();
    let mut n = 0;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else { continue };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let local_port = f[1].rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
            // State 0A is LISTEN; inode 0 is a socket no descriptor holds any more.
            if local_port == Some(port) && f[3] != "0A" && f[9] != "0" && inodes.contains(f[9]) {
                n += 1;
            }
        }
    }
    n
}

/// Waits, up to [`BOUND`], until `check` holds.
async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let until = Instant::now() + BOUND;
    while !check() {
        assert!(Instant::now() < until, "{what}: not within {BOUND:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Reads until the server closes the connection, up to [`BOUND`]; what it sent.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(BOUND, stream.read(&mut buf)).await {
            Err(_) => panic!("the server did not close the connection within {BOUND:?}"),
            Ok(Ok(0) | Err(_)) => return got,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// A TCP connection to the server from `from` (any address of 127.0.0.0/8).
async fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(format!("{from}:0").parse().expect("addr")).expect("bind");
    socket.connect(to).await.expect("connect")
}

/// A whole `GET /health` on `stream`: the status line of the reply.
async fn health_over(stream: &mut TcpStream) -> String {
    stream.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").await.expect("write");
    let reply = until_closed(stream).await;
    String::from_utf8_lossy(&reply).lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn half_sent_requests_and_silent_connections_are_closed_within_the_header_timeout() {
    let app =
        TestApp::spawn(Setup::tiny(1).configured(|c| c.connections.header_read_timeout = Duration::from_secs(1))).await;
    let port = app.addr.port();
    let baseline = server_socket_fds(port);
    let addr = app.addr;
    let mut attackers = tokio::task::JoinSet::new();
    for i in 0..400 {
        attackers.spawn(async move {
            let mut stream = TcpStream::connect(addr).await.expect("connect");
            let opened = Instant::now();
            // 300 send the start of a request and stop; 100 send nothing at all.
            if i < 300 {
                stream.write_all(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: ").await.expect("write");
            }
            until_closed(&mut stream).await;
            opened.elapsed()
        });
    }
    let held = attackers.join_all().await;
    let longest = held.iter().max().expect("connections");
    // Closed by the timeout (not at once), and within it give or take a busy machine.
    assert!(held.iter().all(|d| *d >= Duration::from_millis(500)), "closed before the timeout: {held:?}");
    assert!(*longest < Duration::from_secs(8), "held for {longest:?} with a 1 s header timeout");
    eventually("the server's descriptors return to their baseline", || server_socket_fds(port) == baseline).await;
    assert_eq!(app.state.connections.open(), 0);
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    assert_eq!(health_over(&mut stream).await, "HTTP/1.1 200 OK", "the server still serves");
}

#[tokio::test]
async fn a_body_trickled_slower_than_the_idle_timeout_is_closed_but_an_idle_websocket_stays() {
    let app = TestApp::spawn(Setup::tiny(1).configured(|c| c.connections.idle_timeout = Duration::from_secs(1))).await;
    let port = app.addr.port();
    let baseline = server_socket_fds(port);
    // A candidate who thinks for longer than the idle timeout keeps their WebSocket.
    let mut candidate = app.candidate(1).await;
    let mut slow = TcpStream::connect(app.addr).await.expect("connect");
    let opened = Instant::now();
    slow.write_all(
        b"POST /api/v1/candidate/login HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
          Content-Length: 100\r\n\r\n{\"participant_no\":",
    )
    .await
    .expect("write");
    until_closed(&mut slow).await;
    let held = opened.elapsed();
    assert!(held >= Duration::from_millis(500) && held < Duration::from_secs(8), "held for {held:?}");
    // The WebSocket was as idle as the slow body, for as long: it is still open.
    assert_eq!(candidate.get(0).await["type"], "question", "the idle WebSocket still answers");
    drop(candidate);
    eventually("the server's descriptors return to their baseline", || server_socket_fds(port) == baseline).await;
}

#[tokio::test]
async fn connections_beyond_the_per_address_cap_are_refused_and_counted_out_when_closed() {
    let app = TestApp::spawn(Setup::tiny(1).configured(|c| {
        c.connections.max_connections_per_address = 5;
        // The silent connections below must outlive the test, not time out during it.
        c.connections.header_read_timeout = Duration::from_secs(300);
    }))
    .await;
    // A WebSocket counts as long as it is open.
    let candidate = app.candidate(1).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(connect_from("127.0.0.1", app.addr).await);
    }
    eventually("five connections are open", || app.state.connections.open() == 5).await;
    let mut sixth = connect_from("127.0.0.1", app.addr).await;
    let refused = String::from_utf8_lossy(&until_closed(&mut sixth).await).into_owned();
    assert!(refused.is_empty() || refused.starts_with("HTTP/1.1 503"), "{refused}");
    // Another address is not held back by this one.
    let mut other = connect_from("127.0.0.2", app.addr).await;
    assert_eq!(health_over(&mut other).await, "HTTP/1.1 200 OK");
    drop(candidate);
    eventually("the WebSocket is counted out", || app.state.connections.open() == 4).await;
    let mut again = connect_from("127.0.0.1", app.addr).await;
    assert_eq!(health_over(&mut again).await, "HTTP/1.1 200 OK", "room again once one closed");
}

#[tokio::test]
async fn connections_beyond_the_total_cap_are_refused_whatever_their_address() {
    let app = TestApp::spawn(Setup::tiny(1).configured(|c| {
        c.connections.max_connections = 3;
        c.connections.header_read_timeout = Duration::from_secs(300);
    }))
    .await;
    let mut held = Vec::new();
    for from in ["127.0.0.1", "127.0.0.2", "127.0.0.3"] {
        held.push(connect_from(from, app.addr).await);
    }
    eventually("three connections are open", || app.state.connections.open() == 3).await;
    let mut fourth = connect_from("127.0.0.4", app.addr).await;
    let refused = String::from_utf8_lossy(&until_closed(&mut fourth).await).into_owned();
    assert!(refused.is_empty() || refused.starts_with("HTTP/1.1 503"), "{refused}");
    held.pop();
    eventually("a closed connection is counted out", || app.state.connections.open() == 2).await;
    let mut again = connect_from("127.0.0.4", app.addr).await;
    assert_eq!(health_over(&mut again).await, "HTTP/1.1 200 OK");
}

#[tokio::test]
async fn polling_the_board_snapshot_builds_it_once_per_board_version() {
    let app = TestApp::spawn(Setup::tiny(2)).await;
    let url = app.http("/api/v1/boards/sitting/T-1");
    let client = reqwest::Client::new();
    // The rows loaded at start are on the board from its first tick: take it now, so the
    // board holds one version while nobody answers.
    app.state.board.tick();
    let built = app.state.board.pages_built();
    let mut etags = HashSet::new();
    let mut bodies = HashSet::new();
    for _ in 0..50 {
        let resp = client.get(&url).send().await.expect("get");
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.headers()["cache-control"], "public, max-age=2", "a CDN or proxy may serve it");
        etags.insert(resp.headers()["etag"].to_str().expect("etag").to_owned());
        bodies.insert(resp.bytes().await.expect("body"));
    }
    assert_eq!(app.state.board.pages_built() - built, 1, "fifty readers of one version, one page built");
    assert_eq!((etags.len(), bodies.len()), (1, 1));
    let etag = etags.into_iter().next().expect("etag");
    let snap: Value = serde_json::from_slice(&bodies.into_iter().next().expect("body")).expect("json");
    assert_eq!((snap["type"].as_str(), snap["total_rows"].as_u64()), (Some("snapshot"), Some(2)));

    let unchanged = client.get(&url).header("if-none-match", &etag).send().await.expect("get");
    assert_eq!(unchanged.status(), 304);
    assert!(unchanged.bytes().await.expect("body").is_empty());

    // The board moves: once it ticks, the next reader gets (and builds) the new version.
    let mut c = app.candidate(1).await;
    assert_eq!(c.answer(0, Some("A")).await["type"], "ack");
    let until = Instant::now() + BOUND;
    let moved = loop {
        let resp = client.get(&url).header("if-none-match", &etag).send().await.expect("get");
        if resp.status() == 200 {
            break resp;
        }
        assert!(Instant::now() < until, "the snapshot never moved past {etag}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_ne!(moved.headers()["etag"].to_str().expect("etag"), etag);
    let snap: Value = moved.json().await.expect("json");
    let row = snap["rows"].as_array().expect("rows").iter().find(|r| r["participant_no"] == participant(1)).cloned();
    assert_eq!(row.expect("row")["answered"], 1);
    assert_eq!(app.state.board.pages_built() - built, 2);
}

#[tokio::test]
async fn board_pages_built_per_request_are_rate_limited_per_address() {
    let app = TestApp::spawn(Setup::tiny(2).configured(|c| c.board_pages_per_second = 3)).await;
    let page = app.http("/api/v1/boards/sitting/T-1?offset=0&limit=1");
    let from =
        |ip: &str| reqwest::Client::builder().local_address(ip.parse::<IpAddr>().expect("ip")).build().expect("client");
    let (one, two) = (from("127.0.0.1"), from("127.0.0.2"));
    for _ in 0..3 {
        assert_eq!(one.get(&page).send().await.expect("get").status(), 200);
    }
    let limited = one.get(&page).send().await.expect("get");
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.json::<Value>().await.expect("json")["error"]["code"], "rate_limited");
    // The cached first page is not limited, nor is another address.
    assert_eq!(one.get(app.http("/api/v1/boards/sitting/T-1")).send().await.expect("get").status(), 200);
    assert_eq!(two.get(&page).send().await.expect("get").status(), 200);
    // The allowance refills on the server's clock.
    app.clock.advance(1_000);
    assert_eq!(one.get(&page).send().await.expect("get").status(), 200);
}

/// The candidate WebSocket opened with `origin`: the handshake's HTTP status.
async fn candidate_ws_status(app: &TestApp, token: &str, origin: &str) -> u16 {
    let mut req = format!("ws://{}/ws/candidate", app.addr).into_client_request().expect("request");
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().expect("header"));
    req.headers_mut().insert("origin", origin.parse().expect("header"));
    match tokio_tungstenite::connect_async(req).await {
        Ok((mut ws, resp)) => {
            let _ = ws.close(None).await;
            resp.status().as_u16()
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("handshake: {e}"),
    }
}

async fn candidate_token(app: &TestApp, i: usize) -> String {
    let resp = app.login(&participant(i), PIN, &app.token).await;
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.expect("json")["token"].as_str().expect("token").to_owned()
}

#[tokio::test]
async fn a_websocket_upgrade_from_another_origin_is_refused() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let token = candidate_token(&app, 1).await;
    // A page on the same host at another port is another origin.
    let other = format!("http://127.0.0.1:{}", app.addr.port() + 1);
    assert_eq!(candidate_ws_status(&app, &token, &other).await, 403);
    assert_eq!(candidate_ws_status(&app, &token, "null").await, 403);
    assert!(app.state.registry.not_started("T-1.P-0001"), "the refused connect did not start the session");
    assert_eq!(candidate_ws_status(&app, &token, &format!("http://{}", app.addr)).await, 101, "its own page may");
}

#[tokio::test]
async fn a_monitor_websocket_from_another_origin_is_refused() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let staff = app.staff("sup1").await;
    let open = |origin: String| {
        let mut req = format!("ws://{}/ws/monitor/{SITTING}", app.addr).into_client_request().expect("request");
        req.headers_mut().insert("authorization", format!("Bearer {staff}").parse().expect("header"));
        req.headers_mut().insert("origin", origin.parse().expect("header"));
        tokio_tungstenite::connect_async(req)
    };
    match open(format!("http://localhost:{}", app.addr.port())).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 403),
        other => panic!("a monitor opened from another origin: {:?}", other.map(|(_, r)| r.status())),
    }
    let (mut ws, _) = open(format!("http://{}", app.addr)).await.expect("its own page may");
    let _ = ws.close(None).await;
}

#[tokio::test]
async fn state_changing_requests_from_another_origin_are_refused_and_change_nothing() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let evil = format!("http://127.0.0.1:{}", app.addr.port() + 1);
    let client = reqwest::Client::new();
    let login = client
        .post(app.http("/api/v1/candidate/login"))
        .header("origin", &evil)
        .json(&json!({ "participant_no": participant(1), "pin": PIN, "token": app.token }))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 403);
    assert!(login.headers().get("set-cookie").is_none(), "no login cookie");
    assert_eq!(login.json::<Value>().await.expect("json")["error"]["code"], "cross_origin");

    let staff = app.staff("sup1").await;
    let pause = client
        .post(app.http(&format!("/api/v1/sittings/{SITTING}/pause")))
        .bearer_auth(&staff)
        .header("origin", &evil)
        .json(&json!({ "reason": "forged from another page" }))
        .send()
        .await
        .expect("pause");
    assert_eq!(pause.status(), 403);
    let sitting = app.store().get_sitting(SITTING).await.expect("read").expect("sitting");
    assert_eq!(sitting.status, "open", "the forged pause changed nothing");
    // The same requests from the site's own page (or from a script: no Origin) work.
    let own = client
        .post(app.http("/api/v1/candidate/login"))
        .header("origin", format!("http://{}", app.addr))
        .json(&json!({ "participant_no": participant(1), "pin": PIN, "token": app.token }))
        .send()
        .await
        .expect("login");
    assert_eq!(own.status(), 200);
}

#[tokio::test]
async fn with_a_public_url_only_its_origin_may_post_or_open_websockets() {
    let app =
        TestApp::spawn(Setup::tiny(1).configured(|c| c.public_url = Some("https://cat.example.go.id".into()))).await;
    let login = |origin: String| {
        reqwest::Client::new()
            .post(app.http("/api/v1/candidate/login"))
            .header("origin", origin)
            .json(&json!({ "participant_no": participant(1), "pin": PIN, "token": app.token }))
            .send()
    };
    // Behind the proxy the Host is the server's own address; the public URL is the site.
    assert_eq!(login(format!("http://{}", app.addr)).await.expect("login").status(), 403);
    assert_eq!(login("http://cat.example.go.id".into()).await.expect("login").status(), 403, "not https");
    let ok = login("https://cat.example.go.id".into()).await.expect("login");
    assert_eq!(ok.status(), 200);
    let token = ok.json::<Value>().await.expect("json")["token"].as_str().expect("token").to_owned();
    assert_eq!(candidate_ws_status(&app, &token, &format!("http://{}", app.addr)).await, 403);
    assert_eq!(candidate_ws_status(&app, &token, "https://cat.example.go.id").await, 101);
}

#[tokio::test]
async fn every_page_forbids_framing_and_every_response_forbids_sniffing() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let pages = ["/", "/board", "/board/sitting/T-1", "/console", "/console/T-1"];
    for path in pages {
        let resp = reqwest::get(app.http(path)).await.expect("get");
        assert_eq!(resp.status(), 200, "{path}");
        let csp = resp.headers()["content-security-policy"].to_str().expect("csp");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{path}: {csp}");
    }
    let others = ["/static/candidate.js", "/api/v1/boards", "/api/v1/boards/sitting/NOPE", "/health", "/nothing"];
    for path in pages.iter().chain(&others) {
        let resp = reqwest::get(app.http(path)).await.expect("get");
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(resp.headers()["referrer-policy"], "no-referrer", "{path}");
    }
}

#[tokio::test]
async fn token_bearing_responses_are_not_stored_by_caches() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let no_store = |resp: &reqwest::Response, what: &str| {
        assert_eq!(resp.headers().get("cache-control").map(|v| v.to_str().expect("ascii")), Some("no-store"), "{what}");
    };
    let login = app.login(&participant(1), PIN, &app.token).await;
    assert_eq!(login.status(), 200);
    no_store(&login, "candidate login");
    let client = reqwest::Client::new();
    no_store(&client.post(app.http("/api/v1/candidate/logout")).send().await.expect("logout"), "candidate logout");
    let staff_login = client
        .post(app.http("/api/v1/staff/login"))
        .json(&json!({ "username": "sup1", "password": PIN }))
        .send()
        .await
        .expect("staff login");
    no_store(&staff_login, "staff login");
    let staff = staff_login.json::<Value>().await.expect("json")["token"].as_str().expect("token").to_owned();
    // A sitting's detail carries its token.
    let detail = client.get(app.http(&format!("/api/v1/sittings/{SITTING}"))).bearer_auth(&staff).send().await;
    let detail = detail.expect("detail");
    assert_eq!(detail.status(), 200);
    no_store(&detail, "sitting detail");
    no_store(&client.get(app.http("/api/v1/assets/x/y.png")).send().await.expect("asset"), "candidate asset");
    no_store(&client.post(app.http("/api/v1/staff/logout")).bearer_auth(&staff).send().await.expect("out"), "logout");
}

#[tokio::test]
async fn malformed_input_gets_a_stable_code_and_none_of_the_parsers_text() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let client = reqwest::Client::new();
    let staff = app.staff("sup1").await;
    let requests = [
        client.post(app.http("/api/v1/candidate/login")).json(&json!({ "participant_no": 5, "pin": PIN })),
        client.post(app.http("/api/v1/candidate/login")).header("content-type", "application/json").body("{\"pin\":"),
        client.post(app.http("/api/v1/candidate/login")).body("participant_no=P-0001"),
        client.post(app.http("/api/v1/staff/login")).json(&json!({ "username": ["admin"] })),
        client
            .post(app.http(&format!("/api/v1/sittings/{SITTING}/pause")))
            .bearer_auth(&staff)
            .json(&json!({ "reason": 7 })),
        client.get(app.http("/api/v1/boards/sitting/T-1?offset=minus-one")),
        client.get(app.http("/api/v1/boards/sitting/T-1/feed?limit=x")),
    ];
    for request in requests {
        let resp = request.send().await.expect("send");
        let what = format!("{} {}", resp.status(), resp.url());
        assert_eq!(resp.status(), 400, "{what}");
        let body: Value = resp.json().await.unwrap_or_else(|e| panic!("{what}: not the API's JSON error shape: {e}"));
        assert_eq!(body["error"]["code"], "bad_request", "{what}: {body}");
        let message = body["error"]["message"].as_str().expect("message");
        for parser_text in ["line ", "column", "invalid", "expected", "`", "deserialize", "Failed", "EOF"] {
            assert!(!message.contains(parser_text), "{what}: {message:?} quotes the parser ({parser_text})");
        }
    }
}

#[tokio::test]
async fn health_tells_outsiders_only_ok_and_staff_the_details() {
    let app = TestApp::spawn(Setup::tiny(1)).await;
    let public: Value = reqwest::get(app.http("/health")).await.expect("get").json().await.expect("json");
    assert_eq!(public, json!({ "status": "ok" }));
    let staff = app.staff("admin").await;
    let resp = reqwest::Client::new().get(app.http("/health")).bearer_auth(&staff).send().await.expect("get");
    let details: Value = resp.json().await.expect("json");
    assert_eq!(details["status"], "ok");
    assert_eq!(details["database"], "sqlite journal_mode=wal synchronous=FULL");
    assert_eq!(details["version"], env!("CARGO_PKG_VERSION"));
}
