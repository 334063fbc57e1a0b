//! Web pages and assets served by the binary: the three pages and the files under
//! `/static/` from one table.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Response};

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
    StaticFile { name: "common.js", content_type: JS, bytes: include_bytes!("../../web/common.js") },
    StaticFile { name: "common.css", content_type: CSS, bytes: include_bytes!("../../web/common.css") },
    StaticFile { name: "candidate.js", content_type: JS, bytes: include_bytes!("../../web/candidate.js") },
    StaticFile { name: "candidate.css", content_type: CSS, bytes: include_bytes!("../../web/candidate.css") },
    StaticFile { name: "board.js", content_type: JS, bytes: include_bytes!("../../web/board.js") },
    StaticFile { name: "board.css", content_type: CSS, bytes: include_bytes!("../../web/board.css") },
    StaticFile { name: "console.js", content_type: JS, bytes: include_bytes!("../../web/console.js") },
    StaticFile { name: "console.css", content_type: CSS, bytes: include_bytes!("../../web/console.css") },
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
        concat!(include_str!("../../web/head.html"), include_str!(concat!("../../web/", $file)))
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
