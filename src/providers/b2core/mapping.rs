//! B2Core's JSON ⇄ proto: the history query and submission body, and its answers.

use serde_json::{Value, json};

use crate::proto::b2core as pb;
use crate::upstream::json::{Obj, to_proto_value};

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

/// The query of the history call.
pub fn list_query(request: &pb::ListVerificationsRequest) -> Vec<(&'static str, String)> {
    let text = |s: &String| (!s.is_empty()).then(|| s.clone());
    [
        ("limit", request.limit.map(|n| n.to_string())),
        ("offset", request.offset.map(|n| n.to_string())),
        ("sort_order", text(&request.sort_order)),
        ("sort_by", text(&request.sort_by)),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name, value?)))
    .collect()
}

/// The submission body: `{"data": {"documents": {type, files}, "uuid": ...}}`.
pub fn submit_body(documents: &pb::VerificationDocuments, uuid: &str) -> Value {
    json!({"data": {"documents": {"type": documents.r#type, "files": documents.files}, "uuid": uuid}})
}

/// A page of verifications.
pub fn page(reply: &Value) -> (i32, Vec<pb::Verification>) {
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

/// A wizard step.
pub fn step(reply: &Value) -> WizardStep {
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
