//! The `[ableid]` section.

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::{
    check_positive, check_url, env_parse, env_value, read_secret_file, redact, secs, warn_plain_http,
};
use crate::providers::{Context, Provider, ProviderConfig, redacted_section};

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
    /// Accept extra hook URLs from callers (`IDV_ABLEID_ALLOW_CALLER_HOOKS`). Off by
    /// default: AbleID sends the signed completion hook to every URL in `hooks`, and its
    /// signature is the same for every hook of the attempt, so every receiver learns what
    /// forges that attempt's data hooks.
    pub allow_caller_hooks: bool,
    /// Ports caller hook URLs may name (443 unless configured).
    pub caller_hook_ports: Vec<u16>,
    /// How long after a `Request*` call its data hook is accepted; a data hook with no
    /// outstanding request is refused.
    pub data_hook_window_secs: u64,
    /// Accept caller hook URLs with `http:` (development only;
    /// `IDV_ABLEID_ALLOW_HTTP_HOOKS`).
    pub allow_http_hooks: bool,
    /// Accept caller hook URLs on loopback, private or link-local addresses (development
    /// only; `IDV_ABLEID_ALLOW_PRIVATE_HOOKS`).
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
            allow_caller_hooks: false,
            caller_hook_ports: vec![443],
            data_hook_window_secs: 600,
            allow_http_hooks: false,
            allow_private_hooks: false,
        }
    }
}

impl AbleIdConfig {
    /// The project id and secret, when both are configured.
    pub fn credentials(&self) -> Option<(&str, &SecretString)> {
        Some((self.project_id.as_deref()?, self.secret.as_ref()?))
    }
}

impl ProviderConfig for AbleIdConfig {
    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) {
        if let Some(v) = env_parse(env, "IDV_ABLEID_BASE_URL", problems) {
            self.base_url = Some(v);
        }
        if let Some(v) = env_value(env, "IDV_ABLEID_PROJECT_ID") {
            self.project_id = Some(v);
        }
        if let Some(v) = env_value(env, "IDV_ABLEID_SECRET") {
            self.secret = Some(v.into());
        }
        if let Some(v) = env_value(env, "IDV_ABLEID_SECRET_FILE") {
            self.secret_file = Some(v.into());
        }
        if let Some(v) = env_parse(env, "IDV_ABLEID_ALLOW_CALLER_HOOKS", problems) {
            self.allow_caller_hooks = v;
        }
        if let Some(v) = env_parse(env, "IDV_ABLEID_ALLOW_HTTP_HOOKS", problems) {
            self.allow_http_hooks = v;
        }
        if let Some(v) = env_parse(env, "IDV_ABLEID_ALLOW_PRIVATE_HOOKS", problems) {
            self.allow_private_hooks = v;
        }
    }

    fn read_secret_files(&mut self, problems: &mut Vec<String>) {
        read_secret_file(&self.secret_file, &mut self.secret, problems);
    }

    fn check(&self, problems: &mut Vec<String>) {
        check_url(problems, "ableid.base_url", self.base_url.as_ref());
        if self.project_id.is_some() != self.secret.is_some() {
            problems.push("ableid: project_id and secret go together".into());
        }
        check_positive(problems, "ableid.timeout_secs", self.timeout_secs);
        check_positive(problems, "ableid.session_ttl_secs", self.session_ttl_secs);
        check_positive(problems, "ableid.data_hook_window_secs", self.data_hook_window_secs);
        if self.caller_hook_ports.is_empty() {
            problems.push("ableid.caller_hook_ports: must name at least one port".into());
        }
    }

    fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        let secret_empty = self.secret.as_ref().is_some_and(|s| s.expose_secret().is_empty());
        if self.base_url.is_none() || self.credentials().is_none() || secret_empty {
            warnings.push("AbleID is not configured (base_url, project_id, secret)".into());
        }
        warn_plain_http(&mut warnings, "ableid.base_url", self.base_url.as_ref());
        if self.allow_caller_hooks {
            warnings.push(
                "ableid.allow_caller_hooks: every receiver of a caller hook can forge that attempt's data hooks"
                    .into(),
            );
        }
        if self.allow_http_hooks || self.allow_private_hooks {
            warnings.push("ableid accepts http or private hook URLs: development only".into());
        }
        warnings
    }

    fn redacted(&self) -> toml::Value {
        redacted_section(self)
    }

    fn build(&self, context: &Context) -> Result<Arc<dyn Provider>, String> {
        Ok(Arc::new(super::AbleIdProvider::new(self, context, secs(self.timeout_secs))))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
