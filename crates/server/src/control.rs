//! Sitting control for supervisors and the committee: check-in, open (reveal or rotate the
//! token), pause and resume the room or one seat, extend, terminate, allow a move to
//! another PC, close; and the live seat monitor. Every action takes a reason and is audited.

use std::time::Duration;

use axum::Json;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use session_engine::Command;
use tokio::sync::broadcast;

use crate::actions::{LogAction, SessionAction, SittingAction};
use crate::app::AppState;
use crate::error::{ApiError, Code};
use crate::live::SeatLive;
use crate::sitting::new_token;
use crate::staff::{Role, Staff};

/// How often the monitor sends every seat's state.
const SEATS_EVERY: Duration = Duration::from_secs(1);
/// How often the monitor checks again that its staff login is in force and may still see
/// the sitting: a supervisor who logged out, or was taken off the sitting, stops
/// watching within this.
pub const STAFF_RECHECK_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, Deserialize)]
pub struct Reason {
    pub reason: String,
    /// `open`: make a new token (the old one stops working for new logins).
    #[serde(default)]
    pub rotate_token: bool,
    /// `extend`: minutes to add.
    #[serde(default)]
    pub minutes: Option<u32>,
    /// `checkin`: the PC's name or number.
    #[serde(default)]
    pub seat: Option<String>,
}

pub(crate) fn reason_of(
    body: Result<Json<Reason>, axum::extract::rejection::JsonRejection>,
) -> Result<Reason, ApiError> {
    let Json(r) = body.map_err(ApiError::from)?;
    if r.reason.trim().chars().count() < 3 {
        return Err(ApiError::new(Code::ReasonRequired, "every action needs a reason (at least 3 characters)"));
    }
    Ok(r)
}

/// The sitting of a session, after checking the staff member may act on it.
pub(crate) async fn sitting_of_session(state: &AppState, staff: &Staff, session: &str) -> Result<String, ApiError> {
    let sitting = state
        .registry
        .store()
        .sitting_of(session)
        .await?
        .ok_or_else(|| ApiError::new(Code::UnknownSession, "no such session"))?;
    staff.may_see(state, &sitting).await?;
    Ok(sitting)
}

async fn known_sitting(state: &AppState, staff: &Staff, id: &str) -> Result<store::SittingRow, ApiError> {
    staff.may_see(state, id).await?;
    state.registry.store().get_sitting(id).await?.ok_or_else(|| ApiError::new(Code::UnknownSitting, "no such sitting"))
}

#[derive(Serialize)]
pub struct SittingView {
    id: String,
    exam: String,
    venue: String,
    starts_at: String,
    status: String,
}

pub async fn list(State(state): State<AppState>, staff: Staff) -> Result<Json<Vec<SittingView>>, ApiError> {
    let scope = (staff.role == Role::Supervisor).then_some(staff.username.as_str());
    let rows = state.registry.store().sittings(scope).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| SittingView {
                id: r.id,
                exam: r.exam_code,
                venue: r.venue,
                starts_at: r.starts_at,
                status: r.status,
            })
            .collect(),
    ))
}

#[derive(Serialize)]
pub struct Seat {
    session: String,
    participant_no: String,
    name: String,
    seat: Option<String>,
    checked_in: bool,
    #[serde(flatten)]
    live: SeatLive,
}

async fn seats(state: &AppState, sitting: &str) -> Result<Vec<Seat>, ApiError> {
    let rows = state.registry.store().seats(sitting).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let live = state.registry.seat_view(&r.session_id).unwrap_or(SeatLive {
                connected: false,
                answered: 0,
                total: 0,
                remaining_ms: 0,
                score: None,
                status: r.status.clone(),
            });
            Seat {
                session: r.session_id,
                participant_no: r.participant_no,
                name: r.name,
                seat: r.seat,
                checked_in: r.checked_in_at.is_some(),
                live,
            }
        })
        .collect())
}

pub async fn detail(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let sitting = known_sitting(&state, &staff, &id).await?;
    let seats = seats(&state, &id).await?;
    Ok(Json(json!({
        "id": sitting.id, "exam": sitting.exam_code, "venue": sitting.venue, "status": sitting.status,
        "token": sitting.token, "seats": seats,
    })))
}

/// `open`, `close`, `pause`, `resume` and `rotate-token` on a whole sitting.
pub async fn sitting_action(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, action)): Path<(String, String)>,
    body: Result<Json<Reason>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let r = reason_of(body)?;
    let sitting = known_sitting(&state, &staff, &id).await?;
    let parsed = action.parse::<SittingAction>().ok();
    if sitting.status == "closed"
        && matches!(parsed, Some(SittingAction::Open | SittingAction::Pause | SittingAction::Resume))
    {
        // A closed sitting accepts no logins and starts no exam; bringing it back is the
        // exam committee's decision, not the room's.
        staff.admin_only()?;
    }
    let store = state.registry.store();
    let mut token = sitting.token.clone();
    let Some(action) = parsed else {
        return Err(ApiError::new(Code::UnknownAction, "actions: open, close, pause, resume, rotate-token"));
    };
    let (status, command) = match action {
        SittingAction::Open => {
            if r.rotate_token {
                token = new_token();
                store.set_sitting_token(&id, &token).await?;
            }
            ("open", None)
        }
        SittingAction::RotateToken => {
            token = new_token();
            store.set_sitting_token(&id, &token).await?;
            (sitting.status.as_str(), None)
        }
        SittingAction::Close => ("closed", None),
        SittingAction::Pause => ("paused", Some(Command::Pause)),
        SittingAction::Resume => ("open", Some(Command::Resume)),
    };
    if token != sitting.token {
        // The old token stops working now (before the room reopens), not at the next
        // watch of the logins; if the seats cannot be read, none is kept until they can.
        if let Err(e) = state.auth.refresh_seats(store).await {
            tracing::warn!(sitting = %id, error = %e, "cannot read the sitting's logins again; they go to the database");
        }
    }
    let mut logins_ended = 0;
    if action == SittingAction::Close {
        let ended = state.registry.close_sitting(&id).await?;
        for session in &ended {
            state.auth.forget_session(session);
        }
        logins_ended = ended.len();
        state.auth.forget_sitting(&id);
    } else {
        state.registry.set_sitting_status(&id, status).await?;
    }
    if action == SittingAction::Open {
        // The room is about to log in at once: have its sessions in memory first.
        let registry = state.registry.clone();
        let auth = state.auth.clone();
        let sitting = id.clone();
        tokio::spawn(async move {
            match registry.load_sitting(&sitting).await {
                Ok(n) => tracing::info!(sitting = %sitting, sessions = n, "open sitting in memory"),
                Err(e) => tracing::warn!(sitting = %sitting, error = %e, "cannot preload the sitting"),
            }
            if let Err(e) = auth.remember_sitting(registry.store(), &sitting).await {
                tracing::warn!(sitting = %sitting, error = %e, "cannot keep the sitting's logins; they go to the database");
            }
        });
    }
    let mut affected = 0;
    if let Some(command) = command {
        // Every running seat of the room, in one go (a power cut): only those whose state
        // changes count; not-started and finished seats are left as they are.
        for seat in store.seats(&id).await? {
            if matches!(seat.status.as_str(), "active" | "paused") {
                match state.registry.supervise(&seat.session_id, command, &staff.username, &r.reason, false).await {
                    Ok(true) => affected += 1,
                    Ok(false) => {}
                    Err(e)
                        if matches!(
                            e.code,
                            Code::NotPaused | Code::Finished | Code::NotStarted | Code::TimeExpired
                        ) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    let working = if action == SittingAction::Close {
        store.seats(&id).await?.iter().filter(|s| matches!(s.status.as_str(), "active" | "paused")).count()
    } else {
        0
    };
    let detail = json!({
        "reason": r.reason, "status": status, "rotated": token != sitting.token, "sessions": affected,
        "logins_ended": logins_ended,
    });
    state
        .registry
        .record(&staff.username, LogAction::Sitting(action).as_str(), &id, detail, store::Batch::default())
        .await
        .map_err(|e| ApiError::internal("audit", &e))?;
    if action == SittingAction::Close {
        // The room's results are final: a signed head that covers them goes out now.
        state.heads.sign_now();
    }
    Ok(Json(json!({
        "id": id, "status": status, "token": token, "sessions": affected, "logins_ended": logins_ended,
        "working": working,
    })))
}

/// `checkin`, `pause`, `resume`, `extend`, `terminate` and `allow-move` on one session.
pub async fn session_action(
    State(state): State<AppState>,
    staff: Staff,
    Path((session, action)): Path<(String, String)>,
    body: Result<Json<Reason>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let r = reason_of(body)?;
    sitting_of_session(&state, &staff, &session).await?;
    let registry = &state.registry;
    let store = registry.store();
    let Ok(action) = action.parse::<SessionAction>() else {
        return Err(ApiError::new(
            Code::UnknownAction,
            "actions: checkin, pause, resume, extend, terminate, allow-move",
        ));
    };
    let command = match action {
        SessionAction::Pause => Some(Command::Pause),
        SessionAction::Resume => Some(Command::Resume),
        SessionAction::Terminate => Some(Command::Terminate),
        SessionAction::Extend => {
            let minutes = r
                .minutes
                .filter(|m| (1..=240).contains(m))
                .ok_or_else(|| ApiError::new(Code::BadRequest, "extend needs minutes between 1 and 240"))?;
            Some(Command::Extend { ms: u64::from(minutes) * 60_000 })
        }
        SessionAction::CheckIn | SessionAction::AllowMove => None,
    };
    let changed = match command {
        Some(c) => {
            let admin = staff.role == Role::Admin;
            registry.supervise(&session, c, &staff.username, &r.reason, admin).await.map_err(ApiError::from)?
        }
        None => {
            let now = store::ts(registry.clock().utc());
            let logged = if action == SessionAction::CheckIn {
                store.check_in(&session, r.seat.as_deref(), &now).await?;
                LogAction::SessionCheckIn
            } else {
                store.set_move_allowed(&session, true).await?;
                LogAction::SessionAllowMove
            };
            let detail = json!({ "reason": r.reason, "seat": r.seat });
            registry
                .record(&staff.username, logged.as_str(), &session, detail, store::Batch::default())
                .await
                .map_err(|e| ApiError::internal("audit", &e))?;
            true
        }
    };
    Ok(Json(json!({ "session": session, "action": action.as_str(), "changed": changed })))
}

/// The live seat monitor: every seat each second, and events as they happen.
pub async fn monitor(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    staff: Staff,
    headers: axum::http::HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    known_sitting(&state, &staff, &id).await?;
    // The extractor found the login by this token; the monitor checks it again as it runs.
    let token =
        crate::auth::bearer_or_cookie(&headers, crate::staff::STAFF_COOKIE).ok_or_else(ApiError::unauthorized)?;
    let token_hash = crate::auth::token_hash(&token);
    Ok(ws
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| run_monitor(socket, state, id, token_hash)))
}

/// Why a monitor stops: its staff login is no longer in force, or no longer covers the
/// sitting. `None` while both hold (or the store cannot say: the next check decides).
async fn monitor_refusal(state: &AppState, token_hash: &str, sitting: &str) -> Option<Code> {
    let store = state.registry.store();
    let now = store::ts(state.registry.clock().utc());
    let row = match store.staff_for_token(token_hash, &now).await {
        Ok(Some(row)) => row,
        Ok(None) => return Some(Code::Unauthorized),
        Err(e) => {
            tracing::warn!(error = %e, "monitor: cannot check the staff login");
            return None;
        }
    };
    match row.role.parse() {
        Ok(Role::Admin) => None,
        Ok(Role::Supervisor) => match store.supervises(&row.username, sitting).await {
            Ok(true) => None,
            Ok(false) => Some(Code::Forbidden),
            Err(e) => {
                tracing::warn!(error = %e, "monitor: cannot check the supervisor's sittings");
                None
            }
        },
        Err(_) => Some(Code::Forbidden),
    }
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
                if let Some(code) = monitor_refusal(&state, &token_hash, &sitting).await {
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
                let Ok(seats) = seats(&state, &sitting).await else { break };
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
            () = crate::app::stopped(&mut shutdown) => break,
        }
    }
}
