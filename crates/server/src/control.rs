//! Sitting control for supervisors and the committee: check-in, open (reveal or rotate the
//! token), pause and resume the room or one seat, extend, terminate, allow a move to
//! another PC, unlock a candidate, close; and what the live seat monitor shows. Every
//! action takes a reason and is audited.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::json;
use session_engine::{Command, Status};

use crate::actions::{LogAction, SessionAction, SittingAction};
use crate::auth::Auth;
use crate::error::{ApiError, Code};
use crate::live::{Registry, SeatLive};
use crate::signed_head::HeadPublisher;
use crate::sitting::new_token;
use crate::sittings::SittingStatus;
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
    /// The sitting's `checkin`: the participant numbers to check in at once.
    #[serde(default)]
    pub participants: Vec<String>,
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

/// What a step on a whole sitting did, for its audit entry and its reply.
#[derive(Debug, Default)]
pub struct SittingChange {
    /// The sitting's status after the step.
    pub status: String,
    /// The sitting's token after the step (a new one if it was rotated).
    pub token: String,
    /// Running seats paused or resumed.
    pub sessions: usize,
    /// Logins of seats that had not started, ended by a close.
    pub logins_ended: usize,
    /// Seats still working after a close.
    pub working: usize,
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
        // Seats not in memory (finished before a restart, not started) read their paper's
        // length from the exam.
        let questions = match self.registry.store().get_sitting(sitting).await? {
            Some(s) => self.registry.exams().get(&s.exam_code).await.map_or(0, |e| e.exam.total_items()),
            None => 0,
        };
        Ok(rows
            .into_iter()
            .map(|r| {
                let live = self.registry.seat_view(&r.session_id).unwrap_or_else(|| SeatLive::stored(&r, questions));
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
    pub async fn detail(&self, staff: &Staff, id: &str) -> Result<(store::SittingRow, Vec<Seat>), ApiError> {
        let sitting = self.known_sitting(staff, id).await?;
        let seats = self.seats(id).await?;
        Ok((sitting, seats))
    }

    /// `open`, `close`, `pause`, `resume` and `rotate-token` on a whole sitting, audited;
    /// `r` is [checked](Reason::checked).
    pub async fn sitting_action(
        &self,
        staff: &Staff,
        id: &str,
        action: &str,
        r: Reason,
    ) -> Result<SittingChange, ApiError> {
        let sitting = self.known_sitting(staff, id).await?;
        let parsed = action.parse::<SittingAction>().ok();
        if sitting.status.parse() == Ok(SittingStatus::Closed)
            && matches!(parsed, Some(SittingAction::Open | SittingAction::Pause | SittingAction::Resume))
        {
            // A closed sitting accepts no logins and starts no exam; bringing it back is the
            // exam committee's decision, not the room's.
            staff.admin_only()?;
        }
        let Some(action) = parsed else {
            return Err(ApiError::new(Code::UnknownAction, "actions: open, close, pause, resume, rotate-token"));
        };
        let status = sitting.status.parse().map_err(|e| ApiError::internal("sitting status", &e))?;
        if let Some((code, why)) = refusal(status, action) {
            return Err(ApiError::new(code, format!("sitting {id} is {}: {why}", status.as_str())));
        }
        let done = match action {
            SittingAction::Open => self.open(&sitting, r.rotate_token).await?,
            SittingAction::RotateToken => self.rotate_token(&sitting).await?,
            SittingAction::Close => self.close(&sitting).await?,
            SittingAction::Pause => self.pause_or_resume(&sitting, Command::Pause, staff, &r.reason).await?,
            SittingAction::Resume => self.pause_or_resume(&sitting, Command::Resume, staff, &r.reason).await?,
        };
        let rotated = done.token != sitting.token;
        let detail = json!({
            "reason": r.reason, "status": done.status, "rotated": rotated, "sessions": done.sessions,
            "logins_ended": done.logins_ended,
        });
        self.registry
            .record(&staff.username, LogAction::Sitting(action), id, detail, store::Batch::default())
            .await
            .map_err(|e| ApiError::internal("audit", &e))?;
        if action == SittingAction::Close {
            // The room's results are final: a signed head that covers them goes out now.
            self.heads.sign_now();
        }
        Ok(done)
    }

    /// Opens a sitting for logins (with a new token if asked) and loads its sessions
    /// before the room logs in.
    pub async fn open(&self, sitting: &store::SittingRow, rotate_token: bool) -> Result<SittingChange, ApiError> {
        let token = if rotate_token { self.new_token(sitting).await? } else { sitting.token.clone() };
        let status = SittingStatus::Open;
        self.registry.set_sitting_status(&sitting.id, status).await?;
        // The room is about to log in at once: have its sessions in memory first.
        let registry = self.registry.clone();
        let auth = self.auth.clone();
        let id = sitting.id.clone();
        tokio::spawn(async move {
            match registry.load_sitting(&id).await {
                Ok(n) => tracing::info!(sitting = %id, sessions = n, "open sitting in memory"),
                Err(e) => tracing::warn!(sitting = %id, error = %e, "cannot preload the sitting"),
            }
            if let Err(e) = auth.remember_sitting(registry.store(), &id).await {
                tracing::warn!(sitting = %id, error = %e, "cannot keep the sitting's logins; they go to the database");
            }
        });
        Ok(SittingChange { status: status.as_str().to_owned(), token, ..SittingChange::default() })
    }

    /// A new token for a sitting: the old one stops working for new logins at once.
    pub async fn rotate_token(&self, sitting: &store::SittingRow) -> Result<SittingChange, ApiError> {
        let token = self.new_token(sitting).await?;
        let status: SittingStatus = sitting.status.parse().map_err(|e| ApiError::internal("sitting status", &e))?;
        self.registry.set_sitting_status(&sitting.id, status).await?;
        Ok(SittingChange { status: sitting.status.clone(), token, ..SittingChange::default() })
    }

    /// Stores a new token and makes the old one stop working now (before the room
    /// reopens), not at the next watch of the logins; if the seats cannot be read, none is
    /// kept until they can.
    async fn new_token(&self, sitting: &store::SittingRow) -> Result<String, ApiError> {
        let token = new_token();
        let store = self.registry.store();
        store.set_sitting_token(&sitting.id, &token).await?;
        if let Err(e) = self.auth.refresh_seats(store).await {
            tracing::warn!(sitting = %sitting.id, error = %e, "cannot read the sitting's logins again; they go to the database");
        }
        Ok(token)
    }

    /// Closes a sitting: the logins of seats that have not started end; running seats
    /// work on (and are counted).
    pub async fn close(&self, sitting: &store::SittingRow) -> Result<SittingChange, ApiError> {
        let ended = self.registry.close_sitting(&sitting.id).await?;
        for session in &ended {
            self.auth.forget_session(session);
        }
        self.auth.forget_sitting(&sitting.id);
        let seats = self.registry.store().seats(&sitting.id).await?;
        let working = seats.iter().filter(|s| is_working(&s.status)).count();
        Ok(SittingChange {
            status: SittingStatus::Closed.as_str().to_owned(),
            token: sitting.token.clone(),
            logins_ended: ended.len(),
            working,
            ..SittingChange::default()
        })
    }

    /// Pauses or resumes a whole room (a power cut): every running seat in one go; only
    /// those whose state changes count, not-started and finished seats are left as they are.
    pub async fn pause_or_resume(
        &self,
        sitting: &store::SittingRow,
        command: Command,
        staff: &Staff,
        reason: &str,
    ) -> Result<SittingChange, ApiError> {
        let status = if command == Command::Pause { SittingStatus::Paused } else { SittingStatus::Open };
        self.registry.set_sitting_status(&sitting.id, status).await?;
        let mut sessions = 0;
        for seat in self.registry.store().seats(&sitting.id).await? {
            if is_working(&seat.status) {
                match self.registry.supervise(&seat.session_id, command, &staff.username, reason, false).await {
                    Ok(true) => sessions += 1,
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
        Ok(SittingChange {
            status: status.as_str().to_owned(),
            token: sitting.token.clone(),
            sessions,
            ..SittingChange::default()
        })
    }

    /// `r` is [checked](Reason::checked).
    pub async fn session_action(
        &self,
        staff: &Staff,
        session: &str,
        action: &str,
        r: Reason,
    ) -> Result<(SessionAction, bool), ApiError> {
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
                    .record(&staff.username, logged, session, detail, store::Batch::default())
                    .await
                    .map_err(|e| ApiError::internal("audit", &e))?;
                true
            }
        };
        Ok((action, changed))
    }

    /// Checks in many candidates of sitting `id` at once (numbers scanned or typed, or seats
    /// ticked in the console), each audited like a single check-in. The numbers are checked
    /// first: every one not in the sitting is named in one refusal, and then nobody is
    /// checked in. Each seat is then its own write, as a single check-in is: a storage
    /// failure partway leaves the seats before it checked in (and audited), and sending the
    /// same request again is harmless. Returns the sessions checked in.
    pub async fn check_in_many(
        &self,
        staff: &Staff,
        id: &str,
        participants: &[String],
        reason: &str,
    ) -> Result<Vec<String>, ApiError> {
        let sitting = self.known_sitting(staff, id).await?;
        let store = self.registry.store();
        let mut wanted: Vec<&str> = Vec::new();
        for p in participants.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
            if !wanted.contains(&p) {
                wanted.push(p);
            }
        }
        if wanted.is_empty() {
            return Err(ApiError::new(Code::BadRequest, "name at least one participant number"));
        }
        let seats = store.seats(&sitting.id).await?;
        let unknown: Vec<&str> =
            wanted.iter().copied().filter(|p| !seats.iter().any(|s| s.participant_no == *p)).collect();
        if !unknown.is_empty() {
            return Err(ApiError::new(
                Code::UnknownSession,
                format!("not in sitting {}: {}", sitting.id, unknown.join(", ")),
            ));
        }
        let now = store::ts(self.registry.clock().utc());
        let mut done = Vec::with_capacity(wanted.len());
        for p in wanted {
            let session = crate::sitting::session_id(&sitting.id, p);
            store.check_in(&session, None, &now).await?;
            let detail = json!({ "reason": reason, "seat": null, "bulk": true });
            self.registry
                .record(&staff.username, LogAction::SessionCheckIn, &session, detail, store::Batch::default())
                .await
                .map_err(|e| ApiError::internal("audit", &e))?;
            done.push(session);
        }
        Ok(done)
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
            .record(&staff.username, LogAction::CandidateUnlock, session, detail, store::Batch::default())
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

/// Whether a stored session status is a started, unfinished one (active or paused).
/// Why a sitting in `status` refuses `action`, if it does (the console offers the same
/// steps). Only a room that is open or paused is paused or resumed (a paused sitting
/// accepts logins: pausing one not yet opened would open it; doing either again catches
/// seats that started or were paused one by one since); opening a paused room would leave
/// its seats paused.
fn refusal(status: SittingStatus, action: SittingAction) -> Option<(Code, &'static str)> {
    use SittingStatus::{Closed, Open, Paused, Prepared};
    match (action, status) {
        (SittingAction::Open, Open) => Some((Code::BadRequest, "it is open already")),
        (SittingAction::Open, Paused) => Some((Code::BadRequest, "resume it instead")),
        (SittingAction::Pause | SittingAction::Resume, Prepared) => Some((Code::SittingNotOpen, "open it first")),
        (SittingAction::Pause | SittingAction::Resume, Closed) => Some((Code::SittingClosed, "open it again first")),
        (SittingAction::Close, Closed) => Some((Code::SittingClosed, "it is closed already")),
        (SittingAction::RotateToken, Closed) => Some((Code::SittingClosed, "open it again with a new token")),
        _ => None,
    }
}

fn is_working(status: &str) -> bool {
    Status::from_stored(status, None).is_some_and(Status::is_working)
}
