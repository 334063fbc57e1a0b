//! `ujian results export`: the ranked results of a sitting or an exam as CSV or JSON for
//! the committee's own work, or as the list a committee publishes (XLSX, PDF: see
//! `announcement`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::announcement::{self, Heading};
use crate::config::Config;
use crate::results::{Options, Scope};

#[derive(Debug, Subcommand)]
pub enum ResultsCommand {
    /// Export the results of a sitting or a whole exam as CSV, JSON, XLSX or PDF.
    ///
    /// Every session is rescored from its stored paper and answer log and checked against
    /// its published result. CSV and JSON columns: rank, participant_no, name, sitting,
    /// venue, one per section, total, passed, status, code. Codes: P/L (passed, within
    /// the cut), P (passed, outside the cut), TL (below a threshold), TH (absent), DIS
    /// (disqualified). XLSX and PDF are the list a committee publishes: a title, the
    /// sitting, the date, then formation, rank, participant number, name, section scores,
    /// total and code, marked provisional on every page with --provisional.
    Export {
        /// One sitting…
        #[arg(long, conflicts_with = "exam", required_unless_present = "exam")]
        sitting: Option<String>,
        /// …or every sitting of an exam.
        #[arg(long)]
        exam: Option<String>,
        #[arg(long, value_parser = ["csv", "json", "xlsx", "pdf"], default_value = "csv")]
        format: String,
        /// Openings for the position: the best `multiplier × openings` who passed (and all
        /// tied with the last of them) are P/L. Without it everyone who passed is P.
        #[arg(long)]
        openings: Option<u32>,
        #[arg(long, default_value_t = 3)]
        multiplier: u32,
        /// Export sittings that are not closed yet (candidates may still be working, or
        /// never have started), with every line marked provisional. Without it such an
        /// export is refused.
        #[arg(long)]
        provisional: bool,
        /// The position the list is for (its "formation"), printed on the XLSX and PDF
        /// list; default: the exam's name.
        #[arg(long)]
        formation: Option<String>,
        /// Write here instead of standard output (required for XLSX and PDF).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub(crate) async fn results(config: &Config, command: ResultsCommand) -> anyhow::Result<ExitCode> {
    let ResultsCommand::Export { sitting, exam, format, openings, multiplier, provisional, formation, out } = command;
    if matches!(format.as_str(), "xlsx" | "pdf") && out.is_none() {
        anyhow::bail!("--format {format} writes a file: give --out, e.g. --out hasil.{format}");
    }
    let store = store::Store::open(&config.database_url()).await?;
    let scope = match (&sitting, &exam) {
        (Some(s), _) => Scope::Sitting(s),
        (None, Some(e)) => Scope::Exam(e),
        (None, None) => anyhow::bail!("give --sitting or --exam"),
    };
    let options = Options { openings, multiplier, provisional };
    let bar = super::progress(0, "rescoring");
    let export = crate::results::export_shown(&store, scope, options, &bar).await;
    bar.finish_and_clear();
    // The irregularity checks show their own bar on a large exam.
    let export = match export {
        Ok(export) => Ok(super::add_irregularities(&store, export).await),
        refused => refused,
    };
    let export = match export {
        Ok(export) => export,
        Err(e) => {
            store.close().await;
            return Err(e);
        }
    };
    let heading = match format.as_str() {
        "xlsx" | "pdf" => Some(heading(&store, &export, sitting.as_deref(), formation).await),
        _ => None,
    };
    store.close().await;
    let heading = heading.transpose()?;
    if export.is_provisional() {
        eprintln!(
            "warning: provisional export: sitting {} not closed; every line is marked PROVISIONAL",
            export.provisional.join(", ")
        );
    }
    let bytes = match (format.as_str(), &heading) {
        ("json", _) => serde_json::to_string_pretty(&export)?.into_bytes(),
        ("xlsx", Some(heading)) => announcement::xlsx(&export, heading)?,
        ("pdf", Some(heading)) => announcement::pdf(&export, heading),
        _ => crate::results::to_csv(&export)?.into_bytes(),
    };
    let mismatches = export.lines.iter().filter(|l| l.mismatch.is_some()).count();
    match out {
        Some(path) => {
            std::fs::write(&path, bytes)?;
            eprintln!("wrote {} results to {}", export.lines.len(), path.display());
        }
        None => {
            use std::io::Write as _;
            std::io::stdout().write_all(&bytes)?;
        }
    }
    if mismatches > 0 {
        eprintln!(
            "error: {mismatches} stored results differ from their rescore (see the mismatch field in --format json)"
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// The published list's heading: the exam's title, the sitting (or how many of the
/// exam's), their dates, the formation (default: the exam's title).
async fn heading(
    store: &store::Store,
    export: &crate::results::Export,
    sitting: Option<&str>,
    formation: Option<String>,
) -> anyhow::Result<Heading> {
    let exam =
        store.get_exam(&export.exam).await?.ok_or_else(|| anyhow::anyhow!("exam {} is not stored", export.exam))?;
    let title = exam.exam.title().to_owned();
    let mut ids: Vec<&str> = export.lines.iter().map(|l| l.sitting.as_str()).collect();
    ids.extend(sitting);
    ids.sort_unstable();
    ids.dedup();
    let mut dates = Vec::new();
    let mut venues = Vec::new();
    for id in &ids {
        if let Some(s) = store.get_sitting(id).await? {
            // Stored in UTC; the committee's clock is the venue's (a 07:00 WIB start is
            // the day before in UTC).
            let at = chrono::DateTime::parse_from_rfc3339(&s.starts_at)
                .map_err(|e| anyhow::anyhow!("sitting {id}: start {:?}: {e}", s.starts_at))?;
            dates.push(at.with_timezone(&chrono::Local).date_naive());
            venues.push(s.venue);
        }
    }
    dates.sort_unstable();
    dates.dedup();
    let scope = match sitting {
        Some(id) => format!("Sesi {id}, {}", venues.first().map_or("", String::as_str)),
        None => format!("Ujian {}, {} sesi", export.exam, ids.len()),
    };
    let date = match (dates.first(), dates.last()) {
        (Some(first), Some(last)) if first != last => format!("{} s.d. {}", tanggal(*first), tanggal(*last)),
        (Some(first), _) => tanggal(*first),
        _ => "-".to_owned(),
    };
    Ok(Heading {
        title: format!("PENGUMUMAN HASIL {}", title.to_uppercase()),
        scope,
        date,
        formation: formation.unwrap_or(title),
    })
}

/// A date as an Indonesian announcement writes it: "24 November 2026".
fn tanggal(date: chrono::NaiveDate) -> String {
    use chrono::Datelike as _;
    const MONTHS: [&str; 12] = [
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ];
    format!("{} {} {}", date.day(), MONTHS[date.month0() as usize], date.year())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_date_is_written_as_an_announcement_writes_it() {
        let date = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).expect("a date");
        assert_eq!(super::tanggal(date(2026, 11, 24)), "24 November 2026");
        assert_eq!(super::tanggal(date(2027, 1, 5)), "5 Januari 2027");
    }
}
