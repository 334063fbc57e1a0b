//! A fresh database for a run: the exam, N candidates sharing one PIN (hashed once), and
//! a sitting with every paper drawn, opened.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use item_bank::Exam;
use server::sitting::{self, SittingSpec};
use store::{NewCandidate, Store};

use crate::error::LoadgenError;

/// What to prepare.
#[derive(Debug, Clone)]
pub struct PrepareSpec {
    /// The server's data directory: its PIN key is made or read there.
    pub data_dir: PathBuf,
    pub database_url: String,
    pub exam: PathBuf,
    pub candidates: usize,
    /// Participant numbers are this prefix and five digits: `LG-00001`.
    pub prefix: String,
    pub pin: String,
    pub sitting: String,
}

/// What a run needs to know about the prepared data.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub sitting: String,
    /// The sitting token candidates type at login.
    pub token: String,
    pub participants: Vec<String>,
    pub exam_code: String,
    /// Questions in every paper.
    pub questions: usize,
}

pub fn participant_no(prefix: &str, i: usize) -> String {
    format!("{prefix}{i:05}")
}

/// The session id the server gives a participant in a sitting.
pub fn session_id(sitting: &str, participant: &str) -> String {
    sitting::session_id(sitting, participant)
}

/// Finds an exam file given relative to the working directory or, failing that, to the
/// repository root (so `cargo run -p loadgen` works from anywhere in the checkout).
pub fn resolve_exam(path: &Path) -> PathBuf {
    if path.is_absolute() || path.exists() {
        return path.to_owned();
    }
    let in_repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path);
    if in_repo.exists() { in_repo } else { path.to_owned() }
}

/// Prepares the data. The database must hold no candidates yet: a run against leftovers of
/// another would measure and check the wrong thing.
pub async fn prepare(spec: &PrepareSpec) -> anyhow::Result<Prepared> {
    let store = Store::open(&spec.database_url).await.context("open database")?;
    let existing = store.candidate_count().await?;
    if existing > 0 {
        store.close().await;
        return Err(LoadgenError::DatabaseNotEmpty { candidates: existing }.into());
    }
    let now = chrono::Utc::now();
    let exam_path = resolve_exam(&spec.exam);
    let (exam, bank, _) = Exam::load(&exam_path).map_err(|e| anyhow::anyhow!("{}: {e}", exam_path.display()))?;
    store.put_exam(&exam, &bank, now).await.context("store exam")?;
    let pins = server::credentials::PinKey::load_or_create(&spec.data_dir)?;
    let participants: Vec<String> = (1..=spec.candidates).map(|i| participant_no(&spec.prefix, i)).collect();
    let candidates: Vec<NewCandidate> = participants
        .iter()
        .enumerate()
        .map(|(i, no)| NewCandidate {
            participant_no: no.clone(),
            name: format!("Peserta Beban {}", i + 1),
            birth_date: None,
            pin_hash: pins.hash_pin(no, &spec.pin),
            accommodation: None,
        })
        .collect();
    store.put_candidates(&candidates, now).await.context("store candidates")?;
    let spec_sitting = SittingSpec {
        id: spec.sitting.clone(),
        exam_code: exam.code().to_owned(),
        venue: "Loadgen".into(),
        starts_at: now,
        candidates: participants.clone(),
    };
    let row = sitting::prepare(&store, &spec_sitting, now).await.context("prepare sitting")?;
    store.set_sitting_status(&row.id, "open").await.context("open sitting")?;
    store.close().await;
    let questions = exam.sections().iter().map(|s| s.count as usize).sum();
    Ok(Prepared { sitting: row.id, token: row.token, participants, exam_code: exam.code().to_owned(), questions })
}
