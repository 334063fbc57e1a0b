//! The one place where errors become wire codes: a stable snake_case [`Code`] plus a human
//! message. Internals are kept beside the error and logged where it leaves the server
//! (`http::error` for HTTP, the candidate WebSocket for its frames), never sent to clients.

use std::fmt;
use std::str::FromStr;

use session_engine::Refusal;

/// Defines [`Code`] from one table, so that every code has its string and status and is in
/// [`Code::ALL`]: a code cannot be added without them.
macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident = $text:literal, $status:literal;)*) => {
        /// Every error code the server sends, on HTTP and on the WebSockets. The pages
        /// translate each one (`web/common.js`'s `ERROR_TEXTS`), so a code is a
        /// compatibility promise.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            /// Every code, for the test that each has a text in the pages' translations.
            pub const ALL: &[Code] = &[$(Code::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }

            /// The HTTP status an error with this code carries. Codes only the candidate
            /// WebSocket sends have one too, so a WebSocket refusal can be answered over
            /// HTTP (an image of a paper, a supervisor's action) without a second table.
            pub fn status(self) -> u16 {
                match self {
                    $(Code::$variant => $status,)*
                }
            }
        }
    };
}

codes! {
    /// A storage or other internal failure; the client may retry.
    Internal = "internal", 500;
    /// The database cannot be reached (the health check).
    Unavailable = "unavailable", 503;
    Unauthorized = "unauthorized", 401;
    Forbidden = "forbidden", 403;
    BadRequest = "bad_request", 400;
    NotFound = "not_found", 404;
    MethodNotAllowed = "method_not_allowed", 405;
    TooLarge = "too_large", 413;
    /// A state-changing request came from a page of another site.
    CrossOrigin = "cross_origin", 403;
    BadCredentials = "bad_credentials", 401;
    TooManyAttempts = "too_many_attempts", 429;
    RateLimited = "rate_limited", 429;
    SittingNotOpen = "sitting_not_open", 403;
    SittingClosed = "sitting_closed", 403;
    SeatLocked = "seat_locked", 403;
    TokenExpired = "token_expired", 401;
    ExtensionLimit = "extension_limit", 403;
    ReasonRequired = "reason_required", 400;
    UnknownAction = "unknown_action", 404;
    UnknownBoard = "unknown_board", 404;
    /// No finished session's receipt has the short code asked for.
    UnknownReceipt = "unknown_receipt", 404;
    UnknownSitting = "unknown_sitting", 404;
    UnknownSession = "unknown_session", 404;
    /// An answer to the session is still being stored.
    Busy = "busy", 409;
    /// A candidate's WebSocket message that is not part of the protocol.
    BadMessage = "bad_message", 400;
    BadSeq = "bad_seq", 400;
    // The session's state refuses the action: a conflict, not a malformed request.
    NotStarted = "not_started", 409;
    Finished = "finished", 409;
    TimeExpired = "time_expired", 409;
    Paused = "paused", 409;
    NotPaused = "not_paused", 409;
    UnknownIndex = "unknown_index", 409;
    BadChoice = "bad_choice", 409;
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is no [`Code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error code {0:?}")]
pub struct UnknownCode(pub String);

impl FromStr for Code {
    type Err = UnknownCode;

    fn from_str(s: &str) -> Result<Code, UnknownCode> {
        Code::ALL.iter().copied().find(|c| c.as_str() == s).ok_or_else(|| UnknownCode(s.to_owned()))
    }
}

/// What an internal failure was, for the log only.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Detail {
    context: String,
    error: String,
}

/// An error sent to a candidate over the WebSocket (or, through [`ApiError::from`], over
/// HTTP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireError {
    pub code: Code,
    pub message: String,
    /// An internal failure's cause, logged where the error leaves the server.
    detail: Option<Detail>,
}

impl WireError {
    pub fn new(code: Code, message: impl Into<String>) -> WireError {
        WireError { code, message: message.into(), detail: None }
    }

    pub fn bad_message(message: impl Into<String>) -> WireError {
        WireError::new(Code::BadMessage, message)
    }

    pub fn bad_seq(message: impl Into<String>) -> WireError {
        WireError::new(Code::BadSeq, message)
    }

    /// A storage or other internal failure: reported as "retry", its cause kept for the log.
    pub fn internal(context: &str, err: &dyn fmt::Display) -> WireError {
        WireError {
            detail: Some(Detail { context: context.to_owned(), error: err.to_string() }),
            ..WireError::new(Code::Internal, "the server could not store this; send it again with the same seq")
        }
    }

    /// Logs the cause of an internal failure: called once, where the error leaves the
    /// server (or where it is dropped).
    pub fn log(&self) {
        if let Some(d) = &self.detail {
            tracing::error!(error = %d.error, "{}", d.context);
        }
    }

    /// Logs an error a background step drops, once, with what it was doing and what about
    /// (a session, an exam): the internal cause when there is one, else the code and message.
    pub fn log_dropped(&self, doing: &str, about: &str) {
        match &self.detail {
            Some(d) => tracing::error!(about, error = %d.error, "{doing}: {}", d.context),
            None => tracing::error!(about, code = self.code.as_str(), "{doing}: {}", self.message),
        }
    }

    /// This error as an internal failure of `context`, for a step that cannot fail for a
    /// client's reason: the client reads "internal error", the log gets the cause.
    pub fn into_internal(self, context: &str) -> ApiError {
        let detail = self.detail.unwrap_or(Detail { context: context.to_owned(), error: self.message });
        ApiError { detail: Some(detail), ..ApiError::new(Code::Internal, "internal error; try again") }
    }
}

/// Refusals of a candidate's login (its connect or request) and of a supervisor's reach,
/// the same on the WebSocket and over HTTP.
impl WireError {
    /// The session has not started and its sitting closed: it cannot start any more.
    pub fn sitting_closed() -> WireError {
        WireError::new(Code::SittingClosed, "the sitting is closed: an exam that has not started cannot start any more")
    }

    /// The session's seat is held by another login (the one that started it, or the one
    /// a supervisor's allow-move let in).
    pub fn seat_locked() -> WireError {
        WireError::new(
            Code::SeatLocked,
            "this exam is already running with another login; ask the supervisor to allow a move",
        )
    }

    pub fn token_expired() -> WireError {
        WireError::new(Code::TokenExpired, "this login has expired; log in again")
    }

    /// A supervisor's extension past the exam's cap (`extension_cap_minutes`).
    pub fn extension_limit(cap_minutes: u32, given_minutes: u64) -> WireError {
        WireError::new(
            Code::ExtensionLimit,
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
            Refusal::NotStarted => Code::NotStarted,
            Refusal::AlreadyFinished => Code::Finished,
            Refusal::TimeExpired => Code::TimeExpired,
            Refusal::Paused => Code::Paused,
            Refusal::NotPaused => Code::NotPaused,
            Refusal::UnknownIndex(_) => Code::UnknownIndex,
            Refusal::BadChoice => Code::BadChoice,
        };
        WireError::new(code, r.to_string())
    }
}

/// An HTTP API error: a stable code (which gives the status) and a message, sent as
/// `{"error": {"code", "message"}}` by `http::error`.
#[derive(Debug)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    detail: Option<Detail>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError { code, message: message.into(), detail: None }
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(Code::Unauthorized, "log in first")
    }

    /// An internal failure: "try again" to the client, its cause kept for the log.
    pub fn internal(context: &str, err: &dyn fmt::Display) -> ApiError {
        ApiError {
            detail: Some(Detail { context: context.to_owned(), error: err.to_string() }),
            ..ApiError::new(Code::Internal, "internal error; try again")
        }
    }

    /// The HTTP status, from the code.
    pub fn status(&self) -> u16 {
        self.code.status()
    }

    /// Logs the cause of an internal failure: called once, where the error leaves the
    /// server.
    pub fn log(&self) {
        if let Some(d) = &self.detail {
            tracing::error!(error = %d.error, "{}", d.context);
        }
    }
}

/// A refusal from the sessions (a login's, a supervisor's action's, an image's) as an HTTP
/// error, with the status its code carries.
impl From<WireError> for ApiError {
    fn from(e: WireError) -> ApiError {
        ApiError { code: e.code, message: e.message, detail: e.detail }
    }
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> ApiError {
        ApiError::internal("store", &e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_reads_back_from_its_string() {
        for &code in Code::ALL {
            assert_eq!(code.as_str().parse::<Code>(), Ok(code));
        }
        assert_eq!("no_such_code".parse::<Code>(), Err(UnknownCode("no_such_code".into())));
    }

    /// The texts of `ERROR_TEXTS` in `web/common.js`, one `code: { id: '…', en: '…' },`
    /// line each, as (code, Bahasa Indonesia, English).
    fn page_texts(js: &str) -> Vec<(String, String, String)> {
        let Some((_, block)) = js.split_once("ERROR_TEXTS = {") else { return Vec::new() };
        let block = block.lines().skip(1).take_while(|l| l.trim() != "};");
        let text = |line: &str, lang: &str| -> String {
            let Some((_, rest)) = line.split_once(&format!("{lang}: '")) else { return String::new() };
            rest.split("', ").next().unwrap_or_default().trim_end_matches("' },").to_owned()
        };
        block
            .filter_map(|line| {
                let (code, rest) = line.trim().split_once(": {")?;
                Some((code.to_owned(), text(rest, "id"), text(rest, "en")))
            })
            .collect()
    }

    #[test]
    fn every_code_has_a_text_in_both_languages_on_the_pages() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("web/common.js");
        let Ok(js) = std::fs::read_to_string(&path) else {
            println!("skipped: {} is missing; the pages' error texts are checked there", path.display());
            return;
        };
        let texts = page_texts(&js);
        assert!(!texts.is_empty(), "no ERROR_TEXTS in {}", path.display());
        for code in Code::ALL {
            let found = texts.iter().find(|(c, _, _)| c == code.as_str());
            let Some((_, id, en)) = found else { panic!("{code} has no text in {}", path.display()) };
            assert!(!id.is_empty() && !en.is_empty(), "{code} needs a text in both id and en: {id:?}, {en:?}");
        }
    }

    #[test]
    fn a_page_text_is_read_in_both_languages() {
        let js = "  const ERROR_TEXTS = {\n    busy: { id: 'Sibuk, coba lagi.', en: 'Busy, try again.' },\n  };\n";
        assert_eq!(page_texts(js), vec![("busy".into(), "Sibuk, coba lagi.".into(), "Busy, try again.".into())]);
        assert_eq!(page_texts("const ERROR_TEXTS = {\n  busy: { en: 'Busy.' },\n};\n")[0].1, "");
    }

    #[test]
    fn codes_keep_the_statuses_clients_rely_on() {
        let check = |code: Code, status: u16| assert_eq!(code.status(), status, "{code}");
        check(Code::Internal, 500);
        check(Code::Unauthorized, 401);
        check(Code::TokenExpired, 401);
        check(Code::SeatLocked, 403);
        check(Code::SittingClosed, 403);
        check(Code::UnknownSession, 404);
        check(Code::TooLarge, 413);
        check(Code::TooManyAttempts, 429);
        check(Code::NotPaused, 409);
    }
}
