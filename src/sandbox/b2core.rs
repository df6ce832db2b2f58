//! Simulated B2Core front-office verification levels (seed 004).
//!
//! Every distinct bearer token is one end client, created on first sight at Level 0
//! with one history entry (reason `created`). The wizard offers one document type; each
//! submission raises the client one level, up to Level 2, where the wizard answers with
//! the final `TerminateWorkflow` step. B2Core documents both `/api/v2/my/verifications`
//! and `/v2/my/verifications`, so every operation answers under both.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use super::{fake, lock};
use crate::vendor::json::Obj;

/// The highest level a client can reach.
const TOP_LEVEL: u32 = 2;
/// Clients kept at most; the least recently created go first.
const MAX_CLIENTS: usize = 10_000;
/// Open wizards kept per client.
const MAX_WIZARDS: usize = 20;
const DOCUMENTS_WORKFLOW: &str = "B2B\\TCA\\Wizards\\Workflow\\DocumentsWorkflow";
const TERMINATE_WORKFLOW: &str = "B2B\\TCA\\Wizards\\Workflow\\TerminateWorkflow";

/// The simulated B2Core host and its clients.
#[derive(Default)]
pub(crate) struct B2Core {
    clients: Mutex<Clients>,
}

impl std::fmt::Debug for B2Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("B2Core").field("clients", &lock(&self.clients).by_token.len()).finish()
    }
}

#[derive(Default)]
struct Clients {
    /// Keyed by the token's SHA-1, so the tokens themselves are not kept.
    by_token: HashMap<String, Client>,
    next_entry: i64,
    next_application: i64,
    next_client: u64,
}

struct Client {
    client_id: i64,
    /// Creation order, for eviction.
    seq: u64,
    level: u32,
    history: Vec<Entry>,
    /// Wizard uuids handed out and not yet submitted.
    wizards: Vec<String>,
}

struct Entry {
    id: i64,
    level: u32,
    previous: Option<u32>,
    reason: String,
    created: DateTime<Utc>,
}

/// A refused call: an HTTP status and `{"message"}`.
#[derive(Debug, PartialEq)]
struct Error(StatusCode, String);

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"message": self.1}))).into_response()
    }
}

fn bad_request(message: impl Into<String>) -> Error {
    Error(StatusCode::BAD_REQUEST, message.into())
}

type Reply = Result<Json<Value>, Error>;

/// B2Core's routes, to be nested at `/sandbox/b2core`.
pub(crate) fn router(state: Arc<B2Core>) -> Router {
    let mut router = Router::new();
    for prefix in ["/api/v2/my/verifications", "/v2/my/verifications"] {
        router = router
            .route(prefix, get(list).post(submit))
            .route(&format!("{prefix}/"), get(list).post(submit))
            .route(&format!("{prefix}/wizard"), get(wizard))
            .route(&format!("{prefix}/{{id}}"), get(details));
    }
    router.with_state(state)
}

/// The client key of the request's bearer token, or 401.
fn token_key(headers: &HeaderMap) -> Result<String, Error> {
    let unauthorized = || Error(StatusCode::UNAUTHORIZED, "Unauthorized".into());
    let value = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or_else(unauthorized)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(unauthorized)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(unauthorized());
    }
    Ok(hex::encode(Sha1::digest(token.as_bytes())))
}

async fn list(State(b2core): State<Arc<B2Core>>, headers: HeaderMap, RawQuery(query): RawQuery) -> Reply {
    let key = token_key(&headers)?;
    b2core.list(&key, query.as_deref().unwrap_or("")).map(Json)
}

async fn details(State(b2core): State<Arc<B2Core>>, headers: HeaderMap, Path(id): Path<String>) -> Reply {
    let key = token_key(&headers)?;
    b2core.details(&key, &id).map(Json)
}

async fn wizard(State(b2core): State<Arc<B2Core>>, headers: HeaderMap) -> Reply {
    let key = token_key(&headers)?;
    Ok(Json(b2core.wizard(&key)))
}

async fn submit(State(b2core): State<Arc<B2Core>>, headers: HeaderMap, body: Bytes) -> Reply {
    let key = token_key(&headers)?;
    b2core.submit(&key, &body).map(Json)
}

fn level(level: u32) -> Value {
    json!({"id": level + 1, "name": format!("Level {level}")})
}

impl Clients {
    /// The client of `key`, created at Level 0 on first sight.
    fn client(&mut self, key: &str) -> &mut Client {
        if !self.by_token.contains_key(key) {
            while self.by_token.len() >= MAX_CLIENTS {
                let oldest = self.by_token.iter().min_by_key(|(_, c)| c.seq).map(|(k, _)| k.clone());
                let Some(oldest) = oldest else { break };
                self.by_token.remove(&oldest);
            }
        }
        let Self { by_token, next_entry, next_client, .. } = self;
        by_token.entry(key.to_owned()).or_insert_with(|| {
            *next_entry += 1;
            *next_client += 1;
            // A stable id per token, from the first bytes of its hash.
            let client_id =
                i64::from_str_radix(key.get(..6).unwrap_or("0"), 16).unwrap_or(0) % 900_000 + 100_000;
            let created = Entry {
                id: *next_entry,
                level: 0,
                previous: None,
                reason: "created".into(),
                created: Utc::now(),
            };
            Client { client_id, seq: *next_client, level: 0, history: vec![created], wizards: Vec::new() }
        })
    }
}

impl Client {
    fn entry_json(&self, entry: &Entry) -> Value {
        json!({
            "id": entry.id,
            "clientId": self.client_id,
            "currentLevel": level(entry.level),
            "previousLevel": entry.previous.map(level),
            "reason": {"name": entry.reason},
            "userId": "1",
            "createTime": entry.created.format("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
        })
    }
}

impl B2Core {
    /// GET {history}?limit&offset&sort_order&sort_by.
    fn list(&self, key: &str, query: &str) -> Result<Value, Error> {
        let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let param = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let number = |name: &str, default: usize| -> Result<usize, Error> {
            param(name).map_or(Ok(default), |v| {
                v.parse().map_err(|_| bad_request(format!("{name} must be a number")))
            })
        };
        let limit = number("limit", 20)?;
        let offset = number("offset", 0)?;
        let ascending = match param("sort_order") {
            None | Some("desc") => false,
            Some("asc") => true,
            Some(_) => return Err(bad_request("sort_order must be asc or desc")),
        };
        if param("sort_by").is_some_and(|s| s != "createTime") {
            return Err(bad_request("sort_by must be createTime"));
        }
        let mut clients = lock(&self.clients);
        let client = clients.client(key);
        let mut entries: Vec<&Entry> = client.history.iter().collect();
        entries.sort_by(|a, b| a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
        if !ascending {
            entries.reverse();
        }
        let data: Vec<Value> =
            entries.iter().skip(offset).take(limit).map(|e| client.entry_json(e)).collect();
        Ok(json!({"total": client.history.len(), "data": data}))
    }

    /// GET {procedures}/{id}.
    fn details(&self, key: &str, id: &str) -> Result<Value, Error> {
        let mut clients = lock(&self.clients);
        let client = clients.client(key);
        let entry = id.parse::<i64>().ok().and_then(|id| client.history.iter().find(|e| e.id == id));
        match entry {
            Some(entry) => Ok(json!({"total": 1, "data": [client.entry_json(entry)]})),
            None => Err(Error(StatusCode::NOT_FOUND, "Not found".into())),
        }
    }

    /// GET {procedures}/wizard: the documents step, or the final step at the top level.
    fn wizard(&self, key: &str) -> Value {
        let uuid = fake::uuid_v4();
        let mut clients = lock(&self.clients);
        let client = clients.client(key);
        if client.level >= TOP_LEVEL {
            return json!({"code": 202, "data": {"types": []}, "done": true, "uuid": uuid, "workflow": TERMINATE_WORKFLOW});
        }
        if client.wizards.len() >= MAX_WIZARDS {
            client.wizards.remove(0);
        }
        client.wizards.push(uuid.clone());
        json!({
            "code": 200,
            "data": {"types": [{"id": 2, "description": "Passport", "enabled": true, "example": "", "group": {}}]},
            "done": true,
            "uuid": uuid,
            "workflow": DOCUMENTS_WORKFLOW,
        })
    }

    /// POST {procedures} with `{"data": {"documents": {type, files}, "uuid"}}`: raises
    /// the client one level.
    fn submit(&self, key: &str, body: &[u8]) -> Result<Value, Error> {
        let value: Value = serde_json::from_slice(body).map_err(|_| bad_request("The body must be JSON"))?;
        let data = Obj::of(&value).obj("data");
        let uuid = data.string("uuid");
        let documents = data.obj("documents");
        let files_ok = documents.get("files").and_then(Value::as_array).is_some_and(|f| !f.is_empty());
        if documents.opt_i64("type").is_none() || !files_ok {
            return Err(bad_request("data.documents.type and data.documents.files are required"));
        }
        let mut guard = lock(&self.clients);
        guard.client(key);
        let Clients { by_token, next_entry, next_application, .. } = &mut *guard;
        let client = by_token.get_mut(key).ok_or_else(|| bad_request("no such client"))?;
        let Some(at) = client.wizards.iter().position(|w| *w == uuid) else {
            return Err(bad_request(format!("Verification procedure {uuid} not found")));
        };
        client.wizards.remove(at);
        if client.level < TOP_LEVEL {
            *next_entry += 1;
            *next_application += 1;
            let previous = client.level;
            client.level += 1;
            client.history.push(Entry {
                id: *next_entry,
                level: client.level,
                previous: Some(previous),
                reason: format!("Application: {next_application}"),
                created: Utc::now(),
            });
        }
        let (client_id, new_level) = (client.client_id, client.level);
        drop(guard);
        tracing::info!(client_id, level = new_level, "sandbox b2core: verification submitted");
        Ok(
            json!({"code": 202, "data": {"types": []}, "done": true, "uuid": uuid, "workflow": TERMINATE_WORKFLOW}),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vendor::b2core as reader;

    fn submit(b2core: &B2Core, key: &str, uuid: &str) -> Result<Value, Error> {
        let body = json!({"data": {"documents": {"type": 2, "files": ["id_card.jpeg"]}, "uuid": uuid}});
        b2core.submit(key, &serde_json::to_vec(&body).unwrap())
    }

    #[test]
    fn tokens_are_required() {
        let mut headers = HeaderMap::new();
        assert!(token_key(&headers).is_err());
        headers.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert!(token_key(&headers).is_err());
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert!(token_key(&headers).is_err());
        headers.insert(header::AUTHORIZATION, "Bearer t1".parse().unwrap());
        assert_eq!(token_key(&headers).unwrap().len(), 40);
    }

    #[test]
    fn a_new_client_starts_at_level_0() {
        let b2core = B2Core::default();
        let page = b2core.list("k1", "").unwrap();
        assert_eq!(page["total"], 1);
        let v = reader::verification(Obj::of(&page["data"][0]));
        assert_eq!(v.current_level.unwrap().name, "Level 0");
        assert!(v.previous_level.is_none());
        assert_eq!(v.reason.unwrap().name, "created");
        assert!(v.create_time.is_some());
    }

    #[test]
    fn each_submission_raises_one_level_up_to_the_top() {
        let b2core = B2Core::default();
        for expected in 1..=TOP_LEVEL {
            let step = b2core.wizard("k1");
            assert_eq!(
                (step["code"].as_i64(), step["workflow"].as_str()),
                (Some(200), Some(DOCUMENTS_WORKFLOW))
            );
            let uuid = step["uuid"].as_str().unwrap();
            let done = submit(&b2core, "k1", uuid).unwrap();
            assert_eq!(
                (done["code"].as_i64(), done["workflow"].as_str()),
                (Some(202), Some(TERMINATE_WORKFLOW))
            );
            assert!(submit(&b2core, "k1", uuid).is_err(), "a wizard is used once");
            let newest = &b2core.list("k1", "sort_order=desc&sort_by=createTime").unwrap()["data"][0];
            assert_eq!(newest["currentLevel"]["name"], format!("Level {expected}"));
            assert_eq!(newest["previousLevel"]["name"], format!("Level {}", expected - 1));
        }
        assert_eq!(b2core.wizard("k1")["code"], 202);
        let page = b2core.list("k1", "sort_order=asc&limit=1&offset=1").unwrap();
        assert_eq!(
            (page["total"].as_i64(), page["data"][0]["currentLevel"]["name"].as_str()),
            (Some(3), Some("Level 1"))
        );
        let id = page["data"][0]["id"].to_string();
        assert_eq!(b2core.details("k1", &id).unwrap()["total"], 1);
        assert_eq!(b2core.details("k2", &id).unwrap_err().0, StatusCode::NOT_FOUND, "another client's entry");
        assert_eq!(b2core.list("k2", "").unwrap()["total"], 1);
    }

    #[test]
    fn bad_requests_are_refused() {
        let b2core = B2Core::default();
        assert_eq!(submit(&b2core, "k1", "unknown").unwrap_err().0, StatusCode::BAD_REQUEST);
        assert!(b2core.submit("k1", b"{}").is_err());
        assert!(b2core.list("k1", "sort_order=sideways").is_err());
        assert!(b2core.list("k1", "sort_by=id").is_err());
        assert!(b2core.list("k1", "limit=ten").is_err());
    }
}
