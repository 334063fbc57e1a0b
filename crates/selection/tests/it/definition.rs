//! selection.toml: the sample reads as written; every mistake is reported at once with its line.

use scoring::Weights;
use selection::{ComponentRule, Selection, Shortfall, Track};

use crate::sample;

#[test]
fn the_sample_selection_reads_as_written() {
    let s = sample();
    assert_eq!(s.name(), "Seleksi CPNS Kota Sawahlunto 2026 (contoh)");
    let codes: Vec<&str> = s.formations().iter().map(|f| f.code().as_str()).collect();
    assert_eq!(codes, ["PK-DISKOMINFO", "PK-BAPPEDA", "AK-BPKD"]);
    let pk = s.formation("PK-DISKOMINFO").expect("formation");
    assert_eq!(pk.openings(), 3);
    let dis = pk.track(Track::Disability).expect("track");
    assert_eq!(dis.openings, 1);
    assert_eq!(dis.thresholds.len(), 2);
    assert!(pk.track(Track::Papua).is_none());
    assert_eq!(s.skd().multiplier, 3);
    assert_eq!(s.skd().shortfall, Shortfall::PassersOnly);
    let weights: Vec<(&str, u32)> = s.skb().iter().map(|c| (c.id().as_str(), c.weight())).collect();
    assert_eq!(weights, [("cat", 50), ("wawancara", 30), ("praktik", 20), ("kesamaptaan", 0)]);
    match s.component("wawancara").expect("component").rule() {
        ComponentRule::Assessed { rubric, .. } => {
            assert_eq!(rubric.max(), 100);
            assert_eq!(rubric.tolerance(), 10);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(*s.component("kesamaptaan").expect("component").rule(), ComponentRule::PassFail);
    assert_eq!(s.weights(), Weights::new(40, 60).expect("weights"));
}

const BASE: &str = r#"name = "Seleksi uji"

[[formation]]
code = "F1"
position = "Pranata Komputer"
unit = "Diskominfo"
education = "S-1 Informatika"
tracks = [{ track = "umum", openings = 2 }]

[skd]
exam = "SKD-2026"

[[skb.component]]
id = "cat"
name = "SKB CAT"
kind = "cat"
weight = 60
raw_max = 500

[[skb.component]]
id = "wawancara"
name = "Wawancara"
kind = "assessed"
weight = 40

[skb.component.rubric]
tolerance = 10
criteria = [{ id = "a", name = "A", min = 0, max = 50 }, { id = "b", name = "B", min = 0, max = 50 }]
"#;

/// Parses `BASE` with `edits` applied (each replaces the first match) and compares every
/// diagnostic, one a line.
#[track_caller]
fn check(edits: &[(&str, &str)], expected: &str) {
    let mut text = BASE.to_owned();
    for (from, to) in edits {
        assert!(text.contains(from), "{from:?} is not in the base file");
        text = text.replacen(from, to, 1);
    }
    let got = match Selection::parse("selection.toml", &text) {
        Ok(_) => "ok".to_owned(),
        Err(d) => d.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"),
    };
    assert_eq!(got, expected.trim(), "\n--- file ---\n{text}");
}

#[test]
fn the_base_file_is_valid_and_defaults_apply() {
    check(&[], "ok");
    let s = Selection::parse("s.toml", BASE).expect("valid");
    assert_eq!(s.skd().multiplier, 3, "the multiplier defaults to 3");
    assert_eq!(s.weights(), Weights::new(40, 60).expect("weights"), "the final weights default to 40/60");
}

#[test]
fn skb_weights_that_do_not_add_up_are_refused() {
    check(
        &[("weight = 60", "weight = 50")],
        "selection.toml:13: weight: SKB weights must add up to 100 percent, got 90 (cat 50 + wawancara 40)",
    );
}

#[test]
fn final_weights_that_do_not_add_up_are_refused() {
    check(
        &[("[skd]", "[final]\nskd_weight = 40\nskb_weight = 50\n\n[skd]")],
        "selection.toml:10: final: stage weights must add up to 100 percent, got 40 + 50",
    );
}

#[test]
fn formation_mistakes_are_all_reported() {
    check(
        &[
            ("code = \"F1\"", "code = \"F 1\""),
            ("unit = \"Diskominfo\"", "unit = \" \""),
            (
                "{ track = \"umum\", openings = 2 }",
                "{ track = \"umum\", openings = 0 }, { track = \"general\", openings = 1 }, { track = \"pns\", openings = 1 }",
            ),
        ],
        r#"
selection.toml:3: code: "F 1" may only hold letters, digits, '-' and '_'
selection.toml:3: unit: formation F 1 needs a unit
selection.toml:8: openings: formation F 1 track general: openings must be at least 1
selection.toml:8: track: formation F 1 admits general twice
selection.toml:8: track: "pns" is not a track (one of general, cumlaude_diaspora, disability, papua)
"#,
    );
}

#[test]
fn a_negative_track_minimum_is_refused() {
    check(
        &[(
            "{ track = \"umum\", openings = 2 }",
            "{ track = \"umum\", openings = 2, min_total = -5, thresholds = { TIU = -1 } }",
        )],
        r#"
selection.toml:8: thresholds: TIU: a threshold cannot be negative, got -1
selection.toml:8: min_total: formation F1 track general: min_total cannot be negative, got -5
"#,
    );
}

#[test]
fn a_formation_defined_twice_is_refused() {
    let second = "[[formation]]\ncode = \"F1\"\nposition = \"P\"\nunit = \"U\"\neducation = \"E\"\ntracks = [{ track = \"papua\", openings = 1 }]\n\n[skd]";
    check(&[("[skd]", second)], "selection.toml:10: code: formation F1 is defined twice");
}

#[test]
fn a_selection_without_formations_is_refused() {
    let text = BASE.replacen("[[formation]]", "[unused]", 1);
    let text = text.replacen("[unused]\n", "", 1);
    let text = text.replace("code = \"F1\"\nposition = \"Pranata Komputer\"\nunit = \"Diskominfo\"\neducation = \"S-1 Informatika\"\ntracks = [{ track = \"umum\", openings = 2 }]\n", "");
    let errors = Selection::parse("s.toml", &text).expect_err("refused");
    assert_eq!(
        errors.to_string().trim(),
        "s.toml:1: formation: no [[formation]] tables: a selection needs at least one"
    );
}

#[test]
fn skd_stage_mistakes_are_refused() {
    check(
        &[("exam = \"SKD-2026\"", "exam = \"SKD-2026\"\nmultiplier = 0\nshortfall = \"ambil_semua\"")],
        r#"
selection.toml:10: multiplier: the multiplier must be at least 1
selection.toml:10: shortfall: "ambil_semua" is not "passers_only" or "fill_by_total"
"#,
    );
    let fill = BASE.replacen("exam = \"SKD-2026\"", "exam = \"SKD-2026\"\nshortfall = \"fill_by_total\"", 1);
    assert_eq!(Selection::parse("s.toml", &fill).expect("valid").skd().shortfall, Shortfall::FillByTotal);
}

#[test]
fn component_mistakes_are_all_reported() {
    check(
        &[("raw_max = 500", ""), ("id = \"wawancara\"", "id = \"cat\""), ("kind = \"assessed\"", "kind = \"lisan\"")],
        r#"
selection.toml:13: raw_max: component cat: a cat component needs raw_max > 0 (its exam's maximum)
selection.toml:20: id: component cat is defined twice
selection.toml:20: kind: component cat: "lisan" is not "cat" or "assessed"
"#,
    );
}

#[test]
fn rubric_mistakes_are_all_reported() {
    check(
        &[
            ("tolerance = 10", "tolerance = -1"),
            ("{ id = \"b\", name = \"B\", min = 0, max = 50 }", "{ id = \"a\", name = \"B\", min = 30, max = 30 }"),
        ],
        r#"
selection.toml:20: criteria: component wawancara: criterion a is listed twice
selection.toml:20: criteria: component wawancara: criterion a range 30..=30 needs 0 <= min < max
selection.toml:20: tolerance: component wawancara: tolerance cannot be negative, got -1
"#,
    );
    check(
        &[(
            "[skb.component.rubric]\ntolerance = 10\ncriteria = [{ id = \"a\", name = \"A\", min = 0, max = 50 }, { id = \"b\", name = \"B\", min = 0, max = 50 }]\n",
            "raw_max = 100\n",
        )],
        r#"
selection.toml:20: raw_max: component wawancara: an assessed component's maximum is its rubric's
selection.toml:20: rubric: component wawancara: an assessed component needs a rubric
"#,
    );
}

#[test]
fn a_pass_fail_component_gates_and_carries_no_weight() {
    let gate = "\n[[skb.component]]\nid = \"jasmani\"\nname = \"Kesamaptaan\"\nkind = \"assessed\"\npass_fail = true\n";
    let text = format!("{BASE}{gate}");
    let s = Selection::parse("s.toml", &text).expect("valid");
    assert_eq!(*s.component("jasmani").expect("component").rule(), ComponentRule::PassFail);
    check(
        &[("weight = 40", "weight = 40\npass_fail = true")],
        r#"
selection.toml:13: weight: SKB weights must add up to 100 percent, got 60 (cat 60)
selection.toml:20: pass_fail: component wawancara: a pass/fail component has no weight, raw_max or rubric
"#,
    );
}

#[test]
fn a_toml_mistake_names_its_line() {
    check(
        &[("kind = \"cat\"", "kind = \"cat\"\ncolour = \"merah\"")],
        "selection.toml:17: unknown field `colour`, expected one of `id`, `name`, `kind`, `weight`, `raw_max`, \
         `pass_fail`, `rubric`",
    );
    check(
        &[("openings = 2", "openings = dua")],
        "selection.toml:8: string values must be quoted, expected literal string",
    );
}
