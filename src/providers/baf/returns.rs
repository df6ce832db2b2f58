//! The person's browser coming back from BAF: the gateway puts its own URL,
//! `{public_url}/return/baf/<token>`, in front of the caller's `callbackUrl`, records
//! `user_returned` when the browser arrives, and redirects it on to the caller's URL.
//!
//! Two provider records hold it, both purged with the applicant: `baf.return` maps the
//! unguessable token to the applicant, `baf.redirect` maps the applicant to the caller's
//! own URL (which `UpdateApplicant` may change without telling BAF).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;

use super::{Shared, VENDOR};
use crate::attempts::{AttemptKey, Effect, NewEvent, RecordKey, event_id};
use crate::error::ApiError;
use crate::proto::attempts::{UserReturned, attempt_event::Kind};
use crate::store::{Appended, Record};

/// Token → applicant id.
const RETURN: &str = "baf.return";
/// Applicant id → the caller's own `callbackUrl`.
const REDIRECT: &str = "baf.redirect";

/// A browser return about to be registered: the token and the URL BAF gets.
#[derive(Debug, Clone)]
pub struct NewReturn {
    token: String,
    /// What BAF gets as `callbackUrl`.
    pub url: String,
}

impl Shared {
    /// A fresh return for an applicant about to be created; `None` without a public URL.
    pub fn new_return(&self) -> Option<NewReturn> {
        let base = self.public_url.as_ref()?;
        let token = hex::encode(rand::random::<[u8; 16]>());
        let url = base.join(&format!("return/baf/{token}")).ok()?;
        Some(NewReturn { token, url: url.to_string() })
    }

    /// Registers the return of a created applicant, redirecting to the caller's URL.
    pub async fn register_return(
        &self,
        key: &AttemptKey,
        ret: NewReturn,
        redirect_url: &str,
    ) -> Result<(), ApiError> {
        let record = |namespace, record_key: &str, value: &str| Record {
            key: RecordKey::new(namespace, record_key),
            attempt: Some(key.clone()),
            value: value.as_bytes().to_vec(),
            expires: None,
        };
        self.log.put_record(record(RETURN, &ret.token, &key.id)).await?;
        self.log.put_record(record(REDIRECT, &key.id, redirect_url)).await
    }

    /// Stores the caller's new `callbackUrl` when the gateway routes this applicant's
    /// return (then BAF keeps pointing at the gateway); false when it does not.
    pub async fn update_redirect(&self, applicant_id: &str, redirect_url: &str) -> Result<bool, ApiError> {
        let key = RecordKey::new(REDIRECT, applicant_id);
        if self.log.record_value(&key).await.map_err(crate::attempts::log::store_error)?.is_none() {
            return Ok(false);
        }
        let attempt = AttemptKey::new(VENDOR, applicant_id);
        let record =
            Record { key, attempt: Some(attempt), value: redirect_url.as_bytes().to_vec(), expires: None };
        self.log.put_record(record).await?;
        Ok(true)
    }

    /// The caller's `callbackUrl` behind the gateway's return URL BAF reports, so callers
    /// read back what they set.
    pub async fn caller_callback(&self, applicant_id: &str, reported: &str) -> Result<String, ApiError> {
        let ours = self.public_url.as_ref().and_then(|u| u.join("return/baf/").ok());
        match ours {
            Some(prefix) if reported.starts_with(prefix.as_str()) => {
                let key = RecordKey::new(REDIRECT, applicant_id);
                let value = self.log.record_value(&key).await.map_err(crate::attempts::log::store_error)?;
                Ok(value.map(|v| String::from_utf8_lossy(&v).into_owned()).unwrap_or_default())
            }
            _ => Ok(reported.to_owned()),
        }
    }
}

/// The return route, to merge into the public HTTP listener.
pub fn routes(shared: Arc<Shared>) -> Router {
    Router::new().route("/return/baf/{token}", get(browser_return)).with_state(shared)
}

async fn browser_return(State(shared): State<Arc<Shared>>, Path(token): Path<String>) -> Response {
    let found = async {
        let Some(applicant) = shared.log.record_value(&RecordKey::new(RETURN, &token)).await? else {
            return Ok(None);
        };
        let applicant = String::from_utf8_lossy(&applicant).into_owned();
        let redirect = shared.log.record_value(&RecordKey::new(REDIRECT, &applicant)).await?;
        Ok(Some((
            AttemptKey::new(VENDOR, applicant),
            redirect.map(|v| String::from_utf8_lossy(&v).into_owned()),
        )))
    };
    let (key, redirect_url) = match found.await {
        Ok(Some((key, redirect))) => (key, redirect.unwrap_or_default()),
        Ok(None) => return (StatusCode::NOT_FOUND, Html(page("This link is not valid."))).into_response(),
        Err::<_, crate::store::StoreError>(e) => {
            tracing::error!(error = %e, "cannot read a BAF return");
            return (StatusCode::SERVICE_UNAVAILABLE, Html(page("Please try again."))).into_response();
        }
    };
    // A reload of the same page between two changes is the same return.
    let position = shared.log.attempt(&key).await.ok().flatten().map_or(0, |a| a.attempt.last_sequence);
    let event = NewEvent::new(
        event_id(&key, "user_returned", position.to_string().as_bytes()),
        Kind::UserReturned(UserReturned { redirect_url: redirect_url.clone() }),
        Effect::Keep,
    );
    match shared.log.record(&key, event).await {
        Ok(Appended::Stored(_) | Appended::Duplicate(_)) => {}
        Ok(other) => tracing::warn!(attempt = %key, ?other, "a BAF return was not recorded"),
        Err(e) => tracing::error!(error = %e, "cannot record a BAF return"),
    }
    shared.touched(&key.id);
    if redirect_url.is_empty() {
        Html(page("Thank you. You can close this window.")).into_response()
    } else {
        Redirect::to(&redirect_url).into_response()
    }
}

fn page(text: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Verification</title></head>\
         <body><p>{text}</p></body></html>"
    )
}
