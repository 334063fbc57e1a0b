//! The rows the store reads and writes: plain values, one type per shape of row, with no
//! database code. Timestamps are stored as text in the format of [`ts`].

use std::collections::BTreeMap;

use session_engine::{LogDigest, LogLine};

/// Timestamps are stored as RFC 3339 UTC text with milliseconds: sortable and portable.
pub fn ts(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A sitting to create, with every candidate's session and paper drawn in advance.
#[derive(Debug, Clone)]
pub struct NewSitting {
    pub id: String,
    pub exam_code: String,
    pub venue: String,
    pub starts_at: String,
    pub secret_hex: String,
    pub token: String,
    pub created_at: String,
    pub sessions: Vec<NewSession>,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub participant_no: String,
    pub duration_ms: i64,
    pub paper: Vec<PaperRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperRow {
    pub section: String,
    pub item_id: String,
    /// The item's own labels in the order shown, e.g. "CAEBD".
    pub option_order: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SittingRow {
    pub id: String,
    pub exam_code: String,
    pub venue: String,
    pub token: String,
    pub status: String,
    pub secret_hex: String,
    /// When it is scheduled to start (RFC 3339): a candidate's login expires counting from it.
    pub starts_at: String,
}

/// Everything needed to bring a session back into memory.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: String,
    pub sitting_id: String,
    pub venue: String,
    pub exam_code: String,
    pub participant_no: String,
    pub name: String,
    pub status: String,
    pub finish_reason: Option<String>,
    pub duration_ms: i64,
    pub extension_ms: i64,
    pub used_ms: i64,
    pub result: Option<String>,
    /// When the sitting is scheduled to start (RFC 3339): the public board counts down
    /// the sitting's time, never a candidate's own.
    pub sitting_starts_at: String,
    pub paper: Vec<PaperRow>,
    /// The current sheet: the last answer per position (shown labels).
    pub answers: BTreeMap<i64, Option<String>>,
    pub flags: BTreeMap<i64, bool>,
    /// Every acknowledged seq with its position and server timestamp, to repeat acks.
    pub acks: BTreeMap<i64, (Option<i64>, String)>,
    /// The stored log's digest, to carry on as lines are added.
    pub log_digest: LogDigest,
}

/// One line of the append-only answer log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub session_id: String,
    pub seq: i64,
    pub position: Option<i64>,
    pub action: String,
    pub choice: Option<String>,
    pub flagged: Option<bool>,
    pub client_ts: Option<String>,
    pub server_ts: String,
    /// The time charged to the session when this line was written. Answers carry the
    /// clock with them, so the session row need not be rewritten on every answer; a
    /// reload takes the larger of this and the row's `used_ms`.
    pub used_ms: Option<i64>,
}

impl<'a> From<&'a LogEntry> for LogLine<'a> {
    fn from(e: &'a LogEntry) -> LogLine<'a> {
        LogLine {
            seq: e.seq,
            position: e.position,
            action: &e.action,
            choice: e.choice.as_deref(),
            flagged: e.flagged,
            server_ts: &e.server_ts,
            used_ms: e.used_ms,
        }
    }
}

/// The session row as it stands after a write: its status and the time charged so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionWrite {
    pub session_id: String,
    /// The new status; `None` for a clock checkpoint, which must never change the status
    /// (it may have been read before a pause or finish that commits first).
    pub status: Option<String>,
    pub used_ms: i64,
    pub extension_ms: i64,
    pub last_seen_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub finish_reason: Option<String>,
    pub result: Option<String>,
    /// The result's receipt short code, written with it: the public lookup by code finds
    /// the session by this indexed column instead of reading every result.
    pub receipt_code: Option<String>,
}

/// One session as the public board and result exports see it.
#[derive(Debug, Clone)]
pub struct BoardRow {
    pub session_id: String,
    pub participant_no: String,
    pub name: String,
    pub sitting_id: String,
    pub venue: String,
    pub exam_code: String,
    pub status: String,
    pub finish_reason: Option<String>,
    pub result: Option<String>,
}

/// What a login needs to decide: the candidate's sessions with their sittings.
#[derive(Debug, Clone)]
pub struct LoginCandidate {
    pub session_id: String,
    pub sitting_id: String,
    pub sitting_status: String,
    pub sitting_token: String,
    pub session_status: String,
    pub pin_hash: String,
}

/// One stored answer line, as the results export reads it to spot answer cycling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerLine {
    pub session_id: String,
    pub position: i64,
    pub choice: Option<String>,
    pub server_ts: String,
}

/// How often a session's candidate came in, from the audit log: logins, the logins that
/// moved the started session to another PC, and connects to the running session after its
/// start (the same login back after a drop, or a second connection taking the seat).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginCounts {
    pub session_id: String,
    pub logins: i64,
    pub moves: i64,
    pub reconnects: i64,
    pub takeovers: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRow {
    pub username: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
}

/// One row of the hash-chained audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// A session as the supervisor console lists it.
#[derive(Debug, Clone)]
pub struct SeatRow {
    pub session_id: String,
    pub participant_no: String,
    pub name: String,
    pub status: String,
    /// Set when finished: `submitted`, `time_up`, `terminated`.
    pub finish_reason: Option<String>,
    /// The published result (JSON) once finished: what the console shows of a finished
    /// session that is no longer in memory.
    pub result: Option<String>,
    pub seat: Option<String>,
    pub checked_in_at: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SittingListRow {
    pub id: String,
    pub exam_code: String,
    pub venue: String,
    pub starts_at: String,
    pub status: String,
}

/// Why a login token no longer works. Stored as its [`Revoked::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// The candidate logged out.
    LoggedOut,
    /// The sitting closed before the token's session started.
    SittingClosed,
    /// The session started with another login of it.
    Superseded,
    /// The supervisor allowed a move to another PC, and the candidate logged in there.
    Moved,
}

impl Revoked {
    pub fn as_str(self) -> &'static str {
        match self {
            Revoked::LoggedOut => "logged_out",
            Revoked::SittingClosed => "sitting_closed",
            Revoked::Superseded => "superseded",
            Revoked::Moved => "moved",
        }
    }

    /// An unknown reason (written by a later version) reads as a logout: the token is
    /// ended either way.
    pub fn parse(s: &str) -> Revoked {
        match s {
            "sitting_closed" => Revoked::SittingClosed,
            "superseded" => Revoked::Superseded,
            "moved" => Revoked::Moved,
            _ => Revoked::LoggedOut,
        }
    }
}

/// Everything a check of a presented token needs, in one read: the token, its session's
/// state and time, and its sitting's scheduled start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub session_id: String,
    pub revoked: Option<Revoked>,
    /// When the token was issued (the login).
    pub created_at: String,
    pub sitting_starts_at: String,
    pub exam_code: String,
    pub session_status: String,
    /// The session's exam time: duration (with any accommodation) plus extensions.
    pub allowed_ms: i64,
    pub finished_at: Option<String>,
}

/// Ends the other logins of a session that has just started: stored with the start, in
/// the group commit (`Batch::revocations`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRevocation {
    pub session_id: String,
    /// The login that started the session: it keeps the seat.
    pub keep_hash: String,
    pub at: String,
}

/// A login token to store (only its hash is ever kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLoginToken {
    pub token_hash: String,
    pub session_id: String,
    pub created_at: String,
}

/// A candidate to register, as imported from the committee's CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCandidate {
    pub participant_no: String,
    pub name: String,
    pub birth_date: Option<String>,
    pub pin_hash: String,
    pub accommodation: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSupervisor {
    pub username: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
}

/// A stored bank's summary row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBank {
    pub hash: String,
    pub name: String,
    pub version: String,
    pub item_count: i64,
    pub stored_at: String,
}
