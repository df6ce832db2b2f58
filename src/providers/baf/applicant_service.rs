//! `idv.baf.v1.ApplicantService`: accept (deadline, every violation at once), call, map.

use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::client::{Action, Baf, Video};
use super::{DOMAIN, Shared, VENDOR, mapping};
use crate::attempts::{AttemptKey, Effect, NewEvent, event_id};
use crate::error::ApiError;
use crate::grpc::{ChunkStream, Validate, accept, chunked};
use crate::proto::attempts::{Started, attempt_event::Kind};
use crate::proto::baf::{self as pb, applicant_service_server::ApplicantService};
use crate::providers::configured;
use crate::validate::{self, Violations};

/// Largest image accepted in a request.
pub const MAX_IMAGE_BYTES: usize = 15 * 1024 * 1024;

/// The applicant service.
#[derive(Debug)]
pub struct ApplicantApi {
    shared: Arc<Shared>,
}

impl ApplicantApi {
    /// The service over the provider's shared state.
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    fn baf(&self) -> Result<&Baf, ApiError> {
        configured(&self.shared.client, DOMAIN)
    }

    /// Shows callers the `callbackUrl` they set, not the gateway's return URL in front
    /// of it.
    async fn caller_view(&self, applicant: &mut pb::Applicant) -> Result<(), ApiError> {
        applicant.callback_url =
            self.shared.caller_callback(&applicant.applicant_id, &applicant.callback_url).await?;
        Ok(())
    }

    /// Records an applicant the gateway created for `owner`.
    async fn created(
        &self,
        created: &pb::CreateApplicantResponse,
        reference_id: &str,
        owner: &str,
    ) -> Result<(), ApiError> {
        let key = AttemptKey::new(VENDOR, &created.applicant_id);
        let started = Started {
            transaction_id: reference_id.to_owned(),
            url: created.validation_link.clone(),
            expire_time: None,
            lang: String::new(),
        };
        let event = NewEvent {
            owner: Some(owner.to_owned()),
            ..NewEvent::new(event_id(&key, "started", b""), Kind::Started(started), Effect::Keep)
        };
        self.shared.log.append(&key, event).await?;
        Ok(())
    }
}

/// Checks an image field.
pub fn image(v: &mut Violations, field: &str, bytes: &[u8], required: bool) {
    if bytes.is_empty() {
        if required {
            v.add(field, "is required");
        }
    } else if bytes.len() > MAX_IMAGE_BYTES {
        v.add(field, format!("must be at most {MAX_IMAGE_BYTES} bytes"));
    }
}

/// A caller's browser redirect target, if given.
fn redirect_url(v: &mut Violations, field: &str, url: &str) {
    if !url.is_empty() {
        validate::redirect_url(v, field, url);
    }
}

/// An applicant id and an attempt id.
fn attempt_ids(v: &mut Violations, applicant_id: &str, attempt_id: i64) {
    validate::id(v, "applicant_id", applicant_id);
    if attempt_id <= 0 {
        v.add("attempt_id", "must be positive");
    }
}

macro_rules! applicant_id_only {
    ($($request:ty),*) => {$(
        impl Validate for $request {
            fn validate(&self, v: &mut Violations) {
                validate::id(v, "applicant_id", &self.applicant_id);
            }
        }
    )*};
}

applicant_id_only!(
    pb::GetApplicantRequest,
    pb::DeleteApplicantRequest,
    pb::CheckApplicantCompletedRequest,
    pb::CompleteApplicantRequest,
    pb::ReNotifyApplicantRequest,
    pb::OpenApplicantRequest,
    pb::ListApplicantAttemptsRequest
);

macro_rules! attempt_ids_only {
    ($($request:ty),*) => {$(
        impl Validate for $request {
            fn validate(&self, v: &mut Violations) {
                attempt_ids(v, &self.applicant_id, self.attempt_id);
            }
        }
    )*};
}

attempt_ids_only!(
    pb::GetApplicantAttemptRequest,
    pb::GetAttemptImagesRequest,
    pb::DownloadAttemptVideoRequest,
    pb::DownloadLivenessActionVideoRequest
);

impl Validate for pb::CreateApplicantRequest {
    fn validate(&self, v: &mut Violations) {
        for (field, value, max) in [
            ("first_name", &self.first_name, 200),
            ("last_name", &self.last_name, 200),
            ("phone", &self.phone, 32),
            ("email", &self.email, 320),
            ("reference_id", &self.reference_id, 200),
        ] {
            if value.chars().count() > max {
                v.add(field, format!("must be at most {max} characters"));
            }
        }
        redirect_url(v, "callback_url", &self.callback_url);
        if self.send_sms == Some(true) && self.phone.is_empty() {
            v.add("phone", "is required when send_sms is true");
        }
        if pb::ApplicantStatus::try_from(self.status).is_err() {
            v.add("status", "must be a known ApplicantStatus");
        }
        if pb::VerificationMethod::try_from(self.verification_method).is_err() {
            v.add("verification_method", "must be a known VerificationMethod");
        }
    }
}

impl Validate for pb::ListApplicantsRequest {
    fn validate(&self, v: &mut Violations) {
        validate::range(v, "page", self.page, 1, i32::MAX);
        validate::range(v, "page_size", self.page_size, 1, 400);
        validate::optional_dash_date(v, "created_from", &self.created_from);
        validate::optional_dash_date(v, "created_to", &self.created_to);
        if self.text_filter.chars().count() > 200 {
            v.add("text_filter", "must be at most 200 characters");
        }
        if self.sort_field.len() > 64 || !self.sort_field.bytes().all(|b| b.is_ascii_alphanumeric()) {
            v.add("sort_field", "must be a field name such as firstName");
        }
        if !self.order.is_empty()
            && !self.order.eq_ignore_ascii_case("descending")
            && !self.order.eq_ignore_ascii_case("ascending")
        {
            v.add("order", "must be descending or ascending");
        }
    }
}

impl Validate for pb::UpdateApplicantRequest {
    fn validate(&self, v: &mut Violations) {
        validate::id(v, "applicant_id", &self.applicant_id);
        if let Some(url) = &self.callback_url {
            redirect_url(v, "callback_url", url);
        }
    }
}

impl Validate for pb::UpdateApplicantMainPhotoRequest {
    fn validate(&self, v: &mut Violations) {
        validate::id(v, "applicant_id", &self.applicant_id);
        image(v, "face_image_base64", &self.face_image_base64, true);
    }
}

#[tonic::async_trait]
impl ApplicantService for ApplicantApi {
    async fn create_applicant(
        &self,
        request: Request<pb::CreateApplicantRequest>,
    ) -> Result<Response<pb::CreateApplicantResponse>, Status> {
        let rpc = accept(request)?;
        let r = &rpc.message;
        let baf = self.baf()?;
        // BAF only redirects the browser to `callbackUrl`; pointing it at the gateway
        // first tells watchers the person came back, then the gateway redirects onward.
        let browser_return = self.shared.new_return();
        let callback_url = browser_return.as_ref().map_or(r.callback_url.as_str(), |ret| ret.url.as_str());
        let created =
            baf.create_applicant(mapping::create_applicant_body(r, callback_url), rpc.deadline).await?;
        crate::telemetry::traces::attempt(&created.applicant_id);
        self.created(&created, &r.reference_id, &rpc.caller.name).await?;
        if let Some(ret) = browser_return {
            let key = AttemptKey::new(VENDOR, &created.applicant_id);
            self.shared.register_return(&key, ret, &r.callback_url).await?;
        }
        if let Some(observers) = &self.shared.observers {
            observers.observe(&created.applicant_id);
        }
        Ok(Response::new(created))
    }

    async fn list_applicants(
        &self,
        request: Request<pb::ListApplicantsRequest>,
    ) -> Result<Response<pb::ListApplicantsResponse>, Status> {
        let rpc = accept(request)?;
        let query = mapping::list_applicants_query(&rpc.message);
        let mut page = self.baf()?.list_applicants(query, rpc.deadline).await?;
        if rpc.caller.own_attempts_only {
            // A restricted caller sees only its own applicants in the page; BAF's totals
            // still count the whole account, so they are cleared rather than leaked.
            let mut own = Vec::new();
            for applicant in page.items {
                let key = AttemptKey::new(VENDOR, &applicant.applicant_id);
                if self.shared.log.visible(&key, &rpc.caller).await?.is_some() {
                    own.push(applicant);
                }
            }
            page.items = own;
            page.total = page.items.len() as i32;
            page.total_pages = i32::from(!page.items.is_empty());
        }
        for applicant in &mut page.items {
            self.caller_view(applicant).await?;
        }
        Ok(Response::new(page))
    }

    async fn get_applicant(
        &self,
        request: Request<pb::GetApplicantRequest>,
    ) -> Result<Response<pb::GetApplicantResponse>, Status> {
        let rpc = accept(request)?;
        self.shared.check_visible(&rpc.caller, &rpc.message.applicant_id).await?;
        let mut applicant = self.baf()?.get_applicant(&rpc.message.applicant_id, rpc.deadline).await?;
        self.caller_view(&mut applicant).await?;
        Ok(Response::new(pb::GetApplicantResponse { applicant: Some(applicant) }))
    }

    async fn update_applicant(
        &self,
        request: Request<pb::UpdateApplicantRequest>,
    ) -> Result<Response<pb::UpdateApplicantResponse>, Status> {
        let rpc = accept(request)?;
        self.shared.check_visible(&rpc.caller, &rpc.message.applicant_id).await?;
        let r = &rpc.message;
        let baf = self.baf()?;
        // For an applicant whose browser returns through the gateway, a new callbackUrl is
        // where the gateway redirects to; BAF keeps pointing at the gateway.
        let callback_url = match &r.callback_url {
            Some(url) if self.shared.update_redirect(&r.applicant_id, url).await? => None,
            other => other.as_deref(),
        };
        let body = mapping::update_applicant_body(r, callback_url);
        baf.update_applicant(&r.applicant_id, body, rpc.deadline).await?;
        self.shared.touched(&r.applicant_id);
        Ok(Response::new(pb::UpdateApplicantResponse {}))
    }

    async fn delete_applicant(
        &self,
        request: Request<pb::DeleteApplicantRequest>,
    ) -> Result<Response<pb::DeleteApplicantResponse>, Status> {
        let rpc = accept(request)?;
        self.shared.check_visible(&rpc.caller, &rpc.message.applicant_id).await?;
        self.baf()?.delete_applicant(&rpc.message.applicant_id, rpc.deadline).await?;
        self.shared.touched(&rpc.message.applicant_id);
        Ok(Response::new(pb::DeleteApplicantResponse {}))
    }

    async fn check_applicant_completed(
        &self,
        request: Request<pb::CheckApplicantCompletedRequest>,
    ) -> Result<Response<pb::CheckApplicantCompletedResponse>, Status> {
        let rpc = accept(request)?;
        self.shared.check_visible(&rpc.caller, &rpc.message.applicant_id).await?;
        let completed = self.baf()?.is_completed(&rpc.message.applicant_id, rpc.deadline).await?;
        Ok(Response::new(pb::CheckApplicantCompletedResponse { completed }))
    }

    async fn complete_applicant(
        &self,
        request: Request<pb::CompleteApplicantRequest>,
    ) -> Result<Response<pb::CompleteApplicantResponse>, Status> {
        let rpc = accept(request)?;
        self.shared.check_visible(&rpc.caller, &rpc.message.applicant_id).await?;
        let id = &rpc.message.applicant_id;
        let callback_url = self.baf()?.complete_applicant(id, rpc.deadline).await?;
        self.shared.touched(id);
        let callback_url = match callback_url {
            Some(url) => Some(self.shared.caller_callback(id, &url).await?),
            None => None,
        }
        .filter(|url| !url.is_empty());
        Ok(Response::new(pb::CompleteApplicantResponse { callback_url }))
    }

    async fn re_notify_applicant(
        &self,
        request: Request<pb::ReNotifyApplicantRequest>,
    ) -> Result<Response<pb::ReNotifyApplicantResponse>, Status> {
        let rpc = accept(request)?;
        self.shared.check_visible(&rpc.caller, &rpc.message.applicant_id).await?;
        self.baf()?.applicant_action(Action::ReNotify, &rpc.message.applicant_id, rpc.deadline).await?;
        Ok(Response::new(pb::ReNotifyApplicantResponse {}))
    }

    async fn open_applicant(
        &self,
        request: Request<pb::OpenApplicantRequest>,
    ) -> Result<Response<pb::OpenApplicantResponse>, Status> {
        let rpc = accept(request)?;
        self.shared.check_visible(&rpc.caller, &rpc.message.applicant_id).await?;
        self.baf()?.applicant_action(Action::Open, &rpc.message.applicant_id, rpc.deadline).await?;
        self.shared.touched(&rpc.message.applicant_id);
        Ok(Response::new(pb::OpenApplicantResponse {}))
    }

    async fn update_applicant_main_photo(
        &self,
        request: Request<pb::UpdateApplicantMainPhotoRequest>,
    ) -> Result<Response<pb::UpdateApplicantMainPhotoResponse>, Status> {
        let rpc = accept(request)?;
        self.shared.check_visible(&rpc.caller, &rpc.message.applicant_id).await?;
        let r = &rpc.message;
        self.baf()?.update_main_photo(&r.applicant_id, &r.face_image_base64, rpc.deadline).await?;
        Ok(Response::new(pb::UpdateApplicantMainPhotoResponse {}))
    }

    async fn list_applicant_attempts(
        &self,
        request: Request<pb::ListApplicantAttemptsRequest>,
    ) -> Result<Response<pb::ListApplicantAttemptsResponse>, Status> {
        let rpc = accept(request)?;
        self.shared.check_visible(&rpc.caller, &rpc.message.applicant_id).await?;
        let attempts = self.baf()?.list_attempts(&rpc.message.applicant_id, rpc.deadline).await?;
        Ok(Response::new(pb::ListApplicantAttemptsResponse { attempts }))
    }

    async fn get_applicant_attempt(
        &self,
        request: Request<pb::GetApplicantAttemptRequest>,
    ) -> Result<Response<pb::GetApplicantAttemptResponse>, Status> {
        let rpc = accept(request)?;
        self.shared.check_visible(&rpc.caller, &rpc.message.applicant_id).await?;
        let r = &rpc.message;
        let attempt = self.baf()?.get_attempt(&r.applicant_id, r.attempt_id, rpc.deadline).await?;
        Ok(Response::new(pb::GetApplicantAttemptResponse { attempt: Some(attempt) }))
    }

    async fn get_attempt_images(
        &self,
        request: Request<pb::GetAttemptImagesRequest>,
    ) -> Result<Response<pb::GetAttemptImagesResponse>, Status> {
        let rpc = accept(request)?;
        self.shared.check_visible(&rpc.caller, &rpc.message.applicant_id).await?;
        let r = &rpc.message;
        let images = self.baf()?.get_images(&r.applicant_id, r.attempt_id, rpc.deadline).await?;
        Ok(Response::new(pb::GetAttemptImagesResponse { images: Some(images) }))
    }

    type DownloadAttemptVideoStream = ChunkStream<pb::DownloadAttemptVideoResponse>;

    async fn download_attempt_video(
        &self,
        request: Request<pb::DownloadAttemptVideoRequest>,
    ) -> Result<Response<Self::DownloadAttemptVideoStream>, Status> {
        let rpc = accept(request)?;
        self.shared.check_visible(&rpc.caller, &rpc.message.applicant_id).await?;
        let r = &rpc.message;
        let video = Video::LivenessReflection;
        let download = self.baf()?.download_video(&r.applicant_id, r.attempt_id, video, rpc.deadline).await?;
        Ok(Response::new(chunked(download, |chunk, content_type, content_length| {
            pb::DownloadAttemptVideoResponse { chunk: chunk.to_vec(), content_type, content_length }
        })))
    }

    type DownloadLivenessActionVideoStream = ChunkStream<pb::DownloadLivenessActionVideoResponse>;

    async fn download_liveness_action_video(
        &self,
        request: Request<pb::DownloadLivenessActionVideoRequest>,
    ) -> Result<Response<Self::DownloadLivenessActionVideoStream>, Status> {
        let rpc = accept(request)?;
        self.shared.check_visible(&rpc.caller, &rpc.message.applicant_id).await?;
        let r = &rpc.message;
        let video = Video::LivenessAction;
        let download = self.baf()?.download_video(&r.applicant_id, r.attempt_id, video, rpc.deadline).await?;
        Ok(Response::new(chunked(download, |chunk, content_type, content_length| {
            pb::DownloadLivenessActionVideoResponse { chunk: chunk.to_vec(), content_type, content_length }
        })))
    }
}
