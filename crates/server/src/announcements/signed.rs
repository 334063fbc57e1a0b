//! The announcement a committee publishes: the ranked lines of every formation's track
//! with every number that went into them, the audit head it was computed at and what it
//! supersedes, signed with the server's Ed25519 key (the receipts' key). Stored once and
//! never changed: a correction is a new announcement listing the lines it changes.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::{AnnouncementRow, Store};

use super::skd::skd_tracks;
use super::stored::StoredSelection;
use crate::audit::ChainHead;
use crate::receipt::Signer;
pub use crate::receipt::VerifyError;

/// The payload's format, also the first line of the signed message: an announcement's
/// signature cannot pass for a receipt's (a JSON object) or a signed head's.
pub const FORMAT: &str = "ujian-announcement/1";

/// Which stage an announcement announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Stage 1: the SKD and its multiplier cut.
    Skd,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Skd => "skd",
        }
    }
    pub fn parse(s: &str) -> Option<Stage> {
        (s == "skd").then_some(Stage::Skd)
    }
}

/// One applicant's line: rank and code with every section score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// Competition rank among those who passed (or went on); none for TL, TH, DIS.
    pub rank: Option<usize>,
    pub participant_no: String,
    pub name: String,
    /// Section code to points; empty for an applicant who did not sit or was disqualified.
    pub scores: BTreeMap<String, i64>,
    pub total: Option<i64>,
    /// P/L, P, TL, TH or DIS.
    pub code: String,
    /// Goes on though below a threshold (`shortfall = "fill_by_total"`).
    pub below_threshold: bool,
}

/// One formation's track: its openings, the cut, the thresholds that applied, the lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackLines {
    pub formation: String,
    pub position: String,
    pub unit: String,
    pub track: String,
    pub openings: u32,
    /// `multiplier × openings`: the places before ties at the cut.
    pub quota: u64,
    /// Each section's threshold as it applied to this track (the track's own or the exam's).
    pub thresholds: BTreeMap<String, i64>,
    pub min_total: Option<i64>,
    pub lines: Vec<Line>,
}

/// A line a correction changes: as the superseded announcement had it, and as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub participant_no: String,
    pub before: Option<Placed>,
    pub after: Option<Placed>,
}

/// A line with the formation and track it stands in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Placed {
    pub formation: String,
    pub track: String,
    pub line: Line,
}

/// What an announcement's signature covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payload {
    pub format: String,
    /// The announcement's number, `SELECTION-NNN`.
    pub no: String,
    pub selection: String,
    pub selection_name: String,
    pub stage: String,
    /// The announcement's date (UTC), `YYYY-MM-DD`.
    pub date: String,
    pub issued_at: String,
    /// The exam the stage was computed from, and its sections in order.
    pub exam: String,
    pub sections: Vec<String>,
    /// The audit chain's last entry when it was computed: a chain rewritten at or before
    /// it no longer holds this head.
    pub audit_head: ChainHead,
    pub supersedes: Option<String>,
    /// Why a correction was made.
    pub reason: Option<String>,
    /// The lines a correction changes; empty for a first announcement.
    pub changes: Vec<Change>,
    pub tracks: Vec<TrackLines>,
}

/// An announcement with its signature, as stored, served and written to a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signed {
    pub announcement: Payload,
    /// Base64url (no padding) Ed25519 signature over [`message`].
    pub signature: String,
    /// Which key signed it (the first 8 hex digits of the public key's SHA-256).
    pub key_id: String,
}

/// The bytes signed: the format's name, a newline, the payload as JSON.
fn message(payload: &Payload) -> Vec<u8> {
    let mut m = format!("{FORMAT}\n").into_bytes();
    m.extend(serde_json::to_vec(payload).unwrap_or_default());
    m
}

impl Signed {
    /// A stored announcement read back.
    pub fn from_row(row: &AnnouncementRow) -> anyhow::Result<Signed> {
        let announcement = serde_json::from_str(&row.payload)
            .map_err(|e| anyhow::anyhow!("stored announcement {} does not read back: {e}", row.no))?;
        Ok(Signed { announcement, signature: row.signature.clone(), key_id: row.key_id.clone() })
    }
}

/// Checks an announcement against a public key (hex): the payload as it reads now,
/// serialised again, must be what was signed.
pub fn verify(signed: &Signed, public_hex: &str) -> Result<(), VerifyError> {
    if signed.announcement.format != FORMAT {
        return Err(VerifyError::Malformed);
    }
    let sig = B64.decode(&signed.signature).map_err(|_| VerifyError::Malformed)?;
    crate::receipt::check_signature(public_hex, &signed.key_id, &message(&signed.announcement), &sig)
}

/// Computes `stage` of a stored selection, signs it and stores it as the selection's next
/// announcement. An announcement of a stage already announced supersedes the latest one
/// and needs a `reason`; it lists the lines that changed.
pub async fn announce(
    store: &Store,
    signer: &Signer,
    selection_id: &str,
    stage: Stage,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<Signed> {
    let stored = StoredSelection::load(store, selection_id).await?;
    let previous = store.announcements_of(selection_id).await?;
    let superseded = previous.iter().rev().find(|a| a.stage == stage.as_str());
    if let (Some(old), None) = (superseded, reason) {
        anyhow::bail!(
            "announcement {} already announces stage {} of {selection_id}: a correction supersedes it and needs \
             --reason (why it is corrected)",
            old.no,
            stage.as_str()
        );
    }
    let stage_one = match stage {
        Stage::Skd => skd_tracks(store, &stored).await?,
    };
    let changes = match superseded {
        Some(old) => changes(&Signed::from_row(old)?.announcement.tracks, &stage_one.tracks),
        None => Vec::new(),
    };
    let head = store.audit_head().await?.map_or_else(ChainHead::genesis, |(seq, hash)| ChainHead { seq, hash });
    let seq = previous.last().map_or(1, |a| a.seq + 1);
    let payload = Payload {
        format: FORMAT.to_owned(),
        no: format!("{selection_id}-{seq:03}"),
        selection: selection_id.to_owned(),
        selection_name: stored.selection.name().to_owned(),
        stage: stage.as_str().to_owned(),
        date: now.format("%Y-%m-%d").to_string(),
        issued_at: store::ts(now),
        exam: stage_one.exam,
        sections: stage_one.sections,
        audit_head: head,
        supersedes: superseded.map(|a| a.no.clone()),
        reason: reason.map(str::to_owned),
        changes,
        tracks: stage_one.tracks,
    };
    let signature = B64.encode(signer.sign_raw(&message(&payload)));
    let row = AnnouncementRow {
        no: payload.no.clone(),
        selection_id: selection_id.to_owned(),
        seq,
        stage: payload.stage.clone(),
        supersedes: payload.supersedes.clone(),
        payload: serde_json::to_string(&payload)?,
        signature: signature.clone(),
        key_id: signer.key_id.clone(),
        created_at: payload.issued_at.clone(),
    };
    store.put_announcement(&row).await?;
    Ok(Signed { announcement: payload, signature, key_id: signer.key_id.clone() })
}

/// Every participant whose line differs between two announcements of a stage.
fn changes(before: &[TrackLines], after: &[TrackLines]) -> Vec<Change> {
    let placed = |tracks: &[TrackLines]| -> BTreeMap<String, Placed> {
        tracks
            .iter()
            .flat_map(|t| {
                t.lines.iter().map(|l| {
                    let p = Placed { formation: t.formation.clone(), track: t.track.clone(), line: l.clone() };
                    (l.participant_no.clone(), p)
                })
            })
            .collect()
    };
    let (mut before, mut after) = (placed(before), placed(after));
    let everyone: BTreeSet<String> = before.keys().chain(after.keys()).cloned().collect();
    everyone
        .into_iter()
        .filter_map(|no| {
            let (b, a) = (before.remove(&no), after.remove(&no));
            (b != a).then_some(Change { participant_no: no, before: b, after: a })
        })
        .collect()
}

/// What a candidate sees of their own standing: who they applied as, and their line in
/// every announcement of the selection still in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Standing {
    pub selection: String,
    pub participant_no: String,
    pub name: String,
    pub formation: String,
    pub track: String,
    pub announcements: Vec<StandingEntry>,
}

/// One announcement's numbers for one applicant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StandingEntry {
    pub no: String,
    pub stage: String,
    pub date: String,
    pub supersedes: Option<String>,
    pub exam: String,
    pub openings: u32,
    pub quota: u64,
    pub thresholds: BTreeMap<String, i64>,
    pub min_total: Option<i64>,
    /// How many applicants the track has, for the rank to mean something.
    pub applicants: usize,
    pub line: Line,
}

/// An applicant's standing, if the participant number is an applicant's and `born`
/// (`YYYY-MM-DD`) is their birth date; `None` alike for either mistake.
pub async fn standing(
    store: &Store,
    selection_id: &str,
    participant_no: &str,
    born: &str,
) -> anyhow::Result<Option<Standing>> {
    let Some(applicant) = store.selection_applicant(selection_id, participant_no).await? else { return Ok(None) };
    if applicant.birth_date != born {
        return Ok(None);
    }
    let rows = store.announcements_of(selection_id).await?;
    let superseded: BTreeSet<&str> = rows.iter().filter_map(|r| r.supersedes.as_deref()).collect();
    let mut announcements = Vec::new();
    for row in rows.iter().filter(|r| !superseded.contains(r.no.as_str())) {
        let payload = Signed::from_row(row)?.announcement;
        for t in &payload.tracks {
            if let Some(line) = t.lines.iter().find(|l| l.participant_no == participant_no) {
                announcements.push(StandingEntry {
                    no: payload.no.clone(),
                    stage: payload.stage.clone(),
                    date: payload.date.clone(),
                    supersedes: payload.supersedes.clone(),
                    exam: payload.exam.clone(),
                    openings: t.openings,
                    quota: t.quota,
                    thresholds: t.thresholds.clone(),
                    min_total: t.min_total,
                    applicants: t.lines.len(),
                    line: line.clone(),
                });
            }
        }
    }
    Ok(Some(Standing {
        selection: selection_id.to_owned(),
        participant_no: applicant.participant_no,
        name: applicant.name,
        formation: applicant.formation,
        track: applicant.track,
        announcements,
    }))
}
