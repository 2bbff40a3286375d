//! `PILOTWATCH_BENCH_LADDER=N` (benches/ingest.rs): a diagnosis, not a figure of the
//! product. The receiver is built up step by step, from bare axum to the full
//! receiver, each step's throughput a ratio to the bare run of its round, with this
//! process's CPU per request by thread (and wrk's, as waited-for children), so the
//! gap to bare axum is split into what each part costs. `PILOTWATCH_BENCH_LADDER_ONLY=i`
//! runs only step `i` after each bare run (to profile it with `perf record -p`).
//!
//! What the CPU figures leave out: threads that ended before they are read (the
//! dashboard thread of the last step is joined first, so it reports its own CPU),
//! and wrk unless it ran (the built-in load generator shares the runtime's workers,
//! and is counted with them).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::StatusCode;
use pilotwatch::receiver::server::{Limits, serve};
use pilotwatch::record::SignatureCheck;
use pilotwatch::secret::Secret;
use pilotwatch::signature::{HEADER, verify};

use super::load::{LoadGen, Run, SECRET};
use super::{bare_axum, bench_settings, full_run, report, start};

/// Our server loop (`receiver::server::serve`: limits, timers, panic catch) with the
/// bare handler: what the loop itself costs.
fn our_loop(rt: &tokio::runtime::Runtime, router: Router) -> SocketAddr {
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(serve(
            listener,
            router,
            Limits::default(),
            Default::default(),
            std::future::pending(),
        ));
        addr
    })
}

/// The handler's own work without the hand-off: verify, parse, answer with a JSON body
/// (the request taken whole, as the receiver takes it: no header map copied).
fn checked_router() -> Router {
    let secrets = Arc::new([Secret::new(SECRET)]);
    Router::new().fallback(move |req: Request| {
        let secrets = secrets.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
            let headers = parts.headers.get_all(HEADER).iter().map(|v| v.as_bytes());
            let ok = verify(&*secrets, headers, &body) == SignatureCheck::Valid
                && pilotwatch::model::parse(&body).is_ok();
            let answer = serde_json::json!({"received": ok, "seq": 1, "verdict": "known", "duplicateOf": null});
            (StatusCode::OK, axum::Json(answer))
        }
    })
}

/// `PILOTWATCH_BENCH_LADDER=N`: a diagnosis, N rounds of each step in turn, each as a
/// ratio to the bare run of its round; then the medians.
pub fn ladder(rt: &tokio::runtime::Runtime, load: &dyn LoadGen, rounds: usize) {
    let steps = [
        "our server loop, bare handler",
        "our loop, verify + typed parse + JSON answer",
        "full, no journal, no dashboard",
        "full, no dashboard",
        "full (journal, store, dashboard)",
    ];
    if std::env::var_os("PILOTWATCH_BENCH_NO_JOURNAL").is_some() {
        println!(
            "(PILOTWATCH_BENCH_NO_JOURNAL is set: the steps with a journal run without one too)"
        );
    }
    let mut ratios = vec![Vec::new(); steps.len()];
    let only: Option<usize> = std::env::var("PILOTWATCH_BENCH_LADDER_ONLY")
        .ok()
        .and_then(|s| s.parse().ok());
    for round in 1..=rounds {
        let cpu = thread_cpu();
        let bare = load.run(rt, bare_axum(rt));
        report(&format!("L{round}. bare axum"), &bare, None);
        print_cpu_per_request(&cpu, &bare);
        for (i, step) in steps.iter().enumerate() {
            if only.is_some_and(|o| o != i) {
                continue;
            }
            let cpu = thread_cpu();
            let run = match i {
                0 => load.run(
                    rt,
                    our_loop(
                        rt,
                        Router::new().fallback(|_b: Bytes| async { StatusCode::OK }),
                    ),
                ),
                1 => load.run(rt, our_loop(rt, checked_router())),
                2 | 3 => {
                    let journal = tempfile::tempdir().unwrap();
                    let mut settings = bench_settings(journal.path(), false);
                    if i == 2 {
                        settings.journal = None;
                    }
                    let (addr, ingest) = rt.block_on(start(&settings));
                    let r = load.run(rt, addr);
                    if i == 3 {
                        let syncs = ingest.timings().sync.snapshot().count;
                        let batch = r.requests as f64 / syncs.max(1) as f64;
                        println!("   {syncs} journal syncs, {batch:.1} deliveries each");
                    }
                    r
                }
                _ => {
                    let (run, _, frames, _) = full_run(rt, load, None);
                    let per_frame = frames.cpu.as_secs_f64() * 1e3 / frames.drawn.max(1) as f64;
                    let per_request = frames.cpu.as_secs_f64() * 1e6 / run.requests.max(1) as f64;
                    println!(
                        "   dashboard: {} frames, {per_frame:.2} ms of CPU each, {per_request:.1} µs/request",
                        frames.drawn
                    );
                    run
                }
            };
            report(&format!("L{round}. {step}"), &run, Some(&bare));
            print_cpu_per_request(&cpu, &run);
            ratios[i].push(run.rate / bare.rate);
        }
    }
    println!("\nladder medians of {rounds} rounds (ratio to bare axum):");
    for (step, mut r) in steps.iter().zip(ratios) {
        r.sort_by(f64::total_cmp);
        if let Some(m) = r.get(r.len() / 2) {
            println!("  {step:<48} {m:.2}×");
        }
    }
}

/// A `/proc/…/stat` file's command name and its CPU times in clock ticks (1/100 s):
/// utime, stime, cutime, cstime (proc(5)'s fields 14–17).
pub fn stat_times(path: &std::path::Path) -> Option<(String, Vec<u64>)> {
    let stat = std::fs::read_to_string(path).ok()?;
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    // After the `(comm)`, the state is field 3; utime is 11 fields on.
    let f = stat[close + 2..].split_whitespace().skip(11).take(4);
    let f = f.map(|v| v.parse().unwrap_or(0)).collect();
    Some((stat[open + 1..close].to_owned(), f))
}

/// CPU time (user, system) so far, in clock ticks, per thread of this process (by id,
/// with its name), and of the children waited for (wrk, its start-up included).
fn thread_cpu() -> BTreeMap<String, (String, u64, u64)> {
    let read = stat_times;
    let mut cpu = BTreeMap::new();
    if let Some((_, f)) = read("/proc/self/stat".as_ref()) {
        cpu.insert("wrk".to_owned(), ("[wrk]".to_owned(), f[2], f[3]));
    }
    for t in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        if let Some((name, f)) = read(&t.path().join("stat")) {
            let tid = t.file_name().to_string_lossy().into_owned();
            cpu.insert(tid, (name, f[0], f[1]));
        }
    }
    cpu
}

/// CPU per request since `before`, summed by thread name (a thread that ended meanwhile
/// is not counted).
fn print_cpu_per_request(before: &BTreeMap<String, (String, u64, u64)>, run: &Run) {
    let per_tick = 1e6 / 100.0 / run.requests.max(1) as f64; // USER_HZ is 100
    let mut by_name: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for (id, (name, u, s)) in thread_cpu() {
        let (_, bu, bs) = before.get(&id).cloned().unwrap_or_default();
        let e = by_name.entry(name).or_default();
        e.0 += u.saturating_sub(bu) as f64 * per_tick;
        e.1 += s.saturating_sub(bs) as f64 * per_tick;
    }
    let mut line = String::from("   CPU µs/request (user+sys):");
    for (name, (u, s)) in by_name.iter().filter(|(_, (u, s))| u + s >= 0.5) {
        line += &format!(" {name} {u:.1}+{s:.1}");
    }
    let (u, s) = by_name
        .values()
        .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    println!("{line}; total {u:.1}+{s:.1}");
}
