//! What an event may carry, so that nothing acknowledged can later fail to be read.
//!
//! A hook's JSON is kept on its event as a `google.protobuf.Struct`, and every JSON level
//! costs up to three protobuf levels (`Struct` → map entry → `Value`). Decoders stop at a
//! nesting depth: prost at 100, and so do the Java and Python protobuf runtimes the
//! clients use. An event nested deeper than that would be acknowledged, stored, and then
//! refused by every reader of the attempt. So the depth is bounded at ingest, once, here,
//! with room for the messages that wrap an event on the wire
//! (`WatchAttemptResponse` → `AttemptEvent` → `raw`); the tests below check the bound
//! against prost at the boundary.

/// Largest hook body: the photo hook carries a base64 JPEG (a 24 MiB photo is 32 MiB of
/// base64). Photos are kept by reference (`AttemptEvent.media`), so this bounds what is
/// read, not what an event holds.
pub const MAX_HOOK_BYTES: usize = 32 * 1024 * 1024;

/// Largest `ListAttemptEvents` page, encoded: well under gRPC's default 4 MiB receive
/// limit, so a client configured with nothing reads every page.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// Deepest JSON nesting (objects and arrays) a hook may have. AbleID's deepest documented
/// hook (`person`) is 5 levels deep.
pub const MAX_JSON_DEPTH: usize = 24;

/// A body nested deeper than [`MAX_JSON_DEPTH`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooDeep;

/// Checks the nesting depth of a JSON text without parsing it (and without recursion, so
/// the check itself cannot be exhausted). Brackets inside strings do not count. Not a
/// validator: a malformed body passes here and fails the parser next.
pub fn check_json_depth(body: &[u8]) -> Result<(), TooDeep> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in body {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Err(TooDeep);
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::attempts::{AttemptEvent, WatchAttemptResponse, watch_attempt_response::Kind};
    use crate::upstream::json::to_proto_struct;
    use prost::Message;
    use serde_json::{Value, json};

    /// `{"a": {"a": ... [1] ...}}`: `depth` levels, alternating objects and arrays so both
    /// are counted.
    fn nested(depth: usize) -> Value {
        let mut value = json!(1);
        for level in 0..depth {
            value = if level % 2 == 0 { json!([value]) } else { json!({ "a": value }) };
        }
        // The outermost level must be an object, as a hook body is.
        if depth % 2 == 1 { json!({ "a": value }) } else { value }
    }

    fn depth_of(value: &Value) -> usize {
        match value {
            Value::Array(items) => 1 + items.iter().map(depth_of).max().unwrap_or(0),
            Value::Object(map) => 1 + map.values().map(depth_of).max().unwrap_or(0),
            _ => 0,
        }
    }

    #[test]
    fn the_deepest_accepted_body_reads_back_through_the_watch_message() {
        let body = nested(MAX_JSON_DEPTH);
        assert_eq!(depth_of(&body), MAX_JSON_DEPTH);
        let bytes = serde_json::to_vec(&body).unwrap();
        assert_eq!(check_json_depth(&bytes), Ok(()));
        let event = AttemptEvent { raw: body.as_object().map(to_proto_struct), ..AttemptEvent::default() };
        let message = WatchAttemptResponse { resume_token: String::new(), kind: Some(Kind::Event(event)) };
        let decoded = WatchAttemptResponse::decode(message.encode_to_vec().as_slice());
        assert!(decoded.is_ok(), "prost must read the deepest accepted event: {decoded:?}");
    }

    #[test]
    fn one_level_more_is_refused() {
        let bytes = serde_json::to_vec(&nested(MAX_JSON_DEPTH + 1)).unwrap();
        assert_eq!(check_json_depth(&bytes), Err(TooDeep));
    }

    #[test]
    fn the_bound_leaves_a_margin_below_the_decoders_limit() {
        // Deep enough to break prost's (and Java's and Python's) limit of 100: the bound
        // is what keeps such bodies out.
        let body = nested(40);
        let event = AttemptEvent { raw: body.as_object().map(to_proto_struct), ..AttemptEvent::default() };
        let message = WatchAttemptResponse { resume_token: String::new(), kind: Some(Kind::Event(event)) };
        assert!(WatchAttemptResponse::decode(message.encode_to_vec().as_slice()).is_err());
        assert_eq!(check_json_depth(&serde_json::to_vec(&body).unwrap()), Err(TooDeep));
    }

    #[test]
    fn brackets_in_strings_do_not_count() {
        let body = format!(r#"{{"s": "{}", "t": "\"[{{"}}"#, "[".repeat(1000));
        assert_eq!(check_json_depth(body.as_bytes()), Ok(()));
    }
}
