//! How an event changes an attempt: the single rule, as a pure function.
//!
//! Every store calls [`project`] inside its append transaction, after it has found the
//! attempt (under a lock, or as the single writer) and before it writes; so SQLite and
//! PostgreSQL apply exactly the same rule, and the rule is tested without a database.

use prost_types::Timestamp;

use super::{AttemptKey, Effect, NewEvent, Outcome, is_terminal};
use crate::proto::attempts::{Attempt, AttemptEvent, AttemptState, attempt_event::Kind};

/// An attempt as stored: the attempt callers see, and who started it.
#[derive(Clone, Default, PartialEq)]
pub struct AttemptRecord {
    /// The attempt.
    pub attempt: Attempt,
    /// The caller that started it through the gateway; empty when unknown (an attempt
    /// first seen by observation, or started before callers had names).
    pub owner: String,
}

impl std::fmt::Debug for AttemptRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttemptRecord")
            .field("attempt_id", &self.attempt.attempt_id)
            .field("state", &self.attempt.state())
            .field("last_sequence", &self.attempt.last_sequence)
            .finish_non_exhaustive()
    }
}

/// Why an event cannot be appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Only a `started` event creates an attempt: anything else for an attempt the
    /// gateway never started or observed is refused, so a hook cannot invent one.
    UnknownAttempt,
}

/// The attempt after the event, and the event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Projected {
    /// The attempt after the event.
    pub record: AttemptRecord,
    /// The stored event, with its sequence, time and resulting state.
    pub event: AttemptEvent,
}

/// Applies `event` to the attempt `current` (`None`: not stored yet) at `now`.
pub fn project(
    key: &AttemptKey,
    current: Option<&AttemptRecord>,
    event: NewEvent,
    now: Timestamp,
) -> Result<Projected, Refusal> {
    let mut record = match current {
        Some(current) => current.clone(),
        None if matches!(event.kind, Kind::Started(_)) => AttemptRecord {
            attempt: Attempt {
                vendor: key.vendor as i32,
                attempt_id: key.id.clone(),
                create_time: Some(now),
                ..Attempt::default()
            },
            owner: event.owner.clone().unwrap_or_default(),
        },
        None => return Err(Refusal::UnknownAttempt),
    };
    let attempt = &mut record.attempt;
    let (state, outcome) = next_state(attempt.state(), &event.effect);
    attempt.state = state as i32;
    attempt.terminal = is_terminal(state);
    if let Some(outcome) = outcome {
        attempt.result_code = outcome.code;
        attempt.result_type.clone_from(&outcome.r#type);
        attempt.result_message.clone_from(&outcome.message);
    }
    if let Kind::Started(started) = &event.kind {
        // The first start is the one that counts; a repeated one changes nothing.
        if attempt.transaction_id.is_empty() {
            attempt.transaction_id.clone_from(&started.transaction_id);
        }
        if attempt.url.is_empty() {
            attempt.url.clone_from(&started.url);
        }
        if attempt.expire_time.is_none() {
            attempt.expire_time = started.expire_time;
        }
    }
    attempt.last_sequence += 1;
    attempt.update_time = Some(now);
    let stored = AttemptEvent {
        event_id: event.event_id,
        sequence: attempt.last_sequence,
        receive_time: Some(now),
        vendor: key.vendor as i32,
        attempt_id: key.id.clone(),
        attempt_state: state as i32,
        kind: Some(event.kind),
        raw: event.raw,
        media: event.media.into_iter().map(|m| m.media).collect(),
    };
    Ok(Projected { record, event: stored })
}

/// The state an effect leads to from `current`, and the outcome to record, if the
/// effect decided the state.
pub fn next_state(current: AttemptState, effect: &Effect) -> (AttemptState, Option<&Outcome>) {
    let rank = |state: AttemptState| match state {
        AttemptState::Unspecified | AttemptState::Pending => 0,
        AttemptState::Expired => 1,
        _ => 2,
    };
    match effect {
        Effect::Keep if current == AttemptState::Unspecified => (AttemptState::Pending, None),
        Effect::Keep => (current, None),
        Effect::Settle(proposed, outcome) if rank(*proposed) > rank(current) => (*proposed, outcome.as_ref()),
        Effect::Settle(..) if current == AttemptState::Unspecified => (AttemptState::Pending, None),
        Effect::Settle(..) => (current, None),
        Effect::Observe(state, outcome) => (*state, Some(outcome)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::attempts::{Completed, Started, Vendor};

    const S: AttemptState = AttemptState::Succeeded;

    fn settle(state: AttemptState, code: i32) -> Effect {
        Effect::Settle(state, Some(Outcome { code, ..Outcome::default() }))
    }

    #[test]
    fn settled_states_never_move_backwards_and_the_first_result_wins() {
        let expired = Effect::Settle(AttemptState::Expired, None);
        assert_eq!(next_state(AttemptState::Unspecified, &Effect::Keep).0, AttemptState::Pending);
        assert_eq!(next_state(AttemptState::Pending, &settle(S, 200)).0, S);
        assert_eq!(next_state(S, &settle(AttemptState::Failed, 1)), (S, None));
        assert_eq!(next_state(S, &expired), (S, None));
        assert_eq!(next_state(S, &Effect::Keep), (S, None));
        // A late vendor result is more than the gateway's own inference of expiry.
        assert_eq!(next_state(AttemptState::Expired, &settle(S, 200)).0, S);
        assert_eq!(next_state(AttemptState::Failed, &expired).0, AttemptState::Failed);
        // A second success does not overwrite the result that counted.
        assert_eq!(next_state(S, &settle(S, 999)), (S, None));
    }

    #[test]
    fn observed_states_are_taken_as_they_are() {
        let observe = |state| Effect::Observe(state, Outcome::default());
        assert_eq!(
            next_state(AttemptState::Failed, &observe(AttemptState::Pending)).0,
            AttemptState::Pending
        );
        assert_eq!(
            next_state(AttemptState::Pending, &observe(AttemptState::Canceled)).0,
            AttemptState::Canceled
        );
    }

    fn started() -> NewEvent {
        let started = Started { transaction_id: "tx".into(), url: "u".into(), ..Started::default() };
        NewEvent {
            owner: Some("billing".into()),
            ..NewEvent::new("e1".into(), Kind::Started(started), Effect::Keep)
        }
    }

    #[test]
    fn only_a_start_creates_an_attempt() {
        let key = AttemptKey::new(Vendor::Ableid, "a1");
        let now = Timestamp { seconds: 10, nanos: 0 };
        let completed = NewEvent::new("e2".into(), Kind::Completed(Completed::default()), settle(S, 200));
        assert_eq!(project(&key, None, completed.clone(), now), Err(Refusal::UnknownAttempt));

        let first = project(&key, None, started(), now).unwrap();
        assert_eq!(first.record.owner, "billing");
        assert_eq!(first.record.attempt.transaction_id, "tx");
        assert_eq!((first.event.sequence, first.event.attempt_state()), (1, AttemptState::Pending));

        let second = project(&key, Some(&first.record), completed, now).unwrap();
        assert_eq!((second.event.sequence, second.event.attempt_state()), (2, S));
        assert!(second.record.attempt.terminal);
        assert_eq!(second.record.attempt.result_code, 200);
        assert_eq!(second.record.owner, "billing", "the owner never changes");
    }

    #[test]
    fn a_repeated_start_changes_nothing_it_already_has() {
        let key = AttemptKey::new(Vendor::Baf, "b1");
        let now = Timestamp::default();
        let first = project(&key, None, started(), now).unwrap();
        let mut again = started();
        again.kind = Kind::Started(Started { transaction_id: "other".into(), ..Started::default() });
        again.owner = Some("someone-else".into());
        let second = project(&key, Some(&first.record), again, now).unwrap();
        assert_eq!(second.record.attempt.transaction_id, "tx");
        assert_eq!(second.record.owner, "billing");
    }
}
