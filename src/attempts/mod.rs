//! Verification attempts as an append-only event log: the core that names no vendor.
//!
//! - [`state`]: how an event moves an attempt ([`state::project`]), a pure function every
//!   store applies inside its append transaction.
//! - [`log`]: [`log::EventLog`], the facade providers and the attempts service use to
//!   record and read attempts, claim idempotency keys and keep provider records.
//! - [`watch`]: the `WatchAttempt` algorithm (replay, then live, with no gap and no loss).
//! - [`token`]: resume and page tokens.
//! - [`sweep`]: the gateway's own clock: expiry of silent attempts, retention purge.
//!
//! Vendors feed the log through their providers (`crate::providers`): AbleID's hooks,
//! BAF's observers. An attempt's state only changes by appending an event.

pub mod limits;
pub mod log;
pub mod state;
pub mod sweep;
pub mod token;
pub mod watch;

use std::fmt;

use sha2::{Digest, Sha256};

use crate::proto::attempts::{AttemptState, Media, Vendor, attempt_event::Kind};

/// Names one attempt: a vendor and the vendor's id for it (an AbleID `attemptId`, a BAF
/// `applicantId`).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttemptKey {
    /// The vendor.
    pub vendor: Vendor,
    /// The vendor's id.
    pub id: String,
}

impl AttemptKey {
    /// The attempt `id` of `vendor`.
    pub fn new(vendor: Vendor, id: impl Into<String>) -> Self {
        Self { vendor, id: id.into() }
    }

    /// The vendor's short name, as stored.
    pub fn vendor_name(&self) -> String {
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

/// The stored and logged name of a vendor: its `Vendor` value without the prefix, in
/// lower case (`VENDOR_ABLEID` → `ableid`), so a new vendor needs no code here.
pub fn vendor_name(vendor: Vendor) -> String {
    let name = vendor.as_str_name();
    name.strip_prefix("VENDOR_").unwrap_or(name).to_ascii_lowercase()
}

/// The vendor of a stored name; `Unspecified` for a name no `Vendor` value has.
pub fn vendor_from_name(name: &str) -> Vendor {
    Vendor::from_str_name(&format!("VENDOR_{}", name.to_ascii_uppercase())).unwrap_or(Vendor::Unspecified)
}

/// An event before it is stored; the store assigns its sequence and time, and
/// [`state::project`] its resulting state.
#[derive(Clone, PartialEq)]
pub struct NewEvent {
    /// Stable id: equal for a redelivery of the same event, so the store keeps one.
    pub event_id: String,
    /// What happened.
    pub kind: Kind,
    /// The vendor JSON it came from, signatures removed.
    pub raw: Option<prost_types::Struct>,
    /// How it moves the attempt's state.
    pub effect: Effect,
    /// Who started the attempt, when this event creates it: the caller's name, so a
    /// caller limited to its own attempts sees only those.
    pub owner: Option<String>,
    /// A provider record this event needs and uses up, in the same transaction: the
    /// append is refused when the record is absent or expired (an AbleID data hook needs
    /// an outstanding data request).
    pub consumes: Option<RecordKey>,
    /// Files the event carries by reference, stored with it in the same transaction.
    pub media: Vec<NewMedia>,
}

/// A file an event carries by reference: its description (on the event) and its bytes
/// (stored once, downloaded on demand).
#[derive(Clone, PartialEq)]
pub struct NewMedia {
    /// The reference the event carries.
    pub media: Media,
    /// The bytes.
    pub bytes: bytes::Bytes,
}

impl NewMedia {
    /// A file standing for `field` of its event; its id is the first 128 bits of its
    /// SHA-256, so the same bytes are stored once per attempt.
    pub fn new(field: &str, content_type: &str, bytes: bytes::Bytes) -> Self {
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let media = Media {
            media_id: sha256[..32].to_owned(),
            field: field.to_owned(),
            content_type: content_type.to_owned(),
            size_bytes: bytes.len() as i64,
            sha256,
        };
        Self { media, bytes }
    }
}

impl fmt::Debug for NewMedia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The bytes are personal data (a face): only the reference is printed.
        f.debug_struct("NewMedia").field("media_id", &self.media.media_id).finish_non_exhaustive()
    }
}

impl NewEvent {
    /// An event with no owner and no consumed record.
    pub fn new(event_id: String, kind: Kind, effect: Effect) -> Self {
        Self { event_id, kind, raw: None, effect, owner: None, consumes: None, media: Vec::new() }
    }
}

impl fmt::Debug for NewEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The kind's payload is personal data; its name and the id are enough to debug.
        f.debug_struct("NewEvent")
            .field("event_id", &self.event_id)
            .field("kind", &self.kind.field_name())
            .field("effect", &self.effect)
            .finish_non_exhaustive()
    }
}

/// How an event moves an attempt's state. The producer says it, because only the
/// producer knows whether it reports, infers or observes.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Leaves the state as it is (data, notices); a new attempt is PENDING.
    Keep,
    /// A result reported by the vendor or inferred by the gateway. It never moves an
    /// attempt backwards: PENDING < EXPIRED (the gateway's inference) < a reported
    /// result, and among reported results the first wins. Hooks arrive late, out of
    /// order and more than once; this makes that harmless.
    Settle(AttemptState, Option<Outcome>),
    /// The vendor's current truth, read by the gateway's own sequential observation: taken
    /// as it is, including a reopened (PENDING again) attempt.
    Observe(AttemptState, Outcome),
}

/// The vendor's result code, type and message, kept on the attempt.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Code (AbleID `statusCode`, BAF status number).
    pub code: i32,
    /// Type or name (AbleID `type`, BAF `statusName`).
    pub r#type: String,
    /// Message.
    pub message: String,
}

/// Names a provider record: a namespace owned by one provider and a key in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordKey {
    /// `<provider>.<purpose>`, such as `baf.return`.
    pub namespace: &'static str,
    /// The key within the namespace.
    pub key: String,
}

impl RecordKey {
    /// A record key.
    pub fn new(namespace: &'static str, key: impl Into<String>) -> Self {
        Self { namespace, key: key.into() }
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

/// Whether a state is final.
pub fn is_terminal(state: AttemptState) -> bool {
    !matches!(state, AttemptState::Pending | AttemptState::Unspecified)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_stable_and_distinct() {
        let key = AttemptKey::new(Vendor::Ableid, "a1");
        assert_eq!(event_id(&key, "completed", b"{}"), event_id(&key, "completed", b"{}"));
        assert_ne!(event_id(&key, "completed", b"{}"), event_id(&key, "failed", b"{}"));
        assert_ne!(
            event_id(&key, "completed", b"{}"),
            event_id(&AttemptKey::new(Vendor::Baf, "a1"), "completed", b"{}")
        );
        // Length-prefixed parts: moving bytes between parts changes the id.
        assert_ne!(
            event_id(&AttemptKey::new(Vendor::Ableid, "a"), "bc", b""),
            event_id(&AttemptKey::new(Vendor::Ableid, "ab"), "c", b"")
        );
        assert_eq!(event_id(&key, "x", b"").len(), 32);
    }

    #[test]
    fn vendor_names_come_from_the_enum() {
        assert_eq!(vendor_name(Vendor::Ableid), "ableid");
        assert_eq!(vendor_name(Vendor::Baf), "baf");
        assert_eq!(vendor_from_name("baf"), Vendor::Baf);
        assert_eq!(vendor_from_name("nope"), Vendor::Unspecified);
    }
}
