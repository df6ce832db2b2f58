//! The gateway's own clock: attempts that expire without a word from their vendor, and the
//! retention purge. Both are safe to run in every replica at once: an expiry is an event
//! with a fixed id (stored once), and a purge deletes what any replica would.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::task::JoinSet;

use super::log::EventLog;
use super::{AttemptKey, Effect, NewEvent, event_id};
use crate::proto::attempts::{AttemptState, Expired, Vendor, attempt_event::Kind};
use crate::store::Appended;

/// How often pending attempts are checked for expiry.
const EXPIRY_SWEEP: Duration = Duration::from_secs(1);

/// How often old attempts are purged.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Starts the sweeps. `expiring` lists the vendors whose sessions expire silently, each
/// with how long after its `expire_time` an attempt is declared expired (a check
/// finished at the last second may still have its result in flight).
pub fn spawn(log: Arc<EventLog>, expiring: Vec<(Vendor, Duration)>, tasks: &mut JoinSet<()>) {
    if !expiring.is_empty() {
        let log = log.clone();
        tasks.spawn(async move { sweep_expiries(&log, &expiring).await });
    }
    tasks.spawn(async move { purge_periodically(&log).await });
}

async fn sweep_expiries(log: &EventLog, expiring: &[(Vendor, Duration)]) {
    let mut tick = tokio::time::interval(EXPIRY_SWEEP);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = log.shutdown().cancelled() => return,
            _ = tick.tick() => {}
        }
        for &(vendor, grace) in expiring {
            expire_due(log, vendor, SystemTime::now() - grace).await;
        }
    }
}

/// Records `expired` for every pending attempt of `vendor` whose expiry is before `due`.
pub async fn expire_due(log: &EventLog, vendor: Vendor, due: SystemTime) {
    let expired = match log.attempts_in_state(vendor, AttemptState::Pending, Some(due)).await {
        Ok(expired) => expired,
        Err(e) => {
            tracing::error!(error = %e, "expiry sweep failed");
            return;
        }
    };
    for attempt in expired {
        let key = AttemptKey::new(vendor, &attempt.attempt_id);
        let event = NewEvent::new(
            event_id(&key, "expired", b""),
            Kind::Expired(Expired { expire_time: attempt.expire_time }),
            Effect::Settle(AttemptState::Expired, None),
        );
        match log.record(&key, event).await {
            Ok(Appended::Stored(_)) => tracing::info!(attempt = %key, "attempt expired without a result"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, attempt = %key, "cannot record expiry"),
        }
    }
}

async fn purge_periodically(log: &EventLog) {
    let mut tick = tokio::time::interval(PURGE_EVERY);
    loop {
        tokio::select! {
            _ = log.shutdown().cancelled() => return,
            _ = tick.tick() => {}
        }
        match log.purge().await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "purged attempts past retention"),
            Err(e) => tracing::error!(error = %e, "retention purge failed"),
        }
    }
}
