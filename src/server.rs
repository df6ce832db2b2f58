//! Assembles the gateway from a [`Config`] and runs it: the gRPC server (vendor services,
//! health, reflection) and the HTTP listener (vendor hooks, the BAF return URL, and any
//! extra routes such as the sandbox's), both stopped by one cancellation token.
//!
//! Listeners are bound by the caller ([`Listeners::bind`]) so tests and the sandbox can
//! use port 0 and learn the address before the gateway is configured.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tonic::transport::Server;
use tonic_health::ServingStatus;
use tower_http::trace::{DefaultMakeSpan, DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::api::{ableid::AbleIdApi, attempts::AttemptsApi, b2core::B2CoreApi, baf::BafApi};
use crate::attempts::hooks;
use crate::attempts::observer::Observers;
use crate::attempts::sqlite::SqliteStore;
use crate::attempts::store::StoreError;
use crate::attempts::tracker::{Tracker, TrackerSettings};
use crate::config::{Config, secs};
use crate::proto::attempts::attempt_service_server::AttemptServiceServer;
use crate::proto::{self, ableid::able_id_service_server::AbleIdServiceServer};
use crate::proto::{b2core::verification_service_server::VerificationServiceServer, baf};
use crate::validate::UrlPolicy;
use crate::vendor::{ableid::AbleId, b2core::B2Core, baf::Baf, http::Upstream};

/// The two sockets the gateway serves.
#[derive(Debug)]
pub struct Listeners {
    /// gRPC.
    pub grpc: TcpListener,
    /// HTTP: hooks, the BAF return URL, extra routes.
    pub http: TcpListener,
}

impl Listeners {
    /// Binds the configured addresses (port 0 picks a free port).
    pub async fn bind(config: &Config) -> std::io::Result<Self> {
        Ok(Self {
            grpc: TcpListener::bind(config.server.grpc_addr).await?,
            http: TcpListener::bind(config.server.http_addr).await?,
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
    /// A socket could not be used.
    #[error("listener: {0}")]
    Io(#[from] std::io::Error),
    /// The HTTP client could not be built (TLS roots).
    #[error("http client: {0}")]
    Client(String),
    /// The event log could not be opened.
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Builds every service from `config` and starts serving on `listeners`.
pub async fn start(
    config: Config,
    listeners: Listeners,
    extra_http: Option<axum::Router>,
) -> Result<Running, StartError> {
    let grpc_addr = listeners.grpc.local_addr()?;
    let http_addr = listeners.http.local_addr()?;
    let shutdown = CancellationToken::new();
    let vendors = Vendors::from_config(&config)?;
    let mut tasks = JoinSet::new();

    let store = Arc::new(SqliteStore::open(&config.store.data_dir)?);
    let observers = vendors.baf.clone().map(|baf| {
        Arc::new(Observers::new(
            baf,
            store.clone(),
            secs(config.baf.poll_min_secs),
            secs(config.baf.poll_max_secs),
            shutdown.clone(),
        ))
    });
    let tracker = Arc::new(Tracker {
        store,
        observers,
        ableid: vendors.ableid.clone(),
        settings: TrackerSettings {
            retention: secs(config.store.retention_days * 86_400),
            expiry_grace: secs(config.ableid.expiry_grace_secs),
            public_url: config.server.public_url.clone(),
            heartbeat: secs(config.server.heartbeat_secs),
        },
        shutdown: shutdown.clone(),
    });
    tracker.spawn_background(&mut tasks);

    let own_hook = config
        .server
        .public_url
        .as_ref()
        .and_then(|u| u.join("hooks/ableid/complete").ok())
        .map(String::from);
    let ableid = AbleIdApi {
        ableid: vendors.ableid,
        own_hook,
        hook_policy: UrlPolicy {
            allow_http: config.ableid.allow_http_hooks,
            allow_private: config.ableid.allow_private_hooks,
        },
        session_ttl: secs(config.ableid.session_ttl_secs),
        tracker: tracker.clone(),
    };
    let baf = Arc::new(BafApi { baf: vendors.baf, tracker: tracker.clone() });
    let b2core = B2CoreApi { b2core: vendors.b2core };
    let attempts = AttemptsApi { tracker: tracker.clone() };

    let (health, health_service) = tonic_health::server::health_reporter();
    let statuses = [
        (service_name::<AbleIdServiceServer<AbleIdApi>>(), ableid.ableid.is_some()),
        (service_name::<baf::applicant_service_server::ApplicantServiceServer<BafApi>>(), baf.baf.is_some()),
        (
            service_name::<baf::validation_service_server::ValidationServiceServer<BafApi>>(),
            baf.baf.is_some(),
        ),
        (service_name::<VerificationServiceServer<B2CoreApi>>(), b2core.b2core.is_some()),
        (service_name::<AttemptServiceServer<AttemptsApi>>(), true),
    ];
    for (name, configured) in statuses {
        let status = if configured { ServingStatus::Serving } else { ServingStatus::NotServing };
        health.set_service_status(name, status).await;
    }
    health.set_service_status("", ServingStatus::Serving).await;

    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| StartError::Client(e.to_string()))?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .map_err(|e| StartError::Client(e.to_string()))?;

    let limit = config.server.max_message_bytes;
    macro_rules! limited {
        ($server:expr) => {
            $server.max_decoding_message_size(limit).max_encoding_message_size(limit)
        };
    }
    let router = Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .layer(
            // Spans carry the method path (`/idv.baf.v1.ApplicantService/GetApplicant`),
            // never headers (the B2Core token) or bodies.
            TraceLayer::new_for_grpc()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .on_failure(DefaultOnFailure::new().level(Level::WARN)),
        )
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(limited!(AbleIdServiceServer::new(ableid)))
        .add_service(limited!(baf::applicant_service_server::ApplicantServiceServer::from_arc(baf.clone())))
        .add_service(limited!(baf::validation_service_server::ValidationServiceServer::from_arc(baf)))
        .add_service(limited!(VerificationServiceServer::new(b2core)))
        .add_service(limited!(AttemptServiceServer::new(attempts)));

    let stop = shutdown.clone();
    let reporter = health.clone();
    // Socket options apply only to what tonic accepts itself: without nodelay, Nagle's
    // algorithm and delayed ACKs add ~40 ms to every small response.
    let incoming = tonic::transport::server::TcpIncoming::from(listeners.grpc)
        .with_nodelay(Some(true))
        .with_keepalive(Some(Duration::from_secs(60)));
    tasks.spawn(async move {
        let signal = async move {
            stop.cancelled().await;
            // Tell load balancers first, so new calls go elsewhere while these finish.
            for (name, _) in statuses {
                reporter.set_service_status(name, ServingStatus::NotServing).await;
            }
            reporter.set_service_status("", ServingStatus::NotServing).await;
        };
        if let Err(e) = router.serve_with_incoming_shutdown(incoming, signal).await {
            tracing::error!(error = %e, "gRPC server failed");
        }
    });

    let http = hooks::routes(tracker).merge(extra_http.unwrap_or_default());
    let stop = shutdown.clone();
    tasks.spawn(async move {
        let served =
            axum::serve(listeners.http, http).with_graceful_shutdown(async move { stop.cancelled().await });
        if let Err(e) = served.await {
            tracing::error!(error = %e, "HTTP server failed");
        }
    });

    tracing::info!(%grpc_addr, %http_addr, "gateway started");
    Ok(Running { grpc_addr, http_addr, shutdown, tasks, grace: secs(config.server.shutdown_grace_secs) })
}

/// The vendor clients the configuration allows.
struct Vendors {
    ableid: Option<AbleId>,
    baf: Option<Baf>,
    b2core: Option<B2Core>,
}

impl Vendors {
    fn from_config(config: &Config) -> Result<Self, StartError> {
        // One connection pool for all vendors; per-call timeouts come from each vendor's
        // configuration and the caller's deadline.
        let client = reqwest::Client::builder()
            .user_agent(concat!("idv-gateway/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| StartError::Client(e.to_string()))?;
        let upstream = |vendor, url: &url::Url, timeout| {
            Upstream::new(client.clone(), vendor, url.clone(), secs(timeout))
        };

        let ableid = match (&config.ableid.base_url, config.ableid_credentials()) {
            (Some(url), Some((project, secret))) => Some(AbleId::new(
                upstream(crate::vendor::ableid::DOMAIN, url, config.ableid.timeout_secs),
                project.to_owned(),
                secret.clone(),
            )),
            _ => None,
        };
        let baf = match (&config.baf.base_url, &config.baf.api_key) {
            (Some(url), Some(key)) => Some(Baf::new(
                upstream(crate::vendor::baf::DOMAIN, url, config.baf.timeout_secs),
                key.clone(),
            )),
            _ => None,
        };
        let b2core = config.b2core.base_url.as_ref().map(|url| {
            B2Core::new(
                upstream(crate::vendor::b2core::DOMAIN, url, config.b2core.timeout_secs),
                config.b2core.history_path.clone(),
                config.b2core.procedures_path.clone(),
            )
        });
        Ok(Self { ableid, baf, b2core })
    }
}

fn service_name<S: tonic::server::NamedService>() -> &'static str {
    S::NAME
}
