//! Property tests (proptest) over what hostile input reaches: hook parsing and signatures,
//! vendor JSON decoding, request validation and resume tokens. Each asserts only outcomes
//! the code documents, and that nothing panics.
//!
//! Case counts are fixed per property (`ProptestConfig::with_cases`), chosen so that all of
//! them together run well over 100,000 cases in a debug build in well under a minute on the
//! project's 2-core machine; [`CASES`] lists them, and `every_property_runs_its_cases`
//! checks that the total stays above the floor.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value};

mod hooks;
mod tokens;
mod validation;
mod vendor_json;

/// Every property and its number of cases.
pub const CASES: &[(&str, u32)] = &[
    ("hooks::signatures", hooks::SIGNATURE_CASES),
    ("hooks::json_depth", hooks::DEPTH_CASES),
    ("hooks::arbitrary_bytes_to_the_receivers", hooks::BYTES_CASES),
    ("hooks::signed_hooks_never_create_or_change_attempts", hooks::SIGNED_CASES),
    ("hooks::completions_settle_once", hooks::COMPLETION_CASES),
    ("vendor_json::accessors", vendor_json::ACCESSOR_CASES),
    ("vendor_json::mappings", vendor_json::MAPPING_CASES),
    ("vendor_json::refusals", vendor_json::REFUSAL_CASES),
    ("validation::pinfl_and_birth_date", validation::PINFL_CASES),
    ("validation::strings", validation::STRING_CASES),
    ("validation::outbound", validation::OUTBOUND_CASES),
    ("tokens::round_trip", tokens::ROUND_TRIP_CASES),
    ("tokens::other_strings", tokens::OTHER_CASES),
];

/// The floor: at least this many cases in all per CI run.
const FLOOR: u32 = 100_000;

#[test]
fn every_property_runs_its_cases() {
    let total: u32 = CASES.iter().map(|(_, cases)| cases).sum();
    assert!(total >= FLOOR, "{total} cases in all, fewer than {FLOOR}");
}

/// A runner for `cases` cases. Failures are not persisted to files: a CI clone is thrown
/// away, and the failing input is printed.
pub fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

/// Runs `test` on `cases` values of `strategy`, failing with the smallest failing input.
pub fn check<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    if let Err(e) = runner(cases).run(&strategy, test) {
        panic!("{e}");
    }
}

/// Any string of up to `max` characters from all of Unicode (cheaper to generate than a
/// regex strategy in a debug build).
pub fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..=max).prop_map(String::from_iter)
}

/// A string of `length` characters from `alphabet`.
pub fn chars(
    alphabet: &'static str,
    length: std::ops::RangeInclusive<usize>,
) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(alphabet.chars().collect::<Vec<_>>()), length)
        .prop_map(String::from_iter)
}

/// Keys the vendors' JSON uses, so that mappings meet their own fields with every type.
pub const VENDOR_KEYS: &[&str] = &[
    "statusCode",
    "type",
    "message",
    "data",
    "attemptId",
    "hash",
    "signature",
    "transactionId",
    "redirect",
    "surname",
    "name",
    "lastName",
    "document",
    "sex",
    "passportGivePlace",
    "passportGivePlaceId",
    "passportDateBegin",
    "passportDateEnd",
    "passportType",
    "crc",
    "photo",
    "person",
    "registration",
    "permanentRegistration",
    "temporaryRegistrations",
    "address",
    "countryId",
    "regionId",
    "liveStatus",
    "birthDate",
    "pinfl",
    "applicantId",
    "status",
    "code",
    "created",
    "completed",
    "metadata",
    "items",
    "attempts",
    "successAttempt",
    "validationStatus",
    "validations",
    "liveness",
    "details",
    "score",
    "verdict",
    "content",
    "faceImageBase64",
    "currentLevel",
    "previousLevel",
    "userId",
    "reason",
    "total",
    "errorType",
    "errorMessage",
    "detail",
    "title",
    "error",
    "error_description",
    "errorCode",
];

/// A JSON scalar with the awkward cases: huge and fractional numbers, numeric and boolean
/// strings, base64 and not, dates, brackets and quotes inside strings.
pub fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f).map(Value::Number)),
        prop::sample::select(vec![
            "",
            " 42 ",
            "-7",
            "1e3",
            "true",
            "false",
            "1",
            "0",
            "aGk=",
            "_-8",
            "not base64!",
            "data:image/jpeg;base64,aGk=",
            "2023-11-17T04:40:31.509932",
            "2022-01-01T00:00:00+03:00",
            "SUCCESS",
            "FACE_NOT_VALID",
            "[{\"",
            "\\\"]}",
            "ё",
            "IDMS_RECV_MVD_IDCARD_CITIZEN",
        ])
        .prop_map(Value::from),
        text(12).prop_map(Value::from),
    ]
}

/// Any JSON value up to `depth` levels, its object keys mostly the vendors' own.
pub fn json(depth: u32) -> impl Strategy<Value = Value> {
    let key = prop_oneof![4 => prop::sample::select(VENDOR_KEYS), 1 => Just("x")].prop_map(str::to_owned);
    scalar().prop_recursive(depth, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Any JSON object (a vendor body is one).
pub fn object(depth: u32) -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((prop::sample::select(VENDOR_KEYS).prop_map(str::to_owned), json(depth)), 0..8)
        .prop_map(|entries| entries.into_iter().collect())
}

/// The nesting depth of a JSON value: objects and arrays count one level each.
pub fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}
