//! Finding 6, the forms `ableid::caller_hooks_cannot_point_into_private_space` does not
//! try: further spellings of special addresses, userinfo and fragment tricks, other
//! schemes and ports; and URLs that different parsers read differently, which must reach
//! AbleID as the gateway read them.

use idv_gateway::proto::ableid as pb;
use serde_json::json;
use tonic::Code;

use crate::harness::{FakeVendors, error_parts, json_body};

const STARTED: &str = r#"{"statusCode":200,"type":"SUCCESS","message":"ok",
    "data":{"attemptId":"att-ssrf","fullUrl":"https://ableid.test/att-ssrf","lang":"ru"}}"#;

fn resident(hooks: Vec<String>) -> pb::StartResidentCheckRequest {
    pb::StartResidentCheckRequest {
        transaction_id: "tx-ssrf".into(),
        pinfl: "31205901234567".into(),
        birth_date: "12.05.1990".into(),
        lang: "ru".into(),
        hooks,
    }
}

async fn caller_hooks_on() -> FakeVendors {
    FakeVendors::start_with(|config| crate::harness::ableid(config).allow_caller_hooks = true).await
}

#[tokio::test]
async fn more_spellings_of_private_targets_are_refused() {
    let fake = caller_hooks_on().await;
    for hook in [
        "https://[::ffff:127.0.0.1]/x",
        "https://[::ffff:a9fe:a9fe]/latest",
        "https://[::]/x",
        "https://0.0.0.0/x",
        "https://127.1/x",
        "https://%31%32%37.0.0.1/x",
        "https://\u{ff11}\u{ff12}\u{ff17}.0.0.1/x",
        "https://100.64.0.1/x",
        "https://172.16.0.1/x",
        "https://192.168.0.1/x",
        "https://[fd00::1]/x",
        "https://[fe80::1%25eth0]/x",
        "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x",
        "https://metadata/computeMetadata/v1/",
        "https://kubernetes.default.svc/x",
        "https://printer.local/x",
        "https://93.184.215.14:443@127.0.0.1/x",
        "https://127.0.0.1#@93.184.215.14/x",
        "https://user:pass@93.184.215.14/x",
        "http://93.184.215.14/x",
        "ftp://93.184.215.14/x",
        "file:///etc/passwd",
        "gopher://93.184.215.14:70/x",
        "https://93.184.215.14:8443/x",
        "https://93.184.215.14:0/x",
        "//93.184.215.14/x",
        "93.184.215.14/x",
    ] {
        let status =
            fake.gateway.ableid().start_resident_check(resident(vec![hook.into()])).await.unwrap_err();
        let error = error_parts(&status);
        assert_eq!(error.code, Code::InvalidArgument, "{hook}");
        assert!(
            !error.fields.is_empty() && error.fields.iter().all(|f| f == "hooks[0]"),
            "{hook}: {error:?}"
        );
        assert!(!error.message.contains(hook), "the refusal does not echo the value: {}", error.message);
    }
    assert!(fake.requests().await.is_empty(), "no hook reached AbleID");
}

/// A backslash is a path separator to the gateway's (WHATWG) parser, but some parsers read
/// `public\@private` as user info before the private host. AbleID must get the URL the
/// gateway checked, in the form every parser reads the same way.
#[tokio::test]
async fn hooks_reach_ableid_as_the_gateway_read_them() {
    let fake = caller_hooks_on().await;
    fake.reply("POST", "/ableid/check/start/second", 201, serde_json::from_str(STARTED).unwrap()).await;
    let hooks = vec![
        "https://93.184.215.14\\@127.0.0.1/x".to_owned(),
        "HTTPS://93.184.215.14:443/a/../kyc".to_owned(),
        " https://93.184.215.14/\tkyc".to_owned(),
    ];
    fake.gateway.ableid().start_resident_check(resident(hooks)).await.unwrap();
    let sent = json_body(&fake.only_request().await);
    assert_eq!(
        sent["hooks"],
        json!([
            "https://93.184.215.14/@127.0.0.1/x",
            "https://93.184.215.14/kyc",
            "https://93.184.215.14/kyc",
            "https://idv.example.com/hooks/ableid/complete"
        ])
    );
}
