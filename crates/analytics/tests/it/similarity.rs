//! Answer similarity on simulated rooms: copiers are found, honest rooms stay quiet.

use analytics::{Comparison, SimilarityOptions, similarity};

use crate::sim::{Exam, copy_answers, rng};

const ROOM: usize = 50;

/// Two candidates of average ability, one copying 40% of the other's answers, in each of ten
/// rooms of 50: every pair is flagged in its room and no honest pair is. (The power of the
/// test in other set-ups is in docs/analytics.md, from `examples/power.rs`.)
#[test]
fn two_candidates_copying_forty_percent_of_their_answers_are_found() {
    let mut r = rng(23);
    let exam = Exam::new(&mut r, 110, 0);
    let mut sheets: Vec<_> = (0..1_000)
        .map(|c| {
            let paper = exam.full_paper(&mut r);
            // The first two of every room of the first ten are the source and the copier.
            let ability = (c < 10 * ROOM && c % ROOM < 2).then_some(0.0);
            exam.sit(&mut r, ability, format!("P-{c:04}"), 0, paper)
        })
        .collect();
    for k in 0..10 {
        let source = sheets[k * ROOM].clone();
        copy_answers(&mut r, &source, &mut sheets[k * ROOM + 1], 0.4);
    }
    let comparison = Comparison::new(&exam.items, &sheets, SimilarityOptions::default());
    for k in 0..10 {
        let copiers = (k * ROOM, k * ROOM + 1);
        let report = comparison.room(&(k * ROOM..(k + 1) * ROOM).collect::<Vec<_>>());
        assert_eq!(report.pairs, ROOM * (ROOM - 1) / 2);
        let flagged: Vec<(usize, usize)> = report.flagged.iter().map(|p| (p.a, p.b)).collect();
        assert_eq!(flagged, [copiers], "room {k}: most similar {:?}", report.most_similar);
        let ev = &report.flagged[0];
        assert!(ev.identical as f64 > ev.expected_identical + 10.0, "{ev:?}");
        assert!(ev.identical_wrong as f64 > ev.expected_identical_wrong, "{ev:?}");
    }
}

/// A weaker candidate copying 40% from a stronger one is the room's most similar pair even
/// when the room's threshold is not crossed.
#[test]
fn a_weaker_copier_is_the_most_similar_pair_of_the_room() {
    let mut r = rng(5);
    let exam = Exam::new(&mut r, 110, 0);
    let mut sheets: Vec<_> = (0..1_000)
        .map(|c| {
            let paper = exam.full_paper(&mut r);
            let ability = [Some(0.5), Some(-1.0)].get(c).copied().flatten();
            exam.sit(&mut r, ability, format!("P-{c:04}"), 0, paper)
        })
        .collect();
    let source = sheets[0].clone();
    copy_answers(&mut r, &source, &mut sheets[1], 0.4);
    let report = similarity(&exam.items, &sheets, &(0..ROOM).collect::<Vec<_>>(), SimilarityOptions::default());
    let top = &report.most_similar[0];
    assert_eq!((top.a, top.b), (0, 1), "{:?}", report.most_similar);
    assert!(report.most_similar.windows(2).all(|w| w[0].p_value <= w[1].p_value));
    // A room of 50 keeps every pair for its matrix, the listed ones with their exact p-value.
    assert_eq!(report.matrix.len(), report.pairs);
    let cell = report.matrix.iter().find(|c| (c.a, c.b) == (0, 1)).expect("the pair's cell");
    assert_eq!((cell.identical, cell.p_value), (top.identical, top.p_value));
    let least = report.matrix.iter().map(|c| c.p_value).fold(1.0, f64::min);
    assert_eq!(least, top.p_value, "no pair of the matrix is less probable than the top pair");
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
