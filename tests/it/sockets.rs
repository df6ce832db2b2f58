//! Helpers shared by the public listener's socket tests and the slow-connection attack
//! test: a test app and a raw HTTP/1.1 client that can speak from any 127.0.0.0/8 address
//! (Linux routes the whole block to `lo`), so one machine plays many sources.

#![allow(dead_code)]

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Extension};
use axum::routing::{self, post};
use idv_gateway::server::public_http::{ClientIp, HookGuard, HookLimits, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// `127.0.0.n`.
pub fn lo(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, n)
}

/// The gateway's HTTP routes in miniature: guarded hooks, an unguarded browser return, and
/// two routes for shutdown tests.
pub fn app(limits: &Limits, hook_limits: &HookLimits) -> Router {
    let hooks = Router::new()
        .route("/hooks/ableid/{kind}", post(hook))
        .route_layer(HookGuard::new(limits, hook_limits))
        .layer(DefaultBodyLimit::max(16 * 1024 * 1024));
    Router::new()
        .route("/return/baf/{token}", routing::get(|| async { "returned" }))
        .route(
            "/slow",
            routing::get(|| async {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                "slow done"
            }),
        )
        .route("/hang", routing::get(std::future::pending::<&'static str>))
        .merge(hooks)
}

async fn hook(
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(ClientIp(client)): Extension<ClientIp>,
    body: Bytes,
) -> String {
    format!("{{\"peer\":\"{}\",\"client\":\"{client}\",\"bytes\":{}}}", peer.ip(), body.len())
}

/// A TCP connection from `source`.
pub async fn connect_from(source: Ipv4Addr, to: SocketAddr) -> io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((source, 0)))?;
    socket.connect(to).await
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// An answer: the status, the head (lower-cased) and the body.
    Answer(u16, String, String),
    /// The server closed the connection without answering.
    Closed,
    /// The connection failed (refused, reset).
    Failed(io::ErrorKind),
    /// Nothing happened before the deadline.
    TimedOut,
}

impl Outcome {
    pub fn status(&self) -> Option<u16> {
        match self {
            Outcome::Answer(status, ..) => Some(*status),
            _ => None,
        }
    }
}

/// Sends `raw` from `source` and reads until the server closes or `deadline` passes.
pub async fn exchange(source: Ipv4Addr, to: SocketAddr, raw: &[u8], deadline: Duration) -> Outcome {
    let attempt = async {
        let mut stream = connect_from(source, to).await?;
        stream.write_all(raw).await?;
        read_answer(&mut stream).await
    };
    match tokio::time::timeout(deadline, attempt).await {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(e)) => Outcome::Failed(e.kind()),
        Err(_) => Outcome::TimedOut,
    }
}

/// Reads to the end of the stream and parses what came as an answer.
pub async fn read_answer(stream: &mut TcpStream) -> io::Result<Outcome> {
    let mut bytes = Vec::new();
    match stream.read_to_end(&mut bytes).await {
        Ok(_) => {}
        // A reset after a complete answer still leaves the answer.
        Err(e) if !bytes.is_empty() => {
            let _ = e;
        }
        Err(e) => return Err(e),
    }
    Ok(parse(&bytes))
}

/// Parses one HTTP/1.1 answer; `Closed` if there is none.
pub fn parse(bytes: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(bytes);
    let Some((head, body)) = text.split_once("\r\n\r\n") else { return Outcome::Closed };
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Outcome::Answer(status, head.to_ascii_lowercase(), body.to_owned())
}

/// A connection from `source` that the server has admitted: it answered one request on it,
/// and keeps it open (kept alive) afterwards.
pub async fn admitted(source: Ipv4Addr, to: SocketAddr) -> TcpStream {
    let mut stream = connect_from(source, to).await.expect("connect");
    stream.write_all(b"GET /return/baf/t HTTP/1.1\r\nhost: gw\r\n\r\n").await.expect("write");
    let mut answer = Vec::new();
    let mut buf = [0u8; 512];
    // The answer is small and ends with the body "returned".
    while !answer.ends_with(b"returned") {
        let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
            .await
            .expect("answered in time")
            .expect("read");
        assert!(n > 0, "closed instead of admitted: {}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&buf[..n]);
    }
    stream
}

/// Sends `raw` until it is answered `want` (a closed connection is seen by the server a moment
/// after the client closes it), for at most five seconds; returns the last outcome.
pub async fn until_status(source: Ipv4Addr, to: SocketAddr, raw: &[u8], want: u16) -> Outcome {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let outcome = exchange(source, to, raw, Duration::from_secs(5)).await;
        if outcome.status() == Some(want) || tokio::time::Instant::now() > deadline {
            return outcome;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A complete `GET` that closes the connection after the answer.
pub fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\r\n").into_bytes()
}

/// A complete hook `POST` with `extra` headers, closing the connection after the answer.
pub fn hook_post(extra: &str) -> Vec<u8> {
    let body = "{\"data\":{}}";
    format!(
        "POST /hooks/ableid/complete HTTP/1.1\r\nhost: gw\r\nconnection: close\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n{extra}\r\n{body}",
        body.len()
    )
    .into_bytes()
}
