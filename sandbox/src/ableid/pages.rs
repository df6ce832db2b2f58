//! The session page (the `fullUrl`) and what its buttons answer.

use axum::response::Response;
use http::StatusCode;
use url::Url;

use super::state::{NotEnded, Outcome, View};
use crate::html::{self, escape};

const TITLE: &str = "AbleID face check";

/// The page a person opens; `session_url` is its own address, the root of its forms.
pub(super) fn session(view: View, attempt_id: &str, session_url: &Url) -> Response {
    match view {
        View::Unknown => html::notice(StatusCode::NOT_FOUND, TITLE, "No such session."),
        View::Expired => html::notice(StatusCode::GONE, TITLE, "This session has expired. No hook is sent."),
        View::Finished(Outcome::Rejected(failure)) => html::notice(
            StatusCode::OK,
            TITLE,
            &format!("This session is finished: rejected ({} {}).", failure.code(), failure.kind()),
        ),
        View::Finished(_) => html::notice(StatusCode::OK, TITLE, "This session is finished: approved."),
        View::Open { foreign, seconds_left } => {
            let choice = "<select name=\"type\">\
                <option value=\"FACE_NOT_VALID\">FACE_NOT_VALID (10203)</option>\
                <option value=\"FACE_PASSPORT_EXPIRED\">FACE_PASSPORT_EXPIRED (10204)</option></select>";
            let body = format!(
                "<p>This page stands in for AbleID's liveness check. Choose how it ends: the \
                 completion hook goes to every hook of the session.</p>\
                 <dl><dt>Attempt</dt><dd><code>{}</code></dd><dt>Person</dt><dd>{}</dd>\
                 <dt>Expires in</dt><dd>{seconds_left} s</dd></dl>{}{}",
                escape(attempt_id),
                if foreign { "foreigner (document)" } else { "resident (PINFL)" },
                html::form(&format!("{session_url}/approve"), "", "Approve: the face matches", "ok"),
                html::form(&format!("{session_url}/reject"), choice, "Reject", "bad"),
            );
            html::page(StatusCode::OK, TITLE, &body)
        }
    }
}

/// Approve or reject answered: `result` is the hook's `type`.
pub(super) fn ended(result: &str) -> Response {
    html::notice(StatusCode::OK, TITLE, &format!("Done: {result}. The completion hook is on its way."))
}

/// Approve or reject refused.
pub(super) fn not_ended(why: NotEnded) -> Response {
    match why {
        NotEnded::Unknown => html::notice(StatusCode::NOT_FOUND, TITLE, "No such session."),
        NotEnded::Expired => html::notice(StatusCode::GONE, TITLE, "This session has expired."),
        NotEnded::AlreadyEnded => {
            html::notice(StatusCode::CONFLICT, TITLE, "This session is already finished.")
        }
    }
}

/// A reject form naming a failure a person cannot end a check with.
pub(super) fn unknown_rejection() -> Response {
    html::notice(
        StatusCode::BAD_REQUEST,
        "Unknown rejection",
        "type must be FACE_NOT_VALID (10203) or FACE_PASSPORT_EXPIRED (10204)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ableid::catalogue::Failure;

    async fn text(response: Response) -> (StatusCode, String) {
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn an_open_session_offers_approve_and_reject() {
        let url = Url::parse("http://127.0.0.1:9/sandbox/ableid/session/a<b").unwrap();
        let (status, page) =
            text(session(View::Open { foreign: false, seconds_left: 42 }, "a<b", &url)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(&format!("action=\"{url}/approve\"")), "{page}");
        assert!(page.contains(&format!("action=\"{url}/reject\"")), "{page}");
        assert!(page.contains("a&lt;b") && !page.contains("a<b"), "escaped: {page}");
        assert!(page.contains("42 s"));
    }

    #[tokio::test]
    async fn closed_sessions_say_why() {
        let url = Url::parse("http://h/s").unwrap();
        assert_eq!(session(View::Unknown, "x", &url).status(), StatusCode::NOT_FOUND);
        assert_eq!(session(View::Expired, "x", &url).status(), StatusCode::GONE);
        let (status, page) =
            text(session(View::Finished(Outcome::Rejected(Failure::PassportExpired)), "x", &url)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("10204 FACE_PASSPORT_EXPIRED"), "{page}");
        assert_eq!(not_ended(NotEnded::AlreadyEnded).status(), StatusCode::CONFLICT);
        assert_eq!(not_ended(NotEnded::Expired).status(), StatusCode::GONE);
    }
}
