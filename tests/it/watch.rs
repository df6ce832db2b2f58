//! WatchAttempt end to end: signed hooks posted to the gateway's real HTTP listener,
//! events read through a real gRPC client.

use std::time::Duration;

use futures_util::StreamExt;
use idv_gateway::proto::ableid as ableid_pb;
use idv_gateway::proto::attempts::{
    self as pb, AttemptState, attempt_event::Kind, watch_attempt_request, watch_attempt_response,
};
use idv_gateway::proto::baf as baf_pb;
use idv_gateway::providers::ableid::client::hook_signature;
use serde_json::{Value, json};
use tonic::Code;
use tonic::transport::Channel;

use crate::harness::{FakeVendors, PROJECT_ID, SECRET, TestGateway, error_parts, next_event, next_message};

pub(crate) type Client = pb::attempt_service_client::AttemptServiceClient<Channel>;
type Stream = crate::harness::WatchStream;

const WAIT: Duration = crate::harness::WATCH_WAIT;

pub(crate) fn client(gateway: &TestGateway) -> Client {
    Client::new(gateway.channel.clone())
}

pub(crate) fn sign(attempt_id: &str) -> String {
    hook_signature(PROJECT_ID, &SECRET.into(), attempt_id)
}

/// Posts a hook to the gateway and returns the HTTP status.
pub(crate) async fn post_hook(gateway: &TestGateway, path: &str, body: &Value) -> u16 {
    let response =
        reqwest::Client::new().post(gateway.http_url(path)).json(body).send().await.expect("hook delivered");
    response.status().as_u16()
}

pub(crate) fn completion(attempt_id: &str) -> Value {
    json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
        "data": {"redirect": "https://shop.example.com/done", "attemptId": attempt_id, "hash": sign(attempt_id),
            "transactionId": "tx-1"}})
}

pub(crate) fn data_hook(attempt_id: &str, payload: Value) -> Value {
    json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
        "data": {"attemptId": attempt_id, "hash": sign(attempt_id), "lang": "ru", "data": payload}})
}

pub(crate) async fn watch(
    client: &mut Client,
    attempt_id: &str,
    token: &str,
    follow: bool,
) -> Result<Stream, tonic::Status> {
    let request = pb::WatchAttemptRequest {
        attempt: Some(watch_attempt_request::Attempt::AbleidAttemptId(attempt_id.into())),
        resume_token: token.into(),
        follow_after_terminal: follow,
    };
    client.watch_attempt(request).await.map(|r| r.into_inner())
}

/// The next message that is not a heartbeat.
pub(crate) async fn next(stream: &mut Stream) -> Option<pb::WatchAttemptResponse> {
    next_message(stream).await
}

/// Reads until the stream ends with OK; returns the events on the way.
pub(crate) async fn rest(stream: &mut Stream) -> Vec<pb::AttemptEvent> {
    let mut events = Vec::new();
    while let Some(message) = next(stream).await {
        if let Some(watch_attempt_response::Kind::Event(event)) = message.kind {
            events.push(event);
        }
    }
    events
}

pub(crate) fn kind(event: &pb::AttemptEvent) -> &'static str {
    event.kind.as_ref().expect("kind").field_name()
}

/// A gateway whose fake AbleID starts sessions with the given ids, one per start call.
pub(crate) async fn gateway_with_sessions(
    adjust: impl FnOnce(&mut idv_gateway::config::Config),
) -> FakeVendors {
    FakeVendors::start_with(|config| {
        config.server.heartbeat_secs = 1;
        adjust(config);
    })
    .await
}

pub(crate) async fn start_session(
    fake: &FakeVendors,
    attempt_id: &str,
    transaction_id: &str,
) -> ableid_pb::StartResidentCheckResponse {
    fake.server.reset().await;
    fake.reply(
        "POST",
        "/ableid/check/start/second",
        201,
        json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
            "data": {"attemptId": attempt_id, "fullUrl": format!("https://ableid.test/{attempt_id}"), "lang": "ru"}}),
    )
    .await;
    fake.gateway
        .ableid()
        .start_resident_check(ableid_pb::StartResidentCheckRequest {
            transaction_id: transaction_id.into(),
            pinfl: "31205901234567".into(),
            birth_date: "12.05.1990".into(),
            lang: "ru".into(),
            hooks: vec![],
        })
        .await
        .unwrap()
        .into_inner()
}

/// The bytes of a media file of an attempt, downloaded in chunks.
async fn download(gateway: &TestGateway, attempt_id: &str, media_id: &str) -> Vec<u8> {
    let mut stream = client(gateway)
        .download_attempt_media(pb::DownloadAttemptMediaRequest {
            attempt: Some(pb::download_attempt_media_request::Attempt::AbleidAttemptId(attempt_id.into())),
            media_id: media_id.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        assert!(chunk.chunk.len() <= 64 * 1024);
        bytes.extend(chunk.chunk);
    }
    bytes
}

/// Asks for data of `kind` through the gateway, so that one data hook of that kind is
/// awaited for the attempt.
pub(crate) async fn request(fake: &FakeVendors, attempt_id: &str, kind: &str) {
    let ok = json!({"statusCode": 200, "type": "SUCCESS", "message": "ok", "data": null});
    let mut client = fake.gateway.ableid();
    let attempt_id = attempt_id.to_owned();
    let (pinfl, birth_date) = ("31205901234567".to_owned(), "12.05.1990".to_owned());
    let path = match kind {
        "passport" => "get_passport",
        "photo" => "get_photo",
        "registration" => "registration",
        "person" => "get_person",
        other => panic!("no data request {other}"),
    };
    fake.reply("POST", &format!("/ableid/check/{path}"), 200, ok).await;
    let sent = match kind {
        "passport" => client
            .request_passport(ableid_pb::RequestPassportRequest { attempt_id, pinfl, birth_date })
            .await
            .map(drop),
        "photo" => client.request_photo(ableid_pb::RequestPhotoRequest { attempt_id }).await.map(drop),
        "registration" => client
            .request_registration(ableid_pb::RequestRegistrationRequest { attempt_id, pinfl })
            .await
            .map(drop),
        _ => client
            .request_person(ableid_pb::RequestPersonRequest { attempt_id, pinfl, birth_date })
            .await
            .map(drop),
    };
    sent.expect("data request accepted");
}

#[tokio::test]
async fn every_hook_kind_reaches_a_watcher() {
    let fake = gateway_with_sessions(|_| {}).await;
    let gateway = &fake.gateway;
    start_session(&fake, "att-kinds", "tx-kinds").await;
    let mut client = client(gateway);
    let mut stream = watch(&mut client, "att-kinds", "", true).await.unwrap();

    let Some(watch_attempt_response::Kind::Attempt(snapshot)) = next(&mut stream).await.unwrap().kind else {
        panic!("a watch without a token starts with the attempt");
    };
    assert_eq!(
        (snapshot.state(), snapshot.url.as_str()),
        (AttemptState::Pending, "https://ableid.test/att-kinds")
    );
    let (started, _) = next_event(&mut stream).await;
    let Some(Kind::Started(details)) = &started.kind else { panic!("{started:?}") };
    assert_eq!((details.transaction_id.as_str(), details.lang.as_str()), ("tx-kinds", "ru"));

    assert_eq!(post_hook(gateway, "/hooks/ableid/complete", &completion("att-kinds")).await, 200);
    let (event, _) = next_event(&mut stream).await;
    let Some(Kind::Completed(completed)) = &event.kind else { panic!("{event:?}") };
    assert_eq!((completed.status_code, completed.transaction_id.as_str()), (200, "tx-1"));
    assert_eq!((event.sequence, event.attempt_state()), (2, AttemptState::Succeeded));
    assert!(event.raw.as_ref().unwrap().fields.contains_key("data"));
    let raw_data = format!("{:?}", event.raw.as_ref().unwrap().fields["data"]);
    assert!(!raw_data.contains(&sign("att-kinds")), "the signature is not kept");

    let passport = json!({"attemptId": "att-kinds", "surname": "TESTOV", "name": "TEST", "lastName": "T",
        "document": "AA1234567", "sex": 1, "passportGivePlace": "X", "passportGivePlaceId": 26,
        "passportDateBegin": "2020-01-01", "passportDateEnd": "2030-01-01",
        "passportType": "IDMS_RECV_MVD_IDCARD_CITIZEN"});
    let photo = json!({"crc": 12345, "photo": "/9j/4AAQ"});
    let registration = json!({"address": "Street 1", "cadastre": null, "country": "UZ", "countryId": "182",
        "region": "Tashkent", "regionId": 26});
    let person = json!({"person": {"attemptId": "att-kinds", "pinfl": "31205901234567", "surname": "TESTOV",
            "birthDate": "1990-05-12", "liveStatus": true, "passportType": "SOMETHING_NEW"},
        "registration": {"permanentRegistration": {"address": "Street 1", "registrationDate": "2001-01-01"},
            "temporaryRegistrations": null}});
    for (path, payload) in
        [("passport", passport), ("photo", photo), ("registration", registration), ("person", person)]
    {
        request(&fake, "att-kinds", path).await;
        let status =
            post_hook(gateway, &format!("/hooks/ableid/{path}"), &data_hook("att-kinds", payload)).await;
        assert_eq!(status, 200, "{path}");
    }
    let failure = json!({"statusCode": 10205, "type": "FACE_REGISTRATION_NOT_FOUND", "message": "none",
        "data": {"attemptId": "att-kinds", "hash": sign("att-kinds")}});
    request(&fake, "att-kinds", "registration").await;
    assert_eq!(post_hook(gateway, "/hooks/ableid/registration", &failure).await, 200);

    let (event, _) = next_event(&mut stream).await;
    let Some(Kind::Passport(p)) = &event.kind else { panic!("{event:?}") };
    assert_eq!((p.surname.as_str(), p.passport_give_place_id), ("TESTOV", 26));
    assert_eq!(p.passport_type(), ableid_pb::PassportType::IdmsRecvMvdIdcardCitizen);
    let (event, _) = next_event(&mut stream).await;
    let Some(Kind::Photo(photo)) = &event.kind else { panic!("{event:?}") };
    // The photo travels by reference: the event names it, the bytes are downloaded.
    assert_eq!((photo.crc.as_str(), photo.photo.len()), ("12345", 0));
    let media = &event.media[0];
    assert_eq!(
        (media.field.as_str(), media.content_type.as_str(), media.size_bytes),
        ("photo.photo", "image/jpeg", 6)
    );
    assert_eq!(download(gateway, "att-kinds", &media.media_id).await, [0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]);
    let raw = format!("{:?}", event.raw);
    assert!(raw.contains(&format!("media:{}", media.media_id)) && !raw.contains("/9j/4AAQ"), "stored once");
    let (event, _) = next_event(&mut stream).await;
    let Some(Kind::Registration(address)) = &event.kind else { panic!("{event:?}") };
    assert_eq!((address.country_id, address.cadastre.as_deref()), (Some(182), None));
    let (event, _) = next_event(&mut stream).await;
    let Some(Kind::Person(person)) = &event.kind else { panic!("{event:?}") };
    let details = person.person.as_ref().unwrap();
    assert_eq!((details.live_status, details.raw_passport_type.as_str()), (Some(true), "SOMETHING_NEW"));
    assert!(person.registration.as_ref().unwrap().temporary_registrations.is_empty());
    let (event, _) = next_event(&mut stream).await;
    let Some(Kind::DataFailed(failed)) = &event.kind else { panic!("{event:?}") };
    assert_eq!((failed.data_kind(), failed.status_code), (pb::DataKind::Registration, 10205));
    // Data arriving after the result does not change it.
    assert_eq!((event.sequence, event.attempt_state()), (7, AttemptState::Succeeded));
}

#[tokio::test]
async fn a_late_watcher_gets_everything_and_the_stream_ends_at_the_result() {
    let fake = gateway_with_sessions(|_| {}).await;
    start_session(&fake, "att-late", "tx-late").await;
    let failure = json!({"statusCode": 10203, "type": "FACE_NOT_VALID", "message": "no match",
        "data": {"attemptId": "att-late", "hash": sign("att-late"), "transactionId": "tx-late"}});
    assert_eq!(post_hook(&fake.gateway, "/hooks/ableid/complete", &failure).await, 200);

    let mut stream = watch(&mut client(&fake.gateway), "att-late", "", false).await.unwrap();
    let Some(watch_attempt_response::Kind::Attempt(snapshot)) = next(&mut stream).await.unwrap().kind else {
        panic!("snapshot first");
    };
    assert_eq!(
        (snapshot.state(), snapshot.terminal, snapshot.result_type.as_str()),
        (AttemptState::Failed, true, "FACE_NOT_VALID")
    );
    let events = rest(&mut stream).await;
    assert_eq!(events.iter().map(kind).collect::<Vec<_>>(), ["started", "failed"]);
    let Some(Kind::Failed(failed)) = &events[1].kind else { panic!() };
    assert_eq!((failed.status_code, failed.r#type.as_str()), (10203, "FACE_NOT_VALID"));
}

#[tokio::test]
async fn resuming_sends_each_event_once_from_the_token() {
    let fake = gateway_with_sessions(|_| {}).await;
    start_session(&fake, "att-resume", "tx-resume").await;
    let mut client = client(&fake.gateway);
    let mut stream = watch(&mut client, "att-resume", "", true).await.unwrap();
    next(&mut stream).await; // snapshot
    let (started, token) = next_event(&mut stream).await;
    assert_eq!(started.sequence, 1);
    drop(stream); // the caller disconnects

    // While nobody watches, the result and data arrive.
    post_hook(&fake.gateway, "/hooks/ableid/complete", &completion("att-resume")).await;
    request(&fake, "att-resume", "photo").await;
    post_hook(
        &fake.gateway,
        "/hooks/ableid/photo",
        &data_hook("att-resume", json!({"crc": "1", "photo": ""})),
    )
    .await;

    let mut stream = watch(&mut client, "att-resume", &token, true).await.unwrap();
    let (first, _) = next_event(&mut stream).await;
    let (second, token) = next_event(&mut stream).await;
    assert_eq!((first.sequence, kind(&first)), (2, "completed"));
    assert_eq!((second.sequence, kind(&second)), (3, "photo"));
    drop(stream);

    // Resuming at the end of a finished attempt ends at once, cleanly.
    let mut stream = watch(&mut client, "att-resume", &token, false).await.unwrap();
    assert!(rest(&mut stream).await.is_empty());
}

#[tokio::test]
async fn a_duplicated_hook_is_stored_and_delivered_once() {
    let fake = gateway_with_sessions(|_| {}).await;
    start_session(&fake, "att-dup", "tx-dup").await;
    let mut stream = watch(&mut client(&fake.gateway), "att-dup", "", true).await.unwrap();
    next(&mut stream).await;
    next_event(&mut stream).await;

    for _ in 0..3 {
        assert_eq!(post_hook(&fake.gateway, "/hooks/ableid/complete", &completion("att-dup")).await, 200);
    }
    let photo = data_hook("att-dup", json!({"crc": "1", "photo": ""}));
    request(&fake, "att-dup", "photo").await;
    for _ in 0..3 {
        assert_eq!(post_hook(&fake.gateway, "/hooks/ableid/photo", &photo).await, 200);
    }

    let (completed, _) = next_event(&mut stream).await;
    let (photo, _) = next_event(&mut stream).await;
    assert_eq!((kind(&completed), completed.sequence), ("completed", 2));
    assert_eq!((kind(&photo), photo.sequence), ("photo", 3), "the duplicates were not stored");
}

#[tokio::test]
async fn forged_or_unsigned_hooks_are_refused_and_store_nothing() {
    let fake = gateway_with_sessions(|_| {}).await;
    start_session(&fake, "att-forged", "tx-forged").await;
    let mut forged = completion("att-forged");
    forged["data"]["hash"] = json!(sign("another-attempt"));
    assert_eq!(post_hook(&fake.gateway, "/hooks/ableid/complete", &forged).await, 401);
    forged["data"].as_object_mut().unwrap().remove("hash");
    assert_eq!(post_hook(&fake.gateway, "/hooks/ableid/complete", &forged).await, 401);
    let response = reqwest::Client::new()
        .post(fake.gateway.http_url("/hooks/ableid/complete"))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);

    let events = client(&fake.gateway)
        .list_attempt_events(pb::ListAttemptEventsRequest {
            attempt: Some(pb::list_attempt_events_request::Attempt::AbleidAttemptId("att-forged".into())),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(events.iter().map(kind).collect::<Vec<_>>(), ["started"]);
}

#[tokio::test]
async fn a_silent_session_expires_by_the_gateways_clock() {
    let fake = gateway_with_sessions(|config| {
        crate::harness::ableid(config).session_ttl_secs = 1;
        crate::harness::ableid(config).expiry_grace_secs = 0;
    })
    .await;
    start_session(&fake, "att-expire", "tx-expire").await;
    let mut stream = watch(&mut client(&fake.gateway), "att-expire", "", false).await.unwrap();
    let events = rest(&mut stream).await;
    assert_eq!(events.iter().map(kind).collect::<Vec<_>>(), ["started", "expired"]);
    assert_eq!(events[1].attempt_state(), AttemptState::Expired);

    // A late result from AbleID still wins over the gateway's inference.
    post_hook(&fake.gateway, "/hooks/ableid/complete", &completion("att-expire")).await;
    let attempt = client(&fake.gateway)
        .get_attempt(pb::GetAttemptRequest {
            attempt: Some(pb::get_attempt_request::Attempt::AbleidAttemptId("att-expire".into())),
        })
        .await
        .unwrap()
        .into_inner()
        .attempt
        .unwrap();
    assert_eq!((attempt.state(), attempt.last_sequence), (AttemptState::Succeeded, 3));
}

#[tokio::test]
async fn idle_watches_get_heartbeats_with_a_resume_token() {
    let fake = gateway_with_sessions(|_| {}).await;
    start_session(&fake, "att-idle", "tx-idle").await;
    let mut stream = watch(&mut client(&fake.gateway), "att-idle", "", true).await.unwrap();
    let mut tokens = Vec::new();
    while tokens.len() < 3 {
        let message = tokio::time::timeout(WAIT, stream.next()).await.unwrap().unwrap().unwrap();
        tokens.push((
            message.kind.map(|k| matches!(k, watch_attempt_response::Kind::Heartbeat(_))),
            message.resume_token,
        ));
    }
    assert_eq!(tokens[2].0, Some(true), "after the snapshot and the started event, a heartbeat");
    assert!(!tokens[2].1.is_empty());
    // The heartbeat's token resumes after the started event.
    let mut client = client(&fake.gateway);
    post_hook(&fake.gateway, "/hooks/ableid/complete", &completion("att-idle")).await;
    let mut resumed = watch(&mut client, "att-idle", &tokens[2].1, false).await.unwrap();
    assert_eq!(rest(&mut resumed).await.iter().map(|e| e.sequence).collect::<Vec<_>>(), [2]);
}

#[tokio::test]
async fn tokens_and_ids_are_checked() {
    let fake = gateway_with_sessions(|_| {}).await;
    start_session(&fake, "att-tokens", "tx-tokens").await;
    let mut client = client(&fake.gateway);

    let status = watch(&mut client, "att-unknown", "", false).await.unwrap_err();
    assert_eq!((status.code(), error_parts(&status).reason.as_str()), (Code::NotFound, "ATTEMPT_NOT_FOUND"));
    let status = watch(&mut client, "att-tokens", "garbage", false).await.unwrap_err();
    assert_eq!(error_parts(&status).fields, ["resume_token"]);
    let status = watch(&mut client, "../x", "", false).await.unwrap_err();
    assert_eq!(error_parts(&status).fields, ["ableid_attempt_id"]);
    let status = client.watch_attempt(pb::WatchAttemptRequest::default()).await.unwrap_err();
    assert_eq!(error_parts(&status).fields, ["attempt"]);

    // A token from a log this gateway does not have (its data was reset) is expired.
    let mut stream = watch(&mut client, "att-tokens", "", true).await.unwrap();
    next(&mut stream).await;
    post_hook(&fake.gateway, "/hooks/ableid/complete", &completion("att-tokens")).await;
    next_event(&mut stream).await;
    let (_, token) = next_event(&mut stream).await;
    let other = gateway_with_sessions(|_| {}).await;
    start_session(&other, "att-tokens", "tx-tokens").await;
    let status = watch(&mut self::client(&other.gateway), "att-tokens", &token, false).await.unwrap_err();
    let error = error_parts(&status);
    assert_eq!((error.code, error.reason.as_str()), (Code::FailedPrecondition, "RESUME_TOKEN_EXPIRED"));
}

#[tokio::test]
async fn many_watchers_and_many_attempts_all_receive_every_event() {
    let fake = gateway_with_sessions(|_| {}).await;
    let attempts: Vec<String> = (0..8).map(|i| format!("att-many-{i}")).collect();
    for (i, id) in attempts.iter().enumerate() {
        start_session(&fake, id, &format!("tx-many-{i}")).await;
    }
    let mut watchers = Vec::new();
    for id in &attempts {
        for _ in 0..6 {
            let mut client = client(&fake.gateway);
            let mut stream = watch(&mut client, id, "", false).await.unwrap();
            next(&mut stream).await; // snapshot: the watch is live from here
            watchers.push((id.clone(), tokio::spawn(async move { rest(&mut stream).await })));
        }
    }
    let fake = &fake;
    let posts = attempts.iter().map(|id| {
        let gateway = &fake.gateway;
        async move {
            for n in 0..5 {
                request(fake, id, "photo").await;
                let hook = data_hook(id, json!({"crc": n.to_string(), "photo": ""}));
                assert_eq!(post_hook(gateway, "/hooks/ableid/photo", &hook).await, 200);
            }
            assert_eq!(post_hook(gateway, "/hooks/ableid/complete", &completion(id)).await, 200);
        }
    });
    futures_util::future::join_all(posts).await;

    for (id, watcher) in watchers {
        let events = tokio::time::timeout(WAIT, watcher).await.expect("watcher finished").unwrap();
        let sequences: Vec<i64> = events.iter().map(|e| e.sequence).collect();
        assert_eq!(sequences, (1..=7).collect::<Vec<_>>(), "{id}");
        assert!(events.iter().all(|e| e.attempt_id == id));
        assert_eq!(kind(events.last().unwrap()), "completed");
    }
}

#[tokio::test]
async fn a_repeated_start_returns_the_same_session() {
    let fake = gateway_with_sessions(|_| {}).await;
    let first = start_session(&fake, "att-once", "tx-once").await;
    let again = fake
        .gateway
        .ableid()
        .start_resident_check(ableid_pb::StartResidentCheckRequest {
            transaction_id: "tx-once".into(),
            pinfl: "31205901234567".into(),
            birth_date: "12.05.1990".into(),
            lang: "ru".into(),
            hooks: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fake.requests().await.len(), 1, "the retry did not open a second session");
    assert_eq!(
        (again.attempt_id, again.full_url, again.lang),
        (first.attempt_id, first.full_url, first.lang)
    );
    assert_eq!(again.expire_time, first.expire_time);
}

#[tokio::test]
async fn events_are_listed_in_pages() {
    let fake = gateway_with_sessions(|_| {}).await;
    start_session(&fake, "att-pages", "tx-pages").await;
    for n in 0..4 {
        request(&fake, "att-pages", "photo").await;
        post_hook(
            &fake.gateway,
            "/hooks/ableid/photo",
            &data_hook("att-pages", json!({"crc": n, "photo": ""})),
        )
        .await;
    }
    let mut client = client(&fake.gateway);
    let mut token = String::new();
    let mut pages = Vec::new();
    loop {
        let page = client
            .list_attempt_events(pb::ListAttemptEventsRequest {
                attempt: Some(pb::list_attempt_events_request::Attempt::AbleidAttemptId("att-pages".into())),
                page_size: 2,
                page_token: token,
            })
            .await
            .unwrap()
            .into_inner();
        pages.push(page.events.iter().map(|e| e.sequence).collect::<Vec<_>>());
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(pages, [vec![1, 2], vec![3, 4], vec![5]]);
}

#[tokio::test]
async fn shutdown_ends_open_watches_with_unavailable() {
    let fake = gateway_with_sessions(|_| {}).await;
    start_session(&fake, "att-shutdown", "tx-shutdown").await;
    let mut stream = watch(&mut client(&fake.gateway), "att-shutdown", "", true).await.unwrap();
    next(&mut stream).await;
    next_event(&mut stream).await;
    let FakeVendors { gateway, server: _server } = fake;
    let stopping = tokio::spawn(gateway.stop());
    let status = loop {
        match tokio::time::timeout(WAIT, stream.next()).await.expect("stream ended in time") {
            Some(Ok(_heartbeat)) => continue,
            Some(Err(status)) => break status,
            None => panic!("a shutdown is not the attempt's end: the stream must not end with OK"),
        }
    };
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(error_parts(&status).reason, "GATEWAY_SHUTTING_DOWN");
    tokio::time::timeout(WAIT, stopping).await.expect("shutdown did not hang").unwrap();
}

#[tokio::test]
async fn baf_changes_are_observed_and_the_browser_return_is_recorded() {
    // Reads happen only when something wakes the observer, so the order is certain.
    let fake = FakeVendors::start_with(|config| {
        crate::harness::baf(config).poll_min_secs = 600;
        crate::harness::baf(config).poll_max_secs = 600;
    })
    .await;
    let applicant = "11111111-2222-3333-4444-555555555555";
    let private = "/baf/publicapi/api/v2/private/Applicants";
    fake.reply(
        "POST",
        private,
        200,
        json!({"applicantId": applicant, "validationLink": "https://baf.test/v"}),
    )
    .await;
    let pending = json!({"applicantId": applicant, "status": 0, "statusName": "Pending", "completed": false,
        "attemptsCount": 0, "attemptsUsed": 0});
    fake.reply("GET", &format!("{private}/{applicant}"), 200, pending).await;
    let created = fake
        .gateway
        .applicants()
        .create_applicant(baf_pb::CreateApplicantRequest {
            callback_url: "https://shop.example.com/back".into(),
            reference_id: "ref-1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let create = fake.requests().await.pop().unwrap();
    let callback: Value = serde_json::from_slice(&create.body).unwrap();
    let return_path = callback["callbackUrl"].as_str().unwrap().replace("https://idv.example.com", "");

    let mut client = client(&fake.gateway);
    let request = pb::WatchAttemptRequest {
        attempt: Some(watch_attempt_request::Attempt::BafApplicantId(created.applicant_id.clone())),
        ..Default::default()
    };
    let mut stream = client.watch_attempt(request).await.unwrap().into_inner();
    let Some(watch_attempt_response::Kind::Attempt(snapshot)) = next(&mut stream).await.unwrap().kind else {
        panic!("snapshot first");
    };
    assert_eq!((snapshot.transaction_id.as_str(), snapshot.url.as_str()), ("ref-1", "https://baf.test/v"));
    assert_eq!(kind(&next_event(&mut stream).await.0), "started");

    // The watch woke the observer: wait for its read of the still pending applicant.
    let read = format!("{private}/{applicant}");
    tokio::time::timeout(WAIT, async {
        while !fake.requests().await.iter().any(|r| r.method.as_str() == "GET" && r.url.path() == read) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the watch made the observer read the applicant");

    // The person passes; BAF now reports an attempt and success.
    let success = json!({"applicantId": applicant, "status": 1, "statusName": "Success", "completed": true,
        "attemptsCount": 1, "attemptsUsed": 1, "lastAttemptId": 41});
    let attempts = json!({"attempts": [{"attemptId": 41, "status": 0, "documentTypeInt": 10}]});
    for (path, body) in [(read.clone(), success), (format!("{read}/Attempts"), attempts)] {
        wiremock::Mock::given(wiremock::matchers::method("GET"))
            .and(wiremock::matchers::path(path))
            .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(body))
            .with_priority(1)
            .mount(&fake.server)
            .await;
    }
    // The browser comes back through the gateway and goes on to the caller's URL.
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(fake.gateway.http_url(&return_path))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 303);
    assert_eq!(response.headers()["location"], "https://shop.example.com/back");

    let events = rest(&mut stream).await;
    assert_eq!(
        events.iter().map(kind).collect::<Vec<_>>(),
        ["user_returned", "baf_attempt_added", "baf_status_changed"]
    );
    let Some(Kind::BafAttemptAdded(added)) = &events[1].kind else { panic!() };
    assert_eq!(added.attempt.as_ref().unwrap().attempt_id, 41);
    let last = events.last().unwrap();
    assert_eq!(last.attempt_state(), AttemptState::Succeeded);
    let Some(Kind::BafStatusChanged(change)) = &last.kind else { panic!() };
    assert_eq!((change.status(), change.completed), (baf_pb::ApplicantStatus::Success, true));
}

/// Two 12 MiB photos: a client with gRPC's default 4 MiB receive limit watches the attempt
/// and pages its events, and downloads the photos intact.
#[tokio::test]
async fn an_attempt_with_large_photos_fits_any_default_client() {
    use sha2::Digest;
    let fake = gateway_with_sessions(|_| {}).await;
    start_session(&fake, "att-big", "tx-big").await;
    let mut photos = Vec::new();
    for n in 0..2u8 {
        let photo: Vec<u8> = (0..12 * 1024 * 1024).map(|i| (i % 251) as u8 ^ n).collect();
        request(&fake, "att-big", "photo").await;
        let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &photo);
        let hook = data_hook("att-big", json!({"crc": n.to_string(), "photo": encoded}));
        assert_eq!(post_hook(&fake.gateway, "/hooks/ableid/photo", &hook).await, 200);
        photos.push(photo);
    }
    // The clients below keep tonic's default limits (4 MiB).
    let mut stream = watch(&mut client(&fake.gateway), "att-big", "", true).await.unwrap();
    next(&mut stream).await; // snapshot
    let (started, _) = next_event(&mut stream).await;
    assert_eq!(kind(&started), "started");
    let mut refs = Vec::new();
    for _ in 0..2 {
        let (event, _) = next_event(&mut stream).await;
        assert_eq!(kind(&event), "photo");
        refs.push(event.media[0].clone());
    }
    let page = client(&fake.gateway)
        .list_attempt_events(pb::ListAttemptEventsRequest {
            attempt: Some(pb::list_attempt_events_request::Attempt::AbleidAttemptId("att-big".into())),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.events.len(), 3);
    for (media, photo) in refs.iter().zip(&photos) {
        assert_eq!(media.size_bytes, photo.len() as i64);
        assert_eq!(media.sha256, hex::encode(sha2::Sha256::digest(photo)));
        assert!(
            download(&fake.gateway, "att-big", &media.media_id).await == *photo,
            "the photo arrives intact"
        );
    }
}
