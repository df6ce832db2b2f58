//! Assembles the gateway from a [`Config`] and runs it: the gRPC server (the providers'
//! services, the attempts service, health, reflection) and the public HTTP listener (the
//! providers' hooks and returns), both stopped by one cancellation token.
//!
//! Listeners are bound by the caller ([`Listeners::bind`]) so tests can use port 0 and
//! learn the address before the gateway is configured. Nothing here names a vendor: the
//! providers come from [`crate::providers::REGISTRY`] through the configuration.

mod grpc;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::attempts::log::{EventLog, LogSettings};
use crate::attempts::sweep;
use crate::config::{Config, secs};
use crate::providers::{Context, Providers};
use crate::store::StoreError;
use crate::store::sqlite::SqliteStore;

/// The two sockets the gateway serves.
#[derive(Debug)]
pub struct Listeners {
    /// gRPC.
    pub grpc: TcpListener,
    /// HTTP: hooks and browser returns.
    pub http: TcpListener,
}

impl Listeners {
    /// Binds the configured addresses (port 0 picks a free port). A failure names the
    /// address and the setting that moves it.
    pub async fn bind(config: &Config) -> Result<Self, StartError> {
        let bind = |addr: SocketAddr, setting: &'static str| async move {
            TcpListener::bind(addr).await.map_err(|e| StartError::Bind { addr, setting, cause: e })
        };
        Ok(Self {
            grpc: bind(config.server.grpc_addr, "server.grpc_addr / IDV_GRPC_ADDR").await?,
            http: bind(config.server.http_addr, "server.http_addr / IDV_HTTP_ADDR").await?,
        })
    }
}

/// A running gateway.
#[derive(Debug)]
pub struct Running {
    /// Where gRPC is served.
    pub grpc_addr: SocketAddr,
    /// Where HTTP is served.
    pub http_addr: SocketAddr,
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
    grace: Duration,
}

impl Running {
    /// The token that stops the gateway when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Runs until the token is cancelled, then lets calls in flight finish for the grace
    /// period and stops whatever is left.
    pub async fn wait(mut self) {
        self.shutdown.cancelled().await;
        let drain = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(self.grace, drain).await.is_err() {
            tracing::warn!("grace period over; stopping the remaining calls");
            self.tasks.abort_all();
        }
    }

    /// Cancels the token and waits as [`Running::wait`] does.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.wait().await;
    }
}

/// Errors that keep the gateway from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A listener could not be bound.
    #[error("cannot listen on {addr} ({cause}); choose another address with {setting}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The setting that moves it.
        setting: &'static str,
        /// Why.
        cause: std::io::Error,
    },
    /// A socket could not be used.
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
    /// Something could not be built (TLS roots, reflection, a provider).
    #[error("{0}")]
    Build(String),
    /// The event log could not be opened.
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Builds every service from `config` and starts serving on `listeners`.
pub async fn start(config: Config, listeners: Listeners) -> Result<Running, StartError> {
    let grpc_addr = listeners.grpc.local_addr()?;
    let http_addr = listeners.http.local_addr()?;
    let shutdown = CancellationToken::new();
    let mut tasks = JoinSet::new();

    let store = Arc::new(SqliteStore::open(&config.store.data_dir)?);
    let settings = LogSettings {
        retention: secs(config.store.retention_days * 86_400),
        heartbeat: secs(config.server.heartbeat_secs),
    };
    let log = Arc::new(EventLog::new(store, settings, shutdown.clone()));
    let context = Context {
        http: vendor_client()?,
        log: log.clone(),
        public_url: config.server.public_url.clone(),
        max_message_bytes: config.server.max_message_bytes,
        shutdown: shutdown.clone(),
    };
    let providers = Providers::new(
        config
            .providers
            .iter()
            .map(|p| p.build(&context))
            .collect::<Result<Vec<_>, _>>()
            .map_err(StartError::Build)?,
    );
    for provider in providers.iter() {
        provider.spawn_background(&mut tasks);
    }
    let expiring = providers.iter().filter_map(|p| Some((p.vendor()?, p.expiry_grace()?))).collect();
    sweep::spawn(log.clone(), expiring, &mut tasks);

    grpc::serve(&config, listeners.grpc, &providers, log, shutdown.clone(), &mut tasks).await?;

    let http = providers.iter().fold(axum::Router::new(), |router, p| router.merge(p.http_routes()));
    let stop = shutdown.clone();
    // Socket options apply only to what the server accepts: without nodelay, Nagle's
    // algorithm and delayed ACKs add ~40 ms to small answers.
    let http_listener = listeners.http.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tasks.spawn(async move {
        let served =
            axum::serve(http_listener, http).with_graceful_shutdown(async move { stop.cancelled().await });
        if let Err(e) = served.await {
            tracing::error!(error = %e, "HTTP server failed");
        }
    });

    tracing::info!(%grpc_addr, %http_addr, "gateway started");
    Ok(Running { grpc_addr, http_addr, shutdown, tasks, grace: secs(config.server.shutdown_grace_secs) })
}

/// One connection pool for all vendors; per-call timeouts come from each vendor's
/// configuration and the caller's deadline.
fn vendor_client() -> Result<reqwest::Client, StartError> {
    reqwest::Client::builder()
        .user_agent(concat!("idv-gateway/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| StartError::Build(format!("http client: {e}")))
}
