//! The gateway reads what the simulated vendors render: the sandbox's JSON, fetched
//! over HTTP as the vendor clients fetch it, goes through the gateway's own readers
//! (`idv_gateway::providers::*::mapping`). The sandbox checks its JSON against the seeds' field names
//! itself; these tests check the two sides agree, without a gateway in between, so a
//! disagreement points at a reader or a renderer rather than at the flow.

use std::time::{Duration, Instant};

use idv_gateway::proto::{ableid as able, baf as pb};
use idv_gateway::providers::ableid::mapping as ableid;
use idv_gateway::providers::b2core::mapping as b2core;
use idv_gateway::providers::baf::mapping as baf;
use idv_gateway::upstream::json::Obj;
use idv_sandbox::{ABLEID_PROJECT_ID, ABLEID_SECRET, BAF_API_KEY, Sandbox};
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::start_sandbox;

/// A sandbox whose AbleID data hooks go to `receiver`.
async fn sandbox(receiver: &MockServer) -> Sandbox {
    let data_hooks = format!("{}/data", receiver.uri()).parse().unwrap();
    start_sandbox(data_hooks, Duration::from_secs(600), |_| {}).await
}

async fn receiver() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&server).await;
    server
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().build().unwrap()
}

/// The body of the first hook `receiver` got on `path`, waiting for it.
async fn hook(receiver: &MockServer, path: &str) -> Value {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let requests = receiver.received_requests().await.unwrap_or_default();
        if let Some(request) = requests.iter().find(|r| r.url.path() == path) {
            return serde_json::from_slice(&request.body).unwrap();
        }
        assert!(Instant::now() < until, "no hook on {path}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Starts an AbleID session as the gateway would and approves it as the person would.
async fn approved_session(sandbox: &Sandbox, path: &str, subject: Value) -> String {
    let mut body = json!({"projectId": ABLEID_PROJECT_ID, "secret": ABLEID_SECRET,
        "transactionId": "tx-contract", "hooks": []});
    body.as_object_mut().unwrap().extend(subject.as_object().unwrap().clone());
    let started: Value = http()
        .post(format!("{}/check/{path}", sandbox.ableid_url))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let attempt = started["data"]["attemptId"].as_str().unwrap().to_owned();
    let full_url = started["data"]["fullUrl"].as_str().unwrap();
    assert_eq!(http().post(format!("{full_url}/approve")).send().await.unwrap().status(), 200);
    attempt
}

async fn ask(sandbox: &Sandbox, operation: &str, attempt: &str, pinfl: &str, birth_date: &str) {
    let body = json!({"projectId": ABLEID_PROJECT_ID, "secret": ABLEID_SECRET, "attemptId": attempt,
        "pinfl": pinfl, "birthDate": birth_date});
    let reply =
        http().post(format!("{}/check/{operation}", sandbox.ableid_url)).json(&body).send().await.unwrap();
    assert_eq!(reply.status(), 200, "{operation}");
}

#[tokio::test]
async fn ableid_data_hooks_read_with_the_gateways_readers() {
    let receiver = receiver().await;
    let sandbox = sandbox(&receiver).await;
    let (pinfl, birth_date) = ("31505901234567", "15.05.1990");
    let attempt =
        approved_session(&sandbox, "start/second", json!({"pinfl": pinfl, "birthDate": birth_date})).await;
    for operation in ["get_passport", "get_photo", "registration", "get_person"] {
        ask(&sandbox, operation, &attempt, pinfl, birth_date).await;
    }

    let passport = hook(&receiver, "/data/passport").await;
    assert_eq!(
        (passport["data"]["attemptId"].as_str(), passport["data"]["lang"].as_str()),
        (Some(&*attempt), Some("ru"))
    );
    let p = ableid::passport(Obj::of(&passport["data"]["data"]));
    assert_eq!((p.attempt_id.as_str(), p.sex), (attempt.as_str(), 1));
    assert!(!p.surname.is_empty() && !p.name.is_empty() && !p.document.is_empty());
    assert!(p.passport_date_begin < p.passport_date_end, "{} {}", p.passport_date_begin, p.passport_date_end);
    assert_eq!(p.passport_type(), able::PassportType::IdmsRecvMvdIdcardCitizen);

    let photo = hook(&receiver, "/data/photo").await;
    let photo = ableid::photo(Obj::of(&photo["data"]["data"])).unwrap();
    assert!(photo.photo.starts_with(&[0xff, 0xd8, 0xff]), "a JPEG");
    assert_eq!(photo.crc.len(), 8);

    let registration = hook(&receiver, "/data/registration").await;
    let address = ableid::address(Obj::of(&registration["data"]["data"]));
    assert_eq!(address.country_id, Some(182));
    assert!(address.address.is_some() && address.region_id.is_some() && address.street_id.is_some());
    assert!(address.registration_date.is_none(), "only the person hook has registration dates");

    let person = hook(&receiver, "/data/person").await;
    let person = ableid::person(Obj::of(&person["data"]["data"]));
    let details = person.person.unwrap();
    assert_eq!((details.pinfl.as_str(), details.birth_date.as_str()), (pinfl, "1990-05-15"));
    assert_eq!(details.live_status, Some(true));
    assert_eq!(details.passport_type(), able::PassportType::IdmsRecvMvdIdcardCitizen);
    let registration = person.registration.unwrap();
    let permanent = registration.permanent_registration.unwrap();
    assert!(permanent.registration_date.is_some() && permanent.country_cbu_id.is_some());
    sandbox.stop().await;
}

#[tokio::test]
async fn an_ableid_foreigner_reads_as_one() {
    let receiver = receiver().await;
    let sandbox = sandbox(&receiver).await;
    let attempt = approved_session(&sandbox, "start/foreign", json!({"document": "FA1234567"})).await;
    ask(&sandbox, "get_person", &attempt, "", "").await;
    let person = hook(&receiver, "/data/person").await;
    let person = ableid::person(Obj::of(&person["data"]["data"]));
    let details = person.person.unwrap();
    assert_eq!(details.document, "FA1234567");
    assert_eq!(details.passport_type(), able::PassportType::IdmsRecvMvdIdcardForeign);
    assert!(person.registration.is_none_or(|r| r.permanent_registration.is_none()));
    sandbox.stop().await;
}

/// A BAF API call with the sandbox's key.
async fn baf_call(sandbox: &Sandbox, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let mut request = http().request(method, format!("{}{path}", sandbox.baf_url)).bearer_auth(BAF_API_KEY);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    assert!(response.status().is_success(), "{path}: {}", response.status());
    response.json().await.unwrap()
}

#[tokio::test]
async fn baf_applicants_attempts_and_results_read_with_the_gateways_readers() {
    let receiver = receiver().await;
    let sandbox = sandbox(&receiver).await;
    let applicants = "/api/v2/private/Applicants";
    let created = baf_call(
        &sandbox,
        reqwest::Method::POST,
        applicants,
        Some(json!({"firstName": "Sandbox", "phone": "+998000000000", "sendSms": true, "metadata": {"k": "v"}})),
    )
    .await;
    let id = created["applicantId"].as_str().unwrap().to_owned();

    let fresh = baf_call(&sandbox, reqwest::Method::GET, &format!("{applicants}/{id}"), None).await;
    let a = baf::applicant(Obj::of(&fresh));
    assert_eq!((a.applicant_id.as_str(), a.first_name.as_str()), (id.as_str(), "Sandbox"));
    assert_eq!(a.status(), pb::ApplicantStatus::Pending);
    assert_eq!(a.metadata["k"], "v");
    assert_eq!(a.verification_method(), pb::VerificationMethod::Manual);
    assert!(a.created.is_some() && a.validation_request_settings.is_some());

    // The person passes on the page: one attempt with a face, videos and a DVS result.
    let link = created["shortValidationLink"].as_str().unwrap();
    assert_eq!(http().post(format!("{link}/pass")).send().await.unwrap().status(), 200);
    let passed = baf::applicant(Obj::of(
        &baf_call(&sandbox, reqwest::Method::GET, &format!("{applicants}/{id}"), None).await,
    ));
    assert_eq!(
        (passed.status(), passed.completed, passed.attempts_used),
        (pb::ApplicantStatus::Success, true, 1)
    );
    let attempt = passed.success_attempt_id.unwrap();
    assert_eq!(passed.success_attempt.unwrap().attempt_id, attempt);
    let details =
        baf_call(&sandbox, reqwest::Method::GET, &format!("{applicants}/{id}/Attempts/{attempt}"), None)
            .await;
    let details = baf::attempt_details(Obj::of(&details)).unwrap();
    assert_eq!(details.status(), pb::ValidationOutcome::Success);
    assert!(details.dvs_result.is_some());
    let content = details.content.unwrap();
    assert!(content.face_image_base64.starts_with(&[0xff, 0xd8, 0xff]), "the sandbox face, decoded");
    assert!(content.liveness_reflection_video_link.ends_with(&format!("/Attempts/{attempt}/Video")));
    let listed = baf_call(&sandbox, reqwest::Method::GET, &format!("{applicants}/{id}/Attempts"), None).await;
    let attempts: Vec<pb::Attempt> = Obj::of(&listed).objects("attempts").map(baf::attempt).collect();
    assert_eq!(attempts.len(), 1);
    assert_eq!((attempts[0].attempt_id, attempts[0].document_type_int), (attempt, 10));

    // A document verification on another applicant.
    let other = baf_call(&sandbox, reqwest::Method::POST, applicants, Some(json!({}))).await;
    let other = other["applicantId"].as_str().unwrap();
    let model = json!({"faceImageBase64": "c2VsZmll", "frontImageBase64": "ZnJvbnQ=", "documentType": 2});
    let result = baf_call(
        &sandbox,
        reqwest::Method::POST,
        "/api/v2/public/Validation",
        Some(json!({"model": model, "applicantId": other})),
    )
    .await;
    let result = baf::validation_result(Obj::of(&result));
    assert_eq!(result.status(), pb::ValidationOutcome::Success);
    assert_eq!((result.document_success, result.attempts_left), (Some(true), 2));
    assert_eq!(result.document.unwrap().first_name, "SANDBOX");
    assert_eq!(result.document_validation_tests.len(), 3);
    sandbox.stop().await;
}

#[tokio::test]
async fn b2core_history_reads_with_the_gateways_reader() {
    let receiver = receiver().await;
    let sandbox = sandbox(&receiver).await;
    let page: Value = http()
        .get(format!("{}/api/v2/my/verifications", sandbox.b2core_url))
        .bearer_auth("t1")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 1);
    let v = b2core::verification(Obj::of(&page["data"][0]));
    assert_eq!(v.current_level.unwrap().name, "Level 0");
    assert!(v.previous_level.is_none());
    assert_eq!(v.reason.unwrap().name, "created");
    assert!(v.create_time.is_some() && v.client_id > 0);
    sandbox.stop().await;
}
