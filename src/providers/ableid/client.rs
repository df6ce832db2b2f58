//! AbleID's REST calls (seed 000): the start calls, the data requests and the hook
//! signature.
//!
//! AbleID has no auth header: `projectId` and `secret` go into every JSON body, which is
//! why only the gateway may call it.

use std::time::Instant;

use http::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

use super::DOMAIN;
use super::errors::classify;
use crate::error::ApiError;
use crate::upstream::http::{Auth, Call, Upstream, UpstreamError};
use crate::upstream::json::Obj;
use crate::upstream::{Refusal, api_error, refused};

/// An AbleID project.
#[derive(Debug, Clone)]
pub struct AbleId {
    upstream: Upstream,
    project_id: String,
    secret: SecretString,
}

/// A started session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// AbleID's session id.
    pub attempt_id: String,
    /// The page the person opens.
    pub full_url: String,
    /// The page's language.
    pub lang: String,
    /// AbleID's message.
    pub message: String,
}

/// AbleID's acknowledgement of a data request; the data follows on a hook.
#[derive(Debug, Clone, PartialEq)]
pub struct Ack {
    /// Application status code.
    pub status_code: i32,
    /// Status type.
    pub kind: String,
    /// Message.
    pub message: String,
}

/// Who a session is for.
#[derive(Debug)]
pub enum Subject<'a> {
    /// A resident: PINFL and birth date (`DD.MM.YYYY`).
    Resident { pinfl: &'a str, birth_date: &'a str },
    /// A foreigner: document number.
    Foreigner { document: &'a str },
}

/// The four data requests; each answer arrives on its data hook.
#[derive(Debug)]
pub enum DataRequest<'a> {
    /// POST /check/get_passport.
    Passport { pinfl: &'a str, birth_date: &'a str },
    /// POST /check/get_photo.
    Photo,
    /// POST /check/registration.
    Registration { pinfl: &'a str },
    /// POST /check/get_person.
    Person { pinfl: &'a str, birth_date: &'a str },
}

impl AbleId {
    /// A client of one AbleID project.
    pub fn new(upstream: Upstream, project_id: String, secret: SecretString) -> Self {
        Self { upstream, project_id, secret }
    }

    /// Starts a session: POST /check/start/second or /check/start/foreign.
    pub async fn start(
        &self,
        subject: Subject<'_>,
        transaction_id: &str,
        lang: &str,
        hooks: &[String],
        deadline: Option<Instant>,
    ) -> Result<Session, ApiError> {
        let mut body = self.credentials();
        body["transactionId"] = json!(transaction_id);
        body["hooks"] = json!(hooks);
        if !lang.is_empty() {
            body["lang"] = json!(lang);
        }
        let (operation, path) = match subject {
            Subject::Resident { pinfl, birth_date } => {
                body["pinfl"] = json!(pinfl);
                body["birthDate"] = json!(birth_date);
                ("StartResidentCheck", "check/start/second")
            }
            Subject::Foreigner { document } => {
                body["document"] = json!(document);
                ("StartForeignCheck", "check/start/foreign")
            }
        };
        let reply = self.post(operation, path, body, deadline).await?;
        let data = Obj::of(&reply).obj("data");
        let session = Session {
            attempt_id: data.string("attemptId"),
            full_url: data.string("fullUrl"),
            lang: data.string("lang"),
            message: Obj::of(&reply).string("message"),
        };
        if session.attempt_id.is_empty() {
            return Err(api_error(
                DOMAIN,
                UpstreamError::Malformed(format!("{operation}: no data.attemptId")),
                classify,
            ));
        }
        Ok(session)
    }

    /// Asks for data that AbleID then delivers to a data hook.
    pub async fn request_data(
        &self,
        request: DataRequest<'_>,
        attempt_id: &str,
        deadline: Option<Instant>,
    ) -> Result<Ack, ApiError> {
        let mut body = self.credentials();
        body["attemptId"] = json!(attempt_id);
        let (operation, path) = match request {
            DataRequest::Passport { pinfl, birth_date } => {
                body["pinfl"] = json!(pinfl);
                body["birthDate"] = json!(birth_date);
                ("RequestPassport", "check/get_passport")
            }
            DataRequest::Photo => ("RequestPhoto", "check/get_photo"),
            DataRequest::Registration { pinfl } => {
                body["pinfl"] = json!(pinfl);
                ("RequestRegistration", "check/registration")
            }
            DataRequest::Person { pinfl, birth_date } => {
                body["pinfl"] = json!(pinfl);
                body["birthDate"] = json!(birth_date);
                ("RequestPerson", "check/get_person")
            }
        };
        let reply = self.post(operation, path, body, deadline).await?;
        let reply = Obj::of(&reply);
        Ok(Ack {
            status_code: reply.opt_i64("statusCode").map_or(200, |c| c as i32),
            kind: reply.opt_string("type").unwrap_or_else(|| "SUCCESS".into()),
            message: reply.string("message"),
        })
    }

    /// Whether a hook's `hash` (or `signature`) is the one this project makes for the
    /// attempt. Constant time: the comparison must not tell a forger how close they are.
    pub fn verify_hook(&self, attempt_id: &str, signature: &str) -> bool {
        let expected = hook_signature(&self.project_id, &self.secret, attempt_id);
        let given = signature.trim().to_ascii_uppercase();
        expected.as_bytes().ct_eq(given.as_bytes()).into()
    }

    fn credentials(&self) -> Value {
        json!({"projectId": self.project_id, "secret": self.secret.expose_secret()})
    }

    async fn post(
        &self,
        operation: &'static str,
        path: &str,
        body: Value,
        deadline: Option<Instant>,
    ) -> Result<Value, ApiError> {
        let call = Call::new(operation, Method::POST, path, Auth::None).json(body);
        let (status, reply) =
            self.upstream.json_reply(call, deadline).await.map_err(|e| api_error(DOMAIN, e, classify))?;
        // AbleID reports some failures inside a 2xx body: a statusCode other than 200.
        // The error keeps the HTTP status it really came with.
        match Obj::of(&reply).opt_i64("statusCode") {
            Some(code) if code != 200 && code >= 1000 => {
                Err(refused(DOMAIN, Refusal::from_json(status.as_u16(), &reply), classify))
            }
            _ => Ok(reply),
        }
    }
}

/// `UPPER(SHA1(UPPER(SHA1(projectId + secret)) + attemptId))`, AbleID's hook signature.
pub fn hook_signature(project_id: &str, secret: &SecretString, attempt_id: &str) -> String {
    let inner =
        hex::encode_upper(Sha1::digest([project_id.as_bytes(), secret.expose_secret().as_bytes()].concat()));
    hex::encode_upper(Sha1::digest([inner.as_bytes(), attempt_id.as_bytes()].concat()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hook_signature_matches_an_independent_computation() {
        // python3 -c "import hashlib;s=lambda x:hashlib.sha1(x.encode()).hexdigest().upper();
        //   print(s(s('proj-1'+'s3cret')+'3HQVkBm_zCZqKFbTWVrhf'))"
        let secret = SecretString::from("s3cret");
        assert_eq!(
            hook_signature("proj-1", &secret, "3HQVkBm_zCZqKFbTWVrhf"),
            "BAE3ED4220136C1E980B7C775CCE3D55E12612AC"
        );
    }
}
