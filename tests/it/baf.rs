//! ApplicantService and ValidationService against a recording fake BAF.

use futures_util::StreamExt;
use idv_gateway::proto::baf as pb;
use serde_json::json;
use tonic::Code;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::harness::{BAF_KEY, FakeVendors, error_parts, header, json_body};

const PRIVATE: &str = "/baf/publicapi/api/v2/private/Applicants";
const PUBLIC: &str = "/baf/publicapi/api/v2/public/Applicants";
const APPLICANT: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";

fn bearer() -> String {
    format!("Bearer {BAF_KEY}")
}

/// Seed 003's GetApplicant example, trimmed.
fn applicant_json() -> serde_json::Value {
    json!({
        "applicantId": APPLICANT, "attemptsCount": 2, "lastAttemptId": 133, "successAttemptId": 133,
        "successAttempt": {"attemptId": 117, "created": "2023-11-17T04:38:04.653858", "documentTypeInt": 10,
            "status": 0, "validationStatus": {"faceIsValid": true, "livenessReflectionIsValid": null}},
        "firstName": "John", "lastName": "Dow", "phone": "1542540505-039", "email": "string",
        "referenceId": "ref-7", "openedLinkTimes": 0, "created": "2023-09-19T10:39:00.0307329",
        "accountId": "28608", "completed": true, "status": 1, "statusName": "Success", "attemptsUsed": 1,
        "documentExpired": null, "hasRiskEvents": false, "metadata": {"additionalProp1": "string"},
        "callbackUrl": null, "verificationMethod": 1
    })
}

#[tokio::test]
async fn create_applicant_sends_every_documented_field() {
    let fake = FakeVendors::start().await;
    fake.reply(
        "POST",
        PRIVATE,
        200,
        json!({"applicantId": APPLICANT, "validationLink": "https://host/embedded?requestId=c3e5",
            "shortValidationLink": "https://host/UA6IB5g"}),
    )
    .await;

    let response = fake
        .gateway
        .applicants()
        .create_applicant(pb::CreateApplicantRequest {
            first_name: "John".into(),
            last_name: "Dow".into(),
            phone: "49828585009568".into(),
            email: "john@example.com".into(),
            reference_id: "ref-7".into(),
            metadata: [("additionalProp1".to_string(), "x".to_string())].into(),
            callback_url: "https://shop.example.com/back".into(),
            send_sms: Some(true),
            case: vec![pb::ApplicantCase { name: 1, value: "v".into() }],
            status: pb::ApplicantStatus::Pending as i32,
            verification_method: pb::VerificationMethod::Sms as i32,
        })
        .await
        .unwrap()
        .into_inner();

    let request = fake.only_request().await;
    assert_eq!((request.method.as_str(), request.url.path()), ("POST", PRIVATE));
    assert_eq!(header(&request, "authorization"), Some(bearer().as_str()));
    let mut body = json_body(&request);
    // BAF redirects the browser to the gateway, which records the return and redirects
    // on to the caller's own URL.
    let callback = body["callbackUrl"].take();
    let callback = callback.as_str().unwrap();
    assert!(callback.starts_with("https://idv.example.com/return/baf/"), "{callback}");
    assert_eq!(
        body,
        json!({
            "firstName": "John", "lastName": "Dow", "phone": "49828585009568", "email": "john@example.com",
            "referenceId": "ref-7", "metadata": {"additionalProp1": "x"}, "callbackUrl": null, "sendSms": true,
            "case": [{"name": 1, "value": "v"}], "status": 0, "verificationMethod": 0
        })
    );
    assert_eq!(response.applicant_id, APPLICANT);
    assert_eq!(response.validation_link, "https://host/embedded?requestId=c3e5");
    assert_eq!(response.short_validation_link, "https://host/UA6IB5g");

    // Reading the applicant back shows the caller's URL, not the gateway's.
    let mut reported = applicant_json();
    reported["callbackUrl"] = json!(callback);
    fake.reply("GET", &format!("{PRIVATE}/{APPLICANT}"), 200, reported).await;
    let applicant = fake
        .gateway
        .applicants()
        .get_applicant(pb::GetApplicantRequest { applicant_id: APPLICANT.into() })
        .await
        .unwrap()
        .into_inner()
        .applicant
        .unwrap();
    assert_eq!(applicant.callback_url, "https://shop.example.com/back");
}

#[tokio::test]
async fn list_get_update_delete_applicants() {
    let fake = FakeVendors::start().await;
    fake.reply(
        "GET",
        PRIVATE,
        200,
        json!({"page": 2, "pageSize": 2, "total": 46, "totalPages": 23, "items": [applicant_json()]}),
    )
    .await;
    fake.reply("GET", &format!("{PRIVATE}/{APPLICANT}"), 200, applicant_json()).await;
    Mock::given(method("PUT"))
        .and(path(format!("{PRIVATE}/{APPLICANT}")))
        .respond_with(ResponseTemplate::new(200))
        .mount(&fake.server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{PRIVATE}/{APPLICANT}")))
        .respond_with(ResponseTemplate::new(200))
        .mount(&fake.server)
        .await;
    let mut client = fake.gateway.applicants();

    let page = client
        .list_applicants(pb::ListApplicantsRequest {
            page: Some(2),
            page_size: Some(2),
            created_from: "06-02-2023".into(),
            created_to: "07-02-2023".into(),
            sort_field: "lastName".into(),
            order: "descending".into(),
            text_filter: "Dow & co".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((page.page, page.page_size, page.total, page.total_pages), (2, 2, 46, 23));
    let item = &page.items[0];
    assert_eq!(item.status(), pb::ApplicantStatus::Success);
    assert_eq!((item.raw_status, item.status_name.as_str()), (1, "Success"));
    assert_eq!(item.verification_method(), pb::VerificationMethod::Manual);
    assert_eq!(item.success_attempt.as_ref().unwrap().validation_status.unwrap().face_is_valid, Some(true));
    assert_eq!(item.created.unwrap().seconds, 1695119940);

    let applicant = client
        .get_applicant(pb::GetApplicantRequest { applicant_id: APPLICANT.into() })
        .await
        .unwrap()
        .into_inner()
        .applicant
        .unwrap();
    assert_eq!(applicant.reference_id, "ref-7");
    assert_eq!(applicant.last_attempt_id, Some(133));
    assert_eq!(applicant.callback_url, "");

    client
        .update_applicant(pb::UpdateApplicantRequest {
            applicant_id: APPLICANT.into(),
            first_name: Some(String::new()),
            email: Some("new@example.com".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    client.delete_applicant(pb::DeleteApplicantRequest { applicant_id: APPLICANT.into() }).await.unwrap();

    let requests = fake.requests().await;
    assert_eq!(requests.len(), 4);
    assert_eq!(
        requests[0].url.query(),
        Some(
            "Page=2&PageSize=2&CreatedFrom=06-02-2023&CreatedTo=07-02-2023&SortField=lastName&Order=descending\
             &TextFilter=Dow+%26+co"
        )
    );
    assert_eq!(requests[1].url.path(), format!("{PRIVATE}/{APPLICANT}"));
    assert_eq!(requests[2].method.as_str(), "PUT");
    // Only the fields given are sent; an empty string clears one, as BAF documents.
    assert_eq!(json_body(&requests[2]), json!({"firstName": "", "email": "new@example.com"}));
    assert_eq!((requests[3].method.as_str(), requests[3].url.path()), ("DELETE", requests[1].url.path()));
    for request in &requests {
        assert_eq!(header(request, "authorization"), Some(bearer().as_str()));
    }
}

#[tokio::test]
async fn completion_calls_and_actions() {
    let fake = FakeVendors::start().await;
    let done = "11111111-1111-1111-1111-111111111111";
    Mock::given(method("GET"))
        .and(path(format!("{PUBLIC}/{done}/Completed")))
        .respond_with(ResponseTemplate::new(200))
        .mount(&fake.server)
        .await;
    fake.reply(
        "GET",
        &format!("{PUBLIC}/{APPLICANT}/Completed"),
        404,
        json!({"code": 120025, "message": "Validation request \"x\" is not completed yet."}),
    )
    .await;
    fake.reply(
        "POST",
        &format!("{PUBLIC}/{APPLICANT}/Complete"),
        200,
        json!({"callbackUrl": "https://back"}),
    )
    .await;
    for action in ["ReNotify", "Open"] {
        Mock::given(method("POST"))
            .and(path(format!("{PRIVATE}/{APPLICANT}/{action}")))
            .respond_with(ResponseTemplate::new(200))
            .mount(&fake.server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path(format!("{PRIVATE}/{APPLICANT}/UpdateMainPhoto")))
        .respond_with(ResponseTemplate::new(200))
        .mount(&fake.server)
        .await;
    let mut client = fake.gateway.applicants();

    let completed = |id: &str| pb::CheckApplicantCompletedRequest { applicant_id: id.into() };
    assert!(client.check_applicant_completed(completed(done)).await.unwrap().into_inner().completed);
    assert!(!client.check_applicant_completed(completed(APPLICANT)).await.unwrap().into_inner().completed);
    let callback = client
        .complete_applicant(pb::CompleteApplicantRequest { applicant_id: APPLICANT.into() })
        .await
        .unwrap()
        .into_inner()
        .callback_url;
    assert_eq!(callback.as_deref(), Some("https://back"));
    client
        .re_notify_applicant(pb::ReNotifyApplicantRequest { applicant_id: APPLICANT.into() })
        .await
        .unwrap();
    client.open_applicant(pb::OpenApplicantRequest { applicant_id: APPLICANT.into() }).await.unwrap();
    client
        .update_applicant_main_photo(pb::UpdateApplicantMainPhotoRequest {
            applicant_id: APPLICANT.into(),
            face_image_base64: b"\xff\xd8jpeg".to_vec(),
        })
        .await
        .unwrap();

    let calls: Vec<(String, String)> =
        fake.requests().await.iter().map(|r| (r.method.to_string(), r.url.path().to_owned())).collect();
    assert_eq!(
        calls,
        [
            ("GET".into(), format!("{PUBLIC}/{done}/Completed")),
            ("GET".into(), format!("{PUBLIC}/{APPLICANT}/Completed")),
            ("POST".into(), format!("{PUBLIC}/{APPLICANT}/Complete")),
            ("POST".into(), format!("{PRIVATE}/{APPLICANT}/ReNotify")),
            ("POST".into(), format!("{PRIVATE}/{APPLICANT}/Open")),
            ("POST".into(), format!("{PRIVATE}/{APPLICANT}/UpdateMainPhoto")),
        ]
    );
    let photo = fake.requests().await.pop().unwrap();
    assert_eq!(json_body(&photo), json!({"faceImageBase64": "/9hqcGVn"}));
}

#[tokio::test]
async fn attempts_details_and_images_are_mapped() {
    let fake = FakeVendors::start().await;
    fake.reply(
        "GET",
        &format!("{PRIVATE}/{APPLICANT}/Attempts"),
        200,
        json!({"attempts": [{"attemptId": 188, "created": "2023-09-20T07:51:46.5449834", "documentType": "ID",
            "documentTypeInt": 1, "hasRiskEvents": false, "status": 2,
            "validationStatus": {"qualityIsValid": true, "hasBeenBlackListed": false}}]}),
    )
    .await;
    fake.reply(
        "GET",
        &format!("{PRIVATE}/{APPLICANT}/Attempts/188"),
        200,
        json!({
            "documentFailStatusReasons": ["blurry"], "faceFailStatusReasons": [],
            "invalidDataErrors": [{"code": "120058", "message": "No faces found on image", "description": "d"}],
            "dvsResult": {"requestId": "3fa85", "documentType": 1, "captureMethod": "camera",
                "document": {"abbr3Country": "USA", "class": "D", "familyName": "SAMPLE", "id": "12345678"},
                "parsedData": {"isOcrSuccess": true, "isPdf417Success": false},
                "documentVerificationResult": {"status": 0, "totalConfidence": 87.5,
                    "validationTests": [{"name": "DMV", "status": -1, "statusString": "Disabled",
                        "values": [{"score": 1, "fieldName": "dob"}]}],
                    "verificationConfidence": {"dob": 100, "zip": 50}},
                "faceVerificationResult": {"antiSpoofing": 0, "quality": 46, "confidence": 0,
                    "livenessReflectionConfidence": 90}},
            "validations": {"liveness": {"verdict": true, "details": [{"name": "FaceLiveness", "verdict": true,
                "score": 0.99}]}, "motionControl": {"verdict": false,
                "motionControlInfo": [{"pattern": "left", "result": false}]}},
            "similarApplicants": {"ids": ["be9561bb"]}, "mobilePhoneModel": "Pixel", "mobilePhoneOS": "Android",
            "captureMethod": "camera", "requestIpAddress": "203.0.113.9", "created": "2023-09-20T08:37:41.799Z",
            "documentType": "ID", "documentTypeInt": 1, "hasRiskEvents": true, "status": 1,
            "validationStatus": {"expired": true, "documentIsValid": false},
            "content": {"livenessReflectionVideoLink": "https://v", "faceImageBase64": "aGk=",
                "frontImageBase64": null, "trackString": "t"},
            "applicantId": APPLICANT, "attemptId": 188
        }),
    )
    .await;
    fake.reply(
        "GET",
        &format!("{PRIVATE}/{APPLICANT}/Attempts/188/Images"),
        200,
        json!({"livenessReflectionVideoLink": "https://v", "backOrSecondImageBase64": "",
            "faceImageBase64": "/9j/4A==", "frontImageBase64": "aGk=", "trackString": "t"}),
    )
    .await;
    let mut client = fake.gateway.applicants();

    let attempts = client
        .list_applicant_attempts(pb::ListApplicantAttemptsRequest { applicant_id: APPLICANT.into() })
        .await
        .unwrap()
        .into_inner()
        .attempts;
    assert_eq!(attempts.len(), 1);
    assert_eq!((attempts[0].attempt_id, attempts[0].status()), (188, pb::ValidationOutcome::InvalidData));

    let details = client
        .get_applicant_attempt(pb::GetApplicantAttemptRequest {
            applicant_id: APPLICANT.into(),
            attempt_id: 188,
        })
        .await
        .unwrap()
        .into_inner()
        .attempt
        .unwrap();
    assert_eq!(details.status(), pb::ValidationOutcome::Fail);
    assert_eq!(details.document_fail_status_reasons, ["blurry"]);
    assert_eq!(details.invalid_data_errors[0].code, "120058");
    assert_eq!(details.mobile_phone_os, "Android");
    let dvs = details.dvs_result.unwrap();
    let document = dvs.document.unwrap();
    assert_eq!((document.document_class.as_str(), document.family_name.as_str()), ("D", "SAMPLE"));
    let verification = dvs.document_verification_result.unwrap();
    assert_eq!(verification.verification_confidence["dob"], 100.0);
    assert_eq!(verification.validation_tests[0].status, -1);
    assert_eq!(dvs.face_verification_result.unwrap().liveness_reflection_confidence, 90.0);
    assert_eq!(details.content.unwrap().face_image_base64, b"hi");
    assert_eq!(details.similar_applicants.unwrap().ids, ["be9561bb"]);

    let images = client
        .get_attempt_images(pb::GetAttemptImagesRequest { applicant_id: APPLICANT.into(), attempt_id: 188 })
        .await
        .unwrap()
        .into_inner()
        .images
        .unwrap();
    assert_eq!(images.face_image_base64, [0xff, 0xd8, 0xff, 0xe0]);
    assert_eq!(images.front_image_base64, b"hi");
    assert!(images.back_or_second_image_base64.is_empty());
    assert_eq!(fake.requests().await.len(), 3);
}

#[tokio::test]
async fn videos_stream_in_chunks() {
    let fake = FakeVendors::start().await;
    let video: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    for (name, body) in [("Video", video.clone()), ("LivenessActionVideo", b"tiny".to_vec())] {
        Mock::given(method("GET"))
            .and(path(format!("{PRIVATE}/{APPLICANT}/Attempts/6562/{name}")))
            .respond_with(ResponseTemplate::new(200).set_body_raw(body, "video/mp4"))
            .mount(&fake.server)
            .await;
    }
    let mut client = fake.gateway.applicants();

    let mut stream = client
        .download_attempt_video(pb::DownloadAttemptVideoRequest {
            applicant_id: APPLICANT.into(),
            attempt_id: 6562,
        })
        .await
        .unwrap()
        .into_inner();
    let mut messages = Vec::new();
    while let Some(message) = stream.next().await {
        messages.push(message.unwrap());
    }
    assert!(messages.len() >= 5, "300 KB arrives in several chunks, got {}", messages.len());
    assert_eq!(messages[0].content_type, "video/mp4");
    assert_eq!(messages[0].content_length, 300_000);
    assert!(messages[1..].iter().all(|m| m.content_type.is_empty() && m.content_length == 0));
    let received: Vec<u8> = messages.iter().flat_map(|m| m.chunk.clone()).collect();
    assert_eq!(received, video);

    let mut stream = client
        .download_liveness_action_video(pb::DownloadLivenessActionVideoRequest {
            applicant_id: APPLICANT.into(),
            attempt_id: 6562,
        })
        .await
        .unwrap()
        .into_inner();
    let first = stream.next().await.unwrap().unwrap();
    assert_eq!(first.chunk, b"tiny");
    assert!(stream.next().await.is_none());
    for request in fake.requests().await {
        assert_eq!(header(&request, "authorization"), Some(bearer().as_str()));
    }
}

#[tokio::test]
async fn a_missing_video_is_an_error_before_the_stream() {
    let fake = FakeVendors::start().await;
    fake.reply(
        "GET",
        &format!("{PRIVATE}/{APPLICANT}/Attempts/1/Video"),
        400,
        json!({"code": 120033, "message": "Validation response does not contain a video"}),
    )
    .await;
    let status = fake
        .gateway
        .applicants()
        .download_attempt_video(pb::DownloadAttemptVideoRequest {
            applicant_id: APPLICANT.into(),
            attempt_id: 1,
        })
        .await
        .unwrap_err();
    let error = error_parts(&status);
    assert_eq!(
        (error.code, error.reason.as_str(), error.domain.as_str()),
        (Code::NotFound, "NO_VIDEO", "baf")
    );
    assert_eq!(error.metadata["code"], "120033");
}

const VALIDATED: &str = r#"{"applicantId":"05fcd","attemptId":1,"documentType":10,"document":null,
    "attemptsCount":5,"attemptsLeft":4,"status":0,"validationStatus":{"expired":null,"faceIsValid":true,
    "qualityIsValid":true},"invalidDataErrors":[],"faceSuccess":true,"documentSuccess":null,
    "documentHasNotExpired":null,"documentValidationTests":[],"callBackUrl":null}"#;

#[tokio::test]
async fn validation_wraps_images_in_the_model() {
    let fake = FakeVendors::start().await;
    fake.reply(
        "POST",
        "/baf/publicapi/api/v2/public/Validation",
        200,
        serde_json::from_str(VALIDATED).unwrap(),
    )
    .await;
    let mut client = fake.gateway.validation();

    let verified = client
        .verify_document(pb::VerifyDocumentRequest {
            applicant_id: "05fcd".into(),
            endeavor_id: "e-1".into(),
            face_image_base64: b"face".to_vec(),
            front_image_base64: b"front".to_vec(),
            back_or_second_image_base64: vec![],
            document_type: 2,
        })
        .await
        .unwrap()
        .into_inner()
        .result
        .unwrap();
    assert_eq!(verified.status(), pb::ValidationOutcome::Success);
    assert_eq!((verified.attempts_count, verified.attempts_left), (5, 4));
    assert_eq!(verified.face_success, Some(true));
    assert_eq!(verified.document_success, None);
    client
        .register_face(pb::RegisterFaceRequest {
            applicant_id: "05fcd".into(),
            endeavor_id: String::new(),
            face_image_base64: b"face".to_vec(),
        })
        .await
        .unwrap();
    client
        .authorize_face(pb::AuthorizeFaceRequest {
            applicant_id: "05fcd".into(),
            endeavor_id: String::new(),
            face_image_base64: b"face".to_vec(),
        })
        .await
        .unwrap();

    let bodies: Vec<serde_json::Value> = fake.requests().await.iter().map(json_body).collect();
    assert_eq!(
        bodies[0],
        json!({"model": {"faceImageBase64": "ZmFjZQ==", "frontImageBase64": "ZnJvbnQ=", "documentType": 2},
            "applicantId": "05fcd", "endeavorId": "e-1"})
    );
    let face_only =
        json!({"model": {"faceImageBase64": "ZmFjZQ==", "documentType": 10}, "applicantId": "05fcd"});
    assert_eq!(bodies[1..], [face_only.clone(), face_only]);
}

#[tokio::test]
async fn invalid_requests_never_reach_baf() {
    let fake = FakeVendors::start().await;
    let status = fake
        .gateway
        .applicants()
        .list_applicants(pb::ListApplicantsRequest {
            page: Some(0),
            page_size: Some(401),
            created_from: "2023-02-06".into(),
            order: "sideways".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error_parts(&status).fields, ["page", "page_size", "created_from", "order"]);

    let status = fake
        .gateway
        .applicants()
        .get_applicant(pb::GetApplicantRequest { applicant_id: "../../private/Applicants".into() })
        .await
        .unwrap_err();
    assert_eq!(error_parts(&status).fields, ["applicant_id"]);

    let status = fake
        .gateway
        .validation()
        .verify_document(pb::VerifyDocumentRequest {
            applicant_id: APPLICANT.into(),
            document_type: 0,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error_parts(&status).fields, ["face_image_base64", "front_image_base64", "document_type"]);

    let status = fake
        .gateway
        .applicants()
        .create_applicant(pb::CreateApplicantRequest {
            send_sms: Some(true),
            callback_url: "javascript:alert(1)".into(),
            status: 42,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(error_parts(&status).fields, ["callback_url", "phone", "status"]);
    assert!(fake.requests().await.is_empty());
}

#[tokio::test]
async fn baf_errors_keep_their_code_and_message() {
    let fake = FakeVendors::start().await;
    fake.reply(
        "POST",
        "/baf/publicapi/api/v2/public/Validation",
        400,
        json!({"code": 120037, "message": "All available attempts were used for requestId x"}),
    )
    .await;
    Mock::given(method("GET"))
        .and(path(PRIVATE))
        .respond_with(
            ResponseTemplate::new(429).insert_header("retry-after", "7").set_body_string("Too many requests"),
        )
        .mount(&fake.server)
        .await;

    let status = fake
        .gateway
        .validation()
        .register_face(pb::RegisterFaceRequest {
            applicant_id: APPLICANT.into(),
            face_image_base64: b"face".to_vec(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    let error = error_parts(&status);
    assert_eq!((error.code, error.reason.as_str()), (Code::FailedPrecondition, "ALL_ATTEMPTS_USED"));
    assert_eq!(error.metadata["code"], "120037");
    assert_eq!(error.metadata["message"], "All available attempts were used for requestId x");

    let status =
        fake.gateway.applicants().list_applicants(pb::ListApplicantsRequest::default()).await.unwrap_err();
    let error = error_parts(&status);
    assert_eq!((error.code, error.reason.as_str()), (Code::ResourceExhausted, "HTTP_429"));
    assert_eq!(error.retry_after, Some(std::time::Duration::from_secs(7)));
    assert_eq!(error.metadata["message"], "Too many requests");
}
