//! The committee's commands: check banks, exams and selections, convert CSV, import candidates, add
//! staff, verify the audit chain and receipts, analyse items and irregularities.
//! Output is for people: tables on stdout, every problem on stderr, exit 1 on any problem.
//! Every command that changes what an exam day depends on writes an audit entry
//! ([`record`]), with the committee as its actor.

mod analyze;
mod analyze_html;
mod analyze_input;
mod analyze_svg;
mod announcement;
mod bank;
mod candidates;
mod exam;
mod irregular;
mod results;
mod selection;
mod selection_scores;
mod selection_store;
mod server_api;
mod sitting;
mod verify;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use item_bank::BankError;
use store::Store;

pub(crate) use analyze::AnalyzeCommand;
pub(crate) use analyze::analyze;
pub(crate) use bank::{bank_export, bank_import, bank_import_csv, bank_lint, bank_new, bank_samples, bank_validate};
pub(crate) use candidates::candidates_import;
pub(crate) use exam::{exam_check, exam_import};
pub(crate) use irregular::add_irregularities;
pub(crate) use results::{ResultsCommand, results};
pub(crate) use selection::SelectionCommand;
pub(crate) use selection::run as selection;
pub(crate) use selection_store::announcement_verify;
pub(crate) use sitting::{SittingCommand, sitting};
pub(crate) use verify::{audit_verify, receipt_verify};

use crate::actions::LogAction;
use crate::config::Config;
use crate::credentials;
use crate::staff::Role;

/// Who the audit log names for a command-line change: the committee, and the operating
/// system's user who ran it where known.
fn committee_actor() -> String {
    match std::env::var("USER").or_else(|_| std::env::var("USERNAME")) {
        Ok(user) if !user.is_empty() => format!("committee:{user}"),
        _ => "committee".to_owned(),
    }
}

/// Writes the audit entry of a committee command's change, after the change is stored.
pub(crate) async fn record(
    store: &Store,
    action: LogAction,
    subject: &str,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    let at = store::ts(chrono::Utc::now());
    let row = crate::audit::append(store, &at, &committee_actor(), action.as_str(), subject, &detail)
        .await
        .with_context(|| format!("write the audit entry {action} {subject}"))?;
    println!("audit entry {}: {action} {subject}", row.seq);
    Ok(())
}

/// A progress bar on standard error for a step that can take seconds (30,000 candidates'
/// papers take 14): `{msg}` says what is being done. Hidden when standard error is not a
/// terminal, so piped or logged output stays as it was.
pub(crate) fn progress(len: u64, message: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal as _;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let style = indicatif::ProgressStyle::with_template("{msg:<24} {bar:40} {pos}/{len} ({eta} left)")
        .expect("a fixed template")
        .progress_chars("=> ");
    indicatif::ProgressBar::new(len).with_style(style).with_message(message.to_owned())
}

/// Creates (or truncates) a file only its owner can read: PIN slips. A file that existed
/// keeps its inode, so its mode is set again.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        options.mode(0o600);
        let f = options.open(path)?;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(f)
    }
    #[cfg(not(unix))]
    options.open(path)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

/// Prints every diagnostic and a count; returns the failure exit code.
fn report(err: &BankError) -> ExitCode {
    match err {
        BankError::Invalid(diags) => {
            for d in diags.iter() {
                eprintln!("{d}");
            }
            let n = diags.len();
            eprintln!("{n} problem{} found", if n == 1 { "" } else { "s" });
        }
        BankError::Io { .. } => eprintln!("error: {err}"),
    }
    ExitCode::FAILURE
}

pub(crate) async fn staff_add(
    config: &Config,
    username: &str,
    role: &str,
    name: Option<&str>,
    sittings: &[String],
) -> anyhow::Result<ExitCode> {
    let Ok(role) = role.parse::<Role>() else {
        anyhow::bail!("--role must be admin or supervisor, not {role:?}");
    };
    if !crate::staff::is_username(username) {
        anyhow::bail!("a username holds letters, digits, '.', '-' and '_' (at most 64)");
    }
    let store = Store::open(&config.database_url()).await?;
    // Everything is checked before anything is written: a typo in a sitting must not
    // leave the account with a new password nobody was shown.
    let mut unknown = Vec::new();
    for sitting in sittings {
        if store.get_sitting(sitting).await?.is_none() {
            unknown.push(sitting.as_str());
        }
    }
    if !unknown.is_empty() {
        store.close().await;
        anyhow::bail!("sitting {} does not exist; nothing was changed", unknown.join(", "));
    }
    let password = format!("{}{}", credentials::generate_pin(), credentials::generate_pin());
    let account = store::NewSupervisor {
        username: username.to_owned(),
        name: name.unwrap_or(username).to_owned(),
        password_hash: credentials::hash_secret(&password)?,
        role: role.as_str().to_owned(),
    };
    store.put_staff(&account, sittings, chrono::Utc::now()).await?;
    // Never the password: a new one is made each time, so the entry says that it changed.
    let detail = serde_json::json!({ "role": role.as_str(), "name": name.unwrap_or(username), "sittings": sittings });
    record(&store, LogAction::StaffAdded, username, detail).await?;
    println!("{} {username}: password {password}", role.as_str());
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
