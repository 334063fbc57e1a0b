//! Candidate login and the tokens that authenticate the WebSocket.
//!
//! Login checks the sitting token first, then the PIN against its keyed hash (see
//! [`credentials`]): the exam start is when every candidate logs in together, so a PIN
//! check costs microseconds. Staff passwords (and PIN hashes of earlier versions) are
//! argon2id, checked on a blocking thread with at most as many hashes at once as there
//! are cores.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::RngExt as _;
use ring::digest;
use serde::{Deserialize, Serialize};
use session_engine::Status;

use crate::app::AppState;
use crate::credentials::{self, PinCheck, PinKey};
use crate::error::{ApiError, WireError};

pub const CANDIDATE_COOKIE: &str = "ujian_candidate";
/// How long a finished session's login can still read its result (and nothing else).
pub const RESULT_READABLE_MS: i64 = 15 * 60_000;
/// Failed logins allowed per participant (or staff account) within [`LOCKOUT_WINDOW_MS`].
pub const MAX_FAILURES: u32 = 10;
/// Failed logins allowed per client address. Higher: a test center's PCs often share one
/// address, and one mistyping room must not lock out the rest.
pub const MAX_FAILURES_PER_ADDRESS: u32 = 200;
const LOCKOUT_WINDOW_MS: u64 = 5 * 60_000;

/// How often the server looks whether another process (or itself) changed what a login
/// checks; a PIN re-issued by `ujian candidates import` takes effect within this.
pub const LOGINS_WATCH_EVERY: Duration = Duration::from_millis(250);

/// Login state: token → session cache, failure counts, the PIN key, the hashing budget, and
/// what the logins of the open sittings' not-started seats check.
pub struct Auth {
    /// Candidate logins in force, by token hash, as last read or issued here.
    tokens: Mutex<HashMap<String, TokenEntry>>,
    /// Cookies carry `Secure`: the server's public address is https.
    secure_cookies: bool,
    failures: Mutex<HashMap<String, (u32, u64)>>,
    pins: PinKey,
    hashing: tokio::sync::Semaphore,
    seats: Mutex<Seats>,
    /// One reading of the seats at a time: a slower reading must not install rows older
    /// than a faster one already did (a rotated token coming back).
    reading_seats: tokio::sync::Mutex<()>,
    from_memory: AtomicU64,
}

/// A candidate login in force, as [`session_of`] checks it.
#[derive(Debug, Clone)]
struct TokenEntry {
    session: String,
    /// Before its session starts, the login works until the sitting's end for this
    /// candidate (the later of the scheduled start and the login, plus the exam time)
    /// and the exam's grace.
    ready_until: chrono::DateTime<chrono::Utc>,
    /// The session's status as stored when this entry was made (one in memory is newer).
    stored_status: String,
    /// When the session finished, once known: its result is readable for a while after.
    finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A candidate request's login, checked: in force, not expired.
#[derive(Debug, Clone)]
pub struct CandidateLogin {
    pub session: String,
    pub token_hash: String,
}

/// The open sittings' not-started seats as a login sees them, read after the store's
/// [`login generation`](store::Store::login_generation) they hold. A room logs in at once
/// at the start; answered from here, the logins do not queue for the database's readers.
/// A login is answered from here only while the seat's session has not started and only
/// when its PIN matches; anything else (a wrong PIN, another sitting, a started session)
/// is decided against the store.
#[derive(Default)]
struct Seats {
    generation: Option<i64>,
    sittings: BTreeSet<String>,
    by_participant: HashMap<String, Vec<store::LoginCandidate>>,
}

impl Seats {
    fn put(&mut self, rows: Vec<(String, store::LoginCandidate)>) {
        for (participant, seat) in rows {
            let seats = self.by_participant.entry(participant).or_default();
            seats.retain(|s| s.session_id != seat.session_id);
            seats.push(seat);
        }
    }
}

impl Auth {
    /// 429 while `key` (a participant, or `staff:NAME`) is locked out.
    pub fn check_lockout(&self, key: &str, max: u32, now: u64) -> Result<(), ApiError> {
        let failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((n, since)) = failures.get(key)
            && *n >= max
            && now.saturating_sub(*since) < LOCKOUT_WINDOW_MS
        {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "too many failed logins; wait five minutes or ask the supervisor",
            ));
        }
        Ok(())
    }

    pub fn record_failure(&self, key: &str, now: u64) {
        let mut failures = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = failures.entry(key.to_owned()).or_insert((0, now));
        if now.saturating_sub(entry.1) >= LOCKOUT_WINDOW_MS {
            *entry = (0, now);
        }
        entry.0 += 1;
    }

    pub fn clear_failures(&self, key: &str) {
        self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(key);
    }

    /// Checks a candidate's PIN against what is stored for them.
    pub async fn verify_pin(&self, participant_no: &str, pin: &str, stored: &str) -> Result<bool, ApiError> {
        match self.pins.check_pin(participant_no, pin, stored) {
            PinCheck::Match => Ok(true),
            PinCheck::NoMatch => Ok(false),
            PinCheck::Argon2 => self.verify(pin, stored).await,
        }
    }

    /// Checks a secret against its argon2id hash on a blocking thread, at most one per core.
    pub async fn verify(&self, secret: &str, phc: &str) -> Result<bool, ApiError> {
        let _permit = self.hashing.acquire().await.map_err(|e| ApiError::internal("hashing", &e))?;
        let (secret, phc) = (secret.to_owned(), phc.to_owned());
        tokio::task::spawn_blocking(move || credentials::verify_secret(&secret, &phc))
            .await
            .map_err(|e| ApiError::internal("verify secret", &e))
    }

    /// Keeps what the logins of a sitting's not-started seats check (when it opens, and for
    /// the open sittings at start).
    pub async fn remember_sitting(&self, store: &store::Store, sitting: &str) -> store::Result<()> {
        let _reading = self.reading_seats.lock().await;
        let generation = store.login_generation().await?;
        let rows = store.sitting_logins(sitting).await?;
        let current = {
            let mut seats = self.seats.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            seats.sittings.insert(sitting.to_owned());
            let current = seats.generation.is_none_or(|g| g == generation);
            if current {
                seats.generation = Some(generation);
                seats.put(rows);
            }
            current
        };
        if current { Ok(()) } else { self.read_seats(store).await }
    }

    /// Reads every kept sitting's seats again if the store's login generation moved since
    /// they were read. What is kept is never older than the generation it holds, so after
    /// this returns no login is answered from before the last change committed. If the
    /// store cannot be read, nothing stays kept (logins go to the database) until it can.
    pub async fn refresh_seats(&self, store: &store::Store) -> store::Result<()> {
        let _reading = self.reading_seats.lock().await;
        self.read_seats(store).await
    }

    /// [`Auth::refresh_seats`] under `reading_seats`, which no other reading holds.
    async fn read_seats(&self, store: &store::Store) -> store::Result<()> {
        let read = self.read_seats_once(store).await;
        if read.is_err() {
            self.forget_seats();
        }
        read
    }

    async fn read_seats_once(&self, store: &store::Store) -> store::Result<()> {
        let generation = store.login_generation().await?;
        let sittings: Vec<String> = {
            let seats = self.seats.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if seats.generation == Some(generation) {
                return Ok(());
            }
            seats.sittings.iter().cloned().collect()
        };
        let mut fresh = Seats { generation: Some(generation), ..Seats::default() };
        for sitting in &sittings {
            fresh.put(store.sitting_logins(sitting).await?);
        }
        let mut seats = self.seats.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Keep the list as it is now: a sitting closed meanwhile stays forgotten.
        fresh.by_participant.retain(|_, kept| {
            kept.retain(|s| seats.sittings.contains(&s.sitting_id));
            !kept.is_empty()
        });
        fresh.sittings = std::mem::take(&mut seats.sittings);
        *seats = fresh;
        Ok(())
    }

    /// How many logins were decided from the kept seats (since the server started).
    pub fn logins_from_memory(&self) -> u64 {
        self.from_memory.load(Ordering::Relaxed)
    }

    /// Drops a sitting's kept seats (it closed: its logins are refused from now on anyway).
    pub fn forget_sitting(&self, sitting: &str) {
        let mut seats = self.seats.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        seats.sittings.remove(sitting);
        seats.by_participant.retain(|_, kept| {
            kept.retain(|s| s.sitting_id != sitting);
            !kept.is_empty()
        });
    }

    /// Drops every kept seat until the next refresh that can read the store.
    fn forget_seats(&self) {
        let mut seats = self.seats.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        seats.by_participant.clear();
        // No generation the store can hold: the next refresh reads everything again.
        seats.generation = Some(-1);
    }

    /// The kept seat of `participant` in the sitting whose token is `token`, if its PIN is
    /// `pin` (keyed hashes only: argon2 belongs on the store path's blocking pool).
    fn remembered(&self, participant: &str, token: &str, pin: &str) -> Option<store::LoginCandidate> {
        let seats = self.seats.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let seat = seats.by_participant.get(participant)?.iter().find(|s| constant_time_eq(&s.sitting_token, token))?;
        (self.pins.check_pin(participant, pin, &seat.pin_hash) == PinCheck::Match).then(|| seat.clone())
    }

    /// Forgets cached tokens of a session (its logins ended: a move, a close).
    pub fn forget_session(&self, session: &str) {
        self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner).retain(|_, e| e.session != session);
    }

    /// Forgets cached tokens of a session but the one that holds its seat (it started).
    pub fn forget_other_tokens(&self, session: &str, keep_hash: &str) {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|hash, e| e.session != session || hash == keep_hash);
    }

    fn forget_token(&self, hash: &str) {
        self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(hash);
    }

    fn cached(&self, hash: &str) -> Option<TokenEntry> {
        self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(hash).cloned()
    }

    fn cache(&self, hash: String, entry: TokenEntry) {
        self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(hash, entry);
    }

    /// Whether cookies carry `Secure` (the public address is https).
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }

    /// `secure_cookies`: the server's public address is https, so browsers send login
    /// cookies over https only.
    pub fn new(pins: PinKey, secure_cookies: bool) -> Auth {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Auth {
            tokens: Mutex::new(HashMap::new()),
            secure_cookies,
            failures: Mutex::new(HashMap::new()),
            pins,
            hashing: tokio::sync::Semaphore::new(cores),
            seats: Mutex::new(Seats::default()),
            reading_seats: tokio::sync::Mutex::new(()),
            from_memory: AtomicU64::new(0),
        }
    }
}

/// Tokens are stored and cached only as their SHA-256.
pub fn token_hash(token: &str) -> String {
    hex::encode(digest::digest(&digest::SHA256, token.as_bytes()))
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The bearer token of a request: the `Authorization` header, else the named cookie.
pub fn bearer_or_cookie(headers: &HeaderMap, cookie: &str) -> Option<String> {
    if let Some(v) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(t) = v.strip_prefix("Bearer ")
    {
        return Some(t.trim().to_owned());
    }
    headers.get_all(COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == cookie).then(|| v.to_owned())
    })
}

/// A fresh random login token (64 hex digits).
pub fn new_token() -> String {
    hex::encode(rand::rng().random::<[u8; 32]>())
}

/// A JSON reply that also sets (or, with `max_age` 0, clears) a login cookie: HttpOnly,
/// SameSite=Strict, for the whole site; `Secure` when the public address is https. Without
/// `max_age` it is a session cookie: gone when the browser closes (a shared PC).
pub fn with_cookie(
    body: Response,
    cookie: &str,
    token: &str,
    max_age: Option<i64>,
    secure: bool,
) -> Result<Response, ApiError> {
    let mut response = body;
    let mut value = format!("{cookie}={token}; HttpOnly; SameSite=Strict; Path=/");
    if let Some(max_age) = max_age {
        value.push_str(&format!("; Max-Age={max_age}"));
    }
    if secure {
        value.push_str("; Secure");
    }
    response
        .headers_mut()
        .insert(SET_COOKIE, HeaderValue::from_str(&value).map_err(|e| ApiError::internal("cookie", &e))?);
    Ok(response)
}

/// The session a request's login is for, if the login is in force: not ended (a logout,
/// the sitting closed before it started, another login holds the seat) and not expired.
/// A login of a session that has not started expires at the sitting's end for the
/// candidate plus the exam's `token_grace_minutes`; one of a running session lasts as
/// the session does; one of a finished session reads its result for
/// [`RESULT_READABLE_MS`] after the finish (callers refuse everything else).
pub async fn session_of(state: &AppState, headers: &HeaderMap) -> Result<CandidateLogin, ApiError> {
    let token = bearer_or_cookie(headers, CANDIDATE_COOKIE).ok_or_else(ApiError::unauthorized)?;
    if token.len() != 64 {
        return Err(ApiError::unauthorized());
    }
    let hash = token_hash(&token);
    let mut entry = match state.auth.cached(&hash) {
        Some(entry) => entry,
        None => read_token(state, &hash).await?,
    };
    let now = state.registry.clock().utc();
    let status = match state.registry.status_of(&entry.session) {
        Some(status) => status.as_str(),
        None => entry.stored_status.as_str(),
    };
    let expired = || ApiError::login_refused(WireError::token_expired());
    match status {
        "active" | "paused" => {}
        "finished" => {
            if entry.finished_at.is_none() {
                // Finished since this entry was made: the stored time, or (its commit
                // still under way) now.
                let stored = read_token(state, &hash).await?.finished_at;
                entry.finished_at = Some(stored.unwrap_or(now));
                state.auth.cache(hash.clone(), entry.clone());
            }
            if entry.finished_at.is_some_and(|at| now > at + chrono::Duration::milliseconds(RESULT_READABLE_MS)) {
                state.auth.forget_token(&hash);
                return Err(expired());
            }
        }
        _ => {
            if now > entry.ready_until {
                state.auth.forget_token(&hash);
                return Err(expired());
            }
        }
    }
    Ok(CandidateLogin { session: entry.session, token_hash: hash })
}

/// A token as stored, made a cache entry; an ended one is refused with why it ended.
async fn read_token(state: &AppState, hash: &str) -> Result<TokenEntry, ApiError> {
    let row = state.registry.store().login_token(hash).await?.ok_or_else(ApiError::unauthorized)?;
    if let Some(why) = row.revoked {
        return Err(revoked(why));
    }
    let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&chrono::Utc));
    let grace_ms = match state.registry.exam(&row.exam_code).await {
        Ok(ctx) => i64::from(ctx.exam.token_grace_minutes()) * 60_000,
        Err(e) => return Err(ApiError::internal("load exam", &e.message)),
    };
    let from = match (parse(&row.sitting_starts_at), parse(&row.created_at)) {
        (Some(start), Some(login)) => start.max(login),
        (start, login) => start.or(login).ok_or_else(|| ApiError::internal("token", &"unreadable timestamps"))?,
    };
    let entry = TokenEntry {
        session: row.session_id,
        ready_until: from + chrono::Duration::milliseconds(row.allowed_ms.max(0) + grace_ms),
        stored_status: row.session_status,
        finished_at: row.finished_at.as_deref().and_then(parse),
    };
    state.auth.cache(hash.to_owned(), entry.clone());
    Ok(entry)
}

/// The refusal for a login that was ended, saying why.
fn revoked(why: store::Revoked) -> ApiError {
    match why {
        store::Revoked::LoggedOut => ApiError::unauthorized(),
        store::Revoked::SittingClosed => ApiError::login_refused(WireError::sitting_closed()),
        store::Revoked::Superseded | store::Revoked::Moved => ApiError::login_refused(WireError::seat_locked()),
    }
}

#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    pub participant_no: String,
    pub pin: String,
    pub token: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct LoginResponse {
    pub session: String,
    pub token: String,
    pub exam: String,
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    body: Result<Json<LoginRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))?;
    let bad =
        || ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", "participant number, PIN or token is wrong");
    let participant = req.participant_no.trim().to_owned();
    let now = state.registry.clock().tick();
    let address = format!("ip:{}", peer.ip());
    state.auth.check_lockout(&participant, MAX_FAILURES, now)?;
    state.auth.check_lockout(&address, MAX_FAILURES_PER_ADDRESS, now)?;
    let token = req.token.trim().to_ascii_uppercase();
    // A not-started seat's login, from memory (the start's burst). The sitting's status
    // read with the seat covers a change by another process (it raises the generation);
    // the registry's covers this server's console, at once.
    let open = |status: &str| matches!(status, "open" | "paused");
    let remembered = match state.auth.remembered(&participant, &token, &req.pin) {
        Some(seat) if open(&seat.sitting_status) && state.registry.not_started(&seat.session_id) => state
            .registry
            .sitting_status(&seat.sitting_id)
            .await?
            .map(|status| store::LoginCandidate { sitting_status: status, session_status: "ready".to_owned(), ..seat }),
        _ => None,
    };
    let pin_checked = remembered.is_some();
    if pin_checked {
        state.auth.from_memory.fetch_add(1, Ordering::Relaxed);
    }
    let found = match remembered {
        Some(found) => found,
        None => {
            let candidates = state.registry.store().login_candidate(&participant).await?;
            let Some(found) = candidates.into_iter().find(|c| constant_time_eq(&c.sitting_token, &token)) else {
                state.auth.record_failure(&participant, now);
                state.auth.record_failure(&address, now);
                return Err(bad());
            };
            found
        }
    };
    if !open(&found.sitting_status) {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "sitting_not_open", "this sitting is not open"));
    }
    if !pin_checked && !state.auth.verify_pin(&participant, &req.pin, &found.pin_hash).await? {
        state.auth.record_failure(&participant, now);
        state.auth.record_failure(&address, now);
        return Err(bad());
    }
    state.auth.clear_failures(&participant);
    // A started session stays on its PC: a new login (another PC) needs the supervisor's
    // leave, which it uses up, and the old PC's login stops working.
    let moved = matches!(found.session_status.as_str(), "active" | "paused");
    let at = store::ts(state.registry.clock().utc());
    if moved {
        // Taken in one statement: two PCs cannot both use one leave.
        if !state.registry.store().take_move_allowed(&found.session_id).await? {
            return Err(revoked(store::Revoked::Moved));
        }
        state.registry.store().revoke_login_tokens(&found.session_id, store::Revoked::Moved, &at).await?;
        state.auth.forget_session(&found.session_id);
    }
    let token = new_token();
    let hash = token_hash(&token);
    if moved {
        // The seat is this login's from now on, even before the ended ones leave caches.
        state.registry.hand_seat(&found.session_id, &hash);
    }
    // The token and the audit entry go through the group commit: a room logging in at
    // once shares transactions instead of queueing for SQLite's one writer.
    let login = store::NewLoginToken {
        token_hash: hash.clone(),
        session_id: found.session_id.clone(),
        created_at: store::ts(state.registry.clock().utc()),
    };
    let with = store::Batch { login_tokens: vec![login], ..store::Batch::default() };
    state
        .registry
        .record(&participant, "candidate.login", &found.session_id, serde_json::json!({ "moved": moved }), with)
        .await
        .map_err(|e| ApiError::internal("store login", &e))?;
    if !moved && found.session_status == "ready" && state.registry.status_of(&found.session_id) != Some(Status::Ready) {
        // The session started with another login while this one was being stored (after
        // the start ended the others): end this one too.
        state.registry.store().revoke_token(&hash, store::Revoked::Superseded, &at).await?;
        return Err(revoked(store::Revoked::Superseded));
    }
    let (allowed_ms, grace_ms) =
        state.registry.login_terms(&found.session_id).await.map_err(|e| ApiError::internal("login", &e.message))?;
    let now = state.registry.clock().utc();
    let from = state.registry.sitting_start(&found.sitting_id).await?.map_or(now, |start| start.max(now));
    let entry = TokenEntry {
        session: found.session_id.clone(),
        ready_until: from + chrono::Duration::milliseconds((allowed_ms + grace_ms) as i64),
        stored_status: found.session_status.clone(),
        finished_at: None,
    };
    state.auth.cache(hash, entry);
    let exam = state
        .registry
        .get(&found.session_id)
        .await
        .map(|l| l.lock().map(|l| l.exam.exam.code().to_owned()).unwrap_or_default())
        .unwrap_or_default();
    tracing::info!(participant = %participant, session = %found.session_id, "candidate logged in");
    let body = Json(LoginResponse { session: found.session_id, token: token.clone(), exam }).into_response();
    with_cookie(body, CANDIDATE_COOKIE, &token, None, state.auth.secure_cookies())
}

/// Ends the login on the server (the next person at a shared PC cannot use it) and clears
/// the cookie.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = bearer_or_cookie(&headers, CANDIDATE_COOKIE).filter(|t| t.len() == 64) {
        let hash = token_hash(&token);
        let at = store::ts(state.registry.clock().utc());
        state.registry.store().revoke_token(&hash, store::Revoked::LoggedOut, &at).await?;
        state.auth.forget_token(&hash);
    }
    with_cookie(StatusCode::NO_CONTENT.into_response(), CANDIDATE_COOKIE, "", Some(0), state.auth.secure_cookies())
}

/// Keeps the remembered seats current: every [`LOGINS_WATCH_EVERY`], reads the store's
/// login generation and, if it moved, every kept sitting's seats again. Stops at shutdown.
pub async fn watch_logins(
    auth: std::sync::Arc<Auth>,
    store: store::Store,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut every = tokio::time::interval(LOGINS_WATCH_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = every.tick() => {
                if let Err(e) = auth.refresh_seats(&store).await {
                    tracing::warn!(error = %e, "cannot read the login generation; logins go to the database until it can");
                }
            }
            () = crate::app::stopped(&mut shutdown) => break,
        }
    }
}
