//! `ujian selection`: check a selection's definition and its applicant list (read-only),
//! import them, announce a stage (`selection_store`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use item_bank::Diagnostics;
use selection::{Applicants, ComponentRule, Selection};

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum SelectionCommand {
    /// Check a selection file and, with --applicants, its applicant list (CSV or XLSX);
    /// print every mistake with file and line (exit 1), or a summary per formation.
    /// Nothing is stored.
    Check {
        /// The selection file, e.g. question-banks/selections/sawahlunto-2026/selection.toml.
        selection: PathBuf,
        /// The applicant list: columns nomor_peserta, nama, formasi, jalur,
        /// nilai_pendidikan, tanggal_lahir.
        #[arg(long)]
        applicants: Option<PathBuf>,
    },
    /// Store a selection and its applicants under an id, after checking both as `check`
    /// does: every mistake at once and nothing written, or both in one transaction,
    /// audited. Importing again under the same id replaces the applicants; announcements
    /// already made stay as they were.
    Import {
        selection: PathBuf,
        /// The id the selection is known by in commands and public addresses
        /// (letters, digits, '-', '_'), e.g. SWL-2026.
        #[arg(long)]
        id: String,
        /// The applicant list (CSV or XLSX), as for `check`.
        #[arg(long)]
        applicants: PathBuf,
    },
    /// Compute a stage of a stored selection from the stored results, sign it with the
    /// server's key and store it as an immutable announcement; write it as JSON (signed)
    /// and CSV. Refused while a sitting of the stage's exam is not closed. A stage
    /// announced before is corrected by a new announcement that supersedes the last one
    /// and lists the lines that changed; it needs --reason.
    Announce {
        /// The selection's id, as imported.
        selection: String,
        #[arg(long, value_parser = ["skd"])]
        stage: String,
        /// Why a correction is made (required when the stage was announced before).
        #[arg(long)]
        reason: Option<String>,
        /// Where to write NO.json and NO.csv (default: the current directory).
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Assessors' scores for an SKB component.
    #[command(subcommand)]
    Scores(ScoresCommand),
}

#[derive(Debug, Subcommand)]
pub enum ScoresCommand {
    /// Import assessors' scores for an assessed SKB component from CSV: columns
    /// nomor_peserta, penilai (the assessor's name) and one per rubric criterion (its id).
    /// Every mistake is listed with its line and nothing is stored (an applicant not P/L
    /// in the SKD announcement, a score outside the criterion's range, an assessor who
    /// already scored); otherwise all are stored in one transaction, each with an audit
    /// entry naming the assessor. A score is never replaced.
    Import {
        /// The selection's id, as imported.
        selection: String,
        /// The component's id in selection.toml, e.g. wawancara.
        #[arg(long)]
        component: String,
        file: PathBuf,
    },
}

pub(crate) async fn run(config: &Config, command: &SelectionCommand) -> anyhow::Result<ExitCode> {
    match command {
        SelectionCommand::Check { selection, applicants } => check(selection, applicants.as_deref()),
        SelectionCommand::Import { selection, id, applicants } => {
            super::selection_store::import(config, selection, id, applicants).await
        }
        SelectionCommand::Announce { selection, stage, reason, out } => {
            super::selection_store::announce(config, selection, stage, reason.as_deref(), out).await
        }
        SelectionCommand::Scores(ScoresCommand::Import { selection, component, file }) => {
            super::selection_scores::import(config, selection, component, file).await
        }
    }
}

fn check(path: &Path, applicants: Option<&Path>) -> anyhow::Result<ExitCode> {
    match read(path, applicants)? {
        Ok((selection, list)) => {
            summary(&selection, list.as_ref());
            Ok(ExitCode::SUCCESS)
        }
        Err(d) => Ok(problems(&d)),
    }
}

/// The selection file and, if given, its applicant list, parsed; or every mistake.
pub(super) fn read(
    path: &Path,
    applicants: Option<&Path>,
) -> anyhow::Result<Result<(Selection, Option<Applicants>), Diagnostics>> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("read {}: {e}", path.display()))?;
    let selection = match Selection::parse(&path.display().to_string(), &text) {
        Ok(s) => s,
        Err(d) => return Ok(Err(d)),
    };
    let Some(p) = applicants else { return Ok(Ok((selection, None))) };
    let bytes = std::fs::read(p).map_err(|e| anyhow::anyhow!("read {}: {e}", p.display()))?;
    let name = p.display().to_string();
    let is_xlsx = p.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    let parsed = if is_xlsx {
        Applicants::parse_xlsx(&name, &bytes, &selection)
    } else {
        Applicants::parse_csv(&name, &bytes, &selection)
    };
    Ok(parsed.map(|list| (selection, Some(list))))
}

pub(super) fn problems(diags: &Diagnostics) -> ExitCode {
    for d in diags.iter() {
        eprintln!("{d}");
    }
    let n = diags.len();
    eprintln!("{n} problem{} found", if n == 1 { "" } else { "s" });
    ExitCode::FAILURE
}

fn summary(s: &Selection, applicants: Option<&Applicants>) {
    println!("selection {}", s.name());
    println!(
        "SKD: exam {}, {} x openings go on, shortfall {}",
        s.skd().exam,
        s.skd().multiplier,
        s.skd().shortfall.as_str()
    );
    println!();
    println!("{:<16} {:<20} {:>8} {:>10}  position / unit", "formation", "track", "openings", "applicants");
    for f in s.formations() {
        for (i, t) in f.tracks().iter().enumerate() {
            let count = applicants.map_or("-".to_owned(), |a| a.of(f.code(), t.track).count().to_string());
            let what = match i {
                0 => format!("{} / {}", f.position(), f.unit()),
                _ => String::new(),
            };
            let code = if i == 0 { f.code().as_str() } else { "" };
            let line = format!("{code:<16} {:<20} {:>8} {count:>10}  {what}", t.track.indonesian(), t.openings);
            println!("{}", line.trim_end());
        }
    }
    println!();
    println!("SKB components:");
    for c in s.skb() {
        let how = match c.rule() {
            ComponentRule::Cat { weight, raw_max } => format!("{weight}%, CAT out of {raw_max}"),
            ComponentRule::Assessed { weight, rubric } => format!(
                "{weight}%, two assessors, {} criteria out of {}, tolerance {}",
                rubric.criteria().len(),
                rubric.max(),
                rubric.tolerance()
            ),
            ComponentRule::PassFail => "pass/fail".to_owned(),
        };
        println!("  {:<14} {:<28} {how}", c.id().as_str(), c.name());
    }
    println!("final: SKD {}% + SKB {}%", s.weights().skd(), s.weights().skb());
    let openings: u32 = s.formations().iter().map(|f| f.openings()).sum();
    match applicants {
        Some(a) => println!("ok: {} formations, {openings} openings, {} applicants", s.formations().len(), a.len()),
        None => println!("ok: {} formations, {openings} openings", s.formations().len()),
    }
}
