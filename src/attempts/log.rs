//! [`EventLog`]: the one door to the event store for providers, the attempts service and
//! the sweeps. It turns store failures into the caller's error (loudly: `UNAVAILABLE`
//! with `RetryInfo`, and an ERROR in the log), logs what was recorded, and holds the
//! settings every reader shares.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use super::state::AttemptRecord;
use super::token::{self, TokenError, TokenKind};
use super::{AttemptKey, NewEvent, RecordKey};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode, GATEWAY_DOMAIN};
use crate::proto::attempts::{Attempt, AttemptEvent, AttemptState, Vendor};
use crate::store::{Appended, EventStore, LiveStream, Record, StoreError};

/// Settings every reader of the log shares.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// How long attempts and events are kept.
    pub retention: Duration,
    /// Time between heartbeats of an idle watch.
    pub heartbeat: Duration,
}

/// The event log.
#[derive(Debug)]
pub struct EventLog {
    store: Arc<dyn EventStore>,
    settings: LogSettings,
    shutdown: CancellationToken,
}

/// How long a caller should wait before retrying after the store failed.
const STORE_RETRY: Duration = Duration::from_secs(1);

/// Maps a store failure to the caller's error; the cause goes to the log only.
pub fn store_error(e: StoreError) -> ApiError {
    tracing::error!(error = %e, "event store failed");
    ApiError::unavailable(
        "EVENT_LOG_UNAVAILABLE",
        "the gateway could not read or write its event log: retry",
        STORE_RETRY,
    )
}

/// `NOT_FOUND` / `ATTEMPT_NOT_FOUND`: the gateway did not start or see this attempt, or
/// the caller may not see it.
pub fn not_found(key: &AttemptKey) -> ApiError {
    ApiError::not_found("ATTEMPT_NOT_FOUND", format!("no attempt {key}"))
}

/// `FAILED_PRECONDITION` / `RESUME_TOKEN_EXPIRED`.
pub fn token_expired(field: &str) -> ApiError {
    ApiError::new(
        ErrorCode::FailedPrecondition,
        GATEWAY_DOMAIN,
        "RESUME_TOKEN_EXPIRED",
        format!("{field} is older than the gateway keeps events: start again without it"),
    )
}

impl EventLog {
    /// A log over `store`; `shutdown` ends watches when the gateway stops.
    pub fn new(store: Arc<dyn EventStore>, settings: LogSettings, shutdown: CancellationToken) -> Self {
        Self { store, settings, shutdown }
    }

    /// The settings.
    pub fn settings(&self) -> &LogSettings {
        &self.settings
    }

    /// Cancelled when the gateway shuts down.
    pub fn shutdown(&self) -> &CancellationToken {
        &self.shutdown
    }

    /// Appends an event and says what happened in the log (ids and kinds only).
    pub async fn record(&self, key: &AttemptKey, event: NewEvent) -> Result<Appended, StoreError> {
        let kind = event.kind.field_name();
        let appended = self.store.append(key, event).await?;
        match &appended {
            Appended::Stored(event) => {
                tracing::debug!(attempt = %key, kind, sequence = event.sequence, "event recorded")
            }
            Appended::Duplicate(_) => tracing::debug!(attempt = %key, kind, "duplicate event ignored"),
            Appended::Refused(refusal) => tracing::info!(attempt = %key, kind, ?refusal, "event refused"),
            Appended::MissingRecord => {
                tracing::info!(attempt = %key, kind, "event refused: nothing outstanding asked for it")
            }
        }
        Ok(appended)
    }

    /// [`EventLog::record`] for callers answering a gRPC request.
    pub async fn append(&self, key: &AttemptKey, event: NewEvent) -> Result<Appended, ApiError> {
        self.record(key, event).await.map_err(store_error)
    }

    /// The stored attempt.
    pub async fn attempt(&self, key: &AttemptKey) -> Result<Option<AttemptRecord>, ApiError> {
        self.store.attempt(key).await.map_err(store_error)
    }

    /// The stored attempt, if `caller` may see it: a caller limited to its own attempts
    /// sees nothing else, not even whether it exists.
    pub async fn visible(
        &self,
        key: &AttemptKey,
        caller: &Caller,
    ) -> Result<Option<AttemptRecord>, ApiError> {
        Ok(self.attempt(key).await?.filter(|record| caller.may_see(&record.owner)))
    }

    /// [`EventLog::visible`], or `NOT_FOUND`.
    pub async fn require_visible(
        &self,
        key: &AttemptKey,
        caller: &Caller,
    ) -> Result<AttemptRecord, ApiError> {
        self.visible(key, caller).await?.ok_or_else(|| not_found(key))
    }

    /// Up to `limit` events after `after`.
    pub async fn events(
        &self,
        key: &AttemptKey,
        after: i64,
        limit: usize,
    ) -> Result<Vec<AttemptEvent>, ApiError> {
        self.store.events(key, after, limit).await.map_err(store_error)
    }

    /// Live notices of an attempt (see [`EventStore::subscribe`]).
    pub fn subscribe(&self, key: &AttemptKey) -> LiveStream {
        self.store.subscribe(key)
    }

    /// Attempts of `vendor` in `state`, optionally only those expiring before a time.
    pub async fn attempts_in_state(
        &self,
        vendor: Vendor,
        state: AttemptState,
        expiring_before: Option<SystemTime>,
    ) -> Result<Vec<Attempt>, StoreError> {
        self.store.attempts_in_state(vendor, state, expiring_before).await
    }

    /// Writes a provider record.
    pub async fn put_record(&self, record: Record) -> Result<(), ApiError> {
        self.store.put_record(record).await.map_err(store_error)
    }

    /// Claims a provider record; the existing value when someone else holds it.
    pub async fn claim_record(&self, record: Record) -> Result<Option<Vec<u8>>, ApiError> {
        self.store.claim_record(record).await.map_err(store_error)
    }

    /// Reads a provider record.
    pub async fn record_value(&self, key: &RecordKey) -> Result<Option<Vec<u8>>, StoreError> {
        self.store.record(key).await
    }

    /// Deletes a provider record.
    pub async fn delete_record(&self, key: &RecordKey) -> Result<bool, ApiError> {
        self.store.delete_record(key).await.map_err(store_error)
    }

    /// Deletes what is past the retention.
    pub async fn purge(&self) -> Result<u64, StoreError> {
        self.store.purge(SystemTime::now() - self.settings.retention).await
    }

    /// One page of an attempt's events, after the page token.
    pub async fn events_page(
        &self,
        key: &AttemptKey,
        page_size: i32,
        page_token: &str,
    ) -> Result<(Vec<AttemptEvent>, String), ApiError> {
        let after = if page_token.is_empty() {
            0
        } else {
            self.decode(TokenKind::Page, key, page_token, "page_token")?
        };
        let size = if page_size == 0 { 100 } else { page_size as usize };
        let mut events = self.events(key, after, size + 1).await?;
        let next = if events.len() > size {
            events.truncate(size);
            events.last().map(|e| token::encode(TokenKind::Page, key, e.sequence)).unwrap_or_default()
        } else {
            String::new()
        };
        Ok((events, next))
    }

    /// Decodes a token, mapping refusals to the documented errors.
    pub fn decode(
        &self,
        kind: TokenKind,
        key: &AttemptKey,
        token: &str,
        field: &str,
    ) -> Result<i64, ApiError> {
        token::decode(kind, key, token, self.settings.retention).map_err(|e| match e {
            TokenError::Expired => token_expired(field),
            TokenError::Malformed => {
                ApiError::invalid(vec![(field.into(), "is not a token of this call".into())])
            }
            TokenError::OtherAttempt => {
                ApiError::invalid(vec![(field.into(), "belongs to another attempt".into())])
            }
        })
    }
}
