//! The dashboard's cost on a shared server (issue 6, figures 3 and 4), measured on the
//! real binary in a real pty (120×40), with traffic POSTed from this process on loopback:
//!
//! - idle: CPU of a dashboard that receives nothing (it redraws once a second, for the
//!   clock);
//! - 1,000 deliveries/s: bytes the dashboard writes to its terminal per second (what an
//!   SSH link carries);
//! - 5,000 deliveries/s: the dashboard process's CPU minus a headless receiver's under
//!   the same traffic (the baseline, measured in the same run): what the UI itself costs.
//!
//! CPU comes from /proc (utime + stime). `cargo bench --bench tui`
//! (`PILOTWATCH_BENCH_SECS`, default 10 per measurement).

use std::io::Read;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

#[path = "support/common.rs"]
mod common;
use common::{lifecycle_body, met};

const BIN: &str = env!("CARGO_BIN_EXE_pilotwatch");

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

/// CPU seconds a process has used so far (user + system).
fn cpu_secs(pid: u32) -> f64 {
    static TICK: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    let hz = *TICK.get_or_init(|| {
        let out = Command::new("getconf").arg("CLK_TCK").output().ok();
        out.and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .unwrap_or(100.0)
    });
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the `(comm)`, which may hold spaces: utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / hz
}

/// POST `rate` deliveries a second to `addr` for `secs`, paced every 10 ms.
async fn traffic(addr: SocketAddr, rate: u64, secs: f64, next: Arc<AtomicU64>) -> u64 {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let url = format!("http://{addr}/hooks");
    let per_tick = (rate / 100).max(1);
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    let limit = Arc::new(tokio::sync::Semaphore::new(64));
    let deadline = Instant::now() + Duration::from_secs_f64(secs);
    let ok = Arc::new(AtomicU64::new(0));
    while Instant::now() < deadline {
        tick.tick().await;
        for _ in 0..per_tick {
            let permit = limit.clone().acquire_owned().await.unwrap();
            let i = next.fetch_add(1, Ordering::Relaxed);
            let (client, url, ok) = (client.clone(), url.clone(), ok.clone());
            tokio::spawn(async move {
                let sent = client.post(&url).body(lifecycle_body(i)).send().await;
                if sent.is_ok_and(|r| r.status().is_success()) {
                    ok.fetch_add(1, Ordering::Relaxed);
                }
                drop(permit);
            });
        }
    }
    let _ = limit.acquire_many(64).await;
    ok.load(Ordering::Relaxed)
}

struct Measured {
    cpu: f64,
    bytes_per_s: f64,
    writes_per_s: f64,
    delivered: u64,
}

/// Run pilotwatch (`dashboard` in a pty, else headless), warm up, then measure for
/// `secs` under `rate` deliveries a second.
fn measure(rt: &tokio::runtime::Runtime, dashboard: bool, rate: u64, secs: f64) -> Measured {
    let dir = tempfile::tempdir().unwrap();
    let addr = free_addr();
    let args = [
        "--listen".to_string(),
        addr.to_string(),
        "--journal".into(),
        dir.path().join("journal.jsonl").display().to_string(),
    ];
    let bytes = Arc::new(AtomicU64::new(0));
    let writes = Arc::new(AtomicU64::new(0));
    // Keep the pty (and the child) alive until the end.
    let (pid, mut kill): (u32, Box<dyn FnMut()>) = if dashboard {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 120,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pty");
        let mut cmd = CommandBuilder::new(BIN);
        cmd.args(&args);
        cmd.env("TERM", "xterm-256color");
        cmd.env_remove("PILOT_STATUS_WEBHOOK_SECRET");
        cmd.env_remove("PILOT_STATUS_API_KEY");
        let mut child = pty.slave.spawn_command(cmd).expect("pilotwatch starts");
        let pid = child.process_id().expect("a pid");
        let mut reader = pty.master.try_clone_reader().unwrap();
        let (b, w) = (bytes.clone(), writes.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 65536];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                b.fetch_add(n as u64, Ordering::Relaxed);
                w.fetch_add(1, Ordering::Relaxed);
            }
        });
        let master = pty.master;
        (
            pid,
            Box::new(move || {
                let _ = child.kill();
                let _ = child.wait();
                let _ = &master;
            }),
        )
    } else {
        let mut child = Command::new(BIN)
            .arg("--headless")
            .args(&args)
            .env_remove("PILOT_STATUS_WEBHOOK_SECRET")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pilotwatch starts");
        (
            child.id(),
            Box::new(move || {
                let _ = child.kill();
                let _ = child.wait();
            }),
        )
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "pilotwatch did not listen");
        std::thread::sleep(Duration::from_millis(20));
    }
    let next = Arc::new(AtomicU64::new(0));
    // Warm up: the first screen, the first rows, the allocator.
    if rate > 0 {
        rt.block_on(traffic(addr, rate, 2.0, next.clone()));
    } else {
        std::thread::sleep(Duration::from_secs(2));
    }
    let (cpu0, bytes0, writes0, t) = (
        cpu_secs(pid),
        bytes.load(Ordering::Relaxed),
        writes.load(Ordering::Relaxed),
        Instant::now(),
    );
    let delivered = if rate > 0 {
        rt.block_on(traffic(addr, rate, secs, next))
    } else {
        std::thread::sleep(Duration::from_secs_f64(secs));
        0
    };
    let elapsed = t.elapsed().as_secs_f64();
    let m = Measured {
        cpu: (cpu_secs(pid) - cpu0) / elapsed,
        bytes_per_s: (bytes.load(Ordering::Relaxed) - bytes0) as f64 / elapsed,
        writes_per_s: (writes.load(Ordering::Relaxed) - writes0) as f64 / elapsed,
        delivered,
    };
    kill();
    m
}

fn main() {
    let secs: f64 = std::env::var("PILOTWATCH_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10.0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    println!("tui: the real binary in a 120×40 pty, {secs} s per measurement\n");

    let idle = measure(&rt, true, 0, secs);
    println!(
        "idle dashboard:        CPU {:>6.2}% of a core  (target ≤ 0.5%: {}), {:.0} B/s to the terminal, {:.1} pty reads/s",
        idle.cpu * 100.0,
        met(idle.cpu <= 0.005),
        idle.bytes_per_s,
        idle.writes_per_s
    );

    let k1 = measure(&rt, true, 1000, secs);
    println!(
        "1,000 deliveries/s:    {:>6.1} KB/s to the terminal  (target ≤ 50 KB/s: {}), {:.1} pty reads/s, {} delivered",
        k1.bytes_per_s / 1e3,
        met(k1.bytes_per_s <= 50e3),
        k1.writes_per_s,
        k1.delivered
    );

    let headless = measure(&rt, false, 5000, secs);
    let ui = measure(&rt, true, 5000, secs);
    println!(
        "5,000 deliveries/s:    headless receiver (baseline) CPU {:.1}%, with the dashboard {:.1}% ({} and {} delivered)",
        headless.cpu * 100.0,
        ui.cpu * 100.0,
        headless.delivered,
        ui.delivered
    );
    let own = ui.cpu - headless.cpu;
    println!(
        "  the dashboard's own: {:>6.1}% of a core  (target ≤ 15%: {}), {:.1} pty reads/s, {:.1} KB/s",
        own * 100.0,
        met(own <= 0.15),
        ui.writes_per_s,
        ui.bytes_per_s / 1e3
    );
}
