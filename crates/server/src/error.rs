//! The one place where errors become wire codes: a stable snake_case code plus a human
//! message. Internals are logged here, never sent to clients.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use session_engine::Refusal;

/// An error sent to a candidate over the WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    pub code: &'static str,
    pub message: String,
}

impl WireError {
    pub fn new(code: &'static str, message: impl Into<String>) -> WireError {
        WireError { code, message: message.into() }
    }

    pub fn bad_message(message: impl Into<String>) -> WireError {
        WireError::new("bad_message", message)
    }

    pub fn bad_seq(message: impl Into<String>) -> WireError {
        WireError::new("bad_seq", message)
    }

    /// A storage or other internal failure: logged in full, reported as "retry".
    pub fn internal(context: &str, err: &dyn std::fmt::Display) -> WireError {
        tracing::error!(error = %err, "{context}");
        WireError::new("internal", "the server could not store this; send it again with the same seq")
    }
}

/// Refusals of a candidate's login (its connect or request) and of a supervisor's reach,
/// the same on the WebSocket and over HTTP.
impl WireError {
    /// The session has not started and its sitting closed: it cannot start any more.
    pub fn sitting_closed() -> WireError {
        WireError::new("sitting_closed", "the sitting is closed: an exam that has not started cannot start any more")
    }

    /// The session's seat is held by another login (the one that started it, or the one
    /// a supervisor's allow-move let in).
    pub fn seat_locked() -> WireError {
        WireError::new(
            "seat_locked",
            "this exam is already running with another login; ask the supervisor to allow a move",
        )
    }

    pub fn token_expired() -> WireError {
        WireError::new("token_expired", "this login has expired; log in again")
    }

    /// A supervisor's extension past the exam's cap (`extension_cap_minutes`).
    pub fn extension_limit(cap_minutes: u32, given_minutes: u64) -> WireError {
        WireError::new(
            "extension_limit",
            format!(
                "extensions beyond {cap_minutes} minutes in total for a session need the exam committee (admin); \
                 this session has {given_minutes} minutes"
            ),
        )
    }
}

impl From<Refusal> for WireError {
    fn from(r: Refusal) -> WireError {
        let code = match r {
            Refusal::NotStarted => "not_started",
            Refusal::AlreadyFinished => "finished",
            Refusal::TimeExpired => "time_expired",
            Refusal::Paused => "paused",
            Refusal::NotPaused => "not_paused",
            Refusal::UnknownIndex(_) => "unknown_index",
            Refusal::BadChoice => "bad_choice",
        };
        WireError::new(code, r.to_string())
    }
}

/// An HTTP API error: status, stable code, message, as `{"error": {"code", "message"}}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "log in first")
    }

    pub fn internal(context: &str, err: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %err, "{context}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; try again")
    }

    /// A login refusal ([`WireError::sitting_closed`], [`WireError::seat_locked`]: 403;
    /// [`WireError::token_expired`]: 401) as an HTTP error.
    pub fn login_refused(e: WireError) -> ApiError {
        let status = if e.code == "token_expired" { StatusCode::UNAUTHORIZED } else { StatusCode::FORBIDDEN };
        ApiError::new(status, e.code, e.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, Json(body)).into_response()
    }
}

/// A JSON body that does not fit: the parser's text goes to the log, the client gets a
/// stable code and a plain message (the text names internals: type names, offsets).
impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> ApiError {
        tracing::info!(detail = %e.body_text(), "refused a request body");
        let message = match &e {
            JsonRejection::MissingJsonContentType(_) => "send the body as JSON, with Content-Type: application/json",
            JsonRejection::JsonSyntaxError(_) => "the body is not valid JSON",
            JsonRejection::JsonDataError(_) => {
                "the body lacks a field this request needs, or a field has the wrong type"
            }
            _ if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "the request body is too large");
            }
            _ => "the body could not be read",
        };
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
}

/// A query string that does not fit: as for [`JsonRejection`], logged, not echoed.
impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> ApiError {
        tracing::info!(detail = %e.body_text(), "refused a query string");
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "the query string has a parameter of the wrong type")
    }
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> ApiError {
        ApiError::internal("store", &e)
    }
}
