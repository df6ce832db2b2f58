//! Simulated vendors for development, demos and tests: AbleID, 3DiVi BAF and B2Core,
//! served over real HTTP on a listener of their own, with their state in memory.
//!
//! The gateway is pointed at a running sandbox through its ordinary configuration
//! (`IDV_ABLEID_BASE_URL`, `IDV_BAF_BASE_URL`, ...), exactly as at the real vendors, so
//! every gRPC call goes through the gateway's real vendor clients, over HTTP, to a server
//! that speaks the vendors' JSON as the seed documents describe it. This crate shares no
//! code with the gateway: it reads requests, renders replies and signs hooks with its own
//! code, written from the vendors' documents, so a test that passes against it checks
//! the gateway instead of mirroring it.
//!
//! `idv-gateway serve --sandbox` starts it beside the gateway; the `idv-sandbox` binary
//! serves it alone; the gateway's integration tests call [`serve`] on a port-0 listener.
//!
//! # Layout
//!
//! - `ableid/`, `baf/`, `b2core/`: one folder per vendor, split by concern: `state`
//!   (what the vendor remembers and how it changes), `request` (its JSON and query
//!   input), `errors` (its error catalogue), `render` (its JSON output), `routes` (the
//!   HTTP surface) and, for the vendors with end-user pages, `pages` (their HTML).
//! - `hooks`: webhook delivery with AbleID's timeout and retry rules.
//! - `fake`: deterministic fake people, images, videos and ids.
//! - `encoding`: base64 as the vendors' JSON carries images.
//! - `html`: the frame shared by every page, and escaping.
//! - `urls`: building URLs under a base.
//!
//! # URL contract
//!
//! With `{public}` the sandbox's [`Options::public_url`] (by default `http://{addr}`):
//!
//! | What | Where |
//! |---|---|
//! | AbleID API | `{public}/sandbox/ableid/check/...` (project [`ABLEID_PROJECT_ID`], secret [`ABLEID_SECRET`]) |
//! | AbleID session page | `GET {public}/sandbox/ableid/session/{attemptId}` (the `fullUrl`) |
//! | AbleID approve / reject | `POST {fullUrl}/approve`, `POST {fullUrl}/reject` (form field `type`, optional) |
//! | AbleID data hooks | `POST {ableid_data_hooks}/{passport,photo,registration,person}` |
//! | BAF API | `{public}/sandbox/baf/publicapi/api/v2/...` (`Authorization: Bearer` [`BAF_API_KEY`]) |
//! | BAF embedded page | `GET {public}/sandbox/baf/embedded?requestId={applicantId}` (the `validationLink`) |
//! | BAF short link | `GET {public}/sandbox/baf/s/{code}` (the `shortValidationLink`; 303 to the embedded page) |
//! | BAF pass / fail | `POST {public}/sandbox/baf/embedded/{applicantId}/pass`, `.../fail` |
//! | BAF pass / fail, from a link | `POST {shortValidationLink}/pass`, `.../fail`; `POST {validationLink}` with form field `action=pass` or `action=fail` |
//! | B2Core API | `{public}/sandbox/b2core/api/v2/my/verifications`, `{public}/sandbox/b2core/v2/my/verifications/...` (any bearer token) |
//!
//! The approve, reject, pass and fail endpoints accept an empty form body: tests, client
//! libraries and `curl -X POST` drive the simulated end user through them. BAF's document
//! verification fails when an image's bytes contain the ASCII marker `reject`.

mod ableid;
mod b2core;
mod baf;
mod encoding;
mod fake;
mod hooks;
mod html;
mod urls;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use url::Url;

/// The simulated AbleID project id.
pub const ABLEID_PROJECT_ID: &str = "sandbox-project";
/// The simulated AbleID project secret.
pub const ABLEID_SECRET: &str = "sandbox-secret";
/// The simulated BAF secret key.
pub const BAF_API_KEY: &str = "sk_sandbox";

/// How the sandbox is reached and how its vendors behave. [`Options::new`] gives the
/// real vendors' values; tests shorten the hook timings so a retry does not cost them
/// seconds.
#[derive(Debug, Clone)]
pub struct Options {
    /// How browsers and the gateway reach the sandbox, such as `https://sandbox.example`;
    /// `None` is `http://{bound address}`, with a wildcard address replaced by loopback.
    /// Session pages and links handed out by the vendors start with it.
    pub public_url: Option<Url>,
    /// Where AbleID's data hooks go: `{this}/passport`, `/photo`, `/registration`,
    /// `/person`. For a real project AbleID support registers them; for a gateway that is
    /// `{gateway public_url}/hooks/ableid`.
    pub ableid_data_hooks: Url,
    /// How long an AbleID session lives (AbleID: 10 minutes). A gateway pointed at the
    /// sandbox should use the same value (`ableid.session_ttl_secs`).
    pub session_ttl: Duration,
    /// How long one hook delivery may take (AbleID: 10 s).
    pub hook_timeout: Duration,
    /// How many times a failed hook delivery is retried (AbleID: 3).
    pub hook_retries: u32,
    /// The pause before each retry (AbleID: 5 s).
    pub hook_retry_delay: Duration,
    /// Verification attempts per BAF applicant (a BAF dashboard setting, 1–5).
    pub baf_max_attempts: u32,
    /// The size of the photo AbleID's photo hook carries: the fake face, padded after its
    /// end-of-image marker (JPEG readers ignore what follows), for testing large photos.
    /// `None`: the face as it is (a few KiB).
    pub photo_bytes: Option<usize>,
}

impl Options {
    /// The real vendors' values, with AbleID's data hooks going to `ableid_data_hooks`.
    pub fn new(ableid_data_hooks: Url) -> Self {
        Self {
            public_url: None,
            ableid_data_hooks,
            session_ttl: Duration::from_secs(600),
            hook_timeout: Duration::from_secs(10),
            hook_retries: 3,
            hook_retry_delay: Duration::from_secs(5),
            baf_max_attempts: 3,
            photo_bytes: None,
        }
    }
}

/// A running sandbox and the base URLs of its vendors, ready to be put in a gateway's
/// configuration.
#[derive(Debug)]
pub struct Sandbox {
    /// Where the sandbox listens.
    pub addr: SocketAddr,
    /// The root every URL below starts with ([`Options::public_url`] or its default).
    pub public_url: Url,
    /// AbleID's base URL: the gateway's `ableid.base_url`.
    pub ableid_url: Url,
    /// BAF's base URL, ending in `/publicapi`: the gateway's `baf.base_url`.
    pub baf_url: Url,
    /// B2Core's base URL: the gateway's `b2core.base_url`.
    pub b2core_url: Url,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl Sandbox {
    /// Runs until the shutdown token given to [`serve`] is cancelled and the requests in
    /// flight have been answered.
    pub async fn wait(self) {
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "sandbox: the server task failed");
        }
    }

    /// Cancels the shutdown token and waits as [`Sandbox::wait`] does.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.wait().await;
    }
}

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listener's address could not be read.
    #[error("sandbox listener: {0}")]
    Io(#[from] std::io::Error),
    /// The hook client could not be built (TLS roots).
    #[error("sandbox hook client: {0}")]
    Client(#[from] reqwest::Error),
    /// The listener's address makes no URL.
    #[error("sandbox URL: {0}")]
    Url(#[from] url::ParseError),
    /// A URL cannot have paths appended to it.
    #[error("sandbox: {0} cannot be a base URL")]
    BaseUrl(Url),
}

/// Serves the three simulated vendors on `listener` until `shutdown` is cancelled, which
/// also ends hook deliveries in flight.
pub async fn serve(
    listener: TcpListener,
    options: Options,
    shutdown: CancellationToken,
) -> Result<Sandbox, Error> {
    let addr = listener.local_addr()?;
    let public_url = match &options.public_url {
        Some(url) => url.clone(),
        None => default_public_url(addr)?,
    };
    let ableid_url = urls::under(&public_url, "sandbox/ableid")?;
    let baf_root = urls::under(&public_url, "sandbox/baf")?;
    let baf_url = urls::under(&baf_root, "publicapi")?;
    let b2core_url = urls::under(&public_url, "sandbox/b2core")?;

    let deliverer = hooks::Deliverer::new(
        options.hook_timeout,
        options.hook_retries,
        options.hook_retry_delay,
        shutdown.clone(),
    )?;
    let ableid = ableid::AbleId::new(
        ableid_url.clone(),
        options.ableid_data_hooks.clone(),
        options.session_ttl,
        deliverer,
        options.photo_bytes,
    );
    let baf = baf::Baf::new(baf_root, options.baf_max_attempts);
    let router = Router::new()
        .nest("/sandbox/ableid", ableid::router(Arc::new(ableid)))
        .nest("/sandbox/baf", baf::router(Arc::new(baf)))
        .nest("/sandbox/b2core", b2core::router(Arc::new(b2core::B2Core::default())));

    let stop = shutdown.clone();
    let task = tokio::spawn(async move {
        let served =
            axum::serve(listener, router).with_graceful_shutdown(async move { stop.cancelled().await });
        if let Err(e) = served.await {
            tracing::error!(error = %e, "sandbox: HTTP server failed");
        }
    });
    tracing::info!(
        %addr,
        ableid = %ableid_url,
        ableid_project_id = ABLEID_PROJECT_ID,
        baf = %baf_url,
        b2core = %b2core_url,
        "sandbox: simulated vendors ready (development only)"
    );
    Ok(Sandbox { addr, public_url, ableid_url, baf_url, b2core_url, shutdown, task })
}

/// `http://{addr}/`, with a wildcard address (no place a browser can go to) replaced by
/// loopback.
fn default_public_url(addr: SocketAddr) -> Result<Url, url::ParseError> {
    let host = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    Url::parse(&format!("http://{}/", SocketAddr::new(host, addr.port())))
}

/// Locks a simulation's state. A handler that panicked while holding the lock left the
/// state as it was at the panic, which is still better for a sandbox than refusing every
/// later call.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_public_url_is_never_a_wildcard() {
        let url = |addr: &str| default_public_url(addr.parse().unwrap()).unwrap().to_string();
        assert_eq!(url("0.0.0.0:8081"), "http://127.0.0.1:8081/");
        assert_eq!(url("[::]:8081"), "http://[::1]:8081/");
        assert_eq!(url("192.0.2.7:9"), "http://192.0.2.7:9/");
    }

    #[test]
    fn defaults_are_the_real_vendors_values() {
        let o = Options::new("http://127.0.0.1:8080/hooks/ableid".parse().unwrap());
        assert_eq!(
            (o.session_ttl, o.hook_timeout, o.hook_retries, o.hook_retry_delay, o.baf_max_attempts),
            (Duration::from_secs(600), Duration::from_secs(10), 3, Duration::from_secs(5), 3)
        );
        assert!(o.public_url.is_none());
    }
}
