//! AbleID (seed 000): start calls, data requests, their errors, the hook signature and
//! the data hooks' payloads.
//!
//! AbleID has no auth header: `projectId` and `secret` go into every JSON body, which is
//! why only the gateway may call it.

use std::time::Instant;

use http::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;
use tonic::Code;

use super::http::{Auth, Call, Upstream};
use super::json::Obj;
use super::{Refusal, api_error};
use crate::error::ApiError;
use crate::proto::ableid as pb;

/// `ErrorInfo.domain` of AbleID's errors.
pub const DOMAIN: &str = "ableid";

/// An AbleID project.
#[derive(Debug, Clone)]
pub struct AbleId {
    upstream: Upstream,
    project_id: String,
    secret: SecretString,
}

/// A started session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// AbleID's session id.
    pub attempt_id: String,
    /// The page the person opens.
    pub full_url: String,
    /// The page's language.
    pub lang: String,
    /// AbleID's message.
    pub message: String,
}

/// AbleID's acknowledgement of a data request; the data follows on a hook.
#[derive(Debug, Clone, PartialEq)]
pub struct Ack {
    /// Application status code.
    pub status_code: i32,
    /// Status type.
    pub kind: String,
    /// Message.
    pub message: String,
}

/// Who a session is for.
#[derive(Debug)]
pub enum Subject<'a> {
    /// A resident: PINFL and birth date (`DD.MM.YYYY`).
    Resident { pinfl: &'a str, birth_date: &'a str },
    /// A foreigner: document number.
    Foreigner { document: &'a str },
}

/// The four data requests; each answer arrives on its data hook.
#[derive(Debug)]
pub enum DataRequest<'a> {
    /// POST /check/get_passport.
    Passport { pinfl: &'a str, birth_date: &'a str },
    /// POST /check/get_photo.
    Photo,
    /// POST /check/registration.
    Registration { pinfl: &'a str },
    /// POST /check/get_person.
    Person { pinfl: &'a str, birth_date: &'a str },
}

impl AbleId {
    /// A client of one AbleID project.
    pub fn new(upstream: Upstream, project_id: String, secret: SecretString) -> Self {
        Self { upstream, project_id, secret }
    }

    /// Starts a session: POST /check/start/second or /check/start/foreign.
    pub async fn start(
        &self,
        subject: Subject<'_>,
        transaction_id: &str,
        lang: &str,
        hooks: &[String],
        deadline: Option<Instant>,
    ) -> Result<Session, ApiError> {
        let mut body = self.credentials();
        body["transactionId"] = json!(transaction_id);
        body["hooks"] = json!(hooks);
        if !lang.is_empty() {
            body["lang"] = json!(lang);
        }
        let (operation, path) = match subject {
            Subject::Resident { pinfl, birth_date } => {
                body["pinfl"] = json!(pinfl);
                body["birthDate"] = json!(birth_date);
                ("StartResidentCheck", "check/start/second")
            }
            Subject::Foreigner { document } => {
                body["document"] = json!(document);
                ("StartForeignCheck", "check/start/foreign")
            }
        };
        let reply = self.post(operation, path, body, deadline).await?;
        let data = Obj::of(&reply).obj("data");
        let session = Session {
            attempt_id: data.string("attemptId"),
            full_url: data.string("fullUrl"),
            lang: data.string("lang"),
            message: Obj::of(&reply).string("message"),
        };
        if session.attempt_id.is_empty() {
            return Err(api_error(
                DOMAIN,
                super::http::UpstreamError::Malformed(format!("{operation}: no data.attemptId")),
                classify,
            ));
        }
        Ok(session)
    }

    /// Asks for data that AbleID then delivers to a data hook.
    pub async fn request_data(
        &self,
        request: DataRequest<'_>,
        attempt_id: &str,
        deadline: Option<Instant>,
    ) -> Result<Ack, ApiError> {
        let mut body = self.credentials();
        body["attemptId"] = json!(attempt_id);
        let (operation, path) = match request {
            DataRequest::Passport { pinfl, birth_date } => {
                body["pinfl"] = json!(pinfl);
                body["birthDate"] = json!(birth_date);
                ("RequestPassport", "check/get_passport")
            }
            DataRequest::Photo => ("RequestPhoto", "check/get_photo"),
            DataRequest::Registration { pinfl } => {
                body["pinfl"] = json!(pinfl);
                ("RequestRegistration", "check/registration")
            }
            DataRequest::Person { pinfl, birth_date } => {
                body["pinfl"] = json!(pinfl);
                body["birthDate"] = json!(birth_date);
                ("RequestPerson", "check/get_person")
            }
        };
        let reply = self.post(operation, path, body, deadline).await?;
        let reply = Obj::of(&reply);
        Ok(Ack {
            status_code: reply.opt_i64("statusCode").map_or(200, |c| c as i32),
            kind: reply.opt_string("type").unwrap_or_else(|| "SUCCESS".into()),
            message: reply.string("message"),
        })
    }

    /// Whether a hook's `hash` (or `signature`) is the one this project makes for the
    /// attempt. Constant time: the comparison must not tell a forger how close they are.
    pub fn verify_hook(&self, attempt_id: &str, signature: &str) -> bool {
        let expected = hook_signature(&self.project_id, &self.secret, attempt_id);
        let given = signature.trim().to_ascii_uppercase();
        expected.as_bytes().ct_eq(given.as_bytes()).into()
    }

    fn credentials(&self) -> Value {
        json!({"projectId": self.project_id, "secret": self.secret.expose_secret()})
    }

    async fn post(
        &self,
        operation: &'static str,
        path: &str,
        body: Value,
        deadline: Option<Instant>,
    ) -> Result<Value, ApiError> {
        let call = Call::new(operation, Method::POST, path, Auth::None).json(body);
        let reply = self.upstream.json(call, deadline).await.map_err(|e| api_error(DOMAIN, e, classify))?;
        // AbleID reports some failures inside a 2xx body: a statusCode other than 200.
        let envelope = Obj::of(&reply);
        match envelope.opt_i64("statusCode") {
            Some(code) if code != 200 && code >= 1000 => Err(api_error(
                DOMAIN,
                super::http::UpstreamError::Status(super::http::VendorReply {
                    status: http::StatusCode::BAD_REQUEST,
                    body: serde_json::to_vec(&reply).unwrap_or_default().into(),
                    retry_after: None,
                }),
                classify,
            )),
            _ => Ok(reply),
        }
    }
}

/// `UPPER(SHA1(UPPER(SHA1(projectId + secret)) + attemptId))`, AbleID's hook signature.
pub fn hook_signature(project_id: &str, secret: &SecretString, attempt_id: &str) -> String {
    let inner =
        hex::encode_upper(Sha1::digest([project_id.as_bytes(), secret.expose_secret().as_bytes()].concat()));
    hex::encode_upper(Sha1::digest([inner.as_bytes(), attempt_id.as_bytes()].concat()))
}

/// AbleID's error codes, their names, and what they mean to a caller.
const ERRORS: &[(i64, &str, Code)] = &[
    (10100, "FACE_LIMIT_HAS_BEEN_REACHED", Code::ResourceExhausted),
    (10101, "FACE_SESSION_EXPIRED", Code::FailedPrecondition),
    (10102, "FACE_INVALID_URL", Code::InvalidArgument),
    (10103, "FACE_INCORRECT_PINFL", Code::InvalidArgument),
    (10104, "FACE_INCORRECT_DOCUMENT", Code::InvalidArgument),
    (10105, "FACE_INCORRECT_PINFL_DATE", Code::InvalidArgument),
    (10200, "FACE_DATA_NOT_FOUND", Code::NotFound),
    (10202, "FACE_PROJECT_NOT_FOUND", Code::FailedPrecondition),
    (10203, "FACE_NOT_VALID", Code::FailedPrecondition),
    (10204, "FACE_PASSPORT_EXPIRED", Code::FailedPrecondition),
    (10205, "FACE_REGISTRATION_NOT_FOUND", Code::NotFound),
    (10301, "FACE_TRANSACTION_FAILED_VERIFICATION", Code::FailedPrecondition),
    (10302, "FACE_TRANSACTION_NOT_FOUND", Code::NotFound),
    (10500, "FACE_INTERNAL_ERROR", Code::Internal),
    (20000, "SERVICE_TEMPORARILY_UNAVAILABLE", Code::Unavailable),
    (20002, "ERROR_REQUEST_PROCESSING", Code::Internal),
    (20004, "EMPTY_DATA", Code::NotFound),
    (20005, "EMPTY_DATA_ADDRESS", Code::NotFound),
    (20201, "NO_MANDATORY_DATA_AVAILABLE", Code::FailedPrecondition),
    (20202, "INCORRECT_DATA_FORMAT", Code::InvalidArgument),
    (20423, "ONEID_DATA_LOCKED", Code::FailedPrecondition),
];

fn classify(refusal: &Refusal) -> Option<(Code, &'static str)> {
    ERRORS
        .iter()
        .find(|(code, name, _)| {
            refusal.code == Some(*code) || (refusal.code.is_none() && refusal.kind.as_deref() == Some(*name))
        })
        .map(|(_, name, grpc)| (*grpc, *name))
}

/// The typed form of AbleID's `passportType`.
pub fn passport_type(raw: &str) -> pb::PassportType {
    pb::PassportType::from_str_name(&format!("PASSPORT_TYPE_{raw}")).unwrap_or(pb::PassportType::Unspecified)
}

/// The passport data hook's inner `data`.
pub fn passport(data: Obj<'_>) -> pb::Passport {
    let raw_type = data.string("passportType");
    pb::Passport {
        attempt_id: data.string("attemptId"),
        surname: data.string("surname"),
        name: data.string("name"),
        last_name: data.string("lastName"),
        document: data.string("document"),
        sex: data.i32("sex"),
        passport_give_place: data.string("passportGivePlace"),
        passport_give_place_id: data.i64("passportGivePlaceId"),
        passport_date_begin: data.string("passportDateBegin"),
        passport_date_end: data.string("passportDateEnd"),
        passport_type: passport_type(&raw_type) as i32,
        raw_passport_type: raw_type,
    }
}

/// The photo data hook's inner `data`.
pub fn photo(data: Obj<'_>) -> Result<pb::Photo, String> {
    Ok(pb::Photo { crc: data.string("crc"), photo: data.base64("photo")? })
}

/// An address: the registration data hook's inner `data`, or a person's registration.
pub fn address(data: Obj<'_>) -> pb::Address {
    pb::Address {
        address: data.opt_string("address"),
        cadastre: data.opt_string("cadastre"),
        country: data.opt_string("country"),
        country_id: data.opt_i64("countryId"),
        country_cbu_id: data.opt_i64("countryCbuId"),
        region: data.opt_string("region"),
        region_id: data.opt_i64("regionId"),
        region_cbu_id: data.opt_i64("regionCbuId"),
        district: data.opt_string("district"),
        district_id: data.opt_i64("districtId"),
        district_cbu_id: data.opt_i64("districtCbuId"),
        maxala: data.opt_string("maxala"),
        maxala_id: data.opt_i64("maxalaId"),
        maxala_cbu_id: data.opt_i64("maxalaCbuId"),
        street: data.opt_string("street"),
        street_id: data.opt_i64("streetId"),
        street_cbu_id: data.opt_i64("streetCbuId"),
        registration_date: data.opt_string("registrationDate"),
    }
}

/// The person data hook's inner `data`.
pub fn person(data: Obj<'_>) -> pb::Person {
    let p = data.obj("person");
    let raw_type = p.string("passportType");
    let registration = data.obj("registration");
    pb::Person {
        person: Some(pb::PersonDetails {
            attempt_id: p.string("attemptId"),
            pinfl: p.string("pinfl"),
            surname: p.string("surname"),
            name: p.string("name"),
            last_name: p.string("lastName"),
            document: p.string("document"),
            sex: p.i32("sex"),
            passport_give_place: p.string("passportGivePlace"),
            passport_give_place_id: p.i64("passportGivePlaceId"),
            passport_date_begin: p.string("passportDateBegin"),
            passport_date_end: p.string("passportDateEnd"),
            passport_type: passport_type(&raw_type) as i32,
            raw_passport_type: raw_type,
            passport_type_title: p.string("passportTypeTitle"),
            passport_type_id: p.i64("passportTypeId"),
            passport_type_cbu_id: p.i64("passportTypeCbuId"),
            birth_date: p.string("birthDate"),
            birth_place: p.string("birthPlace"),
            birth_place_id: p.i64("birthPlaceId"),
            birth_place_cbu_id: p.i64("birthPlaceCbuId"),
            birth_country: p.string("birthCountry"),
            birth_country_id: p.i64("birthCountryId"),
            birth_country_cbu_id: p.i64("birthCountryCbuId"),
            live_status: p.opt_bool("liveStatus"),
            nationality: p.string("nationality"),
            nationality_id: p.i64("nationalityId"),
            nationality_cbu_id: p.i64("nationalityCbuId"),
            citizenship: p.string("citizenship"),
            citizenship_id: p.i64("citizenshipId"),
            citizenship_cbu_id: p.i64("citizenshipCbuId"),
        }),
        registration: Some(pb::PersonRegistration {
            permanent_registration: registration.opt_obj("permanentRegistration").map(address),
            temporary_registrations: registration.objects("temporaryRegistrations").map(address).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_signature_matches_an_independent_computation() {
        // python3 -c "import hashlib;s=lambda x:hashlib.sha1(x.encode()).hexdigest().upper();
        //   print(s(s('proj-1'+'s3cret')+'3HQVkBm_zCZqKFbTWVrhf'))"
        let secret = SecretString::from("s3cret");
        assert_eq!(
            hook_signature("proj-1", &secret, "3HQVkBm_zCZqKFbTWVrhf"),
            "BAE3ED4220136C1E980B7C775CCE3D55E12612AC"
        );
    }

    #[test]
    fn errors_are_known_by_code_or_type() {
        let refusal = |code: Option<i64>, kind: Option<&str>| Refusal {
            http_status: 400,
            code,
            kind: kind.map(str::to_owned),
            message: None,
        };
        assert_eq!(
            classify(&refusal(Some(10101), None)),
            Some((Code::FailedPrecondition, "FACE_SESSION_EXPIRED"))
        );
        assert_eq!(
            classify(&refusal(None, Some("ONEID_DATA_LOCKED"))).map(|c| c.0),
            Some(Code::FailedPrecondition)
        );
        assert_eq!(classify(&refusal(Some(99999), None)), None);
        assert_eq!(passport_type("IDMS_RECV_MVD_IDCARD_CITIZEN"), pb::PassportType::IdmsRecvMvdIdcardCitizen);
        assert_eq!(passport_type("SOMETHING_NEW"), pb::PassportType::Unspecified);
    }
}
