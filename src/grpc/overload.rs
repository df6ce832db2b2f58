//! A global cap on gRPC calls handled at once (`limits.max_concurrent_calls`): past it a
//! call is refused at once with `RESOURCE_EXHAUSTED` and `RetryInfo` (load shedding),
//! rather than queued while memory and latency grow. Health checks and `WatchAttempt`
//! streams are not counted: health must answer under load, and watches have their own
//! caps (they are long-lived and mostly idle).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::Semaphore;
use tonic::Status;
use tonic::body::Body;
use tower::{Layer, Service};

use crate::error::{ApiError, ErrorCode, GATEWAY_DOMAIN};
use crate::telemetry::metrics::Metrics;

/// The layer (see the module documentation).
#[derive(Debug, Clone)]
pub struct ConcurrencyLimitLayer {
    permits: Arc<Semaphore>,
    metrics: Arc<Metrics>,
}

impl ConcurrencyLimitLayer {
    /// At most `calls` at once.
    pub fn new(calls: usize, metrics: Arc<Metrics>) -> Self {
        Self { permits: Arc::new(Semaphore::new(calls.clamp(1, Semaphore::MAX_PERMITS))), metrics }
    }
}

impl<S> Layer<S> for ConcurrencyLimitLayer {
    type Service = ConcurrencyLimit<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ConcurrencyLimit { inner, layer: self.clone() }
    }
}

/// The service of [`ConcurrencyLimitLayer`].
#[derive(Debug, Clone)]
pub struct ConcurrencyLimit<S> {
    inner: S,
    layer: ConcurrencyLimitLayer,
}

impl<S, B> Service<http::Request<B>> for ConcurrencyLimit<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let path = request.uri().path();
        if path.starts_with("/grpc.health.") || path == "/idv.attempts.v1.AttemptService/WatchAttempt" {
            return Box::pin(self.inner.call(request));
        }
        let Ok(permit) = self.layer.permits.clone().try_acquire_owned() else {
            self.layer.metrics.overload("concurrent_calls");
            let mut error = ApiError::new(
                ErrorCode::ResourceExhausted,
                GATEWAY_DOMAIN,
                "TOO_MANY_CALLS",
                "the gateway is handling as many calls as it allows (limits.max_concurrent_calls): retry",
            );
            error.retry_after = Some(Duration::from_secs(1));
            return Box::pin(std::future::ready(Ok(Status::from(error).into_http())));
        };
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await;
            drop(permit);
            response
        })
    }
}
