//! Candidate login and logout over HTTP, and the login tokens' transport: the
//! `Authorization` header or a cookie.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::client_ip::ClientIp;
use crate::auth::{CandidateLogin, LoginRequest};
use crate::error::ApiError;

pub(super) const CANDIDATE_COOKIE: &str = "ujian_candidate";
pub(super) const STAFF_COOKIE: &str = "ujian_staff";

/// The candidate login a request carries, checked (see [`Auth::session_of`](crate::auth::Auth::session_of)).
pub(super) async fn candidate(state: &AppState, headers: &HeaderMap) -> Result<CandidateLogin, ApiError> {
    let token = bearer_or_cookie(headers, CANDIDATE_COOKIE);
    state.auth.session_of(&state.registry, token.as_deref()).await
}

pub(super) async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(ApiError::from)?;
    let login = state.auth.login(&state.registry, client, &req).await?;
    let token = login.token.clone();
    with_cookie(Json(login).into_response(), CANDIDATE_COOKIE, &token, None, state.auth.secure_cookies())
}

/// Ends the login on the server (the next person at a shared PC cannot use it) and clears
/// the cookie.
pub(super) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let token = bearer_or_cookie(&headers, CANDIDATE_COOKIE);
    state.auth.logout(&state.registry, token.as_deref()).await?;
    with_cookie(StatusCode::NO_CONTENT.into_response(), CANDIDATE_COOKIE, "", Some(0), state.auth.secure_cookies())
}

/// The bearer token of a request: the `Authorization` header, else the named cookie.
pub(super) fn bearer_or_cookie(headers: &HeaderMap, cookie: &str) -> Option<String> {
    if let Some(v) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok())
        && let Some(t) = v.strip_prefix("Bearer ")
    {
        return Some(t.trim().to_owned());
    }
    headers.get_all(COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == cookie).then(|| v.to_owned())
    })
}

/// A JSON reply that also sets (or, with `max_age` 0, clears) a login cookie: HttpOnly,
/// SameSite=Strict, for the whole site; `Secure` when the public address is https. Without
/// `max_age` it is a session cookie: gone when the browser closes (a shared PC).
pub(super) fn with_cookie(
    body: Response,
    cookie: &str,
    token: &str,
    max_age: Option<i64>,
    secure: bool,
) -> Result<Response, ApiError> {
    let mut response = body;
    let mut value = format!("{cookie}={token}; HttpOnly; SameSite=Strict; Path=/");
    if let Some(max_age) = max_age {
        value.push_str(&format!("; Max-Age={max_age}"));
    }
    if secure {
        value.push_str("; Secure");
    }
    response
        .headers_mut()
        .insert(SET_COOKIE, HeaderValue::from_str(&value).map_err(|e| ApiError::internal("cookie", &e))?);
    Ok(response)
}
