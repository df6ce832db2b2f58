//! End to end: a real tonic server behind `AuthLayer`, served over `TlsIncoming` with
//! `ReloadingTls`, called by real tonic clients (and raw rustls clients where the
//! handshake itself is under test). Certificates are made in-process with rcgen.
//!
//! The service is a tiny echo service rather than the gateway's own, so the layer and the
//! TLS machinery are tested alone; `trust::auth` tests them wired into the real gateway.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::uri::PathAndQuery;
use idv_gateway::auth::identity::CertNames;
use idv_gateway::auth::{
    ApiKeyConfig, AuthConfig, Authenticator, Caller, ClientConfig, IncomingOptions, Listener, ReloadingTls,
    TlsConfig, TlsIncoming, grpc_span, key_digest_hex,
};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity, Server};
use tonic::{Code, Status};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_types::StatusExt;
use tower_http::trace::TraceLayer;

const GET: &str = "/test.v1.EchoService/GetCaller";
const CREATE: &str = "/test.v1.EchoService/CreateThing";
const BILLING_KEY: &str = "k_billing_5b1e0c7d2f9a4e31";
const READER_KEY: &str = "k_reader_77c0a1d9e4f2b6a8";
/// Short, so reload tests finish well under 2 s.
const RELOAD: Duration = Duration::from_millis(100);

// ---- PKI (also used by `trust::auth`) -------------------------------------------------

/// A test certificate authority.
pub(crate) struct Ca {
    issuer: Issuer<'static, KeyPair>,
    /// Its certificate, PEM.
    pub(crate) pem: String,
}

/// A certificate and its key, PEM.
pub(crate) struct Leaf {
    pub(crate) cert: String,
    pub(crate) key: String,
}

impl Ca {
    pub(crate) fn new(name: &str) -> Self {
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        Self { issuer: Issuer::new(params, key), pem }
    }

    /// A server certificate for `localhost` and `127.0.0.1`.
    pub(crate) fn server(&self, cn: &str) -> Leaf {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params.distinguished_name = dn(cn);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(params)
    }

    /// A client certificate.
    pub(crate) fn client(&self, cn: &str, sans: Vec<SanType>) -> Leaf {
        let mut params = CertificateParams::default();
        params.distinguished_name = dn(cn);
        params.subject_alt_names = sans;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf { cert: cert.pem(), key: key.serialize_pem() }
    }
}

fn dn(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

pub(crate) fn dns(name: &str) -> SanType {
    SanType::DnsName(name.try_into().unwrap())
}

/// Writes through a temporary file and a rename, as cert-manager and kubelet do, so a
/// poll never sees half a file.
fn replace(path: &Path, content: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, content).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

// ---- The service under protection ------------------------------------------------------

/// `test.v1.EchoService`: `GetCaller` (a read) and `CreateThing` (a mutation) both answer
/// with the `Caller` the handler found in its request, as `name|via`.
#[derive(Clone)]
struct Echo;

impl tonic::server::NamedService for Echo {
    const NAME: &'static str = "test.v1.EchoService";
}

struct CallerName;

impl tonic::server::UnaryService<()> for CallerName {
    type Response = String;
    type Future = Ready<Result<tonic::Response<String>, Status>>;

    fn call(&mut self, request: tonic::Request<()>) -> Self::Future {
        let caller = request.extensions().get::<Caller>().map(|c| format!("{}|{:?}", c.name, c.via));
        ready(caller.map(tonic::Response::new).ok_or_else(|| Status::internal("no Caller in extensions")))
    }
}

impl tower::Service<http::Request<tonic::body::Body>> for Echo {
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Self::Future {
        Box::pin(async move {
            if matches!(request.uri().path(), GET | CREATE) {
                let mut grpc = tonic::server::Grpc::new(tonic_prost::ProstCodec::<String, ()>::new());
                Ok(grpc.unary(CallerName, request).await)
            } else {
                Ok(Status::unimplemented("no such method").into_http())
            }
        })
    }
}

// ---- A running gateway ------------------------------------------------------------------

struct Gateway {
    addr: SocketAddr,
    dir: tempfile::TempDir,
    ca: Ca,
    // Held so the reload tasks (which hold weak references) keep running.
    _tls: Arc<ReloadingTls>,
    _auth: Arc<Authenticator>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

struct Setup {
    keys: Vec<ApiKeyConfig>,
    keys_file: Option<String>,
    mtls: bool,
    clients: Vec<ClientConfig>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            keys: vec![key("billing", BILLING_KEY, &[]), key("reader", READER_KEY, &["read"])],
            keys_file: None,
            mtls: true,
            clients: vec![],
        }
    }
}

fn key(name: &str, key: &str, scopes: &[&str]) -> ApiKeyConfig {
    ApiKeyConfig {
        name: name.into(),
        sha256: key_digest_hex(key),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        own_attempts_only: false,
    }
}

impl Gateway {
    async fn start(setup: Setup) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::new("idv test CA");
        let server = ca.server("server-1");
        std::fs::write(dir.path().join("server.pem"), &server.cert).unwrap();
        std::fs::write(dir.path().join("server.key"), &server.key).unwrap();
        std::fs::write(dir.path().join("ca.pem"), &ca.pem).unwrap();
        let tls = TlsConfig {
            tls_cert_file: Some(dir.path().join("server.pem")),
            tls_key_file: Some(dir.path().join("server.key")),
            tls_client_ca_file: setup.mtls.then(|| dir.path().join("ca.pem")),
        };
        let mut auth = AuthConfig { api_keys: setup.keys, clients: setup.clients, ..AuthConfig::default() };
        if let Some(text) = setup.keys_file {
            let file = dir.path().join("keys");
            std::fs::write(&file, text).unwrap();
            auth.api_keys_file = Some(file);
        }
        let mut problems = Vec::new();
        auth.check(&tls, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");

        let reloading = ReloadingTls::load(&tls).unwrap().unwrap();
        reloading.spawn_reload(RELOAD);
        let authenticator = Arc::new(Authenticator::from_config(&auth, &tls).unwrap());
        authenticator.spawn_reload(RELOAD);

        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let options =
            IncomingOptions { handshake_timeout: Duration::from_secs(2), ..IncomingOptions::default() };
        let incoming =
            TlsIncoming::new(listener, reloading.acceptor(Listener::Grpc).unwrap(), options).unwrap();
        let addr = incoming.local_addr();
        let (_reporter, health) = tonic_health::server::health_reporter();
        // As the gateway wires it: the trace span (with its empty `caller` field) outside,
        // the auth layer inside it.
        let router = Server::builder()
            .layer(TraceLayer::new_for_grpc().make_span_with(grpc_span))
            .layer(authenticator.layer())
            .add_service(health)
            .add_service(Echo);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            router
                .serve_with_incoming_shutdown(incoming, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
        Self { addr, dir, ca, _tls: reloading, _auth: authenticator, _stop: stop }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A tonic channel trusting the test CA, optionally with a client certificate.
    async fn channel(&self, identity: Option<&Leaf>) -> Result<Channel, tonic::transport::Error> {
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.ca.pem))
            .domain_name("localhost");
        if let Some(leaf) = identity {
            tls = tls.identity(Identity::from_pem(&leaf.cert, &leaf.key));
        }
        Channel::from_shared(format!("https://{}", self.addr)).unwrap().tls_config(tls)?.connect().await
    }

    /// A raw rustls handshake, offering no ALPN.
    async fn handshake(
        &self,
        identity: Option<&Leaf>,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        self.handshake_alpn(identity, &[]).await
    }

    /// A raw rustls handshake offering the given ALPN protocols.
    async fn handshake_alpn(
        &self,
        identity: Option<&Leaf>,
        alpn: &[&[u8]],
    ) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from_pem_slice(self.ca.pem.as_bytes()).unwrap()).unwrap();
        let builder =
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots);
        let mut config = match identity {
            Some(leaf) => builder
                .with_client_auth_cert(
                    vec![CertificateDer::from_pem_slice(leaf.cert.as_bytes()).unwrap()],
                    PrivateKeyDer::from_pem_slice(leaf.key.as_bytes()).unwrap(),
                )
                .unwrap(),
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        let tcp = TcpStream::connect(self.addr).await?;
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await
    }

    async fn served_cn(&self) -> String {
        let tls = self.handshake(None).await.unwrap();
        let certs = tls.get_ref().1.peer_certificates().unwrap();
        CertNames::from_der(certs[0].as_ref()).unwrap().common_name.unwrap()
    }
}

async fn call(channel: &Channel, path: &'static str, key: Option<&str>) -> Result<String, Status> {
    let mut client = tonic::client::Grpc::new(channel.clone());
    client.ready().await.map_err(|e| Status::unavailable(e.to_string()))?;
    let mut request = tonic::Request::new(());
    if let Some(key) = key {
        request.metadata_mut().insert("authorization", format!("Bearer {key}").parse().unwrap());
    }
    let codec = tonic_prost::ProstCodec::<(), String>::new();
    client.unary(request, PathAndQuery::from_static(path), codec).await.map(tonic::Response::into_inner)
}

/// The status's code and `ErrorInfo.reason`, checking the gateway's error shape.
fn refusal(result: Result<String, Status>) -> (Code, String) {
    let status = result.expect_err("the call should be refused");
    let details = status.get_error_details();
    let info = details.error_info().unwrap_or_else(|| panic!("no ErrorInfo in {status:?}"));
    assert_eq!(info.domain, "idv-gateway");
    (status.code(), info.reason.clone())
}

/// Retries `check` until it holds or 3 s pass; reloads poll every 100 ms.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(3);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---- Tests -------------------------------------------------------------------------------

#[tokio::test]
async fn api_keys_over_tls() {
    let gateway = Gateway::start(Setup::default()).await;
    let channel = gateway.channel(None).await.unwrap();

    assert_eq!(refusal(call(&channel, GET, None).await), (Code::Unauthenticated, "API_KEY_MISSING".into()));
    assert_eq!(
        refusal(call(&channel, GET, Some("k_wrong")).await),
        (Code::Unauthenticated, "API_KEY_INVALID".into())
    );
    assert_eq!(call(&channel, GET, Some(BILLING_KEY)).await.unwrap(), "billing|ApiKey");
    assert_eq!(call(&channel, CREATE, Some(BILLING_KEY)).await.unwrap(), "billing|ApiKey");

    // Health needs nothing: no key, no client certificate.
    let health =
        HealthClient::new(channel).check(HealthCheckRequest { service: String::new() }).await.unwrap();
    assert_eq!(health.into_inner().status(), ServingStatus::Serving);
}

#[tokio::test]
async fn a_read_only_key_cannot_call_a_mutation() {
    let gateway = Gateway::start(Setup::default()).await;
    let channel = gateway.channel(None).await.unwrap();
    assert_eq!(call(&channel, GET, Some(READER_KEY)).await.unwrap(), "reader|ApiKey");
    let status = call(&channel, CREATE, Some(READER_KEY)).await.unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    let details = status.get_error_details();
    let info = details.error_info().unwrap();
    assert_eq!((info.reason.as_str(), info.domain.as_str()), ("METHOD_NOT_ALLOWED", "idv-gateway"));
    assert_eq!((info.metadata["method"].as_str(), info.metadata["caller"].as_str()), (CREATE, "reader"));
}

#[tokio::test]
async fn a_verified_client_certificate_names_the_caller() {
    let gateway = Gateway::start(Setup::default()).await;
    let cert = gateway.ca.client("billing-cn", vec![dns("billing.payments.svc")]);
    let channel = gateway.channel(Some(&cert)).await.unwrap();
    assert_eq!(call(&channel, CREATE, None).await.unwrap(), "billing.payments.svc|ClientCert");
    // A key sent alongside wins, and a wrong one is refused rather than ignored.
    assert_eq!(call(&channel, GET, Some(READER_KEY)).await.unwrap(), "reader|ApiKey");
    assert_eq!(refusal(call(&channel, GET, Some("k_wrong")).await).1, "API_KEY_INVALID");
}

#[tokio::test]
async fn listed_clients_get_their_names_and_scopes_and_others_are_refused() {
    let clients = vec![ClientConfig {
        name: "dashboard".into(),
        subject_cn: Some("dashboard-cn".into()),
        san: None,
        scopes: vec!["read".into()],
        own_attempts_only: true,
    }];
    let gateway = Gateway::start(Setup { keys: vec![], clients, ..Setup::default() }).await;

    let listed = gateway.channel(Some(&gateway.ca.client("dashboard-cn", vec![]))).await.unwrap();
    assert_eq!(call(&listed, GET, None).await.unwrap(), "dashboard|ClientCert");
    assert_eq!(
        refusal(call(&listed, CREATE, None).await),
        (Code::PermissionDenied, "METHOD_NOT_ALLOWED".into())
    );

    let unlisted = gateway.channel(Some(&gateway.ca.client("intruder", vec![]))).await.unwrap();
    assert_eq!(
        refusal(call(&unlisted, GET, None).await),
        (Code::PermissionDenied, "CLIENT_CERT_NOT_ALLOWED".into())
    );

    // Certificates only: a call without one asks for one, and health stays open.
    let anonymous = gateway.channel(None).await.unwrap();
    assert_eq!(
        refusal(call(&anonymous, GET, None).await),
        (Code::Unauthenticated, "CLIENT_CERT_MISSING".into())
    );
    assert!(HealthClient::new(anonymous).check(HealthCheckRequest { service: String::new() }).await.is_ok());
}

#[tokio::test]
async fn a_certificate_from_another_ca_fails_the_handshake() {
    let gateway = Gateway::start(Setup::default()).await;
    let rogue = Ca::new("rogue CA").client("billing-cn", vec![dns("billing.payments.svc")]);

    // TLS 1.3 sends the client certificate last, so the refusal arrives as an alert on the
    // first read after the client thinks the handshake is done.
    let mut tls = gateway.handshake(Some(&rogue)).await.unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(2), tls.read(&mut buf)).await.unwrap();
    let error = read.expect_err("the server must refuse the certificate");
    assert!(error.to_string().contains("alert"), "{error}");

    // The same through tonic: the call fails below gRPC, with no ErrorInfo from the layer.
    let outcome = match gateway.channel(Some(&rogue)).await {
        Ok(channel) => call(&channel, GET, None).await.map_err(|s| s.code()),
        Err(_) => Err(Code::Unavailable),
    };
    assert!(matches!(outcome, Err(Code::Unavailable | Code::Unknown | Code::Internal)), "{outcome:?}");

    // The trusted CA's certificates still work.
    let trusted = gateway.channel(Some(&gateway.ca.client("ok", vec![]))).await.unwrap();
    assert_eq!(call(&trusted, GET, None).await.unwrap(), "ok|ClientCert");
}

#[tokio::test]
async fn key_file_edits_take_effect_without_a_restart() {
    let gateway = Gateway::start(Setup {
        keys: vec![],
        keys_file: Some(format!("# initial\nalpha {}\n", key_digest_hex("k_alpha_1"))),
        ..Setup::default()
    })
    .await;
    let channel = gateway.channel(None).await.unwrap();
    assert_eq!(call(&channel, GET, Some("k_alpha_1")).await.unwrap(), "alpha|ApiKey");
    assert_eq!(refusal(call(&channel, GET, Some("k_beta_2")).await).1, "API_KEY_INVALID");

    let started = Instant::now();
    std::fs::write(gateway.path("keys"), format!("beta {} read\n", key_digest_hex("k_beta_2"))).unwrap();
    eventually("the new key is accepted", || async { call(&channel, GET, Some("k_beta_2")).await.is_ok() })
        .await;
    assert_eq!(refusal(call(&channel, GET, Some("k_alpha_1")).await).1, "API_KEY_INVALID");
    // The new line's scope applies.
    assert_eq!(refusal(call(&channel, CREATE, Some("k_beta_2")).await).1, "METHOD_NOT_ALLOWED");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());

    // A broken file keeps the keys in force.
    std::fs::write(gateway.path("keys"), "beta not-a-digest\n").unwrap();
    tokio::time::sleep(RELOAD * 4).await;
    assert_eq!(call(&channel, GET, Some("k_beta_2")).await.unwrap(), "beta|ApiKey");
}

#[tokio::test]
async fn replaced_certificate_files_are_served_without_a_restart() {
    let gateway = Gateway::start(Setup::default()).await;
    assert_eq!(gateway.served_cn().await, "server-1");

    // Garbage is refused and the old certificate stays.
    replace(&gateway.path("server.pem"), "not a certificate");
    tokio::time::sleep(RELOAD * 4).await;
    assert_eq!(gateway.served_cn().await, "server-1");

    // cert-manager style: new key and certificate. The key goes first, so for a moment they
    // do not match; the reload must wait for the pair.
    let started = Instant::now();
    let next = gateway.ca.server("server-2");
    replace(&gateway.path("server.key"), &next.key);
    replace(&gateway.path("server.pem"), &next.cert);
    eventually("the new certificate is served", || async { gateway.served_cn().await == "server-2" }).await;
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());

    // Clients keep working over the new certificate.
    let channel = gateway.channel(None).await.unwrap();
    assert_eq!(call(&channel, GET, Some(BILLING_KEY)).await.unwrap(), "billing|ApiKey");
}

#[tokio::test]
async fn a_replaced_client_ca_changes_which_certificates_verify() {
    let gateway = Gateway::start(Setup::default()).await;
    let old_client = gateway.ca.client("old", vec![]);
    let new_ca = Ca::new("next CA");
    let new_client = new_ca.client("new", vec![]);
    assert_eq!(
        call(&gateway.channel(Some(&old_client)).await.unwrap(), GET, None).await.unwrap(),
        "old|ClientCert"
    );

    replace(&gateway.path("ca.pem"), &new_ca.pem);
    eventually("the new CA's client is accepted", || async {
        match gateway.channel(Some(&new_client)).await {
            Ok(channel) => call(&channel, GET, None).await.is_ok_and(|name| name == "new|ClientCert"),
            Err(_) => false,
        }
    })
    .await;
    let old = match gateway.channel(Some(&old_client)).await {
        Ok(channel) => call(&channel, GET, None).await,
        Err(e) => Err(Status::unavailable(e.to_string())),
    };
    assert!(old.is_err(), "{old:?}");
}

#[tokio::test]
async fn idle_connections_do_not_stall_accepting() {
    let gateway = Gateway::start(Setup::default()).await;
    // Peers that connect and never send a ClientHello.
    let mut idle = Vec::new();
    for _ in 0..5 {
        idle.push(TcpStream::connect(gateway.addr).await.unwrap());
    }
    let started = Instant::now();
    let channel = gateway.channel(None).await.unwrap();
    assert_eq!(call(&channel, GET, Some(BILLING_KEY)).await.unwrap(), "billing|ApiKey");
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());

    // The handshake timeout (2 s here) closes them.
    let mut buf = [0u8; 1];
    let closed = tokio::time::timeout(Duration::from_secs(4), idle[0].read(&mut buf)).await.unwrap();
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");
}

#[tokio::test]
async fn the_http_listener_speaks_tls_through_the_same_machinery() {
    let gateway = Gateway::start(Setup::default()).await;
    // The gateway's settings, client CA included: the HTTP listener must still not ask
    // browsers for certificates.
    let tls = ReloadingTls::load(&TlsConfig {
        tls_cert_file: Some(gateway.path("server.pem")),
        tls_key_file: Some(gateway.path("server.key")),
        tls_client_ca_file: Some(gateway.path("ca.pem")),
    })
    .unwrap()
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let incoming =
        TlsIncoming::new(listener, tls.acceptor(Listener::Http).unwrap(), IncomingOptions::default())
            .unwrap();
    let addr = incoming.local_addr();
    let app = axum::Router::new().route("/hello", axum::routing::get(|| async { "hello over tls" }));
    tokio::spawn(async move { axum::serve(incoming, app).await });

    let http = Gateway { addr, ..gateway };
    // A certificate the gRPC listener would refuse is never asked for, so never checked.
    let rogue = Ca::new("rogue CA").client("browser-user", vec![]);
    let mut stream = http.handshake_alpn(Some(&rogue), &[b"h2", b"http/1.1"]).await.unwrap();
    assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    stream.write_all(b"GET /hello HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n").await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.ends_with("hello over tls"), "{response}");
}
