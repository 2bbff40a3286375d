//! What attached dashboards cost the receiver, and how fast one loads its history.
//!
//! `cargo bench --bench attach` runs the full service in-process on a fresh journal and
//! posts the same load (64 concurrent senders, 20,000 ~290-byte deliveries) three times:
//! with no client attached (the baseline, measured in the same run), with two healthy
//! clients, and with two healthy clients plus one that never reads (a stalled SSH
//! session). It prints deliveries/s and ack latency for each, with ratios against the
//! baseline; then the time for a new client to load 100,000 records of history.

#[path = "support/common.rs"]
mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use pilotwatch::attach::Endpoint;
use pilotwatch::attach::client::{Client, Options};
use pilotwatch::config::Settings;
use pilotwatch::service::Service;
use tokio::io::AsyncWriteExt;

const SENDERS: usize = 64;
const DELIVERIES: u64 = 20_000;

fn settings(dir: &Path) -> Settings {
    let mut s = common::settings(dir);
    s.capacity = 200_000;
    s.attach_socket = Some(dir.join("journal.jsonl.sock"));
    s
}

struct Round {
    per_sec: f64,
    p50: Duration,
    p99: Duration,
}

/// `DELIVERIES` more deliveries from `SENDERS` concurrent senders, starting at `first`.
async fn load(url: &str, first: u64) -> Round {
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..SENDERS as u64 {
        let (http, url) = (http.clone(), url.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut took = Vec::new();
            let mut i = first + w;
            while i < first + DELIVERIES {
                let t = Instant::now();
                let r = http
                    .post(&url)
                    .body(common::lifecycle_body(i))
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success());
                took.push(t.elapsed());
                i += SENDERS as u64;
            }
            took
        }));
    }
    let mut took = Vec::new();
    for t in tasks {
        took.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    took.sort_unstable();
    Round {
        per_sec: DELIVERIES as f64 / elapsed.as_secs_f64(),
        p50: took[took.len() / 2],
        p99: took[took.len() * 99 / 100],
    }
}

async fn attach(socket: &Path, history: u64) -> Client {
    Client::attach(Options {
        endpoint: Endpoint::Unix(socket.to_owned()),
        token: None,
        history,
        capacity: 200_000,
    })
    .await
    .unwrap()
}

/// A client that reads and counts frames and does nothing else, so the figure is the
/// service's own cost of fanning out (a real dashboard decodes in its own process).
async fn drainer(socket: &Path) -> tokio::task::JoinHandle<u64> {
    use tokio::io::AsyncReadExt;
    let mut s = tokio::net::UnixStream::connect(socket).await.unwrap();
    s.write_all(b"{\"version\":1,\"after\":0,\"history\":0}\n")
        .await
        .unwrap();
    tokio::spawn(async move {
        let mut buf = vec![0u8; 1 << 20];
        let mut frames = 0;
        while let Ok(n) = s.read(&mut buf).await {
            if n == 0 {
                break;
            }
            frames += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        }
        frames
    })
}

async fn holds(c: &Client, seq: u64) {
    while c.store().read().last_seq() < seq {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let s = settings(dir.path());
    let socket = s.attach_socket.clone().unwrap();
    let service = Service::start(&s).await.unwrap();
    let url = format!("http://{}/", service.addr);
    let stats = service.attach_stats();
    tokio::spawn(service.serve(std::future::pending()));

    // Warm up the journal file and the connection pool.
    load(&url, 0).await;
    // The three set-ups take turns, three rounds each, and the medians are compared:
    // on a shared 2-core machine one round alone says little.
    let mut next = DELIVERIES;
    let (mut base, mut two, mut stall) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        base.push(load(&url, next).await);
        next += DELIVERIES;
        let drainers = [drainer(&socket).await, drainer(&socket).await];
        two.push(load(&url, next).await);
        next += DELIVERIES;
        let mut stalled = tokio::net::UnixStream::connect(&socket).await.unwrap();
        stalled
            .write_all(b"{\"version\":1,\"after\":0,\"history\":0}\n")
            .await
            .unwrap();
        stall.push(load(&url, next).await);
        next += DELIVERIES;
        drop(stalled);
        for d in drainers {
            d.abort();
        }
        // Let the service see them go before the next baseline.
        while stats.clients.load(std::sync::atomic::Ordering::SeqCst) > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let median = |v: &mut Vec<Round>| {
        v.sort_by(|a, b| a.per_sec.total_cmp(&b.per_sec));
        v.swap_remove(1)
    };
    let base = median(&mut base);
    let report = |name: &str, r: &Round| {
        println!(
            "{name:<32} {:>8.0} deliveries/s ({:.2}× baseline)  ack p50 {:>7.2?} p99 {:>7.2?}",
            r.per_sec,
            r.per_sec / base.per_sec,
            r.p50,
            r.p99
        );
    };
    println!("attach: {SENDERS} senders, {DELIVERIES} deliveries per round, median of 3 rounds");
    report("no client attached (baseline)", &base);
    report("two clients attached", &median(&mut two));
    report("two clients + one stalled", &median(&mut stall));
    println!(
        "  stalled clients dropped: {} of 3",
        stats.dropped.load(std::sync::atomic::Ordering::Relaxed)
    );

    let t = Instant::now();
    let c = attach(&socket, 100_000).await;
    holds(&c, next - 1).await;
    let took = t.elapsed();
    let n = c.store().read().feed().len();
    println!(
        "history: {n} records loaded by a new client in {took:.2?} ({:.0} records/s)",
        n as f64 / took.as_secs_f64()
    );
}
