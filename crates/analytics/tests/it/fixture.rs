//! Item analysis against figures computed by an established package on the same data.
//!
//! `tests/fixtures/item_analysis.py` generated the data and computed the expected values
//! with scipy 1.17.1, pandas 3.1.1 and numpy 2.4.6 (the versions are also in the expected
//! file, and checked below so a regenerated fixture says what produced it). Every figure
//! must agree to four decimals.

use analytics::{ItemInfo, ItemScoring, Line, Sheet, analyse};
use item_bank::{ItemId, Key, Label, Points, SectionCode};
use serde_json::Value;

const DATA: &str = include_str!("../fixtures/item_analysis_data.json");
const EXPECTED: &str = include_str!("../fixtures/item_analysis_expected.json");

fn label(v: &Value) -> Label {
    Label::parse(v.as_str().expect("label string")).expect("label")
}

fn load() -> (Vec<ItemInfo>, Vec<Sheet>) {
    let data: Value = serde_json::from_str(DATA).expect("data json");
    let items = data["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|it| {
            let key = match it.get("key") {
                Some(k) => Key::Single(label(k)),
                None => Key::Weighted(
                    it["weights"]
                        .as_array()
                        .expect("weights")
                        .iter()
                        .map(|w| Points(w.as_i64().expect("int")))
                        .collect(),
                ),
            };
            ItemInfo::new(
                ItemId::new_unchecked(it["id"].as_str().expect("id")),
                SectionCode::new_unchecked(it["section"].as_str().expect("section")),
                key,
                it["options"].as_u64().expect("options") as usize,
            )
        })
        .collect();
    let sheets = data["sheets"]
        .as_array()
        .expect("sheets")
        .iter()
        .map(|s| Sheet {
            candidate: s["candidate"].as_str().expect("candidate").to_owned(),
            start_ms: s["start_ms"].as_i64().expect("start"),
            paper: s["paper"].as_array().expect("paper").iter().map(|i| i.as_u64().expect("index") as usize).collect(),
            lines: s["lines"]
                .as_array()
                .expect("lines")
                .iter()
                .map(|l| Line {
                    at_ms: l["at_ms"].as_i64().expect("at"),
                    position: l["position"].as_u64().expect("position") as usize,
                    choice: Some(label(&l["choice"])),
                })
                .collect(),
        })
        .collect();
    (items, sheets)
}

/// A JSON object of score → count, in score order (JSON keeps the keys as strings).
fn counts(v: &Value) -> Vec<(i64, u64)> {
    let mut out: Vec<(i64, u64)> = v
        .as_object()
        .expect("counts")
        .iter()
        .map(|(x, n)| (x.parse().expect("score"), n.as_u64().expect("count")))
        .collect();
    out.sort_unstable();
    out
}

#[track_caller]
fn close(what: &str, actual: f64, expected: &Value) {
    let expected = expected.as_f64().expect("number");
    assert!((actual - expected).abs() < 5e-5, "{what}: {actual} against {expected}");
}

#[test]
fn item_statistics_agree_with_scipy_and_pandas_to_four_decimals() {
    let expected: Value = serde_json::from_str(EXPECTED).expect("expected json");
    assert_eq!(expected["versions"]["scipy"], "1.17.1");
    assert_eq!(expected["versions"]["pandas"], "3.1.1");
    let (items, sheets) = load();
    let analysis = analyse(&items, &sheets);
    let expected_items = expected["items"].as_array().expect("items");
    assert_eq!(analysis.items.len(), expected_items.len());
    for (r, e) in analysis.items.iter().zip(expected_items) {
        let id = items[r.item].id().to_string();
        assert_eq!(r.drawn as u64, e["drawn"].as_u64().expect("drawn"), "{id} drawn");
        assert_eq!(r.answered as u64, e["answered"].as_u64().expect("answered"), "{id} answered");
        assert_eq!(r.group_size as u64, e["group_size"].as_u64().expect("group"), "{id} group size");
        close(&format!("{id} item-rest"), r.item_rest.expect("defined"), &e["item_rest"]);
        match &r.scoring {
            ItemScoring::Single { p, discrimination } => {
                close(&format!("{id} p"), *p, &e["mean_score"]);
                close(&format!("{id} D"), discrimination.expect("defined"), &e["discrimination"]);
            }
            ItemScoring::Weighted { mean_points, distribution } => {
                close(&format!("{id} mean"), *mean_points, &e["mean_score"]);
                let got: Vec<(i64, u64)> = distribution.iter().map(|(p, n)| (*p, *n as u64)).collect();
                assert_eq!(got, counts(&e["distribution"]), "{id} distribution");
            }
        }
        for (o, want) in r.options.iter().zip(e["options"].as_array().expect("options")) {
            close(&format!("{id} {} overall", o.label), o.overall, &want[0]);
            close(&format!("{id} {} upper", o.label), o.upper, &want[1]);
            close(&format!("{id} {} lower", o.label), o.lower, &want[2]);
        }
        let t = r.time.expect("time");
        close(&format!("{id} q1"), t.q1_ms, &e["time"][0]);
        close(&format!("{id} median"), t.median_ms, &e["time"][1]);
        close(&format!("{id} q3"), t.q3_ms, &e["time"][2]);
    }
    for s in &analysis.sections {
        let e = &expected["sections"][s.section.as_str()];
        let code = s.section.as_str();
        assert_eq!(s.candidates as u64, e["candidates"].as_u64().expect("candidates"));
        close(&format!("{code} mean"), s.mean, &e["mean"]);
        close(&format!("{code} sd"), s.sd, &e["sd"]);
        close(&format!("{code} reliability"), s.reliability.expect("defined").value(), &e["reliability"]);
        close(&format!("{code} sem"), s.sem.expect("defined"), &e["sem"]);
        let hist: Vec<(i64, u64)> = s.histogram.iter().map(|(x, n)| (*x, *n as u64)).collect();
        assert_eq!(hist, counts(&e["histogram"]), "{code} histogram");
    }
}
