//! The gRPC edge: what every handler shares, and the translation of [`ApiError`] into
//! `tonic::Status`, done here and nowhere else.
//!
//! Every handler follows one path: [`accept`] reads the caller's deadline and checks the
//! request (every violation at once, before any network call); the handler calls the
//! provider or the event log; `?` maps the error. The vendor services live with their
//! provider (`providers/<name>/service.rs`); the attempts service, which names no
//! vendor, lives here.

pub mod attempts;
pub mod caller_errors;
pub mod frames;
pub mod overload;

use std::pin::Pin;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tonic::metadata::MetadataMap;
use tonic::{Code, Request, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode};
use crate::upstream::http::Media;
use crate::validate::Violations;

/// Largest chunk of a streamed download, well under any gRPC message limit.
const CHUNK_BYTES: usize = 64 * 1024;

/// A request the edge accepted: checked, with the caller's deadline.
#[derive(Debug)]
pub struct Rpc<T> {
    /// The request message.
    pub message: T,
    /// When the caller stops waiting (see [`deadline`]).
    pub deadline: Option<Instant>,
    /// The request's metadata (B2Core forwards a token from it).
    pub metadata: MetadataMap,
    /// Who is calling (the auth layer put it there; anonymous when auth is off).
    pub caller: Caller,
}

/// A request that knows how to check itself. Implemented next to each service, so the
/// rules of a vendor's fields live with that vendor.
pub trait Validate {
    /// Adds a violation for every field that breaks a rule.
    fn validate(&self, v: &mut Violations);
}

/// Accepts a request whose checks need nothing but the message.
pub fn accept<T: Validate>(request: Request<T>) -> Result<Rpc<T>, ApiError> {
    accept_with(request, T::validate)
}

/// Accepts a request whose checks also need the service's settings.
pub fn accept_with<T>(
    request: Request<T>,
    check: impl FnOnce(&T, &mut Violations),
) -> Result<Rpc<T>, ApiError> {
    let deadline = deadline(request.metadata());
    let caller = request.extensions().get::<Caller>().cloned().unwrap_or_else(Caller::anonymous);
    let (metadata, _, message) = request.into_parts();
    let mut v = Violations::default();
    check(&message, &mut v);
    v.finish()?;
    Ok(Rpc { message, deadline, metadata, caller })
}

/// The caller's deadline, from the `grpc-timeout` header, so a vendor call never
/// outlives the caller's interest in it. It is set a little early (a tenth of the
/// timeout, at most 100 ms) so that the gateway's own `DEADLINE_EXCEEDED`, with its
/// error details, reaches the caller before tonic cancels the call at the deadline.
pub fn deadline(metadata: &MetadataMap) -> Option<Instant> {
    let value = metadata.get("grpc-timeout")?.to_str().ok()?;
    let (amount, unit) = value.split_at(value.len().checked_sub(1)?);
    let amount: u64 = amount.parse().ok()?;
    let timeout = match unit {
        "H" => Duration::from_secs(amount.saturating_mul(3600)),
        "M" => Duration::from_secs(amount.saturating_mul(60)),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    };
    Instant::now().checked_add(timeout - (timeout / 10).min(Duration::from_millis(100)))
}

/// A server stream of download chunks.
pub type ChunkStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// Re-chunks a download into messages of at most 64 KiB; the first carries the content
/// type and length, and an empty download is one empty message. The stream is pulled by
/// the caller, so a slow caller slows the download instead of buffering it.
pub fn chunked<T: Send + 'static>(media: Media, message: fn(Bytes, String, i64) -> T) -> ChunkStream<T> {
    struct State {
        body: futures_util::stream::BoxStream<'static, Result<Bytes, ApiError>>,
        pending: Bytes,
        header: Option<(String, i64)>,
        finished: bool,
    }
    let state = State {
        header: Some((media.content_type, media.content_length.map_or(0, |n| n as i64))),
        body: media.body,
        pending: Bytes::new(),
        finished: false,
    };
    Box::pin(futures_util::stream::unfold(state, move |mut s| async move {
        loop {
            if !s.pending.is_empty() {
                let chunk = s.pending.split_to(CHUNK_BYTES.min(s.pending.len()));
                let (content_type, length) = s.header.take().unwrap_or_default();
                return Some((Ok(message(chunk, content_type, length)), s));
            }
            if s.finished {
                let (content_type, length) = s.header.take()?;
                return Some((Ok(message(Bytes::new(), content_type, length)), s));
            }
            match s.body.next().await {
                Some(Ok(bytes)) => s.pending = bytes,
                Some(Err(e)) => {
                    s.finished = true;
                    s.header = None;
                    return Some((Err(e.into()), s));
                }
                None => s.finished = true,
            }
        }
    }))
}

/// The gRPC code of an error kind.
pub fn code(code: ErrorCode) -> Code {
    match code {
        ErrorCode::InvalidArgument => Code::InvalidArgument,
        ErrorCode::FailedPrecondition => Code::FailedPrecondition,
        ErrorCode::NotFound => Code::NotFound,
        ErrorCode::AlreadyExists => Code::AlreadyExists,
        ErrorCode::Aborted => Code::Aborted,
        ErrorCode::Unauthenticated => Code::Unauthenticated,
        ErrorCode::PermissionDenied => Code::PermissionDenied,
        ErrorCode::ResourceExhausted => Code::ResourceExhausted,
        ErrorCode::Unavailable => Code::Unavailable,
        ErrorCode::DeadlineExceeded => Code::DeadlineExceeded,
        ErrorCode::Unimplemented => Code::Unimplemented,
        ErrorCode::Internal => Code::Internal,
    }
}

/// The one translation of the gateway's errors into gRPC statuses: exactly one
/// `ErrorInfo`, plus `BadRequest` and `RetryInfo` when there is something to say.
impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        let error = error.into_body();
        let mut details = ErrorDetails::with_error_info(error.reason, error.domain, error.metadata);
        if !error.violations.is_empty() {
            details.set_bad_request(
                error
                    .violations
                    .into_iter()
                    .map(|(field, description)| FieldViolation::new(field, description))
                    .collect::<Vec<_>>(),
            );
        }
        if let Some(delay) = error.retry_after {
            details.set_retry_info(Some(delay));
        }
        Status::with_error_details(code(error.code), error.message, details)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::GATEWAY_DOMAIN;

    #[test]
    fn grpc_timeout_units() {
        let mut metadata = MetadataMap::new();
        assert!(deadline(&metadata).is_none());
        metadata.insert("grpc-timeout", "1500m".parse().unwrap());
        let left = deadline(&metadata).unwrap() - Instant::now();
        assert!(left <= Duration::from_millis(1500) && left > Duration::from_millis(1000));
        metadata.insert("grpc-timeout", "bogus".parse().unwrap());
        assert!(deadline(&metadata).is_none());
    }

    #[test]
    fn status_carries_error_info_bad_request_and_retry_info() {
        let mut error = ApiError::invalid(vec![("pinfl".into(), "must be 14 digits".into())]);
        error.retry_after = Some(Duration::from_secs(3));
        let status = Status::from(error.with_metadata("code", "1"));
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let info = details.error_info().expect("ErrorInfo");
        assert_eq!(info.reason, "INVALID_ARGUMENT");
        assert_eq!(info.domain, GATEWAY_DOMAIN);
        assert_eq!(info.metadata["code"], "1");
        let bad = details.bad_request().expect("BadRequest");
        assert_eq!(bad.field_violations[0].field, "pinfl");
        assert_eq!(details.retry_info().and_then(|r| r.retry_delay), Some(Duration::from_secs(3)));
    }
}
