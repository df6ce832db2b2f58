//! What the gateway tells load balancers and operators about itself: gRPC health (overall
//! and per service) and the admin listener's `/readyz`, from one place.
//!
//! A service serves when the gateway is not draining, the event log answers, and its
//! vendor is configured and not cut off by its circuit breaker. The event log is checked
//! every few seconds ([`EventStore::check`]); a failure turns everything `NOT_SERVING`
//! and is logged once as an ERROR, recovery once as INFO.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::store::EventStore;
use crate::telemetry::metrics::Metrics;

/// How often the event log is checked.
const STORE_CHECK_EVERY: Duration = Duration::from_secs(2);

/// The gateway's health, shared by the gRPC health service and `/readyz`.
#[derive(Clone)]
pub struct Health {
    reporter: HealthReporter,
    state: Arc<Mutex<State>>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health").finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct State {
    /// Each gRPC service, with the vendor it needs (`None`: only the event log).
    services: BTreeMap<&'static str, Service>,
    store_ok: bool,
    draining: bool,
    /// Vendors whose circuit breaker is open.
    cut_off: BTreeMap<&'static str, bool>,
}

#[derive(Debug, Clone, Copy)]
struct Service {
    vendor: Option<&'static str>,
    configured: bool,
}

/// Why the gateway is not ready, for `/readyz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotReady {
    /// Shutting down: new calls should go elsewhere.
    Draining,
    /// The event log cannot be read or written.
    Store,
}

impl Health {
    /// Health over tonic's reporter; everything serves until told otherwise.
    pub fn new(reporter: HealthReporter, metrics: Arc<Metrics>) -> Self {
        let state = State { store_ok: true, ..State::default() };
        Self { reporter, state: Arc::new(Mutex::new(state)), metrics }
    }

    /// Registers a gRPC service: `vendor` is the provider it calls, `configured` whether
    /// that provider can serve at all.
    pub fn add_service(&self, name: &'static str, vendor: Option<&'static str>, configured: bool) {
        self.lock().services.insert(name, Service { vendor, configured });
    }

    /// Publishes the current statuses.
    pub async fn publish(&self) {
        let statuses = {
            let state = self.lock();
            let up = state.store_ok && !state.draining;
            let mut statuses: Vec<(&'static str, bool)> = state
                .services
                .iter()
                .map(|(name, s)| {
                    let vendor_ok = s.vendor.is_none_or(|v| !state.cut_off.get(v).copied().unwrap_or(false));
                    (*name, up && s.configured && vendor_ok)
                })
                .collect();
            statuses.push(("", up));
            statuses
        };
        for (name, serving) in statuses {
            let status = if serving { ServingStatus::Serving } else { ServingStatus::NotServing };
            self.reporter.set_service_status(name, status).await;
        }
    }

    /// Marks the gateway as draining (shutdown has begun) and publishes it.
    pub async fn drain(&self) {
        self.lock().draining = true;
        self.publish().await;
    }

    /// Records whether a vendor's circuit breaker is open, and publishes it.
    pub async fn set_cut_off(&self, vendor: &'static str, open: bool) {
        let changed = self.lock().cut_off.insert(vendor, open) != Some(open);
        if changed {
            self.publish().await;
        }
    }

    /// Ready for traffic, or why not.
    pub fn ready(&self) -> Result<(), NotReady> {
        let state = self.lock();
        if state.draining {
            Err(NotReady::Draining)
        } else if !state.store_ok {
            Err(NotReady::Store)
        } else {
            Ok(())
        }
    }

    /// Checks the event log every few seconds until `stop`, publishing changes.
    pub async fn watch_store(self, store: Arc<dyn EventStore>, stop: CancellationToken) {
        let mut tick = tokio::time::interval(STORE_CHECK_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let checked = store.check().await;
            self.metrics.store_up.set(i64::from(checked.is_ok()));
            let was_ok = std::mem::replace(&mut self.lock().store_ok, checked.is_ok());
            match (&checked, was_ok) {
                (Err(e), true) => {
                    tracing::error!(error = %e, "the event log failed: hooks are refused and health is NOT_SERVING")
                }
                (Ok(()), false) => tracing::info!("the event log works again"),
                _ => continue,
            }
            self.publish().await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
