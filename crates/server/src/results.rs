//! Result exports for the committee: every session of a sitting or an exam, rescored from
//! its stored paper and answer log (not copied from the stored result, which it is checked
//! against), ranked, with the announcement codes (P/L, P, TL, TH, DIS).
//!
//! Only those who met every threshold get a rank; an export of a sitting that is not closed
//! is refused unless asked for as provisional, and is then marked so on every line.

use std::collections::{BTreeMap, HashMap};

use item_bank::{ItemId, Label, SectionCode};
use scoring::selection::{Candidate, ResultCode, Standing, select};
use scoring::{RankKey, Score};
use serde::Serialize;
use session_engine::PaperEntry;
use store::Store;

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
        .filter(|s| s.exam_code == exam_code && sitting.as_deref().is_none_or(|id| id == s.id) && s.status != "closed")
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
    for (sitting_id, slots) in by_sitting {
        let mut recs: HashMap<String, store::SessionRecord> =
            store.load_every_session_of(sitting_id).await?.into_iter().map(|r| (r.id.clone(), r)).collect();
        for i in slots {
            let id = &rows[i].session_id;
            let rec = recs.remove(id).ok_or_else(|| anyhow::anyhow!("session {id} vanished"))?;
            rescored[i] = Some(rescore(exam, bank, rec)?);
        }
    }
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
    let standing = match (rec.status.as_str(), rec.finish_reason.as_deref()) {
        (_, Some("terminated")) => Standing::Disqualified,
        ("ready", _) => Standing::Absent,
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
        mismatch,
    };
    Ok((standing, line))
}

/// The export as CSV: one header row, one row per candidate. A provisional export starts
/// every row, the header's too, with a `provisional` column, so that no spreadsheet made
/// from it, nor any line copied out of it, can pass for the final result.
pub fn to_csv(export: &Export) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["rank", "participant_no", "name", "sitting", "venue"];
    if export.is_provisional() {
        header.insert(0, "provisional");
    }
    header.extend(export.sections.iter().map(String::as_str));
    header.extend(["total", "passed", "status", "code"]);
    w.write_record(&header)?;
    for l in &export.lines {
        let mut rec = vec![];
        if export.is_provisional() {
            rec.push("PROVISIONAL".to_owned());
        }
        rec.extend([
            l.rank.map(|r| r.to_string()).unwrap_or_default(),
            l.participant_no.clone(),
            l.name.clone(),
            l.sitting.clone(),
            l.venue.clone(),
        ]);
        rec.extend(export.sections.iter().map(|s| l.scores.get(s).copied().unwrap_or(0).to_string()));
        rec.extend([l.total.to_string(), l.passed.to_string(), l.status.clone(), l.code.clone()]);
        w.write_record(&rec)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
