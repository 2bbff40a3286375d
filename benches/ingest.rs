//! Ingest throughput and ack latency (issue 6, figures 1 and 6), as ratios against
//! baselines measured in the same run with the same load generator, loopback only:
//!
//! 1. bare axum: read the body, answer 200 (the ceiling);
//! 2. bare + HMAC check + serde_json parse;
//! 3. pilotwatch's full receiver: signature, parse, group-commit fdatasync journal, store
//!    insert with correlation, while a dashboard folds the store in and draws at 30 fps;
//!    3b. the same while its alert rules are evaluated (every second) and `/metrics` is
//!    scraped every 100 ms, as a ratio against the mean
//!    of the unscraped runs before and after it (3, 3c), the median over a few such
//!    pairs (issue 17: alert evaluation and a scrape must cost the acks nothing measurable);
//! 4. the same while replies go out through the REST API (a fake provider on loopback
//!    that accepts them and plays their webhooks back);
//! 5. the provider's reference receiver, Node express (`benches/support`), when Node is
//!    installed (its `express` is installed there by npm on first use).
//!
//! The load comes from `wrk` (64 connections, 2 threads, each replaying its own file of
//! distinct pre-signed deliveries) when it is on PATH, else from a built-in reqwest
//! generator (slower: it shares this process). Bounded in time and count.
//!
//! `cargo bench --bench ingest`. Env: `PILOTWATCH_BENCH_SECS` (default 5 per server),
//! `PILOTWATCH_BENCH_CONNS` (64), `PILOTWATCH_BENCH_SCRAPE_PAIRS` (3 scraped runs, each
//! between two unscraped ones), `PILOTWATCH_BENCH_LOADGEN=builtin` (skip wrk),
//! `PILOTWATCH_BENCH_NODE=0` (skip express), `PILOTWATCH_BENCH_REPEATS=N` (then N more
//! bare/full pairs, back to back, and their medians), `PILOTWATCH_BENCH_QUICK=1` (only
//! those pairs), `PILOTWATCH_BENCH_NO_JOURNAL=1` (pilotwatch without a journal: a
//! diagnosis of what the disk costs, not a figure of the product),
//! `PILOTWATCH_BENCH_LADDER=N` (a diagnosis: the receiver built up from bare axum in
//! steps, N rounds, with the CPU each costs per request: `support/ladder.rs`).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use pilotwatch::api::{ApiClient, SendBody, SendRequest};
use pilotwatch::demo::fake_api::{FakeApi, Webhooks};
use pilotwatch::ingest::Ingest;
use pilotwatch::model::outbound::InReplyTo;
use pilotwatch::reply::Replier;
use pilotwatch::secret::Secret;
use pilotwatch::service::Service;
use pilotwatch::signature::{HEADER, verify};
use pilotwatch::tui::app::App;
use pilotwatch::tui::render;
use pilotwatch::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[path = "support/common.rs"]
mod common;
#[path = "support/ladder.rs"]
mod ladder;
#[path = "support/load.rs"]
mod load;
#[path = "support/scrape.rs"]
mod scrape;
use common::met;
use load::{Builtin, LoadGen, Run, SECRET, WRK_THREADS, Wrk};
use scrape::{Scrapes, scrape_every};

async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

fn report(name: &str, r: &Run, bare: Option<&Run>) {
    let ratio = bare
        .map(|b| format!("  {:.2}× bare", r.rate / b.rate))
        .unwrap_or_default();
    println!(
        "{name:<44} {:>9.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({} requests, {} errors){ratio}",
        r.rate, r.p50_ms, r.p99_ms, r.requests, r.errors
    );
}

/// The full receiver, as `pilotwatch` runs it, on a fresh journal.
async fn pilotwatch(dir: &Path) -> (SocketAddr, Arc<Ingest>) {
    pilotwatch_with(dir, false).await
}

/// [`pilotwatch`], evaluating the alert rules every second when `alerts`.
async fn pilotwatch_with(dir: &Path, alerts: bool) -> (SocketAddr, Arc<Ingest>) {
    start(&bench_settings(dir, alerts)).await
}

/// The receiver's settings in these benches: the bench's secret, a journal in `dir`
/// (unless `PILOTWATCH_BENCH_NO_JOURNAL`), alert rules evaluated when `alerts`.
fn bench_settings(dir: &Path, alerts: bool) -> pilotwatch::config::Settings {
    let mut settings = common::settings(dir);
    settings.secrets = vec![Secret::new(SECRET)];
    settings.alerts.enabled = alerts;
    // A diagnosis, not the product: how much of the cost is the disk.
    if std::env::var_os("PILOTWATCH_BENCH_NO_JOURNAL").is_some() {
        eprintln!(
            "PILOTWATCH_BENCH_NO_JOURNAL: pilotwatch runs without a journal (no write, no sync)"
        );
        settings.journal = None;
    }
    settings
}

/// Start the receiver as `pilotwatch` runs it; it serves until the bench ends.
async fn start(settings: &pilotwatch::config::Settings) -> (SocketAddr, Arc<Ingest>) {
    let service = Service::start(settings).await.unwrap();
    let (addr, ingest) = (service.addr, service.ingest.clone());
    tokio::spawn(service.serve(std::future::pending()));
    (addr, ingest)
}

/// A dashboard kept live while the load runs: fold the store in and draw a 120×40
/// frame at most 30 times a second, as the real event loop does.
fn dashboard(ingest: Arc<Ingest>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<Frames> {
    std::thread::spawn(move || {
        let info = common::info();
        let mut app = App::new(info, Theme::new(true));
        let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
        app.page = render::page_height(40);
        let mut frames = 0;
        while !stop.load(Ordering::Relaxed) {
            app.sync(&ingest.store().read());
            terminal.draw(|f| render::draw(f, &app)).unwrap();
            frames += 1;
            std::thread::sleep(Duration::from_millis(33));
        }
        Frames {
            drawn: frames,
            cpu: thread_cpu_time(),
        }
    })
}

/// What the dashboard thread did: frames drawn, and its CPU time (sync + draw).
#[derive(Debug, Clone, Copy, Default)]
struct Frames {
    drawn: u64,
    cpu: Duration,
}

/// This thread's CPU time so far (user + system), from `/proc/thread-self/stat`, to
/// the clock tick (10 ms).
fn thread_cpu_time() -> Duration {
    let ticks = ladder::stat_times("/proc/thread-self/stat".as_ref())
        .map_or(0, |(_, f)| f.iter().take(2).sum::<u64>());
    Duration::from_millis(ticks * 10)
}

/// The full receiver on a fresh journal with a live dashboard, scraped every `scrape`
/// and evaluating its alert rules when given. Returns the load's figures, the deliveries stored, the frames drawn and
/// the scrapes ([`scrape_every`]).
fn full_run(
    rt: &tokio::runtime::Runtime,
    load: &dyn LoadGen,
    scrape: Option<Duration>,
) -> (Run, u64, Frames, Option<Scrapes>) {
    let journal = tempfile::tempdir().unwrap();
    // Watched as a service is: scraped, and its alert rules evaluated.
    let (addr, ingest) = rt.block_on(pilotwatch_with(journal.path(), scrape.is_some()));
    let stop = Arc::new(AtomicBool::new(false));
    let ui = dashboard(ingest.clone(), stop.clone());
    let scraper = scrape.map(|every| rt.spawn(scrape_every(addr, every, stop.clone())));
    let run = load.run(rt, addr);
    stop.store(true, Ordering::Relaxed);
    let frames = ui.join().unwrap();
    let scrapes = scraper.map(|s| rt.block_on(s).unwrap());
    rt.block_on(ingest.settled());
    let stored = ingest.store().read().counters().total;
    (run, stored, frames, scrapes)
}

/// Node's express reference receiver, if Node (and npm, the first time) are here.
fn express() -> Result<(std::process::Child, SocketAddr), String> {
    if std::env::var("PILOTWATCH_BENCH_NODE").as_deref() == Ok("0") {
        return Err("PILOTWATCH_BENCH_NODE=0".into());
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/support");
    if Command::new("node").arg("--version").output().is_err() {
        return Err("node is not installed".into());
    }
    if !dir.join("node_modules/express").exists() {
        let npm = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent"])
            .current_dir(&dir)
            .status()
            .map_err(|e| format!("npm: {e}"))?;
        if !npm.success() {
            return Err("npm install express failed".into());
        }
    }
    let mut child = Command::new("node")
        .arg("express-receiver.js")
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("node: {e}"))?;
    let mut port = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut port,
    )
    .map_err(|e| format!("express: {e}"))?;
    let port: u16 = port
        .trim()
        .parse()
        .map_err(|_| "express gave no port".to_string())?;
    Ok((child, SocketAddr::from(([127, 0, 0, 1], port))))
}

/// Bare axum: read the body, answer 200.
fn bare_axum(rt: &tokio::runtime::Runtime) -> SocketAddr {
    rt.block_on(serve(
        Router::new().fallback(|_b: Bytes| async { StatusCode::OK }),
    ))
}

/// Context switches so far per live thread of this process (by thread id).
fn context_switches() -> std::collections::HashMap<String, u64> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Default::default();
    };
    tasks
        .flatten()
        .filter_map(|t| {
            let status = std::fs::read_to_string(t.path().join("status")).ok()?;
            let n = status
                .lines()
                .filter(|l| l.contains("ctxt_switches"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum();
            Some((t.file_name().to_string_lossy().into_owned(), n))
        })
        .collect()
}

/// Switches since `before` (threads that ended meanwhile are not counted).
fn switches_since(before: &std::collections::HashMap<String, u64>) -> u64 {
    context_switches()
        .iter()
        .map(|(tid, n)| n.saturating_sub(before.get(tid).copied().unwrap_or(0)))
        .sum()
}

/// `n` bare/full pairs back to back: each pair's ratio, then the medians.
fn pairs_of_runs(rt: &tokio::runtime::Runtime, load: &dyn LoadGen, n: usize) {
    let (mut bares, mut fulls, mut ratios, mut switches) = (vec![], vec![], vec![], vec![]);
    for i in 1..=n {
        let bare = load.run(rt, bare_axum(rt));
        report(&format!("R{i}. bare axum"), &bare, None);
        let before = (context_switches(), std::time::Instant::now());
        let (full, _, _, _) = full_run(rt, load, None);
        let per_s = switches_since(&before.0) as f64 / before.1.elapsed().as_secs_f64();
        report(&format!("R{i}. pilotwatch"), &full, Some(&bare));
        println!("   {per_s:.0} context switches/s in this process (wrk not counted)");
        ratios.push(full.rate / bare.rate);
        switches.push(per_s / full.rate);
        bares.push(bare);
        fulls.push(full);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let m = |runs: &[Run], f: fn(&Run) -> f64| median(runs.iter().map(f).collect());
    println!(
        "medians of {n}: bare {:.0} req/s p99 {:.2} ms; pilotwatch {:.0} req/s p50 {:.2} ms p99 {:.2} ms; ratio {:.2}×; {:.2} context switches per request\n",
        m(&bares, |r| r.rate),
        m(&bares, |r| r.p99_ms),
        m(&fulls, |r| r.rate),
        m(&fulls, |r| r.p50_ms),
        m(&fulls, |r| r.p99_ms),
        median(ratios),
        median(switches),
    );
}

fn main() {
    let env = |k: &str| std::env::var(k).ok();
    let secs: f64 = env("PILOTWATCH_BENCH_SECS")
        .and_then(|s| s.parse().ok())
        .unwrap_or(5.0);
    let pairs: usize = env("PILOTWATCH_BENCH_SCRAPE_PAIRS")
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    let conns: usize = env("PILOTWATCH_BENCH_CONNS")
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wrk = Wrk::prepare(dir.path(), conns, secs);
    let load: Box<dyn LoadGen> = match wrk {
        Some(w) => {
            println!(
                "ingest: wrk, {conns} connections, {WRK_THREADS} threads, {secs} s per server, {} distinct signed deliveries, loopback, same machine\n",
                w.distinct
            );
            Box::new(w)
        }
        None => {
            println!(
                "ingest: built-in reqwest load (no wrk), {conns} connections, {secs} s per server\n"
            );
            Box::new(Builtin { conns, secs })
        }
    };

    let repeats: usize = env("PILOTWATCH_BENCH_REPEATS")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if repeats > 0 {
        pairs_of_runs(&rt, &*load, repeats);
    }
    if let Some(rounds) = env("PILOTWATCH_BENCH_LADDER").and_then(|s| s.parse().ok()) {
        ladder::ladder(&rt, &*load, rounds);
        return;
    }
    if env("PILOTWATCH_BENCH_QUICK").as_deref() == Some("1") {
        return;
    }
    let bare = load.run(&rt, bare_axum(&rt));
    report("1. bare axum", &bare, None);

    let secrets = [Secret::new(SECRET)];
    let addr = rt.block_on(serve(Router::new().fallback(
        move |h: HeaderMap, b: Bytes| {
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
        },
    )));
    let checked = load.run(&rt, addr);
    report("2. bare + HMAC + serde_json", &checked, Some(&bare));

    // 3. The full receiver with a live dashboard; 3b the same watched (alerts evaluated,
    //    /metrics scraped every 100 ms),
    //    between two runs without scrapes (the machine's drift hits both sides alike).
    let (full, stored, frames, _) = full_run(&rt, &*load, None);
    report(
        "3. pilotwatch (journal, store, dashboard)",
        &full,
        Some(&bare),
    );
    println!(
        "   {stored} deliveries stored (every acked one: {}), {} dashboard frames drawn, {:.2} ms of CPU each",
        stored >= full.requests.saturating_sub(full.errors),
        frames.drawn,
        frames.cpu.as_secs_f64() * 1e3 / frames.drawn.max(1) as f64,
    );
    // Each scraped run against the mean of the unscraped runs just before and after it;
    // the median over the pairs.
    let mut before = full.clone();
    let mut ratios = Vec::new();
    for i in 1..=pairs {
        let every = Duration::from_millis(100);
        let (scraped, _, _, scrapes) = full_run(&rt, &*load, Some(every));
        report(
            &format!("3b. pilotwatch + alerts + /metrics every 100 ms ({i})"),
            &scraped,
            Some(&bare),
        );
        let s = scrapes.unwrap_or_default();
        println!(
            "   {} scrapes of {} KiB: median {:.1} ms, slowest {:.1} ms",
            s.count,
            s.bytes / 1024,
            s.median.as_secs_f64() * 1e3,
            s.slowest.as_secs_f64() * 1e3
        );
        let (after, _, _, _) = full_run(&rt, &*load, None);
        report(
            &format!("3c. pilotwatch again, no scrapes ({i})"),
            &after,
            Some(&bare),
        );
        let rate = scraped.rate / ((before.rate + after.rate) / 2.0);
        let p99 = scraped.p99_ms / ((before.p99_ms + after.p99_ms) / 2.0);
        println!("   acks/s {rate:.2}×, p99 {p99:.2}× the runs around it");
        ratios.push((rate, p99));
        before = after;
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let scrape_rate = median(ratios.iter().map(|r| r.0).collect());
    let scrape_p99 = median(ratios.iter().map(|r| r.1).collect());

    // 4. The same while replies go out: 50 a second through a fake provider that plays
    //    each one's sent/delivered/read webhooks back to the receiver.
    let journal = tempfile::tempdir().unwrap();
    let (addr, ingest) = rt.block_on(pilotwatch(journal.path()));
    let fake = rt.block_on(FakeApi::start()).unwrap();
    fake.send_webhooks(Webhooks {
        url: format!("http://{addr}/hooks"),
        secret: Some(SECRET.into()),
        delays: [Duration::from_millis(20); 3],
    });
    let api = ApiClient::new(
        &fake.base_url(),
        Secret::new("ps_bench_key_0000"),
        Duration::from_secs(10),
    )
    .unwrap();
    let replier = Arc::new(Replier::new(Some(api), ingest.clone()));
    let stop = Arc::new(AtomicBool::new(false));
    let ui = dashboard(ingest.clone(), stop.clone());
    let sender = {
        let (replier, stop) = (replier.clone(), stop.clone());
        rt.spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                tick.tick().await;
                n += 1;
                let request = SendRequest {
                    body: SendBody {
                        text: format!("Abrimos sim, das 9h às 13h ({n})"),
                        destination_number: Some("+5511999999999".into()),
                        group_id: None,
                    },
                    number_id: Some("cmm0abc123".into()),
                    idempotency_key: format!("bench-{n}"),
                };
                let to = InReplyTo {
                    id: format!("cm{n:010}bench"),
                    event: "message.received".into(),
                };
                replier.send(request, Some(to), 1);
            }
            n
        })
    };
    let replying = load.run(&rt, addr);
    stop.store(true, Ordering::Relaxed);
    ui.join().unwrap();
    let sent = rt.block_on(sender).unwrap();
    rt.block_on(async { tokio::time::sleep(Duration::from_millis(500)).await });
    let accepted = fake.seen().len();
    report("4. pilotwatch + replies (50/s)", &replying, Some(&bare));
    println!("   {sent} replies sent during the run, {accepted} reached the fake provider");

    let node = match express() {
        Ok((mut child, addr)) => {
            let r = load.run(&rt, addr);
            let _ = child.kill();
            let _ = child.wait();
            report("5. express reference (Node)", &r, Some(&bare));
            Some(r)
        }
        Err(why) => {
            println!("5. express reference: skipped ({why})");
            None
        }
    };

    println!("\ntargets");
    let ratio = full.rate / bare.rate;
    println!(
        "  full ≥ 0.50× bare:             {ratio:.2}×  {}",
        met(ratio >= 0.5)
    );
    println!(
        "  full p99 ≤ 5 ms:               {:.2} ms  {}",
        full.p99_ms,
        met(full.p99_ms <= 5.0)
    );
    if let Some(node) = node {
        let x = full.rate / node.rate;
        println!(
            "  full ≥ 8× express:             {x:.1}×  {}",
            met(x >= 8.0)
        );
    }
    println!(
        "  watched ≥ 0.95× unwatched acks/s, p99 ≤ 1.10× (median of {pairs}): {scrape_rate:.2}×, {scrape_p99:.2}×  {}",
        met(scrape_rate >= 0.95 && scrape_p99 <= 1.10)
    );
    let r = replying.rate / bare.rate;
    println!(
        "  with replies: ≥ 0.50× bare:    {r:.2}×  {}; p99 ≤ 5 ms: {:.2} ms  {}",
        met(r >= 0.5),
        replying.p99_ms,
        met(replying.p99_ms <= 5.0)
    );
}
