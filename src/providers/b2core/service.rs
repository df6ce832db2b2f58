//! `idv.b2core.v1.VerificationService`: accept (deadline, every violation at once), the
//! end client's token from metadata, call, map.

use std::sync::Arc;

use secrecy::SecretString;
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status};

use super::DOMAIN;
use super::client::B2Core;
use super::mapping::{self, WizardStep};
use crate::error::{ApiError, ErrorCode, GATEWAY_DOMAIN};
use crate::grpc::{Validate, accept};
use crate::proto::b2core::{self as pb, verification_service_server::VerificationService};
use crate::providers::configured;
use crate::validate::{self, Violations};

/// The request metadata key that carries the end client's B2Core access token.
pub const TOKEN_METADATA_KEY: &str = "b2core-authorization";

/// The B2Core service.
#[derive(Debug)]
pub struct VerificationApi {
    client: Option<Arc<B2Core>>,
}

impl VerificationApi {
    /// The service over the provider's client.
    pub fn new(client: Option<Arc<B2Core>>) -> Self {
        Self { client }
    }

    fn b2core(&self) -> Result<&B2Core, ApiError> {
        configured(&self.client, DOMAIN).map(|client| &**client)
    }
}

/// The end client's token as an `Authorization` value: `Bearer <token>`, whether the
/// caller sent the prefix or only the token.
fn token(metadata: &MetadataMap) -> Result<SecretString, ApiError> {
    let missing = || {
        ApiError::new(
            ErrorCode::Unauthenticated,
            GATEWAY_DOMAIN,
            "B2CORE_TOKEN_MISSING",
            format!("metadata {TOKEN_METADATA_KEY} must carry the end client's B2Core access token"),
        )
    };
    let value = metadata.get(TOKEN_METADATA_KEY).ok_or_else(missing)?.to_str().map_err(|_| missing())?.trim();
    let token =
        value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).unwrap_or(value).trim();
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(missing());
    }
    Ok(SecretString::from(format!("Bearer {token}")))
}

impl Validate for pb::ListVerificationsRequest {
    fn validate(&self, v: &mut Violations) {
        validate::range(v, "limit", self.limit, 1, 1000);
        validate::range(v, "offset", self.offset, 0, i32::MAX);
        validate::one_of(v, "sort_order", &self.sort_order, &["asc", "desc"]);
        validate::one_of(v, "sort_by", &self.sort_by, &["createTime"]);
    }
}

impl Validate for pb::GetVerificationRequest {
    fn validate(&self, v: &mut Violations) {
        if self.verification_id <= 0 {
            v.add("verification_id", "must be positive");
        }
    }
}

impl Validate for pb::StartVerificationWizardRequest {
    fn validate(&self, _: &mut Violations) {}
}

impl Validate for pb::SubmitVerificationRequest {
    fn validate(&self, v: &mut Violations) {
        v.require("uuid", &self.uuid);
        match &self.documents {
            None => v.add("documents", "is required"),
            Some(documents) => {
                if documents.r#type <= 0 {
                    v.add("documents.type", "must be a positive document type id");
                }
                if documents.files.is_empty() {
                    v.add("documents.files", "at least one file is required");
                }
                for (i, file) in documents.files.iter().enumerate() {
                    validate::bounded(v, &format!("documents.files[{i}]"), file, 1024);
                }
            }
        }
    }
}

macro_rules! wizard_response {
    ($type:ident, $step:expr) => {{
        let WizardStep { code, data, done, uuid, workflow } = $step;
        pb::$type { code, data, done, uuid, workflow }
    }};
}

#[tonic::async_trait]
impl VerificationService for VerificationApi {
    async fn list_verifications(
        &self,
        request: Request<pb::ListVerificationsRequest>,
    ) -> Result<Response<pb::ListVerificationsResponse>, Status> {
        let token = token(request.metadata())?;
        let rpc = accept(request)?;
        let query = mapping::list_query(&rpc.message);
        let (total, data) = self.b2core()?.list(token, query, rpc.deadline).await?;
        Ok(Response::new(pb::ListVerificationsResponse { total, data }))
    }

    async fn get_verification(
        &self,
        request: Request<pb::GetVerificationRequest>,
    ) -> Result<Response<pb::GetVerificationResponse>, Status> {
        let token = token(request.metadata())?;
        let rpc = accept(request)?;
        let (total, data) = self.b2core()?.get(token, rpc.message.verification_id, rpc.deadline).await?;
        Ok(Response::new(pb::GetVerificationResponse { total, data }))
    }

    async fn start_verification_wizard(
        &self,
        request: Request<pb::StartVerificationWizardRequest>,
    ) -> Result<Response<pb::StartVerificationWizardResponse>, Status> {
        let token = token(request.metadata())?;
        let rpc = accept(request)?;
        let step = self.b2core()?.wizard(token, rpc.deadline).await?;
        Ok(Response::new(wizard_response!(StartVerificationWizardResponse, step)))
    }

    async fn submit_verification(
        &self,
        request: Request<pb::SubmitVerificationRequest>,
    ) -> Result<Response<pb::SubmitVerificationResponse>, Status> {
        let token = token(request.metadata())?;
        let rpc = accept(request)?;
        let r = &rpc.message;
        let body = mapping::submit_body(
            r.documents.as_ref().unwrap_or(&pb::VerificationDocuments::default()),
            &r.uuid,
        );
        let step = self.b2core()?.submit(token, body, rpc.deadline).await?;
        Ok(Response::new(wizard_response!(SubmitVerificationResponse, step)))
    }
}
