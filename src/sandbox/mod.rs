//! Simulated vendors for development, demos and tests (being built).

use crate::config::Config;
use crate::server::{self, Listeners, Running, StartError};

/// Starts the gateway against simulated vendors served on its own HTTP listener.
pub async fn start(config: Config, listeners: Listeners) -> Result<Running, StartError> {
    server::start(config, listeners, None).await
}
