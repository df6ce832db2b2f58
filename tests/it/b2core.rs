//! VerificationService against a recording fake B2Core.

use idv_gateway::proto::b2core as pb;
use serde_json::json;
use tonic::Code;

use crate::harness::{FakeVendors, error_parts, header, json_body, with_token};

#[tokio::test]
async fn history_and_details_forward_the_client_token() {
    let fake = FakeVendors::start().await;
    let history = json!({"total": 2, "data": [
        {"id": 75, "clientId": 222, "currentLevel": {"id": 2, "name": "Level 1"},
         "previousLevel": {"id": 1, "name": "Level 0"}, "reason": {"name": "Application: 838"},
         "userId": "1", "createTime": "2022-01-01T00:00:00+00:00"},
        {"id": 186, "clientId": 222, "currentLevel": {"id": 1, "name": "Level 0"}, "previousLevel": null,
         "reason": {"name": "created"}, "userId": 1, "createTime": "2022-01-01T00:00:00+00:00"}]});
    fake.reply("GET", "/b2core/api/v2/my/verifications", 200, history).await;
    fake.reply(
        "GET",
        "/b2core/v2/my/verifications/18",
        200,
        json!({"total": 1, "data": [{"id": 18, "clientId": 17, "currentLevel": {"id": 1, "name": "Level 0"},
            "previuosLevel": {"id": 0, "name": "none"}, "reason": {"name": "created"}, "userId": 11,
            "createTime": "2022-01-01T00:00:00+00:00"}]}),
    )
    .await;
    let mut client = fake.gateway.b2core();

    let list = client
        .list_verifications(with_token(
            pb::ListVerificationsRequest {
                limit: Some(10),
                offset: Some(0),
                sort_order: "desc".into(),
                sort_by: "createTime".into(),
            },
            "Bearer client-token-1",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(list.total, 2);
    assert_eq!(list.data[0].current_level.as_ref().unwrap().name, "Level 1");
    assert_eq!(list.data[0].previous_level.as_ref().unwrap().id, 1);
    assert_eq!(list.data[1].previous_level, None);
    assert_eq!(list.data[1].user_id, "1");
    assert_eq!(list.data[0].create_time.unwrap().seconds, 1640995200);

    // A bare token gets its `Bearer` prefix.
    let details = client
        .get_verification(with_token(pb::GetVerificationRequest { verification_id: 18 }, "client-token-2"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(details.data[0].previous_level.as_ref().unwrap().name, "none");

    let requests = fake.requests().await;
    assert_eq!(requests[0].url.query(), Some("limit=10&offset=0&sort_order=desc&sort_by=createTime"));
    assert_eq!(header(&requests[0], "authorization"), Some("Bearer client-token-1"));
    assert_eq!(header(&requests[1], "authorization"), Some("Bearer client-token-2"));
    assert!(requests.iter().all(|r| header(r, "b2core-authorization").is_none()));
}

#[tokio::test]
async fn wizard_and_submission() {
    let fake = FakeVendors::start().await;
    fake.reply(
        "GET",
        "/b2core/v2/my/verifications/wizard",
        200,
        json!({"code": 200, "data": {"types": [{"id": 2, "description": "Passport", "enabled": true}]},
            "done": true, "uuid": "36f59381-5b54-48bd-a0c7-3b908c476732",
            "workflow": "B2B\\TCA\\Wizards\\Workflow\\DocumentsWorkflow"}),
    )
    .await;
    fake.reply(
        "POST",
        "/b2core/v2/my/verifications",
        200,
        json!({"code": 202, "data": {"types": []}, "done": true, "uuid": "36f59381-5b54-48bd-a0c7-3b908c476732",
            "workflow": "B2B\\TCA\\Wizards\\Workflow\\TerminateWorkflow"}),
    )
    .await;
    let mut client = fake.gateway.b2core();

    let wizard = client
        .start_verification_wizard(with_token(pb::StartVerificationWizardRequest {}, "Bearer t"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((wizard.code, wizard.done), (200, true));
    assert!(wizard.workflow.ends_with("DocumentsWorkflow"));
    let data = serde_json::to_string(&format!("{:?}", wizard.data.unwrap().kind)).unwrap();
    assert!(data.contains("Passport"), "wizard data is passed through: {data}");

    let submitted = client
        .submit_verification(with_token(
            pb::SubmitVerificationRequest {
                documents: Some(pb::VerificationDocuments {
                    r#type: 1,
                    files: vec!["id_card.jpeg".into(), "id_card_reverse_side.jpeg".into()],
                }),
                uuid: wizard.uuid.clone(),
            },
            "Bearer t",
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((submitted.code, submitted.uuid.as_str()), (202, wizard.uuid.as_str()));

    let submit = fake.requests().await.pop().unwrap();
    assert_eq!(
        json_body(&submit),
        json!({"data": {"documents": {"type": 1, "files": ["id_card.jpeg", "id_card_reverse_side.jpeg"]},
            "uuid": "36f59381-5b54-48bd-a0c7-3b908c476732"}})
    );
}

#[tokio::test]
async fn missing_tokens_and_bad_input_never_reach_b2core() {
    let fake = FakeVendors::start().await;
    let mut client = fake.gateway.b2core();
    let status = client.list_verifications(pb::ListVerificationsRequest::default()).await.unwrap_err();
    let error = error_parts(&status);
    assert_eq!((error.code, error.reason.as_str()), (Code::Unauthenticated, "B2CORE_TOKEN_MISSING"));

    let status = client
        .list_verifications(with_token(
            pb::ListVerificationsRequest {
                limit: Some(0),
                offset: Some(-1),
                sort_order: "up".into(),
                sort_by: "id".into(),
            },
            "Bearer t",
        ))
        .await
        .unwrap_err();
    assert_eq!(error_parts(&status).fields, ["limit", "offset", "sort_order", "sort_by"]);

    let status = client
        .submit_verification(with_token(pb::SubmitVerificationRequest::default(), "Bearer t"))
        .await
        .unwrap_err();
    assert_eq!(error_parts(&status).fields, ["uuid", "documents"]);
    assert!(fake.requests().await.is_empty());
}

#[tokio::test]
async fn an_expired_client_token_is_unauthenticated() {
    let fake = FakeVendors::start().await;
    fake.reply("GET", "/b2core/v2/my/verifications/wizard", 401, json!({"message": "Token expired"})).await;
    let status = fake
        .gateway
        .b2core()
        .start_verification_wizard(with_token(pb::StartVerificationWizardRequest {}, "Bearer old"))
        .await
        .unwrap_err();
    let error = error_parts(&status);
    assert_eq!(
        (error.code, error.domain.as_str(), error.reason.as_str()),
        (Code::Unauthenticated, "b2core", "HTTP_401")
    );
    assert_eq!(error.metadata["message"], "Token expired");
}
