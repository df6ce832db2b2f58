//! The `[b2core]` section.

use std::any::Any;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::{check_positive, check_url, env_parse, warn_plain_http};
use crate::providers::{Context, Provider, ProviderConfig, redacted_section};

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

impl ProviderConfig for B2CoreConfig {
    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) {
        if let Some(v) = env_parse(env, "IDV_B2CORE_BASE_URL", problems) {
            self.base_url = Some(v);
        }
    }

    fn read_secret_files(&mut self, _: &mut Vec<String>) {}

    fn check(&self, problems: &mut Vec<String>) {
        check_url(problems, "b2core.base_url", self.base_url.as_ref());
        for (name, path) in
            [("b2core.history_path", &self.history_path), ("b2core.procedures_path", &self.procedures_path)]
        {
            if !path.starts_with('/') {
                problems.push(format!("{name}: must start with '/'"));
            }
        }
        check_positive(problems, "b2core.timeout_secs", self.timeout_secs);
    }

    fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.base_url.is_none() {
            warnings.push("B2Core is not configured (base_url)".into());
        }
        warn_plain_http(&mut warnings, "b2core.base_url", self.base_url.as_ref());
        warnings
    }

    fn redacted(&self) -> toml::Value {
        redacted_section(self)
    }

    fn build(&self, context: &Context) -> Result<Arc<dyn Provider>, String> {
        Ok(Arc::new(super::B2CoreProvider::new(self, context)))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
