//! Web pages and assets served by the binary: the candidate, board and console pages.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Response};

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
