//! Stage 1 on a small selection: the SKD cut per formation and track, the shortfall
//! policy, and every refusal. The selection and sheets here are shared with the SKB and
//! final tests.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use item_bank::{Exam, Points, SectionCode};
use scoring::{Score, SectionScore};
use selection::{Applicants, ParticipantNo, Selection, SkdResult, SkdRules, SkdSheet, stage_one};

use crate::repo;

pub(crate) const SELECTION: &str = r#"name = "Seleksi uji tahap"

[[formation]]
code = "F1"
position = "Pranata Komputer Ahli Pertama"
unit = "Dinas Komunikasi dan Informatika"
education = "S-1 Informatika"
tracks = [{ track = "umum", openings = 1 }, { track = "disabilitas", openings = 1, thresholds = { TIU = 60 } }]

[[formation]]
code = "F2"
position = "Pranata Komputer Ahli Pertama"
unit = "Badan Perencanaan Pembangunan Daerah"
education = "S-1 Informatika"
tracks = [{ track = "umum", openings = 2 }]

[skd]
exam = "SKD-2026"
multiplier = 2

[[skb.component]]
id = "cat"
name = "SKB CAT"
kind = "cat"
weight = 50
raw_max = 500

[[skb.component]]
id = "wawancara"
name = "Wawancara"
kind = "assessed"
weight = 50

[skb.component.rubric]
tolerance = 10
criteria = [{ id = "a", name = "Motivasi", min = 0, max = 50 }, { id = "b", name = "Komunikasi", min = 0, max = 50 }]

[[skb.component]]
id = "jasmani"
name = "Kesamaptaan"
kind = "assessed"
pass_fail = true
"#;

const APPLICANTS: &str = "\
nomor_peserta,nama,formasi,jalur,nilai_pendidikan,tanggal_lahir
A1,Satu,F1,umum,3.50,1998-01-01
A2,Dua,F1,umum,3.50,1998-01-01
A3,Tiga,F1,umum,3.50,1998-01-01
A4,Empat,F1,umum,3.50,1998-01-01
A5,Lima,F1,umum,3.50,1998-01-01
A6,Enam,F1,umum,3.50,1998-01-01
D1,Tujuh,F1,disabilitas,3.50,1998-01-01
D2,Delapan,F1,disabilitas,3.50,1998-01-01
B1,Sembilan,F2,umum,3.50,1998-01-01
B2,Sepuluh,F2,umum,3.50,1998-01-01
B3,Sebelas,F2,umum,3.50,1998-01-01
B4,Dua belas,F2,umum,3.50,1998-01-01
B5,Tiga belas,F2,umum,3.50,1998-01-01
B6,Empat belas,F2,umum,3.50,1998-01-01
";

pub(crate) fn rules() -> &'static SkdRules {
    static RULES: OnceLock<SkdRules> = OnceLock::new();
    RULES.get_or_init(|| {
        let (exam, _, summary) = Exam::load(&repo("question-banks/exams/skd.toml")).unwrap_or_else(|e| panic!("{e}"));
        SkdRules::new(&exam, &summary)
    })
}

pub(crate) fn no(s: &str) -> ParticipantNo {
    ParticipantNo::parse(s).expect("participant number")
}

/// An SKD sheet as scoring gives it, with the exam's thresholds (TWK 65, TIU 80, TKP 166).
pub(crate) fn sat(twk: i64, tiu: i64, tkp: i64) -> SkdSheet {
    let sections: Vec<SectionScore> = [("TWK", twk, 65), ("TIU", tiu, 80), ("TKP", tkp, 166)]
        .into_iter()
        .map(|(code, p, t)| SectionScore {
            code: SectionCode::new_unchecked(code),
            points: Points(p),
            threshold: Points(t),
            passed: p >= t,
        })
        .collect();
    let passed = sections.iter().all(|s| s.passed);
    SkdSheet::Sat(Score { total: sections.iter().map(|s| s.points).sum(), sections, passed })
}

pub(crate) fn world(selection_text: &str) -> (Selection, Applicants) {
    let s = Selection::parse("s.toml", selection_text).unwrap_or_else(|e| panic!("{e}"));
    let a = Applicants::parse_csv("a.csv", APPLICANTS.as_bytes(), &s).unwrap_or_else(|e| panic!("{e}"));
    (s, a)
}

pub(crate) fn skd_sheets() -> BTreeMap<ParticipantNo, SkdSheet> {
    [
        ("A1", sat(100, 120, 180)),
        ("A2", sat(90, 110, 180)),
        ("A3", sat(90, 110, 180)),
        ("A4", sat(80, 100, 170)),
        ("A5", sat(60, 150, 200)),
        ("A6", sat(70, 60, 200)),
        ("D1", sat(70, 60, 170)),
        ("B1", sat(100, 100, 200)),
        ("B2", SkdSheet::Disqualified),
        ("B3", sat(70, 90, 170)),
        ("B4", sat(65, 80, 166)),
        ("B5", sat(60, 150, 200)),
        ("B6", sat(60, 100, 180)),
    ]
    .into_iter()
    .map(|(p, s)| (no(p), s))
    .collect()
}

pub(crate) fn show_skd(result: &SkdResult) -> String {
    result
        .tracks
        .iter()
        .map(|t| {
            let lines: Vec<String> = t
                .lines
                .iter()
                .map(|l| {
                    let below = if l.below_threshold { "*" } else { "" };
                    match l.rank {
                        Some(r) => format!("{}:{}#{r}{below}", l.participant, l.code),
                        None => format!("{}:{}", l.participant, l.code),
                    }
                })
                .collect();
            format!("{}/{}: {}", t.formation, t.track, lines.join(" "))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_skd_cut_is_per_formation_and_track_with_ties_at_the_cut_and_track_thresholds() {
    let (s, a) = world(SELECTION);
    let result = stage_one(&s, &a, rules(), &skd_sheets()).unwrap_or_else(|e| panic!("{e:?}"));
    // F1 general: quota 2, A2 and A3 tie with the second place and both go on. A6's TIU 60
    // fails in the general track; D1's TIU 60 passes in the disability track, whose threshold is 60.
    assert_eq!(
        show_skd(&result),
        "F1/general: A1:P/L#1 A2:P/L#2 A3:P/L#2 A4:P#4 A5:TL A6:TL\n\
         F1/disability: D1:P/L#1 D2:TH\n\
         F2/general: B1:P/L#1 B3:P/L#2 B4:P/L#3 B5:TL B6:TL B2:DIS"
    );
    let (track, line) = result.line(&no("A2")).expect("line");
    assert_eq!((track.quota, line.score.as_ref().map(|s| s.total)), (2, Some(Points(380))));
}

#[test]
fn fill_by_total_gives_places_the_passers_left_to_those_below_a_threshold() {
    let (s, a) = world(&SELECTION.replace("multiplier = 2", "multiplier = 2\nshortfall = \"fill_by_total\""));
    let result = stage_one(&s, &a, rules(), &skd_sheets()).unwrap_or_else(|e| panic!("{e:?}"));
    // F2: quota 4, three passed; the fourth place goes to B5 (410) over B6 (340), marked.
    let f2 = show_skd(&result).lines().nth(2).expect("F2").to_owned();
    assert_eq!(f2, "F2/general: B1:P/L#1 B3:P/L#2 B4:P/L#3 B5:P/L#4* B6:TL B2:DIS");
    // F1's general track had enough passers: nobody below a threshold goes on.
    assert!(show_skd(&result).starts_with("F1/general: A1:P/L#1 A2:P/L#2 A3:P/L#2 A4:P#4 A5:TL A6:TL"));
}

#[test]
fn a_track_may_replace_the_thresholds_by_a_total_and_a_tiu_minimum_as_in_2019() {
    // The 2019 disability track: cumulative SKD at least 260 and TIU at least 70, no
    // TWK or TKP threshold.
    let (s, a) = world(
        &SELECTION.replace("thresholds = { TIU = 60 }", "thresholds = { TWK = 0, TIU = 70, TKP = 0 }, min_total = 260"),
    );
    let mut sheets = skd_sheets();
    sheets.insert(no("D2"), sat(40, 70, 150)); // 260: passes here, fails TWK and TKP in the exam
    sheets.insert(no("D1"), sat(70, 65, 170)); // TIU 65 < 70
    let result = stage_one(&s, &a, rules(), &sheets).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(show_skd(&result).lines().nth(1), Some("F1/disability: D2:P/L#1 D1:TL"));
    sheets.insert(no("D2"), sat(40, 70, 145)); // 255 < 260
    let result = stage_one(&s, &a, rules(), &sheets).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(show_skd(&result).lines().nth(1), Some("F1/disability: D1:TL D2:TL"));
}

#[test]
fn unusable_skd_sheets_are_all_refused() {
    let (s, a) = world(&SELECTION.replace("thresholds = { TIU = 60 }", "thresholds = { TIX = 60 }"));
    let mut sheets = skd_sheets();
    sheets.insert(no("Z9"), sat(100, 100, 200));
    let SkdSheet::Sat(mut short) = sat(100, 100, 200) else { unreachable!() };
    short.sections.pop();
    sheets.insert(no("A4"), SkdSheet::Sat(short));
    let errors: Vec<String> =
        stage_one(&s, &a, rules(), &sheets).expect_err("refused").iter().map(|e| e.to_string()).collect();
    assert_eq!(
        errors,
        [
            "formation F1 track disability: a threshold names section TIX, which exam SKD-2026 does not have",
            "A4: the sheet's sections (TWK, TIU) are not the exam's (TWK, TIU, TKP)",
            "Z9: not an applicant of this selection",
        ]
    );
    let (other, a) = world(&SELECTION.replace("exam = \"SKD-2026\"", "exam = \"SKD-2025\""));
    let errors = stage_one(&other, &a, rules(), &skd_sheets()).expect_err("refused");
    assert_eq!(errors[0].to_string(), "the selection's SKD is exam SKD-2025, the results are of exam SKD-2026");
}
