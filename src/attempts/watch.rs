//! `WatchAttempt`: replay what the caller has not seen, then follow live events, with no
//! gap and no loss between the two.
//!
//! The order is what makes it safe: subscribe to live events first, then read the log
//! after the caller's position, then take live events, skipping those the replay already
//! sent. A live event that does not follow the last one sent (the receiver lagged, or an
//! event raced the replay) sends the watcher back to the log. Delivery is at least once
//! across reconnects; within one stream each event goes out once, in sequence order.

use std::sync::Arc;

use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status};

use super::observer::WatchGuard;
use super::token::{self, TokenKind};
use super::tracker::{Tracker, store_error, token_expired};
use super::{AttemptKey, is_terminal};
use crate::error::{ApiError, GATEWAY_DOMAIN};
use crate::proto::attempts::{
    AttemptEvent, AttemptState, Heartbeat, Vendor, WatchAttemptResponse, watch_attempt_response::Kind,
};

/// Events read from the log per query while catching up.
const PAGE: usize = 256;

/// The stream handed to tonic.
pub type WatchStream = ReceiverStream<Result<WatchAttemptResponse, Status>>;

/// Starts a watch; errors that can be known up front (unknown attempt, bad token) are
/// returned before the stream starts.
pub async fn watch(
    tracker: &Arc<Tracker>,
    key: AttemptKey,
    resume_token: &str,
    follow: bool,
) -> Result<WatchStream, ApiError> {
    let attempt = tracker.get(&key).await?;
    let after = if resume_token.is_empty() {
        None
    } else {
        let sequence = tracker.decode(TokenKind::Resume, &key, resume_token, "resume_token")?;
        // A position past the end means the log was reset since the token was issued.
        if sequence > attempt.last_sequence {
            return Err(token_expired("resume_token"));
        }
        Some(sequence)
    };
    let live = tracker.store.subscribe(&key);
    let guard = match (&tracker.observers, key.vendor) {
        (Some(observers), Vendor::Baf) => Some(observers.watch(&key.id)),
        _ => None,
    };
    let (tx, rx) = mpsc::channel(16);
    if after.is_none() {
        let snapshot = WatchAttemptResponse {
            resume_token: token::encode(TokenKind::Resume, &key, 0),
            kind: Some(Kind::Attempt(attempt.clone())),
        };
        // The channel is empty, so this cannot wait; it only fails if the caller left.
        let _ = tx.try_send(Ok(snapshot));
    }
    let watcher = Watcher {
        tracker: tracker.clone(),
        key,
        last: after.unwrap_or(0),
        state: attempt.state(),
        follow,
        tx,
        _guard: guard,
    };
    tokio::spawn(watcher.run(live));
    Ok(ReceiverStream::new(rx))
}

struct Watcher {
    tracker: Arc<Tracker>,
    key: AttemptKey,
    /// Sequence of the last event sent.
    last: i64,
    /// The attempt's state after the last event sent.
    state: AttemptState,
    follow: bool,
    tx: mpsc::Sender<Result<WatchAttemptResponse, Status>>,
    _guard: Option<WatchGuard>,
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
    async fn run(mut self, mut live: broadcast::Receiver<Arc<AttemptEvent>>) {
        let end = match self.follow_events(&mut live).await {
            Ok(()) => End::Done,
            Err(end) => end,
        };
        if let End::Fail(status) = end {
            let _ = self.tx.send(Err(status)).await;
        }
    }

    async fn follow_events(&mut self, live: &mut broadcast::Receiver<Arc<AttemptEvent>>) -> Result<(), End> {
        self.catch_up().await?;
        let mut heartbeat = tokio::time::interval(self.tracker.settings.heartbeat);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        heartbeat.reset();
        loop {
            if is_terminal(self.state) && !self.follow {
                return Ok(());
            }
            tokio::select! {
                biased;
                _ = self.tracker.shutdown.cancelled() => {
                    let status: Status = ApiError::new(
                        Code::Unavailable,
                        GATEWAY_DOMAIN,
                        "GATEWAY_SHUTTING_DOWN",
                        "the gateway is restarting: resume with the last resume token",
                    )
                    .into();
                    return Err(End::Fail(status));
                }
                _ = self.tx.closed() => return Err(End::Gone),
                received = live.recv() => match received {
                    Ok(event) if event.sequence <= self.last => {}
                    Ok(event) if event.sequence == self.last + 1 => {
                        self.send_event(&event).await?;
                        heartbeat.reset();
                    }
                    // A gap or a lag: the log has what the channel dropped.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        self.catch_up().await?;
                        heartbeat.reset();
                    }
                    Err(broadcast::error::RecvError::Closed) => return Err(End::Gone),
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
            let events = self
                .tracker
                .store
                .events(&self.key, self.last, PAGE)
                .await
                .map_err(|e| End::Fail(store_error(e).into()))?;
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
        self.state = event.attempt_state();
        Ok(())
    }
}
