//! Result exports for the committee: every session of a sitting or an exam, rescored from
//! its stored paper and answer log (not copied from the stored result, which it is checked
//! against), ranked, with the announcement codes (P/L, P, TL, TH, DIS), and how many
//! questions each candidate tried option by option (`answer_cycling`, from the stored log).
//!
//! Only those who met every threshold get a rank; an export of a sitting that is not closed
//! is refused unless asked for as provisional, and is then marked so on every line.

use std::collections::{BTreeMap, HashMap};

use item_bank::{ItemId, Label, SectionCode};
use scoring::selection::{Candidate, ResultCode, Standing, select};
use scoring::{RankKey, Score};
use serde::Serialize;
use session_engine::{AnswerCycling, FinishReason, PaperEntry, Status};
use store::Store;

use crate::sittings::SittingStatus;

/// One line of the export.
#[derive(Debug, Clone, Serialize)]
pub struct ResultLine {
    pub rank: Option<usize>,
    pub participant_no: String,
    pub name: String,
    pub sitting: String,
    pub venue: String,
    pub scores: BTreeMap<String, i64>,
    pub total: i64,
    pub passed: bool,
    pub status: String,
    pub code: String,
    /// Questions answered with three or more different options within a minute, by the
    /// stored answer log: what probing a board for the key looks like.
    pub answer_cycling: usize,
    /// The candidate's irregularity flags as short codes (`SIM:P-0012;FAST:3;CYCLE:1`), from
    /// the integrity checks of `ujian analyze integrity`: evidence for the committee to
    /// weigh before a DIS, never a verdict. Empty when nothing was flagged.
    pub irregularities: String,
    /// The stored result disagrees with the rescore (should never happen; reported loudly).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mismatch: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Export {
    pub exam: String,
    pub sections: Vec<String>,
    pub openings: Option<u32>,
    /// Sittings in scope that were not closed when exported: their candidates may still be
    /// working or never have started, so no line is final. Empty for a final export.
    pub provisional: Vec<String>,
    pub lines: Vec<ResultLine>,
}

impl Export {
    pub fn is_provisional(&self) -> bool {
        !self.provisional.is_empty()
    }
}

/// Which sessions to export.
pub enum Scope<'a> {
    Sitting(&'a str),
    Exam(&'a str),
}

/// What to export besides the scope.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Openings for the position; `None` means no cut (everyone who passed is P).
    pub openings: Option<u32>,
    /// How many times the openings go through to the next stage (SKD: 3).
    pub multiplier: u32,
    /// Export sittings that are not closed yet, marked provisional, instead of refusing.
    pub provisional: bool,
}

/// Rescores and ranks every session in scope. With `openings`, the first
/// `multiplier × openings` who passed (and everyone tied with the last of them) are P/L.
/// Refused while a sitting in scope is not closed, unless `options.provisional`.
pub async fn export(store: &Store, scope: Scope<'_>, options: Options) -> anyhow::Result<Export> {
    export_shown(store, scope, options, &indicatif::ProgressBar::hidden()).await
}

/// [`export`], moving `bar` through the sessions as they are rescored.
pub async fn export_shown(
    store: &Store,
    scope: Scope<'_>,
    options: Options,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<Export> {
    let Options { openings, multiplier, provisional } = options;
    let (exam_code, sitting) = match scope {
        Scope::Exam(code) => (code.to_owned(), None),
        Scope::Sitting(id) => {
            let s = store.get_sitting(id).await?.ok_or_else(|| anyhow::anyhow!("sitting {id} does not exist"))?;
            (s.exam_code, Some(id.to_owned()))
        }
    };
    let not_closed: Vec<String> = store
        .sittings(None)
        .await?
        .into_iter()
        .filter(|s| {
            s.exam_code == exam_code
                && sitting.as_deref().is_none_or(|id| id == s.id)
                && s.status.parse() != Ok(SittingStatus::Closed)
        })
        .map(|s| format!("{} ({})", s.id, s.status))
        .collect();
    if !not_closed.is_empty() && !provisional {
        anyhow::bail!(
            "not final: sitting {} is not closed, so candidates may still be working or never have started; \
             close it first, or pass --provisional for an export marked provisional on every line",
            not_closed.join(", ")
        );
    }
    let stored = store.get_exam(&exam_code).await?.ok_or_else(|| anyhow::anyhow!("exam {exam_code} is not stored"))?;
    let (exam, bank) = (&stored.exam, &stored.bank);
    let rows: Vec<_> = store
        .board_rows(Some(&exam_code))
        .await?
        .into_iter()
        .filter(|r| sitting.as_deref().is_none_or(|s| s == r.sitting_id))
        .collect();
    // Each sitting's sessions are loaded once, in three queries, and only one sitting is
    // in memory at a time. Rows come in session id order, which need not keep a sitting's
    // rows together (a collation may sort "LG-1.05" after "LG-10.3"), so each row's
    // result goes to its slot and the ranking below sees them in the rows' order.
    let mut by_sitting: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        by_sitting.entry(row.sitting_id.as_str()).or_default().push(i);
    }
    let mut rescored: Vec<Option<(Standing, ResultLine)>> = (0..rows.len()).map(|_| None).collect();
    bar.set_length(rows.len() as u64);
    bar.set_message("rescoring");
    for (sitting_id, slots) in by_sitting {
        let mut recs: HashMap<String, store::SessionRecord> =
            store.load_every_session_of(sitting_id).await?.into_iter().map(|r| (r.id.clone(), r)).collect();
        let answer_lines = store.answer_lines_of(sitting_id).await?;
        let cycling = answer_cycling(&answer_lines)?;
        for i in slots {
            let id = &rows[i].session_id;
            let rec = recs.remove(id).ok_or_else(|| anyhow::anyhow!("session {id} vanished"))?;
            let (candidate, mut line) = rescore(exam, bank, rec)?;
            line.answer_cycling = cycling.get(id.as_str()).copied().unwrap_or(0);
            rescored[i] = Some((candidate, line));
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    // The candidate's id in the ranking is its line's position; the tie-break after the
    // key is participant, then sitting: the same order on every backend, whatever its
    // collation did to the rows' order.
    let mut lines: Vec<ResultLine> = Vec::with_capacity(rows.len());
    let mut standings = Vec::with_capacity(rows.len());
    for (standing, line) in rescored.into_iter().flatten() {
        let order = (line.participant_no.clone(), line.sitting.clone(), lines.len());
        standings.push(Candidate { id: order, standing });
        lines.push(line);
    }
    // Without a number of openings there is no cut: everyone who passed is P.
    let cut = openings.unwrap_or(u32::MAX / multiplier.max(1));
    // `select` lists those who passed by rank (the only ones ranked), then TL by their
    // key (total, then the exam's tie-breaks), then TH, then DIS: the announcement's order.
    let mut slots: Vec<Option<ResultLine>> = lines.into_iter().map(Some).collect();
    let mut ordered = Vec::with_capacity(slots.len());
    for s in select(standings, cut, multiplier.max(1)) {
        let Some(mut line) = slots[s.id.2].take() else { continue };
        line.code = if openings.is_none() && s.code == ResultCode::PL {
            ResultCode::P.as_str().to_owned()
        } else {
            s.code.as_str().to_owned()
        };
        line.rank = s.rank;
        ordered.push(line);
    }
    Ok(Export {
        exam: exam_code,
        sections: exam.sections().iter().map(|s| s.code.to_string()).collect(),
        openings,
        provisional: not_closed,
        lines: ordered,
    })
}

/// Per session, how many questions its stored answers cycled through options
/// ([`AnswerCycling`], with the lines' server timestamps as the clock).
fn answer_cycling(lines: &[store::AnswerLine]) -> anyhow::Result<HashMap<&str, usize>> {
    let mut out: HashMap<&str, AnswerCycling> = HashMap::new();
    for line in lines {
        let at = chrono::DateTime::parse_from_rfc3339(&line.server_ts)
            .map_err(|e| anyhow::anyhow!("session {}: bad server_ts {:?}: {e}", line.session_id, line.server_ts))?;
        let at = u64::try_from(at.timestamp_millis()).unwrap_or(0);
        let choice = line.choice.as_deref().and_then(Label::parse);
        let position = usize::try_from(line.position).unwrap_or(usize::MAX);
        out.entry(&line.session_id).or_default().observe(at, position, choice);
    }
    Ok(out.into_iter().map(|(id, c)| (id, c.questions())).filter(|(_, n)| *n > 0).collect())
}

/// One session rescored from its paper and log: its standing for the ranking and its line
/// of the export (rank and code still to be filled).
fn rescore(
    exam: &item_bank::Exam,
    bank: &item_bank::Bank,
    rec: store::SessionRecord,
) -> anyhow::Result<(Standing, ResultLine)> {
    let mut answers = Vec::new();
    for (position, paper) in rec.paper.iter().enumerate() {
        let item = bank
            .item(&ItemId::new_unchecked(paper.item_id.clone()))
            .ok_or_else(|| anyhow::anyhow!("session {}: item {} is not in the bank", rec.id, paper.item_id))?;
        let order = PaperEntry::parse_order(&paper.option_order)
            .ok_or_else(|| anyhow::anyhow!("session {}: bad option order", rec.id))?;
        let shown = rec.answers.get(&(position as i64)).cloned().flatten();
        let own = shown.as_deref().and_then(Label::parse).and_then(|l| order.get(l.index()).copied());
        answers.push((item, SectionCode::new_unchecked(paper.section.clone()), own));
    }
    let score: Score = scoring::score_sheet(
        exam,
        answers.iter().map(|(item, section, choice)| scoring::Answer { item, section, choice: *choice }),
    );
    let stored_total = rec
        .result
        .as_deref()
        .and_then(|r| serde_json::from_str::<serde_json::Value>(r).ok())
        .and_then(|v| v["total"].as_i64());
    let mismatch =
        stored_total.filter(|t| *t != score.total.0).map(|t| format!("stored total {t}, rescored {}", score.total.0));
    let standing = match Status::from_stored(&rec.status, rec.finish_reason.as_deref()) {
        Some(Status::Finished(FinishReason::Terminated)) => Standing::Disqualified,
        Some(Status::Ready) => Standing::Absent,
        _ => Standing::Sat { key: RankKey::of(exam, &score), passed: score.passed },
    };
    let line = ResultLine {
        rank: None,
        participant_no: rec.participant_no,
        name: rec.name,
        sitting: rec.sitting_id,
        venue: rec.venue,
        scores: score.sections.iter().map(|s| (s.code.to_string(), s.points.0)).collect(),
        total: score.total.0,
        passed: score.passed,
        status: rec.finish_reason.unwrap_or(rec.status),
        code: String::new(),
        answer_cycling: 0,
        irregularities: String::new(),
        mismatch,
    };
    Ok((standing, line))
}

/// A text cell as a spreadsheet will read it: one starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return would run as a formula (a candidate named `=HYPERLINK(…)`), so it
/// gets a leading `'`, which spreadsheets show as text (OWASP's CSV injection advice).
/// Number cells (rank, scores, total) are written by ujian as numbers and stay numbers,
/// negative ones included: they never pass through here.
pub fn text_cell(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.to_owned() }
}

/// The export as CSV: one header row, one row per candidate. A provisional export starts
/// every row, the header's too, with a `provisional` column, so that no spreadsheet made
/// from it, nor any line copied out of it, can pass for the final result. Text cells go
/// through [`text_cell`].
pub fn to_csv(export: &Export) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["rank", "participant_no", "name", "sitting", "venue"];
    if export.is_provisional() {
        header.insert(0, "provisional");
    }
    header.extend(export.sections.iter().map(String::as_str));
    header.extend(["total", "passed", "status", "code", "answer_cycling", "irregularities"]);
    w.write_record(&header)?;
    for l in &export.lines {
        let mut rec = vec![];
        if export.is_provisional() {
            rec.push("PROVISIONAL".to_owned());
        }
        rec.extend([
            l.rank.map(|r| r.to_string()).unwrap_or_default(),
            text_cell(&l.participant_no),
            text_cell(&l.name),
            text_cell(&l.sitting),
            text_cell(&l.venue),
        ]);
        rec.extend(export.sections.iter().map(|s| l.scores.get(s).copied().unwrap_or(0).to_string()));
        rec.extend([
            l.total.to_string(),
            l.passed.to_string(),
            text_cell(&l.status),
            text_cell(&l.code),
            l.answer_cycling.to_string(),
            text_cell(&l.irregularities),
        ]);
        w.write_record(&rec)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

#[cfg(test)]
mod tests {
    use super::text_cell;

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_made_text_and_others_are_kept() {
        for formula in ["=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "=HYPERLINK(\"http://x\",\"y\")"] {
            assert_eq!(text_cell(formula), format!("'{formula}"));
        }
        for plain in ["Ani", "P-0001", "T-1", "P/L", "", "Budi = 1", "time_up"] {
            assert_eq!(text_cell(plain), plain);
        }
    }
}
