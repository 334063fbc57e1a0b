//! Web pages and assets served by the binary: the three pages, the files under `/static/`
//! from one table, and item images.

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::app::AppState;
use crate::auth;
use crate::staff::STAFF_COOKIE;

/// A file under `/static/`: its name there, its content type, its bytes (built into the
/// binary, so a deployment is one file).
struct StaticFile {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every file the pages load. `common.*` is what the three pages share; each page loads it
/// before its own.
const STATIC_FILES: &[StaticFile] = &[
    StaticFile { name: "common.js", content_type: JS, bytes: include_bytes!("../web/common.js") },
    StaticFile { name: "common.css", content_type: CSS, bytes: include_bytes!("../web/common.css") },
    StaticFile { name: "candidate.js", content_type: JS, bytes: include_bytes!("../web/candidate.js") },
    StaticFile { name: "candidate.css", content_type: CSS, bytes: include_bytes!("../web/candidate.css") },
    StaticFile { name: "board.js", content_type: JS, bytes: include_bytes!("../web/board.js") },
    StaticFile { name: "board.css", content_type: CSS, bytes: include_bytes!("../web/board.css") },
    StaticFile { name: "console.js", content_type: JS, bytes: include_bytes!("../web/console.js") },
    StaticFile { name: "console.css", content_type: CSS, bytes: include_bytes!("../web/console.css") },
];

/// `/static/{file}`: a file of [`STATIC_FILES`], revalidated on every load so a new
/// release reaches every open browser.
pub(crate) async fn static_file(Path(file): Path<String>) -> Response {
    match STATIC_FILES.iter().find(|f| f.name == file) {
        Some(f) => ([(CONTENT_TYPE, f.content_type), (CACHE_CONTROL, "no-cache")], f.bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Each page is `web/head.html`, the opening every page shares (it loads `common.*`), then
/// the page's own file.
macro_rules! page {
    ($file:literal) => {
        concat!(include_str!("../web/head.html"), include_str!(concat!("../web/", $file)))
    };
}

const CANDIDATE_HTML: &str = page!("candidate.html");
const BOARD_HTML: &str = page!("board.html");
const CONSOLE_HTML: &str = page!("console.html");

pub(crate) async fn candidate_page() -> Html<&'static str> {
    Html(CANDIDATE_HTML)
}

/// The public board: the index at `/board`, one board at `/board/{kind}/{id}`; the page
/// reads which from its address.
pub(crate) async fn board_page() -> Html<&'static str> {
    Html(BOARD_HTML)
}

/// The supervisor console. Its data stays behind the staff API; the page itself is public.
/// Like every page it may not be framed by another site (`edge::PAGE_CSP`): it has
/// disqualify buttons.
pub(crate) async fn console_page() -> Response {
    ([(CACHE_CONTROL, "no-cache")], Html(CONSOLE_HTML)).into_response()
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
            Err(e) => return crate::control::wire(e).into_response(),
        },
        Err(e) if e.code != "unauthorized" => return e.into_response(),
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
    Some(state.registry.exams().asset(hash, name))
}
