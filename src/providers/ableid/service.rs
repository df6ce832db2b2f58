//! `idv.ableid.v1.AbleIdService`: accept (deadline, every violation at once), call, map.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use std::time::Instant;

use super::client::{Ack, DataRequest, Subject};
use super::{DOMAIN, Shared, VENDOR};
use crate::attempts::AttemptKey;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::grpc::{Validate, accept, accept_with};
use crate::proto::ableid::{self as pb, able_id_service_server::AbleIdService};
use crate::proto::attempts::DataKind;
use crate::providers::configured;
use crate::validate::outbound;
use crate::validate::{self, Violations};

/// The most caller hooks one session may carry.
const MAX_HOOKS: usize = 10;

/// The AbleID service.
#[derive(Debug)]
pub struct AbleIdApi {
    shared: Arc<Shared>,
}

impl AbleIdApi {
    /// The service over the provider's shared state.
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    /// Checks the caller's hooks (without the network) and returns the list to send:
    /// theirs, then the gateway's.
    fn hooks(&self, v: &mut Violations, caller: &[String]) -> Vec<String> {
        if !caller.is_empty() && !self.shared.allow_caller_hooks {
            v.add(
                "hooks",
                "caller hooks are off (ableid.allow_caller_hooks): every receiver of a hook learns the value \
                 that signs all of the attempt's hooks",
            );
        }
        if caller.len() > MAX_HOOKS {
            v.add("hooks", format!("at most {MAX_HOOKS} hooks"));
        }
        // AbleID gets each hook as the check read it, re-serialized: a raw string that another
        // URL parser reads differently (`https://public\@127.0.0.1/` is a path to this one and
        // user info before a loopback host to some) must not reach a host never checked.
        let mut hooks: Vec<String> = caller
            .iter()
            .enumerate()
            .map(|(i, hook)| {
                outbound::check_syntax(v, &format!("hooks[{i}]"), hook, &self.shared.hook_policy)
                    .map_or_else(|| hook.clone(), String::from)
            })
            .collect();
        hooks.extend(self.shared.own_hook.clone());
        if hooks.is_empty() {
            v.add("hooks", "at least one hook is required: the gateway has no public_url of its own");
        }
        hooks
    }

    /// Resolves the caller's hook hosts: a name of a private address is refused like the
    /// address itself. Runs after every check without the network passed.
    async fn resolve_hooks(&self, caller: &[String]) -> Result<(), ApiError> {
        if caller.is_empty() {
            return Ok(());
        }
        let mut v = Violations::default();
        outbound::check_all(&mut v, "hooks", caller, &self.shared.hook_policy, &*self.shared.resolver).await;
        v.finish()
    }

    /// Asks AbleID for data about an attempt the caller may see; its hook is accepted
    /// while this request is outstanding.
    async fn request_data(
        &self,
        caller: &Caller,
        attempt_id: &str,
        kind: DataKind,
        request: DataRequest<'_>,
        deadline: Option<Instant>,
    ) -> Result<Ack, ApiError> {
        let client = configured(&self.shared.client, DOMAIN)?;
        crate::telemetry::traces::attempt(attempt_id);
        let key = AttemptKey::new(VENDOR, attempt_id);
        self.shared.log.require_visible(&key, caller).await?;
        self.shared.expect_data(&key, kind).await?;
        let ack = client.request_data(request, attempt_id, deadline).await;
        if ack.is_err() {
            self.shared.forget_data(&key, kind).await;
        }
        ack
    }
}

impl Validate for pb::StartResidentCheckRequest {
    fn validate(&self, v: &mut Violations) {
        validate::bounded(v, "transaction_id", &self.transaction_id, 100);
        let birth = validate::birth_date(v, "birth_date", &self.birth_date);
        validate::pinfl(v, "pinfl", &self.pinfl, birth);
        validate::lang(v, "lang", &self.lang);
    }
}

impl Validate for pb::StartForeignCheckRequest {
    fn validate(&self, v: &mut Violations) {
        validate::bounded(v, "transaction_id", &self.transaction_id, 100);
        validate::bounded(v, "document", &self.document, 64);
        validate::lang(v, "lang", &self.lang);
    }
}

impl Validate for pb::RequestPassportRequest {
    fn validate(&self, v: &mut Violations) {
        validate::id(v, "attempt_id", &self.attempt_id);
        let birth = validate::birth_date(v, "birth_date", &self.birth_date);
        validate::pinfl(v, "pinfl", &self.pinfl, birth);
    }
}

impl Validate for pb::RequestPhotoRequest {
    fn validate(&self, v: &mut Violations) {
        validate::id(v, "attempt_id", &self.attempt_id);
    }
}

impl Validate for pb::RequestRegistrationRequest {
    fn validate(&self, v: &mut Violations) {
        validate::id(v, "attempt_id", &self.attempt_id);
        validate::pinfl(v, "pinfl", &self.pinfl, None);
    }
}

impl Validate for pb::RequestPersonRequest {
    fn validate(&self, v: &mut Violations) {
        validate::id(v, "attempt_id", &self.attempt_id);
        let birth = validate::birth_date(v, "birth_date", &self.birth_date);
        validate::pinfl(v, "pinfl", &self.pinfl, birth);
    }
}

#[tonic::async_trait]
impl AbleIdService for AbleIdApi {
    async fn start_resident_check(
        &self,
        request: Request<pb::StartResidentCheckRequest>,
    ) -> Result<Response<pb::StartResidentCheckResponse>, Status> {
        let mut hooks = Vec::new();
        let rpc = accept_with(request, |r, v| {
            r.validate(v);
            hooks = self.hooks(v, &r.hooks);
        })?;
        let r = &rpc.message;
        self.resolve_hooks(&r.hooks).await?;
        let subject = Subject::Resident { pinfl: &r.pinfl, birth_date: &r.birth_date };
        let owner = &rpc.caller.name;
        let s =
            self.shared.start_once(subject, &r.transaction_id, &r.lang, &hooks, owner, rpc.deadline).await?;
        crate::telemetry::traces::attempt(&s.attempt_id);
        Ok(Response::new(pb::StartResidentCheckResponse {
            attempt_id: s.attempt_id,
            full_url: s.full_url,
            lang: s.lang,
            message: s.message,
            expire_time: Some(prost_types::Timestamp { seconds: s.expire_seconds, nanos: 0 }),
        }))
    }

    async fn start_foreign_check(
        &self,
        request: Request<pb::StartForeignCheckRequest>,
    ) -> Result<Response<pb::StartForeignCheckResponse>, Status> {
        let mut hooks = Vec::new();
        let rpc = accept_with(request, |r, v| {
            r.validate(v);
            hooks = self.hooks(v, &r.hooks);
        })?;
        let r = &rpc.message;
        self.resolve_hooks(&r.hooks).await?;
        let subject = Subject::Foreigner { document: &r.document };
        let owner = &rpc.caller.name;
        let s =
            self.shared.start_once(subject, &r.transaction_id, &r.lang, &hooks, owner, rpc.deadline).await?;
        crate::telemetry::traces::attempt(&s.attempt_id);
        Ok(Response::new(pb::StartForeignCheckResponse {
            attempt_id: s.attempt_id,
            full_url: s.full_url,
            lang: s.lang,
            message: s.message,
            expire_time: Some(prost_types::Timestamp { seconds: s.expire_seconds, nanos: 0 }),
        }))
    }

    async fn request_passport(
        &self,
        request: Request<pb::RequestPassportRequest>,
    ) -> Result<Response<pb::RequestPassportResponse>, Status> {
        let rpc = accept(request)?;
        let r = &rpc.message;
        let request = DataRequest::Passport { pinfl: &r.pinfl, birth_date: &r.birth_date };
        let ack =
            self.request_data(&rpc.caller, &r.attempt_id, DataKind::Passport, request, rpc.deadline).await?;
        Ok(Response::new(pb::RequestPassportResponse {
            status_code: ack.status_code,
            r#type: ack.kind,
            message: ack.message,
        }))
    }

    async fn request_photo(
        &self,
        request: Request<pb::RequestPhotoRequest>,
    ) -> Result<Response<pb::RequestPhotoResponse>, Status> {
        let rpc = accept(request)?;
        let ack = self
            .request_data(
                &rpc.caller,
                &rpc.message.attempt_id,
                DataKind::Photo,
                DataRequest::Photo,
                rpc.deadline,
            )
            .await?;
        Ok(Response::new(pb::RequestPhotoResponse {
            status_code: ack.status_code,
            r#type: ack.kind,
            message: ack.message,
        }))
    }

    async fn request_registration(
        &self,
        request: Request<pb::RequestRegistrationRequest>,
    ) -> Result<Response<pb::RequestRegistrationResponse>, Status> {
        let rpc = accept(request)?;
        let r = &rpc.message;
        let request = DataRequest::Registration { pinfl: &r.pinfl };
        let ack = self
            .request_data(&rpc.caller, &r.attempt_id, DataKind::Registration, request, rpc.deadline)
            .await?;
        Ok(Response::new(pb::RequestRegistrationResponse {
            status_code: ack.status_code,
            r#type: ack.kind,
            message: ack.message,
        }))
    }

    async fn request_person(
        &self,
        request: Request<pb::RequestPersonRequest>,
    ) -> Result<Response<pb::RequestPersonResponse>, Status> {
        let rpc = accept(request)?;
        let r = &rpc.message;
        let request = DataRequest::Person { pinfl: &r.pinfl, birth_date: &r.birth_date };
        let ack =
            self.request_data(&rpc.caller, &r.attempt_id, DataKind::Person, request, rpc.deadline).await?;
        Ok(Response::new(pb::RequestPersonResponse {
            status_code: ack.status_code,
            r#type: ack.kind,
            message: ack.message,
        }))
    }
}
