//! The ingest load generator, shared by the ingest and NATS benches (each includes this
//! file as `mod load`): `wrk` replaying distinct pre-signed deliveries
//! (`wrk-signed.lua`), or a built-in reqwest fallback.
#![allow(dead_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use pilotwatch::signature::{HEADER, sign};

pub const SECRET: &str = "whsec_bench_0123456789";
pub const WRK_THREADS: u64 = 2;

pub fn body(i: u64) -> String {
    format!(
        r#"{{"event":"message.received","data":{{"from":"+5511999999999","to":"+5511888888888","numberId":"cmm0abc123","messageId":"wamid.{i:012}","id":"cm{i:010}bench","type":"text","fromMe":false,"content":"Olá! Vocês abrem no sábado?","participantName":"Ana","createdAt":"2026-02-24T10:30:00.000Z"}}}}"#
    )
}

#[derive(Debug, Clone, Default)]
pub struct Run {
    pub rate: f64,
    pub requests: u64,
    pub errors: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

pub trait LoadGen {
    fn run(&self, rt: &tokio::runtime::Runtime, addr: SocketAddr) -> Run;
}

/// `wrk`, replaying distinct signed deliveries prepared once for all runs.
pub struct Wrk {
    conns: usize,
    secs: f64,
    script: PathBuf,
    requests: PathBuf,
    pub distinct: u64,
}

impl Wrk {
    pub fn prepare(dir: &Path, conns: usize, secs: f64) -> Option<Self> {
        if std::env::var("PILOTWATCH_BENCH_LOADGEN").as_deref() == Ok("builtin") {
            return None;
        }
        Command::new("wrk")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .ok()?;
        // Enough distinct deliveries for 80k/s; beyond that they repeat (retries).
        let per_thread = (secs * 40_000.0) as u64;
        let requests = dir.join("requests");
        for t in 0..WRK_THREADS {
            let file = std::fs::File::create(requests.with_extension(t.to_string())).ok()?;
            let mut out = std::io::BufWriter::new(file);
            for k in 0..per_thread {
                let b = body(t * per_thread + k);
                writeln!(out, "{}\t{b}", sign(SECRET, b.as_bytes())).ok()?;
            }
        }
        Some(Self {
            conns,
            secs,
            script: Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/support/wrk-signed.lua"),
            requests,
            distinct: per_thread * WRK_THREADS,
        })
    }
}

impl LoadGen for Wrk {
    fn run(&self, _rt: &tokio::runtime::Runtime, addr: SocketAddr) -> Run {
        let out = Command::new("wrk")
            .args([
                "-t",
                &WRK_THREADS.to_string(),
                "-c",
                &self.conns.to_string(),
            ])
            .args(["-d", &format!("{}s", self.secs), "--latency", "-s"])
            .arg(&self.script)
            .arg(format!("http://{addr}/hooks"))
            .arg("--")
            .arg(&self.requests)
            .output()
            .expect("wrk runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let number = |line: &str| -> Option<f64> { line.split_whitespace().nth(1)?.parse().ok() };
        let millis = |v: &str| -> Option<f64> {
            let (n, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic())?);
            let n: f64 = n.parse().ok()?;
            Some(match unit {
                "us" => n / 1e3,
                "ms" => n,
                "s" => n * 1e3,
                _ => return None,
            })
        };
        let mut run = Run::default();
        for line in text.lines() {
            let l = line.trim();
            if l.starts_with("Requests/sec:") {
                run.rate = number(l).unwrap_or_default();
            } else if l.starts_with("50%") {
                run.p50_ms = l
                    .split_whitespace()
                    .nth(1)
                    .and_then(millis)
                    .unwrap_or_default();
            } else if l.starts_with("99%") {
                run.p99_ms = l
                    .split_whitespace()
                    .nth(1)
                    .and_then(millis)
                    .unwrap_or_default();
            } else if l.contains("requests in") {
                run.requests = l
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
            } else if l.starts_with("Non-2xx") {
                run.errors += l
                    .rsplit(' ')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
            } else if l.starts_with("Socket errors") {
                // connect 0, read 0, write 0, timeout 0
                run.errors += l
                    .split(|c: char| !c.is_ascii_digit())
                    .filter_map(|n| n.parse::<u64>().ok())
                    .sum::<u64>();
            }
        }
        assert!(
            run.rate > 0.0,
            "wrk said:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        run
    }
}

/// The fallback: `conns` reqwest tasks in this process (it competes with the server
/// for the same cores, so its ceiling is lower than wrk's).
pub struct Builtin {
    pub conns: usize,
    pub secs: f64,
}

impl LoadGen for Builtin {
    fn run(&self, rt: &tokio::runtime::Runtime, addr: SocketAddr) -> Run {
        rt.block_on(builtin(addr, self.conns, self.secs, 5_000_000))
    }
}

pub async fn builtin(addr: SocketAddr, conns: usize, secs: f64, cap: u64) -> Run {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(conns)
        .build()
        .unwrap();
    let url = format!("http://{addr}/hooks");
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(1 << 20)));
    let counter = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
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
                let i = counter.fetch_add(1, Ordering::Relaxed);
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
                        errors.fetch_add(1, Ordering::Relaxed);
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
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    Run {
        rate: l.len() as f64 / secs,
        requests: l.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    }
}
