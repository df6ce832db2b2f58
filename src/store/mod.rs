//! The event log's storage: the only place attempts are persisted and the only source of
//! change notifications.
//!
//! A store is storage, not domain logic. It offers: an append that, in one transaction,
//! drops an event whose id is already stored, finds the attempt, applies
//! [`crate::attempts::state::project`] (the core's rule) and writes the event under the
//! attempt's next gap-free sequence; reads after a sequence; look-ups; keyed provider
//! records with an expiry (idempotency claims, browser-return tokens); a subscription as
//! a [`Stream`]; and the retention purge. [`conformance`] is the test kit every backend
//! passes. [`sqlite`] is the embedded backend; [`postgres`] the shared one, for several
//! replicas on one database. [`open`] picks one from the configuration.

pub mod conformance;
pub mod postgres;
mod rows;
pub mod sqlite;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::stream::BoxStream;
use secrecy::{ExposeSecret, SecretString};

use crate::attempts::state::{AttemptRecord, Refusal};
use crate::attempts::{AttemptKey, NewEvent, RecordKey};
use crate::config::StoreConfig;
use crate::proto::attempts::{Attempt, AttemptEvent, AttemptState, Vendor};

/// What [`EventStore::append`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Appended {
    /// The event is new and now committed.
    Stored(Arc<AttemptEvent>),
    /// An event with this id was already stored; nothing changed. Carries the stored
    /// event, so a caller can tell a redelivery from a conflicting claim.
    Duplicate(Arc<AttemptEvent>),
    /// The core's rule refused the event; nothing changed.
    Refused(Refusal),
    /// The event needed a record ([`NewEvent::consumes`]) that is absent or expired;
    /// nothing changed.
    MissingRecord,
}

/// A failure of the store itself (disk, corruption, database unreachable). Callers answer
/// 5xx or `UNAVAILABLE` so the sender retries; nothing is acknowledged.
#[derive(Debug, thiserror::Error)]
#[error("event store: {0}")]
pub struct StoreError(pub String);

impl StoreError {
    /// A store error from anything printable.
    pub fn new(cause: impl std::fmt::Display) -> Self {
        Self(cause.to_string())
    }
}

/// A live notice from [`EventStore::subscribe`].
#[derive(Debug, Clone)]
pub enum Live {
    /// This event was just committed.
    Event(Arc<LiveEvent>),
    /// Something was committed (or may have been missed): read the log after the last
    /// event seen. Sent when a subscriber lagged, or by stores whose notifications carry
    /// no events.
    Changed,
}

/// An event just committed, as every live subscriber of its attempt receives it: one
/// shared value, with room for the one encoding of it that all their watches send.
#[derive(Debug)]
pub struct LiveEvent {
    event: Arc<AttemptEvent>,
    encoded: OnceLock<Bytes>,
}

impl LiveEvent {
    /// A notice of `event`.
    pub fn new(event: Arc<AttemptEvent>) -> Arc<Self> {
        Arc::new(Self { event, encoded: OnceLock::new() })
    }

    /// The event's encoding: `encode`d by the first subscriber that asks, shared after.
    pub fn encoded(&self, encode: impl FnOnce(&AttemptEvent) -> Bytes) -> Bytes {
        self.encoded.get_or_init(|| encode(&self.event)).clone()
    }
}

impl std::ops::Deref for LiveEvent {
    type Target = AttemptEvent;

    fn deref(&self) -> &AttemptEvent {
        &self.event
    }
}

/// Live notices of one attempt. A stream that ends means the store can no longer
/// notify (shutting down, or its connection broke): the reader re-reads the log and
/// subscribes again, or ends its watch.
pub type LiveStream = BoxStream<'static, Live>;

/// Opens the configured store: PostgreSQL when `store.url` is set (migrating it first),
/// otherwise the SQLite file in `store.data_dir`. The one place the backend is chosen.
pub async fn open(config: &StoreConfig) -> Result<Arc<dyn EventStore>, StoreError> {
    match &config.url {
        Some(url) => {
            let connection = postgres_connection(url)?;
            let store = postgres::PostgresStore::open(connection, config.pool_size)
                .await
                .map_err(|e| StoreError(format!("PostgreSQL (store.url / IDV_DATABASE_URL): {}", e.0)))?;
            Ok(Arc::new(store))
        }
        None => Ok(Arc::new(sqlite::SqliteStore::open_with(
            &config.data_dir,
            &sqlite::OpenOptions::from_config(config),
        )?)),
    }
}

/// `store.url`, parsed; an error names the setting, never the URL (it may hold a password).
fn postgres_connection(url: &SecretString) -> Result<postgres::Connection, StoreError> {
    postgres::Connection::parse(url.expose_secret()).map_err(|e| StoreError(format!("store.url: {e}")))
}

/// Brings the configured store's schema up to date and says what was done
/// (`idv-gateway migrate`). Opening a store migrates it too; this does it alone, before a
/// deployment.
pub async fn migrate(config: &StoreConfig) -> Result<String, StoreError> {
    match &config.url {
        Some(url) => {
            let connection = postgres_connection(url)?;
            let applied = postgres::migrate(&connection).await?;
            Ok(format!("PostgreSQL: applied {applied} migration(s); the schema is up to date"))
        }
        None => {
            sqlite::SqliteStore::open_with(&config.data_dir, &sqlite::OpenOptions::from_config(config))?;
            Ok(format!("SQLite in {}: the schema is up to date", config.data_dir.display()))
        }
    }
}

/// A provider's keyed record: small state tied to an attempt's lifetime, or to a time.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Which record.
    pub key: RecordKey,
    /// The attempt it belongs to: it is purged with it. `None` for a record that exists
    /// before its attempt (an idempotency claim).
    pub attempt: Option<AttemptKey>,
    /// The provider's bytes.
    pub value: Vec<u8>,
    /// When it stops counting: reads ignore it and a claim may replace it.
    pub expires: Option<SystemTime>,
}

/// The durable, per-attempt event log.
#[async_trait::async_trait]
pub trait EventStore: Send + Sync + std::fmt::Debug + 'static {
    /// Appends an event to its attempt's log in one transaction (see [`Appended`]). The
    /// event is durable when this returns `Stored`; subscribers are notified after the
    /// commit. Concurrent appends to one attempt get consecutive sequences; concurrent
    /// appends of one event id store it once.
    async fn append(&self, key: &AttemptKey, event: NewEvent) -> Result<Appended, StoreError>;

    /// The attempt, if stored.
    async fn attempt(&self, key: &AttemptKey) -> Result<Option<AttemptRecord>, StoreError>;

    /// Up to `limit` events with a sequence above `after`, oldest first. An event that can
    /// no longer be decoded comes back as a placeholder: its id and sequence, no kind.
    async fn events(
        &self,
        key: &AttemptKey,
        after: i64,
        limit: usize,
    ) -> Result<Vec<AttemptEvent>, StoreError>;

    /// Notices of events appended to this attempt from now on. Subscribe before reading
    /// the log, and nothing committed after the read is missed.
    fn subscribe(&self, key: &AttemptKey) -> LiveStream;

    /// Attempts of `vendor` in `state`; with `expiring_before`, only those whose expiry is
    /// earlier (the expiry sweep).
    async fn attempts_in_state(
        &self,
        vendor: Vendor,
        state: AttemptState,
        expiring_before: Option<SystemTime>,
    ) -> Result<Vec<Attempt>, StoreError>;

    /// Writes a record, replacing one with the same key.
    async fn put_record(&self, record: Record) -> Result<(), StoreError>;

    /// Writes a record unless one with the same key exists and has not expired; returns
    /// the existing one's value when it does. Atomic: of concurrent claims, one wins.
    async fn claim_record(&self, record: Record) -> Result<Option<Vec<u8>>, StoreError>;

    /// The value of an unexpired record.
    async fn record(&self, key: &RecordKey) -> Result<Option<Vec<u8>>, StoreError>;

    /// Deletes a record; true if there was one.
    async fn delete_record(&self, key: &RecordKey) -> Result<bool, StoreError>;

    /// Deletes attempts (with their events and records) not updated since `before`, and
    /// records without an attempt that expired before it; returns how many attempts went.
    async fn purge(&self, before: SystemTime) -> Result<u64, StoreError>;

    /// Takes, or renews, the lease `name` for `holder` until `ttl` from now; true when
    /// `holder` holds it afterwards. A lease held by someone else is taken over only once
    /// it has expired. Leases let replicas sharing a store do work one at a time (observe
    /// one BAF applicant), and take it over within `ttl` when a replica dies.
    async fn lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError>;

    /// Gives the lease up, if `holder` holds it.
    async fn release(&self, name: &str, holder: &str) -> Result<(), StoreError>;

    /// Checks that the store can serve: for readiness and health. Cheap enough to call
    /// every few seconds.
    async fn check(&self) -> Result<(), StoreError>;

    /// A file an event of the attempt carries by reference ([`NewEvent::media`]).
    async fn media(&self, key: &AttemptKey, media_id: &str) -> Result<Option<StoredMedia>, StoreError>;
}

/// A file's bytes, as stored.
#[derive(Clone, PartialEq)]
pub struct StoredMedia {
    /// MIME type.
    pub content_type: String,
    /// The bytes.
    pub bytes: bytes::Bytes,
}

impl std::fmt::Debug for StoredMedia {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredMedia").field("size", &self.bytes.len()).finish_non_exhaustive()
    }
}
