//! The integration tests: one binary, so the crate links once.
//!
//! Each test starts a gateway on port 0 and talks to it through a real tonic client;
//! vendors are either a recording fake (wiremock) that asserts the exact HTTP call, or
//! the simulated vendors of the `idv-sandbox` crate, started beside the gateway.
//! Some start the gateway binary as a child process (`process`, parts of `trust` and
//! `store_faults`).
//! `trust` tries each finding of the trust issue again; `properties` holds the proptest
//! properties over hostile input (hooks, vendor JSON, validation, tokens).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod ableid;
mod auth_tls;
mod b2core;
mod baf;
mod harness;
mod operability;
mod process;
mod properties;
mod public_http;
mod replicas;
mod sandbox;
mod server;
mod sockets;
mod store_faults;
mod trust;
mod watch;
