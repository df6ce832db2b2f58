//! AbleID through the simulator: resident and foreign checks, the person's approval on
//! the session page, the signed hooks, data requests, expiry, and a watch of it all.

use std::time::{Duration, Instant};

use idv_gateway::proto::ableid as able;
use idv_gateway::proto::attempts;
use idv_gateway::providers::ableid::mapping as ableid_reader;
use idv_gateway::upstream::json::Obj;
use idv_sandbox as sandbox;
use serde_json::Value;
use sha1::{Digest, Sha1};
use tonic::Code;
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{PATIENCE, browser, json, press, received};
use crate::harness::{self, TestGateway, error_parts, next_event};

/// A resident's PINFL (fake): first digit 3 = 19xx, then 15 05 90.
const PINFL: &str = "31505901234567";
const BIRTH_DATE: &str = "15.05.1990";

/// AbleID's hook signature, computed here independently of the gateway's code.
fn expected_hash(attempt_id: &str) -> String {
    let sha1 = |text: &str| hex::encode_upper(Sha1::digest(text.as_bytes()));
    sha1(&(sha1(&format!("{}{}", sandbox::ABLEID_PROJECT_ID, sandbox::ABLEID_SECRET)) + attempt_id))
}

/// A hook receiver for caller hooks (`/caller`) and data hooks (`/data/...`).
async fn hook_receiver() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex("^/(caller|data/.*)$"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

/// A sandbox gateway whose AbleID data hooks go to `receiver`.
async fn gateway_with_data_hooks(receiver: &MockServer) -> TestGateway {
    let (config, data_dir) = harness::config();
    let data_hooks = format!("{}/data", receiver.uri()).parse().unwrap();
    TestGateway::sandbox_with_options(config, data_dir, |options| options.ableid_data_hooks = data_hooks)
        .await
}

/// The data hook `name` of `attempt`, after checking its signed envelope.
async fn data_hook(receiver: &MockServer, name: &str, attempt: &str) -> Value {
    let body = json(&received(receiver, &format!("/data/{name}"), 1).await[0]);
    assert_eq!(body["statusCode"], 200, "{name}");
    assert_eq!(body["data"]["attemptId"], attempt, "{name}");
    assert_eq!(body["data"]["hash"], expected_hash(attempt).as_str(), "{name}");
    assert_eq!(body["data"]["lang"], "en", "{name}");
    body
}

fn resident_check(hooks: Vec<String>) -> able::StartResidentCheckRequest {
    able::StartResidentCheckRequest {
        transaction_id: "tx-resident-1".into(),
        pinfl: PINFL.into(),
        birth_date: BIRTH_DATE.into(),
        lang: "en".into(),
        hooks,
    }
}

#[tokio::test]
async fn ableid_resident_check_approve_hook_and_data() {
    let receiver = hook_receiver().await;
    let gw = gateway_with_data_hooks(&receiver).await;
    let mut ableid = gw.ableid();

    let started = ableid
        .start_resident_check(resident_check(vec![format!("{}/caller", receiver.uri())]))
        .await
        .unwrap()
        .into_inner();
    let attempt = started.attempt_id.clone();
    assert_eq!(attempt.len(), 21);
    assert_eq!(started.full_url, gw.sandbox_url(&format!("/sandbox/ableid/session/{attempt}")));
    assert_eq!((started.lang.as_str(), started.message.as_str()), ("en", "Success"));
    assert!(started.expire_time.is_some());

    let page = browser().get(&started.full_url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.text().await.unwrap().contains(&format!("{}/approve", started.full_url)));

    // Nothing to read before the person has passed the check.
    let status =
        ableid.request_photo(able::RequestPhotoRequest { attempt_id: attempt.clone() }).await.unwrap_err();
    let e = error_parts(&status);
    assert_eq!(
        (e.code, e.reason.as_str(), e.metadata["code"].as_str()),
        (Code::FailedPrecondition, "FACE_TRANSACTION_FAILED_VERIFICATION", "10301")
    );

    let approved = press(&format!("{}/approve", started.full_url)).await;
    assert_eq!(approved.status(), 200);
    assert_eq!(press(&format!("{}/approve", started.full_url)).await.status(), 409);

    let hook = json(&received(&receiver, "/caller", 1).await[0]);
    assert_eq!((hook["statusCode"].as_i64(), hook["type"].as_str()), (Some(200), Some("SUCCESS")));
    assert_eq!(hook["data"]["attemptId"], attempt.as_str());
    assert_eq!(hook["data"]["transactionId"], "tx-resident-1");
    assert_eq!(hook["data"]["hash"], expected_hash(&attempt).as_str());
    assert!(hook["data"]["redirect"].as_str().is_some_and(|r| r.starts_with("http")));

    let passport = ableid
        .request_passport(able::RequestPassportRequest {
            attempt_id: attempt.clone(),
            pinfl: PINFL.into(),
            birth_date: BIRTH_DATE.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((passport.status_code, passport.r#type.as_str()), (200, "SUCCESS"));
    let photo =
        ableid.request_photo(able::RequestPhotoRequest { attempt_id: attempt.clone() }).await.unwrap();
    assert_eq!(photo.into_inner().status_code, 200);
    let registration = ableid
        .request_registration(able::RequestRegistrationRequest {
            attempt_id: attempt.clone(),
            pinfl: PINFL.into(),
        })
        .await
        .unwrap();
    assert_eq!(registration.into_inner().r#type, "SUCCESS");
    let person = ableid
        .request_person(able::RequestPersonRequest {
            attempt_id: attempt.clone(),
            pinfl: PINFL.into(),
            birth_date: BIRTH_DATE.into(),
        })
        .await
        .unwrap();
    assert_eq!(person.into_inner().status_code, 200);

    // Each answer arrives on its static data hook, signed, and reads with the
    // gateway's own readers.
    let body = data_hook(&receiver, "passport", &attempt).await;
    let read = ableid_reader::passport(Obj::of(&body["data"]["data"]));
    assert_eq!(read.attempt_id, attempt);
    assert_eq!(read.passport_type(), able::PassportType::IdmsRecvMvdIdcardCitizen);
    assert!(!read.surname.is_empty() && !read.name.is_empty() && !read.document.is_empty());
    let body = data_hook(&receiver, "photo", &attempt).await;
    let read = ableid_reader::photo(Obj::of(&body["data"]["data"])).unwrap();
    assert!(read.photo.starts_with(&[0xff, 0xd8, 0xff]), "a JPEG");
    let body = data_hook(&receiver, "registration", &attempt).await;
    let read = ableid_reader::address(Obj::of(&body["data"]["data"]));
    assert!(read.address.is_some() && read.region_id.is_some());
    let body = data_hook(&receiver, "person", &attempt).await;
    let read = ableid_reader::person(Obj::of(&body["data"]["data"]));
    let details = read.person.unwrap();
    assert_eq!((details.pinfl.as_str(), details.birth_date.as_str()), (PINFL, "1990-05-15"));
    assert!(read.registration.unwrap().permanent_registration.is_some());

    // A PINFL that is valid but not the session's.
    let status = ableid
        .request_registration(able::RequestRegistrationRequest {
            attempt_id: attempt.clone(),
            pinfl: "31505909999999".into(),
        })
        .await
        .unwrap_err();
    let e = error_parts(&status);
    assert_eq!(
        (e.code, e.reason.as_str(), e.metadata["code"].as_str()),
        (Code::InvalidArgument, "FACE_INCORRECT_PINFL", "10103")
    );

    let status = ableid
        .request_photo(able::RequestPhotoRequest { attempt_id: "no-such-attempt".into() })
        .await
        .unwrap_err();
    // An attempt the gateway did not start never reaches AbleID: its data hook would be
    // refused anyway.
    let e = error_parts(&status);
    assert_eq!(
        (e.code, e.reason.as_str(), e.domain.as_str()),
        (Code::NotFound, "ATTEMPT_NOT_FOUND", "idv-gateway")
    );
    gw.stop().await;
}

#[tokio::test]
async fn ableid_foreign_checks_reject_and_have_no_registration() {
    let receiver = hook_receiver().await;
    let gw = gateway_with_data_hooks(&receiver).await;
    let mut ableid = gw.ableid();
    let foreign = |transaction: &str| able::StartForeignCheckRequest {
        transaction_id: transaction.into(),
        document: "FA1234567".into(),
        lang: String::new(),
        hooks: vec![format!("{}/caller", receiver.uri())],
    };

    // Rejected with the type chosen on the page.
    let rejected = ableid.start_foreign_check(foreign("tx-foreign-1")).await.unwrap().into_inner();
    assert_eq!(rejected.lang, "ru", "AbleID's default language");
    let response = browser()
        .post(format!("{}/reject", rejected.full_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("type=FACE_PASSPORT_EXPIRED")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let hook = json(&received(&receiver, "/caller", 1).await[0]);
    assert_eq!(
        (hook["statusCode"].as_i64(), hook["type"].as_str()),
        (Some(10204), Some("FACE_PASSPORT_EXPIRED"))
    );
    assert_eq!(hook["data"]["transactionId"], "tx-foreign-1");
    assert_eq!(hook["data"]["hash"], expected_hash(&rejected.attempt_id).as_str());
    let status = ableid
        .request_photo(able::RequestPhotoRequest { attempt_id: rejected.attempt_id.clone() })
        .await
        .unwrap_err();
    assert_eq!(error_parts(&status).reason, "FACE_TRANSACTION_FAILED_VERIFICATION");

    // Approved: the data request succeeds, but a foreigner has no registration.
    let approved = ableid.start_foreign_check(foreign("tx-foreign-2")).await.unwrap().into_inner();
    assert_eq!(press(&format!("{}/approve", approved.full_url)).await.status(), 200);
    let hooks = received(&receiver, "/caller", 2).await;
    assert!(
        hooks
            .iter()
            .map(json)
            .any(|h| h["data"]["transactionId"] == "tx-foreign-2" && h["statusCode"] == 200)
    );
    let ack = ableid
        .request_registration(able::RequestRegistrationRequest {
            attempt_id: approved.attempt_id.clone(),
            pinfl: PINFL.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ack.status_code, 200);
    let hook = json(&received(&receiver, "/data/registration", 1).await[0]);
    assert_eq!(
        (hook["statusCode"].as_i64(), hook["type"].as_str()),
        (Some(10205), Some("FACE_REGISTRATION_NOT_FOUND"))
    );
    assert_eq!(hook["data"]["attemptId"], approved.attempt_id.as_str());
    assert_eq!(hook["data"]["hash"], expected_hash(&approved.attempt_id).as_str());
    gw.stop().await;
}

#[tokio::test]
async fn ableid_expired_sessions_fail_with_face_session_expired() {
    let (mut config, data_dir) = harness::config();
    crate::harness::ableid(&mut config).session_ttl_secs = 1;
    let gw = TestGateway::sandbox_with(config, data_dir).await;
    let mut ableid = gw.ableid();
    let started = ableid.start_resident_check(resident_check(Vec::new())).await.unwrap().into_inner();

    let until = Instant::now() + PATIENCE;
    let expired = loop {
        let status = ableid
            .request_photo(able::RequestPhotoRequest { attempt_id: started.attempt_id.clone() })
            .await
            .unwrap_err();
        let e = error_parts(&status);
        match e.reason.as_str() {
            "FACE_SESSION_EXPIRED" => break e,
            // Not expired yet, and not approved either.
            "FACE_TRANSACTION_FAILED_VERIFICATION" => {}
            other => panic!("unexpected {other}: {status:?}"),
        }
        assert!(Instant::now() < until, "the session never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(expired.code, Code::FailedPrecondition);
    assert_eq!(expired.domain, "ableid");
    assert_eq!(expired.metadata["code"], "10101");
    assert_eq!(expired.metadata["http_status"], "400");

    assert_eq!(press(&format!("{}/approve", started.full_url)).await.status(), 410);
    assert_eq!(browser().get(&started.full_url).send().await.unwrap().status(), 410);
    gw.stop().await;
}

#[tokio::test]
async fn watch_an_ableid_check_end_to_end() {
    let gw = TestGateway::sandbox().await;
    let started = gw.ableid().start_resident_check(resident_check(vec![])).await.unwrap().into_inner();
    let mut watcher = attempts::attempt_service_client::AttemptServiceClient::new(gw.channel.clone());
    let request = attempts::WatchAttemptRequest {
        attempt: Some(attempts::watch_attempt_request::Attempt::AbleidAttemptId(started.attempt_id.clone())),
        resume_token: String::new(),
        follow_after_terminal: true,
    };
    let mut stream = watcher.watch_attempt(request).await.unwrap().into_inner();
    assert!(matches!(next_event(&mut stream).await.0.kind, Some(attempts::attempt_event::Kind::Started(_))));

    // The person approves on the sandbox page; the sandbox's AbleID posts the signed hook
    // to the gateway's receiver over HTTP.
    assert_eq!(press(&format!("{}/approve", started.full_url)).await.status(), 200);
    let completed = next_event(&mut stream).await.0;
    assert!(matches!(completed.kind, Some(attempts::attempt_event::Kind::Completed(_))), "{completed:?}");
    assert_eq!(completed.attempt_state(), attempts::AttemptState::Succeeded);

    gw.ableid()
        .request_passport(able::RequestPassportRequest {
            attempt_id: started.attempt_id.clone(),
            pinfl: PINFL.into(),
            birth_date: BIRTH_DATE.into(),
        })
        .await
        .unwrap();
    let passport = next_event(&mut stream).await.0;
    let Some(attempts::attempt_event::Kind::Passport(passport)) = passport.kind else {
        panic!("{passport:?}")
    };
    assert_eq!(passport.attempt_id, started.attempt_id);
    assert!(!passport.surname.is_empty());
}
