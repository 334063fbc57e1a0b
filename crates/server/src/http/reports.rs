//! The item analysis and integrity reports for staff: the same files `ujian analyze`
//! writes, built on request. One report is computed at a time per server (each reads a
//! whole exam's answer logs); a request while one runs is told to come back.

use axum::extract::{Path, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, RETRY_AFTER};
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::error::{ApiError, Code};
use crate::reports::{Input, build};
use crate::staff::Staff;

/// What a client waits before asking again while another report is computed.
const RETRY_AFTER_SECS: &str = "10";

/// `GET /api/v1/sittings/{id}/reports/{file}`: `integrity` (the HTML page),
/// `integrity.json`, `integrity.csv` or `pairs.csv`; staff of the sitting.
pub(super) async fn integrity(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    state.control().known_sitting(&staff, &id).await?;
    let name = file_name(&file, "integrity", &["integrity.json", "integrity.csv", "pairs.csv"])?;
    serve(&state, name, Input::integrity(state.registry.store(), &id)).await
}

/// `GET /api/v1/exams/{code}/reports/{file}`: `items` (the HTML page), `items.json`,
/// `items.csv` or `sections.csv` over every sitting of the exam; admin only.
pub(super) async fn items(
    State(state): State<AppState>,
    staff: Staff,
    Path((code, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    staff.admin_only()?;
    if state.registry.store().get_exam(&code).await?.is_none() {
        return Err(ApiError::new(Code::NotFound, "no such exam"));
    }
    let name = file_name(&file, "items", &["items.json", "items.csv", "sections.csv"])?;
    serve(&state, name, Input::items(state.registry.store(), &code, None)).await
}

/// The report file a path's last part asks for: `page` is the HTML report.
fn file_name(file: &str, page: &str, others: &[&'static str]) -> Result<&'static str, ApiError> {
    if file == page {
        return Ok("report.html");
    }
    others
        .iter()
        .copied()
        .find(|n| *n == file)
        .ok_or_else(|| ApiError::new(Code::NotFound, format!("no such report; ask for {page}, {}", others.join(", "))))
}

async fn serve(
    state: &AppState,
    name: &'static str,
    input: impl Future<Output = anyhow::Result<Input>>,
) -> Result<Response, ApiError> {
    let Ok(_permit) = state.reports.try_acquire() else {
        let busy = ApiError::new(Code::RateLimited, "another report is being computed; try again shortly");
        return Ok(([(RETRY_AFTER, RETRY_AFTER_SECS)], busy).into_response());
    };
    let input = input.await.map_err(|e| ApiError::internal("read a report's data", &e))?;
    let report = build(input).await.map_err(|e| ApiError::internal("compute a report", &e))?;
    let text = report.file(name).unwrap_or_default().to_owned();
    let kind = match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("json") => "application/json",
        _ => "text/csv; charset=utf-8",
    };
    let disposition =
        if name.ends_with(".html") { "inline".to_owned() } else { format!("attachment; filename=\"{name}\"") };
    Ok(([(CONTENT_TYPE, kind.to_owned()), (CONTENT_DISPOSITION, disposition)], text).into_response())
}
