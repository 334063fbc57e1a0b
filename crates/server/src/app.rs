//! The HTTP application: configuration, router, listener and graceful shutdown.
//!
//! [`App::build`] binds its own listener, so tests can ask for port 0 and read the real
//! port back (zero-to-production's `startup.rs`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::CACHE_CONTROL;
use axum::http::HeaderValue;
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use store::Store;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::audit::{Audit, HeadPublisher, SignedHead};
use crate::auth::{self, Auth};
use crate::board::{self, BoardHub, PageLimiter};
use crate::client_ip::TrustedProxies;
use crate::clock::{Clock, SystemClock};
use crate::credentials::PinKey;
use crate::edge::{self, Site};
use crate::error::{ApiError, Code};
use crate::live::Registry;
use crate::receipt::Signer;
use crate::serve::{Connections, Limits};
use crate::staff::Staff;
use crate::writer::Writer;
use crate::{control, pages, staff, ws};

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
    /// The audit chain's latest signed head, published at `/api/v1/audit/head`.
    pub heads: Arc<HeadPublisher>,
    /// Whose `X-Forwarded-For` to believe (see [`crate::client_ip`]).
    pub proxies: Arc<TrustedProxies>,
    /// Turns true when the server is shutting down: connections close, timers stop.
    pub shutdown: watch::Receiver<bool>,
}

/// A built application: the listener is bound, the database open and migrated, the
/// writer and timers running, unfinished sessions loaded.
pub struct App {
    listener: TcpListener,
    router: Router,
    limits: Limits,
    state: AppState,
    shutdown: watch::Sender<bool>,
    /// Stops the writer; sent only after the timers have written their last checkpoint.
    writer_stop: watch::Sender<bool>,
    timers: JoinHandle<()>,
    ticker: JoinHandle<()>,
    wal: JoinHandle<()>,
    logins: JoinHandle<()>,
    writer: JoinHandle<()>,
    store: Store,
    /// What the start warned about in the exams it loaded (logged too).
    exam_warnings: Vec<String>,
    /// The data directory's lock, held until the server has stopped.
    _lock: std::fs::File,
}

impl App {
    pub async fn build(config: &Config) -> anyhow::Result<App> {
        App::build_with_clock(config, Arc::new(SystemClock::new())).await
    }

    /// Builds with a given clock; tests pass a [`crate::clock::ManualClock`] to move time.
    pub async fn build_with_clock(config: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
        let lock = lock_data_dir(&config.data_dir)?;
        let site = Site::new(config.public_url.as_deref())?;
        if config.connections.idle_timeout <= board::KEEP_ALIVE {
            tracing::warn!(
                "an idle timeout of {:?} closes a quiet board feed, which sends a keep-alive every {:?}",
                config.connections.idle_timeout,
                board::KEEP_ALIVE
            );
        }
        let store = Store::open(&config.database_url()).await.context("open database")?;
        tracing::info!(durability = %store.durability().await?, "database ready");
        let listener = listen(config.listen).with_context(|| format!("bind {}", config.listen))?;
        let read = |path: &str| std::fs::read_to_string(path).ok().and_then(|s| s.trim().parse().ok());
        if let Some(warning) = accept_queue_warning(
            read("/proc/sys/net/core/somaxconn"),
            read("/proc/sys/net/ipv4/tcp_max_syn_backlog"),
            read("/proc/sys/net/ipv4/tcp_syncookies"),
        ) {
            tracing::warn!("{warning}");
        }
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (writer_stop, writer_stop_rx) = watch::channel(false);
        let (writer, writer_task) = Writer::spawn(store.clone(), writer_stop_rx).await.context("start the writer")?;
        let board = Arc::new(BoardHub::new());
        let signer = Arc::new(Signer::load_or_create(&config.data_dir)?);
        let https = config.public_url.as_deref().is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"));
        let auth = Arc::new(Auth::new(PinKey::load_or_create(&config.data_dir)?, https));
        let audit = Arc::new(Audit::load(&store).await?);
        let board_pages = Arc::new(PageLimiter::new(config.board_pages_per_second, clock.clone()));
        let heads = Arc::new(HeadPublisher::new(audit.clone(), signer.clone(), clock.clone()));
        let registry = Arc::new(Registry::new(
            store.clone(),
            clock,
            writer,
            board.clone(),
            audit,
            signer.clone(),
            config.fast_answer_ms,
        ));
        let resumed = registry.load_unfinished().await?;
        if resumed > 0 {
            tracing::info!(sessions = resumed, "resumed unfinished sessions");
        }
        for sitting in store.sittings(None).await? {
            if matches!(sitting.status.as_str(), "open" | "paused") {
                let n = registry.load_sitting(&sitting.id).await?;
                auth.remember_sitting(&store, &sitting.id).await?;
                tracing::info!(sitting = %sitting.id, sessions = n, "open sitting in memory");
            }
        }
        registry.load_board().await?;
        // Logged once as each exam loads; kept here so the start's caller can show them.
        let exam_warnings = registry.exam_warnings();
        let timers = tokio::spawn(registry.clone().run_timers(shutdown_rx.clone()));
        let ticker = tokio::spawn(board.clone().run(shutdown_rx.clone()));
        let wal = tokio::spawn(crate::writer::run_wal_checkpoints(store.clone(), shutdown_rx.clone()));
        let logins = tokio::spawn(crate::auth::watch_logins(auth.clone(), store.clone(), shutdown_rx.clone()));
        let connections = Arc::new(Connections::new(&config.connections));
        // Stops by itself at shutdown; nothing waits for it.
        tokio::spawn(heads.clone().run(shutdown_rx.clone()));
        let proxies = Arc::new(config.trusted_proxies.clone());
        let state =
            AppState { registry, board, signer, auth, connections, board_pages, heads, proxies, shutdown: shutdown_rx };
        let router = router(state.clone(), site);
        Ok(App {
            listener,
            router,
            limits: config.connections.clone(),
            state,
            shutdown,
            writer_stop,
            timers,
            ticker,
            wal,
            logins,
            writer: writer_task,
            store,
            exam_warnings,
            _lock: lock,
        })
    }

    /// The start's warnings about the exams it loaded (`[board] running = "live"`).
    pub fn exam_warnings(&self) -> &[String] {
        &self.exam_warnings
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` completes; then closes connections, checkpoints every clock,
    /// commits what the writer holds, and closes the database.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let signal = self.shutdown.clone();
        let stop = async move {
            shutdown.await;
            let _ = signal.send(true);
        };
        crate::serve::serve(self.listener, self.router, &self.limits, self.state.connections.clone(), stop).await;
        // Order matters: connections and timers stop first (the timers write a last
        // checkpoint through the writer), then the writer commits what it holds and stops.
        let _ = self.shutdown.send(true);
        let _ = self.timers.await;
        let _ = self.ticker.await;
        let _ = self.wal.await;
        let _ = self.logins.await;
        let _ = self.writer_stop.send(true);
        let _ = self.writer.await;
        self.store.close().await;
        Ok(())
    }
}

/// Who may use a route. Every route is listed in [`routes`] with its access, and the
/// role-matrix test walks that list, so a new route cannot be added without saying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: pages, the public board, health, keys, logins.
    Public,
    /// A logged-in candidate, for their own session only.
    Candidate,
    /// A logged-in candidate for what is theirs (their own paper's images), or staff for
    /// any.
    CandidateOrStaff,
    /// Staff (admin, or a supervisor of the sitting the path names).
    Staff,
    /// The exam committee (admin) only.
    Admin,
}

/// One route: method, path, access and handler.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    handler: axum::routing::MethodRouter<AppState>,
}

fn route(
    method: &'static str,
    path: &'static str,
    access: Access,
    handler: axum::routing::MethodRouter<AppState>,
) -> Route {
    Route { method, path, access, handler }
}

/// Every route of the server.
pub fn routes() -> Vec<Route> {
    let login_body = DefaultBodyLimit::max(auth::LOGIN_BODY_LIMIT);
    use Access::{Admin, Candidate, CandidateOrStaff, Public, Staff};
    vec![
        route("GET", "/", Public, get(pages::candidate_page)),
        route("GET", "/static/candidate.js", Public, get(pages::candidate_js)),
        route("GET", "/static/candidate.css", Public, get(pages::candidate_css)),
        route("GET", "/board", Public, get(pages::board_page)),
        route("GET", "/board/{kind}/{id}", Public, get(pages::board_page)),
        route("GET", "/static/board.js", Public, get(pages::board_js)),
        route("GET", "/static/board.css", Public, get(pages::board_css)),
        route("GET", "/console", Public, get(pages::console_page)),
        route("GET", "/console/{sitting}", Public, get(pages::console_page)),
        route("GET", "/static/console.js", Public, get(pages::console_js)),
        route("GET", "/static/console.css", Public, get(pages::console_css)),
        route("GET", "/health", Public, get(health)),
        route("GET", "/api/v1/keys", Public, get(keys)),
        route("GET", "/api/v1/audit/head", Public, get(audit_head)),
        route("POST", "/api/v1/candidate/login", Public, post(auth::login).layer(login_body)),
        route("POST", "/api/v1/candidate/logout", Public, post(auth::logout)),
        route("GET", "/api/v1/assets/{hash}/{name}", CandidateOrStaff, get(pages::asset)),
        route("GET", "/ws/candidate", Candidate, get(ws::candidate_ws)),
        route("GET", "/api/v1/boards", Public, get(board::list)),
        route("GET", "/api/v1/boards/{kind}/{id}", Public, get(board::snapshot)),
        route("GET", "/api/v1/boards/{kind}/{id}/feed", Public, get(board::feed)),
        route("POST", "/api/v1/staff/login", Public, post(staff::login).layer(login_body)),
        route("POST", "/api/v1/staff/logout", Public, post(staff::logout)),
        route("GET", "/api/v1/staff/me", Staff, get(staff::me)),
        route("POST", "/api/v1/staff/{username}/unlock", Admin, post(staff::unlock)),
        route("GET", "/api/v1/sittings", Staff, get(control::list)),
        route("GET", "/api/v1/sittings/{id}", Staff, get(control::detail)),
        route("POST", "/api/v1/sittings/{id}/{action}", Staff, post(control::sitting_action)),
        route("POST", "/api/v1/sessions/{id}/{action}", Staff, post(control::session_action)),
        route("POST", "/api/v1/sessions/{id}/unlock", Staff, post(auth::unlock)),
        route("GET", "/ws/monitor/{id}", Staff, get(control::monitor)),
    ]
}

/// The largest request body any route takes unless it says otherwise: every body the
/// server reads is a login or a supervisor's action with its reason.
pub const BODY_LIMIT: usize = 16 * 1024;

fn router(state: AppState, site: Site) -> Router {
    let routes = routes().into_iter().fold(Router::new(), |r, route| {
        let handler = match route.access {
            Access::Public => route.handler,
            // A candidate's or staff member's data (a sitting's detail holds its token):
            // no cache may keep it.
            _ => route
                .handler
                .layer(SetResponseHeaderLayer::overriding(CACHE_CONTROL, HeaderValue::from_static(edge::NO_STORE))),
        };
        r.route(route.path, handler)
    });
    edge::layers(routes.layer(DefaultBodyLimit::max(BODY_LIMIT)).with_state(state), site)
}

/// Takes the data directory for this server alone. A second server on the same directory
/// would load the same unfinished sessions and both would write them, each believing its
/// clock; the lock (released by the kernel when the process dies, kill -9 included) makes
/// it refuse at start instead.
fn lock_data_dir(dir: &std::path::Path) -> anyhow::Result<std::fs::File> {
    use std::io::Write as _;
    std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    let path = dir.join("server.lock");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            anyhow::bail!(
                "another ujian server is running on {} (process {}); stop it first, or give this one another --data-dir",
                dir.display(),
                holder.trim()
            );
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(e).with_context(|| format!("lock {}", path.display())),
    }
    file.set_len(0)?;
    write!(file, "{}", std::process::id())?;
    Ok(file)
}

/// Resolves once `shutdown` turns true (or its sender is gone). The watch guard is dropped
/// inside, so callers can `select!` on it without holding a non-`Send` guard.
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|s| *s).await;
}

/// Resolves on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

/// The public keys that sign result receipts, for anyone to check one.
async fn keys(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({
        "keys": [{ "id": state.signer.key_id, "alg": "Ed25519", "public_key_hex": state.signer.public_hex }]
    }))
}

/// The audit chain's latest signed head, for anyone to keep and check the chain against
/// later (`ujian audit verify --head`).
async fn audit_head(State(state): State<AppState>) -> Json<SignedHead> {
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

async fn health(State(state): State<AppState>, staff: Result<Staff, ApiError>) -> Result<Response, ApiError> {
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
        Err(_) => Health { status: "ok", version: None, database: None, connections: None },
    };
    Ok(([(CACHE_CONTROL, edge::NO_STORE)], Json(health)).into_response())
}

/// The accept queue: a room of candidates connects within the same second at exam start,
/// and std's default (128, tokio's 1,024) overflows; the kernel caps it at
/// `net.core.somaxconn` (4,096 by default since Linux 5.4).
const LISTEN_BACKLOG: u32 = 8_192;

/// What to tell the operator when the kernel queues fewer connections than
/// [`LISTEN_BACKLOG`], as Redis does for its own backlog: when a room connects at once,
/// connects beyond `net.core.somaxconn` are dropped and the PC retries after one second,
/// then three, so the exam start gets a tail of seconds that no server speed removes.
/// Half-open connects beyond `tcp_max_syn_backlog` are answered with SYN cookies, and
/// dropped only where those are off. `None` when the limits are high enough or unknown
/// (not Linux).
fn accept_queue_warning(somaxconn: Option<u32>, syn_backlog: Option<u32>, syncookies: Option<u32>) -> Option<String> {
    let low = |v: Option<u32>| v.filter(|v| *v < LISTEN_BACKLOG);
    let mut settings = Vec::new();
    if let Some(v) = low(somaxconn) {
        settings.push(format!("net.core.somaxconn = {v}"));
    }
    if let (Some(v), Some(0)) = (low(syn_backlog), syncookies) {
        settings.push(format!("net.ipv4.tcp_max_syn_backlog = {v} with tcp_syncookies = 0"));
    }
    (!settings.is_empty()).then(|| {
        format!(
            "{}: more candidates than that connecting within a second are dropped and retry after 1 s or \
             more; raise to {LISTEN_BACKLOG} or more (deploy/sysctl.d/60-ujian.conf)",
            settings.join(", ")
        )
    })
}

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    // As std does: a restarted server rebinds at once, not after TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kernel_accept_queue_below_the_backlog_is_reported_with_its_setting() {
        let both = accept_queue_warning(Some(4_096), Some(2_048), Some(0)).expect("warning");
        assert!(both.contains("net.core.somaxconn = 4096"), "{both}");
        assert!(both.contains("net.ipv4.tcp_max_syn_backlog = 2048"), "{both}");
        // With SYN cookies on, a short SYN queue drops nothing.
        let cookies = accept_queue_warning(Some(4_096), Some(2_048), Some(1)).expect("warning");
        assert!(!cookies.contains("syn_backlog"), "{cookies}");
        assert_eq!(accept_queue_warning(Some(16_384), Some(1_024), Some(1)), None);
        assert_eq!(accept_queue_warning(Some(LISTEN_BACKLOG), Some(65_536), Some(0)), None);
        assert_eq!(accept_queue_warning(None, None, None), None);
    }
}
