//! Timing irregularities in one sitting's answer lines: answers far faster than both the
//! candidate's own pace and the item's usual time while right, long idle gaps followed by
//! bursts of right answers, and two seats answering the same items in step.
//!
//! Each takes lines in time order and looks only backwards a bounded way, so the live
//! server can run it incrementally (noted on each function); after the sitting the same
//! functions run over the stored logs.

use std::collections::HashMap;

use crate::input::{ItemInfo, Sheet};
use crate::stats::quantile;

/// An answer is fast when it took under this share of both the candidate's median time per
/// item and the item's median time.
pub const FAST_SHARE: f64 = 0.25;
/// A gap without any answer line at least this long is idle.
pub const IDLE_MS: i64 = 5 * 60_000;
/// A burst is at least this many right answers after an idle gap …
pub const BURST_ANSWERS: usize = 5;
/// … each within this long of the previous line.
pub const BURST_GAP_MS: i64 = 15_000;
/// Two seats answer in step when they answer the same item within this long of each other …
pub const LOCKSTEP_WINDOW_MS: i64 = 10_000;
/// … this many times in a row, in the same order.
pub const LOCKSTEP_RUN: usize = 5;

/// A right answer given far faster than usual.
#[derive(Debug, Clone, PartialEq)]
pub struct FastAnswer {
    pub position: usize,
    pub item: usize,
    pub spent_ms: i64,
    pub own_median_ms: f64,
    pub item_median_ms: f64,
}

/// Right answers in `sheet` whose time spent was under [`FAST_SHARE`] of both the
/// candidate's median and the item's (`item_median_ms[i]`, from [`crate::Analysis::item_medians`]
/// or from earlier sittings; an item without one is not judged). Incrementally: keep each candidate's times in a sorted list and each
/// item's median from the sittings before; judge an answer when its line arrives.
pub fn fast_answers(items: &[ItemInfo], sheet: &Sheet, item_median_ms: &[Option<f64>]) -> Vec<FastAnswer> {
    let replayed = sheet.replay();
    let mut own: Vec<f64> = replayed.spent_ms.iter().flatten().map(|&ms| ms as f64).collect();
    own.sort_by(f64::total_cmp);
    let own_median_ms = quantile(&own, 0.5);
    let mut out = Vec::new();
    for (position, (&item, (&choice, &spent))) in
        sheet.paper.iter().zip(replayed.choices.iter().zip(&replayed.spent_ms)).enumerate()
    {
        let (Some(choice), Some(spent_ms), Some(item_median_ms)) =
            (choice, spent, item_median_ms.get(item).copied().flatten())
        else {
            continue;
        };
        let fast = (spent_ms as f64) < FAST_SHARE * own_median_ms && (spent_ms as f64) < FAST_SHARE * item_median_ms;
        if fast && items[item].is_right(choice) {
            out.push(FastAnswer { position, item, spent_ms, own_median_ms, item_median_ms });
        }
    }
    out
}

/// An idle gap followed by a burst of right answers.
#[derive(Debug, Clone, PartialEq)]
pub struct IdleBurst {
    /// When the gap began (the previous line, or the start).
    pub idle_from_ms: i64,
    pub idle_ms: i64,
    /// Right answers in the burst, each within [`BURST_GAP_MS`] of the one before.
    pub answers: usize,
}

/// Gaps of at least [`IDLE_MS`] followed by at least [`BURST_ANSWERS`] right answers in
/// quick succession. Incrementally: keep the last gap's start and the current burst's
/// count; a line either extends the burst or closes it.
pub fn idle_bursts(items: &[ItemInfo], sheet: &Sheet) -> Vec<IdleBurst> {
    let mut out = Vec::new();
    let mut prev = sheet.start_ms;
    let mut current: Option<IdleBurst> = None;
    for line in &sheet.lines {
        let gap = line.at_ms - prev;
        let right = line.choice.is_some_and(|c| sheet.paper.get(line.position).is_some_and(|&i| items[i].is_right(c)));
        if gap >= IDLE_MS {
            out.extend(current.take().filter(|b| b.answers >= BURST_ANSWERS));
            current = Some(IdleBurst { idle_from_ms: prev, idle_ms: gap, answers: usize::from(right) });
            if !right {
                out.extend(current.take().filter(|b| b.answers >= BURST_ANSWERS));
            }
        } else if let Some(burst) = current.as_mut() {
            if gap <= BURST_GAP_MS && right {
                burst.answers += 1;
            } else {
                out.extend(current.take().filter(|b| b.answers >= BURST_ANSWERS));
            }
        }
        prev = line.at_ms;
    }
    out.extend(current.filter(|b| b.answers >= BURST_ANSWERS));
    out
}

/// Two seats that answered the same items in the same order within seconds of each other.
#[derive(Debug, Clone, PartialEq)]
pub struct Lockstep {
    /// Indexes into the sheets given.
    pub a: usize,
    pub b: usize,
    /// Answer lines of `a` with a line of `b` on the same item within the window.
    pub together: usize,
    /// The longest run of those on consecutive lines of both seats' logs.
    pub longest_run: usize,
}

/// Pairs of the room whose longest run of answers in step (the same items, one after the
/// other on both seats, each within [`LOCKSTEP_WINDOW_MS`]) is at least [`LOCKSTEP_RUN`].
/// Papers are shuffled per candidate, so honest neighbours rarely meet the same item at the
/// same moment, let alone several in a row. Incrementally: keep each item's lines of the
/// last [`LOCKSTEP_WINDOW_MS`] and each pair's current run; a new line is checked against
/// that item's recent lines only.
pub fn lockstep(items: &[ItemInfo], sheets: &[Sheet], room: &[usize]) -> Vec<Lockstep> {
    // Every answer line of the room by item: (time, seat, the line's place in the seat's log).
    let mut by_item: Vec<Vec<(i64, usize, usize)>> = vec![Vec::new(); items.len()];
    for &s in room {
        for (n, line) in sheets[s].lines.iter().enumerate() {
            if let Some(&i) = sheets[s].paper.get(line.position) {
                by_item[i].push((line.at_ms, s, n));
            }
        }
    }
    // Each pair's meetings: (line of a, line of b).
    let mut meetings: HashMap<(usize, usize), Vec<(usize, usize)>> = HashMap::new();
    for lines in &mut by_item {
        lines.sort_unstable();
        for (x, &(ta, sa, na)) in lines.iter().enumerate() {
            for &(_, sb, nb) in lines[x + 1..].iter().take_while(|(tb, ..)| tb - ta <= LOCKSTEP_WINDOW_MS) {
                if sa != sb {
                    let (key, lines) = if sa < sb { ((sa, sb), (na, nb)) } else { ((sb, sa), (nb, na)) };
                    meetings.entry(key).or_default().push(lines);
                }
            }
        }
    }
    // A run is meetings on consecutive lines of both logs: the same items, in the same order,
    // with nothing else answered in between on either seat.
    let mut out: Vec<Lockstep> = meetings
        .into_iter()
        .filter_map(|((a, b), mut lines)| {
            lines.sort_unstable();
            let mut longest = 1;
            let mut run = 1;
            for w in lines.windows(2) {
                run = if w[1] == (w[0].0 + 1, w[0].1 + 1) { run + 1 } else { 1 };
                longest = longest.max(run);
            }
            (longest >= LOCKSTEP_RUN).then_some(Lockstep { a, b, together: lines.len(), longest_run: longest })
        })
        .collect();
    out.sort_by_key(|l| (std::cmp::Reverse(l.longest_run), l.a, l.b));
    out
}

#[cfg(test)]
mod tests {
    use item_bank::Label;

    use super::*;
    use crate::input::Line;
    use crate::input::test_items as items;

    /// A sheet answering `paper`'s positions in order at the given seconds with the given choices.
    fn sheet(paper: Vec<usize>, answers: &[(i64, &str)]) -> Sheet {
        let lines = answers
            .iter()
            .enumerate()
            .map(|(position, (s, c))| Line { at_ms: s * 1000, position, choice: Label::parse(c) })
            .collect();
        Sheet { candidate: "P".into(), start_ms: 0, paper, lines }
    }

    #[test]
    fn a_right_answer_far_faster_than_both_paces_is_fast() {
        // 60 s an item, then item 3 right in 5 s and item 4 wrong in 5 s.
        let s = sheet(vec![0, 1, 2, 3, 4], &[(60, "A"), (120, "A"), (180, "B"), (185, "A"), (190, "B")]);
        let medians = vec![Some(60_000.0); 5];
        let fast = fast_answers(&items(5), &s, &medians);
        assert_eq!(fast.iter().map(|f| f.position).collect::<Vec<_>>(), [3]);
        // An item everyone answers in seconds is not fast for anyone.
        let quick_item = vec![Some(60_000.0), Some(60_000.0), Some(60_000.0), Some(6_000.0), Some(60_000.0)];
        assert!(fast_answers(&items(5), &s, &quick_item).is_empty());
    }

    #[test]
    fn an_idle_gap_then_a_burst_of_right_answers_is_reported() {
        let mut answers = vec![(30, "B")];
        answers.extend((0..6).map(|k| (30 + 600 + 10 * k, "A")));
        let s = sheet((0..7).collect(), &answers);
        let bursts = idle_bursts(&items(7), &s);
        assert_eq!(bursts, [IdleBurst { idle_from_ms: 30_000, idle_ms: 600_000, answers: 6 }]);
        // The same burst with a wrong answer in the middle is two short runs: nothing.
        let mut broken = answers.clone();
        broken[4].1 = "C";
        assert!(idle_bursts(&items(7), &sheet((0..7).collect(), &broken)).is_empty());
        // A pause without a burst after it is just a pause.
        assert!(idle_bursts(&items(2), &sheet(vec![0, 1], &[(10, "A"), (700, "A")])).is_empty());
    }

    #[test]
    fn two_seats_answering_the_same_items_in_step_are_paired() {
        let it = items(8);
        let order = vec![3, 1, 4, 0, 5, 2, 7, 6];
        let times: Vec<(i64, &str)> = (0..8).map(|k| (40 * (k + 1), "A")).collect();
        let lagged: Vec<(i64, &str)> = times.iter().map(|(s, c)| (s + 3, *c)).collect();
        let mut other = order.clone();
        other.reverse();
        let sheets = vec![sheet(order.clone(), &times), sheet(order, &lagged), sheet(other, &times)];
        let found = lockstep(&it, &sheets, &[0, 1, 2]);
        assert_eq!(found, [Lockstep { a: 0, b: 1, together: 8, longest_run: 8 }]);
    }
}
