//! A formation's SKD announcement: result codes and the 3 × openings cut, on the shipped exam.

use item_bank::{Points, SectionCode};
use scoring::{Candidate, RankKey, Score, SectionScore, Standing, select};

use crate::{SKD, skd_score};

/// A formation's applicants: who sat with which score, who was absent, who was disqualified.
struct Formation<'a> {
    sat: Vec<(&'a str, Score)>,
    absent: Vec<&'a str>,
    disqualified: Vec<&'a str>,
}

fn candidates(f: Formation<'_>) -> Vec<Candidate<&str>> {
    let sat = f.sat.into_iter().map(|(id, score)| Candidate {
        id,
        standing: Standing::Sat { key: RankKey::of(&SKD.exam, &score), passed: score.passed },
    });
    let absent = f.absent.into_iter().map(|id| Candidate { id, standing: Standing::Absent });
    let dis = f.disqualified.into_iter().map(|id| Candidate { id, standing: Standing::Disqualified });
    sat.chain(absent).chain(dis).collect()
}

/// Selects with the SKD multiplier 3 and compares `id:code#rank` in announcement order.
#[track_caller]
fn check(f: Formation<'_>, openings: u32, expected: &str) {
    let got: Vec<String> = select(candidates(f), openings, 3)
        .into_iter()
        .map(|s| match s.rank {
            Some(r) => format!("{}:{}#{r}", s.id, s.code),
            None => format!("{}:{}", s.id, s.code),
        })
        .collect();
    assert_eq!(got.join(" "), expected);
}

/// A published `[TWK, TIU, TKP]` result that met the thresholds in force when it was
/// published, ranked by the shipped exam's tie-break order.
fn published(points: [i64; 3]) -> Score {
    let sections: Vec<SectionScore> = SKD
        .exam
        .sections()
        .iter()
        .zip(points)
        .map(|(s, p)| SectionScore { code: s.code.clone(), points: Points(p), threshold: Points(0), passed: true })
        .collect();
    let codes: Vec<SectionCode> = sections.iter().map(|s| s.code.clone()).collect();
    assert_eq!(codes, ["TWK", "TIU", "TKP"].map(SectionCode::new_unchecked));
    Score { total: Points(points.iter().sum()), passed: true, sections }
}

#[test]
fn three_times_the_openings_go_on_and_a_tie_at_the_cut_goes_on_together() {
    let formation = || Formation {
        sat: vec![
            ("P-01", skd_score((20, 0), (20, 0), [40, 0, 0, 0, 0])),  // 400
            ("P-02", skd_score((20, 0), (20, 0), [38, 0, 0, 0, 0])),  // 390
            ("P-04", skd_score((20, 0), (20, 0), [36, 0, 0, 0, 0])),  // 380: tied at the cut
            ("P-03", skd_score((20, 0), (20, 0), [35, 1, 0, 0, 1])),  // 380, same sections
            ("P-05", skd_score((20, 0), (22, 0), [34, 0, 0, 0, 0])),  // 380 with a lower TKP
            ("P-06", skd_score((12, 0), (35, 0), [45, 0, 0, 0, 0])),  // 460 but TWK 60
            ("P-07", skd_score((13, 0), (16, 0), [30, 0, 0, 1, 14])), // 311, every threshold met exactly
        ],
        absent: vec!["P-09"],
        disqualified: vec!["P-08"],
    };
    check(formation(), 1, "P-01:P/L#1 P-02:P/L#2 P-03:P/L#3 P-04:P/L#3 P-05:P#5 P-07:P#6 P-06:TL P-09:TH P-08:DIS");
    check(formation(), 2, "P-01:P/L#1 P-02:P/L#2 P-03:P/L#3 P-04:P/L#3 P-05:P/L#5 P-07:P/L#6 P-06:TL P-09:TH P-08:DIS");
}

#[test]
fn bkn_published_example_selects_the_same_candidates() {
    // BKN's public simulation of the 2019 rule (the exam then had 100 items and a TKP
    // threshold of its own): seven applicants who all met the thresholds, ranked by total,
    // then TKP, TIU and TWK; two with equal totals (356) are split by TIU, not TKP.
    let sat = || {
        vec![
            ("1-alehandro", published([135, 110, 150])),
            ("2-belinda", published([115, 125, 148])),
            ("3-doglas", published([117, 105, 145])),
            ("4-carlos", published([105, 115, 147])),
            ("5-esmeralda", published([109, 112, 146])),
            ("6-fabio", published([100, 110, 146])),
            ("7-sergio", published([95, 115, 146])),
        ]
    };
    check(
        Formation { sat: sat(), absent: vec![], disqualified: vec![] },
        1,
        "1-alehandro:P/L#1 2-belinda:P/L#2 4-carlos:P/L#3 5-esmeralda:P#4 3-doglas:P#5 7-sergio:P#6 6-fabio:P#7",
    );
    check(
        Formation { sat: sat(), absent: vec![], disqualified: vec![] },
        2,
        "1-alehandro:P/L#1 2-belinda:P/L#2 4-carlos:P/L#3 5-esmeralda:P/L#4 3-doglas:P/L#5 7-sergio:P/L#6 6-fabio:P#7",
    );
}
