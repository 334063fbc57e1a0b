//! What staff do to sittings and sessions, and the actions the audit log records: each an
//! enum with its wire or log string, so a new action is added in one place.

use std::fmt;
use std::str::FromStr;

/// A string that names no action of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown action {0:?}")]
pub struct UnknownAction(pub String);

/// `POST /api/v1/sittings/{id}/{action}`: what a supervisor does to a whole sitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SittingAction {
    /// Opens for logins (and, asked, makes a new token).
    Open,
    /// Ends every login of a seat that has not started: the sitting's results are final.
    Close,
    /// Pauses every running seat (a power cut).
    Pause,
    Resume,
    /// A new token: the old one stops working for new logins.
    RotateToken,
}

impl SittingAction {
    pub const ALL: [SittingAction; 5] = [
        SittingAction::Open,
        SittingAction::Close,
        SittingAction::Pause,
        SittingAction::Resume,
        SittingAction::RotateToken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SittingAction::Open => "open",
            SittingAction::Close => "close",
            SittingAction::Pause => "pause",
            SittingAction::Resume => "resume",
            SittingAction::RotateToken => "rotate-token",
        }
    }
}

impl FromStr for SittingAction {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<SittingAction, UnknownAction> {
        SittingAction::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| UnknownAction(s.to_owned()))
    }
}

/// `POST /api/v1/sessions/{id}/{action}`: what a supervisor does to one seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionAction {
    /// Notes that the candidate is in the room, at which PC.
    CheckIn,
    Pause,
    Resume,
    Extend,
    Terminate,
    /// Lets the next login of a started session take its seat (the candidate's PC died).
    AllowMove,
}

impl SessionAction {
    pub const ALL: [SessionAction; 6] = [
        SessionAction::CheckIn,
        SessionAction::Pause,
        SessionAction::Resume,
        SessionAction::Extend,
        SessionAction::Terminate,
        SessionAction::AllowMove,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionAction::CheckIn => "checkin",
            SessionAction::Pause => "pause",
            SessionAction::Resume => "resume",
            SessionAction::Extend => "extend",
            SessionAction::Terminate => "terminate",
            SessionAction::AllowMove => "allow-move",
        }
    }
}

impl FromStr for SessionAction {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<SessionAction, UnknownAction> {
        SessionAction::ALL.into_iter().find(|a| a.as_str() == s).ok_or_else(|| UnknownAction(s.to_owned()))
    }
}

/// An audit log entry's action: who did what is read back by `ujian audit verify` and by
/// anyone checking the chain, so the strings are a compatibility promise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogAction {
    CandidateLogin,
    /// A connection to a running session that did not start it: the same login back after
    /// a drop, or (`"takeover": true`) a second connection that took the seat.
    CandidateReconnect,
    /// A supervisor let a locked-out candidate try again.
    CandidateUnlock,
    StaffLogin,
    StaffUnlock,
    StaffAdded,
    ExamImported,
    CandidatesImported,
    SittingPrepared,
    Sitting(SittingAction),
    /// A supervisor's check-in or allow-move (the engine's actions are logged by the
    /// sessions as [`LogAction::SessionPaused`] and its neighbours).
    SessionCheckIn,
    SessionAllowMove,
    SessionPaused,
    SessionResumed,
    SessionExtended,
    SessionFinished,
    /// A selection and its applicants stored (`ujian selection import`).
    SelectionImported,
    /// A signed announcement stored (`ujian selection announce`).
    AnnouncementPublished,
    /// An assessor's scores for one applicant's SKB component (`ujian selection scores import`).
    AssessorScored,
}

impl LogAction {
    pub fn as_str(self) -> &'static str {
        match self {
            LogAction::CandidateLogin => "candidate.login",
            LogAction::CandidateReconnect => "candidate.reconnect",
            LogAction::CandidateUnlock => "candidate.unlock",
            LogAction::StaffLogin => "staff.login",
            LogAction::StaffUnlock => "staff.unlock",
            LogAction::StaffAdded => "staff.added",
            LogAction::ExamImported => "exam.imported",
            LogAction::CandidatesImported => "candidates.imported",
            LogAction::SittingPrepared => "sitting.prepared",
            LogAction::Sitting(SittingAction::Open) => "sitting.open",
            LogAction::Sitting(SittingAction::Close) => "sitting.close",
            LogAction::Sitting(SittingAction::Pause) => "sitting.pause",
            LogAction::Sitting(SittingAction::Resume) => "sitting.resume",
            LogAction::Sitting(SittingAction::RotateToken) => "sitting.rotate-token",
            LogAction::SessionCheckIn => "session.checkin",
            LogAction::SessionAllowMove => "session.allow-move",
            LogAction::SessionPaused => "session.paused",
            LogAction::SessionResumed => "session.resumed",
            LogAction::SessionExtended => "session.extended",
            LogAction::SessionFinished => "session.finished",
            LogAction::SelectionImported => "selection.imported",
            LogAction::AnnouncementPublished => "announcement.published",
            LogAction::AssessorScored => "skb.scored",
        }
    }

    /// Every action, for parsing and its test.
    pub fn all() -> impl Iterator<Item = LogAction> {
        [
            LogAction::CandidateLogin,
            LogAction::CandidateReconnect,
            LogAction::CandidateUnlock,
            LogAction::StaffLogin,
            LogAction::StaffUnlock,
            LogAction::StaffAdded,
            LogAction::ExamImported,
            LogAction::CandidatesImported,
            LogAction::SittingPrepared,
            LogAction::SessionCheckIn,
            LogAction::SessionAllowMove,
            LogAction::SessionPaused,
            LogAction::SessionResumed,
            LogAction::SessionExtended,
            LogAction::SessionFinished,
            LogAction::SelectionImported,
            LogAction::AnnouncementPublished,
            LogAction::AssessorScored,
        ]
        .into_iter()
        .chain(SittingAction::ALL.into_iter().map(LogAction::Sitting))
    }
}

impl fmt::Display for LogAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LogAction {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<LogAction, UnknownAction> {
        LogAction::all().find(|a| a.as_str() == s).ok_or_else(|| UnknownAction(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_reads_back_from_its_string() {
        for a in SittingAction::ALL {
            assert_eq!(a.as_str().parse(), Ok(a));
        }
        for a in SessionAction::ALL {
            assert_eq!(a.as_str().parse(), Ok(a));
        }
        for a in LogAction::all() {
            assert_eq!(a.as_str().parse(), Ok(a));
        }
        assert_eq!("sitting.reopen".parse::<LogAction>(), Err(UnknownAction("sitting.reopen".into())));
    }
}
