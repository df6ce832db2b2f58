//! End to end through the real gateway and the simulated vendors of `idv-sandbox`,
//! started beside it: tonic clients call the gateway, the gateway's vendor clients call
//! the simulated vendors over HTTP, and the tests act as the end user on the vendors'
//! pages and as the receivers of their hooks. One file per vendor, as in `src/providers`
//! and the simulator; `contract` checks the gateway's readers against the simulator's
//! JSON without a gateway in between.

mod ableid;
mod b2core;
mod baf;
mod contract;

use std::time::{Duration, Instant};

use serde_json::Value;
use wiremock::MockServer;

/// Long enough for a slow CI machine; waits poll and return as soon as they can.
const PATIENCE: Duration = Duration::from_secs(30);

/// An HTTP client that acts as the end user's browser, but never follows redirects by
/// itself, so a test can look at them.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().build().unwrap()
}

/// POSTs an empty form, as the pages' buttons (and client libraries) do.
pub async fn press(url: &str) -> reqwest::Response {
    browser()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap()
}

/// Waits until `server` has received `count` requests on `path`, and returns them.
pub async fn received(server: &MockServer, path: &str, count: usize) -> Vec<wiremock::Request> {
    let until = Instant::now() + PATIENCE;
    loop {
        let requests: Vec<_> = server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.url.path() == path)
            .collect();
        if requests.len() >= count {
            return requests;
        }
        assert!(Instant::now() < until, "{path}: {} of {count} requests after {PATIENCE:?}", requests.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn json(request: &wiremock::Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}
