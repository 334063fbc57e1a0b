//! Answer-change irregularities: wrong-to-right changes far above the room's rate, and
//! answer cycling (one question answered with several options within a minute).

use item_bank::Label;
use session_engine::cycling::AnswerCycling;

use crate::input::{ItemInfo, Sheet};
use crate::stats::poisson_binomial_tail;

/// A candidate whose answers changed from wrong to right improbably often.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRate {
    /// Index into the sheets given.
    pub candidate: usize,
    /// Positions answered (with at least one line).
    pub answered: usize,
    pub wrong_to_right: usize,
    /// What the room's rate expects for this many answered positions.
    pub expected: f64,
    /// P(at least this many) if every answered position changed wrong to right at the
    /// room's rate.
    pub p_value: f64,
}

/// The wrong-to-right changes of one sheet (a line replacing a wrong choice with the right
/// one on the same position) and the positions it answered.
fn changes(items: &[ItemInfo], sheet: &Sheet) -> (usize, usize) {
    let mut last: Vec<Option<Label>> = vec![None; sheet.paper.len()];
    let mut touched = vec![false; sheet.paper.len()];
    let mut wrong_to_right = 0;
    for line in &sheet.lines {
        let Some(&item) = sheet.paper.get(line.position) else { continue };
        touched[line.position] = true;
        let was_wrong = last[line.position].is_some_and(|c| !items[item].is_right(c));
        if was_wrong && line.choice.is_some_and(|c| items[item].is_right(c)) {
            wrong_to_right += 1;
        }
        if line.choice.is_some() {
            last[line.position] = line.choice;
        }
    }
    (touched.iter().filter(|t| **t).count(), wrong_to_right)
}

/// Candidates of the room whose wrong-to-right count is improbable at the room's rate
/// (binomial tail), below `alpha / candidates`. Incrementally: keep per candidate the
/// last choice per position and the two counts, and the room's totals; re-judge a
/// candidate when one of their changes arrives.
pub fn wrong_to_right(items: &[ItemInfo], sheets: &[Sheet], room: &[usize], alpha: f64) -> Vec<ChangeRate> {
    let counts: Vec<(usize, usize)> = room.iter().map(|&s| changes(items, &sheets[s])).collect();
    let answered: usize = counts.iter().map(|c| c.0).sum();
    let total: usize = counts.iter().map(|c| c.1).sum();
    if answered == 0 {
        return Vec::new();
    }
    let rate = total as f64 / answered as f64;
    let threshold = alpha / room.len() as f64;
    let mut ps = Vec::new();
    let mut buf = Vec::new();
    let mut out: Vec<ChangeRate> = room
        .iter()
        .zip(&counts)
        .filter_map(|(&candidate, &(answered, wrong_to_right))| {
            ps.clear();
            ps.resize(answered, rate);
            let p_value = poisson_binomial_tail(&ps, wrong_to_right, &mut buf);
            let expected = rate * answered as f64;
            (p_value < threshold).then_some(ChangeRate { candidate, answered, wrong_to_right, expected, p_value })
        })
        .collect();
    out.sort_by(|x, y| x.p_value.total_cmp(&y.p_value));
    out
}

/// Positions answered with at least `session_engine::cycling::CYCLING_OPTIONS` (3) different
/// options within `CYCLING_WINDOW_MS` (a minute): probing for the key. The live server already runs the
/// same detector ([`AnswerCycling`]) per seat, incrementally; this replays a stored log
/// through it so the report after the sitting agrees with what the monitor showed.
pub fn cycling(sheet: &Sheet) -> Vec<usize> {
    let mut detector = AnswerCycling::new();
    sheet
        .lines
        .iter()
        .filter(|line| detector.observe((line.at_ms - sheet.start_ms).max(0) as u64, line.position, line.choice))
        .map(|line| line.position)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Line;
    use crate::input::test_items as items;

    /// A sheet from `(second, position, choice)` lines over a paper of `n` items.
    fn sheet(n: usize, lines: &[(i64, usize, &str)]) -> Sheet {
        let lines =
            lines.iter().map(|&(s, position, c)| Line { at_ms: s * 1000, position, choice: Label::parse(c) }).collect();
        Sheet { candidate: "P".into(), start_ms: 0, paper: (0..n).collect(), lines }
    }

    #[test]
    fn a_candidate_correcting_far_more_than_the_room_is_reported() {
        let it = items(40);
        // 30 candidates answer 40 items once each, one of them changing one wrong answer.
        let mut sheets: Vec<Sheet> =
            (0..30).map(|_| sheet(40, &(0..40).map(|p| (p as i64 * 30, p, "A")).collect::<Vec<_>>())).collect();
        sheets[5].lines.push(Line { at_ms: 1_300_000, position: 3, choice: Label::parse("B") });
        sheets[5].lines.push(Line { at_ms: 1_310_000, position: 3, choice: Label::parse("A") });
        // One changes 20 wrong answers to right at the end.
        let mut lines: Vec<(i64, usize, &str)> =
            (0..40).map(|p| (p as i64 * 30, p, if p < 20 { "C" } else { "A" })).collect();
        lines.extend((0..20).map(|p| (1_300 + p as i64, p, "A")));
        sheets.push(sheet(40, &lines));
        let room: Vec<usize> = (0..31).collect();
        let found = wrong_to_right(&it, &sheets, &room, 0.001);
        assert_eq!(found.iter().map(|c| (c.candidate, c.wrong_to_right)).collect::<Vec<_>>(), [(30, 20)]);
        assert!(found[0].expected < 2.0);
    }

    #[test]
    fn three_options_on_one_question_within_a_minute_is_cycling() {
        let s = sheet(3, &[(10, 0, "A"), (20, 0, "B"), (30, 0, "C"), (40, 1, "A"), (50, 1, "B"), (200, 1, "C")]);
        assert_eq!(cycling(&s), [0]);
    }
}
