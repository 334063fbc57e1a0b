//! `ujian results export`: the ranked results of a sitting or an exam as CSV or JSON.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use crate::config::Config;
use crate::results::{Options, Scope};

#[derive(Debug, Subcommand)]
pub enum ResultsCommand {
    /// Export the results of a sitting or a whole exam as CSV or JSON.
    ///
    /// Every session is rescored from its stored paper and answer log and checked against
    /// its published result. CSV and JSON columns: rank, participant_no, name, sitting,
    /// venue, one per section, total, passed, status, code. Codes: P/L (passed, within
    /// the cut), P (passed, outside the cut), TL (below a threshold), TH (absent), DIS
    /// (disqualified).
    Export {
        /// One sitting…
        #[arg(long, conflicts_with = "exam", required_unless_present = "exam")]
        sitting: Option<String>,
        /// …or every sitting of an exam.
        #[arg(long)]
        exam: Option<String>,
        #[arg(long, value_parser = ["csv", "json"], default_value = "csv")]
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
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub(crate) async fn results(config: &Config, command: ResultsCommand) -> anyhow::Result<ExitCode> {
    let ResultsCommand::Export { sitting, exam, format, openings, multiplier, provisional, out } = command;
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
    store.close().await;
    let export = export?;
    if export.is_provisional() {
        eprintln!(
            "warning: provisional export: sitting {} not closed; every line is marked PROVISIONAL",
            export.provisional.join(", ")
        );
    }
    let bytes = match format.as_str() {
        "json" => serde_json::to_string_pretty(&export)?.into_bytes(),
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
