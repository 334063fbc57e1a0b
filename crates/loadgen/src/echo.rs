//! The bare WebSocket baseline: a tokio-tungstenite echo server and closed-loop clients
//! sending frames the size of an answer. What this box does with no exam logic and no
//! database is the yardstick for ujian's closed-loop answers per second.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::{SinkExt as _, StreamExt as _};
use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Barrier;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::stats::{Summary, micros};

#[derive(Debug, Clone, Serialize)]
pub struct EchoReport {
    pub clients: usize,
    pub seconds: f64,
    pub round_trips: u64,
    pub round_trips_per_sec: f64,
    pub latency: Summary,
    /// Clients that could not connect.
    pub failed: usize,
}

fn config() -> WebSocketConfig {
    WebSocketConfig::default().read_buffer_size(4 * 1024).write_buffer_size(0)
}

/// Runs the echo server on its own runtime (as a separate server process would have its
/// own threads) with one worker per core, until `stop` is set.
fn spawn_server(stop: Arc<AtomicBool>) -> anyhow::Result<(SocketAddr, std::thread::JoinHandle<()>)> {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").context("bind echo server")?;
    std_listener.set_nonblocking(true)?;
    let addr = std_listener.local_addr()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("echo runtime")?;
    let handle = std::thread::spawn(move || {
        runtime.block_on(async move {
            let Ok(listener) = TcpListener::from_std(std_listener) else { return };
            while !stop.load(Ordering::Relaxed) {
                let accepted = tokio::time::timeout(Duration::from_millis(200), listener.accept()).await;
                let Ok(Ok((stream, _))) = accepted else { continue };
                let stop = stop.clone();
                tokio::spawn(async move {
                    let _ = stream.set_nodelay(true);
                    let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(stream, Some(config())).await else {
                        return;
                    };
                    while let Some(Ok(msg)) = ws.next().await {
                        if stop.load(Ordering::Relaxed) || msg.is_close() {
                            break;
                        }
                        if msg.is_text() && ws.send(msg).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
    });
    Ok((addr, handle))
}

/// `clients` closed-loop clients for `seconds` (after all have connected).
pub async fn run_echo(clients: usize, seconds: f64) -> anyhow::Result<EchoReport> {
    let stop = Arc::new(AtomicBool::new(false));
    let (addr, server) = spawn_server(stop.clone())?;
    let barrier = Arc::new(Barrier::new(clients + 1));
    let mut tasks = Vec::with_capacity(clients);
    let duration = Duration::from_secs_f64(seconds);
    for i in 0..clients {
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            let connected = async {
                let stream = TcpStream::connect(addr).await.ok()?;
                let _ = stream.set_nodelay(true);
                let url = format!("ws://{addr}/echo");
                tokio_tungstenite::client_async_with_config(url, stream, Some(config())).await.ok().map(|(ws, _)| ws)
            }
            .await;
            barrier.wait().await;
            let mut ws = connected?;
            let mut latencies = Vec::new();
            let start = Instant::now();
            let mut seq = 0u64;
            while start.elapsed() < duration {
                seq += 1;
                let frame = format!(
                    "{{\"type\":\"answer\",\"seq\":{seq},\"index\":{},\"choice\":\"C\",\"client_ts\":1767225600000}}",
                    (seq + i as u64) % 110
                );
                let sent = Instant::now();
                ws.send(Message::Text(frame.into())).await.ok()?;
                loop {
                    match ws.next().await {
                        Some(Ok(Message::Text(_))) => break,
                        Some(Ok(_)) => continue,
                        _ => return Some(latencies),
                    }
                }
                latencies.push(micros(sent.elapsed()));
            }
            let _ = ws.close(None).await;
            Some(latencies)
        }));
    }
    barrier.wait().await;
    let started = Instant::now();
    let mut all = Vec::new();
    let mut failed = 0;
    for t in tasks {
        match t.await {
            Ok(Some(l)) => all.extend(l),
            _ => failed += 1,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let _ = tokio::task::spawn_blocking(move || server.join()).await;
    let round_trips = all.len() as u64;
    Ok(EchoReport {
        clients,
        seconds: elapsed,
        round_trips,
        round_trips_per_sec: if elapsed > 0.0 { round_trips as f64 / elapsed } else { 0.0 },
        latency: Summary::of(all),
        failed,
    })
}
