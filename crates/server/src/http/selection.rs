//! A selection's public pages: its announcements (each with its signature, for anyone to
//! check) and a candidate's own standing, looked up by participant number and birth date.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::client_ip::ClientIp;
use crate::announcements::{Signed, Standing};
use crate::error::{ApiError, Code};

/// One announcement in a selection's list.
#[derive(Debug, Serialize)]
pub(super) struct Listed {
    no: String,
    stage: String,
    created_at: String,
    supersedes: Option<String>,
    /// The correction that replaced it, if one did: this one is then no longer in force.
    superseded_by: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct Listing {
    selection: String,
    name: String,
    announcements: Vec<Listed>,
}

pub(super) async fn list(State(state): State<AppState>, Path(id): Path<String>) -> Result<Json<Listing>, ApiError> {
    let store = state.registry.store();
    let selection = store
        .get_selection(&id)
        .await
        .map_err(|e| ApiError::internal("read a selection", &e))?
        .ok_or_else(|| ApiError::new(Code::NotFound, "no such selection"))?;
    let rows = store.announcements_of(&id).await.map_err(|e| ApiError::internal("list announcements", &e))?;
    let announcements = rows
        .iter()
        .map(|r| Listed {
            no: r.no.clone(),
            stage: r.stage.clone(),
            created_at: r.created_at.clone(),
            supersedes: r.supersedes.clone(),
            superseded_by: rows.iter().find(|n| n.supersedes.as_ref() == Some(&r.no)).map(|n| n.no.clone()),
        })
        .collect();
    Ok(Json(Listing { selection: selection.id, name: selection.name, announcements }))
}

/// An announcement as signed: `ujian announcement verify` checks this body saved to a file.
pub(super) async fn announcement(
    State(state): State<AppState>,
    Path(no): Path<String>,
) -> Result<Json<Signed>, ApiError> {
    let row = state
        .registry
        .store()
        .get_announcement(&no)
        .await
        .map_err(|e| ApiError::internal("read an announcement", &e))?
        .ok_or_else(|| ApiError::new(Code::NotFound, "no such announcement"))?;
    Ok(Json(Signed::from_row(&row).map_err(|e| ApiError::internal("read an announcement", &e))?))
}

#[derive(Debug, Deserialize)]
pub(super) struct StandingQuery {
    participant: String,
    /// `YYYY-MM-DD`.
    born: String,
}

/// A candidate's own standing. An unknown number and a wrong birth date get the same
/// answer, so a lookup tells nothing about whether the number applied; lookups are
/// rate-limited per client address as board pages are, so birth dates cannot be tried
/// quickly.
pub(super) async fn standing(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    query: Result<Query<StandingQuery>, QueryRejection>,
) -> Result<Json<Standing>, ApiError> {
    if !state.standing_lookups.allow(ip) {
        return Err(ApiError::new(Code::RateLimited, "too many lookups; wait a moment and try again"));
    }
    let Query(q) = query.map_err(ApiError::from)?;
    crate::announcements::standing(state.registry.store(), &id, q.participant.trim(), q.born.trim())
        .await
        .map_err(|e| ApiError::internal("look up a standing", &e))?
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(Code::NotFound, "tidak ditemukan: periksa nomor peserta dan tanggal lahir (YYYY-MM-DD)")
        })
}
