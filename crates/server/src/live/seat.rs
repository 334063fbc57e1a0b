//! A seat: one candidate's session held in memory, and [`Seat::accept`], which decides a
//! candidate's line without I/O (time is an argument).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use item_bank::Label;
use session_engine::{AnswerCycling, Command, Event, FinishReason, PaperEntry, Session, Status, Tick};
use store::{LogDigest, LogEntry};
use tokio::sync::{Notify, mpsc};

use super::error::{BadSeq, Error};
use crate::audit::ChainHead;
use crate::exams::ExamCtx;
use crate::protocol::{ClientEvent, ResultView, ServerMsg};
use crate::receipt::{Finish, Signer};

/// How long a finish waits for an earlier line still being committed ([`settle`]).
const SETTLE_LIMIT: Duration = Duration::from_secs(1);

/// Something the server pushes to a connection outside a request/reply.
#[derive(Debug, Clone)]
pub enum Push {
    Msg(Box<ServerMsg>),
    /// Send `taken_over`, then close: a newer connection has the seat.
    TakenOver,
    /// The seat this connection is attached to was evicted (a failed commit): attach to
    /// the stored truth (`Registry::reattach`) so pushes keep reaching the candidate.
    Evicted,
}

/// The connection attached to a seat.
pub(super) struct Conn {
    pub(super) id: u64,
    pub(super) tx: mpsc::Sender<Push>,
}

/// What a candidate can ask for that changes state (each carries a seq).
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Answer { index: i64, choice: Option<String> },
    Flag { index: i64, flagged: bool },
    Finish,
    Event { kind: ClientEvent },
}

/// One session in memory.
pub struct Seat {
    pub(super) id: String,
    pub(super) sitting: String,
    pub(super) venue: String,
    pub(super) participant_no: String,
    pub(super) name: String,
    pub(super) exam: Arc<ExamCtx>,
    /// Paper positions with the bank index of their item.
    pub(super) entries: Vec<(PaperEntry, usize)>,
    pub(super) session: Session,
    pub(super) extension_ms: u64,
    /// When the sitting's standard time runs out (ms since the Unix epoch): what the public
    /// board counts down. Never this candidate's own deadline, which would publish who got
    /// extra time or an extension.
    pub(super) sitting_ends_ms: Option<i64>,
    pub(super) last_seq: i64,
    /// Every acknowledged seq: its position and server timestamp, to repeat the ack.
    pub(super) acks: BTreeMap<i64, (Option<i64>, String)>,
    /// Seqs accepted but not yet committed, each with what its line changed: the public
    /// board shows the sheet without them (`Seat::row_update`).
    pub(super) pending: BTreeMap<i64, Undo>,
    /// Told when `pending` empties, which a finish waits for ([`settle`]).
    pub(super) settled: Arc<Notify>,
    /// The answer log's digest up to the last accepted line (what a receipt signs). Lines
    /// go in as they are accepted, in seq order; one whose commit fails makes the seat
    /// `stale`, so a digest with an unstored line is never signed.
    pub(super) digest: LogDigest,
    /// Evicted after a failed commit: this copy may hold what was never stored. Whoever
    /// still holds it is refused, and the next access loads the stored truth.
    pub(super) stale: bool,
    pub(super) result: Option<ResultView>,
    pub(super) conn: Option<Conn>,
    /// When the last answer was accepted, to spot answers faster than anyone can read.
    pub(super) last_answer: Option<Tick>,
    /// When the clock was last handed to the writer (with an answer or a checkpoint).
    pub(super) clock_written: Tick,
    /// Status changes made on the server's side (a start, a supervisor's action, time up)
    /// applied and not yet committed, and the status before the first of them, which the
    /// board shows until they are stored (commits land in the order they were queued).
    pub(super) unstored_status: Option<(u32, Status)>,
    /// Marked for the board's next read and not read yet: another ack before that read
    /// need not mark it again (the read sees every line committed before it; one still
    /// being committed then is marked again by its ack, the read having cleared this).
    pub(super) on_board_queue: bool,
    /// The login (its token's hash) that holds the seat: the one that started the session,
    /// or the one a supervisor's allow-move let in. Another login's connect is refused
    /// (`seat_locked`) even before the store's end of it reaches every cache. `None` for a
    /// session loaded from the store, whose other logins the store has already ended.
    pub(super) holder: Option<String>,
    /// With `[board] running = "interval"`: the stored sheet at the last mark, which is
    /// all the board shows of a running score (`Seat::at_interval_mark`).
    pub(super) interval: Option<IntervalMark>,
    /// Recent answers, to tell the supervisor when one question is tried option by option.
    pub(super) cycling: AnswerCycling,
    /// Two answers closer than this are counted as implausibly fast.
    pub(super) fast_answer_ms: u64,
    /// The live detectors' counts at this seat: one grouped irregularity for the monitor.
    pub(super) irregularity: crate::monitor::Irregularity,
}

/// What the supervisor's monitor is told about a seat: a connection coming and going, a
/// supervisor's action or the finish landing, and what [`Seat::accept`] noticed about a
/// line (or a refusal: see [`Error::AnsweredWhilePaused`]).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Note {
    Connected,
    Disconnected,
    /// A newer connection took the seat.
    TakenOver,
    /// A supervisor's pause, resume or extension, with its reason.
    Paused {
        reason: String,
    },
    Resumed {
        reason: String,
    },
    Extended {
        reason: String,
    },
    /// The finish is stored; `reason` is the finish reason.
    Finished {
        reason: String,
    },
    /// One question answered with several different options within a minute.
    AnswerCycling {
        position: usize,
    },
    /// The seat's grouped irregularity, after an answer that was fast or cycled added to it:
    /// the monitor replaces the candidate's last one with it.
    Irregularity(crate::monitor::Irregularity),
    /// An answer refused because the session is paused.
    AnswerWhilePaused {
        position: usize,
    },
    /// What the candidate's page reported (focus lost, …).
    Candidate(ClientEvent),
}

impl Note {
    /// What the supervisor is told about a refused line, if anything.
    pub(super) fn of_refusal(e: &Error) -> Option<Note> {
        match e {
            Error::AnsweredWhilePaused { position } => Some(Note::AnswerWhilePaused { position: *position }),
            _ => None,
        }
    }
}

/// What [`Seat::accept`] decided.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Accepted {
    /// The seq was acknowledged before: the same ack again; nothing changed.
    Again { position: Option<i64>, server_ts: String },
    /// A new line, applied to the seat and held as pending (the board leaves it out until
    /// [`Seat::landed`]): the caller commits it, then acknowledges.
    Line(Line),
}

/// A line accepted and not yet committed.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Line {
    /// The answer-log row to commit (its `client_ts` is the caller's to fill in).
    pub(super) log: LogEntry,
    /// For a finish: the answer log's digest before it, which the receipt signs.
    pub(super) answers_sha256: Option<String>,
    /// For the supervisor, in the order they happened.
    pub(super) notes: Vec<Note>,
}

/// The sheet as stored at an interval mark of the board's clock.
#[derive(Debug, Clone)]
pub(super) struct IntervalMark {
    /// Whole intervals since the Unix epoch, by the server's UTC clock.
    pub(super) mark: i64,
    /// `None` when the session was first seen after the mark (not started then, or loaded
    /// after a restart): nothing is shown until the next mark.
    pub(super) sheet: Option<Vec<Option<Label>>>,
}

/// What a line accepted but not yet committed changed, to be taken back out of what the
/// public board is shown: the board shows only what is stored (docs/design-rules.md:
/// nothing acknowledged is lost), and the line's commit may still fail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Undo {
    /// The position answered and the choice it held before.
    pub(super) answer: Option<(usize, Option<Label>)>,
    /// The status a finish ended.
    pub(super) status: Option<Status>,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a seat's lock leaves data that was consistent before the
    // panicking statement; continuing beats taking every later request down with it.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Seat {
    /// Decides a candidate's line at `now` (`utc` for its timestamp): refused with nothing
    /// changed, a repeat of an acknowledged seq, or applied and held as pending.
    pub(super) fn accept(
        &mut self,
        now: Tick,
        utc: chrono::DateTime<chrono::Utc>,
        seq: i64,
        action: &Action,
    ) -> Result<Accepted, Error> {
        if self.stale {
            return Err(Error::Stale);
        }
        if let Some((position, server_ts)) = self.acks.get(&seq) {
            return Ok(Accepted::Again { position: *position, server_ts: server_ts.clone() });
        }
        if self.pending.contains_key(&seq) {
            return Err(Error::BadSeq(BadSeq::BeingStored(seq)));
        }
        if seq <= self.last_seq {
            return Err(Error::BadSeq(BadSeq::NotAbove { seq, last: self.last_seq }));
        }
        // A receipt vouches for every line before the finish, so none may still be in
        // flight (only from a connection just taken over, and `settle` waited for it).
        if *action == Action::Finish && !self.pending.is_empty() {
            return Err(Error::BadSeq(BadSeq::FinishBehindPending(seq)));
        }
        let answers_sha256 = (*action == Action::Finish).then(|| self.digest.hex());
        let mut notes = Vec::new();
        let (position, action_name, choice, flagged, undo) = match action {
            Action::Answer { index, choice } => {
                let i = self.check_index(*index)?;
                let label = match choice {
                    None => None,
                    Some(c) => Some(Label::parse(c).ok_or_else(|| Error::BadChoice(c.clone()))?),
                };
                let undo = match self.apply_line(now, Command::Answer { index: i, choice: label }) {
                    Err(Error::Refused(session_engine::Refusal::Paused)) => {
                        return Err(Error::AnsweredWhilePaused { position: i });
                    }
                    other => other?,
                };
                let irregular = &mut self.irregularity;
                irregular.answers += 1;
                let mut grew = false;
                if self.cycling.observe(now, i, label) {
                    notes.push(Note::AnswerCycling { position: i });
                    irregular.cycled_questions += 1;
                    grew = true;
                }
                if let Some(prev) = self.last_answer.replace(now) {
                    let gap_ms = now.saturating_sub(prev);
                    if gap_ms < self.fast_answer_ms {
                        irregular.fastest_ms =
                            if irregular.fast_answers == 0 { gap_ms } else { irregular.fastest_ms.min(gap_ms) };
                        irregular.fast_answers += 1;
                        grew = true;
                    }
                }
                if grew {
                    irregular.score = irregular.fast_answers + irregular.cycled_questions;
                    notes.push(Note::Irregularity(*irregular));
                }
                (Some(*index), "answer", choice.clone(), None, undo)
            }
            Action::Flag { index, flagged } => {
                let i = self.check_index(*index)?;
                let undo = self.apply_line(now, Command::Flag { index: i, flagged: *flagged })?;
                (Some(*index), "flag", None, Some(*flagged), undo)
            }
            Action::Finish => (None, "finish", None, None, self.apply_line(now, Command::Finish)?),
            Action::Event { kind } => {
                if matches!(self.session.status(), Status::Finished(_)) {
                    return Err(session_engine::Refusal::AlreadyFinished.into());
                }
                notes.push(Note::Candidate(*kind));
                (None, "event", Some(kind.as_str().to_owned()), None, Undo::default())
            }
        };
        self.last_seq = seq;
        self.pending.insert(seq, undo);
        // The line carries the clock; only a finish changes the session row.
        let used_ms = self.fold_clock(now) as i64;
        let log = LogEntry {
            session_id: self.id.clone(),
            seq,
            position,
            action: action_name.to_owned(),
            choice,
            flagged,
            client_ts: None,
            server_ts: store::ts(utc),
            used_ms: Some(used_ms),
        };
        self.digest.push_entry(&log);
        Ok(Accepted::Line(Line { log, answers_sha256, notes }))
    }

    /// The commit of the pending line `seq` ended (landed or failed).
    pub(super) fn landed(&mut self, seq: i64) {
        self.pending.remove(&seq);
        if self.pending.is_empty() {
            self.settled.notify_waiters();
        }
    }

    /// Gives the seat to `conn` unless a newer connection (a higher id) has it, in which
    /// case `conn` is told it was taken over. A connection it replaces is told the same;
    /// returns whether there was one.
    pub(super) fn attach(&mut self, conn: Conn) -> bool {
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

    /// The push channel of the attached connection, if any.
    pub(super) fn push_tx(&self) -> Option<mpsc::Sender<Push>> {
        self.conn.as_ref().map(|c| c.tx.clone())
    }

    pub(super) fn check_index(&self, index: i64) -> Result<usize, Error> {
        usize::try_from(index)
            .ok()
            .filter(|i| *i < self.entries.len())
            .ok_or(Error::UnknownIndex { index, count: self.entries.len() })
    }

    /// Questions are shown only while the clock runs: not before the start, not while
    /// paused (the room may be sharing what it sees), not after the finish.
    pub(super) fn check_running(&self) -> Result<(), Error> {
        use session_engine::Refusal;
        match self.session.status() {
            Status::Active => Ok(()),
            Status::Ready => Err(Refusal::NotStarted.into()),
            Status::Paused => Err(Refusal::Paused.into()),
            Status::Finished(_) => Err(Refusal::AlreadyFinished.into()),
        }
    }

    fn apply(&mut self, now: Tick, command: Command) -> Result<Vec<Event>, Error> {
        self.session.apply(now, command).map_err(Error::from)
    }

    /// Applies a change of the server's side (a start, a supervisor's action, time up)
    /// whose commit the caller queues next: until [`Seat::status_stored`], the board
    /// shows the status before the first such change still being committed.
    pub(super) fn apply_unstored(&mut self, now: Tick, command: Command) -> Result<Vec<Event>, Error> {
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

    /// The commit of a change applied with [`Seat::apply_unstored`] landed.
    pub(super) fn status_stored(&mut self) {
        if let Some((n, _)) = &mut self.unstored_status {
            *n -= 1;
            if *n == 0 {
                self.unstored_status = None;
            }
        }
    }

    /// Applies a candidate's line, returning what the public board leaves out of the row
    /// until the line's commit lands.
    pub(super) fn apply_line(&mut self, now: Tick, command: Command) -> Result<Undo, Error> {
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
    pub(super) fn fold_clock(&mut self, now: Tick) -> u64 {
        self.clock_written = now;
        self.session.checkpoint(now)
    }

    /// The sheet's score as it stands: final once finished, running before.
    pub(super) fn score(&self) -> scoring::Score {
        self.score_of(self.session.answers())
    }

    /// The score of `sheet`, this paper's choices as shown to the candidate.
    pub(super) fn score_of(&self, sheet: &[Option<Label>]) -> scoring::Score {
        let ctx = &self.exam;
        let answers = self.entries.iter().zip(sheet).map(|((entry, idx), shown)| scoring::Answer {
            item: &ctx.bank.items()[*idx],
            section: &entry.section,
            choice: shown.and_then(|s| entry.to_item_label(s)),
        });
        scoring::score_sheet(&ctx.exam, answers)
    }

    /// How many questions have an answer.
    pub(super) fn answered(&self) -> u32 {
        self.session.answers().iter().filter(|a| a.is_some()).count() as u32
    }

    /// Scores the sheet, signs the receipt and keeps the result; the session must already
    /// be finished. `audit_head`: the audit chain's last stored entry.
    pub(super) fn finish_result(
        &mut self,
        reason: FinishReason,
        answers_sha256: &str,
        signer: &Signer,
        utc: chrono::DateTime<chrono::Utc>,
        audit_head: ChainHead,
    ) -> ResultView {
        let score = self.score();
        let result = Finish {
            session: &self.id,
            participant_no: &self.participant_no,
            exam: self.exam.exam.code(),
            bank_sha256: &self.exam.bank_hash,
            paper_sha256: crate::receipt::paper_sha256(self.entries.iter().map(|(e, _)| e)),
            answers_sha256,
            score: &score,
            answered: self.answered(),
            reason,
            finished_at: store::ts(utc),
            audit_head,
        }
        .result(signer);
        self.result = Some(result.clone());
        result
    }
}

/// Waits, a bounded while, until no line of the seat is still being committed: one
/// accepted just before a finish belongs under its receipt, so the finish lets its commit
/// land (a group commit: milliseconds) rather than refuse.
pub(super) async fn settle(seat: &Mutex<Seat>) {
    let settled = lock(seat).settled.clone();
    let limit = tokio::time::sleep(SETTLE_LIMIT);
    tokio::pin!(limit);
    loop {
        // Registered before looking, so an emptying between the look and the wait wakes it.
        let notified = settled.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if lock(seat).pending.is_empty() {
            return;
        }
        tokio::select! {
            () = &mut notified => {}
            () = &mut limit => return,
        }
    }
}

#[cfg(test)]
mod tests;
