//! Tests of the gateway as a process: crash safety under SIGKILL, and what its logs
//! show (never personal data or secrets).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use idv_gateway::proto::attempts::{self as pb, attempt_event::Kind};
use idv_gateway::providers::ableid::client::hook_signature;
use serde_json::json;

use crate::harness::{PROJECT_ID, SECRET};

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A gateway process with its ports; killed when dropped, so a failing test leaves no
/// process behind.
pub(crate) struct Process {
    pub(crate) child: Child,
    pub(crate) grpc: u16,
    pub(crate) http: u16,
}

impl Process {
    /// SIGKILL: no shutdown code runs.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn spawn(data_dir: &Path) -> Process {
    spawn_with(data_dir, |_| {}).await
}

/// Starts the gateway binary, changing its command first, and waits until it listens.
pub(crate) async fn spawn_with(data_dir: &Path, adjust: impl FnOnce(&mut Command)) -> Process {
    let (grpc, http) = (free_port(), free_port());
    let mut command = gateway_command(data_dir, grpc, http);
    adjust(&mut command);
    let mut process = Process { child: command.spawn().expect("gateway starts"), grpc, http };
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", http)).is_ok()
            && std::net::TcpStream::connect(("127.0.0.1", grpc)).is_ok()
        {
            return process;
        }
        if let Ok(Some(status)) = process.child.try_wait() {
            panic!("the gateway exited: {status}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the gateway did not start listening");
}

pub(crate) fn gateway_command(data_dir: &Path, grpc: u16, http: u16) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_idv-gateway"));
    command
        .arg("serve")
        .env("IDV_GRPC_ADDR", format!("127.0.0.1:{grpc}"))
        .env("IDV_HTTP_ADDR", format!("127.0.0.1:{http}"))
        .env("IDV_ADMIN_ADDR", "127.0.0.1:0")
        .env("IDV_DATA_DIR", data_dir)
        .env("IDV_ABLEID_BASE_URL", "http://127.0.0.1:9")
        .env("IDV_ABLEID_PROJECT_ID", PROJECT_ID)
        .env("IDV_ABLEID_SECRET", SECRET)
        .env("IDV_LOG", "warn")
        .stdout(Stdio::null());
    command
}

pub(crate) async fn connect(process: &Process) -> tonic::transport::Channel {
    tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{}", process.grpc))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn acknowledged_hooks_survive_sigkill() {
    use idv_gateway::proto::ableid;

    // A fake AbleID that starts the session and accepts every photo request: each photo
    // hook below answers one request made through the gateway.
    let vendor = wiremock::MockServer::start().await;
    let attempt = "att-crash";
    for (path, body) in [
        (
            "/check/start/second",
            json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
                "data": {"attemptId": attempt, "fullUrl": "https://ableid.test/x", "lang": "ru"}}),
        ),
        ("/check/get_photo", json!({"statusCode": 200, "type": "SUCCESS", "message": "ok", "data": null})),
    ] {
        wiremock::Mock::given(wiremock::matchers::path(path))
            .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(body))
            .mount(&vendor)
            .await;
    }
    let data = tempfile::tempdir().unwrap();
    let uri = vendor.uri();
    let mut process = spawn_with(data.path(), |command| {
        command.env("IDV_ABLEID_BASE_URL", &uri).env("IDV_PUBLIC_URL", "https://idv.example.com/");
    })
    .await;
    let mut able = ableid::able_id_service_client::AbleIdServiceClient::new(connect(&process).await);
    able.start_resident_check(ableid::StartResidentCheckRequest {
        transaction_id: "tx".into(),
        pinfl: "31205901234567".into(),
        birth_date: "12.05.1990".into(),
        ..Default::default()
    })
    .await
    .unwrap();

    let http = reqwest::Client::new();
    let hash = hook_signature(PROJECT_ID, &SECRET.into(), attempt);
    let mut sent = vec!["started".to_string()];
    for n in 0..20 {
        let (path, body) = if n == 10 {
            (
                "complete",
                json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
                "data": {"attemptId": attempt, "hash": hash, "transactionId": "tx"}}),
            )
        } else {
            able.request_photo(ableid::RequestPhotoRequest { attempt_id: attempt.into() }).await.unwrap();
            (
                "photo",
                json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
                "data": {"attemptId": attempt, "hash": hash, "data": {"crc": n.to_string(), "photo": ""}}}),
            )
        };
        let url = format!("http://127.0.0.1:{}/hooks/ableid/{path}", process.http);
        let status = http.post(url).json(&body).send().await.unwrap().status();
        assert_eq!(status.as_u16(), 200);
        sent.push(if n == 10 { "completed".to_string() } else { n.to_string() });
    }
    process.kill();

    let mut restarted = spawn(data.path()).await;
    let events = pb::attempt_service_client::AttemptServiceClient::new(connect(&restarted).await)
        .list_attempt_events(pb::ListAttemptEventsRequest {
            attempt: Some(pb::list_attempt_events_request::Attempt::AbleidAttemptId(attempt.into())),
            page_size: 1000,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    restarted.kill();

    let found: Vec<String> = events
        .iter()
        .map(|e| match &e.kind {
            Some(Kind::Started(_)) => "started".into(),
            Some(Kind::Photo(photo)) => photo.crc.clone(),
            Some(Kind::Completed(_)) => "completed".into(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(found, sent);
    assert_eq!(events.iter().map(|e| e.sequence).collect::<Vec<_>>(), (1..=21).collect::<Vec<_>>());
}

// `--sandbox` needs the binary's `sandbox` feature.
#[cfg(feature = "sandbox")]
#[tokio::test]
async fn logs_never_show_personal_data_or_secrets() {
    use idv_gateway::proto::{ableid, b2core, baf};
    use tonic::Request;

    let data = tempfile::tempdir().unwrap();
    let log_path = data.path().join("gateway.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut process = spawn_with(data.path(), |command| {
        // The sandbox's values sit under the real environment: the fake AbleID of
        // `gateway_command` would win over them.
        for name in ["IDV_ABLEID_BASE_URL", "IDV_ABLEID_PROJECT_ID", "IDV_ABLEID_SECRET"] {
            command.env_remove(name);
        }
        command
            .arg("--sandbox")
            .env("IDV_SANDBOX_ADDR", format!("127.0.0.1:{}", free_port()))
            .env("IDV_LOG", "debug")
            .stdout(log.try_clone().unwrap())
            .stderr(log);
    })
    .await;
    let channel = tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{}", process.grpc))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let (pinfl, birth_date) = ("31205901234567", "12.05.1990");
    let mut able = ableid::able_id_service_client::AbleIdServiceClient::new(channel.clone());
    let started = able
        .start_resident_check(ableid::StartResidentCheckRequest {
            transaction_id: "tx-logs".into(),
            pinfl: pinfl.into(),
            birth_date: birth_date.into(),
            lang: "ru".into(),
            hooks: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    let browser = reqwest::Client::new();
    browser.post(format!("{}/approve", started.full_url)).send().await.unwrap();
    able.request_person(ableid::RequestPersonRequest {
        attempt_id: started.attempt_id.clone(),
        pinfl: pinfl.into(),
        birth_date: birth_date.into(),
    })
    .await
    .unwrap();
    // A refused request must not echo what it refused either.
    let _ = able
        .start_resident_check(ableid::StartResidentCheckRequest {
            transaction_id: "tx-logs-2".into(),
            pinfl: "31205901234599".into(),
            birth_date: "13.05.1990".into(),
            ..Default::default()
        })
        .await;

    let mut applicants = baf::applicant_service_client::ApplicantServiceClient::new(channel.clone());
    applicants
        .create_applicant(baf::CreateApplicantRequest {
            first_name: "Zebulon".into(),
            last_name: "Quixotic".into(),
            phone: "+998901112233".into(),
            email: "zebulon@example.com".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    applicants
        .list_applicants(baf::ListApplicantsRequest { text_filter: "Quixotic".into(), ..Default::default() })
        .await
        .unwrap();
    let mut request = Request::new(b2core::StartVerificationWizardRequest {});
    request.metadata_mut().insert("b2core-authorization", "Bearer tok-very-private-123".parse().unwrap());
    b2core::verification_service_client::VerificationServiceClient::new(channel)
        .start_verification_wizard(request)
        .await
        .unwrap();

    // Let the person data hook arrive, then stop the process.
    let events = loop {
        let mut attempts = pb::attempt_service_client::AttemptServiceClient::new(
            tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{}", process.grpc))
                .unwrap()
                .connect()
                .await
                .unwrap(),
        );
        let events = attempts
            .list_attempt_events(pb::ListAttemptEventsRequest {
                attempt: Some(pb::list_attempt_events_request::Attempt::AbleidAttemptId(
                    started.attempt_id.clone(),
                )),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .events;
        if events.iter().any(|e| matches!(e.kind, Some(Kind::Person(_)))) {
            break events;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    process.kill();

    let Some(Kind::Person(person)) =
        events.into_iter().find_map(|e| e.kind.filter(|k| matches!(k, Kind::Person(_))))
    else {
        unreachable!()
    };
    let details = person.person.unwrap();
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(logs.contains("vendor call"), "the log was captured at debug level");
    for secret in [
        pinfl,
        birth_date,
        "31205901234599",
        "13.05.1990",
        details.surname.as_str(),
        details.document.as_str(),
        "Zebulon",
        "Quixotic",
        "+998901112233",
        "zebulon@example.com",
        "tok-very-private-123",
        "sandbox-secret",
        "sk_sandbox",
    ] {
        assert!(!secret.is_empty());
        assert!(!logs.contains(secret), "the log shows {secret:?}:\n{logs}");
    }
}

/// The peak resident memory of a process, in bytes (Linux `VmHWM`).
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:")?.split_whitespace().next()?.parse().ok())
        .unwrap();
    kib * 1024
}

/// Forty concurrent vendor answers of 100 MiB each (chunked, so the size is only learnt
/// while reading) stay under the memory budget: the calls that find no room are refused
/// at once with RESOURCE_EXHAUSTED, and the process's peak memory stays near the budget
/// instead of forty times the per-call cap.
#[tokio::test]
async fn forty_huge_vendor_answers_stay_under_the_memory_budget() {
    use idv_gateway::proto::baf;
    use tonic_types::StatusExt;

    const MIB: usize = 1024 * 1024;
    let vendor = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let vendor_addr = vendor.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/baf/publicapi/api/v2/private/Applicants/{id}",
        axum::routing::get(|| async {
            let chunks = futures_util::stream::iter(
                (0..100).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b' '; MIB]))),
            );
            axum::body::Body::from_stream(chunks)
        }),
    );
    tokio::spawn(async move { axum::serve(vendor, app).await });

    let data = tempfile::tempdir().unwrap();
    let admin = free_port();
    let process = spawn_with(data.path(), |command| {
        command
            .env("IDV_BAF_BASE_URL", format!("http://{vendor_addr}/baf/publicapi"))
            .env("IDV_BAF_API_KEY", "sk_test")
            .env("IDV_MEMORY_BUDGET_MB", "128")
            .env("IDV_ADMIN_ADDR", format!("127.0.0.1:{admin}"));
    })
    .await;
    let baseline = peak_rss(process.child.id());
    let channel = connect(&process).await;
    let calls: Vec<_> = (0..40)
        .map(|i| {
            let mut client = baf::applicant_service_client::ApplicantServiceClient::new(channel.clone());
            tokio::spawn(async move {
                client.get_applicant(baf::GetApplicantRequest { applicant_id: format!("app-{i}") }).await
            })
        })
        .collect();
    let mut reasons = Vec::new();
    for call in calls {
        let status = call.await.unwrap().expect_err("no 100 MiB answer is served");
        assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");
        reasons.push(status.get_error_details().error_info().map(|i| i.reason.clone()).unwrap_or_default());
    }
    let refused_for_memory = reasons.iter().filter(|r| *r == "MEMORY_BUDGET_EXHAUSTED").count();
    assert!(refused_for_memory > 0, "{reasons:?}");
    // Each is counted with the other overload refusals.
    let metrics =
        reqwest::get(format!("http://127.0.0.1:{admin}/metrics")).await.unwrap().text().await.unwrap();
    let counted = format!("idv_overload_refusals_total{{reason=\"memory_budget\"}} {refused_for_memory}\n");
    assert!(metrics.contains(&counted), "{counted:?} not in\n{metrics}");
    let grown = peak_rss(process.child.id()).saturating_sub(baseline);
    // The budget is 128 MiB; allow as much again for buffers around it. Without the budget
    // forty calls hold up to 64 MiB each: 2.5 GiB.
    assert!(grown < 256 * MIB as u64, "peak memory grew by {} MiB", grown / MIB as u64);
    println!(
        "40 calls: {refused_for_memory} refused for memory, the rest too large; peak RSS grew {} MiB",
        grown / MIB as u64
    );
}

/// An OTLP trace receiver: keeps every span it is sent.
#[derive(Clone, Default)]
struct Receiver(std::sync::Arc<std::sync::Mutex<Vec<opentelemetry_proto::tonic::trace::v1::Span>>>);

#[tonic::async_trait]
impl opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest>,
    ) -> Result<
        tonic::Response<opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse>,
        tonic::Status,
    > {
        let spans =
            request.into_inner().resource_spans.into_iter().flat_map(|r| r.scope_spans).flat_map(|s| s.spans);
        self.0.lock().unwrap().extend(spans);
        Ok(tonic::Response::new(Default::default()))
    }
}

fn attribute(span: &opentelemetry_proto::tonic::trace::v1::Span, key: &str) -> Option<String> {
    use opentelemetry_proto::tonic::common::v1::any_value::Value;
    span.attributes.iter().find(|a| a.key == key).and_then(|a| match a.value.as_ref()?.value.as_ref()? {
        Value::StringValue(s) => Some(s.clone()),
        Value::IntValue(i) => Some(i.to_string()),
        _ => None,
    })
}

/// With `OTEL_EXPORTER_OTLP_ENDPOINT` set, the gateway exports spans for the RPC, the
/// vendor call, the hook and the event-log append; a caller's `traceparent` is the RPC's
/// parent and reaches the vendor; spans name the attempt in an attribute.
#[tokio::test]
async fn traces_follow_a_call_to_the_vendor_and_a_hook_to_the_log() {
    use idv_gateway::proto::{ableid, baf};

    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let otlp = listener.local_addr().unwrap();
    let service =
        opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::TraceServiceServer::new(
            receiver.clone(),
        );
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    let vendor = wiremock::MockServer::start().await;
    let attempt = "att-traced";
    for (path, body) in [
        ("/baf/publicapi/api/v2/private/Applicants/app-traced", json!({"applicantId": "app-traced"})),
        (
            "/ableid/check/start/second",
            json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
                "data": {"attemptId": attempt, "fullUrl": "https://ableid.test/x", "lang": "ru"}}),
        ),
    ] {
        wiremock::Mock::given(wiremock::matchers::path(path))
            .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(body))
            .mount(&vendor)
            .await;
    }
    let data = tempfile::tempdir().unwrap();
    let uri = vendor.uri();
    let process = spawn_with(data.path(), |command| {
        command
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{otlp}"))
            .env("OTEL_BSP_SCHEDULE_DELAY", "100")
            .env("IDV_BAF_BASE_URL", format!("{uri}/baf/publicapi"))
            .env("IDV_BAF_API_KEY", "sk_test")
            .env("IDV_ABLEID_BASE_URL", format!("{uri}/ableid"))
            .env("IDV_PUBLIC_URL", "https://idv.example.com/");
    })
    .await;
    let channel = connect(&process).await;

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let mut request = tonic::Request::new(baf::GetApplicantRequest { applicant_id: "app-traced".into() });
    request
        .metadata_mut()
        .insert("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01").parse().unwrap());
    baf::applicant_service_client::ApplicantServiceClient::new(channel.clone())
        .get_applicant(request)
        .await
        .unwrap();
    let sent = vendor.received_requests().await.unwrap();
    let forwarded = sent[0].headers.get("traceparent").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(forwarded.starts_with(&format!("00-{trace_id}-")), "the vendor got {forwarded:?}");

    ableid::able_id_service_client::AbleIdServiceClient::new(channel)
        .start_resident_check(ableid::StartResidentCheckRequest {
            transaction_id: "tx-traced".into(),
            pinfl: "31205901234567".into(),
            birth_date: "12.05.1990".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let hash = hook_signature(PROJECT_ID, &SECRET.into(), attempt);
    let hook = json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
        "data": {"attemptId": attempt, "hash": hash, "transactionId": "tx-traced"}});
    let url = format!("http://127.0.0.1:{}/hooks/ableid/complete", process.http);
    assert_eq!(reqwest::Client::new().post(url).json(&hook).send().await.unwrap().status().as_u16(), 200);

    let wanted =
        ["/idv.baf.v1.ApplicantService/GetApplicant", "baf GetApplicant", "ableid hook", "event log append"];
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let spans = loop {
        let spans = receiver.0.lock().unwrap().clone();
        if wanted.iter().all(|name| spans.iter().any(|s| s.name == *name))
            && spans.iter().filter(|s| s.name == "event log append").count() >= 2
        {
            break spans;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "spans so far: {:?}",
            spans.iter().map(|s| &s.name).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let rpc = spans.iter().find(|s| s.name == wanted[0]).unwrap();
    assert_eq!(hex::encode(&rpc.trace_id), trace_id, "the caller's trace continues");
    assert_eq!(hex::encode(&rpc.parent_span_id), "00f067aa0ba902b7");
    assert_eq!(attribute(rpc, "idv.attempt_id").as_deref(), Some("app-traced"));
    let call = spans.iter().find(|s| s.name == wanted[1]).unwrap();
    assert_eq!(
        (&call.trace_id, &call.parent_span_id),
        (&rpc.trace_id, &rpc.span_id),
        "the vendor call is the RPC's child"
    );
    assert_eq!(attribute(call, "http.response.status_code").as_deref(), Some("200"));
    let hook = spans.iter().find(|s| s.name == wanted[2]).unwrap();
    assert_eq!(attribute(hook, "idv.attempt_id").as_deref(), Some(attempt));
    let append = spans
        .iter()
        .find(|s| s.name == wanted[3] && s.parent_span_id == hook.span_id)
        .expect("the hook's append is its child");
    assert_eq!(attribute(append, "idv.attempt_id").as_deref(), Some(attempt));
    // No span carries a request's personal data.
    for span in &spans {
        for attribute in &span.attributes {
            let text = format!("{:?}", attribute.value);
            assert!(!text.contains("31205901234567") && !text.contains("12.05.1990"), "{attribute:?}");
        }
    }
}
