//! `WatchAttempt`: replay what the caller has not seen, then follow live events, with no
//! gap and no loss between the two.
//!
//! The order is what makes it safe: subscribe to live notices first, then read the log
//! after the caller's position, then take live events, skipping those the replay already
//! sent. A live event that does not follow the last one sent (the subscriber lagged, or an
//! event raced the replay), a `Changed` notice, or a subscription that ended sends the
//! watcher back to the log. Delivery is at least once across reconnects; within one
//! stream each event goes out once, in sequence order.

use std::collections::VecDeque;
use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio::time::{Interval, MissedTickBehavior};
use tonic::Status;

use super::log::{EventLog, WatchSlot, token_expired};
use super::token::{self, TokenKind};
use super::{AttemptKey, is_terminal};
use crate::error::{ApiError, ErrorCode, GATEWAY_DOMAIN};
use crate::grpc::frames::Frame;
use crate::proto::attempts::{
    Attempt, AttemptEvent, AttemptState, Heartbeat, WatchAttemptResponse, watch_attempt_response::Kind,
};
use crate::store::{Live, LiveStream};

/// Events read from the log per query while catching up.
const PAGE: usize = 256;

/// The stream handed to tonic: encoded `WatchAttemptResponse`s.
pub type WatchStream = BoxStream<'static, Result<Frame, Status>>;

/// Anything a provider wants kept alive while a watch is open (BAF keeps its observer
/// reading fast).
pub type WatchGuard = Box<dyn Send + Sync>;

/// Starts a watch of `attempt`; errors that can be known up front (bad token) are
/// returned before the stream starts.
///
/// The watch is the stream itself, not a task feeding a channel: the connection pulls
/// the next message when it can send it, so an idle watch costs only its state, and a
/// watch whose caller left is dropped with its stream.
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
    let state = attempt.state();
    let mut ready = VecDeque::new();
    if after.is_none() {
        ready.push_back(Frame::encode(&WatchAttemptResponse {
            resume_token: token::encode(TokenKind::Resume, &key, 0),
            kind: Some(Kind::Attempt(attempt)),
        }));
    }
    let watcher = Watcher {
        log: log.clone(),
        key,
        last: after.unwrap_or(0),
        state,
        follow,
        live,
        ready,
        behind: true,
        then: None,
        heartbeat: None,
        ended: false,
        _guards: guards,
    };
    Ok(futures_util::stream::unfold(watcher, |mut watcher| async move {
        let message = watcher.next().await?;
        Some((message, watcher))
    })
    .boxed())
}

struct Watcher {
    log: Arc<EventLog>,
    key: AttemptKey,
    /// Sequence of the last event taken into `ready`.
    last: i64,
    /// The attempt's state after that event.
    state: AttemptState,
    follow: bool,
    live: LiveStream,
    /// Messages to send before anything else.
    ready: VecDeque<Frame>,
    /// The log may hold events after `last` that live notices did not carry: read it.
    behind: bool,
    /// Once caught up, end with this error.
    then: Option<Status>,
    /// Created with the first live wait, so it starts after the replay.
    heartbeat: Option<Interval>,
    ended: bool,
    /// Its place under the watch caps, and what its provider keeps alive for it.
    _guards: (WatchSlot, Option<WatchGuard>),
}

impl Watcher {
    /// The next message, or `None` when the watch is over.
    async fn next(&mut self) -> Option<Result<Frame, Status>> {
        loop {
            if let Some(frame) = self.ready.pop_front() {
                return Some(Ok(frame));
            }
            if self.ended {
                return None;
            }
            if self.behind {
                if let Err(status) = self.read_log().await {
                    self.ended = true;
                    return Some(Err(status));
                }
                continue;
            }
            if let Some(status) = self.then.take() {
                self.ended = true;
                return Some(Err(status));
            }
            if is_terminal(self.state) && !self.follow {
                self.ended = true;
                continue;
            }
            self.wait_live().await;
        }
    }

    /// Reads one page of the log after `last` into `ready`; caught up when it is short.
    async fn read_log(&mut self) -> Result<(), Status> {
        let events = self.log.events(&self.key, self.last, PAGE).await?;
        self.behind = events.len() == PAGE;
        for event in &events {
            let frame = Frame::encode(&self.message(event));
            self.take(event, frame);
        }
        self.reset_heartbeat();
        Ok(())
    }

    /// Waits for a live notice, the heartbeat or shutdown, and acts on it.
    async fn wait_live(&mut self) {
        let heartbeat = self.heartbeat.get_or_insert_with(|| {
            let mut interval = tokio::time::interval(self.log.settings().heartbeat);
            interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
            interval.reset();
            interval
        });
        tokio::select! {
            biased;
            _ = self.log.shutdown().cancelled() => {
                self.then = Some(ApiError::new(
                    ErrorCode::Unavailable,
                    GATEWAY_DOMAIN,
                    "GATEWAY_SHUTTING_DOWN",
                    "the gateway is restarting: resume with the last resume token",
                )
                .into());
            }
            notice = self.live.next() => match notice {
                Some(Live::Event(event)) if event.sequence <= self.last => {}
                Some(Live::Event(event)) if event.sequence == self.last + 1 => {
                    // Every watcher of the attempt sends these same bytes: encode them once.
                    let frame = Frame::from(event.encoded(|e| Frame::encode(&self.message(e)).into()));
                    self.take(&event, frame);
                    self.reset_heartbeat();
                }
                // A gap or a lag: the log has what the notices did not carry.
                Some(Live::Event(_) | Live::Changed) => self.behind = true,
                // The store can no longer notify: read what was missed, then let the
                // caller resume (on this replica or another) with its last token.
                None => {
                    self.behind = true;
                    self.then = Some(ApiError::unavailable(
                        "EVENT_LOG_UNAVAILABLE",
                        "live notices were interrupted: resume with the last resume token",
                        std::time::Duration::from_secs(1),
                    )
                    .into());
                }
            },
            _ = heartbeat.tick() => {
                self.ready.push_back(Frame::encode(&WatchAttemptResponse {
                    resume_token: token::encode(TokenKind::Resume, &self.key, self.last),
                    kind: Some(Kind::Heartbeat(Heartbeat { time: Some(std::time::SystemTime::now().into()) })),
                }));
            }
        }
    }

    /// The message that carries `event`.
    fn message(&self, event: &AttemptEvent) -> WatchAttemptResponse {
        WatchAttemptResponse {
            resume_token: token::encode(TokenKind::Resume, &self.key, event.sequence),
            kind: Some(Kind::Event(event.clone())),
        }
    }

    /// Queues `frame`, the message of `event`, and moves the watch past it.
    fn take(&mut self, event: &AttemptEvent, frame: Frame) {
        self.ready.push_back(frame);
        self.last = event.sequence;
        // A placeholder (an event that no longer decodes) says nothing of the state.
        if event.kind.is_some() {
            self.state = event.attempt_state();
        }
    }

    fn reset_heartbeat(&mut self) {
        if let Some(heartbeat) = &mut self.heartbeat {
            heartbeat.reset();
        }
    }
}
