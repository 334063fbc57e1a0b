//! The HTTP application: configuration, router, listener and graceful shutdown.
//!
//! [`App::build`] binds its own listener, so tests can ask for port 0 and read the real
//! port back (zero-to-production's `startup.rs`).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use store::Store;
use tokio::net::TcpListener;

/// Everything the server needs to start; passed explicitly, never read from globals.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the SQLite database, keys and other state live.
    pub data_dir: PathBuf,
    /// A PostgreSQL (or explicit SQLite) URL; `None` means SQLite in `data_dir`.
    pub database_url: Option<String>,
    pub listen: SocketAddr,
}

impl Config {
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| store::sqlite_url_in(&self.data_dir))
    }
}

/// Cheap handles shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
}

/// A built application: the listener is bound, the database open and migrated.
pub struct App {
    listener: TcpListener,
    router: Router,
    store: Store,
}

impl App {
    pub async fn build(config: &Config) -> anyhow::Result<App> {
        let store = Store::open(&config.database_url()).await.context("open database")?;
        tracing::info!(durability = %store.durability().await?, "database ready");
        let listener = TcpListener::bind(config.listen).await.with_context(|| format!("bind {}", config.listen))?;
        let state = AppState { store: store.clone() };
        let router = Router::new().route("/health", get(health)).with_state(state);
        Ok(App { listener, router, store })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish and closes the database.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        axum::serve(self.listener, self.router).with_graceful_shutdown(shutdown).await.context("serve")?;
        self.store.close().await;
        Ok(())
    }
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

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    database: String,
}

async fn health(State(state): State<AppState>) -> Result<Json<Health>, (axum::http::StatusCode, String)> {
    match state.store.durability().await {
        Ok(database) => Ok(Json(Health { status: "ok", version: env!("CARGO_PKG_VERSION"), database })),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            Err((axum::http::StatusCode::SERVICE_UNAVAILABLE, "database unavailable".into()))
        }
    }
}
