//! The admin listener (`server.admin_addr`, loopback by default): `/metrics` for
//! Prometheus, `/livez` (the process answers) and `/readyz` (it should get traffic: not
//! draining, event log up). It is a separate socket from the public HTTP listener on
//! purpose: metrics are for operators, never for the internet.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::health::{Health, NotReady};
use crate::telemetry::metrics::Metrics;

#[derive(Clone)]
struct Admin {
    metrics: Arc<Metrics>,
    health: Health,
}

/// Serves the admin routes on `listener` until `stop`.
pub fn spawn(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    health: Health,
    stop: CancellationToken,
    tasks: &mut JoinSet<()>,
) {
    let router = Router::new()
        .route("/metrics", get(metrics_text))
        .route("/livez", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .with_state(Admin { metrics, health });
    tasks.spawn(async move {
        let served = axum::serve(listener, router).with_graceful_shutdown(stop.cancelled_owned());
        if let Err(e) = served.await {
            tracing::error!(error = %e, "admin listener failed");
        }
    });
}

async fn metrics_text(State(admin): State<Admin>) -> Response {
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], admin.metrics.encode()).into_response()
}

async fn ready(State(admin): State<Admin>) -> Response {
    match admin.health.ready() {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(NotReady::Draining) => (StatusCode::SERVICE_UNAVAILABLE, "draining\n").into_response(),
        Err(NotReady::Store) => (StatusCode::SERVICE_UNAVAILABLE, "event log unavailable\n").into_response(),
    }
}
