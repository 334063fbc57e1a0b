//! Item images over HTTP: a candidate's own paper's, or any for staff.

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::login::{self, STAFF_COOKIE, bearer_or_cookie};
use crate::auth;
use crate::error::{ApiError, Code};

/// An item image: for a candidate, only one on their own paper while their exam runs
/// (a name guessed from another paper is not found); for staff, any image of a loaded
/// bank. SVGs are served with a policy that forbids scripts, so an image in a bank cannot
/// run code in the exam page.
pub(super) async fn asset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((hash, name)): Path<(String, String)>,
) -> Response {
    let bytes = match login::candidate(&state, &headers).await {
        Ok(login) => match state.registry.paper_asset(&login.session, &hash, &name).await {
            Ok(bytes) => bytes,
            Err(e) => return ApiError::from(e).into_response(),
        },
        Err(e) if e.code != Code::Unauthorized => return e.into_response(),
        Err(refused) => match staff_asset(&state, &headers, &hash, &name).await {
            Some(found) => found,
            None => return refused.into_response(),
        },
    };
    let Some(bytes) = bytes else { return StatusCode::NOT_FOUND.into_response() };
    let lower = name.to_ascii_lowercase();
    let ty = match lower.rsplit('.').next() {
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        _ => "application/octet-stream",
    };
    (
        [
            (CONTENT_TYPE, ty),
            (CACHE_CONTROL, "private, max-age=86400, immutable"),
            (CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'"),
        ],
        bytes,
    )
        .into_response()
}

/// For a staff login: the image (`None` inside when not found); `None` for anyone else.
async fn staff_asset(state: &AppState, headers: &HeaderMap, hash: &str, name: &str) -> Option<Option<Vec<u8>>> {
    let token = bearer_or_cookie(headers, STAFF_COOKIE)?;
    let now = store::ts(state.registry.clock().utc());
    let staff = state.registry.store().staff_for_token(&auth::token_hash(&token), &now).await.ok()??;
    tracing::debug!(staff = %staff.username, asset = %name, "asset for staff");
    Some(state.registry.exams().asset(hash, name))
}
