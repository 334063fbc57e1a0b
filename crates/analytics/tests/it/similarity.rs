//! Answer similarity on simulated rooms: copiers are found, honest rooms stay quiet.

use analytics::{Comparison, SimilarityOptions, similarity};

use crate::sim::{Exam, copy_answers, rng};

/// Weaker candidates copying 40% of their answers from stronger neighbours. The pairs are
/// the two most improbable of the room, and at least one crosses the room's threshold: at
/// 40% of 110 items the Bonferroni-corrected test does not catch every copier (the power
/// measured here and in docs/analytics.md), which is the price of its false-alarm rate.
#[test]
fn two_candidates_copying_forty_percent_of_their_answers_are_found() {
    let mut r = rng(23);
    let exam = Exam::new(&mut r, 110, 0);
    let mut sheets: Vec<_> = (0..1_000)
        .map(|c| {
            let paper = exam.full_paper(&mut r);
            // Candidates 1 and 3 will copy from 0 and 2.
            let ability = match c {
                0 | 2 => Some(0.5),
                1 | 3 => Some(-1.0),
                _ => None,
            };
            exam.sit(&mut r, ability, format!("P-{c:04}"), 0, paper)
        })
        .collect();
    for (source, copier) in [(0, 1), (2, 3)] {
        let src = sheets[source].clone();
        copy_answers(&mut r, &src, &mut sheets[copier], 0.4);
    }
    // A room of 50, like the honest rooms below.
    let room: Vec<usize> = (0..50).collect();
    let report = similarity(&exam.items, &sheets, &room, SimilarityOptions::default());
    assert_eq!(report.pairs, 50 * 49 / 2);
    let top: Vec<(usize, usize)> = report.most_similar.iter().take(2).map(|p| (p.a, p.b)).collect();
    assert!(top.contains(&(0, 1)) && top.contains(&(2, 3)), "most similar {:?}", report.most_similar);
    assert!(!report.flagged.is_empty(), "nothing flagged: {:?}", report.most_similar);
    for ev in &report.flagged {
        assert!([(0, 1), (2, 3)].contains(&(ev.a, ev.b)), "an honest pair flagged: {ev:?}");
        assert!(ev.identical as f64 > ev.expected_identical + 10.0, "{ev:?}");
    }
}

#[test]
fn five_thousand_honest_candidates_raise_no_more_flags_than_the_false_alarm_rate() {
    let mut r = rng(20);
    let exam = Exam::new(&mut r, 110, 0);
    let sheets: Vec<_> = (0..5_000)
        .map(|c| {
            let paper = exam.full_paper(&mut r);
            exam.sit(&mut r, None, format!("P-{c:04}"), 0, paper)
        })
        .collect();
    let options = SimilarityOptions::default();
    // 100 rooms of 50: each room's chance of any false flag is at most alpha.
    let rooms: Vec<Vec<usize>> = (0..100).map(|k| (k * 50..(k + 1) * 50).collect()).collect();
    let comparison = Comparison::new(&exam.items, &sheets, options);
    let mut flags = 0;
    for room in &rooms {
        let report = comparison.room(room);
        flags += report.flagged.len();
    }
    let allowed = (options.alpha * rooms.len() as f64).ceil() as usize;
    assert!(flags <= allowed, "{flags} flags, at most {allowed} expected");
}
