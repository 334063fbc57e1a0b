//! `TestApp` and typed clients, in the shape of zero-to-production's `spawn_app`.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use item_bank::{Bank, Exam, Key, Label};
use serde_json::{Value, json};
use server::clock::ManualClock;
use server::config::Config;
use server::sitting::{self, SittingSpec};
use server::startup::App;
use store::{NewCandidate, Store};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub(crate) const PIN: &str = "246810";
pub(crate) const SITTING: &str = "T-1";
pub(crate) const OTHER_SITTING: &str = "T-2";
/// How long a test waits for a reply before failing (a bound, not a sleep).
const WAIT: Duration = Duration::from_secs(20);

pub(crate) fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

/// Server logs in test output only when `TEST_LOG` is set.
pub(crate) fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("info,sqlx=warn").try_init();
    }
}

/// The staff password hash, computed once: argon2 is slow on purpose.
pub(crate) fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| server::credentials::hash_secret(PIN).expect("hash")).clone()
}

pub(crate) fn participant(i: usize) -> String {
    format!("P-{i:04}")
}

/// Which database a test app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Db {
    Sqlite,
    Postgres,
}

/// SQLite always; PostgreSQL too when `UJIAN_TEST_PG` is set.
pub(crate) fn databases() -> Vec<Db> {
    let mut v = vec![Db::Sqlite];
    if std::env::var("UJIAN_TEST_PG").is_ok_and(|s| !s.is_empty()) {
        v.push(Db::Postgres);
    } else {
        say_postgres_skipped();
    }
    v
}

/// Says once a run that the PostgreSQL half is skipped, straight to stderr: the harness
/// hides what `eprintln!` prints in a test that passes, and a skip must be seen.
fn say_postgres_skipped() {
    static SAID: std::sync::Once = std::sync::Once::new();
    SAID.call_once(|| {
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "skipped the PostgreSQL runs: set UJIAN_TEST_PG=postgres://USER@HOST/DATABASE to run them (.ci/run does)"
        );
    });
}

/// A fresh, empty PostgreSQL database on the `UJIAN_TEST_PG` server.
pub(crate) async fn fresh_pg_database() -> String {
    let base = std::env::var("UJIAN_TEST_PG").expect("UJIAN_TEST_PG");
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base).await.expect("connect UJIAN_TEST_PG");
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let name = format!("ujian_it_{}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed), nanos);
    sqlx::Executor::execute(&mut conn, sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create db");
    let (prefix, _) = base.rsplit_once('/').expect("UJIAN_TEST_PG ends with /DATABASE");
    format!("{prefix}/{name}")
}

/// The data a test sits: which exam, how many candidates.
pub(crate) struct Setup {
    pub(crate) exam: &'static str,
    pub(crate) candidates: usize,
    pub(crate) db: Db,
    /// Changes the server's settings from the defaults.
    pub(crate) configure: fn(&mut Config),
    /// The server's `--trusted-proxy` list.
    pub(crate) proxies: Vec<&'static str>,
    /// The exam's `[board]` table, if the test sets one.
    pub(crate) board: Option<&'static str>,
}

/// A board that shows running scores after every stored answer (the per-answer oracle).
pub(crate) const LIVE_BOARD: &str = "running = \"live\"";

impl Setup {
    pub(crate) fn skd(candidates: usize) -> Setup {
        Setup {
            exam: "question-banks/exams/skd.toml",
            candidates,
            db: Db::Sqlite,
            configure: |_| {},
            proxies: Vec::new(),
            board: None,
        }
    }
    pub(crate) fn tiny(candidates: usize) -> Setup {
        Setup {
            exam: "crates/item-bank/tests/fixtures/tiny-exam.toml",
            candidates,
            db: Db::Sqlite,
            configure: |_| {},
            proxies: Vec::new(),
            board: None,
        }
    }
    pub(crate) fn on(mut self, db: Db) -> Setup {
        self.db = db;
        self
    }
    pub(crate) fn configured(mut self, configure: fn(&mut Config)) -> Setup {
        self.configure = configure;
        self
    }
    /// The server believes `X-Forwarded-For` from `proxy` (an address or CIDR block).
    pub(crate) fn trusting(mut self, proxy: &'static str) -> Setup {
        self.proxies.push(proxy);
        self
    }
    /// The exam with `board` as its `[board]` table.
    pub(crate) fn board(mut self, board: &'static str) -> Setup {
        self.board = Some(board);
        self
    }
}

/// Prepares a database: the exam, candidates P-0001.. with PIN [`PIN`], an open sitting.
/// Returns the database URL and the sitting token.
pub(crate) async fn prepare_data(setup: &Setup, data_dir: &Path) -> (String, String) {
    let url = match setup.db {
        Db::Sqlite => store::sqlite_url_in(data_dir),
        Db::Postgres => fresh_pg_database().await,
    };
    let store = Store::open(&url).await.expect("open store");
    let now = chrono::Utc::now();
    let (exam, bank) = load_exam(setup);
    store.put_exam(&exam, &bank, now).await.expect("put exam");
    let pins = server::credentials::PinKey::load_or_create(data_dir).expect("pin key");
    let candidates: Vec<NewCandidate> = (1..=setup.candidates)
        .map(|i| NewCandidate {
            participant_no: participant(i),
            name: format!("Peserta {i}"),
            birth_date: None,
            pin_hash: pins.hash_pin(&participant(i), PIN),
            accommodation: None,
        })
        .collect();
    store.put_candidates(&candidates, now).await.expect("candidates");
    let spec = SittingSpec {
        id: SITTING.into(),
        exam_code: exam.code().into(),
        venue: "Test".into(),
        starts_at: now,
        candidates: candidates.iter().map(|c| c.participant_no.clone()).collect(),
    };
    let sitting = sitting::prepare(&store, &spec, now).await.expect("prepare sitting");
    store.set_sitting_status(SITTING, "open").await.expect("open");
    // Staff: an admin, a supervisor of this sitting, and one of another sitting. Their
    // password is the candidates' PIN, to hash once.
    let other = SittingSpec { id: OTHER_SITTING.into(), candidates: vec![], ..spec };
    sitting::prepare(&store, &other, now).await.expect("prepare other sitting");
    for (user, role, sitting) in
        [("admin", "admin", None), ("sup1", "supervisor", Some(SITTING)), ("sup2", "supervisor", Some(OTHER_SITTING))]
    {
        let s = store::NewSupervisor {
            username: user.into(),
            name: user.into(),
            password_hash: password_hash(),
            role: role.into(),
        };
        store.put_supervisor(&s, now).await.expect("staff");
        if let Some(sitting) = sitting {
            store.assign_supervisor(sitting, user).await.expect("assign");
        }
    }
    store.close().await;
    (url, sitting.token)
}

/// The setup's exam file, with its `[board]` table if the setup gives one, and its bank.
fn load_exam(setup: &Setup) -> (Exam, Bank) {
    let path = repo(setup.exam);
    let mut text = std::fs::read_to_string(&path).expect("read exam");
    if let Some(board) = setup.board {
        text.push_str(&format!("\n[board]\n{board}\n"));
    }
    let exam = Exam::parse(&path.display().to_string(), &text).unwrap_or_else(|e| panic!("{e:?}"));
    let bank = Bank::load(&exam.bank_dir(&path)).unwrap_or_else(|e| panic!("{e}"));
    exam.check(&bank).unwrap_or_else(|e| panic!("{e:?}"));
    (exam, bank)
}

pub(crate) struct TestApp {
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) token: String,
    pub(crate) url: String,
    pub(crate) state: server::http::AppState,
    configure: fn(&mut Config),
    /// Dropping it (with the app) stops the server too.
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) bank: Bank,
    proxies: Vec<&'static str>,
    /// What the server's start warned about its exams.
    pub(crate) exam_warnings: Vec<String>,
}

impl TestApp {
    pub(crate) async fn spawn(setup: Setup) -> TestApp {
        init_logs();
        let dir = tempfile::tempdir().expect("tempdir");
        let (url, token) = prepare_data(&setup, dir.path()).await;
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        TestApp::start(dir, url, token, clock, setup.exam, setup.configure, setup.proxies).await
    }

    async fn start(
        dir: tempfile::TempDir,
        url: String,
        token: String,
        clock: Arc<ManualClock>,
        exam_path: &str,
        configure: fn(&mut Config),
        proxies: Vec<&'static str>,
    ) -> TestApp {
        let mut config = Config::new(dir.path().to_owned(), Some(url.clone()), "127.0.0.1:0".parse().expect("addr"));
        configure(&mut config);
        config.trusted_proxies = server::http::client_ip::TrustedProxies::new(
            proxies.iter().map(|p| server::http::client_ip::parse_proxy(p).expect("proxy")).collect(),
        );
        let app = App::build_with_clock(&config, clock.clone()).await.expect("build app");
        let addr = app.local_addr();
        let state = app.state().clone();
        let exam_warnings = app.exam_warnings().to_vec();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            app.run_until(async move {
                let _ = stopped.await;
            })
            .await
            .expect("serve");
        });
        let (_, bank, _) = Exam::load(&repo(exam_path)).unwrap_or_else(|e| panic!("{e}"));
        TestApp {
            addr,
            clock,
            token,
            url,
            state,
            configure,
            stop: Some(stop),
            task: Some(task),
            dir,
            bank,
            proxies,
            exam_warnings,
        }
    }

    /// Stops the server gracefully (as SIGTERM would) and starts a new one on the same data.
    pub(crate) async fn restart(mut self, exam_path: &'static str) -> TestApp {
        self.shutdown().await;
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let proxies = std::mem::take(&mut self.proxies);
        let TestApp { dir, url, token, configure, .. } = self;
        TestApp::start(dir, url, token, clock, exam_path, configure, proxies).await
    }

    pub(crate) async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task");
        }
    }

    pub(crate) fn http(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub(crate) async fn login(&self, participant_no: &str, pin: &str, token: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.http("/api/v1/candidate/login"))
            .json(&json!({ "participant_no": participant_no, "pin": pin, "token": token }))
            .send()
            .await
            .expect("login request")
    }

    /// Logs in as candidate `i` and opens the WebSocket.
    pub(crate) async fn candidate(&self, i: usize) -> Candidate {
        let no = participant(i);
        let resp = self.login(&no, PIN, &self.token).await;
        assert_eq!(resp.status(), 200, "login of {no}");
        let body: Value = resp.json().await.expect("login json");
        let token = body["token"].as_str().expect("token").to_owned();
        Candidate::connect(self.addr, &token).await
    }

    /// Logs a staff member in (password: [`PIN`]); returns their bearer token.
    pub(crate) async fn staff(&self, username: &str) -> String {
        let resp = reqwest::Client::new()
            .post(self.http("/api/v1/staff/login"))
            .json(&json!({ "username": username, "password": PIN }))
            .send()
            .await
            .expect("staff login");
        assert_eq!(resp.status(), 200, "staff login of {username}");
        resp.json::<Value>().await.expect("json")["token"].as_str().expect("token").to_owned()
    }

    /// A staff action: POST with a JSON body and a bearer token.
    pub(crate) async fn act(&self, token: &str, path: &str, body: Value) -> (u16, Value) {
        let resp = reqwest::Client::new()
            .post(self.http(path))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("staff action");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub(crate) fn store(&self) -> &Store {
        self.state.registry.store()
    }
}

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A candidate's WebSocket client with typed helpers.
pub(crate) struct Candidate {
    pub(crate) ws: Ws,
    pub(crate) token: String,
    pub(crate) welcome: Value,
    pub(crate) seq: i64,
}

impl Candidate {
    pub(crate) async fn connect(addr: std::net::SocketAddr, token: &str) -> Candidate {
        let ws = open_ws(addr, token).await;
        let mut c = Candidate { ws, token: token.into(), welcome: Value::Null, seq: 0 };
        c.welcome = c.recv().await;
        assert_eq!(c.welcome["type"], "welcome", "first message is the welcome: {}", c.welcome);
        c.seq = c.welcome["last_seq"].as_i64().expect("last_seq");
        c
    }

    pub(crate) async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::Text(text.into())).await.expect("send");
    }

    pub(crate) async fn send(&mut self, v: Value) {
        self.send_text(&v.to_string()).await;
    }

    /// The next JSON message (skipping pongs from the transport), failing after a bound.
    pub(crate) async fn recv(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a reply in time")
                .expect("open")
                .expect("frame");
            match msg {
                Message::Text(t) => return serde_json::from_str(t.as_str()).expect("json"),
                Message::Close(_) => return json!({ "type": "_closed" }),
                _ => continue,
            }
        }
    }

    pub(crate) fn next_seq(&mut self) -> i64 {
        self.seq += 1;
        self.seq
    }

    pub(crate) async fn get(&mut self, index: usize) -> Value {
        self.send(json!({ "type": "get", "index": index })).await;
        self.recv().await
    }

    pub(crate) async fn answer(&mut self, index: usize, choice: Option<&str>) -> Value {
        let seq = self.next_seq();
        self.send(json!({ "type": "answer", "seq": seq, "index": index, "choice": choice, "client_ts": "2026-01-01T00:00:00Z" }))
            .await;
        self.recv().await
    }

    pub(crate) async fn flag(&mut self, index: usize, flagged: bool) -> Value {
        let seq = self.next_seq();
        self.send(json!({ "type": "flag", "seq": seq, "index": index, "flagged": flagged })).await;
        self.recv().await
    }

    /// Submits; returns the ack and the `finished` message.
    pub(crate) async fn finish(&mut self) -> (Value, Value) {
        let seq = self.next_seq();
        self.send(json!({ "type": "finish", "seq": seq })).await;
        let ack = self.recv().await;
        let finished = self.recv().await;
        (ack, finished)
    }
}

/// The receipt in a `finished` message is signed by the server's published key and
/// vouches for exactly the stored answer log before the finish line.
pub(crate) async fn assert_receipt_covers_log(
    addr: std::net::SocketAddr,
    store: &Store,
    session: &str,
    finished: &Value,
) {
    let keys: Value =
        reqwest::get(format!("http://{addr}/api/v1/keys")).await.expect("keys").json().await.expect("keys json");
    let public = keys["keys"][0]["public_key_hex"].as_str().expect("public key");
    let receipt = finished["receipt_full"].as_str().unwrap_or_else(|| panic!("no receipt: {finished}"));
    let (payload, _) = server::receipt::verify(receipt, public).unwrap_or_else(|e| panic!("{e}"));
    let log = store.answer_log(session).await.expect("log");
    assert!(!log.is_empty() || finished["reason"] != "submitted", "{session}: no log");
    let before_finish = log.iter().take_while(|e| e.action != "finish");
    assert_eq!(payload.answers_sha256, store::LogDigest::of(before_finish), "{session}: receipt and stored log differ");
}

pub(crate) async fn open_ws(addr: std::net::SocketAddr, token: &str) -> Ws {
    let mut req = format!("ws://{addr}/ws/candidate").into_client_request().expect("request");
    req.headers_mut().insert("authorization", format!("Bearer {token}").parse().expect("header"));
    let (ws, _) = tokio_tungstenite::connect_async(req).await.expect("websocket connect");
    ws
}

/// The label the candidate must choose to earn the most on question `index` of a session,
/// worked out from the stored paper and the bank (not through the server's scoring).
pub(crate) async fn best_and_worst(app: &TestApp, session: &str) -> Vec<(String, String, i64, i64)> {
    let rec = app.store().load_session(session).await.expect("load").expect("session");
    rec.paper
        .iter()
        .map(|row| {
            let item = app.bank.items().iter().find(|i| i.id().as_str() == row.item_id).expect("item in bank");
            let order: Vec<char> = row.option_order.chars().collect();
            let shown = |own: usize| {
                Label::from_index(order.iter().position(|c| *c as usize - 'A' as usize == own).expect("in order"))
                    .expect("label")
                    .to_string()
            };
            match item.key() {
                Key::Single(k) => {
                    let wrong = (k.index() + 1) % item.options().len();
                    (shown(k.index()), shown(wrong), 5, 0)
                }
                Key::Weighted(points) => {
                    let best = points.iter().enumerate().max_by_key(|(_, p)| p.0).expect("points");
                    let worst = points.iter().enumerate().min_by_key(|(_, p)| p.0).expect("points");
                    (shown(best.0), shown(worst.0), best.1.0, worst.1.0)
                }
            }
        })
        .collect()
}
