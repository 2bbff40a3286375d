//! What an attack on the receiver found (issue 22), each against the real binary or the
//! real service on loopback: silent and half-open connections are closed, HTTP/2 cannot
//! hold unbounded bodies, a refused request costs little, hyper's own refusals are counted.

mod common;

use std::time::{Duration, Instant};

use common::{Running, client, settings, spawn, with_secrets};
use pilotwatch::journal::replay::read_all;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// An empty SETTINGS frame: what a client sends right after the preface.
const SETTINGS: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];

fn body(i: usize) -> String {
    format!(
        r#"{{"event":"message.received","data":{{"from":"+5511999999999","to":"+5511888888888","numberId":"n1","messageId":"h-{i}","id":"hard-{i}","type":"text","fromMe":false,"content":"hi {i}","createdAt":"2026-02-24T15:00:05.000Z"}}}}"#
    )
}

/// Whether the server closed `s` within `limit` (reading and dropping what it sends).
async fn closed_within(s: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 4096];
    tokio::time::timeout(limit, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_sockets_half_prefaces_and_idle_h2c_connections_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let (mut child, addr, _) = spawn(
        &journal,
        &["--request-timeout", "1", "--max-connections", "30"],
    )
    .await;
    // 30 connections fill the cap: 10 silent, 10 with half a preface, 10 whole h2c.
    let mut socks = Vec::new();
    for i in 0..30 {
        let mut s = TcpStream::connect(&addr).await.unwrap();
        match i / 10 {
            0 => {}
            1 => s.write_all(&PREFACE[..10]).await.unwrap(),
            _ => {
                s.write_all(PREFACE).await.unwrap();
                s.write_all(SETTINGS).await.unwrap();
            }
        }
        socks.push(s);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let http = client();
    let full = http
        .post(format!("http://{addr}/"))
        .body(body(0))
        .send()
        .await;
    assert_eq!(
        full.map(|r| r.status().as_u16()).ok(),
        Some(503),
        "the cap is full"
    );
    let t = Instant::now();
    for (i, s) in socks.iter_mut().enumerate() {
        assert!(
            closed_within(s, Duration::from_secs(4)).await,
            "connection {i} (kind {}) still open after {:?}",
            i / 10,
            t.elapsed()
        );
    }
    eprintln!(
        "30 silent/half-open connections closed {:?} after the cap filled",
        t.elapsed()
    );
    let ok = http
        .post(format!("http://{addr}/"))
        .body(body(1))
        .send()
        .await
        .unwrap();
    assert_eq!(
        ok.status(),
        200,
        "a delivery goes through once they are gone"
    );
    let health = common::health_of(&addr).await;
    assert!(health["idleClosed"].as_u64().unwrap() >= 30, "{health}");
    child.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_http2_streams_with_stalled_bodies_take_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("journal.jsonl");
    let (mut child, addr, _) = spawn(&journal, &["--request-timeout", "3"]).await;
    let pid = child.id().unwrap();
    let before = rss_kib(pid);
    // 8 h2c connections x 20 streams, each sending ~1 MB of a body and then stalling:
    // 160 MB if every stream were read at once.
    let mut tasks = Vec::new();
    let mut clients = Vec::new();
    for _ in 0..8 {
        let http = reqwest::Client::builder()
            .no_proxy()
            .http2_prior_knowledge()
            .build()
            .unwrap();
        clients.push(http.clone());
        for _ in 0..20 {
            let (http, url) = (http.clone(), format!("http://{addr}/"));
            tasks.push(tokio::spawn(async move {
                let chunk = bytes::Bytes::from(vec![b' '; 1_000_000]);
                let stalled = futures_util::stream::iter([Ok::<_, std::io::Error>(chunk)])
                    .chain(futures_util::stream::pending());
                let r = http
                    .post(url)
                    .header("content-length", "1000001")
                    .body(reqwest::Body::wrap_stream(stalled))
                    .send()
                    .await;
                r.map(|r| r.status().as_u16()).unwrap_or(0)
            }));
        }
    }
    let mut peak = before;
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(2500) {
        peak = peak.max(rss_kib(pid));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let statuses: Vec<u16> = futures_util::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let grew = (peak - before) / 1024;
    let refused = statuses.iter().filter(|s| **s == 503).count();
    eprintln!(
        "160 stalled 1 MB bodies on 8 h2c connections: RSS {} -> {} MiB (+{grew} MiB), {refused} told 503, statuses {:?}",
        before / 1024,
        peak / 1024,
        {
            let mut s = statuses.clone();
            s.sort();
            s.dedup();
            s
        }
    );
    // The budget (32 MiB) and what the allocator keeps: before, 160 MiB and more.
    assert!(grew < 80, "RSS grew by {grew} MiB");
    assert!(refused > 0, "past the body budget some are told to retry");
    let ok = client()
        .post(format!("http://{addr}/"))
        .body(body(2))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "deliveries go on after");
    drop(clients);
    child.kill().await.unwrap();
}

use futures_util::StreamExt as _;

#[tokio::test]
async fn a_refused_request_with_a_huge_path_costs_little() {
    let dir = tempfile::tempdir().unwrap();
    let s = with_secrets(settings(dir.path()), &["whsec_hardening_0123456789"]);
    let server = Running::start(&s).await;
    let path = format!("/{}", "a".repeat(60_000));
    let r = client()
        .post(server.url(&path))
        .body("x".repeat(100_000))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    server.stop().await;
    let (records, _) = read_all(s.journal.as_ref().unwrap()).unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert!(r.path.len() <= 300, "path kept: {} bytes", r.path.len());
    assert!(
        r.path.ends_with("…(60001 bytes)"),
        "{}",
        &r.path[r.path.len() - 20..]
    );
    let journal_bytes = std::fs::metadata(s.journal.as_ref().unwrap())
        .unwrap()
        .len();
    assert!(
        journal_bytes < 6 * 1024,
        "journal line of {journal_bytes} bytes"
    );
}

#[tokio::test]
async fn requests_hyper_refuses_itself_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let server = Running::start(&settings(dir.path())).await;
    for req in [
        "POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!",
        "GARBAGE\r\n\r\n",
    ] {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(req.as_bytes()).await.unwrap();
        let mut answer = vec![0u8; 1024];
        let n = tokio::time::timeout(Duration::from_secs(3), s.read(&mut answer))
            .await
            .expect("an answer")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    }
    let health = server.health().await;
    assert_eq!(health["malformedRequests"], 2, "{health}");
    server.stop().await;
}
