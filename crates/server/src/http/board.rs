//! The public board over HTTP: the list, a snapshot page (cached, with an `ETag`), and
//! the live feed as Server-Sent Events.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use serde::Deserialize;

use super::AppState;
use super::client_ip::ClientIp;
use crate::board::{BoardId, BoardListing, MAX_PAGE};
use crate::error::{ApiError, Code};

#[derive(Debug, Deserialize)]
pub(super) struct PageQuery {
    offset: Option<usize>,
    limit: Option<usize>,
    /// For venue boards: which exam.
    exam: Option<String>,
}

fn board_id(kind: &str, id: &str, q: &PageQuery) -> Result<BoardId, ApiError> {
    BoardId::parse(kind, id, q.exam.as_deref())
        .ok_or_else(|| ApiError::new(Code::UnknownBoard, "boards are sitting/ID, venue/NAME?exam=CODE or exam/CODE"))
}

pub(super) async fn list(State(state): State<AppState>) -> Json<Vec<BoardListing>> {
    Json(state.board.list())
}

/// How long a proxy, a CDN or a browser may serve a snapshot it holds: the board moves
/// at most four times a second, and a public screen polling it may lag a second or two.
const SNAPSHOT_CACHE: &str = "public, max-age=2";

/// A board as JSON. The first page (no `offset` or `limit`) is the page the feed shares,
/// built once per board version whoever asks, with an `ETag` of its version: it may be
/// older than the board by up to a [`TICK`](crate::board::TICK), as the feed's first page is. A page chosen
/// with `offset` or `limit` is built for the request, so it is rate-limited per client
/// address (the forwarded one behind a trusted proxy) ([`PageLimiter`](crate::board::PageLimiter)).
pub(super) async fn snapshot(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Path((kind, id)): Path<(String, String)>,
    query: Result<Query<PageQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(ApiError::from)?;
    let board = board_id(&kind, &id, &q)?;
    let not_found = || ApiError::new(Code::UnknownBoard, "no such board");
    if q.offset.is_none() && q.limit.is_none() {
        let page = state.board.feed_page(&board).await.ok_or_else(not_found)?;
        let etag = format!("\"{:x}-{}\"", state.board.epoch, page.version);
        let fresh = headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|tag| tag.trim().trim_start_matches("W/") == etag));
        let cache = [(header::CACHE_CONTROL, SNAPSHOT_CACHE.to_owned()), (header::ETAG, etag)];
        if fresh {
            return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
        }
        return Ok((cache, [(header::CONTENT_TYPE, "application/json")], page.json()).into_response());
    }
    if !state.board_pages.allow(client) {
        return Err(ApiError::new(
            Code::RateLimited,
            "too many board pages chosen with offset or limit; slow down, or read the first page or the feed",
        ));
    }
    let limit = q.limit.unwrap_or(MAX_PAGE).min(MAX_PAGE);
    let snap = state.board.snapshot(&board, q.offset.unwrap_or(0), limit).ok_or_else(not_found)?;
    Ok(([(header::CACHE_CONTROL, SNAPSHOT_CACHE)], Json(snap)).into_response())
}

/// Server-Sent Events: a snapshot, then deltas; a fresh snapshot after falling behind.
/// Every event is a shared [`Frame`], sent as it was serialised.
pub(super) async fn feed(
    State(state): State<AppState>,
    Path((kind, id)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Result<Response, ApiError> {
    let board = board_id(&kind, &id, &q)?;
    let hub = state.board.clone();
    let not_found = || ApiError::new(Code::UnknownBoard, "no such board");
    // Subscribe before the snapshot, so no delta falls between the two.
    let rx = hub.subscribe(&board).ok_or_else(not_found)?;
    let first = hub.feed_page(&board).await.ok_or_else(not_found)?;
    let stream = crate::board::events(hub, board, rx, first, state.shutdown.clone());
    let headers = [(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-cache")];
    Ok((headers, Body::from_stream(stream)).into_response())
}
