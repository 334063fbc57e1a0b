//! Preparing a sitting: every candidate's paper is drawn and stored before the start, so
//! the rush of the opening minute does no assembly work (docs/design-rules.md: the start
//! is prepared in advance).

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use rand::RngExt as _;
use store::{NewSession, NewSitting, PaperRow, SittingRow, Store};

/// What a committee says when it schedules a sitting.
#[derive(Debug, Clone)]
pub struct SittingSpec {
    pub id: String,
    pub exam_code: String,
    pub venue: String,
    pub starts_at: DateTime<Utc>,
    pub candidates: Vec<String>,
}

/// Letters that cannot be mistaken for one another when read off a board (no I, O).
const TOKEN_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";

pub fn new_token() -> String {
    let mut rng = rand::rng();
    (0..6).map(|_| TOKEN_ALPHABET[rng.random_range(0..TOKEN_ALPHABET.len())] as char).collect()
}

/// The session id of a candidate in a sitting: readable in logs and on the console.
pub fn session_id(sitting: &str, participant_no: &str) -> String {
    format!("{sitting}.{participant_no}")
}

/// Creates the sitting with every paper drawn, unless it exists (then returns it as it is).
pub async fn prepare(store: &Store, spec: &SittingSpec, now: DateTime<Utc>) -> anyhow::Result<SittingRow> {
    prepare_shown(store, spec, now, &indicatif::ProgressBar::hidden()).await
}

/// [`prepare`], moving `bar` through the candidates twice: checked and drawn, then stored.
pub async fn prepare_shown(
    store: &Store,
    spec: &SittingSpec,
    now: DateTime<Utc>,
    bar: &indicatif::ProgressBar,
) -> anyhow::Result<SittingRow> {
    if let Some(existing) = store.get_sitting(&spec.id).await? {
        return Ok(existing);
    }
    let stored = store
        .get_exam(&spec.exam_code)
        .await?
        .with_context(|| format!("exam {} is not stored; run `ujian exam import` first", spec.exam_code))?;
    let secret: [u8; 32] = rand::rng().random();
    let mut sessions = Vec::with_capacity(spec.candidates.len());
    // Every candidate is checked before the first error is reported, so that one run lists
    // every unregistered number and unknown accommodation.
    let mut problems = Vec::new();
    bar.set_length(spec.candidates.len() as u64);
    bar.set_message("drawing papers");
    for no in &spec.candidates {
        bar.inc(1);
        let Some(accommodation) = store.candidate_accommodation(no).await? else {
            problems.push(format!("candidate {no} is not registered; run `ujian candidates import` first"));
            continue;
        };
        let Some(minutes) = stored.exam.duration_for(accommodation.as_deref()) else {
            problems.push(format!("candidate {no}: accommodation {accommodation:?} is not in exam {}", spec.exam_code));
            continue;
        };
        if !problems.is_empty() {
            continue;
        }
        let seed = session_engine::seed(&secret, no);
        let paper = session_engine::assemble(&stored.exam, &stored.bank, seed)?;
        sessions.push(NewSession {
            id: session_id(&spec.id, no),
            participant_no: no.clone(),
            duration_ms: i64::from(minutes) * 60_000,
            paper: paper_rows(&paper),
        });
    }
    if !problems.is_empty() {
        bail!(
            "{}\n{} problem{} found; nothing was written",
            problems.join("\n"),
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        );
    }
    let sitting = NewSitting {
        id: spec.id.clone(),
        exam_code: spec.exam_code.clone(),
        venue: spec.venue.clone(),
        starts_at: store::ts(spec.starts_at),
        secret_hex: hex::encode(secret),
        token: new_token(),
        created_at: store::ts(now),
        sessions,
    };
    bar.set_position(0);
    bar.set_message("storing papers");
    store.create_sitting_counted(&sitting, &mut || bar.inc(1)).await?;
    bar.finish_and_clear();
    store.get_sitting(&spec.id).await?.context("sitting vanished after creation")
}

/// A drawn paper as the store keeps it: a row a position.
pub(crate) fn paper_rows(paper: &session_engine::Paper) -> Vec<PaperRow> {
    paper
        .entries
        .iter()
        .map(|e| PaperRow {
            section: e.section.to_string(),
            item_id: e.item.to_string(),
            option_order: e.order_string(),
        })
        .collect()
}
