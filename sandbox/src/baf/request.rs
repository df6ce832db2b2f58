//! The JSON bodies and list queries of BAF's API calls (seeds 002 and 003), read as an
//! ASP.NET service binds them: property names in camelCase, query parameter names in
//! any case, a value of the wrong JSON type refused as a whole.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::errors::Error;
use crate::encoding;

/// `PageSize` when the caller gives none.
const DEFAULT_PAGE_SIZE: usize = 20;
/// The largest `PageSize` (seed 003).
const MAX_PAGE_SIZE: usize = 400;

/// `POST /api/v2/private/Applicants` (seed 003). Unknown properties (`case`) are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    reference_id: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
    callback_url: Option<String>,
    send_sms: Option<bool>,
    status: Option<i64>,
    verification_method: Option<i64>,
}

/// `PUT /api/v2/private/Applicants/{id}` (seed 003).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateBody {
    first_name: Option<String>,
    last_name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    reference_id: Option<String>,
    callback_url: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
}

/// `POST .../UpdateMainPhoto` (seed 003).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhotoBody {
    face_image_base64: Option<String>,
}

/// `POST /api/v2/public/Validation` (seed 002).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValidationBody {
    model: Option<ValidationModel>,
    applicant_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValidationModel {
    face_image_base64: Option<String>,
    front_image_base64: Option<String>,
    back_or_second_image_base64: Option<String>,
    document_type: Option<i64>,
}

/// An applicant to create, checked.
#[derive(Debug, Default)]
pub(super) struct NewApplicant {
    pub(super) first_name: Option<String>,
    pub(super) last_name: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) email: Option<String>,
    pub(super) reference_id: Option<String>,
    pub(super) metadata: BTreeMap<String, String>,
    pub(super) callback_url: Option<String>,
    pub(super) send_sms: bool,
    /// 0 by SMS, 1 manual (the default).
    pub(super) verification_method: i64,
    /// 0 pending (the default), 1 success, 2 failed, 3 canceled.
    pub(super) status: i64,
}

/// The fields an update names: `Some(None)` clears one, `None` leaves it.
#[derive(Debug, Default)]
pub(super) struct Changes {
    pub(super) first_name: Option<Option<String>>,
    pub(super) last_name: Option<Option<String>>,
    pub(super) phone: Option<Option<String>>,
    pub(super) email: Option<Option<String>>,
    pub(super) reference_id: Option<Option<String>>,
    pub(super) callback_url: Option<Option<String>>,
    pub(super) metadata: Option<BTreeMap<String, String>>,
}

/// A validation call, read. The face is checked only once the applicant is found, as
/// BAF answers 404 before it looks at the images.
#[derive(Debug)]
pub(super) struct Validation {
    pub(super) applicant_id: String,
    pub(super) document_type: i64,
    pub(super) face: Result<Vec<u8>, Error>,
    pub(super) front: Vec<u8>,
    pub(super) back: Vec<u8>,
}

/// The fields a list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SortField {
    ApplicantId,
    FirstName,
    LastName,
    Phone,
    Email,
    ReferenceId,
    Created,
    Status,
    StatusName,
    Completed,
    AttemptsUsed,
    AttemptsCount,
    OpenedLinkTimes,
    VerificationMethod,
}

/// `GET /api/v2/private/Applicants`'s query, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ListQuery {
    pub(super) page: usize,
    pub(super) page_size: usize,
    pub(super) created_from: Option<NaiveDate>,
    pub(super) created_to: Option<NaiveDate>,
    pub(super) sort: Option<SortField>,
    pub(super) descending: bool,
    /// Lower case.
    pub(super) text: Option<String>,
}

/// A JSON object body, as the map and as `T`; anything else is a 400 as ASP.NET model
/// binding gives one. The message never repeats the body, which holds personal data.
fn object<T: DeserializeOwned>(body: &[u8]) -> Result<(Map<String, Value>, T), Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::bad_request("A non-empty request body is required."));
    }
    let map = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        _ => return Err(Error::bad_request("The request body must be a JSON object.")),
    };
    let typed = serde_json::from_value(Value::Object(map.clone()))
        .map_err(|_| Error::bad_request("The request body does not match the model."))?;
    Ok((map, typed))
}

/// An optional text field: `null` and `""` both mean "none" (seed 003: an empty string
/// is read as null).
fn text(value: Option<String>) -> Option<String> {
    value.filter(|s| !s.is_empty())
}

/// Reads a create call.
pub(super) fn create(body: &[u8]) -> Result<NewApplicant, Error> {
    let (_, body): (_, CreateBody) = object(body)?;
    let phone = text(body.phone);
    let send_sms = body.send_sms.unwrap_or(false);
    if send_sms && phone.is_none() {
        return Err(Error::phone_required());
    }
    let status = body.status.unwrap_or(0);
    if !(0..=3).contains(&status) {
        return Err(Error::bad_request("status must be 0, 1, 2 or 3"));
    }
    let verification_method = body.verification_method.unwrap_or(1);
    if !(0..=1).contains(&verification_method) {
        return Err(Error::bad_request("verificationMethod must be 0 or 1"));
    }
    Ok(NewApplicant {
        first_name: text(body.first_name),
        last_name: text(body.last_name),
        phone,
        email: text(body.email),
        reference_id: text(body.reference_id),
        metadata: body.metadata.unwrap_or_default(),
        callback_url: text(body.callback_url),
        send_sms,
        verification_method,
        status,
    })
}

/// Reads an update: only the properties present change.
pub(super) fn update(body: &[u8]) -> Result<Changes, Error> {
    let (map, body): (_, UpdateBody) = object(body)?;
    let named = |key: &str, value: Option<String>| map.contains_key(key).then(|| text(value));
    Ok(Changes {
        first_name: named("firstName", body.first_name),
        last_name: named("lastName", body.last_name),
        phone: named("phone", body.phone),
        email: named("email", body.email),
        reference_id: named("referenceId", body.reference_id),
        callback_url: named("callbackUrl", body.callback_url),
        metadata: map.contains_key("metadata").then(|| body.metadata.unwrap_or_default()),
    })
}

/// Reads an UpdateMainPhoto call: the new face.
pub(super) fn main_photo(body: &[u8]) -> Result<Vec<u8>, Error> {
    let (_, body): (_, PhotoBody) = object(body)?;
    face_image(body.face_image_base64.as_deref())
}

/// Reads a validation call.
pub(super) fn validation(body: &[u8]) -> Result<Validation, Error> {
    let (_, body): (_, ValidationBody) = object(body)?;
    let model = body.model.unwrap_or_default();
    let document_type =
        model.document_type.ok_or_else(|| Error::bad_request("model.documentType is required"))?;
    let image = |name: &str, value: Option<String>| match value {
        None => Ok(Vec::new()),
        Some(text) => {
            encoding::decode(&text).ok_or_else(|| Error::bad_request(format!("{name} is not base64")))
        }
    };
    let front = image("frontImageBase64", model.front_image_base64)?;
    let back = image("backOrSecondImageBase64", model.back_or_second_image_base64)?;
    Ok(Validation {
        applicant_id: body.applicant_id.unwrap_or_default(),
        document_type,
        face: face_image(model.face_image_base64.as_deref()),
        front,
        back,
    })
}

/// The face image of a request: required (120042), and an image (120058: base64 that
/// decodes to nothing has no face on it).
fn face_image(value: Option<&str>) -> Result<Vec<u8>, Error> {
    match value.map(str::trim) {
        None | Some("") => Err(Error::face_required()),
        Some(text) => match encoding::decode(text) {
            Some(bytes) if !bytes.is_empty() => Ok(bytes),
            _ => Err(Error::no_faces()),
        },
    }
}

/// Reads a list query (seed 003): `Page`, `PageSize`, `CreatedFrom`, `CreatedTo`
/// (`dd-mm-yyyy`), `SortField`, `Order`, `TextFilter`, names in any case.
pub(super) fn list(query: &str) -> Result<ListQuery, Error> {
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned()))
        .collect();
    let param = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let number = |name: &str, label: &str, max: usize, default: usize| -> Result<usize, Error> {
        match param(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| Error::bad_request(format!("{label} must be between 1 and {max}"))),
        }
    };
    let date = |name: &str, label: &str| -> Result<Option<NaiveDate>, Error> {
        param(name)
            .map(|v| {
                NaiveDate::parse_from_str(v, "%d-%m-%Y")
                    .map_err(|_| Error::bad_request(format!("{label} must be a date as dd-mm-yyyy")))
            })
            .transpose()
    };
    Ok(ListQuery {
        page: number("page", "Page", 2_147_483_647, 1)?,
        page_size: number("pagesize", "PageSize", MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE)?,
        created_from: date("createdfrom", "CreatedFrom")?,
        created_to: date("createdto", "CreatedTo")?,
        sort: param("sortfield").map(|f| sort_field(f).ok_or_else(Error::bad_sort_field)).transpose()?,
        descending: param("order").is_some_and(|o| o.eq_ignore_ascii_case("descending")),
        text: param("textfilter").map(str::to_lowercase),
    })
}

/// A sort field by its JSON name, in any case (ASP.NET binds it so).
fn sort_field(name: &str) -> Option<SortField> {
    Some(match name.to_ascii_lowercase().as_str() {
        "applicantid" => SortField::ApplicantId,
        "firstname" => SortField::FirstName,
        "lastname" => SortField::LastName,
        "phone" => SortField::Phone,
        "email" => SortField::Email,
        "referenceid" => SortField::ReferenceId,
        "created" => SortField::Created,
        "status" => SortField::Status,
        "statusname" => SortField::StatusName,
        "completed" => SortField::Completed,
        "attemptsused" => SortField::AttemptsUsed,
        "attemptscount" => SortField::AttemptsCount,
        "openedlinktimes" => SortField::OpenedLinkTimes,
        "verificationmethod" => SortField::VerificationMethod,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(error: Error) -> i64 {
        match error {
            Error::Coded(_, code, _) => code,
            other => panic!("no code in {other:?}"),
        }
    }

    #[test]
    fn a_create_reads_seed_003s_example() {
        let new = create(
            br#"{"firstName": "John", "lastName": "Dow", "phone": "49828585009568", "email": "",
                "referenceId": "string", "metadata": {"additionalProp1": "string"}, "callbackUrl": "string",
                "sendSms": true, "case": [{"name": 1, "value": "string"}], "status": 0, "verificationMethod": 0}"#,
        )
        .unwrap();
        assert_eq!((new.first_name.as_deref(), new.email.as_deref()), (Some("John"), None));
        assert_eq!(new.metadata["additionalProp1"], "string");
        assert_eq!((new.send_sms, new.status, new.verification_method), (true, 0, 0));
        let defaults = create(b"{}").unwrap();
        assert_eq!((defaults.send_sms, defaults.status, defaults.verification_method), (false, 0, 1));
    }

    #[test]
    fn bad_creates_are_refused() {
        assert_eq!(code(create(br#"{"sendSms": true}"#).unwrap_err()), 120028);
        assert_eq!(code(create(br#"{"sendSms": true, "phone": ""}"#).unwrap_err()), 120028);
        assert!(matches!(create(br#"{"status": 4}"#), Err(Error::Message(..))));
        assert!(matches!(create(br#"{"verificationMethod": 2}"#), Err(Error::Message(..))));
        assert!(matches!(create(br#"{"firstName": 7}"#), Err(Error::Message(..))), "a wrong type");
        assert!(matches!(create(b"  "), Err(Error::Message(..))));
        assert!(matches!(create(b"[1]"), Err(Error::Message(..))));
    }

    #[test]
    fn updates_change_only_what_they_name() {
        let changes = update(br#"{"firstName": "", "email": "e@x", "metadata": null}"#).unwrap();
        assert_eq!(changes.first_name, Some(None), "an empty string clears");
        assert_eq!(changes.email, Some(Some("e@x".into())));
        assert_eq!(changes.last_name, None, "absent: unchanged");
        assert_eq!(changes.metadata, Some(BTreeMap::new()));
    }

    #[test]
    fn validation_images_are_base64() {
        let v =
            validation(br#"{"model": {"faceImageBase64": "aGk=", "documentType": 10}, "applicantId": "a"}"#)
                .unwrap();
        assert_eq!((v.applicant_id.as_str(), v.document_type), ("a", 10));
        assert_eq!(v.face.unwrap(), b"hi");
        assert!(v.front.is_empty() && v.back.is_empty());
        let no_face = validation(br#"{"model": {"documentType": 10}}"#).unwrap();
        assert_eq!(code(no_face.face.unwrap_err()), 120042);
        let bad_face = validation(br#"{"model": {"faceImageBase64": "%%%", "documentType": 10}}"#).unwrap();
        assert_eq!(code(bad_face.face.unwrap_err()), 120058);
        assert!(validation(br#"{"model": {"faceImageBase64": "aGk="}}"#).is_err(), "documentType");
        assert!(
            validation(br#"{"model": {"frontImageBase64": "aGk", "documentType": 2}}"#).is_err(),
            "unpadded"
        );
        assert_eq!(code(main_photo(br#"{"faceImageBase64": ""}"#).unwrap_err()), 120042);
    }

    #[test]
    fn list_queries_bind_as_aspnet_does() {
        let q = list("page=2&PAGESIZE=5&sortField=FirstName&Order=Descending&TextFilter=ALPHA%40&CreatedFrom=01-02-2024")
            .unwrap();
        assert_eq!((q.page, q.page_size, q.sort, q.descending), (2, 5, Some(SortField::FirstName), true));
        assert_eq!(q.text.as_deref(), Some("alpha@"));
        assert_eq!(q.created_from, NaiveDate::from_ymd_opt(2024, 2, 1));
        let defaults = list("").unwrap();
        assert_eq!((defaults.page, defaults.page_size, defaults.sort), (1, 20, None));
        assert_eq!(code(list("SortField=shoeSize").unwrap_err()), 120026);
        assert!(list("PageSize=401").is_err());
        assert!(list("Page=0").is_err());
        assert!(list("CreatedTo=2024-01-01").is_err());
    }
}
