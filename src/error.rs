//! The gateway's one error type, shared by the core and the providers.
//!
//! An [`ApiError`] says what went wrong in the terms of Google's richer error model —
//! a code, exactly one `ErrorInfo` (reason, domain, metadata), `BadRequest` field
//! violations for local validation failures, `RetryInfo` when a vendor or the gateway asks
//! to wait — but it does not depend on the transport: `From<ApiError> for tonic::Status`
//! (in [`crate::grpc`]) turns it into a `tonic::Status`, once, at the gRPC edge.
//!
//! Messages are built only from vendor codes, vendor messages and field names, never from
//! request values, so an error can be logged or shown without leaking personal data.

use std::collections::HashMap;
use std::time::Duration;

/// `ErrorInfo.domain` of errors the gateway raises itself.
pub const GATEWAY_DOMAIN: &str = "idv-gateway";

/// What kind of failure an error is: the gRPC status codes the gateway uses, named
/// without depending on a transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The request is wrong; sending it again will not help.
    InvalidArgument,
    /// The system is not in a state the request needs (an expired session, a finished
    /// applicant).
    FailedPrecondition,
    /// No such thing, or not the caller's.
    NotFound,
    /// Already exists.
    AlreadyExists,
    /// Conflicting concurrent change.
    Aborted,
    /// The caller is not authenticated (or the vendor refused the gateway's credentials).
    Unauthenticated,
    /// The caller may not do this.
    PermissionDenied,
    /// A quota, limit or size was exceeded.
    ResourceExhausted,
    /// Try again later: a vendor or the event log is unavailable.
    Unavailable,
    /// The deadline passed before an answer.
    DeadlineExceeded,
    /// Not implemented by the vendor.
    Unimplemented,
    /// A fault inside the gateway or an answer it cannot read.
    Internal,
}

/// An error on its way to a caller. Boxed, so the `Result`s that carry it stay small on
/// the success path; its fields are reached through `Deref`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError(Box<ErrorBody>);

/// What an [`ApiError`] says.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorBody {
    /// The kind of failure (the gRPC status code).
    pub code: ErrorCode,
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
    /// `RetryInfo.retry_delay`.
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// An error with no details beyond its `ErrorInfo`.
    pub fn new(
        code: ErrorCode,
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
            ErrorCode::InvalidArgument,
            GATEWAY_DOMAIN,
            "INVALID_ARGUMENT",
            format!("invalid request: {}", fields.join(", ")),
        );
        error.violations = violations;
        error
    }

    /// `NOT_FOUND` raised by the gateway itself.
    pub fn not_found(reason: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, GATEWAY_DOMAIN, reason, message)
    }

    /// `INTERNAL` for a failure inside the gateway; the cause goes to the log, not the
    /// caller.
    pub fn internal(what: &str) -> Self {
        Self::new(ErrorCode::Internal, GATEWAY_DOMAIN, "INTERNAL", what)
    }

    /// `UNAVAILABLE` raised by the gateway itself, with a `RetryInfo` delay.
    pub fn unavailable(reason: &str, message: impl Into<String>, retry_after: Duration) -> Self {
        let mut error = Self::new(ErrorCode::Unavailable, GATEWAY_DOMAIN, reason, message);
        error.retry_after = Some(retry_after);
        error
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

impl ApiError {
    /// Takes the body out, for the edge that translates it.
    pub fn into_body(self) -> ErrorBody {
        *self.0
    }
}
