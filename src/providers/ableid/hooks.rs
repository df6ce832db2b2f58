//! AbleID's event source: the HTTP receivers of its completion and data hooks.
//!
//! A hook is read under a size and nesting limit, authenticated on its attempt id
//! (AbleID's `hash`), turned into an event, committed, and only then acknowledged with
//! 200; a failure to commit answers 503 so AbleID retries. A redelivery is acknowledged
//! and changes nothing. A missing or wrong signature answers 401 and stores nothing.
//!
//! AbleID's signature is the same for every hook of an attempt, so it proves only that
//! the sender once saw one hook of that attempt. What a hook may claim is therefore
//! limited by what the gateway itself did (each refusal is a 4xx, a log line with the
//! attempt id, and nothing stored):
//! - a hook for an attempt the gateway never started is refused (404);
//! - a data hook is accepted only while a `Request*` call for that attempt and kind is
//!   outstanding, and uses it up (403 otherwise);
//! - the completion hook is accepted once per attempt: a later one with another body is a
//!   conflict (409), not a second result.

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;

use super::sessions::data_request;
use super::{DOMAIN, Shared, VENDOR, mapping};
use crate::attempts::limits::{MAX_HOOK_BYTES, check_json_depth};
use crate::attempts::{AttemptKey, Effect, NewEvent, NewMedia, Outcome, event_id};
use crate::proto::attempts::{AttemptState, Completed, DataFailed, DataKind, Failed, attempt_event::Kind};
use crate::store::Appended;
use crate::telemetry::traces;
use crate::upstream::budget::ReadError;
use crate::upstream::json::{Obj, to_proto_struct};
use tracing::Instrument;

/// The routes, to merge into the gateway's HTTP listener behind the hook guard.
pub fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/hooks/ableid/complete", post(|state, request| received(state, "complete".into(), request)))
        .route(
            "/hooks/ableid/{kind}",
            post(|state, Path(kind): Path<String>, request| received(state, kind, request)),
        )
        // Bodies are read under the hook limit and the memory budget (`received`), not by
        // axum.
        .layer(DefaultBodyLimit::disable())
        .with_state(shared)
}

/// A hook's answer: a short JSON body for AbleID's logs.
fn answer(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], format!("{{\"message\":\"{message}\"}}"))
        .into_response()
}

/// An answer that asks the sender to retry later.
fn retry_later(message: &str) -> Response {
    let mut response = answer(StatusCode::SERVICE_UNAVAILABLE, message);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    response
}

/// What became of a hook: the `outcome` it is counted under, and its answer.
type Handled = (&'static str, Response);

/// Reads a hook's body under the limits, handles it, and counts it in
/// `idv_hooks_total{vendor,kind,outcome}`.
async fn received(State(shared): State<Arc<Shared>>, kind: String, request: Request) -> Response {
    let span = tracing::info_span!(
        "hook",
        otel.name = "ableid hook",
        otel.kind = "server",
        idv.vendor = DOMAIN,
        idv.hook = %kind,
        idv.attempt_id = tracing::field::Empty,
        idv.outcome = tracing::field::Empty,
    );
    handle(shared, kind, request).instrument(span).await
}

async fn handle(shared: Arc<Shared>, kind: String, request: Request) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let (outcome, response) = match shared.budget.read(request.into_body(), declared, MAX_HOOK_BYTES).await {
        Err(ReadError::TooLarge) => ("too_large", answer(StatusCode::PAYLOAD_TOO_LARGE, "body too large")),
        Err(ReadError::Broken) => ("bad_request", answer(StatusCode::BAD_REQUEST, "body could not be read")),
        Err(ReadError::Exhausted) => {
            shared.metrics.overload("memory_budget");
            ("overloaded", retry_later("busy, retry"))
        }
        Ok((body, _held)) if kind == "complete" => completion(&shared, &body).await,
        Ok((body, _held)) => data(&shared, &kind, &body).await,
    };
    // Only known kinds become label values: the path is the sender's to choose.
    let label = match kind.as_str() {
        "complete" | "passport" | "photo" | "registration" | "person" => kind.as_str(),
        _ => "unknown",
    };
    shared.metrics.hook(DOMAIN, label, outcome);
    tracing::Span::current().record("idv.outcome", outcome);
    response
}

/// The authenticated parts of an AbleID hook.
struct Hook {
    key: AttemptKey,
    body: Value,
    canonical: Vec<u8>,
}

/// How a hook was refused: the outcome it is counted under, the status and the message.
type Refused = (&'static str, StatusCode, &'static str);

/// Parses and authenticates a hook; the error is how it was refused.
fn authenticate(shared: &Shared, body: &[u8]) -> Result<Hook, Refused> {
    let refuse = |outcome, status, message| (outcome, status, message);
    let Some(ableid) = &shared.client else {
        return Err(refuse("not_configured", StatusCode::SERVICE_UNAVAILABLE, "AbleID is not configured"));
    };
    // Checked on the raw bytes before parsing: a body nested deeper than the event log can
    // store and read back would be acknowledged and then make the attempt unreadable.
    check_json_depth(body)
        .map_err(|_| refuse("too_deep", StatusCode::PAYLOAD_TOO_LARGE, "body is nested too deep"))?;
    let mut body: Value = serde_json::from_slice(body)
        .map_err(|_| refuse("bad_request", StatusCode::BAD_REQUEST, "body is not JSON"))?;
    let data = Obj::of(&body).obj("data");
    let attempt_id = data.string("attemptId");
    let signature = data.opt_string("hash").or_else(|| data.opt_string("signature"));
    let (Some(signature), false) = (signature, attempt_id.is_empty()) else {
        return Err(refuse("unauthorized", StatusCode::UNAUTHORIZED, "missing data.attemptId or data.hash"));
    };
    if !ableid.verify_hook(&attempt_id, &signature) {
        tracing::info!(attempt = %AttemptKey::new(VENDOR, &attempt_id), "hook with a wrong signature refused");
        return Err(refuse("unauthorized", StatusCode::UNAUTHORIZED, "wrong signature"));
    }
    traces::attempt(&attempt_id);
    // The signature covers only the attempt id and is the same for every hook of the
    // attempt, so it is not kept: anyone who read it could forge that attempt's hooks.
    if let Some(data) = body.get_mut("data").and_then(Value::as_object_mut) {
        data.remove("hash");
        data.remove("signature");
    }
    // serde_json's maps are sorted, so re-serializing gives one form for equal bodies.
    let canonical = serde_json::to_vec(&body).unwrap_or_default();
    Ok(Hook { key: AttemptKey::new(VENDOR, attempt_id), body, canonical })
}

/// Commits a hook's event and answers.
async fn store(shared: &Shared, key: &AttemptKey, event: NewEvent) -> Handled {
    let kind = event.kind.field_name();
    match shared.log.record(key, event.clone()).await {
        Ok(Appended::Stored(_)) => ("stored", answer(StatusCode::OK, "stored")),
        Ok(Appended::Duplicate(existing))
            if existing.kind.as_ref() == Some(&event.kind) && existing.raw == event.raw =>
        {
            ("duplicate", answer(StatusCode::OK, "duplicate"))
        }
        Ok(Appended::Duplicate(_)) => {
            tracing::warn!(attempt = %key, kind, "a second, different result for the attempt was refused");
            ("conflict", answer(StatusCode::CONFLICT, "the attempt already has a result"))
        }
        Ok(Appended::Refused(_)) => {
            tracing::info!(attempt = %key, kind, "hook for an attempt the gateway did not start refused");
            ("unknown_attempt", answer(StatusCode::NOT_FOUND, "the gateway did not start this attempt"))
        }
        Ok(Appended::MissingRecord) => {
            tracing::info!(attempt = %key, kind, "data hook without an outstanding request refused");
            ("not_requested", answer(StatusCode::FORBIDDEN, "no outstanding request for this data"))
        }
        Err(e) => {
            tracing::error!(error = %e, attempt = %key, "cannot store hook");
            ("store_failed", retry_later("not stored, retry"))
        }
    }
}

/// AbleID's status envelope: code, type, message.
fn envelope(body: &Value) -> (i32, String, String) {
    let o = Obj::of(body);
    let code = o.opt_i64("statusCode").map_or(0, |c| c as i32);
    (code, o.string("type"), o.string("message"))
}

fn is_success(code: i32, kind: &str) -> bool {
    code == 200 || (code == 0 && kind == "SUCCESS")
}

async fn completion(shared: &Shared, body: &[u8]) -> Handled {
    let hook = match authenticate(shared, body) {
        Ok(hook) => hook,
        Err((outcome, status, message)) => return (outcome, answer(status, message)),
    };
    let (status_code, r#type, message) = envelope(&hook.body);
    let data = Obj::of(&hook.body).obj("data");
    let outcome = Outcome { code: status_code, r#type: r#type.clone(), message: message.clone() };
    let (kind, state) = if is_success(status_code, &r#type) {
        let completed = Completed {
            status_code,
            r#type,
            message,
            redirect: data.string("redirect"),
            transaction_id: data.string("transactionId"),
        };
        (Kind::Completed(completed), AttemptState::Succeeded)
    } else {
        (Kind::Failed(Failed { status_code, r#type, message }), AttemptState::Failed)
    };
    // One id for the attempt's result, whatever it says: a second completion is a
    // duplicate of the first, so it can never become a second result.
    let event = NewEvent {
        raw: hook.body.as_object().map(to_proto_struct),
        ..NewEvent::new(event_id(&hook.key, "result", b""), kind, Effect::Settle(state, Some(outcome)))
    };
    store(shared, &hook.key, event).await
}

async fn data(shared: &Shared, kind: &str, body: &[u8]) -> Handled {
    let data_kind = match kind {
        "passport" => DataKind::Passport,
        "photo" => DataKind::Photo,
        "registration" => DataKind::Registration,
        "person" => DataKind::Person,
        _ => return ("no_such_hook", answer(StatusCode::NOT_FOUND, "no such hook")),
    };
    let hook = match authenticate(shared, body) {
        Ok(hook) => hook,
        Err((outcome, status, message)) => return (outcome, answer(status, message)),
    };
    let (status_code, r#type, message) = envelope(&hook.body);
    let mut hook = hook;
    let mut media = Vec::new();
    let (name, event) = if is_success(status_code, &r#type) {
        let payload = Obj::of(&hook.body).obj("data").obj("data");
        let event = match data_kind {
            DataKind::Passport => Kind::Passport(mapping::passport(payload)),
            DataKind::Registration => Kind::Registration(mapping::address(payload)),
            DataKind::Person => Kind::Person(mapping::person(payload)),
            DataKind::Photo | DataKind::Unspecified => match mapping::photo(payload) {
                Ok(mut photo) => {
                    // The photo travels by reference: stored once, downloaded on demand,
                    // so the event stays small for every client.
                    let file =
                        NewMedia::new("photo.photo", "image/jpeg", std::mem::take(&mut photo.photo).into());
                    if let Some(inner) = hook.body.pointer_mut("/data/data/photo") {
                        *inner = Value::String(format!("media:{}", file.media.media_id));
                    }
                    media.push(file);
                    Kind::Photo(photo)
                }
                Err(_) => {
                    return ("bad_request", answer(StatusCode::BAD_REQUEST, "data.data.photo is not base64"));
                }
            },
        };
        (kind, event)
    } else {
        let failed = DataFailed { data_kind: data_kind as i32, status_code, r#type, message };
        ("data_failed", Kind::DataFailed(failed))
    };
    let event = NewEvent {
        raw: hook.body.as_object().map(to_proto_struct),
        consumes: Some(data_request(&hook.key, data_kind)),
        media,
        ..NewEvent::new(event_id(&hook.key, name, &hook.canonical), event, Effect::Keep)
    };
    store(shared, &hook.key, event).await
}
