//! The `idv-gateway` command: `serve` (optionally beside the simulated vendors of the
//! `idv-sandbox` crate), `check-config` and `migrate`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use idv_gateway::config::{Config, ConfigError};
use idv_gateway::server::{self, Listeners};
use idv_gateway::telemetry::traces;

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
        /// Starts simulated vendors beside the gateway (on `--sandbox-addr`) and points
        /// the gateway at them through its configuration: no credentials needed, for
        /// development and demos. `IDV_*` variables that are set still win.
        #[arg(long)]
        sandbox: bool,
        /// Where `--sandbox` serves the simulated vendors.
        #[arg(long, env = "IDV_SANDBOX_ADDR", default_value = "127.0.0.1:8081")]
        sandbox_addr: SocketAddr,
        /// Log lines as JSON objects.
        #[arg(long, env = "IDV_LOG_JSON")]
        log_json: bool,
        /// Begins an empty event log where `idv-gateway.json` in the data directory says one
        /// was created but the database is missing, or adopts a database the marker does not
        /// describe. Never deletes a file. For one start only: without it, a lost database
        /// is refused instead of silently replaced by an empty one.
        #[arg(long)]
        init: bool,
    },
    /// Checks a configuration and prints it with secrets redacted.
    CheckConfig {
        /// TOML configuration file; `IDV_*` environment variables override it.
        #[arg(long, env = "IDV_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Brings the event log's schema up to date (PostgreSQL with `store.url` /
    /// `IDV_DATABASE_URL`, else the SQLite file), then exits. `serve` does it too, under
    /// the same lock; this is for running it once before a deployment.
    Migrate {
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
        Command::Migrate { config } => {
            // Migrations are logged as they are applied; the result goes to stdout.
            let filter = tracing_subscriber::EnvFilter::try_from_env("IDV_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
            tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
            let migrated =
                Config::load(config.as_deref(), env).map_err(|e| e.to_string()).and_then(|config| {
                    let runtime = tokio::runtime::Runtime::new()
                        .map_err(|e| format!("cannot start the runtime: {e}"))?;
                    runtime.block_on(idv_gateway::store::migrate(&config.store)).map_err(|e| e.to_string())
                });
            match migrated {
                Ok(done) => {
                    println!("{done}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Serve { config, sandbox, sandbox_addr, log_json, init } => {
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(runtime) => runtime,
                Err(e) => {
                    eprintln!("cannot start the runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            // Inside the runtime: the trace exporter runs on it.
            let telemetry = runtime.block_on(async { traces::init(log_json) });
            let served = if sandbox {
                runtime.block_on(simulated::serve(config.as_deref(), sandbox_addr, init))
            } else {
                runtime.block_on(serve(config.as_deref(), init))
            };
            runtime.block_on(async { telemetry.shutdown() });
            match served {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) if e.is::<ConfigError>() => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
                Err(e) => {
                    tracing::error!("{e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

type Error = Box<dyn std::error::Error>;

/// The production path: the configuration as given.
async fn serve(path: Option<&Path>, init: bool) -> Result<(), Error> {
    let config = Config::load(path, env)?;
    let listeners = Listeners::bind(&config).await?;
    run(config, listeners, init).await
}

/// Runs the gateway until a signal stops it; `init` is `serve --init`.
async fn run(mut config: Config, listeners: Listeners, init: bool) -> Result<(), Error> {
    config.store.init = init;
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

/// `serve --sandbox`: the simulated vendors on their own listener, and the gateway
/// pointed at them through ordinary configuration, as at the real vendors.
#[cfg(feature = "sandbox")]
mod simulated {
    use std::collections::HashMap;
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
    use std::path::Path;

    use idv_gateway::config::{Config, secs};
    use idv_gateway::providers::ableid::AbleIdConfig;
    use idv_gateway::providers::b2core::B2CoreConfig;
    use idv_gateway::providers::baf::BafConfig;
    use idv_gateway::server::Listeners;
    use idv_sandbox::{ABLEID_PROJECT_ID, ABLEID_SECRET, BAF_API_KEY, Options, Sandbox};
    use secrecy::ExposeSecret;
    use tokio_util::sync::CancellationToken;
    use url::Url;

    use super::{Error, env, run};

    /// Binds the gateway's listeners as configured, starts the sandbox on `sandbox_addr`,
    /// then loads the configuration again with the sandbox's values as environment
    /// variables under the real ones, and runs the gateway with it.
    pub(super) async fn serve(
        path: Option<&Path>,
        sandbox_addr: SocketAddr,
        init: bool,
    ) -> Result<(), Error> {
        // The configuration as given decides where the gateway listens and how it is
        // reached; the sandbox needs both before the gateway can be pointed at it.
        let given = Config::load(path, env)?;
        let listeners = Listeners::bind(&given).await?;
        let public_url = match &given.server.public_url {
            Some(url) => url.clone(),
            None => loopback_url(listeners.http.local_addr()?)?,
        };
        // What AbleID support registers for a real project: the gateway's receivers.
        let mut options = Options::new(public_url.join("hooks/ableid")?);
        if let Some(ableid) = given.provider::<AbleIdConfig>() {
            options.session_ttl = secs(ableid.session_ttl_secs);
        }
        // Large photos on demand, for client tests of media by reference.
        options.photo_bytes = env("IDV_SANDBOX_PHOTO_BYTES").and_then(|v| v.trim().parse().ok());
        let listener = tokio::net::TcpListener::bind(sandbox_addr)
            .await
            .map_err(|e| format!("sandbox listener {sandbox_addr}: {e}"))?;
        let sandbox = idv_sandbox::serve(listener, options, CancellationToken::new()).await?;

        let overrides = environment(&sandbox, given.server.public_url.is_none().then_some(&public_url));
        for name in overrides.keys().filter(|name| set(&env, name).is_some()) {
            tracing::warn!("sandbox: {name} is set in the environment and wins over the sandbox's value");
        }
        let config = Config::load(path, layered(env, &overrides))?;
        for warning in mismatches(&config, &sandbox) {
            tracing::warn!("sandbox: {warning}");
        }
        let served = run(config, listeners, init).await;
        sandbox.stop().await;
        served
    }

    /// A variable of `real`, unless empty: `Config::load` reads an empty one as unset.
    fn set(real: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
        real(name).filter(|value| !value.is_empty())
    }

    /// The environment `real` over `overrides`: what is set in `real` wins.
    fn layered<'a>(
        real: impl Fn(&str) -> Option<String> + 'a,
        overrides: &'a HashMap<&'static str, String>,
    ) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| set(&real, name).or_else(|| overrides.get(name).cloned())
    }

    /// The sandbox's settings as the environment variables a deployment would set.
    /// `public_url` is the gateway's own when the configuration has none. Caller hooks
    /// in development are `http://127.0.0.1...`, which production refuses.
    fn environment(sandbox: &Sandbox, public_url: Option<&Url>) -> HashMap<&'static str, String> {
        let mut vars = HashMap::from([
            ("IDV_ABLEID_BASE_URL", sandbox.ableid_url.to_string()),
            ("IDV_ABLEID_PROJECT_ID", ABLEID_PROJECT_ID.to_owned()),
            ("IDV_ABLEID_SECRET", ABLEID_SECRET.to_owned()),
            ("IDV_ABLEID_ALLOW_CALLER_HOOKS", "true".to_owned()),
            ("IDV_ABLEID_ALLOW_HTTP_HOOKS", "true".to_owned()),
            ("IDV_ABLEID_ALLOW_PRIVATE_HOOKS", "true".to_owned()),
            ("IDV_BAF_BASE_URL", sandbox.baf_url.to_string()),
            ("IDV_BAF_API_KEY", BAF_API_KEY.to_owned()),
            ("IDV_B2CORE_BASE_URL", sandbox.b2core_url.to_string()),
        ]);
        if let Some(url) = public_url {
            vars.insert("IDV_PUBLIC_URL", url.to_string());
        }
        vars
    }

    /// What in the final configuration does not point at the sandbox: set on purpose
    /// (a real vendor beside simulated ones) or by mistake (a secret file in the TOML).
    fn mismatches(config: &Config, sandbox: &Sandbox) -> Vec<String> {
        let mut found = Vec::new();
        let secret = |s: Option<&secrecy::SecretString>| s.map(|s| s.expose_secret().to_owned());
        let (Some(ableid), Some(baf), Some(b2core)) = (
            config.provider::<AbleIdConfig>(),
            config.provider::<BafConfig>(),
            config.provider::<B2CoreConfig>(),
        ) else {
            return vec!["a simulated vendor is not registered".to_owned()];
        };
        if ableid.base_url.as_ref() != Some(&sandbox.ableid_url)
            || ableid.project_id.as_deref() != Some(ABLEID_PROJECT_ID)
            || secret(ableid.secret.as_ref()).as_deref() != Some(ABLEID_SECRET)
        {
            found.push(
                "AbleID is not the sandbox's (base_url, project_id or secret set elsewhere)".to_owned(),
            );
        }
        if baf.base_url.as_ref() != Some(&sandbox.baf_url)
            || secret(baf.api_key.as_ref()).as_deref() != Some(BAF_API_KEY)
        {
            found.push("BAF is not the sandbox's (base_url or api_key set elsewhere)".to_owned());
        }
        let defaults = B2CoreConfig::default();
        if b2core.base_url.as_ref() != Some(&sandbox.b2core_url) {
            found.push("B2Core is not the sandbox's (base_url set elsewhere)".to_owned());
        } else if b2core.history_path != defaults.history_path
            || b2core.procedures_path != defaults.procedures_path
        {
            found.push("b2core paths differ from the documented ones the sandbox serves".to_owned());
        }
        found
    }

    /// `http://{addr}/`, with a wildcard address (no place a vendor or browser can go
    /// to) replaced by loopback.
    fn loopback_url(addr: SocketAddr) -> Result<Url, url::ParseError> {
        let host = match addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        Url::parse(&format!("http://{}/", SocketAddr::new(host, addr.port())))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        async fn sandbox() -> Sandbox {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let options = Options::new("http://127.0.0.1:8080/hooks/ableid".parse().unwrap());
            idv_sandbox::serve(listener, options, CancellationToken::new()).await.unwrap()
        }

        fn real(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
            let map: HashMap<String, String> =
                pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
            move |name| map.get(name).cloned()
        }

        #[tokio::test]
        async fn the_sandbox_is_reached_through_ordinary_configuration() {
            let sandbox = sandbox().await;
            let public: Url = "http://127.0.0.1:8080/".parse().unwrap();
            let vars = environment(&sandbox, Some(&public));
            let config = Config::load(None, layered(real(&[("IDV_BAF_API_KEY", "")]), &vars)).unwrap();
            assert_eq!(mismatches(&config, &sandbox), Vec::<String>::new(), "an empty variable is unset");
            assert_eq!(config.server.public_url, Some(public));
            let ableid = config.provider::<AbleIdConfig>().unwrap();
            assert!(ableid.allow_caller_hooks && ableid.allow_http_hooks && ableid.allow_private_hooks);

            let config = Config::load(None, layered(real(&[("IDV_BAF_API_KEY", "sk_real")]), &vars)).unwrap();
            let found = mismatches(&config, &sandbox);
            assert_eq!(found.len(), 1, "{found:?}");
            assert!(found[0].starts_with("BAF"), "{found:?}");
            assert!(
                !environment(&sandbox, None).contains_key("IDV_PUBLIC_URL"),
                "a configured public_url stays"
            );
            sandbox.stop().await;
        }

        #[test]
        fn wildcard_binds_are_reached_on_loopback() {
            let url = |addr: &str| loopback_url(addr.parse().unwrap()).unwrap().to_string();
            assert_eq!(url("0.0.0.0:8080"), "http://127.0.0.1:8080/");
            assert_eq!(url("[::]:8080"), "http://[::1]:8080/");
            assert_eq!(url("10.1.2.3:8080"), "http://10.1.2.3:8080/");
        }
    }
}

/// Without the simulator compiled in, `--sandbox` can only say so.
#[cfg(not(feature = "sandbox"))]
mod simulated {
    use std::net::SocketAddr;
    use std::path::Path;

    use super::Error;

    pub(super) async fn serve(_: Option<&Path>, _: SocketAddr, _: bool) -> Result<(), Error> {
        Err("--sandbox: this binary was built without the simulated vendors (cargo feature `sandbox`)".into())
    }
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
