//! `idv.baf.v1.ValidationService`: document verification, face registration and face
//! authorization, all one BAF call (`POST /api/v2/public/Validation`) with the images the
//! gateway wraps in BAF's `model`.

use std::sync::Arc;
use std::time::Instant;

use tonic::{Request, Response, Status};

use super::applicant_service::image;
use super::mapping::{FACE_ONLY, ValidationInput, validation_body};
use super::{DOMAIN, Shared};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::grpc::{Validate, accept};
use crate::proto::baf::{self as pb, validation_service_server::ValidationService};
use crate::providers::configured;
use crate::validate::{self, Violations};

/// The validation service.
#[derive(Debug)]
pub struct ValidationApi {
    shared: Arc<Shared>,
}

impl ValidationApi {
    /// The service over the provider's shared state.
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    async fn validate(
        &self,
        operation: &'static str,
        input: ValidationInput<'_>,
        caller: &Caller,
        deadline: Option<Instant>,
    ) -> Result<pb::ValidationResult, ApiError> {
        let baf = configured(&self.shared.client, DOMAIN)?;
        self.shared.check_visible(caller, input.applicant_id).await?;
        let result = baf.validate(operation, validation_body(&input), deadline).await;
        // A validation makes an attempt and may complete the applicant, failed or not.
        self.shared.touched(input.applicant_id);
        result
    }
}

/// The checks every validation shares: ids and images.
fn check(v: &mut Violations, input: &ValidationInput<'_>) {
    validate::id(v, "applicant_id", input.applicant_id);
    if !input.endeavor_id.is_empty() {
        validate::id(v, "endeavor_id", input.endeavor_id);
    }
    image(v, "face_image_base64", input.face, true);
    if input.document_type != FACE_ONLY {
        image(v, "front_image_base64", input.front, true);
        image(v, "back_or_second_image_base64", input.back, false);
        if input.document_type <= 0 {
            v.add("document_type", "must be a positive BAF document type other than 10 (face only)");
        }
    }
}

fn document(r: &pb::VerifyDocumentRequest) -> ValidationInput<'_> {
    ValidationInput {
        applicant_id: &r.applicant_id,
        endeavor_id: &r.endeavor_id,
        face: &r.face_image_base64,
        front: &r.front_image_base64,
        back: &r.back_or_second_image_base64,
        document_type: r.document_type,
    }
}

impl Validate for pb::VerifyDocumentRequest {
    fn validate(&self, v: &mut Violations) {
        if self.document_type == FACE_ONLY {
            v.add("document_type", "10 means face only: use RegisterFace or AuthorizeFace");
        }
        check(v, &document(self));
    }
}

impl Validate for pb::RegisterFaceRequest {
    fn validate(&self, v: &mut Violations) {
        check(v, &ValidationInput::face_only(&self.applicant_id, &self.endeavor_id, &self.face_image_base64));
    }
}

impl Validate for pb::AuthorizeFaceRequest {
    fn validate(&self, v: &mut Violations) {
        check(v, &ValidationInput::face_only(&self.applicant_id, &self.endeavor_id, &self.face_image_base64));
    }
}

#[tonic::async_trait]
impl ValidationService for ValidationApi {
    async fn verify_document(
        &self,
        request: Request<pb::VerifyDocumentRequest>,
    ) -> Result<Response<pb::VerifyDocumentResponse>, Status> {
        let rpc = accept(request)?;
        let result =
            self.validate("VerifyDocument", document(&rpc.message), &rpc.caller, rpc.deadline).await?;
        Ok(Response::new(pb::VerifyDocumentResponse { result: Some(result) }))
    }

    async fn register_face(
        &self,
        request: Request<pb::RegisterFaceRequest>,
    ) -> Result<Response<pb::RegisterFaceResponse>, Status> {
        let rpc = accept(request)?;
        let r = &rpc.message;
        let input = ValidationInput::face_only(&r.applicant_id, &r.endeavor_id, &r.face_image_base64);
        let result = self.validate("RegisterFace", input, &rpc.caller, rpc.deadline).await?;
        Ok(Response::new(pb::RegisterFaceResponse { result: Some(result) }))
    }

    async fn authorize_face(
        &self,
        request: Request<pb::AuthorizeFaceRequest>,
    ) -> Result<Response<pb::AuthorizeFaceResponse>, Status> {
        let rpc = accept(request)?;
        let r = &rpc.message;
        let input = ValidationInput::face_only(&r.applicant_id, &r.endeavor_id, &r.face_image_base64);
        let result = self.validate("AuthorizeFace", input, &rpc.caller, rpc.deadline).await?;
        Ok(Response::new(pb::AuthorizeFaceResponse { result: Some(result) }))
    }
}
