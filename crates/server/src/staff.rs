//! Staff (admin and supervisor) login and the [`Staff`] extractor that every console
//! route takes: it checks the token and gives the role; [`Staff::may_see`] checks scope.
//!
//! CSRF: the cookie is `SameSite=Strict`, and every state-changing route takes a JSON
//! body, which a cross-site form cannot send without a CORS preflight ujian never grants.
//!
//! Wrong passwords are counted per (account, client address), so a guesser elsewhere
//! locks out only itself, and per account from addresses it has not logged in from
//! lately (see [`crate::throttle`]); an admin unlocks an account with [`unlock`].

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::actions::LogAction;
use crate::app::AppState;
use crate::auth;
use crate::client_ip::ClientIp;
use crate::error::{ApiError, Code};
use crate::throttle::Subject;

pub const STAFF_COOKIE: &str = "ujian_staff";
/// A staff login lasts one exam day.
const TOKEN_HOURS: i64 = 12;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The exam committee: every sitting.
    Admin,
    /// Only the sittings they are assigned to.
    Supervisor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
        }
    }
}

/// A stored role that is no [`Role`] (the account has no console role).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}")]
pub struct UnknownRole(pub String);

impl std::str::FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        match s {
            "admin" => Ok(Role::Admin),
            "supervisor" => Ok(Role::Supervisor),
            _ => Err(UnknownRole(s.to_owned())),
        }
    }
}

/// A logged-in staff member.
#[derive(Debug, Clone, Serialize)]
pub struct Staff {
    pub username: String,
    pub name: String,
    pub role: Role,
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Staff, ApiError> {
        let token = auth::bearer_or_cookie(&parts.headers, STAFF_COOKIE).ok_or_else(ApiError::unauthorized)?;
        let now = store::ts(state.registry.clock().utc());
        let row = state
            .registry
            .store()
            .staff_for_token(&auth::token_hash(&token), &now)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        let role = row.role.parse().map_err(|_| ApiError::new(Code::Forbidden, "this account has no console role"))?;
        Ok(Staff { username: row.username, name: row.name, role })
    }
}

impl Staff {
    /// 403 unless this staff member may see and act on `sitting`.
    pub async fn may_see(&self, state: &AppState, sitting: &str) -> Result<(), ApiError> {
        if self.role == Role::Admin || state.registry.store().supervises(&self.username, sitting).await? {
            Ok(())
        } else {
            Err(ApiError::new(Code::Forbidden, "you do not supervise this sitting"))
        }
    }

    pub fn admin_only(&self) -> Result<(), ApiError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::new(Code::Forbidden, "only the exam committee (admin) may do this"))
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct StaffLogin {
    pub username: String,
    pub password: String,
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    body: Result<Json<StaffLogin>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(ApiError::from)?;
    let bad = || ApiError::new(Code::BadCredentials, "username or password is wrong");
    if !is_username(&req.username) {
        return Err(ApiError::new(Code::BadRequest, "a username holds letters, digits, '.', '-' and '_' (at most 64)"));
    }
    let now = state.registry.clock().tick();
    let throttle = &state.auth.throttle;
    // Unknown usernames are counted like known ones: being locked out tells nothing either.
    let from_address = throttle.reserve(Subject::address(client), now).map_err(locked_out)?;
    let from_here = throttle.reserve(Subject::staff_at(&req.username, client), now).map_err(locked_out)?;
    let from_anywhere = if throttle.familiar(&req.username, client, now) {
        None
    } else {
        Some(throttle.reserve(Subject::staff(&req.username), now).map_err(locked_out)?)
    };
    let row = state.registry.store().staff(&req.username).await?;
    let ok = match &row {
        Some(r) => state.auth.verify(&req.password, &r.password_hash).await?,
        None => state.auth.verify_nobody(&req.password).await?,
    };
    let Some(row) = row.filter(|_| ok) else {
        from_address.failed();
        from_here.failed();
        if let Some(attempt) = from_anywhere {
            attempt.failed();
        }
        return Err(bad());
    };
    from_here.cleared();
    // The count from everywhere and the address's are given back, not cleared: a login
    // that worked does not forget what others tried meanwhile.
    drop((from_address, from_anywhere));
    throttle.remember_familiar(&row.username, client, now);
    let token = auth::new_token();
    let utc = state.registry.clock().utc();
    let expires = utc + chrono::Duration::hours(TOKEN_HOURS);
    state
        .registry
        .store()
        .put_staff_token(&auth::token_hash(&token), &row.username, &store::ts(utc), &store::ts(expires))
        .await?;
    state
        .registry
        .record(
            &row.username,
            LogAction::StaffLogin.as_str(),
            &row.username,
            serde_json::json!({ "role": row.role }),
            store::Batch::default(),
        )
        .await
        .map_err(|e| ApiError::internal("audit staff login", &e))?;
    let body = Json(serde_json::json!({ "token": token, "username": row.username, "role": row.role })).into_response();
    auth::with_cookie(body, STAFF_COOKIE, &token, Some(TOKEN_HOURS * 3600), state.auth.secure_cookies())
}

/// Ends the login on the server too, so a copied cookie or script token stops working.
pub async fn logout(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = auth::bearer_or_cookie(&headers, STAFF_COOKIE) {
        state.registry.store().delete_staff_token(&auth::token_hash(&token)).await?;
    }
    auth::with_cookie(StatusCode::NO_CONTENT.into_response(), STAFF_COOKIE, "", Some(0), state.auth.secure_cookies())
}

pub async fn me(staff: Staff) -> Json<Staff> {
    Json(staff)
}

/// `POST /api/v1/staff/{username}/unlock`: an admin lets a staff account whose password
/// was refused too often log in again at once, from every address (audited, with the
/// reason). Unknown usernames are counted too, so any well-formed one can be unlocked.
pub async fn unlock(
    State(state): State<AppState>,
    staff: Staff,
    Path(username): Path<String>,
    body: Result<Json<crate::control::Reason>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    staff.admin_only()?;
    let r = crate::control::reason_of(body)?;
    if !is_username(&username) {
        return Err(ApiError::new(Code::BadRequest, "not a username"));
    }
    let changed = state.auth.throttle.unlock_staff(&username, state.registry.clock().tick());
    let detail = serde_json::json!({ "reason": r.reason, "was_locked": changed });
    state
        .registry
        .record(&staff.username, LogAction::StaffUnlock.as_str(), &username, detail, store::Batch::default())
        .await
        .map_err(|e| ApiError::internal("audit", &e))?;
    Ok(Json(serde_json::json!({ "username": username, "action": "unlock", "changed": changed })))
}

/// True for what a staff username may be (as `ujian staff add` checks it): letters,
/// digits, `.`, `-` and `_`, at most 64. Checked before a login touches anything.
pub fn is_username(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

fn locked_out(locked: crate::throttle::Locked) -> ApiError {
    let minutes = locked.retry_after_ms.div_ceil(60_000).max(1);
    ApiError::new(
        Code::TooManyAttempts,
        format!("too many failed logins; try again in {minutes} minutes or ask the exam committee (admin)"),
    )
}
