//! A circuit breaker per vendor: after `failures` consecutive failures (5xx, connection
//! resets, timeouts) the vendor is not called for `cooldown`; calls answer `UNAVAILABLE`
//! with `RetryInfo` at once. Then one call is let through as a probe: its success closes
//! the breaker, its failure opens it again. A vendor that keeps failing is not hammered,
//! callers learn at once instead of after a timeout, and health and metrics show it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// What the breaker lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Calls go through.
    Closed,
    /// Calls are refused until the cooldown ends.
    Open,
    /// One probe call is under way; the others are refused.
    HalfOpen,
}

impl State {
    /// The value of `idv_vendor_breaker_state`.
    pub fn gauge(self) -> i64 {
        match self {
            Self::Closed => 0,
            Self::Open => 1,
            Self::HalfOpen => 2,
        }
    }
}

/// Told of every change of state (health and metrics listen).
pub type Observer = Arc<dyn Fn(&'static str, State) + Send + Sync>;

/// One vendor's breaker.
pub struct Breaker {
    vendor: &'static str,
    failures: u32,
    cooldown: Duration,
    inner: Mutex<Inner>,
    observer: Observer,
}

impl std::fmt::Debug for Breaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Breaker").field("vendor", &self.vendor).finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Inner {
    state: State,
    consecutive: u32,
    open_until: Instant,
}

/// A call the breaker let through; report how it went with [`Breaker::done`]. A probe
/// dropped unreported (its caller went away) counts as failed, so the breaker is never
/// left waiting for an answer that will not come.
#[derive(Debug)]
#[must_use = "report the outcome with Breaker::done"]
pub struct Permit {
    probe: bool,
    breaker: Option<Arc<Breaker>>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(breaker) = self.breaker.take()
            && self.probe
        {
            breaker.record(true, true);
        }
    }
}

impl Breaker {
    /// A closed breaker for `vendor`.
    pub fn new(vendor: &'static str, failures: u32, cooldown: Duration, observer: Observer) -> Self {
        let inner = Inner { state: State::Closed, consecutive: 0, open_until: Instant::now() };
        Self { vendor, failures: failures.max(1), cooldown, inner: Mutex::new(inner), observer }
    }

    /// Lets a call through, or says how long until the next try.
    pub fn admit(self: &Arc<Self>) -> Result<Permit, Duration> {
        let mut inner = self.lock();
        match inner.state {
            State::Closed => Ok(Permit { probe: false, breaker: Some(self.clone()) }),
            State::Open => {
                let now = Instant::now();
                if now < inner.open_until {
                    return Err(inner.open_until - now);
                }
                inner.state = State::HalfOpen;
                drop(inner);
                (self.observer)(self.vendor, State::HalfOpen);
                Ok(Permit { probe: true, breaker: Some(self.clone()) })
            }
            State::HalfOpen => Err(Duration::from_secs(1)),
        }
    }

    /// Records how a call went: `failed` for a failure of the vendor itself (not a
    /// refusal such as 404 or 400, which is the vendor working).
    pub fn done(&self, mut permit: Permit, failed: bool) {
        permit.breaker = None;
        self.record(failed, permit.probe);
    }

    fn record(&self, failed: bool, probe: bool) {
        let mut inner = self.lock();
        let changed = match (failed, probe) {
            (false, _) => {
                inner.consecutive = 0;
                (inner.state != State::Closed).then(|| {
                    inner.state = State::Closed;
                    State::Closed
                })
            }
            (true, probe) => {
                inner.consecutive = inner.consecutive.saturating_add(1);
                if probe || (inner.state == State::Closed && inner.consecutive >= self.failures) {
                    inner.state = State::Open;
                    inner.open_until = Instant::now() + self.cooldown;
                    Some(State::Open)
                } else {
                    None
                }
            }
        };
        drop(inner);
        if let Some(state) = changed {
            match state {
                State::Open => {
                    tracing::warn!(vendor = self.vendor, cooldown = ?self.cooldown, "vendor keeps failing: circuit open")
                }
                State::Closed => tracing::info!(vendor = self.vendor, "vendor answers again: circuit closed"),
                State::HalfOpen => {}
            }
            (self.observer)(self.vendor, state);
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.lock().state
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker(cooldown: Duration) -> (Breaker, Arc<Mutex<Vec<State>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let observer: Observer = Arc::new(move |_, state| log.lock().unwrap().push(state));
        (Breaker::new("baf", 3, cooldown, observer), seen)
    }

    #[test]
    fn opens_after_consecutive_failures_and_closes_after_a_good_probe() {
        let (breaker, seen) = breaker(Duration::from_millis(50));
        let breaker = Arc::new(breaker);
        for _ in 0..2 {
            breaker.done(breaker.admit().unwrap(), true);
        }
        breaker.done(breaker.admit().unwrap(), false);
        for _ in 0..3 {
            breaker.done(breaker.admit().unwrap(), true);
        }
        assert_eq!(breaker.state(), State::Open);
        assert!(breaker.admit().is_err(), "open: refused at once");
        std::thread::sleep(Duration::from_millis(60));
        let probe = breaker.admit().unwrap();
        assert!(breaker.admit().is_err(), "one probe at a time");
        breaker.done(probe, false);
        assert_eq!(breaker.state(), State::Closed);
        assert_eq!(*seen.lock().unwrap(), [State::Open, State::HalfOpen, State::Closed]);
    }

    #[test]
    fn a_failed_probe_opens_it_again() {
        let (breaker, _) = breaker(Duration::from_millis(20));
        let breaker = Arc::new(breaker);
        for _ in 0..3 {
            breaker.done(breaker.admit().unwrap(), true);
        }
        std::thread::sleep(Duration::from_millis(30));
        breaker.done(breaker.admit().unwrap(), true);
        assert_eq!(breaker.state(), State::Open);
        assert!(breaker.admit().unwrap_err() > Duration::from_millis(10));
    }

    #[test]
    fn a_probe_whose_caller_left_counts_as_failed() {
        let (breaker, _) = breaker(Duration::from_millis(20));
        let breaker = Arc::new(breaker);
        for _ in 0..3 {
            breaker.done(breaker.admit().unwrap(), true);
        }
        std::thread::sleep(Duration::from_millis(30));
        drop(breaker.admit().unwrap());
        assert_eq!(breaker.state(), State::Open);
    }
}
