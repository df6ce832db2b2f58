//! idv-gateway: one typed gRPC API over identity-verification (KYC) vendors.
//!
//! # Layout
//!
//! - [`server`]: assembles and runs the gateway: the gRPC server, the public HTTP
//!   listener, the admin listener, health and reflection, from a [`config::Config`].
//! - [`grpc`]: the gRPC edge: the one path every handler takes (deadline, validation,
//!   error mapping) and the attempts service.
//! - [`providers`]: one folder per vendor (AbleID, BAF, B2Core): its configuration, REST
//!   client, error table, JSON mapping, gRPC service and event source, plugged in
//!   through [`providers::Provider`].
//! - [`attempts`]: the core that names no vendor: attempts as an append-only event log,
//!   the state rule, `WatchAttempt`, tokens and the sweeps.
//! - [`store`]: the event log's storage seam ([`store::EventStore`]), its SQLite and
//!   PostgreSQL backends, and the conformance kit every backend passes.
//! - [`telemetry`]: metrics (and the admin listener's `/metrics`), traces.
//! - [`upstream`]: how vendors are called: the HTTP client path, lenient JSON, refusals.
//! - [`auth`]: who may call: API keys, client certificates (mTLS), scopes, TLS with
//!   reload for both listeners.
//! - [`config`], [`error`], [`validate`], [`proto`]: configuration, the error type, field
//!   checks, the generated types (whose `Debug` never prints field values).
//!
//! See `ARCHITECTURE.md` for the invariants.

pub mod attempts;
pub mod auth;
pub mod config;
pub mod error;
pub mod grpc;
pub mod proto;
pub mod providers;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod upstream;
pub mod validate;
