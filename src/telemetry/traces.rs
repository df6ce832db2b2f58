//! Logs and traces: one `tracing` subscriber with two outputs, each filtered on its own.
//!
//! - Log lines (stderr, text or JSON) at `IDV_LOG` (default `info`): per-call lines are at
//!   DEBUG; WARN and ERROR mean something an operator must act on.
//! - Traces, when the standard `OTEL_EXPORTER_OTLP_ENDPOINT` is set: OpenTelemetry spans
//!   over OTLP/gRPC (`opentelemetry-otlp`, fed from `tracing` by `tracing-opentelemetry`),
//!   for the RPC, the vendor call, the hook and the event-log append. A W3C `traceparent`
//!   in the gRPC metadata becomes the RPC span's parent and goes on to the vendor in the
//!   call's headers. Spans carry the attempt id as the attribute `idv.attempt_id`, never in
//!   a name; never a request value otherwise. The other `OTEL_*` variables of the OTLP
//!   exporter apply (`OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_HEADERS`, ...).

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

/// What to shut down at exit: flushes spans not yet exported.
#[derive(Debug, Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports what is left; call before the process exits.
    pub fn shutdown(self) {
        if let Some(provider) = self.provider
            && let Err(e) = provider.shutdown()
        {
            eprintln!("traces: cannot flush the last spans: {e}");
        }
    }
}

/// Installs the subscriber. Call inside the tokio runtime: the exporter runs on it.
pub fn init(json: bool) -> Telemetry {
    let filter = EnvFilter::try_from_env("IDV_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt::layer().with_target(false);
    let logs = if json { logs.json().boxed() } else { logs.boxed() };
    let (traces, provider) = match exporter() {
        Ok(Some(provider)) => {
            let tracer = provider.tracer("idv-gateway");
            // The gateway's own spans, at INFO, whatever the log level.
            let layer = tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(Targets::new().with_target("idv_gateway", tracing::Level::INFO));
            (Some(layer), Some(provider))
        }
        Ok(None) => (None, None),
        Err(e) => {
            eprintln!("traces: OTLP exporter not started: {e}");
            (None, None)
        }
    };
    Registry::default().with(logs.with_filter(filter)).with(traces).init();
    Telemetry { provider }
}

/// The OTLP exporter, when `OTEL_EXPORTER_OTLP_ENDPOINT` asks for one.
fn exporter() -> Result<Option<SdkTracerProvider>, String> {
    if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_none_or(|v| v.is_empty()) {
        return Ok(None);
    }
    let exporter =
        opentelemetry_otlp::SpanExporter::builder().with_tonic().build().map_err(|e| e.to_string())?;
    let batch = opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor::builder(
        exporter,
        opentelemetry_sdk::runtime::Tokio,
    )
    .build();
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "idv-gateway".into());
    let resource = opentelemetry_sdk::Resource::builder().with_service_name(service).build();
    Ok(Some(SdkTracerProvider::builder().with_span_processor(batch).with_resource(resource).build()))
}

/// The span of one gRPC call, for `TraceLayer::make_span_with`: the method, the caller
/// (filled by the auth layer), the attempt (filled by the handler), and the caller's
/// trace as its parent when the metadata carries a `traceparent`.
pub fn grpc_span<B>(request: &http::Request<B>) -> tracing::Span {
    let path = request.uri().path();
    let span = tracing::info_span!(
        "grpc",
        otel.name = %path,
        otel.kind = "server",
        rpc.system = "grpc",
        method = %path,
        caller = tracing::field::Empty,
        idv.attempt_id = tracing::field::Empty,
    );
    let parent = TraceContextPropagator::new().extract(&HeaderExtractor(request.headers()));
    let _ = span.set_parent(parent);
    span
}

/// Names the attempt the current call or hook is about, on its span.
pub fn attempt(id: &str) {
    tracing::Span::current().record("idv.attempt_id", id);
}

/// Adds the current span's trace to an outgoing request's headers (`traceparent`), so
/// the vendor's own traces can join the caller's.
pub fn inject(headers: &mut http::HeaderMap) {
    let context = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&context, &mut HeaderInjector(headers));
}

struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct HeaderInjector<'a>(&'a mut http::HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) =
            (http::HeaderName::from_bytes(key.as_bytes()), http::HeaderValue::from_str(&value))
        {
            self.0.insert(name, value);
        }
    }
}
