//! B2Core's HTTP surface, under both documented prefixes. Each handler reads the token
//! and input (`request`), reads or changes the clients (`state`) and renders the answer
//! (`render`).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use http::HeaderMap;
use serde_json::Value;

use super::errors::Error;
use super::{B2Core, render, request};

type Reply = Result<Json<Value>, Error>;

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        (self.0, Json(render::error(&self))).into_response()
    }
}

/// B2Core's routes, to be nested at `/sandbox/b2core`.
pub(crate) fn router(b2core: Arc<B2Core>) -> Router {
    let mut router = Router::new();
    for prefix in ["/api/v2/my/verifications", "/v2/my/verifications"] {
        router = router
            .route(prefix, get(history).post(submit))
            .route(&format!("{prefix}/"), get(history).post(submit))
            .route(&format!("{prefix}/wizard"), get(wizard))
            .route(&format!("{prefix}/{{id}}"), get(details));
    }
    router.with_state(b2core)
}

async fn history(State(b2core): State<Arc<B2Core>>, headers: HeaderMap, RawQuery(query): RawQuery) -> Reply {
    let key = request::token_key(&headers)?;
    let query = request::history(query.as_deref().unwrap_or_default())?;
    Ok(Json(b2core.clients.history(&key, query, render::entries)))
}

async fn details(State(b2core): State<Arc<B2Core>>, headers: HeaderMap, Path(id): Path<String>) -> Reply {
    let key = request::token_key(&headers)?;
    b2core.clients.entry(&key, &id, |client, entry| Json(render::entries(client, &[entry], 1)))
}

async fn wizard(State(b2core): State<Arc<B2Core>>, headers: HeaderMap) -> Reply {
    let key = request::token_key(&headers)?;
    Ok(Json(render::step(&b2core.clients.wizard(&key))))
}

async fn submit(State(b2core): State<Arc<B2Core>>, headers: HeaderMap, body: Bytes) -> Reply {
    let key = request::token_key(&headers)?;
    let uuid = request::submission(&body)?;
    let (client_id, level) = b2core.clients.submit(&key, &uuid)?;
    tracing::info!(client_id, level, "sandbox b2core: verification submitted");
    Ok(Json(render::final_step(&uuid)))
}
