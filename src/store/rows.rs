//! What both backends make of their rows: times as milliseconds since the epoch, an
//! attempts row as an [`AttemptRecord`], an events row as an [`AttemptEvent`]. Each backend
//! only reads its driver's columns into these.

use std::time::{SystemTime, UNIX_EPOCH};

use prost::Message;

use crate::attempts::state::AttemptRecord;
use crate::attempts::{is_terminal, vendor_from_name};
use crate::proto::attempts::{Attempt, AttemptEvent};

/// Milliseconds since the epoch, as the stores keep times.
pub(super) fn millis(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A stored time as a protobuf timestamp.
pub(super) fn timestamp(ms: i64) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: ms.div_euclid(1000), nanos: (ms.rem_euclid(1000) * 1_000_000) as i32 }
}

/// A protobuf timestamp as a stored time.
pub(super) fn timestamp_millis(t: &prost_types::Timestamp) -> i64 {
    t.seconds * 1000 + i64::from(t.nanos) / 1_000_000
}

/// The columns of an attempts row, in both schemas.
pub(super) struct AttemptColumns {
    pub vendor: String,
    pub attempt_id: String,
    pub state: i32,
    pub transaction_id: String,
    pub url: String,
    pub create_ms: i64,
    pub update_ms: i64,
    pub expire_ms: Option<i64>,
    pub last_sequence: i64,
    pub result_code: i32,
    pub result_type: String,
    pub result_message: String,
    pub owner: String,
}

impl AttemptColumns {
    /// The attempt the row describes; `terminal` follows from its state.
    pub fn into_record(self) -> AttemptRecord {
        let mut attempt = Attempt {
            vendor: vendor_from_name(&self.vendor) as i32,
            attempt_id: self.attempt_id,
            state: self.state,
            terminal: false,
            transaction_id: self.transaction_id,
            url: self.url,
            create_time: Some(timestamp(self.create_ms)),
            update_time: Some(timestamp(self.update_ms)),
            expire_time: self.expire_ms.map(timestamp),
            last_sequence: self.last_sequence,
            result_code: self.result_code,
            result_type: self.result_type,
            result_message: self.result_message,
        };
        attempt.terminal = is_terminal(attempt.state());
        AttemptRecord { attempt, owner: self.owner }
    }
}

/// An events row: the stored encoding, or, when it cannot be decoded, a placeholder that
/// keeps the sequence (so a watch goes on) and an ERROR that says so.
pub(super) fn decode_event(
    body: &[u8],
    sequence: i64,
    event_id: String,
    vendor: String,
    attempt_id: String,
) -> AttemptEvent {
    AttemptEvent::decode(body).unwrap_or_else(|e| {
        tracing::error!(error = %e, sequence, %event_id, vendor, "a stored event cannot be decoded; sending a placeholder");
        AttemptEvent {
            event_id,
            sequence,
            vendor: vendor_from_name(&vendor) as i32,
            attempt_id,
            ..AttemptEvent::default()
        }
    })
}
