//! `idv-sandbox`: the simulated vendors on their own, for a gateway started separately.
//!
//! ```text
//! idv-sandbox [--addr 127.0.0.1:8081] [--public-url URL] [--data-hooks URL]
//! ```
//!
//! Point the gateway at it with `IDV_ABLEID_BASE_URL`, `IDV_BAF_BASE_URL` and
//! `IDV_B2CORE_BASE_URL` as it prints them, and the credentials of the crate's docs.
//! `--data-hooks` is where AbleID's data hooks go, by default the gateway's receiver on
//! its default HTTP address. The arguments are few, so they are read by hand rather
//! than with a parser library the library crate would then depend on.

use std::net::SocketAddr;
use std::process::ExitCode;

use idv_sandbox::{ABLEID_PROJECT_ID, ABLEID_SECRET, BAF_API_KEY, Options};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;
use url::Url;

const USAGE: &str = "usage: idv-sandbox [--addr ADDR] [--public-url URL] [--data-hooks URL]

  --addr ADDR        where to listen (default 127.0.0.1:8081, or IDV_SANDBOX_ADDR)
  --public-url URL   how browsers and the gateway reach it (default http://ADDR)
  --data-hooks URL   where AbleID's data hooks go (default http://127.0.0.1:8080/hooks/ableid)";

/// The command line, read.
struct Args {
    addr: SocketAddr,
    public_url: Option<Url>,
    data_hooks: Url,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let default_addr = std::env::var("IDV_SANDBOX_ADDR").unwrap_or_else(|_| "127.0.0.1:8081".into());
    let mut addr = default_addr.parse().map_err(|e| format!("IDV_SANDBOX_ADDR: {e}"))?;
    let mut public_url = None;
    let mut data_hooks = Url::parse("http://127.0.0.1:8080/hooks/ableid").map_err(|e| e.to_string())?;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--addr" => addr = value("--addr")?.parse().map_err(|e| format!("--addr: {e}"))?,
            "--public-url" => {
                public_url =
                    Some(Url::parse(&value("--public-url")?).map_err(|e| format!("--public-url: {e}"))?);
            }
            "--data-hooks" => {
                data_hooks = Url::parse(&value("--data-hooks")?).map_err(|e| format!("--data-hooks: {e}"))?;
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args { addr, public_url, data_hooks })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let args = match parse(args.into_iter()) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}\n\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let filter = EnvFilter::try_from_env("IDV_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let mut options = Options::new(args.data_hooks);
    options.public_url = args.public_url;
    let shutdown = CancellationToken::new();
    let sandbox = idv_sandbox::serve(listener, options, shutdown.clone()).await?;
    println!("IDV_ABLEID_BASE_URL={}", sandbox.ableid_url);
    println!("IDV_ABLEID_PROJECT_ID={ABLEID_PROJECT_ID}");
    println!("IDV_ABLEID_SECRET={ABLEID_SECRET}");
    println!("IDV_BAF_BASE_URL={}", sandbox.baf_url);
    println!("IDV_BAF_API_KEY={BAF_API_KEY}");
    println!("IDV_B2CORE_BASE_URL={}", sandbox.b2core_url);
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        shutdown.cancel();
    });
    sandbox.wait().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args, String> {
        parse(list.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn arguments_are_read() {
        let a = args(&["--addr", "0.0.0.0:9000", "--data-hooks", "http://gw:8080/hooks/ableid"]).unwrap();
        assert_eq!(a.addr.port(), 9000);
        assert_eq!(a.data_hooks.as_str(), "http://gw:8080/hooks/ableid");
        assert!(a.public_url.is_none());
        assert!(args(&["--addr"]).is_err());
        assert!(args(&["--addr", "nowhere"]).is_err());
        assert!(args(&["--bogus"]).is_err());
    }
}
