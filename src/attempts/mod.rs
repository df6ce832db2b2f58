//! Verification attempts as an append-only event log, and everything that feeds and reads
//! it.
//!
//! - [`store`]: the [`store::EventStore`] trait (the one place that persists and notifies);
//!   [`sqlite`] is its embedded implementation.
//! - [`watch`]: the `WatchAttempt` algorithm (replay, then live, with no gap and no loss).
//! - [`hooks`]: the HTTP receivers of AbleID's hooks and of BAF's browser return.
//! - [`observer`]: polls BAF applicants, which have no webhooks, and records changes.
//! - [`tracker`]: the facade the gRPC services use to record and read attempts, plus the
//!   background sweeps (AbleID expiry, retention).
//!
//! An attempt's state only changes by appending an event; [`next_state`] is the single
//! rule for how an event moves it.

pub mod hooks;
pub mod observer;
pub mod sqlite;
pub mod store;
pub mod token;
pub mod tracker;
pub mod watch;

use std::fmt;

use sha2::{Digest, Sha256};

use crate::proto::attempts::{AttemptState, Vendor, attempt_event::Kind};
use crate::proto::baf::ApplicantStatus;

/// Names one attempt: an AbleID session or a BAF applicant.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttemptKey {
    /// The vendor.
    pub vendor: Vendor,
    /// AbleID `attemptId` or BAF `applicantId`.
    pub id: String,
}

impl AttemptKey {
    /// An AbleID session.
    pub fn ableid(id: impl Into<String>) -> Self {
        Self { vendor: Vendor::Ableid, id: id.into() }
    }

    /// A BAF applicant.
    pub fn baf(id: impl Into<String>) -> Self {
        Self { vendor: Vendor::Baf, id: id.into() }
    }

    /// The vendor's short name, as stored.
    pub fn vendor_name(&self) -> &'static str {
        vendor_name(self.vendor)
    }
}

impl fmt::Debug for AttemptKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.vendor_name(), self.id)
    }
}

impl fmt::Display for AttemptKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// The stored name of a vendor.
pub fn vendor_name(vendor: Vendor) -> &'static str {
    match vendor {
        Vendor::Ableid => "ableid",
        Vendor::Baf => "baf",
        Vendor::Unspecified => "unspecified",
    }
}

/// The vendor of a stored name.
pub fn vendor_from_name(name: &str) -> Vendor {
    match name {
        "ableid" => Vendor::Ableid,
        "baf" => Vendor::Baf,
        _ => Vendor::Unspecified,
    }
}

/// An event before it is stored; the store assigns its sequence, time and resulting state.
#[derive(Clone, PartialEq)]
pub struct NewEvent {
    /// Stable id: equal for a redelivery of the same event, so the store keeps one.
    pub event_id: String,
    /// What happened.
    pub kind: Kind,
    /// The vendor JSON it came from, signatures removed.
    pub raw: Option<prost_types::Struct>,
}

impl fmt::Debug for NewEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The kind's payload is personal data; its name and the id are enough to debug.
        f.debug_struct("NewEvent")
            .field("event_id", &self.event_id)
            .field("kind", &kind_name(&self.kind))
            .finish()
    }
}

/// A stable event id: the first 128 bits of SHA-256 over the attempt, the kind and the
/// event's content (for hooks, the canonical JSON body without its signature).
pub fn event_id(key: &AttemptKey, kind: &str, content: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [key.vendor_name().as_bytes(), key.id.as_bytes(), kind.as_bytes(), content] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hex::encode(&hash.finalize()[..16])
}

/// The name of an event kind, for logs and ids.
pub fn kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Started(_) => "started",
        Kind::Completed(_) => "completed",
        Kind::Failed(_) => "failed",
        Kind::Expired(_) => "expired",
        Kind::Passport(_) => "passport",
        Kind::Photo(_) => "photo",
        Kind::Registration(_) => "registration",
        Kind::Person(_) => "person",
        Kind::DataFailed(_) => "data_failed",
        Kind::BafStatusChanged(_) => "baf_status_changed",
        Kind::BafAttemptAdded(_) => "baf_attempt_added",
        Kind::UserReturned(_) => "user_returned",
    }
}

/// Whether a state is final.
pub fn is_terminal(state: AttemptState) -> bool {
    !matches!(state, AttemptState::Pending | AttemptState::Unspecified)
}

/// How an event moves an attempt's state.
///
/// Hooks arrive out of order and more than once, so for AbleID a state never moves
/// backwards: PENDING < EXPIRED (the gateway's own inference) < a result the vendor
/// reported; among vendor results the first one wins. BAF states come from the gateway's
/// own sequential reads of the applicant, so they are the vendor's current truth and are
/// taken as they are, including a reopened (PENDING again) applicant.
pub fn next_state(current: AttemptState, kind: &Kind) -> AttemptState {
    let proposed = match kind {
        Kind::Completed(_) => AttemptState::Succeeded,
        Kind::Failed(_) => AttemptState::Failed,
        Kind::Expired(_) => AttemptState::Expired,
        Kind::BafStatusChanged(change) => return baf_state(change.raw_status, change.completed),
        _ => return if current == AttemptState::Unspecified { AttemptState::Pending } else { current },
    };
    let rank = |state: AttemptState| match state {
        AttemptState::Unspecified | AttemptState::Pending => 0,
        AttemptState::Expired => 1,
        _ => 2,
    };
    if rank(proposed) > rank(current) { proposed } else { current }
}

/// The attempt state a BAF applicant's status means.
pub fn baf_state(raw_status: i32, completed: bool) -> AttemptState {
    match crate::vendor::baf::applicant_status(i64::from(raw_status)) {
        ApplicantStatus::Success => AttemptState::Succeeded,
        ApplicantStatus::Canceled => AttemptState::Canceled,
        ApplicantStatus::Failed => AttemptState::Failed,
        ApplicantStatus::FailedAttempt if completed => AttemptState::Failed,
        _ if completed => AttemptState::Canceled,
        _ => AttemptState::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::attempts::{BafStatusChanged, Completed, Expired, Failed, Started};

    #[test]
    fn ableid_states_never_move_backwards() {
        let completed = Kind::Completed(Completed::default());
        let failed = Kind::Failed(Failed::default());
        let expired = Kind::Expired(Expired::default());
        let started = Kind::Started(Started::default());
        let passport = Kind::Passport(Default::default());

        assert_eq!(next_state(AttemptState::Unspecified, &started), AttemptState::Pending);
        assert_eq!(next_state(AttemptState::Unspecified, &passport), AttemptState::Pending);
        assert_eq!(next_state(AttemptState::Pending, &completed), AttemptState::Succeeded);
        assert_eq!(next_state(AttemptState::Succeeded, &failed), AttemptState::Succeeded);
        assert_eq!(next_state(AttemptState::Succeeded, &expired), AttemptState::Succeeded);
        assert_eq!(next_state(AttemptState::Succeeded, &started), AttemptState::Succeeded);
        assert_eq!(next_state(AttemptState::Succeeded, &passport), AttemptState::Succeeded);
        // A late vendor result is more than the gateway's own inference of expiry.
        assert_eq!(next_state(AttemptState::Expired, &completed), AttemptState::Succeeded);
        assert_eq!(next_state(AttemptState::Failed, &expired), AttemptState::Failed);
    }

    #[test]
    fn baf_states_follow_the_applicant() {
        let change = |raw_status, completed| {
            Kind::BafStatusChanged(BafStatusChanged { raw_status, completed, ..Default::default() })
        };
        assert_eq!(next_state(AttemptState::Pending, &change(1, true)), AttemptState::Succeeded);
        assert_eq!(next_state(AttemptState::Pending, &change(5, false)), AttemptState::Pending);
        assert_eq!(next_state(AttemptState::Pending, &change(5, true)), AttemptState::Failed);
        assert_eq!(next_state(AttemptState::Failed, &change(0, false)), AttemptState::Pending, "reopened");
        assert_eq!(next_state(AttemptState::Pending, &change(3, true)), AttemptState::Canceled);
    }

    #[test]
    fn event_ids_are_stable_and_distinct() {
        let key = AttemptKey::ableid("a1");
        assert_eq!(event_id(&key, "completed", b"{}"), event_id(&key, "completed", b"{}"));
        assert_ne!(event_id(&key, "completed", b"{}"), event_id(&key, "failed", b"{}"));
        assert_ne!(event_id(&key, "completed", b"{}"), event_id(&AttemptKey::baf("a1"), "completed", b"{}"));
        // Length-prefixed parts: moving bytes between parts changes the id.
        assert_ne!(
            event_id(&AttemptKey::ableid("a"), "bc", b""),
            event_id(&AttemptKey::ableid("ab"), "c", b"")
        );
        assert_eq!(event_id(&key, "x", b"").len(), 32);
    }
}
