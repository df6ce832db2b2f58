//! Failure modes of vendor calls, and what the server offers around the services: health,
//! reflection, unconfigured vendors, redacted `Debug`.

use std::time::Duration;

use idv_gateway::proto::{ableid, baf};
use serde_json::json;
use tonic::{Code, Request};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::harness::{FakeVendors, TestGateway, config, error_parts};

const APPLICANT: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

fn get_applicant() -> baf::GetApplicantRequest {
    baf::GetApplicantRequest { applicant_id: APPLICANT.into() }
}

#[tokio::test]
async fn a_slow_vendor_is_deadline_exceeded() {
    let fake = FakeVendors::start_with(|config| crate::harness::baf(config).timeout_secs = 1).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})).set_delay(Duration::from_secs(10)))
        .mount(&fake.server)
        .await;
    let status = fake.gateway.applicants().get_applicant(get_applicant()).await.unwrap_err();
    let error = error_parts(&status);
    assert_eq!(
        (error.code, error.reason.as_str(), error.domain.as_str()),
        (Code::DeadlineExceeded, "UPSTREAM_TIMEOUT", "baf")
    );
}

#[tokio::test]
async fn the_callers_deadline_cuts_a_vendor_call_short() {
    let fake = FakeVendors::start().await; // vendor timeout: the default 30 s
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})).set_delay(Duration::from_secs(20)))
        .mount(&fake.server)
        .await;
    let mut request = Request::new(get_applicant());
    request.set_timeout(Duration::from_millis(500));
    // Generous bound: only a call that waited for the vendor's 20 s would miss it.
    let mut client = fake.gateway.applicants();
    let call = client.get_applicant(request);
    let status =
        tokio::time::timeout(Duration::from_secs(10), call).await.expect("deadline ignored").unwrap_err();
    // Usually the gateway's own error with details; tonic's CANCELLED if the machine is
    // so loaded that tonic's timer fires first.
    assert!(matches!(status.code(), Code::DeadlineExceeded | Code::Cancelled), "{status:?}");
}

#[tokio::test]
async fn an_unreachable_vendor_is_unavailable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let fake = FakeVendors::start_with(|config| {
        crate::harness::baf(config).base_url =
            Some(format!("http://127.0.0.1:{port}/publicapi").parse().unwrap());
    })
    .await;
    let status = fake.gateway.applicants().get_applicant(get_applicant()).await.unwrap_err();
    let error = error_parts(&status);
    assert_eq!((error.code, error.reason.as_str()), (Code::Unavailable, "UPSTREAM_UNAVAILABLE"));
    assert!(!error.message.contains("127.0.0.1"), "causes do not echo URLs: {}", error.message);
}

#[tokio::test]
async fn only_idempotent_reads_are_retried() {
    let fake = FakeVendors::start().await;
    Mock::given(path(format!("/baf/publicapi/api/v2/private/Applicants/{APPLICANT}")))
        .respond_with(ResponseTemplate::new(503).set_body_string("busy"))
        .mount(&fake.server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("busy"))
        .mount(&fake.server)
        .await;

    let status = fake.gateway.applicants().get_applicant(get_applicant()).await.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(fake.requests().await.len(), 3, "a GET is sent once and retried twice");

    let status = fake
        .gateway
        .applicants()
        .re_notify_applicant(baf::ReNotifyApplicantRequest { applicant_id: APPLICANT.into() })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(fake.requests().await.len(), 4, "a POST is never retried");
}

#[tokio::test]
async fn a_garbage_body_is_an_internal_error_not_a_panic() {
    let fake = FakeVendors::start().await;
    for body in ["<html>maintenance</html>", "[1,2,3]", "{\"applicantId\": {\"nested\": ["] {
        fake.server.reset().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_body_string(body))
            .mount(&fake.server)
            .await;
        let status = fake.gateway.applicants().get_applicant(get_applicant()).await.unwrap_err();
        let error = error_parts(&status);
        assert_eq!(
            (error.code, error.reason.as_str()),
            (Code::Internal, "UPSTREAM_MALFORMED_RESPONSE"),
            "{body}"
        );
    }
    // Wrongly typed fields are read leniently instead.
    fake.server.reset().await;
    fake.reply(
        "GET",
        &format!("/baf/publicapi/api/v2/private/Applicants/{APPLICANT}"),
        200,
        json!({"applicantId": APPLICANT, "attemptsCount": "3", "status": "1", "completed": "true", "metadata": [1]}),
    )
    .await;
    let applicant = fake
        .gateway
        .applicants()
        .get_applicant(get_applicant())
        .await
        .unwrap()
        .into_inner()
        .applicant
        .unwrap();
    assert_eq!((applicant.attempts_count, applicant.raw_status, applicant.completed), (3, 1, true));
}

#[tokio::test]
async fn unconfigured_vendors_refuse_calls_and_report_not_serving() {
    let (config, data_dir) = config();
    let gateway = TestGateway::start(config, data_dir).await;
    let status = gateway
        .ableid()
        .request_photo(ableid::RequestPhotoRequest { attempt_id: "a1".into() })
        .await
        .unwrap_err();
    let error = error_parts(&status);
    assert_eq!((error.code, error.reason.as_str()), (Code::FailedPrecondition, "UPSTREAM_NOT_CONFIGURED"));
    assert_eq!(error.metadata["vendor"], "ableid");

    let mut health = HealthClient::new(gateway.channel.clone());
    let check = |service: &str| HealthCheckRequest { service: service.into() };
    let status = health.check(check("")).await.unwrap().into_inner().status();
    assert_eq!(status, ServingStatus::Serving);
    let status = health.check(check("idv.ableid.v1.AbleIdService")).await.unwrap().into_inner().status();
    assert_eq!(status, ServingStatus::NotServing);
}

#[tokio::test]
async fn health_reports_each_configured_service() {
    let fake = FakeVendors::start().await;
    let mut health = HealthClient::new(fake.gateway.channel.clone());
    for service in [
        "idv.ableid.v1.AbleIdService",
        "idv.baf.v1.ApplicantService",
        "idv.baf.v1.ValidationService",
        "idv.b2core.v1.VerificationService",
    ] {
        let response = health.check(HealthCheckRequest { service: service.into() }).await.unwrap();
        assert_eq!(response.into_inner().status(), ServingStatus::Serving, "{service}");
    }
}

#[tokio::test]
async fn reflection_lists_every_service_in_both_versions() {
    use tokio_stream::StreamExt;
    use tonic_reflection::pb::v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let fake = FakeVendors::start().await;
    let mut client = ServerReflectionClient::new(fake.gateway.channel.clone());
    let requests = [
        MessageRequest::ListServices(String::new()),
        MessageRequest::FileContainingSymbol("google.rpc.ErrorInfo".into()),
        MessageRequest::FileContainingSymbol("idv.baf.v1.ApplicantService".into()),
    ]
    .map(|message_request| ServerReflectionRequest {
        host: String::new(),
        message_request: Some(message_request),
    });
    let mut responses =
        client.server_reflection_info(tokio_stream::iter(requests)).await.unwrap().into_inner();

    let Some(MessageResponse::ListServicesResponse(list)) =
        responses.next().await.unwrap().unwrap().message_response
    else {
        panic!("expected a service list");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in [
        "idv.ableid.v1.AbleIdService",
        "idv.baf.v1.ApplicantService",
        "idv.baf.v1.ValidationService",
        "idv.b2core.v1.VerificationService",
        "grpc.health.v1.Health",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }
    for _ in 0..2 {
        let response = responses.next().await.unwrap().unwrap().message_response;
        assert!(matches!(response, Some(MessageResponse::FileDescriptorResponse(_))), "{response:?}");
    }

    // grpcurl 1.8 speaks only v1alpha.
    use tonic_reflection::pb::v1alpha::{
        ServerReflectionRequest as AlphaRequest,
        server_reflection_client::ServerReflectionClient as AlphaClient,
        server_reflection_request::MessageRequest as AlphaMessage,
    };
    let mut alpha = AlphaClient::new(fake.gateway.channel.clone());
    let request = AlphaRequest {
        host: String::new(),
        message_request: Some(AlphaMessage::ListServices(String::new())),
    };
    let mut responses =
        alpha.server_reflection_info(tokio_stream::iter([request])).await.unwrap().into_inner();
    assert!(responses.next().await.unwrap().is_ok());
}

#[tokio::test]
async fn graceful_shutdown_finishes_promptly() {
    let fake = FakeVendors::start().await;
    let stopped = tokio::time::timeout(Duration::from_secs(15), fake.gateway.stop()).await;
    assert!(stopped.is_ok(), "shutdown hung");
}

#[test]
fn debug_output_never_shows_field_values() {
    let request = ableid::StartResidentCheckRequest {
        transaction_id: "tx".into(),
        pinfl: "31205901234567".into(),
        birth_date: "12.05.1990".into(),
        lang: "ru".into(),
        hooks: vec![],
    };
    let printed =
        format!("{request:?} {:?}", ableid::Passport { surname: "Ivanov".into(), ..Default::default() });
    assert!(
        !printed.contains("31205901234567") && !printed.contains("12.05.1990") && !printed.contains("Ivanov")
    );
    assert!(printed.contains("StartResidentCheckRequest"), "{printed}");
}
