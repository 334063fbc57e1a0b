//! Why the registry refused or failed a candidate's or supervisor's request, and how each
//! reason reads on the wire.

use session_engine::{Command, Refusal};

use crate::error::{Code, WireError};
use crate::exams::ExamError;

/// Why a request to a seat did not go through. Expected refusals are variants; failures
/// of the store or the writer are [`Error::Internal`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The session's rules refused the command; nothing changed.
    #[error("{0}")]
    Refused(Refusal),
    /// An answer while the session is paused: refused as [`Refusal::Paused`], and worth
    /// telling the supervisor (the room may be sharing what it sees).
    #[error("{}", Refusal::Paused)]
    AnsweredWhilePaused { position: usize },
    #[error("{0}")]
    BadSeq(BadSeq),
    #[error("{0:?} is not an option label (A..E)")]
    BadChoice(String),
    #[error("question {index} is not in the paper (0..{count})")]
    UnknownIndex { index: i64, count: usize },
    #[error("no such session")]
    UnknownSession,
    #[error("exam {0} is not stored")]
    ExamNotStored(String),
    #[error("the sitting is not open")]
    SittingNotOpen,
    #[error("the sitting is closed")]
    SittingClosed,
    #[error("the seat is held by another login")]
    SeatLocked,
    #[error("extension past the exam's cap of {cap_minutes} minutes ({given_minutes} given)")]
    ExtensionLimit { cap_minutes: u32, given_minutes: u64 },
    /// A finish of the server's side while a line is still being committed.
    #[error("an answer to this session is still being stored; try again")]
    Busy,
    /// This copy of the session was evicted after a failed commit: the retry reloads it.
    #[error("the session is being reloaded; send it again with the same seq")]
    Stale,
    #[error("{0:?} is not a supervisor action")]
    NotSupervisorAction(Command),
    /// The store or the writer failed; `context` says at what.
    #[error("{context}: {detail}")]
    Internal { context: &'static str, detail: String },
}

/// What is wrong with a message's seq.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BadSeq {
    #[error("seq must be a positive integer")]
    NotPositive,
    #[error("seq {0} is being stored; wait for its ack")]
    BeingStored(i64),
    #[error("seq {seq} was never acknowledged and is not above the last one ({last}); continue from last_seq")]
    NotAbove { seq: i64, last: i64 },
    /// A receipt vouches for every line before the finish, so none may be in flight.
    #[error("an earlier message is being stored; send finish (seq {0}) again after its ack")]
    FinishBehindPending(i64),
}

impl Error {
    pub fn internal(context: &'static str, detail: &dyn std::fmt::Display) -> Error {
        Error::Internal { context, detail: detail.to_string() }
    }
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Error {
        Error::Refused(r)
    }
}

impl From<ExamError> for Error {
    fn from(e: ExamError) -> Error {
        match e {
            ExamError::NotStored(code) => Error::ExamNotStored(code),
            ExamError::Store(e) => Error::internal("load exam", &e),
        }
    }
}

/// The codes and messages are the wire's: clients and the pages' translations key on
/// them. An internal failure keeps its cause, logged where the error leaves the server.
impl From<Error> for WireError {
    fn from(e: Error) -> WireError {
        match e {
            Error::Refused(r) => r.into(),
            Error::AnsweredWhilePaused { .. } => Refusal::Paused.into(),
            Error::BadSeq(b) => WireError::bad_seq(b.to_string()),
            e @ Error::BadChoice(_) => WireError::new(Code::BadChoice, e.to_string()),
            e @ Error::UnknownIndex { .. } => WireError::new(Code::UnknownIndex, e.to_string()),
            e @ Error::UnknownSession => WireError::new(Code::UnknownSession, e.to_string()),
            e @ (Error::ExamNotStored(_) | Error::Stale | Error::NotSupervisorAction(_)) => {
                WireError::new(Code::Internal, e.to_string())
            }
            e @ Error::SittingNotOpen => WireError::new(Code::SittingNotOpen, e.to_string()),
            Error::SittingClosed => WireError::sitting_closed(),
            Error::SeatLocked => WireError::seat_locked(),
            Error::ExtensionLimit { cap_minutes, given_minutes } => {
                WireError::extension_limit(cap_minutes, given_minutes)
            }
            e @ Error::Busy => WireError::new(Code::Busy, e.to_string()),
            Error::Internal { context, detail } => WireError::internal(context, &detail),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(e: Error, code: &str, message: &str) {
        let wire = WireError::from(e);
        assert_eq!((wire.code.as_str(), wire.message.as_str()), (code, message));
    }

    #[test]
    fn each_error_keeps_its_wire_code_and_message() {
        check(Error::Refused(Refusal::NotStarted), "not_started", "the session has not started");
        check(Error::AnsweredWhilePaused { position: 3 }, "paused", "the session is paused");
        check(Error::BadSeq(BadSeq::NotPositive), "bad_seq", "seq must be a positive integer");
        check(Error::BadSeq(BadSeq::BeingStored(4)), "bad_seq", "seq 4 is being stored; wait for its ack");
        check(
            Error::BadSeq(BadSeq::NotAbove { seq: 2, last: 5 }),
            "bad_seq",
            "seq 2 was never acknowledged and is not above the last one (5); continue from last_seq",
        );
        check(
            Error::BadSeq(BadSeq::FinishBehindPending(9)),
            "bad_seq",
            "an earlier message is being stored; send finish (seq 9) again after its ack",
        );
        check(Error::BadChoice("Z".into()), "bad_choice", "\"Z\" is not an option label (A..E)");
        check(Error::UnknownIndex { index: 40, count: 40 }, "unknown_index", "question 40 is not in the paper (0..40)");
        check(Error::UnknownSession, "unknown_session", "no such session");
        check(Error::ExamNotStored("TKD".into()), "internal", "exam TKD is not stored");
        check(Error::SittingNotOpen, "sitting_not_open", "the sitting is not open");
        check(Error::SittingClosed, "sitting_closed", &WireError::sitting_closed().message);
        check(Error::SeatLocked, "seat_locked", &WireError::seat_locked().message);
        check(
            Error::ExtensionLimit { cap_minutes: 30, given_minutes: 20 },
            "extension_limit",
            &WireError::extension_limit(30, 20).message,
        );
        check(Error::Busy, "busy", "an answer to this session is still being stored; try again");
        check(Error::Stale, "internal", "the session is being reloaded; send it again with the same seq");
        check(Error::NotSupervisorAction(Command::Finish), "internal", "Finish is not a supervisor action");
        check(
            Error::internal("store answer", &"disk full"),
            "internal",
            "the server could not store this; send it again with the same seq",
        );
    }
}
