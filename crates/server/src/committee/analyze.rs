//! `ujian analyze`: the committee's reports on how the items worked and on the
//! irregularities in a sitting's logs, from the stored papers and answer logs, through the
//! `analytics` crate. Each writes CSV and JSON for further work and a self-contained HTML
//! report for reading (docs/analytics.md says what every figure means).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use analytics::{Analysis, ItemScoring, Reliability, SimilarPair, SimilarityOptions};
use clap::Subcommand;
use serde_json::{Value, json};
use store::Store;

use super::analyze_html as html;
use super::analyze_input::{Data, Integrity, SESSION_CHECKS, candidate_flags, events_text, flag_text, load, pairs};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum AnalyzeCommand {
    /// Item analysis of an exam (all its sittings) or of one sitting.
    ///
    /// Per item: times drawn, answered and omitted, difficulty (proportion correct) or mean
    /// points, item–rest correlation, upper–lower 27% discrimination, option shares and
    /// flags (possible wrong key, option nobody chose, negative discrimination), time
    /// spent. Per section: mean, SD, KR-20 or Cronbach's α, SEM and a score histogram.
    /// Writes items.csv, sections.csv, items.json and report.html in --out.
    Items {
        /// The exam's code (as stored by `ujian exam import`).
        #[arg(long)]
        exam: String,
        /// Only this sitting of the exam.
        #[arg(long)]
        sitting: Option<String>,
        /// The folder to write the reports in (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Irregularities in one sitting: similar answers, timing, answer changes, session events.
    ///
    /// Improbably similar answers between pairs of the sitting, fast right answers, idle
    /// gaps then bursts, seats answering in step, wrong-to-right changes above the room's
    /// rate, answer cycling, focus losses, copy/paste, logins again and PC moves far above
    /// the room's.
    ///
    /// Flags are evidence for the committee to weigh, never verdicts. Writes pairs.csv (the
    /// pairs with their evidence), integrity.csv (one row per candidate), integrity.json
    /// and report.html in --out.
    Integrity {
        /// The sitting's id.
        #[arg(long)]
        sitting: String,
        /// The folder to write the reports in (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs one `analyze` command. Nothing is written unless the exam or sitting exists.
pub(crate) async fn analyze(config: &Config, command: AnalyzeCommand) -> anyhow::Result<ExitCode> {
    let store = Store::open(&config.database_url()).await?;
    let result = match command {
        AnalyzeCommand::Items { exam, sitting, out } => items(&store, &exam, sitting.as_deref(), &out).await,
        AnalyzeCommand::Integrity { sitting, out } => integrity(&store, &sitting, &out).await,
    };
    store.close().await;
    result.map(|()| ExitCode::SUCCESS)
}

fn write(dir: &Path, name: &str, text: &str) -> anyhow::Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| anyhow::anyhow!("write {}: {e}", path.display()))
}

fn round(x: f64) -> Value {
    if x.is_finite() { json!((x * 10_000.0).round() / 10_000.0) } else { Value::Null }
}

fn opt(x: Option<f64>) -> String {
    x.filter(|v| v.is_finite()).map(|v| format!("{v:.4}")).unwrap_or_default()
}

fn warn_provisional(data: &Data) {
    if !data.not_closed.is_empty() {
        eprintln!("warning: sitting {} not closed: these figures may still change", data.not_closed.join(", "));
    }
}

/// From this many candidates an analysis takes long enough to show a progress bar.
pub(super) const LARGE: usize = 2_000;

/// The bar of an analysis of `candidates` in `steps`, on stderr. Hidden for a small exam,
/// and by indicatif itself when stderr is not a terminal (a pipe, a log file, a test).
pub(super) fn progress(candidates: usize, steps: usize) -> indicatif::ProgressBar {
    if candidates < LARGE {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(steps as u64).with_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} [{elapsed}]")
            .expect("a fixed template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

async fn items(store: &Store, exam: &str, sitting: Option<&str>, out: &Path) -> anyhow::Result<()> {
    let data = load(store, Some(exam), sitting).await?;
    let bar = progress(data.sheets.len(), 2);
    bar.set_message("item analysis");
    let analysis = analytics::analyse(&data.items, &data.sheets);
    bar.inc(1);
    bar.set_message("writing the reports");
    warn_provisional(&data);
    std::fs::create_dir_all(out).map_err(|e| anyhow::anyhow!("create {}: {e}", out.display()))?;
    write(out, "items.csv", &items_csv(&data, &analysis)?)?;
    write(out, "sections.csv", &sections_csv(&analysis)?)?;
    write(out, "items.json", &serde_json::to_string_pretty(&items_json(&data, &analysis, sitting))?)?;
    write(out, "report.html", &html::items(&data, &analysis, sitting))?;
    bar.finish_and_clear();
    let flagged = analysis.items.iter().filter(|r| !r.flags.is_empty()).count();
    println!(
        "exam {}: {} candidates, {} items drawn, {flagged} items flagged",
        data.exam,
        data.sheets.len(),
        analysis.items.len()
    );
    for s in &analysis.sections {
        let rel = s.reliability.map_or_else(String::new, |r| match r {
            Reliability::Kr20(v) => format!(", KR-20 {v:.3}"),
            Reliability::Alpha(v) => format!(", alpha {v:.3}"),
        });
        println!("  {}: {} candidates, mean {:.2}, SD {:.2}{rel}", s.section, s.candidates, s.mean, s.sd);
    }
    println!("wrote items.csv, sections.csv, items.json and report.html to {}", out.display());
    Ok(())
}

fn items_csv(data: &Data, analysis: &Analysis) -> anyhow::Result<String> {
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

fn sections_csv(analysis: &Analysis) -> anyhow::Result<String> {
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

fn items_json(data: &Data, analysis: &Analysis, sitting: Option<&str>) -> Value {
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

async fn integrity(store: &Store, sitting: &str, out: &Path) -> anyhow::Result<()> {
    let Some(s) = store.get_sitting(sitting).await? else {
        return Err(super::analyze_input::not_stored(store, "sitting", sitting).await);
    };
    // Popularity and item medians are counted over the whole exam, so that a small room
    // still has well-estimated shares; only the sitting's pairs are compared.
    let mut data = load(store, Some(&s.exam_code), None).await?;
    data.not_closed.retain(|n| n.split(' ').next() == Some(sitting));
    let room = data.rooms.iter().find(|(id, _)| id == sitting).map(|(_, r)| r.clone()).unwrap_or_default();
    // Steps: item medians, similarity, lockstep and changes, then one per candidate.
    let bar = progress(data.sheets.len(), 3 + room.len());
    bar.set_message("item medians");
    let medians = analytics::analyse(&data.items, &data.sheets).item_medians(data.items.len());
    bar.inc(1);
    bar.set_message("answer similarity");
    let comparison = analytics::Comparison::new(&data.items, &data.sheets, SimilarityOptions::default());
    let found = super::irregular::examine(store, &data, &comparison, &medians, (sitting, room), &bar).await?;
    bar.finish_and_clear();
    warn_provisional(&data);
    std::fs::create_dir_all(out).map_err(|e| anyhow::anyhow!("create {}: {e}", out.display()))?;
    write(out, "pairs.csv", &pairs_csv(&data, &found)?)?;
    write(out, "integrity.csv", &integrity_csv(&data, &found)?)?;
    write(out, "integrity.json", &serde_json::to_string_pretty(&integrity_json(&data, &found, sitting))?)?;
    write(out, "report.html", &html::integrity(&data, &found, sitting))?;
    let flagged_people = found.per_candidate.iter().filter(|&&(c, ..)| !candidate_flags(&found, c).is_empty()).count();
    println!(
        "sitting {sitting}: {} candidates, {} pairs compared, {} similar pairs flagged, {} in lockstep, \
         {flagged_people} candidates with a flag",
        found.room.len(),
        found.similarity.pairs,
        found.similarity.flagged.len(),
        found.lockstep.len()
    );
    println!("flags are evidence for the committee to weigh, not verdicts");
    println!("wrote pairs.csv, integrity.csv, integrity.json and report.html to {}", out.display());
    Ok(())
}

fn pairs_csv(data: &Data, found: &Integrity) -> anyhow::Result<String> {
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

fn integrity_csv(data: &Data, found: &Integrity) -> anyhow::Result<String> {
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

fn integrity_json(data: &Data, found: &Integrity, sitting: &str) -> Value {
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_small_exam_shows_no_progress_bar() {
        assert!(super::progress(super::LARGE - 1, 5).is_hidden());
    }
}
