//! The committee's reports on how the items worked and on the irregularities in a
//! sitting's logs, from the stored papers and answer logs through the `analytics` crate:
//! CSV and JSON for further work and a self-contained HTML page for reading
//! (docs/analytics.md says what every figure means). `ujian analyze` writes them to a
//! folder; the console serves them to staff.
//!
//! Each report is built in two steps: an async read of what it needs from the store, then
//! a pure computation that takes seconds on a large exam and so runs, in the server, on a
//! blocking thread ([`build`]), one at a time.

mod files;
mod html;
mod input;
mod irregular;
mod svg;

use analytics::{Reliability, SimilarityOptions};
use store::Store;

pub(crate) use irregular::add_irregularities;

use self::input::{Data, candidate_flags, load};
use self::irregular::RoomLogs;

/// A report's files by name (`report.html`, `items.csv`, …) and what it says in a few
/// lines, for the command line.
pub(crate) struct Report {
    pub(crate) files: Vec<(&'static str, String)>,
    pub(crate) summary: Vec<String>,
    /// Sittings in scope that are not closed: the figures may still change.
    pub(crate) not_closed: Vec<String>,
}

impl Report {
    /// The file `name`, if the report has one.
    pub(crate) fn file(&self, name: &str) -> Option<&str> {
        self.files.iter().find(|(n, _)| *n == name).map(|(_, text)| text.as_str())
    }
}

/// What a report reads from the store, ready to compute without it.
pub(crate) struct Input(Kind);

enum Kind {
    Items { data: Data, sitting: Option<String> },
    Integrity { data: Data, sitting: String, room: Vec<usize>, logs: RoomLogs },
}

impl Input {
    /// The item analysis of `exam` (all its sittings) or of one sitting. Refuses an unknown
    /// exam or sitting, or a sitting of another exam, naming those stored.
    pub(crate) async fn items(store: &Store, exam: &str, sitting: Option<&str>) -> anyhow::Result<Input> {
        let data = load(store, Some(exam), sitting).await?;
        Ok(Input(Kind::Items { data, sitting: sitting.map(str::to_owned) }))
    }

    /// The integrity checks of one sitting. Popularity and item medians are counted over
    /// the whole exam, so that a small room still has well-estimated shares; only the
    /// sitting's pairs are compared.
    pub(crate) async fn integrity(store: &Store, sitting: &str) -> anyhow::Result<Input> {
        let Some(s) = store.get_sitting(sitting).await? else {
            return Err(input::not_stored(store, "sitting", sitting).await);
        };
        let mut data = load(store, Some(&s.exam_code), None).await?;
        data.not_closed.retain(|n| n.split(' ').next() == Some(sitting));
        let room = data.rooms.iter().find(|(id, _)| id == sitting).map(|(_, r)| r.clone()).unwrap_or_default();
        let logs = RoomLogs::of(store, sitting).await?;
        Ok(Input(Kind::Integrity { data, sitting: sitting.to_owned(), room, logs }))
    }

    /// The progress bar of this report's computation (see [`progress`]).
    pub(crate) fn progress(&self) -> indicatif::ProgressBar {
        match &self.0 {
            Kind::Items { data, .. } => progress(data.sheets.len(), 2),
            // Item medians, similarity, lockstep and changes, then one per candidate.
            Kind::Integrity { data, room, .. } => progress(data.sheets.len(), 3 + room.len()),
        }
    }
}

/// Computes the report: pure, seconds for a large exam. `bar` shows its steps.
pub(crate) fn compute(input: Input, bar: &indicatif::ProgressBar) -> anyhow::Result<Report> {
    match input.0 {
        Kind::Items { data, sitting } => items(&data, sitting.as_deref(), bar),
        Kind::Integrity { data, sitting, room, logs } => integrity(&data, &sitting, room, &logs, bar),
    }
}

/// Reads and computes a report in the server: the computation on a blocking thread, so the
/// runtime's workers keep serving answers.
pub(crate) async fn build(input: Input) -> anyhow::Result<Report> {
    tokio::task::spawn_blocking(move || compute(input, &indicatif::ProgressBar::hidden()))
        .await
        .map_err(|e| anyhow::anyhow!("the report's computation stopped: {e}"))?
}

fn items(data: &Data, sitting: Option<&str>, bar: &indicatif::ProgressBar) -> anyhow::Result<Report> {
    bar.set_message("item analysis");
    let analysis = analytics::analyse(&data.items, &data.sheets);
    bar.inc(1);
    bar.set_message("writing the reports");
    let files = vec![
        ("items.csv", files::items_csv(data, &analysis)?),
        ("sections.csv", files::sections_csv(&analysis)?),
        ("items.json", serde_json::to_string_pretty(&files::items_json(data, &analysis, sitting))?),
        ("report.html", html::items(data, &analysis, sitting)),
    ];
    let flagged = analysis.items.iter().filter(|r| !r.flags.is_empty()).count();
    let mut summary = vec![format!(
        "exam {}: {} candidates, {} items drawn, {flagged} items flagged",
        data.exam,
        data.sheets.len(),
        analysis.items.len()
    )];
    for s in &analysis.sections {
        let rel = s.reliability.map_or_else(String::new, |r| match r {
            Reliability::Kr20(v) => format!(", KR-20 {v:.3}"),
            Reliability::Alpha(v) => format!(", alpha {v:.3}"),
        });
        summary.push(format!("  {}: {} candidates, mean {:.2}, SD {:.2}{rel}", s.section, s.candidates, s.mean, s.sd));
    }
    Ok(Report { files, summary, not_closed: data.not_closed.clone() })
}

fn integrity(
    data: &Data,
    sitting: &str,
    room: Vec<usize>,
    logs: &RoomLogs,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<Report> {
    bar.set_message("item medians");
    let medians = analytics::analyse(&data.items, &data.sheets).item_medians(data.items.len());
    bar.inc(1);
    bar.set_message("answer similarity");
    let comparison = analytics::Comparison::new(&data.items, &data.sheets, SimilarityOptions::default());
    let found = irregular::examine(data, &comparison, &medians, room, logs, bar);
    let files = vec![
        ("pairs.csv", files::pairs_csv(data, &found)?),
        ("integrity.csv", files::integrity_csv(data, &found)?),
        ("integrity.json", serde_json::to_string_pretty(&files::integrity_json(data, &found, sitting))?),
        ("report.html", html::integrity(data, &found, sitting)),
    ];
    let flagged_people = found.per_candidate.iter().filter(|&&(c, ..)| !candidate_flags(&found, c).is_empty()).count();
    let summary = vec![
        format!(
            "sitting {sitting}: {} candidates, {} pairs compared, {} similar pairs flagged, {} in lockstep, \
             {flagged_people} candidates with a flag",
            found.room.len(),
            found.similarity.pairs,
            found.similarity.flagged.len(),
            found.lockstep.len()
        ),
        "flags are evidence for the committee to weigh, not verdicts".to_owned(),
    ];
    Ok(Report { files, summary, not_closed: data.not_closed.clone() })
}

/// From this many candidates an analysis takes long enough to show a progress bar.
pub(crate) const LARGE: usize = 2_000;

/// The bar of an analysis of `candidates` in `steps`, on stderr. Hidden for a small exam,
/// and by indicatif itself when stderr is not a terminal (a pipe, a log file, a test).
pub(crate) fn progress(candidates: usize, steps: usize) -> indicatif::ProgressBar {
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_small_exam_shows_no_progress_bar() {
        assert!(super::progress(super::LARGE - 1, 5).is_hidden());
    }
}
