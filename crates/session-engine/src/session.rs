//! The session state machine: a closed [`Command`] in, [`Event`]s out, time passed in.
//!
//! Answers and flags are kept by paper index with the labels the candidate saw; mapping to
//! the item's own labels (for scoring) is the paper's job.

use item_bank::Label;

use crate::timer::{Tick, Timer};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// The candidate submitted.
    Submitted,
    /// The deadline passed.
    TimeUp,
    /// A supervisor ended the session (disqualification).
    Terminated,
}

impl FinishReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Submitted => "submitted",
            FinishReason::TimeUp => "time_up",
            FinishReason::Terminated => "terminated",
        }
    }

    pub fn parse(s: &str) -> Option<FinishReason> {
        Some(match s {
            "submitted" => FinishReason::Submitted,
            "time_up" => FinishReason::TimeUp,
            "terminated" => FinishReason::Terminated,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Prepared, paper drawn, the candidate has not begun.
    Ready,
    Active,
    /// Stopped by a supervisor; the clock does not run.
    Paused,
    Finished(FinishReason),
}

impl Status {
    /// The stored and wire name of the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ready => "ready",
            Status::Active => "active",
            Status::Paused => "paused",
            Status::Finished(_) => "finished",
        }
    }

    /// A stored status back: the status column and, for a finished session, its finish
    /// reason (a finish stored without one reads as submitted). `None`: not a status.
    pub fn from_stored(status: &str, finish_reason: Option<&str>) -> Option<Status> {
        Some(match status {
            "ready" => Status::Ready,
            "active" => Status::Active,
            "paused" => Status::Paused,
            "finished" => {
                Status::Finished(finish_reason.and_then(FinishReason::parse).unwrap_or(FinishReason::Submitted))
            }
            _ => return None,
        })
    }

    /// Started and not finished: the candidate is working, whether or not the clock runs.
    pub fn is_working(self) -> bool {
        matches!(self, Status::Active | Status::Paused)
    }
}

/// Everything that can be done to a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// The candidate begins (first connect); the clock starts.
    Start,
    /// Choose a shown label for the question at `index`, or clear it with `None`.
    Answer {
        index: usize,
        choice: Option<Label>,
    },
    Flag {
        index: usize,
        flagged: bool,
    },
    /// The candidate submits.
    Finish,
    Pause,
    Resume,
    Extend {
        ms: u64,
    },
    Terminate,
    /// A newer connection takes the seat.
    TakeOver,
    /// The server's deadline sweep: finishes the session if its time is up.
    Expire,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Started,
    Answered { index: usize, choice: Option<Label> },
    Flagged { index: usize, flagged: bool },
    Paused,
    Resumed,
    Extended { ms: u64 },
    TakenOver,
    Finished(FinishReason),
}

/// Why a command was refused. Nothing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the session has not started")]
    NotStarted,
    #[error("the session is already finished")]
    AlreadyFinished,
    #[error("the time is up")]
    TimeExpired,
    #[error("the session is paused")]
    Paused,
    #[error("the session is not paused")]
    NotPaused,
    #[error("question {0} is not in the paper")]
    UnknownIndex(usize),
    #[error("that option is not one of the question's options")]
    BadChoice,
}

/// One candidate's attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    status: Status,
    timer: Timer,
    answers: Vec<Option<Label>>,
    flags: Vec<bool>,
    /// How many options each question shows, to refuse a choice that is not there.
    option_counts: Vec<u8>,
}

impl Session {
    /// A fresh, not yet started session over a paper whose questions show `option_counts` options.
    pub fn new(allowed_ms: u64, option_counts: Vec<u8>) -> Session {
        let n = option_counts.len();
        Session {
            status: Status::Ready,
            timer: Timer::new(allowed_ms, 0),
            answers: vec![None; n],
            flags: vec![false; n],
            option_counts,
        }
    }

    /// Rebuilds a session from storage. An active session's clock runs again from `now`:
    /// whatever time passed while it was not in memory (the server was down) is not charged.
    pub fn restore(
        status: Status,
        allowed_ms: u64,
        used_ms: u64,
        answers: Vec<Option<Label>>,
        flags: Vec<bool>,
        option_counts: Vec<u8>,
        now: Tick,
    ) -> Session {
        let mut timer = Timer::new(allowed_ms, used_ms);
        if status == Status::Active {
            timer.run(now);
        }
        Session { status, timer, answers, flags, option_counts }
    }

    pub fn status(&self) -> Status {
        self.status
    }
    pub fn answers(&self) -> &[Option<Label>] {
        &self.answers
    }
    pub fn flags(&self) -> &[bool] {
        &self.flags
    }
    pub fn len(&self) -> usize {
        self.answers.len()
    }
    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }
    pub fn remaining(&self, now: Tick) -> u64 {
        self.timer.remaining(now)
    }
    pub fn used(&self, now: Tick) -> u64 {
        self.timer.used(now)
    }
    pub fn allowed(&self) -> u64 {
        self.timer.allowed()
    }
    /// When the session runs out of time if nothing changes; `None` unless active.
    pub fn deadline(&self) -> Option<Tick> {
        (self.status == Status::Active).then(|| self.timer.deadline()).flatten()
    }

    /// Charges running time into the persisted `used` figure (see [`Timer::fold`]).
    pub fn checkpoint(&mut self, now: Tick) -> u64 {
        self.timer.fold(now);
        self.timer.used(now)
    }

    fn check_index(&self, index: usize) -> Result<(), Refusal> {
        if index < self.answers.len() { Ok(()) } else { Err(Refusal::UnknownIndex(index)) }
    }

    /// Refuses candidate actions unless the session is active and within its time.
    fn check_writable(&self, now: Tick) -> Result<(), Refusal> {
        match self.status {
            Status::Ready => Err(Refusal::NotStarted),
            Status::Paused => Err(Refusal::Paused),
            Status::Finished(_) => Err(Refusal::AlreadyFinished),
            Status::Active if self.timer.is_expired(now) => Err(Refusal::TimeExpired),
            Status::Active => Ok(()),
        }
    }

    fn finish(&mut self, now: Tick, reason: FinishReason) -> Vec<Event> {
        self.timer.stop(now);
        self.status = Status::Finished(reason);
        vec![Event::Finished(reason)]
    }

    /// Applies a command at `now`. On a refusal nothing changes.
    pub fn apply(&mut self, now: Tick, command: Command) -> Result<Vec<Event>, Refusal> {
        match command {
            Command::Start => match self.status {
                Status::Ready => {
                    self.status = Status::Active;
                    self.timer.run(now);
                    Ok(vec![Event::Started])
                }
                Status::Finished(_) => Err(Refusal::AlreadyFinished),
                // Starting again (a reconnect) is harmless and says nothing new.
                Status::Active | Status::Paused => Ok(vec![]),
            },
            Command::Answer { index, choice } => {
                self.check_index(index)?;
                self.check_writable(now)?;
                if let Some(c) = choice
                    && c.index() >= usize::from(self.option_counts[index])
                {
                    return Err(Refusal::BadChoice);
                }
                self.answers[index] = choice;
                Ok(vec![Event::Answered { index, choice }])
            }
            Command::Flag { index, flagged } => {
                self.check_index(index)?;
                self.check_writable(now)?;
                self.flags[index] = flagged;
                Ok(vec![Event::Flagged { index, flagged }])
            }
            Command::Finish => {
                self.check_writable(now)?;
                Ok(self.finish(now, FinishReason::Submitted))
            }
            Command::Pause => match self.status {
                Status::Active if self.timer.is_expired(now) => Err(Refusal::TimeExpired),
                Status::Active => {
                    self.timer.stop(now);
                    self.status = Status::Paused;
                    Ok(vec![Event::Paused])
                }
                // Pausing a session that has not begun keeps it from beginning on its own.
                Status::Ready => Err(Refusal::NotStarted),
                Status::Paused => Ok(vec![]),
                Status::Finished(_) => Err(Refusal::AlreadyFinished),
            },
            Command::Resume => match self.status {
                Status::Paused => {
                    self.timer.run(now);
                    self.status = Status::Active;
                    Ok(vec![Event::Resumed])
                }
                Status::Finished(_) => Err(Refusal::AlreadyFinished),
                Status::Ready | Status::Active => Err(Refusal::NotPaused),
            },
            Command::Extend { ms } => match self.status {
                Status::Finished(_) => Err(Refusal::AlreadyFinished),
                _ => {
                    self.timer.fold(now);
                    self.timer.extend(ms);
                    Ok(vec![Event::Extended { ms }])
                }
            },
            Command::Terminate => match self.status {
                Status::Finished(_) => Err(Refusal::AlreadyFinished),
                _ => Ok(self.finish(now, FinishReason::Terminated)),
            },
            Command::TakeOver => match self.status {
                Status::Finished(_) => Err(Refusal::AlreadyFinished),
                _ => Ok(vec![Event::TakenOver]),
            },
            Command::Expire => match self.status {
                Status::Active if self.timer.is_expired(now) => Ok(self.finish(now, FinishReason::TimeUp)),
                _ => Ok(vec![]),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_as_it_is_stored() {
        let reasons = [FinishReason::Submitted, FinishReason::TimeUp, FinishReason::Terminated];
        for status in [Status::Ready, Status::Active, Status::Paused].into_iter().chain(reasons.map(Status::Finished)) {
            let reason = match status {
                Status::Finished(r) => Some(r.as_str()),
                _ => None,
            };
            assert_eq!(Status::from_stored(status.as_str(), reason), Some(status));
        }
        assert_eq!(Status::from_stored("finished", None), Some(Status::Finished(FinishReason::Submitted)));
        assert_eq!(Status::from_stored("Active", None), None, "a stored status is read exactly");
        let working: Vec<&str> =
            [Status::Ready, Status::Active, Status::Paused, Status::Finished(FinishReason::TimeUp)]
                .into_iter()
                .filter(|s| s.is_working())
                .map(Status::as_str)
                .collect();
        assert_eq!(working, ["active", "paused"]);
    }

    fn label(s: &str) -> Option<Label> {
        Label::parse(s)
    }

    fn started(now: Tick) -> Session {
        let mut s = Session::new(60_000, vec![5, 5, 2]);
        assert_eq!(s.apply(now, Command::Start), Ok(vec![Event::Started]));
        s
    }

    #[track_caller]
    fn check(session: &mut Session, now: Tick, command: Command, expected: Result<Vec<Event>, Refusal>) {
        let before = session.clone();
        let got = session.apply(now, command);
        assert_eq!(got, expected, "{command:?}");
        if got.is_err() {
            assert_eq!(*session, before, "a refused {command:?} changed the session");
        }
    }

    #[test]
    fn answers_and_flags_before_the_start_are_refused() {
        let mut s = Session::new(60_000, vec![5]);
        check(&mut s, 0, Command::Answer { index: 0, choice: label("A") }, Err(Refusal::NotStarted));
        check(&mut s, 0, Command::Flag { index: 0, flagged: true }, Err(Refusal::NotStarted));
    }

    #[test]
    fn answering_changing_clearing_and_flagging() {
        let mut s = started(0);
        check(
            &mut s,
            1,
            Command::Answer { index: 0, choice: label("B") },
            Ok(vec![Event::Answered { index: 0, choice: label("B") }]),
        );
        check(
            &mut s,
            2,
            Command::Answer { index: 0, choice: label("E") },
            Ok(vec![Event::Answered { index: 0, choice: label("E") }]),
        );
        check(
            &mut s,
            3,
            Command::Answer { index: 0, choice: None },
            Ok(vec![Event::Answered { index: 0, choice: None }]),
        );
        check(
            &mut s,
            4,
            Command::Flag { index: 1, flagged: true },
            Ok(vec![Event::Flagged { index: 1, flagged: true }]),
        );
        assert_eq!(s.answers(), &[None, None, None]);
        assert_eq!(s.flags(), &[false, true, false]);
    }

    #[test]
    fn unknown_indexes_and_absent_options_are_refused() {
        let mut s = started(0);
        check(&mut s, 1, Command::Answer { index: 3, choice: label("A") }, Err(Refusal::UnknownIndex(3)));
        check(&mut s, 1, Command::Flag { index: 99, flagged: true }, Err(Refusal::UnknownIndex(99)));
        check(&mut s, 1, Command::Answer { index: 2, choice: label("C") }, Err(Refusal::BadChoice));
    }

    #[test]
    fn after_the_deadline_answers_are_refused_and_expire_finishes() {
        let mut s = started(1_000);
        check(&mut s, 60_999, Command::Expire, Ok(vec![]));
        check(&mut s, 61_000, Command::Answer { index: 0, choice: label("A") }, Err(Refusal::TimeExpired));
        check(&mut s, 61_000, Command::Finish, Err(Refusal::TimeExpired));
        check(&mut s, 61_000, Command::Expire, Ok(vec![Event::Finished(FinishReason::TimeUp)]));
        assert_eq!(s.status(), Status::Finished(FinishReason::TimeUp));
        check(&mut s, 61_001, Command::Answer { index: 0, choice: label("A") }, Err(Refusal::AlreadyFinished));
        check(&mut s, 61_001, Command::Expire, Ok(vec![]));
    }

    #[test]
    fn pause_stops_the_clock_and_refuses_answers_until_resumed() {
        let mut s = started(0);
        check(&mut s, 10_000, Command::Pause, Ok(vec![Event::Paused]));
        check(&mut s, 20_000, Command::Answer { index: 0, choice: label("A") }, Err(Refusal::Paused));
        assert_eq!(s.remaining(900_000), 50_000);
        check(&mut s, 900_000, Command::Expire, Ok(vec![]));
        check(&mut s, 900_000, Command::Resume, Ok(vec![Event::Resumed]));
        assert_eq!(s.remaining(905_000), 45_000);
        check(&mut s, 905_000, Command::Resume, Err(Refusal::NotPaused));
    }

    #[test]
    fn extension_and_termination() {
        let mut s = started(0);
        check(&mut s, 50_000, Command::Extend { ms: 30_000 }, Ok(vec![Event::Extended { ms: 30_000 }]));
        assert_eq!(s.remaining(50_000), 40_000);
        check(&mut s, 50_000, Command::Terminate, Ok(vec![Event::Finished(FinishReason::Terminated)]));
        check(&mut s, 50_000, Command::Extend { ms: 1 }, Err(Refusal::AlreadyFinished));
        check(&mut s, 50_000, Command::TakeOver, Err(Refusal::AlreadyFinished));
    }

    #[test]
    fn finishing_stops_the_clock() {
        let mut s = started(0);
        check(&mut s, 5_000, Command::Finish, Ok(vec![Event::Finished(FinishReason::Submitted)]));
        assert_eq!(s.remaining(999_999), 55_000);
        check(&mut s, 6_000, Command::Finish, Err(Refusal::AlreadyFinished));
    }

    #[test]
    fn a_restored_active_session_charges_nothing_for_the_downtime() {
        let mut s = started(0);
        let used = s.checkpoint(20_000);
        let restored =
            Session::restore(Status::Active, 60_000, used, s.answers().to_vec(), s.flags().to_vec(), vec![5, 5, 2], 7);
        assert_eq!(restored.remaining(7), 40_000);
        assert_eq!(restored.deadline(), Some(40_007));
    }
}
