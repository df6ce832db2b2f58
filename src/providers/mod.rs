//! The vendors, one folder each, plugged into the core through one trait.
//!
//! A provider folder holds everything about one vendor: its configuration section
//! (`config.rs`), its REST client (`client.rs`: paths, methods, bodies), its error table
//! (`errors.rs`), the mapping between its JSON and the proto types (`mapping.rs`), its
//! gRPC service (`service.rs`: thin handlers over the client) and, when it has one, its
//! event source (AbleID's `hooks.rs`, BAF's `observer.rs` and `returns.rs`).
//!
//! The core (server assembly, health, HTTP routes, configuration, the attempts service)
//! knows vendors only through [`Provider`] and [`REGISTRY`]: adding a vendor adds a folder
//! here and one line to [`REGISTRY`].

pub mod ableid;
pub mod b2core;
pub mod baf;

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::attempts::log::EventLog;
use crate::attempts::watch::WatchGuard;
use crate::error::ApiError;
use crate::proto::attempts::Vendor;
use crate::telemetry::metrics::Metrics;
use crate::upstream::http::Connector;

/// Every provider the gateway knows, in the order configuration prints them.
pub const REGISTRY: &[Registration] = &[ableid::REGISTRATION, baf::REGISTRATION, b2core::REGISTRATION];

/// Reads a provider's TOML section (absent: the defaults).
pub type ParseSection = fn(Option<toml::Value>) -> Result<Box<dyn ProviderConfig>, String>;

/// How a provider is found and configured.
#[derive(Clone, Copy)]
pub struct Registration {
    /// Its name: the TOML section, the `ErrorInfo.domain` of its errors, its log field.
    pub name: &'static str,
    /// Reads its TOML section.
    pub parse: ParseSection,
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration").field("name", &self.name).finish_non_exhaustive()
    }
}

/// A provider's configuration section.
pub trait ProviderConfig: fmt::Debug + Send + Sync + Any {
    /// Applies its `IDV_*` variables over the file's values.
    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>);
    /// Reads secrets from the files it names.
    fn read_secret_files(&mut self, problems: &mut Vec<String>);
    /// Adds every problem that makes the section unusable.
    fn check(&self, problems: &mut Vec<String>);
    /// Settings that work but are probably not what was meant.
    fn warnings(&self) -> Vec<String>;
    /// The section with every secret replaced by `"<redacted>"`.
    fn redacted(&self) -> toml::Value;
    /// Builds the provider.
    fn build(&self, context: &Context) -> Result<Arc<dyn Provider>, String>;
    /// For typed access ([`crate::config::Config::provider`]).
    fn as_any(&self) -> &dyn Any;
    /// For typed access ([`crate::config::Config::provider_mut`]).
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// What the core gives a provider to build itself.
#[derive(Debug, Clone)]
pub struct Context {
    /// How vendors are called: the connection pool, metrics, memory budget, breakers.
    pub upstream: Connector,
    /// Where providers count what they do (hooks).
    pub metrics: Arc<Metrics>,
    /// The event log.
    pub log: Arc<EventLog>,
    /// How vendors and browsers reach the gateway's HTTP listener.
    pub public_url: Option<Url>,
    /// Largest gRPC message accepted or sent.
    pub max_message_bytes: usize,
    /// Cancelled when the gateway shuts down.
    pub shutdown: CancellationToken,
}

/// One vendor, as the core sees it.
#[async_trait::async_trait]
pub trait Provider: Send + Sync + 'static {
    /// Its registered name.
    fn name(&self) -> &'static str;

    /// Whether it has what it needs to call its vendor; unconfigured, its services are
    /// `NOT_SERVING` and refuse calls with `UPSTREAM_NOT_CONFIGURED`.
    fn configured(&self) -> bool;

    /// Adds its gRPC services; returns their full names, for health.
    fn add_services(&self, routes: &mut tonic::service::RoutesBuilder) -> Vec<&'static str>;

    /// The vendor of the attempts it feeds into the log, if any.
    fn vendor(&self) -> Option<Vendor> {
        None
    }

    /// Routes on the public HTTP listener that vendors call (hooks): the server puts them
    /// behind the hook guard (source allow-list, rate limits).
    fn hook_routes(&self) -> axum::Router {
        axum::Router::new()
    }

    /// Routes on the public HTTP listener that people's browsers open (returns).
    fn browser_routes(&self) -> axum::Router {
        axum::Router::new()
    }

    /// Starts its background work (observers).
    fn spawn_background(&self, _tasks: &mut JoinSet<()>) {}

    /// How long after an attempt's `expire_time` the gateway declares it expired, for a
    /// vendor whose sessions expire without telling anyone.
    fn expiry_grace(&self) -> Option<Duration> {
        None
    }

    /// Records an attempt the gateway has not seen, if the vendor knows it; `false` when
    /// it does not. Vendors without observation do not discover.
    async fn discover(&self, _attempt_id: &str) -> Result<bool, ApiError> {
        Ok(false)
    }

    /// Something to keep alive while a watch of the attempt is open.
    fn watching(&self, _attempt_id: &str) -> Option<WatchGuard> {
        None
    }
}

/// The built providers.
#[derive(Clone, Default)]
pub struct Providers(Vec<Arc<dyn Provider>>);

impl fmt::Debug for Providers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter().map(|p| p.name())).finish()
    }
}

impl Providers {
    /// The providers, built.
    pub fn new(providers: Vec<Arc<dyn Provider>>) -> Self {
        Self(providers)
    }

    /// Every provider.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Provider>> {
        self.0.iter()
    }

    /// The provider whose attempts are of `vendor`.
    pub fn for_vendor(&self, vendor: Vendor) -> Option<&Arc<dyn Provider>> {
        self.0.iter().find(|p| p.vendor() == Some(vendor))
    }
}

/// The error of a provider that has no configuration.
pub fn not_configured(name: &'static str) -> ApiError {
    ApiError::new(
        crate::error::ErrorCode::FailedPrecondition,
        crate::error::GATEWAY_DOMAIN,
        "UPSTREAM_NOT_CONFIGURED",
        format!("{name} is not configured on this gateway"),
    )
    .with_metadata("vendor", name)
}

/// A configured vendor client, or the error that it is not configured.
pub fn configured<'a, T>(client: &'a Option<T>, name: &'static str) -> Result<&'a T, ApiError> {
    client.as_ref().ok_or_else(|| not_configured(name))
}

/// Reads a provider's TOML section into its configuration type.
pub fn parse_section<T>(name: &str, section: Option<toml::Value>) -> Result<Box<dyn ProviderConfig>, String>
where
    T: ProviderConfig + Default + serde::de::DeserializeOwned,
{
    match section {
        None => Ok(Box::<T>::default()),
        Some(value) => value
            .try_into::<T>()
            .map(|c| Box::new(c) as Box<dyn ProviderConfig>)
            .map_err(|e| format!("[{name}]: {e}")),
    }
}

/// Serializes a section for printing; its `Serialize` redacts secrets.
pub fn redacted_section<T: serde::Serialize>(section: &T) -> toml::Value {
    toml::Value::try_from(section).unwrap_or_else(|e| toml::Value::String(format!("cannot print: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upstream::json::Obj;
    use crate::upstream::{Refusal, http::VendorReply};
    use serde_json::Value;

    /// A random JSON value over the vendors' own keys, so mappings meet their fields with
    /// every type, nesting and absence.
    fn arbitrary(rng: &mut impl rand::Rng, depth: u32) -> Value {
        const KEYS: &[&str] = &[
            "applicantId",
            "status",
            "statusCode",
            "code",
            "type",
            "message",
            "data",
            "attemptId",
            "created",
            "createTime",
            "completed",
            "metadata",
            "items",
            "attempts",
            "successAttempt",
            "validationStatus",
            "validations",
            "liveness",
            "details",
            "score",
            "verdict",
            "dvsResult",
            "document",
            "documentVerificationResult",
            "verificationConfidence",
            "validationTests",
            "content",
            "faceImageBase64",
            "photo",
            "person",
            "registration",
            "permanentRegistration",
            "temporaryRegistrations",
            "currentLevel",
            "previousLevel",
            "previuosLevel",
            "userId",
            "reason",
            "passportType",
            "sex",
            "countryId",
            "liveStatus",
            "invalidDataErrors",
            "motionControl",
            "motionControlInfo",
            "lastValidationResponse",
            "total",
        ];
        match rng.random_range(0..if depth == 0 { 6 } else { 8 }) {
            0 => Value::Null,
            1 => Value::Bool(rng.random()),
            2 => Value::from(rng.random::<i64>()),
            3 => Value::from(rng.random::<f64>() * 1e20 - 5e19),
            4 => Value::from(
                ["", "x", "2023-11-17T04:40:31.509932", "aGk=", "not base64!", "ё"][rng.random_range(0..6)],
            ),
            5 => Value::from(u64::MAX),
            6 => Value::Array((0..rng.random_range(0..4)).map(|_| arbitrary(rng, depth - 1)).collect()),
            _ => Value::Object(
                (0..rng.random_range(0..8))
                    .map(|_| (KEYS[rng.random_range(0..KEYS.len())].to_owned(), arbitrary(rng, depth - 1)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn mappings_never_panic_on_arbitrary_json() {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..5_000 {
            let value = arbitrary(&mut rng, 4);
            let o = Obj::of(&value);
            let _ = baf::mapping::applicant(o);
            let _ = baf::mapping::attempt(o);
            let _ = baf::mapping::attempt_details(o);
            let _ = baf::mapping::validation_result(o);
            let _ = b2core::mapping::verification(o);
            let _ = ableid::mapping::passport(o);
            let _ = ableid::mapping::photo(o);
            let _ = ableid::mapping::address(o);
            let _ = ableid::mapping::person(o);
            let body = serde_json::to_vec(&value).unwrap();
            let _ = Refusal::read(&VendorReply {
                status: http::StatusCode::BAD_REQUEST,
                body: body.into(),
                retry_after: None,
            });
        }
    }
}
