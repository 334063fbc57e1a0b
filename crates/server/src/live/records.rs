//! A seat to and from the store's rows: a stored session becomes a [`Seat`], a seat
//! becomes a [`SessionWrite`], and a stored session not in memory gets its board score.

use std::collections::BTreeMap;
use std::sync::Arc;

use item_bank::{Exam, ItemId, Label, SectionCode};
use session_engine::{AnswerCycling, PaperEntry, Session, Status, Tick};
use store::{SessionRecord, SessionWrite};

use super::error::Error;
use super::seat::Seat;
use crate::board::Scored;
use crate::exams::ExamCtx;
use crate::protocol::ResultView;

/// The stored text of a session's finish reason (`None`: not finished).
pub(super) fn finish_reason(status: Status) -> Option<String> {
    match status {
        Status::Finished(r) => Some(r.as_str().to_owned()),
        _ => None,
    }
}

impl Seat {
    /// A stored session in memory. `fast_answer_ms`: two answers closer than this are
    /// reported to the supervisor.
    pub(super) fn from_record(
        rec: SessionRecord,
        exam: Arc<ExamCtx>,
        now: Tick,
        fast_answer_ms: u64,
    ) -> Result<Seat, Error> {
        let corrupt =
            |what: String| Error::Internal { context: "load session", detail: format!("session {}: {what}", rec.id) };
        let mut entries = Vec::with_capacity(rec.paper.len());
        for row in &rec.paper {
            let item = ItemId::new_unchecked(row.item_id.clone());
            let idx =
                exam.item_index(&item).ok_or_else(|| corrupt(format!("item {} is not in the bank", row.item_id)))?;
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
        let status = Status::from_stored(&rec.status, rec.finish_reason.as_deref())
            .ok_or_else(|| corrupt(format!("unknown status {:?}", rec.status)))?;
        let option_counts = entries.iter().map(|(e, _)| e.order.len() as u8).collect();
        let allowed = (rec.duration_ms + rec.extension_ms).max(0) as u64;
        let session = Session::restore(status, allowed, rec.used_ms.max(0) as u64, answers, flags, option_counts, now);
        let sitting_ends_ms = chrono::DateTime::parse_from_rfc3339(&rec.sitting_starts_at)
            .ok()
            .zip(exam.exam.duration_for(None))
            .map(|(start, minutes)| start.timestamp_millis() + i64::from(minutes) * 60_000);
        Ok(Seat {
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
            sitting_ends_ms,
            acks: rec.acks,
            pending: BTreeMap::new(),
            settled: Arc::default(),
            digest: rec.log_digest,
            stale: false,
            result,
            conn: None,
            last_answer: None,
            clock_written: now,
            unstored_status: None,
            on_board_queue: false,
            holder: None,
            interval: None,
            cycling: AnswerCycling::new(),
            irregularity: crate::monitor::Irregularity::default(),
            fast_answer_ms,
        })
    }

    /// The session row as it stands now, for the writer; `starting` on the write of the
    /// start.
    pub(super) fn session_write(
        &mut self,
        now: Tick,
        utc: chrono::DateTime<chrono::Utc>,
        starting: bool,
    ) -> SessionWrite {
        let used = self.fold_clock(now);
        let ts = store::ts(utc);
        let status = self.session.status();
        let finished = matches!(status, Status::Finished(_));
        SessionWrite {
            session_id: self.id.clone(),
            status: Some(status.as_str().to_owned()),
            used_ms: used as i64,
            extension_ms: self.extension_ms as i64,
            last_seen_at: ts.clone(),
            started_at: starting.then(|| ts.clone()),
            finished_at: finished.then(|| ts.clone()),
            finish_reason: finish_reason(status),
            result: if finished { self.result.as_ref().and_then(|r| serde_json::to_string(r).ok()) } else { None },
            receipt_code: if finished { self.result.as_ref().map(|r| r.receipt.clone()) } else { None },
        }
    }
}

/// What the board shows of a stored session that is not in memory: its score and how
/// many questions it answered. Only a finished session's stored result is a score the
/// board may show; one not started has none, and a running one shows its status.
pub(super) fn stored_score(status: &str, result: Option<&str>, ctx: &ExamCtx) -> (Option<Scored>, u32) {
    let stored: Option<ResultView> = result.and_then(|r| serde_json::from_str(r).ok());
    let finished = matches!(Status::from_stored(status, None), Some(Status::Finished(_)));
    let scored = stored.as_ref().filter(|_| finished).map(|r| {
        let score = score_from_result(&ctx.exam, r);
        Scored { key: scoring::RankKey::of(&ctx.exam, &score), score }
    });
    (scored, stored.as_ref().map_or(0, |r| r.answered))
}

/// Whether a stored session's status is a running one (its seat belongs in memory).
pub(super) fn is_running(status: &str) -> bool {
    Status::from_stored(status, None).is_some_and(Status::is_working)
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
