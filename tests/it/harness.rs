//! Starting a gateway for a test, and reading the errors it returns.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use idv_gateway::config::Config;
use idv_gateway::proto;
use idv_gateway::providers::ableid::AbleIdConfig;
use idv_gateway::providers::b2core::B2CoreConfig;
use idv_gateway::providers::baf::BafConfig;
use idv_gateway::server::{self, Listeners, Running};
use idv_sandbox::{Options, Sandbox};
use tokio_util::sync::CancellationToken;
use tonic::transport::Channel;
use tonic_types::StatusExt;
use url::Url;

/// The `[ableid]` section of a configuration.
pub fn ableid(config: &mut Config) -> &mut AbleIdConfig {
    config.provider_mut().expect("ableid is registered")
}

/// The `[baf]` section of a configuration.
pub fn baf(config: &mut Config) -> &mut BafConfig {
    config.provider_mut().expect("baf is registered")
}

/// The `[b2core]` section of a configuration.
pub fn b2core(config: &mut Config) -> &mut B2CoreConfig {
    config.provider_mut().expect("b2core is registered")
}

/// A gateway running inside the test process, and the sandbox it is pointed at, if any.
pub struct TestGateway {
    pub grpc_addr: SocketAddr,
    pub http_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub channel: Channel,
    running: Option<Running>,
    sandbox: Option<Sandbox>,
    /// Keeps the data directory alive as long as the gateway.
    pub data_dir: tempfile::TempDir,
}

/// A configuration on loopback port 0 with a fresh data directory and no vendors.
pub fn config() -> (Config, tempfile::TempDir) {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.server.grpc_addr = "127.0.0.1:0".parse().unwrap();
    config.server.http_addr = "127.0.0.1:0".parse().unwrap();
    config.server.admin_addr = "127.0.0.1:0".parse().unwrap();
    // Shutdown keeps the hook listener open for the whole grace period.
    config.server.shutdown_grace_secs = 1;
    config.store.data_dir = data_dir.path().to_owned();
    (config, data_dir)
}

/// Starts the simulated vendors on a port-0 listener of their own, with AbleID's data
/// hooks going to `data_hooks`, after `adjust` has changed their options.
pub async fn start_sandbox(
    data_hooks: Url,
    session_ttl: Duration,
    adjust: impl FnOnce(&mut Options),
) -> Sandbox {
    let mut options = Options::new(data_hooks);
    options.session_ttl = session_ttl;
    adjust(&mut options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the sandbox");
    idv_sandbox::serve(listener, options, CancellationToken::new()).await.expect("start the sandbox")
}

impl TestGateway {
    /// Starts a gateway with `config` (see [`config`]).
    pub async fn start(config: Config, data_dir: tempfile::TempDir) -> Self {
        let listeners = Listeners::bind(&config).await.expect("bind");
        let running = server::start(config, listeners).await.expect("start");
        Self::connect(running, None, data_dir).await
    }

    /// Starts the sandbox and a gateway pointed at it.
    pub async fn sandbox() -> Self {
        let (config, data_dir) = config();
        Self::sandbox_with(config, data_dir).await
    }

    /// Starts the sandbox and a gateway with `config` (see [`config`]) pointed at it, for
    /// tests that change a setting such as `ableid.session_ttl_secs`.
    pub async fn sandbox_with(config: Config, data_dir: tempfile::TempDir) -> Self {
        Self::sandbox_with_options(config, data_dir, |_| {}).await
    }

    /// Starts the sandbox with its options changed by `adjust` (such as where AbleID's
    /// data hooks go), and a gateway with `config` pointed at it.
    ///
    /// The gateway is pointed at the sandbox the ordinary way, through its
    /// configuration, as a deployment points it at the real vendors; the sandbox's AbleID
    /// sends its data hooks to the gateway's receivers unless `adjust` says otherwise.
    pub async fn sandbox_with_options(
        mut config: Config,
        data_dir: tempfile::TempDir,
        adjust: impl FnOnce(&mut Options),
    ) -> Self {
        let listeners = Listeners::bind(&config).await.expect("bind");
        let http_addr = listeners.http.local_addr().expect("HTTP address");
        let public_url = config
            .server
            .public_url
            .get_or_insert_with(|| format!("http://{http_addr}/").parse().unwrap())
            .clone();
        let session_ttl = Duration::from_secs(ableid(&mut config).session_ttl_secs);
        let sandbox = start_sandbox(public_url.join("hooks/ableid").unwrap(), session_ttl, adjust).await;
        let able = ableid(&mut config);
        able.base_url = Some(sandbox.ableid_url.clone());
        able.project_id = Some(idv_sandbox::ABLEID_PROJECT_ID.into());
        able.secret = Some(idv_sandbox::ABLEID_SECRET.into());
        // Caller hooks in these tests are http://127.0.0.1 receivers.
        able.allow_caller_hooks = true;
        able.allow_http_hooks = true;
        able.allow_private_hooks = true;
        baf(&mut config).base_url = Some(sandbox.baf_url.clone());
        baf(&mut config).api_key = Some(idv_sandbox::BAF_API_KEY.into());
        b2core(&mut config).base_url = Some(sandbox.b2core_url.clone());
        let running = server::start(config, listeners).await.expect("start");
        Self::connect(running, Some(sandbox), data_dir).await
    }

    async fn connect(running: Running, sandbox: Option<Sandbox>, data_dir: tempfile::TempDir) -> Self {
        let channel = Channel::from_shared(format!("http://{}", running.grpc_addr))
            .unwrap()
            .connect()
            .await
            .expect("connect");
        Self {
            grpc_addr: running.grpc_addr,
            http_addr: running.http_addr,
            admin_addr: running.admin_addr,
            channel,
            running: Some(running),
            sandbox,
            data_dir,
        }
    }

    pub fn ableid(&self) -> proto::ableid::able_id_service_client::AbleIdServiceClient<Channel> {
        proto::ableid::able_id_service_client::AbleIdServiceClient::new(self.channel.clone())
    }

    pub fn applicants(&self) -> proto::baf::applicant_service_client::ApplicantServiceClient<Channel> {
        proto::baf::applicant_service_client::ApplicantServiceClient::new(self.channel.clone())
    }

    pub fn validation(&self) -> proto::baf::validation_service_client::ValidationServiceClient<Channel> {
        proto::baf::validation_service_client::ValidationServiceClient::new(self.channel.clone())
    }

    pub fn b2core(&self) -> proto::b2core::verification_service_client::VerificationServiceClient<Channel> {
        proto::b2core::verification_service_client::VerificationServiceClient::new(self.channel.clone())
    }

    /// A URL on the admin listener, such as `/metrics`.
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.admin_addr)
    }

    /// The gateway's HTTP base URL.
    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http_addr)
    }

    /// A URL on the sandbox, such as `/sandbox/baf/embedded/{id}/pass`.
    pub fn sandbox_url(&self, path: &str) -> String {
        let sandbox = self.sandbox.as_ref().expect("a gateway started with the sandbox");
        format!("http://{}{path}", sandbox.addr)
    }

    /// Stops the gateway gracefully, then the sandbox.
    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.stop().await;
        }
        if let Some(sandbox) = self.sandbox.take() {
            sandbox.stop().await;
        }
    }
}

/// The parts of an error status tests look at.
#[derive(Debug)]
pub struct ErrorParts {
    pub code: tonic::Code,
    pub message: String,
    pub reason: String,
    pub domain: String,
    pub metadata: std::collections::HashMap<String, String>,
    pub fields: Vec<String>,
    pub retry_after: Option<std::time::Duration>,
}

/// Unpacks the richer error model of a status; panics if it has no `ErrorInfo`.
pub fn error_parts(status: &tonic::Status) -> ErrorParts {
    let details = status.get_error_details();
    let info = details.error_info().unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"));
    ErrorParts {
        code: status.code(),
        message: status.message().to_owned(),
        reason: info.reason.clone(),
        domain: info.domain.clone(),
        metadata: info.metadata.clone(),
        fields: details
            .bad_request()
            .map(|b| b.field_violations.iter().map(|v| v.field.clone()).collect())
            .unwrap_or_default(),
        retry_after: details.retry_info().and_then(|r| r.retry_delay),
    }
}

/// Fake vendors: one recording HTTP server that plays AbleID under `/ableid`, BAF under
/// `/baf/publicapi` and B2Core under `/b2core`, and a gateway configured against it.
pub struct FakeVendors {
    pub server: wiremock::MockServer,
    pub gateway: TestGateway,
}

/// The AbleID project id the fake vendors expect.
pub const PROJECT_ID: &str = "proj-1";
/// The AbleID secret the fake vendors expect.
pub const SECRET: &str = "s3cret";
/// The BAF key the fake vendors expect.
pub const BAF_KEY: &str = "sk_3938ab7b-cdbf-4a1a-952b-e3782f061f4b";

impl FakeVendors {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts with a configuration changed by `adjust` after the vendor URLs are set.
    pub async fn start_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let server = wiremock::MockServer::start().await;
        let (mut config, data_dir) = config();
        let base = server.uri();
        config.server.public_url = Some("https://idv.example.com/".parse().unwrap());
        ableid(&mut config).base_url = Some(format!("{base}/ableid").parse().unwrap());
        ableid(&mut config).project_id = Some(PROJECT_ID.into());
        ableid(&mut config).secret = Some(SECRET.into());
        baf(&mut config).base_url = Some(format!("{base}/baf/publicapi").parse().unwrap());
        baf(&mut config).api_key = Some(BAF_KEY.into());
        b2core(&mut config).base_url = Some(format!("{base}/b2core").parse().unwrap());
        // These tests assert every request the vendor saw: BAF observers only read when
        // a test wakes them.
        baf(&mut config).poll_min_secs = 3600;
        baf(&mut config).poll_max_secs = 3600;
        adjust(&mut config);
        let gateway = TestGateway::start(config, data_dir).await;
        Self { server, gateway }
    }

    /// Every request the vendors received, in order.
    pub async fn requests(&self) -> Vec<wiremock::Request> {
        self.server.received_requests().await.expect("recording is on")
    }

    /// The one request the vendors received; fails if there were more or none.
    pub async fn only_request(&self) -> wiremock::Request {
        let mut requests = self.requests().await;
        assert_eq!(requests.len(), 1, "expected exactly one vendor request, got {requests:#?}");
        requests.remove(0)
    }

    /// Answers `method path` with `status` and a JSON body.
    pub async fn reply(&self, method: &str, path: &str, status: u16, body: serde_json::Value) {
        wiremock::Mock::given(wiremock::matchers::method(method))
            .and(wiremock::matchers::path(path))
            .respond_with(wiremock::ResponseTemplate::new(status).set_body_json(body))
            .mount(&self.server)
            .await;
    }
}

/// The JSON body of a recorded request.
pub fn json_body(request: &wiremock::Request) -> serde_json::Value {
    serde_json::from_slice(&request.body).expect("JSON body")
}

/// A header of a recorded request, if present.
pub fn header<'a>(request: &'a wiremock::Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

/// A request carrying the end client's B2Core token in metadata.
pub fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request.metadata_mut().insert("b2core-authorization", token.parse().unwrap());
    request
}

/// A `WatchAttempt` stream.
pub type WatchStream = tonic::Streaming<proto::attempts::WatchAttemptResponse>;

/// How long a test waits for the next message of a watch.
pub const WATCH_WAIT: Duration = Duration::from_secs(30);

/// The next message of a watch that is not a heartbeat; `None` when the stream ended
/// with OK.
pub async fn next_message(stream: &mut WatchStream) -> Option<proto::attempts::WatchAttemptResponse> {
    use futures_util::StreamExt;
    use proto::attempts::watch_attempt_response::Kind;
    loop {
        let message =
            tokio::time::timeout(WATCH_WAIT, stream.next()).await.expect("no message in time")?.unwrap();
        if !matches!(message.kind, Some(Kind::Heartbeat(_))) {
            return Some(message);
        }
    }
}

/// The next event of a watch with its resume token, skipping the snapshot and heartbeats.
pub async fn next_event(stream: &mut WatchStream) -> (proto::attempts::AttemptEvent, String) {
    use proto::attempts::watch_attempt_response::Kind;
    loop {
        let message = next_message(stream).await.expect("stream ended early");
        if let Some(Kind::Event(event)) = message.kind {
            return (event, message.resume_token);
        }
    }
}
