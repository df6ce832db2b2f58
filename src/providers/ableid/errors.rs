//! AbleID's error codes (upstreams.md), their names, and what they mean to a caller.

use crate::error::ErrorCode as Code;
use crate::upstream::Refusal;

/// AbleID's error codes, their names, and what they mean to a caller.
const ERRORS: &[(i64, &str, Code)] = &[
    (10100, "FACE_LIMIT_HAS_BEEN_REACHED", Code::ResourceExhausted),
    (10101, "FACE_SESSION_EXPIRED", Code::FailedPrecondition),
    (10102, "FACE_INVALID_URL", Code::InvalidArgument),
    (10103, "FACE_INCORRECT_PINFL", Code::InvalidArgument),
    (10104, "FACE_INCORRECT_DOCUMENT", Code::InvalidArgument),
    (10105, "FACE_INCORRECT_PINFL_DATE", Code::InvalidArgument),
    (10200, "FACE_DATA_NOT_FOUND", Code::NotFound),
    (10202, "FACE_PROJECT_NOT_FOUND", Code::FailedPrecondition),
    (10203, "FACE_NOT_VALID", Code::FailedPrecondition),
    (10204, "FACE_PASSPORT_EXPIRED", Code::FailedPrecondition),
    (10205, "FACE_REGISTRATION_NOT_FOUND", Code::NotFound),
    (10301, "FACE_TRANSACTION_FAILED_VERIFICATION", Code::FailedPrecondition),
    (10302, "FACE_TRANSACTION_NOT_FOUND", Code::NotFound),
    (10500, "FACE_INTERNAL_ERROR", Code::Internal),
    (20000, "SERVICE_TEMPORARILY_UNAVAILABLE", Code::Unavailable),
    (20002, "ERROR_REQUEST_PROCESSING", Code::Internal),
    (20004, "EMPTY_DATA", Code::NotFound),
    (20005, "EMPTY_DATA_ADDRESS", Code::NotFound),
    (20201, "NO_MANDATORY_DATA_AVAILABLE", Code::FailedPrecondition),
    (20202, "INCORRECT_DATA_FORMAT", Code::InvalidArgument),
    (20423, "ONEID_DATA_LOCKED", Code::FailedPrecondition),
];

pub fn classify(refusal: &Refusal) -> Option<(Code, &'static str)> {
    ERRORS
        .iter()
        .find(|(code, name, _)| {
            refusal.code == Some(*code) || (refusal.code.is_none() && refusal.kind.as_deref() == Some(*name))
        })
        .map(|(_, name, grpc)| (*grpc, *name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_known_by_code_or_type() {
        let refusal = |code: Option<i64>, kind: Option<&str>| Refusal {
            http_status: 400,
            code,
            kind: kind.map(str::to_owned),
            message: None,
        };
        assert_eq!(
            classify(&refusal(Some(10101), None)),
            Some((Code::FailedPrecondition, "FACE_SESSION_EXPIRED"))
        );
        assert_eq!(
            classify(&refusal(None, Some("ONEID_DATA_LOCKED"))).map(|c| c.0),
            Some(Code::FailedPrecondition)
        );
        assert_eq!(classify(&refusal(Some(99999), None)), None);
    }
}
