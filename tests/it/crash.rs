//! Crash safety: a gateway process killed with SIGKILL right after acknowledging hooks
//! still has every acknowledged event, in order, when it restarts on the same data.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use idv_gateway::proto::attempts::{self as pb, attempt_event::Kind};
use idv_gateway::vendor::ableid::hook_signature;
use serde_json::json;

use crate::harness::{PROJECT_ID, SECRET};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A gateway process with its ports; killed when dropped, so a failing test leaves no
/// process behind.
struct Process {
    child: Child,
    grpc: u16,
    http: u16,
}

impl Process {
    /// SIGKILL: no shutdown code runs.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn spawn(data_dir: &Path) -> Process {
    let (grpc, http) = (free_port(), free_port());
    let mut process =
        Process { child: gateway_command(data_dir, grpc, http).spawn().expect("gateway starts"), grpc, http };
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", http)).is_ok()
            && std::net::TcpStream::connect(("127.0.0.1", grpc)).is_ok()
        {
            return process;
        }
        if let Ok(Some(status)) = process.child.try_wait() {
            panic!("the gateway exited: {status}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the gateway did not start listening");
}

fn gateway_command(data_dir: &Path, grpc: u16, http: u16) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_idv-gateway"));
    command
        .arg("serve")
        .env("IDV_GRPC_ADDR", format!("127.0.0.1:{grpc}"))
        .env("IDV_HTTP_ADDR", format!("127.0.0.1:{http}"))
        .env("IDV_DATA_DIR", data_dir)
        .env("IDV_ABLEID_BASE_URL", "http://127.0.0.1:9")
        .env("IDV_ABLEID_PROJECT_ID", PROJECT_ID)
        .env("IDV_ABLEID_SECRET", SECRET)
        .env("IDV_LOG", "warn")
        .stdout(Stdio::null());
    command
}

#[tokio::test]
async fn acknowledged_hooks_survive_sigkill() {
    let data = tempfile::tempdir().unwrap();
    let mut process = spawn(data.path()).await;
    let http = reqwest::Client::new();
    let attempt = "att-crash";
    let hash = hook_signature(PROJECT_ID, &SECRET.into(), attempt);
    let mut sent = Vec::new();
    for n in 0..20 {
        let (path, body) = if n == 10 {
            (
                "complete",
                json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
                "data": {"attemptId": attempt, "hash": hash, "transactionId": "tx"}}),
            )
        } else {
            (
                "photo",
                json!({"statusCode": 200, "type": "SUCCESS", "message": "ok",
                "data": {"attemptId": attempt, "hash": hash, "data": {"crc": n.to_string(), "photo": ""}}}),
            )
        };
        let url = format!("http://127.0.0.1:{}/hooks/ableid/{path}", process.http);
        let status = http.post(url).json(&body).send().await.unwrap().status();
        assert_eq!(status.as_u16(), 200);
        sent.push(if n == 10 { "completed".to_string() } else { n.to_string() });
    }
    process.kill();

    let mut restarted = spawn(data.path()).await;
    let channel = tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{}", restarted.grpc))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let events = pb::attempt_service_client::AttemptServiceClient::new(channel)
        .list_attempt_events(pb::ListAttemptEventsRequest {
            attempt: Some(pb::list_attempt_events_request::Attempt::AbleidAttemptId(attempt.into())),
            page_size: 1000,
            page_token: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    restarted.kill();

    let found: Vec<String> = events
        .iter()
        .map(|e| match &e.kind {
            Some(Kind::Photo(photo)) => photo.crc.clone(),
            Some(Kind::Completed(_)) => "completed".into(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(found, sent);
    assert_eq!(events.iter().map(|e| e.sequence).collect::<Vec<_>>(), (1..=20).collect::<Vec<_>>());
}
