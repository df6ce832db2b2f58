//! The event log's interface: the only place attempts are persisted and the only source of
//! change notifications.
//!
//! The embedded implementation is SQLite ([`super::sqlite`]). A shared engine (PostgreSQL)
//! can implement the same trait to let several gateway replicas serve one log: `append`
//! is one transaction keyed by the unique event id (so replicas racing on the same hook
//! or observation store it once), sequences are assigned inside that transaction, and
//! `subscribe` would be fed by `LISTEN/NOTIFY` instead of an in-process channel.

use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::broadcast;

use super::{AttemptKey, NewEvent};
use crate::proto::attempts::{Attempt, AttemptEvent, AttemptState, Vendor};

/// What [`EventStore::append`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum Appended {
    /// The event is new and now committed.
    Stored(Arc<AttemptEvent>),
    /// An event with this id was already stored; nothing changed.
    Duplicate,
}

/// A failure of the store itself (disk, corruption); callers answer 5xx/`INTERNAL` so the
/// sender retries.
#[derive(Debug, thiserror::Error)]
#[error("event store: {0}")]
pub struct StoreError(pub String);

/// A BAF browser return registered for an applicant created through the gateway.
#[derive(Debug, Clone, PartialEq)]
pub struct BafReturn {
    /// The applicant.
    pub key: AttemptKey,
    /// The caller's own `callbackUrl`, where the browser goes next; empty for none.
    pub redirect_url: String,
}

/// The durable, per-attempt event log.
#[async_trait::async_trait]
pub trait EventStore: Send + Sync + std::fmt::Debug + 'static {
    /// Appends an event to the attempt's log, creating the attempt on first sight. The
    /// event is durable when this returns `Stored`; watchers are notified after the
    /// commit. An event whose id is already stored is `Duplicate` and changes nothing.
    async fn append(&self, key: &AttemptKey, event: NewEvent) -> Result<Appended, StoreError>;

    /// The attempt's current state.
    async fn attempt(&self, key: &AttemptKey) -> Result<Option<Attempt>, StoreError>;

    /// The attempt a caller started with this transaction id (AbleID `transactionId`).
    async fn find_by_transaction(
        &self,
        vendor: Vendor,
        transaction_id: &str,
    ) -> Result<Option<Attempt>, StoreError>;

    /// Up to `limit` events with a sequence above `after`, oldest first.
    async fn events(
        &self,
        key: &AttemptKey,
        after: i64,
        limit: usize,
    ) -> Result<Vec<AttemptEvent>, StoreError>;

    /// Events appended to this attempt from now on. Receivers that lag behind the channel
    /// must read the missed events with [`EventStore::events`].
    fn subscribe(&self, key: &AttemptKey) -> broadcast::Receiver<Arc<AttemptEvent>>;

    /// Attempts of `vendor` in `state`; with `expiring_before`, only those whose expiry is
    /// earlier (the AbleID expiry sweep).
    async fn attempts_in_state(
        &self,
        vendor: Vendor,
        state: AttemptState,
        expiring_before: Option<SystemTime>,
    ) -> Result<Vec<Attempt>, StoreError>;

    /// Registers the browser return token of a BAF applicant.
    async fn put_baf_return(&self, token: &str, ret: &BafReturn) -> Result<(), StoreError>;

    /// The BAF return a token names.
    async fn baf_return(&self, token: &str) -> Result<Option<BafReturn>, StoreError>;

    /// The caller's `callbackUrl` of a BAF applicant created through the gateway, if any.
    async fn baf_redirect(&self, key: &AttemptKey) -> Result<Option<String>, StoreError>;

    /// Changes where a BAF applicant's browser goes after its return; false if the
    /// applicant has no registered return.
    async fn set_baf_redirect(&self, key: &AttemptKey, redirect_url: &str) -> Result<bool, StoreError>;

    /// Deletes attempts (and their events and returns) not updated since `before`;
    /// returns how many attempts went.
    async fn purge(&self, before: SystemTime) -> Result<u64, StoreError>;
}
