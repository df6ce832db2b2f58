//! The tower layer that authenticates every gRPC call and checks its scope.
//!
//! Order of decisions for one call:
//!
//! 1. `/grpc.health.v1.Health/*` passes untouched: Kubernetes probes and load balancers
//!    carry no credentials.
//! 2. No authentication configured (loopback sandbox, or `auth.allow_unauthenticated` with
//!    nothing else): the caller is `anonymous` with full scope.
//! 3. With API keys configured, an `authorization` header is the credential: a key that is
//!    wrong is refused even when a good client certificate came with it, since a client that
//!    sends a key means that key. Without API keys configured the header is not looked at
//!    (it may be meant for a proxy in front).
//! 4. Otherwise a verified client certificate (when `server.tls_client_ca_file` is set)
//!    names the caller; see [`super::identity`] for certificates `auth.clients` does not list.
//! 5. The caller's scopes must allow the method. Refusals are logged at info with the
//!    reason, the method and the caller's name when known.
//!
//! The certificate comes from tonic's `TlsConnectInfo<TcpConnectInfo>` request extension,
//! which tonic sets for connections that are `tokio_rustls::server::TlsStream`s, whether
//! tonic terminated TLS itself or the stream came from [`super::TlsIncoming`]. rustls
//! verified it at the handshake; a CA rotated later does not reach connections already open.
//!
//! The caller then rides in the request's extensions as a [`Caller`], and its name is
//! recorded in the current span's `caller` field ([`grpc_span`] declares it). A refusal is a
//! complete gRPC response (HTTP 200, `grpc-status`, and a `google.rpc.Status` with one
//! `ErrorInfo` in domain `idv-gateway`), so every client library shows a proper status.
//! Neither messages nor logs ever hold the key or its digest.

use std::collections::HashMap;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::future::Either;
use http::HeaderMap;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};
use tower::{Layer, Service};

use super::config::{AuthConfig, TlsConfig};
use super::identity::{ClientRules, Refused};
use super::keys::KeyStore;
use super::scope::Scopes;
use crate::error::GATEWAY_DOMAIN;
use crate::telemetry::grpc::CallerSlot;

/// Paths under this prefix need no credentials.
pub const HEALTH_PREFIX: &str = "/grpc.health.v1.Health/";

/// `ErrorInfo.reason` values this layer produces.
pub mod reason {
    /// No `authorization: Bearer <key>` (and no client certificate where one would do).
    pub const API_KEY_MISSING: &str = "API_KEY_MISSING";
    /// The key matches no configured digest, or the header is not `Bearer <key>`.
    pub const API_KEY_INVALID: &str = "API_KEY_INVALID";
    /// Only client certificates are configured and none came.
    pub const CLIENT_CERT_MISSING: &str = "CLIENT_CERT_MISSING";
    /// The certificate was verified but `auth.clients` does not list it.
    pub const CLIENT_CERT_NOT_ALLOWED: &str = "CLIENT_CERT_NOT_ALLOWED";
    /// The certificate was verified but has no usable name.
    pub const CLIENT_CERT_INVALID: &str = "CLIENT_CERT_INVALID";
    /// The caller's scopes do not include the method.
    pub const METHOD_NOT_ALLOWED: &str = "METHOD_NOT_ALLOWED";
}

/// Who is calling. Handlers read it with `request.extensions().get::<Caller>()`; the gateway
/// stores `name` with the attempts a caller starts, to enforce `own_attempts_only`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The key's or client's configured name, a certificate's SAN or CN, or `anonymous`.
    pub name: Arc<str>,
    /// The caller sees only attempts and applicants it started; others are `NOT_FOUND`.
    pub own_attempts_only: bool,
    /// How the caller proved who it is.
    pub via: Via,
}

/// How a caller proved who it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// `authorization: Bearer <key>`.
    ApiKey,
    /// A verified client certificate.
    ClientCert,
    /// Nothing: no authentication is configured.
    Anonymous,
}

impl Caller {
    /// The caller when no authentication is configured.
    pub fn anonymous() -> Self {
        Self { name: "anonymous".into(), own_attempts_only: false, via: Via::Anonymous }
    }

    /// Whether the caller may see something started by `owner`. Handlers answer `NOT_FOUND`
    /// when it may not, so a restricted caller cannot even learn the id exists.
    pub fn may_see(&self, owner: &str) -> bool {
        !self.own_attempts_only || *self.name == *owner
    }

    /// The owner to filter listings by: `Some(name)` for a restricted caller.
    pub fn owner_filter(&self) -> Option<&str> {
        self.own_attempts_only.then_some(&*self.name)
    }
}

/// A span for one gRPC call with an empty `caller` field for this layer to fill, for
/// `TraceLayer::new_for_grpc().make_span_with(auth::grpc_span)`. Only the method path and
/// the caller's name: never headers (keys, B2Core tokens) or bodies.
pub fn grpc_span<B>(request: &http::Request<B>) -> tracing::Span {
    tracing::info_span!("grpc", method = %request.uri().path(), caller = tracing::field::Empty)
}

/// Decides who a call is from and whether it may proceed. Shared by every connection.
#[derive(Debug)]
pub struct Authenticator {
    mode: Mode,
}

#[derive(Debug)]
enum Mode {
    /// Nothing configured: everyone is `anonymous`.
    Open,
    Enforced {
        keys: Option<Arc<KeyStore>>,
        /// Set when `server.tls_client_ca_file` is.
        clients: Option<ClientRules>,
    },
}

impl Authenticator {
    /// Lets every call through as `anonymous`: the loopback sandbox, or
    /// `auth.allow_unauthenticated` with neither keys nor client certificates.
    pub fn open() -> Self {
        Self { mode: Mode::Open }
    }

    /// Builds the authenticator from checked settings and reads the key file. Run
    /// [`super::startup_check`] first: this accepts a configuration without credentials
    /// and then lets everyone in.
    pub fn from_config(auth: &AuthConfig, tls: &TlsConfig) -> Result<Self, Vec<String>> {
        let keys = if auth.has_api_keys() { Some(KeyStore::load(auth).map(Arc::new)) } else { None };
        let clients = tls.tls_client_ca_file.as_ref().map(|_| ClientRules::new(&auth.clients));
        match (keys.transpose(), clients.transpose()) {
            (Ok(None), Ok(None)) => Ok(Self::open()),
            (Ok(keys), Ok(clients)) => Ok(Self { mode: Mode::Enforced { keys, clients } }),
            (keys, clients) => Err(keys.err().into_iter().chain(clients.err()).flatten().collect()),
        }
    }

    /// Whether every call passes as `anonymous`.
    pub fn is_open(&self) -> bool {
        matches!(self.mode, Mode::Open)
    }

    /// The API keys, when configured.
    pub fn keys(&self) -> Option<&Arc<KeyStore>> {
        match &self.mode {
            Mode::Enforced { keys, .. } => keys.as_ref(),
            Mode::Open => None,
        }
    }

    /// Polls the key file every `interval` (`auth.reload_secs`) until the key store is
    /// dropped. `None` when there is no key file.
    pub fn spawn_reload(&self, interval: Duration) -> Option<tokio::task::JoinHandle<()>> {
        self.keys()?.spawn_reload(interval)
    }

    /// The layer for `Server::builder().layer(...)`, inside the trace layer so the span
    /// exists when the caller is recorded.
    pub fn layer(self: &Arc<Self>) -> AuthLayer {
        AuthLayer { auth: self.clone() }
    }

    /// The caller of a request, `Ok(None)` for health calls, or the refusal.
    pub fn authorize<B>(&self, request: &http::Request<B>) -> Result<Option<Caller>, Status> {
        let path = request.uri().path();
        if path.starts_with(HEALTH_PREFIX) {
            return Ok(None);
        }
        let certs =
            request.extensions().get::<TlsConnectInfo<TcpConnectInfo>>().and_then(|info| info.peer_certs());
        let leaf = certs.as_ref().and_then(|certs| certs.first()).map(|cert| cert.as_ref());
        self.authorize_parts(path, request.headers(), leaf).map(Some)
    }

    /// [`Authenticator::authorize`] on the parts that matter: the method path, the headers
    /// and the client's verified leaf certificate (DER), if any.
    pub fn authorize_parts(
        &self,
        path: &str,
        headers: &HeaderMap,
        leaf: Option<&[u8]>,
    ) -> Result<Caller, Status> {
        let Mode::Enforced { keys, clients } = &self.mode else { return Ok(Caller::anonymous()) };
        let (caller, scopes) = identify(path, headers, leaf, keys.as_deref(), clients.as_ref())?;
        if !scopes.allows(path) {
            return Err(refuse(
                Code::PermissionDenied,
                reason::METHOD_NOT_ALLOWED,
                format!("caller {} may not call {path}", caller.name),
                path,
                Some(&caller.name),
            ));
        }
        Ok(caller)
    }
}

fn identify(
    path: &str,
    headers: &HeaderMap,
    leaf: Option<&[u8]>,
    keys: Option<&KeyStore>,
    clients: Option<&ClientRules>,
) -> Result<(Caller, Arc<Scopes>), Status> {
    if let Some(keys) = keys {
        let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
        if let Some(value) = values.next() {
            let invalid =
                |message: &str| refuse(Code::Unauthenticated, reason::API_KEY_INVALID, message, path, None);
            if values.next().is_some() {
                return Err(invalid("send one authorization header"));
            }
            let key = value
                .to_str()
                .ok()
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, key)| key.trim())
                .ok_or_else(|| invalid("authorization must be `Bearer <key>`"))?;
            if key.is_empty() {
                return Err(refuse(
                    Code::Unauthenticated,
                    reason::API_KEY_MISSING,
                    "the bearer key is empty",
                    path,
                    None,
                ));
            }
            let entry = keys.lookup(key.as_bytes()).ok_or_else(|| invalid("unknown API key"))?;
            let caller =
                Caller { name: entry.name, own_attempts_only: entry.own_attempts_only, via: Via::ApiKey };
            return Ok((caller, entry.scopes));
        }
    }
    if let (Some(clients), Some(leaf)) = (clients, leaf) {
        return match clients.identify(leaf) {
            Ok(client) => {
                let caller = Caller {
                    name: client.name,
                    own_attempts_only: client.own_attempts_only,
                    via: Via::ClientCert,
                };
                Ok((caller, client.scopes))
            }
            Err(Refused::NotListed(name)) => Err(refuse(
                Code::PermissionDenied,
                reason::CLIENT_CERT_NOT_ALLOWED,
                "the client certificate is not one of auth.clients",
                path,
                name.as_deref(),
            )),
            Err(Refused::Unreadable(why)) => Err(refuse(
                Code::Unauthenticated,
                reason::CLIENT_CERT_INVALID,
                format!("client certificate: {why}"),
                path,
                None,
            )),
        };
    }
    Err(match (keys.is_some(), clients.is_some()) {
        (true, true) => refuse(
            Code::Unauthenticated,
            reason::API_KEY_MISSING,
            "send `authorization: Bearer <key>` or a client certificate",
            path,
            None,
        ),
        (true, false) => refuse(
            Code::Unauthenticated,
            reason::API_KEY_MISSING,
            "send `authorization: Bearer <key>`",
            path,
            None,
        ),
        _ => refuse(
            Code::Unauthenticated,
            reason::CLIENT_CERT_MISSING,
            "send a client certificate",
            path,
            None,
        ),
    })
}

/// A refusal as the gateway shapes every error: one `ErrorInfo`, domain `idv-gateway`,
/// metadata `method` and, when known, `caller`. Logged here, without credentials.
fn refuse(
    code: Code,
    reason: &str,
    message: impl Into<String>,
    method: &str,
    caller: Option<&str>,
) -> Status {
    let message = message.into();
    tracing::info!(reason, method, caller, "call refused");
    let mut metadata = HashMap::from([("method".to_owned(), method.to_owned())]);
    if let Some(caller) = caller {
        metadata.insert("caller".to_owned(), caller.to_owned());
    }
    Status::with_error_details(code, message, ErrorDetails::with_error_info(reason, GATEWAY_DOMAIN, metadata))
}

/// Adds [`AuthService`] to a stack.
#[derive(Clone, Debug)]
pub struct AuthLayer {
    auth: Arc<Authenticator>,
}

impl AuthLayer {
    /// A layer over a shared authenticator.
    pub fn new(auth: Arc<Authenticator>) -> Self {
        Self { auth }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> AuthService<S> {
        AuthService { inner, auth: self.auth.clone() }
    }
}

/// Authenticates each request before `S` sees it; see the module documentation.
#[derive(Clone, Debug)]
pub struct AuthService<S> {
    inner: S,
    auth: Arc<Authenticator>,
}

impl<S, B, ResBody> Service<http::Request<B>> for AuthService<S>
where
    S: Service<http::Request<B>, Response = http::Response<ResBody>>,
    ResBody: Default,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Either<Ready<Result<Self::Response, Self::Error>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // The decision is synchronous (keys are in memory; the reload runs elsewhere), so the
        // inner service is called in the same `call` whose readiness `poll_ready` reserved.
        match self.auth.authorize(&request) {
            Ok(Some(caller)) => {
                tracing::Span::current().record("caller", &*caller.name);
                // The metrics layer outside this one counts the call under this name.
                if let Some(slot) = request.extensions().get::<CallerSlot>() {
                    let _ = slot.0.set(caller.name.clone());
                }
                request.extensions_mut().insert(caller);
                Either::Right(self.inner.call(request))
            }
            Ok(None) => {
                if let Some(slot) = request.extensions().get::<CallerSlot>() {
                    let _ = slot.0.set(Caller::anonymous().name);
                }
                Either::Right(self.inner.call(request))
            }
            Err(status) => Either::Left(ready(Ok(status.into_http()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tonic_types::StatusExt;
    use tower::ServiceExt;
    use tracing::Instrument;

    use super::super::config::ApiKeyConfig;
    use super::super::keys::key_digest_hex;
    use super::*;

    const KEY: &str = "k_billing_0123456789abcdef";
    const READ_KEY: &str = "k_dashboard_0123456789abcdef";
    const GET: &str = "/idv.baf.v1.ApplicantService/GetApplicant";
    const CREATE: &str = "/idv.baf.v1.ApplicantService/CreateApplicant";

    fn keyed() -> Arc<Authenticator> {
        let auth = AuthConfig {
            api_keys: vec![
                ApiKeyConfig {
                    name: "billing".into(),
                    sha256: key_digest_hex(KEY),
                    scopes: vec![],
                    own_attempts_only: false,
                },
                ApiKeyConfig {
                    name: "dashboard".into(),
                    sha256: key_digest_hex(READ_KEY),
                    scopes: vec!["read".into()],
                    own_attempts_only: true,
                },
            ],
            ..AuthConfig::default()
        };
        Arc::new(Authenticator::from_config(&auth, &TlsConfig::default()).unwrap())
    }

    fn request(path: &str, authorization: &[&str]) -> http::Request<()> {
        let mut builder = http::Request::builder().uri(format!("http://gateway{path}"));
        for value in authorization {
            builder = builder.header("authorization", *value);
        }
        builder.body(()).unwrap()
    }

    fn refusal(
        auth: &Authenticator,
        path: &str,
        authorization: &[&str],
    ) -> (Code, String, HashMap<String, String>) {
        let status = auth.authorize(&request(path, authorization)).unwrap_err();
        let details = status.get_error_details();
        let info = details.error_info().expect("one ErrorInfo");
        assert_eq!(info.domain, "idv-gateway");
        (status.code(), info.reason.clone(), info.metadata.clone())
    }

    #[test]
    fn missing_and_invalid_keys_are_unauthenticated() {
        let auth = keyed();
        for (headers, reason) in [
            (&[][..], "API_KEY_MISSING"),
            (&["Bearer "][..], "API_KEY_MISSING"),
            (&["Bearer wrong"][..], "API_KEY_INVALID"),
            (&["Basic dXNlcjpwYXNz"][..], "API_KEY_INVALID"),
            (&[KEY][..], "API_KEY_INVALID"),
            (&["Bearer k_billing_0123456789abcdeF"][..], "API_KEY_INVALID"),
            (&[format!("Bearer {KEY}").as_str(), format!("Bearer {KEY}").as_str()][..], "API_KEY_INVALID"),
        ] {
            let (code, got, metadata) = refusal(&auth, GET, headers);
            assert_eq!((code, got.as_str()), (Code::Unauthenticated, reason), "{headers:?}");
            assert_eq!(metadata["method"], GET);
        }
    }

    #[test]
    fn a_good_key_names_the_caller() {
        let auth = keyed();
        for header in [format!("Bearer {KEY}"), format!("bearer  {KEY} ")] {
            let caller = auth.authorize(&request(CREATE, &[&header])).unwrap().unwrap();
            assert_eq!(
                (&*caller.name, caller.own_attempts_only, caller.via),
                ("billing", false, Via::ApiKey)
            );
        }
        // Reflection is protected like everything else.
        let reflection = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
        assert_eq!(refusal(&auth, reflection, &[]).1, "API_KEY_MISSING");
        assert!(auth.authorize(&request(reflection, &[&format!("Bearer {READ_KEY}")])).is_ok());
    }

    #[test]
    fn health_is_open_and_nothing_else_is() {
        let auth = keyed();
        assert_eq!(auth.authorize(&request("/grpc.health.v1.Health/Check", &[])).unwrap(), None);
        assert_eq!(
            auth.authorize(&request("/grpc.health.v1.Health/Watch", &["Bearer wrong"])).unwrap(),
            None
        );
        for path in
            ["/grpc.health.v1.HealthX/Check", "/grpc.health.v2.Health/Check", "/", "/grpc.health.v1.Health"]
        {
            assert_eq!(refusal(&auth, path, &[]).1, "API_KEY_MISSING", "{path}");
        }
    }

    #[test]
    fn scopes_limit_methods() {
        let auth = keyed();
        let header = format!("Bearer {READ_KEY}");
        let caller = auth.authorize(&request(GET, &[&header])).unwrap().unwrap();
        assert!(caller.own_attempts_only && caller.may_see("dashboard") && !caller.may_see("billing"));
        assert_eq!(caller.owner_filter(), Some("dashboard"));
        let (code, reason, metadata) = refusal(&auth, CREATE, &[&header]);
        assert_eq!((code, reason.as_str()), (Code::PermissionDenied, "METHOD_NOT_ALLOWED"));
        assert_eq!((metadata["method"].as_str(), metadata["caller"].as_str()), (CREATE, "dashboard"));
    }

    #[test]
    fn without_configuration_everyone_is_anonymous() {
        let auth = Authenticator::from_config(&AuthConfig::default(), &TlsConfig::default()).unwrap();
        assert!(auth.is_open());
        let caller = auth.authorize(&request(CREATE, &["Bearer anything"])).unwrap().unwrap();
        assert_eq!(caller, Caller::anonymous());
        assert!(caller.may_see("someone-else"));
    }

    #[test]
    fn client_certificate_only_mode_asks_for_a_certificate() {
        let tls = TlsConfig {
            tls_cert_file: Some("c".into()),
            tls_key_file: Some("k".into()),
            tls_client_ca_file: Some("ca".into()),
        };
        let auth = Authenticator::from_config(&AuthConfig::default(), &tls).unwrap();
        assert!(!auth.is_open());
        // A bearer header means nothing without keys configured; a certificate is needed.
        assert_eq!(refusal(&auth, GET, &["Bearer x"]).1, "CLIENT_CERT_MISSING");
        let (code, reason, _) = {
            let status = auth.authorize_parts(GET, &HeaderMap::new(), Some(b"garbage")).unwrap_err();
            (status.code(), status.get_error_details().error_info().unwrap().reason.clone(), ())
        };
        assert_eq!((code, reason.as_str()), (Code::Unauthenticated, "CLIENT_CERT_INVALID"));
    }

    /// A `MakeWriter` into a shared buffer, to read what was logged.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
        type Writer = Self;
        fn make_writer(&'a self) -> Self {
            self.clone()
        }
    }

    #[tokio::test]
    async fn the_service_records_the_caller_and_never_logs_the_key() {
        let logs = Captured::default();
        let subscriber = tracing_subscriber::fmt().with_writer(logs.clone()).with_ansi(false).finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let inner = tower::service_fn(|request: http::Request<()>| async move {
            tracing::info!("handled");
            let name = request.extensions().get::<Caller>().map(|c| c.name.to_string()).unwrap_or_default();
            Ok::<_, std::convert::Infallible>(http::Response::new(name))
        });
        let service = keyed().layer().layer(inner);

        let ok = request(GET, &[&format!("Bearer {KEY}")]);
        let span = grpc_span(&ok);
        // As tower-http's TraceLayer does: the call and its future run inside the span.
        let response = service.clone().oneshot(ok).instrument(span).await.unwrap();
        assert_eq!(response.body(), "billing");

        let refused = service.oneshot(request(GET, &["Bearer wrong-key-value"])).await.unwrap();
        assert_eq!(refused.status(), http::StatusCode::OK);
        let status = Status::from_header_map(refused.headers()).expect("grpc-status header");
        assert_eq!(status.code(), Code::Unauthenticated);
        assert_eq!(status.get_error_details().error_info().unwrap().reason, "API_KEY_INVALID");
        assert!(refused.body().is_empty(), "the inner service was not called");

        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        let recorded =
            text.lines().any(|line| line.contains("handled") && line.contains("caller=\"billing\""));
        assert!(recorded, "{text}");
        assert!(text.contains("API_KEY_INVALID"), "{text}");
        for secret in [KEY, "wrong-key-value", &key_digest_hex(KEY)] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}
