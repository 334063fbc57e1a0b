//! Sitting control for supervisors and the committee: check-in, open (reveal or rotate the
//! token), pause and resume the room or one seat, extend, terminate, allow a move to
//! another PC, unlock a candidate, close; and what the live seat monitor shows. Every
//! action takes a reason and is audited.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;
use session_engine::Command;

use crate::actions::{LogAction, SessionAction, SittingAction};
use crate::auth::Auth;
use crate::error::{ApiError, Code};
use crate::live::{Registry, SeatLive};
use crate::signed_head::HeadPublisher;
use crate::sitting::new_token;
use crate::staff::{Role, Staff};

/// The console's business steps, over the services they touch.
pub struct Control<'a> {
    pub registry: &'a Arc<Registry>,
    pub auth: &'a Arc<Auth>,
    pub heads: &'a HeadPublisher,
}

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

impl Reason {
    /// The reason, refused unless it says something (at least 3 characters).
    pub fn checked(self) -> Result<Reason, ApiError> {
        if self.reason.trim().chars().count() < 3 {
            return Err(ApiError::new(Code::ReasonRequired, "every action needs a reason (at least 3 characters)"));
        }
        Ok(self)
    }
}

impl Control<'_> {
    /// The sitting of a session, after checking the staff member may act on it.
    pub async fn sitting_of_session(&self, staff: &Staff, session: &str) -> Result<String, ApiError> {
        let sitting = self
            .registry
            .store()
            .sitting_of(session)
            .await?
            .ok_or_else(|| ApiError::new(Code::UnknownSession, "no such session"))?;
        staff.may_see(self.registry.store(), &sitting).await?;
        Ok(sitting)
    }

    /// A sitting, after checking the staff member may see it.
    pub async fn known_sitting(&self, staff: &Staff, id: &str) -> Result<store::SittingRow, ApiError> {
        staff.may_see(self.registry.store(), id).await?;
        self.registry
            .store()
            .get_sitting(id)
            .await?
            .ok_or_else(|| ApiError::new(Code::UnknownSitting, "no such sitting"))
    }
}

#[derive(Serialize)]
pub struct SittingView {
    id: String,
    exam: String,
    venue: String,
    starts_at: String,
    status: String,
}

impl Control<'_> {
    /// The sittings a staff member may see.
    pub async fn sittings(&self, staff: &Staff) -> Result<Vec<SittingView>, ApiError> {
        let scope = (staff.role == Role::Supervisor).then_some(staff.username.as_str());
        let rows = self.registry.store().sittings(scope).await?;
        Ok(rows
            .into_iter()
            .map(|r| SittingView {
                id: r.id,
                exam: r.exam_code,
                venue: r.venue,
                starts_at: r.starts_at,
                status: r.status,
            })
            .collect())
    }
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

impl Control<'_> {
    /// Every seat of a sitting, as the console shows it.
    pub async fn seats(&self, sitting: &str) -> Result<Vec<Seat>, ApiError> {
        let rows = self.registry.store().seats(sitting).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let live = self.registry.seat_view(&r.session_id).unwrap_or(SeatLive {
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

    /// A sitting with its token and every seat.
    pub async fn detail(&self, staff: &Staff, id: &str) -> Result<serde_json::Value, ApiError> {
        let sitting = self.known_sitting(staff, id).await?;
        let seats = self.seats(id).await?;
        Ok(json!({
            "id": sitting.id, "exam": sitting.exam_code, "venue": sitting.venue, "status": sitting.status,
            "token": sitting.token, "seats": seats,
        }))
    }

    /// `open`, `close`, `pause`, `resume` and `rotate-token` on a whole sitting; `r` is
    /// [checked](Reason::checked).
    pub async fn sitting_action(
        &self,
        staff: &Staff,
        id: &str,
        action: &str,
        r: Reason,
    ) -> Result<serde_json::Value, ApiError> {
        let id = id.to_owned();
        let sitting = self.known_sitting(staff, &id).await?;
        let parsed = action.parse::<SittingAction>().ok();
        if sitting.status == "closed"
            && matches!(parsed, Some(SittingAction::Open | SittingAction::Pause | SittingAction::Resume))
        {
            // A closed sitting accepts no logins and starts no exam; bringing it back is the
            // exam committee's decision, not the room's.
            staff.admin_only()?;
        }
        let store = self.registry.store();
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
            if let Err(e) = self.auth.refresh_seats(store).await {
                tracing::warn!(sitting = %id, error = %e, "cannot read the sitting's logins again; they go to the database");
            }
        }
        let mut logins_ended = 0;
        if action == SittingAction::Close {
            let ended = self.registry.close_sitting(&id).await?;
            for session in &ended {
                self.auth.forget_session(session);
            }
            logins_ended = ended.len();
            self.auth.forget_sitting(&id);
        } else {
            self.registry.set_sitting_status(&id, status).await?;
        }
        if action == SittingAction::Open {
            // The room is about to log in at once: have its sessions in memory first.
            let registry = self.registry.clone();
            let auth = self.auth.clone();
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
                    match self.registry.supervise(&seat.session_id, command, &staff.username, &r.reason, false).await {
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
        self.registry
            .record(&staff.username, LogAction::Sitting(action).as_str(), &id, detail, store::Batch::default())
            .await
            .map_err(|e| ApiError::internal("audit", &e))?;
        if action == SittingAction::Close {
            // The room's results are final: a signed head that covers them goes out now.
            self.heads.sign_now();
        }
        Ok(json!({
            "id": id, "status": status, "token": token, "sessions": affected, "logins_ended": logins_ended,
            "working": working,
        }))
    }

    /// `checkin`, `pause`, `resume`, `extend`, `terminate` and `allow-move` on one session.
    /// `r` is [checked](Reason::checked).
    pub async fn session_action(
        &self,
        staff: &Staff,
        session: &str,
        action: &str,
        r: Reason,
    ) -> Result<serde_json::Value, ApiError> {
        self.sitting_of_session(staff, session).await?;
        let registry = self.registry;
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
                registry.supervise(session, c, &staff.username, &r.reason, admin).await.map_err(ApiError::from)?
            }
            None => {
                let now = store::ts(registry.clock().utc());
                let logged = if action == SessionAction::CheckIn {
                    store.check_in(session, r.seat.as_deref(), &now).await?;
                    LogAction::SessionCheckIn
                } else {
                    store.set_move_allowed(session, true).await?;
                    LogAction::SessionAllowMove
                };
                let detail = json!({ "reason": r.reason, "seat": r.seat });
                registry
                    .record(&staff.username, logged.as_str(), session, detail, store::Batch::default())
                    .await
                    .map_err(|e| ApiError::internal("audit", &e))?;
                true
            }
        };
        Ok(json!({ "session": session, "action": action.as_str(), "changed": changed }))
    }

    /// A supervisor lets a candidate whose PIN was refused too often try again at once
    /// (audited, with the reason, which is [checked](Reason::checked)). Returns whether the
    /// candidate was locked.
    pub async fn unlock_candidate(&self, staff: &Staff, session: &str, reason: &str) -> Result<bool, ApiError> {
        let sitting = self.sitting_of_session(staff, session).await?;
        let participant = session
            .strip_prefix(sitting.as_str())
            .and_then(|rest| rest.strip_prefix('.'))
            .filter(|p| crate::sitting::session_id(&sitting, p) == session)
            .ok_or_else(|| ApiError::internal("unlock", &format!("session {session} is not of sitting {sitting}")))?;
        let now = self.registry.clock().tick();
        let changed = self.auth.throttle.unlock_participant(participant, now);
        let detail = serde_json::json!({ "reason": reason, "participant_no": participant, "was_locked": changed });
        self.registry
            .record(&staff.username, LogAction::CandidateUnlock.as_str(), session, detail, store::Batch::default())
            .await
            .map_err(|e| ApiError::internal("audit", &e))?;
        Ok(changed)
    }

    /// Why a monitor stops: its staff login is no longer in force, or no longer covers the
    /// sitting. `None` while both hold (or the store cannot say: the next check decides).
    pub async fn monitor_refusal(&self, token_hash: &str, sitting: &str) -> Option<Code> {
        let store = self.registry.store();
        let now = store::ts(self.registry.clock().utc());
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
}
