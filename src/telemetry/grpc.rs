//! The gRPC server's metrics layer: `idv_grpc_requests_total{method,code,caller}` and
//! `idv_grpc_request_duration_seconds{method}` for every call, refused ones included.
//!
//! It sits outside authentication, so it sees every call; the caller's name reaches it
//! through a [`CallerSlot`] the auth layer fills. The status of a call is in its trailers
//! (or its headers, when tonic answers with trailers only), so the response body is
//! wrapped to read them when they pass; a call whose body is dropped first is counted as
//! `CANCELLED`.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tonic::body::Body;
use tower::{Layer, Service};

use super::metrics::{GrpcCall, GrpcMethod, Metrics};

/// Where the auth layer writes the caller's name for this layer to read.
#[derive(Debug, Clone, Default)]
pub struct CallerSlot(pub Arc<OnceLock<Arc<str>>>);

/// The layer (see the module documentation).
#[derive(Debug, Clone)]
pub struct GrpcMetricsLayer {
    metrics: Arc<Metrics>,
    /// Full service names the server serves: a path outside them is `unknown`, so a
    /// scanner cannot grow the label set.
    services: Arc<HashSet<String>>,
}

impl GrpcMetricsLayer {
    /// A layer counting into `metrics`, knowing `services`.
    pub fn new(metrics: Arc<Metrics>, services: impl IntoIterator<Item = String>) -> Self {
        Self { metrics, services: Arc::new(services.into_iter().collect()) }
    }
}

impl<S> Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics { inner, layer: self.clone() }
    }
}

/// The service of [`GrpcMetricsLayer`].
#[derive(Debug, Clone)]
pub struct GrpcMetrics<S> {
    inner: S,
    layer: GrpcMetricsLayer,
}

impl<S, B> Service<http::Request<B>> for GrpcMetrics<S>
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

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let method = self.method(request.uri().path());
        let slot = CallerSlot::default();
        request.extensions_mut().insert(slot.clone());
        let recorder =
            Recorder { metrics: self.layer.metrics.clone(), method, slot, started: Instant::now() };
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            // tonic answers a call refused before its handler with the status in the
            // headers and no body to speak of.
            if let Some(code) = response.headers().get("grpc-status") {
                let code = code.to_str().ok().and_then(|c| c.parse().ok()).unwrap_or(2);
                recorder.record(code);
                return Ok(response);
            }
            let (parts, body) = response.into_parts();
            Ok(http::Response::from_parts(
                parts,
                Body::new(Metered { inner: body, recorder: Some(recorder) }),
            ))
        })
    }
}

impl<S> GrpcMetrics<S> {
    fn method(&self, path: &str) -> String {
        let service = path.strip_prefix('/').and_then(|p| p.split_once('/')).map(|(service, _)| service);
        match service {
            Some(service) if self.layer.services.contains(service) => path.to_owned(),
            _ => "unknown".to_owned(),
        }
    }
}

/// Counts one call when its status is known.
struct Recorder {
    metrics: Arc<Metrics>,
    method: String,
    slot: CallerSlot,
    started: Instant,
}

impl Recorder {
    fn record(self, code: i32) {
        let caller = self.slot.0.get().map_or("unauthenticated", |name| &**name).to_owned();
        let call = GrpcCall { method: self.method.clone(), code: code_name(code).to_owned(), caller };
        self.metrics.grpc_requests.get_or_create(&call).inc();
        self.metrics
            .grpc_duration
            .get_or_create(&GrpcMethod { method: self.method })
            .observe(self.started.elapsed().as_secs_f64());
    }
}

/// A response body that counts its call when the trailers pass.
struct Metered {
    inner: Body,
    recorder: Option<Recorder>,
}

impl http_body::Body for Metered {
    type Data = Bytes;
    type Error = tonic::Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, tonic::Status>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(code) = frame.trailers_ref().and_then(|t| t.get("grpc-status"))
                    && let Some(recorder) = self.recorder.take()
                {
                    recorder.record(code.to_str().ok().and_then(|c| c.parse().ok()).unwrap_or(2));
                }
            }
            Poll::Ready(Some(Err(_))) => {
                if let Some(recorder) = self.recorder.take() {
                    recorder.record(2);
                }
            }
            Poll::Ready(None) => {
                if let Some(recorder) = self.recorder.take() {
                    recorder.record(0);
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Metered {
    fn drop(&mut self) {
        // The caller went away before the call ended (a watch closed by its client).
        if let Some(recorder) = self.recorder.take() {
            recorder.record(1);
        }
    }
}

/// The canonical name of a gRPC status code.
pub fn code_name(code: i32) -> &'static str {
    match code {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => "UNKNOWN",
    }
}
