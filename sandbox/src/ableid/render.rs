//! AbleID's JSON: the start reply, the error body, the completion hook and the data
//! hooks, with the field names of seed 000 and `upstreams.md`.

use serde_json::{Value, json};
use url::Url;

use super::catalogue::{Failure, SUCCESS_CODE, SUCCESS_TYPE, success_message};
use super::state::Outcome;
use super::{Data, Lang};
use crate::encoding;
use crate::fake::{self, Identity};

/// `POST /check/start/...` answered with HTTP 201.
pub(super) fn started(attempt_id: &str, full_url: &Url, lang: Lang) -> Value {
    json!({
        "statusCode": SUCCESS_CODE,
        "type": SUCCESS_TYPE,
        "message": success_message(lang),
        "data": {"attemptId": attempt_id, "fullUrl": full_url.as_str(), "lang": lang.as_str()},
    })
}

/// A data request accepted: the data itself goes to the data hook.
pub(super) fn accepted(lang: Lang) -> Value {
    json!({"statusCode": SUCCESS_CODE, "type": SUCCESS_TYPE, "message": success_message(lang), "data": null})
}

/// The error body, answered with HTTP 400.
pub(super) fn refusal(failure: Failure, lang: Lang) -> Value {
    json!({"statusCode": failure.code(), "type": failure.kind(), "data": null, "message": failure.message(lang)})
}

/// The completion hook a session's end posts to each of its hooks. `redirect` is where
/// AbleID sends the person's browser next.
pub(super) fn completion_hook(
    outcome: Outcome,
    attempt_id: &str,
    hash: &str,
    transaction_id: &str,
    redirect: &Url,
    lang: Lang,
) -> Value {
    match outcome {
        Outcome::Rejected(failure) => json!({
            "statusCode": failure.code(),
            "type": failure.kind(),
            "message": failure.message(lang),
            "data": {"attemptId": attempt_id, "hash": hash, "transactionId": transaction_id},
        }),
        Outcome::Approved | Outcome::Pending => json!({
            "statusCode": SUCCESS_CODE,
            "type": SUCCESS_TYPE,
            "message": success_message(lang),
            "data": {
                "redirect": redirect.as_str(),
                "attemptId": attempt_id,
                "hash": hash,
                "transactionId": transaction_id,
            },
        }),
    }
}

/// A data hook's whole body: the envelope and `which` payload about `who`. A foreigner
/// has no registration: that hook carries 10205 instead of data.
pub(super) fn data_hook(
    which: Data,
    attempt_id: &str,
    hash: &str,
    lang: Lang,
    who: &Identity,
    jpeg: &[u8],
) -> Value {
    let payload = match which {
        Data::Passport => passport(attempt_id, who),
        Data::Photo => photo(jpeg),
        Data::Registration if who.foreign => {
            let failure = Failure::RegistrationNotFound;
            return json!({
                "statusCode": failure.code(),
                "type": failure.kind(),
                "message": failure.message(lang),
                "data": {"attemptId": attempt_id, "hash": hash},
            });
        }
        Data::Registration => address(who, false, false),
        Data::Person => person(attempt_id, who),
    };
    json!({
        "statusCode": SUCCESS_CODE,
        "type": SUCCESS_TYPE,
        "message": success_message(lang),
        "data": {"attemptId": attempt_id, "hash": hash, "lang": lang.as_str(), "data": payload},
    })
}

const PASSPORT_GIVE_PLACE: &str = "SINOV TUMANI IIB";
const PASSPORT_GIVE_PLACE_ID: i64 = 26_999;

fn passport_type(who: &Identity) -> &'static str {
    if who.foreign { "IDMS_RECV_MVD_IDCARD_FOREIGN" } else { "IDMS_RECV_MVD_IDCARD_CITIZEN" }
}

fn day(date: chrono::NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// The photo hook's payload: the JPEG in base64 and its CRC-32 in hexadecimal.
fn photo(jpeg: &[u8]) -> Value {
    json!({"crc": format!("{:08X}", fake::crc32(jpeg)), "photo": encoding::encode(jpeg)})
}

fn passport(attempt_id: &str, who: &Identity) -> Value {
    let (begin, end) = who.passport_dates();
    json!({
        "attemptId": attempt_id,
        "surname": who.surname,
        "name": who.name,
        "lastName": who.patronymic,
        "document": who.document,
        "sex": who.sex,
        "passportGivePlace": PASSPORT_GIVE_PLACE,
        "passportGivePlaceId": PASSPORT_GIVE_PLACE_ID,
        "passportDateBegin": day(begin),
        "passportDateEnd": day(end),
        "passportType": passport_type(who),
    })
}

/// A registration address. `full` adds the CBU ids and the registration date (as in
/// the person hook); `temporary` gives a second, different address.
fn address(who: &Identity, full: bool, temporary: bool) -> Value {
    let n = who.number(if temporary { 16 } else { 6 });
    let (region, region_id, district, district_id) = if temporary {
        ("SAMARQAND VILOYATI", 18, "NAMUNA TUMANI", 1899)
    } else {
        ("TOSHKENT SHAHRI", 26, "SINOV TUMANI", 2699)
    };
    let maxala_id = 1000 + (n % 900) as i64;
    let street_id = 50_000 + (n % 10_000) as i64;
    let house = 1 + n % 99;
    let mut value = json!({
        "address": format!("{region}, {district}, NAMUNA MFY, MISOL KO'CHASI, {house}-UY"),
        "cadastre": format!("{}:{:02}:{:02}:{:02}:{:04}", region_id, district_id % 100, n % 50, (n / 50) % 50, house),
        "country": "O'ZBEKISTON",
        "countryId": 182,
        "region": region,
        "regionId": region_id,
        "district": district,
        "districtId": district_id,
        "maxala": "NAMUNA MFY",
        "maxalaId": maxala_id,
        "street": "MISOL KO'CHASI",
        "streetId": street_id,
    });
    if full && let Value::Object(map) = &mut value {
        let (begin, _) = who.passport_dates();
        map.extend([
            ("countryCbuId".to_owned(), json!(860)),
            ("regionCbuId".to_owned(), json!(region_id)),
            ("districtCbuId".to_owned(), json!(district_id)),
            ("maxalaCbuId".to_owned(), json!(maxala_id)),
            ("streetCbuId".to_owned(), json!(street_id)),
            ("registrationDate".to_owned(), json!(day(begin))),
        ]);
    }
    value
}

fn person(attempt_id: &str, who: &Identity) -> Value {
    let (begin, end) = who.passport_dates();
    let (country, country_id, country_cbu, nationality, nationality_id, nationality_cbu, title) =
        if who.foreign {
            ("SANDBOXIYA", 999, 999, "SANDBOXIYALIK", 999, 999, "ID-KARTA (XORIJIY FUQARO)")
        } else {
            ("O'ZBEKISTON", 182, 860, "O'ZBEK", 44, 1, "ID-KARTA (O'ZBEKISTON RESPUBLIKASI FUQAROSI)")
        };
    let registration = if who.foreign {
        json!({"permanentRegistration": null, "temporaryRegistrations": null})
    } else {
        // Some people have a temporary registration and some do not; the PINFL decides.
        let temporary = who.number(10).is_multiple_of(2).then(|| json!([address(who, true, true)]));
        json!({"permanentRegistration": address(who, true, false), "temporaryRegistrations": temporary})
    };
    json!({
        "person": {
            "attemptId": attempt_id,
            "pinfl": who.pinfl,
            "surname": who.surname,
            "name": who.name,
            "lastName": who.patronymic,
            "document": who.document,
            "sex": who.sex,
            "passportGivePlace": PASSPORT_GIVE_PLACE,
            "passportGivePlaceId": PASSPORT_GIVE_PLACE_ID,
            "passportDateBegin": day(begin),
            "passportDateEnd": day(end),
            "passportType": passport_type(who),
            "passportTypeTitle": title,
            "passportTypeId": if who.foreign { 5 } else { 4 },
            "passportTypeCbuId": if who.foreign { 7 } else { 6 },
            "birthDate": day(who.birth_date),
            "birthPlace": if who.foreign { "NAMUNA SHAHRI" } else { "SINOV TUMANI" },
            "birthPlaceId": if who.foreign { 999 } else { 2699 },
            "birthPlaceCbuId": if who.foreign { 999 } else { 2699 },
            "birthCountry": country,
            "birthCountryId": country_id,
            "birthCountryCbuId": country_cbu,
            "liveStatus": true,
            "nationality": nationality,
            "nationalityId": nationality_id,
            "nationalityCbuId": nationality_cbu,
            "citizenship": country,
            "citizenshipId": country_id,
            "citizenshipCbuId": country_cbu,
        },
        "registration": registration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    /// The keys of a JSON object, sorted.
    fn keys(value: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = value.as_object().expect("an object").keys().map(String::as_str).collect();
        keys.sort_unstable();
        keys
    }

    /// Field names as the vendor documents list them, sorted for comparison.
    fn documented(names: &str) -> Vec<&str> {
        let mut names: Vec<&str> = names.split_whitespace().collect();
        names.sort_unstable();
        names
    }

    fn resident() -> Identity {
        Identity::resident("31505901234567", NaiveDate::from_ymd_opt(1990, 5, 15).unwrap())
    }

    fn session_url() -> Url {
        Url::parse("http://127.0.0.1:9/sandbox/ableid/session/att").unwrap()
    }

    #[test]
    fn replies_have_seed_000s_fields() {
        let reply = started("att", &session_url(), Lang::En);
        assert_eq!(keys(&reply), documented("statusCode type message data"));
        assert_eq!(keys(&reply["data"]), documented("attemptId fullUrl lang"));
        assert_eq!((reply["statusCode"].as_i64(), reply["type"].as_str()), (Some(200), Some("SUCCESS")));
        assert_eq!(reply["data"]["fullUrl"], session_url().as_str());
        assert_eq!(
            (reply["data"]["lang"].as_str(), reply["message"].as_str()),
            (Some("en"), Some("Success"))
        );

        let error = refusal(Failure::SessionExpired, Lang::Ru);
        assert_eq!(keys(&error), documented("statusCode type data message"));
        assert_eq!(
            (error["statusCode"].as_i64(), error["type"].as_str()),
            (Some(10101), Some("FACE_SESSION_EXPIRED"))
        );
        assert_eq!(error["data"], Value::Null);
        assert_eq!(error["message"], "Сессия истекла");
    }

    #[test]
    fn completion_hooks_have_the_documented_fields() {
        // upstreams.md: success `{statusCode:200, type:"SUCCESS", message, data:{redirect,
        // attemptId, hash, transactionId}}`; failure e.g. `{statusCode:10203, type:"FACE_NOT_VALID", ...}`.
        let ok = completion_hook(Outcome::Approved, "att", "H", "tx", &session_url(), Lang::En);
        assert_eq!(keys(&ok), documented("statusCode type message data"));
        assert_eq!(keys(&ok["data"]), documented("redirect attemptId hash transactionId"));
        assert_eq!(
            (ok["data"]["hash"].as_str(), ok["data"]["transactionId"].as_str()),
            (Some("H"), Some("tx"))
        );
        let rejected =
            completion_hook(Outcome::Rejected(Failure::NotValid), "att", "H", "tx", &session_url(), Lang::En);
        assert_eq!(
            (rejected["statusCode"].as_i64(), rejected["type"].as_str()),
            (Some(10203), Some("FACE_NOT_VALID"))
        );
        assert_eq!(keys(&rejected["data"]), documented("attemptId hash transactionId"));
    }

    #[test]
    fn data_hooks_have_the_documented_fields() {
        let who = resident();
        let envelope = data_hook(Data::Passport, "att", "H", Lang::Ru, &who, fake::FACE_JPEG);
        assert_eq!(keys(&envelope), documented("statusCode type message data"));
        assert_eq!(keys(&envelope["data"]), documented("attemptId hash lang data"));
        assert_eq!(envelope["data"]["lang"], "ru");
        // upstreams.md, "passport".
        let passport = &envelope["data"]["data"];
        assert_eq!(
            keys(passport),
            documented(
                "attemptId surname name lastName document sex passportGivePlace passportGivePlaceId \
                 passportDateBegin passportDateEnd passportType"
            )
        );
        assert_eq!(
            (passport["sex"].as_i64(), passport["passportGivePlaceId"].as_i64()),
            (Some(1), Some(26_999))
        );
        assert_eq!(passport["passportType"], "IDMS_RECV_MVD_IDCARD_CITIZEN");

        // "registration".
        let registration = data_hook(Data::Registration, "att", "H", Lang::Ru, &who, fake::FACE_JPEG);
        let registration_fields = "address cadastre country countryId region regionId district districtId \
             maxala maxalaId street streetId";
        assert_eq!(keys(&registration["data"]["data"]), documented(registration_fields));

        // "person".
        let person = data_hook(Data::Person, "att", "H", Lang::Ru, &who, fake::FACE_JPEG);
        let person = &person["data"]["data"];
        assert_eq!(keys(person), documented("person registration"));
        assert_eq!(
            keys(&person["person"]),
            documented(
                "attemptId pinfl surname name lastName document sex passportGivePlace passportGivePlaceId \
                 passportDateBegin passportDateEnd passportType passportTypeTitle passportTypeId \
                 passportTypeCbuId birthDate birthPlace birthPlaceId birthPlaceCbuId birthCountry \
                 birthCountryId birthCountryCbuId liveStatus nationality nationalityId nationalityCbuId \
                 citizenship citizenshipId citizenshipCbuId"
            )
        );
        assert_eq!(person["person"]["birthDate"], "1990-05-15", "YYYY-MM-DD");
        assert_eq!(keys(&person["registration"]), documented("permanentRegistration temporaryRegistrations"));
        assert_eq!(
            keys(&person["registration"]["permanentRegistration"]),
            documented(
                "address cadastre country countryId countryCbuId region regionId regionCbuId district \
                 districtId districtCbuId maxala maxalaId maxalaCbuId street streetId streetCbuId \
                 registrationDate"
            )
        );

        // "photo": `{crc, photo}` with `photo` a base64 JPEG.
        let photo = data_hook(Data::Photo, "att", "H", Lang::Ru, &who, fake::FACE_JPEG);
        let photo = &photo["data"]["data"];
        assert_eq!(keys(photo), documented("crc photo"));
        let jpeg = encoding::decode(photo["photo"].as_str().unwrap()).unwrap();
        assert!(jpeg.starts_with(&[0xff, 0xd8, 0xff]));
        assert_eq!(photo["crc"], format!("{:08X}", fake::crc32(&jpeg)));
    }

    #[test]
    fn foreigners_have_no_registration() {
        let who = Identity::foreigner("FA1234567");
        let hook = data_hook(Data::Registration, "att", "H", Lang::En, &who, fake::FACE_JPEG);
        assert_eq!(
            (hook["statusCode"].as_i64(), hook["type"].as_str()),
            (Some(10205), Some("FACE_REGISTRATION_NOT_FOUND"))
        );
        assert_eq!(hook["data"], json!({"attemptId": "att", "hash": "H"}));
        let person = data_hook(Data::Person, "att", "H", Lang::En, &who, fake::FACE_JPEG);
        assert_eq!(person["data"]["data"]["person"]["document"], "FA1234567");
        assert_eq!(person["data"]["data"]["person"]["passportType"], "IDMS_RECV_MVD_IDCARD_FOREIGN");
        assert_eq!(person["data"]["data"]["registration"]["permanentRegistration"], Value::Null);
    }
}
