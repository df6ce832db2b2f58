//! `idv.attempts.v1.AttemptService`: the event log, for every vendor at once. It names no
//! vendor: the attempt a request means comes from the `attempt` oneof's field name
//! (`<vendor>_<id>`, see `attempts.proto`), and the provider of that vendor is asked only
//! to discover an attempt the gateway has not seen and to keep a watched one fresh.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use futures_util::StreamExt;

use super::{ChunkStream, accept_with, chunked};
use crate::attempts::log::{EventLog, not_found};
use crate::attempts::watch::{WatchStream, watch};
use crate::attempts::{AttemptKey, vendor_from_name};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::proto::attempts::{self as pb, Attempt, Vendor, attempt_service_server::AttemptService};
use crate::providers::Providers;
use crate::upstream::http::Media;
use crate::validate::{self, Violations};

/// The attempts service.
#[derive(Debug)]
pub struct AttemptsApi {
    log: Arc<EventLog>,
    providers: Providers,
}

impl AttemptsApi {
    /// The service over the log, with the providers that feed it.
    pub fn new(log: Arc<EventLog>, providers: Providers) -> Self {
        Self { log, providers }
    }

    /// The attempt, or `NOT_FOUND`. An attempt the gateway has not seen is looked up by
    /// its provider (BAF applicants can be observed from then on), except for a caller
    /// limited to its own attempts: those it started are already known.
    async fn get(&self, key: &AttemptKey, caller: &Caller) -> Result<Attempt, ApiError> {
        crate::telemetry::traces::attempt(&key.id);
        if let Some(record) = self.log.attempt(key).await? {
            return if caller.may_see(&record.owner) { Ok(record.attempt) } else { Err(not_found(key)) };
        }
        if !caller.own_attempts_only
            && let Some(provider) = self.providers.for_vendor(key.vendor)
            && provider.discover(&key.id).await?
            && let Some(record) = self.log.attempt(key).await?
        {
            return Ok(record.attempt);
        }
        Err(not_found(key))
    }
}

/// The attempt a request's `attempt` oneof names: `(field name, id)`.
fn key(v: &mut Violations, attempt: Option<(&'static str, &str)>) -> AttemptKey {
    let Some((field, id)) = attempt else {
        v.add("attempt", "set the vendor's id of the attempt");
        return AttemptKey::new(Vendor::Unspecified, "");
    };
    // Fields are named `<vendor>_<id name>`: `ableid_attempt_id`, `baf_applicant_id`.
    let vendor = vendor_from_name(field.split('_').next().unwrap_or_default());
    if vendor == Vendor::Unspecified {
        v.add(field, "names no vendor this gateway knows");
    }
    // Checked like any id that reaches a vendor path.
    validate::id(v, field, id);
    AttemptKey::new(vendor, id)
}

#[tonic::async_trait]
impl AttemptService for AttemptsApi {
    async fn get_attempt(
        &self,
        request: Request<pb::GetAttemptRequest>,
    ) -> Result<Response<pb::GetAttemptResponse>, Status> {
        let mut attempt = None;
        let rpc = accept_with(request, |r, v| {
            attempt = Some(key(v, r.attempt.as_ref().map(|a| (a.field_name(), a.value()))));
        })?;
        let key = attempt.unwrap_or_else(|| AttemptKey::new(Vendor::Unspecified, ""));
        let attempt = self.get(&key, &rpc.caller).await?;
        Ok(Response::new(pb::GetAttemptResponse { attempt: Some(attempt) }))
    }

    async fn list_attempt_events(
        &self,
        request: Request<pb::ListAttemptEventsRequest>,
    ) -> Result<Response<pb::ListAttemptEventsResponse>, Status> {
        let mut attempt = None;
        let rpc = accept_with(request, |r, v| {
            attempt = Some(key(v, r.attempt.as_ref().map(|a| (a.field_name(), a.value()))));
            if r.page_size != 0 {
                validate::range(v, "page_size", Some(r.page_size), 1, 1000);
            }
        })?;
        let key = attempt.unwrap_or_else(|| AttemptKey::new(Vendor::Unspecified, ""));
        self.get(&key, &rpc.caller).await?;
        let r = &rpc.message;
        let (events, next_page_token) = self.log.events_page(&key, r.page_size, &r.page_token).await?;
        Ok(Response::new(pb::ListAttemptEventsResponse { events, next_page_token }))
    }

    type DownloadAttemptMediaStream = ChunkStream<pb::DownloadAttemptMediaResponse>;

    async fn download_attempt_media(
        &self,
        request: Request<pb::DownloadAttemptMediaRequest>,
    ) -> Result<Response<Self::DownloadAttemptMediaStream>, Status> {
        let mut attempt = None;
        let rpc = accept_with(request, |r, v| {
            attempt = Some(key(v, r.attempt.as_ref().map(|a| (a.field_name(), a.value()))));
            let id = &r.media_id;
            if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                v.add("media_id", "must be a Media.media_id (32 hexadecimal digits)");
            }
        })?;
        let key = attempt.unwrap_or_else(|| AttemptKey::new(Vendor::Unspecified, ""));
        self.get(&key, &rpc.caller).await?;
        let stored = self.log.media(&key, &rpc.message.media_id).await?;
        let media = Media {
            content_type: stored.content_type,
            content_length: Some(stored.bytes.len() as u64),
            body: futures_util::stream::iter([Ok(stored.bytes)]).boxed(),
        };
        Ok(Response::new(chunked(media, |chunk, content_type, content_length| {
            pb::DownloadAttemptMediaResponse { chunk: chunk.to_vec(), content_type, content_length }
        })))
    }

    type WatchAttemptStream = WatchStream;

    async fn watch_attempt(
        &self,
        request: Request<pb::WatchAttemptRequest>,
    ) -> Result<Response<Self::WatchAttemptStream>, Status> {
        let mut attempt = None;
        let rpc = accept_with(request, |r, v| {
            attempt = Some(key(v, r.attempt.as_ref().map(|a| (a.field_name(), a.value()))));
        })?;
        let key = attempt.unwrap_or_else(|| AttemptKey::new(Vendor::Unspecified, ""));
        let current = self.get(&key, &rpc.caller).await?;
        let slot = self.log.open_watch(&rpc.caller)?;
        let guard = self.providers.for_vendor(key.vendor).and_then(|p| p.watching(&key.id));
        let r = &rpc.message;
        let stream = watch(&self.log, key, current, &r.resume_token, r.follow_after_terminal, (slot, guard))?;
        Ok(Response::new(stream))
    }
}
