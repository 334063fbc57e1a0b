//! The SKD rules on the shipped exam: section points, thresholds, and the board's tie-breaks.

use item_bank::Points;
use scoring::{RankIndex, RankKey};

use crate::{SKD, SkdSheet, skd_score};

const MAX_TKP: [usize; 5] = [45, 0, 0, 0, 0];

/// Scores a sheet (see [`crate::skd_choices`]) and compares `[TWK, TIU, TKP]` points and
/// their pass flags; the total and the overall pass follow from them.
#[track_caller]
fn check(twk: (usize, usize), tiu: (usize, usize), tkp: [usize; 5], points: [i64; 3], passed: [bool; 3]) {
    let score = skd_score(twk, tiu, tkp);
    let got: Vec<(&str, i64, bool)> = score.sections.iter().map(|s| (s.code.as_str(), s.points.0, s.passed)).collect();
    let want: Vec<(&str, i64, bool)> =
        ["TWK", "TIU", "TKP"].into_iter().zip(points).zip(passed).map(|((c, p), ok)| (c, p, ok)).collect();
    assert_eq!(got, want);
    assert_eq!(score.total, Points(points.iter().sum()));
    assert_eq!(score.passed, passed.iter().all(|p| *p), "passes only if every section does");
}

#[test]
fn the_sample_exam_has_the_official_shape() {
    let exam = &SKD.exam;
    let shape: Vec<(&str, u32, i64, i64)> =
        SKD.summary.sections.iter().map(|s| (s.code.as_str(), s.count, s.max_points.0, s.threshold.0)).collect();
    assert_eq!(shape, [("TWK", 30, 150, 65), ("TIU", 35, 175, 80), ("TKP", 45, 225, 166)]);
    assert_eq!(exam.total_items(), 110);
    assert_eq!(exam.duration_minutes(), 100);
    let tie_break: Vec<&str> = exam.tie_break().iter().map(|c| c.as_str()).collect();
    assert_eq!(tie_break, ["TKP", "TIU", "TWK"]);
}

#[test]
fn known_sheets_score_as_the_rules_say() {
    // Wrong and blank both earn 0 on TWK and TIU; TKP answers earn their option's weight.
    check((20, 8), (21, 10), [20, 15, 5, 3, 1], [100, 105, 182], [true, true, true]);
    check((30, 0), (35, 0), MAX_TKP, [150, 175, 225], [true, true, true]);
    check((0, 0), (0, 0), [0; 5], [0, 0, 0], [false, false, false]);
    check((0, 30), (0, 35), [0, 0, 0, 0, 45], [0, 0, 45], [false, false, false]);
    check((13, 0), (16, 0), [30, 0, 0, 1, 14], [65, 80, 166], [true, true, true]);
}

#[test]
fn each_threshold_is_met_exactly_and_missed_by_the_next_lower_score() {
    // TWK and TIU move in steps of 5, so 60 and 75 are the scores just under 65 and 80.
    check((13, 17), (35, 0), MAX_TKP, [65, 175, 225], [true, true, true]);
    check((12, 18), (35, 0), MAX_TKP, [60, 175, 225], [false, true, true]);
    check((30, 0), (16, 19), MAX_TKP, [150, 80, 225], [true, true, true]);
    check((30, 0), (15, 20), MAX_TKP, [150, 75, 225], [true, false, true]);
    // TKP moves in steps of 1: 166 passes and 165 fails, whether or not every item is answered.
    check((30, 0), (35, 0), [30, 0, 0, 1, 14], [150, 175, 166], [true, true, true]);
    check((30, 0), (35, 0), [30, 0, 0, 0, 15], [150, 175, 165], [true, true, false]);
    check((30, 0), (35, 0), [31, 0, 0, 0, 11], [150, 175, 166], [true, true, true]);
    check((30, 0), (35, 0), [31, 0, 0, 0, 10], [150, 175, 165], [true, true, false]);
}

#[test]
fn a_high_total_does_not_make_up_for_a_missed_threshold() {
    check((12, 0), (35, 0), MAX_TKP, [60, 175, 225], [false, true, true]);
    check((13, 0), (16, 0), [30, 0, 0, 1, 14], [65, 80, 166], [true, true, true]);
}

/// `(id, sheet)` pairs ranked on a board; compares `id#rank` in board order.
#[track_caller]
fn check_order(sheets: &[(&str, SkdSheet)], expected: &str) {
    let mut board = RankIndex::new();
    for &(id, (twk, tiu, tkp)) in sheets {
        board.upsert(id, RankKey::of(&SKD.exam, &skd_score(twk, tiu, tkp)));
    }
    let got: Vec<String> = board
        .page(0, sheets.len())
        .into_iter()
        .map(|(id, _)| format!("{id}#{}", board.rank(id).expect("on the board")))
        .collect();
    assert_eq!(got.join(" "), expected);
}

#[test]
fn the_board_ranks_by_total_then_tkp_then_tiu() {
    // 370 beats 365 whatever the sections.
    check_order(&[("a", ((20, 0), (19, 0), [34, 0, 0, 0, 0])), ("b", ((20, 0), (20, 0), [34, 0, 0, 0, 0]))], "b#1 a#2");
    // Equal totals of 370: the higher TKP (175 over 170) wins.
    check_order(&[("a", ((20, 0), (20, 0), [34, 0, 0, 0, 0])), ("b", ((19, 0), (20, 0), [35, 0, 0, 0, 0]))], "b#1 a#2");
    // Equal totals and TKP: the higher TIU (105 over 100) wins.
    check_order(&[("a", ((20, 0), (20, 0), [34, 0, 0, 0, 0])), ("b", ((19, 0), (21, 0), [34, 0, 0, 0, 0]))], "b#1 a#2");
    // All equal, reached by different answers: one shared rank, listed by id.
    check_order(&[("c", ((20, 0), (20, 0), [34, 0, 0, 0, 0])), ("a", ((20, 5), (20, 0), [33, 1, 0, 0, 1]))], "a#1 c#1");
}

#[test]
fn the_twk_step_orders_keys_though_an_skd_total_never_leaves_it_to_decide() {
    // With total = TWK + TIU + TKP, equal totals, TKP and TIU force equal TWK; the key
    // still carries the step because an exam's tie-break list is data.
    let a = skd_score((20, 0), (20, 0), [34, 0, 0, 0, 0]);
    let b = skd_score((20, 9), (20, 2), [33, 1, 0, 0, 1]);
    assert_eq!(RankKey::of(&SKD.exam, &a), RankKey::of(&SKD.exam, &b));
    assert!(RankKey::from_parts(370, &[170, 100, 100]) < RankKey::from_parts(370, &[170, 100, 95]));
}
