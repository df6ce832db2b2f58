//! B2Core client verification levels: history, details, wizard, submission. B2Core has no
//! attempts and no event source: every call reads or changes the end client's levels.
//!
//! - [`config`]: the `[b2core]` section.
//! - [`client`]: the REST calls.
//! - [`mapping`]: the query and body from protos, B2Core's JSON → proto.
//! - [`service`]: the gRPC service `idv.b2core.v1.VerificationService`.

pub mod client;
pub mod config;
pub mod mapping;
pub mod service;

use std::sync::Arc;

pub use config::B2CoreConfig;

use super::{Context, Provider, Registration, parse_section};
use crate::config::secs;
use crate::proto::b2core::verification_service_server::VerificationServiceServer;
use crate::upstream::http::Upstream;

/// `ErrorInfo.domain` of B2Core's errors, and the provider's name.
pub const DOMAIN: &str = "b2core";

/// How B2Core is registered.
pub const REGISTRATION: Registration =
    Registration { name: DOMAIN, parse: |section| parse_section::<B2CoreConfig>(DOMAIN, section) };

/// The B2Core provider.
#[derive(Debug)]
pub struct B2CoreProvider {
    client: Option<Arc<client::B2Core>>,
    max_message_bytes: usize,
}

impl B2CoreProvider {
    fn new(config: &B2CoreConfig, context: &Context) -> Self {
        let client = config.base_url.as_ref().map(|url| {
            Arc::new(client::B2Core::new(
                Upstream::new(&context.upstream, DOMAIN, url.clone(), secs(config.timeout_secs)),
                config.history_path.clone(),
                config.procedures_path.clone(),
            ))
        });
        Self { client, max_message_bytes: context.max_message_bytes }
    }
}

#[async_trait::async_trait]
impl Provider for B2CoreProvider {
    fn name(&self) -> &'static str {
        DOMAIN
    }

    fn configured(&self) -> bool {
        self.client.is_some()
    }

    fn add_services(&self, routes: &mut tonic::service::RoutesBuilder) -> Vec<&'static str> {
        let limit = self.max_message_bytes;
        let service = VerificationServiceServer::new(service::VerificationApi::new(self.client.clone()))
            .max_decoding_message_size(limit)
            .max_encoding_message_size(limit);
        routes.add_service(service);
        vec![<VerificationServiceServer<service::VerificationApi> as tonic::server::NamedService>::NAME]
    }
}
