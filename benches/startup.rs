//! Startup (issue 6, figure 5): how long the real binary takes from spawn to answering
//! on its port, and how long a journal of 1M deliveries takes to replay into the store
//! (every line's checksum checked, every body parsed again, dedupe and correlation
//! rebuilt) — each next to a baseline measured in the same run: spawning the same binary
//! for `--version`, and reading the same journal line by line doing nothing.
//!
//! `cargo bench --bench startup` (`PILOTWATCH_BENCH_N` deliveries, default 1,000,000).

use std::io::{BufRead, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pilotwatch::ingest::{Ingest, IngestConfig};
use pilotwatch::journal::line;
use pilotwatch::record::Record;
use pilotwatch::snapshot::{self, Policy};
use pilotwatch::store::Store;

#[path = "support/common.rs"]
mod common;
use common::{lifecycle_body, median, met};

const BIN: &str = env!("CARGO_BIN_EXE_pilotwatch");

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Spawn to first accepted connection, on a fresh journal.
fn listening(dir: &std::path::Path, port: u16) -> Duration {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let t = Instant::now();
    let mut child = Command::new(BIN)
        .args(["--headless", "--listen", &addr.to_string(), "--journal"])
        .arg(dir.join(format!("j{port}/journal.jsonl")))
        .env_remove("PILOT_STATUS_WEBHOOK_SECRET")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("pilotwatch starts");
    let deadline = t + Duration::from_secs(10);
    let took = loop {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(50)).is_ok() {
            break t.elapsed();
        }
        assert!(Instant::now() < deadline, "pilotwatch did not listen");
        std::thread::sleep(Duration::from_micros(200));
    };
    let _ = child.kill();
    let _ = child.wait();
    took
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn main() {
    let n: u64 = std::env::var("PILOTWATCH_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().unwrap();

    // 1. Startup.
    let version: Vec<Duration> = (0..10)
        .map(|_| {
            let t = Instant::now();
            Command::new(BIN)
                .arg("--version")
                .stdout(Stdio::null())
                .status()
                .unwrap();
            t.elapsed()
        })
        .collect();
    let start: Vec<Duration> = (0..10)
        .map(|_| listening(dir.path(), free_port()))
        .collect();
    let (version, start) = (median(version), median(start));
    println!("startup (median of 10)");
    println!(
        "  baseline: spawn `pilotwatch --version`: {:>7.1} ms",
        ms(version)
    );
    println!(
        "  spawn → listening (fresh journal):     {:>7.1} ms = {:.1}× baseline  (target ≤ 100 ms: {})",
        ms(start),
        ms(start) / ms(version),
        met(ms(start) <= 100.0)
    );

    // 2. Replay of a journal of `n` deliveries.
    let journal = dir.path().join("replay/journal.jsonl");
    std::fs::create_dir_all(journal.parent().unwrap()).unwrap();
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&journal).unwrap());
        let mut buf = Vec::with_capacity(1024);
        for i in 0..n {
            buf.clear();
            let mut r = Record::delivery(i + 1, lifecycle_body(i).as_bytes());
            r.path = "/hooks".into();
            line::encode(&r, &mut buf);
            out.write_all(&buf).unwrap();
        }
        out.flush().unwrap();
    }
    let size = std::fs::metadata(&journal).unwrap().len();
    // Warm the page cache, then the baseline: every line read, nothing done with it.
    let read_lines = || {
        let t = Instant::now();
        let f = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&journal).unwrap());
        let lines = f.split(b'\n').count();
        assert_eq!(lines as u64, n);
        t.elapsed()
    };
    read_lines();
    let base = read_lines();
    // Only the shutdown writes a snapshot here (the thresholds are never reached).
    let policy = Policy::new(u64::MAX, Duration::MAX, Duration::MAX);
    let config = IngestConfig {
        journal: Some(journal.clone()),
        segment_max: 1 << 40,
        dedupe_window: n as usize,
        snapshot: Some(policy),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let start = |expect_snapshot: bool| {
        let t = Instant::now();
        let store = Store::shared(n as usize);
        let (ingest, report) = Ingest::start(&config, store.clone()).unwrap();
        let took = t.elapsed();
        assert_eq!(
            report.from_snapshot.is_some(),
            expect_snapshot,
            "{report:?}"
        );
        assert_eq!(report.last_seq, Some(store.read().last_seq()));
        (ingest, store, took)
    };
    let (ingest, store, replay) = start(false);
    assert_eq!(store.read().counters().total, n);
    drop(store);
    let t = Instant::now();
    runtime.block_on(ingest.shutdown());
    let shutdown = t.elapsed();
    drop(ingest);
    let snapshot_size = std::fs::metadata(snapshot::path_for(&journal))
        .unwrap()
        .len();
    // The median of three restarts (with nothing new, their shutdowns write none).
    let mut restarts = Vec::new();
    for _ in 0..3 {
        let (ingest, store, took) = start(true);
        assert_eq!(store.read().counters().total, n);
        drop(store);
        runtime.block_on(ingest.shutdown());
        drop(ingest);
        restarts.push(took);
    }
    let from_snapshot = median(restarts);
    // A crash: 10 % more deliveries journaled after the snapshot was taken (the
    // default policy takes one every 100,000 records, at most once a minute).
    let saved = std::fs::read(snapshot::path_for(&journal)).unwrap();
    let tail = n / 10;
    {
        let mut out = std::fs::OpenOptions::new()
            .append(true)
            .open(&journal)
            .unwrap();
        let mut buf = Vec::with_capacity(1024);
        for i in n..n + tail {
            buf.clear();
            let mut r = Record::delivery(i + 1, lifecycle_body(i).as_bytes());
            r.path = "/hooks".into();
            line::encode(&r, &mut buf);
            out.write_all(&buf).unwrap();
        }
    }
    std::fs::write(snapshot::path_for(&journal), saved).unwrap();
    let (ingest, store, crashed) = start(true);
    assert_eq!(store.read().counters().total, n + tail);
    drop(ingest);
    println!(
        "\nreplay of {n} deliveries ({:.0} MB journal, page cache warm)",
        size as f64 / 1e6
    );
    println!(
        "  baseline: read every line:             {:>7.0} ms",
        ms(base)
    );
    println!(
        "  replay of the whole journal:           {:>7.0} ms = {:.1}× baseline",
        ms(replay),
        ms(replay) / ms(base),
    );
    println!(
        "  shutdown, writing the snapshot:        {:>7.0} ms ({:.0} MB)",
        ms(shutdown),
        snapshot_size as f64 / 1e6
    );
    println!(
        "  restart from the snapshot (median of 3): {:>6.0} ms = {:.1}× baseline, {:.2}× the whole replay  (target ≤ 3,000 ms: {})",
        ms(from_snapshot),
        ms(from_snapshot) / ms(base),
        ms(from_snapshot) / ms(replay),
        met(ms(from_snapshot) <= 3000.0)
    );
    println!(
        "  after a crash: snapshot + {tail} newer:   {:>7.0} ms = {:.1}× baseline, {:.2}× the whole replay  (target ≤ 3,000 ms: {})",
        ms(crashed),
        ms(crashed) / ms(base),
        ms(crashed) / ms(replay),
        met(ms(crashed) <= 3000.0)
    );
}
