//! The integrity checks of one sitting, shared by `ujian analyze integrity` (which writes
//! the reports) and the results export (which gives each candidate's flags a column, so the
//! committee decides on DIS with the evidence in hand).

use std::collections::HashMap;

use analytics::Comparison;
use store::Store;

use super::analyze_input::{Data, Integrity, candidate_flags, judge_sessions, load};
use crate::results::Export;

/// The chance, for a room of honest candidates, that any candidate's wrong-to-right count,
/// or count of one kind of session event, is flagged. Lower than the similarity's α: a count
/// is a weaker kind of evidence than a pair's shared wrong answers, so it must be the more
/// improbable to be shown.
pub(super) const COUNTS_ALPHA: f64 = 0.001;

/// Runs every check on the sheets of `room` (indexes into `data`, which holds the whole
/// exam so that popularity and medians are well estimated), the sitting's stored client
/// events and logins included. `bar` moves by 2 plus one per candidate.
pub(super) async fn examine(
    store: &Store,
    data: &Data,
    comparison: &Comparison<'_>,
    medians: &[Option<f64>],
    (sitting, room): (&str, Vec<usize>),
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<Integrity> {
    let similarity = comparison.room(&room);
    bar.inc(1);
    bar.set_message("lockstep and changes");
    let lockstep = analytics::lockstep(&data.items, &data.sheets, &room);
    let wrong_to_right = analytics::wrong_to_right(&data.items, &data.sheets, &room, COUNTS_ALPHA);
    bar.inc(1);
    bar.set_message("timing, per candidate");
    let per_candidate = room
        .iter()
        .map(|&c| {
            let sheet = &data.sheets[c];
            bar.inc(1);
            (
                c,
                analytics::fast_answers(&data.items, sheet, medians),
                analytics::idle_bursts(&data.items, sheet),
                analytics::cycling(sheet),
            )
        })
        .collect();
    let mut found = Integrity {
        similarity,
        lockstep,
        wrong_to_right,
        per_candidate,
        events: HashMap::new(),
        session_counts: HashMap::new(),
        unusual: Vec::new(),
        room,
    };
    let sheet_of: HashMap<&str, usize> = found.room.iter().map(|&c| (data.who[c].1.as_str(), c)).collect();
    for &c in &found.room {
        found.events.entry(c).or_default();
    }
    for (session, kind, n) in store.event_counts_of(sitting).await? {
        if let Some(&c) = sheet_of.get(session.as_str()) {
            found.events.entry(c).or_default().insert(kind, usize::try_from(n).unwrap_or(0));
        }
    }
    let mut logins = HashMap::new();
    for counts in store.login_counts_of(sitting).await? {
        if let Some(&c) = sheet_of.get(counts.session_id.as_str()) {
            logins.insert(c, counts);
        }
    }
    judge_sessions(&mut found, &logins, COUNTS_ALPHA);
    Ok(found)
}

/// Fills each line's `irregularities` with the candidate's flags as short codes, from the
/// integrity checks of every sitting in the export (the exam's whole answer logs loaded
/// once). A line whose session never started has none. The results matter more than the
/// column: if the checks cannot run, the export goes out without it, with a warning.
pub(crate) async fn add_irregularities(store: &Store, mut export: Export) -> Export {
    match codes(store, &export).await {
        Ok(codes) => {
            for line in &mut export.lines {
                if let Some(code) = codes.get(&(line.sitting.clone(), line.participant_no.clone())) {
                    line.irregularities.clone_from(code);
                }
            }
        }
        Err(e) => eprintln!("warning: the irregularities column is empty: the integrity checks failed: {e:#}"),
    }
    export
}

/// Each exported candidate's short codes, by (sitting, participant number).
async fn codes(store: &Store, export: &Export) -> anyhow::Result<HashMap<(String, String), String>> {
    let mut sittings: Vec<&str> = export.lines.iter().map(|l| l.sitting.as_str()).collect();
    sittings.sort_unstable();
    sittings.dedup();
    let mut codes = HashMap::new();
    if sittings.is_empty() {
        return Ok(codes);
    }
    let data = load(store, Some(&export.exam), None).await?;
    let bar = super::analyze::progress(data.sheets.len(), 1 + sittings.len() * 2 + data.sheets.len());
    bar.set_message("irregularities: item medians");
    let medians = analytics::analyse(&data.items, &data.sheets).item_medians(data.items.len());
    bar.inc(1);
    let comparison = Comparison::new(&data.items, &data.sheets, analytics::SimilarityOptions::default());
    for sitting in sittings {
        let Some((_, room)) = data.rooms.iter().find(|(id, _)| id == sitting) else { continue };
        bar.set_message(format!("irregularities: sitting {sitting}"));
        let found = examine(store, &data, &comparison, &medians, (sitting, room.clone()), &bar).await?;
        for &c in &found.room {
            codes.insert((sitting.to_owned(), data.sheets[c].candidate.clone()), short_codes(&data, &found, c));
        }
    }
    bar.finish_and_clear();
    Ok(codes)
}

/// Sheet `c`'s flags as the export's short codes, `;` between them: `SIM:P-0012` and
/// `LOCKSTEP:P-0012` name the other candidate of a pair; `FAST:n`, `IDLE:n`, `W2R`,
/// `CYCLE:n`, `FOCUS:n`, `COPY:n`, `RELOGIN:n`, `MOVE:n`, `RECONNECT:n` and `TAKEOVER:n`
/// are the report's flags
/// (docs/analytics.md).
fn short_codes(data: &Data, found: &Integrity, c: usize) -> String {
    let other = |a: usize, b: usize| data.sheets[if a == c { b } else { a }].candidate.as_str();
    let mut codes: Vec<String> = Vec::new();
    for p in found.similarity.flagged.iter().filter(|p| p.a == c || p.b == c) {
        codes.push(format!("SIM:{}", other(p.a, p.b)));
    }
    for l in found.lockstep.iter().filter(|l| l.a == c || l.b == c) {
        codes.push(format!("LOCKSTEP:{}", other(l.a, l.b)));
    }
    // The remaining flags, as the report words them (`fast_answers:3`), renamed.
    for flag in candidate_flags(found, c) {
        let (word, count) = flag.split_once(':').unwrap_or((flag.as_str(), ""));
        let code = match word {
            "fast_answers" => "FAST",
            "idle_bursts" => "IDLE",
            "wrong_to_right" => "W2R",
            "cycling" => "CYCLE",
            "focus_losses" => "FOCUS",
            "copy_paste" => "COPY",
            "relogins" => "RELOGIN",
            "pc_moves" => "MOVE",
            "reconnects" => "RECONNECT",
            "takeovers" => "TAKEOVER",
            // Pairs are named above.
            _ => continue,
        };
        codes.push(if count.is_empty() { code.to_owned() } else { format!("{code}:{count}") });
    }
    codes.join(";")
}
