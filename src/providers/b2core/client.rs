//! B2Core's REST calls (seed 004). Every call acts for the end client whose token the
//! caller forwards; the gateway owns no B2Core credential.

use std::time::Instant;

use http::Method;
use secrecy::SecretString;
use serde_json::Value;

use super::DOMAIN;
use super::mapping::{WizardStep, page, step};
use crate::error::{ApiError, ErrorCode};
use crate::proto::b2core as pb;
use crate::upstream::http::{Auth, Call, Upstream};
use crate::upstream::{Refusal, api_error};

/// An operator's B2Core host.
#[derive(Debug, Clone)]
pub struct B2Core {
    upstream: Upstream,
    history_path: String,
    procedures_path: String,
}

impl B2Core {
    /// A client of one B2Core host; the paths come from configuration because B2Core's
    /// own documents disagree on the `/api` prefix.
    pub fn new(upstream: Upstream, history_path: String, procedures_path: String) -> Self {
        Self { upstream, history_path, procedures_path }
    }

    async fn send(&self, call: Call, deadline: Option<Instant>) -> Result<Value, ApiError> {
        self.upstream.json(call, deadline).await.map_err(|e| api_error(DOMAIN, e, classify))
    }

    /// GET {history_path}?limit&offset&sort_order&sort_by.
    pub async fn list(
        &self,
        token: SecretString,
        query: Vec<(&'static str, String)>,
        deadline: Option<Instant>,
    ) -> Result<(i32, Vec<pb::Verification>), ApiError> {
        let mut call = Call::new("ListVerifications", Method::GET, &self.history_path, Auth::Forward(token));
        for (name, value) in query {
            call = call.query(name, Some(value));
        }
        let reply = self.send(call, deadline).await?;
        Ok(page(&reply))
    }

    /// GET {procedures_path}/{verificationId}.
    pub async fn get(
        &self,
        token: SecretString,
        verification_id: i64,
        deadline: Option<Instant>,
    ) -> Result<(i32, Vec<pb::Verification>), ApiError> {
        let call = Call::new("GetVerification", Method::GET, &self.procedures_path, Auth::Forward(token))
            .segment(verification_id.to_string());
        let reply = self.send(call, deadline).await?;
        Ok(page(&reply))
    }

    /// GET {procedures_path}/wizard.
    pub async fn wizard(
        &self,
        token: SecretString,
        deadline: Option<Instant>,
    ) -> Result<WizardStep, ApiError> {
        let call =
            Call::new("StartVerificationWizard", Method::GET, &self.procedures_path, Auth::Forward(token))
                .segment("wizard");
        let reply = self.send(call, deadline).await?;
        Ok(step(&reply))
    }

    /// POST {procedures_path} with a body from [`super::mapping::submit_body`].
    pub async fn submit(
        &self,
        token: SecretString,
        body: Value,
        deadline: Option<Instant>,
    ) -> Result<WizardStep, ApiError> {
        let call = Call::new("SubmitVerification", Method::POST, &self.procedures_path, Auth::Forward(token))
            .json(body);
        let reply = self.send(call, deadline).await?;
        Ok(step(&reply))
    }
}

/// B2Core documents no error codes for these calls: the HTTP status decides.
fn classify(_: &Refusal) -> Option<(ErrorCode, &'static str)> {
    None
}
