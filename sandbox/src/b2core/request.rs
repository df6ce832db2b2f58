//! What B2Core's calls carry (seed 004): the end client's bearer token, the history
//! query (`limit`, `offset`, `sort_order`, `sort_by`) and the submission body.

use std::collections::HashMap;

use http::{HeaderMap, header};
use serde::Deserialize;
use sha1::{Digest, Sha1};

use super::errors::Error;

/// `POST {procedures}`: `{"data": {"documents": {"type", "files"}, "uuid"}}`.
#[derive(Debug, Deserialize)]
struct SubmitBody {
    data: SubmitData,
}

#[derive(Debug, Deserialize)]
struct SubmitData {
    documents: Documents,
    uuid: String,
}

#[derive(Debug, Deserialize)]
struct Documents {
    #[serde(rename = "type")]
    kind: i64,
    files: Vec<String>,
}

/// A history query, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct HistoryQuery {
    pub(super) limit: usize,
    pub(super) offset: usize,
    /// `sort_order=asc`; newest first otherwise.
    pub(super) ascending: bool,
}

/// The client key of the request's bearer token, or 401. Tokens are kept only as their
/// SHA-1, so the sandbox never holds a caller's token.
pub(super) fn token_key(headers: &HeaderMap) -> Result<String, Error> {
    let value =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or_else(Error::unauthorized)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(Error::unauthorized)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(Error::unauthorized());
    }
    Ok(hex::encode(Sha1::digest(token.as_bytes())))
}

/// Reads the history query; `sort_by` may only be `createTime`.
pub(super) fn history(query: &str) -> Result<HistoryQuery, Error> {
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let param = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let number = |name: &str, default: usize| -> Result<usize, Error> {
        param(name).map_or(Ok(default), |v| {
            v.parse().map_err(|_| Error::bad_request(format!("{name} must be a number")))
        })
    };
    let ascending = match param("sort_order") {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(_) => return Err(Error::bad_request("sort_order must be asc or desc")),
    };
    if param("sort_by").is_some_and(|s| s != "createTime") {
        return Err(Error::bad_request("sort_by must be createTime"));
    }
    Ok(HistoryQuery { limit: number("limit", 20)?, offset: number("offset", 0)?, ascending })
}

/// Reads a submission: the wizard's uuid. The documents must name a type and at least
/// one file; the simulation looks no further at them.
pub(super) fn submission(body: &[u8]) -> Result<String, Error> {
    let required = || Error::bad_request("data.documents.type and data.documents.files are required");
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| Error::bad_request("The body must be JSON"))?;
    let SubmitBody { data: SubmitData { documents: Documents { kind, files }, uuid } } =
        serde_json::from_value(value).map_err(|_| required())?;
    if files.is_empty() {
        return Err(required());
    }
    // Any type and any file names do: the simulation only needs them present.
    tracing::debug!(document_type = kind, files = files.len(), "sandbox b2core: documents submitted");
    Ok(uuid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_required() {
        let mut headers = HeaderMap::new();
        assert!(token_key(&headers).is_err());
        headers.insert(header::AUTHORIZATION, "Bearer ".parse().unwrap());
        assert!(token_key(&headers).is_err());
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert!(token_key(&headers).is_err());
        headers.insert(header::AUTHORIZATION, "Bearer t1".parse().unwrap());
        let key = token_key(&headers).unwrap();
        assert_eq!(key.len(), 40);
        assert!(!key.contains("t1"));
        headers.insert(header::AUTHORIZATION, "bearer  t1 ".parse().unwrap());
        assert_eq!(token_key(&headers).unwrap(), key, "the same client");
    }

    #[test]
    fn history_queries_are_checked() {
        assert_eq!(history("").unwrap(), HistoryQuery { limit: 20, offset: 0, ascending: false });
        assert_eq!(
            history("limit=10&offset=0&sort_order=asc&sort_by=createTime").unwrap(),
            HistoryQuery { limit: 10, offset: 0, ascending: true }
        );
        assert!(history("sort_order=sideways").is_err());
        assert!(history("sort_by=id").is_err());
        assert!(history("limit=ten").is_err());
    }

    #[test]
    fn submissions_read_seed_004s_body() {
        let body =
            br#"{"data": {"documents": {"type": 1, "files": ["id_card,jpeg", "id_card_reverse_side.jpeg"]},
            "uuid": "36f59381-5b54-48bd-a0c7-3b908c476732"}}"#;
        assert_eq!(submission(body).unwrap(), "36f59381-5b54-48bd-a0c7-3b908c476732");
        assert!(submission(br#"{"data": {"documents": {"type": 1, "files": []}, "uuid": "u"}}"#).is_err());
        assert!(submission(br#"{"data": {"documents": {"files": ["f"]}, "uuid": "u"}}"#).is_err());
        assert!(submission(b"{}").is_err());
        assert!(submission(b"nope").is_err());
    }
}
