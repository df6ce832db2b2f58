//! BAF's JSON ⇄ proto: request bodies from proto requests, and BAF's answers as proto
//! messages (version 1.6.0, the superset of seeds 001 and 003; validation from seed 002).

use serde_json::{Map, Value, json};

use crate::proto::attempts::AttemptState;
use crate::proto::baf as pb;
use crate::upstream::json::{Obj, encode_base64};

/// BAF's `documentType` for face-only registration and authorization.
pub const FACE_ONLY: i32 = 10;

/// The body of `POST /api/v2/private/Applicants`. `callback_url` is the URL BAF will
/// redirect to, which may be the gateway's own in front of the caller's.
pub fn create_applicant_body(request: &pb::CreateApplicantRequest, callback_url: &str) -> Value {
    let mut body = Map::new();
    let text = [
        ("firstName", &request.first_name),
        ("lastName", &request.last_name),
        ("phone", &request.phone),
        ("email", &request.email),
        ("referenceId", &request.reference_id),
    ];
    for (key, value) in text {
        if !value.is_empty() {
            body.insert(key.into(), json!(value));
        }
    }
    if !callback_url.is_empty() {
        body.insert("callbackUrl".into(), json!(callback_url));
    }
    if !request.metadata.is_empty() {
        body.insert("metadata".into(), json!(request.metadata));
    }
    if let Some(send_sms) = request.send_sms {
        body.insert("sendSms".into(), json!(send_sms));
    }
    if !request.case.is_empty() {
        let cases: Vec<Value> =
            request.case.iter().map(|c| json!({"name": c.name, "value": c.value})).collect();
        body.insert("case".into(), Value::Array(cases));
    }
    if let Some(status) = raw_applicant_status(request.status()) {
        body.insert("status".into(), json!(status));
    }
    if let Some(method) = raw_verification_method(request.verification_method()) {
        body.insert("verificationMethod".into(), json!(method));
    }
    Value::Object(body)
}

/// The query of `GET /api/v2/private/Applicants`.
pub fn list_applicants_query(request: &pb::ListApplicantsRequest) -> Vec<(&'static str, String)> {
    let text = |s: &String| (!s.is_empty()).then(|| s.clone());
    [
        ("Page", request.page.map(|p| p.to_string())),
        ("PageSize", request.page_size.map(|p| p.to_string())),
        ("CreatedFrom", text(&request.created_from)),
        ("CreatedTo", text(&request.created_to)),
        ("SortField", text(&request.sort_field)),
        ("Order", text(&request.order)),
        ("TextFilter", text(&request.text_filter)),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name, value?)))
    .collect()
}

/// The body of `PUT /api/v2/private/Applicants/{id}`: only the fields given.
pub fn update_applicant_body(request: &pb::UpdateApplicantRequest, callback_url: Option<&str>) -> Value {
    let mut body = Map::new();
    let fields = [
        ("firstName", &request.first_name),
        ("lastName", &request.last_name),
        ("phone", &request.phone),
        ("email", &request.email),
        ("referenceId", &request.reference_id),
    ];
    for (key, value) in fields {
        if let Some(value) = value {
            body.insert(key.into(), json!(value));
        }
    }
    if let Some(url) = callback_url {
        body.insert("callbackUrl".into(), json!(url));
    }
    if !request.metadata.is_empty() {
        body.insert("metadata".into(), json!(request.metadata));
    }
    Value::Object(body)
}

/// The images and document type of one validation.
#[derive(Debug)]
pub struct ValidationInput<'a> {
    /// Applicant id.
    pub applicant_id: &'a str,
    /// Endeavor id, if any.
    pub endeavor_id: &'a str,
    /// Face image.
    pub face: &'a [u8],
    /// Front of the document, if any.
    pub front: &'a [u8],
    /// Back or second page of the document, if any.
    pub back: &'a [u8],
    /// BAF's document type.
    pub document_type: i32,
}

impl<'a> ValidationInput<'a> {
    /// A face-only validation (document type 10): registration or authorization.
    pub fn face_only(applicant_id: &'a str, endeavor_id: &'a str, face: &'a [u8]) -> Self {
        Self { applicant_id, endeavor_id, face, front: &[], back: &[], document_type: FACE_ONLY }
    }
}

/// The body of `POST /api/v2/public/Validation`: the gateway's flat request wrapped in
/// BAF's `model`.
pub fn validation_body(input: &ValidationInput<'_>) -> Value {
    let mut model = Map::new();
    model.insert("faceImageBase64".into(), json!(encode_base64(input.face)));
    if !input.front.is_empty() {
        model.insert("frontImageBase64".into(), json!(encode_base64(input.front)));
    }
    if !input.back.is_empty() {
        model.insert("backOrSecondImageBase64".into(), json!(encode_base64(input.back)));
    }
    model.insert("documentType".into(), json!(input.document_type));
    let mut body = json!({"model": model, "applicantId": input.applicant_id});
    if !input.endeavor_id.is_empty() {
        body["endeavorId"] = json!(input.endeavor_id);
    }
    body
}

/// The attempt state an applicant's status means: BAF's status when it decides,
/// otherwise whether the applicant is completed.
pub fn attempt_state(raw_status: i32, completed: bool) -> AttemptState {
    match applicant_status(i64::from(raw_status)) {
        pb::ApplicantStatus::Success => AttemptState::Succeeded,
        pb::ApplicantStatus::Canceled => AttemptState::Canceled,
        pb::ApplicantStatus::Failed => AttemptState::Failed,
        pb::ApplicantStatus::FailedAttempt if completed => AttemptState::Failed,
        _ if completed => AttemptState::Canceled,
        _ => AttemptState::Pending,
    }
}

/// The typed form of BAF's applicant `status`.
pub fn applicant_status(raw: i64) -> pb::ApplicantStatus {
    match raw {
        0 => pb::ApplicantStatus::Pending,
        1 => pb::ApplicantStatus::Success,
        2 => pb::ApplicantStatus::Failed,
        3 => pb::ApplicantStatus::Canceled,
        5 => pb::ApplicantStatus::FailedAttempt,
        _ => pb::ApplicantStatus::Unspecified,
    }
}

fn raw_applicant_status(status: pb::ApplicantStatus) -> Option<i64> {
    match status {
        pb::ApplicantStatus::Unspecified => None,
        pb::ApplicantStatus::Pending => Some(0),
        pb::ApplicantStatus::Success => Some(1),
        pb::ApplicantStatus::Failed => Some(2),
        pb::ApplicantStatus::Canceled => Some(3),
        pb::ApplicantStatus::FailedAttempt => Some(5),
    }
}

fn verification_method(raw: i64) -> pb::VerificationMethod {
    match raw {
        0 => pb::VerificationMethod::Sms,
        1 => pb::VerificationMethod::Manual,
        _ => pb::VerificationMethod::Unspecified,
    }
}

fn raw_verification_method(method: pb::VerificationMethod) -> Option<i64> {
    match method {
        pb::VerificationMethod::Unspecified => None,
        pb::VerificationMethod::Sms => Some(0),
        pb::VerificationMethod::Manual => Some(1),
    }
}

/// The typed form of a validation or attempt result.
pub fn outcome(raw: i64) -> pb::ValidationOutcome {
    match raw {
        0 => pb::ValidationOutcome::Success,
        1 => pb::ValidationOutcome::Fail,
        2 => pb::ValidationOutcome::InvalidData,
        3 => pb::ValidationOutcome::Error,
        _ => pb::ValidationOutcome::Unspecified,
    }
}

/// An applicant object.
pub fn applicant(o: Obj<'_>) -> pb::Applicant {
    let status = o.i64("status");
    let method = o.i64("verificationMethod");
    pb::Applicant {
        applicant_id: o.string("applicantId"),
        attempts_count: o.i32("attemptsCount"),
        last_attempt_id: o.opt_i64("lastAttemptId"),
        success_attempt_id: o.opt_i64("successAttemptId"),
        success_attempt: o.opt_obj("successAttempt").map(attempt),
        first_name: o.string("firstName"),
        last_name: o.string("lastName"),
        phone: o.string("phone"),
        email: o.string("email"),
        reference_id: o.string("referenceId"),
        opened_link_times: o.i32("openedLinkTimes"),
        created: o.timestamp("created"),
        account_id: o.string("accountId"),
        validation_request_settings: o.opt_obj("validationRequestSettings").map(settings),
        completed: o.bool("completed"),
        status: applicant_status(status) as i32,
        raw_status: status as i32,
        status_name: o.string("statusName"),
        attempts_used: o.i32("attemptsUsed"),
        document_expired: o.opt_bool("documentExpired"),
        last_validation_response: o.opt_obj("lastValidationResponse").map(|r| {
            let raw = r.i64("responseStatus");
            pb::ValidationResponseSummary {
                validation_response_id: r.i64("validationResponseId"),
                created: r.timestamp("created"),
                response_status: outcome(raw) as i32,
                raw_response_status: raw as i32,
                response_status_name: r.string("responseStatusName"),
            }
        }),
        has_risk_events: o.bool("hasRiskEvents"),
        metadata: o.string_map("metadata"),
        callback_url: o.string("callbackUrl"),
        verification_method: verification_method(method) as i32,
        raw_verification_method: method as i32,
    }
}

fn settings(o: Obj<'_>) -> pb::ValidationRequestSettings {
    pb::ValidationRequestSettings {
        validation_request_id: o.string("validationRequestId"),
        face_validation_percent: o.f64("faceValidationPercent"),
        document_validation_percent: o.f64("documentValidationPercent"),
        quality_score: o.f64("qualityScore"),
        liveness_reflection_score: o.f64("livenessReflectionScore"),
        anti_spoofing_percent: o.f64("antiSpoofingPercent"),
        verify_face: o.bool("verifyFace"),
        is_ocr_enabled: o.bool("isOCREnabled"),
        is_address_check_enabled: o.bool("isAddressCheckEnabled"),
        is_face_required_on_document: o.bool("isFaceRequiredOnDocument"),
        is_cross_match_required: o.bool("isCrossMatchRequired"),
        is_dmv_enabled: o.bool("isDMVEnabled"),
        is_dmv_partial_enabled: o.bool("isDMVPartialEnabled"),
        is_identi_fraud_enabled: o.bool("isIdentiFraudEnabled"),
        is_identi_fraud_full_case_enabled: o.bool("isIdentiFraudFullCaseEnabled"),
        is_dmv_or_identi_fraud_enabled: o.bool("isDmvOrIdentiFraudEnabled"),
        is_dmv_and_identi_fraud_enabled: o.bool("isDmvAndIdentiFraudEnabled"),
        is_dmv_or_identi_fraud_partial_enabled: o.bool("isDmvOrIdentiFraudPartialEnabled"),
        is_dmv_and_identi_fraud_partial_enabled: o.bool("isDmvAndIdentiFraudPartialEnabled"),
        is_gender_check_enabled: o.bool("isGenderCheckEnabled"),
        is_age_check_enabled: o.bool("isAgeCheckEnabled"),
        age_years_difference: o.i32("ageYearsDifference"),
        show_consent_form: o.bool("showConsentForm"),
    }
}

/// An attempt as listed (and as an applicant's `successAttempt`).
pub fn attempt(o: Obj<'_>) -> pb::Attempt {
    let status = o.i64("status");
    pb::Attempt {
        attempt_id: o.i64("attemptId"),
        created: o.timestamp("created"),
        document_type: o.string("documentType"),
        document_type_int: o.i32("documentTypeInt"),
        has_risk_events: o.bool("hasRiskEvents"),
        status: outcome(status) as i32,
        raw_status: status as i32,
        validation_status: o.opt_obj("validationStatus").map(validation_status),
        validations: o.opt_obj("validations").map(validations),
        document: o.opt_obj("document").map(document),
    }
}

fn validation_status(o: Obj<'_>) -> pb::ValidationStatus {
    pb::ValidationStatus {
        expired: o.opt_bool("expired"),
        document_is_valid: o.opt_bool("documentIsValid"),
        face_is_valid: o.opt_bool("faceIsValid"),
        anti_spoofing_is_valid: o.opt_bool("antiSpoofingIsValid"),
        profile_already_exists: o.opt_bool("profileAlreadyExists"),
        quality_is_valid: o.opt_bool("qualityIsValid"),
        liveness_reflection_is_valid: o.opt_bool("livenessReflectionIsValid"),
        has_been_black_listed: o.opt_bool("hasBeenBlackListed"),
    }
}

fn validations(o: Obj<'_>) -> pb::Validations {
    let check = |c: Obj<'_>| pb::ValidationCheck {
        verdict: c.opt_bool("verdict"),
        details: c
            .objects("details")
            .map(|d| pb::ValidationDetail {
                name: d.string("name"),
                verdict: d.opt_bool("verdict"),
                score: d.f64("score"),
            })
            .collect(),
    };
    pb::Validations {
        liveness: o.opt_obj("liveness").map(check),
        quality: o.opt_obj("quality").map(check),
        matching: o.opt_obj("matching").map(check),
        motion_control: o.opt_obj("motionControl").map(|m| pb::MotionControl {
            verdict: m.opt_bool("verdict"),
            motion_control_info: m
                .objects("motionControlInfo")
                .map(|i| pb::MotionControlInfo { pattern: i.string("pattern"), result: i.bool("result") })
                .collect(),
        }),
    }
}

fn document(o: Obj<'_>) -> pb::DvsDocument {
    pb::DvsDocument {
        abbr3_country: o.string("abbr3Country"),
        abbr_country: o.string("abbrCountry"),
        address: o.string("address"),
        city: o.string("city"),
        document_class: o.string("class"),
        country: o.string("country"),
        dob: o.string("dob"),
        expires: o.string("expires"),
        eyes: o.string("eyes"),
        family_name: o.string("familyName"),
        first_name: o.string("firstName"),
        full_name: o.string("fullName"),
        gender: o.string("gender"),
        hair: o.string("hair"),
        height: o.string("height"),
        id: o.string("id"),
        id_type: o.string("idType"),
        issued: o.string("issued"),
        middle_name: o.string("middleName"),
        postal_box: o.string("postalBox"),
        state: o.string("state"),
        issued_by: o.string("issuedBy"),
        template: o.string("template"),
        weight: o.string("weight"),
        zip: o.string("zip"),
        private_name: o.string("privateName"),
    }
}

fn invalid_data_errors(o: Obj<'_>) -> Vec<pb::InvalidDataError> {
    o.objects("invalidDataErrors")
        .map(|e| pb::InvalidDataError {
            code: e.string("code"),
            message: e.string("message"),
            description: e.string("description"),
        })
        .collect()
}

fn validation_test(t: Obj<'_>) -> pb::DocumentValidationTest {
    pb::DocumentValidationTest {
        raw_response: t.string("rawResponse"),
        name: t.string("name"),
        display_name: t.string("displayName"),
        reason: t.string("reason"),
        effect: t.i32("effect"),
        values: t
            .objects("values")
            .map(|v| pb::DocumentValidationValue {
                score: v.f64("score"),
                effect: v.i32("effect"),
                field_name: v.string("fieldName"),
                effect_string: v.string("effectString"),
            })
            .collect(),
        effect_string: t.string("effectString"),
        status: t.i32("status"),
        status_string: t.string("statusString"),
    }
}

pub fn content(o: Obj<'_>) -> Result<pb::AttemptContent, String> {
    Ok(pb::AttemptContent {
        liveness_reflection_video_link: o.string("livenessReflectionVideoLink"),
        back_or_second_image_base64: o.base64("backOrSecondImageBase64")?,
        face_image_base64: o.base64("faceImageBase64")?,
        front_image_base64: o.base64("frontImageBase64")?,
        track_string: o.string("trackString"),
    })
}

/// Everything about one attempt.
pub fn attempt_details(o: Obj<'_>) -> Result<pb::AttemptDetails, String> {
    let status = o.i64("status");
    let dvs = o.opt_obj("dvsResult").map(|d| {
        let verification = d.obj("documentVerificationResult");
        let face = d.obj("faceVerificationResult");
        let parsed = d.obj("parsedData");
        pb::DvsResult {
            request_id: d.string("requestId"),
            document_type: d.i32("documentType"),
            capture_method: d.string("captureMethod"),
            document: d.opt_obj("document").map(document),
            parsed_data: Some(pb::ParsedData {
                is_ocr_success: parsed.bool("isOcrSuccess"),
                is_pdf417_success: parsed.bool("isPdf417Success"),
                is_mrz_success: parsed.bool("isMrzSuccess"),
                is_shufti_success: parsed.bool("isShuftiSuccess"),
                is_anti_spoofing_success: parsed.bool("isAntiSpoofingSuccess"),
            }),
            document_verification_result: Some(pb::DocumentVerificationResult {
                status: verification.i32("status"),
                total_confidence: verification.f64("totalConfidence"),
                validation_tests: verification.objects("validationTests").map(validation_test).collect(),
                verification_confidence: verification.number_map("verificationConfidence"),
            }),
            face_verification_result: Some(pb::FaceVerificationResult {
                anti_spoofing: face.f64("antiSpoofing"),
                quality: face.f64("quality"),
                confidence: face.f64("confidence"),
                liveness_reflection_confidence: face.f64("livenessReflectionConfidence"),
            }),
        }
    });
    Ok(pb::AttemptDetails {
        attempt_id: o.i64("attemptId"),
        applicant_id: o.string("applicantId"),
        created: o.timestamp("created"),
        document_type: o.string("documentType"),
        document_type_int: o.i32("documentTypeInt"),
        has_risk_events: o.bool("hasRiskEvents"),
        status: outcome(status) as i32,
        raw_status: status as i32,
        validation_status: o.opt_obj("validationStatus").map(validation_status),
        validations: o.opt_obj("validations").map(validations),
        document_fail_status_reasons: o.strings("documentFailStatusReasons"),
        face_fail_status_reasons: o.strings("faceFailStatusReasons"),
        invalid_data_errors: invalid_data_errors(o),
        dvs_result: dvs,
        similar_applicants: o
            .opt_obj("similarApplicants")
            .map(|s| pb::SimilarApplicants { ids: s.strings("ids") }),
        mobile_phone_model: o.string("mobilePhoneModel"),
        mobile_phone_os: o.string("mobilePhoneOS"),
        capture_method: o.string("captureMethod"),
        request_ip_address: o.string("requestIpAddress"),
        content: o.opt_obj("content").map(content).transpose()?,
    })
}

/// The result of POST /api/v2/public/Validation.
pub fn validation_result(o: Obj<'_>) -> pb::ValidationResult {
    let status = o.i64("status");
    pb::ValidationResult {
        applicant_id: o.string("applicantId"),
        attempt_id: o.i64("attemptId"),
        document_type: o.i32("documentType"),
        document: o.opt_obj("document").map(document),
        attempts_count: o.i32("attemptsCount"),
        attempts_left: o.i32("attemptsLeft"),
        status: outcome(status) as i32,
        raw_status: status as i32,
        validation_status: o.opt_obj("validationStatus").map(validation_status),
        invalid_data_errors: invalid_data_errors(o),
        face_success: o.opt_bool("faceSuccess"),
        document_success: o.opt_bool("documentSuccess"),
        document_has_not_expired: o.opt_bool("documentHasNotExpired"),
        document_validation_tests: o.objects("documentValidationTests").map(validation_test).collect(),
        call_back_url: o.string("callBackUrl"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_003_applicant_example_maps() {
        let v: Value = serde_json::from_str(
            r#"{"applicantId":"0ec2b","attemptsCount":2,"lastAttemptId":133,"successAttemptId":133,
            "successAttempt":{"document":null,"attemptId":117,"created":"2023-11-17T04:38:04.653858",
              "documentType":null,"documentTypeInt":10,"hasRiskEvents":false,"status":0,
              "validationStatus":{"expired":null,"faceIsValid":true,"hasBeenBlackListed":false},
              "validations":{"liveness":{"verdict":true,"details":[{"name":"FaceLiveness","verdict":true,"score":0.99}]},
                "motionControl":{"verdict":false,"motionControlInfo":[{"pattern":"up","result":true}]}}},
            "created":"2023-09-19T10:39:00.0307329","validationRequestSettings":{"isOCREnabled":true,"ageYearsDifference":10},
            "completed":true,"status":3,"statusName":"Canceled","documentExpired":null,
            "lastValidationResponse":{"validationResponseId":133,"responseStatus":0,"responseStatusName":"Success"},
            "metadata":{"additionalProp1":"string"},"callbackUrl":null,"verificationMethod":0,"somethingNew":[1]}"#,
        )
        .unwrap();
        let a = applicant(Obj::of(&v));
        assert_eq!(a.status(), pb::ApplicantStatus::Canceled);
        assert_eq!(a.raw_status, 3);
        assert_eq!(a.last_attempt_id, Some(133));
        assert_eq!(a.document_expired, None);
        assert_eq!(a.verification_method(), pb::VerificationMethod::Sms);
        let settings = a.validation_request_settings.unwrap();
        assert!(settings.is_ocr_enabled);
        assert_eq!(settings.age_years_difference, 10);
        let success = a.success_attempt.unwrap();
        assert_eq!(success.status(), pb::ValidationOutcome::Success);
        assert_eq!(success.validation_status.unwrap().face_is_valid, Some(true));
        let validations = success.validations.unwrap();
        assert_eq!(validations.liveness.unwrap().details[0].score, 0.99);
        assert_eq!(validations.motion_control.unwrap().motion_control_info[0].pattern, "up");
        assert_eq!(a.metadata["additionalProp1"], "string");
        assert_eq!(a.created.unwrap().seconds, 1695119940);
    }

    #[test]
    fn attempt_states_follow_the_applicant() {
        assert_eq!(attempt_state(1, true), AttemptState::Succeeded);
        assert_eq!(attempt_state(5, false), AttemptState::Pending);
        assert_eq!(attempt_state(5, true), AttemptState::Failed);
        assert_eq!(attempt_state(0, false), AttemptState::Pending, "reopened");
        assert_eq!(attempt_state(3, true), AttemptState::Canceled);
        assert_eq!(attempt_state(-1, true), AttemptState::Canceled, "deleted");
    }

    #[test]
    fn unknown_status_values_keep_their_number() {
        let v = serde_json::json!({"status": 9, "statusName": "Quarantined"});
        let a = applicant(Obj::of(&v));
        assert_eq!(a.status(), pb::ApplicantStatus::Unspecified);
        assert_eq!((a.raw_status, a.status_name.as_str()), (9, "Quarantined"));
    }
}
