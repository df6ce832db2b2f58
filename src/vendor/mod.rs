//! The vendors' REST APIs. Each vendor module speaks the vendor's JSON on one side and the
//! gateway's proto types on the other, so no vendor wire format reaches the gRPC layer.
//!
//! - [`http`]: the one HTTP client path (deadlines, retries, limits, logging).
//! - [`json`]: lenient reading of vendor JSON (a wrong type is a default, not an error).
//! - [`ableid`], [`baf`], [`b2core`]: the operations, their errors, and their mapping.

pub mod ableid;
pub mod b2core;
pub mod baf;
pub mod http;
pub mod json;

use serde_json::Value;
use tonic::Code;

use crate::error::ApiError;
use http::{UpstreamError, VendorReply};

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
        let body = json::Obj::of(value.as_ref().unwrap_or(&Value::Null));
        let code = ["statusCode", "code", "errorCode", "error_code"].iter().find_map(|k| body.opt_i64(k));
        let kind = ["type", "errorType"].iter().filter_map(|k| body.opt_string(k)).find(|t| is_reason(t));
        let message = ["message", "errorMessage", "detail", "title", "error_description", "error"]
            .iter()
            .find_map(|k| body.opt_string(k))
            .or_else(|| {
                // A short plain-text body is the message; anything else (HTML pages) is not.
                let text = std::str::from_utf8(&reply.body).ok()?.trim();
                (value.is_none() && !text.is_empty() && text.len() <= 300 && !text.starts_with('<'))
                    .then(|| text.to_owned())
            })
            .map(|m| truncate(&m, 500));
        Self { http_status: reply.status.as_u16(), code, kind, message }
    }
}

/// Maps a vendor's refusal to a gRPC code and reason where the vendor's own tables say
/// more than the HTTP status; `None` falls back to the HTTP status.
pub type Classify = fn(&Refusal) -> Option<(Code, &'static str)>;

/// Turns any failed vendor call into the caller's error.
pub fn api_error(domain: &'static str, error: UpstreamError, classify: Classify) -> ApiError {
    let reply = match error {
        UpstreamError::Status(reply) => reply,
        UpstreamError::Timeout => {
            return ApiError::new(
                Code::DeadlineExceeded,
                domain,
                "UPSTREAM_TIMEOUT",
                format!("{domain}: no answer in time"),
            );
        }
        UpstreamError::Unreachable(cause) => {
            return ApiError::new(
                Code::Unavailable,
                domain,
                "UPSTREAM_UNAVAILABLE",
                format!("{domain}: {cause}"),
            );
        }
        UpstreamError::Malformed(what) => {
            return ApiError::new(
                Code::Internal,
                domain,
                "UPSTREAM_MALFORMED_RESPONSE",
                format!("{domain}: {what}"),
            );
        }
        UpstreamError::TooLarge => {
            return ApiError::new(
                Code::ResourceExhausted,
                domain,
                "UPSTREAM_RESPONSE_TOO_LARGE",
                format!("{domain}: response larger than {} bytes", http::MAX_BODY_BYTES),
            );
        }
    };
    let refusal = Refusal::read(&reply);
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
    error.retry_after = reply.retry_after;
    error
}

/// The design's default HTTP → gRPC mapping, for refusals no vendor table knows.
fn code_for_http(status: u16) -> Code {
    match status {
        400 => Code::InvalidArgument,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::NotFound,
        409 => Code::Aborted,
        413 | 429 => Code::ResourceExhausted,
        423 => Code::FailedPrecondition,
        501 => Code::Unimplemented,
        500..=599 => Code::Unavailable,
        _ => Code::FailedPrecondition,
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

/// The error of a vendor that has no configuration.
pub fn not_configured(domain: &'static str) -> ApiError {
    ApiError::new(
        Code::FailedPrecondition,
        crate::error::GATEWAY_DOMAIN,
        "UPSTREAM_NOT_CONFIGURED",
        format!("{domain} is not configured on this gateway"),
    )
    .with_metadata("vendor", domain)
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
            |_| Some((Code::FailedPrecondition, "IGNORED_WHEN_TYPE_PRESENT")),
        );
        assert_eq!(e.code, Code::FailedPrecondition);
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
        assert_eq!((e.code, e.reason.as_str()), (Code::Unavailable, "HTTP_503"));
        assert!(!e.metadata.contains_key("message"));
        let e = api_error("baf", reply(404, "Validation Request abc not found"), |_| None);
        assert_eq!(e.code, Code::NotFound);
        assert_eq!(e.metadata["message"], "Validation Request abc not found");
        let e = api_error("baf", reply(400, r#"{"code":"120037","message":"All attempts used"}"#), |r| {
            (r.code == Some(120037)).then_some((Code::FailedPrecondition, "ALL_ATTEMPTS_USED"))
        });
        assert_eq!((e.code, e.reason.as_str()), (Code::FailedPrecondition, "ALL_ATTEMPTS_USED"));
    }

    #[test]
    fn transport_failures_have_their_own_reasons() {
        let e = api_error("b2core", UpstreamError::Timeout, |_| None);
        assert_eq!((e.code, e.reason.as_str()), (Code::DeadlineExceeded, "UPSTREAM_TIMEOUT"));
        let e = api_error("b2core", UpstreamError::Unreachable("refused".into()), |_| None);
        assert_eq!(e.code, Code::Unavailable);
        let e = api_error("b2core", UpstreamError::Malformed("x".into()), |_| None);
        assert_eq!(e.reason, "UPSTREAM_MALFORMED_RESPONSE");
    }

    /// A random JSON value over the vendors' own keys, so mappings meet their fields with
    /// every type, nesting and absence.
    fn arbitrary(rng: &mut impl rand::Rng, depth: u32) -> Value {
        const KEYS: &[&str] = &[
            "applicantId",
            "status",
            "statusCode",
            "code",
            "type",
            "message",
            "data",
            "attemptId",
            "created",
            "createTime",
            "completed",
            "metadata",
            "items",
            "attempts",
            "successAttempt",
            "validationStatus",
            "validations",
            "liveness",
            "details",
            "score",
            "verdict",
            "dvsResult",
            "document",
            "documentVerificationResult",
            "verificationConfidence",
            "validationTests",
            "content",
            "faceImageBase64",
            "photo",
            "person",
            "registration",
            "permanentRegistration",
            "temporaryRegistrations",
            "currentLevel",
            "previousLevel",
            "previuosLevel",
            "userId",
            "reason",
            "passportType",
            "sex",
            "countryId",
            "liveStatus",
            "invalidDataErrors",
            "motionControl",
            "motionControlInfo",
            "lastValidationResponse",
            "total",
        ];
        match rng.random_range(0..if depth == 0 { 6 } else { 8 }) {
            0 => Value::Null,
            1 => Value::Bool(rng.random()),
            2 => Value::from(rng.random::<i64>()),
            3 => Value::from(rng.random::<f64>() * 1e20 - 5e19),
            4 => Value::from(
                ["", "x", "2023-11-17T04:40:31.509932", "aGk=", "not base64!", "ё"][rng.random_range(0..6)],
            ),
            5 => Value::from(u64::MAX),
            6 => Value::Array((0..rng.random_range(0..4)).map(|_| arbitrary(rng, depth - 1)).collect()),
            _ => Value::Object(
                (0..rng.random_range(0..8))
                    .map(|_| (KEYS[rng.random_range(0..KEYS.len())].to_owned(), arbitrary(rng, depth - 1)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn mappings_never_panic_on_arbitrary_json() {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..5_000 {
            let value = arbitrary(&mut rng, 4);
            let o = json::Obj::of(&value);
            let _ = baf::applicant(o);
            let _ = baf::attempt(o);
            let _ = baf::attempt_details(o);
            let _ = baf::validation_result(o);
            let _ = b2core::verification(o);
            let _ = ableid::passport(o);
            let _ = ableid::photo(o);
            let _ = ableid::address(o);
            let _ = ableid::person(o);
            let body = serde_json::to_vec(&value).unwrap();
            let _ = Refusal::read(&VendorReply {
                status: StatusCode::BAD_REQUEST,
                body: body.into(),
                retry_after: None,
            });
        }
    }
}
