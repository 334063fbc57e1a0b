//! What every request and response passes through: the Origin check on WebSocket upgrades
//! and state-changing requests, the security headers, `no-store` on whatever carries a
//! token, and axum's plain-text rejections turned into the API's error shape.
//!
//! The login cookies are `SameSite=Strict`, but a page of the same site on another port
//! (or another host under the same registrable domain) is same-site, and a WebSocket
//! handshake is not covered by CORS at all: only the `Origin` header tells where a browser
//! request comes from. Requests without one (scripts, `curl`) are not browsers acting for
//! someone else and pass.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, HOST, ORIGIN, REFERRER_POLICY, SET_COOKIE, UPGRADE,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::uri::Authority;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::{ApiError, Code};

/// The policy of every page: only the server's own scripts, styles, images and
/// connections, no plugins, no forms posting elsewhere, and no framing by any site (the
/// console has disqualify buttons, the exam page a finish button: neither may sit under
/// another page's clicks). Responses that set their own (item images) keep theirs.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                            img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Cache-Control of anything that carries a token or a candidate's data: no cache keeps a
/// copy, so the next person at a shared PC (or a proxy's cache) cannot read it back.
pub const NO_STORE: &str = "no-store";

/// Where the site is, for the Origin check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// The origin of `--public-url`; without it a request's `Host` is the site.
    public: Option<SiteOrigin>,
}

/// A web origin: scheme, host and port (the scheme's default when none is written).
#[derive(Debug, Clone, PartialEq, Eq)]
struct SiteOrigin {
    scheme: String,
    host: String,
    port: u16,
}

impl SiteOrigin {
    /// `http://host[:port]` or `https://…`; a path, if any, is not part of the origin.
    fn parse(text: &str) -> Option<SiteOrigin> {
        let uri: Uri = text.parse().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let authority = uri.authority()?;
        if authority.as_str().contains('@') {
            return None;
        }
        Some(SiteOrigin {
            host: authority.host().to_ascii_lowercase(),
            port: authority.port_u16().unwrap_or(default_port),
            scheme,
        })
    }

    fn default_port(&self) -> u16 {
        if self.scheme == "https" { 443 } else { 80 }
    }
}

impl Site {
    /// The site of a `--public-url` (or, without one, of each request's `Host`).
    pub fn new(public_url: Option<&str>) -> anyhow::Result<Site> {
        let public = match public_url {
            None => None,
            Some(url) => Some(SiteOrigin::parse(url.trim()).ok_or_else(|| {
                anyhow::anyhow!(
                    "--public-url {url:?}: give the address users open, as http(s)://HOST[:PORT], \
                     e.g. https://cat.example.go.id"
                )
            })?),
        };
        Ok(Site { public })
    }

    /// Whether a request with these headers comes from the site itself (or from no
    /// browser page at all: no `Origin`).
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(ORIGIN) else { return true };
        // "null" (a sandboxed frame, a file) and anything unreadable is another origin.
        let Some(origin) = origin.to_str().ok().and_then(SiteOrigin::parse) else { return false };
        match &self.public {
            Some(public) => origin == *public,
            None => {
                // Without a public URL the scheme is unknown here (TLS may end at a proxy):
                // the host and port the browser addressed must be the page's.
                let host = headers.get(HOST).and_then(|h| h.to_str().ok()).and_then(|h| h.parse::<Authority>().ok());
                host.is_some_and(|host| {
                    host.host().eq_ignore_ascii_case(&origin.host)
                        && host.port_u16().unwrap_or(origin.default_port()) == origin.port
                })
            }
        }
    }
}

/// Whether a request must come from the site: anything that changes state, and every
/// WebSocket handshake (a GET, but it opens a channel that acts as the logged-in user).
fn must_be_same_origin(request: &Request) -> bool {
    !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || request.headers().contains_key(UPGRADE)
}

async fn check_origin(State(site): State<Arc<Site>>, request: Request, next: Next) -> Response {
    if must_be_same_origin(&request) && !site.allows(request.headers()) {
        tracing::info!(
            method = %request.method(),
            path = %request.uri().path(),
            origin = ?request.headers().get(ORIGIN),
            "refused a request from another origin"
        );
        return ApiError::new(Code::CrossOrigin, "this request came from a page of another site").into_response();
    }
    next.run(request).await
}

/// axum's extractors refuse bad input with a plain-text body that quotes the parser
/// (`Failed to deserialize query string: offset: invalid digit found in string`). Such a
/// body is logged and replaced by a stable code and a plain message; the status stays.
async fn plain_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let plain =
        response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/plain"));
    if !(plain && (status.is_client_error() || status.is_server_error())) {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 4096).await.unwrap_or_default();
    tracing::info!(status = status.as_u16(), detail = %String::from_utf8_lossy(&text), "refused a request");
    let (code, message) = match status {
        StatusCode::NOT_FOUND => (Code::NotFound, "there is nothing at this address"),
        StatusCode::METHOD_NOT_ALLOWED => (Code::MethodNotAllowed, "this address does not take this method"),
        StatusCode::PAYLOAD_TOO_LARGE => (Code::TooLarge, "the request body is too large"),
        s if s.is_server_error() => (Code::Internal, "internal error; try again"),
        _ => (Code::BadRequest, "the request is malformed: check its address, query and body against the API"),
    };
    // The status stays as it was: a 415 or a 503 keeps saying what it says.
    crate::http::error::response(status, code, message)
}

/// Cache-Control: no-store on a response that sets a cookie (a login, a logout): it
/// carries a token, or ends one.
fn no_store_with_cookies(response: &Response<Body>) -> Option<HeaderValue> {
    response.headers().contains_key(SET_COOKIE).then_some(HeaderValue::from_static(NO_STORE))
}

/// Wraps every route: the Origin check and the error shape inside, the headers outside
/// (so a refused request gets them too).
pub fn layers(router: Router, site: Site) -> Router {
    router
        .layer(axum::middleware::from_fn(plain_errors))
        .layer(axum::middleware::from_fn_with_state(Arc::new(site), check_origin))
        .layer(SetResponseHeaderLayer::overriding(CACHE_CONTROL, no_store_with_cookies))
        .layer(SetResponseHeaderLayer::if_not_present(CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP)))
        .layer(SetResponseHeaderLayer::overriding(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        // The board's and the exam's addresses name sittings and sessions: no other site
        // learns them from a link followed.
        .layer(SetResponseHeaderLayer::overriding(REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("value"));
        }
        h
    }

    #[track_caller]
    fn check(site: &Site, pairs: &[(&'static str, &str)], allowed: bool) {
        assert_eq!(site.allows(&headers(pairs)), allowed, "{site:?} {pairs:?}");
    }

    #[test]
    fn without_a_public_url_the_origin_must_name_the_host_the_request_was_sent_to() {
        let site = Site::new(None).expect("site");
        check(&site, &[], true);
        check(&site, &[("host", "127.0.0.1:8080")], true);
        check(&site, &[("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:8080")], true);
        check(&site, &[("host", "cat.example.go.id"), ("origin", "https://CAT.example.go.id")], true);
        check(&site, &[("host", "cat.example.go.id"), ("origin", "http://cat.example.go.id")], true);
        check(&site, &[("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:9090")], false);
        check(&site, &[("host", "cat.example.go.id"), ("origin", "https://cat.example.go.id:8443")], false);
        check(&site, &[("host", "cat.example.go.id"), ("origin", "https://evil.example")], false);
        check(&site, &[("host", "127.0.0.1:8080"), ("origin", "null")], false);
        check(&site, &[("origin", "http://127.0.0.1:8080")], false);
        check(&site, &[("host", "[::1]:8080"), ("origin", "http://[::1]:8080")], true);
    }

    #[test]
    fn with_a_public_url_only_its_origin_is_the_site() {
        let site = Site::new(Some("https://cat.example.go.id/")).expect("site");
        check(&site, &[("host", "127.0.0.1:8080"), ("origin", "https://cat.example.go.id")], true);
        check(&site, &[("host", "127.0.0.1:8080"), ("origin", "https://cat.example.go.id:443")], true);
        check(&site, &[("host", "127.0.0.1:8080"), ("origin", "http://cat.example.go.id")], false);
        check(&site, &[("host", "127.0.0.1:8080"), ("origin", "http://127.0.0.1:8080")], false);
    }

    #[test]
    fn a_public_url_that_is_not_an_origin_is_refused_with_an_example() {
        for bad in ["cat.example.go.id", "ftp://cat.example.go.id", "https://", "https://user@cat.example.go.id"] {
            let e = Site::new(Some(bad)).expect_err(bad).to_string();
            assert!(e.contains("https://cat.example.go.id"), "{e}");
        }
    }
}
