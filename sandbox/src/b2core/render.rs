//! B2Core's JSON (seed 004): history entries and pages, wizard steps, errors.

use serde_json::{Value, json};

use super::errors::Error;
use super::state::{Client, Entry, Step};

const DOCUMENTS_WORKFLOW: &str = "B2B\\TCA\\Wizards\\Workflow\\DocumentsWorkflow";
const TERMINATE_WORKFLOW: &str = "B2B\\TCA\\Wizards\\Workflow\\TerminateWorkflow";

/// `{"message"}`.
pub(super) fn error(error: &Error) -> Value {
    json!({"message": error.1})
}

/// A level: ids start at 1 for Level 0, as the seed's examples show.
fn level(level: u32) -> Value {
    json!({"id": level + 1, "name": format!("Level {level}")})
}

fn entry(client: &Client, entry: &Entry) -> Value {
    json!({
        "id": entry.id,
        "clientId": client.client_id,
        "currentLevel": level(entry.level),
        "previousLevel": entry.previous.map(level),
        "reason": {"name": entry.reason},
        "userId": "1",
        "createTime": entry.created.format("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
    })
}

/// A page of history, or one entry as the details call answers (`total` 1).
pub(super) fn entries(client: &Client, entries: &[&Entry], total: usize) -> Value {
    json!({"total": total, "data": entries.iter().map(|e| entry(client, e)).collect::<Vec<_>>()})
}

/// The step a wizard starts at.
pub(super) fn step(step: &Step) -> Value {
    match step {
        Step::Documents(uuid) => json!({
            "code": 200,
            "data": {"types": [{"id": 2, "description": "Passport", "enabled": true, "example": "", "group": {}}]},
            "done": true,
            "uuid": uuid,
            "workflow": DOCUMENTS_WORKFLOW,
        }),
        Step::Done(uuid) => final_step(uuid),
    }
}

/// The final step, as a submission and a wizard at the top level answer.
pub(super) fn final_step(uuid: &str) -> Value {
    json!({"code": 202, "data": {"types": []}, "done": true, "uuid": uuid, "workflow": TERMINATE_WORKFLOW})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::b2core::request::HistoryQuery;
    use crate::b2core::state::Clients;

    fn keys(value: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = value.as_object().expect("an object").keys().map(String::as_str).collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn history_has_seed_004s_fields() {
        let clients = Clients::default();
        let Step::Documents(uuid) = clients.wizard("k") else { panic!() };
        clients.submit("k", &uuid).unwrap();
        let query = HistoryQuery { limit: 10, offset: 0, ascending: false };
        let page = clients.history("k", query, entries);
        assert_eq!(keys(&page), ["data", "total"]);
        assert_eq!(page["total"], 2);
        let newest = &page["data"][0];
        assert_eq!(
            keys(newest),
            ["clientId", "createTime", "currentLevel", "id", "previousLevel", "reason", "userId"]
        );
        assert_eq!(newest["currentLevel"], json!({"id": 2, "name": "Level 1"}));
        assert_eq!(newest["previousLevel"], json!({"id": 1, "name": "Level 0"}));
        assert_eq!(newest["reason"]["name"], "Application: 1");
        assert!(newest["createTime"].as_str().unwrap().ends_with("+00:00"));
        assert_eq!(page["data"][1]["previousLevel"], Value::Null);
        assert_eq!(page["data"][1]["reason"]["name"], "created");
    }

    #[test]
    fn wizard_steps_have_seed_004s_fields() {
        let documents = step(&Step::Documents("u1".into()));
        assert_eq!(keys(&documents), ["code", "data", "done", "uuid", "workflow"]);
        assert_eq!(
            (documents["code"].as_i64(), documents["workflow"].as_str()),
            (Some(200), Some(DOCUMENTS_WORKFLOW))
        );
        let done = step(&Step::Done("u2".into()));
        assert_eq!((done["code"].as_i64(), done["workflow"].as_str()), (Some(202), Some(TERMINATE_WORKFLOW)));
        assert_eq!(done["data"], json!({"types": []}));
        assert_eq!(done["uuid"], "u2");
    }
}
