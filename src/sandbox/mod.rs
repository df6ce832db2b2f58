//! Simulated vendors for development, demos and tests: AbleID, 3DiVi BAF and B2Core,
//! served over real HTTP on the gateway's own HTTP listener, with their state in memory.
//!
//! `idv-gateway serve --sandbox` (and the integration tests) call [`start`], which points
//! the gateway's vendor clients at these simulations, so every gRPC call goes through the
//! real vendor clients, over HTTP, to a server that speaks the vendors' JSON as the seed
//! documents describe it. Nothing here is used on the production path.
//!
//! # Layout
//!
//! - `ableid`: sessions, the session page, completion and data hooks.
//! - `baf`: applicants, attempts, videos, validation, the embedded page.
//! - `b2core`: per-token clients and their verification-level history.
//! - `hooks`: webhook delivery with AbleID's timeout and retry rules.
//! - `fake`: deterministic fake personal data, images and videos.
//! - `pages`: the small HTML pages standing in for the vendors' end-user pages.
//!
//! # URL contract
//!
//! With `{public}` the gateway's `server.public_url` (by default `http://{http_addr}`):
//!
//! | What | Where |
//! |---|---|
//! | AbleID API | `{public}/sandbox/ableid/check/...` (project `sandbox-project`, secret `sandbox-secret`) |
//! | AbleID session page | `GET {public}/sandbox/ableid/session/{attemptId}` (the `fullUrl`) |
//! | AbleID approve / reject | `POST {fullUrl}/approve`, `POST {fullUrl}/reject` (form field `type`, optional) |
//! | AbleID data hooks | `POST {public}/hooks/ableid/{passport,photo,registration,person}` |
//! | BAF API | `{public}/sandbox/baf/publicapi/api/v2/...` (`Authorization: Bearer sk_sandbox`) |
//! | BAF embedded page | `GET {public}/sandbox/baf/embedded?requestId={applicantId}` |
//! | BAF short link | `GET {public}/sandbox/baf/s/{code}` (303 to the embedded page) |
//! | BAF pass / fail | `POST {public}/sandbox/baf/embedded/{applicantId}/pass`, `.../fail` |
//! | B2Core API | `{public}/sandbox/b2core/api/v2/my/verifications`, `{public}/sandbox/b2core/v2/my/verifications/...` (any bearer token) |
//!
//! The approve, reject, pass and fail endpoints accept an empty form body: tests and
//! client libraries drive the simulated end user through them. BAF's document
//! verification fails when an image's bytes contain the ASCII marker `reject`.

mod ableid;
mod b2core;
mod baf;
mod fake;
mod hooks;
mod pages;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::config::{B2CoreConfig, Config, secs};
use crate::server::{self, Listeners, Running, StartError};

/// The simulated AbleID project id.
pub const ABLEID_PROJECT_ID: &str = "sandbox-project";
/// The simulated AbleID project secret.
pub const ABLEID_SECRET: &str = "sandbox-secret";
/// The simulated BAF secret key.
pub const BAF_API_KEY: &str = "sk_sandbox";

/// Knobs of the simulations. The defaults are the real vendors' values; tests shorten
/// the hook timings so a retry does not cost them seconds.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long one hook delivery may take (AbleID: 10 s).
    pub hook_timeout: Duration,
    /// How many times a failed hook delivery is retried (AbleID: 3).
    pub hook_retries: u32,
    /// The pause before each retry (AbleID: 5 s).
    pub hook_retry_delay: Duration,
    /// Where AbleID's data hooks go: `{base}/passport`, `/photo`, `/registration`,
    /// `/person`. `None` is the gateway's own receiver, `{public}/hooks/ableid`, which
    /// is what AbleID support registers for a real project.
    pub ableid_data_hooks: Option<Url>,
    /// Verification attempts per BAF applicant (a BAF dashboard setting, 1–5).
    pub baf_max_attempts: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            hook_timeout: Duration::from_secs(10),
            hook_retries: 3,
            hook_retry_delay: Duration::from_secs(5),
            ableid_data_hooks: None,
            baf_max_attempts: 3,
        }
    }
}

/// Starts the gateway against simulated vendors served on its own HTTP listener.
pub async fn start(config: Config, listeners: Listeners) -> Result<Running, StartError> {
    start_with(config, listeners, Options::default()).await
}

/// [`start`] with explicit [`Options`].
///
/// Sets `server.public_url` to `http://{http_addr}` when unset, replaces every vendor's
/// base URL and credentials with the sandbox's, and allows `http:` and private caller
/// hook URLs (the sandbox is for development only).
pub async fn start_with(
    mut config: Config,
    listeners: Listeners,
    options: Options,
) -> Result<Running, StartError> {
    let http_addr = listeners.http.local_addr()?;
    let public = match &config.server.public_url {
        Some(url) => url.clone(),
        None => {
            // A wildcard bind address is no place a browser or hook client can go to.
            let host = match http_addr.ip() {
                IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
                ip => ip,
            };
            let url = Url::parse(&format!("http://{}", std::net::SocketAddr::new(host, http_addr.port())))
                .map_err(|e| StartError::Client(format!("sandbox URL: {e}")))?;
            config.server.public_url = Some(url.clone());
            url
        }
    };
    let urls = Urls::new(&public)?;

    config.ableid.base_url = Some(urls.ableid.clone());
    config.ableid.project_id = Some(ABLEID_PROJECT_ID.to_owned());
    config.ableid.secret = Some(SecretString::from(ABLEID_SECRET));
    config.ableid.secret_file = None;
    config.ableid.allow_http_hooks = true;
    config.ableid.allow_private_hooks = true;
    config.baf.base_url = Some(urls.baf_api.clone());
    config.baf.api_key = Some(SecretString::from(BAF_API_KEY));
    config.baf.api_key_file = None;
    config.b2core.base_url = Some(urls.b2core.clone());
    // The simulation serves the paths the seed shows; custom ones would miss it.
    let defaults = B2CoreConfig::default();
    config.b2core.history_path = defaults.history_path;
    config.b2core.procedures_path = defaults.procedures_path;

    let stop = CancellationToken::new();
    let session_ttl = secs(config.ableid.session_ttl_secs);
    let router = router(&public, session_ttl, &options, stop.clone())?;
    let running = server::start(config, listeners, Some(router)).await?;

    // Hook deliveries in flight end with the gateway instead of retrying after it.
    let gateway_stopped = running.shutdown_token();
    tokio::spawn(async move {
        gateway_stopped.cancelled().await;
        stop.cancel();
    });

    tracing::info!(
        ableid = %urls.ableid,
        ableid_project_id = ABLEID_PROJECT_ID,
        baf = %urls.baf_api,
        b2core = %urls.b2core,
        "sandbox: simulated vendors ready (development only)"
    );
    Ok(running)
}

/// The simulated vendors as one router, to be served at the root of `public`.
///
/// `session_ttl` is how long an AbleID session lives; `stop` ends hook deliveries in
/// flight.
pub fn router(
    public: &Url,
    session_ttl: Duration,
    options: &Options,
    stop: CancellationToken,
) -> Result<Router, StartError> {
    let urls = Urls::new(public)?;
    let deliverer = hooks::Deliverer::new(options, stop)?;
    let data_hooks = match &options.ableid_data_hooks {
        Some(url) => url.clone(),
        None => under(public, "hooks/ableid")?,
    };
    let ableid = ableid::AbleId::new(urls.ableid.clone(), data_hooks, session_ttl, deliverer);
    let baf = baf::Baf::new(urls.baf.clone(), options.baf_max_attempts);
    Ok(Router::new()
        .nest("/sandbox/ableid", ableid::router(Arc::new(ableid)))
        .nest("/sandbox/baf", baf::router(Arc::new(baf)))
        .nest("/sandbox/b2core", b2core::router(Arc::new(b2core::B2Core::default()))))
}

/// The simulations' base URLs.
struct Urls {
    ableid: Url,
    baf: Url,
    baf_api: Url,
    b2core: Url,
}

impl Urls {
    fn new(public: &Url) -> Result<Self, StartError> {
        Ok(Self {
            ableid: under(public, "sandbox/ableid")?,
            baf: under(public, "sandbox/baf")?,
            baf_api: under(public, "sandbox/baf/publicapi")?,
            b2core: under(public, "sandbox/b2core")?,
        })
    }
}

/// `base` with `path`'s segments appended, keeping any path `base` already has (unlike
/// [`Url::join`], which replaces a last segment without a trailing slash).
fn under(base: &Url, path: &str) -> Result<Url, StartError> {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| StartError::Client(format!("sandbox: {base} cannot be a base URL")))?
        .pop_if_empty()
        .extend(path.split('/').filter(|s| !s.is_empty()));
    Ok(url)
}

/// Locks a simulation's state. A handler that panicked while holding the lock left the
/// state as it was at the panic, which is still better for a sandbox than refusing
/// every later call.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_appended_not_replaced() {
        let base = Url::parse("http://127.0.0.1:8080").unwrap();
        assert_eq!(under(&base, "sandbox/ableid").unwrap().as_str(), "http://127.0.0.1:8080/sandbox/ableid");
        let base = Url::parse("https://idv.example.com/gw?x=1").unwrap();
        assert_eq!(under(&base, "hooks/ableid").unwrap().as_str(), "https://idv.example.com/gw/hooks/ableid");
        let base = Url::parse("https://idv.example.com/gw/").unwrap();
        assert_eq!(
            under(&base, "/sandbox/b2core").unwrap().as_str(),
            "https://idv.example.com/gw/sandbox/b2core"
        );
    }

    #[test]
    fn defaults_are_the_real_vendors_values() {
        let o = Options::default();
        assert_eq!(
            (o.hook_timeout, o.hook_retries, o.hook_retry_delay, o.baf_max_attempts),
            (Duration::from_secs(10), 3, Duration::from_secs(5), 3)
        );
    }
}
