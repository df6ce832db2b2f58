//! Statuses tonic raises itself for a caller's bad message, in the gateway's error model.
//!
//! tonic answers a request it cannot decode (invalid UTF-8 in a string field, a truncated
//! message) with `INTERNAL`, and one over the size limit with `OUT_OF_RANGE`, both without
//! details. Both are the caller's doing: gRPC's conventions say `INVALID_ARGUMENT` and
//! `RESOURCE_EXHAUSTED`. Those statuses are made before any handler runs, so this layer
//! rewrites them on the way out, with the `ErrorInfo` every other error carries.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tonic::body::Body;
use tonic::{Code, Status};
use tower::{Layer, Service};

use crate::error::{ApiError, ErrorCode, GATEWAY_DOMAIN};

/// The layer (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct CallerErrorsLayer;

impl<S> Layer<S> for CallerErrorsLayer {
    type Service = CallerErrors<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CallerErrors { inner }
    }
}

/// The service of [`CallerErrorsLayer`].
#[derive(Debug, Clone)]
pub struct CallerErrors<S> {
    inner: S,
}

impl<S, B> Service<http::Request<B>> for CallerErrors<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let response = self.inner.call(request);
        Box::pin(async move { Ok(rewrite(response.await?)) })
    }
}

/// The gateway's status for one tonic made about a caller's message, if it is one.
fn rewrite(response: http::Response<Body>) -> http::Response<Body> {
    // Only trailers-only answers carry the status in their headers; those are the ones
    // tonic makes before a handler runs.
    let Some(status) = Status::from_header_map(response.headers()) else { return response };
    let message = status.message();
    let error = match status.code() {
        Code::Internal if message.starts_with("failed to decode Protobuf message") => ApiError::new(
            ErrorCode::InvalidArgument,
            GATEWAY_DOMAIN,
            "MALFORMED_REQUEST",
            format!("the request is not a valid message of this method ({message})"),
        ),
        Code::OutOfRange if message.contains("decoded message length too large") => ApiError::new(
            ErrorCode::ResourceExhausted,
            GATEWAY_DOMAIN,
            "MESSAGE_TOO_LARGE",
            format!("the request is larger than the gateway accepts ({message})"),
        ),
        Code::OutOfRange if message.contains("encoded message length too large") => ApiError::new(
            ErrorCode::ResourceExhausted,
            GATEWAY_DOMAIN,
            "RESPONSE_TOO_LARGE",
            format!("the answer is larger than the gateway sends ({message})"),
        ),
        _ => return response,
    };
    Status::from(error).into_http()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::StatusExt;

    fn status_of(response: &http::Response<Body>) -> Status {
        Status::from_header_map(response.headers()).expect("a status")
    }

    #[test]
    fn decode_failures_and_oversized_messages_are_the_callers() {
        let decode = Status::internal("failed to decode Protobuf message: invalid string value").into_http();
        let status = status_of(&rewrite(decode));
        assert_eq!(status.code(), Code::InvalidArgument);
        assert_eq!(
            status.get_error_details().error_info().map(|i| i.reason.as_str()),
            Some("MALFORMED_REQUEST")
        );

        let large = Status::out_of_range(
            "Error, decoded message length too large: found 99 bytes, the limit is: 9 bytes",
        )
        .into_http();
        let status = status_of(&rewrite(large));
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(
            status.get_error_details().error_info().map(|i| i.reason.as_str()),
            Some("MESSAGE_TOO_LARGE")
        );
    }

    #[test]
    fn other_statuses_pass_unchanged() {
        let other = Status::internal("something else").into_http();
        let status = status_of(&rewrite(other));
        assert_eq!((status.code(), status.message()), (Code::Internal, "something else"));
    }
}
