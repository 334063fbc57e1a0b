//! Scoring: the exam's rules applied to an answer sheet, section scores, pass/fail.
//!
//! Pure: no I/O, no clock. Rules, thresholds and tie-breaks come from the exam file
//! (item-bank's [`Exam`]); nothing of any particular exam is a constant here.
//!
//! # Layout
//!
//! - [`Score`], [`SectionScore`]: a sheet's result.
//! - [`score_sheet`]: applies each section's [`ScoringRule`] to the answers.
//! - [`rank`]: [`RankIndex`], the O(log n) ranking index behind the public board.
//! - [`board`]: [`RankKey`], the board's order (total, then the exam's tie-breaks).
//! - [`selection`]: [`select`], a formation's result codes ([`ResultCode`]) with the
//!   multiplier cut, and [`FinalScore`]/[`FinalKey`], the weighted final and its tie-breaks.

pub mod board;
pub mod rank;
pub mod selection;

pub use board::RankKey;
pub use rank::RankIndex;
pub use selection::{
    BirthDate, Candidate, FinalError, FinalKey, FinalScore, Gpa, Milli, ResultCode, Selected, Standing, Weights, select,
};

use item_bank::{Exam, Item, Label, Points, ScoringRule, SectionCode};

/// One section's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionScore {
    pub code: SectionCode,
    pub points: Points,
    pub threshold: Points,
    pub passed: bool,
}

/// A sheet's result: every section in exam order, the total, and whether every section
/// met its threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Score {
    pub sections: Vec<SectionScore>,
    pub total: Points,
    pub passed: bool,
}

/// One answered (or blank) position: the item, its section and the item's own label chosen.
pub struct Answer<'a> {
    pub item: &'a Item,
    pub section: &'a SectionCode,
    pub choice: Option<Label>,
}

/// Scores a sheet. Positions whose section is not in the exam are ignored (they cannot
/// occur for a paper drawn from the exam).
pub fn score_sheet<'a>(exam: &Exam, answers: impl IntoIterator<Item = Answer<'a>>) -> Score {
    let mut points: Vec<Points> = vec![Points(0); exam.sections().len()];
    for a in answers {
        if let Some(i) = exam.sections().iter().position(|s| s.code == *a.section) {
            let rule: &ScoringRule = &exam.sections()[i].scoring;
            points[i] += rule.points(a.item, a.choice);
        }
    }
    let sections: Vec<SectionScore> = exam
        .sections()
        .iter()
        .zip(points)
        .map(|(s, p)| SectionScore {
            code: s.code.clone(),
            points: p,
            threshold: s.threshold,
            passed: p >= s.threshold,
        })
        .collect();
    let total = sections.iter().map(|s| s.points).sum();
    let passed = sections.iter().all(|s| s.passed);
    Score { sections, total, passed }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use item_bank::{Bank, Key};

    use super::*;

    fn skd() -> (Exam, Bank) {
        let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../question-banks/exams/skd.toml");
        let (exam, bank, _) = Exam::load(&p).unwrap_or_else(|e| panic!("{e}"));
        (exam, bank)
    }

    /// The first `n` items of a section, answered by `pick`.
    fn sheet<'a>(
        bank: &'a Bank,
        section: &'a SectionCode,
        n: usize,
        pick: impl Fn(&Item) -> Option<Label>,
    ) -> Vec<Answer<'a>> {
        bank.items()
            .iter()
            .filter(|i| i.section() == section)
            .take(n)
            .map(|item| Answer { item, section, choice: pick(item) })
            .collect()
    }

    fn key(item: &Item) -> Option<Label> {
        match item.key() {
            Key::Single(l) => Some(*l),
            Key::Weighted(points) => points.iter().position(|p| p.0 == 5).and_then(Label::from_index),
        }
    }

    fn wrong(item: &Item) -> Option<Label> {
        match item.key() {
            Key::Single(l) => Label::from_index((l.index() + 1) % item.options().len()),
            Key::Weighted(points) => points.iter().position(|p| p.0 == 1).and_then(Label::from_index),
        }
    }

    #[test]
    fn a_known_skd_sheet_scores_as_the_rules_say() {
        let (exam, bank) = skd();
        let (twk, tiu, tkp) =
            (SectionCode::new_unchecked("TWK"), SectionCode::new_unchecked("TIU"), SectionCode::new_unchecked("TKP"));
        // TWK: 13 right (65) + 17 wrong; TIU: 16 right (80) + 19 blank; TKP: 45 at 5 points (225).
        let mut answers = sheet(&bank, &twk, 13, key);
        answers.extend(bank.items().iter().filter(|i| *i.section() == twk).skip(13).take(17).map(|item| Answer {
            item,
            section: &twk,
            choice: wrong(item),
        }));
        answers.extend(sheet(&bank, &tiu, 16, key));
        answers.extend(sheet(&bank, &tiu, 35, |_| None).into_iter().skip(16));
        answers.extend(sheet(&bank, &tkp, 45, key));
        let score = score_sheet(&exam, answers);
        let got: Vec<(&str, i64, bool)> =
            score.sections.iter().map(|s| (s.code.as_str(), s.points.0, s.passed)).collect();
        assert_eq!(got, [("TWK", 65, true), ("TIU", 80, true), ("TKP", 225, true)]);
        assert_eq!(score.total, Points(370));
        assert!(score.passed, "thresholds met exactly pass");
    }

    #[test]
    fn one_point_under_one_threshold_fails_the_whole_sheet() {
        let (exam, bank) = skd();
        let (twk, tiu, tkp) =
            (SectionCode::new_unchecked("TWK"), SectionCode::new_unchecked("TIU"), SectionCode::new_unchecked("TKP"));
        let mut answers = sheet(&bank, &twk, 30, key); // 150
        answers.extend(sheet(&bank, &tiu, 35, key)); // 175
        // TKP: 40 items at 4 points... use 1-point answers to land at 165, one under 166.
        // 30 × 5 + 15 × 1 = 165.
        answers.extend(sheet(&bank, &tkp, 30, key));
        answers.extend(bank.items().iter().filter(|i| *i.section() == tkp).skip(30).take(15).map(|item| Answer {
            item,
            section: &tkp,
            choice: wrong(item),
        }));
        let score = score_sheet(&exam, answers);
        assert_eq!(score.sections[2].points, Points(165));
        assert!(!score.sections[2].passed);
        assert!(!score.passed);
        assert_eq!(score.total, Points(490));
    }

    #[test]
    fn a_blank_sheet_scores_zero() {
        let (exam, _) = skd();
        let score = score_sheet(&exam, std::iter::empty());
        assert_eq!(score.total, Points(0));
        assert!(!score.passed);
    }
}
