//! What a board shows: which board, the exam facts, rows and their updates, and the
//! pages and listings sent to viewers.

use item_bank::{BoardNames, BoardRunning, Exam};
use std::sync::Arc;

use scoring::{RankKey, Score};
use serde::{Deserialize, Serialize};

/// Which board: one sitting, one venue (across its sittings of an exam), or a whole exam.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BoardId {
    Sitting(String),
    Venue { exam: String, venue: String },
    Exam(String),
}

impl BoardId {
    pub fn parse(kind: &str, id: &str, exam: Option<&str>) -> Option<BoardId> {
        match kind {
            "sitting" => Some(BoardId::Sitting(id.to_owned())),
            "exam" => Some(BoardId::Exam(id.to_owned())),
            "venue" => Some(BoardId::Venue { exam: exam?.to_owned(), venue: id.to_owned() }),
            _ => None,
        }
    }

    pub(super) fn kind(&self) -> &'static str {
        match self {
            BoardId::Sitting(_) => "sitting",
            BoardId::Venue { .. } => "venue",
            BoardId::Exam(_) => "exam",
        }
    }

    pub(super) fn name(&self) -> &str {
        match self {
            BoardId::Sitting(s) | BoardId::Exam(s) => s,
            BoardId::Venue { venue, .. } => venue,
        }
    }
}

/// The exam facts a board needs: section order, thresholds, tie-breaks, name policy.
#[derive(Debug, Clone, Serialize)]
pub struct BoardExam {
    pub code: String,
    pub title: String,
    pub sections: Vec<BoardSection>,
    pub tie_break: Vec<String>,
    pub names: Names,
    /// Questions on every paper: a running row shows `answered` of this many.
    pub questions: u32,
    /// What a running row shows: `progress`, `interval` or `live` (the exam's `[board]`).
    pub running: &'static str,
    /// With `running = "interval"`: scores as they stood at the last mark of this many
    /// minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_minutes: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BoardSection {
    pub code: String,
    pub name: String,
    pub threshold: i64,
}

impl BoardExam {
    pub fn of(exam: &Exam) -> BoardExam {
        BoardExam {
            code: exam.code().to_owned(),
            title: exam.title().to_owned(),
            sections: exam
                .sections()
                .iter()
                .map(|s| BoardSection { code: s.code.to_string(), name: s.name.clone(), threshold: s.threshold.0 })
                .collect(),
            tie_break: exam.tie_break().iter().map(|s| s.to_string()).collect(),
            names: exam.board_names().into(),
            questions: exam.total_items(),
            running: exam.board().running.name(),
            interval_minutes: match exam.board().running {
                BoardRunning::Interval { minutes } => Some(minutes),
                BoardRunning::Progress | BoardRunning::Live => None,
            },
        }
    }
}

/// How a board shows candidates' names, as the exam's `[board] names` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Names {
    Full,
    /// Each word's first letter, the rest starred ("A** L******").
    Masked,
}

impl Names {
    pub fn as_str(self) -> &'static str {
        match self {
            Names::Full => "full",
            Names::Masked => "masked",
        }
    }

    /// A name as this policy shows it.
    pub fn show(self, name: &str) -> String {
        match self {
            Names::Full => name.to_owned(),
            Names::Masked => mask_name(name),
        }
    }
}

impl From<BoardNames> for Names {
    fn from(names: BoardNames) -> Names {
        match names {
            BoardNames::Full => Names::Full,
            BoardNames::Masked => Names::Masked,
        }
    }
}

/// A string that is no [`Names`] policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown name policy {0:?}")]
pub struct UnknownNames(pub String);

impl std::str::FromStr for Names {
    type Err = UnknownNames;

    fn from_str(s: &str) -> Result<Names, UnknownNames> {
        match s {
            "full" => Ok(Names::Full),
            "masked" => Ok(Names::Masked),
            _ => Err(UnknownNames(s.to_owned())),
        }
    }
}

/// One candidate's line on the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// The session id: unique, and the last tie-break (ascending).
    pub id: String,
    pub participant_no: String,
    /// As the exam's setting says: in full, or masked ("A** L******").
    pub name: String,
    pub sitting: String,
    pub venue: String,
    /// Points per section, in the exam's section order. Absent while the exam's policy
    /// hides a running session's score, and before a session starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    /// Questions answered so far: the board shows progress, and every first answer to a
    /// question moves the row even when it earns nothing.
    pub answered: u32,
    /// Every section at or above its threshold (for a running score: so far); absent with
    /// the score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<bool>,
    /// `ready` (not started), `active`, `paused`, `finished`.
    pub status: String,
    /// Set when finished: `submitted`, `time_up`, `terminated`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Competition rank on the board it is sent for (snapshots only), among the rows with
    /// a score; absent for the others.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<usize>,
}

/// A score the board may show, with its place in the exam's order.
#[derive(Debug, Clone)]
pub struct Scored {
    pub score: Score,
    pub key: RankKey,
}

/// What changes a row: the latest status, progress and (where the policy shows it) score
/// of a session.
#[derive(Debug, Clone)]
pub struct RowUpdate {
    pub id: String,
    pub participant_no: String,
    pub name: String,
    pub sitting: String,
    pub venue: String,
    pub exam: Arc<BoardExam>,
    /// `None`: no score is shown (hidden by the policy, or not started).
    pub scored: Option<Scored>,
    pub answered: u32,
    pub status: String,
    pub reason: Option<String>,
    /// When the session's sitting is scheduled to end (ms since the Unix epoch): the same
    /// for every row of the sitting, so the board's time left says nothing of anyone's
    /// extra time or extension. Counted while the session runs.
    pub sitting_ends_ms: Option<i64>,
}

/// "Ani Lestari" → "A** L******": enough for a candidate to find themself, not enough to
/// identify a stranger. Participant numbers are always shown in full.
pub fn mask_name(name: &str) -> String {
    name.split_whitespace()
        .map(|w| {
            let mut chars = w.chars();
            let first = chars.next().map(String::from).unwrap_or_default();
            first + &"*".repeat(chars.count())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Debug, Serialize)]
pub struct BoardListing {
    pub kind: &'static str,
    pub id: String,
    pub exam: String,
    pub title: String,
    pub candidates: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct BoardInfo {
    pub kind: &'static str,
    pub id: String,
    pub exam: BoardExam,
}

#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub board: BoardInfo,
    pub version: u64,
    /// When the page was made (server time, ms since the Unix epoch).
    pub server_ms: i64,
    /// When the latest running sitting on the board is scheduled to end (server time, ms
    /// since the Unix epoch): the board's one time left. Absent while nothing runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ends_ms: Option<i64>,
    pub total_rows: usize,
    pub offset: usize,
    pub rows: Vec<Row>,
}
