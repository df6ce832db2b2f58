//! End to end through the real gateway and the simulated vendors of `idv-sandbox`,
//! started beside it: tonic clients call the gateway, the gateway's vendor clients call
//! the simulated vendors over HTTP, and the tests act as the end user on the vendors'
//! pages and as the receivers of their hooks.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use idv_gateway::proto::ableid as able;
use idv_gateway::proto::attempts;
use idv_gateway::proto::b2core as b2;
use idv_gateway::proto::baf;
use idv_gateway::providers::ableid::mapping as ableid_reader;
use idv_gateway::upstream::json::Obj;
use idv_sandbox as sandbox;
use serde_json::Value;
use sha1::{Digest, Sha1};
use tonic::{Code, Request};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::harness::{self, TestGateway, error_parts};

/// A resident's PINFL (fake): first digit 3 = 19xx, then 15 05 90.
const PINFL: &str = "31505901234567";
const BIRTH_DATE: &str = "15.05.1990";
/// Long enough for a slow CI machine; waits poll and return as soon as they can.
const PATIENCE: Duration = Duration::from_secs(30);

/// An HTTP client that acts as the end user's browser, but never follows redirects by
/// itself, so a test can look at them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).no_proxy().build().unwrap()
}

/// POSTs an empty form, as the pages' buttons (and client libraries) do.
async fn press(url: &str) -> reqwest::Response {
    browser()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap()
}

/// Waits until `server` has received `count` requests on `path`, and returns them.
async fn received(server: &MockServer, path: &str, count: usize) -> Vec<wiremock::Request> {
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

fn json(request: &wiremock::Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

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

async fn applicant(gw: &TestGateway, id: &str) -> baf::Applicant {
    let request = baf::GetApplicantRequest { applicant_id: id.into() };
    gw.applicants().get_applicant(request).await.unwrap().into_inner().applicant.unwrap()
}

async fn completed(gw: &TestGateway, id: &str) -> bool {
    let request = baf::CheckApplicantCompletedRequest { applicant_id: id.into() };
    gw.applicants().check_applicant_completed(request).await.unwrap().into_inner().completed
}

async fn create_applicant(gw: &TestGateway, request: baf::CreateApplicantRequest) -> String {
    let created = gw.applicants().create_applicant(request).await.unwrap().into_inner();
    assert!(
        created.validation_link.starts_with(&gw.sandbox_url("/sandbox/baf/embedded?requestId=")),
        "{}",
        created.validation_link
    );
    assert!(created.validation_link.ends_with(&created.applicant_id));
    created.applicant_id
}

#[tokio::test]
async fn baf_page_pass_then_attempts_images_and_video() {
    let gw = TestGateway::sandbox().await;
    let site = MockServer::start().await;
    Mock::given(method("GET")).and(path("/back")).respond_with(ResponseTemplate::new(200)).mount(&site).await;
    let callback = format!("{}/back?ref=42", site.uri());
    let id = create_applicant(
        &gw,
        baf::CreateApplicantRequest {
            first_name: "Sandbox".into(),
            last_name: "Passer".into(),
            reference_id: "ref-pass-1".into(),
            callback_url: callback.clone(),
            ..Default::default()
        },
    )
    .await;
    assert!(!completed(&gw, &id).await);
    assert_eq!(applicant(&gw, &id).await.status(), baf::ApplicantStatus::Pending);

    let page =
        browser().get(gw.sandbox_url(&format!("/sandbox/baf/embedded?requestId={id}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(&format!("/sandbox/baf/embedded/{id}/pass")));

    let passed = press(&gw.sandbox_url(&format!("/sandbox/baf/embedded/{id}/pass"))).await;
    assert_eq!(passed.status(), 303);
    // BAF sends the browser to the gateway, which records the return and sends it on.
    let location = passed.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&gw.http_url("/return/baf/")), "{location}");
    let returned = browser().get(&location).send().await.unwrap();
    assert_eq!(returned.status(), 303);
    let location = returned.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, callback);
    assert_eq!(browser().get(&location).send().await.unwrap().status(), 200);
    assert_eq!(received(&site, "/back", 1).await[0].url.query(), Some("ref=42"));

    let a = applicant(&gw, &id).await;
    assert_eq!((a.status(), a.completed, a.attempts_used), (baf::ApplicantStatus::Success, true, 1));
    assert_eq!((a.status_name.as_str(), a.opened_link_times), ("Success", 1));
    assert_eq!(a.callback_url, callback);
    let success = a.success_attempt_id.unwrap();
    assert_eq!(a.success_attempt.unwrap().status(), baf::ValidationOutcome::Success);
    assert!(completed(&gw, &id).await);
    assert_eq!(press(&gw.sandbox_url(&format!("/sandbox/baf/embedded/{id}/pass"))).await.status(), 409);

    let mut applicants = gw.applicants();
    let attempts = applicants
        .list_applicant_attempts(baf::ListApplicantAttemptsRequest { applicant_id: id.clone() })
        .await
        .unwrap()
        .into_inner()
        .attempts;
    assert_eq!(attempts.len(), 1);
    assert_eq!((attempts[0].attempt_id, attempts[0].document_type_int), (success, 10));
    assert_eq!(attempts[0].validations.as_ref().unwrap().liveness.as_ref().unwrap().verdict, Some(true));

    let details = applicants
        .get_applicant_attempt(baf::GetApplicantAttemptRequest {
            applicant_id: id.clone(),
            attempt_id: success,
        })
        .await
        .unwrap()
        .into_inner()
        .attempt
        .unwrap();
    assert_eq!(
        (details.applicant_id.as_str(), details.status()),
        (id.as_str(), baf::ValidationOutcome::Success)
    );
    assert_eq!(details.validation_status.unwrap().face_is_valid, Some(true));
    assert!(details.dvs_result.is_some());
    let content = details.content.unwrap();
    assert!(content.face_image_base64.starts_with(&[0xff, 0xd8, 0xff]));

    let images = applicants
        .get_attempt_images(baf::GetAttemptImagesRequest { applicant_id: id.clone(), attempt_id: success })
        .await
        .unwrap()
        .into_inner()
        .images
        .unwrap();
    assert_eq!(images.face_image_base64, content.face_image_base64);
    assert!(images.liveness_reflection_video_link.ends_with(&format!("/Attempts/{success}/Video")));

    // The video through the gateway, chunk by chunk, equals a direct download.
    let mut stream = applicants
        .download_attempt_video(baf::DownloadAttemptVideoRequest {
            applicant_id: id.clone(),
            attempt_id: success,
        })
        .await
        .unwrap()
        .into_inner();
    let mut video = Vec::new();
    let mut messages = Vec::new();
    while let Some(message) = stream.next().await {
        let message = message.unwrap();
        video.extend_from_slice(&message.chunk);
        messages.push((message.content_type, message.content_length));
    }
    assert!(messages.len() > 1, "a few hundred KiB come in several chunks");
    assert_eq!(messages[0], ("video/mp4".to_owned(), video.len() as i64));
    let direct_url = gw.sandbox_url(&format!(
        "/sandbox/baf/publicapi/api/v2/private/Applicants/{id}/Attempts/{success}/Video"
    ));
    assert_eq!(images.liveness_reflection_video_link, direct_url);
    let direct = browser().get(&direct_url).bearer_auth(sandbox::BAF_API_KEY).send().await.unwrap();
    assert_eq!(direct.status(), 200);
    assert_eq!(direct.content_length(), Some(video.len() as u64));
    assert_eq!(direct.bytes().await.unwrap().as_ref(), video.as_slice());
    assert_eq!(browser().get(&direct_url).send().await.unwrap().status(), 401, "the key is required");

    let mut action = applicants
        .download_liveness_action_video(baf::DownloadLivenessActionVideoRequest {
            applicant_id: id.clone(),
            attempt_id: success,
        })
        .await
        .unwrap()
        .into_inner();
    let mut action_video = Vec::new();
    while let Some(message) = action.next().await {
        action_video.extend_from_slice(&message.unwrap().chunk);
    }
    assert!(!action_video.is_empty() && action_video != video);

    let listed = applicants
        .list_applicants(baf::ListApplicantsRequest { text_filter: "ref-pass".into(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.total, 1);
    assert_eq!(listed.items[0].applicant_id, id);
    gw.stop().await;
}

#[tokio::test]
async fn baf_failing_until_all_attempts_are_used() {
    let gw = TestGateway::sandbox().await;
    let id = create_applicant(&gw, baf::CreateApplicantRequest::default()).await;
    let fail_url = gw.sandbox_url(&format!("/sandbox/baf/embedded/{id}/fail"));

    for (used, status, closed) in [
        (1, baf::ApplicantStatus::FailedAttempt, false),
        (2, baf::ApplicantStatus::FailedAttempt, false),
        (3, baf::ApplicantStatus::Failed, true),
    ] {
        let response = press(&fail_url).await;
        // Without a callback URL of the caller's, the gateway's return page ends the trip.
        assert_eq!(response.status(), 303);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(browser().get(&location).send().await.unwrap().status(), 200, "{location}");
        let a = applicant(&gw, &id).await;
        assert_eq!((a.attempts_used, a.status(), a.completed), (used, status, closed));
        assert_eq!(a.last_validation_response.unwrap().response_status(), baf::ValidationOutcome::Fail);
    }
    assert_eq!(press(&fail_url).await.status(), 409);
    assert!(completed(&gw, &id).await);

    let status = gw
        .validation()
        .verify_document(baf::VerifyDocumentRequest {
            applicant_id: id.clone(),
            face_image_base64: b"face".to_vec(),
            front_image_base64: b"front".to_vec(),
            document_type: 2,
            ..Default::default()
        })
        .await
        .unwrap_err();
    let e = error_parts(&status);
    assert_eq!(
        (e.code, e.reason.as_str(), e.domain.as_str()),
        (Code::FailedPrecondition, "ALL_ATTEMPTS_USED", "baf")
    );
    assert_eq!((e.metadata["code"].as_str(), e.metadata["http_status"].as_str()), ("120037", "400"));

    let mut applicants = gw.applicants();
    applicants.open_applicant(baf::OpenApplicantRequest { applicant_id: id.clone() }).await.unwrap();
    let a = applicant(&gw, &id).await;
    assert_eq!((a.status(), a.attempts_used, a.completed), (baf::ApplicantStatus::Pending, 0, false));
    let status =
        applicants.open_applicant(baf::OpenApplicantRequest { applicant_id: id.clone() }).await.unwrap_err();
    let e = error_parts(&status);
    assert_eq!((e.reason.as_str(), e.metadata["code"].as_str()), ("APPLICANT_ALREADY_OPEN", "150002"));
    gw.stop().await;
}

#[tokio::test]
async fn baf_face_registration_and_authorization() {
    let gw = TestGateway::sandbox().await;
    let id = create_applicant(&gw, baf::CreateApplicantRequest::default()).await;
    let mut validation = gw.validation();
    let authorize = |face: &[u8]| baf::AuthorizeFaceRequest {
        applicant_id: id.clone(),
        face_image_base64: face.to_vec(),
        ..Default::default()
    };

    let registered = validation
        .register_face(baf::RegisterFaceRequest {
            applicant_id: id.clone(),
            face_image_base64: b"face-of-a".to_vec(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert_eq!(
        (registered.status(), registered.document_type, registered.face_success),
        (baf::ValidationOutcome::Success, 10, Some(true))
    );
    assert!(registered.document.is_none());
    let a = applicant(&gw, &id).await;
    assert_eq!((a.status(), a.completed), (baf::ApplicantStatus::Success, true));

    let same = validation.authorize_face(authorize(b"face-of-a")).await.unwrap().into_inner().result.unwrap();
    assert_eq!(same.status(), baf::ValidationOutcome::Success);
    let status = validation.authorize_face(authorize(b"face-of-b")).await.unwrap_err();
    let e = error_parts(&status);
    assert_eq!(e.metadata["message"], "Found faces don't belong to the applicant");
    assert_eq!(
        (e.code, e.reason.as_str(), e.metadata["http_status"].as_str()),
        (Code::FailedPrecondition, "FACE_NOT_MATCHED", "400")
    );

    gw.applicants()
        .update_applicant_main_photo(baf::UpdateApplicantMainPhotoRequest {
            applicant_id: id.clone(),
            face_image_base64: b"face-of-b".to_vec(),
        })
        .await
        .unwrap();
    assert!(validation.authorize_face(authorize(b"face-of-b")).await.is_ok());
    assert!(validation.authorize_face(authorize(b"face-of-a")).await.is_err());

    // A completed applicant that never registered a face.
    let canceled = create_applicant(&gw, baf::CreateApplicantRequest::default()).await;
    let callback = gw
        .applicants()
        .complete_applicant(baf::CompleteApplicantRequest { applicant_id: canceled.clone() })
        .await
        .unwrap()
        .into_inner()
        .callback_url;
    assert_eq!(callback, None);
    assert_eq!(applicant(&gw, &canceled).await.status(), baf::ApplicantStatus::Canceled);
    let status = validation
        .authorize_face(baf::AuthorizeFaceRequest {
            applicant_id: canceled,
            face_image_base64: b"face-of-a".to_vec(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    let e = error_parts(&status);
    assert_eq!(
        (e.code, e.reason.as_str(), e.metadata["code"].as_str()),
        (Code::FailedPrecondition, "NO_VERIFIED_FACE", "120043")
    );
    gw.stop().await;
}

#[tokio::test]
async fn baf_document_verification_and_refusals() {
    let gw = TestGateway::sandbox().await;
    let mut validation = gw.validation();
    let verify = |id: &str, front: &[u8]| baf::VerifyDocumentRequest {
        applicant_id: id.into(),
        face_image_base64: b"selfie".to_vec(),
        front_image_base64: front.to_vec(),
        document_type: 2,
        ..Default::default()
    };

    let id = create_applicant(&gw, baf::CreateApplicantRequest::default()).await;
    let result =
        validation.verify_document(verify(&id, b"front page")).await.unwrap().into_inner().result.unwrap();
    assert_eq!((result.status(), result.document_success), (baf::ValidationOutcome::Success, Some(true)));
    assert_eq!(result.document.unwrap().first_name, "SANDBOX");
    assert_eq!(result.document_validation_tests.len(), 3);
    assert_eq!(applicant(&gw, &id).await.status(), baf::ApplicantStatus::Success);
    let status = validation.verify_document(verify(&id, b"front page")).await.unwrap_err();
    let e = error_parts(&status);
    assert_eq!((e.reason.as_str(), e.metadata["code"].as_str()), ("APPLICANT_ALREADY_COMPLETED", "120036"));

    let id = create_applicant(&gw, baf::CreateApplicantRequest::default()).await;
    let result = validation
        .verify_document(verify(&id, b"a front that says reject"))
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert_eq!((result.status(), result.attempts_left), (baf::ValidationOutcome::Fail, 2));
    let a = applicant(&gw, &id).await;
    assert_eq!((a.status(), a.attempts_used, a.completed), (baf::ApplicantStatus::FailedAttempt, 1, false));
    // Validation attempts have no liveness video.
    let attempt = a.last_attempt_id.unwrap();
    let status = gw
        .applicants()
        .download_attempt_video(baf::DownloadAttemptVideoRequest {
            applicant_id: id.clone(),
            attempt_id: attempt,
        })
        .await
        .unwrap_err();
    let e = error_parts(&status);
    assert_eq!((e.reason.as_str(), e.metadata["code"].as_str()), ("NO_VIDEO", "120033"));

    let mut applicants = gw.applicants();
    let status = applicants
        .get_applicant(baf::GetApplicantRequest { applicant_id: "no-such-applicant".into() })
        .await
        .unwrap_err();
    let e = error_parts(&status);
    assert_eq!(e.code, Code::NotFound);
    assert_eq!(e.metadata["message"], "Validation Request no-such-applicant not found");
    let status = applicants
        .list_applicants(baf::ListApplicantsRequest { sort_field: "shoeSize".into(), ..Default::default() })
        .await
        .unwrap_err();
    let e = error_parts(&status);
    assert_eq!(
        (e.code, e.reason.as_str(), e.metadata["code"].as_str()),
        (Code::InvalidArgument, "INVALID_SORT_FIELD", "120026")
    );
    let status =
        applicants.re_notify_applicant(baf::ReNotifyApplicantRequest { applicant_id: id }).await.unwrap_err();
    let e = error_parts(&status);
    assert_eq!((e.reason.as_str(), e.metadata["code"].as_str()), ("SMS_SENDING_FAILED", "120027"));
    gw.stop().await;
}

fn with_token<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("b2core-authorization", format!("Bearer {token}").parse().unwrap());
    request
}

async fn history(gw: &TestGateway, token: &str) -> b2::ListVerificationsResponse {
    let request = b2::ListVerificationsRequest {
        sort_order: "desc".into(),
        sort_by: "createTime".into(),
        ..Default::default()
    };
    gw.b2core().list_verifications(with_token(request, token)).await.unwrap().into_inner()
}

async fn raise_level(gw: &TestGateway, token: &str) -> b2::SubmitVerificationResponse {
    let mut b2core = gw.b2core();
    let wizard = b2core
        .start_verification_wizard(with_token(b2::StartVerificationWizardRequest {}, token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((wizard.code, wizard.done), (200, true));
    assert_eq!(wizard.workflow, "B2B\\TCA\\Wizards\\Workflow\\DocumentsWorkflow");
    assert!(!wizard.uuid.is_empty() && wizard.data.is_some());
    let submit = b2::SubmitVerificationRequest {
        documents: Some(b2::VerificationDocuments { r#type: 2, files: vec!["id_card.jpeg".into()] }),
        uuid: wizard.uuid.clone(),
    };
    let done = b2core.submit_verification(with_token(submit, token)).await.unwrap().into_inner();
    assert_eq!(done.uuid, wizard.uuid);
    done
}

#[tokio::test]
async fn b2core_wizard_raises_the_level() {
    let gw = TestGateway::sandbox().await;
    let start = history(&gw, "t1").await;
    assert_eq!(start.total, 1);
    let first = &start.data[0];
    assert_eq!(first.current_level.as_ref().unwrap().name, "Level 0");
    assert!(first.previous_level.is_none());
    assert_eq!(first.reason.as_ref().unwrap().name, "created");
    assert!(first.create_time.is_some());

    let done = raise_level(&gw, "t1").await;
    assert_eq!((done.code, done.workflow.as_str()), (202, "B2B\\TCA\\Wizards\\Workflow\\TerminateWorkflow"));
    let after = history(&gw, "t1").await;
    assert_eq!(after.total, 2);
    let newest = &after.data[0];
    assert_eq!(newest.current_level.as_ref().unwrap().name, "Level 1");
    assert_eq!(newest.previous_level.as_ref().unwrap().name, "Level 0");
    assert_eq!(newest.client_id, first.client_id);

    let mut b2core = gw.b2core();
    let details = b2core
        .get_verification(with_token(b2::GetVerificationRequest { verification_id: newest.id }, "t1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((details.total, details.data[0].id), (1, newest.id));
    assert_eq!(history(&gw, "t2").await.total, 1, "another token is another client");

    let unknown = b2::SubmitVerificationRequest {
        documents: Some(b2::VerificationDocuments { r#type: 2, files: vec!["x.jpeg".into()] }),
        uuid: "00000000-0000-4000-8000-000000000000".into(),
    };
    let e = error_parts(&b2core.submit_verification(with_token(unknown, "t1")).await.unwrap_err());
    assert_eq!(
        (e.code, e.metadata["http_status"].as_str(), e.domain.as_str()),
        (Code::InvalidArgument, "400", "b2core")
    );

    raise_level(&gw, "t1").await;
    let top = b2core
        .start_verification_wizard(with_token(b2::StartVerificationWizardRequest {}, "t1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((top.code, top.workflow.as_str()), (202, "B2B\\TCA\\Wizards\\Workflow\\TerminateWorkflow"));
    assert_eq!(history(&gw, "t1").await.data[0].current_level.as_ref().unwrap().name, "Level 2");

    let status = b2core.list_verifications(b2::ListVerificationsRequest::default()).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let direct =
        browser().get(gw.sandbox_url("/sandbox/b2core/api/v2/my/verifications")).send().await.unwrap();
    assert_eq!(direct.status(), 401);
    assert_eq!(direct.json::<Value>().await.unwrap()["message"], "Unauthorized");
    gw.stop().await;
}

/// The next event of a watch, skipping the snapshot and heartbeats.
async fn next_event(stream: &mut tonic::Streaming<attempts::WatchAttemptResponse>) -> attempts::AttemptEvent {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .expect("an event in time")
            .expect("stream open")
            .unwrap();
        if let Some(attempts::watch_attempt_response::Kind::Event(event)) = message.kind {
            return event;
        }
    }
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
    assert!(matches!(next_event(&mut stream).await.kind, Some(attempts::attempt_event::Kind::Started(_))));

    // The person approves on the sandbox page; the sandbox's AbleID posts the signed hook
    // to the gateway's receiver over HTTP.
    assert_eq!(press(&format!("{}/approve", started.full_url)).await.status(), 200);
    let completed = next_event(&mut stream).await;
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
    let passport = next_event(&mut stream).await;
    let Some(attempts::attempt_event::Kind::Passport(passport)) = passport.kind else {
        panic!("{passport:?}")
    };
    assert_eq!(passport.attempt_id, started.attempt_id);
    assert!(!passport.surname.is_empty());
}

#[tokio::test]
async fn watch_a_baf_applicant_end_to_end() {
    let (mut config, data_dir) = crate::harness::config();
    crate::harness::baf(&mut config).poll_min_secs = 1;
    let gw = TestGateway::sandbox_with(config, data_dir).await;
    let id = create_applicant(&gw, baf::CreateApplicantRequest::default()).await;
    let mut watcher = attempts::attempt_service_client::AttemptServiceClient::new(gw.channel.clone());
    let request = attempts::WatchAttemptRequest {
        attempt: Some(attempts::watch_attempt_request::Attempt::BafApplicantId(id.clone())),
        ..Default::default()
    };
    let mut stream = watcher.watch_attempt(request).await.unwrap().into_inner();
    assert!(matches!(next_event(&mut stream).await.kind, Some(attempts::attempt_event::Kind::Started(_))));

    // Pass on the page and follow the browser back through the gateway.
    let passed = press(&gw.sandbox_url(&format!("/sandbox/baf/embedded/{id}/pass"))).await;
    let back = passed.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(browser().get(&back).send().await.unwrap().status(), 200);

    let mut kinds = Vec::new();
    let mut last = None;
    while let Some(message) =
        tokio::time::timeout(Duration::from_secs(30), stream.next()).await.expect("in time")
    {
        if let Some(attempts::watch_attempt_response::Kind::Event(event)) = message.unwrap().kind {
            kinds.push(event.kind.as_ref().expect("kind").field_name());
            last = Some(event);
        }
    }
    // The stream ended with OK at the terminal state; the return may race the first read.
    assert!(kinds.contains(&"user_returned") && kinds.contains(&"baf_attempt_added"), "{kinds:?}");
    assert_eq!(kinds.last(), Some(&"baf_status_changed"));
    assert_eq!(last.unwrap().attempt_state(), attempts::AttemptState::Succeeded);
}
