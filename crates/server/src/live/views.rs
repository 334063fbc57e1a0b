//! A seat as the wire shows it: the candidate's welcome and questions, the monitor's view
//! of a seat and its events. The registry's flow builds only the short replies (ack, finished,
//! paused, resumed) itself.

use session_engine::{Status, Tick};

use super::seat::{Note, Seat};
use crate::monitor::SeatEvent;
use crate::protocol::{OptionView, QuestionView, ResultView, SectionInfo, ServerMsg};

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
    /// Why a finished session ended (`submitted`, `time_up`, `terminated`): a
    /// disqualification must not read like a normal finish.
    pub reason: Option<String>,
}

impl SeatLive {
    /// A seat not in memory, from its stored row: a finished session's stored result
    /// (answered and total, whatever the policy, as a finished seat in memory shows it), a
    /// paper of `questions` otherwise. Sessions still working are kept in memory, so
    /// this is a finished or a not-started session.
    pub fn stored(row: &store::SeatRow, questions: u32) -> SeatLive {
        let finished = matches!(Status::from_stored(&row.status, None), Some(Status::Finished(_)));
        let result: Option<ResultView> =
            row.result.as_deref().filter(|_| finished).and_then(|r| serde_json::from_str(r).ok());
        SeatLive {
            connected: false,
            answered: result.as_ref().map_or(0, |r| r.answered),
            total: questions,
            remaining_ms: 0,
            score: result.as_ref().map(|r| r.total),
            status: row.status.clone(),
            reason: row.finish_reason.clone().filter(|_| finished),
        }
    }
}

impl Seat {
    /// The whole state for a connect; `first_question` on the connect that started the
    /// session: a fresh page opens the first question, after that it asks for the one it
    /// was on.
    pub(super) fn welcome(&self, now: Tick, first_question: bool) -> ServerMsg {
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
    pub(super) fn question(&self, i: usize) -> QuestionView {
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
                    label: item_bank::Label::from_index(shown)?.to_string(),
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

    /// What the seat monitor shows of this seat at `now`.
    pub(super) fn seat_live(&self, now: Tick) -> SeatLive {
        SeatLive {
            connected: self.conn.is_some(),
            answered: self.answered(),
            total: self.entries.len() as u32,
            remaining_ms: self.session.remaining(now),
            score: self.supervisor_score().map(|s| s.total.0),
            status: self.session.status().as_str().to_owned(),
            reason: super::records::finish_reason(self.session.status()),
        }
    }

    /// An event at this seat, reported by `by`: the server, or the candidate's page.
    pub(super) fn event(&self, kind: &str, by: &'static str, detail: String, at: String) -> SeatEvent {
        SeatEvent {
            session: self.id.clone(),
            participant_no: self.participant_no.clone(),
            kind: kind.to_owned(),
            by,
            detail,
            at,
            irregularity: None,
        }
    }
}

impl Note {
    /// The grouped evidence an `irregularity` event carries.
    pub(super) fn irregularity(&self) -> Option<crate::monitor::Irregularity> {
        match self {
            Note::Irregularity(i) => Some(*i),
            _ => None,
        }
    }

    /// The monitor event's kind, reporter and detail.
    pub(super) fn describe(&self) -> (&'static str, &'static str, String) {
        match self {
            Note::Connected => ("connected", "server", String::new()),
            Note::Disconnected => ("disconnected", "server", String::new()),
            Note::TakenOver => ("taken_over", "server", "a new connection took the seat".to_owned()),
            Note::Paused { reason } => ("paused", "server", reason.clone()),
            Note::Resumed { reason } => ("resumed", "server", reason.clone()),
            Note::Extended { reason } => ("extended", "server", reason.clone()),
            Note::Finished { reason } => ("finished", "server", reason.clone()),
            Note::AnswerCycling { position } => (
                "answer_cycling",
                "server",
                format!("question {} answered with several different options within a minute", position + 1),
            ),
            Note::Irregularity(i) => (
                "irregularity",
                "server",
                format!(
                    "{} of {} answers faster than the limit (fastest {} ms), {} questions cycled",
                    i.fast_answers, i.answers, i.fastest_ms, i.cycled_questions
                ),
            ),
            Note::AnswerWhilePaused { position } => {
                ("answer_while_paused", "server", format!("question {}", position + 1))
            }
            Note::Candidate(kind) => (kind.as_str(), "candidate", String::new()),
        }
    }
}
