//! [`EventLog`]: the one door to the event store for providers, the attempts service and
//! the sweeps. It turns store failures into the caller's error (loudly: `UNAVAILABLE`
//! with `RetryInfo`, and an ERROR in the log), logs what was recorded, and holds the
//! settings every reader shares.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use super::limits::MAX_PAGE_BYTES;
use super::state::AttemptRecord;
use super::token::{self, TokenError, TokenKind};
use super::{AttemptKey, NewEvent, RecordKey};
use crate::auth::Caller;
use crate::error::{ApiError, ErrorCode, GATEWAY_DOMAIN};
use crate::proto::attempts::{Attempt, AttemptEvent, AttemptState, Vendor};
use crate::store::{Appended, EventStore, LiveStream, Record, StoreError, StoredMedia};
use crate::telemetry::metrics::{EventLabels, Metrics};
use tracing::Instrument;

/// Settings every reader of the log shares.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// How long attempts and events are kept.
    pub retention: Duration,
    /// Time between heartbeats of an idle watch.
    pub heartbeat: Duration,
    /// Open watches, all callers together.
    pub max_watch_streams: usize,
    /// Open watches of one caller.
    pub max_watch_streams_per_caller: usize,
}

/// The event log.
#[derive(Debug)]
pub struct EventLog {
    store: Arc<dyn EventStore>,
    settings: LogSettings,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
    watches: Arc<Mutex<Watches>>,
}

/// Open watches, counted to enforce the caps.
#[derive(Debug, Default)]
struct Watches {
    total: usize,
    by_caller: HashMap<Arc<str>, usize>,
}

/// One open watch; gives its place back when dropped.
#[derive(Debug)]
pub struct WatchSlot {
    caller: Arc<str>,
    watches: Arc<Mutex<Watches>>,
    metrics: Arc<Metrics>,
}

impl Drop for WatchSlot {
    fn drop(&mut self) {
        let mut watches = self.watches.lock().unwrap_or_else(PoisonError::into_inner);
        watches.total -= 1;
        if let Some(count) = watches.by_caller.get_mut(&self.caller) {
            *count -= 1;
            if *count == 0 {
                watches.by_caller.remove(&self.caller);
            }
        }
        self.metrics.watch_streams.dec();
    }
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
    pub fn new(
        store: Arc<dyn EventStore>,
        settings: LogSettings,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
    ) -> Self {
        Self { store, settings, metrics, shutdown, watches: Arc::default() }
    }

    /// A place for one more watch of `caller`, or `RESOURCE_EXHAUSTED` when the gateway or
    /// the caller has as many open as allowed.
    pub fn open_watch(&self, caller: &Caller) -> Result<WatchSlot, ApiError> {
        let mut watches = self.watches.lock().unwrap_or_else(PoisonError::into_inner);
        let mine = watches.by_caller.get(&caller.name).copied().unwrap_or(0);
        let refused = if watches.total >= self.settings.max_watch_streams {
            Some((
                "watch_streams",
                "the gateway has as many open watches as it allows (limits.max_watch_streams)",
            ))
        } else if mine >= self.settings.max_watch_streams_per_caller {
            Some((
                "watch_streams_per_caller",
                "this caller has as many open watches as it may (limits.max_watch_streams_per_caller)",
            ))
        } else {
            None
        };
        if let Some((reason, message)) = refused {
            self.metrics.overload(reason);
            let mut error =
                ApiError::new(ErrorCode::ResourceExhausted, GATEWAY_DOMAIN, "TOO_MANY_WATCHES", message);
            error.retry_after = Some(Duration::from_secs(5));
            return Err(error);
        }
        watches.total += 1;
        *watches.by_caller.entry(caller.name.clone()).or_default() += 1;
        self.metrics.watch_streams.inc();
        Ok(WatchSlot {
            caller: caller.name.clone(),
            watches: self.watches.clone(),
            metrics: self.metrics.clone(),
        })
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
        let started = std::time::Instant::now();
        let span = tracing::info_span!(
            "append",
            otel.name = "event log append",
            idv.attempt_id = %key.id,
            idv.vendor = %key.vendor_name(),
            idv.event_kind = kind,
        );
        let appended = self.store.append(key, event).instrument(span).await?;
        match &appended {
            Appended::Stored(event) => {
                self.metrics.append_duration.observe(started.elapsed().as_secs_f64());
                self.metrics
                    .events_appended
                    .get_or_create(&EventLabels { vendor: key.vendor_name(), kind })
                    .inc();
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

    /// A file an event of the attempt carries, or `NOT_FOUND`.
    pub async fn media(&self, key: &AttemptKey, media_id: &str) -> Result<StoredMedia, ApiError> {
        self.store
            .media(key, media_id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| ApiError::not_found("MEDIA_NOT_FOUND", format!("no such media in attempt {key}")))
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

    /// Takes or renews a lease (see [`EventStore::lease`]).
    pub async fn lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        self.store.lease(name, holder, ttl).await
    }

    /// Gives a lease up, if `holder` holds it.
    pub async fn release(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.store.release(name, holder).await
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
        // Under the byte budget too: a page always holds at least one event.
        let mut bytes = 0;
        let fits = events
            .iter()
            .position(|e| {
                bytes += prost::Message::encoded_len(e) + 8;
                bytes > MAX_PAGE_BYTES
            })
            .map_or(events.len(), |over| over.max(1));
        let more = events.len() > size.min(fits);
        events.truncate(size.min(fits));
        let next = if more {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::attempts::{DataFailed, attempt_event::Kind};
    use crate::store::conformance::started;

    #[tokio::test]
    async fn pages_stay_under_the_byte_budget() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(crate::store::sqlite::SqliteStore::open(dir.path()).unwrap());
        let settings = LogSettings {
            retention: Duration::from_secs(3600),
            heartbeat: Duration::from_secs(20),
            max_watch_streams: 10,
            max_watch_streams_per_caller: 10,
        };
        let log = EventLog::new(store, settings, Metrics::new(), CancellationToken::new());
        let key = AttemptKey::new(Vendor::Ableid, "a-pages");
        log.append(&key, started("p-0")).await.unwrap();
        for i in 1..=10 {
            // About 300 KiB each: three fit a page, the fourth does not.
            let big = DataFailed { message: "x".repeat(300 * 1024), ..DataFailed::default() };
            let event = NewEvent::new(format!("p-{i}"), Kind::DataFailed(big), crate::attempts::Effect::Keep);
            log.append(&key, event).await.unwrap();
        }
        let (mut token, mut seen, mut pages) = (String::new(), 0, 0);
        loop {
            let (events, next) = log.events_page(&key, 1000, &token).await.unwrap();
            let bytes: usize = events.iter().map(prost::Message::encoded_len).sum();
            assert!(bytes <= MAX_PAGE_BYTES, "{bytes} bytes");
            seen += events.len();
            pages += 1;
            if next.is_empty() {
                break;
            }
            token = next;
        }
        assert_eq!(seen, 11);
        assert!(pages >= 4, "{pages} pages");
    }
}
