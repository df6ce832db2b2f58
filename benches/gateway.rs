//! Benchmarks: `cargo bench --bench gateway`.
//!
//! Each group compares the gateway with a baseline measured in the same run, on the same
//! machine, so the ratio means something even on a noisy shared host:
//! - `vendor_call`: a BAF read through the gateway vs the same HTTP call made directly.
//! - `hook_ingest`: a signed AbleID hook through HTTP vs appending to the store directly
//!   (both commit with `synchronous=FULL`).
//! - `watch_fanout`: one hook delivered to 1 vs 50 live watchers of the attempt.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::StreamExt;
use idv_gateway::attempts::store::EventStore;
use idv_gateway::attempts::{AttemptKey, NewEvent, event_id, sqlite::SqliteStore};
use idv_gateway::config::Config;
use idv_gateway::proto::ableid::Photo;
use idv_gateway::proto::attempts::{self as pb, attempt_event::Kind};
use idv_gateway::proto::baf::{GetApplicantRequest, applicant_service_client::ApplicantServiceClient};
use idv_gateway::server::{self, Listeners, Running};
use idv_gateway::vendor::ableid::hook_signature;
use serde_json::{Value, json};
use tokio::runtime::Runtime;
use tonic::transport::Channel;

const APPLICANT: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// Seed 003's applicant example, the size of a real answer.
fn applicant() -> Value {
    json!({"applicantId": APPLICANT, "attemptsCount": 2, "lastAttemptId": 133, "successAttemptId": 133,
        "successAttempt": {"attemptId": 117, "created": "2023-11-17T04:38:04.653858", "documentTypeInt": 10,
            "status": 0, "validationStatus": {"faceIsValid": true, "antiSpoofingIsValid": true, "qualityIsValid": true},
            "validations": {"liveness": {"verdict": true, "details": [{"name": "FaceLiveness", "verdict": true, "score": 0.99}]},
                "quality": {"verdict": true, "details": [{"name": "FaceQuality", "verdict": true, "score": 0.53}]}}},
        "firstName": "John", "lastName": "Dow", "phone": "1542540505-039", "email": "string", "referenceId": "string",
        "openedLinkTimes": 0, "created": "2023-09-19T10:39:00.0307329", "accountId": "28608",
        "validationRequestSettings": {"validationRequestId": "0ec2b5", "faceValidationPercent": 70,
            "documentValidationPercent": 70, "qualityScore": 30, "isOCREnabled": true, "ageYearsDifference": 10},
        "completed": true, "status": 3, "statusName": "Canceled", "attemptsUsed": 0,
        "lastValidationResponse": {"validationResponseId": 133, "created": "2023-11-17T04:40:31.509932",
            "responseStatus": 0, "responseStatusName": "Success"},
        "hasRiskEvents": false, "metadata": {"additionalProp1": "string"}, "callbackUrl": null, "verificationMethod": 0})
}

struct Bench {
    running: Running,
    channel: Channel,
    vendor: String,
    _data: tempfile::TempDir,
}

/// A gateway with a minimal fake BAF (answering one applicant) and AbleID credentials.
async fn gateway() -> Bench {
    let vendor = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let vendor_addr = vendor.local_addr().expect("addr");
    let body = applicant();
    let app = axum::Router::new().route(
        "/publicapi/api/v2/private/Applicants/{id}",
        get(move || {
            let body = body.clone();
            async move { Json(body) }
        }),
    );
    tokio::spawn(async move { axum::serve(vendor, app).await });

    let data = tempfile::tempdir().expect("tempdir");
    let mut config = Config::default();
    config.server.grpc_addr = "127.0.0.1:0".parse().expect("addr");
    config.server.http_addr = "127.0.0.1:0".parse().expect("addr");
    config.store.data_dir = data.path().to_owned();
    config.baf.base_url = Some(format!("http://{vendor_addr}/publicapi").parse().expect("url"));
    config.baf.api_key = Some("sk_bench".into());
    config.ableid.base_url = Some("http://127.0.0.1:9".parse().expect("url"));
    config.ableid.project_id = Some("bench".into());
    config.ableid.secret = Some("secret".into());
    let listeners = Listeners::bind(&config).await.expect("bind");
    let running = server::start(config, listeners, None).await.expect("start");
    let channel = Channel::from_shared(format!("http://{}", running.grpc_addr))
        .expect("uri")
        .connect()
        .await
        .expect("connect");
    Bench { running, channel, vendor: format!("http://{vendor_addr}/publicapi"), _data: data }
}

fn vendor_call(c: &mut Criterion) {
    let rt = runtime();
    let bench = rt.block_on(gateway());
    let http = reqwest::Client::new();
    let direct = format!("{}/api/v2/private/Applicants/{APPLICANT}", bench.vendor);
    let mut group = c.benchmark_group("vendor_call");
    group.bench_function("direct_http_get_and_parse", |b| {
        b.to_async(&rt).iter(|| async {
            let body: Value = http
                .get(&direct)
                .bearer_auth("sk_bench")
                .send()
                .await
                .expect("sent")
                .json()
                .await
                .expect("json");
            assert_eq!(body["applicantId"], APPLICANT);
        })
    });
    let client = ApplicantServiceClient::new(bench.channel.clone());
    group.bench_function("through_gateway_get_applicant", |b| {
        b.to_async(&rt).iter(|| {
            let mut client = client.clone();
            async move {
                let response = client
                    .get_applicant(GetApplicantRequest { applicant_id: APPLICANT.into() })
                    .await
                    .expect("ok");
                assert_eq!(response.into_inner().applicant.expect("applicant").applicant_id, APPLICANT);
            }
        })
    });
    group.finish();
    rt.block_on(bench.running.stop());
}

fn photo_hook(attempt: &str, n: u64) -> Value {
    let hash = hook_signature("bench", &"secret".into(), attempt);
    json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
        "data": {"attemptId": attempt, "hash": hash, "data": {"crc": n.to_string(), "photo": ""}}})
}

fn hook_ingest(c: &mut Criterion) {
    let rt = runtime();
    let bench = rt.block_on(gateway());
    let counter = Arc::new(AtomicU64::new(0));
    let mut group = c.benchmark_group("hook_ingest");

    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path()).expect("store");
    let key = AttemptKey::ableid("bench-direct");
    group.bench_function("store_append", |b| {
        b.to_async(&rt).iter(|| {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let store = &store;
            let key = &key;
            async move {
                let event = NewEvent {
                    event_id: event_id(key, "photo", n.to_string().as_bytes()),
                    kind: Kind::Photo(Photo { crc: n.to_string(), photo: Vec::new() }),
                    raw: None,
                };
                store.append(key, event).await.expect("append");
            }
        })
    });

    let http = reqwest::Client::new();
    let url = format!("http://{}/hooks/ableid/photo", bench.running.http_addr);
    group.bench_function("signed_hook_over_http", |b| {
        b.to_async(&rt).iter(|| {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let (http, url) = (&http, &url);
            async move {
                let status =
                    http.post(url).json(&photo_hook("bench-http", n)).send().await.expect("sent").status();
                assert_eq!(status.as_u16(), 200);
            }
        })
    });
    group.finish();
    rt.block_on(bench.running.stop());
}

fn watch_fanout(c: &mut Criterion) {
    let rt = runtime();
    let bench = rt.block_on(gateway());
    let http = reqwest::Client::new();
    let url = format!("http://{}/hooks/ableid/photo", bench.running.http_addr);
    let counter = Arc::new(AtomicU64::new(0));
    let mut group = c.benchmark_group("watch_fanout");
    group.measurement_time(Duration::from_secs(10));
    for watchers in [1usize, 50] {
        let attempt = format!("bench-fanout-{watchers}");
        // The first hook creates the attempt so watches can start.
        rt.block_on(http.post(&url).json(&photo_hook(&attempt, u64::MAX)).send()).expect("sent");
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        for _ in 0..watchers {
            let mut client = pb::attempt_service_client::AttemptServiceClient::new(bench.channel.clone());
            let request = pb::WatchAttemptRequest {
                attempt: Some(pb::watch_attempt_request::Attempt::AbleidAttemptId(attempt.clone())),
                resume_token: String::new(),
                follow_after_terminal: true,
            };
            let mut stream = rt.block_on(client.watch_attempt(request)).expect("watch").into_inner();
            let tx = tx.clone();
            rt.spawn(async move {
                while let Some(Ok(message)) = stream.next().await {
                    if let Some(pb::watch_attempt_response::Kind::Event(event)) = message.kind {
                        let _ = tx.send(event.sequence);
                    }
                }
            });
        }
        // Drain the replay of the first event.
        rt.block_on(async {
            let mut rx = rx.lock().await;
            for _ in 0..watchers {
                rx.recv().await;
            }
        });
        group.bench_function(format!("hook_to_{watchers}_watchers"), |b| {
            b.to_async(&rt).iter(|| {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let (http, url, attempt, rx) = (&http, &url, &attempt, rx.clone());
                async move {
                    let mut rx = rx.lock().await;
                    http.post(url).json(&photo_hook(attempt, n)).send().await.expect("sent");
                    for _ in 0..watchers {
                        rx.recv().await.expect("delivered");
                    }
                }
            })
        });
    }
    group.finish();
    rt.block_on(bench.running.stop());
}

criterion_group!(benches, vendor_call, hook_ingest, watch_fanout);
criterion_main!(benches);
