//! The server's start and stop: [`App::build`] opens the database, starts the writer and
//! timers, loads what was running and binds the listener; [`App::run_until`] serves until
//! shutdown, then stops everything in order.
//!
//! [`App::build`] binds its own listener, so tests can ask for port 0 and read the real
//! port back (zero-to-production's `startup.rs`).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use store::Store;
use store::group_commit::Writer;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::audit::Audit;
use crate::auth::Auth;
use crate::board::{self, BoardHub, PageLimiter};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::credentials::PinKey;
use crate::http::{AppState, Connections, Limits, Site};
use crate::live::Registry;
use crate::receipt::Signer;
use crate::signed_head::HeadPublisher;
use crate::sittings::SittingStatus;

/// A built application: the listener is bound, the database open and migrated, the
/// writer and timers running, unfinished sessions loaded.
pub struct App {
    listener: TcpListener,
    /// The allowed origin, for the router built when serving starts.
    site: Site,
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
        let backfilled = crate::receipt::backfill_codes(&store).await.context("fill in receipt codes")?;
        if backfilled > 0 {
            tracing::info!(sessions = backfilled, "receipt codes filled in from stored results");
        }
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
        let board = Arc::new(BoardHub::new(clock.clone()));
        let signer = Arc::new(Signer::load_or_create(&config.data_dir)?);
        let https = config.public_url.as_deref().is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"));
        let auth = Arc::new(Auth::new(PinKey::load_or_create(&config.data_dir)?, https));
        let audit = Arc::new(Audit::load(&store).await?);
        let board_pages = Arc::new(PageLimiter::new(config.board_pages_per_second, clock.clone()));
        // A receipt lookup reads the database: limited per address as a built board page is.
        let receipt_lookups = Arc::new(PageLimiter::new(config.board_pages_per_second, clock.clone()));
        let standing_lookups = Arc::new(PageLimiter::new(config.board_pages_per_second, clock.clone()));
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
            if sitting.status.parse().is_ok_and(SittingStatus::accepts_logins) {
                let n = registry.load_sitting(&sitting.id).await?;
                auth.remember_sitting(&store, &sitting.id).await?;
                tracing::info!(sitting = %sitting.id, sessions = n, "open sitting in memory");
            }
        }
        registry.load_board().await?;
        // Logged once as each exam loads; kept here so the start's caller can show them.
        let exam_warnings = registry.exams().warnings();
        let timers = tokio::spawn(registry.clone().run_timers(shutdown_rx.clone()));
        let ticker = tokio::spawn(board.clone().run(shutdown_rx.clone()));
        let wal = tokio::spawn(store::run_wal_checkpoints(store.clone(), shutdown_rx.clone()));
        let logins = tokio::spawn(crate::auth::watch_logins(auth.clone(), store.clone(), shutdown_rx.clone()));
        let connections = Arc::new(Connections::new(&config.connections));
        // Stops by itself at shutdown; nothing waits for it.
        tokio::spawn(heads.clone().run(shutdown_rx.clone()));
        let proxies = Arc::new(config.trusted_proxies.clone());
        let state = AppState {
            registry,
            board,
            signer,
            auth,
            connections,
            board_pages,
            receipt_lookups,
            standing_lookups,
            heads,
            proxies,
            reports: Arc::new(tokio::sync::Semaphore::new(1)),
            shutdown: shutdown_rx,
        };
        Ok(App {
            listener,
            site,
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
        crate::http::serve(self.listener, self.state.clone(), self.site, &self.limits, stop).await;
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
