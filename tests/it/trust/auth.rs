//! Finding 1: anyone who reached the gRPC port could call every method, and reflection
//! listed the services. Tried again: with keys configured, every call but health needs one;
//! scopes and `own_attempts_only` hold; a key file edited at runtime takes effect; the binary
//! refuses to serve an open port without credentials; mTLS works end to end; and the log
//! names the caller, never the key.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use idv_gateway::auth::{ApiKeyConfig, key_digest_hex};
use idv_gateway::proto::ableid::able_id_service_client::AbleIdServiceClient;
use idv_gateway::proto::attempts::attempt_service_client::AttemptServiceClient;
use idv_gateway::proto::attempts::{
    self as pb, get_attempt_request, list_attempt_events_request, watch_attempt_request,
};
use idv_gateway::proto::baf::applicant_service_client::ApplicantServiceClient;
use idv_gateway::proto::{ableid, baf};
use serde_json::json;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic::{Code, Status};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

use crate::auth_tls::{Ca, dns};
use crate::harness::{FakeVendors, TestGateway, error_parts};
use crate::process::{free_port, gateway_command, spawn_with};

const BILLING: &str = "k_billing_0f3c9a7e51d24b68";
const READER: &str = "k_reader_8d1e2b7c4a9f0356";
const TENANT_A: &str = "k_tenant_a_5e7d1c9b3a2f4860";
const TENANT_B: &str = "k_tenant_b_91c4e8a27d6b3f05";

const STARTED: &str = r#"{"statusCode":200,"type":"SUCCESS","message":"ok",
    "data":{"attemptId":"att-auth-1","fullUrl":"https://ableid.test/att-auth-1","lang":"ru"}}"#;

fn key(name: &str, key: &str, scopes: &[&str], own_attempts_only: bool) -> ApiKeyConfig {
    ApiKeyConfig {
        name: name.into(),
        sha256: key_digest_hex(key),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        own_attempts_only,
    }
}

/// Sends `authorization: Bearer <key>` on every call, or nothing.
#[derive(Clone)]
struct Bearer(Option<&'static str>);

impl Interceptor for Bearer {
    fn call(&mut self, mut request: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(key) = self.0 {
            request.metadata_mut().insert("authorization", format!("Bearer {key}").parse().unwrap());
        }
        Ok(request)
    }
}

type Authed = InterceptedService<Channel, Bearer>;

fn ableid(gateway: &TestGateway, key: Option<&'static str>) -> AbleIdServiceClient<Authed> {
    AbleIdServiceClient::with_interceptor(gateway.channel.clone(), Bearer(key))
}

fn attempts(channel: &Channel, key: Option<&'static str>) -> AttemptServiceClient<Authed> {
    AttemptServiceClient::with_interceptor(channel.clone(), Bearer(key))
}

fn applicants(gateway: &TestGateway, key: Option<&'static str>) -> ApplicantServiceClient<Authed> {
    ApplicantServiceClient::with_interceptor(gateway.channel.clone(), Bearer(key))
}

fn resident(transaction_id: &str) -> ableid::StartResidentCheckRequest {
    ableid::StartResidentCheckRequest {
        transaction_id: transaction_id.into(),
        pinfl: "31205901234567".into(),
        birth_date: "12.05.1990".into(),
        lang: "ru".into(),
        hooks: vec![],
    }
}

fn get_attempt(attempt_id: &str) -> pb::GetAttemptRequest {
    pb::GetAttemptRequest { attempt: Some(get_attempt_request::Attempt::AbleidAttemptId(attempt_id.into())) }
}

/// The code and `ErrorInfo.reason` of a refusal, checking it is the gateway's.
fn refusal<T: std::fmt::Debug>(result: Result<T, Status>) -> (Code, String) {
    let status = result.expect_err("the call should be refused");
    let error = error_parts(&status);
    assert_eq!(error.domain, "idv-gateway", "{status:?}");
    (error.code, error.reason)
}

/// A gateway with fake vendors and `keys`, whose AbleID starts `att-auth-1`.
async fn gateway_with_keys(keys: Vec<ApiKeyConfig>) -> FakeVendors {
    let fake = FakeVendors::start_with(|config| config.auth.api_keys = keys).await;
    fake.reply("POST", "/ableid/check/start/second", 201, serde_json::from_str(STARTED).unwrap()).await;
    fake
}

async fn list_services(channel: &Channel, key: Option<&'static str>) -> Result<Vec<String>, Status> {
    use tokio_stream::StreamExt;
    let mut client = ServerReflectionClient::with_interceptor(channel.clone(), Bearer(key));
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client.server_reflection_info(tokio_stream::iter([request])).await?.into_inner();
    match responses.next().await.transpose()?.and_then(|r| r.message_response) {
        Some(MessageResponse::ListServicesResponse(list)) => {
            Ok(list.service.into_iter().map(|s| s.name).collect())
        }
        other => panic!("expected a service list, got {other:?}"),
    }
}

#[tokio::test]
async fn a_caller_without_a_key_is_unauthenticated() {
    let fake = gateway_with_keys(vec![key("billing", BILLING, &[], false)]).await;
    let gateway = &fake.gateway;

    // The finding's own call: a start with no credentials. Refused before any vendor call.
    assert_eq!(
        refusal(ableid(gateway, None).start_resident_check(resident("tx-1")).await),
        (Code::Unauthenticated, "API_KEY_MISSING".into())
    );
    assert_eq!(
        refusal(ableid(gateway, Some("k_wrong")).start_resident_check(resident("tx-1")).await),
        (Code::Unauthenticated, "API_KEY_INVALID".into())
    );
    assert_eq!(
        refusal(attempts(&gateway.channel, None).get_attempt(get_attempt("att-auth-1")).await),
        (Code::Unauthenticated, "API_KEY_MISSING".into())
    );
    assert!(fake.requests().await.is_empty(), "no refused call reached a vendor");

    // The right key gets through, and the attempt it started is readable with it.
    let started =
        ableid(gateway, Some(BILLING)).start_resident_check(resident("tx-1")).await.unwrap().into_inner();
    assert_eq!(started.attempt_id, "att-auth-1");
    assert_eq!(fake.requests().await.len(), 1);
    let attempt = attempts(&gateway.channel, Some(BILLING))
        .get_attempt(get_attempt("att-auth-1"))
        .await
        .unwrap()
        .into_inner()
        .attempt
        .unwrap();
    assert_eq!(attempt.transaction_id, "tx-1");
    // A key that is the right one with something appended is still wrong.
    let longer: &'static str = Box::leak(format!("{BILLING}x").into_boxed_str());
    assert_eq!(
        refusal(attempts(&gateway.channel, Some(longer)).get_attempt(get_attempt("att-auth-1")).await).1,
        "API_KEY_INVALID"
    );

    // Health stays open for probes and load balancers.
    let health = HealthClient::new(gateway.channel.clone())
        .check(HealthCheckRequest { service: String::new() })
        .await
        .unwrap();
    assert_eq!(health.into_inner().status(), ServingStatus::Serving);
}

#[tokio::test]
async fn reflection_needs_a_key_too() {
    let fake = gateway_with_keys(vec![key("billing", BILLING, &[], false)]).await;
    let channel = &fake.gateway.channel;
    let status = list_services(channel, None).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(error_parts(&status).reason, "API_KEY_MISSING");

    // grpcurl 1.8's v1alpha is refused the same way.
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient as Alpha;
    use tonic_reflection::pb::v1alpha::{
        ServerReflectionRequest as AlphaRequest, server_reflection_request::MessageRequest as AlphaMessage,
    };
    let request = AlphaRequest {
        host: String::new(),
        message_request: Some(AlphaMessage::ListServices(String::new())),
    };
    let status = Alpha::new(channel.clone())
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .map(drop)
        .unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");

    let names = list_services(channel, Some(BILLING)).await.unwrap();
    assert!(names.iter().any(|n| n == "idv.ableid.v1.AbleIdService"), "{names:?}");
}

#[tokio::test]
async fn a_read_only_key_cannot_start_a_check() {
    let fake = gateway_with_keys(vec![key("reader", READER, &["read"], false)]).await;
    let status =
        ableid(&fake.gateway, Some(READER)).start_resident_check(resident("tx-r")).await.unwrap_err();
    let error = error_parts(&status);
    assert_eq!((error.code, error.reason.as_str()), (Code::PermissionDenied, "METHOD_NOT_ALLOWED"));
    assert_eq!(error.metadata["caller"], "reader");
    assert_eq!(error.metadata["method"], "/idv.ableid.v1.AbleIdService/StartResidentCheck");
    assert!(fake.requests().await.is_empty());
    // Reads pass the layer (and find nothing).
    let status = attempts(&fake.gateway.channel, Some(READER)).get_attempt(get_attempt("nope")).await;
    assert_eq!(refusal(status), (Code::NotFound, "ATTEMPT_NOT_FOUND".into()));
    // So does reflection, which a read-only grpcurl user needs.
    assert!(list_services(&fake.gateway.channel, Some(READER)).await.is_ok());
}

/// Polls `check` until it holds, for at most 10 s (the key file is read every second).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn write_atomically(path: &Path, text: &str) {
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

#[tokio::test]
async fn a_key_file_edited_at_runtime_takes_effect_without_a_restart() {
    let keys_dir = tempfile::tempdir().unwrap();
    let file = keys_dir.path().join("keys");
    std::fs::write(&file, format!("alpha {}\n", key_digest_hex(TENANT_A))).unwrap();
    let path = file.clone();
    let fake = FakeVendors::start_with(move |config| {
        config.auth.api_keys_file = Some(path);
        config.auth.reload_secs = 1;
    })
    .await;
    let channel = fake.gateway.channel.clone();
    // NOT_FOUND is the answer of a call that got past authentication.
    let answer = |key: &'static str| {
        let channel = channel.clone();
        async move {
            match attempts(&channel, Some(key)).get_attempt(get_attempt("nope")).await {
                Ok(_) => (Code::Ok, String::new()),
                Err(status) => (status.code(), error_parts(&status).reason),
            }
        }
    };
    assert_eq!(answer(TENANT_A).await, (Code::NotFound, "ATTEMPT_NOT_FOUND".into()));
    assert_eq!(answer(TENANT_B).await, (Code::Unauthenticated, "API_KEY_INVALID".into()));

    // Add beta.
    write_atomically(
        &file,
        &format!("alpha {}\nbeta {}\n", key_digest_hex(TENANT_A), key_digest_hex(TENANT_B)),
    );
    eventually("beta is accepted", || async { answer(TENANT_B).await.0 == Code::NotFound }).await;
    assert_eq!(answer(TENANT_A).await.0, Code::NotFound);

    // Revoke alpha.
    write_atomically(&file, &format!("# alpha revoked\nbeta {}\n", key_digest_hex(TENANT_B)));
    eventually("alpha is refused", || async { answer(TENANT_A).await.0 == Code::Unauthenticated }).await;
    assert_eq!(answer(TENANT_A).await.1, "API_KEY_INVALID");
    assert_eq!(answer(TENANT_B).await.0, Code::NotFound);
}

#[tokio::test]
async fn a_caller_limited_to_its_own_attempts_cannot_see_anothers() {
    let fake =
        gateway_with_keys(vec![key("tenant-a", TENANT_A, &[], false), key("tenant-b", TENANT_B, &[], true)])
            .await;
    let gateway = &fake.gateway;
    ableid(gateway, Some(TENANT_A)).start_resident_check(resident("tx-a")).await.unwrap();
    fake.reply(
        "POST",
        "/ableid/check/get_passport",
        200,
        json!({"statusCode": 200, "type": "SUCCESS", "message": "ok", "data": null}),
    )
    .await;
    fake.server.reset().await;

    let mut b = attempts(&gateway.channel, Some(TENANT_B));
    let not_found = (Code::NotFound, "ATTEMPT_NOT_FOUND".to_owned());
    assert_eq!(refusal(b.get_attempt(get_attempt("att-auth-1")).await), not_found);
    let list = pb::ListAttemptEventsRequest {
        attempt: Some(list_attempt_events_request::Attempt::AbleidAttemptId("att-auth-1".into())),
        ..Default::default()
    };
    assert_eq!(refusal(b.list_attempt_events(list.clone()).await), not_found);
    let watch = pb::WatchAttemptRequest {
        attempt: Some(watch_attempt_request::Attempt::AbleidAttemptId("att-auth-1".into())),
        ..Default::default()
    };
    assert_eq!(refusal(b.watch_attempt(watch).await.map(drop)), not_found);
    let passport = ableid::RequestPassportRequest {
        attempt_id: "att-auth-1".into(),
        pinfl: "31205901234567".into(),
        birth_date: "12.05.1990".into(),
    };
    assert_eq!(refusal(ableid(gateway, Some(TENANT_B)).request_passport(passport).await), not_found);
    assert!(fake.requests().await.is_empty(), "B's data request never reached AbleID");

    // A still sees its attempt.
    let mut a = attempts(&gateway.channel, Some(TENANT_A));
    assert!(a.get_attempt(get_attempt("att-auth-1")).await.is_ok());
    assert_eq!(a.list_attempt_events(list).await.unwrap().into_inner().events.len(), 1);
}

#[tokio::test]
async fn a_caller_limited_to_its_own_applicants_cannot_read_anothers() {
    const APPLICANT: &str = "3fa85f64-5717-4562-b3fc-2c963f66afa6";
    let fake =
        gateway_with_keys(vec![key("tenant-a", TENANT_A, &[], false), key("tenant-b", TENANT_B, &[], true)])
            .await;
    let private = "/baf/publicapi/api/v2/private/Applicants";
    fake.reply("POST", private, 200, json!({"applicantId": APPLICANT, "validationLink": "https://h/x"}))
        .await;
    fake.reply(
        "GET",
        &format!("{private}/{APPLICANT}"),
        200,
        json!({"applicantId": APPLICANT, "firstName": "John", "status": 0}),
    )
    .await;
    let gateway = &fake.gateway;
    let created = applicants(gateway, Some(TENANT_A))
        .create_applicant(baf::CreateApplicantRequest {
            first_name: "John".into(),
            last_name: "Dow".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(created.applicant_id, APPLICANT);
    let before = fake.requests().await.len();

    let get = || baf::GetApplicantRequest { applicant_id: APPLICANT.into() };
    let status = applicants(gateway, Some(TENANT_B)).get_applicant(get()).await.unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert_eq!(fake.requests().await.len(), before, "B's read never reached BAF");
    let applicant = applicants(gateway, Some(TENANT_A)).get_applicant(get()).await.unwrap().into_inner();
    assert_eq!(applicant.applicant.unwrap().first_name, "John");

    // A listing shows B none of A's applicants, nor BAF's account-wide totals; A sees them.
    const OTHER: &str = "9b2c1d4e-0000-4000-8000-000000000001";
    let item = |id: &str| json!({"applicantId": id, "firstName": "John", "status": 0});
    fake.reply(
        "GET",
        private,
        200,
        json!({"page": 1, "pageSize": 20, "total": 2, "totalPages": 1, "items": [item(APPLICANT), item(OTHER)]}),
    )
    .await;
    let list = || baf::ListApplicantsRequest { text_filter: "John".into(), ..Default::default() };
    let page = applicants(gateway, Some(TENANT_B)).list_applicants(list()).await.unwrap().into_inner();
    assert!(page.items.is_empty(), "B listed {} applicants", page.items.len());
    assert_eq!((page.total, page.total_pages), (0, 0));
    let page = applicants(gateway, Some(TENANT_A)).list_applicants(list()).await.unwrap().into_inner();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.total, 2);
}

// ---- The binary -------------------------------------------------------------------------

/// Runs the gateway binary with `adjust`ed settings until it exits (at most 20 s); its
/// status and everything it printed.
async fn run_to_exit(adjust: impl FnOnce(&mut std::process::Command)) -> (std::process::ExitStatus, String) {
    let data = tempfile::tempdir().unwrap();
    let mut command = gateway_command(data.path(), free_port(), free_port());
    adjust(&mut command);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut command = tokio::process::Command::from(command);
    command.kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(20), command.output())
        .await
        .expect("the gateway exits instead of serving")
        .unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status, text)
}

/// The gRPC address `gateway_command` chose, on every interface instead of loopback.
fn on_every_interface(command: &mut std::process::Command) {
    let grpc = command
        .get_envs()
        .find(|(name, _)| *name == "IDV_GRPC_ADDR")
        .and_then(|(_, value)| value)
        .map(|value| value.to_string_lossy().replace("127.0.0.1", "0.0.0.0"))
        .unwrap();
    command.env("IDV_GRPC_ADDR", grpc);
}

#[tokio::test]
async fn the_binary_refuses_an_open_port_without_credentials() {
    let (status, output) = run_to_exit(on_every_interface).await;
    assert!(!status.success(), "{output}");
    for setting in ["auth.api_keys", "server.tls_client_ca_file", "auth.allow_unauthenticated"] {
        assert!(output.contains(setting), "the refusal names {setting}: {output}");
    }

    // Asked for by name, it serves, and anyone can call.
    let data = tempfile::tempdir().unwrap();
    let mut process = spawn_with(data.path(), |command| {
        on_every_interface(command);
        command.env("IDV_ALLOW_UNAUTHENTICATED", "true");
    })
    .await;
    let channel = crate::process::connect(&process).await;
    let status = attempts(&channel, None).get_attempt(get_attempt("nope")).await;
    assert_eq!(refusal(status), (Code::NotFound, "ATTEMPT_NOT_FOUND".into()));
    process.kill();
}

/// A log without colours, should the text format write ANSI escapes.
fn plain(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters, ending with a letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// AbleID as a wiremock server that starts `att-auth-1`.
async fn fake_ableid() -> wiremock::MockServer {
    let vendor = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::path("/check/start/second"))
        .respond_with(
            wiremock::ResponseTemplate::new(201)
                .set_body_json(serde_json::from_str::<serde_json::Value>(STARTED).unwrap()),
        )
        .mount(&vendor)
        .await;
    vendor
}

#[tokio::test]
async fn mutual_tls_end_to_end_against_the_binary() {
    let pki = tempfile::tempdir().unwrap();
    let ca = Ca::new("idv trust CA");
    let server = ca.server("gateway");
    let client = ca.client("billing-cn", vec![dns("billing.payments.svc")]);
    for (name, text) in [("server.pem", &server.cert), ("server.key", &server.key), ("ca.pem", &ca.pem)] {
        std::fs::write(pki.path().join(name), text).unwrap();
    }
    let vendor = fake_ableid().await;
    let data = tempfile::tempdir().unwrap();
    let log_path = data.path().join("gateway.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut process = spawn_with(data.path(), |command| {
        command
            .env("IDV_TLS_CERT_FILE", pki.path().join("server.pem"))
            .env("IDV_TLS_KEY_FILE", pki.path().join("server.key"))
            .env("IDV_TLS_CLIENT_CA_FILE", pki.path().join("ca.pem"))
            .env("IDV_ABLEID_BASE_URL", vendor.uri())
            .env("IDV_PUBLIC_URL", "https://idv.example.com/")
            .env("IDV_LOG", "debug")
            .stdout(log.try_clone().unwrap())
            .stderr(log);
    })
    .await;
    let channel = |identity: Option<Identity>| {
        let mut tls =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(&ca.pem)).domain_name("localhost");
        if let Some(identity) = identity {
            tls = tls.identity(identity);
        }
        let endpoint = Channel::from_shared(format!("https://127.0.0.1:{}", process.grpc)).unwrap();
        async move { endpoint.tls_config(tls).unwrap().connect().await.unwrap() }
    };

    let with_cert = channel(Some(Identity::from_pem(&client.cert, &client.key))).await;
    let started = AbleIdServiceClient::new(with_cert.clone())
        .start_resident_check(resident("tx-mtls"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(started.attempt_id, "att-auth-1");
    let attempt = attempts(&with_cert, None).get_attempt(get_attempt("att-auth-1")).await.unwrap();
    assert_eq!(attempt.into_inner().attempt.unwrap().transaction_id, "tx-mtls");

    // TLS but no certificate and no key: refused by the gateway, with its error model.
    let anonymous = channel(None).await;
    assert_eq!(
        refusal(attempts(&anonymous, None).get_attempt(get_attempt("att-auth-1")).await),
        (Code::Unauthenticated, "CLIENT_CERT_MISSING".into())
    );
    let health = HealthClient::new(anonymous).check(HealthCheckRequest { service: String::new() }).await;
    assert_eq!(health.unwrap().into_inner().status(), ServingStatus::Serving);
    process.kill();
    let logs = plain(&std::fs::read_to_string(&log_path).unwrap());
    assert!(
        logs.lines().any(|l| l.contains("GetAttempt") && l.contains("caller=\"billing.payments.svc\"")),
        "the certificate's name is the caller:\n{logs}"
    );
}

#[tokio::test]
async fn the_log_names_the_caller_and_never_the_key() {
    let data = tempfile::tempdir().unwrap();
    let log_path = data.path().join("gateway.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let digest = key_digest_hex(BILLING);
    let mut process = spawn_with(data.path(), |command| {
        command
            .env("IDV_API_KEYS", format!("billing:{digest}"))
            .env("IDV_LOG", "debug")
            .stdout(log.try_clone().unwrap())
            .stderr(log);
    })
    .await;
    let channel = crate::process::connect(&process).await;
    let status = attempts(&channel, Some(BILLING)).get_attempt(get_attempt("nope")).await;
    assert_eq!(refusal(status).0, Code::NotFound);
    let status = attempts(&channel, Some(READER)).get_attempt(get_attempt("nope")).await;
    assert_eq!(refusal(status).1, "API_KEY_INVALID");
    // The response line is written when the call ends; give the writer a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    let logs = loop {
        let logs = plain(&std::fs::read_to_string(&log_path).unwrap());
        if logs.contains(r#"caller="billing""#) || Instant::now() > deadline {
            break logs;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    process.kill();
    let line = logs.lines().find(|line| line.contains(r#"caller="billing""#));
    assert!(line.is_some_and(|l| l.contains("GetAttempt")), "a call's log line names its caller:\n{logs}");
    for secret in [BILLING, READER, digest.as_str()] {
        assert!(!logs.contains(secret), "the log shows a key or its digest:\n{logs}");
    }
}

/// A `transaction_id` makes a start idempotent for the caller who sent it; another caller
/// limited to its own attempts that happens on (or guesses) the same id must not be handed
/// the first caller's session, whose URL is the person's verification page.
#[tokio::test]
async fn a_transaction_id_never_hands_one_callers_session_to_another() {
    let fake = FakeVendors::start_with(|config| {
        config.auth.api_keys =
            vec![key("tenant-a", TENANT_A, &[], true), key("tenant-b", TENANT_B, &[], true)]
    })
    .await;
    for (attempt, times) in [("att-of-a", Some(1)), ("att-of-b", None)] {
        let body = json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
            "data": {"attemptId": attempt, "fullUrl": format!("https://ableid.test/{attempt}"), "lang": "ru"}});
        let mock = wiremock::Mock::given(wiremock::matchers::path("/ableid/check/start/second"))
            .respond_with(wiremock::ResponseTemplate::new(201).set_body_json(body));
        match times {
            Some(n) => mock.up_to_n_times(n).mount(&fake.server).await,
            None => mock.mount(&fake.server).await,
        }
    }
    let gateway = &fake.gateway;
    let a = ableid(gateway, Some(TENANT_A)).start_resident_check(resident("order-7")).await.unwrap();
    assert_eq!(a.into_inner().attempt_id, "att-of-a");

    let b = ableid(gateway, Some(TENANT_B)).start_resident_check(resident("order-7")).await.unwrap();
    let b = b.into_inner();
    assert_ne!(b.full_url, "https://ableid.test/att-of-a", "B was handed A's session");
    assert_eq!(b.attempt_id, "att-of-b");
    assert!(attempts(&gateway.channel, Some(TENANT_B)).get_attempt(get_attempt("att-of-b")).await.is_ok());

    // Each caller's retry still gets its own session back without a vendor call.
    let again = ableid(gateway, Some(TENANT_A)).start_resident_check(resident("order-7")).await.unwrap();
    assert_eq!(again.into_inner().attempt_id, "att-of-a");
    assert_eq!(fake.requests().await.len(), 2, "one vendor call per caller");
}
