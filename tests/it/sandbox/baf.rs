//! BAF through the simulator: applicants created through the gateway, the person passing
//! or failing on the embedded page, attempts, images and videos, face registration and
//! authorization, document verification, and a watch of an applicant.

use std::time::Duration;

use futures_util::StreamExt;
use idv_gateway::proto::attempts;
use idv_gateway::proto::baf;
use idv_sandbox as sandbox;
use tonic::Code;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{browser, press, received};
use crate::harness::{TestGateway, error_parts, next_event};

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
    assert!(matches!(next_event(&mut stream).await.0.kind, Some(attempts::attempt_event::Kind::Started(_))));

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
