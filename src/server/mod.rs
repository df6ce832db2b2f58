//! Assembles the gateway from a [`Config`] and runs it: the gRPC server (the providers'
//! services, the attempts service, health, reflection) and the public HTTP listener (the
//! providers' hooks and returns), both stopped by one cancellation token.
//!
//! Listeners are bound by the caller ([`Listeners::bind`]) so tests can use port 0 and
//! learn the address before the gateway is configured. Nothing here names a vendor: the
//! providers come from [`crate::providers::REGISTRY`] through the configuration.

mod grpc;
pub mod health;
pub mod public_http;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::attempts::log::{EventLog, LogSettings};
use crate::attempts::sweep;
use crate::auth::{Authenticator, Listener, ReloadingTls};
use crate::config::{Config, secs};
use crate::providers::{Context, Providers};
use crate::store::sqlite::SqliteStore;
use crate::store::{EventStore, StoreError};
use health::Health;

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
    /// address and the setting that moves it. Refuses, before binding anything, a gRPC
    /// listener that anyone on the network could call (see [`crate::auth::startup_check`]).
    pub async fn bind(config: &Config) -> Result<Self, StartError> {
        crate::auth::startup_check(config.server.grpc_addr, &config.auth, &config.server.tls)
            .map_err(StartError::Unsafe)?;
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
    /// Something could not be built (TLS, keys, reflection, a provider).
    #[error("{0}")]
    Build(String),
    /// The configuration would expose the API without authentication.
    #[error("{0}")]
    Unsafe(String),
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

    // Many slow public connections must not take the descriptors gRPC needs: raise the
    // soft limit, and keep the HTTP connection cap within what it leaves after a reserve.
    let mut http_limits = config.http.clone();
    match public_http::raise_nofile_limit() {
        Ok((soft, _)) => {
            http_limits.fit_open_files(soft).map_err(StartError::Build)?;
        }
        Err(e) => tracing::warn!(error = %e, "cannot read or raise the open-file limit"),
    }
    let reload = secs(config.auth.reload_secs);
    let tls = ReloadingTls::load(&config.server.tls).map_err(|e| StartError::Build(format!("TLS: {e}")))?;
    if let Some(tls) = &tls {
        let handle = tls.spawn_reload(reload);
        tasks.spawn(async move { stop_with(handle).await });
    }
    let acceptor = |listener| -> Result<_, StartError> {
        tls.as_ref()
            .map(|tls| tls.acceptor(listener))
            .transpose()
            .map_err(|e| StartError::Build(format!("TLS: {e}")))
    };
    let authenticator = Arc::new(
        Authenticator::from_config(&config.auth, &config.server.tls)
            .map_err(|problems| StartError::Build(problems.join("; ")))?,
    );
    if let Some(handle) = authenticator.spawn_reload(reload) {
        tasks.spawn(async move { stop_with(handle).await });
    }

    let store: Arc<dyn EventStore> = Arc::new(SqliteStore::open(&config.store.data_dir)?);
    let (reporter, health_service) = tonic_health::server::health_reporter();
    let health = Health::new(reporter);
    tasks.spawn(health.clone().watch_store(store.clone(), shutdown.clone()));
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

    let grpc_tls = acceptor(Listener::Grpc)?;
    grpc::serve(
        &config,
        listeners.grpc,
        grpc_tls,
        &providers,
        log,
        &authenticator,
        &health,
        health_service,
        shutdown.clone(),
        &mut tasks,
    )
    .await?;

    // Hooks come from vendors: behind the source allow-list and the rate limits. Browser
    // returns come from anyone's browser.
    let hooks = providers.iter().fold(axum::Router::new(), |router, p| router.merge(p.hook_routes()));
    let hooks = hooks.layer(public_http::HookGuard::new(&http_limits, &config.hooks));
    let http = providers.iter().fold(hooks, |router, p| router.merge(p.browser_routes()));
    let http_tls = acceptor(Listener::Http)?;
    let stop = shutdown.clone();
    tasks.spawn(async move {
        let stop_accepting = stop.cancelled_owned();
        public_http::serve(
            listeners.http,
            http,
            &http_limits,
            http_tls,
            stop_accepting,
            std::future::pending(),
        )
        .await;
    });

    tracing::info!(%grpc_addr, %http_addr, "gateway started");
    Ok(Running { grpc_addr, http_addr, shutdown, tasks, grace: secs(config.server.shutdown_grace_secs) })
}

/// Waits for a background task until it is aborted with the others at shutdown.
async fn stop_with(handle: tokio::task::JoinHandle<()>) {
    struct AbortOnDrop(tokio::task::JoinHandle<()>);
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let mut guard = AbortOnDrop(handle);
    let _ = (&mut guard.0).await;
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
