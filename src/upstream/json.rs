//! Lenient reading of vendor JSON.
//!
//! The vendors' documents disagree with themselves (`userId` is a string and a number,
//! ids arrive as numbers or strings, `null` stands for "absent"), so fields are read by
//! accessor: a missing, `null` or differently typed value reads as the default instead
//! of failing the whole call. Only a body that is not JSON at all is an error.

use std::collections::HashMap;

use base64::Engine as _;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Value};

/// A JSON object, or nothing; every accessor of nothing reads the default.
#[derive(Debug, Clone, Copy)]
pub struct Obj<'a>(Option<&'a Map<String, Value>>);

impl<'a> Obj<'a> {
    /// Views a value as an object (any non-object is empty).
    pub fn of(value: &'a Value) -> Self {
        Self(value.as_object())
    }

    /// Whether this is a JSON object at all.
    pub fn is_object(&self) -> bool {
        self.0.is_some()
    }

    /// The raw value under `key`, `null` read as absent.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.0?.get(key).filter(|v| !v.is_null())
    }

    /// The first key present, for fields with several spellings.
    pub fn get_any(&self, keys: &[&str]) -> Option<&'a Value> {
        keys.iter().find_map(|k| self.get(k))
    }

    /// A string; numbers and booleans are written out.
    pub fn opt_string(&self, key: &str) -> Option<String> {
        scalar_string(self.get(key)?)
    }

    /// A string, `""` when absent.
    pub fn string(&self, key: &str) -> String {
        self.opt_string(key).unwrap_or_default()
    }

    /// An integer; numeric strings are read, fractions truncated.
    pub fn opt_i64(&self, key: &str) -> Option<i64> {
        integer(self.get(key)?)
    }

    /// An integer, 0 when absent.
    pub fn i64(&self, key: &str) -> i64 {
        self.opt_i64(key).unwrap_or_default()
    }

    /// A 32-bit integer, saturating, 0 when absent.
    pub fn i32(&self, key: &str) -> i32 {
        self.i64(key).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
    }

    /// A number, 0 when absent.
    pub fn f64(&self, key: &str) -> f64 {
        match self.get(key) {
            Some(Value::Number(n)) => n.as_f64().unwrap_or_default(),
            Some(Value::String(s)) => s.trim().parse().unwrap_or_default(),
            _ => 0.0,
        }
    }

    /// A boolean; `"true"`/`"false"` strings are read.
    pub fn opt_bool(&self, key: &str) -> Option<bool> {
        match self.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => s.parse().ok(),
            Value::Number(n) => n.as_i64().map(|n| n != 0),
            _ => None,
        }
    }

    /// A boolean, false when absent.
    pub fn bool(&self, key: &str) -> bool {
        self.opt_bool(key).unwrap_or_default()
    }

    /// A nested object, empty when absent.
    pub fn obj(&self, key: &str) -> Obj<'a> {
        Obj(self.get(key).and_then(Value::as_object))
    }

    /// A nested object, `None` when absent or not an object.
    pub fn opt_obj(&self, key: &str) -> Option<Obj<'a>> {
        self.get(key).and_then(Value::as_object).map(|m| Obj(Some(m)))
    }

    /// The objects of an array, skipping anything else.
    pub fn objects(&self, key: &str) -> impl Iterator<Item = Obj<'a>> + 'a {
        self.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_object().map(|m| Obj(Some(m))))
    }

    /// The scalars of an array, as strings.
    pub fn strings(&self, key: &str) -> Vec<String> {
        self.get(key).and_then(Value::as_array).into_iter().flatten().filter_map(scalar_string).collect()
    }

    /// An object of scalars, as a string map.
    pub fn string_map(&self, key: &str) -> HashMap<String, String> {
        self.get(key)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), scalar_string(v)?)))
            .collect()
    }

    /// An object of numbers, as a number map.
    pub fn number_map(&self, key: &str) -> HashMap<String, f64> {
        self.get(key)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_f64()?)))
            .collect()
    }

    /// A timestamp: RFC 3339, or without a zone (BAF), read as UTC.
    pub fn timestamp(&self, key: &str) -> Option<prost_types::Timestamp> {
        parse_time(self.get(key)?.as_str()?).map(timestamp)
    }

    /// Base64 bytes (standard or URL-safe, padded or not, with or without a `data:`
    /// prefix); empty when absent. A value that is not base64 is an error: the caller
    /// would otherwise get an empty image and think there was none.
    pub fn base64(&self, key: &str) -> Result<Vec<u8>, String> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::String(s)) => decode_base64(s).ok_or_else(|| format!("{key} is not base64")),
            Some(_) => Err(format!("{key} is not a string")),
        }
    }
}

fn scalar_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Decodes base64 in any of the common alphabets.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let text = match text.split_once(";base64,") {
        Some((prefix, rest)) if prefix.starts_with("data:") => rest,
        _ => text,
    };
    let text: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD].iter().find_map(|engine| engine.decode(&text).ok())
}

/// Encodes bytes as standard padded base64, as the vendors expect.
pub fn encode_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Parses RFC 3339, or a zone-less date-time read as UTC.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

/// A chrono time as a protobuf timestamp.
pub fn timestamp(time: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds: time.timestamp(), nanos: time.timestamp_subsec_nanos() as i32 }
}

/// A JSON value as a protobuf `Value`, for vendor data the protos leave open.
pub fn to_proto_value(value: &Value) -> prost_types::Value {
    use prost_types::value::Kind;
    let kind = match value {
        Value::Null => Kind::NullValue(0),
        Value::Bool(b) => Kind::BoolValue(*b),
        Value::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or_default()),
        Value::String(s) => Kind::StringValue(s.clone()),
        Value::Array(items) => {
            Kind::ListValue(prost_types::ListValue { values: items.iter().map(to_proto_value).collect() })
        }
        Value::Object(map) => Kind::StructValue(to_proto_struct(map)),
    };
    prost_types::Value { kind: Some(kind) }
}

/// A JSON object as a protobuf `Struct`.
pub fn to_proto_struct(map: &Map<String, Value>) -> prost_types::Struct {
    prost_types::Struct { fields: map.iter().map(|(k, v)| (k.clone(), to_proto_value(v))).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_are_read_leniently() {
        let v = json!({"a": "12", "b": 7, "c": null, "d": true, "e": 1.9, "f": {"x": 1}, "g": [1, "y", {}]});
        let o = Obj::of(&v);
        assert_eq!(o.i64("a"), 12);
        assert_eq!(o.string("b"), "7");
        assert_eq!(o.opt_string("c"), None);
        assert_eq!(o.opt_bool("d"), Some(true));
        assert_eq!(o.i64("e"), 1);
        assert_eq!(o.obj("f").i64("x"), 1);
        assert_eq!(o.strings("g"), ["1", "y"]);
        assert_eq!(o.i64("missing"), 0);
        assert_eq!(Obj::of(&json!([1])).string("a"), "");
    }

    #[test]
    fn zone_less_times_are_utc() {
        let t = parse_time("2023-02-06T00:32:22.9260859").unwrap();
        assert_eq!(t.to_rfc3339(), "2023-02-06T00:32:22.926085900+00:00");
        let t = parse_time("2022-01-01T00:00:00+03:00").unwrap();
        assert_eq!(t.timestamp(), 1640984400);
        assert!(parse_time("yesterday").is_none());
    }

    #[test]
    fn base64_in_any_alphabet() {
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert_eq!(decode_base64("aGk").unwrap(), b"hi");
        assert_eq!(decode_base64("data:image/jpeg;base64,aGk=").unwrap(), b"hi");
        assert_eq!(decode_base64("_-8").unwrap(), [0xff, 0xef]);
        assert!(decode_base64("not base64!").is_none());
    }
}
