//! Seats: sessions in memory, and everything a candidate or a supervisor does to them.
//!
//! A seat's state is changed under its own short `std::sync::Mutex` (never held across
//! an `.await`), then the change goes to the group-commit [`Writer`]; the candidate is
//! acknowledged only after the commit. A failed commit evicts the seat from memory so the
//! next access reloads exactly what was stored.
//!
//! # Layout
//!
//! - this file: the [`Registry`] with its map of seats and the one flow (connect, submit,
//!   supervise, finish).
//! - `seat`: [`Seat`], one session in memory, and `Seat::accept`, which decides a
//!   candidate's line without I/O.
//! - `board_row`: what the public board and the monitor may read of a seat.
//! - `views`: the welcome, question and monitor views (the wire types).
//! - `records`: a seat to and from the store's rows.
//! - `logins`: what a login and the console ask of the registry (sittings, holders).
//! - `loading`: bulk loads (after a restart, an open sitting, the board at start).
//! - `timers`: the deadline sweep and the clock checkpoint.
//! - `error`: [`Error`] and its wire codes.

mod board_row;
mod error;
mod loading;
mod logins;
mod records;
mod seat;
mod timers;
mod views;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use session_engine::{Command, Event, FinishReason, Status};
use store::{Batch, Store};
use tokio::sync::{Notify, mpsc};

pub use self::error::{BadSeq, Error};
use self::seat::{Accepted, Conn, Note, lock, settle};
pub use self::seat::{Action, Push, Seat};
pub use self::views::SeatLive;
use crate::actions::LogAction;
use crate::audit::{Audit, Entry};
use crate::board::BoardHub;
use crate::clock::Clock;
use crate::error::WireError;
use crate::exams::Exams;
use crate::monitor::MonitorHub;
use crate::protocol::ServerMsg;
use crate::receipt::Signer;
use crate::sittings::{SittingStatus, Sittings};
use store::group_commit::{WriteError, Writer};

/// A connection's hold on its seat. The first message looks the seat up in the registry;
/// later ones use that copy without the registry's lock, until it is evicted (a failed
/// commit marks it stale), when the next message looks it up again.
pub struct SessionRef {
    id: String,
    seat: Option<Arc<Mutex<Seat>>>,
    /// The connection's id and push channel, attached again to a copy loaded after an
    /// eviction.
    conn_id: u64,
    tx: mpsc::Sender<Push>,
}

impl SessionRef {
    /// `conn_id`: what [`Registry::connect`] gave the connection; `tx`: its push channel.
    pub fn new(id: String, conn_id: u64, tx: mpsc::Sender<Push>) -> SessionRef {
        SessionRef { id, seat: None, conn_id, tx }
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// The shared registry of seats.
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
    exams: Exams,
    seats: Mutex<HashMap<String, Arc<Mutex<Seat>>>>,
    sittings: Sittings,
    next_conn: AtomicU64,
    /// Counts evictions (changed under the `seats` lock). A load that saw it change may
    /// have read the store before a commit of the evicted copy, so it does not insert.
    evictions: AtomicU64,
    /// Wakes the deadline sweep early (tests that move the clock use it).
    pub sweep_now: Notify,
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
            exams: Exams::new(store.clone()),
            sittings: Sittings::new(store.clone()),
            store,
            clock,
            writer,
            board,
            audit,
            signer,
            monitor: MonitorHub::default(),
            fast_answer_ms,
            seats: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            evictions: AtomicU64::new(0),
            sweep_now: Notify::new(),
        }
    }

    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The exams in memory.
    pub fn exams(&self) -> &Exams {
        &self.exams
    }

    /// The seat, loading it from the store if it is not in memory.
    async fn get(&self, id: &str) -> Result<Arc<Mutex<Seat>>, Error> {
        // Loads run in parallel (a room logging in loads hundreds at once). Two loads of
        // one session may race: both read the stored state, and the first to insert wins;
        // the other's copy is dropped before anyone saw it, so one `Seat` is ever used.
        loop {
            if let Some(s) = lock(&self.seats).get(id) {
                return Ok(s.clone());
            }
            let generation = self.generation();
            let rec = self
                .store
                .load_session(id)
                .await
                .map_err(|e| Error::internal("load session", &e))?
                .ok_or(Error::UnknownSession)?;
            let exam = self.exams.get(&rec.exam_code).await?;
            let built = Seat::from_record(rec, exam, self.clock.tick(), self.fast_answer_ms)?;
            if let Some(seat) = self.install(id, built, generation) {
                // What was just read is stored: the board's row may be older (a copy that
                // was evicted, or a line that landed after it was read).
                self.publish(&seat);
                return Ok(seat);
            }
            // An eviction while we read: what we read may miss its last commit. Read again.
        }
    }

    /// The seat a connection holds ([`SessionRef`]): the copy it already has, unless that
    /// copy was evicted, in which case the registry's (loaded again if need be).
    async fn resolve(&self, held: &mut SessionRef) -> Result<Arc<Mutex<Seat>>, Error> {
        if let Some(seat) = &held.seat
            && !lock(seat).stale
        {
            return Ok(seat.clone());
        }
        let replaced = held.seat.is_some();
        let seat = self.get(&held.id).await?;
        lock(&seat).attach(Conn { id: held.conn_id, tx: held.tx.clone() });
        if replaced {
            // The board's row may be older than what the store now holds.
            self.publish(&seat);
        }
        held.seat = Some(seat.clone());
        Ok(seat)
    }

    /// After [`Push::Evicted`]: the connection's seat as stored, with the connection
    /// attached to it (nothing to do if a message since then already did that).
    pub async fn reattach(&self, held: &mut SessionRef) -> Result<(), WireError> {
        Ok(self.resolve(held).await.map(drop)?)
    }

    /// The eviction count now, taken before reading the store for [`Registry::install`].
    fn generation(&self) -> u64 {
        self.evictions.load(Ordering::SeqCst)
    }

    /// Registers `built` unless the session is already in memory (then that seat is
    /// returned) or a seat was evicted since `generation` (then `None`: the read may
    /// predate the evicted copy's last commit).
    fn install(&self, id: &str, built: Seat, generation: u64) -> Option<Arc<Mutex<Seat>>> {
        let mut map = lock(&self.seats);
        if let Some(s) = map.get(id) {
            return Some(s.clone());
        }
        if self.generation() != generation {
            return None;
        }
        let seat = Arc::new(Mutex::new(built));
        map.insert(id.to_owned(), seat.clone());
        Some(seat)
    }

    /// Forgets a seat whose state may be ahead of the store.
    fn evict(&self, id: &str, which: &Arc<Mutex<Seat>>) {
        {
            let mut s = lock(which);
            s.stale = true;
            if let Some(c) = s.conn.take() {
                let _ = c.tx.try_send(Push::Evicted);
            }
        }
        let mut map = lock(&self.seats);
        if map.get(id).is_some_and(|s| Arc::ptr_eq(s, which)) {
            map.remove(id);
            self.evictions.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Every seat, to walk without holding the map's lock (ids are read from the seats,
    /// only for those a pass acts on).
    fn every_seat(&self) -> Vec<Arc<Mutex<Seat>>> {
        lock(&self.seats).values().cloned().collect()
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
        let seat = self.get(id).await?;
        let (not_started, sitting) = {
            let s = lock(&seat);
            (s.session.status() == Status::Ready, s.sitting.clone())
        };
        if not_started {
            // Read into `sittings`, where the start is decided under the seat's lock.
            self.sittings.status(&sitting).await.map_err(|e| Error::internal("load sitting", &e))?;
        }
        let conn_id = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let rejoin;
        let start_write = {
            let mut s = lock(&seat);
            let mut sitting_paused = false;
            if s.session.status() == Status::Ready {
                match self.sittings.known(&sitting) {
                    Some(SittingStatus::Open) => {}
                    Some(SittingStatus::Paused) => sitting_paused = true,
                    Some(SittingStatus::Closed) => return Err(Error::SittingClosed.into()),
                    Some(SittingStatus::Prepared) | None => return Err(Error::SittingNotOpen.into()),
                }
            } else if s.holder.as_deref().is_some_and(|t| t != token_hash) {
                return Err(Error::SeatLocked.into());
            }
            let working = s.session.status().is_working();
            let taken_over = s.attach(Conn { id: conn_id, tx });
            if taken_over {
                tracing::info!(session = %id, "seat taken over by a new connection");
                self.note(&s, Note::TakenOver);
            } else {
                self.note(&s, Note::Connected);
            }
            // A connect to a running session (not its start) is stored for the integrity
            // checks, which count takeovers and reconnects against the room.
            rejoin = working.then(|| (s.participant_no.clone(), taken_over));
            let now = self.clock.tick();
            match s.apply_unstored(now, Command::Start) {
                Ok(events) if events.contains(&Event::Started) => {
                    if sitting_paused {
                        // The room is paused (a power cut): the clock must not start running.
                        let _ = s.session.apply(now, Command::Pause);
                    }
                    s.holder = Some(token_hash.to_owned());
                    Some(s.session_write(now, self.clock.utc(), true))
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
                self.evict(id, &seat);
                return Err(Error::internal("start session", &e).into());
            }
            self.status_stored(&seat);
        }
        if let Some((participant, takeover)) = rejoin {
            let detail = serde_json::json!({ "takeover": takeover });
            let action = LogAction::CandidateReconnect;
            if let Err(e) = self.record(&participant, action, id, detail, Batch::default()).await {
                // The connection is not refused for it: the seat is the candidate's either way.
                tracing::error!(session = %id, error = %e, "store a reconnect");
            }
        }
        let s = lock(&seat);
        Ok((conn_id, s.welcome(self.clock.tick(), started), started))
    }

    /// Detaches a connection unless a newer one already took its place.
    pub async fn disconnect(&self, id: &str, conn_id: u64) {
        let Some(seat) = lock(&self.seats).get(id).cloned() else { return };
        let mut s = lock(&seat);
        if s.conn.as_ref().is_some_and(|c| c.id == conn_id) {
            s.conn = None;
            self.note(&s, Note::Disconnected);
        }
    }

    pub async fn question(&self, held: &mut SessionRef, index: i64) -> Result<ServerMsg, WireError> {
        let seat = self.resolve(held).await?;
        let s = lock(&seat);
        if s.stale {
            // Evicted since `resolve`: it may show a line that was never stored.
            return Err(Error::Stale.into());
        }
        s.check_running()?;
        let i = s.check_index(index)?;
        Ok(ServerMsg::Question(s.question(i)))
    }

    /// A candidate's state-changing message: decided by [`Seat::accept`], committed,
    /// acknowledged. Returns the replies for this connection (the ack, and `finished`
    /// after a finish).
    pub async fn submit(
        &self,
        held: &mut SessionRef,
        seq: i64,
        action: Action,
        client_ts: Option<String>,
    ) -> Result<Vec<ServerMsg>, WireError> {
        if seq <= 0 {
            return Err(Error::BadSeq(BadSeq::NotPositive).into());
        }
        let seat = self.resolve(held).await?;
        let id = held.id();
        if action == Action::Finish {
            settle(&seat).await;
        }
        let now = self.clock.tick();
        let utc = self.clock.utc();
        let (batch, finished, answers_sha256) = {
            let mut s = lock(&seat);
            let mut line = match s.accept(now, utc, seq, &action) {
                Ok(Accepted::Line(line)) => line,
                Ok(Accepted::Again { position, server_ts }) => {
                    let remaining_ms = s.session.remaining(now);
                    return Ok(vec![ServerMsg::Ack { seq, index: position, server_ts, remaining_ms }]);
                }
                Err(e) => {
                    if let Some(note) = Note::of_refusal(&e) {
                        self.note(&s, note);
                    }
                    return Err(e.into());
                }
            };
            for note in std::mem::take(&mut line.notes) {
                self.note(&s, note);
            }
            line.log.client_ts = client_ts;
            let finished = line.answers_sha256.as_deref().map(|hash| {
                s.finish_result(FinishReason::Submitted, hash, &self.signer, utc, self.audit.committed_head())
            });
            let sessions = if finished.is_some() { vec![s.session_write(now, utc, false)] } else { Vec::new() };
            (Batch { log: vec![line.log], sessions, ..Batch::default() }, finished, line.answers_sha256)
        };
        let index = batch.log[0].position;
        let server_ts = batch.log[0].server_ts.clone();
        let result = match &finished {
            // The result is published: audited in the same transaction as the finish.
            Some(r) => {
                let detail =
                    serde_json::json!({ "reason": "submitted", "result": r, "answers_sha256": answers_sha256 });
                self.record(id, LogAction::SessionFinished, id, detail, batch).await
            }
            None => self.writer.write(batch).await,
        };
        let mut s = lock(&seat);
        if let Err(e) = result {
            // Stale under the same lock that clears `pending`: nobody may see this line
            // settled and sign a digest that holds it.
            s.stale = true;
            s.landed(seq);
            drop(s);
            self.evict(id, &seat);
            return Err(Error::internal("store answer", &e).into());
        }
        s.landed(seq);
        s.acks.insert(seq, (index, server_ts.clone()));
        let mut out = vec![ServerMsg::Ack { seq, index, server_ts, remaining_ms: s.session.remaining(now) }];
        if let Some(r) = finished {
            out.push(ServerMsg::Finished(r));
        }
        // Running scores move on the board with every acknowledged answer, not only at
        // finish; a seat already marked is read once for all its answers of the tick.
        let mark = !std::mem::replace(&mut s.on_board_queue, true);
        let evicted = s.stale;
        drop(s);
        if evicted {
            // This copy was evicted (a failed commit of another line, queued earlier) while
            // this line was committing: a copy loaded since may have been read before this
            // line landed. Evicted too, it is read again with the line.
            let current = lock(&self.seats).get(id).cloned();
            if let Some(current) = current {
                self.evict(id, &current);
            }
        } else if mark {
            self.board.mark(seat);
        }
        Ok(out)
    }

    /// Finishes a session whose time is up (if it is), storing and pushing the result.
    pub async fn expire(&self, id: &str) -> Result<bool, WireError> {
        let due = {
            let seat = self.get(id).await?;
            let s = lock(&seat);
            s.session.status() == Status::Active && s.session.remaining(self.clock.tick()) == 0
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
        let seat = self.get(id).await?;
        let now = self.clock.tick();
        let utc = self.clock.utc();
        let (write, push, action, detail, tx) = {
            let (action, detail) = match command {
                Command::Pause => (LogAction::SessionPaused, serde_json::json!({ "reason": reason })),
                Command::Resume => (LogAction::SessionResumed, serde_json::json!({ "reason": reason })),
                Command::Extend { ms } => {
                    (LogAction::SessionExtended, serde_json::json!({ "reason": reason, "ms": ms }))
                }
                other => return Err(Error::NotSupervisorAction(other).into()),
            };
            let mut s = lock(&seat);
            if let Command::Extend { ms } = command {
                let cap_minutes = s.exam.exam.extension_cap_minutes();
                if !beyond_cap && s.extension_ms + ms > u64::from(cap_minutes) * 60_000 {
                    return Err(Error::ExtensionLimit { cap_minutes, given_minutes: s.extension_ms / 60_000 }.into());
                }
            }
            if s.apply_unstored(now, command)?.is_empty() {
                return Ok(false);
            }
            let remaining_ms = s.session.remaining(now);
            let said = reason.to_owned();
            let (push, note) = match command {
                Command::Resume => (ServerMsg::Resumed { remaining_ms }, Note::Resumed { reason: said }),
                Command::Extend { ms } => {
                    s.extension_ms += ms;
                    (ServerMsg::Extended { remaining_ms }, Note::Extended { reason: said })
                }
                _ => (ServerMsg::Paused, Note::Paused { reason: said }),
            };
            self.note(&s, note);
            (s.session_write(now, utc, false), push, action, detail, s.push_tx())
        };
        if let Err(e) = self.record(actor, action, id, detail, Batch::session(write)).await {
            self.evict(id, &seat);
            return Err(Error::internal("store supervisor action", &e).into());
        }
        self.status_stored(&seat);
        if let Some(tx) = tx {
            let _ = tx.try_send(Push::Msg(Box::new(push)));
        }
        Ok(true)
    }

    /// What the seat monitor shows of a session right now, if it is in memory.
    pub fn seat_view(&self, id: &str) -> Option<SeatLive> {
        let seat = lock(&self.seats).get(id).cloned()?;
        let s = lock(&seat);
        Some(s.seat_live(self.clock.tick()))
    }

    /// Tells the sitting's supervisors what just happened at a seat. The event is written
    /// only when a console watches (an answer in a closed loop updates an `irregularity` each).
    fn note(&self, seat: &Seat, note: Note) {
        self.monitor.emit(&seat.sitting, || {
            let (kind, by, detail) = note.describe();
            let mut event = seat.event(kind, by, detail, store::ts(self.clock.utc()));
            event.irregularity = note.irregularity();
            event
        });
    }

    /// Stores an audit entry, with whatever else (`with`) belongs in the same transaction.
    pub async fn record(
        &self,
        actor: &str,
        action: LogAction,
        subject: &str,
        detail: serde_json::Value,
        with: Batch,
    ) -> Result<(), WriteError> {
        let entry = Entry { at: store::ts(self.clock.utc()), actor, action: action.as_str(), subject, detail };
        self.audit.record(&self.writer, &self.store, entry, with).await
    }

    /// Finishes a session for a supervisor-side reason (terminate) or the clock (time up):
    /// scores, signs, stores with its audit entry, tells the board and the candidate.
    async fn finish_by_server(&self, id: &str, command: Command, actor: &str, reason: &str) -> Result<bool, WireError> {
        let seat = self.get(id).await?;
        settle(&seat).await;
        let now = self.clock.tick();
        let utc = self.clock.utc();
        let (write, result, answers_sha256, tx) = {
            let mut s = lock(&seat);
            if s.stale {
                return Err(Error::Stale.into());
            }
            if !s.pending.is_empty() {
                return Err(Error::Busy.into());
            }
            let finish = s.apply_unstored(now, command)?.iter().find_map(|e| match e {
                Event::Finished(r) => Some(*r),
                _ => None,
            });
            let Some(finish) = finish else { return Ok(false) };
            let answers_sha256 = s.digest.hex();
            let result = s.finish_result(finish, &answers_sha256, &self.signer, utc, self.audit.committed_head());
            (s.session_write(now, utc, false), result, answers_sha256, s.push_tx())
        };
        let detail = serde_json::json!({ "reason": reason, "result": &result, "answers_sha256": answers_sha256 });
        if let Err(e) = self.record(actor, LogAction::SessionFinished, id, detail, Batch::session(write)).await {
            self.evict(id, &seat);
            return Err(Error::internal("store finish", &e).into());
        }
        self.status_stored(&seat);
        tracing::info!(session = %id, total = result.total, reason = %result.reason, "session finished and scored");
        self.note(&lock(&seat), Note::Finished { reason: result.reason.clone() });
        if let Some(tx) = tx {
            let _ = tx.try_send(Push::Msg(Box::new(ServerMsg::Finished(result))));
        }
        Ok(true)
    }

    /// Puts a seat's current score on the public board.
    fn publish(&self, seat: &Arc<Mutex<Seat>>) {
        self.board.mark(seat.clone());
    }

    /// A change applied with `Seat::apply_unstored` is committed: it may show.
    fn status_stored(&self, seat: &Arc<Mutex<Seat>>) {
        lock(seat).status_stored();
        self.publish(seat);
    }
}
