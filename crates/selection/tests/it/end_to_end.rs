//! A whole selection, from the applicant list to the final ranking and the optimisation
//! list: the sample selection's three formations (2, 1 and 3 general openings; 1
//! disability opening in two of them), 60 applicants over the general and disability
//! tracks, ties planted at every cut and in the final order, two assessors per component
//! with one disagreement held and then reconciled.
//!
//! Every expected figure and rank is computed here, plainly, from the rules in
//! docs/scoring.md and docs/selection.md, without scoring's `select`, `FinalScore` or
//! `FinalKey`; the crate's answers must equal it line for line.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use item_bank::Points;
use selection::skb::{AssessorScore, ComponentInput, Reconciliation, SkbSheet};
use selection::{
    Applicants, ComponentId, FinalTrack, Outcome, ParticipantNo, Selection, SkdSheet, final_ranking, optimisation,
    stage_one, stage_two,
};

use crate::skd::{rules, sat, show_skd};
use crate::{repo, sample};

/// (formation, track as the list writes it, openings, applicants): the sample's, with AK-BPKD's
/// cumlaude/diaspora opening made a disability one so that two tracks run throughout.
const TRACKS: [(&str, &str, usize, usize); 5] = [
    ("PK-DISKOMINFO", "umum", 2, 15),
    ("PK-DISKOMINFO", "disabilitas", 1, 6),
    ("PK-BAPPEDA", "umum", 1, 12),
    ("AK-BPKD", "umum", 3, 20),
    ("AK-BPKD", "disabilitas", 1, 7),
];

/// A small deterministic generator, so the test needs no random crate and never varies.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, lo: i64, hi: i64) -> i64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        lo + ((self.0 >> 33) as i64).rem_euclid(hi - lo + 1)
    }
    fn step5(&mut self, lo: i64, hi: i64) -> i64 {
        self.next(lo / 5, hi / 5) * 5
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Skd {
    Sat { twk: i64, tiu: i64, tkp: i64 },
    Absent,
    Disqualified,
}

#[derive(Clone)]
struct Skb {
    /// `None`: absent from the CAT.
    cat: Option<i64>,
    interview: [[i64; 4]; 2],
    reconciled: Option<[i64; 4]>,
    /// `None`: absent from the practical test.
    practical: Option<[[i64; 3]; 2]>,
    fit: bool,
}

#[derive(Clone)]
struct Person {
    no: String,
    formation: &'static str,
    track: &'static str,
    gpa: Option<u32>,
    born: (u16, u8, u8),
    skd: Skd,
    skb: Skb,
}

fn people() -> Vec<Person> {
    let mut r = Lcg(2026);
    let mut out = Vec::new();
    for (formation, track, openings, n) in TRACKS {
        let q = 3 * openings;
        for i in 0..n {
            let disability = track == "disabilitas";
            let skd = match i {
                i if i + 1 < q => Skd::Sat { twk: r.step5(100, 150), tiu: r.step5(120, 175), tkp: r.next(190, 225) },
                // The tie at the cut: the q-th and the (q+1)-th are equal on every section.
                i if i + 1 == q || i == q => Skd::Sat { twk: 90, tiu: 100, tkp: 185 },
                // Equal total, lower TKP: not a tie, ranks after the cut.
                i if i == q + 1 => Skd::Sat { twk: 90, tiu: 105, tkp: 180 },
                // Below the exam's TIU threshold, above PK-DISKOMINFO's disability track's own.
                i if disability && i == q + 2 => Skd::Sat { twk: 80, tiu: 60, tkp: 170 },
                i if i + 1 == n => Skd::Absent,
                i if formation == "AK-BPKD" && track == "umum" && i + 2 == n => Skd::Disqualified,
                _ => Skd::Sat { twk: r.step5(40, 90), tiu: r.step5(50, 100), tkp: r.next(140, 184) },
            };
            let a1 = [r.next(12, 24), r.next(12, 24), r.next(12, 24), r.next(12, 24)];
            let a2 = a1.map(|v| v + r.next(-1, 1));
            let p1 = [r.next(20, 38), r.next(15, 28), r.next(15, 28)];
            let p2 = p1.map(|v| v + r.next(-1, 1));
            let skb = Skb {
                cat: Some(r.next(250, 480)),
                interview: [a1, a2],
                reconciled: None,
                practical: Some([p1, p2]),
                fit: true,
            };
            let no = format!("2026-{:04}", out.len() + 1);
            let gpa = (out.len() % 9 != 4).then(|| r.next(275, 399) as u32);
            let born = (r.next(1990, 2002) as u16, r.next(1, 12) as u8, r.next(1, 28) as u8);
            out.push(Person { no, formation, track, gpa, born, skd, skb });
        }
    }
    // Final ties. PK-DISKOMINFO general's pair at the cut: the same SKB and grade
    // average, so age decides. AK-BPKD general's pair: the same SKB, one without a
    // grade average, who comes second.
    let (a, b) = (index(&out, "PK-DISKOMINFO", "umum", 5), index(&out, "PK-DISKOMINFO", "umum", 6));
    out[b].skb = out[a].skb.clone();
    out[b].gpa = out[a].gpa;
    out[a].born = (1999, 5, 1);
    out[b].born = (1996, 5, 1);
    let (a, b) = (index(&out, "AK-BPKD", "umum", 8), index(&out, "AK-BPKD", "umum", 9));
    out[b].skb = out[a].skb.clone();
    out[a].gpa = None;
    out[b].gpa = Some(300);
    // The disagreement: interview sums 20 apart, tolerance 10.
    let d = index(&out, "PK-DISKOMINFO", "umum", 0);
    out[d].skb.interview = [[22, 23, 21, 24], [17, 18, 16, 19]];
    // PK-BAPPEDA's applicants all miss the CAT: its opening is left for optimisation.
    for i in 0..12 {
        let at = index(&out, "PK-BAPPEDA", "umum", i);
        out[at].skb.cat = None;
    }
    let (unfit, missed) = (index(&out, "AK-BPKD", "disabilitas", 0), index(&out, "AK-BPKD", "umum", 2));
    out[unfit].skb.fit = false;
    out[missed].skb.practical = None;
    out
}

fn index(people: &[Person], formation: &str, track: &str, i: usize) -> usize {
    people.iter().position(|p| p.formation == formation && p.track == track).expect("track") + i
}

fn selection_text() -> String {
    let text = std::fs::read_to_string(repo("question-banks/selections/sawahlunto-2026/selection.toml")).expect("read");
    let from = "{ track = \"cumlaude_diaspora\", openings = 1 }";
    assert!(text.contains(from));
    text.replace(from, "{ track = \"disabilitas\", openings = 1 }")
}

fn applicant_list(people: &[Person]) -> String {
    let mut csv = String::from("nomor_peserta,nama,formasi,jalur,nilai_pendidikan,tanggal_lahir\n");
    for (i, p) in people.iter().enumerate() {
        let gpa = p.gpa.map(|g| format!("{}.{:02}", g / 100, g % 100)).unwrap_or_default();
        let (y, m, d) = p.born;
        csv.push_str(&format!("{},Peserta {},{},{},{gpa},{y:04}-{m:02}-{d:02}\n", p.no, i + 1, p.formation, p.track));
    }
    csv
}

// ---- the independent computation ----

fn thresholds(formation: &str, track: &str) -> (i64, i64, i64) {
    // The exam's TWK 65, TIU 80, TKP 166; PK-DISKOMINFO's disability track has its own
    // TIU 60 and TKP 156 in the sample, AK-BPKD's keeps the exam's.
    if (formation, track) == ("PK-DISKOMINFO", "disabilitas") { (65, 60, 156) } else { (65, 80, 166) }
}

fn round(n: i64, d: i64) -> i64 {
    (2 * n + d) / (2 * d)
}

fn milli(v: i64) -> String {
    format!("{}.{:03}", v / 1000, v % 1000)
}

fn track_name(t: &str) -> &'static str {
    if t == "disabilitas" { "disability" } else { "general" }
}

/// Stage 1 per track, as docs/scoring.md says: passers by total, TKP, TIU, TWK
/// (competition ranks), P/L within 3 × openings, then TL by the same order, TH, DIS.
fn expected_skd(people: &[Person]) -> (String, Vec<String>) {
    let mut text = Vec::new();
    let mut going_on = Vec::new();
    for (formation, track, openings, _) in TRACKS {
        let (t_twk, t_tiu, t_tkp) = thresholds(formation, track);
        let mine: Vec<&Person> = people.iter().filter(|p| p.formation == formation && p.track == track).collect();
        let mut passed = Vec::new();
        let mut failed = Vec::new();
        let mut absent = Vec::new();
        let mut dis = Vec::new();
        for p in &mine {
            match p.skd {
                Skd::Sat { twk, tiu, tkp } => {
                    let key = (Reverse(twk + tiu + tkp), Reverse(tkp), Reverse(tiu), Reverse(twk));
                    if twk >= t_twk && tiu >= t_tiu && tkp >= t_tkp {
                        passed.push((key, p.no.clone()));
                    } else {
                        failed.push((key, p.no.clone()));
                    }
                }
                Skd::Absent => absent.push(p.no.clone()),
                Skd::Disqualified => dis.push(p.no.clone()),
            }
        }
        passed.sort();
        failed.sort();
        absent.sort();
        dis.sort();
        let mut lines = Vec::new();
        let mut rank = 0;
        for (i, (key, no)) in passed.iter().enumerate() {
            if i == 0 || passed[i - 1].0 != *key {
                rank = i + 1;
            }
            let code = if rank <= 3 * openings { "P/L" } else { "P" };
            if code == "P/L" {
                going_on.push(no.clone());
            }
            lines.push(format!("{no}:{code}#{rank}"));
        }
        lines.extend(failed.iter().map(|(_, no)| format!("{no}:TL")));
        lines.extend(absent.iter().map(|no| format!("{no}:TH")));
        lines.extend(dis.iter().map(|no| format!("{no}:DIS")));
        text.push(format!("{formation}/{}: {}", track_name(track), lines.join(" ")));
    }
    (text.join("\n"), going_on)
}

/// The SKB on 0..100 in thousandths (docs/selection.md): CAT of 500, interview and
/// practical of 100 as the mean of two assessors (or the reconciled score), weighed
/// 50/30/20; `Err` with the code of an applicant without a score.
fn expected_skb(p: &Person) -> Result<i64, &'static str> {
    let (Some(cat), Some(practical)) = (p.skb.cat, p.skb.practical) else { return Err("TH") };
    if !p.skb.fit {
        return Err("TL");
    }
    let cat = round(cat * 100_000, 500);
    let interview = match p.skb.reconciled {
        Some(r) => round(r.iter().sum::<i64>() * 100_000, 100),
        None => round((p.skb.interview[0].iter().sum::<i64>() + p.skb.interview[1].iter().sum::<i64>()) * 100_000, 200),
    };
    let practical = round((practical[0].iter().sum::<i64>() + practical[1].iter().sum::<i64>()) * 100_000, 200);
    Ok(round(cat * 50 + interview * 30 + practical * 20, 100))
}

type FinalOrder =
    (Reverse<i64>, Reverse<i64>, Reverse<i64>, Reverse<i64>, Reverse<i64>, (bool, Reverse<u32>), (u16, u8, u8));

/// The final per track (docs/scoring.md): 40 % of SKD/550 × 100 plus 60 % of the SKB, each
/// part rounded to thousandths; ordered by final, SKD total, TKP, TIU, TWK, grade average
/// (missing last), older first; the first `openings` appointed.
fn expected_final(people: &[Person], going_on: &[String]) -> (String, BTreeMap<String, (FinalOrder, i64, bool)>) {
    let mut text = Vec::new();
    let mut all = BTreeMap::new();
    for (formation, track, openings, _) in TRACKS {
        let mut scored = Vec::new();
        let mut none = Vec::new();
        for p in people.iter().filter(|p| p.formation == formation && p.track == track && going_on.contains(&p.no)) {
            let Skd::Sat { twk, tiu, tkp } = p.skd else { unreachable!("only those who sat go on") };
            let total = twk + tiu + tkp;
            match expected_skb(p) {
                Ok(skb) => {
                    let fin = round(total * 40 * 1000, 550) + round(skb * 60, 100);
                    let key = (
                        Reverse(fin),
                        Reverse(total),
                        Reverse(tkp),
                        Reverse(tiu),
                        Reverse(twk),
                        (p.gpa.is_none(), Reverse(p.gpa.unwrap_or(0))),
                        p.born,
                    );
                    scored.push((key, p.no.clone(), fin));
                }
                Err(code) => none.push((p.no.clone(), code)),
            }
        }
        scored.sort();
        none.sort();
        let mut lines = Vec::new();
        let mut rank = 0;
        for (i, (key, no, fin)) in scored.iter().enumerate() {
            if i == 0 || scored[i - 1].0 != *key {
                rank = i + 1;
            }
            let outcome = if i < openings { "Appointed" } else { "NotAppointed" };
            lines.push(format!("{no}#{rank}={}:{outcome}", milli(*fin)));
            all.insert(no.clone(), (*key, *fin, i < openings));
        }
        lines.extend(none.iter().map(|(no, code)| format!("{no}:NoScore({code})")));
        text.push(format!("{formation}/{}: {}", track_name(track), lines.join(" ")));
    }
    (text.join("\n"), all)
}

// ---- the crate's side ----

fn skd_sheets(people: &[Person]) -> BTreeMap<ParticipantNo, SkdSheet> {
    people
        .iter()
        .filter_map(|p| {
            let sheet = match p.skd {
                Skd::Sat { twk, tiu, tkp } => sat(twk, tiu, tkp),
                Skd::Disqualified => SkdSheet::Disqualified,
                Skd::Absent => return None,
            };
            Some((ParticipantNo::parse(&p.no).expect("no"), sheet))
        })
        .collect()
}

fn component(id: &str) -> ComponentId {
    ComponentId::parse(id).expect("id")
}

fn skb_sheets(people: &[Person], going_on: &[String]) -> BTreeMap<ParticipantNo, SkbSheet> {
    let scores = |v: &[i64], who: &str| AssessorScore { assessor: who.to_owned(), criteria: v.to_vec() };
    people
        .iter()
        .filter(|p| going_on.contains(&p.no))
        .map(|p| {
            let mut c = BTreeMap::new();
            c.insert(component("cat"), p.skb.cat.map_or(ComponentInput::Absent, |v| ComponentInput::Cat(Points(v))));
            c.insert(
                component("wawancara"),
                ComponentInput::Assessed {
                    scores: vec![scores(&p.skb.interview[0], "asesor-01"), scores(&p.skb.interview[1], "asesor-02")],
                    reconciliation: p.skb.reconciled.map(|r| Reconciliation {
                        criteria: r.to_vec(),
                        by: "Ketua Panitia Seleksi".to_owned(),
                        reason: "kedua asesor dan ketua memutar ulang rekaman wawancara; skor disepakati".to_owned(),
                    }),
                },
            );
            c.insert(
                component("praktik"),
                p.skb.practical.map_or(ComponentInput::Absent, |[a, b]| ComponentInput::Assessed {
                    scores: vec![scores(&a, "asesor-03"), scores(&b, "asesor-04")],
                    reconciliation: None,
                }),
            );
            c.insert(component("kesamaptaan"), ComponentInput::PassFail(p.skb.fit));
            (ParticipantNo::parse(&p.no).expect("no"), SkbSheet { components: c, disqualified: false })
        })
        .collect()
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
fn a_whole_selection_ranks_as_the_rules_computed_independently_say() {
    let mut people = people();
    assert_eq!(people.len(), 60);
    let selection = Selection::parse("selection.toml", &selection_text()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(selection.formations().len(), sample().formations().len());
    let applicants = Applicants::parse_csv("pelamar.csv", applicant_list(&people).as_bytes(), &selection)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(applicants.len(), 60);

    // Stage 1.
    let skd = stage_one(&selection, &applicants, rules(), &skd_sheets(&people)).unwrap_or_else(|e| panic!("{e:?}"));
    let (expected, going_on) = expected_skd(&people);
    assert_eq!(show_skd(&skd), expected);
    // The planted ties did their work: every track sends one more than 3 × its openings.
    for (t, (_, _, openings, _)) in skd.tracks.iter().zip(TRACKS) {
        assert_eq!(t.going_on().count(), 3 * openings + 1, "{}/{}", t.formation, t.track);
    }

    // Stage 2, with the interview disagreement held.
    let held_no = people.iter().find(|p| p.formation == "PK-DISKOMINFO" && p.track == "umum").expect("p").no.clone();
    let skb = stage_two(&selection, &skd, &skb_sheets(&people, &going_on)).unwrap_or_else(|e| panic!("{e:?}"));
    let held: Vec<String> = skb.held().iter().map(|(p, c, h)| format!("{p} {c} {h:?}")).collect();
    assert_eq!(held, [format!("{held_no} wawancara Disagreement {{ first: 90, second: 70, tolerance: 10 }}")]);
    let refused = final_ranking(&selection, &applicants, rules(), &skd, &skb).expect_err("held");
    assert_eq!(refused.len(), 1);

    // Reconciled by the committee, with a reason.
    people.iter_mut().find(|p| p.no == held_no).expect("held").skb.reconciled = Some([20, 21, 19, 22]);
    let skb = stage_two(&selection, &skd, &skb_sheets(&people, &going_on)).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(skb.held().is_empty());
    for p in people.iter().filter(|p| going_on.contains(&p.no)) {
        let got = skb.outcome(&ParticipantNo::parse(&p.no).expect("no")).expect("outcome");
        match (expected_skb(p), got) {
            (Ok(v), selection::SkbOutcome::Scored { skb, .. }) => assert_eq!(skb.0, v, "{}", p.no),
            (Err(code), other) => assert_eq!(other.code().map(|c| c.as_str()), Some(code), "{}", p.no),
            (Ok(v), other) => panic!("{}: expected {v}, got {other:?}", p.no),
        }
    }

    // The final ranking.
    let finals = final_ranking(&selection, &applicants, rules(), &skd, &skb).unwrap_or_else(|e| panic!("{e:?}"));
    let (expected, keys) = expected_final(&people, &going_on);
    assert_eq!(show_final(&finals), expected);
    assert!(finals.iter().all(|t| !t.tie_at_last_opening));
    // The planted final ties were decided by the last two tie-breaks.
    let find =
        |f: &str, t: &str, i: usize| people.iter().filter(|p| p.formation == f && p.track == t).nth(i).expect("p");
    let (older, younger) = (find("PK-DISKOMINFO", "umum", 6), find("PK-DISKOMINFO", "umum", 5));
    assert_eq!(keys[&older.no].1, keys[&younger.no].1, "equal final scores");
    assert!(keys[&older.no].0 < keys[&younger.no].0, "the older applicant first");
    let (with, without) = (find("AK-BPKD", "umum", 9), find("AK-BPKD", "umum", 8));
    assert_eq!(keys[&with.no].1, keys[&without.no].1, "equal final scores");
    assert!(keys[&with.no].0 < keys[&without.no].0, "a grade average before none");

    // Optimisation: PK-BAPPEDA's opening, from PK-DISKOMINFO's general track (same
    // position, another unit), in final order.
    let mut pool: Vec<(&FinalOrder, &str, i64)> = people
        .iter()
        .filter(|p| p.formation == "PK-DISKOMINFO" && p.track == "umum")
        .filter_map(|p| keys.get(&p.no).filter(|k| !k.2).map(|k| (&k.0, p.no.as_str(), k.1)))
        .collect();
    pool.sort();
    let expected: Vec<String> =
        pool.iter().map(|(_, no, fin)| format!("{no}<-PK-DISKOMINFO({})", milli(*fin))).collect();
    assert!(expected.len() >= 3, "PK-DISKOMINFO has applicants with a final score left over");
    let vacancies = optimisation(&selection, rules(), &skd, &finals);
    let got: Vec<(String, u32, Vec<String>)> = vacancies
        .iter()
        .map(|v| {
            let c = v.candidates.iter().map(|c| format!("{}<-{}({})", c.participant, c.from, c.score.total)).collect();
            (format!("{}/{}", v.formation, v.track), v.unfilled, c)
        })
        .collect();
    assert_eq!(got, [("PK-BAPPEDA/general".to_owned(), 1, expected)]);
    assert!(finals.iter().flat_map(|t| &t.lines).any(|l| l.outcome == Outcome::Appointed));
}
