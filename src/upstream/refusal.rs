//! What a vendor said when it refused a call, and how that becomes the caller's error:
//! the vendor's code, type and message kept in `ErrorInfo`, the gRPC code from the
//! vendor's own table where it has one and from the HTTP status otherwise.

use serde_json::Value;

use super::http::{self, UpstreamError, VendorReply};
use super::json;
use crate::error::{ApiError, ErrorCode};

/// What a vendor said when it refused a call, read from whatever shape its error body has.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// HTTP status.
    pub http_status: u16,
    /// The vendor's numeric code (AbleID `statusCode`, BAF's code).
    pub code: Option<i64>,
    /// The vendor's error type (AbleID `type`).
    pub kind: Option<String>,
    /// The vendor's message.
    pub message: Option<String>,
}

impl Refusal {
    /// Reads an error body: JSON with any of the usual code/type/message keys, or text.
    pub fn read(reply: &VendorReply) -> Self {
        let value: Option<Value> = serde_json::from_slice(&reply.body).ok();
        Self::from_parts(reply.status.as_u16(), value.as_ref(), &reply.body)
    }

    /// Reads a refusal a vendor wrapped in a JSON body, whatever its HTTP status (AbleID
    /// answers some failures with 2xx and an error envelope).
    pub fn from_json(http_status: u16, body: &Value) -> Self {
        Self::from_parts(http_status, Some(body), b"")
    }

    fn from_parts(http_status: u16, value: Option<&Value>, raw: &[u8]) -> Self {
        let body = json::Obj::of(value.unwrap_or(&Value::Null));
        let code = ["statusCode", "code", "errorCode", "error_code"].iter().find_map(|k| body.opt_i64(k));
        let kind = ["type", "errorType"].iter().filter_map(|k| body.opt_string(k)).find(|t| is_reason(t));
        let message = ["message", "errorMessage", "detail", "title", "error_description", "error"]
            .iter()
            .find_map(|k| body.opt_string(k))
            .or_else(|| {
                // A short plain-text body is the message; anything else (HTML pages) is not.
                let text = std::str::from_utf8(raw).ok()?.trim();
                (value.is_none() && !text.is_empty() && text.len() <= 300 && !text.starts_with('<'))
                    .then(|| text.to_owned())
            })
            .map(|m| truncate(&m, 500));
        Self { http_status, code, kind, message }
    }
}

/// Maps a vendor's refusal to a gRPC code and reason where the vendor's own tables say
/// more than the HTTP status; `None` falls back to the HTTP status.
pub type Classify = fn(&Refusal) -> Option<(ErrorCode, &'static str)>;

/// Turns any failed vendor call into the caller's error.
pub fn api_error(domain: &'static str, error: UpstreamError, classify: Classify) -> ApiError {
    let reply = match error {
        UpstreamError::Status(reply) => reply,
        UpstreamError::Timeout => {
            return ApiError::new(
                ErrorCode::DeadlineExceeded,
                domain,
                "UPSTREAM_TIMEOUT",
                format!("{domain}: no answer in time"),
            );
        }
        UpstreamError::Unreachable(cause) => {
            return ApiError::new(
                ErrorCode::Unavailable,
                domain,
                "UPSTREAM_UNAVAILABLE",
                format!("{domain}: {cause}"),
            );
        }
        UpstreamError::Malformed(what) => {
            return ApiError::new(
                ErrorCode::Internal,
                domain,
                "UPSTREAM_MALFORMED_RESPONSE",
                format!("{domain}: {what}"),
            );
        }
        UpstreamError::Overloaded => {
            let mut error = ApiError::new(
                ErrorCode::ResourceExhausted,
                crate::error::GATEWAY_DOMAIN,
                "MEMORY_BUDGET_EXHAUSTED",
                format!("{domain}: the gateway has no memory for this answer now: retry"),
            );
            error.retry_after = Some(std::time::Duration::from_secs(1));
            return error;
        }
        UpstreamError::CircuitOpen(wait) => {
            let mut error = ApiError::new(
                ErrorCode::Unavailable,
                domain,
                "VENDOR_CIRCUIT_OPEN",
                format!("{domain} kept failing and is not called for a while: retry"),
            );
            error.retry_after = Some(wait.max(std::time::Duration::from_secs(1)));
            return error;
        }
        UpstreamError::TooLarge => {
            return ApiError::new(
                ErrorCode::ResourceExhausted,
                domain,
                "UPSTREAM_RESPONSE_TOO_LARGE",
                format!("{domain}: response larger than {} bytes", http::MAX_BODY_BYTES),
            );
        }
    };
    let retry_after = reply.retry_after;
    let mut error = refused(domain, Refusal::read(&reply), classify);
    error.retry_after = retry_after;
    error
}

/// The caller's error for a refusal the vendor made.
pub fn refused(domain: &'static str, refusal: Refusal, classify: Classify) -> ApiError {
    let (code, known_reason) = match classify(&refusal) {
        Some((code, reason)) => (code, Some(reason)),
        None => (code_for_http(refusal.http_status), None),
    };
    let reason = refusal
        .kind
        .clone()
        .or(known_reason.map(str::to_owned))
        .unwrap_or_else(|| format!("HTTP_{}", refusal.http_status));

    let mut text = format!("{domain}: {reason}");
    if let Some(code) = refusal.code {
        text.push_str(&format!(" ({code})"));
    }
    if let Some(message) = &refusal.message {
        text.push_str(": ");
        text.push_str(message);
    }
    let mut error = ApiError::new(code, domain, reason, text)
        .with_metadata("http_status", refusal.http_status.to_string());
    if let Some(code) = refusal.code {
        error = error.with_metadata("code", code.to_string());
    }
    if let Some(kind) = refusal.kind {
        error = error.with_metadata("type", kind);
    }
    if let Some(message) = refusal.message {
        error = error.with_metadata("message", message);
    }
    error
}

/// The design's default HTTP → gRPC mapping, for refusals no vendor table knows.
fn code_for_http(status: u16) -> ErrorCode {
    match status {
        400 => ErrorCode::InvalidArgument,
        401 => ErrorCode::Unauthenticated,
        403 => ErrorCode::PermissionDenied,
        404 => ErrorCode::NotFound,
        409 => ErrorCode::Aborted,
        413 | 429 => ErrorCode::ResourceExhausted,
        423 => ErrorCode::FailedPrecondition,
        501 => ErrorCode::Unimplemented,
        500..=599 => ErrorCode::Unavailable,
        _ => ErrorCode::FailedPrecondition,
    }
}

/// Whether `s` can be an `ErrorInfo.reason`: `[A-Z][A-Z0-9_]*[A-Z0-9]`, at most 63.
fn is_reason(s: &str) -> bool {
    let bytes = s.as_bytes();
    (2..=63).contains(&bytes.len())
        && bytes[0].is_ascii_uppercase()
        && bytes.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
        && bytes[bytes.len() - 1] != b'_'
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::http::StatusCode;

    fn reply(status: u16, body: &str) -> UpstreamError {
        UpstreamError::Status(VendorReply {
            status: StatusCode::from_u16(status).unwrap(),
            body: body.to_owned().into(),
            retry_after: Some(std::time::Duration::from_secs(7)),
        })
    }

    #[test]
    fn vendor_type_code_and_message_are_kept() {
        let e = api_error(
            "ableid",
            reply(
                400,
                r#"{"statusCode":10101,"type":"FACE_SESSION_EXPIRED","data":null,"message":"Сессия истекла"}"#,
            ),
            |_| Some((ErrorCode::FailedPrecondition, "IGNORED_WHEN_TYPE_PRESENT")),
        );
        assert_eq!(e.code, ErrorCode::FailedPrecondition);
        assert_eq!(e.reason, "FACE_SESSION_EXPIRED");
        assert_eq!(e.metadata["code"], "10101");
        assert_eq!(e.metadata["http_status"], "400");
        assert_eq!(e.metadata["message"], "Сессия истекла");
        assert_eq!(e.retry_after, Some(std::time::Duration::from_secs(7)));
        assert_eq!(e.message, "ableid: FACE_SESSION_EXPIRED (10101): Сессия истекла");
    }

    #[test]
    fn unknown_bodies_fall_back_to_the_http_status() {
        let e = api_error("baf", reply(503, "<html>busy</html>"), |_| None);
        assert_eq!((e.code, e.reason.as_str()), (ErrorCode::Unavailable, "HTTP_503"));
        assert!(!e.metadata.contains_key("message"));
        let e = api_error("baf", reply(404, "Validation Request abc not found"), |_| None);
        assert_eq!(e.code, ErrorCode::NotFound);
        assert_eq!(e.metadata["message"], "Validation Request abc not found");
        let e = api_error("baf", reply(400, r#"{"code":"120037","message":"All attempts used"}"#), |r| {
            (r.code == Some(120037)).then_some((ErrorCode::FailedPrecondition, "ALL_ATTEMPTS_USED"))
        });
        assert_eq!((e.code, e.reason.as_str()), (ErrorCode::FailedPrecondition, "ALL_ATTEMPTS_USED"));
    }

    #[test]
    fn transport_failures_have_their_own_reasons() {
        let e = api_error("b2core", UpstreamError::Timeout, |_| None);
        assert_eq!((e.code, e.reason.as_str()), (ErrorCode::DeadlineExceeded, "UPSTREAM_TIMEOUT"));
        let e = api_error("b2core", UpstreamError::Unreachable("refused".into()), |_| None);
        assert_eq!(e.code, ErrorCode::Unavailable);
        let e = api_error("b2core", UpstreamError::Malformed("x".into()), |_| None);
        assert_eq!(e.reason, "UPSTREAM_MALFORMED_RESPONSE");
    }
}
