//! B2Core's refusals: an HTTP status and `{"message"}`.

use http::StatusCode;

/// A refused call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Error(pub(super) StatusCode, pub(super) String);

impl Error {
    pub(super) fn unauthorized() -> Self {
        Error(StatusCode::UNAUTHORIZED, "Unauthorized".into())
    }

    pub(super) fn not_found() -> Self {
        Error(StatusCode::NOT_FOUND, "Not found".into())
    }

    pub(super) fn bad_request(message: impl Into<String>) -> Self {
        Error(StatusCode::BAD_REQUEST, message.into())
    }

    /// A submission naming a wizard that was not handed out, or was used already.
    pub(super) fn unknown_procedure(uuid: &str) -> Self {
        Error::bad_request(format!("Verification procedure {uuid} not found"))
    }
}
