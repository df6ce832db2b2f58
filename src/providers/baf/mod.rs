//! 3DiVi BAF: applicants, attempts, images, videos, document and face validation.
//!
//! - [`config`]: the `[baf]` section.
//! - [`client`]: the REST calls.
//! - [`errors`]: BAF's error codes and code-less messages.
//! - [`mapping`]: request bodies from protos, BAF's JSON → proto.
//! - [`applicant_service`], [`validation_service`]: the gRPC services.
//! - BAF has no webhooks, so its event source is the gateway's own: [`observer`] polls
//!   applicants, and [`returns`] receives the person's browser coming back.

pub mod applicant_service;
pub mod client;
pub mod config;
pub mod errors;
pub mod mapping;
pub mod observer;
pub mod returns;
pub mod validation_service;

use std::sync::Arc;

use tokio::task::JoinSet;
use url::Url;

pub use config::BafConfig;

use super::{Context, Provider, Registration, parse_section};
use crate::attempts::AttemptKey;
use crate::attempts::log::EventLog;
use crate::attempts::watch::WatchGuard;
use crate::auth::Caller;
use crate::config::secs;
use crate::error::ApiError;
use crate::proto::attempts::{AttemptState, Vendor};
use crate::proto::baf::applicant_service_server::ApplicantServiceServer;
use crate::proto::baf::validation_service_server::ValidationServiceServer;
use crate::upstream::http::Upstream;

/// `ErrorInfo.domain` of BAF's errors, and the provider's name.
pub const DOMAIN: &str = "baf";

/// BAF applicants in the log.
pub const VENDOR: Vendor = Vendor::Baf;

/// How BAF is registered.
pub const REGISTRATION: Registration =
    Registration { name: DOMAIN, parse: |section| parse_section::<BafConfig>(DOMAIN, section) };

/// What the services, the observers and the return route share.
#[derive(Debug)]
pub struct Shared {
    /// The vendor client; `None` when BAF is not configured.
    pub client: Option<client::Baf>,
    /// The event log.
    pub log: Arc<EventLog>,
    /// The observers; `None` when BAF is not configured.
    pub observers: Option<Arc<observer::Observers>>,
    /// How browsers reach the gateway's HTTP listener, for the return URL.
    pub public_url: Option<Url>,
}

impl Shared {
    /// Refuses, as `NOT_FOUND`, an applicant a caller limited to its own attempts did not
    /// create; other callers reach every applicant of the account.
    pub async fn check_visible(&self, caller: &Caller, applicant_id: &str) -> Result<(), ApiError> {
        crate::telemetry::traces::attempt(applicant_id);
        if caller.own_attempts_only {
            self.log.require_visible(&AttemptKey::new(VENDOR, applicant_id), caller).await?;
        }
        Ok(())
    }

    /// Tells the observer of an applicant that it probably changed (a mutation went
    /// through the gateway, or the person came back), so it reads it now.
    pub fn touched(&self, applicant_id: &str) {
        if let Some(observers) = &self.observers {
            observers.wake(applicant_id);
        }
    }
}

/// The BAF provider.
#[derive(Debug)]
pub struct BafProvider {
    shared: Arc<Shared>,
    max_message_bytes: usize,
}

impl BafProvider {
    fn new(config: &BafConfig, context: &Context) -> Self {
        let client = match (&config.base_url, &config.api_key) {
            (Some(url), Some(key)) => Some(client::Baf::new(
                Upstream::new(&context.upstream, DOMAIN, url.clone(), secs(config.timeout_secs)),
                key.clone(),
            )),
            _ => None,
        };
        let observers = client.clone().map(|client| {
            Arc::new(observer::Observers::new(
                client,
                context.log.clone(),
                secs(config.poll_min_secs),
                secs(config.poll_max_secs),
                context.shutdown.clone(),
            ))
        });
        let shared =
            Shared { client, log: context.log.clone(), observers, public_url: context.public_url.clone() };
        Self { shared: Arc::new(shared), max_message_bytes: context.max_message_bytes }
    }
}

#[async_trait::async_trait]
impl Provider for BafProvider {
    fn name(&self) -> &'static str {
        DOMAIN
    }

    fn configured(&self) -> bool {
        self.shared.client.is_some()
    }

    fn add_services(&self, routes: &mut tonic::service::RoutesBuilder) -> Vec<&'static str> {
        let limit = self.max_message_bytes;
        let applicants =
            ApplicantServiceServer::new(applicant_service::ApplicantApi::new(self.shared.clone()))
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit);
        let validation =
            ValidationServiceServer::new(validation_service::ValidationApi::new(self.shared.clone()))
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit);
        routes.add_service(applicants).add_service(validation);
        vec![
            <ApplicantServiceServer<applicant_service::ApplicantApi> as tonic::server::NamedService>::NAME,
            <ValidationServiceServer<validation_service::ValidationApi> as tonic::server::NamedService>::NAME,
        ]
    }

    fn vendor(&self) -> Option<Vendor> {
        Some(VENDOR)
    }

    fn browser_routes(&self) -> axum::Router {
        returns::routes(self.shared.clone())
    }

    /// Resumes observing the applicants that were pending when the gateway last stopped,
    /// and, every `poll_max`, those another replica sharing the store started since (so
    /// they stay observed when that replica dies).
    fn spawn_background(&self, tasks: &mut JoinSet<()>) {
        let Some(observers) = self.shared.observers.clone() else { return };
        let log = self.shared.log.clone();
        let shutdown = log.shutdown().clone();
        tasks.spawn(async move {
            let mut rescan = tokio::time::interval(observers.max_pause());
            rescan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = rescan.tick() => {}
                }
                match log.attempts_in_state(VENDOR, AttemptState::Pending, None).await {
                    Ok(pending) => {
                        for attempt in pending {
                            observers.observe(&attempt.attempt_id);
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "cannot resume BAF observers"),
                }
            }
        });
    }

    async fn discover(&self, applicant_id: &str) -> Result<bool, ApiError> {
        match &self.shared.observers {
            Some(observers) => observers.import(applicant_id).await,
            None => Ok(false),
        }
    }

    fn watching(&self, applicant_id: &str) -> Option<WatchGuard> {
        let observers = self.shared.observers.as_ref()?;
        Some(Box::new(observers.watch(applicant_id)))
    }
}
