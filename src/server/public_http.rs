//! The public HTTP listener (AbleID's hooks, the BAF browser return), hardened so that the
//! internet cannot starve the private gRPC listener that shares the process.
//!
//! An attacker who opens slow connections costs the process one file descriptor each; at the
//! open-file limit `accept` fails for *every* listener, gRPC included. So:
//! - [`raise_nofile_limit`] lifts the soft `RLIMIT_NOFILE` to the hard limit at start-up, and
//!   [`Limits::fit_open_files`] clamps the HTTP connection cap to leave a reserve of descriptors
//!   for gRPC, the store and the vendor clients;
//! - [`serve`] caps connections globally and per source address, closes connections whose request
//!   head does not arrive in time (slowloris) and requests whose body does not (slow POST), and
//!   shuts down in two steps (stop accepting, then abort) so a grace period can keep taking hooks;
//! - [`HookGuard`] is a layer for the hook routes: an optional allow-list of source networks and a
//!   request-rate limit per source and overall, with the client address taken from a trusted
//!   proxy's header only when the TCP peer is that proxy.
//!
//! Refusals are logged at `debug` with the source address, and summed into one `info` line at
//! most every [`REPORT_EVERY`]: an attack must not flood the logs.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::{Future, Ready, ready};
use std::io;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::Response;
use futures_util::future::Either;
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use http::{HeaderMap, HeaderName, HeaderValue, Request, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use serde::{Deserialize, Serialize};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::{Layer, Service};

use crate::telemetry::metrics::Reason;

/// How often refusals are summed into one `info` line, at most.
pub const REPORT_EVERY: Duration = Duration::from_secs(10);

/// The prefix of this section's names in configuration problems.
const SECTION: &str = "http";

/// The hook routes' limits: the `[hooks]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct HookLimits {
    /// Hook requests per second from one client (an IPv4 address or an IPv6 /64).
    pub rate_per_second: u32,
    /// Hook requests one client may send at once above its rate.
    pub burst: u32,
    /// Hook requests per second from everyone together.
    pub global_rate_per_second: u32,
    /// Hook requests everyone together may send at once above the global rate.
    pub global_burst: u32,
    /// Networks hook requests may come from (AbleID's); empty means any. Other routes, such
    /// as the BAF browser return, are not limited to these.
    pub allowed_sources: Vec<IpNet>,
}

impl Default for HookLimits {
    fn default() -> Self {
        // A verification sends about five hooks; AbleID sends from a few addresses.
        Self {
            rate_per_second: 50,
            burst: 100,
            global_rate_per_second: 500,
            global_burst: 1000,
            allowed_sources: Vec::new(),
        }
    }
}

impl HookLimits {
    /// Applies the `IDV_HOOKS_*` variables (lists are comma-separated networks).
    pub fn apply_env(&mut self, env: &impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) {
        set(env, "IDV_HOOKS_RATE_PER_SECOND", &mut self.rate_per_second, problems);
        set(env, "IDV_HOOKS_BURST", &mut self.burst, problems);
        set(env, "IDV_HOOKS_GLOBAL_RATE_PER_SECOND", &mut self.global_rate_per_second, problems);
        set(env, "IDV_HOOKS_GLOBAL_BURST", &mut self.global_burst, problems);
        nets(env, "IDV_HOOKS_ALLOWED_SOURCES", &mut self.allowed_sources, problems);
    }

    /// Adds every problem of these limits to `problems`.
    pub fn check(&self, problems: &mut Vec<String>) {
        for (name, value) in [
            ("rate_per_second", self.rate_per_second),
            ("burst", self.burst),
            ("global_rate_per_second", self.global_rate_per_second),
            ("global_burst", self.global_burst),
        ] {
            if value == 0 {
                problems.push(format!("hooks.{name}: must be at least 1"));
            }
        }
    }
}

/// The public listener's limits: the `[http]` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// The most connections open at once. At the cap a new connection is accepted, answered
    /// `503` and closed at once. Clamped at start-up to what the open-file limit allows after
    /// `fd_reserve` (see [`Limits::fit_open_files`]).
    pub max_connections: usize,
    /// The most connections open at once from one source: an IPv4 address or an IPv6 /64.
    /// Trusted proxies are exempt (they carry many clients), but still count toward
    /// `max_connections`.
    pub max_connections_per_source: usize,
    /// The longest wait for a complete request head. hyper starts this timer whenever a
    /// connection waits for a head, a new one or a kept-alive one after its last response, so
    /// this is also the keep-alive idle timeout.
    pub header_read_timeout_secs: u64,
    /// The longest a request may take from its head to its response, reading the body (a hook
    /// of up to 32 MiB, `MAX_HOOK_BYTES`) included: a body sent a byte at a time ends with
    /// `408` and a closed connection.
    pub request_timeout_secs: u64,
    /// File descriptors kept from HTTP for everything else (gRPC, the store, vendor calls); a
    /// quarter of the open-file limit is kept if that is more.
    pub fd_reserve: u64,
    /// Proxies in front of the gateway whose `client_ip_header` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// The header a trusted proxy puts the client's address in, such as `x-forwarded-for`:
    /// the right-most address in it that is not a trusted proxy is the client. Read only when
    /// the TCP peer is a trusted proxy; never otherwise, since anyone can send it.
    pub client_ip_header: Option<String>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 512,
            max_connections_per_source: 32,
            header_read_timeout_secs: 10,
            // A 16 MiB photo hook at 4 Mbit/s takes ~35 s.
            request_timeout_secs: 60,
            fd_reserve: 256,
            trusted_proxies: Vec::new(),
            client_ip_header: None,
        }
    }
}

impl Limits {
    /// Applies the `IDV_HTTP_*` variables; lists are comma-separated networks such as
    /// `203.0.113.0/24,2001:db8::/32`. `env` is `std::env::var` in production.
    pub fn apply_env(&mut self, env: &impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) {
        set(env, "IDV_HTTP_MAX_CONNECTIONS", &mut self.max_connections, problems);
        set(env, "IDV_HTTP_MAX_CONNECTIONS_PER_SOURCE", &mut self.max_connections_per_source, problems);
        set(env, "IDV_HTTP_HEADER_READ_TIMEOUT_SECS", &mut self.header_read_timeout_secs, problems);
        set(env, "IDV_HTTP_REQUEST_TIMEOUT_SECS", &mut self.request_timeout_secs, problems);
        set(env, "IDV_HTTP_FD_RESERVE", &mut self.fd_reserve, problems);
        nets(env, "IDV_HTTP_TRUSTED_PROXIES", &mut self.trusted_proxies, problems);
        if let Some(value) = env("IDV_HTTP_CLIENT_IP_HEADER").filter(|v| !v.is_empty()) {
            self.client_ip_header = Some(value.trim().to_owned());
        }
    }

    /// Adds every problem of these limits to `problems`.
    pub fn check(&self, problems: &mut Vec<String>) {
        for (name, value) in [
            ("max_connections", self.max_connections as u64),
            ("max_connections_per_source", self.max_connections_per_source as u64),
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("request_timeout_secs", self.request_timeout_secs),
        ] {
            if value == 0 {
                problems.push(format!("{SECTION}.{name}: must be at least 1"));
            }
        }
        if self.max_connections_per_source > self.max_connections {
            problems.push(format!("{SECTION}.max_connections_per_source: must be at most max_connections"));
        }
        match &self.client_ip_header {
            Some(name) if HeaderName::try_from(name.as_str()).is_err() => {
                problems.push(format!("{SECTION}.client_ip_header: must be an HTTP header name"));
            }
            Some(_) if self.trusted_proxies.is_empty() => problems.push(format!(
                "{SECTION}.client_ip_header: needs trusted_proxies (the header is read only from them)"
            )),
            None if !self.trusted_proxies.is_empty() => problems
                .push(format!("{SECTION}.trusted_proxies: needs client_ip_header (the header they set)")),
            _ => {}
        }
    }

    /// Clamps `max_connections` (and the per-source cap with it) to what `nofile_soft` leaves
    /// after the reserve, logs the choice, and returns the cap. Fails when nothing is left:
    /// the gateway should then refuse to start rather than serve HTTP at the expense of gRPC.
    pub fn fit_open_files(&mut self, nofile_soft: u64) -> Result<usize, String> {
        let budget = connection_budget(nofile_soft, self.fd_reserve);
        if budget == 0 {
            return Err(format!(
                "the open-file limit ({nofile_soft}) leaves no descriptors for HTTP after a reserve of {}",
                reserve(nofile_soft, self.fd_reserve)
            ));
        }
        let requested = self.max_connections;
        self.max_connections = requested.min(budget);
        self.max_connections_per_source = self.max_connections_per_source.min(self.max_connections);
        if self.max_connections < requested {
            tracing::warn!(
                nofile_soft,
                reserve = reserve(nofile_soft, self.fd_reserve),
                requested,
                chosen = self.max_connections,
                "HTTP connection cap lowered to fit the open-file limit"
            );
        } else {
            tracing::info!(
                nofile_soft,
                reserve = reserve(nofile_soft, self.fd_reserve),
                chosen = self.max_connections,
                "HTTP connection cap"
            );
        }
        Ok(self.max_connections)
    }

    fn header_name(&self) -> Option<HeaderName> {
        self.client_ip_header.as_deref().and_then(|name| HeaderName::try_from(name).ok())
    }
}

fn parse<T: std::str::FromStr>(name: &str, value: &str, problems: &mut Vec<String>) -> Option<T>
where
    T::Err: std::fmt::Display,
{
    match value.trim().parse() {
        Ok(parsed) => Some(parsed),
        Err(e) => {
            problems.push(format!("{name}: {e}"));
            None
        }
    }
}

fn set<T: std::str::FromStr>(
    env: &impl Fn(&str) -> Option<String>,
    name: &str,
    slot: &mut T,
    problems: &mut Vec<String>,
) where
    T::Err: std::fmt::Display,
{
    if let Some(value) = env(name).filter(|v| !v.is_empty())
        && let Some(parsed) = parse(name, &value, problems)
    {
        *slot = parsed;
    }
}

/// A comma-separated list of networks; one bad entry leaves the list as it was.
fn nets(
    env: &impl Fn(&str) -> Option<String>,
    name: &str,
    slot: &mut Vec<IpNet>,
    problems: &mut Vec<String>,
) {
    if let Some(value) = env(name).filter(|v| !v.is_empty()) {
        let parsed: Vec<Option<IpNet>> =
            value.split(',').filter(|s| !s.trim().is_empty()).map(|s| parse(name, s, problems)).collect();
        if let Some(all) = parsed.into_iter().collect() {
            *slot = all;
        }
    }
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the limits now in force,
/// `(soft, hard)`. Call once at start-up, before binding.
pub fn raise_nofile_limit() -> io::Result<(u64, u64)> {
    // `increase_nofile_limit` also knows macOS's OPEN_MAX cap on the soft limit.
    rlimit::increase_nofile_limit(u64::MAX)?;
    rlimit::Resource::NOFILE.get()
}

/// How many descriptors HTTP connections may use: what `nofile_soft` leaves after keeping
/// `reserve` or a quarter of it, whichever is more, for everything else.
pub fn connection_budget(nofile_soft: u64, reserve: u64) -> usize {
    let left = nofile_soft.saturating_sub(self::reserve(nofile_soft, reserve));
    usize::try_from(left).unwrap_or(usize::MAX)
}

fn reserve(nofile_soft: u64, reserve: u64) -> u64 {
    reserve.max(nofile_soft / 4)
}

/// The key that per-source limits count by: an IPv4 address, or the /64 of an IPv6 address
/// (one subscriber's share, which an attacker can walk through freely). IPv4-mapped addresses
/// from a dual-stack socket count as the IPv4 address.
pub fn source_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u128::MAX >> 64))),
        v4 => v4,
    }
}

/// The client's address: the TCP peer's, unless the peer is a trusted proxy and `header` is
/// configured. Then the header's entries are read right to left (every line of it, last line
/// first) and the first that is not a trusted proxy is the client. An entry that is not an
/// address stops the walk at the last trusted hop, so garbage never becomes a client address.
pub fn client_ip(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted: &[IpNet],
    header: Option<&HeaderName>,
) -> IpAddr {
    let peer = peer.to_canonical();
    let Some(header) = header else { return peer };
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(&ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    for line in headers.get_all(header).iter().rev() {
        let Ok(line) = line.to_str() else { return client };
        for entry in line.rsplit(',') {
            let Some(ip) = forwarded_ip(entry.trim()) else { return client };
            client = ip;
            if !is_trusted(ip) {
                return ip;
            }
        }
    }
    client
}

/// An `X-Forwarded-For` entry: an address, `address:port` or `[v6]:port`.
fn forwarded_ip(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| entry.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
        .map(|ip: IpAddr| ip.to_canonical())
}

/// The client's address as [`HookGuard`] saw it, for handlers that log or key on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// What a refusal counts as.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    ConnectionCap,
    SourceCap,
    HeaderTimeout,
    RequestTimeout,
    RateLimited,
    GlobalRateLimited,
    NotAllowed,
    AcceptFailed,
}

impl Refusal {
    const ALL: usize = 8;

    /// The metric label.
    fn label(self) -> &'static str {
        match self {
            Self::ConnectionCap => "connection_cap",
            Self::SourceCap => "source_cap",
            Self::HeaderTimeout => "header_timeout",
            Self::RequestTimeout => "request_timeout",
            Self::RateLimited => "rate_limited",
            Self::GlobalRateLimited => "global_rate_limited",
            Self::NotAllowed => "source_not_allowed",
            Self::AcceptFailed => "accept_failed",
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::ConnectionCap => "connection cap",
            Self::SourceCap => "per-source connection cap",
            Self::HeaderTimeout => "request head timeout",
            Self::RequestTimeout => "request timeout",
            Self::RateLimited => "per-source hook rate",
            Self::GlobalRateLimited => "global hook rate",
            Self::NotAllowed => "source not allowed",
            Self::AcceptFailed => "accept failed",
        }
    }
}

/// Counts refusals; logs each at `debug` and their sums at `info` at most every
/// [`REPORT_EVERY`] (the first one at once, so a quiet gateway's first refusal is seen).
#[derive(Debug)]
struct Refusals {
    counts: [AtomicU64; Refusal::ALL],
    last_report: Mutex<Option<Instant>>,
    /// `idv_http_refusals_total{reason}`, when the gateway keeps metrics.
    metrics: Option<Family<Reason, Counter>>,
}

impl Refusals {
    fn new(metrics: Option<Family<Reason, Counter>>) -> Self {
        Self { counts: std::array::from_fn(|_| AtomicU64::new(0)), last_report: Mutex::new(None), metrics }
    }

    fn note(&self, refusal: Refusal, source: IpAddr) {
        tracing::debug!(%source, reason = refusal.as_str(), "public HTTP refused");
        if let Some(metrics) = &self.metrics {
            metrics.get_or_create(&Reason { reason: refusal.label() }).inc();
        }
        self.counts[refusal as usize].fetch_add(1, Ordering::Relaxed);
        // try_lock: under attack, one thread reports and the others do not wait for it.
        let Ok(mut last) = self.last_report.try_lock() else { return };
        if last.is_some_and(|at| at.elapsed() < REPORT_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        let c: [u64; Refusal::ALL] = std::array::from_fn(|i| self.counts[i].swap(0, Ordering::Relaxed));
        tracing::info!(
            connection_cap = c[Refusal::ConnectionCap as usize],
            source_cap = c[Refusal::SourceCap as usize],
            head_timeout = c[Refusal::HeaderTimeout as usize],
            request_timeout = c[Refusal::RequestTimeout as usize],
            rate_limited = c[Refusal::RateLimited as usize],
            global_rate_limited = c[Refusal::GlobalRateLimited as usize],
            not_allowed = c[Refusal::NotAllowed as usize],
            accept_failed = c[Refusal::AcceptFailed as usize],
            "public HTTP refusals since the last report"
        );
    }
}

/// A short JSON answer, as the hooks give.
fn answer(status: StatusCode, message: &str) -> Response {
    let mut response = Response::new(Body::from(format!("{{\"message\":\"{message}\"}}")));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// What a connection over a cap gets, written without reading the request: the client
/// learns at once, and the descriptor is free again straight away.
const OVER_CAP: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: application/json\r\n\
content-length: 34\r\n\
retry-after: 1\r\n\
connection: close\r\n\
\r\n\
{\"message\":\"too many connections\"}";

/// Serves `router` on `listener` until `stop_accepting` completes, then lets the requests in
/// flight finish (kept-alive idle connections are closed) until `abort` completes, when every
/// connection still open is dropped. Returns when no connection is left.
///
/// The two signals are separate so that on SIGTERM the gateway can keep taking hooks for the
/// grace period (`stop_accepting` = end of grace) and still bound the shutdown
/// (`abort` = a little later). Each request sees its peer as `ConnectInfo<SocketAddr>`.
///
/// `limits.max_connections` is used as given: call [`Limits::fit_open_files`] first.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    tls: Option<TlsAcceptor>,
    stop_accepting: impl Future<Output = ()>,
    abort: impl Future<Output = ()>,
) {
    serve_counted(listener, router, limits, tls, None, stop_accepting, abort).await;
}

/// [`serve`], counting refusals in `idv_http_refusals_total{reason}`.
pub async fn serve_counted(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    tls: Option<TlsAcceptor>,
    metrics: Option<Family<Reason, Counter>>,
    stop_accepting: impl Future<Output = ()>,
    abort: impl Future<Output = ()>,
) {
    let refusals = Arc::new(Refusals::new(metrics));
    let slots = Arc::new(Semaphore::new(limits.max_connections.min(Semaphore::MAX_PERMITS)));
    let sources = Arc::new(Mutex::new(HashMap::new()));
    let per_source = limits.max_connections_per_source;
    let trusted = limits.trusted_proxies.clone();
    let request_timeout = Duration::from_secs(limits.request_timeout_secs);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(limits.header_read_timeout_secs))
        // 64 KiB of head is plenty for a hook or a browser; hyper's default is ~400 KiB, and
        // the buffer is per connection.
        .max_buf_size(64 * 1024)
        .keep_alive(true);
    let tracker = TaskTracker::new();
    let stop = CancellationToken::new();
    let kill = CancellationToken::new();

    tokio::pin!(stop_accepting);
    loop {
        let (stream, peer) = tokio::select! {
            // Checked first: under a flood, accept is always ready.
            biased;
            () = &mut stop_accepting => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(&e, &refusals).await;
                    continue;
                }
            },
        };
        let Some(admission) = admit(&slots, &sources, per_source, &trusted, peer.ip(), &refusals) else {
            refuse(stream);
            continue;
        };
        // Without it, Nagle's algorithm and delayed ACKs add ~40 ms to small responses.
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            peer,
            router: router.clone(),
            request_timeout,
            handshake_timeout: Duration::from_secs(limits.header_read_timeout_secs),
            refusals: refusals.clone(),
            stop: stop.clone(),
            kill: kill.clone(),
        };
        tracker.spawn(connection.run(stream, tls.clone(), http.clone(), admission));
    }
    // Closing the socket makes new connections fail at once instead of waiting in the backlog.
    drop(listener);
    stop.cancel();
    tracker.close();
    tokio::select! {
        () = tracker.wait() => {}
        () = abort => {
            kill.cancel();
            tracker.wait().await;
        }
    }
}

async fn accept_failed(e: &io::Error, refusals: &Refusals) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    // A connection that died in the backlog costs nothing; anything else (EMFILE, ENFILE,
    // ENOBUFS) stays until something closes, so pause instead of spinning on it.
    if !matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted) {
        refusals.note(Refusal::AcceptFailed, IpAddr::from([0, 0, 0, 0]));
        tracing::debug!(error = %e, "public HTTP accept failed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A connection's claim on the caps; dropping it gives them back.
#[derive(Debug)]
struct Admission {
    _slot: OwnedSemaphorePermit,
    _source: Option<SourceSlot>,
}

type SourceCounts = Arc<Mutex<HashMap<IpAddr, usize>>>;

#[derive(Debug)]
struct SourceSlot {
    counts: SourceCounts,
    key: IpAddr,
}

impl Drop for SourceSlot {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

fn admit(
    slots: &Arc<Semaphore>,
    sources: &SourceCounts,
    per_source: usize,
    trusted: &[IpNet],
    peer: IpAddr,
    refusals: &Refusals,
) -> Option<Admission> {
    let Ok(slot) = slots.clone().try_acquire_owned() else {
        refusals.note(Refusal::ConnectionCap, peer);
        return None;
    };
    let peer = peer.to_canonical();
    if trusted.iter().any(|net| net.contains(&peer)) {
        return Some(Admission { _slot: slot, _source: None });
    }
    let key = source_key(peer);
    let mut counts = sources.lock().unwrap_or_else(PoisonError::into_inner);
    let count = counts.entry(key).or_insert(0);
    if *count >= per_source {
        drop(counts);
        refusals.note(Refusal::SourceCap, peer);
        return None;
    }
    *count += 1;
    drop(counts);
    Some(Admission { _slot: slot, _source: Some(SourceSlot { counts: sources.clone(), key }) })
}

/// Answers a connection over a cap and closes it, without waiting on the client.
fn refuse(stream: TcpStream) {
    // Whatever the client already sent is read first: closing a socket with unread data sends
    // a reset, which can destroy the answer before the client reads it.
    let mut sink = [0u8; 4096];
    for _ in 0..4 {
        if !matches!(stream.try_read(&mut sink), Ok(n) if n > 0) {
            break;
        }
    }
    // A fresh socket's send buffer takes this whole; if not, the client gets a plain close.
    let _ = stream.try_write(OVER_CAP);
}

/// One accepted connection.
struct Connection {
    peer: SocketAddr,
    router: Router,
    request_timeout: Duration,
    /// The longest a TLS handshake may take: a silent client holds a slot no longer than a
    /// slow request head would.
    handshake_timeout: Duration,
    refusals: Arc<Refusals>,
    stop: CancellationToken,
    kill: CancellationToken,
}

impl Connection {
    async fn run(
        self,
        stream: TcpStream,
        tls: Option<TlsAcceptor>,
        http: hyper::server::conn::http1::Builder,
        admission: Admission,
    ) {
        match tls {
            None => self.serve(stream, http).await,
            Some(acceptor) => {
                let peer = self.peer.ip();
                match tokio::time::timeout(self.handshake_timeout, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => self.serve(stream, http).await,
                    Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake on the public listener failed"),
                    Err(_) => self.refusals.note(Refusal::HeaderTimeout, peer),
                }
            }
        }
        drop(admission);
    }

    async fn serve<IO>(self, stream: IO, http: hyper::server::conn::http1::Builder)
    where
        IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let Self { peer, router, request_timeout, handshake_timeout: _, refusals, stop, kill } = self;
        let requests = refusals.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let mut router = router.clone();
            let refusals = requests.clone();
            async move {
                // The handler reads the body inside this deadline, so a body trickled in a
                // byte at a time cannot hold the connection past it.
                // `call` without `poll_ready`: a Router is always ready (axum documents it).
                match tokio::time::timeout(request_timeout, router.call(request)).await {
                    Ok(Ok(response)) => Ok::<_, Infallible>(response),
                    Ok(Err(never)) => match never {},
                    Err(_) => {
                        refusals.note(Refusal::RequestTimeout, peer.ip());
                        let mut response = answer(StatusCode::REQUEST_TIMEOUT, "request took too long");
                        response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
                        Ok(response)
                    }
                }
            }
        });
        let connection = http.serve_connection(TokioIo::new(stream), service);
        tokio::pin!(connection);
        let mut stopping = false;
        loop {
            tokio::select! {
                served = connection.as_mut() => {
                    match served {
                        Err(e) if e.is_timeout() => refusals.note(Refusal::HeaderTimeout, peer.ip()),
                        Err(e) => tracing::debug!(error = %e, "public HTTP connection ended with an error"),
                        Ok(()) => {}
                    }
                    break;
                }
                () = stop.cancelled(), if !stopping => {
                    // Finishes the request in flight, if any, then closes.
                    connection.as_mut().graceful_shutdown();
                    stopping = true;
                }
                () = kill.cancelled() => break,
            }
        }
    }
}

type KeyedLimiter = RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>;
type DirectLimiter = RateLimiter<NotKeyed, InMemoryState, DefaultClock>;

/// A layer for the hook routes: refuses sources outside `allowed_sources` with `403` and
/// clients over their rate (or everyone over the global rate) with `429` and `Retry-After`,
/// and gives handlers the client address as [`ClientIp`]. Use it with `route_layer` on a router
/// served by [`serve`], which provides the peer address:
///
/// ```
/// use axum::{Router, routing::post};
/// use idv_gateway::server::public_http::{HookGuard, HookLimits, Limits};
///
/// let hooks: Router = Router::new()
///     .route("/hooks/ableid/{kind}", post(|| async { "ok" }))
///     .route_layer(HookGuard::new(&Limits::default(), &HookLimits::default()));
/// ```
#[derive(Clone)]
pub struct HookGuard {
    state: Arc<GuardState>,
}

struct GuardState {
    per_source: KeyedLimiter,
    global: DirectLimiter,
    allowed: Vec<IpNet>,
    trusted: Vec<IpNet>,
    header: Option<HeaderName>,
    refusals: Refusals,
    last_cleanup: Mutex<Instant>,
    warned_no_peer: AtomicBool,
}

impl std::fmt::Debug for HookGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookGuard")
            .field("allowed", &self.state.allowed)
            .field("trusted", &self.state.trusted)
            .field("header", &self.state.header)
            .finish_non_exhaustive()
    }
}

impl HookGuard {
    /// Counts this guard's refusals in `idv_http_refusals_total{reason}`.
    pub fn counted(self, metrics: Family<Reason, Counter>) -> Self {
        let state = match Arc::try_unwrap(self.state) {
            Ok(mut state) => {
                state.refusals.metrics = Some(metrics);
                state
            }
            // Never shared yet: `new` just made it. Keep the guard as it was otherwise.
            Err(state) => return Self { state },
        };
        Self { state: Arc::new(state) }
    }

    /// A guard with the hooks' rates and allow-list and the listener's proxy settings.
    pub fn new(limits: &Limits, hooks: &HookLimits) -> Self {
        let quota = |rate: u32, burst: u32| {
            Quota::per_second(NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN))
        };
        Self {
            state: Arc::new(GuardState {
                per_source: RateLimiter::keyed(quota(hooks.rate_per_second, hooks.burst)),
                global: RateLimiter::direct(quota(hooks.global_rate_per_second, hooks.global_burst)),
                allowed: hooks.allowed_sources.clone(),
                trusted: limits.trusted_proxies.clone(),
                header: limits.header_name(),
                refusals: Refusals::new(None),
                last_cleanup: Mutex::new(Instant::now()),
                warned_no_peer: AtomicBool::new(false),
            }),
        }
    }

    /// Decides on one request: the client's address, or why it is refused.
    fn admit<B>(&self, request: &Request<B>) -> Result<IpAddr, Turned> {
        let state = &self.state;
        let peer = match request.extensions().get::<ConnectInfo<SocketAddr>>() {
            Some(ConnectInfo(peer)) => peer.ip(),
            None => {
                // A wiring mistake (the router is not served by `serve`): fail closed, as an
                // address no allow-list holds, and say so once.
                if !state.warned_no_peer.swap(true, Ordering::Relaxed) {
                    tracing::error!(
                        "hook guard: requests carry no peer address; serve them with public_http::serve"
                    );
                }
                IpAddr::from([0, 0, 0, 0])
            }
        };
        let client = client_ip(peer, request.headers(), &state.trusted, state.header.as_ref());
        if !state.allowed.is_empty() && !state.allowed.iter().any(|net| net.contains(&client)) {
            state.refusals.note(Refusal::NotAllowed, client);
            return Err(Turned::NotAllowed);
        }
        self.cleanup();
        let now = state.per_source.clock().now();
        let limited = match state.per_source.check_key(&source_key(client)) {
            Err(not_until) => Some((Refusal::RateLimited, not_until.wait_time_from(now))),
            Ok(()) => state.global.check().err().map(|n| (Refusal::GlobalRateLimited, n.wait_time_from(now))),
        };
        if let Some((refusal, wait)) = limited {
            state.refusals.note(refusal, client);
            return Err(Turned::TooMany(wait));
        }
        Ok(client)
    }

    /// Forgets clients whose bucket is full again, at most once a minute, so a stream of
    /// new addresses cannot grow the map without bound.
    fn cleanup(&self) {
        let Ok(mut last) = self.state.last_cleanup.try_lock() else { return };
        if last.elapsed() >= Duration::from_secs(60) {
            *last = Instant::now();
            drop(last);
            self.state.per_source.retain_recent();
            self.state.per_source.shrink_to_fit();
        }
    }
}

/// Why [`HookGuard`] turned a request away.
#[derive(Debug, Clone, Copy)]
enum Turned {
    NotAllowed,
    /// Over a rate; the client may try again after this long.
    TooMany(Duration),
}

impl Turned {
    fn into_response(self) -> Response {
        match self {
            Self::NotAllowed => answer(StatusCode::FORBIDDEN, "source not allowed"),
            Self::TooMany(wait) => {
                let mut response = answer(StatusCode::TOO_MANY_REQUESTS, "too many requests");
                // Whole seconds, rounded up: a client that waits that long gets through.
                let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
                response
            }
        }
    }
}

impl<S> Layer<S> for HookGuard {
    type Service = HookGuardService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HookGuardService { guard: self.clone(), inner }
    }
}

/// The service [`HookGuard`] wraps around a route.
#[derive(Debug, Clone)]
pub struct HookGuardService<S> {
    guard: HookGuard,
    inner: S,
}

impl<S, B> Service<Request<B>> for HookGuardService<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<Response, S::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        match self.guard.admit(&request) {
            Ok(client) => {
                request.extensions_mut().insert(ClientIp(client));
                Either::Right(self.inner.call(request))
            }
            Err(turned) => Either::Left(ready(Ok(turned.into_response()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    fn net(s: &str) -> IpNet {
        s.parse().expect("test network")
    }

    fn xff(lines: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append("x-forwarded-for", HeaderValue::from_str(line).expect("test header"));
        }
        headers
    }

    #[test]
    fn the_header_is_believed_only_from_a_trusted_peer() {
        let trusted = [net("10.0.0.0/8")];
        let name = HeaderName::from_static("x-forwarded-for");
        let h = Some(&name);
        // From the proxy: the right-most entry that is not a proxy.
        assert_eq!(client_ip(ip("10.0.0.2"), &xff(&["203.0.113.7"]), &trusted, h), ip("203.0.113.7"));
        assert_eq!(
            client_ip(ip("10.0.0.2"), &xff(&["1.2.3.4, 203.0.113.7, 10.0.0.9"]), &trusted, h),
            ip("203.0.113.7"),
            "a spoofed left-most entry is ignored, a second proxy is skipped"
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &xff(&["1.2.3.4", "203.0.113.7"]), &trusted, h),
            ip("203.0.113.7"),
            "the last line is the proxy's"
        );
        assert_eq!(client_ip(ip("10.0.0.2"), &xff(&["[2001:db8::5]:443"]), &trusted, h), ip("2001:db8::5"));
        assert_eq!(client_ip(ip("10.0.0.2"), &xff(&["203.0.113.7:5000"]), &trusted, h), ip("203.0.113.7"));
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(client_ip(ip("10.0.0.2"), &xff(&["evil, 10.0.0.9"]), &trusted, h), ip("10.0.0.9"));
        assert_eq!(client_ip(ip("10.0.0.2"), &xff(&["unknown"]), &trusted, h), ip("10.0.0.2"));
        // Only proxies in the chain: the furthest one.
        assert_eq!(client_ip(ip("10.0.0.2"), &xff(&["10.0.0.7, 10.0.0.9"]), &trusted, h), ip("10.0.0.7"));
        // No header from the proxy: the proxy.
        assert_eq!(client_ip(ip("10.0.0.2"), &HeaderMap::new(), &trusted, h), ip("10.0.0.2"));
        // From anyone else, or with no header configured: the peer, whatever the header says.
        assert_eq!(client_ip(ip("198.51.100.1"), &xff(&["203.0.113.7"]), &trusted, h), ip("198.51.100.1"));
        assert_eq!(client_ip(ip("10.0.0.2"), &xff(&["203.0.113.7"]), &trusted, None), ip("10.0.0.2"));
        // A dual-stack socket's mapped peer is the IPv4 proxy.
        assert_eq!(client_ip(ip("::ffff:10.0.0.2"), &xff(&["203.0.113.7"]), &trusted, h), ip("203.0.113.7"));
    }

    #[test]
    fn sources_are_addresses_or_ipv6_slash_64s() {
        assert_eq!(source_key(ip("203.0.113.7")), ip("203.0.113.7"));
        assert_eq!(source_key(ip("::ffff:203.0.113.7")), ip("203.0.113.7"));
        assert_eq!(source_key(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd")), ip("2001:db8:1:2::"));
        assert_eq!(source_key(ip("2001:db8:1:2::1")), source_key(ip("2001:db8:1:2:ffff::9")));
        assert_ne!(source_key(ip("2001:db8:1:2::1")), source_key(ip("2001:db8:1:3::1")));
    }

    #[test]
    fn the_budget_keeps_a_reserve() {
        assert_eq!(connection_budget(1024, 256), 768);
        assert_eq!(connection_budget(20_000, 256), 15_000, "a quarter when that is more");
        assert_eq!(connection_budget(200, 256), 0);
        let mut limits = Limits::default();
        assert_eq!(limits.fit_open_files(1024), Ok(512), "the default cap fits the common limit");
        let mut limits =
            Limits { max_connections: 2000, max_connections_per_source: 1000, ..Limits::default() };
        assert_eq!(limits.fit_open_files(1024), Ok(768));
        assert_eq!(limits.max_connections_per_source, 768);
        assert!(Limits::default().fit_open_files(256).is_err());
    }

    #[test]
    fn raising_the_limit_reaches_the_hard_limit() {
        let (soft, hard) = raise_nofile_limit().expect("getrlimit");
        // macOS caps the soft limit at OPEN_MAX below an unlimited hard one.
        #[cfg(target_os = "linux")]
        assert_eq!(soft, hard);
        assert!(soft > 0 && soft <= hard);
    }

    #[test]
    fn limits_read_from_toml_and_env_and_report_every_problem() {
        let limits: Limits = toml::from_str(
            r#"
            max_connections = 100
            trusted_proxies = ["10.0.0.0/8"]
            client_ip_header = "x-forwarded-for"
            "#,
        )
        .expect("valid");
        let hooks: HookLimits =
            toml::from_str(r#"allowed_sources = ["203.0.113.0/24", "2001:db8::/32"]"#).expect("valid");
        assert_eq!(limits.max_connections, 100);
        assert_eq!(hooks.allowed_sources.len(), 2);
        let mut problems = Vec::new();
        limits.check(&mut problems);
        hooks.check(&mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(toml::from_str::<Limits>("max_conections = 1").is_err(), "unknown fields are refused");
        assert!(toml::from_str::<HookLimits>("allowed_sources = [\"nonsense\"]").is_err());

        let env = |name: &str| match name {
            "IDV_HTTP_MAX_CONNECTIONS" => Some("64".to_owned()),
            "IDV_HTTP_MAX_CONNECTIONS_PER_SOURCE" => Some("x".to_owned()),
            "IDV_HOOKS_ALLOWED_SOURCES" => Some("198.51.100.0/24, 2001:db8::/48".to_owned()),
            "IDV_HTTP_TRUSTED_PROXIES" => Some("10.0.0.0/8,bad".to_owned()),
            "IDV_HTTP_CLIENT_IP_HEADER" => Some("bad header".to_owned()),
            _ => None,
        };
        let mut limits = Limits::default();
        let mut hooks = HookLimits::default();
        let mut problems = Vec::new();
        limits.apply_env(&env, &mut problems);
        hooks.apply_env(&env, &mut problems);
        assert_eq!(limits.max_connections, 64);
        assert_eq!(hooks.allowed_sources, [net("198.51.100.0/24"), net("2001:db8::/48")]);
        assert!(limits.trusted_proxies.is_empty(), "a list with a bad entry is not half-applied");
        limits.check(&mut problems);
        assert_eq!(
            problems,
            [
                "IDV_HTTP_MAX_CONNECTIONS_PER_SOURCE: invalid digit found in string",
                "IDV_HTTP_TRUSTED_PROXIES: invalid IP address syntax",
                "http.client_ip_header: must be an HTTP header name",
            ]
        );

        let bad = Limits {
            max_connections: 0,
            header_read_timeout_secs: 0,
            trusted_proxies: vec![net("10.0.0.0/8")],
            ..Limits::default()
        };
        let mut problems = Vec::new();
        bad.check(&mut problems);
        HookLimits { burst: 0, ..HookLimits::default() }.check(&mut problems);
        assert_eq!(
            problems,
            [
                "http.max_connections: must be at least 1",
                "http.header_read_timeout_secs: must be at least 1",
                "http.max_connections_per_source: must be at most max_connections",
                "http.trusted_proxies: needs client_ip_header (the header they set)",
                "hooks.burst: must be at least 1",
            ]
        );
    }

    #[test]
    fn the_over_cap_answer_is_well_formed() {
        let text = std::str::from_utf8(OVER_CAP).expect("ascii");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        assert!(head.starts_with("HTTP/1.1 503 "));
        assert!(head.contains(&format!("content-length: {}\r\n", body.len())), "{head}");
        assert!(serde_json::from_str::<serde_json::Value>(body).is_ok());
    }
}
