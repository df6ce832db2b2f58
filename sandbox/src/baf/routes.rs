//! BAF's HTTP surface: the API under `/publicapi` (behind the secret key), the embedded
//! page, the short links, and the pass and fail buttons with their curl shortcuts.
//! Each handler reads its input (`request`), changes or reads the account (`state`) and
//! renders the answer (`render`, `pages`).

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, RawQuery, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use subtle::ConstantTimeEq;

use super::errors::Error;
use super::state::PageRefusal;
use super::{Baf, pages, render, request};
use crate::{BAF_API_KEY, fake};

/// Validation bodies carry up to three base64 images.
const MAX_BODY_BYTES: usize = 96 * 1024 * 1024;

type Reply = Result<Response, Error>;

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, body) = render::error(&self);
        (status, Json(body)).into_response()
    }
}

/// BAF's routes, to be nested at `/sandbox/baf`.
pub(crate) fn router(baf: Arc<Baf>) -> Router {
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
        .route("/embedded", get(embedded).post(embedded_action))
        .route("/embedded/{id}/pass", post(pass))
        .route("/embedded/{id}/fail", post(fail))
        .route("/s/{code}", get(short_link))
        .route("/s/{code}/pass", post(short_pass))
        .route("/s/{code}/fail", post(short_fail))
        .with_state(baf)
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

fn json(value: serde_json::Value) -> Reply {
    Ok(Json(value).into_response())
}

/// A 200 with no body, as BAF answers updates and commands.
fn empty() -> Reply {
    Ok(StatusCode::OK.into_response())
}

async fn create(State(baf): State<Arc<Baf>>, body: Bytes) -> Reply {
    let created = baf.account.create(request::create(&body)?);
    tracing::info!(applicant_id = created.id, "sandbox baf: applicant created");
    json(render::created(&baf, &created.id, &created.short_code))
}

async fn list(State(baf): State<Arc<Baf>>, RawQuery(query): RawQuery) -> Reply {
    let query = request::list(query.as_deref().unwrap_or_default())?;
    json(baf.account.list(&query, |items, total| render::page(items, total, query.page, query.page_size)))
}

async fn get_applicant(State(baf): State<Arc<Baf>>, Path(id): Path<String>) -> Reply {
    json(baf.account.with_applicant(&id, |a| Ok(render::applicant(a)))?)
}

async fn update(State(baf): State<Arc<Baf>>, Path(id): Path<String>, body: Bytes) -> Reply {
    baf.account.update(&id, request::update(&body)?)?;
    empty()
}

async fn delete(State(baf): State<Arc<Baf>>, Path(id): Path<String>) -> Reply {
    baf.account.delete(&id)?;
    empty()
}

async fn renotify(State(baf): State<Arc<Baf>>, Path(id): Path<String>) -> Reply {
    baf.account.renotify(&id)?;
    tracing::info!(applicant_id = id, "sandbox baf: validation link re-sent (no SMS really leaves)");
    empty()
}

async fn open(State(baf): State<Arc<Baf>>, Path(id): Path<String>) -> Reply {
    baf.account.open(&id)?;
    empty()
}

async fn update_main_photo(State(baf): State<Arc<Baf>>, Path(id): Path<String>, body: Bytes) -> Reply {
    baf.account.update_main_photo(&id, request::main_photo(&body)?)?;
    empty()
}

async fn list_attempts(State(baf): State<Arc<Baf>>, Path(id): Path<String>) -> Reply {
    json(baf.account.with_applicant(&id, |a| Ok(render::attempts(a)))?)
}

async fn get_attempt(State(baf): State<Arc<Baf>>, Path((id, attempt)): Path<(String, String)>) -> Reply {
    json(baf.account.with_attempt(&id, &attempt, |a, at| Ok(render::attempt_details(&baf, a, at)))?)
}

async fn images(State(baf): State<Arc<Baf>>, Path((id, attempt)): Path<(String, String)>) -> Reply {
    json(baf.account.with_attempt(&id, &attempt, |a, at| Ok(render::content(&baf, a, at)))?)
}

async fn reflection_video(State(baf): State<Arc<Baf>>, Path((id, attempt)): Path<(String, String)>) -> Reply {
    video(&baf, &id, &attempt, 0)
}

async fn action_video(State(baf): State<Arc<Baf>>, Path((id, attempt)): Path<(String, String)>) -> Reply {
    video(&baf, &id, &attempt, 1)
}

/// A video download: `which` 0 is the liveness reflection video, 1 the action video.
fn video(baf: &Baf, id: &str, attempt: &str, which: u64) -> Reply {
    let seed = baf.account.video_seed(id, attempt, which)?;
    let bytes = fake::video(seed, fake::video_len(seed));
    Ok(([(header::CONTENT_TYPE, "video/mp4")], bytes).into_response())
}

async fn completed(State(baf): State<Arc<Baf>>, Path(id): Path<String>) -> Reply {
    baf.account.check_completed(&id)?;
    empty()
}

async fn complete(State(baf): State<Arc<Baf>>, Path(id): Path<String>) -> Reply {
    let callback_url = baf.account.complete(&id)?;
    json(render::completed(callback_url.as_deref()))
}

async fn validation(State(baf): State<Arc<Baf>>, body: Bytes) -> Reply {
    json(baf.account.validate(request::validation(&body)?, render::validation_result)?)
}

/// The `requestId` of the embedded page's query, in any case.
fn request_id(query: Option<&str>) -> String {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k.eq_ignore_ascii_case("requestId"))
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// GET /embedded?requestId={id}: the page the end user opens.
async fn embedded(State(baf): State<Arc<Baf>>, RawQuery(query): RawQuery) -> Response {
    let id = request_id(query.as_deref());
    let view = baf.account.open_page(&id);
    let (pass, fail) = (baf.page_action(&id, "pass"), baf.page_action(&id, "fail"));
    pages::embedded(&id, view, baf.account.max_attempts(), &pass, &fail)
}

/// POST /embedded?requestId={id} with form field `action=pass` or `action=fail`: the
/// shortcut `curl -X POST -d action=pass '<validationLink>'`.
async fn embedded_action(State(baf): State<Arc<Baf>>, RawQuery(query): RawQuery, body: Bytes) -> Response {
    let id = request_id(query.as_deref());
    let action = url::form_urlencoded::parse(&body).find(|(k, _)| k == "action").map(|(_, v)| v.into_owned());
    match action.as_deref().map(str::trim) {
        Some("pass") => page_attempt(&baf, &id, true),
        Some("fail") => page_attempt(&baf, &id, false),
        _ => pages::unknown_action(),
    }
}

async fn pass(State(baf): State<Arc<Baf>>, Path(id): Path<String>) -> Response {
    page_attempt(&baf, &id, true)
}

async fn fail(State(baf): State<Arc<Baf>>, Path(id): Path<String>) -> Response {
    page_attempt(&baf, &id, false)
}

/// GET /s/{code}: the short link sends the browser to the embedded page.
async fn short_link(State(baf): State<Arc<Baf>>, Path(code): Path<String>) -> Response {
    match baf.account.applicant_of(&code) {
        Some(id) => Redirect::to(baf.validation_link(&id).as_str()).into_response(),
        None => pages::unknown_link(),
    }
}

/// POST /s/{code}/pass: the shortcut `curl -X POST '<shortValidationLink>/pass'`.
async fn short_pass(State(baf): State<Arc<Baf>>, Path(code): Path<String>) -> Response {
    short_attempt(&baf, &code, true)
}

async fn short_fail(State(baf): State<Arc<Baf>>, Path(code): Path<String>) -> Response {
    short_attempt(&baf, &code, false)
}

fn short_attempt(baf: &Baf, code: &str, passed: bool) -> Response {
    match baf.account.applicant_of(code) {
        Some(id) => page_attempt(baf, &id, passed),
        None => pages::unknown_link(),
    }
}

/// Records a liveness attempt, then sends the browser to the applicant's `callbackUrl`
/// (303) or shows a page.
fn page_attempt(baf: &Baf, id: &str, passed: bool) -> Response {
    match baf.account.page_attempt(id, passed) {
        Err(PageRefusal::Unknown) => pages::unknown_request(),
        Err(PageRefusal::Closed(status)) => pages::closed(status),
        Ok(attempt) => {
            tracing::info!(
                applicant_id = id,
                attempt_id = attempt.attempt_id,
                passed,
                status = attempt.status,
                "sandbox baf: page attempt"
            );
            let back = attempt.callback_url.and_then(|url| HeaderValue::from_str(&url).ok());
            match back {
                Some(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
                None => pages::recorded(attempt.attempt_id, attempt.status),
            }
        }
    }
}
