//! Errors leaving the server over HTTP: [`ApiError`] as a response (logged here, once),
//! and axum's extractor refusals as [`ApiError`]s.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, Code};

/// The response for an error with a given status: `{"error": {"code", "message"}}`.
pub(crate) fn response(status: StatusCode, code: Code, message: &str) -> Response {
    let body = serde_json::json!({ "error": { "code": code.as_str(), "message": message } });
    (status, Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        response(status, self.code, &self.message)
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
                return ApiError::new(Code::TooLarge, "the request body is too large");
            }
            _ => "the body could not be read",
        };
        ApiError::new(Code::BadRequest, message)
    }
}

/// A query string that does not fit: as for [`JsonRejection`], logged, not echoed.
impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> ApiError {
        tracing::info!(detail = %e.body_text(), "refused a query string");
        ApiError::new(Code::BadRequest, "the query string has a parameter of the wrong type")
    }
}
