//! B2Core front-office verification levels (seed 004). Every call acts for the end client
//! whose token the caller forwards; the gateway owns no B2Core credential.

use std::time::Instant;

use http::Method;
use secrecy::SecretString;
use serde_json::{Value, json};

use super::http::{Auth, Call, Upstream};
use super::json::{Obj, to_proto_value};
use super::{Refusal, api_error};
use crate::error::ApiError;
use crate::proto::b2core as pb;

/// `ErrorInfo.domain` of B2Core's errors.
pub const DOMAIN: &str = "b2core";

/// An operator's B2Core host.
#[derive(Debug, Clone)]
pub struct B2Core {
    upstream: Upstream,
    history_path: String,
    procedures_path: String,
}

/// One wizard step, as the wizard and the submission return it.
#[derive(Debug, Clone, PartialEq)]
pub struct WizardStep {
    /// 200: another page follows; 202: final step.
    pub code: i32,
    /// The vendor's `data`, unmodelled.
    pub data: Option<prost_types::Value>,
    /// `done`.
    pub done: bool,
    /// Procedure id.
    pub uuid: String,
    /// Workflow stage.
    pub workflow: String,
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
        request: &pb::ListVerificationsRequest,
        deadline: Option<Instant>,
    ) -> Result<(i32, Vec<pb::Verification>), ApiError> {
        let text = |s: &String| (!s.is_empty()).then(|| s.clone());
        let call = Call::new("ListVerifications", Method::GET, &self.history_path, Auth::Forward(token))
            .query("limit", request.limit.map(|n| n.to_string()))
            .query("offset", request.offset.map(|n| n.to_string()))
            .query("sort_order", text(&request.sort_order))
            .query("sort_by", text(&request.sort_by));
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

    /// POST {procedures_path} with `{"data": {"documents": ..., "uuid": ...}}`.
    pub async fn submit(
        &self,
        token: SecretString,
        documents: &pb::VerificationDocuments,
        uuid: &str,
        deadline: Option<Instant>,
    ) -> Result<WizardStep, ApiError> {
        let body = json!({"data": {"documents": {"type": documents.r#type, "files": documents.files}, "uuid": uuid}});
        let call = Call::new("SubmitVerification", Method::POST, &self.procedures_path, Auth::Forward(token))
            .json(body);
        let reply = self.send(call, deadline).await?;
        Ok(step(&reply))
    }
}

fn classify(_: &Refusal) -> Option<(tonic::Code, &'static str)> {
    // B2Core documents no error codes for these calls: the HTTP status decides.
    None
}

fn page(reply: &Value) -> (i32, Vec<pb::Verification>) {
    let reply = Obj::of(reply);
    (reply.i32("total"), reply.objects("data").map(verification).collect())
}

/// One verification level change.
pub fn verification(o: Obj<'_>) -> pb::Verification {
    let level = |l: Obj<'_>| pb::VerificationLevel { id: l.i64("id"), name: l.string("name") };
    let previous =
        o.get_any(&["previousLevel", "previuosLevel"]).map(Obj::of).filter(Obj::is_object).map(level);
    pb::Verification {
        id: o.i64("id"),
        client_id: o.i64("clientId"),
        current_level: o.opt_obj("currentLevel").map(level),
        previous_level: previous,
        reason: o.opt_obj("reason").map(|r| pb::VerificationReason { name: r.string("name") }),
        user_id: o.string("userId"),
        create_time: o.timestamp("createTime"),
    }
}

fn step(reply: &Value) -> WizardStep {
    let o = Obj::of(reply);
    WizardStep {
        code: o.i32("code"),
        data: o.get("data").map(to_proto_value),
        done: o.bool("done"),
        uuid: o.string("uuid"),
        workflow: o.string("workflow"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_and_both_user_id_types_are_read() {
        let v: Value = serde_json::from_str(
            r#"{"total":2,"data":[
              {"id":75,"clientId":222,"currentLevel":{"id":2,"name":"Level 1"},"previousLevel":{"id":1,"name":"Level 0"},
               "reason":{"name":"Application: 838"},"userId":"1","createTime":"2022-01-01T00:00:00+00:00"},
              {"id":18,"clientId":17,"currentLevel":{"id":1,"name":"Level 0"},"previuosLevel":{"id":0,"name":"none"},
               "reason":{"name":5},"userId":11,"createTime":"2022-01-01T00:00:00+00:00"}]}"#,
        )
        .unwrap();
        let (total, items) = page(&v);
        assert_eq!(total, 2);
        assert_eq!(items[0].previous_level.as_ref().unwrap().name, "Level 0");
        assert_eq!(items[0].user_id, "1");
        assert_eq!(items[1].previous_level.as_ref().unwrap().name, "none");
        assert_eq!(items[1].user_id, "11");
        assert_eq!(items[1].reason.as_ref().unwrap().name, "5");
        assert_eq!(items[1].create_time.unwrap().seconds, 1640995200);
    }
}
