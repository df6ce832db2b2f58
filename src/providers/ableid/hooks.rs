//! AbleID's event source: the HTTP receivers of its completion and data hooks.
//!
//! A hook is read under a size limit, authenticated on its attempt id (AbleID's `hash`),
//! turned into an event, committed, and only then acknowledged with 200; a failure to
//! commit answers 500 so AbleID retries. A duplicate is acknowledged and changes nothing.
//! A missing or wrong signature answers 401 and stores nothing.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;

use super::{Shared, VENDOR, mapping};
use crate::attempts::{AttemptKey, Effect, NewEvent, Outcome, event_id};
use crate::proto::attempts::{AttemptState, Completed, DataFailed, DataKind, Failed, attempt_event::Kind};
use crate::store::Appended;
use crate::upstream::json::{Obj, to_proto_struct};

/// Largest hook body: the photo hook carries a base64 JPEG.
const MAX_HOOK_BYTES: usize = 16 * 1024 * 1024;

/// The routes, to merge into the gateway's HTTP listener.
pub fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/hooks/ableid/complete", post(completion))
        .route("/hooks/ableid/{kind}", post(data))
        .layer(DefaultBodyLimit::max(MAX_HOOK_BYTES))
        .with_state(shared)
}

/// A hook's answer: a short JSON body for AbleID's logs.
fn answer(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], format!("{{\"message\":\"{message}\"}}"))
        .into_response()
}

/// The authenticated parts of an AbleID hook.
struct Hook {
    key: AttemptKey,
    body: Value,
    canonical: Vec<u8>,
}

/// Parses and authenticates a hook; the error is the status and message to answer.
fn authenticate(shared: &Shared, body: &[u8]) -> Result<Hook, (StatusCode, &'static str)> {
    let Some(ableid) = &shared.client else {
        return Err((StatusCode::SERVICE_UNAVAILABLE, "AbleID is not configured"));
    };
    let mut body: Value =
        serde_json::from_slice(body).map_err(|_| (StatusCode::BAD_REQUEST, "body is not JSON"))?;
    let data = Obj::of(&body).obj("data");
    let attempt_id = data.string("attemptId");
    let signature = data.opt_string("hash").or_else(|| data.opt_string("signature"));
    let (Some(signature), false) = (signature, attempt_id.is_empty()) else {
        return Err((StatusCode::UNAUTHORIZED, "missing data.attemptId or data.hash"));
    };
    if !ableid.verify_hook(&attempt_id, &signature) {
        tracing::warn!(attempt = %AttemptKey::new(VENDOR, &attempt_id), "hook with a wrong signature refused");
        return Err((StatusCode::UNAUTHORIZED, "wrong signature"));
    }
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

async fn store(shared: &Shared, hook: Hook, kind_name: &str, kind: Kind, effect: Effect) -> Response {
    let event = NewEvent {
        raw: hook.body.as_object().map(to_proto_struct),
        ..NewEvent::new(event_id(&hook.key, kind_name, &hook.canonical), kind, effect)
    };
    match shared.log.record(&hook.key, event).await {
        Ok(Appended::Stored(_)) => answer(StatusCode::OK, "stored"),
        Ok(Appended::Duplicate(_)) => answer(StatusCode::OK, "duplicate"),
        Ok(Appended::Refused(_) | Appended::MissingRecord) => {
            answer(StatusCode::NOT_FOUND, "the gateway did not start this attempt")
        }
        Err(e) => {
            tracing::error!(error = %e, attempt = %hook.key, "cannot store hook");
            answer(StatusCode::INTERNAL_SERVER_ERROR, "not stored, retry")
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

async fn completion(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let hook = match authenticate(&shared, &body) {
        Ok(hook) => hook,
        Err((status, message)) => return answer(status, message),
    };
    let (status_code, r#type, message) = envelope(&hook.body);
    let data = Obj::of(&hook.body).obj("data");
    let outcome = Outcome { code: status_code, r#type: r#type.clone(), message: message.clone() };
    let (name, kind, state) = if is_success(status_code, &r#type) {
        let completed = Completed {
            status_code,
            r#type,
            message,
            redirect: data.string("redirect"),
            transaction_id: data.string("transactionId"),
        };
        ("completed", Kind::Completed(completed), AttemptState::Succeeded)
    } else {
        ("failed", Kind::Failed(Failed { status_code, r#type, message }), AttemptState::Failed)
    };
    store(&shared, hook, name, kind, Effect::Settle(state, Some(outcome))).await
}

async fn data(State(shared): State<Arc<Shared>>, Path(kind): Path<String>, body: Bytes) -> Response {
    let data_kind = match kind.as_str() {
        "passport" => DataKind::Passport,
        "photo" => DataKind::Photo,
        "registration" => DataKind::Registration,
        "person" => DataKind::Person,
        _ => return answer(StatusCode::NOT_FOUND, "no such hook"),
    };
    let hook = match authenticate(&shared, &body) {
        Ok(hook) => hook,
        Err((status, message)) => return answer(status, message),
    };
    let (status_code, r#type, message) = envelope(&hook.body);
    if !is_success(status_code, &r#type) {
        let failed = DataFailed { data_kind: data_kind as i32, status_code, r#type, message };
        return store(&shared, hook, "data_failed", Kind::DataFailed(failed), Effect::Keep).await;
    }
    let payload = Obj::of(&hook.body).obj("data").obj("data");
    let event = match data_kind {
        DataKind::Passport => Kind::Passport(mapping::passport(payload)),
        DataKind::Registration => Kind::Registration(mapping::address(payload)),
        DataKind::Person => Kind::Person(mapping::person(payload)),
        DataKind::Photo | DataKind::Unspecified => match mapping::photo(payload) {
            Ok(photo) => Kind::Photo(photo),
            Err(_) => return answer(StatusCode::BAD_REQUEST, "data.data.photo is not base64"),
        },
    };
    store(&shared, hook, &kind, event, Effect::Keep).await
}
