//! The facade the gRPC services and the HTTP receivers use: record what the gateway
//! started, read attempts and their events, and run the background sweeps (AbleID expiry,
//! retention purge, BAF observers).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tonic::Code;
use url::Url;

use super::observer::Observers;
use super::store::{Appended, BafReturn, EventStore, StoreError};
use super::token::{self, TokenError, TokenKind};
use super::{AttemptKey, NewEvent, event_id};
use crate::error::{ApiError, GATEWAY_DOMAIN};
use crate::proto::attempts::{
    Attempt, AttemptEvent, AttemptState, Expired, Started, Vendor, attempt_event::Kind,
};
use crate::vendor::ableid::AbleId;

/// How often pending AbleID sessions are checked for expiry.
const EXPIRY_SWEEP: Duration = Duration::from_secs(1);

/// How often old attempts are purged.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Settings of the tracker.
#[derive(Debug, Clone)]
pub struct TrackerSettings {
    /// How long attempts and events are kept.
    pub retention: Duration,
    /// How long after its expiry a silent AbleID session is declared expired: AbleID may
    /// still be retrying the completion hook of a check finished at the last second.
    pub expiry_grace: Duration,
    /// Where vendors and browsers reach the HTTP listener.
    pub public_url: Option<Url>,
    /// Time between heartbeats of an idle watch.
    pub heartbeat: Duration,
}

/// Records and reads attempts.
#[derive(Debug)]
pub struct Tracker {
    /// The event log.
    pub store: Arc<dyn EventStore>,
    /// BAF observers; `None` when BAF is not configured.
    pub observers: Option<Arc<Observers>>,
    /// AbleID, to verify hook signatures; `None` when not configured.
    pub ableid: Option<AbleId>,
    /// Settings.
    pub settings: TrackerSettings,
    /// Cancelled when the gateway shuts down; watches end then.
    pub shutdown: CancellationToken,
}

/// Maps a store failure to the caller's error; the cause goes to the log only.
pub fn store_error(e: StoreError) -> ApiError {
    tracing::error!(error = %e, "event store failed");
    ApiError::internal("the gateway could not read or write its event log")
}

impl Tracker {
    /// Starts the background work: AbleID expiry, retention purge, and resuming the
    /// observation of BAF applicants that were pending when the gateway last stopped.
    pub fn spawn_background(self: &Arc<Self>, tasks: &mut JoinSet<()>) {
        let tracker = self.clone();
        tasks.spawn(async move { tracker.sweep_expiries().await });
        let tracker = self.clone();
        tasks.spawn(async move { tracker.purge_periodically().await });
        if let Some(observers) = self.observers.clone() {
            let store = self.store.clone();
            tasks.spawn(async move {
                match store.attempts_in_state(Vendor::Baf, AttemptState::Pending, None).await {
                    Ok(pending) => {
                        for attempt in pending {
                            observers.observe(&attempt.attempt_id);
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "cannot resume BAF observers"),
                }
            });
        }
    }

    async fn sweep_expiries(&self) {
        let mut tick = tokio::time::interval(EXPIRY_SWEEP);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let due = SystemTime::now() - self.settings.expiry_grace;
            let expired =
                match self.store.attempts_in_state(Vendor::Ableid, AttemptState::Pending, Some(due)).await {
                    Ok(expired) => expired,
                    Err(e) => {
                        tracing::error!(error = %e, "expiry sweep failed");
                        continue;
                    }
                };
            for attempt in expired {
                let key = AttemptKey::ableid(&attempt.attempt_id);
                let event = NewEvent {
                    event_id: event_id(&key, "expired", b""),
                    kind: Kind::Expired(Expired { expire_time: attempt.expire_time }),
                    raw: None,
                };
                match self.store.append(&key, event).await {
                    Ok(_) => tracing::info!(attempt = %key, "AbleID session expired without a result"),
                    Err(e) => tracing::error!(error = %e, attempt = %key, "cannot record expiry"),
                }
            }
        }
    }

    async fn purge_periodically(&self) {
        let mut tick = tokio::time::interval(PURGE_EVERY);
        loop {
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            match self.store.purge(SystemTime::now() - self.settings.retention).await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "purged attempts past retention"),
                Err(e) => tracing::error!(error = %e, "retention purge failed"),
            }
        }
    }

    /// Records an AbleID session the gateway started.
    pub async fn ableid_started(
        &self,
        attempt_id: &str,
        transaction_id: &str,
        url: &str,
        lang: &str,
        expire_time: prost_types::Timestamp,
    ) -> Result<(), ApiError> {
        let key = AttemptKey::ableid(attempt_id);
        let started = Started {
            transaction_id: transaction_id.to_owned(),
            url: url.to_owned(),
            expire_time: Some(expire_time),
            lang: lang.to_owned(),
        };
        let event =
            NewEvent { event_id: event_id(&key, "started", b""), kind: Kind::Started(started), raw: None };
        self.store.append(&key, event).await.map_err(store_error)?;
        Ok(())
    }

    /// The session an earlier start with this transaction id made, with its `started`
    /// details, so a retried start returns it instead of opening a second session.
    pub async fn ableid_by_transaction(
        &self,
        transaction_id: &str,
    ) -> Result<Option<(Attempt, Started)>, ApiError> {
        let Some(attempt) =
            self.store.find_by_transaction(Vendor::Ableid, transaction_id).await.map_err(store_error)?
        else {
            return Ok(None);
        };
        let key = AttemptKey::ableid(&attempt.attempt_id);
        let events = self.store.events(&key, 0, 1).await.map_err(store_error)?;
        let started = events.into_iter().find_map(|e| match e.kind {
            Some(Kind::Started(started)) => Some(started),
            _ => None,
        });
        Ok(started.map(|started| (attempt, started)))
    }

    /// A fresh browser return for a BAF applicant about to be created: the token and the
    /// URL to give BAF as `callbackUrl`. `None` without a public URL.
    pub fn new_baf_return(&self) -> Option<(String, String)> {
        let base = self.settings.public_url.as_ref()?;
        let token = hex::encode(rand::random::<[u8; 16]>());
        let url = base.join(&format!("return/baf/{token}")).ok()?;
        Some((token, url.to_string()))
    }

    /// Records a BAF applicant the gateway created and starts observing it.
    pub async fn baf_created(
        &self,
        applicant_id: &str,
        reference_id: &str,
        validation_link: &str,
        browser_return: Option<(String, String)>,
    ) -> Result<(), ApiError> {
        let key = AttemptKey::baf(applicant_id);
        let started = Started {
            transaction_id: reference_id.to_owned(),
            url: validation_link.to_owned(),
            expire_time: None,
            lang: String::new(),
        };
        let event =
            NewEvent { event_id: event_id(&key, "started", b""), kind: Kind::Started(started), raw: None };
        self.store.append(&key, event).await.map_err(store_error)?;
        if let Some((token, redirect_url)) = browser_return {
            self.store.put_baf_return(&token, &BafReturn { key, redirect_url }).await.map_err(store_error)?;
        }
        if let Some(observers) = &self.observers {
            observers.observe(applicant_id);
        }
        Ok(())
    }

    /// Tells the observer of a BAF applicant that it probably changed (a mutation went
    /// through the gateway, or the person came back), so it reads it now.
    pub fn baf_touched(&self, applicant_id: &str) {
        if let Some(observers) = &self.observers {
            observers.wake(applicant_id);
        }
    }

    /// Whether the gateway routes this applicant's browser return; if so, the caller's
    /// new `callbackUrl` is stored instead of sent to BAF.
    pub async fn baf_redirect_update(
        &self,
        applicant_id: &str,
        redirect_url: &str,
    ) -> Result<bool, ApiError> {
        self.store.set_baf_redirect(&AttemptKey::baf(applicant_id), redirect_url).await.map_err(store_error)
    }

    /// The caller's `callbackUrl` behind the gateway's return URL BAF reports, so callers
    /// read back what they set.
    pub async fn baf_callback_for_caller(
        &self,
        applicant_id: &str,
        reported: &str,
    ) -> Result<String, ApiError> {
        let ours = self.settings.public_url.as_ref().and_then(|u| u.join("return/baf/").ok());
        match ours {
            Some(prefix) if reported.starts_with(prefix.as_str()) => {
                let key = AttemptKey::baf(applicant_id);
                Ok(self.store.baf_redirect(&key).await.map_err(store_error)?.unwrap_or_default())
            }
            _ => Ok(reported.to_owned()),
        }
    }

    /// The attempt, or `NOT_FOUND`. A BAF applicant the gateway has not seen is looked up
    /// at BAF and, if it exists, recorded and observed from now on.
    pub async fn get(&self, key: &AttemptKey) -> Result<Attempt, ApiError> {
        if let Some(attempt) = self.store.attempt(key).await.map_err(store_error)? {
            return Ok(attempt);
        }
        if key.vendor == Vendor::Baf
            && let Some(observers) = &self.observers
            && let Some(attempt) = observers.import(&key.id).await?
        {
            return Ok(attempt);
        }
        Err(ApiError::not_found("ATTEMPT_NOT_FOUND", format!("no attempt {key}")))
    }

    /// One page of the attempt's events.
    pub async fn events_page(
        &self,
        key: &AttemptKey,
        page_size: i32,
        page_token: &str,
    ) -> Result<(Vec<AttemptEvent>, String), ApiError> {
        self.get(key).await?;
        let after = if page_token.is_empty() {
            0
        } else {
            self.decode(TokenKind::Page, key, page_token, "page_token")?
        };
        let size = if page_size == 0 { 100 } else { page_size as usize };
        let mut events = self.store.events(key, after, size + 1).await.map_err(store_error)?;
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

    /// Appends an event, logging duplicates; for the HTTP receivers.
    pub async fn record(&self, key: &AttemptKey, event: NewEvent) -> Result<Appended, StoreError> {
        let kind = super::kind_name(&event.kind);
        let appended = self.store.append(key, event).await?;
        match &appended {
            Appended::Stored(event) => {
                tracing::info!(attempt = %key, kind, sequence = event.sequence, "event recorded")
            }
            Appended::Duplicate => tracing::info!(attempt = %key, kind, "duplicate event ignored"),
        }
        Ok(appended)
    }
}

/// `FAILED_PRECONDITION` / `RESUME_TOKEN_EXPIRED`.
pub fn token_expired(field: &str) -> ApiError {
    ApiError::new(
        Code::FailedPrecondition,
        GATEWAY_DOMAIN,
        "RESUME_TOKEN_EXPIRED",
        format!("{field} is older than the gateway keeps events: start again without it"),
    )
}
