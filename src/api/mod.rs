//! The gRPC services. Each handler is the same few steps: read the caller's deadline,
//! validate the request (every violation at once, before any network call), call the
//! vendor module, and map its result into the response. Nothing here knows a vendor's
//! JSON or URL layout.

pub mod ableid;
pub mod attempts;
pub mod b2core;
pub mod baf;

use std::time::{Duration, Instant};

use tonic::metadata::MetadataMap;

use crate::error::ApiError;

/// The caller's deadline, from the `grpc-timeout` header, so a vendor call never
/// outlives the caller's interest in it. It is set a little early (a tenth of the
/// timeout, at most 100 ms) so that the gateway's own `DEADLINE_EXCEEDED`, with its
/// error details, reaches the caller before tonic cancels the call at the deadline.
pub fn deadline(metadata: &MetadataMap) -> Option<Instant> {
    let value = metadata.get("grpc-timeout")?.to_str().ok()?;
    let (amount, unit) = value.split_at(value.len().checked_sub(1)?);
    let amount: u64 = amount.parse().ok()?;
    let timeout = match unit {
        "H" => Duration::from_secs(amount.saturating_mul(3600)),
        "M" => Duration::from_secs(amount.saturating_mul(60)),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    };
    Instant::now().checked_add(timeout - (timeout / 10).min(Duration::from_millis(100)))
}

/// A configured vendor client, or the error that it is not configured.
pub fn configured<'a, T>(vendor: &'a Option<T>, domain: &'static str) -> Result<&'a T, ApiError> {
    vendor.as_ref().ok_or_else(|| crate::vendor::not_configured(domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeout_units() {
        let mut metadata = MetadataMap::new();
        assert!(deadline(&metadata).is_none());
        metadata.insert("grpc-timeout", "1500m".parse().unwrap());
        let left = deadline(&metadata).unwrap() - Instant::now();
        assert!(left <= Duration::from_millis(1500) && left > Duration::from_millis(1000));
        metadata.insert("grpc-timeout", "bogus".parse().unwrap());
        assert!(deadline(&metadata).is_none());
    }
}
