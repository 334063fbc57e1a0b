//! `ujian analyze`: the committee's reports on how the items worked and on the
//! irregularities in a sitting's logs ([`crate::reports`] builds them), written to a folder.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use store::Store;

use crate::config::Config;
use crate::reports::{Input, compute};

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
    let input = match &command {
        AnalyzeCommand::Items { exam, sitting, .. } => Input::items(&store, exam, sitting.as_deref()).await,
        AnalyzeCommand::Integrity { sitting, .. } => Input::integrity(&store, sitting).await,
    };
    store.close().await;
    let (AnalyzeCommand::Items { out, .. } | AnalyzeCommand::Integrity { out, .. }) = command;
    let input = input?;
    let bar = input.progress();
    let report = compute(input, &bar)?;
    bar.finish_and_clear();
    if !report.not_closed.is_empty() {
        eprintln!("warning: sitting {} not closed: these figures may still change", report.not_closed.join(", "));
    }
    std::fs::create_dir_all(&out).map_err(|e| anyhow::anyhow!("create {}: {e}", out.display()))?;
    for (name, text) in &report.files {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| anyhow::anyhow!("write {}: {e}", path.display()))?;
    }
    for line in &report.summary {
        println!("{line}");
    }
    let names: Vec<&str> = report.files.iter().map(|(n, _)| *n).collect();
    let (last, rest) = names.split_last().expect("every report has files");
    println!("wrote {} and {last} to {}", rest.join(", "), Path::new(&out).display());
    Ok(ExitCode::SUCCESS)
}
