//! Sessions in memory: the registry of live sessions, the candidate actions on them, and
//! the sweeps that finish sessions at their deadline and checkpoint their clocks.
//!
//! A session's state is changed under its own short `std::sync::Mutex` (never held across
//! an `.await`), then the change goes to the group-commit [`Writer`]; the candidate is
//! acknowledged only after the commit. A failed commit evicts the session from memory so
//! the next access reloads exactly what was stored.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use item_bank::{Bank, BoardRunning, Exam, ItemId, Label, SectionCode};
use ring::digest;
use session_engine::{AnswerCycling, Command, Event, FinishReason, PaperEntry, Refusal, Session, Status, Tick};
use store::{Batch, LogDigest, LogEntry, SessionRecord, SessionWrite, Store};
use tokio::sync::{Notify, mpsc};

use crate::actions::LogAction;
use crate::audit::Audit;
use crate::board::{BoardExam, BoardHub, RowSource, RowUpdate, Scored};
use crate::clock::Clock;
use crate::error::{Code, WireError};
use crate::monitor::{MonitorHub, SeatEvent};
use crate::protocol::ClientEvent;
use crate::protocol::{OptionView, QuestionView, ResultView, SectionInfo, SectionResult, ServerMsg};
use crate::receipt::{ReceiptPayload, Signer};
use crate::writer::{WriteError, Writer};

/// The oldest a running clock's stored figure may get. Every stored answer carries the
/// clock; a session with nothing stored for this long gets a checkpoint. After a crash at
/// most this much time is lost to the candidate's advantage (never charged), which is the
/// right side to err on.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(5);
/// How often the checkpoint looks for clocks that are getting old. Each pass writes only
/// those, so the writes spread over the interval instead of arriving as one burst.
const CHECKPOINT_TICK: Duration = Duration::from_secs(1);
/// How often the deadline sweep looks for sessions whose time is up.
pub const SWEEP_EVERY: Duration = Duration::from_millis(250);
/// How long a finish waits for an earlier line still being committed ([`settle`]): up to
/// `SETTLE_TRIES` × `SETTLE_WAIT`.
const SETTLE_TRIES: u32 = 200;
const SETTLE_WAIT: Duration = Duration::from_millis(5);

/// An exam with its bank, loaded once and shared by every session of the exam.
pub struct ExamCtx {
    pub exam: Exam,
    pub bank: Bank,
    pub bank_hash: String,
    /// What the public board shows of this exam, shared by every row.
    pub board: Arc<BoardExam>,
    index: HashMap<ItemId, usize>,
}

impl ExamCtx {
    pub fn new(exam: Exam, bank: Bank) -> ExamCtx {
        let index = bank.items().iter().enumerate().map(|(i, item)| (item.id().clone(), i)).collect();
        let bank_hash = bank.hash().to_hex();
        let board = Arc::new(BoardExam::of(&exam));
        ExamCtx { exam, bank, bank_hash, board, index }
    }
}

/// Something the server pushes to a connection outside a request/reply.
#[derive(Debug, Clone)]
pub enum Push {
    Msg(Box<ServerMsg>),
    /// Send `taken_over`, then close: a newer connection has the seat.
    TakenOver,
    /// The session this connection is attached to was evicted (a failed commit): attach
    /// to the stored truth ([`Registry::reattach`]) so pushes keep reaching the seat.
    Evicted,
}

struct Conn {
    id: u64,
    tx: mpsc::Sender<Push>,
}

/// One session in memory.
pub struct Live {
    pub id: String,
    pub sitting: String,
    pub venue: String,
    pub participant_no: String,
    pub name: String,
    pub exam: Arc<ExamCtx>,
    /// Paper positions with the bank index of their item.
    entries: Vec<(PaperEntry, usize)>,
    session: Session,
    extension_ms: u64,
    last_seq: i64,
    /// Every acknowledged seq: its position and server timestamp, to repeat the ack.
    acks: BTreeMap<i64, (Option<i64>, String)>,
    /// Seqs accepted but not yet committed, each with what its line changed: the public
    /// board shows the sheet without them ([`Live::row_update`]).
    pending: BTreeMap<i64, Undo>,
    /// The answer log's digest up to the last accepted line (what a receipt signs). Lines
    /// go in as they are accepted, in seq order; one whose commit fails makes the session
    /// `stale`, so a digest with an unstored line is never signed.
    digest: LogDigest,
    /// Evicted after a failed commit: this copy may hold what was never stored. Whoever
    /// still holds it is refused, and the next access loads the stored truth.
    stale: bool,
    result: Option<ResultView>,
    conn: Option<Conn>,
    /// When the last answer was accepted, to spot answers faster than anyone can read.
    last_answer: Option<Tick>,
    /// When the clock was last handed to the writer (with an answer or a checkpoint).
    clock_written: Tick,
    /// Status changes made on the server's side (a start, a supervisor's action, time up)
    /// applied and not yet committed, and the status before the first of them, which the
    /// board shows until they are stored (commits land in the order they were queued).
    unstored_status: Option<(u32, Status)>,
    /// Marked for the board's next read and not read yet: another ack before that read
    /// need not mark it again (the read sees every line committed before it; one still
    /// being committed then is marked again by its ack, the read having cleared this).
    on_board_queue: bool,
    /// The login (its token's hash) that holds the seat: the one that started the session,
    /// or the one a supervisor's allow-move let in. Another login's connect is refused
    /// (`seat_locked`) even before the store's end of it reaches every cache. `None` for a
    /// session loaded from the store, whose other logins the store has already ended.
    seat_token: Option<String>,
    /// With `[board] running = "interval"`: the stored sheet at the last mark, which is
    /// all the board shows of a running score ([`Live::at_interval_mark`]).
    interval: Option<IntervalMark>,
    /// Recent answers, to tell the supervisor when one question is tried option by option.
    cycling: AnswerCycling,
}

/// The sheet as stored at an interval mark of the board's clock.
#[derive(Debug, Clone)]
struct IntervalMark {
    /// Whole intervals since the Unix epoch, by the server's UTC clock.
    mark: i64,
    /// `None` when the session was first seen after the mark (not started then, or loaded
    /// after a restart): nothing is shown until the next mark.
    sheet: Option<Vec<Option<Label>>>,
}

/// What a line accepted but not yet committed changed, to be taken back out of what the
/// public board is shown: the board shows only what is stored (DESIGN rule 1), and the
/// line's commit may still fail.
#[derive(Debug, Clone, Copy, Default)]
struct Undo {
    /// The position answered and the choice it held before.
    answer: Option<(usize, Option<Label>)>,
    /// The status a finish ended.
    status: Option<Status>,
}

/// A connection's hold on its session. The first message looks the session up in the
/// registry; later ones use that copy without the registry's lock, until it is evicted
/// (a failed commit marks it stale), when the next message looks it up again.
pub struct SessionRef {
    id: String,
    live: Option<Arc<Mutex<Live>>>,
    /// The connection's id and push channel, attached again to a copy loaded after an
    /// eviction.
    conn_id: u64,
    tx: mpsc::Sender<Push>,
}

impl SessionRef {
    /// `conn_id`: what [`Registry::connect`] gave the connection; `tx`: its push channel.
    pub fn new(id: String, conn_id: u64, tx: mpsc::Sender<Push>) -> SessionRef {
        SessionRef { id, live: None, conn_id, tx }
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// A seat as the monitor sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SeatLive {
    pub connected: bool,
    pub answered: u32,
    pub total: u32,
    pub remaining_ms: u64,
    /// The total, where the exam's policy lets the supervisor see it: always once
    /// finished; while running only with `supervisor_running_scores` or as the public
    /// board shows it (`null` otherwise).
    pub score: Option<i64>,
    pub status: String,
}

/// What a candidate can ask for that changes state (each carries a seq).
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Answer { index: i64, choice: Option<String> },
    Flag { index: i64, flagged: bool },
    Finish,
    Event { kind: ClientEvent },
}

/// The shared registry of live sessions.
pub struct Registry {
    store: Store,
    clock: Arc<dyn Clock>,
    writer: Writer,
    board: Arc<BoardHub>,
    audit: Arc<Audit>,
    signer: Arc<Signer>,
    pub monitor: MonitorHub,
    /// Two answers closer than this are reported to the supervisor as implausibly fast.
    fast_answer_ms: u64,
    exams: Mutex<HashMap<String, Arc<ExamCtx>>>,
    live: Mutex<HashMap<String, Arc<Mutex<Live>>>>,
    /// Sitting statuses as this server last read or set them. A room's candidates connect
    /// at once and each needs its sitting's status (a paused room starts its seats
    /// paused); a status changes only through this server's console, which sets it here.
    sittings: Mutex<HashMap<String, String>>,
    /// Sittings' scheduled starts, read once each: a login's expiry counts from it.
    sitting_starts: Mutex<HashMap<String, chrono::DateTime<chrono::Utc>>>,
    next_conn: std::sync::atomic::AtomicU64,
    /// Counts evictions (changed under the `live` lock). A load that saw it change may have
    /// read the store before a commit of the evicted copy, so it does not insert.
    evictions: std::sync::atomic::AtomicU64,
    /// Wakes the deadline sweep early (tests that move the clock use it).
    pub sweep_now: Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a session lock leaves data that was consistent before the
    // panicking statement; continuing beats taking every later request down with it.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Registry {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        writer: Writer,
        board: Arc<BoardHub>,
        audit: Arc<Audit>,
        signer: Arc<Signer>,
        fast_answer_ms: u64,
    ) -> Registry {
        Registry {
            store,
            clock,
            writer,
            board,
            audit,
            signer,
            monitor: MonitorHub::default(),
            fast_answer_ms,
            exams: Mutex::new(HashMap::new()),
            live: Mutex::new(HashMap::new()),
            sittings: Mutex::new(HashMap::new()),
            sitting_starts: Mutex::new(HashMap::new()),
            next_conn: std::sync::atomic::AtomicU64::new(1),
            evictions: std::sync::atomic::AtomicU64::new(0),
            sweep_now: Notify::new(),
        }
    }

    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A sitting's status (`None`: no such sitting), read from the store once.
    pub async fn sitting_status(&self, id: &str) -> store::Result<Option<String>> {
        if let Some(s) = lock(&self.sittings).get(id) {
            return Ok(Some(s.clone()));
        }
        let Some(row) = self.store.get_sitting(id).await? else { return Ok(None) };
        // A status set while this read was under way is newer: keep it.
        Ok(Some(lock(&self.sittings).entry(id.to_owned()).or_insert(row.status).clone()))
    }

    /// Stores a sitting's new status, then makes it the one `sitting_status` answers.
    pub async fn set_sitting_status(&self, id: &str, status: &str) -> store::Result<()> {
        self.store.set_sitting_status(id, status).await?;
        lock(&self.sittings).insert(id.to_owned(), status.to_owned());
        Ok(())
    }

    /// Closes a sitting: no session of it starts from now on, and the logins of those that
    /// have not started end (`sitting_closed`) with the status, in one transaction. A
    /// session whose start is applied in memory but may not be stored yet keeps its login.
    /// Returns the sessions whose logins ended.
    pub async fn close_sitting(&self, id: &str) -> store::Result<Vec<String>> {
        // Closed here first: a connect decides a start under its session's lock against
        // this map, so once every session's lock has been taken below, no start that
        // read the sitting open is still undecided.
        let before = lock(&self.sittings).insert(id.to_owned(), "closed".to_owned());
        let started: Vec<String> = self
            .snapshot_all()
            .iter()
            .filter_map(|live| {
                let l = lock(live);
                (l.sitting == id && l.session.status() != Status::Ready).then(|| l.id.clone())
            })
            .collect();
        match self.store.close_sitting(id, &started, &store::ts(self.clock.utc())).await {
            Ok(ended) => Ok(ended),
            Err(e) => {
                let mut sittings = lock(&self.sittings);
                match before {
                    Some(status) => sittings.insert(id.to_owned(), status),
                    None => sittings.remove(id),
                };
                Err(e)
            }
        }
    }

    /// A sitting's scheduled start (`None`: no such sitting), read from the store once.
    pub async fn sitting_start(&self, id: &str) -> store::Result<Option<chrono::DateTime<chrono::Utc>>> {
        if let Some(t) = lock(&self.sitting_starts).get(id) {
            return Ok(Some(*t));
        }
        let Some(row) = self.store.get_sitting(id).await? else { return Ok(None) };
        let Some(start) = parse_ts(&row.starts_at) else { return Ok(None) };
        lock(&self.sitting_starts).insert(id.to_owned(), start);
        Ok(Some(start))
    }

    /// A session's status if it is in memory (and not evicted).
    pub fn status_of(&self, id: &str) -> Option<Status> {
        let live = lock(&self.live).get(id).cloned()?;
        let l = lock(&live);
        (!l.stale).then(|| l.session.status())
    }

    /// What a new login of a session needs to know for its expiry: the session's exam
    /// time (duration and extensions) and the exam's grace, in milliseconds.
    pub async fn login_terms(&self, id: &str) -> Result<(u64, u64), WireError> {
        let live = self.get(id).await?;
        let l = lock(&live);
        Ok((l.session.allowed(), u64::from(l.exam.exam.token_grace_minutes()) * 60_000))
    }

    /// Gives a started session's seat to another login (a supervisor allowed a move).
    pub fn hand_seat(&self, id: &str, token_hash: &str) {
        if let Some(live) = lock(&self.live).get(id).cloned() {
            lock(&live).seat_token = Some(token_hash.to_owned());
        }
    }

    /// An item image of a candidate's own paper, while the session runs: a question's
    /// images are part of the question, so they are served only when it could be. `None`
    /// when the image is not on this paper.
    pub async fn paper_asset(&self, id: &str, bank_hash: &str, name: &str) -> Result<Option<Vec<u8>>, WireError> {
        let live = self.get(id).await?;
        let l = lock(&live);
        match l.session.status() {
            Status::Active => {}
            Status::Ready => return Err(Refusal::NotStarted.into()),
            Status::Paused => return Err(Refusal::Paused.into()),
            Status::Finished(_) => return Err(Refusal::AlreadyFinished.into()),
        }
        if l.exam.bank_hash != bank_hash {
            return Ok(None);
        }
        let items = l.exam.bank.items();
        let on_paper = l.entries.iter().any(|(_, idx)| {
            let item = &items[*idx];
            item.image() == Some(name) || item.options().iter().any(|o| o.image() == Some(name))
        });
        Ok(on_paper.then(|| l.exam.bank.asset(name).map(<[u8]>::to_vec)).flatten())
    }

    /// The exam (and bank) by code, from the cache or the store.
    pub async fn exam(&self, code: &str) -> Result<Arc<ExamCtx>, WireError> {
        if let Some(ctx) = lock(&self.exams).get(code) {
            return Ok(ctx.clone());
        }
        let stored = self
            .store
            .get_exam(code)
            .await
            .map_err(|e| WireError::internal("load exam", &e))?
            .ok_or_else(|| WireError::new(Code::Internal, format!("exam {code} is not stored")))?;
        let ctx = Arc::new(ExamCtx::new(stored.exam, stored.bank));
        let mut exams = lock(&self.exams);
        if !exams.contains_key(code)
            && let Some(warning) = ctx.exam.board().running.warning(code)
        {
            tracing::warn!("{warning}");
        }
        Ok(exams.entry(code.to_owned()).or_insert(ctx).clone())
    }

    /// The warnings about the exams in memory (a live board is an answer-key oracle), for
    /// the server's start.
    pub fn exam_warnings(&self) -> Vec<String> {
        let exams = lock(&self.exams);
        let mut out: Vec<String> =
            exams.values().filter_map(|c| c.exam.board().running.warning(c.exam.code())).collect();
        out.sort();
        out
    }

    /// An asset of any loaded bank, by bank hash and file name.
    pub fn asset(&self, bank_hash: &str, name: &str) -> Option<Vec<u8>> {
        let exams = lock(&self.exams);
        exams.values().find(|c| c.bank_hash == bank_hash).and_then(|c| c.bank.asset(name).map(<[u8]>::to_vec))
    }

    /// The live session, loading it from the store if it is not in memory.
    pub async fn get(&self, id: &str) -> Result<Arc<Mutex<Live>>, WireError> {
        // Loads run in parallel (a room logging in loads hundreds at once). Two loads of
        // one session may race: both read the stored state, and the first to insert wins;
        // the other's copy is dropped before anyone saw it, so one `Live` is ever used.
        loop {
            if let Some(l) = lock(&self.live).get(id) {
                return Ok(l.clone());
            }
            let generation = self.generation();
            let rec = self
                .store
                .load_session(id)
                .await
                .map_err(|e| WireError::internal("load session", &e))?
                .ok_or_else(|| WireError::new(Code::UnknownSession, "no such session"))?;
            let exam = self.exam(&rec.exam_code).await?;
            if let Some(live) = self.install(id, build_live(rec, exam, self.clock.tick())?, generation) {
                // What was just read is stored: the board's row may be older (a copy that
                // was evicted, or a line that landed after it was read).
                self.publish(&live);
                return Ok(live);
            }
            // An eviction while we read: what we read may miss its last commit. Read again.
        }
    }

    /// The live session a connection holds ([`SessionRef`]): the copy it already has,
    /// unless that copy was evicted, in which case the registry's (loaded again if need be).
    async fn resolve(&self, seat: &mut SessionRef) -> Result<Arc<Mutex<Live>>, WireError> {
        if let Some(live) = &seat.live
            && !lock(live).stale
        {
            return Ok(live.clone());
        }
        let replaced = seat.live.is_some();
        let live = self.get(&seat.id).await?;
        lock(&live).attach(Conn { id: seat.conn_id, tx: seat.tx.clone() });
        if replaced {
            // The board's row may be older than what the store now holds.
            self.publish(&live);
        }
        seat.live = Some(live.clone());
        Ok(live)
    }

    /// After [`Push::Evicted`]: the connection's session as stored, with the connection
    /// attached to it (nothing to do if a message since then already did that).
    pub async fn reattach(&self, seat: &mut SessionRef) -> Result<(), WireError> {
        self.resolve(seat).await.map(drop)
    }

    /// Whether a session is in memory and not started (what a login from memory needs:
    /// anything else is decided against the store).
    pub fn not_started(&self, id: &str) -> bool {
        let live = lock(&self.live).get(id).cloned();
        live.is_some_and(|l| {
            let l = lock(&l);
            !l.stale && l.session.status() == Status::Ready
        })
    }

    /// The eviction count now, taken before reading the store for [`Registry::install`].
    fn generation(&self) -> u64 {
        self.evictions.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Registers `built` unless the session is already live (then that one is returned)
    /// or a session was evicted since `generation` (then `None`: the read may predate the
    /// evicted copy's last commit).
    fn install(&self, id: &str, built: Live, generation: u64) -> Option<Arc<Mutex<Live>>> {
        let mut map = lock(&self.live);
        if let Some(l) = map.get(id) {
            return Some(l.clone());
        }
        if self.generation() != generation {
            return None;
        }
        let live = Arc::new(Mutex::new(built));
        map.insert(id.to_owned(), live.clone());
        Some(live)
    }

    /// Forgets a session whose in-memory state may be ahead of the store.
    fn evict(&self, id: &str, which: &Arc<Mutex<Live>>) {
        {
            let mut l = lock(which);
            l.stale = true;
            if let Some(c) = l.conn.take() {
                let _ = c.tx.try_send(Push::Evicted);
            }
        }
        let mut map = lock(&self.live);
        if map.get(id).is_some_and(|l| Arc::ptr_eq(l, which)) {
            map.remove(id);
            self.evictions.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// Loads every unfinished session, so the deadline sweep sees them after a restart
    /// whether or not their candidates come back.
    pub async fn load_unfinished(&self) -> anyhow::Result<usize> {
        let generation = self.generation();
        let recs = self.store.load_unfinished_sessions().await?;
        Ok(self.keep(recs, generation).await)
    }

    /// Brings every session of an open sitting that has not started into memory, so that
    /// a room logging in at once finds its sessions there instead of loading them one by
    /// one. Sessions already in memory are kept as they are.
    pub async fn load_sitting(&self, sitting_id: &str) -> anyhow::Result<usize> {
        let generation = self.generation();
        let recs = self.store.load_sitting_sessions(sitting_id).await?;
        Ok(self.keep(recs, generation).await)
    }

    /// Builds and registers loaded sessions (unless already live); returns how many. If a
    /// session was evicted since `generation`, none is registered: they load on demand.
    async fn keep(&self, recs: Vec<SessionRecord>, generation: u64) -> usize {
        let count = recs.len();
        let now = self.clock.tick();
        for rec in recs {
            let id = rec.id.clone();
            let built = match self.exam(&rec.exam_code).await {
                Ok(exam) => build_live(rec, exam, now),
                Err(e) => Err(e),
            };
            match built {
                Ok(live) => {
                    if self.install(&id, live, generation).is_none() {
                        tracing::info!("a session was evicted while loading; the rest load on demand");
                        return count;
                    }
                }
                Err(e) => tracing::error!(session = %id, error = %e.message, "cannot load session"),
            }
        }
        count
    }

    /// Attaches a new connection of the login `token_hash`; a previous one is told it was
    /// taken over. Starts the session on its first connect, only while its sitting is
    /// open (or paused: it starts paused), and ends the session's other logins with the
    /// start. A started session takes only the login that holds its seat. Returns the
    /// connection id, the welcome, and whether this connect started the session.
    pub async fn connect(
        &self,
        id: &str,
        token_hash: &str,
        tx: mpsc::Sender<Push>,
    ) -> Result<(u64, ServerMsg, bool), WireError> {
        let live = self.get(id).await?;
        let (not_started, sitting) = {
            let l = lock(&live);
            (l.session.status() == Status::Ready, l.sitting.clone())
        };
        if not_started {
            // Read into `sittings`, where the start is decided under the session's lock.
            self.sitting_status(&sitting).await.map_err(|e| WireError::internal("load sitting", &e))?;
        }
        let conn_id = self.next_conn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let start_write = {
            let mut l = lock(&live);
            let mut sitting_paused = false;
            if l.session.status() == Status::Ready {
                match lock(&self.sittings).get(&sitting).map(String::as_str) {
                    Some("open") => {}
                    Some("paused") => sitting_paused = true,
                    Some("closed") => return Err(WireError::sitting_closed()),
                    _ => return Err(WireError::new(Code::SittingNotOpen, "the sitting is not open")),
                }
            } else if l.seat_token.as_deref().is_some_and(|t| t != token_hash) {
                return Err(WireError::seat_locked());
            }
            if l.attach(Conn { id: conn_id, tx }) {
                tracing::info!(session = %id, "seat taken over by a new connection");
                self.emit(&l, "taken_over", || "a new connection took the seat".into());
            } else {
                self.emit(&l, "connected", String::new);
            }
            let now = self.clock.tick();
            match l.apply_unstored(now, Command::Start) {
                Ok(events) if events.contains(&Event::Started) => {
                    if sitting_paused {
                        // The room is paused (a power cut): the clock must not start running.
                        let _ = l.session.apply(now, Command::Pause);
                    }
                    l.seat_token = Some(token_hash.to_owned());
                    Some(l.snapshot(now, self.clock.utc(), true))
                }
                _ => None,
            }
        };
        let started = start_write.is_some();
        if let Some(write) = start_write {
            // Every other login of the session ends with the start, in its transaction:
            // a second device logged in before the start cannot take the seat.
            let revocation = store::TokenRevocation {
                session_id: id.to_owned(),
                keep_hash: token_hash.to_owned(),
                at: write.last_seen_at.clone(),
            };
            let batch = Batch { revocations: vec![revocation], ..Batch::session(write) };
            if let Err(e) = self.writer.write(batch).await {
                self.evict(id, &live);
                return Err(WireError::internal("start session", &e));
            }
            self.status_stored(&live);
        }
        let l = lock(&live);
        Ok((conn_id, l.welcome(self.clock.tick(), started), started))
    }

    /// Detaches a connection unless a newer one already took its place.
    pub async fn disconnect(&self, id: &str, conn_id: u64) {
        let Some(live) = lock(&self.live).get(id).cloned() else { return };
        let mut l = lock(&live);
        if l.conn.as_ref().is_some_and(|c| c.id == conn_id) {
            l.conn = None;
            self.emit(&l, "disconnected", String::new);
        }
    }

    pub async fn question(&self, seat: &mut SessionRef, index: i64) -> Result<ServerMsg, WireError> {
        let live = self.resolve(seat).await?;
        let l = lock(&live);
        if l.stale {
            // Evicted since `resolve`: it may show a line that was never stored.
            return Err(stale());
        }
        // Questions are shown only while the clock runs: not before the start, not while
        // paused (the room may be sharing what it sees), not after the finish.
        match l.session.status() {
            Status::Active => {}
            Status::Ready => return Err(Refusal::NotStarted.into()),
            Status::Paused => return Err(Refusal::Paused.into()),
            Status::Finished(_) => return Err(Refusal::AlreadyFinished.into()),
        }
        let i = l.check_index(index)?;
        Ok(ServerMsg::Question(l.question(i)))
    }

    /// A candidate's state-changing message: validated, applied, committed, acknowledged.
    /// Returns the replies for this connection (the ack, and `finished` after a finish).
    pub async fn submit(
        &self,
        seat: &mut SessionRef,
        seq: i64,
        action: Action,
        client_ts: Option<String>,
    ) -> Result<Vec<ServerMsg>, WireError> {
        if seq <= 0 {
            return Err(WireError::bad_seq("seq must be a positive integer"));
        }
        let live = self.resolve(seat).await?;
        let id = seat.id();
        if action == Action::Finish {
            settle(&live).await;
        }
        let now = self.clock.tick();
        let utc = self.clock.utc();
        let (batch, index, finished, answers_hash) = {
            let mut l = lock(&live);
            if l.stale {
                return Err(stale());
            }
            if let Some((position, server_ts)) = l.acks.get(&seq) {
                // A replay: the same acknowledgement again, nothing changes.
                return Ok(vec![ServerMsg::Ack {
                    seq,
                    index: *position,
                    server_ts: server_ts.clone(),
                    remaining_ms: l.session.remaining(now),
                }]);
            }
            if l.pending.contains_key(&seq) {
                return Err(WireError::bad_seq(format!("seq {seq} is being stored; wait for its ack")));
            }
            if seq <= l.last_seq {
                return Err(WireError::bad_seq(format!(
                    "seq {seq} was never acknowledged and is not above the last one ({}); continue from last_seq",
                    l.last_seq
                )));
            }
            // A receipt vouches for every line before the finish, so none may still be in
            // flight (only from a connection just taken over, and `settle` waited for it).
            if action == Action::Finish && !l.pending.is_empty() {
                return Err(WireError::bad_seq(format!(
                    "an earlier message is being stored; send finish (seq {seq}) again after its ack"
                )));
            }
            let answers_hash = (action == Action::Finish).then(|| l.digest.hex());
            let server_ts = store::ts(utc);
            let (position, action_name, choice, flagged, undo) = match &action {
                Action::Answer { index, choice } => {
                    let i = l.check_index(*index)?;
                    let label = match choice {
                        None => None,
                        Some(c) => Some(Label::parse(c).ok_or_else(|| {
                            WireError::new(Code::BadChoice, format!("{c:?} is not an option label (A..E)"))
                        })?),
                    };
                    let undo = match l.apply_line(now, Command::Answer { index: i, choice: label }) {
                        Ok(undo) => undo,
                        Err(e) => {
                            if e.code == Code::Paused {
                                self.emit(&l, "answer_while_paused", || format!("question {}", i + 1));
                            }
                            return Err(e);
                        }
                    };
                    if l.cycling.observe(now, i, label) {
                        self.emit(&l, "answer_cycling", || {
                            format!("question {} answered with several different options within a minute", i + 1)
                        });
                    }
                    if let Some(prev) = l.last_answer.replace(now) {
                        let gap = now.saturating_sub(prev);
                        if gap < self.fast_answer_ms {
                            self.emit(&l, "fast_answer", || {
                                format!("question {} answered {gap} ms after the previous one", i + 1)
                            });
                        }
                    }
                    (Some(*index), "answer", choice.clone(), None, undo)
                }
                Action::Flag { index, flagged } => {
                    let i = l.check_index(*index)?;
                    let undo = l.apply_line(now, Command::Flag { index: i, flagged: *flagged })?;
                    (Some(*index), "flag", None, Some(*flagged), undo)
                }
                Action::Finish => (None, "finish", None, None, l.apply_line(now, Command::Finish)?),
                Action::Event { kind } => {
                    if matches!(l.session.status(), Status::Finished(_)) {
                        return Err(Refusal::AlreadyFinished.into());
                    }
                    self.monitor.emit(&l.sitting, || self.seat_event(&l, kind.as_str(), "candidate", String::new()));
                    (None, "event", Some(kind.as_str().to_owned()), None, Undo::default())
                }
            };
            l.last_seq = seq;
            l.pending.insert(seq, undo);
            let finished = answers_hash
                .as_deref()
                .map(|hash| l.finish_result(FinishReason::Submitted, hash, &self.signer, utc, &self.audit));
            // The line carries the clock; only a finish changes the session row.
            let used_ms = l.fold_clock(now) as i64;
            let log = LogEntry {
                session_id: l.id.clone(),
                seq,
                position,
                action: action_name.to_owned(),
                choice,
                flagged,
                client_ts,
                server_ts,
                used_ms: Some(used_ms),
            };
            l.digest.push_entry(&log);
            let sessions = if finished.is_some() { vec![l.snapshot(now, utc, false)] } else { Vec::new() };
            (Batch { log: vec![log], sessions, ..Batch::default() }, position, finished, answers_hash)
        };
        let server_ts = batch.log[0].server_ts.clone();
        let result = match &finished {
            // The result is published: audited in the same transaction as the finish.
            Some(r) => {
                let detail = serde_json::json!({ "reason": "submitted", "result": r, "answers_sha256": answers_hash });
                self.record(id, LogAction::SessionFinished.as_str(), id, detail, batch).await
            }
            None => self.writer.write(batch).await,
        };
        let mut l = lock(&live);
        l.pending.remove(&seq);
        if let Err(e) = result {
            // Stale under the same lock that clears `pending`: nobody may see this line
            // settled and sign a digest that holds it.
            l.stale = true;
            drop(l);
            self.evict(id, &live);
            return Err(WireError::internal("store answer", &e));
        }
        l.acks.insert(seq, (index, server_ts.clone()));
        let mut out = vec![ServerMsg::Ack { seq, index, server_ts, remaining_ms: l.session.remaining(now) }];
        if let Some(r) = finished {
            out.push(ServerMsg::Finished(r));
        }
        // Running scores move on the board with every acknowledged answer, not only at
        // finish; a session already marked is read once for all its answers of the tick.
        let mark = !std::mem::replace(&mut l.on_board_queue, true);
        let evicted = l.stale;
        drop(l);
        if evicted {
            // This copy was evicted (a failed commit of another line, queued earlier) while
            // this line was committing: a copy loaded since may have been read before this
            // line landed. Evicted too, it is read again with the line.
            let current = lock(&self.live).get(id).cloned();
            if let Some(current) = current {
                self.evict(id, &current);
            }
        } else if mark {
            self.board.mark(live);
        }
        Ok(out)
    }

    /// Finishes a session whose time is up (if it is), storing and pushing the result.
    pub async fn expire(&self, id: &str) -> Result<bool, WireError> {
        let due = {
            let live = self.get(id).await?;
            let l = lock(&live);
            l.session.status() == Status::Active && l.session.remaining(self.clock.tick()) == 0
        };
        if !due {
            return Ok(false);
        }
        self.finish_by_server(id, Command::Expire, "server", "time_up").await
    }

    /// A supervisor's action on one session (pause, resume, extend, terminate), audited
    /// with its reason and pushed live to the candidate, the board and the monitor.
    /// Returns false when it changed nothing (pausing a paused session).
    /// An extension beyond the exam's `extension_cap_minutes` (in total for the session)
    /// is refused (`extension_limit`) unless `beyond_cap` (the actor is an admin).
    pub async fn supervise(
        &self,
        id: &str,
        command: Command,
        actor: &str,
        reason: &str,
        beyond_cap: bool,
    ) -> Result<bool, WireError> {
        if command == Command::Terminate {
            return self.finish_by_server(id, Command::Terminate, actor, reason).await;
        }
        let live = self.get(id).await?;
        let now = self.clock.tick();
        let utc = self.clock.utc();
        let (write, push, action, detail, tx) = {
            let (action, detail) = match command {
                Command::Pause => (LogAction::SessionPaused.as_str(), serde_json::json!({ "reason": reason })),
                Command::Resume => (LogAction::SessionResumed.as_str(), serde_json::json!({ "reason": reason })),
                Command::Extend { ms } => {
                    (LogAction::SessionExtended.as_str(), serde_json::json!({ "reason": reason, "ms": ms }))
                }
                other => return Err(WireError::new(Code::Internal, format!("{other:?} is not a supervisor action"))),
            };
            let mut l = lock(&live);
            if let Command::Extend { ms } = command {
                let cap_minutes = l.exam.exam.extension_cap_minutes();
                if !beyond_cap && l.extension_ms + ms > u64::from(cap_minutes) * 60_000 {
                    return Err(WireError::extension_limit(cap_minutes, l.extension_ms / 60_000));
                }
            }
            if l.apply_unstored(now, command)?.is_empty() {
                return Ok(false);
            }
            let remaining_ms = l.session.remaining(now);
            let push = match command {
                Command::Resume => ServerMsg::Resumed { remaining_ms },
                Command::Extend { ms } => {
                    l.extension_ms += ms;
                    ServerMsg::Extended { remaining_ms }
                }
                _ => ServerMsg::Paused,
            };
            self.emit(&l, action.trim_start_matches("session."), || reason.to_owned());
            (l.snapshot(now, utc, false), push, action, detail, l.conn.as_ref().map(|c| c.tx.clone()))
        };
        if let Err(e) = self.record(actor, action, id, detail, Batch::session(write)).await {
            self.evict(id, &live);
            return Err(WireError::internal("store supervisor action", &e));
        }
        self.status_stored(&live);
        if let Some(tx) = tx {
            let _ = tx.try_send(Push::Msg(Box::new(push)));
        }
        Ok(true)
    }

    /// What the seat monitor shows of a session right now, if it is in memory.
    pub fn seat_view(&self, id: &str) -> Option<SeatLive> {
        let live = lock(&self.live).get(id).cloned()?;
        let l = lock(&live);
        let now = self.clock.tick();
        Some(SeatLive {
            connected: l.conn.is_some(),
            answered: l.session.answers().iter().filter(|a| a.is_some()).count() as u32,
            total: l.entries.len() as u32,
            remaining_ms: l.session.remaining(now),
            score: l.supervisor_score().map(|s| s.total.0),
            status: l.session.status().as_str().to_owned(),
        })
    }

    /// Tells the sitting's supervisors what just happened at a seat. `detail` is written
    /// only when a console watches (an answer in a closed loop is a `fast_answer` each).
    pub fn emit(&self, live: &Live, kind: &str, detail: impl FnOnce() -> String) {
        self.monitor.emit(&live.sitting, || self.seat_event(live, kind, "server", detail()));
    }

    /// An event at `live`'s seat, reported by `by`: the server, or the candidate's page.
    fn seat_event(&self, live: &Live, kind: &str, by: &'static str, detail: String) -> SeatEvent {
        SeatEvent {
            session: live.id.clone(),
            participant_no: live.participant_no.clone(),
            kind: kind.to_owned(),
            by,
            detail,
            at: store::ts(self.clock.utc()),
        }
    }

    /// Stores an audit entry, with whatever else (`with`) belongs in the same transaction.
    pub async fn record(
        &self,
        actor: &str,
        action: &str,
        subject: &str,
        detail: serde_json::Value,
        mut with: Batch,
    ) -> Result<(), WriteError> {
        let at = store::ts(self.clock.utc());
        let (pending, entry) = {
            // Chain order must be queue order: hold the chain's lock until queued.
            let (row, _head) = self.audit.next(&at, actor, action, subject, &detail).await;
            let entry = crate::audit::ChainHead { seq: row.seq, hash: row.hash.clone() };
            with.audit.push(row);
            (self.writer.enqueue(with).await?, entry)
        };
        let result = pending.committed().await;
        match result {
            Ok(()) => self.audit.stored(entry),
            Err(_) => self.audit.reload(&self.store).await,
        }
        result
    }

    /// Finishes a session for a supervisor-side reason (terminate) or the clock (time up):
    /// scores, signs, stores with its audit entry, tells the board and the candidate.
    async fn finish_by_server(&self, id: &str, command: Command, actor: &str, reason: &str) -> Result<bool, WireError> {
        let live = self.get(id).await?;
        settle(&live).await;
        let now = self.clock.tick();
        let utc = self.clock.utc();
        let (write, result, answers_hash, tx) = {
            let mut l = lock(&live);
            if l.stale {
                return Err(stale());
            }
            if !l.pending.is_empty() {
                return Err(WireError::new(Code::Busy, "an answer to this session is still being stored; try again"));
            }
            let finish = l.apply_unstored(now, command)?.iter().find_map(|e| match e {
                Event::Finished(r) => Some(*r),
                _ => None,
            });
            let Some(finish) = finish else { return Ok(false) };
            let answers_hash = l.digest.hex();
            let result = l.finish_result(finish, &answers_hash, &self.signer, utc, &self.audit);
            (l.snapshot(now, utc, false), result, answers_hash, l.conn.as_ref().map(|c| c.tx.clone()))
        };
        let detail = serde_json::json!({ "reason": reason, "result": &result, "answers_sha256": answers_hash });
        if let Err(e) = self.record(actor, LogAction::SessionFinished.as_str(), id, detail, Batch::session(write)).await
        {
            self.evict(id, &live);
            return Err(WireError::internal("store finish", &e));
        }
        self.status_stored(&live);
        tracing::info!(session = %id, total = result.total, reason = %result.reason, "session finished and scored");
        self.emit(&lock(&live), "finished", || result.reason.clone());
        if let Some(tx) = tx {
            let _ = tx.try_send(Push::Msg(Box::new(ServerMsg::Finished(result))));
        }
        Ok(true)
    }

    /// Puts a session's current score on the public board.
    fn publish(&self, live: &Arc<Mutex<Live>>) {
        self.board.mark(live.clone());
    }

    /// A change applied with [`Live::apply_unstored`] is committed: it may show.
    fn status_stored(&self, live: &Arc<Mutex<Live>>) {
        lock(live).status_stored();
        self.publish(live);
    }

    /// Fills the board with every stored session: running scores for those in memory,
    /// stored results for finished ones, zero for those not started.
    pub async fn load_board(&self) -> anyhow::Result<()> {
        for row in self.store.board_rows(None).await? {
            let ctx = match self.exam(&row.exam_code).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(exam = %row.exam_code, error = %e.message, "board: cannot load exam");
                    continue;
                }
            };
            if matches!(row.status.as_str(), "active" | "paused")
                && let Ok(live) = self.get(&row.session_id).await
            {
                self.publish(&live);
                continue;
            }
            // Only a finished session's stored result is a score the board may show; one
            // not started has none, and a running one not in memory shows its status.
            let stored: Option<ResultView> = row.result.as_deref().and_then(|r| serde_json::from_str(r).ok());
            let scored = stored.as_ref().filter(|_| row.status == "finished").map(|r| {
                let score = score_from_result(&ctx.exam, r);
                Scored { key: scoring::RankKey::of(&ctx.exam, &score), score }
            });
            self.board.update(RowUpdate {
                id: row.session_id,
                participant_no: row.participant_no,
                name: row.name,
                sitting: row.sitting_id,
                venue: row.venue,
                exam: ctx.board.clone(),
                scored,
                answered: stored.as_ref().map_or(0, |r| r.answered),
                status: row.status,
                reason: row.finish_reason,
            });
        }
        Ok(())
    }

    /// Every live session, to walk without holding the map's lock (ids are read from the
    /// sessions, only for those a pass acts on).
    fn snapshot_all(&self) -> Vec<Arc<Mutex<Live>>> {
        lock(&self.live).values().cloned().collect()
    }

    /// Finishes every active session whose deadline has passed.
    /// Also takes each running score of an interval board at its mark.
    pub async fn sweep_deadlines(&self) {
        let now = self.clock.tick();
        let utc_ms = self.clock.utc().timestamp_millis();
        for live in self.snapshot_all() {
            let (due, marked) = {
                let mut l = lock(&live);
                let marked = l.at_interval_mark(utc_ms);
                (l.session.deadline().is_some_and(|d| d <= now).then(|| l.id.clone()), marked)
            };
            if marked {
                self.publish(&live);
            }
            if let Some(id) = due
                && let Err(e) = self.expire(&id).await
            {
                tracing::error!(session = %id, error = %e.message, "cannot finish session at its deadline");
            }
        }
    }

    /// Writes down the running clocks that would otherwise be older than
    /// [`CHECKPOINT_EVERY`] by the next pass (or all of them, with `all`), in one request
    /// to the writer, so downtime after a crash is never charged beyond that.
    pub async fn checkpoint(&self, all: bool) {
        let now = self.clock.tick();
        let utc = self.clock.utc();
        let due_after = (CHECKPOINT_EVERY - CHECKPOINT_TICK).as_millis() as u64;
        let sessions: Vec<SessionWrite> = self
            .snapshot_all()
            .into_iter()
            .filter_map(|live| {
                let mut l = lock(&live);
                let due = all || now.saturating_sub(l.clock_written) >= due_after;
                (due && l.session.status() == Status::Active).then(|| {
                    let mut w = l.snapshot(now, utc, false);
                    w.status = None;
                    w
                })
            })
            .collect();
        if sessions.is_empty() {
            return;
        }
        if let Err(e) = self.writer.write(Batch { sessions, ..Batch::default() }).await {
            tracing::warn!(error = %e, "checkpoint failed");
        }
    }

    /// Runs the deadline sweep and the checkpoints until `shutdown` turns true.
    pub async fn run_timers(self: Arc<Self>, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        let mut checkpoint = tokio::time::interval(CHECKPOINT_TICK);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        checkpoint.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = sweep.tick() => self.sweep_deadlines().await,
                () = self.sweep_now.notified() => self.sweep_deadlines().await,
                _ = checkpoint.tick() => self.checkpoint(false).await,
                () = crate::shutdown::stopped(&mut shutdown) => {
                    self.checkpoint(true).await;
                    return;
                }
            }
        }
    }
}

impl RowSource for Mutex<Live> {
    fn row_update(&self) -> Option<RowUpdate> {
        let mut l = lock(self);
        l.on_board_queue = false;
        l.row_update()
    }
}

fn build_live(rec: SessionRecord, exam: Arc<ExamCtx>, now: Tick) -> Result<Live, WireError> {
    let corrupt = |what: String| WireError::internal("load session", &format!("session {}: {what}", rec.id));
    let mut entries = Vec::with_capacity(rec.paper.len());
    for row in &rec.paper {
        let item = ItemId::new_unchecked(row.item_id.clone());
        let idx = *exam.index.get(&item).ok_or_else(|| corrupt(format!("item {} is not in the bank", row.item_id)))?;
        let order = PaperEntry::parse_order(&row.option_order)
            .ok_or_else(|| corrupt(format!("bad option order {:?}", row.option_order)))?;
        entries.push((PaperEntry { section: SectionCode::new_unchecked(row.section.clone()), item, order }, idx));
    }
    let n = entries.len();
    let mut answers = vec![None; n];
    for (p, c) in &rec.answers {
        if let Some(slot) = usize::try_from(*p).ok().and_then(|p| answers.get_mut(p)) {
            *slot = c.as_deref().and_then(Label::parse);
        }
    }
    let mut flags = vec![false; n];
    for (p, f) in &rec.flags {
        if let Some(slot) = usize::try_from(*p).ok().and_then(|p| flags.get_mut(p)) {
            *slot = *f;
        }
    }
    let result: Option<ResultView> = rec.result.as_deref().and_then(|r| serde_json::from_str(r).ok());
    let status = match rec.status.as_str() {
        "ready" => Status::Ready,
        "active" => Status::Active,
        "paused" => Status::Paused,
        "finished" => Status::Finished(
            rec.finish_reason.as_deref().and_then(FinishReason::parse).unwrap_or(FinishReason::Submitted),
        ),
        other => return Err(corrupt(format!("unknown status {other:?}"))),
    };
    let option_counts = entries.iter().map(|(e, _)| e.order.len() as u8).collect();
    let allowed = (rec.duration_ms + rec.extension_ms).max(0) as u64;
    let session = Session::restore(status, allowed, rec.used_ms.max(0) as u64, answers, flags, option_counts, now);
    Ok(Live {
        last_seq: rec.acks.keys().next_back().copied().unwrap_or(0),
        id: rec.id,
        sitting: rec.sitting_id,
        venue: rec.venue,
        participant_no: rec.participant_no,
        name: rec.name,
        exam,
        entries,
        session,
        extension_ms: rec.extension_ms.max(0) as u64,
        acks: rec.acks,
        pending: BTreeMap::new(),
        digest: rec.log_digest,
        stale: false,
        result,
        conn: None,
        last_answer: None,
        clock_written: now,
        unstored_status: None,
        on_board_queue: false,
        seat_token: None,
        interval: None,
        cycling: AnswerCycling::new(),
    })
}

impl Live {
    /// Gives the seat to `conn` unless a newer connection (a higher id) has it, in which
    /// case `conn` is told it was taken over. A connection it replaces is told the same;
    /// returns whether there was one.
    fn attach(&mut self, conn: Conn) -> bool {
        match &self.conn {
            Some(c) if c.id > conn.id => {
                let _ = conn.tx.try_send(Push::TakenOver);
                return false;
            }
            Some(c) if c.id == conn.id => return false,
            _ => {}
        }
        match self.conn.replace(conn) {
            Some(older) => {
                let _ = older.tx.try_send(Push::TakenOver);
                true
            }
            None => false,
        }
    }

    fn check_index(&self, index: i64) -> Result<usize, WireError> {
        usize::try_from(index).ok().filter(|i| *i < self.entries.len()).ok_or_else(|| {
            WireError::new(
                Code::UnknownIndex,
                format!("question {index} is not in the paper (0..{})", self.entries.len()),
            )
        })
    }

    fn apply(&mut self, now: Tick, command: Command) -> Result<Vec<Event>, WireError> {
        self.session.apply(now, command).map_err(WireError::from)
    }

    /// Applies a change of the server's side (a start, a supervisor's action, time up)
    /// whose commit the caller queues next: until [`Live::status_stored`], the board
    /// shows the status before the first such change still being committed.
    fn apply_unstored(&mut self, now: Tick, command: Command) -> Result<Vec<Event>, WireError> {
        let before = self.session.status();
        let events = self.apply(now, command)?;
        if !events.is_empty() {
            match &mut self.unstored_status {
                Some((n, _)) => *n += 1,
                None => self.unstored_status = Some((1, before)),
            }
        }
        Ok(events)
    }

    /// The commit of a change applied with [`Live::apply_unstored`] landed.
    fn status_stored(&mut self) {
        if let Some((n, _)) = &mut self.unstored_status {
            *n -= 1;
            if *n == 0 {
                self.unstored_status = None;
            }
        }
    }

    /// Applies a candidate's line, returning what the public board leaves out of the row
    /// until the line's commit lands.
    fn apply_line(&mut self, now: Tick, command: Command) -> Result<Undo, WireError> {
        let undo = Undo {
            answer: match command {
                Command::Answer { index, .. } => self.session.answers().get(index).map(|before| (index, *before)),
                _ => None,
            },
            status: (command == Command::Finish).then(|| self.session.status()),
        };
        self.apply(now, command)?;
        Ok(undo)
    }

    /// Charges the running time and returns the time used, which the caller hands to the
    /// writer (so a checkpoint can skip this clock for a while).
    fn fold_clock(&mut self, now: Tick) -> u64 {
        self.clock_written = now;
        self.session.checkpoint(now)
    }

    /// The session row as it stands now, for the writer.
    fn snapshot(&mut self, now: Tick, utc: chrono::DateTime<chrono::Utc>, starting: bool) -> SessionWrite {
        let used = self.fold_clock(now);
        let ts = store::ts(utc);
        let finished = matches!(self.session.status(), Status::Finished(_));
        SessionWrite {
            session_id: self.id.clone(),
            status: Some(self.session.status().as_str().to_owned()),
            used_ms: used as i64,
            extension_ms: self.extension_ms as i64,
            last_seen_at: ts.clone(),
            started_at: starting.then(|| ts.clone()),
            finished_at: finished.then(|| ts.clone()),
            finish_reason: match self.session.status() {
                Status::Finished(r) => Some(r.as_str().to_owned()),
                _ => None,
            },
            result: if finished { self.result.as_ref().and_then(|r| serde_json::to_string(r).ok()) } else { None },
        }
    }

    /// The sheet's score as it stands: final once finished, running before.
    fn score(&self) -> scoring::Score {
        self.score_of(self.session.answers())
    }

    /// The score of `sheet`, this paper's choices as shown to the candidate.
    fn score_of(&self, sheet: &[Option<Label>]) -> scoring::Score {
        let ctx = &self.exam;
        let answers = self.entries.iter().zip(sheet).map(|((entry, idx), shown)| scoring::Answer {
            item: &ctx.bank.items()[*idx],
            section: &entry.section,
            choice: shown.and_then(|s| entry.to_item_label(s)),
        });
        scoring::score_sheet(&ctx.exam, answers)
    }

    /// This session's line for the public board: what is stored. Lines still being
    /// committed are taken back out (latest first, so a position answered twice gets the
    /// choice before the earlier one); their acks mark the row again. A stale copy, which
    /// may hold a line whose commit failed, has no line: the copy loaded in its place is
    /// put on the board.
    ///
    /// The score in it is the exam's `[board]` policy: a finished session's always; a
    /// running one's only under `live` (the stored sheet) or `interval` (the sheet stored
    /// at the last mark); none before the start.
    fn row_update(&self) -> Option<RowUpdate> {
        if self.stale {
            return None;
        }
        let (sheet, status) = self.stored_view();
        let shown: Option<&[Option<Label>]> = match status {
            Status::Ready => None,
            Status::Finished(_) => Some(&sheet),
            Status::Active | Status::Paused => self.running_sheet(&sheet),
        };
        let scored = shown.map(|sheet| {
            let score = self.score_of(sheet);
            Scored { key: scoring::RankKey::of(&self.exam.exam, &score), score }
        });
        Some(RowUpdate {
            id: self.id.clone(),
            participant_no: self.participant_no.clone(),
            name: self.name.clone(),
            sitting: self.sitting.clone(),
            venue: self.venue.clone(),
            exam: self.exam.board.clone(),
            scored,
            answered: sheet.iter().filter(|a| a.is_some()).count() as u32,
            status: status.as_str().to_owned(),
            reason: match status {
                Status::Finished(r) => Some(r.as_str().to_owned()),
                _ => None,
            },
        })
    }

    /// The sheet a running score may be shown from under the exam's `[board]` policy,
    /// given the stored sheet.
    fn running_sheet<'a>(&'a self, stored: &'a [Option<Label>]) -> Option<&'a [Option<Label>]> {
        match self.exam.exam.board().running {
            BoardRunning::Progress => None,
            BoardRunning::Interval { .. } => self.interval.as_ref().and_then(|m| m.sheet.as_deref()),
            BoardRunning::Live => Some(stored),
        }
    }

    /// The score the seat monitor shows: the board's, unless the exam lets supervisors
    /// see running scores (then the sheet as it stands).
    fn supervisor_score(&self) -> Option<scoring::Score> {
        match self.session.status() {
            Status::Ready => None,
            Status::Finished(_) => Some(self.score()),
            Status::Active | Status::Paused if self.exam.exam.board().supervisor_running_scores => Some(self.score()),
            Status::Active | Status::Paused => self.running_sheet(self.session.answers()).map(|s| self.score_of(s)),
        }
    }

    /// At the first sweep past a new mark of an interval board, keeps the stored sheet as
    /// the one its running score is shown from; returns whether the row changed. The sheet
    /// is the one stored when the sweep runs, at most [`SWEEP_EVERY`] after the mark.
    fn at_interval_mark(&mut self, utc_ms: i64) -> bool {
        let BoardRunning::Interval { minutes } = self.exam.exam.board().running else { return false };
        if self.stale || matches!(self.session.status(), Status::Finished(_)) {
            return false;
        }
        let mark = utc_ms.div_euclid(i64::from(minutes) * 60_000);
        match &self.interval {
            Some(m) if m.mark >= mark => false,
            None => {
                self.interval = Some(IntervalMark { mark, sheet: None });
                false
            }
            Some(_) => {
                let (sheet, status) = self.stored_view();
                let sheet = (status != Status::Ready).then(|| sheet.into_owned());
                self.interval = Some(IntervalMark { mark, sheet });
                true
            }
        }
    }

    /// The sheet and status as stored: lines still being committed taken back out.
    fn stored_view(&self) -> (Cow<'_, [Option<Label>]>, Status) {
        let mut sheet = Cow::Borrowed(self.session.answers());
        let mut status = self.session.status();
        for undo in self.pending.values().rev() {
            if let Some((i, before)) = undo.answer {
                sheet.to_mut()[i] = before;
            }
            if let Some(before) = undo.status {
                status = before;
            }
        }
        if let Some((_, before)) = self.unstored_status {
            status = before;
        }
        (sheet, status)
    }

    /// SHA-256 of the paper: item ids and option orders in paper order.
    fn paper_hash(&self) -> String {
        let mut ctx = digest::Context::new(&digest::SHA256);
        for (entry, _) in &self.entries {
            ctx.update(format!("{}:{}\n", entry.item, entry.order_string()).as_bytes());
        }
        hex::encode(ctx.finish())
    }

    /// Scores the sheet, signs the receipt and keeps the result; the session must already
    /// be finished.
    fn finish_result(
        &mut self,
        reason: FinishReason,
        answers_hash: &str,
        signer: &Signer,
        utc: chrono::DateTime<chrono::Utc>,
        audit: &Audit,
    ) -> ResultView {
        let ctx = self.exam.clone();
        let score = self.score();
        let sections: Vec<SectionResult> = score
            .sections
            .iter()
            .map(|s| SectionResult {
                code: s.code.to_string(),
                points: s.points.0,
                threshold: s.threshold.0,
                passed: s.passed,
            })
            .collect();
        let scores: BTreeMap<String, i64> = sections.iter().map(|s| (s.code.clone(), s.points)).collect();
        let payload = ReceiptPayload {
            session: self.id.clone(),
            participant_no: self.participant_no.clone(),
            exam: ctx.exam.code().to_owned(),
            bank_sha256: ctx.bank_hash.clone(),
            paper_sha256: self.paper_hash(),
            answers_sha256: answers_hash.to_owned(),
            scores: scores.clone(),
            total: score.total.0,
            passed: score.passed,
            reason: reason.as_str().to_owned(),
            finished_at: store::ts(utc),
            audit_head: Some(audit.committed_head()),
        };
        let (receipt_full, receipt) = signer.sign(&payload);
        let result = ResultView {
            answered: self.session.answers().iter().filter(|a| a.is_some()).count() as u32,
            reason: reason.as_str().to_owned(),
            scores,
            sections,
            total: score.total.0,
            passed: score.passed,
            receipt,
            receipt_full,
        };
        self.result = Some(result.clone());
        result
    }

    /// The whole state for a connect; `first_question` on the connect that started the
    /// session: a fresh page opens the first question, after that it asks for the one it
    /// was on.
    pub fn welcome(&self, now: Tick, first_question: bool) -> ServerMsg {
        let mut sections = Vec::new();
        let mut start = 0u32;
        for s in self.exam.exam.sections() {
            sections.push(SectionInfo { code: s.code.to_string(), name: s.name.clone(), count: s.count, start });
            start += s.count;
        }
        let answers = self
            .session
            .answers()
            .iter()
            .enumerate()
            .filter_map(|(i, a)| a.map(|l| (i.to_string(), l.to_string())))
            .collect();
        let flags = self.session.flags().iter().enumerate().filter(|(_, f)| **f).map(|(i, _)| i as u32).collect();
        ServerMsg::Welcome {
            session: self.id.clone(),
            exam: self.exam.exam.code().to_owned(),
            title: self.exam.exam.title().to_owned(),
            participant_no: self.participant_no.clone(),
            name: self.name.clone(),
            sections,
            total: self.entries.len() as u32,
            status: self.session.status().as_str().to_owned(),
            remaining_ms: self.session.remaining(now),
            last_seq: self.last_seq,
            answers,
            flags,
            result: self.result.clone(),
            // A session that starts paused (its room is) shows no question until resumed.
            question: (first_question && !self.entries.is_empty() && self.session.status() == Status::Active)
                .then(|| self.question(0)),
        }
    }

    /// A question as the candidate sees it: shown labels, never the key or points.
    fn question(&self, i: usize) -> QuestionView {
        let (entry, idx) = &self.entries[i];
        let item = &self.exam.bank.items()[*idx];
        let url = |name: &str| format!("/api/v1/assets/{}/{name}", self.exam.bank_hash);
        let options = entry
            .order
            .iter()
            .enumerate()
            .filter_map(|(shown, own)| {
                let opt = item.options().get(own.index())?;
                Some(OptionView {
                    label: Label::from_index(shown)?.to_string(),
                    text: opt.text().to_owned(),
                    image: opt.image().map(url),
                })
            })
            .collect();
        QuestionView {
            index: i as u32,
            section: entry.section.to_string(),
            stem: item.stem().to_owned(),
            image: item.image().map(url),
            options,
            choice: self.session.answers()[i].map(|l| l.to_string()),
            flagged: self.session.flags()[i],
        }
    }
}

/// A stored result as a [`scoring::Score`], for the board after a restart.
fn score_from_result(exam: &Exam, r: &ResultView) -> scoring::Score {
    let sections: Vec<scoring::SectionScore> = exam
        .sections()
        .iter()
        .map(|s| {
            let points = r.scores.get(s.code.as_str()).copied().unwrap_or(0);
            scoring::SectionScore {
                code: s.code.clone(),
                points: item_bank::Points(points),
                threshold: s.threshold,
                passed: points >= s.threshold.0,
            }
        })
        .collect();
    scoring::Score { total: item_bank::Points(r.total), passed: r.passed, sections }
}

/// Waits, a bounded while, until no line of the session is still being committed: one
/// accepted just before a finish belongs under its receipt, so the finish lets its commit
/// land (a group commit: milliseconds) rather than refuse.
async fn settle(live: &Arc<Mutex<Live>>) {
    for _ in 0..SETTLE_TRIES {
        if lock(live).pending.is_empty() {
            return;
        }
        tokio::time::sleep(SETTLE_WAIT).await;
    }
}

fn parse_ts(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&chrono::Utc))
}

/// The refusal for a copy of a session evicted after a failed commit: the retry reloads it.
fn stale() -> WireError {
    WireError::new(Code::Internal, "the session is being reloaded; send it again with the same seq")
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// An active session of the tiny test exam with nothing answered, its board showing
    /// running scores live.
    fn tiny_session() -> Live {
        tiny_session_with("running = \"live\"")
    }

    /// An active session of the tiny test exam with `board` as its `[board]` table.
    fn tiny_session_with(board: &str) -> Live {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../item-bank/tests/fixtures/tiny-exam.toml");
        let text = std::fs::read_to_string(&path).expect("read") + "\n[board]\n" + board + "\n";
        let exam = Exam::parse("tiny-exam.toml", &text).expect("tiny exam");
        let bank = Bank::load(&exam.bank_dir(&path)).expect("tiny bank");
        let paper = session_engine::assemble(&exam, &bank, [7; 32]).expect("paper");
        let rec = SessionRecord {
            id: "T-1.P-0001".into(),
            sitting_id: "T-1".into(),
            venue: "Test".into(),
            exam_code: exam.code().to_owned(),
            participant_no: "P-0001".into(),
            name: "Peserta 1".into(),
            status: "active".into(),
            finish_reason: None,
            duration_ms: 600_000,
            extension_ms: 0,
            used_ms: 0,
            result: None,
            paper: crate::sitting::paper_rows(&paper),
            answers: BTreeMap::new(),
            flags: BTreeMap::new(),
            acks: BTreeMap::new(),
            log_digest: store::LogDigest::default(),
        };
        build_live(rec, Arc::new(ExamCtx::new(exam, bank)), 0).expect("live")
    }

    fn label(c: &str) -> Option<Label> {
        Some(Label::parse(c).expect("label"))
    }

    /// Accepts a line as `submit` does: applied now, committed later.
    fn accept(l: &mut Live, seq: i64, command: Command) {
        let undo = l.apply_line(1_000, command).expect("applied");
        l.pending.insert(seq, undo);
    }

    /// (answered, total, status) as the board would show them.
    fn shown(l: &Live) -> (u32, Option<i64>, String) {
        let r = l.row_update().expect("a row");
        (r.answered, r.scored.map(|s| s.score.total.0), r.status)
    }

    /// The score on the board's row.
    fn row_score(l: &Live) -> Option<scoring::Score> {
        l.row_update().expect("a row").scored.map(|s| s.score)
    }

    #[test]
    fn the_board_row_leaves_out_every_line_still_being_committed() {
        let mut l = tiny_session();
        accept(&mut l, 1, Command::Answer { index: 0, choice: label("A") });
        accept(&mut l, 2, Command::Answer { index: 2, choice: label("B") });
        l.pending.clear(); // both committed
        let stored = shown(&l);
        assert_eq!(stored.0, 2);
        let stored_score = l.score();

        // Two lines on one position and one on another, none committed: the row is the
        // stored sheet, not the sheet as the candidate sees it.
        accept(&mut l, 3, Command::Answer { index: 0, choice: label("B") });
        accept(&mut l, 4, Command::Answer { index: 0, choice: None });
        // Position 1 gets the option under which the candidate's own sheet scores other
        // than the stored one: the rows of the two sheets can then be told apart.
        let differs = ["A", "B"]
            .into_iter()
            .find(|c| {
                let mut sheet = l.session.answers().to_vec();
                sheet[1] = label(c);
                l.score_of(&sheet) != stored_score
            })
            .expect("an option that moves the score");
        accept(&mut l, 5, Command::Answer { index: 1, choice: label(differs) });
        accept(&mut l, 6, Command::Flag { index: 1, flagged: true });
        assert_eq!(l.session.answers()[0], None);
        assert_ne!(l.score(), stored_score, "the candidate's own sheet scores differently");
        assert_eq!(shown(&l), stored);
        assert_eq!(row_score(&l), Some(stored_score));

        // As their commits land, in order, the row follows.
        l.pending.remove(&3);
        let mut sheet = l.session.answers().to_vec();
        sheet[0] = label("B");
        sheet[1] = None;
        assert_eq!(row_score(&l), Some(l.score_of(&sheet)));
        l.pending.remove(&4);
        l.pending.remove(&5);
        l.pending.remove(&6);
        assert_eq!(shown(&l).0, 2);
        assert_eq!(row_score(&l), Some(l.score()));

        // A clearing answer is taken back too.
        accept(&mut l, 7, Command::Answer { index: 2, choice: None });
        assert_eq!(shown(&l).0, 2);

        // A finish still being committed: the row stays active.
        l.pending.clear();
        accept(&mut l, 8, Command::Finish);
        assert_eq!(l.session.status(), Status::Finished(FinishReason::Submitted));
        assert_eq!(shown(&l).2, "active");
        l.pending.clear();
        assert_eq!(shown(&l).2, "finished");
    }

    #[test]
    fn a_status_change_of_the_servers_side_shows_once_all_of_them_are_stored() {
        let mut l = tiny_session();
        // A pause and a resume queued one after the other: the board shows the status
        // before the first until both commits land.
        for command in [Command::Pause, Command::Resume] {
            l.apply_unstored(1_000, command).expect("applied");
        }
        assert_eq!(shown(&l).2, "active");
        l.apply_unstored(2_000, Command::Pause).expect("applied");
        l.status_stored();
        l.status_stored();
        assert_eq!(shown(&l).2, "active", "the last change is not stored yet");
        l.status_stored();
        assert_eq!(shown(&l).2, "paused");
    }

    #[test]
    fn by_default_a_running_row_shows_progress_and_no_score_until_the_finish_is_stored() {
        let mut l = tiny_session_with("running = \"progress\"");
        accept(&mut l, 1, Command::Answer { index: 0, choice: label("A") });
        l.pending.clear();
        assert_eq!(shown(&l), (1, None, "active".to_owned()));
        assert_eq!(l.supervisor_score(), None, "the monitor follows the board");
        accept(&mut l, 2, Command::Finish);
        assert_eq!(shown(&l), (1, None, "active".to_owned()), "a finish still being committed shows nothing");
        l.pending.clear();
        assert_eq!(shown(&l), (1, Some(l.score().total.0), "finished".to_owned()));
        assert_eq!(l.supervisor_score(), Some(l.score()));

        let mut l = tiny_session_with("running = \"progress\"\nsupervisor_running_scores = true");
        accept(&mut l, 1, Command::Answer { index: 0, choice: label("A") });
        assert_eq!(l.supervisor_score(), Some(l.score()), "the exam lets supervisors see running scores");
        assert_eq!(shown(&l).1, None, "the public still does not");
    }

    #[test]
    fn an_interval_row_shows_the_sheet_stored_at_the_last_mark() {
        const MARK: i64 = 5 * 60_000;
        let mut l = tiny_session_with("running = \"interval\"\ninterval_minutes = 5");
        assert!(!l.at_interval_mark(10 * MARK + 1), "first seen: nothing to show yet");
        accept(&mut l, 1, Command::Answer { index: 0, choice: label("A") });
        l.pending.clear();
        assert!(!l.at_interval_mark(11 * MARK - 1), "the same mark");
        assert_eq!(shown(&l), (1, None, "active".to_owned()), "before a mark it was seen at: no score");
        let at_first = l.score();
        // A line still being committed at the mark is not part of the stored sheet.
        accept(&mut l, 2, Command::Answer { index: 1, choice: label("A") });
        assert!(l.at_interval_mark(11 * MARK));
        assert_eq!(row_score(&l), Some(at_first.clone()));
        l.pending.clear();
        assert_eq!(row_score(&l), Some(at_first), "stored after the mark: shown at the next");
        assert_eq!(shown(&l).0, 2, "progress moves at once");
        assert!(l.at_interval_mark(12 * MARK));
        assert_eq!(row_score(&l), Some(l.score()));
    }

    #[test]
    fn a_stale_copy_has_no_board_row() {
        let mut l = tiny_session();
        accept(&mut l, 1, Command::Answer { index: 0, choice: label("A") });
        // Its commit failed: the line is no longer pending, but this copy still holds it.
        l.pending.clear();
        l.stale = true;
        assert!(l.row_update().is_none());
    }
}
