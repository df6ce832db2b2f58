//! The event log's faults, tried the way an operator's accident or a full disk does it,
//! on real files under a real gateway: hooks are refused (503, never 200), health turns
//! `NOT_SERVING` (and `/readyz` and `idv_store_up` with it), an ERROR says what happened, a restart never begins an empty log in
//! silence, and nothing acknowledged is lost.

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use idv_gateway::config::Config;
use idv_gateway::proto::ableid::{self, able_id_service_client::AbleIdServiceClient};
use idv_gateway::proto::attempts::{self as pb, attempt_event::Kind};
use idv_gateway::providers::ableid::client::hook_signature;
use idv_gateway::server::{self, Listeners};
use idv_gateway::store::EventStore;
use idv_gateway::store::sqlite::SqliteStore;
use serde_json::{Value, json};
use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::harness::{FakeVendors, PROJECT_ID, SECRET, config};
use crate::process::{Process, connect, free_port, gateway_command, spawn_with};

const ATTEMPT: &str = "att-store";
const DATABASE: &str = "events.sqlite3";

/// A fake AbleID that starts the session `ATTEMPT` and accepts every photo request.
async fn mount_ableid(server: &wiremock::MockServer, prefix: &str) {
    for (path, body) in [
        (
            "/check/start/second",
            json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
                "data": {"attemptId": ATTEMPT, "fullUrl": "https://ableid.test/x", "lang": "ru"}}),
        ),
        ("/check/get_photo", json!({"statusCode": 200, "type": "SUCCESS", "message": "ok", "data": null})),
    ] {
        wiremock::Mock::given(wiremock::matchers::path(format!("{prefix}{path}")))
            .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(body))
            .mount(server)
            .await;
    }
}

async fn start_session(channel: Channel) {
    AbleIdServiceClient::new(channel)
        .start_resident_check(ableid::StartResidentCheckRequest {
            transaction_id: "tx".into(),
            pinfl: "31205901234567".into(),
            birth_date: "12.05.1990".into(),
            ..Default::default()
        })
        .await
        .unwrap();
}

async fn request_photo(channel: Channel) -> Result<(), tonic::Status> {
    let request = ableid::RequestPhotoRequest { attempt_id: ATTEMPT.into() };
    AbleIdServiceClient::new(channel).request_photo(request).await.map(drop)
}

/// A signed photo hook carrying `photo_bytes` of base64.
/// A photo hook with `photo_bytes` bytes drawn from `crc`: photos are stored once by
/// content, so each `crc` takes its own room, and a retry sends the same body.
fn photo_hook(crc: &str, photo_bytes: usize) -> Value {
    use base64::Engine as _;
    use rand::{Rng as _, SeedableRng as _};
    let seed = crc.bytes().fold(0u64, |seed, b| seed.wrapping_mul(31).wrapping_add(b.into()));
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let bytes: Vec<u8> = (0..photo_bytes).map(|_| rng.random()).collect();
    let photo = base64::engine::general_purpose::STANDARD.encode(bytes);
    json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
        "data": {"attemptId": ATTEMPT, "hash": hook_signature(PROJECT_ID, &SECRET.into(), ATTEMPT),
            "data": {"crc": crc, "photo": photo}}})
}

fn completion_hook() -> Value {
    json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
        "data": {"attemptId": ATTEMPT, "hash": hook_signature(PROJECT_ID, &SECRET.into(), ATTEMPT),
            "transactionId": "tx"}})
}

/// Posts a hook as AbleID does; returns the status.
async fn post_hook(http: std::net::SocketAddr, path: &str, body: &Value) -> u16 {
    let url = format!("http://{http}/hooks/ableid/{path}");
    reqwest::Client::new().post(url).json(body).send().await.unwrap().status().as_u16()
}

/// Waits (health is checked every 2 s) until the gateway and the AbleID service report
/// `want`; panics after 10 s.
async fn wait_for_health(channel: Channel, want: ServingStatus) {
    let mut health = HealthClient::new(channel);
    let mut seen = Vec::new();
    for _ in 0..100 {
        seen.clear();
        for service in ["", "idv.ableid.v1.AbleIdService"] {
            let request = HealthCheckRequest { service: service.into() };
            seen.push(health.check(request).await.unwrap().into_inner().status());
        }
        if seen.iter().all(|status| *status == want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("health is {seen:?}, not {want:?}");
}

/// What the admin listener shows: `/readyz`'s status and the `idv_store_up` gauge.
async fn admin_view(fake: &FakeVendors) -> (u16, String) {
    let ready = reqwest::get(fake.gateway.admin_url("/readyz")).await.unwrap().status().as_u16();
    let metrics = reqwest::get(fake.gateway.admin_url("/metrics")).await.unwrap().text().await.unwrap();
    let up = metrics.lines().find_map(|line| line.strip_prefix("idv_store_up ")).unwrap_or("absent");
    (ready, up.trim().to_owned())
}

/// The attempt's events as `ListAttemptEvents` returns them; `None` when it is unknown.
async fn attempt_events(channel: Channel) -> Option<Vec<pb::AttemptEvent>> {
    let listed = pb::attempt_service_client::AttemptServiceClient::new(channel)
        .list_attempt_events(pb::ListAttemptEventsRequest {
            attempt: Some(pb::list_attempt_events_request::Attempt::AbleidAttemptId(ATTEMPT.into())),
            page_size: 1000,
            page_token: String::new(),
        })
        .await;
    match listed {
        Ok(response) => Some(response.into_inner().events),
        Err(status) if status.code() == tonic::Code::NotFound => None,
        Err(status) => panic!("{status:?}"),
    }
}

/// The photo events' CRCs, in order.
fn photo_crcs(events: &[pb::AttemptEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            Some(Kind::Photo(photo)) => Some(photo.crc.clone()),
            _ => None,
        })
        .collect()
}

/// Runs the gateway binary on `data_dir` until it exits by itself (within 10 s);
/// returns whether it succeeded and what it printed.
async fn run_to_exit(data_dir: &Path, adjust: impl FnOnce(&mut std::process::Command)) -> (bool, String) {
    let output = tempfile::NamedTempFile::new().unwrap();
    let mut command = gateway_command(data_dir, free_port(), free_port());
    command.stdout(output.reopen().unwrap()).stderr(output.reopen().unwrap());
    adjust(&mut command);
    let mut child = command.spawn().unwrap();
    for _ in 0..200 {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.success(), std::fs::read_to_string(output.path()).unwrap());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    panic!("the gateway kept running: {}", std::fs::read_to_string(output.path()).unwrap());
}

/// Starts the gateway binary on `data_dir` against the fake AbleID at `vendor`, its log
/// going to `log`.
async fn spawn_logged(data_dir: &Path, vendor: &str, log: &Path, init: bool) -> Process {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    spawn_with(data_dir, |command| {
        command
            .env("IDV_ABLEID_BASE_URL", vendor)
            .env("IDV_PUBLIC_URL", "https://idv.example.com/")
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        if init {
            command.arg("--init");
        }
    })
    .await
}

fn remove_database(dir: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("{DATABASE}{suffix}")));
    }
}

#[tokio::test]
async fn a_deleted_database_is_refused_loudly_and_never_silently_replaced() {
    let vendor = wiremock::MockServer::start().await;
    mount_ableid(&vendor, "").await;
    let (data, logs) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let log = logs.path().join("gateway.log");
    let mut process = spawn_logged(data.path(), &vendor.uri(), &log, false).await;
    let http = std::net::SocketAddr::from(([127, 0, 0, 1], process.http));
    let channel = connect(&process).await;
    start_session(channel.clone()).await;
    request_photo(channel.clone()).await.unwrap();
    assert_eq!(post_hook(http, "photo", &photo_hook("before", 100)).await, 200);

    // The files go, as with a stray `rm` or a cleanup job.
    remove_database(data.path());
    assert_eq!(post_hook(http, "complete", &completion_hook()).await, 503);
    let refused = request_photo(channel.clone()).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    wait_for_health(channel.clone(), ServingStatus::NotServing).await;
    assert_eq!(post_hook(http, "complete", &completion_hook()).await, 503, "still refused");
    let logged = std::fs::read_to_string(&log).unwrap();
    let error =
        logged.lines().find(|line| line.contains("was removed")).expect("an ERROR says what happened");
    assert!(error.contains("ERROR") && error.contains(DATABASE) && error.contains("--init"), "{error}");

    // A second start on the directory refuses: the marker says a database existed.
    let (started, printed) = run_to_exit(data.path(), |_| {}).await;
    assert!(!started, "{printed}");
    assert!(printed.contains("is missing") && printed.contains("idv-gateway.json"), "{printed}");
    assert!(printed.contains("serve --init"), "{printed}");
    assert!(!data.path().join(DATABASE).exists(), "no empty database was created");

    // The running gateway still holds the removed files, and its ERROR says how to copy
    // them back: nothing it acknowledged is lost.
    let copies: Vec<&str> = error.split_whitespace().filter(|word| word.starts_with("/proc/")).collect();
    assert_eq!(copies.len(), 2, "{error}");
    std::fs::copy(copies[0], data.path().join(DATABASE)).unwrap();
    std::fs::copy(copies[1], data.path().join(format!("{DATABASE}-wal"))).unwrap();
    process.kill();
    let mut restarted = spawn_logged(data.path(), &vendor.uri(), &log, false).await;
    let channel = connect(&restarted).await;
    wait_for_health(channel.clone(), ServingStatus::Serving).await;
    let events = attempt_events(channel).await.expect("the attempt is back");
    assert_eq!(photo_crcs(&events), ["before"]);
    restarted.kill();

    // Gone for good this time: only `--init` begins an empty log.
    remove_database(data.path());
    let (started, printed) = run_to_exit(data.path(), |_| {}).await;
    assert!(!started && printed.contains("is missing"), "{printed}");
    let mut fresh = spawn_logged(data.path(), &vendor.uri(), &log, true).await;
    let channel = connect(&fresh).await;
    wait_for_health(channel.clone(), ServingStatus::Serving).await;
    assert!(attempt_events(channel).await.is_none());
    fresh.kill();
}

/// A gateway against fake vendors, with its event log in `data_dir`.
async fn gateway(data_dir: &Path, adjust: impl FnOnce(&mut Config)) -> FakeVendors {
    let data_dir = data_dir.to_owned();
    let fake = FakeVendors::start_with(|config| {
        config.store.data_dir = data_dir;
        adjust(config);
    })
    .await;
    mount_ableid(&fake.server, "/ableid").await;
    fake
}

/// Starts a gateway on `data_dir` that must refuse; returns why.
async fn refused_start(data_dir: &Path, init: bool) -> String {
    let (mut config, _unused) = config();
    config.store.data_dir = data_dir.to_owned();
    config.store.init = init;
    let listeners = Listeners::bind(&config).await.unwrap();
    match server::start(config, listeners).await {
        Ok(running) => {
            running.stop().await;
            panic!("the gateway started");
        }
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn random_bytes_over_the_database_are_refused_loudly() {
    let data = tempfile::tempdir().unwrap();
    let fake = gateway(data.path(), |_| {}).await;
    let (channel, http) = (fake.gateway.channel.clone(), fake.gateway.http_addr);
    start_session(channel.clone()).await;
    request_photo(channel.clone()).await.unwrap();
    assert_eq!(post_hook(http, "photo", &photo_hook("before", 100)).await, 200);

    // Overwritten in place, as `cat junk > events.sqlite3` or a bad copy does.
    let path = data.path().join(DATABASE);
    let size = std::fs::metadata(&path).unwrap().len() as usize;
    std::fs::write(&path, (0..size).map(|_| rand::random::<u8>()).collect::<Vec<_>>()).unwrap();
    assert_eq!(post_hook(http, "complete", &completion_hook()).await, 503);
    wait_for_health(channel.clone(), ServingStatus::NotServing).await;
    assert_eq!(admin_view(&fake).await, (503, "0".to_owned()));
    assert_eq!(post_hook(http, "complete", &completion_hook()).await, 503);
    fake.gateway.stop().await;

    // The next start refuses the file, with or without --init, rather than serve an
    // empty log that would deny the attempt it acknowledged.
    for init in [false, true] {
        let refused = refused_start(data.path(), init).await;
        assert!(refused.contains("not an SQLite database") && refused.contains("backup"), "{refused}");
    }
}

#[tokio::test]
async fn a_full_event_log_refuses_hooks_and_keeps_what_it_acknowledged() {
    let data = tempfile::tempdir().unwrap();
    let fake = gateway(data.path(), |config| config.store.max_size_mb = Some(1)).await;
    let (channel, http) = (fake.gateway.channel.clone(), fake.gateway.http_addr);
    start_session(channel.clone()).await;
    let mut acknowledged = Vec::new();
    let refused = loop {
        request_photo(channel.clone()).await.unwrap();
        let crc = acknowledged.len().to_string();
        match post_hook(http, "photo", &photo_hook(&crc, 40_000)).await {
            200 => acknowledged.push(crc),
            503 => break crc,
            other => panic!("{other}"),
        }
        assert!(acknowledged.len() < 50, "the cap never filled");
    };
    assert!(acknowledged.len() >= 3, "{acknowledged:?}");
    wait_for_health(channel.clone(), ServingStatus::NotServing).await;
    assert_eq!(admin_view(&fake).await, (503, "0".to_owned()));
    // AbleID retries; still full.
    assert_eq!(post_hook(http, "photo", &photo_hook(&refused, 40_000)).await, 503);
    fake.gateway.stop().await;

    // The operator raises the cap; the vendor's retry now lands after everything
    // acknowledged before.
    let fake = gateway(data.path(), |config| config.store.max_size_mb = Some(4)).await;
    let (channel, http) = (fake.gateway.channel.clone(), fake.gateway.http_addr);
    wait_for_health(channel.clone(), ServingStatus::Serving).await;
    assert_eq!(admin_view(&fake).await, (200, "1".to_owned()));
    assert_eq!(post_hook(http, "photo", &photo_hook(&refused, 40_000)).await, 200);
    let events = attempt_events(channel).await.unwrap();
    acknowledged.push(refused);
    assert_eq!(photo_crcs(&events), acknowledged);
    assert_eq!(
        events.iter().map(|e| e.sequence).collect::<Vec<_>>(),
        (1..=events.len() as i64).collect::<Vec<_>>()
    );
    fake.gateway.stop().await;
}

#[tokio::test]
async fn damage_found_at_open_refuses_to_start() {
    use idv_gateway::attempts::AttemptKey;
    use idv_gateway::proto::attempts::Vendor;
    use idv_gateway::store::conformance::{note, started};

    let data = tempfile::tempdir().unwrap();
    {
        let store = Arc::new(SqliteStore::open(data.path()).unwrap());
        for n in 0..60 {
            let key = AttemptKey::new(Vendor::Ableid, format!("a{n}"));
            store.append(&key, started(&format!("s{n}"))).await.unwrap();
            for m in 0..5 {
                store.append(&key, note(&format!("n{n}-{m}"))).await.unwrap();
            }
        }
    }
    // A page in the middle of the closed (checkpointed) file goes bad.
    let path = data.path().join(DATABASE);
    let pages = std::fs::metadata(&path).unwrap().len() / 4096;
    assert!(pages > 4, "{pages} pages");
    let mut file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.seek(SeekFrom::Start(pages / 2 * 4096)).unwrap();
    file.write_all(&[0xa5; 4096]).unwrap();
    drop(file);

    let refused = refused_start(data.path(), false).await;
    assert!(refused.contains("is damaged") && refused.contains(".recover"), "{refused}");
}
