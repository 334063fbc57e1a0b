//! The HTTP layer: the routes table with each route's [`Access`], the extractors, and one
//! module per surface. A handler parses the request, calls a service (which knows nothing
//! of axum) and maps the result to a response.
//!
//! # Layout
//!
//! - [`state`]: [`AppState`], the handles every handler is given.
//! - `login`: candidate login and logout.
//! - `candidate_ws`: the candidate WebSocket.
//! - `assets`: item images for a candidate's paper or for staff.
//! - `board`: the public board's snapshots and live feed (SSE).
//! - `console`: sitting and seat control, and the live seat monitor.
//! - `staff`: staff login and the [`Staff`](crate::staff::Staff) extractor.
//! - `pages`: the three pages and the files under `/static/`.
//! - `reports`: the item analysis and integrity reports for staff.
//! - `public`: health, the receipt keys, receipts by short code, the audit head.
//! - `selection`: a selection's signed announcements and a candidate's own standing.
//! - [`edge`]: the Origin check, security headers and error shape every route passes.
//! - [`serve`]: the accept loop: header-read and idle timeouts, connection caps.
//! - [`client_ip`]: the client's address, through trusted reverse proxies.
//! - `error`: errors as responses, where they are logged.

mod assets;
mod board;
mod candidate_ws;
pub mod client_ip;
mod console;
pub mod edge;
pub(crate) mod error;
mod login;
mod pages;
mod public;
mod reports;
mod selection;
pub mod serve;
mod staff;
pub mod state;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderValue;
use axum::http::header::CACHE_CONTROL;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;

pub use client_ip::TrustedProxies;
pub use edge::Site;
pub use serve::{Connections, Limits};
pub use state::AppState;

/// Who may use a route. Every route is listed in [`routes`] with its access, and the
/// role-matrix test walks that list, so a new route cannot be added without saying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: pages, the public board, health, keys, logins.
    Public,
    /// A logged-in candidate, for their own session only.
    Candidate,
    /// A logged-in candidate for what is theirs (their own paper's images), or staff for
    /// any.
    CandidateOrStaff,
    /// Staff (admin, or a supervisor of the sitting the path names).
    Staff,
    /// The exam committee (admin) only.
    Admin,
}

/// One route: method, path, access and handler.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    handler: axum::routing::MethodRouter<AppState>,
}

fn route(
    method: &'static str,
    path: &'static str,
    access: Access,
    handler: axum::routing::MethodRouter<AppState>,
) -> Route {
    Route { method, path, access, handler }
}

/// Every route of the server.
pub fn routes() -> Vec<Route> {
    let login_body = DefaultBodyLimit::max(crate::auth::LOGIN_BODY_LIMIT);
    use Access::{Admin, Candidate, CandidateOrStaff, Public, Staff};
    vec![
        route("GET", "/", Public, get(pages::candidate_page)),
        route("GET", "/static/{file}", Public, get(pages::static_file)),
        route("GET", "/board", Public, get(pages::board_page)),
        route("GET", "/board/{kind}/{id}", Public, get(pages::board_page)),
        route("GET", "/console", Public, get(pages::console_page)),
        route("GET", "/console/{sitting}", Public, get(pages::console_page)),
        route("GET", "/health", Public, get(public::health)),
        route("GET", "/api/v1/keys", Public, get(public::keys)),
        route("GET", "/api/v1/audit/head", Public, get(public::audit_head)),
        route("GET", "/api/v1/receipts/{code}", Public, get(public::receipt)),
        route("GET", "/api/v1/receipts/qr.svg", Public, get(public::receipt_qr)),
        route("POST", "/api/v1/candidate/login", Public, post(login::login).layer(login_body)),
        route("POST", "/api/v1/candidate/logout", Public, post(login::logout)),
        route("GET", "/api/v1/assets/{hash}/{name}", CandidateOrStaff, get(assets::asset)),
        route("GET", "/ws/candidate", Candidate, get(candidate_ws::candidate_ws)),
        route("GET", "/api/v1/boards", Public, get(board::list)),
        route("GET", "/api/v1/boards/{kind}/{id}", Public, get(board::snapshot)),
        route("GET", "/api/v1/boards/{kind}/{id}/feed", Public, get(board::feed)),
        route("GET", "/api/v1/selections/{id}/announcements", Public, get(selection::list)),
        route("GET", "/api/v1/selections/{id}/standing", Public, get(selection::standing)),
        route("GET", "/api/v1/announcements/{no}", Public, get(selection::announcement)),
        route("POST", "/api/v1/staff/login", Public, post(staff::login).layer(login_body)),
        route("POST", "/api/v1/staff/logout", Public, post(staff::logout)),
        route("GET", "/api/v1/staff/me", Staff, get(staff::me)),
        route("POST", "/api/v1/staff/{username}/unlock", Admin, post(staff::unlock)),
        route("GET", "/api/v1/sittings", Staff, get(console::list)),
        route("GET", "/api/v1/sittings/{id}", Staff, get(console::detail)),
        route("POST", "/api/v1/sittings/{id}/{action}", Staff, post(console::sitting_action)),
        route("POST", "/api/v1/sittings/{id}/checkin", Staff, post(console::check_in_many)),
        route("POST", "/api/v1/sessions/{id}/{action}", Staff, post(console::session_action)),
        route("POST", "/api/v1/sessions/{id}/unlock", Staff, post(console::unlock_candidate)),
        route("GET", "/ws/monitor/{id}", Staff, get(console::monitor)),
        route("GET", "/api/v1/sittings/{id}/reports/{file}", Staff, get(reports::integrity)),
        route("GET", "/api/v1/exams/{code}/reports/{file}", Admin, get(reports::items)),
    ]
}

/// The largest request body any route takes unless it says otherwise: every body the
/// server reads is a login or a supervisor's action with its reason.
pub const BODY_LIMIT: usize = 16 * 1024;

fn router(state: AppState, site: Site) -> Router {
    let routes = routes().into_iter().fold(Router::new(), |r, route| {
        let handler = match route.access {
            Access::Public => route.handler,
            // A candidate's or staff member's data (a sitting's detail holds its token):
            // no cache may keep it.
            _ => route
                .handler
                .layer(SetResponseHeaderLayer::overriding(CACHE_CONTROL, HeaderValue::from_static(edge::NO_STORE))),
        };
        r.route(route.path, handler)
    });
    edge::layers(routes.layer(DefaultBodyLimit::max(BODY_LIMIT)).with_state(state), site)
}

/// Serves `state` on `listener` until `stop` completes (see [`serve::serve`]).
pub(crate) async fn serve(
    listener: TcpListener,
    state: AppState,
    site: Site,
    limits: &Limits,
    stop: impl Future<Output = ()> + Send + 'static,
) {
    let connections = state.connections.clone();
    serve::serve(listener, router(state, site), limits, connections, stop).await;
}
