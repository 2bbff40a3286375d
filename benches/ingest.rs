//! Ingest throughput and ack latency, as ratios against baselines measured in the same
//! run with the same load generator (loopback only, bounded in time and count):
//!
//! 1. bare axum: read the body, answer 200 (the ceiling);
//! 2. bare + HMAC check + serde_json parse;
//! 3. pilotwatch's full receiver: signature, parse, group-commit fdatasync journal,
//!    store insert with correlation (the dashboard's state kept live).
//!
//! `cargo bench --bench ingest` (`PILOTWATCH_BENCH_SECS`, default 5 s per server;
//! `PILOTWATCH_BENCH_CONNS`, default 64).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use parking_lot::Mutex;
use pilotwatch::config::Settings;
use pilotwatch::receiver::signature::{HEADER, sign, verify};
use pilotwatch::secret::Secret;
use pilotwatch::service::Service;

const SECRET: &str = "whsec_bench_0123456789";

fn body(i: u64) -> String {
    format!(
        r#"{{"event":"message.received","data":{{"from":"+5511999999999","to":"+5511888888888","numberId":"cmm0abc123","messageId":"wamid.{i:012}","id":"cm{i:010}bench","type":"text","fromMe":false,"content":"Olá! Vocês abrem no sábado?","participantName":"Ana","createdAt":"2026-02-24T10:30:00.000Z"}}}}"#
    )
}

struct Result {
    requests: u64,
    errors: u64,
    secs: f64,
    p50: Duration,
    p99: Duration,
}

impl Result {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.secs
    }
}

/// `conns` client tasks POST signed bodies for `secs` (at most `cap` requests in all).
async fn load(addr: SocketAddr, conns: usize, secs: f64, cap: u64) -> Result {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(conns)
        .build()
        .unwrap();
    let url = format!("http://{addr}/hooks");
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(1 << 20)));
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let errors = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (client, url, latencies, counter, errors) = (
            client.clone(),
            url.clone(),
            latencies.clone(),
            counter.clone(),
            errors.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            while Instant::now() < deadline {
                let i = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= cap {
                    break;
                }
                let b = body(i);
                let sig = sign(SECRET, b.as_bytes());
                let t = Instant::now();
                match client.post(&url).header(HEADER, sig).body(b).send().await {
                    Ok(r) if r.status().is_success() => {
                        let _ = r.bytes().await;
                        mine.push(t.elapsed());
                    }
                    _ => {
                        errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            }
            latencies.lock().extend(mine);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let mut l = std::mem::take(&mut *latencies.lock());
    l.sort_unstable();
    let pct = |p: f64| {
        l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Result {
        requests: l.len() as u64,
        errors: errors.load(std::sync::atomic::Ordering::Relaxed),
        secs,
        p50: pct(0.50),
        p99: pct(0.99),
    }
}

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

fn report(name: &str, r: &Result, base: Option<&Result>) {
    let ratio = base
        .map(|b| format!("  {:.2}× bare", r.rate() / b.rate()))
        .unwrap_or_default();
    println!(
        "{name:<34} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({} ok, {} errors){ratio}",
        r.rate(),
        r.p50.as_secs_f64() * 1e3,
        r.p99.as_secs_f64() * 1e3,
        r.requests,
        r.errors
    );
}

fn main() {
    let secs: f64 = std::env::var("PILOTWATCH_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let conns: usize = std::env::var("PILOTWATCH_BENCH_CONNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let cap = 5_000_000;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        println!(
            "ingest: {conns} connections, {secs} s each, loopback, same machine as the load\n"
        );
        let bare = serve(Router::new().fallback(|_b: Bytes| async { StatusCode::OK })).await;
        let bare = load(bare, conns, secs, cap).await;
        report("1. bare axum", &bare, None);

        let secrets = [Secret::new(SECRET)];
        let checked = serve(Router::new().fallback(move |h: HeaderMap, b: Bytes| {
            let ok = verify(&secrets, h.get_all(HEADER).iter().map(|v| v.as_bytes()), &b)
                == pilotwatch::record::SignatureCheck::Valid
                && serde_json::from_slice::<serde_json::Value>(&b).is_ok();
            async move {
                if ok {
                    StatusCode::OK
                } else {
                    StatusCode::BAD_REQUEST
                }
            }
        }))
        .await;
        let checked = load(checked, conns, secs, cap).await;
        report("2. bare + HMAC + serde_json", &checked, Some(&bare));

        let dir = tempfile::tempdir().unwrap();
        let settings = Settings {
            listen: "127.0.0.1:0".parse().unwrap(),
            path: None,
            journal: Some(dir.path().join("journal.jsonl")),
            max_body: 1 << 20,
            segment_size: 64 << 20,
            capacity: 100_000,
            secrets: vec![Secret::new(SECRET)],
            api_key: None,
            base_url: "http://127.0.0.1:9".into(),
            api_timeout: Duration::from_secs(10),
            forward_to: None,
            respond: None,
            respond_delay: Duration::ZERO,
            headless: true,
            json: false,
            config_file: None,
        };
        let service = Service::start(&settings).await.unwrap();
        let addr = service.addr;
        let ingest = service.ingest.clone();
        tokio::spawn(service.serve(std::future::pending()));
        let full = load(addr, conns, secs, cap).await;
        report("3. pilotwatch (journal + store)", &full, Some(&bare));
        let stored = ingest.store().read().counters().total;
        println!(
            "\n   stored {stored} deliveries (every acked one: {})",
            stored >= full.requests
        );
        println!(
            "   target: ≥ 0.50× bare → {:.2}× {}; p99 ≤ 5 ms → {:.2} ms {}",
            full.rate() / bare.rate(),
            if full.rate() / bare.rate() >= 0.5 {
                "met"
            } else {
                "MISSED"
            },
            full.p99.as_secs_f64() * 1e3,
            if full.p99 <= Duration::from_millis(5) {
                "met"
            } else {
                "MISSED"
            }
        );
    });
}
