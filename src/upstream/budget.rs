//! One memory budget for every body the gateway holds whole: vendor answers read into
//! memory (a BAF attempt's base64 images) and hook bodies (AbleID's photo). Per-call caps
//! alone let forty concurrent 64 MiB answers take 2.5 GiB; under the budget, a body that
//! would exceed it is refused at once (`RESOURCE_EXHAUSTED` with `RetryInfo` to a caller,
//! 503 with `Retry-After` to a vendor) instead of queueing for memory.
//!
//! The budget counts the raw bytes while they are read and until the JSON they hold is
//! parsed; the parsed value and the proto built from it are not counted (they are of the
//! same order, and short-lived).

use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Bytes are counted in KiB so that a budget of many GiB fits a semaphore's permits.
const UNIT: usize = 1024;

/// The shared budget.
#[derive(Debug)]
pub struct Budget {
    permits: Arc<Semaphore>,
    total_units: usize,
    in_use: Gauge,
}

/// Bytes held under the budget; released on drop.
#[derive(Debug)]
pub struct Reservation {
    permits: Option<OwnedSemaphorePermit>,
    units: usize,
    budget: Arc<Budget>,
}

/// The budget had no room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted;

/// Why a body could not be read whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// Larger than the limit for this kind of body.
    TooLarge,
    /// The budget had no room.
    Exhausted,
    /// The connection broke (or timed out) while the body was read.
    Broken,
}

impl Budget {
    /// A budget of `bytes`, reporting its use on `in_use`.
    pub fn new(bytes: usize, in_use: Gauge) -> Arc<Self> {
        let total_units = bytes.div_ceil(UNIT).clamp(1, Semaphore::MAX_PERMITS);
        Arc::new(Self { permits: Arc::new(Semaphore::new(total_units)), total_units, in_use })
    }

    /// An empty reservation, to grow as bytes arrive.
    pub fn reserve(self: &Arc<Self>) -> Reservation {
        Reservation { permits: None, units: 0, budget: self.clone() }
    }

    /// Reads a request body whole, at most `limit` bytes, counting it against the budget
    /// as it arrives (a declared length is reserved up front).
    pub async fn read(
        self: &Arc<Self>,
        body: axum::body::Body,
        declared: Option<u64>,
        limit: usize,
    ) -> Result<(Bytes, Reservation), ReadError> {
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(ReadError::TooLarge);
        }
        let mut reservation = self.reserve();
        if let Some(length) = declared {
            reservation.grow_to(length as usize).map_err(|_| ReadError::Exhausted)?;
        }
        let mut bytes = Vec::new();
        let mut chunks = body.into_data_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|_| ReadError::Broken)?;
            if bytes.len() + chunk.len() > limit {
                return Err(ReadError::TooLarge);
            }
            reservation.grow_to(bytes.len() + chunk.len()).map_err(|_| ReadError::Exhausted)?;
            bytes.extend_from_slice(&chunk);
        }
        Ok((bytes.into(), reservation))
    }

    /// The budget's size in bytes.
    pub fn bytes(&self) -> usize {
        self.total_units * UNIT
    }
}

impl Reservation {
    /// Makes room for `total` bytes in all, or fails without waiting.
    pub fn grow_to(&mut self, total: usize) -> Result<(), Exhausted> {
        let wanted = total.div_ceil(UNIT);
        if wanted <= self.units {
            return Ok(());
        }
        let more = u32::try_from(wanted - self.units).map_err(|_| Exhausted)?;
        let extra = self.budget.permits.clone().try_acquire_many_owned(more).map_err(|_| Exhausted)?;
        match &mut self.permits {
            Some(permits) => permits.merge(extra),
            None => self.permits = Some(extra),
        }
        self.budget.in_use.inc_by(i64::from(more) * UNIT as i64);
        self.units = wanted;
        Ok(())
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.in_use.dec_by((self.units * UNIT) as i64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_share_the_budget_and_give_it_back() {
        let budget = Budget::new(10 * 1024, Gauge::default());
        let mut a = budget.reserve();
        a.grow_to(6 * 1024).unwrap();
        let mut b = budget.reserve();
        assert_eq!(b.grow_to(5 * 1024), Err(Exhausted), "6 + 5 KiB do not fit in 10");
        b.grow_to(4 * 1024).unwrap();
        assert_eq!(budget.in_use.get(), 10 * 1024);
        drop(a);
        b.grow_to(9 * 1024).unwrap();
        drop(b);
        assert_eq!(budget.in_use.get(), 0);
        assert_eq!(budget.permits.available_permits(), 10);
    }
}
