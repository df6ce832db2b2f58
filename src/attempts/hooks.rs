//! The HTTP receivers: AbleID's completion and data hooks, and the BAF browser return.
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
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::Value;

use super::store::Appended;
use super::tracker::Tracker;
use super::{AttemptKey, NewEvent, event_id};
use crate::proto::attempts::{Completed, DataFailed, DataKind, Failed, UserReturned, attempt_event::Kind};
use crate::vendor::ableid;
use crate::vendor::json::{Obj, to_proto_struct};

/// Largest hook body: the photo hook carries a base64 JPEG.
const MAX_HOOK_BYTES: usize = 16 * 1024 * 1024;

/// The routes, to merge into the gateway's HTTP listener.
pub fn routes(tracker: Arc<Tracker>) -> Router {
    Router::new()
        .route("/hooks/ableid/complete", post(completion))
        .route("/hooks/ableid/{kind}", post(data))
        .route("/return/baf/{token}", get(baf_return))
        .layer(DefaultBodyLimit::max(MAX_HOOK_BYTES))
        .with_state(tracker)
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
fn authenticate(tracker: &Tracker, body: &[u8]) -> Result<Hook, (StatusCode, &'static str)> {
    let Some(ableid) = &tracker.ableid else {
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
        tracing::warn!(attempt = %AttemptKey::ableid(&attempt_id), "hook with a wrong signature refused");
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
    Ok(Hook { key: AttemptKey::ableid(attempt_id), body, canonical })
}

async fn store(tracker: &Tracker, hook: Hook, kind_name: &str, kind: Kind) -> Response {
    let event = NewEvent {
        event_id: event_id(&hook.key, kind_name, &hook.canonical),
        kind,
        raw: hook.body.as_object().map(to_proto_struct),
    };
    match tracker.record(&hook.key, event).await {
        Ok(Appended::Stored(_)) => answer(StatusCode::OK, "stored"),
        Ok(Appended::Duplicate) => answer(StatusCode::OK, "duplicate"),
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

async fn completion(State(tracker): State<Arc<Tracker>>, body: Bytes) -> Response {
    let hook = match authenticate(&tracker, &body) {
        Ok(hook) => hook,
        Err((status, message)) => return answer(status, message),
    };
    let (status_code, r#type, message) = envelope(&hook.body);
    let data = Obj::of(&hook.body).obj("data");
    let (name, kind) = if is_success(status_code, &r#type) {
        let completed = Completed {
            status_code,
            r#type,
            message,
            redirect: data.string("redirect"),
            transaction_id: data.string("transactionId"),
        };
        ("completed", Kind::Completed(completed))
    } else {
        ("failed", Kind::Failed(Failed { status_code, r#type, message }))
    };
    store(&tracker, hook, name, kind).await
}

async fn data(State(tracker): State<Arc<Tracker>>, Path(kind): Path<String>, body: Bytes) -> Response {
    let data_kind = match kind.as_str() {
        "passport" => DataKind::Passport,
        "photo" => DataKind::Photo,
        "registration" => DataKind::Registration,
        "person" => DataKind::Person,
        _ => return answer(StatusCode::NOT_FOUND, "no such hook"),
    };
    let hook = match authenticate(&tracker, &body) {
        Ok(hook) => hook,
        Err((status, message)) => return answer(status, message),
    };
    let (status_code, r#type, message) = envelope(&hook.body);
    if !is_success(status_code, &r#type) {
        let failed = DataFailed { data_kind: data_kind as i32, status_code, r#type, message };
        return store(&tracker, hook, "data_failed", Kind::DataFailed(failed)).await;
    }
    let payload = Obj::of(&hook.body).obj("data").obj("data");
    let event = match data_kind {
        DataKind::Passport => Kind::Passport(ableid::passport(payload)),
        DataKind::Registration => Kind::Registration(ableid::address(payload)),
        DataKind::Person => Kind::Person(ableid::person(payload)),
        DataKind::Photo | DataKind::Unspecified => match ableid::photo(payload) {
            Ok(photo) => Kind::Photo(photo),
            Err(_) => return answer(StatusCode::BAD_REQUEST, "data.data.photo is not base64"),
        },
    };
    store(&tracker, hook, &kind, event).await
}

async fn baf_return(State(tracker): State<Arc<Tracker>>, Path(token): Path<String>) -> Response {
    let found = match tracker.store.baf_return(&token).await {
        Ok(Some(found)) => found,
        Ok(None) => return (StatusCode::NOT_FOUND, Html(page("This link is not valid."))).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read a BAF return");
            return (StatusCode::INTERNAL_SERVER_ERROR, Html(page("Please try again."))).into_response();
        }
    };
    // A reload of the same page between two changes is the same return.
    let position = tracker.store.attempt(&found.key).await.ok().flatten().map_or(0, |a| a.last_sequence);
    let event = NewEvent {
        event_id: event_id(&found.key, "user_returned", position.to_string().as_bytes()),
        kind: Kind::UserReturned(UserReturned { redirect_url: found.redirect_url.clone() }),
        raw: None,
    };
    if let Err(e) = tracker.record(&found.key, event).await {
        tracing::error!(error = %e, "cannot record a BAF return");
    }
    tracker.baf_touched(&found.key.id);
    if found.redirect_url.is_empty() {
        Html(page("Thank you. You can close this window.")).into_response()
    } else {
        Redirect::to(&found.redirect_url).into_response()
    }
}

fn page(text: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Verification</title></head>\
         <body><p>{text}</p></body></html>"
    )
}
