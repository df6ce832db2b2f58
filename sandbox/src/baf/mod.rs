//! Simulated 3DiVi BAF (seeds 001, 002, 003 — version 1.6.0, the superset): applicants,
//! their attempts, images and videos, face registration and authorization, document
//! verification, and the embedded page where the simulated end user passes or fails.
//!
//! Every API call needs `Authorization: Bearer sk_sandbox`; the embedded page does not
//! (a browser opens it). Errors are `{"code": <number>, "message"}` where BAF documents
//! a code, `{"message"}` otherwise, with the seeds' HTTP statuses.
//!
//! Document verification is deterministic: an image whose bytes contain the ASCII
//! marker `reject` fails, anything else passes.
//!
//! - `state`: the account's applicants and attempts, and the rules that move them.
//! - `request`: the JSON bodies and list queries of the API calls.
//! - `errors`: BAF's error catalogue.
//! - `render`: applicants, attempts, validation results and errors as JSON.
//! - `routes`: the HTTP surface: the API, the embedded page and its shortcuts.
//! - `pages`: the embedded page and what its buttons answer.

mod errors;
mod pages;
mod render;
mod request;
mod routes;
mod state;

use url::Url;

use crate::urls::with_segments;

pub(crate) use routes::router;

/// BAF's `documentType` for face-only registration and authorization.
const FACE_ONLY: i64 = 10;

/// The simulated BAF account and where its pages live.
#[derive(Debug)]
pub(crate) struct Baf {
    /// `{public}/sandbox/baf`: the root of the API (`/publicapi`) and of the pages.
    base: Url,
    account: state::Account,
}

impl Baf {
    /// An account whose pages live under `base` (`{public}/sandbox/baf`) and whose
    /// applicants have `max_attempts` attempts each (at least one).
    pub(crate) fn new(base: Url, max_attempts: u32) -> Self {
        Self { base, account: state::Account::new(max_attempts) }
    }

    /// The `validationLink`: the embedded page of applicant `id`.
    fn validation_link(&self, id: &str) -> Url {
        let mut url = with_segments(&self.base, &["embedded"]);
        url.query_pairs_mut().append_pair("requestId", id);
        url
    }

    /// The `shortValidationLink` of `code`.
    fn short_link(&self, code: &str) -> Url {
        with_segments(&self.base, &["s", code])
    }

    /// Where the embedded page's buttons post for applicant `id`: `pass` or `fail`.
    fn page_action(&self, id: &str, action: &str) -> Url {
        with_segments(&self.base, &["embedded", id, action])
    }

    /// The liveness reflection video of an attempt, as `content` links it.
    fn video_link(&self, id: &str, attempt_id: i64) -> Url {
        let attempt = attempt_id.to_string();
        with_segments(
            &self.base,
            &["publicapi", "api", "v2", "private", "Applicants", id, "Attempts", &attempt, "Video"],
        )
    }
}
