//! The public surface beside the pages: health, the keys that sign receipts, receipts
//! by their short code, and the audit chain's signed head.

use std::net::IpAddr;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse as _, Response};
use serde::Serialize;

use super::AppState;
use super::client_ip::ClientIp;
use super::edge;
use crate::error::{ApiError, Code};
use crate::signed_head::SignedHead;
use crate::staff::Staff;

/// The public keys that sign result receipts, for anyone to check one.
pub(super) async fn keys(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "keys": [{ "id": state.signer.key_id, "alg": "Ed25519", "public_key_hex": state.signer.public_hex }]
    }))
}

/// The audit chain's latest signed head, for anyone to keep and check the chain against
/// later (`ujian audit verify --head`).
pub(super) async fn audit_head(State(state): State<AppState>) -> Json<SignedHead> {
    Json(state.heads.latest())
}

/// What `/health` says: `ok` to anyone; the version, the database's durability settings
/// and the open connections only to staff (they tell an attacker what to try).
#[derive(Serialize)]
struct Health {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    database: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    connections: Option<usize>,
}

pub(super) async fn health(
    State(state): State<AppState>,
    staff: Result<Staff, ApiError>,
) -> Result<Response, ApiError> {
    let database = state.registry.store().durability().await.map_err(|e| {
        tracing::error!(error = %e, "health check failed");
        ApiError::new(Code::Unavailable, "the database cannot be reached")
    })?;
    let health = match staff {
        Ok(_) => Health {
            status: "ok",
            version: Some(env!("CARGO_PKG_VERSION")),
            database: Some(database),
            connections: Some(state.connections.open()),
        },
        Err(refused) => {
            // Dropped here: an internal failure behind it is logged, not sent.
            refused.log();
            Health { status: "ok", version: None, database: None, connections: None }
        }
    };
    Ok(([(CACHE_CONTROL, edge::NO_STORE)], Json(health)).into_response())
}

/// How long a receipt found by its code may be kept: a finished result never changes.
const RECEIPT_CACHE: &str = "public, max-age=3600";

/// The full receipt for a short code, so that the code a candidate wrote down can be
/// checked (`ujian receipt verify CODE --server URL`). Nothing but the receipt itself:
/// whoever has the code was shown it.
pub(super) async fn receipt(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    let (code, full) = find_receipt(&state, client, &code).await?;
    let body = serde_json::json!({ "code": code, "receipt": full, "key_id": state.signer.key_id });
    Ok(([(CACHE_CONTROL, RECEIPT_CACHE)], Json(body)).into_response())
}

#[derive(serde::Deserialize)]
pub(super) struct QrQuery {
    receipt: String,
}

/// A receipt this server signed, as a QR code (SVG), for the result screen and the slip:
/// drawn from the receipt in the address after its signature is checked, so it reads
/// nothing and a room finishing at once behind one address is not held back by a limit.
pub(super) async fn receipt_qr(
    State(state): State<AppState>,
    query: Result<Query<QrQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(q) = query.map_err(ApiError::from)?;
    let unknown = || ApiError::new(Code::UnknownReceipt, "not a receipt this server signed");
    crate::receipt::verify(&q.receipt, &state.signer.public_hex).map_err(|_| unknown())?;
    let svg = crate::receipt::qr_svg(q.receipt.trim()).ok_or_else(unknown)?;
    Ok(([(CACHE_CONTROL, RECEIPT_CACHE), (CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

async fn find_receipt(state: &AppState, client: IpAddr, code: &str) -> Result<(String, String), ApiError> {
    // Per client, not per peer: behind a trusted proxy every peer is the proxy.
    if !state.receipt_lookups.allow(client) {
        return Err(ApiError::new(Code::RateLimited, "too many receipt lookups; slow down"));
    }
    let unknown = || ApiError::new(Code::UnknownReceipt, "no result has this receipt code");
    let code = crate::receipt::parse_short_code(code).ok_or_else(unknown)?;
    let full = crate::receipt::find(state.registry.store(), &code).await?.ok_or_else(unknown)?;
    Ok((code, full))
}
