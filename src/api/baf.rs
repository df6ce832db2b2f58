//! `idv.baf.v1.ApplicantService` and `idv.baf.v1.ValidationService`.

use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tonic::{Request, Response, Status};

use super::{configured, deadline};
use crate::attempts::tracker::Tracker;
use crate::error::ApiError;
use crate::proto::baf::{
    self as pb, applicant_service_server::ApplicantService, validation_service_server::ValidationService,
};
use crate::validate::{self, Violations};
use crate::vendor::baf::{Baf, DOMAIN, FACE_ONLY, ValidationInput, Video};
use crate::vendor::http::Download;

/// Largest chunk of a streamed video, well under any gRPC message limit.
const CHUNK_BYTES: usize = 64 * 1024;

/// Largest image accepted in a validation request.
const MAX_IMAGE_BYTES: usize = 15 * 1024 * 1024;

/// The BAF services.
#[derive(Debug)]
pub struct BafApi {
    /// The vendor client; `None` when BAF is not configured.
    pub baf: Option<Baf>,
    /// Where created applicants are recorded and observed, for `WatchAttempt`.
    pub tracker: Arc<Tracker>,
}

impl BafApi {
    fn baf(&self) -> Result<&Baf, ApiError> {
        configured(&self.baf, DOMAIN)
    }

    /// Shows callers the `callbackUrl` they set, not the gateway's return URL in front
    /// of it.
    async fn caller_view(&self, applicant: &mut pb::Applicant) -> Result<(), ApiError> {
        applicant.callback_url =
            self.tracker.baf_callback_for_caller(&applicant.applicant_id, &applicant.callback_url).await?;
        Ok(())
    }
}

/// Checks the applicant id common to almost every call.
fn applicant_id(applicant_id: &str) -> Result<(), Status> {
    let mut v = Violations::default();
    validate::id(&mut v, "applicant_id", applicant_id);
    Ok(v.finish()?)
}

/// Checks an applicant id and an attempt id.
fn attempt_ids(applicant_id: &str, attempt_id: i64) -> Result<(), Status> {
    let mut v = Violations::default();
    validate::id(&mut v, "applicant_id", applicant_id);
    if attempt_id <= 0 {
        v.add("attempt_id", "must be positive");
    }
    Ok(v.finish()?)
}

fn image(v: &mut Violations, field: &str, bytes: &[u8], required: bool) {
    if bytes.is_empty() {
        if required {
            v.add(field, "is required");
        }
    } else if bytes.len() > MAX_IMAGE_BYTES {
        v.add(field, format!("must be at most {MAX_IMAGE_BYTES} bytes"));
    }
}

/// A caller's browser redirect target: an absolute http(s) URL. Browsers, not the
/// gateway, follow it, so private hosts are fine.
fn redirect_url(v: &mut Violations, field: &str, url: &str) {
    let open = validate::UrlPolicy { allow_http: true, allow_private: true };
    if !url.is_empty() {
        validate::outbound_url(v, field, url, open);
    }
}

type ChunkStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// Re-chunks a vendor download into messages of at most [`CHUNK_BYTES`]; the first
/// carries the content type and length, and an empty video is one empty message. The
/// stream is pulled by the caller, so a slow caller slows the download instead of
/// buffering it.
fn chunks<T: Send + 'static>(download: Download, message: fn(Bytes, String, i64) -> T) -> ChunkStream<T> {
    struct State {
        body: futures_util::stream::BoxStream<'static, Result<Bytes, crate::vendor::http::UpstreamError>>,
        pending: Bytes,
        header: Option<(String, i64)>,
        finished: bool,
    }
    let state = State {
        header: Some((download.content_type, download.content_length.map_or(0, |n| n as i64))),
        body: download.body,
        pending: Bytes::new(),
        finished: false,
    };
    Box::pin(futures_util::stream::unfold(state, move |mut s| async move {
        loop {
            if !s.pending.is_empty() {
                let chunk = s.pending.split_to(CHUNK_BYTES.min(s.pending.len()));
                let (content_type, length) = s.header.take().unwrap_or_default();
                return Some((Ok(message(chunk, content_type, length)), s));
            }
            if s.finished {
                let (content_type, length) = s.header.take()?;
                return Some((Ok(message(Bytes::new(), content_type, length)), s));
            }
            match s.body.next().await {
                Some(Ok(bytes)) => s.pending = bytes,
                Some(Err(e)) => {
                    s.finished = true;
                    s.header = None;
                    return Some((Err(crate::vendor::api_error(DOMAIN, e, |_| None).into()), s));
                }
                None => s.finished = true,
            }
        }
    }))
}

#[tonic::async_trait]
impl ApplicantService for BafApi {
    async fn create_applicant(
        &self,
        request: Request<pb::CreateApplicantRequest>,
    ) -> Result<Response<pb::CreateApplicantResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        let mut v = Violations::default();
        for (field, value, max) in [
            ("first_name", &r.first_name, 200),
            ("last_name", &r.last_name, 200),
            ("phone", &r.phone, 32),
            ("email", &r.email, 320),
            ("reference_id", &r.reference_id, 200),
        ] {
            if value.chars().count() > max {
                v.add(field, format!("must be at most {max} characters"));
            }
        }
        redirect_url(&mut v, "callback_url", &r.callback_url);
        if r.send_sms == Some(true) && r.phone.is_empty() {
            v.add("phone", "is required when send_sms is true");
        }
        if pb::ApplicantStatus::try_from(r.status).is_err() {
            v.add("status", "must be a known ApplicantStatus");
        }
        if pb::VerificationMethod::try_from(r.verification_method).is_err() {
            v.add("verification_method", "must be a known VerificationMethod");
        }
        v.finish()?;
        let baf = self.baf()?;
        // BAF only redirects the browser to `callbackUrl`; pointing it at the gateway
        // first tells watchers the person came back, then the gateway redirects onward.
        let browser_return = self.tracker.new_baf_return();
        let callback_url = browser_return.as_ref().map_or(r.callback_url.as_str(), |(_, url)| url.as_str());
        let created = baf.create_applicant(&r, callback_url, deadline).await?;
        let browser_return = browser_return.map(|(token, _)| (token, r.callback_url.clone()));
        self.tracker
            .baf_created(&created.applicant_id, &r.reference_id, &created.validation_link, browser_return)
            .await?;
        Ok(Response::new(created))
    }

    async fn list_applicants(
        &self,
        request: Request<pb::ListApplicantsRequest>,
    ) -> Result<Response<pb::ListApplicantsResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        let mut v = Violations::default();
        validate::range(&mut v, "page", r.page, 1, i32::MAX);
        validate::range(&mut v, "page_size", r.page_size, 1, 400);
        validate::optional_dash_date(&mut v, "created_from", &r.created_from);
        validate::optional_dash_date(&mut v, "created_to", &r.created_to);
        if r.text_filter.chars().count() > 200 {
            v.add("text_filter", "must be at most 200 characters");
        }
        if r.sort_field.len() > 64 || !r.sort_field.bytes().all(|b| b.is_ascii_alphanumeric()) {
            v.add("sort_field", "must be a field name such as firstName");
        }
        if !r.order.is_empty()
            && !r.order.eq_ignore_ascii_case("descending")
            && !r.order.eq_ignore_ascii_case("ascending")
        {
            v.add("order", "must be descending or ascending");
        }
        v.finish()?;
        let mut page = self.baf()?.list_applicants(&r, deadline).await?;
        for applicant in &mut page.items {
            self.caller_view(applicant).await?;
        }
        Ok(Response::new(page))
    }

    async fn get_applicant(
        &self,
        request: Request<pb::GetApplicantRequest>,
    ) -> Result<Response<pb::GetApplicantResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        applicant_id(&r.applicant_id)?;
        let mut applicant = self.baf()?.get_applicant(&r.applicant_id, deadline).await?;
        self.caller_view(&mut applicant).await?;
        Ok(Response::new(pb::GetApplicantResponse { applicant: Some(applicant) }))
    }

    async fn update_applicant(
        &self,
        request: Request<pb::UpdateApplicantRequest>,
    ) -> Result<Response<pb::UpdateApplicantResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        let mut v = Violations::default();
        validate::id(&mut v, "applicant_id", &r.applicant_id);
        if let Some(url) = &r.callback_url {
            redirect_url(&mut v, "callback_url", url);
        }
        v.finish()?;
        let baf = self.baf()?;
        // For an applicant whose browser returns through the gateway, a new callbackUrl is
        // where the gateway redirects to; BAF keeps pointing at the gateway.
        let callback_url = match &r.callback_url {
            Some(url) if self.tracker.baf_redirect_update(&r.applicant_id, url).await? => None,
            other => other.as_deref(),
        };
        baf.update_applicant(&r, callback_url, deadline).await?;
        self.tracker.baf_touched(&r.applicant_id);
        Ok(Response::new(pb::UpdateApplicantResponse {}))
    }

    async fn delete_applicant(
        &self,
        request: Request<pb::DeleteApplicantRequest>,
    ) -> Result<Response<pb::DeleteApplicantResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        applicant_id(&r.applicant_id)?;
        self.baf()?.delete_applicant(&r.applicant_id, deadline).await?;
        self.tracker.baf_touched(&r.applicant_id);
        Ok(Response::new(pb::DeleteApplicantResponse {}))
    }

    async fn check_applicant_completed(
        &self,
        request: Request<pb::CheckApplicantCompletedRequest>,
    ) -> Result<Response<pb::CheckApplicantCompletedResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        applicant_id(&r.applicant_id)?;
        let completed = self.baf()?.is_completed(&r.applicant_id, deadline).await?;
        Ok(Response::new(pb::CheckApplicantCompletedResponse { completed }))
    }

    async fn complete_applicant(
        &self,
        request: Request<pb::CompleteApplicantRequest>,
    ) -> Result<Response<pb::CompleteApplicantResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        applicant_id(&r.applicant_id)?;
        let callback_url = self.baf()?.complete_applicant(&r.applicant_id, deadline).await?;
        self.tracker.baf_touched(&r.applicant_id);
        let callback_url = match callback_url {
            Some(url) => Some(self.tracker.baf_callback_for_caller(&r.applicant_id, &url).await?),
            None => None,
        }
        .filter(|url| !url.is_empty());
        Ok(Response::new(pb::CompleteApplicantResponse { callback_url }))
    }

    async fn re_notify_applicant(
        &self,
        request: Request<pb::ReNotifyApplicantRequest>,
    ) -> Result<Response<pb::ReNotifyApplicantResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        applicant_id(&r.applicant_id)?;
        self.baf()?.applicant_action("ReNotifyApplicant", &r.applicant_id, "ReNotify", deadline).await?;
        Ok(Response::new(pb::ReNotifyApplicantResponse {}))
    }

    async fn open_applicant(
        &self,
        request: Request<pb::OpenApplicantRequest>,
    ) -> Result<Response<pb::OpenApplicantResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        applicant_id(&r.applicant_id)?;
        self.baf()?.applicant_action("OpenApplicant", &r.applicant_id, "Open", deadline).await?;
        self.tracker.baf_touched(&r.applicant_id);
        Ok(Response::new(pb::OpenApplicantResponse {}))
    }

    async fn update_applicant_main_photo(
        &self,
        request: Request<pb::UpdateApplicantMainPhotoRequest>,
    ) -> Result<Response<pb::UpdateApplicantMainPhotoResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        let mut v = Violations::default();
        validate::id(&mut v, "applicant_id", &r.applicant_id);
        image(&mut v, "face_image_base64", &r.face_image_base64, true);
        v.finish()?;
        self.baf()?.update_main_photo(&r.applicant_id, &r.face_image_base64, deadline).await?;
        Ok(Response::new(pb::UpdateApplicantMainPhotoResponse {}))
    }

    async fn list_applicant_attempts(
        &self,
        request: Request<pb::ListApplicantAttemptsRequest>,
    ) -> Result<Response<pb::ListApplicantAttemptsResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        applicant_id(&r.applicant_id)?;
        let attempts = self.baf()?.list_attempts(&r.applicant_id, deadline).await?;
        Ok(Response::new(pb::ListApplicantAttemptsResponse { attempts }))
    }

    async fn get_applicant_attempt(
        &self,
        request: Request<pb::GetApplicantAttemptRequest>,
    ) -> Result<Response<pb::GetApplicantAttemptResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        attempt_ids(&r.applicant_id, r.attempt_id)?;
        let attempt = self.baf()?.get_attempt(&r.applicant_id, r.attempt_id, deadline).await?;
        Ok(Response::new(pb::GetApplicantAttemptResponse { attempt: Some(attempt) }))
    }

    async fn get_attempt_images(
        &self,
        request: Request<pb::GetAttemptImagesRequest>,
    ) -> Result<Response<pb::GetAttemptImagesResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        attempt_ids(&r.applicant_id, r.attempt_id)?;
        let images = self.baf()?.get_images(&r.applicant_id, r.attempt_id, deadline).await?;
        Ok(Response::new(pb::GetAttemptImagesResponse { images: Some(images) }))
    }

    type DownloadAttemptVideoStream = ChunkStream<pb::DownloadAttemptVideoResponse>;

    async fn download_attempt_video(
        &self,
        request: Request<pb::DownloadAttemptVideoRequest>,
    ) -> Result<Response<Self::DownloadAttemptVideoStream>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        attempt_ids(&r.applicant_id, r.attempt_id)?;
        let download = self
            .baf()?
            .download_video(&r.applicant_id, r.attempt_id, Video::LivenessReflection, deadline)
            .await?;
        Ok(Response::new(chunks(download, |chunk, content_type, content_length| {
            pb::DownloadAttemptVideoResponse { chunk: chunk.to_vec(), content_type, content_length }
        })))
    }

    type DownloadLivenessActionVideoStream = ChunkStream<pb::DownloadLivenessActionVideoResponse>;

    async fn download_liveness_action_video(
        &self,
        request: Request<pb::DownloadLivenessActionVideoRequest>,
    ) -> Result<Response<Self::DownloadLivenessActionVideoStream>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        attempt_ids(&r.applicant_id, r.attempt_id)?;
        let download = self
            .baf()?
            .download_video(&r.applicant_id, r.attempt_id, Video::LivenessAction, deadline)
            .await?;
        Ok(Response::new(chunks(download, |chunk, content_type, content_length| {
            pb::DownloadLivenessActionVideoResponse { chunk: chunk.to_vec(), content_type, content_length }
        })))
    }
}

impl BafApi {
    async fn validate(
        &self,
        operation: &'static str,
        input: ValidationInput<'_>,
        deadline: Option<std::time::Instant>,
    ) -> Result<pb::ValidationResult, Status> {
        let mut v = Violations::default();
        validate::id(&mut v, "applicant_id", input.applicant_id);
        if !input.endeavor_id.is_empty() {
            validate::id(&mut v, "endeavor_id", input.endeavor_id);
        }
        image(&mut v, "face_image_base64", input.face, true);
        if input.document_type != FACE_ONLY {
            image(&mut v, "front_image_base64", input.front, true);
            image(&mut v, "back_or_second_image_base64", input.back, false);
            if input.document_type <= 0 {
                v.add("document_type", "must be a positive BAF document type other than 10 (face only)");
            }
        }
        v.finish()?;
        let applicant_id = input.applicant_id.to_owned();
        let result = self.baf()?.validate(operation, input, deadline).await;
        // A validation makes an attempt and may complete the applicant, failed or not.
        self.tracker.baf_touched(&applicant_id);
        Ok(result?)
    }
}

#[tonic::async_trait]
impl ValidationService for BafApi {
    async fn verify_document(
        &self,
        request: Request<pb::VerifyDocumentRequest>,
    ) -> Result<Response<pb::VerifyDocumentResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        if r.document_type == FACE_ONLY {
            let mut v = Violations::default();
            v.add("document_type", "10 means face only: use RegisterFace or AuthorizeFace");
            v.finish()?;
        }
        let input = ValidationInput {
            applicant_id: &r.applicant_id,
            endeavor_id: &r.endeavor_id,
            face: &r.face_image_base64,
            front: &r.front_image_base64,
            back: &r.back_or_second_image_base64,
            document_type: r.document_type,
        };
        let result = self.validate("VerifyDocument", input, deadline).await?;
        Ok(Response::new(pb::VerifyDocumentResponse { result: Some(result) }))
    }

    async fn register_face(
        &self,
        request: Request<pb::RegisterFaceRequest>,
    ) -> Result<Response<pb::RegisterFaceResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        let input = ValidationInput::face_only(&r.applicant_id, &r.endeavor_id, &r.face_image_base64);
        let result = self.validate("RegisterFace", input, deadline).await?;
        Ok(Response::new(pb::RegisterFaceResponse { result: Some(result) }))
    }

    async fn authorize_face(
        &self,
        request: Request<pb::AuthorizeFaceRequest>,
    ) -> Result<Response<pb::AuthorizeFaceResponse>, Status> {
        let deadline = deadline(request.metadata());
        let r = request.into_inner();
        let input = ValidationInput::face_only(&r.applicant_id, &r.endeavor_id, &r.face_image_base64);
        let result = self.validate("AuthorizeFace", input, deadline).await?;
        Ok(Response::new(pb::AuthorizeFaceResponse { result: Some(result) }))
    }
}
