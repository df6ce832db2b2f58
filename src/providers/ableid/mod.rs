//! AbleID: face identification of residents and foreigners of Uzbekistan, with the
//! person's data delivered later by hooks.
//!
//! - [`config`]: the `[ableid]` section.
//! - [`client`]: the REST calls and the hook signature.
//! - [`errors`]: AbleID's error codes.
//! - [`mapping`]: the data hooks' JSON → proto.
//! - [`service`]: the gRPC service `idv.ableid.v1.AbleIdService`.
//! - [`sessions`]: starting a session once per `transactionId`, and recording it; the
//!   outstanding data requests that data hooks must match.
//! - [`hooks`]: the hook receivers, AbleID's event source.

pub mod client;
pub mod config;
pub mod errors;
pub mod hooks;
pub mod mapping;
pub mod service;
pub mod sessions;

use std::sync::Arc;
use std::time::Duration;

pub use config::AbleIdConfig;

use super::{Context, Provider, Registration, parse_section};
use crate::attempts::log::EventLog;
use crate::config::secs;
use crate::proto::ableid::able_id_service_server::AbleIdServiceServer;
use crate::proto::attempts::Vendor;
use crate::telemetry::metrics::Metrics;
use crate::upstream::budget::Budget;
use crate::upstream::http::Upstream;
use crate::validate::outbound::{OutboundPolicy, Resolver, SystemResolver};

/// `ErrorInfo.domain` of AbleID's errors, and the provider's name.
pub const DOMAIN: &str = "ableid";

/// AbleID's attempts in the log.
pub const VENDOR: Vendor = Vendor::Ableid;

/// How AbleID is registered.
pub const REGISTRATION: Registration =
    Registration { name: DOMAIN, parse: |section| parse_section::<AbleIdConfig>(DOMAIN, section) };

/// What the service and the hook receivers share.
#[derive(Debug)]
pub struct Shared {
    /// The vendor client; `None` when AbleID is not configured.
    pub client: Option<client::AbleId>,
    /// The event log.
    pub log: Arc<EventLog>,
    /// The gateway's own completion hook, added to every session's `hooks`.
    pub own_hook: Option<String>,
    /// Whether callers may add hook URLs at all.
    pub allow_caller_hooks: bool,
    /// Which caller hook URLs are accepted.
    pub hook_policy: OutboundPolicy,
    /// Resolves caller hook hosts, so names of private addresses are refused.
    pub resolver: Arc<dyn Resolver>,
    /// How long a data request's hook is awaited.
    pub data_hook_window: Duration,
    /// Where hooks are counted.
    pub metrics: Arc<Metrics>,
    /// The memory budget hook bodies count against.
    pub budget: Arc<Budget>,
    /// How long a session lives.
    pub session_ttl: Duration,
    /// How long a start may take at AbleID: a claimed `transactionId` whose start takes
    /// longer is taken over.
    pub start_timeout: Duration,
}

/// The AbleID provider.
#[derive(Debug)]
pub struct AbleIdProvider {
    shared: Arc<Shared>,
    expiry_grace: Duration,
    max_message_bytes: usize,
}

impl AbleIdProvider {
    fn new(config: &AbleIdConfig, context: &Context, timeout: Duration) -> Self {
        let client = match (&config.base_url, config.credentials()) {
            (Some(url), Some((project, secret))) => Some(client::AbleId::new(
                Upstream::new(&context.upstream, DOMAIN, url.clone(), timeout),
                project.to_owned(),
                secret.clone(),
            )),
            _ => None,
        };
        let own_hook =
            context.public_url.as_ref().and_then(|u| u.join("hooks/ableid/complete").ok()).map(String::from);
        let shared = Shared {
            client,
            log: context.log.clone(),
            own_hook,
            allow_caller_hooks: config.allow_caller_hooks,
            hook_policy: OutboundPolicy {
                allow_http: config.allow_http_hooks,
                allow_private: config.allow_private_hooks,
                allowed_ports: config.caller_hook_ports.clone(),
                blocked_suffixes: Vec::new(),
            },
            resolver: Arc::new(SystemResolver::default()),
            data_hook_window: secs(config.data_hook_window_secs),
            metrics: context.metrics.clone(),
            budget: context.upstream.budget.clone(),
            session_ttl: secs(config.session_ttl_secs),
            start_timeout: timeout,
        };
        Self {
            shared: Arc::new(shared),
            expiry_grace: secs(config.expiry_grace_secs),
            max_message_bytes: context.max_message_bytes,
        }
    }
}

#[async_trait::async_trait]
impl Provider for AbleIdProvider {
    fn name(&self) -> &'static str {
        DOMAIN
    }

    fn configured(&self) -> bool {
        self.shared.client.is_some()
    }

    fn add_services(&self, routes: &mut tonic::service::RoutesBuilder) -> Vec<&'static str> {
        let limit = self.max_message_bytes;
        let service = AbleIdServiceServer::new(service::AbleIdApi::new(self.shared.clone()))
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit);
        routes.add_service(service);
        vec![<AbleIdServiceServer<service::AbleIdApi> as tonic::server::NamedService>::NAME]
    }

    fn vendor(&self) -> Option<Vendor> {
        Some(VENDOR)
    }

    fn hook_routes(&self) -> axum::Router {
        hooks::routes(self.shared.clone())
    }

    fn expiry_grace(&self) -> Option<Duration> {
        Some(self.expiry_grace)
    }
}
