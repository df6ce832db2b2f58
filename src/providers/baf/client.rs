//! BAF's REST calls (seeds 001, 002, 003): the paths and methods of applicants,
//! attempts, media and validation. Bodies and answers are mapped in [`super::mapping`].

use std::time::Instant;

use http::Method;
use secrecy::SecretString;
use serde_json::{Value, json};

use super::DOMAIN;
use super::errors::{classify, is_not_completed};
use super::mapping::{applicant, attempt, attempt_details, content, validation_result};
use crate::error::ApiError;
use crate::proto::baf as pb;
use crate::upstream::http::{Auth, Call, Media, Upstream, UpstreamError};
use crate::upstream::json::{Obj, encode_base64};
use crate::upstream::{Refusal, api_error};

const PRIVATE: &str = "api/v2/private/Applicants";
const PUBLIC: &str = "api/v2/public/Applicants";
const VALIDATION: &str = "api/v2/public/Validation";

/// A BAF account.
#[derive(Debug, Clone)]
pub struct Baf {
    upstream: Upstream,
    api_key: SecretString,
}

/// A one-word action on an applicant: `POST .../Applicants/{id}/{action}`, empty body.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// `ReNotify`: send the link again.
    ReNotify,
    /// `Open`: reopen a completed applicant.
    Open,
}

/// Which video of an attempt.
#[derive(Debug, Clone, Copy)]
pub enum Video {
    /// `.../Video`: liveness reflection.
    LivenessReflection,
    /// `.../LivenessActionVideo`: motion control.
    LivenessAction,
}

impl Baf {
    /// A client of one BAF account.
    pub fn new(upstream: Upstream, api_key: SecretString) -> Self {
        Self { upstream, api_key }
    }

    fn call(&self, operation: &'static str, method: Method, path: &str) -> Call {
        Call::new(operation, method, path, Auth::Bearer(self.api_key.clone()))
    }

    async fn send(&self, call: Call, deadline: Option<Instant>) -> Result<Value, ApiError> {
        self.upstream.json(call, deadline).await.map_err(|e| api_error(DOMAIN, e, classify))
    }

    /// POST /api/v2/private/Applicants with a body from
    /// [`super::mapping::create_applicant_body`].
    pub async fn create_applicant(
        &self,
        body: Value,
        deadline: Option<Instant>,
    ) -> Result<pb::CreateApplicantResponse, ApiError> {
        let call = self.call("CreateApplicant", Method::POST, PRIVATE).json(body);
        let reply = self.send(call, deadline).await?;
        let reply = Obj::of(&reply);
        let created = pb::CreateApplicantResponse {
            applicant_id: reply.string("applicantId"),
            validation_link: reply.string("validationLink"),
            short_validation_link: reply.string("shortValidationLink"),
        };
        if created.applicant_id.is_empty() {
            return Err(malformed("CreateApplicant: no applicantId"));
        }
        Ok(created)
    }

    /// GET /api/v2/private/Applicants with a query from
    /// [`super::mapping::list_applicants_query`].
    pub async fn list_applicants(
        &self,
        query: Vec<(&'static str, String)>,
        deadline: Option<Instant>,
    ) -> Result<pb::ListApplicantsResponse, ApiError> {
        let mut call = self.call("ListApplicants", Method::GET, PRIVATE);
        for (name, value) in query {
            call = call.query(name, Some(value));
        }
        let reply = self.send(call, deadline).await?;
        let page = object(&reply, "ListApplicants")?;
        Ok(pb::ListApplicantsResponse {
            page: page.i32("page"),
            page_size: page.i32("pageSize"),
            total: page.i32("total"),
            total_pages: page.i32("totalPages"),
            items: page.objects("items").map(applicant).collect(),
        })
    }

    /// GET /api/v2/private/Applicants/{applicantId}.
    pub async fn get_applicant(
        &self,
        applicant_id: &str,
        deadline: Option<Instant>,
    ) -> Result<pb::Applicant, ApiError> {
        let call = self.call("GetApplicant", Method::GET, PRIVATE).segment(applicant_id);
        let reply = self.send(call, deadline).await?;
        Ok(applicant(object(&reply, "GetApplicant")?))
    }

    /// PUT /api/v2/private/Applicants/{applicantId} with a body from
    /// [`super::mapping::update_applicant_body`].
    pub async fn update_applicant(
        &self,
        applicant_id: &str,
        body: Value,
        deadline: Option<Instant>,
    ) -> Result<(), ApiError> {
        let call = self.call("UpdateApplicant", Method::PUT, PRIVATE).segment(applicant_id).json(body);
        self.send(call, deadline).await.map(drop)
    }

    /// DELETE /api/v2/private/Applicants/{applicantId}.
    pub async fn delete_applicant(
        &self,
        applicant_id: &str,
        deadline: Option<Instant>,
    ) -> Result<(), ApiError> {
        let call = self.call("DeleteApplicant", Method::DELETE, PRIVATE).segment(applicant_id);
        self.send(call, deadline).await.map(drop)
    }

    /// GET /api/v2/public/Applicants/{applicantId}/Completed. BAF answers "not completed
    /// yet" with 404 and code 120025; that is an answer, not an error.
    pub async fn is_completed(
        &self,
        applicant_id: &str,
        deadline: Option<Instant>,
    ) -> Result<bool, ApiError> {
        let call = self
            .call("CheckApplicantCompleted", Method::GET, PUBLIC)
            .segment(applicant_id)
            .segment("Completed");
        match self.upstream.json(call, deadline).await {
            Ok(_) => Ok(true),
            Err(UpstreamError::Status(reply)) if is_not_completed(&Refusal::read(&reply)) => Ok(false),
            Err(e) => Err(api_error(DOMAIN, e, classify)),
        }
    }

    /// POST /api/v2/public/Applicants/{applicantId}/Complete.
    pub async fn complete_applicant(
        &self,
        applicant_id: &str,
        deadline: Option<Instant>,
    ) -> Result<Option<String>, ApiError> {
        let call =
            self.call("CompleteApplicant", Method::POST, PUBLIC).segment(applicant_id).segment("Complete");
        let reply = self.send(call, deadline).await?;
        Ok(Obj::of(&reply).opt_string("callbackUrl"))
    }

    /// POST /api/v2/private/Applicants/{applicantId}/{action} with an empty body.
    pub async fn applicant_action(
        &self,
        action: Action,
        applicant_id: &str,
        deadline: Option<Instant>,
    ) -> Result<(), ApiError> {
        let (operation, segment) = match action {
            Action::ReNotify => ("ReNotifyApplicant", "ReNotify"),
            Action::Open => ("OpenApplicant", "Open"),
        };
        let call = self.call(operation, Method::POST, PRIVATE).segment(applicant_id).segment(segment);
        self.send(call, deadline).await.map(drop)
    }

    /// POST /api/v2/private/Applicants/{applicantId}/UpdateMainPhoto.
    pub async fn update_main_photo(
        &self,
        applicant_id: &str,
        face: &[u8],
        deadline: Option<Instant>,
    ) -> Result<(), ApiError> {
        let call = self
            .call("UpdateApplicantMainPhoto", Method::POST, PRIVATE)
            .segment(applicant_id)
            .segment("UpdateMainPhoto")
            .json(json!({"faceImageBase64": encode_base64(face)}));
        self.send(call, deadline).await.map(drop)
    }

    /// GET /api/v2/private/Applicants/{applicantId}/Attempts.
    pub async fn list_attempts(
        &self,
        applicant_id: &str,
        deadline: Option<Instant>,
    ) -> Result<Vec<pb::Attempt>, ApiError> {
        let call = self
            .call("ListApplicantAttempts", Method::GET, PRIVATE)
            .segment(applicant_id)
            .segment("Attempts");
        let reply = self.send(call, deadline).await?;
        Ok(object(&reply, "ListApplicantAttempts")?.objects("attempts").map(attempt).collect())
    }

    /// GET /api/v2/private/Applicants/{applicantId}/Attempts/{attemptId}.
    pub async fn get_attempt(
        &self,
        applicant_id: &str,
        attempt_id: i64,
        deadline: Option<Instant>,
    ) -> Result<pb::AttemptDetails, ApiError> {
        let call = self
            .call("GetApplicantAttempt", Method::GET, PRIVATE)
            .segment(applicant_id)
            .segment("Attempts")
            .segment(attempt_id.to_string());
        let reply = self.send(call, deadline).await?;
        attempt_details(object(&reply, "GetApplicantAttempt")?)
            .map_err(|e| malformed(&format!("GetApplicantAttempt: {e}")))
    }

    /// GET /api/v2/private/Applicants/{applicantId}/Attempts/{attemptId}/Images.
    pub async fn get_images(
        &self,
        applicant_id: &str,
        attempt_id: i64,
        deadline: Option<Instant>,
    ) -> Result<pb::AttemptContent, ApiError> {
        let call = self
            .call("GetAttemptImages", Method::GET, PRIVATE)
            .segment(applicant_id)
            .segment("Attempts")
            .segment(attempt_id.to_string())
            .segment("Images");
        let reply = self.send(call, deadline).await?;
        content(object(&reply, "GetAttemptImages")?).map_err(|e| malformed(&format!("GetAttemptImages: {e}")))
    }

    /// GET .../Attempts/{attemptId}/Video or .../LivenessActionVideo, streamed.
    pub async fn download_video(
        &self,
        applicant_id: &str,
        attempt_id: i64,
        video: Video,
        deadline: Option<Instant>,
    ) -> Result<Media, ApiError> {
        let (operation, last) = match video {
            Video::LivenessReflection => ("DownloadAttemptVideo", "Video"),
            Video::LivenessAction => ("DownloadLivenessActionVideo", "LivenessActionVideo"),
        };
        let call = self
            .call(operation, Method::GET, PRIVATE)
            .segment(applicant_id)
            .segment("Attempts")
            .segment(attempt_id.to_string())
            .segment(last);
        let download =
            self.upstream.download(call, deadline).await.map_err(|e| api_error(DOMAIN, e, classify))?;
        Ok(download.into_media(|e| api_error(DOMAIN, e, classify)))
    }

    /// POST /api/v2/public/Validation with a body from
    /// [`super::mapping::validation_body`]; `operation` names the gRPC method for logs.
    pub async fn validate(
        &self,
        operation: &'static str,
        body: Value,
        deadline: Option<Instant>,
    ) -> Result<pb::ValidationResult, ApiError> {
        let call =
            Call::new(operation, Method::POST, VALIDATION, Auth::Bearer(self.api_key.clone())).json(body);
        let reply = self.send(call, deadline).await?;
        Ok(validation_result(object(&reply, operation)?))
    }
}

fn object<'a>(reply: &'a Value, operation: &str) -> Result<Obj<'a>, ApiError> {
    let obj = Obj::of(reply);
    if obj.is_object() { Ok(obj) } else { Err(malformed(&format!("{operation}: body is not a JSON object"))) }
}

fn malformed(what: &str) -> ApiError {
    api_error(DOMAIN, UpstreamError::Malformed(what.to_owned()), classify)
}
