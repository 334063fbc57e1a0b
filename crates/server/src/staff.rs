//! Staff (admin and supervisor) login and the [`Staff`] extractor that every console
//! route takes: it checks the token and gives the role; [`Staff::may_see`] checks scope.
//!
//! CSRF: the cookie is `SameSite=Strict`, and every state-changing route takes a JSON
//! body, which a cross-site form cannot send without a CORS preflight ujian never grants.

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::app::AppState;
use crate::auth;
use crate::error::ApiError;

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
        let role = match row.role.as_str() {
            "admin" => Role::Admin,
            "supervisor" => Role::Supervisor,
            _ => return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "this account has no console role")),
        };
        Ok(Staff { username: row.username, name: row.name, role })
    }
}

impl Staff {
    /// 403 unless this staff member may see and act on `sitting`.
    pub async fn may_see(&self, state: &AppState, sitting: &str) -> Result<(), ApiError> {
        if self.role == Role::Admin || state.registry.store().supervises(&self.username, sitting).await? {
            Ok(())
        } else {
            Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "you do not supervise this sitting"))
        }
    }

    pub fn admin_only(&self) -> Result<(), ApiError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "only the exam committee (admin) may do this"))
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
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    body: Result<Json<StaffLogin>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))?;
    let bad = || ApiError::new(StatusCode::UNAUTHORIZED, "bad_credentials", "username or password is wrong");
    let key = format!("staff:{}", req.username);
    let address = format!("ip:{}", peer.ip());
    let now = state.registry.clock().tick();
    state.auth.check_lockout(&key, crate::auth::MAX_FAILURES, now)?;
    state.auth.check_lockout(&address, crate::auth::MAX_FAILURES_PER_ADDRESS, now)?;
    let row = state.registry.store().staff(&req.username).await?;
    let ok = match &row {
        Some(r) => state.auth.verify(&req.password, &r.password_hash).await?,
        None => false,
    };
    let Some(row) = row.filter(|_| ok) else {
        state.auth.record_failure(&key, now);
        state.auth.record_failure(&address, now);
        return Err(bad());
    };
    state.auth.clear_failures(&key);
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
            "staff.login",
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
