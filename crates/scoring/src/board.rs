//! The board's order: total descending, then the exam's tie-break sections descending
//! (SKD: TKP, then TIU, then TWK). Ids break any remaining tie, in [`crate::RankIndex`].

use std::cmp::Reverse;

use item_bank::Exam;

use crate::Score;

/// A sort key where better results are smaller, for [`crate::RankIndex`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RankKey(Vec<Reverse<i64>>);

impl RankKey {
    /// The key of a score under the exam's tie-break order.
    pub fn of(exam: &Exam, score: &Score) -> RankKey {
        let mut parts = Vec::with_capacity(1 + exam.tie_break().len());
        parts.push(Reverse(score.total.0));
        for code in exam.tie_break() {
            let points = score.sections.iter().find(|s| s.code == *code).map_or(0, |s| s.points.0);
            parts.push(Reverse(points));
        }
        RankKey(parts)
    }

    /// The key from raw numbers: total first, then the tie-break sections in order.
    pub fn from_parts(total: i64, tie_break: &[i64]) -> RankKey {
        let mut parts = vec![Reverse(total)];
        parts.extend(tie_break.iter().map(|p| Reverse(*p)));
        RankKey(parts)
    }
}
