//! The console over HTTP: the sittings, their seats, the actions on sittings and seats,
//! and the live seat monitor (a WebSocket).

use std::time::Duration;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::json;
use tokio::sync::broadcast;

use super::AppState;
use super::login::{STAFF_COOKIE, bearer_or_cookie};
use crate::control::{Reason, SittingView};
use crate::error::{ApiError, Code};
use crate::staff::Staff;

/// How often the monitor sends every seat's state.
const SEATS_EVERY: Duration = Duration::from_secs(1);
/// How often the monitor checks again that its staff login is in force and may still see
/// the sitting: a supervisor who logged out, or was taken off the sitting, stops
/// watching within this.
const STAFF_RECHECK_EVERY: Duration = Duration::from_secs(2);

/// An action's body: refused unless it parses and gives a reason.
pub(super) fn reason(body: Result<Json<Reason>, JsonRejection>) -> Result<Reason, ApiError> {
    let Json(r) = body.map_err(ApiError::from)?;
    r.checked()
}

pub(super) async fn list(State(state): State<AppState>, staff: Staff) -> Result<Json<Vec<SittingView>>, ApiError> {
    Ok(Json(state.control().sittings(&staff).await?))
}

pub(super) async fn detail(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (sitting, seats) = state.control().detail(&staff, &id).await?;
    Ok(Json(json!({
        "id": sitting.id, "exam": sitting.exam_code, "venue": sitting.venue, "status": sitting.status,
        "token": sitting.token, "seats": seats,
    })))
}

/// `open`, `close`, `pause`, `resume` and `rotate-token` on a whole sitting.
pub(super) async fn sitting_action(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, action)): Path<(String, String)>,
    body: Result<Json<Reason>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let r = reason(body)?;
    let done = state.control().sitting_action(&staff, &id, &action, r).await?;
    Ok(Json(json!({
        "id": id, "status": done.status, "token": done.token, "sessions": done.sessions,
        "logins_ended": done.logins_ended, "working": done.working,
    })))
}

/// `checkin`, `pause`, `resume`, `extend`, `terminate` and `allow-move` on one session.
pub(super) async fn session_action(
    State(state): State<AppState>,
    staff: Staff,
    Path((session, action)): Path<(String, String)>,
    body: Result<Json<Reason>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let r = reason(body)?;
    let (action, changed) = state.control().session_action(&staff, &session, &action, r).await?;
    Ok(Json(json!({ "session": session, "action": action.as_str(), "changed": changed })))
}

/// `POST /api/v1/sittings/{id}/checkin`: many candidates checked in at once, each audited.
pub(super) async fn check_in_many(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    body: Result<Json<Reason>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let r = reason(body)?;
    let sessions = state.control().check_in_many(&staff, &id, &r.participants, &r.reason).await?;
    Ok(Json(json!({ "id": id, "action": "checkin", "sessions": sessions })))
}

/// `POST /api/v1/sessions/{id}/unlock`: a supervisor lets a candidate whose PIN was
/// refused too often try again at once (audited, with the reason).
pub(super) async fn unlock_candidate(
    State(state): State<AppState>,
    staff: Staff,
    Path(session): Path<String>,
    body: Result<Json<Reason>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let r = reason(body)?;
    let changed = state.control().unlock_candidate(&staff, &session, &r.reason).await?;
    Ok(Json(json!({ "session": session, "action": "unlock", "changed": changed })))
}

/// The live seat monitor: every seat each second, and events as they happen.
pub(super) async fn monitor(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.control().known_sitting(&staff, &id).await?;
    // The extractor found the login by this token; the monitor checks it again as it runs.
    let token = bearer_or_cookie(&headers, STAFF_COOKIE).ok_or_else(ApiError::unauthorized)?;
    let token_hash = crate::auth::token_hash(&token);
    Ok(ws
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| run_monitor(socket, state, id, token_hash)))
}

async fn send_json(socket: &mut WebSocket, v: &serde_json::Value) -> bool {
    socket.send(Message::Text(Utf8Bytes::from(v.to_string()))).await.is_ok()
}

async fn run_monitor(mut socket: WebSocket, state: AppState, sitting: String, token_hash: String) {
    let mut events = state.registry.monitor.subscribe(&sitting);
    let mut every = tokio::time::interval(SEATS_EVERY);
    let mut recheck = tokio::time::interval(STAFF_RECHECK_EVERY);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut shutdown = state.shutdown.clone();
    loop {
        tokio::select! {
            _ = recheck.tick() => {
                if let Some(code) = state.control().monitor_refusal(&token_hash, &sitting).await {
                    let message = match code {
                        Code::Unauthorized => "the staff login ended; log in again",
                        _ => "you no longer supervise this sitting",
                    };
                    let _ = send_json(&mut socket, &json!({ "type": "closed", "code": code.as_str(), "message": message })).await;
                    let _ = socket.send(Message::Close(None)).await;
                    break;
                }
            }
            _ = every.tick() => {
                let seats = match state.control().seats(&sitting).await {
                    Ok(seats) => seats,
                    Err(e) => {
                        e.log();
                        break;
                    }
                };
                if !send_json(&mut socket, &json!({ "type": "seats", "seats": seats })).await {
                    break;
                }
            }
            ev = events.recv() => match ev {
                Ok(ev) => {
                    if !send_json(&mut socket, &json!({ "type": "event", "event": &*ev })).await {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    if !send_json(&mut socket, &json!({ "type": "lagged", "missed": n })).await {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            frame = socket.recv() => match frame {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            () = crate::shutdown::stopped(&mut shutdown) => break,
        }
    }
}
