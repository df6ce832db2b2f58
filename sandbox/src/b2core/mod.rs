//! Simulated B2Core front-office verification levels (seed 004).
//!
//! Every distinct bearer token is one end client, created on first sight at Level 0
//! with one history entry (reason `created`). The wizard offers one document type; each
//! submission raises the client one level, up to Level 2, where the wizard answers with
//! the final `TerminateWorkflow` step. B2Core documents both `/api/v2/my/verifications`
//! and `/v2/my/verifications`, so every operation answers under both.
//!
//! - `state`: the clients, their levels and history, and their open wizards.
//! - `request`: the bearer token, the history query and the submission body.
//! - `errors`: the refusals.
//! - `render`: history entries and wizard steps as JSON.
//! - `routes`: the HTTP surface.

mod errors;
mod render;
mod request;
mod routes;
mod state;

pub(crate) use routes::router;

/// The simulated B2Core host.
#[derive(Debug, Default)]
pub(crate) struct B2Core {
    clients: state::Clients,
}
