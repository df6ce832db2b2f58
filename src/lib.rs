//! idv-gateway: one typed gRPC API over identity-verification (KYC) vendors.
//!
//! # Layout
//!
//! - [`config`]: TOML + `IDV_*` environment; secrets redacted everywhere.
//! - [`server`]: assembles and runs the gRPC server and the HTTP listener.
//! - [`api`]: the gRPC services, one module per proto package: validate, call, map.
//! - [`vendor`]: the vendors' REST APIs behind typed methods; the only code that knows
//!   their JSON, paths and error codes.
//! - [`attempts`]: the durable event log behind `WatchAttempt`, its HTTP receivers (AbleID
//!   hooks, BAF browser returns) and the BAF observers.
//! - [`validate`]: field checks shared by the services.
//! - [`error`]: [`error::ApiError`] and its mapping to `google.rpc.Status`.
//! - [`proto`]: the generated types, whose `Debug` never prints field values.
//! - [`sandbox`]: simulated vendors for development and tests; only `main.rs` and the
//!   tests use it, never the production path.
//!
//! See `ARCHITECTURE.md` for the invariants.

pub mod api;
pub mod attempts;
pub mod config;
pub mod error;
pub mod proto;
pub mod sandbox;
pub mod server;
pub mod validate;
pub mod vendor;
