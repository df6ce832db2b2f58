//! The embedded page (the `validationLink`) and what its buttons and shortcuts answer.

use axum::response::Response;
use http::StatusCode;
use url::Url;

use super::state::{PageView, status_name};
use crate::html::{self, escape};

const TITLE: &str = "BAF verification";

/// The page the end user opens; `pass` and `fail` are where its buttons post.
pub(super) fn embedded(
    id: &str,
    view: Option<PageView>,
    max_attempts: u32,
    pass: &Url,
    fail: &Url,
) -> Response {
    let Some(view) = view else {
        return unknown_request();
    };
    let facts = format!(
        "<dl><dt>Applicant</dt><dd><code>{}</code></dd><dt>Status</dt><dd>{} ({})</dd>\
         <dt>Attempts used</dt><dd>{} of {max_attempts}</dd></dl>",
        escape(id),
        status_name(view.status),
        view.status,
        view.attempts_used,
    );
    if view.completed {
        return html::page(StatusCode::OK, TITLE, &format!("{facts}<p>This verification is closed.</p>"));
    }
    let body = format!(
        "<p>This page stands in for BAF's liveness check. Passing registers the sandbox face \
         and records an attempt with images and videos; failing uses up one attempt.</p>{facts}{}{}",
        html::form(pass.as_str(), "", "Pass", "ok"),
        html::form(fail.as_str(), "", "Fail", "bad"),
    );
    html::page(StatusCode::OK, TITLE, &body)
}

/// An attempt recorded, for an applicant without a `callbackUrl` to go back to.
pub(super) fn recorded(attempt_id: i64, status: i64) -> Response {
    html::notice(
        StatusCode::OK,
        TITLE,
        &format!("Done: attempt {attempt_id}, applicant status {}.", status_name(status)),
    )
}

/// The verification is closed: no more attempts.
pub(super) fn closed(status: i64) -> Response {
    html::notice(
        StatusCode::CONFLICT,
        TITLE,
        &format!("This verification is already closed: {}.", status_name(status)),
    )
}

pub(super) fn unknown_request() -> Response {
    html::notice(StatusCode::NOT_FOUND, TITLE, "No such verification request.")
}

pub(super) fn unknown_link() -> Response {
    html::notice(StatusCode::NOT_FOUND, TITLE, "No such link.")
}

/// A POST to the validation link without `action=pass` or `action=fail`.
pub(super) fn unknown_action() -> Response {
    html::notice(StatusCode::BAD_REQUEST, TITLE, "Send the form field action=pass or action=fail.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baf::state::{FAILED, PENDING};

    async fn text(response: Response) -> (StatusCode, String) {
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn an_open_request_offers_pass_and_fail() {
        let pass = Url::parse("http://h/sandbox/baf/embedded/a/pass").unwrap();
        let fail = Url::parse("http://h/sandbox/baf/embedded/a/fail").unwrap();
        let view = PageView { completed: false, status: PENDING, attempts_used: 1 };
        let (status, page) = text(embedded("a<b", Some(view), 3, &pass, &fail)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(&format!("action=\"{pass}\"")) && page.contains(&format!("action=\"{fail}\"")));
        assert!(page.contains("1 of 3") && page.contains("Pending (0)"), "{page}");
        assert!(page.contains("a&lt;b"), "escaped: {page}");

        let closed_view = PageView { completed: true, status: FAILED, attempts_used: 3 };
        let (status, page) = text(embedded("a", Some(closed_view), 3, &pass, &fail)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("closed") && !page.contains("<form"), "{page}");
        assert_eq!(embedded("a", None, 3, &pass, &fail).status(), StatusCode::NOT_FOUND);
    }
}
