//! Caller authentication for the gRPC API: API keys, client certificates (mTLS) and
//! scopes, as a tower layer; and TLS with certificate reload for both listeners.
//!
//! # Layout
//!
//! - [`config`]: `[auth]`, `server.tls_*`, their `IDV_*` variables, checks, and the
//!   secure-by-default [`startup_check`].
//! - [`keys`]: the key store, the key file format and its reload, constant-time lookup.
//! - [`scope`]: what a caller may call.
//! - [`identity`]: names in a verified client certificate, and `[[auth.clients]]`.
//! - [`layer`]: [`Authenticator`], [`AuthLayer`], and the [`Caller`] handlers see.
//! - [`tls`]: [`ReloadingTls`] (rustls with reload) and [`TlsIncoming`] (handshakes off the
//!   accept loop), for tonic and axum.
//!
//! # Wiring, in order
//!
//! 1. After loading the configuration: `auth.apply_env`, `tls.apply_env`, `auth.check(&tls, ..)`,
//!    then [`startup_check`] (refuse to start on its `Err`) and log [`startup_warnings`].
//! 2. `Arc::new(Authenticator::from_config(&auth, &tls)?)`, then `spawn_reload(reload)`.
//! 3. `ReloadingTls::load(&tls)?`; when `Some`, `spawn_reload(reload)` and serve each
//!    listener from `TlsIncoming::new(listener, tls.acceptor(Listener::Grpc)?, IncomingOptions::default())`
//!    (`Listener::Http` for the HTTP listener).
//! 4. `Server::builder().layer(TraceLayer::new_for_grpc().make_span_with(grpc_span)).layer(auth.layer())`.
//!
//! # Invariants
//!
//! - Only health passes without credentials once any credential is configured.
//! - A key file that fails to load never replaces working keys; nothing ever empties the
//!   key set except a file that deliberately lists none.
//! - Keys and their digests appear in no log, message, error or `Debug` output.

pub mod config;
pub mod identity;
pub mod keys;
pub mod layer;
pub mod scope;
pub mod tls;

pub use config::{ApiKeyConfig, AuthConfig, ClientConfig, TlsConfig, startup_check, startup_warnings};
pub use keys::{KeyStore, key_digest_hex, parse_keys_file};
pub use layer::{AuthLayer, AuthService, Authenticator, Caller, Via, grpc_span, reason};
pub use scope::Scopes;
pub use tls::{IncomingOptions, Listener, ReloadingTls, TlsError, TlsIncoming};
