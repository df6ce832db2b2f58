//! `idv.b2core.v1.VerificationService`.

use secrecy::SecretString;
use tonic::metadata::MetadataMap;
use tonic::{Code, Request, Response, Status};

use super::{configured, deadline};
use crate::error::{ApiError, GATEWAY_DOMAIN};
use crate::proto::b2core::{self as pb, verification_service_server::VerificationService};
use crate::validate::{self, Violations};
use crate::vendor::b2core::{B2Core, DOMAIN, WizardStep};

/// The request metadata key that carries the end client's B2Core access token.
pub const TOKEN_METADATA_KEY: &str = "b2core-authorization";

/// The B2Core service.
#[derive(Debug)]
pub struct B2CoreApi {
    /// The vendor client; `None` when B2Core is not configured.
    pub b2core: Option<B2Core>,
}

impl B2CoreApi {
    fn b2core(&self) -> Result<&B2Core, ApiError> {
        configured(&self.b2core, DOMAIN)
    }
}

/// The end client's token as an `Authorization` value: `Bearer <token>`, whether the
/// caller sent the prefix or only the token.
fn token(metadata: &MetadataMap) -> Result<SecretString, ApiError> {
    let missing = || {
        ApiError::new(
            Code::Unauthenticated,
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

fn wizard_response(step: WizardStep) -> (i32, Option<prost_types::Value>, bool, String, String) {
    (step.code, step.data, step.done, step.uuid, step.workflow)
}

#[tonic::async_trait]
impl VerificationService for B2CoreApi {
    async fn list_verifications(
        &self,
        request: Request<pb::ListVerificationsRequest>,
    ) -> Result<Response<pb::ListVerificationsResponse>, Status> {
        let deadline = deadline(request.metadata());
        let token = token(request.metadata())?;
        let r = request.into_inner();
        let mut v = Violations::default();
        validate::range(&mut v, "limit", r.limit, 1, 1000);
        validate::range(&mut v, "offset", r.offset, 0, i32::MAX);
        validate::one_of(&mut v, "sort_order", &r.sort_order, &["asc", "desc"]);
        validate::one_of(&mut v, "sort_by", &r.sort_by, &["createTime"]);
        v.finish()?;
        let (total, data) = self.b2core()?.list(token, &r, deadline).await?;
        Ok(Response::new(pb::ListVerificationsResponse { total, data }))
    }

    async fn get_verification(
        &self,
        request: Request<pb::GetVerificationRequest>,
    ) -> Result<Response<pb::GetVerificationResponse>, Status> {
        let deadline = deadline(request.metadata());
        let token = token(request.metadata())?;
        let r = request.into_inner();
        if r.verification_id <= 0 {
            let mut v = Violations::default();
            v.add("verification_id", "must be positive");
            v.finish()?;
        }
        let (total, data) = self.b2core()?.get(token, r.verification_id, deadline).await?;
        Ok(Response::new(pb::GetVerificationResponse { total, data }))
    }

    async fn start_verification_wizard(
        &self,
        request: Request<pb::StartVerificationWizardRequest>,
    ) -> Result<Response<pb::StartVerificationWizardResponse>, Status> {
        let deadline = deadline(request.metadata());
        let token = token(request.metadata())?;
        let step = self.b2core()?.wizard(token, deadline).await?;
        let (code, data, done, uuid, workflow) = wizard_response(step);
        Ok(Response::new(pb::StartVerificationWizardResponse { code, data, done, uuid, workflow }))
    }

    async fn submit_verification(
        &self,
        request: Request<pb::SubmitVerificationRequest>,
    ) -> Result<Response<pb::SubmitVerificationResponse>, Status> {
        let deadline = deadline(request.metadata());
        let token = token(request.metadata())?;
        let r = request.into_inner();
        let mut v = Violations::default();
        v.require("uuid", &r.uuid);
        match &r.documents {
            None => v.add("documents", "is required"),
            Some(documents) => {
                if documents.r#type <= 0 {
                    v.add("documents.type", "must be a positive document type id");
                }
                if documents.files.is_empty() {
                    v.add("documents.files", "at least one file is required");
                }
                for (i, file) in documents.files.iter().enumerate() {
                    validate::bounded(&mut v, &format!("documents.files[{i}]"), file, 1024);
                }
            }
        }
        v.finish()?;
        let documents = r.documents.unwrap_or_default();
        let step = self.b2core()?.submit(token, &documents, &r.uuid, deadline).await?;
        let (code, data, done, uuid, workflow) = wizard_response(step);
        Ok(Response::new(pb::SubmitVerificationResponse { code, data, done, uuid, workflow }))
    }
}
