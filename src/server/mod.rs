//! Assembles the gateway from a [`Config`] and runs it: the gRPC server (the providers'
//! services, the attempts service, health, reflection) and the public HTTP listener (the
//! providers' hooks and returns), both stopped by one cancellation token.
//!
//! Listeners are bound by the caller ([`Listeners::bind`]) so tests can use port 0 and
//! learn the address before the gateway is configured. Nothing here names a vendor: the
//! providers come from [`crate::providers::REGISTRY`] through the configuration.

pub mod admin;
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
use crate::store::sqlite::{OpenOptions, SqliteStore};
use crate::store::{EventStore, StoreError};
use crate::telemetry::metrics::{Metrics, VendorLabel};
use crate::upstream::budget::Budget;
use crate::upstream::http::Connector;
use health::Health;

/// The sockets the gateway serves.
#[derive(Debug)]
pub struct Listeners {
    /// gRPC.
    pub grpc: TcpListener,
    /// HTTP: hooks and browser returns.
    pub http: TcpListener,
    /// Admin: metrics, liveness, readiness.
    pub admin: TcpListener,
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
            admin: bind(config.server.admin_addr, "server.admin_addr / IDV_ADMIN_ADDR").await?,
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
    /// Where the admin listener is served.
    pub admin_addr: SocketAddr,
    shutdown: CancellationToken,
    /// Stops the public HTTP listener: at the end of the grace period, so hooks are still
    /// taken while calls in flight finish.
    http_stop: CancellationToken,
    tasks: JoinSet<()>,
    grace: Duration,
}

impl Running {
    /// The token that stops the gateway when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Runs until the token is cancelled; then gRPC stops taking calls (health says
    /// draining, watches end with `UNAVAILABLE`), calls in flight have the grace period to
    /// finish, and the public HTTP listener keeps taking hooks until the grace period ends
    /// (the event log is still up; a vendor told "stored" must be right). Whatever is left
    /// then is stopped.
    pub async fn wait(mut self) {
        self.shutdown.cancelled().await;
        let grace_over = tokio::time::Instant::now() + self.grace;
        tokio::time::sleep_until(grace_over).await;
        self.http_stop.cancel();
        // The HTTP listener finishes the requests it has; a moment for that, then stop.
        let drain = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(1), drain).await.is_err() {
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

    let metrics = Metrics::new();
    let store: Arc<dyn EventStore> =
        Arc::new(SqliteStore::open_with(&config.store.data_dir, &OpenOptions::from_config(&config.store))?);
    let (reporter, health_service) = tonic_health::server::health_reporter();
    let health = Health::new(reporter, metrics.clone());
    tasks.spawn(health.clone().watch_store(store.clone(), shutdown.clone()));
    let settings = LogSettings {
        retention: secs(config.store.retention_days * 86_400),
        heartbeat: secs(config.server.heartbeat_secs),
        max_watch_streams: config.limits.max_watch_streams,
        max_watch_streams_per_caller: config.limits.max_watch_streams_per_caller,
    };
    let log = Arc::new(EventLog::new(store, settings, metrics.clone(), shutdown.clone()));
    let budget = Budget::new(config.limits.memory_budget_mb * 1024 * 1024, metrics.budget_in_use.clone());
    let context = Context {
        upstream: Connector {
            client: vendor_client()?,
            metrics: metrics.clone(),
            budget,
            breaker_failures: config.limits.breaker_failures,
            breaker_cooldown: secs(config.limits.breaker_cooldown_secs),
            breaker_observer: breaker_observer(&health, &metrics),
        },
        metrics: metrics.clone(),
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
        grpc::Wiring {
            tls: grpc_tls,
            providers: &providers,
            log,
            authenticator: &authenticator,
            health: &health,
            health_service,
            metrics: &metrics,
        },
        shutdown.clone(),
        &mut tasks,
    )
    .await?;

    // Hooks come from vendors: behind the source allow-list and the rate limits. Browser
    // returns come from anyone's browser.
    let hooks = providers.iter().fold(axum::Router::new(), |router, p| router.merge(p.hook_routes()));
    let guard =
        public_http::HookGuard::new(&http_limits, &config.hooks).counted(metrics.http_refusals.clone());
    let hooks = hooks.layer(guard);
    let http = providers.iter().fold(hooks, |router, p| router.merge(p.browser_routes()));
    let http_tls = acceptor(Listener::Http)?;
    let http_stop = CancellationToken::new();
    let stop = http_stop.clone();
    let refusals = Some(metrics.http_refusals.clone());
    tasks.spawn(async move {
        let stop_accepting = stop.cancelled_owned();
        let listener = listeners.http;
        public_http::serve_counted(
            listener,
            http,
            &http_limits,
            http_tls,
            refusals,
            stop_accepting,
            std::future::pending(),
        )
        .await;
    });

    let admin_addr = listeners.admin.local_addr()?;
    admin::spawn(listeners.admin, metrics, health, http_stop.clone(), &mut tasks);

    tracing::info!(%grpc_addr, %http_addr, %admin_addr, "gateway started");
    Ok(Running {
        grpc_addr,
        http_addr,
        admin_addr,
        shutdown,
        http_stop,
        tasks,
        grace: secs(config.server.shutdown_grace_secs),
    })
}

/// Keeps health and metrics in step with each vendor's circuit breaker.
fn breaker_observer(health: &Health, metrics: &Arc<Metrics>) -> crate::upstream::breaker::Observer {
    let (health, metrics) = (health.clone(), metrics.clone());
    Arc::new(move |vendor, state| {
        metrics.breaker_state.get_or_create(&VendorLabel { vendor }).set(state.gauge());
        let health = health.clone();
        let open = state != crate::upstream::breaker::State::Closed;
        // Observers are called from inside a vendor call; publishing is async.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move { health.set_cut_off(vendor, open).await });
        }
    })
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
