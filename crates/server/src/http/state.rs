//! The state every handler is given: cheap handles to the services (axum's `State`).

use std::sync::Arc;

use tokio::sync::watch;

use super::client_ip::TrustedProxies;
use super::serve::Connections;
use crate::auth::Auth;
use crate::board::{BoardHub, PageLimiter};
use crate::control::Control;
use crate::live::Registry;
use crate::receipt::Signer;
use crate::signed_head::HeadPublisher;

/// Cheap handles shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub registry: Arc<Registry>,
    pub board: Arc<BoardHub>,
    pub signer: Arc<Signer>,
    pub auth: Arc<Auth>,
    /// The open connections, counted against the caps.
    pub connections: Arc<Connections>,
    /// The rate limit of board pages built for one request.
    pub board_pages: Arc<PageLimiter>,
    /// The rate limit of receipt lookups by short code (each reads the database).
    pub receipt_lookups: Arc<PageLimiter>,
    /// The rate limit of a selection's standing lookups (a participant number and a birth
    /// date), per client address, at the board pages' rate.
    pub standing_lookups: Arc<PageLimiter>,
    /// The audit chain's latest signed head, published at `/api/v1/audit/head`.
    pub heads: Arc<HeadPublisher>,
    /// Whose `X-Forwarded-For` to believe (see [`super::client_ip`]).
    pub proxies: Arc<TrustedProxies>,
    /// Turns true when the server is shutting down: connections close, timers stop.
    pub shutdown: watch::Receiver<bool>,
}

impl AppState {
    /// The console's service: sitting and seat control.
    pub(crate) fn control(&self) -> Control<'_> {
        Control { registry: &self.registry, auth: &self.auth, heads: &self.heads }
    }
}
