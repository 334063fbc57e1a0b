//! The server's configuration: passed explicitly from the command line, never read from
//! globals.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::http::{Limits, TrustedProxies};

/// Everything the server needs to start; passed explicitly, never read from globals.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the SQLite database, keys and other state live.
    pub data_dir: PathBuf,
    /// A PostgreSQL (or explicit SQLite) URL; `None` means SQLite in `data_dir`.
    pub database_url: Option<String>,
    pub listen: SocketAddr,
    /// Two answers closer than this many milliseconds are flagged to the supervisor.
    pub fast_answer_ms: u64,
    /// The address users open, e.g. `https://cat.example.go.id`: only pages of its origin
    /// may post to the server or open its WebSockets. Without it, the origin must match
    /// the request's `Host`.
    pub public_url: Option<String>,
    /// Header-read and idle timeouts, and the caps on open connections.
    pub connections: Limits,
    /// Board pages built for a request (chosen with `offset` or `limit`) that one peer
    /// address may ask for per second; the first page is served from a cache and is not
    /// counted.
    pub board_pages_per_second: u32,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    pub trusted_proxies: TrustedProxies,
}

impl Config {
    /// A configuration with the default settings.
    pub fn new(data_dir: PathBuf, database_url: Option<String>, listen: SocketAddr) -> Config {
        Config {
            data_dir,
            database_url,
            listen,
            fast_answer_ms: 2_000,
            public_url: None,
            connections: Limits::default(),
            board_pages_per_second: 10,
            trusted_proxies: TrustedProxies::default(),
        }
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| store::sqlite_url_in(&self.data_dir))
    }
}
