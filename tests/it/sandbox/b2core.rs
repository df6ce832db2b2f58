//! B2Core through the simulator: the wizard raises an end client's verification level.

use idv_gateway::proto::b2core as b2;
use serde_json::Value;
use tonic::Code;

use super::browser;
use crate::harness::{TestGateway, error_parts, with_token};

async fn history(gw: &TestGateway, token: &str) -> b2::ListVerificationsResponse {
    let request = b2::ListVerificationsRequest {
        sort_order: "desc".into(),
        sort_by: "createTime".into(),
        ..Default::default()
    };
    gw.b2core().list_verifications(with_token(request, token)).await.unwrap().into_inner()
}

async fn raise_level(gw: &TestGateway, token: &str) -> b2::SubmitVerificationResponse {
    let mut b2core = gw.b2core();
    let wizard = b2core
        .start_verification_wizard(with_token(b2::StartVerificationWizardRequest {}, token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((wizard.code, wizard.done), (200, true));
    assert_eq!(wizard.workflow, "B2B\\TCA\\Wizards\\Workflow\\DocumentsWorkflow");
    assert!(!wizard.uuid.is_empty() && wizard.data.is_some());
    let submit = b2::SubmitVerificationRequest {
        documents: Some(b2::VerificationDocuments { r#type: 2, files: vec!["id_card.jpeg".into()] }),
        uuid: wizard.uuid.clone(),
    };
    let done = b2core.submit_verification(with_token(submit, token)).await.unwrap().into_inner();
    assert_eq!(done.uuid, wizard.uuid);
    done
}

#[tokio::test]
async fn b2core_wizard_raises_the_level() {
    let gw = TestGateway::sandbox().await;
    let start = history(&gw, "t1").await;
    assert_eq!(start.total, 1);
    let first = &start.data[0];
    assert_eq!(first.current_level.as_ref().unwrap().name, "Level 0");
    assert!(first.previous_level.is_none());
    assert_eq!(first.reason.as_ref().unwrap().name, "created");
    assert!(first.create_time.is_some());

    let done = raise_level(&gw, "t1").await;
    assert_eq!((done.code, done.workflow.as_str()), (202, "B2B\\TCA\\Wizards\\Workflow\\TerminateWorkflow"));
    let after = history(&gw, "t1").await;
    assert_eq!(after.total, 2);
    let newest = &after.data[0];
    assert_eq!(newest.current_level.as_ref().unwrap().name, "Level 1");
    assert_eq!(newest.previous_level.as_ref().unwrap().name, "Level 0");
    assert_eq!(newest.client_id, first.client_id);

    let mut b2core = gw.b2core();
    let details = b2core
        .get_verification(with_token(b2::GetVerificationRequest { verification_id: newest.id }, "t1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((details.total, details.data[0].id), (1, newest.id));
    assert_eq!(history(&gw, "t2").await.total, 1, "another token is another client");

    let unknown = b2::SubmitVerificationRequest {
        documents: Some(b2::VerificationDocuments { r#type: 2, files: vec!["x.jpeg".into()] }),
        uuid: "00000000-0000-4000-8000-000000000000".into(),
    };
    let e = error_parts(&b2core.submit_verification(with_token(unknown, "t1")).await.unwrap_err());
    assert_eq!(
        (e.code, e.metadata["http_status"].as_str(), e.domain.as_str()),
        (Code::InvalidArgument, "400", "b2core")
    );

    raise_level(&gw, "t1").await;
    let top = b2core
        .start_verification_wizard(with_token(b2::StartVerificationWizardRequest {}, "t1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((top.code, top.workflow.as_str()), (202, "B2B\\TCA\\Wizards\\Workflow\\TerminateWorkflow"));
    assert_eq!(history(&gw, "t1").await.data[0].current_level.as_ref().unwrap().name, "Level 2");

    let status = b2core.list_verifications(b2::ListVerificationsRequest::default()).await.unwrap_err();
    assert_eq!(status.code(), Code::Unauthenticated);
    let direct =
        browser().get(gw.sandbox_url("/sandbox/b2core/api/v2/my/verifications")).send().await.unwrap();
    assert_eq!(direct.status(), 401);
    assert_eq!(direct.json::<Value>().await.unwrap()["message"], "Unauthorized");
    gw.stop().await;
}
