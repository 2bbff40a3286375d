//! What `serve --nats` costs the acks (issue 20), as ratios measured in the same run with
//! the same load generator (`wrk`, as in the ingest bench), loopback only: pilotwatch's
//! full receiver WITHOUT NATS and WITH its outbox publishing every record to a real
//! `nats-server -js` (started here on a free port, in a temp dir, fresh for each run),
//! interleaved (without, with, without, …): each run with NATS against the mean of the
//! runs without around it, the median over the pairs. Target: ≥ 0.90× the acks/s, the
//! p99 ack latency unchanged (≤ 1.10×).
//!
//! And the publish lag under that load: `pilotwatch_nats_publish_lag_seconds` (p50/p99
//! read from its buckets on `/metrics`, when it is there), the backlog's peak (`/healthz`
//! `nats.backlog`, polled every 50 ms during the load; the runs without NATS are polled
//! alike), and how long after the load the backlog took to reach 0.
//!
//! `cargo bench --bench nats`. Skips (exit 0) without `nats-server` or `wrk` on PATH.
//! Env: `PILOTWATCH_BENCH_SECS` (default 5 per run), `PILOTWATCH_BENCH_PAIRS` (3),
//! `PILOTWATCH_BENCH_CONNS` (64).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pilotwatch::bus::BusTarget;
use pilotwatch::outbox::OutboxSettings;
use pilotwatch::secret::Secret;
use pilotwatch::service::Service;

#[path = "support/common.rs"]
mod common;
#[path = "support/load.rs"]
mod load;
use common::met;
use load::{LoadGen, Run, SECRET, WRK_THREADS, Wrk};

/// The lag histogram on `/metrics` (may not be there yet: then only the backlog tells).
const LAG: &str = "pilotwatch_nats_publish_lag_seconds_bucket";

/// A `nats-server -js` of our own, killed on drop.
struct NatsServer {
    child: Child,
    port: u16,
}

impl NatsServer {
    fn start(dir: &Path) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join("nats-server.log");
        let child = Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(dir.join("js"))
            .arg("-l")
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        let server = Self { child, port };
        // Ready: the port accepts and the log says so (JetStream is up by then).
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let ready = std::fs::read_to_string(&log).is_ok_and(|l| l.contains("Server is ready"))
                && TcpStream::connect(("127.0.0.1", port)).is_ok();
            if ready {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "nats-server did not start: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl NatsServer {
    /// CPU seconds the server has used so far (user + system, from `/proc`; Linux).
    fn cpu_secs(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let ticks: f64 =
            fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
        Some(ticks / 100.0)
    }
}

/// CPU seconds this process's `pilotwatch-outbox` thread has used so far (Linux).
fn outbox_cpu_secs() -> Option<f64> {
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = task.ok()?.path();
        let name = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if name.trim() == "pilotwatch-outb" || name.trim() == "pilotwatch-outbox" {
            let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            let ticks: f64 =
                fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
            return Some(ticks / 100.0);
        }
    }
    None
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One run's figures: the load's, and with NATS what the outbox did.
#[derive(Debug, Clone, Default)]
struct Figures {
    run: Run,
    stored: u64,
    backlog_peak: u64,
    /// From the end of the load until `nats.backlog` was 0.
    drained: Option<Duration>,
    published: u64,
    duplicates: u64,
    /// p50, p99 of the lag histogram (upper bounds of their buckets), in seconds.
    lag: Option<(f64, f64)>,
    /// CPU seconds nats-server used during the load (it shares the machine's cores).
    nats_cpu: Option<f64>,
    /// CPU seconds the outbox's thread used during the load.
    outbox_cpu: Option<f64>,
}

async fn healthz_nats(client: &reqwest::Client, addr: SocketAddr) -> Option<serde_json::Value> {
    let res = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .ok()?;
    let v: serde_json::Value = res.json().await.ok()?;
    Some(v.get("nats")?.clone()).filter(|n| !n.is_null())
}

/// The quantile `q` of a cumulative Prometheus histogram: its bucket's upper bound.
fn quantile(buckets: &[(f64, f64)], q: f64) -> f64 {
    let count = buckets.last().map_or(0.0, |b| b.1);
    buckets
        .iter()
        .find(|(_, n)| *n >= q * count)
        .map_or(f64::NAN, |b| b.0)
}

/// p50, p99 of the lag histogram on `/metrics`, if it is exposed and not empty.
async fn lag_from_metrics(client: &reqwest::Client, addr: SocketAddr) -> Option<(f64, f64)> {
    let text = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let mut buckets: Vec<(f64, f64)> = text
        .lines()
        .filter(|l| l.starts_with(LAG))
        .filter_map(|l| {
            let le = l.split("le=\"").nth(1)?.split('"').next()?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, l.split_whitespace().last()?.parse().ok()?))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    (buckets.last()?.1 > 0.0).then(|| (quantile(&buckets, 0.5), quantile(&buckets, 0.99)))
}

/// The full receiver on a fresh journal (and, `with_nats`, a fresh nats-server), under
/// the load, `/healthz` polled every 50 ms; stopped cleanly after.
fn run(rt: &tokio::runtime::Runtime, load: &dyn LoadGen, with_nats: bool) -> Figures {
    let dir = tempfile::tempdir().unwrap();
    let nats = with_nats.then(|| NatsServer::start(dir.path()));
    let mut settings = common::settings(&dir.path().join("journal"));
    std::fs::create_dir_all(dir.path().join("journal")).unwrap();
    settings.secrets = vec![Secret::new(SECRET)];
    settings.nats = nats.as_ref().map(|n| OutboxSettings {
        target: BusTarget::parse(&format!("nats://127.0.0.1:{}", n.port)).unwrap(),
        receiver: "bench".into(),
        replicas: 1,
    });
    let service = rt.block_on(Service::start(&settings)).unwrap();
    let (addr, ingest) = (service.addr, service.ingest.clone());
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let served = rt.spawn(service.serve(async {
        let _ = stop_rx.await;
    }));
    let client = reqwest::Client::new();

    // Poll /healthz during the load (in both kinds of run, so they cost alike).
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let (client, stop) = (client.clone(), stop.clone());
        rt.spawn(async move {
            let mut peak = 0u64;
            let mut tick = tokio::time::interval(Duration::from_millis(50));
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                if let Some(n) = healthz_nats(&client, addr).await {
                    peak = peak.max(n["backlog"].as_u64().unwrap_or(0));
                }
            }
            peak
        })
    };
    let cpu_before = nats.as_ref().and_then(NatsServer::cpu_secs);
    // Not started yet: it has used nothing.
    let outbox_before = with_nats.then(|| outbox_cpu_secs().unwrap_or(0.0));
    let load_run = load.run(rt, addr);
    let ended = Instant::now();
    let nats_cpu = nats.as_ref().and_then(NatsServer::cpu_secs);
    let outbox_cpu = outbox_cpu_secs().zip(outbox_before).map(|(a, b)| a - b);
    stop.store(true, Ordering::Relaxed);
    let backlog_peak = rt.block_on(poller).unwrap();

    let mut figures = Figures {
        run: load_run,
        backlog_peak,
        nats_cpu: nats_cpu.zip(cpu_before).map(|(a, b)| a - b),
        outbox_cpu,
        ..Figures::default()
    };
    if with_nats {
        rt.block_on(async {
            let deadline = ended + Duration::from_secs(120);
            loop {
                let n = healthz_nats(&client, addr).await.unwrap_or_default();
                if n["backlog"].as_u64() == Some(0) && n["confirmedSeq"].as_u64() > Some(0) {
                    figures.drained = Some(ended.elapsed());
                    figures.published = n["published"].as_u64().unwrap_or(0);
                    figures.duplicates = n["duplicates"].as_u64().unwrap_or(0);
                    break;
                }
                if Instant::now() > deadline {
                    println!("   backlog not drained 120 s after the load: {n}");
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            figures.lag = lag_from_metrics(&client, addr).await;
        });
    }
    rt.block_on(ingest.settled());
    figures.stored = ingest.store().read().counters().total;
    let _ = stop_tx.send(());
    rt.block_on(served).unwrap().unwrap();
    drop(nats);
    figures
}

fn report(name: &str, f: &Figures) {
    let r = &f.run;
    println!(
        "{name:<18} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({} requests, {} errors, {} stored)",
        r.rate, r.p50_ms, r.p99_ms, r.requests, r.errors, f.stored
    );
}

fn ms(s: f64) -> String {
    if s.is_infinite() {
        "> 10 s".into()
    } else {
        format!("≤ {:.1} ms", s * 1e3)
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let env = |k: &str| std::env::var(k).ok();
    let secs: f64 = env("PILOTWATCH_BENCH_SECS")
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let pairs: usize = env("PILOTWATCH_BENCH_PAIRS")
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    let conns: usize = env("PILOTWATCH_BENCH_CONNS")
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let version = Command::new("nats-server").arg("--version").output();
    let Ok(version) = version.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned()) else {
        println!("nats: skipped (nats-server is not installed: apt install nats-server)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let Some(wrk) = Wrk::prepare(dir.path(), conns, secs) else {
        println!("nats: skipped (wrk is not installed, or PILOTWATCH_BENCH_LOADGEN=builtin)");
        return;
    };
    println!(
        "nats: wrk, {conns} connections, {WRK_THREADS} threads, {secs} s per run, {} distinct signed deliveries, {pairs} pairs; {version} (-js) on loopback, same machine ({} cores)\n",
        wrk.distinct,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();

    let mut before = run(&rt, &wrk, false);
    report("without (0)", &before);
    let (mut rates, mut p99s, mut withs) = (Vec::new(), Vec::new(), Vec::new());
    for i in 1..=pairs {
        let with = run(&rt, &wrk, true);
        report(&format!("with --nats ({i})"), &with);
        println!(
            "   backlog peak {}, drained {} after the load; {} published, {} duplicates; lag {}; CPU-s during the load: nats-server {}, the outbox thread {}",
            with.backlog_peak,
            with.drained.map_or("never".into(), |d| format!(
                "{:.0} ms",
                d.as_secs_f64() * 1e3
            )),
            with.published,
            with.duplicates,
            with.lag
                .map_or("not on /metrics".into(), |(p50, p99)| format!(
                    "p50 {}, p99 {}",
                    ms(p50),
                    ms(p99)
                )),
            with.nats_cpu.map_or("?".into(), |c| format!("{c:.1}")),
            with.outbox_cpu.map_or("?".into(), |c| format!("{c:.1}")),
        );
        let after = run(&rt, &wrk, false);
        report(&format!("without ({i})"), &after);
        let rate = with.run.rate / ((before.run.rate + after.run.rate) / 2.0);
        let p99 = with.run.p99_ms / ((before.run.p99_ms + after.run.p99_ms) / 2.0);
        println!("   with: acks/s {rate:.2}×, p99 {p99:.2}× the runs around it");
        rates.push(rate);
        p99s.push(p99);
        withs.push(with);
        before = after;
    }

    let (rate, p99) = (median(rates), median(p99s));
    let peak = median(withs.iter().map(|w| w.backlog_peak as f64).collect());
    let drained: Vec<f64> = withs
        .iter()
        .filter_map(|w| w.drained.map(|d| d.as_secs_f64() * 1e3))
        .collect();
    println!("\ntargets (median of {pairs} pairs)");
    println!(
        "  with --nats ≥ 0.90× acks/s:    {rate:.2}×  {}",
        met(rate >= 0.9)
    );
    println!(
        "  p99 unchanged (≤ 1.10×):       {p99:.2}×  {}",
        met(p99 <= 1.10)
    );
    println!("\npublish lag under load (median of {pairs} runs)");
    println!("  backlog peak:                  {peak:.0} records");
    if drained.len() == withs.len() {
        println!("  backlog 0 after the load in:   {:.0} ms", median(drained));
    } else {
        println!(
            "  backlog 0 after the load:      only {} of {} runs drained",
            drained.len(),
            withs.len()
        );
    }
    let lags: Vec<(f64, f64)> = withs.iter().filter_map(|w| w.lag).collect();
    if lags.is_empty() {
        println!("  lag histogram:                 not on /metrics (yet)");
    } else {
        println!(
            "  journaled → confirmed:         p50 {}, p99 {}",
            ms(median(lags.iter().map(|l| l.0).collect())),
            ms(median(lags.iter().map(|l| l.1).collect()))
        );
    }
}
