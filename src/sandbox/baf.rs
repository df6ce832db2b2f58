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

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use chrono::{NaiveDate, NaiveDateTime, Utc};
use http::{HeaderValue, StatusCode, header};
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq;
use url::Url;

use super::pages::{self, escape};
use super::{BAF_API_KEY, fake, lock};
use crate::vendor::json::{Obj, decode_base64, encode_base64};

/// BAF's `documentType` for face-only registration and authorization.
const FACE_ONLY: i64 = 10;
/// Applicants kept at most; the oldest go first. Bounds a long-running sandbox's memory
/// (attempts keep their images).
const MAX_APPLICANTS: usize = 2_000;
/// Validation bodies carry up to three base64 images.
const MAX_BODY_BYTES: usize = 96 * 1024 * 1024;
/// `PageSize` when the caller gives none.
const DEFAULT_PAGE_SIZE: usize = 20;
/// The simulated BAF account every applicant belongs to.
const ACCOUNT_ID: &str = "5a9db0c5-0000-4000-8000-5a9db0c5a9d0";
/// The marker that makes a simulated document verification fail.
const REJECT_MARKER: &[u8] = b"reject";

/// The simulated BAF account.
pub(crate) struct Baf {
    /// `{public}/sandbox/baf`.
    base: Url,
    max_attempts: u32,
    store: Mutex<Store>,
}

impl std::fmt::Debug for Baf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Applicants hold names, phones and face images: only their number is printed.
        f.debug_struct("Baf")
            .field("base", &self.base.as_str())
            .field("max_attempts", &self.max_attempts)
            .field("applicants", &lock(&self.store).applicants.len())
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Store {
    applicants: HashMap<String, Applicant>,
    /// Short link code → applicant id.
    short_links: HashMap<String, String>,
    counters: Counters,
}

#[derive(Default)]
struct Counters {
    applicant: u64,
    attempt: i64,
    response: i64,
}

/// An applicant. Holds personal data: never logged or printed.
struct Applicant {
    id: String,
    /// Creation order, for "newest first" and eviction.
    seq: u64,
    short_code: String,
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    reference_id: Option<String>,
    metadata: Map<String, Value>,
    callback_url: Option<String>,
    send_sms: bool,
    verification_method: i64,
    status: i64,
    completed: bool,
    attempts_used: u32,
    opened_link_times: u32,
    created: NaiveDateTime,
    attempts: Vec<Attempt>,
    success_attempt_id: Option<i64>,
    /// The registered face that authorizations are compared with.
    face: Option<Vec<u8>>,
    last_response: Option<(i64, NaiveDateTime, i64)>,
    document_expired: Option<bool>,
}

/// Where an attempt came from; it decides which checks it shows and whether it has a
/// video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The embedded page: a liveness check with a video.
    Page,
    /// `Validation` with documentType 10 on an applicant not yet completed.
    Registration,
    /// `Validation` with documentType 10 on a completed applicant with a face.
    Authorization,
    /// `Validation` with another documentType.
    Document,
}

struct Attempt {
    id: i64,
    created: NaiveDateTime,
    source: Source,
    document_type: i64,
    passed: bool,
    face: Vec<u8>,
    front: Vec<u8>,
    back: Vec<u8>,
    document: Option<Value>,
}

impl Attempt {
    fn has_video(&self) -> bool {
        self.source == Source::Page
    }

    fn status(&self) -> i64 {
        if self.passed { 0 } else { 1 }
    }

    fn is_document(&self) -> bool {
        self.source == Source::Document
    }
}

/// A refused call.
#[derive(Debug, PartialEq)]
enum Error {
    /// 401 `{"message":"Unauthorized"}`.
    Unauthorized,
    /// An HTTP status with BAF's numeric code.
    Coded(StatusCode, i64, String),
    /// An HTTP status with only a message.
    Message(StatusCode, String),
}

impl Error {
    fn applicant_not_found(id: &str) -> Self {
        Error::Message(StatusCode::NOT_FOUND, format!("Validation Request {id} not found"))
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Error::Message(StatusCode::BAD_REQUEST, message.into())
    }

    fn coded(code: i64, message: impl Into<String>) -> Self {
        Error::Coded(StatusCode::BAD_REQUEST, code, message.into())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match self {
            Error::Unauthorized => {
                (StatusCode::UNAUTHORIZED, Json(json!({"message": "Unauthorized"}))).into_response()
            }
            Error::Coded(status, code, message) => {
                (status, Json(json!({"code": code, "message": message}))).into_response()
            }
            Error::Message(status, message) => (status, Json(json!({"message": message}))).into_response(),
        }
    }
}

type Reply = Result<Response, Error>;

/// BAF's routes, to be nested at `/sandbox/baf`.
pub(crate) fn router(state: Arc<Baf>) -> Router {
    const PRIVATE: &str = "/api/v2/private/Applicants";
    const PUBLIC: &str = "/api/v2/public/Applicants";
    let api = Router::new()
        .route(PRIVATE, post(create).get(list))
        .route(&format!("{PRIVATE}/{{id}}"), get(get_applicant).put(update).delete(delete))
        .route(&format!("{PRIVATE}/{{id}}/ReNotify"), post(renotify))
        .route(&format!("{PRIVATE}/{{id}}/Open"), post(open))
        .route(&format!("{PRIVATE}/{{id}}/UpdateMainPhoto"), post(update_main_photo))
        .route(&format!("{PRIVATE}/{{id}}/Attempts"), get(list_attempts))
        .route(&format!("{PRIVATE}/{{id}}/Attempts/{{attempt}}"), get(get_attempt))
        .route(&format!("{PRIVATE}/{{id}}/Attempts/{{attempt}}/Images"), get(images))
        .route(&format!("{PRIVATE}/{{id}}/Attempts/{{attempt}}/Video"), get(reflection_video))
        .route(&format!("{PRIVATE}/{{id}}/Attempts/{{attempt}}/LivenessActionVideo"), get(action_video))
        .route(&format!("{PUBLIC}/{{id}}/Completed"), get(completed))
        .route(&format!("{PUBLIC}/{{id}}/Complete"), post(complete))
        .route("/api/v2/public/Validation", post(validation))
        .layer(middleware::from_fn(require_key))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    Router::new()
        .nest("/publicapi", api)
        .route("/embedded", get(embedded))
        .route("/embedded/{id}/pass", post(pass))
        .route("/embedded/{id}/fail", post(fail))
        .route("/s/{code}", get(short_link))
        .with_state(state)
}

/// Refuses any API call without `Authorization: Bearer sk_sandbox`.
async fn require_key(request: Request, next: Next) -> Response {
    let key = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let allowed = key.is_some_and(|k| bool::from(k.as_bytes().ct_eq(BAF_API_KEY.as_bytes())));
    if allowed { next.run(request).await } else { Error::Unauthorized.into_response() }
}

fn json_reply(value: Value) -> Reply {
    Ok(Json(value).into_response())
}

fn empty_reply() -> Reply {
    Ok(StatusCode::OK.into_response())
}

async fn create(State(baf): State<Arc<Baf>>, body: Bytes) -> Reply {
    json_reply(baf.create(&body)?)
}

async fn list(State(baf): State<Arc<Baf>>, RawQuery(query): RawQuery) -> Reply {
    json_reply(baf.list(query.as_deref().unwrap_or(""))?)
}

async fn get_applicant(State(baf): State<Arc<Baf>>, Path(id): Path<String>) -> Reply {
    json_reply(baf.with_applicant(&id, |a| Ok(baf.applicant_json(a)))?)
}

async fn update(State(baf): State<Arc<Baf>>, Path(id): Path<String>, body: Bytes) -> Reply {
    baf.update(&id, &body)?;
    empty_reply()
}

async fn delete(State(baf): State<Arc<Baf>>, Path(id): Path<String>) -> Reply {
    baf.delete(&id)?;
    empty_reply()
}

async fn renotify(State(baf): State<Arc<Baf>>, Path(id): Path<String>) -> Reply {
    baf.with_applicant(&id, |a| {
        if a.send_sms { Ok(()) } else { Err(Error::coded(120027, "SMS sending disabled for applicant")) }
    })?;
    tracing::info!(applicant_id = id, "sandbox baf: validation link re-sent (no SMS really leaves)");
    empty_reply()
}

async fn open(State(baf): State<Arc<Baf>>, Path(id): Path<String>) -> Reply {
    baf.open(&id)?;
    empty_reply()
}

async fn update_main_photo(State(baf): State<Arc<Baf>>, Path(id): Path<String>, body: Bytes) -> Reply {
    baf.update_main_photo(&id, &body)?;
    empty_reply()
}

async fn list_attempts(State(baf): State<Arc<Baf>>, Path(id): Path<String>) -> Reply {
    let attempts =
        baf.with_applicant(&id, |a| Ok(a.attempts.iter().map(attempt_summary).collect::<Vec<_>>()))?;
    json_reply(json!({"attempts": attempts}))
}

async fn get_attempt(State(baf): State<Arc<Baf>>, Path((id, attempt)): Path<(String, String)>) -> Reply {
    json_reply(baf.with_attempt(&id, &attempt, |a, at| Ok(baf.attempt_details(a, at)))?)
}

async fn images(State(baf): State<Arc<Baf>>, Path((id, attempt)): Path<(String, String)>) -> Reply {
    json_reply(baf.with_attempt(&id, &attempt, |a, at| Ok(baf.content(a, at)))?)
}

async fn reflection_video(State(baf): State<Arc<Baf>>, Path((id, attempt)): Path<(String, String)>) -> Reply {
    baf.video(&id, &attempt, 0)
}

async fn action_video(State(baf): State<Arc<Baf>>, Path((id, attempt)): Path<(String, String)>) -> Reply {
    baf.video(&id, &attempt, 1)
}

async fn completed(State(baf): State<Arc<Baf>>, Path(id): Path<String>) -> Reply {
    baf.with_applicant(&id, |a| {
        if a.completed {
            Ok(())
        } else {
            Err(Error::Coded(
                StatusCode::NOT_FOUND,
                120025,
                format!("Validation request \"{id}\" is not completed yet."),
            ))
        }
    })?;
    empty_reply()
}

async fn complete(State(baf): State<Arc<Baf>>, Path(id): Path<String>) -> Reply {
    json_reply(baf.complete(&id)?)
}

async fn validation(State(baf): State<Arc<Baf>>, body: Bytes) -> Reply {
    json_reply(baf.validate(&body)?)
}

async fn embedded(State(baf): State<Arc<Baf>>, RawQuery(query): RawQuery) -> Response {
    let id = url::form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
        .find(|(k, _)| k.eq_ignore_ascii_case("requestId"))
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    baf.embedded_page(&id)
}

async fn pass(State(baf): State<Arc<Baf>>, Path(id): Path<String>) -> Response {
    baf.page_attempt(&id, true)
}

async fn fail(State(baf): State<Arc<Baf>>, Path(id): Path<String>) -> Response {
    baf.page_attempt(&id, false)
}

async fn short_link(State(baf): State<Arc<Baf>>, Path(code): Path<String>) -> Response {
    let id = lock(&baf.store).short_links.get(&code).cloned();
    match id.and_then(|id| HeaderValue::from_str(&baf.validation_link(&id)).ok()) {
        Some(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        None => pages::notice(StatusCode::NOT_FOUND, "BAF verification", "No such link."),
    }
}

/// A JSON object body; anything else is a 400 as ASP.NET model binding gives one.
fn object_body(body: &[u8]) -> Result<Value, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::bad_request("A non-empty request body is required."));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err(Error::bad_request("The request body must be a JSON object.")),
    }
}

/// An optional text field: absent, `null` and `""` all mean "none" (seed 003: an empty
/// string is read as null).
fn text(o: Obj<'_>, key: &str) -> Option<String> {
    o.opt_string(key).filter(|s| !s.is_empty())
}

fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// BAF's timestamps: no zone, microseconds (`2023-11-17T04:40:31.509932`).
fn stamp(time: NaiveDateTime) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

fn status_name(status: i64) -> &'static str {
    match status {
        0 => "Pending",
        1 => "Success",
        2 => "Failed",
        3 => "Canceled",
        5 => "FailedAttempt",
        _ => "Unknown",
    }
}

fn outcome_name(status: i64) -> &'static str {
    match status {
        0 => "Success",
        1 => "Fail",
        2 => "InvalidData",
        _ => "Error",
    }
}

/// The seeds show `"ID"` for type 1 and `null` for face-only attempts; other names are
/// guesses.
fn document_type_name(document_type: i64) -> Value {
    match document_type {
        FACE_ONLY => Value::Null,
        0 => json!("DL"),
        1 => json!("ID"),
        2 => json!("Passport"),
        _ => json!("Other"),
    }
}

fn has_marker(images: &[&[u8]]) -> bool {
    images.iter().any(|image| image.windows(REJECT_MARKER.len()).any(|w| w == REJECT_MARKER))
}

impl Applicant {
    /// Counts a verification attempt and moves the status as BAF does: success
    /// completes; a failure leaves the applicant open until the attempts run out.
    fn settle(&mut self, attempt_id: i64, passed: bool, max_attempts: u32) {
        self.attempts_used = self.attempts_used.saturating_add(1);
        if passed {
            self.status = 1;
            self.completed = true;
            self.success_attempt_id = Some(attempt_id);
        } else if self.attempts_used >= max_attempts {
            self.status = 2;
            self.completed = true;
        } else {
            self.status = 5;
        }
    }

    fn attempt(&self, id: i64) -> Option<&Attempt> {
        self.attempts.iter().find(|a| a.id == id)
    }
}

/// What a new attempt holds.
struct NewAttempt {
    source: Source,
    document_type: i64,
    passed: bool,
    face: Vec<u8>,
    front: Vec<u8>,
    back: Vec<u8>,
}

impl Counters {
    /// Records an attempt (and its validation response) on `applicant`.
    fn record(&mut self, applicant: &mut Applicant, new: NewAttempt) -> i64 {
        self.attempt += 1;
        self.response += 1;
        let created = now();
        let document = (new.source == Source::Document && new.passed).then(|| dvs_document(applicant));
        if new.source == Source::Document {
            applicant.document_expired = Some(false);
        }
        let attempt = Attempt {
            id: self.attempt,
            created,
            source: new.source,
            document_type: new.document_type,
            passed: new.passed,
            face: new.face,
            front: new.front,
            back: new.back,
            document,
        };
        applicant.last_response = Some((self.response, created, attempt.status()));
        applicant.attempts.push(attempt);
        self.attempt
    }
}

impl Baf {
    /// An account whose pages live under `base` (`{public}/sandbox/baf`) and whose
    /// applicants have `max_attempts` attempts each.
    pub(crate) fn new(base: Url, max_attempts: u32) -> Self {
        Self { base, max_attempts: max_attempts.max(1), store: Mutex::new(Store::default()) }
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    fn validation_link(&self, id: &str) -> String {
        let mut url = self.url(&["embedded"]);
        url.query_pairs_mut().append_pair("requestId", id);
        url.into()
    }

    /// Runs `f` on applicant `id`, or answers BAF's 404.
    fn with_applicant<T>(
        &self,
        id: &str,
        f: impl FnOnce(&Applicant) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let store = lock(&self.store);
        f(store.applicants.get(id).ok_or_else(|| Error::applicant_not_found(id))?)
    }

    fn with_applicant_mut<T>(
        &self,
        id: &str,
        f: impl FnOnce(&mut Applicant, &mut Counters) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut guard = lock(&self.store);
        let store = &mut *guard;
        let applicant = store.applicants.get_mut(id).ok_or_else(|| Error::applicant_not_found(id))?;
        f(applicant, &mut store.counters)
    }

    /// Runs `f` on attempt `attempt` of applicant `id`.
    fn with_attempt<T>(
        &self,
        id: &str,
        attempt: &str,
        f: impl FnOnce(&Applicant, &Attempt) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.with_applicant(id, |a| {
            let found = attempt.parse::<i64>().ok().and_then(|n| a.attempt(n));
            let at = found.ok_or_else(|| {
                Error::Message(StatusCode::NOT_FOUND, format!("Validation response {attempt} not found"))
            })?;
            f(a, at)
        })
    }

    /// POST /api/v2/private/Applicants.
    fn create(&self, body: &[u8]) -> Result<Value, Error> {
        let value = object_body(body)?;
        let o = Obj::of(&value);
        let phone = text(o, "phone");
        let send_sms = o.bool("sendSms");
        if send_sms && phone.is_none() {
            return Err(Error::coded(
                120028,
                "Wrong Applicant data: SendSms enabled. Phone number cannot be null.",
            ));
        }
        let status = o.opt_i64("status").unwrap_or(0);
        if !(0..=3).contains(&status) {
            return Err(Error::bad_request("status must be 0, 1, 2 or 3"));
        }
        let verification_method = o.opt_i64("verificationMethod").unwrap_or(1);
        if !(0..=1).contains(&verification_method) {
            return Err(Error::bad_request("verificationMethod must be 0 or 1"));
        }
        let metadata = o.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default();

        let mut guard = lock(&self.store);
        let store = &mut *guard;
        while store.applicants.len() >= MAX_APPLICANTS {
            let oldest =
                store.applicants.values().min_by_key(|a| a.seq).map(|a| (a.id.clone(), a.short_code.clone()));
            let Some((id, code)) = oldest else { break };
            store.applicants.remove(&id);
            store.short_links.remove(&code);
        }
        let id = loop {
            let id = fake::uuid_v4();
            if !store.applicants.contains_key(&id) {
                break id;
            }
        };
        let short_code = loop {
            let code = fake::nanoid(7);
            if !store.short_links.contains_key(&code) {
                break code;
            }
        };
        store.counters.applicant += 1;
        let applicant = Applicant {
            id: id.clone(),
            seq: store.counters.applicant,
            short_code: short_code.clone(),
            first_name: text(o, "firstName"),
            last_name: text(o, "lastName"),
            phone,
            email: text(o, "email"),
            reference_id: text(o, "referenceId"),
            metadata,
            callback_url: text(o, "callbackUrl"),
            send_sms,
            verification_method,
            status,
            completed: status != 0,
            attempts_used: 0,
            opened_link_times: 0,
            created: now(),
            attempts: Vec::new(),
            success_attempt_id: None,
            face: None,
            last_response: None,
            document_expired: None,
        };
        store.short_links.insert(short_code.clone(), id.clone());
        store.applicants.insert(id.clone(), applicant);
        drop(guard);
        tracing::info!(applicant_id = id, "sandbox baf: applicant created");
        Ok(json!({
            "applicantId": id,
            "validationLink": self.validation_link(&id),
            "shortValidationLink": self.url(&["s", &short_code]).as_str(),
        }))
    }

    /// PUT /api/v2/private/Applicants/{id}: only the fields present change.
    fn update(&self, id: &str, body: &[u8]) -> Result<(), Error> {
        let value = object_body(body)?;
        let o = Obj::of(&value);
        let present = |key: &str| value.as_object().is_some_and(|m| m.contains_key(key));
        self.with_applicant_mut(id, |a, _| {
            let phone = if present("phone") { text(o, "phone") } else { a.phone.clone() };
            if a.send_sms && phone.is_none() {
                return Err(Error::coded(
                    120028,
                    "Wrong Applicant data: SendSms enabled. Phone number cannot be null.",
                ));
            }
            a.phone = phone;
            for (key, slot) in [
                ("firstName", &mut a.first_name),
                ("lastName", &mut a.last_name),
                ("email", &mut a.email),
                ("referenceId", &mut a.reference_id),
                ("callbackUrl", &mut a.callback_url),
            ] {
                if present(key) {
                    *slot = text(o, key);
                }
            }
            if present("metadata") {
                a.metadata = o.get("metadata").and_then(Value::as_object).cloned().unwrap_or_default();
            }
            Ok(())
        })
    }

    /// DELETE /api/v2/private/Applicants/{id}.
    fn delete(&self, id: &str) -> Result<(), Error> {
        let mut store = lock(&self.store);
        let applicant = store.applicants.remove(id).ok_or_else(|| Error::applicant_not_found(id))?;
        store.short_links.remove(&applicant.short_code);
        Ok(())
    }

    /// POST /api/v2/public/Applicants/{id}/Complete: forces status 3, Canceled.
    fn complete(&self, id: &str) -> Result<Value, Error> {
        self.with_applicant_mut(id, |a, _| {
            a.status = 3;
            a.completed = true;
            Ok(json!({"callbackUrl": a.callback_url}))
        })
    }

    /// POST /api/v2/private/Applicants/{id}/Open: unblocks a Failed applicant.
    fn open(&self, id: &str) -> Result<(), Error> {
        self.with_applicant_mut(id, |a, _| {
            if a.status != 2 {
                return Err(Error::coded(150002, "Request already unblocked"));
            }
            a.status = 0;
            a.completed = false;
            a.attempts_used = 0;
            Ok(())
        })
    }

    /// POST /api/v2/private/Applicants/{id}/UpdateMainPhoto.
    fn update_main_photo(&self, id: &str, body: &[u8]) -> Result<(), Error> {
        let value = object_body(body)?;
        let face = face_image(Obj::of(&value).get("faceImageBase64"))?;
        self.with_applicant_mut(id, |a, _| {
            if a.face.is_none() {
                return Err(Error::coded(150006, "Applicant has not yet registered"));
            }
            a.face = Some(face);
            Ok(())
        })
    }

    /// GET /api/v2/private/Applicants.
    fn list(&self, query: &str) -> Result<Value, Error> {
        let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
            .collect();
        let param = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let page = match param("page") {
            None => 1,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|p| (1..=2_147_483_647).contains(p))
                .ok_or_else(|| Error::bad_request("Page must be between 1 and 2147483647"))?,
        };
        let page_size = match param("pagesize") {
            None => DEFAULT_PAGE_SIZE,
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|p| (1..=400).contains(p))
                .ok_or_else(|| Error::bad_request("PageSize must be between 1 and 400"))?,
        };
        let date = |name: &str, label: &str| -> Result<Option<NaiveDate>, Error> {
            param(name)
                .map(|v| {
                    NaiveDate::parse_from_str(v, "%d-%m-%Y")
                        .map_err(|_| Error::bad_request(format!("{label} must be a date as dd-mm-yyyy")))
                })
                .transpose()
        };
        let from = date("createdfrom", "CreatedFrom")?;
        let to = date("createdto", "CreatedTo")?;
        let compare = match param("sortfield") {
            None => None,
            Some(field) => Some(
                comparator(field).ok_or_else(|| Error::coded(120026, "No sorting by selected property"))?,
            ),
        };
        let descending = param("order").is_some_and(|o| o.eq_ignore_ascii_case("descending"));
        let filter = param("textfilter").map(str::to_lowercase);

        let store = lock(&self.store);
        let mut items: Vec<&Applicant> = store
            .applicants
            .values()
            .filter(|a| from.is_none_or(|from| a.created.date() >= from))
            .filter(|a| to.is_none_or(|to| a.created.date() <= to))
            .filter(|a| filter.as_deref().is_none_or(|f| matches_text(a, f)))
            .collect();
        // Newest first unless a sort field is given; ties keep that order.
        items.sort_by_key(|a| std::cmp::Reverse(a.seq));
        if let Some(compare) = compare {
            items.sort_by(|a, b| compare(a, b));
            if descending {
                items.reverse();
            }
        }
        let total = items.len();
        let skip = (page - 1).saturating_mul(page_size);
        let page_items: Vec<Value> =
            items.iter().skip(skip).take(page_size).map(|a| self.applicant_json(a)).collect();
        Ok(json!({
            "page": page,
            "pageSize": page_size,
            "total": total,
            "totalPages": total.div_ceil(page_size),
            "items": page_items,
        }))
    }

    /// GET .../Attempts/{attempt}/Video (`which` 0) or /LivenessActionVideo (1).
    fn video(&self, id: &str, attempt: &str, which: u64) -> Reply {
        let seed = self.with_attempt(id, attempt, |_, at| {
            if at.has_video() {
                Ok(u64::try_from(at.id).unwrap_or_default() * 2 + which)
            } else {
                Err(Error::coded(120033, "Validation response does not contain a video"))
            }
        })?;
        let bytes = fake::video(seed, fake::video_len(seed));
        Ok(([(header::CONTENT_TYPE, "video/mp4")], bytes).into_response())
    }

    /// POST /api/v2/public/Validation (seed 002).
    fn validate(&self, body: &[u8]) -> Result<Value, Error> {
        let value = object_body(body)?;
        let o = Obj::of(&value);
        let model = o.obj("model");
        let id = o.string("applicantId");
        let document_type = model
            .opt_i64("documentType")
            .ok_or_else(|| Error::bad_request("model.documentType is required"))?;
        let front = model.base64("frontImageBase64").map_err(Error::bad_request)?;
        let back = model.base64("backOrSecondImageBase64").map_err(Error::bad_request)?;
        let max = self.max_attempts;
        self.with_applicant_mut(&id, |a, counters| {
            let face = face_image(model.get("faceImageBase64"))?;
            let (source, passed) = if document_type == FACE_ONLY {
                if !a.completed {
                    (Source::Registration, true)
                } else {
                    match &a.face {
                        None => return Err(Error::coded(120043, "Request doesn't have a verified face")),
                        Some(registered) if *registered != face => {
                            return Err(Error::bad_request("Found faces don't belong to the applicant"));
                        }
                        Some(_) => (Source::Authorization, true),
                    }
                }
            } else {
                if a.attempts_used >= max {
                    return Err(Error::coded(
                        120037,
                        format!("All available attempts were used for requestId {id}"),
                    ));
                }
                if a.completed {
                    return Err(Error::coded(120036, format!("Request {id} was already completed")));
                }
                (Source::Document, !has_marker(&[&face, &front, &back]))
            };
            let registers = source != Source::Authorization && passed;
            let new = NewAttempt { source, document_type, passed, face: face.clone(), front, back };
            let attempt_id = counters.record(a, new);
            if source != Source::Authorization {
                a.settle(attempt_id, passed, max);
            }
            if registers {
                a.face = Some(face);
            }
            tracing::info!(applicant_id = id, attempt_id, ?source, passed, "sandbox baf: validation");
            let attempt = a.attempt(attempt_id).ok_or_else(|| Error::bad_request("attempt vanished"))?;
            Ok(validation_result(a, attempt, max))
        })
    }

    /// GET /embedded?requestId={id}: the page the end user opens.
    fn embedded_page(&self, id: &str) -> Response {
        let title = "BAF verification";
        let view = {
            let mut store = lock(&self.store);
            store.applicants.get_mut(id).map(|a| {
                a.opened_link_times = a.opened_link_times.saturating_add(1);
                (a.completed, a.status, a.attempts_used)
            })
        };
        let Some((completed, status, used)) = view else {
            return pages::notice(StatusCode::NOT_FOUND, title, "No such verification request.");
        };
        let facts = format!(
            "<dl><dt>Applicant</dt><dd><code>{}</code></dd><dt>Status</dt><dd>{} ({status})</dd>\
             <dt>Attempts used</dt><dd>{used} of {}</dd></dl>",
            escape(id),
            status_name(status),
            self.max_attempts
        );
        if completed {
            return pages::page(
                StatusCode::OK,
                title,
                &format!("{facts}<p>This verification is closed.</p>"),
            );
        }
        let pass_url = self.url(&["embedded", id, "pass"]);
        let fail_url = self.url(&["embedded", id, "fail"]);
        let body = format!(
            "<p>This page stands in for BAF's liveness check. Passing registers the sandbox face \
             and records an attempt with images and videos; failing uses up one attempt.</p>{facts}{}{}",
            pages::form(pass_url.as_str(), "", "Pass", "ok"),
            pages::form(fail_url.as_str(), "", "Fail", "bad"),
        );
        pages::page(StatusCode::OK, title, &body)
    }

    /// POST /embedded/{id}/pass or /fail: records a liveness attempt, then sends the
    /// browser to the applicant's `callbackUrl` (303) or shows a page.
    fn page_attempt(&self, id: &str, passed: bool) -> Response {
        let title = "BAF verification";
        let max = self.max_attempts;
        let result = {
            let mut guard = lock(&self.store);
            let store = &mut *guard;
            match store.applicants.get_mut(id) {
                None => None,
                Some(a) if a.completed => Some(Err(a.status)),
                Some(a) => {
                    let new = NewAttempt {
                        source: Source::Page,
                        document_type: FACE_ONLY,
                        passed,
                        face: fake::FACE_JPEG.to_vec(),
                        front: Vec::new(),
                        back: Vec::new(),
                    };
                    let attempt_id = store.counters.record(a, new);
                    a.settle(attempt_id, passed, max);
                    if passed {
                        a.face = Some(fake::FACE_JPEG.to_vec());
                    }
                    Some(Ok((a.callback_url.clone(), a.status, attempt_id)))
                }
            }
        };
        match result {
            None => pages::notice(StatusCode::NOT_FOUND, title, "No such verification request."),
            Some(Err(status)) => pages::notice(
                StatusCode::CONFLICT,
                title,
                &format!("This verification is already closed: {}.", status_name(status)),
            ),
            Some(Ok((callback, status, attempt_id))) => {
                tracing::info!(applicant_id = id, attempt_id, passed, status, "sandbox baf: page attempt");
                let location = callback.and_then(|url| HeaderValue::from_str(&url).ok());
                match location {
                    Some(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
                    None => pages::notice(
                        StatusCode::OK,
                        title,
                        &format!("Done: attempt {attempt_id}, applicant status {}.", status_name(status)),
                    ),
                }
            }
        }
    }

    /// An applicant as seed 003's GetApplicant example shows one.
    fn applicant_json(&self, a: &Applicant) -> Value {
        let success = a.success_attempt_id.and_then(|id| a.attempt(id));
        json!({
            "applicantId": a.id,
            "attemptsCount": a.attempts.len(),
            "lastAttemptId": a.attempts.last().map(|at| at.id),
            "successAttemptId": a.success_attempt_id,
            "successAttempt": success.map(attempt_summary),
            "firstName": a.first_name,
            "lastName": a.last_name,
            "phone": a.phone,
            "email": a.email,
            "referenceId": a.reference_id,
            "openedLinkTimes": a.opened_link_times,
            "created": stamp(a.created),
            "accountId": ACCOUNT_ID,
            "validationRequestSettings": settings(&a.id),
            "completed": a.completed,
            "status": a.status,
            "statusName": status_name(a.status),
            "attemptsUsed": a.attempts_used,
            "documentExpired": a.document_expired,
            "lastValidationResponse": a.last_response.map(|(id, created, status)| json!({
                "validationResponseId": id,
                "created": stamp(created),
                "responseStatus": status,
                "responseStatusName": outcome_name(status),
            })),
            "hasRiskEvents": false,
            "metadata": a.metadata,
            "callbackUrl": a.callback_url,
            "verificationMethod": a.verification_method,
        })
    }

    /// An attempt's images, as `.../Images` and the details' `content` return them.
    fn content(&self, a: &Applicant, at: &Attempt) -> Value {
        let image = |bytes: &[u8]| (!bytes.is_empty()).then(|| encode_base64(bytes));
        let video = at.has_video().then(|| {
            let attempt = at.id.to_string();
            self.url(&[
                "publicapi",
                "api",
                "v2",
                "private",
                "Applicants",
                &a.id,
                "Attempts",
                &attempt,
                "Video",
            ])
            .to_string()
        });
        json!({
            "livenessReflectionVideoLink": video,
            "backOrSecondImageBase64": image(&at.back),
            "faceImageBase64": image(&at.face),
            "frontImageBase64": image(&at.front),
            "trackString": at.has_video().then(|| format!("sandbox-track-{}", at.id)),
        })
    }

    /// Everything about an attempt, as seed 003's GetApplicantAttempt example.
    fn attempt_details(&self, a: &Applicant, at: &Attempt) -> Value {
        let document = at.is_document();
        let page = at.has_video();
        let passed = at.passed;
        let score = |good: f64, bad: f64| if passed { good } else { bad };
        let verification_confidence = if document && passed {
            json!({"firstName": 95, "familyName": 95, "fullName": 94, "dob": 97, "expires": 96, "id": 98})
        } else {
            json!({})
        };
        json!({
            "documentFailStatusReasons": if document && !passed { vec!["Document authenticity check failed"] } else { vec![] },
            "faceFailStatusReasons": if !document && !passed { vec!["Liveness check failed"] } else { vec![] },
            "invalidDataErrors": [],
            "dvsResult": {
                "requestId": format!("5a9db0c5-0000-4000-8000-{:012}", at.id),
                "documentType": at.document_type,
                "captureMethod": if page { "Camera" } else { "Upload" },
                "document": at.document,
                "parsedData": {
                    "isOcrSuccess": document && passed,
                    "isPdf417Success": false,
                    "isMrzSuccess": document && passed,
                    "isShuftiSuccess": false,
                    "isAntiSpoofingSuccess": passed,
                },
                "documentVerificationResult": {
                    "status": if document { at.status() } else { 0 },
                    "totalConfidence": if document { score(92.0, 31.0) } else { 0.0 },
                    "validationTests": if document { document_tests() } else { json!([]) },
                    "verificationConfidence": verification_confidence,
                },
                "faceVerificationResult": {
                    "antiSpoofing": score(98.0, 12.0),
                    "quality": 46,
                    "confidence": score(97.0, 8.0),
                    "livenessReflectionConfidence": if page { score(90.0, 15.0) } else { 0.0 },
                },
            },
            "validations": validations(at),
            "similarApplicants": {"ids": []},
            "mobilePhoneModel": "Sandbox Phone",
            "mobilePhoneOS": "SandboxOS 1.0",
            "captureMethod": if page { "Camera" } else { "Upload" },
            "requestIpAddress": "192.0.2.10",
            "created": stamp(at.created),
            "documentType": document_type_name(at.document_type),
            "documentTypeInt": at.document_type,
            "hasRiskEvents": false,
            "status": at.status(),
            "validationStatus": validation_status(at),
            "content": self.content(a, at),
            "applicantId": a.id,
            "attemptId": at.id,
        })
    }
}

/// The face image of a request: required, and base64.
fn face_image(value: Option<&Value>) -> Result<Vec<u8>, Error> {
    match value.and_then(Value::as_str).map(str::trim) {
        None | Some("") => Err(Error::coded(120042, "Face image is required")),
        Some(text) => match decode_base64(text) {
            Some(bytes) if !bytes.is_empty() => Ok(bytes),
            _ => Err(Error::coded(120058, "No faces found on image")),
        },
    }
}

fn matches_text(a: &Applicant, needle: &str) -> bool {
    [&a.first_name, &a.last_name, &a.email, &a.phone, &a.reference_id]
        .into_iter()
        .flatten()
        .any(|field| field.to_lowercase().contains(needle))
}

type Compare = fn(&Applicant, &Applicant) -> Ordering;

/// The applicant fields a list can be sorted by (case-insensitive, as ASP.NET binds).
fn comparator(field: &str) -> Option<Compare> {
    fn text(a: &Option<String>, b: &Option<String>) -> Ordering {
        a.as_deref().map(str::to_lowercase).cmp(&b.as_deref().map(str::to_lowercase))
    }
    let compare: Compare = match field.to_ascii_lowercase().as_str() {
        "applicantid" => |a, b| a.id.cmp(&b.id),
        "firstname" => |a, b| text(&a.first_name, &b.first_name),
        "lastname" => |a, b| text(&a.last_name, &b.last_name),
        "phone" => |a, b| text(&a.phone, &b.phone),
        "email" => |a, b| text(&a.email, &b.email),
        "referenceid" => |a, b| text(&a.reference_id, &b.reference_id),
        "created" => |a, b| a.created.cmp(&b.created).then(a.seq.cmp(&b.seq)),
        "status" => |a, b| a.status.cmp(&b.status),
        "statusname" => |a, b| status_name(a.status).cmp(status_name(b.status)),
        "completed" => |a, b| a.completed.cmp(&b.completed),
        "attemptsused" => |a, b| a.attempts_used.cmp(&b.attempts_used),
        "attemptscount" => |a, b| a.attempts.len().cmp(&b.attempts.len()),
        "openedlinktimes" => |a, b| a.opened_link_times.cmp(&b.opened_link_times),
        "verificationmethod" => |a, b| a.verification_method.cmp(&b.verification_method),
        _ => return None,
    };
    Some(compare)
}

/// An attempt as listed and as an applicant's `successAttempt`.
fn attempt_summary(at: &Attempt) -> Value {
    json!({
        "attemptId": at.id,
        "created": stamp(at.created),
        "documentType": document_type_name(at.document_type),
        "documentTypeInt": at.document_type,
        "hasRiskEvents": false,
        "status": at.status(),
        "validationStatus": validation_status(at),
        "validations": validations(at),
        "document": at.document,
    })
}

fn validation_status(at: &Attempt) -> Value {
    let document = at.is_document();
    let page = at.has_video();
    json!({
        "expired": if document { Some(false) } else { None },
        "documentIsValid": if document { Some(at.passed) } else { None },
        "faceIsValid": at.passed,
        "antiSpoofingIsValid": if page { Some(at.passed) } else { None },
        "profileAlreadyExists": null,
        "qualityIsValid": true,
        "livenessReflectionIsValid": if page { Some(at.passed) } else { None },
        "hasBeenBlackListed": false,
    })
}

fn validations(at: &Attempt) -> Value {
    let passed = at.passed;
    let check = |name: &str, verdict: bool, score: f64| json!({"verdict": verdict, "details": [{"name": name, "verdict": verdict, "score": score}]});
    let motion = at.has_video().then(|| {
        json!({"verdict": passed, "motionControlInfo": [
            {"pattern": "up", "result": true},
            {"pattern": "left", "result": passed},
        ]})
    });
    json!({
        "liveness": check("FaceLiveness", passed, if passed { 0.99 } else { 0.12 }),
        "quality": check("FaceQuality", true, 0.53),
        "matching": check("FaceMatching", passed, if passed { 0.97 } else { 0.08 }),
        "motionControl": motion,
    })
}

/// Seed 002's document validation tests.
fn document_tests() -> Value {
    json!([
        {"displayName": "AddressValidation", "name": "AddressValidation", "status": 2,
         "statusString": "Skipped", "reason": "Integration was skipped by flow"},
        {"displayName": "DMV", "name": "DMVValidation", "status": -1,
         "statusString": "Disabled", "reason": "Integration was turned off"},
        {"displayName": "IdentiFraud", "name": "IdentiFraudValidation", "status": -1,
         "statusString": "Disabled", "reason": "Integration was turned off"},
    ])
}

/// The document a passing verification "reads": made up, the same for an applicant.
fn dvs_document(a: &Applicant) -> Value {
    let digits: u64 = a.id.bytes().fold(7u64, |n, b| n.wrapping_mul(31).wrapping_add(u64::from(b)));
    json!({
        "privateName": "SANDBOX SAMPLE",
        "abbr3Country": "UZB",
        "abbrCountry": "UZ",
        "address": "1 NAMUNA KO'CHASI",
        "city": "TOSHKENT",
        "class": null,
        "country": "Uzbekistan",
        "dob": "1990-01-12",
        "expires": "2034-01-12",
        "eyes": null,
        "familyName": "SAMPLE",
        "firstName": "SANDBOX",
        "fullName": "SANDBOX SAMPLE",
        "gender": "MALE",
        "hair": null,
        "height": null,
        "id": format!("AD{:07}", digits % 10_000_000),
        "idType": "ID",
        "issued": "2024-01-13",
        "middleName": null,
        "postalBox": null,
        "state": null,
        "issuedBy": "SINOV TUMANI IIB",
        "template": "01",
        "weight": null,
        "zip": "100000",
    })
}

/// The applicant's settings, seed 003's example values.
fn settings(id: &str) -> Value {
    json!({
        "validationRequestId": id,
        "faceValidationPercent": 70,
        "documentValidationPercent": 70,
        "qualityScore": 30,
        "livenessReflectionScore": 30,
        "antiSpoofingPercent": 70,
        "verifyFace": false,
        "isOCREnabled": true,
        "isAddressCheckEnabled": true,
        "isFaceRequiredOnDocument": true,
        "isCrossMatchRequired": false,
        "isDMVEnabled": false,
        "isDMVPartialEnabled": false,
        "isIdentiFraudEnabled": false,
        "isIdentiFraudFullCaseEnabled": false,
        "isDmvOrIdentiFraudEnabled": false,
        "isDmvAndIdentiFraudEnabled": false,
        "isDmvOrIdentiFraudPartialEnabled": false,
        "isDmvAndIdentiFraudPartialEnabled": false,
        "isGenderCheckEnabled": false,
        "isAgeCheckEnabled": false,
        "ageYearsDifference": 10,
        "showConsentForm": false,
    })
}

/// The answer of POST /api/v2/public/Validation, as seed 002's examples.
fn validation_result(a: &Applicant, at: &Attempt, max_attempts: u32) -> Value {
    let document = at.is_document();
    let only_document = |value: Value| if document { value } else { Value::Null };
    json!({
        "applicantId": a.id,
        "attemptId": at.id,
        "documentType": at.document_type,
        "document": at.document,
        "attemptsCount": max_attempts,
        "attemptsLeft": max_attempts.saturating_sub(a.attempts_used),
        "status": at.status(),
        "validationStatus": {
            "expired": only_document(json!(false)),
            "documentIsValid": only_document(json!(at.passed)),
            "faceIsValid": at.passed,
            "antiSpoofingIsValid": null,
            "qualityIsValid": true,
        },
        "invalidDataErrors": [],
        "faceSuccess": at.passed,
        "documentSuccess": only_document(json!(at.passed)),
        "documentHasNotExpired": only_document(json!(true)),
        "documentValidationTests": if document { document_tests() } else { json!([]) },
        "callBackUrl": a.callback_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendor::baf as reader;

    fn baf() -> Baf {
        Baf::new(Url::parse("http://127.0.0.1:9/sandbox/baf").unwrap(), 3)
    }

    fn create(baf: &Baf, body: Value) -> String {
        let reply = baf.create(&serde_json::to_vec(&body).unwrap()).unwrap();
        reply["applicantId"].as_str().unwrap().to_owned()
    }

    fn validate(baf: &Baf, id: &str, face: &[u8], front: &[u8], document_type: i64) -> Result<Value, Error> {
        let mut model = json!({"faceImageBase64": encode_base64(face), "documentType": document_type});
        if !front.is_empty() {
            model["frontImageBase64"] = json!(encode_base64(front));
        }
        baf.validate(&serde_json::to_vec(&json!({"model": model, "applicantId": id})).unwrap())
    }

    fn applicant(baf: &Baf, id: &str) -> Value {
        baf.with_applicant(id, |a| Ok(baf.applicant_json(a))).unwrap()
    }

    fn code(error: Error) -> i64 {
        match error {
            Error::Coded(_, code, _) => code,
            other => panic!("no code in {other:?}"),
        }
    }

    #[test]
    fn created_applicants_read_as_seed_003_shows_them() {
        let baf = baf();
        let reply = baf
            .create(br#"{"firstName":"Sandbox","phone":"+998000000000","sendSms":true,"metadata":{"k":"v"}}"#)
            .unwrap();
        let id = reply["applicantId"].as_str().unwrap();
        assert_eq!(
            reply["validationLink"],
            format!("http://127.0.0.1:9/sandbox/baf/embedded?requestId={id}")
        );
        assert!(
            reply["shortValidationLink"].as_str().unwrap().starts_with("http://127.0.0.1:9/sandbox/baf/s/")
        );
        let json = applicant(&baf, id);
        let a = reader::applicant(Obj::of(&json));
        assert_eq!(a.status(), crate::proto::baf::ApplicantStatus::Pending);
        assert_eq!((a.first_name.as_str(), a.metadata["k"].as_str()), ("Sandbox", "v"));
        assert_eq!(a.verification_method(), crate::proto::baf::VerificationMethod::Manual);
        assert!(a.created.is_some() && a.validation_request_settings.is_some());
        assert!(!json["created"].as_str().unwrap().contains('Z'), "no zone, as BAF");
        assert_eq!(code(baf.create(br#"{"sendSms":true}"#).unwrap_err()), 120028);
    }

    #[test]
    fn failing_uses_up_the_attempts_and_open_resets_them() {
        let baf = baf();
        let id = create(&baf, json!({}));
        for expected in [5, 5, 2] {
            assert_eq!(baf.page_attempt(&id, false).status(), StatusCode::OK);
            assert_eq!(applicant(&baf, &id)["status"], expected);
        }
        assert_eq!(applicant(&baf, &id)["completed"], true);
        assert_eq!(baf.page_attempt(&id, true).status(), StatusCode::CONFLICT);
        assert_eq!(code(validate(&baf, &id, b"face", b"front", 2).unwrap_err()), 120037);
        baf.open(&id).unwrap();
        let json = applicant(&baf, &id);
        assert_eq!((json["status"].as_i64(), json["attemptsUsed"].as_i64()), (Some(0), Some(0)));
        assert_eq!(code(baf.open(&id).unwrap_err()), 150002);
    }

    #[test]
    fn passing_on_the_page_completes_and_redirects() {
        let baf = baf();
        let id = create(&baf, json!({"callbackUrl": "https://example.com/back?x=1"}));
        let response = baf.page_attempt(&id, true);
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(response.headers()[header::LOCATION], "https://example.com/back?x=1");
        let json = applicant(&baf, &id);
        assert_eq!((json["status"].as_i64(), json["completed"].as_bool()), (Some(1), Some(true)));
        let attempt_id = json["successAttemptId"].as_i64().unwrap();
        assert_eq!(json["successAttempt"]["attemptId"], attempt_id);
        let details =
            baf.with_attempt(&id, &attempt_id.to_string(), |a, at| Ok(baf.attempt_details(a, at))).unwrap();
        let details = reader::attempt_details(Obj::of(&details)).unwrap();
        assert_eq!(details.content.unwrap().face_image_base64, fake::FACE_JPEG);
        assert!(details.dvs_result.is_some());
    }

    #[test]
    fn face_registration_then_authorization() {
        let baf = baf();
        let id = create(&baf, json!({}));
        assert_eq!(code(validate(&baf, &id, b"", b"", FACE_ONLY).unwrap_err()), 120042);
        let registered = validate(&baf, &id, b"face-a", b"", FACE_ONLY).unwrap();
        assert_eq!(registered["status"], 0);
        assert_eq!(applicant(&baf, &id)["status"], 1);
        assert_eq!(validate(&baf, &id, b"face-a", b"", FACE_ONLY).unwrap()["status"], 0);
        assert_eq!(
            validate(&baf, &id, b"face-b", b"", FACE_ONLY).unwrap_err(),
            Error::bad_request("Found faces don't belong to the applicant")
        );
        baf.update_main_photo(
            &id,
            format!(r#"{{"faceImageBase64":"{}"}}"#, encode_base64(b"face-b")).as_bytes(),
        )
        .unwrap();
        assert_eq!(validate(&baf, &id, b"face-b", b"", FACE_ONLY).unwrap()["status"], 0);

        let other = create(&baf, json!({}));
        baf.complete(&other).unwrap();
        assert_eq!(code(validate(&baf, &other, b"face-a", b"", FACE_ONLY).unwrap_err()), 120043);
        let photo = format!(r#"{{"faceImageBase64":"{}"}}"#, encode_base64(b"x"));
        assert_eq!(code(baf.update_main_photo(&other, photo.as_bytes()).unwrap_err()), 150006);
    }

    #[test]
    fn document_verification_follows_the_marker() {
        let baf = baf();
        let id = create(&baf, json!({}));
        let failed = validate(&baf, &id, b"face", b"please reject me", 2).unwrap();
        assert_eq!((failed["status"].as_i64(), failed["attemptsLeft"].as_i64()), (Some(1), Some(2)));
        assert_eq!(applicant(&baf, &id)["status"], 5);
        let passed = validate(&baf, &id, b"face", b"front", 2).unwrap();
        let result = reader::validation_result(Obj::of(&passed));
        assert_eq!(result.status(), crate::proto::baf::ValidationOutcome::Success);
        assert_eq!(result.document.unwrap().first_name, "SANDBOX");
        assert_eq!(applicant(&baf, &id)["completed"], true);
        assert_eq!(code(validate(&baf, &id, b"face", b"front", 2).unwrap_err()), 120036);
        assert!(matches!(
            validate(&baf, "missing", b"face", b"", 2).unwrap_err(),
            Error::Message(StatusCode::NOT_FOUND, _)
        ));
    }

    #[test]
    fn lists_filter_sort_and_page() {
        let baf = baf();
        for name in ["Charlie", "alpha", "Bravo"] {
            create(&baf, json!({"firstName": name, "email": format!("{name}@sandbox.test")}));
        }
        let names = |query: &str| -> Vec<String> {
            let page = baf.list(query).unwrap();
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["firstName"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(names(""), ["Bravo", "alpha", "Charlie"], "newest first");
        assert_eq!(names("SortField=firstName"), ["alpha", "Bravo", "Charlie"]);
        assert_eq!(names("sortField=FirstName&Order=descending"), ["Charlie", "Bravo", "alpha"]);
        assert_eq!(names("TextFilter=ALPHA%40"), ["alpha"]);
        let page = baf.list("Page=2&PageSize=2").unwrap();
        assert_eq!((page["total"].as_i64(), page["totalPages"].as_i64()), (Some(3), Some(2)));
        assert_eq!(page["items"].as_array().unwrap().len(), 1);
        let today = Utc::now().format("%d-%m-%Y").to_string();
        assert_eq!(names(&format!("CreatedFrom={today}&CreatedTo={today}")).len(), 3);
        assert_eq!(names("CreatedTo=01-01-2000").len(), 0);
        assert_eq!(code(baf.list("SortField=shoeSize").unwrap_err()), 120026);
        assert!(baf.list("PageSize=401").is_err());
    }

    #[test]
    fn videos_exist_only_for_page_attempts() {
        let baf = baf();
        let id = create(&baf, json!({}));
        validate(&baf, &id, b"face", b"", FACE_ONLY).unwrap();
        let attempt = applicant(&baf, &id)["lastAttemptId"].to_string();
        assert_eq!(code(baf.video(&id, &attempt, 0).unwrap_err()), 120033);
        let id = create(&baf, json!({}));
        baf.page_attempt(&id, true);
        let attempt = applicant(&baf, &id)["lastAttemptId"].to_string();
        let response = baf.video(&id, &attempt, 0).unwrap();
        assert_eq!(response.headers()[header::CONTENT_TYPE], "video/mp4");
    }
}
