//! The reports' CSV and JSON, built from an analysis: the same columns and fields the
//! command line writes and the console serves (docs/analytics.md lists them).

use analytics::{Analysis, ItemScoring, Reliability, SimilarPair, SimilarityOptions};
use serde_json::{Value, json};

use super::input::{Data, Integrity, SESSION_CHECKS, candidate_flags, events_text, flag_text, pairs};

fn round(x: f64) -> Value {
    if x.is_finite() { json!((x * 10_000.0).round() / 10_000.0) } else { Value::Null }
}

fn opt(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite()).map(|v| format!("{v:.4}")).unwrap_or_default()
}

pub(super) fn items_csv(data: &Data, analysis: &Analysis) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "item",
        "section",
        "scoring",
        "drawn",
        "answered",
        "omitted",
        "difficulty",
        "discrimination",
        "mean_points",
        "item_rest",
        "time_median_s",
        "time_q1_s",
        "time_q3_s",
        "options",
        "flags",
    ])?;
    for r in &analysis.items {
        let item = &data.items[r.item];
        let (kind, p, d, mean) = match &r.scoring {
            ItemScoring::Single { p, discrimination } => ("single", Some(*p), *discrimination, None),
            ItemScoring::Weighted { mean_points, .. } => ("weighted", None, None, Some(*mean_points)),
        };
        let options: Vec<String> =
            r.options.iter().map(|o| format!("{}={:.4}/{:.4}/{:.4}", o.label, o.overall, o.upper, o.lower)).collect();
        let secs = |f: fn(&analytics::TimeSpent) -> f64| opt(r.time.as_ref().map(|t| f(t) / 1000.0));
        w.write_record([
            crate::results::text_cell(item.id().as_str()),
            crate::results::text_cell(item.section().as_str()),
            kind.to_owned(),
            r.drawn.to_string(),
            r.answered.to_string(),
            r.omitted.to_string(),
            opt(p),
            opt(d),
            opt(mean),
            opt(r.item_rest),
            secs(|t| t.median_ms),
            secs(|t| t.q1_ms),
            secs(|t| t.q3_ms),
            options.join(" "),
            r.flags.iter().map(flag_text).collect::<Vec<_>>().join(" "),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

pub(super) fn sections_csv(analysis: &Analysis) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["section", "candidates", "items_per_paper", "mean", "sd", "reliability", "kind", "sem"])?;
    for s in &analysis.sections {
        let kind = match s.reliability {
            Some(Reliability::Kr20(_)) => "kr20",
            Some(Reliability::Alpha(_)) => "alpha",
            None => "",
        };
        w.write_record([
            crate::results::text_cell(s.section.as_str()),
            s.candidates.to_string(),
            format!("{:.4}", s.items_per_paper),
            format!("{:.4}", s.mean),
            format!("{:.4}", s.sd),
            opt(s.reliability.map(Reliability::value)),
            kind.to_owned(),
            opt(s.sem),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

pub(super) fn items_json(data: &Data, analysis: &Analysis, sitting: Option<&str>) -> Value {
    let items: Vec<Value> = analysis
        .items
        .iter()
        .map(|r| {
            let item = &data.items[r.item];
            let scoring = match &r.scoring {
                ItemScoring::Single { p, discrimination } => {
                    json!({ "kind": "single", "difficulty": round(*p), "discrimination": discrimination.map(round) })
                }
                ItemScoring::Weighted { mean_points, distribution } => json!({
                    "kind": "weighted", "mean_points": round(*mean_points),
                    "distribution": distribution.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
                }),
            };
            json!({
                "item": item.id().as_str(), "section": item.section().as_str(),
                "drawn": r.drawn, "answered": r.answered, "omitted": r.omitted,
                "scoring": scoring, "item_rest": r.item_rest.map(round), "group_size": r.group_size,
                "options": r.options.iter().map(|o| json!({
                    "label": o.label.to_string(), "overall": round(o.overall), "upper": round(o.upper), "lower": round(o.lower),
                })).collect::<Vec<_>>(),
                "time_ms": r.time.map(|t| json!({ "median": round(t.median_ms), "q1": round(t.q1_ms), "q3": round(t.q3_ms) })),
                "flags": r.flags.iter().map(flag_text).collect::<Vec<_>>(),
            })
        })
        .collect();
    let sections: Vec<Value> = analysis
        .sections
        .iter()
        .map(|s| {
            json!({
                "section": s.section.as_str(), "candidates": s.candidates, "items_per_paper": round(s.items_per_paper),
                "mean": round(s.mean), "sd": round(s.sd),
                "reliability": s.reliability.map(|r| json!({
                    "kind": if matches!(r, Reliability::Kr20(_)) { "kr20" } else { "alpha" }, "value": round(r.value()),
                })),
                "sem": s.sem.map(round),
                "histogram": s.histogram.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            })
        })
        .collect();
    json!({
        "exam": data.exam, "sitting": sitting, "candidates": data.sheets.len(),
        "provisional": data.not_closed, "items": items, "sections": sections,
    })
}

pub(super) fn pairs_csv(data: &Data, found: &Integrity) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "flagged",
        "a",
        "b",
        "source",
        "shared",
        "compared",
        "identical",
        "expected_identical",
        "identical_wrong",
        "expected_identical_wrong",
        "p_identical",
        "p_identical_wrong",
        "p_value",
    ])?;
    for (flagged, p) in pairs(found) {
        let who = |i: usize| crate::results::text_cell(&data.sheets[i].candidate);
        w.write_record([
            flagged.to_string(),
            who(p.a),
            who(p.b),
            who(p.source),
            p.shared.to_string(),
            p.compared.to_string(),
            p.identical.to_string(),
            format!("{:.4}", p.expected_identical),
            p.identical_wrong.to_string(),
            format!("{:.4}", p.expected_identical_wrong),
            format!("{:e}", p.p_identical),
            format!("{:e}", p.p_identical_wrong),
            format!("{:e}", p.p_value),
        ])?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

pub(super) fn integrity_csv(data: &Data, found: &Integrity) -> anyhow::Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "participant_no",
        "name",
        "similar_to",
        "lockstep_with",
        "fast_answers",
        "idle_bursts",
        "wrong_to_right",
        "wrong_to_right_expected",
        "wrong_to_right_p",
        "cycling",
        "client_events",
        "focus_losses",
        "copy_paste",
        "relogins",
        "pc_moves",
        "reconnects",
        "takeovers",
        "flags",
    ])?;
    for (c, fast, idle, cycling) in &found.per_candidate {
        let c = *c;
        let other = |a: usize, b: usize| if a == c { b } else { a };
        let similar: Vec<&str> = found
            .similarity
            .flagged
            .iter()
            .filter(|p| p.a == c || p.b == c)
            .map(|p| data.sheets[other(p.a, p.b)].candidate.as_str())
            .collect();
        let lockstep: Vec<&str> = found
            .lockstep
            .iter()
            .filter(|l| l.a == c || l.b == c)
            .map(|l| data.sheets[other(l.a, l.b)].candidate.as_str())
            .collect();
        let changes = found.wrong_to_right.iter().find(|x| x.candidate == c);
        let mut row = vec![
            crate::results::text_cell(&data.sheets[c].candidate),
            crate::results::text_cell(&data.who[c].0),
            crate::results::text_cell(&similar.join(" ")),
            crate::results::text_cell(&lockstep.join(" ")),
            fast.len().to_string(),
            idle.len().to_string(),
            changes.map(|x| x.wrong_to_right.to_string()).unwrap_or_default(),
            opt(changes.map(|x| x.expected)),
            changes.map(|x| format!("{:e}", x.p_value)).unwrap_or_default(),
            cycling.len().to_string(),
            events_text(found, c),
        ];
        let counts = found.session_counts.get(&c).copied().unwrap_or_default();
        row.extend(counts.iter().map(usize::to_string));
        row.push(candidate_flags(found, c).join(" "));
        w.write_record(row)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

/// Sheet `c`'s count of each session check, with the room's mean and the p-value where the
/// count stands out.
fn session_events(found: &Integrity, c: usize) -> Value {
    let counts = found.session_counts.get(&c).copied().unwrap_or_default();
    let checks: serde_json::Map<String, Value> = SESSION_CHECKS
        .iter()
        .zip(counts)
        .enumerate()
        .map(|(check, ((name, _), count))| {
            let unusual = found.unusual.iter().find(|(k, u)| *k == check && u.candidate == c).map(|(_, u)| u);
            let total: usize = found.session_counts.values().map(|n| n[check]).sum();
            let value = json!({
                "count": count, "flagged": unusual.is_some(),
                "room_mean": round(total as f64 / found.room.len().max(1) as f64),
                "p_value": unusual.map(|u| u.p_value),
            });
            ((*name).to_owned(), value)
        })
        .collect();
    Value::Object(checks)
}

pub(super) fn integrity_json(data: &Data, found: &Integrity, sitting: &str) -> Value {
    let who = |i: usize| data.sheets[i].candidate.as_str();
    let pair = |(flagged, p): (bool, &SimilarPair)| {
        json!({
            "flagged": flagged, "a": who(p.a), "b": who(p.b), "source": who(p.source),
            "shared": p.shared, "compared": p.compared,
            "identical": p.identical, "expected_identical": round(p.expected_identical),
            "identical_wrong": p.identical_wrong, "expected_identical_wrong": round(p.expected_identical_wrong),
            "p_identical": p.p_identical, "p_identical_wrong": p.p_identical_wrong, "p_value": p.p_value,
        })
    };
    let candidates: Vec<Value> = found
        .per_candidate
        .iter()
        .map(|(c, fast, idle, cycling)| {
            let changes = found.wrong_to_right.iter().find(|x| x.candidate == *c);
            json!({
                "participant_no": who(*c), "name": data.who[*c].0,
                "flags": candidate_flags(found, *c),
                "fast_answers": fast.iter().map(|f| json!({
                    "item": data.items[f.item].id().as_str(), "position": f.position, "spent_ms": f.spent_ms,
                    "own_median_ms": round(f.own_median_ms), "item_median_ms": round(f.item_median_ms),
                })).collect::<Vec<_>>(),
                "idle_bursts": idle.iter().map(|b| json!({
                    "idle_from_ms": b.idle_from_ms, "idle_ms": b.idle_ms, "answers": b.answers,
                })).collect::<Vec<_>>(),
                "wrong_to_right": changes.map(|x| json!({
                    "answered": x.answered, "wrong_to_right": x.wrong_to_right,
                    "expected": round(x.expected), "p_value": x.p_value,
                })),
                "cycling_positions": cycling,
                "client_events": found.events.get(c),
                "session_events": session_events(found, *c),
            })
        })
        .collect();
    json!({
        "exam": data.exam, "sitting": sitting, "candidates_compared": found.room.len(),
        "provisional": data.not_closed,
        "note": "Flags are evidence for a person to weigh, never a verdict (docs/analytics.md).",
        "similarity": {
            "pairs": found.similarity.pairs, "threshold": found.similarity.threshold, "alpha": SimilarityOptions::default().alpha,
            "pairs_listed": pairs(found).into_iter().map(pair).collect::<Vec<_>>(),
        },
        "lockstep": found.lockstep.iter().map(|l| json!({
            "a": who(l.a), "b": who(l.b), "together": l.together, "longest_run": l.longest_run,
        })).collect::<Vec<_>>(),
        "candidates": candidates,
    })
}
