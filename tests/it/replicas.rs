//! Several gateway processes on one PostgreSQL behave as one gateway: hooks, watches,
//! resume tokens, dedupe and BAF observation across replicas; a replica killed with
//! SIGKILL; the database stopped and started under running replicas.
//!
//! Each test runs the real binary against a database of its own on the server named by
//! `IDV_TEST_DATABASE_URL` (`./scripts/test` starts a throw-away one), with fake vendors
//! (wiremock) in this process. The tests hold [`SERVER`] for reading; the one that stops
//! the server holds it for writing, so it never stops it under the others.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use idv_gateway::proto::ableid;
use idv_gateway::proto::attempts::{
    self as pb, AttemptState, attempt_event::Kind, watch_attempt_request, watch_attempt_response,
};
use idv_gateway::proto::baf as baf_pb;
use idv_gateway::providers::ableid::client::hook_signature;
use serde_json::{Value, json};
use tokio::sync::RwLock;
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::harness::{BAF_KEY, PROJECT_ID, SECRET, WatchStream, error_parts, next_event, next_message};

/// Held for reading by every test here, for writing by the one that stops the server.
static SERVER: RwLock<()> = RwLock::const_new(());

/// The test server's URL, or a failure that says how to get one.
fn server_url() -> String {
    std::env::var("IDV_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "IDV_TEST_DATABASE_URL is not set: run ./scripts/test (it starts a throw-away PostgreSQL), \
             or scripts/with-postgres cargo test, or set it to a server where the tests may create databases"
        )
    })
}

/// A database of its own for one test.
struct Database {
    name: String,
    url: String,
}

impl Database {
    async fn create() -> Self {
        let admin = server_url();
        let name = format!("replicas_{}", hex::encode(rand::random::<[u8; 6]>()));
        admin_sql(&admin, &format!("CREATE DATABASE {name}")).await;
        let mut url = url::Url::parse(&admin).expect("IDV_TEST_DATABASE_URL is a URL");
        url.set_path(&format!("/{name}"));
        Self { name, url: url.to_string() }
    }

    async fn drop_now(self) {
        admin_sql(&server_url(), &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).await;
    }
}

async fn admin_sql(url: &str, sql: &str) {
    let (client, connection) =
        tokio_postgres::connect(url, tokio_postgres::NoTls).await.expect("test server");
    let driver = tokio::spawn(connection);
    client.batch_execute(sql).await.expect(sql);
    driver.abort();
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Fake AbleID and BAF for every replica of a test.
struct Vendors {
    server: wiremock::MockServer,
    config: tempfile::TempDir,
}

impl Vendors {
    /// AbleID starts a session `att-<transactionId>` for each start; BAF answers nothing
    /// until a test says what.
    async fn start() -> Self {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::path("/check/start/second"))
            .respond_with(|request: &wiremock::Request| {
                let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
                let tx = body["transactionId"].as_str().unwrap_or_default();
                wiremock::ResponseTemplate::new(200).set_body_json(json!({
                    "statusCode": 200, "type": "SUCCESS", "message": "ok",
                    "data": {"attemptId": format!("att-{tx}"), "fullUrl": "https://ableid.test/x", "lang": "ru"}
                }))
            })
            .mount(&server)
            .await;
        wiremock::Mock::given(wiremock::matchers::path("/check/get_photo"))
            .respond_with(
                wiremock::ResponseTemplate::new(200).set_body_json(
                    json!({"statusCode": 200, "type": "SUCCESS", "message": "ok", "data": null}),
                ),
            )
            .mount(&server)
            .await;
        // Fast BAF observation: a read a second while watched.
        let config = tempfile::tempdir().unwrap();
        std::fs::write(config.path().join("idv.toml"), "[baf]\npoll_min_secs = 1\npoll_max_secs = 2\n")
            .unwrap();
        Self { server, config }
    }
}

/// A gateway process on the test's database; SIGKILLed when dropped.
struct Replica {
    child: Child,
    http: u16,
    channel: Channel,
}

impl Replica {
    async fn start(db: &Database, vendors: &Vendors, label: &str) -> Self {
        let (grpc, http) = (free_port(), free_port());
        let logs = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("replicas");
        std::fs::create_dir_all(&logs).unwrap();
        let log = std::fs::File::create(logs.join(format!("{}-{label}.log", db.name))).unwrap();
        let base = vendors.server.uri();
        let child = Command::new(env!("CARGO_BIN_EXE_idv-gateway"))
            .arg("serve")
            .env("IDV_CONFIG", vendors.config.path().join("idv.toml"))
            .env("IDV_DATABASE_URL", &db.url)
            .env("IDV_DATABASE_POOL_SIZE", "4")
            .env("IDV_GRPC_ADDR", format!("127.0.0.1:{grpc}"))
            .env("IDV_HTTP_ADDR", format!("127.0.0.1:{http}"))
            .env("IDV_ADMIN_ADDR", "127.0.0.1:0")
            .env("IDV_PUBLIC_URL", "https://idv.example.com/")
            .env("IDV_ABLEID_BASE_URL", &base)
            .env("IDV_ABLEID_PROJECT_ID", PROJECT_ID)
            .env("IDV_ABLEID_SECRET", SECRET)
            .env("IDV_BAF_BASE_URL", format!("{base}/baf/publicapi"))
            .env("IDV_BAF_API_KEY", BAF_KEY)
            .env("IDV_LOG", "info")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the gateway starts");
        let mut replica =
            Self { child, http, channel: Channel::from_static("http://127.0.0.1:1").connect_lazy() };
        for _ in 0..400 {
            if std::net::TcpStream::connect(("127.0.0.1", http)).is_ok()
                && std::net::TcpStream::connect(("127.0.0.1", grpc)).is_ok()
            {
                replica.channel = Channel::from_shared(format!("http://127.0.0.1:{grpc}"))
                    .unwrap()
                    .connect()
                    .await
                    .unwrap();
                return replica;
            }
            if let Ok(Some(status)) = replica.child.try_wait() {
                panic!("replica {label} exited: {status} (logs in {})", logs.display());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("replica {label} did not start listening");
    }

    /// SIGKILL: no shutdown code runs.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn ableid(&self) -> ableid::able_id_service_client::AbleIdServiceClient<Channel> {
        ableid::able_id_service_client::AbleIdServiceClient::new(self.channel.clone())
    }

    fn attempts(&self) -> pb::attempt_service_client::AttemptServiceClient<Channel> {
        pb::attempt_service_client::AttemptServiceClient::new(self.channel.clone())
    }

    fn applicants(&self) -> baf_pb::applicant_service_client::ApplicantServiceClient<Channel> {
        baf_pb::applicant_service_client::ApplicantServiceClient::new(self.channel.clone())
    }

    /// Starts an AbleID check; its attempt is `att-<transaction_id>`.
    async fn start_check(&self, transaction_id: &str) -> String {
        self.ableid()
            .start_resident_check(ableid::StartResidentCheckRequest {
                transaction_id: transaction_id.into(),
                pinfl: "31205901234567".into(),
                birth_date: "12.05.1990".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .attempt_id
    }

    /// Posts an AbleID hook; the HTTP status, or `None` when the replica did not answer.
    async fn hook(&self, http: &reqwest::Client, path: &str, body: &Value) -> Option<u16> {
        let url = format!("http://127.0.0.1:{}/hooks/ableid/{path}", self.http);
        http.post(url).json(body).send().await.ok().map(|r| r.status().as_u16())
    }

    async fn watch(&self, attempt: &str, token: &str) -> Result<WatchStream, tonic::Status> {
        let request = pb::WatchAttemptRequest {
            attempt: Some(watch_attempt_request::Attempt::AbleidAttemptId(attempt.into())),
            resume_token: token.into(),
            follow_after_terminal: false,
        };
        self.attempts().watch_attempt(request).await.map(|r| r.into_inner())
    }

    async fn events(&self, attempt: &str) -> Result<Vec<pb::AttemptEvent>, tonic::Status> {
        let request = pb::ListAttemptEventsRequest {
            attempt: Some(pb::list_attempt_events_request::Attempt::AbleidAttemptId(attempt.into())),
            page_size: 1000,
            page_token: String::new(),
        };
        Ok(self.attempts().list_attempt_events(request).await?.into_inner().events)
    }

    /// The overall gRPC health.
    async fn serving(&self) -> Option<bool> {
        let checked = HealthClient::new(self.channel.clone())
            .check(tonic_health::pb::HealthCheckRequest { service: String::new() })
            .await
            .ok()?;
        Some(checked.into_inner().status() == ServingStatus::Serving)
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

fn completion(attempt: &str) -> Value {
    json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
        "data": {"attemptId": attempt, "hash": hook_signature(PROJECT_ID, &SECRET.into(), attempt),
            "transactionId": "tx"}})
}

fn photo(attempt: &str, crc: &str) -> Value {
    json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
        "data": {"attemptId": attempt, "hash": hook_signature(PROJECT_ID, &SECRET.into(), attempt),
            "data": {"crc": crc, "photo": ""}}})
}

fn kind(event: &pb::AttemptEvent) -> &'static str {
    event.kind.as_ref().map_or("placeholder", Kind::field_name)
}

/// Waits until `check` holds, polling; fails after `limit`.
async fn eventually<F: Future<Output = bool>>(limit: Duration, what: &str, mut check: impl FnMut() -> F) {
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_hook_to_one_replica_reaches_a_watcher_on_another() {
    let _server = SERVER.read().await;
    let (db, vendors) = (Database::create().await, Vendors::start().await);
    let (a, b) = (Replica::start(&db, &vendors, "a").await, Replica::start(&db, &vendors, "b").await);
    let attempt = a.start_check("cross").await;

    let mut watch = b.watch(&attempt, "").await.unwrap();
    let (started, _) = next_event(&mut watch).await;
    assert_eq!(kind(&started), "started");
    let sent = Instant::now();
    assert_eq!(a.hook(&reqwest::Client::new(), "complete", &completion(&attempt)).await, Some(200));
    let (completed, _) = next_event(&mut watch).await;
    assert_eq!((kind(&completed), completed.sequence), ("completed", 2));
    // A notification, not a heartbeat or a poll, brought it.
    assert!(sent.elapsed() < Duration::from_secs(10), "took {:?}", sent.elapsed());
    assert!(next_message(&mut watch).await.is_none(), "a terminal attempt's watch ends with OK");
    drop((a, b));
    db.drop_now().await;
}

#[tokio::test]
async fn a_watch_resumes_on_another_replica_with_nothing_skipped_or_repeated() {
    let _server = SERVER.read().await;
    let (db, vendors) = (Database::create().await, Vendors::start().await);
    let (a, b) = (Replica::start(&db, &vendors, "a").await, Replica::start(&db, &vendors, "b").await);
    let http = reqwest::Client::new();
    let attempt = a.start_check("resume").await;

    let mut watch = a.watch(&attempt, "").await.unwrap();
    let (_, token) = next_event(&mut watch).await;
    // Events appended through both replicas while nobody watches.
    for n in 0..6 {
        let (asks, receives) = if n % 2 == 0 { (&a, &b) } else { (&b, &a) };
        asks.ableid()
            .request_photo(ableid::RequestPhotoRequest { attempt_id: attempt.clone() })
            .await
            .unwrap();
        assert_eq!(receives.hook(&http, "photo", &photo(&attempt, &n.to_string())).await, Some(200));
        if n == 2 {
            let (event, _) = next_event(&mut watch).await;
            assert_eq!(event.sequence, 2, "the first replica's watch saw the other's hook");
            drop(watch);
            // Make sure the next hook is not taken for the one still in flight.
            tokio::time::sleep(Duration::from_millis(50)).await;
            watch = b.watch(&attempt, &token).await.unwrap();
        }
    }
    assert_eq!(a.hook(&http, "complete", &completion(&attempt)).await, Some(200));
    let mut seen = Vec::new();
    while let Some(message) = next_message(&mut watch).await {
        if let Some(watch_attempt_response::Kind::Event(event)) = message.kind {
            seen.push((event.sequence, kind(&event)));
        }
    }
    let mut expected: Vec<(i64, &str)> = (2..=7).map(|sequence| (sequence, "photo")).collect();
    expected.push((8, "completed"));
    assert_eq!(seen, expected, "resumed after sequence 1 on the other replica");
    drop((a, b));
    db.drop_now().await;
}

#[tokio::test]
async fn identical_hooks_and_starts_on_both_replicas_are_stored_once() {
    let _server = SERVER.read().await;
    let (db, vendors) = (Database::create().await, Vendors::start().await);
    let (a, b) = (Replica::start(&db, &vendors, "a").await, Replica::start(&db, &vendors, "b").await);
    let http = reqwest::Client::new();

    // The same transaction id started on both at once: one AbleID session.
    let (first, second) = tokio::join!(a.start_check("same"), b.start_check("same"));
    assert_eq!((first.as_str(), second.as_str()), ("att-same", "att-same"));
    let starts = vendors
        .server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/check/start/second")
        .count();
    assert_eq!(starts, 1, "AbleID was asked to start one session");

    let body = completion(&first);
    for _ in 0..5 {
        let (to_a, to_b) = tokio::join!(a.hook(&http, "complete", &body), b.hook(&http, "complete", &body));
        assert_eq!((to_a, to_b), (Some(200), Some(200)), "a redelivery is acknowledged");
    }
    let events = b.events(&first).await.unwrap();
    assert_eq!(events.iter().map(kind).collect::<Vec<_>>(), ["started", "completed"]);
    drop((a, b));
    db.drop_now().await;
}

#[tokio::test]
async fn a_replica_killed_during_a_hook_flood_loses_no_acknowledged_hook() {
    let _server = SERVER.read().await;
    let (db, vendors) = (Database::create().await, Vendors::start().await);
    let a = Arc::new(std::sync::Mutex::new(Replica::start(&db, &vendors, "a").await));
    let b = Replica::start(&db, &vendors, "b").await;
    let (a_http, b_http) = {
        let a = a.lock().unwrap();
        (a.http, b.http)
    };
    let mut attempts = Vec::new();
    for n in 0..60 {
        attempts.push(b.start_check(&format!("flood-{n}")).await);
    }

    let http = reqwest::Client::new();
    let acked_by_a = Arc::new(AtomicUsize::new(0));
    let mut flood = tokio::task::JoinSet::new();
    for (n, attempt) in attempts.iter().enumerate() {
        let (http, attempt, acked_by_a) = (http.clone(), attempt.clone(), acked_by_a.clone());
        let port = if n % 2 == 0 { a_http } else { b_http };
        flood.spawn(async move {
            tokio::time::sleep(Duration::from_millis(n as u64 * 25)).await;
            let url = format!("http://127.0.0.1:{port}/hooks/ableid/complete");
            let status =
                http.post(url).json(&completion(&attempt)).send().await.ok().map(|r| r.status().as_u16());
            if port == a_http && status == Some(200) {
                acked_by_a.fetch_add(1, Ordering::SeqCst);
            }
            (attempt, status)
        });
    }
    // SIGKILL replica A once it has acknowledged a few hooks, with the flood still going.
    eventually(Duration::from_secs(20), "A acknowledged hooks", || {
        let acked = acked_by_a.load(Ordering::SeqCst);
        async move { acked >= 5 }
    })
    .await;
    a.lock().unwrap().kill();

    let mut acknowledged = Vec::new();
    let mut refused = 0;
    while let Some(result) = flood.join_next().await {
        match result.unwrap() {
            (attempt, Some(200)) => acknowledged.push(attempt),
            (_, None) => refused += 1,
            (_, Some(status)) => panic!("a hook answered {status}"),
        }
    }
    assert!(refused > 0, "A was killed before the flood ended");
    for attempt in &acknowledged {
        let events = b.events(attempt).await.unwrap();
        assert_eq!(events.iter().map(kind).collect::<Vec<_>>(), ["started", "completed"], "{attempt}");
    }
    drop(b);
    db.drop_now().await;
}

#[tokio::test]
async fn a_baf_applicant_stays_observed_when_its_replica_dies() {
    const APPLICANT: &str = "app-replicas";
    let path = format!("/baf/publicapi/api/v2/private/Applicants/{APPLICANT}");
    let applicant = |status: i64, name: &str, completed: bool| {
        json!({"applicantId": APPLICANT, "attemptsCount": 0, "lastAttemptId": null, "completed": completed,
            "status": status, "statusName": name, "attemptsUsed": i64::from(completed), "referenceId": "ref"})
    };
    let _server = SERVER.read().await;
    let (db, vendors) = (Database::create().await, Vendors::start().await);
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/baf/publicapi/api/v2/private/Applicants"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(
            json!({"applicantId": APPLICANT, "validationLink": "https://baf.test/v", "shortValidationLink": ""}),
        ))
        .mount(&vendors.server)
        .await;
    let pending = wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path(path.clone()))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(applicant(0, "Pending", false)))
        .mount_as_scoped(&vendors.server)
        .await;
    let reads = || async {
        let requests = vendors.server.received_requests().await.unwrap();
        requests.iter().filter(|r| r.method.as_str() == "GET" && r.url.path() == path).count()
    };

    let mut a = Replica::start(&db, &vendors, "a").await;
    a.applicants()
        .create_applicant(baf_pb::CreateApplicantRequest { first_name: "A".into(), ..Default::default() })
        .await
        .unwrap();
    let watch = |replica: &Replica| {
        let mut client = replica.attempts();
        async move {
            let request = pb::WatchAttemptRequest {
                attempt: Some(watch_attempt_request::Attempt::BafApplicantId(APPLICANT.into())),
                ..Default::default()
            };
            client.watch_attempt(request).await.unwrap().into_inner()
        }
    };
    // A watches, so A reads every second and holds the lease.
    let mut on_a = watch(&a).await;
    assert_eq!(kind(&next_event(&mut on_a).await.0), "started");
    eventually(Duration::from_secs(10), "A reads the applicant", || async { reads().await >= 2 }).await;
    let b = Replica::start(&db, &vendors, "b").await;
    let mut on_b = watch(&b).await;
    assert_eq!(kind(&next_event(&mut on_b).await.0), "started");
    // Both watch, one reads: about one read a second, not two.
    let before = reads().await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let read = reads().await - before;
    assert!((1..=6).contains(&read), "{read} reads in 4 s with two watching replicas");

    a.kill();
    drop(pending);
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path(path.clone()))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(applicant(1, "Success", true)))
        .mount(&vendors.server)
        .await;
    let changed = Instant::now();
    let (event, _) = next_event(&mut on_b).await;
    let Some(Kind::BafStatusChanged(status)) = &event.kind else { panic!("{event:?}") };
    assert_eq!(
        (status.raw_status, status.completed, event.attempt_state()),
        (1, true, AttemptState::Succeeded)
    );
    // The lease lasts 5 s past A's last read; B tries every second.
    assert!(changed.elapsed() < Duration::from_secs(15), "B took over after {:?}", changed.elapsed());
    drop(b);
    db.drop_now().await;
}

#[tokio::test]
async fn replicas_recover_from_a_database_restart_without_losing_an_acknowledged_hook() {
    let (Ok(pg_ctl), Ok(data)) = (std::env::var("IDV_TEST_PG_CTL"), std::env::var("IDV_TEST_PG_DATA")) else {
        panic!(
            "IDV_TEST_PG_CTL and IDV_TEST_PG_DATA are not set: this test stops and starts the test server; \
             run it through ./scripts/test or scripts/with-postgres without IDV_TEST_DATABASE_URL"
        );
    };
    let pg_ctl = |args: &[&str]| {
        let status =
            Command::new(&pg_ctl).arg("-D").arg(&data).args(args).stdout(Stdio::null()).status().unwrap();
        assert!(status.success(), "pg_ctl {args:?}: {status}");
    };
    let _server = SERVER.write().await;
    let (db, vendors) = (Database::create().await, Vendors::start().await);
    let (a, b) = (Replica::start(&db, &vendors, "a").await, Replica::start(&db, &vendors, "b").await);
    let http = reqwest::Client::new();
    let watched = a.start_check("watched").await;
    let mut watch = b.watch(&watched, "").await.unwrap();
    let (_, mut token) = next_event(&mut watch).await;
    let mut attempts = Vec::new();
    for n in 0..20 {
        attempts.push(a.start_check(&format!("outage-{n}")).await);
    }

    // A vendor retrying each hook until it is acknowledged, through both replicas.
    let sender = {
        let (http, attempts, ports) = (http.clone(), attempts.clone(), [a.http, b.http]);
        tokio::spawn(async move {
            let (mut acknowledged, mut unavailable) = (Vec::new(), 0);
            for (n, attempt) in attempts.iter().enumerate() {
                loop {
                    let url = format!("http://127.0.0.1:{}/hooks/ableid/complete", ports[n % 2]);
                    let sent = http.post(url).json(&completion(attempt)).send().await;
                    match sent.map(|r| r.status().as_u16()) {
                        Ok(200) => break acknowledged.push(attempt.clone()),
                        Ok(503) => unavailable += 1,
                        other => panic!("a hook answered {other:?}"),
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            (acknowledged, unavailable)
        })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    pg_ctl(&["-w", "-m", "fast", "stop"]);
    let stopped = Instant::now();
    for replica in [&a, &b] {
        eventually(Duration::from_secs(10), "health NOT_SERVING", || async {
            replica.serving().await == Some(false)
        })
        .await;
    }
    let refused = b.events(&watched).await.unwrap_err();
    let parts = error_parts(&refused);
    assert_eq!(parts.code, Code::Unavailable, "{refused:?}");
    assert!(parts.retry_after.is_some(), "UNAVAILABLE carries RetryInfo");
    tokio::time::sleep(Duration::from_secs(3).saturating_sub(stopped.elapsed())).await;
    pg_ctl(&["-w", "-l", &format!("{data}/server.log"), "start"]);
    for replica in [&a, &b] {
        eventually(Duration::from_secs(15), "health SERVING again", || async {
            replica.serving().await == Some(true)
        })
        .await;
    }

    let (acknowledged, unavailable) = sender.await.unwrap();
    assert!(unavailable > 0, "hooks were refused with 503 while the database was down");
    assert_eq!(acknowledged.len(), attempts.len());
    for attempt in &acknowledged {
        let events = a.events(attempt).await.unwrap();
        assert_eq!(events.iter().map(kind).collect::<Vec<_>>(), ["started", "completed"], "{attempt}");
    }

    // The open watch either followed the outage, or ended UNAVAILABLE and resumes with its
    // last token; either way it sees the result.
    assert_eq!(a.hook(&http, "complete", &completion(&watched)).await, Some(200));
    let mut resumed = false;
    let completed = loop {
        match tokio::time::timeout(Duration::from_secs(30), futures_util::StreamExt::next(&mut watch)).await {
            Ok(Some(Ok(message))) => {
                if let Some(watch_attempt_response::Kind::Event(event)) = message.kind {
                    break event;
                }
                token = message.resume_token;
            }
            Ok(Some(Err(status))) if status.code() == Code::Unavailable && !resumed => {
                resumed = true;
                watch = a.watch(&watched, &token).await.unwrap();
            }
            other => panic!("the watch neither followed nor ended UNAVAILABLE: {other:?}"),
        }
    };
    assert_eq!((kind(&completed), completed.sequence), ("completed", 2));
    drop((a, b));
    db.drop_now().await;
}

#[tokio::test]
async fn migrate_brings_the_schema_up_to_date_once() {
    let _server = SERVER.read().await;
    let db = Database::create().await;
    let migrate = || {
        let output = Command::new(env!("CARGO_BIN_EXE_idv-gateway"))
            .arg("migrate")
            .env("IDV_DATABASE_URL", &db.url)
            .env("IDV_LOG", "warn")
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };
    assert!(migrate().contains("applied 1 migration"));
    assert!(migrate().contains("applied 0 migration"));
    let refused = Command::new(env!("CARGO_BIN_EXE_idv-gateway"))
        .arg("migrate")
        .env("IDV_DATABASE_URL", "postgres://idv:hunter2@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && stderr.contains("connect"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    db.drop_now().await;
}
