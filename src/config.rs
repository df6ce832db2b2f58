//! Configuration: a TOML file (`--config`), then `IDV_*` environment variables over it.
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

/// The whole configuration. Every section and field has a default, so an empty file is
/// valid; vendors without credentials are reported `NOT_SERVING` and refuse calls.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Listeners and limits.
    pub server: ServerConfig,
    /// AbleID.
    pub ableid: AbleIdConfig,
    /// 3DiVi BAF.
    pub baf: BafConfig,
    /// B2Core front-office API.
    pub b2core: B2CoreConfig,
    /// The event log behind `WatchAttempt`.
    pub store: StoreConfig,
}

/// Listeners and limits.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// gRPC listener (`IDV_GRPC_ADDR`).
    pub grpc_addr: SocketAddr,
    /// HTTP listener for vendor hooks, the BAF return URL and the sandbox pages
    /// (`IDV_HTTP_ADDR`).
    pub http_addr: SocketAddr,
    /// How vendors and browsers reach the HTTP listener (`IDV_PUBLIC_URL`), such as
    /// `https://idv.example.com`. Without it the gateway cannot receive AbleID hooks.
    pub public_url: Option<Url>,
    /// Largest gRPC message accepted or sent, in bytes. Base64 images make big messages.
    pub max_message_bytes: usize,
    /// Seconds between heartbeats on an idle `WatchAttempt` stream.
    pub heartbeat_secs: u64,
    /// Seconds a graceful shutdown waits for calls in flight before it stops anyway.
    pub shutdown_grace_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            grpc_addr: SocketAddr::from(([127, 0, 0, 1], 50051)),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: None,
            max_message_bytes: 32 * 1024 * 1024,
            heartbeat_secs: 20,
            shutdown_grace_secs: 10,
        }
    }
}

/// AbleID. Its `projectId` and `secret` go into every request body.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AbleIdConfig {
    /// `IDV_ABLEID_BASE_URL`: `https://faceid-back.theable.tech` (production) or
    /// `https://ableid-dev-back.theable.tech` (development).
    pub base_url: Option<Url>,
    /// `IDV_ABLEID_PROJECT_ID`.
    pub project_id: Option<String>,
    /// `IDV_ABLEID_SECRET`.
    #[serde(serialize_with = "redact")]
    pub secret: Option<SecretString>,
    /// A file holding the secret (`IDV_ABLEID_SECRET_FILE`).
    pub secret_file: Option<PathBuf>,
    /// Seconds to wait for AbleID before `DEADLINE_EXCEEDED`.
    pub timeout_secs: u64,
    /// How long a session lives; AbleID documents 10 minutes and sends no hook at expiry.
    pub session_ttl_secs: u64,
    /// Seconds past a session's expiry before the gateway records it as expired: a check
    /// finished at the last second may still have its completion hook in flight.
    pub expiry_grace_secs: u64,
    /// Accept caller hook URLs with `http:` (development only).
    pub allow_http_hooks: bool,
    /// Accept caller hook URLs on loopback, private or link-local addresses
    /// (development only).
    pub allow_private_hooks: bool,
}

impl Default for AbleIdConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            project_id: None,
            secret: None,
            secret_file: None,
            timeout_secs: 30,
            session_ttl_secs: 600,
            expiry_grace_secs: 60,
            allow_http_hooks: false,
            allow_private_hooks: false,
        }
    }
}

/// 3DiVi BAF. Its secret key goes into `Authorization: Bearer`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct BafConfig {
    /// `IDV_BAF_BASE_URL`.
    pub base_url: Option<Url>,
    /// `IDV_BAF_API_KEY`: `sk_<uuid>`.
    #[serde(serialize_with = "redact")]
    pub api_key: Option<SecretString>,
    /// A file holding the key (`IDV_BAF_API_KEY_FILE`).
    pub api_key_file: Option<PathBuf>,
    /// Seconds to wait for BAF before `DEADLINE_EXCEEDED`.
    pub timeout_secs: u64,
    /// Seconds between reads of a watched applicant, at first; doubles while nothing
    /// changes, up to `poll_max_secs`.
    pub poll_min_secs: u64,
    /// Longest pause between reads of a watched applicant.
    pub poll_max_secs: u64,
}

impl Default for BafConfig {
    fn default() -> Self {
        Self {
            base_url: Url::parse("https://baf.3divi.ai/publicapi").ok(),
            api_key: None,
            api_key_file: None,
            timeout_secs: 30,
            poll_min_secs: 2,
            poll_max_secs: 60,
        }
    }
}

/// B2Core front-office API. It has no credential of its own: callers forward their end
/// client's token.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct B2CoreConfig {
    /// `IDV_B2CORE_BASE_URL`: the operator's own host.
    pub base_url: Option<Url>,
    /// Path of the verification history. B2Core's documents show both
    /// `/api/v2/my/verifications` and `/v2/my/verifications`.
    pub history_path: String,
    /// Path prefix of the other verification calls (details, wizard, submission).
    pub procedures_path: String,
    /// Seconds to wait for B2Core before `DEADLINE_EXCEEDED`.
    pub timeout_secs: u64,
}

impl Default for B2CoreConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            history_path: "/api/v2/my/verifications".into(),
            procedures_path: "/v2/my/verifications".into(),
            timeout_secs: 30,
        }
    }
}

/// The event log.
#[derive(Debug, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Directory of the SQLite database (`IDV_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Days attempts and their events are kept; they hold personal data.
    pub retention_days: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self { data_dir: PathBuf::from("./data"), retention_days: 30 }
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
                toml::from_str(&text).map_err(|e| ConfigError(vec![format!("{}: {e}", path.display())]))?
            }
            None => Config::default(),
        };
        let mut problems = Vec::new();
        config.apply_env(&env, &mut problems);
        config.read_secret_files(&mut problems);
        config.normalize();
        config.check(&mut problems);
        if problems.is_empty() { Ok(config) } else { Err(ConfigError(problems)) }
    }

    fn apply_env(&mut self, env: &impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) {
        fn parse<T: std::str::FromStr>(
            name: &str,
            value: Option<String>,
            problems: &mut Vec<String>,
        ) -> Option<T>
        where
            T::Err: std::fmt::Display,
        {
            let value = value?;
            match value.trim().parse() {
                Ok(parsed) => Some(parsed),
                Err(e) => {
                    problems.push(format!("{name}: {e}"));
                    None
                }
            }
        }
        let set = |name: &str| env(name).filter(|v| !v.is_empty());

        if let Some(v) = parse("IDV_GRPC_ADDR", set("IDV_GRPC_ADDR"), problems) {
            self.server.grpc_addr = v;
        }
        if let Some(v) = parse("IDV_HTTP_ADDR", set("IDV_HTTP_ADDR"), problems) {
            self.server.http_addr = v;
        }
        if let Some(v) = parse("IDV_PUBLIC_URL", set("IDV_PUBLIC_URL"), problems) {
            self.server.public_url = Some(v);
        }
        if let Some(v) = parse("IDV_ABLEID_BASE_URL", set("IDV_ABLEID_BASE_URL"), problems) {
            self.ableid.base_url = Some(v);
        }
        if let Some(v) = set("IDV_ABLEID_PROJECT_ID") {
            self.ableid.project_id = Some(v);
        }
        if let Some(v) = set("IDV_ABLEID_SECRET") {
            self.ableid.secret = Some(v.into());
        }
        if let Some(v) = set("IDV_ABLEID_SECRET_FILE") {
            self.ableid.secret_file = Some(v.into());
        }
        if let Some(v) = parse("IDV_BAF_BASE_URL", set("IDV_BAF_BASE_URL"), problems) {
            self.baf.base_url = Some(v);
        }
        if let Some(v) = set("IDV_BAF_API_KEY") {
            self.baf.api_key = Some(v.into());
        }
        if let Some(v) = set("IDV_BAF_API_KEY_FILE") {
            self.baf.api_key_file = Some(v.into());
        }
        if let Some(v) = parse("IDV_B2CORE_BASE_URL", set("IDV_B2CORE_BASE_URL"), problems) {
            self.b2core.base_url = Some(v);
        }
        if let Some(v) = set("IDV_DATA_DIR") {
            self.store.data_dir = v.into();
        }
    }

    fn read_secret_files(&mut self, problems: &mut Vec<String>) {
        fn read(file: &Option<PathBuf>, slot: &mut Option<SecretString>, problems: &mut Vec<String>) {
            let Some(file) = file else { return };
            match std::fs::read_to_string(file) {
                // Files written by `echo` end in a newline that is not part of the secret.
                Ok(text) => *slot = Some(text.trim_end_matches(['\r', '\n']).to_owned().into()),
                Err(e) => problems.push(format!("{}: {e}", file.display())),
            }
        }
        read(&self.ableid.secret_file, &mut self.ableid.secret, problems);
        read(&self.baf.api_key_file, &mut self.baf.api_key, problems);
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
        let urls = [
            ("server.public_url", self.server.public_url.as_ref()),
            ("ableid.base_url", self.ableid.base_url.as_ref()),
            ("baf.base_url", self.baf.base_url.as_ref()),
            ("b2core.base_url", self.b2core.base_url.as_ref()),
        ];
        for (name, url) in urls {
            if let Some(url) = url
                && !matches!(url.scheme(), "http" | "https")
            {
                problems.push(format!("{name}: must be an http or https URL"));
            }
        }
        if self.ableid.project_id.is_some() != self.ableid.secret.is_some() {
            problems.push("ableid: project_id and secret go together".into());
        }
        for (name, path) in [
            ("b2core.history_path", &self.b2core.history_path),
            ("b2core.procedures_path", &self.b2core.procedures_path),
        ] {
            if !path.starts_with('/') {
                problems.push(format!("{name}: must start with '/'"));
            }
        }
        for (name, secs) in [
            ("ableid.timeout_secs", self.ableid.timeout_secs),
            ("ableid.session_ttl_secs", self.ableid.session_ttl_secs),
            ("baf.timeout_secs", self.baf.timeout_secs),
            ("baf.poll_min_secs", self.baf.poll_min_secs),
            ("b2core.timeout_secs", self.b2core.timeout_secs),
            ("server.heartbeat_secs", self.server.heartbeat_secs),
            ("store.retention_days", self.store.retention_days),
        ] {
            if secs == 0 {
                problems.push(format!("{name}: must be at least 1"));
            }
        }
        if self.baf.poll_max_secs < self.baf.poll_min_secs {
            problems.push("baf.poll_max_secs: must be at least baf.poll_min_secs".into());
        }
        if self.server.max_message_bytes < 4 * 1024 * 1024 {
            problems.push("server.max_message_bytes: must be at least 4 MiB".into());
        }
    }

    /// The configuration as TOML with every secret replaced by `"<redacted>"`.
    pub fn redacted_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot print: {e}\n"))
    }

    /// AbleID's credentials, when both are configured.
    pub fn ableid_credentials(&self) -> Option<(&str, &SecretString)> {
        Some((self.ableid.project_id.as_deref()?, self.ableid.secret.as_ref()?))
    }

    /// Warnings about a configuration that works but is probably not what was meant.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.ableid.base_url.is_none() || self.ableid_credentials().is_none() {
            warnings.push("AbleID is not configured (base_url, project_id, secret)".into());
        }
        if self.baf.api_key.as_ref().is_none_or(|k| k.expose_secret().is_empty()) {
            warnings.push("BAF is not configured (api_key)".into());
        }
        if self.b2core.base_url.is_none() {
            warnings.push("B2Core is not configured (base_url)".into());
        }
        if self.server.public_url.is_none() {
            warnings.push("server.public_url is not set: vendors cannot reach the gateway's hooks".into());
        }
        if self.ableid.allow_http_hooks || self.ableid.allow_private_hooks {
            warnings.push("ableid accepts http or private hook URLs: development only".into());
        }
        warnings
    }
}

/// Shorthand for the `*_secs` fields.
pub fn secs(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

fn redact<S: Serializer>(secret: &Option<SecretString>, serializer: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(_) => serializer.serialize_some("<redacted>"),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_eq!(config.ableid.secret.unwrap().expose_secret(), "env-secret");
    }

    #[test]
    fn secrets_come_from_files_without_the_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        std::fs::write(&file, "sk_123\n").unwrap();
        let config = Config::load(None, env(&[("IDV_BAF_API_KEY_FILE", file.to_str().unwrap())])).unwrap();
        assert_eq!(config.baf.api_key.unwrap().expose_secret(), "sk_123");
    }

    #[test]
    fn secrets_never_print() {
        let config = Config::load(
            None,
            env(&[
                ("IDV_ABLEID_PROJECT_ID", "p"),
                ("IDV_ABLEID_SECRET", "hunter2-ableid"),
                ("IDV_BAF_API_KEY", "sk_hunter2"),
            ]),
        )
        .unwrap();
        let printed = format!("{}{config:?}", config.redacted_toml());
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("<redacted>"), "{printed}");
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
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("idv.toml");
        std::fs::write(&file, "[ableid]\nsecrte = \"typo\"\n").unwrap();
        assert!(Config::load(Some(&file), env(&[])).is_err());
    }
}
