//! `idv.ableid.v1.AbleIdService`.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tonic::{Request, Response, Status};

use super::{configured, deadline};
use crate::attempts::tracker::Tracker;
use crate::error::ApiError;
use crate::proto::ableid::{self as pb, able_id_service_server::AbleIdService};
use crate::validate::{self, UrlPolicy, Violations};
use crate::vendor::ableid::{AbleId, DOMAIN, DataRequest, Session, Subject};

/// The most caller hooks one session may carry.
const MAX_HOOKS: usize = 10;

/// The AbleID service.
#[derive(Debug)]
pub struct AbleIdApi {
    /// The vendor client; `None` when AbleID is not configured.
    pub ableid: Option<AbleId>,
    /// The gateway's own completion hook, added to every session's `hooks`.
    pub own_hook: Option<String>,
    /// Which caller hook URLs are accepted.
    pub hook_policy: UrlPolicy,
    /// How long a session lives.
    pub session_ttl: Duration,
    /// Where started sessions are recorded, for `WatchAttempt`.
    pub tracker: Arc<Tracker>,
}

impl AbleIdApi {
    /// Checks the caller's hooks and returns the list to send: theirs, then the gateway's.
    fn hooks(&self, v: &mut Violations, caller: &[String]) -> Vec<String> {
        if caller.len() > MAX_HOOKS {
            v.add("hooks", format!("at most {MAX_HOOKS} hooks"));
        }
        for (i, hook) in caller.iter().enumerate() {
            validate::outbound_url(v, &format!("hooks[{i}]"), hook, self.hook_policy);
        }
        let mut hooks = caller.to_vec();
        hooks.extend(self.own_hook.clone());
        if hooks.is_empty() {
            v.add("hooks", "at least one hook is required: the gateway has no public_url of its own");
        }
        hooks
    }

    /// Starts a session and records it, or returns the one an earlier start with the same
    /// transaction id made: a caller retrying after a lost answer gets no second session.
    async fn start(
        &self,
        subject: Subject<'_>,
        transaction_id: &str,
        lang: &str,
        hooks: &[String],
        deadline: Option<Instant>,
    ) -> Result<(Session, prost_types::Timestamp), ApiError> {
        let ableid = configured(&self.ableid, DOMAIN)?;
        if let Some((attempt, started)) = self.tracker.ableid_by_transaction(transaction_id).await? {
            let session = Session {
                attempt_id: attempt.attempt_id,
                full_url: started.url,
                lang: started.lang,
                message: String::new(),
            };
            return Ok((session, started.expire_time.unwrap_or_default()));
        }
        let session = ableid.start(subject, transaction_id, lang, hooks, deadline).await?;
        let expire_time = prost_types::Timestamp::from(SystemTime::now() + self.session_ttl);
        self.tracker
            .ableid_started(
                &session.attempt_id,
                transaction_id,
                &session.full_url,
                &session.lang,
                expire_time,
            )
            .await?;
        Ok((session, expire_time))
    }

    async fn request_data(
        &self,
        request: DataRequest<'_>,
        attempt_id: &str,
        deadline: Option<Instant>,
    ) -> Result<(i32, String, String), ApiError> {
        let ack = configured(&self.ableid, DOMAIN)?.request_data(request, attempt_id, deadline).await?;
        Ok((ack.status_code, ack.kind, ack.message))
    }
}

#[tonic::async_trait]
impl AbleIdService for AbleIdApi {
    async fn start_resident_check(
        &self,
        request: Request<pb::StartResidentCheckRequest>,
    ) -> Result<Response<pb::StartResidentCheckResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        let mut v = Violations::default();
        validate::bounded(&mut v, "transaction_id", &r.transaction_id, 100);
        let birth = validate::birth_date(&mut v, "birth_date", &r.birth_date);
        validate::pinfl(&mut v, "pinfl", &r.pinfl, birth);
        validate::lang(&mut v, "lang", &r.lang);
        let hooks = self.hooks(&mut v, &r.hooks);
        v.finish()?;

        let subject = Subject::Resident { pinfl: &r.pinfl, birth_date: &r.birth_date };
        let (session, expire_time) =
            self.start(subject, &r.transaction_id, &r.lang, &hooks, deadline).await?;
        Ok(Response::new(pb::StartResidentCheckResponse {
            attempt_id: session.attempt_id,
            full_url: session.full_url,
            lang: session.lang,
            message: session.message,
            expire_time: Some(expire_time),
        }))
    }

    async fn start_foreign_check(
        &self,
        request: Request<pb::StartForeignCheckRequest>,
    ) -> Result<Response<pb::StartForeignCheckResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        let mut v = Violations::default();
        validate::bounded(&mut v, "transaction_id", &r.transaction_id, 100);
        validate::bounded(&mut v, "document", &r.document, 64);
        validate::lang(&mut v, "lang", &r.lang);
        let hooks = self.hooks(&mut v, &r.hooks);
        v.finish()?;

        let subject = Subject::Foreigner { document: &r.document };
        let (session, expire_time) =
            self.start(subject, &r.transaction_id, &r.lang, &hooks, deadline).await?;
        Ok(Response::new(pb::StartForeignCheckResponse {
            attempt_id: session.attempt_id,
            full_url: session.full_url,
            lang: session.lang,
            message: session.message,
            expire_time: Some(expire_time),
        }))
    }

    async fn request_passport(
        &self,
        request: Request<pb::RequestPassportRequest>,
    ) -> Result<Response<pb::RequestPassportResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        let mut v = Violations::default();
        validate::id(&mut v, "attempt_id", &r.attempt_id);
        let birth = validate::birth_date(&mut v, "birth_date", &r.birth_date);
        validate::pinfl(&mut v, "pinfl", &r.pinfl, birth);
        v.finish()?;

        let request = DataRequest::Passport { pinfl: &r.pinfl, birth_date: &r.birth_date };
        let (status_code, r#type, message) = self.request_data(request, &r.attempt_id, deadline).await?;
        Ok(Response::new(pb::RequestPassportResponse { status_code, r#type, message }))
    }

    async fn request_photo(
        &self,
        request: Request<pb::RequestPhotoRequest>,
    ) -> Result<Response<pb::RequestPhotoResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        let mut v = Violations::default();
        validate::id(&mut v, "attempt_id", &r.attempt_id);
        v.finish()?;

        let (status_code, r#type, message) =
            self.request_data(DataRequest::Photo, &r.attempt_id, deadline).await?;
        Ok(Response::new(pb::RequestPhotoResponse { status_code, r#type, message }))
    }

    async fn request_registration(
        &self,
        request: Request<pb::RequestRegistrationRequest>,
    ) -> Result<Response<pb::RequestRegistrationResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        let mut v = Violations::default();
        validate::id(&mut v, "attempt_id", &r.attempt_id);
        validate::pinfl(&mut v, "pinfl", &r.pinfl, None);
        v.finish()?;

        let request = DataRequest::Registration { pinfl: &r.pinfl };
        let (status_code, r#type, message) = self.request_data(request, &r.attempt_id, deadline).await?;
        Ok(Response::new(pb::RequestRegistrationResponse { status_code, r#type, message }))
    }

    async fn request_person(
        &self,
        request: Request<pb::RequestPersonRequest>,
    ) -> Result<Response<pb::RequestPersonResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        let mut v = Violations::default();
        validate::id(&mut v, "attempt_id", &r.attempt_id);
        let birth = validate::birth_date(&mut v, "birth_date", &r.birth_date);
        validate::pinfl(&mut v, "pinfl", &r.pinfl, birth);
        v.finish()?;

        let request = DataRequest::Person { pinfl: &r.pinfl, birth_date: &r.birth_date };
        let (status_code, r#type, message) = self.request_data(request, &r.attempt_id, deadline).await?;
        Ok(Response::new(pb::RequestPersonResponse { status_code, r#type, message }))
    }
}
