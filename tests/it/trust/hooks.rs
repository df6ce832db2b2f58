//! Findings 2 and 3: AbleID's hook signature covers only the attempt id and is the same for
//! every hook of an attempt, so whoever saw one hook could (2) post a passport hook with
//! invented data, re-send the completion edited, or sign a hook for an attempt the gateway
//! never started; and (3) a hook nested 60 deep was acknowledged and then made the attempt
//! unreadable. Each is tried again here through the real HTTP listener, with valid
//! signatures, and the event log is read back through gRPC.

use idv_gateway::attempts::limits::MAX_JSON_DEPTH;
use idv_gateway::proto::attempts::{
    self as pb, AttemptState, attempt_event::Kind, get_attempt_request, list_attempt_events_request,
};
use serde_json::{Value, json};
use tonic::Code;

use crate::harness::{FakeVendors, TestGateway, error_parts, next_event, next_message};
use crate::watch::{
    client, completion, data_hook, gateway_with_sessions, kind, request, sign, start_session, watch,
};

/// Posts a hook; the HTTP status and the body's `message`.
async fn post(gateway: &TestGateway, path: &str, body: &Value) -> (u16, String) {
    let response = reqwest::Client::new().post(gateway.http_url(path)).json(body).send().await.unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["message"].as_str().unwrap_or_default().to_owned())
}

async fn events(gateway: &TestGateway, attempt_id: &str) -> Vec<pb::AttemptEvent> {
    client(gateway)
        .list_attempt_events(pb::ListAttemptEventsRequest {
            attempt: Some(list_attempt_events_request::Attempt::AbleidAttemptId(attempt_id.into())),
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events
}

async fn kinds(gateway: &TestGateway, attempt_id: &str) -> Vec<&'static str> {
    events(gateway, attempt_id).await.iter().map(kind).collect()
}

async fn attempt(gateway: &TestGateway, attempt_id: &str) -> Result<pb::Attempt, tonic::Status> {
    client(gateway)
        .get_attempt(pb::GetAttemptRequest {
            attempt: Some(get_attempt_request::Attempt::AbleidAttemptId(attempt_id.into())),
        })
        .await
        .map(|r| r.into_inner().attempt.unwrap())
}

fn invented_passport(attempt_id: &str) -> Value {
    json!({"attemptId": attempt_id, "surname": "INVENTED", "name": "PERSON", "document": "ZZ0000000",
        "passportType": "IDMS_RECV_MVD_IDCARD_CITIZEN"})
}

/// The payload of each data hook kind.
fn payload(kind: &str, attempt_id: &str) -> Value {
    match kind {
        "passport" => invented_passport(attempt_id),
        "photo" => json!({"crc": "1", "photo": "/9j/4AAQ"}),
        "registration" => json!({"address": "Invented street 1", "country": "UZ"}),
        _ => json!({"person": {"attemptId": attempt_id, "pinfl": "31205901234567", "surname": "INVENTED"}}),
    }
}

const DATA_KINDS: [&str; 4] = ["passport", "photo", "registration", "person"];

#[tokio::test]
async fn a_forged_data_hook_without_an_outstanding_request_is_refused() {
    let fake = gateway_with_sessions(|_| {}).await;
    let gateway = &fake.gateway;
    start_session(&fake, "att-forge", "tx-forge").await;

    // The finding: a validly signed passport hook with invented data, nobody having asked.
    for kind in DATA_KINDS {
        let hook = data_hook("att-forge", payload(kind, "att-forge"));
        assert_eq!(post(gateway, &format!("/hooks/ableid/{kind}"), &hook).await.0, 403, "{kind}");
    }
    // A failure hook of a data kind is data too.
    let failure = json!({"statusCode": 10205, "type": "FACE_REGISTRATION_NOT_FOUND", "message": "none",
        "data": {"attemptId": "att-forge", "hash": sign("att-forge")}});
    assert_eq!(post(gateway, "/hooks/ableid/registration", &failure).await.0, 403);
    assert_eq!(kinds(gateway, "att-forge").await, ["started"], "nothing new in the log");

    // With a request outstanding, one hook answers it and uses it up: a second, invented
    // one is refused like the first.
    request(&fake, "att-forge", "passport").await;
    let real = data_hook("att-forge", json!({"attemptId": "att-forge", "surname": "REAL"}));
    assert_eq!(post(gateway, "/hooks/ableid/passport", &real).await, (200, "stored".into()));
    let forged = data_hook("att-forge", invented_passport("att-forge"));
    assert_eq!(post(gateway, "/hooks/ableid/passport", &forged).await.0, 403);
    // A request of one kind does not open another.
    request(&fake, "att-forge", "photo").await;
    assert_eq!(post(gateway, "/hooks/ableid/passport", &forged).await.0, 403);

    let events = events(gateway, "att-forge").await;
    assert_eq!(events.iter().map(kind).collect::<Vec<_>>(), ["started", "passport"]);
    let Some(Kind::Passport(passport)) = &events[1].kind else { panic!("{:?}", events[1]) };
    assert_eq!(passport.surname, "REAL");
}

#[tokio::test]
async fn an_edited_resent_completion_is_a_conflict_not_a_second_result() {
    let fake = gateway_with_sessions(|_| {}).await;
    let gateway = &fake.gateway;
    start_session(&fake, "att-edit", "tx-edit").await;
    let original = completion("att-edit");
    assert_eq!(post(gateway, "/hooks/ableid/complete", &original).await, (200, "stored".into()));
    let settled = attempt(gateway, "att-edit").await.unwrap();
    assert_eq!((settled.state(), settled.result_code), (AttemptState::Succeeded, 200));

    // Re-sent with the result turned around, or with another redirect: refused.
    let mut failed = original.clone();
    failed["statusCode"] = json!(10203);
    failed["type"] = json!("FACE_NOT_VALID");
    let mut redirected = original.clone();
    redirected["data"]["redirect"] = json!("https://evil.example.com/");
    for edited in [&failed, &redirected] {
        assert_eq!(post(gateway, "/hooks/ableid/complete", edited).await.0, 409);
    }
    // The same completion again is a redelivery: acknowledged, stored once.
    assert_eq!(post(gateway, "/hooks/ableid/complete", &original).await, (200, "duplicate".into()));

    let after = attempt(gateway, "att-edit").await.unwrap();
    assert_eq!(
        (after.state(), after.result_code, after.result_type.as_str(), after.last_sequence),
        (settled.state(), settled.result_code, settled.result_type.clone().as_str(), settled.last_sequence)
    );
    let events = events(gateway, "att-edit").await;
    assert_eq!(events.iter().map(kind).collect::<Vec<_>>(), ["started", "completed"]);
    let Some(Kind::Completed(completed)) = &events[1].kind else { panic!() };
    assert_eq!(completed.redirect, "https://shop.example.com/done");
}

#[tokio::test]
async fn a_signed_hook_for_an_attempt_never_started_is_not_found() {
    let fake = FakeVendors::start().await;
    let gateway = &fake.gateway;
    // The finding: a signed completion made an attempt nobody started, as SUCCEEDED.
    assert_eq!(post(gateway, "/hooks/ableid/complete", &completion("att-never")).await.0, 404);
    let failed = json!({"statusCode": 10203, "type": "FACE_NOT_VALID", "message": "no",
        "data": {"attemptId": "att-never", "hash": sign("att-never")}});
    assert_eq!(post(gateway, "/hooks/ableid/complete", &failed).await.0, 404);
    // A data hook for it is refused the same way: the attempt is unknown.
    let passport = data_hook("att-never", invented_passport("att-never"));
    assert_eq!(post(gateway, "/hooks/ableid/passport", &passport).await.0, 404);

    let status = attempt(gateway, "att-never").await.unwrap_err();
    let error = error_parts(&status);
    assert_eq!((error.code, error.reason.as_str()), (Code::NotFound, "ATTEMPT_NOT_FOUND"));
    assert!(fake.requests().await.is_empty(), "the gateway did not ask AbleID about it either");
}

/// `{"d": {"d": ... {"surname": "DEEP"} ...}}`: `levels` nested objects.
fn nested(levels: usize) -> Value {
    let mut value = json!({"surname": "DEEP"});
    for _ in 1..levels {
        value = json!({ "d": value });
    }
    value
}

/// The nesting depth of a JSON value (objects and arrays), as `check_json_depth` counts.
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// A signed passport hook nested exactly `total` levels deep, envelope included.
fn hook_of_depth(attempt_id: &str, total: usize) -> Value {
    // The envelope and `data` are two levels above the payload.
    let hook = data_hook(attempt_id, nested(total - 2));
    assert_eq!(depth(&hook), total);
    hook
}

/// Finding 3, at the boundary of the shared limit: one level over it is refused before
/// anything is stored; exactly at it is stored and reads back through both readers.
#[tokio::test]
async fn a_nesting_bomb_is_refused_and_the_deepest_allowed_hook_reads_back() {
    let fake = gateway_with_sessions(|_| {}).await;
    let gateway = &fake.gateway;
    start_session(&fake, "att-deep", "tx-deep").await;
    request(&fake, "att-deep", "passport").await;

    let over = hook_of_depth("att-deep", MAX_JSON_DEPTH + 1);
    assert_eq!(post(gateway, "/hooks/ableid/passport", &over).await.0, 413);
    // The body: a data hook 60 levels deep.
    let bomb = hook_of_depth("att-deep", 60);
    assert_eq!(post(gateway, "/hooks/ableid/passport", &bomb).await.0, 413);
    assert_eq!(kinds(gateway, "att-deep").await, ["started"], "nothing stored");

    // The refusals did not use up the request: the deepest allowed hook answers it.
    let deepest = hook_of_depth("att-deep", MAX_JSON_DEPTH);
    assert_eq!(post(gateway, "/hooks/ableid/passport", &deepest).await, (200, "stored".into()));

    let events = events(gateway, "att-deep").await;
    assert_eq!(events.iter().map(kind).collect::<Vec<_>>(), ["started", "passport"]);
    let raw = events[1].raw.as_ref().expect("the hook is kept");
    assert_eq!(struct_depth(raw), MAX_JSON_DEPTH, "the whole body is kept, as deep as it came");

    // A watcher reads it back too, from the start and from a resume token.
    let mut watcher = client(gateway);
    let mut stream = watch(&mut watcher, "att-deep", "", true).await.unwrap();
    next_message(&mut stream).await.expect("the snapshot");
    let (started, token) = next_event(&mut stream).await;
    let (passport, _) = next_event(&mut stream).await;
    assert_eq!((kind(&started), kind(&passport)), ("started", "passport"));
    assert_eq!(passport.raw, events[1].raw);
    drop(stream);
    let mut stream = watch(&mut watcher, "att-deep", &token, true).await.unwrap();
    let (again, _) = next_event(&mut stream).await;
    assert_eq!((again.sequence, kind(&again)), (2, "passport"));
}

/// The JSON depth a `Struct` holds (a `Struct` or list is one level, as in JSON).
fn struct_depth(value: &prost_types::Struct) -> usize {
    use prost_types::value::Kind;
    fn of(value: &prost_types::Value) -> usize {
        match &value.kind {
            Some(Kind::StructValue(s)) => struct_depth(s),
            Some(Kind::ListValue(list)) => 1 + list.values.iter().map(of).max().unwrap_or(0),
            _ => 0,
        }
    }
    1 + value.fields.values().map(of).max().unwrap_or(0)
}
