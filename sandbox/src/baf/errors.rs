//! BAF's error catalogue (seeds 001–003, `upstreams.md`): the refusals the simulation
//! produces, with their HTTP statuses, numeric codes and messages.

use http::StatusCode;

/// A refused call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Error {
    /// 401 `{"message":"Unauthorized"}`.
    Unauthorized,
    /// An HTTP status with BAF's numeric code.
    Coded(StatusCode, i64, String),
    /// An HTTP status with only a message.
    Message(StatusCode, String),
}

impl Error {
    /// A 400 with BAF's numeric `code`.
    fn coded(code: i64, message: impl Into<String>) -> Self {
        Error::Coded(StatusCode::BAD_REQUEST, code, message.into())
    }

    /// A 400 with a message only, as ASP.NET model validation answers.
    pub(super) fn bad_request(message: impl Into<String>) -> Self {
        Error::Message(StatusCode::BAD_REQUEST, message.into())
    }

    pub(super) fn applicant_not_found(id: &str) -> Self {
        Error::Message(StatusCode::NOT_FOUND, format!("Validation Request {id} not found"))
    }

    pub(super) fn attempt_not_found(attempt: &str) -> Self {
        Error::Message(StatusCode::NOT_FOUND, format!("Validation response {attempt} not found"))
    }

    /// 120025, answered with 404.
    pub(super) fn not_completed(id: &str) -> Self {
        Error::Coded(
            StatusCode::NOT_FOUND,
            120025,
            format!("Validation request \"{id}\" is not completed yet."),
        )
    }

    pub(super) fn bad_sort_field() -> Self {
        Error::coded(120026, "No sorting by selected property")
    }

    pub(super) fn sms_disabled() -> Self {
        Error::coded(120027, "SMS sending disabled for applicant")
    }

    pub(super) fn phone_required() -> Self {
        Error::coded(120028, "Wrong Applicant data: SendSms enabled. Phone number cannot be null.")
    }

    pub(super) fn no_video() -> Self {
        Error::coded(120033, "Validation response does not contain a video")
    }

    pub(super) fn already_completed(id: &str) -> Self {
        Error::coded(120036, format!("Request {id} was already completed"))
    }

    pub(super) fn all_attempts_used(id: &str) -> Self {
        Error::coded(120037, format!("All available attempts were used for requestId {id}"))
    }

    pub(super) fn face_required() -> Self {
        Error::coded(120042, "Face image is required")
    }

    pub(super) fn no_verified_face() -> Self {
        Error::coded(120043, "Request doesn't have a verified face")
    }

    pub(super) fn no_faces() -> Self {
        Error::coded(120058, "No faces found on image")
    }

    pub(super) fn already_unblocked() -> Self {
        Error::coded(150002, "Request already unblocked")
    }

    pub(super) fn not_registered() -> Self {
        Error::coded(150006, "Applicant has not yet registered")
    }

    /// Seed 002: authorization found faces, none of them the applicant's.
    pub(super) fn faces_not_the_applicants() -> Self {
        Error::bad_request("Found faces don't belong to the applicant")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_are_the_documented_ones() {
        let coded = |e: Error| match e {
            Error::Coded(status, code, _) => (status.as_u16(), code),
            other => panic!("no code: {other:?}"),
        };
        assert_eq!(coded(Error::not_completed("x")), (404, 120025));
        for (error, code) in [
            (Error::bad_sort_field(), 120026),
            (Error::sms_disabled(), 120027),
            (Error::phone_required(), 120028),
            (Error::no_video(), 120033),
            (Error::already_completed("x"), 120036),
            (Error::all_attempts_used("x"), 120037),
            (Error::face_required(), 120042),
            (Error::no_verified_face(), 120043),
            (Error::no_faces(), 120058),
            (Error::already_unblocked(), 150002),
            (Error::not_registered(), 150006),
        ] {
            assert_eq!(coded(error), (400, code));
        }
        assert_eq!(
            Error::applicant_not_found("abc"),
            Error::Message(StatusCode::NOT_FOUND, "Validation Request abc not found".into())
        );
    }
}
