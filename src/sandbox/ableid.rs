//! Simulated AbleID (seed 000, `upstreams.md`): sessions for residents and foreigners,
//! the page the person opens, the completion hook to every session hook, and the four
//! data requests whose answers go to the project's static data hooks.
//!
//! As the real service: credentials travel in every JSON body, errors are HTTP 400
//! `{statusCode, type, data: null, message}` in the session's language, sessions live a
//! fixed time and send no hook when they expire, and hooks are signed only by `hash`
//! over the attempt id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use chrono::NaiveDate;
use http::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;
use url::Url;

use super::fake::{self, Identity};
use super::hooks::Deliverer;
use super::pages::{self, escape};
use super::{ABLEID_PROJECT_ID, ABLEID_SECRET, lock};
use crate::vendor::ableid::hook_signature;
use crate::vendor::json::{Obj, encode_base64};

/// AbleID's attempt ids are 21 characters (seed 000's example `3HQVkBm_zCZqKFbTWVrhf`).
const ATTEMPT_ID_LEN: usize = 21;
/// Sessions kept at most; the oldest go first. Bounds a long-running sandbox's memory.
const MAX_SESSIONS: usize = 10_000;
/// How long an expired session is remembered, so it answers "expired" rather than
/// "not found".
const KEEP_EXPIRED: Duration = Duration::from_secs(3600);

/// The simulated AbleID project and its sessions.
pub(crate) struct AbleId {
    /// `{public}/sandbox/ableid`: the API base and the root of session pages.
    base: Url,
    /// The project's static data hooks: `{data_hooks}/passport` etc.
    data_hooks: Url,
    ttl: Duration,
    hooks: Deliverer,
    secret: SecretString,
    sessions: Mutex<HashMap<String, Session>>,
}

impl std::fmt::Debug for AbleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Sessions hold PINFLs and documents: only their number is printed.
        f.debug_struct("AbleId")
            .field("base", &self.base.as_str())
            .field("ttl", &self.ttl)
            .field("sessions", &lock(&self.sessions).len())
            .finish_non_exhaustive()
    }
}

/// One session. Holds personal data: never logged or printed.
struct Session {
    transaction_id: String,
    subject: Subject,
    lang: Lang,
    hooks: Vec<String>,
    started: Instant,
    outcome: Outcome,
}

enum Subject {
    Resident { pinfl: String, birth_date: NaiveDate },
    Foreign { document: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Pending,
    Approved,
    Rejected(Failure),
}

/// The four data requests and the data hook each answers on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Data {
    Passport,
    Photo,
    Registration,
    Person,
}

impl Data {
    fn hook(self) -> &'static str {
        match self {
            Data::Passport => "passport",
            Data::Photo => "photo",
            Data::Registration => "registration",
            Data::Person => "person",
        }
    }
}

/// The session languages. `uz` is written in Cyrillic here and `oz` (o'zbekcha) in
/// Latin; the messages are approximations, as the brief allows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum Lang {
    #[default]
    Ru,
    En,
    Uz,
    Oz,
}

impl Lang {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "ru" => Some(Lang::Ru),
            "en" => Some(Lang::En),
            "uz" => Some(Lang::Uz),
            "oz" => Some(Lang::Oz),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::En => "en",
            Lang::Uz => "uz",
            Lang::Oz => "oz",
        }
    }

    /// One of four translations, in the order ru, en, uz, oz.
    fn pick(self, texts: [&'static str; 4]) -> &'static str {
        let [ru, en, uz, oz] = texts;
        match self {
            Lang::Ru => ru,
            Lang::En => en,
            Lang::Uz => uz,
            Lang::Oz => oz,
        }
    }
}

fn success(lang: Lang) -> &'static str {
    lang.pick(["Успешно", "Success", "Муваффақиятли", "Muvaffaqiyatli"])
}

/// AbleID's error codes that the simulation produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    SessionExpired,
    InvalidUrl,
    IncorrectPinfl,
    IncorrectDocument,
    IncorrectPinflDate,
    ProjectNotFound,
    NotValid,
    PassportExpired,
    RegistrationNotFound,
    FailedVerification,
    TransactionNotFound,
    IncorrectDataFormat,
}

impl Failure {
    fn code(self) -> i64 {
        match self {
            Failure::SessionExpired => 10101,
            Failure::InvalidUrl => 10102,
            Failure::IncorrectPinfl => 10103,
            Failure::IncorrectDocument => 10104,
            Failure::IncorrectPinflDate => 10105,
            Failure::ProjectNotFound => 10202,
            Failure::NotValid => 10203,
            Failure::PassportExpired => 10204,
            Failure::RegistrationNotFound => 10205,
            Failure::FailedVerification => 10301,
            Failure::TransactionNotFound => 10302,
            Failure::IncorrectDataFormat => 20202,
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Failure::SessionExpired => "FACE_SESSION_EXPIRED",
            Failure::InvalidUrl => "FACE_INVALID_URL",
            Failure::IncorrectPinfl => "FACE_INCORRECT_PINFL",
            Failure::IncorrectDocument => "FACE_INCORRECT_DOCUMENT",
            Failure::IncorrectPinflDate => "FACE_INCORRECT_PINFL_DATE",
            Failure::ProjectNotFound => "FACE_PROJECT_NOT_FOUND",
            Failure::NotValid => "FACE_NOT_VALID",
            Failure::PassportExpired => "FACE_PASSPORT_EXPIRED",
            Failure::RegistrationNotFound => "FACE_REGISTRATION_NOT_FOUND",
            Failure::FailedVerification => "FACE_TRANSACTION_FAILED_VERIFICATION",
            Failure::TransactionNotFound => "FACE_TRANSACTION_NOT_FOUND",
            Failure::IncorrectDataFormat => "INCORRECT_DATA_FORMAT",
        }
    }

    fn message(self, lang: Lang) -> &'static str {
        lang.pick(match self {
            Failure::SessionExpired => {
                ["Сессия истекла", "Session expired", "Сессия муддати тугади", "Sessiya muddati tugadi"]
            }
            Failure::InvalidUrl => ["Некорректный URL", "Invalid URL", "Нотўғри URL", "Noto'g'ri URL"],
            Failure::IncorrectPinfl => {
                ["Некорректный ПИНФЛ", "Incorrect PINFL", "ЖШШИР нотўғри", "JShShIR noto'g'ri"]
            }
            Failure::IncorrectDocument => {
                ["Некорректный документ", "Incorrect document", "Ҳужжат нотўғри", "Hujjat noto'g'ri"]
            }
            Failure::IncorrectPinflDate => [
                "Дата в ПИНФЛ не совпадает с датой рождения",
                "The PINFL date does not match the birth date",
                "ЖШШИРдаги сана туғилган санага мос эмас",
                "JShShIRdagi sana tug'ilgan sanaga mos emas",
            ],
            Failure::ProjectNotFound => {
                ["Проект не найден", "Project not found", "Лойиҳа топилмади", "Loyiha topilmadi"]
            }
            Failure::NotValid => [
                "Лицо не прошло проверку",
                "Face verification failed",
                "Юз текширувдан ўтмади",
                "Yuz tekshiruvdan o'tmadi",
            ],
            Failure::PassportExpired => [
                "Срок действия паспорта истёк",
                "The passport has expired",
                "Паспорт муддати тугаган",
                "Pasport muddati tugagan",
            ],
            Failure::RegistrationNotFound => [
                "Прописка не найдена",
                "Registration not found",
                "Рўйхатга олиш маълумоти топилмади",
                "Ro'yxatga olish ma'lumoti topilmadi",
            ],
            Failure::FailedVerification => [
                "Транзакция не прошла верификацию",
                "The transaction did not pass verification",
                "Транзакция текширувдан ўтмади",
                "Tranzaksiya tekshiruvdan o'tmadi",
            ],
            Failure::TransactionNotFound => [
                "Транзакция не найдена",
                "Transaction not found",
                "Транзакция топилмади",
                "Tranzaksiya topilmadi",
            ],
            Failure::IncorrectDataFormat => [
                "Неверный формат данных",
                "Incorrect data format",
                "Маълумотлар формати нотўғри",
                "Ma'lumotlar formati noto'g'ri",
            ],
        })
    }
}

/// A refused call: HTTP 400 with AbleID's error body.
#[derive(Debug)]
struct Refused(Failure, Lang);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let Refused(failure, lang) = self;
        let body = json!({
            "statusCode": failure.code(),
            "type": failure.kind(),
            "data": null,
            "message": failure.message(lang),
        });
        (StatusCode::BAD_REQUEST, Json(body)).into_response()
    }
}

/// AbleID's routes, to be nested at `/sandbox/ableid`.
pub(crate) fn router(state: Arc<AbleId>) -> Router {
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
        .with_state(state)
}

async fn start_resident(State(ableid): State<Arc<AbleId>>, body: Bytes) -> Response {
    respond(ableid.start(&body, false).map(|reply| (StatusCode::CREATED, Json(reply))))
}

async fn start_foreign(State(ableid): State<Arc<AbleId>>, body: Bytes) -> Response {
    respond(ableid.start(&body, true).map(|reply| (StatusCode::CREATED, Json(reply))))
}

async fn get_passport(State(ableid): State<Arc<AbleId>>, body: Bytes) -> Response {
    respond(ableid.request_data(&body, Data::Passport).map(Json))
}

async fn get_photo(State(ableid): State<Arc<AbleId>>, body: Bytes) -> Response {
    respond(ableid.request_data(&body, Data::Photo).map(Json))
}

async fn get_registration(State(ableid): State<Arc<AbleId>>, body: Bytes) -> Response {
    respond(ableid.request_data(&body, Data::Registration).map(Json))
}

async fn get_person(State(ableid): State<Arc<AbleId>>, body: Bytes) -> Response {
    respond(ableid.request_data(&body, Data::Person).map(Json))
}

fn respond(result: Result<impl IntoResponse, Refused>) -> Response {
    match result {
        Ok(reply) => reply.into_response(),
        Err(refused) => refused.into_response(),
    }
}

async fn session_page(State(ableid): State<Arc<AbleId>>, Path(attempt_id): Path<String>) -> Response {
    ableid.page(&attempt_id)
}

async fn approve(State(ableid): State<Arc<AbleId>>, Path(attempt_id): Path<String>) -> Response {
    ableid.finish(&attempt_id, Outcome::Approved)
}

async fn reject(State(ableid): State<Arc<AbleId>>, Path(attempt_id): Path<String>, body: Bytes) -> Response {
    let chosen = url::form_urlencoded::parse(&body).find(|(k, _)| k == "type").map(|(_, v)| v.into_owned());
    let failure = match chosen.as_deref().map(str::trim) {
        None | Some("") | Some("FACE_NOT_VALID") | Some("10203") => Failure::NotValid,
        Some("FACE_PASSPORT_EXPIRED") | Some("10204") => Failure::PassportExpired,
        Some(_) => {
            return pages::notice(
                StatusCode::BAD_REQUEST,
                "Unknown rejection",
                "type must be FACE_NOT_VALID (10203) or FACE_PASSPORT_EXPIRED (10204)",
            );
        }
    };
    ableid.finish(&attempt_id, Outcome::Rejected(failure))
}

impl AbleId {
    /// A project at `base` whose sessions live `ttl` and whose data hooks are under
    /// `data_hooks`.
    pub(crate) fn new(base: Url, data_hooks: Url, ttl: Duration, hooks: Deliverer) -> Self {
        Self {
            base,
            data_hooks,
            ttl,
            hooks,
            secret: SecretString::from(ABLEID_SECRET),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    fn session_url(&self, attempt_id: &str) -> String {
        append(&self.base, &["session", attempt_id])
    }

    fn signature(&self, attempt_id: &str) -> String {
        hook_signature(ABLEID_PROJECT_ID, &self.secret, attempt_id)
    }

    fn expired(&self, session: &Session, now: Instant) -> bool {
        now.saturating_duration_since(session.started) >= self.ttl
    }

    /// POST /check/start/second (`foreign` false) or /check/start/foreign.
    fn start(&self, body: &[u8], foreign: bool) -> Result<Value, Refused> {
        let value: Value =
            serde_json::from_slice(body).map_err(|_| Refused(Failure::IncorrectDataFormat, Lang::Ru))?;
        let o = Obj::of(&value);
        let lang = match o.opt_string("lang").as_deref() {
            None | Some("") => Lang::Ru,
            Some(text) => Lang::parse(text).ok_or(Refused(Failure::IncorrectDataFormat, Lang::Ru))?,
        };
        let refuse = |failure| Refused(failure, lang);
        if !credentials(o) {
            return Err(refuse(Failure::ProjectNotFound));
        }
        let transaction_id = o
            .opt_string("transactionId")
            .filter(|t| !t.trim().is_empty() && t.chars().count() <= 100)
            .ok_or(refuse(Failure::IncorrectDataFormat))?;
        let hooks = match o.get("hooks") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().filter(|u| valid_hook(u)).map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or(refuse(Failure::InvalidUrl))?,
            _ => return Err(refuse(Failure::IncorrectDataFormat)),
        };
        let subject = if foreign {
            let document = o.string("document").trim().to_owned();
            if document.is_empty() || document.chars().count() > 64 {
                return Err(refuse(Failure::IncorrectDocument));
            }
            Subject::Foreign { document }
        } else {
            let pinfl = o.string("pinfl");
            let birth_date =
                parse_birth_date(&o.string("birthDate")).ok_or(refuse(Failure::IncorrectDataFormat))?;
            check_pinfl(&pinfl, birth_date).map_err(refuse)?;
            Subject::Resident { pinfl, birth_date }
        };

        let now = Instant::now();
        let hook_count = hooks.len();
        let attempt_id = {
            let mut sessions = lock(&self.sessions);
            self.prune(&mut sessions, now);
            let attempt_id = loop {
                let id = fake::nanoid(ATTEMPT_ID_LEN);
                if !sessions.contains_key(&id) {
                    break id;
                }
            };
            let session =
                Session { transaction_id, subject, lang, hooks, started: now, outcome: Outcome::Pending };
            sessions.insert(attempt_id.clone(), session);
            attempt_id
        };
        let kind = if foreign { "foreign" } else { "resident" };
        tracing::info!(attempt_id, kind, hooks = hook_count, "sandbox ableid: session started");
        Ok(json!({
            "statusCode": 200,
            "type": "SUCCESS",
            "message": success(lang),
            "data": {"attemptId": attempt_id, "fullUrl": self.session_url(&attempt_id), "lang": lang.as_str()},
        }))
    }

    /// Forgets sessions long expired, and the oldest ones beyond [`MAX_SESSIONS`].
    fn prune(&self, sessions: &mut HashMap<String, Session>, now: Instant) {
        let keep = self.ttl.saturating_add(KEEP_EXPIRED);
        sessions.retain(|_, s| now.saturating_duration_since(s.started) < keep);
        while sessions.len() >= MAX_SESSIONS {
            let oldest = sessions.iter().min_by_key(|(_, s)| s.started).map(|(id, _)| id.clone());
            match oldest {
                Some(id) => sessions.remove(&id),
                None => break,
            };
        }
    }

    /// GET /session/{attemptId}: the page the person opens.
    fn page(&self, attempt_id: &str) -> Response {
        let now = Instant::now();
        let view = {
            let sessions = lock(&self.sessions);
            match sessions.get(attempt_id) {
                None => None,
                Some(s) if self.expired(s, now) => Some(Err(StatusCode::GONE)),
                Some(s) => Some(Ok((
                    s.outcome,
                    matches!(s.subject, Subject::Foreign { .. }),
                    self.ttl.saturating_sub(now.saturating_duration_since(s.started)).as_secs(),
                ))),
            }
        };
        let title = "AbleID face check";
        match view {
            None => pages::notice(StatusCode::NOT_FOUND, title, "No such session."),
            Some(Err(status)) => pages::notice(status, title, "This session has expired. No hook is sent."),
            Some(Ok((Outcome::Approved, ..))) => {
                pages::notice(StatusCode::OK, title, "This session is finished: approved.")
            }
            Some(Ok((Outcome::Rejected(failure), ..))) => pages::notice(
                StatusCode::OK,
                title,
                &format!("This session is finished: rejected ({} {}).", failure.code(), failure.kind()),
            ),
            Some(Ok((Outcome::Pending, foreign, left))) => {
                let url = self.session_url(attempt_id);
                let choice = "<select name=\"type\">\
                    <option value=\"FACE_NOT_VALID\">FACE_NOT_VALID (10203)</option>\
                    <option value=\"FACE_PASSPORT_EXPIRED\">FACE_PASSPORT_EXPIRED (10204)</option></select>";
                let body = format!(
                    "<p>This page stands in for AbleID's liveness check. Choose how it ends: the \
                     completion hook goes to every hook of the session.</p>\
                     <dl><dt>Attempt</dt><dd><code>{}</code></dd><dt>Person</dt><dd>{}</dd>\
                     <dt>Expires in</dt><dd>{left} s</dd></dl>{}{}",
                    escape(attempt_id),
                    if foreign { "foreigner (document)" } else { "resident (PINFL)" },
                    pages::form(&format!("{url}/approve"), "", "Approve: the face matches", "ok"),
                    pages::form(&format!("{url}/reject"), choice, "Reject", "bad"),
                );
                pages::page(StatusCode::OK, title, &body)
            }
        }
    }

    /// POST /session/{attemptId}/approve or /reject: ends the session and sends the
    /// completion hook to each of its hooks in the background.
    fn finish(&self, attempt_id: &str, outcome: Outcome) -> Response {
        let title = "AbleID face check";
        let now = Instant::now();
        let (hooks, transaction_id, lang) = {
            let mut sessions = lock(&self.sessions);
            let Some(session) = sessions.get_mut(attempt_id) else {
                return pages::notice(StatusCode::NOT_FOUND, title, "No such session.");
            };
            if self.expired(session, now) {
                return pages::notice(StatusCode::GONE, title, "This session has expired.");
            }
            if session.outcome != Outcome::Pending {
                return pages::notice(StatusCode::CONFLICT, title, "This session is already finished.");
            }
            session.outcome = outcome;
            (session.hooks.clone(), session.transaction_id.clone(), session.lang)
        };
        let hash = self.signature(attempt_id);
        let body = match outcome {
            Outcome::Rejected(failure) => json!({
                "statusCode": failure.code(),
                "type": failure.kind(),
                "message": failure.message(lang),
                "data": {"attemptId": attempt_id, "hash": hash, "transactionId": transaction_id},
            }),
            Outcome::Approved | Outcome::Pending => json!({
                "statusCode": 200,
                "type": "SUCCESS",
                "message": success(lang),
                "data": {
                    "redirect": self.session_url(attempt_id),
                    "attemptId": attempt_id,
                    "hash": hash,
                    "transactionId": transaction_id,
                },
            }),
        };
        for url in hooks {
            self.hooks.spawn(url, &body, "completion", attempt_id);
        }
        let result = match outcome {
            Outcome::Rejected(failure) => failure.kind(),
            Outcome::Approved | Outcome::Pending => "SUCCESS",
        };
        tracing::info!(attempt_id, result, "sandbox ableid: session finished");
        pages::notice(StatusCode::OK, title, &format!("Done: {result}. The completion hook is on its way."))
    }

    /// POST /check/get_passport, /check/get_photo, /check/registration or
    /// /check/get_person: checks the call, answers, and sends the data to its data hook.
    fn request_data(&self, body: &[u8], which: Data) -> Result<Value, Refused> {
        let value: Value =
            serde_json::from_slice(body).map_err(|_| Refused(Failure::IncorrectDataFormat, Lang::Ru))?;
        let o = Obj::of(&value);
        let attempt_id = o.string("attemptId");
        let now = Instant::now();
        let (identity, lang) = {
            let sessions = lock(&self.sessions);
            let session = sessions.get(&attempt_id);
            let lang = session.map_or(Lang::Ru, |s| s.lang);
            let refuse = |failure| Refused(failure, lang);
            if !credentials(o) {
                return Err(refuse(Failure::ProjectNotFound));
            }
            if attempt_id.is_empty() {
                return Err(refuse(Failure::IncorrectDataFormat));
            }
            let session = session.ok_or(refuse(Failure::TransactionNotFound))?;
            if self.expired(session, now) {
                return Err(refuse(Failure::SessionExpired));
            }
            if session.outcome != Outcome::Approved {
                return Err(refuse(Failure::FailedVerification));
            }
            let identity = match &session.subject {
                Subject::Resident { pinfl, birth_date } => {
                    if which != Data::Photo && o.string("pinfl") != *pinfl {
                        return Err(refuse(Failure::IncorrectPinfl));
                    }
                    if matches!(which, Data::Passport | Data::Person) {
                        let given = parse_birth_date(&o.string("birthDate"))
                            .ok_or(refuse(Failure::IncorrectDataFormat))?;
                        if given != *birth_date {
                            return Err(refuse(Failure::IncorrectPinflDate));
                        }
                    }
                    Identity::resident(pinfl, *birth_date)
                }
                // A foreigner's session has no PINFL or birth date to compare with.
                Subject::Foreign { document } => Identity::foreigner(document),
            };
            (identity, lang)
        };

        let envelope = data_envelope(which, &attempt_id, &self.signature(&attempt_id), lang, &identity);
        let url = append(&self.data_hooks, &[which.hook()]);
        self.hooks.spawn(url, &envelope, which.hook(), &attempt_id);
        tracing::info!(attempt_id, data = which.hook(), "sandbox ableid: data requested");
        Ok(json!({"statusCode": 200, "type": "SUCCESS", "message": success(lang), "data": null}))
    }
}

fn credentials(o: Obj<'_>) -> bool {
    let project = o.string("projectId");
    let secret = o.string("secret");
    let project_ok: bool = project.as_bytes().ct_eq(ABLEID_PROJECT_ID.as_bytes()).into();
    let secret_ok: bool = secret.as_bytes().ct_eq(ABLEID_SECRET.as_bytes()).into();
    project_ok & secret_ok
}

/// `base` with `segments` appended, as a string.
fn append(base: &Url, segments: &[&str]) -> String {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url.into()
}

/// A hook AbleID accepts: an absolute http(s) URL with a host.
fn valid_hook(text: &str) -> bool {
    text.len() <= 2048
        && Url::parse(text).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        })
}

/// AbleID's `birthDate`, `DD.MM.YYYY`.
fn parse_birth_date(text: &str) -> Option<NaiveDate> {
    (text.len() == 10).then(|| NaiveDate::parse_from_str(text, "%d.%m.%Y").ok()).flatten()
}

/// The birth date inside a PINFL: the first digit gives the century (1/2: 18xx,
/// 3/4: 19xx, 5/6: 20xx), digits 2–7 are DDMMYY. `None` when it is not a PINFL.
fn pinfl_date(pinfl: &str) -> Option<NaiveDate> {
    let digits = pinfl.as_bytes();
    if digits.len() != 14 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let digit = |i: usize| i32::from(digits[i] - b'0');
    let century = match digit(0) {
        1 | 2 => 1800,
        3 | 4 => 1900,
        5 | 6 => 2000,
        _ => return None,
    };
    let pair = |i: usize| digit(i) * 10 + digit(i + 1);
    NaiveDate::from_ymd_opt(century + pair(5), u32::try_from(pair(3)).ok()?, u32::try_from(pair(1)).ok()?)
}

/// 10103 when `pinfl` is not a PINFL, 10105 when its date is not `birth_date`.
fn check_pinfl(pinfl: &str, birth_date: NaiveDate) -> Result<(), Failure> {
    match pinfl_date(pinfl) {
        None => Err(Failure::IncorrectPinfl),
        Some(date) if date != birth_date => Err(Failure::IncorrectPinflDate),
        Some(_) => Ok(()),
    }
}

/// A data hook's whole body.
fn data_envelope(which: Data, attempt_id: &str, hash: &str, lang: Lang, who: &Identity) -> Value {
    let payload = match which {
        Data::Passport => passport(attempt_id, who),
        Data::Photo => {
            json!({"crc": format!("{:08X}", fake::crc32(fake::FACE_JPEG)), "photo": encode_base64(fake::FACE_JPEG)})
        }
        Data::Registration if who.foreign => {
            let failure = Failure::RegistrationNotFound;
            return json!({
                "statusCode": failure.code(),
                "type": failure.kind(),
                "message": failure.message(lang),
                "data": {"attemptId": attempt_id, "hash": hash},
            });
        }
        Data::Registration => address(who, false, false),
        Data::Person => person(attempt_id, who),
    };
    json!({
        "statusCode": 200,
        "type": "SUCCESS",
        "message": success(lang),
        "data": {"attemptId": attempt_id, "hash": hash, "lang": lang.as_str(), "data": payload},
    })
}

const PASSPORT_GIVE_PLACE: &str = "SINOV TUMANI IIB";
const PASSPORT_GIVE_PLACE_ID: i64 = 26_999;

fn passport_type(who: &Identity) -> &'static str {
    if who.foreign { "IDMS_RECV_MVD_IDCARD_FOREIGN" } else { "IDMS_RECV_MVD_IDCARD_CITIZEN" }
}

fn passport(attempt_id: &str, who: &Identity) -> Value {
    let (begin, end) = who.passport_dates();
    json!({
        "attemptId": attempt_id,
        "surname": who.surname,
        "name": who.name,
        "lastName": who.patronymic,
        "document": who.document,
        "sex": who.sex,
        "passportGivePlace": PASSPORT_GIVE_PLACE,
        "passportGivePlaceId": PASSPORT_GIVE_PLACE_ID,
        "passportDateBegin": begin.format("%Y-%m-%d").to_string(),
        "passportDateEnd": end.format("%Y-%m-%d").to_string(),
        "passportType": passport_type(who),
    })
}

/// A registration address. `full` adds the CBU ids and the registration date (as in
/// the person hook); `temporary` gives a second, different address.
fn address(who: &Identity, full: bool, temporary: bool) -> Value {
    let n = who.number(if temporary { 16 } else { 6 });
    let (region, region_id, district, district_id) = if temporary {
        ("SAMARQAND VILOYATI", 18, "NAMUNA TUMANI", 1899)
    } else {
        ("TOSHKENT SHAHRI", 26, "SINOV TUMANI", 2699)
    };
    let maxala_id = 1000 + (n % 900) as i64;
    let street_id = 50_000 + (n % 10_000) as i64;
    let house = 1 + n % 99;
    let mut value = json!({
        "address": format!("{region}, {district}, NAMUNA MFY, MISOL KO'CHASI, {house}-UY"),
        "cadastre": format!("{}:{:02}:{:02}:{:02}:{:04}", region_id, district_id % 100, n % 50, (n / 50) % 50, house),
        "country": "O'ZBEKISTON",
        "countryId": 182,
        "region": region,
        "regionId": region_id,
        "district": district,
        "districtId": district_id,
        "maxala": "NAMUNA MFY",
        "maxalaId": maxala_id,
        "street": "MISOL KO'CHASI",
        "streetId": street_id,
    });
    if full {
        let (begin, _) = who.passport_dates();
        let extra = [
            ("countryCbuId", json!(860)),
            ("regionCbuId", json!(region_id)),
            ("districtCbuId", json!(district_id)),
            ("maxalaCbuId", json!(maxala_id)),
            ("streetCbuId", json!(street_id)),
            ("registrationDate", json!(begin.format("%Y-%m-%d").to_string())),
        ];
        if let Value::Object(map) = &mut value {
            map.extend(extra.into_iter().map(|(k, v)| (k.to_owned(), v)));
        }
    }
    value
}

fn person(attempt_id: &str, who: &Identity) -> Value {
    let (begin, end) = who.passport_dates();
    let (country, country_id, country_cbu, nationality, nationality_id, nationality_cbu, title) =
        if who.foreign {
            ("SANDBOXIYA", 999, 999, "SANDBOXIYALIK", 999, 999, "ID-KARTA (XORIJIY FUQARO)")
        } else {
            ("O'ZBEKISTON", 182, 860, "O'ZBEK", 44, 1, "ID-KARTA (O'ZBEKISTON RESPUBLIKASI FUQAROSI)")
        };
    let registration = if who.foreign {
        json!({"permanentRegistration": null, "temporaryRegistrations": null})
    } else {
        // Some people have a temporary registration and some do not; the PINFL decides.
        let temporary = who.number(10).is_multiple_of(2).then(|| json!([address(who, true, true)]));
        json!({"permanentRegistration": address(who, true, false), "temporaryRegistrations": temporary})
    };
    json!({
        "person": {
            "attemptId": attempt_id,
            "pinfl": who.pinfl,
            "surname": who.surname,
            "name": who.name,
            "lastName": who.patronymic,
            "document": who.document,
            "sex": who.sex,
            "passportGivePlace": PASSPORT_GIVE_PLACE,
            "passportGivePlaceId": PASSPORT_GIVE_PLACE_ID,
            "passportDateBegin": begin.format("%Y-%m-%d").to_string(),
            "passportDateEnd": end.format("%Y-%m-%d").to_string(),
            "passportType": passport_type(who),
            "passportTypeTitle": title,
            "passportTypeId": if who.foreign { 5 } else { 4 },
            "passportTypeCbuId": if who.foreign { 7 } else { 6 },
            "birthDate": who.birth_date.format("%Y-%m-%d").to_string(),
            "birthPlace": if who.foreign { "NAMUNA SHAHRI" } else { "SINOV TUMANI" },
            "birthPlaceId": if who.foreign { 999 } else { 2699 },
            "birthPlaceCbuId": if who.foreign { 999 } else { 2699 },
            "birthCountry": country,
            "birthCountryId": country_id,
            "birthCountryCbuId": country_cbu,
            "liveStatus": true,
            "nationality": nationality,
            "nationalityId": nationality_id,
            "nationalityCbuId": nationality_cbu,
            "citizenship": country,
            "citizenshipId": country_id,
            "citizenshipCbuId": country_cbu,
        },
        "registration": registration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendor::ableid as reader;

    fn date(d: u32, m: u32, y: i32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn state(ttl: Duration) -> AbleId {
        let options = super::super::Options::default();
        let hooks = Deliverer::new(&options, tokio_util::sync::CancellationToken::new()).unwrap();
        AbleId::new(
            Url::parse("http://127.0.0.1:9/sandbox/ableid").unwrap(),
            Url::parse("http://127.0.0.1:9/hooks/ableid").unwrap(),
            ttl,
            hooks,
        )
    }

    fn body(value: Value) -> Vec<u8> {
        serde_json::to_vec(&value).unwrap()
    }

    fn resident(pinfl: &str, birth: &str) -> Vec<u8> {
        body(json!({"projectId": ABLEID_PROJECT_ID, "secret": ABLEID_SECRET, "transactionId": "t-1",
            "pinfl": pinfl, "birthDate": birth, "lang": "en", "hooks": ["https://example.com/h"]}))
    }

    fn refused(result: Result<Value, Refused>) -> (i64, Lang) {
        let Refused(failure, lang) = result.unwrap_err();
        (failure.code(), lang)
    }

    #[test]
    fn pinfl_dates_follow_the_century_rule() {
        assert_eq!(pinfl_date("31505901234567"), Some(date(15, 5, 1990)));
        assert_eq!(pinfl_date("50102051234567"), Some(date(1, 2, 2005)));
        assert_eq!(pinfl_date("22512991234567"), Some(date(25, 12, 1899)));
        assert_eq!(pinfl_date("73112901234567"), None, "7 is no century");
        assert_eq!(pinfl_date("33102901234567"), None, "31 February");
        assert_eq!(pinfl_date("3150590123456"), None, "13 digits");
        assert_eq!(check_pinfl("31505901234567", date(15, 5, 1990)), Ok(()));
        assert_eq!(check_pinfl("31505901234567", date(16, 5, 1990)), Err(Failure::IncorrectPinflDate));
        assert_eq!(check_pinfl("3150590123456x", date(15, 5, 1990)), Err(Failure::IncorrectPinfl));
    }

    #[tokio::test]
    async fn start_refusals_have_the_documented_codes() {
        let s = state(Duration::from_secs(600));
        assert_eq!(refused(s.start(&resident("31505901234567", "16.05.1990"), false)), (10105, Lang::En));
        assert_eq!(refused(s.start(&resident("315059012345", "15.05.1990"), false)).0, 10103);
        let wrong_secret =
            body(json!({"projectId": ABLEID_PROJECT_ID, "secret": "nope", "transactionId": "t",
            "document": "FA1", "hooks": []}));
        assert_eq!(refused(s.start(&wrong_secret, true)), (10202, Lang::Ru));
        let empty_document = body(json!({"projectId": ABLEID_PROJECT_ID, "secret": ABLEID_SECRET,
            "transactionId": "t", "document": " ", "hooks": []}));
        assert_eq!(refused(s.start(&empty_document, true)).0, 10104);
        let bad_hook = body(json!({"projectId": ABLEID_PROJECT_ID, "secret": ABLEID_SECRET,
            "transactionId": "t", "document": "FA1", "hooks": ["/relative"]}));
        assert_eq!(refused(s.start(&bad_hook, true)).0, 10102);
        assert_eq!(refused(s.start(b"not json", true)).0, 20202);
    }

    #[tokio::test]
    async fn a_started_session_has_an_id_and_a_page() {
        let s = state(Duration::from_secs(600));
        let reply = s.start(&resident("31505901234567", "15.05.1990"), false).unwrap();
        let data = &reply["data"];
        let id = data["attemptId"].as_str().unwrap();
        assert_eq!(id.len(), 21);
        assert_eq!(data["fullUrl"], format!("http://127.0.0.1:9/sandbox/ableid/session/{id}"));
        assert_eq!((data["lang"].as_str(), reply["message"].as_str()), (Some("en"), Some("Success")));
        assert_eq!(s.page(id).status(), StatusCode::OK);
        assert_eq!(s.page("unknown").status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn data_requests_check_the_session() {
        let s = state(Duration::from_secs(600));
        let reply = s.start(&resident("31505901234567", "15.05.1990"), false).unwrap();
        let id = reply["data"]["attemptId"].as_str().unwrap().to_owned();
        let ask = |pinfl: &str, birth: &str| {
            body(json!({"projectId": ABLEID_PROJECT_ID, "secret": ABLEID_SECRET, "attemptId": id,
                "pinfl": pinfl, "birthDate": birth}))
        };
        let good = ask("31505901234567", "15.05.1990");
        assert_eq!(refused(s.request_data(&good, Data::Passport)), (10301, Lang::En));
        assert_eq!(s.finish(&id, Outcome::Approved).status(), StatusCode::OK);
        assert_eq!(s.finish(&id, Outcome::Approved).status(), StatusCode::CONFLICT);
        assert_eq!(s.request_data(&good, Data::Passport).unwrap()["statusCode"], 200);
        assert_eq!(refused(s.request_data(&ask("31505901234568", "15.05.1990"), Data::Person)).0, 10103);
        assert_eq!(refused(s.request_data(&ask("31505901234567", "14.05.1990"), Data::Person)).0, 10105);
        let unknown =
            body(json!({"projectId": ABLEID_PROJECT_ID, "secret": ABLEID_SECRET, "attemptId": "nope"}));
        assert_eq!(refused(s.request_data(&unknown, Data::Photo)).0, 10302);
    }

    #[tokio::test]
    async fn expired_sessions_refuse_everything() {
        let s = state(Duration::ZERO);
        let reply = s.start(&resident("31505901234567", "15.05.1990"), false).unwrap();
        let id = reply["data"]["attemptId"].as_str().unwrap().to_owned();
        assert_eq!(s.page(&id).status(), StatusCode::GONE);
        assert_eq!(s.finish(&id, Outcome::Approved).status(), StatusCode::GONE);
        let ask = body(json!({"projectId": ABLEID_PROJECT_ID, "secret": ABLEID_SECRET, "attemptId": id}));
        assert_eq!(refused(s.request_data(&ask, Data::Photo)), (10101, Lang::En));
    }

    #[test]
    fn data_hooks_are_read_by_the_gateways_own_readers() {
        let who = Identity::resident("31505901234567", date(15, 5, 1990));
        let hash = "H";
        let passport = data_envelope(Data::Passport, "att", hash, Lang::Ru, &who);
        assert_eq!(passport["data"]["attemptId"], "att");
        assert_eq!(passport["data"]["lang"], "ru");
        let p = reader::passport(Obj::of(&passport["data"]["data"]));
        assert_eq!(p.attempt_id, "att");
        assert_eq!(p.sex, 1);
        assert!(!p.surname.is_empty() && !p.document.is_empty());
        assert_eq!(p.passport_type(), crate::proto::ableid::PassportType::IdmsRecvMvdIdcardCitizen);

        let photo = data_envelope(Data::Photo, "att", hash, Lang::Ru, &who);
        let photo = reader::photo(Obj::of(&photo["data"]["data"])).unwrap();
        assert_eq!(photo.photo, fake::FACE_JPEG);
        assert_eq!(photo.crc, format!("{:08X}", fake::crc32(fake::FACE_JPEG)));

        let registration = data_envelope(Data::Registration, "att", hash, Lang::Ru, &who);
        let address = reader::address(Obj::of(&registration["data"]["data"]));
        assert_eq!(address.country_id, Some(182));
        assert!(address.address.is_some() && address.registration_date.is_none());

        let person = data_envelope(Data::Person, "att", hash, Lang::Ru, &who);
        let person = reader::person(Obj::of(&person["data"]["data"]));
        let details = person.person.unwrap();
        assert_eq!((details.pinfl.as_str(), details.birth_date.as_str()), ("31505901234567", "1990-05-15"));
        assert_eq!(details.live_status, Some(true));
        let registration = person.registration.unwrap();
        assert!(registration.permanent_registration.unwrap().registration_date.is_some());
    }

    #[test]
    fn foreigners_have_no_registration() {
        let who = Identity::foreigner("FA1234567");
        let hook = data_envelope(Data::Registration, "att", "H", Lang::En, &who);
        assert_eq!(hook["statusCode"], 10205);
        assert_eq!(hook["type"], "FACE_REGISTRATION_NOT_FOUND");
        assert_eq!(hook["data"], json!({"attemptId": "att", "hash": "H"}));
        let person = data_envelope(Data::Person, "att", "H", Lang::En, &who);
        assert_eq!(person["data"]["data"]["person"]["document"], "FA1234567");
        assert_eq!(person["data"]["data"]["registration"]["permanentRegistration"], Value::Null);
    }
}
