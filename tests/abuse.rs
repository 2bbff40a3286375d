//! The receiver under abuse, over real sockets: slow headers and slow bodies are cut
//! off, an oversized request head is refused, the connection cap answers 503 with
//! `Retry-After`, a handler panic answers 500 and the server goes on, every malformed
//! signature is refused and never journaled as valid, and real deliveries keep
//! flowing while hundreds of slow connections are held open.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Running, client, settings, with_secrets};
use pilotwatch::journal::replay::read_all;
use pilotwatch::model::Verdict;
use pilotwatch::record::SignatureCheck;
use pilotwatch::signature::sign;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SECRET: &str = "whsec_abuse_0123456789";

fn body(i: usize) -> String {
    format!(
        r#"{{"event":"message.received","data":{{"from":"+5511999999999","to":"+5511888888888","numberId":"n1","messageId":"wa-{i}","id":"ab-{i}","type":"text","fromMe":false,"content":"hi {i}","createdAt":"2026-02-24T15:00:05.000Z"}}}}"#
    )
}

/// Read what the server sends until it closes (or `limit` passes): the bytes, and
/// whether it closed.
async fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let closed = tokio::time::timeout(limit, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .is_ok();
    (out, closed)
}

async fn start(request_timeout: u64, max_connections: usize) -> (tempfile::TempDir, Running) {
    let dir = tempfile::tempdir().unwrap();
    let mut s = with_secrets(settings(dir.path()), &[SECRET]);
    s.request_timeout = Duration::from_secs(request_timeout);
    s.max_connections = max_connections;
    let server = Running::start(&s).await;
    (dir, server)
}

#[tokio::test]
async fn headers_dribbled_slowly_are_cut_off() {
    let (_dir, server) = start(1, 1024).await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(b"POST / HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    let t = Instant::now();
    // One header line every 200 ms: never a complete head.
    let dribble = async {
        for i in 0.. {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if s.write_all(format!("x-slow-{i}: 1\r\n").as_bytes())
                .await
                .is_err()
            {
                return;
            }
        }
    };
    let cut = tokio::time::timeout(Duration::from_secs(5), dribble).await;
    assert!(cut.is_ok(), "still writing headers after 5 s");
    let took = t.elapsed();
    assert!(took < Duration::from_secs(3), "cut off after {took:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_body_at_a_byte_a_time_is_cut_off_answered_408_and_recorded() {
    let (dir, server) = start(1, 1024).await;
    let b = body(1);
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "POST /hooks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-pilot-status-signature: {}\r\ncontent-length: {}\r\n\r\n",
        sign(SECRET, b.as_bytes()),
        b.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let t = Instant::now();
    let (reply, closed) = tokio::select! {
        r = async {
            let mut got = Vec::new();
            let mut buf = [0u8; 1024];
            // The answer comes while we are still dribbling.
            loop {
                match s.read(&mut buf).await {
                    Ok(0) | Err(_) => return (got, true),
                    Ok(n) => {
                        got.extend_from_slice(&buf[..n]);
                        if got.windows(4).any(|w| w == b"\r\n\r\n") {
                            return (got, false);
                        }
                    }
                }
            }
        } => r,
        () = tokio::time::sleep(Duration::from_secs(5)) => panic!("no answer after 5 s"),
    };
    let reply = String::from_utf8_lossy(&reply).to_string();
    assert!(
        reply.starts_with("HTTP/1.1 408"),
        "answer: {reply:?} (closed: {closed})"
    );
    assert!(t.elapsed() < Duration::from_secs(3));
    server.ingest.settled().await;
    server.stop().await;
    let (records, _) = read_all(&dir.path().join("journal.jsonl")).unwrap();
    assert_eq!(records.len(), 1, "the slow delivery is recorded, not lost");
    let r = &records[0];
    assert_eq!(r.verdict, Verdict::Rejected);
    assert!(
        r.problems[0].contains("not complete"),
        "problem: {:?}",
        r.problems
    );
}

#[tokio::test]
async fn a_500_kb_request_head_is_refused() {
    let (_dir, server) = start(5, 1024).await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    let mut head = String::from("POST / HTTP/1.1\r\nhost: x\r\n");
    head.push_str(&format!("x-huge: {}\r\n", "a".repeat(500 * 1024)));
    head.push_str("content-length: 2\r\n\r\n{}");
    // The server may stop reading part way: a write error is fine, the answer counts.
    let _ = s.write_all(head.as_bytes()).await;
    let (reply, _) = read_until_closed(&mut s, Duration::from_secs(5)).await;
    let reply = String::from_utf8_lossy(&reply);
    assert!(
        reply.starts_with("HTTP/1.1 431"),
        "answer to a 500 KB head: {:?}",
        &reply[..reply.len().min(80)]
    );
    assert_eq!(server.ingest.store().read().counters().total, 0);
    server.stop().await;
}

#[tokio::test]
async fn past_the_connection_cap_a_new_connection_is_told_503_and_retry_after() {
    let (_dir, server) = start(5, 20).await;
    let mut idle = Vec::new();
    for _ in 0..20 {
        idle.push(TcpStream::connect(server.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let http = client();
    let b = body(7);
    let post = || {
        http.post(server.url("/"))
            .header("x-pilot-status-signature", sign(SECRET, b.as_bytes()))
            .body(b.clone())
            .send()
    };
    let busy = post().await.unwrap();
    assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(busy.headers()["retry-after"], "5");
    // Room again: the same delivery goes through (the provider's retry).
    drop(idle);
    let t = Instant::now();
    let status = loop {
        let st = post().await.unwrap().status();
        if st != StatusCode::SERVICE_UNAVAILABLE || t.elapsed() > Duration::from_secs(3) {
            break st;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status, StatusCode::OK);
    let health = server.health().await;
    assert!(health["refusedConnections"].as_u64().unwrap() >= 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_keep_flowing_while_500_slow_connections_are_open() {
    // 500 client sockets and their 500 server ends live in this one process.
    let _ = rlimit::increase_nofile_limit(4096);
    let (_dir, server) = start(10, 1024).await;
    let mut slow = Vec::new();
    for _ in 0..500 {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(b"POST / HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        slow.push(s);
    }
    let http = client();
    let t = Instant::now();
    let mut worst = Duration::ZERO;
    for i in 0..100 {
        let b = body(i);
        let one = Instant::now();
        let r = http
            .post(server.url("/"))
            .header("x-pilot-status-signature", sign(SECRET, b.as_bytes()))
            .body(b)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        worst = worst.max(one.elapsed());
    }
    eprintln!(
        "100 deliveries with 500 slow connections open: {:?}, slowest {worst:?}",
        t.elapsed()
    );
    assert!(worst < Duration::from_millis(500), "slowest ack {worst:?}");
    server.ingest.settled().await;
    assert_eq!(server.ingest.store().read().counters().total, 100);
    drop(slow);
    server.stop().await;
}

async fn boom() -> &'static str {
    panic!("handler bug")
}

#[tokio::test]
async fn a_panicking_handler_answers_500_and_the_server_goes_on() {
    use axum::routing::post;
    use pilotwatch::receiver::server::{Limits, ServerStats, serve};

    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path());
    let service = pilotwatch::service::Service::start(&s).await.unwrap();
    let (addr, ingest) = (service.addr, service.ingest.clone());
    let listener = service.listener;
    let state = Arc::new(pilotwatch::receiver::ReceiverState {
        ingest: ingest.clone(),
        config: pilotwatch::receiver::ReceiverConfig {
            path: None,
            max_body: 1 << 20,
            body_timeout: Duration::from_secs(5),
            secrets: vec![],
            respond: None,
        },
        started: Instant::now(),
        server: Default::default(),
        attach: Default::default(),
        bodies: Default::default(),
        outbox: None,
    });
    // The real router with one route that panics, behind the real server loop.
    let app = pilotwatch::receiver::router(state).route("/boom", post(boom));
    let stats = Arc::new(ServerStats::default());
    let served = tokio::spawn(serve(
        listener,
        app,
        Limits::default(),
        stats.clone(),
        std::future::pending(),
    ));
    let http = client();
    let boom = http
        .post(format!("http://{addr}/boom"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(boom.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(stats.panics.load(std::sync::atomic::Ordering::Relaxed), 1);
    // Same connection pool, same server: still taking deliveries.
    let ok = http
        .post(format!("http://{addr}/"))
        .body(body(1))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    assert!(!served.is_finished());
    served.abort();
}

#[tokio::test]
async fn no_malformed_signature_is_accepted_or_journaled_as_valid() {
    let (dir, server) = start(5, 1024).await;
    let b = body(3);
    let good = sign(SECRET, b.as_bytes());
    let mut flipped = hex::decode(&good).unwrap();
    flipped[9] ^= 0x01;
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("missing", vec![]),
        ("empty", vec![String::new()]),
        ("truncated", vec![good[..63].to_owned()]),
        ("upper-case hex", vec![good.to_uppercase()]),
        ("non-hex", vec![format!("zz{}", &good[2..])]),
        ("too long", vec![format!("{good}00")]),
        ("sha256= prefix", vec![format!("sha256={good}")]),
        ("two headers", vec![good.clone(), good.clone()]),
        ("one bit flipped", vec![hex::encode(flipped)]),
        (
            "a space inside",
            vec![format!("{} {}", &good[..32], &good[32..])],
        ),
    ];
    let http = client();
    for (what, headers) in &cases {
        let mut req = http.post(server.url("/")).body(b.clone());
        for h in headers {
            req = req.header("x-pilot-status-signature", h);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{what}");
    }
    server.ingest.settled().await;
    server.stop().await;
    let (records, _) = read_all(&dir.path().join("journal.jsonl")).unwrap();
    assert_eq!(records.len(), cases.len(), "each refusal is recorded");
    for (r, (what, _)) in records.iter().zip(&cases) {
        assert_ne!(r.signature, SignatureCheck::Valid, "{what}");
        assert_eq!(r.verdict, Verdict::Rejected, "{what}");
    }
}
