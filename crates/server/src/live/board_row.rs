//! What the public board and the supervisor's monitor read of a seat: only what is
//! stored, under the exam's `[board]` policy (docs/design-rules.md: the board is not an
//! answer-key oracle; nothing acknowledged is lost).

use std::borrow::Cow;
use std::sync::Mutex;

use item_bank::{BoardRunning, Label};
use session_engine::Status;

use super::seat::{IntervalMark, Seat, lock};
use crate::board::{RowSource, RowUpdate, Scored};

impl RowSource for Mutex<Seat> {
    fn row_update(&self) -> Option<RowUpdate> {
        let mut seat = lock(self);
        seat.on_board_queue = false;
        seat.row_update()
    }
}

impl Seat {
    /// This session's line for the public board: what is stored. Lines still being
    /// committed are taken back out (latest first, so a position answered twice gets the
    /// choice before the earlier one); their acks mark the row again. A stale copy, which
    /// may hold a line whose commit failed, has no line: the copy loaded in its place is
    /// put on the board.
    ///
    /// The score in it is the exam's `[board]` policy: a finished session's always; a
    /// running one's only under `live` (the stored sheet) or `interval` (the sheet stored
    /// at the last mark); none before the start.
    pub(super) fn row_update(&self) -> Option<RowUpdate> {
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
            reason: super::records::finish_reason(status),
            sitting_ends_ms: self.sitting_ends_ms,
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
    pub(super) fn supervisor_score(&self) -> Option<scoring::Score> {
        match self.session.status() {
            Status::Ready => None,
            Status::Finished(_) => Some(self.score()),
            Status::Active | Status::Paused if self.exam.exam.board().supervisor_running_scores => Some(self.score()),
            Status::Active | Status::Paused => self.running_sheet(self.session.answers()).map(|s| self.score_of(s)),
        }
    }

    /// At the first sweep past a new mark of an interval board, keeps the stored sheet as
    /// the one its running score is shown from; returns whether the row changed. The sheet
    /// is the one stored when the sweep runs, at most one sweep after the mark.
    pub(super) fn at_interval_mark(&mut self, utc_ms: i64) -> bool {
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
}
