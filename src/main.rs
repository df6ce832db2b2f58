//! The `idv-gateway` command: `serve` (optionally against the built-in sandbox) and
//! `check-config`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use idv_gateway::config::Config;
use idv_gateway::server;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(version, about = "A gRPC gateway to identity-verification (KYC) vendors")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the gateway.
    Serve {
        /// TOML configuration file; `IDV_*` environment variables override it.
        #[arg(long, env = "IDV_CONFIG")]
        config: Option<PathBuf>,
        /// Serves simulated vendors on the HTTP listener and points the gateway at them:
        /// no credentials needed, for development and demos.
        #[arg(long)]
        sandbox: bool,
        /// Log lines as JSON objects.
        #[arg(long, env = "IDV_LOG_JSON")]
        log_json: bool,
    },
    /// Checks a configuration and prints it with secrets redacted.
    CheckConfig {
        /// TOML configuration file; `IDV_*` environment variables override it.
        #[arg(long, env = "IDV_CONFIG")]
        config: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::CheckConfig { config } => match Config::load(config.as_deref(), env) {
            Ok(config) => {
                print!("{}", config.redacted_toml());
                for warning in config.warnings() {
                    eprintln!("warning: {warning}");
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
        Command::Serve { config, sandbox, log_json } => {
            init_logging(log_json);
            let config = match Config::load(config.as_deref(), env) {
                Ok(config) => config,
                Err(e) => {
                    eprintln!("{e}");
                    return ExitCode::FAILURE;
                }
            };
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(runtime) => runtime,
                Err(e) => {
                    eprintln!("cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match runtime.block_on(serve(config, sandbox)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!("{e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

async fn serve(config: Config, with_sandbox: bool) -> Result<(), Box<dyn std::error::Error>> {
    let listeners = server::Listeners::bind(&config).await?;
    if with_sandbox {
        return Err("the sandbox is being moved into its own crate".into());
    }
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    let running = server::start(config, listeners).await?;
    let token = running.shutdown_token();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down; a second signal stops at once");
        token.cancel();
        shutdown_signal().await;
        std::process::exit(130);
    });
    running.wait().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn init_logging(json: bool) {
    let filter = EnvFilter::try_from_env("IDV_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
