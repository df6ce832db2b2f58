//! AbleID's HTTP surface: the API under `/check`, the session page and its buttons.
//! Each handler reads its input (`request`), changes or reads the sessions (`state`),
//! renders the answer (`render`, `pages`) and hands hooks to the deliverer.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use http::StatusCode;

use super::catalogue::{Failure, SUCCESS_TYPE};
use super::state::{Outcome, Refusal};
use super::{AbleId, Data, pages, render, request};

/// AbleID's routes, to be nested at `/sandbox/ableid`.
pub(crate) fn router(ableid: Arc<AbleId>) -> Router {
    Router::new()
        .route("/check/start/second", post(start_resident))
        .route("/check/start/foreign", post(start_foreign))
        .route("/check/get_passport", post(get_passport))
        .route("/check/get_photo", post(get_photo))
        .route("/check/registration", post(get_registration))
        .route("/check/get_person", post(get_person))
        .route("/session/{attempt_id}", get(session_page))
        .route("/session/{attempt_id}/approve", post(approve))
        .route("/session/{attempt_id}/reject", post(reject))
        .with_state(ableid)
}

/// AbleID's refusals: HTTP 400 with its error body.
fn refused((failure, lang): Refusal) -> Response {
    (StatusCode::BAD_REQUEST, Json(render::refusal(failure, lang))).into_response()
}

async fn start_resident(State(ableid): State<Arc<AbleId>>, body: Bytes) -> Response {
    start(&ableid, &body, false)
}

async fn start_foreign(State(ableid): State<Arc<AbleId>>, body: Bytes) -> Response {
    start(&ableid, &body, true)
}

fn start(ableid: &AbleId, body: &[u8], foreign: bool) -> Response {
    let new = match request::start(body, foreign) {
        Ok(new) => new,
        Err(refusal) => return refused(refusal),
    };
    let (lang, hooks) = (new.lang, new.hooks.len());
    let attempt_id = ableid.sessions.start(new, Instant::now());
    let kind = if foreign { "foreign" } else { "resident" };
    tracing::info!(attempt_id, kind, hooks, "sandbox ableid: session started");
    let reply = render::started(&attempt_id, &ableid.session_url(&attempt_id), lang);
    (StatusCode::CREATED, Json(reply)).into_response()
}

async fn get_passport(State(ableid): State<Arc<AbleId>>, body: Bytes) -> Response {
    request_data(&ableid, &body, Data::Passport)
}

async fn get_photo(State(ableid): State<Arc<AbleId>>, body: Bytes) -> Response {
    request_data(&ableid, &body, Data::Photo)
}

async fn get_registration(State(ableid): State<Arc<AbleId>>, body: Bytes) -> Response {
    request_data(&ableid, &body, Data::Registration)
}

async fn get_person(State(ableid): State<Arc<AbleId>>, body: Bytes) -> Response {
    request_data(&ableid, &body, Data::Person)
}

/// Checks a data request, answers it, and sends the data to its data hook.
fn request_data(ableid: &AbleId, body: &[u8], which: Data) -> Response {
    let checked = request::data(body).and_then(|(request, credentials_ok)| {
        let (who, lang) = ableid.sessions.data(&request, credentials_ok, which, Instant::now())?;
        Ok((request.attempt_id, who, lang))
    });
    let (attempt_id, who, lang) = match checked {
        Ok(checked) => checked,
        Err(refusal) => return refused(refusal),
    };
    let photo = match which {
        Data::Photo => ableid.next_photo(),
        _ => std::borrow::Cow::Borrowed(&[][..]),
    };
    let hook = render::data_hook(which, &attempt_id, &ableid.hash(&attempt_id), lang, &who, &photo);
    ableid.hooks.spawn(ableid.data_hook_url(which).into(), &hook, which.hook(), &attempt_id);
    tracing::info!(attempt_id, data = which.hook(), "sandbox ableid: data requested");
    Json(render::accepted(lang)).into_response()
}

async fn session_page(State(ableid): State<Arc<AbleId>>, Path(attempt_id): Path<String>) -> Response {
    let view = ableid.sessions.view(&attempt_id, Instant::now());
    pages::session(view, &attempt_id, &ableid.session_url(&attempt_id))
}

async fn approve(State(ableid): State<Arc<AbleId>>, Path(attempt_id): Path<String>) -> Response {
    end(&ableid, &attempt_id, Outcome::Approved)
}

/// The reject button: form field `type` names the failure (`FACE_NOT_VALID` when empty).
async fn reject(State(ableid): State<Arc<AbleId>>, Path(attempt_id): Path<String>, body: Bytes) -> Response {
    let chosen = url::form_urlencoded::parse(&body).find(|(k, _)| k == "type").map(|(_, v)| v.into_owned());
    match Failure::rejection(chosen.as_deref().unwrap_or_default()) {
        Some(failure) => end(&ableid, &attempt_id, Outcome::Rejected(failure)),
        None => pages::unknown_rejection(),
    }
}

/// Ends the session and sends the completion hook to each of its hooks in the
/// background, so the page answers at once.
fn end(ableid: &AbleId, attempt_id: &str, outcome: Outcome) -> Response {
    let ended = match ableid.sessions.end(attempt_id, outcome, Instant::now()) {
        Ok(ended) => ended,
        Err(why) => return pages::not_ended(why),
    };
    let hook = render::completion_hook(
        outcome,
        attempt_id,
        &ableid.hash(attempt_id),
        &ended.transaction_id,
        &ableid.session_url(attempt_id),
        ended.lang,
    );
    for url in ended.hooks {
        ableid.hooks.spawn(url, &hook, "completion", attempt_id);
    }
    let result = match outcome {
        Outcome::Rejected(failure) => failure.kind(),
        Outcome::Approved | Outcome::Pending => SUCCESS_TYPE,
    };
    tracing::info!(attempt_id, result, "sandbox ableid: session finished");
    pages::ended(result)
}
