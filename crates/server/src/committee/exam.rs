//! `ujian exam`: check an exam against its bank, and store it for the server.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use item_bank::{Bank, Exam, ExamSummary, ScoringRule};
use store::Store;

use super::{record, report, sha256_hex};
use crate::actions::LogAction;
use crate::config::Config;

pub(crate) fn exam_check(path: &Path) -> ExitCode {
    match Exam::load(path) {
        Ok((exam, bank, summary)) => {
            print_exam(&exam, &bank, &summary);
            println!("ok: papers of {} items can be drawn from bank {}", exam.total_items(), bank.name());
            if let Some(warning) = exam.board().running.warning(exam.code()) {
                eprintln!("{warning}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => report(&e),
    }
}

fn print_exam(exam: &Exam, bank: &Bank, summary: &ExamSummary) {
    println!("exam {}: {}", exam.code(), exam.title());
    println!("bank {} {} ({} items) sha256 {}", bank.name(), bank.version(), bank.items().len(), bank.hash());
    let acc: Vec<String> = exam.accommodations().iter().map(|(k, v)| format!("{k} {v} min")).collect();
    println!(
        "duration {} min{}; options {}; board names {}",
        exam.duration_minutes(),
        if acc.is_empty() { String::new() } else { format!(" (accommodations: {})", acc.join(", ")) },
        if exam.shuffle_options() { "shuffled" } else { "as written" },
        match exam.board_names() {
            item_bank::BoardNames::Full => "in full",
            item_bank::BoardNames::Masked => "masked",
        }
    );
    println!();
    println!("{:<8} {:>5} {:>5}  {:<18} {:>5} {:>9}", "section", "draw", "bank", "scoring", "max", "threshold");
    for s in &summary.sections {
        let rule = match s.rule {
            ScoringRule::Keyed { correct, wrong, blank } => format!("keyed {correct}/{wrong}/{blank}"),
            ScoringRule::Weighted { blank } => format!("weighted, blank {blank}"),
        };
        println!(
            "{:<8} {:>5} {:>5}  {:<18} {:>5} {:>9}",
            s.code.as_str(),
            s.count,
            s.bank_items,
            rule,
            s.max_points,
            s.threshold
        );
        for (topics, count, available) in &s.quotas {
            let names: Vec<&str> = topics.iter().map(|t| t.as_str()).collect();
            println!("  {:<28} {:>3} of {:>3}", names.join(" | "), count, available);
        }
    }
    let total: i64 = summary.sections.iter().map(|s| s.max_points.0).sum();
    println!("{:<8} {:>5} {:>5}  {:<18} {:>5}", "total", exam.total_items(), bank.items().len(), "", total);
    let tb: Vec<&str> = exam.tie_break().iter().map(|s| s.as_str()).collect();
    println!();
    println!(
        "pass: every section at or above its threshold; ties broken by {}",
        if tb.is_empty() { "(none)".into() } else { tb.join(", then ") }
    );
    let board = exam.board();
    println!(
        "board while running: {}; seat monitor: {}",
        match board.running {
            item_bank::BoardRunning::Progress => "progress only, scores at the finish".to_owned(),
            item_bank::BoardRunning::Interval { minutes } => format!("scores as at every {minutes}-minute mark"),
            item_bank::BoardRunning::Live => "live scores".to_owned(),
        },
        if board.supervisor_running_scores { "running scores" } else { "as the board" }
    );
}

pub(crate) async fn exam_import(config: &Config, path: &Path) -> anyhow::Result<ExitCode> {
    let (exam, bank, _) = match Exam::load(path) {
        Ok(v) => v,
        Err(e) => return Ok(report(&e)),
    };
    let source = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    let store = Store::open(&config.database_url()).await?;
    store.put_exam(&exam, &bank, chrono::Utc::now()).await?;
    println!("stored exam {} with bank {} {} (sha256 {})", exam.code(), bank.name(), bank.version(), bank.hash());
    let detail = serde_json::json!({
        "exam_file_sha256": sha256_hex(&source),
        "bank": bank.name(),
        "bank_version": bank.version(),
        "bank_sha256": bank.hash().to_string(),
    });
    record(&store, LogAction::ExamImported, exam.code(), detail).await?;
    if let Some(warning) = exam.board().running.warning(exam.code()) {
        eprintln!("{warning}");
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
