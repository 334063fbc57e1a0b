//! The accept loop: HTTP/1.1 through hyper, with a header-read timeout, an idle timeout for
//! connections that are not upgraded, and caps on open connections in total and per peer
//! address.
//!
//! `axum::serve` has none of these: a client that sends half a request, or nothing, holds
//! its socket and task for as long as it likes, and enough of them exhaust the server's
//! file descriptors before the exam starts. Here every connection is admitted against the
//! caps before it gets a task, holds a [`Permit`] for as long as its socket is open (an
//! upgraded WebSocket included: the permit travels inside the socket), and is closed when
//! its headers are late or it stops moving bytes before it is upgraded.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::time::Instant;
use tower_service::Service as _;

/// How long connections may take and how many may be open. Each is a setting of
/// `ujian serve` (see its `--help` and the README).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// A request's headers must have arrived this long after the connection opened or its
    /// previous response was sent: a client sending half a request, or nothing, is closed
    /// then. This is also how long a kept-alive connection may wait for its next request.
    pub header_read_timeout: Duration,
    /// A connection that is not upgraded to a WebSocket and moves no byte either way for
    /// this long is closed: a request body sent a byte a minute, or a response nobody
    /// reads. More than the board feed's keep-alive (15 s), which a quiet feed sends.
    pub idle_timeout: Duration,
    /// Connections open at once, WebSockets included; more are closed as they arrive, so
    /// the server keeps descriptors for its database and its own work.
    pub max_connections: usize,
    /// Connections open at once from one peer address. Generous: a test center's PCs
    /// usually share one address. Behind a reverse proxy every connection comes from the
    /// proxy, so there this must be as high as `max_connections`.
    pub max_connections_per_address: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: 50_000,
            max_connections_per_address: 5_000,
        }
    }
}

/// The open connections, counted in total and per peer address.
#[derive(Debug)]
pub struct Connections {
    max: usize,
    max_per_address: usize,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Total,
    PerAddress,
}

impl Connections {
    pub fn new(limits: &Limits) -> Connections {
        Connections {
            max: limits.max_connections,
            max_per_address: limits.max_connections_per_address,
            counts: Mutex::new(Counts::default()),
        }
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts a connection from `address` in, unless a cap is reached.
    pub fn admit(self: &Arc<Self>, address: IpAddr) -> Result<Permit, Refused> {
        // An IPv4 client of a dual-stack listener arrives as ::ffff:a.b.c.d.
        let address = address.to_canonical();
        let mut counts = self.counts();
        if counts.total >= self.max {
            return Err(Refused::Total);
        }
        let from = counts.by_address.entry(address).or_insert(0);
        if *from >= self.max_per_address {
            return Err(Refused::PerAddress);
        }
        *from += 1;
        counts.total += 1;
        Ok(Permit { connections: self.clone(), address })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.counts().total
    }
}

/// One admitted connection; dropping it (with the socket) counts it out.
#[derive(Debug)]
pub struct Permit {
    connections: Arc<Connections>,
    address: IpAddr,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut counts = self.connections.counts();
        counts.total -= 1;
        if let Some(n) = counts.by_address.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                counts.by_address.remove(&self.address);
            }
        }
    }
}

/// When a connection last moved a byte, in milliseconds since it opened: written by the
/// socket, read by the connection's task to close it when idle.
struct Activity {
    opened: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity { opened: Instant::now(), last_ms: AtomicU64::new(0) }
    }

    fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(ms, Ordering::Relaxed);
    }

    fn idle_until(&self, idle: Duration) -> Instant {
        self.opened + Duration::from_millis(self.last_ms.load(Ordering::Relaxed)) + idle
    }
}

/// An admitted socket: notes every byte it moves, and holds its permit for as long as it
/// is open, through an upgrade to a WebSocket too.
struct Socket {
    tcp: TcpStream,
    activity: Arc<Activity>,
    _permit: Permit,
}

impl AsyncRead for Socket {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut this.tcp).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.touch();
        }
        read
    }
}

impl AsyncWrite for Socket {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.tcp).poll_write(cx, buf);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.tcp).poll_write_vectored(cx, bufs);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

/// What a connection refused at a cap is sent before it is closed: a browser shows an
/// error page rather than a reset.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

/// Serves `router` on `listener` until `shutdown` completes; then stops accepting, lets
/// every connection finish its request in flight, and returns once all are closed.
/// Upgraded connections are not waited for: their tasks watch the server's own shutdown.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    connections: Arc<Connections>,
    shutdown: impl Future<Output = ()>,
) {
    let mut make_service = router.into_make_service_with_connect_info::<SocketAddr>();
    let (stop, stop_rx) = watch::channel(false);
    // Every connection task holds a receiver; all are gone once every connection closed.
    let (all_closed, open) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_error(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let permit = match connections.admit(peer.ip()) {
            Ok(permit) => permit,
            Err(why) => {
                tracing::debug!(peer = %peer, ?why, "connection refused at the cap");
                let _ = tcp.try_write(BUSY);
                continue;
            }
        };
        // No Nagle: a reply of two small frames (a finish's `ack`, then the `finished` with
        // the score) would otherwise hold the second until the first is acknowledged, and
        // a browser with nothing to send delays that acknowledgement by up to 40 ms.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY on a connection");
        }
        let Ok(service) = make_service.call(peer).await;
        let activity = Arc::new(Activity::new());
        let socket = Socket { tcp, activity: activity.clone(), _permit: permit };
        tokio::spawn(connection(
            socket,
            activity,
            TowerToHyperService::new(service),
            limits.clone(),
            stop_rx.clone(),
            open.clone(),
        ));
    }
    drop(listener);
    let _ = stop.send(true);
    drop(open);
    all_closed.closed().await;
}

/// One connection's task: hyper's HTTP/1.1 until the connection closes or is upgraded.
async fn connection<S>(
    socket: Socket,
    activity: Arc<Activity>,
    service: TowerToHyperService<S>,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    _open: watch::Receiver<()>,
) where
    S: tower_service::Service<
            axum::extract::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
            Error = Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    let conn = http.serve_connection(TokioIo::new(socket), service).with_upgrades();
    tokio::pin!(conn);
    let mut stopping = false;
    loop {
        tokio::select! {
            served = conn.as_mut() => {
                if let Err(e) = served {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            () = crate::shutdown::stopped(&mut stop), if !stopping => {
                // Finishes the request in flight, then closes.
                conn.as_mut().graceful_shutdown();
                stopping = true;
            }
            () = tokio::time::sleep_until(activity.idle_until(limits.idle_timeout)) => {
                if activity.idle_until(limits.idle_timeout) <= Instant::now() {
                    tracing::debug!("closing a connection idle for {:?}", limits.idle_timeout);
                    return;
                }
            }
        }
    }
}

/// As hyper 0.14's server did (and `axum::serve` does): a failed accept of one client is
/// nothing; anything else (out of file descriptors) is logged and retried after a pause,
/// in which closing connections may free some.
async fn accept_error(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "cannot accept a connection");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    #[test]
    fn connections_are_capped_in_total_and_per_address_and_counted_out_when_dropped() {
        let limits = Limits { max_connections: 3, max_connections_per_address: 2, ..Limits::default() };
        let conns = Arc::new(Connections::new(&limits));
        let a1 = conns.admit(ip("10.0.0.1")).expect("first");
        let a2 = conns.admit(ip("10.0.0.1")).expect("second");
        assert_eq!(conns.admit(ip("10.0.0.1")).err(), Some(Refused::PerAddress));
        // The same address seen through a dual-stack socket is the same address.
        assert_eq!(conns.admit(ip("::ffff:10.0.0.1")).err(), Some(Refused::PerAddress));
        let b1 = conns.admit(ip("10.0.0.2")).expect("another address");
        assert_eq!(conns.admit(ip("10.0.0.3")).err(), Some(Refused::Total));
        assert_eq!(conns.open(), 3);
        drop(a1);
        let a3 = conns.admit(ip("10.0.0.1")).expect("room again");
        drop((a2, a3, b1));
        assert_eq!(conns.open(), 0);
        assert!(conns.counts().by_address.is_empty(), "no entry kept for a gone address");
    }
}
