//! The final ranking: refused while a component is held, openings filled in final
//! order, a full tie at the last opening flagged, and the optimisation list.

use scoring::ResultCode;
use selection::{FinalTrack, Outcome, Selection, SkdResult, final_ranking, optimisation, stage_one, stage_two};

use crate::skb::{reconcile, skb_sheets};
use crate::skd::{SELECTION, no, rules, sat, show_skd, skd_sheets, world};

fn vacancies(s: &Selection, skd: &SkdResult, finals: &[FinalTrack]) -> Vec<String> {
    optimisation(s, rules(), skd, finals)
        .iter()
        .map(|v| {
            let c: Vec<String> =
                v.candidates.iter().map(|c| format!("{}<-{}({})", c.participant, c.from, c.score.total)).collect();
            format!("{}/{} x{}: [{}]", v.formation, v.track, v.unfilled, c.join(" "))
        })
        .collect()
}

/// The whole selection, with A2's interview reconciled, up to the final ranking.
fn finals_of(selection_text: &str) -> (Selection, SkdResult, Vec<FinalTrack>) {
    let (s, a) = world(selection_text);
    let skd = stage_one(&s, &a, rules(), &skd_sheets()).expect("stage one");
    let mut sheets = skb_sheets();
    reconcile(&mut sheets);
    // A stricter track sends fewer on; only their SKB records are given.
    sheets.retain(|p, _| skd.line(p).is_some_and(|(_, l)| l.code == ResultCode::PL));
    let skb = stage_two(&s, &skd, &sheets).expect("stage two");
    let finals = final_ranking(&s, &a, rules(), &skd, &skb).expect("final");
    (s, skd, finals)
}

#[test]
fn optimisation_needs_the_same_education_and_the_vacant_tracks_thresholds() {
    // F2 asks for another education: nobody from F1 may fill it.
    let other = SELECTION.replacen(
        "education = \"S-1 Informatika\"\ntracks = [{ track = \"umum\", openings = 2 }]",
        "education = \"S-1 Sistem Informasi\"\ntracks = [{ track = \"umum\", openings = 2 }]",
        1,
    );
    assert_ne!(other, SELECTION);
    let (s, skd, finals) = finals_of(&other);
    assert_eq!(vacancies(&s, &skd, &finals), ["F1/disability x1: [A2<-F1(69.936)]", "F2/general x1: []"]);
    // F1's disability track asks for TWK 95: A2's 90 does not meet it.
    let (s, skd, finals) =
        finals_of(&SELECTION.replace("thresholds = { TIU = 60 }", "thresholds = { TIU = 60, TWK = 95 }"));
    assert_eq!(show_skd(&skd).lines().nth(1), Some("F1/disability: D1:TL D2:TH"));
    assert_eq!(vacancies(&s, &skd, &finals), ["F1/disability x1: []", "F2/general x1: [A2<-F1(69.936)]"]);
}

fn show_final(tracks: &[FinalTrack]) -> String {
    tracks
        .iter()
        .map(|t| {
            let lines: Vec<String> = t
                .lines
                .iter()
                .map(|l| match (l.rank, l.score, l.outcome) {
                    (Some(r), Some(s), o) => format!("{}#{r}={}:{o:?}", l.participant, s.total),
                    (_, _, o) => format!("{}:{o:?}", l.participant),
                })
                .collect();
            format!("{}/{}: {}", t.formation, t.track, lines.join(" "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_final_ranking_waits_for_held_components_then_fills_openings_in_order() {
    let (s, a) = world(SELECTION);
    let skd = stage_one(&s, &a, rules(), &skd_sheets()).expect("stage one");
    let mut sheets = skb_sheets();
    let held = stage_two(&s, &skd, &sheets).expect("stage two");
    let errors = final_ranking(&s, &a, rules(), &skd, &held).expect_err("held");
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        "A2 wawancara: held, assessors' sums 60 and 85 differ by more than 10: a third assessor or a \
         reconciliation settles it; the final ranking waits for it"
    );

    reconcile(&mut sheets);
    let skb = stage_two(&s, &skd, &sheets).expect("stage two");
    let finals = final_ranking(&s, &a, rules(), &skd, &skb).unwrap_or_else(|e| panic!("{e:?}"));
    // A1: 400/550 × 40 = 29.091, 79.750 × 0.6 = 47.850. A2: 380/550 × 40 = 27.636, 70.5 × 0.6 = 42.3.
    // B3: 330/550 × 40 = 24.000, 68.3 × 0.6 = 40.980.
    assert_eq!(
        show_final(&finals),
        "F1/general: A1#1=76.941:Appointed A2#2=69.936:NotAppointed A3:NoScore(TH)\n\
         F1/disability: D1:NoScore(TL)\n\
         F2/general: B3#1=64.980:Appointed B1:NoScore(DIS) B4:NoScore(TH)"
    );
    assert!(finals.iter().all(|t| !t.tie_at_last_opening));
    assert_eq!(finals.iter().map(FinalTrack::unfilled).collect::<Vec<_>>(), [0, 1, 1]);
    let line = &finals[0].lines[0];
    assert_eq!(
        (line.score.expect("score").skd.to_string(), line.skb.expect("skb").to_string()),
        ("29.091".into(), "79.750".into())
    );

    // Openings left in F1's disability track and in F2: A2, not appointed in F1's general
    // track, may fill either (general into a special track; the same track at another unit).
    assert_eq!(vacancies(&s, &skd, &finals), ["F1/disability x1: [A2<-F1(69.936)]", "F2/general x1: [A2<-F1(69.936)]"]);
    assert_eq!(finals[0].lines[1].outcome, Outcome::NotAppointed);
}

#[test]
fn a_full_tie_at_the_last_opening_is_flagged_for_the_committee() {
    let (s, a) = world(SELECTION);
    let mut skd_in = skd_sheets();
    skd_in.insert(no("A1"), sat(90, 110, 180)); // now equal to A2 and A3 on every section
    let skd = stage_one(&s, &a, rules(), &skd_in).expect("stage one");
    let mut sheets = skb_sheets();
    reconcile(&mut sheets);
    let same = sheets[&no("A2")].clone();
    sheets.insert(no("A1"), same);
    let skb = stage_two(&s, &skd, &sheets).expect("stage two");
    let finals = final_ranking(&s, &a, rules(), &skd, &skb).expect("final");
    // Same SKD, SKB, grade average and birth date: both rank 1, one opening, filled by participant number.
    assert!(finals[0].tie_at_last_opening);
    assert!(
        show_final(&finals).starts_with("F1/general: A1#1=69.936:Appointed A2#1=69.936:NotAppointed"),
        "{}",
        show_final(&finals)
    );
}
