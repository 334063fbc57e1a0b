//! The final score: SKD 40 % (normalised to its maximum) plus SKB 60 %, and its tie-breaks.

use item_bank::Points;
use scoring::{BirthDate, Candidate, FinalError, FinalKey, FinalScore, Gpa, Milli, RankKey, Standing, Weights, select};

use crate::{SKD, SkdSheet, skd_score};

fn cpns() -> Weights {
    Weights::new(40, 60).expect("40 + 60 = 100")
}

/// The SKD maximum of the shipped exam, as its summary computes it.
fn skd_max() -> Points {
    SKD.summary.sections.iter().map(|s| s.max_points).sum()
}

/// Compares `"skd + skb = total"`.
#[track_caller]
fn check(weights: (u32, u32), skd: i64, max: i64, skb: i64, expected: &str) {
    let w = Weights::new(weights.0, weights.1).expect("weights");
    let f = FinalScore::compute(w, Points(skd), Points(max), Milli(skb)).expect("in range");
    assert_eq!(format!("{} + {} = {}", f.skd, f.skb, f.total), expected);
}

#[test]
fn the_final_weighs_the_normalised_skd_at_40_and_the_skb_at_60() {
    assert_eq!(skd_max(), Points(550));
    check((40, 60), 395, 500, 70_000, "31.600 + 42.000 = 73.600");
    check((40, 60), 550, 550, 100_000, "40.000 + 60.000 = 100.000");
    check((40, 60), 0, 550, 0, "0.000 + 0.000 = 0.000");
    // 377 / 550 × 40 = 27.41818…; 311 / 550 × 40 = 22.61818…
    check((40, 60), 377, 550, 0, "27.418 + 0.000 = 27.418");
    check((40, 60), 311, 550, 75_500, "22.618 + 45.300 = 67.918");
    // 1 / 550 × 40 = 0.072727… and 0.055 × 0.6 = 0.033.
    check((40, 60), 1, 550, 55, "0.073 + 0.033 = 0.106");
    // Weights are data: another split of the same scores.
    check((30, 70), 395, 500, 70_000, "23.700 + 49.000 = 72.700");
}

#[test]
fn each_part_is_rounded_to_a_thousandth_halves_up_and_the_total_is_their_sum() {
    check((50, 50), 1, 100_000, 1, "0.001 + 0.001 = 0.002"); // 0.0005 and 0.0005
    check((50, 50), 0, 100_000, 3, "0.000 + 0.002 = 0.002"); // 0.0015
    check((50, 50), 1, 100_001, 0, "0.000 + 0.000 = 0.000"); // 0.00049999…
    // 2 / 3 × 40 = 26.6666… → 26.667; 99.999 × 0.6 = 59.9994 → 59.999.
    check((40, 60), 2, 3, 99_999, "26.667 + 59.999 = 86.666");
}

#[test]
fn out_of_range_inputs_are_refused() {
    assert_eq!(Weights::new(40, 50), Err(FinalError::Weights { skd: 40, skb: 50 }));
    assert_eq!(Weights::new(u32::MAX, 101), Err(FinalError::Weights { skd: u32::MAX, skb: 101 }));
    let cases = [
        (0, 0, 0, FinalError::SkdMax(Points(0))),
        (0, -5, 0, FinalError::SkdMax(Points(-5))),
        (551, 550, 0, FinalError::SkdTotal { total: Points(551), max: Points(550) }),
        (-1, 550, 0, FinalError::SkdTotal { total: Points(-1), max: Points(550) }),
        (550, 550, 100_001, FinalError::SkbScore(Milli(100_001))),
        (550, 550, -1, FinalError::SkbScore(Milli(-1))),
    ];
    for (skd, max, skb, err) in cases {
        assert_eq!(FinalScore::compute(cpns(), Points(skd), Points(max), Milli(skb)), Err(err));
    }
    assert_eq!(
        FinalError::Weights { skd: 40, skb: 50 }.to_string(),
        "stage weights must add up to 100 percent, got 40 + 50"
    );
}

/// An applicant to the final ranking: SKD sheet (see [`crate::skd_choices`]), SKB score in
/// thousandths, grade average in hundredths, date of birth.
struct Applicant {
    id: &'static str,
    skd: SkdSheet,
    skb: i64,
    gpa: Option<u32>,
    born: (u16, u8, u8),
}

fn final_of(a: &Applicant) -> (FinalScore, FinalKey) {
    let (twk, tiu, tkp) = a.skd;
    let skd = skd_score(twk, tiu, tkp);
    let score = FinalScore::compute(cpns(), skd.total, skd_max(), Milli(a.skb)).expect("in range");
    let born = BirthDate::new(a.born.0, a.born.1, a.born.2).expect("a date");
    (score, FinalKey::new(&score, RankKey::of(&SKD.exam, &skd), a.gpa.map(Gpa), born))
}

/// Ranks the applicants for one opening and compares `id#rank` in order.
#[track_caller]
fn check_order(applicants: &[Applicant], expected: &str) {
    let candidates =
        applicants.iter().map(|a| Candidate { id: a.id, standing: Standing::Sat { key: final_of(a).1, passed: true } });
    let got: Vec<String> =
        select(candidates, 1, 1).into_iter().map(|s| format!("{}#{}", s.id, s.rank.expect("all passed"))).collect();
    assert_eq!(got.join(" "), expected);
}

const SKD_400: SkdSheet = ((20, 0), (20, 0), [40, 0, 0, 0, 0]);
const YOUNG: (u16, u8, u8) = (2000, 6, 1);

fn applicant(id: &'static str) -> Applicant {
    Applicant { id, skd: SKD_400, skb: 80_000, gpa: Some(350), born: YOUNG }
}

#[test]
fn the_higher_final_ranks_first() {
    check_order(&[applicant("a"), Applicant { skb: 80_002, ..applicant("b") }], "b#1 a#2");
    // A better SKD is outweighed by a better SKB: only the final counts first.
    check_order(
        &[Applicant { skd: ((30, 0), (35, 0), [45, 0, 0, 0, 0]), skb: 60_000, ..applicant("a") }, applicant("b")],
        "b#1 a#2",
    );
}

#[test]
fn equal_finals_go_to_the_higher_skd_total() {
    // 400 / 550 × 40 = 29.091 and 80.122 × 0.6 = 48.073: 77.164.
    // 401 / 550 × 40 = 29.164 and 80.000 × 0.6 = 48.000: 77.164.
    let a = Applicant { skb: 80_122, ..applicant("a") };
    let b = Applicant { skd: ((20, 0), (20, 0), [40, 0, 0, 0, 1]), ..applicant("b") };
    assert_eq!(final_of(&a).0.total, Milli(77_164));
    assert_eq!(final_of(&b).0.total, Milli(77_164));
    check_order(&[a, b], "b#1 a#2");
}

#[test]
fn equal_finals_and_skd_totals_go_to_tkp_then_tiu() {
    // 400 either way: TKP 205 beats TKP 200.
    check_order(
        &[applicant("a"), Applicant { skd: ((19, 0), (20, 0), [41, 0, 0, 0, 0]), ..applicant("b") }],
        "b#1 a#2",
    );
    // 400 and TKP 200 either way: TIU 105 beats TIU 100.
    check_order(
        &[applicant("a"), Applicant { skd: ((19, 0), (21, 0), [40, 0, 0, 0, 0]), ..applicant("b") }],
        "b#1 a#2",
    );
}

#[test]
fn equal_scores_go_to_the_higher_grade_average_and_a_missing_one_comes_last() {
    check_order(
        &[
            applicant("a"),
            Applicant { gpa: Some(351), ..applicant("b") },
            Applicant { gpa: None, ..applicant("c") },
            Applicant { gpa: Some(0), ..applicant("d") },
        ],
        "b#1 a#2 d#3 c#4",
    );
}

#[test]
fn equal_scores_and_grades_go_to_the_older_applicant() {
    check_order(
        &[
            applicant("a"),
            Applicant { born: (1999, 12, 31), ..applicant("b") },
            Applicant { born: (2000, 5, 31), ..applicant("c") },
            Applicant { born: (2000, 6, 2), ..applicant("d") },
        ],
        "b#1 c#2 a#3 d#4",
    );
    // Grade average comes before age.
    check_order(
        &[Applicant { born: (1980, 1, 1), ..applicant("a") }, Applicant { gpa: Some(351), ..applicant("b") }],
        "b#1 a#2",
    );
}

#[test]
fn applicants_equal_on_every_step_share_a_rank_and_are_listed_by_id() {
    check_order(
        &[
            applicant("c"),
            // The same sections from other answers.
            Applicant { skd: ((20, 10), (20, 15), [39, 1, 0, 0, 1]), ..applicant("a") },
            Applicant { skb: 79_999, ..applicant("b") },
        ],
        "a#1 c#1 b#3",
    );
}
