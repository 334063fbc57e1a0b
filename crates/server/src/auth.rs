//! Candidate login and the tokens that authenticate the WebSocket.
//!
//! Login checks the sitting token first, then the PIN against its keyed hash (see
//! [`credentials`]): the exam start is when every candidate logs in together, so a PIN
//! check costs microseconds. Staff passwords (and PIN hashes of earlier versions) are
//! argon2id, checked on a blocking thread with at most as many hashes at once as there
//! are cores. Failed logins are throttled by [`crate::throttle`]: a wrong PIN counts
//! against the participant only once the sitting token matched.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use std::net::IpAddr;

use rand::RngExt as _;
use ring::digest;
use serde::{Deserialize, Serialize};
use session_engine::Status;

use crate::actions::LogAction;
use crate::credentials::{self, PinCheck, PinKey};
use crate::error::{ApiError, Code, WireError};
use crate::live::Registry;
use crate::sittings::SittingStatus;
use crate::throttle::{Locked, Subject, Throttle};

/// How long a finished session's login can still read its result (and nothing else).
pub const RESULT_READABLE_MS: i64 = 15 * 60_000;

/// An argon2id hash of nothing anyone knows, with the parameters [`credentials::hash_secret`]
/// uses: a login for an unknown staff username is checked against it, so it takes as long
/// as a wrong password for a real one and the time taken does not tell which usernames
/// exist.
const DUMMY_PASSWORD_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$dWppYW4tZHVtbXktc2FsdA$yNBs0eHa3Eu7J5Ct2cDL1bvuvaOiqVlPygnBDP0M4ZI";

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
    /// Failed logins, candidates' and staff's.
    pub throttle: Throttle,
    pins: PinKey,
    hashing: tokio::sync::Semaphore,
    /// Argon2 checks run (since start), whether for a known account or not.
    password_checks: AtomicU64,
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
        self.password_checks.fetch_add(1, Ordering::Relaxed);
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

    /// Checks a password for a staff username that does not exist, as long as for one that
    /// does; always false.
    pub async fn verify_nobody(&self, password: &str) -> Result<bool, ApiError> {
        self.verify(password, DUMMY_PASSWORD_HASH).await?;
        Ok(false)
    }

    /// How many logins were decided from the kept seats (since the server started).
    pub fn logins_from_memory(&self) -> u64 {
        self.from_memory.load(Ordering::Relaxed)
    }

    /// How many argon2 checks ran (since the server started).
    pub fn password_checks(&self) -> u64 {
        self.password_checks.load(Ordering::Relaxed)
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

    /// The kept seat of `participant` in the sitting whose token is `token`.
    fn remembered(&self, participant: &str, token: &str) -> Option<store::LoginCandidate> {
        let seats = self.seats.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        seats.by_participant.get(participant)?.iter().find(|s| constant_time_eq(&s.sitting_token, token)).cloned()
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
            throttle: Throttle::new(),
            pins,
            hashing: tokio::sync::Semaphore::new(cores),
            password_checks: AtomicU64::new(0),
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

/// A fresh random login token (64 hex digits).
pub fn new_token() -> String {
    hex::encode(rand::rng().random::<[u8; 32]>())
}

/// The candidate's login: issued, checked on every request, ended.
impl Auth {
    /// The session a request's login is for, if the login is in force: not ended (a logout,
    /// the sitting closed before it started, another login holds the seat) and not expired.
    /// A login of a session that has not started expires at the sitting's end for the
    /// candidate plus the exam's `token_grace_minutes`; one of a running session lasts as
    /// the session does; one of a finished session reads its result for
    /// [`RESULT_READABLE_MS`] after the finish (callers refuse everything else).
    pub async fn session_of(&self, registry: &Registry, token: Option<&str>) -> Result<CandidateLogin, ApiError> {
        let token = token.ok_or_else(ApiError::unauthorized)?;
        if token.len() != 64 {
            return Err(ApiError::unauthorized());
        }
        let hash = token_hash(token);
        let mut entry = match self.cached(&hash) {
            Some(entry) => entry,
            None => self.read_token(registry, &hash).await?,
        };
        let now = registry.clock().utc();
        let status = registry.status_of(&entry.session).or_else(|| Status::from_stored(&entry.stored_status, None));
        let expired = || ApiError::from(WireError::token_expired());
        match status {
            Some(Status::Active | Status::Paused) => {}
            Some(Status::Finished(_)) => {
                if entry.finished_at.is_none() {
                    // Finished since this entry was made: the stored time, or (its commit
                    // still under way) now.
                    let stored = self.read_token(registry, &hash).await?.finished_at;
                    entry.finished_at = Some(stored.unwrap_or(now));
                    self.cache(hash.clone(), entry.clone());
                }
                if entry.finished_at.is_some_and(|at| now > at + chrono::Duration::milliseconds(RESULT_READABLE_MS)) {
                    self.forget_token(&hash);
                    return Err(expired());
                }
            }
            _ => {
                if now > entry.ready_until {
                    self.forget_token(&hash);
                    return Err(expired());
                }
            }
        }
        Ok(CandidateLogin { session: entry.session, token_hash: hash })
    }

    /// A token as stored, made a cache entry; an ended one is refused with why it ended.
    async fn read_token(&self, registry: &Registry, hash: &str) -> Result<TokenEntry, ApiError> {
        let row = registry.store().login_token(hash).await?.ok_or_else(ApiError::unauthorized)?;
        if let Some(why) = row.revoked {
            return Err(revoked(why));
        }
        let parse = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&chrono::Utc));
        let grace_ms = match registry.exams().get(&row.exam_code).await {
            Ok(ctx) => i64::from(ctx.exam.token_grace_minutes()) * 60_000,
            Err(e) => return Err(ApiError::internal("load exam", &e)),
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
        self.cache(hash.to_owned(), entry.clone());
        Ok(entry)
    }

    /// A candidate's login: the sitting token, then the PIN, each counted against the
    /// throttle; a started session's seat moves only with the supervisor's leave. Returns the
    /// new login token.
    pub async fn login(
        &self,
        registry: &Registry,
        client: IpAddr,
        req: &LoginRequest,
    ) -> Result<LoginResponse, ApiError> {
        let bad = || ApiError::new(Code::BadCredentials, "participant number, PIN or token is wrong");
        let participant = req.participant_no.trim();
        if !is_participant_no(participant) {
            return Err(ApiError::new(
                Code::BadRequest,
                "a participant number holds letters, digits, '-' and '_' (at most 32)",
            ));
        }
        let now = registry.clock().tick();
        let throttle = &self.throttle;
        let from_address = throttle.reserve(Subject::address(client), now).map_err(locked_out)?;
        let token = req.token.trim().to_ascii_uppercase();
        // The sitting token first: until it matched, a failure counts against the address
        // only, so nobody outside the room can lock a candidate out.
        //
        // A not-started seat's login, from memory (the start's burst). The sitting's status
        // read with the seat covers a change by another process (it raises the generation);
        // the registry's covers this server's console, at once.
        let open = |status: &str| status.parse().is_ok_and(SittingStatus::accepts_logins);
        let mut attempt = None;
        let remembered = match self.remembered(participant, &token) {
            Some(seat) if open(&seat.sitting_status) && registry.not_started(&seat.session_id) => {
                attempt = Some(throttle.reserve(Subject::participant(participant), now).map_err(locked_out)?);
                // A PIN the kept hash refuses is decided against the store (it may be newer).
                if self.pins.check_pin(participant, &req.pin, &seat.pin_hash) == PinCheck::Match {
                    registry.sitting_status(&seat.sitting_id).await?.map(|status| store::LoginCandidate {
                        sitting_status: status.as_str().to_owned(),
                        session_status: Status::Ready.as_str().to_owned(),
                        ..seat
                    })
                } else {
                    None
                }
            }
            _ => None,
        };
        let pin_checked = remembered.is_some();
        if pin_checked {
            self.from_memory.fetch_add(1, Ordering::Relaxed);
        }
        let found = match remembered {
            Some(found) => found,
            None => {
                let candidates = registry.store().login_candidate(participant).await?;
                let Some(found) = candidates.into_iter().find(|c| constant_time_eq(&c.sitting_token, &token)) else {
                    from_address.failed();
                    return Err(bad());
                };
                found
            }
        };
        if !open(&found.sitting_status) {
            return Err(ApiError::new(Code::SittingNotOpen, "this sitting is not open"));
        }
        // Counted before the PIN is checked: however many arrive at once, no more than the
        // limit are checked.
        let attempt = match attempt {
            Some(attempt) => attempt,
            None => throttle.reserve(Subject::participant(participant), now).map_err(locked_out)?,
        };
        if !pin_checked && !self.verify_pin(participant, &req.pin, &found.pin_hash).await? {
            attempt.failed();
            from_address.failed();
            return Err(bad());
        }
        attempt.cleared();
        // A login that worked does not count against its address.
        drop(from_address);
        // A started session stays on its PC: a new login (another PC) needs the supervisor's
        // leave, which it uses up, and the old PC's login stops working.
        let moved = Status::from_stored(&found.session_status, None).is_some_and(Status::is_working);
        let at = store::ts(registry.clock().utc());
        if moved {
            // Taken in one statement: two PCs cannot both use one leave.
            if !registry.store().take_move_allowed(&found.session_id).await? {
                return Err(revoked(store::Revoked::Moved));
            }
            registry.store().revoke_login_tokens(&found.session_id, store::Revoked::Moved, &at).await?;
            self.forget_session(&found.session_id);
        }
        let token = new_token();
        let hash = token_hash(&token);
        if moved {
            // The seat is this login's from now on, even before the ended ones leave caches.
            registry.hand_seat(&found.session_id, &hash);
        }
        // The token and the audit entry go through the group commit: a room logging in at
        // once shares transactions instead of queueing for SQLite's one writer.
        let login = store::NewLoginToken {
            token_hash: hash.clone(),
            session_id: found.session_id.clone(),
            created_at: store::ts(registry.clock().utc()),
        };
        let with = store::Batch { login_tokens: vec![login], ..store::Batch::default() };
        registry
            .record(
                participant,
                LogAction::CandidateLogin,
                &found.session_id,
                serde_json::json!({ "moved": moved }),
                with,
            )
            .await
            .map_err(|e| ApiError::internal("store login", &e))?;
        if !moved
            && Status::from_stored(&found.session_status, None) == Some(Status::Ready)
            && registry.status_of(&found.session_id) != Some(Status::Ready)
        {
            // The session started with another login while this one was being stored (after
            // the start ended the others): end this one too.
            registry.store().revoke_token(&hash, store::Revoked::Superseded, &at).await?;
            return Err(revoked(store::Revoked::Superseded));
        }
        let (allowed_ms, grace_ms) =
            registry.login_terms(&found.session_id).await.map_err(|e| e.into_internal("login"))?;
        let now = registry.clock().utc();
        let from = registry.sitting_start(&found.sitting_id).await?.map_or(now, |start| start.max(now));
        let entry = TokenEntry {
            session: found.session_id.clone(),
            ready_until: from + chrono::Duration::milliseconds((allowed_ms + grace_ms) as i64),
            stored_status: found.session_status.clone(),
            finished_at: None,
        };
        self.cache(hash, entry);
        let exam = registry.exam_code(&found.session_id).await.unwrap_or_else(|e| {
            e.log_dropped("login: the exam's code", &found.session_id);
            String::new()
        });
        tracing::info!(participant = %participant, session = %found.session_id, "candidate logged in");
        Ok(LoginResponse { session: found.session_id, token, exam })
    }

    /// Ends a login on the server: the next person at a shared PC cannot use it.
    pub async fn logout(&self, registry: &Registry, token: Option<&str>) -> Result<(), ApiError> {
        if let Some(token) = token.filter(|t| t.len() == 64) {
            let hash = token_hash(token);
            let at = store::ts(registry.clock().utc());
            registry.store().revoke_token(&hash, store::Revoked::LoggedOut, &at).await?;
            self.forget_token(&hash);
        }
        Ok(())
    }
}

/// The refusal for a login that was ended, saying why.
fn revoked(why: store::Revoked) -> ApiError {
    match why {
        store::Revoked::LoggedOut => ApiError::unauthorized(),
        store::Revoked::SittingClosed => ApiError::from(WireError::sitting_closed()),
        store::Revoked::Superseded | store::Revoked::Moved => ApiError::from(WireError::seat_locked()),
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

/// True for what a participant number may be (as `ujian candidates import` checks it):
/// letters, digits, `-` and `_`, at most 32. Checked before a login touches anything.
pub fn is_participant_no(s: &str) -> bool {
    !s.is_empty() && s.len() <= 32 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The largest body a login takes: its fields are short.
pub const LOGIN_BODY_LIMIT: usize = 4 * 1024;

/// The refusal of a login whose participant, account or address used up its attempts.
pub(crate) fn locked_out(locked: Locked) -> ApiError {
    let minutes = locked.retry_after_ms.div_ceil(60_000).max(1);
    ApiError::new(
        Code::TooManyAttempts,
        format!("too many failed logins; try again in {minutes} minutes or ask the supervisor"),
    )
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
            () = crate::shutdown::stopped(&mut shutdown) => break,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_password_hash_costs_what_a_real_one_does() {
        // Algorithm, version and cost parameters: everything before the salt.
        let cost = |phc: &str| phc.split('$').take(4).collect::<Vec<_>>().join("$");
        let real = credentials::hash_secret("a real password").expect("hash");
        assert_eq!(cost(DUMMY_PASSWORD_HASH), cost(&real));
        assert!(!credentials::verify_secret("", DUMMY_PASSWORD_HASH));
    }

    #[test]
    fn a_participant_number_is_short_and_plain() {
        for ok in ["P-0001", "DEMO_1", &"9".repeat(32)] {
            assert!(is_participant_no(ok), "{ok}");
        }
        for bad in ["", "P 1", "P-1;", &"9".repeat(33), "Ü-1"] {
            assert!(!is_participant_no(bad), "{bad}");
        }
    }
}
