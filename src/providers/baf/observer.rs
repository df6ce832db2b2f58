//! Observes BAF applicants, which have no server webhooks: one task per applicant reads it
//! (and, when its attempt count moves, its attempts) every `poll_min` while someone watches
//! it, with exponential backoff up to `poll_max` otherwise, and appends an event for each
//! change. Reads are woken early when something probably changed: a
//! watcher attached, the person's browser came back, or a mutation went through the
//! gateway.
//!
//! An observer runs while its applicant is not terminal or someone watches it. Its memory
//! of what it has seen is rebuilt from the event log, so a restart resumes without
//! duplicate events, and event ids are derived from content, so two replicas observing the
//! same applicant store each change once.
//!
//! Replicas sharing one store each run observers (for the applicants they created, were
//! asked to watch, or found pending), but only one reads a given applicant at a time: the
//! holder of the lease `baf.observe/<applicant>`, taken or renewed before each read for
//! [`lease_ttl`] (3 × `poll_min`, at least 5 s). The lease is renewed by reading, so a
//! holder backing off lets it lapse between reads, and a replica whose own watchers want
//! fast reads tries for it every `poll_min` and takes it within seconds, as it does when
//! the holder dies; a replica that does not hold it skips the read and forgets what it had
//! seen, rebuilding that from the log once it holds the lease again. With one process
//! (SQLite) the lease is always granted.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::VENDOR;
use super::client::Baf;
use super::mapping::attempt_state;
use crate::attempts::log::EventLog;
use crate::attempts::{AttemptKey, Effect, NewEvent, Outcome, event_id, is_terminal};
use crate::error::{ApiError, ErrorCode};
use crate::proto::attempts::{BafAttemptAdded, BafStatusChanged, Started, attempt_event::Kind};
use crate::proto::baf::{self as pb, ApplicantStatus};
use crate::store::Appended;

/// The raw status the gateway records when BAF no longer knows an applicant.
const DELETED_STATUS: i32 = -1;

/// The BAF observers of this gateway.
#[derive(Debug)]
pub struct Observers {
    baf: Baf,
    log: Arc<EventLog>,
    min: Duration,
    max: Duration,
    shutdown: CancellationToken,
    running: Mutex<HashMap<String, Arc<Observed>>>,
    /// This process's name on the leases it takes.
    holder: String,
}

/// How long an observer's lease lasts past each read: long enough to cover the next read
/// of a watched applicant, short enough that another replica takes over within seconds.
pub fn lease_ttl(poll_min: Duration) -> Duration {
    (poll_min * 3).max(Duration::from_secs(5))
}

/// The lease for reading one applicant.
fn lease_name(applicant_id: &str) -> String {
    format!("baf.observe/{applicant_id}")
}

/// One observed applicant.
#[derive(Debug, Default)]
struct Observed {
    wake: Notify,
    watchers: AtomicUsize,
}

/// Keeps an applicant observed while a watch holds it.
#[derive(Debug)]
pub struct WatchGuard {
    observed: Arc<Observed>,
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        self.observed.watchers.fetch_sub(1, Ordering::SeqCst);
        self.observed.wake.notify_one();
    }
}

/// What an observer has seen of its applicant.
#[derive(Debug, Default, PartialEq)]
struct Seen {
    status: (i32, bool, i32),
    status_events: usize,
    attempts: HashSet<i64>,
}

impl Observers {
    /// Observers reading BAF through `baf`, pausing from `min` up to `max` between reads.
    pub fn new(
        baf: Baf,
        log: Arc<EventLog>,
        min: Duration,
        max: Duration,
        shutdown: CancellationToken,
    ) -> Self {
        let holder = hex::encode(rand::random::<[u8; 8]>());
        Self { baf, log, min, max, shutdown, running: Mutex::new(HashMap::new()), holder }
    }

    /// The longest pause between reads of an unwatched applicant.
    pub fn max_pause(&self) -> Duration {
        self.max
    }

    /// Starts observing the applicant unless it already is.
    pub fn observe(self: &Arc<Self>, applicant_id: &str) {
        self.attach(applicant_id, false);
    }

    /// Keeps the applicant observed (even when terminal) until the guard drops, and reads
    /// it now.
    pub fn watch(self: &Arc<Self>, applicant_id: &str) -> WatchGuard {
        let observed = self.attach(applicant_id, true);
        observed.wake.notify_one();
        WatchGuard { observed }
    }

    /// Finds or starts the observer, counting a watcher under the same lock the observer
    /// takes to decide to stop, so no watcher is left with a stopped observer.
    fn attach(self: &Arc<Self>, applicant_id: &str, watching: bool) -> Arc<Observed> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let observed = running
            .entry(applicant_id.to_owned())
            .or_insert_with(|| {
                let observed = Arc::new(Observed::default());
                let this = self.clone();
                let id = applicant_id.to_owned();
                let handle = observed.clone();
                tokio::spawn(async move { this.run(id, handle).await });
                observed
            })
            .clone();
        if watching {
            observed.watchers.fetch_add(1, Ordering::SeqCst);
        }
        observed
    }

    /// Reads the applicant now, if it is observed.
    pub fn wake(&self, applicant_id: &str) {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(observed) = running.get(applicant_id) {
            observed.wake.notify_one();
        }
    }

    /// Records an applicant the gateway has not seen: false when BAF does not know it
    /// either. It is observed from then on.
    pub async fn import(self: &Arc<Self>, applicant_id: &str) -> Result<bool, ApiError> {
        let applicant = match self.baf.get_applicant(applicant_id, None).await {
            Ok(applicant) => applicant,
            Err(e) if e.code == ErrorCode::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        let key = AttemptKey::new(VENDOR, applicant_id);
        let started = Started {
            transaction_id: applicant.reference_id.clone(),
            url: String::new(),
            expire_time: None,
            lang: String::new(),
        };
        let event = NewEvent::new(event_id(&key, "started", b""), Kind::Started(started), Effect::Keep);
        self.log.append(&key, event).await?;
        let mut seen = self.seen(&key).await?;
        self.record_applicant(&key, &applicant, &mut seen).await?;
        self.observe(applicant_id);
        Ok(true)
    }

    async fn run(self: Arc<Self>, applicant_id: String, observed: Arc<Observed>) {
        let key = AttemptKey::new(VENDOR, &applicant_id);
        let lease = lease_name(&applicant_id);
        let ttl = lease_ttl(self.min);
        let mut delay = self.min;
        let mut seen = None;
        // Until when this observer surely held the lease since its last read: past it,
        // another replica may have read and recorded meanwhile.
        let mut held_until: Option<Instant> = None;
        loop {
            // Wait first: the record is current when an observer starts (just created,
            // imported, or resumed at startup), and a wake-up cuts the wait short.
            tokio::select! {
                _ = self.shutdown.cancelled() => return,
                _ = observed.wake.notified() => {}
                _ = tokio::time::sleep(delay) => {}
            }
            let leased = match self.log.lease(&lease, &self.holder, ttl).await {
                Ok(leased) => leased,
                Err(e) => {
                    tracing::error!(error = %e, applicant = %key, "cannot take the observation lease");
                    false
                }
            };
            let now = Instant::now();
            if !leased || held_until.is_none_or(|until| until < now) {
                seen = None;
            }
            let polled = if leased {
                held_until = Some(now + ttl);
                if seen.is_none() {
                    match self.seen(&key).await {
                        Ok(rebuilt) => seen = Some(rebuilt),
                        Err(e) => {
                            tracing::error!(reason = %e.reason, applicant = %key, "cannot read the event log");
                            continue;
                        }
                    }
                }
                let Some(seen) = seen.as_mut() else { continue };
                Some(match self.poll(&key, seen).await {
                    Ok(changed) => changed,
                    Err(e) => {
                        tracing::warn!(applicant = %key, code = ?e.code, reason = %e.reason, "cannot read BAF applicant");
                        false
                    }
                })
            } else {
                None
            };
            let terminal = match self.log.attempt(&key).await {
                Ok(Some(record)) => is_terminal(record.attempt.state()),
                Ok(None) => true,
                Err(_) => false,
            };
            if terminal && self.stop_unwatched(&applicant_id, &observed) {
                if leased && let Err(e) = self.log.release(&lease, &self.holder).await {
                    tracing::warn!(error = %e, applicant = %key, "cannot release the observation lease");
                }
                return;
            }
            // Someone waiting on a watch gets the shortest pause (and, on a replica without
            // the lease, the quickest takeover); otherwise back off while nothing changes.
            let watched = observed.watchers.load(Ordering::SeqCst) > 0;
            delay = if polled == Some(true) || watched { self.min } else { (delay * 2).min(self.max) };
        }
    }

    /// Removes the observer if nobody watches it; false if someone does.
    fn stop_unwatched(&self, applicant_id: &str, observed: &Arc<Observed>) -> bool {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if observed.watchers.load(Ordering::SeqCst) > 0 {
            return false;
        }
        if running.get(applicant_id).is_some_and(|o| Arc::ptr_eq(o, observed)) {
            running.remove(applicant_id);
        }
        true
    }

    /// Rebuilds what was seen from the log: the last recorded status and the attempts.
    async fn seen(&self, key: &AttemptKey) -> Result<Seen, ApiError> {
        let mut seen = Seen::default();
        let mut after = 0;
        loop {
            let events = self.log.events(key, after, 500).await?;
            let Some(last) = events.last() else { break };
            after = last.sequence;
            for event in &events {
                match &event.kind {
                    Some(Kind::BafStatusChanged(c)) => {
                        seen.status = (c.raw_status, c.completed, c.attempts_used);
                        seen.status_events += 1;
                    }
                    Some(Kind::BafAttemptAdded(a)) => {
                        seen.attempts.extend(a.attempt.as_ref().map(|a| a.attempt_id));
                    }
                    _ => {}
                }
            }
        }
        Ok(seen)
    }

    /// Reads the applicant once and records what changed; true if anything did.
    async fn poll(&self, key: &AttemptKey, seen: &mut Seen) -> Result<bool, ApiError> {
        match self.baf.get_applicant(&key.id, None).await {
            Ok(applicant) => self.record_applicant(key, &applicant, seen).await,
            Err(e) if e.code == ErrorCode::NotFound => {
                let deleted = BafStatusChanged {
                    status: ApplicantStatus::Unspecified as i32,
                    raw_status: DELETED_STATUS,
                    status_name: "Deleted".into(),
                    completed: true,
                    attempts_used: seen.status.2,
                };
                self.record_status(key, deleted, seen).await
            }
            Err(e) => Err(e),
        }
    }

    async fn record_applicant(
        &self,
        key: &AttemptKey,
        applicant: &pb::Applicant,
        seen: &mut Seen,
    ) -> Result<bool, ApiError> {
        let mut changed = false;
        // New attempts first, so a watcher has the attempt before the status change that
        // may end its stream.
        let known_last = applicant.last_attempt_id.is_none_or(|id| seen.attempts.contains(&id));
        if applicant.attempts_count as usize > seen.attempts.len() || !known_last {
            let mut attempts = self.baf.list_attempts(&key.id, None).await?;
            attempts.sort_by_key(|a| a.attempt_id);
            for attempt in attempts {
                if seen.attempts.insert(attempt.attempt_id) {
                    let event = NewEvent::new(
                        event_id(key, "baf_attempt_added", attempt.attempt_id.to_string().as_bytes()),
                        Kind::BafAttemptAdded(BafAttemptAdded { attempt: Some(attempt) }),
                        Effect::Keep,
                    );
                    self.log.append(key, event).await?;
                    changed = true;
                }
            }
        }
        let change = BafStatusChanged {
            status: applicant.status,
            raw_status: applicant.raw_status,
            status_name: applicant.status_name.clone(),
            completed: applicant.completed,
            attempts_used: applicant.attempts_used,
        };
        Ok(self.record_status(key, change, seen).await? || changed)
    }

    async fn record_status(
        &self,
        key: &AttemptKey,
        change: BafStatusChanged,
        seen: &mut Seen,
    ) -> Result<bool, ApiError> {
        let status = (change.raw_status, change.completed, change.attempts_used);
        // A new applicant starts pending with nothing used: no event for that.
        let initial = seen.status_events == 0 && status == (0, false, 0);
        if status == seen.status || initial {
            return Ok(false);
        }
        // The count of earlier changes is part of the id, so returning to an earlier
        // status (reopened, then failed again) is a new event, while two replicas seeing
        // the same change make the same id.
        let content = format!("{}:{}:{}:{}", seen.status_events, status.0, status.1, status.2);
        // BAF's status is the vendor's current truth, read in order by this observer: the
        // attempt follows it, including a reopened applicant.
        let outcome =
            Outcome { code: change.raw_status, r#type: change.status_name.clone(), message: String::new() };
        let effect = Effect::Observe(attempt_state(change.raw_status, change.completed), outcome);
        let event = NewEvent::new(
            event_id(key, "baf_status_changed", content.as_bytes()),
            Kind::BafStatusChanged(change),
            effect,
        );
        let appended = self.log.append(key, event).await?;
        seen.status = status;
        seen.status_events += 1;
        Ok(matches!(appended, Appended::Stored(_)))
    }
}
