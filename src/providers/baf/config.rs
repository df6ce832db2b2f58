//! The `[baf]` section.

use std::any::Any;
use std::path::PathBuf;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::{
    check_positive, check_url, env_parse, env_value, read_secret_file, redact, warn_plain_http,
};
use crate::providers::{Context, Provider, ProviderConfig, redacted_section};

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

impl ProviderConfig for BafConfig {
    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) {
        if let Some(v) = env_parse(env, "IDV_BAF_BASE_URL", problems) {
            self.base_url = Some(v);
        }
        if let Some(v) = env_value(env, "IDV_BAF_API_KEY") {
            self.api_key = Some(v.into());
        }
        if let Some(v) = env_value(env, "IDV_BAF_API_KEY_FILE") {
            self.api_key_file = Some(v.into());
        }
    }

    fn read_secret_files(&mut self, problems: &mut Vec<String>) {
        read_secret_file(&self.api_key_file, &mut self.api_key, problems);
    }

    fn check(&self, problems: &mut Vec<String>) {
        check_url(problems, "baf.base_url", self.base_url.as_ref());
        check_positive(problems, "baf.timeout_secs", self.timeout_secs);
        check_positive(problems, "baf.poll_min_secs", self.poll_min_secs);
        if self.poll_max_secs < self.poll_min_secs {
            problems.push("baf.poll_max_secs: must be at least baf.poll_min_secs".into());
        }
    }

    fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.api_key.as_ref().is_none_or(|k| k.expose_secret().is_empty()) {
            warnings.push("BAF is not configured (api_key)".into());
        }
        warn_plain_http(&mut warnings, "baf.base_url", self.base_url.as_ref());
        warnings
    }

    fn redacted(&self) -> toml::Value {
        redacted_section(self)
    }

    fn build(&self, context: &Context) -> Result<Arc<dyn Provider>, String> {
        Ok(Arc::new(super::BafProvider::new(self, context)))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
