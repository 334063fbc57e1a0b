//! One simulated candidate: login, the WebSocket, the exam loop (think time, new answers,
//! changed answers, flags, dropped connections), finish; every acknowledgement recorded.
//!
//! A candidate has at most one state-changing message in flight. When the connection
//! breaks (a dropped socket, a server killed with -9) it reconnects with the same token,
//! logs in again if the token is refused, and resends the unacknowledged message with the
//! same `seq`: the server answers a stored one with the same ack and stores a new one, so
//! either way nothing is applied twice (docs/design-rules.md,
//! "Replays change nothing").

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use rand::rngs::StdRng;
use rand::{RngExt as _, SeedableRng as _};
use serde_json::json;
use server::protocol::{QuestionView, ServerMsg};
use tokio::net::TcpStream;
use tokio::sync::{Barrier, Notify};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::check::{AckRecord, Acked};
use crate::stats::{ErrorCounts, micros};
use crate::viewer::BoardTracker;

/// How candidates behave.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// New answers per candidate before finishing; `None` answers every question.
    pub answers: Option<usize>,
    /// Mean think time before each answer (exponentially distributed); 0 is a closed loop.
    pub think_ms: f64,
    /// Probability that a step changes an earlier answer instead of answering a new question.
    pub change_rate: f64,
    /// Probability that an answer is followed by flagging (or unflagging) it.
    pub flag_rate: f64,
    /// Probability, after each acknowledged answer, of dropping the socket and reconnecting.
    pub reconnect_rate: f64,
    /// Fetch each question (`get`) before answering it, as the exam page does.
    pub get_questions: bool,
    /// How long to wait for any one reply before treating the connection as dead.
    pub reply_timeout: Duration,
}

/// Counters the progress bar and the memory sampler read while the run goes on.
#[derive(Debug, Default)]
pub struct Progress {
    pub answers: AtomicU64,
    pub messages: AtomicU64,
    pub connected: AtomicUsize,
    pub peak_connected: AtomicUsize,
    pub finished: AtomicUsize,
    pub errors: AtomicU64,
    pub reconnects: AtomicU64,
    pub recoveries: AtomicU64,
    /// Candidates that have their first question.
    pub started: AtomicUsize,
}

/// Everything candidates share.
pub struct Shared {
    /// Local addresses to connect from, when the server is on this machine's loopback.
    pub sources: Vec<std::net::IpAddr>,
    /// `host:port` of the server.
    pub authority: String,
    pub sitting_token: String,
    pub pin: String,
    pub behaviour: Behaviour,
    pub t0: Instant,
    /// Nobody waits past this: a stuck run still reports what it got.
    pub deadline: Instant,
    pub progress: Progress,
    pub board: Arc<BoardTracker>,
    /// Everyone waits here: to log in at once (`synchronized`), or, with
    /// `login_before_start`, until everyone has logged in (a check-in period).
    pub barrier: Option<Barrier>,
    pub synchronized: bool,
    pub login_before_start: bool,
    /// Without `synchronized`, candidate i of n starts i/n of this after the others.
    pub ramp: Duration,
    /// Told when every candidate is connected at the same time (for memory per connection).
    pub all_connected: Notify,
    /// Told when the last candidate got their first question: the start is over.
    pub all_started: Notify,
    pub candidates: usize,
}

impl Shared {
    pub fn now_us(&self) -> u64 {
        u64::try_from(self.t0.elapsed().as_micros()).unwrap_or(u64::MAX)
    }
}

/// What one candidate did and measured.
#[derive(Debug, Default)]
pub struct CandidateResult {
    pub participant: String,
    pub session: Option<String>,
    /// First login request → logged in (retries included), and every later re-login.
    pub login_us: Vec<u32>,
    /// Login request → first question received (with `login_before_start`: the start,
    /// after logging in, → first question received).
    pub first_question_us: Option<u32>,
    pub first_question_at_us: Option<u64>,
    pub finished_at_us: Option<u64>,
    pub question_us: Vec<u32>,
    /// The finish sent → its `finished` (the score) received on the same connection.
    pub score_us: Option<u32>,
    pub acks: Vec<AckRecord>,
    /// Voluntary drops (`--reconnect-rate`).
    pub reconnects: u64,
    /// Connections re-established after the server went away or stopped answering.
    pub recoveries: u64,
    /// Messages sent again with the same seq after a broken connection.
    pub resent: u64,
    pub relogins: u64,
    pub errors: ErrorCounts,
    /// The server confirmed the session finished (a `finished` message or a welcome saying so).
    pub finished: bool,
    /// Welcomes whose `remaining_ms` was compared with the last acknowledged one.
    pub time_checks: u64,
    /// … and found larger: time given back, which must never happen.
    pub time_grew: u64,
    pub max_time_growth_ms: u64,
    pub gave_up: Option<String>,
}

/// Why a candidate stopped early.
#[derive(Debug)]
struct Stop(String);

/// Why a connection is no longer usable.
#[derive(Debug)]
enum Broken {
    Closed,
    Timeout,
    TakenOver,
}

impl Broken {
    fn code(&self) -> &'static str {
        match self {
            Broken::Closed => "ws_closed",
            Broken::Timeout => "reply_timeout",
            Broken::TakenOver => "taken_over",
        }
    }
}

/// What became of a state-changing message.
enum Outcome {
    Acked,
    /// Refused with this code; nothing changed.
    Refused,
    /// The session is over (finished, or time is up).
    Over,
}

type Ws = WebSocketStream<TcpStream>;

/// Retries of one message the server asked to be retried (`internal`, `paused`, …).
const MAX_RETRIES: u32 = 100;

/// Small buffers, as on the server: tungstenite's default 128 KiB read buffer a connection
/// would make the load generator, not the server, run out of memory first.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4 * 1024).write_buffer_size(0).max_message_size(Some(1 << 20))
}

struct Client {
    shared: Arc<Shared>,
    index: usize,
    rng: StdRng,
    token: Option<String>,
    ws: Option<Ws>,
    seq: i64,
    /// `remaining_ms` of the last ack: a later welcome may never show more.
    last_ack_remaining: Option<u64>,
    /// The acknowledged sheet: position → label.
    sheet: BTreeMap<i64, String>,
    /// No position below this is unanswered (positions only ever gain answers), so the
    /// next new question is found without scanning the sheet from the start each time.
    first_unanswered: i64,
    /// The session's id as every ack record carries it, shared rather than copied.
    session: Arc<str>,
    flags: BTreeMap<i64, bool>,
    labels: HashMap<i64, Vec<String>>,
    total: usize,
    /// Set after the first welcome: only that one may seed the sheet (a resumed session).
    welcomed: bool,
    passed_barrier: bool,
    over: bool,
    res: CandidateResult,
}

/// Runs one candidate to the end and returns what it measured.
pub async fn run_candidate(shared: Arc<Shared>, index: usize, participant: String, seed: u64) -> CandidateResult {
    let rng = StdRng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut c = Client {
        shared,
        index,
        rng,
        token: None,
        ws: None,
        seq: 0,
        last_ack_remaining: None,
        sheet: BTreeMap::new(),
        first_unanswered: 0,
        session: Arc::from(""),
        flags: BTreeMap::new(),
        labels: HashMap::new(),
        total: 0,
        welcomed: false,
        passed_barrier: false,
        over: false,
        res: CandidateResult { participant, ..CandidateResult::default() },
    };
    let outcome = c.exam().await;
    if !c.passed_barrier
        && let Some(b) = &c.shared.barrier
    {
        // Gave up before the start: still arrive, or everyone else waits until the deadline.
        let _ = tokio::time::timeout_at(c.shared.deadline.into(), b.wait()).await;
    }
    if let Err(Stop(reason)) = outcome {
        c.error(&format!("gave_up_{}", reason.split(':').next().unwrap_or("unknown")));
        c.res.gave_up = Some(reason);
    }
    c.drop_ws();
    if c.res.finished {
        c.shared.progress.finished.fetch_add(1, Ordering::Relaxed);
    }
    c.res
}

impl Client {
    async fn exam(&mut self) -> Result<(), Stop> {
        let before = !self.shared.login_before_start;
        if before {
            self.start().await;
        }
        let mut started = Instant::now();
        self.login().await?;
        if !before {
            self.start().await;
            started = Instant::now();
        }
        self.ensure_connected().await?;
        if self.over {
            return Ok(());
        }
        let first = self.next_new().ok_or_else(|| Stop("no_question: the paper is fully answered".into()))?;
        // The welcome of the connect that started the session carries its first question.
        if !self.labels.contains_key(&first) {
            self.get(first).await?;
        }
        let waited = started.elapsed();
        self.res.first_question_us = Some(micros(waited));
        self.res.first_question_at_us = Some(self.shared.now_us());
        if self.shared.progress.started.fetch_add(1, Ordering::Relaxed) + 1 == self.shared.candidates {
            self.shared.all_started.notify_one();
        }
        let target = self.shared.behaviour.answers.unwrap_or(self.total).min(self.total);
        while self.sheet.len() < target && !self.over {
            self.check_deadline()?;
            self.think().await;
            let change = !self.sheet.is_empty() && self.rng.random_bool(self.shared.behaviour.change_rate);
            let index = if change {
                let keys: Vec<i64> = self.sheet.keys().copied().collect();
                keys[self.rng.random_range(0..keys.len())]
            } else {
                match self.next_new() {
                    Some(i) => i,
                    None => break,
                }
            };
            let Some(choice) = self.pick_choice(index).await? else { continue };
            let outcome = self.answer(index, choice).await?;
            if !matches!(outcome, Outcome::Acked) {
                if matches!(outcome, Outcome::Over) {
                    break;
                }
                continue;
            }
            if self.rng.random_bool(self.shared.behaviour.flag_rate) {
                let flagged = !self.flags.get(&index).copied().unwrap_or(false);
                if matches!(self.flag(index, flagged).await?, Outcome::Over) {
                    break;
                }
            }
            if self.rng.random_bool(self.shared.behaviour.reconnect_rate) {
                self.drop_ws();
                self.res.reconnects += 1;
                self.shared.progress.reconnects.fetch_add(1, Ordering::Relaxed);
                self.ensure_connected().await?;
            }
        }
        if !self.over {
            self.finish().await?;
        }
        Ok(())
    }

    /// The start: everyone at once (a barrier), or each at its point of the ramp; with
    /// `login_before_start` only after everyone has logged in (a check-in period).
    async fn start(&mut self) {
        let shared = self.shared.clone();
        let delay = shared.ramp.mul_f64(self.index as f64 / shared.candidates.max(1) as f64);
        self.passed_barrier = true;
        if let Some(b) = &shared.barrier {
            let _ = tokio::time::timeout_at(shared.deadline.into(), b.wait()).await;
        }
        if !shared.synchronized {
            tokio::time::sleep(delay).await;
        }
    }

    /// Waits for the server's per-connection allowance to refill (20 messages a second
    /// after a burst of 120, docs/protocol.md), with jitter.
    async fn slow_down(&mut self) -> Result<(), Stop> {
        let ms = 100 + self.rng.random_range(0..=100);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        self.check_deadline()
    }

    fn check_deadline(&self) -> Result<(), Stop> {
        if Instant::now() >= self.shared.deadline { Err(Stop("deadline: the run timed out".into())) } else { Ok(()) }
    }

    fn error(&mut self, code: &str) {
        self.res.errors.add(code);
        self.shared.progress.errors.fetch_add(1, Ordering::Relaxed);
    }

    /// The first question in paper order without an acknowledged answer.
    fn next_new(&mut self) -> Option<i64> {
        while self.sheet.contains_key(&self.first_unanswered) {
            self.first_unanswered += 1;
        }
        (self.first_unanswered < self.total as i64).then_some(self.first_unanswered)
    }

    async fn think(&mut self) {
        let mean = self.shared.behaviour.think_ms;
        if mean <= 0.0 {
            return;
        }
        // Exponential by inversion; capped at five times the mean (0.7% of draws) so that
        // one unlucky draw among hundreds of thousands cannot stall a run's end by minutes.
        let u: f64 = self.rng.random();
        let ms = (-mean * (1.0 - u).ln()).min(mean * 5.0);
        tokio::time::sleep(Duration::from_secs_f64(ms / 1000.0)).await;
    }

    /// A label for question `index` other than its current answer, drawn at random; `None`
    /// if there is no other.
    async fn pick_choice(&mut self, index: i64) -> Result<Option<String>, Stop> {
        if !self.labels.contains_key(&index) && self.shared.behaviour.get_questions {
            self.get(index).await?;
        }
        // Without the question every item still has an A and a B.
        const FALLBACK: [&str; 2] = ["A", "B"];
        let current = self.sheet.get(&index).map(String::as_str);
        let others: Vec<&str> = match self.labels.get(&index) {
            Some(l) => l.iter().map(String::as_str).filter(|l| Some(*l) != current).collect(),
            None => FALLBACK.into_iter().filter(|l| Some(*l) != current).collect(),
        };
        if others.is_empty() {
            return Ok(None);
        }
        Ok(Some(others[self.rng.random_range(0..others.len())].to_owned()))
    }

    fn drop_ws(&mut self) {
        if self.ws.take().is_some() {
            self.shared.progress.connected.fetch_sub(1, Ordering::Relaxed);
        }
    }

    async fn backoff(&mut self, attempt: u32) -> Result<(), Stop> {
        self.check_deadline()?;
        let base = 100u64.saturating_mul(1 << attempt.min(4)).min(2_000);
        let ms = base / 2 + self.rng.random_range(0..=base / 2);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        Ok(())
    }

    /// Logs in, retrying with jitter while the server is busy or away.
    async fn login(&mut self) -> Result<(), Stop> {
        #[derive(serde::Deserialize)]
        struct LoginReply {
            token: String,
            session: String,
        }
        let started = Instant::now();
        let body = json!({ "participant_no": self.res.participant, "pin": self.shared.pin, "token": self.shared.sitting_token })
            .to_string();
        let mut attempt = 0;
        loop {
            self.check_deadline()?;
            let wait = self.shared.deadline.saturating_duration_since(Instant::now());
            let request = async {
                let stream = self.connect_pc().await?;
                crate::http1::post_json(stream, &self.shared.authority, "/api/v1/candidate/login", body.as_bytes())
                    .await
            };
            let failure = match tokio::time::timeout(wait, request).await {
                Ok(Ok(reply)) if (200..300).contains(&reply.status) => {
                    match serde_json::from_slice::<LoginReply>(&reply.body) {
                        Ok(r) => {
                            self.token = Some(r.token);
                            self.session = Arc::from(r.session.as_str());
                            self.res.session = Some(r.session);
                            self.res.login_us.push(micros(started.elapsed()));
                            return Ok(());
                        }
                        Err(_) => "login_body".to_owned(),
                    }
                }
                Ok(Ok(reply)) => {
                    let status = reply.status;
                    match status {
                        401 | 403 => {
                            self.error(&format!("login_http_{status}"));
                            let text = String::from_utf8_lossy(&reply.body);
                            return Err(Stop(format!("login_refused: {status} {text}")));
                        }
                        // Locked out for a while: the server says wait, so wait longer.
                        429 => {
                            self.error("login_http_429");
                            tokio::time::sleep(Duration::from_secs(5)).await;
                            continue;
                        }
                        _ => format!("login_http_{status}"),
                    }
                }
                Ok(Err(e)) if e.kind() != std::io::ErrorKind::TimedOut => "login_connect".to_owned(),
                Ok(Err(_)) | Err(_) => "login_timeout".to_owned(),
            };
            self.error(&failure);
            attempt += 1;
            self.backoff(attempt).await?;
        }
    }

    /// Connects as this candidate's PC, giving up after the reply timeout: the kernel
    /// retries a dropped SYN for minutes, and a candidate should back off and try again.
    async fn connect_pc(&self) -> std::io::Result<TcpStream> {
        let stream =
            tokio::time::timeout(self.shared.behaviour.reply_timeout, connect(&self.shared.authority, self.source()))
                .await
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }

    /// The local address this candidate's PC connects from, if the server is on loopback.
    fn source(&self) -> Option<std::net::IpAddr> {
        (!self.shared.sources.is_empty()).then(|| self.shared.sources[self.index % self.shared.sources.len()])
    }

    /// Opens the WebSocket if it is not open, and takes the welcome.
    async fn ensure_connected(&mut self) -> Result<(), Stop> {
        let mut attempt = 0;
        while self.ws.is_none() {
            self.check_deadline()?;
            if self.token.is_none() {
                self.login().await?;
                self.res.relogins += 1;
            }
            match self.open().await {
                Ok(ws) => {
                    self.ws = Some(ws);
                    let n = self.shared.progress.connected.fetch_add(1, Ordering::Relaxed) + 1;
                    self.shared.progress.peak_connected.fetch_max(n, Ordering::Relaxed);
                    if n == self.shared.candidates {
                        self.shared.all_connected.notify_one();
                    }
                    match self.read_welcome().await {
                        Ok(()) => return Ok(()),
                        Err(code) => {
                            self.error(code);
                            self.drop_ws();
                        }
                    }
                }
                Err(code) => self.error(code),
            }
            attempt += 1;
            self.backoff(attempt).await?;
        }
        Ok(())
    }

    async fn open(&mut self) -> Result<Ws, &'static str> {
        let token = self.token.clone().unwrap_or_default();
        let mut req =
            format!("ws://{}/ws/candidate", self.shared.authority).into_client_request().map_err(|_| "ws_request")?;
        let bearer = format!("Bearer {token}").parse().map_err(|_| "ws_request")?;
        req.headers_mut().insert("authorization", bearer);
        let stream = self
            .connect_pc()
            .await
            .map_err(|e| if e.kind() == std::io::ErrorKind::TimedOut { "ws_connect_timeout" } else { "ws_connect" })?;
        let handshake = tokio_tungstenite::client_async_with_config(req, stream, Some(ws_config()));
        match tokio::time::timeout(self.shared.behaviour.reply_timeout, handshake).await {
            Err(_) => Err("ws_handshake_timeout"),
            Ok(Ok((ws, _))) => Ok(ws),
            Ok(Err(tungstenite::Error::Http(resp))) if resp.status() == 401 => {
                // The token is unknown (or the session finished): log in again.
                self.token = None;
                Err("ws_http_401")
            }
            Ok(Err(tungstenite::Error::Http(_))) => Err("ws_http"),
            Ok(Err(_)) => Err("ws_handshake"),
        }
    }

    async fn read_welcome(&mut self) -> Result<(), &'static str> {
        let msg = self.next_msg().await.map_err(|b| b.code())?;
        match msg {
            ServerMsg::Welcome { total, status, remaining_ms, last_seq, flags, answers, question, .. } => {
                self.total = total as usize;
                if let Some(q) = question {
                    self.remember(q);
                }
                if let Some(before) = self.last_ack_remaining {
                    self.res.time_checks += 1;
                    if remaining_ms > before {
                        self.res.time_grew += 1;
                        self.res.max_time_growth_ms = self.res.max_time_growth_ms.max(remaining_ms - before);
                    }
                }
                // Another client may have moved the session on; never reuse a stored seq.
                if last_seq > self.seq {
                    self.seq = last_seq;
                }
                if !self.welcomed {
                    // A session that already has answers (a rerun against the same data)
                    // continues where it stands.
                    self.welcomed = true;
                    self.flags = flags.into_iter().map(|f| (i64::from(f), true)).collect();
                    self.sheet = answers.into_iter().filter_map(|(k, v)| Some((k.parse().ok()?, v))).collect();
                }
                if status == "finished" {
                    self.mark_finished();
                }
                Ok(())
            }
            ServerMsg::Error { .. } => Err("ws_refused"),
            _ => Err("ws_no_welcome"),
        }
    }

    fn mark_finished(&mut self) {
        if !self.res.finished {
            self.res.finished = true;
            self.res.finished_at_us = Some(self.shared.now_us());
        }
        self.over = true;
    }

    /// The next server message, within the reply timeout.
    async fn next_msg(&mut self) -> Result<ServerMsg, Broken> {
        let timeout = self.shared.behaviour.reply_timeout;
        let ws = self.ws.as_mut().ok_or(Broken::Closed)?;
        let until = tokio::time::Instant::now() + timeout;
        loop {
            let frame = match tokio::time::timeout_at(until, ws.next()).await {
                Err(_) => return Err(Broken::Timeout),
                Ok(None | Some(Err(_))) => return Err(Broken::Closed),
                Ok(Some(Ok(frame))) => frame,
            };
            match frame {
                Message::Text(text) => match parse_server(text.as_str()) {
                    Ok(ServerMsg::TakenOver) => return Err(Broken::TakenOver),
                    Ok(msg) => return Ok(msg),
                    Err(_) => {
                        self.res.errors.add("bad_server_json");
                        self.shared.progress.errors.fetch_add(1, Ordering::Relaxed);
                    }
                },
                Message::Close(_) => return Err(Broken::Closed),
                _ => {}
            }
        }
    }

    async fn send(&mut self, text: impl Into<tungstenite::Utf8Bytes>) -> Result<(), Broken> {
        let ws = self.ws.as_mut().ok_or(Broken::Closed)?;
        ws.send(Message::Text(text.into())).await.map_err(|_| Broken::Closed)
    }

    fn broken(&mut self, b: &Broken) {
        self.error(b.code());
        self.drop_ws();
        self.res.recoveries += 1;
        self.shared.progress.recoveries.fetch_add(1, Ordering::Relaxed);
    }

    /// Keeps a question's option labels, which answers pick from.
    fn remember(&mut self, q: QuestionView) {
        self.labels.insert(i64::from(q.index), q.options.into_iter().map(|o| o.label).collect());
    }

    /// Fetches a question and remembers its labels.
    async fn get(&mut self, index: i64) -> Result<(), Stop> {
        loop {
            self.ensure_connected().await?;
            if self.over {
                return Ok(());
            }
            let sent = Instant::now();
            if let Err(b) = self.send(json!({ "type": "get", "index": index }).to_string()).await {
                self.broken(&b);
                continue;
            }
            loop {
                match self.next_msg().await {
                    Ok(ServerMsg::Question(q)) if i64::from(q.index) == index => {
                        self.res.question_us.push(micros(sent.elapsed()));
                        self.remember(q);
                        return Ok(());
                    }
                    Ok(ServerMsg::Error { code, seq: None, .. }) if code == "rate_limited" => {
                        self.error(&code);
                        self.slow_down().await?;
                        break;
                    }
                    Ok(ServerMsg::Error { code, seq: None, .. }) => {
                        self.error(&code);
                        return Ok(());
                    }
                    Ok(ServerMsg::Finished(_)) => {
                        self.mark_finished();
                        return Ok(());
                    }
                    Ok(_) => {}
                    Err(b) => {
                        self.broken(&b);
                        break;
                    }
                }
            }
        }
    }

    async fn answer(&mut self, index: i64, choice: String) -> Result<Outcome, Stop> {
        // Written out rather than built as a `serde_json::Value`: in a closed loop the
        // load generator shares the cores with the server it measures.
        let label = serde_json::to_string(&choice).unwrap_or_else(|_| "null".into());
        let acked = Acked::Answer { index, choice: Some(choice) };
        self.submit(acked, |seq| {
            let ts = chrono::Utc::now().timestamp_millis();
            format!(r#"{{"type":"answer","seq":{seq},"index":{index},"choice":{label},"client_ts":{ts}}}"#)
        })
        .await
    }

    async fn flag(&mut self, index: i64, flagged: bool) -> Result<Outcome, Stop> {
        self.submit(Acked::Flag { index, flagged }, |seq| {
            json!({ "type": "flag", "seq": seq, "index": index, "flagged": flagged }).to_string()
        })
        .await
    }

    async fn finish(&mut self) -> Result<(), Stop> {
        let sent = Instant::now();
        match self.submit(Acked::Finish, |seq| json!({ "type": "finish", "seq": seq }).to_string()).await? {
            Outcome::Over => return Ok(()),
            Outcome::Refused => return Err(Stop("finish_refused: the server refused to finish".into())),
            Outcome::Acked => {}
        }
        // The result follows the ack; if the connection breaks first, the welcome of the
        // next one says the session is finished.
        while !self.over {
            match self.next_msg().await {
                Ok(ServerMsg::Finished(_)) => {
                    self.res.score_us = Some(micros(sent.elapsed()));
                    self.mark_finished();
                }
                Ok(_) => {}
                Err(b) => {
                    self.broken(&b);
                    self.ensure_connected().await?;
                    if !self.over {
                        return Err(Stop("not_finished: acknowledged finish but the session is not finished".into()));
                    }
                }
            }
        }
        Ok(())
    }

    /// Sends a state-changing message under the next seq until it is acknowledged or
    /// refused, resending it with the same seq over a new connection if the old one breaks.
    async fn submit(&mut self, acked: Acked, body: impl Fn(i64) -> String) -> Result<Outcome, Stop> {
        self.seq += 1;
        let seq = self.seq;
        // Shared bytes: a resend over a new connection costs no copy.
        let text = tungstenite::Utf8Bytes::from(body(seq));
        let mut first = true;
        let mut refusals = 0;
        loop {
            self.ensure_connected().await?;
            if self.over {
                return Ok(Outcome::Over);
            }
            if !first {
                self.res.resent += 1;
            }
            first = false;
            let sent = Instant::now();
            if let Err(b) = self.send(text.clone()).await {
                self.broken(&b);
                continue;
            }
            let reply = loop {
                match self.next_msg().await {
                    Ok(ServerMsg::Ack { seq: s, remaining_ms, .. }) if s == seq => break Ok(Ok(remaining_ms)),
                    Ok(ServerMsg::Error { code, message, seq: Some(s) }) if s == seq => break Ok(Err((code, message))),
                    // Refused before it was read (no seq): this connection's message
                    // allowance is spent; it is the one message in flight, so send it again.
                    Ok(ServerMsg::Error { code, message, seq: None }) if code == "rate_limited" => {
                        break Ok(Err((code, message)));
                    }
                    Ok(ServerMsg::Finished(_)) => {
                        self.mark_finished();
                        return Ok(Outcome::Over);
                    }
                    Ok(_) => {}
                    Err(b) => break Err(b),
                }
            };
            match reply {
                Ok(Ok(remaining_ms)) => {
                    self.record(seq, acked, sent.elapsed(), remaining_ms);
                    return Ok(Outcome::Acked);
                }
                Ok(Err((code, message))) => {
                    self.error(&code);
                    if code == "rate_limited" {
                        self.slow_down().await?;
                        continue;
                    }
                    refusals += 1;
                    // `internal`: not stored, retry the same seq (docs/protocol.md); a seq
                    // "being stored" (sent again while the first copy commits) and `paused`
                    // are answered by waiting. Anything else is a refusal that changed nothing.
                    let retry = match code.as_str() {
                        "internal" => Some(50),
                        "bad_seq" if message.contains("being stored") => Some(50),
                        "paused" => Some(1_000),
                        "time_expired" | "finished" => {
                            self.mark_finished();
                            return Ok(Outcome::Over);
                        }
                        _ => None,
                    };
                    match retry {
                        Some(ms) if refusals < MAX_RETRIES => {
                            tokio::time::sleep(Duration::from_millis(ms + self.rng.random_range(0..=ms))).await;
                            self.check_deadline()?;
                        }
                        _ => return Ok(Outcome::Refused),
                    }
                }
                Err(b) => self.broken(&b),
            }
        }
    }

    fn record(&mut self, seq: i64, acked: Acked, latency: Duration, remaining_ms: u64) {
        let at_us = self.shared.now_us();
        self.last_ack_remaining = Some(remaining_ms);
        self.shared.progress.messages.fetch_add(1, Ordering::Relaxed);
        match &acked {
            Acked::Answer { index, choice } => {
                self.shared.progress.answers.fetch_add(1, Ordering::Relaxed);
                let new = !self.sheet.contains_key(index);
                if let Some(c) = choice {
                    self.sheet.insert(*index, c.clone());
                }
                if new {
                    self.shared.board.record(self.index, self.sheet.len(), at_us);
                }
            }
            Acked::Flag { index, flagged } => {
                self.flags.insert(*index, *flagged);
            }
            Acked::Finish => {}
        }
        self.res.acks.push(AckRecord { session: self.session.clone(), seq, acked, at_us, latency_us: micros(latency) });
    }
}

/// A server message. Acks, most of what a candidate receives, are read as a plain struct:
/// serde reads an internally tagged enum by buffering every field first.
fn parse_server(text: &str) -> serde_json::Result<ServerMsg> {
    #[derive(serde::Deserialize)]
    struct Ack {
        seq: i64,
        index: Option<i64>,
        server_ts: String,
        remaining_ms: u64,
    }
    if text.starts_with(r#"{"type":"ack","#) {
        let a: Ack = serde_json::from_str(text)?;
        return Ok(ServerMsg::Ack { seq: a.seq, index: a.index, server_ts: a.server_ts, remaining_ms: a.remaining_ms });
    }
    serde_json::from_str(text)
}

/// Connects to `authority`, from `source` if given.
async fn connect(authority: &str, source: Option<std::net::IpAddr>) -> std::io::Result<TcpStream> {
    let Some(source) = source else { return TcpStream::connect(authority).await };
    let addr = tokio::net::lookup_host(authority)
        .await?
        .next()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no address"))?;
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    socket.bind(std::net::SocketAddr::new(source, 0))?;
    socket.connect(addr).await
}

/// On a server at 127.0.0.1, candidates connect from 127.0.0.2…127.0.0.201 as the PCs of
/// a test center come from their own addresses. From one address, the kernel's search for
/// a free source port (`__inet_check_established`) took a quarter of the load generator's
/// CPU when 10,000 candidates connected at once. Empty otherwise.
pub fn source_ips(authority: &str) -> Vec<std::net::IpAddr> {
    if authority.starts_with("127.0.0.1:") {
        (2..=201u8).map(|d| std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, d))).collect()
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_read_by_the_fast_path_equal_the_general_reading() {
        for msg in [
            ServerMsg::Ack { seq: 7, index: Some(3), server_ts: "2026-11-23T08:00:00.000Z".into(), remaining_ms: 5 },
            ServerMsg::Ack { seq: 8, index: None, server_ts: "t".into(), remaining_ms: 0 },
        ] {
            let text = serde_json::to_string(&msg).expect("json");
            assert!(text.starts_with(r#"{"type":"ack","#), "the server writes the tag first: {text}");
            assert_eq!(parse_server(&text).expect("parse"), msg);
        }
        let error = r#"{"type":"error","code":"paused","message":"m","seq":2}"#;
        assert_eq!(parse_server(error).expect("parse"), serde_json::from_str::<ServerMsg>(error).expect("general"));
        assert!(parse_server(r#"{"type":"ack","seq":"x"}"#).is_err());
    }
}
