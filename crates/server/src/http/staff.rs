//! Staff login, logout and unlock over HTTP, and the [`Staff`] extractor every console
//! route takes.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::client_ip::ClientIp;
use super::console::reason;
use super::login::{STAFF_COOKIE, bearer_or_cookie, with_cookie};
use crate::control::Reason;
use crate::error::ApiError;
use crate::staff::{self, Staff, StaffLogin, TOKEN_HOURS};

impl FromRequestParts<AppState> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Staff, ApiError> {
        Staff::of_token(&state.registry, bearer_or_cookie(&parts.headers, STAFF_COOKIE).as_deref()).await
    }
}

pub(super) async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    body: Result<Json<StaffLogin>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(ApiError::from)?;
    let login = staff::login(&state.auth, &state.registry, client, &req).await?;
    let body = Json(serde_json::json!({ "token": login.token, "username": login.username, "role": login.role }))
        .into_response();
    with_cookie(body, STAFF_COOKIE, &login.token, Some(TOKEN_HOURS * 3600), state.auth.secure_cookies())
}

/// Ends the login on the server too, so a copied cookie or script token stops working.
pub(super) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    staff::logout(&state.registry, bearer_or_cookie(&headers, STAFF_COOKIE).as_deref()).await?;
    with_cookie(StatusCode::NO_CONTENT.into_response(), STAFF_COOKIE, "", Some(0), state.auth.secure_cookies())
}

pub(super) async fn me(staff: Staff) -> Json<Staff> {
    Json(staff)
}

/// `POST /api/v1/staff/{username}/unlock`: an admin lets a staff account whose password
/// was refused too often log in again at once, from every address (audited, with the
/// reason). Unknown usernames are counted too, so any well-formed one can be unlocked.
pub(super) async fn unlock(
    State(state): State<AppState>,
    staff: Staff,
    Path(username): Path<String>,
    body: Result<Json<Reason>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    staff.admin_only()?;
    let r = reason(body)?;
    let changed = staff::unlock(&state.auth, &state.registry, &staff, &username, &r.reason).await?;
    Ok(Json(serde_json::json!({ "username": username, "action": "unlock", "changed": changed })))
}
