//! TLS for both listeners, with certificates reloaded from disk, and a TLS `incoming` that
//! tonic's `serve_with_incoming_shutdown` and `axum::serve` both accept.
//!
//! # Reload
//!
//! The server certificate comes from a [`ResolvesServerCert`] and client certificates are
//! checked by a [`ClientCertVerifier`], each holding the current value behind a lock that a
//! poll task replaces when the files' content changes (cert-manager rotates them in place).
//! So one plain `tokio_rustls::TlsAcceptor` serves for the process's life, and any library
//! that takes one can use it. Connections already open keep the certificate they started
//! with. Files that do not load (a key that does not match the certificate, say, while
//! cert-manager is half-way through writing) leave the previous material in use and are
//! logged; the next change is tried again.
//!
//! # Client certificates are optional at the TLS level
//!
//! With `server.tls_client_ca_file` set, a client *may* present a certificate, and one that
//! does not verify fails the handshake; one that verifies names the caller. The
//! [`super::AuthLayer`] then refuses calls that bring neither a key nor a certificate.
//! Requiring a certificate in the handshake was rejected because (1) health must stay open
//! to probes and load balancers that have none, (2) a missing certificate then shows as an
//! opaque handshake alert instead of a gRPC status with a reason, and (3) API-key callers
//! share the listener. Anonymous peers can reach the HTTP/2 layer either way, since health
//! is open.
//!
//! The verifier sends no CA names (`root_hint_subjects`) in its certificate request: a
//! reloadable verifier cannot lend out a borrowed list, and an empty list means "any",
//! after which clients with one certificate (every gRPC client) send it.
//!
//! # Provider
//!
//! `ring` only, chosen explicitly rather than through rustls' process-wide default:
//! aws-lc-rs needs cmake and a C toolchain at build time, and an explicit provider cannot be
//! changed by another crate's feature flags.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme};
use sha2::{Digest, Sha256};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::config::TlsConfig;

/// Which listener a rustls configuration is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Listener {
    /// The gRPC listener: ALPN `h2` only (tonic's client insists on it), and client
    /// certificates requested when `server.tls_client_ca_file` is set.
    Grpc,
    /// The HTTP listener (vendor hooks, the BAF return URL, sandbox pages): ALPN
    /// `http/1.1`, and no client certificate request, which would make browsers that hold
    /// certificates ask their user to pick one.
    Http,
}

/// A TLS file that cannot be used. Messages name the setting and the file, never key
/// material.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file cannot be read.
    #[error("{setting} {}: {source}", path.display())]
    Read {
        /// The setting naming the file.
        setting: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A file holds no usable PEM item of the kind its setting needs.
    #[error("{setting} {}: {what}", path.display())]
    Content {
        /// The setting naming the file.
        setting: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// A required setting is missing.
    #[error("{0} is required with server.tls_cert_file")]
    Missing(&'static str),
}

/// The TLS material in force and how to reload it.
#[derive(Debug)]
pub struct ReloadingTls {
    files: Files,
    provider: Arc<CryptoProvider>,
    certificate: Arc<CertResolver>,
    client_verifier: Option<Arc<ReloadingClientVerifier>>,
    seen: Mutex<Seen>,
}

#[derive(Debug)]
struct Files {
    cert: PathBuf,
    key: PathBuf,
    client_ca: Option<PathBuf>,
}

/// What the last look found, so each content is tried once and each problem logged once.
#[derive(Debug, Default)]
struct Seen {
    cert_and_key: [u8; 32],
    client_ca: Option<[u8; 32]>,
    problems: Vec<String>,
}

/// What a look at the TLS files found.
#[derive(Debug, PartialEq, Eq)]
pub enum TlsReload {
    /// Nothing changed.
    Unchanged,
    /// New material is in use; says which.
    Reloaded {
        /// The server certificate and key.
        certificate: bool,
        /// The client CA.
        client_ca: bool,
    },
    /// Some files were refused and their previous material stays in use.
    Kept(Vec<String>),
}

impl ReloadingTls {
    /// Loads the certificate, its key and the client CA. `Ok(None)` when TLS is off
    /// (`server.tls_cert_file` unset).
    pub fn load(config: &TlsConfig) -> Result<Option<Arc<Self>>, TlsError> {
        let Some(cert) = config.tls_cert_file.clone() else { return Ok(None) };
        let key = config.tls_key_file.clone().ok_or(TlsError::Missing("server.tls_key_file"))?;
        let files = Files { cert, key, client_ca: config.tls_client_ca_file.clone() };
        let provider = Arc::new(rustls::crypto::ring::default_provider());

        let (cert_bytes, key_bytes) = (read(CERT, &files.cert)?, read(KEY, &files.key)?);
        let certified = certified_key(&files, &cert_bytes, &key_bytes, &provider)?;
        let mut seen = Seen { cert_and_key: fingerprint(&[&cert_bytes, &key_bytes]), ..Seen::default() };
        let client_verifier = match &files.client_ca {
            Some(path) => {
                let ca_bytes = read(CLIENT_CA, path)?;
                seen.client_ca = Some(fingerprint(&[&ca_bytes]));
                let inner = client_verifier(path, &ca_bytes, &provider)?;
                Some(Arc::new(ReloadingClientVerifier(RwLock::new(inner))))
            }
            None => None,
        };
        Ok(Some(Arc::new(Self {
            files,
            provider,
            certificate: Arc::new(CertResolver(RwLock::new(Arc::new(certified)))),
            client_verifier,
            seen: Mutex::new(seen),
        })))
    }

    /// A rustls configuration for `listener` over the reloading certificate (and, for gRPC,
    /// the reloading client verifier). Build one per listener; they share the reloads.
    pub fn server_config(&self, listener: Listener) -> Result<Arc<ServerConfig>, rustls::Error> {
        let builder = ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()?;
        let builder = match (&self.client_verifier, listener) {
            (Some(verifier), Listener::Grpc) => builder.with_client_cert_verifier(verifier.clone()),
            _ => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(self.certificate.clone());
        config.alpn_protocols = match listener {
            Listener::Grpc => vec![b"h2".to_vec()],
            Listener::Http => vec![b"http/1.1".to_vec()],
        };
        Ok(Arc::new(config))
    }

    /// A `tokio_rustls` acceptor for [`ReloadingTls::server_config`].
    pub fn acceptor(&self, listener: Listener) -> Result<TlsAcceptor, rustls::Error> {
        Ok(TlsAcceptor::from(self.server_config(listener)?))
    }

    /// Looks at the files and puts changed material in force when it loads. Logs what it
    /// did, each problem once rather than at every poll. Blocking file I/O: [`ReloadingTls::spawn_reload`] runs it on the blocking pool.
    pub fn reload(&self) -> TlsReload {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let mut problems = Vec::new();
        let mut reloaded = (false, false);

        // A file that cannot be read (usually a swap in progress) leaves the fingerprints
        // alone: content that comes back unchanged is already in force.
        match (read(CERT, &self.files.cert), read(KEY, &self.files.key)) {
            (Ok(cert), Ok(key)) => {
                let print = fingerprint(&[&cert, &key]);
                if print != seen.cert_and_key {
                    seen.cert_and_key = print;
                    match certified_key(&self.files, &cert, &key, &self.provider) {
                        Ok(certified) => {
                            *self.certificate.0.write().unwrap_or_else(PoisonError::into_inner) =
                                Arc::new(certified);
                            reloaded.0 = true;
                        }
                        Err(e) => problems.push(e.to_string()),
                    }
                }
            }
            (cert, key) => problems.extend(cert.err().into_iter().chain(key.err()).map(|e| e.to_string())),
        }
        if let (Some(path), Some(verifier)) = (&self.files.client_ca, &self.client_verifier) {
            match read(CLIENT_CA, path) {
                Ok(ca) => {
                    let print = fingerprint(&[&ca]);
                    if seen.client_ca != Some(print) {
                        seen.client_ca = Some(print);
                        match client_verifier(path, &ca, &self.provider) {
                            Ok(inner) => {
                                *verifier.0.write().unwrap_or_else(PoisonError::into_inner) = inner;
                                reloaded.1 = true;
                            }
                            Err(e) => problems.push(e.to_string()),
                        }
                    }
                }
                Err(e) => problems.push(e.to_string()),
            }
        }
        if reloaded.0 || reloaded.1 {
            tracing::info!(certificate = reloaded.0, client_ca = reloaded.1, "TLS files reloaded");
        }
        if problems != seen.problems {
            for problem in &problems {
                tracing::error!(%problem, "TLS file refused; keeping the previous one");
            }
            seen.problems.clone_from(&problems);
        }
        match (problems.is_empty(), reloaded) {
            (false, _) => TlsReload::Kept(problems),
            (true, (false, false)) => TlsReload::Unchanged,
            (true, (certificate, client_ca)) => TlsReload::Reloaded { certificate, client_ca },
        }
    }

    /// Polls the files every `interval` (`auth.reload_secs`) until `self` is dropped.
    pub fn spawn_reload(self: &Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        let tls: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks.tick().await; // Immediate; `load` has just read the files.
            loop {
                ticks.tick().await;
                let Some(tls) = tls.upgrade() else { return };
                if tokio::task::spawn_blocking(move || tls.reload()).await.is_err() {
                    tracing::error!("TLS reload panicked");
                }
            }
        })
    }
}

const CERT: &str = "server.tls_cert_file";
const KEY: &str = "server.tls_key_file";
const CLIENT_CA: &str = "server.tls_client_ca_file";

fn read(setting: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { setting, path: path.to_owned(), source })
}

fn fingerprint(parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        // Lengths first, so moving bytes from one file to the other changes the print.
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.finalize().into()
}

fn certificates(
    setting: &'static str,
    path: &Path,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let content = |what: String| TlsError::Content { setting, path: path.to_owned(), what };
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| content(format!("bad PEM: {e}")))?;
    if certs.is_empty() {
        return Err(content("no PEM certificate".into()));
    }
    Ok(certs)
}

fn certified_key(
    files: &Files,
    cert: &[u8],
    key: &[u8],
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsError> {
    let chain = certificates(CERT, &files.cert, cert)?;
    // The PEM error is not shown: its text could quote the key file.
    let key = PrivateKeyDer::from_pem_slice(key).map_err(|_| TlsError::Content {
        setting: KEY,
        path: files.key.clone(),
        what: "no PEM private key (PKCS#8, PKCS#1 or SEC1)".into(),
    })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| TlsError::Content {
        setting: KEY,
        path: files.key.clone(),
        what: format!("unusable with {}: {e}", files.cert.display()),
    })
}

fn client_verifier(
    path: &Path,
    pem: &[u8],
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
    let content = |what: String| TlsError::Content { setting: CLIENT_CA, path: path.to_owned(), what };
    let mut roots = RootCertStore::empty();
    for cert in certificates(CLIENT_CA, path, pem)? {
        roots.add(cert).map_err(|e| content(format!("unusable CA certificate: {e}")))?;
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|e| content(e.to_string()))
}

/// The server certificate in force.
#[derive(Debug)]
struct CertResolver(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for CertResolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.read().unwrap_or_else(PoisonError::into_inner).clone())
    }
}

/// The client verifier in force; see the module documentation for the empty CA hints.
#[derive(Debug)]
struct ReloadingClientVerifier(RwLock<Arc<dyn ClientCertVerifier>>);

impl ReloadingClientVerifier {
    fn current(&self) -> Arc<dyn ClientCertVerifier> {
        self.0.read().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

impl ClientCertVerifier for ReloadingClientVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.current().verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.current().verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.current().verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.current().supported_verify_schemes()
    }
}

/// How [`TlsIncoming`] treats connections.
#[derive(Clone, Debug)]
pub struct IncomingOptions {
    /// Longest a TLS handshake may take; slower peers are dropped.
    pub handshake_timeout: Duration,
    /// Handshakes in progress at once; past it, accepting waits (the kernel's backlog
    /// holds new connections), so a flood of idle peers cannot exhaust memory.
    pub max_handshakes: usize,
    /// `TCP_NODELAY`: without it, Nagle's algorithm and delayed ACKs add ~40 ms to small
    /// responses.
    pub nodelay: bool,
    /// TCP keepalive idle time.
    pub keepalive: Option<Duration>,
}

impl Default for IncomingOptions {
    fn default() -> Self {
        Self {
            handshake_timeout: Duration::from_secs(10),
            max_handshakes: 256,
            nodelay: true,
            keepalive: Some(Duration::from_secs(60)),
        }
    }
}

/// TLS connections from a TCP listener, handshaken each in its own task so one slow client
/// cannot stall accepting. A [`Stream`](futures_util::Stream) for tonic's
/// `serve_with_incoming_shutdown` (its items are `tokio_rustls::server::TlsStream`s, for
/// which tonic puts `TlsConnectInfo` with the client's certificates in each request's
/// extensions) and an [`axum::serve::Listener`] for the HTTP listener. Failed handshakes are
/// logged at debug and dropped. Dropping it stops accepting.
pub struct TlsIncoming {
    connections: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
    accepting: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for TlsIncoming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIncoming").field("local_addr", &self.local_addr).finish_non_exhaustive()
    }
}

impl TlsIncoming {
    /// Starts accepting on `listener`. Must be called inside a tokio runtime.
    pub fn new(listener: TcpListener, acceptor: TlsAcceptor, options: IncomingOptions) -> io::Result<Self> {
        let local_addr = listener.local_addr()?;
        // A small queue: connections handshaken but not yet taken by the server.
        let (sender, connections) = mpsc::channel(16);
        let accepting = tokio::spawn(accept_loop(listener, acceptor, options, sender));
        Ok(Self { connections, local_addr, accepting })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl Drop for TlsIncoming {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    options: IncomingOptions,
    sender: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let handshakes = Arc::new(Semaphore::new(options.max_handshakes.max(1)));
    loop {
        let Ok(permit) = handshakes.clone().acquire_owned().await else { return };
        let (tcp, peer) = tokio::select! {
            () = sender.closed() => return,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Errors about one connection (reset before accept) are routine;
                    // others (out of file descriptors) get a pause so the loop does not spin.
                    if matches!(e.kind(), io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset | io::ErrorKind::Interrupted) {
                        tracing::debug!(error = %e, "accept failed");
                    } else {
                        tracing::warn!(error = %e, "accept failed; pausing");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    continue;
                }
            },
        };
        if options.nodelay
            && let Err(e) = tcp.set_nodelay(true)
        {
            tracing::debug!(%peer, error = %e, "cannot set TCP_NODELAY");
        }
        if let Some(idle) = options.keepalive
            && let Err(e) =
                socket2::SockRef::from(&tcp).set_tcp_keepalive(&socket2::TcpKeepalive::new().with_time(idle))
        {
            tracing::debug!(%peer, error = %e, "cannot set TCP keepalive");
        }
        let acceptor = acceptor.clone();
        let sender = sender.clone();
        let timeout = options.handshake_timeout;
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(timeout, acceptor.accept(tcp)).await;
            drop(permit);
            match handshake {
                // Fails only when the server has stopped taking connections.
                Ok(Ok(tls)) => drop(sender.send((tls, peer)).await),
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

impl futures_util::Stream for TlsIncoming {
    type Item = Result<TlsStream<TcpStream>, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.connections.poll_recv(cx).map(|next| next.map(|(tls, _)| Ok(tls)))
    }
}

impl axum::serve::Listener for TlsIncoming {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.connections.recv().await {
            Some(connection) => connection,
            // The accept task ended (it never does while `self` lives, short of a panic):
            // nothing more will come, and axum's `accept` cannot report an end.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}

#[cfg(test)]
mod tests {
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};

    use super::*;

    fn self_signed(cn: &str) -> (String, String) {
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, cn);
        params.distinguished_name = dn;
        let key = KeyPair::generate().unwrap();
        (params.self_signed(&key).unwrap().pem(), key.serialize_pem())
    }

    fn served_cn(tls: &ReloadingTls) -> String {
        let certified = tls.certificate.0.read().unwrap().clone();
        let leaf = certified.end_entity_cert().unwrap();
        crate::auth::identity::CertNames::from_der(leaf.as_ref()).unwrap().common_name.unwrap()
    }

    struct TestFiles {
        dir: tempfile::TempDir,
    }

    impl TestFiles {
        fn new(cert: &str, key: &str) -> Self {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("tls.crt"), cert).unwrap();
            std::fs::write(dir.path().join("tls.key"), key).unwrap();
            Self { dir }
        }
        fn path(&self, name: &str) -> PathBuf {
            self.dir.path().join(name)
        }
        fn config(&self, client_ca: bool) -> TlsConfig {
            TlsConfig {
                tls_cert_file: Some(self.path("tls.crt")),
                tls_key_file: Some(self.path("tls.key")),
                tls_client_ca_file: client_ca.then(|| self.path("ca.crt")),
            }
        }
    }

    #[test]
    fn no_certificate_means_no_tls() {
        assert!(ReloadingTls::load(&TlsConfig::default()).unwrap().is_none());
    }

    #[test]
    fn load_errors_name_the_setting_and_never_show_the_key() {
        let (cert, key) = self_signed("one");
        let (_, other_key) = self_signed("two");
        let files = TestFiles::new(&cert, &other_key);
        let error = ReloadingTls::load(&files.config(false)).unwrap_err().to_string();
        assert!(error.starts_with("server.tls_key_file") && error.contains("unusable with"), "{error}");

        std::fs::write(files.path("tls.key"), "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ieXRlcw\n")
            .unwrap();
        let error = ReloadingTls::load(&files.config(false)).unwrap_err().to_string();
        assert!(error.contains("no PEM private key") && !error.contains("c2VjcmV0"), "{error}");

        std::fs::write(files.path("tls.key"), &key).unwrap();
        std::fs::write(files.path("tls.crt"), "hello").unwrap();
        let error = ReloadingTls::load(&files.config(false)).unwrap_err().to_string();
        assert!(error.starts_with("server.tls_cert_file") && error.contains("no PEM certificate"), "{error}");

        std::fs::write(files.path("tls.crt"), &cert).unwrap();
        let error = ReloadingTls::load(&files.config(true)).unwrap_err().to_string();
        assert!(error.starts_with("server.tls_client_ca_file"), "{error}");
        let missing_key = TlsConfig { tls_key_file: None, ..files.config(false) };
        assert!(ReloadingTls::load(&missing_key).is_err());
    }

    #[test]
    fn a_half_written_pair_keeps_the_old_certificate_until_both_match() {
        let (cert, key) = self_signed("one");
        let files = TestFiles::new(&cert, &key);
        let tls = ReloadingTls::load(&files.config(false)).unwrap().unwrap();
        assert_eq!(tls.reload(), TlsReload::Unchanged);

        let (next_cert, next_key) = self_signed("two");
        std::fs::write(files.path("tls.key"), &next_key).unwrap();
        assert!(matches!(tls.reload(), TlsReload::Kept(p) if p.len() == 1), "key without its certificate");
        assert_eq!(served_cn(&tls), "one");
        assert_eq!(tls.reload(), TlsReload::Unchanged, "a refused pair is reported once");

        std::fs::write(files.path("tls.crt"), &next_cert).unwrap();
        assert_eq!(tls.reload(), TlsReload::Reloaded { certificate: true, client_ca: false });
        assert_eq!(served_cn(&tls), "two");

        // A missing file is a swap in progress: kept, and tried again next time.
        std::fs::remove_file(files.path("tls.crt")).unwrap();
        assert!(matches!(tls.reload(), TlsReload::Kept(_)));
        assert_eq!(served_cn(&tls), "two");
    }

    #[test]
    fn client_ca_changes_reload_the_verifier() {
        let (cert, key) = self_signed("server");
        let files = TestFiles::new(&cert, &key);
        let (ca_one, _) = self_signed("ca-one");
        std::fs::write(files.path("ca.crt"), &ca_one).unwrap();
        let tls = ReloadingTls::load(&files.config(true)).unwrap().unwrap();
        let grpc = tls.server_config(Listener::Grpc).unwrap();
        assert_eq!(grpc.alpn_protocols, [b"h2".to_vec()]);
        let http = tls.server_config(Listener::Http).unwrap();
        assert_eq!(http.alpn_protocols, [b"http/1.1".to_vec()]);

        std::fs::write(files.path("ca.crt"), "garbage").unwrap();
        assert!(matches!(tls.reload(), TlsReload::Kept(_)));
        let (ca_two, _) = self_signed("ca-two");
        std::fs::write(files.path("ca.crt"), &ca_two).unwrap();
        assert_eq!(tls.reload(), TlsReload::Reloaded { certificate: false, client_ca: true });
    }
}
