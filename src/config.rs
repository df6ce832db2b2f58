//! Configuration: a TOML file (`--config`), then `IDV_*` environment variables over it.
//!
//! The core's sections (`[server]`, `[store]`) live here; each provider's section
//! (`[ableid]`, `[baf]`, ...) lives in its folder and is found through
//! [`crate::providers::REGISTRY`], so a new vendor needs no line here.
//!
//! Secrets are [`SecretString`]s: their `Debug` is redacted and [`Config::redacted_toml`]
//! prints them as `"<redacted>"`, so neither logs nor `check-config` ever show one. Each
//! secret may instead name a file (`secret_file`, or `IDV_*_FILE`), as container
//! platforms mount them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};
use url::Url;

use crate::auth::{AuthConfig, TlsConfig};
use crate::providers::{ProviderConfig, REGISTRY};
use crate::server::public_http::{HookLimits, Limits};

/// The whole configuration. Every section and field has a default, so an empty file is
/// valid; vendors without credentials are reported `NOT_SERVING` and refuse calls.
#[derive(Debug)]
pub struct Config {
    /// Listeners and limits.
    pub server: ServerConfig,
    /// Who may call the gRPC API.
    pub auth: AuthConfig,
    /// The public HTTP listener's limits.
    pub http: Limits,
    /// The hook routes' rate limits and source allow-list.
    pub hooks: HookLimits,
    /// Memory, concurrency and circuit-breaker limits.
    pub limits: LimitsConfig,
    /// The event log behind `WatchAttempt`.
    pub store: StoreConfig,
    /// One section per registered provider, in [`REGISTRY`] order.
    pub providers: Vec<Box<dyn ProviderConfig>>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            server: ServerConfig::default(),
            auth: AuthConfig::default(),
            http: Limits::default(),
            hooks: HookLimits::default(),
            limits: LimitsConfig::default(),
            store: StoreConfig::default(),
            providers: REGISTRY.iter().filter_map(|r| (r.parse)(None).ok()).collect(),
        }
    }
}

/// The core's sections, as they appear in the file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct CoreSections {
    server: ServerConfig,
    auth: AuthConfig,
    http: Limits,
    hooks: HookLimits,
    limits: LimitsConfig,
    store: StoreConfig,
}

/// Listeners and limits.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// gRPC listener (`IDV_GRPC_ADDR`).
    pub grpc_addr: SocketAddr,
    /// HTTP listener for vendor hooks and browser returns (`IDV_HTTP_ADDR`).
    pub http_addr: SocketAddr,
    /// Admin listener: `/metrics`, `/livez`, `/readyz` (`IDV_ADMIN_ADDR`). Never the public
    /// HTTP listener: keep it on loopback or a private network.
    pub admin_addr: SocketAddr,
    /// How vendors and browsers reach the HTTP listener (`IDV_PUBLIC_URL`), such as
    /// `https://idv.example.com`. Without it the gateway cannot receive AbleID hooks.
    pub public_url: Option<Url>,
    /// Largest gRPC message accepted or sent, in bytes. Base64 images make big messages.
    pub max_message_bytes: usize,
    /// Seconds between heartbeats on an idle `WatchAttempt` stream.
    pub heartbeat_secs: u64,
    /// Seconds a graceful shutdown waits for calls in flight before it stops anyway.
    pub shutdown_grace_secs: u64,
    /// TLS for both listeners, and the client CA for mTLS: `tls_cert_file`,
    /// `tls_key_file`, `tls_client_ca_file` (`IDV_TLS_*`).
    #[serde(flatten)]
    pub tls: TlsConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            grpc_addr: SocketAddr::from(([127, 0, 0, 1], 50051)),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            admin_addr: SocketAddr::from(([127, 0, 0, 1], 9464)),
            public_url: None,
            max_message_bytes: 32 * 1024 * 1024,
            heartbeat_secs: 20,
            shutdown_grace_secs: 10,
            tls: TlsConfig::default(),
        }
    }
}

/// Memory, concurrency and circuit-breaker limits: what keeps an overload or a failing
/// vendor from taking the gateway down. Reaching a limit answers `RESOURCE_EXHAUSTED` (or
/// `UNAVAILABLE` for an open breaker) with `RetryInfo`, at once.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// MiB of vendor answers and hook bodies held in memory at once, all calls together
    /// (`IDV_MEMORY_BUDGET_MB`).
    pub memory_budget_mb: usize,
    /// gRPC calls handled at once, watch streams aside (`IDV_MAX_CONCURRENT_CALLS`).
    pub max_concurrent_calls: usize,
    /// Open `WatchAttempt` streams, all callers together (`IDV_MAX_WATCH_STREAMS`).
    pub max_watch_streams: usize,
    /// Open `WatchAttempt` streams of one caller (`IDV_MAX_WATCH_STREAMS_PER_CALLER`).
    pub max_watch_streams_per_caller: usize,
    /// Consecutive failures (5xx, resets, timeouts) that open a vendor's circuit breaker.
    pub breaker_failures: u32,
    /// Seconds an open breaker refuses calls before it lets one probe through.
    pub breaker_cooldown_secs: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            memory_budget_mb: 256,
            max_concurrent_calls: 1024,
            max_watch_streams: 20_000,
            max_watch_streams_per_caller: 10_000,
            breaker_failures: 5,
            breaker_cooldown_secs: 30,
        }
    }
}

/// The event log.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Directory of the SQLite database (`IDV_DATA_DIR`), used when `url` is not set.
    pub data_dir: PathBuf,
    /// Days attempts and their events are kept; they hold personal data.
    pub retention_days: u64,
    /// PostgreSQL, shared by every replica (`IDV_DATABASE_URL`):
    /// `postgres://user:password@host:5432/db?sslmode=verify-full`. Set, the event log
    /// lives there; unset, in the SQLite file. A secret: it may hold a password.
    #[serde(serialize_with = "redact")]
    pub url: Option<SecretString>,
    /// A file holding `url` (`IDV_DATABASE_URL_FILE`).
    pub url_file: Option<PathBuf>,
    /// Most PostgreSQL connections per replica, the listener's aside
    /// (`IDV_DATABASE_POOL_SIZE`).
    pub pool_size: usize,
    /// A cap on the database file, in MiB (`IDV_STORE_MAX_SIZE_MB`), to protect the disk:
    /// at the cap, writes fail as on a full disk. `None`: no cap.
    pub max_size_mb: Option<u64>,
    /// Threads serving reads of the event log, each with its own connection
    /// (`IDV_STORE_READ_THREADS`): reads beyond them queue, so opening many watches at once
    /// does not add threads.
    pub read_threads: usize,
    /// `serve --init`: begin an empty event log where the marker file says one existed,
    /// or adopt a database the marker does not describe. A command-line flag for one
    /// start, never a setting: left on, it would let a lost database pass unnoticed.
    #[serde(skip)]
    pub init: bool,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            retention_days: 30,
            url: None,
            url_file: None,
            pool_size: 16,
            max_size_mb: None,
            read_threads: 2,
            init: false,
        }
    }
}

impl StoreConfig {
    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) {
        if let Some(v) = env_value(env, "IDV_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some(v) = env_value(env, "IDV_DATABASE_URL") {
            self.url = Some(v.into());
        }
        if let Some(v) = env_value(env, "IDV_DATABASE_URL_FILE") {
            self.url_file = Some(v.into());
        }
        if let Some(v) = env_parse(env, "IDV_DATABASE_POOL_SIZE", problems) {
            self.pool_size = v;
        }
        if let Some(v) = env_parse(env, "IDV_STORE_MAX_SIZE_MB", problems) {
            self.max_size_mb = Some(v);
        }
        if let Some(v) = env_parse(env, "IDV_STORE_READ_THREADS", problems) {
            self.read_threads = v;
        }
    }

    fn check(&self, problems: &mut Vec<String>) {
        check_positive(problems, "store.retention_days", self.retention_days);
        check_positive(problems, "store.pool_size", self.pool_size as u64);
        check_positive(problems, "store.read_threads", self.read_threads as u64);
        if self.max_size_mb == Some(0) {
            problems.push("store.max_size_mb: must be at least 1 (leave it unset for no cap)".into());
        }
        if let Some(url) = &self.url
            && let Err(e) = crate::store::postgres::Connection::parse(url.expose_secret())
        {
            problems.push(format!("store.url: {e}"));
        }
    }
}

/// A configuration that cannot be used, with every problem found.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
pub struct ConfigError(pub Vec<String>);

impl Config {
    /// Reads the file (if any), applies the environment, reads secret files and checks
    /// the result. `env` is `std::env::var` in production and a map in tests.
    pub fn load(path: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut config = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError(vec![format!("{}: {e}", path.display())]))?;
                Self::from_toml(&text).map_err(|e| ConfigError(vec![format!("{}: {e}", path.display())]))?
            }
            None => Config::default(),
        };
        let mut problems = Vec::new();
        config.apply_env(&env, &mut problems);
        read_secret_file(&config.store.url_file, &mut config.store.url, &mut problems);
        for provider in &mut config.providers {
            provider.apply_env(&env, &mut problems);
            provider.read_secret_files(&mut problems);
        }
        config.normalize();
        config.check(&mut problems);
        if problems.is_empty() { Ok(config) } else { Err(ConfigError(problems)) }
    }

    /// Parses a TOML document: the core's sections, then each registered provider's
    /// section; any other section is an error.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut providers = Vec::new();
        for registration in REGISTRY {
            providers.push((registration.parse)(table.remove(registration.name))?);
        }
        let core: CoreSections = toml::Value::Table(table).try_into().map_err(|e| e.to_string())?;
        Ok(Self {
            server: core.server,
            auth: core.auth,
            http: core.http,
            hooks: core.hooks,
            limits: core.limits,
            store: core.store,
            providers,
        })
    }

    fn apply_env(&mut self, env: &impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) {
        if let Some(v) = env_parse(env, "IDV_GRPC_ADDR", problems) {
            self.server.grpc_addr = v;
        }
        if let Some(v) = env_parse(env, "IDV_HTTP_ADDR", problems) {
            self.server.http_addr = v;
        }
        if let Some(v) = env_parse(env, "IDV_ADMIN_ADDR", problems) {
            self.server.admin_addr = v;
        }
        for (name, slot) in [
            ("IDV_MEMORY_BUDGET_MB", &mut self.limits.memory_budget_mb),
            ("IDV_MAX_CONCURRENT_CALLS", &mut self.limits.max_concurrent_calls),
            ("IDV_MAX_WATCH_STREAMS", &mut self.limits.max_watch_streams),
            ("IDV_MAX_WATCH_STREAMS_PER_CALLER", &mut self.limits.max_watch_streams_per_caller),
        ] {
            if let Some(v) = env_parse(env, name, problems) {
                *slot = v;
            }
        }
        if let Some(v) = env_parse(env, "IDV_PUBLIC_URL", problems) {
            self.server.public_url = Some(v);
        }
        self.store.apply_env(env, problems);
        self.server.tls.apply_env(env);
        self.auth.apply_env(env, problems);
        self.http.apply_env(env, problems);
        self.hooks.apply_env(env, problems);
    }

    /// Makes `public_url` a directory URL, so joining `hooks/...` onto
    /// `https://host/gateway` keeps the `gateway` segment.
    fn normalize(&mut self) {
        if let Some(url) = &mut self.server.public_url
            && !url.path().ends_with('/')
        {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
    }

    fn check(&self, problems: &mut Vec<String>) {
        check_url(problems, "server.public_url", self.server.public_url.as_ref());
        for (name, secs) in [
            ("server.heartbeat_secs", self.server.heartbeat_secs),
            ("limits.memory_budget_mb", self.limits.memory_budget_mb as u64),
            ("limits.max_concurrent_calls", self.limits.max_concurrent_calls as u64),
            ("limits.max_watch_streams", self.limits.max_watch_streams as u64),
            ("limits.max_watch_streams_per_caller", self.limits.max_watch_streams_per_caller as u64),
            ("limits.breaker_failures", u64::from(self.limits.breaker_failures)),
            ("limits.breaker_cooldown_secs", self.limits.breaker_cooldown_secs),
        ] {
            check_positive(problems, name, secs);
        }
        self.store.check(problems);
        if self.server.max_message_bytes < 4 * 1024 * 1024 {
            problems.push("server.max_message_bytes: must be at least 4 MiB".into());
        }
        self.auth.check(&self.server.tls, problems);
        self.http.check(problems);
        self.hooks.check(problems);
        for provider in &self.providers {
            provider.check(problems);
        }
    }

    /// The configuration as TOML with every secret replaced by `"<redacted>"`.
    pub fn redacted_toml(&self) -> String {
        #[derive(Serialize)]
        struct Core<'a> {
            server: &'a ServerConfig,
            auth: &'a AuthConfig,
            http: &'a Limits,
            hooks: &'a HookLimits,
            limits: &'a LimitsConfig,
            store: &'a StoreConfig,
        }
        let core = Core {
            server: &self.server,
            auth: &self.auth,
            http: &self.http,
            hooks: &self.hooks,
            limits: &self.limits,
            store: &self.store,
        };
        let mut table = match toml::Value::try_from(&core) {
            Ok(toml::Value::Table(table)) => table,
            Ok(_) | Err(_) => toml::Table::new(),
        };
        for (registration, provider) in REGISTRY.iter().zip(&self.providers) {
            table.insert(registration.name.to_owned(), provider.redacted());
        }
        toml::to_string_pretty(&table).unwrap_or_else(|e| format!("# cannot print: {e}\n"))
    }

    /// Warnings about a configuration that works but is probably not what was meant.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.server.public_url.is_none() {
            warnings.push("server.public_url is not set: vendors cannot reach the gateway's hooks".into());
        }
        warnings.extend(crate::auth::startup_warnings(self.server.grpc_addr, &self.auth, &self.server.tls));
        if !self.server.admin_addr.ip().is_loopback() {
            warnings.push(
                "server.admin_addr is not on loopback: /metrics must not be reachable from the internet"
                    .into(),
            );
        }
        if self.server.public_url.as_ref().is_some_and(|u| u.scheme() == "http") && !self.server.tls.enabled()
        {
            warnings.push(
                "server.public_url is http: hooks and browser returns cross the network in clear (terminate TLS in front, or set server.tls_*)".into(),
            );
        }
        for provider in &self.providers {
            warnings.extend(provider.warnings());
        }
        warnings
    }

    /// A provider's section, by its type.
    pub fn provider<T: ProviderConfig>(&self) -> Option<&T> {
        self.providers.iter().find_map(|p| p.as_any().downcast_ref::<T>())
    }

    /// A provider's section, by its type, to change it (tests, the sandbox wiring).
    pub fn provider_mut<T: ProviderConfig>(&mut self) -> Option<&mut T> {
        self.providers.iter_mut().find_map(|p| p.as_any_mut().downcast_mut::<T>())
    }
}

/// Shorthand for the `*_secs` fields.
pub fn secs(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

/// A non-empty environment variable.
pub fn env_value(env: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.is_empty())
}

/// A non-empty environment variable parsed as `T`; a value that does not parse is a
/// problem named after the variable (never echoing the value: it may be a secret).
pub fn env_parse<T: std::str::FromStr>(
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
    problems: &mut Vec<String>,
) -> Option<T>
where
    T::Err: std::fmt::Display,
{
    let value = env_value(env, name)?;
    match value.trim().parse() {
        Ok(parsed) => Some(parsed),
        Err(e) => {
            problems.push(format!("{name}: {e}"));
            None
        }
    }
}

/// Reads a secret from `file`, if one is named, into `slot`.
pub fn read_secret_file(file: &Option<PathBuf>, slot: &mut Option<SecretString>, problems: &mut Vec<String>) {
    let Some(file) = file else { return };
    match std::fs::read_to_string(file) {
        // Files written by `echo` end in a newline that is not part of the secret.
        Ok(text) => *slot = Some(text.trim_end_matches(['\r', '\n']).to_owned().into()),
        Err(e) => problems.push(format!("{}: {e}", file.display())),
    }
}

/// An http(s) URL, if set.
pub fn check_url(problems: &mut Vec<String>, name: &str, url: Option<&Url>) {
    if let Some(url) = url
        && !matches!(url.scheme(), "http" | "https")
    {
        problems.push(format!("{name}: must be an http or https URL"));
    }
}

/// A warning when a vendor URL is plain http: the gateway sends the vendor's secrets (and
/// people's data) to it.
pub fn warn_plain_http(warnings: &mut Vec<String>, name: &str, url: Option<&Url>) {
    if let Some(url) = url
        && url.scheme() == "http"
    {
        warnings.push(format!("{name} is http: secrets and personal data go to it unencrypted"));
    }
}

/// At least 1.
pub fn check_positive(problems: &mut Vec<String>, name: &str, value: u64) {
    if value == 0 {
        problems.push(format!("{name}: must be at least 1"));
    }
}

/// Serializes a secret as `"<redacted>"`.
pub fn redact<S: Serializer>(secret: &Option<SecretString>, serializer: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(_) => serializer.serialize_some("<redacted>"),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::ableid::AbleIdConfig;
    use crate::providers::baf::BafConfig;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("idv.toml");
        std::fs::write(
            &file,
            "[server]\ngrpc_addr = \"0.0.0.0:1\"\n[ableid]\nproject_id = \"p\"\nsecret = \"file-secret\"\n",
        )
        .unwrap();
        let config = Config::load(
            Some(&file),
            env(&[("IDV_GRPC_ADDR", "127.0.0.1:9"), ("IDV_ABLEID_SECRET", "env-secret")]),
        )
        .unwrap();
        assert_eq!(config.server.grpc_addr.port(), 9);
        let ableid = config.provider::<AbleIdConfig>().unwrap();
        assert_eq!(ableid.secret.as_ref().unwrap().expose_secret(), "env-secret");
    }

    #[test]
    fn secrets_come_from_files_without_the_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, "sk_123\n").unwrap();
        let config = Config::load(None, env(&[("IDV_BAF_API_KEY_FILE", file.to_str().unwrap())])).unwrap();
        assert_eq!(
            config.provider::<BafConfig>().unwrap().api_key.as_ref().unwrap().expose_secret(),
            "sk_123"
        );
    }

    #[test]
    fn secrets_never_print() {
        let config = Config::load(
            None,
            env(&[
                ("IDV_ABLEID_PROJECT_ID", "p"),
                ("IDV_ABLEID_SECRET", "hunter2-ableid"),
                ("IDV_BAF_API_KEY", "sk_hunter2"),
                ("IDV_DATABASE_URL", "postgres://idv:hunter2-db@db.example/idv?sslmode=disable"),
            ]),
        )
        .unwrap();
        let printed = format!("{}{config:?}", config.redacted_toml());
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("<redacted>"), "{printed}");
        assert!(printed.contains("[ableid]") && printed.contains("[server]"), "{printed}");
    }

    #[test]
    fn a_bad_database_url_is_refused_without_echoing_it() {
        let err =
            Config::load(None, env(&[("IDV_DATABASE_URL", "postgres://u:hunter2@h/db?sslmode=prefer")]))
                .unwrap_err();
        let printed = err.to_string();
        assert!(printed.contains("store.url") && !printed.contains("hunter2"), "{printed}");
    }

    #[test]
    fn the_store_cap_comes_from_the_environment_and_is_never_zero() {
        assert_eq!(Config::load(None, env(&[])).unwrap().store.max_size_mb, None);
        let config = Config::load(None, env(&[("IDV_STORE_MAX_SIZE_MB", "512")])).unwrap();
        assert_eq!(config.store.max_size_mb, Some(512));
        assert!(!config.redacted_toml().contains("\ninit ="), "--init is a flag, not a setting");
        let err = Config::load(None, env(&[("IDV_STORE_MAX_SIZE_MB", "0")])).unwrap_err();
        assert!(err.to_string().contains("store.max_size_mb"), "{err}");
        let err = Config::from_toml("[store]\ninit = true\n").err().unwrap_or_default();
        assert!(err.contains("unknown field"), "{err}");
    }

    #[test]
    fn read_threads_come_from_the_environment_and_are_never_zero() {
        assert_eq!(Config::load(None, env(&[])).unwrap().store.read_threads, 2);
        let config = Config::load(None, env(&[("IDV_STORE_READ_THREADS", "4")])).unwrap();
        assert_eq!(config.store.read_threads, 4);
        let err = Config::load(None, env(&[("IDV_STORE_READ_THREADS", "0")])).unwrap_err();
        assert!(err.to_string().contains("store.read_threads"), "{err}");
    }

    #[test]
    fn every_problem_is_reported() {
        let err = Config::load(None, env(&[("IDV_GRPC_ADDR", "nope"), ("IDV_ABLEID_PROJECT_ID", "p")]))
            .unwrap_err();
        assert_eq!(err.0.len(), 2, "{err}");
    }

    #[test]
    fn a_public_url_path_is_kept_when_joining() {
        let config =
            Config::load(None, env(&[("IDV_PUBLIC_URL", "https://idv.example.com/gateway")])).unwrap();
        let url = config.server.public_url.unwrap().join("hooks/ableid/complete").unwrap();
        assert_eq!(url.as_str(), "https://idv.example.com/gateway/hooks/ableid/complete");
    }

    #[test]
    fn unknown_keys_and_sections_are_refused() {
        for text in ["[ableid]\nsecrte = \"typo\"\n", "[ablied]\nsecret = \"typo\"\n", "[server]\nport = 1\n"]
        {
            assert!(Config::from_toml(text).is_err(), "{text}");
        }
    }

    #[test]
    fn unsafe_settings_are_warned_about() {
        let config = Config::load(
            None,
            env(&[
                ("IDV_BAF_BASE_URL", "http://baf.internal/publicapi"),
                ("IDV_ADMIN_ADDR", "0.0.0.0:9464"),
                ("IDV_ABLEID_ALLOW_CALLER_HOOKS", "true"),
            ]),
        )
        .unwrap();
        let warnings = config.warnings().join("\n");
        for expected in ["baf.base_url is http", "admin_addr is not on loopback", "allow_caller_hooks"] {
            assert!(warnings.contains(expected), "{expected}: {warnings}");
        }
    }

    #[test]
    fn the_printed_configuration_reads_back() {
        let config =
            Config::load(None, env(&[("IDV_ABLEID_PROJECT_ID", "p"), ("IDV_ABLEID_SECRET", "s")])).unwrap();
        let printed = config.redacted_toml();
        let again = Config::from_toml(&printed).unwrap();
        assert_eq!(again.provider::<AbleIdConfig>().unwrap().project_id.as_deref(), Some("p"));
    }
}
