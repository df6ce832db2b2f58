//! The sandbox over real HTTP, as a gateway or a person with curl meets it: served on a
//! port-0 listener, called with reqwest, its hooks received by a small axum server.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;
use idv_sandbox::{ABLEID_PROJECT_ID, ABLEID_SECRET, BAF_API_KEY, Options, Sandbox};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use url::Url;

/// A hook receiver: every POST to `/{name}` arrives on the channel as (name, body).
async fn receiver() -> (Url, mpsc::UnboundedReceiver<(String, Value)>) {
    let (sender, received) = mpsc::unbounded_channel();
    let app = Router::new()
        .route(
            "/{name}",
            post(
                |State(sender): State<mpsc::UnboundedSender<(String, Value)>>,
                 Path(name): Path<String>,
                 body: String| async move {
                    let _ = sender.send((name, serde_json::from_str(&body).unwrap_or(Value::Null)));
                },
            ),
        )
        .with_state(sender);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

async fn sandbox(data_hooks: Url) -> Sandbox {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut options = Options::new(data_hooks);
    options.hook_retry_delay = Duration::from_millis(10);
    idv_sandbox::serve(listener, options, CancellationToken::new()).await.unwrap()
}

/// A client that shows redirects instead of following them.
fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().build().unwrap()
}

async fn next_hook(hooks: &mut mpsc::UnboundedReceiver<(String, Value)>) -> (String, Value) {
    tokio::time::timeout(Duration::from_secs(10), hooks.recv()).await.unwrap().unwrap()
}

/// `UPPER(SHA1(UPPER(SHA1(projectId + secret)) + attemptId))`, written out here.
fn expected_hash(attempt_id: &str) -> String {
    let inner = hex::encode_upper(Sha1::digest(format!("{ABLEID_PROJECT_ID}{ABLEID_SECRET}")));
    hex::encode_upper(Sha1::digest(format!("{inner}{attempt_id}")))
}

#[tokio::test]
async fn ableid_session_from_start_to_data_hook() {
    let (hooks_url, mut hooks) = receiver().await;
    let sandbox = sandbox(hooks_url.clone()).await;
    assert_eq!(sandbox.ableid_url.as_str(), format!("http://{}/sandbox/ableid", sandbox.addr));
    let http = client();
    let api = |path: &str| format!("{}/check/{path}", sandbox.ableid_url);

    let started = http
        .post(api("start/second"))
        .json(&json!({"projectId": ABLEID_PROJECT_ID, "secret": ABLEID_SECRET, "transactionId": "tx-1",
            "pinfl": "31505901234567", "birthDate": "15.05.1990", "lang": "en",
            "hooks": [hooks_url.join("caller").unwrap().as_str()]}))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 201);
    let started: Value = started.json().await.unwrap();
    let attempt = started["data"]["attemptId"].as_str().unwrap().to_owned();
    let full_url = started["data"]["fullUrl"].as_str().unwrap().to_owned();
    assert_eq!(full_url, format!("{}/session/{attempt}", sandbox.ableid_url));

    let page = http.get(&full_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(&format!("{full_url}/approve")));
    // `curl -X POST <fullUrl>/approve`: no body at all.
    assert_eq!(http.post(format!("{full_url}/approve")).send().await.unwrap().status(), 200);
    let (name, hook) = next_hook(&mut hooks).await;
    assert_eq!(name, "caller");
    assert_eq!((hook["statusCode"].as_i64(), hook["type"].as_str()), (Some(200), Some("SUCCESS")));
    assert_eq!(hook["data"]["hash"], expected_hash(&attempt).as_str());
    assert_eq!(hook["data"]["transactionId"], "tx-1");

    let asked = http
        .post(api("get_photo"))
        .json(&json!({"projectId": ABLEID_PROJECT_ID, "secret": ABLEID_SECRET, "attemptId": attempt}))
        .send()
        .await
        .unwrap();
    assert_eq!(asked.status(), 200);
    let (name, hook) = next_hook(&mut hooks).await;
    assert_eq!(name, "photo");
    assert_eq!(hook["data"]["hash"], expected_hash(&attempt).as_str());
    assert!(hook["data"]["data"]["photo"].as_str().is_some_and(|p| p.starts_with("/9j/")), "a base64 JPEG");

    let refused = http
        .post(api("get_photo"))
        .json(&json!({"projectId": ABLEID_PROJECT_ID, "secret": "wrong", "attemptId": attempt}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(
        (refused["statusCode"].as_i64(), refused["type"].as_str()),
        (Some(10202), Some("FACE_PROJECT_NOT_FOUND"))
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn baf_pass_and_fail_from_the_links_the_caller_gets() {
    let sandbox = sandbox(Url::parse("http://127.0.0.1:9/hooks").unwrap()).await;
    assert!(sandbox.baf_url.as_str().ends_with("/sandbox/baf/publicapi"));
    let http = client();
    let applicants = format!("{}/api/v2/private/Applicants", sandbox.baf_url);
    let create = |body: Value| {
        let request = http.post(&applicants).bearer_auth(BAF_API_KEY).json(&body);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let status = |id: String| {
        let request = http.get(format!("{applicants}/{id}")).bearer_auth(BAF_API_KEY);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap()["statusName"].clone() }
    };

    let unauthorized = http.post(&applicants).json(&json!({})).send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);

    // `curl -X POST '<shortValidationLink>/pass'`, then back to the caller's site.
    let created = create(json!({"callbackUrl": "https://example.com/back"})).await;
    let id = created["applicantId"].as_str().unwrap().to_owned();
    let short = created["shortValidationLink"].as_str().unwrap();
    let opened = http.get(short).send().await.unwrap();
    assert_eq!(opened.status(), 303);
    assert_eq!(opened.headers()["location"], created["validationLink"].as_str().unwrap());
    let passed = http.post(format!("{short}/pass")).send().await.unwrap();
    assert_eq!(passed.status(), 303);
    assert_eq!(passed.headers()["location"], "https://example.com/back");
    assert_eq!(status(id).await, "Success");
    assert_eq!(http.post(format!("{short}/fail")).send().await.unwrap().status(), 409, "closed");

    // `curl -X POST -d action=fail '<validationLink>'`.
    let created = create(json!({})).await;
    let id = created["applicantId"].as_str().unwrap().to_owned();
    let link = created["validationLink"].as_str().unwrap();
    let form = |action: &'static str| {
        http.post(link).header("content-type", "application/x-www-form-urlencoded").body(action)
    };
    assert_eq!(form("action=fail").send().await.unwrap().status(), 200);
    assert_eq!(status(id.clone()).await, "FailedAttempt");
    assert_eq!(form("action=maybe").send().await.unwrap().status(), 400);
    assert_eq!(form("").send().await.unwrap().status(), 400);
    assert_eq!(status(id).await, "FailedAttempt", "a bad action records nothing");
    let unknown = format!("{}/sandbox/baf/s/nope/pass", sandbox.public_url.as_str().trim_end_matches('/'));
    assert_eq!(http.post(unknown).send().await.unwrap().status(), 404);
    sandbox.stop().await;
}

#[tokio::test]
async fn b2core_needs_a_token_and_raises_levels() {
    let sandbox = sandbox(Url::parse("http://127.0.0.1:9/hooks").unwrap()).await;
    let http = client();
    let history = format!("{}/api/v2/my/verifications", sandbox.b2core_url);
    let unauthorized = http.get(&history).send().await.unwrap();
    assert_eq!(unauthorized.status(), 401);
    assert_eq!(unauthorized.json::<Value>().await.unwrap()["message"], "Unauthorized");

    let wizard: Value = http
        .get(format!("{}/v2/my/verifications/wizard", sandbox.b2core_url))
        .bearer_auth("any-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(wizard["code"], 200);
    let done = http
        .post(format!("{}/v2/my/verifications", sandbox.b2core_url))
        .bearer_auth("any-token")
        .json(&json!({"data": {"documents": {"type": 2, "files": ["id.jpeg"]}, "uuid": wizard["uuid"]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let page: Value = http.get(&history).bearer_auth("any-token").send().await.unwrap().json().await.unwrap();
    assert_eq!(page["total"], 2);
    assert_eq!(page["data"][0]["currentLevel"]["name"], "Level 1");
    sandbox.stop().await;
}

#[tokio::test]
async fn stopping_closes_the_listener() {
    let sandbox = sandbox(Url::parse("http://127.0.0.1:9/hooks").unwrap()).await;
    let addr = sandbox.addr;
    sandbox.stop().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
