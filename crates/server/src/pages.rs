//! Web pages and assets served by the binary: the candidate exam page and item images.

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::app::AppState;
use crate::auth;
use crate::error::{ApiError, Code};
use crate::staff::STAFF_COOKIE;

const CANDIDATE_HTML: &str = include_str!("../web/candidate.html");
const CANDIDATE_JS: &str = include_str!("../web/candidate.js");
const CANDIDATE_CSS: &str = include_str!("../web/candidate.css");
const BOARD_HTML: &str = include_str!("../web/board.html");
const BOARD_JS: &str = include_str!("../web/board.js");
const BOARD_CSS: &str = include_str!("../web/board.css");
const CONSOLE_HTML: &str = include_str!("../web/console.html");
const CONSOLE_JS: &str = include_str!("../web/console.js");
const CONSOLE_CSS: &str = include_str!("../web/console.css");

pub(crate) async fn candidate_page() -> Html<&'static str> {
    Html(CANDIDATE_HTML)
}

pub(crate) async fn candidate_js() -> Response {
    ([(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "no-cache")], CANDIDATE_JS).into_response()
}

pub(crate) async fn candidate_css() -> Response {
    ([(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "no-cache")], CANDIDATE_CSS).into_response()
}

/// The public board: the index at `/board`, one board at `/board/{kind}/{id}`; the page
/// reads which from its address.
pub(crate) async fn board_page() -> Html<&'static str> {
    Html(BOARD_HTML)
}

pub(crate) async fn board_js() -> Response {
    ([(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "no-cache")], BOARD_JS).into_response()
}

pub(crate) async fn board_css() -> Response {
    ([(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "no-cache")], BOARD_CSS).into_response()
}

/// The supervisor console. Its data stays behind the staff API; the page itself is public.
/// Like every page it may not be framed by another site (`edge::PAGE_CSP`): it has
/// disqualify buttons.
pub(crate) async fn console_page() -> Response {
    ([(CACHE_CONTROL, "no-cache")], Html(CONSOLE_HTML)).into_response()
}

pub(crate) async fn console_js() -> Response {
    ([(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "no-cache")], CONSOLE_JS).into_response()
}

pub(crate) async fn console_css() -> Response {
    ([(CONTENT_TYPE, "text/css; charset=utf-8"), (CACHE_CONTROL, "no-cache")], CONSOLE_CSS).into_response()
}

/// An item image: for a candidate, only one on their own paper while their exam runs
/// (a name guessed from another paper is not found); for staff, any image of a loaded
/// bank. SVGs are served with a policy that forbids scripts, so an image in a bank cannot
/// run code in the exam page.
pub(crate) async fn asset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((hash, name)): Path<(String, String)>,
) -> Response {
    let bytes = match auth::session_of(&state, &headers).await {
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
    let token = auth::bearer_or_cookie(headers, STAFF_COOKIE)?;
    let now = store::ts(state.registry.clock().utc());
    let staff = state.registry.store().staff_for_token(&auth::token_hash(&token), &now).await.ok()??;
    tracing::debug!(staff = %staff.username, asset = %name, "asset for staff");
    Some(state.registry.asset(hash, name))
}
