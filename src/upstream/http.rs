//! The one way the gateway calls a vendor: reqwest with a per-call deadline, bounded
//! bodies, sensitive auth headers, retries of idempotent reads, and a log line per call
//! that names the operation and the outcome but never a body or a query string.

use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderValue, Method, StatusCode, header};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;

use super::breaker::{self, Breaker};
use super::budget::{Budget, Reservation};
use crate::telemetry::metrics::Metrics;
use crate::telemetry::traces;
use tracing::Instrument;

/// Largest vendor response body read into memory. BAF returns base64 images in JSON.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// What every vendor endpoint shares: the connection pool, the metrics, the memory
/// budget, and how circuit breakers behave.
#[derive(Clone)]
pub struct Connector {
    /// The one HTTP client (connection pool) for every vendor.
    pub client: reqwest::Client,
    /// Where calls are counted.
    pub metrics: Arc<Metrics>,
    /// The budget bodies read into memory count against.
    pub budget: Arc<Budget>,
    /// Consecutive failures that open a vendor's breaker.
    pub breaker_failures: u32,
    /// How long an open breaker refuses calls before it lets a probe through.
    pub breaker_cooldown: Duration,
    /// Told when a breaker changes state.
    pub breaker_observer: breaker::Observer,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector").finish_non_exhaustive()
    }
}

/// A vendor's HTTP endpoint.
#[derive(Debug, Clone)]
pub struct Upstream {
    client: reqwest::Client,
    base: Url,
    timeout: Duration,
    vendor: &'static str,
    metrics: Arc<Metrics>,
    budget: Arc<Budget>,
    breaker: Arc<Breaker>,
}

/// How a call authenticates.
#[derive(Debug, Clone)]
pub enum Auth {
    /// No header (AbleID puts its credentials in the body).
    None,
    /// `Authorization: Bearer <secret>` with the gateway's own secret.
    Bearer(SecretString),
    /// `Authorization` exactly as the caller gave it, for a vendor that acts for the
    /// caller's end user (B2Core).
    Forward(SecretString),
}

/// One vendor call.
#[derive(Debug)]
pub struct Call {
    /// Name for logs, such as `GetApplicant`.
    pub operation: &'static str,
    /// HTTP method.
    pub method: Method,
    /// Path segments after the base URL's path; each is percent-encoded.
    pub segments: Vec<String>,
    /// Query parameters, in order.
    pub query: Vec<(&'static str, String)>,
    /// JSON body.
    pub body: Option<Value>,
    /// Authentication.
    pub auth: Auth,
}

impl Call {
    /// A call with no query and no body; `path` is split on `/`.
    pub fn new(operation: &'static str, method: Method, path: &str, auth: Auth) -> Self {
        Self {
            operation,
            method,
            segments: path.split('/').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
            query: Vec::new(),
            body: None,
            auth,
        }
    }

    /// Appends one path segment, such as an id; it is percent-encoded.
    pub fn segment(mut self, segment: impl Into<String>) -> Self {
        self.segments.push(segment.into());
        self
    }

    /// Appends a query parameter when it has a value.
    pub fn query(mut self, name: &'static str, value: Option<String>) -> Self {
        if let Some(value) = value {
            self.query.push((name, value));
        }
        self
    }

    /// Sets the JSON body.
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Safe to send again when it failed without an answer: GETs only.
    fn idempotent(&self) -> bool {
        self.method == Method::GET
    }
}

/// A vendor call that did not produce a usable answer.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The vendor did not answer within the timeout or the caller's deadline.
    #[error("timed out")]
    Timeout,
    /// The vendor could not be reached, or the connection broke.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The vendor answered with a non-2xx status.
    #[error("HTTP {}", .0.status)]
    Status(VendorReply),
    /// The vendor answered 2xx with a body the gateway cannot read.
    #[error("malformed response: {0}")]
    Malformed(String),
    /// The vendor's body exceeded [`MAX_BODY_BYTES`].
    #[error("response too large")]
    TooLarge,
    /// The memory budget had no room for the vendor's body.
    #[error("memory budget exhausted")]
    Overloaded,
    /// The vendor's circuit breaker is open: not called; try again after this long.
    #[error("circuit open")]
    CircuitOpen(Duration),
}

/// A vendor's non-2xx answer.
#[derive(Debug, Clone)]
pub struct VendorReply {
    /// HTTP status.
    pub status: StatusCode,
    /// Body, at most [`MAX_BODY_BYTES`].
    pub body: Bytes,
    /// `Retry-After`, in seconds form.
    pub retry_after: Option<Duration>,
}

impl UpstreamError {
    /// Whether this is the vendor failing (what opens its breaker), rather than the vendor
    /// answering a refusal or the gateway refusing to wait.
    pub fn is_vendor_failure(&self) -> bool {
        match self {
            Self::Timeout | Self::Unreachable(_) => true,
            Self::Status(reply) => reply.status.is_server_error(),
            Self::Malformed(_) | Self::TooLarge | Self::Overloaded | Self::CircuitOpen(_) => false,
        }
    }

    /// Whether the same request may succeed if sent again soon.
    fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable(_) => true,
            Self::Status(reply) => matches!(
                reply.status,
                StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
            ),
            _ => false,
        }
    }
}

/// A streamed 2xx answer.
pub struct Download {
    /// `Content-Type`, or `application/octet-stream`.
    pub content_type: String,
    /// `Content-Length`, when sent.
    pub content_length: Option<u64>,
    /// The body, chunk by chunk; each chunk must arrive within the vendor's timeout.
    pub body: futures_util::stream::BoxStream<'static, Result<Bytes, UpstreamError>>,
}

impl Download {
    /// The same download with its stream's failures already turned into the caller's
    /// errors by the vendor's own rules.
    pub fn into_media(
        self,
        error: impl Fn(UpstreamError) -> crate::error::ApiError + Send + 'static,
    ) -> Media {
        Media {
            content_type: self.content_type,
            content_length: self.content_length,
            body: self.body.map(move |chunk| chunk.map_err(&error)).boxed(),
        }
    }
}

/// A download on its way to a caller: [`Download`] with the caller's errors.
pub struct Media {
    /// `Content-Type`, or `application/octet-stream`.
    pub content_type: String,
    /// `Content-Length`, when sent.
    pub content_length: Option<u64>,
    /// The body, chunk by chunk.
    pub body: futures_util::stream::BoxStream<'static, Result<Bytes, crate::error::ApiError>>,
}

impl std::fmt::Debug for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Media")
            .field("content_type", &self.content_type)
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("content_type", &self.content_type)
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

impl Upstream {
    /// An endpoint of `vendor` at `base` (its path is kept as a prefix), with its own
    /// circuit breaker.
    pub fn new(connector: &Connector, vendor: &'static str, base: Url, timeout: Duration) -> Self {
        let breaker = Arc::new(Breaker::new(
            vendor,
            connector.breaker_failures,
            connector.breaker_cooldown,
            connector.breaker_observer.clone(),
        ));
        (connector.breaker_observer)(vendor, breaker::State::Closed);
        Self {
            client: connector.client.clone(),
            base,
            timeout,
            vendor,
            metrics: connector.metrics.clone(),
            budget: connector.budget.clone(),
            breaker,
        }
    }

    /// Lets a call through the breaker, or refuses it at once.
    fn admit(&self, operation: &'static str) -> Result<breaker::Permit, UpstreamError> {
        self.breaker.admit().map_err(|wait| {
            self.metrics.vendor_call(self.vendor, operation, "circuit_open".into(), Duration::ZERO);
            UpstreamError::CircuitOpen(wait)
        })
    }

    /// Tells the breaker how a call it let through went.
    fn settle<T>(&self, permit: breaker::Permit, result: &Result<T, UpstreamError>) {
        self.breaker.done(permit, result.as_ref().is_err_and(UpstreamError::is_vendor_failure));
    }

    /// The vendor's name, as used in `ErrorInfo.domain`.
    pub fn vendor(&self) -> &'static str {
        self.vendor
    }

    /// Sends the call and reads a JSON body; an empty body reads as `null`.
    pub async fn json(&self, call: Call, deadline: Option<Instant>) -> Result<Value, UpstreamError> {
        Ok(self.json_reply(call, deadline).await?.1)
    }

    /// [`Upstream::json`] with the 2xx status it came with, for vendors that report
    /// failures inside a 2xx body.
    pub async fn json_reply(
        &self,
        call: Call,
        deadline: Option<Instant>,
    ) -> Result<(StatusCode, Value), UpstreamError> {
        let limit = self.limit(deadline)?;
        let operation = call.operation;
        let permit = self.admit(operation)?;
        let read = async {
            let response = self.send(&call, deadline).await?;
            let status = response.status();
            // Held until the JSON is parsed: the bytes are in memory until then.
            let (body, _held) = self.read_capped(response).await?;
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok((status, Value::Null));
            }
            let value = serde_json::from_slice(&body).map_err(|e| {
                UpstreamError::Malformed(format!("{operation}: body is not JSON ({:?})", e.classify()))
            })?;
            Ok((status, value))
        };
        let result = tokio::time::timeout(limit, read).await.unwrap_or(Err(UpstreamError::Timeout));
        self.settle(permit, &result);
        result
    }

    /// Sends the call and streams the body.
    pub async fn download(&self, call: Call, deadline: Option<Instant>) -> Result<Download, UpstreamError> {
        let limit = self.limit(deadline)?;
        let permit = self.admit(call.operation)?;
        let response = tokio::time::timeout(limit, self.send(&call, deadline))
            .await
            .unwrap_or(Err(UpstreamError::Timeout));
        self.settle(permit, &response);
        let response = response?;
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let content_length = response.content_length();
        let idle = self.timeout;
        let chunks = response.bytes_stream();
        let body = futures_util::stream::unfold(chunks, move |mut chunks| async move {
            match tokio::time::timeout(idle, chunks.next()).await {
                Err(_) => Some((Err(UpstreamError::Timeout), chunks)),
                Ok(None) => None,
                Ok(Some(Ok(bytes))) => Some((Ok(bytes), chunks)),
                Ok(Some(Err(e))) => Some((Err(UpstreamError::Unreachable(cause(&e))), chunks)),
            }
        })
        .boxed();
        Ok(Download { content_type, content_length, body })
    }

    /// [`read_capped`] within the memory budget, counting a refusal for lack of room with
    /// the other overload refusals.
    async fn read_capped(&self, response: reqwest::Response) -> Result<(Bytes, Reservation), UpstreamError> {
        let read = read_capped(response, &self.budget).await;
        if matches!(read, Err(UpstreamError::Overloaded)) {
            self.metrics.overload("memory_budget");
        }
        read
    }

    /// The time this call may take: the vendor's timeout, cut to the caller's deadline.
    fn limit(&self, deadline: Option<Instant>) -> Result<Duration, UpstreamError> {
        match deadline {
            None => Ok(self.timeout),
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() { Err(UpstreamError::Timeout) } else { Ok(left.min(self.timeout)) }
            }
        }
    }

    /// Sends until a 2xx, a final failure, or the retry budget ends; only idempotent
    /// calls are retried, with exponential backoff and jitter.
    async fn send(&self, call: &Call, deadline: Option<Instant>) -> Result<reqwest::Response, UpstreamError> {
        let once = || self.send_once(call);
        if !call.idempotent() {
            return once().await;
        }
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(2))
            .with_max_times(2)
            .with_jitter();
        once.retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|e: &UpstreamError| {
                e.is_transient() && deadline.is_none_or(|d| d > Instant::now() + Duration::from_millis(100))
            })
            .notify(|e: &UpstreamError, wait: Duration| {
                tracing::info!(vendor = self.vendor, operation = call.operation, error = %e, ?wait, "retrying");
            })
            .await
    }

    async fn send_once(&self, call: &Call) -> Result<reqwest::Response, UpstreamError> {
        let span = tracing::info_span!(
            "vendor",
            otel.name = format!("{} {}", self.vendor, call.operation),
            otel.kind = "client",
            idv.vendor = self.vendor,
            idv.operation = call.operation,
            http.response.status_code = tracing::field::Empty,
        );
        self.send_traced(call).instrument(span).await
    }

    async fn send_traced(&self, call: &Call) -> Result<reqwest::Response, UpstreamError> {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(&call.segments);
        }
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&call.query);
        }
        // The caller's trace goes on to the vendor.
        let mut trace = http::HeaderMap::new();
        traces::inject(&mut trace);
        let mut request = self
            .client
            .request(call.method.clone(), url)
            .header(header::ACCEPT, "application/json")
            .headers(trace);
        let authorization = match &call.auth {
            Auth::None => None,
            Auth::Bearer(secret) => Some(format!("Bearer {}", secret.expose_secret())),
            Auth::Forward(value) => Some(value.expose_secret().to_owned()),
        };
        if let Some(value) = authorization {
            let mut value = HeaderValue::from_str(&value)
                .map_err(|_| UpstreamError::Malformed("authorization is not a valid header".into()))?;
            value.set_sensitive(true);
            request = request.header(header::AUTHORIZATION, value);
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }

        let started = Instant::now();
        let result = request.send().await;
        let took = started.elapsed();
        let elapsed_ms = took.as_millis() as u64;
        let response = match result {
            Ok(response) => response,
            Err(e) => {
                let error = if e.is_timeout() {
                    UpstreamError::Timeout
                } else {
                    UpstreamError::Unreachable(cause(&e))
                };
                let status = if e.is_timeout() { "timeout" } else { "unreachable" };
                self.metrics.vendor_call(self.vendor, call.operation, status.into(), took);
                tracing::warn!(vendor = self.vendor, operation = call.operation, elapsed_ms, error = %error, "vendor call failed");
                return Err(error);
            }
        };
        let status = response.status();
        tracing::Span::current().record("http.response.status_code", status.as_u16());
        self.metrics.vendor_call(self.vendor, call.operation, status.as_u16().to_string(), took);
        // Per call: DEBUG (the metrics carry the counts and latencies).
        tracing::debug!(
            vendor = self.vendor,
            operation = call.operation,
            status = status.as_u16(),
            elapsed_ms,
            "vendor call"
        );
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let (body, _held) = self.read_capped(response).await?;
        Err(UpstreamError::Status(VendorReply { status, body, retry_after }))
    }
}

/// Reads a body, refusing one larger than [`MAX_BODY_BYTES`] before it is all in memory,
/// and one the memory budget has no room for; the reservation holds its bytes.
async fn read_capped(
    response: reqwest::Response,
    budget: &Arc<Budget>,
) -> Result<(Bytes, Reservation), UpstreamError> {
    if response.content_length().is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(UpstreamError::TooLarge);
    }
    let mut reservation = budget.reserve();
    if let Some(length) = response.content_length() {
        reservation.grow_to(length as usize).map_err(|_| UpstreamError::Overloaded)?;
    }
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| UpstreamError::Unreachable(cause(&e)))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(UpstreamError::TooLarge);
        }
        reservation.grow_to(body.len() + chunk.len()).map_err(|_| UpstreamError::Overloaded)?;
        body.extend_from_slice(&chunk);
    }
    Ok((body.into(), reservation))
}

/// A short cause for logs and messages. reqwest's `Display` includes the URL, whose
/// query may hold personal data (BAF's `TextFilter`), so it is not used.
fn cause(e: &reqwest::Error) -> String {
    let kind = if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "body interrupted"
    } else if e.is_request() {
        "request failed"
    } else {
        "transport error"
    };
    // The innermost source names the socket error (refused, reset, DNS) without the URL.
    let mut innermost = std::error::Error::source(e);
    while let Some(next) = innermost.and_then(std::error::Error::source) {
        innermost = Some(next);
    }
    match innermost.map(ToString::to_string) {
        Some(source) if !source.contains("://") => format!("{kind}: {source}"),
        _ => kind.to_owned(),
    }
}
