//! Starting an AbleID session once per `transactionId`, and recording it in the log.
//!
//! AbleID documents `transactionId` as unique per session but does not refuse a repeat:
//! a caller retrying after a lost answer would open a second session. So the gateway
//! claims the caller's id (`transaction_claim`) in the store *before* calling AbleID (a
//! record with a unique key, written atomically: of concurrent claims one wins, in one
//! process or across replicas), makes the one vendor call, then records the session on
//! the claim. Everyone else waits for the claim to hold a session and returns that one. A
//! claim whose start failed is released; one whose claimant died expires and is taken
//! over.
//!
//! Data hooks are signed only by the attempt id, with the same value for every hook of
//! the attempt, so a signature proves little. The gateway therefore accepts a data hook
//! only while a `Request*` call it made for that attempt and kind is outstanding: the
//! call writes a record with an expiry, and the hook's event uses it up in the same
//! transaction that stores it.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::client::{Session, Subject};
use super::{DOMAIN, Shared, VENDOR};
use crate::attempts::{AttemptKey, Effect, NewEvent, RecordKey, event_id};
use crate::error::{ApiError, ErrorCode, GATEWAY_DOMAIN};
use crate::proto::attempts::{DataKind, Started, attempt_event::Kind};
use crate::providers::configured;
use crate::store::Record;

/// The namespace of `transactionId` claims.
const TRANSACTIONS: &str = "ableid.transaction";

/// How often a waiting start looks at the claim.
const POLL: Duration = Duration::from_millis(25);

/// A started session as the caller sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartedSession {
    /// AbleID's session id.
    pub attempt_id: String,
    /// The page the person opens.
    pub full_url: String,
    /// The page's language.
    pub lang: String,
    /// AbleID's message.
    pub message: String,
    /// When the session expires, in seconds since the epoch.
    pub expire_seconds: i64,
}

/// What a claim holds.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Claim {
    /// A start is under way.
    Pending,
    /// The session it made.
    Started(StartedSession),
}

impl Shared {
    /// Starts a session for `transaction_id`, or returns the one a start with the same id
    /// made. `owner` is the caller, recorded on the attempt.
    pub async fn start_once(
        &self,
        subject: Subject<'_>,
        transaction_id: &str,
        lang: &str,
        hooks: &[String],
        owner: &str,
        deadline: Option<Instant>,
    ) -> Result<StartedSession, ApiError> {
        let client = configured(&self.client, DOMAIN)?;
        let key = transaction_claim(owner, transaction_id);
        loop {
            let claim = Record {
                key: key.clone(),
                attempt: None,
                value: encode(&Claim::Pending),
                // A claimant that died mid-call leaves a claim nobody else may take until
                // its call could no longer succeed.
                expires: Some(SystemTime::now() + self.start_timeout + Duration::from_secs(5)),
            };
            match self.log.claim_record(claim).await? {
                None => {
                    return self
                        .start_claimed(client, &key, subject, transaction_id, lang, hooks, owner, deadline)
                        .await;
                }
                Some(existing) => {
                    if let Some(started) = self.wait_for(&key, existing, deadline).await? {
                        return Ok(started);
                    }
                    // The claim was released (its start failed) or expired: claim again.
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn start_claimed(
        &self,
        client: &super::client::AbleId,
        claim: &RecordKey,
        subject: Subject<'_>,
        transaction_id: &str,
        lang: &str,
        hooks: &[String],
        owner: &str,
        deadline: Option<Instant>,
    ) -> Result<StartedSession, ApiError> {
        let session: Session = match client.start(subject, transaction_id, lang, hooks, deadline).await {
            Ok(session) => session,
            Err(e) => {
                // Nothing was started: the next start with this id may try again.
                if let Err(release) = self.log.delete_record(claim).await {
                    tracing::error!(reason = %release.reason, "cannot release a transaction claim");
                }
                return Err(e);
            }
        };
        let expire = SystemTime::now() + self.session_ttl;
        let key = AttemptKey::new(VENDOR, &session.attempt_id);
        let started = Started {
            transaction_id: transaction_id.to_owned(),
            url: session.full_url.clone(),
            expire_time: Some(expire.into()),
            lang: session.lang.clone(),
        };
        let event = NewEvent {
            owner: Some(owner.to_owned()),
            ..NewEvent::new(event_id(&key, "started", b""), Kind::Started(started), Effect::Keep)
        };
        self.log.append(&key, event).await?;
        let result = StartedSession {
            attempt_id: session.attempt_id,
            full_url: session.full_url,
            lang: session.lang,
            message: session.message,
            expire_seconds: expire.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64),
        };
        let record = Record {
            key: claim.clone(),
            attempt: Some(key),
            value: encode(&Claim::Started(result.clone())),
            expires: None,
        };
        self.log.put_record(record).await?;
        Ok(result)
    }

    /// Waits until the claim holds a session (`Some`), or is gone (`None`), or the
    /// caller's deadline or the claim's own lifetime passes.
    async fn wait_for(
        &self,
        key: &RecordKey,
        mut value: Vec<u8>,
        deadline: Option<Instant>,
    ) -> Result<Option<StartedSession>, ApiError> {
        let give_up = Instant::now() + self.start_timeout + Duration::from_secs(5);
        loop {
            match decode(&value) {
                Some(Claim::Started(started)) => return Ok(Some(started)),
                Some(Claim::Pending) => {}
                None => {
                    tracing::error!("an unreadable transaction claim; treating it as in progress");
                }
            }
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) || now >= give_up {
                return Err(ApiError::new(
                    ErrorCode::Aborted,
                    GATEWAY_DOMAIN,
                    "TRANSACTION_IN_PROGRESS",
                    "a start with this transaction_id is still in progress: retry",
                )
                .with_metadata("retry", "true"));
            }
            tokio::time::sleep(POLL).await;
            match self.log.record_value(key).await.map_err(crate::attempts::log::store_error)? {
                Some(next) => value = next,
                None => return Ok(None),
            }
        }
    }
}

/// The claim of `transaction_id` by `owner`. Transaction ids are the caller's own: the same
/// id from another caller is another start, so a caller limited to its own attempts is never
/// handed someone else's session (and its URL, the person's page) by sending their id.
/// The name's length comes first because a certificate's name may hold a `/` too.
fn transaction_claim(owner: &str, transaction_id: &str) -> RecordKey {
    RecordKey::new(TRANSACTIONS, format!("{}:{owner}/{transaction_id}", owner.len()))
}

fn encode(claim: &Claim) -> Vec<u8> {
    serde_json::to_vec(claim).unwrap_or_default()
}

fn decode(value: &[u8]) -> Option<Claim> {
    serde_json::from_slice(value).ok()
}

/// The namespace of outstanding data requests.
const DATA_REQUESTS: &str = "ableid.data_request";

/// The record a data hook of `kind` for `key` needs: written by the `Request*` call,
/// used up by the hook.
pub fn data_request(key: &AttemptKey, kind: DataKind) -> RecordKey {
    RecordKey::new(DATA_REQUESTS, format!("{}/{}", key.id, kind.as_str_name()))
}

impl Shared {
    /// Records that a data hook of `kind` is now expected for the attempt, for the data
    /// hook window. Written before the vendor call: AbleID may post the hook before it
    /// answers the call.
    pub async fn expect_data(&self, key: &AttemptKey, kind: DataKind) -> Result<(), ApiError> {
        let record = Record {
            key: data_request(key, kind),
            attempt: Some(key.clone()),
            value: Vec::new(),
            expires: Some(SystemTime::now() + self.data_hook_window),
        };
        self.log.put_record(record).await
    }

    /// Withdraws the expectation of a data request AbleID refused.
    pub async fn forget_data(&self, key: &AttemptKey, kind: DataKind) {
        if let Err(e) = self.log.delete_record(&data_request(key, kind)).await {
            tracing::error!(reason = %e.reason, attempt = %key, "cannot withdraw a data request");
        }
    }
}
