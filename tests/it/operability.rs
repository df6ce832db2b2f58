//! What an operator sees and relies on: metrics and readiness on the admin listener,
//! load shedding and caps, each vendor's circuit breaker, and the shutdown order.

use std::time::{Duration, Instant};

use idv_gateway::proto::ableid as ableid_pb;
use idv_gateway::proto::baf as baf_pb;
use serde_json::json;
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::harness::{FakeVendors, PROJECT_ID, SECRET, error_parts};

async fn metrics(fake: &FakeVendors) -> String {
    reqwest::get(fake.gateway.admin_url("/metrics")).await.unwrap().text().await.unwrap()
}

/// The value of one metric line (`name{labels} value`), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

async fn health(fake: &FakeVendors, service: &str) -> ServingStatus {
    let response = HealthClient::new(fake.gateway.channel.clone())
        .check(HealthCheckRequest { service: service.into() })
        .await
        .unwrap()
        .into_inner();
    response.status()
}

fn get_applicant(id: &str) -> baf_pb::GetApplicantRequest {
    baf_pb::GetApplicantRequest { applicant_id: id.into() }
}

#[tokio::test]
async fn metrics_count_calls_vendor_requests_and_hooks_without_personal_data() {
    let fake = FakeVendors::start().await;
    let applicant = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
    fake.reply(
        "GET",
        &format!("/baf/publicapi/api/v2/private/Applicants/{applicant}"),
        200,
        json!({"applicantId": applicant}),
    )
    .await;
    let mut client = fake.gateway.applicants();
    client.get_applicant(get_applicant(applicant)).await.unwrap();
    client.get_applicant(get_applicant("../etc")).await.unwrap_err();
    let hook = json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
        "data": {"attemptId": "never-started-1", "hash": idv_gateway::providers::ableid::client::hook_signature(
            PROJECT_ID, &SECRET.into(), "never-started-1")}});
    let status = reqwest::Client::new()
        .post(fake.gateway.http_url("/hooks/ableid/complete"))
        .json(&hook)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 404);

    let text = metrics(&fake).await;
    let method = "/idv.baf.v1.ApplicantService/GetApplicant";
    assert_eq!(
        value(
            &text,
            &format!("idv_grpc_requests_total{{method=\"{method}\",code=\"OK\",caller=\"anonymous\"}}")
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            &format!(
                "idv_grpc_requests_total{{method=\"{method}\",code=\"INVALID_ARGUMENT\",caller=\"anonymous\"}}"
            )
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&text, "idv_vendor_requests_total{vendor=\"baf\",operation=\"GetApplicant\",status=\"200\"}"),
        Some(1.0)
    );
    assert_eq!(
        value(&text, "idv_hooks_total{vendor=\"ableid\",kind=\"complete\",outcome=\"unknown_attempt\"}"),
        Some(1.0)
    );
    assert!(
        text.contains(&format!("idv_grpc_request_duration_seconds_count{{method=\"{method}\"}} 2")),
        "{text}"
    );
    for family in [
        "idv_watch_streams",
        "idv_vendor_breaker_state{vendor=\"baf\"}",
        "idv_store_up",
        "idv_memory_budget_bytes_in_use",
        "process_resident_memory_bytes",
        "process_open_fds",
    ] {
        assert!(value(&text, family).is_some(), "{family} missing:\n{text}");
    }
    // Labels name methods, codes, callers and vendors: never an id a request carried.
    for id in [applicant, "never-started-1", "../etc"] {
        assert!(!text.contains(id), "the metrics show {id}");
    }
    // A path nobody serves does not become a label.
    let mut raw = tonic::client::Grpc::new(fake.gateway.channel.clone());
    raw.ready().await.unwrap();
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    let path = http::uri::PathAndQuery::from_static("/scanner.v1.Probe/Anything");
    let _ = raw.unary(tonic::Request::new(()), path, codec).await;
    let text = metrics(&fake).await;
    assert!(!text.contains("scanner"), "{text}");
    assert!(text.contains("method=\"unknown\""), "{text}");
}

#[tokio::test]
async fn liveness_and_readiness() {
    let fake = FakeVendors::start().await;
    let live = reqwest::get(fake.gateway.admin_url("/livez")).await.unwrap();
    assert_eq!(live.status().as_u16(), 200);
    let ready = reqwest::get(fake.gateway.admin_url("/readyz")).await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);
}

/// On shutdown gRPC stops taking calls and readiness says draining, while the hook
/// listener keeps taking hooks until the grace period ends.
#[tokio::test]
async fn shutdown_drains_grpc_but_keeps_taking_hooks_for_the_grace_period() {
    let fake = FakeVendors::start_with(|config| config.server.shutdown_grace_secs = 3).await;
    fake.reply(
        "POST",
        "/ableid/check/start/second",
        201,
        json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
            "data": {"attemptId": "att-drain", "fullUrl": "https://ableid.test/x", "lang": "ru"}}),
    )
    .await;
    fake.gateway
        .ableid()
        .start_resident_check(ableid_pb::StartResidentCheckRequest {
            transaction_id: "tx-drain".into(),
            pinfl: "31205901234567".into(),
            birth_date: "12.05.1990".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let (admin, http) = (fake.gateway.admin_url("/readyz"), fake.gateway.http_url("/hooks/ableid/complete"));
    let grpc_addr = fake.gateway.grpc_addr;
    let stopping = tokio::spawn(fake.gateway.stop());
    tokio::time::sleep(Duration::from_millis(300)).await;

    let ready = reqwest::get(&admin).await.unwrap();
    assert_eq!((ready.status().as_u16(), ready.text().await.unwrap().as_str()), (503, "draining\n"));
    let channel = tonic::transport::Channel::from_shared(format!("http://{grpc_addr}")).unwrap();
    assert!(channel.connect().await.is_err(), "gRPC stopped taking new connections");
    let hook = json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
        "data": {"attemptId": "att-drain", "hash": idv_gateway::providers::ableid::client::hook_signature(
            PROJECT_ID, &SECRET.into(), "att-drain"), "transactionId": "tx-drain"}});
    let status = reqwest::Client::new().post(&http).json(&hook).send().await.unwrap().status();
    assert_eq!(status.as_u16(), 200, "a hook in the grace period is still stored");
    let started = Instant::now();
    stopping.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_failing_vendor_opens_its_breaker_and_health_shows_it() {
    let fake = FakeVendors::start_with(|config| {
        config.limits.breaker_failures = 2;
        config.limits.breaker_cooldown_secs = 1;
    })
    .await;
    let path = "/baf/publicapi/api/v2/private/Applicants/app-1";
    fake.reply("GET", path, 503, json!({"message": "down"})).await;
    let mut client = fake.gateway.applicants();
    for _ in 0..2 {
        let status = client.get_applicant(get_applicant("app-1")).await.unwrap_err();
        assert_eq!(error_parts(&status).reason, "HTTP_503");
    }
    let sent = fake.requests().await.len();
    let status = client.get_applicant(get_applicant("app-1")).await.unwrap_err();
    let error = error_parts(&status);
    assert_eq!((error.code, error.reason.as_str()), (Code::Unavailable, "VENDOR_CIRCUIT_OPEN"));
    assert!(error.retry_after.is_some());
    assert_eq!(fake.requests().await.len(), sent, "an open breaker does not call the vendor");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(health(&fake, "idv.baf.v1.ApplicantService").await, ServingStatus::NotServing);
    assert_eq!(health(&fake, "idv.ableid.v1.AbleIdService").await, ServingStatus::Serving);
    assert_eq!(value(&metrics(&fake).await, "idv_vendor_breaker_state{vendor=\"baf\"}"), Some(1.0));

    // After the cooldown a probe goes through; the vendor answers again, the breaker closes.
    fake.server.reset().await;
    fake.reply("GET", path, 200, json!({"applicantId": "app-1"})).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    client.get_applicant(get_applicant("app-1")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(health(&fake, "idv.baf.v1.ApplicantService").await, ServingStatus::Serving);
    assert_eq!(value(&metrics(&fake).await, "idv_vendor_breaker_state{vendor=\"baf\"}"), Some(0.0));
}

#[tokio::test]
async fn calls_over_the_concurrency_limit_are_shed_at_once() {
    let fake = FakeVendors::start_with(|config| config.limits.max_concurrent_calls = 2).await;
    wiremock::Mock::given(wiremock::matchers::path("/baf/publicapi/api/v2/private/Applicants/slow"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_json(json!({"applicantId": "slow"}))
                .set_delay(Duration::from_millis(600)),
        )
        .mount(&fake.server)
        .await;
    let calls: Vec<_> = (0..6)
        .map(|_| {
            let mut client = fake.gateway.applicants();
            tokio::spawn(async move { client.get_applicant(get_applicant("slow")).await })
        })
        .collect();
    let mut shed = 0;
    for call in calls {
        if let Err(status) = call.await.unwrap() {
            let error = error_parts(&status);
            assert_eq!((error.code, error.reason.as_str()), (Code::ResourceExhausted, "TOO_MANY_CALLS"));
            assert!(error.retry_after.is_some());
            shed += 1;
        }
    }
    assert_eq!(shed, 4);
    // Health is never shed.
    assert_eq!(health(&fake, "").await, ServingStatus::Serving);
}

#[tokio::test]
async fn watches_are_capped_per_caller_and_in_all() {
    // The per-caller cap, then the global one; each time the third watch is refused.
    let caps: [fn(&mut idv_gateway::config::Config); 2] = [
        |config| config.limits.max_watch_streams_per_caller = 2,
        |config| config.limits.max_watch_streams = 2,
    ];
    for cap in caps {
        watches_are_capped(cap).await;
    }
}

async fn watches_are_capped(cap: fn(&mut idv_gateway::config::Config)) {
    let fake = FakeVendors::start_with(cap).await;
    fake.reply(
        "POST",
        "/ableid/check/start/second",
        201,
        json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
            "data": {"attemptId": "att-cap", "fullUrl": "https://ableid.test/x", "lang": "ru"}}),
    )
    .await;
    fake.gateway
        .ableid()
        .start_resident_check(ableid_pb::StartResidentCheckRequest {
            transaction_id: "tx-cap".into(),
            pinfl: "31205901234567".into(),
            birth_date: "12.05.1990".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    // The start appended its `started` event, and the append was timed.
    let text = metrics(&fake).await;
    assert_eq!(
        value(&text, "idv_events_appended_total{vendor=\"ableid\",kind=\"started\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(value(&text, "idv_event_append_duration_seconds_count"), Some(1.0), "{text}");
    let watch = || {
        let mut client = idv_gateway::proto::attempts::attempt_service_client::AttemptServiceClient::new(
            fake.gateway.channel.clone(),
        );
        async move {
            client
                .watch_attempt(idv_gateway::proto::attempts::WatchAttemptRequest {
                    attempt: Some(
                        idv_gateway::proto::attempts::watch_attempt_request::Attempt::AbleidAttemptId(
                            "att-cap".into(),
                        ),
                    ),
                    resume_token: String::new(),
                    follow_after_terminal: true,
                })
                .await
        }
    };
    let first = watch().await.unwrap();
    let second = watch().await.unwrap();
    let status = watch().await.unwrap_err();
    assert_eq!(error_parts(&status).reason, "TOO_MANY_WATCHES");
    assert_eq!(value(&metrics(&fake).await, "idv_watch_streams"), Some(2.0));
    drop((first, second));
    tokio::time::sleep(Duration::from_millis(300)).await;
    watch().await.expect("closed watches give their places back");
}
