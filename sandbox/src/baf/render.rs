//! BAF's JSON: applicants, attempts, images, validation results and errors, with the
//! field names and shapes of seeds 002 and 003 (version 1.6.0, the superset).

use chrono::NaiveDateTime;
use http::StatusCode;
use serde_json::{Value, json};

use super::errors::Error;
use super::state::{Applicant, Attempt, status_name};
use super::{Baf, FACE_ONLY};
use crate::encoding;

/// The simulated BAF account every applicant belongs to.
const ACCOUNT_ID: &str = "5a9db0c5-0000-4000-8000-5a9db0c5a9d0";

/// An error's HTTP status and body: `{"code", "message"}` where BAF documents a code,
/// `{"message"}` otherwise.
pub(super) fn error(error: &Error) -> (StatusCode, Value) {
    match error {
        Error::Unauthorized => (StatusCode::UNAUTHORIZED, json!({"message": "Unauthorized"})),
        Error::Coded(status, code, message) => (*status, json!({"code": code, "message": message})),
        Error::Message(status, message) => (*status, json!({"message": message})),
    }
}

/// BAF's timestamps: no zone, microseconds (`2023-11-17T04:40:31.509932`).
fn stamp(time: NaiveDateTime) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// A validation outcome's name (seed 002).
fn outcome_name(status: i64) -> &'static str {
    match status {
        0 => "Success",
        1 => "Fail",
        2 => "InvalidData",
        _ => "Error",
    }
}

/// The seeds show `"ID"` for type 1 and `null` for face-only attempts; other names are
/// guesses.
fn document_type_name(document_type: i64) -> Value {
    match document_type {
        FACE_ONLY => Value::Null,
        0 => json!("DL"),
        1 => json!("ID"),
        2 => json!("Passport"),
        _ => json!("Other"),
    }
}

/// The answer of a create call.
pub(super) fn created(baf: &Baf, id: &str, short_code: &str) -> Value {
    json!({
        "applicantId": id,
        "validationLink": baf.validation_link(id).as_str(),
        "shortValidationLink": baf.short_link(short_code).as_str(),
    })
}

/// A page of a list call.
pub(super) fn page(items: &[&Applicant], total: usize, page: usize, page_size: usize) -> Value {
    json!({
        "page": page,
        "pageSize": page_size,
        "total": total,
        "totalPages": total.div_ceil(page_size),
        "items": items.iter().map(|a| applicant(a)).collect::<Vec<_>>(),
    })
}

/// The answer of `Complete`.
pub(super) fn completed(callback_url: Option<&str>) -> Value {
    json!({"callbackUrl": callback_url})
}

/// The answer of `.../Attempts`.
pub(super) fn attempts(a: &Applicant) -> Value {
    json!({"attempts": a.attempts.iter().map(|at| attempt_summary(a, at)).collect::<Vec<_>>()})
}

/// An applicant as seed 003's GetApplicant example shows one.
pub(super) fn applicant(a: &Applicant) -> Value {
    let success = a.success_attempt_id.and_then(|id| a.attempt(id));
    json!({
        "applicantId": a.id,
        "attemptsCount": a.attempts.len(),
        "lastAttemptId": a.attempts.last().map(|at| at.id),
        "successAttemptId": a.success_attempt_id,
        "successAttempt": success.map(|at| attempt_summary(a, at)),
        "firstName": a.first_name,
        "lastName": a.last_name,
        "phone": a.phone,
        "email": a.email,
        "referenceId": a.reference_id,
        "openedLinkTimes": a.opened_link_times,
        "created": stamp(a.created),
        "accountId": ACCOUNT_ID,
        "validationRequestSettings": settings(&a.id),
        "completed": a.completed,
        "status": a.status,
        "statusName": status_name(a.status),
        "attemptsUsed": a.attempts_used,
        "documentExpired": a.document_expired,
        "lastValidationResponse": a.last_response.map(|r| json!({
            "validationResponseId": r.id,
            "created": stamp(r.created),
            "responseStatus": r.status,
            "responseStatusName": outcome_name(r.status),
        })),
        "hasRiskEvents": false,
        "metadata": a.metadata,
        "callbackUrl": a.callback_url,
        "verificationMethod": a.verification_method,
    })
}

/// The document an attempt read, or `null`.
fn document(a: &Applicant, at: &Attempt) -> Value {
    if at.read_document() { dvs_document(&a.id) } else { Value::Null }
}

/// An attempt as listed and as an applicant's `successAttempt`.
fn attempt_summary(a: &Applicant, at: &Attempt) -> Value {
    json!({
        "attemptId": at.id,
        "created": stamp(at.created),
        "documentType": document_type_name(at.document_type),
        "documentTypeInt": at.document_type,
        "hasRiskEvents": false,
        "status": at.status(),
        "validationStatus": validation_status(at),
        "validations": validations(at),
        "document": document(a, at),
    })
}

fn validation_status(at: &Attempt) -> Value {
    let document = at.is_document();
    let page = at.has_video();
    json!({
        "expired": if document { Some(false) } else { None },
        "documentIsValid": if document { Some(at.passed) } else { None },
        "faceIsValid": at.passed,
        "antiSpoofingIsValid": if page { Some(at.passed) } else { None },
        "profileAlreadyExists": null,
        "qualityIsValid": true,
        "livenessReflectionIsValid": if page { Some(at.passed) } else { None },
        "hasBeenBlackListed": false,
    })
}

fn validations(at: &Attempt) -> Value {
    let passed = at.passed;
    let check = |name: &str, verdict: bool, score: f64| json!({"verdict": verdict, "details": [{"name": name, "verdict": verdict, "score": score}]});
    let motion = at.has_video().then(|| {
        json!({"verdict": passed, "motionControlInfo": [
            {"pattern": "up", "result": true},
            {"pattern": "left", "result": passed},
        ]})
    });
    json!({
        "liveness": check("FaceLiveness", passed, if passed { 0.99 } else { 0.12 }),
        "quality": check("FaceQuality", true, 0.53),
        "matching": check("FaceMatching", passed, if passed { 0.97 } else { 0.08 }),
        "motionControl": motion,
    })
}

/// Seed 002's document validation tests.
fn document_tests() -> Value {
    json!([
        {"displayName": "AddressValidation", "name": "AddressValidation", "status": 2,
         "statusString": "Skipped", "reason": "Integration was skipped by flow"},
        {"displayName": "DMV", "name": "DMVValidation", "status": -1,
         "statusString": "Disabled", "reason": "Integration was turned off"},
        {"displayName": "IdentiFraud", "name": "IdentiFraudValidation", "status": -1,
         "statusString": "Disabled", "reason": "Integration was turned off"},
    ])
}

/// The document a passing verification "reads": made up, the same for an applicant.
fn dvs_document(applicant_id: &str) -> Value {
    let digits: u64 = applicant_id.bytes().fold(7u64, |n, b| n.wrapping_mul(31).wrapping_add(u64::from(b)));
    json!({
        "privateName": "SANDBOX SAMPLE",
        "abbr3Country": "UZB",
        "abbrCountry": "UZ",
        "address": "1 NAMUNA KO'CHASI",
        "city": "TOSHKENT",
        "class": null,
        "country": "Uzbekistan",
        "dob": "1990-01-12",
        "expires": "2034-01-12",
        "eyes": null,
        "familyName": "SAMPLE",
        "firstName": "SANDBOX",
        "fullName": "SANDBOX SAMPLE",
        "gender": "MALE",
        "hair": null,
        "height": null,
        "id": format!("AD{:07}", digits % 10_000_000),
        "idType": "ID",
        "issued": "2024-01-13",
        "middleName": null,
        "postalBox": null,
        "state": null,
        "issuedBy": "SINOV TUMANI IIB",
        "template": "01",
        "weight": null,
        "zip": "100000",
    })
}

/// The applicant's settings, seed 003's example values.
fn settings(id: &str) -> Value {
    json!({
        "validationRequestId": id,
        "faceValidationPercent": 70,
        "documentValidationPercent": 70,
        "qualityScore": 30,
        "livenessReflectionScore": 30,
        "antiSpoofingPercent": 70,
        "verifyFace": false,
        "isOCREnabled": true,
        "isAddressCheckEnabled": true,
        "isFaceRequiredOnDocument": true,
        "isCrossMatchRequired": false,
        "isDMVEnabled": false,
        "isDMVPartialEnabled": false,
        "isIdentiFraudEnabled": false,
        "isIdentiFraudFullCaseEnabled": false,
        "isDmvOrIdentiFraudEnabled": false,
        "isDmvAndIdentiFraudEnabled": false,
        "isDmvOrIdentiFraudPartialEnabled": false,
        "isDmvAndIdentiFraudPartialEnabled": false,
        "isGenderCheckEnabled": false,
        "isAgeCheckEnabled": false,
        "ageYearsDifference": 10,
        "showConsentForm": false,
    })
}

/// The answer of `POST /api/v2/public/Validation`, as seed 002's examples.
pub(super) fn validation_result(a: &Applicant, at: &Attempt, max_attempts: u32) -> Value {
    let is_document = at.is_document();
    let only_document = |value: Value| if is_document { value } else { Value::Null };
    json!({
        "applicantId": a.id,
        "attemptId": at.id,
        "documentType": at.document_type,
        "document": document(a, at),
        "attemptsCount": max_attempts,
        "attemptsLeft": max_attempts.saturating_sub(a.attempts_used),
        "status": at.status(),
        "validationStatus": {
            "expired": only_document(json!(false)),
            "documentIsValid": only_document(json!(at.passed)),
            "faceIsValid": at.passed,
            "antiSpoofingIsValid": null,
            "qualityIsValid": true,
        },
        "invalidDataErrors": [],
        "faceSuccess": at.passed,
        "documentSuccess": only_document(json!(at.passed)),
        "documentHasNotExpired": only_document(json!(true)),
        "documentValidationTests": if is_document { document_tests() } else { json!([]) },
        "callBackUrl": a.callback_url,
    })
}

/// An attempt's images, as `.../Images` and the details' `content` return them.
pub(super) fn content(baf: &Baf, a: &Applicant, at: &Attempt) -> Value {
    let image = |bytes: &[u8]| (!bytes.is_empty()).then(|| encoding::encode(bytes));
    json!({
        "livenessReflectionVideoLink": at.has_video().then(|| baf.video_link(&a.id, at.id).to_string()),
        "backOrSecondImageBase64": image(&at.back),
        "faceImageBase64": image(&at.face),
        "frontImageBase64": image(&at.front),
        "trackString": at.has_video().then(|| format!("sandbox-track-{}", at.id)),
    })
}

/// Everything about an attempt, as seed 003's GetApplicantAttempt example.
pub(super) fn attempt_details(baf: &Baf, a: &Applicant, at: &Attempt) -> Value {
    let is_document = at.is_document();
    let page = at.has_video();
    let passed = at.passed;
    let score = |good: f64, bad: f64| if passed { good } else { bad };
    let verification_confidence = if is_document && passed {
        json!({"firstName": 95, "familyName": 95, "fullName": 94, "dob": 97, "expires": 96, "id": 98})
    } else {
        json!({})
    };
    let capture_method = if page { "Camera" } else { "Upload" };
    json!({
        "documentFailStatusReasons": if is_document && !passed { vec!["Document authenticity check failed"] } else { vec![] },
        "faceFailStatusReasons": if !is_document && !passed { vec!["Liveness check failed"] } else { vec![] },
        "invalidDataErrors": [],
        "dvsResult": {
            "requestId": format!("5a9db0c5-0000-4000-8000-{:012}", at.id),
            "documentType": at.document_type,
            "captureMethod": capture_method,
            "document": document(a, at),
            "parsedData": {
                "isOcrSuccess": is_document && passed,
                "isPdf417Success": false,
                "isMrzSuccess": is_document && passed,
                "isShuftiSuccess": false,
                "isAntiSpoofingSuccess": passed,
            },
            "documentVerificationResult": {
                "status": if is_document { at.status() } else { 0 },
                "totalConfidence": if is_document { score(92.0, 31.0) } else { 0.0 },
                "validationTests": if is_document { document_tests() } else { json!([]) },
                "verificationConfidence": verification_confidence,
            },
            "faceVerificationResult": {
                "antiSpoofing": score(98.0, 12.0),
                "quality": 46,
                "confidence": score(97.0, 8.0),
                "livenessReflectionConfidence": if page { score(90.0, 15.0) } else { 0.0 },
            },
        },
        "validations": validations(at),
        "similarApplicants": {"ids": []},
        "mobilePhoneModel": "Sandbox Phone",
        "mobilePhoneOS": "SandboxOS 1.0",
        "captureMethod": capture_method,
        "requestIpAddress": "192.0.2.10",
        "created": stamp(at.created),
        "documentType": document_type_name(at.document_type),
        "documentTypeInt": at.document_type,
        "hasRiskEvents": false,
        "status": at.status(),
        "validationStatus": validation_status(at),
        "content": content(baf, a, at),
        "applicantId": a.id,
        "attemptId": at.id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baf::request;
    use url::Url;

    /// The keys of a JSON object, sorted.
    fn keys(value: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = value.as_object().expect("an object").keys().map(String::as_str).collect();
        keys.sort_unstable();
        keys
    }

    /// Field names as the seeds' examples show them, sorted for comparison.
    fn documented(names: &str) -> Vec<&str> {
        let mut names: Vec<&str> = names.split_whitespace().collect();
        names.sort_unstable();
        names
    }

    const APPLICANT: &str = "applicantId attemptsCount lastAttemptId successAttemptId successAttempt firstName \
        lastName phone email referenceId openedLinkTimes created accountId validationRequestSettings completed \
        status statusName attemptsUsed documentExpired lastValidationResponse hasRiskEvents metadata callbackUrl \
        verificationMethod";
    const VALIDATION_STATUS: &str = "expired documentIsValid faceIsValid antiSpoofingIsValid \
        profileAlreadyExists qualityIsValid livenessReflectionIsValid hasBeenBlackListed";
    const CONTENT: &str =
        "livenessReflectionVideoLink backOrSecondImageBase64 faceImageBase64 frontImageBase64 trackString";
    const DOCUMENT: &str = "abbr3Country abbrCountry address city class country dob expires eyes familyName \
        firstName fullName gender hair height id idType issued middleName postalBox state issuedBy template \
        weight zip privateName";

    fn baf() -> Baf {
        Baf::new(Url::parse("http://127.0.0.1:9/sandbox/baf").unwrap(), 3)
    }

    fn create(baf: &Baf, body: &str) -> String {
        baf.account.create(request::create(body.as_bytes()).unwrap()).id
    }

    fn validate(baf: &Baf, id: &str, model: &str) -> Value {
        let body = format!(r#"{{"model": {model}, "applicantId": "{id}"}}"#);
        baf.account.validate(request::validation(body.as_bytes()).unwrap(), validation_result).unwrap()
    }

    #[test]
    fn applicants_have_seed_003s_fields() {
        let baf = baf();
        let id = create(&baf, r#"{"firstName": "Sandbox", "metadata": {"k": "v"}}"#);
        let fresh = baf.account.with_applicant(&id, |a| Ok(applicant(a))).unwrap();
        assert_eq!(keys(&fresh), documented(APPLICANT));
        assert_eq!((fresh["status"].as_i64(), fresh["statusName"].as_str()), (Some(0), Some("Pending")));
        assert_eq!(fresh["metadata"], json!({"k": "v"}));
        assert!(!fresh["created"].as_str().unwrap().contains('Z'), "no zone, as BAF");
        assert_eq!(
            keys(&fresh["validationRequestSettings"]),
            documented(
                "validationRequestId faceValidationPercent documentValidationPercent qualityScore \
                 livenessReflectionScore antiSpoofingPercent verifyFace isOCREnabled isAddressCheckEnabled \
                 isFaceRequiredOnDocument isCrossMatchRequired isDMVEnabled isDMVPartialEnabled \
                 isIdentiFraudEnabled isIdentiFraudFullCaseEnabled isDmvOrIdentiFraudEnabled \
                 isDmvAndIdentiFraudEnabled isDmvOrIdentiFraudPartialEnabled isDmvAndIdentiFraudPartialEnabled \
                 isGenderCheckEnabled isAgeCheckEnabled ageYearsDifference showConsentForm"
            )
        );

        baf.account.page_attempt(&id, true).unwrap();
        let passed = baf.account.with_applicant(&id, |a| Ok(applicant(a))).unwrap();
        assert_eq!((passed["status"].as_i64(), passed["statusName"].as_str()), (Some(1), Some("Success")));
        assert_eq!(passed["successAttemptId"], passed["lastAttemptId"]);
        let summary = &passed["successAttempt"];
        assert_eq!(
            keys(summary),
            documented(
                "document attemptId created documentType documentTypeInt hasRiskEvents status validationStatus validations"
            )
        );
        assert_eq!(
            (summary["documentType"].clone(), summary["documentTypeInt"].as_i64()),
            (Value::Null, Some(10))
        );
        assert_eq!(keys(&summary["validationStatus"]), documented(VALIDATION_STATUS));
        assert_eq!(keys(&summary["validations"]), documented("liveness quality matching motionControl"));
        assert_eq!(keys(&summary["validations"]["liveness"]), documented("verdict details"));
        assert_eq!(keys(&summary["validations"]["liveness"]["details"][0]), documented("name verdict score"));
        assert_eq!(keys(&summary["validations"]["motionControl"]), documented("verdict motionControlInfo"));
        assert_eq!(
            keys(&passed["lastValidationResponse"]),
            documented("validationResponseId created responseStatus responseStatusName")
        );
    }

    #[test]
    fn attempt_details_have_seed_003s_fields() {
        let baf = baf();
        let id = create(&baf, "{}");
        let attempt = baf.account.page_attempt(&id, true).unwrap().attempt_id;
        let details = baf
            .account
            .with_attempt(&id, &attempt.to_string(), |a, at| Ok(attempt_details(&baf, a, at)))
            .unwrap();
        assert_eq!(
            keys(&details),
            documented(
                "documentFailStatusReasons faceFailStatusReasons invalidDataErrors dvsResult validations \
                 similarApplicants mobilePhoneModel mobilePhoneOS captureMethod requestIpAddress created \
                 documentType documentTypeInt hasRiskEvents status validationStatus content applicantId attemptId"
            )
        );
        assert_eq!(
            keys(&details["dvsResult"]),
            documented(
                "requestId documentType captureMethod document parsedData documentVerificationResult faceVerificationResult"
            )
        );
        assert_eq!(
            keys(&details["dvsResult"]["parsedData"]),
            documented("isOcrSuccess isPdf417Success isMrzSuccess isShuftiSuccess isAntiSpoofingSuccess")
        );
        assert_eq!(
            keys(&details["dvsResult"]["documentVerificationResult"]),
            documented("status totalConfidence validationTests verificationConfidence")
        );
        assert_eq!(
            keys(&details["dvsResult"]["faceVerificationResult"]),
            documented("antiSpoofing quality confidence livenessReflectionConfidence")
        );
        assert_eq!(keys(&details["similarApplicants"]), documented("ids"));
        let content = &details["content"];
        assert_eq!(keys(content), documented(CONTENT));
        assert_eq!(
            content["livenessReflectionVideoLink"],
            format!(
                "http://127.0.0.1:9/sandbox/baf/publicapi/api/v2/private/Applicants/{id}/Attempts/{attempt}/Video"
            )
        );
        let face = encoding::decode(content["faceImageBase64"].as_str().unwrap()).unwrap();
        assert_eq!(face, crate::fake::FACE_JPEG);
        assert_eq!(content["frontImageBase64"], Value::Null, "no document image on the page");
    }

    #[test]
    fn validation_results_have_seed_002s_fields() {
        let baf = baf();
        let id = create(&baf, "{}");
        let face = encoding::encode(b"selfie");
        let front = encoding::encode(b"front page");
        let result = validate(
            &baf,
            &id,
            &format!(r#"{{"faceImageBase64": "{face}", "frontImageBase64": "{front}", "documentType": 2}}"#),
        );
        assert_eq!(
            keys(&result),
            documented(
                "applicantId attemptId documentType document attemptsCount attemptsLeft status validationStatus \
                 invalidDataErrors faceSuccess documentSuccess documentHasNotExpired documentValidationTests callBackUrl"
            )
        );
        assert_eq!(
            keys(&result["validationStatus"]),
            documented("expired documentIsValid faceIsValid antiSpoofingIsValid qualityIsValid")
        );
        assert_eq!(keys(&result["document"]), documented(DOCUMENT));
        assert_eq!(result["document"]["firstName"], "SANDBOX");
        assert_eq!((result["status"].as_i64(), result["documentSuccess"].as_bool()), (Some(0), Some(true)));
        assert_eq!((result["attemptsCount"].as_i64(), result["attemptsLeft"].as_i64()), (Some(3), Some(2)));
        assert_eq!(
            keys(&result["documentValidationTests"][0]),
            documented("displayName name status statusString reason")
        );
        let details = baf
            .account
            .with_attempt(&id, &result["attemptId"].to_string(), |a, at| Ok(attempt_details(&baf, a, at)))
            .unwrap();
        assert_eq!(details["dvsResult"]["document"], result["document"], "one document per attempt");
        let listed = baf.account.with_applicant(&id, |a| Ok(attempts(a))).unwrap();
        assert_eq!(listed["attempts"][0]["document"], result["document"]);

        let other = create(&baf, "{}");
        let registered =
            validate(&baf, &other, &format!(r#"{{"faceImageBase64": "{face}", "documentType": 10}}"#));
        assert_eq!(
            (registered["document"].clone(), registered["documentSuccess"].clone()),
            (Value::Null, Value::Null)
        );
        assert_eq!(registered["documentValidationTests"], json!([]));
    }

    #[test]
    fn created_applicants_get_both_links() {
        let baf = baf();
        let reply = created(&baf, "abc", "XyZ1234");
        assert_eq!(keys(&reply), documented("applicantId validationLink shortValidationLink"));
        assert_eq!(reply["validationLink"], "http://127.0.0.1:9/sandbox/baf/embedded?requestId=abc");
        assert_eq!(reply["shortValidationLink"], "http://127.0.0.1:9/sandbox/baf/s/XyZ1234");
    }

    #[test]
    fn lists_page_as_seed_003_shows() {
        let baf = baf();
        for _ in 0..3 {
            create(&baf, "{}");
        }
        let query = request::list("Page=2&PageSize=2").unwrap();
        let listed = baf.account.list(&query, |items, total| page(items, total, query.page, query.page_size));
        assert_eq!(keys(&listed), documented("page pageSize total totalPages items"));
        assert_eq!((listed["total"].as_i64(), listed["totalPages"].as_i64()), (Some(3), Some(2)));
        assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn errors_carry_a_code_where_baf_has_one() {
        assert_eq!(
            error(&Error::Unauthorized),
            (StatusCode::UNAUTHORIZED, json!({"message": "Unauthorized"}))
        );
        assert_eq!(
            error(&Error::no_video()),
            (
                StatusCode::BAD_REQUEST,
                json!({"code": 120033, "message": "Validation response does not contain a video"})
            )
        );
        assert_eq!(
            error(&Error::applicant_not_found("x")),
            (StatusCode::NOT_FOUND, json!({"message": "Validation Request x not found"}))
        );
    }
}
