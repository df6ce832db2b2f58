//! The gRPC server: every provider's services, the attempts service, health (overall and
//! per service) and reflection (v1 and v1alpha, for grpcurl 1.8).

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tonic::service::RoutesBuilder;
use tonic::transport::Server;
use tonic_health::pb::health_server::HealthServer;
use tower_http::classify::{GrpcCode, GrpcErrorsAsFailures, SharedClassifier};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::StartError;
use super::health::Health;
use crate::attempts::log::EventLog;
use crate::auth::{Authenticator, IncomingOptions, TlsIncoming};
use crate::config::Config;
use crate::grpc::attempts::AttemptsApi;
use crate::grpc::attempts::server::attempt_service_server::AttemptServiceServer;
use crate::grpc::caller_errors::CallerErrorsLayer;
use crate::grpc::overload::ConcurrencyLimitLayer;
use crate::proto;
use crate::providers::Providers;
use crate::telemetry::grpc::GrpcMetricsLayer;
use crate::telemetry::metrics::Metrics;
use crate::telemetry::traces;

/// What the gRPC server is built from.
pub struct Wiring<'a, H> {
    /// TLS for the listener, if configured.
    pub tls: Option<TlsAcceptor>,
    /// The providers, whose services it serves.
    pub providers: &'a Providers,
    /// The event log, for the attempts service.
    pub log: Arc<EventLog>,
    /// Who may call.
    pub authenticator: &'a Arc<Authenticator>,
    /// Health, to register the services with.
    pub health: &'a Health,
    /// The gRPC health service.
    pub health_service: HealthServer<H>,
    /// Where calls are counted.
    pub metrics: &'a Arc<Metrics>,
}

/// Builds the gRPC router and serves it on `listener` until `shutdown`.
pub async fn serve<H: tonic_health::pb::health_server::Health>(
    config: &Config,
    listener: TcpListener,
    wiring: Wiring<'_, H>,
    shutdown: CancellationToken,
    tasks: &mut JoinSet<()>,
) -> Result<(), StartError> {
    let Wiring { tls, providers, log, authenticator, health, health_service, metrics } = wiring;
    let limit = config.server.max_message_bytes;
    let mut routes = RoutesBuilder::default();
    let mut services = vec![
        "grpc.health.v1.Health".to_owned(),
        "grpc.reflection.v1.ServerReflection".to_owned(),
        "grpc.reflection.v1alpha.ServerReflection".to_owned(),
    ];
    for provider in providers.iter() {
        let configured = provider.configured();
        for name in provider.add_services(&mut routes) {
            health.add_service(name, Some(provider.name()), configured);
            services.push(name.to_owned());
        }
    }
    let attempts = AttemptServiceServer::new(AttemptsApi::new(log, providers.clone()))
        .max_decoding_message_size(limit)
        .max_encoding_message_size(limit);
    let attempts_name = <AttemptServiceServer<AttemptsApi> as tonic::server::NamedService>::NAME;
    health.add_service(attempts_name, None, true);
    services.push(attempts_name.to_owned());
    routes.add_service(attempts);
    health.publish().await;
    routes.add_service(health_service);
    // Reflection over every descriptor the gateway serves, error details included.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let failed = |e: tonic_reflection::server::Error| StartError::Build(format!("reflection: {e}"));
    routes.add_service(reflection().build_v1().map_err(failed)?);
    routes.add_service(reflection().build_v1alpha().map_err(failed)?);

    let router = Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .layer(
            // Spans carry the method path (`/idv.baf.v1.ApplicantService/GetApplicant`) and
            // the caller's name, never headers (keys, the B2Core token) or bodies.
            TraceLayer::new(SharedClassifier::new(callers_mistakes_are_not_failures()))
                .make_span_with(traces::grpc_span)
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::DEBUG))
                .on_failure(DefaultOnFailure::new().level(Level::WARN)),
        )
        // Outside authentication, so refused calls are counted too.
        .layer(GrpcMetricsLayer::new(metrics.clone(), services))
        .layer(authenticator.layer())
        .layer(ConcurrencyLimitLayer::new(config.limits.max_concurrent_calls, metrics.clone()))
        .layer(CallerErrorsLayer)
        .add_routes(routes.routes());

    let health = health.clone();
    tasks.spawn(async move {
        let signal = async move {
            shutdown.cancelled().await;
            // Tell load balancers first, so new calls go elsewhere while these finish.
            health.drain().await;
        };
        let served = match tls {
            Some(acceptor) => match TlsIncoming::new(listener, acceptor, IncomingOptions::default()) {
                Ok(incoming) => router.serve_with_incoming_shutdown(incoming, signal).await,
                Err(e) => {
                    tracing::error!(error = %e, "cannot serve gRPC over TLS");
                    return;
                }
            },
            None => {
                // Socket options apply only to what tonic accepts itself: without nodelay,
                // Nagle's algorithm and delayed ACKs add ~40 ms to every small response.
                let incoming = tonic::transport::server::TcpIncoming::from(listener)
                    .with_nodelay(Some(true))
                    .with_keepalive(Some(Duration::from_secs(60)));
                router.serve_with_incoming_shutdown(incoming, signal).await
            }
        };
        if let Err(e) = served {
            tracing::error!(error = %e, "gRPC server failed");
        }
    });
    Ok(())
}

/// Which gRPC codes the access log reports as failures (at WARN): the gateway's own
/// faults and its vendors' (`INTERNAL`, `UNAVAILABLE`, `DEADLINE_EXCEEDED`, ...). A
/// caller's mistake (`INVALID_ARGUMENT`, `NOT_FOUND`, `UNAUTHENTICATED`, ...) is an
/// answer, not something an operator must act on: it is logged with every other call, at
/// DEBUG, and counted in the metrics.
fn callers_mistakes_are_not_failures() -> GrpcErrorsAsFailures {
    [
        GrpcCode::Cancelled,
        GrpcCode::InvalidArgument,
        GrpcCode::NotFound,
        GrpcCode::AlreadyExists,
        GrpcCode::PermissionDenied,
        GrpcCode::ResourceExhausted,
        GrpcCode::FailedPrecondition,
        GrpcCode::Aborted,
        GrpcCode::OutOfRange,
        GrpcCode::Unauthenticated,
    ]
    .into_iter()
    .fold(GrpcErrorsAsFailures::new(), GrpcErrorsAsFailures::with_success)
}
