//! `WatchAttempt`: replay what the caller has not seen, then follow live events, with no
//! gap and no loss between the two.
//!
//! The order is what makes it safe: subscribe to live notices first, then read the log
//! after the caller's position, then take live events, skipping those the replay already
//! sent. A live event that does not follow the last one sent (the subscriber lagged, or an
//! event raced the replay), a `Changed` notice, or a subscription that ended sends the
//! watcher back to the log. Delivery is at least once across reconnects; within one
//! stream each event goes out once, in sequence order.

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::log::{EventLog, WatchSlot, token_expired};
use super::token::{self, TokenKind};
use super::{AttemptKey, is_terminal};
use crate::error::{ApiError, ErrorCode, GATEWAY_DOMAIN};
use crate::proto::attempts::{
    Attempt, AttemptEvent, AttemptState, Heartbeat, WatchAttemptResponse, watch_attempt_response::Kind,
};
use crate::store::{Live, LiveStream};

/// Events read from the log per query while catching up.
const PAGE: usize = 256;

/// The stream handed to tonic.
pub type WatchStream = ReceiverStream<Result<WatchAttemptResponse, Status>>;

/// Anything a provider wants kept alive while a watch is open (BAF keeps its observer
/// reading fast).
pub type WatchGuard = Box<dyn Send + Sync>;

/// Starts a watch of `attempt`; errors that can be known up front (bad token) are
/// returned before the stream starts.
pub fn watch(
    log: &Arc<EventLog>,
    key: AttemptKey,
    attempt: Attempt,
    resume_token: &str,
    follow: bool,
    guards: (WatchSlot, Option<WatchGuard>),
) -> Result<WatchStream, ApiError> {
    let after = if resume_token.is_empty() {
        None
    } else {
        let sequence = log.decode(TokenKind::Resume, &key, resume_token, "resume_token")?;
        // A position past the end means the log was reset since the token was issued.
        if sequence > attempt.last_sequence {
            return Err(token_expired("resume_token"));
        }
        Some(sequence)
    };
    let live = log.subscribe(&key);
    let (tx, rx) = mpsc::channel(16);
    let state = attempt.state();
    if after.is_none() {
        let snapshot = WatchAttemptResponse {
            resume_token: token::encode(TokenKind::Resume, &key, 0),
            kind: Some(Kind::Attempt(attempt)),
        };
        // The channel is empty, so this cannot wait; it only fails if the caller left.
        let _ = tx.try_send(Ok(snapshot));
    }
    let watcher =
        Watcher { log: log.clone(), key, last: after.unwrap_or(0), state, follow, tx, _guards: guards };
    tokio::spawn(watcher.run(live));
    Ok(ReceiverStream::new(rx))
}

struct Watcher {
    log: Arc<EventLog>,
    key: AttemptKey,
    /// Sequence of the last event sent.
    last: i64,
    /// The attempt's state after the last event sent.
    state: AttemptState,
    follow: bool,
    tx: mpsc::Sender<Result<WatchAttemptResponse, Status>>,
    /// Its place under the watch caps, and what its provider keeps alive for it.
    _guards: (WatchSlot, Option<WatchGuard>),
}

/// Why a watch stopped sending.
enum End {
    /// The attempt is terminal and the caller did not ask to follow: end with OK.
    Done,
    /// The caller went away.
    Gone,
    /// End with this error.
    Fail(Status),
}

impl Watcher {
    async fn run(mut self, live: LiveStream) {
        let end = match self.follow_events(live).await {
            Ok(()) => End::Done,
            Err(end) => end,
        };
        if let End::Fail(status) = end {
            let _ = self.tx.send(Err(status)).await;
        }
    }

    async fn follow_events(&mut self, mut live: LiveStream) -> Result<(), End> {
        self.catch_up().await?;
        let mut heartbeat = tokio::time::interval(self.log.settings().heartbeat);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        heartbeat.reset();
        loop {
            if is_terminal(self.state) && !self.follow {
                return Ok(());
            }
            tokio::select! {
                biased;
                _ = self.log.shutdown().cancelled() => {
                    let status: Status = ApiError::new(
                        ErrorCode::Unavailable,
                        GATEWAY_DOMAIN,
                        "GATEWAY_SHUTTING_DOWN",
                        "the gateway is restarting: resume with the last resume token",
                    )
                    .into();
                    return Err(End::Fail(status));
                }
                _ = self.tx.closed() => return Err(End::Gone),
                notice = live.next() => match notice {
                    Some(Live::Event(event)) if event.sequence <= self.last => {}
                    Some(Live::Event(event)) if event.sequence == self.last + 1 => {
                        self.send_event(&event).await?;
                        heartbeat.reset();
                    }
                    // A gap or a lag: the log has what the notices did not carry.
                    Some(Live::Event(_) | Live::Changed) => {
                        self.catch_up().await?;
                        heartbeat.reset();
                    }
                    // The store can no longer notify: read what was missed, then let the
                    // caller resume (on this replica or another) with its last token.
                    None => {
                        self.catch_up().await?;
                        let status: Status = ApiError::unavailable(
                            "EVENT_LOG_UNAVAILABLE",
                            "live notices were interrupted: resume with the last resume token",
                            std::time::Duration::from_secs(1),
                        )
                        .into();
                        return Err(End::Fail(status));
                    }
                },
                _ = heartbeat.tick() => {
                    let message = WatchAttemptResponse {
                        resume_token: token::encode(TokenKind::Resume, &self.key, self.last),
                        kind: Some(Kind::Heartbeat(Heartbeat { time: Some(std::time::SystemTime::now().into()) })),
                    };
                    self.tx.send(Ok(message)).await.map_err(|_| End::Gone)?;
                }
            }
        }
    }

    /// Sends every stored event after the last one sent.
    async fn catch_up(&mut self) -> Result<(), End> {
        loop {
            let events =
                self.log.events(&self.key, self.last, PAGE).await.map_err(|e| End::Fail(e.into()))?;
            let full = events.len() == PAGE;
            for event in &events {
                self.send_event(event).await?;
            }
            if !full {
                return Ok(());
            }
        }
    }

    async fn send_event(&mut self, event: &AttemptEvent) -> Result<(), End> {
        let message = WatchAttemptResponse {
            resume_token: token::encode(TokenKind::Resume, &self.key, event.sequence),
            kind: Some(Kind::Event(event.clone())),
        };
        self.tx.send(Ok(message)).await.map_err(|_| End::Gone)?;
        self.last = event.sequence;
        // A placeholder (an event that no longer decodes) says nothing of the state.
        if event.kind.is_some() {
            self.state = event.attempt_state();
        }
        Ok(())
    }
}
