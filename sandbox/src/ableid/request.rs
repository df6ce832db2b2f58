//! The JSON bodies of AbleID's API calls (seed 000), read and checked in the order
//! AbleID checks them, with its failure codes.

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::Value;
use subtle::ConstantTimeEq;
use url::Url;

use super::Lang;
use super::catalogue::Failure;
use super::state::{Refusal, Subject};
use crate::{ABLEID_PROJECT_ID, ABLEID_SECRET};

/// Longest `transactionId` AbleID accepts.
const MAX_TRANSACTION_ID: usize = 100;
/// Longest foreign `document` the simulation accepts.
const MAX_DOCUMENT: usize = 64;
/// Longest hook URL the simulation accepts.
const MAX_HOOK_URL: usize = 2048;

/// `POST /check/start/second` and `/check/start/foreign`. Every field is optional here so
/// a missing one gets AbleID's code rather than a generic parse failure.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartBody {
    project_id: Option<String>,
    secret: Option<String>,
    transaction_id: Option<String>,
    lang: Option<String>,
    /// Read as values so a hook that is not a string is refused as a bad URL (10102).
    hooks: Option<Vec<Value>>,
    pinfl: Option<String>,
    birth_date: Option<String>,
    document: Option<String>,
}

/// `POST /check/get_passport`, `/check/get_photo`, `/check/registration`,
/// `/check/get_person`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DataBody {
    project_id: Option<String>,
    secret: Option<String>,
    attempt_id: Option<String>,
    pinfl: Option<String>,
    birth_date: Option<String>,
}

/// A session to start: a checked start call.
#[derive(Debug)]
pub(super) struct NewSession {
    pub(super) transaction_id: String,
    pub(super) subject: Subject,
    pub(super) lang: Lang,
    pub(super) hooks: Vec<String>,
}

/// A data request, read. `birth_date` is `None` when absent or not `DD.MM.YYYY`; it
/// matters only for the requests that need it.
#[derive(Debug)]
pub(super) struct DataRequest {
    pub(super) attempt_id: String,
    pub(super) pinfl: String,
    pub(super) birth_date: Option<NaiveDate>,
}

/// Reads a start call: a resident's (`foreign` false) or a foreigner's.
pub(super) fn start(body: &[u8], foreign: bool) -> Result<NewSession, Refusal> {
    let body: StartBody =
        serde_json::from_slice(body).map_err(|_| (Failure::IncorrectDataFormat, Lang::Ru))?;
    let lang = match body.lang.as_deref() {
        None | Some("") => Lang::Ru,
        Some(text) => Lang::parse(text).ok_or((Failure::IncorrectDataFormat, Lang::Ru))?,
    };
    let refuse = |failure| (failure, lang);
    if !credentials_ok(body.project_id.as_deref(), body.secret.as_deref()) {
        return Err(refuse(Failure::ProjectNotFound));
    }
    let transaction_id = body
        .transaction_id
        .filter(|t| !t.trim().is_empty() && t.chars().count() <= MAX_TRANSACTION_ID)
        .ok_or(refuse(Failure::IncorrectDataFormat))?;
    let hooks = body
        .hooks
        .ok_or(refuse(Failure::IncorrectDataFormat))?
        .iter()
        .map(|hook| hook.as_str().filter(|url| valid_hook(url)).map(str::to_owned))
        .collect::<Option<Vec<_>>>()
        .ok_or(refuse(Failure::InvalidUrl))?;
    let subject = if foreign {
        let document = body.document.as_deref().unwrap_or_default().trim().to_owned();
        if document.is_empty() || document.chars().count() > MAX_DOCUMENT {
            return Err(refuse(Failure::IncorrectDocument));
        }
        Subject::Foreign { document }
    } else {
        let pinfl = body.pinfl.unwrap_or_default();
        let birth_date = body
            .birth_date
            .as_deref()
            .and_then(parse_birth_date)
            .ok_or(refuse(Failure::IncorrectDataFormat))?;
        check_pinfl(&pinfl, birth_date).map_err(refuse)?;
        Subject::Resident { pinfl, birth_date }
    };
    Ok(NewSession { transaction_id, subject, lang, hooks })
}

/// Reads a data request; whether its credentials are right is the second value. A body
/// that is not JSON is refused at once, in AbleID's default language.
pub(super) fn data(body: &[u8]) -> Result<(DataRequest, bool), Refusal> {
    let body: DataBody =
        serde_json::from_slice(body).map_err(|_| (Failure::IncorrectDataFormat, Lang::Ru))?;
    let credentials = credentials_ok(body.project_id.as_deref(), body.secret.as_deref());
    let request = DataRequest {
        attempt_id: body.attempt_id.unwrap_or_default(),
        pinfl: body.pinfl.unwrap_or_default(),
        birth_date: body.birth_date.as_deref().and_then(parse_birth_date),
    };
    Ok((request, credentials))
}

/// Whether the body names the simulated project with its secret, compared in constant
/// time as a real service would.
fn credentials_ok(project_id: Option<&str>, secret: Option<&str>) -> bool {
    let project: bool = project_id.unwrap_or_default().as_bytes().ct_eq(ABLEID_PROJECT_ID.as_bytes()).into();
    let secret: bool = secret.unwrap_or_default().as_bytes().ct_eq(ABLEID_SECRET.as_bytes()).into();
    project & secret
}

/// A hook AbleID accepts: an absolute http(s) URL with a host.
fn valid_hook(text: &str) -> bool {
    text.len() <= MAX_HOOK_URL
        && Url::parse(text).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
        })
}

/// AbleID's `birthDate`, `DD.MM.YYYY`.
fn parse_birth_date(text: &str) -> Option<NaiveDate> {
    (text.len() == 10).then(|| NaiveDate::parse_from_str(text, "%d.%m.%Y").ok()).flatten()
}

/// The birth date inside a PINFL: the first digit gives the century (1/2: 18xx,
/// 3/4: 19xx, 5/6: 20xx), digits 2–7 are DDMMYY. `None` when it is not a PINFL.
fn pinfl_date(pinfl: &str) -> Option<NaiveDate> {
    let digits = pinfl.as_bytes();
    if digits.len() != 14 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let digit = |i: usize| i32::from(digits[i] - b'0');
    let century = match digit(0) {
        1 | 2 => 1800,
        3 | 4 => 1900,
        5 | 6 => 2000,
        _ => return None,
    };
    let pair = |i: usize| digit(i) * 10 + digit(i + 1);
    NaiveDate::from_ymd_opt(century + pair(5), u32::try_from(pair(3)).ok()?, u32::try_from(pair(1)).ok()?)
}

/// 10103 when `pinfl` is not a PINFL, 10105 when its date is not `birth_date`.
fn check_pinfl(pinfl: &str, birth_date: NaiveDate) -> Result<(), Failure> {
    match pinfl_date(pinfl) {
        None => Err(Failure::IncorrectPinfl),
        Some(date) if date != birth_date => Err(Failure::IncorrectPinflDate),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn date(d: u32, m: u32, y: i32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn bytes(value: Value) -> Vec<u8> {
        serde_json::to_vec(&value).unwrap()
    }

    /// A resident's start body as seed 000 shows it.
    fn resident(pinfl: &str, birth: &str) -> Vec<u8> {
        bytes(json!({"projectId": ABLEID_PROJECT_ID, "secret": ABLEID_SECRET, "transactionId": "t-1",
            "pinfl": pinfl, "birthDate": birth, "lang": "en", "hooks": ["https://example.com/h"]}))
    }

    fn refused(result: Result<NewSession, Refusal>) -> (i64, Lang) {
        let (failure, lang) = result.unwrap_err();
        (failure.code(), lang)
    }

    #[test]
    fn pinfl_dates_follow_the_century_rule() {
        assert_eq!(pinfl_date("31505901234567"), Some(date(15, 5, 1990)));
        assert_eq!(pinfl_date("50102051234567"), Some(date(1, 2, 2005)));
        assert_eq!(pinfl_date("22512991234567"), Some(date(25, 12, 1899)));
        assert_eq!(pinfl_date("73112901234567"), None, "7 is no century");
        assert_eq!(pinfl_date("33102901234567"), None, "31 February");
        assert_eq!(pinfl_date("3150590123456"), None, "13 digits");
        assert_eq!(check_pinfl("31505901234567", date(15, 5, 1990)), Ok(()));
        assert_eq!(check_pinfl("31505901234567", date(16, 5, 1990)), Err(Failure::IncorrectPinflDate));
        assert_eq!(check_pinfl("3150590123456x", date(15, 5, 1990)), Err(Failure::IncorrectPinfl));
    }

    #[test]
    fn a_good_start_reads_every_field() {
        let new = start(&resident("31505901234567", "15.05.1990"), false).unwrap();
        assert_eq!((new.transaction_id.as_str(), new.lang), ("t-1", Lang::En));
        assert_eq!(new.hooks, ["https://example.com/h"]);
        assert_eq!(
            new.subject,
            Subject::Resident { pinfl: "31505901234567".into(), birth_date: date(15, 5, 1990) }
        );
    }

    #[test]
    fn start_refusals_have_the_documented_codes() {
        assert_eq!(refused(start(&resident("31505901234567", "16.05.1990"), false)), (10105, Lang::En));
        assert_eq!(refused(start(&resident("315059012345", "15.05.1990"), false)).0, 10103);
        assert_eq!(refused(start(&resident("31505901234567", "1990-05-15"), false)).0, 20202);
        let wrong_secret = bytes(json!({"projectId": ABLEID_PROJECT_ID, "secret": "nope",
            "transactionId": "t", "document": "FA1", "hooks": []}));
        assert_eq!(refused(start(&wrong_secret, true)), (10202, Lang::Ru));
        let empty_document = bytes(json!({"projectId": ABLEID_PROJECT_ID, "secret": ABLEID_SECRET,
            "transactionId": "t", "document": " ", "hooks": []}));
        assert_eq!(refused(start(&empty_document, true)).0, 10104);
        for hook in [json!("/relative"), json!("ftp://example.com/h"), json!(7)] {
            let bad_hook = bytes(json!({"projectId": ABLEID_PROJECT_ID, "secret": ABLEID_SECRET,
                "transactionId": "t", "document": "FA1", "hooks": [hook]}));
            assert_eq!(refused(start(&bad_hook, true)).0, 10102, "{hook}");
        }
        let no_hooks = bytes(json!({"projectId": ABLEID_PROJECT_ID, "secret": ABLEID_SECRET,
            "transactionId": "t", "document": "FA1"}));
        assert_eq!(refused(start(&no_hooks, true)).0, 20202);
        let long_transaction = bytes(json!({"projectId": ABLEID_PROJECT_ID, "secret": ABLEID_SECRET,
            "transactionId": "x".repeat(101), "document": "FA1", "hooks": []}));
        assert_eq!(refused(start(&long_transaction, true)).0, 20202);
        let bad_lang = bytes(json!({"projectId": ABLEID_PROJECT_ID, "secret": ABLEID_SECRET,
            "transactionId": "t", "document": "FA1", "hooks": [], "lang": "fr"}));
        assert_eq!(refused(start(&bad_lang, true)), (20202, Lang::Ru));
        assert_eq!(refused(start(b"not json", true)), (20202, Lang::Ru));
        assert_eq!(refused(start(b"{\"pinfl\": 31505901234567}", false)).0, 20202, "a PINFL is a string");
    }

    #[test]
    fn data_requests_are_read_leniently_and_checked_later() {
        let (request, credentials) = data(&bytes(json!({"projectId": ABLEID_PROJECT_ID,
            "secret": ABLEID_SECRET, "attemptId": "a1", "pinfl": "31505901234567", "birthDate": "15.05.1990"})))
        .unwrap();
        assert!(credentials);
        assert_eq!((request.attempt_id.as_str(), request.birth_date), ("a1", Some(date(15, 5, 1990))));
        let (request, credentials) = data(b"{\"attemptId\": \"a1\", \"birthDate\": \"soon\"}").unwrap();
        assert!(!credentials);
        assert_eq!(request.birth_date, None);
        assert_eq!(data(b"[]").unwrap_err().0, Failure::IncorrectDataFormat);
    }
}
