//! BAF's error codes and documented messages, and what they mean to a caller.

use crate::error::ErrorCode as Code;
use crate::upstream::Refusal;

/// BAF's error codes (seeds and `upstreams.md`), their names, and what they mean to a
/// caller. Codes change between BAF versions; unknown ones keep their number and fall
/// back to the HTTP status.
const ERRORS: &[(i64, &str, Code)] = &[
    (120024, "APPLICANT_NOT_FOUND_BY_REFERENCE", Code::NotFound),
    (120025, "APPLICANT_NOT_COMPLETED", Code::FailedPrecondition),
    (120026, "INVALID_SORT_FIELD", Code::InvalidArgument),
    (120027, "SMS_SENDING_FAILED", Code::FailedPrecondition),
    (120028, "PHONE_REQUIRED_FOR_SMS", Code::InvalidArgument),
    (120029, "PLATFORM_GRAPHQL_ERROR", Code::Unavailable),
    (120030, "DVS_RESPONSE_ERROR", Code::Unavailable),
    (120032, "IMAGES_NOT_VIEWABLE", Code::FailedPrecondition),
    (120033, "NO_VIDEO", Code::NotFound),
    (120036, "APPLICANT_ALREADY_COMPLETED", Code::FailedPrecondition),
    (120037, "ALL_ATTEMPTS_USED", Code::FailedPrecondition),
    (120038, "FACE_IMAGE_EMPTY", Code::InvalidArgument),
    (120042, "FACE_IMAGE_REQUIRED", Code::InvalidArgument),
    (120043, "NO_VERIFIED_FACE", Code::FailedPrecondition),
    (120058, "NO_FACES_FOUND", Code::InvalidArgument),
    (120059, "SEVERAL_FACES_FOUND", Code::InvalidArgument),
    (150002, "APPLICANT_ALREADY_OPEN", Code::FailedPrecondition),
    (150006, "APPLICANT_NOT_REGISTERED", Code::FailedPrecondition),
];

/// Refusals seed 002 documents by message only, without a code.
const MESSAGES: &[(&str, &str, Code)] = &[
    ("Found faces don't belong to the applicant", "FACE_NOT_MATCHED", Code::FailedPrecondition),
    ("Face profiles not found", "FACE_PROFILES_NOT_FOUND", Code::NotFound),
    ("Request doesn't have a verified face", "NO_VERIFIED_FACE", Code::FailedPrecondition),
    ("Face image is required", "FACE_IMAGE_REQUIRED", Code::InvalidArgument),
    ("was already completed", "APPLICANT_ALREADY_COMPLETED", Code::FailedPrecondition),
    ("All available attempts were used", "ALL_ATTEMPTS_USED", Code::FailedPrecondition),
];

pub fn classify(refusal: &Refusal) -> Option<(Code, &'static str)> {
    if let Some(code) = refusal.code {
        return ERRORS.iter().find(|(known, ..)| *known == code).map(|(_, name, grpc)| (*grpc, *name));
    }
    let message = refusal.message.as_deref()?;
    MESSAGES.iter().find(|(text, ..)| message.contains(text)).map(|(_, name, grpc)| (*grpc, *name))
}

/// Whether a refusal is BAF's "not completed yet" (an answer, not an error).
pub fn is_not_completed(refusal: &Refusal) -> bool {
    refusal.code == Some(120025)
        || (refusal.code.is_none()
            && refusal.http_status == 404
            && refusal.message.as_deref().is_some_and(|m| m.contains("not completed")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_code_less_messages_are_known() {
        let refusal = |code: Option<i64>, message: Option<&str>| Refusal {
            http_status: 400,
            code,
            kind: None,
            message: message.map(str::to_owned),
        };
        assert_eq!(
            classify(&refusal(Some(120037), None)),
            Some((Code::FailedPrecondition, "ALL_ATTEMPTS_USED"))
        );
        assert_eq!(
            classify(&refusal(None, Some("Found faces don't belong to the applicant"))).map(|c| c.1),
            Some("FACE_NOT_MATCHED")
        );
        assert_eq!(classify(&refusal(Some(1), None)), None);
        assert!(is_not_completed(&refusal(Some(120025), None)));
    }
}
