//! AbleIdService against a recording fake AbleID: the exact HTTP call, the mapped
//! response, and the mapped errors.

use idv_gateway::proto::ableid as pb;
use serde_json::json;
use tonic::Code;

use crate::harness::{FakeVendors, PROJECT_ID, SECRET, error_parts, header, json_body};

const STARTED: &str = r#"{"statusCode":200,"type":"SUCCESS","message":"Сессия создана",
    "data":{"attemptId":"3HQVkBm_zCZqKFbTWVrhf","fullUrl":"https://ableid.backend/3HQVkBm_zCZqKFbTWVrhf","lang":"ru"}}"#;

fn resident() -> pb::StartResidentCheckRequest {
    pb::StartResidentCheckRequest {
        transaction_id: "tx-1".into(),
        pinfl: "31205901234567".into(),
        birth_date: "12.05.1990".into(),
        lang: "ru".into(),
        hooks: vec![],
    }
}

/// Starts the session every data request below is about, and forgets the start call.
async fn started(fake: &FakeVendors) -> String {
    fake.reply("POST", "/ableid/check/start/second", 201, serde_json::from_str(STARTED).unwrap()).await;
    let started = fake.gateway.ableid().start_resident_check(resident()).await.unwrap().into_inner();
    fake.server.reset().await;
    started.attempt_id
}

#[tokio::test]
async fn start_resident_check_sends_the_documented_call() {
    // A public IP literal: accepted without a name look-up (this machine has no DNS).
    let fake =
        FakeVendors::start_with(|config| crate::harness::ableid(config).allow_caller_hooks = true).await;
    fake.reply("POST", "/ableid/check/start/second", 201, serde_json::from_str(STARTED).unwrap()).await;

    let before = std::time::SystemTime::now();
    let mut request = resident();
    request.hooks = vec!["https://93.184.215.14/kyc".into()];
    let response = fake.gateway.ableid().start_resident_check(request).await.unwrap().into_inner();

    let request = fake.only_request().await;
    assert_eq!(request.method.as_str(), "POST");
    assert_eq!(request.url.path(), "/ableid/check/start/second");
    assert_eq!(header(&request, "content-type"), Some("application/json"));
    assert_eq!(header(&request, "authorization"), None, "AbleID takes its credentials in the body");
    assert_eq!(
        json_body(&request),
        json!({
            "projectId": PROJECT_ID,
            "secret": SECRET,
            "transactionId": "tx-1",
            "pinfl": "31205901234567",
            "birthDate": "12.05.1990",
            "lang": "ru",
            "hooks": ["https://93.184.215.14/kyc", "https://idv.example.com/hooks/ableid/complete"],
        })
    );
    assert_eq!(response.attempt_id, "3HQVkBm_zCZqKFbTWVrhf");
    assert_eq!(response.full_url, "https://ableid.backend/3HQVkBm_zCZqKFbTWVrhf");
    assert_eq!(response.lang, "ru");
    assert_eq!(response.message, "Сессия создана");
    let expire = response.expire_time.unwrap();
    let ttl = expire.seconds - before.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((599..=602).contains(&ttl), "session expires 10 minutes after the start, got {ttl}s");
}

#[tokio::test]
async fn start_foreign_check_sends_the_document_and_omits_an_empty_lang() {
    let fake = FakeVendors::start().await;
    fake.reply("POST", "/ableid/check/start/foreign", 201, serde_json::from_str(STARTED).unwrap()).await;

    let response = fake
        .gateway
        .ableid()
        .start_foreign_check(pb::StartForeignCheckRequest {
            transaction_id: "tx-2".into(),
            document: "AB1234567".into(),
            lang: String::new(),
            hooks: vec![],
        })
        .await
        .unwrap()
        .into_inner();

    let request = fake.only_request().await;
    assert_eq!(request.url.path(), "/ableid/check/start/foreign");
    assert_eq!(
        json_body(&request),
        json!({
            "projectId": PROJECT_ID,
            "secret": SECRET,
            "transactionId": "tx-2",
            "document": "AB1234567",
            "hooks": ["https://idv.example.com/hooks/ableid/complete"],
        })
    );
    assert_eq!(response.attempt_id, "3HQVkBm_zCZqKFbTWVrhf");
}

#[tokio::test]
async fn data_requests_send_the_documented_bodies() {
    let fake = FakeVendors::start().await;
    let attempt_id = started(&fake).await;
    let ok = json!({"statusCode": 200, "type": "SUCCESS", "message": "ok", "data": null});
    for path in ["get_passport", "get_photo", "registration", "get_person"] {
        fake.reply("POST", &format!("/ableid/check/{path}"), 200, ok.clone()).await;
    }
    let mut client = fake.gateway.ableid();
    let (pinfl, birth_date) = ("31205901234567".to_string(), "12.05.1990".to_string());

    let passport = client
        .request_passport(pb::RequestPassportRequest {
            attempt_id: attempt_id.clone(),
            pinfl: pinfl.clone(),
            birth_date: birth_date.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (passport.status_code, passport.r#type.as_str(), passport.message.as_str()),
        (200, "SUCCESS", "ok")
    );
    client.request_photo(pb::RequestPhotoRequest { attempt_id: attempt_id.clone() }).await.unwrap();
    client
        .request_registration(pb::RequestRegistrationRequest {
            attempt_id: attempt_id.clone(),
            pinfl: pinfl.clone(),
        })
        .await
        .unwrap();
    client
        .request_person(pb::RequestPersonRequest { attempt_id: attempt_id.clone(), pinfl, birth_date })
        .await
        .unwrap();

    let requests = fake.requests().await;
    let calls: Vec<(String, serde_json::Value)> =
        requests.iter().map(|r| (r.url.path().to_owned(), json_body(r))).collect();
    let credentials = |mut body: serde_json::Value| {
        body["projectId"] = json!(PROJECT_ID);
        body["secret"] = json!(SECRET);
        body["attemptId"] = json!(attempt_id);
        body
    };
    assert_eq!(
        calls,
        vec![
            (
                "/ableid/check/get_passport".into(),
                credentials(json!({"pinfl": "31205901234567", "birthDate": "12.05.1990"}))
            ),
            ("/ableid/check/get_photo".into(), credentials(json!({}))),
            ("/ableid/check/registration".into(), credentials(json!({"pinfl": "31205901234567"}))),
            (
                "/ableid/check/get_person".into(),
                credentials(json!({"pinfl": "31205901234567", "birthDate": "12.05.1990"}))
            ),
        ]
    );
}

#[tokio::test]
async fn invalid_input_never_reaches_ableid_and_names_every_field() {
    let fake =
        FakeVendors::start_with(|config| crate::harness::ableid(config).allow_caller_hooks = true).await;
    let mut request = resident();
    request.transaction_id = "x".repeat(101);
    request.pinfl = "31205911234567".into(); // born 1991 by the PINFL, 1990 by birth_date
    request.lang = "de".into();
    request.hooks = vec!["http://hooks.example.com/plain".into(), "https://10.0.0.7/internal".into()];

    let status = fake.gateway.ableid().start_resident_check(request).await.unwrap_err();
    let error = error_parts(&status);
    assert_eq!(error.code, Code::InvalidArgument);
    assert_eq!(error.domain, "idv-gateway");
    assert_eq!(error.fields, ["transaction_id", "pinfl", "lang", "hooks[0]", "hooks[1]"]);
    assert!(!error.message.contains("31205911234567"), "messages never echo personal data");

    let status = fake
        .gateway
        .ableid()
        .request_passport(pb::RequestPassportRequest {
            attempt_id: "../../check/start/second".into(),
            pinfl: "1".into(),
            birth_date: "31.02.1990".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(error_parts(&status).fields, ["attempt_id", "birth_date", "pinfl"]);
    assert!(fake.requests().await.is_empty());
}

#[tokio::test]
async fn ableid_errors_keep_their_code_type_and_message() {
    let fake = FakeVendors::start().await;
    let attempt_id = started(&fake).await;
    fake.reply(
        "POST",
        "/ableid/check/get_photo",
        400,
        json!({"statusCode": 10101, "type": "FACE_SESSION_EXPIRED", "data": null, "message": "Сессия истекла"}),
    )
    .await;
    fake.reply(
        "POST",
        "/ableid/check/get_person",
        423,
        json!({"statusCode": 20423, "type": "ONEID_DATA_LOCKED", "data": null, "message": "locked"}),
    )
    .await;
    let mut client = fake.gateway.ableid();

    let status =
        client.request_photo(pb::RequestPhotoRequest { attempt_id: attempt_id.clone() }).await.unwrap_err();
    let error = error_parts(&status);
    assert_eq!(error.code, Code::FailedPrecondition);
    assert_eq!((error.reason.as_str(), error.domain.as_str()), ("FACE_SESSION_EXPIRED", "ableid"));
    assert_eq!(error.metadata["code"], "10101");
    assert_eq!(error.metadata["http_status"], "400");
    assert_eq!(error.metadata["message"], "Сессия истекла");

    let status = client
        .request_person(pb::RequestPersonRequest {
            attempt_id,
            pinfl: "31205901234567".into(),
            birth_date: "12.05.1990".into(),
        })
        .await
        .unwrap_err();
    let error = error_parts(&status);
    assert_eq!((error.code, error.reason.as_str()), (Code::FailedPrecondition, "ONEID_DATA_LOCKED"));
    assert_eq!(error.metadata["http_status"], "423");
}

#[tokio::test]
async fn a_failure_inside_a_2xx_envelope_is_an_error() {
    let fake = FakeVendors::start().await;
    fake.reply(
        "POST",
        "/ableid/check/start/second",
        201,
        json!({"statusCode": 10100, "type": "FACE_LIMIT_HAS_BEEN_REACHED", "data": null, "message": "limit"}),
    )
    .await;
    let status = fake.gateway.ableid().start_resident_check(resident()).await.unwrap_err();
    let error = error_parts(&status);
    assert_eq!((error.code, error.reason.as_str()), (Code::ResourceExhausted, "FACE_LIMIT_HAS_BEEN_REACHED"));
    assert_eq!(error.metadata["code"], "10100");
    assert_eq!(error.metadata["http_status"], "201", "the status it really came with");
}

#[tokio::test]
async fn without_a_public_url_the_caller_must_bring_a_hook() {
    let fake = FakeVendors::start_with(|config| config.server.public_url = None).await;
    let request = resident();
    let status = fake.gateway.ableid().start_resident_check(request).await.unwrap_err();
    assert_eq!(error_parts(&status).fields, ["hooks"]);
    assert!(fake.requests().await.is_empty());
}

#[tokio::test]
async fn caller_hooks_are_off_unless_asked_for_by_name() {
    let fake = FakeVendors::start().await;
    let mut request = resident();
    request.hooks = vec!["https://93.184.215.14/kyc".into()];
    let status = fake.gateway.ableid().start_resident_check(request).await.unwrap_err();
    let error = error_parts(&status);
    assert_eq!((error.code, error.fields.as_slice()), (Code::InvalidArgument, &["hooks".to_owned()][..]));
    assert!(fake.requests().await.is_empty());
}

/// Every SSRF form the issue found accepted, sent as a caller hook with caller hooks on:
/// each is refused before AbleID sees it.
#[tokio::test]
async fn caller_hooks_cannot_point_into_private_space() {
    let fake =
        FakeVendors::start_with(|config| crate::harness::ableid(config).allow_caller_hooks = true).await;
    for hook in [
        "https://[::127.0.0.1]/x",
        "https://[64:ff9b::a9fe:a9fe]/x",
        "https://[2002:7f00:1::]/x",
        "https://[fec0::1]/x",
        "https://127.0.0.1.nip.io/x",
        "https://localtest.me/x",
        "https://metadata.google.internal/x",
        "https://redis.default.svc.cluster.local/x",
        "https://93.184.215.14:22/x",
        "https://127.0.0.1/x",
        "https://169.254.169.254/latest",
        "https://[::1]/x",
        "https://10.1.2.3/x",
        "https://localhost./x",
        "https://2130706433/x",
        "https://0177.0.0.1/x",
        "https://0x7f.0.0.1/x",
    ] {
        let mut request = resident();
        request.hooks = vec![hook.into()];
        let status = fake.gateway.ableid().start_resident_check(request).await.unwrap_err();
        let error = error_parts(&status);
        assert_eq!(
            (error.code, error.fields.as_slice()),
            (Code::InvalidArgument, &["hooks[0]".to_owned()][..]),
            "{hook}"
        );
    }
    assert!(fake.requests().await.is_empty(), "no hook reached AbleID");
}

#[tokio::test]
async fn data_requests_need_an_attempt_the_gateway_started() {
    let fake = FakeVendors::start().await;
    let status = fake
        .gateway
        .ableid()
        .request_photo(pb::RequestPhotoRequest { attempt_id: "never-started".into() })
        .await
        .unwrap_err();
    let error = error_parts(&status);
    assert_eq!((error.code, error.reason.as_str()), (Code::NotFound, "ATTEMPT_NOT_FOUND"));
    assert!(fake.requests().await.is_empty());
}

/// Twenty identical starts at once make one vendor call and all get the same session.
#[tokio::test]
async fn concurrent_starts_of_one_transaction_make_one_session() {
    let fake = FakeVendors::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/ableid/check/start/second"))
        .respond_with(
            wiremock::ResponseTemplate::new(201)
                .set_body_json(serde_json::from_str::<serde_json::Value>(STARTED).unwrap())
                .set_delay(std::time::Duration::from_millis(200)),
        )
        .mount(&fake.server)
        .await;
    let mut calls = Vec::new();
    for _ in 0..20 {
        let mut client = fake.gateway.ableid();
        calls.push(tokio::spawn(async move { client.start_resident_check(resident()).await }));
    }
    let mut sessions = std::collections::HashSet::new();
    for call in calls {
        let started = call.await.unwrap().unwrap().into_inner();
        assert_eq!(started.message, "Сессия создана", "a repeated start says what the first one said");
        sessions.insert((started.attempt_id, started.full_url, started.expire_time.map(|t| t.seconds)));
    }
    assert_eq!(sessions.len(), 1);
    assert_eq!(fake.requests().await.len(), 1, "one vendor call");
}
