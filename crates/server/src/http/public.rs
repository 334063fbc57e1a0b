//! The public surface beside the pages: health, the keys that sign receipts, and the
//! audit chain's signed head.

use axum::Json;
use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse as _, Response};
use serde::Serialize;

use super::AppState;
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
