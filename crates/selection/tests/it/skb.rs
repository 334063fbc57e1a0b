//! Stage 2: components normalised and weighed, a disagreement held until a third
//! assessor or a reconciliation settles it, gates and absences, and every refusal.

use std::collections::BTreeMap;

use item_bank::Points;
use selection::skb::{AssessorScore, ComponentInput, Reconciliation, SkbSheet};
use selection::{ComponentId, ParticipantNo, SkbOutcome, stage_one, stage_two};

use crate::skd::{SELECTION, no, rules, skd_sheets, world};

pub(crate) fn assessor(name: &str, a: i64, b: i64) -> AssessorScore {
    AssessorScore { assessor: name.to_owned(), criteria: vec![a, b] }
}

pub(crate) fn id(s: &str) -> ComponentId {
    ComponentId::parse(s).expect("component id")
}

pub(crate) fn sheet(parts: Vec<(&str, ComponentInput)>) -> SkbSheet {
    SkbSheet { components: parts.into_iter().map(|(c, i)| (id(c), i)).collect(), disqualified: false }
}

pub(crate) fn interview(scores: Vec<AssessorScore>) -> ComponentInput {
    ComponentInput::Assessed { scores, reconciliation: None }
}

pub(crate) fn skb_sheets() -> BTreeMap<ParticipantNo, SkbSheet> {
    let pass = || ComponentInput::PassFail(true);
    [
        (
            "A1",
            sheet(vec![
                ("cat", ComponentInput::Cat(Points(400))),
                ("wawancara", interview(vec![assessor("asesor-1", 40, 40), assessor("asesor-2", 39, 40)])),
                ("jasmani", pass()),
            ]),
        ),
        (
            "A2",
            sheet(vec![
                ("cat", ComponentInput::Cat(Points(355))),
                ("wawancara", interview(vec![assessor("asesor-1", 30, 30), assessor("asesor-2", 45, 40)])),
                ("jasmani", pass()),
            ]),
        ),
        ("A3", sheet(vec![("cat", ComponentInput::Cat(Points(300))), ("jasmani", pass())])),
        (
            "D1",
            sheet(vec![
                ("cat", ComponentInput::Cat(Points(450))),
                ("wawancara", interview(vec![assessor("asesor-1", 45, 45), assessor("asesor-2", 45, 45)])),
                ("jasmani", ComponentInput::PassFail(false)),
            ]),
        ),
        ("B1", SkbSheet { disqualified: true, ..SkbSheet::default() }),
        (
            "B3",
            sheet(vec![
                ("cat", ComponentInput::Cat(Points(333))),
                (
                    "wawancara",
                    interview(vec![
                        assessor("asesor-1", 30, 30),
                        assessor("asesor-2", 45, 40),
                        assessor("asesor-3", 35, 35),
                    ]),
                ),
                ("jasmani", pass()),
            ]),
        ),
    ]
    .into_iter()
    .map(|(p, s)| (no(p), s))
    .collect()
}

pub(crate) fn reconcile(sheets: &mut BTreeMap<ParticipantNo, SkbSheet>) {
    let a2 = sheets.get_mut(&no("A2")).expect("A2");
    let Some(ComponentInput::Assessed { reconciliation, .. }) = a2.components.get_mut(&id("wawancara")) else {
        unreachable!()
    };
    *reconciliation = Some(Reconciliation {
        criteria: vec![35, 35],
        by: "Ketua Panitia".to_owned(),
        reason: "rapat kalibrasi asesor 12 Desember: rekaman wawancara diputar ulang".to_owned(),
    });
}

fn show_skb(outcome: &SkbOutcome) -> String {
    match outcome {
        SkbOutcome::Scored { parts, skb } => {
            let parts: Vec<String> = parts.iter().map(|(c, m)| format!("{c}={m}")).collect();
            format!("{skb} ({})", parts.join(" "))
        }
        other => format!("{other:?}"),
    }
}

#[test]
fn the_skb_weighs_normalised_components_and_holds_a_disagreement() {
    let (s, a) = world(SELECTION);
    let skd = stage_one(&s, &a, rules(), &skd_sheets()).expect("stage one");
    let mut sheets = skb_sheets();
    let skb = stage_two(&s, &skd, &sheets).unwrap_or_else(|e| panic!("{e:?}"));
    let got = |p: &str| show_skb(skb.outcome(&no(p)).expect("outcome"));
    // cat 400/500 = 80; interview sums 80 and 79 agree (within 10): mean 79.5 of 100.
    assert_eq!(got("A1"), "79.750 (cat=80.000 wawancara=79.500)");
    assert_eq!(
        got("A2"),
        "Held([(ComponentId(\"wawancara\"), Disagreement { first: 60, second: 85, tolerance: 10 })])"
    );
    assert_eq!(got("A3"), "Absent(Some(ComponentId(\"wawancara\")))");
    assert_eq!(got("D1"), "Failed(ComponentId(\"jasmani\"))", "a failed gate outweighs any score");
    assert_eq!(got("B1"), "Disqualified");
    // A third assessor: the median of 60, 85 and 70.
    assert_eq!(got("B3"), "68.300 (cat=66.600 wawancara=70.000)");
    assert_eq!(got("B4"), "Absent(None)", "no SKB record at all is absence");
    assert!(skb.outcome(&no("A4")).is_none(), "only P/L applicants have an SKB outcome");
    assert_eq!(skb.held().len(), 1);

    reconcile(&mut sheets);
    let skb = stage_two(&s, &skd, &sheets).expect("stage two");
    assert_eq!(show_skb(skb.outcome(&no("A2")).expect("A2")), "70.500 (cat=71.000 wawancara=70.000)");
    assert!(skb.held().is_empty());
}

#[track_caller]
fn check_skb(edit: impl FnOnce(&mut BTreeMap<ParticipantNo, SkbSheet>), expected: &[&str]) {
    let (s, a) = world(SELECTION);
    let skd = stage_one(&s, &a, rules(), &skd_sheets()).expect("stage one");
    let mut sheets = skb_sheets();
    edit(&mut sheets);
    let got: Vec<String> = match stage_two(&s, &skd, &sheets) {
        Ok(_) => vec!["ok".to_owned()],
        Err(e) => e.iter().map(|e| e.to_string()).collect(),
    };
    assert_eq!(got, expected);
}

pub(crate) fn set(sheets: &mut BTreeMap<ParticipantNo, SkbSheet>, p: &str, c: &str, input: ComponentInput) {
    sheets.entry(no(p)).or_default().components.insert(id(c), input);
}

#[test]
fn skb_records_that_do_not_fit_are_all_refused() {
    check_skb(|_| {}, &["ok"]);
    check_skb(
        |s| {
            s.insert(no("A4"), SkbSheet::default());
        },
        &["A4: did not go on from the SKD (only P/L applicants sit the SKB)"],
    );
    check_skb(
        |s| {
            s.get_mut(&no("A1"))
                .expect("A1")
                .components
                .insert(ComponentId::parse("lari").expect("id"), ComponentInput::PassFail(true));
        },
        &["A1: the selection has no SKB component lari"],
    );
    check_skb(
        |s| {
            set(s, "A1", "cat", ComponentInput::PassFail(true));
            set(s, "A3", "jasmani", ComponentInput::Cat(Points(10)));
            set(s, "B3", "wawancara", ComponentInput::Cat(Points(10)));
        },
        &[
            "A1 cat: a cat component cannot take this record",
            "A3 jasmani: a pass/fail component cannot take this record",
            "B3 wawancara: a assessed component cannot take this record",
        ],
    );
    check_skb(
        |s| {
            set(s, "A1", "cat", ComponentInput::Cat(Points(501)));
            set(s, "A3", "cat", ComponentInput::Cat(Points(-1)));
        },
        &["A1 cat: CAT total 501 is outside 0..=500", "A3 cat: CAT total -1 is outside 0..=500"],
    );
}

#[test]
fn assessor_scores_outside_the_rubric_or_out_of_turn_are_refused() {
    check_skb(
        |s| {
            set(
                s,
                "A1",
                "wawancara",
                interview(vec![
                    assessor("asesor-1", 51, -1),
                    AssessorScore { assessor: "asesor-2".to_owned(), criteria: vec![40, 40, 40] },
                ]),
            );
        },
        &[
            "A1 wawancara asesor-1: a score 51 is outside the rubric's 0..=50",
            "A1 wawancara asesor-1: b score -1 is outside the rubric's 0..=50",
            "A1 wawancara asesor-2: 3 criterion scores for a rubric of 2",
        ],
    );
    check_skb(
        |s| set(s, "A1", "wawancara", interview(vec![assessor("asesor-1", 40, 40), assessor("asesor-1", 40, 40)])),
        &["A1 wawancara: assessor asesor-1 scored twice"],
    );
    check_skb(
        |s| {
            set(s, "A1", "wawancara", interview(vec![]));
            let agree = vec![assessor("asesor-1", 40, 40), assessor("asesor-2", 40, 40), assessor("asesor-3", 40, 40)];
            set(s, "A3", "wawancara", interview(agree));
        },
        &[
            "A1 wawancara: 0 assessor scores (one or two, a third only when the first two disagree)",
            "A3 wawancara: 3 assessor scores (one or two, a third only when the first two disagree)",
        ],
    );
    check_skb(
        |s| {
            let settle = |reason: &str| {
                Some(Reconciliation { criteria: vec![40, 60], by: "Ketua".to_owned(), reason: reason.to_owned() })
            };
            set(
                s,
                "A1",
                "wawancara",
                ComponentInput::Assessed {
                    scores: vec![assessor("asesor-1", 40, 40), assessor("asesor-2", 40, 40)],
                    reconciliation: settle("sepakat"),
                },
            );
            set(
                s,
                "A2",
                "wawancara",
                ComponentInput::Assessed {
                    scores: vec![assessor("asesor-1", 30, 30), assessor("asesor-2", 45, 40)],
                    reconciliation: settle(" "),
                },
            );
        },
        &[
            "A1 wawancara: a reconciliation settles only a held component (two scores that disagree)",
            "A1 wawancara reconciliation: b score 60 is outside the rubric's 0..=50",
            "A2 wawancara: a reconciliation needs who settled it and a reason",
            "A2 wawancara reconciliation: b score 60 is outside the rubric's 0..=50",
        ],
    );
}

#[test]
fn one_assessor_alone_holds_the_component() {
    let (s, a) = world(SELECTION);
    let skd = stage_one(&s, &a, rules(), &skd_sheets()).expect("stage one");
    let mut sheets = skb_sheets();
    set(&mut sheets, "A1", "wawancara", interview(vec![assessor("asesor-1", 40, 40)]));
    let skb = stage_two(&s, &skd, &sheets).expect("stage two");
    assert_eq!(show_skb(skb.outcome(&no("A1")).expect("A1")), "Held([(ComponentId(\"wawancara\"), AwaitingSecond)])");
}
