//! Webhook delivery as AbleID does it: a JSON POST with a timeout, retried a few times
//! at a fixed pause when the receiver fails or answers non-2xx, in the background so
//! the page or call that caused it answers at once. Deliveries to different URLs are
//! independent tasks.

use std::time::Duration;

use bytes::Bytes;
use http::header;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use url::Url;

/// Sends hooks in background tasks.
#[derive(Debug, Clone)]
pub(crate) struct Deliverer {
    client: reqwest::Client,
    timeout: Duration,
    retries: u32,
    retry_delay: Duration,
    stop: CancellationToken,
}

/// How one delivery ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A 2xx answer, after this many tries.
    Delivered { tries: u32 },
    /// Every try failed.
    GaveUp,
    /// The sandbox is stopping.
    Stopped,
}

impl Deliverer {
    /// A deliverer that gives each try `timeout`, retries `retries` times after
    /// `retry_delay`, and gives up on everything in flight when `stop` is cancelled.
    pub(crate) fn new(
        timeout: Duration,
        retries: u32,
        retry_delay: Duration,
        stop: CancellationToken,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .user_agent("ableid-sandbox-hooks")
            // A hook receiver that redirects has not received the hook.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { client, timeout, retries, retry_delay, stop })
    }

    /// Delivers `body` to `url` in a background task. `kind` and `attempt_id` name the
    /// delivery in logs; the body is never logged (it carries personal data).
    pub(crate) fn spawn(&self, url: String, body: &Value, kind: &'static str, attempt_id: &str) {
        let this = self.clone();
        let body = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
        let attempt_id = attempt_id.to_owned();
        tokio::spawn(async move {
            this.deliver(&url, body, kind, &attempt_id).await;
        });
    }

    /// Delivers and waits for the outcome.
    pub(crate) async fn deliver(
        &self,
        url: &str,
        body: Bytes,
        kind: &'static str,
        attempt_id: &str,
    ) -> Outcome {
        let target = loggable(url);
        for try_number in 1..=self.retries.saturating_add(1) {
            if try_number > 1 {
                tokio::select! {
                    () = self.stop.cancelled() => return Outcome::Stopped,
                    () = tokio::time::sleep(self.retry_delay) => {}
                }
            }
            let send = self
                .client
                .post(url)
                .timeout(self.timeout)
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send();
            let failure = tokio::select! {
                () = self.stop.cancelled() => return Outcome::Stopped,
                result = send => match result {
                    Ok(response) if response.status().is_success() => {
                        tracing::info!(kind, attempt_id, target, tries = try_number, "sandbox: hook delivered");
                        return Outcome::Delivered { tries: try_number };
                    }
                    Ok(response) => format!("HTTP {}", response.status().as_u16()),
                    Err(e) if e.is_timeout() => "timed out".to_owned(),
                    Err(e) if e.is_connect() => "connection failed".to_owned(),
                    Err(_) => "transport error".to_owned(),
                },
            };
            tracing::debug!(kind, attempt_id, target, try_number, failure, "sandbox: hook try failed");
            if try_number == self.retries.saturating_add(1) {
                tracing::warn!(
                    kind,
                    attempt_id,
                    target,
                    tries = try_number,
                    last_failure = failure,
                    "sandbox: hook not delivered, giving up"
                );
            }
        }
        Outcome::GaveUp
    }
}

/// A hook URL without its query, which may hold a caller's token.
fn loggable(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut url) => {
            url.set_query(None);
            url.set_fragment(None);
            let _ = url.set_password(None);
            let _ = url.set_username("");
            url.to_string()
        }
        Err(_) => "<invalid URL>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use axum::Router;
    use axum::routing::post;

    fn quick(retries: u32) -> Deliverer {
        Deliverer::new(Duration::from_secs(5), retries, Duration::from_millis(10), CancellationToken::new())
            .unwrap()
    }

    /// A receiver that fails the first `failures` requests with 500.
    async fn receiver(failures: u32) -> (String, Arc<AtomicU32>) {
        let seen = Arc::new(AtomicU32::new(0));
        let counter = seen.clone();
        let app = Router::new().route(
            "/hook",
            post(move || {
                let counter = counter.clone();
                async move {
                    let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                    if n <= failures { http::StatusCode::INTERNAL_SERVER_ERROR } else { http::StatusCode::OK }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (format!("http://{addr}/hook"), seen)
    }

    #[tokio::test]
    async fn failed_deliveries_are_retried() {
        let (url, seen) = receiver(2).await;
        let outcome = quick(3).deliver(&url, Bytes::from_static(b"{}"), "test", "a1").await;
        assert_eq!(outcome, Outcome::Delivered { tries: 3 });
        assert_eq!(seen.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn delivery_gives_up_after_the_retries() {
        let (url, seen) = receiver(100).await;
        let outcome = quick(3).deliver(&url, Bytes::from_static(b"{}"), "test", "a1").await;
        assert_eq!(outcome, Outcome::GaveUp);
        assert_eq!(seen.load(Ordering::SeqCst), 4, "one try and three retries");
    }

    #[tokio::test]
    async fn stopping_ends_a_delivery() {
        let (url, _) = receiver(100).await;
        let mut deliverer = quick(3);
        deliverer.retry_delay = Duration::from_secs(3600);
        deliverer.stop.cancel();
        let outcome = deliverer.deliver(&url, Bytes::from_static(b"{}"), "test", "a1").await;
        assert_eq!(outcome, Outcome::Stopped);
    }

    #[test]
    fn logged_urls_lose_query_and_credentials() {
        assert_eq!(loggable("https://u:p@h.example/x?token=1#f"), "https://h.example/x");
    }
}
