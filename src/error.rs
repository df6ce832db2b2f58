//! The one error type handlers return, and its translation into Google's richer error
//! model: every status carries exactly one `ErrorInfo`, plus `BadRequest` for local
//! validation failures and `RetryInfo` when a vendor asked to wait.
//!
//! Messages are built only from vendor codes, vendor messages and field names, never from
//! request values, so a status can be logged or shown without leaking personal data.

use std::collections::HashMap;
use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// `ErrorInfo.domain` of errors the gateway raises itself.
pub const GATEWAY_DOMAIN: &str = "idv-gateway";

/// An error on its way to a gRPC caller. Boxed, so the `Result`s that carry it stay
/// small on the success path; its fields are reached through `Deref`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError(Box<ErrorBody>);

/// What an [`ApiError`] says.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorBody {
    /// gRPC status code.
    pub code: Code,
    /// Human-readable message; never holds request values.
    pub message: String,
    /// `ErrorInfo.reason`: UPPER_SNAKE, the vendor's `type` where it has one.
    pub reason: String,
    /// `ErrorInfo.domain`: the vendor (`ableid`, `baf`, `b2core`) or [`GATEWAY_DOMAIN`].
    pub domain: String,
    /// `ErrorInfo.metadata`: the vendor's `code`, `http_status` and `message`.
    pub metadata: HashMap<String, String>,
    /// `BadRequest` field violations: (field path, description).
    pub violations: Vec<(String, String)>,
    /// `RetryInfo.retry_delay`, from a vendor's `Retry-After`.
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// An error with no details beyond its `ErrorInfo`.
    pub fn new(
        code: Code,
        domain: impl Into<String>,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self(Box::new(ErrorBody {
            code,
            message: message.into(),
            reason: reason.into(),
            domain: domain.into(),
            metadata: HashMap::new(),
            violations: Vec::new(),
            retry_after: None,
        }))
    }

    /// `INVALID_ARGUMENT` with the given field violations; the request never left the
    /// gateway.
    pub fn invalid(violations: Vec<(String, String)>) -> Self {
        let fields: Vec<&str> = violations.iter().map(|(f, _)| f.as_str()).collect();
        let mut error = Self::new(
            Code::InvalidArgument,
            GATEWAY_DOMAIN,
            "INVALID_ARGUMENT",
            format!("invalid request: {}", fields.join(", ")),
        );
        error.violations = violations;
        error
    }

    /// `NOT_FOUND` raised by the gateway itself.
    pub fn not_found(reason: &str, message: impl Into<String>) -> Self {
        Self::new(Code::NotFound, GATEWAY_DOMAIN, reason, message)
    }

    /// `INTERNAL` for a failure inside the gateway; the cause goes to the log, not the
    /// caller.
    pub fn internal(what: &str) -> Self {
        Self::new(Code::Internal, GATEWAY_DOMAIN, "INTERNAL", what)
    }

    /// Adds one `ErrorInfo.metadata` entry.
    pub fn with_metadata(mut self, key: &str, value: impl Into<String>) -> Self {
        self.metadata.insert(key.to_owned(), value.into());
        self
    }
}

impl std::ops::Deref for ApiError {
    type Target = ErrorBody;
    fn deref(&self) -> &ErrorBody {
        &self.0
    }
}

impl std::ops::DerefMut for ApiError {
    fn deref_mut(&mut self) -> &mut ErrorBody {
        &mut self.0
    }
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Self {
        let error = *error.0;
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
        Status::with_error_details(error.code, error.message, details)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
