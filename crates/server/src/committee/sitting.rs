//! `ujian sitting …`: prepare a sitting (through the database, before the day), and open,
//! pause, resume, close and read it on the day (through the running server: see
//! `server_api`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::server_api::{ServerLogin, Session};
use crate::actions::LogAction;
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum SittingCommand {
    /// Create a sitting of a stored exam for a list of registered candidates, drawing and
    /// storing every candidate's paper now. Prints the sitting token. Running it again for
    /// the same id changes nothing.
    Prepare {
        /// The sitting's id, e.g. SESI-2026-11-24-1.
        #[arg(long)]
        id: String,
        /// The exam's code (as stored by `ujian exam import`).
        #[arg(long)]
        exam: String,
        /// Where it is held.
        #[arg(long)]
        venue: String,
        /// When it starts, RFC 3339 (2026-11-24T08:00:00+07:00).
        #[arg(long)]
        starts_at: String,
        /// A file whose first column holds participant numbers (a header row is skipped).
        #[arg(long)]
        candidates: PathBuf,
    },
    /// Open a sitting for logins (prints the token to reveal in the room). Through the
    /// running server, as the console's "open": see `ujian sitting status --help`.
    Open {
        #[command(flatten)]
        act: Act,
        /// Make a new token first: the old one stops working for new logins.
        #[arg(long)]
        rotate_token: bool,
    },
    /// Pause every running candidate of an open (or paused) sitting, a power cut: clocks
    /// stand still.
    Pause {
        #[command(flatten)]
        act: Act,
    },
    /// Resume a paused (or open) sitting: every paused candidate's clock runs again.
    Resume {
        #[command(flatten)]
        act: Act,
    },
    /// Close a sitting: candidates who have not started can no longer start; those still
    /// working finish their time. Results are final once every candidate has finished.
    Close {
        #[command(flatten)]
        act: Act,
    },
    /// Print a sitting's status, token and how many candidates are in each state.
    ///
    /// The day's commands (open, pause, resume, close, status) act through the running
    /// server's API with a staff login, as the console does: the server holds the room in
    /// memory, audits each action under the login's name with its --reason, and refuses a
    /// step the sitting's state does not allow (pausing or resuming a sitting that is
    /// not open or paused, opening one that is, closing one twice). The server is found at
    /// --server (default: UJIAN_LISTEN, else 127.0.0.1:8080); the password comes from
    /// UJIAN_PASSWORD or is asked for on the terminal.
    Status {
        /// The sitting's id.
        sitting: String,
        #[command(flatten)]
        login: ServerLogin,
    },
}

/// A step on a sitting: which one, why, and who takes it where.
#[derive(Debug, Args)]
pub struct Act {
    /// The sitting's id.
    sitting: String,
    /// Why, for the audit log (at least 3 characters).
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    login: ServerLogin,
}

pub(crate) async fn sitting(config: &Config, command: SittingCommand) -> anyhow::Result<ExitCode> {
    match command {
        SittingCommand::Prepare { id, exam, venue, starts_at, candidates } => {
            prepare(config, id, exam, venue, &starts_at, &candidates).await
        }
        SittingCommand::Open { act, rotate_token } => step(&act, "open", json!({ "rotate_token": rotate_token })).await,
        SittingCommand::Pause { act } => step(&act, "pause", json!({})).await,
        SittingCommand::Resume { act } => step(&act, "resume", json!({})).await,
        SittingCommand::Close { act } => step(&act, "close", json!({})).await,
        SittingCommand::Status { sitting, login } => {
            let session = Session::login(&login).await?;
            let detail = session.get(&format!("/api/v1/sittings/{}", path_segment(&sitting))).await;
            session.logout().await;
            print!("{}", status_text(&detail?));
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn step(act: &Act, action: &str, mut body: Value) -> anyhow::Result<ExitCode> {
    body["reason"] = json!(act.reason);
    let session = Session::login(&act.login).await?;
    let path = format!("/api/v1/sittings/{}/{action}", path_segment(&act.sitting));
    let done = session.post(&path, &body).await;
    session.logout().await;
    let done = done?;
    let status = done["status"].as_str().unwrap_or("?");
    let mut line = format!("sitting {}: {status}", act.sitting);
    match action {
        "open" => line.push_str(&format!("; token {} (reveal it in the room)", done["token"].as_str().unwrap_or("?"))),
        "pause" => line.push_str(&format!("; {} running candidates paused", done["sessions"])),
        "resume" => line.push_str(&format!("; {} paused candidates resumed", done["sessions"])),
        "close" => line.push_str(&format!(
            "; {} logins of candidates who had not started ended, {} candidates still working",
            done["logins_ended"], done["working"]
        )),
        _ => {}
    }
    println!("{line} (audited)");
    Ok(ExitCode::SUCCESS)
}

/// A sitting id inside a URL path: ids are the committee's text, so anything but
/// unreserved characters is percent-encoded.
fn path_segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `status`'s text from the console's view of a sitting.
fn status_text(detail: &Value) -> String {
    let seats = detail["seats"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut by_status: BTreeMap<&str, usize> = BTreeMap::new();
    for seat in seats {
        *by_status.entry(seat["status"].as_str().unwrap_or("?")).or_default() += 1;
    }
    let count = |key: &str| seats.iter().filter(|s| s[key].as_bool() == Some(true)).count();
    let states: Vec<String> = by_status.iter().map(|(s, n)| format!("{n} {s}")).collect();
    format!(
        "sitting {} ({}, {}): {}\ntoken {}\ncandidates {}: {}\nchecked in {}, connected {}\n",
        detail["id"].as_str().unwrap_or("?"),
        detail["exam"].as_str().unwrap_or("?"),
        detail["venue"].as_str().unwrap_or("?"),
        detail["status"].as_str().unwrap_or("?"),
        detail["token"].as_str().unwrap_or("?"),
        seats.len(),
        if states.is_empty() { "none".to_owned() } else { states.join(", ") },
        count("checked_in"),
        count("connected"),
    )
}

async fn prepare(
    config: &Config,
    id: String,
    exam: String,
    venue: String,
    starts_at: &str,
    candidates: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let starts_at = chrono::DateTime::parse_from_rfc3339(starts_at)
        .map_err(|e| anyhow::anyhow!("--starts-at {starts_at:?}: {e} (use e.g. 2026-11-24T08:00:00+07:00)"))?
        .to_utc();
    let text = std::fs::read_to_string(candidates)?;
    let numbers: Vec<String> = text
        .lines()
        .filter_map(|l| l.split(',').next().map(str::trim))
        .filter(|n| !n.is_empty() && *n != "participant_no")
        .map(str::to_owned)
        .collect();
    let store = store::Store::open(&config.database_url()).await?;
    let existed = store.get_sitting(&id).await?.is_some();
    let spec = crate::sitting::SittingSpec { id, exam_code: exam, venue, starts_at, candidates: numbers };
    let bar = super::progress(spec.candidates.len() as u64, "drawing papers");
    let sitting = crate::sitting::prepare_shown(&store, &spec, chrono::Utc::now(), &bar).await;
    bar.finish_and_clear();
    let sitting = sitting?;
    if !existed {
        let detail = json!({
            "exam": sitting.exam_code, "venue": sitting.venue, "starts_at": store::ts(spec.starts_at),
            "candidates": spec.candidates,
        });
        super::record(&store, LogAction::SittingPrepared, &sitting.id, detail).await?;
    }
    let count = store.seats(&sitting.id).await?.len();
    println!(
        "sitting {} ({}, {}): {count} candidates, papers drawn; status {}",
        sitting.id, sitting.exam_code, sitting.venue, sitting.status
    );
    println!("token {} (reveal it in the room when opening the sitting)", sitting.token);
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
