//! `idv.attempts.v1.AttemptService`.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use crate::attempts::AttemptKey;
use crate::attempts::tracker::Tracker;
use crate::attempts::watch::{WatchStream, watch};
use crate::error::ApiError;
use crate::proto::attempts::{self as pb, attempt_service_server::AttemptService};
use crate::validate::{self, Violations};

/// The attempts service.
#[derive(Debug)]
pub struct AttemptsApi {
    /// The event log and its readers.
    pub tracker: Arc<Tracker>,
}

/// The attempt a request names, checked like any id that reaches a vendor path.
fn key(ableid: Option<&str>, baf: Option<&str>) -> Result<AttemptKey, ApiError> {
    let mut v = Violations::default();
    let key = match (ableid, baf) {
        (Some(id), _) => {
            validate::id(&mut v, "ableid_attempt_id", id);
            AttemptKey::ableid(id)
        }
        (None, Some(id)) => {
            validate::id(&mut v, "baf_applicant_id", id);
            AttemptKey::baf(id)
        }
        (None, None) => {
            v.add("attempt", "set ableid_attempt_id or baf_applicant_id");
            AttemptKey::ableid("")
        }
    };
    v.finish().map(|()| key)
}

macro_rules! attempt_key {
    ($request:expr, $module:ident) => {{
        use pb::$module::Attempt as A;
        match &$request.attempt {
            Some(A::AbleidAttemptId(id)) => key(Some(id), None),
            Some(A::BafApplicantId(id)) => key(None, Some(id)),
            None => key(None, None),
        }
    }};
}

#[tonic::async_trait]
impl AttemptService for AttemptsApi {
    async fn get_attempt(
        &self,
        request: Request<pb::GetAttemptRequest>,
    ) -> Result<Response<pb::GetAttemptResponse>, Status> {
        let r = request.into_inner();
        let key = attempt_key!(r, get_attempt_request)?;
        let attempt = self.tracker.get(&key).await?;
        Ok(Response::new(pb::GetAttemptResponse { attempt: Some(attempt) }))
    }

    async fn list_attempt_events(
        &self,
        request: Request<pb::ListAttemptEventsRequest>,
    ) -> Result<Response<pb::ListAttemptEventsResponse>, Status> {
        let r = request.into_inner();
        let key = attempt_key!(r, list_attempt_events_request)?;
        let mut v = Violations::default();
        if r.page_size != 0 {
            validate::range(&mut v, "page_size", Some(r.page_size), 1, 1000);
        }
        v.finish()?;
        let (events, next_page_token) = self.tracker.events_page(&key, r.page_size, &r.page_token).await?;
        Ok(Response::new(pb::ListAttemptEventsResponse { events, next_page_token }))
    }

    type WatchAttemptStream = WatchStream;

    async fn watch_attempt(
        &self,
        request: Request<pb::WatchAttemptRequest>,
    ) -> Result<Response<Self::WatchAttemptStream>, Status> {
        let r = request.into_inner();
        let key = attempt_key!(r, watch_attempt_request)?;
        let stream = watch(&self.tracker, key, &r.resume_token, r.follow_after_terminal).await?;
        Ok(Response::new(stream))
    }
}
