//! The public listener's limits, each tested over real sockets against
//! `public_http::serve` with a miniature of the gateway's routes.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::sockets::{
    Outcome, admitted, app, connect_from, exchange, get, hook_post, lo, read_answer, until_status,
};
use idv_gateway::server::public_http::{HookLimits, Limits, serve};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const SOON: Duration = Duration::from_secs(5);

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    abort: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

async fn start(limits: Limits) -> Server {
    start_with(limits, HookLimits::default()).await
}

async fn start_with(limits: Limits, hooks: HookLimits) -> Server {
    let mut problems = Vec::new();
    limits.check(&mut problems);
    hooks.check(&mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    let (abort, aborted) = oneshot::channel::<()>();
    let router = app(&limits, &hooks);
    let task = tokio::spawn(async move {
        serve(listener, router, &limits, None, async { stopped.await.unwrap_or(()) }, async {
            aborted.await.unwrap_or(())
        })
        .await;
    });
    Server { addr, stop: Some(stop), abort: Some(abort), task }
}

/// Waits until the server has had time to start on a request just sent (the slow route takes
/// 1.5 s, so there is room to spare on a loaded machine).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(500)).await;
}

fn refused_at_once(outcome: &Outcome) -> bool {
    match outcome {
        Outcome::Answer(503, head, body) => {
            head.contains("retry-after: 1") && body.contains("too many connections")
        }
        Outcome::Closed | Outcome::Failed(_) => true,
        _ => false,
    }
}

#[tokio::test]
async fn each_source_gets_at_most_its_share_of_connections() {
    let server =
        start(Limits { max_connections: 10, max_connections_per_source: 2, ..Limits::default() }).await;
    let first = admitted(lo(2), server.addr).await;
    let _second = admitted(lo(2), server.addr).await;
    let started = Instant::now();
    let third = exchange(lo(2), server.addr, &get("/return/baf/t"), SOON).await;
    assert!(refused_at_once(&third), "{third:?}");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(exchange(lo(3), server.addr, &get("/return/baf/t"), SOON).await.status(), Some(200));
    // A closed connection gives its share back.
    drop(first);
    assert_eq!(until_status(lo(2), server.addr, &get("/return/baf/t"), 200).await.status(), Some(200));
}

#[tokio::test]
async fn connections_over_the_global_cap_are_answered_503_at_once() {
    let server =
        start(Limits { max_connections: 3, max_connections_per_source: 3, ..Limits::default() }).await;
    let mut held = Vec::new();
    for n in 2..5 {
        held.push(admitted(lo(n), server.addr).await);
    }
    let started = Instant::now();
    let over = exchange(lo(9), server.addr, &get("/return/baf/t"), SOON).await;
    assert_eq!(over.status(), Some(503), "nothing was read yet, so the answer arrives whole: {over:?}");
    assert!(refused_at_once(&over));
    assert!(started.elapsed() < Duration::from_secs(1));
    held.clear();
    assert_eq!(until_status(lo(9), server.addr, &get("/return/baf/t"), 200).await.status(), Some(200));
}

#[tokio::test]
async fn hooks_over_the_rate_get_429_with_retry_after() {
    let server = start_with(
        Limits::default(),
        HookLimits {
            rate_per_second: 1,
            burst: 2,
            global_rate_per_second: 1,
            global_burst: 4,
            ..HookLimits::default()
        },
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(exchange(lo(2), server.addr, &hook_post(""), SOON).await);
    }
    assert_eq!(statuses[0].status(), Some(200));
    assert_eq!(statuses[1].status(), Some(200));
    let Outcome::Answer(429, head, body) = &statuses[2] else { panic!("{:?}", statuses[2]) };
    assert!(head.contains("retry-after: 1\r\n"), "{head}");
    assert_eq!(body, "{\"message\":\"too many requests\"}");
    // Another source has its own bucket...
    assert_eq!(exchange(lo(3), server.addr, &hook_post(""), SOON).await.status(), Some(200));
    assert_eq!(exchange(lo(4), server.addr, &hook_post(""), SOON).await.status(), Some(200));
    // ...until everyone together is over the global rate.
    assert_eq!(exchange(lo(5), server.addr, &hook_post(""), SOON).await.status(), Some(429));
    // The browser return is not a hook route.
    assert_eq!(exchange(lo(2), server.addr, &get("/return/baf/t"), SOON).await.status(), Some(200));
}

#[tokio::test]
async fn hooks_from_outside_the_allow_list_get_403() {
    let server = start_with(
        Limits::default(),
        HookLimits { allowed_sources: vec!["127.0.0.2/32".parse().expect("net")], ..HookLimits::default() },
    )
    .await;
    let ok = exchange(lo(2), server.addr, &hook_post(""), SOON).await;
    let Outcome::Answer(200, _, body) = &ok else { panic!("{ok:?}") };
    assert_eq!(
        body, "{\"peer\":\"127.0.0.2\",\"client\":\"127.0.0.2\",\"bytes\":11}",
        "ConnectInfo is the peer"
    );
    let refused = exchange(lo(3), server.addr, &hook_post(""), SOON).await;
    let Outcome::Answer(403, head, body) = &refused else { panic!("{refused:?}") };
    assert!(head.contains("content-type: application/json"));
    assert_eq!(body, "{\"message\":\"source not allowed\"}");
    assert_eq!(exchange(lo(3), server.addr, &get("/return/baf/t"), SOON).await.status(), Some(200));
}

#[tokio::test]
async fn the_forwarded_header_counts_only_from_a_trusted_proxy() {
    let server = start_with(
        Limits {
            trusted_proxies: vec!["127.0.0.2/32".parse().expect("net")],
            client_ip_header: Some("x-forwarded-for".into()),
            ..Limits::default()
        },
        HookLimits { allowed_sources: vec!["203.0.113.0/24".parse().expect("net")], ..HookLimits::default() },
    )
    .await;
    let via_proxy = exchange(lo(2), server.addr, &hook_post("x-forwarded-for: 203.0.113.7\r\n"), SOON).await;
    let Outcome::Answer(200, _, body) = &via_proxy else { panic!("{via_proxy:?}") };
    assert!(body.contains("\"client\":\"203.0.113.7\""), "{body}");
    let spoofed = exchange(lo(3), server.addr, &hook_post("x-forwarded-for: 203.0.113.7\r\n"), SOON).await;
    assert_eq!(spoofed.status(), Some(403), "the header from an untrusted peer is ignored");
    let prepended =
        exchange(lo(2), server.addr, &hook_post("x-forwarded-for: 203.0.113.7, 198.51.100.1\r\n"), SOON)
            .await;
    assert_eq!(prepended.status(), Some(403), "the proxy's own entry is the right-most one");
    assert_eq!(exchange(lo(2), server.addr, &hook_post(""), SOON).await.status(), Some(403));
}

#[tokio::test]
async fn slow_heads_and_idle_keep_alive_connections_are_closed() {
    let server = start(Limits { header_read_timeout_secs: 1, ..Limits::default() }).await;
    // Slowloris: part of a head, then nothing.
    let mut slow = connect_from(lo(2), server.addr).await.expect("connect");
    slow.write_all(b"POST /hooks/ableid/complete HTTP/1.1\r\nhost: gw\r\n").await.expect("write");
    let started = Instant::now();
    let ended = tokio::time::timeout(SOON, read_answer(&mut slow)).await.expect("closed in time");
    let held = started.elapsed();
    assert!(!matches!(ended, Ok(Outcome::Answer(200, ..))), "{ended:?}");
    assert!(held >= Duration::from_millis(900) && held < Duration::from_millis(2500), "{held:?}");
    // Silence from the start counts too.
    let mut silent = connect_from(lo(3), server.addr).await.expect("connect");
    let started = Instant::now();
    let _ = tokio::time::timeout(SOON, read_answer(&mut silent)).await.expect("closed in time");
    assert!(started.elapsed() < Duration::from_millis(2500));
    // A kept-alive connection idle after its answer.
    let mut idle = connect_from(lo(4), server.addr).await.expect("connect");
    idle.write_all(b"GET /return/baf/t HTTP/1.1\r\nhost: gw\r\n\r\n").await.expect("write");
    let started = Instant::now();
    let outcome = tokio::time::timeout(SOON, read_answer(&mut idle)).await.expect("closed in time");
    let Ok(Outcome::Answer(200, head, _)) = outcome else { panic!("{outcome:?}") };
    assert!(!head.contains("connection: close"), "kept alive: {head}");
    let idle_for = started.elapsed();
    assert!(idle_for >= Duration::from_millis(900) && idle_for < Duration::from_millis(2500), "{idle_for:?}");
}

#[tokio::test]
async fn a_body_trickled_too_slowly_ends_with_408() {
    let server = start(Limits { request_timeout_secs: 1, ..Limits::default() }).await;
    let mut stream = connect_from(lo(2), server.addr).await.expect("connect");
    let head = "POST /hooks/ableid/photo HTTP/1.1\r\nhost: gw\r\ncontent-length: 1000\r\n\r\n";
    stream.write_all(head.as_bytes()).await.expect("write");
    let started = Instant::now();
    // A byte every 200 ms: each read makes progress, so only a whole-request deadline helps.
    let trickle = async {
        for _ in 0..50 {
            if stream.write_all(b"x").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(1800), trickle).await;
    let outcome = tokio::time::timeout(SOON, read_answer(&mut stream)).await.expect("closed in time");
    let Ok(Outcome::Answer(408, head, body)) = outcome else { panic!("{outcome:?}") };
    assert!(head.contains("connection: close"));
    assert_eq!(body, "{\"message\":\"request took too long\"}");
    assert!(started.elapsed() < Duration::from_millis(3000));
}

#[tokio::test]
async fn stopping_lets_requests_in_flight_finish_and_refuses_new_ones() {
    let mut server = start(Limits::default()).await;
    let addr = server.addr;
    let in_flight = tokio::spawn(async move { exchange(lo(2), addr, &get("/slow"), SOON).await });
    settle().await;
    let _ = server.stop.take().map(|s| s.send(()));
    settle().await;
    let refused = connect_from(lo(3), addr).await;
    assert!(refused.is_err(), "the listener is closed");
    let Outcome::Answer(200, _, body) = in_flight.await.expect("join") else { panic!("in flight failed") };
    assert_eq!(body, "slow done");
    tokio::time::timeout(SOON, server.task).await.expect("serve returns").expect("join");
}

#[tokio::test]
async fn aborting_drops_requests_that_do_not_finish() {
    let mut server = start(Limits::default()).await;
    let addr = server.addr;
    let hanging = tokio::spawn(async move { exchange(lo(2), addr, &get("/hang"), SOON).await });
    settle().await;
    let _ = server.stop.take().map(|s| s.send(()));
    settle().await;
    assert!(!server.task.is_finished(), "a request in flight holds the shutdown");
    let _ = server.abort.take().map(|s| s.send(()));
    tokio::time::timeout(SOON, server.task).await.expect("serve returns").expect("join");
    let outcome = hanging.await.expect("join");
    assert!(matches!(outcome, Outcome::Closed | Outcome::Failed(_)), "{outcome:?}");
}
