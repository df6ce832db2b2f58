//! Vendor JSON decoding: the lenient accessors read each type as `upstream::json`
//! documents (a missing, `null` or differently typed value is the default, never an
//! error), the mappings built on them never panic, and a refusal is read from any body.

use base64::Engine as _;
use idv_gateway::providers::{ableid, b2core, baf};
use idv_gateway::upstream::Refusal;
use idv_gateway::upstream::http::VendorReply;
use idv_gateway::upstream::json::Obj;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::{VENDOR_KEYS, check, json, object, scalar, text};

pub const ACCESSOR_CASES: u32 = 6_000;
pub const MAPPING_CASES: u32 = 2_000;
pub const REFUSAL_CASES: u32 = 5_000;

/// `string`: strings as they are, numbers and booleans written out, anything else `""`.
fn as_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `i64`, where the documentation fixes it: integers, fractions truncated, numeric strings;
/// `None` for a value that is no number at all. (A number beyond `i64` is left out.)
fn as_i64(value: &Value) -> Option<Option<i64>> {
    match value {
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Some(Some(i)),
            (None, Some(f)) if f.abs() < 9.0e15 => Some(Some(f.trunc() as i64)),
            _ => None,
        },
        Value::String(s) => Some(s.trim().parse().ok()),
        _ => Some(None),
    }
}

fn as_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s == "true" => Some(true),
        Value::String(s) if s == "false" => Some(false),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        _ => None,
    }
}

#[test]
fn accessors() {
    let bytes = prop::collection::vec(any::<u8>(), 0..48);
    let strategy = (
        prop_oneof![3 => scalar(), 1 => json(2)],
        object(1),
        prop::sample::select(VENDOR_KEYS),
        bytes,
        0..3usize,
    );
    check(ACCESSOR_CASES, strategy, |(value, mut around, key, bytes, spelling)| {
        around.insert(key.to_owned(), value.clone());
        let body = Value::Object(around);
        let o = Obj::of(&body);
        let present = !value.is_null();

        prop_assert_eq!(o.get(key).is_some(), present, "null reads as absent");
        prop_assert_eq!(o.opt_string(key), as_string(&value));
        prop_assert_eq!(o.string(key), as_string(&value).unwrap_or_default());
        if let Some(expected) = as_i64(&value) {
            prop_assert_eq!(o.opt_i64(key), expected);
            prop_assert_eq!(o.i64(key), expected.unwrap_or_default());
            let clamped = expected.unwrap_or_default().clamp(i32::MIN.into(), i32::MAX.into()) as i32;
            prop_assert_eq!(o.i32(key), clamped);
        }
        prop_assert_eq!(o.opt_bool(key), as_bool(&value));
        prop_assert_eq!(o.bool(key), as_bool(&value).unwrap_or_default());
        let _ = o.f64(key);
        let _ = o.timestamp(key);
        let _ = (o.string_map(key), o.number_map(key), o.get_any(&[key, "x"]));

        // A nested object only where there is one; anything else reads as empty.
        let nested = o.obj(key);
        prop_assert_eq!(nested.is_object(), value.is_object());
        prop_assert_eq!(o.opt_obj(key).is_some(), value.is_object());
        if !value.is_object() {
            prop_assert_eq!(nested.string("surname"), "");
            prop_assert_eq!(nested.i64("sex"), 0);
        }
        // Arrays: their objects, their scalars; anything else is empty.
        let items = value.as_array().cloned().unwrap_or_default();
        prop_assert_eq!(o.objects(key).count(), items.iter().filter(|v| v.is_object()).count());
        let scalars: Vec<String> = items.iter().filter_map(as_string).collect();
        prop_assert_eq!(o.strings(key), scalars);

        // Base64: absent is empty, a string decodes or is an error, anything else is an error.
        match (&value, o.base64(key)) {
            (Value::Null, decoded) => prop_assert_eq!(decoded, Ok(Vec::new())),
            (Value::String(_), _) => {}
            (_, decoded) => prop_assert!(decoded.is_err()),
        }
        // Whatever alphabet and padding a vendor uses, the bytes come back.
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let text = match spelling {
            0 => STANDARD.encode(&bytes),
            1 => URL_SAFE_NO_PAD.encode(&bytes),
            _ => format!("data:image/jpeg;base64,{}", STANDARD.encode(&bytes)),
        };
        let photo = json!({"photo": text});
        prop_assert_eq!(Obj::of(&photo).base64("photo"), Ok(bytes));
        Ok(())
    });
}

/// Every mapping of every vendor reads any JSON without panicking; AbleID's data hooks
/// read wrong types as defaults.
#[test]
fn mappings() {
    check(MAPPING_CASES, (json(5), object(2)), |(value, passport)| {
        for v in [&value, &json!({"data": value.clone(), "person": value.clone(), "items": [value.clone()]})]
        {
            let o = Obj::of(v);
            let _ = ableid::mapping::passport(o);
            let _ = ableid::mapping::photo(o);
            let _ = ableid::mapping::address(o);
            let _ = ableid::mapping::person(o);
            let _ = baf::mapping::applicant(o);
            let _ = baf::mapping::attempt(o);
            let _ = baf::mapping::attempt_details(o);
            let _ = baf::mapping::validation_result(o);
            let _ = baf::mapping::content(o);
            let _ = b2core::mapping::verification(o);
            let _ = b2core::mapping::page(v);
            let _ = b2core::mapping::step(v);
        }
        let body = Value::Object(passport.clone());
        let read = ableid::mapping::passport(Obj::of(&body));
        let string = |k: &str| passport.get(k).and_then(as_string).unwrap_or_default();
        prop_assert_eq!(&read.surname, &string("surname"));
        prop_assert_eq!(&read.document, &string("document"));
        prop_assert_eq!(&read.raw_passport_type, &string("passportType"));
        if let Some(Some(place)) = passport.get("passportGivePlaceId").map(as_i64).unwrap_or(Some(None)) {
            prop_assert_eq!(read.passport_give_place_id, place);
        }
        let address = ableid::mapping::address(Obj::of(&body));
        prop_assert_eq!(address.address, passport.get("address").and_then(as_string));
        Ok(())
    });
}

/// Any error body, JSON or not: the refusal keeps the HTTP status, takes a vendor type only
/// when it can be an `ErrorInfo.reason`, and bounds the message.
#[test]
fn refusals() {
    let error_body =
        (prop_oneof![any::<i64>().prop_map(Value::from), scalar()], scalar(), scalar(), object(2)).prop_map(
            |(code, kind, message, mut rest)| {
                rest.insert("statusCode".into(), code);
                rest.insert("type".into(), kind);
                rest.insert("message".into(), message);
                Value::Object(rest)
            },
        );
    let body = prop_oneof![
        error_body.prop_map(Ok),
        json(4).prop_map(Ok),
        prop::collection::vec(any::<u8>(), 0..400).prop_map(Err),
        text(600).prop_map(|s| Err(s.into_bytes())),
    ];
    check(REFUSAL_CASES, (100u16..600, body), |(status, body)| {
        let bytes = match &body {
            Ok(value) => serde_json::to_vec(value).unwrap(),
            Err(bytes) => bytes.clone(),
        };
        let reply = VendorReply {
            status: http::StatusCode::from_u16(status).unwrap(),
            body: bytes.clone().into(),
            retry_after: None,
        };
        let refusal = Refusal::read(&reply);
        prop_assert_eq!(refusal.http_status, status);
        if let Some(kind) = &refusal.kind {
            let reason = kind.len() <= 63
                && kind.starts_with(|c: char| c.is_ascii_uppercase())
                && kind.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            prop_assert!(reason, "{kind:?} is no ErrorInfo reason");
        }
        if let Some(message) = &refusal.message {
            prop_assert!(message.chars().count() <= 501, "{} characters", message.chars().count());
        }
        let parsed = serde_json::from_slice::<Value>(&bytes).ok();
        if let Some(Value::Number(code)) = parsed.as_ref().and_then(|v| v.get("statusCode"))
            && let Some(code) = code.as_i64()
        {
            prop_assert_eq!(refusal.code, Some(code));
        }
        // A short plain-text answer is the message.
        if parsed.is_none()
            && let Ok(text) = std::str::from_utf8(&bytes)
        {
            let text = text.trim();
            if !text.is_empty() && text.len() <= 300 && !text.starts_with('<') {
                prop_assert_eq!(refusal.message.as_deref(), Some(text));
            }
        }
        Ok(())
    });
}
