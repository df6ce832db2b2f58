//! AbleID's JSON → proto: the data hooks' payloads (upstreams.md).

use crate::proto::ableid as pb;
use crate::upstream::json::Obj;

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
    fn passport_types_are_open() {
        assert_eq!(passport_type("IDMS_RECV_MVD_IDCARD_CITIZEN"), pb::PassportType::IdmsRecvMvdIdcardCitizen);
        assert_eq!(passport_type("SOMETHING_NEW"), pb::PassportType::Unspecified);
    }
}
